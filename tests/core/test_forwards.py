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
