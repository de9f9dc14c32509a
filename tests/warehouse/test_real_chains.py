"""Every real file in ../shared/data/chains ingested into one warehouse (skipped when the folder is absent).

Expected values come from the file names (``<UNDERLYING>_<as-of session>_...``), the folder (format) and the
test's own naive reading of each file, never from numbers copied here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from gex.calendar import AM_SETTLED_ROOTS
from gex_warehouse.connect import connect
from gex_warehouse.digest import table_digests
from gex_warehouse.load import ingest_file

from tests.conftest import SHARED_CHAINS, shared_file
from tests.warehouse.helpers import data_lines, fresh_warehouse, rows

pytestmark = pytest.mark.shared_data

#: Chain folders -> the format their files are in.
CHAIN_FOLDERS = {
    "cboe_csv": "cboe_csv",
    "cboe_csv_variants": "cboe_csv",
    "cboe_dat_legacy": "cboe_dat",
    "cboe_json": "cboe_json",
    "cboe_datashop": "cboe_datashop",
}
#: Reference folders -> (format, raw table).
REFERENCE_FOLDERS = {
    "squeezemetrics": ("squeezemetrics_dix", "raw.external_gex"),
    "derived_outputs": ("gflows_derived", "raw.derived_results"),
}
#: Files the chain-data README calls partial (month-filtered downloads).
PARTIAL = {"SPY_2025-09-25", "SPX_2025-01-06"}
#: Files the README says hold already-expired same-day rows.
HAS_EXPIRED = {"SPX_2022-12-12", "SPX_2023-08-18", "SPY_2023-09-14"}


def _chain_files() -> list[str]:
    if not SHARED_CHAINS.is_dir():
        return []
    return sorted(f"{folder}/{p.name}" for folder in CHAIN_FOLDERS for p in (SHARED_CHAINS / folder).glob("*") if p.is_file())


CHAIN_FILES = _chain_files() or ["cboe_csv/absent.csv"]
REFERENCE_FILES = (
    sorted(f"{folder}/{p.name}" for folder in REFERENCE_FOLDERS for p in (SHARED_CHAINS / folder).glob("*") if p.is_file())
    if SHARED_CHAINS.is_dir()
    else []
) or ["squeezemetrics/absent.csv"]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One warehouse with every real chain file ingested, and the results by relative path."""
    if not SHARED_CHAINS.is_dir():
        pytest.skip(f"real data not available: {SHARED_CHAINS}")
    tmp = tmp_path_factory.mktemp("real")
    path = fresh_warehouse(tmp, tmp)
    con = connect(path)
    results = {rel: ingest_file(con, SHARED_CHAINS / rel) for rel in [*CHAIN_FILES, *REFERENCE_FILES]}
    yield con, results
    con.close()


def _name_date(path: Path) -> str:
    """The first ISO date in the file name: the as-of session (README of the chain folder)."""
    found = re.search(r"\d{4}-\d{2}-\d{2}", path.name)
    assert found is not None, path.name
    return found.group(0)


def _naive(path: Path) -> tuple[int, dict[str, int]]:
    """(contract records, {"eod": expiring-on-session records, "am": AM-root ones}) read without the readers."""
    key = _name_date(path)
    session = dt.date.fromisoformat(key)
    if path.parent.name == "cboe_datashop":  # one contract per line, header first
        lines = path.read_text(encoding="utf-8").splitlines()[1:]
        same = [line.split(",") for line in lines if line.split(",")[3] == key]
        return len(lines), {"eod": len(same), "am": sum(f[2] in AM_SETTLED_ROOTS for f in same)}
    if path.suffix == ".json":
        options = json.loads(path.read_text(encoding="utf-8"))["data"]["options"]
        same = [o["option"] for o in options if o["option"][-15:-9] == session.strftime("%y%m%d")]
        return len(options), {"eod": len(same), "am": sum(re.sub(r"\d.*", "", s) in AM_SETTLED_ROOTS for s in same)}
    lines = [line for _, line in data_lines(path)]
    forms = (session.strftime("%a %b %d %Y"), session.strftime("%m/%d/%Y"))
    same = [line.split(",")[1] for line in lines if line.split(",")[0].strip() in forms]
    am = sum(re.sub(r"\d.*", "", s) in AM_SETTLED_ROOTS for s in same)
    return 2 * len(lines), {"eod": 2 * len(same), "am": 2 * am}


