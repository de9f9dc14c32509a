"""One chain snapshot in, one complete dealer-gamma analysis out (pure: frames in, frames out).

Pipeline (each step a small function, so the warehouse and flows can reuse them one by one):

1. :func:`contract_tenors` - time to settlement under the conventions' day count;
2. :func:`screen_contracts` - which contracts a model can value, and why the others are excluded;
3. :func:`resolve_vols` - vendor IV where valid, else solved from the bid/ask mid (with the parity
   forward as carry);
4. :func:`price_contracts` - Black-Scholes greeks per contract;
5. dealer exposures and aggregations (:mod:`gex.gex`), the sticky-strike profile and the flip
   (:mod:`gex.flip`), levels and regime (:mod:`gex.levels`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from gex import greeks
from gex.calendar import NEW_YORK, as_of_session, next_session, session_close
from gex.chain import ChainSnapshot
from gex.columns import epoch_microseconds, utc_microseconds, with_series
from gex.conventions import NATIVE, Conventions
from gex.coverage import Coverage, chain_coverage
from gex.expected_move import MOVE_SCHEMA, iv_implied_move, straddle_moves
from gex.flip import GammaProfile, first_grid_crossing, solve_flip
from gex.forwards import parity_forwards
from gex.gex import GroupTables, abs_sum, contract_exposures, exposure_totals, group_tables
from gex.iv import IV_PARALLEL_MIN_SIZE, IVReason, implied_vol
from gex.levels import LEVEL_DEFINITIONS, Levels, Regime, key_levels, regime_of
from gex.volatility import atm_iv_constant_maturity

_SECONDS_PER_YEAR = 365.0 * 86_400.0

#: Exclusion reasons, in the order they are checked (a contract gets the first that applies).
EXCLUSION_REASONS = (
    "missing open interest",
    "invalid strike",
    "expired",
    "no valid implied volatility",
)


@dataclass(frozen=True)
class Analysis:
    """Everything computed for one snapshot under one set of conventions.

    Money amounts: GEX in dollars per 1% move of the underlying; DEX in dollars of underlying; VEX in
    dollars of delta per +1 vol point; CEX in dollars of delta per calendar day. Levels and the flip in
    underlying price units.
    """

    underlying: str
    as_of: dt.date
    spot: float
    valuation_ts: dt.datetime
    conventions: Conventions
    total_gex: float
    call_gex: float
    put_gex: float
    dex_usd: float
    vex_usd_per_volpt: float
    cex_usd_per_day: float
    gex_at_spot_model: float
    gamma_flip: float | None
    flip_crossings: tuple[float, ...]
    flip_window: tuple[float, float]
    regime: Regime
    levels: Levels
    zero_dte_gamma_share: float  # share of gross |GEX| settling by the next close (see next_close)
    zero_dte_gex: float  # net dealer GEX of the contracts settling by the next close, $ per 1% move
    vendor_model_gamma_gap: float | None
    coverage: Coverage
    contracts: pl.DataFrame
    excluded: pl.DataFrame
    by_strike: pl.DataFrame
    by_strike_root: pl.DataFrame  # one row per (root, strike): SPX (AM) and SPXW (PM) apart; sums to by_strike
    by_expiry: pl.DataFrame
    by_dte: pl.DataFrame
    profile: pl.DataFrame
    forwards: pl.DataFrame
    gamma_profile: GammaProfile  # the sticky-strike model behind profile, flip and regime
    warnings: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""
    # expected move (gex.expected_move): straddle-implied move per expiry, and the 30-day ATM IV behind the
    # IV-implied 1- and 5-session moves (decimal per year; None without a usable smile)
    expected_move: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=MOVE_SCHEMA))
    atm_iv_30d: float | None = None
    # rows behind the spot totals and the by-strike levels when they are not ``contracts`` (presets that
    # take the vendor's gamma at spot); None: ``contracts`` (gex.expiry_views filters the same rows)
    spot_contracts: pl.DataFrame | None = None

    def implied_move(self, sessions: int) -> tuple[float | None, float | None]:
        """IV-implied one-standard-deviation move over ``sessions`` sessions: ``(points, % of spot)``."""
        return iv_implied_move(self.atm_iv_30d, self.spot, sessions)

    @property
    def flip_distance_pct(self) -> float | None:
        """Distance from spot to the flip in % of spot (positive: flip above spot)."""
        return None if self.gamma_flip is None else 100.0 * (self.gamma_flip - self.spot) / self.spot

    def excluded_counts(self) -> dict[str, int]:
        """Number of excluded contracts per reason (only reasons that occurred)."""
        # counted in Python, not by a group_by (a query, ~0.5 ms): this runs for every chain's regime row
        counts = Counter(self.excluded.get_column("exclude_reason").to_list())
        return {reason: int(n) for reason, n in sorted(counts.items())}

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (dollar amounts in dollars per 1% move; dates ISO)."""
        return {
            "as_of": self.as_of.isoformat(),
            "underlying": self.underlying,
            "spot": self.spot,
            "valuation_ts": self.valuation_ts.isoformat(),
            "total_gex": self.total_gex,
            "call_gex": self.call_gex,
            "put_gex": self.put_gex,
            "gex_units": "USD per 1% move of the underlying",
            "gex_at_spot_model": self.gex_at_spot_model,
            "dex_usd": self.dex_usd,
            "vex_usd_per_volpt": self.vex_usd_per_volpt,
            "cex_usd_per_day": self.cex_usd_per_day,
            "gamma_flip": self.gamma_flip,
            "flip_crossings": list(self.flip_crossings),
            "flip_window": list(self.flip_window),
            "flip_distance_pct": self.flip_distance_pct,
            "call_wall": self.levels.call_wall,
            "put_wall": self.levels.put_wall,
            "most_negative_net_strike": self.levels.most_negative_net_strike,
            "abs_gamma_strike": self.levels.abs_gamma_strike,
            "level_definitions": dict(LEVEL_DEFINITIONS),
            "regime": self.regime,
            "zero_dte_gamma_share": self.zero_dte_gamma_share,
            "zero_dte_gex_usd_per_1pct": self.zero_dte_gex,
            "vendor_model_gamma_gap": self.vendor_model_gamma_gap,
            "partial_chain": self.coverage.partial,
            "partial_chain_reason": self.coverage.reason,
            "expirations": self.coverage.expirations,
            "preset": self.conventions.name,
            "conventions": self.conventions.as_record(),
            "contracts_used": self.contracts.height,
            "contracts_excluded": self.excluded_counts(),
            "warnings": list(self.warnings),
            "source": self.source,
            "expected_move": [
                {**row, "expiration": row["expiration"].isoformat()} for row in self.expected_move.iter_rows(named=True)
            ],
            "atm_iv_30d": self.atm_iv_30d,
            "implied_move_1d_points": self.implied_move(1)[0],
            "implied_move_1d_pct": self.implied_move(1)[1],
            "implied_move_5d_points": self.implied_move(5)[0],
            "implied_move_5d_pct": self.implied_move(5)[1],
        }


