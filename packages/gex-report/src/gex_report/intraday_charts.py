"""The intraday page's Bokeh figures and the column layout of their data sources.

Every source is named (``intraday_cells``, ``intraday_series``) so the page's live script finds it and
appends new snapshots with ``source.stream(...)``: appending keeps the indices of the rows already drawn
(a selection stays valid) and never touches a range, so a zoom survives an update.

Units: GEX in $bn per 1% move of the underlying (the views store dollars), levels in index points, the
0-DTE share in % of gross gamma, time in New York wall-clock (:func:`gex_report.intraday_data.new_york_ms`).
The time axis of every chart is the whole trading session (open to close, from the NYSE calendar), fixed:
snapshots fill it in as the day goes, so new ones land inside what a zoomed reader already sees.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
from bokeh.models import (
    BoxSelectTool,
    ColorBar,
    ColumnDataSource,
    DataRange1d,
    HoverTool,
    LinearColorMapper,
    Range1d,
    Span,
)
from bokeh.plotting import figure

from gex_report.charts import BN, COLOURS
from gex_report.intraday_data import IntradayData, new_york_ms, new_york_ms_of

#: Intraday charts, in page order (the page and the browser test find them by these names).
INTRADAY_CHARTS = ("intraday_heatmap", "intraday_levels", "intraday_gex", "intraday_zero_dte_share")
#: Diverging palette of the heatmap, most negative (red: dealers short gamma) to most positive (green).
HEATMAP_PALETTE = ("#a50026", "#d73027", "#f46d43", "#fdae61", "#fee08b", "#f7f7f7",
                   "#d9ef8b", "#a6d96a", "#66bd63", "#1a9850", "#006837")
#: Width of a heatmap cell when the session has one snapshot (no interval to measure yet), minutes.
DEFAULT_INTERVAL_MINUTES = 5.0
#: Time padding before the open and after the close on the time axis, minutes.
TIME_PAD_MINUTES = 10.0
TOOLS = "pan,box_zoom,wheel_zoom,reset,save"
HEIGHT = 330
HEATMAP_HEIGHT = 520
MS_PER_MINUTE = 60_000.0


def _nan(value: object, scale: float = 1.0) -> float:
    """A float for a source column: NULL becomes NaN (a gap), ``scale`` applied."""
    if value is None:
        return math.nan
    number = float(value)  # type: ignore[arg-type]
    return number * scale


def series_columns(snapshots: pl.DataFrame) -> dict[str, list]:
    """One row per snapshot for ``intraday_series`` (also what the live endpoint sends).

    ``t`` New York wall-clock ms; ``spot``, ``flip``, walls in index points; ``total``, ``zero_dte``, ``call``,
    ``put`` in $bn per 1% move; ``share`` in %; ``kind`` ``intraday``/``end of day``; ``key`` the snapshot's
    UTC valuation instant (ISO), which the page uses as the snapshot's identity.
    """
    rows = snapshots.to_dicts()
    return {
        "t": new_york_ms(snapshots["valuation_ts"]) if rows else [],
        "spot": [_nan(r["spot"]) for r in rows],
        "flip": [_nan(r["gamma_flip"]) for r in rows],
        "flip_pct": [_nan(r["flip_distance_pct"]) for r in rows],
        "call_wall": [_nan(r["call_wall"]) for r in rows],
        "put_wall": [_nan(r["put_wall"]) for r in rows],
        "total": [_nan(r["total_gex_usd_per_1pct"], 1 / BN) for r in rows],
        "call": [_nan(r["call_gex_usd_per_1pct"], 1 / BN) for r in rows],
        "put": [_nan(r["put_gex_usd_per_1pct"], 1 / BN) for r in rows],
        "zero_dte": [_nan(r["zero_dte_gex_usd_per_1pct"], 1 / BN) for r in rows],
        "share": [_nan(r["zero_dte_gamma_share"], 100.0) for r in rows],
        "regime": [str(r["regime"] or "n/a") for r in rows],
        "kind": ["intraday" if r["intraday"] else "end of day" for r in rows],
        "key": [r["valuation_ts"].isoformat() for r in rows],
        "load_id": [str(r["load_id"] or "") for r in rows],
    }


def cell_columns(strikes: pl.DataFrame) -> dict[str, list]:
    """One row per (snapshot, strike) for ``intraday_cells``: ``t`` (New York ms), ``strike``, and the cell's
    vertical extent ``y`` (centre) and ``h`` (height), index points: from the midpoint with the strike below to
    the midpoint with the strike above (half a gap beyond the first and last strike), so the cells of a
    snapshot tile the strike axis without overlap whatever the spacing; ``net``, ``call``, ``put`` in $bn per
    1% move."""
    if strikes.height == 0:
        return {"t": [], "strike": [], "y": [], "h": [], "net": [], "call": [], "put": []}
    k = pl.col("strike").cast(pl.Float64)
    up = (k.shift(-1).over("valuation_ts") - k)
    down = (k - k.shift(1).over("valuation_ts"))
    s = strikes.sort("valuation_ts", "strike").with_columns(
        pl.coalesce(up, down, pl.lit(1.0)).alias("gap_up"), pl.coalesce(down, up, pl.lit(1.0)).alias("gap_down"),
    ).with_columns(
        (k + pl.col("gap_up") / 2).alias("top"), (k - pl.col("gap_down") / 2).alias("bottom"),
    )
    return {
        "t": new_york_ms(s["valuation_ts"]),
        "strike": s["strike"].cast(pl.Float64).to_list(),
        "y": ((s["top"] + s["bottom"]) / 2).to_list(),
        "h": (s["top"] - s["bottom"]).to_list(),
        "net": [_nan(v, 1 / BN) for v in s["net_gex_usd_per_1pct"].to_list()],
        "call": [_nan(v, 1 / BN) for v in s["call_gex_usd_per_1pct"].to_list()],
        "put": [_nan(v, 1 / BN) for v in s["put_gex_usd_per_1pct"].to_list()],
    }


def interval_ms(times: list[float]) -> float:
    """Typical time between snapshots (median gap, ms): the width of a heatmap cell."""
    gaps = sorted(b - a for a, b in zip(times, times[1:]) if b > a)
    if not gaps:
        return DEFAULT_INTERVAL_MINUTES * MS_PER_MINUTE
    return float(gaps[len(gaps) // 2])


def session_span_ms(session: dt.date, times: list[float]) -> tuple[float, float]:
    """The time axis: the session's regular hours (early closes included), padded, widened to every snapshot."""
    from gex import calendar

    start = new_york_ms_of(calendar.session_open(session)) - TIME_PAD_MINUTES * MS_PER_MINUTE
    end = new_york_ms_of(calendar.session_close(session)) + TIME_PAD_MINUTES * MS_PER_MINUTE
    if times:
        start, end = min(start, min(times) - TIME_PAD_MINUTES * MS_PER_MINUTE), max(end, max(times) + TIME_PAD_MINUTES * MS_PER_MINUTE)
    return start, end