@pytest.mark.parametrize("rel", CHAIN_FILES)
def test_real_chain_file(rel, loaded):
    path = shared_file(rel)
    con, results = loaded
    r = results[rel]
    underlying, session = path.name.split("_")[0], _name_date(path)
    assert r.status == "loaded", r.message
    assert (r.format, r.underlying, r.session) == (CHAIN_FOLDERS[rel.split("/")[0]], underlying, dt.date.fromisoformat(session))
    n_in, same_day = _naive(path)
    assert r.rows_in == n_in == r.rows_loaded + r.rows_rejected
    assert r.rows_rejected <= 0.01 * n_in  # real files are nearly clean
    # expired: every contract expiring on the session for an evening snapshot, only AM-settled ones intraday
    intraday = "intraday" in path.name
    expected_expired = same_day["am"] if intraday else same_day["eod"]
    assert expected_expired - r.rows_rejected <= r.rows_excluded <= expected_expired
    if f"{underlying}_{session}" in HAS_EXPIRED:
        assert r.rows_excluded > 0
    flags = rows(
        con,
        "SELECT partial_chain, intraday, contracts, expired_contracts FROM core.sessions WHERE underlying = ? AND session = ?",
        [underlying, session],
    )
    assert flags == [(f"{underlying}_{session}" in PARTIAL, intraday, r.rows_loaded, r.rows_excluded)]
    assert bool(r.partial) == (f"{underlying}_{session}" in PARTIAL)
    quarantined = rows(con, "SELECT coalesce(sum(records), 0) FROM raw.quarantine WHERE load_id = ?", [r.load_id])
    assert quarantined == [(r.rows_rejected,)]


def test_real_files_reingest_to_identical_contents(loaded):
    con, results = loaded
    before = table_digests(con)
    again = [ingest_file(con, SHARED_CHAINS / rel).status for rel in results]
    assert set(again) == {"already loaded"}
    assert table_digests(con) == before


def _naive_reference_records(path: Path) -> int:
    if path.suffix == ".json":  # gflows: each group's strikes, then one summary row per group
        groups = json.loads(path.read_text(encoding="utf-8"))["expiryData"].values()
        return sum(len(g["strikeData"]) + 1 for g in groups)
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip())


@pytest.mark.parametrize("rel", REFERENCE_FILES)
def test_real_reference_file(rel, loaded):
    path = shared_file(rel)
    con, results = loaded
    r = results[rel]
    fmt, table = REFERENCE_FOLDERS[rel.split("/")[0]]
    underlying, first = path.name.split("_")[:2]
    assert r.status == "loaded", r.message
    assert (r.format, r.kind) == (fmt, "reference")
    assert r.rows_in == _naive_reference_records(path) == r.rows_loaded + r.rows_rejected
    assert rows(con, f"SELECT count(*) FROM {table} WHERE load_id = ?", [r.load_id]) == [(r.rows_loaded,)]
    if fmt == "squeezemetrics_dix":  # SPX series from the first date in the name; its closes land beside it
        assert r.underlying == "SPX" and min(r.sessions) == dt.date.fromisoformat(first)
        last = dt.date.fromisoformat(path.name.split("_")[3])
        assert max(r.sessions) == last
        closes = rows(con, "SELECT count(*), min(session), max(session) FROM raw.underlying_closes WHERE load_id = ?",
                      [r.load_id])
        assert closes == [(r.rows_loaded, min(r.sessions), last)]
    else:
        assert (r.underlying, r.session) == (underlying, dt.date.fromisoformat(first))
