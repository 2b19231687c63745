"""Which attachment a new registration takes over: make-before-break, the LMA's
revocation for the new MAG, and break-before-make within MinDelayBeforeBCEDelete
(RFC 5213 §5.3.5; docs/timeline.md); a mixin of the
:class:`~pmipview.correlate.engine.Correlator`."""

from __future__ import annotations

from pmipview.correlate.model import Attachment, EndReason, Handoff, MobileNode, Transaction
from pmipview.signals import MobilitySignal


class HandoffMixin:
    def _previous(self, mn: MobileNode, att: Attachment) -> Attachment | None:
        """The attachment ``att`` takes over: the same interface at another MAG, or, for
        an inter-interface handoff (HI=2), the other interface whose HoA or HNP moved."""
        for other in reversed(mn.attachments):
            if other is att or other.registered is None:
                continue
            if not other.active:
                if self._released_for(other, att):
                    other.end_reason = EndReason.HANDOFF
                    return other
                continue
            if other.key == att.key and other.mag != att.mag:
                return other
            if att.handoff_indicator == 2 and other.key != att.key and (
                    (att.ipv4_hoa and other.ipv4_hoa == att.ipv4_hoa)
                    or set(att.hnps) & set(other.hnps)):
                return other
        return None

    def _released_for(self, old: Attachment, att: Attachment) -> bool:
        """Whether ``old``, de-registered or revoked already, is the binding that ``att``
        takes over at another MAG.  Either the LMA revoked it (BRI) for this registration,
        after the new MAG's first PBU, or break-before-make (RFC 5213 §5.3.5): the binding
        was released at most MinDelayBeforeBCEDelete before the new MAG's first PBU, for the
        same mobility session (the same interface, or HI=2 from another interface), and the
        new PBU says it is a handoff (HI 2, 3 or 4 — HI=1 is a new attachment)."""
        if old.mag == att.mag or att.first_pbu is None or old.released is None or \
                old.end_reason not in (EndReason.DETACH, EndReason.REVOCATION):
            return False
        if old.key != att.key and att.handoff_indicator != 2:
            return False
        if old.end_reason == EndReason.REVOCATION and old.released >= att.first_pbu:
            return old.key == att.key
        return att.handoff_indicator != 1 and \
            0 <= att.first_pbu - old.released <= self.bce_delete_delay

    def _handoff(self, mn: MobileNode, prev: Attachment, att: Attachment, txn: Transaction,
                 s: MobilitySignal) -> None:
        self._end(mn, prev, s.time, EndReason.HANDOFF)
        preserved = None
        if prev.ipv4_hoa and att.ipv4_hoa:
            preserved = prev.ipv4_hoa == att.ipv4_hoa
            if not preserved:
                self._diag(mn, "hoa-changed-on-handoff", s.time, [s.frame],
                           f"HoA {prev.ipv4_hoa} at {prev.mag} became {att.ipv4_hoa} at "
                           f"{att.mag}")
        interruption = None
        if prev.released is not None and att.first_pbu is not None and \
                prev.released < att.first_pbu:
            interruption = (s.time - prev.released) * 1000
        mn.handoffs.append(Handoff(prev.mag, att.mag, s.time,
                                   (s.time - txn.first_sent) * 1000, preserved,
                                   [txn.frames[0], s.frame], interruption))
        if att.dhcp_mode is None:
            att.dhcp_mode = prev.dhcp_mode
