"""Rewrite the "Views and columns" part of docs/sql-contract.md from the models' comments (sql/models/main/).

    uv run python scripts/sql_contract_doc.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from gex_warehouse.connect import connect
from gex_warehouse.contract_doc import splice, views_and_columns

PAGE = Path(__file__).resolve().parents[1] / "docs" / "sql-contract.md"

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        con = connect(Path(folder) / "w.duckdb")
        try:
            PAGE.write_text(splice(PAGE.read_text(), views_and_columns(con)))
        finally:
            con.close()
    print(f"rewrote {PAGE}")
