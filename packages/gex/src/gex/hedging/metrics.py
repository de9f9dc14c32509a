"""Risk metrics of a sample of final P&Ls (currency): certainty equivalents and CVaR."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

__all__ = ["ce_exponential", "ce_mean_variance", "cvar"]


def _sample(pnl) -> np.ndarray:
    x = np.asarray(pnl, dtype=np.float64).reshape(-1)
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("P&L sample must be non-empty and finite")
    return x


def _ra(risk_aversion: float) -> float:
    ra = float(risk_aversion)
    if not (math.isfinite(ra) and ra > 0):
        raise ValueError(f"risk_aversion must be a finite number > 0, got {risk_aversion!r}")
    return ra


def ce_exponential(pnl, risk_aversion: float) -> float:
    """Certainty equivalent under exponential utility, currency: ``-1/a log E[exp(-a X)]``.

    Computed with ``logsumexp`` so that large losses times ``a`` do not overflow.

    Examples
    --------
    >>> round(ce_exponential([-1000.0, 0.0], 1.0), 4)  # dominated by the worst outcome
    -999.3069
    >>> round(ce_exponential([5.0, 5.0], 0.01), 10)
    5.0
    """
    x = _sample(pnl)
    a = _ra(risk_aversion)
    return float(-(logsumexp(-a * x) - math.log(x.size)) / a)


def ce_mean_variance(pnl, risk_aversion: float) -> float:
    """Mean-variance certainty equivalent, currency: ``mean - a/2 var`` (sample variance, ddof = 1).

    Examples
    --------
    >>> ce_mean_variance([1.0, 3.0], 0.5)
    1.5
    """
    x = _sample(pnl)
    a = _ra(risk_aversion)
    var = float(np.var(x, ddof=1)) if x.size > 1 else 0.0
    return float(np.mean(x)) - 0.5 * a * var


def cvar(pnl, level: float = 0.95) -> float:
    """Conditional value at risk as a P&L, currency: the mean of the worst ``1 - level`` fraction.

    The worst ``ceil((1 - level) n)`` outcomes are averaged (at least one). A loss gives a negative number.

    Examples
    --------
    >>> cvar(np.arange(100.0), 0.95)  # mean of 0..4
    2.0
    """
    x = _sample(pnl)
    lv = float(level)
    if not (0.0 < lv < 1.0):
        raise ValueError(f"CVaR level must be in (0, 1), got {level!r}")
    k = max(1, math.ceil((1.0 - lv) * x.size - 1e-9))
    return float(np.mean(np.partition(x, k - 1)[:k]))
