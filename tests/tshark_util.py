"""Run the real tshark on a capture and read its ``-T json`` output as ordered trees.

tshark's JSON repeats a key when a field occurs several times in one subtree (several
HNP options, several ``mip6.ipv4ha.*`` fields); a plain ``json.load`` would keep only the
last one.  :func:`tshark_json` keeps every ``(key, value)`` pair in display order, so a
test can walk the protocol tree option by option.  Values stay the strings tshark prints:
numbers (enumerations print their number, never their label), ``0x..`` hex, addresses,
colon-separated hex for byte fields.  :func:`same_value` compares one with a Python value.

:func:`require_tshark` skips a test when tshark is missing, except with ``CI=true``
where a missing oracle must fail the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import pytest

#: Preferences that make tshark verify the IPv4 header and UDP checksums (off by default),
#: so ``ip.checksum.status`` / ``udp.checksum.status`` say 1 (good) or 0 (bad).
CHECKSUM_PREFS = ("-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE")


def require_tshark() -> str:
    """The tshark binary; skips the calling test when absent (fails it when CI=true)."""
    path = shutil.which("tshark")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tshark is required when CI=true (it is the cross-check oracle)")
        pytest.skip("tshark not installed: cross-check against Wireshark skipped")
    return path


class Tree(list):
    """A JSON object from tshark: its ``(key, value)`` pairs in order, duplicates kept.

    A value is a ``str``, another ``Tree`` (a subtree, e.g. ``mip6.options.hnp_tree``) or a
    plain ``list`` (a JSON array; tshark uses them rarely without --no-duplicate-keys).
    """

    def get(self, key: str) -> str | Tree | list | None:
        """The first value of ``key`` in this object (not searching below), or None."""
        for k, v in self:
            if k == key:
                return v
        return None


def tshark_json(tshark: str, pcap: Path, *args: str, timeout: float = 120) -> list[Tree]:
    """Dissect ``pcap`` once; returns each frame's ``layers`` object, in frame order.

    ``args`` are extra tshark options (``-o`` preferences, ``-d`` decode-as...).  The
    output is decoded as UTF-8 with replacement (tshark passes some undecodable string
    bytes through), and LC_ALL=C keeps month names in absolute times English.
    """
    env = {**os.environ, "LC_ALL": "C"}
    proc = subprocess.run([tshark, "-r", str(pcap), "-T", "json", *args],
                          capture_output=True, timeout=timeout, env=env, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"tshark failed on {pcap} ({proc.returncode}): "
                             f"{proc.stderr.decode(errors='replace')}")
    packets = json.loads(proc.stdout.decode("utf-8", "replace"), object_pairs_hook=Tree)
    return [p.get("_source").get("layers") for p in packets]  # type: ignore[union-attr]


_SEP, _AGG = "\x1e", "\x1f"  # ASCII record / unit separators: never inside a value


def tshark_fields(tshark: str, pcap: Path, fields: list[str], *args: str,
                  timeout: float = 120) -> list[dict[str, list[str]]]:
    """``-T fields`` for ``fields``: per frame, each field's values in order (all
    occurrences; an absent field gives ``[]``).  Byte fields print as plain hex here."""
    env = {**os.environ, "LC_ALL": "C"}
    cmd = [tshark, "-r", str(pcap), "-T", "fields", "-E", "occurrence=a",
           "-E", f"aggregator={_AGG}", "-E", f"separator={_SEP}", *args]
    for name in fields:
        cmd += ["-e", name]
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"tshark failed on {pcap} ({proc.returncode}): "
                             f"{proc.stderr.decode(errors='replace')}")
    rows = []
    # not splitlines(): it also splits at \x1e and \x1f
    for line in proc.stdout.decode("utf-8", "replace").split("\n")[:-1]:
        cells = line.split(_SEP)
        rows.append({name: cell.split(_AGG) if cell else []
                     for name, cell in zip(fields, cells, strict=True)})
    return rows


def pairs(node: Tree) -> Iterator[tuple[str, str | Tree]]:
    """The pairs of ``node``, with JSON arrays expanded into one pair per element."""
    for key, value in node:
        if isinstance(value, Tree) or not isinstance(value, list):
            yield key, value
        else:
            for item in value:
                yield key, item


def find(node: Tree, key: str) -> Tree | None:
    """The first subtree named ``key`` anywhere below ``node`` (depth first), or None."""
    for k, v in pairs(node):
        if isinstance(v, Tree):
            if k == key:
                return v
            found = find(v, key)
            if found is not None:
                return found
    return None


def leaves(node: Tree, stop: Callable[[str], bool] = lambda key: False
           ) -> Iterator[tuple[str, str]]:
    """Every ``(field, value)`` leaf below ``node`` in display order.

    Subtrees whose key satisfies ``stop`` are not entered, and expert items (``_ws.*``) are
    left out (see :func:`expert_items`).
    """
    for k, v in pairs(node):
        if k.startswith("_ws.") or stop(k):
            continue
        if isinstance(v, Tree):
            yield from leaves(v, stop)
        else:
            yield k, v


def expert_items(node: Tree) -> list[str]:
    """Every expert item and malformed-packet marker below ``node``, as readable text."""
    found: list[str] = []
    for k, v in pairs(node):
        if k == "_ws.malformed":
            found.append("_ws.malformed (Malformed Packet)")
        elif k == "_ws.expert" and isinstance(v, Tree):
            found.append(f"expert: {v.get('_ws.expert.message')!r} "
                         f"(severity {v.get('_ws.expert.severity')})")
        elif isinstance(v, Tree):
            found.extend(expert_items(v))
    return found


# --------------------------------------------------------------------------- values

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])}
_ABS_TIME = re.compile(r"(\w{3}) +(\d+), (-?\d+) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? UTC$")


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date, for any year (H. Hinnant)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


assert _days_from_civil(2023, 11, 14) == (date(2023, 11, 14) - date(1970, 1, 1)).days


class AbsTime(tuple):
    """An FT_ABSOLUTE_TIME value as ``(seconds since the epoch, nanoseconds)``.

    tshark prints these as ``Nov 14, 2023 22:13:20.500000000 UTC`` (with years far past
    9999 for large values, which ``datetime`` cannot hold); :meth:`parse` reads that back
    into numbers so that times are compared as numbers.
    """

    def __new__(cls, secs: int, nsecs: int) -> AbsTime:
        return super().__new__(cls, (secs, nsecs))

    @classmethod
    def parse(cls, text: str) -> AbsTime:
        m = _ABS_TIME.match(text.strip())
        if m is None:
            raise ValueError(f"not a tshark UTC absolute time: {text!r}")
        mon, day, year, hh, mm, ss, frac = m.groups()
        days = _days_from_civil(int(year), _MONTHS[mon], int(day))
        nsecs = int((frac or "0").ljust(9, "0")[:9])
        return cls(days * 86400 + int(hh) * 3600 + int(mm) * 60 + int(ss), nsecs)


def tshark_bytes(text: str) -> bytes:
    """An FT_BYTES value as tshark prints it (``01:02:ff`` or ``0102ff``; empty = b"")."""
    return bytes.fromhex(text.replace(":", ""))


def _int(text: str) -> int:
    """A number as tshark prints it: decimal, or hex with ``0x``."""
    text = text.strip()
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def same_value(text: str, ours: object) -> bool:
    """Does tshark's printed ``text`` equal our decoded value ``ours``?

    The comparison follows the type of ``ours``: bool and int by number (``0x`` hex
    accepted), addresses as addresses, bytes as bytes, AbsTime as numbers, str as text.
    """
    try:
        if isinstance(ours, int):  # bool too: tshark prints booleans as 1 / 0
            return _int(text) == int(ours)
        if isinstance(ours, IPv4Address | IPv6Address):
            return ip_address(text) == ours
        if isinstance(ours, bytes | bytearray):
            return tshark_bytes(text) == bytes(ours)
        if isinstance(ours, AbsTime):
            return AbsTime.parse(text) == ours
        if isinstance(ours, str):
            return text == ours
    except ValueError:
        return False
    raise TypeError(f"cannot compare a {type(ours).__name__} with tshark output")
