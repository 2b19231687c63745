"""The object-free slow path (pmipview.agents.lma_direct, ``FastPath.serve``) decides as
the full way does.

Two LMAs with the same settings see the same datagrams: one driven as a runner that uses
``serve`` drives it (``serve`` first, its ``kind`` counted and its ``extra`` outputs sent;
else decode → ``receive`` → ``learn``), one without any fast path.  Every answer (the
PBA and any BRI, byte for byte, to the same place), the event counts, the Binding Cache,
the pool, the pending revocations, the peers and the next timer must be the same, over
hypothesis-generated PBU sequences: attach, refresh, handoff between three MAGs and
between interfaces, detach and late detach, HI variants, LLI absent or all-zero, old and
far sequence numbers, specific HoAs (held, foreign, outside the pool), pool exhaustion
(multihomed NAIs), profiles (static HoA, relay, no DHCP, IPv4 refused, disabled, unknown
NAI without a default), shapes it must leave to the full way (HNP, A=0, other flags,
duplicated options, other MN-ID subtypes), BRAs answered or not, expiry, reloads.
"""

from __future__ import annotations

from collections import Counter
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.mh import BindingRevocation, BindingUpdate, decode_mh, encode_mh
from dissectors.mh_codes import BRAStatus, BRType, BUFlag
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    HomeNetworkPrefix,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
)
from pmipview.agents import churn
from pmipview.agents.base import Event, Send
from pmipview.agents.lma import LMA, LMAConfig, Profile
from pmipview.agents.pool import AddressPool
from pmipview.wire.codec import decode_mh_datagram, encode_payload

LMAA = IPv4Address("192.0.2.1")
MAGS = [IPv4Address("198.51.100.1"), IPv4Address("198.51.100.2"),
        IPv4Address("198.51.100.3")]
PORTS = [40000, 5436, 40002]
ROUTER = IPv4Address("10.0.0.1")
NAIS = ["a@x", "b@x", "static@x", "relay@x", "off@x", "nov4@x"]
PROFILES = {"static@x": Profile(static_hoa=IPv4Address("10.0.0.4")),
            "relay@x": Profile(dhcp_mode="relay"), "off@x": Profile(allowed=False),
            "nov4@x": Profile(ipv4=False)}
MACS = [b"\x02\0\0\0\0\x01", b"\x02\0\0\0\0\x02", b"\0" * 6]


def make(direct: bool, **kw) -> tuple[LMA, dict]:
    pool = AddressPool(IPv4Network("10.0.0.0/29"), frozenset({ROUTER}),
                       last=IPv4Address("10.0.0.4"))  # three HoAs: exhaustion happens
    lma = LMA(LMAConfig(pool=pool,
                        default_router=ROUTER, hnp_pool=IPv6Network("2001:db8:100::/62"),
                        profiles=dict(PROFILES), **kw))
    table = lma.enable_fast_path().table() if direct else {}
    return lma, table


def drive(lma: LMA, table: dict, now: float, payload: bytes, mag: int,
          counts: Counter[str]) -> list[tuple]:
    """One datagram as a runner does: what it sends (destination, port, bytes)."""
    peer = (str(MAGS[mag]), PORTS[mag])
    fp = lma.fast
    if fp is not None:
        pba = fp.serve(now, table, peer, payload, LMAA)
        if pba is not None:
            counts[fp.kind] += 1
            answer = [(MAGS[mag], PORTS[mag], bytes(pba))] if pba else []
            return [*answer, *sent(fp.extra or [], counts)]
    packet = decode_mh_datagram(payload, MAGS[mag], LMAA, PORTS[mag], 5436)
    outs = lma.receive(now, packet)  # type: ignore[arg-type]
    if fp is not None and fp.offer is not None:
        fp.learn(table, peer, payload)
    return sent(outs, counts)


def sent(outs: list, counts: Counter[str]) -> list[tuple]:
    got = []
    for o in outs:
        if isinstance(o, Send):
            got.append((o.packet.dst, o.packet.dport, encode_payload(o.packet)))
        elif isinstance(o, Event):
            counts[o.kind] += 1
    return got


def state(lma: LMA):
    peers = sorted((str(a), p.port, str(p.lmaa), p.next_at) for a, p in lma._peers.items())
    pending = sorted((q, p.session, p.attempts, p.deadline, encode_payload(p.send.packet))
                     for q, p in lma._pending.items())
    assert lma._revoking == Counter(p.session for p in lma._pending.values())
    return (lma.bindings(), lma.next_timer(), peers, pending, lma._bri_seq,
            sorted((int(a), o) for a, o in lma.config.pool._owner.items()),
            dict(lma._cache.at_mag), lma._cache.next_sid)


