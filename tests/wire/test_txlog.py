"""The --log pairing (wire/txlog.py): a PBU and its PBA pair by MN, so a retransmission
with a new sequence number (RFC 6275 §11.8) is one transaction with its retries, and two
MNs behind one MAG never mix; times are ISO 8601 with microseconds, never going back."""

from __future__ import annotations

from ipaddress import IPv4Address

from dissectors.mh import BindingAck
from dissectors.mh_codes import BAFlag
from dissectors.mh_options import MNIdentifier
from pmipview.agents.base import Packet
from pmipview.wire.transport import Datagram
from pmipview.wire.txlog import TransactionLog
from tests.agents.test_lma import pbu

MAG, LMA = IPv4Address("192.0.2.1"), IPv4Address("192.0.2.100")


def out(log: TransactionLog, now: float, msg) -> None:
    log.on_send(now, Datagram(b"", MAG, LMA, 5436, 5436), Packet(MAG, LMA, msg))


def back(log: TransactionLog, now: float, msg) -> None:
    log.on_receive(now, Datagram(b"", LMA, MAG, 5436, 5436), Packet(LMA, MAG, msg))


def pba(nai: str, seq: int) -> BindingAck:
    return BindingAck(0, seq, BAFlag.P, 150, (MNIdentifier.nai(nai),))


def test_retransmission_with_a_new_number_is_one_transaction():
    lines: list[dict] = []
    log = TransactionLog(lines.append, wall=lambda: 1_700_000_000.9999996, mono=lambda: 0.0)
    out(log, 0.0, pbu("a@x", seq=1, hnps=()))
    out(log, 1.0, pbu("b@x", seq=2, hnps=()))
    out(log, 1.0, pbu("a@x", seq=3, hnps=()))      # a's retransmission
    back(log, 1.004, pba("a@x", 3))
    back(log, 1.006, pba("b@x", 2))
    log.close(2.0)
    assert [(x["nai"], x["retransmissions"], x["rtt_ms"]) for x in lines] == [
        ("a@x", 1, 1004.0), ("b@x", 0, 6.0)]
    assert all(x["time"].endswith("Z") and len(x["time"]) == 27 for x in lines)
    assert lines[0]["time"] < lines[1]["time"]
