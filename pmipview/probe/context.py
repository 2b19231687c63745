"""What a check reads and the MAG-side helpers it uses: fresh MNs, PBUs built with the
dissectors' dataclasses, ask/listen steps, registration and clean-up."""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, field
from ipaddress import IPv4Address

from dissectors.mh import BindingAck, BindingUpdate, MobilityMessage
from dissectors.mh_codes import AccessTechnology, BAStatus, BUFlag, HandoffIndicator, ba_status_name
from dissectors.mh_options import (
    AccessTechnologyOpt,
    HandoffIndicatorOpt,
    IPv4HoARequest,
    MNIdentifier,
    MNLinkLayerId,
    MobilityOption,
    Timestamp,
)
from pmipview.probe.driver import Ask, Driver, Listen, NoAnswer, Reply, Step, Stop, failed
from pmipview.probe.profile import ProbeProfile

DYNAMIC = IPv4HoARequest(IPv4Address(0), 0)
LIFETIME = 30  # 4 s units: 120 s, short so that a forgotten binding soon expires
ATT = AccessTechnology.IEEE_802_11


@dataclass(frozen=True, slots=True)
class MN:
    nai: str
    lli: str


@dataclass(slots=True)
class _Bound:
    mn: MN
    mag: int
    hoa: IPv4Address | None
    plen: int


