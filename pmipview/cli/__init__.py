"""The ``pmipview`` command line: one module per subcommand, no protocol logic here.

Exit codes: 0 success; 1 the input could not be read (or reading stopped early: the
frames before the fault are still shown); 2 a usage error.  No traceback for any user
error: each becomes one line on stderr.

``common.py`` holds what the commands share; each command is a plain function in its own
module, registered here.  Nothing imports this package's ``__init__`` but the entry point.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # typer >= 0.2x vendors click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer depends on click
    from click import exceptions as click_errors  # type: ignore[no-redef]

from pmipview import __version__
from pmipview.cli.common import SETTINGS, err, out, set_width
from pmipview.cli.dissect import dissect
from pmipview.cli.ladder import ladder
from pmipview.cli.live import live
from pmipview.cli.lma import lma
from pmipview.cli.load import load
from pmipview.cli.mag import mag
from pmipview.cli.plot import plot
from pmipview.cli.probe import probe
from pmipview.cli.report import report
from pmipview.cli.simulate import simulate
from pmipview.cli.timeline import stats, timeline
from pmipview.errors import CaptureError, OutputError
from pmipview.runs import tune_gc


class _OneLineErrors(TyperGroup):
    """Typer's usage errors (an unknown option, a missing argument, a bad value) as one
    line on stderr and exit 2, like the commands' own errors, instead of a boxed panel."""

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_errors.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "pmipview"
            message = exc.format_message()
            if message:  # empty: no arguments at all, the help was shown (no_args_is_help)
                err.print(f"pmipview: {message} (see '{where} --help')", style="bold red",
                          markup=False)
            rv = 2
        except click_errors.ClickException as exc:
            err.print(f"pmipview: {exc.format_message()}", style="bold red", markup=False)
            rv = exc.exit_code
        except typer.Abort:
            rv = 130
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    name="pmipview",
    help="Analyze and visualize Proxy Mobile IPv6 with IPv4 support (RFC 5213, RFC 5844): "
         "PBU/PBA, Binding Revocation, Heartbeat and the DHCPv4 around them.",
    no_args_is_help=True,
    add_completion=True,
    # -h as well as --help, for the program and (inherited) every command
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)

for _command in (dissect, timeline, stats, live, ladder, plot, report, simulate, lma, mag,
                 probe, load):
    app.command(no_args_is_help=True)(_command)


def _version(value: bool) -> None:
    if value:
        from dissectors.speedups import describe

        out.print(f"pmipview {__version__} (hot path: {describe()})", markup=False)
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version (and whether the compiled "
                                               "hot path runs) and exit.")] = False,
    no_clock_correction: Annotated[bool, typer.Option(
        "--no-clock-correction", help="With several capture files, take their timestamps "
        "as they are instead of aligning each file's clock to the first one's (estimated "
        "from the messages seen in both).")] = False,
    width: Annotated[int | None, typer.Option(
        "--width", help="Output width in columns (default: the terminal's; unlimited when "
        "the output is not a terminal, so tables are never cut).", show_default=False)
    ] = None,
) -> None:
    """pmipview: per-mobile-node views of PMIPv6 signaling."""
    if width is not None and width < 40:
        err.print(f"pmipview: --width: must be at least 40, got {width}", style="bold red",
                  markup=False)
        raise typer.Exit(2)
    set_width(width)
    SETTINGS["clock_correction"] = not no_clock_correction


def main() -> None:
    tune_gc()
    try:
        app()
    except (OutputError, CaptureError) as exc:  # pragma: no cover - commands catch these
        err.print(f"pmipview: {exc}", style="bold red", markup=False)
        sys.exit(1)
