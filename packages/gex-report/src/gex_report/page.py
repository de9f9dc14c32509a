"""Assemble ONE self-contained HTML file: header, charts and tables, with BokehJS and all CSS inline.

The page loads nothing from anywhere (no CDN, no web font, no image URL): it opens from a USB stick on
an air-gapped machine. :func:`render` refuses to produce a page whose Bokeh bundle would reference a URL.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import polars as pl
from bokeh.embed import components
from bokeh.embed.bundle import bundle_for_objs_and_resources
from bokeh.resources import INLINE

from gex_report.charts import BN, COLOURS, build_all
from gex_report.data import STRIKE_WINDOW, ReportData

#: Section of each chart on the page: (chart name, heading, what it shows).
SECTIONS = (
    ("gex_by_strike", "1. GEX by strike",
     "Dealer GEX of the calls (green, up) and puts (red, down) at each strike within ±10% of spot, and their net "
     "(diamonds), in $bn per 1% move of the underlying. Spot, gamma flip, call wall and put wall are marked."),
    ("gex_profile", "2. GEX profile",
     "Total dealer GEX re-evaluated at hypothetical spot levels with every option keeping its implied vol (sticky "
     "strike). Green: dealers long gamma (they sell rallies and buy dips, damping moves); red: short gamma "
     "(they chase moves). The flip is where the curve crosses zero."),
    ("gex_by_expiry", "3. GEX by expiration",
     "Dealer GEX of the calls, puts and their net per expiration (AM- and PM-settled apart), $bn per 1% move: "
     "gamma that expires soon (0-DTE, weeklies, the monthly) stops pinning or pushing the index when it rolls off."),
    ("flip_history", "4. Gamma flip vs spot",
     "Spot, gamma flip and the call and put walls per session. Spot above the flip: positive-gamma territory."),
    ("regime_timeline", "5. Regime timeline",
     "Total dealer GEX per session, $bn per 1% move, coloured by regime (sign of GEX at spot)."),
    ("vol_levels", "6. Realized vs implied volatility",
     "Close-to-close realized vol over 5, 10 and 21 sessions and 30-day at-the-money implied vol, annualised, % per year."),
    ("vol_spread", "",
     "Implied minus 21-session realized vol, vol points: positive when options price more movement than the index delivered."),
)


def _num(value: object) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _fmt(value: object, pattern: str, missing: str = "n/a") -> str:
    number = _num(value)
    return missing if number is None else format(number, pattern)


def _scaled(value: object, factor: float, pattern: str) -> str:
    number = _num(value)
    return "n/a" if number is None else format(number * factor, pattern)


def _bn(value: object) -> str:
    """Dollars as signed $bn, e.g. ``+123.08 $bn``."""
    number = _num(value)
    return "n/a" if number is None else f"{number / BN:+,.2f} $bn"


def _change(data: ReportData, column: str, factor: float, pattern: str, unit: str) -> str:
    """``"vs prev +1.23 $bn"``: the session's value minus the previous computed session's (history order)."""
    h = data.history
    if h.height < 2 or h["session"][-1] != data.session:
        return "no previous session"
    now, before = _num(h[column][-1]), _num(h[column][-2])
    if now is None or before is None:
        return "vs prev n/a"
    return f"vs prev {format((now - before) * factor, pattern)}{unit}"


def _distance(level: object, spot: float) -> str:
    number = _num(level)
    return "n/a" if number is None else f"{(number - spot) / spot * 100:+.2f}% from spot"


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def quality_flags(data: ReportData) -> list[tuple[str, str]]:
    """Data-quality notes of the session, as (level, text) with level ``warn`` or ``info``."""
    day = data.day
    flags: list[tuple[str, str]] = []
    if day.get("partial_chain"):
        flags.append(("warn", f"partial chain: {day.get('partial_reason') or 'some expirations missing'}; totals cover only the expirations present"))
    excluded = day.get("contracts_excluded")
    if excluded:
        try:
            counts = json.loads(str(excluded))
        except ValueError:
            counts = {}
        if counts:
            listed = ", ".join(f"{reason} {count:,}" for reason, count in sorted(counts.items()))
            flags.append(("info", f"contracts excluded: {listed} (used: {int(day.get('contracts_used') or 0):,})"))  # type: ignore[call-overload]
    source = day.get("oi_source")
    if source and source != "occ_feed":
        flags.append(("warn", f"open interest from {source} (not the OCC feed of the session morning)"))
    gap = _num(day.get("vendor_model_gamma_gap"))
    if gap is not None and abs(gap) > 0.10:
        flags.append(("warn", f"vendor gamma differs from the model's by {gap:.0%} (exposure-weighted)"))
    if day.get("gamma_flip") is None:
        flags.append(("warn", "no gamma flip: the profile does not cross zero within the flip window"))
    if data.strikes.height == 0:
        flags.append(("warn", f"no strike within ±{STRIKE_WINDOW:.0%} of spot"))
    vol_today = data.vol.filter(pl.col("session") == data.session)
    for column, what in (("atm_iv_30d", "30-day ATM implied vol"), ("rv_21d", "21-session realized vol")):
        if vol_today.height == 0 or column not in vol_today.columns or vol_today[column][0] is None:
            flags.append(("info", f"no {what} for this session (too little history or no data)"))
    if data.session != data.sessions[-1]:
        flags.append(("info", f"not the latest session of {data.underlying}: the warehouse goes to {data.sessions[-1]}"))
    if data.hedge is None:
        flags.append(("info", "no hedging advice in this warehouse (view main.hedge_advice absent)"))
    return flags


def _levels_rows(data: ReportData) -> list[tuple[str, float, float]]:
    day = data.day
    spot = float(day["spot"])  # type: ignore[arg-type]
    rows = []
    for key, label in (("call_wall", "call wall"), ("abs_gamma_strike", "absolute gamma strike"), ("gamma_flip", "gamma flip"),
                       ("put_wall", "put wall"), ("most_negative_net_strike", "most negative net GEX strike")):
        level = _num(day.get(key))
        if level is not None:
            rows.append((label, level, (level - spot) / spot * 100))
    rows.append(("spot", spot, 0.0))
    return sorted(rows, key=lambda r: -r[1])


def _table(frame: pl.DataFrame) -> str:
    """A plain HTML table of a frame (numbers right-aligned, floats with 4 significant digits)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.iter_rows():
        cells = []
        for value in row:
            if isinstance(value, float):
                text = "" if math.isnan(value) else f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4g}"
                cells.append(f'<td class="n">{text}</td>')
            elif isinstance(value, int) and not isinstance(value, bool):
                cells.append(f'<td class="n">{value:,}</td>')
            else:
                cells.append(f"<td>{html.escape('' if value is None else str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _conventions(day: dict[str, object]) -> str:
    try:
        record = json.loads(str(day.get("conventions") or "{}"))
    except ValueError:
        record = {}
    window = record.get("profile_window")
    parts = [
        f"preset <b>{html.escape(str(day.get('preset') or 'n/a'))}</b>",
        f"dealer positioning {html.escape(str(record.get('dealer_positioning', 'n/a')))} (dealers long calls, short puts)"
        if record.get("dealer_positioning") == "classic" else
        f"dealer positioning {html.escape(str(record.get('dealer_positioning', 'n/a')))}",
        f"spot gamma from {html.escape(str(record.get('spot_gamma', 'n/a')))}",
        f"flip window {window[0]}-{window[1]} x spot" if isinstance(window, list) and len(window) == 2 else "",
        f"rate {_fmt(day.get('rate'), '.3%')} (continuous)",
        f"open interest: {html.escape(str(day.get('oi_source') or 'n/a'))}",
    ]
    return "; ".join(p for p in parts if p)


CSS = """
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1b1f24;background:#f3f4f6;font-size:14px}
header{background:#fff;border-bottom:1px solid #d9dde3;padding:14px 22px}
h1{font-size:20px;margin:0 0 8px 0;font-weight:600}
h1 .badge{font-size:13px;vertical-align:middle;margin-left:8px}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;color:#fff;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(175px,1fr));gap:8px;margin:10px 0}
.card{background:#f8f9fb;border:1px solid #e1e4e8;border-radius:6px;padding:7px 10px}
.card .k{font-size:11px;color:#5b6470;text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:16px;font-weight:600;margin-top:2px;font-variant-numeric:tabular-nums}
.card .s{font-size:11px;color:#5b6470}
main{padding:12px 22px;display:grid;grid-template-columns:repeat(auto-fit,minmax(620px,1fr));gap:14px}
section{background:#fff;border:1px solid #d9dde3;border-radius:8px;padding:10px 14px}
section.wide{grid-column:1/-1}
h2{font-size:15px;margin:2px 0 4px 0}
p.what{color:#4a525c;font-size:12.5px;margin:0 0 6px 0}
.flags{margin:6px 0 0 0;padding:0;list-style:none}
.flags li{font-size:12.5px;margin:2px 0}
.flags li.warn:before{content:"\\26A0  ";color:#b45309}
.flags li.info:before{content:"\\2139  ";color:#2563eb}
.conv{font-size:12px;color:#4a525c;margin-top:6px}
table.grid{border-collapse:collapse;font-size:12.5px;width:100%;font-variant-numeric:tabular-nums}
table.grid th,table.grid td{border-bottom:1px solid #e5e7eb;padding:3px 8px;text-align:left}
table.grid td.n{text-align:right}
table.grid td{vertical-align:top}
table.grid th{background:#f8f9fb;font-weight:600}
.note{color:#4a525c;font-style:italic}
footer{padding:8px 22px 18px;color:#6b7280;font-size:11.5px}
"""


def render(data: ReportData, *, warehouse_name: str = "", generated_at: dt.datetime | None = None) -> str:
    """The report of ``data`` as one self-contained HTML document (a string).

    Parameters
    ----------
    data:
        What to draw (:func:`gex_report.data.load`).
    warehouse_name:
        Shown in the footer (the warehouse file's name).
    generated_at:
        Instant printed in the footer (UTC); ``None`` prints the current time. Fix it for reproducible output.
    """
    figs = build_all(data)
    bundle = bundle_for_objs_and_resources(list(figs.values()), INLINE)
    if bundle.js_files or bundle.css_files:  # INLINE never does this; a Bokeh change must not go unnoticed
        raise RuntimeError(f"the Bokeh bundle references URLs ({bundle.js_files + bundle.css_files}): the page would need a network")
    js, css = bundle
    script, divs = components(figs)
    day = data.day
    regime = str(day.get("regime") or "n/a")
    spot = float(day["spot"])  # type: ignore[arg-type]
    flip = _num(day.get("gamma_flip"))
    days_in = day.get("days_in_regime")
    cards = [
        ("spot", f"{spot:,.2f}", "index points"),
        ("total GEX", _bn(day.get("total_gex_usd_per_1pct")),
         f"$bn per 1% move, net at spot; {_change(data, 'total_gex_usd_per_1pct', 1 / BN, '+,.2f', ' $bn')}"),
        ("gamma flip", "none" if flip is None else f"{flip:,.2f}",
         "no zero crossing in the window" if flip is None
         else f"{_fmt(day.get('flip_distance_pct'), '+.2f')}% from spot; {_change(data, 'gamma_flip', 1.0, '+,.0f', ' pts')}"),
        ("call wall", _fmt(day.get("call_wall"), ",.0f"), _distance(day.get("call_wall"), spot)),
        ("put wall", _fmt(day.get("put_wall"), ",.0f"), _distance(day.get("put_wall"), spot)),
        ("0-DTE share", _fmt(day.get("zero_dte_gamma_share"), ".1%"), "of gross |GEX| settling by next close"),
        ("calls / puts GEX", f"{_scaled(day.get('call_gex_usd_per_1pct'), 1 / BN, '+,.1f')} / "
         f"{_scaled(day.get('put_gex_usd_per_1pct'), 1 / BN, '+,.1f')}", "$bn per 1% move"),
        ("DEX", _bn(day.get("dex_usd")), "$bn dealer dollar delta"),
        ("VEX", _bn(day.get("vex_usd_per_volpt")), "$bn delta per +1 vol point"),
        ("CEX (charm)", _bn(day.get("cex_usd_per_day")), "$bn delta per calendar day"),
        ("ATM IV 30d / RV 21d", f"{_scaled(day.get('atm_iv_30d'), 100, '.1f')} / {_scaled(day.get('rv_21d'), 100, '.1f')}",
         "% per year"),
    ]
    cards_html = "".join(
        f'<div class="card"><div class="k">{html.escape(k)}</div><div class="v">{html.escape(v)}</div>'
        f'<div class="s">{html.escape(s)}</div></div>' for k, v, s in cards
    )
    regime_note = {"positive": "dealers long gamma: they damp moves", "negative": "dealers short gamma: they amplify moves"}
    since = f", {days_in} session{'s' if days_in != 1 else ''} in this regime" if isinstance(days_in, int) else ""
    flags = "".join(f'<li class="{level}">{html.escape(text)}</li>' for level, text in quality_flags(data))
    sections = []
    for name, heading, what in SECTIONS:
        title = f"<h2>{html.escape(heading)}</h2>" if heading else ""
        wide = ' class="wide"' if name in ("gex_by_expiry", "vol_levels", "vol_spread") else ""
        sections.append(f'<section id="chart-{name}"{wide} data-chart="{name}">{title}'
                        f'<p class="what">{html.escape(what)}</p>{divs[name]}</section>')
    levels = "".join(
        f'<tr><td>{html.escape(label)}</td><td class="n">{level:,.2f}</td><td class="n">{dist:+.2f}%</td></tr>'
        for label, level, dist in _levels_rows(data)
    )
    if data.hedge is None:
        hedge_body = '<p class="note">No hedging advice: this warehouse has no <code>main.hedge_advice</code> view yet.</p>'
    elif data.hedge.height == 0:
        hedge_body = f'<p class="note">No hedging advice rows for {html.escape(data.underlying)} on {data.session}.</p>'
    else:
        hedge_body = _table(data.hedge)
    sections.append(f'<section id="hedge-advice" class="wide"><h2>7. Hedging advice</h2><p class="what">Per hedging '
                    'template (<code>main.hedge_advice</code>): re-hedge when the hedge is further than the band from '
                    'the delta target (to the band\'s edge, or reset to the target when orders pay a fixed fee), or on '
                    'the clock instead; expected daily P&amp;L of gamma revenue at realised vol, theta and hedging cost; '
                    f'the regime adjustment and warnings (docs/hedging-advisor.md).</p>{hedge_body}</section>')
    sections.append(_expected_move_section(data))
    sections.append(_level_stats_section(data))
    sections.append(
        '<section id="levels"><h2>Key levels</h2><p class="what">Levels of the session, highest first; distance from spot, %.</p>'
        f'<table class="grid"><thead><tr><th>level</th><th>index points</th><th>from spot</th></tr></thead><tbody>{levels}</tbody></table></section>'
    )
    when = (generated_at or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    title = f"GEX report {data.underlying} {data.session}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}</style>
{css}
{js}
</head>
<body>
<header>
<h1>{html.escape(data.underlying)} &middot; session {data.session}
<span class="badge" id="regime" data-regime="{html.escape(regime)}" style="background:{COLOURS.get(regime, COLOURS['neutral'])}">{html.escape(regime)} gamma</span></h1>
<div class="s">{html.escape(regime_note.get(regime, "regime undetermined"))}{html.escape(since)}</div>
<div class="cards">{cards_html}</div>
<ul class="flags" id="quality">{flags}</ul>
<div class="conv"><b>Conventions:</b> GEX in dollars per 1% move of the underlying (shown in $bn);
{_conventions(day)}. Levels in index points; dates are New York trading sessions.</div>
</header>
<main>
{"".join(sections)}
</main>
<footer>Generated {when} by gex-report {_package_version("gex-report")} (bokeh {_package_version("bokeh")}) from
{html.escape(warehouse_name)}; {len(data.sessions)} computed session{"s" if len(data.sessions) != 1 else ""} of
{html.escape(data.underlying)} ({data.sessions[0]} to {data.sessions[-1]}); underlyings: {html.escape(", ".join(data.underlyings))}.
Self-contained page: works offline.</footer>
{script}
</body>
</html>
"""


def _expected_move_section(data: ReportData) -> str:
    """Section 8: the session's expected moves (``main.expected_move``) as a table."""
    head = ('<section id="expected-move" class="wide"><h2>8. Expected move</h2><p class="what">What the options price: '
            'per expiry the at-the-money straddle at the forward (about 0.8 standard deviations of the move to expiry), '
            'and one standard deviation over 1 and 5 sessions from the 30-day ATM implied vol; index points and % of '
            'spot, with the bands spot &plusmn; move (<code>main.expected_move</code>).</p>')
    moves = data.expected_move
    if moves is None:
        return head + '<p class="note">No expected move: this warehouse has no <code>main.expected_move</code> view yet.</p></section>'
    if moves.height == 0:
        return head + f'<p class="note">No expected move for {html.escape(data.underlying)} on {data.session} (no usable smile or quoted straddle).</p></section>'
    rows = []
    for r in moves.iter_rows(named=True):
        what = (f"straddle {r['target_date']} {r['settlement']}" if r["method"] == "straddle"
                else f"ATM IV, {r['sessions_ahead']} session{'s' if r['sessions_ahead'] != 1 else ''} (to {r['target_date']})")
        rows.append(f'<tr><td>{html.escape(what)}</td><td class="n">{r["sessions_ahead"]}</td>'
                    f'<td class="n">&plusmn;{r["move_points"]:,.2f}</td><td class="n">&plusmn;{r["move_pct"]:.2f}%</td>'
                    f'<td class="n">{r["lower_points"]:,.2f}</td><td class="n">{r["upper_points"]:,.2f}</td></tr>')
    return (head + '<table class="grid"><thead><tr><th>move</th><th>sessions ahead</th><th>index points</th>'
            f'<th>% of spot</th><th>lower band</th><th>upper band</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')


#: Figures of section 9, in order: (statistic, grouping, header of the statistic, scale to show).
_LEVEL_FIGURES = (
    ("call_wall_held_high", "all", "call wall held (next high below), %", 100.0),
    ("call_wall_held_close", "all", "call wall held (next close below), %", 100.0),
    ("put_wall_held_low", "all", "put wall held (next low above), %", 100.0),
    ("put_wall_held_close", "all", "put wall held (next close above), %", 100.0),
    ("forward_rv", "regime", "forward realised vol by regime, % per year", 100.0),
    ("forward_rv", "gex_quintile", "forward realised vol by GEX quintile (Q1 lowest), % per year", 100.0),
    ("forward_return_std", "regime", "forward return std by regime, %", 100.0),
)


def _level_stats_section(data: ReportData) -> str:
    """Section 9: what followed this underlying's levels in the warehouse's own history (``gex stats``)."""
    head = ('<section id="level-stats" class="wide"><h2>9. Do the levels hold? This warehouse\'s history</h2>'
            '<p class="what">Over the computed sessions up to this one (<code>main.level_outcomes</code>, as '
            '<code>gex stats</code> prints them): how often the walls held over the next session, and forward '
            'realised vol (zero-mean close-to-close) and return spread by regime and GEX quintile. Figure '
            '[95% moving-block bootstrap interval]; <b>*</b> marks a bucket too small to mean anything '
            '(docs/evidence.md).</p>')
    stats = data.level_stats
    if stats is None:
        return head + ('<p class="note">Not enough history: the level statistics need at least ten computed sessions '
                       'followed by a close (or the warehouse has no <code>main.level_outcomes</code> view yet).</p></section>')
    rows = []
    for statistic, grouping, header, scale in _LEVEL_FIGURES:
        part = stats.filter((pl.col("statistic") == statistic) & (pl.col("grouping") == grouping))
        for r in part.sort("horizon_days", maintain_order=True).iter_rows(named=True):
            if r["value"] is None:
                continue
            interval = ("n/a" if r["ci_low"] is None or r["ci_high"] is None
                        else f"[{scale * r['ci_low']:.1f}, {scale * r['ci_high']:.1f}]")
            flag = "*" if r["small_sample"] else ""
            rows.append(f'<tr><td>{html.escape(header)}</td><td class="n">{r["horizon_days"]}</td>'
                        f'<td>{html.escape(r["bucket"])}</td><td class="n">{r["n"]:,}</td>'
                        f'<td class="n">{scale * r["value"]:.1f}{flag}</td><td class="n">{interval}</td></tr>')
    return (head + '<table class="grid"><thead><tr><th>figure</th><th>sessions ahead</th><th>bucket</th><th>n</th>'
            f'<th>value</th><th>interval</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')


class ReportOutputError(OSError):
    """The report file cannot be written (message is meant for people)."""


def write(data: ReportData, out: Path, **kwargs: object) -> int:
    """Write :func:`render` to ``out`` (parent folders created); returns the file's size in bytes."""
    text = render(data, **kwargs)  # type: ignore[arg-type]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:  # a read-only folder, a folder given as the file, a full disk: one line, no traceback
        reason = exc.strerror or type(exc).__name__
        raise ReportOutputError(f"cannot write the report to {out}: {reason}") from None
    return out.stat().st_size

