"""Open a report in real headless Chromium, offline, and say what the page did (tests and screenshots).

Driven by the ``playwright`` Python package (a development dependency: import it only here) against the
system's Chromium (Debian's ``chromium`` at ``/usr/bin/chromium``, or ``$GEX_CHROMIUM``); Playwright's own
browser download (``playwright install``) is never used. Every request that is not for a ``file:`` URL is
aborted and recorded, so a page that needs the network shows up in :attr:`BrowserCheck.network_requests`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Environment variable naming the Chromium binary (default: the Debian package's).
ENV_CHROMIUM = "GEX_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: URL schemes that never reach a network (the page itself and data it made in memory).
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

# Runs in the page: per chart section, the plot canvas (the largest) and its ink: pixels that are not blank,
# and "coloured" pixels (clearly saturated: axes, grid and text are grey, the data series are coloured).
_CANVAS_INK_JS = """(sections) => sections.map((section) => {
  const canvases = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'CANVAS') canvases.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);  // BokehJS draws inside shadow DOM
    }
  };
  walk(section);
  let best = null;
  for (const c of canvases) { if (!best || c.width * c.height > best.width * best.height) best = c; }
  if (!best || best.width === 0 || best.height === 0) return [section.dataset.chart, 0, 0, 0];
  const d = best.getContext('2d').getImageData(0, 0, best.width, best.height).data;
  let ink = 0, coloured = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && !(d[i] > 245 && d[i + 1] > 245 && d[i + 2] > 245)) ink++;
    if (d[i + 3] > 128 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) coloured++;
  }
  return [section.dataset.chart, best.width * best.height, ink, coloured];
})"""

# Runs in the page: the Bokeh document's roots and, per glyph renderer, its glyph type, row count and
# whether any column holds a finite number.
_BOKEH_MODEL_JS = """() => Bokeh.documents.map((doc) => doc.roots().map((root) => ({
  name: root.name, type: root.type,
  renderers: (root.renderers || []).map((r) => {
    const data = r.data_source ? r.data_source.data : {};
    const columns = data instanceof Map ? Array.from(data.values()) : Object.values(data);
    const finite = columns.some((col) => Array.from(col).some((v) => typeof v === 'number' && Number.isFinite(v)));
    return {glyph: r.glyph ? r.glyph.type : r.type, rows: r.data_source ? r.data_source.get_length() || 0 : 0, finite};
  }),
})))"""


# Runs in the page: the text of every visible Bokeh hover tooltip (they live in shadow DOM).
_TOOLTIPS_JS = """() => {
  const out = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (el.classList && el.classList.contains('bk-tooltip-content') && el.offsetWidth > 0) out.push(el.innerText);
    }
  };
  walk(document);
  return out;
}"""
#: Where the mouse goes over each chart's plot canvas (fractions of its width, at mid-height).
HOVER_POSITIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.87, 0.93)


@dataclass
class ChartInk:
    """What one chart's plot canvas shows: its area and how many pixels are drawn / coloured."""

    name: str
    canvas_pixels: int
    ink_pixels: int
    coloured_pixels: int


@dataclass
class BrowserCheck:
    """What happened when a page was opened (see :func:`check_page`)."""

    url: str
    chromium_version: str
    network_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    bokeh_documents: list[list[dict]] = field(default_factory=list)
    charts: list[ChartInk] = field(default_factory=list)
    tooltips: dict[str, list[str]] = field(default_factory=dict)
    screenshot: Path | None = None


def chromium_path() -> Path | None:
    """The Chromium binary to drive (``$GEX_CHROMIUM``, else ``/usr/bin/chromium``), or ``None`` if absent."""
    candidate = os.environ.get(ENV_CHROMIUM, "").strip() or DEFAULT_CHROMIUM
    found = shutil.which(candidate)
    return Path(found) if found else None


