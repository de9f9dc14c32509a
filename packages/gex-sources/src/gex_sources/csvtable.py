"""Header-named CSV tables, one physical line per record, checked row by row in bounded memory.

The readers of one-record-per-line CSVs (DataShop, IvyDB, canonical chains, OCC open interest, rates,
closes, DIX) share this engine. A reader describes its columns, typed values and row :class:`Check` s in a
:class:`TablePlan`; :func:`run` executes it in three passes over the file, all lazy polars scans:

A. **survey** (:func:`survey`): the file as whole lines (no quoting, so a row is a physical line and
   ``source_line`` is exact); lists the blank lines (not records) and the lines whose comma count differs
   from the header's (lines padded with empty trailing fields, as spreadsheets save them, are fine);
B. **parse**: polars' native CSV parser (strings only, no quoting, projected to the columns the reader
   uses) with the reader's typed columns and checks; each row gets a single ``_bad`` flag;
C. **word**: only the rejected lines are read again as text and run through the same plan, this time
   wording the first failing check as the reason (wording a string per check per row in pass B would
   cost more than the parse itself), with the raw line kept for ``rejects``.

Small files are executed in memory. Files above :data:`SPILL_BYTES` stream through polars' streaming
engine into hash buckets of the snapshot key (temporary Parquet files), read back one bucket at a time, so
peak memory stays bounded whatever the file size (measured figures in ``docs/chain-schema.md``).

Limits: fields are separated by commas and never quoted around a comma (no vendor format here does); a
line with the wrong number of fields is rejected with its count, never re-aligned.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import polars as pl
from gex.calendar import CALENDAR_END, CALENDAR_START, sessions_between
from gex.chain import REJECT_SCHEMA

from gex_sources.errors import SourceError
from gex_sources.limits import count_out_of_range, out_of_range_reason, overflowed
from gex_sources.rawfile import HEAD_BYTES, head_lines, is_cr_only, load_head

#: Files larger than this (bytes) are partitioned through temporary Parquet files instead of in memory.
SPILL_BYTES = 128 * 2**20
#: Target CSV bytes per hash bucket when spilling, and the bucket count bounds.
BUCKET_BYTES = 32 * 2**20
MAX_BUCKETS = 64
#: Parquet row-group size of spilled buckets: each open bucket buffers about this many rows before
#: writing, so spilling costs about ``buckets * ROW_GROUP_ROWS * row width`` of memory (~100 MB).
ROW_GROUP_ROWS = 20_000
_HASH_SEED = 20_240_105


def normalise_name(name: str) -> str:
    """A header cell as a lookup key: trimmed, unquoted, lower case.

    >>> normalise_name(' "Open_Interest" ')
    'open_interest'
    """
    return name.strip().strip('"').strip().lower()


def header_names(lines: Sequence[str]) -> tuple[list[str], int] | None:
    """Normalised names of the first non-blank line and its 0-based index, or ``None`` if all are blank."""
    for i, line in enumerate(lines):
        if line.strip():
            return [normalise_name(c) for c in line.split(",")], i
    return None


@dataclass(frozen=True)
class CsvLayout:
    """The header of a CSV file and how to read its records.

    Attributes
    ----------
    path:
        The file.
    names:
        Normalised header names, in file order (empty names kept, so positions are exact).
    header_line:
        1-based physical line number of the header.
    needs_cleaning:
        Whether cells must be trimmed and unquoted (the head shows quotes or padded cells).
    size:
        File size in bytes.
    sample:
        The first data lines (up to 200), to choose date and time formats once per column.
    """

    path: str
    names: tuple[str, ...]
    header_line: int
    needs_cleaning: bool
    size: int
    sample: tuple[str, ...] = ()

    def position(self, name: str) -> int | None:
        """0-based position of the first column called ``name``, or ``None``."""
        try:
            return self.names.index(name)
        except ValueError:
            return None

    def find(self, *aliases: str) -> str | None:
        """The first of ``aliases`` the header has, or ``None``."""
        return next((a for a in aliases if a in self.names), None)

    def samples(self, name: str | None) -> list[str]:
        """Non-empty cells of column ``name`` in :attr:`sample` (trimmed, unquoted)."""
        pos = None if name is None else self.position(name)
        if pos is None:
            return []
        cells = (line.split(",") for line in self.sample)
        values = (c[pos].strip().strip('"') for c in cells if len(c) > pos)
        return [v for v in values if v]


def read_layout(path: str | PathLike[str]) -> CsvLayout:
    """The header and reading options of a CSV file.

    Raises
    ------
    SourceError
        Missing, empty or binary file; UTF-16 text (not streamable: save as UTF-8); no header line.
    """
    head = load_head(path)  # refuses missing, empty and binary files
    with Path(path).open("rb") as fh:
        start = fh.read(HEAD_BYTES)
        if start[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise SourceError(path, "UTF-16 text is not supported by this reader (save the file as UTF-8)")
        if is_cr_only(start):  # the streaming scans split on LF only: say so rather than read one huge line
            raise SourceError(
                path, "old Mac line endings (CR only) are not supported by this reader: convert them to LF "
                "(e.g. tr '\\r' '\\n' < file > fixed.csv)"
            )
    lines = head_lines(head)
    found = header_names(lines)
    if found is None:
        raise SourceError(path, "no header line")
    names, idx = found
    body = [ln for ln in lines[idx + 1 : idx + 201] if ln.strip()]
    # Quotes or padding in the head switch trimming on for the whole file (it costs ~30% more time);
    # padded cells further down are rejected with their text quoted, never silently misread.
    needs_cleaning = any('"' in ln or ", " in ln or " ," in ln or ln.startswith(" ") for ln in body[:50])
    return CsvLayout(str(path), tuple(names), idx + 1, needs_cleaning, Path(path).stat().st_size, tuple(body))


def require(layout: CsvLayout, spec: Mapping[str, Sequence[str]], required: Iterable[str]) -> dict[str, str | None]:
    """Map each wanted column to the header name that holds it.

    Parameters
    ----------
    spec:
        Column -> accepted header names, in order of preference.
    required:
        Columns that must be present.

    Returns
    -------
    dict
        Column -> header name, ``None`` for absent optional columns.

    Raises
    ------
    SourceError
        Naming the file, the header line and every missing required column.
    """
    found = {col: layout.find(*aliases) for col, aliases in spec.items()}
    missing = [col for col in required if found.get(col) is None]
    if missing:
        wanted = ", ".join(" or ".join(spec[c]) for c in missing)
        raise SourceError(layout.path, f"missing required columns: {wanted}", line=layout.header_line)
    return found


# --- the three ways of reading lines ----------------------------------------------------------------------

#: Prefix of the String columns holding cell text (``@strike``), so that typed columns can take the plain
#: names (``strike``) while the checks still quote the text.
TEXT = "@"


def text(alias: str) -> pl.Expr:
    """The text cell column of ``alias`` (null when the cell is empty)."""
    return pl.col(TEXT + alias)



def scan_lines(layout: CsvLayout) -> pl.LazyFrame:
    """Lazy ``(source_line, raw)`` of every line after the header, blank ones included."""
    return pl.scan_csv(
        layout.path,
        has_header=False,
        separator="\x1f",  # a byte no text file uses: each physical line is one field
        quote_char=None,
        schema={"raw": pl.String},
        skip_lines=layout.header_line,
        row_index_name="source_line",
        row_index_offset=layout.header_line + 1,
        encoding="utf8-lossy",
        truncate_ragged_lines=True,
    ).with_columns(pl.col("source_line").cast(pl.Int64))


def _field_count(n: int) -> pl.Expr:
    """Fields of ``raw``; a line padded with empty trailing fields counts as having ``n``."""
    commas = pl.col("raw").str.count_matches(",", literal=True)
    padded = pl.col("raw").str.contains(rf"^(?:[^,]*,){{{n - 1}}}[^,]*[,\s]*$")
    return pl.when((commas + 1 > n) & padded).then(pl.lit(n, pl.UInt32)).otherwise(commas + 1)


@dataclass(frozen=True)
class Survey:
    """Lines that are not ordinary records: blank lines, and lines with a wrong number of fields."""

    blank: pl.Series
    miscounted: pl.Series


def survey(layout: CsvLayout) -> Survey:
    """Pass A: blank lines and miscounted lines (only those few are materialised)."""
    n = len(layout.names)
    raw = pl.col("raw")
    odd = (
        scan_lines(layout)
        .filter(raw.is_null() | (raw.str.count_matches(",", literal=True) != n - 1))
        .select("source_line", blank=raw.fill_null("").str.strip_chars() == "", n_fields=_field_count(n))
        .collect(engine="streaming")
    )
    return Survey(
        blank=odd.filter("blank")["source_line"],
        miscounted=odd.filter(~pl.col("blank") & (pl.col("n_fields") != n))["source_line"],
    )


def _clean(e: pl.Expr, layout: CsvLayout) -> pl.Expr:
    if layout.needs_cleaning:
        e = e.str.strip_chars().str.strip_chars('"')
    return pl.when(e != "").then(e)


def native_fields(layout: CsvLayout, columns: Mapping[str, str | None], lines: Survey) -> pl.LazyFrame:
    """Pass B source: the named string columns by polars' CSV parser, blank lines dropped; ``n_fields`` is
    the header's count, 0 for miscounted lines (pass C words their true count)."""
    n = len(layout.names)
    lf = pl.scan_csv(
        layout.path,
        has_header=False,
        quote_char=None,
        schema={f"c{i}": pl.String for i in range(n)},
        skip_lines=layout.header_line,
        row_index_name="source_line",
        row_index_offset=layout.header_line + 1,
        encoding="utf8-lossy",
        truncate_ragged_lines=True,
    ).with_columns(pl.col("source_line").cast(pl.Int64))
    if lines.blank.len():
        lf = lf.filter(~pl.col("source_line").is_in(lines.blank.implode()))
    n_fields = pl.lit(n, pl.UInt32)
    if lines.miscounted.len():
        miscounted = pl.col("source_line").is_in(lines.miscounted.implode())
        n_fields = pl.when(miscounted).then(pl.lit(0, pl.UInt32)).otherwise(n_fields)
    return lf.select(
        "source_line",
        n_fields=n_fields,
        **{
            TEXT + a: _clean(pl.col(f"c{layout.position(h)}"), layout) if h else pl.lit(None, pl.String)
            for a, h in columns.items()
        },
    )


