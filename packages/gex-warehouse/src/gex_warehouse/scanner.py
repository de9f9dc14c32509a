"""Read the published scanner (``main.scanner``): one session's cross-section of underlyings, filtered and sorted.

The one reader behind ``gex scan`` and the report's scanner page. It only reads the published view (through a
read-only, sandboxed connection such as :func:`gex_warehouse.published.open_published`); sort keys map to fixed
SQL expressions (never user text) and every filter value is a bound parameter.

Sort keys (:data:`SORT_KEYS`) and their natural direction; ``reverse`` flips it, NULLs always come last and ties
are broken by underlying (alphabetical):

- ``net-gex``: net dealer GEX, most positive first (``reverse``: most negative first);
- ``gex-adv``: ``|GEX / average daily dollar volume|``, largest first;
- ``call-share``: call-gamma share, most call-heavy first;
- ``flip-distance``: ``|flip distance|``, spot closest to its flip first;
- ``gex-change``: ``|change of net GEX since the previous session|``, largest first;
- ``underlying``: alphabetical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

#: The published view read.
VIEW = "scanner"


@dataclass(frozen=True)
class SortKey:
    """How one ``--sort`` key orders rows: ``expression`` (SQL over main.scanner's columns, a constant of this
    module), ``descending`` (natural direction), ``rank_column`` (the view's dense rank for it, or ``None``)."""

    expression: str
    descending: bool
    rank_column: str | None
    description: str


SORT_KEYS: dict[str, SortKey] = {
    "net-gex": SortKey("total_gex_usd_per_1pct", True, "net_gex_rank", "net dealer GEX, most positive first"),
    "gex-adv": SortKey("abs(gex_to_adv)", True, "gex_adv_rank", "|GEX / average daily dollar volume|, largest first"),
    "call-share": SortKey("call_gamma_share", True, "call_share_rank", "call-gamma share, most call-heavy first"),
    "flip-distance": SortKey("abs(flip_distance_pct)", False, "flip_distance_rank", "|distance to the flip|, closest first"),
    "gex-change": SortKey("abs(total_gex_change_usd_per_1pct)", True, None,
                          "|change of net GEX since the previous session|, largest first"),
    "underlying": SortKey("underlying", False, None, "alphabetical"),
}
REGIMES = ("positive", "negative", "neutral")


class ScanError(ValueError):
    """The scanner cannot answer (no such view, no computed session, ...); the message is meant for people."""


@dataclass(frozen=True)
class Range:
    """Inclusive bounds on one measure (``None``: unbounded); a row whose measure is NULL fails any bound."""

    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"minimum {self.low:g} is above maximum {self.high:g}")

    @property
    def active(self) -> bool:
        return self.low is not None or self.high is not None


#: Filterable measures: name -> SQL expression over main.scanner's columns (constants of this module).
MEASURES = {
    "gex": "total_gex_usd_per_1pct",  # dollars per 1% move, signed
    "call_share": "call_gamma_share",  # fraction 0..1
    "gex_adv": "gex_to_adv",  # fraction of a day's dollar volume, signed
    "flip_distance": "abs(flip_distance_pct)",  # percent, magnitude
}


@dataclass(frozen=True)
class ScanFilter:
    """Which rows of the session to keep: ``regimes`` (any of), ``changed_only`` (regime changed since the
    previous session), ``underlyings`` (any of), and a :class:`Range` per measure of :data:`MEASURES`."""

    regimes: tuple[str, ...] = ()
    changed_only: bool = False
    underlyings: tuple[str, ...] = ()
    ranges: tuple[tuple[str, Range], ...] = ()

    def __post_init__(self) -> None:
        unknown = [r for r in self.regimes if r not in REGIMES]
        if unknown:
            raise ValueError(f"unknown regime {unknown[0]!r}; choose among {', '.join(REGIMES)}")
        for name, _ in self.ranges:
            if name not in MEASURES:
                raise ValueError(f"unknown measure {name!r}; known: {', '.join(MEASURES)}")

    def where(self) -> tuple[list[str], list[object]]:
        """SQL conditions (joined by AND) and their bound parameters."""
        conditions: list[str] = []
        params: list[object] = []
        if self.regimes:
            conditions.append("list_contains(?, regime)")
            params.append(list(self.regimes))
        if self.changed_only:
            conditions.append("regime_changed")
        if self.underlyings:
            conditions.append("list_contains(?, underlying)")
            params.append(list(self.underlyings))
        for name, bounds in self.ranges:
            expression = MEASURES[name]
            if bounds.low is not None:
                conditions.append(f"{expression} >= ?")
                params.append(bounds.low)
            if bounds.high is not None:
                conditions.append(f"{expression} <= ?")
                params.append(bounds.high)
        return conditions, params


