"""Exchange sessions and settlement instants (New York Stock Exchange calendar, holidays and early closes).

Pure functions of dates and instants; the calendar itself is the ``exchange_calendars`` XNYS calendar,
the maintained source of NYSE holidays and early closes (US index and equity options trade on its
sessions). All instants returned are timezone-aware UTC ``datetime`` objects; all dates are New York
calendar dates.

As-of rule: the session a snapshot describes is the **last session whose open is at or before** the
snapshot instant. A Sunday or an evening snapshot therefore describes the previous close; a snapshot at
08:00 on a trading day describes the previous session too (the new one has not opened).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.timezone.utc

#: Span of the calendar. Listed LEAPS reach ~3 years ahead; history files go back to the 2000s.
CALENDAR_START = "1990-01-02"
CALENDAR_END = "2045-12-29"

#: Open and regular close in New York, used for dates outside the calendar's span.
REGULAR_OPEN = dt.time(9, 30)
REGULAR_CLOSE = dt.time(16, 0)

#: Option roots settled at the **open** of expiration day (special opening quotation, SOQ).
#: Their PM-settled siblings (SPXW, NDXP, RUTW, VIXW, XSP...) settle at the close.
AM_SETTLED_ROOTS: frozenset[str] = frozenset({"SPX", "NDX", "RUT", "VIX", "DJX", "MNX", "OEX_AM"})

#: Index option roots known to be PM-settled (settle at the close of expiration day).
PM_SETTLED_INDEX_ROOTS: frozenset[str] = frozenset(
    {"SPXW", "SPXPM", "NDXP", "RUTW", "VIXW", "XSP", "XND", "MRUT", "OEX", "XEO", "DJXW", "NANOS"}
)


class UnknownSettlementError(ValueError):
    """The settlement style of an option root is not known."""


@lru_cache(maxsize=1)
def nyse():
    """The XNYS ``exchange_calendars`` calendar spanning :data:`CALENDAR_START`..:data:`CALENDAR_END`."""
    import exchange_calendars as xc  # deferred: importing it costs ~1 s

    with warnings.catch_warnings():
        # exchange_calendars 4.x trips a pandas 3.1 deprecation internally; nothing for us to act on
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        return xc.get_calendar("XNYS", start=CALENDAR_START, end=CALENDAR_END)


def _session_table_from_library() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_session_table` computed by ``exchange_calendars`` (~2.5 s: pandas, the library, its rules)."""
    cal = nyse()
    sessions = cal.sessions.to_numpy().astype("datetime64[D]")
    # opens/closes are tz-aware UTC Series: drop the zone explicitly, then take epoch microseconds
    opens = cal.opens.dt.tz_convert(None).to_numpy().astype("datetime64[us]").astype(np.int64)
    closes = cal.closes.dt.tz_convert(None).to_numpy().astype("datetime64[us]").astype(np.int64)
    return sessions, opens, closes


#: What :func:`_session_table` calls to build the table: the library, unless a caller outside the core installs
#: a cached copy (:func:`use_session_table_source`; ``gex_warehouse.calendar_cache`` keeps one on disk).
_table_source: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]] = _session_table_from_library


