"""Shared helpers of the API tests: generated snapshots rendered as responses, wrapped in fetch bundles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gex_sources.bundle import BundleResponse, FetchBundle, response_name, utc_instant, write_bundle

API_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "api"


def api_dir() -> Path:
    """The recorded responses folder (``../shared/data/api``) or the one the worktree layout gives."""
    for candidate in (API_DIR, Path("/work/wt/shared/data/api")):
        if candidate.is_dir():
            return candidate
    return API_DIR


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
