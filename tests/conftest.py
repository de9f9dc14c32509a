"""Shared test fixtures: the real chain files in ../shared (skipped cleanly when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_CHAINS = (REPO / ".." / "shared" / "data" / "chains").resolve()


def shared_file(relative: str) -> Path:
    """Path of a real chain file under ../shared/data/chains, skipping the test when it is absent."""
    path = SHARED_CHAINS / relative
    if not path.is_file():
        pytest.skip(f"real data not available: {path} (the ../shared folder is not part of a clone)")
    return path
