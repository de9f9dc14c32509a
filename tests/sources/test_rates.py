"""Risk-free rate files: tenors, percent detection and compounding conversions (numbers invented)."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from gex.reference import RATES_SCHEMA, continuous_from_bond_equivalent, continuous_from_simple
from gex_sources import SourceError, detect_format, read_reference


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tenors_and_decimal_rates(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        ["date,tenor,rate", "2024-01-05,ON,0.0531", "2024-01-05,1M,0.0532", "2024-01-05,3M,0.0537",
         "2024-01-05,2W,0.0530", "2024-01-05,10Y,0.0405", "2024-01-05,45,0.0533", "2024-01-05,3X,0.05",
         "2024-01-05,6M,n/a"],  # fmt: skip
    )
    assert detect_format(path) == "rates"
    r = read_reference(path)
    assert r.kind == "rates" and r.frame.schema == pl.Schema(RATES_SCHEMA)
    assert r.frame["tenor_days"].to_list() == [1, 30, 91, 14, 3650, 45]
    assert r.frame["rate"].to_list() == [0.0531, 0.0532, 0.0537, 0.0530, 0.0405, 0.0533]
    assert [x[2] for x in r.rejects.rows()] == ["unparseable tenor: '3X'", "non-numeric rate: 'n/a'"]


def test_percent_only_when_unambiguous(tmp_path: Path) -> None:
    above_one = read_reference(write(tmp_path / "a.csv", ["date,tenor,rate", "2024-01-05,3M,5.37", "2021-01-05,3M,0.08"]))
    assert above_one.frame["rate"].to_list() == pytest.approx([0.0537, 0.0008])
    assert any("percent" in w for w in above_one.warnings)
    signed = read_reference(write(tmp_path / "b.csv", ["date,tenor,rate", "2021-01-05,3M,0.08%"]))
    assert signed.frame["rate"].to_list() == pytest.approx([0.0008])
    named = read_reference(write(tmp_path / "c.csv", ["date,tenor,rate_pct", "2021-01-05,3M,0.08"]))
    assert named.frame["rate"].to_list() == pytest.approx([0.0008])
    ambiguous = read_reference(write(tmp_path / "d.csv", ["date,tenor,rate", "2021-01-05,3M,0.08"]))
    assert ambiguous.frame["rate"].to_list() == [0.08]  # read as decimal, as documented


def test_compounding_conversions(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", ["date,tenor,rate", "2024-01-05,3M,0.05"])
    simple = read_reference(path, compounding="simple").frame["rate"][0]
    assert simple == pytest.approx(math.log1p(0.05 * 91 / 360) * 365 / 91)
    assert simple == pytest.approx(float(continuous_from_simple(0.05, 91)))
    bey = read_reference(path, compounding="bond_equivalent").frame["rate"][0]
    assert bey == pytest.approx(2 * math.log1p(0.025)) == float(continuous_from_bond_equivalent(0.05))
    with pytest.raises(ValueError, match="compounding"):
        read_reference(path, compounding="annual")


def test_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", ["date,tenor,value", "2024-01-05,3M,0.05"])
    with pytest.raises(SourceError, match=r"r\.csv:1: missing required columns: rate or rate_pct or rate_percent"):
        read_reference(path, format="rates")
