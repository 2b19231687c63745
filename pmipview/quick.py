"""The entry point, with a quick lane for ``pmipview dissect --summary --json FILE``.

Loading the command line (typer, rich, pydantic through typer, every command's modules)
costs ~0.5 s of CPU, more than counting a 100,000-frame capture on the compiled path
(docs/performance.md, issue 14).  For exactly ``dissect --summary --json`` with one
readable capture file (the flags in any order, nothing else), this lane counts it with
``packets.count_frames`` and prints the summary object that ``pmipview dissect`` prints,
byte for byte (tests/test_csummary.py compares them).  Anything else, and any doubt
during the run (the file does not open, reading stops early, an error), goes to the
full command line from the start, which reads the file again and says what is wrong.
"""

from __future__ import annotations

import os
import sys


def _quick_file(args: list[str]) -> str | None:
    """The file of ``dissect --summary --json FILE`` (flags in any order), else None."""
    if len(args) != 4 or args[0] != "dissect" or sys.stderr.isatty():  # no progress bar here
        return None
    rest = args[1:]
    if rest.count("--summary") != 1 or rest.count("--json") != 1:
        return None
    (path,) = (a for a in rest if a not in ("--summary", "--json"))
    if path.startswith("-") or not os.path.isfile(path):
        return None
    return path


def _quick(path: str) -> bool:
    """Count ``path`` and print its summary; False (nothing printed) when in doubt."""
    import json

    from pmipview.errors import CaptureError
    from pmipview.packets import Tally, count_frames
    from pmipview.render.summary import summary_dict
    from pmipview.sources import open_source

    tally = Tally()
    try:
        source = open_source([path], clock_correction=True)
    except CaptureError:
        return False
    interrupted = False
    try:
        count_frames(source, tally)
    except KeyboardInterrupt:  # as dissect: what was read is counted, exit 130
        interrupted = True
    finally:
        source.close()
    if getattr(source, "problem", None) is not None:
        return False
    try:
        print(json.dumps({"summary": summary_dict(tally, None, None)}), flush=True)
    except BrokenPipeError:
        from contextlib import suppress

        with suppress(Exception):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if interrupted:
        sys.exit(130)
    return True


def main() -> None:
    path = _quick_file(sys.argv[1:])
    if path is not None:
        import gc

        gc.freeze()  # as pmipview.cli.main
        gc.set_threshold(50_000, 20, 100)
        try:
            if _quick(path):
                return
        except Exception:  # the full command line says what is wrong
            pass
    from pmipview.cli import main as full

    full()
