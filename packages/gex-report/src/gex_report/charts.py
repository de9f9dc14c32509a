"""The report's Bokeh figures, one function per chart; every axis says its unit.

GEX is drawn in $bn per 1% move of the underlying (the warehouse stores dollars per 1% move), levels in
index points, volatilities in % per year (the warehouse stores decimals per year). Each figure has a
``name`` (the keys of :data:`CHARTS`) that the page and the browser test find it by.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import polars as pl
from bokeh.models import ColumnDataSource, HoverTool, Range1d, Span
from bokeh.plotting import figure

from gex_report.data import ReportData

#: Colours shared by the charts and the page (regime colours match the header badge).
COLOURS = {
    "positive": "#1a9850",
    "negative": "#d73027",
    "neutral": "#8c8c8c",
    "call": "#2e8b57",
    "put": "#c0392b",
    "net": "#1f3b73",
    "spot": "#111111",
    "flip": "#e67e22",
    "call_wall": "#2e8b57",
    "put_wall": "#c0392b",
    "iv": "#6a3d9a",
    "rv_5d": "#a6cee3",
    "rv_10d": "#1f78b4",
    "rv_21d": "#08306b",
}
BN = 1e9  # dollars per $bn
# Hover tooltips are Bokeh templates where "$name" is a special variable ("$bn" would print "???"): they
# say "bn USD" instead.
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
HEIGHT = 340


def _regime_colour(regime: object) -> str:
    return COLOURS.get(str(regime), COLOURS["neutral"])


def _dates_ms(series: pl.Series) -> np.ndarray:
    """Dates as datetime64[ms] (what Bokeh's datetime axes take)."""
    return series.cast(pl.Datetime("ms")).to_numpy()


def _floats(series: pl.Series, scale: float = 1.0) -> np.ndarray:
    """Floats with NULL as NaN (Bokeh draws NaN as a gap in a line), multiplied by ``scale``."""
    return series.cast(pl.Float64).fill_null(float("nan")).to_numpy() * scale


def _level(value: object) -> str:
    return "n/a" if value is None else f"{float(value):,.0f}"  # type: ignore[arg-type]


def _base(name: str, title: str, x_label: str, y_label: str, *, datetime: bool = False, **kwargs: object) -> figure:
    fig = figure(
        name=name,
        title=title,
        height=HEIGHT,
        sizing_mode="stretch_width",
        tools=TOOLS,
        x_axis_type="datetime" if datetime else "auto",  # auto: linear, or categorical for factors
        x_axis_label=x_label,
        y_axis_label=y_label,
        toolbar_location="right",
        active_scroll=None,  # the mouse wheel scrolls the page; click the wheel-zoom tool to zoom with it
        **kwargs,
    )
    fig.title.text_font_size = "13px"
    fig.xaxis.axis_label_text_font_style = "normal"
    fig.yaxis.axis_label_text_font_style = "normal"
    return fig


def _level_marker(fig: figure, level: object, colour: str, text: str, dash: str = "dashed") -> None:
    """A vertical line at ``level`` (index points), named in the legend; nothing when the level is missing."""
    if level is None or (isinstance(level, float) and math.isnan(level)):
        return
    fig.vspan(x=[float(level)], line_color=colour, line_dash=dash, line_width=1.8, legend_label=text)  # type: ignore[arg-type]


def _legend_on_top(fig: figure) -> None:
    """Legend in one row above the plot (inside, it would hide bars and labels), entries click to hide."""
    fig.legend.orientation = "horizontal"
    fig.legend.click_policy = "hide"
    fig.legend.label_text_font_size = "11px"
    fig.legend.glyph_width = 16
    fig.legend.spacing = 4
    fig.legend.padding = 2
    fig.legend.margin = 2
    fig.legend.border_line_alpha = 0
    fig.add_layout(fig.legend[0], "above")


def gex_by_strike(data: ReportData) -> figure:
    """(1) Call, put and net dealer GEX per strike near spot, $bn per 1% move; walls, spot and flip marked."""
    day, s = data.day, data.strikes
    fig = _base("gex_by_strike", f"GEX by strike, {data.underlying} {data.session} (strikes within ±10% of spot)",
                "strike (index points)", "dealer GEX ($bn per 1% move)")
    strikes = s["strike"].to_numpy()
    step = float(np.min(np.diff(strikes))) if strikes.size > 1 else 1.0
    source = ColumnDataSource(
        {
            "strike": strikes,
            "call": _floats(s["call_gex_usd_per_1pct"], 1 / BN),
            "put": _floats(s["put_gex_usd_per_1pct"], 1 / BN),
            "net": _floats(s["net_gex_usd_per_1pct"], 1 / BN),
        }
    )
    call = fig.vbar(x="strike", top="call", width=step * 0.8, source=source, color=COLOURS["call"], alpha=0.55,
                    legend_label="calls")
    put = fig.vbar(x="strike", top="put", width=step * 0.8, source=source, color=COLOURS["put"], alpha=0.55,
                   legend_label="puts")
    net = fig.scatter(x="strike", y="net", source=source, marker="diamond", size=8, color=COLOURS["net"],
                      legend_label="net (calls + puts)")
    fig.add_tools(HoverTool(renderers=[call, put, net], mode="vline", tooltips=[
        ("strike", "@strike{0,0.[00]}"), ("calls", "@call{+0,0.000} bn USD/1%"), ("puts", "@put{+0,0.000} bn USD/1%"),
        ("net", "@net{+0,0.000} bn USD/1%")]))
    fig.add_layout(Span(location=0, dimension="width", line_color="#999999", line_width=1))
    _level_marker(fig, day.get("spot"), COLOURS["spot"], f"spot {_level(day.get('spot'))}", "solid")
    _level_marker(fig, day.get("gamma_flip"), COLOURS["flip"], f"flip {_level(day.get('gamma_flip'))}", "dashed")
    _level_marker(fig, day.get("call_wall"), COLOURS["call_wall"], f"call wall {_level(day.get('call_wall'))}", "dotted")
    _level_marker(fig, day.get("put_wall"), COLOURS["put_wall"], f"put wall {_level(day.get('put_wall'))}", "dotted")
    spot = float(day["spot"])  # type: ignore[arg-type]
    fig.x_range = Range1d(spot * 0.9 - step, spot * 1.1 + step)
    _legend_on_top(fig)
    return fig


def gex_profile(data: ReportData) -> figure:
    """(2) Total dealer GEX if spot moved (sticky strike), $bn per 1% move; regime shading, spot and flip."""
    p = data.profile
    fig = _base("gex_profile", "GEX profile: total dealer GEX at hypothetical spot levels (sticky strike)",
                "hypothetical spot (index points)", "total dealer GEX ($bn per 1% move)")
    y = _floats(p["gex_usd_per_1pct"], 1 / BN)
    source = ColumnDataSource({"level": p["spot_level"].to_numpy(), "gex": y, "pos": np.maximum(y, 0.0),
                               "neg": np.minimum(y, 0.0), "zero": np.zeros_like(y)})
    fig.varea(x="level", y1="zero", y2="pos", source=source, fill_color=COLOURS["positive"], fill_alpha=0.25,
              legend_label="positive: dealers damp moves")
    fig.varea(x="level", y1="zero", y2="neg", source=source, fill_color=COLOURS["negative"], fill_alpha=0.25,
              legend_label="negative: dealers amplify")
    line = fig.line(x="level", y="gex", source=source, color=COLOURS["net"], line_width=2, legend_label="total GEX")
    fig.add_tools(HoverTool(renderers=[line], mode="vline", tooltips=[
        ("spot", "@level{0,0.00}"), ("total GEX", "@gex{+0,0.000} bn USD/1%")]))
    other = data.crossings.filter(~pl.col("is_flip").fill_null(False))
    if other.height:
        fig.scatter(x=other["crossing"].to_numpy(), y=np.zeros(other.height), marker="circle", size=7,
                    color=COLOURS["flip"], fill_color="white", legend_label="other zero crossings")
    fig.add_layout(Span(location=0, dimension="width", line_color="#999999", line_width=1))
    day = data.day
    _level_marker(fig, day.get("spot"), COLOURS["spot"], f"spot {_level(day.get('spot'))}", "solid")
    _level_marker(fig, day.get("gamma_flip"), COLOURS["flip"], f"flip {_level(day.get('gamma_flip'))}", "dashed")
    _legend_on_top(fig)
    return fig


#: Expirations drawn one by one in the GEX-by-expiration chart; the later ones share one bar.
EXPIRY_BARS = 24


def gex_by_expiry(data: ReportData) -> figure:
    """(3) Call, put and net dealer GEX per expiration, $bn per 1% move: where the gamma sits in time.

    The nearest :data:`EXPIRY_BARS` (expiration, settlement) pairs get a bar each; all later ones are summed
    into one bar labelled ``later (N)``.
    """
    e = data.expiries
    near, rest = e.head(EXPIRY_BARS), e.slice(EXPIRY_BARS)
    labels = [f"{d.isoformat()} {s}" for d, s in zip(near["expiration"].to_list(), near["settlement"].to_list(), strict=True)]
    days = [(d - data.session).days for d in near["expiration"].to_list()]
    columns = {name: _floats(near[f"{name}_gex_usd_per_1pct"], 1 / BN).tolist() for name in ("call", "put", "net")}
    if rest.height:
        labels.append(f"later ({rest.height})")
        days.append(None)  # type: ignore[arg-type]
        for name in columns:
            columns[name].append(float(rest[f"{name}_gex_usd_per_1pct"].sum()) / BN)
    fig = _base("gex_by_expiry", f"GEX by expiration, {data.underlying} {data.session} (nearest {EXPIRY_BARS}, then the rest summed)",
                "expiration (New York date, AM/PM settlement)", "dealer GEX ($bn per 1% move)", x_range=labels)
    source = ColumnDataSource({"expiry": labels, "days": days, **columns})
    call = fig.vbar(x="expiry", top="call", width=0.8, source=source, color=COLOURS["call"], alpha=0.55, legend_label="calls")
    put = fig.vbar(x="expiry", top="put", width=0.8, source=source, color=COLOURS["put"], alpha=0.55, legend_label="puts")
    net = fig.scatter(x="expiry", y="net", source=source, marker="diamond", size=9, color=COLOURS["net"],
                      legend_label="net (calls + puts)")
    fig.add_tools(HoverTool(renderers=[call, put, net], mode="vline", tooltips=[
        ("expiration", "@expiry"), ("calendar days", "@days"), ("calls", "@call{+0,0.000} bn USD/1%"),
        ("puts", "@put{+0,0.000} bn USD/1%"), ("net", "@net{+0,0.000} bn USD/1%")]))
    fig.add_layout(Span(location=0, dimension="width", line_color="#999999", line_width=1))
    fig.xaxis.major_label_orientation = 0.9
    fig.xgrid.grid_line_color = None
    _legend_on_top(fig)
    return fig


def flip_history(data: ReportData) -> figure:
    """(3) Spot, gamma flip and walls per session, index points."""
    h = data.history
    fig = _base("flip_history", "Gamma flip vs spot, with call and put walls", "session (New York date)",
                "level (index points)", datetime=True)
    source = ColumnDataSource({
        "session": _dates_ms(h["session"]), "spot": _floats(h["spot"]), "flip": _floats(h["gamma_flip"]),
        "call_wall": _floats(h["call_wall"]), "put_wall": _floats(h["put_wall"]),
        "dist": _floats(h["flip_distance_pct"]),
    })
    spot = fig.line(x="session", y="spot", source=source, color=COLOURS["spot"], line_width=2, legend_label="spot")
    fig.line(x="session", y="flip", source=source, color=COLOURS["flip"], line_width=2, legend_label="gamma flip")
    fig.scatter(x="session", y="flip", source=source, color=COLOURS["flip"], size=4, legend_label="gamma flip")
    fig.step(x="session", y="call_wall", source=source, color=COLOURS["call_wall"], line_dash="dashed", mode="center",
             legend_label="call wall")
    fig.step(x="session", y="put_wall", source=source, color=COLOURS["put_wall"], line_dash="dashed", mode="center",
             legend_label="put wall")
    fig.add_tools(HoverTool(renderers=[spot], mode="vline", formatters={"@session": "datetime"}, tooltips=[
        ("session", "@session{%F}"), ("spot", "@spot{0,0.00}"), ("flip", "@flip{0,0.00}"),
        ("flip - spot", "@dist{+0.00}%"), ("call wall", "@call_wall{0,0}"), ("put wall", "@put_wall{0,0}")]))
    _legend_on_top(fig)
    return fig


def regime_timeline(data: ReportData) -> figure:
    """(4) Total dealer GEX per session, $bn per 1% move, bars coloured by regime."""
    h = data.history
    fig = _base("regime_timeline", "Regime timeline: total dealer GEX per session (colour = regime)",
                "session (New York date)", "total dealer GEX ($bn per 1% move)", datetime=True)
    regimes = [str(r) for r in h["regime"].to_list()]
    source = ColumnDataSource({
        "session": _dates_ms(h["session"]), "gex": _floats(h["total_gex_usd_per_1pct"], 1 / BN),
        "regime": regimes, "colour": [_regime_colour(r) for r in regimes],
        "days": h["days_in_regime"].to_list() if "days_in_regime" in h.columns else [None] * h.height,
    })
    bars = []
    for regime in ("positive", "negative", "neutral"):
        if regime in regimes:
            view_source = ColumnDataSource({k: [v for v, r in zip(source.data[k], regimes, strict=True) if r == regime]
                                            for k in source.data})
            bars.append(fig.vbar(x="session", top="gex", width=0.8 * 86_400_000, source=view_source,
                                 color=_regime_colour(regime), legend_label=f"{regime} gamma"))
    other = [r for r in set(regimes) if r not in ("positive", "negative", "neutral")]
    if other:  # an unexpected label still shows, in grey
        view_source = ColumnDataSource({k: [v for v, r in zip(source.data[k], regimes, strict=True) if r in other]
                                        for k in source.data})
        bars.append(fig.vbar(x="session", top="gex", width=0.8 * 86_400_000, source=view_source,
                             color=COLOURS["neutral"], legend_label="other"))
    fig.add_tools(HoverTool(renderers=bars, mode="vline", formatters={"@session": "datetime"}, tooltips=[
        ("session", "@session{%F}"), ("regime", "@regime"), ("days in regime", "@days"),
        ("total GEX", "@gex{+0,0.000} bn USD/1%")]))
    fig.add_layout(Span(location=0, dimension="width", line_color="#999999", line_width=1))
    _legend_on_top(fig)
    return fig


def vol_levels(data: ReportData) -> figure:
    """(5a) Realized vol (5/10/21 sessions) and ATM implied vol (30 days), % per year."""
    v = data.vol
    fig = _base("vol_levels", "Realized vs implied volatility", "session (New York date)",
                "volatility (% per year, annualised)", datetime=True)
    source = ColumnDataSource({
        "session": _dates_ms(v["session"]), "iv": _floats(v["atm_iv_30d"], 100), "rv5": _floats(v["rv_5d"], 100),
        "rv10": _floats(v["rv_10d"], 100), "rv21": _floats(v["rv_21d"], 100),
    })
    fig.line(x="session", y="rv5", source=source, color=COLOURS["rv_5d"], line_width=1.5, legend_label="realized 5d")
    fig.line(x="session", y="rv10", source=source, color=COLOURS["rv_10d"], line_width=1.5, legend_label="realized 10d")
    fig.line(x="session", y="rv21", source=source, color=COLOURS["rv_21d"], line_width=2, legend_label="realized 21d")
    iv = fig.line(x="session", y="iv", source=source, color=COLOURS["iv"], line_width=2.5, legend_label="ATM implied 30d")
    fig.add_tools(HoverTool(renderers=[iv], mode="vline", formatters={"@session": "datetime"}, tooltips=[
        ("session", "@session{%F}"), ("ATM IV 30d", "@iv{0.00}%"), ("RV 5d", "@rv5{0.00}%"), ("RV 10d", "@rv10{0.00}%"),
        ("RV 21d", "@rv21{0.00}%")]))
    _legend_on_top(fig)
    return fig


def vol_spread(data: ReportData, x_range: object | None = None) -> figure:
    """(5b) Implied minus realized (21d) volatility, vol points; positive: options priced above realized."""
    v = data.vol
    kwargs = {"x_range": x_range} if x_range is not None else {}
    fig = _base("vol_spread", "Implied minus realized vol (ATM IV 30d - RV 21d)", "session (New York date)",
                "spread (vol points)", datetime=True, **kwargs)
    fig.height = 220
    spread = _floats(v["iv_rv_spread"], 100)
    source = ColumnDataSource({
        "session": _dates_ms(v["session"]), "spread": spread,
        "colour": [COLOURS["positive"] if x >= 0 else COLOURS["negative"] for x in np.nan_to_num(spread)],
    })
    bars = fig.vbar(x="session", top="spread", width=0.8 * 86_400_000, source=source, color="colour")
    fig.add_tools(HoverTool(renderers=[bars], mode="vline", formatters={"@session": "datetime"}, tooltips=[
        ("session", "@session{%F}"), ("IV - RV21", "@spread{+0.00} vol pts")]))
    fig.add_layout(Span(location=0, dimension="width", line_color="#999999", line_width=1))
    return fig


#: Chart name -> builder, in page order.
CHARTS: dict[str, Callable[[ReportData], figure]] = {
    "gex_by_strike": gex_by_strike,
    "gex_profile": gex_profile,
    "gex_by_expiry": gex_by_expiry,
    "flip_history": flip_history,
    "regime_timeline": regime_timeline,
    "vol_levels": vol_levels,
    "vol_spread": vol_spread,
}


def build_all(data: ReportData) -> dict[str, figure]:
    """Every chart of the report, by name; the time-series charts share one x range (zoom one, zoom all)."""
    figs = {name: build(data) for name, build in CHARTS.items() if name != "vol_spread"}
    figs["vol_spread"] = vol_spread(data)
    for name in ("regime_timeline", "vol_levels", "vol_spread"):
        figs[name].x_range = figs["flip_history"].x_range
    return figs


