"""Polygon / Massive option chain snapshot (API key in ``$POLYGON_API_KEY``), paged through ``next_url``.

``GET /v3/snapshot/options/{underlying}?limit=250&apiKey=...`` (indices as ``I:SPX``); each page's ``next_url`` is an absolute URL
with a ``cursor`` but **without** the key: we keep its path and query, put it under the configured base URL
(so a base URL override or a proxy keeps working) and the client adds the key again. Pace: the free plan
allows 5 requests a minute and paid plans far more; the default here is 1 per second (set ``rate_per_s`` in
the watchlist for your plan).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from gex_fetch.errors import FetchError
from gex_fetch.source import HttpResponse, PlannedRequest, Source, parse_json
from gex_fetch.symbols import is_index

PAGE_LIMIT = "250"  # the largest page the API serves


def polygon_ticker(symbol: str) -> str:
    """Polygon's underlying ticker: ``I:SPX`` for indices, ``SPY`` for the rest."""
    return f"I:{symbol}" if is_index(symbol) else symbol


def _plain(ticker: object) -> object:
    """``I:SPX`` -> ``SPX`` (for the symbol check)."""
    return ticker[2:] if isinstance(ticker, str) and ticker.startswith("I:") else ticker


class Polygon(Source):
    name = "polygon"
    default_base_url = "https://api.polygon.io"
    secret_env = "POLYGON_API_KEY"
    auth = "query:apiKey"
    rate_per_s = 1.0
    burst = 2

    def requests_for(self, symbol: str, session: dt.date | None = None) -> list[PlannedRequest]:
        return [PlannedRequest("chain", f"/v3/snapshot/options/{polygon_ticker(symbol)}", {"limit": PAGE_LIMIT})]

    def validate(self, symbol: str, response: HttpResponse) -> Any:
        doc = parse_json(response, "a Polygon options snapshot")
        if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
            raise FetchError("invalid", f"{response.url}: not a Polygon chain snapshot (no results list)")
        if doc.get("status") not in (None, "OK", "DELAYED"):
            raise FetchError("invalid", f"{response.url}: status {doc.get('status')!r}: {doc.get('error') or doc.get('message') or ''}")
        results = doc["results"]
        if response.request.role == "chain" and not results:
            raise FetchError("invalid", f"{response.url}: the snapshot has no contracts for {symbol} (unknown symbol or no options)")
        for row in results[:1]:
            asset = row.get("underlying_asset") if isinstance(row, dict) else None
            if isinstance(asset, dict):
                self.check_symbol(symbol, _plain(asset.get("ticker")), response)
        return doc

    def follow_up(self, symbol: str, response: HttpResponse, document: Any) -> list[PlannedRequest]:
        nxt = document.get("next_url")
        if not nxt:
            return []
        parts = urlsplit(str(nxt))
        if parts.path != f"/v3/snapshot/options/{polygon_ticker(symbol)}":
            raise FetchError("invalid", f"{response.url}: next_url leaves the snapshot of {symbol} ({parts.path})")
        params = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "apikey"}
        if params == dict(response.request.params) and parts.path == response.request.path:
            raise FetchError("invalid", f"{response.url}: next_url points back to the same page (pagination loop)")
        return [PlannedRequest("page", parts.path, params)]

    def check_complete(self, symbol: str, responses: Sequence[HttpResponse], documents: Sequence[Any]) -> None:
        if documents and documents[-1].get("next_url"):
            raise FetchError("invalid", f"polygon {symbol}: pagination did not end")

    def explain(self, status: int, symbol: str) -> str:
        if status == 401:
            return "HTTP 401 Unauthorized: Polygon refused the key in $POLYGON_API_KEY (missing or wrong)"
        if status == 403:
            return ("HTTP 403 Forbidden: your Polygon plan does not include the options chain snapshot "
                    "(needs Options Starter or higher); the key in $POLYGON_API_KEY is valid")
        return super().explain(status, symbol)
