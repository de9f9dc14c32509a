"""One writer per job: a held warehouse lends cursors; another process waits for it or fails clearly."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from gex_warehouse.connect import WarehouseLockedError, connect
from gex_warehouse.writer import hold, is_held, writer

HOLDER = ("import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
          "time.sleep(float(sys.argv[2])); con.close()")


def test_nested_holds_share_one_connection_and_writers_borrow_cursors(warehouse_file):
    assert not is_held(warehouse_file)
    with hold(warehouse_file) as outer:
        with hold(warehouse_file) as inner:
            assert inner is outer
        assert is_held(warehouse_file)
        with writer(warehouse_file) as cur:
            cur.execute("CREATE TABLE main.t (x INTEGER)")
            cur.execute("INSERT INTO main.t VALUES (1)")

        def insert() -> None:  # cursors may be used from other threads
            with writer(warehouse_file) as c:
                c.execute("INSERT INTO main.t VALUES (2)")

        thread = threading.Thread(target=insert)
        thread.start()
        thread.join()
    assert not is_held(warehouse_file)
    con = connect(warehouse_file, read_only=True)
    try:
        assert con.execute("SELECT sum(x) FROM main.t").fetchall() == [(3,)]
    finally:
        con.close()


def test_a_second_process_fails_at_once_or_after_waiting(warehouse_file):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse_file), "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseLockedError, match=r"in use by process \d+"):
            connect(warehouse_file)
        with pytest.raises(WarehouseLockedError, match=r"still held after waiting 1 s"):
            connect(warehouse_file, wait_seconds=1.0)
        con = connect(warehouse_file, wait_seconds=60)  # the holder lets go after 3 s
        con.close()
    finally:
        holder.kill()
        holder.wait()
