"""``pmipview report``: one self-contained HTML file (inline CSS, JS, SVG; no network).

Pure functions from plain data to an HTML string: the correlated :class:`Report`, the
``stats`` figures (:func:`pmipview.render.timeline.stats_dict`), per-MN ladders (the
:class:`~pmipview.render.ladder.model.Ladder` and its SVG pages) and the plots as SVG
text.  The caller (``pmipview/cli/report.py``) computes those and writes the file.

What the page holds (docs/report.md): a compact summary, the mobile-node table, one
ladder per MN in which every arrow shows its decoded message in a side panel on click
(hover highlights it), and the latency plots.  Everything that came from a packet is
escaped (``html.escape`` in the markup, ``\\u003c`` in the embedded JSON) and the script
builds the detail panel with ``textContent`` only, so a hostile NAI cannot inject markup.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from typing import Any

from dissectors.mh_codes import MessageKind
from pmipview.correlate.model import DIAGNOSTICS, Diagnostic, MobileNode, Report
from pmipview.packets import (
    DHCP_FAMILY,
    StatusKey,
    status_counts,
    status_label,
    status_rejected,
)
from pmipview.render.ladder.model import (
    COLOURS,
    ROLE_FACES,
    SEVERITY_COLOURS,
    Ladder,
    index_of_frames,
)
from pmipview.render.timeline import mn_facts
from pmipview.render.timeline_json import mobile_node as mn_json

# -- inputs --------------------------------------------------------------------------------


@dataclass(slots=True)
class LadderView:
    """One MN's ladder and the SVG text of its pages (each arrow's artists carry the ids
    ``arrow-{i}`` and ``arrow-{i}-label``, ``i`` indexing ``ladder.arrows``)."""

    mn: MobileNode
    ladder: Ladder
    pages: list[str]


@dataclass(slots=True)
class PlotView:
    """One plot: its SVG text, or the short reason it is not drawn."""

    kind: str
    title: str
    svg: str | None = None
    note: str | None = None         # without svg: why not drawn; with it: a caption


@dataclass(slots=True)
class Page:
    """Everything the page shows (the caller decides what goes in)."""

    report: Report
    stats: dict[str, Any]
    source: str                                     # the capture's name, as given
    mns: list[MobileNode]                           # the MN table's rows
    ladders: list[LadderView] = field(default_factory=list)
    plots: list[PlotView] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # shown under the title (cuts, problems)
    version: str = ""
    generated: str | None = None                    # ISO time of generation, or None
    time_mode: str = "rel"
    scope: str | None = None                        # "mn1@example.net only", or None
    by_status: Mapping[StatusKey, int] = field(default_factory=dict)  # Tally.by_status


# -- SVG -----------------------------------------------------------------------------------

_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>[]*(\[[^\]]*\])?\s*>\s*", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
_ID = re.compile(r'\bid="([^"]+)"')
_ARROW_ID = re.compile(r"^arrow-(\d+)(-label)?$")


def inline_svg(text: str, prefix: str) -> str:
    """SVG text fit to sit inline in HTML next to other SVGs.

    Drops the XML prolog, DOCTYPE, comments, metadata and namespace declarations (the
    HTML parser knows ``svg`` and ``xlink:href``), prefixes every id and every reference to
    it (``#id``, ``url(#id)``) with ``prefix`` so that the ids of several figures never
    clash (an id repeated within the figure gets ``~2``, ``~3``...), and marks the
    ladder's arrow artists with ``data-arrow="i"`` (and ``data-part="line"``/``"label"``)
    for the script.
    """
    text = _PROLOG.sub("", text)
    text = _COMMENT.sub("", text)
    text = _METADATA.sub("", text)
    start = text.find("<svg")
    if start < 0:
        raise ValueError("not SVG text: no <svg> element")
    text = text[start:].strip()
    head_end = text.index(">")
    text = _XMLNS.sub("", text[:head_end]) + text[head_end:]
    ids = set(_ID.findall(text))
    if not ids:
        return text

    def ref(m: re.Match[str]) -> str:
        name = m.group(2)
        return f"{m.group(1)}{prefix}{name}{m.group(3)}" if name in ids else m.group(0)

    text = re.sub(r'(#)([^"\s)#]+)([")])', ref, text)

    seen: dict[str, int] = {}

    def ident(m: re.Match[str]) -> str:
        name = m.group(1)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:  # matplotlib repeats a gid given to several artists
            return f'id="{prefix}{name}~{seen[name]}"'
        extra = ""
        arrow = _ARROW_ID.match(name)
        if arrow:
            part = "label" if arrow.group(2) else "line"
            extra = f' data-arrow="{arrow.group(1)}" data-part="{part}"'
        return f'id="{prefix}{name}"{extra}'

    return _ID.sub(ident, text)


# -- helpers -------------------------------------------------------------------------------

def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def _json_script(data: object) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>``, no
    ``<!--``; U+2028/2029 escaped too)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _utc(ts: float | None) -> str:
    if ts is None:
        return "—"
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def mn_anchor(index: int) -> str:
    return f"mn-{index}"


# -- the decoded message of an arrow, as the panel shows it ----------------------------------

def detail_sections(rows: Iterable[tuple[str, str]], head: str = "message"
                    ) -> list[list[Any]]:
    """``[[section, [[field, value], ...]], ...]``: the message's own fields first (section
    ``head``), then one section per option (``options.<name>.<field>``), in wire order."""
    sections: dict[str, list[list[str]]] = {}
    for key, value in rows:
        if key in ("frame", "source", "destination"):
            continue
        section, name = head, key
        if key.startswith("options."):
            rest = key[len("options."):]
            section, _, name = rest.partition(".")
            name = name or section
        sections.setdefault(section, []).append([name, value])
    return [[s, f] for s, f in sections.items()]


def ladder_data(view: LadderView) -> dict[str, Any]:
    """What the script needs of one ladder: per arrow its label, outcome, time, frames,
    endpoints, decoded fields and the diagnostics that name its frames."""
    lad = view.ladder
    diags = sorted(view.mn.diagnostics, key=lambda d: d.time)
    arrows = []
    for i, a in enumerate(lad.arrows):
        frames = set(a.frames)
        arrows.append({
            "label": a.label, "kind": a.kind, "outcome": a.outcome,
            "time": lad.time_text(i), "frames": a.frames,
            "src": lad.lifelines[a.src].name, "dst": lad.lifelines[a.dst].name,
            "src_role": lad.lifelines[a.src].role, "dst_role": lad.lifelines[a.dst].role,
            "addr": [dict(a.detail).get("source", ""), dict(a.detail).get("destination", "")],
            "head": _head(a.kind, a.detail),
            "fields": detail_sections(a.detail, _head(a.kind, a.detail)),
            "diagnostics": [[d.severity, f"{d.code}: {d.message}"] for d in diags
                            if frames.intersection(d.frames)],
        })
    return {"mn": lad.mn, "title": lad.title, "time_mode": lad.time_mode, "arrows": arrows}


def _head(kind: str, rows: list[tuple[str, str]]) -> str:
    dhcp = any(k == "op" for k, _ in rows)
    return f"DHCP{kind} message" if dhcp else f"{kind} (Mobility Header)"


def arrow_of_frames(ladder: Ladder, frames: Iterable[int]) -> int | None:
    """Index of the last arrow carrying one of ``frames`` (for diagnostics links)."""
    return index_of_frames(ladder.arrows, list(frames))


# -- sections ------------------------------------------------------------------------------

def _kpi(label: str, value: object, cls: str = "", title: str = "") -> str:
    t = f' title="{_e(title)}"' if title else ""
    return f'<div class="kpi {cls}"{t}><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def _counts_table(title: str, rows: Iterable[tuple[str, object, str]]) -> str:
    body = "".join(f'<tr class="{cls}"><td>{_e(k)}</td><td class="num">{_e(v)}</td></tr>'
                   for k, v, cls in rows)
    if not body:
        body = '<tr><td class="muted" colspan="2">none</td></tr>'
    return (f'<table class="grid compact"><thead><tr><th colspan="2">{_e(title)}</th></tr>'
            f"</thead><tbody>{body}</tbody></table>")


_MH_ORDER = tuple(MessageKind)
_DHCP_ORDER = ("DISCOVER", "OFFER", "REQUEST", "ACK", "NAK", "DECLINE", "RELEASE", "INFORM")


def _messages_table(messages: dict[str, int]) -> str:
    """Messages by type on two lines: mobility (PBU first) and DHCP (in exchange order)."""
    mh = {k: v for k, v in messages.items() if not k.startswith(("DHCP", "BOOTP"))}
    dhcp = {k.removeprefix("DHCP "): v for k, v in messages.items()
            if k.startswith(("DHCP", "BOOTP"))}

    def cells(d: dict[str, int], order: tuple[str, ...]) -> str:
        keys = sorted(d, key=lambda k: (order.index(k) if k in order else len(order), k))
        return "".join(f'<span class="mc" data-type="{_e(k)}">{_e(k)} <b>{d[k]}</b></span>'
                       for k in keys) or '<span class="muted">none</span>'

    return (f'<div class="msgs"><span class="k">mobility</span>{cells(mh, _MH_ORDER)}'
            f'<span class="k">DHCP</span>{cells(dhcp, _DHCP_ORDER)}</div>')


def _latency_table(lat: dict[str, dict[str, dict[str, Any]]]) -> str:
    head = ("<tr><th>metric</th><th>MAG</th><th class=num>n</th><th class=num>p50</th>"
            "<th class=num>p90</th><th class=num>p99</th><th class=num>max</th></tr>")
    rows, per_mag = [], []
    for metric, per in lat.items():
        for key, s in per.items():
            cells = "".join(f'<td class="num">{_ms(s[q])}</td>' for q in ("p50", "p90",
                                                                         "p99", "max"))
            row = (f'<tr><td>{_e(metric)}</td><td>{_e(key)}</td>'
                   f'<td class="num">{s["count"]}</td>{cells}</tr>')
            (rows if key == "all" else per_mag).append(row)
        if not per:
            rows.append(f'<tr class="muted"><td>{_e(metric)}</td><td>all</td>'
                        f'<td class="num">0</td><td colspan="4">no samples</td></tr>')
    out = (f'<table class="grid compact lat"><thead>{head}</thead>'
           f'<tbody>{"".join(rows)}</tbody></table>')
    if per_mag:
        out += (f'<details class="permag"><summary>per MAG ({len(per_mag)} rows)</summary>'
                f'<table class="grid compact lat"><thead>{head}</thead>'
                f'<tbody>{"".join(per_mag)}</tbody></table></details>')
    return out


_FAIL_CODES = {code for code, (sev, _) in DIAGNOSTICS.items() if sev == "error"}


def summary_section(page: Page) -> str:
    s, r = page.stats, page.report
    cap = s["capture"]
    span = (r.end - r.start) if r.start is not None and r.end is not None else 0.0
    errors = sum(v for k, v in s["failures"].items() if k in _FAIL_CODES)
    warnings = sum(v for k, v in s["failures"].items() if k not in _FAIL_CODES)
    kpis = [
        _kpi("frames", cap["frames"]),
        _kpi("signaling", cap["signaling_frames"]),
        _kpi("malformed", cap["malformed_frames"], "bad" if cap["malformed_frames"] else ""),
        _kpi("span", f"{span:.3f} s", title=f"from {_utc(r.start)} to {_utc(r.end)}"),
        _kpi("mobile nodes", s["mobile_nodes"]),
        _kpi("attachments", s["attachments"]),
        _kpi("handoffs", s["handoffs"]),
        _kpi("errors", errors, "bad" if errors else "good",
             "diagnostics graded error (rejections, timeouts, HoA failures...)"),
        _kpi("warnings", warnings, "warn" if warnings else "good",
             "diagnostics graded warning or note"),
    ]
    for metric in ("rtt", "attach", "handoff"):
        all_ = s["latency_ms"].get(metric, {}).get("all")
        if all_ and all_["p50"] is not None:
            kpis.append(_kpi(f"{metric} p50 ms", f"{all_['p50']:.1f}",
                             title=f"n={all_['count']}, p90 {_ms(all_['p90'])}, "
                                   f"max {_ms(all_['max'])} ms"))
    nodes = "".join(
        f'<tr><td>{_e(n.name)}</td><td><span class="role role-{_e(n.role)}">{_e(n.role)}'
        f'</span></td><td class="mono">{_e(" ".join(n.addresses))}</td></tr>'
        for n in r.nodes)
    # a DHCPNAK is counted, not shown as a refusal (the terminal summary shows it red)
    bad = {status_label(k) for k in page.by_status
           if k[0] != DHCP_FAMILY and status_rejected(k)}
    status_rows = [(k, v, "bad" if k in bad else "")
                   for k, v in status_counts(page.by_status).items()]
    fail_rows = [(k, v, "bad" if k in _FAIL_CODES else "warn")
                 for k, v in s["failures"].items()]
    scope = f' <span class="muted">(latency: {_e(page.scope)})</span>' if page.scope else ""
    return f"""
