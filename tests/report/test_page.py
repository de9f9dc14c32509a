"""gex_report.charts and gex_report.page: figures with data and units, one self-contained HTML file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html as html_lib
import re

import polars as pl
import pytest
from bokeh.models import CategoricalAxis, FactorRange, GlyphRenderer
from gex_warehouse.connect import connect

from gex_report import charts, data, page

FIXED = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def loaded(report_warehouse) -> data.ReportData:
    con = data.open_read_only(report_warehouse)
    try:
        return data.load(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def html(loaded) -> str:
    return page.render(loaded, warehouse_name="gex.duckdb", generated_at=FIXED)


def test_every_chart_has_data_and_units_on_both_axes(loaded):
    figs = charts.build_all(loaded)
    assert list(figs) == list(charts.CHARTS)
    for name, fig in figs.items():
        assert fig.name == name
        glyphs = [r for r in fig.renderers if isinstance(r, GlyphRenderer)]
        assert glyphs, name
        for renderer in glyphs:
            columns = renderer.data_source.data
            assert columns and all(len(v) > 0 for v in columns.values()), (name, renderer.glyph)
        for axis in (fig.xaxis[0], fig.yaxis[0]):
            assert re.search(r"\(.+\)", str(axis.axis_label)), (name, axis.axis_label)  # "(unit)"


def test_strike_bars_are_the_view_in_billions(loaded):
    fig = charts.gex_by_strike(loaded)
    source = next(r.data_source for r in fig.renderers if isinstance(r, GlyphRenderer) and "call" in r.data_source.data)
    assert list(source.data["strike"]) == loaded.strikes["strike"].to_list()
    expected = (loaded.strikes["net_gex_usd_per_1pct"] / 1e9).to_list()
    assert list(source.data["net"]) == pytest.approx(expected, rel=1e-12)
    # spot, flip and both walls are drawn as vertical lines at their levels
    spans = sorted(float(r.data_source.data["x"][0]) for r in fig.renderers
                   if isinstance(r, GlyphRenderer) and type(r.glyph).__name__ == "VSpan")
    levels = [loaded.day[k] for k in ("spot", "gamma_flip", "call_wall", "put_wall") if loaded.day[k] is not None]
    assert spans == pytest.approx(sorted(levels))


def test_expiry_bars_keep_the_nearest_and_sum_the_rest(loaded):
    fig = charts.gex_by_expiry(loaded)
    source = next(r.data_source for r in fig.renderers if isinstance(r, GlyphRenderer))
    e = loaded.expiries
    assert e.height > charts.EXPIRY_BARS  # the test chain lists more expirations than drawn one by one
    labels = list(source.data["expiry"])
    assert len(labels) == charts.EXPIRY_BARS + 1 and labels[-1] == f"later ({e.height - charts.EXPIRY_BARS})"
    assert labels[0] == f"{e['expiration'][0].isoformat()} {e['settlement'][0]}"
    assert isinstance(fig.x_range, FactorRange) and list(fig.x_range.factors) == labels
    assert isinstance(fig.xaxis[0], CategoricalAxis)  # one labelled bar per expiration, not a number line
    assert sum(source.data["net"]) == pytest.approx(e["net_gex_usd_per_1pct"].sum() / 1e9, rel=1e-9)
    assert source.data["put"][-1] == pytest.approx(e["put_gex_usd_per_1pct"][charts.EXPIRY_BARS:].sum() / 1e9, rel=1e-9)


def test_regime_bars_take_the_regime_colour(loaded):
    first = loaded.history["session"][0]
    history = loaded.history.with_columns(
        pl.when(pl.col("session") == first).then(pl.lit("negative")).otherwise(pl.col("regime")).alias("regime"))
    fig = charts.regime_timeline(dataclasses.replace(loaded, history=history))
    bars = {r.glyph.fill_color: len(r.data_source.data["session"]) for r in fig.renderers if isinstance(r, GlyphRenderer)}
    for regime in ("negative", "positive"):  # one bar per session, in its regime's colour
        assert bars.get(charts.COLOURS[regime], 0) == history.filter(pl.col("regime") == regime).height
    assert bars[charts.COLOURS["negative"]] >= 1


def test_the_page_is_one_self_contained_file(html):
    assert html.startswith("<!DOCTYPE html>")
    # nothing is loaded from anywhere: no external script, stylesheet, image, font or frame
    assert not re.search(r"<(script|img|iframe|link)\b[^>]*\b(src|href)\s*=", html, re.IGNORECASE)
    # styles outside the scripts fetch nothing (BokehJS's code mentions a CDN icon font it loads only for
    # Tabler icons, which the report does not use: the browser test proves no request is made)
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.DOTALL | re.IGNORECASE)
    assert not re.search(r"@import|@font-face|url\(\s*['\"]?(https?:)?//", markup, re.IGNORECASE)
    assert "<style>" in markup  # the page's CSS is inline (BokehJS carries its own styles in its code)
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.DOTALL | re.IGNORECASE)
    assert sum(len(s) for s in scripts) > 500_000  # BokehJS itself is in the page
    assert len(html.encode()) < 3_000_000  # BokehJS inline is ~1.3 MB; Plotly's would be ~4.5 MB
    for name in charts.CHARTS:
        assert f'data-chart="{name}"' in html


def test_the_header_states_the_session_numbers(html, loaded):
    day = loaded.day
    text = html_lib.unescape(html)
    assert f"SPX &middot; session {loaded.session}" in html
    assert f'data-regime="{day["regime"]}"' in html
    assert f'{day["spot"]:,.2f}' in text
    assert f'{day["total_gex_usd_per_1pct"] / 1e9:+,.2f} $bn' in text
    assert f'{day["zero_dte_gamma_share"]:.1%}' in text
    assert f'{day["call_wall"]:,.0f}' in text and f'{day["put_wall"]:,.0f}' in text
    if day["gamma_flip"] is not None:
        assert f'{day["gamma_flip"]:,.2f}' in text and f'{day["flip_distance_pct"]:+.2f}% from spot' in text
    assert "dollars per 1% move" in text and "preset <b>native</b>" in text
    assert "Generated 2026-01-02 03:04 UTC" in text
    previous = loaded.history["total_gex_usd_per_1pct"][-2]
    assert f'vs prev {(day["total_gex_usd_per_1pct"] - previous) / 1e9:+,.2f} $bn' in text


def test_the_hedge_section_says_when_there_is_no_advice(html, loaded):
    section = html[html.index('id="hedge-advice"'):]
    assert f"No hedging advice rows for {loaded.underlying} on {loaded.session}" in section[:600]
    older = dataclasses.replace(loaded, hedge=None)  # a warehouse from before the view existed
    text = page.render(older, generated_at=FIXED)
    assert "no <code>main.hedge_advice</code> view" in text[text.index('id="hedge-advice"'):][:600]


def test_the_hedge_table_shows_the_published_advice(warehouse_copy):
    from gex_warehouse.advice import refresh_hedge_advice
    from gex_warehouse.export import rewrite_plan

    con = connect(warehouse_copy)
    try:
        assert refresh_hedge_advice(con, rewrite_plan(con)) > 0
    finally:
        con.close()
    con = data.open_read_only(warehouse_copy)
    try:
        loaded = data.load(con)
    finally:
        con.close()
    assert loaded.hedge is not None and loaded.hedge.height == 2
    assert loaded.hedge.columns == list(data.ADVICE_COLUMNS.values())
    text = page.render(loaded, generated_at=FIXED)
    section = text[text.index('id="hedge-advice"'):]
    assert "long-atm-straddle-30d" in section and "long-otm-calls" in section and "band +/- shares" in section


def test_the_hedge_table_shows_the_views_rows(warehouse_copy):
    con = connect(warehouse_copy)
    try:  # a stand-in view with the same key columns as the published one will have
        con.execute("CREATE OR REPLACE VIEW main.hedge_advice AS SELECT underlying, session, 'long put spread' AS template, "
                    "1250.5::DOUBLE AS hedge_ratio FROM main.regime_daily")
    finally:
        con.close()
    con = data.open_read_only(warehouse_copy)
    try:
        loaded = data.load(con)
    finally:
        con.close()
    assert loaded.hedge is not None and loaded.hedge.columns == ["template", "hedge_ratio"]
    text = page.render(loaded, generated_at=FIXED)
    section = text[text.index('id="hedge-advice"'):]
    assert "<th>template</th><th>hedge_ratio</th>" in section and "long put spread" in section and "1,250" in section


def test_quality_flags_name_what_is_wrong(loaded):
    day = dict(loaded.day, partial_chain=True, partial_reason="all expirations in one month", gamma_flip=None,
               oi_source="chain", vendor_model_gamma_gap=0.25)
    older = dataclasses.replace(loaded, day=day, session=loaded.sessions[0])
    flags = dict((text.split(":")[0].split(" (")[0], level) for level, text in page.quality_flags(older))
    assert flags["partial chain"] == "warn"
    assert flags["no gamma flip"] == "warn"
    assert flags["open interest from chain"] == "warn"
    assert flags["vendor gamma differs from the model's by 25%"] == "warn"
    assert any(k.startswith("not the latest session of SPX") for k in flags)
    clean = {text for _, text in page.quality_flags(loaded)}
    assert not any(t.startswith(("partial chain", "no gamma flip", "not the latest")) for t in clean)


def test_the_first_session_renders_without_history(report_warehouse):
    con = data.open_read_only(report_warehouse)
    try:
        first = data.load(con, "SPX", data.catalogue(con)["SPX"][0])
    finally:
        con.close()
    assert first.history.height == 1 and first.vol.height == 1
    text = page.render(first, generated_at=FIXED)
    assert "no previous session" in text
    flags = [t for _, t in page.quality_flags(first)]
    assert "no 21-session realized vol for this session (too little history or no data)" in flags
    assert any(t.startswith("not the latest session of SPX") for t in flags)


def test_a_session_without_flip_draws_no_flip_line(loaded):
    day = dict(loaded.day, gamma_flip=None, flip_distance_pct=None)
    no_flip = dataclasses.replace(loaded, day=day, crossings=loaded.crossings.clear())
    for fig in (charts.gex_by_strike(no_flip), charts.gex_profile(no_flip)):
        labels = [item.label["value"] for item in fig.legend[0].items]
        assert not any(label.startswith("flip") for label in labels) and any(label.startswith("spot") for label in labels)
    text = html_lib.unescape(page.render(no_flip, generated_at=FIXED))
    assert "no zero crossing in the window" in text
    assert "no gamma flip: the profile does not cross zero within the flip window" in text


def test_expected_move_section_is_the_published_view(html, loaded, report_warehouse):
    moves = loaded.expected_move
    assert moves is not None and moves.height > 0
    assert moves.filter(pl.col("method") == "atm_iv")["sessions_ahead"].to_list() == [1, 5]
    section = html[html.index('id="expected-move"'):html.index('id="level-stats"')]
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", section))
    first = moves.row(0, named=True)
    assert f"straddle {first['target_date']} {first['settlement']}" in text
    assert f"±{first['move_points']:,.2f}" in text and f"{first['upper_points']:,.2f}" in text
    # a warehouse from before the view: the section says so instead of failing
    older = page.render(dataclasses.replace(loaded, expected_move=None), generated_at=FIXED)
    assert "no <code>main.expected_move</code> view" in older


def test_level_stats_section_shows_the_figures_with_intervals(html, loaded):
    stats = loaded.level_stats
    assert stats is not None  # 30 sessions: enough to compute, every bucket flagged small
    section = html[html.index('id="level-stats"'):html.index('id="levels"')]
    held = stats.filter((pl.col("statistic") == "call_wall_held_high") & (pl.col("grouping") == "all")).row(0, named=True)
    assert f"{100 * held['value']:.1f}*" in section and f"[{100 * held['ci_low']:.1f}, {100 * held['ci_high']:.1f}]" in section
    assert "forward realised vol by GEX quintile" in section and "Q1" in section
    short = page.render(dataclasses.replace(loaded, level_stats=None), generated_at=FIXED)
    assert "Not enough history" in short