def split_fields(lines: pl.LazyFrame, layout: CsvLayout, columns: Mapping[str, str | None]) -> pl.LazyFrame:
    """Pass C source: ``(source_line, raw)`` lines split on commas into the named string columns, with the
    true ``n_fields``. Used for few lines only (the rejected ones)."""
    n = len(layout.names)
    lf = lines.with_columns(_parts=pl.col("raw").str.split_exact(",", n - 1))  # struct built once
    return lf.select(
        "source_line",
        "raw",
        n_fields=_field_count(n),
        **{
            TEXT + a: _clean(pl.col("_parts").struct.field(f"field_{layout.position(h)}"), layout)
            if h
            else pl.lit(None, pl.String)
            for a, h in columns.items()
        },
    )


# --- typed values and row checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One row-level check: a flag (true = reject) and the reason's wording (evaluated for bad rows only)."""

    flag: pl.Expr
    reason: pl.Expr

    def __post_init__(self) -> None:
        # a check that cannot be evaluated (an earlier field is missing) is left to that field's check
        object.__setattr__(self, "flag", self.flag.fill_null(False))


def field_count_check(n_expected: int) -> Check:
    """Reject lines whose number of fields differs from the header's."""
    n = pl.col("n_fields")
    return Check(n != n_expected, pl.format("wrong number of fields: {}, expected {}", n, pl.lit(n_expected)))