<section id="summary" class="card">
  <h2>Summary{scope}</h2>
  <div class="kpis">{"".join(kpis)}</div>
  {_messages_table(s["messages"])}
  <div class="tables">
    <div>{_latency_table(s["latency_ms"])}</div>
    {_counts_table("statuses", status_rows)}
    {_counts_table("diagnostics", fail_rows)}
    <table class="grid compact"><thead><tr><th colspan="3">nodes</th></tr></thead>
      <tbody>{nodes or '<tr><td class="muted">none</td></tr>'}</tbody></table>
  </div>
  <p class="muted small">Latency in ms as seen at the capture point (definitions in
  docs/timeline.md); p50/p90/p99 are nearest-rank percentiles.</p>
</section>"""


def _mn_cells(index: int, mn: MobileNode, ladder_index: int | None,
              start: float | None) -> tuple[str, list[str]]:
    """The row's class and its cells, one per ``_MN_COLUMNS``."""
    d = mn_json(mn)
    sev = Counter(x["severity"] for x in d["diagnostics"])
    regs = [t for t in d["transactions"] if t["kind"] != "heartbeat"]
    outcome = Counter(t["outcome"] for t in regs)
    mags = list(dict.fromkeys(a["mag"] for a in d["attachments"]))
    last = d["attachments"][-1] if d["attachments"] else None
    attach_ms = next((a["attach_ms"] for a in d["attachments"] if a["attach_ms"] is not None),
                     None)
    handoff_ms = [h["handoff_ms"] for h in d["handoffs"] if h["handoff_ms"] is not None]
    broken = [h["interruption_ms"] for h in d["handoffs"] if h["interruption_ms"] is not None]
    gap = (f'<br><span class="muted small" title="longest break-before-make interruption: '
           f'old binding released → new PBA">gap {_ms(max(broken))}</span>' if broken else "")
    dhcp_ok = sum(1 for x in d["dhcp"] if x["outcome"] == "ack")
    cls = "bad" if sev["error"] else "warn" if sev["warning"] else ""
    rank = {"error": 0, "warning": 1, "note": 2}
    per_code = Counter((x["severity"], x["code"]) for x in d["diagnostics"])
    badges = " ".join(
        f'<span class="code {k}">{_e(code)}{f" ×{n}" if n > 1 else ""}</span>'
        for (k, code), n in sorted(per_code.items(), key=lambda kv: (rank[kv[0][0]],
                                                                      kv[0][1]))
    ) or '<span class="muted">—</span>'

    regs_text = " ".join(f'<span class="o-{_e(k)}">{v} {_e(k)}</span>'
                         for k, v in sorted(outcome.items()))
    name = (f'<a href="#{mn_anchor(ladder_index)}" data-open="{mn_anchor(ladder_index)}">'
            f"{_e(mn.id)}</a>" if ladder_index is not None else _e(mn.id))
    first = mn.attachments[0].start - (start or 0) if mn.attachments else None
    state = last["end_reason"] or ("attached" if last["registered"] else "") if last else "—"
    return cls, [
        f'<td data-sort="{index}" class="num muted">{index + 1}</td>',
        f"<td>{name}</td>",
        f'<td class="mono">{_e(" ".join(mn.macs)) or "—"}</td>',
        f'<td class="mono">{_e(" ".join(mn.ipv4_hoas)) or "—"}</td>',
        f'<td class="mono">{_e(mn.lma or "—")}</td>',
        f'<td class="mono mags" title="{_e(" → ".join(mags))}">{_e(_path(mags))}</td>',
        f'<td class="num" data-sort="{first if first is not None else -1}">'
        f'{"—" if first is None else f"{first:.3f}"}</td>',
        f'<td class="num">{len(d["attachments"])}</td>',
        f'<td class="num">{len(d["handoffs"])}</td>',
        f"<td>{regs_text or '—'}</td>",
        f'<td class="num" data-sort="{dhcp_ok}">{dhcp_ok}/{len(d["dhcp"])}</td>',
        f'<td class="num" data-sort="{attach_ms if attach_ms is not None else -1}">'
        f"{_ms(attach_ms)}</td>",
        f'<td class="num" data-sort="{max(handoff_ms) if handoff_ms else -1}">'
        f'{_ms(max(handoff_ms)) if handoff_ms else "—"}{gap}</td>',
        f'<td class="state-{_e(state)}">{_e(state)}</td>',
        f'<td class="issues" data-sort="{sev["error"] * 1000 + sev["warning"]}">'
        f"{badges}</td>"]


