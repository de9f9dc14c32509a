"""Shared test fixtures: the real chain files in ../shared (skipped cleanly when absent), the Prefect test
harness; and the hooks that share the suite between the workers of ``pytest -n 2``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                      ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")):
    os.environ.setdefault(_name, _value)

REPO = Path(__file__).resolve().parents[1]
SHARED_CHAINS = (REPO / ".." / "shared" / "data" / "chains").resolve()


@pytest.fixture(scope="session")
def prefect_api():
    """A temporary Prefect API for the whole test process (the flow tests: tests/flows, tests/fetch)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def shared_file(relative: str) -> Path:
    """Path of a real chain file under ../shared/data/chains, skipping the test when it is absent."""
    path = SHARED_CHAINS / relative
    if not path.is_file():
        pytest.skip(f"real data not available: {path} (the ../shared folder is not part of a clone)")
    return path


# --- sharing the suite between the workers of `pytest -n 2` (see tests/scheduling.py) ----------------------------

def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, with the groups of :mod:`tests.scheduling` as units."""
    from tests.scheduling import make_scheduler

    return make_scheduler(config, log)


def pytest_configure_node(node):
    """(xdist, on the controller) tell the workers whether to order the collection costliest first."""
    from tests.scheduling import configure_node

    configure_node(node)


def pytest_collection_modifyitems(session, config, items):
    """In xdist workers: the costliest units first, so the two workers finish together."""
    from tests.scheduling import order_costliest_first, reorder

    if reorder(config, items):
        order_costliest_first(items)
