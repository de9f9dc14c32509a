"""`gex serve --watchlist`: the deployment fires at the watchlist's EOD time after every NYSE close (early closes
included, holidays skipped); a firing that is not a session's fetch does nothing."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from gex.calendar import NEW_YORK
from gex_fetch.schedule import cron_for, is_due, next_runs


def test_every_fetch_instant_is_a_cron_firing_and_due():
    start = dt.datetime(2024, 1, 1, tzinfo=NEW_YORK)
    runs = next_runs("16:20", start, 260)  # a year of fetches, including 3 early closes
    assert {(r.hour, r.minute) for r in runs} == {(16, 20), (13, 20)}
    cron = cron_for("16:20")
    assert cron == "20 13,16 * * 1-5"
    for r in runs:
        assert is_due("16:20", r) == r.date()
        assert is_due("16:20", r + dt.timedelta(hours=3)) is None  # the other slot of an early close
    assert is_due("16:20", dt.datetime(2024, 12, 25, 16, 20, tzinfo=NEW_YORK)) is None  # Christmas
    assert is_due("16:20", dt.datetime(2024, 12, 24, 13, 20, tzinfo=NEW_YORK)) == dt.date(2024, 12, 24)  # early close
    assert is_due("16:20", dt.datetime(2024, 12, 23, 13, 20, tzinfo=NEW_YORK)) is None  # a regular day's early slot


def test_serve_dry_run_derives_the_schedule_from_the_watchlist(tmp_path):
    watch = tmp_path / "w.toml"
    watch.write_text('time = "16:45"\n[[watch]]\nsource = "cboe"\nsymbols = ["SPX"]\n')
    (tmp_path / "landing").mkdir()
    done = subprocess.run([sys.executable, "-m", "gex_cli", "serve", "--dry-run", "--landing", str(tmp_path / "landing"),
                           "--watchlist", str(watch), "-w", str(tmp_path / "w.duckdb")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "cron '45 13,16 * * 1-5' in America/New_York" in done.stdout
    assert f"watchlist={watch}" in done.stdout
