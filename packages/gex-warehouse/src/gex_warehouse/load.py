"""Loading one source file into the warehouse: idempotent, atomic, every record accounted for.

For each file:

1. Hash it (sha256). Content already loaded (status ``loaded`` or ``superseded``) is a no-op that says so
   (``force=True`` loads it again, making its chains current). The load id is the first 16 hex digits of
   the hash, so the same bytes always produce the same rows.
2. Tell its format and kind (chain or reference); a file-level problem (unknown format, missing columns,
   corrupt header date, empty or binary file, ...) fails the file: one message naming file and problem,
   a ``failed`` manifest row, **no data rows**.
3. In **one transaction**: read (streamed, a batch of whole chains at a time: a whole-market DataShop or
   IvyDB file a hash bucket of thousands per batch, other files one), validate (:mod:`gex_warehouse.validate`),
   quarantine every rejected record with its line, raw text and reason, replace what the file covers
   (a chain replaces its (underlying, session, valuation instant), with set operations per batch; reference
   rows replace their key, see :data:`REFERENCE_TABLES`), write the manifest row, commit. A crash or SIGKILL
   before the commit leaves the warehouse exactly as it was.

Accounting is in contract records (a Cboe quote-table line holds two: a call and a put)::

    rows_in = rows_loaded + rows_rejected          (exactly; sum(raw.quarantine.records) = rows_rejected)
    rows_excluded = loaded contracts already settled at the valuation instant (kept, models exclude them)

A chain whose every record is rejected does not replace anything: the load's status is ``rejected``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from gex.calendar import NEW_YORK, session_close
from gex.chain import ChainSchemaError
from gex.coverage import coverage_table
from gex.reference import ReferenceData, ReferenceSchemaError
from gex_sources import ChainBatch

from gex_warehouse import sources
from gex_warehouse.config import ENV_TEST_SLEEP, STREAMING_INGEST_MEMORY
from gex_warehouse.connect import rollback
from gex_warehouse.validate import EXPIRED, Validated, validate, validate_reference

#: Progress callback: (what is happening, contract records processed so far in this file).
Progress = Callable[[str, int], None]

_HASH_CHUNK = 1 << 20
#: Name of the registered Arrow table of a batch's snapshot rows (one connection, one load at a time).
_CHAINS_VIEW = "_gex_load_chains"


@dataclass(frozen=True)
class ReferenceTable:
    """Where a reference kind lands and what a re-load replaces.

    Attributes
    ----------
    table:
        Raw table.
    key:
        Columns identifying what a file covers: rows of the table with a key the new file has are replaced.
    source_column:
        Table column filled with the reader's format name (``None``: none).
    """

    table: str
    key: tuple[str, ...]
    source_column: str | None = None


#: Reference kind -> raw table and replacement key.
REFERENCE_TABLES: dict[str, ReferenceTable] = {
    "open_interest": ReferenceTable("raw.open_interest", ("underlying", "publish_date")),
    "rates": ReferenceTable("raw.rates", ("date", "tenor_days"), source_column="source"),
    "closes": ReferenceTable("raw.underlying_closes", ("underlying", "session", "source"), source_column="source"),
    "external_gex": ReferenceTable("raw.external_gex", ("provider", "underlying", "session")),
    "derived_results": ReferenceTable("raw.derived_results", ("provider", "underlying", "session")),
}
#: ``source`` of closes derived from chain snapshots.
CHAIN_CLOSE_SOURCE = "chain"


@dataclass
class LoadResult:
    """What happened to one file (one row of the ``gex ingest`` summary).

    ``status``: ``loaded``, ``already loaded`` (no-op), ``rejected`` (every record quarantined, nothing
    replaced) or ``failed`` (file-level problem; ``message`` says which).
    """

    path: Path
    status: str
    load_id: str | None = None
    format: str | None = None
    kind: str | None = None
    underlyings: list[str] = field(default_factory=list)
    sessions: list[dt.date] = field(default_factory=list)
    chains: int = 0
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_excluded: int = 0
    partial: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    message: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the file is in the warehouse (loaded now or before)."""
        return self.status in ("loaded", "already loaded")

    @property
    def underlying(self) -> str | None:
        return ",".join(self.underlyings) if self.underlyings else None

    @property
    def session(self) -> dt.date | None:
        return self.sessions[0] if len(self.sessions) == 1 else None


