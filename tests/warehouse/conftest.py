"""Fixtures of the warehouse tests: a fresh migrated warehouse per test (copied from one template)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from gex_warehouse.connect import connect

from tests.warehouse.helpers import fresh_warehouse


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("warehouse-template")


@pytest.fixture
def warehouse_file(tmp_path, template_dir) -> Path:
    return fresh_warehouse(tmp_path, template_dir)


@pytest.fixture
def con(warehouse_file) -> duckdb.DuckDBPyConnection:
    connection = connect(warehouse_file)
    yield connection
    connection.close()


@pytest.fixture
def published_con(tmp_path, tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """A writer connection to a copy of the published-contract market (``tests/warehouse/published_market.py``)."""
    from tests.warehouse.published_market import built_warehouse, copy_of

    path = copy_of(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")), tmp_path / "w.duckdb")
    connection = connect(path)
    yield connection
    connection.close()
