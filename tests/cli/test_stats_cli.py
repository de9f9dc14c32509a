"""`gex stats --external squeezemetrics` as a user runs it: exit codes, strict JSON (the command in this process,
:mod:`tests.gex_runner`; the readable table also from a real ``gex`` process)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gex import calendar
from tests.conftest import shared_file
from tests.gex_runner import Done, gex_in_process, gex_process

DIX = "squeezemetrics/DIX_2011-05-02_to_2026-08-21__dougie-r2_rustskew.csv"
KEYS = {"horizon_days", "quintile", "n", "forward_rv", "forward_rv_ci_low", "forward_rv_ci_high", "residual_rv",
        "residual_rv_ci_low", "residual_rv_ci_high", "small_sample", "block_length"}


def gex(*args: str) -> Done:
    """``gex *args`` in this process (:mod:`tests.gex_runner`); ``gex_process`` runs a real one."""
    return gex_in_process(*args)


def strict_json(text: str) -> object:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def dix_file(tmp_path_factory) -> Path:
    """A made-up DIX.csv of 400 sessions where low GEX days are followed by twice the volatility."""
    import datetime as dt

    sessions = calendar.sessions_between(dt.date(2020, 1, 2), dt.date(2021, 12, 31))[:400]
    rng = np.random.default_rng(5)
    gex = rng.normal(3e9, 2e9, len(sessions))
    vol = np.where(gex < np.quantile(gex, 0.2), 0.02, 0.01)
    r = np.concatenate(([0.0], vol[:-1] * rng.normal(size=len(sessions) - 1)))  # vol of day t+1 set by gex of t
    price = 3000 * np.exp(np.cumsum(r))
    path = tmp_path_factory.mktemp("stats") / "DIX.csv"
    lines = ["date,price,dix,gex"] + [f"{d.isoformat()},{p:.6f},0.42,{g:.4f}" for d, p, g in zip(sessions, price, gex)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_json_one_object_per_horizon_and_quintile(dix_file):
    done = gex("stats", "--external", "squeezemetrics", "--file", str(dix_file), "--json", "--n-boot", "200")
    assert done.returncode == 0, done.stderr
    rows = strict_json(done.stdout)
    assert isinstance(rows, list) and len(rows) == 15
    assert {(r["horizon_days"], r["quintile"]) for r in rows} == {(h, q) for h in (1, 5, 21) for q in range(1, 6)}
    for r in rows:
        assert KEYS <= r.keys()
        assert r["forward_rv_ci_low"] <= r["forward_rv"] <= r["forward_rv_ci_high"]
    q1 = next(r for r in rows if r["horizon_days"] == 1 and r["quintile"] == 1)
    q5 = next(r for r in rows if r["horizon_days"] == 1 and r["quintile"] == 5)
    # the made-up effect: Q1 days are followed by 2% daily moves, E|z| sqrt(252) * 2% = 25.3% a year
    assert q1["forward_rv"] == pytest.approx(math.sqrt(2 / math.pi) * math.sqrt(252) * 0.02, rel=0.2)
    assert q1["forward_rv"] > 1.6 * q5["forward_rv"] and q1["q1_minus_q5_rv_ci_low"] > 0
    assert q1["n"] == 80 and not q1["small_sample"]
    h21 = [r for r in rows if r["horizon_days"] == 21]
    assert all(r["small_sample"] for r in h21)  # 76 days per quintile < 10 windows of 21 sessions


@pytest.mark.parametrize("run", [gex, gex_process], ids=["in-process", "process"])
def test_readable_table(dix_file, run):
    done = run("stats", "--external", "squeezemetrics", "--file", str(dix_file), "--n-boot", "200")
    assert done.returncode == 0, done.stderr
    assert "5-session forward vol" in done.stdout and "Q1 - Q5 beyond trailing RV" in done.stdout


def test_user_mistakes_are_one_line_errors(tmp_path, dix_file):
    missing = gex("stats", "--external", "squeezemetrics", "--file", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    assert gex("stats", "--external", "cboe", "--file", str(dix_file)).returncode == 2
    assert gex("stats", "--file", str(dix_file)).returncode == 2  # --file without --external: usage
    assert gex("stats", "--external", "squeezemetrics", "--file", str(dix_file), "--level", "2").returncode == 2
    short = tmp_path / "short.csv"
    short.write_text("date,price,dix,gex\n2024-01-02,4700,0.4,1e9\n")
    done = gex("stats", "--external", "squeezemetrics", "--file", str(short))
    assert done.returncode == 1 and "at least" in done.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("date,price,gex\n2024-01-02,4700,1e9\n")
    done = gex("stats", "--external", "squeezemetrics", "--file", str(bad))
    assert done.returncode == 1 and "dix" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.shared_data
def test_real_squeezemetrics_file():
    path = shared_file(DIX)
    done = gex("stats", "--external", "squeezemetrics", "--file", str(path), "--json", "--n-boot", "300")
    assert done.returncode == 0, done.stderr
    rows = strict_json(done.stdout)
    assert len(rows) == 15 and all(r["n"] > 700 for r in rows)
    # as measured (docs/evidence.md): the lowest-GEX quintile has the highest forward vol at every horizon
    for h in (1, 5, 21):
        by_q = {r["quintile"]: r["forward_rv"] for r in rows if r["horizon_days"] == h}
        assert by_q[1] == max(by_q.values())


# ---------------------------------------------------------------------------------------------
# the warehouse's own levels (no --external): main.level_outcomes through the published snapshot


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory) -> Path:
    """15 generated SPX sessions of 300 contracts, ingested, computed and published (a snapshot beside it)."""
    from gex.conventions import NATIVE
    from gex_market import generate_market
    from gex_warehouse import compute as c
    from gex_warehouse.connect import connect
    from gex_warehouse.load import expand_paths, ingest_file
    from gex_warehouse.published import refresh_snapshot

    root = tmp_path_factory.mktemp("stats-warehouse")
    generate_market(root / "landing", sessions=15, contracts=300, seed=2)
    target = root / "gex.duckdb"
    con = connect(target)
    try:
        for file in expand_paths([root / "landing"]):
            assert ingest_file(con, file).status == "loaded", file
        for u, s in c.loaded_sessions(con):
            c.write_marts(con, c.compute_session(c.snapshot_from_warehouse(con, u, s), NATIVE, c.rate_for(con, s),
                                                 load_id=c.chain_load_id(con, u, s)))
        refresh_snapshot(con, target)
    finally:
        con.close()
    return target


def test_warehouse_json_one_object_per_figure(small_warehouse):
    out = gex("stats", "--warehouse", str(small_warehouse), "--json", "--n-boot", "200")
    assert out.returncode == 0, out.stderr
    rows = strict_json(out.stdout)
    assert rows and all({"underlying", "preset", "horizon_days", "statistic", "grouping", "bucket", "n", "value", "ci_low",
                         "ci_high", "small_sample", "warning", "units"} <= set(r) for r in rows)
    assert {r["underlying"] for r in rows} == {"SPX"} and {r["preset"] for r in rows} == {"native"}
    stats = {r["statistic"] for r in rows}
    assert {"forward_rv", "forward_rv_parkinson", "call_wall_held_high", "put_wall_held_close", "forward_return_std"} <= stats
    every = next(r for r in rows if r["statistic"] == "forward_rv" and r["grouping"] == "all" and r["horizon_days"] == 1)
    assert every["n"] == 14  # 15 sessions, the last has no next close
    # 14 days are too few: every figure says so, in words
    assert all(r["small_sample"] and "too few" in r["warning"] for r in rows)
    held = next(r for r in rows if r["statistic"] == "call_wall_held_close" and r["grouping"] == "all")
    assert 0 <= held["ci_low"] <= held["value"] <= held["ci_high"] <= 1


def test_warehouse_readable_tables(small_warehouse):
    out = gex("stats", "-w", str(small_warehouse), "--n-boot", "100", "--underlying", "spx")
    assert out.returncode == 0, out.stderr
    assert "SPX (native): what followed the levels" in out.stdout and "1-session forward" in out.stdout
    assert "call wall held (high) %" in out.stdout


def test_warehouse_mistakes_are_one_line_errors(small_warehouse, tmp_path):
    cases = [
        (("-w", str(tmp_path / "none.duckdb")), 1, "no warehouse at"),
        (("-w", str(small_warehouse), "--underlying", "NDX"), 1, "no computed session of 'NDX'"),
        (("-w", str(small_warehouse), "--preset", "nope"), 2, "unknown --preset"),
        (("-w", str(small_warehouse), "--underlying", "../x"), 2, "is not a ticker"),
        (("-w", str(small_warehouse), "--file", "DIX.csv"), 2, "give --external squeezemetrics"),
        (("--external", "squeezemetrics", "-w", str(small_warehouse)), 2, "leave out --external"),
        (("-w", str(small_warehouse), "--preset", "gflows"), 1, "no computed session under preset gflows"),
    ]
    for args, code, text in cases:
        out = gex("stats", *args)
        assert out.returncode == code, (args, out.stderr)
        assert text in out.stderr and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, (args, out.stderr)