def file_digest(path: Path) -> tuple[str, int]:
    """``(sha256 hex, size in bytes)`` of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


_SIZE_UNITS = {"B": 1, "BYTES": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def _size(text: str) -> float:
    """Bytes in a DuckDB size setting such as ``"512MB"`` or ``"18.8 GiB"``."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]+)\s*", text)
    if match is None or match[2].upper() not in _SIZE_UNITS:
        raise ValueError(f"not a memory size: {text!r}")
    return float(match[1]) * _SIZE_UNITS[match[2].upper()]


def _cap_memory(con: duckdb.DuckDBPyConnection, limit: str) -> str | None:
    """Lower DuckDB's memory limit to ``limit`` if it is higher; returns the setting to restore, or None.

    DuckDB shows the setting truncated to one decimal ("488.2 MiB"): the value to restore is taken half a
    decimal up, which shows the same again (no drift over many loads) and is within 0.05 unit of the original.
    """
    current = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
    if _size(limit) >= _size(current):
        return None
    number, unit = current.split()
    con.execute("SET memory_limit = ?", [limit])
    return f"{float(number) + 0.05:.2f} {unit}"


def pause_for_tests() -> None:
    """Test hook: sleep between the steps of a load, inside its transaction (``$GEX_WAREHOUSE_TEST_SLEEP...``),
    so a test can kill the process mid-transaction. Unset in normal use."""
    seconds = os.environ.get(ENV_TEST_SLEEP)
    if seconds:
        time.sleep(float(seconds))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Append ``frame`` (holding every column of ``table``) to ``table``, through Arrow.

    A relation's ``insert_into`` rather than a registered view plus ``INSERT ... SELECT``: inside a long
    transaction the registered views keep every appended Arrow table alive until the commit (measured:
    ~160 bytes per row retained, 2 GB for a 1 GB DataShop file), the relation does not.
    """
    if frame.height == 0:
        return
    columns = con.table(table).columns
    # Enum columns (right, settlement) go as plain strings: DuckDB would otherwise cast Arrow dictionaries.
    enums = [name for name, dtype in frame.schema.items() if isinstance(dtype, (pl.Enum, pl.Categorical))]
    if enums:
        frame = frame.with_columns(pl.col(enums).cast(pl.String))
    # one chunk: DuckDB scans an Arrow table batch by batch, with a fixed cost per batch (~0.3 ms)
    con.from_arrow(frame.select(columns).rechunk().to_arrow()).insert_into(table)


class _Load:
    """State of one file's load inside its transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, load_id: str, fmt: str, kind: str):
        self.con = con
        self.path = path
        self.load_id = load_id
        self.format = fmt
        self.kind = kind
        self.result = LoadResult(path=path, status="loaded", load_id=load_id, format=fmt, kind=kind)
        self.previous_loads: set[str] = set()
        self.chain_keys: set[tuple[str, dt.date, dt.datetime]] = set()
        self.pending_lines: set[int] = set()  # source lines of validation rejects still without raw text
        self.line_based = sources.line_based(path, fmt)
        self.warning_set: set[str] = set()  # r.warnings as a set: a whole-market file adds 5,000 chains' notes
        self.underlyings: dict[str, None] = {}  # ordered sets of what the chains cover, in file order
        self.sessions: dict[dt.date, None] = {}

    # -- quarantine -------------------------------------------------------------------------------------

    def quarantine(self, reader_rejects: pl.DataFrame, checked: Validated, frame: pl.DataFrame) -> int:
        """Write reader and validation rejects to raw.quarantine; returns the contract records they hold."""
        per_line = sources.records_per_reject(self.format) if self.kind == "chain" else 1
        parts = []
        if reader_rejects.height:
            parts.append(
                reader_rejects.select(
                    pl.col("source_line"),
                    records=pl.lit(per_line, pl.Int32),
                    symbol=pl.lit(None, pl.String),
                    stage=pl.lit("reader"),
                    reason=pl.col("reason"),
                    raw_text=pl.col("raw"),
                )
            )
        if checked.rejects.height:
            lines = checked.rejects["source_line"]
            if self.line_based:  # looked up once per load, in one pass (see fill_line_texts)
                self.pending_lines.update(lines.to_list())
                texts: dict[int, str] = {}
            else:
                texts = sources.record_text(self.path, self.format, lines.to_list(), frame)
            parts.append(
                checked.rejects.select(
                    pl.col("source_line"),
                    records=pl.lit(1, pl.Int32),
                    symbol=pl.col("symbol"),
                    stage=pl.lit("validation"),
                    reason=pl.col("reason"),
                    raw_text=pl.col("source_line").replace_strict(texts, default=None, return_dtype=pl.String),
                )
            )
        if not parts:
            return 0
        rows = pl.concat(parts).with_columns(load_id=pl.lit(self.load_id), source_file=pl.lit(str(self.path)))
        _insert_frame(self.con, "raw.quarantine", rows)
        return reader_rejects.height * per_line + checked.rejects.height

    # -- chains -----------------------------------------------------------------------------------------

    def chains(self, batch: ChainBatch, progress: Progress | None) -> None:
        """Validate a batch of snapshots and store each as its (underlying, session, valuation instant): an
        end-of-day snapshot replaces the session's end-of-day chain, an intraday one sits beside the others.

        Whole-batch set operations (one validation, one quarantine append, one join to find what is
        replaced, one delete and one append per table), whatever the number of snapshots: a whole-market
        file holds 5,000 and a few statements each cost more than the data. Each snapshot is still a unit:
        it replaces its key as a whole, or, with no valid contract, leaves the warehouse as it was.
        """
        r = self.result
        facts = batch.snapshots.with_row_index("_snap").with_columns(pl.col("_snap").cast(pl.Int64))
        closes = {s: session_close(s) for s in facts["session"].unique().to_list()}
        intraday = [v < closes[s] for s, v in zip(facts["session"], facts["valuation_ts"], strict=True)]
        labels = [
            f"{u} {s}" + (f" {_ny_time(v)}" if i else "")
            for u, s, v, i in zip(facts["underlying"], facts["session"], facts["valuation_ts"], intraday, strict=True)
        ]
        for key, label in zip(facts.select("underlying", "session", "valuation_ts").iter_rows(), labels, strict=True):
            if key in self.chain_keys:  # a second part would replace the first
                raise sources.SourceError(self.path, f"the file holds the chain {label} twice (not contiguous)")
            self.chain_keys.add(key)
        what = labels[0] if len(labels) == 1 else f"{len(labels)} chains"
        if progress:
            progress(f"validating {what}", r.rows_in)
        sizes = facts["rows"].to_numpy()
        if int(sizes.sum()) != batch.frame.height:  # a reader bug: the rows would be given to the wrong chains
            raise ValueError(f"batch of {batch.frame.height} rows says its snapshots hold {int(sizes.sum())}")
        frame = batch.frame.with_columns(pl.Series("_snap", np.repeat(np.arange(facts.height, dtype=np.int64), sizes)))
        checked = validate(frame, group="_snap")
        r.rows_rejected += self.quarantine(batch.rejects, checked, batch.frame)
        r.rows_in += batch.frame.height + batch.rejects.height * sources.records_per_reject(self.format)
        counts = checked.good.group_by("_snap").agg(
            contracts=pl.len().cast(pl.Int64), expired_contracts=EXPIRED.sum().cast(pl.Int64)
        )
        facts = facts.with_columns(intraday=pl.Series(intraday, dtype=pl.Boolean)).join(
            counts, on="_snap", how="left", maintain_order="left"
        )
        for underlying, session, warnings, contracts, label in zip(
            facts["underlying"], facts["session"], facts["warnings"], facts["contracts"], labels, strict=True
        ):
            new = [w for w in warnings if w not in self.warning_set]
            r.warnings += new
            self.warning_set.update(new)
            self.underlyings.setdefault(underlying)
            self.sessions.setdefault(session)
            if contracts is None:
                r.warnings.append(f"{label}: no valid contract, every record quarantined; the warehouse keeps what it had")
        r.underlyings, r.sessions = list(self.underlyings), list(self.sessions)
        written = facts.filter(pl.col("contracts").is_not_null())
        if written.height == 0:
            return
        pause_for_tests()
        if progress:
            progress(f"writing {what}", r.rows_in)
        self._replace_chains(written, checked)
        r.chains += written.height
        r.rows_loaded += checked.good.height
        r.rows_excluded += checked.expired

    def _replace_chains(self, facts: pl.DataFrame, checked: Validated) -> None:
        """Write the snapshots of ``facts`` (each with valid contracts in ``checked.good``), replacing those
        with the same (underlying, session, valuation instant): a session's end-of-day chain (valued at
        the close) or an intraday snapshot of the same instant. Set operations joined to a registered
        table of the snapshots' rows, all with bound values."""
        con = self.con
        coverage = coverage_table(checked.good, facts.select("_snap", "session"), "_snap")
        rows = facts.join(coverage.drop("session"), on="_snap", how="left", maintain_order="left").select(
            "underlying",
            "session",
            pl.lit(self.load_id).alias("load_id"),
            "snapshot_ts",
            "valuation_ts",
            "header_date",
            "intraday",
            "spot",
            pl.when(pl.col("underlying_name") != "").then(pl.col("underlying_name")).alias("underlying_name"),
            pl.lit(self.format).alias("source_format"),
            "contracts",
            "expired_contracts",
            "expirations",
            "first_expiration",
            "last_expiration",
            pl.col("partial").alias("partial_chain"),
            pl.col("reason").alias("partial_reason"),
        )
        con.register(_CHAINS_VIEW, rows.to_arrow())
        try:
            match = "t.underlying = k.underlying AND t.session = k.session AND t.valuation_ts = k.valuation_ts"
            previous = con.execute(
                "SELECT k.underlying, k.session, k.valuation_ts, k.intraday, t.load_id, m.file_path "
                f"FROM {_CHAINS_VIEW} AS k JOIN raw.chain_snapshots AS t ON {match} "
                "LEFT JOIN raw.load_manifest AS m ON m.load_id = t.load_id "
                "WHERE t.load_id <> ? ORDER BY k.underlying, k.session, k.valuation_ts",
                [self.load_id],
            ).fetchall()
            for underlying, session, valuation_ts, intraday, load_id, file_path in previous:
                self.previous_loads.add(load_id)
                at = f" {_ny_time(valuation_ts)}" if intraday else ""
                self.result.replaced.append(f"{underlying} {session}{at} (was load {load_id}: {file_path})")
            con.execute(f"DELETE FROM raw.chain_quotes AS t USING {_CHAINS_VIEW} AS k WHERE {match}")
            con.execute(f"DELETE FROM raw.chain_snapshots AS t USING {_CHAINS_VIEW} AS k WHERE {match}")
            con.execute(
                f"DELETE FROM raw.underlying_closes AS t USING {_CHAINS_VIEW} AS k "
                "WHERE NOT k.intraday AND t.underlying = k.underlying AND t.session = k.session AND t.source = ?",
                [CHAIN_CLOSE_SOURCE],
            )
            pause_for_tests()
            _insert_frame(con, "raw.chain_quotes", checked.good.with_columns(load_id=pl.lit(self.load_id)))
            pause_for_tests()
            con.execute(f"INSERT INTO raw.chain_snapshots BY NAME SELECT * FROM {_CHAINS_VIEW}")
            # an end-of-day snapshot's spot is the session's close
            con.execute(
                'INSERT INTO raw.underlying_closes (load_id, source, underlying, session, "close") '
                f"SELECT load_id, ?, underlying, session, spot FROM {_CHAINS_VIEW} WHERE NOT intraday",
                [CHAIN_CLOSE_SOURCE],
            )
        finally:
            con.unregister(_CHAINS_VIEW)
        self.result.partial += [
            f"{u} {s}: {why}" for u, s, why in rows.filter("partial_chain").select("underlying", "session", "partial_reason").iter_rows()
        ]

    def all_rejected(self, exc: sources.AllRowsRejected) -> None:
        """Quarantine the lines of a multi-snapshot file whose every line was rejected (no snapshot came)."""
        rejects = exc.rejects.select("source_line", "raw", "reason")
        no_rows = pl.DataFrame(schema={"source_line": pl.Int64})
        rejected = self.quarantine(rejects, Validated(no_rows, pl.DataFrame(schema={"source_line": pl.Int64}), 0), no_rows)
        self.result.rows_in += rejected
        self.result.rows_rejected += rejected
        self.result.warnings.append(f"no usable row: {exc.problem.split(';')[0].removeprefix('no usable row: ')}")

    # -- reference data ---------------------------------------------------------------------------------

    def reference(self, data: ReferenceData, derived: list[ReferenceData], progress: Progress | None) -> None:
        """Validate reference rows and replace the rows of their keys; then the data derived from them
        (closes printed beside an external GEX series), whose invalid rows are left out with a warning
        (their records are accounted for by the primary table)."""
        r = self.result
        if progress:
            progress(f"validating {data.kind}", 0)
        checked = validate_reference(data.kind, data.frame)
        r.rows_rejected += self.quarantine(data.rejects, checked, data.frame)
        r.rows_in += data.frame.height + data.rejects.height
        r.warnings += list(data.warnings)
        good = checked.good
        if "underlying" in good.columns:
            r.underlyings = sorted(good["underlying"].drop_nulls().unique().to_list())
        for column in ("session", "publish_date", "date"):
            if column in good.columns:
                r.sessions = sorted(good[column].drop_nulls().unique().to_list())
                break
        if good.height == 0:
            r.warnings.append("no valid record, every record quarantined; the warehouse keeps what it had")
            return
        if data.kind == "open_interest":
            r.warnings += self._orphan_open_interest(good)
        pause_for_tests()
        if progress:
            progress(f"writing {data.kind}", r.rows_in)
        self._replace_reference(data.kind, good, data.source_format)
        r.rows_loaded += good.height
        for extra in derived:
            extra_checked = validate_reference(extra.kind, extra.frame)
            if extra_checked.rejects.height:
                r.warnings.append(f"{extra_checked.rejects.height} derived {extra.kind} rows left out (invalid)")
            self._replace_reference(extra.kind, extra_checked.good, extra.source_format)

    def _orphan_open_interest(self, good: pl.DataFrame) -> list[str]:
        """A warning when open-interest rows are for underlyings the warehouse holds no chain of (a file for
        the wrong roots, or loaded before its chains): they load, but nothing uses them until a chain comes."""
        counts = good.group_by("underlying").len()
        known = {row[0] for row in self.con.execute("SELECT DISTINCT underlying FROM raw.chain_snapshots").fetchall()}
        orphans = counts.filter(~pl.col("underlying").is_in(list(known))).sort("underlying")
        if orphans.height == 0:
            return []
        names = orphans["underlying"].to_list()
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        return [f"{orphans['len'].sum():,} rows for underlyings with no chain loaded: {shown}"]

    def _replace_reference(self, kind: str, good: pl.DataFrame, source_format: str) -> None:
        """Replace the rows of ``kind``'s table whose key ``good`` has, then append ``good``."""
        spec = REFERENCE_TABLES.get(kind)
        if spec is None:
            raise sources.SourceError(self.path, f"reference kind {kind!r} has no warehouse table")
        if good.height == 0:
            return
        if spec.source_column:
            good = good.with_columns(pl.lit(source_format).alias(spec.source_column))
        con = self.con
        # identifiers below come from REFERENCE_TABLES (constants), never from the data
        key_cols = ", ".join(f'"{k}"' for k in spec.key)
        match = " AND ".join(f't."{k}" = k."{k}"' for k in spec.key)
        con.register("_gex_load_keys", good.select(spec.key).unique().to_arrow())
        try:
            touched = con.execute(
                f"SELECT DISTINCT t.load_id FROM {spec.table} AS t JOIN _gex_load_keys AS k ON {match} "
                "WHERE t.load_id <> ?",
                [self.load_id],
            ).fetchall()
            self.previous_loads.update(row[0] for row in touched)
            con.execute(f"DELETE FROM {spec.table} AS t USING (SELECT DISTINCT {key_cols} FROM _gex_load_keys) AS k WHERE {match}")
        finally:
            con.unregister("_gex_load_keys")
        pause_for_tests()
        _insert_frame(con, spec.table, good.with_columns(load_id=pl.lit(self.load_id)))

    # -- bookkeeping ------------------------------------------------------------------------------------

    def fill_line_texts(self) -> None:
        """Raw text of the validation rejects of a text file: one pass over the file for the whole load
        (a streamed file with many chains would otherwise be re-read once per chain)."""
        if not self.pending_lines:
            return
        texts = sources.line_text(self.path, self.pending_lines)
        frame = pl.DataFrame({"source_line": list(texts), "raw_text": list(texts.values())},
                             schema={"source_line": pl.Int64, "raw_text": pl.String})
        self.con.register("_gex_load_texts", frame.to_arrow())
        try:
            self.con.execute(
                "UPDATE raw.quarantine AS q SET raw_text = t.raw_text FROM _gex_load_texts AS t "
                "WHERE q.load_id = ? AND q.stage = 'validation' AND q.source_line = t.source_line",
                [self.load_id],
            )
        finally:
            self.con.unregister("_gex_load_texts")

    def supersede_previous(self) -> None:
        """Mark loads that lost rows to this one; those left with none become ``superseded``."""
        for load_id in sorted(self.previous_loads):
            self.con.execute(
                """
                UPDATE raw.load_manifest SET superseded_by = ?,
                    status = CASE WHEN
                        EXISTS (SELECT 1 FROM raw.chain_snapshots WHERE load_id = ?)
                        OR EXISTS (SELECT 1 FROM raw.open_interest WHERE load_id = ?)
                        OR EXISTS (SELECT 1 FROM raw.rates WHERE load_id = ?)
                        OR EXISTS (SELECT 1 FROM raw.underlying_closes WHERE load_id = ? AND source <> 'chain')
                        OR EXISTS (SELECT 1 FROM raw.external_gex WHERE load_id = ?)
                        OR EXISTS (SELECT 1 FROM raw.derived_results WHERE load_id = ?)
                    THEN status ELSE 'superseded' END
                WHERE load_id = ? AND status = 'loaded'
                """,
                [self.load_id, *([load_id] * 7)],
            )


