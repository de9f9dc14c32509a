import datetime as dt

import pytest

from gex import calendar as cal

NY = cal.NEW_YORK


@pytest.mark.parametrize(
    ("instant", "session"),
    [
        (dt.datetime(2024, 1, 7, 10, 52, tzinfo=NY), dt.date(2024, 1, 5)),  # Sunday -> Friday
        (dt.datetime(2022, 2, 5, 20, 9, tzinfo=NY), dt.date(2022, 2, 4)),  # Saturday evening
        (dt.datetime(2022, 12, 12, 20, 30, tzinfo=NY), dt.date(2022, 12, 12)),  # evening, same day
        (dt.datetime(2020, 7, 4, 13, 52, tzinfo=NY), dt.date(2020, 7, 2)),  # Fri 3 July 2020 holiday
        (dt.datetime(2023, 6, 9, 13, 40, tzinfo=NY), dt.date(2023, 6, 9)),  # intraday
        (dt.datetime(2024, 1, 8, 9, 29, tzinfo=NY), dt.date(2024, 1, 5)),  # before Monday's open
        (dt.datetime(2024, 1, 8, 9, 30, tzinfo=NY), dt.date(2024, 1, 8)),  # at the open
        (dt.datetime(2025, 6, 8, 12, 49, 38, tzinfo=dt.timezone.utc), dt.date(2025, 6, 6)),  # UTC Sunday
    ],
)
def test_as_of_session(instant, session):
    assert cal.as_of_session(instant) == session


def test_naive_datetime_is_rejected():
    with pytest.raises(ValueError, match="naive"):
        cal.as_of_session(dt.datetime(2024, 1, 5, 12, 0))


def test_early_close_and_settlement_instants():
    # Day after Thanksgiving 2023 closed at 13:00 New York: PM settlement is the early close.
    assert cal.session_close(dt.date(2023, 11, 24)) == dt.datetime(2023, 11, 24, 13, 0, tzinfo=NY)
    assert cal.settlement_instant(dt.date(2023, 11, 24), "PM") == dt.datetime(2023, 11, 24, 13, 0, tzinfo=NY)
    # AM-settled monthly: the open of expiration day (EST and EDT both handled).
    assert cal.settlement_instant(dt.date(2024, 1, 19), "AM") == dt.datetime(2024, 1, 19, 9, 30, tzinfo=NY)
    assert cal.settlement_instant(dt.date(2023, 8, 18), "AM") == dt.datetime(2023, 8, 18, 9, 30, tzinfo=NY)
    assert cal.settlement_instant(dt.date(2023, 8, 18), "PM") == dt.datetime(2023, 8, 18, 16, 0, tzinfo=NY)


def test_valuation_instant_is_close_for_eod_and_snapshot_for_intraday():
    eod = dt.datetime(2024, 1, 7, 10, 52, tzinfo=NY)
    assert cal.valuation_instant(eod) == dt.datetime(2024, 1, 5, 16, 0, tzinfo=NY)
    intraday = dt.datetime(2023, 6, 9, 13, 40, tzinfo=NY)
    assert cal.valuation_instant(intraday) == intraday
    assert cal.is_intraday(intraday) and not cal.is_intraday(eod)


def test_sessions_and_neighbours():
    assert cal.previous_session(dt.date(2020, 7, 6)) == dt.date(2020, 7, 2)
    assert cal.next_session(dt.date(2020, 7, 2)) == dt.date(2020, 7, 6)
    assert not cal.is_session(dt.date(2020, 7, 3)) and cal.is_session(dt.date(2020, 7, 2))
    assert len(cal.sessions_between(dt.date(2024, 1, 1), dt.date(2024, 12, 31))) == 252


@pytest.mark.parametrize(("root", "underlying", "style"), [
    ("SPX", "SPX", "AM"), ("SPXW", "SPX", "PM"), ("NDX", "NDX", "AM"), ("NDXP", "NDX", "PM"),
    ("RUT", "RUT", "AM"), ("RUTW", "RUT", "PM"), ("VIX", "VIX", "AM"), ("SPY", "SPY", "PM"), ("SPY1", "SPY", "PM"),
])
def test_settlement_style(root, underlying, style):
    assert cal.settlement_style(root, underlying) == style


def test_unknown_index_root_is_an_error_not_a_guess():
    with pytest.raises(cal.UnknownSettlementError):
        cal.settlement_style("ZZZW", "SPX")

