"""Closed-form delta-hedging theory: expected P&L, optimal bands and clocks, and their cost/risk rates.

Notation and units (used by every function here)
------------------------------------------------
gamma
    Gamma of the **whole position**, shares per currency unit (e.g. 4 ATM contracts of 100 shares with a
    per-share gamma of 0.06955 per $ give 27.82 sh/$). The sign is irrelevant for widths and rates (only
    ``|gamma|`` matters); ``gamma = 0`` is allowed everywhere and never produces NaN.
spot
    Underlying price, currency per share.
sigma
    Volatility, decimal per year (0.20 = 20%).
cost_rate
    One-way proportional cost ``lambda`` as a decimal of traded notional (5 bp = 0.0005): trading ``v``
    shares costs ``lambda * spot * |v|``.
fee
    Fixed fee per order, currency.
risk_aversion
    CARA coefficient ``gamma_ra`` in 1/currency (``U(W) = -exp(-gamma_ra W)``), > 0.
halfwidth
    No-trade band half-width around the Black-Scholes hedge, shares.
interval_years, dt_years
    Rebalancing interval of a clock rule, years.

Every function broadcasts like a numpy ufunc and returns a float for all-scalar input, else an ndarray.
Parameters that are configuration (cost rates, fees, risk aversion, volatility, spot) are validated and
an invalid value raises ``ValueError`` with a one-line message; gamma may be any finite number.

The mis-hedge model behind the rates
------------------------------------
Let ``x = hedge - target`` be the mis-hedge in shares. Between trades the target moves by
``Gamma dS``, so ``x`` is a Brownian motion with variance rate ``v = (Gamma S sigma)^2`` shares^2/year,
and the mis-hedge P&L ``x dS`` adds variance at rate ``S^2 sigma^2 x^2`` currency^2/year.

* Trade to the edge of ``[-H, H]``: ``x`` is reflected Brownian motion, uniform on the band:
  ``E[x^2] = H^2/3``; the shares traded per year are ``v / (2H)`` (the local time at both edges).
* Reset to the target when ``|x| = H``: the mean exit time of ``[-H, H]`` from 0 is ``H^2/v``, so
  ``v / H^2`` orders per year of ``H`` shares; the occupation density is the tent ``(H-|x|)/H^2``:
  ``E[x^2] = H^2/6``.
* Clock every ``h`` years: each order trades ``|Gamma dS|`` with ``E|dS| = sqrt(2/pi) S sigma sqrt(h)``;
  within an interval ``E[x^2] = v h / 2``, i.e. a P&L variance rate ``Gamma^2 S^4 sigma^4 h / 2``
  (the Derman-Kamal discrete-hedging error).

The certainty-equivalent (CE) loss rate of a rule is ``cost rate + gamma_ra/2 * variance rate``.
Minimising it gives Whalley-Wilmott (edge), the fee band and the combined band (reset) and the optimal
clocks below; at each optimum the ratios in the docs hold exactly (e.g. WW: trading cost = 2/3 of the
CE loss; best clock / best band = (12/pi)^(1/3) = 1.563 with proportional costs, sqrt(3) with a fee).
These are local (per-unit-time) results at the current gamma: integrate them along the position's life
for a horizon figure (the rates are additive over time).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gex.greeks import bs_price

__all__ = [
    "SQRT_2_OVER_PI",
    "band_ce_loss_rate",
    "band_cost_rate",
    "band_mishedge_variance",
    "band_order_rate",
    "band_pnl_variance_rate",
    "clock_ce_loss_rate",
    "clock_cost_rate",
    "clock_pnl_variance_rate",
    "combined_band_halfwidth",
    "derman_kamal_std",
    "expected_hedged_pnl",
    "fee_band_halfwidth",
    "leland_correction",
    "leland_vol",
    "optimal_clock_interval_fee",
    "optimal_clock_interval_proportional",
    "whalley_wilmott_halfwidth",
]

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

FloatOrArray = Any


def _out(x: np.ndarray) -> FloatOrArray:
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def _arr(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _holds(mask: np.ndarray) -> bool:
    """``mask.all()``; a 0-d mask (a scalar: the advisor's case, ~20 checks a call) read without numpy's reduction."""
    return bool(mask) if mask.ndim == 0 else bool(mask.all())


def _check(name: str, x: Any, *, positive: bool = False, nonnegative: bool = False) -> np.ndarray:
    a = _arr(x)
    if not _holds(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if positive and not _holds(a > 0):  # every value finite here: not > 0 is <= 0
        raise ValueError(f"{name} must be > 0, got {x!r}")
    if nonnegative and not _holds(a >= 0):
        raise ValueError(f"{name} must be >= 0, got {x!r}")
    return a


def _gamma_abs(gamma: Any) -> np.ndarray:
    return np.abs(_check("gamma", gamma))


# --------------------------------------------------------------------------------------------------
# Expected P&L and discrete-hedging error
# --------------------------------------------------------------------------------------------------


def expected_hedged_pnl(
    spot,
    strike,
    tau_years,
    sigma_implied,
    sigma_realized,
    is_call=True,
    quantity=1.0,
    multiplier=1.0,
    rate=0.0,
    dividend_yield=0.0,
) -> FloatOrArray:
    """Expected P&L of delta hedging at the implied vol when the realised vol differs (Ahmad-Wilmott).

    ``E[P&L] = N * m * (C(sigma_realized) - C(sigma_implied))`` for zero drift, whatever the (non-
    anticipating) rebalancing rule, before costs: the option is bought at ``sigma_implied`` and the hedged
    position earns, in expectation, the option's value at the vol that is realised.

    Parameters
    ----------
    spot, strike : array_like
        Currency per share.
    tau_years : array_like
        Time to expiry, years.
    sigma_implied, sigma_realized : array_like
        Hedging (implied) and realised volatility, decimal per year.
    is_call : bool or array_like
        Call (True) or put (False); see :func:`gex.greeks.bs_price`.
    quantity : array_like, default 1
        Signed number of options ``N`` (long > 0).
    multiplier : array_like, default 1
        Shares per option (100 for listed equity options); the default gives a per-share figure.
    rate, dividend_yield : array_like, default 0
        Continuously compounded annual decimals (the result is in time-0 currency).

    Returns
    -------
    float or ndarray
        Expected P&L, currency. Broadcast shape of the inputs.

    Examples
    --------
    >>> round(expected_hedged_pnl(100.0, 100.0, 30 / 365, 0.20, 0.15), 5)
    -0.57168
    >>> round(expected_hedged_pnl(100.0, 100.0, 30 / 365, 0.20, 0.30), 5)
    1.14299
    """
    c_r = bs_price(spot, strike, rate, sigma_realized, tau_years, is_call, dividend_yield)
    c_i = bs_price(spot, strike, rate, sigma_implied, tau_years, is_call, dividend_yield)
    return _out(_arr(quantity) * _arr(multiplier) * (_arr(c_r) - _arr(c_i)))


def derman_kamal_std(sigma, vega, n_hedges) -> FloatOrArray:
    """Standard deviation of the P&L of clock hedging ``n_hedges`` times, no costs (Derman & Kamal).

    ``std ~ sqrt(pi/4) * sigma * |vega| / sqrt(n)`` (leading order in ``1/n``).

    Parameters
    ----------
    sigma : array_like
        Volatility, decimal per year.
    vega : array_like
        Position vega, currency per unit (1.00 = 100 vol points) of volatility.
    n_hedges : array_like
        Number of rebalances over the option's life, > 0.

    Returns
    -------
    float or ndarray
        Currency.

    Examples
    --------
    QuantLib's DiscreteHedging example (S = K = 100, T = 1/12, sigma = 20%, r = 5%, vega 11.4578):

    >>> round(derman_kamal_std(0.2, 11.45784, 21), 4), round(derman_kamal_std(0.2, 11.45784, 84), 4)
    (0.4432, 0.2216)
    """
    n = _check("n_hedges", n_hedges, positive=True)
    s = _check("sigma", sigma, nonnegative=True)
    return _out(math.sqrt(math.pi / 4.0) * s * np.abs(_arr(vega)) / np.sqrt(n))


# --------------------------------------------------------------------------------------------------
# Band half-widths
# --------------------------------------------------------------------------------------------------


def whalley_wilmott_halfwidth(
    gamma_shares_per_usd, spot, cost_rate, risk_aversion, rate=0.0, tau=0.0
) -> FloatOrArray:
    """Whalley-Wilmott (1997) no-trade half-width for proportional costs (trade to the nearest edge).

    ``H = (3/(2 gamma_ra) * exp(-r tau) * lambda * S * Gamma^2)^(1/3)`` shares. It minimises the CE loss
    rate of trading to the edge (:func:`band_ce_loss_rate` with ``mode="edge"``). ``H`` grows as
    ``N^(2/3)`` in the position size, ``lambda^(1/3)`` and ``gamma_ra^(-1/3)``; ``Gamma = 0`` gives 0.

    Parameters
    ----------
    gamma_shares_per_usd : array_like
        Position gamma, shares per currency unit (sign ignored).
    spot : array_like
        Currency per share, > 0.
    cost_rate : array_like
        Proportional one-way cost, decimal of notional, >= 0.
    risk_aversion : array_like
        CARA coefficient, 1/currency, > 0.
    rate, tau : array_like, default 0
        Discounting of the cost over the remaining life (annual decimal, years); the textbook result
        quoted by pfhedge uses 0.

    Returns
    -------
    float or ndarray
        Half-width, shares.

    Examples
    --------
    4 ATM contracts (27.82 sh/$), S = 100, 5 bp, gamma_ra = 0.01:

    >>> round(whalley_wilmott_halfwidth(27.82, 100.0, 0.0005, 0.01), 1)
    18.0
    """
    g = _gamma_abs(gamma_shares_per_usd)
    s = _check("spot", spot, positive=True)
    lam = _check("cost_rate", cost_rate, nonnegative=True)
    ra = _check("risk_aversion", risk_aversion, positive=True)
    disc = np.exp(-_check("rate", rate) * _check("tau", tau, nonnegative=True))
    return _out(np.cbrt(1.5 / ra * disc * lam * s * g * g))


def fee_band_halfwidth(gamma, fee, risk_aversion) -> FloatOrArray:
    """Reset band for a fixed fee per order: ``H = (12 F Gamma^2 / gamma_ra)^(1/4)`` shares.

    Trade back to the target (not the edge) when ``|hedge - target| >= H``; this minimises
    :func:`band_ce_loss_rate` with ``mode="reset"`` and no proportional cost.

    Parameters
    ----------
    gamma : array_like
        Position gamma, shares per currency unit (sign ignored).
    fee : array_like
        Fixed fee per order, currency, >= 0.
    risk_aversion : array_like
        1/currency, > 0.

    Returns
    -------
    float or ndarray
        Half-width, shares.

    Examples
    --------
    >>> round(fee_band_halfwidth(27.82, 1.0, 0.01), 2)
    31.04
    """
    g = _gamma_abs(gamma)
    f = _check("fee", fee, nonnegative=True)
    ra = _check("risk_aversion", risk_aversion, positive=True)
    return _out(np.sqrt(np.sqrt(12.0 * f * g * g / ra)))


def combined_band_halfwidth(gamma, spot, cost_rate, fee, risk_aversion) -> FloatOrArray:
    """Reset band for proportional cost plus fixed fee: the positive root of
    ``gamma_ra H^4 / 6 - lambda S Gamma^2 H - 2 F Gamma^2 = 0`` (shares).

    The quartic is the first-order condition of the reset rule's CE loss rate (see the module notes);
    it has exactly one positive root (one sign change), found by Newton's method from an upper bound
    (monotone convergence: the quartic is convex on ``H > 0``). With ``F = 0`` it gives
    ``(6 lambda S Gamma^2 / gamma_ra)^(1/3)`` (the reset analogue of Whalley-Wilmott, 4^(1/3) wider),
    with ``lambda = 0`` :func:`fee_band_halfwidth`. ``Gamma = 0`` gives 0.

    Parameters
    ----------
    gamma : array_like
        Position gamma, shares per currency unit (sign ignored).
    spot : array_like
        Currency per share, > 0.
    cost_rate : array_like
        Proportional one-way cost, decimal, >= 0.
    fee : array_like
        Fixed fee per order, currency, >= 0.
    risk_aversion : array_like
        1/currency, > 0.

    Returns
    -------
    float or ndarray
        Half-width, shares.

    Examples
    --------
    >>> round(combined_band_halfwidth(27.82, 100.0, 0.0, 1.0, 0.01), 2)  # fee only
    31.04
    >>> round(combined_band_halfwidth(27.82, 100.0, 0.0005, 1.0, 0.01), 2)
    36.51
    """
    g = _gamma_abs(gamma)
    s = _check("spot", spot, positive=True)
    lam = _check("cost_rate", cost_rate, nonnegative=True)
    f = _check("fee", fee, nonnegative=True)
    ra = _check("risk_aversion", risk_aversion, positive=True)
    ba, ca = np.broadcast_arrays(6.0 * lam * s * g * g / ra, 12.0 * f * g * g / ra)  # b/a, c/a
    # Scale by the upper bound s0 = max((2b/a)^(1/3), (2c/a)^(1/4)) (there a h^4 >= b h + c) and solve
    # u^4 - B u - C = 0 with B, C <= 1/2 by Newton from u = 1: monotone (convex, f'(u) >= 3 B > 0 on the
    # way down) and free of under/overflow for any gamma.
    s0 = np.maximum(np.cbrt(2.0 * ba), np.sqrt(np.sqrt(2.0 * ca)))
    live = s0 > 0
    sc = np.where(live, s0, 1.0)
    big_b = ba / sc / sc / sc
    big_c = ca / sc / sc / sc / sc
    u = np.ones(np.shape(sc))
    for _ in range(60):
        step = (u**4 - big_b * u - big_c) / (4.0 * u**3 - big_b)
        u = u - step
        if np.all(np.abs(step) <= 4e-16 * u):
            break
    h = u * sc
    return _out(np.where(live, h, 0.0))


# --------------------------------------------------------------------------------------------------
# Band rates
# --------------------------------------------------------------------------------------------------


def _mode_factor(mode: str) -> float:
    if mode == "edge":
        return 1.0 / 3.0
    if mode == "reset":
        return 1.0 / 6.0
    raise ValueError(f"mode must be 'edge' or 'reset', got {mode!r}")


def band_mishedge_variance(halfwidth, mode: str = "edge") -> FloatOrArray:
    """Stationary ``E[x^2]`` of the mis-hedge ``x`` (shares^2) inside a band of half-width ``H``.

    ``H^2/3`` when trading to the edge (uniform), ``H^2/6`` when resetting to the target (tent density).

    Parameters
    ----------
    halfwidth : array_like
        Band half-width, shares, >= 0.
    mode : {"edge", "reset"}
        Trade to the nearest edge, or back to the target.

    Returns
    -------
    float or ndarray
        shares^2.

    Examples
    --------
    >>> band_mishedge_variance(3.0, "edge"), band_mishedge_variance(3.0, "reset")
    (3.0, 1.5)
    """
    k = _mode_factor(mode)
    h = _check("halfwidth", halfwidth, nonnegative=True)
    return _out(k * h * h)


def band_pnl_variance_rate(spot, sigma, halfwidth, mode: str = "edge") -> FloatOrArray:
    """Variance rate of the mis-hedge P&L inside a band, currency^2 per year: ``S^2 sigma^2 E[x^2]``.

    Parameters are in the module's units (spot currency/share, sigma decimal/year, halfwidth shares);
    ``mode`` as :func:`band_mishedge_variance`. Returns currency^2 per year.

    Examples
    --------
    >>> band_pnl_variance_rate(100.0, 0.2, 3.0, "edge")
    1200.0
    """
    s = _check("spot", spot, positive=True)
    sig = _check("sigma", sigma, nonnegative=True)
    return _out(s * s * sig * sig * _arr(band_mishedge_variance(halfwidth, mode)))


def band_order_rate(gamma, spot, sigma, halfwidth, mode: str = "reset") -> FloatOrArray:
    """Orders per year of a band rule: ``(Gamma S sigma)^2 / H^2`` for ``mode="reset"``.

    For ``mode="edge"`` the continuous-time order count is infinite (trading at every touch of the edge);
    the result is ``inf`` where ``Gamma != 0`` (in discrete time it is bounded by the number of steps).
    ``Gamma = 0`` gives 0; ``H = 0`` with ``Gamma != 0`` gives ``inf``. Parameters in the module's
    units; returns orders per year.
    """
    g = _gamma_abs(gamma)
    s = _check("spot", spot, positive=True)
    sig = _check("sigma", sigma, nonnegative=True)
    h = _check("halfwidth", halfwidth, nonnegative=True)
    _mode_factor(mode)
    v = (g * s * sig) ** 2
    if mode == "edge":
        return _out(np.where(v > 0, np.inf, 0.0) + 0.0 * h)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(v > 0, v / (h * h), 0.0)
    return _out(r)


def band_cost_rate(gamma, spot, sigma, halfwidth, cost_rate, fee=0.0, mode: str = "edge") -> FloatOrArray:
    """Expected trading cost per year of a band rule, currency per year.

    ``edge``: ``lambda S v / (2H)`` (+ ``inf`` if ``fee > 0``: infinitely many orders in continuous time);
    ``reset``: ``lambda S v / H + F v / H^2``; with ``v = (Gamma S sigma)^2``.
    ``Gamma = 0`` gives 0; ``H = 0`` with ``Gamma != 0`` and a positive cost gives ``inf``.
    Parameters in the module's units (gamma sh/$, spot $/sh, sigma /yr, halfwidth shares, cost_rate
    decimal, fee $ per order); returns currency per year.

    Examples
    --------
    >>> round(band_cost_rate(27.82, 100.0, 0.2, 18.0, 0.0005), 1)
    430.0
    """
    g = _gamma_abs(gamma)
    s = _check("spot", spot, positive=True)
    sig = _check("sigma", sigma, nonnegative=True)
    h = _check("halfwidth", halfwidth, nonnegative=True)
    lam = _check("cost_rate", cost_rate, nonnegative=True)
    f = _check("fee", fee, nonnegative=True)
    _mode_factor(mode)
    v = (g * s * sig) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        if mode == "edge":
            prop = np.where(lam * v > 0, lam * s * v / (2.0 * h), 0.0)
            fixed = np.where(f * v > 0, np.inf, 0.0)
        else:
            prop = np.where(lam * v > 0, lam * s * v / h, 0.0)
            fixed = np.where(f * v > 0, f * v / (h * h), 0.0)
    return _out(prop + fixed)


def band_ce_loss_rate(
    gamma, spot, sigma, halfwidth, cost_rate, risk_aversion, fee=0.0, mode: str = "edge"
) -> FloatOrArray:
    """CE loss rate of a band rule: cost rate + ``gamma_ra/2`` x P&L variance rate, currency per year.

    Parameters as :func:`band_cost_rate` plus ``risk_aversion`` (1/currency).

    Examples
    --------
    At the Whalley-Wilmott width the cost is 2/3 of the loss:

    >>> h = whalley_wilmott_halfwidth(27.82, 100.0, 0.0005, 0.01)
    >>> cost = band_cost_rate(27.82, 100.0, 0.2, h, 0.0005)
    >>> round(cost / band_ce_loss_rate(27.82, 100.0, 0.2, h, 0.0005, 0.01), 6)
    0.666667
    """
    ra = _check("risk_aversion", risk_aversion, positive=True)
    cost = _arr(band_cost_rate(gamma, spot, sigma, halfwidth, cost_rate, fee, mode))
    var = _arr(band_pnl_variance_rate(spot, sigma, halfwidth, mode))
    return _out(cost + 0.5 * ra * var)


# --------------------------------------------------------------------------------------------------
# Clocks
# --------------------------------------------------------------------------------------------------


def optimal_clock_interval_proportional(gamma, spot, sigma, cost_rate, risk_aversion) -> FloatOrArray:
    """Optimal rebalancing interval with proportional costs, years.

    ``dt* = (2 sqrt(2/pi) lambda / (gamma_ra |Gamma| S^2 sigma^3))^(2/3)``: the minimiser of
    :func:`clock_ce_loss_rate` with no fee. ``Gamma = 0`` (nothing to hedge) gives ``inf``; ``lambda = 0``
    with ``Gamma != 0`` gives 0 (hedge continuously).

    Examples
    --------
    >>> round(optimal_clock_interval_proportional(27.82, 100.0, 0.2, 0.0005, 0.01) * 365, 3)  # days
    0.397
    """
    g = _gamma_abs(gamma)
    s = _check("spot", spot, positive=True)
    sig = _check("sigma", sigma, positive=True)
    lam = _check("cost_rate", cost_rate, nonnegative=True)
    ra = _check("risk_aversion", risk_aversion, positive=True)
    den = ra * g * s * s * sig**3
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dt = (2.0 * SQRT_2_OVER_PI * lam / den) ** (2.0 / 3.0)
    return _out(np.where(g > 0, dt, np.inf))


def optimal_clock_interval_fee(gamma, spot, sigma, fee, risk_aversion) -> FloatOrArray:
    """Optimal rebalancing interval with a fixed fee per order, years.

    ``dt* = 2 sqrt(F/gamma_ra) / (|Gamma| S^2 sigma^2)``: the minimiser of :func:`clock_ce_loss_rate`
    with no proportional cost.
    ``Gamma = 0`` gives ``inf``; ``F = 0`` with ``Gamma != 0`` gives 0.

    Examples
    --------
    >>> round(optimal_clock_interval_fee(27.82, 100.0, 0.2, 1.0, 0.01) * 365, 4)  # days
    0.656
    """
    g = _gamma_abs(gamma)
    s = _check("spot", spot, positive=True)
    sig = _check("sigma", sigma, positive=True)
    f = _check("fee", fee, nonnegative=True)
    ra = _check("risk_aversion", risk_aversion, positive=True)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dt = 2.0 * np.sqrt(f / ra) / (g * s * s * sig * sig)
    return _out(np.where(g > 0, dt, np.inf))


def clock_cost_rate(gamma, spot, sigma, interval_years, cost_rate, fee=0.0) -> FloatOrArray:
    """Expected trading cost per year of clock hedging every ``h`` years, currency per year.

    ``lambda |Gamma| S^2 sigma sqrt(2/pi) / sqrt(h) + F / h`` (each order trades ``|Gamma dS|`` shares;
    the fee term assumes an order at every tick of the clock, which holds whenever ``Gamma != 0``).
    An infinite interval gives 0. Parameters in the module's units (``interval_years`` > 0); returns
    currency per year.

    Examples
    --------
    >>> round(clock_cost_rate(27.82, 100.0, 0.2, 1 / 365, 0.0005, 1.0), 1)
    789.1
    """
    g = _gamma_abs(gamma)
    s = _check("spot", spot, positive=True)
    sig = _check("sigma", sigma, nonnegative=True)
    h = _arr(interval_years)
    if np.any(np.isnan(h)) or np.any(h <= 0):
        raise ValueError(f"interval_years must be > 0, got {interval_years!r}")
    lam = _check("cost_rate", cost_rate, nonnegative=True)
    f = _check("fee", fee, nonnegative=True)
    prop = lam * g * s * s * sig * SQRT_2_OVER_PI / np.sqrt(h)
    fixed = np.where(g > 0, f / h, 0.0)
    return _out(prop + fixed)


def clock_pnl_variance_rate(gamma, spot, sigma, interval_years) -> FloatOrArray:
    """Variance rate of the discrete-hedging error of a clock rule, currency^2 per year.

    ``Gamma^2 S^4 sigma^4 h / 2`` (each interval adds ``Var(Gamma S^2 (R^2 - sigma^2 h)/2)``). Integrated
    over an option's life in expectation over the spot it predicts the simulated discrete-hedging std
    about as well as Derman-Kamal (QuantLib's case, 21 / 84 hedges: 0.418 / 0.209 against 0.423 / 0.219
    simulated and 0.445 / 0.223 from the formula at r = 0; tests/core/test_hedging_simulator.py).
    ``h = inf`` gives ``inf``
    where ``Gamma != 0``. Parameters in the module's units; returns currency^2 per year.

    Examples
    --------
    >>> round(clock_pnl_variance_rate(27.82, 100.0, 0.2, 1 / 365), 1)
    169633.4
    """
    g = _gamma_abs(gamma)
    s = _check("spot", spot, positive=True)
    sig = _check("sigma", sigma, nonnegative=True)
    h = _arr(interval_years)
    if np.any(np.isnan(h)) or np.any(h <= 0):
        raise ValueError(f"interval_years must be > 0, got {interval_years!r}")
    with np.errstate(invalid="ignore", over="ignore"):
        finite = 0.5 * g * g * s**4 * sig**4 * np.where(np.isinf(h), 1.0, h)
        r = np.where(g > 0, np.where(np.isinf(h), np.inf, finite), 0.0)
    return _out(r)


def clock_ce_loss_rate(gamma, spot, sigma, interval_years, cost_rate, risk_aversion, fee=0.0) -> FloatOrArray:
    """CE loss rate of a clock rule, currency per year: cost rate + ``gamma_ra/2`` x variance rate.

    Parameters as :func:`clock_cost_rate` plus ``risk_aversion`` (1/currency).
    """
    ra = _check("risk_aversion", risk_aversion, positive=True)
    cost = _arr(clock_cost_rate(gamma, spot, sigma, interval_years, cost_rate, fee))
    var = _arr(clock_pnl_variance_rate(gamma, spot, sigma, interval_years))
    return _out(cost + 0.5 * ra * var)


# --------------------------------------------------------------------------------------------------
# Leland
# --------------------------------------------------------------------------------------------------


def leland_correction(sigma, cost_rate, dt_years) -> FloatOrArray:
    """Leland number ``Le = sqrt(2/pi) * 2 lambda / (sigma sqrt(dt))`` (dimensionless).

    ``lambda`` is the one-way proportional cost (Leland's round-trip ``k = 2 lambda``).

    Examples
    --------
    >>> round(leland_correction(0.2, 0.0005, 1 / 365), 4)
    0.0762
    """
    sig = _check("sigma", sigma, positive=True)
    lam = _check("cost_rate", cost_rate, nonnegative=True)
    dt = _check("dt_years", dt_years, positive=True)
    return _out(SQRT_2_OVER_PI * 2.0 * lam / (sig * np.sqrt(dt)))


def leland_vol(sigma, cost_rate, dt_years, writer: bool, on_undefined: str = "raise") -> FloatOrArray:
    """Leland (1985) adjusted hedging vol for clock hedging every ``dt_years`` with proportional cost.

    ``sigma_adj = sigma * sqrt(1 + Le)`` for the writer (short gamma), ``sigma * sqrt(1 - Le)`` for the
    holder (long gamma), with ``Le`` from :func:`leland_correction`.

    Parameters
    ----------
    sigma : array_like
        Volatility, decimal per year, > 0.
    cost_rate : array_like
        Proportional one-way cost, decimal, >= 0.
    dt_years : array_like
        Rebalancing interval, years, > 0.
    writer : bool
        True for a short-gamma position (the option writer), False for a long-gamma one.
    on_undefined : {"raise", "nan"}
        What to do where the holder's correction is ``>= 1`` (the adjusted variance would be <= 0:
        costs over one interval exceed the gamma the holder can earn, so no Leland vol exists):
        raise ``ValueError`` naming the correction, or return NaN in those elements.

    Returns
    -------
    float or ndarray
        Adjusted vol, decimal per year.

    Examples
    --------
    >>> round(leland_vol(0.2, 0.0005, 1 / 365, writer=False), 5)
    0.19223
    >>> round(leland_vol(0.2, 0.0005, 1 / 365, writer=True), 5)
    0.20748
    """
    if on_undefined not in ("raise", "nan"):
        raise ValueError(f"on_undefined must be 'raise' or 'nan', got {on_undefined!r}")
    le = _arr(leland_correction(sigma, cost_rate, dt_years))
    sig = _arr(sigma)
    if writer:
        return _out(sig * np.sqrt(1.0 + le))
    bad = le >= 1.0
    if np.any(bad) and on_undefined == "raise":
        worst = float(np.max(le))
        raise ValueError(
            f"Leland correction {worst:.3g} >= 1: no adjusted vol for the holder "
            "(hedge less often or with lower costs)"
        )
    with np.errstate(invalid="ignore"):
        return _out(np.where(bad, np.nan, sig * np.sqrt(np.where(bad, 0.0, 1.0 - le))))