def _ny_time(instant: dt.datetime) -> str:
    """``"10:35 ET"``: an intraday snapshot's instant as traders name it."""
    return instant.astimezone(NEW_YORK).strftime("%H:%M ET")


def _manifest_row(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    *,
    sha256: str,
    size: int,
    started: dt.datetime,
) -> None:
    """Insert or replace the manifest row of ``result`` (inside the caller's transaction)."""
    con.execute("DELETE FROM raw.load_manifest WHERE load_id = ?", [result.load_id])
    con.execute(
        "INSERT INTO raw.load_manifest (load_id, file_path, sha256, size_bytes, format, kind, session, underlying, "
        "chains, rows_in, rows_loaded, rows_rejected, rows_excluded, status, superseded_by, warnings, started_at, "
        "finished_at, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
        [
            result.load_id,
            str(result.path),
            sha256,
            size,
            result.format,
            result.kind,
            result.session,
            result.underlying,
            result.chains,
            result.rows_in,
            result.rows_loaded,
            result.rows_rejected,
            result.rows_excluded,
            result.status,
            [*result.warnings, *(f"partial chain: {p}" for p in result.partial)],
            started,
            _now(),
            result.message,
        ],
    )


def _summary(result: LoadResult) -> str:
    return (
        f"{result.rows_in} records in, {result.rows_loaded} loaded, {result.rows_rejected} rejected, "
        f"{result.rows_excluded} excluded"
    )


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> LoadResult:
    """Load one file into the warehouse open on ``con`` (read-write). See the module docstring.

    Never raises for a problem with the file itself: the result's ``status`` is ``failed`` and ``message``
    names the file and the problem. Raises for unknown ``format`` names (a caller error) and for database
    errors (bugs, full disk).
    """
    t0 = time.perf_counter()
    started = _now()
    file = Path(path).absolute()
    if format is not None and format not in sources.known_formats():
        raise ValueError(f"unknown source format {format!r}; known: {', '.join(sources.known_formats())}")
    try:
        if not file.is_file():
            raise sources.SourceError(file, "is a directory, not a file" if file.is_dir() else "file not found")
        if progress:
            progress("hashing", 0)
        sha256, size = file_digest(file)
    except OSError as exc:
        return LoadResult(file, "failed", message=f"{file}: cannot read file: {exc.strerror or exc}")
    except sources.SourceError as exc:
        return LoadResult(file, "failed", message=str(exc))
    load_id = sha256[:16]

    previous = con.execute(
        "SELECT status, file_path, superseded_by FROM raw.load_manifest WHERE load_id = ?", [load_id]
    ).fetchall()
    if previous and previous[0][0] in ("loaded", "superseded") and not force:
        status, first_path, by = previous[0]
        note = f"already loaded as load {load_id}"
        if first_path != str(file):
            note += f" from {first_path}"
        if status == "superseded":
            note += f"; since replaced by load {by} (use --force to make it current again)"
        return _already(con, file, load_id, note, time.perf_counter() - t0)

    result = LoadResult(file, "failed", load_id=load_id)
    restore_memory: str | None = None
    unexpected: Exception | None = None
    try:
        fmt, kind = sources.route(file, format)
        result.format, result.kind = fmt, kind
        load = _Load(con, file, load_id, fmt, kind)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM raw.quarantine WHERE load_id = ?", [load_id])
            if progress:
                progress(f"reading {fmt}", 0)
            if kind == "chain":
                batches = sources.chain_batches(file, fmt)
                try:
                    for n, batch in enumerate(batches):
                        if n == 1:  # a file streaming batch after batch: keep the buffer pool small
                            restore_memory = _cap_memory(con, STREAMING_INGEST_MEMORY)
                        load.chains(batch, progress)
                        if progress:
                            progress("reading", load.result.rows_in)
                except sources.AllRowsRejected as exc:  # every line bad: quarantine them, status "rejected"
                    load.all_rejected(exc)
                finally:
                    batches.close()  # a streaming reader removes its temporary files now, not at collection
            else:
                load.reference(*sources.reference(file, fmt), progress=progress)
            result = load.result
            if result.rows_in == 0:
                raise sources.SourceError(file, "no data records (a table header but no rows)")
            if result.rows_loaded == 0:
                result.status = "rejected"
                result.message = f"no valid record: all {result.rows_rejected} records quarantined (see raw.quarantine)"
            else:
                result.message = _summary(result)
            pause_for_tests()
            load.fill_line_texts()
            load.supersede_previous()
            _manifest_row(con, result, sha256=sha256, size=size, started=started)
            con.execute("COMMIT")
        except BaseException:
            rollback(con)  # a failed COMMIT has already rolled back: keep the original error
            raise
    except sources.SourceError as exc:
        result = LoadResult(file, "failed", load_id=load_id, format=result.format, kind=result.kind, message=str(exc))
    except (ChainSchemaError, ReferenceSchemaError) as exc:  # a reader produced a frame of the wrong shape
        result = LoadResult(
            file, "failed", load_id=load_id, format=result.format, kind=result.kind, message=f"{file}: {exc}"
        )
    except duckdb.InterruptException:
        raise  # a stop request (Ctrl-C: the writer's statement was interrupted) ends the run, not this file
    except Exception as exc:  # noqa: BLE001 - one file never stops the batch (see _unexpected)
        unexpected = exc
        result = LoadResult(
            file, "failed", load_id=load_id, format=result.format, kind=result.kind, message=_unexpected(file, exc)
        )
    finally:
        if restore_memory is not None:
            con.execute("SET memory_limit = ?", [restore_memory])
    if result.status == "failed":
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM raw.quarantine WHERE load_id = ?", [load_id])
            _manifest_row(con, result, sha256=sha256, size=size, started=started)
            con.execute("COMMIT")
        except duckdb.Error:
            # the database itself is broken (full disk, lost file): that is not this file's fault, and the
            # next file would fail the same way; report the original problem
            if unexpected is not None:
                raise unexpected from None
            raise
    result.seconds = time.perf_counter() - t0
    return result


