"""Read one (underlying, session) and its history from the published warehouse views into polars frames.

Only the published views of the ``main`` schema are read (``sql/published/``), never the internal
``mart.*`` tables: those views are the warehouse's public contract. Every query takes bound parameters;
the connection is expected to be read-only (:func:`open_read_only`: the published snapshot beside the
warehouse, so a report can be written while a job holds the warehouse).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from os import PathLike

import duckdb
import polars as pl

#: Published views the report reads (schema ``main``); ``hedge_advice`` is optional.
REQUIRED_VIEWS = ("regime_daily", "gex_by_strike", "gex_by_expiry", "gex_profile", "flip_crossings", "vol_context")
OPTIONAL_VIEWS = ("hedge_advice", "expected_move", "level_outcomes")
#: Bootstrap replicates of the report's level statistics (fewer than ``gex stats``' 2,000: a page, not a study).
LEVEL_STATS_N_BOOT = 500
#: Computed sessions with a next close an underlying needs before the report shows its level statistics.
LEVEL_STATS_MIN_SESSIONS = 10
#: Sessions of history drawn in the time-series charts (about one trading year).
DEFAULT_HISTORY_SESSIONS = 252
#: Half-width of the strike window of the GEX-by-strike chart, fraction of spot.
STRIKE_WINDOW = 0.10


class ReportInputError(ValueError):
    """The warehouse cannot give the report asked for (message is meant for people, no traceback)."""


@dataclass(frozen=True)
class ReportData:
    """Everything one report draws, for one underlying as of one session.

    Attributes
    ----------
    underlying, session:
        What the report describes.
    day:
        The ``main.regime_daily`` row of (underlying, session) as a dict (GEX in dollars per 1% move).
    strikes:
        ``main.gex_by_strike`` rows within :data:`STRIKE_WINDOW` of spot (AM and PM roots summed); columns
        ``strike`` (index points), ``call_gex_usd_per_1pct``, ``put_gex_usd_per_1pct``, ``net_gex_usd_per_1pct``.
    expiries:
        ``main.gex_by_expiry``: ``expiration`` (date), ``settlement`` (AM/PM), ``call_gex_usd_per_1pct``,
        ``put_gex_usd_per_1pct``, ``net_gex_usd_per_1pct``, sorted by expiration then settlement.
    profile:
        ``main.gex_profile``: ``spot_level`` (index points) and ``gex_usd_per_1pct``, sorted by level.
    crossings:
        ``main.flip_crossings``: ``crossing`` (index points) and ``is_flip``.
    history:
        ``main.regime_daily`` of the underlying up to the session (at most ``history_sessions`` rows).
    vol:
        ``main.vol_context`` over the same sessions as ``history`` (vols decimal per year).
    hedge:
        ``main.hedge_advice`` rows of the session, or ``None`` when the warehouse has no such view.
    underlyings, sessions:
        What the warehouse holds: every underlying, and every session of ``underlying``.
    expected_move:
        ``main.expected_move`` rows of the session (straddle per expiry, then the 1- and 5-session IV moves;
        index points and percent), or ``None`` when the warehouse has no such view.
    level_stats:
        :func:`gex.evidence.outcome_stats` of ``main.level_outcomes`` for the sessions up to ``session``
        (:data:`LEVEL_STATS_N_BOOT` replicates), ``None`` without the view or with fewer than
        :data:`LEVEL_STATS_MIN_SESSIONS` sessions followed by a close.
    """

    underlying: str
    session: dt.date
    day: dict[str, object]
    strikes: pl.DataFrame
    expiries: pl.DataFrame
    profile: pl.DataFrame
    crossings: pl.DataFrame
    history: pl.DataFrame
    vol: pl.DataFrame
    hedge: pl.DataFrame | None
    underlyings: tuple[str, ...]
    sessions: tuple[dt.date, ...]
    expected_move: pl.DataFrame | None = None
    level_stats: pl.DataFrame | None = None


#: The advice columns the page shows, in order, with headers that carry the units (the published view has
#: more: inputs and the cost model, see docs/sql-contract.md).
ADVICE_COLUMNS = {
    "template": "template",
    "band_shares": "band +/- shares",
    "band_dollar_delta_usd": "band +/- $ delta",
    "execution": "execution",
    "clock_interval_minutes": "or a clock, min",
    "expected_trades_per_day": "trades / day",
    "pnl_gamma_usd_per_day": "gamma $/day",
    "pnl_theta_usd_per_day": "theta $/day",
    "pnl_cost_usd_per_day": "cost $/day",
    "pnl_total_usd_per_day": "total $/day",
    "hedging_error_std_usd_per_day": "error std $/day",
    "breakeven_vol": "break-even vol",
    "regime_factor": "regime x band",
    "regime_reason": "regime adjustment",
    "warnings": "warnings",
}


def _advice_table(advice: pl.DataFrame) -> pl.DataFrame:
    """The published advice's main columns under readable headers (every column but the key when the view
    is not the one the project publishes)."""
    if not set(ADVICE_COLUMNS) <= set(advice.columns):
        return advice
    table = advice.select(list(ADVICE_COLUMNS))
    # warnings are a JSON array of strings: show them as text
    table = table.with_columns(
        pl.col("warnings").map_elements(lambda w: "; ".join(json.loads(w)) if w else "", return_dtype=pl.String))
    return table.rename(ADVICE_COLUMNS)


def open_read_only(path: str | PathLike[str] | None) -> duckdb.DuckDBPyConnection:
    """The published contract of the warehouse ``path``, read-only and sandboxed: its published snapshot
    (never locked by a writer), else the warehouse itself (see :func:`gex_warehouse.published.open_published`;
    raises :class:`gex_warehouse.connect.WarehouseError` subclasses)."""
    from gex_warehouse.published import open_published

    return open_published(path)


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> pl.DataFrame:
    """Query result as a polars frame (through Arrow; DuckDB 2 streams ``execute`` results)."""
    out = pl.from_arrow(con.sql(sql, params=params or []).to_arrow_table())
    assert isinstance(out, pl.DataFrame)
    return out


def existing_views(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the report's views present in schema ``main`` of the open database."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND list_contains(?, table_name)",
        [list(REQUIRED_VIEWS + OPTIONAL_VIEWS)],
    ).fetchall()
    return {r[0] for r in rows}


def catalogue(con: duckdb.DuckDBPyConnection) -> dict[str, list[dt.date]]:
    """Computed sessions per underlying, oldest first (from ``main.regime_daily``)."""
    rows = frame(con, "SELECT underlying, session FROM main.regime_daily ORDER BY underlying, session")
    out: dict[str, list[dt.date]] = {}
    for underlying, session in rows.iter_rows():
        out.setdefault(underlying, []).append(session)
    return out


def _check_views(con: duckdb.DuckDBPyConnection) -> set[str]:
    present = existing_views(con)
    missing = [v for v in REQUIRED_VIEWS if v not in present]
    if missing:
        raise ReportInputError(
            f"the warehouse has no published view{'s' if len(missing) > 1 else ''} "
            f"{', '.join('main.' + m for m in missing)}: it predates them; open it once with a writer "
            "(e.g. `gex compute --all`) to apply the migrations"
        )
    return present


def resolve(
    con: duckdb.DuckDBPyConnection, underlying: str | None, session: dt.date | None
) -> tuple[str, dt.date, dict[str, list[dt.date]]]:
    """The (underlying, session) to report: defaults are the first underlying and its latest session.

    Raises
    ------
    ReportInputError
        Empty warehouse, unknown underlying or a session that was not computed (the message lists what exists).
    """
    _check_views(con)
    known = catalogue(con)
    if not known:
        raise ReportInputError("the warehouse has no computed session: run `gex ingest` then `gex compute --all` first")
    if underlying is None:
        underlying = sorted(known)[0]
    else:
        underlying = underlying.upper().lstrip("^")
        if underlying not in known:
            raise ReportInputError(f"no computed session of underlying {underlying!r}; the warehouse has {', '.join(sorted(known))}")
    sessions = known[underlying]
    if session is None:
        session = sessions[-1]
    elif session not in sessions:
        raise ReportInputError(
            f"no computed session {session} of {underlying}; it has {len(sessions)} "
            f"session{'s' if len(sessions) != 1 else ''} from {sessions[0]} to {sessions[-1]}"
            + (f" ({_nearby(sessions, session)})" if len(sessions) > 1 else "")
        )
    return underlying, session, known


def _nearby(sessions: list[dt.date], day: dt.date) -> str:
    before = [s for s in sessions if s < day]
    after = [s for s in sessions if s > day]
    parts = ([f"previous {before[-1]}"] if before else []) + ([f"next {after[0]}"] if after else [])
    return ", ".join(parts)


def _level_stats(con: duckdb.DuckDBPyConnection, underlying: str, session: dt.date) -> pl.DataFrame | None:
    """What followed the underlying's levels up to ``session`` (see :attr:`ReportData.level_stats`)."""
    from gex.evidence import BootstrapSettings, outcome_stats

    outcomes = frame(con, "SELECT * FROM main.level_outcomes WHERE underlying = ? AND session <= ? ORDER BY session",
                     [underlying, session])
    if int(outcomes["forward_rv_1d"].is_not_null().sum()) < LEVEL_STATS_MIN_SESSIONS:
        return None
    return outcome_stats(outcomes, settings=BootstrapSettings(n_boot=LEVEL_STATS_N_BOOT))


