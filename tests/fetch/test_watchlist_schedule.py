"""The watchlist file and the EOD schedule (NYSE holidays and early closes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from gex.calendar import NEW_YORK
from gex_fetch.schedule import next_runs, parse_time
from gex_fetch.watchlist import WatchlistError, fetch_watchlist, load_watchlist, parse_watchlist
from gex_fetch.replay import Reply

from tests.fetch.conftest import CBOE_PATH, REPO, body, cboe_doc

EXAMPLE = REPO / "deploy" / "watchlist.example.toml"


def test_example_watchlist():
    wl = load_watchlist(EXAMPLE)
    assert wl.jobs() == [("cboe", "SPX"), ("cboe", "SPY"), ("cboe", "QQQ")]
    assert wl.time == dt.time(16, 20) and wl.concurrency == 4


@pytest.mark.parametrize("doc, words", [
    ({"watch": [{"source": "tradier", "symbols": ["SPX"], "token": "abc"}]}, "credential"),
    ({"api_key": "x", "watch": []}, "credential"),
    ({"watch": [{"source": "yahoo", "symbols": ["SPX"]}]}, "unknown source"),
    ({"watch": [{"source": "cboe", "symbols": ["../x"]}]}, "not a ticker"),
    ({"watch": [{"source": "cboe", "symbols": "SPX"}]}, "non-empty list"),
    ({"watch": [{"source": "cboe", "symbols": ["SPX"], "token_env": "my token"}]}, "variable NAME"),
    ({"time": "15:00", "watch": [{"source": "cboe", "symbols": ["SPX"]}]}, "before the 16:00"),
    ({"time": "late", "watch": [{"source": "cboe", "symbols": ["SPX"]}]}, "HH:MM"),
    ({}, "no [[watch]]"),
    ({"watch": [{"source": "cboe", "symbols": ["SPX"], "colour": 1}]}, "unknown key"),
])
def test_bad_watchlists_say_what_is_wrong(doc, words):
    with pytest.raises(WatchlistError, match="^w.toml: ") as exc:
        parse_watchlist(doc, "w.toml")
    assert words in str(exc.value)


def test_unreadable_and_invalid_toml(tmp_path):
    with pytest.raises(WatchlistError, match="cannot read"):
        load_watchlist(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[watch]\nsource = 'cboe'\n")
    with pytest.raises(WatchlistError, match="not valid TOML"):
        load_watchlist(bad)


def test_fetch_watchlist_with_base_urls(server, tmp_path):
    server.add(CBOE_PATH.format("_SPX"), Reply(body=body(cboe_doc("SPX", index=True))))
    server.add(CBOE_PATH.format("SPY"), Reply(body=body(cboe_doc("SPY"))))
    server.add(CBOE_PATH.format("QQQ"), Reply(404, b"{}"))
    out = fetch_watchlist(EXAMPLE, tmp_path / "landing", base_urls={"cboe": server.base_url})
    assert [(o.symbol, o.status) for o in out] == [("SPX", "fetched"), ("SPY", "fetched"), ("QQQ", "failed")]
    assert sorted(r.path for r in server.requests) == sorted(CBOE_PATH.format(s) for s in ("_SPX", "SPY", "QQQ"))


def _ny(*a):
    return dt.datetime(*a, tzinfo=NEW_YORK)


def test_schedule_regular_days_weekend_and_dst():
    runs = next_runs("16:20", _ny(2024, 3, 8, 12, 0), 3)  # Friday before the DST change
    assert runs == [_ny(2024, 3, 8, 16, 20), _ny(2024, 3, 11, 16, 20), _ny(2024, 3, 12, 16, 20)]
    assert runs[0].utcoffset() == dt.timedelta(hours=-5) and runs[1].utcoffset() == dt.timedelta(hours=-4)
    assert next_runs("16:20", _ny(2024, 3, 8, 16, 20), 1) == [_ny(2024, 3, 11, 16, 20)]  # strictly after


def test_schedule_holidays_and_early_closes():
    # Thanksgiving 2024-11-28 closed; Friday 29th closes at 13:00; July 3rd 2024 early close, July 4th closed
    assert next_runs("16:20", _ny(2024, 11, 27, 17, 0), 2) == [_ny(2024, 11, 29, 13, 20), _ny(2024, 12, 2, 16, 20)]
    assert next_runs(dt.time(17, 0), _ny(2024, 7, 3, 9, 0), 2) == [_ny(2024, 7, 3, 14, 0), _ny(2024, 7, 5, 17, 0)]
    # Christmas Eve 2024 (13:00 close), Christmas closed
    assert next_runs("16:05", _ny(2024, 12, 24, 0, 0), 2) == [_ny(2024, 12, 24, 13, 5), _ny(2024, 12, 26, 16, 5)]
    # Good Friday 2024-03-29 closed
    assert next_runs("16:20", _ny(2024, 3, 28, 18, 0), 1) == [_ny(2024, 4, 1, 16, 20)]


def test_schedule_refuses_times_before_the_close_and_naive_instants():
    with pytest.raises(ValueError, match="before the 16:00"):
        parse_time("09:30")
    with pytest.raises(ValueError, match="timezone-aware"):
        next_runs("16:20", dt.datetime(2024, 1, 2), 1)
