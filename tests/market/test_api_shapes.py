"""The generator renders every API shape (gex_market.api_shapes) and the parsers read it back.

Round trip: generated chain -> responses -> fetch bundle -> gex_sources parser -> the same contracts, and
``gex.analysis.analyze`` totals and flip equal to analysing the original snapshot.

Tolerances, and why: prices, OI and volume survive exactly (the generator quotes on 0.05 ticks, every shape
carries 2 decimals or more). IVs survive exactly too: the generator publishes IV at 4 decimals (as Cboe
does), within every shape's precision (Schwab's percent with 3 decimals = 5 decimals). Vendor greeks are
rounded by Cboe (4 decimals, as generated: exact) and Schwab (3 decimals: |error| <= 5e-4); the native
analysis values every contract from its IV and does not read vendor greeks, so totals and flip agree to
floating-point noise (rel 1e-12, flip 1e-6 points).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import polars as pl
import pytest
from gex.analysis import analyze
from gex.conventions import preset
from gex_market import generate_chain
from gex_market.api_shapes import bond_equivalent_percent, render_rate_responses, render_responses
from gex_sources import detect_format, read_chain, read_reference

from tests.api_helpers import make_bundle, write

KEYS = ["root", "expiration", "strike", "right"]
#: Largest |difference| each shape's rounding allows for IV and vendor gamma.
IV_TOL = {"cboe": 0.0, "tradier": 1e-9, "polygon": 0.0, "schwab": 5e-6}
GAMMA_TOL = {"cboe": 0.0, "tradier": 1e-9, "polygon": 0.0, "schwab": 5e-4}


@pytest.fixture(scope="module")
def snapshot():
    return generate_chain(dt.date(2024, 7, 15), 5600.0, seed=2, max_contracts=1500)


@pytest.fixture(scope="module")
def reference(snapshot):
    return analyze(snapshot, preset("native"))


@pytest.mark.parametrize("source", ["cboe", "tradier", "polygon", "schwab"])
def test_chain_round_trip(source, snapshot, reference, tmp_path: Path) -> None:
    responses = render_responses(snapshot, source, base_url="http://127.0.0.1:9", page_size=200)
    path = write(tmp_path, make_bundle(source, "SPX", responses, snapshot.snapshot_ts, session=snapshot.session))
    assert detect_format(path) == f"{source}_bundle"
    back = read_chain(path)
    assert back.source_format == f"{source}_bundle" and back.rejects.height == 0 and back.warnings == ()
    assert (back.underlying, back.session, back.spot) == ("SPX", snapshot.session, snapshot.spot)
    assert back.snapshot_ts == snapshot.snapshot_ts and back.valuation_ts == snapshot.valuation_ts
    assert back.frame.height == snapshot.frame.height
    a = snapshot.frame.sort(KEYS)
    b = back.frame.sort(KEYS)
    assert a.select(*KEYS, "settlement", "settlement_ts", "oi_date").equals(b.select(*KEYS, "settlement", "settlement_ts", "oi_date"))
    for column in ("bid", "ask", "open_interest", "volume"):
        assert a[column].to_list() == b[column].to_list(), column
    assert (a["last"].fill_null(0) - b["last"].fill_null(0)).abs().max() == 0.0
    assert (a["vendor_iv"] - b["vendor_iv"]).abs().max() <= IV_TOL[source]
    assert (a["vendor_gamma"] - b["vendor_gamma"]).abs().max() <= GAMMA_TOL[source]
    result = analyze(back, preset("native"))
    assert result.total_gex == pytest.approx(reference.total_gex, rel=1e-12)
    assert result.call_gex == pytest.approx(reference.call_gex, rel=1e-12)
    assert (result.gamma_flip is None) == (reference.gamma_flip is None)
    if reference.gamma_flip is not None:
        assert result.gamma_flip == pytest.approx(reference.gamma_flip, abs=1e-6)


def test_shapes_carry_the_quirks(snapshot) -> None:
    cboe = render_responses(snapshot, "cboe")
    assert [r.path for r in cboe] == ["/api/global/delayed_quotes/options/_SPX.json"]
    doc = json.loads(cboe[0].body)
    assert doc["symbol"] == "_SPX" and doc["data"]["symbol"] == "^SPX" and len(doc["data"]["options"]) == snapshot.frame.height
    assert set(doc["data"]["options"][0]) >= {"option", "bid", "ask", "iv", "open_interest", "gamma", "last_trade_time"}

    tradier = render_responses(snapshot, "tradier")
    assert tradier[0].role == "expirations" and tradier[-1].role == "quote"
    chains = [r for r in tradier if r.role == "chain"]
    assert len(chains) == snapshot.frame["expiration"].n_unique()
    assert all(r.query["expiration"] == r.params["expiration"] for r in chains)

    polygon = render_responses(snapshot, "polygon", base_url="http://127.0.0.1:9/", page_size=250)
    assert len(polygon) == math.ceil(snapshot.frame.height / 250)
    pages = [json.loads(r.body) for r in polygon]
    assert all(p["next_url"].startswith("http://127.0.0.1:9/v3/snapshot/options/I:SPX?cursor=") for p in pages[:-1])
    assert "next_url" not in pages[-1]
    assert pages[0]["results"][0]["details"]["ticker"].startswith("O:SPX")
    assert sum(len(p["results"]) for p in pages) == snapshot.frame.height

    schwab = json.loads(render_responses(snapshot, "schwab")[0].body)
    contracts = [c for strikes in schwab["callExpDateMap"].values() for cs in strikes.values() for c in cs]
    assert all(len(c["symbol"]) == 21 for c in contracts) and max(c["volatility"] for c in contracts) > 5  # percent


def test_lone_contract_and_lone_expiration_are_objects(snapshot, tmp_path: Path) -> None:
    one = snapshot.frame.filter(pl.col("right") == "C").sort("open_interest", descending=True).head(1)
    from dataclasses import replace

    lone = replace(snapshot, frame=one)
    responses = render_responses(lone, "tradier")
    assert isinstance(json.loads(responses[0].body)["expirations"]["date"], str)
    assert isinstance(json.loads(responses[1].body)["options"]["option"], dict)
    back = read_chain(write(tmp_path, make_bundle("tradier", "SPX", responses, snapshot.snapshot_ts)))
    assert back.frame.height == 1 and back.frame["strike"][0] == one["strike"][0]


def test_missing_iv_and_greeks_round_trip_as_null(snapshot, tmp_path: Path) -> None:
    """Polygon omits greeks/IV of illiquid contracts; Schwab writes "NaN" and -999.0: all come back null."""
    holes = snapshot.frame.with_columns(
        vendor_iv=pl.when(pl.col("source_line") % 7 == 0).then(None).otherwise(pl.col("vendor_iv")),
        vendor_gamma=pl.when(pl.col("source_line") % 7 == 0).then(None).otherwise(pl.col("vendor_gamma")),
    )
    from dataclasses import replace

    snap = replace(snapshot, frame=holes)
    nulls = holes["vendor_iv"].null_count()
    assert nulls > 0
    for source in ("polygon", "schwab", "tradier"):
        body = b"".join(r.body for r in render_responses(snap, source))
        if source == "schwab":
            assert b'"NaN"' in body and b"-999.0" in body
        back = read_chain(write(tmp_path, make_bundle(source, "SPX", render_responses(snap, source), snap.snapshot_ts)))
        assert back.frame["vendor_iv"].null_count() == nulls, source
        assert back.rejects.height == 0


def test_occ_series_round_trip(snapshot, tmp_path: Path) -> None:
    responses = render_responses(snapshot, "occ")
    path = write(tmp_path, make_bundle("occ", "SPX", responses, snapshot.snapshot_ts))
    assert detect_format(path) == "occ_bundle"
    oi = read_reference(path)
    assert oi.kind == "open_interest" and oi.rejects.height == 0
    assert oi.frame.height == snapshot.frame.height  # every strike has a call and a put
    assert set(oi.frame["publish_date"]) == {snapshot.session}  # downloaded that evening
    assert set(oi.frame["oi_date"]) == set(snapshot.frame["oi_date"])
    got = oi.frame.select(*KEYS, "open_interest").sort(KEYS)
    want = snapshot.frame.select(*KEYS, "open_interest").sort(KEYS)
    assert got.with_columns(pl.col("right").cast(pl.String)).equals(want.with_columns(pl.col("right").cast(pl.String)))


CURVES = [
    (dt.date(2024, 7, 12), {"1M": 0.0531, "3M": 0.0529, "6M": 0.0512, "1Y": 0.0489, "2Y": 0.0452, "10Y": 0.0418}),
    (dt.date(2024, 7, 15), {"1M": 0.0530, "3M": 0.0527, "6M": 0.0510, "1Y": 0.0485, "2Y": 0.0449, "10Y": 0.0421}),
]


@pytest.mark.parametrize("source", ["treasury", "fred"])
def test_rates_round_trip(source, tmp_path: Path) -> None:
    responses = render_rate_responses(CURVES, source)
    assert len(responses) == (1 if source == "treasury" else 6)
    if source == "treasury":
        assert responses[0].body.startswith(b'Date,"1 Mo","3 Mo"') and b"07/15/2024" in responses[0].body.split(b"\n")[1]
    path = write(tmp_path, make_bundle(source, None, responses, dt.datetime(2024, 7, 16, 1, tzinfo=dt.UTC)))
    assert detect_format(path) == f"{source}_bundle"
    rates = read_reference(path)
    assert rates.kind == "rates" and rates.rejects.height == 0 and rates.frame.height == 12
    days = {"1M": 30, "3M": 91, "1Y": 365, "10Y": 3650}
    for day, curve in CURVES:
        for tenor, n in days.items():
            got = rates.frame.filter((pl.col("date") == day) & (pl.col("tenor_days") == n))["rate"].item()
            # 2 decimals of a percent bond-equivalent yield: |error| <= 0.005% = 5e-5 (times d(cont)/d(be) < 1)
            assert abs(got - curve[tenor]) <= 5e-5
    assert bond_equivalent_percent(0.05) == pytest.approx(200 * (math.exp(0.025) - 1))


def test_render_refuses_unknown_source(snapshot) -> None:
    with pytest.raises(ValueError, match="unknown source"):
        render_responses(snapshot, "yahoo")
    with pytest.raises(ValueError, match="page_size"):
        render_responses(snapshot, "polygon", page_size=0)
    with pytest.raises(ValueError, match="treasury or fred"):
        render_rate_responses(CURVES, "cboe")


def test_render_is_deterministic(snapshot) -> None:
    for source in ("cboe", "tradier", "polygon", "schwab", "occ"):
        assert render_responses(snapshot, source) == render_responses(snapshot, source)
