"""``pmipview timeline`` and ``pmipview stats`` as a user runs them on a scripted capture:
the --json contract (docs/json-schema.md), --mn, --csv, --names, percentiles, errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dissectors.mh_codes import BAStatus, RevocationTrigger
from pmipview.cli import app
from tests.cli_util import one_line_error
from tests.correlate.builders import (
    BCAST,
    GW1,
    HOA1,
    HOA2,
    HOA3,
    LMA,
    LMA_6,
    MAG1,
    MAG2_6,
    MN1,
    MN2,
    MN3,
    NAI1,
    NAI2,
    NAI3,
    ZERO,
    Script,
    at,
    node_mac,
)

runner = CliRunner()

CAPTURE_KEYS = {"frames", "signaling_frames", "malformed_frames", "start", "end"}
NODE_KEYS = {"name", "role", "addresses"}
MN_KEYS = {"id", "nai", "macs", "ipv4_hoas", "hnps", "lma", "attachments", "handoffs",
           "transactions", "dhcp", "diagnostics"}
ATTACHMENT_KEYS = {"mag", "start", "registered", "end", "end_reason", "ipv4_hoa", "dhcp_mode",
                   "handoff_indicator", "access_technology", "address_ms", "attach_ms"}
HANDOFF_KEYS = {"from_mag", "to_mag", "time", "handoff_ms", "hoa_preserved"}
TRANSACTION_KEYS = {"kind", "mag", "lma", "seqs", "frames", "first_sent", "answered", "rtt_ms",
                    "setup_ms", "status", "outcome", "retransmissions"}
DHCP_KEYS = {"xid", "mode", "messages", "outcome", "yiaddr"}
MESSAGE_KEYS = {"type", "time", "frame", "leg"}
DIAGNOSTIC_KEYS = {"severity", "code", "frames", "time", "message"}


def build() -> tuple[Script, dict[str, int]]:
    """mn1 attaches at MAG1 and moves to MAG2 (IPv6 transport) where the LMA revokes
    MAG1's binding; mn3 attaches at MAG1; mn2 is refused; one PBU is truncated.

    rtt: mn1@MAG1 7 ms, mn3@MAG1 5 ms, mn1@MAG2 8 ms, mn2@MAG1 6 ms (rejected)."""
    s = Script()
    f: dict[str, int] = {}
    a1 = s.attach(0.1, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA1, xid=0x11, server_id=GW1,
                  rtt=0.007)
    f["mn1_pba"] = a1.pba
    s.noise(0.5)
    s.attach(1, MAG1, LMA, 11, nai=NAI3, mac=MN3, hoa=HOA3, xid=0x33, server_id=GW1, rtt=0.005)
    s.noise(50)
    f["mn1_pbu2"] = s.pbu(100, MAG2_6, LMA_6, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1, plen=24)
    f["mn1_pba2"] = s.pba(100.008, MAG2_6, LMA_6, 20, nai=NAI1, mac=MN1, hi=3, hoa=HOA1,
                          gw=GW1)
    s.bri(100.009, MAG1, LMA, 4711, nai=NAI1, hoa=HOA1,
          trigger=RevocationTrigger.INTER_MAG_SAME_ACCESS)
    s.bra(100.012, MAG1, LMA, 4711)
    s.dhcp(100.2, "REQUEST", 0x44, MN1, ZERO, BCAST, requested=HOA1)
    s.dhcp(100.201, "ACK", 0x44, MN1, GW1, BCAST, yiaddr=HOA1, server_id=GW1,
           mac_src=node_mac(MAG2_6))
    f["mn2_dis"] = s.dhcp(200, "DISCOVER", 0x22, MN2, ZERO, BCAST)
    f["mn2_pbu"] = s.pbu(200.002, MAG1, LMA, 12, nai=NAI2, mac=MN2)
    f["mn2_pba"] = s.pba(200.008, MAG1, LMA, 12, nai=NAI2, mac=MN2,
                         status=BAStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE,
                         hoa_status=129)
    f["bad"] = s.pbu(250, MAG1, LMA, 13, nai=NAI3, mac=MN3, hi=5, truncate=12)
    f["last"] = s.noise(300)
    return s, f


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    s, frames = build()
    return s.write(tmp_path_factory.mktemp("cli") / "scripted.pcap"), frames


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def timeline_json(*args: object) -> dict:
    r = run("timeline", *args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def frames_in(obj) -> list[int]:
    """Every frame number the document mentions."""
    out: list[int] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("frames", "also_frames") and isinstance(v, list):
                out += v
            elif k == "frame":
                out.append(v)
            else:
                out += frames_in(v)
    elif isinstance(obj, list):
        for v in obj:
            out += frames_in(v)
    return out


# -- timeline --json -------------------------------------------------------------------------

def test_timeline_json_has_the_contract_keys(capture):
    path, _ = capture
    d = timeline_json(path)
    assert {"capture", "nodes", "mobile_nodes", "diagnostics"} <= set(d)
    assert set(d["capture"]) >= CAPTURE_KEYS
    assert d["nodes"] and all(set(n) >= NODE_KEYS for n in d["nodes"])
    assert len(d["mobile_nodes"]) == 3
    for m in d["mobile_nodes"]:
        assert set(m) >= MN_KEYS, MN_KEYS - set(m)
        for a in m["attachments"]:
            assert set(a) >= ATTACHMENT_KEYS, ATTACHMENT_KEYS - set(a)
        for h in m["handoffs"]:
            assert set(h) >= HANDOFF_KEYS
        for t in m["transactions"]:
            assert set(t) >= TRANSACTION_KEYS
            assert t["outcome"] in ("accepted", "rejected", "timeout")
        for x in m["dhcp"]:
            assert set(x) >= DHCP_KEYS
            assert all(set(msg) >= MESSAGE_KEYS for msg in x["messages"])
        for g in m["diagnostics"]:
            assert set(g) >= DIAGNOSTIC_KEYS
    assert all(set(g) >= DIAGNOSTIC_KEYS for g in d["diagnostics"])
    assert all(m["handoffs"] is not None for m in d["mobile_nodes"])
    # at least one of each nested object was checked
    assert any(m["handoffs"] for m in d["mobile_nodes"])
    assert any(m["dhcp"] for m in d["mobile_nodes"])


def test_timeline_json_values(capture):
    path, f = capture
    d = timeline_json(path)
    cap = d["capture"]
    assert (cap["frames"], cap["malformed_frames"]) == (f["last"], 1)
    assert cap["signaling_frames"] == f["last"] - 4  # 3 noise frames, 1 malformed
    # times are epoch seconds as floats
    assert isinstance(cap["start"], float) and cap["start"] == pytest.approx(at(0.1), abs=1e-6)
    assert cap["end"] == pytest.approx(at(300), abs=1e-6)
    # frames are 1-based and within the capture
    mentioned = frames_in(d)
    assert mentioned and min(mentioned) >= 1 and max(mentioned) <= cap["frames"]
    by_id = {m["id"]: m for m in d["mobile_nodes"]}
    assert list(by_id) == [NAI1, NAI3, NAI2]
    m1 = by_id[NAI1]
    assert (m1["nai"], m1["macs"], m1["ipv4_hoas"], m1["hnps"], m1["lma"]) == (
        NAI1, [MN1], [HOA1], [], LMA)
    first, second = m1["attachments"]
    assert (first["mag"], first["end_reason"], first["ipv4_hoa"], first["dhcp_mode"],
            first["handoff_indicator"], first["access_technology"]) == (
        MAG1, "handoff", HOA1, "server", 1, 4)
    assert first["start"] == pytest.approx(at(0.1), abs=1e-6)
    assert first["registered"] == pytest.approx(at(0.109), abs=1e-6)
    assert first["address_ms"] == pytest.approx(13.0, abs=1e-3)
    assert first["attach_ms"] == pytest.approx(13.0, abs=1e-3)
    assert (second["mag"], second["end"], second["end_reason"]) == (
        MAG2_6, None, "end-of-capture")
    h = m1["handoffs"][0]
    assert (h["from_mag"], h["to_mag"], h["hoa_preserved"]) == (MAG1, MAG2_6, True)
    assert h["handoff_ms"] == pytest.approx(8.0, abs=1e-3)
    assert isinstance(h["time"], float)
    kinds = [(t["kind"], t["outcome"]) for t in m1["transactions"]]
    assert kinds == [("registration", "accepted"), ("registration", "accepted"),
                     ("revocation", "accepted")]
    reg = m1["transactions"][0]
    assert reg["frames"] == [f["mn1_pba"] - 1, f["mn1_pba"]]
    assert reg["seqs"] == [10] and reg["retransmissions"] == 0 and reg["status"] == 0
    assert reg["rtt_ms"] == pytest.approx(7.0, abs=1e-3)
    x = m1["dhcp"][0]
    assert (x["xid"], x["mode"], x["outcome"], x["yiaddr"]) == (0x11, "server", "ack", HOA1)
    assert [msg["type"] for msg in x["messages"]] == ["DISCOVER", "OFFER", "REQUEST", "ACK"]
    assert all(msg["leg"] == "client" and isinstance(msg["time"], float)
               for msg in x["messages"])
    m2 = by_id[NAI2]
    assert m2["attachments"][0]["end_reason"] == "rejected"
    diag = {g["code"]: g for g in m2["diagnostics"]}
    assert set(diag) == {"pba-rejected", "hoa-reply-failure"}
    assert diag["pba-rejected"]["frames"] == [f["mn2_pbu"], f["mn2_pba"]]
    assert diag["pba-rejected"]["severity"] == "error"
    assert "NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE" in diag["pba-rejected"]["message"]
    assert m2["attachments"][0]["start"] == pytest.approx(at(200), abs=1e-6)  # DISCOVER
    # top level: every diagnostic, the malformed frame included, in time order
    top = d["diagnostics"]
    assert [g["code"] for g in top] == ["pba-rejected", "hoa-reply-failure", "malformed"]
    assert top[-1]["frames"] == [f["bad"]]
    assert [g["time"] for g in top] == sorted(g["time"] for g in top)


def test_timeline_json_nodes(capture):
    path, _ = capture
    d = timeline_json(path)
    roles = {n["name"]: n["role"] for n in d["nodes"]}
    assert roles[MAG1] == "mag" and roles[MAG2_6] == "mag" and roles[LMA] == "lma"
    assert all(n["addresses"] for n in d["nodes"])


@pytest.mark.parametrize("who,expected", [(NAI2, NAI2), (MN1, NAI1), (HOA3, NAI3),
                                          ("02-11-22-33-44-01", NAI1)])
def test_mn_picks_one(capture, who, expected):
    path, _ = capture
    d = timeline_json(path, "--mn", who)
    assert [m["id"] for m in d["mobile_nodes"]] == [expected]
    # the top-level list keeps the capture-wide diagnostics (malformed) and that MN's
    assert {g.get("mn") for g in d["diagnostics"]} <= {None, expected}


def test_unknown_mn_is_a_one_line_error(capture):
    path, _ = capture
    r = run("timeline", path, "--mn", "nobody@example.net", "--json")
    one_line_error(r, 1, "--mn", "nobody@example.net", NAI1)
    assert r.stdout == ""


def test_timeline_text(capture):
    path, _ = capture
    r = runner.invoke(app, ["timeline", str(path)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    for word in (NAI1, NAI2, NAI3, "handoff", "pba-rejected", "malformed"):
        assert word in r.stdout


# -- --csv ---------------------------------------------------------------------------------

def test_csv_has_a_header_and_one_row_per_attachment(capture):
    path, _ = capture
    r = run("timeline", path, "--csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(row["mn"], row["mag"], row["end_reason"]) for row in rows] == [
        (NAI1, MAG1, "handoff"), (NAI1, MAG2_6, "end-of-capture"),
        (NAI3, MAG1, "end-of-capture"), (NAI2, MAG1, "rejected")]
    assert float(rows[0]["attach_ms"]) == pytest.approx(13.0, abs=1e-3)
    assert rows[0]["ipv4_hoa"] == HOA1
    header = r.stdout.splitlines()[0].split(",")
    assert {"mn", "mag", "start", "end", "end_reason", "ipv4_hoa", "address_ms",
            "attach_ms"} <= set(header)
    one = run("timeline", path, "--csv", "--mn", NAI3)
    assert len(one.stdout.strip().splitlines()) == 2


def test_json_and_csv_together_is_a_usage_error(capture):
    path, _ = capture
    one_line_error(run("timeline", path, "--json", "--csv"), 2, "--json", "--csv")


# -- --names -------------------------------------------------------------------------------

def test_names_file_names_nodes_and_joins_addresses(capture, tmp_path):
    path, _ = capture
    hosts = tmp_path / "hosts"
    hosts.write_text(f"# PMIPv6 lab\n{MAG1}  mag1 mag1.lab\n{MAG2_6} mag2\n"
                     f"{LMA} lma   # IPv4 side\n{LMA_6} lma\n\n")
    plain = timeline_json(path)
    assert {n["name"] for n in plain["nodes"]} >= {LMA, LMA_6}
    d = timeline_json(path, "--names", hosts)
    nodes = {n["name"]: n for n in d["nodes"]}
    assert set(nodes) == {"mag1", "mag2", "lma"}
    assert sorted(nodes["lma"]["addresses"]) == sorted([LMA, LMA_6])
    assert nodes["lma"]["role"] == "lma"
    m1 = d["mobile_nodes"][0]
    assert [a["mag"] for a in m1["attachments"]] == ["mag1", "mag2"]
    assert m1["lma"] == "lma"
    assert (m1["handoffs"][0]["from_mag"], m1["handoffs"][0]["to_mag"]) == ("mag1", "mag2")
    assert {t["lma"] for t in m1["transactions"]} == {"lma"}


@pytest.mark.parametrize("text,words", [
    ("192.0.2.1\n", ["line 1", "expected 'address name'"]),
    ("192.0.2.1 mag1\nmag2 192.0.2.2\n", ["line 2", "not an IP address", "'mag2'"]),
])
def test_bad_names_file_is_a_one_line_usage_error(capture, tmp_path, text, words):
    path, _ = capture
    hosts = tmp_path / "hosts"
    hosts.write_text(text)
    for command in ("timeline", "stats"):
        one_line_error(run(command, path, "--names", hosts), 2, "--names", *words)


def test_missing_names_file_is_a_one_line_usage_error(capture, tmp_path):
    path, _ = capture
    one_line_error(run("timeline", path, "--names", tmp_path / "nope"), 2, "--names",
                   "cannot read")


# -- stats --------------------------------------------------------------------------------

def test_stats_json_counts_and_percentiles(capture):
    path, _ = capture
    r = run("stats", path, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert (d["mobile_nodes"], d["attachments"], d["handoffs"]) == (3, 4, 1)
    assert d["capture"]["malformed_frames"] == 1
    assert d["messages"]["PBU"] == 4 and d["messages"]["PBA"] == 4  # the truncated one aside
    assert d["failures"] == {"hoa-reply-failure": 1, "malformed": 1, "pba-rejected": 1}
    rtt = d["latency_ms"]["rtt"]
    # rtt 7 and 5 (mn1, mn3 at MAG1), 8 (mn1 at MAG2), 6 (mn2 rejected at MAG1)
    assert rtt["all"]["count"] == 4
    for q, v in (("p50", 6.0), ("p90", 8.0), ("p99", 8.0), ("max", 8.0)):
        assert rtt["all"][q] == pytest.approx(v, abs=1e-3), q
    assert rtt[MAG1]["count"] == 3
    for q, v in (("p50", 6.0), ("p90", 7.0), ("p99", 7.0), ("max", 7.0)):
        assert rtt[MAG1][q] == pytest.approx(v, abs=1e-3), q
    assert rtt[MAG2_6]["max"] == pytest.approx(8.0, abs=1e-3)
    assert set(d["latency_ms"]) == {"rtt", "setup", "address", "attach", "handoff",
                                    "interruption"}
    handoff = d["latency_ms"]["handoff"]
    assert handoff["all"]["p50"] == pytest.approx(8.0, abs=1e-3)
    assert handoff[MAG2_6]["count"] == 1
    address = d["latency_ms"]["address"]
    assert address["all"]["count"] == 3  # mn1 at both MAGs, mn3
    assert address["all"]["max"] == pytest.approx(13.0, abs=1e-3)


def test_stats_text(capture):
    path, _ = capture
    r = runner.invoke(app, ["stats", str(path)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "p50" in r.stdout and "pba-rejected" in r.stdout


# -- no signaling, unreadable input -----------------------------------------------------------

def test_capture_without_signaling_is_an_empty_report(tmp_path):
    s = Script()
    for t in range(3):
        s.noise(t)
    path = s.write(tmp_path / "quiet.pcap")
    d = timeline_json(path)
    assert d["mobile_nodes"] == [] and d["nodes"] == [] and d["diagnostics"] == []
    assert d["capture"]["frames"] == 3 and d["capture"]["signaling_frames"] == 0
    text = run("timeline", path)
    assert text.exit_code == 0 and "no mobile node" in text.stdout
    csv_out = run("timeline", path, "--csv")
    assert csv_out.exit_code == 0 and len(csv_out.stdout.strip().splitlines()) == 1
    st = run("stats", path, "--json")
    assert st.exit_code == 0
    stats = json.loads(st.stdout)
    assert (stats["mobile_nodes"], stats["attachments"], stats["handoffs"]) == (0, 0, 0)
    assert stats["failures"] == {}


def test_not_a_capture_is_a_one_line_error(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    for command in ("timeline", "stats"):
        one_line_error(run(command, bad), 1, "not a capture file")


def test_pcapng_with_two_capture_points(tmp_path):
    s = Script()
    s.pbu(0, MAG1, LMA, 10, nai=NAI1, mac=MN1, iface=0)
    s.pba(0.012, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA2, iface=0)
    s.pbu(0.002, MAG1, LMA, 10, nai=NAI1, mac=MN1, iface=1)
    s.pba(0.010, MAG1, LMA, 10, nai=NAI1, mac=MN1, hoa=HOA2, iface=1)
    d = timeline_json(s.write(tmp_path / "two.pcapng"))
    (m,) = d["mobile_nodes"]
    (t,) = m["transactions"]
    assert t["frames"] == [1, 2, 3, 4]
    assert t["rtt_ms"] == pytest.approx(12.0, abs=1e-3)
    assert m["attachments"][0]["attach_ms"] == pytest.approx(12.0, abs=1e-3)
    assert d["diagnostics"] == []


@pytest.mark.parametrize("name", ["tour.pcap", "break-before-make-deregistration.pcapng",
                                  "multihomed-inter-interface.pcapng"])
def test_the_streamed_json_is_the_document(name):
    from pmipview.packets import Tally
    from pmipview.pipeline import correlate
    from pmipview.render import timeline_json
    from pmipview.sources.capfile import open_capture

    path = Path(__file__).resolve().parents[2] / "samples" / name
    with open_capture(path) as reader:
        report = correlate(reader, Tally())
    for mns in (None, report.mobile_nodes[:1], []):
        buf = io.StringIO()
        timeline_json.write(report, mns, buf.write)
        assert buf.getvalue() == json.dumps(timeline_json.report(report, mns))
