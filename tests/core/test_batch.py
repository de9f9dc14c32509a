"""The stacked contract pass (gex.batch.value_chains) against each chain valued alone (gex.analysis.value_contracts),
bit for bit: real chains cut into single-stock-sized pieces under every preset, random parity quotes, and the
cases it must leave to the per-chain path. (The generated universe's marts: tests/warehouse/test_market_batches.py.)"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gex import batch
from gex.analysis import Valued, analyze, in_serial_pieces, value_contracts
from gex.conventions import PRESETS, preset
from gex.forwards import parity_forwards, parity_forwards_stacked
from gex.gex import group_tables
from tests.core.test_forwards import _chains as parity_quotes

REAL = ["cboe_csv/SPY_2023-09-14_eod__carlosjimenezdiaz_GEX_Python.csv",
        "cboe_json/SPY_2025-06-06_eod__osamanoman_tradingforcast.json",
        "cboe_csv/SPX_2023-08-18_eod__aryamanwastaken_gamma-exposure.csv"]


def assert_same_frame(got: pl.DataFrame, want: pl.DataFrame, what: str) -> None:
    """Same columns, dtypes, nulls and values; floats compared by their bits (NaN payloads and -0.0 included)."""
    assert got.columns == want.columns and got.dtypes == want.dtypes and got.height == want.height, what
    for a, b in zip(got.get_columns(), want.get_columns()):
        assert a.is_null().equals(b.is_null()), (what, a.name)
        if a.dtype == pl.Float64:
            assert np.array_equal(a.to_numpy().view(np.int64), b.to_numpy().view(np.int64)), (what, a.name)
        else:
            assert a.equals(b, null_equal=True), (what, a.name)


def assert_same_valued(got: Valued, want: Valued, what: str) -> None:
    """The stacked pass's result against a chain's own (whose group tables ``analyze`` makes from its exposures)."""
    for name in ("frame", "forwards", "exposures", "excluded"):
        assert_same_frame(getattr(got, name), getattr(want, name), f"{what}: {name}")
    if got.tables is not None:
        for i, (table, alone) in enumerate(zip(got.tables, group_tables(want.exposures))):
            assert_same_frame(table, alone, f"{what}: group table {i}")


def pieces_of(snapshot, expiries_per_piece: int = 2) -> list:
    """A real chain cut into chains of a few expirations each (single-stock sizes: under batch.MAX_CONTRACTS),
    each its own snapshot: real quotes, ties and gaps, many chains."""
    expirations = snapshot.frame["expiration"].unique().sort().to_list()
    out = []
    for i in range(0, len(expirations), expiries_per_piece):
        part = snapshot.frame.filter(pl.col("expiration").is_in(expirations[i:i + expiries_per_piece]))
        if 0 < part.height < batch.MAX_CONTRACTS:
            out.append(dataclasses.replace(snapshot, frame=part, underlying=f"{snapshot.underlying}{i}"))
    return out


@pytest.mark.parametrize("file", REAL)
def test_real_chains_cut_into_pieces_value_the_same_stacked_as_alone(file):
    from gex_sources import read_chain

    from tests.conftest import shared_file

    snapshot = read_chain(shared_file(file))
    chains = pieces_of(snapshot)
    assert len(chains) >= 5
    for name in PRESETS:
        # rates differ per chain (a whole-market chunk spans sessions): each chain's own rate, as analyze sets it
        convs = [preset(name).with_rate(0.0451 + 0.001 * (i % 3)) for i in range(len(chains))]
        stacked = batch.value_chains(chains, convs)
        assert sum(v is not None for v in stacked) >= len(chains) - 1, name  # the stacked path ran
        # and grouped the chains' rows too, unless the preset sums the vendor's gamma at spot
        assert all((v.tables is None) == (preset(name).spot_gamma == "vendor") for v in stacked if v is not None)
        for chain, conv, got in zip(chains, convs, stacked):
            if got is None:
                continue
            assert_same_valued(got, value_contracts(chain, conv), f"{name} {chain.underlying}")
            # and the whole analysis from it
            assert analyze(chain, conv, valued=got).to_dict() == analyze(chain, conv).to_dict()


def test_chains_the_stacked_pass_cannot_reproduce_are_left_alone():
    from gex_sources import read_chain

    from tests.conftest import shared_file

    snapshot = read_chain(shared_file(REAL[0]))
    chains = pieces_of(snapshot)[:4]
    big = dataclasses.replace(snapshot, underlying="BIG")  # the whole chain: over MAX_CONTRACTS
    assert big.frame.height >= batch.MAX_CONTRACTS
    no_spot = dataclasses.replace(chains[1], spot=float("nan"))  # its own analysis raises: it fails alone
    empty = dataclasses.replace(chains[2], frame=chains[2].frame.head(0))
    gflows = [chains[3]]  # another preset, alone in its group: nothing to share
    snaps = [chains[0], big, no_spot, empty, *gflows, chains[0]]
    convs = [preset("native")] * 4 + [preset("gflows"), preset("native")]
    got = batch.value_chains(snaps, convs)
    assert [v is not None for v in got] == [True, False, False, False, False, True]
    assert_same_valued(got[0], value_contracts(chains[0], preset("native")), "first")
    assert_same_valued(got[5], got[0], "the same chain twice")
    with pytest.raises(ValueError, match="2 snapshots but 1 conventions"):
        batch.value_chains(snaps[:2], convs[:1])


def test_a_chain_whose_parity_keys_the_lookup_cannot_match_is_left_alone(monkeypatch):
    from gex_sources import read_chain

    from tests.conftest import shared_file

    chains = pieces_of(read_chain(shared_file(REAL[0])))[:3]
    real = batch._forwards

    def repeated(stacked, heights, spots):  # chain 1's forwards repeat a key: its own join would repeat contracts
        out = real(stacked, heights, spots)
        out[1] = pl.concat([out[1], out[1].head(1)])
        return out

    monkeypatch.setattr(batch, "_forwards", repeated)
    got = batch.value_chains(chains, [preset("native")] * 3)
    assert [v is not None for v in got] == [True, False, True]
    assert_same_valued(got[2], value_contracts(chains[2], preset("native")), "third")


@st.composite
def stacked_quotes(draw):
    """1-5 chains of random parity quotes (tests/core/test_forwards.py: coarse strikes and cent prices, so gaps tie
    and keys repeat), all with one schema, and their spots."""
    chains = draw(st.lists(parity_quotes(), min_size=1, max_size=5))
    schema = chains[0].schema
    chains = [c.cast(dict(schema)) for c in chains]
    spots = draw(st.lists(st.sampled_from([100.0, 57.07, 101.3, -1.0]), min_size=len(chains), max_size=len(chains)))
    return chains, spots


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacked_quotes(), st.sampled_from([1, 2, 5]))
def test_stacked_parity_forwards_equal_each_chains_own(case, n_strikes):
    chains, spots = case
    stacked = parity_forwards_stacked(pl.concat(chains), np.array([c.height for c in chains]), np.array(spots),
                                      n_strikes)
    assert len(stacked) == len(chains)
    for chain, spot, got in zip(chains, spots, stacked):
        if got is None:  # left to the chain's own call (which may hand it to the polars statement)
            continue
        assert chain.height and spot > 0
        want = parity_forwards(chain, spot, n_strikes)
        assert got.schema == want.schema and got.equals(want), (got, want)


def test_stacked_parity_forwards_handle_most_chains_themselves():
    """Clean quotes on several expiries: every chain stacked (the fallback is for ties, repeats and bad values)."""
    from tests.core.test_forwards import _quotes

    chains = [pl.concat([_quotes(spot, 0.05, q, t, np.arange(spot * 0.8, spot * 1.2, spot / 40),
                                 exp=dt.date(2024, 3, 15) + dt.timedelta(days=d))
                         for t, d in ((0.25, 0), (0.5, 91))])
              for spot, q in ((100.0, 0.01), (57.07, 0.0), (4700.0, 0.015))]
    spots = [100.0, 57.07, 4700.0]
    got = parity_forwards_stacked(pl.concat(chains), np.array([c.height for c in chains]), np.array(spots))
    assert all(g is not None for g in got)
    for chain, spot, g in zip(chains, spots, got):
        assert g.height == 2 and g.equals(parity_forwards(chain, spot))


def test_in_serial_pieces_cuts_below_the_limit_and_joins_in_order():
    calls = []

    def fn(a, b):
        calls.append(a.size)
        return a + b, a * b

    a, b = np.arange(10.0), np.arange(10.0, 20.0)
    total, product = in_serial_pieces(fn, 4, [a, b])
    assert calls == [3, 3, 3, 1]
    assert np.array_equal(total, a + b) and np.array_equal(product, a * b)
    calls.clear()
    assert np.array_equal(in_serial_pieces(lambda x: x * 2, 100, [a]), a * 2)


@st.composite
def messy_chain(draw, underlying: str):
    """A small canonical chain with what real files carry: one-sided, crossed and missing quotes, vendor IVs missing,
    zero or absurd, missing and zero open interest, an expired expiry, repeated contracts, AM and PM roots."""
    from gex.calendar import NEW_YORK, settlement_instant
    from gex.chain import CHAIN_SCHEMA, ChainSnapshot, conform

    valuation = dt.datetime(2024, 3, 14, 20, 15, tzinfo=dt.timezone.utc)
    spot = draw(st.sampled_from([100.0, 57.07, 5100.0]))
    expiries = [dt.date(2024, 3, 13), dt.date(2024, 3, 14), dt.date(2024, 3, 15), dt.date(2024, 4, 19),
                dt.date(2025, 1, 17)]
    rows = []
    for i in range(draw(st.integers(1, 40))):
        exp = draw(st.sampled_from(expiries))
        style = draw(st.sampled_from(["AM", "PM"]))
        strike = spot * draw(st.sampled_from([0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25]))
        mid = draw(st.sampled_from([0.0, 0.05, 1.0, 2.5, spot * 0.1]))
        half = draw(st.sampled_from([0.0, 0.01, 0.05, -0.02]))
        quoted = draw(st.booleans())
        rows.append({
            "underlying": underlying, "session": valuation.astimezone(NEW_YORK).date(), "snapshot_ts": valuation,
            "valuation_ts": valuation, "symbol": f"X{i}", "root": "X" if style == "AM" else "XW",
            "expiration": exp, "settlement": style, "settlement_ts": settlement_instant(exp, style), "strike": strike,
            "right": draw(st.sampled_from(["C", "P"])), "bid": mid - half if quoted else None,
            "ask": mid + half if quoted else None, "last": None, "volume": 0,
            "open_interest": draw(st.sampled_from([None, 0, 10, 2500])), "oi_date": None,
            "vendor_iv": draw(st.sampled_from([None, 0.0, 0.2, 0.45, 12.0])), "vendor_delta": None,
            "vendor_gamma": draw(st.sampled_from([None, 0.01])), "vendor_vega": None, "vendor_theta": None,
            "underlying_price": spot, "multiplier": 100.0, "source_line": i + 1,
        })
    frame = conform(pl.DataFrame(rows, schema=CHAIN_SCHEMA))
    return ChainSnapshot(frame=frame, underlying=underlying, spot=spot, session=frame["session"][0],
                         snapshot_ts=valuation, valuation_ts=valuation, header_date=frame["session"][0],
                         source="generated", source_format="cboe_csv")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), n=st.integers(2, 5), name=st.sampled_from(list(PRESETS)))
def test_messy_chains_value_the_same_stacked_as_alone(data, n, name):
    chains = [data.draw(messy_chain(f"U{k}")) for k in range(n)]
    convs = [preset(name).with_rate(data.draw(st.sampled_from([0.0, 0.0451, 0.05]))) for _ in chains]
    for chain, conv, got in zip(chains, convs, batch.value_chains(chains, convs)):
        if got is not None:
            assert_same_valued(got, value_contracts(chain, conv), f"{name} {chain.underlying}")
