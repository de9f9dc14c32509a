"""Expiry-filtered views of one analysis: the GEX, flip, walls and profile of a subset of expirations.

Filters (:data:`EXPIRY_FILTERS`; definitions recorded verbatim in :data:`FILTER_DEFINITIONS` and
``docs/conventions.md``). "Valuation" is the analysis' valuation instant (``Analysis.valuation_ts``, UTC);
a contract is *unexpired* when its ``settlement_ts`` is after it, and "nearest" expirations are taken among
the contracts the analysis kept (valued, or totalled at spot by a preset).

- ``all``: every contract of the analysis;
- ``0dte``: contracts settling by the next session close after the valuation
  (:func:`gex.analysis.next_close`; the same set as ``Analysis.zero_dte_gamma_share``): today's expiries
  intraday, the next session's after the close;
- ``ex-0dte``: all but ``0dte`` (the two partition ``all``);
- ``ex-next-expiry``: all but the nearest unexpired expiration *date* (every root and settlement style
  expiring that day, e.g. SPX AM and SPXW PM on a monthly Friday);
- ``ex-next-monthly``: all but the contracts of the nearest unexpired standard monthly (below);
- ``monthly``: standard monthly contracts only.

Standard monthly contract: its expiration is its month's standard monthly date and it belongs to the
standard series: AM-settled (the SPX/NDX/RUT monthlies) or, for PM-settled options, a root equal to the
underlying (ETF and equity options: SPY, QQQ; XSP). The standard monthly date is the third Friday of the
month, or the session before it when that Friday is not an NYSE session (Good Friday, Juneteenth 2026);
for VIX (and VIXW) it is the Wednesday 30 days before the next month's third Friday (the session before
it when that Wednesday is a holiday). So the SPXW PM contracts of a third Friday are not monthly (they are
that week's PM series), and on a monthly Friday after the open the AM monthly has settled: the next
monthly is next month's. When the nearest expiry is also the next monthly (SPY on the Thursday evening
before a monthly Friday), ``ex-next-expiry``, ``ex-next-monthly`` and ``ex-0dte`` drop the same contracts
for an ETF, while for SPX ``ex-next-monthly`` drops only the AM series and ``ex-next-expiry`` both.

Per filter (:class:`ExpiryView`): total/call/put GEX at spot (the conventions' spot gamma, dollars per 1%
move), the exact flip and every crossing on the same window and method as the full analysis, regime,
walls and absolute gamma strike (same definitions as :mod:`gex.levels`), the filter's share of the full
chain's gross ``|GEX|``, contract and expiration counts, and the profile on the analysis' grid. An empty
filter gives a view with zero contracts, zero totals, null levels, null regime and an empty profile.

Pure: frames in, frames out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import polars as pl

from gex.columns import epoch_days, frame_of
from gex.analysis import Analysis, ProfileFlip, next_close, profile_and_flip, profile_and_flip_arrays
from gex.calendar import is_session, previous_session
from gex.gex import abs_sum, exposure_totals, gross_gex, per_strike_gex
from gex.levels import Levels, Regime, key_levels, key_levels_arrays

#: Filter names, in display order.
EXPIRY_FILTERS: tuple[str, ...] = ("all", "0dte", "ex-0dte", "ex-next-expiry", "ex-next-monthly", "monthly")

#: One-line definition of each filter, recorded with the results.
FILTER_DEFINITIONS: dict[str, str] = {
    "all": "every contract the analysis valued",
    "0dte": "contracts settling by the next session close after the valuation instant",
    "ex-0dte": "every contract but the 0dte ones",
    "ex-next-expiry": "every contract but those of the nearest unexpired expiration date (all roots)",
    "ex-next-monthly": "every contract but those of the nearest unexpired standard monthly",
    "monthly": "standard monthly contracts only (third-Friday AM series, or PM with root = underlying; VIX: "
    "Wednesday 30 days before the next month's third Friday)",
}

#: Underlyings whose standard monthly is the VIX-style Wednesday, not the third Friday.
VIX_STYLE_UNDERLYINGS: frozenset[str] = frozenset({"VIX", "VIXW"})

#: Schema of :attr:`ExpiryView.profile` (same columns as ``Analysis.profile``).
PROFILE_SCHEMA: dict[str, pl.DataType] = {"spot_level": pl.Float64(), "gex_usd_per_1pct": pl.Float64()}


def _third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def _session_on_or_before(day: dt.date) -> dt.date:
    return day if is_session(day) else previous_session(day)


def standard_monthly_date(year: int, month: int, underlying: str = "") -> dt.date:
    """The standard monthly expiration date of ``year``-``month`` for ``underlying``.

    The third Friday, or the session before it when that Friday is an NYSE holiday; for VIX-style
    underlyings (:data:`VIX_STYLE_UNDERLYINGS`) the Wednesday 30 days before the *next* month's third
    Friday, or the session before that Wednesday when it is a holiday.

    >>> standard_monthly_date(2023, 8), standard_monthly_date(2025, 4), standard_monthly_date(2026, 6)
    (datetime.date(2023, 8, 18), datetime.date(2025, 4, 17), datetime.date(2026, 6, 18))
    >>> standard_monthly_date(2016, 6, "VIX")
    datetime.date(2016, 6, 15)
    """
    return _monthly_date(year, month, underlying.upper() in VIX_STYLE_UNDERLYINGS)


@lru_cache(maxsize=4096)
def _monthly_date(year: int, month: int, vix_style: bool) -> dt.date:
    """:func:`standard_monthly_date`, cached by month and style (not by underlying: a whole-market session
    has thousands of underlyings sharing a few dozen months)."""
    if vix_style:
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        return _session_on_or_before(_third_friday(ny, nm) - dt.timedelta(days=30))
    return _session_on_or_before(_third_friday(year, month))


def _is_monthly_date(expiration: pl.Series, underlying: str) -> pl.Series:
    """Whether each expiration is its month's standard monthly date (computed per distinct month)."""
    months = expiration.drop_nulls().unique().to_list()
    monthly = {d for d in months if d == standard_monthly_date(d.year, d.month, underlying)}
    return expiration.is_in(list(monthly)).fill_null(False)


