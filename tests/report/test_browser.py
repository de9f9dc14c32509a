"""The report in a real browser: Debian's headless Chromium, driven by Playwright, with the network cut off.

Playwright (not Selenium + chromedriver) because it intercepts every request natively (route + request
events: nothing reaches the network, and each attempt is recorded), reports console and page errors as
events, and pierces BokehJS's shadow DOM to reach the canvases; it drives the system Chromium through
``executable_path`` (``playwright install`` is never run). Without Chromium the tests skip, unless
``GEX_REQUIRE_BROWSER=1`` (set by .ci/run), where a missing browser is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gex_report import charts, data, page
from gex_report.browser import BrowserCheck, check_page, chromium_path

# Glyph renderers each chart must have (the test warehouse, from the calibrated generator, has a flip every
# session, both regimes (one VBar each), and on the report's session crossings besides the flip: a Scatter).
EXPECTED_GLYPHS = {
    "gex_by_strike": ["VBar", "VBar", "Scatter", "VSpan", "VSpan", "VSpan", "VSpan"],
    "gex_profile": ["VArea", "VArea", "Line", "Scatter", "VSpan", "VSpan"],
    "gex_by_expiry": ["VBar", "VBar", "Scatter"],
    "flip_history": ["Line", "Line", "Scatter", "Step", "Step"],
    "regime_timeline": ["VBar", "VBar"],
    "vol_levels": ["Line", "Line", "Line", "Line"],
    "vol_spread": ["VBar"],
}


def require_browser() -> None:
    """Skip (or fail under GEX_REQUIRE_BROWSER=1) when Chromium or Playwright is missing."""
    missing = []
    if chromium_path() is None:
        where = os.environ.get("GEX_CHROMIUM") or "/usr/bin/chromium"
        missing.append(f"no Chromium at {where} (install Debian's: apt-get install chromium chromium-driver)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package is not installed (dev dependency: uv sync)")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("GEX_REQUIRE_BROWSER") == "1":
            pytest.fail(f"GEX_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(f"browser test needs a browser: {reason}")


@pytest.fixture(scope="module")
def checked(report_warehouse, artifacts_dir) -> BrowserCheck:
    require_browser()
    con = data.open_read_only(report_warehouse)
    try:
        loaded = data.load(con)
    finally:
        con.close()
    html = artifacts_dir / "report_browser_test.html"
    page.write(loaded, html, warehouse_name=report_warehouse.name)
    return check_page(html, screenshot=artifacts_dir / "report_browser_test.png")


def test_the_page_makes_no_network_request(checked):
    assert checked.network_requests == []


def test_the_page_logs_no_error(checked):
    assert checked.console_errors == []
    assert checked.page_errors == []


def test_one_bokeh_document_holds_every_chart_with_data(checked):
    assert len(checked.bokeh_documents) == 1
    roots = checked.bokeh_documents[0]
    assert [r["name"] for r in roots] == list(charts.CHARTS)
    for root in roots:
        assert root["type"] == "Figure"
        assert [g["glyph"] for g in root["renderers"]] == EXPECTED_GLYPHS[root["name"]], root["name"]
        for glyph in root["renderers"]:
            assert glyph["rows"] > 0 and glyph["finite"], (root["name"], glyph)


def test_every_chart_is_drawn(checked):
    assert [c.name for c in checked.charts] == list(charts.CHARTS)
    for chart in checked.charts:
        assert chart.canvas_pixels > 50_000, chart  # a real plot area, not a collapsed div
        assert chart.ink_pixels > 0.02 * chart.canvas_pixels, chart
        assert chart.coloured_pixels > 500, chart  # data series are coloured; axes, grid and text are grey


def test_hovering_shows_tooltips_with_values(checked):
    """A reader's mouse over each chart brings up tooltips whose every field has a value."""
    assert list(checked.tooltips) == list(charts.CHARTS)
    for name, texts in checked.tooltips.items():
        assert texts, f"no tooltip over {name}"
        for text in texts:
            assert "???" not in text, (name, text)  # a template field Bokeh could not resolve
    assert any("bn USD/1%" in t for t in checked.tooltips["gex_by_strike"])
    assert any("session:" in t for t in checked.tooltips["regime_timeline"])


def test_the_screenshot_is_saved(checked):
    from PIL import Image

    assert checked.screenshot is not None and checked.screenshot.is_file()
    with Image.open(checked.screenshot) as image:
        width, height = image.size
        assert width == 1400 and height > 1500  # the whole page, header to footer
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 100


# The checker itself must be able to fail: a page that reaches out, throws or draws nothing is caught.

def test_the_checker_catches_network_use_and_errors(tmp_path):
    require_browser()
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><link rel='stylesheet' href='https://cdn.example.invalid/x.css'></head><body>"
        "<img src='http://example.invalid/pixel.png'>"
        "<script>console.error('boom'); window.Bokeh = {documents: [{is_idle: true, roots: () => []}]};"
        "setTimeout(() => { throw new Error('kaput'); }, 0);</script>"
        "<section data-chart='empty'><div style='height:300px'></div></section></body></html>",
        encoding="utf-8",
    )
    check = check_page(bad)
    assert sorted(check.network_requests) == ["http://example.invalid/pixel.png", "https://cdn.example.invalid/x.css"]
    assert "boom" in check.console_errors
    assert any("kaput" in e for e in check.page_errors)
    assert [(c.name, c.canvas_pixels) for c in check.charts] == [("empty", 0)]


def test_missing_chromium_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("GEX_CHROMIUM", str(tmp_path / "no-such-chromium"))
    assert chromium_path() is None
    with pytest.raises(RuntimeError, match="no Chromium at"):
        check_page(Path(tmp_path / "x.html"))
