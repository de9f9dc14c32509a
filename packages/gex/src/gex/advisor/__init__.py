"""Hedging-threshold advisor: how far to let an option position's delta drift before re-hedging.

Given an option position (legs or a named template), the market (spot, implied and realized vol, rate,
optionally the session's dealer-gamma regime), a cost model and a risk preference, :func:`advise`
returns an :class:`Advice`: the hedge target, the no-trade band around it (shares and dollar delta),
how to execute (trade to the band's edge, or reset to the target when a fixed fee dominates), the
equivalent clock interval, the expected daily P&L split, the break-even realized vol, the regime
adjustment (the dealer-gamma regime's sign, or a measured variance ratio of returns) and warnings. :class:`AdvisorStrategy` runs the same policy in the simulator
(``gex.hedging``); :func:`advice_rows` turns a session's inputs into ``mart.hedge_advice`` rows.

Model (docs/hedging-advisor.md has the derivations and the validation numbers)
-----------------------------------------------------------------------------
The hedge error ``x = hedge - target`` (shares) diffuses with variance rate ``a^2 = Gamma^2 S^2 sigma^2``
(shares^2 per year; ``Gamma`` the position gamma in shares per $). A band policy lets ``x`` move inside
``[-B, B]`` and, on reaching a barrier, trades back to ``+/-r`` (``r = B`` minus the minimum order for
trading to the edge, ``r = 0`` for a reset to the target). For Brownian ``x`` the renewal arguments give,
per year,

- trades ``a^2 / (B^2 - r^2)``, each of ``B - r`` shares,
- cost ``(F + lambda S (B - r)) a^2 / (B^2 - r^2)`` dollars,
- hedge-error variance ``S^2 sigma^2 (B^2 + r^2) / 6`` dollars^2 (``E[x^2] = (B^2 + r^2)/6``).

Minimising ``cost + gamma_ra/2 * variance`` gives Whalley-Wilmott for ``F = 0`` (edge:
``H = (3/(2 gamma_ra) e^{-r tau} lambda S Gamma^2)^(1/3)``) and the reset band
``gamma_ra H^4 / 6 - lambda S Gamma^2 H - 2 F Gamma^2 = 0`` when a fixed fee applies. Discrete
monitoring is corrected with the Broadie-Glasserman-Kou shift ``B + 0.5826 a sqrt(dt)``.

Units: shares of the underlying, dollars, years of calendar time (act/365); "per day" is per 1/365
year; clock minutes count :data:`MINUTES_PER_DAY` trading minutes per day of the option's life (the
simulator's convention: each day is one 390-minute session). Risk aversion is CARA in 1/$.
"""

from gex.advisor.advice import Advice, UserRuleAssessment, advise
from gex.advisor.bands import (
    BGK_SHIFT,
    GAMMA_FLOOR,
    BandRates,
    band_rates,
    clock_rates,
    fee_half_width,
    optimal_clock_interval,
    reset_half_width,
    ww_half_width,
)
from gex.advisor.forecast import Forecast, forecast
from gex.advisor.inputs import (
    DAYS_PER_YEAR,
    DEFAULT_COSTS,
    DEFAULT_RISK_AVERSION,
    DEFAULT_TEMPLATES,
    MINUTES_PER_DAY,
    TEMPLATES,
    CostModel,
    Execution,
    Leg,
    template_legs,
)
from gex.advisor.policy import AdvisorStrategy, BandPolicy
from gex.advisor.position import PositionGreeks, position_gamma, position_greeks
from gex.advisor.regime import (
    NEAR_FLIP_PCT,
    REGIME_TIGHTEN_BUDGET,
    REGIME_WIDEN_BUDGET,
    RegimeAdjustment,
    loss_ratio,
    regime_adjustment,
    variance_ratio_adjustment,
)
from gex.advisor.variance_ratio import (
    autocorrelation_cost,
    check_variance_ratio,
    estimate_variance_ratio,
    variance_ratio_half_width,
)
from gex.advisor.risk import implied_risk_aversion_band, implied_risk_aversion_clock, risk_aversion_for_std
from gex.advisor.rows import HEDGE_ADVICE_SCHEMA, advice_records, advice_rows

__all__ = [
    "BGK_SHIFT", "DAYS_PER_YEAR", "DEFAULT_COSTS", "DEFAULT_RISK_AVERSION", "DEFAULT_TEMPLATES", "GAMMA_FLOOR",
    "HEDGE_ADVICE_SCHEMA", "MINUTES_PER_DAY", "NEAR_FLIP_PCT", "REGIME_TIGHTEN_BUDGET", "REGIME_WIDEN_BUDGET",
    "TEMPLATES", "Advice", "AdvisorStrategy", "BandPolicy", "BandRates", "CostModel", "Execution", "Forecast", "Leg",
    "PositionGreeks", "RegimeAdjustment", "UserRuleAssessment", "advice_records", "advice_rows", "advise", "band_rates", "clock_rates",
    "fee_half_width", "forecast", "implied_risk_aversion_band", "implied_risk_aversion_clock", "loss_ratio",
    "optimal_clock_interval", "position_gamma", "position_greeks", "regime_adjustment", "reset_half_width",
    "risk_aversion_for_std", "template_legs", "ww_half_width",
    "autocorrelation_cost", "check_variance_ratio", "estimate_variance_ratio", "variance_ratio_adjustment",
    "variance_ratio_half_width",
]
