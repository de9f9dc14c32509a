"""The analytics core stays pure: no I/O, database, orchestration or outer-layer imports."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "packages" / "gex" / "src" / "gex"
FORBIDDEN_MODULES = {"duckdb", "prefect", "gex_sources", "gex_cli", "gex_market", "gex_warehouse", "requests", "urllib", "pandas"}
FORBIDDEN_CALLS = {"open", "print", "read_csv", "read_parquet", "write_csv", "write_parquet", "read_text", "write_text"}


@pytest.mark.parametrize("module", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_module_is_pure(module):
    tree = ast.parse(module.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{module.name} imports {name}"
        if isinstance(node, ast.Call):
            fn = node.func
            called = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            assert called not in FORBIDDEN_CALLS, f"{module.name}:{node.lineno} calls {called}()"
