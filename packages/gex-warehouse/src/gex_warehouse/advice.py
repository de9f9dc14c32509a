"""Hedging advice per session: ``mart.hedge_advice`` from the session's regime, ATM IV and realised vol.

For every enabled template of ``core.hedge_templates`` and the cost model and risk aversion of
``core.settings`` (``hedge_*`` rows), :func:`gex.advisor.advice_records` (pure) gives the advisor's band,
clock, expected daily P&L and regime adjustment at the session's spot, 30-day ATM implied vol and 21-session
realised vol (``main.vol_context``). The publish flow refreshes the sessions it exports, so the advice and
the exports move together. Units: see ``sql/mart/0130_hedge_advice.sql``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import polars as pl
from gex.advisor import HEDGE_ADVICE_SCHEMA, advice_records
from gex.advisor.inputs import CostModel

from gex_warehouse.compute import DAILY_REGIME


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


def refresh_hedge_advice(con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[str, dt.date]]) -> int:
    """Recompute ``mart.hedge_advice`` for the computed (underlying, session) ``keys`` in one transaction;
    returns the rows written. A session without an ATM IV gets no rows (the advisor needs a vol)."""
    wanted = sorted(set(keys))
    settings = hedge_settings(con)
    records: list[dict[str, object]] = []
    for row in _inputs(con, wanted).iter_rows(named=True):
        for record in advice_records(
            row["session"], row["underlying"], row, row["atm_iv_30d"], row["rv_21d"],
            templates=settings.templates, costs=settings.costs, risk_aversion=settings.risk_aversion,
        ):
            record["preset"] = row["preset"]
            records.append(record)
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
        con.execute("ROLLBACK")
        raise
    return advice.height
