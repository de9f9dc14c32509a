"""Risk preference conversions: target hedging-error std and implied risk aversion of a rule."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gex.advisor.inputs import DAYS_PER_YEAR, CostModel, Execution, Leg
from gex.advisor.position import position_greeks


def risk_aversion_for_std(target_std_usd_per_day: float, legs: Sequence[Leg], spot: float, iv: float | None,
                          realized_vol: float, costs: CostModel, rate: float = 0.0) -> float:
    """The CARA risk aversion (1/$) whose optimal band has hedge-error std ``target_std_usd_per_day``.

    Continuous monitoring: edge ``std^2 = S^2 sigma^2 H^2 / 3 / 365``, reset ``H^2/6`` instead; then invert the
    band formula for gamma_ra. Raises ValueError when gamma is 0 (any band has zero error).
    """
    if not (math.isfinite(target_std_usd_per_day) and target_std_usd_per_day > 0):
        raise ValueError(f"target std {target_std_usd_per_day} must be a positive number of $ per day")
    g = position_greeks(legs, spot, iv, rate).gamma_shares_per_usd
    if g == 0:
        raise ValueError("position gamma is 0: a target hedging-error std does not pin down a risk aversion")
    tau = min(leg.tau_years for leg in legs)
    lam = float(costs.proportional(spot))
    fee = costs.fee_usd_per_order
    var_year = target_std_usd_per_day**2 * DAYS_PER_YEAR
    if fee == 0:
        h = math.sqrt(3 * var_year) / (spot * realized_vol)
        if lam == 0:
            raise ValueError("with no trading cost the optimal band is 0 whatever the risk aversion")
        return 1.5 * math.exp(-rate * tau) * lam * spot * g * g / h**3
    h = math.sqrt(6 * var_year) / (spot * realized_vol)
    return 6 * (lam * spot * g * g * h + 2 * fee * g * g) / h**4 * math.exp(-rate * tau)


def implied_risk_aversion_band(half_width_shares: float, gamma: float, spot: float, costs: CostModel,
                               execution: Execution = "reset", tau: float = 0.0, rate: float = 0.0) -> float:
    """Risk aversion (1/$) for which a band of ``half_width_shares`` is optimal (inverse of the band formulas)."""
    h, lam, fee = half_width_shares, float(costs.proportional(spot)), costs.fee_usd_per_order
    disc = math.exp(-rate * tau)
    if execution == "edge":
        return 1.5 * disc * lam * spot * gamma**2 / h**3
    return 6 * disc * (lam * spot * gamma**2 * h + 2 * fee * gamma**2) / h**4


def implied_risk_aversion_clock(interval_years: float, gamma: float, spot: float, sigma: float,
                                costs: CostModel) -> float:
    """Risk aversion (1/$) for which a clock of ``interval_years`` is optimal (first-order condition)."""
    g = abs(gamma)
    c = float(costs.proportional(spot)) * spot * g * spot * sigma * math.sqrt(2 / math.pi)
    marginal = costs.fee_usd_per_order / interval_years**2 + 0.5 * c / interval_years**1.5
    return 4 * marginal / (g**2 * spot**4 * sigma**4)
