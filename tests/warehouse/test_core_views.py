"""The as-of rules of the core views, on feed rows written straight into raw tables."""

from __future__ import annotations

import datetime as dt

import pytest
from gex.calendar import previous_session
from gex_warehouse.load import ingest_file

from tests.warehouse.helpers import SESSION, chain_csv, rows

PREV = previous_session(SESSION)  # 2024-01-04
PREV2 = previous_session(PREV)  # 2024-01-03
NEXT = dt.date(2024, 1, 8)


@pytest.fixture
def loaded(con, tmp_path):
    result = ingest_file(con, chain_csv(tmp_path / "spx.csv", SESSION, seed=41, max_contracts=200))
    assert result.status == "loaded"
    contract = rows(
        con,
        "SELECT underlying, root, expiration, strike, \"right\", open_interest, oi_date FROM raw.chain_quotes "
        "WHERE expiration > session ORDER BY source_line, \"right\" LIMIT 1",
    )[0]
    return con, contract


def _oi(con, contract, publish_date, oi_date, value):
    underlying, root, expiration, strike, right, _, _ = contract
    con.execute(
        "INSERT INTO raw.open_interest VALUES ('feed', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        [publish_date, oi_date, underlying, f"{root:<6}{expiration:%y%m%d}{right}{round(strike * 1000):08d}", root,
         expiration, strike, right, value],
    )


def _joined(con, contract):
    underlying, root, expiration, strike, right, _, _ = contract
    return rows(
        con,
        "SELECT chain_open_interest, chain_oi_date, feed_open_interest, feed_oi_date, feed_publish_date "
        "FROM core.contracts WHERE underlying = ? AND root = ? AND expiration = ? AND strike = ? AND \"right\" = ?",
        [underlying, root, expiration, strike, right],
    )


def test_chain_oi_reflects_the_previous_close(loaded):
    con, contract = loaded
    assert contract[6] == PREV  # Cboe snapshots print OCC's start-of-day figure: the close of t-1
    assert _joined(con, contract) == [(contract[5], PREV, None, None, None)]  # no feed loaded yet


def test_feed_oi_published_that_morning_is_joined_with_both_dates(loaded):
    con, contract = loaded
    _oi(con, contract, PREV, PREV2, 111)  # yesterday's publication
    _oi(con, contract, SESSION, PREV, 222)  # published on the session's morning: the close of t-1
    _oi(con, contract, NEXT, SESSION, 333)  # published after the session: never used for it (no look-ahead)
    assert _joined(con, contract) == [(contract[5], PREV, 222, PREV, SESSION)]


def test_a_stale_feed_shows_its_older_date(loaded):
    con, contract = loaded
    _oi(con, contract, PREV, PREV2, 111)
    assert _joined(con, contract) == [(contract[5], PREV, 111, PREV2, PREV)]


def test_rates_curve_as_of_the_session_else_the_configurable_fallback(loaded):
    con, _ = loaded
    assert rows(con, "SELECT session, rates_date, tenor_days, rate, is_fallback FROM core.rates") == [
        (SESSION, None, None, 0.0, True)
    ]
    con.execute("INSERT INTO raw.rates VALUES ('r', 'test', ?, 30, 0.052, 1), ('r', 'test', ?, 91, 0.053, 2)", [PREV, PREV])
    con.execute("INSERT INTO raw.rates VALUES ('r', 'test', ?, 30, 0.099, 3)", [NEXT])  # after the session: unused
    assert rows(con, "SELECT rates_date, tenor_days, rate, is_fallback FROM core.rates ORDER BY tenor_days") == [
        (PREV, 30, 0.052, False),
        (PREV, 91, 0.053, False),
    ]
    con.execute("UPDATE core.settings SET value = 0 WHERE name = 'rate_max_age_days'")  # yesterday is now too old
    con.execute("UPDATE core.settings SET value = 0.045 WHERE name = 'fallback_rate'")
    assert rows(con, "SELECT rates_date, rate, is_fallback FROM core.rates") == [(None, 0.045, True)]