def pbu_bytes(s: dict, seq: int, hoa: IPv4Address | None) -> bytes:
    nai = NAIS[s["nai"]].encode()
    opts: list = [MNIdentifier(nai, 1 if s["subtype"] else 3)]
    opts += [HandoffIndicatorOpt(s["hi"]), AccessTechnologyOpt(s["att"])]
    if s["lli"] >= 0:
        opts.append(MNLinkLayerId(MACS[s["lli"]]))
    if s["v4"] != "none":
        addr = {"any": IPv4Address(0), "held": hoa or IPv4Address(0),
                "other": IPv4Address("10.0.0.3"), "outside": IPv4Address("10.9.9.9"),
                "router": ROUTER}[s["v4"]]
        opts.append(IPv4HoARequest(addr, s["plen"]))
    if s["v6"]:
        opts.append(HomeNetworkPrefix(IPv6Address(0), 0))
    if s["dup"]:
        opts.append(opts[s["dup"] % len(opts)])
    order = s["order"] % len(opts)
    opts = opts[order:] + opts[:order]   # any order on the wire
    flags = BUFlag.P | (BUFlag.A if s["ack"] else 0) | (BUFlag.H if s["hflag"] else 0)
    return encode_mh(BindingUpdate(seq, flags, s["lifetime"], tuple(opts)))


def bra_for(payload: bytes, status: int = BRAStatus.SUCCESS) -> bytes | None:
    msg, _ = decode_mh(payload)
    if not isinstance(msg, BindingRevocation) or msg.br_type != BRType.BRI:
        return None
    mnid = msg.option(MNIdentifier)
    return encode_mh(BindingRevocation(BRType.BRA, status, msg.seq, msg.flags,
                                       (mnid,) if mnid is not None else ()))


_rare = [False] * 19 + [True]
step = st.fixed_dictionaries({
    "nai": st.sampled_from([0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5]),
    "mag": st.sampled_from([0, 0, 1, 2]),
    "seq_step": st.sampled_from([1, 1, 1, 1, 1, 2, 0, -1, 0x8000]),
    "lifetime": st.sampled_from([0, 1, 150, 150, 150, 0xFFFF]),
    "hi": st.sampled_from([1, 2, 3, 4, 5, 5, 5, 7]), "att": st.sampled_from([4, 4, 4, 5]),
    "lli": st.sampled_from([0, 0, 0, 1, 2, -1]),
    "v4": st.sampled_from(["any", "any", "held", "held", "held", "held", "other",
                           "outside", "router", "none"]),
    "plen": st.sampled_from([0, 29]), "v6": st.sampled_from(_rare),
    "ack": st.sampled_from([not r for r in _rare]), "hflag": st.sampled_from(_rare),
    "subtype": st.sampled_from([not r for r in _rare]),
    "dup": st.sampled_from([0] * 18 + [1, 2]),
    "order": st.integers(0, 5), "repeat": st.integers(1, 3),
    "where": st.sampled_from(["mag", "holder", "holder", "next"]),
    "dt": st.sampled_from([0.25, 1.0, 1.0, 3.0, 700.0]),
    "bra": st.sampled_from(["no", "ok", "ok", "failed", "twice", "other MAG"]),
    "reload": st.sampled_from([False] * 14 + [True]),
})


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=14),
       cfg=st.fixed_dictionaries({
           "sequence_window": st.booleans(),
           "revoke_on_handoff": st.booleans(),
           "min_lifetime": st.sampled_from([0, 0, 300]),
           "max_lifetime": st.sampled_from([3600, 600]),
           "heartbeat_interval": st.sampled_from([None, None, 30.0]),
           "adopt_foreign_hoa": st.booleans(),
           "default_profile": st.sampled_from([Profile(), Profile(), Profile(dhcp_mode="relay"),
                                               Profile(dhcp_mode=None), None])}))
def test_pbus_decided_from_bytes_leave_what_the_full_way_leaves(steps, cfg):
    # tables rebuilt after every few removals (pmipview.agents.churn), not after 1,024+:
    # a session left pointing at a replaced template table would answer from a template
    # the slow path has forgotten
    with patch.object(churn, "_FLOOR", 0):
        _compare(steps, cfg)


