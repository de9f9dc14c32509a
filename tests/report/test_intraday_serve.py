"""The intraday page's data, page and local server (no browser): what is drawn equals what was published,
the endpoint sends only new snapshots, bad queries are one-line errors, and ``gex report --serve`` /
``--intraday`` as a user runs them."""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from gex.conventions import PRESETS

from gex_report import data as report_data
from gex_report import intraday_data as idd
from gex_report.intraday_charts import cell_columns, series_columns
from gex_report.intraday_page import LiveConfig, render_intraday
from gex_report.serve import PRESETS as SERVE_PRESETS
from gex_report.serve import ReportServer, ServeSettings, start_in_thread
from tests.report.intraday_fixture import SESSION, snapshot_rows, write_published


@pytest.fixture
def published(tmp_path):
    regime, strikes = snapshot_rows(SESSION, [5, 10, 15], eod=True)
    write_published(tmp_path / "gex.published.duckdb", regime, strikes)
    return tmp_path / "gex.duckdb", regime, strikes


@pytest.fixture
def server(published):
    warehouse = published[0]
    srv = ReportServer(ServeSettings(warehouse, poll_seconds=1.0), port=0)
    start_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()


def get(url: str, host: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_the_server_knows_the_cores_presets():
    assert set(SERVE_PRESETS) == set(PRESETS)


def test_load_reads_every_snapshot_and_the_strikes_near_each_spot(published):
    warehouse, regime, strikes = published
    con = report_data.open_read_only(warehouse)
    try:
        loaded = idd.load(con)
    finally:
        con.close()
    assert (loaded.underlying, loaded.session, loaded.preset) == ("SPX", SESSION, "native")
    assert loaded.snapshots.height == 4 and loaded.intraday_count == 3
    assert loaded.snapshots["valuation_ts"].to_list() == [r[3] for r in regime]
    expected = [(s[3], s[4]) for s in strikes
                for r in regime if r[3] == s[3] and abs(s[4] - r[5]) <= idd.INTRADAY_STRIKE_WINDOW * r[5]]
    assert list(zip(loaded.strikes["valuation_ts"].to_list(), loaded.strikes["strike"].to_list(), strict=True)) == expected
    assert loaded.daily is not None and loaded.daily["intraday"] is False  # the end-of-day row is the official one


def test_series_and_cells_convert_units_and_keep_gaps(published):
    warehouse, regime, _ = published
    con = report_data.open_read_only(warehouse)
    try:
        loaded = idd.load(con)
    finally:
        con.close()
    series = series_columns(loaded.snapshots)
    assert series["total"] == pytest.approx([r[6] / 1e9 for r in regime])
    assert series["share"] == pytest.approx([r[16] * 100 for r in regime])
    assert series["kind"] == ["intraday"] * 3 + ["end of day"]
    # New York wall clock: 09:35 ET is 09:35 on the axis (UTC would say 13:35)
    first = series["t"][0] / 1000
    assert time.strftime("%H:%M", time.gmtime(first)) == "09:35"
    cells = cell_columns(loaded.strikes)
    assert len({len(v) for v in cells.values()}) == 1
    assert set(cells["h"]) == {5.0} and cells["y"] == cells["strike"]  # the fixture's strikes are 5 points apart
    nulls = loaded.snapshots.with_columns(gamma_flip=None)
    assert math.isnan(series_columns(nulls)["flip"][0])  # a missing flip is a gap, never 0


def test_cells_tile_the_strike_axis_whatever_the_spacing():
    import datetime as dt

    import polars as pl

    ts = dt.datetime(2025, 3, 14, 14, 0, tzinfo=dt.timezone.utc)
    frame = pl.DataFrame({"valuation_ts": [ts] * 4, "strike": [100.0, 105.0, 125.0, 200.0],
                          "call_gex_usd_per_1pct": [1e9] * 4, "put_gex_usd_per_1pct": [0.0] * 4,
                          "net_gex_usd_per_1pct": [1e9] * 4})
    cells = cell_columns(frame)
    edges = [(y - h / 2, y + h / 2) for y, h in zip(cells["y"], cells["h"], strict=True)]
    assert edges == [(97.5, 102.5), (102.5, 115.0), (115.0, 162.5), (162.5, 237.5)]
    assert cells["net"] == [1.0] * 4  # $bn


def test_the_colour_scale_saturates_at_a_quantile():
    from gex_report.intraday_charts import colour_limit

    values = [float(v) for v in range(1, 101)] + [-1e6]  # one strike with a huge exposure
    assert colour_limit(values) == 99.0
    assert colour_limit([]) == 1e-9 and colour_limit([0.0, float("nan")]) == 1e-9


def test_the_static_page_is_self_contained_and_never_polls(published):
    warehouse, _, _ = published
    con = report_data.open_read_only(warehouse)
    try:
        loaded = idd.load(con)
    finally:
        con.close()
    page = render_intraday(loaded)
    # nothing loaded from anywhere (the same checks as the daily page's, tests/report/test_page.py)
    assert not re.search(r"<(script|img|iframe|link)\b[^>]*\b(src|href)\s*=", page, re.IGNORECASE)
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.DOTALL | re.IGNORECASE)
    assert not re.search(r"@import|@font-face|url\(\s*['\"]?(https?:)?//", markup, re.IGNORECASE)
    config = json.loads(re.search(r'<script type="application/json" id="gex-live">(.*?)</script>', page, re.S)[1])
    assert config["url"] is None and config["session"] == str(SESSION)
    live = render_intraday(loaded, live=LiveConfig(poll_seconds=3))
    config = json.loads(re.search(r'<script type="application/json" id="gex-live">(.*?)</script>', live, re.S)[1])
    assert config["url"] == "/api/snapshots" and config["poll_seconds"] == 3
    assert 'id="selector"' in live and 'id="selector"' not in page
    assert "4 snapshots" in page.replace('<span id="snapshot-count">4</span>', "4") and "(3 intraday)" in page


