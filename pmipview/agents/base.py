"""What every sans-IO core takes and returns (in the style of h11 and aioquic).

A core is a plain object.  It is driven by three kinds of input, each given the current
time ``now`` (seconds, float, from whatever clock the caller runs: a virtual clock in the
simulator, ``time.monotonic()`` on real sockets):

- ``receive(now, packet)``   — a decoded message that arrived for this node;
- ``timer(now)``             — called at (or after) the time ``next_timer()`` returned;
- calls named for events     — ``link_up(now, mac, iface)``, ``detach(now, mac)``, ...

and each call returns a list of outputs: :class:`Send` (a message to put on the wire)
and :class:`Event` (something that happened, for the user and the tests).  A core never
reads a clock, sleeps, opens a socket or raises on bad input: a message it cannot use is
answered with the RFC status where one exists, or dropped with an ``Event("dropped")``.

Addresses: mobility signaling goes over IPv6 (``IPv6Address`` endpoints, next header
135) or IPv4/UDP 5436 (``IPv4Address`` endpoints); DHCP over UDP 67/68.  ``iface`` names
the interface a packet leaves or arrived on (``"backhaul"`` for MAG↔LMA, the access
interface name such as ``"wlan0"`` on the MN side of a MAG), so the runner knows which
link to put it on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from dissectors.dhcp import DhcpMessage
from dissectors.mh import MobilityMessage

Address = IPv4Address | IPv6Address
Message = MobilityMessage | DhcpMessage

BACKHAUL = "backhaul"
BROADCAST4 = IPv4Address("255.255.255.255")
ANY4 = IPv4Address(0)


@dataclass(frozen=True, slots=True)
class Packet:
    """A decoded message with the addressing it travelled with (input or output).

    ``sport``/``dport`` are UDP ports (None for MH directly over IPv6).  ``mac_src`` and
    ``mac_dst`` matter on access links (DHCP to and from an MN); None elsewhere.
    """

    src: Address
    dst: Address
    message: Message
    iface: str = BACKHAUL
    sport: int | None = None
    dport: int | None = None
    mac_src: str | None = None
    mac_dst: str | None = None


@dataclass(frozen=True, slots=True)
class Send:
    """Output: put ``packet`` on the wire."""

    packet: Packet


@dataclass(frozen=True, slots=True)
class Event:
    """Output: something happened.  ``kind`` is a short stable word (``registered``,
    ``rejected``, ``timeout``, ``retransmit``, ``expired``, ``revoked``, ``deregistered``,
    ``dropped``, ``bound``, ``nak``...); ``mn`` the MN it is about (NAI or MAC) when any;
    ``detail`` free-form data for tests and logs."""

    kind: str
    mn: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.detail.items())
        return f"{self.kind} {self.mn or ''} {extra}".strip()


Output = Send | Event


def sends(outputs: list[Output]) -> list[Packet]:
    """The packets of ``outputs`` (a convenience for runners and tests)."""
    return [o.packet for o in outputs if isinstance(o, Send)]


def events(outputs: list[Output], kind: str | None = None) -> list[Event]:
    """The events of ``outputs``, optionally of one kind."""
    return [o for o in outputs if isinstance(o, Event) and (kind is None or o.kind == kind)]
