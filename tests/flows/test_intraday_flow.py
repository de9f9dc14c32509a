"""The intraday flow: a generated day of snapshots for three underlyings served by the local replay server (Cboe's
shape) goes through fetch -> ingest -> compute -> publish at each run instant (injected clock); outside the
session's hours the flow skips and says so; a symbol that fails fails only itself."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from gex.calendar import NEW_YORK
from gex_fetch.replay import Reply
from gex_fetch.schedule import intraday_runs
from gex_fetch.watchlist import parse_watchlist

from tests.flows.intraday_day import serve_snapshot, snapshot_at, spot_path

SESSION = dt.date(2026, 11, 30)
#: SPX, SPY and QQQ once ``gex_market.intraday`` (which generates ETF chains) merges; the daily generator
#: used meanwhile knows the three index chains only.
UNDERLYINGS = ("SPX", "NDX", "RUT")
#: Snapshots run through the flow: the first two run instants and the close (78 x 3 takes minutes).
PICK = (0, 1, 77)


def _watchlist(symbols=UNDERLYINGS):
    return parse_watchlist({"watch": [{"source": "cboe", "symbols": list(symbols)}]})


def test_a_generated_day_goes_through_the_intraday_flow(prefect_api, tmp_path):
    from gex_fetch.replay import ReplayServer

    from pipelines.intraday import intraday

    runs = intraday_runs(SESSION)
    assert len(runs) == 78
    paths = {u: spot_path(u, runs, seed=1) for u in UNDERLYINGS}
    landing, warehouse = tmp_path / "landing", tmp_path / "gex.duckdb"
    results = []
    with ReplayServer() as server:
        for i in PICK:
            for u in UNDERLYINGS:
                serve_snapshot(server, snapshot_at(u, SESSION, runs[i], paths[u][i], seed=1))
            results.append(intraday(str(landing), str(warehouse), watchlist=_watchlist(), now=runs[i],
                                    base_urls={"cboe": server.base_url}))
    for i, r in zip(PICK, results):
        assert r.ok and r.skipped is None and r.run_instant == runs[i]
        assert [(f.symbol, f.status) for f in r.fetches] == [(u, "fetched") for u in UNDERLYINGS]
        assert [(o.underlying, o.session, o.status) for o in r.outcomes] == [(u, SESSION, "ok") for u in UNDERLYINGS]
        assert [round(o.spot, 2) for o in r.outcomes] == [round(paths[u][i], 2) for u in UNDERLYINGS]
        assert r.exports is not None and set(r.exports.sessions) == {(u, SESSION) for u in UNDERLYINGS}
        assert r.seconds["latency"] > 0
    published = warehouse.with_name("gex.published.duckdb")
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute("SELECT underlying, session, spot FROM regime_daily WHERE preset = 'native' "
                           "ORDER BY underlying").fetchall()
    # the daily view shows the newest snapshot of the session (the close's, here)
    assert rows == [(u, SESSION, pytest.approx(paths[u][77], abs=0.01)) for u in sorted(UNDERLYINGS)]
    levels = tmp_path / "exports" / "levels" / "SPX" / "latest.json"
    assert levels.is_file()


def test_outside_the_session_the_flow_skips_and_says_so(prefect_api, tmp_path):
    from pipelines.intraday import intraday

    for now in (dt.datetime(2026, 11, 26, 10, 0, tzinfo=NEW_YORK),   # Thanksgiving
                dt.datetime(2026, 11, 27, 13, 5, tzinfo=NEW_YORK),   # after the 13:00 early close
                dt.datetime(2026, 11, 28, 10, 0, tzinfo=NEW_YORK)):  # Saturday
        r = intraday(str(tmp_path / "landing"), str(tmp_path / "gex.duckdb"), watchlist=_watchlist(), now=now)
        assert r.run_instant is None and "not an intraday run instant" in r.skipped and r.fetches == []
    assert not (tmp_path / "gex.duckdb").exists() and not (tmp_path / "landing").exists()


def test_a_failing_symbol_fails_only_itself(prefect_api, tmp_path):
    from gex_fetch.replay import ReplayServer

    from pipelines.intraday import intraday

    at = intraday_runs(SESSION)[5]
    with ReplayServer() as server:
        serve_snapshot(server, snapshot_at("SPX", SESSION, at, 5003.0, seed=2))
        server.add("/api/global/delayed_quotes/options/QQQ.json", Reply(404, b"Not Found"))
        r = intraday(str(tmp_path / "landing"), str(tmp_path / "gex.duckdb"), watchlist=_watchlist(("SPX", "QQQ")),
                     now=at, base_urls={"cboe": server.base_url})
    assert not r.ok and [f.symbol for f in r.failed_fetches] == ["QQQ"]
    assert [(o.underlying, o.status) for o in r.outcomes] == [("SPX", "ok")]