def test_the_endpoint_sends_only_snapshots_after_the_cursor(server, published):
    _, regime, _ = published
    status, body = get(server.url + "api/snapshots?underlying=spx")
    assert status == 200
    everything = json.loads(body)
    assert everything["index"] == [{"key": r[3].isoformat(), "load_id": r[21]} for r in regime]
    assert everything["series"]["key"] == [r[3].isoformat() for r in regime]
    assert everything["latest_session"] == str(SESSION)
    cursor = everything["series"]["key"][1]
    status, body = get(server.url + "api/snapshots?" + urllib.parse.urlencode({"after": cursor}))
    later = json.loads(body)
    assert later["series"]["key"] == everything["series"]["key"][2:]
    assert len(later["cells"]["t"]) == sum(1 for t in everything["cells"]["t"] if t >= later["series"]["t"][0])
    assert "NaN" not in body


@pytest.mark.parametrize(("query", "status", "words"), [
    ("session=14-03-2025", 400, "is not a date"),
    ("preset=evil'%3B--", 400, "unknown preset"),
    ("after=yesterday", 400, "not an ISO instant"),
    ("after=2025-03-14T10:00:00", 400, "UTC offset"),
    ("underlying=QQQ", 404, "the warehouse has SPX"),
    ("session=2025-03-17", 404, "previous 2025-03-14"),
    ("underlying=%3Cscript%3E", 400, "is not a symbol"),
])
def test_bad_queries_are_one_line_errors(server, query, status, words):
    code, body = get(server.url + "api/snapshots?" + query)
    assert code == status and words in json.loads(body)["error"]
    code, page = get(server.url + "?" + query)
    assert code == status and "<script>" not in page.split("<body", 1)[1]


def test_unknown_paths_and_foreign_hosts_are_refused(server):
    assert get(server.url + "etc/passwd")[0] == 404
    code, body = get(server.url + "api/snapshots", host="evil.example:80")  # DNS rebinding
    assert code == 403 and "127.0.0.1" in body


def test_the_page_is_served(server):
    code, page = get(server.url + "?session=2025-03-14&preset=native")
    assert code == 200 and '"url": "/api/snapshots"' in page and "SPX &middot; session 2025-03-14" in page


def test_no_published_data_is_a_503(tmp_path):
    srv = ReportServer(ServeSettings(tmp_path / "none.duckdb"), port=0)
    start_in_thread(srv)
    try:
        code, body = get(srv.url + "api/snapshots")
        assert code == 503 and "no warehouse" in json.loads(body)["error"]
    finally:
        srv.shutdown()
        srv.server_close()


def gex(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gex_cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_report_intraday_writes_the_static_page(published, tmp_path):
    warehouse, _, _ = published
    done = gex("report", "--intraday", "-w", str(warehouse), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "warehouse" / f"intraday_SPX_{SESSION}.html").is_file()
    assert "4 snapshots, 3 intraday" in done.stdout
    bad = gex("report", "--intraday", "-w", str(warehouse), "--preset", "nope")
    assert bad.returncode == 2 and bad.stderr.startswith("gex: error: unknown --preset")


@pytest.mark.parametrize(("signum", "inherited", "code"), [
    (signal.SIGINT, signal.SIG_IGN, 130),  # a background job of a script, some test runners: SIGINT ignored
    (signal.SIGTERM, signal.SIG_DFL, 143),
], ids=["ctrl-c-with-sigint-ignored-before", "sigterm"])
def test_report_serve_answers_then_a_signal_stops_it_quietly(published, signum, inherited, code):
    """The server installs its own SIGINT and SIGTERM handlers: with SIGINT inherited as ignored, Ctrl-C never
    stopped it (Python leaves an ignored SIGINT ignored); SIGTERM ended it without closing the socket."""
    warehouse, _, _ = published
    process = subprocess.Popen([sys.executable, "-m", "gex_cli", "report", "--serve", "--port", "0", "-w", str(warehouse)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, inherited))
    try:
        line = process.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        code_, body = get(url[0] + "api/snapshots")
        assert code_ == 200 and len(json.loads(body)["series"]["key"]) == 4
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, err[-2000:]
    assert "Traceback" not in err and err.strip() == ""


def test_report_serve_with_out_is_a_usage_error(published, tmp_path):
    done = gex("report", "--serve", "--out", str(tmp_path / "x.html"), "-w", str(published[0]))
    assert done.returncode == 2 and done.stderr.startswith("gex: error: --out writes a file") and "Traceback" not in done.stderr


def test_report_serve_refuses_a_taken_port(published):
    warehouse, _, _ = published
    srv = ReportServer(ServeSettings(warehouse), port=0)
    try:
        done = gex("report", "--serve", "--port", str(srv.server_address[1]), "-w", str(warehouse))
    finally:
        srv.server_close()
    assert done.returncode == 1 and "port is in use" in done.stderr and "Traceback" not in done.stderr
