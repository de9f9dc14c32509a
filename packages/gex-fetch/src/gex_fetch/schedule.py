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
