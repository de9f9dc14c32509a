"""SqueezeMetrics DIX.csv (format E): hand-made lines and the real file."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from gex.reference import CLOSES_SCHEMA, EXTERNAL_GEX_SCHEMA
from gex_sources import SourceError, closes_from_external, detect_format, read_reference

from tests.conftest import shared_file


def test_handmade(tmp_path: Path) -> None:
    path = tmp_path / "DIX.csv"
    path.write_text("date,price,dix,gex\n2020-01-02,3257.85,0.42,1200000000.5\n2020-01-03,x,0.41,9e8\n"
                    "2020-01-06,3246.28,0.43,n/a\n")  # fmt: skip
    assert detect_format(path) == "squeezemetrics_dix"
    ext = read_reference(path)
    assert ext.kind == "external_gex" and ext.frame.schema == pl.Schema(EXTERNAL_GEX_SCHEMA)
    assert ext.frame.rows() == [(dt.date(2020, 1, 2), "SPX", "squeezemetrics", 1200000000.5, 0.42, 3257.85, 2)]
    assert [r[2] for r in ext.rejects.rows()] == ["non-numeric price: 'x'", "non-numeric gex: 'n/a'"]
    closes = closes_from_external(ext)
    assert closes.kind == "closes" and closes.frame.schema == pl.Schema(CLOSES_SCHEMA)
    assert closes.frame.select("session", "underlying", "close").rows() == [(dt.date(2020, 1, 2), "SPX", 3257.85)]


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "DIX.csv"
    path.write_text("date,price,dix\n2020-01-02,3257.85,0.42\n")
    with pytest.raises(SourceError, match=r"DIX\.csv:1: missing required columns: gex"):
        read_reference(path, format="squeezemetrics_dix")


def test_real_file() -> None:
    path = shared_file("squeezemetrics/DIX_2011-05-02_to_2026-08-21__dougie-r2_rustskew.csv")
    assert detect_format(path) == "squeezemetrics_dix"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    ext = read_reference(path)
    assert ext.rejects.height == 0 and ext.frame.height == len(rows)
    assert ext.frame["session"][0] == dt.date.fromisoformat(rows[0]["date"])
    assert ext.frame["gex_usd"][-1] == float(rows[-1]["gex"])
    assert set(ext.frame["provider"]) == {"squeezemetrics"} and set(ext.frame["underlying"]) == {"SPX"}
    assert closes_from_external(ext).frame["close"][0] == float(rows[0]["price"])
