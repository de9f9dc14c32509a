"""The multi-format API: detection of every real file, chain vs reference kinds, iter_chains, doctests."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import polars as pl
import pytest
from gex.reference import REFERENCE_SCHEMAS, ReferenceData, ReferenceSchemaError, conform_reference
from gex_sources import FORMAT_KINDS, FORMATS, SourceError, detect_format, iter_chains, read_chain, read_reference

from tests.conftest import SHARED_CHAINS

#: Folder of ../shared/data/chains -> format of its files.
FOLDER_FORMATS = {
    "cboe_csv": "cboe_csv",
    "cboe_csv_variants": "cboe_csv",
    "cboe_dat_legacy": "cboe_dat",
    "cboe_json": "cboe_json",
    "cboe_datashop": "cboe_datashop",
    "squeezemetrics": "squeezemetrics_dix",
    "derived_outputs": "gflows_derived",
}
REAL = sorted(p for p in SHARED_CHAINS.glob("*/*") if p.is_file()) if SHARED_CHAINS.is_dir() else []
NEW_MODULES = ("csvtable", "snapshots", "datashop", "ivydb", "canonical", "occ_oi", "rates", "closes",
               "squeezemetrics", "gflows_derived", "registry", "detect")  # fmt: skip


@pytest.mark.shared_data
@pytest.mark.parametrize("path", REAL or [None], ids=lambda p: "absent" if p is None else f"{p.parent.name}/{p.name[:30]}")
def test_every_real_file_is_recognised_and_readable(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"real data not available: {SHARED_CHAINS}")
    fmt = detect_format(path)
    assert fmt == FOLDER_FORMATS[path.parent.name]
    if FORMAT_KINDS[fmt] == "chain":
        snaps = list(iter_chains(path))
        assert len(snaps) == 1 and snaps[0].rejects.height == 0
    else:
        data = read_reference(path)
        assert data.frame.height > 0 and data.rejects.height == 0
        assert data.frame.schema == pl.Schema(REFERENCE_SCHEMAS[data.kind])


def test_format_kinds() -> None:
    assert set(FORMAT_KINDS) == set(FORMATS)
    chains = {n for n, k in FORMAT_KINDS.items() if k == "chain"}
    assert {"cboe_csv", "cboe_dat", "cboe_json", "cboe_datashop", "ivydb_option_price", "canonical"} <= chains
    refs = {n: FORMATS[n].reference_kind for n, k in FORMAT_KINDS.items() if k == "reference"}
    assert refs == {
        "occ_oi": "open_interest",
        "rates": "rates",
        "closes": "closes",
        "ivydb_security_price": "closes",
        "squeezemetrics_dix": "external_gex",
        "gflows_derived": "derived_results",
        "occ_bundle": "open_interest",
        "occ_series": "open_interest",
        "treasury_bundle": "rates",
        "treasury_csv": "rates",
        "fred_bundle": "rates",
        "fred_csv": "rates",
    }


def test_single_snapshot_formats_yield_one(make_csv) -> None:  # noqa: ANN001 - fixture from tests/sources/conftest.py
    path = make_csv()
    snaps = list(iter_chains(path))
    assert len(snaps) == 1 and snaps[0].frame.equals(read_chain(path).frame)
    with pytest.raises(SourceError, match=r"is a chain file \(cboe_csv\).*read_chain"):
        read_reference(path)


def test_parquet_detection(tmp_path: Path) -> None:
    other = tmp_path / "other.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(other)
    with pytest.raises(SourceError, match="unrecognised format"):
        detect_format(other)
    bogus = tmp_path / "bogus.parquet"
    bogus.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(SourceError, match="unrecognised format"):
        detect_format(bogus)


def test_reference_schema_helpers() -> None:
    with pytest.raises(ReferenceSchemaError, match="missing columns: rate"):
        conform_reference("rates", pl.DataFrame({"date": [], "tenor_days": [], "source_line": []}))
    with pytest.raises(ReferenceSchemaError, match="unknown reference kind"):
        conform_reference("prices", pl.DataFrame())
    empty = ReferenceData(kind="rates", frame=pl.DataFrame(schema=REFERENCE_SCHEMAS["rates"]))
    assert empty.rejects.height == 0 and empty.warnings == ()


@pytest.mark.parametrize("name", NEW_MODULES)
def test_module_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(f"gex_sources.{name}"), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_unknown_options_are_refused(make_csv, tmp_path: Path) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="cboe_csv reader does not take option"):
        read_chain(make_csv(), spill_bytes=0)
    rates = tmp_path / "r.csv"
    rates.write_text("date,tenor,rate\n2024-01-05,3M,0.05\n")
    with pytest.raises(ValueError, match="rates reader does not take option"):
        read_reference(rates, spill_bytes=0)
    with pytest.raises(SourceError, match="is a reference file"):
        iter_chains(rates)  # the format is resolved at once, before iterating
