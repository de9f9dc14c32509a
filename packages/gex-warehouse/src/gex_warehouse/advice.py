"""Hedging advice per session: ``mart.hedge_advice`` from the session's regime, ATM IV and realised vol.

For every enabled template of ``core.hedge_templates`` and the cost model and risk aversion of
``core.settings`` (``hedge_*`` rows), :func:`gex.advisor.advice_records` (pure) gives the advisor's band,
clock, expected daily P&L and regime adjustment at the session's spot, 30-day ATM implied vol and 21-session
realised vol (``main.vol_context``). The publish flow refreshes the sessions it exports, so the advice and
the exports move together. Units: see ``sql/mart/0130_hedge_advice.sql``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
from gex.advisor import HEDGE_ADVICE_SCHEMA, advice_records
from gex.advisor.inputs import CostModel

from gex_warehouse.compute import DAILY_REGIME
from gex_warehouse.connect import rollback


@dataclass(frozen=True)
class HedgeSettings:
    """What the published advice is computed for: templates, cost model and risk aversion (1/$)."""

    templates: tuple[str, ...]
    costs: CostModel
    risk_aversion: float


def hedge_settings(con: duckdb.DuckDBPyConnection) -> HedgeSettings:
    """The enabled templates and the ``hedge_*`` settings of the warehouse."""
    templates = tuple(r[0] for r in con.execute(
        "SELECT template FROM core.hedge_templates WHERE enabled ORDER BY template").fetchall())
    values = dict(con.execute("SELECT name, value FROM core.settings WHERE name LIKE 'hedge\\_%' ESCAPE '\\'").fetchall())
    costs = CostModel(
        cost_bps=float(values.get("hedge_cost_bps", 5.0)),
        spread_usd_per_share=float(values.get("hedge_spread_usd_per_share", 0.0)),
        fee_usd_per_order=float(values.get("hedge_fee_usd_per_order", 0.0)),
        min_order_shares=float(values.get("hedge_min_order_shares", 0.0)),
    )
    return HedgeSettings(templates, costs, float(values.get("hedge_risk_aversion_per_usd", 0.01)))


def _inputs(con: duckdb.DuckDBPyConnection, keys: list[tuple[str, dt.date]]) -> pl.DataFrame:
    """Regime rows (every preset) and realized vol of ``keys`` (one row per computed key and preset), from the
    marts and core (never the published views: data flows one way)."""
    if not keys:
        return pl.DataFrame()
    frame = pl.from_arrow(con.sql(
        f"""
        WITH k AS (SELECT unnest($us) AS underlying, unnest($ss) AS session)
        SELECT r.underlying, r.session, r.preset, r.spot, r.rate, r.regime, r.total_gex_usd_per_1pct,
               r.flip_distance_pct, r.gamma_flip, r.atm_iv_30d, v.rv_21d
        FROM k
        JOIN {DAILY_REGIME} AS r USING (underlying, session)
        LEFT JOIN core.realized_vol AS v USING (underlying, session)
        ORDER BY r.underlying, r.session, r.preset
        """,
        params={"us": [u for u, _ in keys], "ss": [s for _, s in keys]},
    ).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


#: Sessions per chunk when the advice is spread over worker processes (~1-1.5 ms per template and session: a
#: chunk is ~0.5 s with the two default templates, so Ctrl-C, which lets running chunks finish, stops quickly).
ADVICE_CHUNK = 200
#: Below this many sessions the advice is computed in this process: starting the workers costs ~2.5-3 s (each
#: imports the advisor and loads its compiled kernels), so on 2 cores the pool breaks even at ~2,500 sessions
#: (measured 2026-12-07 with the advisor's scalar fast paths, the whole refresh: 1,000 sessions 3.8-4.1 s here
#: against 4.9-5.8 s in the pool; 2,500: 6.7-7.9 against 6.5-7.5 s; 5,000: 13.2-16.3 against 9.3-9.9 s).
ADVICE_PARALLEL_MIN = 2500

#: ``map_chunks(fn, chunks)`` -> ``[fn(chunk) for chunk in chunks]`` in order, perhaps in other processes
#: (``gex_service.pool.chunk_mapper``).
ChunkMap = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]


def _records(args: tuple[list[dict[str, Any]], HedgeSettings]) -> list[dict[str, object]]:
    """The ``mart.hedge_advice`` records of input rows (:func:`_inputs`' rows), in row and template order;
    pure (runs in a worker process when the set is large)."""
    rows, settings = args
    records: list[dict[str, object]] = []
    for row in rows:
        for record in advice_records(
            row["session"], row["underlying"], row, row["atm_iv_30d"], row["rv_21d"],
            templates=settings.templates, costs=settings.costs, risk_aversion=settings.risk_aversion,
        ):
            record["preset"] = row["preset"]
            records.append(record)
    return records


def refresh_hedge_advice(con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[str, dt.date]],
                         map_chunks: ChunkMap | None = None) -> int:
    """Recompute ``mart.hedge_advice`` for the computed (underlying, session) ``keys`` in one transaction;
    returns the rows written. A session without an ATM IV gets no rows (the advisor needs a vol).

    With ``map_chunks`` and at least :data:`ADVICE_PARALLEL_MIN` input rows (sessions x presets), the advice is computed in chunks
    of :data:`ADVICE_CHUNK` through it (worker processes: a whole-market night is ~10,000 advice rows, ~15 s in
    one process); the rows written are the same, in the same order."""
    wanted = sorted(set(keys))
    settings = hedge_settings(con)
    rows = list(_inputs(con, wanted).iter_rows(named=True))
    if map_chunks is not None and len(rows) >= ADVICE_PARALLEL_MIN:
        chunks = [(rows[i:i + ADVICE_CHUNK], settings) for i in range(0, len(rows), ADVICE_CHUNK)]
        records = [r for part in map_chunks(_records, chunks) for r in part]
    else:
        records = _records((rows, settings))
    # one frame and one DELETE for the whole set (a whole-market night refreshes thousands of sessions: one
    # frame and one DELETE per session cost ~2 ms each)
    advice = pl.DataFrame(records, schema={**HEDGE_ADVICE_SCHEMA, "preset": pl.String})
    doomed = pl.DataFrame(wanted, schema={"underlying": pl.String, "session": pl.Date}, orient="row")
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_hedge_advice_keys", doomed)
        try:
            con.execute("DELETE FROM mart.hedge_advice AS a USING _hedge_advice_keys AS k "
                        "WHERE a.underlying = k.underlying AND a.session = k.session")
        finally:
            con.unregister("_hedge_advice_keys")
        if advice.height:
            columns = con.table("mart.hedge_advice").columns
            con.from_arrow(advice.select(columns).rechunk().to_arrow()).insert_into("mart.hedge_advice")
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return advice.height