def _path(mags: list[str]) -> str:
    """MAGs in order of attachment, the middle elided past three: a → … → z (5)."""
    if not mags:
        return "—"
    if len(mags) <= 3:
        return " → ".join(mags)
    return f"{mags[0]} → … → {mags[-1]} ({len(mags)})"


_MN_COLUMNS = ("#", "mobile node", "MAC", "IPv4 HoA", "LMA", "MAGs", "first s", "att",
               "handoffs", "registrations", "DHCP ack", "attach ms", "handoff ms", "state",
               "issues")
_MN_TITLES = {"first s": "first attachment, seconds from the capture start",
              "att": "attachments", "MAGs": "MAGs in order of attachment",
              "registrations": "PBU/PBA transactions by outcome",
              "DHCP ack": "DHCP exchanges acknowledged / all",
              "attach ms": "first attachment: first signal → registered and addressed",
              "handoff ms": "slowest handoff", "state": "how the last attachment ended",
              "issues": "diagnostics, errors first (details in the ladder section of the MN)"}
_NUMERIC = {"#", "first s", "att", "handoffs", "DHCP ack", "attach ms", "handoff ms"}


def mn_table_section(page: Page) -> str:
    where = {v.mn.uid: k for k, v in enumerate(page.ladders)}
    # one LMA for every MN (the usual case): it is in the nodes table, not a column
    shown = [c for c in _MN_COLUMNS
             if c != "LMA" or len({mn.lma for mn in page.mns}) > 1]
    keep = [_MN_COLUMNS.index(c) for c in shown]
    head = "".join(
        f'<th data-col="{i}" class="{"num" if c in _NUMERIC else ""}" '
        f'title="{_e(_MN_TITLES.get(c, "click to sort"))}">{_e(c)}</th>'
        for i, c in enumerate(shown))
    rows = []
    for i, mn in enumerate(page.mns):
        cls, cells = _mn_cells(i, mn, where.get(mn.uid), page.report.start)
        rows.append(f'<tr class="{cls}" data-mn="{_e(mn.id)}">'
                    f'{"".join(cells[k] for k in keep)}</tr>')
    rows = "".join(rows)
    if not rows:
        rows = f'<tr><td colspan="{len(shown)}" class="muted">no mobile node</td></tr>'
    return f"""
<section id="mns" class="card">
  <h2>Mobile nodes <span class="muted">({len(page.mns)})</span>
    <input id="mn-filter" type="search" placeholder="filter: NAI, MAC, address, state…"
      aria-label="filter the mobile nodes"></h2>
  <div class="scroll"><table class="grid sortable" id="mn-table"><thead><tr>{head}</tr></thead>
  <tbody>{rows}</tbody></table></div>
  <p class="muted small">Click a column to sort, a mobile node to open its ladder. Red:
  an error diagnostic (rejected, unanswered, HoA failure); orange: a warning.</p>
</section>"""


