"""The copy on disk of the NYSE session table (gex_warehouse.calendar_cache) is the library's table exactly."""

from __future__ import annotations

import datetime as dt
import os
import time

import numpy as np
from gex import calendar as cal
from gex_warehouse import calendar_cache as cc


def test_cached_session_table_is_the_librarys_and_a_damaged_copy_is_rewritten(tmp_path, monkeypatch):
    # the copy (so a process does not pay exchange_calendars' ~2.5 s build) must be the library's table exactly;
    # a truncated file is ignored and replaced, and the core's lookups go through it once installed
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    reference = cal._session_table_from_library()
    first = cc.cached_session_table()  # built, then written
    path = cc.cache_file()
    assert path is not None and path.parent == tmp_path and path.is_file()
    second = cc.cached_session_table()  # read back
    for got in (first, second):
        assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(got, reference))
    path.write_bytes(path.read_bytes()[:100])  # damaged (a crash, a full disk)
    third = cc.cached_session_table()
    assert all(np.array_equal(a, b) for a, b in zip(third, reference))
    assert all(np.array_equal(a, b) for a, b in zip(cc._read(path), reference))
    assert not list(tmp_path.glob(".*.tmp"))
    cc.install()  # what importing gex_warehouse does
    try:
        os.utime(path, (time.time(), time.time()))
        assert cal.is_session(dt.date(2024, 7, 3)) and not cal.is_session(dt.date(2024, 7, 4))
        assert cal._table_source is cc.cached_session_table
    finally:
        cal._session_table.cache_clear()


def test_an_unwritable_cache_folder_still_gives_the_table(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker))
    table = cc.cached_session_table()
    assert all(np.array_equal(a, b) for a, b in zip(table, cal._session_table_from_library()))
    assert list(tmp_path.iterdir()) == [blocker]
