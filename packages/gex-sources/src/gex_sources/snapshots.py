"""Steps shared by the multi-snapshot readers (DataShop, IvyDB, canonical): roots, settlement, snapshots.

These formats state the underlying explicitly on every row, so unlike the Cboe quote tables (which infer
it from the roots, :mod:`gex_sources.assemble`) they screen each row's root against its stated underlying
**inside the lazy plan** (:func:`root_screen`), where a bad row can still be rejected with its raw text.
Settlement, timestamps and spot are then added for a whole bucket of rows at once (calendar lookups once
per distinct expiration or session, joins rather than per-snapshot Python), before the bucket is split into
snapshots (:func:`split_by_key`).

End-of-day snapshots (DataShop, IvyDB) are stamped at the session close: ``snapshot_ts = valuation_ts =
session close`` (early closes included), ``oi_date = previous session`` (OCC publishes each morning the
open interest of the previous close, and these vendors print that figure).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import NoReturn

import polars as pl
from gex.calendar import (
    UnknownSettlementError,
    previous_session,
    session_close,
    settlement_instant,
    settlement_style,
)
from gex.chain import CHAIN_SCHEMA, REJECT_SCHEMA, ChainSnapshot

from gex_sources.errors import AllRowsRejected, SourceError
from gex_sources.roots import ROOT_UNDERLYING

#: Shares per contract when a format does not say.
DEFAULT_MULTIPLIER = 100.0


def ticker_expr(symbol: pl.Expr) -> pl.Expr:
    """Vectorised :func:`gex_sources.roots.normalise_ticker`: upper case, no ``^ _ $`` prefix, no ``.X``."""
    t = symbol.str.strip_chars().str.to_uppercase().str.strip_chars_start("^_$")
    return pl.when(t.str.ends_with(".X")).then(t.str.head(-2)).otherwise(t)


def family_expr(root: pl.Expr) -> pl.Expr:
    """Vectorised :func:`gex_sources.roots.underlying_for_root` (roots already upper case)."""
    stripped = root.str.strip_chars_end("0123456789")
    # a when/then chain, not Expr.replace: replace is not a streaming operation (it would buffer the file)
    chain = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    for r, u in ROOT_UNDERLYING.items():
        chain = chain.when(root == r).then(pl.lit(u))
    return chain.when(stripped != "").then(stripped).otherwise(root)


def root_screen(root: pl.Expr, underlying: pl.Expr, strict: pl.Expr | bool = True) -> tuple[pl.Expr, pl.Expr]:
    """Whether a row's option root is unusable, and the reason's wording: ``(flag, reason)``.

    Mirrors :func:`gex_sources.assemble.root_settlements` and :func:`gex.calendar.settlement_style`, as
    expressions: under ``strict`` (index underlyings), a root of another underlying is rejected, and so is a
    root whose settlement the calendar does not know (rather than guess AM or PM). Non-strict rows
    (equities and ETFs, whose roots may differ from the ticker after corporate actions) always pass and
    settle PM. The flag uses only comparisons (it runs on every row); the wording runs on rejects only.

    A root is usable under ``strict`` exactly when its family (:func:`family_expr`) is the underlying: the
    mapped weekly roots (SPXW...) are all in the calendar's PM table, and any other root whose family is
    the underlying is the underlying's own root (settlement_style: PM, or AM for the AM table's roots).
    """
    stripped = root.str.strip_chars_end("0123456789")
    ok = pl.when(pl.lit(False)).then(pl.lit(None, pl.Boolean))
    for r, u in ROOT_UNDERLYING.items():
        ok = ok.when(root == r).then(underlying == u)
    ok = ok.otherwise(stripped == underlying)
    strict_e = pl.lit(strict) if isinstance(strict, bool) else strict
    flag = (strict_e & ~ok).fill_null(False)
    family = family_expr(root)
    reason = (
        pl.when(family.str.starts_with(underlying))
        .then(pl.format("unknown settlement: root '{}' is not a known {} root", root, underlying))
        .otherwise(pl.format("root of another underlying: '{}' is {}, snapshot is {}", root, family, underlying))
    )
    return flag, reason


def root_styles(roots: Iterable[str], underlying: str) -> dict[str, str]:
    """Settlement style per root; roots the calendar does not know (screened as non-strict) settle PM."""
    styles = {}
    for root in roots:
        try:
            styles[root] = settlement_style(root, underlying)
        except UnknownSettlementError:
            styles[root] = "PM"  # equity/ETF option on a renamed root: equity options settle at the close
    return styles


def osi_symbol(root: pl.Expr, expiration: pl.Expr, right: pl.Expr, strike: pl.Expr) -> pl.Expr:
    """Unpadded OSI symbol ``ROOT YYMMDD C|P strike*1000`` (8 digits), e.g. ``SPXW240119C04700000``."""
    milli = (strike * 1000).round().cast(pl.Int64, strict=False).cast(pl.String).str.zfill(8)
    return pl.concat_str(root, expiration.dt.strftime("%y%m%d"), right, milli)


def fill_missing(
    frame: pl.DataFrame, target: str, on: list[str], fn: Callable[..., object], dtype: pl.DataType
) -> pl.DataFrame:
    """Fill the nulls of ``target`` (added if absent) with ``fn(*row[on])``, computed once per distinct ``on``
    among the rows that need it; a no-op when ``target`` has no null."""
    if target in frame.columns and frame[target].null_count() == 0:
        return frame
    need = frame.filter(pl.col(target).is_null()) if target in frame.columns else frame
    distinct = need.select(on).unique().drop_nulls()
    table = distinct.with_columns(pl.Series("_fill", [fn(*row) for row in distinct.iter_rows()], dtype=dtype))
    joined = frame.join(table, on=on, how="left", nulls_equal=False, maintain_order="left")
    filled = pl.coalesce(pl.col(target).cast(dtype), "_fill") if target in frame.columns else pl.col("_fill")
    return joined.with_columns(filled.alias(target)).drop("_fill")


def add_settlement(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill ``settlement`` (added if absent, nulls filled) from ``root`` and ``underlying`` with
    :func:`gex.calendar.settlement_style` (PM for equity roots it does not know), then ``settlement_ts``
    (likewise) from ``expiration`` and ``settlement`` with :func:`gex.calendar.settlement_instant`."""
    enum, ts = CHAIN_SCHEMA["settlement"], CHAIN_SCHEMA["settlement_ts"]
    if "settlement" in frame.columns:
        frame = frame.with_columns(pl.col("settlement").cast(pl.String).cast(enum))
    frame = fill_missing(frame, "settlement", ["root", "underlying"], lambda r, u: root_styles([r], u)[r], enum)
    return fill_missing(
        frame, "settlement_ts", ["expiration", "settlement"], lambda e, st: settlement_instant(e, str(st)), ts
    )


