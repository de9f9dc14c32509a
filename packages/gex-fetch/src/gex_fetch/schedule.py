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


# ---------------------------------------------------------------------------------------------------------
# intraday: every N minutes of a session's regular trading hours

#: Default minutes between intraday snapshots (78 per regular 6.5-hour session).
DEFAULT_EVERY_MINUTES = 5
#: Intervals allowed (minutes): divisors of 60, so every run instant falls on the same minutes of every
#: hour and one cron line in New York time covers them all (with 09:30 opens, the 13:00/16:00 closes too).
ALLOWED_EVERY_MINUTES = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)


def check_every(every: int) -> dt.timedelta:
    """``every`` (minutes) as a timedelta; ``ValueError`` unless it is one of :data:`ALLOWED_EVERY_MINUTES`."""
    if isinstance(every, bool) or not isinstance(every, int) or every not in ALLOWED_EVERY_MINUTES:
        raise ValueError(f"intraday interval {every!r} minutes: choose one of "
                         f"{', '.join(map(str, ALLOWED_EVERY_MINUTES))} (a divisor of 60)")
    return dt.timedelta(minutes=every)


def intraday_runs(session: dt.date, every: int = DEFAULT_EVERY_MINUTES) -> list[dt.datetime]:
    """The intraday run instants (UTC) of ``session``: open + N, open + 2N, ..., and the close itself (early
    closes included); empty when ``session`` is not an NYSE session (holiday, weekend).

    Opens and closes are the exchange calendar's UTC instants, so daylight-saving changes (which happen on a
    Sunday at 02:00) shift the UTC times with the New York wall clock and never split a session.

    >>> import datetime as dt
    >>> runs = intraday_runs(dt.date(2026, 11, 27))  # the day after Thanksgiving: 13:00 close
    >>> len(runs), runs[0].astimezone(calendar.NEW_YORK).strftime("%H:%M"), runs[-1].astimezone(calendar.NEW_YORK).strftime("%H:%M")
    (42, '09:35', '13:00')
    >>> len(intraday_runs(dt.date(2026, 11, 30))), intraday_runs(dt.date(2026, 11, 26))
    (78, [])
    """
    step = check_every(every)
    if not calendar.is_session(session):
        return []
    open_, close = calendar.session_open(session), calendar.session_close(session)
    out: list[dt.datetime] = []
    when = open_ + step
    while when < close:
        out.append(when)
        when += step
    out.append(close)  # the close is always a run (it falls on the grid for every allowed interval anyway)
    return out


def next_intraday_runs(after: dt.datetime, every: int = DEFAULT_EVERY_MINUTES, count: int = 5) -> list[dt.datetime]:
    """The next ``count`` intraday run instants (timezone-aware, New York) strictly after ``after``.

    >>> import datetime as dt
    >>> ny = calendar.NEW_YORK
    >>> [r.strftime("%a %m-%d %H:%M") for r in next_intraday_runs(dt.datetime(2026, 11, 27, 12, 52, tzinfo=ny), 5, 3)]
    ['Fri 11-27 12:55', 'Fri 11-27 13:00', 'Mon 11-30 09:35']
    """
    check_every(every)
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if count < 0:
        raise ValueError("count cannot be negative")
    day = after.astimezone(calendar.NEW_YORK).date()
    session = day if calendar.is_session(day) else calendar.next_session(day)
    out: list[dt.datetime] = []
    while len(out) < count:
        out += [r.astimezone(calendar.NEW_YORK) for r in intraday_runs(session, every) if r > after][: count - len(out)]
        session = calendar.next_session(session)
    return out


#: Longest default lateness of an intraday firing (the flow gates on the run's *scheduled* instant when
#: Prefect gives one, so only the scheduler's own jitter counts).
MAX_INTRADAY_TOLERANCE = dt.timedelta(seconds=90)


def default_intraday_tolerance(every: int = DEFAULT_EVERY_MINUTES) -> dt.timedelta:
    """How late a firing may start and still be its run instant's snapshot: half the interval, at most
    :data:`MAX_INTRADAY_TOLERANCE`. Below half the interval a late firing is never taken for the next
    instant; below two minutes the cron's extra firings (16:05, 13:05 on an early close, 09:30, and the
    minute-0 firings of intervals that do not divide 30) are never due."""
    return min(check_every(every) / 2, MAX_INTRADAY_TOLERANCE)


def is_intraday_due(now: dt.datetime, every: int = DEFAULT_EVERY_MINUTES,
                    tolerance: dt.timedelta | None = None) -> dt.datetime | None:
    """The intraday run instant (UTC) a run starting at ``now`` stands for (``now`` at or up to ``tolerance``
    after it; default :func:`default_intraday_tolerance`), else ``None``: before the first run instant, after
    the close (early closes included), on holidays and weekends.

    >>> import datetime as dt
    >>> ny = calendar.NEW_YORK
    >>> is_intraday_due(dt.datetime(2026, 11, 27, 13, 1, 20, tzinfo=ny)).astimezone(ny).strftime("%H:%M")
    '13:00'
    >>> is_intraday_due(dt.datetime(2026, 11, 27, 13, 5, tzinfo=ny)), is_intraday_due(dt.datetime(2026, 11, 26, 10, 0, tzinfo=ny))
    (None, None)
    """
    step = check_every(every)
    tol = default_intraday_tolerance(every) if tolerance is None else tolerance
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if tol < dt.timedelta(0) or tol >= step:
        raise ValueError(f"tolerance must be at least 0 and less than the interval ({every} min)")
    day = now.astimezone(calendar.NEW_YORK).date()
    if not calendar.is_session(day):
        return None
    utc = now.astimezone(dt.timezone.utc)
    past = [r for r in intraday_runs(day, every) if r <= utc]
    return past[-1] if past and utc - past[-1] <= tol else None


def intraday_cron(every: int = DEFAULT_EVERY_MINUTES) -> str:
    """A cron expression (New York time, Monday to Friday) firing at least at every intraday run instant of
    every session (regular days and 13:00 early closes); :func:`is_intraday_due` gates the extra firings.

    >>> intraday_cron(5), intraday_cron(20), intraday_cron(60)
    ('*/5 9-16 * * 1-5', '0,10,30,50 9-16 * * 1-5', '0,30 10-16 * * 1-5')
    """
    check_every(every)
    # a regular and an early-close session cover every wall-clock minute and hour a run instant can have
    instants = intraday_runs(dt.date(2026, 11, 30), every) + intraday_runs(dt.date(2026, 11, 27), every)
    local = [r.astimezone(calendar.NEW_YORK) for r in instants]
    minutes = sorted({r.minute for r in local})
    hours = sorted({r.hour for r in local})
    minute = f"*/{every}" if minutes == list(range(0, 60, every)) else ",".join(map(str, minutes))
    if hours != list(range(hours[0], hours[-1] + 1)):  # pragma: no cover - sessions are contiguous hours
        raise ValueError(f"cannot express the hours {hours} as one range")
    return f"{minute} {hours[0]}-{hours[-1]} * * 1-5"
