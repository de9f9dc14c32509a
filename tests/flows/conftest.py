"""Fixtures of the flow tests: a small generated landing folder, its loaded warehouse, and uninterrupted
reference runs. The Prefect test harness (``prefect_api``, ONE temporary API server and database per test
process, ~10-17 s to start on 2 cores) is in ``tests/conftest.py``: ``tests/fetch`` uses it too.

The flow tests ask for the harness; tests of the tasks' functions (``task.fn``) run without it. Under
``pytest -n 2`` the files that use the harness are one unit of work (``tests/scheduling.py``), so one worker
starts it once, and the uninterrupted reference runs below are made once for the interrupt and race tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def landing(tmp_path_factory) -> Path:
    """A landing folder: 3 sessions of a generated SPX market (3,000 contracts each), OCC OI, closes, rates."""
    from gex_market import generate_market

    folder = tmp_path_factory.mktemp("market") / "landing"
    generate_market(folder, sessions=3, contracts=3000, seed=2)
    return folder


@pytest.fixture(scope="session")
def loaded(tmp_path_factory, landing) -> Path:
    """A warehouse holding ``landing`` with nothing computed (built without Prefect; copy it before writing)."""
    from pipelines.tasks import ingest_one, list_landing

    path = tmp_path_factory.mktemp("loaded") / "gex.duckdb"
    for file in list_landing.fn(str(landing)):
        assert ingest_one.fn(str(path), file).ok
    return path


@pytest.fixture
def warehouse(tmp_path, loaded) -> Path:
    """A private copy of :func:`loaded`."""
    target = tmp_path / "gex.duckdb"
    shutil.copy(loaded, target)
    return target


def state(path: Path, exports: Path) -> tuple[dict[str, str], dict[str, bytes]]:
    """Every table's content hash and every export file (the runs log and its export left out: it records
    attempts, with their ids and times)."""
    from gex_warehouse.connect import connect
    from gex_warehouse.digest import table_digests

    con = connect(path, read_only=True)
    try:
        digests = {t: d for t, d in table_digests(con).items() if t != "mart.runs"}
    finally:
        con.close()
    files = {str(p.relative_to(exports)): p.read_bytes() for p in sorted(exports.rglob("*"))
             if p.is_file() and p.relative_to(exports).parts[0] != "runs"}
    assert files, "nothing exported"
    return digests, files


def harness_env(**extra: str) -> dict[str, str]:
    """Environment of a ``gex`` subprocess on the session's Prefect test API (no test pauses, default logging)."""
    from gex_warehouse.config import ENV_TEST_SLEEP
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "GEX_PROGRESS": "0"}
    env.pop(ENV_TEST_SLEEP, None)
    env.pop("PREFECT_LOGGING_LEVEL", None)
    return {**env, **extra}


def gex_ok(args: list[str], env: dict[str, str]) -> None:
    """Run ``gex *args`` to the end as a subprocess; it must succeed."""
    done = subprocess.run([sys.executable, "-m", "gex_cli", *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr


#: The backfill range of the reference run: every session of :func:`landing`.
BACKFILL_ARGS = ["backfill", "--start", "2025-01-02", "--end", "2025-01-06"]


@pytest.fixture(scope="session")
def nightly_reference(tmp_path_factory, landing, prefect_api) -> tuple[Path, tuple]:
    """An uninterrupted ``gex nightly`` of :func:`landing` into a new warehouse (a subprocess on the session's
    API): the warehouse file and its :func:`state`. Read-only for the tests."""
    path = tmp_path_factory.mktemp("nightly-ref") / "gex.duckdb"
    gex_ok(["nightly", "--landing", str(landing), "-w", str(path)], harness_env())
    return path, state(path, path.parent / "exports")


@pytest.fixture(scope="session")
def backfill_reference(tmp_path_factory, loaded, prefect_api) -> tuple:
    """The :func:`state` after an uninterrupted ``gex backfill`` of every session of a copy of :func:`loaded`."""
    path = tmp_path_factory.mktemp("backfill-ref") / "gex.duckdb"
    shutil.copy(loaded, path)
    gex_ok([*BACKFILL_ARGS, "-w", str(path)], harness_env())
    return state(path, path.parent / "exports")