def add_eod_times(frame: pl.DataFrame) -> pl.DataFrame:
    """End-of-day stamps from ``session``: ``snapshot_ts = valuation_ts`` = the session close (early
    closes included), ``oi_date`` = the previous session."""
    frame = fill_missing(frame, "snapshot_ts", ["session"], session_close, CHAIN_SCHEMA["snapshot_ts"])
    frame = fill_missing(frame, "oi_date", ["session"], previous_session, pl.Date())
    return frame.with_columns(valuation_ts=pl.col("snapshot_ts"))


def spot_table(frame: pl.DataFrame, keys: Sequence[str], price: str = "und_price") -> pl.DataFrame:
    """Per key: ``spot``, the most common positive price of its rows (smallest on ties; null if none), and
    ``n_prices``, how many distinct positive prices the rows give."""
    p = pl.col(price)
    positive = p.filter(p.is_finite() & (p > 0))
    return frame.group_by(list(keys)).agg(spot=positive.mode().min(), n_prices=positive.n_unique())


def spot_notes(key: tuple[object, ...], spot: float, n_prices: int, n_rows: int) -> list[str]:
    """Warnings about a snapshot's spot."""
    if n_rows and n_prices == 0:
        return [f"no underlying price for {key[0]} on {key[1]} in the file; spot is NaN"]
    if n_prices > 1:
        return [f"rows disagree on the underlying price ({n_prices} values); spot is the most common, {spot}"]
    return []


@dataclass(frozen=True)
class Orphans:
    """Rejected lines of a bucket that belong to no snapshot of the file (their key did not parse, or every
    line of their key was rejected)."""

    rejects: pl.DataFrame


