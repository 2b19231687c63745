"""``python -m tests.probe.faulty_mag FAULT[,FAULT] ARGS...``: ``pmipview mag ARGS`` with
rules broken on purpose, for the MAG probe's fault tests (tests/probe/test_mag_probe.py).

- ``no-att``: PBUs without the Access Technology Type option (RFC 5213 §6.9.1.5);
- ``other-hoa``: the MN is given another address than the PBA's (RFC 5844 §3.4.1);
- ``late-refresh``: the re-registration leaves after the lifetime ended;
- ``ignore-release``: a DHCPRELEASE de-registers nothing;
- ``ignore-170``: a PBA 170 is taken as an acceptance of 10.211.0.9/24;
- ``no-remote-id``: relayed DHCP carries option 82 without the HoA as Remote ID.
"""

from __future__ import annotations

import dataclasses
import sys
from ipaddress import IPv4Address

from dissectors.mh_options import AccessTechnologyOpt, IPv4DefaultRouter, IPv4HoAReply
from pmipview.agents.mag import MAG


def _no_att() -> None:
    build = MAG._build_pbu

    def patched(self, entry, txn, now):
        pbu = build(self, entry, txn, now)
        return dataclasses.replace(pbu, options=tuple(
            o for o in pbu.options if not isinstance(o, AccessTechnologyOpt)))
    MAG._build_pbu = patched


def _on_pba(change) -> None:
    on_pba = MAG._on_pba

    def patched(self, now, msg):
        return on_pba(self, now, change(msg))
    MAG._on_pba = patched


def _other_hoa(msg):
    rep = msg.hoa_reply
    if msg.status != 0 or rep is None or int(rep.address) == 0:
        return msg
    other = IPv4HoAReply(rep.status, IPv4Address(int(rep.address) + 1), rep.prefix_len)
    return dataclasses.replace(msg, options=tuple(
        other if isinstance(o, IPv4HoAReply) else o for o in msg.options))


def _accept_170(msg):
    if msg.status != 170:
        return msg
    kept = tuple(o for o in msg.options if not isinstance(o, IPv4HoAReply))
    return dataclasses.replace(msg, status=0, lifetime=2, options=(
        *kept, IPv4HoAReply(0, IPv4Address("10.211.0.9"), 24),
        IPv4DefaultRouter(IPv4Address("10.211.0.1"))))


def _late_refresh() -> None:
    schedule = MAG._schedule

    def patched(self, entry, now, granted):
        schedule(self, entry, now, granted)
        entry.refresh_at = entry.expiry + 1.0
    MAG._schedule = patched


def _ignore_release() -> None:
    MAG._server_release = lambda self, entry, now, packet, msg: []


def _no_remote_id() -> None:
    from pmipview.agents import mag_dhcp

    relay = mag_dhcp.relay_request
    mag_dhcp.relay_request = lambda msg, giaddr, circuit, remote: relay(msg, giaddr,
                                                                       circuit, None)


FAULTS = {"no-remote-id": _no_remote_id,"no-att": _no_att, "other-hoa": lambda: _on_pba(_other_hoa),
          "late-refresh": _late_refresh, "ignore-release": _ignore_release,
          "ignore-170": lambda: _on_pba(_accept_170)}


if __name__ == "__main__":
    for name in sys.argv[1].split(","):
        FAULTS[name]()
    sys.argv = ["pmipview", "mag", *sys.argv[2:]]
    from pmipview.cli import main

    main()