def cell(name: str) -> pl.Expr:
    """The text of cell ``name`` as quoted in a reason ('' when empty)."""
    return text(name).fill_null("")


def number(name: str) -> pl.Expr:
    """Cell ``name`` as Float64 (null when empty or unparseable)."""
    return text(name).cast(pl.Float64, strict=False)


def number_check(name: str, value: pl.Expr, label: str | None = None, *, integer: bool = False) -> Check:
    """Reject text that is not a finite number (an integer when ``integer``); empty cells pass as null.

    Negative values pass: whether a count may be negative is for the warehouse's semantic checks.
    """
    bad = (text(name).is_not_null() & value.is_null()) | (value.is_not_null() & ~value.is_finite())
    kind = "non-numeric"
    # a written number too large to hold (1e400 for a price; above limits.MAX_COUNT for a count): out of
    # range, not "non-numeric" and never a silent null from a failed Int64 cast
    too_big = overflowed(value, cell(name))
    if integer:
        bad = bad | (value.is_finite() & (value != value.round()))
        kind = "non-integer"
        too_big = too_big | count_out_of_range(value)
        bad = bad | too_big
    reason = (
        pl.when(too_big)
        .then(out_of_range_reason(label or name, cell(name), count=integer))
        .otherwise(pl.format("{} {}: '{}'", pl.lit(kind), pl.lit(label or name), cell(name)))
    )
    return Check(bad, reason)


