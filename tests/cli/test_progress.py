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


def test_correlating_begins_when_the_last_record_is_read(monkeypatch):
    """load_report hands correlate the reader itself (so that scan runs its compiled
    loop) and the spinner's begin as on_read, called once every record is read."""
    from pathlib import Path

    from pmipview import pipeline

    real = pipeline.correlate
    seen: dict = {}

    def spy(records, tally, *args, on_read=None, **kw):
        seen["records"] = records
        seen["calls"] = calls = []

        def read() -> None:
            calls.append(tally.frames)
            on_read()

        return real(records, tally, *args, on_read=read, **kw)

    monkeypatch.setattr(pipeline, "correlate", spy)
    sample = Path(__file__).resolve().parents[2] / "samples" / "tour.pcap"
    report, _, _ = common.load_report(str(sample), None)
    assert hasattr(seen["records"], "prefiltered")
    assert seen["calls"] == [report.frames] and report.frames > 0
