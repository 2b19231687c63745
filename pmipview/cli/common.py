"""What every ``pmipview`` subcommand shares: the consoles, one-line errors, reading and
correlating a capture, picking MNs, checking options and output paths.

Imports nothing of ``pmipview.cli``'s command modules, so each command module imports this
one and no command imports another (tests/cli/test_imports.py walks the graph).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress

import typer
from rich.console import Console
from rich.status import Status

from pmipview.errors import CaptureError
from pmipview.packets import Tally
from pmipview.sources import Record, open_source

# Not a terminal (a pipe, a file, CI): tables at their natural width, never cut at 80
# columns with "…"; a terminal: its width.  ``pmipview --width N`` overrides both.
UNBOUNDED = 4096
out = Console(highlight=False, soft_wrap=True,
              width=None if sys.stdout.isatty() else UNBOUNDED)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def drawing_width(width: int | None, fallback: int = 100) -> int:
    """Columns for a drawing (ladder): ``--width``/the option, the terminal's, else
    ``fallback`` (a drawing is laid out to a width; "unbounded" is not one)."""
    if width:
        return width
    return out.width if out.width < UNBOUNDED else fallback


# options of the whole program, set by the app's callback for each invocation
SETTINGS = {"clock_correction": True}


def open_capture_source(files: str | list[str]):
    """open_source for the commands: several files get their clocks aligned (unless
    --no-clock-correction) and what was estimated is said on stderr."""
    source = open_source(files, clock_correction=SETTINGS["clock_correction"])
    for offset in getattr(source, "clock", ()):
        err.print(f"pmipview: {offset.describe()}", style="dim", markup=False)
    return source


def set_width(columns: int | None) -> None:
    """``--width``: render as if the terminal were ``columns`` wide; None is the default
    (set again for every invocation, so one run's --width does not stay for the next)."""
    if columns is None:
        columns = None if sys.stdout.isatty() else UNBOUNDED
    out.width = columns  # type: ignore[assignment]  # None: the terminal's width


def fail(message: str, code: int) -> typer.Exit:
    """Print ``pmipview: message`` on stderr and return the Exit to raise (1 input, 2 usage)."""
    err.print(f"pmipview: {message}", style="bold red", markup=False)
    return typer.Exit(code)


def progress(records: Iterable[Record], source: object) -> Iterable[Record]:
    """Records, with a progress bar on stderr once reading has taken more than a second.
    Without a bar, ``records`` itself (so that scan sees the reader and can run its
    compiled pre-filtering loop)."""
    size = getattr(source, "size", None)
    if not size or not sys.stderr.isatty():
        return records
    return _with_bar(records, source, size)


def _with_bar(records: Iterable[Record], source: object, size: int) -> Iterator[Record]:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    start = time.monotonic()
    progress = None
    task = None
    try:
        for i, rec in enumerate(records):
            if not i & 0x3FFF:
                if progress is None and time.monotonic() - start > 1.0:
                    progress = Progress("[progress.description]{task.description}",
                                        BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                                        console=err, transient=True)
                    progress.start()
                    task = progress.add_task("reading", total=size)
                if progress is not None:
                    progress.update(task, completed=source.bytes_read)  # type: ignore[attr-defined,arg-type]
            yield rec
    finally:
        if progress is not None:
            progress.stop()


class Stage:
    """A spinner on stderr saying what is being done after reading (correlating,
    drawing), shown only on a terminal and only once the stage has lasted ``delay``
    seconds, like the reading bar; transient (it leaves no line behind).  Use as a
    context manager, or ``begin()``/``end()`` when the stage starts inside another call."""

    def __init__(self, text: str, delay: float = 1.0) -> None:
        self.text, self.delay = text, delay
        self._lock = threading.Lock()
        self._status: Status | None = None
        self._timer: threading.Timer | None = None
        self._done = False

    def begin(self) -> None:
        if self._timer is not None or self._done or not sys.stderr.isatty():
            return
        self._timer = threading.Timer(self.delay, self._show)
        self._timer.daemon = True
        self._timer.start()

    def _show(self) -> None:
        with self._lock:
            if self._done:
                return
            self._status = err.status(self.text, spinner="dots")
            self._status.start()

    def update(self, text: str) -> None:
        with self._lock:
            self.text = text
            if self._status is not None:
                self._status.update(text)

    def end(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._done = True
            if self._status is not None:
                self._status.stop()
                self._status = None

    def __enter__(self) -> Stage:
        self.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()


class _Then:
    """``records``, then ``at_end()`` once they are exhausted.  A reader's compiled loop
    (``prefiltered``) stays reachable through it, so that ``packets.scan`` still runs the
    pre-filter inside that loop: behind a plain generator every frame of the capture
    became a record and was classified in Python (docs/performance.md, "timeline --json:
    the correlator and its JSON")."""

    def __init__(self, records: Iterable[Record], at_end: Callable[[], None]) -> None:
        self._records, self._at_end = records, at_end

    def __iter__(self) -> Iterator[Record]:
        return _ended(self._records, self._at_end)

    def prefiltered(self, summary: object = None) -> tuple[Iterator[Record], object] | None:
        inner = getattr(self._records, "prefiltered", None)
        fused = inner(summary) if inner is not None else None
        if fused is None:
            return None
        passed, counts = fused
        return _ended(passed, self._at_end), counts


def _ended(records: Iterable[Record], at_end: Callable[[], None]) -> Iterator[Record]:
    yield from records
    at_end()


def source_label(files: str | list[str]) -> str:
    """How messages name the capture(s): ``a.pcapng + b.pcap``; ``-`` is standard input."""
    names = [files] if isinstance(files, str) else files
    return " + ".join("standard input" if f == "-" else f for f in names)


def short_label(label: str) -> str:
    """The label of :func:`source_label` with file names only (titles, report headers)."""
    return " + ".join(os.path.basename(p) for p in label.split(" + "))


def load_report(files: str | list[str], names_file: str | None, keep: dict | None = None,
                keep_frames: bool = True, summarise: bool = False):
    """Open, scan and correlate a capture; errors become one line and an exit code.
    With ``keep``, every signaling frame's signal (and decoded frame, unless not
    ``keep_frames``) is kept in it."""
    from pmipview.pipeline import correlate, parse_names

    names = None
    if names_file:
        try:
            with open(names_file) as fh:
                names = parse_names(fh.read())
        except OSError as exc:
            raise fail(f"--names: cannot read {names_file}: {exc.strerror or exc}", 2) from None
        except ValueError as exc:
            raise fail(f"--names: {names_file}: {exc}", 2) from None
    file = source_label(files)
    try:
        source = open_capture_source(files)
    except CaptureError as exc:
        raise fail(str(exc), 1) from None
    tally = Tally()
    # what the correlator does once the last frame is read (pending messages, timeouts,
    # expiries, the MN list) gets its own spinner on a long capture
    correlating = Stage("correlating")
    try:
        report = correlate(_Then(progress(source, source), correlating.begin), tally,
                           names, keep, keep_frames, summarise)
    except CaptureError as exc:
        raise fail(str(exc), 1) from None
    finally:
        correlating.end()
        source.close()
    problem = getattr(source, "problem", None)
    if problem is not None:
        err.print(f"pmipview: {file}: reading stopped early: {problem} (the timeline covers "
                  f"the frames before it)", style="yellow", markup=False)
    return report, tally, problem


def pick_mns(report, mn: str | None, file: str) -> list:
    """The MNs ``--mn`` names (all without it); an unknown MN is one line and exit 1."""
    from pmipview.filters import is_match_mn

    if not mn:
        return report.mobile_nodes
    mns = [m for m in report.mobile_nodes if is_match_mn(m, mn)]
    if not mns:
        known = ", ".join(m.id for m in report.mobile_nodes[:10]) or "none"
        more = " ..." if len(report.mobile_nodes) > 10 else ""
        raise fail(f"--mn: no mobile node {mn!r} in {file} (MNs: {known}{more})", 1)
    return mns


def at_least(value: int | None, minimum: int, option: str) -> None:
    """A count option below its minimum: one line and exit 2 (typer's min= prints a box)."""
    if value is not None and value < minimum:
        raise fail(f"{option}: must be at least {minimum}, got {value}", 2)


def nothing_to_draw(file: str, tally: Tally) -> str:
    """Why a capture has no mobile node, in words."""
    if not tally.frames:
        return f"{file}: no frames"
    if tally.malformed and not tally.decoded:
        return (f"{file}: only malformed signaling ({tally.malformed} of {tally.frames} "
                f"frames; see pmipview dissect)")
    return f"{file}: no PMIPv6 or DHCP signaling in {tally.frames} frames"


def check_output(path: str, allowed: tuple[str, ...], option: str = "-o") -> str:
    """The output's extension, checked before any work: known and in a writable folder."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in allowed:
        raise fail(f"{option} {path}: unknown output extension {ext or '(none)'!r}; use one of "
                   f"{', '.join(allowed)}", 2)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise fail(f"{option} {path}: folder {folder} does not exist", 1)
    if not os.access(folder, os.W_OK) or (os.path.exists(path)
                                          and not os.access(path, os.W_OK)):
        raise fail(f"{option} {path}: not writable", 1)
    return ext


def quiet_broken_pipe() -> None:
    """After the reader of our stdout went away (``| head``), exit without noise."""
    with suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
