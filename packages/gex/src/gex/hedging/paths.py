"""Seeded spot-path generators for the hedging simulator (pure numpy, vectorised across paths).

Time grid: ``n_days`` simulated days of ``steps_per_day`` steps; a day lasts ``1/days_per_year`` years
(default 365, so a 30-day path spans the 30/365 years of a 30-calendar-day option) and the grid is
uniform: no overnight gaps, every step has the same length ``dt = 1 / (days_per_year * steps_per_day)``.
Arrays are time-major, shape ``(n_steps + 1, n_paths)``, row 0 is the initial spot. Every generator takes
a ``seed`` (an int or a ``numpy.random.Generator``); the same seed gives the same paths, and every rule
simulated on one :class:`Paths` sees the same prices (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Paths",
    "ar1_variance_ratio",
    "bootstrap_paths",
    "gbm_paths",
    "pinning_paths",
    "pinning_variance_ratio",
    "regime_paths",
]

_ROWS_PER_BLOCK = 1024  # rows of random numbers drawn at once (bounds temporary memory)


@dataclass(frozen=True)
class Paths:
    """Spot paths on a uniform time grid.

    Attributes
    ----------
    spot : ndarray, shape (n_steps + 1, n_paths)
        Spot, currency per share; row ``k`` is time ``k * dt_years``.
    dt_years : float
        Step length, years.
    steps_per_day : int
        Steps per simulated day (daily trade caps reset every ``steps_per_day`` steps).
    """

    spot: np.ndarray
    dt_years: float
    steps_per_day: int

    def __post_init__(self) -> None:
        s = np.ascontiguousarray(self.spot, dtype=np.float64)
        if s.ndim != 2 or s.shape[0] < 2 or s.shape[1] < 1:
            raise ValueError(f"spot must have shape (n_steps + 1 >= 2, n_paths >= 1), got {s.shape}")
        if not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise ValueError("spot paths must be finite and > 0")
        if not (math.isfinite(self.dt_years) and self.dt_years > 0):
            raise ValueError(f"dt_years must be > 0, got {self.dt_years!r}")
        if int(self.steps_per_day) != self.steps_per_day or self.steps_per_day < 1:
            raise ValueError(f"steps_per_day must be an integer >= 1, got {self.steps_per_day!r}")
        object.__setattr__(self, "spot", s)
        object.__setattr__(self, "dt_years", float(self.dt_years))
        object.__setattr__(self, "steps_per_day", int(self.steps_per_day))

    @property
    def n_steps(self) -> int:
        return self.spot.shape[0] - 1

    @property
    def n_paths(self) -> int:
        return self.spot.shape[1]

    @property
    def t_years(self) -> np.ndarray:
        """Times of the rows, years, shape ``(n_steps + 1,)``."""
        return np.arange(self.n_steps + 1) * self.dt_years


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _grid(n_days: int, steps_per_day: int, days_per_year: float) -> tuple[int, float]:
    if int(n_days) != n_days or n_days < 1:
        raise ValueError(f"n_days must be an integer >= 1, got {n_days!r}")
    if int(steps_per_day) != steps_per_day or steps_per_day < 1:
        raise ValueError(f"steps_per_day must be an integer >= 1, got {steps_per_day!r}")
    if not (math.isfinite(days_per_year) and days_per_year > 0):
        raise ValueError(f"days_per_year must be > 0, got {days_per_year!r}")
    return int(n_days) * int(steps_per_day), 1.0 / (float(days_per_year) * int(steps_per_day))


def _check_common(n_paths: int, spot0: float, sigma: float) -> None:
    if int(n_paths) != n_paths or n_paths < 1:
        raise ValueError(f"n_paths must be an integer >= 1, got {n_paths!r}")
    if not (math.isfinite(spot0) and spot0 > 0):
        raise ValueError(f"spot0 must be > 0, got {spot0!r}")
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")


def _cumulate(log_returns_blocks, n_steps: int, n_paths: int, spot0: float) -> np.ndarray:
    """Spot rows from blocks of log returns (in time order), without holding the returns at once."""
    out = np.empty((n_steps + 1, n_paths))
    out[0] = 0.0
    k = 0
    for block in log_returns_blocks:
        m = block.shape[0]
        np.cumsum(block, axis=0, out=out[k + 1 : k + 1 + m])
        out[k + 1 : k + 1 + m] += out[k]
        k += m
    np.exp(out, out=out)
    out *= spot0
    return out


def gbm_paths(
    n_paths: int,
    n_days: int,
    *,
    steps_per_day: int = 390,
    sigma: float = 0.2,
    spot0: float = 100.0,
    drift: float = 0.0,
    days_per_year: float = 365.0,
    seed=None,
) -> Paths:
    """Geometric Brownian motion ``dS/S = mu dt + sigma dW`` (exact log-normal steps).

    Parameters
    ----------
    n_paths, n_days : int
        Number of paths and of simulated days.
    steps_per_day : int, default 390
        Steps per day (390 one-minute steps of a US session).
    sigma : float, default 0.2
        Volatility, decimal per year.
    spot0 : float, default 100
        Initial spot, currency per share.
    drift : float, default 0
        ``mu``, decimal per year (the expected simple return rate).
    days_per_year : float, default 365
        Simulated days per year.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    Paths

    Examples
    --------
    >>> p = gbm_paths(3, 2, steps_per_day=4, seed=1)
    >>> p.spot.shape, p.steps_per_day, round(p.dt_years * 365 * 4, 12)
    ((9, 3), 4, 1.0)
    """
    _check_common(n_paths, spot0, sigma)
    n_steps, dt = _grid(n_days, steps_per_day, days_per_year)
    rng = _rng(seed)
    mu_dt = (float(drift) - 0.5 * sigma * sigma) * dt
    sd = sigma * math.sqrt(dt)

    def blocks():
        done = 0
        while done < n_steps:
            m = min(_ROWS_PER_BLOCK, n_steps - done)
            z = rng.standard_normal((m, n_paths))
            z *= sd
            z += mu_dt
            done += m
            yield z

    return Paths(_cumulate(blocks(), n_steps, n_paths, spot0), dt, steps_per_day)


def ar1_variance_ratio(phi: float, horizon_steps) -> np.ndarray | float:
    """Variance ratio of AR(1) returns at ``h`` steps: ``Var(r_1 + ... + r_h) / (h Var(r_1))``.

    ``VR(h) = 1 + 2 sum_{j=1}^{h-1} (1 - j/h) phi^j
    = (1 + phi)/(1 - phi) - 2 phi (1 - phi^h) / (h (1 - phi)^2)``; > 1 for ``phi > 0`` (trend),
    < 1 for ``phi < 0`` (mean reversion), tending to ``(1 + phi)/(1 - phi)`` for long horizons.

    Examples
    --------
    >>> ar1_variance_ratio(0.0, 10), round(ar1_variance_ratio(0.5, 2), 6)
    (1.0, 1.5)
    """
    if not (-1.0 < phi < 1.0):
        raise ValueError(f"phi must be in (-1, 1), got {phi!r}")
    h = np.asarray(horizon_steps, dtype=np.float64)
    if np.any(h < 1):
        raise ValueError("horizon_steps must be >= 1")
    vr = (1 + phi) / (1 - phi) - 2 * phi * (1 - phi**h) / (h * (1 - phi) ** 2)
    return float(vr) if vr.ndim == 0 else vr


def regime_paths(
    n_paths: int,
    n_days: int,
    *,
    phi: float,
    steps_per_day: int = 390,
    sigma: float = 0.2,
    spot0: float = 100.0,
    days_per_year: float = 365.0,
    seed=None,
) -> Paths:
    """Paths whose log returns are AR(1) across steps, with the SAME long-run variance as GBM.

    ``r_k = phi r_{k-1} + e_k``, ``e_k ~ N(0, (sigma sqrt(dt) (1 - phi))^2)``, started from the stationary
    distribution (and continuing across days: no overnight reset). The long-run variance of the sum of
    ``h`` returns is ``sigma^2 h dt`` as ``h -> inf`` (exactly
    ``sigma^2 dt (h - 2 phi (1 - phi^h) / (1 - phi^2))``), while one step has variance
    ``sigma^2 dt (1 - phi)/(1 + phi)``: with ``phi > 0`` returns trend (variance ratio
    :func:`ar1_variance_ratio` > 1: frequent hedging sees *less* variance than the long horizon), with
    ``phi < 0`` they mean-revert (ratio < 1: frequent hedging sees *more*). The log drift is
    ``-sigma^2/2`` per unit time (the GBM martingale correction at the long horizon).

    Parameters
    ----------
    phi : float
        Step-to-step autocorrelation of returns, in (-1, 1). The memory is ``~1/(1 - |phi|)`` steps.
    Other parameters as :func:`gbm_paths`.

    Returns
    -------
    Paths
    """
    _check_common(n_paths, spot0, sigma)
    if not (-1.0 < phi < 1.0):
        raise ValueError(f"phi must be in (-1, 1), got {phi!r}")
    n_steps, dt = _grid(n_days, steps_per_day, days_per_year)
    rng = _rng(seed)
    sd_e = sigma * math.sqrt(dt) * (1.0 - phi)
    sd_stationary = sd_e / math.sqrt(1.0 - phi * phi)
    mu_dt = -0.5 * sigma * sigma * dt

    def blocks():
        # a stationary "previous return": the first return phi*prev + e then has the stationary variance
        prev = rng.standard_normal(n_paths) * sd_stationary
        done = 0
        while done < n_steps:
            m = min(_ROWS_PER_BLOCK, n_steps - done)
            e = rng.standard_normal((m, n_paths))
            e *= sd_e
            r = np.empty_like(e)
            for i in range(m):
                prev = phi * prev + e[i]
                r[i] = prev
            r += mu_dt
            done += m
            yield r

    return Paths(_cumulate(blocks(), n_steps, n_paths, spot0), dt, steps_per_day)


def pinning_variance_ratio(short_var_multiple: float, memory_steps: float, horizon_steps):
    """Variance ratio at ``h`` steps of :func:`pinning_paths`: ``Var(h-step return) / (h Var(1 step))``.

    With ``m = short_var_multiple`` and ``psi = exp(-1/memory_steps)``:
    ``VR(h) = (h + (m - 1)(1 - psi^h)/(1 - psi)) / (h m)``, from 1 at one step down to ``1/m`` at long
    horizons (mean reversion up to ~``memory_steps``).

    Examples
    --------
    >>> pinning_variance_ratio(2.0, 30.0, 1)
    1.0
    """
    m = float(short_var_multiple)
    if not (math.isfinite(m) and m >= 1.0):
        raise ValueError(f"short_var_multiple must be >= 1, got {short_var_multiple!r}")
    if not (math.isfinite(memory_steps) and memory_steps > 0):
        raise ValueError(f"memory_steps must be > 0, got {memory_steps!r}")
    h = np.asarray(horizon_steps, dtype=np.float64)
    if np.any(h < 1):
        raise ValueError("horizon_steps must be >= 1")
    psi = math.exp(-1.0 / memory_steps)
    vr = (h + (m - 1.0) * (1.0 - psi**h) / (1.0 - psi)) / (h * m)
    return float(vr) if vr.ndim == 0 else vr


def pinning_paths(
    n_paths: int,
    n_days: int,
    *,
    short_var_multiple: float,
    memory_steps: float,
    steps_per_day: int = 390,
    sigma: float = 0.2,
    spot0: float = 100.0,
    days_per_year: float = 365.0,
    seed=None,
) -> Paths:
    """Mean reversion of the price level (pinning) over ``memory_steps``, same long-run variance as GBM.

    ``log S_k = log S_0 + W_k + X_k - X_0 - sigma^2 t_k / 2``: ``W`` a random walk with variance
    ``sigma^2 dt`` per step (the long-run variance), ``X`` a stationary AR(1) level with coefficient
    ``psi = exp(-1/memory_steps)`` and variance ``s^2 = (m - 1) sigma^2 dt / (2 (1 - psi))``, so that one
    step has variance ``m sigma^2 dt`` (``m = short_var_multiple``) and the variance ratio
    (:func:`pinning_variance_ratio`) falls from 1 at one step to ``1/m`` beyond the memory. Unlike
    AR(1) returns with ``phi < 0`` (memory of ~1 step), this mean reversion lasts long enough for a
    band rule to trade against it.

    Parameters
    ----------
    short_var_multiple : float
        ``m >= 1``: one-step variance over long-run variance per step (1 gives GBM).
    memory_steps : float
        Mean-reversion time of the level, steps (> 0).
    Other parameters as :func:`gbm_paths`.

    Returns
    -------
    Paths
    """
    _check_common(n_paths, spot0, sigma)
    pinning_variance_ratio(short_var_multiple, memory_steps, 1)  # validates
    n_steps, dt = _grid(n_days, steps_per_day, days_per_year)
    rng = _rng(seed)
    psi = math.exp(-1.0 / memory_steps)
    sd_w = sigma * math.sqrt(dt)
    s_level = math.sqrt((short_var_multiple - 1.0) * sigma * sigma * dt / (2.0 * (1.0 - psi)))
    sd_eta = s_level * math.sqrt(1.0 - psi * psi)
    mu_dt = -0.5 * sigma * sigma * dt

    def blocks():
        level = rng.standard_normal(n_paths) * s_level
        done = 0
        while done < n_steps:
            m = min(_ROWS_PER_BLOCK, n_steps - done)
            z = rng.standard_normal((m, n_paths)) * sd_w + mu_dt
            eta = rng.standard_normal((m, n_paths)) * sd_eta
            for i in range(m):
                new = psi * level + eta[i]
                z[i] += new - level
                level = new
            done += m
            yield z

    return Paths(_cumulate(blocks(), n_steps, n_paths, spot0), dt, steps_per_day)


def bootstrap_paths(
    daily_closes,
    n_paths: int,
    n_days: int,
    *,
    steps_per_day: int = 390,
    block_days: int = 5,
    spot0: float = 100.0,
    days_per_year: float = 365.0,
    demean: bool = True,
    seed=None,
) -> Paths:
    """Historical block bootstrap of daily log returns, with Brownian-bridge intraday paths.

    Daily log returns of ``daily_closes`` are resampled in blocks of ``block_days`` consecutive days
    (circular, uniformly random starts; keeps short-range dependence such as volatility clustering).
    Within a day the log price follows a Brownian bridge from 0 to that day's return, with the per-step
    variance ``s^2 / steps_per_day`` where ``s`` is the sample std of the daily returns (so the intraday
    path is as rough as an average day and ends exactly at the resampled close).

    Parameters
    ----------
    daily_closes : array_like, shape (n_obs,)
        Positive closes in time order (the caller reads them from wherever; this function does no I/O).
        At least ``block_days + 1`` values.
    n_paths, n_days : int
        Paths and simulated days.
    block_days : int, default 5
        Block length of the bootstrap, days.
    spot0 : float, default 100
        The paths start here (returns are applied to it).
    days_per_year : float, default 365
        Length of a simulated day is ``1/days_per_year`` years (see the module notes).
    demean : bool, default True
        Remove the sample mean of the daily log returns (zero drift: the hedging comparisons then
        isolate the realised variance and its dependence).
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    Paths
    """
    closes = np.asarray(daily_closes, dtype=np.float64).reshape(-1)
    if closes.size < 3 or not np.all(np.isfinite(closes)) or np.any(closes <= 0):
        raise ValueError("daily_closes must hold at least 3 finite prices > 0")
    if int(block_days) != block_days or block_days < 1:
        raise ValueError(f"block_days must be an integer >= 1, got {block_days!r}")
    _check_common(n_paths, spot0, 0.0)
    n_steps, dt = _grid(n_days, steps_per_day, days_per_year)
    r = np.diff(np.log(closes))
    if r.size < block_days:
        raise ValueError(f"need at least block_days + 1 = {block_days + 1} closes, got {closes.size}")
    if demean:
        r = r - r.mean()
    rng = _rng(seed)
    n_blocks = -(-int(n_days) // int(block_days))
    starts = rng.integers(0, r.size, size=(n_blocks, n_paths))
    idx = (starts[:, None, :] + np.arange(block_days)[None, :, None]) % r.size
    daily = r[idx.reshape(n_blocks * block_days, n_paths)[: int(n_days)]]  # (n_days, n_paths)
    s_step = float(np.std(r, ddof=1)) / math.sqrt(steps_per_day) if r.size > 1 else 0.0
    spd = int(steps_per_day)
    frac = np.arange(1, spd + 1)[:, None] / spd

    def blocks():
        for d in range(int(n_days)):
            w = np.cumsum(rng.standard_normal((spd, n_paths)) * s_step, axis=0)
            bridge = w - frac * w[-1] + frac * daily[d]  # ends exactly at the day's return
            inc = np.diff(bridge, axis=0, prepend=np.zeros((1, n_paths)))
            yield inc

    return Paths(_cumulate(blocks(), n_steps, n_paths, spot0), dt, steps_per_day)
