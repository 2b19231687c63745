"""The HTML report of ``samples/tour.pcap`` in a real headless Chromium: it renders without
a console error, fetches nothing but itself, lists the MNs, and clicking an arrow of a
ladder shows that message decoded in the side panel.  Screenshots are kept in
``tests/artifacts/`` (git-ignored) for a human to look at.

Chromium is Debian's package, driven by Playwright (tests/browser/chromium.py); the test
is skipped when either is missing, and fails instead under ``CI=true``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pmipview.cli.report import report
from tests.browser.chromium import ARTIFACTS, browser, require_chromium

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TOUR = SAMPLES / "tour.pcap"
VIEWPORT = {"width": 1440, "height": 900}


def write_report(capture: Path, out: Path, *args: str) -> Path:
    app = typer.Typer(pretty_exceptions_enable=False)
    app.command()(report)

    @app.callback()
    def _main() -> None:
        """test app"""

    r = CliRunner().invoke(app, ["report", str(capture), "-o", str(out), *args])
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def tour_report(tmp_path_factory) -> Path:
    return write_report(TOUR, tmp_path_factory.mktemp("html") / "tour.html")


@pytest.fixture(scope="module")
def chromium():
    require_chromium()
    with browser() as b:
        yield b


class Opened:
    """A page with the report loaded, and what went wrong while it was open."""

    def __init__(self, chromium, path: Path) -> None:
        self.page = chromium.new_page(viewport=VIEWPORT)
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        started = time.monotonic()
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("html[data-ready='1']", state="attached")
        self.load_s = time.monotonic() - started

    def external(self) -> list[str]:
        """Requests to anything but the file itself or data: URIs (none: self-contained)."""
        return [u for u in self.requests if not u.startswith(("file:", "data:"))]

    def data(self) -> dict:
        return self.page.evaluate("JSON.parse(document.getElementById('pmv-data')"
                                  ".textContent)")

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.external() == []

    def close(self) -> None:
        self.page.close()


@pytest.fixture()
def opened(chromium, tour_report):
    o = Opened(chromium, tour_report)
    yield o
    o.close()


def test_renders_without_errors_and_fetches_nothing(opened):
    page = opened.page
    opened.assert_clean()
    assert opened.requests == [opened.page.url]  # the file itself, nothing else
    assert page.title() == "pmipview report — tour.pcap"
    rows = page.locator("#mn-table tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).get_attribute("data-mn") for i in range(3)] == [
        "mn1@example.net", "mn2@example.net", "mn3@example.net"]
    assert "1 rejected" in rows.nth(1).inner_text()
    assert "pba-rejected" in rows.nth(1).inner_text()
    assert "1 timeout" in rows.nth(2).inner_text()
    assert "detach" in rows.nth(0).inner_text()
    # every ladder page and plot is drawn at a readable size
    for svg in page.locator(".ladder svg").all() + page.locator("figure.plot svg").all():
        box = svg.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 150, box
    kpi = page.locator(".kpi", has_text="mobile nodes").inner_text()
    assert kpi.split()[0] == "3"


def test_clicking_a_rejected_pba_shows_its_status_and_frame(opened):
    page = opened.page
    data = opened.data()
    k, i = next((k, i) for k, lad in enumerate(data["ladders"])
                for i, a in enumerate(lad["arrows"])
                if a["kind"] == "PBA" and a["outcome"] == "rejected")
    assert data["ladders"][k]["mn"] == "mn2@example.net"
    line = page.locator(f'[data-ladder="{k}"] [data-arrow="{i}"][data-part="line"]')
    line.click()
    panel = page.locator("#detail")
    assert "PBA seq 31150" in panel.locator("h3").inner_text()
    assert panel.locator(".outcome").inner_text() == "rejected"
    status = panel.locator('tr[data-field="status"] td.v').first.inner_text()
    assert status == "170 (NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE)"
    assert panel.locator('dd[data-field="frame"]').inner_text() == "29"
    assert panel.locator('dd[data-field="time"]').inner_text() == "500.007700 s"
    hoa = panel.locator('tr[data-field="IPv4 Home Address Reply.status"] td.v').inner_text()
    assert hoa == "129 (Administratively prohibited)"
    assert "pba-rejected" in panel.locator(".diag").first.inner_text()
    # the arrow and its label are marked, with a band across the row
    assert page.locator(f'[data-ladder="{k}"] [data-arrow="{i}"].sel').count() == 2
    assert page.locator(f'[data-ladder="{k}"] rect.band.sel').count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.mouse.move(0, 0)  # no hover band in the picture
    page.screenshot(path=str(ARTIFACTS / "report.png"))
    # k steps back to the PBU it answers
    page.keyboard.press("k")
    assert panel.locator('dd[data-field="frame"]').inner_text() == "28"
    assert "PBU seq 31150" in panel.locator("h3").inner_text()
    assert page.locator(f'[data-ladder="{k}"] [data-arrow="{i}"].sel').count() == 0
    opened.assert_clean()


def test_clicking_a_label_or_a_diagnostic_selects_its_message(opened):
    page = opened.page
    page.locator('[data-ladder="0"] [data-arrow="10"][data-part="label"]').click()
    panel = page.locator("#detail")
    assert "BRI seq 4711" in panel.locator("h3").inner_text()
    assert panel.locator('dd[data-field="frame"]').inner_text() == "20"
    # "show" next to mn3's pbu-unanswered selects its last PBU
    page.locator("#mn-2 li.sev-error button.goto").click()
    assert panel.locator('dd[data-field="frame"]').inner_text() == "33"
    assert panel.locator(".outcome").inner_text() == "timeout"
    opened.assert_clean()


def test_a_link_to_a_message_opens_it_selected(chromium, tour_report):
    """The address keeps the selection (#a-<ladder>-<arrow>): a link opens it."""
    o = Opened(chromium, tour_report)
    try:
        o.page.locator('[data-ladder="2"] [data-arrow="0"][data-part="line"]').click()
        assert o.page.url.endswith("#a-2-0")
        o.page.goto(tour_report.as_uri() + "#a-1-2")
        o.page.reload()
        o.page.wait_for_selector("html[data-ready='1']", state="attached")
        frame = o.page.locator('#detail dd[data-field="frame"]').inner_text()
        assert frame == "29"
        o.assert_clean()
    finally:
        o.close()


def test_hover_highlights_the_arrow_and_its_label(opened):
    page = opened.page
    page.locator('[data-ladder="0"] [data-arrow="1"][data-part="line"]').hover()
    assert page.locator('[data-ladder="0"] [data-arrow="1"].hot').count() == 2
    assert page.locator('[data-ladder="0"] rect.band.hot').count() == 1
    page.mouse.move(0, 0)
    assert page.locator('[data-ladder="0"] .hot').count() == 0
    assert page.locator("rect.band.hot").count() == 0
    opened.assert_clean()


def test_mn_table_filters_sorts_and_opens_ladders(opened):
    page = opened.page
    page.locator("#close-all").click()
    assert page.locator("details.mn[open]").count() == 0
    page.locator("#mn-filter").fill("timeout")
    visible = page.locator("#mn-table tbody tr:not([hidden])")
    assert visible.count() == 1 and visible.get_attribute("data-mn") == "mn3@example.net"
    page.locator("#mn-filter").fill("")
    page.locator("#mn-table thead th", has_text="first s").click()
    page.locator("#mn-table thead th", has_text="first s").click()  # descending
    first = page.locator("#mn-table tbody tr").first.get_attribute("data-mn")
    assert first == "mn3@example.net"
    page.locator("#mn-table a", has_text="mn2@example.net").click()
    assert page.locator("#mn-1").get_attribute("open") is not None
    page.screenshot(path=str(ARTIFACTS / "report-table.png"))
    opened.assert_clean()


def test_full_page_screenshot(opened):
    ARTIFACTS.mkdir(exist_ok=True)
    opened.page.screenshot(path=str(ARTIFACTS / "report-full.png"), full_page=True)
    assert (ARTIFACTS / "report-full.png").stat().st_size > 50_000
    opened.assert_clean()


@pytest.fixture(scope="module")
def twelve_mns(tmp_path_factory) -> Path:
    """12 MNs, 4 MAGs, 10 minutes, captured at every MAG and the LMA (bench scenario)."""
    from bench.make_timeline_capture import scenario
    from pmipview.sim.engine import run
    from pmipview.sim.scenario import parse
    from pmipview.sources.capfile import write_pcapng

    folder = tmp_path_factory.mktemp("m12")
    result = run(parse(scenario(12, 4, 600.0, 1), "<test>"))
    write_pcapng(folder / "m12.pcapng", result.records, result.interfaces)
    return write_report(folder / "m12.pcapng", folder / "m12.html", "--max-mns", "6")


def test_many_mns_with_capped_ladders(chromium, twelve_mns):
    o = Opened(chromium, twelve_mns)
    try:
        page = o.page
        o.assert_clean()
        assert page.locator("#mn-table tbody tr").count() == 12
        assert page.locator("details.mn").count() == 6
        assert "Ladders are drawn for 6 of 12 mobile nodes" in page.locator("main").inner_text()
        ids = page.evaluate("Array.from(document.querySelectorAll('[id]'), e => e.id)")
        assert len(ids) == len(set(ids))
        # the last ladder, folded at first: clicking its MN in the table opens it
        last = o.data()["ladders"][-1]
        page.locator("#mn-table a", has_text=last["mn"]).click()
        arrow = page.locator('[data-ladder="5"] [data-arrow="3"][data-part="label"]')
        arrow.click()
        panel = page.locator("#detail")
        assert panel.locator("h3").inner_text().endswith(last["arrows"][3]["label"])
        frames = last["arrows"][3]["frames"]
        text = panel.locator('dd[data-field="frame"]').inner_text()
        assert text.startswith(str(frames[0]))
        if len(frames) > 1:  # seen at the MAG and at the LMA: one arrow, both frames
            assert "other capture points" in text
        assert o.load_s < 10
        o.assert_clean()
    finally:
        o.close()


FITS = """() => {
  document.querySelectorAll('details.mn').forEach(d => d.open = true);
  const over = e => e.scrollWidth - e.clientWidth;
  return {page: document.scrollingElement.scrollWidth - innerWidth,
          table: over(document.querySelector('#mn-table').closest('.scroll')),
          ladders: Array.from(document.querySelectorAll('.ladder .page'), over),
          right: Math.max(...Array.from(document.querySelectorAll('.ladder .page, .detail'),
                                        e => e.getBoundingClientRect().right)) - innerWidth};
}"""


@pytest.mark.parametrize("width", [1280, 1366, 1400])
def test_report_fits_a_1280_to_1400_px_window(chromium, tour_report, twelve_mns, width):
    """No horizontal scroll of the page and none of the MN table; a ladder wider than
    its column scrolls inside its own box (the 3-MAG tour's fit from 1366 px)."""
    for path in (tour_report, twelve_mns):
        page = chromium.new_page(viewport={"width": width, "height": 900})
        try:
            page.goto(path.as_uri())
            page.wait_for_selector("html[data-ready='1']", state="attached")
            fit = page.evaluate(FITS)
            assert fit["page"] <= 0 and fit["table"] <= 0 and fit["right"] <= 0, \
                (path.name, width, fit)
            if path == tour_report and width >= 1366:
                assert max(fit["ladders"]) <= 0, (width, fit)
        finally:
            page.close()
