"""A seeded SPX-like market over many sessions: underlying path, rates, listings, open interest, chains.

:func:`iter_market` yields one :class:`MarketSession` per NYSE session (the evening chain snapshot, the
OCC-style open-interest rows published that morning, the day's bar and rate curve); :func:`generate_market`
writes them into a landing folder (layout in :mod:`gex_market.landing` and ``docs/market-generator.md``).

Timeline of session t (New York):

- morning: OCC publishes open interest at the close of t-1 (``oi/occ_oi_<t>.csv``, ``date`` = t);
- during t: positions open and close around the day's spot; new strikes are listed when spot moves;
- 16:00 close: the bar, the curve and the surface (``base_vol`` following the realised regime);
- 20:30: the Cboe quote-table snapshot of t, whose ``Open Interest`` column is the morning's OCC figure
  (positions at the close of t-1) and whose ``Volume`` is the volume of t.

Before the first published session the market runs :data:`BURN_IN_SESSIONS` unpublished sessions (same
model, the path ending at ``spot0``) so that open interest on day one already has a history.

Speed: everything per session is vectorised over contracts (numpy, polars); the only Python loops are over
the ~40-70 listed expiries.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from gex import greeks
from gex.calendar import NEW_YORK, UTC, previous_session, session_close, session_open
from gex.chain import CHAIN_SCHEMA, RIGHTS, SETTLEMENTS, ChainSnapshot, conform
from gex_market import book as bk
from gex_market.chain import (
    ROOTS,
    SNAPSHOT_TIME,
    Expiry,
    _rng,
    expiry_open_interest,
    expiry_schedule,
    nice_unit,
    quote_contracts,
    smile_vol,
    strike_grid,
    thin_strikes,
    year_fraction,
)
from gex_market.path import UnderlyingPath, sessions_before, sessions_from, simulate_path
from gex_market.rates import TENORS, rate_at, simulate_curves

#: First session when no ``start`` is given (a fixed date, so the default market is reproducible).
DEFAULT_START = dt.date(2025, 1, 2)
#: Unpublished sessions simulated before the first one, so open interest starts with a history.
BURN_IN_SESSIONS = 60
#: Continuous dividend yield of the index, decimal per year.
DIVIDEND_YIELD = 0.013
#: Grid geometry (strike listing) uses this volatility, not the day's, so counts do not swing with vol.
LISTING_VOL = 0.15
#: ``base_vol`` at which the smile's shape is taken (see :func:`surface_vol`), and the highest IV quoted.
SMILE_REFERENCE_VOL = 0.15
MAX_IV = 2.5


@dataclass(frozen=True)
class MarketSession:
    """One session of the market.

    Attributes
    ----------
    session:
        NYSE session.
    snapshot:
        The Cboe end-of-day chain (20:30 New York); ``open_interest`` = positions at the close of the
        previous session, ``volume`` = the session's volume.
    open_interest:
        The OCC publication of the session's morning: ``date`` (= ``session``), ``symbol``,
        ``open_interest`` (contracts, at the previous close) for every contract listed at the previous
        close and not yet expired; newly listed contracts are in the chain (with 0) but not here.
    open, high, low, close:
        The session's bar, index points (``close`` = the snapshot's spot).
    change:
        ``close`` minus the previous close, points.
    rates:
        Published curve: tenor label -> continuously compounded rate, decimal per year.
    turbulent:
        Whether the volatility regime is turbulent.
    realised_vol, implied_vol:
        The regime's volatility (decimal per year) and the surface's ``base_vol``.
    classic_gex:
        Total dealer GEX at spot under the classic convention (dealers long calls, short puts), from the
        generator's own model gamma and published open interest, US dollars per 1% move; a cheap proxy of
        ``gex.analysis.analyze(snapshot).total_gex``.
    skew_scale:
        The smile's steepening factor of the session (>= 1, :func:`surface_vol`), so that the day can be
        re-quoted on the same surface (:mod:`gex_market.intraday`).
    """

    session: dt.date
    snapshot: ChainSnapshot
    open_interest: pl.DataFrame
    open: float
    high: float
    low: float
    close: float
    change: float
    rates: dict[str, float]
    turbulent: bool
    realised_vol: float
    implied_vol: float
    classic_gex: float
    skew_scale: float = 1.0


class _Market:
    """The state machine behind :func:`iter_market` (path, curves, listings, open-interest book)."""

    def __init__(
        self, *, sessions: int, start: dt.date | None, contracts: int | None, seed: int, underlying: str, spot0: float
    ) -> None:
        if sessions < 1:
            raise ValueError(f"sessions must be at least 1, not {sessions}")
        if contracts is not None and contracts < 100:
            raise ValueError(f"contracts must be at least 100 per session, not {contracts}")
        if not (spot0 > 0 and np.isfinite(spot0)):
            raise ValueError(f"spot0 must be a positive number, not {spot0}")
        if underlying not in ROOTS:
            raise ValueError(f"unknown underlying {underlying!r}; known: {', '.join(ROOTS)}")
        published = sessions_from(start or DEFAULT_START, sessions)
        days = sessions_before(published[0], BURN_IN_SESSIONS) + published
        self.seed, self.underlying = seed, underlying
        self.burn_in = BURN_IN_SESSIONS
        self.path: UnderlyingPath = simulate_path(
            days, rng=_rng(seed, underlying, "path"), level=spot0, anchor=BURN_IN_SESSIONS - 1
        )
        self.curves = simulate_curves(len(days), _rng(seed, "rates"))
        self.book = bk.OpenInterestBook.empty()
        self.expiries: dict[int, Expiry] = {}  # expiry key -> Expiry, every expiry ever listed
        self.final_kind: dict[int, str] = {}
        self.budget: int | None = contracts  # None: set on the first session to its full listing
        self.fraction = 1.0

    # -- per-expiry facts ---------------------------------------------------------------------

    def _kind_at_expiry(self, key: int, expiry: Expiry) -> str:
        """The kind an expiry has on its last day (stable over its life, unlike the listing kind: a December
        LEAPS becomes a monthly, a Friday weekly a month end), which sizes its open interest."""
        if key not in self.final_kind:
            if expiry.settlement == "AM":
                kind = "monthly"
            else:
                final = expiry_schedule(expiry.expiration, underlying=self.underlying)
                kind = next(e.kind for e in final if e.root == expiry.root and e.expiration == expiry.expiration)
            self.final_kind[key] = kind
        return self.final_kind[key]

    def _list(
        self, day: dt.date, spot: float, valuation_ts: dt.datetime
    ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """List today's grids, thinned to the contract budget.

        Returns the mask of lines new today and, per expiry key, the full (unthinned) grid at today's spot
        (the reference the new interest is normalised on, see :func:`gex_market.book.new_interest`).
        """
        self.book.drop_expired(day)
        first = len(self.book) == 0
        full: dict[int, np.ndarray] = {}
        listing = []
        for expiry in expiry_schedule(day, underlying=self.underlying):
            key = expiry.expiration.toordinal() * 2 + (expiry.settlement == "PM")
            self.expiries.setdefault(key, expiry)
            tenor = year_fraction(valuation_ts, expiry.settlement_ts)
            if tenor > 0 or first:  # no new strikes for an expiry that has settled
                full[key] = strike_grid(spot, tenor, base_vol=LISTING_VOL)
                listing.append((expiry, tenor, full[key]))
        if first:  # thin the first listing to the budget, then steer (see _steer)
            full_size = 2 * sum(len(g) for _, _, g in listing)
            self.budget = full_size if self.budget is None else self.budget
            self.fraction = min(1.0, self.budget / full_size)
        keys = []
        for expiry, tenor, grid in listing:
            if self.fraction < 1.0:
                keep = max(2, round(self.fraction * len(grid)))
                grid = thin_strikes(grid, spot, tenor, keep, base_vol=LISTING_VOL)
            keys.append(bk.line_keys(expiry.expiration.toordinal(), grid, expiry.settlement == "PM"))
        return self.book.list_lines(np.concatenate(keys)), full

    def _steer(self) -> None:
        """Listed lines only accumulate until expiry, so the thinning of new listings follows the budget."""
        ratio = (self.budget or 0) / max(2 * len(self.book), 1)
        self.fraction = float(np.clip(self.fraction * np.clip(ratio, 0.7, 1.3), 0.01, 1.0))

    # -- one session ------------------------------------------------------------------------

    def step(self, i: int) -> MarketSession | None:
        """Advance through session ``i`` of the path; return it when it is published (after the burn-in)."""
        p = self.path
        day, spot, vol = p.sessions[i], float(p.close[i]), float(p.implied_vol[i])
        valuation_ts = session_close(day)
        is_new, full = self._list(day, spot, valuation_ts)
        keys = self.book.keys
        ekeys, group = np.unique(bk.expiry_keys(keys), return_inverse=True)
        exps = [self.expiries[int(k)] for k in ekeys]
        tenor = np.array([year_fraction(valuation_ts, e.settlement_ts) for e in exps])
        traded = np.array([e.settlement_ts > session_open(day) for e in exps])  # AM settles at the open
        target = np.array([self._target(int(k), e, day, t) for k, e, t in zip(ekeys, exps, tenor)])
        _, strikes, _ = bk.decode_keys(keys)
        unit = nice_unit(spot)
        rng = _rng(self.seed, day, "oi")
        grids = [full.get(int(k), np.empty(0)) for k in ekeys]
        where = bk.positioning(bk.stress(vol, float(p.drawdown[i])))

        def opened_around(level: float, inflow: np.ndarray) -> np.ndarray:
            weights = bk.interest_weights(strikes, group, tenor, level, vol, unit, where)
            norm = bk.full_grid_norm(grids, tenor, level, vol, unit, where)
            return bk.new_interest(weights, group, inflow, norm, rng, put_share=where.put_share)

        if i == 0:  # the book's history starts with a settled profile around a nearby level
            self.book.oi = opened_around(spot * float(np.exp(rng.normal(0.0, 0.015))), target)
        opening = self.book.oi.copy()  # positions at the previous close: what OCC publishes this morning
        traded_line = traded[group]
        kept = np.where(traded_line[:, None], bk.retain(opening, rng), opening)
        inflow = bk.target_inflow(target, np.bincount(group, opening.sum(axis=1), len(exps)), rng) * traded
        new = opened_around(spot, inflow)
        survives = (keys >> bk._EXP_SHIFT) > day.toordinal()
        self.book.oi = np.where(survives[:, None], kept + new, 0)
        self._steer()
        if i < self.burn_in:
            return None
        today = _Day(i, day, spot, vol, valuation_ts, exps, group, tenor, traded_line, strikes, is_new)
        return self._publish(today, opening, trades=new + opening - kept)

    def _target(self, key: int, expiry: Expiry, day: dt.date, tenor: float) -> float:
        """Typical total open interest of an expiry today, contracts (its kind at expiration)."""
        return expiry_open_interest(replace(expiry, kind=self._kind_at_expiry(key, expiry)), day, tenor)

    def _publish(self, d: _Day, opening: np.ndarray, trades: np.ndarray) -> MarketSession:
        """Quote the listed contracts and assemble the session's snapshot and OCC rows.

        ``opening`` is the open interest at the previous close per line (call, put); ``trades`` the
        session's opening plus closing trades per line, contracts.
        """
        p, i, spot = self.path, d.index, d.spot
        k = np.repeat(d.strikes, 2)  # contracts: line-major, call then put (the quote-table order)
        is_call = np.tile([True, False], len(d.strikes))
        t = np.repeat(d.tenor[d.group], 2)
        curve = self.curves[i]
        rate = rate_at(curve, t)
        forward = spot * np.exp((rate - DIVIDEND_YIELD) * np.maximum(t, 0.0))
        sigma = surface_vol(np.log(k / forward), t, d.vol, float(p.skew_scale[i]))
        quotes = quote_contracts(
            spot, k, is_call, t, sigma, _rng(self.seed, d.day, "quotes"),
            rate=rate, dividend_yield=DIVIDEND_YIELD, base_vol=d.vol,
        )  # fmt: skip
        oi = opening.reshape(-1)
        days_left = np.repeat(np.array([(e.expiration - d.day).days for e in d.expiries])[d.group], 2)
        volume = trades.reshape(-1) + _churn(oi, k, spot, days_left, _rng(self.seed, d.day, "volume"))
        volume = np.where(np.repeat(d.traded, 2), volume, 0)
        last = np.where((volume == 0) & (oi == 0), 0.0, quotes["last"])

        live = t > 0
        gamma = np.zeros_like(k)
        gamma[live] = greeks.bs_gamma(spot, k[live], rate[live], quotes["vendor_iv"][live], t[live], DIVIDEND_YIELD)
        classic_gex = float(np.sum(np.where(is_call, 1.0, -1.0) * oi * gamma) * 100.0 * spot * spot * 0.01)

        snapshot_ts = dt.datetime.combine(d.day, SNAPSHOT_TIME, NEW_YORK).astimezone(UTC)
        frame = _chain_frame(
            self.underlying, d, snapshot_ts, {**quotes, "last": last, "volume": volume, "open_interest": oi}
        )
        snapshot = ChainSnapshot(
            frame=frame,
            underlying=self.underlying,
            spot=spot,
            session=d.day,
            snapshot_ts=snapshot_ts,
            valuation_ts=d.valuation_ts,
            header_date=d.day,
            source=f"gex_market.iter_market(seed={self.seed}) session {d.day.isoformat()}",
            source_format="synthetic",
            underlying_name=ROOTS[self.underlying][2],
        )
        listed_before = np.repeat(~d.is_new, 2)
        occ = pl.DataFrame(
            {
                "date": pl.Series([d.day] * int(listed_before.sum()), dtype=pl.Date()),
                "symbol": frame["symbol"].filter(pl.Series(listed_before)),
                "open_interest": oi[listed_before],
            }
        )
        prev_close = p.previous_close if i == 0 else float(p.close[i - 1])
        return MarketSession(
            session=d.day,
            snapshot=snapshot,
            open_interest=occ,
            open=float(p.open[i]),
            high=float(p.high[i]),
            low=float(p.low[i]),
            close=spot,
            change=round(spot - prev_close, 2),
            rates=dict(zip(TENORS, (float(r) for r in curve))),
            turbulent=bool(p.turbulent[i]),
            realised_vol=float(p.realised_vol[i]),
            implied_vol=d.vol,
            classic_gex=classic_gex,
            skew_scale=float(p.skew_scale[i]),
        )


@dataclass(frozen=True)
class _Day:
    """Facts of one session shared by the book update and the quoting (per line: ``group``, ``strikes``,
    ``traded``, ``is_new``; per expiry: ``expiries``, ``tenor`` in years to settlement)."""

    index: int
    day: dt.date
    spot: float
    vol: float
    valuation_ts: dt.datetime
    expiries: list[Expiry]
    group: np.ndarray
    tenor: np.ndarray
    traded: np.ndarray
    strikes: np.ndarray
    is_new: np.ndarray


def surface_vol(
    log_moneyness: np.ndarray, tenor_years: np.ndarray, vol: float, skew_scale: float = 1.0
) -> np.ndarray:
    """Implied volatility of the day's surface, decimal per year, at ``log_moneyness = ln(K/F)``.

    :func:`gex_market.chain.smile_vol` at its reference level ``base_vol = 0.15`` (where its quotes are
    free of vertical-spread arbitrage), in moneyness standardised by the vol level and scaled to ``vol``:
    ``sigma = r * smile_vol(x * skew_scale / r, T, 0.15)`` with ``r = vol / 0.15``. A plain
    ``smile_vol(x, T, vol)`` at high vol has wings steep enough to make call spreads negative; in
    standardised moneyness the no-arbitrage bound is (nearly) independent of the level. ``skew_scale > 1``
    steepens the smile (after a drawdown). Capped at :data:`MAX_IV`.
    """
    ratio = vol / SMILE_REFERENCE_VOL
    shape = smile_vol(log_moneyness * skew_scale / ratio, tenor_years, base_vol=SMILE_REFERENCE_VOL)
    return np.minimum(ratio * shape, MAX_IV)


def _churn(oi: np.ndarray, strikes: np.ndarray, spot: float, days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Volume beyond opening and closing trades (day trading, rolls), contracts: the turnover and near-money
    bump of :func:`gex_market.chain.session_volume`, far larger for 0- and 1-DTE expiries."""
    activity = np.where(days <= 1, 2.0, np.where(days <= 7, 0.3, 0.05))
    near = np.exp(-0.5 * (np.log(strikes / spot) / 0.02) ** 2)
    mean = activity * (oi + 2.0e4 * near * (days <= 1) + 200.0 * near)
    return rng.poisson(mean * rng.gamma(0.7, 1.0 / 0.7, len(oi)))


