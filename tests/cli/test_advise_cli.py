"""`gex advise` and `gex simulate` as a user runs them, and the mart.hedge_advice table against advice_rows."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gex import advisor as adv
from gex_cli.main import app

runner = CliRunner()
INLINE = ["--spot", "100", "--strike", "100", "--dte", "30", "--iv", "0.2", "--right", "call", "--contracts", "4",
          "--cost-bps", "5", "--fee", "0", "--risk-aversion", "0.01"]
REQUIRED = {"band_shares", "band_dollar_delta", "execution", "clock_interval_minutes", "expected_trades_per_day",
            "expected_daily_pnl", "breakeven_vol", "regime_adjustment", "warnings", "inputs", "units"}


def run(*args: str):
    return runner.invoke(app, list(args))


def test_inline_json_matches_the_library():
    res = run("advise", *INLINE, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert REQUIRED <= out.keys()
    assert out["band_shares"] == pytest.approx(18.0, abs=0.05)  # the doc's WW width for 4 ATM calls
    assert out["execution"] == "edge"
    assert out["regime_adjustment"]["factor"] == 1.0
    assert "no regime" in out["regime_adjustment"]["reason"]
    lib = adv.advise((adv.Leg(100, 30, "call", 4),), spot=100, iv=0.2, costs=adv.CostModel(5), risk_aversion=0.01)
    assert out["expected_daily_pnl"]["cost"] == pytest.approx(lib.pnl_cost_usd_per_day)


def test_readable_output_and_user_rule():
    res = run("advise", *INLINE, "--user-rule-dollar-delta", "500")
    assert res.exit_code == 0, res.output
    assert "band half-width" in res.stdout and "18.0 sh" in res.stdout
    assert "your rule" in res.stdout and "risk aversion" in res.stdout


def test_template_fee_and_target_std():
    res = run("advise", "--template", "long-atm-straddle-30d", "--spot", "100", "--iv", "0.2", "--fee", "1", "--json",
              "--target-std", "10")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["execution"] == "reset"
    assert out["inputs"]["risk_aversion_source"].startswith("target")
    assert out["expected_daily_pnl"]["hedging_error_std"] == pytest.approx(10, rel=0.02)


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_position_files(tmp_path, suffix):
    path = tmp_path / f"pos{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps({"legs": [{"strike": 100, "dte": 30, "right": "call", "contracts": 4}]}))
    else:
        path.write_text("strike,dte,right,contracts,iv\n100,30,call,4,0.2\n")
    res = run("advise", str(path), "--spot", "100", "--iv", "0.2", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["band_shares"] == pytest.approx(18.0, abs=0.05)


@pytest.mark.parametrize(("content", "message"), [
    ('[{"strike": 100,', "not valid JSON"),
    ('[{"strike": 100, "right": "call", "contracts": 4}]', "missing 'dte'"),
    ("strike,dte,right,contracts\n100,30,straddle,4\n", "right"),
    ("strike,dte,right,contracts\n", "no legs"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),  # was a RecursionError, exit 3
    ('[{"strike": ' + "9" * 5000 + ', "dte": 30, "right": "call", "contracts": 1}]', "not valid JSON"),
])
def test_bad_position_file_exit_1(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    res = run("advise", str(path), "--spot", "100", "--iv", "0.2")
    assert res.exit_code == 1
    assert "gex: error:" in res.stderr and message in res.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--spot", "100", "--iv", "0.2"], "exactly one position"),
    (["--template", "nope", "--spot", "100", "--iv", "0.2"], "unknown template"),
    (["--strike", "100", "--spot", "100", "--iv", "0.2"], "both --strike and --dte"),
    ([*INLINE, "--target-std", "5"], "not both"),
    (["--template", "long-otm-calls", "--iv", "0.2"], "--spot"),
    (["--template", "long-otm-calls", "--spot", "100"], "implied vol"),
    (["--template", "long-otm-calls", "--spot", "100", "--iv", "0.2", "--session", "2024-01-05"], "go together"),
    (["--template", "long-otm-calls", "--spot", "100", "--iv", "0.2", "--cost-bps", "-1"], "cost_bps"),
])
def test_usage_errors_exit_2(args, message):
    res = run("advise", *args)
    assert res.exit_code == 2, res.output
    assert "gex: error:" in res.stderr and message in res.stderr


# --- the warehouse: a session's regime row, read-only --------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from gex_warehouse.connect import connect

    path = tmp_path_factory.mktemp("wh") / "gex.duckdb"
    con = connect(path)
    con.execute(
        "INSERT INTO mart.regime_daily (session, underlying, valuation_ts, intraday, spot, total_gex_usd_per_1pct, "
        "flip_distance_pct, regime, rate) VALUES (?, ?, TIMESTAMPTZ '2024-01-05 21:00:00+00', false, ?, ?, ?, ?, ?)",
        [dt.date(2024, 1, 5), "SPX", 4700.0, -2.5e9, 1.8, "negative", 0.0],
    )
    con.close()
    return path


def test_session_regime_from_the_warehouse(warehouse):
    res = run("advise", "--template", "long-atm-straddle-30d", "--iv", "0.15", "--underlying", "spx", "--session",
              "2024-01-05", "--warehouse", str(warehouse), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["inputs"]["spot"] == 4700.0
    assert out["regime_adjustment"]["regime"] == "negative"
    assert out["regime_adjustment"]["factor"] > 1  # long gamma in a trending (negative dealer gamma) regime: wider
    assert "widened" in out["regime_adjustment"]["reason"]


def test_missing_session_and_warehouse_exit_1(warehouse, tmp_path):
    res = run("advise", "--template", "long-otm-calls", "--iv", "0.2", "--underlying", "SPX", "--session", "2024-01-08",
              "--warehouse", str(warehouse))
    assert res.exit_code == 1 and "no regime row for SPX 2024-01-08" in res.stderr
    res = run("advise", "--template", "long-otm-calls", "--iv", "0.2", "--underlying", "SPX", "--session", "2024-01-05",
              "--warehouse", str(tmp_path / "none.duckdb"))
    assert res.exit_code == 1 and "no warehouse" in res.stderr


def test_hedge_advice_table_matches_advice_rows(warehouse, tmp_path):
    from gex_warehouse.connect import connect

    regime_row = {"spot": 4700.0, "regime": "positive", "total_gex_usd_per_1pct": 3e9, "flip_distance_pct": -2.0, "rate": 0.0}
    rows = adv.advice_rows(dt.date(2024, 1, 5), "SPX", regime_row, atm_iv=0.14, realized_vol=None)
    assert rows.height == len(adv.DEFAULT_TEMPLATES)
    assert rows["realized_vol_assumed"].to_list() == [True, True]
    assert (rows["regime_factor"] < 1).all()  # long gamma, positive dealer gamma: tighter
    assert adv.advice_rows(dt.date(2024, 1, 5), "SPX", regime_row, atm_iv=None, realized_vol=None).height == 0
    path = tmp_path / "adv.duckdb"
    con = connect(path)
    try:
        cols = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE schema_name = 'mart' AND table_name = 'hedge_advice' "
            "ORDER BY column_index").fetchall()
        assert [c[0] for c in cols] == [*adv.HEDGE_ADVICE_SCHEMA, "preset"]  # the key column the warehouse adds
        assert all(c[2] for c in cols), "every column has a COMMENT"
        table_comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE schema_name = 'mart' AND table_name = 'hedge_advice'").fetchall()
        assert table_comment[0][0]
        con.register("advice_frame", rows.to_arrow())
        con.execute("INSERT INTO mart.hedge_advice BY NAME SELECT * FROM advice_frame")  # preset: native by default
        back = con.execute("SELECT template, band_shares, execution FROM mart.hedge_advice ORDER BY template").fetchall()
        assert [b[0] for b in back] == sorted(adv.DEFAULT_TEMPLATES)
        assert all(b[1] > 0 and b[2] == "edge" for b in back)
    finally:
        con.close()


# --- gex simulate --------------------------------------------------------------------------------------


def test_simulate_json_table():
    res = run("simulate", "--paths", "60", "--days", "30", "--steps-per-day", "26", "--seed", "5",
              "--strategies", "advisor,ww,clock:60,band:20,notional:500", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    names = [m["strategy"] for m in out["metrics"]]
    assert names == ["advisor", "ww", "clock 60m", "band 20", "notional $500"]
    m = {r["strategy"]: r for r in out["metrics"]}
    assert set(m["advisor"]) >= {"mean", "std", "ce_exp", "cvar", "trades", "cost_paid"}
    assert m["advisor"]["ce_exp"] == pytest.approx(m["ww"]["ce_exp"])  # no regime under gbm: the advisor is WW
    assert m["notional $500"]["cost_paid"] > m["advisor"]["cost_paid"]


def test_simulate_regime_scenario_readable():
    res = run("simulate", "--paths", "40", "--steps-per-day", "26", "--scenario", "trending", "--strategies", "advisor,ww")
    assert res.exit_code == 0, res.output
    assert "advisor" in res.stdout and "phi +0.6" in res.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--scenario", "crash"], "unknown scenario"),
    (["--strategies", "clock"], "unknown or incomplete strategy"),
    (["--strategies", "band:x"], "not a number"),
    (["--paths", "1"], "--paths"),
    (["--phi", "1.5"], "--phi"),
])
def test_simulate_usage_errors(args, message):
    res = run("simulate", *args)
    assert res.exit_code == 2, res.output
    assert "gex: error:" in res.stderr and message in res.stderr


def test_subprocess_help_and_exit_code():
    done = subprocess.run([sys.executable, "-m", "gex_cli", "advise", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Position file" in done.stdout
    done = subprocess.run([sys.executable, "-m", "gex_cli", "advise", "--spot", "100"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("gex: error:")


def test_published_views_are_preferred_and_supply_iv_and_realized_vol(tmp_path):
    from gex_warehouse.connect import connect

    path = tmp_path / "views.duckdb"
    con = connect(path)
    con.execute("INSERT INTO mart.regime_daily (session, underlying, valuation_ts, intraday, spot, regime) "
                "VALUES (?, ?, TIMESTAMPTZ '2024-01-05 21:00:00+00', false, ?, ?)", [dt.date(2024, 1, 5), "SPX", 4700.0, "positive"])
    con.execute("CREATE OR REPLACE VIEW main.regime_daily AS SELECT * REPLACE ('negative' AS regime) FROM mart.regime_daily")
    con.execute("CREATE OR REPLACE VIEW main.vol_context AS SELECT 'SPX' AS underlying, DATE '2024-01-05' AS session, "
                "0.13 AS atm_iv_30d, 0.11 AS rv_21d")
    con.close()
    res = run("advise", "--template", "long-otm-calls", "-u", "SPX", "--session", "2024-01-05", "-w", str(path), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["regime_adjustment"]["regime"] == "negative"  # from the view, not the mart table
    assert out["inputs"]["iv"] == pytest.approx(0.13) and out["inputs"]["realized_vol"] == pytest.approx(0.11)
    assert out["inputs"]["realized_vol_assumed_equal_to_iv"] is False


def test_the_command_on_a_session_gives_the_published_advice(tmp_path_factory):
    """`gex advise --template T -u U --session D` equals the row the publish flow wrote for (D, U, T)."""
    from tests.warehouse.published_market import built_warehouse, read_only

    path = built_warehouse(str(tmp_path_factory.getbasetemp() / "published"))
    con = read_only(path)
    try:
        u, s, band, total, rate = con.execute(
            "SELECT underlying, session, band_shares, pnl_total_usd_per_day, rate FROM main.hedge_advice "
            "WHERE template = 'long-otm-calls' ORDER BY session DESC, underlying LIMIT 1").fetchall()[0]
    finally:
        con.close()
    assert rate != 0  # the session's rate is used, not 0
    res = run("advise", "--template", "long-otm-calls", "-u", u, "--session", str(s), "-w", str(path), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["band_shares"] == pytest.approx(band, rel=1e-12)
    assert out["expected_daily_pnl"]["total"] == pytest.approx(total, rel=1e-12)


# --- measured variance ratio ----------------------------------------------------------------------------


def test_advise_variance_ratio_json_matches_the_library():
    res = run("advise", *INLINE, "--variance-ratio", "0.5", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    lib = adv.advise((adv.Leg(100, 30, "call", 4),), spot=100, iv=0.2, costs=adv.CostModel(5), risk_aversion=0.01,
                     variance_ratio=0.5)
    assert out["band_shares"] == pytest.approx(lib.band_shares) and out["band_shares"] < 18.0
    assert out["regime_adjustment"]["model"] == "variance-ratio"
    assert out["regime_adjustment"]["variance_ratio"] == 0.5 and out["inputs"]["variance_ratio"] == 0.5
    one = json.loads(run("advise", *INLINE, "--variance-ratio", "1", "--json").stdout)
    assert one["band_shares"] == json.loads(run("advise", *INLINE, "--json").stdout)["band_shares"]


def test_advise_variance_ratio_readable_and_bad_value():
    res = run("advise", *INLINE, "--variance-ratio", "3")
    assert res.exit_code == 0, res.output
    assert "variance-ratio factor" in res.stdout and "widened" in res.stdout
    bad = run("advise", *INLINE, "--variance-ratio", "-1")
    assert bad.exit_code == 2 and "gex: error:" in bad.stderr and "variance ratio" in bad.stderr


def test_simulate_tells_the_true_variance_ratio():
    args = ("simulate", "--paths", "40", "--steps-per-day", "26", "--scenario", "mean-reverting", "--strategies", "advisor,ww",
            "--json")
    told = json.loads(run(*args, "--tell-variance-ratio").stdout)
    assert "variance ratio 0.538 told" in told["setup"]  # (1 - 0.3)/(1 + 0.3)
    plain = json.loads(run(*args).stdout)
    assert "regime factor" in plain["setup"]
    gbm = json.loads(run("simulate", "--paths", "20", "--days", "5", "--steps-per-day", "26", "--strategies", "advisor,ww",
                         "--tell-variance-ratio", "--json").stdout)
    m = {r["strategy"]: r for r in gbm["metrics"]}
    assert m["advisor"]["ce_exp"] == pytest.approx(m["ww"]["ce_exp"])  # VR = 1 under gbm: exactly WW
