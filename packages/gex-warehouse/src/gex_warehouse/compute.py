"""The compute layer: loaded chains in, analysis marts out (``mart.*``; no Prefect, no printing).

Steps for one snapshot (underlying, session, valuation_ts: a session keeps its end-of-day snapshot and every
intraday one), each usable alone (the flows will wrap them as tasks):

1. :func:`snapshot_from_warehouse` rebuilds the canonical :class:`gex.chain.ChainSnapshot` from
   ``raw.chain_quotes`` + ``raw.chain_snapshots``, with the open interest chosen by :func:`_oi_choice`;
2. :func:`rate_for` picks the flat rate from ``core.rates``;
3. :func:`compute_session` (pure) runs :func:`gex.analysis.analyze` and shapes the result as mart frames;
4. :func:`write_marts` replaces that snapshot's rows in every mart table in one transaction.

:func:`pending_sessions` lists what needs computing; :func:`record_run` logs an attempt in ``mart.runs``.
Units: GEX in dollars per 1% move of the underlying (``*_gex_usd_per_1pct``), see ``docs/conventions.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
from gex.analysis import Analysis, Valued, analyze
from gex.calendar import session_close
from gex.chain import CHAIN_COLUMNS, ChainSnapshot, conform
from gex.columns import frame_of, with_series
from gex.conventions import Conventions
from gex.expected_move import expected_move_table

from gex_warehouse.config import code_version
from gex_warehouse.connect import quote_ident, rollback
from gex_warehouse.early_exercise_marts import early_exercise_frames
from gex_warehouse.expiry_marts import expiry_mart_frames
from gex_warehouse.load import pause_for_tests
from gex_warehouse.mart_keys import repeated_keys

#: Mart tables :func:`write_marts` replaces per snapshot (underlying, session, valuation_ts, preset), in write order.
MART_TABLES = (
    "mart.gex_by_strike",
    "mart.gex_by_strike_root",
    "mart.gex_by_expiry",
    "mart.gex_by_dte",
    "mart.gex_profile",
    "mart.flip_crossings",
    "mart.regime_daily",
    "mart.expiry_views",
    "mart.gex_profile_by_expiries",
    "mart.expected_move",
    "mart.early_exercise",
)
#: Each mart table's key: the snapshot (session, underlying, valuation_ts, preset) and what identifies a row in it.
#: Only ``mart.regime_daily`` keeps it as a PRIMARY KEY; the detail tables dropped theirs (migration 0010: DuckDB's
#: ART indexes were ~3/4 of the file), so :func:`check_unique_keys` checks every write against these instead.
SNAPSHOT_KEY = ("session", "underlying", "valuation_ts", "preset")
MART_KEYS: dict[str, tuple[str, ...]] = {
    "mart.gex_by_strike": (*SNAPSHOT_KEY, "strike"),
    "mart.gex_by_strike_root": (*SNAPSHOT_KEY, "root", "strike"),
    "mart.gex_by_expiry": (*SNAPSHOT_KEY, "expiration", "settlement"),
    "mart.gex_by_dte": (*SNAPSHOT_KEY, "dte_bucket"),
    "mart.gex_profile": (*SNAPSHOT_KEY, "spot_level"),
    "mart.flip_crossings": (*SNAPSHOT_KEY, "crossing"),
    "mart.regime_daily": SNAPSHOT_KEY,
    "mart.expiry_views": (*SNAPSHOT_KEY, "expiries"),
    "mart.gex_profile_by_expiries": (*SNAPSHOT_KEY, "expiries", "spot_level"),
    "mart.expected_move": (*SNAPSHOT_KEY, "method", "target_date", "settlement"),
    "mart.early_exercise": (*SNAPSHOT_KEY, "symbol"),
}
#: The daily regime rows as a subquery: ``mart.regime_daily`` restricted to ``core.daily_snapshot`` (one row per
#: underlying, session, preset: the end-of-day snapshot, else the latest intraday one). Everything daily reads it.
DAILY_REGIME = (
    "(SELECT r.* FROM mart.regime_daily AS r "
    "SEMI JOIN core.daily_snapshot AS d USING (underlying, session, preset, valuation_ts))"
)
#: Tenor (calendar days) the flat rate is read at on the session's curve (see :func:`rate_for`).
RATE_TENOR_DAYS = 30
#: ``oi_source`` values: the OCC publication of the session's morning, or the chain file's own figures.
OI_FEED, OI_CHAIN = "occ_feed", "chain"


# ---------------------------------------------------------------------------------------------
# warehouse -> snapshot, rate


#: The chain's contracts with both open-interest figures, through the one definition of the as-of rule
#: (``sql/models/core/contracts_as_of.sql``: per contract, the OCC feed's latest publication with
#: ``publish_date <= session``).
_CONTRACTS_AS_OF = """
SELECT {columns}, chain_open_interest, chain_oi_date, feed_open_interest, feed_oi_date, feed_publish_date
FROM core.contracts_as_of($underlying, $session, $valuation_ts)
"""
#: The same for every listed underlying's snapshot valued at one instant (a session's whole market at once).
_CONTRACTS_AS_OF_MANY = """
SELECT {columns}, chain_open_interest, chain_oi_date, feed_open_interest, feed_oi_date, feed_publish_date
FROM core.contracts_as_of_many($session, $valuation_ts, $underlyings)
"""
#: Header columns of a snapshot (raw.chain_snapshots), in the order :func:`_assemble` takes them.
_HEAD_COLUMNS = "spot, snapshot_ts, valuation_ts, header_date, source_format, underlying_name, load_id"


def _oi_choice(contracts: pl.DataFrame, session: dt.date) -> str:
    """:data:`OI_FEED` when an OCC publication of the session's own morning (``publish_date = session``)
    matched the chain's contracts, else :data:`OI_CHAIN`.

    Why only a same-morning publication: it holds the positions after the close of t-1, the same figure
    a Cboe chain prints; an older (stale) publication is less current than the chain's own OI.
    """
    return OI_FEED if (contracts["feed_publish_date"] == session).any() else OI_CHAIN


@dataclass(frozen=True)
class ChainInput:
    """What computing one snapshot of (underlying, session) needs, read from the warehouse: the canonical chain, the open
    interest it carries (:data:`OI_FEED` or :data:`OI_CHAIN`), the chain's load id and the flat rate."""

    snapshot: ChainSnapshot
    oi_source: str
    load_id: str | None
    rate: float


