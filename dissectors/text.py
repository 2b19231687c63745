"""Text from the wire, made safe to show: the one escaping rule of the whole project.

An MN-ID, a DHCP host name or a client identifier may hold ESC, BEL, CR, LF or other
control characters that would clear an analyst's terminal, forge lines in a log or a
CSV, or break an SVG.  Every text view of wire bytes (``MNIdentifier.text``,
``DhcpTextOption.text``...) goes through :func:`display_text`, so every renderer — the
terminal, JSON, CSV, HTML, SVG, Mermaid, PlantUML, mscgen — gets the same escaped string.
The raw bytes stay in the decoded objects (``identifier``, ``value``): re-encoding is
exact and agents echo options byte for byte.

Escaping: each control character (C0, DEL, C1), the Unicode line and paragraph
separators and the bidirectional overrides is written ``\\xNN`` (``\\uNNNN`` above
0xFF), and a backslash ``\\\\``, so the escaping is reversible and idempotent-free of
surprises: clean text is returned unchanged.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch == "\\":
        return "\\\\"
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(value: object) -> str:
    """``str(value)`` with control characters escaped (clean text unchanged)."""
    text = value if isinstance(value, str) else str(value)
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def display_text(raw: bytes) -> str:
    """Wire bytes as safe text: UTF-8 (invalid bytes as ``\\xNN``), controls escaped."""
    text = raw.decode("utf-8", "backslashreplace")
    if _UNSAFE.search(text) is None:
        return text
    # backslashreplace already wrote invalid bytes as \xNN: keep those backslashes
    return "".join(safe_text(part) if i % 2 == 0 else part
                   for i, part in enumerate(re.split(r"(\\x[0-9a-f]{2})", text)))