@dataclass(frozen=True)
class ScanResult:
    """One session's scan: the rows kept (every main.scanner column, in order) and how many the session has."""

    session: dt.date
    sort: str
    rows: pl.DataFrame
    underlyings_in_session: int
    sessions: tuple[dt.date, ...]


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> pl.DataFrame:
    out = pl.from_arrow(con.sql(sql, params=params).to_arrow_table())
    assert isinstance(out, pl.DataFrame)
    return out


def has_view(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the open database publishes ``main.scanner``."""
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND table_name = ?", [VIEW],
    ).fetchall()
    return bool(rows[0][0])


def sessions(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    """Sessions the scanner has rows for (for the preset the connection selects), oldest first.

    Raises
    ------
    ScanError
        The database has no ``main.scanner`` view (it predates it).
    """
    if not has_view(con):
        raise ScanError("the published views have no main.scanner: they predate it; open the warehouse once with a "
                        "writer (`gex compute --all` or `gex publish`) to create the view and rewrite the snapshot")
    return [r[0] for r in con.execute(f"SELECT DISTINCT session FROM main.{VIEW} ORDER BY session").fetchall()]


def resolve_session(known: list[dt.date], session: dt.date | None) -> dt.date:
    """``session``, or the latest of ``known`` when ``None``.

    Raises
    ------
    ScanError
        No computed session at all, or ``session`` is not one of them (the message names the nearest ones).
    """
    if not known:
        raise ScanError("no computed session: run `gex ingest` then `gex compute --all` first")
    if session is None:
        return known[-1]
    if session not in known:
        before = [s for s in known if s < session]
        after = [s for s in known if s > session]
        near = ", ".join(([f"previous {before[-1]}"] if before else []) + ([f"next {after[0]}"] if after else []))
        raise ScanError(f"no computed session {session}; {len(known)} session{'s' if len(known) != 1 else ''} from "
                        f"{known[0]} to {known[-1]} ({near})")
    return session


def scan(con: duckdb.DuckDBPyConnection, session: dt.date | None = None, *, sort: str = "net-gex",
         reverse: bool = False, filters: ScanFilter | None = None, top: int | None = None) -> ScanResult:
    """The rows of ``main.scanner`` for ``session`` (default: the latest), filtered, sorted and cut to ``top``.

    ``con`` selects the preset as every published view does (``SET VARIABLE preset``; native when unset).

    Raises
    ------
    ScanError
        No scanner view, no computed session, or an unknown session.
    ValueError
        Unknown sort key, or ``top`` below 1.
    """
    if sort not in SORT_KEYS:
        raise ValueError(f"unknown sort key {sort!r}; choose one of {', '.join(SORT_KEYS)}")
    if top is not None and top < 1:
        raise ValueError(f"top must be at least 1, not {top}")
    known = sessions(con)
    day = resolve_session(known, session)
    key = SORT_KEYS[sort]
    descending = key.descending != reverse
    conditions, params = (filters or ScanFilter()).where()
    where = " AND ".join(["session = ?", *conditions])
    # the ORDER BY pieces are constants of SORT_KEYS; values are bound
    order = f"{key.expression} {'DESC' if descending else 'ASC'} NULLS LAST, underlying ASC"
    limit = "" if top is None else f" LIMIT {int(top)}"
    rows = _frame(con, f"SELECT * FROM main.{VIEW} WHERE {where} ORDER BY {order}{limit}", [day, *params])
    total = con.execute(f"SELECT count(*) FROM main.{VIEW} WHERE session = ?", [day]).fetchall()[0][0]
    return ScanResult(session=day, sort=sort, rows=rows, underlyings_in_session=int(total), sessions=tuple(known))
