"""The published main.level_outcomes and main.expected_move on a generated, ingested and computed warehouse:
the SQL forward figures against gex.evidence.forward (Python), the wall flags by hand, the statistics of the
view against gex.evidence.history_stats on the same closes, and the expected-move rows against the analysis."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from gex.evidence import BootstrapSettings, history_stats, outcome_stats
from gex.evidence.forward import forward_log_return, forward_parkinson_vol, forward_realised_vol
from gex.expected_move import iv_implied_move

from tests.warehouse.published_market import MARKETS, built_warehouse, read_only


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    connection = read_only(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")))
    yield connection
    connection.close()


def frame(con, sql: str, params: list | None = None) -> pl.DataFrame:
    out = pl.from_arrow(con.sql(sql, params=params or []).to_arrow_table())
    assert isinstance(out, pl.DataFrame)
    return out


def test_one_row_per_computed_session(con):
    out = frame(con, "SELECT underlying, count(*) AS n, count(DISTINCT session) AS d FROM main.level_outcomes GROUP BY 1 ORDER BY 1")
    want = sorted((u, n) for u, _, n, _, _ in MARKETS)
    assert [(u, n) for u, n, _ in out.rows()] == want and (out["n"] == out["d"]).all()


@pytest.mark.parametrize("underlying", [m[0] for m in MARKETS])
def test_forward_figures_match_python(con, underlying):
    """The generated markets have a bar for every session, so the view's bars are the sessions in order."""
    f = frame(con, "SELECT * FROM main.level_outcomes WHERE underlying = ? ORDER BY session", [underlying])
    c, hi, lo = (f[x].to_numpy() for x in ("close", "high", "low"))
    for h in (1, 5, 21):
        for column, want in ((f"forward_rv_{h}d", forward_realised_vol(c, h)),
                             (f"forward_rv_parkinson_{h}d", forward_parkinson_vol(hi, lo, h)),
                             (f"forward_return_{h}d", forward_log_return(c, h))):
            got = f[column].cast(pl.Float64).fill_null(float("nan")).to_numpy()
            assert np.array_equal(np.isnan(got), np.isnan(want)), column
            np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-12, err_msg=column)
    assert f["forward_rv_21d"].null_count() == 21 and f["next_close"].null_count() == 1
    # walls by hand: held when the next session's high / close stays strictly below the call wall, etc.
    for r, nxt in zip(f.iter_rows(named=True), f.slice(1).iter_rows(named=True)):
        assert r["next_session"] == nxt["session"] and r["next_high"] == nxt["high"]
        cw, pw = r["call_wall"], r["put_wall"]
        assert r["call_wall_held_high"] == (None if cw is None else nxt["high"] < cw)
        assert r["call_wall_held_close"] == (None if cw is None else nxt["close"] < cw)
        assert r["put_wall_held_low"] == (None if pw is None else nxt["low"] > pw)
        assert r["put_wall_held_close"] == (None if pw is None else nxt["close"] > pw)
    assert f["call_wall_held_high"][-1] is None


def test_outcome_stats_equal_history_stats_on_the_same_closes(con):
    f = frame(con, "SELECT * FROM main.level_outcomes WHERE underlying = 'SPX' ORDER BY session")
    settings = BootstrapSettings(n_boot=200)
    from_view = outcome_stats(f, settings=settings)
    from_closes = history_stats(f.select("session", "close", "high", "low", "regime", "flip_distance_pct", "call_wall",
                                         "put_wall", total_gex="total_gex_usd_per_1pct"), settings=settings)
    assert from_view.height == from_closes.height > 0
    assert from_view.drop("value", "ci_low", "ci_high").equals(from_closes.drop("value", "ci_low", "ci_high"))
    for column in ("value", "ci_low", "ci_high"):
        a = from_view[column].fill_null(float("nan")).to_numpy()
        b = from_closes[column].fill_null(float("nan")).to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=column)


def test_expected_move_rows_follow_the_analysis(con):
    """The published view against the mart's own definition: one 1- and one 5-session IV row per session (the
    generated chains have a smile), straddle rows with their bands, keyed by the daily snapshot."""
    em = frame(con, "SELECT * FROM main.expected_move ORDER BY underlying, session, method, target_date, settlement")
    days = frame(con, "SELECT underlying, session, spot, atm_iv_30d, valuation_ts FROM main.regime_daily")
    assert em.height > 0
    keys = ["underlying", "session", "method", "target_date", "settlement"]
    assert em.select(keys).is_duplicated().sum() == 0
    joined = em.join(days, on=["underlying", "session"], suffix="_day")
    assert joined.height == em.height
    assert (joined["valuation_ts"] == joined["valuation_ts_day"]).all() and (joined["spot"] == joined["spot_day"]).all()
    iv = joined.filter(pl.col("method") == "atm_iv")
    assert sorted(set(iv["sessions_ahead"].to_list())) == [1, 5]
    assert iv.height == 2 * days.filter(pl.col("atm_iv_30d").is_not_null()).height
    for r in iv.iter_rows(named=True):
        points, pct = iv_implied_move(r["atm_iv_30d"], r["spot"], r["sessions_ahead"])
        assert r["move_points"] == pytest.approx(points, rel=1e-14) and r["move_pct"] == pytest.approx(pct, rel=1e-14)
        assert r["target_date"] > r["session"]
    st = joined.filter(pl.col("method") == "straddle")
    assert st.height > 0 and (st["target_date"] > st["session"]).all()
    assert ((st["strike_below"] <= st["forward"]) & (st["forward"] <= st["strike_above"])).all()
    assert np.allclose(st["upper_points"] - st["lower_points"], 2 * st["move_points"])
    assert np.allclose(st["move_pct"], 100 * st["move_points"] / st["spot"], rtol=1e-12)
    # a straddle is about 0.8 sigma sqrt(T) F: with the 30-day ATM IV it is within a factor 2 of that
    approx = 0.8 * st["atm_iv_30d"] * (st["days_to_settlement"] / 365).sqrt() * st["forward"]
    ratio = (st["move_points"] / approx).to_numpy()
    assert np.all((ratio > 0.5) & (ratio < 2.0)), (ratio.min(), ratio.max())
    assert not math.isnan(float(np.median(ratio)))
