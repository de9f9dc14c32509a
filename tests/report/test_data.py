"""gex_report.data: what the report reads from the published views, defaults, and the errors people see."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from gex_warehouse.connect import connect

from gex_report import data
from tests.report.conftest import SESSIONS


@pytest.fixture
def con(report_warehouse):
    connection = data.open_read_only(report_warehouse)
    yield connection
    connection.close()


def sessions_of(con, underlying="SPX") -> list[dt.date]:
    return [r[0] for r in con.execute("SELECT session FROM main.regime_daily WHERE underlying = ? ORDER BY session",
                                      [underlying]).fetchall()]


def test_defaults_are_the_first_underlying_and_its_latest_session(con):
    loaded = data.load(con)
    sessions = sessions_of(con)
    assert len(sessions) == SESSIONS
    assert (loaded.underlying, loaded.session) == ("SPX", sessions[-1])
    assert loaded.sessions == tuple(sessions) and loaded.underlyings == ("SPX",)
    row = con.execute("SELECT spot, total_gex_usd_per_1pct, regime FROM main.regime_daily WHERE underlying = 'SPX' "
                      "AND session = ?", [sessions[-1]]).fetchall()[0]
    assert (loaded.day["spot"], loaded.day["total_gex_usd_per_1pct"], loaded.day["regime"]) == row


def test_strikes_are_the_views_rows_within_ten_percent_of_spot(con):
    loaded = data.load(con)
    spot = float(loaded.day["spot"])
    s = loaded.strikes
    assert s.height > 10
    assert s["strike"].is_sorted() and s["strike"].min() >= 0.9 * spot and s["strike"].max() <= 1.1 * spot
    # an independent query of the same window: row count and net total agree
    count, net = con.execute(
        "SELECT count(*), sum(net_gex_usd_per_1pct) FROM main.gex_by_strike WHERE underlying = 'SPX' AND session = ? "
        "AND abs(strike / ? - 1) <= 0.1", [loaded.session, spot]).fetchall()[0]
    assert s.height == count
    assert s["net_gex_usd_per_1pct"].sum() == pytest.approx(net, rel=1e-12)
    assert (s["call_gex_usd_per_1pct"] + s["put_gex_usd_per_1pct"] - s["net_gex_usd_per_1pct"]).abs().max() < 1e-3
    assert (s["call_gex_usd_per_1pct"] >= 0).all() and (s["put_gex_usd_per_1pct"] <= 0).all()  # classic dealer signs


def test_expiries_add_up_to_the_strikes(con):
    loaded = data.load(con)
    e = loaded.expiries
    assert e.height > 5 and e["expiration"].is_sorted() and e["expiration"].min() >= loaded.session
    assert set(e["settlement"].to_list()) <= {"AM", "PM"}
    # two published views of the same session, aggregated two ways: the net totals agree
    by_strike = con.execute("SELECT sum(net_gex_usd_per_1pct) FROM main.gex_by_strike WHERE underlying = 'SPX' AND session = ?",
                            [loaded.session]).fetchall()[0][0]
    assert e["net_gex_usd_per_1pct"].sum() == pytest.approx(by_strike, rel=1e-9)


def test_profile_crossings_history_and_vol_belong_to_the_session(con):
    sessions = sessions_of(con)
    day = sessions[10]
    loaded = data.load(con, "spx", day, history_sessions=5)
    assert loaded.session == day and loaded.underlying == "SPX"
    assert loaded.profile.height > 50 and loaded.profile["spot_level"].is_sorted()
    flips = loaded.crossings.filter(loaded.crossings["is_flip"])
    assert flips.height == (0 if loaded.day["gamma_flip"] is None else 1)
    if flips.height:
        assert flips["crossing"][0] == pytest.approx(loaded.day["gamma_flip"])
    assert loaded.history["session"].to_list() == sessions[6:11]  # the 5 sessions ending at `day`
    assert set(loaded.vol["session"].to_list()) <= set(sessions[6:11])
    assert loaded.vol.height == 5
    assert loaded.hedge is None or "session" not in loaded.hedge.columns


def test_the_latest_session_has_a_full_vol_context(con):
    loaded = data.load(con)
    last = loaded.vol.row(-1, named=True)
    assert last["session"] == loaded.session
    for column in ("rv_5d", "rv_10d", "rv_21d", "atm_iv_30d"):
        assert last[column] is not None and 0.01 < last[column] < 2.0, column  # decimals per year


def test_unknown_underlying_lists_what_exists(con):
    with pytest.raises(data.ReportInputError, match=r"no computed session of underlying 'NDX'; the warehouse has SPX"):
        data.load(con, "NDX")


def test_unknown_session_says_the_range_and_the_neighbours(con):
    sessions = sessions_of(con)
    weekend = next(sessions[i] + dt.timedelta(days=1) for i in range(len(sessions) - 1)
                   if sessions[i + 1] - sessions[i] > dt.timedelta(days=1))
    with pytest.raises(data.ReportInputError) as info:
        data.load(con, "SPX", weekend)
    message = str(info.value)
    assert f"no computed session {weekend} of SPX; it has {SESSIONS} sessions from {sessions[0]} to {sessions[-1]}" in message
    assert "previous" in message and "next" in message


def test_user_values_are_bound_not_spliced_into_sql(con):
    with pytest.raises(data.ReportInputError, match="no computed session of underlying"):
        data.load(con, "SPX' OR '1'='1")


def test_the_connection_is_read_only(con):
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("CREATE TABLE main.scratch (x INTEGER)")


def test_an_empty_warehouse_says_to_compute_first(tmp_path):
    path = tmp_path / "empty.duckdb"
    connect(path).close()  # created and migrated: the views exist, no row
    con = data.open_read_only(path)
    try:
        with pytest.raises(data.ReportInputError, match=r"no computed session: run `gex ingest` then `gex compute --all`"):
            data.load(con)
    finally:
        con.close()


def test_a_warehouse_without_the_published_views_says_how_to_get_them(tmp_path):
    path = tmp_path / "old.duckdb"
    duckdb.connect(str(path)).close()
    con = data.open_read_only(path)
    try:
        with pytest.raises(data.ReportInputError, match=r"no published views main.regime_daily, .*gex compute"):
            data.load(con)
    finally:
        con.close()


def test_history_sessions_must_be_positive(con):
    with pytest.raises(ValueError, match="at least 1"):
        data.load(con, history_sessions=0)


def test_several_underlyings(warehouse_copy, tmp_path):
    from gex.conventions import NATIVE
    from gex_market import generate_market
    from gex_warehouse import compute as c
    from gex_warehouse.load import expand_paths, ingest_file

    generate_market(tmp_path / "ndx", sessions=3, contracts=600, seed=5, underlying="NDX", spot0=18000.0)
    con = connect(warehouse_copy)
    try:
        for file in expand_paths([tmp_path / "ndx"]):
            ingest_file(con, file)
        for underlying, session in c.loaded_sessions(con, "NDX"):
            c.write_marts(con, c.compute_session(c.snapshot_from_warehouse(con, underlying, session), NATIVE,
                                                 c.rate_for(con, session), load_id=c.chain_load_id(con, underlying, session)))
    finally:
        con.close()
    con = data.open_read_only(warehouse_copy)
    try:
        default = data.load(con)
        assert default.underlying == "NDX" and default.underlyings == ("NDX", "SPX")  # the first, alphabetically
        assert len(default.sessions) == 3 and default.history.height == 3
        assert (default.history["underlying"] == "NDX").all() and (default.vol["underlying"] == "NDX").all()
        assert float(default.day["spot"]) > 10_000
        spx = data.load(con, "SPX")
        assert spx.underlying == "SPX" and len(spx.sessions) == SESSIONS
        with pytest.raises(data.ReportInputError, match="the warehouse has NDX, SPX"):
            data.load(con, "RUT")
    finally:
        con.close()
