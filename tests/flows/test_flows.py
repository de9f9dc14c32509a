"""The flows on a temporary Prefect API (one harness per test process, see conftest)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from gex_warehouse.connect import connect
from gex_warehouse.digest import table_digests
from typer.testing import CliRunner

pytestmark = pytest.mark.usefixtures("prefect_api")

SESSIONS = [dt.date(2025, 1, 2), dt.date(2025, 1, 3), dt.date(2025, 1, 6)]


def _digests(path) -> dict[str, str]:
    con = connect(path, read_only=True)
    try:
        return {t: d for t, d in table_digests(con).items() if t != "mart.runs"}
    finally:
        con.close()


def _rows(path, sql: str) -> list[tuple]:
    con = connect(path, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_nightly_ingests_computes_every_pending_session_and_publishes_the_regimes(tmp_path, landing):
    from prefect.artifacts import Artifact

    from pipelines.nightly import ARTIFACT_KEY, nightly

    path = tmp_path / "gex.duckdb"
    result = nightly(str(landing), str(path))
    assert [r.status for r in result.loads] == ["loaded"] * 8
    # every pending session, not only the latest: a missed night's files are computed too
    assert [(o.underlying, o.session, o.status) for o in result.outcomes] == [("SPX", s, "ok") for s in SESSIONS]
    assert [(r["underlying"], r["session"]) for r in result.regimes] == [("SPX", s.isoformat()) for s in SESSIONS]
    assert _rows(path, "SELECT underlying, session FROM mart.regime_daily ORDER BY session") == [("SPX", s) for s in SESSIONS]
    runs = _rows(path, "SELECT flow, status, flow_run_id FROM mart.runs")
    assert len(runs) == len(SESSIONS)
    assert all((flow, status) == ("compute", "ok") and len(run_id) == 36 for flow, status, run_id in runs)  # flow run UUIDs
    artifact = Artifact.get(ARTIFACT_KEY)
    assert artifact is not None and artifact.type == "table"
    assert "2025-01-06" in str(artifact.data) and result.regimes[0]["regime"] in str(artifact.data)

    before = _digests(path)
    again = nightly(str(landing), str(path))
    assert [r.status for r in again.loads] == ["already loaded"] * 8
    assert again.outcomes == [] and again.regimes == result.regimes[-1:]  # nothing pending: the latest regime
    assert _digests(path) == before
    assert _rows(path, "SELECT count(*) FROM mart.runs") == [(len(SESSIONS),)]


def test_ingest_then_compute_flows(tmp_path, landing):
    from pipelines.compute import compute
    from pipelines.ingest import ingest

    path = str(tmp_path / "gex.duckdb")
    assert all(r.ok for r in ingest(str(landing), path))
    assert [o.session for o in compute(path)] == SESSIONS
    assert compute(path) == []  # nothing pending
    assert [o.session for o in compute(path, underlying="spx", session=SESSIONS[0], force=True)] == [SESSIONS[0]]


def test_backfill_computes_a_range_and_resumes(warehouse):
    from pipelines.backfill import backfill

    w = str(warehouse)
    first = backfill(w, SESSIONS[0], SESSIONS[1])
    assert [(o.session, o.status) for o in first] == [(SESSIONS[0], "ok"), (SESSIONS[1], "ok")]
    assert all(o.rows_in > 0 and o.rows_out > 0 for o in first)
    before = _digests(warehouse)
    rest = backfill(w, SESSIONS[0], SESSIONS[-1])  # resumes: only the session not yet computed
    assert [o.session for o in rest] == [SESSIONS[-1]]
    assert backfill(w, SESSIONS[0], SESSIONS[-1]) == []
    forced = backfill(w, SESSIONS[0], SESSIONS[1], force=True)
    assert [o.session for o in forced] == SESSIONS[:2]
    after = _digests(warehouse)
    assert {t: d for t, d in after.items() if not t.startswith("mart.")} == \
        {t: d for t, d in before.items() if not t.startswith("mart.")}
    runs = _rows(warehouse, "SELECT flow, count(*), count(DISTINCT flow_run_id) FROM mart.runs GROUP BY ALL")
    assert runs == [("backfill", 5, 3)]


def test_cli_backfill_and_nightly(warehouse, landing, tmp_path):
    from gex_cli.main import app

    runner = CliRunner()
    out = runner.invoke(app, ["backfill", "--start", "2025-01-02", "--end", "2025-01-06", "-w", str(warehouse)])
    assert out.exit_code == 0, out.output
    assert "3 sessions computed (0 failed)" in out.output
    out = runner.invoke(app, ["backfill", "--start", "2025-01-06", "--end", "2025-01-02", "-w", str(warehouse)])
    assert out.exit_code == 2 and "before --start" in out.output
    out = runner.invoke(app, ["nightly", "--landing", str(landing), "-w", str(tmp_path / "n.duckdb")])
    assert out.exit_code == 0, out.output
    assert "2025-01-06 SPX (native): spot" in out.output and "3 sessions computed (0 failed)" in out.output


def test_cli_says_so_when_another_process_holds_the_warehouse(warehouse):
    from gex_cli.main import app

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
                               "sys.stdin.read()", str(warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        out = CliRunner().invoke(app, ["backfill", "--start", "2025-01-02", "--end", "2025-01-06", "-w", str(warehouse)])
    finally:
        holder.communicate("", timeout=30)
    assert out.exit_code == 1
    assert "cannot write to the warehouse" in out.output and "in use by process" in out.output
