"""Polygon.io / Massive option chain snapshot: ``/v3/snapshot/options/{underlying}``, paged via ``next_url``.

Shape of one page::

    {"status": "OK", "request_id": "...", "results": [ {...}, ... ], "next_url": "https://...cursor=..."}

``results`` is a list on the chain endpoint and a single object on the single-contract endpoint
(``/v3/snapshot/options/{underlying}/O:...``); both are accepted. Per contract: ``details{ticker "O:SPXW...",
contract_type, expiration_date, strike_price, shares_per_contract}``, ``last_quote{bid, ask, last_updated}``,
``last_trade{price}``, ``day{close, volume}``, ``greeks{delta, gamma, theta, vega}``, ``implied_volatility``,
``open_interest``, ``underlying_asset{ticker, price, last_updated}``. Timestamps are nanosecond epochs.

Rules:

- greeks and ``implied_volatility`` are optional (missing on illiquid contracts): null, not zero;
- ``last`` is ``last_trade.price``, else ``day.close``;
- spot is ``underlying_asset.price`` (the first contract carrying it; a different price on another contract
  is a warning: pages are fetched at slightly different instants);
- the snapshot instant is the ``received_at`` of the last page;
- paging must be complete: a bundle whose last page still has a ``next_url`` is refused (a partial chain
  would give a wrong total); ``shares_per_contract`` other than 100 is rejected per contract.
"""

from __future__ import annotations

from typing import Any

from gex.chain import ChainSnapshot

from gex_sources.bundle import FetchBundle
from gex_sources.bundle_chain import (
    ApiHeader,
    ContractCollector,
    as_list,
    build_snapshot,
    entry_label,
    instant_of,
    load_json_body,
    number,
    require_object,
)
from gex_sources.errors import SourceError

FORMAT_POLYGON = "polygon_bundle"
_RIGHTS = {"call": "C", "put": "P"}
#: Relative spot difference between pages above which a warning is given.
SPOT_SPREAD_WARNING = 0.005


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def add_polygon_page(collector: ContractCollector, where: str, doc: Any, spots: list[float]) -> str | None:
    """Add one page's contracts (appending the underlying prices seen to ``spots``); return its ``next_url``."""
    doc = require_object(where, doc, "snapshot page")
    status = doc.get("status")
    if status not in ("OK", "DELAYED", None):
        raise SourceError(where, f"status {status!r}: {str(doc.get('error') or doc.get('message') or '')[:100]}")
    if "results" not in doc:
        raise SourceError(where, "snapshot page has no 'results'")
    for rec in as_list(doc["results"]):
        if not isinstance(rec, dict):
            collector.reject(rec, "record is not an object")
            continue
        details, quote_, trade, day = (_dict(rec.get(k)) for k in ("details", "last_quote", "last_trade", "day"))
        greeks, asset = _dict(rec.get("greeks")), _dict(rec.get("underlying_asset"))
        price, ok = number(asset.get("price"))
        if ok and price is not None and price > 0:
            spots.append(price)
        last = trade.get("price") if trade.get("price") is not None else day.get("close")
        collector.add(
            rec,
            details.get("ticker"),
            {
                "bid": quote_.get("bid"),
                "ask": quote_.get("ask"),
                "last": last,
                "volume": day.get("volume"),
                "open_interest": rec.get("open_interest"),
                "vendor_iv": rec.get("implied_volatility"),
                "vendor_delta": greeks.get("delta"),
                "vendor_gamma": greeks.get("gamma"),
                "vendor_vega": greeks.get("vega"),
                "vendor_theta": greeks.get("theta"),
            },
            strike=details.get("strike_price"),
            expiration=details.get("expiration_date"),
            right=None if details.get("contract_type") is None else _RIGHTS.get(str(details.get("contract_type")), str(details.get("contract_type"))),
            contract_size=details.get("shares_per_contract", 100),
        )
    next_url = doc.get("next_url")
    return str(next_url) if next_url else None


def parse_polygon_chain(path: str, bundle: FetchBundle) -> ChainSnapshot:
    """The chain snapshot of a Polygon fetch bundle (pages of role ``page`` or ``chain``, in order).

    Raises
    ------
    SourceError
        No page, an error page, incomplete paging, no underlying price, no contract at all.
    """
    pages = [r for r in bundle.responses if r.role in ("page", "chain")]
    if not pages:
        raise SourceError(path, "no snapshot page in the bundle")
    collector = ContractCollector()
    spots: list[float] = []
    next_url = None
    for resp in pages:
        next_url = add_polygon_page(collector, entry_label(path, resp), load_json_body(path, resp), spots)
    if next_url is not None:
        raise SourceError(
            entry_label(path, pages[-1]), "incomplete chain: the last page fetched still has a next_url (paging stopped early)"
        )
    if not spots:
        raise SourceError(path, "no usable underlying price: no contract has underlying_asset.price")
    warnings = []
    spread = (max(spots) - min(spots)) / spots[0]
    if spread > SPOT_SPREAD_WARNING:
        warnings.append(f"underlying_asset.price varies by {spread:.2%} across the pages; spot {spots[0]} used")
    header = ApiHeader(instant_of(path, pages[-1]), spots[0], bundle.symbol, warnings)
    return build_snapshot(path, collector, header, FORMAT_POLYGON)
