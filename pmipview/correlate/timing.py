"""The time rules of correlation in one place: windows, RFC timers and the MAG's give-up
(docs/timeline.md says them for users)."""

from __future__ import annotations

from ipaddress import IPv4Address

BROADCAST = IPv4Address("255.255.255.255")
ZERO = IPv4Address(0)
RETRANSMIT_WINDOW = 35.0    # s: a PBU this soon after the last one retransmits it
DUPLICATE_WINDOW = 2.0      # s: the same message again on one capture interface
# RFC 5213 §5.3.5 / §9.1: the LMA keeps a de-registered (or revoked) binding this long, so
# that a registration from the new MAG for the same mobility session is a handoff
MIN_DELAY_BEFORE_BCE_DELETE = 10.0
SEEN_PRUNE = 10_000         # messages remembered before those past the window are dropped
SUMMARISE_EVERY = 60.0      # s of capture between two passes moving finished history out
SETTLED = 120.0             # s after which a finished item can no longer change
DHCP_SETTLED = 600.0        # s without a message after which a DHCP exchange is finished
# RFC 5213 §9.1 InitialBindackTimeoutFirstReg and RFC 6275 §12 MAX_BINDACK_TIMEOUT: the MAG
# waits this long after its first PBU, doubling on each retransmission, up to the maximum
INITIAL_BINDACK_TIMEOUT = 1.0
MAX_BINDACK_TIMEOUT = 32.0


def give_up_time(sent_times: list[float]) -> float:
    """When a MAG that sent PBUs at ``sent_times`` and got no answer gave up: its last PBU
    plus the timeout it then waited (twice the last back-off interval, RFC 6275 §11.8)."""
    if len(sent_times) < 2:
        return sent_times[-1] + INITIAL_BINDACK_TIMEOUT
    wait = 2 * (sent_times[-1] - sent_times[-2])
    return sent_times[-1] + min(max(wait, INITIAL_BINDACK_TIMEOUT), MAX_BINDACK_TIMEOUT)


def another_sighting(elapsed: float, same_interface: bool,
                     duplicate_window: float = DUPLICATE_WINDOW,
                     retransmit_window: float = RETRANSMIT_WINDOW) -> bool:
    """Whether the same message (type, addresses, sequence number or xid) seen again
    ``elapsed`` seconds later is the first one seen again: at a second capture point
    (another interface) however slow the path, or a duplicate on the same interface.
    Otherwise it is a retransmission that kept its number."""
    return elapsed <= duplicate_window or (not same_interface
                                           and elapsed <= retransmit_window)
