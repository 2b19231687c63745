"""Decoded values as plain data for JSON: numbers stay numbers, names go alongside.

``to_dict`` walks a decoded dataclass (a layer, a message, an option) by its fields, so
the JSON field names are the dataclass field names defined once in the codecs:

- an ``IntEnum`` value ``v`` in field ``f`` gives ``f: int`` and ``f_name: label``; a
  class's ``NAMES`` maps fields to their code-point table so unknown numbers are named
  ``unknown (N)`` too;
- an ``IntFlag`` gives ``f: int`` and ``f_names: ["A", "P"]``;
- addresses give their text, ``bytes`` give lowercase hex;
- options and nested layers give objects with ``type`` and ``type_name`` where they
  have a type code; a class may list extra read-only properties in ``JSON_EXTRA``.
"""

from __future__ import annotations

import dataclasses
from enum import IntEnum, IntFlag
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from .dhcp_options import DhcpOption
from .dhcp_options import option_name as dhcp_option_name
from .mh_codes import OptionType, name_of

# Layout records and warnings are reported elsewhere (frame warnings, header fields).
_WIRE_ONLY = frozenset(("wire", "layout", "warnings"))


def _label(v: IntEnum) -> str:
    return getattr(v, "label", "") or v.name or str(int(v))


def value(v: Any) -> Any:
    """One value as JSON data."""
    if isinstance(v, bool) or v is None or isinstance(v, str | float):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, IPv4Address | IPv6Address):
        return str(v)
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).hex()
    if dataclasses.is_dataclass(v):
        return to_dict(v)
    if isinstance(v, tuple | list):
        return [value(x) for x in v]
    return str(v)


def to_dict(obj: Any) -> dict[str, Any]:
    """A decoded dataclass as a JSON-ready dict (see the module doc for the rules)."""
    out: dict[str, Any] = {}
    type_code = getattr(obj, "TYPE", None)
    if type_code is not None and "type" not in {f.name for f in dataclasses.fields(obj)}:
        out["type"] = int(type_code)
        out["type_name"] = name_of(OptionType, type_code)
    if isinstance(obj, DhcpOption):
        out["code"] = int(obj.code)
        out["code_name"] = dhcp_option_name(int(obj.code))
    names = getattr(type(obj), "NAMES", {})
    for f in dataclasses.fields(obj):
        if not f.compare and f.name in _WIRE_ONLY:
            continue
        v = getattr(obj, f.name)
        if f.name in out:
            continue
        out[f.name] = value(v)
        if f.name in names and isinstance(v, int):
            out[f"{f.name}_name"] = name_of(names[f.name], v)
        elif isinstance(v, IntFlag):
            out[f"{f.name}_names"] = [m.name for m in type(v) if m in v and m.name]
        elif isinstance(v, IntEnum):
            out[f"{f.name}_name"] = _label(v)
        elif f.name == "type" and isinstance(v, int) and hasattr(obj, "name"):
            out["type_name"] = obj.name
    for extra in getattr(type(obj), "JSON_EXTRA", ()):
        out[extra] = value(getattr(obj, extra))
    return out
