"""A synthetic but realistic SPX-like option chain at one session's close.

:func:`generate_chain` composes small, separately usable steps, so that a multi-session market (an
underlying path, open interest building up and rolling off) can reuse them one by one:

1. :func:`expiry_schedule` - the listed expiries on the real NYSE calendar (dailies, weeklies, AM monthlies
   and their PM twins, month/quarter ends, LEAPS);
2. :func:`strike_grid` - strikes, 5 points apart near the money, coarser further out, zones scaling with
   the square root of the tenor;
3. :func:`smile_vol` - a skewed smile with a term structure;
4. :func:`quote_contracts` - Black-Scholes theoretical values (:mod:`gex.greeks`) turned into tick-rounded
   bid/ask quotes, a last sale and vendor greeks rounded as Cboe publishes them;
5. :func:`open_interest_profile` and :func:`session_volume` - seeded open interest and volume.

Units: prices and strikes in index points (currency per share); tenors in years of 365 days measured
from the valuation instant (the session close) to each contract's settlement instant; volatilities,
rates and yields as annualised decimals; open interest and volume in contracts.

Randomness: every random draw comes from a ``numpy.random.Generator`` seeded by ``(seed, session,
expiration, root, stream)``, so one expiry's quotes and open interest do not depend on which other
expiries or how many strikes are generated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zlib import crc32

import numpy as np
import polars as pl

from gex import greeks
from gex.calendar import (
    NEW_YORK,
    UTC,
    is_session,
    previous_session,
    session_close,
    sessions_between,
    settlement_instant,
)
from gex.chain import CHAIN_SCHEMA, ChainSnapshot, conform

_SECONDS_PER_YEAR = 365.0 * 86_400.0

#: Underlying -> (AM-settled monthly root, PM-settled root, long name written in vendor headers).
ROOTS: dict[str, tuple[str, str, str]] = {
    "SPX": ("SPX", "SPXW", "S&P 500 INDEX"),
    "NDX": ("NDX", "NDXP", "NASDAQ 100 INDEX"),
    "RUT": ("RUT", "RUTW", "RUSSELL 2000 INDEX"),
    # ETFs: one root, every expiry PM-settled (American style; the models use European gamma, see docs)
    "SPY": ("SPY", "SPY", "SPDR S&P 500 ETF Trust"),
    "QQQ": ("QQQ", "QQQ", "Invesco QQQ Trust, Series 1"),
}

#: Usual close of each underlying, points (a default starting level for ``gex generate``).
TYPICAL_SPOT: dict[str, float] = {"SPX": 5000.0, "NDX": 18000.0, "RUT": 2000.0, "SPY": 500.0, "QQQ": 450.0}


def single_root(root: str) -> bool:
    """Whether ``root`` is an underlying listed under one root only (an ETF: all expiries PM-settled)."""
    return root in ROOTS and ROOTS[root][0] == ROOTS[root][1]

#: Expiry kinds, most important first (an expiry that is several kinds gets the first).
KINDS: tuple[str, ...] = ("leaps", "monthly", "quarterly", "month_end", "weekly", "daily")

#: New York wall-clock time of the evening snapshot (the real end-of-day files are taken ~20:30).
SNAPSHOT_TIME = dt.time(20, 30)


@dataclass(frozen=True)
class Expiry:
    """One listed expiration of one option root.

    Attributes
    ----------
    expiration:
        Expiration (last trading) date, New York.
    root:
        Option root ("SPX" AM-settled, "SPXW" PM-settled).
    settlement:
        "AM" (opening print of ``expiration``) or "PM" (its close).
    settlement_ts:
        Settlement instant, UTC.
    kind:
        One of :data:`KINDS`; drives open-interest size and strike coverage.
    """

    expiration: dt.date
    root: str
    settlement: str
    settlement_ts: dt.datetime
    kind: str


def _rng(seed: int, *keys: object) -> np.random.Generator:
    """A generator keyed by ``seed`` and stable hashes of ``keys`` (dates, roots, stream names)."""
    return np.random.default_rng([seed & 0xFFFFFFFF, *(crc32(str(k).encode()) for k in keys)])


def _third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def _on_or_before_session(day: dt.date) -> dt.date:
    """``day`` if it is a session, else the session before (holiday-shifted listings)."""
    return day if is_session(day) else previous_session(day)


def _month_add(year: int, month: int, n: int) -> tuple[int, int]:
    y, m = divmod(month - 1 + n, 12)
    return year + y, m + 1


def _last_session_of_month(year: int, month: int) -> dt.date:
    ny, nm = _month_add(year, month, 1)
    return previous_session(dt.date(ny, nm, 1))


def expiry_schedule(
    session: dt.date,
    *,
    underlying: str = "SPX",
    daily_days: int = 14,
    weekly_days: int = 63,
    monthly_months: int = 12,
    pm_monthly_months: int = 5,
    month_end_months: int = 2,
    quarter_end_months: int = 12,
    leaps_years: int = 3,
) -> list[Expiry]:
    """Expiries listed at the close of ``session``, sorted by (expiration, root).

    Parameters
    ----------
    session:
        As-of NYSE session. Its own 0-DTE PM expiry (and, on a third Friday, the AM monthly that settled
        at the open) is included, as in real end-of-day files.
    underlying:
        A key of :data:`ROOTS`.
    daily_days:
        PM-settled expiries on every session up to this many calendar days ahead.
    weekly_days:
        PM-settled Friday expiries (Thursday when Friday is a holiday) up to this many calendar days.
    monthly_months:
        AM-settled third-Friday expiries for this many months (this month included when not past).
    pm_monthly_months:
        PM twins of the AM monthlies on the same date, for this many months.
    month_end_months, quarter_end_months:
        PM expiries on the last session of every month / of every quarter-end month, up to this many
        months ahead.
    leaps_years:
        AM-settled December third-Friday expiries for years ``+1 .. +leaps_years``.

    Returns
    -------
    list[Expiry]
    """
    if not is_session(session):
        raise ValueError(f"{session} is not an NYSE session")
    am_root, pm_root, _ = ROOTS[underlying]
    found: dict[tuple[dt.date, str], str] = {}

    def add(day: dt.date, root: str, kind: str) -> None:
        if day < session:
            return
        key = (day, root)
        if key not in found or KINDS.index(kind) < KINDS.index(found[key]):
            found[key] = kind

    for day in sessions_between(session, session + dt.timedelta(days=daily_days)):
        add(day, pm_root, "daily")
    friday = session + dt.timedelta(days=(4 - session.weekday()) % 7)
    while friday <= session + dt.timedelta(days=weekly_days):
        add(_on_or_before_session(friday), pm_root, "weekly")
        friday += dt.timedelta(days=7)
    for n in range(max(monthly_months, month_end_months, quarter_end_months) + 1):
        year, month = _month_add(session.year, session.month, n)
        monthly = _on_or_before_session(_third_friday(year, month))
        if n <= monthly_months:
            add(monthly, am_root, "monthly")
        if n <= pm_monthly_months:
            add(monthly, pm_root, "monthly")
        if n <= month_end_months:
            add(_last_session_of_month(year, month), pm_root, "month_end")
        if n <= quarter_end_months and month % 3 == 0:
            add(_last_session_of_month(year, month), pm_root, "quarterly")
    for k in range(1, leaps_years + 1):
        add(_on_or_before_session(_third_friday(session.year + k, 12)), am_root, "leaps")

    out = []
    for (day, root), kind in sorted(found.items()):
        style = "AM" if root == am_root and am_root != pm_root else "PM"
        out.append(Expiry(day, root, style, settlement_instant(day, style), kind))
    return out


def year_fraction(start: dt.datetime, end: dt.datetime) -> float:
    """Calendar time from ``start`` to ``end`` in years of 365 days (negative when ``end`` is earlier)."""
    return (end - start).total_seconds() / _SECONDS_PER_YEAR


def _nice_unit(spot: float) -> float:
    """Finest strike increment for an index at ``spot``: the 1-2-5 number nearest (in ratio) to spot/1000."""
    raw = np.log10(spot / 1000.0)
    candidates = [m * 10.0**e for e in (np.floor(raw) - 1, np.floor(raw), np.floor(raw) + 1) for m in (1.0, 2.0, 5.0)]
    return float(min(candidates, key=lambda c: abs(np.log10(c) - raw)))


def strike_grid(spot: float, tenor_years: float, *, base_vol: float = 0.15) -> np.ndarray:
    """Listed strikes for one expiry, index points, ascending.

    Four zones in log-moneyness ``x = ln(K/spot)``, each wider than the last, with a coarser increment:
    ``unit`` (5 for SPX), 5, 20 and 40 units (25, 100, 200 points). Zone half-widths scale with
    ``base_vol * sqrt(T)`` (floored at 2 days so that 0-DTE chains still reach ~8% OTM) and the put side
    reaches further than the call side. Expiries beyond 6 months start one rung coarser (25 points),
    beyond 15 months two rungs (100 points).

    Parameters
    ----------
    spot:
        Underlying price, index points.
    tenor_years:
        Time to settlement, years (<= 0 for expired contracts; treated as 2 days).
    base_vol:
        Volatility scale of the zone widths, decimal per year.
    """
    unit = _nice_unit(spot)
    ladder = unit * np.array([1.0, 5.0, 20.0, 40.0])
    s = base_vol * np.sqrt(max(tenor_years, 2.0 / 365.0))
    # (put-side reach, call-side reach) of each zone, log-moneyness
    zones = [
        (np.clip(3.5 * s, 0.08, 0.25), np.clip(2.0 * s, 0.05, 0.12)),
        (np.clip(6.0 * s, 0.15, 0.45), np.clip(3.5 * s, 0.08, 0.30)),
        (np.clip(10.0 * s, 0.30, 1.00), np.clip(6.0 * s, 0.12, 0.60)),
        (np.log(4.0), np.clip(6.0 * s, 0.15, 0.70)),
    ]
    shift = 0 if tenor_years < 0.5 else 1 if tenor_years < 1.25 else 2
    parts = []
    for j, (down, up) in enumerate(zones):
        step = ladder[min(j + shift, len(ladder) - 1)]
        lo = np.ceil(spot * np.exp(-down) / step) * step
        hi = np.floor(spot * np.exp(up) / step) * step
        parts.append(np.arange(lo, hi + step / 2, step))
    strikes = np.unique(np.round(np.concatenate(parts), 2))
    return strikes[strikes > 0]


def thin_strikes(strikes: np.ndarray, spot: float, tenor_years: float, keep: int, *, base_vol: float = 0.15) -> np.ndarray:
    """Keep ``keep`` strikes of ``strikes``: the nearest the money, preferring round ones, ascending.

    Priority is the distance from spot in units of ``base_vol * sqrt(T) * spot`` minus a bonus for
    multiples of 20 and 5 finest increments (100 and 25 points for SPX), so a thinned chain keeps its
    near-the-money 5-point strikes and the round strikes further out.
    """
    if keep >= len(strikes):
        return strikes
    unit = _nice_unit(spot)
    sd = base_vol * np.sqrt(max(tenor_years, 2.0 / 365.0)) * spot
    priority = np.abs(strikes - spot) / sd - 1.0 * _is_multiple(strikes, 20 * unit) - 0.5 * _is_multiple(strikes, 5 * unit)
    chosen = np.sort(np.argsort(priority, kind="stable")[: max(keep, 1)])
    return strikes[chosen]


def _is_multiple(strikes: np.ndarray, step: float) -> np.ndarray:
    r = np.remainder(strikes, step)
    return (np.minimum(r, step - r) < 1e-6).astype(float)


def atm_vol(tenor_years: np.ndarray | float, base_vol: float = 0.15) -> np.ndarray:
    """At-the-money volatility term structure, decimal per year: ``0.80 * base_vol`` at T=0 rising to ~1.15x."""
    t = np.maximum(np.asarray(tenor_years, dtype=float), 0.0)
    return base_vol * (0.80 + 0.35 * (1.0 - np.exp(-t / 0.75)))


def smile_vol(log_moneyness: np.ndarray, tenor_years: np.ndarray | float, *, base_vol: float = 0.15) -> np.ndarray:
    """Implied volatility, decimal per year, of strikes at ``log_moneyness = ln(K/F)``; ``tenor_years`` is
    one tenor or one per strike.

    With ``k = ln(K/F) / sqrt(T)`` (T floored at one day), ``atm = atm_vol(T)``,
    ``skew(T) = -base_vol * (1.4 + 0.4 * exp(-T / 0.25))`` (steeper at the front) and a call-side
    curvature ``c = 4 * base_vol``:

    - below the forward, a put skew that saturates in the far wing:
      ``sigma = atm + W * tanh(skew * k / W)`` with ``W = 2.5 * base_vol`` (slope ``skew`` near the money);
    - above it, ``sigma = atm + skew * k + c * k**2`` up to ``k = -skew / c`` (where it is back at
      ``atm`` after a dip to ``atm - skew**2 / (4 c)``), flat beyond.

    The wings are bounded so that quoted prices stay free of vertical-spread arbitrage (call values
    decrease and put values increase with the strike). Floored at ``0.6 * atm``, capped at 1.0.
    """
    t = np.maximum(np.asarray(tenor_years, dtype=float), 1.0 / 365.0)  # per contract or one per expiry
    k = np.asarray(log_moneyness, dtype=float) / np.sqrt(t)
    atm = atm_vol(t, base_vol)
    skew = -base_vol * (1.4 + 0.4 * np.exp(-t / 0.25))
    curvature = 4.0 * base_vol
    wing = 2.5 * base_vol
    k_up = np.clip(k, 0.0, -skew / curvature)
    down = atm + wing * np.tanh(skew * np.minimum(k, 0.0) / wing)
    sigma = np.where(k < 0, down, atm + skew * k_up + curvature * k_up**2)
    return np.clip(sigma, 0.6 * atm, 1.0)


def _tick(price: np.ndarray) -> np.ndarray:
    """Cboe SPX minimum increments: 0.05 below 3.00, 0.10 from 3.00."""
    return np.where(price < 3.0, 0.05, 0.10)


def _round_down(price: np.ndarray) -> np.ndarray:
    tick = _tick(price)
    return np.round(np.floor(price / tick + 1e-9) * tick, 2)


def _round_up(price: np.ndarray) -> np.ndarray:
    tick = _tick(price)
    return np.round(np.ceil(price / tick - 1e-9) * tick, 2)


def quote_contracts(
    spot: float,
    strikes: np.ndarray,
    is_call: np.ndarray,
    tenor_years: np.ndarray | float,
    sigma: np.ndarray,
    rng: np.random.Generator,
    *,
    rate: np.ndarray | float = 0.045,
    dividend_yield: float = 0.013,
    base_vol: float = 0.15,
) -> dict[str, np.ndarray]:
    """Quotes and vendor greeks for the contracts of one expiry (or of many: per-contract tenors and rates).

    The theoretical value is Black-Scholes with continuous ``rate`` and ``dividend_yield`` (forward
    ``spot * exp((rate - q) T)``); expired contracts (``tenor_years <= 0``) are worth their intrinsic value
    at ``spot`` and carry vendor IV/delta/gamma 0, as Cboe writes them. ``sigma`` is rounded to 4 dp first:
    the published IV is the one the value and greeks come from. The quoted spread is 0.10 plus 0.3% of
    the intrinsic value plus a share of the time value that grows with the distance from the money (in
    standard deviations) and with tenor beyond 6 months, jittered by +-25%; bid is rounded down and ask
    up to the tick (0.05 below 3.00, else 0.10), so ``0 <= bid <= theo <= ask`` and, the smile being
    free of vertical-spread arbitrage, no quote crosses a neighbour's (bid of a call never above the ask
    of a lower-strike call; the mirror for puts). An ask is at least 0.05.

    Parameters
    ----------
    spot:
        Underlying price, index points.
    strikes, is_call, sigma:
        Per contract: strike (points), call flag, implied volatility (decimal per year).
    tenor_years:
        Time to settlement, years: one for all contracts, or one per contract.
    rate:
        Risk-free rate, decimal per year, continuous: one, or one per contract.
    rng:
        Source of the spread jitter, the last sale and nothing else.

    Returns
    -------
    dict
        ``theo``, ``bid``, ``ask``, ``last`` (points per share), ``vendor_iv`` (decimal, 4 dp),
        ``vendor_delta`` (per share, 4 dp), ``vendor_gamma`` (per point, 4 dp).
    """
    n = len(strikes)
    sigma = np.round(sigma, 4)  # the published IV is the one the values and greeks come from
    tenor = np.broadcast_to(np.asarray(tenor_years, dtype=float), (n,))
    live = tenor > 0
    intrinsic = np.where(is_call, np.maximum(spot - strikes, 0.0), np.maximum(strikes - spot, 0.0))
    theo, iv, delta, gamma = intrinsic.copy(), np.zeros(n), np.zeros(n), np.zeros(n)
    if live.any():
        r = np.broadcast_to(np.asarray(rate, dtype=float), (n,))[live]
        args = (float(spot), strikes[live], r, sigma[live], tenor[live])
        theo[live] = greeks.bs_price(*args, is_call[live], dividend_yield)
        delta[live] = greeks.bs_delta(*args, is_call[live], dividend_yield)
        gamma[live] = greeks.bs_gamma(*args, dividend_yield)
        iv[live] = sigma[live]
    theo = np.maximum(theo, 0.0)
    sd = base_vol * np.sqrt(np.maximum(tenor, 2.0 / 365.0))
    distance = np.minimum(np.abs(np.log(strikes / spot)) / sd, 8.0)
    time_value = np.maximum(theo - intrinsic, 0.0)
    long_dated = 1.0 + 4.0 * np.maximum(tenor - 0.5, 0.0)
    width = 0.10 + 0.003 * intrinsic + time_value * (0.008 + 0.006 * distance) * long_dated
    width = width * rng.uniform(0.75, 1.25, n)
    bid = np.maximum(_round_down(theo - width / 2), 0.0)
    ask = np.maximum(_round_up(theo + width / 2), 0.05)
    mid = (bid + ask) / 2
    traded = rng.uniform(size=n) < 0.75
    trade = _round_down(np.maximum(mid + (ask - bid) * rng.uniform(-0.5, 0.5, n), 0.05))
    last = np.where(traded & (theo > 0.01), trade, 0.0)
    return {
        "theo": theo,
        "bid": bid,
        "ask": ask,
        "last": last,
        "vendor_iv": np.round(iv, 4),
        "vendor_delta": np.round(delta, 4) + 0.0,  # + 0.0 turns -0.0 into 0.0
        "vendor_gamma": np.round(gamma, 4) + 0.0,
    }


def expiry_open_interest(expiry: Expiry, session: dt.date, tenor_years: float) -> float:
    """Typical total open interest (calls + puts, contracts) of one expiry, before noise.

    Calibrated on SPX end-of-day chains: AM monthlies hold millions (quarter months more), their PM twins
    and quarter ends hundreds of thousands, dailies tens of thousands and less the later they were listed.
    """
    t = max(tenor_years, 0.0)
    days = (expiry.expiration - session).days
    if expiry.kind == "leaps":
        return 1.5e5
    if expiry.kind == "monthly" and (expiry.settlement == "AM" or single_root(expiry.root)):
        quarter = 2.2 if expiry.expiration.month % 3 == 0 else 1.0
        return (2.2e6 * np.exp(-t / 0.3) + 2.5e5) * quarter
    if expiry.kind == "monthly":  # PM twin of a monthly
        return 4.0e5 * np.exp(-t / 0.3) + 2.0e4
    if expiry.kind == "quarterly":
        return 4.0e5 * np.exp(-t / 0.5) + 3.0e4
    if expiry.kind == "month_end":
        return 3.0e5 * np.exp(-t / 0.3) + 1.0e4
    if expiry.kind == "weekly":
        return 2.5e5 * np.exp(-days / 14.0) + 2.0e3
    return 1.5e5 * np.exp(-days / 5.0) + 1.0e3


def open_interest_density(
    x: np.ndarray,
    is_call: np.ndarray,
    *,
    put_peak: float = -1.5,
    put_width: float = 1.6,
    call_peak: float = 0.5,
    call_width: float = 0.9,
) -> np.ndarray:
    """Relative density of open interest over standardised moneyness ``x = ln(K/anchor) / (vol sqrt(T))``.

    Puts peak ``-put_peak`` s.d. below the anchor (default 1.5) with a long left tail, calls ``call_peak``
    s.d. above it (0.5) with a thin right tail; in the money both decay fast. Unnormalised (one value per
    strike, before spacing and roundness).
    """
    put_density = np.exp(-0.5 * ((x - put_peak) / put_width) ** 2) + 0.06 * np.exp(-0.5 * (x / 5.0) ** 2) * (x < 0)
    call_density = np.exp(-0.5 * ((x - call_peak) / call_width) ** 2) + 0.01 * np.exp(-0.5 * (x / 4.0) ** 2) * (x > 0)
    return np.where(is_call, call_density, put_density)


def strike_roundness(strikes: np.ndarray, unit: float) -> np.ndarray:
    """Attraction of round strikes: x5.5 for multiples of ``20 * unit``, x2.5 of ``10 * unit``, x1.5 of
    ``5 * unit`` (100, 50 and 25 points for SPX), else 1."""
    return (
        1.0
        + 3.0 * _is_multiple(strikes, 20 * unit)
        + _is_multiple(strikes, 10 * unit)
        + 0.5 * _is_multiple(strikes, 5 * unit)
    )


def nice_unit(spot: float) -> float:
    """Finest strike increment for an index at ``spot``, points (5 for SPX near 5000)."""
    return _nice_unit(spot)


def open_interest_profile(
    strikes: np.ndarray,
    is_call: np.ndarray,
    anchor: float,
    tenor_years: float,
    total: float,
    rng: np.random.Generator,
    *,
    put_share: float = 0.66,
    base_vol: float = 0.15,
) -> np.ndarray:
    """Seeded open interest per contract of one expiry, contracts.

    Expected OI is ``total`` split ``put_share`` to puts, spread over strikes by a density in
    ``x = ln(K/anchor) / (base_vol sqrt(T))`` (T floored at 3 days): puts peak 1.5 s.d. out of the money
    with a long left tail, calls 0.5 s.d. out of the money with a thin right tail; in the money both
    decay fast. Each strike's share is multiplied by the strike spacing (coarse wing strikes gather what
    finer strikes would share) and by a roundness factor (x5.5 multiples of 100 points, x2.5 of 50, x1.5
    of 25, for SPX). Counts are Poisson draws on a gamma-noised mean, so far strikes often have zero.

    Parameters
    ----------
    anchor:
        Underlying level the positions were opened around (index points); open interest is not
        re-centred when spot moves, so ``spot / anchor`` drives the sign of dealer gamma.
    """
    s = base_vol * np.sqrt(max(tenor_years, 3.0 / 365.0))
    x = np.log(strikes / anchor) / s
    unit = _nice_unit(anchor)
    grid, where = np.unique(strikes, return_inverse=True)
    spacing = (np.gradient(grid) if len(grid) > 1 else np.full(1, unit))[where]
    spacing = np.minimum(spacing, 40 * unit)
    weight = open_interest_density(x, is_call) * spacing * strike_roundness(strikes, unit)
    oi = np.zeros(len(strikes), dtype=np.int64)
    for call, share in ((True, 1.0 - put_share), (False, put_share)):
        side = is_call == call
        if side.any() and weight[side].sum() > 0:
            mean = total * share * weight[side] / weight[side].sum()
            oi[side] = rng.poisson(mean * rng.gamma(0.8, 1.0 / 0.8, side.sum()))
    return oi


def session_volume(
    open_interest: np.ndarray, strikes: np.ndarray, spot: float, days_to_expiry: int, rng: np.random.Generator
) -> np.ndarray:
    """Seeded session volume per contract, contracts: a turnover of OI plus a near-the-money bump, far
    larger for 0- and 1-DTE expiries."""
    activity = 2.0 if days_to_expiry <= 1 else 0.3 if days_to_expiry <= 7 else 0.05
    near = np.exp(-0.5 * (np.log(strikes / spot) / 0.02) ** 2)
    mean = activity * (open_interest + 2.0e4 * near * (days_to_expiry <= 1) + 200.0 * near)
    return rng.poisson(mean * rng.gamma(0.7, 1.0 / 0.7, len(strikes)))


def osi_symbol(root: str, expiration: dt.date, right: str, strike: float) -> str:
    """OSI-style symbol ``ROOTYYMMDD[C|P]########`` (strike x 1000, 8 digits), e.g. ``SPXW240105C04700000``."""
    return f"{root}{expiration:%y%m%d}{right}{round(strike * 1000):08d}"