#: Longest message kept from an unexpected exception, characters.
_MESSAGE_LIMIT = 300


def _unexpected(file: Path, exc: Exception) -> str:
    """One line naming the file and an exception no reader anticipated. A file that vanished while being
    read (deleted or moved during the run) says so; anything else is worded as a reader bug to report,
    while the file is recorded as failed and the batch goes on."""
    if isinstance(exc, FileNotFoundError) or (isinstance(exc, OSError) and not file.exists()):
        return f"{file}: file vanished while being read (deleted or moved during the run)"
    text = " ".join(str(exc).split())
    if len(text) > _MESSAGE_LIMIT:
        text = text[:_MESSAGE_LIMIT] + "..."
    if isinstance(exc, OSError):
        return f"{file}: cannot read file: {exc.strerror or text}"
    return f"{file}: unexpected {type(exc).__name__} while reading: {text} (a reader bug: please report it)"


def _already(con: duckdb.DuckDBPyConnection, file: Path, load_id: str, note: str, seconds: float) -> LoadResult:
    row = con.execute(
        "SELECT format, kind, underlying, session, chains, rows_in, rows_loaded, rows_rejected, rows_excluded "
        "FROM raw.load_manifest WHERE load_id = ?",
        [load_id],
    ).fetchall()[0]
    fmt, kind, underlying, session, chains, rows_in, loaded, rejected, excluded = row
    return LoadResult(
        file,
        "already loaded",
        load_id=load_id,
        format=fmt,
        kind=kind,
        underlyings=underlying.split(",") if underlying else [],
        sessions=[session] if session else [],
        chains=chains,
        rows_in=rows_in,
        rows_loaded=loaded,
        rows_rejected=rejected,
        rows_excluded=excluded,
        message=note,
        seconds=seconds,
    )


