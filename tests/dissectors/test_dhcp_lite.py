"""The on-demand DHCP path (decode_frame(lite=True)) against the full decoder.

On every frame of the corpus, of the samples, of the bench shapes and of the mutation
fuzzer: the same malformed marker, warnings, counts (kind, status) and signal, and the
lite path really taken on clean DHCP (not a test that cannot fail).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.corpus import signaling_frames
from bench.fuzz import Mutator, default_seeds
from bench.shapes import signaling
from dissectors.dhcp import DhcpMessage
from dissectors.dhcp_lite import DhcpLite, scan_dhcp
from dissectors.frame import decode_frame
from dissectors.link import LinkType
from pmipview.packets import Packet, kind_of, status_of
from pmipview.signals import signal_of
from pmipview.sources import open_source

SAMPLES = sorted(Path(__file__).resolve().parents[2].joinpath("samples").glob("*.pcap*"))


def same(linktype: int, data: bytes) -> bool:
    """Assert both paths agree on ``data``; True when the lite path was taken."""
    full = decode_frame(linktype, data)
    lite = decode_frame(linktype, data, lite=True)
    assert lite.malformed == full.malformed
    assert lite.warnings == full.warnings
    assert lite.signaling == full.signaling
    assert (kind_of(lite), status_of(lite)) == (kind_of(full), status_of(full))
    p_full = Packet(7, 1_700_000_000_123_456_789, 2, full)
    p_lite = Packet(7, 1_700_000_000_123_456_789, 2, lite)
    assert signal_of(p_lite) == signal_of(p_full), data.hex()
    return type(lite.dhcp) is DhcpLite


def test_corpus_frames_agree_and_take_the_lite_path():
    taken = sum(same(lt, data) for lt, data in signaling_frames())
    assert taken >= 30  # every clean DHCP frame of every link type but the overloaded one


def test_samples_agree():
    taken = 0
    for path in SAMPLES:
        src = open_source(str(path))
        try:
            for rec in src:
                taken += same(rec.linktype, rec.data)
        finally:
            src.close()
    assert taken > 0


def test_bench_shape_frames_agree():
    frames = signaling(3000, dhcp=True, seed=3)
    assert sum(same(LinkType.ETHERNET, f) for f in frames) > 1500


def test_fuzz_corpus_shows_no_difference():
    mutator = Mutator(default_seeds(), 1)
    rng = random.Random(1)
    n = 20_000
    systematic = mutator.plan(n)
    taken = 0
    for i in range(n):
        seed, data = mutator.case(i, systematic, rng)
        taken += same(seed.linktype, data)
    assert taken > 100


@pytest.mark.parametrize("payload", [b"", b"\x01" * 239, bytes(240), bytes(236) + b"\x63\x82"])
def test_short_or_cookieless_payloads_go_to_the_full_decoder(payload):
    assert scan_dhcp(payload) is None


def test_overload_and_warnings_go_to_the_full_decoder():
    for lt, data in signaling_frames():
        full = decode_frame(lt, data)
        if isinstance(full.dhcp, DhcpMessage) and (full.dhcp.layout.overload or full.warnings):
            assert type(decode_frame(lt, data, lite=True).dhcp) is DhcpMessage
