"""Listed strikes and open interest carried from session to session (vectorised over all expiries).

State is one row per **quote line** (expiration, root, strike), keyed by a sortable ``int64``
(:func:`line_keys`) whose order is the Cboe quote-table order (expiration, strike, then the AM root before
the PM root), with the open interest of its call and put at the **close of the previous session**.

One session of the book, at the close of session t (see :mod:`gex_market.market`):

1. :meth:`OpenInterestBook.drop_expired` removes lines that expired before t (they are absent from every
   file from t on);
2. :meth:`OpenInterestBook.list_lines` adds the strikes listed today (the grid around today's spot);
   listed lines stay listed until expiry, new ones start with zero open interest;
3. :func:`trade` turns the opening open interest into the closing one: each position survives the
   session with probability :data:`RETENTION` (stochastic rounding of ``RETENTION * OI``) and new
   interest arrives around **today's** spot (density of :func:`gex_market.chain.open_interest_density`,
   strike spacing, round-strike attraction, puts heavier; :func:`positioning` moves puts towards the money
   when volatility is high), sized per expiry so that its total
   tracks :func:`gex_market.chain.expiry_open_interest`, which grows as expiry approaches. Positions
   opened when spot was elsewhere stay where they were opened: that memory is what makes dealer gamma
   change sign when spot travels.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from gex_market.chain import open_interest_density, strike_roundness

#: Share of a contract's open interest still open at the next close (positions closed at ~7% a day: a
#: half-life of ~10 sessions). Fitted to the real SPX chains (docs/market-generator.md, "Calibration"): with
#: 0.975 positions opened months earlier dominated, and the generated year reached -130 $bn with flips 17%
#: from spot against -42 .. +64 $bn and 0.2-2.8% in the real files.
RETENTION = 0.93
#: New interest per session is at least this share of the steady-state inflow ``(1 - RETENTION) * target``.
MIN_INFLOW = 0.25
#: Log-normal dispersion of each expiry's daily inflow.
INFLOW_NOISE = 0.25
#: Tenor (years) beyond which new interest spreads no wider across strikes: hedgers pick long-dated
#: strikes by moneyness (10-20% out of the money), not by standard deviations of a 2-year horizon.
SPREAD_TENOR_CAP = 0.25


@dataclass(frozen=True)
class Positioning:
    """Where new interest goes: the put share and the shape of :func:`gex_market.chain.open_interest_density`
    (peaks and widths in s.d. of moneyness from today's spot)."""

    put_share: float
    put_peak: float
    put_width: float
    call_peak: float
    call_width: float

    def density(self) -> dict[str, float]:
        """Keyword arguments of :func:`gex_market.chain.open_interest_density`."""
        return {
            "put_peak": self.put_peak,
            "put_width": self.put_width,
            "call_peak": self.call_peak,
            "call_width": self.call_width,
        }


#: Calm markets: protective puts out of the money, calls (overwriting) above spot. Positions opened around
#: the current spot leave dealers (classic convention: long calls, short puts) long gamma. Fitted to the
#: seven real SPX chains (puts 64-72% of open interest; docs/market-generator.md, "Calibration").
CALM = Positioning(put_share=0.64, put_peak=-1.7, put_width=1.4, call_peak=0.5, call_width=0.8)
#: Stressed markets: hedgers buy puts closer to the money and calls are sold back; fresh positions leave
#: dealers short gamma near spot, on top of the puts opened earlier that a selloff has brought near it.
STRESSED = Positioning(put_share=0.68, put_peak=-1.5, put_width=1.2, call_peak=0.3, call_width=0.9)
#: Surface ``base_vol`` at which positioning starts to be stressed (stress 0) and is fully stressed (1).
STRESS_VOL = (0.16, 0.32)
#: Same for the drawdown from the quarter's high (decimal): hedging demand lingers while the index is
#: below its recent high, after volatility has eased.
STRESS_DRAWDOWN = (0.02, 0.08)


def stress(vol: float, drawdown: float) -> float:
    """Market stress in 0..1: the larger of the volatility and drawdown scores (linear in their ranges)."""
    by_vol = (vol - STRESS_VOL[0]) / (STRESS_VOL[1] - STRESS_VOL[0])
    by_drawdown = (drawdown - STRESS_DRAWDOWN[0]) / (STRESS_DRAWDOWN[1] - STRESS_DRAWDOWN[0])
    return float(np.clip(max(by_vol, by_drawdown), 0.0, 1.0))


def positioning(level: float) -> Positioning:
    """Positioning of new interest at stress ``level`` (0..1, :func:`stress`): linear between
    :data:`CALM` and :data:`STRESSED`."""
    w = float(np.clip(level, 0.0, 1.0))
    mix = {f: (1 - w) * getattr(CALM, f) + w * getattr(STRESSED, f) for f in Positioning.__dataclass_fields__}
    return Positioning(**mix)


_EXP_SHIFT = 33  # key bits: expiration ordinal | strike in cents (32 bits) | PM flag (1 bit)
_CENTS_MASK = (1 << 32) - 1


def line_keys(expiration_ordinal: np.ndarray | int, strike: np.ndarray, pm: np.ndarray | bool) -> np.ndarray:
    """Sortable line keys from expiration (``date.toordinal()``), strike (points) and PM-root flag."""
    cents = np.round(np.asarray(strike, dtype=float) * 100.0).astype(np.int64)
    ordinal = np.asarray(expiration_ordinal, dtype=np.int64)
    return (ordinal << _EXP_SHIFT) | (cents << 1) | np.asarray(pm, dtype=np.int64)


def decode_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(expiration_ordinal, strike_points, pm_flag)`` of line keys."""
    return keys >> _EXP_SHIFT, ((keys >> 1) & _CENTS_MASK) / 100.0, (keys & 1).astype(bool)


def expiry_keys(keys: np.ndarray) -> np.ndarray:
    """Key of each line's expiry: ``expiration_ordinal * 2 + pm_flag`` (sorted like (expiration, root))."""
    return ((keys >> _EXP_SHIFT) << 1) | (keys & 1)


@dataclass
class OpenInterestBook:
    """Listed lines and their open interest at the previous close.

    Attributes
    ----------
    keys:
        Sorted line keys (:func:`line_keys`), shape ``(n_lines,)``.
    oi:
        Open interest, contracts, shape ``(n_lines, 2)``: column 0 the call, 1 the put.
    """

    keys: np.ndarray
    oi: np.ndarray

    @classmethod
    def empty(cls) -> OpenInterestBook:
        return cls(np.empty(0, dtype=np.int64), np.empty((0, 2), dtype=np.int64))

    def __len__(self) -> int:
        return len(self.keys)

    def drop_expired(self, session: dt.date) -> None:
        """Forget lines whose expiration is before ``session``."""
        keep = (self.keys >> _EXP_SHIFT) >= session.toordinal()
        self.keys, self.oi = self.keys[keep], self.oi[keep]

    def list_lines(self, keys: np.ndarray) -> np.ndarray:
        """List ``keys`` (already listed ones are ignored) and return the mask of lines new today."""
        merged = np.union1d(self.keys, keys)
        old = np.searchsorted(merged, self.keys)
        oi = np.zeros((len(merged), 2), dtype=np.int64)
        oi[old] = self.oi
        new = np.ones(len(merged), dtype=bool)
        new[old] = False
        self.keys, self.oi = merged, oi
        return new


def strike_spacing(strikes: np.ndarray, group: np.ndarray, unit: float) -> np.ndarray:
    """Distance to the neighbouring strikes of the same expiry (``np.gradient`` per group), points.

    One-sided at the ends of an expiry's grid, ``unit`` for a lone strike, capped at ``40 * unit`` so a
    wing strike does not gather a whole empty region.
    """
    order = np.lexsort((strikes, group))
    k, g = strikes[order], group[order]
    step = np.diff(k)
    same = g[1:] == g[:-1]
    left = np.concatenate([[np.nan], np.where(same, step, np.nan)])
    right = np.concatenate([np.where(same, step, np.nan), [np.nan]])
    both = np.where(np.isnan(left), right, np.where(np.isnan(right), left, 0.5 * (left + right)))
    out = np.empty_like(strikes)
    out[order] = np.where(np.isnan(both), unit, both)
    return np.minimum(out, 40.0 * unit)


def interest_weights(
    strikes: np.ndarray,
    group: np.ndarray,
    tenor_years: np.ndarray,
    spot: float,
    vol: float,
    unit: float,
    where: Positioning = CALM,
) -> np.ndarray:
    """Relative attraction of new interest per line, shape ``(n_lines, 2)`` (call, put).

    The density of ``where`` over ``x = ln(K/spot) / (vol sqrt(T))`` (T within 3 days ..
    :data:`SPREAD_TENOR_CAP`) times the strike spacing
    (a coarse wing strike gathers what finer strikes would share) and the round-strike attraction.

    Parameters
    ----------
    strikes, group:
        Per line: strike (points) and expiry index.
    tenor_years:
        Per expiry: time to settlement, years.
    spot:
        Level new positions are opened around, points.
    vol:
        Volatility scale of the spread across strikes, decimal per year.
    unit:
        Finest strike increment, points.
    where:
        Positioning of the new interest (:func:`positioning`).
    """
    scale = vol * np.sqrt(np.clip(tenor_years, 3.0 / 365.0, SPREAD_TENOR_CAP))[group]
    x = np.log(strikes / spot) / scale
    base = strike_spacing(strikes, group, unit) * strike_roundness(strikes, unit)
    n = len(strikes)
    return np.stack(
        [open_interest_density(x, np.full(n, call), **where.density()) * base for call in (True, False)], axis=1
    )


def new_interest(
    weights: np.ndarray,
    group: np.ndarray,
    inflow: np.ndarray,
    norm: np.ndarray,
    rng: np.random.Generator,
    *,
    put_share: float = CALM.put_share,
) -> np.ndarray:
    """New open interest opened today per line, contracts, shape ``(n_lines, 2)`` (call, put).

    Line ``j`` of expiry ``g`` gets a gamma-Poisson draw of mean
    ``inflow[g] * share * weights[j] / norm[g]``, ``share`` being ``put_share`` for puts.

    Parameters
    ----------
    weights:
        :func:`interest_weights` of the listed lines.
    group:
        Per line, expiry index.
    inflow:
        Per expiry: expected new contracts today (calls + puts) on the **full** strike grid.
    norm:
        Per expiry and side, shape ``(n_expiries, 2)``: the sum of the weights over the full grid of the
        expiry at today's spot. Normalising by the full grid (not by the listed lines) keeps the interest of
        each listed strike what it would be in the full market when the listing is thinned: positions that
        would sit on unlisted strikes are not piled onto the listed ones, which would distort dealer gamma.
    rng:
        Source of the gamma-Poisson draws.
    """
    n = len(group)
    out = np.zeros((n, 2), dtype=np.int64)
    for side, share in enumerate((1.0 - put_share, put_share)):
        total = norm[:, side][group]
        mean = np.where(total > 0, inflow[group] * share * weights[:, side] / np.where(total > 0, total, 1.0), 0.0)
        out[:, side] = rng.poisson(mean * rng.gamma(0.8, 1.0 / 0.8, n))
    return out


def full_grid_norm(
    grids: list[np.ndarray], tenor_years: np.ndarray, spot: float, vol: float, unit: float, where: Positioning = CALM
) -> np.ndarray:
    """Per expiry and side, the sum of :func:`interest_weights` over its full grid, shape ``(n, 2)``.

    ``grids[g]`` is expiry ``g``'s full strike grid at today's spot (empty for one that settled).
    """
    sizes = np.array([len(g) for g in grids])
    group = np.repeat(np.arange(len(grids)), sizes)
    if not len(group):
        return np.zeros((len(grids), 2))
    w = interest_weights(np.concatenate(grids), group, tenor_years, spot, vol, unit, where)
    return np.stack([np.bincount(group, w[:, side], len(grids)) for side in (0, 1)], axis=1)


def retain(oi: np.ndarray, rng: np.random.Generator, retention: float = RETENTION) -> np.ndarray:
    """Open interest still open after one session: ``retention * oi`` stochastically rounded, contracts."""
    kept = retention * oi
    return np.floor(kept + rng.uniform(size=oi.shape)).astype(np.int64)


def target_inflow(target: np.ndarray, open_total: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per expiry, expected new contracts today so that the total tracks ``target`` (contracts).

    ``target - RETENTION * open_total`` (what retention leaves missing), at least :data:`MIN_INFLOW` of
    the steady-state inflow, with log-normal noise.
    """
    need = np.maximum(target - RETENTION * open_total, MIN_INFLOW * (1.0 - RETENTION) * target)
    return need * np.exp(rng.normal(0.0, INFLOW_NOISE, len(target)))
