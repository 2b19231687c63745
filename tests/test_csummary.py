"""The compiled counting path of ``dissect --summary`` (dissectors/_csummary.pyx) against
the full decoder: every frame it counts, ``decode_frame(lite=True)`` decodes cleanly
(signaling, no malformation, no warning) with the same kind and status as the key it was
counted under; and ``count_frames`` gives the tally of ``scan(lite=True)``.

Cases: every sample, the corpus (both MH transports, VLAN/QinQ, IPv4 options, IPv6
extension chains, DHCP relayed and not, overload...), the four shapes, every truncation,
the fuzz mutants with and without their checksums made right again (so that the mutated
options and lengths reach the C checks instead of stopping at a bad checksum), random
header chains, and frames built to be handed on (bad checksums, fragments...).
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from bench.corpus import LINKTYPES, signaling_frames, unrelated_frames
from bench.fuzz import Mutator, default_seeds
from bench.shapes import SHAPES, records
from dissectors import speedups
from dissectors.checksum import inet_checksum
from dissectors.count_keys import key_frame, option_length_ok
from dissectors.frame import decode_frame
from dissectors.mh_options import OPTION_CLASSES, LMAAddress
from pmipview.packets import Tally, count_frames, kind_of, scan, status_key
from pmipview.sources.capfile import open_capture, write_pcap
from tests.test_speedups import SAMPLES, _frames_of_samples, _random_headers

CSUM = speedups.compiled("dissectors._csummary")
CREADER = speedups.compiled("pmipview.sources._creader")
needs_compiled = pytest.mark.skipif(
    CSUM is None or CREADER is None,
    reason="compiled hot path not built (no C compiler at install, or PMIPVIEW_PURE=1)")


def _check(cases) -> tuple[int, int]:
    """Every case ``take`` counts agrees with the full decoder; (taken, handed on)."""
    summary = CSUM.Summary()
    taken = 0
    for lt, data in cases:
        key = summary.classify(lt, data)
        if key is None:
            continue
        taken += 1
        frame = decode_frame(lt, data, lite=True)
        assert frame.malformed is None, (lt, data.hex(), frame.malformed)
        assert frame.signaling, (lt, data.hex())
        assert not frame.warnings, (lt, data.hex(), frame.warnings)
        want = key_frame(key)
        assert kind_of(frame) == kind_of(want), (lt, data.hex())
        assert status_key(frame) == status_key(want), (lt, data.hex())
    assert summary.decoded == taken
    return taken, summary.handed_on


def _fix_checksums(lt: int, data: bytes) -> bytes:
    """``data`` with its IPv4 header, UDP and (over IPv6) MH checksums computed again."""
    frame = decode_frame(lt, data)
    where = dict(frame.offsets)
    buf = bytearray(data)
    ip = frame.ip
    if ip is None:
        return data
    if "ipv4" in where:
        o = where["ipv4"]
        ihl = (buf[o] & 0x0F) * 4
        if ihl >= 20 and o + ihl <= len(buf):
            buf[o + 10:o + 12] = b"\0\0"
            buf[o + 10:o + 12] = struct.pack("!H", inet_checksum(bytes(buf[o:o + ihl])))
    pseudo = ip.src.packed + ip.dst.packed
    if "udp" in where and frame.udp is not None:
        o, n = where["udp"], frame.udp.length
        if n >= 8 and o + n <= len(buf) and struct.unpack_from("!H", buf, o + 6)[0]:
            buf[o + 6:o + 8] = b"\0\0"
            seg = bytes(buf[o:o + n])
            csum = inet_checksum(pseudo + struct.pack("!HH", 17, n), seg + b"\0" * (n % 2))
            buf[o + 6:o + 8] = struct.pack("!H", csum or 0xFFFF)
    elif "mh" in where and ip.version == 6:
        o = where["mh"]
        if o + 6 <= len(buf):
            total = (buf[o + 1] + 1) * 8
            if o + total <= len(buf):
                buf[o + 4:o + 6] = b"\0\0"
                csum = inet_checksum(pseudo + struct.pack("!I3xB", total, 135),
                                     bytes(buf[o:o + total]))
                buf[o + 4:o + 6] = struct.pack("!H", csum)
    return bytes(buf)


def _corpus() -> list[tuple[int, bytes]]:
    return [(f[0], f[1]) for f in signaling_frames()]


@needs_compiled
def test_take_agrees_on_corpus_samples_and_shapes():
    corpus = _corpus()
    taken, _ = _check(corpus)
    assert taken >= 0.9 * len(corpus)  # the clean corpus frames are counted in C
    taken, _ = _check(_frames_of_samples())
    assert taken > 100
    for shape in SHAPES:
        shape_cases = [(r.linktype, r.data) for r in records(shape, 3000, seed=2)]
        signaling = sum(decode_frame(lt, d).signaling for lt, d in shape_cases)
        taken, _ = _check(shape_cases)
        assert taken == signaling, shape  # every signaling frame of the shapes, in C
    _check([(f[0], f[1]) for f in unrelated_frames(3000, seed=5, linktypes=LINKTYPES)])


@needs_compiled
def test_take_agrees_on_truncations_and_link_types():
    cases = _corpus() + _frames_of_samples()[:100]
    trunc = [(lt, data[:i]) for lt, data in cases for i in range(len(data))]
    _, handed = _check(trunc)
    assert handed > 10_000
    relabel = [(other, data) for _, data in cases
               for other in (0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147, -1)]
    _check(relabel)


@needs_compiled
def test_take_agrees_on_the_fuzz_corpus():
    mutator = Mutator(default_seeds(), 1)
    rng = random.Random(1)
    n = 20_000
    systematic = mutator.plan(n)
    raw, fixed = [], []
    for i in range(n):
        seed, data = mutator.case(i, systematic, rng)
        raw.append((seed.linktype, data))
        fixed.append((seed.linktype, _fix_checksums(seed.linktype, data)))
    _check(raw)
    taken, handed = _check(fixed)
    assert taken > 2_000 and handed > 2_000  # both verdicts are exercised


@needs_compiled
def test_take_agrees_on_random_header_chains():
    rng = random.Random(11)
    cases = [_random_headers(rng) for _ in range(30_000)]
    _check(cases + [(lt, _fix_checksums(lt, d)) for lt, d in cases[:5_000]])


@needs_compiled
def test_doubtful_frames_are_handed_on():
    """A bad checksum, a snapped length, a fragment, a flagged option: the full decoder's."""
    summary = CSUM.Summary()
    corpus = _corpus()
    for lt, data in corpus:
        if summary.classify(lt, data) is None:
            continue
        frame = decode_frame(lt, data)
        where = dict(frame.offsets)
        layer = "mh" if frame.mh is not None else "dhcp"
        o = where[layer]
        bad = bytearray(data)
        bad[o + 7] ^= 0x01  # a byte of the message: checksum no longer right
        if frame.ip.version == 6 or (frame.udp is not None and frame.udp.checksum):
            assert summary.classify(lt, bytes(bad)) is None, data.hex()
            assert decode_frame(lt, bytes(bad)).warnings
        assert summary.classify(lt, data[:-1]) is None  # snapped (no padding here): a warning


