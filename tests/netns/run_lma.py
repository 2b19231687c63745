"""A stand-in LMA for the netns tests: the LMA core on the sockets runtime, events as JSON.

``python -m tests.netns.run_lma ADDR POOL ROUTER NAI STATIC_HOA REFUSED_NAI EVENTS.jsonl MODE``
(STATIC_HOA may be ""; REFUSED_NAI gets PBA 152; MODE, server or relay, is the
DHCP Support Mode the PBAs advertise).  Stops on SIGTERM.
"""

from __future__ import annotations

import json
import signal
import sys
from ipaddress import IPv4Address, IPv4Network

from pmipview.agents.lma import LMA, LMAConfig, Profile
from pmipview.agents.pool import AddressPool
from pmipview.wire.runtime import Runtime
from pmipview.wire.transport import Udp4Transport


class Log:
    def __init__(self, path: str) -> None:
        self.fh = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def on_event(self, now: float, event) -> None:
        self.fh.write(json.dumps({"t": now, "kind": event.kind, "mn": event.mn,
                                  **event.detail}, default=str) + "\n")
        self.fh.flush()


def main() -> None:
    addr, pool, router, nai, static, refused, events, mode = sys.argv[1:9]
    router4 = IPv4Address(router)
    profiles = {nai: Profile(ipv6=False, static_hoa=IPv4Address(static) if static else None,
                         dhcp_mode=mode),
                refused: Profile(allowed=False)}
    cfg = LMAConfig(pool=AddressPool(IPv4Network(pool), frozenset({router4})),
                    default_router=router4, ipv4=IPv4Address(addr), profiles=profiles,
                    default_profile=Profile(ipv6=False, dhcp_mode=mode))
    rt = Runtime(LMA(cfg), [Udp4Transport(IPv4Address(addr))], observers=[Log(events)])
    for sig in (signal.SIGTERM, signal.SIGINT):
        rt.on_signal(sig, lambda _s: rt.stop())
    print("listening", file=sys.stderr, flush=True)
    rt.run()
    rt.close()


if __name__ == "__main__":
    main()
