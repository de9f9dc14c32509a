"""`gex nightly` on a landing folder holding one poisoned file (issue 10, defect 4): every other file loads,
the latest session is computed and published, and the run exits 1 naming the file, with no traceback."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.usefixtures("prefect_api")


def test_nightly_with_one_poisoned_file(tmp_path, landing):
    from gex_cli.main import app

    folder = tmp_path / "landing"
    shutil.copytree(landing, folder)
    poisoned = folder / "chains" / "zz_poisoned.json"
    poisoned.parent.mkdir(exist_ok=True)
    poisoned.write_text('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}")
    exports = tmp_path / "exports"
    out = CliRunner().invoke(app, ["nightly", "--landing", str(folder), "-w", str(tmp_path / "gex.duckdb"),
                                   "--exports", str(exports)])  # fmt: skip
    assert out.exit_code == 1, out.output
    assert "2025-01-06 SPX (native): spot" in out.output and "3 sessions computed (0 failed)" in out.output
    assert "exports:" in out.output and any(exports.rglob("*.parquet"))
    errors = [line for line in out.stderr.splitlines() if line.startswith("gex: error:")]
    assert errors == [f"gex: error: {poisoned}: invalid JSON: nested too deeply to be a data file (recursion limit)"]
    assert "Traceback" not in out.output