#: Quantile of |net GEX| at which the heatmap's colours saturate (cells beyond take the end colours): a few
#: strikes with huge open interest would otherwise wash every other cell out to white.
COLOUR_QUANTILE = 0.98


def colour_limit(net_bn: list[float]) -> float:
    """Symmetric colour scale limit, $bn: the :data:`COLOUR_QUANTILE` quantile of |net GEX| over the cells
    (nearest rank; 1e-9 when all are zero or there are none)."""
    finite = sorted(abs(v) for v in net_bn if not math.isnan(v))
    if not finite:
        return 1e-9
    return max(finite[min(len(finite) - 1, int(COLOUR_QUANTILE * len(finite)))], 1e-9)


def _figure(name: str, title: str, y_label: str, x_range: Range1d, *, height: int = HEIGHT, **kwargs: object) -> figure:
    fig = figure(name=name, title=title, height=height, sizing_mode="stretch_width", tools=TOOLS,
                 x_axis_type="datetime", x_axis_label="time (New York)", y_axis_label=y_label,
                 toolbar_location="right", active_scroll=None, x_range=x_range, min_border_left=80, **kwargs)
    fig.title.text_font_size = "13px"
    fig.xaxis.axis_label_text_font_style = "normal"
    fig.yaxis.axis_label_text_font_style = "normal"
    return fig


def _legend(fig: figure) -> None:
    fig.legend.orientation = "horizontal"
    fig.legend.click_policy = "hide"
    fig.legend.label_text_font_size = "11px"
    fig.legend.border_line_alpha = 0
    fig.add_layout(fig.legend[0], "above")


