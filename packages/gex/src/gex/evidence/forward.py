"""Forward-looking per-day figures: what happened over the ``h`` sessions after each session's close.

Rows are consecutive sessions of one underlying, oldest first. The value at row ``t`` uses only sessions
``t+1 .. t+h`` (and the close of ``t`` as the starting point); rows without ``h`` sessions after them, or
with a missing or non-positive input inside the window, are NaN (never a partial window).

- :func:`forward_realised_vol`: zero-mean close-to-close vol, decimal per year,
  ``sqrt(252 / h * sum_{j=t+1}^{t+h} ln(C_j / C_{j-1})^2)``;
- :func:`forward_parkinson_vol`: Parkinson range vol over the same sessions, decimal per year,
  ``sqrt(252 / h * sum ln(H_j / L_j)^2 / (4 ln 2))``;
- :func:`forward_log_return`: ``ln(C_{t+h} / C_t)`` (decimal, not annualised).

The trailing counterpart (value at ``t`` uses sessions up to ``t``) is
:func:`gex.volatility.close_to_close_vol`. Loop versions that define these figures are in
:mod:`gex.evidence.reference`; the tests check the two agree.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from gex.volatility import TRADING_DAYS_PER_YEAR, log_returns

FloatArray = npt.NDArray[np.float64]


def _check_horizon(h: int) -> None:
    if not (isinstance(h, (int, np.integer)) and h >= 1):
        raise ValueError(f"horizon must be an integer >= 1 session, got {h!r}")


def forward_window_sum(x: npt.ArrayLike, h: int) -> FloatArray:
    """``out[t] = x[t+1] + ... + x[t+h]``, shape (n,); NaN when the window runs past the end or holds a NaN.

    Vectorised over a sliding-window view (``O(n h)`` additions, no cumulative sum whose rounding would
    swamp a small window after a large one); a NaN inside a window makes that window's sum NaN.
    """
    _check_horizon(h)
    v = np.asarray(x, dtype=np.float64)
    n = v.size
    out = np.full(n, np.nan)
    if n <= h:
        return out
    # window t covers x[t+1 .. t+h]: the windows of x[1:] starting at 0 .. n-h-1
    out[: n - h] = np.lib.stride_tricks.sliding_window_view(v[1:], h).sum(axis=1)
    return out


def forward_realised_vol(closes: npt.ArrayLike, h: int, *, periods_per_year: int = TRADING_DAYS_PER_YEAR) -> FloatArray:
    """Forward zero-mean close-to-close realised vol over ``h`` sessions, decimal per year, shape (n,).

    Parameters
    ----------
    closes:
        Closes of consecutive sessions, currency per share, shape (n,).
    h:
        Horizon, sessions (>= 1).
    periods_per_year:
        Annualisation, sessions per year.

    Examples
    --------
    >>> import numpy as np
    >>> c = 100 * np.exp(np.cumsum([0.0, 0.01, -0.01, 0.02]))
    >>> np.round(forward_realised_vol(c, 2), 6).tolist()  # sqrt(252/2 * (0.01^2 + 0.01^2)), ...
    [0.158745, 0.250998, nan, nan]
    """
    r = log_returns(closes)
    with np.errstate(invalid="ignore"):
        s = forward_window_sum(r * r, h)
        return np.sqrt(np.maximum(s, 0.0) * periods_per_year / h) + s * 0.0  # keeps NaN, clips -0 rounding


def forward_parkinson_vol(
    highs: npt.ArrayLike, lows: npt.ArrayLike, h: int, *, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> FloatArray:
    """Forward Parkinson (high-low range) vol over sessions ``t+1 .. t+h``, decimal per year, shape (n,).

    NaN where a high or low in the window is missing or non-positive (e.g. a close-only history).
    """
    hi = np.asarray(highs, dtype=np.float64)
    lo = np.asarray(lows, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        hl = np.where((hi > 0) & (lo > 0) & (hi >= lo), np.log(hi / lo), np.nan)
        s = forward_window_sum(hl * hl / (4.0 * math.log(2.0)), h)
        return np.sqrt(np.maximum(s, 0.0) * periods_per_year / h) + s * 0.0


def forward_log_return(closes: npt.ArrayLike, h: int) -> FloatArray:
    """``ln(C_{t+h} / C_t)``, decimal (not annualised), shape (n,); NaN past the end or on a bad close."""
    _check_horizon(h)
    c = np.asarray(closes, dtype=np.float64)
    c = np.where(c > 0, c, np.nan)
    out = np.full(c.shape, np.nan)
    if c.size > h:
        out[: c.size - h] = np.log(c[h:] / c[:-h])
    return out