_EPOCH = dt.date(1970, 1, 1)


def monthly_mask_array(frame: pl.DataFrame, underlying: str) -> np.ndarray:
    """:func:`monthly_mask` as a numpy bool array, from numpy arrays and the distinct roots and dates
    (polars' Series methods run as queries, ~0.15 ms each, and the views ask for this mask on every chain).
    Equal to :func:`monthly_mask_reference` (tested); nulls never match, as there."""
    n = frame.height
    if n == 0:
        return np.zeros(0, dtype=bool)
    days = epoch_days(frame.get_column("expiration"))  # null -> NaN
    known = np.unique(days[~np.isnan(days)])
    dates = [_EPOCH + dt.timedelta(days=int(d)) for d in known]
    monthly_days = [d for d, date in zip(known, dates) if date == standard_monthly_date(date.year, date.month, underlying)]
    on_date = np.isin(days, monthly_days)
    u = underlying.upper().lstrip("^")
    settlement = frame.get_column("settlement").to_numpy()
    roots = frame.get_column("root").to_list()  # None for a null root: never standard, as in polars
    # \Z, not $: polars' (Rust's) $ is the end of the text, Python's also matches before a final newline
    standard = {r: r is not None and re.sub(r"\d+\Z", "", r.upper()) == u for r in set(roots)}
    series = (settlement == "AM") | np.fromiter((standard[r] for r in roots), dtype=bool, count=n)
    return on_date & series


def monthly_mask(frame: pl.DataFrame, underlying: str) -> pl.Series:
    """Standard monthly contracts of ``frame`` (columns ``expiration``, ``settlement``, ``root``): the
    standard monthly date and the standard series (AM-settled, or PM with ``root`` equal to the
    underlying once trailing digits of adjusted roots such as ``SPY1`` are dropped)."""
    return pl.Series("monthly", monthly_mask_array(frame, underlying), dtype=pl.Boolean)