def read_chain(con: duckdb.DuckDBPyConnection, underlying: str, session: dt.date,
               valuation_ts: dt.datetime | None = None) -> ChainInput:
    """One loaded snapshot of (``underlying``, ``session``) with its open-interest source, load id and rate
    (:func:`snapshot_from_warehouse`, :func:`rate_for`): the one valued at ``valuation_ts``, or with ``None``
    the session's daily chain (``core.sessions``: end-of-day, else the latest intraday). ``KeyError`` when not
    loaded."""
    snapshot, source, load_id = _snapshot(con, underlying, session, valuation_ts)
    return ChainInput(snapshot, source, load_id, rate_for(con, session))


def snapshot_from_warehouse(con: duckdb.DuckDBPyConnection, underlying: str, session: dt.date,
                            valuation_ts: dt.datetime | None = None) -> ChainSnapshot:
    """The canonical chain of one loaded snapshot of (``underlying``, ``session``) (see :func:`read_chain`,
    which also says where its open interest came from)."""
    return _snapshot(con, underlying, session, valuation_ts)[0]


def _snapshot(con: duckdb.DuckDBPyConnection, underlying: str, session: dt.date,
              valuation_ts: dt.datetime | None = None) -> tuple[ChainSnapshot, str, str | None]:
    """The canonical chain of one loaded snapshot of (``underlying``, ``session``) (``valuation_ts``; ``None``:
    the daily one), its OI source, its load id.

    Open interest (contracts): with an OCC publication of the session's morning (:func:`_oi_choice`),
    each contract takes the feed figure (``core.contracts.feed_open_interest``, with its ``feed_oi_date``),
    falling back to the chain's own figure for contracts the feed lacks (new listings); otherwise every
    contract keeps the chain's figure. Which one is said in ``warnings`` (``"open interest: ..."``) and
    ``source_format`` is the loaded file's format. Rows come in ``source_line, symbol`` order.

    Raises
    ------
    KeyError
        When no chain of (underlying, session) is loaded.
    """
    head = _frame(
        con,
        f"SELECT {_HEAD_COLUMNS} "
        "FROM raw.chain_snapshots WHERE underlying = $u AND session = $s "
        "AND (CAST($v AS TIMESTAMPTZ) IS NULL OR valuation_ts = $v) "
        "ORDER BY intraday, valuation_ts DESC LIMIT 1",  # None: the daily chain, as core.sessions picks it
        {"u": underlying, "s": session, "v": valuation_ts},
    )
    if head.is_empty():
        at = f" valued at {valuation_ts.isoformat()}" if valuation_ts is not None else ""
        raise KeyError(f"no chain of {underlying} {session}{at} in the warehouse")
    head = head.with_columns(pl.col("snapshot_ts", "valuation_ts").dt.convert_time_zone("UTC"))
    contracts = _frame(con, _CONTRACTS_AS_OF.format(columns=", ".join(_quoted(_QUOTE_COLUMNS))),
                       {"underlying": underlying, "session": session, "valuation_ts": head["valuation_ts"][0]})
    return _assemble(underlying, session, head.row(0), contracts)


#: Chain columns read from ``raw.chain_quotes`` as they are (the open interest is chosen by :func:`_assemble`).
_QUOTE_COLUMNS = [c for c in CHAIN_COLUMNS if c not in ("open_interest", "oi_date")]


def _assemble(underlying: str, session: dt.date, head: tuple[object, ...],
              contracts: pl.DataFrame) -> tuple[ChainSnapshot, str, str | None]:
    """One snapshot from its header row (:data:`_HEAD_COLUMNS`, timestamps in UTC) and its contracts (rows of
    ``core.contracts_as_of``): the open interest chosen (see :func:`_snapshot`), the enums restored."""
    columns = _QUOTE_COLUMNS
    source = _oi_choice(contracts, session)
    if source == OI_FEED:
        oi = [
            pl.coalesce("feed_open_interest", "chain_open_interest").alias("open_interest"),
            pl.when(pl.col("feed_open_interest").is_null()).then(pl.col("chain_oi_date"))
            .otherwise(pl.col("feed_oi_date")).alias("oi_date"),
            pl.col("feed_open_interest").is_null().alias("_oi_from_chain"),
        ]
    else:
        oi = [pl.col("chain_open_interest").alias("open_interest"), pl.col("chain_oi_date").alias("oi_date"),
              pl.lit(True).alias("_oi_from_chain")]
    frame = contracts.select(*columns, *oi)
    fallback = int(frame["_oi_from_chain"].sum()) if source == OI_FEED else 0
    return _snapshot_of(underlying, session, head, _conformed(frame.drop("_oi_from_chain")), source, fallback)


def _conformed(frame: pl.DataFrame) -> pl.DataFrame:
    """The chain's enums and UTC timestamps, which come back from DuckDB as strings and session-zone
    timestamps, restored (``conform``)."""
    return conform(frame.with_columns(pl.col(c).dt.convert_time_zone("UTC")
                                      for c in ("snapshot_ts", "valuation_ts", "settlement_ts")))