def test_option_lengths_follow_the_option_classes():
    """The probe table the C path asks: the decoder's own verdicts, per class."""
    for otype, cls in OPTION_CLASSES.items():
        ok = [n for n in range(256) if option_length_ok(otype, n)]
        if cls is LMAAddress:  # clean or not by its first byte: always handed on
            assert not ok
            continue
        assert ok, cls.__name__  # every other option class takes some length
        for n in ok:
            cls.from_data(bytes(n))
            cls.from_data(bytes([0xFF]) * n)
    assert option_length_ok(200, 7)  # a type the decoder keeps raw: any length


def _tally(path: Path, how: str) -> Tally:
    tally = Tally()
    with open_capture(path, pure=how == "pure") as r:
        if how == "scan":
            for _ in scan(r, tally, lite=True):
                pass
        else:
            count_frames(r, tally)
    return tally


@needs_compiled
def test_count_frames_gives_the_tally_of_scan(tmp_path):
    paths = list(SAMPLES)
    for shape in SHAPES:
        path = tmp_path / f"{shape}.pcap"
        write_pcap(path, records(shape, 3000, seed=6))
        paths.append(path)
    mutator = Mutator(default_seeds(), 2)
    rng = random.Random(2)
    fuzz = []
    from pmipview.sources.records import Record

    for i in range(3000):
        seed, data = mutator.case(i, mutator.plan(3000), rng)
        if seed.linktype == 1:
            fuzz.append(Record(i + 1, i * 1000, 1, _fix_checksums(1, data)))
    write_pcap(tmp_path / "fuzz.pcap", fuzz)
    paths.append(tmp_path / "fuzz.pcap")
    for path in paths:
        want = _tally(path, "scan")
        assert _tally(path, "compiled") == want, path.name
        assert _tally(path, "pure") == want, path.name
        assert want.decoded + want.ignored + want.malformed == want.frames


