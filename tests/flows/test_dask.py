"""The backfill on Dask (prefect-dask, a temporary local cluster of 2 worker processes) writes the same
warehouse as the default thread pool: workers get chains and return mart frames; the flow writes."""

from __future__ import annotations

import shutil

import pytest

from tests.flows.test_flows import SESSIONS, _digests

pytestmark = [pytest.mark.usefixtures("prefect_api"), pytest.mark.slow]


def test_backfill_on_a_local_dask_cluster_equals_the_thread_pool(tmp_path, loaded, monkeypatch):
    from prefect.settings import PREFECT_API_URL

    from pipelines.backfill import backfill, with_dask

    # Dask workers are other processes: they reach this test's Prefect API through the environment
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    threads, dask = tmp_path / "threads" / "gex.duckdb", tmp_path / "dask" / "gex.duckdb"
    for p in (threads, dask):
        p.parent.mkdir()
        shutil.copy(loaded, p)
    expected = backfill(str(threads), SESSIONS[0], SESSIONS[-1])
    got = with_dask(backfill, "local:2")(str(dask), SESSIONS[0], SESSIONS[-1])
    assert [(o.session, o.status, o.rows_out) for o in got] == [(o.session, o.status, o.rows_out) for o in expected]
    assert _digests(dask) == _digests(threads)