def _snapshot_of(underlying: str, session: dt.date, head: tuple[object, ...], frame: pl.DataFrame, source: str,
                 fallback: int) -> tuple[ChainSnapshot, str, str | None]:
    """The snapshot of a conformed chain ``frame`` and its header row; ``fallback``: contracts that keep the
    chain's open interest although the OCC feed is the source."""
    spot, snapshot_ts, valuation_ts, header_date, source_format, name, load_id = head
    note = (
        f"open interest: OCC feed published {session} ({fallback} contracts absent from it keep the chain's figure)"
        if source == OI_FEED
        else "open interest: the chain's own (no OCC publication of the session's morning)"
    )
    snapshot = ChainSnapshot(
        frame=frame,
        underlying=underlying,
        spot=float(spot),  # type: ignore[arg-type]
        session=session,
        snapshot_ts=snapshot_ts,  # type: ignore[arg-type]
        valuation_ts=valuation_ts,  # type: ignore[arg-type]
        header_date=header_date,  # type: ignore[arg-type]
        source=f"warehouse load {load_id}",
        source_format=source_format,  # type: ignore[arg-type]
        underlying_name=name or "",  # type: ignore[arg-type]
        warnings=(note,),
    )
    return snapshot, source, load_id  # type: ignore[return-value]


def _assemble_many(session: dt.date, heads: dict[str, tuple[object, ...]],
                   contracts: pl.DataFrame) -> dict[str, tuple[ChainSnapshot, str, str | None]]:
    """:func:`_assemble` of every underlying with rows in ``contracts`` (rows of
    ``core.contracts_as_of_many``, several underlyings) at once: ``{underlying: its _assemble}``, equal to
    assembling each underlying's rows alone (tested).

    Why: assembling is a dozen small polars calls per chain (~2.5 ms), paid in the one process that also
    writes the marts; a whole-market session is 5,000 chains. The open-interest choice (:func:`_oi_choice`)
    is made per underlying by a window. Raises what ``conform`` raises for any chain's bad rows: the caller
    then assembles each chain alone, so that only the bad one fails.
    """
    feed_oi, chain_oi, feed = pl.col("feed_open_interest"), pl.col("chain_open_interest"), pl.col("_feed")
    frame = contracts.with_columns(
        pl.col("feed_publish_date").eq(session).any().over("underlying").alias("_feed"),  # _oi_choice's rule
    ).select(
        *_QUOTE_COLUMNS,
        pl.when(feed).then(pl.coalesce(feed_oi, chain_oi)).otherwise(chain_oi).alias("open_interest"),
        pl.when(feed & feed_oi.is_not_null()).then(pl.col("feed_oi_date")).otherwise(pl.col("chain_oi_date"))
        .alias("oi_date"),
        feed,
        (feed & feed_oi.is_null()).alias("_fallback"),
    )
    summary = {u: (bool(f), int(n)) for u, f, n in
               frame.group_by("underlying").agg(feed.first(), pl.col("_fallback").sum()).iter_rows()}
    parts = _conformed(frame.drop("_feed", "_fallback")).partition_by("underlying", as_dict=True, maintain_order=True)
    out: dict[str, tuple[ChainSnapshot, str, str | None]] = {}
    for (underlying,), part in parts.items():
        from_feed, fallback = summary[underlying]
        out[underlying] = _snapshot_of(underlying, session, heads[underlying], part,
                                       OI_FEED if from_feed else OI_CHAIN, fallback)  # 0 off the feed
    return out


#: A snapshot to read: (underlying, session, valuation instant UTC).
SnapshotRef = tuple[str, dt.date, dt.datetime]


