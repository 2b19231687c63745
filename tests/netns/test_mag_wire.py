"""`pmipview mag` on the wire: a real udhcpc MN, two MAGs, an LMA (and dnsmasq in relay
mode) in network namespaces.  Root only; each test builds and deletes its own lab."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from tests.netns.topo import (
    MAG_ADDR,
    MN_NAI,
    PMIPVIEW,
    REFUSED_MAC,
    REFUSED_NAI,
    STATIC_HOA,
    Lab,
    wait_for,
)

pytestmark = [pytest.mark.netns, pytest.mark.usefixtures("netns_lab")]
T = 45  # generous deadlines: 2 cores, the whole suite at once


@pytest.fixture(params=["server", "relay"])
def lab(request, tmp_path, netns_lab):
    lab = Lab(tmp_path, request.param)
    try:
        lab.build()
        lab.capture()
        if lab.mode == "relay":
            lab.start_dnsmasq()
        lab.start_lma()
        lab.start_mag(1)
        lab.start_mag(2)
        yield lab
    finally:
        lab.close()


def bound(lab: Lab, n: int):
    rows = [e for e in lab.mn_events() if e["event"] in ("bound", "renew")]
    return rows[n - 1] if len(rows) >= n else None


def test_attach_handoff_release_refused(lab):
    # 1. the MN obtains its HoA through MAG1
    lab.start_mn()
    first = wait_for(lambda: bound(lab, 1), T, "the MN's first lease")
    hoa = first["ip"]
    reg = wait_for(lambda: lab.has_event("mag1", "registered"), T, "MAG1 registered")
    assert reg["hoa"] == hoa and reg["mn"] == MN_NAI
    if lab.mode == "relay":
        assert hoa == STATIC_HOA
    # 2. the link moves to MAG2 (same MAC); a renewal there keeps the address
    lab.move_link(2)
    lab.signal_mn(signal.SIGUSR1)
    second = wait_for(lambda: bound(lab, 2), T, "the lease renewed at MAG2")
    assert second["ip"] == hoa
    reg2 = wait_for(lambda: lab.has_event("mag2", "registered"), T, "MAG2 registered")
    assert reg2["hoa"] == hoa
    wait_for(lambda: lab.has_event("mag1", "revoked"), T, "MAG1's binding revoked")
    wait_for(lambda: lab.has_event("lma", "handoff"), T, "the LMA's handoff")
    # the binding is refreshed before its 12 s lifetime ends
    wait_for(lambda: lab.has_event("mag2", "refreshed"), T, "MAG2's refresh")
    # 3. RELEASE de-registers
    lab.signal_mn(signal.SIGUSR2)
    wait_for(lambda: lab.has_event("mag2", "deregistered"), T, "MAG2 de-registered")
    wait_for(lambda: lab.has_event("lma", "deregistered"), T, "the LMA de-registered")
    lab.stop("udhcpc")
    # 4. attached again at MAG2, then the link is lost: MAG2 de-registers the binding
    lab.start_mn("again")
    wait_for(lambda: bound(lab, 3), T, "the lease at MAG2 again")
    wait_for(lambda: len([e for e in lab.events("mag2") if e["kind"] == "registered"]) == 2,
             T, "MAG2's second registration")
    lab.sh("mn", "ip", "link", "set", "a2", "down")
    wait_for(lambda: lab.has_event("mag2", "link-lost"), T, "MAG2 to see the link loss")
    wait_for(lambda: lab.has_event("mag2", "deregistered", scope="all"), T,
             "MAG2's de-registration on link loss")
    lab.stop("again")
    lab.sh("mn", "ip", "link", "set", "a2", "up")
    # 5. a NAI the LMA refuses gets no address
    lab.sh("mn", "ip", "link", "set", "mn0", "address", REFUSED_MAC)
    refused = lab.start_mn("refused", "-n", "-t", "3", "-T", "1")
    assert refused.wait(T) != 0
    wait_for(lambda: lab.has_event("mag2", "rejected"), T, "MAG2's rejection")
    assert not [e for e in lab.mn_events()[-1:] if e["event"] == "bound"]
    for i in (1, 2):
        assert lab.stop(f"mag{i}") == 0
        assert "pmipview mag:" in lab.text(f"mag{i}.out")
        # after each DHCPACK the MAG told the MN where its router is
        assert " 0 router announcements" not in lab.text(f"mag{i}.out")
    # 6. the merged capture tells the same story
    merged = lab.merged_capture()
    res = subprocess.run([PMIPVIEW, "timeline", str(merged), "--json"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    (lab.dir / "timeline.json").write_text(res.stdout)
    report = json.loads(res.stdout)
    mns = {m["id"]: m for m in report["mobile_nodes"]}
    mn = mns[MN_NAI]
    assert mn["ipv4_hoas"] == [hoa]
    atts = mn["attachments"]
    assert [(a["mag"], a["end_reason"]) for a in atts] == [
        (MAG_ADDR[1], "handoff"), (MAG_ADDR[2], "detach"), (MAG_ADDR[2], "detach")]
    assert atts[1]["refreshes"] >= 1
    assert all(a["ipv4_hoa"] == hoa for a in atts)
    assert atts[0]["dhcp_mode"] == lab.mode
    [handoff] = mn["handoffs"]
    assert (handoff["from_mag"], handoff["to_mag"]) == (MAG_ADDR[1], MAG_ADDR[2])
    assert handoff["hoa_preserved"] is True and handoff["handoff_ms"] > 0
    kinds = [(t["kind"], t["outcome"]) for t in mn["transactions"]]
    assert ("registration", "accepted") in kinds and ("deregistration", "accepted") in kinds
    assert all(t["rtt_ms"] is not None and t["rtt_ms"] > 0 for t in mn["transactions"])
    refused = mns[REFUSED_NAI]
    assert {a["end_reason"] for a in refused["attachments"]} == {"rejected"}
    assert not refused["ipv4_hoas"]
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"
              and d["code"] not in ("pba-rejected", "hoa-reply-failure")]
    assert not errors, errors
    # 7. tshark, the independent dissector, finds nothing wrong in our traffic
    # (UDP checksums of kernel sockets are left to the veth's offload, so tshark's
    # optional UDP checksum check is not asked for; our own raw frames carry them)
    res = subprocess.run(["tshark", "-r", str(merged), "-q", "-z", "expert"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert not any(w in res.stdout for w in ("Error", "Warning", "Malformed")), res.stdout
    res = subprocess.run(["tshark", "-r", str(merged), "-Y", "mipv6 || dhcp"],
                         capture_output=True, text=True, timeout=120)
    assert "Binding Update" in res.stdout and "DHCP" in res.stdout
