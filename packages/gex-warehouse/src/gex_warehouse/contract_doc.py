"""The "Views and columns" part of ``docs/sql-contract.md``, generated from the models' comments.

Column documentation lives once, in ``sql/models/main/<view>.sql`` (``COMMENT ON``); the page's tables are
this function's output (``uv run python scripts/sql_contract_doc.py`` rewrites them, and
``tests/warehouse/test_published_contract.py`` fails when the page and the models disagree).
"""

from __future__ import annotations

import duckdb

#: The page's heading above which everything is hand-written prose.
HEADING = "## Views and columns"


def views_and_columns(con: duckdb.DuckDBPyConnection) -> str:
    """Markdown: one section per published view (``main`` schema), its comment, a table of columns."""
    views = con.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT internal ORDER BY view_name"
    ).fetchall()
    out = [HEADING, ""]
    for view, comment in views:
        out += [f"### `{view}`", "", (comment or "").rstrip(".") + ".", "", "| column | type | meaning and unit |",
                "|---|---|---|"]
        for column, data_type, text in con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [view]
        ).fetchall():
            meaning = (text or "").replace("|", "\\|")
            out.append(f"| `{column}` | {data_type} | {meaning} |")
        out.append("")
    return "\n".join(out)


def splice(page: str, generated: str) -> str:
    """``page`` with everything from :data:`HEADING` on replaced by ``generated``."""
    head = page.split(HEADING, 1)[0]
    return head + generated.rstrip("\n") + "\n"
