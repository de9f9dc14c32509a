"""Files loaded before and untouched since are recognised without reading them (nightly over years of files)."""

from __future__ import annotations

import os

from gex_warehouse.load import ingest_file, unchanged_since_loaded

from tests.warehouse.helpers import SESSION, chain_csv


def test_loaded_files_untouched_since_are_known_without_hashing(tmp_path, con):
    a = chain_csv(tmp_path / "a.csv", SESSION, seed=1)
    b = chain_csv(tmp_path / "b.csv", SESSION, seed=2)
    bad = tmp_path / "bad.csv"
    bad.write_text("not a chain\n")
    assert ingest_file(con, a).status == "loaded"
    assert ingest_file(con, bad).status == "failed"
    known = unchanged_since_loaded(con, [a, b, bad])
    assert list(known) == [a]  # b never loaded; bad failed: both go to ingest_file
    assert known[a].status == "already loaded" and known[a].rows_loaded > 0
    # modified after the load (same size, later mtime): no longer trusted, ingest_file will hash it
    st = a.stat()
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 10**12))
    assert unchanged_since_loaded(con, [a]) == {}
    assert unchanged_since_loaded(con, []) == {}
