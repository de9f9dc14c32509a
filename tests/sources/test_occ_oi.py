"""OCC-style open interest files (numbers invented)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from gex.reference import OPEN_INTEREST_SCHEMA
from gex_sources import SourceError, detect_format, read_chain, read_reference


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_publication_date_and_osi_parts(tmp_path: Path) -> None:
    path = write(
        tmp_path / "oi.csv",
        [
            "date,symbol,open_interest",
            "2024-01-08,SPXW  240119C04700000,1234",  # padded OCC form
            "2024-01-08,SPX240119P04650500,-5",  # unpadded; a negative count is the warehouse's to judge
            "2024-01-08,NOT A SYMBOL,7",
            "2024-01-08,SPY240119C00470000,1.5",
            "2024-01-16,AAPL7240119C00185000,3",  # the Monday before was a holiday
        ],
    )
    assert detect_format(path) == "occ_oi"
    oi = read_reference(path)
    assert oi.kind == "open_interest" and oi.frame.schema == pl.Schema(OPEN_INTEREST_SCHEMA)
    f = oi.frame
    assert f["source_line"].to_list() == [2, 3, 6]
    assert f["underlying"].to_list() == ["SPX", "SPX", "AAPL"]
    assert f["root"].to_list() == ["SPXW", "SPX", "AAPL7"]
    assert f["strike"].to_list() == [4700.0, 4650.5, 185.0]
    assert f["right"].to_list() == ["C", "P", "C"]
    assert f["open_interest"].to_list() == [1234, -5, 3]
    assert f["oi_date"].to_list() == [dt.date(2024, 1, 5), dt.date(2024, 1, 5), dt.date(2024, 1, 12)]
    assert oi.rejects.rows() == [
        (4, "2024-01-08,NOT A SYMBOL,7", "malformed OSI symbol: 'NOT A SYMBOL'"),
        (5, "2024-01-08,SPY240119C00470000,1.5", "non-integer open_interest: '1.5'"),
    ]


def test_contract_column_variants(tmp_path: Path) -> None:
    for name in ("contract", "key"):
        path = write(tmp_path / f"{name}.csv", [f"date,{name},open_interest", "20240108,SPY240119C00470000,9"])
        oi = read_reference(path)
        assert oi.frame.row(0, named=True)["symbol"] == "SPY240119C00470000"
        assert oi.frame["publish_date"].to_list() == [dt.date(2024, 1, 8)]


def test_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "oi.csv", ["date,symbol,oi", "2024-01-08,SPY240119C00470000,9"])
    with pytest.raises(SourceError, match=r"oi\.csv:1: missing required columns: open_interest"):
        read_reference(path, format="occ_oi")
    good = write(tmp_path / "good.csv", ["date,symbol,open_interest", "2024-01-08,SPY240119C00470000,9"])
    with pytest.raises(SourceError, match=r"is a reference file \(occ_oi\).*read_reference"):
        read_chain(good)