def generate_chain(
    session: dt.date,
    spot: float,
    *,
    underlying: str = "SPX",
    seed: int = 0,
    max_contracts: int | None = None,
    rate: float = 0.045,
    dividend_yield: float = 0.013,
    base_vol: float = 0.15,
    oi_anchor: float | None = None,
) -> ChainSnapshot:
    """A realistic end-of-day option chain of ``underlying`` at the close of ``session``.

    Parameters
    ----------
    session:
        NYSE session; the snapshot is taken at 20:30 New York that evening and valued at the close.
    spot:
        Closing index level, points.
    underlying:
        A key of :data:`ROOTS` (SPX by default).
    seed:
        Seed of every random draw; same arguments and seed give an identical snapshot.
    max_contracts:
        Thin the strikes (nearest the money and round ones kept) to roughly this many contracts; the
        full chain has ~20,000 contracts (~10,000 quote lines) for SPX.
    rate, dividend_yield:
        Continuously compounded risk-free rate and dividend yield, decimal per year.
    base_vol:
        Volatility level of the surface (ATM term structure rises from 0.8x to ~1.15x of it).
    oi_anchor:
        Level the open interest was built around, points; by default ``spot`` moved by a seeded
        ~2.5% lognormal shock, so different seeds give positive and negative dealer gamma.

    Returns
    -------
    ChainSnapshot
        Conformed frame (:data:`gex.chain.CHAIN_SCHEMA`), sorted in quote-table order: expiration,
        strike, root, then call before put; ``source_line`` is the line the row has in the file
        :func:`gex_market.cboe_writer.write_cboe_quote_table` writes (4 header lines).
    """
    if spot <= 0:
        raise ValueError(f"spot must be positive, not {spot}")
    valuation_ts = session_close(session)
    snapshot_ts = dt.datetime.combine(session, SNAPSHOT_TIME, NEW_YORK).astimezone(UTC)
    if oi_anchor is None:
        oi_anchor = spot * float(np.exp(_rng(seed, session, "anchor").normal(0.0, 0.015)))
    expiries = expiry_schedule(session, underlying=underlying)
    tenors = [year_fraction(valuation_ts, e.settlement_ts) for e in expiries]
    grids = [strike_grid(spot, t, base_vol=base_vol) for t in tenors]
    if max_contracts is not None:
        fraction = max_contracts / (2 * sum(len(g) for g in grids))
        grids = [thin_strikes(g, spot, t, max(2, round(fraction * len(g))), base_vol=base_vol) for g, t in zip(grids, tenors)]

    blocks = []
    for expiry, tenor, grid in zip(expiries, tenors, grids):
        strikes = np.repeat(grid, 2)
        is_call = np.tile([True, False], len(grid))
        forward = spot * np.exp((rate - dividend_yield) * max(tenor, 0.0))
        sigma = smile_vol(np.log(strikes / forward), tenor, base_vol=base_vol)
        quotes = quote_contracts(
            spot, strikes, is_call, tenor, sigma, _rng(seed, session, expiry.expiration, expiry.root, "quotes"),
            rate=rate, dividend_yield=dividend_yield, base_vol=base_vol,
        )  # fmt: skip
        oi_rng = _rng(seed, session, expiry.expiration, expiry.root, "oi")
        total = expiry_open_interest(expiry, session, tenor) * float(np.exp(oi_rng.normal(0.0, 0.3)))
        oi = open_interest_profile(strikes, is_call, oi_anchor, tenor, total, oi_rng, base_vol=base_vol)
        days = (expiry.expiration - session).days
        volume = session_volume(oi, strikes, spot, days, _rng(seed, session, expiry.expiration, expiry.root, "volume"))
        last = np.where((volume == 0) & (oi == 0), 0.0, quotes["last"])  # never traded
        rights = np.where(is_call, "C", "P")
        blocks.append(
            pl.DataFrame(
                {
                    "symbol": [osi_symbol(expiry.root, expiry.expiration, r, k) for r, k in zip(rights, strikes)],
                    "root": expiry.root,
                    "expiration": expiry.expiration,
                    "settlement": expiry.settlement,
                    "settlement_ts": expiry.settlement_ts,
                    "strike": strikes,
                    "right": rights,
                    "bid": quotes["bid"],
                    "ask": quotes["ask"],
                    "last": last,
                    "volume": volume,
                    "open_interest": oi,
                    "vendor_iv": quotes["vendor_iv"],
                    "vendor_delta": quotes["vendor_delta"],
                    "vendor_gamma": quotes["vendor_gamma"],
                }
            )
        )
    frame = (
        pl.concat(blocks)
        .sort(["expiration", "strike", "root", "right"], maintain_order=True)
        .with_columns(
            pl.lit(underlying).alias("underlying"),
            pl.lit(session).alias("session"),
            pl.lit(snapshot_ts).alias("snapshot_ts"),
            pl.lit(valuation_ts).alias("valuation_ts"),
            pl.lit(previous_session(session)).alias("oi_date"),
            pl.lit(None, dtype=pl.Float64).alias("vendor_vega"),
            pl.lit(None, dtype=pl.Float64).alias("vendor_theta"),
            pl.lit(float(spot)).alias("underlying_price"),
            pl.lit(100.0).alias("multiplier"),
            (pl.int_range(pl.len()) // 2 + 5).alias("source_line"),
        )
    )
    return ChainSnapshot(
        frame=conform(frame.select(list(CHAIN_SCHEMA))),
        underlying=underlying,
        spot=float(spot),
        session=session,
        snapshot_ts=snapshot_ts,
        valuation_ts=valuation_ts,
        header_date=snapshot_ts.astimezone(NEW_YORK).date(),
        source=f"gex_market.generate_chain(session={session.isoformat()}, spot={spot}, seed={seed})",
        source_format="synthetic",
        underlying_name=ROOTS[underlying][2],
    )
