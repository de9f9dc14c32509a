"""Header timestamps: every form seen in real Cboe files parses; corrupt or impossible ones are rejected."""

from __future__ import annotations

import datetime as dt

import pytest
from gex_sources.header import FORMS, HeaderDateError, parse_header_timestamp

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("text", "utc", "local_date", "form"),
    [
        (
            "February 5 2022, 8:09 PM EST",
            dt.datetime(2022, 2, 6, 1, 9, tzinfo=UTC),
            dt.date(2022, 2, 5),
            "month-day-year",
        ),
        (
            "June 11, 2022, 8:47 PM EDT",
            dt.datetime(2022, 6, 12, 0, 47, tzinfo=UTC),
            dt.date(2022, 6, 11),
            "month-day-year",
        ),
        (
            "December 12, 2022 at 8:30 PM EST",
            dt.datetime(2022, 12, 13, 1, 30, tzinfo=UTC),
            dt.date(2022, 12, 12),
            "month-day-year",
        ),
        (
            "9 June 2023, 10:18 PM EDT",
            dt.datetime(2023, 6, 10, 2, 18, tzinfo=UTC),
            dt.date(2023, 6, 9),
            "day-month-year",
        ),
        (
            "24 September 2023,1:46 PM EDT",
            dt.datetime(2023, 9, 24, 17, 46, tzinfo=UTC),
            dt.date(2023, 9, 24),
            "day-month-year",
        ),
        (
            "26 May 2023, 5:18 PM EDT",
            dt.datetime(2023, 5, 26, 21, 18, tzinfo=UTC),
            dt.date(2023, 5, 26),
            "day-month-year",
        ),
        (
            "12 de enero de 2026, 13:29 GMT-5",
            dt.datetime(2026, 1, 12, 18, 29, tzinfo=UTC),
            dt.date(2026, 1, 12),
            "spanish",
        ),
        ("Jun 22 2020 @ 20:42 ET", dt.datetime(2020, 6, 23, 0, 42, tzinfo=UTC), dt.date(2020, 6, 22), "legacy-dat"),
    ],
)
def test_every_known_form_parses(text: str, utc: dt.datetime, local_date: dt.date, form: str) -> None:
    ts = parse_header_timestamp(text)
    assert ts.instant == utc
    assert ts.local_date == local_date
    assert ts.form == form
    assert ts.note is None


@pytest.mark.parametrize(
    "text",
    [
        '"Date: January 7, 2024 at 10:52 AM EST"',  # quoted, with the Date: prefix, as in the file
        "Date: January 7, 2024 at 10:52 AM EST",
        "  January 7, 2024 at 10:52\u202fAM EST ",  # browsers put a narrow no-break space before AM/PM
        "January 7 2024, 10:52 am EST",
    ],
)
def test_decorations_are_ignored(text: str) -> None:
    assert parse_header_timestamp(text).instant == dt.datetime(2024, 1, 7, 15, 52, tzinfo=UTC)


def test_each_form_example_parses_with_its_own_form() -> None:
    for form in FORMS:
        assert parse_header_timestamp(form.example).form == form.name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4 June 4, 3:15 PM EDT", "no known date form"),  # corrupted: the year is gone; never guess it
        ("Date: 4 June 4, 3:15 PM EDT", "no known date form"),
        ("31 February 2023, 1:00 PM EST", "impossible date"),
        ("February 29, 2023, 1:00 PM EST", "impossible date"),  # not a leap year
        ("June 11, 2022, 13:47 PM EDT", "impossible 12-hour"),
        ("June 11, 2022, 8:61 PM EDT", "impossible time"),
        ("June 11, 2022, 25:10 EDT", "impossible time"),
        ("Foo 11, 2022, 8:47 PM EDT", "unknown month"),
        ("June 11, 2022, 8:47 PM XYZ", "unknown time zone"),
        ("June 11, 1822, 8:47 PM EDT", "implausible year"),
        ("12 de enero de 2026, 13:29 GMT-25", "impossible UTC offset"),
        ("June 11, 2022", "no known date form"),  # no time: not a snapshot instant
        ("June 11, 2022, 8:47 PM", "unknown time zone"),  # no zone: the instant would be a guess
        ("garbage", "no known date form"),
        ("", "no known date form"),
        ("\x00\x01\x02", "no known date form"),
    ],
)
def test_corrupt_and_impossible_dates_are_rejected(text: str, message: str) -> None:
    with pytest.raises(HeaderDateError, match=message):
        parse_header_timestamp(text)


def test_header_date_error_is_a_value_error() -> None:
    assert issubclass(HeaderDateError, ValueError)


def test_new_york_labels_follow_daylight_saving_and_mislabels_are_noted() -> None:
    summer = parse_header_timestamp("June 11, 2022, 8:47 PM EST")  # wrong label: New York was on EDT
    assert summer.instant == dt.datetime(2022, 6, 12, 0, 47, tzinfo=UTC)  # read as New York wall clock
    assert summer.note is not None and "EST" in summer.note
    winter = parse_header_timestamp("January 6, 2025, 9:26 PM ET")
    assert winter.instant == dt.datetime(2025, 1, 7, 2, 26, tzinfo=UTC)
    assert winter.note is None


def test_repeated_autumn_hour_is_resolved_by_the_label() -> None:
    # compare in UTC: Python subtracts same-zone datetimes by wall clock, ignoring fold
    edt = parse_header_timestamp("November 5, 2023, 1:30 AM EDT").instant.astimezone(UTC)
    est = parse_header_timestamp("November 5, 2023, 1:30 AM EST").instant.astimezone(UTC)
    assert est - edt == dt.timedelta(hours=1)
    assert edt == dt.datetime(2023, 11, 5, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("12 de enero de 2026, 1:29 p. m. GMT-5", dt.datetime(2026, 1, 12, 18, 29, tzinfo=UTC)),
        ("3 de septiembre de 2024, 09:05 UTC", dt.datetime(2024, 9, 3, 9, 5, tzinfo=UTC)),
        ("June 11, 2022 at 7:47 PM CDT", dt.datetime(2022, 6, 12, 0, 47, tzinfo=UTC)),
        ("June 11, 2022, 8:47 PM GMT+01:00", dt.datetime(2022, 6, 11, 19, 47, tzinfo=UTC)),
    ],
)
def test_other_zones_and_locales(text: str, utc: dt.datetime) -> None:
    assert parse_header_timestamp(text).instant == utc
