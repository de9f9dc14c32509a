"""Band adjustment from a measured variance ratio of the underlying's returns (autocorrelated returns).

Parametrisation
---------------
``VR = Var(k-step return) / (k Var(1-step return))`` with one step = the advisor's monitoring interval
(``CostModel.monitor_minutes``, default one minute) and ``k`` long compared with the memory of the
autocorrelation (in practice 30 minutes to one trading day of one-minute returns; 20 days of history
estimate ``k = 30`` to about +/-0.07 but ``k = 390`` only to about +/-0.26, see :func:`estimate_variance_ratio`).
``VR > 1``: returns trend; ``VR < 1``: they mean-revert; ``VR = 1``: no
autocorrelation. The realized vol given to the advisor is the long-horizon vol (the one that prices the
option), so the one-step vol is ``sigma_1 = sigma / sqrt(VR)``.

Model
-----
A band rule trades when a move pushes the hedge error past the band; what happens *after* the trade is
what autocorrelation changes. The linear projection of the future cumulative return on the last one-step
return ``r`` is ``sum_j gamma_j / gamma_0 * r = (VR - 1)/2 * r`` (any stationary return process). A
long-gamma hedge sells after a rise (trades against the move): per share traded it earns
``-(VR - 1)/2 * E[|dS| on the triggering step]`` of the move's continuation. Steps that trigger a trade are
size-biased: weighted by the shares traded, the triggering step of a Gaussian random walk traded back to the
edge of a band (trade = the overshoot, a ladder height) has ``E[q |z|] / E[q] = sqrt(2)`` one-step stds
(:data:`TRIGGER_STEP_STDS`). The expected autocorrelation P&L is thus proportional to the traded volume, i.e.
an additive change of the proportional cost::

    lambda_eff = lambda + sign(Gamma) (VR - 1)/2 * sqrt(2) * sigma_1 sqrt(dt)

and the model CE loss ``lambda_eff S volume + gamma_ra/2 variance`` (the hedge-error variance is set by the
long-horizon vol: the error changes slowly next to the memory) is minimised by the same band formulas
with ``lambda_eff``: Whalley-Wilmott ``H ~ lambda_eff^(1/3)`` (edge), the reset quartic with
``lambda_eff`` (fee). ``VR = 1`` gives exactly ``lambda``: today's advice. When mean reversion makes the
effective cost non-positive (every trade expected to earn more than it costs) the band is floored at the
hedge error's discrete-monitoring overshoot ``0.5826 |Gamma| S sigma_1 sqrt(dt)``: a narrower band trades
at almost every look and cannot trade more. For a long-gamma position the floor is held at the VR where it
first binds: the overshoot grows as VR falls (``sigma_1`` grows), and the band must not widen as mean reversion
strengthens. Assumption: the memory is short next to the time the band
takes to be crossed (AR(1)-like returns); with a long memory (price pinning over hours) the model uses
the given VR as if it were short-memory, see docs/hedging-advisor.md for the measured consequences.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from gex.advisor.bands import BGK_SHIFT, reset_half_width, ww_half_width
from gex.advisor.policy import BandPolicy

VR_MIN, VR_MAX = 0.05, 20.0
"""Accepted range of the variance ratio (outside it the input is almost surely a unit or horizon mistake)."""
TRIGGER_STEP_STDS = math.sqrt(2.0)
"""Share-weighted size of the step that triggers a trade, one-step stds: ``E[q |z|] / E[q]`` over the trades of a
Gaussian random walk kept in a band by trading back to its edge (Monte Carlo, 2e7 steps: 1.4141-1.4144 for bands
of 3-20 step stds; tests/core/test_advisor_variance_ratio.py reproduces it). Resetting to the centre gives 1.46 /
1.44 / 1.43 for bands of 3 / 8 / 20 step stds, tending to the same value; the same constant is used. (Assuming
the position before the step uniform on it, ``E|z|^3 / E|z|^2 = 2 sqrt(2/pi) = 1.596``, overstates it by 13%:
just after an edge trade the hedge error sits on the edge.)"""


def check_variance_ratio(variance_ratio: float) -> float:
    """The variance ratio as a float, or ``ValueError`` with a message for people."""
    if isinstance(variance_ratio, bool):
        raise ValueError(f"variance ratio {variance_ratio!r} must be a number")
    try:
        vr = float(variance_ratio)
    except (TypeError, ValueError):
        raise ValueError(f"variance ratio {variance_ratio!r} must be a number") from None
    if not (math.isfinite(vr) and VR_MIN <= vr <= VR_MAX):
        raise ValueError(f"variance ratio {variance_ratio} must be in [{VR_MIN:g}, {VR_MAX:g}] "
                         "(variance of k-step returns / (k x variance of one-step returns); 1 = no autocorrelation)")
    return vr


def autocorrelation_cost(variance_ratio: float, gamma: float, sigma: float, monitor_years: float) -> float:
    """Change of the effective proportional cost from autocorrelation, fraction of traded notional.

    ``sign(Gamma) (VR - 1)/2 * sqrt(2) * sigma_1 sqrt(dt)`` with ``sigma_1 = sigma / sqrt(VR)`` the one-step vol
    (``sigma`` the long-horizon vol, decimal per year; ``dt = monitor_years``) and ``sqrt(2)`` the share-weighted
    triggering step (:data:`TRIGGER_STEP_STDS`). Negative = trades earn (a long-gamma
    hedge under mean reversion), positive = trades lose more than their cost (long gamma under a trend).
    """
    if gamma == 0 or variance_ratio == 1:
        return 0.0
    sigma_1 = sigma / math.sqrt(variance_ratio)
    return (math.copysign(1.0, gamma) * 0.5 * (variance_ratio - 1.0) * TRIGGER_STEP_STDS * sigma_1
            * math.sqrt(monitor_years))


def variance_ratio_half_width(variance_ratio: float, policy: BandPolicy, gamma: float, spot: float, sigma: float,
                              tau: float) -> tuple[float, float, float, bool]:
    """(half-width H, shares; the unadjusted optimum H0, shares; lambda_eff; floored?) under the VR model.

    ``H`` minimises the model CE loss with the effective cost ``lambda + autocorrelation_cost`` (see the
    module docstring); ``VR = 1`` returns ``H == H0`` exactly. A tightened band is floored at one look's
    overshoot (:func:`_overshoot_floor`), held where it first binds so that a stronger autocorrelation never
    moves the band back (:func:`_floor_for_long_gamma`).
    """
    h0 = float(policy.optimal_half_width(gamma, spot, tau))
    lam = float(policy.costs.proportional(spot))
    h, lam_eff = _model_half_width(variance_ratio, policy, gamma, spot, sigma, tau)
    if lam_eff == lam:
        return h0, h0, lam, False
    floored = False
    if lam_eff < lam:  # tightening: never below one look's overshoot (and the floor never widens the band)
        floor = _overshoot_floor(variance_ratio, policy, gamma, spot, sigma, h0)
        if h < floor:
            if gamma > 0:
                floor = _floor_for_long_gamma(variance_ratio, policy, gamma, spot, sigma, tau, h0)
            h, floored = floor, True
    return h, h0, lam_eff, floored


def _model_half_width(variance_ratio: float, policy: BandPolicy, gamma: float, spot: float, sigma: float,
                      tau: float) -> tuple[float, float]:
    """(the model's unfloored half-width at ``lambda_eff``, shares; ``lambda_eff``, fraction of notional)."""
    lam = float(policy.costs.proportional(spot))
    lam_eff = lam + autocorrelation_cost(variance_ratio, gamma, sigma, policy.costs.monitor_years)
    if lam_eff == lam:
        return float(policy.optimal_half_width(gamma, spot, tau)), lam
    if policy.execution == "edge":
        return float(ww_half_width(gamma, spot, max(lam_eff, 0.0), policy.risk_aversion, tau, policy.rate)), lam_eff
    if policy.costs.fee_usd_per_order > 0 or lam_eff > 0:
        return float(reset_half_width(gamma, spot, lam_eff, policy.costs.fee_usd_per_order, policy.risk_aversion,
                                      tau, policy.rate)), lam_eff
    return 0.0, lam_eff


def _overshoot_floor(variance_ratio: float, policy: BandPolicy, gamma: float, spot: float, sigma: float,
                     h0: float) -> float:
    """One look's mean overshoot of the hedge error, ``0.5826 |Gamma| S sigma_1 sqrt(dt)`` shares, capped at ``H0``."""
    return min(h0, BGK_SHIFT * abs(gamma) * spot * sigma / math.sqrt(variance_ratio)
               * math.sqrt(policy.costs.monitor_years))


def _floor_for_long_gamma(variance_ratio: float, policy: BandPolicy, gamma: float, spot: float, sigma: float,
                          tau: float, h0: float) -> float:
    """The floor of a long-gamma band under mean reversion: the overshoot where it first binds, shares.

    Why not the overshoot at the given VR: the one-step vol ``sigma / sqrt(VR)`` grows as VR falls, so the
    overshoot does too, and a band floored at it would *widen* as mean reversion strengthens (4 long ATM calls:
    1.72 shares at VR 0.25, 2.43 at 0.125), against the model's direction. Any band at or below the overshoot
    trades at almost every look, so holding the floor at ``VR*`` (where the model band meets the overshoot,
    ``H(VR*) = floor(VR*)``) gives the same trading for every ``VR < VR*`` and keeps the band monotone.
    ``H - floor`` rises with VR (``lambda_eff`` rises, the overshoot falls), so the root is unique and lies in
    ``[VR, 1]``; the bracket is fixed at ``[VR_MIN, 1]`` (``[VR, 1]`` below VR_MIN) so that every ``VR < VR*``
    gets the same number to the bit. (A short-gamma band
    tightens as VR *rises*, when the overshoot falls too: no such hold is needed there.)
    """
    def gap(v: float) -> float:
        return (_model_half_width(v, policy, gamma, spot, sigma, tau)[0]
                - _overshoot_floor(v, policy, gamma, spot, sigma, h0))

    v_star = brentq(gap, min(VR_MIN, variance_ratio), 1.0, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
    return _overshoot_floor(v_star, policy, gamma, spot, sigma, h0)


def estimate_variance_ratio(log_returns, horizon_steps: int) -> float:
    """Variance ratio ``Var(k-step) / (k Var(1-step))`` of one history of one-step log returns.

    Overlapping ``k``-step sums (Lo and MacKinlay 1988), both variances around the one-step sample mean
    times ``k``; no small-sample bias correction (its size, ``O(k/n)``, is below the sampling error).

    Parameters
    ----------
    log_returns : array_like, shape (n,)
        Consecutive one-step log returns (one step = the advisor's monitoring interval), no gaps.
    horizon_steps : int
        ``k >= 2``; at least ``2 k`` returns are needed.

    Returns
    -------
    float
        The estimate (1 for uncorrelated returns up to sampling error).
    """
    r = np.asarray(log_returns, dtype=float).reshape(-1)
    k = int(horizon_steps)
    if k != horizon_steps or k < 2:
        raise ValueError(f"horizon_steps must be an integer >= 2, got {horizon_steps!r}")
    if r.size < 2 * k:
        raise ValueError(f"need at least 2 x horizon = {2 * k} returns, got {r.size}")
    if not np.all(np.isfinite(r)):
        raise ValueError("log returns must be finite")
    mu = r.mean()
    var1 = float(np.mean((r - mu) ** 2))
    if var1 == 0:
        raise ValueError("the returns have zero variance: no variance ratio")
    c = np.concatenate(([0.0], np.cumsum(r - mu)))
    sums = c[k:] - c[:-k]
    return float(np.mean(sums**2) / (k * var1))