# ---------------------------------------------------------------------------------------------
# steps


def time_origin(snapshot: ChainSnapshot, conv: Conventions) -> dt.datetime:
    """Instant (UTC) that tenors are measured from under ``conv.time_origin``."""
    if conv.time_origin == "valuation":
        return snapshot.valuation_ts
    if conv.time_origin == "header_date":
        if snapshot.header_date is None:
            raise ValueError(f"{snapshot.source}: preset {conv.name!r} needs the header date, which this source lacks")
        return dt.datetime.combine(snapshot.header_date, dt.time(0), NEW_YORK).astimezone(dt.timezone.utc)
    if conv.time_origin == "utc_minus_delay":
        if snapshot.snapshot_ts is None:
            raise ValueError(f"{snapshot.source}: preset {conv.name!r} needs the snapshot timestamp")
        return snapshot.snapshot_ts - dt.timedelta(minutes=conv.delay_minutes)
    raise ValueError(f"unknown time origin {conv.time_origin!r}")


def contract_tenors(frame: pl.DataFrame, origin: dt.datetime, conv: Conventions) -> pl.Series:
    """Tenor of each contract in years under ``conv.day_count`` (may be <= 0 for expired contracts).

    ``act365``: seconds from ``origin`` to ``settlement_ts`` / (365 * 86400). ``bus262``/``bus252``:
    ``numpy.busday_count(origin date in New York, expiration)`` (weekdays, no holidays, as the popular
    scripts count them) / 262 or 252; a count of exactly 0 becomes one period under
    ``zero_tenor="one_period"``.
    """
    if conv.day_count == "act365":
        settle = utc_microseconds(frame.get_column("settlement_ts")) if origin.tzinfo is not None else None
        if settle is None:
            return act365_tenors_reference(frame, origin)
        # the reference's arithmetic on the physical values, rounding included: int64 microseconds as floats, then
        # polars' division by a scalar, which multiplies by the reciprocal for a column of two or more rows and
        # divides for one row (the property test in tests/core/test_analysis_fast_paths.py holds both to it)
        micros = (settle - epoch_microseconds(origin)).astype(np.float64)
        years = micros / 1e6 / _SECONDS_PER_YEAR if micros.size == 1 else micros * (1 / 1e6) * (1 / _SECONDS_PER_YEAR)
        return pl.Series("tenor_years", years)
    start = np.datetime64(origin.astimezone(NEW_YORK).date(), "D")
    days = np.busday_count(start, frame["expiration"].to_numpy().astype("datetime64[D]")).astype(np.float64)
    if conv.zero_tenor == "one_period":
        days[days == 0] = 1.0
    return pl.Series("tenor_years", days / conv.periods_per_year)


