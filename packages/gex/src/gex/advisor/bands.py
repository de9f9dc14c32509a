"""Optimal no-trade bands and clocks, and the renewal rates (trades, cost, variance) of band rules."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gex.hedging import theory

BGK_SHIFT = 0.5826
"""Broadie-Glasserman-Kou continuity correction, ``-zeta(1/2)/sqrt(2 pi)``: discrete monitoring of a
barrier every ``dt`` behaves like a continuous barrier moved out by ``0.5826 a sqrt(dt)``."""
GAMMA_FLOOR = 1e-100
"""Position gammas below this (shares per $) are treated as 0 by the rate formulas (no trades, no cost)."""


def ww_half_width(gamma, spot, cost_frac, risk_aversion, tau_years=0.0, rate=0.0):
    """Whalley-Wilmott half-width ``(3/(2 gamma_ra) e^{-r tau} lambda S Gamma^2)^(1/3)``, shares
    (:func:`gex.hedging.theory.whalley_wilmott_halfwidth`, in the advisor's argument order).

    ``gamma`` in shares per $, ``cost_frac`` = lambda (fraction of notional), ``risk_aversion`` in 1/$.
    """
    return theory.whalley_wilmott_halfwidth(gamma, spot, cost_frac, risk_aversion, rate=rate, tau=tau_years)


def fee_half_width(gamma, fee_usd, risk_aversion):
    """Fixed-fee reset half-width ``(12 F Gamma^2 / gamma_ra)^(1/4)``, shares
    (:func:`gex.hedging.theory.fee_band_halfwidth`)."""
    return theory.fee_band_halfwidth(gamma, fee_usd, risk_aversion)


def reset_half_width(gamma, spot, cost_frac, fee_usd, risk_aversion, tau_years=0.0, rate=0.0):
    """Reset band for both costs: the positive root of ``ga H^4/6 - lambda S Gamma^2 H - 2 F Gamma^2``, shares.

    ``ga = gamma_ra e^{r tau}`` (the same discounting as Whalley-Wilmott). Newton from an upper bound: the
    quartic is convex for H > 0 with one positive root (Descartes), so the iterates decrease monotonically.
    Kept beside :func:`gex.hedging.theory.combined_band_halfwidth` (same root, checked in the tests) because the
    advisor also solves it with the discounting and with a *negative* effective cost (the variance-ratio model's
    mean reversion, :mod:`gex.advisor.variance_ratio`), which the theory function rejects as a cost.
    """
    g2 = np.asarray(gamma, dtype=float) ** 2
    ga = risk_aversion * np.exp(rate * np.asarray(tau_years, dtype=float))
    a = cost_frac * spot * g2
    b = 2.0 * fee_usd * g2
    # at this start ga h^4/6 >= max(2b, 2a h) >= a h + b, so f(h0) >= 0
    h = np.asarray(np.maximum((12.0 * b / ga) ** 0.25, np.cbrt(12.0 * a / ga)), dtype=float)
    for _ in range(60):
        f = ga * h**4 / 6.0 - a * h - b
        fp = 2.0 * ga * h**3 / 3.0 - a
        step = np.where(fp > 0, f / np.where(fp > 0, fp, 1.0), 0.0)
        h = h - step
        if np.all(np.abs(step) <= 1e-13 * np.maximum(h, 1e-300)):
            break
    return h


@dataclass(frozen=True)
class BandRates:
    """Per-year rates of a band policy (outer barrier ``B``, restart ``r``): see the module docstring."""

    trades_per_year: float
    cost_usd_per_year: float
    variance_usd2_per_year: float

    def ce_loss_per_year(self, risk_aversion: float) -> float:
        """Mean-variance certainty-equivalent loss, $ per year."""
        return self.cost_usd_per_year + 0.5 * risk_aversion * self.variance_usd2_per_year


def band_rates(outer, restart, gamma, spot, sigma, cost_frac, fee_usd, monitor_years=0.0):
    """Trades, cost and hedge-error variance per year of the band policy ``(outer, restart)`` (shares).

    Discrete monitoring every ``monitor_years`` moves the barrier out by ``BGK_SHIFT a sqrt(dt)`` (the
    restart point stays). Adds the discrete-monitoring gamma variance ``1/2 Gamma^2 S^4 sigma^4 dt``.
    Returns arrays (trades, cost, variance); trades are 0 when gamma is 0.
    """
    g = np.abs(np.asarray(gamma, dtype=float))
    g = np.where(g < GAMMA_FLOOR, 0.0, g)  # squares of smaller gammas underflow unevenly: economically zero
    a2 = (g * spot * sigma) ** 2
    shift = BGK_SHIFT * np.sqrt(a2 * monitor_years)
    outer = np.asarray(outer, dtype=float)
    # trade size d = B - r formed without cancellation (B and r may be huge next to the monitoring shift)
    d = (outer - np.minimum(np.asarray(restart, dtype=float), outer)) + shift
    b = outer + shift
    r = b - d
    # scale-free (a tiny gamma must not underflow B^2 - r^2 to 0): trades = (a/B)^2 / ((d/B) (2 - d/B))
    moving = a2 > 0
    safe_b = np.where(b > 0, b, 1.0)
    gap = d / safe_b
    renewal = (b > 0) & (gap > 0)
    safe_gap = np.where(renewal, gap, 1.0)
    trades = np.where(moving, np.where(renewal, (np.sqrt(a2) / safe_b) ** 2 / (safe_gap * (2.0 - safe_gap)), np.inf), 0.0)
    per_trade = fee_usd + cost_frac * spot * d
    # r = B (edge, no minimum order, continuous monitoring): infinitely many infinitesimal trades of
    # total volume a^2/(2B) per year -- finite cost without a fee, infinite with one
    edge_limit = np.where(fee_usd > 0, np.inf, cost_frac * spot * a2 / np.where(b > 0, 2 * b, 1.0))
    with np.errstate(invalid="ignore"):  # inf * 0 in the branch np.where discards
        cost = np.where(moving, np.where(renewal, trades * per_trade, edge_limit), 0.0)
    var = spot**2 * sigma**2 * (b * b + r * r) / 6.0 + 0.5 * g**2 * spot**4 * sigma**4 * monitor_years
    return trades, cost, var


def band_rates_scalar(outer: float, restart: float, gamma: float, spot: float, sigma: float, cost_frac: float,
                      fee_usd: float, monitor_years: float = 0.0) -> tuple[float, float, float]:
    """:func:`band_rates` of one policy at one point, in plain Python floats: the same operations in the same
    order, so the same numbers bit for bit (checked in the tests), ~10x faster. Why: the advisor's bisections
    (regime factor, break-even vol) evaluate it a few hundred times per position, and numpy's per-call cost on
    scalars made the advice of a whole-market session take minutes. Non-finite inputs go to :func:`band_rates`.
    """
    isfinite = math.isfinite  # spelled out, not all(...) over a generator: this runs ~300 times per position
    if not (isfinite(outer) and isfinite(restart) and isfinite(gamma) and isfinite(spot) and isfinite(sigma)
            and isfinite(cost_frac) and isfinite(fee_usd) and isfinite(monitor_years)):
        t, c, v = band_rates(outer, restart, gamma, spot, sigma, cost_frac, fee_usd, monitor_years)
        return float(t), float(c), float(v)
    g = abs(gamma)
    if g < GAMMA_FLOOR:
        g = 0.0
    a = g * spot * sigma
    a2 = a * a  # numpy's x ** 2 on an array is x * x
    shift = BGK_SHIFT * math.sqrt(a2 * monitor_years)
    d = (outer - min(restart, outer)) + shift
    b = outer + shift
    r = b - d
    moving = a2 > 0
    safe_b = b if b > 0 else 1.0
    gap = d / safe_b
    renewal = b > 0 and gap > 0
    safe_gap = gap if renewal else 1.0
    if not moving:
        trades = cost = 0.0
    elif renewal:
        q = math.sqrt(a2) / safe_b
        trades = q * q / (safe_gap * (2.0 - safe_gap))
        cost = trades * (fee_usd + cost_frac * spot * d)
    else:
        trades = math.inf
        cost = math.inf if fee_usd > 0 else cost_frac * spot * a2 / (2 * b if b > 0 else 1.0)
    var = spot**2 * sigma**2 * (b * b + r * r) / 6.0 + 0.5 * (g * g) * spot**4 * sigma**4 * monitor_years
    return trades, cost, var


def clock_rates(interval_years, gamma, spot, sigma, cost_frac, fee_usd):
    """Cost and variance per year of hedging to the target every ``interval_years``.

    Cost: ``(F + lambda S |Gamma| S sigma sqrt(dt) sqrt(2/pi)) / dt``; variance ``1/2 Gamma^2 S^4 sigma^4 dt``.
    """
    dt_ = np.asarray(interval_years, dtype=float)
    g = np.abs(np.asarray(gamma, dtype=float))
    cost = (fee_usd + cost_frac * spot * g * spot * sigma * np.sqrt(dt_) * math.sqrt(2 / math.pi)) / dt_
    var = 0.5 * g**2 * spot**4 * sigma**4 * dt_
    return cost, var


def optimal_clock_interval(gamma, spot, sigma, cost_frac, fee_usd, risk_aversion) -> float:
    """Clock interval (years) minimising ``cost + gamma_ra/2 var`` of :func:`clock_rates`.

    Closed forms: proportional ``(2 sqrt(2/pi) lambda / (gamma_ra |Gamma| S^2 sigma^3))^(2/3)``, fixed fee
    ``2 sqrt(F/gamma_ra) / (|Gamma| S^2 sigma^2)``; both costs solve ``F/dt^2 + c/(2 dt^1.5) = k`` by bisection
    in log dt. ``inf`` when gamma is 0.
    """
    g = abs(float(gamma))
    if g == 0 or sigma == 0:
        return math.inf
    c = cost_frac * spot * g * spot * sigma * math.sqrt(2 / math.pi)
    k = 0.25 * risk_aversion * g**2 * spot**4 * sigma**4  # d(var term)/d dt
    if k == 0:  # gamma so small that its square underflows: never worth a trade
        return math.inf
    if fee_usd == 0:
        return (c / (2 * k)) ** (2 / 3) if c > 0 else 0.0
    if c == 0:
        return math.sqrt(fee_usd / k)
    lo, hi = -40.0, 10.0  # log dt; marginal cost - k is decreasing in dt
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        d = math.exp(mid)
        if fee_usd / d**2 + 0.5 * c / d**1.5 > k:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))
