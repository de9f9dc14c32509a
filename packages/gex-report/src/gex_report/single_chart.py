"""Charts of ONE analysed chain file, no warehouse needed (``gex analyze FILE --chart out.html|out.png``).

- ``.html``: the report's own Bokeh figures (:mod:`gex_report.charts`: GEX by strike with spot, flip and walls;
  the GEX profile with the flip, here with the walls marked too; GEX by expiration), BokehJS inline: one
  self-contained file that opens offline.
- ``.png``: the same GEX-by-strike bars and profile drawn with matplotlib's Agg backend (a static image
  needs no browser; Bokeh's PNG export would need a webdriver).

GEX in $bn per 1% move of the underlying, levels in index points, as in the report.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from gex.analysis import Analysis

    from gex_report.data import ReportData

#: File suffixes :func:`write_chart` can write.
SUFFIXES = (".html", ".htm", ".png")
#: PNG size, inches at :data:`PNG_DPI` dots per inch.
PNG_SIZE = (11.0, 8.5)
PNG_DPI = 110


def report_data(a: Analysis) -> ReportData:
    """The report's data shape (:class:`gex_report.data.ReportData`) from one analysis: the strikes within
    :data:`gex_report.data.STRIKE_WINDOW` of spot, the profile, crossings and levels; no history."""
    from gex_report.data import STRIKE_WINDOW, ReportData

    lo, hi = a.spot * (1 - STRIKE_WINDOW), a.spot * (1 + STRIKE_WINDOW)
    strikes = a.by_strike.filter(pl.col("strike").is_between(lo, hi)).select(
        "strike", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct")
    crossings = pl.DataFrame({"crossing": list(a.flip_crossings),
                              "is_flip": [a.gamma_flip is not None and x == a.gamma_flip for x in a.flip_crossings]},
                             schema={"crossing": pl.Float64, "is_flip": pl.Boolean})
    day: dict[str, object] = {
        "spot": a.spot, "gamma_flip": a.gamma_flip, "call_wall": a.levels.call_wall, "put_wall": a.levels.put_wall,
        "regime": a.regime, "total_gex_usd_per_1pct": a.total_gex,
    }
    return ReportData(underlying=a.underlying, session=a.as_of, day=day, strikes=strikes,
                      expiries=a.by_expiry.select("expiration", "settlement", "call_gex_usd_per_1pct",
                                                  "put_gex_usd_per_1pct", "net_gex_usd_per_1pct"),
                      profile=a.profile, crossings=crossings, history=pl.DataFrame(), vol=pl.DataFrame(), hedge=None,
                      underlyings=(a.underlying,), sessions=(a.as_of,))


def render_html(a: Analysis) -> str:
    """One self-contained HTML page (BokehJS inline, nothing loaded from a network) with the charts of ``a``."""
    from bokeh.embed import file_html
    from bokeh.embed.bundle import bundle_for_objs_and_resources
    from bokeh.layouts import column
    from bokeh.resources import INLINE

    from gex_report.charts import COLOURS, _level, _level_marker, gex_by_expiry, gex_by_strike, gex_profile

    data = report_data(a)
    strike_fig, profile_fig, expiry_fig = gex_by_strike(data), gex_profile(data), gex_by_expiry(data)
    # the profile chart of the report marks spot and flip; a single-file user also wants the walls on it
    _level_marker(profile_fig, a.levels.call_wall, COLOURS["call_wall"], f"call wall {_level(a.levels.call_wall)}", "dotted")
    _level_marker(profile_fig, a.levels.put_wall, COLOURS["put_wall"], f"put wall {_level(a.levels.put_wall)}", "dotted")
    figs = [strike_fig, profile_fig, expiry_fig]
    bundle = bundle_for_objs_and_resources(figs, INLINE)
    if bundle.js_files or bundle.css_files:
        raise RuntimeError("the Bokeh bundle references URLs: the page would need a network")
    title = f"GEX {a.underlying} {a.as_of} ({a.conventions.name})"
    page = file_html(column(*figs, sizing_mode="stretch_width"), INLINE, title)
    summary = (f"<p style='font-family:sans-serif'>{html.escape(a.underlying)} session {a.as_of}, spot {a.spot:,.2f}; "
               f"total GEX {a.total_gex / 1e9:+,.3f} $bn per 1% move ({html.escape(a.regime)} regime); "
               f"flip {_text(a.gamma_flip)}; call wall {_text(a.levels.call_wall)}; put wall {_text(a.levels.put_wall)}; "
               f"preset {html.escape(a.conventions.name)}; source {html.escape(a.source)}</p>")
    return page.replace("<body>", "<body>\n" + summary, 1)


def _text(x: float | None) -> str:
    return "none" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.2f}"


def render_png(a: Analysis, out: Path) -> None:
    """GEX by strike (calls, puts, net; spot, flip and walls) above the profile (flip and walls), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # headless; no display, no browser
    import matplotlib.pyplot as plt

    from gex_report.charts import COLOURS

    data = report_data(a)
    s = data.strikes
    strikes = s["strike"].to_numpy()
    step = float(np.min(np.diff(strikes))) if strikes.size > 1 else 1.0
    fig, (top, bottom) = plt.subplots(2, 1, figsize=PNG_SIZE, dpi=PNG_DPI)
    top.bar(strikes, s["call_gex_usd_per_1pct"].to_numpy() / 1e9, width=0.8 * step, color=COLOURS["call"], alpha=0.6, label="calls")
    top.bar(strikes, s["put_gex_usd_per_1pct"].to_numpy() / 1e9, width=0.8 * step, color=COLOURS["put"], alpha=0.6, label="puts")
    top.plot(strikes, s["net_gex_usd_per_1pct"].to_numpy() / 1e9, "D", ms=3, color=COLOURS["net"], label="net")
    top.set_title(f"GEX by strike, {a.underlying} {a.as_of} (strikes within ±10% of spot)")
    top.set_xlabel("strike (index points)")
    top.set_ylabel("dealer GEX ($bn per 1% move)")
    level = a.profile["spot_level"].to_numpy()
    curve = a.profile["gex_usd_per_1pct"].to_numpy() / 1e9
    bottom.plot(level, curve, color=COLOURS["net"], lw=2, label="total GEX")
    bottom.fill_between(level, 0, curve, where=curve >= 0, color=COLOURS["positive"], alpha=0.25, label="positive gamma")
    bottom.fill_between(level, 0, curve, where=curve < 0, color=COLOURS["negative"], alpha=0.25, label="negative gamma")
    bottom.set_title("GEX profile: total dealer GEX at hypothetical spot levels (sticky strike)")
    bottom.set_xlabel("hypothetical spot (index points)")
    bottom.set_ylabel("total dealer GEX ($bn per 1% move)")
    marks = [(a.spot, COLOURS["spot"], "-", "spot"), (a.gamma_flip, COLOURS["flip"], "--", "flip"),
             (a.levels.call_wall, COLOURS["call_wall"], ":", "call wall"), (a.levels.put_wall, COLOURS["put_wall"], ":", "put wall")]
    for ax in (top, bottom):
        ax.axhline(0, color="#999999", lw=0.8)
        for x, colour, style, name in marks:
            if x is not None and math.isfinite(x):
                ax.axvline(x, color=colour, ls=style, lw=1.5, label=f"{name} {x:,.0f}")
        ax.legend(fontsize=8, ncol=4, loc="best")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)


def write_chart(a: Analysis, out: Path) -> int:
    """Write the charts of ``a`` to ``out`` (``.html``/``.htm``: interactive, self-contained; ``.png``: static).

    Returns the bytes written. Raises ``ValueError`` for another suffix and ``OSError`` when the file cannot
    be written.
    """
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{out}: a chart file ends in .html or .png")
    if suffix == ".png":
        render_png(a, out)
    else:
        out.write_text(render_html(a), encoding="utf-8")
    return out.stat().st_size
