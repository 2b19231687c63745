"""``pmipview live``: the timeline of a live interface as a dashboard, while frames arrive."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Annotated, Any

import typer

from pmipview.cli.common import check_output, drawing_width, err, fail, out, pick_mns
from pmipview.cli.help import NAMES_HELP

REFRESH = 0.5  # seconds between redraws
LIVE_REORDER = 0.5  # frames of one live interface arrive in order: a short window
# the analysis thread yields the CPU to the capture (dumpcap) and the dashboard: it can
# lag and catch up, the capture cannot (measured in docs/performance.md, live)
ANALYSIS_NICE = 10


def live(
    interface: Annotated[str, typer.Option(
        "-i", "--interface", help="Capture on this interface (tshark's capture path, as "
        "dissect -i).", show_default=False)],
    capture_filter: Annotated[str | None, typer.Option(
        "-f", "--filter", help="BPF capture filter, e.g. 'udp port 5436 or udp port 67 or "
        "udp port 68 or ip6 proto 135'.")] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", help="Stop after this many seconds.")] = None,
    count: Annotated[int | None, typer.Option(
        "-c", "--count", help="Stop after this many frames.")] = None,
    write: Annotated[str | None, typer.Option(
        "--write", "-w", help="Keep what was seen in this pcapng file.")] = None,
    ring_files: Annotated[int | None, typer.Option(
        "--ring-files", help="With --write and --ring-size: a ring buffer of this many "
        "files (dumpcap -b files:N; dumpcap names them NAME_00001_YYYYmmddHHMMSS.pcapng).")
        ] = None,
    ring_size: Annotated[int | None, typer.Option(
        "--ring-size", help="With --ring-files: start a new file after this many kB "
        "(dumpcap -b filesize:kB).")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="At the end, the timeline JSON instead of the tables.")] = False,
    mn: Annotated[str | None, typer.Option(
        "--mn", help="At the end, only this MN (NAI, MAC or IPv4 HoA).")] = None,
    dashboard: Annotated[bool | None, typer.Option(
        "--dashboard/--no-dashboard", help="The live dashboard (default: when stdout is a "
        "terminal).", show_default=False)] = None,
    names: Annotated[str | None, typer.Option("--names", help=NAMES_HELP)] = None,
) -> None:
    """Watch PMIPv6 live: MNs with state, MAG, HoA and last event, recent diagnostics,
    latency percentiles so far, and counters of frames, signaling, malformed and drops.

    Keys: ↑/↓ (or k/j) select an MN, Enter shows its ladder as it grows, / filters by
    NAI, MAC or HoA, Esc clears, q stops.  Ctrl-C, q, --duration or --count end the
    capture; what was captured is analysed to the end, then the final timeline (or --json)
    is printed.  dumpcap captures to a file that the analysis follows, so a burst faster
    than the analysis makes it lag (shown: frames and seconds behind), not drop.  Drops the
    capture reports are shown, never hidden.

    Examples:

        pmipview live -i eth0 -f 'udp port 5436 or udp port 67 or udp port 68'

        pmipview live -i lma0 --write seen.pcapng --ring-files 10 --ring-size 100000

        pmipview live -i lo --duration 30 --json > timeline.json
    """
    from pmipview.errors import CaptureError
    from pmipview.sources import open_source

    for value, option in ((duration, "--duration"), (count, "--count"),
                          (ring_files, "--ring-files"), (ring_size, "--ring-size")):
        if value is not None and value <= 0:
            raise fail(f"{option}: must be positive, got {value}", 2)
    if (ring_files or ring_size) and not write:
        raise fail("--ring-files and --ring-size need --write FILE", 2)
    if ring_size and not ring_files:
        raise fail("--ring-size needs --ring-files N (how many files to keep)", 2)
    if ring_files and not ring_size:
        raise fail("--ring-files needs --ring-size kB (when to start the next file)", 2)
    if write is not None:
        check_output(write, (".pcapng",), "--write")
    name_map = _names(names)
    try:
        source = open_source(None, interface=interface, bpf=capture_filter, count=count,
                             duration=duration, write=write, ring_files=ring_files,
                             ring_kb=ring_size)
    except CaptureError as exc:
        raise fail(str(exc), 1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if source.note:
        err.print(f"pmipview: {source.note}", style="yellow", markup=False)
    session = _Session(source, name_map, write, ring_files,
                       ring_size * 1000 if ring_size else None)
    show = sys.stdout.isatty() if dashboard is None else dashboard
    err.print(f"capturing on {interface} — Ctrl-C to stop", style="dim")
    try:
        session.start()
        if show:
            _dashboard(session, interface)
        else:
            session.wait()
    except KeyboardInterrupt:
        pass
    finally:
        session.stop()
    _final(session, as_json, mn)


def _names(names_file: str | None) -> dict[str, str] | None:
    if not names_file:
        return None
    from pmipview.pipeline import parse_names

    try:
        with open(names_file) as fh:
            return parse_names(fh.read())
    except OSError as exc:
        raise fail(f"--names: cannot read {names_file}: {exc.strerror or exc}", 2) from None
    except ValueError as exc:
        raise fail(f"--names: {names_file}: {exc}", 2) from None


class _Session:
    """The capture thread: read, decode, correlate, keep (--write); the main thread draws."""

    def __init__(self, source: Any, names: dict[str, str] | None, write: str | None,
                 ring_files: int | None, ring_bytes: int | None) -> None:
        from pmipview.correlate import Correlator
        from pmipview.packets import Tally

        self.source = source
        self.tally = Tally()
        self.correlator = Correlator(names=names, reorder_window=LIVE_REORDER)
        self.keep: dict[int, Any] = {}
        self.lock = threading.RLock()
        self.done = threading.Event()
        self.error: str | None = None
        self.stopping = False
        # the source writes --write itself (dumpcap), else we do (the tshark pipe)
        self.write = write if getattr(source, "written", None) is None else None
        self.ring_files, self.ring_bytes = ring_files, ring_bytes
        self.stream: Any = None
        self.report: Any = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self) -> None:
        while not self.done.wait(0.2):
            pass

    def _records(self):
        from pmipview.sources.pcapng_stream import PcapngStream

        for rec in self.source:
            if self.write is not None:
                if self.stream is None:
                    ifaces = [(i.linktype, i.name) for i in self.source.reader.interfaces]
                    self.stream = PcapngStream(self.write, ifaces or [(rec.linktype, None)],
                                               ring_files=self.ring_files,
                                               ring_bytes=self.ring_bytes)
                self.stream.write(rec)
            yield rec

    def _run(self) -> None:
        from pmipview.errors import CaptureError
        from pmipview.packets import scan
        from pmipview.signals import signal_of

        if ANALYSIS_NICE and sys.platform.startswith("linux"):
            with contextlib.suppress(OSError):  # Linux: this thread only
                os.nice(ANALYSIS_NICE)
        try:
            for packet in scan(self._records(), self.tally):
                s = signal_of(packet)
                if s is not None:
                    with self.lock:
                        self.correlator.feed(s)
                        self.keep[packet.frame_no] = (s, None)
        except CaptureError as exc:
            self.error = str(exc)
        except (OSError, ValueError) as exc:  # the files closed under us by a hard stop
            if not self.stopping:
                self.error = str(exc)
        except Exception as exc:  # reported at the end: never a silent exit 0
            self.error = f"the capture stopped: {exc!r}"
        finally:
            self.done.set()

    def snapshot(self) -> tuple[list, list, float | None]:
        """The MNs, recent diagnostics and start; call with ``lock`` held."""
        r = self.correlator.snapshot()
        diags = sorted([*r.diagnostics, *(d for m in r.mobile_nodes for d in m.diagnostics)],
                       key=lambda d: d.time)
        return list(r.mobile_nodes), diags[-20:], r.start

    def counts(self) -> dict[str, Any]:
        t = self.tally
        frames, nbytes = self.behind()
        lag = None
        if frames or nbytes:  # seconds behind: the wall clock against the last frame read
            lag = max(0.0, time.time() - t.max_ts_ns / 1e9) if t.max_ts_ns else None
        elif frames == 0:
            lag = 0.0
        return {"frames": t.frames, "signaling": t.decoded, "malformed": t.malformed,
                "dropped": getattr(self.source, "dropped", None) if self.done.is_set()
                else None, "behind": frames, "behind_bytes": nbytes, "lag": lag}

    def behind(self) -> tuple[int | None, int]:
        """(frames, bytes) captured and not analysed yet; (None, 0) when the source cannot
        tell (the tshark pipe)."""
        behind = getattr(self.source, "behind", None)
        return behind() if behind is not None else (None, 0)

    def stop(self) -> None:
        """End the capture, then let the analysis read what was captured (a second Ctrl-C
        gives up on that: the frames not read are said)."""
        self.stopping = True
        getattr(self.source, "stop", self.source.close)()
        if self._thread.is_alive():
            frames, _ = self.behind()
            if frames:
                err.print(f"capture stopped: analysing the {frames} frames behind "
                          f"(Ctrl-C again to give up)", style="dim", markup=False)
            try:
                self._thread.join()
            except KeyboardInterrupt:
                frames, _ = self.behind()
                self.error = f"stopped before the analysis caught up ({frames} frames not read)"
        self.source.close()
        self._thread.join(10)
        self.done.set()
        if self.stream is not None:
            self.stream.close()
        t = self.tally
        with self.lock:
            self.report = self.correlator.finish(t.max_ts_ns / 1e9 if t.max_ts_ns else None)
        self.report.frames = t.frames
        if t.min_ts_ns is not None:
            self.report.start, self.report.end = t.min_ts_ns / 1e9, t.max_ts_ns / 1e9


def _dashboard(session: _Session, where: str) -> None:
    from rich.live import Live

    from pmipview.render.live import ViewState, dashboard, visible

    state = ViewState()
    keys = _Keys(state) if sys.stdin.isatty() else None
    try:
        with Live(console=out, auto_refresh=False, screen=False, transient=True) as view:
            while not session.done.is_set() and not state.notes:
                # drawn under the lock: the snapshot's lists are the correlator's own
                with session.lock:
                    mns, diags, start = session.snapshot()
                    shown = visible(mns, state.filter)
                    chosen = min(state.selected, max(0, len(shown) - 1))
                    state.selected = chosen
                    ladder = _ladder(session, shown[chosen]) if state.ladder and shown \
                        else None
                    view.update(dashboard(mns, diags, session.counts(), start, where, state,
                                          ladder), refresh=True)
                if keys is not None:
                    keys.wait(REFRESH)
                else:
                    time.sleep(REFRESH)
    finally:
        if keys is not None:
            keys.close()


def _ladder(session: _Session, mn: Any) -> Any:
    from rich.console import Group

    from pmipview.render.ladder.model import build
    from pmipview.render.ladder.terminal import lines

    drawing = build(session.correlator.snapshot(), mn, session.keep)  # lock held by caller
    rows = lines(drawing, drawing_width(None))
    height = max(10, (out.height or 40) - 16)
    return Group(*rows[-height:])


class _Keys:
    """Keys from a terminal in cbreak mode, read by a thread; restored on close."""

    def __init__(self, state: Any) -> None:
        import termios
        import tty

        self.state = state
        self.fd = sys.stdin.fileno()
        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        self.event = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 16).decode(errors="ignore")
            except OSError:
                return
            if not data:
                return
            self.apply(data)
            self.event.set()

    def apply(self, data: str) -> None:
        s = self.state
        if s.typing:
            for ch in data:
                if ch in "\r\n":
                    s.typing = False
                elif ch == "\x1b":
                    s.typing, s.filter = False, ""
                elif ch in "\x7f\b":
                    s.filter = s.filter[:-1]
                elif ch.isprintable():
                    s.filter += ch
            s.selected = 0
            return
        if data in ("\x1b[A", "k"):
            s.selected = max(0, s.selected - 1)
        elif data in ("\x1b[B", "j"):
            s.selected += 1
        elif data in ("\r", "\n"):
            s.ladder = not s.ladder
        elif data == "/":
            s.typing, s.filter, s.ladder = True, "", False
        elif data == "\x1b":
            s.filter, s.ladder = "", False
        elif data == "q":
            s.notes.append("quit")

    def wait(self, timeout: float) -> None:
        self.event.wait(timeout)
        self.event.clear()

    def close(self) -> None:
        import termios

        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)


def _final(session: _Session, as_json: bool, mn: str | None) -> None:
    from pmipview.render import summary, timeline_json
    from pmipview.render import timeline as tl

    report = session.report
    mns = pick_mns(report, mn, "the capture") if mn else report.mobile_nodes
    if as_json:
        timeline_json.write(report, mns, sys.stdout.write)
        sys.stdout.write("\n")
    else:
        out.print(tl.header(report))
        for m in mns:
            out.print()
            out.print(tl.mn_block(m, report.start))
        out.print()
        out.print(summary.summary_table(session.tally, session.error,
                                        getattr(session.source, "dropped", None)))
    if session.stream is not None:
        err.print(f"wrote {', '.join(session.stream.written)} ({session.stream.frames} "
                  f"frames)", markup=False)
    kept = [f for f in getattr(session.source, "written", None) or [] if os.path.exists(f)]
    if kept:  # dumpcap's files (a ring has removed the oldest)
        err.print(f"wrote {', '.join(kept)} ({session.tally.frames} frames captured)",
                  markup=False)
    dropped = getattr(session.source, "dropped", None)
    if dropped:
        err.print(f"pmipview: the capture dropped {dropped} frames: the timeline misses "
                  f"them", style="bold red", markup=False)
    if session.error:
        raise fail(session.error, 1)
