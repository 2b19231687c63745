"""The ``pmipview`` command line: one module per subcommand, no protocol logic here.

Exit codes: 0 success; 1 the input could not be read (or reading stopped early: the
frames before the fault are still shown); 2 a usage error.  No traceback for any user
error: each becomes one line on stderr.

``common.py`` holds what the commands share; each command is a plain function in its own
module, registered here.  Nothing imports this package's ``__init__`` but the entry point.
"""

from __future__ import annotations

import gc
import sys
from typing import Annotated

import typer

from pmipview import __version__
from pmipview.cli.common import err, out, set_width
from pmipview.cli.dissect import dissect
from pmipview.cli.ladder import ladder
from pmipview.cli.lma import lma
from pmipview.cli.load import load
from pmipview.cli.mag import mag
from pmipview.cli.plot import plot
from pmipview.cli.report import report
from pmipview.cli.simulate import simulate
from pmipview.cli.timeline import stats, timeline
from pmipview.errors import CaptureError, OutputError

app = typer.Typer(
    name="pmipview",
    help="Analyze and visualize Proxy Mobile IPv6 with IPv4 support (RFC 5213, RFC 5844): "
         "PBU/PBA, Binding Revocation, Heartbeat and the DHCPv4 around them.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)

for _command in (dissect, timeline, stats, ladder, plot, report, simulate, lma, mag, load):
    app.command(no_args_is_help=True)(_command)


def _version(value: bool) -> None:
    if value:
        out.print(f"pmipview {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    width: Annotated[int | None, typer.Option(
        "--width", help="Output width in columns (default: the terminal's; unlimited when "
        "the output is not a terminal, so tables are never cut).", show_default=False)
    ] = None,
) -> None:
    """pmipview: per-mobile-node views of PMIPv6 signaling."""
    if width is not None:
        if width < 40:
            err.print(f"pmipview: --width: must be at least 40, got {width}", style="bold red",
                      markup=False)
            raise typer.Exit(2)
        set_width(width)


def main() -> None:
    # Decoding allocates many small acyclic objects (headers, options) and keeps few:
    # the cyclic GC's frequent young-generation passes cost ~9% of a large scan for
    # nothing (bench/dissect_bench.py).  Freeze what is loaded and collect less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        app()
    except (OutputError, CaptureError) as exc:  # pragma: no cover - commands catch these
        err.print(f"pmipview: {exc}", style="bold red", markup=False)
        sys.exit(1)
