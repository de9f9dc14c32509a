"""mart.hedge_advice from a computed warehouse: the configured templates, costs and risk aversion, the
session's ATM IV and realised vol, refreshed with the exports (gex_warehouse.advice)."""

from __future__ import annotations

import json

import pytest
from gex.advisor import advise
from gex.advisor.inputs import CostModel
from gex_warehouse import export as ex
from gex_warehouse.advice import hedge_settings, refresh_hedge_advice



@pytest.fixture
def con(published_con):
    return published_con


def test_settings_default_to_the_two_standard_templates_and_5_bp(con):
    s = hedge_settings(con)
    assert s.templates == ("long-atm-straddle-30d", "long-otm-calls")
    assert s.costs == CostModel(cost_bps=5.0) and s.risk_aversion == 0.01


def test_refresh_writes_one_row_per_enabled_template_from_the_session_inputs(con, tmp_path):
    keys = ex.rewrite_plan(con)
    assert len(keys) == 55  # every computed session of both underlyings is stale before the first export
    rows = refresh_hedge_advice(con, keys)
    assert rows == 2 * 55
    assert con.execute("SELECT count(*) FROM main.hedge_advice").fetchall() == [(110,)]
    # one row checked against the advisor called directly with the same inputs
    u, s = keys[-1]
    names = ["spot", "rate", "regime", "total_gex_usd_per_1pct", "flip_distance_pct", "gamma_flip"]
    values = con.execute(
        f"SELECT {', '.join('r.' + n for n in names)}, v.atm_iv_30d, v.rv_21d FROM mart.regime_daily r "
        "JOIN main.vol_context v USING (underlying, session) WHERE underlying = ? AND session = ?", [u, s]).fetchall()[0]
    row, iv, rv = dict(zip(names, values[:-2])), values[-2], values[-1]
    band, total, got_rv, got_regime, warnings = con.execute(
        "SELECT band_shares, pnl_total_usd_per_day, realized_vol, regime, warnings FROM main.hedge_advice "
        "WHERE underlying = ? AND session = ? AND template = 'long-atm-straddle-30d'", [u, s]).fetchall()[0]
    assert got_rv == pytest.approx(rv) and got_regime == row["regime"] and isinstance(json.loads(warnings), list)
    direct = advise(template="long-atm-straddle-30d", spot=row["spot"], iv=iv, realized_vol=rv, rate=row["rate"] or 0.0,
                    costs=CostModel(cost_bps=5.0), risk_aversion=0.01, regime_row=row)
    assert band == pytest.approx(direct.band_shares, rel=1e-12)
    assert total == pytest.approx(direct.to_dict()["expected_daily_pnl"]["total"], rel=1e-12)

    # configuration: another template on, a fee: the next refresh follows it
    con.execute("UPDATE core.hedge_templates SET enabled = true WHERE template = 'long-atm-calls-4'")
    con.execute("UPDATE core.settings SET value = 1.0 WHERE name = 'hedge_fee_usd_per_order'")
    assert refresh_hedge_advice(con, [(u, s)]) == 3
    fees, executions = zip(*con.execute("SELECT fee_usd_per_order, execution FROM mart.hedge_advice "
                                        "WHERE underlying = ? AND session = ?", [u, s]).fetchall())
    assert set(fees) == {1.0} and set(executions) == {"reset"}  # a fixed fee resets to the target
    assert con.execute("SELECT count(*) FROM mart.hedge_advice").fetchall() == [(111,)]


def test_exports_carry_the_advice(con, tmp_path):
    refresh_hedge_advice(con, ex.rewrite_plan(con))
    result = ex.export(con, tmp_path / "exports")
    assert "hedge_advice" in result.views
    import duckdb

    exported = duckdb.sql(f"SELECT count(*) FROM read_parquet('{tmp_path}/exports/hedge_advice/**/*.parquet', "
                          "hive_partitioning = true)").fetchall()
    assert exported == con.execute("SELECT count(*) FROM main.hedge_advice").fetchall()


def test_advice_spread_over_worker_processes_writes_the_same_rows(con, monkeypatch):
    """A large set goes through ``map_chunks`` (``gex publish``: ``gex_service.pool.chunk_mapper``, spawned
    worker processes) in chunks; the table it leaves equals the one computed in this process, row for row."""
    from gex_service.pool import chunk_mapper
    from gex_warehouse import advice
    from gex_warehouse.digest import table_digest

    keys = ex.rewrite_plan(con)
    assert refresh_hedge_advice(con, keys) == 110
    serial = table_digest(con, "mart.hedge_advice")
    con.execute("DELETE FROM mart.hedge_advice")
    monkeypatch.setattr(advice, "ADVICE_PARALLEL_MIN", 10)
    monkeypatch.setattr(advice, "ADVICE_CHUNK", 7)  # 55 sessions: 8 chunks, the last one short
    calls = []
    with chunk_mapper(2) as map_chunks:
        def counting(fn, chunks):
            calls.append(len(chunks))
            return map_chunks(fn, chunks)

        assert refresh_hedge_advice(con, keys, counting) == 110
    assert calls == [8]
    assert table_digest(con, "mart.hedge_advice") == serial
    monkeypatch.setattr(advice, "ADVICE_PARALLEL_MIN", 56)  # below the threshold: this process, no mapper call
    assert refresh_hedge_advice(con, keys, counting) == 110 and calls == [8]


def test_a_mapper_that_maps_nothing_starts_no_process():
    """``chunk_mapper`` makes its pool on the first call: a small publish (the advice in this process) starts
    no worker and not multiprocessing's resource tracker (which a pool's queues start: checked in a fresh
    interpreter, the tracker being one per process); a used pool's workers end with the block."""
    import multiprocessing
    import subprocess
    import sys

    from gex_service.pool import chunk_mapper

    probe = ("from multiprocessing import resource_tracker as rt\n"
             "from gex_service.pool import chunk_mapper\n"
             "with chunk_mapper(2):\n"
             "    print(rt._resource_tracker._pid)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "None", out.stdout + out.stderr
    before = {p.pid for p in multiprocessing.active_children()}
    with chunk_mapper(2) as map_chunks:
        assert map_chunks(abs, [-1, 2, -3]) == [1, 2, 3]
        assert len({p.pid for p in multiprocessing.active_children()} - before) >= 1
    assert {p.pid for p in multiprocessing.active_children()} == before  # shut down with the block


def _dies_in_a_worker(x: int) -> int:
    """``abs``, except that a worker process running it dies (as one killed out of memory)."""
    import multiprocessing
    import os

    if multiprocessing.parent_process() is not None:
        os._exit(9)
    return abs(x)


def test_a_dead_worker_leaves_the_chunks_to_this_process(caplog):
    """A worker that dies breaks the pool: ``chunk_mapper`` says so and computes the chunks here, the same
    results (a publish ends complete instead of failing on a dead helper); later calls stay here."""
    from gex_service.pool import chunk_mapper

    with chunk_mapper(2) as map_chunks:
        assert map_chunks(_dies_in_a_worker, [-1, 2, -3]) == [1, 2, 3]
        assert map_chunks(_dies_in_a_worker, [-4]) == [4]
    assert "a worker process died" in caplog.text
