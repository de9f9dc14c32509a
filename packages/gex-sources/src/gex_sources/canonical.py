"""The canonical layout on disk: CSV or Parquet files whose columns are :data:`gex.chain.CHAIN_SCHEMA`'s.

For every source without a dedicated reader: write the chain in the canonical columns and this reader
takes it. One or many snapshots per file; a snapshot is one ``(underlying, snapshot_ts)`` (or
``(underlying, session)`` when the file has no ``snapshot_ts``).

Columns (names as in ``CHAIN_SCHEMA``, case-insensitive; extra columns are ignored):

- required: ``underlying``, ``expiration``, ``strike``, ``right``, ``underlying_price``, at least one of
  ``snapshot_ts`` / ``session``, and at least one of ``symbol`` / ``root``;
- derived when absent (or empty in a row):
  ``root`` from the OSI ``symbol``; ``symbol`` built from root, expiration, right and strike;
  ``snapshot_ts`` = the session close (an end-of-day file); ``session`` = the as-of session of
  ``snapshot_ts``; ``valuation_ts`` = the snapshot if intraday, else the session close;
  ``oi_date`` = the previous session (OCC convention); ``settlement`` from the root
  (:func:`gex.calendar.settlement_style`; an unknown index root is rejected); ``settlement_ts`` from
  expiration and settlement; ``multiplier`` = 100;
- optional, null when absent: ``bid, ask, last, volume, open_interest, vendor_iv, vendor_delta,
  vendor_gamma, vendor_vega, vendor_theta``.

Values: dates ``YYYY-MM-DD`` (also ``YYYYMMDD``, ``MM/DD/YYYY``); instants ISO 8601, with an offset or
``Z`` (converted to UTC) or without one (taken as UTC); ``right`` C/P (or CALL/PUT); ``settlement`` AM/PM;
numbers as decimals, counts whole. Parquet columns may already have the canonical types (then no text is
parsed: the fast path). ``source_line`` is always this file's own line (CSV) or 1-based row (Parquet); a
``source_line`` column in the file is ignored, with a warning.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from os import PathLike
from pathlib import Path

import polars as pl
from gex.calendar import (
    CALENDAR_END,
    CALENDAR_START,
    NEW_YORK,
    as_of_session,
    previous_session,
    session_close,
    valuation_instant,
)
from gex.chain import CHAIN_SCHEMA, ChainSnapshot, conform

from gex_sources import csvtable as ct
from gex_sources.csvtable import Check
from gex_sources.errors import SourceError
from gex_sources.limits import count_out_of_range, identifier_reason, invalid_identifier, out_of_range_reason, overflowed
from gex_sources.osi import osi_columns
from gex_sources.roots import normalise_ticker
from gex_sources.snapshots import (
    DEFAULT_MULTIPLIER,
    Orphans,
    fill_missing,
    add_settlement,
    make_snapshot,
    osi_symbol,
    root_screen,
    spot_notes,
    spot_table,
    split_by_key,
    ticker_expr,
    with_orphans,
)

FORMAT_CANONICAL = "canonical"
PARQUET_MAGIC = b"PAR1"

REQUIRED = ("underlying", "expiration", "strike", "right", "underlying_price")
ONE_OF = (("snapshot_ts", "session"), ("symbol", "root"))
#: Columns read from the file (every canonical column but ``source_line``, which is this file's own).
COLUMNS = tuple(c for c in CHAIN_SCHEMA if c != "source_line")
KEYS = ("underlying", "_snap")
#: Parquet compresses a chain about this much compared with its CSV text: scales the spill threshold.
PARQUET_EXPANSION = 5

Where = str | PathLike[str]


def sniff_names(names: list[str] | tuple[str, ...]) -> bool:
    """Whether a set of column names is a canonical chain."""
    lower = {n.lower() for n in names}
    return all(c in lower for c in REQUIRED) and all(any(c in lower for c in group) for group in ONE_OF)


def is_parquet(path: str | PathLike[str]) -> bool:
    """Whether the file starts with the Parquet magic bytes."""
    try:
        with Path(path).open("rb") as fh:
            return fh.read(4) == PARQUET_MAGIC
    except OSError:
        return False


# --- typed values from text or from typed Parquet columns -------------------------------------------------


def _as_text(src: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    return src if dtype == pl.String else src.cast(pl.String)


def _value(name: str, dtype: pl.DataType, forms: Mapping[str, object], clean: bool = False) -> pl.Expr:
    """Column ``name`` (source dtype ``dtype``) as its canonical type; null when it does not convert.
    ``forms``: date formats (list) or :func:`gex_sources.csvtable.timestamp` options (dict) by column;
    ``clean``: the column is known to need no normalisation (a Parquet column checked beforehand)."""
    target = CHAIN_SCHEMA[name]
    src = ct.text(name)
    if clean and isinstance(target, (pl.String, pl.Enum)):
        return _as_text(src, dtype)
    if isinstance(target, pl.String):
        return ticker_expr(src) if name == "underlying" else _as_text(src, dtype).str.strip_chars()
    if isinstance(target, pl.Enum):  # right, settlement: text, upper case; CALL/PUT -> C/P
        t = _as_text(src, dtype).str.strip_chars().str.to_uppercase()
        return t.replace({"CALL": "C", "PUT": "P"}) if name == "right" else t
    if isinstance(target, pl.Date):
        if dtype == pl.String:
            return ct.date(name, forms.get(name, ct.DATE_FORMATS))  # type: ignore[arg-type]
        if isinstance(dtype, pl.Datetime):
            return src.dt.date()
        return src.cast(pl.Date, strict=False) if dtype == pl.Date else pl.lit(None, pl.Date)
    if isinstance(target, pl.Datetime):
        if dtype == pl.String:
            return ct.timestamp(name, **forms.get(name, {}))  # type: ignore[arg-type]
        if isinstance(dtype, pl.Datetime):
            s = src.dt.cast_time_unit("us")
            return s.dt.replace_time_zone("UTC") if dtype.time_zone is None else s.dt.convert_time_zone("UTC")
        return pl.lit(None, target)
    if dtype == pl.String or dtype.is_numeric():
        return src.cast(pl.Float64, strict=False)  # counts are checked whole, then cast to Int64
    return pl.lit(None, pl.Float64)


def _bad_value(name: str, value: pl.Expr) -> Check:
    """Reject a non-empty cell that did not convert (or a non-finite number, or a fractional count)."""
    src = ct.text(name)
    bad = src.is_not_null() & value.is_null()
    kind = "unparseable"
    target = CHAIN_SCHEMA[name]
    shown = src.cast(pl.String).fill_null("")
    too_big = pl.lit(False)
    if target in (pl.Float64(), pl.Int64()):
        bad = bad | (value.is_not_null() & ~value.is_finite())
        kind = "non-numeric"
        too_big = overflowed(value, shown)
        if target == pl.Int64():
            bad = bad | (value.is_finite() & (value != value.round()))
            kind = "non-integer"
            too_big = too_big | count_out_of_range(value)
            bad = bad | too_big
    reason = (
        pl.when(too_big)
        .then(out_of_range_reason(name, shown, count=target == pl.Int64()))
        .otherwise(pl.format("{} {}: '{}'", pl.lit(kind), pl.lit(name), shown))
    )
    return Check(bad, reason)


def _build(
    dtypes: Mapping[str, pl.DataType],
    n_fields: int | None,
    forms: Mapping[str, object] | None = None,
    clean: frozenset[str] = frozenset(),
    root_complete: bool = False,
) -> ct.Build:
    """``fields -> (typed rows, checks)`` for columns ``dtypes`` (alias -> source dtype; absent ones null);
    ``forms`` and ``clean`` as in :func:`_value`; ``root_complete``: every row has a root (then the OSI
    symbol is not parsed: string work is what costs, about 0.15 us per cell and operation)."""
    sessions = ct.all_sessions()
    first, last = dt.date.fromisoformat(CALENDAR_START), dt.date.fromisoformat(CALENDAR_END)

    def build(fields: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Check]]:
        s = pl.col
        present = [c for c in COLUMNS if c in dtypes]
        values = {c: _value(c, dtypes[c], forms or {}, c in clean) for c in present}
        # absent columns are typed nulls; numbers stay Float64 until _finish (their checks read them)
        absent = {
            c: pl.lit(None, pl.Float64 if CHAIN_SCHEMA[c].is_numeric() else CHAIN_SCHEMA[c])
            for c in COLUMNS
            if c not in dtypes
        }
        lf = fields.with_columns(**values, **absent)
        if not root_complete:
            lf = lf.with_columns(root=pl.coalesce(s("root").str.to_uppercase(), osi_columns(s("symbol")).root))
        settle = s("settlement").cast(pl.String)
        unusable_root, root_reason = root_screen(s("root"), s("underlying"), True)
        checks = [] if n_fields is None else [ct.field_count_check(n_fields)]
        checks += [
            Check(s("underlying").fill_null("") == "", pl.lit("missing underlying")),
            Check(invalid_identifier(s("underlying")), identifier_reason("underlying", s("underlying"))),
            *(_bad_value(c, s(c)) for c in present if c not in ("underlying", "right", "settlement")),
            Check(s("expiration").is_null(), pl.lit("missing expiration")),
            Check(
                ~((s("strike") > 0) & s("strike").is_finite()).fill_null(False),
                pl.format("non-numeric strike: '{}'", ct.text("strike").cast(pl.String).fill_null("")),
            ),
            Check(
                ~s("right").is_in(["C", "P"]).fill_null(False),
                pl.format("unknown right: '{}'", ct.text("right").cast(pl.String).fill_null("")),
            ),
            Check(s("snapshot_ts").is_null() & s("session").is_null(), pl.lit("missing snapshot_ts and session")),
            Check(
                s("session").is_not_null() & ~s("session").is_in(sessions.implode()),
                pl.format("session {} is not an NYSE session", s("session")),
            ),
            Check(
                (s("snapshot_ts").dt.date() < first) | (s("snapshot_ts").dt.date() > last),
                pl.format("snapshot_ts {} is outside the exchange calendar", s("snapshot_ts")),
            ),
            Check(s("root").is_null(), pl.format("malformed OSI symbol: '{}'", s("symbol").fill_null(""))),
            Check(invalid_identifier(s("root")), identifier_reason("root", s("root"))),
            Check(
                settle.is_not_null() & ~settle.is_in(["AM", "PM"]),
                pl.format("unknown settlement: '{}'", ct.text("settlement").cast(pl.String).fill_null("")),
            ),
            Check(settle.is_null() & unusable_root, root_reason),
        ]
        # counts stay Float64 here (their checks read them) and become Int64 in _finish
        typed = lf.with_columns(
            # snapshot key, an integer (cheap): the instant in epoch microseconds when given, else the
            # session's day number made negative (an end-of-day file)
            _snap=pl.coalesce(s("snapshot_ts").dt.epoch("us"), -1 - s("session").cast(pl.Int64)),
        )
        return typed, checks

    return build


_KEEP = tuple(c for c in COLUMNS)


def _ny_date(instant: dt.datetime | None) -> dt.date | None:
    return None if instant is None else instant.astimezone(NEW_YORK).date()


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill every derivable column of a bucket; calendar lookups run once per distinct value, and only for
    columns that have gaps."""
    s = pl.col
    frame = frame.with_columns(
        multiplier=s("multiplier").fill_null(DEFAULT_MULTIPLIER),
        volume=s("volume").cast(pl.Int64),
        open_interest=s("open_interest").cast(pl.Int64),
    )
    if frame["symbol"].null_count():
        frame = frame.with_columns(
            symbol=pl.coalesce(s("symbol"), osi_symbol(s("root"), s("expiration"), s("right"), s("strike")))
        )
    ts = CHAIN_SCHEMA["snapshot_ts"]
    frame = fill_missing(frame, "session", ["snapshot_ts"], as_of_session, pl.Date())
    frame = fill_missing(frame, "snapshot_ts", ["session"], session_close, ts)
    frame = fill_missing(frame, "valuation_ts", ["snapshot_ts"], valuation_instant, ts)
    frame = fill_missing(frame, "oi_date", ["session"], previous_session, pl.Date())
    return add_settlement(frame)


