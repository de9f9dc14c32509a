"""The advisor's band rule, evaluable at any greeks, and its ``gex.hedging`` Strategy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gex.advisor.bands import band_rates, reset_half_width, ww_half_width
from gex.advisor.inputs import CostModel, Execution


@dataclass(frozen=True)
class BandPolicy:
    """The advisor's rule, evaluable at any (gamma, spot, time left): band = factor x optimal band.

    ``execution='edge'``: when the hedge leaves ``target +/- H``, trade to the nearest edge (orders smaller
    than ``min_order_shares`` are skipped). ``'reset'``: trade all the way to the target.
    """

    execution: Execution
    risk_aversion: float
    costs: CostModel
    rate: float = 0.0
    factor: float = 1.0

    def optimal_half_width(self, gamma, spot, tau_years):
        """Unadjusted optimal half-width, shares (array like ``gamma``)."""
        lam = self.costs.proportional(spot)
        if self.execution == "edge":
            return ww_half_width(gamma, spot, lam, self.risk_aversion, tau_years, self.rate)
        return reset_half_width(gamma, spot, lam, self.costs.fee_usd_per_order, self.risk_aversion, tau_years, self.rate)

    def half_width(self, gamma, spot, tau_years):
        """Half-width actually used (with the regime factor), shares."""
        return self.factor * self.optimal_half_width(gamma, spot, tau_years)

    def restart(self, half_width):
        """Where a trade leaves the hedge error (shares from the target)."""
        return np.asarray(half_width, dtype=float) if self.execution == "edge" else np.zeros_like(np.asarray(half_width, dtype=float))

    def outer(self, half_width):
        """Trigger distance (shares): the band plus the minimum order for edge execution."""
        h = np.asarray(half_width, dtype=float)
        return h + self.costs.min_order_shares if self.execution == "edge" else np.maximum(h, self.costs.min_order_shares)

    def rates(self, gamma, spot, sigma, tau_years):
        """(trades, cost $, variance $^2) per year at these greeks, see :func:`band_rates`."""
        h = self.half_width(gamma, spot, tau_years)
        return band_rates(self.outer(h), self.restart(h), gamma, spot, sigma, self.costs.proportional(spot),
                          self.costs.fee_usd_per_order, self.costs.monitor_years)


class AdvisorStrategy:
    """The advisor's band policy as a ``gex.hedging`` Strategy (duck-typed: needs only ``rebalance``).

    Each step recomputes the band from the current position gamma, spot and time left (per path), applies
    the regime or variance-ratio factor, and trades to the edge (or resets), honouring the minimum order and the
    daily cap.
    """

    def __init__(self, policy: BandPolicy, name: str = "advisor") -> None:
        self.policy = policy
        self.name = name
        self._fast = self._equivalent_builtin()

    def _equivalent_builtin(self) -> Any:
        """The simulator's compiled rule with exactly this band, or None (then ``rebalance`` runs per step).

        A factor ``f`` on the Whalley-Wilmott band is WW at risk aversion ``gamma_ra / f^3``; on the reset
        band it is the quartic with ``lambda f^3`` and ``F f^4`` (both sides scale by ``f^4``). Only without
        per-share spread (the compiled rules take lambda S) and at zero rate (they do not discount).
        """
        p = self.policy
        if p.rate != 0 or p.costs.spread_usd_per_share != 0:
            return None
        from gex.hedging.strategies import FeeBand, WhalleyWilmott

        lam, f = p.costs.cost_bps * 1e-4, p.factor
        if p.execution == "edge":
            return WhalleyWilmott(lam, p.risk_aversion / f**3, name=self.name)
        return FeeBand(p.costs.fee_usd_per_order * f**4, p.risk_aversion, lam * f**3, name=self.name)

    def __getattr__(self, attr: str) -> Any:
        # the simulator runs rules exposing kernel_spec/target_vol in its compiled loop; the minimum order
        # and the daily cap are then applied by the simulator's Costs (pass the same limits)
        if attr in ("kernel_spec", "target_vol"):
            fast = self.__dict__.get("_fast")
            if fast is not None:
                return getattr(fast, attr)
        raise AttributeError(attr)

    def rebalance(self, state: Any) -> np.ndarray:
        """Desired hedge (shares, per path) given a ``gex.hedging.strategies.HedgeState``."""
        hedge = np.asarray(state.hedge, dtype=float)
        target = np.asarray(state.target, dtype=float)
        spot = np.asarray(state.spot, dtype=float)
        h = self.policy.half_width(state.gamma, spot, max(float(state.tau_years), 0.0))
        x = hedge - target
        if self.policy.execution == "edge":
            desired = target + np.clip(x, -h, h)
            trade = np.abs(desired - hedge)
            keep = trade < max(self.policy.costs.min_order_shares, 1e-12)
        else:
            desired = target.copy()
            # |x| <= 1e-12 shares: a gamma so small that the band underflowed to 0 must not pay a fee for nothing
            keep = np.abs(x) <= np.maximum(np.maximum(h, self.policy.costs.min_order_shares), 1e-12)
        cap = self.policy.costs.max_trades_per_day
        if cap is not None:
            keep |= np.asarray(state.trades_today) >= cap
        return np.where(keep, hedge, desired)
