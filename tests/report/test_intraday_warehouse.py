"""Replay and the intraday page on a real warehouse: three generated intraday snapshots of one SPX session
ingested and computed by the project's own path, then a fourth arriving while ``gex report --serve`` runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest
from gex_market.intraday import generate_day, write_intraday_day
from gex_service import compute as svc
from gex_warehouse.connect import connect
from gex_warehouse.load import ingest_file
from gex_warehouse.published import refresh_snapshot

from gex_report import data as report_data
from gex_report import intraday_data as idd
from gex_report.intraday_charts import cell_columns, series_columns
from gex_report.serve import ReportServer, ServeSettings, start_in_thread


def _load_and_compute(warehouse, files) -> None:
    con = connect(warehouse)
    try:
        for path in files:
            assert ingest_file(con, path).status == "loaded", path
        outcomes = svc.compute(con, svc.plan(con))
        assert all(o.status == "ok" for o in outcomes), [o.message for o in outcomes]
        refresh_snapshot(con, warehouse)  # what gex compute / the intraday flow do after computing
    finally:
        con.close()


@pytest.fixture(scope="module")
def day():
    return generate_day(underlying="SPX", every_minutes=60, seed=2, contracts=1500)


@pytest.fixture(scope="module")
def three(tmp_path_factory, day):
    """A warehouse with the session's first three intraday snapshots (10:30, 11:30, 12:30 New York)."""
    root = tmp_path_factory.mktemp("intraday-warehouse")
    files = write_intraday_day(iter(day.snapshots[:3]), root / "landing", previous_close=day.previous_close)
    _load_and_compute(root / "gex.duckdb", files)
    return root / "gex.duckdb"


def _published(warehouse, sql, params):
    con = report_data.open_read_only(warehouse)
    try:
        con.execute("SET VARIABLE preset = 'native'")
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def test_replay_json_repeats_the_published_snapshots(three, day):
    done = subprocess.run([sys.executable, "-m", "gex_cli", "replay", "SPX", str(day.session), "-w", str(three), "--json",
                           "--strikes", "3"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    rows = _published(three, "SELECT valuation_ts, spot, total_gex_usd_per_1pct, gamma_flip, regime, call_wall, put_wall, "
                             "zero_dte_gex_usd_per_1pct, zero_dte_gamma_share FROM main.regime_snapshots "
                             "WHERE session = ? ORDER BY valuation_ts", [day.session])
    assert len(records) == len(rows) == 3
    assert [r["time_new_york"] for r in records] == ["10:30:00", "11:30:00", "12:30:00"]
    for record, row in zip(records, rows, strict=True):
        assert record["valuation_ts"] == row[0].isoformat()
        assert (record["spot"], record["total_gex_usd_per_1pct"], record["gamma_flip"], record["regime"],
                record["call_wall"], record["put_wall"], record["zero_dte_gex_usd_per_1pct"],
                record["zero_dte_gamma_share"]) == tuple(row[1:])
        strikes = _published(three, "SELECT strike, net_gex_usd_per_1pct FROM main.gex_strike_snapshots WHERE "
                                    "valuation_ts = ? ORDER BY abs(strike - ?) LIMIT 3", [row[0], row[1]])
        assert sorted((b["strike"], b["net_gex_usd_per_1pct"]) for b in record["strikes"]) == sorted(strikes)
    assert "no intraday snapshot" not in done.stderr


def test_the_heatmap_cells_add_up_to_each_snapshots_total(three):
    con = report_data.open_read_only(three)
    try:
        loaded = idd.load(con, window=1.0)  # every strike
    finally:
        con.close()
    series, cells = series_columns(loaded.snapshots), cell_columns(loaded.strikes)
    for t, total in zip(series["t"], series["total"], strict=True):
        drawn = sum(n for ct, n in zip(cells["t"], cells["net"], strict=True) if ct == t)
        assert drawn == pytest.approx(total, rel=1e-9, abs=1e-9)


def test_a_fourth_snapshot_computed_and_published_reaches_the_endpoint(three, day, tmp_path):
    warehouse = tmp_path / "gex.duckdb"
    shutil.copyfile(three, warehouse)
    shutil.copyfile(three.with_name("gex.published.duckdb"), tmp_path / "gex.published.duckdb")
    server = ReportServer(ServeSettings(warehouse), port=0)
    start_in_thread(server)
    try:
        with urllib.request.urlopen(server.url + "api/snapshots", timeout=60) as response:
            first = json.loads(response.read())
        assert len(first["series"]["key"]) == 3
        last = first["series"]["key"][-1]
        files = write_intraday_day(iter(day.snapshots[3:4]), tmp_path / "landing", previous_close=day.previous_close)
        _load_and_compute(warehouse, files)  # the writer works while the server keeps its readers on the snapshot
        query = urllib.parse.urlencode({"underlying": "SPX", "session": str(day.session), "after": last})
        with urllib.request.urlopen(server.url + "api/snapshots?" + query, timeout=60) as response:
            update = json.loads(response.read())
    finally:
        server.shutdown()
        server.server_close()
    assert len(update["index"]) == 4 and update["index"][:3] == first["index"]
    assert update["series"]["key"] == [update["index"][3]["key"]]
    assert update["series"]["kind"] == ["intraday"]
    assert len(update["cells"]["t"]) > 0 and set(update["cells"]["t"]) == set(update["series"]["t"])
