"""Intraday days of the generated market: a spot path through the session and the chain re-quoted on it.

For one :class:`gex_market.market.MarketSession` (the daily generator's end-of-day chain),
:func:`intraday_day` makes the session's snapshots every ``every_minutes`` of the regular trading hours
(NYSE calendar via :mod:`gex.calendar`: 09:30-16:00 New York, 13:00 on early closes): at open + N, open + 2N,
..., and the close (78 snapshots at 5 minutes on a regular day, 42 on a 13:00 close). Each snapshot is the
same contracts as the daily chain, with

- **spot** on a seeded Brownian bridge in log price from the session's open (09:30) to its close, whose
  excursions beyond the open/close range are stretched (monotonically, so the path stays continuous) until
  the highest snapshot is the session's high and the lowest its low: the intraday spots agree with the bar
  in ``reference/closes.csv``. Prices in index points, rounded to cents;
- **quotes** from the daily generator's own surface (:func:`gex_market.market.surface_vol`, same rate curve,
  dividend yield and skew scale) at the snapshot's spot and instant: time to settlement shrinks through the
  day, so 0-DTE gamma concentrates near spot towards the close as it should. The surface's level moves
  with spot (the leverage effect of :mod:`gex_market.path`): ``base_vol = vol_close - IV_LEVERAGE *
  ln(spot / close)``, equal to the daily level at the close;
- **open interest** fixed all day at the start-of-day (OCC) figure of the daily file: exchanges publish OI
  once a day;
- **volume** cumulative since the open, monotone, ending exactly at the daily file's volume: each contract's
  daily volume is split over the intervals by a multinomial draw whose weights follow a U-shaped intraday
  profile (busy open and close) and, for contracts expiring within a day, the distance of the strike from
  that interval's spot (0-DTE volume follows spot).

The close snapshot **is** the daily chain (same frame, numbers identical) stamped at the close instant, so
it is an end-of-day snapshot (``valuation_ts`` = the close); every earlier one is intraday (``valuation_ts`` =
``snapshot_ts`` = its instant). Re-quoting at the close reproduces the daily chain exactly (tested), so the
day is continuous into its end.

Files (:func:`write_intraday_day`): ``<landing>/intraday/<UNDERLYING>_<YYYY-MM-DD>_<HHMM>_quotedata.csv``,
Cboe quote tables whose header reads ``Date: <Month> <d>, <yyyy> at <h>:<mm> AM|PM EST|EDT`` (New York time):
exactly what :mod:`gex_sources.header` parses into ``snapshot_ts``. Same seed, same bytes.

Speed: everything is vectorised over contracts; the per-snapshot loop only re-prices (one Black-Scholes pass
of ~20,000 contracts) and writes. A full SPX day of 78 snapshots takes a few seconds (docs/market-generator.md).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from gex.calendar import NEW_YORK, UTC, session_close, session_open
from gex.chain import ChainSnapshot, conform
from gex_market.cboe_writer import write_cboe_quote_table
from gex_market.chain import _SECONDS_PER_YEAR, TYPICAL_SPOT, _rng, quote_contracts
from gex_market.market import DIVIDEND_YIELD, MarketSession, MarketSummary, generate_market, iter_market, surface_vol
from gex_market.path import IV_BOUNDS, IV_LEVERAGE, SESSIONS_PER_YEAR
from gex_market.rates import TENORS, rate_at

#: Default minutes between snapshots.
DEFAULT_EVERY_MINUTES = 5
#: Longest interval accepted, minutes (a regular session lasts 390).
MAX_EVERY_MINUTES = 390
#: Folder of the intraday quote tables inside a landing area.
INTRADAY_DIR = "intraday"
#: Share of a session's variance that accrues between the open and the close (the rest is the overnight
#: gap, a third of the daily s.d. in :mod:`gex_market.path`: 1 - 1/9).
INTRADAY_VARIANCE_SHARE = 8.0 / 9.0
#: Width (log-moneyness) of the 0-DTE volume concentration around the interval's spot.
NEAR_SPOT_WIDTH = 0.006


@dataclass(frozen=True)
class IntradayDay:
    """One session's intraday snapshots, in time order.

    Attributes
    ----------
    session:
        NYSE session.
    underlying:
        Underlying symbol.
    every_minutes:
        Minutes between snapshots (the last interval may be shorter when the session is not a multiple).
    snapshots:
        Chains at open + N, open + 2N, ..., the close; the last is the end-of-day chain (``valuation_ts`` =
        the close), every other one intraday (``valuation_ts`` = ``snapshot_ts``).
    previous_close:
        Close of the session before, points (the ``Change:`` of each file's header is measured from it).
    """

    session: dt.date
    underlying: str
    every_minutes: int
    snapshots: tuple[ChainSnapshot, ...]
    previous_close: float

    @property
    def instants(self) -> tuple[dt.datetime, ...]:
        """Snapshot instants, UTC."""
        return tuple(s.snapshot_ts for s in self.snapshots)  # type: ignore[misc]

    @property
    def spots(self) -> np.ndarray:
        """Spot of each snapshot, points."""
        return np.array([s.spot for s in self.snapshots])

    def change(self, i: int) -> float:
        """Spot of snapshot ``i`` minus the previous close, points (cents)."""
        return round(self.snapshots[i].spot - self.previous_close, 2)


def check_every(every_minutes: int) -> None:
    """Raise ``ValueError`` unless ``every_minutes`` is an integer in 1..:data:`MAX_EVERY_MINUTES`."""
    if isinstance(every_minutes, bool) or not isinstance(every_minutes, int) or not 1 <= every_minutes <= MAX_EVERY_MINUTES:
        raise ValueError(f"every_minutes must be an integer between 1 and {MAX_EVERY_MINUTES}, not {every_minutes!r}")


def _epoch_us(instant: dt.datetime) -> int:
    """Microseconds since the epoch of a timezone-aware instant, exactly (no float rounding)."""
    return (instant - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)


def intraday_instants(session: dt.date, every_minutes: int = DEFAULT_EVERY_MINUTES) -> tuple[dt.datetime, ...]:
    """Snapshot instants (UTC) of ``session``: open + N, open + 2N, ... before the close, then the close.

    >>> [t.astimezone(NEW_YORK).strftime("%H:%M") for t in intraday_instants(dt.date(2026, 11, 27), 60)]
    ['10:30', '11:30', '12:30', '13:00']

    Raises
    ------
    ValueError
        ``every_minutes`` outside 1..:data:`MAX_EVERY_MINUTES`, or ``session`` not an NYSE session.
    """
    check_every(every_minutes)
    opening, close = session_open(session), session_close(session)
    step = dt.timedelta(minutes=every_minutes)
    count = int((close - opening) / step)  # whole intervals; a partial last one ends at the close
    out = [opening + k * step for k in range(1, count + 1) if opening + k * step < close]
    return (*out, close)


def spot_path(
    fractions: np.ndarray, *, open_: float, close: float, high: float, low: float, vol: float, rng: np.random.Generator
) -> np.ndarray:
    """Spots (points, cents) at ``fractions`` of the session (0 = open, 1 = close; increasing, last = 1).

    A Brownian bridge in log price from ``ln(open_)`` to ``ln(close)`` with variance ``vol**2 / 252 *``
    :data:`INTRADAY_VARIANCE_SHARE` over the session (``vol`` annualised decimal); then the parts above
    ``max(open_, close)`` are scaled so that the highest spot is ``high`` and the parts below ``min(open_,
    close)`` so that the lowest is ``low`` (a monotone map of the price axis: continuity and the end points
    are kept). When the bridge never leaves one side of the open/close range the extreme on that side stays
    inside the bar. The last spot is ``close`` exactly.
    """
    u = np.asarray(fractions, dtype=float)
    if u.ndim != 1 or len(u) == 0 or u[-1] != 1.0 or np.any(np.diff(np.concatenate([[0.0], u])) <= 0):
        raise ValueError("fractions must increase from above 0 to exactly 1")
    sd = vol * np.sqrt(INTRADAY_VARIANCE_SHARE / SESSIONS_PER_YEAR)
    price = np.exp(np.log(open_) + u * (np.log(close) - np.log(open_)) + brownian_bridge(u, sd, rng))
    price = np.clip(np.round(fit_to_bar(price, open_=open_, close=close, high=high, low=low), 2), low, high)
    price[-1] = close
    return price


def brownian_bridge(fractions: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    """A Brownian bridge pinned at 0 at fraction 0 and at the last fraction (= 1), sampled at ``fractions``:
    ``W(u) - u W(1)`` with ``W`` of variance ``sd**2`` per unit of ``u`` (so ``Var B(u) = sd**2 u (1 - u)``)."""
    u = np.asarray(fractions, dtype=float)
    steps = np.diff(np.concatenate([[0.0], u]))
    walk = np.cumsum(sd * np.sqrt(steps) * rng.standard_normal(len(u)))
    return walk - u * walk[-1]


def fit_to_bar(price: np.ndarray, *, open_: float, close: float, high: float, low: float) -> np.ndarray:
    """Stretch the excursions of ``price`` beyond the open/close range so that its maximum is ``high`` and its
    minimum ``low`` (``high >= max(open_, close)``, ``low <= min(open_, close)``).

    Values inside ``[min(open_, close), max(open_, close)]`` are unchanged; above it, ``top + (p - top) *
    (high - top) / (max - top)``; below it the mirror. The map is monotone and continuous, so the path's shape
    and its end points survive. A side the path never leaves is left as is.
    """
    top, bottom = max(open_, close), min(open_, close)
    out = np.asarray(price, dtype=float)
    if out.max() > top:
        out = np.where(out > top, top + (out - top) * (high - top) / (out.max() - top), out)
    if out.min() < bottom:
        out = np.where(out < bottom, bottom - (bottom - out) * (bottom - low) / (bottom - out.min()), out)
    return out


def intraday_volume_weights(fractions: np.ndarray) -> np.ndarray:
    """Relative trading intensity of each interval ``(fractions[i-1], fractions[i]]`` (U shape: the first
    half hour and the last are the busiest), integrated over the interval; sums to 1."""
    u = np.concatenate([[0.0], np.asarray(fractions, dtype=float)])

    def cumulative(x: np.ndarray) -> np.ndarray:  # an integral of 0.6 + 1.8 e^(-x/0.08) + 1.0 e^(-(1-x)/0.1)
        return 0.6 * x - 1.8 * 0.08 * np.exp(-x / 0.08) + 1.0 * 0.1 * np.exp(-(1 - x) / 0.1)

    w = np.diff(cumulative(u))
    return w / w.sum()


def cumulative_volume(
    volume: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Cumulative volume since the open per (snapshot, contract), contracts, shape ``(snapshots, contracts)``.

    ``volume`` (contracts, per contract) is the day's total; ``weights`` (contracts x intervals, rows summing
    to 1) the chance that one trade falls in each interval. One multinomial draw per contract: integers,
    monotone through the day, and the last row equals ``volume`` exactly.
    """
    counts = rng.multinomial(np.asarray(volume, dtype=np.int64), weights)
    return np.cumsum(counts, axis=1).T


class _Requoter:
    """Re-prices one session's daily chain at any (instant, spot) on the daily generator's surface."""

    def __init__(self, ms: MarketSession) -> None:
        f = ms.snapshot.frame
        self.ms = ms
        self.strikes = f["strike"].to_numpy()
        self.is_call = (f["right"].cast(pl.String) == "C").to_numpy()
        self.settle_us = f["settlement_ts"].dt.epoch("us").to_numpy()
        self.curve = np.array([ms.rates[t] for t in TENORS])
        self.oi = f["open_interest"].to_numpy()

    def quotes(self, instant: dt.datetime, spot: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """:func:`gex_market.chain.quote_contracts` at ``instant`` and ``spot`` (as the daily generator quotes
        at the close: per-contract tenor and rate, forward with the index dividend yield)."""
        ms = self.ms
        # integer microseconds, then seconds: the same float the daily generator's timedelta gives
        t = (self.settle_us - _epoch_us(instant)) / 1e6 / _SECONDS_PER_YEAR
        rate = rate_at(self.curve, t)
        forward = spot * np.exp((rate - DIVIDEND_YIELD) * np.maximum(t, 0.0))
        # ln(1) = 0: at the close this is the daily level exactly (already inside IV_BOUNDS)
        vol = float(np.clip(ms.implied_vol - IV_LEVERAGE * np.log(spot / ms.close), *IV_BOUNDS))
        sigma = surface_vol(np.log(self.strikes / forward), t, vol, ms.skew_scale)
        return quote_contracts(
            spot, self.strikes, self.is_call, t, sigma, rng, rate=rate, dividend_yield=DIVIDEND_YIELD, base_vol=vol
        )


def _stamp(frame: pl.DataFrame, instant: dt.datetime, valuation: dt.datetime, spot: float) -> pl.DataFrame:
    utc = pl.Datetime("us", "UTC")
    return frame.with_columns(
        pl.lit(instant, dtype=utc).alias("snapshot_ts"),
        pl.lit(valuation, dtype=utc).alias("valuation_ts"),
        pl.lit(float(spot)).alias("underlying_price"),
    )


def iter_intraday(ms: MarketSession, *, seed: int = 0, every_minutes: int = DEFAULT_EVERY_MINUTES) -> Iterator[ChainSnapshot]:
    """Yield the snapshots of :func:`intraday_day` one at a time (a full SPX snapshot is ~2 MB in memory)."""
    day, u = ms.session, ms.snapshot.underlying
    instants = intraday_instants(day, every_minutes)
    opening, close = session_open(day), session_close(day)
    fractions = np.array([(t - opening) / (close - opening) for t in instants])
    spots = spot_path(
        fractions, open_=ms.open, close=ms.close, high=ms.high, low=ms.low, vol=ms.realised_vol,
        rng=_rng(seed, day, u, "intraday-path", every_minutes),
    )  # fmt: skip
    daily = ms.snapshot.frame
    strikes = daily["strike"].to_numpy()
    daily_volume = daily["volume"].to_numpy()
    settle = daily["settlement_ts"].dt.epoch("us").to_numpy()
    short = (settle - _epoch_us(close)) <= 86_400 * 1_000_000  # settles within a day of the close
    near = np.exp(-0.5 * (np.log(strikes[:, None] / spots[None, :]) / NEAR_SPOT_WIDTH) ** 2)
    weights = intraday_volume_weights(fractions)[None, :] * (1.0 + 4.0 * near * short[:, None])
    weights /= weights.sum(axis=1, keepdims=True)
    volume = cumulative_volume(daily_volume, weights, _rng(seed, day, u, "intraday-volume", every_minutes))
    oi = daily["open_interest"].to_numpy()
    requote = _Requoter(ms)
    name = f"gex_market.intraday(seed={seed}, every={every_minutes} min) {u} {day.isoformat()}"
    for i, (instant, spot) in enumerate(zip(instants[:-1], spots[:-1])):
        q = requote.quotes(instant, float(spot), _rng(seed, day, u, "intraday-quotes", instant.isoformat()))
        frame = daily.with_columns(
            pl.Series("bid", q["bid"]),
            pl.Series("ask", q["ask"]),
            pl.Series("last", np.where((volume[i] == 0) & (oi == 0), 0.0, q["last"])),
            pl.Series("volume", volume[i]),
            pl.Series("vendor_iv", q["vendor_iv"]),
            pl.Series("vendor_delta", q["vendor_delta"]),
            pl.Series("vendor_gamma", q["vendor_gamma"]),
        )
        yield ChainSnapshot(
            frame=conform(_stamp(frame, instant, instant, float(spot))),
            underlying=u,
            spot=float(spot),
            session=day,
            snapshot_ts=instant,
            valuation_ts=instant,
            header_date=day,
            source=f"{name} {instant.astimezone(NEW_YORK):%H:%M}",
            source_format="synthetic",
            underlying_name=ms.snapshot.underlying_name,
        )
    yield ChainSnapshot(  # the close: the daily chain itself, stamped at the close instant
        frame=_stamp(daily, close, close, ms.close),
        underlying=u,
        spot=ms.close,
        session=day,
        snapshot_ts=close,
        valuation_ts=close,
        header_date=day,
        source=f"{name} close",
        source_format="synthetic",
        underlying_name=ms.snapshot.underlying_name,
    )


def intraday_day(ms: MarketSession, *, seed: int = 0, every_minutes: int = DEFAULT_EVERY_MINUTES) -> IntradayDay:
    """The intraday snapshots of the generated session ``ms`` (see the module docstring).

    Parameters
    ----------
    ms:
        A session of :func:`gex_market.market.iter_market`.
    seed:
        Seed of the path, volume split and quote noise (use the market's seed); same inputs, same day.
    every_minutes:
        Minutes between snapshots, 1..:data:`MAX_EVERY_MINUTES`.
    """
    snapshots = tuple(iter_intraday(ms, seed=seed, every_minutes=every_minutes))
    return IntradayDay(ms.session, ms.snapshot.underlying, every_minutes, snapshots, round(ms.close - ms.change, 2))


def generate_day(
    *,
    underlying: str = "SPX",
    session: dt.date | None = None,
    every_minutes: int = DEFAULT_EVERY_MINUTES,
    seed: int = 0,
    contracts: int | None = None,
    spot0: float | None = None,
) -> IntradayDay:
    """An in-memory generated day: the market's first session from ``session`` (after its burn-in) and its
    intraday snapshots, e.g. to serve them through the fetch layer's replay server
    (:func:`gex_market.api_shapes.render_responses` renders each one in a vendor's shape).

    ``spot0`` defaults to :data:`gex_market.chain.TYPICAL_SPOT` of the underlying; the other arguments are
    those of :func:`gex_market.market.iter_market` and :func:`intraday_day`.
    """
    check_every(every_minutes)  # before the market's burn-in
    level = TYPICAL_SPOT.get(underlying, 5000.0) if spot0 is None else spot0
    (ms,) = iter_market(sessions=1, start=session, contracts=contracts, seed=seed, underlying=underlying, spot0=level)
    return intraday_day(ms, seed=seed, every_minutes=every_minutes)


def intraday_path(root: Path, underlying: str, instant: dt.datetime) -> Path:
    """``<root>/intraday/<UNDERLYING>_<YYYY-MM-DD>_<HHMM>_quotedata.csv`` (New York date and time)."""
    local = instant.astimezone(NEW_YORK)
    return Path(root) / INTRADAY_DIR / f"{underlying}_{local:%Y-%m-%d}_{local:%H%M}_quotedata.csv"


def write_intraday_day(day: IntradayDay | Iterator[ChainSnapshot], root: str | Path, *, previous_close: float | None = None) -> list[Path]:
    """Write each snapshot as a Cboe quote table under ``<root>/intraday/`` and return the paths, in time order.

    ``day`` is an :class:`IntradayDay` or an iterator of its snapshots (then ``previous_close`` gives the
    header's ``Change:`` base). Files are overwritten; same snapshots, same bytes.
    """
    if isinstance(day, IntradayDay):
        snapshots: Iterator[ChainSnapshot] = iter(day.snapshots)
        previous_close = day.previous_close
    else:
        snapshots = day
    (Path(root) / INTRADAY_DIR).mkdir(parents=True, exist_ok=True)
    paths = []
    for snap in snapshots:
        path = intraday_path(Path(root), snap.underlying, snap.snapshot_ts)  # type: ignore[arg-type]
        change = 0.0 if previous_close is None else round(snap.spot - previous_close, 2)
        paths.append(write_cboe_quote_table(snap, path, change=change))
    return paths


@dataclass(frozen=True)
class IntradaySummary:
    """What :func:`generate_intraday_market` wrote for one session: files (time order) and wall time (s)."""

    session: dt.date
    files: tuple[Path, ...]
    seconds: float

    def describe(self) -> str:
        intraday = len(self.files) - 1
        return (
            f"intraday {self.session}: {len(self.files)} snapshots ({intraday} intraday + the close) -> "
            f"{self.files[0].parent} in {self.seconds:.1f} s"
        )


def generate_intraday_market(
    out_dir: str | Path,
    *,
    every_minutes: int = DEFAULT_EVERY_MINUTES,
    intraday_sessions: int = 1,
    seed: int = 0,
    progress: Callable[[MarketSession], None] | None = None,
    **market: object,
) -> tuple[MarketSummary, list[IntradaySummary]]:
    """:func:`gex_market.market.generate_market` plus the intraday snapshots of its last ``intraday_sessions``
    sessions, written under ``<out_dir>/intraday/`` (the daily files are unchanged by the option).

    ``market`` holds the other arguments of ``generate_market`` (sessions, start, contracts, underlying, spot0).

    Raises
    ------
    ValueError
        ``every_minutes`` or ``intraday_sessions`` out of range (before anything is written), or what
        ``generate_market`` raises.
    """
    check_every(every_minutes)  # before any work
    if intraday_sessions < 1:
        raise ValueError(f"intraday_sessions must be at least 1, not {intraday_sessions}")
    kept: deque[MarketSession] = deque(maxlen=intraday_sessions)

    def keep(ms: MarketSession) -> None:
        kept.append(ms)
        if progress is not None:
            progress(ms)

    summary = generate_market(out_dir, seed=seed, progress=keep, **market)  # type: ignore[arg-type]
    written = []
    for ms in kept:
        began = time.perf_counter()
        files = write_intraday_day(iter_intraday(ms, seed=seed, every_minutes=every_minutes), out_dir,
                                   previous_close=round(ms.close - ms.change, 2))  # fmt: skip
        written.append(IntradaySummary(ms.session, tuple(files), time.perf_counter() - began))
    return summary, written
