"""Read a session's snapshots (intraday and end of day) from the published views, for the intraday page,
its live endpoint and ``gex replay``.

Reads only ``main.regime_snapshots`` (one row per computed snapshot) and ``main.gex_strike_snapshots``
(strike by snapshot), plus ``main.regime_daily`` for the fallback row, through the read-only sandboxed
connection of :func:`gex_report.data.open_read_only`. Every user value is a bound parameter; the preset is
selected with ``WHERE preset = ?`` after ``SET VARIABLE preset = '*'`` (a constant), so no user text ever
becomes SQL.

Instants: ``valuation_ts`` and ``snapshot_ts`` are UTC (``TIMESTAMPTZ``; the sandbox reads in UTC). The
charts draw New York wall-clock time (:func:`new_york_ms`): traders read the session in New York hours, and
Bokeh's datetime axis has no time zone of its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from gex_report.data import ReportInputError, frame

#: Published views this module reads (schema ``main``).
SNAPSHOT_VIEWS = ("regime_snapshots", "gex_strike_snapshots", "regime_daily")
#: Columns of ``main.regime_snapshots`` read (docs/sql-contract.md), in this order.
SNAPSHOT_COLUMNS = (
    "underlying", "session", "snapshot_ts", "valuation_ts", "intraday", "spot", "total_gex_usd_per_1pct",
    "call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "gamma_flip", "flip_distance_pct", "regime", "call_wall",
    "put_wall", "abs_gamma_strike", "zero_dte_gex_usd_per_1pct", "zero_dte_gamma_share", "oi_date", "oi_note",
    "contracts_used", "preset", "load_id",
)
#: Columns of ``main.gex_strike_snapshots`` read.
STRIKE_COLUMNS = ("valuation_ts", "strike", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct")
#: Half-width of the heatmap's strike window around each snapshot's own spot, fraction of spot.
INTRADAY_STRIKE_WINDOW = 0.05


@dataclass(frozen=True)
class IntradayData:
    """The snapshots of one (underlying, session, preset), oldest first.

    Attributes
    ----------
    underlying, session, preset:
        What is shown.
    snapshots:
        ``main.regime_snapshots`` rows (:data:`SNAPSHOT_COLUMNS`), sorted by ``valuation_ts`` (UTC). GEX in
        dollars per 1% move; ``zero_dte_gamma_share`` a fraction; levels in index points.
    strikes:
        ``main.gex_strike_snapshots`` rows (:data:`STRIKE_COLUMNS`) whose strike is within ``strike_window``
        of the spot of its own snapshot, sorted by ``valuation_ts`` then ``strike``.
    daily:
        The ``main.regime_daily`` row of the session (the row the daily views publish), or ``None``.
    sessions:
        Sessions of ``underlying`` with at least one snapshot, oldest first.
    underlyings:
        Underlyings with at least one snapshot.
    strike_window:
        The window used for ``strikes`` (fraction of spot).
    """

    underlying: str
    session: dt.date
    preset: str
    snapshots: pl.DataFrame
    strikes: pl.DataFrame
    daily: dict[str, object] | None
    sessions: tuple[dt.date, ...]
    underlyings: tuple[str, ...]
    strike_window: float = INTRADAY_STRIKE_WINDOW

    @property
    def intraday_count(self) -> int:
        """How many of the snapshots are intraday ones (not the end-of-day snapshot)."""
        return int(self.snapshots["intraday"].fill_null(False).sum()) if self.snapshots.height else 0


def check_views(con: duckdb.DuckDBPyConnection) -> None:
    """Raise :class:`ReportInputError` naming the snapshot views the warehouse lacks (it predates them)."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND list_contains(?, table_name)",
        [list(SNAPSHOT_VIEWS)],
    ).fetchall()
    missing = [v for v in SNAPSHOT_VIEWS if v not in {r[0] for r in rows}]
    if missing:
        raise ReportInputError(
            f"the warehouse has no published view{'s' if len(missing) > 1 else ''} "
            f"{', '.join('main.' + m for m in missing)}: it predates intraday snapshots; open it once with a writer "
            "(e.g. `gex compute --all`) to apply the migrations"
        )


def select_preset(con: duckdb.DuckDBPyConnection) -> None:
    """Let every preset's rows through the views' filter; queries then pick theirs with ``preset = ?``."""
    con.execute("SET VARIABLE preset = '*'")


def snapshot_catalogue(con: duckdb.DuckDBPyConnection, preset: str) -> dict[str, list[dt.date]]:
    """Sessions with at least one snapshot of ``preset``, per underlying, oldest first."""
    rows = frame(con, "SELECT DISTINCT underlying, session FROM main.regime_snapshots WHERE preset = ? "
                      "ORDER BY underlying, session", [preset])
    out: dict[str, list[dt.date]] = {}
    for underlying, session in rows.iter_rows():
        out.setdefault(underlying, []).append(session)
    return out


def daily_sessions(con: duckdb.DuckDBPyConnection, underlying: str, preset: str) -> list[dt.date]:
    """Computed sessions of ``underlying`` in ``main.regime_daily`` (any snapshot kind), oldest first."""
    rows = con.execute("SELECT session FROM main.regime_daily WHERE underlying = ? AND preset = ? ORDER BY session",
                       [underlying, preset]).fetchall()
    return [r[0] for r in rows]


def _nearby(sessions: list[dt.date], day: dt.date) -> str:
    before = [s for s in sessions if s < day]
    after = [s for s in sessions if s > day]
    return ", ".join(([f"previous {before[-1]}"] if before else []) + ([f"next {after[0]}"] if after else []))


