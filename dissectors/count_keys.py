"""What the compiled counting path (``_csummary.pyx``) takes from the decoders, and the
frame each of its keys stands for.

``pmipview dissect --summary`` counts a frame by four facts: decoded or not, with
warnings or not, its kind and its status.  The compiled path walks a frame's headers in
C and, for a frame it is sure the full decoder (``decode_frame(lite=True)``) would
decode cleanly (no malformation, no warning), keeps only a **key**: the Mobility Header
type and the bytes of its fixed part that are not a sequence number, a lifetime or an
address, or the DHCP message type.  Every other frame goes to the full decoder.

Nothing here restates a decoder rule: the C path's tables are built from the decoders'
own (``_FIXED`` of ``mh.py``, the option classes of ``mh_options.py``, the rules of
``dhcp_lite.scan_dhcp``), and a key becomes a kind and a status by decoding, with the
real decoders, the smallest frame that carries it (:func:`key_frame`);
``packets.kind_of`` and ``packets.status_key`` then read it like any other frame.
"""

from __future__ import annotations

from dissectors.dhcp import MAGIC_COOKIE, OPTIONS_OFFSET
from dissectors.dhcp_codes import DhcpOptionCode
from dissectors.dhcp_lite import _RULE, scan_dhcp
from dissectors.dhcp_options import _SUB_ADDRESS_CODES, ADDRESS_LIST_CODES, TYPED_OPTION_CODES
from dissectors.frame import Frame
from dissectors.mh import _FIXED, IPPROTO_NONE, decode_mh
from dissectors.mh_codes import MHType
from dissectors.mh_options import OPTION_CLASSES, _BadLength

#: The bytes of each message's fixed part (from MH offset 6) that the key leaves out:
#: sequence numbers, lifetimes and the Binding Error's home address, which neither
#: ``kind_of`` nor ``status_key`` reads (the tests compare the keys' kinds and statuses
#: with the full decoder's on every sample, shape and fuzz mutant).  A key keeps the
#: other bytes among the first six.
KEY_MASKED: dict[int, tuple[int, ...]] = {
    int(MHType.BU): (0, 1, 4, 5),         # sequence, lifetime (flags kept)
    int(MHType.BA): (2, 3, 4, 5),         # sequence, lifetime (status, flags kept)
    int(MHType.HEARTBEAT): (2, 3, 4, 5),  # sequence (flags kept)
    int(MHType.BR): (2, 3),               # sequence (type, code, flags kept)
    int(MHType.BE): (2, 3, 4, 5),         # home address (status, reserved kept)
}
KEY_BYTES = 6

#: The key's tag (bits 56-63): a Mobility Header or a DHCP message.
TAG_MH, TAG_DHCP = 1, 2

# the DHCP rule flags of the C tables (one byte per option code)
D_TYPED, D_RULE, D_MTYPE, D_ADDRLIST, D_CLIENT_ID, D_RELAY, D_OVERLOAD = 1, 2, 4, 8, 16, 32, 64


def fixed_lengths() -> list[int]:
    """Per MH type 0-255: the length of its fixed part, or -1 (kept raw, no options)."""
    return [_FIXED.get(t, -1) for t in range(256)]


def masked_bytes() -> list[int]:
    """Per MH type: a bit mask of the key bytes (0-5) left out."""
    out = [0] * 256
    for t, positions in KEY_MASKED.items():
        for i in positions:
            out[t] |= 1 << i
    return out


_PATTERNS = (0x00, 0xFF, 0x01, 0x02)


def option_length_ok(otype: int, length: int) -> bool:
    """Does the decoder take a mobility option ``otype`` of data length ``length``
    without a warning, whatever its bytes?  Asked by the C path once per (type, length)
    it meets: each option class's ``from_data`` on data of every probe pattern (its
    first byte and the rest: 0, 0xFF, 1, 2); a length that any pattern turns into a
    warning (or an error) is not for the C path, which then hands the frame on."""
    cls = OPTION_CLASSES.get(otype)
    if cls is None:
        return True  # UnknownOption, never a warning
    for first in _PATTERNS:
        for rest in _PATTERNS:
            data = bytes([first]) + bytes([rest]) * (length - 1) if length else b""
            try:
                cls.from_data(data)
            except _BadLength:
                return False
            except Exception:  # the full decoder's business
                return False
    return True


def dhcp_rules() -> list[tuple[int, int, int]]:
    """Per DHCP option code 0-255: (flags, length, minimum) of ``scan_dhcp``'s checks,
    from its own tables (``D_*`` flags, in the order ``scan_dhcp`` tests them)."""
    out = []
    for code in range(256):
        flags, length, minimum = 0, 0, 0
        if code in TYPED_OPTION_CODES:
            flags |= D_TYPED
            rule = _RULE.get(code)
            if rule is not None:
                flags |= D_RULE
                length, minimum = rule
            elif code == DhcpOptionCode.MESSAGE_TYPE:
                flags |= D_MTYPE
            elif code in ADDRESS_LIST_CODES:
                flags |= D_ADDRLIST
            elif code == DhcpOptionCode.CLIENT_ID:
                flags |= D_CLIENT_ID
            elif code == DhcpOptionCode.RELAY_AGENT_INFO:
                flags |= D_RELAY
            elif code == DhcpOptionCode.OVERLOAD:
                flags |= D_OVERLOAD
        out.append((flags, length, minimum))
    return out


def relay_address_codes() -> frozenset[int]:
    """Option 82 sub-options that must be 4 bytes long (else a warning)."""
    return frozenset(_SUB_ADDRESS_CODES)


def key_frame(key: int) -> Frame:
    """The smallest frame carrying ``key``, decoded by the real decoders (its kind and
    status are those of every frame the C path counted under that key)."""
    tag = key >> 56
    if tag == TAG_MH:
        mh_type = (key >> 48) & 0xFF
        kept = (key & ((1 << 48) - 1)).to_bytes(KEY_BYTES, "big")
        fixed = max(_FIXED.get(mh_type, 0), 0)
        body = (kept + bytes(max(0, fixed - KEY_BYTES)))[:fixed]
        size = 6 + len(body)
        size += -size % 8
        raw = bytes([IPPROTO_NONE, size // 8 - 1, mh_type, 0, 0, 0]) + body
        raw += bytes(size - len(raw))
        msg, _ = decode_mh(raw)
        return Frame(0, len(raw), mh=msg)
    if tag == TAG_DHCP:
        mtype = (key & 0x1FF) - 1
        opts = bytes([DhcpOptionCode.MESSAGE_TYPE, 1, mtype]) if mtype >= 0 else b""
        raw = bytes(OPTIONS_OFFSET - 4) + MAGIC_COOKIE.to_bytes(4, "big") + opts \
            + bytes([DhcpOptionCode.END])
        lite = scan_dhcp(raw)
        if lite is None:  # pragma: no cover - the representative is clean by construction
            raise ValueError(f"no clean DHCP message for key 0x{key:x}")
        return Frame(0, len(raw), dhcp=lite)
    raise ValueError(f"not a counting key: 0x{key:x}")
