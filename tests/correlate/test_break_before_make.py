"""Break-before-make handoffs (RFC 5213 §5.3.5): the old MAG's binding is released (its
de-registration, or the LMA's BRI) before the new MAG registers the MN; within
MinDelayBeforeBCEDelete that is one handoff, not a detach and a new attachment."""

from __future__ import annotations

import pytest

from dissectors.mh_codes import RevocationTrigger
from pmipview.correlate.engine import MIN_DELAY_BEFORE_BCE_DELETE, Correlator
from pmipview.packets import Tally, scan
from pmipview.signals import signal_of
from tests.correlate.builders import (
    HOA1,
    HOA2,
    LMA,
    MAG1,
    MAG2,
    MN1,
    MN2,
    NAI1,
    Script,
    at,
    codes,
    mn,
    only,
)


def approx_ms(v: float):
    return pytest.approx(v, abs=1e-3)


def _registered(s: Script, mag: str = MAG1, seq: int = 10, mac: str = MN1) -> None:
    s.pbu(0, mag, LMA, seq, nai=NAI1, mac=mac)
    s.pba(0.005, mag, LMA, seq, nai=NAI1, mac=mac, hoa=HOA1)


def _deregistered(s: Script, t: float = 50, mag: str = MAG1, seq: int = 11) -> None:
    s.pbu(t, mag, LMA, seq, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1, plen=24)
    s.pba(t + 0.004, mag, LMA, seq, nai=NAI1, mac=MN1, hi=4, lifetime=0, hoa=HOA1)


def _revoked(s: Script, t: float = 50, mag: str = MAG1) -> None:
    s.bri(t, mag, LMA, 99, nai=NAI1, hoa=HOA1, trigger=RevocationTrigger.PER_PEER_POLICY)
    s.bra(t + 0.002, mag, LMA, 99)


def _new_mag(s: Script, t: float, hi: int, keep: bool = True, mac: str = MN1,
             mag: str = MAG2) -> None:
    s.pbu(t, mag, LMA, 20, nai=NAI1, mac=mac, hi=hi, hoa=HOA1 if keep else None, plen=24)
    s.pba(t + 0.006, mag, LMA, 20, nai=NAI1, mac=mac, hi=hi, hoa=HOA1 if keep else HOA2)


@pytest.mark.parametrize("keep", [True, False])
def test_deregistration_then_the_new_mag_is_one_handoff(keep):
    s = Script()
    _registered(s)
    _deregistered(s, 50)
    _new_mag(s, 50.300, hi=3, keep=keep)
    r = s.report()
    m = mn(r, NAI1)
    old, new = m.attachments
    assert (old.mag, old.end_reason, old.end) == (MAG1, "handoff",
                                                  pytest.approx(at(50.004), abs=1e-6))
    assert (new.mag, new.end_reason) == (MAG2, "end-of-capture")
    h = only(m.handoffs)
    assert (h.from_mag, h.to_mag, h.hoa_preserved) == (MAG1, MAG2, keep)
    assert h.handoff_ms == approx_ms(6.0)            # as before: new PBU -> new PBA
    assert h.interruption_ms == approx_ms(306.0)     # de-registration PBU -> new PBA
    assert ("hoa-changed-on-handoff" in codes(r)) is not keep


@pytest.mark.parametrize("keep", [True, False])
def test_revocation_then_the_new_registration_is_one_handoff(keep):
    s = Script()
    _registered(s)
    _revoked(s, 50)
    _new_mag(s, 50.500, hi=2, keep=keep)
    m = mn(s.report(), NAI1)
    old, new = m.attachments
    assert (old.end_reason, new.mag) == ("handoff", MAG2)
    h = only(m.handoffs)
    assert (h.from_mag, h.to_mag, h.hoa_preserved) == (MAG1, MAG2, keep)
    assert h.interruption_ms == approx_ms(506.0) and h.handoff_ms == approx_ms(6.0)


def test_revocation_then_hi2_from_another_interface_is_one_handoff():
    s = Script()
    _registered(s)
    _revoked(s, 50)
    _new_mag(s, 51, hi=2, mac=MN2)
    m = mn(s.report(), NAI1)
    h = only(m.handoffs)
    assert (h.from_mag, h.to_mag) == (MAG1, MAG2)
    assert [a.end_reason for a in m.attachments] == ["handoff", "end-of-capture"]


def test_make_before_break_has_no_interruption():
    s = Script()
    _registered(s)
    _new_mag(s, 50, hi=3)
    _revoked(s, 50.007)                               # the LMA revokes after the PBA
    h = only(mn(s.report(), NAI1).handoffs)
    assert h.interruption_ms is None and h.handoff_ms == approx_ms(6.0)


def test_a_detach_with_no_registration_within_the_window_stays_a_detach():
    s = Script()
    _registered(s)
    _deregistered(s, 50)
    _new_mag(s, 50 + MIN_DELAY_BEFORE_BCE_DELETE + 1, hi=3)
    m = mn(s.report(), NAI1)
    assert [a.end_reason for a in m.attachments] == ["detach", "end-of-capture"]
    assert m.handoffs == []


def test_the_window_is_a_setting():
    s = Script()
    _registered(s)
    _deregistered(s, 50)
    _new_mag(s, 55, hi=3)
    assert len(mn(s.report(), NAI1).handoffs) == 1

    def handoffs(delay: float) -> int:
        c = Correlator(bce_delete_delay=delay)
        for packet in scan(s.records(), Tally()):
            if (sig := signal_of(packet)) is not None:
                c.feed(sig)
        return len(only(c.finish().mobile_nodes).handoffs)

    assert (handoffs(2.0), handoffs(6.0)) == (0, 1)


def test_a_new_attachment_hi1_after_a_detach_is_not_a_handoff():
    s = Script()
    _registered(s)
    _deregistered(s, 50)
    _new_mag(s, 50.3, hi=1)
    m = mn(s.report(), NAI1)
    assert [a.end_reason for a in m.attachments] == ["detach", "end-of-capture"]
    assert m.handoffs == []


def test_a_reattach_at_the_same_mag_within_the_window_is_not_a_handoff():
    s = Script()
    _registered(s)
    _deregistered(s, 50)
    _new_mag(s, 52, hi=4, mag=MAG1)
    m = mn(s.report(), NAI1)
    assert [(a.mag, a.end_reason) for a in m.attachments] == [
        (MAG1, "detach"), (MAG1, "end-of-capture")]
    assert m.handoffs == []
