"""The example queries (sql/queries/*.sql) run on a generated warehouse, read-only, and give the rows they
promise, each checked against an independent computation from the published views."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import duckdb
import numpy as np
import pytest

from tests.warehouse.published_market import QUERIES_DIR, built_warehouse, read_only

QUERIES = sorted(QUERIES_DIR.glob("*.sql"))


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    connection = read_only(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")))
    yield connection
    connection.close()


def run(con, name: str) -> tuple[list[str], list[tuple]]:
    relation = con.sql((QUERIES_DIR / f"{name}.sql").read_text())
    return list(relation.columns), relation.fetchall()


def records(con, name: str) -> list[dict]:
    columns, rows = run(con, name)
    return [dict(zip(columns, row)) for row in rows]


def test_the_expected_queries_exist():
    assert {q.stem for q in QUERIES} >= {
        "negative_gamma_days_last_year", "flip_distance_distribution", "top_strikes_latest", "regime_changes",
        "iv_rv_spread_recent",
    }


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_each_query_says_what_it_answers_and_returns_rows(con, path: Path):
    text = path.read_text()
    assert text.startswith("-- ") and "?" in text.split("\n\n")[0].split("SELECT")[0], "opens with the question"
    assert len(duckdb.extract_statements(text)) == 1, "one statement (gex sql runs one)"
    _, rows = run(con, path.stem)
    assert rows, path.stem


def test_negative_gamma_days(con):
    got = {r["underlying"]: r for r in records(con, "negative_gamma_days_last_year")}
    history = con.execute("SELECT underlying, session, regime FROM regime_history ORDER BY ALL").fetchall()
    assert set(got) == {"SPX", "NDX"}
    for u, r in got.items():
        mine = [(s, reg) for uu, s, reg in history if uu == u]
        last = max(s for s, _ in mine)
        year = [(s, reg) for s, reg in mine if s > last - dt.timedelta(days=365)]
        negative = sum(reg == "negative" for _, reg in year)
        assert (r["sessions"], r["negative_sessions"]) == (len(year), negative)
        assert r["negative_pct"] == pytest.approx(round(100 * negative / len(year), 1))
        longest = run_ = 0
        for _, reg in year:
            run_ = run_ + 1 if reg == "negative" else 0
            longest = max(longest, run_)
        assert r["longest_negative_stretch_sessions"] == longest
    assert got["SPX"]["negative_sessions"] > 0


def test_flip_distance_distribution(con):
    got = {r["underlying"]: r for r in records(con, "flip_distance_distribution")}
    for u, r in got.items():
        d = np.array([x for (x,) in con.execute("SELECT flip_distance_pct FROM regime_daily WHERE underlying = ? "
                                                "AND flip_distance_pct IS NOT NULL", [u]).fetchall()])
        assert r["sessions_with_flip"] == d.size
        assert r["median_pct"] == pytest.approx(round(float(np.median(d)), 2))
        assert r["p10_pct"] == pytest.approx(round(float(np.quantile(d, 0.10)), 2))
        assert r["min_pct"] <= r["p25_pct"] <= r["median_pct"] <= r["p75_pct"] <= r["max_pct"]
        assert r["sessions_flip_within_1pct"] == int((np.abs(d) <= 1).sum())


def test_top_strikes_latest(con):
    got = records(con, "top_strikes_latest")
    by_u = defaultdict(list)
    for r in got:
        by_u[r["underlying"]].append(r)
    assert set(by_u) == {"SPX", "NDX"}
    for u, top in by_u.items():
        latest, spot = con.execute("SELECT session, spot FROM regime_daily WHERE underlying = ? ORDER BY session DESC "
                                   "LIMIT 1", [u]).fetchall()[0]
        strikes = con.execute("SELECT strike, net_gex_usd_per_1pct FROM gex_by_strike WHERE underlying = ? AND "
                              "session = ?", [u, latest]).fetchall()
        expected = sorted(strikes, key=lambda t: (-abs(t[1]), t[0]))[:10]
        assert [r["rank"] for r in top] == list(range(1, 11))
        assert [(r["strike"], r["net_gex_usd_per_1pct"]) for r in top] == expected
        assert all(r["session"] == latest for r in top)
        assert top[0]["distance_from_spot_pct"] == pytest.approx(round(100 * (top[0]["strike"] - spot) / spot, 2))
        for r in top:
            assert r["net_gex_usd_per_1pct"] == pytest.approx(r["call_gex_usd_per_1pct"] + r["put_gex_usd_per_1pct"])


def test_regime_changes(con):
    got = records(con, "regime_changes")
    history = con.execute("SELECT underlying, session, regime FROM regime_daily ORDER BY underlying, session").fetchall()
    expected = [(u, s, prev_reg, reg) for (pu, _, prev_reg), (u, s, reg) in zip(history, history[1:])
                if pu == u and prev_reg != reg]
    assert [(r["underlying"], r["session"], r["previous_regime"], r["regime"]) for r in got] == expected
    assert len(expected) >= 2
    assert all(r["previous_regime_sessions"] is None or r["previous_regime_sessions"] >= 1 for r in got)


def test_iv_rv_spread_recent(con):
    got = records(con, "iv_rv_spread_recent")
    for u in ("SPX", "NDX"):
        mine = [r for r in got if r["underlying"] == u]
        assert len(mine) == 21
        assert [r["session"] for r in mine] == sorted(r["session"] for r in mine)
        last = con.execute("SELECT max(session) FROM vol_context WHERE underlying = ?", [u]).fetchall()[0][0]
        assert mine[-1]["session"] == last
        for r in mine:
            if r["iv_rv_spread_volpts"] is not None:
                assert r["iv_rv_spread_volpts"] == pytest.approx(r["atm_iv_30d_volpts"] - r["rv_21d_volpts"], abs=0.011)
        assert any(r["iv_rv_spread_volpts"] is not None for r in mine)


def test_next_day_move_by_regime(con):
    got = records(con, "next_day_move_by_regime")
    assert {r["regime"] for r in got if r["underlying"] == "SPX"} == {"positive", "negative"}
    for r in got:
        assert 0 <= r["median_abs_next_move_pct"] <= r["max_abs_next_move_pct"]
    # every computed session but each underlying's last has a next move
    per_u = defaultdict(int)
    for r in got:
        per_u[r["underlying"]] += r["sessions"]
    assert dict(per_u) == {"SPX": 29, "NDX": 24}


def test_gamma_by_dte_latest_shares_add_up(con):
    got = records(con, "gamma_by_dte_latest")
    for u in ("SPX", "NDX"):
        mine = [r for r in got if r["underlying"] == u]
        assert [r["dte_bucket"] for r in mine] == ["0", "1-7", "8-30", ">30"]
        assert sum(r["gross_share_pct"] for r in mine) == pytest.approx(100, abs=0.3)


def test_wall_moves_recent(con):
    got = records(con, "wall_moves_recent")
    assert sum(r["underlying"] == "SPX" for r in got) == 10 and sum(r["underlying"] == "NDX" for r in got) == 10
    for r in got:
        if r["call_wall"] is not None:
            assert r["call_wall"] >= r["spot"]
        if r["put_wall"] is not None:
            assert r["put_wall"] <= r["spot"]


def test_scanner_latest(con):
    """The example query returns the newest session's cross-section, closest flip first, as main.scanner ranks it."""
    _, rows = run(con, "scanner_latest")
    [(latest,)] = con.execute("SELECT max(session) FROM scanner").fetchall()
    assert {r[1] for r in rows} == {latest}
    assert len(rows) == rows[0][-1]  # every underlying of the session
    ranks = [r[6] for r in rows if r[6] is not None]
    assert ranks == sorted(ranks) and (not ranks or ranks[0] == 1)
