"""Rows of ``mart.hedge_advice``: the advice for standard positions at one session's market."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from gex.advisor.advice import advise
from gex.advisor.inputs import DEFAULT_COSTS, DEFAULT_RISK_AVERSION, DEFAULT_TEMPLATES, CostModel

HEDGE_ADVICE_SCHEMA: dict[str, pl.DataType] = {
    "session": pl.Date(),
    "underlying": pl.String(),
    "template": pl.String(),
    "spot": pl.Float64(),
    "atm_iv": pl.Float64(),
    "realized_vol": pl.Float64(),
    "realized_vol_assumed": pl.Boolean(),
    "rate": pl.Float64(),
    "regime": pl.String(),
    "total_gex_usd_per_1pct": pl.Float64(),
    "flip_distance_pct": pl.Float64(),
    "cost_bps": pl.Float64(),
    "spread_usd_per_share": pl.Float64(),
    "fee_usd_per_order": pl.Float64(),
    "min_order_shares": pl.Float64(),
    "risk_aversion_per_usd": pl.Float64(),
    "position_delta_shares": pl.Float64(),
    "position_gamma_shares_per_usd": pl.Float64(),
    "vega_usd_per_volpt": pl.Float64(),
    "theta_usd_per_day": pl.Float64(),
    "hedge_target_shares": pl.Float64(),
    "band_shares": pl.Float64(),
    "band_unadjusted_shares": pl.Float64(),
    "band_dollar_delta_usd": pl.Float64(),
    "execution": pl.String(),
    "clock_interval_minutes": pl.Float64(),
    "expected_trades_per_day": pl.Float64(),
    "pnl_gamma_usd_per_day": pl.Float64(),
    "pnl_theta_usd_per_day": pl.Float64(),
    "pnl_cost_usd_per_day": pl.Float64(),
    "hedging_error_std_usd_per_day": pl.Float64(),
    "pnl_total_usd_per_day": pl.Float64(),
    "breakeven_vol": pl.Float64(),
    "regime_factor": pl.Float64(),
    "regime_reason": pl.String(),
    "warnings": pl.String(),
}


def advice_rows(
    session: dt.date,
    underlying: str,
    regime_row: Mapping[str, Any] | None,
    atm_iv: float | None,
    realized_vol: float | None,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    costs: CostModel = DEFAULT_COSTS,
    risk_aversion: float = DEFAULT_RISK_AVERSION,
    rate: float | None = None,
) -> pl.DataFrame:
    """``mart.hedge_advice`` rows for one session: one per template, columns :data:`HEDGE_ADVICE_SCHEMA`.

    The spot is ``regime_row['spot']`` and the rate ``regime_row['rate']`` (0 when absent) unless given.
    Without an ATM IV no advice can be computed: the frame is empty (the caller logs why) rather than
    filled with made-up numbers. A missing realized vol is assumed equal to the ATM IV
    (``realized_vol_assumed``).
    """
    return pl.DataFrame(advice_records(session, underlying, regime_row, atm_iv, realized_vol, templates, costs,
                                       risk_aversion, rate), schema=HEDGE_ADVICE_SCHEMA)


def advice_records(
    session: dt.date,
    underlying: str,
    regime_row: Mapping[str, Any] | None,
    atm_iv: float | None,
    realized_vol: float | None,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    costs: CostModel = DEFAULT_COSTS,
    risk_aversion: float = DEFAULT_RISK_AVERSION,
    rate: float | None = None,
) -> list[dict[str, Any]]:
    """:func:`advice_rows` as plain records (one dict per template, keys :data:`HEDGE_ADVICE_SCHEMA`): what a
    caller building the rows of many sessions at once collects, to make one frame instead of one per session
    (~0.5 ms each). Same inputs and rules; none without an ATM IV."""
    if regime_row is None or regime_row.get("spot") is None:
        raise ValueError(f"{underlying} {session}: the regime row has no spot")
    spot = float(regime_row["spot"])
    if atm_iv is None or not math.isfinite(atm_iv):
        return []
    r = float(regime_row.get("rate") or 0.0) if rate is None else rate
    rows = []
    for name in templates:
        adv = advise(template=name, spot=spot, iv=atm_iv, realized_vol=realized_vol, rate=r, costs=costs,
                     risk_aversion=risk_aversion, regime_row=regime_row)
        rows.append({
            "session": session, "underlying": underlying, "template": name, "spot": spot, "atm_iv": atm_iv,
            "realized_vol": adv.realized_vol, "realized_vol_assumed": adv.realized_vol_assumed, "rate": r,
            "regime": regime_row.get("regime"), "total_gex_usd_per_1pct": regime_row.get("total_gex_usd_per_1pct"),
            "flip_distance_pct": regime_row.get("flip_distance_pct"), "cost_bps": costs.cost_bps,
            "spread_usd_per_share": costs.spread_usd_per_share, "fee_usd_per_order": costs.fee_usd_per_order,
            "min_order_shares": adv.min_order_shares, "risk_aversion_per_usd": adv.risk_aversion,
            "position_delta_shares": adv.greeks.delta_shares, "position_gamma_shares_per_usd": adv.greeks.gamma_shares_per_usd,
            "vega_usd_per_volpt": adv.greeks.vega_usd_per_volpt, "theta_usd_per_day": adv.greeks.theta_usd_per_day,
            "hedge_target_shares": adv.hedge_target_shares, "band_shares": adv.band_shares,
            "band_unadjusted_shares": adv.band_unadjusted_shares, "band_dollar_delta_usd": adv.band_dollar_delta_usd,
            "execution": adv.execution, "clock_interval_minutes": _finite(adv.clock_interval_minutes),
            "expected_trades_per_day": _finite(adv.expected_trades_per_day),
            "pnl_gamma_usd_per_day": adv.pnl_gamma_usd_per_day, "pnl_theta_usd_per_day": adv.pnl_theta_usd_per_day,
            "pnl_cost_usd_per_day": _finite(adv.pnl_cost_usd_per_day),
            "hedging_error_std_usd_per_day": adv.hedging_error_std_usd_per_day,
            "pnl_total_usd_per_day": _finite(adv.pnl_total_usd_per_day), "breakeven_vol": adv.breakeven_vol,
            "regime_factor": adv.regime_adjustment.factor, "regime_reason": adv.regime_adjustment.reason,
            "warnings": json.dumps(list(adv.warnings)),
        })
    return rows


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)