def monthly_mask_reference(frame: pl.DataFrame, underlying: str) -> pl.Series:
    """:func:`monthly_mask` as polars statements (the tests check the two equal)."""
    if frame.height == 0:
        return pl.Series("monthly", [], dtype=pl.Boolean)
    on_date = _is_monthly_date(frame["expiration"], underlying)
    u = underlying.upper().lstrip("^")
    series = frame.select(
        (pl.col("settlement").cast(pl.String) == "AM")
        | (pl.col("root").str.to_uppercase().str.replace(r"\d+$", "") == u)
    ).to_series().fill_null(False)
    return (on_date & series).alias("monthly")


@dataclass(frozen=True)
class FilterContext:
    """What the filters are defined against, resolved once per analysis so every frame is cut alike.

    ``zero_dte_cutoff``: the next session close after the valuation (UTC); ``next_expiration``: nearest
    unexpired expiration date (``None`` without one); ``next_monthly``: nearest unexpired standard
    monthly date (``None`` without one).
    """

    underlying: str
    valuation_ts: dt.datetime
    zero_dte_cutoff: dt.datetime
    next_expiration: dt.date | None
    next_monthly: dt.date | None
    #: the frame :meth:`of` resolved the context from and its monthly mask, so :meth:`masks` of that same frame
    #: (the views' usual case) does not compute the mask again; not part of the context's value
    _monthly_of: tuple[pl.DataFrame, np.ndarray] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, frame: pl.DataFrame, underlying: str, valuation_ts: dt.datetime) -> FilterContext:
        """Resolve the context from the contracts of ``frame`` (``expiration``, ``settlement``,
        ``settlement_ts``, ``root``).

        From numpy arrays (the two filters and two minimums of :meth:`of_reference` cost ~1.7 ms a typical chain,
        this ~0.7 ms); equal to it (tested). A null settlement instant or expiration never counts.
        """
        settle = frame.get_column("settlement_ts")
        if getattr(settle.dtype, "time_zone", None) not in (None, "UTC"):
            settle = settle.dt.convert_time_zone("UTC")
        if getattr(settle.dtype, "time_unit", "us") != "us":
            settle = settle.dt.cast_time_unit("us")
        settles = settle.to_numpy()  # datetime64[us] in UTC; null: NaT
        cutoff = np.datetime64(valuation_ts.astimezone(dt.timezone.utc).replace(tzinfo=None), "us")
        unexpired = settles > cutoff  # NaT compares false
        days = epoch_days(frame.get_column("expiration"))  # null: NaN
        dated = unexpired & ~np.isnan(days)
        standard = monthly_mask_array(frame, underlying)  # row by row, so the same on any subset
        monthly = dated & standard
        return cls(
            underlying=underlying,
            valuation_ts=valuation_ts,
            zero_dte_cutoff=next_close(valuation_ts),
            next_expiration=_EPOCH + dt.timedelta(days=int(days[dated].min())) if dated.any() else None,
            next_monthly=_EPOCH + dt.timedelta(days=int(days[monthly].min())) if monthly.any() else None,
            _monthly_of=(frame, standard),
        )

    @classmethod
    def of_reference(cls, frame: pl.DataFrame, underlying: str, valuation_ts: dt.datetime) -> FilterContext:
        """:meth:`of` as polars statements (the tests check the two equal)."""
        unexpired = frame.filter(pl.col("settlement_ts") > pl.lit(valuation_ts))
        monthly = unexpired.filter(monthly_mask(unexpired, underlying))
        return cls(
            underlying=underlying,
            valuation_ts=valuation_ts,
            zero_dte_cutoff=next_close(valuation_ts),
            next_expiration=unexpired["expiration"].min() if unexpired.height else None,
            next_monthly=monthly["expiration"].min() if monthly.height else None,
        )

    def mask(self, frame: pl.DataFrame, name: str) -> pl.Series:
        """Rows of ``frame`` that filter ``name`` keeps (boolean, one per row)."""
        n = frame.height
        if name == "all":
            return pl.Series("keep", [True] * n, dtype=pl.Boolean)
        if name in ("0dte", "ex-0dte"):
            zero = frame.select(pl.col("settlement_ts") <= pl.lit(self.zero_dte_cutoff)).to_series().fill_null(False)
            return zero if name == "0dte" else ~zero
        if name == "ex-next-expiry":
            if self.next_expiration is None:
                return pl.Series("keep", [True] * n, dtype=pl.Boolean)
            return frame.select(pl.col("expiration") != pl.lit(self.next_expiration)).to_series().fill_null(True)
        monthly = monthly_mask(frame, self.underlying)
        if name == "monthly":
            return monthly
        if name == "ex-next-monthly":
            if self.next_monthly is None:
                return pl.Series("keep", [True] * n, dtype=pl.Boolean)
            that = frame.select(pl.col("expiration") == pl.lit(self.next_monthly)).to_series().fill_null(False)
            return ~(monthly & that)
        raise ValueError(f"unknown expiry filter {name!r}; choose one of {', '.join(EXPIRY_FILTERS)}")

    def masks(self, frame: pl.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
        """``{filter: rows it keeps}`` for each of ``names`` (numpy bool arrays, one per row), equal to
        :meth:`mask`'s, with each condition evaluated once for all filters (the monthly test is the costly one).

        The conditions are numpy comparisons of the columns' physical values (a null never matches, as
        ``fill_null(False)`` has it), not a polars query: ~1 ms a chain less, on every chain of a whole-market
        session. :meth:`masks_reference` is the query, tested equal."""
        settle = frame.get_column("settlement_ts")
        if not (isinstance(settle.dtype, pl.Datetime) and settle.dtype.time_zone is not None
                and frame.get_column("expiration").dtype == pl.Date):
            return self.masks_reference(frame, names)
        n = frame.height
        everything = np.ones(n, dtype=bool)
        # the instants in the column's own unit, in UTC (NaT for a null: every comparison with it is false)
        cutoff = np.datetime64(self.zero_dte_cutoff.astimezone(dt.timezone.utc).replace(tzinfo=None), "us")
        zero = settle.to_numpy() <= cutoff
        days = epoch_days(frame.get_column("expiration"))  # null: NaN, never equal

        def on(day: dt.date | None) -> np.ndarray:
            return np.zeros(n, dtype=bool) if day is None else days == float((day - _EPOCH).days)

        if {"monthly", "ex-next-monthly"} & set(names):
            cached = self._monthly_of
            monthly = cached[1] if cached is not None and cached[0] is frame else monthly_mask_array(frame, self.underlying)
        else:
            monthly = everything
        return _filter_masks(names, zero, on(self.next_expiration), on(self.next_monthly), monthly)

    def masks_reference(self, frame: pl.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
        """:meth:`masks` as one polars query (what it was; the tests check the two equal)."""
        cols = frame.select(
            zero=(pl.col("settlement_ts") <= pl.lit(self.zero_dte_cutoff)).fill_null(False),
            next_expiry=(pl.col("expiration") == pl.lit(self.next_expiration)).fill_null(False)
            if self.next_expiration is not None else pl.lit(False),
            next_monthly_date=(pl.col("expiration") == pl.lit(self.next_monthly)).fill_null(False)
            if self.next_monthly is not None else pl.lit(False),
        )
        monthly = (monthly_mask_array(frame, self.underlying)
                   if {"monthly", "ex-next-monthly"} & set(names) else np.ones(frame.height, dtype=bool))
        return _filter_masks(names, *(cols[c].to_numpy().astype(bool) for c in ("zero", "next_expiry", "next_monthly_date")),
                             monthly)

    def excluded_expiration(self, name: str) -> dt.date | None:
        """The expiration date a filter drops (``ex-next-expiry``, ``ex-next-monthly``), else ``None``."""
        return {"ex-next-expiry": self.next_expiration, "ex-next-monthly": self.next_monthly}.get(name)


def _filter_masks(names: list[str], zero: np.ndarray, next_expiry: np.ndarray, next_monthly_date: np.ndarray,
                  monthly: np.ndarray) -> dict[str, np.ndarray]:
    """``{filter: rows it keeps}`` of ``names`` from the conditions (bool arrays, one per row): settling by the
    0-DTE cutoff, on the next expiration date, on the next monthly date, standard monthly."""
    base = {
        "all": np.ones(zero.shape, dtype=bool),
        "0dte": zero,
        "ex-0dte": ~zero,
        "ex-next-expiry": ~next_expiry,
        "monthly": monthly,
        "ex-next-monthly": ~(monthly & next_monthly_date),
    }
    return {name: base[name] for name in names}


@dataclass(frozen=True)
class ExpiryView:
    """One expiry filter's GEX, flip, levels and profile.

    Money in dollars per 1% move of the underlying; levels in currency per share; ``gross_gex_share`` a
    fraction 0..1 of the full chain's gross ``|GEX|`` (model gamma, as ``Analysis.zero_dte_gamma_share``).
    ``contracts``: contracts the model valued in the filter; ``expirations``: their distinct expiration
    dates; ``excluded_expiration``: the date ``ex-next-expiry``/``ex-next-monthly`` dropped (``None`` for
    the other filters or when there was none). Empty filter: zero counts and totals, ``None`` levels and
    regime, empty profile.
    """

    expiries: str
    contracts: int
    expirations: int
    total_gex: float
    call_gex: float
    put_gex: float
    gex_at_spot_model: float
    gamma_flip: float | None
    flip_crossings: tuple[float, ...]
    flip_distance_pct: float | None
    regime: Regime | None
    call_wall: float | None
    put_wall: float | None
    abs_gamma_strike: float | None
    gross_gex_share: float
    excluded_expiration: dt.date | None
    profile: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PROFILE_SCHEMA))

    def to_dict(self, *, with_profile: bool = False) -> dict[str, object]:
        """JSON-ready summary (dates ISO; the profile as two lists when ``with_profile``)."""
        out: dict[str, object] = {
            "expiries": self.expiries,
            "definition": FILTER_DEFINITIONS[self.expiries],
            "contracts": self.contracts,
            "expirations": self.expirations,
            "total_gex": self.total_gex,
            "call_gex": self.call_gex,
            "put_gex": self.put_gex,
            "gex_units": "USD per 1% move of the underlying",
            "gex_at_spot_model": self.gex_at_spot_model,
            "gamma_flip": self.gamma_flip,
            "flip_crossings": list(self.flip_crossings),
            "flip_distance_pct": self.flip_distance_pct,
            "regime": self.regime,
            "call_wall": self.call_wall,
            "put_wall": self.put_wall,
            "abs_gamma_strike": self.abs_gamma_strike,
            "gross_gex_share": self.gross_gex_share,
            "excluded_expiration": None if self.excluded_expiration is None else self.excluded_expiration.isoformat(),
        }
        if with_profile:
            out["profile"] = {c: self.profile[c].to_list() for c in PROFILE_SCHEMA}
        return out