def required_check(name: str, value: pl.Expr, what: str) -> Check:
    """Reject rows where ``value`` is null: ``missing <what>`` when the cell is empty, else
    ``unparseable <what>: '<text>'``."""
    return Check(
        value.is_null(),
        pl.when(text(name).is_null())
        .then(pl.lit(f"missing {what}"))
        .otherwise(pl.format("{}: '{}'", pl.lit(f"unparseable {what}"), cell(name))),
    )


#: Date forms accepted in date cells, tried in order: ISO, compact, US month/day/year, SAS-style.
DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y", "%d%b%Y")
#: Instant forms: with an offset (``Z`` is read as ``+00:00``), then without one (taken as UTC).
AWARE_FORMATS: tuple[str, ...] = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z")
NAIVE_FORMATS: tuple[str, ...] = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")


def fitting_formats(
    samples: Sequence[str], formats: Sequence[str], parse: Callable[[pl.Series, str], pl.Series]
) -> list[str]:
    """The ``formats`` (in order) that parse at least one of ``samples``; all of them when there are no
    samples or none fits. Parsing a column with its one form is several times faster than trying every
    form on every cell; a cell in a form the sample did not show is rejected, never misread."""
    if not samples:
        return list(formats)
    series = pl.Series(samples, dtype=pl.String)
    fitting = [f for f in formats if parse(series, f).is_not_null().any()]
    return fitting or list(formats)


def _to_date(t: pl.Expr | pl.Series, fmt: str) -> pl.Expr | pl.Series:
    return t.str.to_date(fmt, strict=False, exact=True)


def date(name: str, formats: Sequence[str] = DATE_FORMATS) -> pl.Expr:
    """Cell ``name`` as a Date, by the first of ``formats`` that parses the whole cell."""
    parsed = [_to_date(text(name), f) for f in formats]
    return parsed[0] if len(parsed) == 1 else pl.coalesce(parsed)  # type: ignore[return-value]


def date_formats(layout: CsvLayout, header: str | None) -> list[str]:
    """The :data:`DATE_FORMATS` the sample of column ``header`` uses (all when it has no sample)."""
    return fitting_formats(layout.samples(header), DATE_FORMATS, _to_date)  # type: ignore[arg-type]


def _to_instant(t: pl.Expr | pl.Series, fmt: str) -> pl.Expr | pl.Series:
    if fmt in AWARE_FORMATS:
        return t.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False)
    return t.str.to_datetime(fmt, time_unit="us", strict=False, exact=True).dt.replace_time_zone("UTC")


def timestamp(name: str, formats: Sequence[str] = (*AWARE_FORMATS, *NAIVE_FORMATS), zulu: bool = True) -> pl.Expr:
    """Cell ``name`` as ``Datetime("us", "UTC")``: ISO 8601 with an offset (converted to UTC) or without
    one (taken as UTC), in one of ``formats``; ``zulu`` reads a trailing ``Z`` as ``+00:00``."""
    t = text(name).str.strip_chars()
    t = t.str.replace(r"[Zz]$", "+00:00") if zulu else t
    parsed = [_to_instant(t, f) for f in formats]
    return parsed[0] if len(parsed) == 1 else pl.coalesce(parsed)  # type: ignore[return-value]


