"""When the end-of-day fetch runs: a New York wall-clock time for a regular 16:00 close, shifted with the
close on early-close days (NYSE calendar, :mod:`gex.calendar`).

``16:20`` means "20 minutes after the close": 16:20 New York on a regular session, 13:20 on a 13:00 early
close (the day after Thanksgiving, Christmas Eve, ...), and no run on holidays or weekends. Pure functions.
"""

from __future__ import annotations

import datetime as dt

from gex import calendar

REGULAR_CLOSE = dt.time(16, 0)


def parse_time(text: str) -> dt.time:
    """``"16:20"`` -> ``time(16, 20)``; ``ValueError`` for anything else or a time before the 16:00 close."""
    try:
        t = dt.time.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"fetch time {text!r} is not HH:MM (New York time)") from None
    if t < REGULAR_CLOSE:
        raise ValueError(f"fetch time {text} is before the 16:00 New York close: the end-of-day fetch runs after it")
    return t.replace(tzinfo=None)


def delay_after_close(at: dt.time) -> dt.timedelta:
    """How long after a regular 16:00 close ``at`` is."""
    return dt.datetime.combine(dt.date(2000, 1, 3), at) - dt.datetime.combine(dt.date(2000, 1, 3), REGULAR_CLOSE)


def run_instant(session: dt.date, at: dt.time) -> dt.datetime:
    """The fetch instant (UTC) of ``session``: its close (early closes included) + :func:`delay_after_close`."""
    return calendar.session_close(session) + delay_after_close(at)


def next_runs(at: dt.time | str, after: dt.datetime, count: int = 5) -> list[dt.datetime]:
    """The next ``count`` fetch instants (timezone-aware, New York) strictly after ``after``.

    >>> import datetime as dt
    >>> ny = calendar.NEW_YORK
    >>> [r.strftime("%a %m-%d %H:%M") for r in next_runs("16:20", dt.datetime(2024, 11, 27, 17, 0, tzinfo=ny), 3)]
    ['Fri 11-29 13:20', 'Mon 12-02 16:20', 'Tue 12-03 16:20']
    """
    at = parse_time(at) if isinstance(at, str) else at
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    day = after.astimezone(calendar.NEW_YORK).date()
    session = day if calendar.is_session(day) else calendar.next_session(day)
    out: list[dt.datetime] = []
    while len(out) < count:
        when = run_instant(session, at)
        if when > after:
            out.append(when.astimezone(calendar.NEW_YORK))
        session = calendar.next_session(session)
    return out


#: How late after its fetch instant a scheduled run still counts as that fetch (a busy scheduler, a queue).
DUE_TOLERANCE = dt.timedelta(hours=2)


def cron_for(at: dt.time | str) -> str:
    """A cron expression (New York time) that fires at every possible fetch instant of ``at``: the regular
    close's time and the same delay after a 13:00 early close, Monday to Friday. :func:`is_due` then tells,
    at each firing, whether it is the session's real fetch (not a holiday, not the other slot).

    >>> cron_for("16:20")
    '20 13,16 * * 1-5'
    """
    at = parse_time(at) if isinstance(at, str) else at
    early = (dt.datetime.combine(dt.date(2000, 1, 3), at) - dt.timedelta(hours=3)).time()
    if early.minute != at.minute:  # pragma: no cover - both come from the same minute
        raise ValueError(f"cannot express {at} in one cron line")
    return f"{at.minute} {early.hour},{at.hour} * * 1-5"


def is_due(at: dt.time | str, now: dt.datetime, tolerance: dt.timedelta = DUE_TOLERANCE) -> dt.date | None:
    """The session whose fetch a run starting at ``now`` is (``now`` at or up to ``tolerance`` after
    :func:`run_instant` of a session), else ``None`` (a holiday, a weekend, the early-close slot of a
    regular day, or the regular slot of an early-close day already fetched).

    >>> import datetime as dt
    >>> ny = calendar.NEW_YORK
    >>> is_due("16:20", dt.datetime(2024, 11, 29, 13, 20, tzinfo=ny)), is_due("16:20", dt.datetime(2024, 11, 29, 16, 20, tzinfo=ny))
    (datetime.date(2024, 11, 29), None)
    >>> is_due("16:20", dt.datetime(2024, 12, 2, 13, 20, tzinfo=ny)), is_due("16:20", dt.datetime(2024, 12, 25, 16, 20, tzinfo=ny))
    (None, None)
    """
    at = parse_time(at) if isinstance(at, str) else at
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    day = now.astimezone(calendar.NEW_YORK).date()
    if not calendar.is_session(day):
        return None
    start = run_instant(day, at)
    return day if start <= now <= start + tolerance else None
