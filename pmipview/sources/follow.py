"""Live capture that never waits for the analysis: dumpcap writes a file, we follow it.

This is how Wireshark captures.  ``dumpcap`` (a small C program) reads the interface with
a large kernel buffer and writes every frame to a pcapng file; the analyzer reads that file
while it grows.  When the analysis falls behind during a burst, dumpcap does not notice:
the frames wait on disk, the analysis lags and catches up.  (Through a pipe, as
``tshark -w -`` gives, a slow reader fills the pipe, tshark blocks, and the kernel ring
drops frames: 21% at 50,000 frames/s, docs/performance.md.)

- The file is ``--write FILE.pcapng``, or a ring of files (dumpcap's own ``-b files:N
  -b filesize:kB``), or, without ``--write``, files in a private temporary directory that
  are removed once read (``-b filesize`` chunks, so a long capture holds on disk only what
  the analysis has not read yet).
- dumpcap says on stderr which file it opens ("File: ..."), how many frames it captured so
  far (every half second), and at the end how many the kernel or dumpcap dropped.  A thread
  reads that; each file is opened as soon as it is announced, so a ring that rotates past
  the analysis cannot take frames it has not read (an open file survives its deletion).
- :class:`_Tail` is a blocking stream over those files for the ordinary pcapng reader:
  ``read(n)`` returns ``n`` bytes, waiting while dumpcap has not written them, and ends
  (short) only when dumpcap has exited and everything is read.  Successive ring files are
  successive pcapng sections to the reader; their interfaces are mapped back to the first
  file's, so the interface of a frame does not change with the file it was written to.

``stop()`` ends the capture (dumpcap writes its statistics) and the records go on until
the files are drained: the live timeline is then the timeline of the files.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import IO

from pmipview.sources.capfile import CaptureReader, open_capture
from pmipview.sources.records import CaptureError, ReadProblem, Record
from pmipview.sources.tshark import TsharkSource, stop_args

BUFFER_MIB = 64  # the kernel capture buffer (dumpcap's default, 2 MiB, lasts 15 ms at 50k/s)
TEMP_CHUNK_KB = 64_000  # without --write: a new temporary file every 64 MB, removed once read
WAKE = 0.05  # s: the longest a reader at the end of the file waits before looking again
STOP_GRACE = 0.5  # s: dumpcap is stopped this long after stop(), see DumpcapSource.stop
START_TIMEOUT = 30.0  # s: dumpcap must have opened the interface and its file by then

_FILE = re.compile(r"^File: (.+)$")
# "\rPackets: 40 " ends with no newline: what dumpcap says next ("File: ..." of the next
# ring file, an error) follows on its line
_COUNT = re.compile(r"^Packets(?: captured)?: (\d+) *")
_DROPS = re.compile(r"^Packets received/dropped on interface '.*': (\d+)/(\d+)"
                    r"(?: \(.*ps_ifdrop:(\d+)\))?")
_QUIET = ("Capturing on", "File: ", "Packets", "Running as user")


def dumpcap_path() -> str | None:
    """dumpcap on PATH, or beside tshark (Wireshark installs both in one directory)."""
    found = shutil.which("dumpcap")
    if found is None and (tshark := shutil.which("tshark")):
        beside = os.path.join(os.path.dirname(tshark), "dumpcap")
        found = beside if os.access(beside, os.X_OK) else None
    return found


def dumpcap_args(dumpcap: str, interface: str, path: str, *, bpf: str | None = None,
                 count: int | None = None, duration: float | None = None,
                 ring_files: int | None = None, ring_kb: int | None = None,
                 chunk_kb: int | None = None, buffer_mib: int = BUFFER_MIB) -> list[str]:
    """The dumpcap command line: pcapng to ``path``, with its ring options."""
    args = [dumpcap, "-i", interface, "-n", "-B", str(buffer_mib), "-w", path,
            *stop_args(bpf, count, duration)]
    if ring_files:
        args += ["-b", f"files:{ring_files}"]
    if ring_kb or chunk_kb:
        args += ["-b", f"filesize:{ring_kb or chunk_kb}"]
    return args


class DumpcapSource:
    """Records of a live capture written by dumpcap, read while the files grow.

    ``written``: the files kept (``--write``), for the caller to name; ``captured``: frames
    dumpcap has captured so far (its half-second count); ``dropped``: frames the kernel or
    dumpcap lost (None until the capture ends); ``behind()``: what is written and not read.
    """

    def __init__(self, dumpcap: str, interface: str, *, bpf: str | None = None,
                 count: int | None = None, duration: float | None = None,
                 write: str | None = None, ring_files: int | None = None,
                 ring_kb: int | None = None, buffer_mib: int = BUFFER_MIB) -> None:
        self.what = f"live capture on {interface}"
        self.size: int | None = None
        self.problem: ReadProblem | _Lost | None = None
        self.note: str | None = None
        self.captured: int | None = None
        self._drops: int | None = None
        self._temp = None if write else tempfile.mkdtemp(prefix="pmipview-live-")
        path = write or os.path.join(self._temp, "live.pcapng")  # type: ignore[arg-type]
        self.written: list[str] = []  # files announced, in order (kept ones: --write)
        self.lost_files: list[str] = []  # a ring file deleted before we could open it
        self._files: deque[IO[bytes]] = deque()
        self._cond = threading.Condition()
        self._stderr_done = False
        self._stderr: list[str] = []
        self._hard_stop = False
        self._stopped = False
        args = dumpcap_args(dumpcap, interface, path, bpf=bpf, count=count, duration=duration,
                            ring_files=ring_files, ring_kb=ring_kb,
                            chunk_kb=TEMP_CHUNK_KB if self._temp else None,
                            buffer_mib=buffer_mib)
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         start_new_session=True,
                                         preexec_fn=_die_with_parent())
        except OSError as exc:
            self._remove_temp()
            raise CaptureError(f"cannot run dumpcap: {exc}") from None
        self._thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._thread.start()
        try:
            self._started()
            self.tail = _Tail(self)
            self.reader: CaptureReader = open_capture(self.tail)  # type: ignore[arg-type]
        except CaptureError as exc:
            self.close()
            raise CaptureError(f"{self.what}: {self._error_line() or exc}") from None
        except BaseException:
            self.close()
            raise
        self.reader.name = self.what

    # -- dumpcap's stderr ------------------------------------------------------------------

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        pending = ""
        try:
            while True:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                pending += chunk.decode(errors="replace")
                *lines, pending = re.split(r"[\r\n]", pending)
                for line in lines:
                    self._line(line.strip())
            self._line(pending.strip())
        finally:
            with self._cond:
                self._stderr_done = True
                self._cond.notify_all()

    def _line(self, line: str) -> None:
        if not _DROPS.match(line) and (m := _COUNT.match(line)):
            with self._cond:
                self.captured = int(m.group(1))
                self._cond.notify_all()  # dumpcap flushes its file when it counts
            line = line[m.end():]
        if m := _DROPS.match(line):
            with self._cond:
                self._drops = (self._drops or 0) + int(m.group(2)) + int(m.group(3) or 0)
            return
        if m := _FILE.match(line):
            self._announce(m.group(1))
        if line and not line.startswith(_QUIET) and len(self._stderr) < 50:
            self._stderr.append(line)

    def _announce(self, name: str) -> None:
        try:
            fh = open(name, "rb")  # noqa: SIM115 - closed once read, or by close()
        except OSError:
            fh = None
        if fh is not None and self._temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(name)  # ours: gone from the disk once read and closed
        with self._cond:
            if fh is None:
                self.lost_files.append(name)
            else:
                self._files.append(fh)
            if self._temp is None:
                self.written.append(name)
            self._cond.notify_all()

    def _started(self) -> None:
        """Wait until dumpcap has opened the interface and its first file (or has failed)."""
        deadline = time.monotonic() + START_TIMEOUT
        with self._cond:
            while not self._files and not self._stderr_done:
                if not self._cond.wait(max(0.0, deadline - time.monotonic())) and \
                        time.monotonic() >= deadline:
                    raise CaptureError(f"dumpcap did not start in {START_TIMEOUT:.0f} s")
            if not self._files:
                raise CaptureError(self._error_line() or "dumpcap produced no capture")

    def _error_line(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        self._thread.join(2)
        for line in self._stderr:  # dumpcap's own diagnosis, e.g. "dumpcap: ... No such device"
            if line.startswith("dumpcap:"):
                return line.split(":", 1)[1].strip()
        return self._stderr[0] if self._stderr else ""

    # -- what the analysis sees --------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """dumpcap has exited and said everything (no further file will be announced)."""
        return self._stderr_done and self.proc.poll() is not None

    @property
    def dropped(self) -> int | None:
        """Frames the capture lost: dumpcap's count at exit, else the files' statistics."""
        found = [d for d in (self._drops, self.reader.dropped) if d is not None]
        return max(found) if found else None

    @property
    def bytes_read(self) -> int:
        return 0

    def behind(self) -> tuple[int | None, int]:
        """(frames, bytes) written by dumpcap and not read yet; frames None when unknown."""
        nbytes = self.tail.unread()
        frames = None
        if self.captured is not None:
            frames = max(0, self.captured - self.reader.frames_read)
        return frames, nbytes

    def __iter__(self) -> Iterator[Record]:
        reader = self.reader
        canonical: dict[int, int] = {}
        setattr_ = object.__setattr__
        for rec in reader:
            gid = rec.interface
            if gid and reader.sections[-1].first_interface:  # a later ring file
                to = canonical.get(gid)
                if to is None:
                    to = canonical[gid] = _first_like(reader, gid)
                if to != gid:  # frozen Record, ours alone: set in place as __init__ does
                    setattr_(rec, "interface", to)
            yield rec
        self.problem = reader.problem
        if self.lost_files:
            self.problem = self.problem or _Lost(self.lost_files)
        code = self.proc.poll()
        if code not in (0, None) and not self._stopped and self.problem is None:
            line = self._error_line()  # dumpcap failed on its own, e.g. the device went away
            if line:
                raise CaptureError(f"{self.what}: {line}")

    # -- ending ---------------------------------------------------------------------------

    def stop(self) -> None:
        """End the capture; the records go on until what dumpcap wrote is read.

        The kernel hands frames to dumpcap in blocks, a block at the latest after
        dumpcap's read timeout (250 ms): dumpcap is stopped after ``STOP_GRACE``, so that
        what arrived before the stop is captured (a Ctrl-C at the terminal does not reach
        dumpcap, which runs in its own process group).
        """
        if self.proc.poll() is None and not self._stopped:
            self._stopped = True
            if not self._hard_stop:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(STOP_GRACE)
            with contextlib.suppress(OSError):
                self.proc.send_signal(signal.SIGINT)

    def close(self) -> None:
        """End the capture and the reading now; remove our temporary files."""
        self._hard_stop = True
        self.stop()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._thread.join(5)
        with self._cond:
            self._cond.notify_all()
            files = list(self._files)
        for fh in files:  # a read in progress on one raises ValueError: the caller stops
            fh.close()
        if hasattr(self, "reader"):
            self.reader.close()
        self._remove_temp()

    def _remove_temp(self) -> None:
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)


class _Lost:
    """The reading problem when a ring file was deleted before it could be opened."""

    def __init__(self, names: list[str]) -> None:
        self.reason = (f"the ring buffer removed {len(names)} file(s) before they could be "
                       f"read ({os.path.basename(names[0])}...): their frames are missing")
        self.offset, self.frame_no = 0, None

    def __str__(self) -> str:
        return self.reason


def _first_like(reader: CaptureReader, gid: int) -> int:
    """The first interface of the capture with the link type and name of ``gid``."""
    want = reader.interfaces[gid]
    for i, iface in enumerate(reader.interfaces):
        if (iface.linktype, iface.name) == (want.linktype, want.name):
            return i
    return gid  # pragma: no cover - gid itself matches


class _Tail:
    """A blocking byte stream over the files dumpcap announces, for :class:`CaptureReader`.

    ``read(n)`` returns ``n`` bytes unless the capture is over and the files are drained.
    The current file is the oldest announced one; a newer one means it is complete (dumpcap
    closes a file before it announces the next).
    """

    name = "<dumpcap>"

    def __init__(self, src: DumpcapSource) -> None:
        self._src = src
        self._cond = src._cond
        self._fh: IO[bytes] = src._files[0]
        self._pos = 0  # bytes of the current file returned by read()

    def seekable(self) -> bool:
        return False

    def unread(self) -> int:
        """Bytes written to the announced files and not returned by read() yet."""
        try:
            total = os.fstat(self._fh.fileno()).st_size - self._pos
            for fh in list(self._src._files)[1:]:
                total += os.fstat(fh.fileno()).st_size
        except (OSError, ValueError):
            return 0
        return max(0, total)

    def peek(self, n: int) -> bytes:
        while True:
            data = self._fh.peek(n)[:n]  # type: ignore[attr-defined]
            if len(data) >= n or not self._wait():
                return data

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        if len(data) != n:
            parts = [data]
            have = len(data)
            while have < n:
                more = self._more(n - have)
                if not more:
                    break
                parts.append(more)
                have += len(more)
            data = b"".join(parts)
        self._pos += len(data)
        return data

    def _more(self, n: int) -> bytes:
        """Up to ``n`` more bytes, waiting for dumpcap; b"" at the real end."""
        while True:
            data = self._fh.read(n)
            if data:
                return data
            with self._cond:
                newer = len(self._src._files) > 1
            if newer:  # the current file is complete: read its last flush, then move on
                data = self._fh.read(n)
                if data:
                    return data
                with self._cond:
                    self._src._files.popleft().close()
                    self._fh = self._src._files[0]
                self._pos = 0
                continue
            if not self._wait():
                return self._fh.read(n)  # what came in while we looked

    def _wait(self) -> bool:
        """Wait for more to read; False when there will be nothing more."""
        with self._cond:
            if self._src._hard_stop or not self._src._files:
                return False
            if len(self._src._files) > 1:
                return True
            if self._src.finished:
                return False
            self._cond.wait(WAKE)
            return True


def live(interface: str, bpf: str | None = None, count: int | None = None,
         duration: float | None = None, *, write: str | None = None,
         ring_files: int | None = None, ring_kb: int | None = None,
         buffer_mib: int = BUFFER_MIB) -> DumpcapSource | TsharkSource:
    """Capture on ``interface`` with dumpcap, followed; with tshark's pipe if there is no
    dumpcap (then ``note`` says so, and ``written`` is None: the caller writes --write)."""
    from pmipview.sources import tshark

    tshark.check_interface(interface)
    dumpcap = dumpcap_path()
    if dumpcap is None:
        src = tshark.live(interface, bpf, count, duration)
        src.note = ("dumpcap not found: capturing through a tshark pipe, which drops frames "
                    "when the analysis falls behind (Debian: apt-get install wireshark-common)")
        return src
    return DumpcapSource(dumpcap, interface, bpf=bpf, count=count, duration=duration,
                         write=write, ring_files=ring_files, ring_kb=ring_kb,
                         buffer_mib=buffer_mib)


def _die_with_parent():
    """preexec_fn: dumpcap gets SIGTERM if pmipview dies (Linux), never capturing on alone."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
