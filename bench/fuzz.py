"""Mutation fuzzer for the dissectors: valid frames, mutated, must never crash a decoder.

Seeds are the valid signaling frames of :mod:`bench.corpus` (every MH type, most options,
both transports, several link types, DHCP with relay and overload) plus some unrelated
traffic.  Each case mutates one seed:

* systematic cases first (up to half of the budget, shuffled): the seed truncated at
  every length, and every length field of the layers it knows the layout of set to its
  extremes (0, 1, 0xFF / 0xFFFF, off-by-one...): Ethernet type / SLL address length,
  IPv4 IHL and Total Length, IPv6 Payload Length, Next Header and every extension header
  length, UDP length and ports, MH Header Len, MH type and every mobility option Type and
  Length (walked from MH offset 12, or 24 for a Binding Error), DHCP hlen and every option
  code and length (option 82 sub-options, overloaded ``file``/``sname`` too);
* random cases: bit flips, interesting bytes, the same length/type fields set at random,
  truncation at a layer or option boundary, insertion, deletion, chunk duplication,
  splicing two seeds, a random tail after a layer start; sometimes stacked.

For each mutant it checks that ``decode_frame`` and ``prefilter.classify`` never raise,
that the frame's malformed/warning markers have offsets inside the frame, that the
pre-filter does not drop a frame the decoder found signaling in, and it calls the layer
decoders directly (``decode_link``, ``decode_ipv4``/``decode_ipv6``, ``decode_udp``,
``decode_mh``, ``decode_dhcp``) at the offsets of the mutant and of its seed: anything they
raise must be a ``DecodeError`` whose Malformed has a non-empty layer, an int offset within
``[0, len(buffer)]`` and a non-empty reason.

    python bench/fuzz.py --cases 1000000 --seed 1 [--jobs 2]

prints cases, seconds, cases/s, frames malformed / clean, and every finding, deduplicated
by traceback location, with a hex dump and a Python reproducer.  Exit status 1 when an
exception escaped (``--strict``: also for offset findings and pre-filter misses).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import Frame, signaling_frames, unrelated_frames
from dissectors import prefilter
from dissectors.dhcp import decode_dhcp
from dissectors.dhcp_codes import DHCP_PORTS
from dissectors.errors import DecodeError, Malformed
from dissectors.frame import decode_frame
from dissectors.ip import decode_ipv4, decode_ipv6
from dissectors.link import LinkType, decode_link
from dissectors.mh import decode_mh
from dissectors.mh_codes import PMIP6_CNTL_PORT
from dissectors.mh_options import OPTION_CLASSES
from dissectors.udp import decode_udp

_DISSECTORS = str(Path(decode_frame.__code__.co_filename).resolve().parent)
_CLASSES = (prefilter.OTHER, prefilter.MH, prefilter.DHCP, prefilter.FRAGMENT)

# ------------------------------------------------------------------------- layout


@dataclass(frozen=True, slots=True)
class Field:
    """A length or type field of a seed frame: where it is and how wide."""

    name: str
    pos: int
    kind: str  # "u8", "u16" or "ihl" (the low nibble of the IPv4 first byte)
    extra: tuple[int, ...] = ()  # values worth trying besides the extremes

    def get(self, data: bytes | bytearray) -> int:
        if self.kind == "u16":
            return data[self.pos] << 8 | data[self.pos + 1]
        if self.kind == "ihl":
            return data[self.pos] & 0x0F
        return data[self.pos]

    def set(self, data: bytearray, value: int) -> None:
        if self.kind == "u16":
            data[self.pos:self.pos + 2] = (value & 0xFFFF).to_bytes(2, "big")
        elif self.kind == "ihl":
            data[self.pos] = (data[self.pos] & 0xF0) | (value & 0x0F)
        else:
            data[self.pos] = value & 0xFF

    def values(self, orig: int) -> list[int]:
        """0, 1, the maximum and off-by-one values (and ``extra``), without ``orig``."""
        top = {"u8": 0xFF, "u16": 0xFFFF, "ihl": 0x0F}[self.kind]
        cand = [0, 1, top, orig - 1, orig + 1]
        if self.kind == "u16":
            cand += [7, 8, 0xFF, 0x100, 0x7FFF, 0x8000]
        elif self.kind == "u8":
            cand += [0x7F, 0x80]
        else:
            cand += [4, 5, 6]
        cand += list(self.extra)
        out: list[int] = []
        for v in cand:
            if 0 <= v <= top and v != orig and v not in out:
                out.append(v)
        return out


_ETHERTYPES = (0x0800, 0x86DD, 0x8100, 0x88A8, 0x0806, 0x9100)
_IP_PROTOS = (17, 6, 1, 135, 58, 0, 43, 44, 51, 60, 59, 50)
_PORTS = (PMIP6_CNTL_PORT, *DHCP_PORTS, 53, 0)
_MH_TYPES = (5, 6, 7, 13, 16, 0, 1, 8, 17, 200)
_MH_OPTION_TYPES = (0, 1, *sorted(OPTION_CLASSES), 6, 7, 255)
_MH_FIXED = {5: 6, 6: 6, 7: 18, 13: 6, 16: 6}
_DHCP_CODES = (0, 255, 52, 53, 82, 61, 55, 1, 3, 12, 26, 51, 54, 57, 118, 43)


def _mh_fields(data: bytes, off: int, out: list[Field]) -> None:
    n = len(data)
    if off + 6 > n:
        return
    out.append(Field("mh.proto", off, "u8", (59,)))
    out.append(Field("mh.header_len", off + 1, "u8"))
    out.append(Field("mh.type", off + 2, "u8", _MH_TYPES))
    mh_type = data[off + 2]
    end = min(n, off + (data[off + 1] + 1) * 8)
    p = off + 6 + _MH_FIXED.get(mh_type, end)
    while p < end:
        t = data[p]
        if t == 0:
            p += 1
            continue
        out.append(Field(f"mh.opt{t}.type", p, "u8", _MH_OPTION_TYPES))
        if p + 1 >= end:
            break
        out.append(Field(f"mh.opt{t}.length", p + 1, "u8"))
        p += 2 + data[p + 1]


def _dhcp_area(data: bytes, start: int, stop: int, name: str, out: list[Field]) -> int:
    """Walk one DHCP options area; returns the overload value found (0 if none)."""
    overload = 0
    p = start
    stop = min(stop, len(data))
    while p < stop:
        code = data[p]
        if code == 0:
            p += 1
            continue
        out.append(Field(f"dhcp.{name}.opt{code}.code", p, "u8", _DHCP_CODES))
        if code == 255 or p + 1 >= stop:
            break
        length = data[p + 1]
        out.append(Field(f"dhcp.{name}.opt{code}.length", p + 1, "u8"))
        if code == 52 and length >= 1 and p + 2 < stop:
            overload = data[p + 2]
            out.append(Field("dhcp.overload", p + 2, "u8", (1, 2, 3, 4)))
        if code == 82:
            q, qend = p + 2, min(stop, p + 2 + length)
            while q + 1 < qend:
                out.append(Field(f"dhcp.opt82.sub{data[q]}.length", q + 1, "u8"))
                q += 2 + data[q + 1]
        p += 2 + length
    return overload


def _dhcp_fields(data: bytes, off: int, out: list[Field]) -> None:
    if off + 240 > len(data):
        return
    out.append(Field("dhcp.hlen", off + 2, "u8", (6, 16, 17)))
    overload = _dhcp_area(data, off + 240, len(data), "options", out)
    if overload in (1, 3):
        _dhcp_area(data, off + 108, off + 236, "file", out)
    if overload in (2, 3):
        _dhcp_area(data, off + 44, off + 108, "sname", out)


def layout_fields(linktype: int, data: bytes,
                  offsets: tuple[tuple[str, int], ...]) -> list[Field]:
    """Every length and type field of a (valid) frame, found from its layer offsets."""
    out: list[Field] = []
    n = len(data)
    if linktype == LinkType.ETHERNET and n >= 14:
        out.append(Field("eth.type", 12, "u16", _ETHERTYPES))
    elif linktype == LinkType.LINUX_SLL and n >= 16:
        out.append(Field("sll.addr_len", 4, "u16"))
        out.append(Field("sll.protocol", 14, "u16", _ETHERTYPES))
    elif linktype == LinkType.LINUX_SLL2 and n >= 20:
        out.append(Field("sll2.protocol", 0, "u16", _ETHERTYPES))
        out.append(Field("sll2.addr_len", 11, "u8"))
    elif linktype in (LinkType.NULL, LinkType.LOOP) and n >= 4:
        where = 0 if linktype == LinkType.NULL else 3
        out.append(Field("null.family", where, "u8", (2, 10, 24, 28, 30)))
    for layer, off in offsets:
        if layer == "ipv4" and off + 20 <= n:
            out.append(Field("ipv4.ihl", off, "ihl"))
            out.append(Field("ipv4.total_length", off + 2, "u16"))
            out.append(Field("ipv4.flags_fragment", off + 6, "u16", (0x2000, 0x0001, 0x4000)))
            out.append(Field("ipv4.proto", off + 9, "u8", _IP_PROTOS))
        elif layer == "ipv6" and off + 40 <= n:
            out.append(Field("ipv6.payload_length", off + 4, "u16"))
            out.append(Field("ipv6.next_header", off + 6, "u8", _IP_PROTOS))
            nh, p = data[off + 6], off + 40
            while nh in (0, 43, 44, 51, 60) and p + 2 <= n:
                out.append(Field(f"ipv6.ext{nh}.next_header", p, "u8", _IP_PROTOS))
                if nh == 44:
                    out.append(Field("ipv6.frag.offset", p + 2, "u16", (0, 1, 8, 9)))
                    size = 8
                else:
                    out.append(Field(f"ipv6.ext{nh}.length", p + 1, "u8"))
                    size = (data[p + 1] + 2) * 4 if nh == 51 else (data[p + 1] + 1) * 8
                nh, p = data[p], p + size
        elif layer == "udp" and off + 8 <= n:
            out.append(Field("udp.sport", off, "u16", _PORTS))
            out.append(Field("udp.dport", off + 2, "u16", _PORTS))
            out.append(Field("udp.length", off + 4, "u16"))
        elif layer == "mh":
            _mh_fields(data, off, out)
        elif layer == "dhcp":
            _dhcp_fields(data, off, out)
    return out


@dataclass(slots=True)
class Seed:
    linktype: int
    data: bytes
    offsets: tuple[tuple[str, int], ...]
    fields: list[Field]
    points: list[int]  # interesting truncation points

    @classmethod
    def of(cls, linktype: int, data: bytes) -> Seed:
        offsets = decode_frame(linktype, data).offsets
        fields = layout_fields(linktype, data, offsets)
        pts = {0, 1, len(data) - 1, len(data)}
        for _, off in offsets:
            pts.update(off + d for d in (-1, 0, 1, 2, 4, 6, 8, 12, 20, 24, 40))
        for f in fields:
            pts.update((f.pos, f.pos + 1, f.pos + 2))
        return cls(linktype, data, offsets, fields,
                   sorted(p for p in pts if 0 <= p <= len(data)))


def default_seeds() -> list[Frame]:
    """Every valid signaling frame, plus a few unrelated frames of each link type."""
    from bench.corpus import LINKTYPES

    return signaling_frames() + unrelated_frames(40, seed=7, linktypes=LINKTYPES)


# ----------------------------------------------------------------------- mutation

_INTERESTING = (0x00, 0x01, 0x02, 0x07, 0x08, 0x0F, 0x10, 0x3F, 0x40, 0x7F, 0x80, 0xFE, 0xFF)


class Mutator:
    """Turns case numbers into mutants of the seeds; deterministic for a seed value."""

    def __init__(self, seeds: list[Frame], seed: int) -> None:
        self.seeds = [Seed.of(lt, data) for lt, data in seeds]
        self.seed = seed
        specs: list[tuple[Any, ...]] = []
        for i, s in enumerate(self.seeds):
            specs.extend(("trunc", i, n) for n in range(len(s.data)))
            for j, f in enumerate(s.fields):
                specs.extend(("field", i, j, v) for v in f.values(f.get(s.data)))
        random.Random(seed).shuffle(specs)
        self.systematic = specs

    def plan(self, cases: int) -> int:
        """How many of ``cases`` are systematic (at most half of them)."""
        return min(len(self.systematic), cases // 2)

    def case(self, index: int, n_systematic: int, rng: random.Random) -> tuple[Seed, bytes]:
        if index < n_systematic:
            spec = self.systematic[index]
            s = self.seeds[spec[1]]
            if spec[0] == "trunc":
                return s, s.data[:spec[2]]
            buf = bytearray(s.data)
            s.fields[spec[2]].set(buf, spec[3])
            return s, bytes(buf)
        s = self.seeds[rng.randrange(len(self.seeds))]
        buf = bytearray(s.data)
        for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 4)):
            buf = self._random_op(rng, s, buf)
        return s, bytes(buf)

    def _random_op(self, rng: random.Random, s: Seed, buf: bytearray) -> bytearray:
        n = len(buf)
        r = rng.random()
        if r < 0.28 and s.fields:  # a length/type field to an extreme or a random value
            f = rng.choice(s.fields)
            if f.pos + (2 if f.kind == "u16" else 1) <= n:
                vals = f.values(f.get(buf))
                if rng.random() < 0.85 and vals:
                    f.set(buf, rng.choice(vals))
                else:
                    f.set(buf, rng.getrandbits(16 if f.kind == "u16" else 8))
            return buf
        if n == 0:
            return bytearray(rng.randbytes(rng.randint(1, 64)))
        if r < 0.46:  # bit flips
            for _ in range(rng.randint(1, 4)):
                buf[rng.randrange(n)] ^= 1 << rng.randrange(8)
            return buf
        if r < 0.60:  # interesting bytes
            for _ in range(rng.randint(1, 3)):
                buf[rng.randrange(n)] = rng.choice(_INTERESTING)
            return buf
        if r < 0.70:  # truncation at an interesting point (or anywhere)
            cut = rng.choice(s.points) if rng.random() < 0.8 else rng.randrange(n + 1)
            return buf[:cut]
        if r < 0.78:  # insertion
            at = rng.choice(s.points) if rng.random() < 0.5 else rng.randrange(n + 1)
            k = rng.choice((1, 1, 2, 4, 8, rng.randint(1, 64)))
            filler = rng.randbytes(k) if rng.random() < 0.5 else bytes(k)
            return buf[:at] + filler + buf[at:]
        if r < 0.86:  # deletion
            at = rng.choice(s.points) if rng.random() < 0.5 else rng.randrange(n)
            k = rng.choice((1, 1, 2, 4, 8, rng.randint(1, 64)))
            return buf[:at] + buf[at + k:]
        if r < 0.90:  # duplicate a chunk in place (repeated options, headers)
            a = rng.randrange(n)
            b = min(n, a + rng.randint(1, 32))
            return buf[:b] + buf[a:b] + buf[b:]
        if r < 0.95:  # splice: this seed's head, another seed's tail
            other = rng.choice(self.seeds).data
            a = rng.choice(s.points)
            b = rng.randrange(len(other) + 1)
            return buf[:a] + bytearray(other[b:])
        # random tail after a layer start
        if s.offsets:
            _, off = rng.choice(s.offsets)
            off = min(off + rng.choice((0, 0, 6, 8, 12, 24)), n)
        else:
            off = rng.randrange(n + 1)
        return buf[:off] + bytearray(rng.randbytes(rng.randint(0, 600)))


# ------------------------------------------------------------------------ checking


@dataclass(slots=True)
class Finding:
    kind: str           # "exception", "offset" or "prefilter"
    api: str            # the function that misbehaved
    summary: str
    linktype: int
    frame: bytes
    call: str           # Python statement(s) reproducing it, given ``frame``
    imports: str
    tb: str = ""
    case: int = 0
    count: int = 1


@dataclass(slots=True)
class FuzzStats:
    cases: int = 0
    seconds: float = 0.0
    malformed: int = 0
    clean: int = 0
    signaling_clean: int = 0
    warned: int = 0
    direct_calls: int = 0
    direct_errors: int = 0
    classes: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    exceptions: dict[tuple, Finding] = field(default_factory=dict)
    offsets: dict[tuple, Finding] = field(default_factory=dict)
    prefilter: dict[tuple, Finding] = field(default_factory=dict)

    def merge(self, other: FuzzStats) -> None:
        self.cases += other.cases
        self.malformed += other.malformed
        self.clean += other.clean
        self.signaling_clean += other.signaling_clean
        self.warned += other.warned
        self.direct_calls += other.direct_calls
        self.direct_errors += other.direct_errors
        self.classes = [a + b for a, b in zip(self.classes, other.classes, strict=True)]
        for mine, theirs in ((self.exceptions, other.exceptions),
                             (self.offsets, other.offsets), (self.prefilter, other.prefilter)):
            for key, f in theirs.items():
                if key in mine:
                    mine[key].count += f.count
                    if f.case < mine[key].case:
                        f.count = mine[key].count
                        mine[key] = f
                else:
                    mine[key] = f

    @property
    def escaped(self) -> bool:
        return bool(self.exceptions)


def _site(tb: Any, skip_errors_module: bool = False) -> tuple[str, int, str]:
    """Innermost traceback frame inside dissectors/ (else the innermost at all)."""
    frames = traceback.extract_tb(tb)
    chosen = frames[-1] if frames else None
    for fr in reversed(frames):
        path = str(Path(fr.filename).resolve())
        if path.startswith(_DISSECTORS) and not (
                skip_errors_module and path.endswith("errors.py")):
            chosen = fr
            break
    if chosen is None:
        return ("?", 0, "?")
    return (Path(chosen.filename).name, chosen.lineno or 0, chosen.name)


def _bad_marker(m: Any, buflen: int) -> str | None:
    """Why ``m`` is not a valid Malformed for a buffer of ``buflen`` bytes (None if fine)."""
    if not isinstance(m, Malformed):
        return f"marker is {type(m).__name__}, not Malformed"
    if not isinstance(m.layer, str) or not m.layer:
        return f"layer {m.layer!r} is not a non-empty string"
    if not isinstance(m.reason, str) or not m.reason:
        return f"reason {m.reason!r} is not a non-empty string"
    if not isinstance(m.offset, int) or isinstance(m.offset, bool):
        return f"offset {m.offset!r} is not an int"
    if not 0 <= m.offset <= buflen:
        return f"offset {m.offset} outside [0, {buflen}] ({m.layer}: {m.reason})"
    return None


_FRAME_IMPORTS = "from dissectors.frame import decode_frame\nfrom dissectors import prefilter"
_INTERNAL = re.compile(r"internal decoder error: (\w+)")


class Checker:
    """Runs every check on one mutant and records findings in ``stats``."""

    def __init__(self, stats: FuzzStats, info: bool = True) -> None:
        self.stats = stats
        self.info = info
        self.case = 0

    # -- recording
    def _record(self, table: dict, key: tuple, make: Callable[[], Finding]) -> None:
        f = table.get(key)
        if f is None:
            f = make()
            f.case = self.case
            table[key] = f
        else:
            f.count += 1

    def _exception(self, api: str, exc: BaseException, lt: int, frame: bytes, call: str,
                   imports: str) -> None:
        site = _site(exc.__traceback__)
        key = (api, type(exc).__name__, *site)
        self._record(self.stats.exceptions, key, lambda: Finding(
            "exception", api, f"{type(exc).__name__}: {exc} at {site[0]}:{site[1]} "
            f"in {site[2]}()", lt, frame, call, imports,
            "".join(traceback.format_exception(exc))))

    def _marker(self, api: str, what: str, m: Any, buflen: int, lt: int, frame: bytes,
                call: str, imports: str, site: tuple = ()) -> None:
        why = _bad_marker(m, buflen)
        if why is None:
            return
        layer = getattr(m, "layer", "?")
        reason = re.sub(r"\d+", "N", str(getattr(m, "reason", "")))[:80]
        key = (api, what, layer, *site) if site else (api, what, layer, reason)
        self._record(self.stats.offsets, key, lambda: Finding(
            "offset", api, f"{what}: {why}", lt, frame, call, imports))

    # -- a direct decoder call
    def _direct(self, api: str, fn: Callable[[], Any], buflen: int, lt: int, frame: bytes,
                call: str, imports: str) -> Any:
        self.stats.direct_calls += 1
        try:
            return fn()
        except DecodeError as exc:
            self.stats.direct_errors += 1
            self._marker(api, "DecodeError", exc.malformed, buflen, lt, frame, call, imports,
                         _site(exc.__traceback__, skip_errors_module=True))
            return None
        except Exception as exc:
            self._exception(api, exc, lt, frame, call, imports)
            return None

    def check(self, lt: int, data: bytes, seed: Seed | None = None) -> None:
        st = self.stats
        st.cases += 1
        n = len(data)
        call = f"decode_frame({lt}, frame)"
        try:
            f = decode_frame(lt, data)
        except Exception as exc:
            self._exception("decode_frame", exc, lt, data, call, _FRAME_IMPORTS)
            f = None
        try:
            cls = prefilter.classify(lt, data)
        except Exception as exc:
            self._exception("prefilter.classify", exc, lt, data,
                            f"prefilter.classify({lt}, frame)", _FRAME_IMPORTS)
            cls = None
        if cls is not None:
            if cls in _CLASSES:
                st.classes[cls] += 1
            else:
                self._record(st.prefilter, ("classify-value", cls), lambda: Finding(
                    "prefilter", "prefilter.classify", f"returned {cls!r}", lt, data,
                    f"prefilter.classify({lt}, frame)", _FRAME_IMPORTS))
        if f is None:
            return
        if f.malformed is None:
            st.clean += 1
            if f.mh is not None or f.dhcp is not None:
                st.signaling_clean += 1
        else:
            st.malformed += 1
            m = _INTERNAL.search(f.malformed.reason) if isinstance(f.malformed.reason,
                                                                   str) else None
            if m:  # a decoder raised something else than DecodeError; decode_frame hid it
                self._record(st.exceptions, ("decode_frame catch-all", m.group(1)),
                             lambda: Finding(
                                 "exception", "decode_frame (caught by its catch-all)",
                                 f.malformed.reason, lt, data, call, _FRAME_IMPORTS))
            self._marker("decode_frame", "Frame.malformed", f.malformed, n, lt, data, call,
                         _FRAME_IMPORTS)
        if f.warnings:
            st.warned += 1
            for w in f.warnings:
                self._marker("decode_frame", "Frame.warnings", w, n, lt, data, call,
                             _FRAME_IMPORTS)
        if self.info:
            try:
                f.info()
                _ = f.protocol
            except Exception as exc:
                self._exception("Frame.info", exc, lt, data, f"decode_frame({lt}, frame).info()",
                                _FRAME_IMPORTS)
        layers = {name for name, _ in f.offsets}
        want = prefilter.MH if "mh" in layers else prefilter.DHCP if "dhcp" in layers else None
        if want is not None and cls is not None and cls != want:
            self._record(st.prefilter, ("miss", want, cls), lambda: Finding(
                "prefilter", "prefilter.classify",
                f"classify()={cls} but decode_frame reached the {'mh' if want == 1 else 'dhcp'}"
                " layer", lt, data, f"prefilter.classify({lt}, frame)", _FRAME_IMPORTS))
        self._layers(lt, data, f, seed)

    def _layers(self, lt: int, data: bytes, f: Any, seed: Seed | None) -> None:
        n = len(data)
        self._direct("decode_link", lambda: decode_link(lt, data), n, lt, data,
                     f"decode_link({lt}, frame)", "from dissectors.link import decode_link")
        offs = dict(f.offsets)
        seed_offs = dict(seed.offsets) if seed is not None else {}
        # network layer: at the mutant's offset, and at the seed's when different
        ip_end: int | None = None
        src = dst = None
        for layer in ("ipv4", "ipv6"):
            for off in {offs.get(layer), seed_offs.get(layer)} - {None}:
                if off > n:
                    continue
                dec = decode_ipv4 if layer == "ipv4" else decode_ipv6
                res = self._direct(f"decode_{layer}", lambda d=dec, o=off: d(data, o), n, lt,
                                   data, f"decode_{layer}(frame, {off})",
                                   f"from dissectors.ip import decode_{layer}")
                if res is not None and off == offs.get(layer):
                    hdr, _, ip_end, _ = res
                    src, dst = hdr.src, hdr.dst
                    self._warnings(f"decode_{layer}", res[3], n, lt, data,
                                   f"decode_{layer}(frame, {off})",
                                   f"from dissectors.ip import decode_{layer}")
        end = ip_end if ip_end is not None else n
        if src is None:
            v6 = "ipv6" in offs or "ipv6" in seed_offs
            src, dst = (IPv6Address(1), IPv6Address(2)) if v6 else (IPv4Address(1),
                                                                     IPv4Address(2))
        udp_end = end
        for off in {offs.get("udp"), seed_offs.get("udp")} - {None}:
            if off > n:
                continue
            e = end if off <= end else n
            res = self._direct("decode_udp",
                               lambda o=off, e=e: decode_udp(data, o, e, src, dst), n, lt, data,
                               f"decode_udp(frame, {off}, {e}, {src!r}, {dst!r})",
                               "from dissectors.udp import decode_udp\n"
                               "from ipaddress import IPv4Address, IPv6Address")
            if res is not None and off == offs.get("udp"):
                udp_end = res[2]
        pseudo = src.packed + dst.packed if src.version == 6 and "udp" not in offs else None
        for off in {offs.get("mh"), seed_offs.get("mh")} - {None}:
            if off > n:
                continue
            e = udp_end if off <= udp_end else n
            p = pseudo if off == offs.get("mh") else None
            pcall = f"bytes.fromhex({p.hex()!r})" if p is not None else "None"
            call = f"decode_mh(frame, {off}, {e}, {pcall})"
            res = self._direct("decode_mh", lambda o=off, e=e, p=p: decode_mh(data, o, e, p),
                               e - off, lt, data, call, "from dissectors.mh import decode_mh")
            if res is not None and res[0].wire is not None:
                self._warnings("decode_mh", res[0].wire.warnings, e - off, lt, data, call,
                               "from dissectors.mh import decode_mh")
        for off in {offs.get("dhcp"), seed_offs.get("dhcp")} - {None}:
            if off > n:
                continue
            e = udp_end if off <= udp_end else n
            call = f"decode_dhcp(frame[:{e}], {off})"
            res = self._direct("decode_dhcp", lambda o=off, e=e: decode_dhcp(data[:e], o),
                               e - off, lt, data, call,
                               "from dissectors.dhcp import decode_dhcp")
            if res is not None:
                self._warnings("decode_dhcp", res[0].warnings, e - off, lt, data, call,
                               "from dissectors.dhcp import decode_dhcp")

    def _warnings(self, api: str, warnings: Any, buflen: int, lt: int, data: bytes, call: str,
                  imports: str) -> None:
        for w in warnings:
            self._marker(api, "warning", w, buflen, lt, data, call, imports)


# ---------------------------------------------------------------------------- runs


def fuzz(cases: int, seed: int = 1, *, seeds: list[Frame] | None = None, jobs: int = 1,
         info: bool = True, progress: bool = False) -> FuzzStats:
    """Run ``cases`` mutants of ``seeds`` (default :func:`default_seeds`); deterministic."""
    t0 = time.perf_counter()
    if jobs <= 1:
        stats = _run_range(seeds, seed, cases, 0, cases, info, progress)
    else:
        import multiprocessing as mp

        chunk = max(1, -(-cases // (jobs * 8 * 1000))) * 1000  # whole rng blocks
        ranges = [(seeds, seed, cases, a, min(cases, a + chunk), info, False)
                  for a in range(0, cases, chunk)]
        stats = FuzzStats()
        with mp.get_context("fork").Pool(jobs) as pool:
            done = 0
            for part in pool.imap_unordered(_run_star, ranges):
                stats.merge(part)
                done += part.cases
                if progress:
                    rate = done / (time.perf_counter() - t0)
                    print(f"  {done:>9} cases  {rate:8.0f}/s", file=sys.stderr, flush=True)
    stats.seconds = time.perf_counter() - t0
    return stats


def _run_star(args: tuple) -> FuzzStats:
    return _run_range(*args)


_MUTATORS: dict[int, Mutator] = {}  # per process: the default seeds, by seed value


def _mutator(seeds: list[Frame] | None, seed: int) -> Mutator:
    if seeds is not None:
        return Mutator(seeds, seed)
    if seed not in _MUTATORS:
        _MUTATORS[seed] = Mutator(default_seeds(), seed)
    return _MUTATORS[seed]


def _run_range(seeds: list[Frame] | None, seed: int, cases: int, start: int, stop: int,
               info: bool, progress: bool) -> FuzzStats:
    mut = _mutator(seeds, seed)
    n_sys = mut.plan(cases)
    stats = FuzzStats()
    checker = Checker(stats, info)
    block = 1000
    t0 = last = time.perf_counter()
    for b in range(start // block, -(-stop // block)):
        rng = random.Random(seed * 1_000_003 + b)  # one stream per block: jobs-independent
        for i in range(max(start, b * block), min(stop, (b + 1) * block)):
            s, data = mut.case(i, n_sys, rng)
            checker.case = i
            checker.check(s.linktype, data, s)
        if progress and time.perf_counter() - last > 15:
            last = time.perf_counter()
            print(f"  {stats.cases:>9} cases  {stats.cases / (last - t0):8.0f}/s  "
                  f"exceptions {len(stats.exceptions)}", file=sys.stderr, flush=True)
    return stats


# ---------------------------------------------------------------------------- report


def hexdump(data: bytes, width: int = 16) -> str:
    lines = []
    for i in range(0, len(data), width):
        chunk = data[i:i + width]
        hx = " ".join(f"{b:02x}" for b in chunk)
        asc = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"  {i:04x}  {hx:<{width * 3}} {asc}")
    return "\n".join(lines)


def reproducer(f: Finding) -> str:
    return (f"{f.imports}\nframe = bytes.fromhex({f.frame.hex()!r})  # linktype {f.linktype}, "
            f"{len(f.frame)} bytes\n{f.call}")


def iter_findings(stats: FuzzStats) -> Iterator[Finding]:
    yield from stats.exceptions.values()
    yield from stats.offsets.values()
    yield from stats.prefilter.values()


def report(stats: FuzzStats, out: Any = sys.stdout) -> None:
    rate = stats.cases / stats.seconds if stats.seconds else 0.0
    lines = [
        f"cases                    {stats.cases}",
        f"seconds                  {stats.seconds:.1f}",
        f"cases/s                  {rate:.0f}",
        f"frames marked malformed  {stats.malformed}",
        f"frames decoded clean     {stats.clean}  (with an MH or DHCP layer: "
        f"{stats.signaling_clean}; with warnings, any: {stats.warned})",
        "pre-filter classes       " + "  ".join(
            f"{name}={v}" for name, v in zip(("OTHER", "MH", "DHCP", "FRAGMENT"),
                                             stats.classes, strict=True)),
        f"direct decoder calls     {stats.direct_calls}  (DecodeError: {stats.direct_errors})",
        f"exceptions found         {len(stats.exceptions)}",
        f"offset-range findings    {len(stats.offsets)}",
        f"pre-filter misses        {len(stats.prefilter)}",
    ]
    print("\n".join(lines), file=out)
    for f in iter_findings(stats):
        print(f"\n=== {f.kind}: {f.api} — {f.summary}\n    seen {f.count}x, first at case "
              f"{f.case}; linktype {f.linktype}, {len(f.frame)} bytes:", file=out)
        print(hexdump(f.frame), file=out)
        print("  reproducer:\n" + "\n".join("    " + x for x in reproducer(f).splitlines()),
              file=out)
        if f.tb:
            print("  traceback:\n" + "\n".join("    " + x for x in f.tb.rstrip().splitlines()),
                  file=out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--no-info", action="store_true", help="skip Frame.info() on each mutant")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 on offset findings and pre-filter misses too")
    args = ap.parse_args(argv)
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    stats = fuzz(args.cases, args.seed, jobs=jobs, info=not args.no_info, progress=True)
    report(stats)
    bad = stats.escaped or (args.strict and (stats.offsets or stats.prefilter))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
