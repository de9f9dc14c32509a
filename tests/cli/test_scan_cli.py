"""`gex scan` on the hand-made cross-section of tests/warehouse/scanner_market.py (ranks checked by hand there):
sorting, every filter, presets, JSON, and one-line errors with the documented exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gex_cli.main import app
from tests.warehouse.scanner_market import D1, D2, build_scanner_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return build_scanner_warehouse(tmp_path_factory.mktemp("scan") / "gex.duckdb")


def run(warehouse: Path, *args: str):
    return CliRunner().invoke(app, ["scan", "-w", str(warehouse), *args])


def scanned(warehouse: Path, *args: str) -> dict:
    done = run(warehouse, *args, "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def order(warehouse: Path, *args: str) -> list[str]:
    return [r["underlying"] for r in scanned(warehouse, *args)["rows"]]


def error(done, code: int) -> str:
    assert done.exit_code == code, done.output
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and message.startswith("gex: error: "), message
    return message


def test_the_latest_session_sorted_by_net_gex(warehouse):
    out = scanned(warehouse)
    assert out["session"] == str(D2) and out["preset"] == "native" and out["underlyings_in_session"] == 5
    assert [(r["underlying"], r["net_gex_rank"]) for r in out["rows"]] == [
        ("EEE", 1), ("AAA", 2), ("CCC", 2), ("DDD", 3), ("BBB", 4)]  # the tie AAA = CCC broken by name
    assert order(warehouse, "--reverse") == ["BBB", "DDD", "AAA", "CCC", "EEE"]


@pytest.mark.parametrize(("args", "expected"), [
    (("--sort", "call-share"), ["CCC", "EEE", "AAA", "BBB", "DDD"]),  # DDD has no share: last
    (("--sort", "flip-distance"), ["EEE", "AAA", "DDD", "BBB", "CCC"]),  # CCC has no flip: last
    (("--sort", "gex-adv"), ["CCC", "AAA", "BBB", "DDD", "EEE"]),
    (("--sort", "gex-change"), ["AAA", "BBB", "DDD", "EEE", "CCC"]),  # |+3bn|, then |-1bn| = |-1bn| = |+1bn| by name; CCC: first session
    (("--sort", "underlying", "--top", "2"), ["AAA", "BBB"]),
    (("--regime", "positive", "--changed"), ["AAA"]),
    (("--regime", "neutral", "--regime", "negative"), ["DDD", "BBB"]),
    (("--min-gex", "1bn", "--max-call-share", "0.8"), ["AAA"]),
    (("--max-gex", "-500m"), ["BBB"]),
    (("--sort", "flip-distance", "--max-flip-distance", "1"), ["EEE", "AAA", "DDD"]),
    (("--min-flip-distance", "1.5"), ["BBB"]),
    (("--min-gex-adv", "0"), ["AAA", "CCC"]),  # rows without a ratio fail any ratio bound
    (("--max-gex-adv", "-5", "--min-gex-adv", "-10"), ["BBB"]),
    (("-u", "bbb", "-u", "^EEE"), ["EEE", "BBB"]),
    (("--session", str(D1)), ["EEE", "DDD", "AAA", "BBB"]),
    (("--preset", "perfiliev"), ["AAA"]),
    (("--regime", "neutral", "--min-gex", "1"), []),
])
def test_sorts_and_filters(warehouse, args, expected):
    assert order(warehouse, *args) == expected


def test_the_table_names_the_ranks_and_regime_changes(warehouse):
    done = run(warehouse, "--sort", "call-share")
    assert done.exit_code == 0, done.output
    assert f"{D2}  preset native  sorted by call-share  5 of 5 underlyings" in done.stdout
    line = next(l for l in done.stdout.splitlines() if " AAA " in l)
    assert "positive (was negative)" in line and "75.0%" in line and "+2.00bn" in line and line.split()[1] == "3"
    empty = run(warehouse, "--regime", "neutral", "--min-gex", "1")
    assert empty.exit_code == 0 and "no underlying passes the filters" in empty.stdout


@pytest.mark.parametrize(("args", "code", "text"), [
    (("--sort", "gamma"), 2, "unknown --sort 'gamma'; choose one of net-gex, gex-adv, call-share"),
    (("--regime", "long"), 2, "unknown --regime 'long'"),
    (("--min-gex", "2bn", "--max-gex", "1bn"), 2, "--min-gex/--max-gex: minimum 2e+09 is above maximum 1e+09"),
    (("--min-gex", "lots"), 2, "--min-gex 'lots': give dollars per 1% move"),
    (("--min-call-share", "60"), 2, "--min-call-share 60: give a fraction between 0 and 1"),
    (("--session", "Jan 3"), 2, "is not a date like"),
    (("--preset", "spotgamma"), 2, "unknown --preset 'spotgamma'"),
    (("--session", "2025-01-06"), 1, f"no computed session 2025-01-06; 2 sessions from {D1} to {D2} (previous {D2})"),
])
def test_mistakes_are_one_line_errors(warehouse, args, code, text):
    assert text in error(run(warehouse, *args), code)


def test_an_empty_or_missing_warehouse_is_a_one_line_error(tmp_path):
    from gex_warehouse.connect import connect

    connect(tmp_path / "empty.duckdb").close()
    assert "no computed session: run `gex ingest` then `gex compute --all` first" in error(
        run(tmp_path / "empty.duckdb"), 1)
    assert "no warehouse at" in error(run(tmp_path / "none.duckdb"), 1)


def test_reads_the_published_snapshot_while_a_writer_holds_the_warehouse(tmp_path):
    """As a user runs it (subprocess, real exit code) during a backfill: the snapshot answers, the lock is not hit."""
    from gex_warehouse.connect import connect
    from gex_warehouse.published import refresh_snapshot

    target = build_scanner_warehouse(tmp_path / "gex.duckdb")
    writer = connect(target)
    try:
        refresh_snapshot(writer, target)
        done = subprocess.run([sys.executable, "-m", "gex_cli", "scan", "-w", str(target), "--json", "--top", "1"],
                              capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
        assert done.returncode == 0, done.stderr
        assert [r["underlying"] for r in json.loads(done.stdout)["rows"]] == ["EEE"]
        # the snapshot keeps every preset's rows and filters them like the warehouse's views
        other = subprocess.run([sys.executable, "-m", "gex_cli", "scan", "-w", str(target), "--json", "--preset", "perfiliev"],
                               capture_output=True, text=True, timeout=300)
        assert [(r["underlying"], r["underlyings_in_session"]) for r in json.loads(other.stdout)["rows"]] == [("AAA", 1)]
    finally:
        writer.close()


def test_the_cli_knows_the_scanners_sort_keys():
    from gex_warehouse.scanner import REGIMES, SORT_KEYS

    from gex_cli.scan_cmd import REGIME_NAMES, SORT_NAMES

    assert SORT_NAMES == tuple(SORT_KEYS) and REGIME_NAMES == REGIMES