def use_session_table_source(source: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Build the session table with ``source`` from now on (it must return :func:`_session_table_from_library`'s
    table: sessions as datetime64[D], opens and closes as int64 UTC epoch microseconds). Why: building it from
    ``exchange_calendars`` costs ~2.5 s per process, and the core does no I/O to cache it itself."""
    global _table_source
    _table_source = source
    _session_table.cache_clear()


@lru_cache(maxsize=1)
def _session_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sessions (datetime64[D]), opens and closes (int64 UTC epoch microseconds), sorted (see
    :func:`use_session_table_source` for where they come from)."""
    return _table_source()


def _to_utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: give a timezone-aware instant")
    return instant.astimezone(UTC)


def _epoch_us(instant: dt.datetime) -> int:
    delta = _to_utc(instant) - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_epoch_us(us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=int(us))


def _in_span(day: dt.date) -> bool:
    sessions, _, _ = _session_table()
    d = np.datetime64(day, "D")
    return bool(sessions[0] <= d <= sessions[-1])


def is_session(day: dt.date) -> bool:
    """Whether ``day`` is an NYSE trading session (weekends and holidays are not)."""
    sessions, _, _ = _session_table()
    d = np.datetime64(day, "D")
    i = np.searchsorted(sessions, d)
    return bool(i < len(sessions) and sessions[i] == d)


def _session_instant(session: dt.date, instants: np.ndarray, regular: dt.time) -> dt.datetime:
    sessions = _session_table()[0]
    i = np.searchsorted(sessions, np.datetime64(session, "D"))
    if i < len(sessions) and sessions[i] == np.datetime64(session, "D"):
        return _from_epoch_us(instants[i])
    if _in_span(session):
        raise ValueError(f"{session} is not an NYSE session")
    return dt.datetime.combine(session, regular, NEW_YORK).astimezone(UTC)


def session_open(session: dt.date) -> dt.datetime:
    """Opening instant (UTC) of ``session``; 09:30 New York for dates outside the calendar's span."""
    return _session_instant(session, _session_table()[1], REGULAR_OPEN)


def session_close(session: dt.date) -> dt.datetime:
    """Closing instant (UTC) of ``session``, early closes included (13:00 New York on half days);
    16:00 New York for dates outside the calendar's span."""
    return _session_instant(session, _session_table()[2], REGULAR_CLOSE)


def as_of_session(instant: dt.datetime) -> dt.date:
    """The trading session a snapshot taken at ``instant`` describes.

    The last session whose open is at or before ``instant`` (timezone-aware).

    >>> import datetime as dt
    >>> ny = NEW_YORK
    >>> as_of_session(dt.datetime(2024, 1, 7, 10, 52, tzinfo=ny))  # Sunday morning
    datetime.date(2024, 1, 5)
    >>> as_of_session(dt.datetime(2020, 7, 4, 13, 52, tzinfo=ny))  # Friday 3 July 2020 was a holiday
    datetime.date(2020, 7, 2)
    >>> as_of_session(dt.datetime(2023, 6, 9, 13, 40, tzinfo=ny))  # intraday
    datetime.date(2023, 6, 9)
    """
    sessions, opens, _ = _session_table()
    i = int(np.searchsorted(opens, _epoch_us(instant), side="right")) - 1
    if i < 0 or (i == len(sessions) - 1 and _epoch_us(instant) > opens[-1] + 7 * 86_400_000_000):
        raise ValueError(f"{instant.isoformat()} is outside the exchange calendar ({CALENDAR_START}..{CALENDAR_END})")
    return sessions[i].astype(dt.date)


def is_intraday(instant: dt.datetime) -> bool:
    """Whether ``instant`` falls inside a session, between its open and its close."""
    session = as_of_session(instant)
    return _to_utc(instant) < session_close(session)


def valuation_instant(instant: dt.datetime) -> dt.datetime:
    """Instant the models value a snapshot at: the snapshot itself if intraday, else its session's close."""
    session = as_of_session(instant)
    close = session_close(session)
    return _to_utc(instant) if _to_utc(instant) < close else close


def previous_session(session: dt.date) -> dt.date:
    """The session before ``session`` (which need not itself be a session)."""
    sessions, _, _ = _session_table()
    i = int(np.searchsorted(sessions, np.datetime64(session, "D"), side="left")) - 1
    if i < 0:
        raise ValueError(f"no session before {session} in the calendar")
    return sessions[i].astype(dt.date)


def next_session(session: dt.date) -> dt.date:
    """The first session after ``session``."""
    sessions, _, _ = _session_table()
    i = int(np.searchsorted(sessions, np.datetime64(session, "D"), side="right"))
    if i >= len(sessions):
        raise ValueError(f"no session after {session} in the calendar")
    return sessions[i].astype(dt.date)


def count_sessions(start: dt.date, end: dt.date) -> int:
    """How many sessions ``start <= s <= end`` (``len(sessions_between(...))`` without building the list)."""
    sessions, _, _ = _session_table()
    lo = np.searchsorted(sessions, np.datetime64(start, "D"), side="left")
    hi = np.searchsorted(sessions, np.datetime64(end, "D"), side="right")
    return int(max(0, hi - lo))


def sessions_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """All sessions ``start <= s <= end``."""
    sessions, _, _ = _session_table()
    lo = np.searchsorted(sessions, np.datetime64(start, "D"), side="left")
    hi = np.searchsorted(sessions, np.datetime64(end, "D"), side="right")
    return [d.astype(dt.date) for d in sessions[lo:hi]]


def settlement_style(root: str, underlying: str | None = None) -> str:
    """``"AM"`` or ``"PM"`` for an option root.

    AM-settled roots (SPX, NDX, RUT, VIX monthlies, ...) settle at the opening print of expiration day;
    everything else listed here, and equity/ETF options (root equal to the underlying), at the close.

    Raises
    ------
    UnknownSettlementError
        For an index-style root not in the tables (rather than guess a settlement time).

    >>> settlement_style("SPX"), settlement_style("SPXW"), settlement_style("SPY", "SPY")
    ('AM', 'PM', 'PM')
    """
    r = root.upper().lstrip("^")
    if r in AM_SETTLED_ROOTS:
        return "AM"
    if r in PM_SETTLED_INDEX_ROOTS:
        return "PM"
    if underlying is not None and r.rstrip("0123456789") == underlying.upper().lstrip("^"):
        return "PM"  # equity and ETF options (adjusted roots like SPY1 included)
    raise UnknownSettlementError(f"unknown settlement style for option root {root!r}")


def settlement_instant(expiration: dt.date, style: str) -> dt.datetime:
    """Settlement instant (UTC) of a contract expiring on ``expiration``.

    AM: the open of expiration day (09:30 New York). PM: the close of expiration day, 16:00 New York or
    the early close on half days. If ``expiration`` is not a session (a holiday-shifted listing), the
    regular times on that date are used.
    """
    if style not in ("AM", "PM"):
        raise ValueError(f"settlement style must be 'AM' or 'PM', not {style!r}")
    if is_session(expiration):
        return session_open(expiration) if style == "AM" else session_close(expiration)
    local = REGULAR_OPEN if style == "AM" else REGULAR_CLOSE
    return dt.datetime.combine(expiration, local, NEW_YORK).astimezone(UTC)
