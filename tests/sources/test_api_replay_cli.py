"""Replay acceptance (issue 11): fetch bundles of every source -> `gex ingest DIR` -> `gex compute` -> mart
totals and flip equal `gex analyze BUNDLE` on the same bundle. Subprocesses: real exit codes and output.

One warehouse, one generated SPX chain per source on its own session (so the four do not replace each
other); the reference bundles (OCC open interest, Treasury and FRED rates) are ingested afterwards into the
same warehouse and counted (ingesting them first would change the OI source and rate compute uses, which
`gex analyze` of a lone chain bundle cannot know).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from gex_market import generate_chain
from gex_market.api_shapes import render_rate_responses, render_responses
from gex_warehouse.connect import connect

from tests.api_helpers import make_bundle, write
from tests.gex_runner import Done, gex_in_process, gex_process

SESSIONS = {"cboe": dt.date(2024, 7, 8), "tradier": dt.date(2024, 7, 9), "polygon": dt.date(2024, 7, 10),
            "schwab": dt.date(2024, 7, 11)}  # fmt: skip


def gex(*args: str) -> Done:
    """``gex *args`` in this process (:mod:`tests.gex_runner`); the first ingest is a real process."""
    return gex_in_process(*args)


def test_bundles_ingest_compute_equal_analyze(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    bundles = {}
    for i, (source, session) in enumerate(SESSIONS.items()):
        snap = generate_chain(session, 5500.0 + 20 * i, seed=2 + i, max_contracts=800)
        bundle = make_bundle(source, "SPX", render_responses(snap, source, page_size=150), snap.snapshot_ts, session=session)
        bundles[source] = write(landing, bundle, f"SPX_{session}.{source}.zip")
    wh = tmp_path / "gex.duckdb"
    done = gex_process("ingest", str(landing), "--warehouse", str(wh), timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    done = gex("compute", "--all", "--warehouse", str(wh))
    assert done.returncode == 0, done.stderr + done.stdout
    assert "4 sessions computed (0 failed)" in done.stdout

    con = connect(wh)
    try:
        marts = {
            s: (total, flip, rate, used)
            for s, total, flip, rate, used in con.execute(
                "SELECT session, total_gex_usd_per_1pct, gamma_flip, rate, contracts_used FROM mart.regime_daily "
                "WHERE underlying = 'SPX' ORDER BY session"
            ).fetchall()
        }
    finally:
        con.close()
    for source, session in SESSIONS.items():
        total, flip, rate, used = marts[session]
        out = gex("analyze", str(bundles[source]), "--json", "--rate", repr(rate))
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result["as_of"] == session.isoformat() and result["underlying"] == "SPX"
        assert result["total_gex"] == pytest.approx(total, rel=1e-9), source
        assert result["contracts_used"] == used
        assert (result["gamma_flip"] is None) == (flip is None)
        if flip is not None:
            assert result["gamma_flip"] == pytest.approx(flip, abs=1e-6), source

    # reference bundles load through the same command
    ref = tmp_path / "reference"
    ref.mkdir()
    snap = generate_chain(SESSIONS["cboe"], 5500.0, seed=2, max_contracts=800)
    write(ref, make_bundle("occ", "SPX", render_responses(snap, "occ"), snap.snapshot_ts), "SPX.occ.zip")
    curves = [(SESSIONS["cboe"], {"1M": 0.053, "3M": 0.0527, "1Y": 0.0485, "10Y": 0.042})]
    received = dt.datetime(2024, 7, 9, 12, tzinfo=dt.UTC)
    write(ref, make_bundle("treasury", None, render_rate_responses(curves, "treasury"), received), "t.treasury.zip")
    write(ref, make_bundle("fred", None, render_rate_responses(curves, "fred"), received), "f.fred.zip")
    done = gex("ingest", str(ref), "--warehouse", str(wh))
    assert done.returncode == 0, done.stderr + done.stdout
    con = connect(wh)
    try:
        n_rates = con.execute("SELECT count(*) FROM core.rates").fetchone()[0]
    finally:
        con.close()
    assert n_rates >= 4
