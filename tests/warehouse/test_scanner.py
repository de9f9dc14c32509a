"""main.scanner and core.dollar_volume on a hand-made cross-section (tests/warehouse/scanner_market.py): ranks,
ties, shares, GEX per dollar volume, regime changes and the preset filter, each against a hand computation."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.warehouse.scanner_market import D1, D2, add_bar, fill

COLUMNS = ("underlying", "total_gex_usd_per_1pct", "call_gamma_share", "adv_20d_usd", "adv_20d_sessions", "gex_to_adv",
           "flip_distance_pct", "regime", "previous_regime", "regime_changed", "net_gex_rank", "call_share_rank",
           "flip_distance_rank", "gex_adv_rank", "underlyings_in_session")


@pytest.fixture
def scan(con):
    fill(con)
    return con


def rows(con, session):
    got = con.execute(f"SELECT {', '.join(COLUMNS)} FROM main.scanner WHERE session = ? ORDER BY underlying",
                      [session]).fetchall()
    return {r[0]: dict(zip(COLUMNS, r)) for r in got}


def test_ranks_shares_and_ratios_match_the_hand_computation(scan):
    day = rows(scan, D2)
    assert list(day) == ["AAA", "BBB", "CCC", "DDD", "EEE"]
    assert {u: r["net_gex_rank"] for u, r in day.items()} == {"EEE": 1, "AAA": 2, "CCC": 2, "DDD": 3, "BBB": 4}
    assert {u: r["call_share_rank"] for u, r in day.items()} == {"CCC": 1, "EEE": 2, "AAA": 3, "BBB": 4, "DDD": None}
    assert {u: r["flip_distance_rank"] for u, r in day.items()} == {"EEE": 1, "AAA": 2, "DDD": 2, "BBB": 3, "CCC": None}
    assert {u: r["gex_adv_rank"] for u, r in day.items()} == {"CCC": 1, "AAA": 2, "BBB": 3, "DDD": None, "EEE": None}
    share = {u: r["call_gamma_share"] for u, r in day.items()}
    assert share["AAA"] == pytest.approx(0.75) and share["BBB"] == pytest.approx(0.25) and share["CCC"] == 1.0
    assert share["EEE"] == pytest.approx(5 / 6) and share["DDD"] is None  # no gamma at all: undefined, not 0 or 0.5
    assert all(r["underlyings_in_session"] == 5 for r in day.values())


def test_gex_relative_to_average_daily_dollar_volume(scan):
    day = rows(scan, D2)
    # AAA: mean of 100 * 1e6 and 110 * 2e6 dollars
    assert day["AAA"]["adv_20d_usd"] == pytest.approx(1.6e8) and day["AAA"]["adv_20d_sessions"] == 2
    assert day["AAA"]["gex_to_adv"] == pytest.approx(2e9 / 1.6e8)
    assert day["BBB"]["gex_to_adv"] == pytest.approx(-10.0)  # signed like GEX
    # CCC: a reference source beats 'chain', then the first by name ('closes' before 'zz_vendor')
    assert day["CCC"]["adv_20d_usd"] == pytest.approx(1e8) and day["CCC"]["gex_to_adv"] == pytest.approx(20.0)
    # DDD traded no shares: no ratio rather than a division by zero
    assert day["DDD"]["adv_20d_usd"] == 0.0 and day["DDD"]["gex_to_adv"] is None
    # EEE (an index): closes without volume
    assert day["EEE"]["adv_20d_usd"] is None and day["EEE"]["adv_20d_sessions"] == 0 and day["EEE"]["gex_to_adv"] is None


def test_regime_change_against_the_previous_computed_session(scan):
    day = rows(scan, D2)
    assert {u: (r["previous_regime"], r["regime"], r["regime_changed"]) for u, r in day.items()} == {
        "AAA": ("negative", "positive", True),
        "BBB": ("negative", "negative", False),
        "CCC": (None, "positive", False),  # its first session: no change
        "DDD": ("positive", "neutral", True),
        "EEE": ("positive", "positive", False),
    }
    [(previous, change)] = scan.execute(
        "SELECT previous_session, total_gex_change_usd_per_1pct FROM main.scanner WHERE underlying = 'AAA' AND session = ?",
        [D2]).fetchall()
    assert previous == D1 and change == pytest.approx(2e9 - (-1e9))
    first = rows(scan, D1)
    assert all(r["previous_regime"] is None and r["regime_changed"] is False for r in first.values())
    assert {u: r["net_gex_rank"] for u, r in first.items()} == {"EEE": 1, "DDD": 2, "AAA": 3, "BBB": 3}


def test_previous_session_skips_sessions_the_underlying_was_not_computed(scan):
    from tests.warehouse.scanner_market import add_day

    later = dt.date(2025, 1, 7)  # D2 is a Friday; CCC next computed on Tuesday
    add_day(scan, later, "CCC", call=1e9, put=-3e9, flip_pct=0.5, regime="negative")
    [(previous, before, changed)] = scan.execute(
        "SELECT previous_session, previous_regime, regime_changed FROM main.scanner WHERE underlying = 'CCC' AND session = ?",
        [later]).fetchall()
    assert (previous, before, changed) == (D2, "positive", True)


def test_each_preset_is_its_own_cross_section(scan):
    assert scan.execute("SELECT count(*) FROM main.scanner WHERE preset <> 'native'").fetchall() == [(0,)]
    scan.execute("SET VARIABLE preset = 'perfiliev'")
    assert scan.execute("SELECT underlying, net_gex_rank, underlyings_in_session, previous_regime, regime_changed "
                        "FROM main.scanner").fetchall() == [("AAA", 1, 1, None, False)]
    scan.execute("SET VARIABLE preset = '*'")
    counts = dict(scan.execute("SELECT preset, count(*) FROM main.scanner WHERE session = ? GROUP BY preset", [D2]).fetchall())
    assert counts == {"native": 5, "perfiliev": 1}
    native = scan.execute("SELECT underlying, net_gex_rank FROM main.scanner WHERE session = ? AND preset = 'native' "
                          "ORDER BY underlying", [D2]).fetchall()
    assert dict(native)["AAA"] == 2  # the perfiliev row does not enter native's ranks


def test_average_dollar_volume_is_over_the_last_20_bars(con):
    from gex.calendar import sessions_between

    days = sessions_between(dt.date(2025, 2, 3), dt.date(2025, 3, 31))[:25]
    for i, day in enumerate(days):
        # bar 22 has no volume (e.g. the closes file came without it): it stays in the window, uncounted
        add_bar(con, day, "FFF", 10.0, None if i == 22 else float(1000 * (i + 1)))
    got = dict(con.execute("SELECT session, (adv_20d_usd, adv_20d_sessions) FROM core.dollar_volume "
                           "WHERE underlying = 'FFF'").fetchall())
    last = days[-1]  # window: bars 5..24, bar 22 without volume
    expected = [10.0 * 1000 * (i + 1) for i in range(5, 25) if i != 22]
    assert got[last][1] == 19 and got[last][0] == pytest.approx(sum(expected) / 19)
    assert got[days[0]] == (10_000.0, 1)


def test_a_closes_file_with_volume_reaches_the_ratio(con, tmp_path):
    """The reference format's optional ``volume`` column goes through ``gex ingest``'s loader into the view."""
    from gex_warehouse.load import ingest_file

    from tests.warehouse.scanner_market import add_day

    add_day(con, D2, "XYZ", call=3e8, put=-1e8, flip_pct=None, regime="positive")
    bars = tmp_path / "bars.csv"
    bars.write_text(f"date,underlying,close,volume\n{D1},XYZ,20,1000000\n{D2},XYZ,30,3000000\n", encoding="utf-8")
    result = ingest_file(con, bars)
    assert result.status == "loaded", result.message
    assert con.execute("SELECT session, volume FROM raw.underlying_closes WHERE underlying = 'XYZ' ORDER BY session"
                       ).fetchall() == [(D1, 1e6), (D2, 3e6)]
    [(adv, ratio)] = con.execute("SELECT adv_20d_usd, gex_to_adv FROM main.scanner WHERE underlying = 'XYZ'").fetchall()
    assert adv == pytest.approx((20 * 1e6 + 30 * 3e6) / 2) and ratio == pytest.approx(2e8 / 5.5e7)


def _dense_rank(values: list[float | None], descending: bool = True) -> list[int | None]:
    distinct = sorted({v for v in values if v is not None}, reverse=descending)
    return [None if v is None else distinct.index(v) + 1 for v in values]


def test_on_computed_chains_the_scanner_restates_regime_daily(tmp_path_factory):
    """On the generated SPX/NDX warehouse of the contract tests: every regime_daily row once, the share and
    ranks recomputed here in Python from regime_daily's own columns."""
    from tests.warehouse.published_market import built_warehouse, read_only

    con = read_only(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")))
    try:
        daily = con.execute("SELECT session, underlying, total_gex_usd_per_1pct, call_gex_usd_per_1pct, put_gex_usd_per_1pct, "
                            "flip_distance_pct, regime_changed FROM regime_daily ORDER BY session, underlying").fetchall()
        scanned = con.execute("SELECT session, underlying, total_gex_usd_per_1pct, call_gamma_share, net_gex_rank, "
                              "call_share_rank, flip_distance_rank, regime_changed, underlyings_in_session "
                              "FROM scanner ORDER BY session, underlying").fetchall()
    finally:
        con.close()
    assert [(r[0], r[1], r[2]) for r in daily] == [(r[0], r[1], r[2]) for r in scanned]
    assert [r[6] for r in daily] == [r[7] for r in scanned]  # same regime changes as regime_history's
    by_session: dict[dt.date, list[int]] = {}
    for i, r in enumerate(daily):
        by_session.setdefault(r[0], []).append(i)
    checked = 0
    for rows_of_day in by_session.values():
        totals = [daily[i][2] for i in rows_of_day]
        shares = [abs(daily[i][3]) / (abs(daily[i][3]) + abs(daily[i][4])) for i in rows_of_day]
        flips = [None if daily[i][5] is None else abs(daily[i][5]) for i in rows_of_day]
        for j, i in enumerate(rows_of_day):
            assert scanned[i][3] == pytest.approx(shares[j], rel=1e-12) and 0 <= scanned[i][3] <= 1
            assert scanned[i][4] == _dense_rank(totals)[j]
            assert scanned[i][5] == _dense_rank(shares)[j]
            assert scanned[i][6] == _dense_rank(flips, descending=False)[j]
            assert scanned[i][8] == len(rows_of_day)
            checked += 1
    assert checked == len(daily) and any(len(v) == 2 for v in by_session.values())


def test_one_row_per_session_the_end_of_day_snapshot_else_the_latest_intraday(scan):
    """Snapshots of a session (issue 12): the scanner ranks the daily view's row, never several per underlying."""
    from tests.warehouse.scanner_market import add_day

    # BBB at D2: two intraday snapshots before its end-of-day one; the end-of-day row (net -2bn) is ranked
    add_day(scan, D2, "BBB", call=9e9, put=-1e9, flip_pct=0.1, regime="positive", intraday_at=dt.time(15, 0))
    add_day(scan, D2, "BBB", call=8e9, put=-1e9, flip_pct=0.2, regime="positive", intraday_at=dt.time(18, 0))
    # the next session so far only has intraday snapshots of AAA: the latest one, flagged
    d3 = dt.date(2025, 1, 6)
    add_day(scan, d3, "AAA", call=1e9, put=-5e9, flip_pct=0.4, regime="negative", intraday_at=dt.time(15, 0))
    add_day(scan, d3, "AAA", call=1e9, put=-6e9, flip_pct=0.3, regime="negative", intraday_at=dt.time(16, 30))
    day = rows(scan, D2)
    assert len(day) == 5 and day["BBB"]["total_gex_usd_per_1pct"] == -2e9 and day["BBB"]["net_gex_rank"] == 4
    got = scan.execute("SELECT underlying, total_gex_usd_per_1pct, intraday, previous_regime, regime_changed, "
                       "underlyings_in_session FROM main.scanner WHERE session = ?", [d3]).fetchall()
    assert got == [("AAA", -5e9, True, "positive", True, 1)]
