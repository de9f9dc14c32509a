"""A seeded risk-free yield curve per session: level and slope random walks through a Nelson-Siegel shape.

``rate(T) = level + slope * (1 - exp(-T / TAU)) / (T / TAU)``: ``level`` is the long end, ``level + slope``
the instantaneous short rate. Both mean-revert slowly with daily moves of about a basis point, so the curve
drifts plausibly (an inverted front easing towards flat) without jumping. Rates are **continuously
compounded decimals per year** on a 365-day year, rounded to 1e-6 (0.01 bp) when published; the option
quotes are valued with the published (rounded) curve, interpolated linearly in tenor (days / 365, see
:data:`TENORS`) and flat beyond the ends, so a reader of ``rates.csv`` interpolating the same way recovers
the rate each expiry was priced with.
"""

from __future__ import annotations

import numpy as np

#: Published tenors: label -> years of 365 days, with the day counts the project's rates reader gives the
#: labels (``tenor_days``: 1M = 30, 3M = 91, 6M = 182, 1Y = 365, 2Y = 730, 10Y = 3650).
TENORS: dict[str, float] = {"1M": 30 / 365, "3M": 91 / 365, "6M": 182 / 365, "1Y": 1.0, "2Y": 2.0, "10Y": 10.0}
TAU = 1.5  # Nelson-Siegel decay, years

#: Starting level/slope, their long-run means, mean-reversion per session and daily move (decimal).
LEVEL = (0.0420, 0.0400, 0.004, 0.00012)
SLOPE = (0.0020, -0.0005, 0.006, 0.00010)


def simulate_curves(n_sessions: int, rng: np.random.Generator) -> np.ndarray:
    """Published curves, shape ``(n_sessions, len(TENORS))``, decimal per year continuous, 6 decimals."""
    level, slope = np.empty(n_sessions), np.empty(n_sessions)
    lv, sl = LEVEL[0], SLOPE[0]
    shocks = rng.standard_normal((n_sessions, 2))
    for i in range(n_sessions):
        lv += LEVEL[2] * (LEVEL[1] - lv) + LEVEL[3] * shocks[i, 0]
        sl += SLOPE[2] * (SLOPE[1] - sl) + SLOPE[3] * shocks[i, 1]
        level[i], slope[i] = lv, sl
    t = np.array(list(TENORS.values())) / TAU
    loading = (1.0 - np.exp(-t)) / t
    return np.round(level[:, None] + slope[:, None] * loading[None, :], 6)


def rate_at(curve: np.ndarray, tenor_years: np.ndarray) -> np.ndarray:
    """Rate for each tenor (years) from one published curve: linear in tenor, flat beyond 1M and 10Y."""
    return np.interp(np.maximum(tenor_years, 0.0), np.array(list(TENORS.values())), curve)