def _compare(steps, cfg) -> None:
    slow, _ = make(False, **cfg)
    fast, table = make(True, **cfg)
    counts_slow: Counter[str] = Counter()
    counts_fast: Counter[str] = Counter()
    now = 10.0
    seqs = [0, 0, 0]
    for s in steps:
        now += s["dt"]
        if s["reload"]:
            profiles = {**PROFILES, NAIS[0]: Profile(dhcp_mode="relay")}
            slow.reload(profiles, cfg["default_profile"])
            fast.reload(profiles, cfg["default_profile"])
        want_t = sent(slow.timer(now), counts_slow)
        assert sent(fast.timer(now), counts_fast) == want_t
        mine = slow.bindings_for(NAIS[s["nai"]])
        mag = s["mag"]
        if mine and s["where"] != "mag":  # at the MAG holding the NAI's session, or the next
            mag = (MAGS.index(mine[0].mag) + (s["where"] == "next")) % len(MAGS)
        for _ in range(s["repeat"]):
            seqs[mag] = (seqs[mag] + s["seq_step"]) & 0xFFFF
            raw = pbu_bytes(s, seqs[mag], mine[0].hoa if mine else None)
            want = drive(slow, {}, now, raw, mag, counts_slow)
            got = drive(fast, table, now, raw, mag, counts_fast)
            assert got == want
            assert counts_fast == counts_slow
            assert state(fast) == state(slow)
            for dst, _port, payload in want[1:]:   # BRIs: the old MAG answers
                bra = bra_for(payload, 128 if s["bra"] == "failed" else 0)
                if bra is None or s["bra"] == "no":
                    continue
                k = (MAGS.index(dst) + (s["bra"] == "other MAG")) % len(MAGS)
                for _ in range(1 + (s["bra"] == "twice")):
                    w = drive(slow, {}, now, bra, k, counts_slow)
                    assert drive(fast, table, now, bra, k, counts_fast) == w
                    assert state(fast) == state(slow)
            now += 0.25
    assert counts_fast == counts_slow
    assert state(fast) == state(slow)


def _run(direct: bool):
    lma, table = make(direct)
    counts: Counter[str] = Counter()
    base = {"nai": 0, "att": 4, "lli": 0, "v4": "any", "plen": 0, "v6": False, "ack": True,
            "hflag": False, "subtype": True, "dup": 0, "order": 0}
    out = []
    hoa = None
    for seq, (hi, life, mag) in enumerate([(1, 150, 0), (5, 150, 0), (5, 150, 0),
                                           (3, 150, 1), (5, 0, 1)], 1):
        s = {**base, "hi": hi, "lifetime": life, "v4": "any" if hoa is None else "held"}
        out.append(drive(lma, table, float(seq), pbu_bytes(s, seq, hoa), mag, counts))
        hoa = hoa or lma.bindings()[0].hoa
    return lma, out, counts


def test_attach_refresh_handoff_detach_are_decided_from_bytes():
    lma, out, counts = _run(True)
    _, want, want_counts = _run(False)
    assert out == want and counts == want_counts
    assert counts == {"registered": 1, "refreshed": 2, "handoff": 1, "deregistered": 1}
    fp = lma.fast
    assert fp is not None
    assert fp.direct == 4 and fp.hits == 1   # the second refresh: its template
    assert len(out[3]) == 2                 # the handoff's PBA and its BRI
    bra = bra_for(out[3][1][2])
    assert bra is not None
    assert drive(lma, {}, 9.0, bra, 0, counts) == [] and counts["revoked"] == 1
    assert fp.direct == 5 and not lma.revoking()
    assert len(lma) == 0


def test_what_it_cannot_read_goes_the_full_way():
    lma, table = make(True)
    fp = lma.fast
    assert fp is not None
    base = {"nai": 0, "hi": 1, "att": 4, "lli": 0, "v4": "any", "plen": 0, "v6": False,
            "ack": True, "hflag": False, "subtype": True, "dup": 0, "order": 0,
            "lifetime": 150}
    for change in ({"v6": True}, {"ack": False}, {"hflag": True}, {"dup": 1},
                   {"subtype": False}, {"v4": "none"}, {"nai": 4}):
        raw = pbu_bytes({**base, **change}, 1, None)
        assert fp.serve(1.0, table, (str(MAGS[0]), PORTS[0]), raw, LMAA) is None, change
    assert fp.direct == 0 and len(lma) == 0
