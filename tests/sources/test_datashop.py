"""Cboe DataShop Option EOD Summary (format D): hand-made files (numbers invented) and the real VIX sample."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from gex.calendar import previous_session, session_close, settlement_instant
from gex.chain import CHAIN_SCHEMA, REJECT_SCHEMA
from gex_sources import SourceError, detect_format, iter_chains, read_chain
from gex_sources.datashop import iter_datashop

from tests.conftest import shared_file

CALCS_HEADER = (
    "underlying_symbol,quote_date,root,expiration,strike,option_type,open,high,low,close,trade_volume,"
    "bid_size_1545,bid_1545,ask_size_1545,ask_1545,underlying_bid_1545,underlying_ask_1545,"
    "implied_underlying_price_1545,active_underlying_price_1545,implied_volatility_1545,delta_1545,gamma_1545,"
    "theta_1545,vega_1545,rho_1545,bid_size_eod,bid_eod,ask_size_eod,ask_eod,underlying_bid_eod,"
    "underlying_ask_eod,vwap,open_interest,delivery_code"
)
NAMES = CALCS_HEADER.split(",")
CALCS = {f"{g}_1545" for g in ("implied_volatility", "delta", "gamma", "theta", "vega", "rho")}
CALCS |= {"implied_underlying_price_1545", "active_underlying_price_1545"}
QUOTES_HEADER = ",".join(n for n in NAMES if n not in CALCS)

BASE = {
    "underlying_symbol": "^SPX", "quote_date": "2024-01-05", "root": "SPXW", "expiration": "2024-01-19",
    "strike": "4700.000", "option_type": "C", "open": "0", "high": "0", "low": "0", "close": "0",
    "trade_volume": "0", "bid_size_1545": "5", "bid_1545": "49.0", "ask_size_1545": "5", "ask_1545": "50.0",
    "underlying_bid_1545": "4695.00", "underlying_ask_1545": "4695.00", "implied_underlying_price_1545": "4696.1",
    "active_underlying_price_1545": "4695.00", "implied_volatility_1545": "0.1234", "delta_1545": "0.5500",
    "gamma_1545": "0.0021", "theta_1545": "-1.2345", "vega_1545": "3.4567", "rho_1545": "0.5",
    "bid_size_eod": "7", "bid_eod": "50.10", "ask_size_eod": "8", "ask_eod": "51.30",
    "underlying_bid_eod": "4697.00", "underlying_ask_eod": "4697.50", "vwap": "0", "open_interest": "1234",
    "delivery_code": "",
}  # fmt: skip


def row(header: str = CALCS_HEADER, **values: str) -> str:
    """One DataShop line in ``header``'s column order, from :data:`BASE` with ``values`` replaced."""
    merged = {**BASE, **values}
    return ",".join(merged[n] for n in header.split(","))


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def multi(tmp_path: Path) -> Path:
    """Two underlyings (an index and a stock) over two sessions, one bad line of each kind."""
    return write(
        tmp_path / "UnderlyingOptionsEODCalcs_2024-01-05.csv",
        [
            CALCS_HEADER,
            row(),  # 2
            row(root="SPX", option_type="P", close="12.5", trade_volume="3"),  # 3
            row(strike="abc"),  # 4: non-numeric strike
            row(underlying_symbol="AAPL", root="AAPL", strike="185.000", underlying_bid_eod="181.10",
                underlying_ask_eod="181.20"),  # 5 fmt: skip
            "",  # 6: blank, not a record
            row(root="SPXQ"),  # 7: unknown SPX root
            row(quote_date="2024-01-08"),  # 8: second session of SPX
            row(open_interest="12.5"),  # 9: fractional open interest
            row(open_interest="-3"),  # 10: negative OI is kept (semantics are the warehouse's)
            ",".join(row().split(",")[:20]),  # 11: truncated line
            row(quote_date="2024-01-06"),  # 12: a Saturday
            row(underlying_symbol="", root="SPX"),  # 13: no underlying: belongs to no snapshot
        ],
    )


def _by_key(path: Path, **options: object) -> dict[tuple[str, dt.date], object]:
    return {(s.underlying, s.session): s for s in iter_chains(path, **options)}


def test_detected_by_header_columns(tmp_path: Path, multi: Path) -> None:
    assert detect_format(multi) == "cboe_datashop"
    quotes = write(tmp_path / "whatever.txt", [QUOTES_HEADER, row(QUOTES_HEADER)])
    assert detect_format(quotes) == "cboe_datashop"


