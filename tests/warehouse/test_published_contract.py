"""The published SQL contract (DuckDB main schema, docs/sql-contract.md): names, comments, keys and the
invariants a consumer relies on, checked on a generated, ingested and computed warehouse."""

from __future__ import annotations

import math
from pathlib import Path
from collections import defaultdict

import numpy as np
import pytest
from gex_warehouse.migrate import discover

from tests.warehouse.published_market import PUBLISHED_VIEWS, built_warehouse, read_only

#: The contract: each view's columns, in order. Columns may be added at the end; these never change.
CONTRACT: dict[str, list[str]] = {
    "regime_daily": [
        "session", "underlying", "spot", "valuation_ts", "total_gex_usd_per_1pct", "call_gex_usd_per_1pct",
        "put_gex_usd_per_1pct", "gex_at_spot_model_usd_per_1pct", "gamma_flip", "flip_distance_pct", "regime",
        "call_wall", "put_wall", "most_negative_net_strike", "abs_gamma_strike", "dex_usd", "vex_usd_per_volpt",
        "cex_usd_per_day", "zero_dte_gamma_share", "vendor_model_gamma_gap", "partial_chain", "partial_reason",
        "contracts_used", "contracts_excluded", "oi_source", "rate", "preset", "conventions", "load_id",
        "computed_with", "flip_crossings", "atm_iv_30d", "rv_5d", "rv_10d", "rv_21d", "rv_range_21d",
        "iv_rv_spread", "regime_changed", "days_in_regime", "snapshot_ts", "data_stale",
    ],
    "gex_by_strike": [
        "session", "underlying", "strike", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct",
        "dex_usd", "vex_usd_per_volpt", "cex_usd_per_day", "call_open_interest", "put_open_interest", "contracts",
    ],
    "gex_by_strike_root": [
        "session", "underlying", "root", "strike", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct",
        "net_gex_usd_per_1pct", "dex_usd", "vex_usd_per_volpt", "cex_usd_per_day", "call_open_interest",
        "put_open_interest", "contracts",
    ],
    "gex_by_expiry": [
        "session", "underlying", "expiration", "settlement", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct",
        "net_gex_usd_per_1pct", "dex_usd", "vex_usd_per_volpt", "cex_usd_per_day", "call_open_interest",
        "put_open_interest", "contracts",
    ],
    "gex_by_dte": [
        "session", "underlying", "dte_bucket", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct",
        "dex_usd", "vex_usd_per_volpt", "cex_usd_per_day", "call_open_interest", "put_open_interest", "contracts",
    ],
    "gex_profile": ["session", "underlying", "spot_level", "gex_usd_per_1pct"],
    "flip_crossings": ["session", "underlying", "crossing", "is_flip"],
    "regime_history": [
        "session", "underlying", "regime", "previous_regime", "regime_changed", "days_in_regime", "regime_stretch",
        "regime_started", "spot", "total_gex_usd_per_1pct",
    ],
    "flip_history": [
        "session", "underlying", "spot", "gamma_flip", "flip_distance_pct", "regime", "gamma_flip_change",
        "spot_change", "crossings",
    ],
    "levels_history": [
        "session", "underlying", "spot", "call_wall", "put_wall", "abs_gamma_strike", "spot_change",
        "call_wall_change", "put_wall_change", "abs_gamma_strike_change", "most_negative_net_strike",
    ],
    "vol_context": [
        "session", "underlying", "close", "rv_5d", "rv_10d", "rv_21d", "rv_range_21d", "atm_iv_30d", "iv_rv_spread",
        "close_source", "log_return",
    ],
    "runs": [
        "run_id", "flow", "session", "underlying", "rows_in", "rows_out", "status", "started_at", "finished_at",
        "duration_s", "code_version", "conventions", "message", "flow_run_id",
    ],
    "hedge_advice": [
        "session", "underlying", "template", "spot", "atm_iv", "realized_vol", "realized_vol_assumed", "rate",
        "regime", "total_gex_usd_per_1pct", "flip_distance_pct", "cost_bps", "spread_usd_per_share",
        "fee_usd_per_order", "min_order_shares", "risk_aversion_per_usd", "position_delta_shares",
        "position_gamma_shares_per_usd", "vega_usd_per_volpt", "theta_usd_per_day", "hedge_target_shares",
        "band_shares", "band_unadjusted_shares", "band_dollar_delta_usd", "execution", "clock_interval_minutes",
        "expected_trades_per_day", "pnl_gamma_usd_per_day", "pnl_theta_usd_per_day", "pnl_cost_usd_per_day",
        "hedging_error_std_usd_per_day", "pnl_total_usd_per_day", "breakeven_vol", "regime_factor", "regime_reason",
        "warnings",
    ],
    "expected_move": [
        "session", "underlying", "method", "target_date", "settlement", "sessions_ahead", "days_to_settlement", "spot",
        "move_points", "move_pct", "lower_points", "upper_points", "forward", "forward_source", "strike_below",
        "strike_above", "atm_iv", "valuation_ts", "preset",
    ],
    "level_outcomes": [
        "session", "underlying", "preset", "spot", "regime", "total_gex_usd_per_1pct", "gamma_flip",
        "flip_distance_pct", "call_wall", "put_wall", "abs_gamma_strike", "trailing_rv_21d", "close", "high", "low",
        "next_session", "next_high", "next_low", "next_close", "call_wall_held_high", "call_wall_held_close",
        "put_wall_held_low", "put_wall_held_close", "forward_rv_1d", "forward_rv_5d", "forward_rv_21d",
        "forward_rv_parkinson_1d", "forward_rv_parkinson_5d", "forward_rv_parkinson_21d", "forward_return_1d",
        "forward_return_5d", "forward_return_21d", "valuation_ts",
    ],
    "scanner": [
        "session", "underlying", "valuation_ts", "spot", "total_gex_usd_per_1pct", "call_gex_usd_per_1pct",
        "put_gex_usd_per_1pct", "call_gamma_share", "adv_20d_usd", "adv_20d_sessions", "gex_to_adv", "gamma_flip",
        "flip_distance_pct", "regime", "previous_session", "previous_regime", "regime_changed",
        "total_gex_change_usd_per_1pct", "net_gex_rank", "gex_adv_rank", "call_share_rank", "flip_distance_rank",
        "underlyings_in_session", "zero_dte_gamma_share", "partial_chain", "data_stale", "intraday", "preset",
    ],
    "early_exercise": [
        "session", "underlying", "symbol", "root", "expiration", "settlement", "strike", "right", "reason",
        "open_interest", "gex_usd_per_1pct", "time_value", "carry", "dividend_pv", "dividend_source", "valuation_ts",
        "preset",
    ],
}
#: Keys of the per-session views (the Parquet export writes a file per session, sorted by underlying).
KEYS = {
    "regime_daily": ("underlying", "session"),
    "regime_history": ("underlying", "session"),
    "flip_history": ("underlying", "session"),
    "levels_history": ("underlying", "session"),
    "vol_context": ("underlying", "session"),
    "gex_by_strike": ("underlying", "session", "strike"),
    "gex_by_strike_root": ("underlying", "session", "root", "strike"),
    "gex_by_expiry": ("underlying", "session", "expiration", "settlement"),
    "gex_by_dte": ("underlying", "session", "dte_bucket"),
    "gex_profile": ("underlying", "session", "spot_level"),
    "flip_crossings": ("underlying", "session", "crossing"),
    "hedge_advice": ("underlying", "session", "template"),
    "expected_move": ("underlying", "session", "method", "target_date", "settlement"),
    "level_outcomes": ("underlying", "session"),
    "scanner": ("underlying", "session"),
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    connection = read_only(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")))
    yield connection
    connection.close()


def q(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def test_the_contract_names_every_published_view_and_nothing_else():
    assert set(CONTRACT) == set(PUBLISHED_VIEWS)


@pytest.mark.parametrize("view", PUBLISHED_VIEWS)
def test_view_columns_keep_the_contract_order(con, view):
    columns = [r[0] for r in q(con, "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                                    "AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [view])]
    assert columns[: len(CONTRACT[view])] == CONTRACT[view]


def test_every_mart_and_published_object_and_column_has_a_comment(con):
    # every view of main (the contract's and any added later), every mart table
    missing = q(
        con,
        "SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND NOT internal AND comment IS NULL "
        "AND schema_name IN ('mart', 'main') ORDER BY 1",
    )
    assert missing == []
    tables = q(con, "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                    "AND schema_name IN ('mart', 'main') AND comment IS NULL")
    views = q(con, "SELECT view_name, comment FROM duckdb_views() WHERE database_name = current_database() "
                   "AND schema_name = 'main' AND NOT internal")
    assert tables == []
    assert set(PUBLISHED_VIEWS) <= {v for v, _ in views}
    assert all(comment for _, comment in views)
    assert q(con, "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                  "AND schema_name = 'main'") == [(0,)], "main holds views only (internal tables stay in raw/core/mart)"


def test_every_published_view_is_one_model_file():
    from gex_warehouse.migrate import discover_models

    models = {m.name for m in discover_models() if m.schema == "main"}
    assert set(PUBLISHED_VIEWS) <= models


@pytest.mark.parametrize("view", sorted(KEYS))
def test_per_session_views_are_keyed(con, view):
    key = ", ".join(KEYS[view])
    total, distinct = q(con, f"SELECT count(*), count(DISTINCT ({key})) FROM main.{view}")[0]
    assert total > 0 and total == distinct


def test_both_underlyings_are_published(con):
    assert q(con, "SELECT underlying, count(*) FROM regime_daily GROUP BY ALL ORDER BY 1") == [("NDX", 25), ("SPX", 30)]


# ---------------------------------------------------------------------------------------------
# invariants


def test_per_root_rows_add_up_to_the_strike_rows(con):
    """gex_by_strike_root summed over roots is gex_by_strike, column by column, and both roots appear."""
    cols = ["call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct", "dex_usd", "vex_usd_per_volpt",
            "cex_usd_per_day", "call_open_interest", "put_open_interest", "contracts"]
    rows = q(con, f"""
        SELECT s.underlying, s.session, s.strike, {', '.join(f's.{c}' for c in cols)},
               {', '.join(f'sum(r.{c})' for c in cols)}
        FROM gex_by_strike AS s JOIN gex_by_strike_root AS r USING (underlying, session, strike)
        GROUP BY ALL""")
    assert len(rows) == q(con, "SELECT count(*) FROM gex_by_strike")[0][0]
    n = len(cols)
    for row in rows:
        for strike_value, root_sum in zip(row[3:3 + n], row[3 + n:]):
            assert root_sum == pytest.approx(strike_value, rel=1e-9, abs=1e-6)
    roots = {r[0] for r in q(con, "SELECT DISTINCT root FROM gex_by_strike_root WHERE underlying = 'SPX'")}
    assert {"SPX", "SPXW"} <= roots


def test_by_strike_net_gex_adds_up_to_the_regime_total(con):
    """Under the native conventions the spot total uses the model gamma, so the strike sums equal both the
    total and the profile's value at spot (a vendor-gamma preset would only match the total)."""
    sums = q(con, """
        SELECT r.underlying, r.session, r.total_gex_usd_per_1pct, r.gex_at_spot_model_usd_per_1pct, r.preset,
               sum(s.net_gex_usd_per_1pct), sum(s.call_gex_usd_per_1pct), r.call_gex_usd_per_1pct,
               sum(s.put_gex_usd_per_1pct), r.put_gex_usd_per_1pct
        FROM regime_daily AS r JOIN gex_by_strike AS s USING (underlying, session)
        GROUP BY ALL""")
    assert len(sums) == 55
    for _, _, total, model, preset, net, calls, call, puts, put in sums:
        assert preset == "native"
        assert net == pytest.approx(total, rel=1e-9)
        assert model == pytest.approx(total, rel=1e-6)
        assert (calls, puts) == (pytest.approx(call, rel=1e-9), pytest.approx(put, rel=1e-9))
    for table in ("gex_by_expiry", "gex_by_dte"):
        off = q(con, f"""
            SELECT count(*) FROM regime_daily AS r
            JOIN (SELECT underlying, session, sum(net_gex_usd_per_1pct) AS net FROM main.{table} GROUP BY ALL) AS t
                USING (underlying, session)
            WHERE abs(t.net - r.total_gex_usd_per_1pct) > 1e-9 * abs(r.total_gex_usd_per_1pct)""")
        assert off == [(0,)]


def _profiles(con) -> dict[tuple[str, object], tuple[np.ndarray, np.ndarray]]:
    out = {}
    grouped: dict[tuple[str, object], list[tuple[float, float]]] = defaultdict(list)
    for u, s, level, gex in q(con, "SELECT underlying, session, spot_level, gex_usd_per_1pct FROM gex_profile ORDER BY ALL"):
        grouped[(u, s)].append((level, gex))
    for key, points in grouped.items():
        arr = np.array(points)
        out[key] = (arr[:, 0], arr[:, 1])
    return out


def test_regime_agrees_with_the_sign_of_the_profile_at_spot(con):
    profiles = _profiles(con)
    checked = 0
    for u, s, spot, regime, model in q(con, "SELECT underlying, session, spot, regime, gex_at_spot_model_usd_per_1pct "
                                            "FROM regime_daily"):
        assert regime == {1: "positive", -1: "negative", 0: "neutral"}[int(np.sign(model))]
        levels, values = profiles[(u, s)]
        i = int(np.searchsorted(levels, spot))
        assert 0 < i < len(levels), "spot lies inside the profile grid"
        left, right = np.sign(values[i - 1]), np.sign(values[i])
        if left == right:  # no crossing between the grid points around spot: the sign there is the regime's
            assert regime == {1: "positive", -1: "negative"}[int(left)], (u, s)
            checked += 1
    assert checked >= 50
    assert {r for (r,) in q(con, "SELECT DISTINCT regime FROM regime_daily")} == {"positive", "negative"}


def test_every_crossing_is_a_sign_change_of_the_profile(con):
    profiles = _profiles(con)
    crossings = q(con, "SELECT underlying, session, crossing FROM flip_crossings")
    assert len(crossings) >= 10
    for u, s, x in crossings:
        levels, values = profiles[(u, s)]
        i = int(np.searchsorted(levels, x))
        assert 0 < i < len(levels)
        assert np.sign(values[i - 1]) * np.sign(values[i]) <= 0, (u, s, x, values[i - 1], values[i])


def test_regime_daily_lists_the_crossings_and_the_flip_is_one_of_them(con):
    by_key: dict[tuple[str, object], list[float]] = defaultdict(list)
    for u, s, x in q(con, "SELECT underlying, session, crossing FROM flip_crossings ORDER BY crossing"):
        by_key[(u, s)].append(x)
    multi = 0
    for u, s, listed, flip, distance, spot in q(con, "SELECT underlying, session, flip_crossings, gamma_flip, "
                                                     "flip_distance_pct, spot FROM regime_daily"):
        assert listed == by_key.get((u, s), [])
        assert listed == sorted(listed)
        multi += len(listed) > 1
        if flip is None:
            assert distance is None
        else:
            assert flip in listed
            assert distance == pytest.approx(100 * (flip - spot) / spot)
    assert multi > 0, "the data must include sessions with several crossings"


def test_regime_history_counts_stretches(con):
    got = q(con, "SELECT underlying, session, regime, previous_regime, regime_changed, days_in_regime, regime_stretch, "
                 "regime_started FROM regime_history ORDER BY underlying, session")
    changes = 0
    previous = None
    for u, s, regime, prev, changed, days, stretch, started in got:
        if previous is None or previous[0] != u:  # first computed session of the underlying
            expected = (None, False, 1, 1, s)
        else:
            _, _, p_regime, _, _, p_days, p_stretch, p_started = previous
            switch = regime != p_regime
            expected = (p_regime, switch, 1 if switch else p_days + 1, p_stretch + switch, s if switch else p_started)
        assert (prev, changed, days, stretch, started) == expected, (u, s)
        changes += changed
        previous = (u, s, regime, prev, changed, days, stretch, started)
    assert changes >= 2
    # regime_daily carries the same flags
    assert q(con, "SELECT count(*) FROM regime_daily AS r JOIN regime_history AS h USING (underlying, session) "
                  "WHERE r.regime_changed IS DISTINCT FROM h.regime_changed "
                  "OR r.days_in_regime IS DISTINCT FROM h.days_in_regime") == [(0,)]


def test_levels_and_flip_history_changes_are_differences_within_the_underlying(con):
    levels = q(con, "SELECT underlying, spot, call_wall, put_wall, abs_gamma_strike, spot_change, call_wall_change, "
                    "put_wall_change, abs_gamma_strike_change FROM levels_history ORDER BY underlying, session")
    for before, now in zip([None, *levels], levels):
        if before is None or before[0] != now[0]:
            assert now[5:] == (None, None, None, None)
            continue
        for k in range(4):
            a, b = before[1 + k], now[1 + k]
            assert now[5 + k] == (None if a is None or b is None else pytest.approx(b - a))
    flips = q(con, "SELECT underlying, gamma_flip, gamma_flip_change, crossings, session FROM flip_history "
                   "ORDER BY underlying, session")
    counts = dict(((u, s), n) for u, s, n in q(con, "SELECT underlying, session, count(*) FROM flip_crossings GROUP BY ALL"))
    for before, now in zip([None, *flips], flips):
        assert now[3] == counts.get((now[0], now[4]), 0)
        if before is None or before[0] != now[0] or before[1] is None or now[1] is None:
            assert now[2] is None
        else:
            assert now[2] == pytest.approx(now[1] - before[1])


def test_iv_rv_spread_is_implied_minus_21_session_realized(con):
    got = q(con, "SELECT atm_iv_30d, rv_21d, iv_rv_spread FROM regime_daily")
    with_spread = [(iv, rv, sp) for iv, rv, sp in got if sp is not None]
    assert len(with_spread) >= 10
    assert all(sp == pytest.approx(iv - rv, abs=1e-15) for iv, rv, sp in with_spread)
    assert all(iv is not None and 0.02 < iv < 2.0 for iv, _, _ in got), "every computed chain has an ATM 30d vol"
    assert all(math.isfinite(rv) and rv > 0 for _, rv, _ in got if rv is not None)


def test_the_contract_document_lists_every_view_and_column():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "sql-contract.md").read_text()
    for view, columns in CONTRACT.items():
        section = doc.split(f"### `{view}`\n", 1)
        assert len(section) == 2, f"docs/sql-contract.md has no section for {view}"
        body = section[1].split("\n### ", 1)[0]
        for column in columns:
            assert f"| `{column}` |" in body, f"{view}.{column} is not documented"


def test_under_a_vendor_gamma_preset_the_strikes_add_up_to_the_vendor_total(tmp_path, tmp_path_factory):
    """perfiliev takes the vendor's gamma at spot: the totals, the strike rows and (as that script does) the
    regime use it, while gex_at_spot_model stays the Black-Scholes profile's value, which then differs."""
    from gex.conventions import preset
    from gex_warehouse import compute as c
    from gex_warehouse.connect import connect

    from tests.warehouse.published_market import copy_of

    path = copy_of(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")), tmp_path / "w.duckdb")
    writer = connect(path)
    try:
        for u, s in c.loaded_sessions(writer, "SPX")[-5:]:
            c.write_marts(writer, c.compute_chain(c.read_chain(writer, u, s), preset("perfiliev")))
        writer.execute("SET VARIABLE preset = 'perfiliev'")  # the published views show native rows unless asked
        got = q(writer, """
            SELECT r.total_gex_usd_per_1pct, r.gex_at_spot_model_usd_per_1pct, r.regime, sum(s.net_gex_usd_per_1pct)
            FROM regime_daily AS r JOIN gex_by_strike AS s USING (underlying, session)
            WHERE r.preset = 'perfiliev' GROUP BY ALL""")
    finally:
        writer.close()
    assert len(got) == 5
    for total, model, regime, net in got:
        assert net == pytest.approx(total, rel=1e-9)
        assert regime == {1: "positive", -1: "negative"}[int(np.sign(total))]
    assert any(abs(total - model) > 1e-3 * abs(total) for total, model, _, _ in got), "vendor and model gamma differ"


def test_the_contract_page_is_generated_from_the_models_comments(tmp_path):
    """Column documentation lives once (sql/models/main/*.sql); docs/sql-contract.md's tables are generated
    from it (scripts/sql_contract_doc.py) and must not drift."""
    from gex_warehouse.connect import connect
    from gex_warehouse.contract_doc import splice, views_and_columns

    page = Path(__file__).resolve().parents[2] / "docs" / "sql-contract.md"
    con = connect(tmp_path / "w.duckdb")
    try:
        expected = splice(page.read_text(), views_and_columns(con))
    finally:
        con.close()
    assert page.read_text() == expected, "run `uv run python scripts/sql_contract_doc.py` and commit docs/sql-contract.md"


def test_data_stale_flags_the_underlying_whose_latest_data_lags(tmp_path_factory, tmp_path):
    from gex_warehouse.connect import connect

    from tests.warehouse.published_market import copy_of

    path = copy_of(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")), tmp_path / "w.duckdb")
    con = connect(path)
    try:
        [(last,)] = q(con, "SELECT max(session) FROM mart.regime_daily WHERE underlying = 'NDX'")
        con.execute("DELETE FROM mart.regime_daily WHERE underlying = 'NDX' AND session = ?", [last])  # its fetch failed
        flags = q(con, "SELECT underlying, session, data_stale, snapshot_ts IS NOT NULL FROM regime_daily "
                       "QUALIFY row_number() OVER (PARTITION BY underlying ORDER BY session DESC) <= 2 ORDER BY ALL")
    finally:
        con.close()
    by = {(u, s): (stale, has_ts) for u, s, stale, has_ts in flags}
    ndx = sorted(s for u, s in by if u == "NDX")
    spx = sorted(s for u, s in by if u == "SPX")
    assert by[("NDX", ndx[-1])] == (True, True) and by[("NDX", ndx[0])] == (None, True)
    assert by[("SPX", spx[-1])] == (False, True) and by[("SPX", spx[0])] == (None, True)