def act365_tenors_reference(frame: pl.DataFrame, origin: dt.datetime) -> pl.Series:
    """Act/365 tenors of :func:`contract_tenors` as a polars query (any datetime unit, nulls, naive times): the
    statement the numpy path is tested equal to, bit for bit."""
    seconds = (pl.col("settlement_ts") - pl.lit(origin)).dt.total_microseconds() / 1e6
    return frame.select((seconds / _SECONDS_PER_YEAR).alias("tenor_years")).to_series()


def screen_contracts(frame: pl.DataFrame, conv: Conventions) -> pl.DataFrame:
    """Add ``exclude_reason`` (null for contracts a model can value), the first that applies of
    :data:`EXCLUSION_REASONS` except the IV check, which :func:`resolve_vols` does."""
    expired = pl.col("tenor_years") <= 0 if not conv.include_expired else pl.col("tenor_years") < 0
    if conv.include_expired and conv.zero_tenor == "exclude":
        expired = pl.col("tenor_years") <= 0
    reason = (
        pl.when(pl.col("open_interest").is_null())
        .then(pl.lit(EXCLUSION_REASONS[0]))
        .when(pl.col("strike").is_null() | (pl.col("strike") <= 0))
        .then(pl.lit(EXCLUSION_REASONS[1]))
        .when(expired | pl.col("tenor_years").is_null())
        .then(pl.lit(EXCLUSION_REASONS[2]))
    )
    return frame.with_columns(exclude_reason=reason)


def resolve_vols(frame: pl.DataFrame, spot: float | np.ndarray, conv: Conventions, *, serial: bool = False) -> pl.DataFrame:
    """Choose each contract's volatility: ``sigma`` (decimal per year) and ``iv_source``.

    Vendor IV when inside ``(iv_min, iv_max]``; otherwise, if allowed, the IV solved from the bid/ask
    mid with the contract's rate and dividend yield; otherwise ``exclude_reason`` is set (with the
    solver's reason code in ``iv_reason``). ``spot``: one price, or each row's (shape ``(frame.height,)``: rows
    of several chains); ``serial``: solve with the solver's serial loop whatever the number of rows
    (:func:`in_serial_pieces`), as each chain's own call would.
    """
    vendor_ok = pl.col("vendor_iv").is_not_null() & (pl.col("vendor_iv") > conv.iv_min) & (pl.col("vendor_iv") <= conv.iv_max)
    frame = frame.with_columns(
        sigma=pl.when(vendor_ok).then(pl.col("vendor_iv")).otherwise(None),
        iv_source=pl.when(vendor_ok).then(pl.lit("vendor")).otherwise(None),
        iv_reason=pl.lit(None, dtype=pl.String),
    )
    need = frame["exclude_reason"].is_null() & frame["sigma"].is_null()
    if conv.solve_iv_from_mid and need.any():
        sub = frame.filter(need)
        need_rows = need.to_numpy()
        bid, ask = sub["bid"].to_numpy(), sub["ask"].to_numpy()
        two_sided = (bid > 0) & (ask >= bid)
        mid = np.where(two_sided, 0.5 * (bid + ask), np.nan)
        args = [mid, spot if np.ndim(spot) == 0 else np.asarray(spot, dtype=np.float64)[need_rows],
                sub["strike"].to_numpy(), sub["rate"].to_numpy(), sub["tenor_years"].to_numpy(),
                (sub["right"] == "C").to_numpy(), sub["dividend_yield"].to_numpy()]
        if serial:
            iv, code = in_serial_pieces(lambda *a: implied_vol(*a, return_reason=True), IV_PARALLEL_MIN_SIZE, args)
        else:
            iv, code = implied_vol(*args, return_reason=True)
        ok = np.isfinite(iv) & (iv > conv.iv_min) & (iv <= conv.iv_max)
        code_names = np.array([r.name.lower() for r in IVReason], dtype=object)[np.asarray(code, dtype=np.int64)]
        why = np.where(~two_sided, "no two-sided quote", np.where(np.isfinite(iv), "solved iv out of bounds", code_names))
        solved = pl.DataFrame(
            {
                "_row": np.flatnonzero(need_rows),
                "_sigma": np.where(ok, iv, np.nan),
                "_why": [None if good else str(w) for good, w in zip(ok, why)],
            },
            schema={"_row": pl.UInt32, "_sigma": pl.Float64, "_why": pl.String},
        )
        frame = (
            frame.with_row_index("_row")
            .join(solved, on="_row", how="left", maintain_order="left")
            .with_columns(
                sigma=pl.coalesce("sigma", pl.col("_sigma").fill_nan(None)),
                iv_source=pl.when(pl.col("_sigma").is_not_nan()).then(pl.lit("mid")).otherwise(pl.col("iv_source")),
                iv_reason=pl.col("_why"),
            )
            .drop("_row", "_sigma", "_why")
        )
    return frame.with_columns(
        exclude_reason=pl.when(pl.col("exclude_reason").is_null() & pl.col("sigma").is_null())
        .then(pl.lit(EXCLUSION_REASONS[3]))
        .otherwise(pl.col("exclude_reason"))
    )


