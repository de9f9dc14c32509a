"""The early-exercise screen in the marts: mart.early_exercise, the summary columns of mart.regime_daily and the
published main.early_exercise / main.regime_daily, on a hand-built stock chain with a known dividend and on a
European (SPX) chain."""

from __future__ import annotations

import pytest
from gex.conventions import NATIVE
from gex_warehouse import compute as c
from gex_warehouse.connect import connect

from tests.early_exercise_chain import EXPECTED_FLAGS, RATE, stock_chain


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    connection = connect(tmp_path_factory.mktemp("early") / "w.duckdb")
    for snapshot in (stock_chain(), stock_chain("SPX", "SPXW")):
        c.write_marts(connection, c.compute_session(snapshot, NATIVE, RATE))
    yield connection
    connection.close()


def rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def test_the_stock_chain_flags_exactly_the_expected_contracts(con):
    flagged = rows(con, "SELECT symbol, reason, \"right\", strike, open_interest, dividend_source FROM mart.early_exercise "
                        "WHERE underlying = 'ABC' AND preset = 'native' ORDER BY symbol")
    assert {s: r for s, r, *_ in flagged} == EXPECTED_FLAGS
    assert [(right, strike, oi, src) for _, _, right, strike, oi, src in flagged] == [
        ("P", 140.0, 1000, "parity"), ("C", 60.0, 1000, "parity")]
    # the published view shows the same rows (the daily snapshot, native preset)
    assert {s: r for s, r in rows(con, "SELECT symbol, reason FROM main.early_exercise WHERE underlying = 'ABC'")} \
        == EXPECTED_FLAGS


def test_the_regime_row_sums_the_flags_up(con):
    (style, n, share, no_carry), = rows(
        con, "SELECT exercise_style, early_exercise_contracts, early_exercise_gex_share, "
             "early_exercise_expiries_without_carry FROM mart.regime_daily WHERE underlying = 'ABC'")
    assert (style, n, no_carry) == ("american", 2, 1)
    flagged, total = rows(con, """
        SELECT (SELECT sum(abs(gex_usd_per_1pct)) FROM mart.early_exercise WHERE underlying = 'ABC'),
               (SELECT sum(abs(call_gex_usd_per_1pct)) + sum(abs(put_gex_usd_per_1pct)) FROM mart.gex_by_expiry
                WHERE underlying = 'ABC')""")[0]
    # by-expiry call and put GEX have one sign each under the classic positioning, so their |sums| are sum |GEX|
    assert share == pytest.approx(flagged / total, rel=1e-9)
    assert 0.0 < share < 1.0
    assert rows(con, "SELECT exercise_style, early_exercise_contracts, early_exercise_gex_share FROM main.regime_daily "
                     "WHERE underlying = 'ABC'") == [("american", 2, share)]


def test_a_european_chain_has_no_flags(con):
    assert rows(con, "SELECT count(*) FROM mart.early_exercise WHERE underlying = 'SPX'") == [(0,)]
    assert rows(con, "SELECT exercise_style, early_exercise_contracts, early_exercise_gex_share, "
                     "early_exercise_expiries_without_carry FROM mart.regime_daily WHERE underlying = 'SPX'") == \
        [("european", 0, 0.0, 0)]


def test_recomputing_replaces_the_rows(con):
    before = rows(con, "SELECT * FROM mart.early_exercise ORDER BY ALL")
    c.write_marts(con, c.compute_session(stock_chain(), NATIVE, RATE))
    assert rows(con, "SELECT * FROM mart.early_exercise ORDER BY ALL") == before


def test_a_preset_without_parity_forwards_screens_without_dividends():
    """gflows takes no parity forward: every expiry is screened as if no dividend were paid, and says so."""
    from gex.conventions import PRESETS

    frames = c.compute_session(stock_chain(), PRESETS["gflows"], RATE)
    assert frames.regime_daily.select("exercise_style", "early_exercise_expiries_without_carry").row(0) == ("american", 3)
    assert set(frames.early_exercise["dividend_source"]) == {"none"}
    # without the dividend the second expiry's 140 put looks like a deep ITM put and the 60 call is not flagged
    assert dict(zip(frames.early_exercise["symbol"], frames.early_exercise["reason"])) == {
        "ABC250117P00140000": "deep_itm_put", "ABC250221P00140000": "deep_itm_put"}