def _snapshots(
    path: str | PathLike[str], good: pl.DataFrame, rejects: pl.DataFrame, notes: list[str]
) -> Iterator[ChainSnapshot | Orphans]:
    frame = _finish(good)
    spots = spot_table(frame, KEYS, price="underlying_price")
    facts = {(r["underlying"], r["_snap"]): r for r in spots.iter_rows(named=True)}
    conformed = conform(frame).with_columns(frame["_snap"])
    for item in split_by_key(conformed, rejects, KEYS):
        if isinstance(item, Orphans):
            yield item
            continue
        key, rows, bad = item
        spot = facts[key]["spot"]
        spot = math.nan if spot is None else float(spot)
        rows = rows.drop("_snap")
        yield make_snapshot(
            rows,
            bad,
            path=path,
            source_format=FORMAT_CANONICAL,
            underlying=str(key[0]),
            spot=spot,
            warnings=[*notes, *spot_notes(key, spot, facts[key]["n_prices"], rows.height)],
            header_date=_ny_date(rows["snapshot_ts"][0]),
        )


def _clean_columns(
    path: Where, present: Mapping[str, str], dtypes: Mapping[str, pl.DataType]
) -> tuple[frozenset[str], bool]:
    """Parquet text columns whose distinct values already are canonical (no per-row normalisation needed),
    and whether every row has a root. One cheap column scan each: they are low-cardinality."""
    lf = pl.scan_parquet(path)
    clean = set()
    allowed = {"right": {"C", "P"}, "settlement": {"AM", "PM"}}
    for col in ("underlying", "root", "right", "settlement"):
        if col not in present or not (dtypes[col] == pl.String or isinstance(dtypes[col], (pl.Enum, pl.Categorical))):
            continue
        values = [v for v in lf.select(pl.col(present[col]).cast(pl.String).unique()).collect().to_series() if v]
        if col == "underlying":
            ok = all(normalise_ticker(v) == v for v in values)
        elif col == "root":
            ok = all(v == v.strip().upper() for v in values)
        else:
            ok = set(values) <= allowed[col]
        if ok:
            clean.add(col)
    if "symbol" in present and dtypes["symbol"] == pl.String:
        clean.add("symbol")  # symbols are taken as written in Parquet
    root_complete = "root" in present and lf.select(pl.col(present["root"]).null_count()).collect().item() == 0
    return frozenset(clean), root_complete


