"""Delta-hedging theory and a Monte-Carlo hedging simulator (pure: numpy, numba, scipy, polars).

Modules
-------
``theory``      closed forms: expected hedged P&L (Ahmad-Wilmott), Derman-Kamal error, Whalley-Wilmott,
                fee and combined bands, optimal clocks, Leland, and the cost / variance rates of bands
                and clocks (what the advisor uses to predict cost and P&L std)
``paths``       seeded GBM, AR(1) regime, level-pinning and historical block-bootstrap paths (:class:`Paths`)
``position``    :class:`OptionLeg`, :class:`Position` (European legs, Black-Scholes at zero rates)
``costs``       :class:`Costs` (bps, per-share spread/slippage, fee per order, min order, daily cap)
``strategies``  :class:`HedgeState`, the :class:`Strategy` protocol and the built-in rules
``simulate``    :func:`simulate` -> :class:`SimulationResult` (P&L attribution, CE, CVaR per rule)
``metrics``     certainty equivalents and CVaR of a P&L sample

Example
-------
>>> import numpy as np
>>> from gex.hedging import (Clock, Costs, OptionLeg, Position, WhalleyWilmott, gbm_paths, simulate,
...                          theory)
>>> paths = gbm_paths(200, 5, steps_per_day=78, sigma=0.2, seed=7)        # 200 paths, 5 days of 5 min
>>> pos = Position([OptionLeg(strike=100.0, expiry_years=5 / 365, right="C", quantity=4)])
>>> class MyBand:                                   # any object with .name and .rebalance(state)
...     name = "my 10-share band"
...     def rebalance(self, state):
...         return np.clip(state.hedge, state.target - 10.0, state.target + 10.0)
>>> res = simulate(paths, pos, [Clock(78), WhalleyWilmott(0.0005, 0.01), MyBand()],
...                Costs(proportional_bps=5.0), hedge_vol=0.2, risk_aversion=0.01)
>>> res.summary().columns[:6]
['strategy', 'mean', 'std', 'ce_exp', 'ce_mv', 'cvar']
>>> b = res["my 10-share band"]
>>> bool(np.allclose(b.gamma + b.theta + b.vega + b.hedging_error + b.cost_pnl + b.residual, b.total))
True
>>> round(theory.whalley_wilmott_halfwidth(27.82, 100.0, 0.0005, 0.01), 1)      # shares
18.0
"""

from gex.hedging import theory
from gex.hedging.costs import Costs
from gex.hedging.metrics import ce_exponential, ce_mean_variance, cvar
from gex.hedging.paths import (
    Paths,
    ar1_variance_ratio,
    bootstrap_paths,
    gbm_paths,
    pinning_paths,
    pinning_variance_ratio,
    regime_paths,
)
from gex.hedging.position import OptionLeg, Position, PositionGreeks
from gex.hedging.simulate import PnLBreakdown, SimulationResult, simulate
from gex.hedging.strategies import (
    Clock,
    FeeBand,
    FixedBand,
    HedgeState,
    Hybrid,
    LelandClock,
    NotionalThreshold,
    Strategy,
    WhalleyWilmott,
)

__all__ = [
    "Clock",
    "Costs",
    "FeeBand",
    "FixedBand",
    "HedgeState",
    "Hybrid",
    "LelandClock",
    "NotionalThreshold",
    "OptionLeg",
    "Paths",
    "PnLBreakdown",
    "Position",
    "PositionGreeks",
    "SimulationResult",
    "Strategy",
    "WhalleyWilmott",
    "ar1_variance_ratio",
    "bootstrap_paths",
    "ce_exponential",
    "ce_mean_variance",
    "cvar",
    "gbm_paths",
    "pinning_paths",
    "pinning_variance_ratio",
    "regime_paths",
    "simulate",
    "theory",
]
