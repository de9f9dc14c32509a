"""The intraday schedule: every N minutes of regular trading hours on the NYSE calendar (13:00 early closes,
holidays, weekends, daylight-saving changes), and the cron line `gex serve` registers for it."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from gex.calendar import NEW_YORK, UTC
from gex_fetch.schedule import (
    check_every,
    intraday_cron,
    intraday_runs,
    is_intraday_due,
    next_intraday_runs,
)


def ny(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NEW_YORK)


def hhmm(instants: list[dt.datetime]) -> list[str]:
    return [i.astimezone(NEW_YORK).strftime("%H:%M") for i in instants]


def test_a_regular_day_has_78_five_minute_runs_from_0935_to_the_close():
    runs = intraday_runs(dt.date(2026, 11, 30))
    assert len(runs) == 78
    assert hhmm(runs)[:3] == ["09:35", "09:40", "09:45"] and hhmm(runs)[-2:] == ["15:55", "16:00"]
    assert all(r.tzinfo is not None and r.utcoffset() == dt.timedelta(0) for r in runs)
    assert all(b - a == dt.timedelta(minutes=5) for a, b in zip(runs, runs[1:]))
    # other intervals: the same rule (open + kN, the close last)
    assert len(intraday_runs(dt.date(2026, 11, 30), 15)) == 26
    assert hhmm(intraday_runs(dt.date(2026, 11, 30), 60)) == ["10:30", "11:30", "12:30", "13:30", "14:30", "15:30", "16:00"]


def test_an_early_close_ends_at_1300_and_a_holiday_or_weekend_has_none():
    early = intraday_runs(dt.date(2026, 11, 27))  # the day after Thanksgiving
    assert len(early) == 42 and hhmm(early)[-1] == "13:00"
    assert intraday_runs(dt.date(2026, 11, 26)) == []  # Thanksgiving
    assert intraday_runs(dt.date(2026, 11, 28)) == [] and intraday_runs(dt.date(2026, 11, 29)) == []  # weekend


@pytest.mark.parametrize("session, first_utc", [
    (dt.date(2026, 3, 6), "14:35"),   # Friday before the spring change: EST, UTC-5
    (dt.date(2026, 3, 9), "13:35"),   # Monday after it: EDT, UTC-4
    (dt.date(2026, 10, 30), "13:35"),  # Friday before the autumn change: EDT
    (dt.date(2026, 11, 2), "14:35"),  # Monday after it: EST
])
def test_dst_changes_keep_new_york_wall_clock(session, first_utc):
    runs = intraday_runs(session)
    assert len(runs) == 78 and hhmm(runs)[0] == "09:35" and hhmm(runs)[-1] == "16:00"
    assert runs[0].astimezone(UTC).strftime("%H:%M") == first_utc


def test_the_1600_boundary_and_the_tolerance():
    close = ny(2026, 11, 30, 16, 0)
    assert is_intraday_due(close) == close.astimezone(UTC)
    assert is_intraday_due(close + dt.timedelta(seconds=90)) == close.astimezone(UTC)  # late by up to 90 s
    assert is_intraday_due(close + dt.timedelta(seconds=91)) is None
    assert is_intraday_due(ny(2026, 11, 30, 16, 5)) is None  # the cron's 16:05 firing
    assert is_intraday_due(ny(2026, 11, 30, 15, 59, 59)) is None  # 4m59s after 15:55, 1 s before 16:00
    assert is_intraday_due(ny(2026, 11, 30, 9, 30)) is None  # the open itself is no snapshot
    assert is_intraday_due(ny(2026, 11, 30, 9, 35)) == ny(2026, 11, 30, 9, 35).astimezone(UTC)
    assert is_intraday_due(ny(2026, 11, 30, 9, 36), tolerance=dt.timedelta(seconds=30)) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        is_intraday_due(dt.datetime(2026, 11, 30, 10, 0))
    with pytest.raises(ValueError, match="less than the interval"):
        is_intraday_due(close, tolerance=dt.timedelta(minutes=5))


def test_due_on_early_close_holiday_and_weekend():
    assert is_intraday_due(ny(2026, 11, 27, 13, 0)) == ny(2026, 11, 27, 13, 0).astimezone(UTC)
    assert is_intraday_due(ny(2026, 11, 27, 13, 5)) is None and is_intraday_due(ny(2026, 11, 27, 15, 0)) is None
    assert is_intraday_due(ny(2026, 11, 26, 10, 0)) is None  # Thanksgiving
    assert is_intraday_due(ny(2026, 11, 28, 10, 0)) is None  # Saturday


def test_next_runs_cross_the_early_close_holiday_and_weekend():
    runs = next_intraday_runs(ny(2026, 11, 25, 15, 52), 5, 5)
    assert [r.strftime("%a %d %H:%M") for r in runs] == [
        "Wed 25 15:55", "Wed 25 16:00", "Fri 27 09:35", "Fri 27 09:40", "Fri 27 09:45"]
    assert next_intraday_runs(ny(2026, 11, 27, 13, 0), 5, 1)[0] == ny(2026, 11, 30, 9, 35)  # strictly after
    assert len(next_intraday_runs(ny(2026, 11, 30, 0, 0), 5, 200)) == 200


@pytest.mark.parametrize("every", [0, 7, 90, -5, True, 5.0])
def test_bad_intervals_are_refused_with_the_allowed_ones(every):
    with pytest.raises(ValueError, match="divisor of 60"):
        check_every(every)


@pytest.mark.parametrize("every", [1, 4, 5, 12, 15, 20, 60])
def test_the_cron_fires_at_every_run_instant_of_a_season(every):
    """Prefect's own server-side cron schedule (the scheduler's code) fires at every run instant from before
    the spring DST change to after the Thanksgiving early close, and each instant it fires at is due."""
    from prefect.server.schemas.schedules import CronSchedule

    cron = intraday_cron(every)
    start, end = dt.date(2026, 3, 5), dt.date(2026, 3, 10)
    expected = [r for d in (start + dt.timedelta(n) for n in range((end - start).days + 1)) for r in intraday_runs(d, every)]
    expected += [r for d in (dt.date(2026, 11, 25), dt.date(2026, 11, 26), dt.date(2026, 11, 27)) for r in intraday_runs(d, every)]
    fired: set[dt.datetime] = set()
    days = [dt.date(2026, 3, d) for d in range(5, 11)] + [dt.date(2026, 11, d) for d in (25, 26, 27)]
    for lo, hi in ((ny(d.year, d.month, d.day, 0, 0), ny(d.year, d.month, d.day, 23, 59)) for d in days):
        # one day at a time: Prefect's get_dates gives at most 1,000 dates per call
        dates = asyncio.run(CronSchedule(cron=cron, timezone="America/New_York").get_dates(n=10_000, start=lo, end=hi))
        fired |= {dt.datetime.fromtimestamp(d.timestamp(), tz=UTC) for d in dates}
    assert set(expected) <= fired
    due = sorted(f for f in fired if is_intraday_due(f, every) is not None)
    assert due == sorted(expected)  # the gate keeps exactly the run instants
