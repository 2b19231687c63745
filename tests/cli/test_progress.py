"""Progress after reading: a spinner on stderr while correlating and drawing, on a
terminal only, once a stage has lasted its delay; it leaves no line behind."""

from __future__ import annotations

import io
import sys
import threading

import pytest
from rich.console import Console

from pmipview.cli import common
from pmipview.cli.common import Stage


@pytest.fixture
def terminal(monkeypatch) -> io.StringIO:
    """stderr as a terminal, its console writing to a buffer."""
    buf = io.StringIO()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(common, "err", Console(file=buf, force_terminal=True, width=80))
    return buf


def test_a_long_stage_shows_its_text_then_clears_it(terminal):
    shown = threading.Event()
    stage = Stage("correlating", delay=0.0)
    real_show = stage._show

    def show() -> None:
        real_show()
        shown.set()

    stage._show = show  # type: ignore[method-assign]
    with stage:
        assert shown.wait(5)
        stage.update("drawing page 2/3")
    text = terminal.getvalue()
    assert "correlating" in text or "drawing page 2/3" in text
    assert stage._status is None


def test_a_short_stage_shows_nothing(terminal):
    with Stage("correlating", delay=60.0):
        pass
    assert terminal.getvalue() == ""


def test_nothing_when_stderr_is_not_a_terminal(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.setattr(common, "err", Console(file=buf, force_terminal=True))
    stage = Stage("correlating", delay=0.0)
    with stage:
        assert stage._timer is None
    assert buf.getvalue() == ""


def test_correlating_begins_when_the_last_record_is_read():
    ended = []
    records = iter(common._Then(iter([1, 2]), lambda: ended.append(True)))
    assert next(records) == 1 and not ended
    assert next(records) == 2 and not ended
    assert list(records) == [] and ended == [True]


class _Reader:
    """A reader with a compiled loop: ``prefiltered`` gives the frames it lets through."""

    def __init__(self, loop: bool) -> None:
        self.loop = loop

    def __iter__(self):
        return iter(["every", "frame"])

    def prefiltered(self, summary=None):
        return (iter(["passed"]), "counts") if self.loop else None


def test_the_compiled_loop_stays_reachable_through_the_end_hook():
    ended = []
    fused = common._Then(_Reader(True), lambda: ended.append(True)).prefiltered()
    assert fused is not None
    passed, counts = fused
    assert counts == "counts" and not ended
    assert list(passed) == ["passed"] and ended == [True]


def test_no_compiled_loop_no_prefiltered_records():
    ended = []
    then = common._Then(_Reader(False), lambda: ended.append(True))
    assert then.prefiltered() is None
    assert list(then) == ["every", "frame"] and ended == [True]
    assert common._Then(iter([1]), lambda: None).prefiltered() is None
