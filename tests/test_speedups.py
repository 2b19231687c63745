"""The compiled hot path (Cython) against its pure-Python twin: 0 differences.

``dissectors/_cprefilter.pyx`` (the pre-filter) against ``prefilter.classify_pure``, and
``pmipview/sources/_creader.pyx`` (the record loops, with and without the pre-filter
inside) against the loops of ``pcap.py`` / ``pcapng.py``: on every sample, the corpus, the
bench shapes (small), 20,000 fuzz mutants, truncations and corruptions of capture files,
through files, pipes and gzip.  ``scan`` gives the same packets and tally either way.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import LINKTYPES, signaling_frames, unrelated_frames
from bench.fuzz import Mutator, default_seeds
from bench.shapes import SHAPES, records
from dissectors import prefilter, speedups
from pmipview.packets import Tally, scan
from pmipview.sources.capfile import Interface, open_capture, write_pcap, write_pcapng
from pmipview.sources.records import Record

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples").glob("*.pcap*"))
CPRE = speedups.compiled("dissectors._cprefilter")
CREADER = speedups.compiled("pmipview.sources._creader")
needs_compiled = pytest.mark.skipif(
    CPRE is None or CREADER is None,
    reason="compiled hot path not built (no C compiler at install, or PMIPVIEW_PURE=1)")


def test_built_when_a_compiler_is_there():
    """`pip install -e .` (make venv) builds the extension wherever a C compiler is."""
    if speedups.PURE or not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("pure Python asked for, or no C compiler")
    assert CPRE is not None and CREADER is not None
    assert speedups.describe().startswith("compiled")
    assert prefilter.classify is CPRE.classify


def test_pure_is_forced_by_the_environment():
    code = ("from dissectors import prefilter, speedups;"
            "from pmipview.sources.capfile import open_capture;"
            "import sys;"
            "assert prefilter.classify is prefilter.classify_pure;"
            "assert not open_capture(sys.argv[1]).compiled;"
            "print(speedups.describe())")
    env = {**os.environ, "PMIPVIEW_PURE": "1"}
    out = subprocess.run([sys.executable, "-c", code, str(SAMPLES[0])], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "pure Python (PMIPVIEW_PURE=1)"
    version = subprocess.run([sys.executable, "-m", "pmipview", "--version"], env=env,
                             capture_output=True, text=True, check=True).stdout
    assert "pure Python" in version


# -- the pre-filter ------------------------------------------------------------------------

def _frames_of_samples() -> list[tuple[int, bytes]]:
    out = []
    for path in SAMPLES:
        with open_capture(path, pure=True) as r:
            out += [(rec.linktype, rec.data) for rec in r]
    return out


def _assert_classify_agrees(cases) -> int:
    n = 0
    for lt, data in cases:
        want = prefilter.classify_pure(lt, data)
        got = CPRE.classify(lt, data)
        assert got == want, (lt, data.hex())
        n += 1
    return n


@needs_compiled
def test_classify_agrees_on_corpus_samples_and_shapes():
    cases = [(f[0], f[1]) for f in signaling_frames()]
    cases += [(f[0], f[1]) for f in unrelated_frames(3000, seed=5, linktypes=LINKTYPES)]
    cases += _frames_of_samples()
    for shape in SHAPES:
        cases += [(r.linktype, r.data) for r in records(shape, 3000, seed=2)]
    # every truncation of every signaling frame, and under every link type we know
    trunc = [(lt, data[:i]) for lt, data in cases[:300] for i in range(len(data) + 1)]
    relabel = [(other, data) for _, data in cases[:300]
               for other in (0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147, -1, 1 << 70)]
    classes = {prefilter.classify_pure(lt, d) for lt, d in cases}
    assert classes == {prefilter.OTHER, prefilter.MH, prefilter.DHCP}  # covers each verdict
    assert _assert_classify_agrees(cases + trunc + relabel) > 20_000


@needs_compiled
def test_classify_agrees_on_the_fuzz_corpus():
    mutator = Mutator(default_seeds(), 1)
    rng = random.Random(1)
    n = 20_000
    systematic = mutator.plan(n)
    seen = set()
    for i in range(n):
        seed, data = mutator.case(i, systematic, rng)
        want = prefilter.classify_pure(seed.linktype, data)
        assert CPRE.classify(seed.linktype, data) == want, (seed.linktype, data.hex())
        seen.add(want)
    assert prefilter.FRAGMENT in seen and prefilter.OTHER in seen


def _random_headers(rng: random.Random) -> tuple[int, bytes]:
    """A frame of random but plausible headers: every branch of the header walk."""
    ports = (67, 68, 5436, 53, 0, 65535)
    port = lambda: (rng.choice(ports) if rng.random() < 0.8 else rng.randrange(65536))  # noqa: E731
    udp = port().to_bytes(2, "big") + port().to_bytes(2, "big") + bytes(4)
    if rng.random() < 0.5:  # IPv4, fragments and odd header lengths included
        ihl = rng.choice((5, 5, 5, 6, 15, 0, 4))
        frag = rng.choice((0, 0, 0, 1, 0x2000, 0x1FFF, 0x0100))
        proto = rng.choice((17, 17, 17, 6, 135, 1))
        ip = bytes([0x40 | ihl, 0, 0, 0, 0, 0, frag >> 8, frag & 0xFF, 64, proto]) + bytes(10)
        ip += bytes(max(0, ihl * 4 - 20)) + udp
        et = 0x0800
    else:  # IPv6 with a chain of extension headers (AH counts in 4-byte units)
        chain = [rng.choice((0, 43, 44, 51, 60)) for _ in range(rng.randrange(4))]
        last = rng.choice((17, 17, 135, 6, 59))
        ip = bytes([0x60, 0, 0, 0, 0, 0, (chain or [last])[0], 64]) + bytes(32)
        for i, nh in enumerate(chain):
            nxt = chain[i + 1] if i + 1 < len(chain) else last
            if nh == 44:
                off = rng.choice((0, 0, 1, 8, 0xFFF8))
                ip += bytes([nxt, 0, off >> 8, off & 0xFF]) + bytes(4)
            elif nh == 51:
                n = rng.randrange(4)
                ip += bytes([nxt, n]) + bytes((n + 2) * 4 - 2)
            else:
                n = rng.randrange(3)
                ip += bytes([nxt, n]) + bytes((n + 1) * 8 - 2)
        ip += udp
        et = 0x86DD
    tags = b"".join(rng.choice((0x8100, 0x88A8, 0x9100)).to_bytes(2, "big") + bytes(2)
                    for _ in range(rng.choice((0, 0, 1, 2, 3))))
    lt = rng.choice((1, 1, 113, 276, 101, 228, 229, 0, 108, 12, 14))
    if lt == 1:
        frame = bytes(12) + tags + et.to_bytes(2, "big")  # each tag: TPID and TCI
    elif lt == 113:
        frame = bytes(14) + et.to_bytes(2, "big")
    elif lt == 276:
        frame = et.to_bytes(2, "big") + bytes(18)
    elif lt in (0, 108):
        frame = bytes(4)
    else:
        frame = b""
    frame += ip
    if rng.random() < 0.3:
        frame = frame[: rng.randrange(len(frame) + 1)]
    return lt, frame


@needs_compiled
def test_classify_agrees_on_random_header_chains():
    rng = random.Random(11)
    cases = [_random_headers(rng) for _ in range(30_000)]
    seen = {prefilter.classify_pure(lt, d) for lt, d in cases}
    assert seen == {prefilter.OTHER, prefilter.MH, prefilter.DHCP, prefilter.FRAGMENT}
    _assert_classify_agrees(cases)


@needs_compiled
def test_classify_takes_any_buffer():
    data = next(d for lt, d in _frames_of_samples() if lt == 1)
    want = prefilter.classify_pure(1, data)
    assert CPRE.classify(1, memoryview(data)) == CPRE.classify(1, bytearray(data)) == want


# -- the record loops ----------------------------------------------------------------------

def _read(data: bytes, pure: bool, how: str, counts: bool = False):
    """Everything a reader says about ``data`` read through ``how``."""
    if how == "file":
        src = io.BufferedReader(io.BytesIO(data))
    elif how == "pipe":  # no seek, short reads: the live path (no read-ahead)
        class Pipe(io.RawIOBase):
            def __init__(self) -> None:
                self.b = io.BytesIO(data)

            def readable(self) -> bool:
                return True

            def readinto(self, b):  # at most 1,000 bytes a read
                chunk = self.b.read(min(len(b), 1000))
                b[: len(chunk)] = chunk
                return len(chunk)
        src = Pipe()
    else:
        src = io.BytesIO(gzip.compress(data, mtime=0))
    try:
        r = open_capture(src, pure=pure)
    except Exception as exc:  # the exception is part of what is compared
        return ("error", type(exc).__name__, str(exc))
    fused = r.prefiltered() if counts else None
    got = list(fused[0] if fused else r)
    tally = None
    if fused:
        c = fused[1]
        tally = (c.frames, c.nbytes, c.ignored, c.fragments, c.first, c.last, c.lo, c.hi)
    elif counts:  # the pure reader: what the counts must be, from the records themselves
        verdicts = [prefilter.classify_pure(x.linktype, x.data) for x in got]
        ts = [x.ts_ns for x in got]
        tally = (len(got), sum(len(x.data) for x in got),
                 sum(v in (prefilter.OTHER, prefilter.FRAGMENT) for v in verdicts),
                 verdicts.count(prefilter.FRAGMENT), ts[0] if ts else None,
                 ts[-1] if ts else None, min(ts, default=None), max(ts, default=None))
        got = [x for x, v in zip(got, verdicts, strict=True)
               if v not in (prefilter.OTHER, prefilter.FRAGMENT)]
    state = (r.problem, r.warnings, r.frames_read, r.skipped_frames, r.interfaces,
             r.sections, r.dropped, r.format)
    r.close()
    return got, state, tally


def _assert_same(data: bytes, hows=("file", "pipe", "gz")) -> None:
    for how in hows:
        for counts in (False, True):
            assert _read(data, False, how, counts) == _read(data, True, how, counts), (
                how, counts)


def _captures() -> list[bytes]:
    """The samples, and the same frames in every writer variant."""
    out = [p.read_bytes() if p.suffix != ".gz" else gzip.decompress(p.read_bytes())
           for p in SAMPLES]
    recs = [Record(i + 1, 1_700_000_000 * 10**9 + i * 1_234_567, lt, d, 0, len(d) + (i % 3))
            for i, (lt, d) in enumerate(_frames_of_samples()[:60]) if lt == 1]
    recs += [Record(len(recs) + 1, 1_700_000_100 * 10**9, 1, b"\x00" * 13, 0, 13)]  # runt
    commented = [Record(r.frame_no, r.ts_ns, r.linktype, r.data, r.frame_no % 2, r.orig_len,
                        "note" if r.frame_no % 4 == 0 else None) for r in recs]
    for big in (False, True):
        for nano in (False, True):
            buf = io.BytesIO()
            write_pcap(buf, recs, nanosecond=nano, big_endian=big)
            out.append(buf.getvalue())
        for tps in (1_000_000, 10**9, 1 << 20, 10):
            buf = io.BytesIO()
            write_pcapng(buf, commented, [Interface(1, 0, tps, "eth0"), (1, "eth1", tps)],
                         comment="section", big_endian=big)
            out.append(buf.getvalue())
    # two sections of different byte orders, one after the other
    out.append(out[-1] + out[-5])
    return out


@needs_compiled
def test_readers_agree_on_samples_and_writer_variants():
    for data in _captures():
        _assert_same(data)


@needs_compiled
def test_readers_agree_on_truncated_and_corrupted_files():
    rng = random.Random(3)
    caps = _captures()
    for data in caps[:3] + caps[-11:]:
        for cut in sorted({*range(0, 120), *rng.sample(range(len(data)), 60), len(data) - 1}):
            _assert_same(data[:cut], hows=("file", "pipe"))
        for _ in range(60):
            buf = bytearray(data)
            for _ in range(rng.choice((1, 2, 4))):
                buf[rng.randrange(min(len(buf), 400))] = rng.choice((0, 1, 0x7F, 0xFF))
            _assert_same(bytes(buf), hows=("file",))


@needs_compiled
def test_readers_agree_on_the_bench_shapes(tmp_path):
    for shape in SHAPES:
        path = tmp_path / f"{shape}.pcap"
        write_pcap(path, records(shape, 4000, seed=4))
        _assert_same(path.read_bytes(), hows=("file",))


# -- scan: the pre-filter in the loop or in scan -------------------------------------------

def _scan(path: Path, compiled: bool, lite: bool) -> tuple[list, Tally]:
    tally = Tally()
    with open_capture(path, pure=not compiled) as r:
        packets = list(scan(r, tally, lite=lite))
    return packets, tally


@needs_compiled
@pytest.mark.parametrize("lite", [False, True])
def test_scan_agrees_on_samples_and_shapes(tmp_path, lite):
    paths = list(SAMPLES)
    for shape in SHAPES:
        path = tmp_path / f"{shape}.pcap"
        write_pcap(path, records(shape, 3000, seed=6))
        paths.append(path)
    for path in paths:
        got, tally = _scan(path, True, lite)
        want, want_tally = _scan(path, False, lite)
        assert got == want, path.name
        assert tally == want_tally, path.name
        assert tally.decoded + tally.ignored + tally.malformed == tally.frames


# -- the modules compiled as they are (speedups.AS_IS) -------------------------------------

_DIGEST = r'''
import hashlib, random, sys
from pathlib import Path
from bench.corpus import LINKTYPES, signaling_frames, unrelated_frames
from bench.fuzz import Mutator, default_seeds
from bench.shapes import SHAPES, records
from dissectors import speedups
from dissectors.frame import decode_frame
from pmipview.packets import Packet, kind_of, status_of
from pmipview.signals import signal_of
from pmipview.sources.capfile import open_capture

groups = {"corpus": [(f[0], f[1]) for f in signaling_frames()]
          + [(f[0], f[1]) for f in unrelated_frames(2000, seed=5, linktypes=LINKTYPES)]}
groups["samples"] = [(r.linktype, r.data) for p in sorted(Path("samples").glob("*.pcap*"))
                     for r in open_capture(p, pure=True)]
groups["shapes"] = [(r.linktype, r.data) for s in SHAPES for r in records(s, 3000, seed=8)]
mutator, rng = Mutator(default_seeds(), 1), random.Random(1)
systematic = mutator.plan(20_000)
groups["fuzz"] = [(s.linktype, d) for s, d in
                  (mutator.case(i, systematic, rng) for i in range(20_000))]
print(speedups.describe())
for name, cases in groups.items():
    h = hashlib.sha256()
    for lt, data in cases:
        for lite in (False, True):
            frame = decode_frame(lt, data, lite)
            p = Packet(7, 1_700_000_000_123_456_789, 1, frame)
            s = signal_of(p) if frame.signaling else None
            info = "" if lite else frame.info()  # a lite frame is only counted, never listed
            h.update(repr((frame, info, kind_of(frame), status_of(frame), s)).encode())
    print(name, len(cases), h.hexdigest())
'''


def _run(args: list[str], pure: bool) -> str:
    env = {**os.environ, "PMIPVIEW_PURE": "1" if pure else "0",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.skipif(not speedups.as_is_compiled(), reason="no module compiled as it is")
def test_as_is_modules_decode_the_same_compiled_and_pure():
    """Every frame of the corpus, samples, shapes and 20,000 fuzz mutants: the same frame,
    info line, kind, status and signal (their reprs hashed), compiled and pure."""
    compiled_out = _run(["-c", _DIGEST], pure=False).splitlines()
    pure_out = _run(["-c", _DIGEST], pure=True).splitlines()
    assert compiled_out[0].startswith("compiled") and "correlator modules" in compiled_out[0]
    assert pure_out[0].startswith("pure")
    assert compiled_out[1:] == pure_out[1:]
    assert [int(line.split()[1]) > 100 for line in pure_out[1:]] == [True] * 4


@pytest.mark.skipif(not speedups.as_is_compiled(), reason="no module compiled as it is")
def test_timeline_and_summary_are_the_same_compiled_and_pure(tmp_path):
    path = tmp_path / "dhcp-noise.pcap"
    write_pcap(path, records("dhcp-noise", 6000, seed=9))
    # the correlator and timeline_json are AS_IS too: text and stats go through them
    for args in (["timeline", "--json"], ["timeline"], ["stats", "--json"],
                 ["dissect", "--summary", "--json"], ["dissect"]):
        for capture in (path, SAMPLES[0], ROOT / "samples" / "tour.pcap"):
            cmd = ["-m", "pmipview", *args, str(capture)]
            assert _run(cmd, pure=False) == _run(cmd, pure=True), (args, capture.name)


def test_an_edited_module_is_not_shadowed_by_its_build(tmp_path):
    """A .py newer than its .so is imported from the .py (speedups' finder)."""
    pkg = tmp_path / "dissectors"
    pkg.mkdir()
    (pkg / "frame.py").write_text("WHERE = 'source'\n")
    built = pkg / ("frame" + __import__("importlib.machinery").machinery.EXTENSION_SUFFIXES[0])
    built.write_bytes(b"not a real build")
    old = os.path.getmtime(pkg / "frame.py") - 60
    os.utime(built, (old, old))
    finder = next(f for f in sys.meta_path if type(f).__name__ == "_SourceWhenPure")
    spec = finder.find_spec("dissectors.frame", [str(pkg)])
    assert spec is not None and spec.origin == str(pkg / "frame.py")
    os.utime(built, (old + 120, old + 120))  # a fresh build: left to the default finder
    assert (finder.find_spec("dissectors.frame", [str(pkg)]) is None) != speedups.PURE
