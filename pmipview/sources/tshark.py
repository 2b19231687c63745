"""Sources that need tshark: file formats our reader does not know, and live interfaces
when there is no dumpcap (``follow.py`` captures with dumpcap and follows its file).

pyshark finds tshark (honouring its configuration) and lists the capture interfaces.
The packets themselves come from tshark as a pcapng stream on a pipe, read by our own
streaming reader, so that every path decodes frames with the one set of dissectors:
pyshark's per-packet objects cost about a millisecond each and hide the link type
(measured in bench/, see docs/performance.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator

from pmipview.sources.capfile import CaptureReader, open_capture
from pmipview.sources.records import CaptureError, Record


def tshark_path() -> str:
    """The tshark binary, found by pyshark (its config file, then PATH); CaptureError if none."""
    try:
        from pyshark.tshark.tshark import TSharkNotFoundException, get_process_path

        try:
            return get_process_path()
        except TSharkNotFoundException:
            pass
    except ImportError:  # pragma: no cover - pyshark is a dependency
        pass
    found = shutil.which("tshark")
    if found is None:
        raise CaptureError("tshark is not installed (Debian: apt-get install tshark); it is "
                           "needed for live capture and for formats other than pcap/pcapng")
    return found


def interfaces() -> list[str]:
    """Names of the interfaces tshark can capture on (empty when it cannot tell).

    On Linux the kernel's list plus ``any``; elsewhere pyshark asks ``tshark -D``.
    """
    if os.path.isdir("/sys/class/net"):
        return ["any", *sorted(os.listdir("/sys/class/net"))]
    try:
        from pyshark.tshark.tshark import get_all_tshark_interfaces_names

        return list(get_all_tshark_interfaces_names(tshark_path()))
    except Exception:  # listing is a courtesy for error messages only
        return []


class TsharkSource:
    """Records from a tshark child process writing pcapng to a pipe."""

    def __init__(self, args: list[str], what: str) -> None:
        self.what = what
        self.args = args
        try:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         stdin=subprocess.DEVNULL, bufsize=0)
        except OSError as exc:
            raise CaptureError(f"cannot run tshark: {exc}") from None
        assert self.proc.stdout is not None
        try:
            self.reader: CaptureReader = open_capture(
                _Peekable(self.proc.stdout))  # type: ignore[arg-type]
        except CaptureError:
            self.close()
            raise CaptureError(f"{what}: {self._stderr_line() or 'tshark produced no capture'}"
                               ) from None
        self.size: int | None = None
        self.problem = None
        self.note: str | None = None
        self.written: list[str] | None = None  # the caller writes --write from the records

    @property
    def dropped(self) -> int | None:
        """Frames the capture lost, from the interface statistics tshark writes at the end."""
        return self.reader.dropped

    def __iter__(self) -> Iterator[Record]:
        yield from self.reader
        self.problem = self.reader.problem
        code = self.proc.wait()
        if code not in (0, None) and not self.problem:
            line = self._stderr_line()
            if line:
                raise CaptureError(f"{self.what}: {line}")

    @property
    def bytes_read(self) -> int:
        return 0

    def _stderr_line(self) -> str:
        if self.proc.poll() is None:
            return ""
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        lines = [ln.strip() for ln in err.splitlines()
                 if ln.strip() and not ln.startswith("Capturing on")
                 and "Running as user" not in ln and "packets captured" not in ln]
        for line in lines:  # tshark's own diagnosis, e.g. "tshark: ... No such device"
            if line.startswith(("tshark:", "dumpcap:")):
                return line.split(":", 1)[1].strip()
        return lines[0] if lines else ""

    def stop(self) -> None:
        """End the capture; the records go on until the pipe is drained."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.send_signal(signal.SIGINT)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        with contextlib.suppress(Exception):
            self.reader.close()


class _Peekable:
    """A pipe wrapped so the reader can sniff its magic without consuming it."""

    def __init__(self, raw) -> None:
        import io

        self._buf = io.BufferedReader(raw, 65536)
        self.name = "<tshark>"

    def peek(self, n: int) -> bytes:
        data = self._buf.peek(n)
        while len(data) < n:
            more = self._buf.peek(n)
            if len(more) == len(data):
                break
            data = more
        return data

    def read(self, n: int = -1) -> bytes:
        return self._buf.read(n)

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        self._buf.close()


def check_interface(interface: str) -> None:
    """CaptureError naming the interfaces there are, when ``interface`` is not one."""
    known = interfaces()
    if known and interface not in known and not interface.isdigit():
        raise CaptureError(f"no such interface: {interface} (tshark sees: "
                           f"{', '.join(known[:12])}{', ...' if len(known) > 12 else ''})")


def live(interface: str, bpf: str | None = None, count: int | None = None,
         duration: float | None = None) -> TsharkSource:
    """Capture on ``interface`` through tshark's pipe (with a BPF capture filter) until
    stopped; ``follow.live`` captures with dumpcap instead when there is one."""
    check_interface(interface)
    args = [tshark_path(), "-i", interface, "-q", "-l", "-F", "pcapng", "-w", "-",
            *stop_args(bpf, count, duration)]
    return TsharkSource(args, f"live capture on {interface}")


def stop_args(bpf: str | None, count: int | None, duration: float | None) -> list[str]:
    """The capture filter and the stop conditions, as tshark and dumpcap both take them."""
    args: list[str] = []
    if bpf:
        args += ["-f", bpf]
    if count:
        args += ["-c", str(count)]
    if duration:
        args += ["-a", f"duration:{max(1, round(duration))}"]
    return args


def converted(path: str) -> TsharkSource:
    """A file in a format only tshark reads, streamed to us as pcapng."""
    return TsharkSource([tshark_path(), "-r", path, "-F", "pcapng", "-w", "-"],
                        f"reading {path} with tshark")