def resolve(
    con: duckdb.DuckDBPyConnection, underlying: str | None, session: dt.date | None, preset: str
) -> tuple[str, dt.date, dict[str, list[dt.date]]]:
    """The (underlying, session) to show; defaults: the first underlying with snapshots, its latest session.

    Raises
    ------
    ReportInputError
        Views missing, no snapshot at all, unknown underlying, or a session that was never computed (the
        message lists what exists and the nearest sessions).
    """
    check_views(con)
    select_preset(con)
    known = snapshot_catalogue(con, preset)
    if not known:
        raise ReportInputError(f"the warehouse has no computed snapshot (preset {preset}): run `gex ingest` then "
                               "`gex compute --all` first")
    if underlying is None:
        underlying = sorted(known)[0]
    else:
        underlying = underlying.upper().lstrip("^")
        if underlying not in known:
            raise ReportInputError(f"no computed snapshot of underlying {underlying!r} (preset {preset}); the "
                                   f"warehouse has {', '.join(sorted(known))}")
    sessions = known[underlying]
    if session is None:
        session = sessions[-1]
    elif session not in sessions:
        where = f"{len(sessions)} session{'s' if len(sessions) != 1 else ''} from {sessions[0]} to {sessions[-1]}"
        near = _nearby(sessions, session)
        raise ReportInputError(f"session {session} of {underlying} is not loaded (no computed snapshot, preset {preset}); "
                               f"it has {where}" + (f" ({near})" if near else ""))
    return underlying, session, known


def read_snapshots(
    con: duckdb.DuckDBPyConnection, underlying: str, session: dt.date, preset: str, *,
    after: dt.datetime | None = None,
) -> pl.DataFrame:
    """``main.regime_snapshots`` rows of (underlying, session, preset), oldest first; only those valued
    strictly after ``after`` (UTC) when given."""
    columns = ", ".join(SNAPSHOT_COLUMNS)
    sql = (f"SELECT {columns} FROM main.regime_snapshots WHERE underlying = ? AND session = ? AND preset = ?"
           + (" AND valuation_ts > ?" if after is not None else "") + " ORDER BY valuation_ts")
    params: list[object] = [underlying, session, preset] + ([after] if after is not None else [])
    return frame(con, sql, params)


def read_strikes(
    con: duckdb.DuckDBPyConnection, underlying: str, session: dt.date, preset: str, *,
    window: float = INTRADAY_STRIKE_WINDOW, after: dt.datetime | None = None,
) -> pl.DataFrame:
    """``main.gex_strike_snapshots`` rows within ``window`` (fraction) of their own snapshot's spot."""
    sql = (
        "SELECT g.valuation_ts, g.strike, g.call_gex_usd_per_1pct, g.put_gex_usd_per_1pct, g.net_gex_usd_per_1pct "
        "FROM main.gex_strike_snapshots AS g JOIN main.regime_snapshots AS r "
        "ON r.underlying = g.underlying AND r.session = g.session AND r.valuation_ts = g.valuation_ts "
        "AND r.preset = g.preset "
        "WHERE g.underlying = ? AND g.session = ? AND g.preset = ? AND abs(g.strike - r.spot) <= ? * r.spot"
        + (" AND g.valuation_ts > ?" if after is not None else "") + " ORDER BY g.valuation_ts, g.strike"
    )
    params: list[object] = [underlying, session, preset, window] + ([after] if after is not None else [])
    return frame(con, sql, params)


def read_daily(con: duckdb.DuckDBPyConnection, underlying: str, session: dt.date, preset: str) -> dict[str, object] | None:
    """The published daily row of (underlying, session, preset), or ``None``."""
    rows = frame(con, "SELECT * FROM main.regime_daily WHERE underlying = ? AND session = ? AND preset = ?",
                 [underlying, session, preset]).to_dicts()
    return rows[0] if rows else None


def load(
    con: duckdb.DuckDBPyConnection, underlying: str | None = None, session: dt.date | None = None,
    preset: str = "native", *, window: float = INTRADAY_STRIKE_WINDOW,
) -> IntradayData:
    """Everything the intraday page and ``gex replay`` draw (see :class:`IntradayData`).

    ``preset`` must be one of the known preset names (the caller validates it; it is bound, never spliced).
    """
    if not 0 < window <= 1:
        raise ValueError("window must be a fraction of spot in (0, 1]")
    underlying, session, known = resolve(con, underlying, session, preset)
    return IntradayData(
        underlying=underlying,
        session=session,
        preset=preset,
        snapshots=read_snapshots(con, underlying, session, preset),
        strikes=read_strikes(con, underlying, session, preset, window=window),
        daily=read_daily(con, underlying, session, preset),
        sessions=tuple(known[underlying]),
        underlyings=tuple(sorted(known)),
        strike_window=window,
    )


def new_york_ms(series: pl.Series) -> list[float]:
    """UTC instants as New York wall-clock milliseconds since 1970 (what the charts' time axis shows).

    Bokeh formats a datetime axis in UTC; shifting each instant by New York's offset at that instant makes
    the axis read New York time (10:00 is 10:00 ET), including across a daylight-saving change.
    """
    local = series.dt.convert_time_zone("America/New_York").dt.replace_time_zone(None)
    return [float(v) for v in local.dt.epoch("ms").to_list()]


def new_york_ms_of(instant: dt.datetime) -> float:
    """:func:`new_york_ms` of one instant (timezone-aware)."""
    from zoneinfo import ZoneInfo

    local = instant.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
    return (local - dt.datetime(1970, 1, 1)).total_seconds() * 1000.0
