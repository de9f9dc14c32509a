"""Fixtures of the report tests: one small generated market, ingested and computed once per test session.

30 sessions of ~1,500 contracts (seed 2: its sessions have a gamma flip inside the window), so the
21-session realized vol and the history charts have data. Tests that change the warehouse work on a copy.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from gex.conventions import NATIVE
from gex_market import generate_market
from gex_warehouse import compute as c
from gex_warehouse.connect import connect
from gex_warehouse.load import expand_paths, ingest_file

REPO = Path(__file__).resolve().parents[2]
SESSIONS = 30


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory) -> Path:
    """A computed warehouse file (treat as read-only: copy it with :func:`copy_warehouse` to change it)."""
    root = tmp_path_factory.mktemp("report-market")
    generate_market(root / "landing", sessions=SESSIONS, contracts=1500, seed=2)
    target = root / "gex.duckdb"
    con = connect(target)
    try:
        for file in expand_paths([root / "landing"]):
            assert ingest_file(con, file).status == "loaded", file
        for underlying, session in c.loaded_sessions(con):
            frames = c.compute_session(c.snapshot_from_warehouse(con, underlying, session), NATIVE, c.rate_for(con, session),
                                       load_id=c.chain_load_id(con, underlying, session))
            c.write_marts(con, frames)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return target


@pytest.fixture
def warehouse_copy(report_warehouse, tmp_path) -> Path:
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(report_warehouse, target)
    return target


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave files for people to look at: $GEX_TEST_ARTIFACTS, else test-artifacts/ (gitignored)."""
    path = Path(os.environ.get("GEX_TEST_ARTIFACTS", "").strip() or REPO / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path