def check_page(html: Path, *, screenshot: Path | None = None, width: int = 1400, height: int = 900,
               timeout_ms: int = 120_000) -> BrowserCheck:
    """Open ``html`` in headless Chromium with the network cut off and inspect it.

    Parameters
    ----------
    html:
        The report file.
    screenshot:
        Where to save a full-page PNG (``None``: no screenshot).
    width, height:
        Viewport, CSS pixels.
    timeout_ms:
        How long to wait for BokehJS to finish rendering (generous: the machine may be loaded).

    After rendering, the mouse moves across every chart (:data:`HOVER_POSITIONS`) as a reader's would,
    and the hover tooltips shown are recorded in :attr:`BrowserCheck.tooltips`; errors this raises are
    collected like the others.

    Raises
    ------
    RuntimeError
        When no Chromium binary is found.
    """
    url = html.resolve().as_uri()
    with browser_page(width=width, height=height) as (page, check):
        check.url = url
        page.goto(url, wait_until="load", timeout=timeout_ms)
        wait_for_bokeh(page, timeout_ms)
        check.bokeh_documents = page.evaluate(_BOKEH_MODEL_JS)
        sections = page.locator("[data-chart]")
        check.charts = [ChartInk(*row) for row in sections.evaluate_all(_CANVAS_INK_JS)]
        check.tooltips = {chart.name: _hover(page, chart.name) for chart in check.charts if chart.canvas_pixels}
        page.mouse.move(0, 0)
        page.evaluate("() => window.scrollTo(0, 0)")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
            check.screenshot = screenshot
    return check


def wait_for_bokeh(page, timeout_ms: int = 120_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until BokehJS has built every view, then two animation frames (painting follows idleness)."""
    page.wait_for_function(
        "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents.every((d) => d.is_idle)",
        timeout=timeout_ms,
    )
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def chart_ink(page) -> list[ChartInk]:  # type: ignore[no-untyped-def]
    """:class:`ChartInk` of every ``[data-chart]`` section of the open page."""
    return [ChartInk(*row) for row in page.locator("[data-chart]").evaluate_all(_CANVAS_INK_JS)]


@contextmanager
def browser_page(*, allow_origins: tuple[str, ...] = (), width: int = 1400,
                 height: int = 900) -> Iterator[tuple[Any, BrowserCheck]]:
    """A headless Chromium page with the network cut off, and the :class:`BrowserCheck` recording it.

    Requests for ``file:``/``data:``/``blob:``/``about:`` URLs, and for URLs starting with one of
    ``allow_origins`` (e.g. a local ``gex report --serve`` at ``http://127.0.0.1:PORT/``), go through; every
    other one is aborted and recorded in :attr:`BrowserCheck.network_requests`, like console errors and
    uncaught page errors.

    Raises
    ------
    RuntimeError
        When no Chromium binary is found.
    """
    from playwright.sync_api import sync_playwright

    binary = chromium_path()
    if binary is None:
        raise RuntimeError(f"no Chromium at {os.environ.get(ENV_CHROMIUM) or DEFAULT_CHROMIUM} (install Debian's chromium)")
    allowed = LOCAL_SCHEMES + tuple(allow_origins)
    with sync_playwright() as pw:
        # --no-sandbox: CI and the dev machines run as root, where Chromium's sandbox refuses to start;
        # --disable-dev-shm-usage: containers often have a tiny /dev/shm.
        browser = pw.chromium.launch(executable_path=str(binary), headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            check = BrowserCheck(url="", chromium_version=browser.version)
            context = browser.new_context(viewport={"width": width, "height": height}, service_workers="block")

            def route(request_route) -> None:  # type: ignore[no-untyped-def]
                request_url = request_route.request.url
                if request_url.startswith(allowed):
                    request_route.continue_()
                else:
                    record(request_url)
                    request_route.abort()

            def record(request_url: str) -> None:  # each URL once: the router and the request event both see it
                if not request_url.startswith(allowed) and request_url not in check.network_requests:
                    check.network_requests.append(request_url)

            context.route("**/*", route)
            page = context.new_page()
            # Requests the router does not see (e.g. a WebSocket) are recorded here too.
            page.on("request", lambda r: record(r.url))
            page.on("websocket", lambda ws: record(ws.url))
            page.on("console", lambda m: check.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: check.page_errors.append(str(e)))
            yield page, check
            context.close()
        finally:
            browser.close()


def _hover(page, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Move the mouse across the plot canvas of chart ``name``; the distinct tooltip texts it showed."""
    canvas = page.locator(f'[data-chart="{name}"] canvas').first  # Playwright's CSS pierces shadow DOM
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    if box is None:
        return []
    seen: list[str] = []
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    for fraction in HOVER_POSITIONS:
        page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] * 0.5, steps=4)
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        seen.extend(t for t in page.evaluate(_TOOLTIPS_JS) if t not in seen)
    return seen
