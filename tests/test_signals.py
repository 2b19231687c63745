"""Signals are frozen and built by keyword (issue 16)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dissectors.mh_codes import MessageKind
from pmipview.packets import Tally, scan
from pmipview.signals import DhcpSignal, MalformedSignal, MobilitySignal, signal_of
from pmipview.sources.capfile import open_capture

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _signals(name: str) -> list[MobilitySignal | DhcpSignal | MalformedSignal]:
    with open_capture(str(SAMPLES / name)) as reader:
        return [s for p in scan(reader, Tally(), lite=True) if (s := signal_of(p)) is not None]


def test_signals_of_a_sample_are_frozen_instances_of_their_class():
    sigs = _signals("handover-relay-mode.pcapng")
    kinds = {type(s) for s in sigs}
    assert kinds == {MobilitySignal, DhcpSignal}
    for s in sigs:
        with pytest.raises(dataclasses.FrozenInstanceError):
            s.time = 0.0  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            del s.frame  # type: ignore[misc]


def test_a_built_signal_equals_one_made_by_its_constructor():
    pbu = next(s for s in _signals("handover-relay-mode.pcapng")
               if isinstance(s, MobilitySignal) and s.kind == MessageKind.PBU)
    fields = {f.name: getattr(pbu, f.name) for f in dataclasses.fields(MobilitySignal)}
    assert MobilitySignal(**fields) == pbu and hash(MobilitySignal(**fields)) == hash(pbu)
    assert dataclasses.replace(pbu, seq=pbu.seq + 1).seq == pbu.seq + 1


def test_signals_are_keyword_only():
    with pytest.raises(TypeError):
        MalformedSignal(1, 0.0, 0, "mh", 0, "short")  # type: ignore[misc]