def _required(path: str | PathLike[str], names: list[str], line: int | None) -> None:
    lower = {n.lower() for n in names}
    missing = [c for c in REQUIRED if c not in lower]
    missing += [" or ".join(g) for g in ONE_OF if not any(c in lower for c in g)]
    if missing:
        raise SourceError(path, f"missing required columns: {', '.join(missing)}", line=line)


def _csv(path: Where, spill_bytes: int | None, tmp_dir: Where | None) -> Iterator[ChainSnapshot]:
    layout = ct.read_layout(path)
    _required(path, list(layout.names), layout.header_line)
    columns = {c: (c if c in layout.names else None) for c in COLUMNS}
    dtypes = {c: pl.String() for c, h in columns.items() if h is not None}
    notes = []
    if "source_line" in layout.names:
        notes.append("the file's source_line column is ignored (source_line is this file's own line)")
    forms: dict[str, object] = {}
    for c, h in columns.items():
        if h is not None and isinstance(CHAIN_SCHEMA[c], pl.Date):
            forms[c] = ct.date_formats(layout, h)
        elif h is not None and isinstance(CHAIN_SCHEMA[c], pl.Datetime):
            forms[c] = ct.timestamp_options(layout, h)
    plan = ct.TablePlan(layout, columns, _build(dtypes, len(layout.names), forms), _KEEP, KEYS)
    buckets = ct.run(plan, spill_bytes=spill_bytes, tmp_dir=tmp_dir)
    yield from with_orphans(path, (item for good, bad in buckets for item in _snapshots(path, good, bad, notes)))


