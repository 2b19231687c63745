"""The LMA's refresh fast path (pmipview.agents.lma_fast) answers exactly as the slow path.

Two LMAs with the same settings see the same datagrams: one with the fast path on (run as
the runtime runs it: ``answer`` first, else decode → ``receive`` → ``learn``), one
without.  Every answer must be the same bytes, and the Binding Cache, the pool and the
next timer the same, over hypothesis-generated PBU sequences (refreshes repeated with new
sequence numbers, old numbers, other MAGs, de-registrations, lifetimes, timestamps,
A=0, both address families, profile reloads and expiry between them).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.mh import BindingUpdate, encode_mh
from dissectors.mh_codes import BUFlag
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    HomeNetworkPrefix,
    IPv4HoARequest,
    LinkLocalAddress,
    MNIdentifier,
    MNLinkLayerId,
    Timestamp,
)
from pmipview.agents.base import Send
from pmipview.agents.lma import LMA, LMAConfig, Profile
from pmipview.agents.pool import AddressPool
from pmipview.wire.codec import decode_mh_datagram, encode_payload

LMAA = IPv4Address("192.0.2.1")
MAGS = [IPv4Address("198.51.100.1"), IPv4Address("198.51.100.2")]
PORTS = [40000, 40001]
ROUTER = IPv4Address("10.0.0.1")
EPOCH = 1_700_000_000.0
NAIS = ["a@x", "b@x"]
MACS = ["02:00:00:00:00:01", "02:00:00:00:00:02"]


def make(fast: bool, **kw) -> tuple[LMA, dict]:
    lma = LMA(LMAConfig(pool=AddressPool(IPv4Network("10.0.0.0/28"), frozenset({ROUTER})),
                        default_router=ROUTER, hnp_pool=IPv6Network("2001:db8:100::/60"),
                        clock_offset=EPOCH, **kw))
    table = lma.enable_fast_path().table() if fast else {}
    return lma, table


def drive(lma: LMA, table: dict, now: float, payload: bytes, mag: int
          ) -> tuple[list[bytes], bool]:
    """What the runtime does with one datagram: (answers sent, answered by the fast path)."""
    peer = (str(MAGS[mag]), PORTS[mag])
    fp = lma.fast
    if fp is not None:
        pba = fp.answer(now, table, peer, payload)
        if pba is not None:
            return [bytes(pba)], True
    packet = decode_mh_datagram(payload, MAGS[mag], LMAA, PORTS[mag], 5436)
    outs = lma.receive(now, packet)  # type: ignore[arg-type]
    if fp is not None and fp.offer is not None:
        fp.learn(table, peer, payload)
    return [encode_payload(o.packet) for o in outs if isinstance(o, Send)], False


def state(lma: LMA):
    return lma.bindings(), lma.next_timer(), sorted(
        (int(a), o) for a, o in lma.config.pool._owner.items())


def pbu_bytes(nai: int, seq: int, lifetime: int, hi: int, att: int, lli: bool, v4: int,
              v6: bool, ts: float | None, lla: bool, ack: bool) -> bytes:
    opts: list = [MNIdentifier.nai(NAIS[nai])]
    if v6:
        opts.append(HomeNetworkPrefix(IPv6Address(0), 0))
    opts += [HandoffIndicatorOpt(hi), AccessTechnologyOpt(att)]
    if lli:
        opts.append(MNLinkLayerId.mac(MACS[nai]))
    if v4 >= 0:
        opts.append(IPv4HoARequest(IPv4Address(0) if v4 == 0 else ROUTER + v4, 0))
    if ts is not None:
        opts.append(Timestamp.at(ts))
    if lla:
        opts.append(LinkLocalAddress(IPv6Address("fe80::1")))
    flags = BUFlag.P | (BUFlag.A if ack else 0)
    return encode_mh(BindingUpdate(seq, flags, lifetime, tuple(opts)))


step = st.fixed_dictionaries({
    "nai": st.integers(0, 1), "mag": st.sampled_from([0, 0, 0, 1]),
    "seq_step": st.sampled_from([1, 1, 1, 2, 0, -1, 0x8000]),
    "lifetime": st.sampled_from([0, 1, 37, 150, 150, 150, 0xFFFF]),
    "hi": st.sampled_from([1, 2, 3, 4, 5, 5, 5]), "att": st.sampled_from([4, 4, 5]),
    "lli": st.booleans(), "v4": st.sampled_from([0, 0, 1, 2, -1]), "v6": st.booleans(),
    "ts": st.sampled_from([None, None, 0.0, 100.0]), "lla": st.booleans(),
    "ack": st.sampled_from([True, True, True, False]),
    "repeat": st.integers(1, 4), "dt": st.sampled_from([0.5, 1.0, 200.0]),
    "reload": st.sampled_from([False] * 9 + [True]),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=10),
       cfg=st.fixed_dictionaries({
           "sequence_window": st.booleans(),
           "timestamp_window": st.sampled_from([None, None, 7.0]),
           "min_lifetime": st.sampled_from([0, 0, 300]),
           "max_lifetime": st.sampled_from([3600, 60]),
           "heartbeat_interval": st.sampled_from([None, 30.0]),
           "default_profile": st.sampled_from([Profile(), Profile(dhcp_mode="relay"),
                                               Profile(dhcp_mode=None)])}))
def test_fast_path_answers_byte_for_byte_as_the_slow_path(steps, cfg):
    slow, _ = make(False, **cfg)
    fast, table = make(True, **cfg)
    now = 10.0
    seqs = [0, 0]
    for s in steps:
        now += s["dt"]
        if s["reload"]:
            profile = Profile(dhcp_mode="relay")
            slow.reload({NAIS[0]: profile}, cfg["default_profile"])
            fast.reload({NAIS[0]: profile}, cfg["default_profile"])
        assert [str(o) for o in fast.timer(now)] == [str(o) for o in slow.timer(now)]
        for _ in range(s["repeat"]):  # the same request again and again: the fast path's case
            seqs[s["mag"]] = (seqs[s["mag"]] + s["seq_step"]) & 0xFFFF
            ts = None if s["ts"] is None else EPOCH + now + s["ts"]
            raw = pbu_bytes(s["nai"], seqs[s["mag"]], s["lifetime"], s["hi"], s["att"],
                            s["lli"], s["v4"], s["v6"], ts, s["lla"], s["ack"])
            want, _ = drive(slow, {}, now, raw, s["mag"])
            got, _ = drive(fast, table, now, raw, s["mag"])
            assert got == want
            assert state(fast) == state(slow)
            now += 0.25


def _refresh_run(fast: bool, n: int):
    lma, table = make(fast)
    hits = []
    out = []
    for k in range(n):
        hi = 1 if k == 0 else 5
        raw = pbu_bytes(0, k + 1, 150, hi, 4, True, 0, False, None, False, True)
        got, hit = drive(lma, table, 1.0 + k, raw, 0)
        out.append(got)
        hits.append(hit)
    return lma, out, hits


def test_a_repeated_refresh_is_answered_by_the_fast_path():
    lma, out, hits = _refresh_run(True, 6)
    _, want, slow_hits = _refresh_run(False, 6)
    assert out == want
    assert hits == [False, False, True, True, True, True]  # attach, first refresh learns
    assert not any(slow_hits)
    assert lma.fast is not None and lma.fast.hits == 4
    assert lma.bindings()[0].last_seq == 6 and lma.bindings()[0].updated == 6.0


def test_an_old_sequence_number_goes_the_slow_way_and_gets_135():
    lma, table = make(True)
    for k, seq in enumerate([1, 2, 3]):
        raw = pbu_bytes(0, seq, 150, 1 if k == 0 else 5, 4, True, 0, False, None, False, True)
        drive(lma, table, 1.0 + k, raw, 0)
    raw = pbu_bytes(0, 3, 150, 5, 4, True, 0, False, None, False, True)
    (pba,), hit = drive(lma, table, 5.0, raw, 0)
    assert not hit and pba[6] == 135


def test_expiry_and_deregistration_forget_the_template():
    lma, table = make(True)
    for k in range(3):
        raw = pbu_bytes(0, k + 1, 1, 1 if k == 0 else 5, 4, True, 0, False, None, False, True)
        drive(lma, table, 1.0 + k, raw, 0)
    assert table  # learnt
    lma.timer(100.0)  # 4 s lifetime: expired
    assert len(lma) == 0 and not any(table.values())
    raw = pbu_bytes(0, 9, 1, 5, 4, True, 0, False, None, False, True)
    _, hit = drive(lma, table, 101.0, raw, 0)
    assert not hit and len(lma) == 1  # a new session, by the slow path
