"""Dealer exposures per contract and their aggregations (by strike, expiry, days-to-expiry bucket).

Units (every exposure is the **dealers'** position, after the dealer-positioning convention):

- ``gex_usd_per_1pct``: dollars of delta the dealers gain when the underlying rises 1%,
  ``sign * gamma * OI * multiplier * S^2 * 0.01`` (gamma per point, so ``gamma*OI*mult`` is shares per
  point, ``*S`` dollars per point, ``*S*0.01`` dollars per 1% move). Positive: dealers must sell into
  rallies and buy dips (they dampen moves).
- ``dex_usd``: dealers' dollar delta, ``sign * delta * OI * multiplier * S``.
- ``vex_usd_per_volpt``: change of dealers' dollar delta for a +1 vol-point (0.01) rise in every IV,
  ``sign * vanna * OI * multiplier * S * 0.01``.
- ``cex_usd_per_day``: change of dealers' dollar delta per calendar day that passes (charm),
  ``sign * charm * OI * multiplier * S / 365``.

The functions take and return polars frames; they never read files or databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from gex.columns import date_days, epoch_days, frame_of
from gex.conventions import DealerPositioning

#: Days-to-expiry buckets (calendar days from the as-of session to expiration), inclusive bounds.
DTE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0", 0, 0),
    ("1-7", 1, 7),
    ("8-30", 8, 30),
    (">30", 31, None),
)

EXPOSURE_COLUMNS = ("gex_usd_per_1pct", "dex_usd", "vex_usd_per_volpt", "cex_usd_per_day")


def dealer_sign_expr(positioning: DealerPositioning) -> pl.Expr:
    """Signed dealer contracts per contract row under ``positioning``, as a polars expression.

    ``classic``: +OI for calls, -OI for puts; ``all_short``: -OI; ``signed``: the frame's
    ``dealer_position`` column (signed contracts, dealers long > 0).
    """
    if positioning == "classic":
        return pl.when(pl.col("right") == "C").then(1.0).otherwise(-1.0) * pl.col("open_interest")
    if positioning == "all_short":
        return -pl.col("open_interest").cast(pl.Float64)
    if positioning == "signed":
        return pl.col("dealer_position").cast(pl.Float64)
    raise ValueError(f"unknown dealer positioning {positioning!r}; use classic, all_short or signed")


def contract_exposures(priced: pl.DataFrame, spot: float | np.ndarray, positioning: DealerPositioning) -> pl.DataFrame:
    """Add dealer position and dollar exposures to contracts that carry model greeks.

    Parameters
    ----------
    priced:
        Contracts with columns ``right``, ``open_interest`` (or ``dealer_position`` for ``signed``),
        ``multiplier`` and model greeks ``gamma`` (per point), ``delta``, ``vanna`` (per unit sigma),
        ``charm`` (per year). Shape ``(n, ...)``.
    spot:
        Underlying price the exposures are measured at, currency per share: one, or each row's (shape
        ``(n,)``: rows of several chains; the same products, element by element).
    positioning:
        Dealer-positioning convention (see :func:`dealer_sign_expr`).

    Returns
    -------
    polars.DataFrame
        ``priced`` plus ``dealer_contracts`` (signed contracts), ``dealer_shares_per_point``
        (``dealer_contracts * multiplier``, the weight of the gamma profile) and the four exposure
        columns in :data:`EXPOSURE_COLUMNS`, shape ``(n, ...)``.
    """
    s: Any = float(spot) if np.ndim(spot) == 0 else np.asarray(spot, dtype=np.float64)
    # per row: a literal Series of each row's factor, computed with the same operations as the one-spot floats
    factor = (lambda v: v) if np.ndim(s) == 0 else (lambda v: pl.lit(pl.Series(v, dtype=pl.Float64)))
    shares = pl.col("dealer_contracts") * pl.col("multiplier")
    return priced.with_columns(dealer_contracts=dealer_sign_expr(positioning)).with_columns(
        dealer_shares_per_point=shares,
        gex_usd_per_1pct=shares * pl.col("gamma") * factor(s * s * 0.01),
        dex_usd=shares * pl.col("delta") * factor(s),
        vex_usd_per_volpt=shares * pl.col("vanna") * factor(s * 0.01),
        cex_usd_per_day=shares * pl.col("charm") * factor(s / 365.0),
    )


def _key_codes(column: pl.Series) -> np.ndarray | None:
    """Codes of a group key that sort and compare as polars sorts and groups the column (ascending), or ``None``
    when only the reference can say (nulls, NaN, a dtype not listed here).

    Enum: its physical code (an Enum sorts in category order); String: its rank among the distinct values
    (code-point order, which is UTF-8 byte order, polars' string order); Date and numbers: their values
    (floats without NaN or zeros).
    """
    if column.null_count():
        return None
    dtype = column.dtype
    if dtype == pl.Date:
        return date_days(column)  # days since the epoch (no nulls here)
    if isinstance(dtype, pl.Enum):
        return column.to_physical().to_numpy()
    if dtype == pl.String:
        return np.unique(column.to_numpy(), return_inverse=True)[1].reshape(-1)
    if dtype.is_float():
        values = column.to_numpy()
        # NaN and signed zeros: numpy and polars may order them differently (strikes are positive anyway)
        return None if (np.isnan(values) | (values == 0.0)).any() else values
    if dtype.is_integer():
        return column.to_numpy()
    return None


@dataclass(frozen=True)
class _Summands:
    """The columns every group sum of one exposures frame adds up, as numpy arrays in row order, shape ``(n,)``
    each: whether the contract is a call, GEX (dollars per 1% move), open interest (contracts, null as 0) and
    the other exposures (:data:`EXPOSURE_COLUMNS` after GEX).

    Why: a chain's four tables (by strike, by root and strike, by expiry, by days to expiry) sum the same
    columns; extracted once per frame (:func:`group_tables`), not once per table (~0.5 ms a table: the call test
    is a polars query)."""

    is_call: np.ndarray
    gex: np.ndarray
    open_interest: np.ndarray
    others: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, exposures: pl.DataFrame) -> _Summands:
        oi_column = exposures.get_column("open_interest")
        return cls(
            is_call=(exposures.get_column("right") == "C").to_numpy(),
            gex=exposures.get_column("gex_usd_per_1pct").to_numpy().astype(np.float64),
            open_interest=(oi_column.fill_null(0) if oi_column.null_count() else oi_column).to_numpy().astype(np.int64),
            others=tuple(exposures.get_column(c).to_numpy().astype(np.float64) for c in EXPOSURE_COLUMNS[1:]),
        )


#: ``(by strike, by root and strike, by expiry, by days-to-expiry bucket)``: :func:`group_tables`' four tables.
GroupTables = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]


def group_tables(exposures: pl.DataFrame) -> GroupTables:
    """``(per_strike_gex, per_strike_gex by root, per_expiry_gex, per_dte_bucket_gex)`` of ``exposures``, the
    summed columns extracted once for the four (the same tables, bit for bit, as the four calls)."""
    summands = _Summands.of(exposures)
    return (_aggregate(exposures, ["strike"], summands), _aggregate(exposures, ["root", "strike"], summands),
            _aggregate(exposures, ["expiration", "settlement"], summands), per_dte_bucket_gex(exposures, summands))


def group_tables_stacked(exposures: pl.DataFrame, sizes: np.ndarray) -> list[GroupTables] | None:
    """:func:`group_tables` of several chains at once: ``exposures`` holds the chains' rows one chain after the
    other (chain ``k``: ``sizes[k]`` rows). Returns each chain's four tables, equal bit for bit to
    ``group_tables(chain_rows)``, or ``None`` when a key column needs the polars reference (a null, a NaN or a
    zero strike, a dtype :func:`_key_codes` does not read) in any chain: the caller then groups chain by chain.

    The chain is the leading sort key, so each chain's rows keep their order within a group and every group is
    one chain's, summed left to right as alone."""
    sizes = np.asarray(sizes, dtype=np.int64)
    k = sizes.size
    chain = np.repeat(np.arange(k, dtype=np.int64), sizes)
    summands = _Summands.of(exposures)
    tables = []
    for keys in (["strike"], ["root", "strike"], ["expiration", "settlement"]):
        codes = [_key_codes(exposures.get_column(key)) for key in keys]
        read = [code for code in codes if code is not None]
        if len(read) < len(codes):
            return None
        order, starts = _sorted_groups([chain, *read])  # the chain first, then the keys in order
        table = _group_sums(exposures, keys, order, starts, summands)
        tables.append(_cut(table, np.bincount(chain[order[starts]], minlength=k)))
    if not _dte_dates(exposures):
        return None
    by_dte = _dte_buckets(exposures, chain, k, summands)
    return [(tables[0][j], tables[1][j], tables[2][j], by_dte[j]) for j in range(k)]


def _sorted_groups(codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(order, starts)``: the rows stably sorted by ``codes`` (key codes, the first the primary one, each shape
    ``(n,)``) and the position in ``order`` where each group of equal codes starts (the first 0)."""
    # lexsort is stable; its last key is the primary one. One key: argsort's stable sort, the same order
    order = np.argsort(codes[0], kind="stable") if len(codes) == 1 else np.lexsort(codes[::-1])
    changed = np.zeros(order.size, dtype=bool)
    if order.size:
        changed[0] = True
        for code in codes:
            ordered = code[order]
            changed[1:] |= ordered[1:] != ordered[:-1]
    return order, np.flatnonzero(changed)


def _cut(table: pl.DataFrame, rows: np.ndarray) -> list[pl.DataFrame]:
    """``table`` cut into consecutive slices of ``rows[j]`` rows (zero-copy)."""
    offsets = np.r_[0, np.cumsum(rows)[:-1]]
    return [table.slice(int(o), int(n)) for o, n in zip(offsets, rows)]


def _dte_dates(exposures: pl.DataFrame) -> bool:
    """Whether the bucketing reads ``expiration`` and ``session`` itself (``Date`` columns; else the reference)."""
    return exposures.get_column("expiration").dtype == pl.Date and exposures.get_column("session").dtype == pl.Date


def _dte_buckets(exposures: pl.DataFrame, chain: np.ndarray, k: int, summands: _Summands) -> list[pl.DataFrame]:
    """:func:`per_dte_bucket_gex` of each of ``k`` chains stacked in ``exposures`` (``chain``: each row's chain,
    ascending; one chain: all 0), every bucket present, zeros for the empty ones. Days are calendar days from
    ``session`` to ``expiration`` (:func:`_dte_dates` holds); contracts in no bucket (already expired, or a date
    missing) are left out."""
    # days as floats: a null date is NaN, in no bucket (every comparison with NaN is false)
    dte = epoch_days(exposures.get_column("expiration")) - epoch_days(exposures.get_column("session"))
    bucket = np.full(dte.shape, -1, dtype=np.int64)
    for index, (_, lo, hi) in enumerate(DTE_BUCKETS):
        bucket[(dte >= lo) if hi is None else ((dte >= lo) & (dte <= hi))] = index
    valued = np.flatnonzero(bucket >= 0)
    # the buckets' labels sort in bucket order ("0" < "1-7" < "8-30" < ">30"), as the reference sorts them
    order = valued[np.lexsort((bucket[valued], chain[valued]))]
    present, owner = bucket[order], chain[order]
    starts = (np.flatnonzero(np.r_[True, (present[1:] != present[:-1]) | (owner[1:] != owner[:-1])])
              if order.size else order)
    sums = _group_sums(exposures, [], order, starts, summands)
    # one row per chain and bucket: the present buckets' sums, zeros for the others (the reference's fill_null(0))
    slots = owner[starts] * len(DTE_BUCKETS) + present[starts] if order.size else np.zeros(0, dtype=np.int64)
    columns = [pl.Series("dte_bucket", [b[0] for b in DTE_BUCKETS] * k, dtype=pl.String)]
    for column in sums.get_columns():
        full = np.zeros(k * len(DTE_BUCKETS), dtype=np.int64 if column.dtype == pl.Int64 else np.float64)
        full[slots] = column.to_numpy()
        columns.append(pl.Series(column.name, full, dtype=column.dtype))
    return _cut(frame_of(columns), np.full(k, len(DTE_BUCKETS)))


def _aggregate(exposures: pl.DataFrame, keys: list[str], summands: _Summands | None = None) -> pl.DataFrame:
    """Call, put and net GEX, DEX, VEX, CEX, open interest and counts summed by ``keys``, sorted by them.

    Summed in a fixed order on purpose: polars' parallel group sums vary in the last bits from run to
    run, and recomputing a session must give byte-identical results. Rows are stably sorted by ``keys``
    (input order kept within a group) and each group is summed left to right (``numpy.add.reduceat``).

    Why numpy: this runs three times per chain (by strike, by root and strike, by expiry), thousands of chains
    a night, and the polars sort, fill and frame building cost ~1.4-1.9 ms a call on a typical chain (~0.7-0.9
    ms now), most of it fixed per-call cost. The order is numpy's stable sort of key codes (:func:`_key_codes`), the same order
    as polars' stable sort; keys with nulls or NaN go to :func:`_aggregate_reference`. Equal to it bit for
    bit (tested).
    """
    codes = [_key_codes(exposures.get_column(k)) for k in keys]
    read = [code for code in codes if code is not None]
    if len(read) < len(codes):
        return _aggregate_reference(exposures, keys)
    order, starts = _sorted_groups(read)
    return _group_sums(exposures, keys, order, starts, summands or _Summands.of(exposures))


def _group_sums(exposures: pl.DataFrame, keys: list[str], order: np.ndarray, starts: np.ndarray,
                summands: _Summands) -> pl.DataFrame:
    """The table of :func:`_aggregate`: rows taken in ``order`` (row indices, shape ``(m,)``), one group from each
    of ``starts`` (positions in ``order``, ascending, the first 0) to the next, each summed left to right; the
    key columns are taken from each group's first row; ``summands``: ``exposures``' summed columns."""
    m = order.size
    is_call, gex, oi = summands.is_call[order], summands.gex[order], summands.open_interest[order]

    def seg(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts) if m else values[:0]

    at_starts = pl.Series(order[starts], dtype=pl.UInt32)
    return frame_of([
        # indexing by an unsigned integer Series takes those rows without a query (``gather`` runs one, ~0.1 ms)
        *(exposures.get_column(k)[at_starts] for k in keys),
        pl.Series("call_gex_usd_per_1pct", seg(np.where(is_call, gex, 0.0)), dtype=pl.Float64),
        pl.Series("put_gex_usd_per_1pct", seg(np.where(is_call, 0.0, gex)), dtype=pl.Float64),
        pl.Series("net_gex_usd_per_1pct", seg(gex), dtype=pl.Float64),
        *(pl.Series(c, seg(values[order]), dtype=pl.Float64) for c, values in zip(EXPOSURE_COLUMNS[1:], summands.others)),
        pl.Series("call_open_interest", seg(np.where(is_call, oi, 0)), dtype=pl.Int64),
        pl.Series("put_open_interest", seg(np.where(is_call, 0, oi)), dtype=pl.Int64),
        pl.Series("contracts", np.diff(np.append(starts, m)), dtype=pl.Int64),
    ])


def _aggregate_reference(exposures: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """:func:`_aggregate` as plain polars frame queries (the tests check the two equal bit for bit)."""
    ex = exposures.sort(keys, maintain_order=True)
    n = ex.height
    if n == 0:
        starts = np.zeros(0, dtype=np.int64)
    else:
        changed = pl.any_horizontal(*[pl.col(k).ne_missing(pl.col(k).shift()) for k in keys]).fill_null(True)
        first_of_group = ex.select(changed).to_series().to_numpy().copy()
        first_of_group[0] = True  # the first row starts a group even when its keys are null (null "equals" the shift's)
        starts = np.flatnonzero(first_of_group)
    is_call = (ex["right"] == "C").to_numpy()
    gex = ex["gex_usd_per_1pct"].to_numpy().astype(np.float64)
    oi = ex["open_interest"].fill_null(0).to_numpy().astype(np.int64)

    def seg(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts) if n else values[:0]

    return ex[starts].select(keys).with_columns(
        call_gex_usd_per_1pct=pl.Series(seg(np.where(is_call, gex, 0.0)), dtype=pl.Float64),
        put_gex_usd_per_1pct=pl.Series(seg(np.where(is_call, 0.0, gex)), dtype=pl.Float64),
        net_gex_usd_per_1pct=pl.Series(seg(gex), dtype=pl.Float64),
        **{c: pl.Series(seg(ex[c].to_numpy().astype(np.float64)), dtype=pl.Float64) for c in EXPOSURE_COLUMNS[1:]},
        call_open_interest=pl.Series(seg(np.where(is_call, oi, 0)), dtype=pl.Int64),
        put_open_interest=pl.Series(seg(np.where(is_call, 0, oi)), dtype=pl.Int64),
        contracts=pl.Series(np.diff(np.append(starts, n)), dtype=pl.Int64),
    )


def per_strike_gex(exposures: pl.DataFrame, *, by_root: bool = False) -> pl.DataFrame:
    """Dealer GEX by strike: call, put and net, dollars per 1% move.

    AM- and PM-settled roots sharing a strike (SPX and SPXW) are summed unless ``by_root``.

    Parameters
    ----------
    exposures:
        Output of :func:`contract_exposures`, shape ``(n, ...)``.
    by_root:
        Keep one row per (root, strike) instead of per strike.

    Returns
    -------
    polars.DataFrame
        One row per strike (or root and strike), sorted: ``strike``, ``call_gex_usd_per_1pct``,
        ``put_gex_usd_per_1pct``, ``net_gex_usd_per_1pct``, ``dex_usd``, ``vex_usd_per_volpt``,
        ``cex_usd_per_day``, ``call_open_interest``, ``put_open_interest``, ``contracts``.

    Examples
    --------
    >>> import polars as pl
    >>> ex = pl.DataFrame({"strike": [100.0, 100.0, 105.0], "right": ["C", "P", "C"],
    ...     "open_interest": [10, 20, 5], "gex_usd_per_1pct": [50.0, -80.0, 20.0], "dex_usd": [1.0, 2.0, 3.0],
    ...     "vex_usd_per_volpt": [0.0, 0.0, 0.0], "cex_usd_per_day": [0.0, 0.0, 0.0]})
    >>> per_strike_gex(ex).select("strike", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct").rows()
    [(100.0, 50.0, -80.0, -30.0), (105.0, 20.0, 0.0, 20.0)]
    """
    return _aggregate(exposures, ["root", "strike"] if by_root else ["strike"])


def per_expiry_gex(exposures: pl.DataFrame) -> pl.DataFrame:
    """Dealer exposures by expiration (and settlement style), sorted by expiration; same columns as
    :func:`per_strike_gex` with ``expiration`` and ``settlement`` as keys."""
    return _aggregate(exposures, ["expiration", "settlement"])


def dte_bucket_expr(session_col: str = "session") -> pl.Expr:
    """Label of the days-to-expiry bucket (:data:`DTE_BUCKETS`) from calendar days session -> expiry."""
    dte = (pl.col("expiration") - pl.col(session_col)).dt.total_days()
    expr = pl.lit(None, dtype=pl.String)
    for label, lo, hi in reversed(DTE_BUCKETS):
        cond = dte >= lo if hi is None else dte.is_between(lo, hi)
        expr = pl.when(cond).then(pl.lit(label)).otherwise(expr)
    return expr


def per_dte_bucket_gex(exposures: pl.DataFrame, summands: _Summands | None = None) -> pl.DataFrame:
    """Dealer exposures by days-to-expiry bucket ("0", "1-7", "8-30", ">30"), every bucket present.

    Days are calendar days from the as-of ``session`` to ``expiration``; contracts in no bucket (already
    expired, or a date missing) are left out. Bucketed with numpy (~4 ms of polars steps a chain before);
    equal bit for bit to :func:`per_dte_bucket_gex_reference` (tested).
    """
    if not _dte_dates(exposures):
        return per_dte_bucket_gex_reference(exposures)
    one_chain = np.zeros(exposures.height, dtype=np.int64)
    return _dte_buckets(exposures, one_chain, 1, summands or _Summands.of(exposures))[0]


def per_dte_bucket_gex_reference(exposures: pl.DataFrame) -> pl.DataFrame:
    """:func:`per_dte_bucket_gex` as plain polars frame queries (the tests check the two equal bit for bit)."""
    labelled = exposures.with_columns(dte_bucket=dte_bucket_expr())
    agg = _aggregate_reference(labelled, ["dte_bucket"])
    order = pl.DataFrame({"dte_bucket": [b[0] for b in DTE_BUCKETS], "bucket_order": list(range(len(DTE_BUCKETS)))})
    return (
        order.join(agg, on="dte_bucket", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in agg.columns if c != "dte_bucket")
        .sort("bucket_order")
        .drop("bucket_order")
    )


def abs_sum(values: np.ndarray) -> float:
    """Sum of ``|values|`` (shape ``(n,)``; GEX: dollars per 1% move) as polars sums one chunk: the bits of
    ``series.abs().sum()`` for a one-chunk Float64 column without nulls, without its query (~0.1 ms a call)."""
    return float(pl.Series(np.abs(values), dtype=pl.Float64).sum())


def gross_gex(gex: pl.Series) -> float:
    """``gex.abs().sum()``, dollars per 1% move: :func:`abs_sum` of the values when the column is one Float64 chunk
    without nulls (the same summation, bit for bit), else the polars statement itself."""
    if gex.n_chunks() != 1 or gex.null_count() or gex.dtype != pl.Float64:
        return float(gex.abs().sum())
    return abs_sum(gex.to_numpy())


def exposure_totals(exposures: pl.DataFrame) -> dict[str, float]:
    """Chain totals: gross call, gross put and net GEX ($ per 1%), DEX ($), VEX ($/vol pt), CEX ($/day).

    Summed with numpy in row order (deterministic, like :func:`_aggregate`)."""
    is_call = (exposures["right"] == "C").to_numpy()
    gex = exposures["gex_usd_per_1pct"].to_numpy().astype(np.float64)
    out = {
        "call_gex_usd_per_1pct": float(np.sum(np.where(is_call, gex, 0.0))),
        "put_gex_usd_per_1pct": float(np.sum(np.where(is_call, 0.0, gex))),
        "net_gex_usd_per_1pct": float(np.sum(gex)),
    }
    out.update({c: float(np.sum(exposures[c].to_numpy().astype(np.float64))) for c in EXPOSURE_COLUMNS[1:]})
    return out