def timestamp_options(layout: CsvLayout, header: str | None) -> dict[str, object]:
    """``formats`` and ``zulu`` arguments of :func:`timestamp` fitting the sample of column ``header``."""
    samples = layout.samples(header)
    zulu = not samples or any(v[-1:] in "Zz" for v in samples)
    fixed = [v[:-1] + "+00:00" if v[-1:] in "Zz" else v for v in samples]
    formats = fitting_formats(fixed, (*AWARE_FORMATS, *NAIVE_FORMATS), _to_instant)  # type: ignore[arg-type]
    return {"formats": formats, "zulu": zulu}


def all_sessions() -> pl.Series:
    """Every NYSE session of the calendar span, as a Date series (for vectorised ``is_in`` checks)."""
    return pl.Series(
        "sessions", sessions_between(dt.date.fromisoformat(CALENDAR_START), dt.date.fromisoformat(CALENDAR_END))
    )


# --- execution ------------------------------------------------------------------------------------------

Build = Callable[[pl.LazyFrame], tuple[pl.LazyFrame, list[Check]]]


@dataclass(frozen=True)
class TablePlan:
    """How a reader turns string fields into typed, checked rows.

    Attributes
    ----------
    layout:
        The file's header.
    columns:
        Alias -> header name (``None``: absent optional column, all null) of the string fields.
    build:
        ``fields -> (typed rows, checks)``; ``fields`` is a lazy frame of ``source_line``, ``n_fields`` and
        the aliased String columns (named ``@alias``, see :func:`text`). Run once over the file (pass B)
        and again over the rejected lines (pass C), so it must not depend on which rows it sees. Checks
        must read columns the typed frame does not overwrite (they are evaluated on it).
    keep:
        Columns of the typed rows the reader needs afterwards (``source_line`` is always kept).
    keys:
        Columns identifying a snapshot (empty for single-frame reference formats).
    """

    layout: CsvLayout
    columns: Mapping[str, str | None]
    build: Build
    keep: tuple[str, ...]
    keys: tuple[str, ...] = ()


def _word(plan: TablePlan, bad_lines: pl.Series) -> pl.LazyFrame:
    """Pass C: ``keys, source_line, raw, reason`` of the given lines."""
    lines = scan_lines(plan.layout).filter(pl.col("source_line").is_in(bad_lines.implode()))
    rows, checks = plan.build(split_fields(lines, plan.layout, plan.columns))
    return rows.select(*plan.keys, "source_line", "raw", reason=first_reason(checks))


def _bucketed(lf: pl.LazyFrame, keys: Sequence[str], buckets: int) -> pl.LazyFrame:
    return lf.with_columns(_bucket=pl.struct(list(keys)).hash(_HASH_SEED) % buckets)


def _sink(lf: pl.LazyFrame, out: Path) -> None:
    lf.sink_parquet(
        pl.PartitionBy(out, key="_bucket", include_key=False),
        mkdir=True,
        row_group_size=ROW_GROUP_ROWS,
        compression="lz4",  # temporary files: speed over size
        engine="streaming",
    )


def _read_buckets(out: Path) -> dict[int, pl.LazyFrame]:
    """Bucket number -> a lazy scan of its rows."""
    folders = {p.parent for p in out.rglob("*.parquet")} if out.is_dir() else set()
    scans = {}
    for folder in folders:
        files = sorted(folder.glob("*.parquet"))
        bucket = int(folder.name.split("=")[-1])
        scans[bucket] = pl.scan_parquet(files, hive_partitioning=False)  # type: ignore[arg-type]
    return scans