def make_snapshot(
    frame: pl.DataFrame,
    rejects: pl.DataFrame,
    *,
    path: str | PathLike[str],
    source_format: str,
    underlying: str,
    spot: float,
    warnings: Sequence[str],
    header_date: dt.date | None = None,
) -> ChainSnapshot:
    """Wrap one snapshot's conformed rows; ``session``/timestamps are read from its first row."""
    notes = list(warnings)
    if rejects.height:
        notes.append(f"{rejects.height} source rows rejected (see snapshot.rejects)")
        rejects = rejects.select(list(REJECT_SCHEMA)).cast(REJECT_SCHEMA)  # type: ignore[arg-type]
    else:
        rejects = _EMPTY_REJECTS  # frames are immutable: one shared empty frame saves two queries a snapshot
    session = frame["session"][0]
    return ChainSnapshot(
        frame=frame,
        underlying=underlying,
        spot=spot,
        session=session,
        snapshot_ts=frame["snapshot_ts"][0],
        valuation_ts=frame["valuation_ts"][0],
        header_date=header_date if header_date is not None else session,
        source=str(path),
        source_format=source_format,
        warnings=tuple(notes),
        rejects=rejects,
    )


_EMPTY_REJECTS = pl.DataFrame(schema=REJECT_SCHEMA)


def split_by_key(
    conformed: pl.DataFrame, rejects: pl.DataFrame, keys: Sequence[str]
) -> Iterator[tuple[tuple[object, ...], pl.DataFrame, pl.DataFrame] | Orphans]:
    """Per key of the good rows: ``(key, rows, rejects of that key)``, sorted by key, rows in line order;
    then the rejects whose key has no good row, as :class:`Orphans`."""
    keys = list(keys)
    ordered = conformed.sort("source_line")
    if ordered.select(pl.struct(keys).n_unique()).item() <= 1 and not ordered.is_empty():
        # one snapshot (the common case): skip partition_by, which copies every column (~0.1 s per 1M rows)
        groups = {tuple(ordered.row(0, named=True)[k] for k in keys): ordered}
    else:
        groups = ordered.partition_by(keys, as_dict=True, maintain_order=True)
    bad_groups = rejects.partition_by(keys, as_dict=True, maintain_order=True) if rejects.height else {}
    empty = rejects.clear()
    for key in sorted(groups):
        yield key, groups[key], bad_groups.get(key, empty)
    orphans = [frame for key, frame in bad_groups.items() if key not in groups]
    if orphans:
        yield Orphans(pl.concat(orphans))


def with_orphans(path: str | PathLike[str], items: Iterable[ChainSnapshot | Orphans]) -> Iterator[ChainSnapshot]:
    """Snapshots, with every orphan reject attached to the **last** snapshot (held back until the end), so
    that no rejected line is lost whatever the file's order.

    Raises
    ------
    SourceError
        When the file yields no snapshot at all (no data line, or every line rejected).
    """
    lost: list[pl.DataFrame] = []
    pending: ChainSnapshot | None = None
    for item in items:
        if isinstance(item, Orphans):
            lost.append(item.rejects.select(list(REJECT_SCHEMA)))
            continue
        if pending is not None:
            yield pending
        pending = item
    orphans = pl.concat(lost).sort("source_line") if lost else pl.DataFrame(schema=REJECT_SCHEMA)
    if pending is None:
        _no_snapshot(path, orphans)
        return
    if orphans.height:
        pending = dataclasses.replace(
            pending,
            rejects=pl.concat([pending.rejects, orphans.cast(REJECT_SCHEMA)]).sort("source_line"),  # type: ignore
            warnings=(*pending.warnings, _orphan_note(orphans.height)),
        )
    yield pending


def _orphan_note(n: int) -> str:
    return (
        f"{n} rejected lines belong to no snapshot of the file (unusable underlying or date, or all their rows "
        "rejected); they are listed in this snapshot's rejects"
    )


def _no_snapshot(path: str | PathLike[str], orphans: pl.DataFrame) -> NoReturn:
    """Raise for a file that yields no snapshot: every line rejected, or no data line at all."""
    if orphans.height:
        first = orphans.row(0, named=True)
        raise AllRowsRejected(
            path,
            f"no usable row: all {orphans.height} data lines rejected; the first,",
            orphans,
            line=first["source_line"],
            text=first["raw"] or "",
            detail=first["reason"],
        )
    raise SourceError(path, "no data lines after the header")


# --- many snapshots at once (the loader's unit of work for whole-market files) ----------------------------

