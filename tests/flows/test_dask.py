"""The backfill on Dask (prefect-dask) writes the same warehouse as the serial paths: workers get chains and
return mart frames; the flow writes.

One ``LocalCluster`` of 2 worker processes serves the module, reached by its scheduler address like a cluster
of several machines (``gex backfill --dask tcp://host:8786``). The workers are other processes: they reach the
test's Prefect API through ``PREFECT_API_URL``, set before they start.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.flows.test_flows import SESSIONS, _digests


#: A small universe with the whole market's mix: 3 index chains (thinned), SPY/QQQ/IWM, heavy-tailed stocks
#: with dividends; 2 sessions.
UNIVERSE, UNIVERSE_SESSIONS, INDEX_CONTRACTS, SEED = 20, 2, 300, 13


@pytest.fixture(scope="module")
def dask_address(prefect_api) -> Iterator[str]:
    """The scheduler address of a 2-worker ``LocalCluster`` (one thread per worker process)."""
    from distributed import LocalCluster
    from prefect.settings import PREFECT_API_URL

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))  # inherited by the worker processes
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
            yield cluster.scheduler_address


@pytest.fixture(scope="module")
def universe_loaded(tmp_path_factory) -> Path:
    """A warehouse holding a generated universe (DataShop files + rates), nothing computed."""
    from gex_market.universe import generate_universe
    from pipelines.tasks import ingest_one, list_landing

    root = tmp_path_factory.mktemp("universe")
    generate_universe(root / "landing", UNIVERSE, sessions=UNIVERSE_SESSIONS, seed=SEED, index_contracts=INDEX_CONTRACTS)
    path = root / "gex.duckdb"
    for file in list_landing.fn(str(root / "landing")):
        assert ingest_one.fn(str(path), file).ok, file
    return path


def _marts(path: Path) -> dict[str, str]:
    """Content digest of every mart table the analysis fills, plus the run log's deterministic columns."""
    from gex_warehouse import compute as c
    from gex_warehouse.connect import connect
    from gex_warehouse.digest import table_digest

    con = connect(path, read_only=True)
    try:
        out = {t: table_digest(con, t) for t in c.MART_TABLES}
        out["mart.runs"] = repr(con.execute(
            "SELECT underlying, session, conventions, status, rows_in, rows_out, message FROM mart.runs ORDER BY ALL").fetchall())
        return out
    finally:
        con.close()


@pytest.mark.slow
def test_backfill_on_a_dask_cluster_equals_the_thread_pool(tmp_path, loaded, dask_address):
    from pipelines.backfill import backfill, with_dask

    threads, dask = tmp_path / "threads" / "gex.duckdb", tmp_path / "dask" / "gex.duckdb"
    for p in (threads, dask):
        p.parent.mkdir()
        shutil.copy(loaded, p)
    expected = backfill(str(threads), SESSIONS[0], SESSIONS[-1])
    got = with_dask(backfill, dask_address)(str(dask), SESSIONS[0], SESSIONS[-1])
    assert [(o.session, o.status, o.rows_out) for o in got] == [(o.session, o.status, o.rows_out) for o in expected]
    assert _digests(dask) == _digests(threads)


def _serial_universe(universe_loaded: Path, tmp_path: Path) -> tuple[Path, list]:
    """``gex compute``'s serial path (one thread, no Prefect, no task runner) on a copy of the universe."""
    from gex_service import compute as svc
    from gex_warehouse.connect import connect

    serial = tmp_path / "serial" / "gex.duckdb"
    serial.parent.mkdir()
    shutil.copy(universe_loaded, serial)
    con = connect(serial)
    try:
        expected = svc.compute(con, svc.plan(con))
    finally:
        con.close()
    assert len({o.underlying for o in expected}) == UNIVERSE and len(expected) == UNIVERSE * UNIVERSE_SESSIONS
    assert all(o.status == "ok" for o in expected)
    return serial, expected


def _same_outcomes(got: list, expected: list) -> None:
    key = lambda o: (o.underlying, o.session, o.preset)  # noqa: E731
    assert sorted((key(o), o.status, o.rows_in, o.rows_out) for o in got) == \
        sorted((key(o), o.status, o.rows_in, o.rows_out) for o in expected)


def _watch_writer_settings(monkeypatch) -> tuple[list, list]:
    """(DuckDB's ``threads`` and ``checkpoint_threshold`` as each batch is written, the settings the run
    applied then restored through ``gex_service.compute.apply_settings``)."""
    from gex_service import compute as svc
    from gex_warehouse import compute as c

    seen: list = []
    applied: list = []
    write, apply = c.write_results, svc.apply_settings

    def watched_write(con, results):
        seen.append(con.execute("SELECT current_setting('threads'), current_setting('checkpoint_threshold')").fetchall()[0])
        return write(con, results)

    def watched_apply(con, values):
        applied.append(dict(values))
        return apply(con, values)

    monkeypatch.setattr(c, "write_results", watched_write)
    monkeypatch.setattr(svc, "apply_settings", watched_apply)
    return seen, applied