def _chain_frame(
    underlying: str, d: _Day, snapshot_ts: dt.datetime, columns: dict[str, np.ndarray]
) -> pl.DataFrame:
    """The canonical chain frame (:data:`gex.chain.CHAIN_SCHEMA`) in quote-table order, built column-wise."""
    exps = d.expiries
    roots = pl.Series([e.root for e in exps], dtype=pl.String())
    expiration = pl.Series([e.expiration for e in exps], dtype=pl.Date())
    settlement = pl.Series([e.settlement for e in exps], dtype=SETTLEMENTS)
    settlement_ts = pl.Series([e.settlement_ts for e in exps], dtype=pl.Datetime("us", "UTC"))
    contract_group = pl.Series(np.repeat(d.group, 2))
    n = len(contract_group)
    frame = pl.DataFrame(
        {
            "root": roots.gather(contract_group),
            "expiration": expiration.gather(contract_group),
            "settlement": settlement.gather(contract_group),
            "settlement_ts": settlement_ts.gather(contract_group),
            "strike": np.repeat(d.strikes, 2),
            "right": pl.Series(np.tile(["C", "P"], len(d.strikes)), dtype=RIGHTS),
            "bid": columns["bid"],
            "ask": columns["ask"],
            "last": columns["last"],
            "volume": columns["volume"].astype(np.int64),
            "open_interest": columns["open_interest"].astype(np.int64),
            "vendor_iv": columns["vendor_iv"],
            "vendor_delta": columns["vendor_delta"],
            "vendor_gamma": columns["vendor_gamma"],
            "source_line": np.arange(n, dtype=np.int64) // 2 + 5,  # 4 header lines, one line per call/put pair
        }
    )
    strike_code = (pl.col("strike") * 1000.0).round(0).cast(pl.Int64).cast(pl.String).str.zfill(8)
    yymmdd = pl.col("expiration").dt.strftime("%y%m%d")
    frame = frame.with_columns(
        pl.concat_str(pl.col("root"), yymmdd, pl.col("right").cast(pl.String), strike_code).alias("symbol"),
        pl.lit(underlying).alias("underlying"),
        pl.lit(d.day).alias("session"),
        pl.lit(snapshot_ts).alias("snapshot_ts"),
        pl.lit(d.valuation_ts).alias("valuation_ts"),
        pl.lit(previous_session(d.day)).alias("oi_date"),
        pl.lit(None, dtype=pl.Float64).alias("vendor_vega"),
        pl.lit(None, dtype=pl.Float64).alias("vendor_theta"),
        pl.lit(d.spot).alias("underlying_price"),
        pl.lit(100.0).alias("multiplier"),
    )
    return conform(frame.select(list(CHAIN_SCHEMA)))


