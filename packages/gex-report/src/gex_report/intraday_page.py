"""The intraday page: one self-contained HTML file (BokehJS and CSS inline) of a session's snapshots.

Written as a static file (``gex report --intraday``: what was computed when it was written, opens offline), or
served live by :mod:`gex_report.serve` (``gex report --serve``): the same page with a :class:`LiveConfig`,
whose inline script (``live.js``) polls the server's JSON endpoint and appends new snapshots to the charts'
data sources without touching their ranges, so a zoom and a selection survive every update.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from bokeh.embed import components
from bokeh.embed.bundle import bundle_for_objs_and_resources
from bokeh.resources import INLINE

from gex_report.charts import BN, COLOURS
from gex_report.intraday_charts import COLOUR_QUANTILE, INTRADAY_CHARTS, build_intraday
from gex_report.intraday_data import IntradayData
from gex_report.page import CSS, ReportOutputError, _package_version

#: Section of each chart: (chart name, heading, what it shows).
INTRADAY_SECTIONS = (
    ("intraday_heatmap", "1. Net GEX by strike and time",
     "Each cell is one strike (rows, index points) in one snapshot (columns, New York time), coloured by the dealers' "
     "net GEX there, $bn per 1% move: green long gamma (they damp moves), red short gamma (they amplify). Spot "
     "(black) and the gamma flip (orange, dashed) are drawn over it."),
    ("intraday_levels", "2. Spot, flip and walls",
     "Spot, gamma flip, call wall and put wall at each snapshot. Spot above the flip: positive-gamma territory."),
    ("intraday_gex", "3. Total and 0-DTE GEX",
     "Total dealer GEX at spot and the GEX of the contracts settling by the next close (0-DTE), $bn per 1% move."),
    ("intraday_zero_dte_share", "4. 0-DTE share",
     "Share of gross |GEX| in contracts settling by the next close, %."),
)
EXTRA_CSS = """
.live{font-size:12.5px;color:#1f3b73;background:#eef3fb;border:1px solid #c9d6ee;border-radius:6px;padding:5px 9px;margin-top:8px}
form.pick{display:inline-block;margin-left:14px;font-size:12.5px;font-weight:normal}
form.pick select,form.pick button{font-size:12.5px;margin-left:4px}
"""


@dataclass(frozen=True)
class LiveConfig:
    """How the served page polls: the endpoint's path (same origin), seconds between polls, and whether to
    draw the underlying/session selector (a form that reloads the page from the server)."""

    url: str = "/api/snapshots"
    poll_seconds: float = 10.0
    selector: bool = True


def _num(value: object) -> float | None:
    if value is None:
        return None
    out = float(value)  # type: ignore[arg-type]
    return None if math.isnan(out) else out


def _fmt(value: object, pattern: str, missing: str = "n/a") -> str:
    number = _num(value)
    return missing if number is None else format(number, pattern)


def _live_script() -> str:
    return files("gex_report").joinpath("live.js").read_text(encoding="utf-8")


def _json_for_script(value: object) -> str:
    """JSON safe inside a ``<script>`` element (no ``</`` sequence can close it early)."""
    return json.dumps(value).replace("</", "<\\/")


def _selector(data: IntradayData) -> str:
    """A GET form (underlying, session, preset) that reloads the served page."""
    def options(values: list[str], chosen: str) -> str:
        return "".join(f'<option value="{html.escape(v)}"{" selected" if v == chosen else ""}>{html.escape(v)}</option>'
                       for v in values)

    sessions = [str(s) for s in reversed(data.sessions)]
    return (f'<form class="pick" method="get" action="/" id="selector">underlying<select name="underlying">'
            f'{options(list(data.underlyings), data.underlying)}</select> session<select name="session">'
            f'{options(sessions, str(data.session))}</select> preset<select name="preset">'
            f'{options(["native", "perfiliev", "perfiliev-early", "gflows"], data.preset)}</select>'
            '<button type="submit">show</button></form>')


def render_intraday(data: IntradayData, *, live: LiveConfig | None = None, warehouse_name: str = "",
                    generated_at: dt.datetime | None = None) -> str:
    """The intraday page of ``data`` as one self-contained HTML document.

    Parameters
    ----------
    data:
        The session's snapshots (:func:`gex_report.intraday_data.load`).
    live:
        ``None``: a static page. Otherwise the page polls ``live.url`` every ``live.poll_seconds`` when it is
        served over HTTP (opened from a file, it says it is static and never polls).
    warehouse_name:
        Shown in the footer.
    generated_at:
        Footer instant (UTC); ``None`` is now.
    """
    figs = build_intraday(data)
    bundle = bundle_for_objs_and_resources(list(figs.values()), INLINE)
    if bundle.js_files or bundle.css_files:  # INLINE never does this; a Bokeh change must not go unnoticed
        raise RuntimeError(f"the Bokeh bundle references URLs ({bundle.js_files + bundle.css_files}): the page would need a network")
    js, css = bundle
    script, divs = components(figs)
    last = data.snapshots.row(-1, named=True) if data.snapshots.height else {}
    regime = str(last.get("regime") or "n/a")
    from gex_report.intraday_data import new_york_ms_of

    when = "n/a"
    if last.get("valuation_ts") is not None:
        when = dt.datetime.fromtimestamp(new_york_ms_of(last["valuation_ts"]) / 1000, dt.timezone.utc).strftime("%H:%M:%S") + " ET"
    flip = _num(last.get("gamma_flip"))
    cards = [
        ("last snapshot", "card-time", when, "card-kind", ("intraday" if last.get("intraday") else "end of day") + " snapshot"),
        ("spot", "card-spot", _fmt(last.get("spot"), ",.2f"), "", "index points"),
        ("total GEX", "card-total", "n/a" if _num(last.get("total_gex_usd_per_1pct")) is None
         else f"{float(last['total_gex_usd_per_1pct']) / BN:+,.2f} $bn", "", "per 1% move, net at spot"),
        ("gamma flip", "card-flip", "none" if flip is None else f"{flip:,.2f}", "card-flip-pct",
         "no zero crossing in the window" if flip is None else f"{_fmt(last.get('flip_distance_pct'), '+.2f')}% from spot"),
        ("call / put wall", "card-walls", f"{_fmt(last.get('call_wall'), ',.0f')} / {_fmt(last.get('put_wall'), ',.0f')}", "",
         "index points"),
        ("0-DTE GEX", "card-zero-dte", "n/a" if _num(last.get("zero_dte_gex_usd_per_1pct")) is None
         else f"{float(last['zero_dte_gex_usd_per_1pct']) / BN:+,.2f} $bn", "card-share",
         f"{_fmt(last.get('zero_dte_gamma_share'), '.1%')} of gross |GEX|"),
    ]
    cards_html = "".join(
        f'<div class="card"><div class="k">{html.escape(k)}</div><div class="v" id="{vid}">{html.escape(v)}</div>'
        f'<div class="s"{f" id={chr(34)}{sid}{chr(34)}" if sid else ""}>{html.escape(s)}</div></div>'
        for k, vid, v, sid, s in cards
    )
    sections = "".join(
        f'<section id="chart-{name}" class="wide" data-chart="{name}"><h2>{html.escape(heading)}</h2>'
        f'<p class="what">{html.escape(what)}</p>{divs[name]}</section>'
        for name, heading, what in INTRADAY_SECTIONS
    )
    assert [s[0] for s in INTRADAY_SECTIONS] == list(INTRADAY_CHARTS)
    oi_note = str(last.get("oi_note") or "")
    config = {
        "url": live.url if live else None,
        "poll_seconds": live.poll_seconds if live else None,
        "underlying": data.underlying,
        "session": str(data.session),
        "preset": data.preset,
        "colours": {k: COLOURS[k] for k in ("positive", "negative", "neutral")},
        "colour_quantile": COLOUR_QUANTILE,
    }
    selector = _selector(data) if live is not None and live.selector else ""
    stamp = (generated_at or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    title = f"GEX intraday {data.underlying} {data.session}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}{EXTRA_CSS}</style>
{css}
{js}
</head>
<body>
<header>
<h1>{html.escape(data.underlying)} &middot; session {data.session} &middot; intraday
<span class="badge" id="regime" data-regime="{html.escape(regime)}" style="background:{COLOURS.get(regime, COLOURS['neutral'])}">{html.escape(regime)} gamma</span>{selector}</h1>
<div class="cards">{cards_html}</div>
<div class="conv"><b><span id="snapshot-count">{data.snapshots.height}</span> snapshots</b> ({data.intraday_count} intraday) of preset
<b>{html.escape(data.preset)}</b>. GEX in dollars per 1% move of the underlying (shown in $bn); levels in index points; times in
New York. Open interest is start-of-day all day{f": {html.escape(oi_note)}" if oi_note else ""}.</div>
<div class="live" id="live-status">{"Live: waiting for the first check." if live else "Static page."}</div>
</header>
<main>
{sections}
</main>
<footer>Generated {stamp} by gex-report {_package_version("gex-report")} (bokeh {_package_version("bokeh")}) from
{html.escape(warehouse_name)}; {len(data.sessions)} session{"s" if len(data.sessions) != 1 else ""} of {html.escape(data.underlying)} with
snapshots ({data.sessions[0]} to {data.sessions[-1]}). Self-contained page: works offline.</footer>
{script}
<script type="application/json" id="gex-live">{_json_for_script(config)}</script>
<script>{_live_script()}</script>
</body>
</html>
"""


def write_intraday(data: IntradayData, out: Path, **kwargs: object) -> int:
    """Write the static :func:`render_intraday` page to ``out`` (parent folders created); its size in bytes."""
    text = render_intraday(data, **kwargs)  # type: ignore[arg-type]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportOutputError(f"cannot write the intraday page to {out}: {exc.strerror or type(exc).__name__}") from None
    return out.stat().st_size
