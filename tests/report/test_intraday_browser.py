"""The live intraday page in headless Chromium: served by ``gex report --serve``'s server, zoomed by a reader,
then a new snapshot is published: the page must draw it and keep the zoom and the selection.

The network is cut off except the local server (:func:`gex_report.browser.browser_page`); any console or
page error fails. Without Chromium the tests skip, unless ``GEX_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import pytest

from gex_report.browser import browser_page, chart_ink, wait_for_bokeh
from gex_report.intraday_charts import INTRADAY_CHARTS
from gex_report.serve import ReportServer, ServeSettings, start_in_thread
from tests.report.intraday_fixture import SESSION, snapshot_rows, write_published
from tests.report.test_browser import require_browser

# In the page: ranges of the heatmap, rows of both sources and the selection of the cells.
_STATE_JS = """() => {
  const doc = Bokeh.documents[0];
  const m = (n) => doc.get_model_by_name(n);
  const x = m('intraday_time'), y = m('intraday_strikes');
  return {x: [x.start, x.end], y: [y.start, y.end], cells: m('intraday_cells').get_length(),
          series: m('intraday_series').get_length(), selected: Array.from(m('intraday_cells').selected.indices),
          keys: Array.from(m('intraday_series').data.key || m('intraday_series').data.get('key'))};
}"""

# In the page: coloured pixels of the heatmap's canvas in the column of time t (New York ms), inside the plot frame.
_COLUMN_INK_JS = """(t) => {
  const view = Object.values(Bokeh.index).find((v) => v.model.name === 'intraday_heatmap');
  const f = view.frame.bbox, x = view.model.x_range;
  const px = Math.round(f.x0 + (t - x.start) / (x.end - x.start) * (f.x1 - f.x0));
  const canvases = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) {
    if (el.tagName === 'CANVAS') canvases.push(el); if (el.shadowRoot) walk(el.shadowRoot); } };
  walk(document.querySelector('[data-chart="intraday_heatmap"]'));
  const c = canvases.reduce((a, b) => (a.width * a.height >= b.width * b.height ? a : b));
  const ratio = c.width / c.getBoundingClientRect().width;
  const d = c.getContext('2d').getImageData(Math.round(px * ratio), Math.round(f.y0 * ratio), 1,
                                            Math.round((f.y1 - f.y0) * ratio)).data;
  let coloured = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 128 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) coloured++;
  }
  return {px, coloured, height: d.length / 4};
}"""


@pytest.fixture
def served(tmp_path):
    require_browser()
    regime, strikes = snapshot_rows(SESSION, [5, 10, 15])
    write_published(tmp_path / "gex.published.duckdb", regime, strikes)
    server = ReportServer(ServeSettings(tmp_path / "gex.duckdb", poll_seconds=0.5), port=0)
    start_in_thread(server)
    yield server, tmp_path
    server.shutdown()
    server.server_close()


def _frame_box(page):
    """Page coordinates of the heatmap's plot frame."""
    canvas = page.locator('[data-chart="intraday_heatmap"] canvas').first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    frame = page.evaluate("() => { const v = Object.values(Bokeh.index).find((v) => v.model.name === 'intraday_heatmap');"
                          " const f = v.frame.bbox; return [f.x0, f.y0, f.x1, f.y1]; }")
    return box["x"] + frame[0], box["y"] + frame[1], box["x"] + frame[2], box["y"] + frame[3]


