"""Tests of the native pcap / pcapng reader and writer, with tshark as the oracle."""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import shutil
import struct
import subprocess
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.link import LinkType
from pmipview.sources.capfile import (
    CaptureReader,
    Interface,
    open_capture,
    write_pcap,
    write_pcapng,
)
from pmipview.sources.records import CaptureError, ReadProblem, Record, _RecordBuilder

T0 = 1_700_000_000 * 10**9  # 2023-11-14, in ns


def frame(n: int, size: int = 60) -> bytes:
    """A deterministic, recognisable frame payload."""
    return bytes((n + i) & 0xFF for i in range(size))


def recs(n: int, linktype: int = LinkType.ETHERNET, step_ns: int = 1_234_567_000) -> list[Record]:
    return [
        Record(i + 1, T0 + i * step_ns, linktype, frame(i, 40 + 13 * i % 90), 0, 40 + 13 * i % 90)
        for i in range(n)
    ]


def read_all(path: Path | str | io.BytesIO) -> tuple[list[Record], CaptureReader]:
    with open_capture(path) as r:
        out = list(r)
    return out, r


# -- hand-made pcapng blocks, independent of the writer -------------------------------------


def opt(bo: str, code: int, value: bytes) -> bytes:
    return struct.pack(bo + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def endopt(bo: str) -> bytes:
    return struct.pack(bo + "HH", 0, 0)


def blk(bo: str, btype: int, body: bytes, blen: int | None = None, trailer: int | None = None):
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return (
        struct.pack(bo + "II", btype, n if blen is None else blen)
        + body
        + struct.pack(bo + "I", n if trailer is None else trailer)
    )


def shb(bo: str, *opts: bytes) -> bytes:
    o = b"".join(opts) + (endopt(bo) if opts else b"")
    return blk(bo, 0x0A0D0D0A, struct.pack(bo + "IHHq", 0x1A2B3C4D, 1, 0, -1) + o)


def idb(bo: str, linktype: int, snaplen: int = 0, *opts: bytes) -> bytes:
    o = b"".join(opts) + (endopt(bo) if opts else b"")
    return blk(bo, 1, struct.pack(bo + "HHI", linktype, 0, snaplen) + o)


def epb(bo: str, ifid: int, ticks: int, data: bytes, *opts: bytes, orig: int | None = None):
    o = b"".join(opts) + (endopt(bo) if opts else b"")
    head = struct.pack(
        bo + "IIIII", ifid, ticks >> 32, ticks & 0xFFFFFFFF, len(data), orig or len(data)
    )
    return blk(bo, 6, head + data + b"\0" * (-len(data) % 4) + o)


def spb(bo: str, data: bytes, orig: int | None = None) -> bytes:
    return blk(bo, 3, struct.pack(bo + "I", orig or len(data)) + data)


def opb(bo: str, ifid: int, ticks: int, data: bytes, *opts: bytes) -> bytes:
    o = b"".join(opts) + (endopt(bo) if opts else b"")
    head = struct.pack(
        bo + "HHIIII", ifid, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)
    )
    return blk(bo, 2, head + data + b"\0" * (-len(data) % 4) + o)


def pcap_header(bo: str, magic: int = 0xA1B2C3D4, snaplen: int = 262144, lt: int = 1) -> bytes:
    return struct.pack(bo + "IHHiIII", magic, 2, 4, 0, 0, snaplen, lt)


def pcap_rec(bo: str, sec: int, frac: int, data: bytes, caplen: int | None = None) -> bytes:
    n = len(data) if caplen is None else caplen
    return struct.pack(bo + "IIII", sec, frac, n, len(data)) + data


# -- tshark oracle ---------------------------------------------------------------------------


@pytest.fixture
def tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tshark is required when CI=true (it is the cross-check oracle)")
        pytest.skip("tshark not installed: cross-check against Wireshark skipped")
    return path


