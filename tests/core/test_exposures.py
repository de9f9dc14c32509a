"""Dealer exposures and aggregations (gex.gex), independent of the greeks implementation."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gex.gex import contract_exposures, exposure_totals, per_dte_bucket_gex, per_expiry_gex, per_strike_gex

SESSION = dt.date(2024, 1, 5)


def _contracts(n=40, seed=0):
    rng = np.random.default_rng(seed)
    strikes = rng.choice(np.arange(4500.0, 4900.0, 25.0), n)
    right = rng.choice(["C", "P"], n)
    dte = rng.choice([0, 3, 7, 8, 30, 31, 200], n)
    return pl.DataFrame(
        {
            "session": [SESSION] * n,
            "root": rng.choice(["SPX", "SPXW"], n),
            "strike": strikes,
            "right": right,
            "expiration": [SESSION + dt.timedelta(days=int(d)) for d in dte],
            "settlement": ["PM"] * n,
            "open_interest": rng.integers(0, 5000, n),
            "multiplier": [100.0] * n,
            "gamma": rng.uniform(0, 0.01, n),
            "delta": np.where(right == "C", 1, -1) * rng.uniform(0, 1, n),
            "vanna": rng.normal(0, 1, n),
            "charm": rng.normal(0, 1, n),
        }
    )


def test_classic_gex_formula_units():
    # One call, one put: GEX = sign * gamma * OI * 100 * S^2 * 0.01 (dollars per 1% move).
    df = pl.DataFrame({"right": ["C", "P"], "open_interest": [1000, 2000], "multiplier": [100.0, 100.0],
                       "gamma": [0.002, 0.003], "delta": [0.5, -0.4], "vanna": [0.1, -0.2], "charm": [0.3, 0.4]})
    s = 4700.0
    ex = contract_exposures(df, s, "classic")
    assert ex["gex_usd_per_1pct"].to_list() == pytest.approx([0.002 * 1000 * 100 * s * s * 0.01, -0.003 * 2000 * 100 * s * s * 0.01])
    assert ex["dex_usd"].to_list() == pytest.approx([0.5 * 1000 * 100 * s, 0.4 * 2000 * 100 * s])
    assert ex["vex_usd_per_volpt"].to_list() == pytest.approx([0.1 * 1000 * 100 * s * 0.01, 0.2 * 2000 * 100 * s * 0.01])
    assert ex["cex_usd_per_day"].to_list() == pytest.approx([0.3 * 1000 * 100 * s / 365, -0.4 * 2000 * 100 * s / 365])


def test_positioning_conventions():
    df = pl.DataFrame({"right": ["C", "P"], "open_interest": [10, 10], "dealer_position": [-3.0, 7.0],
                       "multiplier": [100.0, 100.0], "gamma": [1.0, 1.0], "delta": [0.0, 0.0], "vanna": [0.0, 0.0], "charm": [0.0, 0.0]})
    assert contract_exposures(df, 1.0, "classic")["dealer_contracts"].to_list() == [10, -10]
    assert contract_exposures(df, 1.0, "all_short")["dealer_contracts"].to_list() == [-10, -10]
    assert contract_exposures(df, 1.0, "signed")["dealer_contracts"].to_list() == [-3, 7]
    with pytest.raises(ValueError, match="positioning"):
        contract_exposures(df, 1.0, "dealers_love_puts")


def test_aggregations_sum_to_total():
    ex = contract_exposures(_contracts(), 4700.0, "classic")
    total = exposure_totals(ex)
    for table in (per_strike_gex(ex), per_strike_gex(ex, by_root=True), per_expiry_gex(ex), per_dte_bucket_gex(ex)):
        for col in ("call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct", "dex_usd"):
            assert table[col].sum() == pytest.approx(total[col], rel=1e-12)
    assert total["net_gex_usd_per_1pct"] == pytest.approx(total["call_gex_usd_per_1pct"] + total["put_gex_usd_per_1pct"])
    assert total["call_gex_usd_per_1pct"] >= 0 >= total["put_gex_usd_per_1pct"]


def test_dte_buckets_have_fixed_order_and_boundaries():
    ex = contract_exposures(_contracts(200, seed=3), 4700.0, "classic")
    table = per_dte_bucket_gex(ex)
    assert table["dte_bucket"].to_list() == ["0", "1-7", "8-30", ">30"]
    dte = (ex["expiration"] - ex["session"]).dt.total_days()
    expected = {"0": dte == 0, "1-7": (dte >= 1) & (dte <= 7), "8-30": (dte >= 8) & (dte <= 30), ">30": dte > 30}
    for label, mask in expected.items():
        got = table.filter(pl.col("dte_bucket") == label)["contracts"].item()
        assert got == int(mask.sum())


def test_empty_buckets_are_zero_not_missing():
    ex = contract_exposures(_contracts(5).with_columns(expiration=pl.lit(SESSION + dt.timedelta(days=90))), 4700.0, "classic")
    table = per_dte_bucket_gex(ex)
    assert table.height == 4 and table.filter(pl.col("dte_bucket") == "0")["net_gex_usd_per_1pct"].item() == 0


@settings(max_examples=60, deadline=None)
@given(k=st.floats(0.0, 1e4), seed=st.integers(0, 10_000))
def test_gex_is_linear_in_open_interest(k, seed):
    base = _contracts(30, seed)
    scaled = base.with_columns(open_interest=pl.col("open_interest").cast(pl.Float64) * k)
    t0 = exposure_totals(contract_exposures(base, 4700.0, "classic"))
    t1 = exposure_totals(contract_exposures(scaled, 4700.0, "classic"))
    for key, v in t0.items():
        assert t1[key] == pytest.approx(k * v, rel=1e-9, abs=1e-6)


_SETTLEMENT = pl.Enum(["AM", "PM"])


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**32 - 1), with_nulls=st.booleans(), empty=st.booleans(),
       odd_keys=st.sampled_from(["none", "roots", "null_root", "nan_strike", "signed_zero_strike", "enum_right"]))
def test_aggregate_equals_its_reference_bit_for_bit(n, seed, with_nulls, empty, odd_keys):
    # the numpy group sums (gex._aggregate) against the frame-query reference, on every key set the marts use,
    # including an Enum key, repeated strikes across roots, null open interest, and the keys the numpy order
    # must get right or hand to the reference: many roots (non-ASCII, prefixes of each other), a null root, a
    # NaN strike, zero strikes of both signs, the chain's Enum right
    from gex.chain import RIGHTS
    from gex.gex import _aggregate, _aggregate_reference, dte_bucket_expr

    rng = np.random.default_rng(seed)
    frame = contract_exposures(_contracts(n, seed=seed % 1000), 4700.0, "classic").with_columns(
        settlement=pl.Series(rng.choice(["AM", "PM"], n), dtype=_SETTLEMENT),
        dte_bucket=dte_bucket_expr(),
    )
    if odd_keys == "roots":
        frame = frame.with_columns(root=pl.Series(rng.choice(["SPX", "SPXW", "SP", "Z", "a", "É", "", "SPX1"], n)))
    elif odd_keys == "null_root":
        frame = frame.with_columns(root=pl.when(pl.Series(rng.random(n) < 0.3)).then(None).otherwise(pl.col("root")))
    elif odd_keys == "nan_strike":
        frame = frame.with_columns(strike=pl.when(pl.Series(rng.random(n) < 0.3)).then(float("nan"))
                                   .otherwise(pl.col("strike")))
    elif odd_keys == "signed_zero_strike":
        frame = frame.with_columns(strike=pl.Series(rng.choice([0.0, -0.0, 4500.0], n)))
    elif odd_keys == "enum_right":
        frame = frame.with_columns(pl.col("right").cast(RIGHTS))
    if with_nulls:
        frame = frame.with_columns(open_interest=pl.when(pl.Series(rng.random(n) < 0.3)).then(None)
                                   .otherwise(pl.col("open_interest")))
    if empty:
        frame = frame.head(0)
    for keys in (["strike"], ["root", "strike"], ["expiration", "settlement"], ["dte_bucket"]):
        fast, reference = _aggregate(frame, keys), _aggregate_reference(frame, keys)
        assert fast.schema == reference.schema
        assert fast.equals(reference), keys


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**32 - 1), null_dates=st.booleans(), empty=st.booleans())
def test_dte_buckets_equal_their_reference_bit_for_bit(n, seed, null_dates, empty):
    # numpy bucketing (per_dte_bucket_gex) against the polars join of the reference, with expired contracts
    # (in no bucket), every boundary, empty buckets and missing dates
    from gex.gex import per_dte_bucket_gex_reference

    rng = np.random.default_rng(seed)
    days = rng.choice([-3, -1, 0, 1, 7, 8, 30, 31, 400], n)
    frame = contract_exposures(_contracts(n, seed=seed % 1000), 4700.0, "classic").with_columns(
        expiration=pl.Series([SESSION + dt.timedelta(days=int(d)) for d in days], dtype=pl.Date))
    if null_dates:
        frame = frame.with_columns(
            expiration=pl.when(pl.Series(rng.random(n) < 0.3)).then(None).otherwise(pl.col("expiration")),
            session=pl.when(pl.Series(rng.random(n) < 0.1)).then(None).otherwise(pl.col("session")))
    if empty:
        frame = frame.head(0)
    fast, reference = per_dte_bucket_gex(frame), per_dte_bucket_gex_reference(frame)
    assert fast.schema == reference.schema
    assert fast.equals(reference)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**32 - 1), with_nulls=st.booleans(), empty=st.booleans())
def test_group_tables_equal_the_four_aggregations(n, seed, with_nulls, empty):
    # group_tables (the analysis' four tables, their summed columns extracted once) gives what the four public
    # calls give, each of them tested against its frame-query reference above
    from gex.gex import group_tables

    rng = np.random.default_rng(seed)
    frame = contract_exposures(_contracts(n, seed=seed % 1000), 4700.0, "classic").with_columns(
        settlement=pl.Series(rng.choice(["AM", "PM"], n), dtype=_SETTLEMENT))
    if with_nulls:
        frame = frame.with_columns(open_interest=pl.when(pl.Series(rng.random(n) < 0.3)).then(None)
                                   .otherwise(pl.col("open_interest")))
    if empty:
        frame = frame.head(0)
    got = group_tables(frame)
    want = (per_strike_gex(frame), per_strike_gex(frame, by_root=True), per_expiry_gex(frame), per_dte_bucket_gex(frame))
    for fast, each in zip(got, want):
        assert fast.schema == each.schema
        assert fast.equals(each)


@settings(max_examples=80, deadline=None)
@given(sizes=st.lists(st.integers(0, 30), min_size=1, max_size=5), seed=st.integers(0, 2**32 - 1),
       odd=st.sampled_from(["none", "null_oi", "roots", "nan_strike", "null_date", "spot_per_chain"]))
def test_stacked_group_tables_equal_each_chains_own(sizes, seed, odd):
    # group_tables_stacked (several chains' rows one after the other, gex.batch) against group_tables of each
    # chain alone, bit for bit; keys only the polars reference reads (a NaN strike, a null date) give None
    from gex.gex import group_tables, group_tables_stacked

    rng = np.random.default_rng(seed)
    chains = []
    for k, n in enumerate(sizes):
        spot = 4700.0 if odd != "spot_per_chain" else float(rng.uniform(50, 5000))
        # an empty chain keeps the columns' dtypes (a frame built from no rows would have Null columns)
        frame = contract_exposures(_contracts(max(n, 1), seed=(seed + k) % 1000).head(n), spot, "classic").with_columns(
            settlement=pl.Series(rng.choice(["AM", "PM"], n), dtype=_SETTLEMENT))
        if odd == "null_oi":
            frame = frame.with_columns(open_interest=pl.when(pl.Series(rng.random(n) < 0.3)).then(None)
                                       .otherwise(pl.col("open_interest")))
        elif odd == "roots":
            frame = frame.with_columns(root=pl.Series(rng.choice(["SPX", "SPXW", "SP", "É", ""], n), dtype=pl.String))
        elif odd == "nan_strike" and n:
            frame = frame.with_columns(strike=pl.Series(np.where(rng.random(n) < 0.5, np.nan, frame["strike"])))
        elif odd == "null_date" and n:
            frame = frame.with_columns(expiration=pl.when(pl.Series(rng.random(n) < 0.5)).then(None)
                                       .otherwise(pl.col("expiration")))
        chains.append(frame)
    got = group_tables_stacked(pl.concat(chains), np.array(sizes))
    if got is None:
        assert odd in ("nan_strike", "null_date")
        return
    assert len(got) == len(chains)
    for chain, tables in zip(chains, got):
        for fast, alone in zip(tables, group_tables(chain)):
            assert fast.schema == alone.schema
            assert fast.equals(alone)