def _parquet(path: Where, spill_bytes: int | None, tmp_dir: Where | None) -> Iterator[ChainSnapshot]:
    try:
        schema = pl.read_parquet_schema(path)
    except Exception as exc:  # noqa: BLE001 - polars raises several kinds for a corrupt footer
        raise SourceError(path, f"unreadable Parquet file: {exc}") from None
    names = list(schema)
    _required(path, names, None)
    by_lower = {n.lower(): n for n in names}
    present = {c: by_lower[c] for c in COLUMNS if c in by_lower}
    dtypes = {c: schema[h] for c, h in present.items()}
    clean, root_complete = _clean_columns(path, present, dtypes)
    notes = []
    if "source_line" in by_lower:
        notes.append("the file's source_line column is ignored (source_line is the 1-based row)")
    build = _build(dtypes, None, None, clean, root_complete)

    def rows_of_file() -> pl.LazyFrame:
        # the row index gets a private name: the file may have its own (ignored) source_line column
        lf = pl.scan_parquet(path).with_row_index("_row", offset=1)
        return lf.with_columns(pl.col("_row").cast(pl.Int64).alias("_row"))

    def fields() -> pl.LazyFrame:
        return rows_of_file().select(
            source_line=pl.col("_row"), **{ct.TEXT + c: pl.col(h) for c, h in present.items()}
        )

    def word(bad: pl.Series) -> pl.LazyFrame:
        lf = rows_of_file().filter(pl.col("_row").is_in(bad.implode()))
        raw = pl.concat_str([pl.col(n).cast(pl.String).fill_null("") for n in names], separator=",")
        lf = lf.select(source_line=pl.col("_row"), raw=raw, **{ct.TEXT + c: pl.col(h) for c, h in present.items()})
        rows, checks = build(lf)
        return rows.select(*KEYS, "source_line", "raw", reason=ct.first_reason(checks))

    rows, checks = build(fields())
    keep = list(dict.fromkeys([*KEYS, *_KEEP, "source_line"]))
    buckets = ct.execute(
        rows.select(*keep, _bad=ct.any_bad(checks)),
        keys=KEYS,
        keep=keep,
        word=word,
        size=Path(path).stat().st_size * PARQUET_EXPANSION,
        spill_bytes=spill_bytes,
        tmp_dir=tmp_dir,
    )
    yield from with_orphans(path, (item for good, bad in buckets for item in _snapshots(path, good, bad, notes)))


def iter_canonical(
    path: str | PathLike[str], *, spill_bytes: int | None = None, tmp_dir: str | PathLike[str] | None = None
) -> Iterator[ChainSnapshot]:
    """Snapshots of a canonical CSV or Parquet chain file (told apart by content: the Parquet magic).

    Parameters
    ----------
    spill_bytes, tmp_dir:
        See :func:`gex_sources.csvtable.execute` (Parquet sizes are scaled by :data:`PARQUET_EXPANSION`).

    Raises
    ------
    SourceError
        Missing required columns (named), unreadable file, no usable row.
    """
    if is_parquet(path):
        yield from _parquet(path, spill_bytes, tmp_dir)
    else:
        yield from _csv(path, spill_bytes, tmp_dir)