def unchanged_since_loaded(con: duckdb.DuckDBPyConnection, paths: Iterable[str | os.PathLike[str]]) -> dict[Path, LoadResult]:
    """Files loaded before and not touched since, without reading them: ``{path: 'already loaded' result}``.

    A file counts as unchanged when a ``loaded`` manifest row has its absolute path and size and the file's
    content and inode were last changed before that load finished: the modification time alone is not enough,
    since ``cp -p`` and ``rsync -t`` put a corrected file in place with the old one's mtime, but they cannot
    set the inode change time (ctime), which any write moves forward. Everything else (new, modified, failed
    or rejected before) is left to :func:`ingest_file`, which hashes the content. Why: a nightly job over a
    landing folder holding years of files would otherwise hash every file every night.
    """
    files = {Path(p).absolute(): Path(p) for p in paths}
    if not files:
        return {}
    rows = con.execute(
        "SELECT file_path, size_bytes, epoch_ns(finished_at), load_id FROM raw.load_manifest "
        "WHERE status = 'loaded' AND file_path IN (SELECT unnest(?))",
        [[str(f) for f in files]],
    ).fetchall()
    out: dict[Path, LoadResult] = {}
    for path, size, finished_ns, load_id in rows:
        file = Path(path)
        try:
            st = file.stat()
        except OSError:
            continue
        if st.st_size == size and max(st.st_mtime_ns, st.st_ctime_ns) < finished_ns:
            out[files[file]] = _already(con, file, load_id, f"already loaded as load {load_id} (unchanged since)", 0.0)
    return out


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files to ingest: each file as given; each folder's files (recursively, hidden ones skipped), sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(
                f for f in p.rglob("*") if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        else:
            out.append(p)
    return out


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write the WAL into the database file, so that other DuckDB versions (the duckdb-cli shell) can open it."""
    con.execute("CHECKPOINT")
