// Live updates of the intraday page (gex report --serve): poll the JSON endpoint, append new snapshots to the
// page's ColumnDataSources with source.stream(), which keeps every range (zoom) and the indices of the rows
// already there (selection). A snapshot that changed or vanished (an end-of-day file replacing the close
// snapshot, a recompute) makes the page fetch the whole session and replace the sources' data, which keeps
// the ranges too. Network or server trouble is shown in the status line (never console.error: the page stays
// quiet and keeps retrying).
(function () {
  "use strict";
  const cfgNode = document.getElementById("gex-live");
  if (!cfgNode) return;
  const cfg = JSON.parse(cfgNode.textContent);
  const status = document.getElementById("live-status");
  const say = (text) => { if (status) status.textContent = text; };
  if (!cfg.url || !/^https?:$/.test(window.location.protocol)) {
    say("Static page: it shows the snapshots computed when it was written. `gex report --serve` serves a live page.");
    return;
  }
  let failures = 0;
  let polls = 0;
  let lastChange = "";

  const models = () => {
    const doc = window.Bokeh && Bokeh.documents[0];
    if (!doc) return null;
    return {
      series: doc.get_model_by_name("intraday_series"),
      cells: doc.get_model_by_name("intraday_cells"),
      colours: doc.get_model_by_name("intraday_colours"),
    };
  };
  const column = (source, name) => {
    const data = source.data;
    return Array.from(data instanceof Map ? data.get(name) : data[name]);
  };
  const clock = (ms) => new Date(ms).toISOString().slice(11, 19);  // t is New York wall-clock ms
  const num = (v, digits) => (v === null || v === undefined || Number.isNaN(v)) ? "n/a"
    : Number(v).toLocaleString("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits});
  const signed = (v, digits) => (v === null || Number.isNaN(v)) ? "n/a" : (v >= 0 ? "+" : "") + num(v, digits);
  const setText = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };

  function refreshHeader(m) {
    const t = column(m.series, "t");
    const n = t.length;
    setText("snapshot-count", String(n));
    if (n === 0) return;
    const at = (name) => column(m.series, name)[n - 1];
    setText("card-time", clock(at("t")) + " ET");
    setText("card-kind", at("kind") + " snapshot");
    setText("card-spot", num(at("spot"), 2));
    setText("card-total", signed(at("total"), 2) + " $bn");
    setText("card-flip", Number.isNaN(at("flip")) ? "none" : num(at("flip"), 2));
    setText("card-flip-pct", Number.isNaN(at("flip_pct")) ? "no zero crossing in the window" : signed(at("flip_pct"), 2) + "% from spot");
    setText("card-walls", num(at("call_wall"), 0) + " / " + num(at("put_wall"), 0));
    setText("card-zero-dte", signed(at("zero_dte"), 2) + " $bn");
    setText("card-share", num(at("share"), 1) + "% of gross |GEX|");
    const badge = document.getElementById("regime");
    if (badge) {
      const regime = at("regime");
      badge.dataset.regime = regime;
      badge.textContent = regime + " gamma";
      badge.style.background = (cfg.colours && cfg.colours[regime]) || cfg.colours.neutral;
    }
  }

  // the colour scale saturates at a quantile of |net GEX| (intraday_charts.COLOUR_QUANTILE); widen it when the
  // new cells' own quantile is larger, never narrow it (colours already read must not change meaning)
  function widenColours(m, net) {
    const values = net.filter(Number.isFinite).map(Math.abs).sort((a, b) => a - b);
    if (values.length === 0) return;
    const limit = values[Math.min(values.length - 1, Math.floor(cfg.colour_quantile * values.length))];
    if (limit > m.colours.high) { m.colours.low = -limit; m.colours.high = limit; }
  }

  function query(after) {
    const q = new URLSearchParams({underlying: cfg.underlying, session: cfg.session, preset: cfg.preset});
    if (after !== null) q.set("after", after);
    return cfg.url + "?" + q.toString();
  }

  // JSON has no NaN: the server sends a missing number as null; the charts need NaN (a gap), not 0
  const gaps = (columns) => {
    const out = {};
    for (const [name, values] of Object.entries(columns)) out[name] = values.map((v) => (v === null ? NaN : v));
    return out;
  };

  async function fetchJson(after) {
    const response = await fetch(query(after), {cache: "no-store"});
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
    body.series = gaps(body.series);
    body.cells = gaps(body.cells);
    return body;
  }

  function consistent(m, body) {
    // every snapshot the page has must still be there with the same load; nothing new may sit before our last one
    const keys = column(m.series, "key"), loads = column(m.series, "load_id");
    const have = new Map(keys.map((k, i) => [k, loads[i]]));
    const fresh = new Set(body.series.key);
    const index = new Map(body.index.map((e) => [e.key, e.load_id]));
    for (const [k, load] of have) if (index.get(k) !== load) return false;
    for (const k of index.keys()) if (!have.has(k) && !fresh.has(k)) return false;
    return true;
  }

  async function poll() {
    const m = models();
    if (!m) { setTimeout(poll, 200); return; }
    try {
      const keys = column(m.series, "key");
      const last = keys.length ? keys[keys.length - 1] : null;
      let body = await fetchJson(last);
      let added = body.series.key.length;
      if (!consistent(m, body)) {
        body = await fetchJson(null);  // something changed under us: take the whole session again
        m.cells.data = body.cells;
        m.series.data = body.series;
        widenColours(m, body.cells.net);
        added = -1;
      } else if (added > 0) {
        m.cells.stream(body.cells);
        m.series.stream(body.series);
        widenColours(m, body.cells.net);
      }
      refreshHeader(m);
      failures = 0;
      polls += 1;
      const newer = body.latest_session && body.latest_session > cfg.session
        ? " A newer session, " + body.latest_session + ", has snapshots: choose it above." : "";
      const now = new Date().toLocaleTimeString();
      if (added !== 0) {
        lastChange = " Last update at " + now + ": " + (added < 0 ? "reloaded the session (a snapshot was replaced)"
          : added + " new snapshot" + (added > 1 ? "s" : "")) + ".";
      }
      say("Live: checked " + now + "; " + column(m.series, "t").length + " snapshots; checking every " +
          cfg.poll_seconds + " s." + lastChange + newer);
      document.body.dataset.polls = String(polls);
    } catch (err) {
      failures += 1;
      say("Live: the server did not answer (" + (err && err.message ? err.message : err) + ") at " +
          new Date().toLocaleTimeString() + "; retrying every " + cfg.poll_seconds + " s. The charts keep what they have.");
    }
    setTimeout(poll, cfg.poll_seconds * 1000);
  }
  setTimeout(poll, cfg.poll_seconds * 1000);
})();
