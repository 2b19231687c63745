"""Signals straight from the bytes (dissectors/frame_lite.py and its compiled twin
_cframe_lite.pyx) against the full decode -> signal path.

On every frame of the corpus, of the samples, of the bench shapes and of the mutation
fuzzer: wherever ``frame_fields`` answers, ``decode_frame(lite=True)`` finds a clean
signaling frame with the same signal, kind and status; the compiled twin answers
exactly what the pure function answers; and the lite path is really taken (not a test
that cannot fail).  ``scan(fast=...)`` gives the same signals and tally as ``scan``.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.corpus import signaling_frames, unrelated_frames
from bench.fuzz import Mutator, default_seeds
from bench.shapes import SHAPES, records
from dissectors import frame_lite, speedups
from dissectors.frame import decode_frame
from pmipview.packets import Packet, Tally, kind_of, scan, status_key
from pmipview.signals import signal_of, signal_of_record
from pmipview.sources import open_source
from pmipview.sources.records import Record

SAMPLES = sorted(Path(__file__).resolve().parents[2].joinpath("samples").glob("*.pcap*"))
COMPILED = speedups.compiled("dissectors._cframe_lite")


def same(linktype: int, data: bytes) -> bool:
    """Assert the lite answer (if any) is the full path's; True when it answered."""
    if COMPILED is not None:
        assert COMPILED.frame_fields(linktype, data) == frame_lite.frame_fields(
            linktype, data), data.hex()
    rec = Record(7, 1_700_000_000_123_456_789, linktype, data, 2)
    got = signal_of_record(rec)
    if got is None:
        return False
    full = decode_frame(linktype, data, lite=True)
    assert full.malformed is None and not full.warnings and full.signaling, data.hex()
    want = signal_of(Packet(7, rec.ts_ns, 2, full))
    assert got[0] == want, data.hex()
    assert type(got[0]) is type(want)
    assert got[1] == kind_of(full) and type(got[1]) is type(kind_of(full))
    assert got[2] == status_key(full)
    return True


def test_corpus_frames_agree_and_take_the_lite_path():
    frames = signaling_frames()
    taken = sum(same(lt, data) for lt, data in frames)
    assert taken >= 30
    assert not any(same(lt, data) for lt, data in unrelated_frames(300, seed=4))


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


@pytest.mark.parametrize("shape", SHAPES)
def test_bench_shape_frames_agree(shape):
    recs = list(records(shape, 4000, seed=3))
    taken = sum(same(r.linktype, r.data) for r in recs)
    assert taken >= 0.9 * sum(1 for r in recs if decode_frame(r.linktype, r.data).signaling)


def test_fuzz_corpus_shows_no_difference():
    mutator = Mutator(default_seeds(), 1)
    rng = random.Random(1)
    n = 20_000
    systematic = mutator.plan(n)
    taken = 0
    for i in range(n):
        seed, data = mutator.case(i, systematic, rng)
        taken += same(seed.linktype, data)
    assert taken > 30  # most mutants are broken, or of another link type


def test_truncations_and_byte_flips_of_every_taken_frame():
    rng = random.Random(5)
    for lt, data in signaling_frames():
        if not same(lt, data):
            continue
        for cut in range(len(data)):
            same(lt, data[:cut])
        for _ in range(40):
            buf = bytearray(data)
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
            same(lt, bytes(buf))


def test_other_buffers_are_taken_too():
    for lt, data in signaling_frames()[:20]:
        assert frame_lite.frame_fields(lt, bytearray(data)) == frame_lite.frame_fields(lt, data)
        if COMPILED is not None:
            assert COMPILED.frame_fields(lt, memoryview(data)) == frame_lite.frame_fields(lt, data)


def _drain(recs: list[Record], fast: bool) -> tuple[list, Tally]:
    tally = Tally()
    out = []
    for item in scan(recs, tally, lite=True, fast=signal_of_record if fast else None):
        out.append(signal_of(item) if type(item) is Packet else item)
    return out, tally


@pytest.mark.parametrize("shape", SHAPES)
def test_scan_with_fast_gives_the_same_signals_and_tally(shape):
    recs = list(records(shape, 3000, seed=6))
    assert _drain(recs, True) == _drain(recs, False)


def test_scan_with_fast_on_the_samples():
    for path in SAMPLES:
        src = open_source(str(path))
        try:
            recs = list(src)
        finally:
            src.close()
        assert _drain(recs, True) == _drain(recs, False), path


@pytest.mark.skipif(COMPILED is None, reason="compiled twin not built")
def test_compiled_twin_is_used():
    from pmipview import signals

    assert signals.frame_fields is COMPILED.frame_fields


def test_correlate_takes_the_reader_itself_and_calls_on_read_once():
    from pmipview.pipeline import correlate

    path = str(SAMPLES[0])
    calls = []
    src = open_source(path)
    try:
        fused = correlate(src, Tally(), on_read=lambda: calls.append(1))
    finally:
        src.close()
    src = open_source(path)
    try:
        plain = correlate((r for r in src), Tally())
    finally:
        src.close()
    assert calls == [1]
    assert fused.frames == plain.frames
    assert repr(list(fused.complete())) == repr(list(plain.complete()))