def _gross(frame: pl.DataFrame) -> float:
    """Gross ``|GEX|`` of rows, dollars per 1% move, summed as :func:`gex.analysis.analyze` sums its
    ``zero_dte_gamma_share`` (so the 0dte view's share is that figure, bit for bit): :func:`gex.gex.gross_gex`,
    the polars sum without its query (:func:`_gross_reference` is the statement)."""
    return gross_gex(frame.get_column("gex_usd_per_1pct"))


def _gross_reference(frame: pl.DataFrame) -> float:
    """:func:`_gross` as the polars statement (what :func:`expiry_view_reference` sums with)."""
    return float(frame["gex_usd_per_1pct"].abs().sum())


def filter_context(a: Analysis) -> FilterContext:
    """The :class:`FilterContext` of an analysis (from every row it valued or totalled)."""
    if a.spot_contracts is None:
        return FilterContext.of(a.contracts, a.underlying, a.valuation_ts)
    cols = ["expiration", "settlement", "settlement_ts", "root"]
    rows = pl.concat([a.contracts.select(cols), a.spot_contracts.select(cols)])
    return FilterContext.of(rows, a.underlying, a.valuation_ts)


def expiry_view(a: Analysis, name: str, context: FilterContext | None = None) -> ExpiryView:
    """The view of filter ``name`` (one of :data:`EXPIRY_FILTERS`) of analysis ``a``.

    The filter cuts the model's contracts (profile, flip, share, counts) and the rows behind the spot
    totals and levels (the vendor-gamma rows under presets that use them) alike; everything else is
    computed exactly as :func:`gex.analysis.analyze` computes it for the whole chain, under the same
    conventions, window and grid. Equal, bit for bit, to :func:`expiry_view_reference`.
    """
    if name not in EXPIRY_FILTERS:
        raise ValueError(f"unknown expiry filter {name!r}; choose one of {', '.join(EXPIRY_FILTERS)}")
    return expiry_views(a, [name], context)[0]