def _tuned_then_restored(seen: list, applied: list) -> None:
    """The batches were written with DuckDB on one thread (the workers are on this machine) and a raised
    checkpoint threshold (as ``gex compute`` writes), and the run put the earlier settings back."""
    assert seen and set(seen) == {(1, "61.0 MiB")}, seen  # an eighth of the flows' 512 MB memory limit
    assert len(applied) == 2 and applied[0] == {"checkpoint_threshold": "61MiB", "threads": "1"}
    assert applied[1]["checkpoint_threshold"] == "16.0 MiB" and int(applied[1]["threads"]) >= 1


@pytest.mark.slow
def test_universe_backfill_in_batches_on_threads_equals_the_serial_compute(tmp_path, universe_loaded, monkeypatch):
    """A whole-market night's flow path (``pipelines.tasks.FLOW_BATCH_MIN_JOBS`` lowered so 40 jobs take it):
    snapshots read by one task and written in one transaction per batch, the next batch analysed meanwhile;
    the marts equal ``gex compute``'s serial ones, and the per-snapshot path is not taken."""
    from pipelines import tasks
    from pipelines.backfill import backfill

    serial, expected = _serial_universe(universe_loaded, tmp_path)
    batched = tmp_path / "batched" / "gex.duckdb"
    batched.parent.mkdir()
    shutil.copy(universe_loaded, batched)
    monkeypatch.setattr(tasks, "FLOW_BATCH_MIN_JOBS", 1)
    monkeypatch.setattr(tasks, "read_chain", None)  # the per-snapshot tasks must not run
    monkeypatch.setattr(tasks, "write_session", None)
    sessions = sorted({o.session for o in expected})
    seen, applied = _watch_writer_settings(monkeypatch)
    got = backfill(str(batched), sessions[0], sessions[-1], workers=2)
    _same_outcomes(got, expected)
    assert _marts(batched) == _marts(serial)
    _tuned_then_restored(seen, applied)


@pytest.mark.slow
def test_universe_backfill_on_a_dask_cluster_equals_the_serial_compute(tmp_path, universe_loaded, dask_address,
                                                                       monkeypatch):
    """Every underlying of a generated universe (indices, ETFs, dividend-paying American stocks): the marts
    written from the 2 Dask workers' frames equal, row for row, those of ``gex compute``'s serial path (one
    thread, no Prefect, no task runner). The flow takes its whole-market path (batched reads and writes)."""
    from pipelines import tasks
    from pipelines.backfill import backfill, with_dask

    monkeypatch.setattr(tasks, "FLOW_BATCH_MIN_JOBS", 1)
    serial, expected = _serial_universe(universe_loaded, tmp_path)
    dask = tmp_path / "dask" / "gex.duckdb"
    dask.parent.mkdir()
    shutil.copy(universe_loaded, dask)
    sessions = sorted({o.session for o in expected})
    seen, applied = _watch_writer_settings(monkeypatch)
    got = with_dask(backfill, dask_address)(str(dask), sessions[0], sessions[-1], workers=2)
    _same_outcomes(got, expected)
    _tuned_then_restored(seen, applied)  # the cluster's workers listen on 127.0.0.1: local
    marts = _marts(dask)
    assert marts == _marts(serial)
    assert all(not d.startswith("0:") for t, d in marts.items() if t in ("mart.regime_daily", "mart.gex_profile"))


def test_with_dask_builds_the_runner_for_an_address_or_a_local_cluster(warehouse):
    """No cluster started: the runner's configuration for each accepted form, and a clear error otherwise
    (``gex backfill --dask`` with a malformed address: a usage error before Prefect or Dask start)."""
    from typer.testing import CliRunner

    from gex_cli.main import app
    from pipelines.backfill import backfill, with_dask

    remote = with_dask(backfill, "tcp://10.0.0.5:8786").task_runner
    assert remote.address == "tcp://10.0.0.5:8786" and not remote.cluster_kwargs
    local = with_dask(backfill, "local:3").task_runner
    assert local.address is None and local.cluster_kwargs["n_workers"] == 3
    assert with_dask(backfill, "local").task_runner.cluster_kwargs["n_workers"] == 2
    for bad in ("local:x", "local:0", "10.0.0.5:8786", "http://10.0.0.5:8786", "tcp://", "tcp://host"):
        with pytest.raises(ValueError, match="dask"):
            with_dask(backfill, bad)
    out = CliRunner().invoke(app, ["backfill", "--start", "2025-01-02", "--end", "2025-01-06", "-w", str(warehouse),
                                   "--dask", "10.0.0.5:8786"])
    assert out.exit_code == 2 and "expected a Dask scheduler address such as tcp://host:8786" in out.output
    assert "Traceback" not in out.output