def price_contracts(frame: pl.DataFrame, spot: float | np.ndarray, *, serial: bool = False) -> pl.DataFrame:
    """Model greeks at ``spot`` for valuable contracts: ``gamma`` (per point), ``delta``, ``vanna``
    (per unit sigma), ``charm`` (per year). Inputs: ``strike``, ``sigma``, ``tenor_years``, ``rate``,
    ``dividend_yield``, ``right``. ``spot``: one price, or each row's (shape ``(frame.height,)``); ``serial``:
    the kernels' serial loops whatever the number of rows (:func:`in_serial_pieces`)."""
    args = [
        spot if np.ndim(spot) == 0 else np.asarray(spot, dtype=np.float64),
        frame["strike"].to_numpy(),
        frame["rate"].to_numpy(),
        frame["sigma"].to_numpy(),
        frame["tenor_years"].to_numpy(),
    ]
    q = frame["dividend_yield"].to_numpy()
    is_call = (frame["right"] == "C").to_numpy()
    full = [np.full(frame.height, a) if np.ndim(a) == 0 else a for a in args] if serial else args

    def greek(fn: Callable[..., Any], *extra: np.ndarray) -> pl.Series:
        if serial:
            values = in_serial_pieces(lambda *a: fn(*a[:-1], dividend_yield=a[-1]), greeks.PARALLEL_MIN_SIZE,
                                      [*full, *extra, q])
        else:
            values = fn(*args, *extra, dividend_yield=q)
        return pl.Series(fn.__name__.removeprefix("bs_"), np.asarray(values, dtype=np.float64))

    return with_series(frame, greek(greeks.bs_gamma), greek(greeks.bs_delta, is_call), greek(greeks.bs_vanna),
                       greek(greeks.bs_charm, is_call))


def in_serial_pieces(fn: Callable[..., Any], limit: int, arrays: list[np.ndarray]) -> Any:
    """``fn(*arrays)`` (element-wise; each array shape ``(n,)``) evaluated over consecutive pieces of fewer than
    ``limit`` elements and joined (an array, or a tuple of arrays when ``fn`` returns one).

    Why: a kernel call of ``limit`` elements or more runs the multi-threaded loop, whose last bits may differ
    from the serial loop's; rows of many small chains valued together must get the bits each chain's own
    (serial) call gives, so no call may reach the threshold."""
    n = arrays[0].size if arrays else 0
    step = max(1, limit - 1)
    if n <= step:
        return fn(*arrays)
    parts = [fn(*(a[i:i + step] for a in arrays)) for i in range(0, n, step)]
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(column) for column in zip(*parts))
    return np.concatenate(parts)


def attach_carry(frame: pl.DataFrame, spot: float, conv: Conventions) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-contract ``rate`` and ``dividend_yield`` (decimal per year, continuous): the flat rate, and
    the parity-implied carry of the contract's expiry where available, else ``conv.dividend_yield``."""
    frame = with_series(frame, pl.Series("rate", np.full(frame.height, conv.rate, dtype=np.float64)))
    if not conv.forward_from_parity:
        return flat_carry(frame, conv)
    fwd = parity_forwards(frame.filter(pl.col("exclude_reason").is_null()), spot)
    carry = parity_yields(frame, fwd, conv.dividend_yield)
    if carry is None:  # a key the arrays cannot match as the join does: the statement itself
        return attach_parity_yields_reference(frame, fwd, conv.dividend_yield), fwd
    return with_series(frame, carry), fwd


