"""`gex demo` end to end at a small size: generate, ingest, backfill, nightly, exports and the summary.

Three sessions (the fewest that still run a backfill of more than one session, in parallel) of ~600 contracts,
the intraday step hourly (six snapshots): every step of the default demo, at a fraction of its time."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.usefixtures("prefect_api")


def test_demo_runs_every_flow_and_says_where_things_are(tmp_path, monkeypatch):
    from gex_cli.main import app

    monkeypatch.setenv("GEX_PROGRESS", "0")
    monkeypatch.delenv("GEX_EXPORTS", raising=False)
    target = tmp_path / "warehouse" / "gex.duckdb"
    args = ["demo", "--sessions", "3", "--contracts", "600", "--intraday-every", "60", "--warehouse", str(target)]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    for step in ("[1/7] generating 3 sessions", "[3/7] flow ingest", "[4/7] flow backfill", "[5/7] flow intraday",
                 "[6/7] flow nightly", "[7/7] the dashboard report"):
        assert step in out.output
    assert "2 sessions computed, 0 failed" in out.output and "1 session computed" in out.output
    assert "Latest regime" in out.output and "Flip history" in out.output and "SPX: 3 sessions" in out.output
    assert str(target.parent / "exports") in out.output
    reports = list(target.parent.glob("report_SPX_*.html"))
    assert len(reports) == 1 and str(reports[0]) in out.output and reports[0].stat().st_size > 500_000
    exported = target.parent / "exports" / "regime_daily"
    assert len(list(exported.glob("session=*/part-0.parquet"))) == 3 and not list(exported.glob("underlying=*"))
    pages = list(target.parent.glob("intraday_SPX_*.html"))
    assert len(pages) == 1 and str(pages[0]) in out.output
    assert "6 intraday snapshots of SPX" in out.output
    con = duckdb.connect(str(target), read_only=True)
    try:
        # 2 sessions by the backfill, the last session's 6 intraday snapshots (hourly, 10:30 .. 15:30 ET), then
        # its end-of-day chain by the nightly
        assert con.execute("SELECT count(*), count(DISTINCT flow) FROM mart.runs").fetchall() == [(9, 3)]
        assert con.execute("SELECT count(*), count(*) FILTER (intraday) FROM main.regime_snapshots").fetchall() == [(9, 6)]
        assert con.execute("SELECT intraday FROM main.regime_daily ORDER BY session DESC LIMIT 1").fetchall() == [(False,)]
        assert con.execute("SELECT count(*) FROM mart.export_state").fetchall() == [(3,)]
        assert con.execute("SELECT count(DISTINCT session) FROM main.hedge_advice").fetchall() == [(3,)]
    finally:
        con.close()
    again = CliRunner().invoke(app, args)  # everything done already: nothing loaded or computed again
    assert again.exit_code == 0, again.output
    assert "0 files loaded" in again.output and "0 sessions computed" in again.output


def test_demo_refuses_nonsense_sizes():
    from gex_cli.main import app

    out = CliRunner().invoke(app, ["demo", "--sessions", "1"])
    assert out.exit_code == 2 and "--sessions must be between 2 and 2520" in out.output
    out = CliRunner().invoke(app, ["demo", "--intraday-every", "7"])
    assert out.exit_code == 2 and "--intraday-every must divide 60" in out.output
