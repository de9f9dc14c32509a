"""Fixtures of the flow tests: ONE Prefect test harness per test process (a temporary API server and
database, ~10-17 s to start on 2 cores), and a small generated landing folder.

Only ``test_flows.py`` asks for the harness; tests of the tasks' functions (``task.fn``) run without it.
Under ``pytest -n 2`` each worker that runs a flow test starts its own harness (``xdist_group`` with
``--dist loadgroup`` would keep them on one worker, but it is a no-op with pytest 9.2 and xdist 3.8: xdist
renames ``item._nodeid``, which pytest 9.2 no longer reads).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                      ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")):
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def prefect_api():
    """A temporary Prefect API for the whole test process."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


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