#: One row per snapshot of a :class:`ChainBatch`: the :class:`gex.chain.ChainSnapshot` fields, ``rows``
#: (how many rows of the batch's frame are this snapshot's) and its ``warnings``.
SNAPSHOT_FACTS: dict[str, pl.DataType] = {
    "underlying": pl.String(),
    "session": pl.Date(),
    "snapshot_ts": CHAIN_SCHEMA["snapshot_ts"],
    "valuation_ts": CHAIN_SCHEMA["valuation_ts"],
    "header_date": pl.Date(),
    "spot": pl.Float64(),  # currency per share; NaN when the file gives none
    "underlying_name": pl.String(),
    "rows": pl.Int64(),
    "warnings": pl.List(pl.String()),
}
#: Reader rejects of a batch: :data:`gex.chain.REJECT_SCHEMA` plus the 0-based index (in
#: ``ChainBatch.snapshots``) of the snapshot the line belongs to; null for an orphan not yet attached.
BATCH_REJECT_SCHEMA: dict[str, pl.DataType] = {"snapshot": pl.Int64(), **REJECT_SCHEMA}


@dataclass(frozen=True)
class ChainBatch:
    """Many snapshots of one file as three frames, so that a loader validates and writes them with a few
    set operations instead of a few statements per snapshot (a whole-market file has 5,000).

    Attributes
    ----------
    frame:
        Canonical rows (:data:`gex.chain.CHAIN_SCHEMA`) of every snapshot, snapshot after snapshot in the
        order of ``snapshots`` (``rows`` each), each snapshot's rows in source-line order.
    snapshots:
        :data:`SNAPSHOT_FACTS`, one row per snapshot, sorted by key (underlying, session) for files.
    rejects:
        :data:`BATCH_REJECT_SCHEMA`: the reader's rejected lines and the snapshot each belongs to.
    source, source_format:
        As in :class:`gex.chain.ChainSnapshot`.
    """

    frame: pl.DataFrame
    snapshots: pl.DataFrame
    rejects: pl.DataFrame
    source: str
    source_format: str

    @staticmethod
    def of(snap: ChainSnapshot) -> ChainBatch:
        """One snapshot as a batch (single-snapshot formats)."""
        facts = pl.DataFrame(
            [{
                "underlying": snap.underlying, "session": snap.session, "snapshot_ts": snap.snapshot_ts,
                "valuation_ts": snap.valuation_ts, "header_date": snap.header_date, "spot": snap.spot,
                "underlying_name": snap.underlying_name, "rows": snap.frame.height, "warnings": list(snap.warnings),
            }],
            schema=SNAPSHOT_FACTS,
        )
        rejects = snap.rejects.select(list(REJECT_SCHEMA)).cast(REJECT_SCHEMA)  # type: ignore[arg-type]
        rejects = rejects.select(pl.lit(0, pl.Int64).alias("snapshot"), pl.all())
        return ChainBatch(snap.frame, facts, rejects, snap.source, snap.source_format)

    def split(self) -> Iterator[ChainSnapshot]:
        """The snapshots one by one (frames are zero-copy slices of :attr:`frame`)."""
        bad = self.rejects.partition_by("snapshot", as_dict=True, include_key=False) if self.rejects.height else {}
        offset = 0
        for i, facts in enumerate(self.snapshots.iter_rows(named=True)):
            rows = self.frame.slice(offset, facts["rows"])
            offset += facts["rows"]
            rejects = bad.get((i,))
            yield ChainSnapshot(
                frame=rows,
                underlying=facts["underlying"],
                spot=facts["spot"],
                session=facts["session"],
                snapshot_ts=facts["snapshot_ts"],
                valuation_ts=facts["valuation_ts"],
                header_date=facts["header_date"],
                source=self.source,
                source_format=self.source_format,
                underlying_name=facts["underlying_name"] or "",
                warnings=tuple(facts["warnings"]),
                rejects=_EMPTY_REJECTS if rejects is None else rejects.sort("source_line"),
            )


