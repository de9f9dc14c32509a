"""`gex analyze FILE --chart out.html|out.png`: charts of one chain file, no warehouse (the command in this
process, :mod:`tests.gex_runner`; the HTML chart also from a real ``gex`` process)."""

from __future__ import annotations

import base64
import gzip
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from tests.gex_runner import Done, gex_in_process, gex_process


def gex(*args: str) -> Done:
    """``gex *args`` in this process (:mod:`tests.gex_runner`); ``gex_process`` runs a real one."""
    return gex_in_process(*args)


@pytest.fixture(scope="module")
def sample_chain(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("chart") / "sample.csv"
    done = gex("sample", "--out", str(out), "--session", "2024-01-05", "--spot", "4700", "--seed", "3", "--contracts", "4000")
    assert done.returncode == 0, done.stderr
    return out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data_scripts: list[str] = []
        self._in_json = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_json = tag == "script" and dict(attrs).get("type") == "application/json"

    def handle_endtag(self, tag):
        self._in_json = False

    def handle_data(self, data):
        if self._in_json and data.strip():
            self.data_scripts.append(data)


def _decode(value: object) -> np.ndarray:
    """A Bokeh-serialised column: a plain list, or an ndarray of (optionally gzipped) base64 bytes."""
    if isinstance(value, list):
        return np.asarray(value, dtype=float)
    assert isinstance(value, dict) and value["type"] == "ndarray"
    raw = value["array"]["data"]
    blob = base64.b64decode(raw if isinstance(raw, str) else raw["data"])
    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    return np.frombuffer(blob, dtype=value["dtype"])


def _columns(doc: object) -> list[dict[str, np.ndarray]]:
    """Every ColumnDataSource's data in a Bokeh document JSON, as name -> array."""
    found: list[dict[str, np.ndarray]] = []

    def walk(o: object) -> None:
        if isinstance(o, dict):
            if o.get("type") == "map" and isinstance(o.get("entries"), list):
                entries = [e for e in o["entries"] if isinstance(e, list) and len(e) == 2 and isinstance(e[0], str)]
                if entries and all(isinstance(e[1], (list, dict)) for e in entries):
                    try:
                        found.append({k: _decode(v) for k, v in entries})
                    except (AssertionError, KeyError, TypeError, ValueError):
                        pass
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(doc)
    return found


@pytest.mark.parametrize("run", [gex, gex_process], ids=["in-process", "process"])
def test_html_chart_is_self_contained_and_carries_the_data(sample_chain, tmp_path, run):
    out = tmp_path / "chart.html"
    done = run("analyze", str(sample_chain), "--json", "--chart", str(out))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # stdout stays pure JSON; the "wrote" line goes to stderr
    assert "wrote the chart" in done.stderr
    page = out.read_text()
    parser = _Tags()
    parser.feed(page)
    assert not [t for t, a in parser.tags if t in ("script", "img", "iframe", "link") and (a.get("src") or a.get("href"))]
    assert len(parser.data_scripts) == 1
    sources = _columns(json.loads(parser.data_scripts[0]))
    by_strike = next(s for s in sources if {"strike", "call", "put", "net"} <= s.keys())
    spot = summary["spot"]
    assert by_strike["strike"].min() >= 0.9 * spot and by_strike["strike"].max() <= 1.1 * spot
    assert summary["call_wall"] in by_strike["strike"] and summary["put_wall"] in by_strike["strike"]
    np.testing.assert_allclose(by_strike["net"], by_strike["call"] + by_strike["put"], rtol=1e-9, atol=1e-12)
    # the call wall is the strike >= spot with the largest call GEX: the chart's bars say the same
    above = by_strike["strike"] >= spot
    assert by_strike["strike"][above][np.argmax(by_strike["call"][above])] == summary["call_wall"]
    profile = next(s for s in sources if {"level", "gex"} <= s.keys())
    assert profile["level"].size > 100 and np.isfinite(profile["gex"]).all()
    if summary["gamma_flip"] is not None:  # the profile changes sign at the flip
        i = np.searchsorted(profile["level"], summary["gamma_flip"])
        assert np.sign(profile["gex"][i - 1]) != np.sign(profile["gex"][i])
    assert f"flip {summary['gamma_flip']:,.2f}" in page or summary["gamma_flip"] is None
    assert f"call wall {summary['call_wall']:,.2f}" in page


def test_png_chart_is_a_real_non_blank_image(sample_chain, tmp_path):
    from PIL import Image

    out = tmp_path / "chart.png"
    done = gex("analyze", str(sample_chain), "--chart", str(out))
    assert done.returncode == 0, done.stderr
    assert "Total GEX" in done.stdout  # the readable summary is still printed
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(out) as img:
        img.verify()
    with Image.open(out) as img:
        pixels = np.asarray(img.convert("RGB"), dtype=float)
    assert pixels.shape[0] > 500 and pixels.shape[1] > 800
    assert pixels.std() > 10  # not one flat colour
    colours = {tuple(c) for c in pixels.reshape(-1, 3)[::97].astype(int)}
    assert len(colours) > 20  # bars, lines, shading and text, not an empty frame
    # the call-bar green (#2e8b57) is drawn somewhere
    green = np.array([0x2E, 0x8B, 0x57], dtype=float)
    blended = 0.6 * green + 0.4 * 255  # alpha 0.6 on white
    assert (np.abs(pixels - blended).sum(axis=2) < 30).any()


def test_chart_mistakes(sample_chain, tmp_path):
    done = gex("analyze", str(sample_chain), "--chart", str(tmp_path / "chart.svg"))
    assert done.returncode == 2 and ".html or .png" in done.stderr
    done = gex("analyze", str(sample_chain), "--chart", str(tmp_path / "missing-dir" / "chart.html"))
    assert done.returncode == 1 and "cannot write the chart" in done.stderr and "Traceback" not in done.stderr
    assert re.search(r"gex: error: .*chart\.html", done.stderr)
