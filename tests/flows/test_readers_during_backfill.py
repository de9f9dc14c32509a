"""Readers are never locked out (issue 10): `gex sql` on the published views answers, query after query,
while a backfill in another process holds the warehouse; after the backfill (which publishes) the published
snapshot equals the warehouse's views.

Not timed: the backfill is slowed (each session's write pauses inside its transaction) so that it holds the
warehouse for a while, and the test checks, by trying to open the warehouse, that it really was held while
the queries ran."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from gex_warehouse.config import ENV_TEST_SLEEP
from gex_warehouse.connect import WarehouseLockedError, connect
from gex_warehouse.published import refresh_snapshot, snapshot_path

from tests.warehouse.test_published_snapshot import assert_snapshot_equals_views

pytestmark = pytest.mark.usefixtures("prefect_api")

QUERIES = 10


def _env(**extra: str) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "GEX_PROGRESS": "0",
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop(ENV_TEST_SLEEP, None)
    env.update(extra)
    return env


def _held(path) -> bool:
    try:
        connect(path, read_only=True).close()
    except WarehouseLockedError:
        return True
    return False


def test_gex_sql_answers_repeatedly_while_a_backfill_runs(tmp_path, loaded):
    path = tmp_path / "gex.duckdb"
    shutil.copy(loaded, path)
    con = connect(path)
    try:
        refresh_snapshot(con, path)  # as a first `gex publish` would: published views of nothing computed yet
    finally:
        con.close()

    backfill = subprocess.Popen(
        [sys.executable, "-m", "gex_cli", "backfill", "--start", "2025-01-02", "--end", "2025-01-06", "-w", str(path)],
        env=_env(**{ENV_TEST_SLEEP: "4"}), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    counts, held_during = [], 0
    try:
        wal = path.with_name(path.name + ".wal")
        deadline = time.monotonic() + 180
        while not wal.exists() and backfill.poll() is None and time.monotonic() < deadline:  # its first write began
            time.sleep(0.05)
        for _ in range(QUERIES):
            held_before = _held(path)
            done = subprocess.run(
                [sys.executable, "-m", "gex_cli", "sql", "SELECT count(*) AS n FROM regime_daily", "-w", str(path),
                 "-f", "json"], capture_output=True, text=True, timeout=120, env={**os.environ},
            )
            assert done.returncode == 0, done.stderr
            counts.append(json.loads(done.stdout)[0]["n"])
            held_during += held_before and _held(path)
        assert backfill.wait(300) == 0, backfill.stderr.read() if backfill.stderr else ""
    finally:
        if backfill.poll() is None:
            backfill.kill()
            backfill.wait()
    assert held_during >= 1, "the backfill never held the warehouse while a query ran: the test proved nothing"
    assert counts == sorted(counts) and set(counts) <= {0, 1, 2, 3}  # consistent snapshots, never going back
    assert_snapshot_equals_views(path)  # the backfill's publish refreshed it
    reader = connect(snapshot_path(path), read_only=True)
    try:
        assert reader.execute("SELECT count(*) FROM regime_daily").fetchall()[0][0] == 3
    finally:
        reader.close()