def flat_carry(frame: pl.DataFrame, conv: Conventions) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``frame`` with ``dividend_yield`` = ``conv.dividend_yield`` on every contract, and no parity forwards
    (an empty frame of :func:`gex.forwards.parity_forwards`' columns): the carry without ``forward_from_parity``."""
    empty = pl.DataFrame(schema={"expiration": pl.Date, "settlement": frame.schema["settlement"], "forward": pl.Float64,
                                 "parity_dividend_yield": pl.Float64, "parity_pairs": pl.UInt32})
    return frame.with_columns(dividend_yield=pl.lit(conv.dividend_yield, dtype=pl.Float64)), empty


def attach_parity_yields_reference(frame: pl.DataFrame, fwd: pl.DataFrame, default: float) -> pl.DataFrame:
    """``frame`` with ``dividend_yield``: its (expiration, settlement)'s ``parity_dividend_yield`` of ``fwd``
    (:func:`gex.forwards.parity_forwards`), else ``default`` (decimal per year). The polars statement
    :func:`parity_yields` is tested equal to, bit for bit."""
    frame = frame.join(fwd.select("expiration", "settlement", "parity_dividend_yield"), on=["expiration", "settlement"], how="left")
    return frame.with_columns(dividend_yield=pl.col("parity_dividend_yield").fill_null(default)).drop(
        "parity_dividend_yield"
    )


def parity_yields(frame: pl.DataFrame, fwd: pl.DataFrame, default: float) -> pl.Series | None:
    """The ``dividend_yield`` column :func:`attach_parity_yields_reference` adds (shape ``(frame.height,)``),
    matched on arrays: a sorted lookup of each contract's (expiration, settlement) among ``fwd``'s. Why: the
    join, fill and drop were ~1.8 ms of CPU a chain (the whole analysis A/B: ~22.5 -> ~20.7 ms). ``None`` (the
    caller runs the reference) when a key is null, the settlements are not one Enum, or ``fwd`` repeats a key
    (the join would repeat contracts)."""
    exp, settle = frame["expiration"], frame["settlement"]
    f_exp, f_settle = fwd["expiration"], fwd["settlement"]
    if not (isinstance(settle.dtype, pl.Enum) and settle.dtype == f_settle.dtype and exp.dtype == f_exp.dtype == pl.Date):
        return None
    if exp.null_count() or settle.null_count() or f_exp.null_count() or f_settle.null_count():
        return None
    width = len(settle.dtype.categories) + 1
    key = exp.to_numpy().astype(np.int64) * width + settle.to_physical().to_numpy().astype(np.int64)
    f_key = f_exp.to_numpy().astype(np.int64) * width + f_settle.to_physical().to_numpy().astype(np.int64)
    found, _, repeated = yields_by_key(key, f_key, fwd["parity_dividend_yield"], default)
    return None if repeated.any() else pl.Series("dividend_yield", found)


def yields_by_key(key: np.ndarray, f_key: np.ndarray, values: pl.Series,
                  default: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lookup of :func:`parity_yields`: ``(found, order, repeated)``. ``found``: shape ``key.shape``, the
    value (``values``: one per ``f_key``) of each integer key, ``default`` where none matches or the value is
    null (a NaN is kept, as ``fill_null`` keeps it); ``order``: the stable sort of ``f_key``; ``repeated``: shape
    ``(max(m - 1, 0),)``, whether each sorted key after the first equals the one before it (a repeated key: the
    join would repeat contracts, and the callers leave those to it)."""
    order = np.argsort(f_key, kind="stable")
    sorted_keys = f_key[order]
    repeated = sorted_keys[1:] == sorted_keys[:-1]
    found = np.full(key.size, default, dtype=np.float64)
    if sorted_keys.size:
        at = np.minimum(np.searchsorted(sorted_keys, key), sorted_keys.size - 1)
        hit = sorted_keys[at] == key
        f_values = values.to_numpy().astype(np.float64)[order][at]
        if values.null_count():  # a null yield is filled with the default, a NaN is kept (as fill_null does)
            hit &= ~values.is_null().to_numpy()[order][at]
        found[hit] = f_values[hit]
    return found, order, repeated


# ---------------------------------------------------------------------------------------------
# the contract pass


@dataclass(frozen=True)
class Valued:
    """The contract pass of one snapshot (steps 1-4 of the module docstring, and the dealer exposures): what the
    rest of :func:`analyze` starts from.

    ``frame``: every contract, with ``tenor_years``, ``exclude_reason`` (null: valued), ``rate``,
    ``dividend_yield``, ``sigma``, ``iv_source`` and ``iv_reason``; ``forwards``: the parity forwards per
    expiry (:func:`gex.forwards.parity_forwards`); ``exposures``: the valued contracts (``frame``'s rows with no
    exclusion reason, in order) with model greeks and dealer exposures (:func:`gex.gex.contract_exposures`);
    ``excluded``: the other rows of ``frame``, in order."""

    frame: pl.DataFrame
    forwards: pl.DataFrame
    exposures: pl.DataFrame
    excluded: pl.DataFrame
    #: :func:`gex.gex.group_tables` of ``exposures`` when computed with them (:func:`gex.batch.value_chains`)
    tables: GroupTables | None = None


def checked_spot(snapshot: ChainSnapshot) -> float:
    """The snapshot's spot as a float; ``ValueError`` naming the source when it is not a positive number."""
    spot = float(snapshot.spot)
    if not np.isfinite(spot) or spot <= 0:
        raise ValueError(f"{snapshot.source}: spot must be a positive number, got {snapshot.spot!r}")
    return spot


def prepared_contracts(snapshot: ChainSnapshot, conv: Conventions) -> pl.DataFrame:
    """The snapshot's contracts as the presets read them (strikes truncated, an expired first expiry dropped,
    where the conventions say so), with ``tenor_years`` (:func:`contract_tenors`)."""
    frame = snapshot.frame
    if conv.truncate_json_strikes and snapshot.source_format == "cboe_json":
        frame = frame.with_columns(pl.col("strike").floor())
    if conv.drop_expired_first_expiry:
        frame = _drop_expired_first_expiry(frame, snapshot, conv)
    return with_series(frame, contract_tenors(frame, time_origin(snapshot, conv), conv))


def value_contracts(snapshot: ChainSnapshot, conv: Conventions) -> Valued:
    """The contract pass of one snapshot under ``conv`` (its flat rate included): tenors, screen, carry,
    volatilities, greeks and dealer exposures. :func:`gex.batch.value_chains` does the same for many
    snapshots at once and is tested equal to this, bit for bit."""
    spot = checked_spot(snapshot)
    frame = screen_contracts(prepared_contracts(snapshot, conv), conv)
    frame, forwards = attach_carry(frame, spot, conv)
    frame = resolve_vols(frame, spot, conv)
    valued = frame.get_column("exclude_reason").is_null()  # a mask Series: no expression to build per chain
    exposures = contract_exposures(price_contracts(frame.filter(valued), spot), spot, conv.dealer_positioning)
    return Valued(frame, forwards, exposures, frame.filter(~valued))


# ---------------------------------------------------------------------------------------------
# the whole analysis


def analyze(snapshot: ChainSnapshot, conventions: Conventions = NATIVE, *, rate: float | None = None,
            valued: Valued | None = None) -> Analysis:
    """Analyse one snapshot: exposures, profile, flip, levels and regime under ``conventions``.

    Parameters
    ----------
    snapshot:
        A canonical chain snapshot (see :mod:`gex.chain`).
    conventions:
        Modelling conventions (default :data:`gex.conventions.NATIVE`).
    rate:
        Risk-free rate (decimal per year, continuous) overriding ``conventions.rate``.
    valued:
        The snapshot's contract pass (:func:`value_contracts` under the same conventions and rate), when it
        was computed already: :func:`gex.batch.value_chains` values many chains at once.
    """
    conv = conventions if rate is None else conventions.with_rate(float(rate))
    spot = checked_spot(snapshot)
    if valued is None:
        valued = value_contracts(snapshot, conv)
    warnings: list[str] = list(snapshot.warnings)
    frame, forwards, exposures, excluded = valued.frame, valued.forwards, valued.exposures, valued.excluded

    if conv.spot_gamma == "vendor":
        spot_rows = _vendor_gamma_rows(frame, spot, conv)
    else:
        spot_rows = exposures
    totals = exposure_totals(spot_rows)
    # DEX/VEX/CEX always come from the model (the scripts compute no such greeks)
    model_totals = totals if spot_rows is exposures else exposure_totals(exposures)
    if spot_rows is exposures and valued.tables is not None:
        by_strike, by_strike_root, by_expiry, by_dte = valued.tables
    else:
        by_strike, by_strike_root, by_expiry, by_dte = group_tables(spot_rows)

    pf = profile_and_flip(exposures, spot, conv, totals["net_gex_usd_per_1pct"])
    profile, (lo, hi), levels_grid, curve = pf.gamma_profile, pf.window, pf.levels, pf.curve
    gex_at_spot_model, flip, crossings, regime = pf.gex_at_spot_model, pf.flip, pf.crossings, pf.regime

    coverage = chain_coverage(snapshot.frame, snapshot.session)
    if coverage.partial:
        warnings.append(f"partial chain: {coverage.reason}; totals cover only these expirations")
    n_expired = int((excluded.get_column("exclude_reason") == "expired").sum())
    if n_expired:
        warnings.append(f"{n_expired} expired contracts excluded (settled before the valuation time)")

    gross, zero_dte, zero_dte_net = zero_dte_sums(exposures, next_close(snapshot.valuation_ts))
    return Analysis(
        underlying=snapshot.underlying,
        as_of=snapshot.session,
        spot=spot,
        valuation_ts=snapshot.valuation_ts,
        conventions=conv,
        total_gex=totals["net_gex_usd_per_1pct"],
        call_gex=totals["call_gex_usd_per_1pct"],
        put_gex=totals["put_gex_usd_per_1pct"],
        dex_usd=model_totals["dex_usd"],
        vex_usd_per_volpt=model_totals["vex_usd_per_volpt"],
        cex_usd_per_day=model_totals["cex_usd_per_day"],
        gex_at_spot_model=gex_at_spot_model,
        gamma_flip=flip,
        flip_crossings=crossings,
        flip_window=(lo, hi),
        regime=regime,
        levels=key_levels(by_strike, spot),
        zero_dte_gamma_share=float(zero_dte / gross) if gross > 0 else 0.0,
        zero_dte_gex=zero_dte_net,
        vendor_model_gamma_gap=_vendor_model_gap(exposures),
        coverage=coverage,
        contracts=exposures,
        excluded=excluded,
        by_strike=by_strike,
        by_strike_root=by_strike_root,
        by_expiry=by_expiry,
        by_dte=by_dte,
        profile=pl.DataFrame({"spot_level": levels_grid, "gex_usd_per_1pct": curve}),
        forwards=forwards,
        gamma_profile=profile,
        warnings=tuple(warnings),
        source=snapshot.source,
        expected_move=straddle_moves(exposures, forwards, spot, snapshot.valuation_ts),
        atm_iv_30d=atm_iv_constant_maturity(exposures, spot, snapshot.valuation_ts),
        spot_contracts=None if spot_rows is exposures else spot_rows,
    )


@dataclass(frozen=True)
class ProfileFlip:
    """The sticky-strike profile of a set of contracts on the conventions' grid, its flip and the regime.

    ``window``: ``(lo, hi)`` searched, currency per share; ``levels``/``curve``: the grid of hypothetical
    spots and the GEX there (dollars per 1% move); ``gex_at_spot_model``: the profile at spot (dollars per
    1% move); ``flip``/``crossings``: nearest crossing and every crossing (currency per share).
    """

    gamma_profile: GammaProfile
    window: tuple[float, float]
    levels: np.ndarray
    curve: np.ndarray
    gex_at_spot_model: float
    flip: float | None
    crossings: tuple[float, ...]
    regime: Regime


def profile_and_flip(exposures: pl.DataFrame, spot: float, conv: Conventions, net_gex_at_spot: float) -> ProfileFlip:
    """Profile, flip, crossings and regime of ``exposures`` (rows of :func:`gex.gex.contract_exposures`)
    under ``conv``: the exact root-found flip and the regime from the profile at spot (``flip_method
    "root"``), or the presets' first grid crossing and the regime from ``net_gex_at_spot`` (the spot total,
    dollars per 1% move). Used by :func:`analyze` and, per expiry filter, by :mod:`gex.expiry_views`."""
    return profile_and_flip_arrays(
        *(exposures[c].to_numpy() for c in ("strike", "sigma", "tenor_years", "dealer_shares_per_point", "rate",
                                            "dividend_yield")),
        spot, conv, net_gex_at_spot,
    )


def profile_and_flip_arrays(strike: np.ndarray, sigma: np.ndarray, tenor_years: np.ndarray,
                            dealer_shares_per_point: np.ndarray, rate: np.ndarray, dividend_yield: np.ndarray,
                            spot: float, conv: Conventions, net_gex_at_spot: float) -> ProfileFlip:
    """:func:`profile_and_flip` of contracts given as arrays, each shape ``(n,)``: strike (currency per share),
    sigma and rate and dividend yield (decimal per year), tenor (years), dealer shares per point (signed)."""
    profile = GammaProfile.from_contracts(strike, sigma, tenor_years, dealer_shares_per_point, rate=rate,
                                          dividend_yield=dividend_yield)
    lo, hi = conv.profile_window[0] * spot, conv.profile_window[1] * spot
    levels_grid = np.linspace(lo, hi, conv.profile_levels)
    curve = np.asarray(profile.gex(levels_grid), dtype=np.float64)
    gex_at_spot_model = float(profile.gex(spot))
    if conv.flip_method == "root":
        solved = solve_flip(profile, spot, lo, hi)
        flip, crossings = solved.flip, tuple(solved.crossings)
        regime = regime_of(gex_at_spot_model)
    else:
        flip = first_grid_crossing(levels_grid, curve)
        crossings = _grid_crossings(levels_grid, curve)
        regime = regime_of(net_gex_at_spot)
    return ProfileFlip(profile, (lo, hi), levels_grid, curve, gex_at_spot_model, flip, crossings, regime)


def next_close(valuation_ts: dt.datetime) -> dt.datetime:
    """The first session close after ``valuation_ts``: today's close intraday, the next session's
    close for an end-of-day valuation. Contracts settling by then are the "0-DTE" gamma: today's
    expiries intraday, and after the close the ones that are 0-DTE on the next session."""
    session = as_of_session(valuation_ts)
    close = session_close(session)
    return close if valuation_ts < close else session_close(next_session(session))


def _grid_crossings(levels: np.ndarray, values: np.ndarray) -> tuple[float, ...]:
    """Every sign change of a grid profile, linearly interpolated (the presets' crossings)."""
    out = []
    for i in np.flatnonzero(np.diff(np.sign(values))):
        x = first_grid_crossing(levels[i : i + 2], values[i : i + 2])
        if x is not None:
            out.append(float(x))
    return tuple(out)


def zero_dte_sums(exposures: pl.DataFrame, cutoff: dt.datetime) -> tuple[float, float, float]:
    """``(gross |GEX|, gross |GEX| of the contracts settling by cutoff, their net GEX)``, dollars per 1% move.

    Summed by polars' sum of one chunk (:func:`gex.gex.abs_sum`), as :func:`zero_dte_sums_reference` sums (equal bit
    for bit, tested); the selection with numpy (two queries with a datetime literal cost ~0.5 ms a chain)."""
    gex = exposures.get_column("gex_usd_per_1pct")
    settle = utc_microseconds(exposures.get_column("settlement_ts"))
    if settle is None or cutoff.tzinfo is None or gex.dtype != pl.Float64 or gex.null_count() or gex.n_chunks() != 1:
        return zero_dte_sums_reference(exposures, cutoff)
    values = gex.to_numpy()
    front = values[settle <= epoch_microseconds(cutoff)]
    return abs_sum(values), abs_sum(front), float(pl.Series(front, dtype=pl.Float64).sum())


def zero_dte_sums_reference(exposures: pl.DataFrame, cutoff: dt.datetime) -> tuple[float, float, float]:
    """:func:`zero_dte_sums` as polars queries."""
    front = exposures.filter(pl.col("settlement_ts") <= cutoff)
    return (float(exposures["gex_usd_per_1pct"].abs().sum()), float(front["gex_usd_per_1pct"].abs().sum()),
            float(front["gex_usd_per_1pct"].sum()))


def _vendor_model_gap(exposures: pl.DataFrame) -> float | None:
    """Exposure-weighted relative gap between vendor and model gamma: sum|w|*|g_vendor - g_model| /
    sum|w|*g_model over contracts with a vendor gamma; ``None`` when there are none.

    Elementwise with numpy, summed by polars' sum of one chunk (as the reference sums); equal bit for bit to
    :func:`vendor_model_gap_reference` (tested). The filter and select it replaces were ~0.4 ms a chain."""
    columns = [exposures.get_column(c) for c in ("vendor_gamma", "dealer_shares_per_point", "gamma")]
    if (any(c.dtype != pl.Float64 or c.n_chunks() != 1 for c in columns)
            or columns[1].null_count() or columns[2].null_count()):
        return vendor_model_gap_reference(exposures)
    vendor = columns[0]
    if vendor.null_count() == vendor.len():
        return None
    has = vendor.is_not_null().to_numpy()
    w = np.abs(columns[1].to_numpy()[has])
    g_vendor, g_model = vendor.to_numpy()[has], columns[2].to_numpy()[has]
    num = pl.Series(w * np.abs(g_vendor - g_model)).sum()
    den = pl.Series(w * g_model).sum()
    return float(num / den) if den > 0 else None


def vendor_model_gap_reference(exposures: pl.DataFrame) -> float | None:
    """:func:`_vendor_model_gap` as polars queries."""
    with_vendor = exposures.filter(pl.col("vendor_gamma").is_not_null())
    if with_vendor.is_empty():
        return None
    w = pl.col("dealer_shares_per_point").abs()
    num, den = with_vendor.select(
        num=(w * (pl.col("vendor_gamma") - pl.col("gamma")).abs()).sum(), den=(w * pl.col("gamma")).sum()
    ).row(0)
    return float(num / den) if den > 0 else None


def _vendor_gamma_rows(frame: pl.DataFrame, spot: float, conv: Conventions) -> pl.DataFrame:
    """Rows priced with the vendor's gamma column (popular scripts' spot total): every row the preset
    keeps, with greeks other than gamma set to 0 (those scripts compute none)."""
    rows = frame.filter(pl.col("open_interest").is_not_null()).with_columns(
        gamma=pl.col("vendor_gamma").fill_null(0.0),
        delta=pl.lit(0.0),
        vanna=pl.lit(0.0),
        charm=pl.lit(0.0),
    )
    return contract_exposures(rows, spot, conv.dealer_positioning)


def _drop_expired_first_expiry(frame: pl.DataFrame, snapshot: ChainSnapshot, conv: Conventions) -> pl.DataFrame:
    """gflows: drop the nearest expiration (only that one) when it is already past at the time origin.

    "Past" is judged at ``conv.expiry_cutoff``: the latest settlement instant of that expiration, or
    16:00 New York on expiration day (gflows' rule, whatever the settlement style).
    """
    first = frame["expiration"].min()
    if first is None:
        return frame
    origin = time_origin(snapshot, conv)
    if conv.expiry_cutoff == "close_16":
        cutoff = dt.datetime.combine(first, dt.time(16, 0), NEW_YORK)
    else:
        cutoff = frame.filter(pl.col("expiration") == first)["settlement_ts"].max()
    return frame.filter(pl.col("expiration") != first) if origin > cutoff else frame
