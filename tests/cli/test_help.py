"""Every command's help as a user asks for it: ``-h`` and ``--help`` everywhere (exit 0),
each example of its docstring on a line of its own whatever the terminal width, the
ladder's colours named from the tables it draws with, and the exit codes of errors (2 for
usage, 1 for input)."""

from __future__ import annotations

import inspect

import pytest
import typer.main
from typer.testing import CliRunner

from pmipview.cli import app
from pmipview.render.ladder.style import COLOUR_NAMES, COLOURS, MEANINGS, RICH_STYLES
from tests.cli_util import one_line_error

GROUP = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)  # type: ignore[attr-defined]
runner = CliRunner()


def help_of(*args: str, columns: int = 100):
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns)})


def examples(command: str) -> list[str]:
    """The example lines of a command's docstring (the indented block after Examples:)."""
    text = inspect.cleandoc(GROUP.commands[command].help or "")  # type: ignore[attr-defined]
    block = text.partition("Examples:")[2]
    return [line.strip() for line in block.splitlines() if line.startswith("    ")]


def test_every_command_is_walked():
    assert {"dissect", "timeline", "stats", "live", "ladder", "plot", "report", "simulate",
            "lma", "mag", "probe", "load"} <= set(COMMANDS)


@pytest.mark.parametrize("flag", ["-h", "--help"])
@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_h_and_help_work_everywhere(command, flag):
    r = help_of(*([command] if command else []), flag)
    assert r.exit_code == 0, r.output
    assert f"Usage: pmipview {command or ''}".rstrip() in r.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_example_prints_on_a_line_of_its_own(command):
    lines = examples(command)
    assert lines, f"{command} --help has no examples"
    wide = [line.strip() for line in help_of(command, "-h", columns=250).stdout.splitlines()]
    for example in lines:
        assert example in wide, (command, example)
    # on a narrow terminal an example may wrap onto more lines, but each one starts a
    # line and no line holds parts of two
    for columns in (60, 80, 120):
        text = help_of(command, "-h", columns=columns).stdout
        block = text.partition("Examples:")[2].partition("╭")[0]
        rows = [row.strip() for row in block.splitlines() if row.strip()]
        for example in lines:
            assert rows, (command, columns, example)
            got = rows.pop(0)
            while got != example and rows and example.startswith(got + " "):
                got += " " + rows.pop(0)
            assert got == example, (command, columns, got, example)
        assert rows == [], (command, columns, rows)


def test_ladder_help_names_the_colours_it_draws():
    text = " ".join(help_of("ladder", "-h", columns=250).stdout.split())
    for outcome, meaning in MEANINGS.items():
        assert f"{COLOUR_NAMES[COLOURS[outcome]]}: " in text and meaning in text
    assert f"{RICH_STYLES['retransmission']} in the terminal" in text


@pytest.mark.parametrize(("args", "code", "words"), [
    (["ladder", "samples/tour.pcap", "--nope"], 2, ["No such option"]),
    (["stats", "samples/tour.pcap", "--mn"], 2, ["requires an argument"]),
    (["plot", "samples/tour.pcap", "-o", "x.png", "--kind", "zz"], 2, ["--kind"]),
    (["timeline", "no/such/file.pcap"], 1, ["no/such/file.pcap"]),
    (["ladder", "samples/tour.pcap", "--mn", "nobody"], 1, ["no mobile node"]),
])
def test_usage_errors_exit_2_and_input_errors_exit_1(args, code, words):
    one_line_error(runner.invoke(app, args), code, *words)