def eod_batch(
    conformed: pl.DataFrame,
    rejects: pl.DataFrame,
    spots: pl.DataFrame,
    *,
    keys: Sequence[str],
    path: str | PathLike[str],
    source_format: str,
    notes: Sequence[str],
    extra: Mapping[tuple[object, ...], Sequence[str]] | None = None,
) -> ChainBatch:
    """A :class:`ChainBatch` of one bucket of an end-of-day file (complete key groups).

    Parameters
    ----------
    conformed:
        Canonical rows of the bucket's good lines, any order.
    rejects:
        ``keys`` + :data:`gex.chain.REJECT_SCHEMA` of the bucket's rejected lines; those whose key has no
        good row are orphans (null ``snapshot``, see :func:`with_orphan_batches`).
    spots:
        :func:`spot_table` of the bucket: ``keys, spot, n_prices``.
    notes:
        File-wide warnings every snapshot carries first.
    extra:
        Key -> the reader's own warnings about that snapshot (after ``notes``).

    Each snapshot's warnings are ``notes``, then ``extra``, then :func:`spot_notes`, then the count of its rejected lines,
    as :func:`make_snapshot` words them; header date = session, no underlying name.
    """
    keys = list(keys)
    ordered = conformed.sort([*keys, "source_line"])
    facts = (
        ordered.group_by(keys, maintain_order=True)
        .agg(rows=pl.len().cast(pl.Int64), snapshot_ts=pl.col("snapshot_ts").first(), valuation_ts=pl.col("valuation_ts").first())
        .join(spots, on=keys, how="left", maintain_order="left")
        .with_row_index("snapshot")
        .with_columns(pl.col("snapshot").cast(pl.Int64))
    )
    matched = rejects.join(facts.select(*keys, "snapshot"), on=keys, how="left", maintain_order="left")
    counts = dict(matched.drop_nulls("snapshot").group_by("snapshot").len().iter_rows())
    warnings = []
    for row in facts.iter_rows(named=True):
        key = tuple(row[k] for k in keys)
        spot = math.nan if row["spot"] is None else float(row["spot"])
        n_bad = counts.get(row["snapshot"], 0)
        notes_row = [*notes, *(extra or {}).get(key, ()), *spot_notes(key, spot, row["n_prices"] or 0, row["rows"])]
        if n_bad:
            notes_row.append(f"{n_bad} source rows rejected (see snapshot.rejects)")
        warnings.append(notes_row)
    snapshots = facts.select(
        "underlying",
        "session",
        "snapshot_ts",
        "valuation_ts",
        header_date=pl.col("session"),
        spot=pl.col("spot").fill_null(math.nan),
        underlying_name=pl.lit(None, pl.String),
        rows="rows",
        warnings=pl.Series(warnings, dtype=pl.List(pl.String)),
    ).cast(SNAPSHOT_FACTS)  # type: ignore[arg-type]
    return ChainBatch(
        ordered,
        snapshots,
        matched.select(list(BATCH_REJECT_SCHEMA)).cast(BATCH_REJECT_SCHEMA),  # type: ignore[arg-type]
        str(path),
        source_format,
    )


def with_orphan_batches(path: str | PathLike[str], batches: Iterable[ChainBatch]) -> Iterator[ChainBatch]:
    """Batches with at least one snapshot, every orphan reject (null ``snapshot``) attached to the **last**
    snapshot of the file (the last batch is held back until the end), as :func:`with_orphans` does.

    Raises
    ------
    AllRowsRejected
        When every line of the file was rejected.
    SourceError
        When the file has no data line.
    """
    lost: list[pl.DataFrame] = []
    pending: ChainBatch | None = None
    for batch in batches:
        orphan = batch.rejects["snapshot"].is_null()
        if orphan.any():
            lost.append(batch.rejects.filter(orphan).select(list(REJECT_SCHEMA)))
            batch = dataclasses.replace(batch, rejects=batch.rejects.filter(~orphan))
        if batch.snapshots.height == 0:
            continue
        if pending is not None:
            yield pending
        pending = batch
    orphans = pl.concat(lost).sort("source_line") if lost else pl.DataFrame(schema=REJECT_SCHEMA)
    if pending is None:
        _no_snapshot(path, orphans)
        return
    if orphans.height:
        last = pending.snapshots.height - 1
        warnings = pending.snapshots["warnings"].to_list()
        warnings[last] = [*warnings[last], _orphan_note(orphans.height)]
        pending = dataclasses.replace(
            pending,
            snapshots=pending.snapshots.with_columns(pl.Series("warnings", warnings, dtype=pl.List(pl.String))),
            rejects=pl.concat([pending.rejects, orphans.select(pl.lit(last, pl.Int64).alias("snapshot"), pl.all())]),
        )
    yield pending
