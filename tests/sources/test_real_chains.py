"""The readers on the real third-party chains in ../shared/data/chains (skipped when that folder is absent).

Expected values come from the file names (``<UNDERLYING>_<as-of session>_...``, per the folder's README) and
from the test's own naive reading of each file (spot, number of data lines), never from numbers copied here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest
from gex.calendar import previous_session, session_close
from gex.chain import CHAIN_SCHEMA, conform
from gex_sources import detect_format, read_chain
from sources_helpers import SHARED_CHAINS, SHARED_MISSING

UTC = dt.timezone.utc
pytestmark = [pytest.mark.shared_data, pytest.mark.skipif(not SHARED_CHAINS.is_dir(), reason=SHARED_MISSING)]

#: Folder -> format its files are in.
FOLDERS = {
    "cboe_csv": "cboe_csv",
    "cboe_csv_variants": "cboe_csv",
    "cboe_dat_legacy": "cboe_dat",
    "cboe_json": "cboe_json",
}
#: Index underlyings whose files hold both the AM-settled root and the PM-settled weekly root.
AM_PM_ROOTS = {
    "SPX": {"SPX": "AM", "SPXW": "PM"},
    "NDX": {"NDX": "AM", "NDXP": "PM"},
    "RUT": {"RUT": "AM", "RUTW": "PM"},
}


def _files() -> list[Path]:
    if not SHARED_CHAINS.is_dir():
        return []
    return sorted(p for folder in FOLDERS for p in (SHARED_CHAINS / folder).glob("*") if p.is_file())


FILES = _files()
_PARAMS = [pytest.param(p, id=f"{p.parent.name}/{p.name.split('__')[0]}") for p in FILES] or [
    pytest.param(None, marks=pytest.mark.skip(reason=SHARED_MISSING))
]


def _expected(path: Path) -> tuple[str, dt.date]:
    underlying, session = path.name.split("_")[:2]
    return underlying, dt.date.fromisoformat(session)


def _naive_spot_and_count(path: Path) -> tuple[float, int]:
    """Spot and number of contracts the file holds, read the simplest possible way (independent of the reader)."""
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        return float(data["current_price"]), len(data["options"])
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Expiration Date,Calls,"))
    data_lines = sum(1 for line in lines[header + 1 :] if line.strip())
    preamble = "\n".join(lines[:header])
    m = re.search(r"Last:\s*([\d.]+)", preamble) or re.search(r"\),([\d.]+),", preamble)
    assert m is not None, preamble
    return float(m.group(1)), 2 * data_lines


@pytest.mark.parametrize("path", _PARAMS)
def test_real_file(path: Path) -> None:
    underlying, session = _expected(path)
    fmt = FOLDERS[path.parent.name]
    assert detect_format(path) == fmt
    snap = read_chain(path)
    spot, n_contracts = _naive_spot_and_count(path)

    assert snap.source_format == fmt
    assert snap.underlying == underlying
    assert snap.session == session
    assert snap.spot == spot
    assert snap.rejects.height == 0, snap.rejects  # clean files: every line becomes two contracts
    assert snap.warnings == ()
    assert snap.frame.height == n_contracts  # nothing filtered, expired rows included

    f = snap.frame
    assert f.schema == pl.Schema(CHAIN_SCHEMA)
    assert conform(f).equals(f)
    assert set(f["underlying"]) == {underlying} and set(f["session"]) == {session}
    assert set(f["underlying_price"]) == {spot}
    assert set(f["oi_date"]) == {previous_session(session)}
    assert (
        f.select(pl.col("symbol", "root", "expiration", "settlement_ts", "strike", "right").null_count().sum()).row(0)
        == (0,) * 6
    )
    if fmt == "cboe_json":
        assert f["source_line"].is_unique().all()
    else:  # each data line gives its call and its put
        per_line = f.group_by("source_line").agg(pl.col("right").sort().str.join(""))
        assert set(per_line["right"]) == {"CP"}
        assert f["vendor_vega"].null_count() == f.height

    # as-of rule: the snapshot is on or after its session's open; evening and weekend snapshots value at the close
    assert snap.snapshot_ts is not None and snap.snapshot_ts.date() >= session
    if "intraday" in path.name:
        assert snap.valuation_ts == snap.snapshot_ts < session_close(session)
    else:
        assert snap.valuation_ts == session_close(session) <= snap.snapshot_ts

    if underlying in AM_PM_ROOTS:
        styles = dict(f.select("root", "settlement").unique().iter_rows())
        assert styles == AM_PM_ROOTS[underlying]
    else:
        assert set(f["root"]) == {underlying} and set(f["settlement"]) == {"PM"}


def _one(name: str) -> Path:
    matches = [p for p in FILES if p.name.startswith(name)]
    if not matches:
        pytest.skip(f"{name}* not in {SHARED_CHAINS}")
    return matches[0]


def test_sunday_header_describes_friday() -> None:
    snap = read_chain(_one("SPX_2024-01-05"))
    assert snap.header_date == dt.date(2024, 1, 7) and snap.header_date.weekday() == 6
    assert snap.session == dt.date(2024, 1, 5)


def test_holiday_weekend_dat_describes_thursday() -> None:
    snap = read_chain(_one("SPY_2020-07-02"))  # Saturday 4 July 2020; Friday 3 July was a market holiday
    assert snap.header_date == dt.date(2020, 7, 4)
    assert snap.session == dt.date(2020, 7, 2)
    assert snap.underlying_name == "SPDR S&P 500 ETF Trust"


def test_intraday_eu_date_file() -> None:
    snap = read_chain(_one("SPX_2023-06-09_intraday"))
    assert snap.header_date == snap.session == dt.date(2023, 6, 9)
    assert snap.valuation_ts == snap.snapshot_ts


def test_json_timestamp_is_utc() -> None:
    snap = read_chain(_one("SPY_2025-06-06"))
    assert snap.snapshot_ts == dt.datetime(2025, 6, 8, 12, 49, 38, tzinfo=UTC)
    assert snap.session == dt.date(2025, 6, 6)


def test_expired_monthly_rows_are_kept_with_both_settlements() -> None:
    snap = read_chain(_one("SPX_2023-08-18"))  # monthly expiry Friday, read on Sunday
    expired = snap.frame.filter(pl.col("expiration") == dt.date(2023, 8, 18))
    assert set(expired["root"]) == {"SPX", "SPXW"}
    am = expired.filter(pl.col("root") == "SPX")["settlement_ts"].unique().to_list()
    pm = expired.filter(pl.col("root") == "SPXW")["settlement_ts"].unique().to_list()
    assert am == [dt.datetime(2023, 8, 18, 13, 30, tzinfo=UTC)]  # 09:30 New York open
    assert pm == [dt.datetime(2023, 8, 18, 20, 0, tzinfo=UTC)]  # 16:00 New York close
    assert (expired["settlement_ts"] <= snap.valuation_ts).all()


def test_same_day_rows_are_kept() -> None:
    snap = read_chain(_one("SPY_2023-09-14"))
    assert snap.frame.filter(pl.col("expiration") == snap.session).height > 0