@dataclass
class Ctx:
    """One check's view of the run (a new one per check)."""

    driver: Driver
    case: object
    profile: ProbeProfile
    run_id: str
    seqs: dict[int, int]
    _mns: int = 0
    _bound: list[_Bound] = field(default_factory=list)

    @property
    def mag_count(self) -> int:
        return len(self.driver.mags)

    @property
    def timing(self):
        return self.driver.timing

    def has_socket(self, name: str) -> bool:
        return name in self.driver.sockets

    # --- mobile nodes and messages ----------------------------------------------------
    def mn(self, nai: str | None = None) -> MN:
        """A mobile node of its own for this check (an LLI never used before); ``nai``
        names it, else it is invented (or taken from the profile's ``allowed``)."""
        self._mns += 1
        n = self._mns
        tag = getattr(self.case, "id", "x").lower()
        if nai is not None:
            pass
        elif self.profile.accept_unknown:
            nai = f"probe-{tag}-{self.run_id}-{n}@{self.profile.realm}"
        else:
            allowed = self.profile.allowed
            if len(allowed) < n:
                raise Stop(_skip_nais(len(allowed), n))
            nai = allowed[n - 1]
        self.driver.nais.add(nai)
        self.driver.check_nais.add(nai)
        num = tag.rsplit("-", 1)[-1]
        mac = int(self.run_id, 16) << 8 | (int(num) if num.isdigit() else 0) % 64 << 2 | n % 4
        lli = "02:" + ":".join(f"{(mac >> s) & 0xFF:02x}" for s in (32, 24, 16, 8, 0))
        return MN(nai, lli)

    def next_seq(self, mag: int) -> int:
        self.seqs[mag] = (self.seqs.get(mag, 0) + 1) & 0xFFFF
        return self.seqs[mag]

    def pbu(self, mn: MN, *, mag: int = 0, seq: int | None = None,
            lifetime: int = LIFETIME, hi: int = HandoffIndicator.NEW_INTERFACE,
            v4: tuple[IPv4HoARequest, ...] = (DYNAMIC,), omit: tuple[type, ...] = (),
            flags: BUFlag = BUFlag.A | BUFlag.P, ts: float | None = None,
            extra: tuple[MobilityOption, ...] = ()) -> BindingUpdate:
        """A PBU as a MAG builds it (RFC 5213 §6.9.1.5, RFC 5844 §3.2.3), IPv4 only; a
        Timestamp when the profile says the LMA uses them (``ts`` overrides the time)."""
        opts: list[MobilityOption] = [MNIdentifier.nai(mn.nai), HandoffIndicatorOpt(hi),
                                      AccessTechnologyOpt(ATT), MNLinkLayerId.mac(mn.lli)]
        if ts is not None or self.profile.timestamps:
            opts.append(Timestamp.at(ts if ts is not None else self.driver.wall()))
        opts += v4
        opts += extra
        kept = tuple(o for o in opts if not isinstance(o, omit))
        return BindingUpdate(self.next_seq(mag) if seq is None else seq, flags, lifetime,
                             kept)

    # --- steps --------------------------------------------------------------------------
    def ask(self, mag: int, msg: MobilityMessage, kinds: tuple[type, ...] = (BindingAck,),
            note: str = "", **kw) -> Generator[Step, Reply | None, Reply]:
        """Send with retransmissions; a missing answer ends the check with ERROR."""
        step = Ask(mag, msg, kinds, note=note, **kw)
        reply = yield step
        if reply is None:
            tries = step.tries or self.timing.tries
            raise NoAnswer(f"no answer to {note or type(msg).__name__} from MAG {mag} after "
                           f"{tries} transmission(s) ({self._waits(step)})")
        return reply

    def try_ask(self, mag: int, msg: MobilityMessage, kinds: tuple[type, ...],
                note: str = "", **kw) -> Generator[Step, Reply | None, Reply | None]:
        """Send once and wait the silence window: the answer, or None (ignored)."""
        kw.setdefault("wait", self.timing.silence)
        reply = yield Ask(mag, msg, kinds, tries=1, note=note, **kw)
        return reply

    def listen(self, mag: int, kinds: tuple[type, ...], wait: float | None = None,
               sock: str = "main", where=None) -> Generator[Step, Reply | None, Reply | None]:
        reply = yield Listen(mag, kinds, self.timing.silence if wait is None else wait, sock,
                             where)
        return reply

    def _waits(self, step: Ask) -> str:
        if step.wait is not None:
            return f"waited {step.wait:g} s"
        t = self.timing
        return " + ".join(f"{t.initial * 2 ** i:g} s" for i in range(step.tries or t.tries))

    # --- registration -----------------------------------------------------------------
    def register(self, mn: MN, mag: int = 0, note: str = "initial PBU",
                 **kw) -> Generator[Step, Reply | None, Reply]:
        """An accepted registration (else the check FAILs here); remembered for clean-up."""
        reply = yield from self.ask(mag, self.pbu(mn, mag=mag, **kw), note=note)
        ba = reply.message
        if not isinstance(ba, BindingAck) or ba.status != BAStatus.ACCEPTED:
            raise Stop(failed(f"{note}: PBA status 0 (accepted)", describe(reply)))
        rep = ba.hoa_reply
        self.bound(mn, mag, rep.address if rep is not None else None,
                   rep.prefix_len if rep is not None else 0)
        return reply

    def bound(self, mn: MN, mag: int, hoa: IPv4Address | None, plen: int) -> None:
        self._bound = [b for b in self._bound if b.mn != mn]
        self._bound.append(_Bound(mn, mag, hoa, plen))

    def unbound(self, mn: MN) -> None:
        self._bound = [b for b in self._bound if b.mn != mn]

    def cleanup(self) -> Generator[Step, Reply | None, None]:
        """De-register what the check left registered (not part of the verdict)."""
        for b in list(self._bound):
            v4 = (IPv4HoARequest(b.hoa, b.plen),) if b.hoa is not None else (DYNAMIC,)
            msg = self.pbu(b.mn, mag=b.mag, lifetime=0, hi=HandoffIndicator.UNKNOWN, v4=v4)
            yield Ask(b.mag, msg, (BindingAck,), tries=1, wait=self.timing.initial,
                      note="clean-up de-registration")
        self._bound.clear()


def describe(reply: Reply | None) -> str:
    """A PBA (or any answer) in a line, with its frame number."""
    if reply is None:
        return "no answer"
    msg = reply.message
    if isinstance(msg, BindingAck):
        text = f"{msg.short} status {int(msg.status)} {ba_status_name(msg.status, msg.proxy)}"
        text += f" seq {msg.seq} lifetime {msg.lifetime_s} s"
        rep = msg.hoa_reply
        if rep is not None:
            text += f", HoA Reply {int(rep.status)} {rep.address}/{rep.prefix_len}"
        if msg.default_router is not None:
            text += f", router {msg.default_router}"
    else:
        text = msg.info() if hasattr(msg, "info") else type(msg).__name__
    return f"frame {reply.frame}: {text}"


def _skip_nais(have: int, need: int):
    from pmipview.probe.driver import skipped

    return skipped(f"needs {need} NAIs the gateway serves; the profile lists {have} "
                   "(allowed = [...]) and accept_unknown = false")


def new_run_id() -> str:
    return f"{random.getrandbits(32):08x}"
