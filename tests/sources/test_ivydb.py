"""OptionMetrics IvyDB-style option price files with their security price companion (numbers invented)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from gex.calendar import previous_session, session_close
from gex_sources import SourceError, detect_format, iter_chains, read_chain, read_reference
from gex_sources.ivydb import companion_paths

HEADER = (
    "secid,date,symbol,exdate,cp_flag,strike_price,best_bid,best_offer,volume,open_interest,impl_volatility,"
    "delta,gamma,vega,theta,am_settlement,contract_size"
)
LINES = [
    "108105,2024-01-05,SPX 240119C4700000,2024-01-19,C,4700000,50.1,51.3,1200,34567,0.1234,0.55,0.0021,3.4,-1.2,1,100",
    "108105,2024-01-05,SPXW 240119P4700000,2024-01-19,P,4700000,48.0,49.0,10,20,-99.99,-99.99,-99.99,-99.99,-99.99,0,100",
    "108105,2024-01-05,SPXW  240119P04650000,2024-01-19,P,4650000,30.0,31.0,5,7,0.13,-0.3,0.002,3.0,-1.0,,",
    "108105,2024-01-05,SPX 240119C4750000,2024-01-19,C,abc,1,2,3,4,0.1,0.1,0.1,0.1,0.1,1,100",
    "109820,2024-01-05,SPY 240119C470000,2024-01-19,C,470000,3.0,3.1,100,200,0.12,0.5,0.03,0.3,-0.1,0,100",
    "108105,2024-01-08,SPX 240119C4700000,2024-01-19,C,4700000,52.0,53.0,1,2,0.12,0.56,0.0022,3.3,-1.1,1,100",
]
SECPRD = ["secid,date,low,high,close,open", "108105,2024-01-05,4682.11,4721.49,4697.24,4690.57",
          "109820,2024-01-05,466.0,470.0,-467.5,468.0", "108105,2024-01-08,4700.0,4764.5,4763.54,4703.7"]  # fmt: skip


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path / "opprcd2024.csv", [HEADER, *LINES])
    write(tmp_path / "secprd2024.csv", SECPRD)
    return tmp_path


def test_detection(folder: Path) -> None:
    assert detect_format(folder / "opprcd2024.csv") == "ivydb_option_price"
    assert detect_format(folder / "secprd2024.csv") == "ivydb_security_price"
    assert companion_paths(folder / "opprcd2024.csv") == [(folder / "secprd2024.csv").resolve()]


def test_companion_file_gives_the_spot(folder: Path) -> None:
    snaps = {(s.underlying, s.session): s for s in iter_chains(folder / "opprcd2024.csv")}
    assert set(snaps) == {("SPX", dt.date(2024, 1, 5)), ("SPX", dt.date(2024, 1, 8)), ("SPY", dt.date(2024, 1, 5))}
    spx = snaps["SPX", dt.date(2024, 1, 5)]
    f = spx.frame
    assert spx.spot == 4697.24 and set(f["underlying_price"]) == {4697.24}
    assert spx.snapshot_ts == spx.valuation_ts == session_close(dt.date(2024, 1, 5))
    assert set(f["oi_date"]) == {previous_session(dt.date(2024, 1, 5))}  # IvyDB lags open interest one day
    assert f["strike"].to_list() == [4700.0, 4700.0, 4650.0]  # thousandths -> currency
    assert f["root"].to_list() == ["SPX", "SPXW", "SPXW"]
    assert f["settlement"].to_list() == ["AM", "PM", "PM"]  # am_settlement, then the root when empty
    assert f["symbol"].to_list()[0] == "SPX 240119C4700000"  # as IvyDB wrote it
    assert f.row(1, named=True)["vendor_iv"] is None  # -99.99 is IvyDB's missing-value code
    assert f.row(0, named=True)["vendor_iv"] == 0.1234 and f["last"].null_count() == 3
    assert set(f["multiplier"]) == {100.0}
    assert spx.rejects.rows() == [(5, LINES[3], "non-numeric strike: 'abc'")]
    assert snaps["SPY", dt.date(2024, 1, 5)].spot == 467.5  # negative close: IvyDB's bid/ask midpoint
    assert any("negative" in w for w in snaps["SPY", dt.date(2024, 1, 5)].warnings)


def test_explicit_security_prices_frame(tmp_path: Path) -> None:
    path = write(tmp_path / "options.csv", [HEADER, LINES[4]])
    prices = pl.DataFrame({"secid": [109820], "date": [dt.date(2024, 1, 5)], "close": [467.0]})
    snap = read_chain(path, security_prices=prices, tickers={109820: "SPY"})
    assert (snap.underlying, snap.spot, snap.frame.height) == ("SPY", 467.0, 1)


def test_missing_security_prices_is_a_file_error(tmp_path: Path) -> None:
    path = write(tmp_path / "options.csv", [HEADER, LINES[0]])
    with pytest.raises(SourceError, match=r"options\.csv: no security price file .*secprd"):
        read_chain(path)


def test_missing_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "options.csv", [HEADER.replace("best_offer", "offer"), LINES[0]])
    with pytest.raises(SourceError, match=r"options\.csv:1: missing required columns: best_offer"):
        read_chain(path, format="ivydb_option_price", security_prices=[])


def test_security_prices_as_closes(folder: Path) -> None:
    closes = read_reference(folder / "secprd2024.csv", tickers={108105: "SPX"})
    assert closes.kind == "closes"
    assert closes.frame["underlying"].to_list() == ["SPX", "SECID109820", "SPX"]
    assert closes.frame["close"].to_list() == [4697.24, 467.5, 4763.54]
    assert closes.frame["open"].to_list()[0] == 4690.57