@dataclass(frozen=True)
class _Rows:
    """The columns of one frame of contracts the views need, as numpy arrays, and the rows each filter keeps.

    Why: the views run for every chain and filter; on a whole-market session most chains are small and the
    fixed cost of a dozen polars calls per filter was most of the time. Masks are cut from arrays extracted
    once; the arithmetic is the same (row order kept, so every sum is over the same values in the same order).
    """

    strike: np.ndarray  # (n,) currency per share
    is_call: np.ndarray  # (n,) bool
    gex: np.ndarray  # (n,) dealer GEX, dollars per 1% move
    expiration: np.ndarray  # (n,) days since the epoch (nulls as a sentinel)
    by_strike: np.ndarray  # (n,) stable argsort of strike: per_strike_gex's row order
    masks: dict[str, np.ndarray]  # filter -> (n,) bool
    profile_inputs: tuple[np.ndarray, ...]  # strike, sigma, tenor_years, dealer_shares_per_point, rate, dividend_yield

    @classmethod
    def of(cls, frame: pl.DataFrame, ctx: FilterContext, names: list[str], *, model: bool) -> _Rows:
        strike = frame["strike"].to_numpy().astype(np.float64)
        masks = ctx.masks(frame, names)
        inputs: tuple[np.ndarray, ...] = ()
        if model:
            inputs = tuple(frame[c].to_numpy() for c in ("strike", "sigma", "tenor_years", "dealer_shares_per_point",
                                                         "rate", "dividend_yield"))
        return cls(
            strike=strike,
            is_call=(frame["right"] == "C").to_numpy(),
            gex=frame["gex_usd_per_1pct"].to_numpy().astype(np.float64),
            expiration=epoch_days(frame["expiration"]),  # null: NaN, one distinct value as np.unique counts it
            by_strike=np.argsort(strike, kind="stable"),
            masks=masks,
            profile_inputs=inputs,
        )

    def totals(self, keep: np.ndarray) -> tuple[float, float, float]:
        """(call, put, net) GEX of the kept rows, as :func:`gex.gex.exposure_totals` sums them."""
        is_call, gex = self.is_call[keep], self.gex[keep]
        return (float(np.sum(np.where(is_call, gex, 0.0))), float(np.sum(np.where(is_call, 0.0, gex))),
                float(np.sum(gex)))

    def levels(self, keep: np.ndarray, spot: float) -> Levels:
        """:func:`gex.levels.key_levels` of the kept rows' :func:`gex.gex.per_strike_gex` table, summed the same
        way (rows stably sorted by strike, each strike summed left to right)."""
        order = self.by_strike[keep[self.by_strike]]
        strike, is_call, gex = self.strike[order], self.is_call[order], self.gex[order]
        starts = np.flatnonzero(np.r_[True, strike[1:] != strike[:-1]]) if order.size else order
        sums = [np.add.reduceat(v, starts) if order.size else v[:0]
                for v in (np.where(is_call, gex, 0.0), np.where(is_call, 0.0, gex), gex)]
        levels = key_levels_arrays(strike[starts], *sums, spot)
        if levels is None:  # a non-finite value: the reference decides
            names = ("call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct")
            table = pl.DataFrame({"strike": strike[starts], **dict(zip(names, sums))})
            levels = key_levels(table, spot)
        return levels


