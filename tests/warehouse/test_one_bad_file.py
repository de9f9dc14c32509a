"""One bad file never stops the batch (issue 10, defects 4 and 5): `gex ingest a b c` with b poisoned loads
a and c, records b as failed with its reason and exits 1 naming it; a file that vanishes or trips an
unanticipated exception is contained in ``ingest_file`` the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gex_warehouse import load as load_module
from gex_warehouse.connect import connect
from gex_warehouse.load import ingest_file

from tests.warehouse.helpers import SESSION, chain_csv, chain_json, rows
from tests.warehouse.test_ingest_cli import gex

#: How each poison is written, and the fragment its one-line message (or quarantine reason) carries.
POISONS = {
    "deep.json": ('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}", "invalid JSON: nested too deeply"),
    "digits.json": ('{"data": {"options": [' + "9" * 5000 + "]}}", "invalid JSON: Exceeds the limit"),
}


def _good_files(folder: Path) -> tuple[Path, Path]:
    a = chain_csv(folder / "a.csv", SESSION, seed=41)
    c = chain_csv(folder / "c.csv", SESSION.replace(day=8), seed=42)
    return a, c


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_cli_batch_goes_on_past_a_poisoned_file(tmp_path, poison):
    a, c = _good_files(tmp_path)
    b = tmp_path / f"b_{poison}"
    b.write_text(POISONS[poison][0])
    warehouse = tmp_path / "w" / "gex.duckdb"
    done = gex("ingest", str(a), str(b), str(c), "--warehouse", str(warehouse))
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("gex: error:")]
    assert len(errors) == 1 and str(b) in errors[0] and POISONS[poison][1] in errors[0], done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert "3 files: 2 loaded, 0 already loaded, 1 failed or rejected" in done.stdout
    con = connect(warehouse)
    try:
        statuses = dict(rows(con, "SELECT file_path, status FROM raw.load_manifest"))
    finally:
        con.close()
    assert statuses == {str(a): "loaded", str(b): "failed", str(c): "loaded"}


def test_cli_huge_numbers_load_with_rejects(tmp_path):
    """The CSV and JSON forms of defect 4 are row rejects: every file loads, exit 0."""
    a, c = _good_files(tmp_path)
    doc = chain_json(tmp_path / "b.json", SESSION.replace(day=9), seed=43)
    doc["data"]["options"][2]["open_interest"] = 10**30
    b = tmp_path / "b.json"
    b.write_text(json.dumps(doc))
    lines = a.read_text().split("\n")
    lines[5] = ",".join(["99999999999999999999" if i == 10 else v for i, v in enumerate(lines[5].split(","))])
    a.write_text("\n".join(lines))
    warehouse = tmp_path / "gex.duckdb"
    done = gex("ingest", str(a), str(b), str(c), "--warehouse", str(warehouse))
    assert done.returncode == 0, done.stderr
    con = connect(warehouse)
    try:
        reasons = [r[0] for r in rows(con, "SELECT reason FROM raw.quarantine ORDER BY source_file")]
    finally:
        con.close()
    assert reasons == [
        "open_interest (call) '99999999999999999999' out of range (max 9,007,199,254,740,991)",
        "open_interest 1e+30 out of range (max 9,007,199,254,740,991)",
    ]


def test_folder_with_one_poisoned_file_loads_every_other_file(tmp_path):
    folder = tmp_path / "landing"
    (folder / "chains").mkdir(parents=True)
    (folder / "oi").mkdir()
    _good_files(folder / "chains")
    chain_csv(folder / "chains" / "d.csv", SESSION.replace(day=9), seed=44)
    poisoned = folder / "chains" / "b_poisoned.json"
    poisoned.write_text(POISONS["deep.json"][0])
    (folder / "oi" / "oi.csv").write_text("date,symbol,open_interest\n2024-01-05,SPXW240119C04700000,5\n")
    warehouse = tmp_path / "gex.duckdb"
    done = gex("ingest", str(folder), "--warehouse", str(warehouse))
    assert done.returncode == 1, done.stderr
    assert "5 files: 4 loaded, 0 already loaded, 1 failed or rejected" in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("gex: error:")]
    assert errors == [f"gex: error: {poisoned}: invalid JSON: nested too deeply to be a data file (recursion limit)"]


# --- inside ingest_file: a vanished file, an unanticipated exception -----------------------------------


def test_file_deleted_after_hashing_is_failed_and_the_next_loads(tmp_path, con, monkeypatch):
    gone, kept = _good_files(tmp_path)
    real = load_module.file_digest

    def digest_then_delete(path: Path):
        out = real(path)
        if path.name == gone.name:
            path.unlink()  # deleted between listing (and hashing) and reading
        return out

    monkeypatch.setattr(load_module, "file_digest", digest_then_delete)
    first = ingest_file(con, gone)
    assert first.status == "failed" and str(gone) in (first.message or "") and "file not found" in (first.message or "")
    assert ingest_file(con, kept).status == "loaded"
    assert rows(con, "SELECT status FROM raw.load_manifest ORDER BY status") == [("failed",), ("loaded",)]


def test_file_vanishing_mid_read_is_failed(tmp_path, con, monkeypatch):
    path, _ = _good_files(tmp_path)
    from gex_warehouse import sources

    def vanish(file: Path, fmt: str):
        file.unlink()
        raise FileNotFoundError(2, "No such file or directory", str(file))

    monkeypatch.setattr(sources, "chain_batches", vanish)
    result = ingest_file(con, path)
    assert result.status == "failed"
    assert result.message == f"{path}: file vanished while being read (deleted or moved during the run)"
    assert rows(con, "SELECT status, message FROM raw.load_manifest") == [("failed", result.message)]


@pytest.mark.parametrize("error", [RecursionError("deep"), OverflowError("int too large"), RuntimeError("a\nb")])
def test_unexpected_exception_is_contained(tmp_path, con, monkeypatch, error):
    path, other = _good_files(tmp_path)
    from gex_warehouse import sources

    real = sources.chain_batches

    def broken(file: Path, fmt: str):
        if file == path:
            raise error
        return real(file, fmt)

    monkeypatch.setattr(sources, "chain_batches", broken)
    result = ingest_file(con, path)
    assert result.status == "failed"
    message = result.message or ""
    assert message.startswith(f"{path}: unexpected {type(error).__name__} while reading: ") and "\n" not in message
    assert "please report it" in message
    assert rows(con, "SELECT count(*) FROM raw.chain_quotes")[0][0] == 0  # rolled back, nothing half-written
    assert ingest_file(con, other).status == "loaded"
