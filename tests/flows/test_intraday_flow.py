"""The intraday flow: a generated day (``gex_market.intraday``) of SPX, SPY and QQQ served by the local replay
server in Cboe's delayed-quotes shape goes through fetch -> ingest -> compute -> publish at each run instant
(injected clock). Every snapshot is kept (one row each in ``main.regime_snapshots``); the daily view shows the
latest intraday snapshot flagged as such, then the end-of-day one. Outside the session's hours the flow
skips and says so; a symbol that fails fails only itself.

By default three intraday cycles and the close run (the flow costs seconds per cycle on 2 shared cores);
``GEX_INTRADAY_FULL_DAY=1`` runs all 78 five-minute cycles of the day (minutes).
"""

from __future__ import annotations

import datetime as dt
import os

import duckdb
import pytest
from gex.calendar import NEW_YORK
from gex_fetch.replay import Reply, ReplayServer
from gex_fetch.schedule import intraday_runs
from gex_fetch.watchlist import parse_watchlist
from gex_market.api_shapes import render_responses

SESSION = dt.date(2026, 11, 30)
UNDERLYINGS = ("SPX", "SPY", "QQQ")
FULL_DAY = os.environ.get("GEX_INTRADAY_FULL_DAY") == "1"


def _watchlist(symbols=UNDERLYINGS):
    return parse_watchlist({"watch": [{"source": "cboe", "symbols": list(symbols)}]})


def _serve(server: ReplayServer, snapshot) -> None:
    for r in render_responses(snapshot, "cboe", base_url=server.base_url):
        server.add(r.path, Reply(body=r.body, content_type=r.content_type))


@pytest.fixture(scope="module")
def day():
    """The generated day of each underlying (78 snapshots; ~1,400 contracts each, to keep the test light)."""
    from gex_market.intraday import generate_day

    return {u: generate_day(underlying=u, session=SESSION, seed=1, contracts=1500) for u in UNDERLYINGS}


def _published(warehouse, sql):
    with duckdb.connect(str(warehouse.with_name("gex.published.duckdb")), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_generated_day_goes_through_the_intraday_flow(prefect_api, tmp_path, day):
    from pipelines.intraday import intraday

    runs = intraday_runs(SESSION)
    assert [s.snapshot_ts for s in day["SPX"].snapshots] == runs  # the generator's instants are the schedule's
    landing, warehouse = tmp_path / "landing", tmp_path / "gex.duckdb"
    pick = range(78) if FULL_DAY else (0, 1, 2, 77)
    with ReplayServer() as server:
        for n, i in enumerate(pick, 1):
            for u in UNDERLYINGS:
                _serve(server, day[u].snapshots[i])
            r = intraday(str(landing), str(warehouse), watchlist=_watchlist(), now=runs[i],
                         base_urls={"cboe": server.base_url})
            assert r.ok and r.skipped is None and r.run_instant == runs[i]
            assert [(f.symbol, f.status) for f in r.fetches] == [(u, "fetched") for u in UNDERLYINGS]
            assert [(o.underlying, o.session, o.status) for o in r.outcomes] == [(u, SESSION, "ok") for u in sorted(UNDERLYINGS)]
            assert [o.spot for o in r.outcomes] == [pytest.approx(day[u].snapshots[i].spot, abs=0.005) for u in sorted(UNDERLYINGS)]
            assert r.exports is None  # Parquet exports: the nightly's (or --parquet)
            assert r.seconds["latency"] > 0
            daily = _published(warehouse, "SELECT underlying, spot, intraday FROM regime_daily WHERE session = "
                                          f"DATE '{SESSION}' AND preset = 'native' ORDER BY underlying")
            # the daily view: the latest intraday snapshot, flagged, until the end-of-day one replaces it
            assert daily == [(u, pytest.approx(day[u].snapshots[i].spot, abs=0.005), i != 77) for u in sorted(UNDERLYINGS)]
            snaps = _published(warehouse, "SELECT underlying, count(*), count(*) FILTER (intraday) FROM "
                                          "regime_snapshots WHERE preset = 'native' GROUP BY ALL ORDER BY 1")
            assert snaps == [(u, n, n - (i == 77)) for u in sorted(UNDERLYINGS)]  # every snapshot kept
    # intraday alerts of the last cycle: the newest snapshot against the one before it, per underlying
    from gex_service import alerts as al

    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert r.alerts == [a.message for a in al.for_snapshots(con, UNDERLYINGS, wall_move_pct=1.0)]
        last_two = {u: con.execute("SELECT spot, gamma_flip FROM mart.regime_daily WHERE underlying = ? AND preset = "
                                   "'native' ORDER BY valuation_ts DESC LIMIT 2", [u]).fetchall()[::-1]
                    for u in UNDERLYINGS}
    crossed = sorted(u for u, ((s0, f0), (s1, f1)) in last_two.items()
                     if None not in (f0, f1) and (s0 - f0) * (s1 - f1) < 0)
    assert sorted(m.split(" ")[0] for m in r.alerts if "crossed the gamma flip" in m) == crossed
    rows = _published(warehouse, "SELECT valuation_ts, spot, oi_note FROM regime_snapshots WHERE underlying = 'SPX' "
                                 "AND preset = 'native' ORDER BY valuation_ts")
    assert [r[0] for r in rows] == [runs[i] for i in pick]
    assert all("start of day" in r[2] for r in rows)
    assert (tmp_path / "exports" / "levels" / "SPX" / "latest.json").is_file()


def test_outside_the_session_the_flow_skips_and_says_so(prefect_api, tmp_path):
    from pipelines.intraday import intraday

    for now in (dt.datetime(2026, 11, 26, 10, 0, tzinfo=NEW_YORK),   # Thanksgiving
                dt.datetime(2026, 11, 27, 13, 5, tzinfo=NEW_YORK),   # after the 13:00 early close
                dt.datetime(2026, 11, 28, 10, 0, tzinfo=NEW_YORK)):  # Saturday
        r = intraday(str(tmp_path / "landing"), str(tmp_path / "gex.duckdb"), watchlist=_watchlist(), now=now)
        assert r.run_instant is None and "not an intraday run instant" in r.skipped and r.fetches == []
    assert not (tmp_path / "gex.duckdb").exists() and not (tmp_path / "landing").exists()


def test_a_failing_symbol_fails_only_itself(prefect_api, tmp_path, day):
    from pipelines.intraday import intraday

    at = intraday_runs(SESSION)[5]
    with ReplayServer() as server:
        _serve(server, day["SPX"].snapshots[5])
        server.add("/api/global/delayed_quotes/options/QQQ.json", Reply(404, b"Not Found"))
        r = intraday(str(tmp_path / "landing"), str(tmp_path / "gex.duckdb"), watchlist=_watchlist(("SPX", "QQQ")),
                     now=at, base_urls={"cboe": server.base_url})
    assert not r.ok and [f.symbol for f in r.failed_fetches] == ["QQQ"]
    assert [(o.underlying, o.status) for o in r.outcomes] == [("SPX", "ok")]


def test_the_gate_instant_is_now_outside_a_deployment():
    from pipelines.intraday import gate_instant

    before = dt.datetime.now(dt.timezone.utc)
    assert before <= gate_instant(None) <= dt.datetime.now(dt.timezone.utc)
    at = dt.datetime(2026, 11, 30, 10, 0, tzinfo=NEW_YORK)
    assert gate_instant(at) == at
    with pytest.raises(ValueError, match="timezone-aware"):
        gate_instant(dt.datetime(2026, 11, 30, 10, 0))