def _view(a: Analysis, name: str, ctx: FilterContext, model: _Rows, spot: _Rows | None, gross_all: float) -> ExpiryView:
    """The view of one filter from the extracted rows (``spot``: the vendor-gamma rows, ``None`` when the
    model's rows are also the spot rows)."""
    keep = model.masks[name]
    spot_rows, spot_keep = (model, keep) if spot is None else (spot, spot.masks[name])
    call, put, net = spot_rows.totals(spot_keep)
    n_model, n_spot = int(keep.sum()), int(spot_keep.sum())
    share = abs_sum(model.gex[keep]) / gross_all if gross_all > 0 else 0.0
    base = dict(
        expiries=name,
        contracts=n_model,
        expirations=int(np.unique(model.expiration[keep]).size),
        total_gex=net,
        call_gex=call,
        put_gex=put,
        gross_gex_share=share,
        excluded_expiration=ctx.excluded_expiration(name),
    )
    if n_model == 0 and n_spot == 0:
        return _empty_view(base)
    k, sigma, tenor, shares, rate, dy = (x[keep] for x in model.profile_inputs)
    pf = profile_and_flip_arrays(k, sigma, tenor, shares, rate, dy, a.spot, a.conventions, net)
    levels = spot_rows.levels(spot_keep, a.spot) if n_spot else None
    return _valued_view(base, a.spot, pf, levels)