def _option_variants() -> list[tuple[int, bytes]]:
    """A PBU and a DHCP DISCOVER with one more option of every code, at lengths and
    values on both sides of each decoder rule (option 82 with odd sub-options, the MH
    over both transports, a Payload Proto other than 59, reserved DHCP flags, long hlen)."""
    from dataclasses import replace

    from bench.corpus import LMA4, LMA6, MAG4, MAG6, dhcp_messages, mobility_messages
    from dissectors.dhcp_options import DhcpRawOption
    from dissectors.frame import build_frame
    from dissectors.ip import IPv4, IPv6, IPv6ExtHeader
    from dissectors.mh_options import UnknownOption

    values = (b"", b"\x00", b"\x10", b"\x00\x10", b"\x00\x44", b"\x02\x40", b"\xff\xff",
              b"\x00\x00\x0e\x10", bytes(5), b"\x01" + bytes(17), bytes(18), b"\x02" + bytes(5))
    out: list[tuple[int, bytes]] = []
    pbu = mobility_messages()[0]
    for otype in range(2, 256):
        for v in values:
            m = replace(pbu, options=(*pbu.options, UnknownOption(otype, v)))
            out.append((1, build_frame(1, MAG6, LMA6, m)))
            out.append((1, build_frame(1, MAG4, LMA4, m)))
    out.append((1, build_frame(1, MAG6, LMA6, replace(pbu, proto=6))))
    # first fragments (offset 0, more to come): never decoded, so never counted in C
    first = IPv6ExtHeader(44, bytes([0, 0, 1, 0, 0, 0, 1]))
    out.append((1, build_frame(1, MAG6, LMA6, pbu, ip=IPv6(MAG6, LMA6, 135,
                                                           ext_headers=(first,)))))
    out.append((1, build_frame(1, MAG4, LMA4, pbu, ip=IPv4(MAG4, LMA4, 17, flags=1))))
    discover, src, dst, _, _ = dhcp_messages()[0]
    subs = (b"\x01\x03abc", b"\x05\x04\x0a\x00\x00\x00", b"\x05\x03\x0a\x00\x00",
            b"\x0b\x04\x01\x02\x03\x04", b"\x0b\x05" + bytes(5), b"\x01", b"\x01\x05ab",
            b"\x63\x00")
    for code in range(1, 255):
        for v in values + subs:
            m = replace(discover, options=(*discover.options, DhcpRawOption(code, v)))
            out.append((1, build_frame(1, src, dst, m)))
    frame = build_frame(1, src, dst, discover)
    o = dict(decode_frame(1, frame).offsets)["dhcp"]
    for at, byte in ((o + 10, 0x81), (o + 11, 0x01), (o + 2, 17), (o + 2, 16)):
        bad = bytearray(frame)
        bad[at] = byte
        out.append((1, _fix_checksums(1, bytes(bad))))
    return out


@needs_compiled
def test_take_agrees_on_every_option_code_length_and_value():
    cases = _option_variants()
    taken, handed = _check(cases)
    assert taken > 5_000 and handed > 500
    assert all(CSUM.Summary().classify(lt, d) is None for lt, d in cases
               if decode_frame(lt, d).fragment)
    assert sum(decode_frame(lt, d).fragment for lt, d in cases) == 2


def _cli(args: list[str], lane: bool) -> tuple[int, str, str]:
    import subprocess
    import sys

    code = ("import sys; sys.argv = ['pmipview', *sys.argv[1:]]; "
            + ("from pmipview.quick import main" if lane else "from pmipview.cli import main")
            + "; main()")
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def test_the_quick_lane_prints_what_dissect_prints(tmp_path):
    from pmipview.quick import _quick_file

    shape = tmp_path / "mh-sig.pcap"
    write_pcap(shape, records("mh-sig", 2000, seed=3))
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(shape.read_bytes()[:-7])  # reading stops early: the full command line
    for path in (*SAMPLES[:4], shape, cut):
        for args in (["dissect", "--summary", "--json", str(path)],
                     ["dissect", "--json", str(path), "--summary"]):
            assert _cli(args, lane=True) == _cli(args, lane=False), path.name
    assert _quick_file(["dissect", "--json", "--summary", str(shape)]) == str(shape)
    for other in (["dissect", "--summary", str(shape)], ["dissect", "--summary", "--json"],
                  ["dissect", "--summary", "--json", "--all", str(shape)],
                  ["timeline", "--summary", "--json", str(shape)],
                  ["dissect", "--summary", "--json", str(tmp_path / "missing.pcap")]):
        assert _quick_file(other) is None, other
