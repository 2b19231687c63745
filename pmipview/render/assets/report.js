(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("pmv-data").textContent);
  var panel = document.getElementById("detail");
  var current = null;

  function q(sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  }
  function parts(k, i) { return q('[data-ladder="' + k + '"] [data-arrow="' + i + '"]'); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // Thin lines are hard to hit: give each arrow line a wide transparent twin.
  q(".ladder [data-arrow]").forEach(function (g) {
    if (g.getAttribute("data-part") === "line") {
      Array.prototype.filter.call(g.children, function (c) {
        return c.tagName === "path" || c.tagName === "line" || c.tagName === "polyline";
      }).forEach(function (p) {
        var hit = p.cloneNode(false);
        hit.removeAttribute("id");
        hit.removeAttribute("clip-path");
        hit.setAttribute("class", "hit");
        hit.setAttribute("style", "fill:none;stroke:transparent;stroke-width:12px");
        g.appendChild(hit);
      });
    }
    g.setAttribute("tabindex", "0");
    g.setAttribute("role", "button");
    var lad = g.closest("[data-ladder]");
    var a = DATA.ladders[+lad.getAttribute("data-ladder")].arrows[+g.getAttribute("data-arrow")];
    if (a) {
      g.setAttribute("aria-label", a.time + " " + a.label);
      var tip = document.createElementNS(g.namespaceURI, "title");
      tip.textContent = a.label + "\n" + a.time + " · frame " + a.frames.join(", ") +
        " · click for the decoded message";
      g.insertBefore(tip, g.firstChild);
    }
  });

  function where(target) {
    var g = target.closest && target.closest("[data-arrow]");
    if (!g) return null;
    var lad = g.closest("[data-ladder]");
    if (!lad) return null;
    return [+lad.getAttribute("data-ladder"), +g.getAttribute("data-arrow")];
  }
  // A band across the whole row (time column to the last lifeline) under an arrow.
  var bands = {hot: null, sel: null};
  function band(cls, k, i) {
    if (bands[cls]) { bands[cls].remove(); bands[cls] = null; }
    if (k === null) return;
    var ps = parts(k, i);
    if (!ps.length) return;
    var svg = ps[0].ownerSVGElement, y0 = Infinity, y1 = -Infinity;
    ps.forEach(function (p) {
      if (p.ownerSVGElement !== svg) return;
      var b = p.getBBox();
      y0 = Math.min(y0, b.y);
      y1 = Math.max(y1, b.y + b.height);
    });
    if (!isFinite(y0)) return;
    var r = document.createElementNS(svg.namespaceURI, "rect");
    r.setAttribute("class", "band " + cls);
    r.setAttribute("x", 0);
    r.setAttribute("width", svg.viewBox.baseVal.width || svg.getBBox().width);
    r.setAttribute("y", y0 - 3);
    r.setAttribute("height", y1 - y0 + 6);
    // on top, multiplied: tints the row whatever the figure draws as its background
    ps[0].parentNode.appendChild(r);
    bands[cls] = r;
  }
  function mark(k, i, cls, on) {
    parts(k, i).forEach(function (e) { e.classList.toggle(cls, on); });
    var selected = current && current[0] === k && current[1] === i;
    band(cls, on && !(cls === "hot" && selected) ? k : null, i);
  }

  function render(k, i) {
    var L = DATA.ladders[k], a = L.arrows[i];
    panel.replaceChildren();
    var h = el("h3");
    var badge = el("span", "outcome", a.outcome);
    badge.style.background = DATA.colours[a.outcome] || "#57606a";
    h.appendChild(badge);
    h.appendChild(document.createTextNode(a.label));
    panel.appendChild(h);
    var meta = el("dl", "meta");
    function row(name, v, key) {
      meta.appendChild(el("dt", null, name));
      var d = el("dd", "mono", v);
      if (key) d.setAttribute("data-field", key);
      meta.appendChild(d);
    }
    row("mobile node", L.mn);
    row("message", (i + 1) + " of " + L.arrows.length + " · " + a.kind);
    row("time", a.time + ({rel: " s", delta: " s", abs: " UTC"}[L.time_mode] || ""), "time");
    var also = a.frames.length > 1
      ? "  (also " + a.frames.slice(1).join(", ") + " at other capture points)" : "";
    row("frame", a.frames[0] + also, "frame");
    function end(name, role, addr) {
      return name + " (" + role + ")" + (addr && addr !== name ? " · " + addr : "");
    }
    row("from", end(a.src, a.src_role, a.addr[0]), "from");
    row("to", end(a.dst, a.dst_role, a.addr[1]), "to");
    panel.appendChild(meta);
    a.diagnostics.forEach(function (d) {
      panel.appendChild(el("div", "diag " + d[0], d[0] + " — " + d[1]));
    });
    var t = el("table", "fields");
    a.fields.forEach(function (sec) {
      var tr = el("tr"), th = el("th", null, sec[0]);
      th.colSpan = 2;
      tr.appendChild(th);
      t.appendChild(tr);
      sec[1].forEach(function (f) {
        var r = el("tr");
        r.setAttribute("data-field", (sec[0] === a.head ? "" : sec[0] + ".") + f[0]);
        r.appendChild(el("td", "f", f[0])); r.appendChild(el("td", "v", f[1])); t.appendChild(r);
      });
    });
    panel.appendChild(t);
    var nav = el("div", "nav");
    var prev = el("button", null, "◀ previous (k)"), next = el("button", null, "next (j) ▶");
    prev.disabled = i === 0; next.disabled = i === L.arrows.length - 1;
    prev.onclick = function () { select(k, i - 1, true); };
    next.onclick = function () { select(k, i + 1, true); };
    nav.appendChild(prev); nav.appendChild(next); panel.appendChild(nav);
  }

  function select(k, i, scroll) {
    var L = DATA.ladders[k];
    if (!L || i < 0 || i >= L.arrows.length) return;
    if (current) mark(current[0], current[1], "sel", false);
    current = [k, i];
    band("hot", null);
    var box = document.querySelector('[data-mn-index="' + k + '"]');
    if (box && !box.open) box.open = true;
    mark(k, i, "sel", true);
    render(k, i);
    var first = parts(k, i)[0];
    if (scroll && first) first.scrollIntoView({block: "center", behavior: "instant"});
    try { history.replaceState(null, "", "#a-" + k + "-" + i); } catch (e) { /* file: URLs */ }
  }
  function clear() {
    if (current) mark(current[0], current[1], "sel", false);
    current = null;
  }

  document.addEventListener("click", function (ev) {
    var w = where(ev.target);
    if (w) { select(w[0], w[1], false); return; }
    var go = ev.target.closest("[data-goto]");
    if (go) {
      var p = go.getAttribute("data-goto").split(":");
      select(+p[0], +p[1], true);
      return;
    }
    var open = ev.target.closest("[data-open]");
    if (open) {
      var d = document.getElementById(open.getAttribute("data-open"));
      if (d) d.open = true;
    }
  });
  document.addEventListener("mouseover", function (ev) {
    var w = where(ev.target); if (w) mark(w[0], w[1], "hot", true);
  });
  document.addEventListener("mouseout", function (ev) {
    var w = where(ev.target); if (w) mark(w[0], w[1], "hot", false);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.target.tagName === "INPUT" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var w = where(ev.target);
    if (w && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      select(w[0], w[1], false);
      return;
    }
    if (!current) return;
    if (ev.key === "j") select(current[0], current[1] + 1, true);
    else if (ev.key === "k") select(current[0], current[1] - 1, true);
    else if (ev.key === "Escape") clear();
  });

  // MN table: filter and sort.
  var table = document.getElementById("mn-table");
  var filter = document.getElementById("mn-filter");
  if (filter && table) filter.addEventListener("input", function () {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    q("tbody tr", table).forEach(function (tr) {
      var text = tr.textContent.toLowerCase();
      tr.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    });
  });
  if (table) q("thead th", table).forEach(function (th) {
    th.addEventListener("click", function () {
      var col = +th.getAttribute("data-col");
      var dir = th.getAttribute("data-dir") === "asc" ? "desc" : "asc";
      q("thead th", table).forEach(function (o) { o.removeAttribute("data-dir"); });
      th.setAttribute("data-dir", dir);
      var body = table.tBodies[0], rows = q("tr", body);
      function key(tr) {
        var td = tr.children[col]; if (!td) return "";
        var s = td.getAttribute("data-sort"); if (s !== null) return +s;
        var n = parseFloat(td.textContent);
        return th.classList.contains("num") && !isNaN(n) ? n : td.textContent;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var c = (typeof x === "number" && typeof y === "number")
          ? x - y : String(x).localeCompare(String(y));
        return dir === "asc" ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  function toggleAll(open) { q("details.mn").forEach(function (d) { d.open = open; }); }
  var oa = document.getElementById("open-all"), ca = document.getElementById("close-all");
  if (oa) oa.onclick = function () { toggleAll(true); };
  if (ca) ca.onclick = function () { toggleAll(false); };

  var m = /^#a-(\d+)-(\d+)$/.exec(location.hash);
  if (m) select(+m[1], +m[2], true);
  document.documentElement.setAttribute("data-ready", "1");
})();
