"""A seeded daily path of an index on the NYSE calendar, with calm and turbulent stretches.

The path is a two-state regime-switching random walk:

- **regimes** follow a Markov chain on sessions: *calm* (realised volatility drawn in 10-12% per year at
  each entry, an upward drift) and *turbulent* (25-40% per year, a downward drift), each persistent
  (mean stays :data:`CALM_MEAN_SESSIONS` and :data:`TURBULENT_MEAN_SESSIONS`). Selloffs with high
  volatility and slow calm grinds up are what move spot across the strikes where open interest was
  built, and so what flips the sign of dealer gamma;
- **daily log returns** are the regime's drift plus its volatility times a Student-t(5) shock scaled to
  unit variance (fat tails);
- **open, high, low** come from an overnight gap (a third of the day's volatility) and intraday
  excursions beyond the open/close range;
- **implied volatility** (the ``base_vol`` of :func:`gex_market.chain.smile_vol`) mean-reverts towards the
  regime's realised volatility plus a risk premium and jumps when spot falls (the leverage effect);
- **skew scale** (>= 1) steepens the smile when spot is in a drawdown from its 10-session high;
- **drawdown** from the 63-session (quarter) high, which with implied volatility sets how stressed the
  positioning of new option interest is (:func:`gex_market.book.positioning`).

Units: prices in index points rounded to cents like official closes; volatilities annualised decimals
(252 sessions per year for realised volatility, the smile's own 365-day year for implied).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from gex.calendar import is_session, next_session, previous_session

SESSIONS_PER_YEAR = 252.0

#: Realised volatility ranges (annualised decimal) drawn uniformly at each entry into a regime.
CALM_VOL = (0.10, 0.12)
TURBULENT_VOL = (0.25, 0.40)
#: Mean drift (log return per year) and its per-stretch dispersion: calm stretches grind up, turbulent
#: ones sell off (the stretch draws its own drift, so some calm stretches drift sideways).
CALM_DRIFT = (0.20, 0.12)
TURBULENT_DRIFT = (-0.45, 0.35)
#: Mean length of a stretch, sessions (Markov persistence ``1 - 1 / mean``).
CALM_MEAN_SESSIONS = 45.0
TURBULENT_MEAN_SESSIONS = 15.0

#: Implied-volatility dynamics: mean-reversion speed per session, risk premium over realised (ratio and
#: additive), the move per unit of log return (vol rises on down days and eases on up days), and the
#: daily noise (all decimal vol units).
#: ``base_vol`` is ~1.2x the 30-day ATM volatility of the smile, hence the 1.25 ratio.
IV_SPEED = 0.12
IV_PREMIUM = (1.25, 0.01)
IV_LEVERAGE = 1.2
IV_NOISE = 0.004
IV_BOUNDS = (0.08, 0.90)


@dataclass(frozen=True)
class UnderlyingPath:
    """Daily bars and volatility state of one index.

    Attributes
    ----------
    sessions:
        NYSE sessions, ascending.
    open, high, low, close:
        Daily bars, index points rounded to 0.01; ``low <= min(open, close)`` and ``high >= max(open, close)``.
    previous_close:
        Close of the session before the first one (the path's starting level), points.
    turbulent:
        Per session, whether the volatility regime is turbulent (else calm).
    realised_vol:
        Per session, the regime's volatility the day's return was drawn with, decimal per year.
    implied_vol:
        Per session, ``base_vol`` of the option surface at the close, decimal per year.
    skew_scale:
        Per session, factor (1 .. 1.3) on the log-moneyness of the smile: >1 steepens the skew.
    drawdown:
        Per session, ``1 - close / max(closes of the last 63 sessions)``, decimal (0 at a high).
    """

    sessions: tuple[dt.date, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    previous_close: float
    turbulent: np.ndarray
    realised_vol: np.ndarray
    implied_vol: np.ndarray
    skew_scale: np.ndarray
    drawdown: np.ndarray

    def __len__(self) -> int:
        return len(self.sessions)


def sessions_from(start: dt.date, count: int) -> list[dt.date]:
    """``count`` consecutive NYSE sessions from ``start`` (or the first session after it)."""
    day = start if is_session(start) else next_session(start)
    out = [day]
    while len(out) < count:
        out.append(next_session(out[-1]))
    return out[:count]


def sessions_before(first: dt.date, count: int) -> list[dt.date]:
    """The ``count`` sessions before ``first``, ascending."""
    out: list[dt.date] = []
    day = first
    for _ in range(count):
        day = previous_session(day)
        out.append(day)
    return out[::-1]


def simulate_path(
    sessions: list[dt.date], *, rng: np.random.Generator, level: float = 5000.0, anchor: int | None = None
) -> UnderlyingPath:
    """Simulate the index over ``sessions``.

    Parameters
    ----------
    sessions:
        Consecutive NYSE sessions, ascending.
    rng:
        Source of every draw (the path is a pure function of its state).
    level:
        Index level, points: the close before the first session, or the close of session ``anchor``.
    anchor:
        Index of the session whose close is ``level`` (a burn-in history ending where a published market
        starts); ``None``: the close before the first session is ``level``.

    Returns
    -------
    UnderlyingPath
    """
    n = len(sessions)
    turbulent = np.zeros(n, dtype=bool)
    vol = np.empty(n)
    drift = np.empty(n)
    state = bool(rng.uniform() < 0.25)  # start in turbulence about as often as the chain is there
    stay = {False: 1.0 - 1.0 / CALM_MEAN_SESSIONS, True: 1.0 - 1.0 / TURBULENT_MEAN_SESSIONS}
    # draws session by session, so that a shorter market is exactly a prefix of a longer one
    uniforms = np.empty((n, 2))
    normals = np.empty((n, 11))
    for i in range(n):
        uniforms[i] = rng.uniform(size=2)
        normals[i] = rng.standard_normal(11)
    u_switch, u_vol, z_drift = uniforms[:, 0], uniforms[:, 1], normals[:, 0]
    current_vol, current_drift = 0.0, 0.0
    for i in range(n):
        entered = i == 0 or u_switch[i] > stay[state]
        if entered and i > 0:
            state = not state
        if entered:  # each stretch draws its own volatility and drift
            lo, hi = TURBULENT_VOL if state else CALM_VOL
            mean, spread = TURBULENT_DRIFT if state else CALM_DRIFT
            current_vol = lo + (hi - lo) * u_vol[i]
            current_drift = mean + spread * z_drift[i]
        turbulent[i], vol[i], drift[i] = state, current_vol, current_drift

    daily = vol / np.sqrt(SESSIONS_PER_YEAR)
    chi2 = np.sum(normals[:, 1:6] ** 2, axis=1)
    shocks = normals[:, 6] / np.sqrt(chi2 / 5.0) / np.sqrt(5.0 / 3.0)  # Student-t(5) at unit variance: fat tails
    log_ret = (drift - 0.5 * vol**2) / SESSIONS_PER_YEAR + daily * shocks
    log_close = np.cumsum(log_ret)
    base = np.log(level) - (0.0 if anchor is None else log_close[anchor])
    close = np.exp(base + log_close)
    prev = np.exp(base + np.concatenate([[0.0], log_close[:-1]]))

    gap = np.exp(daily * normals[:, 7] / 3.0)
    open_ = prev * gap
    # intraday excursions beyond the open-close range, of the order of half a daily s.d.
    high = np.maximum(open_, close) * np.exp(0.5 * daily * np.abs(normals[:, 8]))
    low = np.minimum(open_, close) * np.exp(-0.5 * daily * np.abs(normals[:, 9]))

    implied = np.empty(n)
    iv = IV_PREMIUM[0] * vol[0] + IV_PREMIUM[1]
    noise = normals[:, 10] * IV_NOISE
    for i in range(n):
        target = IV_PREMIUM[0] * vol[i] + IV_PREMIUM[1]
        iv += IV_SPEED * (target - iv) - IV_LEVERAGE * log_ret[i] + noise[i]
        iv = float(np.clip(iv, *IV_BOUNDS))
        implied[i] = iv

    # drawdown from the 10-session high (closes, the start level included) steepens the skew
    closes_with_start = np.concatenate([[prev[0]], close])
    highs = np.array([closes_with_start[max(0, i - 9) : i + 2].max() for i in range(n)])
    skew = np.clip(1.0 + 3.0 * np.log(highs / close), 1.0, 1.3)
    quarter_highs = np.array([closes_with_start[max(0, i - 62) : i + 2].max() for i in range(n)])

    r2 = lambda a: np.round(a, 2)  # noqa: E731 - official index levels have 2 decimals
    return UnderlyingPath(
        sessions=tuple(sessions),
        open=r2(open_),
        high=r2(high),
        low=r2(low),
        close=r2(close),
        previous_close=float(np.round(prev[0], 2)),
        turbulent=turbulent,
        realised_vol=vol,
        implied_vol=implied,
        skew_scale=skew,
        drawdown=1.0 - close / quarter_highs,
    )
