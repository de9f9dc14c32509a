"""The canonical CSV/Parquet layout: round trips, minimal files with derived columns, several snapshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from gex.calendar import UTC, previous_session, session_close, settlement_instant, valuation_instant
from gex.chain import CHAIN_SCHEMA
from gex_sources import SourceError, detect_format, iter_chains, read_chain

SESSION = dt.date(2024, 1, 5)
CLOSE = session_close(SESSION)


def chain(n_strikes: int = 3, underlying: str = "SPX", spot: float = 4697.25) -> pl.DataFrame:
    """A small canonical chain (invented numbers): SPX AM monthly and SPXW PM rows, calls and puts."""
    rows = []
    line = 0
    for root, style in (("SPX", "AM"), ("SPXW", "PM")):
        exp = dt.date(2024, 1, 19)
        for k in range(n_strikes):
            strike = 4650.0 + 50 * k
            for right in "CP":
                line += 1
                rows.append({
                    "underlying": underlying, "session": SESSION, "snapshot_ts": CLOSE, "valuation_ts": CLOSE,
                    "symbol": f"{root}240119{right}{int(strike * 1000):08d}", "root": root, "expiration": exp,
                    "settlement": style, "settlement_ts": settlement_instant(exp, style), "strike": strike,
                    "right": right, "bid": 10.0 + k, "ask": 11.0 + k, "last": None, "volume": 5 * k,
                    "open_interest": 100 + k, "oi_date": previous_session(SESSION), "vendor_iv": 0.12,
                    "vendor_delta": 0.5, "vendor_gamma": 0.002, "vendor_vega": None, "vendor_theta": None,
                    "underlying_price": spot, "multiplier": 100.0, "source_line": line,
                })  # fmt: skip
    return pl.DataFrame(rows, schema=CHAIN_SCHEMA)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
@pytest.mark.parametrize("spill", [None, 0], ids=["in_memory", "spilled"])
def test_round_trip(tmp_path: Path, suffix: str, spill: int | None) -> None:
    frame = chain()
    path = tmp_path / f"chain.{suffix}"
    frame.write_csv(path) if suffix == "csv" else frame.write_parquet(path)
    assert detect_format(path) == "canonical"
    snap = read_chain(path, spill_bytes=spill)
    assert (snap.underlying, snap.session, snap.spot, snap.snapshot_ts) == ("SPX", SESSION, 4697.25, CLOSE)
    offset = 2 if suffix == "csv" else 1  # CSV: physical line (header is line 1); Parquet: 1-based row
    assert snap.frame.equals(frame.with_columns(source_line=pl.col("source_line") + offset - 1))
    assert snap.rejects.height == 0


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_minimal_columns_are_completed(tmp_path: Path, suffix: str) -> None:
    full = chain()
    minimal = full.select("underlying", "session", "symbol", "expiration", "strike", "right", "underlying_price",
                          "open_interest")  # fmt: skip
    path = tmp_path / f"mini.{suffix}"
    minimal.write_csv(path) if suffix == "csv" else minimal.write_parquet(path)
    snap = read_chain(path)
    derived = ["snapshot_ts", "valuation_ts", "root", "settlement", "settlement_ts", "oi_date", "multiplier"]
    assert snap.frame.select(derived).equals(full.select(derived))
    assert snap.frame.select(pl.col("bid", "vendor_iv", "volume").null_count()).row(0) == (12, 12, 12)


def test_intraday_snapshots_and_session_from_timestamp(tmp_path: Path) -> None:
    morning = dt.datetime(2024, 1, 5, 15, 30, tzinfo=UTC)
    lines = ["underlying,snapshot_ts,root,expiration,strike,right,underlying_price"]
    lines += [f"^SPX,2024-01-05T15:30:00Z,SPXW,2024-01-19,{k},C,4690.5" for k in (4700, 4750)]
    lines += ["SPX,2024-01-05 10:30:00-05:00,SPXW,2024-01-19,4800,P,4690.5"]  # same instant, New York offset
    lines += ["SPX,2024-01-06T15:00:00,SPXW,2024-01-19,4800,call,4701"]  # Saturday, no offset: UTC
    path = tmp_path / "intraday.csv"
    path.write_text("\n".join(lines) + "\n")
    snaps = list(iter_chains(path))
    assert [(s.underlying, s.snapshot_ts) for s in snaps] == [
        ("SPX", morning), ("SPX", dt.datetime(2024, 1, 6, 15, tzinfo=UTC))
    ]  # fmt: skip
    first, weekend = snaps
    assert first.frame.height == 3 and first.valuation_ts == morning and first.session == SESSION
    assert weekend.session == SESSION and weekend.valuation_ts == CLOSE and weekend.frame["right"].to_list() == ["C"]
    assert weekend.header_date == dt.date(2024, 1, 6)
    assert first.frame["symbol"].to_list()[0] == "SPXW240119C04700000"
    assert valuation_instant(morning) == morning


def test_bad_values_are_rejected_with_line_numbers(tmp_path: Path) -> None:
    lines = ["underlying,session,root,expiration,strike,right,underlying_price,open_interest,settlement"]
    lines += [
        "SPX,2024-01-05,SPXW,2024-01-19,4700,C,4697,10,",  # 2 good
        "SPX,2024-01-05,SPXW,2024-01-19,abc,C,4697,10,",  # 3 strike
        "SPX,2024-01-05,SPXW,2024-01-19,4700,X,4697,10,",  # 4 right
        "SPX,2024-01-05,SPXQ,2024-01-19,4700,C,4697,10,",  # 5 unknown root, no settlement given
        "SPX,2024-01-05,SPXQ,2024-01-19,4700,C,4697,10,PM",  # 6 unknown root, settlement given: kept
        "SPX,2024-01-07,SPXW,2024-01-19,4700,C,4697,10,",  # 7 Sunday is no session
        "SPX,2024-01-05,SPXW,2024-01-19,4700,C,4697,1.5,",  # 8 fractional open interest
        "SPX,2024-01-05,SPXW,2024-01-19,4700,C,4697,-2,",  # 9 negative OI kept
    ]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    snap = read_chain(path)
    assert snap.frame["source_line"].to_list() == [2, 6, 9]
    assert dict(zip(snap.rejects["source_line"], snap.rejects["reason"], strict=True)) == {
        3: "non-numeric strike: 'abc'",
        4: "unknown right: 'X'",
        5: "unknown settlement: root 'SPXQ' is not a known SPX root",
        7: "session 2024-01-07 is not an NYSE session",
        8: "non-integer open_interest: '1.5'",
    }


def test_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("underlying,session,symbol,expiration,right,underlying_price\nSPX,2024-01-05,S,2024-01-19,C,1\n")
    with pytest.raises(SourceError, match="unrecognised format"):  # not a canonical chain without strike
        detect_format(path)
    with pytest.raises(SourceError, match=r"x\.csv:1: missing required columns: strike"):
        read_chain(path, format="canonical")
    parquet = tmp_path / "y.parquet"
    chain().drop("snapshot_ts", "session").write_parquet(parquet)
    with pytest.raises(SourceError, match=r"y\.parquet: missing required columns: snapshot_ts or session"):
        read_chain(parquet, format="canonical")


def test_large_parquet_reads_completely(tmp_path: Path) -> None:
    """A 340k-row Parquet file reads in full through the vectorised path (its speed is measured in
    bench/bench_ingest.py, never asserted here)."""
    base = chain(n_strikes=50)
    many = pl.concat([base.with_columns(strike=pl.col("strike") + i / 1000) for i in range(1700)])  # 340k rows
    path = tmp_path / "many.parquet"
    many.write_parquet(path)
    snap = read_chain(path)
    assert snap.frame.height == many.height and snap.rejects.is_empty()
