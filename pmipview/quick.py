"""The entry point, with quick lanes for ``pmipview dissect --summary --json FILE`` and
``pmipview timeline --json FILE``.

Loading the command line (typer, rich, pydantic through typer, every command's modules)
costs ~0.15-0.5 s of CPU, more than counting a 100,000-frame capture on the compiled path
(docs/performance.md, issue 14).  For exactly one of those argument lists (the flags in
any order, nothing else) with one readable capture file and stderr not a terminal (where
the command line would draw a progress bar), a lane does what the command does and
prints the same bytes: ``dissect`` counts with ``packets.count_frames`` and prints the
summary object; ``timeline`` correlates as ``load_report`` does and writes the document
with ``runs.write_timeline_json`` (tests/test_csummary.py and tests/test_quick.py compare
them with the command line).  Anything else, and any doubt before the first byte is
printed (the file does not open or is not pcap/pcapng, reading stops early, an error),
goes to the full command line from the start, which reads the file again and says what
is wrong.  Ctrl-C exits 130 as the command line does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

LANES = {"dissect": ("--summary", "--json"), "timeline": ("--json",)}
"""Each lane's command and the flags it takes, all of them, each once, in any order."""


def _lane(args: list[str]) -> tuple[str, str] | None:
    """``(command, file)`` when ``args`` is exactly one lane's, else None."""
    if not args or args[0] not in LANES or sys.stderr.isatty():  # no progress bar here
        return None
    flags = LANES[args[0]]
    rest = args[1:]
    if len(rest) != len(flags) + 1 or any(rest.count(f) != 1 for f in flags):
        return None
    if any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return None  # a shell-completion request: typer answers it
    (path,) = (a for a in rest if a not in flags)
    if path.startswith("-") or not os.path.isfile(path):
        return None
    return args[0], path


def _quick_file(args: list[str]) -> str | None:
    """The file of ``dissect --summary --json FILE`` (flags in any order), else None."""
    lane = _lane(args)
    return lane[1] if lane is not None and lane[0] == "dissect" else None


def _dissect(path: str) -> Callable[[], None] | None:
    """Count ``path``; what prints its summary, or None (nothing printed) when in doubt."""
    import json

    from pmipview.errors import CaptureError
    from pmipview.packets import Tally, count_frames
    from pmipview.render.summary import summary_dict
    from pmipview.runs import tune_gc
    from pmipview.sources import open_source

    tune_gc()  # as pmipview.cli.main: once what the run needs is loaded
    tally = Tally()
    try:
        source = open_source([path], clock_correction=True)
    except CaptureError:
        return None
    interrupted = False
    try:
        count_frames(source, tally)
    except KeyboardInterrupt:  # as dissect: what was read is counted, exit 130
        interrupted = True
    finally:
        source.close()
    if getattr(source, "problem", None) is not None:
        return None

    def show() -> None:
        try:
            print(json.dumps({"summary": summary_dict(tally, None, None)}), flush=True)
        except BrokenPipeError:
            _quiet_stdout()
        if interrupted:
            sys.exit(130)

    return show


def _timeline(path: str) -> Callable[[], None] | None:
    """Correlate ``path`` as ``timeline --json`` does (cli/timeline.py: load_report with
    summarise, every MN); what writes its document, or None (nothing printed) when in
    doubt.  Standard output is not flushed here: a reader gone before the end is what it
    is for the command line (an error while writing, or at exit)."""
    from pmipview.errors import CaptureError
    from pmipview.packets import Tally
    from pmipview.pipeline import correlate
    from pmipview.runs import tune_gc, write_timeline_json
    from pmipview.sources.capfile import open_capture

    tune_gc()  # as pmipview.cli.main: once what the run needs is loaded
    try:  # what open_source does for one file, unless it is not pcap/pcapng (tshark then)
        source = open_capture(path)
    except CaptureError:
        return None
    tally = Tally()
    try:
        report = correlate(source, tally, summarise=True)
    finally:
        source.close()
    if source.problem is not None:  # the command line warns on stderr and exits 1
        return None

    def show() -> None:
        try:
            write_timeline_json(report, report.mobile_nodes, sys.stdout.write)
        except BrokenPipeError:  # as typer does for an EPIPE in a command: quiet, exit 1
            _quiet_stdout()
            sys.exit(1)

    return show


def _quiet_stdout() -> None:
    """After the reader of our stdout went away (``| head``): nothing more to say."""
    from contextlib import suppress

    with suppress(Exception):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main() -> None:
    lane = _lane(sys.argv[1:])
    show = None
    if lane is not None:
        try:
            show = (_dissect if lane[0] == "dissect" else _timeline)(lane[1])
        except KeyboardInterrupt:  # as the command line (typer: Exit(130))
            sys.exit(130)
        except Exception:  # nothing printed yet: the full command line says what is wrong
            show = None
    if show is None:
        from pmipview.cli import main as full

        full()
        return
    try:  # printing: no going back to the command line now (it would print again)
        show()
    except KeyboardInterrupt:
        sys.exit(130)
    _exit_now()


def _exit_now() -> None:
    """Exit 0 once stdout is flushed, without tearing the heap down: freeing a large
    capture's timeline object by object cost ~0.6 s of CPU at the interpreter's exit (of
    ~2.7 s for mh-noise-1000000, docs/performance.md); there is nothing left to run (no
    atexit handler, no file open).  When the flush fails (a reader gone, a full disk) the
    interpreter's own exit reports it, as it does for the command line."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        return
    os._exit(0)
