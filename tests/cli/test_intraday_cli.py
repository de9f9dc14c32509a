"""`gex intraday` and `gex serve --intraday`: usage errors are one line and exit 2 before anything runs; the
dry run shows the intraday deployment, its cron and its next runs (NYSE calendar)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def gex(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gex_cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture
def watchlist(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text('[[watch]]\nsource = "cboe"\nsymbols = ["SPX"]\n')
    return path


@pytest.mark.parametrize("args, words", [
    ((), "give --watchlist FILE"),
    (("--every", "7"), "--every: intraday interval 7 minutes: choose one of"),
    (("--lock-wait", "-1"), "--lock-wait cannot be negative"),
    (("--preset", "nope"), "unknown preset 'nope'"),
])
def test_intraday_usage_errors(tmp_path, watchlist, monkeypatch, args, words):
    monkeypatch.delenv("GEX_WATCHLIST", raising=False)
    extra = () if not args else ("--watchlist", str(watchlist))
    done = gex("intraday", *extra, *args, "-w", str(tmp_path / "w.duckdb"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("gex: error: ") and words in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_intraday_bad_watchlist_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[watch]]\nsource = "yahoo"\nsymbols = ["SPX"]\n')
    done = gex("intraday", "--watchlist", str(bad), "--once")
    assert done.returncode == 2 and "unknown source" in done.stderr and str(bad) in done.stderr


def test_serve_dry_run_shows_the_intraday_deployment(tmp_path, watchlist):
    (tmp_path / "landing").mkdir()
    base = ("serve", "--dry-run", "--landing", str(tmp_path / "landing"), "-w", str(tmp_path / "w.duckdb"))
    done = gex(*base, "--watchlist", str(watchlist), "--intraday")
    assert done.returncode == 0, done.stderr
    assert "deployment: intraday/gex-intraday (flow pipelines.intraday.intraday)" in done.stdout
    assert "cron '*/5 9-16 * * 1-5' in America/New_York, gated by the NYSE calendar" in done.stdout
    assert "deployment: nightly/gex-nightly" in done.stdout  # beside the nightly one
    done = gex(*base, "--watchlist", str(watchlist), "--intraday", "--intraday-every", "15")
    assert done.returncode == 0 and "cron '*/15 9-16 * * 1-5'" in done.stdout
    done = gex(*base, "--intraday")
    assert done.returncode == 2 and "--intraday needs --watchlist" in done.stderr
    done = gex(*base, "--watchlist", str(watchlist), "--intraday", "--intraday-every", "45")
    assert done.returncode == 2 and "--intraday-every" in done.stderr
