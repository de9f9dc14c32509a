"""A load killed with SIGKILL in the middle of its transaction leaves the previous state intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from gex_warehouse.config import ENV_TEST_SLEEP
from gex_warehouse.connect import connect
from gex_warehouse.digest import table_digests
from gex_warehouse.load import checkpoint, ingest_file

from tests.warehouse.helpers import SESSION, chain_csv, rows

#: The child loads the file and prints each progress stage as it reaches it; the test hook makes it sleep
#: between the steps inside the transaction (after validation, after deleting the old session, after
#: inserting the new rows), which leaves ample time to kill it half-way.
CHILD = textwrap.dedent(
    """
    import sys
    from gex_warehouse.connect import connect
    from gex_warehouse.load import ingest_file
    con = connect(sys.argv[1])
    print("connected", flush=True)
    ingest_file(con, sys.argv[2], progress=lambda stage, n: print(stage, flush=True))
    print("finished", flush=True)
    """
)


def test_sigkill_mid_load_leaves_previous_state_and_next_load_succeeds(tmp_path, warehouse_file):
    old = chain_csv(tmp_path / "old.csv", SESSION, seed=21, max_contracts=2000)
    new = chain_csv(tmp_path / "new.csv", SESSION, seed=22, max_contracts=2000)
    con = connect(warehouse_file)
    first = ingest_file(con, old)
    assert first.status == "loaded"
    checkpoint(con)
    before = table_digests(con)
    con.close()

    env = {**os.environ, ENV_TEST_SLEEP: "2"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(warehouse_file), str(new)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    seen = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            seen.append(line.strip())
            if line.startswith("writing"):  # past validation, inside the transaction, about to replace
                break
        time.sleep(1.0)  # now in the pause after the old session's rows were deleted (uncommitted)
        assert child.poll() is None, f"child ended early: {seen} {child.stderr.read() if child.stderr else ''}"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert "finished" not in seen and any(s.startswith("writing") for s in seen), seen

    con = connect(warehouse_file)
    try:
        assert table_digests(con) == before  # not a row of the killed load, not one of the old lost
        assert rows(con, "SELECT DISTINCT load_id FROM raw.chain_quotes") == [(first.load_id,)]
        second = ingest_file(con, new)
        assert second.status == "loaded"
        assert second.replaced and first.load_id in second.replaced[0]
        assert rows(con, "SELECT DISTINCT load_id FROM raw.chain_quotes") == [(second.load_id,)]
        assert rows(con, "SELECT count(*) FROM raw.chain_quotes") == [(second.rows_loaded,)]
    finally:
        con.close()
