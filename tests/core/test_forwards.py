"""Parity forwards recover the carry that generated the quotes (reference prices from scipy)."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy.stats import norm

from gex.forwards import parity_forwards


def _bs(s, k, r, q, sig, t, call):
    d1 = (np.log(s / k) + (r - q + 0.5 * sig * sig) * t) / (sig * np.sqrt(t))
    d2 = d1 - sig * np.sqrt(t)
    if call:
        return s * np.exp(-q * t) * norm.cdf(d1) - k * np.exp(-r * t) * norm.cdf(d2)
    return k * np.exp(-r * t) * norm.cdf(-d2) - s * np.exp(-q * t) * norm.cdf(-d1)


def _quotes(spot, r, q, t, strikes, half_spread=0.05, exp=dt.date(2024, 3, 15)):
    rows = []
    for k in strikes:
        for right in ("C", "P"):
            p = _bs(spot, k, r, q, 0.2, t, right == "C")
            rows.append({"expiration": exp, "settlement": "PM", "strike": k, "right": right,
                         "bid": p - half_spread, "ask": p + half_spread, "tenor_years": t, "rate": r})
    return pl.DataFrame(rows)


def test_forward_and_carry_are_recovered():
    spot, r, q, t = 4700.0, 0.05, 0.015, 0.25
    f = parity_forwards(_quotes(spot, r, q, t, np.arange(4500.0, 4900.0, 10.0)), spot)
    assert f.height == 1
    assert f["forward"].item() == pytest.approx(spot * np.exp((r - q) * t), rel=1e-12)
    assert f["parity_dividend_yield"].item() == pytest.approx(q, abs=1e-10)
    assert f["parity_pairs"].item() == 5


def test_one_sided_and_absurd_quotes_are_ignored():
    spot = 100.0
    quotes = _quotes(spot, 0.03, 0.0, 0.5, [95.0, 100.0, 105.0]).with_columns(bid=pl.lit(0.0))
    assert parity_forwards(quotes, spot).is_empty()
    # A crossed market gives a forward far from spot: treated as a bad quote, not as carry.
    bad = _quotes(spot, 0.03, 0.0, 0.5, [100.0]).with_columns(
        bid=pl.when(pl.col("right") == "C").then(60.0).otherwise(pl.col("bid")),
        ask=pl.when(pl.col("right") == "C").then(61.0).otherwise(pl.col("ask")),
    )
    assert parity_forwards(bad, spot).is_empty()


# ---- the numpy path against the polars statement (parity_forwards_reference), bit for bit -----------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gex.forwards import parity_forwards_reference  # noqa: E402

_SETTLEMENT = pl.Enum(["AM", "PM"])


def _assert_same(contracts: pl.DataFrame, spot: float) -> None:
    for n in (1, 2, 5):
        fast, ref = parity_forwards(contracts, spot, n), parity_forwards_reference(contracts, spot, n)
        assert fast.schema == ref.schema
        assert fast.equals(ref), (fast, ref)


@st.composite
def _chains(draw):
    """Quotes on a few expiries (AM/PM), strikes on a coarse grid and prices in cents, so gaps tie and keys repeat."""
    n = draw(st.integers(0, 40))
    tenors = {e: draw(st.floats(-0.01, 2.0, allow_nan=False)) for e in range(3)}
    rows = []
    for _ in range(n):
        e = draw(st.integers(0, 2))
        mid = draw(st.integers(0, 2000)) / 100
        half = draw(st.sampled_from([0.0, 0.01, 0.05, -0.01]))
        rows.append({"expiration": dt.date(2024, 3, 15) + dt.timedelta(days=7 * e),
                     "settlement": draw(st.sampled_from(["AM", "PM"])), "strike": draw(st.sampled_from([95.0, 100.0, 105.0, 110.0, 90.0, 101.5])),
                     "right": draw(st.sampled_from(["C", "P"])), "bid": mid - half, "ask": mid + half,
                     "tenor_years": draw(st.sampled_from([tenors[e], 0.25])) if draw(st.booleans()) else tenors[e],
                     "rate": draw(st.sampled_from([0.05, 0.0, 0.043836]))})
    schema = {"expiration": pl.Date, "settlement": pl.String, "strike": pl.Float64, "right": pl.String,
              "bid": pl.Float64, "ask": pl.Float64, "tenor_years": pl.Float64, "rate": pl.Float64}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    if draw(st.booleans()):
        frame = frame.with_columns(pl.col("settlement").cast(_SETTLEMENT), pl.col("right").cast(pl.Enum(["C", "P"])))
    return frame


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_chains(), st.sampled_from([100.0, 57.07, 101.3]))
def test_parity_forwards_equal_the_polars_statement(contracts, spot):
    _assert_same(contracts, spot)


def test_parity_forwards_equal_the_polars_statement_by_hand():
    spot, r, q = 4700.0, 0.05, 0.015
    frames = [_quotes(spot, r, q, t, np.arange(4500.0, 4900.0, 10.0), exp=dt.date(2024, 3, 15) + dt.timedelta(days=d))
              for t, d in ((0.25, 0), (0.5, 91), (0.01, -88))]
    chain = pl.concat(frames)
    _assert_same(chain, spot)
    _assert_same(chain.with_columns(pl.col("settlement").cast(_SETTLEMENT)), spot)
    _assert_same(chain.head(0), spot)
    _assert_same(chain.with_columns(bid=pl.lit(0.0)), spot)  # nothing two-sided
    _assert_same(chain.with_columns(bid=pl.when(pl.col("strike") == 4600.0).then(None).otherwise("bid")), spot)  # nulls
    _assert_same(pl.concat([chain, chain.head(2)]), spot)  # a repeated contract: the join multiplies it
    # the 6 most at-the-money gaps tied: the reference's choice stands
    tied = chain.with_columns(bid=pl.lit(1.0), ask=pl.lit(1.0))
    _assert_same(tied, spot)


def test_parity_forwards_equal_the_polars_statement_on_a_real_chain():
    from gex_sources import read_chain

    from gex.analysis import analyze
    from gex.conventions import preset
    from tests.conftest import shared_file

    snapshot = read_chain(shared_file("cboe_csv/SPY_2023-09-14_eod__carlosjimenezdiaz_GEX_Python.csv"))
    a = analyze(snapshot, preset("native"), rate=0.0451)
    frame = pl.concat([a.contracts, a.excluded], how="diagonal_relaxed")
    assert not a.forwards.is_empty()
    _assert_same(frame.filter(pl.col("tenor_years").is_not_null()), snapshot.spot)


@st.composite
def _carry_case(draw):
    """Contracts on a few expiries and both settlements (some keys null), and forwards of some of those keys
    (some absent, yields null or NaN, a key repeated)."""
    days = [dt.date(2024, 3, 15) + dt.timedelta(days=7 * e) for e in range(4)]
    n = draw(st.integers(0, 30))
    nullable = draw(st.booleans())
    rows = [{"expiration": None if nullable and draw(st.integers(0, 9)) == 0 else draw(st.sampled_from(days)),
             "settlement": draw(st.sampled_from(["AM", "PM"])), "strike": float(i)} for i in range(n)]
    frame = pl.DataFrame(rows, schema={"expiration": pl.Date, "settlement": pl.String, "strike": pl.Float64},
                         orient="row").with_columns(pl.col("settlement").cast(_SETTLEMENT))
    keys = draw(st.lists(st.tuples(st.sampled_from(days), st.sampled_from(["AM", "PM"])), max_size=6,
                         unique=not draw(st.integers(0, 4)) == 0))
    yields = [draw(st.one_of(st.floats(-0.05, 0.1, allow_nan=False), st.none(), st.just(float("nan")))) for _ in keys]
    fwd = pl.DataFrame({"expiration": [k[0] for k in keys], "settlement": [k[1] for k in keys],
                        "parity_dividend_yield": yields},
                       schema={"expiration": pl.Date, "settlement": _SETTLEMENT, "parity_dividend_yield": pl.Float64})
    return frame, fwd, draw(st.sampled_from([0.0, 0.013]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_carry_case())
def test_parity_yields_equal_the_join(case):
    """``analysis.parity_yields`` (arrays) against the join it replaces, bit for bit (NaN yields kept, null
    ones filled); cases the arrays cannot match as the join does (null keys, a repeated forward key) say so."""
    from gex.analysis import attach_parity_yields_reference, parity_yields

    frame, fwd, default = case
    ref = attach_parity_yields_reference(frame, fwd, default)
    fast = parity_yields(frame, fwd, default)
    repeated = fwd.select("expiration", "settlement").is_duplicated().any()
    if frame["expiration"].null_count() or repeated:
        assert fast is None
        return
    assert fast is not None
    got = frame.with_columns(fast)
    assert got.schema == ref.schema and got.equals(ref), (got, ref)
    assert np.array_equal(got["dividend_yield"].to_numpy(), ref["dividend_yield"].to_numpy(), equal_nan=True)
