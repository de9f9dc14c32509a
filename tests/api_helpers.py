"""Shared helpers of the API tests: generated snapshots rendered as responses, wrapped in fetch bundles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gex_sources.bundle import BundleResponse, FetchBundle, response_name, utc_instant, write_bundle

import pytest

from tests.conftest import REPO

API_DIR = (REPO / ".." / "shared" / "data" / "api").resolve()


def recorded(relative: str) -> Path:
    """A recorded API response under ../shared/data/api, skipping the test when it is absent."""
    path = API_DIR / relative
    if not path.is_file():
        pytest.skip(f"recorded API data not available: {path} (the ../shared folder is not part of a clone)")
    return path


def make_bundle(
    source: str, symbol: str | None, responses, received: dt.datetime, *, session: dt.date | None = None,
    base: str = "https://example.invalid",
) -> FetchBundle:
    """A fetch bundle of rendered ``ApiResponse`` tuples (or ``(role, body, params, content_type)``), all
    received at ``received``."""
    at = utc_instant(received)
    items = []
    for i, r in enumerate(responses):
        items.append(
            BundleResponse(
                name=response_name(i, r.content_type),
                role=r.role,
                url=base + r.path + ("?" + "&".join(f"{k}={v}" for k, v in r.query.items()) if r.query else ""),
                params=dict(r.params),
                status=200,
                content_type=r.content_type,
                requested_at=at,
                received_at=at,
                body=r.body,
            )
        )
    return FetchBundle(source, symbol, session, at, at, tuple(items))


def write(tmp: Path, bundle: FetchBundle, name: str | None = None) -> Path:
    path = tmp / (name or f"{bundle.symbol or 'RATES'}_{bundle.source}.{bundle.source}.zip")
    write_bundle(path, bundle)
    return path
