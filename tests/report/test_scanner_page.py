"""The scanner page (gex report --scanner) on the hand-made cross-section of tests/warehouse/scanner_market.py:
its content, then in headless Chromium with the network cut off: drawn, hoverable, and the table sorts on click."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gex_report import data
from gex_report.browser import _TOOLTIPS_JS, check_page, chromium_path
from gex_report.scanner_page import CHART, render_scanner, write_scanner
from gex_warehouse.scanner import scan
from tests.report.test_browser import require_browser
from tests.warehouse.scanner_market import D2, build_scanner_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return build_scanner_warehouse(tmp_path_factory.mktemp("scanner-page") / "gex.duckdb")


@pytest.fixture(scope="module")
def result(warehouse):
    con = data.open_read_only(warehouse)
    try:
        return scan(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def page_file(result, artifacts_dir) -> Path:
    out = artifacts_dir / "scanner_browser_test.html"
    write_scanner(result, out, warehouse_name="gex.duckdb")
    return out


def test_the_page_lists_every_underlying_with_its_numbers(result):
    text = render_scanner(result, generated_at=dt.datetime(2025, 1, 4, tzinfo=dt.timezone.utc))
    assert f"Scanner &middot; session {D2}" in text
    assert "5 underlyings (3 positive, 1 negative, 1 neutral);\n2 changed regime" in text
    for underlying in ("AAA", "BBB", "CCC", "DDD", "EEE"):
        assert f'<tr data-underlying="{underlying}">' in text
    # AAA: +2bn net, share 75%, GEX/ADV 1250%, changed from negative
    row = text.split('<tr data-underlying="AAA">', 1)[1].split("</tr>", 1)[0]
    assert ">+2.000<" in row and ">75.0<" in row and ">1250.0<" in row and ">yes<" in row and ">negative<" in row


def _browser_table_orders(page_file: Path) -> dict[str, list[str]]:
    """Sweep the mouse over the chart (tooltips), then click headers in Chromium (network cut off) and read the table's underlying column after each click."""
    from playwright.sync_api import sync_playwright

    orders: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path()), headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context()
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page = context.new_page()
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            read = "() => Array.from(document.querySelectorAll('#scanner-table tbody tr')).map((r) => r.dataset.underlying)"
            page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents.every((d) => d.is_idle)")
            orders["loaded"] = page.evaluate(read)
            canvas = page.locator(f'[data-chart="{CHART}"] canvas').first
            box = canvas.bounding_box()
            assert box is not None
            tips: list[str] = []
            for x in range(0, int(box["width"]), 3):  # vline hover: any height works, so sweep one line finely
                page.mouse.move(box["x"] + x, box["y"] + box["height"] / 2)
                tips.extend(t for t in page.evaluate(_TOOLTIPS_JS) if t not in tips)
            orders["tooltips"] = tips
            # a first click sorts ascending, a second click on the same header reverses
            for label, header in (("share up", "call-gamma share (%)"), ("share down", "call-gamma share (%)"),
                                  ("flip up", "flip distance (%)"), ("name up", "underlying"),
                                  ("name down", "underlying")):
                page.locator("#scanner-table th", has_text=header).first.click()
                orders[label] = page.evaluate(read)
            orders["aria"] = page.evaluate(
                "() => Array.from(document.querySelectorAll('#scanner-table th[aria-sort]')).map((h) => h.dataset.key + ':' + h.getAttribute('aria-sort'))")
            context.close()
        finally:
            browser.close()
    return orders


def test_in_chromium_the_chart_draws_and_the_table_sorts(page_file, artifacts_dir):
    require_browser()
    check = check_page(page_file, screenshot=artifacts_dir / "scanner_browser_test.png")
    assert check.network_requests == [] and check.console_errors == [] and check.page_errors == []
    [roots] = check.bokeh_documents
    assert [(r["name"], [g["glyph"] for g in r["renderers"]]) for r in roots] == [(CHART, ["Scatter"])]
    assert roots[0]["renderers"][0]["rows"] == 4  # DDD has no gamma, so no share: not drawn
    [chart] = check.charts
    assert chart.name == CHART and chart.canvas_pixels > 50_000 and chart.coloured_pixels > 100
    orders = _browser_table_orders(page_file)
    # a reader sweeping the mouse across the chart sees every drawn underlying's tooltip, with values
    tips = orders.pop("tooltips")
    assert all("???" not in t for t in tips), tips
    assert {t.split("underlying:")[1].split()[0] for t in tips if "underlying:" in t} == {"AAA", "BBB", "CCC", "EEE"}, tips
    assert any("net GEX:" in t and "-2.000 bn USD/1%" in t and "25.0%" in t for t in tips), tips  # BBB
    assert orders["loaded"] == ["EEE", "AAA", "CCC", "DDD", "BBB"]  # gex scan's default order (net GEX)
    assert orders["share up"] == ["BBB", "AAA", "EEE", "CCC", "DDD"]  # no share: last
    assert orders["share down"] == ["CCC", "EEE", "AAA", "BBB", "DDD"]  # still last
    assert orders["flip up"] == ["AAA", "EEE", "DDD", "BBB", "CCC"]  # signed: -1.0, -0.5, +1.0, +2.0, none
    assert orders["name up"] == ["AAA", "BBB", "CCC", "DDD", "EEE"]
    assert orders["name down"] == ["EEE", "DDD", "CCC", "BBB", "AAA"]
    assert orders["aria"] == ["underlying:descending"]


def test_gex_report_scanner_writes_the_page(warehouse, tmp_path):
    from gex_cli.main import app

    out = tmp_path / "scan.html"
    done = CliRunner().invoke(app, ["report", "--scanner", "-w", str(warehouse), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert f"wrote the scanner of {D2} (5 underlyings" in done.stdout and out.is_file()
    missing = CliRunner().invoke(app, ["report", "--scanner", "-w", str(warehouse), "--session", "2025-01-06"])
    assert missing.exit_code == 1 and "no computed session 2025-01-06" in missing.stderr
