"""The scanner page: one session's cross-section of underlyings as ONE self-contained HTML file.

A table of ``main.scanner`` (every underlying of the session, sortable by clicking a column header: a few lines of
inline JavaScript, no library) and a Bokeh chart of net GEX against call-gamma share, coloured by regime. Like the
report (:mod:`gex_report.page`), it loads nothing from the network. Rows come from
:func:`gex_warehouse.scanner.scan`, the reader ``gex scan`` uses.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from pathlib import Path

import numpy as np
from bokeh.embed import components
from bokeh.embed.bundle import bundle_for_objs_and_resources
from bokeh.models import ColumnDataSource, HoverTool, Range1d, Span
from bokeh.resources import INLINE
from gex_warehouse.scanner import ScanResult

from gex_report.charts import BN, COLOURS, _base
from gex_report.page import CSS, ReportOutputError, _package_version

#: Name of the chart (the browser test and the page's section find it by this).
CHART = "scanner_gex_vs_call_share"

#: Table columns: (scanner column, header with its unit, how a value is shown). Sorting uses the raw value.
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("underlying", "underlying", "text"),
    ("spot", "spot", "price"),
    ("total_gex_usd_per_1pct", "net GEX ($bn per 1%)", "bn"),
    ("net_gex_rank", "net GEX rank", "int"),
    ("call_gamma_share", "call-gamma share (%)", "pct"),
    ("gex_to_adv", "GEX / ADV (%)", "pct"),
    ("gamma_flip", "gamma flip", "price"),
    ("flip_distance_pct", "flip distance (%)", "signed"),
    ("regime", "regime", "text"),
    ("regime_changed", "changed", "bool"),
    ("previous_regime", "previous regime", "text"),
    ("total_gex_change_usd_per_1pct", "GEX change ($bn per 1%)", "bn"),
    ("zero_dte_gamma_share", "0-DTE share (%)", "pct"),
)

# Click a header to sort by it (numbers by value, text alphabetically, empty cells last); click again to reverse.
SORT_JS = """
(function () {
  const table = document.getElementById('scanner-table');
  if (!table) return;
  const heads = Array.from(table.tHead.rows[0].cells);
  heads.forEach((th, column) => {
    th.addEventListener('click', () => {
      const ascending = th.getAttribute('aria-sort') !== 'ascending';
      heads.forEach((h) => h.removeAttribute('aria-sort'));
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      const numeric = th.dataset.type !== 'text';
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      const key = (row) => row.cells[column].dataset.value;
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        if (x === '' && y === '') return 0;
        if (x === '') return 1;
        if (y === '') return -1;
        const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach((row) => body.appendChild(row));
    });
  });
})();
"""

SCANNER_CSS = """
div.scroll{overflow-x:auto}
table#scanner-table th{cursor:pointer;user-select:none;white-space:nowrap}
table#scanner-table th[aria-sort=ascending]:after{content:" \\25B2"}
table#scanner-table th[aria-sort=descending]:after{content:" \\25BC"}
"""


def _finite(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _cell(value: object, kind: str) -> tuple[str, str]:
    """(text shown, sort value) of one table cell; a missing value sorts last and shows as n/a."""
    if value is None:
        return "n/a", ""
    if kind == "text":
        return str(value), str(value)
    if kind == "bool":
        return ("yes" if value else "no"), ("1" if value else "0")
    number = _finite(value)
    if number is None:
        return "n/a", ""
    shown = {
        "price": f"{number:,.2f}",
        "bn": f"{number / BN:+,.3f}",
        "int": f"{number:.0f}",
        "pct": f"{number * 100:.1f}",
        "signed": f"{number:+.2f}",
    }[kind]
    return shown, repr(number)


def _table(result: ScanResult) -> str:
    head = "".join(f'<th data-key="{key}" data-type="{"text" if kind == "text" else "number"}">{html.escape(label)}</th>'
                   for key, label, kind in TABLE_COLUMNS)
    body = []
    for row in result.rows.iter_rows(named=True):
        cells = []
        for key, _, kind in TABLE_COLUMNS:
            text, value = _cell(row.get(key), kind)
            align = "" if kind == "text" else ' class="n"'
            cells.append(f'<td{align} data-value="{html.escape(value)}">{html.escape(text)}</td>')
        body.append(f'<tr data-underlying="{html.escape(str(row["underlying"]))}">{"".join(cells)}</tr>')
    return f'<table class="grid" id="scanner-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def gex_vs_call_share(result: ScanResult):  # -> bokeh figure
    """Net GEX ($bn per 1% move) against call-gamma share (%), one marker per underlying, coloured by regime;
    underlyings without a call-gamma share (no gamma at all) are left out."""
    rows = [r for r in result.rows.iter_rows(named=True) if _finite(r.get("call_gamma_share")) is not None
            and _finite(r.get("total_gex_usd_per_1pct")) is not None]
    fig = _base(CHART, f"Net GEX vs call-gamma share, {result.session} ({len(rows)} underlyings)",
                "call-gamma share, |call GEX| / (|call GEX| + |put GEX|), %", "net dealer GEX ($bn per 1% move)")
    source = ColumnDataSource({
        "underlying": [r["underlying"] for r in rows],
        "share": np.array([r["call_gamma_share"] * 100 for r in rows], dtype=float),
        "gex": np.array([r["total_gex_usd_per_1pct"] / BN for r in rows], dtype=float),
        "regime": [str(r.get("regime") or "n/a") for r in rows],
        "colour": [COLOURS.get(str(r.get("regime")), COLOURS["neutral"]) for r in rows],
        "flip": [("none" if r.get("flip_distance_pct") is None else f"{r['flip_distance_pct']:+.2f}%") for r in rows],
        "adv": [("n/a" if r.get("gex_to_adv") is None else f"{r['gex_to_adv'] * 100:+.2f}%") for r in rows],
    })
    points = fig.scatter(x="share", y="gex", source=source, size=11, color="colour", alpha=0.8, line_color="#333333",
                         legend_field="regime")
    # vline: hovering anywhere above or below a marker shows it (markers of small names sit close to zero)
    fig.add_tools(HoverTool(renderers=[points], mode="vline", tooltips=[
        ("underlying", "@underlying"), ("net GEX", "@gex{+0,0.000} bn USD/1%"), ("call share", "@share{0.0}%"),
        ("regime", "@regime"), ("flip distance", "@flip"), ("GEX / ADV", "@adv")]))
    fig.add_layout(Span(location=0, dimension="width", line_color="#999999", line_width=1))
    fig.add_layout(Span(location=50, dimension="height", line_color="#bbbbbb", line_width=1, line_dash="dotted"))
    fig.x_range = Range1d(-2, 102)  # the share is 0..100% by definition: a fixed frame compares sessions
    fig.legend.location = "top_left"
    fig.legend.click_policy = "hide"
    return fig


def render_scanner(result: ScanResult, *, preset: str = "native", warehouse_name: str = "",
                   generated_at: dt.datetime | None = None) -> str:
    """The scanner page of ``result`` (all underlyings of one session) as one self-contained HTML document."""
    fig = gex_vs_call_share(result)
    bundle = bundle_for_objs_and_resources([fig], INLINE)
    if bundle.js_files or bundle.css_files:  # INLINE never does this; a Bokeh change must not go unnoticed
        raise RuntimeError(f"the Bokeh bundle references URLs ({bundle.js_files + bundle.css_files}): the page would need a network")
    js, css = bundle
    script, divs = components({CHART: fig})
    rows = result.rows
    changed = int(rows["regime_changed"].fill_null(False).sum()) if rows.height else 0
    counts = {r: int((rows["regime"] == r).sum()) for r in ("positive", "negative", "neutral")} if rows.height else {}
    summary = ", ".join(f"{n} {r}" for r, n in counts.items() if n)
    when = (generated_at or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    title = f"GEX scanner {result.session}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}{SCANNER_CSS}</style>
{css}
{js}
</head>
<body>
<header>
<h1>Scanner &middot; session {result.session}</h1>
<div class="s" id="scanner-summary">{result.underlyings_in_session} underlyings ({html.escape(summary or 'none')});
{changed} changed regime since their previous session; preset {html.escape(preset)}</div>
<div class="conv"><b>Conventions:</b> dealer GEX in dollars per 1% move of each underlying (shown in $bn), net at
spot; call-gamma share = |call GEX| / (|call GEX| + |put GEX|), the calls' share of gross gamma (SqueezeMetrics'
cross-sectional measure); GEX / ADV = net GEX over the shares' 20-session average daily dollar volume (n/a without
volumes: indices); flip distance = (flip - spot) / spot. Ranks are dense per session (ties share a rank).</div>
</header>
<main>
<section id="chart-{CHART}" class="wide" data-chart="{CHART}"><h2>Net GEX vs call-gamma share</h2>
<p class="what">One marker per underlying, coloured by regime. Right of the dotted line most gross gamma sits in calls;
above zero dealers are long gamma (they damp moves). Index chains dwarf single names in dollars: zoom in (box zoom)
to separate the small ones.</p>{divs[CHART]}</section>
<section id="scanner" class="wide"><h2>All underlyings</h2><p class="what">Click a column header to sort (again
to reverse); missing values sort last.</p><div class="scroll">{_table(result)}</div></section>
</main>
<footer>Generated {when} by gex-report {_package_version("gex-report")} (bokeh {_package_version("bokeh")}) from
{html.escape(warehouse_name)} (published view main.scanner). Self-contained page: works offline.</footer>
{script}
<script>{SORT_JS}</script>
</body>
</html>
"""


def write_scanner(result: ScanResult, out: Path, **kwargs: object) -> int:
    """Write :func:`render_scanner` to ``out`` (parent folders created); returns the file's size in bytes."""
    text = render_scanner(result, **kwargs)  # type: ignore[arg-type]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReportOutputError(f"cannot write the scanner page to {out}: {reason}") from None
    return out.stat().st_size