def _empty_view(base: dict[str, object]) -> ExpiryView:
    """Nothing to value: no profile, no flip, no levels, no regime (zero is the true total of no contracts)."""
    return ExpiryView(**base, gex_at_spot_model=0.0, gamma_flip=None, flip_crossings=(),  # type: ignore[arg-type]
                      flip_distance_pct=None, regime=None, call_wall=None, put_wall=None, abs_gamma_strike=None)


def _valued_view(base: dict[str, object], spot: float, pf: ProfileFlip, levels: Levels | None) -> ExpiryView:
    """A view from its counts and totals (``base``), its profile and flip, and its levels (``None``: no spot rows)."""
    flip = pf.flip
    return ExpiryView(
        **base,  # type: ignore[arg-type]
        gex_at_spot_model=pf.gex_at_spot_model,
        gamma_flip=flip,
        flip_crossings=pf.crossings,
        flip_distance_pct=None if flip is None else 100.0 * (flip - spot) / spot,
        regime=pf.regime,
        call_wall=None if levels is None else levels.call_wall,
        put_wall=None if levels is None else levels.put_wall,
        abs_gamma_strike=None if levels is None else levels.abs_gamma_strike,
        # from Series, not a dict with a schema (~30 us less a view; five views a chain)
        profile=frame_of([pl.Series(name, values, dtype=dtype) for (name, dtype), values
                          in zip(PROFILE_SCHEMA.items(), (pf.levels, pf.curve))]),
    )


def expiry_view_reference(a: Analysis, name: str, context: FilterContext | None = None) -> ExpiryView:
    """The view of filter ``name`` computed the plain way: the filtered frames through the same functions
    :func:`gex.analysis.analyze` uses (the reference :func:`expiry_view` is tested against, bit for bit).

    The filter cuts the model's contracts (profile, flip, share, counts) and the rows behind the spot
    totals and levels (the vendor-gamma rows under presets that use them) alike; everything else is
    computed exactly as :func:`gex.analysis.analyze` computes it for the whole chain, under the same
    conventions, window and grid.
    """
    if name not in EXPIRY_FILTERS:
        raise ValueError(f"unknown expiry filter {name!r}; choose one of {', '.join(EXPIRY_FILTERS)}")
    ctx = context or filter_context(a)
    if name == "all":
        return _all_view(a)
    model = a.contracts.filter(ctx.mask(a.contracts, name))
    spot_source = a.spot_contracts if a.spot_contracts is not None else a.contracts
    spot_rows = model if a.spot_contracts is None else spot_source.filter(ctx.mask(spot_source, name))
    totals = exposure_totals(spot_rows)
    gross_all = _gross_reference(a.contracts)
    share = _gross_reference(model) / gross_all if gross_all > 0 else 0.0
    base = dict(
        expiries=name,
        contracts=model.height,
        expirations=model["expiration"].n_unique(),
        total_gex=totals["net_gex_usd_per_1pct"],
        call_gex=totals["call_gex_usd_per_1pct"],
        put_gex=totals["put_gex_usd_per_1pct"],
        gross_gex_share=share,
        excluded_expiration=ctx.excluded_expiration(name),
    )
    if model.height == 0 and spot_rows.height == 0:
        return _empty_view(base)
    pf = profile_and_flip(model, a.spot, a.conventions, totals["net_gex_usd_per_1pct"])
    levels = key_levels(per_strike_gex(spot_rows), a.spot) if spot_rows.height else None
    return _valued_view(base, a.spot, pf, levels)


