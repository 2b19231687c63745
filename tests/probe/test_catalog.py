"""Every check of the catalog against the reference LMA core (all PASS or SKIP with a
reason) and against a core broken on purpose for exactly that rule (that check FAILs,
saying what it expected and what it observed, with frame numbers)."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Address

import pytest

from dissectors.mh import BindingAck, BindingError, BindingRevocation, Heartbeat
from dissectors.mh_codes import BAFlag, BAStatus, HandoffIndicator
from dissectors.mh_options import IPv4DefaultRouter, IPv4HoAReply, MNIdentifier, Timestamp
from pmipview.agents.base import Send
from pmipview.agents.lma import LMA, Profile
from pmipview.agents.lma_cache import BindingCache
from pmipview.probe.catalog import CATALOG, select
from pmipview.probe.driver import ERROR, FAIL, PASS, SKIP
from pmipview.probe.profile import profile_from
from tests.probe.harness import PROFILE, Loop, make_lma, run

REFUSED = "refused@example.com"
TS_PROFILE = dataclasses.replace(PROFILE, timestamps=True)
NAI_PROFILE = profile_from({"refused": [{"nai": REFUSED, "status": 170}],
                            "pool": "10.0.0.0/24", "default_router": "10.0.0.1"})


def _all_good(results) -> None:
    for r in results.values():
        assert r.status in (PASS, SKIP), (r.case.id, r.verdict)
        if r.status == SKIP:
            assert r.verdict.reason, r.case.id
        else:
            assert r.verdict.observed and r.frames, r.case.id


def test_reference_core_passes_over_udp4():
    results = run(make_lma())
    _all_good(results)
    skipped = {k for k, r in results.items() if r.status == SKIP}
    assert skipped == {"LMA-14", "LMA-15", "LMA-16", "LMA-19"}


def test_reference_core_passes_over_ipv6_with_one_mag():
    results = run(make_lma(), ipv6=True, mags=1)
    _all_good(results)
    assert results["LMA-19"].status == PASS
    assert "two MAG addresses" in results["LMA-06"].verdict.reason
    assert results["LMA-21"].status == SKIP


@pytest.mark.parametrize("delay", [0.6, 1.2, 1.6])
def test_a_slow_lma_still_passes_despite_retransmitted_copies(delay):
    """Each datagram takes ``delay`` to the LMA, more than the first timeout (0.5 s):
    requests are retransmitted and the copies get answers (135 for a re-sent PBU) that
    arrive while the next step, or the next check, waits."""
    results = run(make_lma(), delay=delay)
    _all_good(results)
    assert {k for k, r in results.items() if r.status == SKIP} == {
        "LMA-14", "LMA-15", "LMA-16", "LMA-19"}


def test_timestamps_and_refusals_pass_when_configured():
    results = run(make_lma(timestamp_window=7.0), profile=TS_PROFILE)
    _all_good(results)
    assert results["LMA-14"].status == results["LMA-15"].status == PASS
    assert results["LMA-13"].status == SKIP  # ordered by timestamps, not sequence numbers
    core = make_lma(profiles={REFUSED: Profile(ipv4=False)})
    assert run(core, profile=NAI_PROFILE, only=["LMA-16"])["LMA-16"].status == PASS
    strict = make_lma(default_profile=None, profiles={"a@x": Profile(), "b@x": Profile()})
    prof = profile_from({"accept_unknown": False, "allowed": ["a@x", "b@x"]})
    results = run(strict, profile=prof)
    _all_good(results)
    assert results["LMA-16"].status == PASS  # the unknown NAI got 153
    assert results["LMA-08"].status == PASS  # two allowed NAIs, reused after clean-up


def test_frames_are_numbered_in_order_and_cover_every_datagram():
    core = make_lma()
    results = run(core, only=["LMA-04", "LMA-06"])
    frames = [f for r in results.values() for f in r.frames]
    assert frames == list(range(1, len(frames) + 1))


def test_only_and_list():
    assert [c.id for c in select(["lma-3", "LMA-13,14"])] == ["LMA-03", "LMA-13", "LMA-14"]
    with pytest.raises(ValueError, match="LMA-99"):
        select(["LMA-99"])
    assert len({c.id for c in CATALOG}) == len(CATALOG) >= 22
    assert all(c.section.startswith("RFC ") and c.sends and c.passes for c in CATALOG)


# --- faulty cores -------------------------------------------------------------------------
class Faulty(LMA):
    """The reference core with one rule broken: ``fault(request, send) -> send | None``."""

    fault = staticmethod(lambda request, send: send)

    def receive(self, now, packet):
        outs = super().receive(now, packet)
        fixed = [self.fault(packet, o) if isinstance(o, Send) else o for o in outs]
        return [o for o in fixed if o is not None]

    def timer(self, now):
        outs = super().timer(now)
        return [self.fault(None, o) if isinstance(o, Send) else o for o in outs]


def mangle(kind, change, when=lambda req, msg: True):
    def fault(request, send):
        msg = send.packet.message
        if isinstance(msg, kind) and when(request, msg):
            return Send(dataclasses.replace(send.packet, message=change(msg)))
        return send
    return fault


def options(msg, drop=(), add=()):
    kept = tuple(o for o in msg.options if not isinstance(o, drop)) + tuple(add)
    return dataclasses.replace(msg, options=kept)


def hoa_plus_one(msg):
    rep = msg.hoa_reply
    new = IPv4HoAReply(rep.status, IPv4Address(int(rep.address) + 1), rep.prefix_len)
    return options(msg, (IPv4HoAReply,), (new,))


def hi(request) -> int | None:
    return request.message.handoff_indicator if request is not None else None


def status(code):
    return lambda req, msg: msg.status == code


class _KeepHoA(BindingCache):
    def set_hoa(self, session, hoa):
        if hoa is None:
            session.hoa = None
            return
        super().set_hoa(session, hoa)


class NoRelease(LMA):
    """De-registration keeps the HoA reserved in the pool."""

    def __init__(self, config):
        super().__init__(config)
        self._cache = _KeepHoA(config)


class WrongPort(Faulty):
    fault = staticmethod(lambda request, send: Send(dataclasses.replace(
        send.packet, dport=5436)) if send.packet.dport is not None else send)


def faulty(fault):
    return type("F", (Faulty,), {"fault": staticmethod(fault)})


ACCEPT = BAStatus.ACCEPTED
FAULTS = [
    ("LMA-01", faulty(mangle(BindingAck, lambda m: options(m, (IPv4DefaultRouter,)))), {},
     PROFILE, "no IPv4 Default-Router option"),
    ("LMA-02", LMA, {"default_profile": Profile(dhcp_mode="relay")}, PROFILE, "S=0"),
    ("LMA-03", faulty(mangle(BindingAck, lambda m: dataclasses.replace(m, flags=BAFlag(0)))),
     {}, PROFILE, "P flag clear"),
    ("LMA-03", faulty(mangle(BindingAck, lambda m: options(m, (MNIdentifier,)))), {},
     PROFILE, "MN-ID missing"),
    ("LMA-04", faulty(mangle(BindingAck, hoa_plus_one,
                             lambda req, m: hi(req) == HandoffIndicator.NOT_CHANGED)), {},
     PROFILE, "same HoA"),
    ("LMA-05", faulty(mangle(BindingAck, lambda m: dataclasses.replace(m, status=ACCEPT),
                             status(171))), {}, PROFILE, "171"),
    ("LMA-06", faulty(mangle(BindingAck, hoa_plus_one,
                             lambda req, m: hi(req) == HandoffIndicator.INTER_MAG)), {},
     PROFILE, "with the HoA of frame 2 (10.0.0.2)"),
    ("LMA-07", LMA, {"revoke_on_handoff": False}, PROFILE, "revocation = true"),
    ("LMA-07", faulty(mangle(BindingRevocation, lambda m: options(m, (MNIdentifier,)))), {},
     PROFILE, "MN-ID None"),
    ("LMA-08", NoRelease, {}, PROFILE, "free again"),
    ("LMA-09", faulty(mangle(BindingAck, lambda m: dataclasses.replace(m, status=128),
                             status(160))), {}, PROFILE, "160"),
    ("LMA-10", faulty(mangle(BindingAck, lambda m: dataclasses.replace(m, status=128),
                             status(161))), {}, PROFILE, "161"),
    ("LMA-11", faulty(mangle(BindingAck, lambda m: dataclasses.replace(m, status=128),
                             status(162))), {}, PROFILE, "162"),
    ("LMA-12", faulty(mangle(BindingAck, lambda m: options(m, (), (IPv4DefaultRouter(
        IPv4Address("10.0.0.1")),)), status(173))), {}, PROFILE, "without the IPv4 Default"),
    ("LMA-12", faulty(mangle(BindingAck, lambda m: dataclasses.replace(m, status=ACCEPT),
                             status(173))), {}, PROFILE, "173"),
    ("LMA-13", LMA, {"sequence_window": False}, PROFILE, "135"),
    ("LMA-13", faulty(mangle(BindingAck, lambda m: dataclasses.replace(m, seq=m.seq - 1),
                             status(135))), {}, PROFILE, "last accepted"),
    ("LMA-14", faulty(mangle(BindingAck, lambda m: options(m, (Timestamp,)), status(156))),
     {"timestamp_window": 7.0}, TS_PROFILE, "LMA's current Timestamp"),
    ("LMA-14", LMA, {"timestamp_window": 1e9}, TS_PROFILE, "156"),
    ("LMA-15", faulty(mangle(BindingAck, lambda m: dataclasses.replace(m, status=ACCEPT),
                             status(157))), {"timestamp_window": 7.0}, TS_PROFILE, "157"),
    ("LMA-16", LMA, {}, NAI_PROFILE, "170"),
    ("LMA-17", faulty(mangle(BindingAck, lambda m: dataclasses.replace(m, flags=BAFlag.P),
                             status(131))), {}, PROFILE, "without the P flag"),
    ("LMA-18", faulty(mangle(BindingError, lambda m: dataclasses.replace(m, status=1))), {},
     PROFILE, "Binding Error status 2"),
    ("LMA-20", faulty(mangle(Heartbeat, lambda m: dataclasses.replace(m, seq=m.seq ^ 1))),
     {}, PROFILE, "with sequence"),
    ("LMA-21", WrongPort, {}, PROFILE, "arrived on port 5436"),
    ("LMA-21", faulty(lambda request, send: Send(dataclasses.replace(send.packet, sport=5437))),
     {}, PROFILE, "from 192.0.2.1:5437"),
    ("LMA-22", LMA, {"min_lifetime": 400}, PROFILE, "granted lifetime"),
    ("LMA-22", LMA, {"max_lifetime": 7200}, PROFILE, "max_lifetime"),
]


@pytest.mark.parametrize(("check", "cls", "config", "profile", "words"), FAULTS,
                         ids=[f"{f[0]}-{i}" for i, f in enumerate(FAULTS)])
def test_each_check_fails_against_its_fault(check, cls, config, profile, words):
    result = run(make_lma(cls, **config), profile=profile, only=[check])[check]
    assert result.status == FAIL, result.verdict
    v = result.verdict
    assert v.expected and v.observed
    assert words in v.expected + " " + v.observed, v
    if "no answer" not in v.observed and "none within" not in v.observed:
        assert "frame " in v.observed, v


def test_bad_checksum_check_fails_when_checksums_are_not_verified():
    class Unverified(Loop):
        def _from_probe(self, outs):
            for tx in outs:
                if tx.raw is not None:  # deliver it as if the checksum were fine
                    tx = dataclasses.replace(tx, raw=None)
                super()._from_probe([tx])

    from pmipview.probe import build_driver
    from tests.probe.harness import EPOCH, FAST, MAGS6, TARGET6

    driver = build_driver(TARGET6, MAGS6, PROFILE, select(["LMA-19"]), timing=FAST,
                          sockets=frozenset({"bad"}), wall_offset=EPOCH)
    Unverified(make_lma(), driver).run()
    (result,) = driver.results
    assert result.status == FAIL and "silently discarded" in result.verdict.expected


def test_a_late_135_for_a_retransmitted_copy_is_not_the_next_answer():
    """Under load a MAG retransmits; the LMA answers the copy with 135 (same seq, already
    accepted).  That 135 must not be taken as the answer to the next request."""
    from dissectors.mh import BindingUpdate
    from pmipview.probe.driver import _answers

    pbu = BindingUpdate(11, options=(MNIdentifier.nai("a@b"),))
    late = BindingAck(135, 10, BAFlag.P, 0, (MNIdentifier.nai("a@b"),))
    assert _answers(pbu, late) == 1  # MAYBE
    stale = BindingUpdate(9, options=(MNIdentifier.nai("a@b"),))
    assert _answers(stale, late) == 2  # YES: 135 with the last accepted number
    other = BindingAck(0, 11, BAFlag.P, 0, (MNIdentifier.nai("c@d"),))
    assert _answers(pbu, other) == 0  # NO: another MN's


def test_silent_target_is_an_error_after_the_retransmissions():
    class Silent(LMA):
        def receive(self, now, packet):
            return []

    result = run(make_lma(Silent), only=["LMA-01"])["LMA-01"]
    assert result.status == ERROR
    assert "3 transmission(s) (0.5 s + 1 s + 2 s)" in result.verdict.reason
    assert result.frames == [1, 2, 3]
    assert result.duration == pytest.approx(3.5)


def test_answers_of_the_lma_to_the_probe_are_answered_like_a_mag():
    core = make_lma()
    loop_results = run(core, only=["LMA-07"])
    assert loop_results["LMA-07"].status == PASS
    assert not core.revoking()  # the BRA reached the LMA