def _diag_item(d: Diagnostic, ladder_index: int, ladder: Ladder, start: float | None) -> str:
    i = arrow_of_frames(ladder, d.frames)
    at = f"{d.time - (start or 0):.3f}"
    frames = ", ".join(map(str, d.frames))
    target = (f' <button class="goto" data-goto="{ladder_index}:{i}">show</button>'
              if i is not None else "")
    return (f'<li class="sev-{d.severity}"><span class="sev">{d.severity}</span> '
            f'<span class="mono">{at}</span> <b>{_e(d.code)}</b>: {_e(d.message)} '
            f'<span class="muted">(frames {_e(frames)})</span>{target}</li>')


def _attachments_table(mn: MobileNode, start: float | None) -> str:
    if not mn.attachments:
        return ""

    def t(v: float | None) -> str:
        return "—" if v is None else f"{v - (start or 0):.3f}"

    rows = "".join(
        f'<tr class="{"bad" if a.end_reason in ("rejected", "timeout", "expired") else ""}">'
        f'<td class="mono">{_e(a.mag)}</td><td class="num">{t(a.start)}</td>'
        f'<td class="num">{t(a.registered)}</td><td class="num">{t(a.end)}</td>'
        f"<td>{_e(a.end_reason or '')}</td><td class='mono'>{_e(a.ipv4_hoa or '—')}</td>"
        f"<td>{_e(a.dhcp_mode or '—')}</td>"
        f"<td class='num'>{'' if a.handoff_indicator is None else a.handoff_indicator}</td>"
        f'<td class="num">{_ms(a.address_ms)}</td><td class="num">{_ms(a.attach_ms)}</td>'
        "</tr>" for a in mn.attachments)
    head = "".join(f'<th class="{c}">{n}</th>' for n, c in (
        ("MAG", ""), ("start", "num"), ("registered", "num"), ("end", "num"), ("why", ""),
        ("IPv4 HoA", ""), ("DHCP", ""), ("HI", "num"), ("addr ms", "num"),
        ("attach ms", "num")))
    return (f'<table class="grid compact att"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")


_SVG_WIDTH = re.compile(r'<svg[^>]*?\swidth="([\d.]+)(pt|px)?"')


def _natural_width(svg: str) -> str:
    """``style="--w:Npx"``: the SVG's own width in CSS px, so that the page shrinks a wide
    ladder to fit its column by at most 15% (text stays readable) and scrolls beyond."""
    m = _SVG_WIDTH.search(svg)
    if m is None:
        return ""
    px = float(m.group(1)) * (4 / 3 if m.group(2) == "pt" else 1)
    return f' style="--w:{px:.0f}px"'


def ladder_section(page: Page, k: int, view: LadderView, open_: bool) -> str:
    mn, lad = view.mn, view.ladder
    facts = mn_facts(mn)
    facts.append(f"{len(lad.arrows)} message{'s' if len(lad.arrows) != 1 else ''}")
    sev = Counter(d.severity for d in mn.diagnostics)
    badges = "".join(f'<span class="badge {k2}">{sev[k2]} {k2}{"s" if sev[k2] != 1 else ""}'
                     f"</span>" for k2 in ("error", "warning", "note") if sev[k2])
    diags = "".join(_diag_item(d, k, lad, page.report.start)
                    for d in sorted(mn.diagnostics, key=lambda d: d.time))
    pages = "".join(
        f'<div class="page" data-page="{p}"{_natural_width(svg)}>'
        f'{inline_svg(svg, f"l{k}p{p}-")}</div>'
        for p, svg in enumerate(view.pages))
    if not view.pages:
        pages = '<p class="muted">no message of this MN to draw</p>'
    cut = f'<p class="note warn">{_e(lad.cut_note)}</p>' if lad.cut_note else ""
    return f"""
<details class="mn" id="{mn_anchor(k)}" data-mn-index="{k}"{" open" if open_ else ""}>
  <summary><b>{_e(mn.id)}</b> <span class="muted">{_e(" · ".join(facts))}</span>
    {badges}</summary>
  <div class="mn-body">
    {_attachments_table(mn, page.report.start)}
    {f'<ul class="diags">{diags}</ul>' if diags else ""}
    {cut}
    <div class="ladder" data-ladder="{k}">{pages}</div>
  </div>
</details>"""


def ladders_section(page: Page, open_limit: int = 5) -> str:
    if not page.ladders:
        return ""
    n = len(page.ladders)
    body = "".join(ladder_section(page, k, v, open_=n <= open_limit or k < 2)
                   for k, v in enumerate(page.ladders))
    legend = "".join(
        f'<span class="lg"><i style="background:{c}"></i>{_e(o)}</span>'
        for o, c in COLOURS.items())
    return f"""
<section id="ladders" class="card">
  <h2>Ladders <span class="muted">({n} mobile node{"s" if n != 1 else ""})</span>
    <span class="legend">{legend}</span>
    <span class="tools"><button id="open-all">open all</button>
    <button id="close-all">close all</button></span></h2>
  <div class="ladder-area">
    <div class="ladder-list">{body}</div>
    <aside id="detail" class="detail" aria-live="polite">
      <p class="muted">Click an arrow (or its label) to see the decoded message here;
      <kbd>j</kbd>/<kbd>k</kbd> step to the next/previous message, <kbd>Esc</kbd> clears.</p>
    </aside>
  </div>
</section>"""


def plots_section(page: Page) -> str:
    if not page.plots:
        return ""
    figs, missing = [], []
    for p in page.plots:
        if p.svg is None:
            missing.append(f"<li><b>{_e(p.kind)}</b>: {_e(p.note or 'no data')}</li>")
            continue
        wide = " wide" if p.kind == "timeline" else ""
        caption = f"<figcaption>{_e(p.note)}</figcaption>" if p.note else ""
        figs.append(f'<figure class="plot{wide}" id="plot-{_e(p.kind)}" '
                    f'data-kind="{_e(p.kind)}" title="{_e(p.title)}">'
                    f"{inline_svg(p.svg, f'plot-{p.kind}-')}{caption}</figure>")
    not_drawn = (f'<div class="note"><b>Not drawn</b> (no data in this capture):'
                 f'<ul>{"".join(missing)}</ul></div>' if missing else "")
    return f"""
<section id="plots" class="card">
  <h2>Plots</h2>
  <div class="plots">{"".join(figs)}</div>
  {not_drawn}
</section>"""


# -- the page ------------------------------------------------------------------------------

def render(page: Page) -> str:
    """The whole report as one HTML document."""
    r = page.report
    data = {"ladders": [ladder_data(v) for v in page.ladders],
            "colours": COLOURS, "severity": SEVERITY_COLOURS}
    notes = "".join(f'<p class="note warn">{_e(n)}</p>' for n in page.notes)
    gen = f" at {_e(page.generated)}" if page.generated else ""
    time_word = {"rel": "seconds from the first frame", "abs": "UTC clock time",
                 "delta": "seconds since the previous message"}.get(page.time_mode, "")
    nav = "".join(f'<a href="#{a}">{t}</a>' for a, t in (
        ("summary", "Summary"), ("mns", "Mobile nodes"), ("ladders", "Ladders"),
        ("plots", "Plots")) if a not in ("ladders", "plots") or (
            page.ladders if a == "ladders" else page.plots))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="pmipview {_e(page.version)}">
<title>pmipview report — {_e(page.source)}</title>
<style>{CSS}{css_facts()}</style>
</head>
<body>
<header class="top">
  <h1>pmipview report</h1>
  <span class="src mono" title="{_e(page.source)}">{_e(page.source)}</span>
  <span class="when">{_e(_utc(r.start))}</span>
  <nav>{nav}</nav>
</header>
<main>
{notes}
{summary_section(page)}
{mn_table_section(page)}
{ladders_section(page)}
{plots_section(page)}
<footer class="muted small">Generated by pmipview {_e(page.version)}{gen} from
{_e(page.source)}. Ladder times: {_e(time_word)}. This file is self-contained: it loads
nothing from the network.</footer>
</main>
<script type="application/json" id="pmv-data">{_json_script(data)}</script>
<script>{JS}</script>
</body>
</html>
"""


def mn_order_for_ladders(mns: Sequence[MobileNode], limit: int) -> list[MobileNode]:
    """The MNs that get a ladder when there are more than ``limit``: those with error
    diagnostics first, then warnings, then the rest, each group in capture order; the
    result keeps capture order."""
    if len(mns) <= limit:
        return list(mns)

    def rank(pair: tuple[int, MobileNode]) -> tuple[int, int]:
        i, mn = pair
        sev = {d.severity for d in mn.diagnostics}
        return (0 if "error" in sev else 1 if "warning" in sev else 2, i)

    chosen = sorted(enumerate(mns), key=rank)[:limit]
    return [mn for _, mn in sorted(chosen, key=lambda p: p[0])]


def css_facts() -> str:
    """The colours the ladders use (render/ladder/model.py), so page and SVG agree."""
    roles = "".join(f".role-{r}{{background:{c}}}" for r, c in ROLE_FACES.items())
    return (f":root{{--ok:{COLOURS['ok']};--bad:{COLOURS['rejected']};"
            f"--warn:{COLOURS['retransmission']};--note:{SEVERITY_COLOURS['note']}}}{roles}")


def _asset(name: str) -> str:
    return resources.files("pmipview.render").joinpath("assets", name).read_text("utf-8")


# the page's style and script live as files beside this module (assets/), inlined
CSS = _asset("report.css")
JS = _asset("report.js")