def tshark_rows(tshark: str, path: Path, *fields: str) -> list[list[str]]:
    args = [tshark, "-r", str(path), "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    return [line.split("\t") for line in out.stdout.splitlines()]


def epoch_ns(text: str) -> int:
    return int(Decimal(text) * 10**9)


def assert_matches_tshark(
    tshark: str, path: Path, got: list[Record], *, interface_ids: bool = True
) -> None:
    """Frame numbers, times, lengths and (unless told not to) interface ids agree."""
    rows = tshark_rows(
        tshark, path, "frame.number", "frame.time_epoch", "frame.len", "frame.cap_len",
        "frame.interface_id",
    )  # fmt: skip
    assert len(rows) == len(got)
    for row, rec in zip(rows, got, strict=True):
        number, epoch, wire_len, cap_len, ifid = row
        assert int(number) == rec.frame_no
        if epoch:  # empty for a simple packet block (no timestamp)
            assert epoch_ns(epoch) == rec.ts_ns
        assert int(wire_len) == rec.orig_len
        assert int(cap_len) == len(rec.data)
        if interface_ids:
            assert int(ifid or 0) == rec.interface


# -- the record type ---------------------------------------------------------------------------


def test_record_is_frozen_and_has_float_seconds() -> None:
    r = Record(1, 1_500_000_000, LinkType.RAW, b"\x45")
    assert r.ts == 1.5
    assert (r.interface, r.orig_len, r.comment) == (0, 0, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.ts_ns = 0  # type: ignore[misc]


def test_fast_builder_makes_genuine_records() -> None:
    assert _RecordBuilder.__slots__ == tuple(f.name for f in dataclasses.fields(Record))
    b = _RecordBuilder(3, 7, 1, b"ab", 1, 9, "c")
    b.__class__ = Record
    assert type(b) is Record
    assert b == Record(3, 7, 1, b"ab", 1, 9, "c")
    assert hash(b) == hash(Record(3, 7, 1, b"ab", 1, 9, "c"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.frame_no = 4  # type: ignore[misc]


def test_problem_and_error_are_one_line() -> None:
    p = ReadProblem(40, "truncated record at offset 40: need 76 bytes, have 20", 2)
    assert str(p) == p.reason and "\n" not in str(p)
    e = CaptureError("no such file: x.pcap", "x.pcap")
    assert str(e) == "no such file: x.pcap" and e.path == "x.pcap"


# -- pcap ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("nanosecond", [False, True])
@pytest.mark.parametrize("big_endian", [False, True])
def test_pcap_round_trip(tmp_path: Path, nanosecond: bool, big_endian: bool) -> None:
    src = recs(20)
    if not nanosecond:  # µs files keep µs only
        src = [dataclasses.replace(r, ts_ns=r.ts_ns // 1000 * 1000) for r in src]
    src[3] = dataclasses.replace(src[3], ts_ns=src[3].ts_ns + (0 if not nanosecond else 789))
    path = tmp_path / "a.pcap"
    assert write_pcap(path, src, LinkType.ETHERNET, nanosecond, big_endian=big_endian) == 20
    got, r = read_all(path)
    assert got == src
    assert r.format == ("pcap-ns" if nanosecond else "pcap")
    assert r.byte_order == ("big" if big_endian else "little")
    assert r.problem is None and r.warnings == []
    assert r.frames_read == 20 and r.linktype == 1 and r.snaplen == 262144
    assert r.interfaces == [Interface(1, 262144, 10**9 if nanosecond else 10**6, None)]
    assert r.bytes_read == r.size == path.stat().st_size


def test_pcap_handmade_big_endian_ns(tmp_path: Path) -> None:
    path = tmp_path / "be.pcap"
    body = pcap_rec(">", 1_700_000_000, 999_999_999, b"\x60" + bytes(39))
    body += pcap_rec(">", 1_700_000_001, 5, b"\x45" + bytes(19))
    path.write_bytes(pcap_header(">", 0xA1B23C4D, 65535, LinkType.RAW) + body)
    got, r = read_all(path)
    assert r.format == "pcap-ns" and r.byte_order == "big" and r.problem is None
    assert [(x.frame_no, x.ts_ns, x.linktype, len(x.data)) for x in got] == [
        (1, 1_700_000_000_999_999_999, 101, 40),
        (2, 1_700_000_001_000_000_005, 101, 20),
    ]


def test_pcap_handmade_little_endian_us(tmp_path: Path) -> None:
    path = tmp_path / "le.pcap"
    path.write_bytes(pcap_header("<") + pcap_rec("<", 10, 999_999, frame(1)))
    (r,), reader = read_all(path)
    assert r == Record(1, 10_999_999_000, 1, frame(1), 0, 60)
    assert reader.format == "pcap"


@pytest.mark.parametrize("snaplen", [0, 0xFFFFFFFF])
def test_absurd_snaplen_warns_and_reads_on(tmp_path: Path, snaplen: int) -> None:
    path = tmp_path / "snap.pcap"
    path.write_bytes(
        pcap_header("<", snaplen=snaplen)
        + b"".join(pcap_rec("<", 1, i, frame(i)) for i in range(3))
    )
    got, r = read_all(path)
    assert len(got) == 3 and r.problem is None
    assert r.warnings == [f"absurd snaplen {snaplen} in the pcap file header; ignored"]


def test_pcap_record_longer_than_small_snaplen_is_still_read(tmp_path: Path) -> None:
    # tools write snaplen 65535 with bigger (offloaded) packets; Wireshark reads them
    path = tmp_path / "big.pcap"
    path.write_bytes(pcap_header("<", snaplen=1500) + pcap_rec("<", 1, 0, bytes(9000)))
    got, r = read_all(path)
    assert len(got) == 1 and r.problem is None


def test_pcap_corrupt_caplen_stops_with_problem(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.pcap"
    good = pcap_rec("<", 1, 0, frame(0))
    bad = struct.pack("<IIII", 1, 0, 0x7FFFFFFF, 60) + frame(1)
    path.write_bytes(pcap_header("<") + good + bad + good)
    got, r = read_all(path)
    assert len(got) == 1
    assert r.problem is not None
    assert r.problem.offset == 24 + len(good) and r.problem.frame_no == 2
    assert "corrupt record" in r.problem.reason and str(2**31 - 1) in r.problem.reason


@pytest.mark.parametrize("cut", [1, 15, 16, 17, 75])
def test_pcap_truncated_mid_record(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.pcap"
    records = b"".join(pcap_rec("<", 1, i, frame(i)) for i in range(5))  # 76 bytes each
    start_of_4th = 24 + 3 * 76
    path.write_bytes((pcap_header("<") + records)[: start_of_4th + cut])
    got, r = read_all(path)
    assert [x.frame_no for x in got] == [1, 2, 3]
    assert r.problem is not None
    assert r.problem.offset == start_of_4th and r.problem.frame_no == 4
    assert r.problem.reason.startswith(
        f"truncated record header at offset {start_of_4th}"
        if cut < 16
        else f"truncated record at offset {start_of_4th}: need 76 bytes, have {cut}"
    )


def test_pcap_header_only_is_an_empty_capture(tmp_path: Path) -> None:
    path = tmp_path / "hdr.pcap"
    path.write_bytes(pcap_header("<"))
    got, r = read_all(path)
    assert got == [] and r.problem is None and r.frames_read == 0


def test_pcap_truncated_file_header(tmp_path: Path) -> None:
    path = tmp_path / "short.pcap"
    path.write_bytes(pcap_header("<")[:10])
    with pytest.raises(CaptureError, match=r"truncated pcap file header \(10 of 24 bytes\)"):
        open_capture(path)


# -- pcapng --------------------------------------------------------------------------------------


def two_interface_records() -> list[Record]:
    out = []
    for i in range(12):
        iface = i % 2
        ts = T0 + i * 1_000_123_457
        if iface == 0:  # µs interface
            ts = ts // 1000 * 1000
        comment = "first\u00e9 comment" if i == 3 else ("two\nlines" if i == 8 else None)
        size = 50 + 7 * i
        out.append(
            Record(
                i + 1,
                ts,
                (LinkType.ETHERNET, LinkType.LINUX_SLL)[iface],
                frame(i, size),
                iface,
                size + (i % 3),
                comment,
            )
        )
    return out


TWO_IFACES = [(LinkType.ETHERNET, "eth0"), (LinkType.LINUX_SLL, "any", 10**9)]


@pytest.mark.parametrize("big_endian", [False, True])
def test_pcapng_two_interfaces_round_trip(tmp_path: Path, big_endian: bool) -> None:
    src = two_interface_records()
    path = tmp_path / "two.pcapng"
    n = write_pcapng(path, src, TWO_IFACES, comment="section note", big_endian=big_endian)
    assert n == len(src)
    got, r = read_all(path)
    assert got == src
    assert r.format == "pcapng" and r.byte_order == ("big" if big_endian else "little")
    assert r.interfaces == [Interface(1, 0, 10**6, "eth0"), Interface(113, 0, 10**9, "any")]
    assert r.section_comments == ["section note"]
    assert r.sections[0].application == "pmipview"
    assert r.problem is None and r.warnings == []


def test_pcapng_default_interface_from_first_record(tmp_path: Path) -> None:
    path = tmp_path / "d.pcapng"
    write_pcapng(path, recs(3, LinkType.RAW, 1000))
    got, r = read_all(path)
    assert got == recs(3, LinkType.RAW, 1000)
    assert r.interfaces == [Interface(LinkType.RAW, 0, 10**6, None)]


@pytest.mark.parametrize(
    ("tsresol", "ticks", "expected_ns"),
    [
        (None, 1_700_000_000_123_456, 1_700_000_000_123_456_000),  # default µs
        (3, 1_700_000_000_123, 1_700_000_000_123_000_000),  # ms
        (9, 1_700_000_000_123_456_789, 1_700_000_000_123_456_789),  # ns
        (12, 10_000_000_123_456_789_012, 10_000_000_123_456_789),  # ps, floored
        (0x80 | 20, 1_700_000_000 << 20 | 1 << 19, 1_700_000_000_500_000_000),  # 2^-20 s
    ],
)
def test_if_tsresol(tsresol: int | None, ticks: int, expected_ns: int) -> None:
    opts = [opt("<", 9, bytes([tsresol]))] if tsresol is not None else []
    data = shb("<") + idb("<", 1, 0, *opts) + epb("<", 0, ticks, frame(0))
    got, r = read_all(io.BytesIO(data))
    assert [x.ts_ns for x in got] == [expected_ns]
    expected_tps = 10**6 if tsresol is None else (
        1 << (tsresol & 0x7F) if tsresol & 0x80 else 10**tsresol
    )  # fmt: skip
    assert r.interfaces[0].ts_resolution == expected_tps


def test_if_tsoffset_and_name() -> None:
    data = (
        shb("<")
        + idb("<", 1, 1514, opt("<", 2, b"eth1"), opt("<", 14, struct.pack("<q", 1_000_000_000)))
        + epb("<", 0, 5_000_000, frame(0))
    )
    (rec,), r = read_all(io.BytesIO(data))
    assert rec.ts_ns == 1_000_000_005 * 10**9
    assert r.interfaces == [Interface(1, 1514, 10**6, "eth1")]


def test_epb_options_without_comment_and_with_two_comments() -> None:
    data = (
        shb("<")
        + idb("<", 1)
        + epb("<", 0, 1, frame(0), opt("<", 2, struct.pack("<I", 1)))  # epb_flags only
        + epb("<", 0, 2, frame(1), opt("<", 1, b"one"), opt("<", 1, b"two\0"))
    )
    got, r = read_all(io.BytesIO(data))
    assert [x.comment for x in got] == [None, "one\ntwo"]
    assert r.warnings == []


def test_malformed_option_is_a_warning_not_a_stop() -> None:
    bad = struct.pack("<HH", 1, 200) + b"abcd"  # option longer than the block
    data = shb("<") + idb("<", 1) + epb("<", 0, 1, frame(0), bad) + epb("<", 0, 2, frame(1))
    got, r = read_all(io.BytesIO(data))
    assert len(got) == 2 and got[0].comment is None and r.problem is None
    assert r.warnings == ["malformed options in the block at offset 48; ignored the rest"]


def test_spb_takes_previous_timestamp_and_snaplen(tmp_path: Path) -> None:
    data = (
        shb("<")
        + idb("<", 1, 64)
        + spb("<", frame(9, 40))  # first frame: no previous time -> 0
        + epb("<", 0, 1_700_000_000_000_001, frame(0))
        + spb("<", frame(1, 64), orig=1500)  # truncated to the snaplen 64
        + epb("<", 0, 1_700_000_000_000_002, frame(2))
    )
    path = tmp_path / "spb.pcapng"
    path.write_bytes(data)
    got, r = read_all(path)
    assert [(x.frame_no, x.ts_ns, len(x.data), x.orig_len) for x in got] == [
        (1, 0, 40, 40),
        (2, 1_700_000_000_000_001_000, 60, 60),
        (3, 1_700_000_000_000_001_000, 64, 1500),
        (4, 1_700_000_000_000_002_000, 60, 60),
    ]
    assert got[2].data == frame(1, 64)
    assert len(r.warnings) == 1 and "no timestamp" in r.warnings[0]


def test_spb_before_any_interface_is_a_problem() -> None:
    data = shb("<") + spb("<", frame(0))
    got, r = read_all(io.BytesIO(data))
    assert got == [] and r.problem is not None
    assert r.problem.offset == 28 and "interface 0 is not defined" in r.problem.reason


def test_obsolete_packet_block(tmp_path: Path) -> None:
    data = (
        shb("<")
        + idb("<", 1)
        + idb("<", 113, 0, opt("<", 9, b"\x09"))
        + opb("<", 1, 1_700_000_000_123_456_789, frame(0, 33), opt("<", 1, b"old"))
        + opb("<", 0, 1_700_000_000_123_456, frame(1))
    )
    path = tmp_path / "opb.pcapng"
    path.write_bytes(data)
    got, r = read_all(path)
    assert got == [
        Record(1, 1_700_000_000_123_456_789, 113, frame(0, 33), 1, 33, "old"),
        Record(2, 1_700_000_000_123_456_000, 1, frame(1), 0, 60, None),
    ]
    assert r.problem is None


def test_unknown_and_nonpacket_blocks() -> None:
    data = (
        shb("<")
        + blk("<", 4, struct.pack("<HH", 0, 0))  # name resolution: skipped silently
        + idb("<", 1)
        + epb("<", 0, 1, frame(0))
        + blk("<", 0x12345, b"unknown!")  # unknown: skipped
        + blk("<", 5, bytes(12))  # interface statistics: skipped
        + blk("<", 9, b"MESSAGE=hi\n")  # systemd journal: a Wireshark frame, not yielded
        + epb("<", 0, 2, frame(1))
    )
    got, r = read_all(io.BytesIO(data))
    assert [x.frame_no for x in got] == [1, 3]
    assert r.skipped_frames == 1 and r.frames_read == 3 and r.problem is None


def test_several_sections_reset_interfaces(tmp_path: Path) -> None:
    a = tmp_path / "a.pcapng"
    b = tmp_path / "b.pcapng"
    write_pcapng(a, recs(3), [(1, "eth0")], comment="first")
    second = [dataclasses.replace(r, linktype=113, interface=1) for r in recs(2)]
    # the second section is big-endian and has two interfaces; its interface 1 is SLL
    write_pcapng(b, second, [(1, "x"), (113, "any")], comment="second", big_endian=True)
    both = tmp_path / "both.pcapng"
    both.write_bytes(a.read_bytes() + b.read_bytes())
    got, r = read_all(both)
    assert [(x.frame_no, x.linktype, x.interface) for x in got] == [
        (1, 1, 0), (2, 1, 0), (3, 1, 0), (4, 113, 2), (5, 113, 2),
    ]  # fmt: skip
    assert [i.name for i in r.interfaces] == ["eth0", "x", "any"]
    assert [(s.byte_order, s.first_interface) for s in r.sections] == [("little", 0), ("big", 1)]
    assert r.section_comments == ["first", "second"]
    assert r.byte_order == "little"  # of the first section


def test_interface_of_earlier_section_is_not_visible() -> None:
    data = shb("<") + idb("<", 1) + idb("<", 1) + shb("<") + idb("<", 1) + epb("<", 1, 0, frame(0))
    got, r = read_all(io.BytesIO(data))
    assert got == [] and r.problem is not None
    assert "interface 1 is not defined (section has 1 interface)" in r.problem.reason


@pytest.mark.parametrize(
    ("blen", "trailer", "reason"),
    [
        (90, None, "bad block length 90"),  # not a multiple of 4
        (8, None, "bad block length 8"),  # shorter than the minimum
        (None, 96, "trailing block length 96 differs from leading 92"),
        (1 << 30, None, f"bad block length {1 << 30}"),
    ],
)
def test_bad_block_length_stops_cleanly(blen: int | None, trailer: int | None, reason: str):
    head = shb("<") + idb("<", 1) + epb("<", 0, 1, frame(0))
    bad_epb = blk(
        "<", 6, struct.pack("<IIIII", 0, 0, 2, 60, 60) + frame(1), blen=blen, trailer=trailer
    )
    data = head + bad_epb + epb("<", 0, 3, frame(2))
    got, r = read_all(io.BytesIO(data))
    assert [x.frame_no for x in got] == [1]
    assert r.problem is not None
    assert r.problem.offset == len(head) and r.problem.frame_no == 2
    assert r.problem.reason == f"corrupt enhanced packet block at offset {len(head)}: {reason}"


def test_bad_length_of_unknown_block() -> None:
    head = shb("<") + idb("<", 1)
    data = head + blk("<", 0x999, b"abcd", trailer=4) + epb("<", 0, 3, frame(2))
    got, r = read_all(io.BytesIO(data))
    assert got == [] and r.problem is not None and r.problem.offset == len(head)
    assert "block of type 0x00000999" in r.problem.reason and r.problem.frame_no is None


def test_epb_caplen_beyond_block() -> None:
    head = shb("<") + idb("<", 1)
    body = struct.pack("<IIIII", 0, 0, 2, 500, 500) + frame(1)
    got, r = read_all(io.BytesIO(head + blk("<", 6, body)))
    assert got == [] and r.problem is not None
    assert "captured length 500 exceeds the block length 92" in r.problem.reason


@pytest.mark.parametrize("cut", [3, 8, 30, 91])
def test_pcapng_truncated_mid_block(tmp_path: Path, cut: int) -> None:
    head = shb("<") + idb("<", 1) + epb("<", 0, 1, frame(0)) + epb("<", 0, 2, frame(1))
    path = tmp_path / "cut.pcapng"
    path.write_bytes(head + epb("<", 0, 3, frame(2))[:cut])
    got, r = read_all(path)
    assert [x.frame_no for x in got] == [1, 2]
    assert r.problem is not None and r.problem.offset == len(head)
    if cut < 8:
        assert r.problem.reason == (
            f"truncated block header at offset {len(head)}: need 8 bytes, have {cut}"
        )
    else:
        assert r.problem.reason == (
            f"truncated enhanced packet block at offset {len(head)}: need 92 bytes, have {cut}"
        )
        assert r.problem.frame_no == 3


def test_bad_section_header() -> None:
    bad = bytearray(shb("<"))
    bad[8:12] = b"\x11\x22\x33\x44"
    with pytest.raises(CaptureError, match="bad byte-order magic 0x11223344"):
        open_capture(io.BytesIO(bytes(bad)))
    v2 = shb("<").replace(struct.pack("<HH", 1, 0), struct.pack("<HH", 2, 0), 1)
    with pytest.raises(CaptureError, match=r"unsupported pcapng version 2\.0"):
        open_capture(io.BytesIO(v2))


def test_bad_second_section_is_a_problem() -> None:
    bad = bytearray(shb("<"))
    bad[-4:] = struct.pack("<I", 4)
    head = shb("<") + idb("<", 1) + epb("<", 0, 1, frame(0))
    got, r = read_all(io.BytesIO(head + bytes(bad)))
    assert len(got) == 1 and r.problem is not None and r.problem.offset == len(head)
    assert "trailing block length 4 differs from leading 28" in r.problem.reason


# -- compression -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_gzip(tmp_path: Path, kind: str) -> None:
    src = recs(200)
    src = [dataclasses.replace(r, ts_ns=r.ts_ns // 1000 * 1000) for r in src]
    path = tmp_path / f"z.{kind}.gz"
    if kind == "pcap":
        write_pcap(path, src, LinkType.ETHERNET)
    else:
        write_pcapng(path, src, [(1, "eth0")])
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    with open_capture(path) as r:
        got = []
        for rec in r:
            got.append(rec)
            assert 0 < r.bytes_read <= r.size
        assert r.bytes_read == r.size == path.stat().st_size
    assert got == src and r.format == f"{kind}.gz" and r.problem is None


def test_truncated_gzip_yields_everything_before(tmp_path: Path) -> None:
    plain = tmp_path / "p.pcap"
    src = [Record(i + 1, T0 + i * 1000, 1, os.urandom(150), 0, 150) for i in range(3000)]
    write_pcap(plain, src, 1)
    cut = tmp_path / "cut.pcap.gz"
    cut.write_bytes(gzip.compress(plain.read_bytes())[:200_000])
    got, r = read_all(cut)
    assert 1000 < len(got) < 3000
    assert got == src[: len(got)]
    # everything that decompresses is yielded: only the record cut in the middle is lost
    with gzip.open(cut) as g:
        avail = b""
        with pytest.raises(EOFError):
            while chunk := g.read1(65536):
                avail += chunk
    assert len(got) == (len(avail) - 24) // 166
    assert r.problem is not None and r.problem.offset == 24 + len(got) * 166
    assert r.problem.reason.startswith("truncated gzip stream")


def test_corrupt_gzip_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(b"\x1f\x8b\x99" + bytes(30))
    with pytest.raises(CaptureError, match="corrupt gzip file"):
        open_capture(path)


def test_gzip_of_nothing_or_text(tmp_path: Path) -> None:
    empty = tmp_path / "e.gz"
    empty.write_bytes(gzip.compress(b""))
    with pytest.raises(CaptureError, match=r"empty file \(after gzip decompression\)"):
        open_capture(empty)
    text = tmp_path / "t.gz"
    text.write_bytes(gzip.compress(b"hello world\n"))
    with pytest.raises(CaptureError, match=r"unknown magic 0x68656c6c"):
        open_capture(text)


# -- opening errors ----------------------------------------------------------------------------


def test_no_such_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.pcap"
    with pytest.raises(CaptureError) as e:
        open_capture(path)
    assert str(e.value) == f"no such file: {path}"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="is a directory"):
        open_capture(tmp_path)


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: a chmod 000 file is still readable, cannot test EACCES",
)
def test_permission_denied(tmp_path: Path) -> None:  # pragma: no cover - not as root
    path = tmp_path / "locked.pcap"
    write_pcap(path, recs(1), 1)
    path.chmod(0)
    try:
        with pytest.raises(CaptureError) as e:
            open_capture(path)
        assert str(e.value) == f"permission denied: {path}"
    finally:
        path.chmod(0o644)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.touch()
    with pytest.raises(CaptureError) as e:
        open_capture(path)
    assert str(e.value) == f"empty file: {path}"
    with pytest.raises(CaptureError, match="empty file: <stream>"):
        open_capture(io.BytesIO())


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Hello, this is not a capture\n")
    with pytest.raises(CaptureError) as e:
        open_capture(path)
    assert str(e.value) == f"not a capture file (unknown magic 0x48656c6c): {path}"


def test_tiny_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny"
    path.write_bytes(b"\xd4\xc3")
    with pytest.raises(CaptureError, match=r"not a capture file \(only 2 bytes\)"):
        open_capture(path)


@pytest.mark.parametrize(
    ("magic", "what"),
    [
        (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
        (b"BZh9", "bzip2-compressed"),
        (b"\x34\xcd\xb2\xa1", "modified \\(Kuznetzov\\) pcap"),
    ],
)
def test_unsupported_formats_are_named(magic: bytes, what: str) -> None:
    with pytest.raises(CaptureError, match=what):
        open_capture(io.BytesIO(magic + bytes(40)))


# -- streams, lifecycle -----------------------------------------------------------------------


def test_file_object_is_read_and_left_open() -> None:
    buf = io.BytesIO()
    write_pcapng(buf, recs(4), [(1, None)])
    assert not buf.closed
    buf.seek(0)
    with open_capture(buf) as r:
        assert len(list(r)) == 4
        assert r.size is None and r.name == "<stream>"
    assert not buf.closed


def test_close_stops_iteration(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    write_pcap(path, recs(10), 1)
    r = open_capture(path)
    it = iter(r)
    assert next(it).frame_no == 1
    assert r.frames_read == 1
    r.close()
    assert list(it) == [] and list(r) == []
    assert r.problem is None


def test_iteration_is_single_pass(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    write_pcap(path, recs(10), 1)
    with open_capture(path) as r:
        assert len(list(r)) == 10
        assert list(r) == []


def test_progress_while_reading_large_file(tmp_path: Path) -> None:
    path = tmp_path / "big.pcap"
    write_pcap(path, (Record(i + 1, T0, 1, bytes(200)) for i in range(5000)), 1)
    seen = []
    with open_capture(path) as r:
        for rec in r:
            if rec.frame_no % 1000 == 0:
                seen.append(r.bytes_read)
        assert r.bytes_read == r.size
    assert seen == sorted(seen) and seen[0] < r.size


# -- writer checks ----------------------------------------------------------------------------


def test_writer_rejects_inconsistent_records(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="link type 113, file has 1"):
        write_pcap(tmp_path / "x.pcap", [Record(1, 0, 113, b"")], 1)
    with pytest.raises(ValueError, match="exceed the snaplen 100"):
        write_pcap(tmp_path / "x.pcap", [Record(1, 0, 1, bytes(101))], 1, snaplen=100)
    with pytest.raises(ValueError, match="no interface 2"):
        write_pcapng(tmp_path / "x.pcapng", [Record(1, 0, 1, b"", 2)], [(1, "a")])
    with pytest.raises(ValueError, match="interface 0 has 113"):
        write_pcapng(tmp_path / "x.pcapng", [Record(1, 0, 1, b"")], [(113, "a")])
    with pytest.raises(ValueError, match="neither a power of 10 nor of 2"):
        write_pcapng(tmp_path / "x.pcapng", [], [(1, "a", 3000)])


def test_writer_defaults_orig_len_to_captured_length() -> None:
    buf = io.BytesIO()
    write_pcap(buf, [Record(1, T0, 1, bytes(30))])
    buf.seek(0)
    (rec,), _ = read_all(buf)
    assert rec.orig_len == 30


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2**63 - 1),
            st.binary(max_size=300),
            st.integers(0, 1),
            st.one_of(
                st.none(),
                st.text(
                    st.characters(exclude_characters="\0", exclude_categories=("Cs",)), min_size=1
                ),
            ),
        ),
        max_size=25,
    )
)
def test_pcapng_round_trip_property(items: list[tuple[int, bytes, int, str | None]]) -> None:
    src = [
        Record(i + 1, ts, (1, 113)[iface], data, iface, len(data), comment)
        for i, (ts, data, iface, comment) in enumerate(items)
    ]
    buf = io.BytesIO()
    write_pcapng(buf, src, [(1, "a", 10**9), (113, "b", 10**9)])
    buf.seek(0)
    got, r = read_all(buf)
    assert got == src and r.problem is None


# -- tshark cross-checks ---------------------------------------------------------------------


@pytest.mark.tshark
@pytest.mark.parametrize("nanosecond", [False, True])
@pytest.mark.parametrize("big_endian", [False, True])
def test_tshark_reads_our_pcap(tmp_path: Path, tshark: str, nanosecond: bool, big_endian: bool):
    src = recs(30, step_ns=987_654_321)
    if not nanosecond:
        src = [dataclasses.replace(r, ts_ns=r.ts_ns // 1000 * 1000) for r in src]
    path = tmp_path / "x.pcap"
    write_pcap(path, src, 1, nanosecond, big_endian=big_endian)
    got, _ = read_all(path)
    assert got == src
    assert_matches_tshark(tshark, path, got)


@pytest.mark.tshark
@pytest.mark.parametrize("big_endian", [False, True])
def test_tshark_reads_our_pcapng(tmp_path: Path, tshark: str, big_endian: bool) -> None:
    path = tmp_path / "x.pcapng"
    write_pcapng(path, two_interface_records(), TWO_IFACES, big_endian=big_endian)
    got, _ = read_all(path)
    assert_matches_tshark(tshark, path, got)
    rows = tshark_rows(tshark, path, "frame.comment", "frame.interface_name")
    assert [row[0] or None for row in rows] == [
        None if r.comment is None else r.comment.replace("\n", "\\n") for r in got
    ]
    assert [row[1] for row in rows] == [("eth0", "any")[r.interface] for r in got]


@pytest.mark.tshark
@pytest.mark.parametrize("fmt", ["pcapng", "nsecpcap", "pcap"])
def test_editcap_conversions_agree(tmp_path: Path, tshark: str, fmt: str) -> None:
    editcap = shutil.which("editcap")
    if editcap is None:  # pragma: no cover
        pytest.skip("editcap not installed")
    src = tmp_path / "src.pcapng"
    write_pcapng(src, two_interface_records(), [(1, "eth0", 10**9), (113, "any", 10**9)])
    if fmt != "pcapng":  # pcap has one link type: keep the Ethernet interface
        write_pcapng(src, [r for r in two_interface_records() if r.interface == 0], [(1, "eth0")])
    out = tmp_path / f"out.{fmt}"
    subprocess.run([editcap, "-F", fmt, str(src), str(out)], check=True, capture_output=True)
    got, r = read_all(out)
    assert r.format == {"pcapng": "pcapng", "nsecpcap": "pcap-ns", "pcap": "pcap"}[fmt]
    assert len(got) > 0 and r.problem is None
    assert_matches_tshark(tshark, out, got)
    original, _ = read_all(src)
    assert [x.data for x in got] == [x.data for x in original]


@pytest.mark.tshark
def test_tshark_agrees_on_handmade_oddities(tmp_path: Path, tshark: str) -> None:
    data = (
        shb(">", opt(">", 1, b"big endian section"))
        + idb(">", 1, 0, opt(">", 9, b"\x06"))
        + idb(">", 101, 0, opt(">", 9, b"\x09"), opt(">", 14, struct.pack(">q", 100)))
        + epb(">", 1, 1_700_000_000_000_000_007, b"\x45" + bytes(19))
        + spb(">", frame(1))
        + blk(">", 0x4242, b"skipme")
        + opb(">", 0, 1_700_000_000_000_042, frame(2), opt(">", 1, b"obsolete"))
        + blk(">", 9, b"__REALTIME_TIMESTAMP=1700000000500000\nMESSAGE=journal\n")
        + epb(">", 0, 1_700_000_001_000_000, frame(3), opt(">", 1, b"note"))
    )
    path = tmp_path / "odd.pcapng"
    path.write_bytes(data)
    got, _ = read_all(path)
    assert [x.frame_no for x in got] == [1, 2, 3, 5]
    assert got[0].ts_ns == 1_700_000_100_000_000_007  # if_tsoffset 100 s
    rows = tshark_rows(tshark, path, "frame.number", "frame.time_epoch", "frame.len")
    assert [int(row[0]) for row in rows] == [1, 2, 3, 4, 5]
    by_number = {int(row[0]): row for row in rows}
    for rec in got:
        _, epoch, wire_len = by_number[rec.frame_no]
        if epoch:
            assert epoch_ns(epoch) == rec.ts_ns
        else:  # the simple packet block: no time in Wireshark, the previous one here
            assert rec.ts_ns == got[rec.frame_no - 2].ts_ns
        assert int(wire_len) == rec.orig_len


@pytest.mark.tshark
def test_tshark_agrees_on_truncation(tmp_path: Path, tshark: str) -> None:
    full = tmp_path / "full.pcapng"
    write_pcapng(full, recs(50), [(1, "eth0")])
    raw = full.read_bytes()
    for cut in (len(raw) - 5, len(raw) - 200, len(raw) // 2):
        path = tmp_path / f"cut{cut}.pcapng"
        path.write_bytes(raw[:cut])
        got, r = read_all(path)
        assert r.problem is not None
        assert_matches_tshark(tshark, path, got)


@pytest.mark.tshark
def test_tshark_agrees_on_gzip_and_sections(tmp_path: Path, tshark: str) -> None:
    a = tmp_path / "a.pcapng"
    b = tmp_path / "b.pcapng"
    write_pcapng(a, recs(5), [(1, "eth0")])
    write_pcapng(
        b,
        [dataclasses.replace(x, interface=1, linktype=113) for x in recs(4)],
        [(1, "x"), (113, "y", 10**9)],
        big_endian=True,
    )
    both = tmp_path / "both.pcapng.gz"
    both.write_bytes(gzip.compress(a.read_bytes() + b.read_bytes()))
    got, r = read_all(both)
    assert len(got) == 9 and r.format == "pcapng.gz"
    # tshark 4.0 reports the section-local interface id (and name) for later sections
    # (here 1, "x"), though it dissects with the right link type; ours is the global index
    # into reader.interfaces (2, "y").
    assert_matches_tshark(tshark, both, got, interface_ids=False)
    protocols = [row[0] for row in tshark_rows(tshark, both, "frame.protocols")]
    assert [p.split(":")[0] for p in protocols] == [{1: "eth", 113: "sll"}[x.linktype] for x in got]
    assert [r.interfaces[x.interface].name for x in got] == ["eth0"] * 5 + ["y"] * 4


@pytest.mark.tshark
@pytest.mark.parametrize("snaplen", [0, 0xFFFFFFFF])
def test_tshark_also_reads_on_after_absurd_snaplen(tmp_path: Path, tshark: str, snaplen: int):
    path = tmp_path / "snap.pcap"
    body = b"".join(pcap_rec("<", 1_700_000_000, i, frame(i)) for i in range(3))
    path.write_bytes(pcap_header("<", snaplen=snaplen) + body)
    got, r = read_all(path)
    assert len(got) == 3 and r.warnings
    assert_matches_tshark(tshark, path, got)


@pytest.mark.tshark
@pytest.mark.parametrize("cut", [10, 40, 300])
def test_tshark_agrees_on_truncated_pcap(tmp_path: Path, tshark: str, cut: int) -> None:
    full = tmp_path / "full.pcap"
    write_pcap(full, recs(20), 1)
    path = tmp_path / "cut.pcap"
    path.write_bytes(full.read_bytes()[:-cut])
    got, r = read_all(path)
    assert r.problem is not None and len(got) < 20
    assert_matches_tshark(tshark, path, got)


def test_unbuffered_pipe_with_short_reads(tmp_path: Path) -> None:
    path = tmp_path / "a.pcapng"
    write_pcapng(path, recs(50), [(1, "eth0")])
    r_fd, w_fd = os.pipe()
    data = path.read_bytes()

    def feed() -> None:  # small writes: the reader sees short reads
        with os.fdopen(w_fd, "wb", buffering=0) as w:
            for i in range(0, len(data), 7):
                w.write(data[i : i + 7])

    t = threading.Thread(target=feed)
    t.start()
    with os.fdopen(r_fd, "rb", buffering=0) as pipe:
        got, r = read_all(pipe)
        assert not pipe.closed
    t.join()
    assert got == recs(50) and r.problem is None and r.size is None


class Pipe(io.BytesIO):
    """A non-seekable stream without peek, like a pipe wrapped by a caller."""

    def seekable(self) -> bool:
        return False

    def seek(self, *a: object) -> int:
        raise io.UnsupportedOperation("seek")

    def tell(self) -> int:
        raise io.UnsupportedOperation("tell")


def oddities(bo: str) -> bytes:
    return (
        shb(bo, opt(bo, 1, b"s1"))
        + idb(bo, 1)
        + epb(bo, 0, 1_700_000_000_000_000, frame(0))
        + spb(bo, frame(1))
        + blk(bo, 0x4242, b"skipme")
        + opb(bo, 0, 1_700_000_000_000_042, frame(2), opt(bo, 1, b"obsolete"))
        + blk(bo, 9, b"__REALTIME_TIMESTAMP=1700000000500000\nMESSAGE=journal\n")
        + epb(bo, 0, 1_700_000_001_000_000, frame(3), opt(bo, 1, b"note"))
        + shb("<" if bo == ">" else ">")
        + idb("<" if bo == ">" else ">", 113)
        + epb("<" if bo == ">" else ">", 0, 1_700_000_002_000_000, frame(4))
    )


@pytest.mark.parametrize("bo", ["<", ">"])
@pytest.mark.parametrize("cut", [0, 1, 5, 8, 20, 60, 100, 200, 333])
def test_pipe_and_file_read_the_same(tmp_path: Path, bo: str, cut: int) -> None:
    data = oddities(bo)
    data = data[: len(data) - cut]
    path = tmp_path / "f.pcapng"
    path.write_bytes(data)
    from_file, rf = read_all(path)
    from_pipe, rp = read_all(Pipe(data))
    assert rf._lookahead and not rp._lookahead
    assert from_file == from_pipe
    assert rf.problem == rp.problem
    assert (cut == 0) == (rf.problem is None)
    if cut == 0:
        assert [r.frame_no for r in from_file] == [1, 2, 3, 5, 6]
        assert rf.section_comments == ["s1"]


def test_pipe_yields_each_packet_before_the_next_arrives() -> None:
    """A live capture: a frame must not wait for the header of the next block."""
    r_fd, w_fd = os.pipe()
    got_first = threading.Event()
    first_in_time: list[bool] = []

    def feed() -> None:
        with os.fdopen(w_fd, "wb", buffering=0) as w:
            w.write(shb("<") + idb("<", 1) + epb("<", 0, 1, frame(0)))
            first_in_time.append(got_first.wait(timeout=5))
            w.write(epb("<", 0, 2, frame(1)))

    t = threading.Thread(target=feed)
    t.start()
    with os.fdopen(r_fd, "rb") as pipe, open_capture(pipe) as reader:
        it = iter(reader)
        assert next(it).frame_no == 1
        got_first.set()
        assert [r.frame_no for r in it] == [2]
    t.join()
    assert first_in_time == [True]