def build_intraday(data: IntradayData) -> dict[str, figure]:
    """The four intraday figures, keyed by :data:`INTRADAY_CHARTS`, sharing one fixed session time axis."""
    series = ColumnDataSource(series_columns(data.snapshots), name="intraday_series")
    cells_data = cell_columns(data.strikes)
    cells = ColumnDataSource(cells_data, name="intraday_cells")
    times = series.data["t"]
    start, end = session_span_ms(data.session, list(times))
    x_range = Range1d(start, end, name="intraday_time")
    width = interval_ms(list(times))
    limit = colour_limit(cells_data["net"])
    label = f"{data.underlying} {data.session}"

    spots = [v for v in series.data["spot"] if not math.isnan(v)]
    lo = min(spots, default=0.0) * (1 - data.strike_window)
    hi = max(spots, default=1.0) * (1 + data.strike_window)
    heat = _figure("intraday_heatmap", f"Dealer net GEX by strike through the day, {label} "
                   f"(strikes within ±{data.strike_window:.0%} of each snapshot's spot)",
                   "strike (index points)", x_range, y_range=Range1d(lo, hi, name="intraday_strikes"), height=HEATMAP_HEIGHT)
    # values beyond ±limit take the end colours (LinearColorMapper clamps)
    mapper = LinearColorMapper(palette=list(HEATMAP_PALETTE), low=-limit, high=limit, name="intraday_colours",
                               nan_color="#ffffff")
    rects = heat.rect(x="t", y="y", width=width, height="h", source=cells, line_color=None,
                      fill_color={"field": "net", "transform": mapper}, name="intraday_cells_glyph",
                      nonselection_fill_alpha=0.5)  # a selection highlights its cells; the rest stays readable
    spot_line = heat.line(x="t", y="spot", source=series, color=COLOURS["spot"], line_width=2, legend_label="spot")
    heat.line(x="t", y="flip", source=series, color=COLOURS["flip"], line_width=2, line_dash="dashed",
              legend_label="gamma flip")
    heat.add_tools(HoverTool(renderers=[rects], tooltips=[
        ("time", "@t{%H:%M} ET"), ("strike", "@strike{0,0.[00]}"), ("net", "@net{+0,0.000} bn USD/1%"),
        ("calls", "@call{+0,0.000} bn USD/1%"), ("puts", "@put{+0,0.000} bn USD/1%")], formatters={"@t": "datetime"}))
    heat.add_tools(HoverTool(renderers=[spot_line], mode="vline", tooltips=[
        ("time", "@t{%H:%M} ET"), ("spot", "@spot{0,0.00}"), ("flip", "@flip{0,0.00}")], formatters={"@t": "datetime"}))
    heat.add_tools(BoxSelectTool(renderers=[rects]))
    heat.add_layout(ColorBar(color_mapper=mapper, title=f"net GEX, $bn per 1% move (saturates at the {COLOUR_QUANTILE:.0%} quantile of |net|)", orientation="horizontal", height=10,
                             title_text_font_size="11px"), "below")  # below, so every chart's time axis lines up
    _legend(heat)

    levels = _figure("intraday_levels", f"Spot, gamma flip and walls through the day, {label}", "level (index points)",
                     x_range, y_range=DataRange1d(name="intraday_levels_y"))
    spot = levels.line(x="t", y="spot", source=series, color=COLOURS["spot"], line_width=2, legend_label="spot")
    levels.scatter(x="t", y="spot", source=series, size=5, color=COLOURS["spot"], legend_label="spot")
    levels.line(x="t", y="flip", source=series, color=COLOURS["flip"], line_width=2, line_dash="dashed",
                legend_label="gamma flip")
    levels.step(x="t", y="call_wall", source=series, mode="after", color=COLOURS["call_wall"], line_dash="dotted",
                line_width=2, legend_label="call wall")
    levels.step(x="t", y="put_wall", source=series, mode="after", color=COLOURS["put_wall"], line_dash="dotted",
                line_width=2, legend_label="put wall")
    levels.add_tools(HoverTool(renderers=[spot], mode="vline", tooltips=[
        ("time", "@t{%H:%M} ET (@kind)"), ("spot", "@spot{0,0.00}"), ("flip", "@flip{0,0.00} (@flip_pct{+0.00}%)"),
        ("call wall", "@call_wall{0,0}"), ("put wall", "@put_wall{0,0}"), ("regime", "@regime")],
        formatters={"@t": "datetime"}))
    _legend(levels)

    gex = _figure("intraday_gex", f"Total and 0-DTE dealer GEX through the day, {label}", "dealer GEX ($bn per 1% move)",
                  x_range, y_range=DataRange1d(name="intraday_gex_y"))
    total = gex.line(x="t", y="total", source=series, color=COLOURS["net"], line_width=2, legend_label="total GEX")
    gex.scatter(x="t", y="total", source=series, size=5, color=COLOURS["net"], legend_label="total GEX")
    gex.line(x="t", y="zero_dte", source=series, color=COLOURS["iv"], line_width=2, legend_label="0-DTE GEX")
    gex.add_layout(Span(location=0, dimension="width", line_color="#999999", line_width=1))
    gex.add_tools(HoverTool(renderers=[total], mode="vline", tooltips=[
        ("time", "@t{%H:%M} ET"), ("total", "@total{+0,0.000} bn USD/1%"), ("0-DTE", "@zero_dte{+0,0.000} bn USD/1%"),
        ("calls", "@call{+0,0.000} bn USD/1%"), ("puts", "@put{+0,0.000} bn USD/1%")], formatters={"@t": "datetime"}))
    _legend(gex)

    share = _figure("intraday_zero_dte_share", f"0-DTE share of gross gamma through the day, {label}",
                    "0-DTE share of gross |GEX| (%)", x_range, y_range=DataRange1d(start=0, name="intraday_share_y"))
    line = share.line(x="t", y="share", source=series, color=COLOURS["iv"], line_width=2, legend_label="0-DTE share")
    share.scatter(x="t", y="share", source=series, size=5, color=COLOURS["iv"], legend_label="0-DTE share")
    share.add_tools(HoverTool(renderers=[line], mode="vline", tooltips=[
        ("time", "@t{%H:%M} ET"), ("0-DTE share", "@share{0.0}%")], formatters={"@t": "datetime"}))
    _legend(share)
    return {"intraday_heatmap": heat, "intraday_levels": levels, "intraday_gex": gex, "intraday_zero_dte_share": share}