def iter_market(
    *,
    sessions: int = 252,
    start: dt.date | None = None,
    contracts: int | None = None,
    seed: int = 0,
    underlying: str = "SPX",
    spot0: float = 5000.0,
) -> Iterator[MarketSession]:
    """Yield the market session by session without writing anything.

    Parameters
    ----------
    sessions:
        Number of published NYSE sessions.
    start:
        First session (the next session if ``start`` is not one); default :data:`DEFAULT_START`.
    contracts:
        Approximate contracts per session (calls + puts): new listings are thinned to keep near this
        budget, near-the-money and round strikes first. ``None``: the size of the full listing on the
        first (burn-in) session, ~20,000 for SPX (strikes listed as spot moves stay listed until expiry,
        so an unthinned market would keep growing).
    seed:
        Seed of every random draw; the same arguments give identical sessions.
    underlying:
        ``"SPX"``, ``"NDX"``, ``"RUT"``, ``"SPY"`` or ``"QQQ"`` (roots and header name of
        :data:`gex_market.chain.ROOTS`; the ETFs have one PM-settled root).
    spot0:
        Index close of the session before ``start``, points.

    Yields
    ------
    MarketSession

    Raises
    ------
    ValueError
        At the call (not at the first session) for a bad argument: ``sessions < 1``, ``contracts < 100``,
        a non-positive ``spot0``, an unknown ``underlying``, or sessions outside the exchange calendar.
    """
    market = _Market(sessions=sessions, start=start, contracts=contracts, seed=seed, underlying=underlying, spot0=spot0)
    return _sessions(market)


