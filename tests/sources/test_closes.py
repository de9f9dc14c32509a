"""Underlying daily bars (numbers invented)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from gex.reference import CLOSES_SCHEMA
from gex_sources import SourceError, detect_format, read_reference


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bars_with_optional_range(tmp_path: Path) -> None:
    path = write(
        tmp_path / "closes.csv",
        ["date,underlying,open,high,low,close", "2024-01-05,^SPX,4690.57,4721.49,4682.11,4697.24",
         "2024-01-08,SPX,,,,4763.54", "2024-01-06,SPX,1,2,1,2", "2024-01-09,SPX,1,2,1,abc"],  # fmt: skip
    )
    assert detect_format(path) == "closes"
    bars = read_reference(path)
    assert bars.kind == "closes" and bars.frame.schema == pl.Schema(CLOSES_SCHEMA)
    assert bars.frame.rows() == [
        (dt.date(2024, 1, 5), "SPX", 4690.57, 4721.49, 4682.11, 4697.24, None, 2),
        (dt.date(2024, 1, 8), "SPX", None, None, None, 4763.54, None, 3),
    ]
    assert [r[2] for r in bars.rejects.rows()] == ["date 2024-01-06 is not an NYSE session", "non-numeric close: 'abc'"]


def test_close_only_and_errors(tmp_path: Path) -> None:
    only = read_reference(write(tmp_path / "c.csv", ["session,ticker,close", "2024-01-05,SPY,467.92"]))
    assert only.frame.row(0, named=True)["close"] == 467.92 and only.frame["open"].null_count() == 1
    with pytest.raises(SourceError, match=r"d\.csv:1: missing required columns: close"):
        read_reference(write(tmp_path / "d.csv", ["date,underlying,price", "2024-01-05,SPY,1"]), format="closes")


def test_share_volume_is_optional_and_a_whole_count(tmp_path: Path) -> None:
    """``volume``: shares traded (a count), empty for an index; text or a fraction is a row reject naming it."""
    path = write(
        tmp_path / "bars.csv",
        ["date,underlying,close,volume", "2024-01-05,AAPL,181.18,62379700", "2024-01-05,^SPX,4697.24,",
         "2024-01-08,AAPL,185.56,59144500.0", "2024-01-09,AAPL,185.14,lots", "2024-01-10,AAPL,186.19,1.5"],  # fmt: skip
    )
    assert detect_format(path) == "closes"
    bars = read_reference(path)
    assert bars.frame.select("session", "underlying", "volume").rows() == [
        (dt.date(2024, 1, 5), "AAPL", 62379700.0),
        (dt.date(2024, 1, 5), "SPX", None),
        (dt.date(2024, 1, 8), "AAPL", 59144500.0),
    ]
    assert [(r[0], r[2]) for r in bars.rejects.rows()] == [
        (5, "non-integer volume: 'lots'"),
        (6, "non-integer volume: '1.5'"),
    ]
