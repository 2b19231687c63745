"""Strings from the wire are untrusted: one place that makes them safe to print.

An MN-ID, a DHCP host name or a client identifier may hold ESC, BEL, CR, LF or other
control characters that would clear an analyst's terminal or forge log lines.  Every
renderer passes such strings through :func:`safe_text`, which writes each control
character (C0, DEL, C1, and the Unicode line/paragraph separators) as ``\\xNN`` (or
``\\uNNNN``) and a backslash as ``\\\\``, so the escaping is reversible.
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
    """``str(value)`` with control characters escaped (idempotent on clean text)."""
    text = value if isinstance(value, str) else str(value)
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)