@pytest.mark.parametrize("spill", [None, 0], ids=["in_memory", "spilled"])
def test_one_snapshot_per_underlying_and_session(multi: Path, spill: int | None) -> None:
    snaps = _by_key(multi, spill_bytes=spill)
    assert set(snaps) == {("SPX", dt.date(2024, 1, 5)), ("SPX", dt.date(2024, 1, 8)), ("AAPL", dt.date(2024, 1, 5))}
    spx = snaps["SPX", dt.date(2024, 1, 5)]
    f = spx.frame
    assert f.schema == pl.Schema(CHAIN_SCHEMA)
    assert f["source_line"].to_list() == [2, 3, 10]
    assert spx.spot == 4697.25  # mid of underlying_bid_eod / underlying_ask_eod
    assert spx.snapshot_ts == spx.valuation_ts == session_close(dt.date(2024, 1, 5))
    assert set(f["oi_date"]) == {previous_session(dt.date(2024, 1, 5))}
    first = f.row(0, named=True)
    assert first["symbol"] == "SPXW240119C04700000" and first["settlement"] == "PM"
    assert (first["bid"], first["ask"]) == (50.10, 51.30)  # end-of-day quotes, not the 15:45 ones
    assert (first["vendor_iv"], first["vendor_delta"], first["vendor_gamma"]) == (0.1234, 0.55, 0.0021)
    assert (first["vendor_theta"], first["vendor_vega"]) == (-1.2345, 3.4567)
    assert first["last"] is None and first["volume"] == 0  # no trade: DataShop's close of 0 is no price
    put = f.row(1, named=True)
    assert (put["root"], put["settlement"], put["last"], put["right"]) == ("SPX", "AM", 12.5, "P")
    assert put["settlement_ts"] == settlement_instant(dt.date(2024, 1, 19), "AM")
    assert f.row(2, named=True)["open_interest"] == -3
    assert snaps["AAPL", dt.date(2024, 1, 5)].frame["settlement"].to_list() == ["PM"]
    assert snaps["AAPL", dt.date(2024, 1, 5)].spot == pytest.approx(181.15)


@pytest.mark.parametrize("spill", [None, 0], ids=["in_memory", "spilled"])
def test_every_bad_line_is_a_reject_with_its_line_number(multi: Path, spill: int | None) -> None:
    snaps = list(iter_chains(multi, spill_bytes=spill))
    rejects = pl.concat([s.rejects for s in snaps]).sort("source_line")
    assert rejects.schema == pl.Schema(REJECT_SCHEMA)
    reasons = dict(zip(rejects["source_line"], rejects["reason"], strict=True))
    assert reasons == {
        4: "non-numeric strike: 'abc'",
        7: "unknown settlement: root 'SPXQ' is not a known SPX root",
        9: "non-integer open_interest: '12.5'",
        11: "wrong number of fields: 20, expected 34",
        12: "quote_date 2024-01-06 is not an NYSE session",
        13: "missing underlying_symbol",
    }
    lines = multi.read_text().splitlines()
    assert all(raw == lines[n - 1] for n, raw in zip(rejects["source_line"], rejects["raw"], strict=True))
    # no silent drop: every non-blank data line is a contract or a reject
    assert sum(s.frame.height for s in snaps) + rejects.height == sum(1 for ln in lines[1:] if ln.strip())
    # lines of no snapshot ride on the last snapshot, with a warning
    assert any("belong to no snapshot" in w for w in snaps[-1].warnings)


def test_without_calcs_has_null_vendor_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "UnderlyingOptionsEODQuotes_2024-01-05.csv", [QUOTES_HEADER, row(QUOTES_HEADER)])
    snap = read_chain(path)
    assert snap.frame.select(pl.col("^vendor_.*$").null_count().sum()).sum_horizontal().item() == 5
    assert any("without Calcs" in w for w in snap.warnings)


def test_index_without_quotes_falls_back_to_the_1545_price(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", [CALCS_HEADER, row(underlying_bid_eod="0", underlying_ask_eod="0")])
    assert read_chain(path).spot == 4695.0  # active_underlying_price_1545
    none = write(tmp_path / "e.csv", [QUOTES_HEADER, row(QUOTES_HEADER, underlying_bid_eod="0", underlying_ask_eod="0",
                                                         underlying_bid_1545="0", underlying_ask_1545="0")])  # fmt: skip
    snap = read_chain(none)
    assert snap.spot != snap.spot and any("no underlying price" in w for w in snap.warnings)


def test_read_chain_refuses_several_snapshots(multi: Path) -> None:
    with pytest.raises(SourceError, match=r"more than one snapshot .*iter_chains"):
        read_chain(multi)


def test_missing_columns_name_the_file_and_columns(tmp_path: Path) -> None:
    header = CALCS_HEADER.replace(",bid_eod,", ",bid_x,").replace(",open_interest,", ",oi,")
    path = write(tmp_path / "bad.csv", [header, row()])
    with pytest.raises(SourceError, match=r"bad\.csv:1: missing required columns: bid_eod, open_interest"):
        read_chain(path, format="cboe_datashop")


def test_quoted_padded_cells(tmp_path: Path) -> None:
    quoted = ",".join(f'"{c}"' if i in (0, 2) else f" {c}" for i, c in enumerate(row().split(",")))
    snap = read_chain(write(tmp_path / "q.csv", [CALCS_HEADER, quoted]))
    assert snap.rejects.height == 0 and snap.frame["root"].to_list() == ["SPXW"]


def test_real_vix_sample() -> None:
    path = shared_file("cboe_datashop/VIX_UnderlyingOptionsEODCalcs_2016-06-01__andermy_yahooScraper.csv")
    assert detect_format(path) == "cboe_datashop"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    snap = read_chain(path)
    assert (snap.underlying, snap.session) == ("VIX", dt.date(2016, 6, 1))
    assert snap.rejects.height == 0
    assert snap.frame.height == len(rows)  # one contract per data line, none dropped
    assert snap.frame["source_line"].to_list() == list(range(2, len(rows) + 2))
    bid, ask = float(rows[0]["underlying_bid_eod"]), float(rows[0]["underlying_ask_eod"])
    assert snap.spot == (bid + ask) / 2
    assert snap.frame["open_interest"].sum() == sum(int(r["open_interest"]) for r in rows)
    assert set(snap.frame["settlement"]) == {"AM"}