def load(
    con: duckdb.DuckDBPyConnection,
    underlying: str | None = None,
    session: dt.date | None = None,
    *,
    history_sessions: int = DEFAULT_HISTORY_SESSIONS,
) -> ReportData:
    """Read everything one report needs (see :class:`ReportData`).

    Parameters
    ----------
    con:
        Read-only warehouse connection.
    underlying, session:
        What to report; ``None`` picks the first underlying and its latest computed session.
    history_sessions:
        Sessions of history (ending at ``session``) for the time-series charts, >= 1.
    """
    if history_sessions < 1:
        raise ValueError("history_sessions must be at least 1")
    present = _check_views(con)
    underlying, session, known = resolve(con, underlying, session)
    key = [underlying, session]
    day_frame = frame(con, "SELECT * FROM main.regime_daily WHERE underlying = ? AND session = ?", key)
    day = day_frame.to_dicts()[0]
    spot = float(day["spot"])  # type: ignore[arg-type]
    strikes = frame(
        con,
        "SELECT strike, call_gex_usd_per_1pct, put_gex_usd_per_1pct, net_gex_usd_per_1pct FROM main.gex_by_strike "
        "WHERE underlying = ? AND session = ? AND strike BETWEEN ? AND ? ORDER BY strike",
        [underlying, session, spot * (1 - STRIKE_WINDOW), spot * (1 + STRIKE_WINDOW)],
    )
    expiries = frame(
        con,
        "SELECT expiration, settlement, call_gex_usd_per_1pct, put_gex_usd_per_1pct, net_gex_usd_per_1pct "
        "FROM main.gex_by_expiry WHERE underlying = ? AND session = ? ORDER BY expiration, settlement",
        key,
    )
    profile = frame(
        con,
        "SELECT spot_level, gex_usd_per_1pct FROM main.gex_profile WHERE underlying = ? AND session = ? ORDER BY spot_level",
        key,
    )
    crossings = frame(
        con,
        "SELECT crossing, is_flip FROM main.flip_crossings WHERE underlying = ? AND session = ? ORDER BY crossing",
        key,
    )
    history = frame(
        con,
        "SELECT * FROM (SELECT * FROM main.regime_daily WHERE underlying = ? AND session <= ? "
        "ORDER BY session DESC LIMIT ?) ORDER BY session",
        [underlying, session, history_sessions],
    )
    first = history["session"].min()
    vol = frame(
        con,
        "SELECT * FROM main.vol_context WHERE underlying = ? AND session BETWEEN ? AND ? ORDER BY session",
        [underlying, first, session],
    )
    hedge = None
    if "hedge_advice" in present:
        hedge = frame(con, "SELECT * FROM main.hedge_advice WHERE underlying = ? AND session = ?", key)
        hedge = _advice_table(hedge.drop("underlying", "session"))
    moves = None
    if "expected_move" in present:
        moves = frame(
            con,
            "SELECT method, target_date, settlement, sessions_ahead, move_points, move_pct, lower_points, upper_points "
            "FROM main.expected_move WHERE underlying = ? AND session = ? "
            "ORDER BY method = 'atm_iv', target_date, settlement",
            key,
        )
    level_stats = _level_stats(con, underlying, session) if "level_outcomes" in present else None
    return ReportData(
        expected_move=moves,
        level_stats=level_stats,
        underlying=underlying,
        session=session,
        day=day,
        strikes=strikes,
        expiries=expiries,
        profile=profile,
        crossings=crossings,
        history=history,
        vol=vol,
        hedge=hedge,
        underlyings=tuple(sorted(known)),
        sessions=tuple(known[underlying]),
    )

