"""Jobs that die or overlap: a nightly/backfill killed with SIGKILL and run again gives the same warehouse
as an uninterrupted run; two nightly runs at once never corrupt anything (the second waits, or fails
saying who holds the warehouse).

The jobs run as separate processes (``gex`` subprocesses) against the session's Prefect test API, so no
process starts its own temporary server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gex_warehouse.config import ENV_TEST_SLEEP
from gex_warehouse.connect import WarehouseLockedError, connect

from tests.flows.conftest import BACKFILL_ARGS
from tests.flows.conftest import state as _state

pytestmark = pytest.mark.usefixtures("prefect_api")


def _env(**extra: str) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "GEX_PROGRESS": "0",
           "PREFECT_LOGGING_LEVEL": "WARNING", **extra}
    env.pop(ENV_TEST_SLEEP, None)
    env.update(extra)
    return env


def _gex(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gex_cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _is_locked(path: Path) -> bool:
    try:
        connect(path, read_only=True).close()
    except WarehouseLockedError:
        return True
    return False


def _wait_until(predicate, timeout: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_backfill_killed_mid_run_then_rerun_equals_an_uninterrupted_run(tmp_path, loaded, backfill_reference):
    killed = tmp_path / "kill" / "gex.duckdb"
    killed.parent.mkdir()
    shutil.copy(loaded, killed)
    args = BACKFILL_ARGS

    # each session's write pauses 3 s inside its transaction: kill during the second session's write
    # (the first write opens the WAL at ~0 s and commits at ~3 s; the second pauses from ~3 s to ~6 s)
    child = _gex(*args, "-w", str(killed), env=_env(**{ENV_TEST_SLEEP: "3"}))
    wal = killed.with_name(killed.name + ".wal")
    try:
        _wait_until(wal.exists, what="the backfill's first write")
        time.sleep(4.5)
        assert child.poll() is None, "the backfill finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    con = connect(killed, read_only=True)
    try:
        partial = con.execute("SELECT count(*) FROM mart.regime_daily").fetchall()[0][0]
    finally:
        con.close()
    assert 0 < partial < 3  # it really stopped half-way (the session being written was rolled back)

    again = _gex(*args, "-w", str(killed), env=_env())
    assert again.wait(300) == 0, again.stderr.read()
    assert _state(killed, killed.parent / "exports") == backfill_reference  # an uninterrupted run's


def test_two_nightly_runs_at_once_queue_or_fail_clearly(tmp_path, landing, nightly_reference):
    path = tmp_path / "gex.duckdb"
    slow = _env(**{ENV_TEST_SLEEP: "0.5"})  # keeps the first run holding the warehouse for a while
    first = _gex("nightly", "--landing", str(landing), "-w", str(path), env=slow)
    try:
        _wait_until(lambda: path.exists() and _is_locked(path), what="the first nightly to hold the warehouse")
        refused = _gex("nightly", "--landing", str(landing), "-w", str(path), "--lock-wait", "0", env=_env())
        out, err = refused.communicate(timeout=300)
        assert refused.returncode == 1
        assert "gex: error: cannot write to the warehouse" in err and "in use by process" in err
        assert "Traceback" not in err
        queued = _gex("nightly", "--landing", str(landing), "-w", str(path), "--lock-wait", "300", env=_env())
        assert first.wait(300) == 0, first.stderr.read()
        out, err = queued.communicate(timeout=300)
        assert queued.returncode == 0, err
        assert "0 sessions computed" in out  # it waited, then found the work done
    finally:
        for p in (first,):
            if p.poll() is None:
                p.kill()
    assert _state(path, path.parent / "exports") == nightly_reference[1]  # one uninterrupted run's