def _all_view(a: Analysis) -> ExpiryView:
    """Filter ``all``: the whole analysis, taken from ``a`` rather than recomputed (the same rows under the same
    conventions give the same numbers, bit for bit; the views run for every chain, so this saves a sixth)."""
    spot_rows = a.spot_contracts if a.spot_contracts is not None else a.contracts
    base = dict(
        expiries="all",
        contracts=a.contracts.height,
        expirations=a.contracts["expiration"].n_unique(),
        total_gex=a.total_gex,
        call_gex=a.call_gex,
        put_gex=a.put_gex,
        gross_gex_share=1.0 if _gross(a.contracts) > 0 else 0.0,
        excluded_expiration=None,
    )
    if a.contracts.height == 0 and spot_rows.height == 0:
        return _empty_view(base)
    flip, levels = a.gamma_flip, a.levels
    return ExpiryView(
        **base,
        gex_at_spot_model=a.gex_at_spot_model,
        gamma_flip=flip,
        flip_crossings=tuple(a.flip_crossings),
        flip_distance_pct=None if flip is None else 100.0 * (flip - a.spot) / a.spot,
        regime=a.regime,
        call_wall=levels.call_wall if spot_rows.height else None,
        put_wall=levels.put_wall if spot_rows.height else None,
        abs_gamma_strike=levels.abs_gamma_strike if spot_rows.height else None,
        profile=_as_profile_schema(a.profile),
    )


def _as_profile_schema(profile: pl.DataFrame) -> pl.DataFrame:
    """``profile`` with :data:`PROFILE_SCHEMA`'s columns and dtypes (a query only when it has others)."""
    if profile.columns == list(PROFILE_SCHEMA) and profile.dtypes == list(PROFILE_SCHEMA.values()):
        return profile
    return profile.select(pl.col(c).cast(t) for c, t in PROFILE_SCHEMA.items())


def expiry_views(a: Analysis, names: tuple[str, ...] | list[str] = EXPIRY_FILTERS,
                 context: FilterContext | None = None) -> list[ExpiryView]:
    """The views of ``names`` (default every filter, in :data:`EXPIRY_FILTERS` order) of analysis ``a``.

    The contracts' columns are extracted once and every filter cut from them (see :class:`_Rows`)."""
    for name in names:
        if name not in EXPIRY_FILTERS:
            raise ValueError(f"unknown expiry filter {name!r}; choose one of {', '.join(EXPIRY_FILTERS)}")
    ctx = context or filter_context(a)
    cut = [n for n in names if n != "all"]
    if not cut:
        return [_all_view(a) for _ in names]
    model = _Rows.of(a.contracts, ctx, cut, model=True)
    spot = None if a.spot_contracts is None else _Rows.of(a.spot_contracts, ctx, cut, model=False)
    gross_all = _gross(a.contracts)
    # Filters that keep the same rows have the same view but for their name and excluded expiration: each set of
    # rows is valued once. Common: a single stock's ex-0dte keeps everything on most days and its next expiry is
    # often its next monthly (the 1,000-underlying universe: 2.5 distinct sets of rows of 4.2 non-empty filters
    # a chain).
    valued: dict[tuple[bytes, bytes | None], ExpiryView] = {}
    out = []
    for n in names:
        if n == "all":
            out.append(_all_view(a))
            continue
        rows = (model.masks[n].tobytes(), None if spot is None else spot.masks[n].tobytes())
        same = valued.get(rows)
        if same is None:
            out.append(valued.setdefault(rows, _view(a, n, ctx, model, spot, gross_all)))
        else:
            out.append(dataclasses.replace(same, expiries=n, excluded_expiration=ctx.excluded_expiration(n)))
    return out
