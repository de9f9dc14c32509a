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


def test_a_corrected_file_copied_with_its_old_mtime_is_not_taken_for_unchanged(tmp_path, con):
    """`cp -p` / `rsync -t` put a corrected file of the same size in place with the old file's mtime: the
    shortcut must not trust it (defect 7 of issue 10); ingest then sees new content and replaces the chain."""
    import shutil

    a = chain_csv(tmp_path / "a.csv", SESSION, seed=1)
    assert ingest_file(con, a).status == "loaded"
    corrected = tmp_path / "incoming" / "a.csv"
    corrected.parent.mkdir()
    text = a.read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    fixed = last.replace(",1,", ",2,", 1) if ",1," in last else last[:-1] + ("1" if last[-1] != "1" else "2")
    corrected.write_text(text.replace(last, fixed))
    assert corrected.stat().st_size == a.stat().st_size and corrected.read_bytes() != a.read_bytes()
    old = a.stat()
    shutil.copy2(corrected, a)  # what cp -p does: content replaced ...
    os.utime(a, ns=(old.st_atime_ns, old.st_mtime_ns))  # ... and the old mtime restored
    assert a.stat().st_mtime_ns == old.st_mtime_ns
    assert unchanged_since_loaded(con, [a]) == {}
    assert ingest_file(con, a).status != "already loaded"