def test_a_new_snapshot_is_drawn_and_the_zoom_and_selection_are_kept(served, artifacts_dir):
    server, root = served
    with browser_page(allow_origins=(server.url.rstrip("/"),)) as (page, check):
        page.goto(server.url, wait_until="load")
        wait_for_bokeh(page)
        roots = page.evaluate("() => Bokeh.documents[0].roots().map((r) => r.name)")
        assert roots == list(INTRADAY_CHARTS)
        for chart in chart_ink(page):
            assert chart.coloured_pixels > 100, chart
        before = page.evaluate(_STATE_JS)
        assert before["series"] == 3

        # the reader zooms into the strikes near spot with the box-zoom tool (all of the day's width)
        page.locator('[data-chart="intraday_heatmap"] .bk-tool-icon-box-zoom').first.click()
        x0, y0, x1, y1 = _frame_box(page)
        mid = (y0 + y1) / 2
        page.mouse.move(x0 + 1, mid - 60)
        page.mouse.down()
        page.mouse.move(x1 - 1, mid + 60, steps=8)
        page.mouse.up()
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        zoomed = page.evaluate(_STATE_JS)
        assert zoomed["y"][1] - zoomed["y"][0] < 0.5 * (before["y"][1] - before["y"][0]), (before, zoomed)
        # and selects a few cells (what the box-select tool or a tap does)
        page.evaluate("() => { Bokeh.documents[0].get_model_by_name('intraday_cells').selected.indices = [3, 4, 5]; }")

        new_regime, new_strikes = snapshot_rows(SESSION, [5, 10, 15, 20])
        polls = int(page.evaluate("() => Number(document.body.dataset.polls || 0)"))
        write_published(root / "gex.published.duckdb", new_regime, new_strikes)  # atomic replace, as publish does
        page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('intraday_series').get_length() === 4",
                               timeout=60_000)
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        after = page.evaluate(_STATE_JS)
        assert int(page.evaluate("() => Number(document.body.dataset.polls || 0)")) > polls
        assert after["x"] == zoomed["x"] and after["y"] == zoomed["y"]  # the zoom is kept
        assert after["selected"] == [3, 4, 5]  # so is the selection
        assert after["keys"][:3] == before["keys"] and after["keys"][3] == new_regime[3][3].isoformat()
        fourth = [s for s in new_strikes if s[3] == new_regime[3][3] and abs(s[4] - new_regime[3][5]) <= 0.05 * new_regime[3][5]]
        assert after["cells"] == before["cells"] + len(fourth)
        page.screenshot(path=str(artifacts_dir / "intraday_live_test.png"), full_page=True)
        # the new column is drawn inside the zoomed view: coloured cells in its time's pixel column
        t_new = page.evaluate("() => { const t = Bokeh.documents[0].get_model_by_name('intraday_series').data.t;"
                              " return Array.from(t instanceof Map ? t.get('t') : t).at(-1); }")
        column = page.evaluate(_COLUMN_INK_JS, t_new)
        previous = page.evaluate(_COLUMN_INK_JS, t_new - 5 * 60_000)  # the third snapshot's column, drawn at load
        assert previous["coloured"] > 0.3 * previous["height"], previous
        assert column["coloured"] > 0.5 * previous["coloured"], (column, previous)
        later = page.evaluate(_COLUMN_INK_JS, t_new + 30 * 60_000)  # 30 minutes later: no snapshot there yet
        assert later["coloured"] == 0, later
        assert "1 new snapshot" in page.locator("#live-status").inner_text()
        assert page.locator("#snapshot-count").inner_text() == "4"
    assert check.network_requests == []
    assert check.console_errors == [] and check.page_errors == []


def test_a_replaced_snapshot_reloads_the_session(served):
    """An end-of-day file replacing the close snapshot (same instant, new load) is picked up, not skipped."""
    server, root = served
    with browser_page(allow_origins=(server.url.rstrip("/"),)) as (page, check):
        page.goto(server.url, wait_until="load")
        wait_for_bokeh(page)
        regime, strikes = snapshot_rows(SESSION, [5, 10, 15], load_prefix="R")
        write_published(root / "gex.published.duckdb", regime, strikes)
        page.wait_for_function("() => document.getElementById('live-status').textContent.includes('reloaded')",
                               timeout=60_000)
        loads = page.evaluate("() => { const d = Bokeh.documents[0].get_model_by_name('intraday_series').data;"
                              " return Array.from(d instanceof Map ? d.get('load_id') : d.load_id); }")
        assert loads == ["R0", "R1", "R2"]
    assert check.console_errors == [] and check.page_errors == []


def test_the_server_being_gone_is_said_on_the_page_not_in_the_console(served):
    server, _ = served
    with browser_page(allow_origins=(server.url.rstrip("/"),)) as (page, check):
        page.goto(server.url, wait_until="load")
        wait_for_bokeh(page)
        server.shutdown()
        server.server_close()
        page.wait_for_function("() => document.getElementById('live-status').textContent.includes('did not answer')",
                               timeout=60_000)
    assert check.page_errors == []