def _sessions(market: _Market) -> Iterator[MarketSession]:
    for i in range(len(market.path)):
        published = market.step(i)
        if published is not None:
            yield published


@dataclass(frozen=True)
class MarketSummary:
    """What :func:`generate_market` wrote, and statistics of the market.

    Attributes
    ----------
    out_dir:
        The landing folder.
    chain_files, oi_files:
        Per session, the Cboe quote table and the OCC open-interest file.
    closes_file, rates_file:
        The reference files.
    sessions:
        Published sessions, ascending.
    contracts:
        Per session, contracts in the chain (calls + puts).
    oi_rows:
        Per session, rows of the OCC file.
    classic_gex:
        Per session, :attr:`MarketSession.classic_gex` (US dollars per 1% move).
    turbulent:
        Per session, whether the volatility regime was turbulent.
    seconds:
        Wall time of the generation, seconds.
    """

    out_dir: Path
    chain_files: tuple[Path, ...]
    oi_files: tuple[Path, ...]
    closes_file: Path
    rates_file: Path
    sessions: tuple[dt.date, ...]
    contracts: tuple[int, ...]
    oi_rows: tuple[int, ...]
    classic_gex: tuple[float, ...]
    turbulent: tuple[bool, ...]
    seconds: float

    @property
    def positive_share(self) -> float:
        """Share of sessions with positive total classic GEX at spot (dealers long gamma)."""
        return float(np.mean(np.asarray(self.classic_gex) > 0))

    @property
    def negative_share(self) -> float:
        """Share of sessions with negative total classic GEX at spot (dealers short gamma)."""
        return float(np.mean(np.asarray(self.classic_gex) < 0))

    @property
    def regime_changes(self) -> int:
        """Sign changes of the classic GEX from one session to the next."""
        sign = np.sign(np.asarray(self.classic_gex))
        return int(np.sum(sign[1:] != sign[:-1]))

    @property
    def turbulent_share(self) -> float:
        """Share of sessions in the turbulent volatility regime."""
        return float(np.mean(self.turbulent))

    def describe(self) -> str:
        """One line: sessions, files, contracts, regimes, speed."""
        n = len(self.sessions)
        return (
            f"{n} sessions {self.sessions[0]}..{self.sessions[-1]} -> {self.out_dir}: "
            f"{n} chains ({int(np.mean(self.contracts)):,} contracts/session), {n} OI files, closes, rates; "
            f"gamma + {self.positive_share:.0%} / - {self.negative_share:.0%}, {self.regime_changes} regime changes, "
            f"turbulent {self.turbulent_share:.0%}; {self.seconds:.1f} s ({n / self.seconds:.1f} sessions/s)"
        )


