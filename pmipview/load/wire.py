"""The load generator's wire forms: PBUs from templates, PBAs read in place.

Encoding every PBU with :func:`dissectors.mh.encode_mh` and decoding every PBA with
``decode_mh`` would cost the generator more than the LMA it measures.  The PBUs of one
kind differ only in fixed-width fields (sequence number, NAI digits, MAC, IPv4 HoA), so
each kind is encoded once with :func:`encode_mh` (the project's one encoder) and the
fields are patched at the offsets found in that encoding; ``tests/load/test_wire.py``
checks every patched PBU against ``encode_mh`` of the same message.  A PBA is read at
fixed offsets (status, sequence number, the IPv4 HoA Reply option); anything else falls
back to the full decoder.

NAIs are ``mn<7 digits>@load.pmipview`` and MACs ``02:00:`` + the MN number (locally
administered), so MN ``i`` is the same identity in every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address
from struct import Struct

from dissectors.mh import BindingUpdate, encode_mh
from dissectors.mh_codes import (
    AccessTechnology,
    BUFlag,
    HandoffIndicator,
    MHType,
    OptionType,
)
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
)

MAX_MNS = 10_000_000
NAI_DIGITS = 7
NAI_DOMAIN = "@load.pmipview"

# what each kind of PBU says (RFC 5213 §5.4 Handoff Indicator, lifetime 0 = detach)
ATTACH, REFRESH, HANDOFF, DETACH = 0, 1, 2, 3
KINDS = ("attach", "refresh", "handoff", "detach")
_HI = {ATTACH: HandoffIndicator.NEW_INTERFACE,
       REFRESH: HandoffIndicator.NOT_CHANGED,
       HANDOFF: HandoffIndicator.INTER_MAG,
       DETACH: HandoffIndicator.UNKNOWN}

_SENTINEL_NAI = "mn" + "9" * NAI_DIGITS + NAI_DOMAIN
_SENTINEL_MAC = "02:00:fe:dc:ba:98"
_SENTINEL_HOA = IPv4Address("203.0.113.77")

_MH_BA = int(MHType.BA)
_OPT_HOA_REPLY = int(OptionType.IPV4_HOA_REPLY)
_OPT_MN_ID = int(OptionType.MN_IDENTIFIER)
_DOMAIN = NAI_DOMAIN.encode()


def nai(mn: int) -> str:
    return f"mn{mn:0{NAI_DIGITS}d}{NAI_DOMAIN}"


def mac(mn: int) -> str:
    b = (mn & 0xFFFFFFFF).to_bytes(4, "big")
    return "02:00:" + ":".join(f"{x:02x}" for x in b)


def pbu_message(kind: int, mn: int, seq: int, lifetime_units: int, hoa: IPv4Address,
                prefix_len: int, att: int = AccessTechnology.IEEE_802_11) -> BindingUpdate:
    """The PBU a template stands for (what the tests compare against)."""
    opts = (MNIdentifier.nai(nai(mn)), HandoffIndicatorOpt(_HI[kind]),
            AccessTechnologyOpt(att), MNLinkLayerId.mac(mac(mn)),
            IPv4HoARequest(hoa, prefix_len))
    return BindingUpdate(seq, BUFlag.A | BUFlag.P, 0 if kind == DETACH else lifetime_units,
                         opts)


@dataclass(frozen=True, slots=True)
class _Template:
    raw: bytes
    nai_at: int
    mac_at: int
    hoa_at: int

    def packer(self) -> Callable[[int, int, int, int], bytes]:
        """``f(seq, mn, hoa, prefix_len) -> bytes``: one ``Struct.pack`` of the template's
        fixed runs and the patched fields (a third of the time of patching a copy)."""
        raw, n, m, h = self.raw, self.nai_at, self.mac_at, self.hoa_at
        runs = (raw[:6], raw[8:n], raw[n + NAI_DIGITS:m], raw[m + 4:h - 2], raw[h - 1:h],
                raw[h + 4:])
        st = Struct(f">6sH{len(runs[1])}s{NAI_DIGITS}s{len(runs[2])}sI{len(runs[3])}sB"
                    f"1sI{len(runs[5])}s")
        assert st.size == len(raw)
        pack = st.pack
        r0, r1, r2, r3, r4, r5 = runs
        digits = f"%0{NAI_DIGITS}d".encode()

        def build(seq: int, mn: int, hoa: int, prefix_len: int) -> bytes:
            return pack(r0, seq & 0xFFFF, r1, digits % mn, r2, mn & 0xFFFFFFFF, r3,
                        (prefix_len & 0x3F) << 2, r4, hoa, r5)

        return build


class PbuFactory:
    """PBU bytes for (kind, MN, sequence number, HoA): one ``encode_mh`` per kind."""

    def __init__(self, lifetime_units: int, att: int = AccessTechnology.IEEE_802_11) -> None:
        self.lifetime_units = lifetime_units
        self._t = [self._template(k, lifetime_units, att) for k in range(len(KINDS))]
        self.packers = [t.packer() for t in self._t]   # by kind: f(seq, mn, hoa, plen)

    @staticmethod
    def _template(kind: int, units: int, att: int) -> _Template:
        raw = encode_mh(pbu_message(kind, 0, 0, units, _SENTINEL_HOA, 31, att))
        # find the variable fields by encoding with sentinels (each occurs exactly once)
        probe = encode_mh(_sentinel_message(kind, units, att))
        digits = ("9" * NAI_DIGITS).encode()
        nai_at = probe.index(digits)
        mac_at = probe.index(bytes.fromhex(_SENTINEL_MAC.replace(":", ""))[2:])
        hoa_at = probe.index(_SENTINEL_HOA.packed)
        for at, n in ((nai_at, NAI_DIGITS), (mac_at, 4), (hoa_at, 4)):
            assert probe.count(probe[at:at + n]) == 1
        return _Template(raw, nai_at, mac_at, hoa_at)

    def build(self, kind: int, mn: int, seq: int, hoa: int = 0, prefix_len: int = 0
              ) -> bytes:
        """``hoa`` as an int (0: ask for one); sequence number mod 2**16."""
        return self.packers[kind](seq, mn, hoa, prefix_len)


def _sentinel_message(kind: int, units: int, att: int) -> BindingUpdate:
    opts = (MNIdentifier.nai(_SENTINEL_NAI), HandoffIndicatorOpt(_HI[kind]),
            AccessTechnologyOpt(att), MNLinkLayerId.mac(_SENTINEL_MAC),
            IPv4HoARequest(_SENTINEL_HOA, 31))
    return BindingUpdate(0xABCD, BUFlag.A | BUFlag.P, 0 if kind == DETACH else units, opts)


def read_pba(payload: bytes) -> tuple[int, int] | None:
    """(status, sequence number) of a Binding Acknowledgement, None for anything else.

    Checks what a MAG must before using it: Payload Proto 59, MH type 6, a header length
    that fits the datagram."""
    if len(payload) < 12 or payload[2] != _MH_BA or payload[0] != 59:
        return None
    if (payload[1] + 1) * 8 > len(payload):
        return None
    return payload[6], payload[8] << 8 | payload[9]


_HOA = Struct(">BBI").unpack_from


def pba_hoa(payload: bytes) -> tuple[int, int, int] | None:
    """(reply status, prefix length, HoA as int) from the PBA's IPv4 HoA Reply option."""
    end = min(len(payload), (payload[1] + 1) * 8)
    at = 12
    while at + 1 < end:
        t = payload[at]
        if t == _OPT_HOA_REPLY:
            if payload[at + 1] != 6 or at + 8 > end:
                return None
            status, plen, hoa = _HOA(payload, at + 2)
            return status, plen >> 2, hoa
        at += 1 if t == 0 else 2 + payload[at + 1]   # Pad1 has no length
    return None


def pba_mn(payload: bytes) -> int | None:
    """The MN number in the PBA's MN Identifier option (one of ours), else None."""
    data = _option(payload, _OPT_MN_ID)
    if data is None or len(data) != 1 + len(_SENTINEL_NAI) or data[0] != 1:
        return None
    text = data[1:]
    digits = text[2:2 + NAI_DIGITS]
    if text[:2] != b"mn" or text[2 + NAI_DIGITS:] != _DOMAIN or not digits.isdigit():
        return None
    return int(digits)


def _option(payload: bytes, wanted: int) -> bytes | None:
    """The data of the first option of type ``wanted`` in a BA, None when absent."""
    end = min(len(payload), (payload[1] + 1) * 8)
    at = 12
    while at < end:
        t = payload[at]
        if t == 0:  # Pad1
            at += 1
            continue
        if at + 1 >= end:
            return None
        n = payload[at + 1]
        if t == wanted:
            return payload[at + 2:at + 2 + n] if at + 2 + n <= end else None
        at += 2 + n
    return None