def read_chains(con: duckdb.DuckDBPyConnection,
                keys: list[SnapshotRef]) -> dict[SnapshotRef, ChainInput | KeyError | ValueError]:
    """Many snapshots at once: ``{key: ChainInput}``, each equal to :func:`read_chain`'s; in place of a
    snapshot, the ``KeyError`` of one not loaded or the ``ValueError`` of one whose rows do not make a chain
    (that job fails alone, as with :func:`read_chain`).

    Why: reading a chain is a few milliseconds of fixed cost (two queries, the feed join) whatever its size;
    a whole-market session is thousands of small chains, so the snapshots valued at one instant (a session's
    end-of-day chains) are read with one header query and one ``core.contracts_as_of_many`` query, then split
    by underlying. Memory: the rows of every snapshot asked (callers pass batches).
    """
    out: dict[SnapshotRef, ChainInput | KeyError | ValueError] = {}
    groups: dict[tuple[dt.date, dt.datetime], list[str]] = {}
    for u, s, v in keys:
        groups.setdefault((s, v), []).append(u)
    rates = rates_for(con, (s for s, _ in groups))
    for (s, v), underlyings in groups.items():
        heads = _frame(
            con,
            f"SELECT underlying, {_HEAD_COLUMNS} FROM raw.chain_snapshots "
            "WHERE session = $s AND valuation_ts = $v AND list_contains($us, underlying)",
            {"s": s, "v": v, "us": underlyings},
        ).with_columns(pl.col("snapshot_ts", "valuation_ts").dt.convert_time_zone("UTC"))
        found = {row[0]: row[1:] for row in heads.iter_rows()}
        contracts = _frame(con, _CONTRACTS_AS_OF_MANY.format(columns=", ".join(_quoted(_QUOTE_COLUMNS))),
                           {"session": s, "valuation_ts": v, "underlyings": sorted(found)})
        try:
            assembled = _assemble_many(s, found, contracts)
        except (ValueError, KeyError):  # some snapshot's rows do not make a chain: each is assembled alone below
            assembled = {}
        parts: dict[str, pl.DataFrame] | None = None
        for u in underlyings:
            if u not in found:
                out[(u, s, v)] = KeyError(f"no chain of {u} {s} valued at {v.isoformat()} in the warehouse")
                continue
            if u in assembled:
                snapshot, source, load_id = assembled[u]
                out[(u, s, v)] = ChainInput(snapshot, source, load_id, rates[s])
                continue
            if parts is None:
                parts = {key[0]: part for key, part in contracts.partition_by("underlying", as_dict=True,
                                                                              maintain_order=True).items()}
            try:
                snapshot, source, load_id = _assemble(u, s, found[u], parts.get(u, contracts.clear()))
            except (ValueError, KeyError) as exc:  # bad rows in one snapshot: that job fails, the batch goes on
                out[(u, s, v)] = exc
                continue
            out[(u, s, v)] = ChainInput(snapshot, source, load_id, rates[s])
    return out


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | dict[str, object]) -> pl.DataFrame:
    """Query result as a polars frame, through Arrow (fetchall() would need pytz for TIMESTAMPTZ values)."""
    frame = pl.from_arrow(con.sql(sql, params=params).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def _quoted(columns: list[str]) -> list[str]:
    return [quote_ident(c) for c in columns]


def rate_for(con: duckdb.DuckDBPyConnection, session: dt.date) -> float:
    """Flat risk-free rate for ``session`` (decimal per year, continuous, act/365).

    The session's curve in ``core.rates`` read at :data:`RATE_TENOR_DAYS` (30 calendar days): linear
    interpolation between the tenors around it, flat beyond the ends. Why 30 days: GEX is dominated by the
    front month, and the analysis takes one flat rate. Without a curve recent enough, ``core.rates`` gives
    the ``fallback_rate`` row; a session not (yet) in ``core.rates`` reads ``core.settings`` directly.
    """
    return rates_for(con, [session])[session]


def rates_for(con: duckdb.DuckDBPyConnection, sessions: Iterable[dt.date]) -> dict[dt.date, float]:
    """:func:`rate_for` of each of ``sessions``, with one query of ``core.rates`` for all of them.

    Why: the view costs about the same for one session as for many (it matches every loaded session with its
    rate observations), and a batch of a year's backfill spans many sessions: run per session and batch (~200
    queries), py-spy found ~1.7 s of the flow process's CPU in it over the 2,000-chain year benchmark."""
    wanted = sorted(set(sessions))
    if not wanted:
        return {}
    curves: dict[dt.date, list[tuple[Any, Any]]] = {}
    for session, tenor, rate in con.execute(
        "SELECT session, tenor_days, rate FROM core.rates WHERE list_contains(?, session) "
        "ORDER BY session, tenor_days NULLS FIRST", [wanted]
    ).fetchall():
        curves.setdefault(session, []).append((tenor, rate))
    fallback: list[tuple[Any, Any]] | None = None
    out: dict[dt.date, float] = {}
    for session in wanted:
        rows = curves.get(session)
        if rows is None:  # not in core.rates (no chain of that session loaded): core.settings directly
            if fallback is None:
                fallback = con.execute("SELECT NULL, value FROM core.settings WHERE name = 'fallback_rate'").fetchall()
            rows = fallback
        out[session] = _flat_rate(rows)
    return out


def _flat_rate(rows: list[tuple[Any, Any]]) -> float:
    """The rate at :data:`RATE_TENOR_DAYS` of one session's ``(tenor_days, rate)`` rows sorted by tenor with
    nulls first (one null-tenor row: the flat fallback; none: 0)."""
    if not rows:
        return 0.0
    points = [(float(t), float(r)) for t, r in rows if t is not None]
    if not points:  # the fallback row
        return float(rows[0][1])
    x = float(RATE_TENOR_DAYS)
    if x <= points[0][0]:
        return points[0][1]
    for (t0, r0), (t1, r1) in zip(points, points[1:]):
        if t0 <= x <= t1:
            return r0 + (r1 - r0) * (x - t0) / (t1 - t0)
    return points[-1][1]


# ---------------------------------------------------------------------------------------------
# analysis -> mart frames (pure)


@dataclass(frozen=True)
class PackedOrigin:
    """Where a snapshot's mart rows lie in the packed frames of the chunk they came back in
    (:func:`gex_warehouse.mart_batch.unpack`): ``tables``, the chunk's frame of each mart table; ``offsets``, the
    first row of this snapshot's rows in each. :func:`write_results` takes consecutive snapshots of one chunk as
    one slice of its frame instead of concatenating a slice per snapshot and table (~500 a batch). Describes the
    tables ``unpack`` set: code that replaces a table of a :class:`MartFrames` drops it (``origin=None``)."""

    tables: dict[str, pl.DataFrame]
    offsets: dict[str, int]


@dataclass(frozen=True)
class MartFrames:
    """One snapshot's rows of every mart table (polars frames; :func:`write_marts` orders the columns) plus
    the analysis they came from (for checks and reports)."""

    underlying: str
    session: dt.date
    preset: str
    valuation_ts: dt.datetime
    gex_by_strike: pl.DataFrame
    gex_by_strike_root: pl.DataFrame
    gex_by_expiry: pl.DataFrame
    gex_by_dte: pl.DataFrame
    gex_profile: pl.DataFrame
    flip_crossings: pl.DataFrame
    regime_daily: pl.DataFrame
    analysis: Analysis
    expiry_views: pl.DataFrame  # gex_warehouse.expiry_marts: one row per expiry filter
    gex_profile_by_expiries: pl.DataFrame  # the profile of every filter but "all"
    expected_move: pl.DataFrame  # :func:`_expected_move_rows`: per expiry straddle moves, 1- and 5-session IV moves
    early_exercise: pl.DataFrame  # gex_warehouse.early_exercise_marts: American contracts where early exercise matters
    origin: PackedOrigin | None = None  # the tables as slices of a packed chunk's (set by mart_batch.unpack only)

    def tables(self) -> dict[str, pl.DataFrame]:
        """``{mart table: frame}`` in :data:`MART_TABLES` order."""
        return {t: getattr(self, t.split(".", 1)[1]) for t in MART_TABLES}

    @property
    def rows(self) -> int:
        """Mart rows, count."""
        return sum(f.height for f in self.tables().values())


def _keyed(frame: pl.DataFrame, underlying: str, session: dt.date, valuation_ts: dt.datetime, preset: str) -> pl.DataFrame:
    """``frame`` between the key columns ``session``, ``underlying``, ``valuation_ts`` and ``preset``.

    Built from Series, not with a ``select`` of literals: each snapshot keys six frames, and the query path
    cost ~230 us a frame against ~25 us (each key repeated with ``new_from_index``, no query at all).
    """
    session_col, underlying_col, valuation_col, preset_col = repeated_keys(underlying, session, valuation_ts, preset,
                                                                         frame.height)
    return frame_of([session_col, underlying_col, valuation_col, *frame.get_columns(), preset_col])


def _int64(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """``frame`` with ``column`` as Int64 (a query only when it is not already: the group sums make it so)."""
    values = frame.get_column(column)
    return frame if values.dtype == pl.Int64 else with_series(frame, values.cast(pl.Int64))


def compute_chain(chain: ChainInput, conventions: Conventions, *, valued: Valued | None = None) -> MartFrames:
    """Analyse a chain read by :func:`read_chain` under ``conventions`` (pure: no I/O); ``valued``: its contract
    pass when computed already (:func:`gex.batch.value_chains`)."""
    return compute_session(chain.snapshot, conventions, chain.rate, load_id=chain.load_id, oi_source=chain.oi_source,
                           valued=valued)


def _oi_date(contracts: pl.DataFrame) -> dt.date | None:
    """Session whose close the used open interest reflects: the latest ``oi_date`` among the contracts
    (start-of-day: the same in every intraday snapshot of a session)."""
    if "oi_date" not in contracts.columns or contracts.is_empty():
        return None
    value = contracts["oi_date"].max()
    return value if isinstance(value, dt.date) else None


def compute_session(
    snapshot: ChainSnapshot, conventions: Conventions, rate: float | None, *, load_id: str | None = None,
    oi_source: str = OI_CHAIN, valued: Valued | None = None,
) -> MartFrames:
    """Analyse one snapshot and shape the result as mart rows (pure: no I/O).

    Parameters
    ----------
    snapshot:
        Canonical chain (e.g. from :func:`snapshot_from_warehouse`).
    conventions:
        Modelling conventions (a preset).
    rate:
        Flat risk-free rate, decimal per year, continuous; ``None`` keeps the conventions' own.
    load_id:
        The chain's ``raw.chain_snapshots.load_id``, stored so :func:`pending` can tell a newer load.
    oi_source:
        Where the chain's open interest came from (:data:`OI_FEED` or :data:`OI_CHAIN`, see :func:`read_chain`).
    valued:
        The snapshot's contract pass under ``conventions`` and ``rate``, when computed already
        (:func:`gex.batch.value_chains`; see :func:`gex.analysis.analyze`).
    """
    a = analyze(snapshot, conventions, rate=rate, valued=valued)
    u, s, name, v = a.underlying, a.as_of, a.conventions.name, a.valuation_ts
    # gex.gex sums in a fixed order, so these tables are bit-identical when a session is recomputed
    strikes, expiries, dtes = a.by_strike, a.by_expiry, a.by_dte
    by_strike = _int64(_keyed(strikes, u, s, v, name), "contracts")
    by_strike_root = _int64(_keyed(a.by_strike_root, u, s, v, name), "contracts")
    # settlement as text, contracts as Int64: Series casts in a new frame (with_columns would run a query)
    cast_to = {"settlement": pl.String, "contracts": pl.Int64}
    by_expiry = _keyed(frame_of([col.cast(cast_to[col.name]) if col.name in cast_to else col
                                     for col in expiries.get_columns()]), u, s, v, name)
    by_dte = _int64(_keyed(dtes, u, s, v, name), "contracts")
    profile = _keyed(a.profile, u, s, v, name)
    session_col, underlying_col, valuation_col, preset_col = repeated_keys(u, s, v, name, len(a.flip_crossings))
    crossings = frame_of([
        session_col, underlying_col, valuation_col,
        pl.Series("crossing", list(a.flip_crossings), dtype=pl.Float64),
        pl.Series("is_flip", [a.gamma_flip is not None and c == a.gamma_flip for c in a.flip_crossings], dtype=pl.Boolean),
        preset_col,
    ])
    lv = a.levels
    early, early_summary = early_exercise_frames(a)
    regime = pl.DataFrame(
        [
            {
                "session": s,
                "underlying": u,
                "spot": a.spot,
                "valuation_ts": a.valuation_ts,
                "total_gex_usd_per_1pct": a.total_gex,
                "call_gex_usd_per_1pct": a.call_gex,
                "put_gex_usd_per_1pct": a.put_gex,
                "gex_at_spot_model_usd_per_1pct": a.gex_at_spot_model,
                "gamma_flip": a.gamma_flip,
                "flip_distance_pct": a.flip_distance_pct,
                "regime": a.regime,
                "call_wall": lv.call_wall,
                "put_wall": lv.put_wall,
                "most_negative_net_strike": lv.most_negative_net_strike,
                "abs_gamma_strike": lv.abs_gamma_strike,
                "dex_usd": a.dex_usd,
                "vex_usd_per_volpt": a.vex_usd_per_volpt,
                "cex_usd_per_day": a.cex_usd_per_day,
                "zero_dte_gamma_share": a.zero_dte_gamma_share,
                "vendor_model_gamma_gap": a.vendor_model_gamma_gap,
                "partial_chain": a.coverage.partial,
                "partial_reason": a.coverage.reason,
                "contracts_used": a.contracts.height,
                "contracts_excluded": json.dumps(a.excluded_counts(), sort_keys=True),
                "oi_source": oi_source,
                "rate": a.conventions.rate,
                "preset": a.conventions.name,
                "conventions": json.dumps(a.conventions.as_record(), sort_keys=True),
                "load_id": load_id,
                "computed_with": code_version(),
                "atm_iv_30d": a.atm_iv_30d,  # atm_iv_constant_maturity of the analysis' contracts
                "intraday": snapshot.valuation_ts < session_close(snapshot.session),
                "snapshot_ts": snapshot.snapshot_ts,
                "oi_date": _oi_date(a.contracts),
                "zero_dte_gex_usd_per_1pct": a.zero_dte_gex,
                **early_summary,
            }
        ],
        schema_overrides={
            "gamma_flip": pl.Float64, "flip_distance_pct": pl.Float64, "call_wall": pl.Float64, "put_wall": pl.Float64,
            "most_negative_net_strike": pl.Float64, "abs_gamma_strike": pl.Float64, "vendor_model_gamma_gap": pl.Float64,
            "partial_reason": pl.String, "load_id": pl.String, "contracts_used": pl.Int64, "atm_iv_30d": pl.Float64,
            "valuation_ts": pl.Datetime("us", "UTC"), "snapshot_ts": pl.Datetime("us", "UTC"), "oi_date": pl.Date,
            "early_exercise_contracts": pl.Int64, "early_exercise_expiries_without_carry": pl.Int64,
        },
    )
    views, view_profiles = expiry_mart_frames(a)
    atm_iv = regime["atm_iv_30d"][0]
    return MartFrames(u, s, name, v, by_strike, by_strike_root, by_expiry, by_dte, profile, crossings, regime, a,
                      expiry_views=views, gex_profile_by_expiries=view_profiles,
                      expected_move=_expected_move_rows(a, atm_iv), early_exercise=early)


def _expected_move_rows(a: Analysis, atm_iv: float | None) -> pl.DataFrame:
    """``mart.expected_move`` rows of one analysis: the key columns (:func:`_keyed`: session, underlying,
    valuation_ts, ..., preset) around the moves of :func:`gex.expected_move.expected_move_table`."""
    table = expected_move_table(a.expected_move, atm_iv, a.spot, a.as_of, a.valuation_ts)
    return _keyed(table, a.underlying, a.as_of, a.valuation_ts, a.conventions.name)


# ---------------------------------------------------------------------------------------------
# writing


class MartShapeError(RuntimeError):
    """A mart frame's columns differ from its table's (a new key without its migration, or the reverse)."""


def _check_shape(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> list[str]:
    columns = con.table(table).columns
    if set(columns) != set(frame.columns):
        missing, extra = sorted(set(columns) - set(frame.columns)), sorted(set(frame.columns) - set(columns))
        raise MartShapeError(
            f"{table}: the computed rows do not match the table (columns the table has and the rows lack: "
            f"{missing or 'none'}; columns the rows have and the table lacks: {extra or 'none'}): a migration "
            f"is missing or the warehouse was not upgraded"
        )
    return columns


class MartKeyError(RuntimeError):
    """Rows about to be written repeat a key of their mart table (:data:`MART_KEYS`): a bug in the compute, caught
    before anything is written (the detail tables have no PRIMARY KEY to refuse them)."""


def check_unique_keys(table: str, rows: pl.DataFrame) -> None:
    """Raise :class:`MartKeyError` when two of ``rows`` (rows of ``table``) share a key of :data:`MART_KEYS`.

    Nulls compare equal here (a null key column is itself refused by the table's NOT NULL). Cost: the distinct
    hashes of the keys (~20 ms for the 250,000 ``mart.gex_profile_by_expiries`` rows of a 250-underlying batch,
    against ~30-70 ms for an exact duplicate test); the exact test runs only when two hashes are equal."""
    key = list(MART_KEYS[table])
    if rows.height < 2 or rows.select(pl.struct(key).hash().n_unique()).item() == rows.height:
        return
    repeated = rows.select(key).filter(pl.struct(key).is_duplicated())
    if not repeated.height:  # equal hashes of different keys
        return
    first = repeated.row(0, named=True)
    raise MartKeyError(f"{table}: {repeated.height} computed rows share their key with another row, e.g. "
                       f"{', '.join(f'{k}={v}' for k, v in first.items())}; nothing was written")


def write_marts(con: duckdb.DuckDBPyConnection, frames: MartFrames) -> int:
    """Replace the snapshot (``frames.underlying``, ``frames.session``, ``frames.valuation_ts``,
    ``frames.preset``) in every mart table, in one transaction, and clear its ``mart.pending_recompute`` row.

    Idempotent: the same frames written twice leave identical table contents (rows are keyed by the
    snapshot and preset, no time of run is stored). Returns the rows written.

    Raises
    ------
    MartShapeError
        When a frame's columns and its table's differ (nothing is written).
    """
    key = [frames.session, frames.underlying, frames.valuation_ts, frames.preset]
    shapes = {table: _check_shape(con, table, frame) for table, frame in frames.tables().items()}
    for table, frame in frames.tables().items():
        check_unique_keys(table, frame)
    con.execute("BEGIN TRANSACTION")
    try:
        for table, frame in frames.tables().items():
            # table names come from MART_TABLES (constants), never from data
            con.execute(f"DELETE FROM {table} WHERE session = ? AND underlying = ? AND valuation_ts = ? AND preset = ?", key)
            if table == MART_TABLES[0]:
                pause_for_tests()  # test hook (unset in normal use): lets a test kill the job mid-transaction
            if frame.height:
                con.from_arrow(frame.select(shapes[table]).to_arrow()).insert_into(table)
        con.execute("DELETE FROM mart.pending_recompute WHERE session = ? AND underlying = ? AND valuation_ts = ? "
                    "AND preset = ?", key)
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return frames.rows


def write_results(con: duckdb.DuckDBPyConnection, results: list[tuple[MartFrames | None, RunRecord]]) -> list[int]:
    """Many jobs' marts (when computed) and their ``mart.runs`` rows in one transaction: what
    :func:`write_marts` and :func:`record_run` do for one, with one DELETE and one INSERT per mart table for
    the whole batch. Returns the mart rows written per job, in ``results`` order.

    Why: writing one snapshot costs ~25 statements whatever its size; a whole-market session is thousands of
    small snapshots. All or nothing: a crash or stop mid-batch rolls the batch back and its jobs stay
    pending (a rerun computes them).

    Raises
    ------
    MartShapeError
        When a frame's columns and its table's differ (nothing is written).
    MartKeyError
        When the batch's rows of a table repeat a key (nothing is written).
    """
    computed = [f for f, _ in results if f is not None]
    shapes = {table: _check_shape(con, table, frame) for table, frame in computed[0].tables().items()} if computed else {}
    batch_rows: dict[str, pl.DataFrame | None] = {}
    for table in MART_TABLES:
        frames = [f for f in _coalesced(computed, table) if f.height]
        # every frame of a table comes from compute_session with the same columns: one select after the concat
        # (a select per frame was ~500 polars queries per batch); rechunked because DuckDB scans an Arrow table
        # batch by batch: 250 one-chain chunks took ~70 ms a table, one ~5 ms
        rows = pl.concat(frames, how="vertical_relaxed").select(shapes[table]).rechunk() if frames else None
        if rows is not None:
            check_unique_keys(table, rows)
        batch_rows[table] = rows
    keys = pl.DataFrame(
        [(f.session, f.underlying, f.valuation_ts, f.preset) for f in computed],
        schema={"session": pl.Date, "underlying": pl.String, "valuation_ts": pl.Datetime("us", "UTC"), "preset": pl.String},
        orient="row",
    )
    con.execute("BEGIN TRANSACTION")
    try:
        if computed:
            # registered under an explicit name: a replacement scan of the Python variable would resolve to a
            # table of that name first, if one existed
            con.register("_write_keys_frame", keys)
            try:
                con.execute("CREATE OR REPLACE TEMP TABLE _write_keys AS SELECT * FROM _write_keys_frame")
            finally:
                con.unregister("_write_keys_frame")
            for i, table in enumerate(MART_TABLES):
                # table names come from MART_TABLES (constants), never from data
                con.execute(f"DELETE FROM {table} AS t USING _write_keys AS k WHERE t.session = k.session "
                            "AND t.underlying = k.underlying AND t.valuation_ts = k.valuation_ts AND t.preset = k.preset")
                if i == 0:
                    pause_for_tests()  # test hook (unset in normal use): lets a test kill the job mid-transaction
                rows = batch_rows[table]
                if rows is not None:
                    con.from_arrow(rows.to_arrow()).insert_into(table)
            con.execute("DELETE FROM mart.pending_recompute AS t USING _write_keys AS k WHERE t.session = k.session "
                        "AND t.underlying = k.underlying AND t.valuation_ts = k.valuation_ts AND t.preset = k.preset")
            con.execute("DROP TABLE _write_keys")
        _insert_runs(con, [run for _, run in results])
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return [f.rows if f is not None else 0 for f, _ in results]


def _coalesced(computed: list[MartFrames], table: str) -> list[pl.DataFrame]:
    """The frames of ``table`` of ``computed``, in order, the rows of consecutive snapshots that lie back to back in
    one packed chunk's frame (:class:`PackedOrigin`) taken as one slice of it: the same rows in the same order, a
    few frames to concatenate instead of one per snapshot."""
    name = table.split(".", 1)[1]
    pieces: list[tuple[pl.DataFrame, int, int]] = []  # (frame, first row, rows): a slice of frame
    for frames in computed:
        frame, origin = getattr(frames, name), frames.origin
        packed = origin.tables.get(table) if origin is not None else None
        start = origin.offsets.get(table, -1) if origin is not None else -1
        if packed is None or start < 0 or start + frame.height > packed.height:  # not a slice of a packed frame
            pieces.append((frame, 0, frame.height))
        elif pieces and pieces[-1][0] is packed and start == pieces[-1][1] + pieces[-1][2]:
            pieces[-1] = (packed, pieces[-1][1], pieces[-1][2] + frame.height)
        else:
            pieces.append((packed, start, frame.height))
    return [frame.slice(start, rows) for frame, start, rows in pieces]


def computed_presets(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Presets the warehouse holds rows of, native first (what :func:`pending` keeps current by default)."""
    rows = con.execute("SELECT DISTINCT preset FROM mart.regime_daily").fetchall()
    return sorted({"native", *(r[0] for r in rows)}, key=lambda p: (p != "native", p))


#: A snapshot to compute: (underlying, session, valuation instant UTC, preset).
SnapshotKey = tuple[str, dt.date, dt.datetime, str]


def pending(con: duckdb.DuckDBPyConnection, presets: list[str], underlying: str | None = None) -> list[SnapshotKey]:
    """Snapshots to compute under each of ``presets``: a loaded snapshot with no rows of that preset, rows
    computed from another load of it (a re-ingest replaced the chain), or rows a migration marked
    (``mart.pending_recompute``). Sorted by underlying, session, valuation instant, then ``presets`` order."""
    order = {p: i for i, p in enumerate(presets)}
    rows = _frame(
        con,
        """
        SELECT s.underlying, s.session, s.valuation_ts, p.preset
        FROM raw.chain_snapshots AS s
        CROSS JOIN (SELECT unnest($presets) AS preset) AS p
        LEFT JOIN mart.regime_daily AS r
            ON r.underlying = s.underlying AND r.session = s.session AND r.valuation_ts = s.valuation_ts
           AND r.preset = p.preset
        WHERE (CAST($underlying AS VARCHAR) IS NULL OR s.underlying = $underlying)
          AND (r.session IS NULL OR r.load_id IS DISTINCT FROM s.load_id
               OR EXISTS (SELECT 1 FROM mart.pending_recompute AS x
                          WHERE x.underlying = s.underlying AND x.session = s.session
                            AND x.valuation_ts = s.valuation_ts AND x.preset = p.preset))
        """,
        {"presets": list(presets), "underlying": underlying},
    ).with_columns(pl.col("valuation_ts").dt.convert_time_zone("UTC"))
    return sorted(rows.iter_rows(), key=lambda k: (k[0], k[1], k[2], order[k[3]]))


def pending_sessions(
    con: duckdb.DuckDBPyConnection, underlying: str | None = None, *, preset: str = "native"
) -> list[tuple[str, dt.date]]:
    """(underlying, session) pairs with a snapshot :func:`pending` lists for one ``preset``, sorted."""
    return sorted({(u, s) for u, s, _, _ in pending(con, [preset], underlying)})


def loaded_snapshots(con: duckdb.DuckDBPyConnection, underlying: str | None = None) -> list[tuple[str, dt.date, dt.datetime]]:
    """Every loaded snapshot (underlying, session, valuation instant UTC), sorted."""
    rows = _frame(
        con,
        "SELECT underlying, session, valuation_ts FROM raw.chain_snapshots "
        "WHERE (CAST($u AS VARCHAR) IS NULL OR underlying = $u) ORDER BY underlying, session, valuation_ts",
        {"u": underlying},
    ).with_columns(pl.col("valuation_ts").dt.convert_time_zone("UTC"))
    return list(rows.iter_rows())


def loaded_sessions(con: duckdb.DuckDBPyConnection, underlying: str | None = None) -> list[tuple[str, dt.date]]:
    """Every (underlying, session) with a loaded snapshot, sorted."""
    return sorted({(u, s) for u, s, _ in loaded_snapshots(con, underlying)})


def chain_load_id(con: duckdb.DuckDBPyConnection, underlying: str, session: dt.date,
                  valuation_ts: dt.datetime | None = None) -> str | None:
    """``raw.chain_snapshots.load_id`` of a loaded snapshot (``None``: the daily one) or ``None`` when not loaded."""
    rows = con.execute(
        "SELECT load_id FROM raw.chain_snapshots WHERE underlying = $u AND session = $s "
        "AND (CAST($v AS TIMESTAMPTZ) IS NULL OR valuation_ts = $v) ORDER BY intraday, valuation_ts DESC LIMIT 1",
        {"u": underlying, "s": session, "v": valuation_ts},
    ).fetchall()
    return rows[0][0] if rows else None


@dataclass(frozen=True)
class RunRecord:
    """One computation attempt, a row of ``mart.runs``."""

    flow: str
    underlying: str
    session: dt.date
    rows_in: int
    rows_out: int
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime
    conventions: str
    message: str | None = None
    #: the orchestrator's run id (a Prefect flow run), ``None`` outside a flow
    flow_run_id: str | None = None
    #: valuation instant of the snapshot computed (UTC)
    valuation_ts: dt.datetime | None = None


def record_run(con: duckdb.DuckDBPyConnection, run: RunRecord) -> str:
    """Append ``run`` to ``mart.runs`` (a log: never replaced); returns its ``run_id`` (a UUID)."""
    return _insert_runs(con, [run])[0]


_RUN_INSERT = (
    "INSERT INTO mart.runs (run_id, flow, session, underlying, rows_in, rows_out, status, started_at, "
    "finished_at, duration_s, code_version, conventions, message, flow_run_id, valuation_ts) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _insert_runs(con: duckdb.DuckDBPyConnection, runs: list[RunRecord]) -> list[str]:
    """Append ``runs`` to ``mart.runs``; returns their ``run_id`` values (UUIDs), in order."""
    ids = [str(uuid.uuid4()) for _ in runs]
    version = code_version()
    rows = [
        [
            run_id, run.flow, run.session, run.underlying, run.rows_in, run.rows_out, run.status, run.started_at,
            run.finished_at, (run.finished_at - run.started_at).total_seconds(), version, run.conventions,
            run.message, run.flow_run_id, run.valuation_ts,
        ]
        for run_id, run in zip(ids, runs)
    ]
    if len(rows) <= 1:
        for row in rows:
            con.execute(_RUN_INSERT, row).fetchall()
        return ids
    # many: one insert from a frame (executemany runs one statement per row)
    # registered under an explicit name, not read by a replacement scan of a local variable (which resolves a
    # table of the same name first, and needs the caller's frame to be the connection's own object)
    con.register("_runs_frame", pl.DataFrame(rows, schema=_RUN_SCHEMA, orient="row"))
    try:
        con.execute(f"INSERT INTO mart.runs ({', '.join(_RUN_SCHEMA)}) SELECT * FROM _runs_frame")
    finally:
        con.unregister("_runs_frame")
    return ids


_RUN_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(), "flow": pl.String(), "session": pl.Date(), "underlying": pl.String(),
    "rows_in": pl.Int64(), "rows_out": pl.Int64(), "status": pl.String(), "started_at": pl.Datetime("us", "UTC"),
    "finished_at": pl.Datetime("us", "UTC"), "duration_s": pl.Float64(), "code_version": pl.String(),
    "conventions": pl.String(), "message": pl.String(), "flow_run_id": pl.String(),
    "valuation_ts": pl.Datetime("us", "UTC"),
}