def generate_market(
    out_dir: str | Path,
    *,
    sessions: int = 252,
    start: dt.date | None = None,
    contracts: int | None = None,
    seed: int = 0,
    underlying: str = "SPX",
    spot0: float = 5000.0,
    progress: Callable[[MarketSession], None] | None = None,
) -> MarketSummary:
    """Write the market of :func:`iter_market` into the landing folder ``out_dir``.

    Files (created or overwritten; other files in ``out_dir`` are left alone), see ``docs/market-generator.md``:
    ``chains/<UNDERLYING>_<date>_quotedata.csv``, ``oi/occ_oi_<date>.csv``, ``reference/closes.csv``,
    ``reference/rates.csv``. Same arguments give byte-identical files.

    Parameters
    ----------
    out_dir:
        Landing folder (created if missing).
    progress:
        Called after each session is written (e.g. to advance a progress bar).
    sessions, start, contracts, seed, underlying, spot0:
        As :func:`iter_market`.
    """
    from gex_market import landing

    began = time.perf_counter()
    market = iter_market(sessions=sessions, start=start, contracts=contracts, seed=seed, underlying=underlying, spot0=spot0)
    out = Path(out_dir)
    dirs = landing.make_dirs(out)  # after the arguments are checked: a bad call leaves no folder behind
    chain_files: list[Path] = []
    oi_files: list[Path] = []
    bars: list[landing.ReferenceRow] = []
    stats: list[tuple[dt.date, int, int, float, bool]] = []
    for ms in market:
        chain_files.append(landing.write_chain(ms, dirs))
        oi_files.append(landing.write_open_interest(ms, dirs))
        bars.append(landing.ReferenceRow.of(ms))
        stats.append((ms.session, ms.snapshot.frame.height, ms.open_interest.height, ms.classic_gex, ms.turbulent))
        if progress is not None:
            progress(ms)
    closes_file, rates_file = landing.write_reference(bars, underlying, dirs)
    days, heights, oi_rows, gex, turbulent = zip(*stats)
    return MarketSummary(
        out_dir=out,
        chain_files=tuple(chain_files),
        oi_files=tuple(oi_files),
        closes_file=closes_file,
        rates_file=rates_file,
        sessions=days,
        contracts=heights,
        oi_rows=oi_rows,
        classic_gex=gex,
        turbulent=turbulent,
        seconds=time.perf_counter() - began,
    )