def execute(
    flagged: pl.LazyFrame,
    *,
    keys: Sequence[str],
    keep: Sequence[str],
    word: Callable[[pl.Series], pl.LazyFrame],
    size: int,
    spill_bytes: int | None = None,
    tmp_dir: str | PathLike[str] | None = None,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Run a flagged plan (``keep`` columns and ``_bad``): ``(good rows, rejects)`` per bucket.

    Parameters
    ----------
    word:
        ``bad source lines -> lazy keys, source_line, raw, reason`` (re-reads and words the rejected rows).
    size:
        Source size in bytes: up to ``spill_bytes`` (default :data:`SPILL_BYTES`; 0 always spills), or
        without keys, the plan runs in memory as one bucket; above it, rows stream into hash buckets of
        ``keys`` in a temporary folder (removed when the iterator finishes or is closed) under ``tmp_dir``.
    """
    keys, keep = list(keys), list(keep)
    threshold = SPILL_BYTES if spill_bytes is None else spill_bytes
    if not keys or (size <= threshold and threshold > 0):
        frame = flagged.collect()
        bad = frame.filter("_bad")["source_line"]
        rejects = word(bad).collect() if bad.len() else _no_rejects(frame, keys)
        yield frame.filter(~pl.col("_bad")).select(keep), rejects.sort("source_line")
        return
    n_buckets = max(2, min(MAX_BUCKETS, size // BUCKET_BYTES))
    with tempfile.TemporaryDirectory(prefix="gex-sources-", dir=tmp_dir) as tmp:
        good_dir, bad_dir = Path(tmp) / "rows", Path(tmp) / "rejects"
        _sink(_bucketed(flagged, keys, n_buckets), good_dir)
        bad = (
            pl.scan_parquet(good_dir / "**" / "*.parquet", hive_partitioning=False)
            .filter("_bad")
            .select("source_line")
            .collect()["source_line"]
        )
        if bad.len():
            _sink(_bucketed(word(bad), keys, n_buckets), bad_dir)
        good_parts, bad_parts = _read_buckets(good_dir), _read_buckets(bad_dir)
        empty = pl.DataFrame(schema=flagged.collect_schema()).select(keep)
        for b in sorted(set(good_parts) | set(bad_parts)):
            good = good_parts[b].filter(~pl.col("_bad")).select(keep).collect() if b in good_parts else empty
            rejects = (
                bad_parts[b].select(*keys, "source_line", "raw", "reason").collect()
                if b in bad_parts
                else _no_rejects(good, keys)
            )
            yield good, rejects.sort("source_line")


def run(
    plan: TablePlan, *, spill_bytes: int | None = None, tmp_dir: str | PathLike[str] | None = None
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Execute a CSV ``plan`` (passes A, B, C): ``(good rows, rejects)`` per bucket, complete key groups.

    Good rows have ``keys + keep + source_line``; rejects have ``keys + source_line, raw, reason``. See
    :func:`execute` for ``spill_bytes`` and ``tmp_dir``.
    """
    keys = list(plan.keys)
    keep = list(dict.fromkeys([*keys, *plan.keep, "source_line"]))
    rows, checks = plan.build(native_fields(plan.layout, plan.columns, survey(plan.layout)))
    flagged = rows.select(*keep, _bad=any_bad(checks))
    yield from execute(
        flagged,
        keys=keys,
        keep=keep,
        word=lambda bad: _word(plan, bad),
        size=plan.layout.size,
        spill_bytes=spill_bytes,
        tmp_dir=tmp_dir,
    )


def any_bad(checks: Sequence[Check]) -> pl.Expr:
    """Whether any check fails (false without checks)."""
    return pl.any_horizontal(c.flag for c in checks) if checks else pl.lit(False)


def first_reason(checks: Sequence[Check], fallback: str = "unparseable line") -> pl.Expr:
    """The wording of the first failing check; ``fallback`` for a row flagged bad that no check explains
    (two parses disagreeing: cannot happen, but a rejected line must always say why)."""
    return pl.coalesce(*(pl.when(c.flag).then(c.reason) for c in checks), pl.lit(fallback))


def _no_rejects(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame(schema={**{k: frame.schema[k] for k in keys}, **REJECT_SCHEMA})


def read_single(plan: TablePlan) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Execute a plan without keys: all good rows, in line order, and all rejects (:data:`REJECT_SCHEMA`)."""
    good, rejects = next(run(plan))
    return good.sort("source_line"), rejects.select(list(REJECT_SCHEMA))
