"""Tradier market data: ``/v1/markets/options/expirations``, ``/v1/markets/options/chains`` (one response per
expiration, ``greeks=true``) and ``/v1/markets/quotes`` (the underlying's price; the chain has none).

Shapes (JSON, ``Accept: application/json``)::

    {"expirations": {"date": ["2024-07-19", ...]}}      # or {"date": "2024-07-19"} alone, or null
    {"options": {"option": [ {...}, ... ]}}              # or {"option": {...}} alone; {"options": null}
    {"quotes": {"quote": {"symbol": "SPX", "last": .., "close": .., ...}}}

Per contract: ``symbol`` (OSI, unpadded), ``root_symbol``, ``strike``, ``expiration_date``, ``option_type``
(call/put), ``contract_size``, ``bid``, ``ask``, ``last``, ``volume``, ``open_interest`` and a ``greeks``
object (``delta``, ``gamma``, ``theta``, ``vega``, ``mid_iv``, ``smv_vol``, ``updated_at`` UTC) or null.

Rules:

- IV: ``greeks.mid_iv`` (the IV of the mid price) when it is > 0, else ``greeks.smv_vol`` (ORATS' smoothed
  surface value); decimals. No greeks object: IV and greeks null (the models solve IV from prices).
- Mini options (``contract_size`` 10, root like ``AAPL7``) and adjusted roots (``SPY1``) are **rejected**
  with a reason: the chain schema holds 100-share standard contracts (old responses have no
  ``contract_size``, so a root ending in a digit is what identifies them).
- The snapshot instant is the ``received_at`` of the quote response (when the fetch saw the data, UTC);
  spot is the quote's ``close`` when that instant is not intraday, else ``last`` (see
  :func:`gex_sources.bundle_chain.eod_spot`).
- A listed expiration without a chain response, or whose chain is null, is a warning (the snapshot is
  what was fetched).
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
    eod_spot,
    entry_label,
    instant_of,
    load_json_body,
    number,
    one_of,
    require_object,
)
from gex_sources.errors import SourceError
from gex_sources.roots import normalise_ticker

FORMAT_TRADIER = "tradier_bundle"
_RIGHTS = {"call": "C", "put": "P"}


def parse_tradier_expirations(where: str, doc: Any) -> list[str]:
    """Expiration dates (``YYYY-MM-DD`` text) of an expirations response; ``{"expirations": null}`` -> []."""
    doc = require_object(where, doc, "expirations response")
    if "expirations" not in doc:
        raise SourceError(where, "expirations response has no 'expirations' field")
    block = doc["expirations"]
    if block is None:
        return []
    block = require_object(where, block, "'expirations'")
    if "date" in block:
        return [str(d) for d in as_list(block["date"])]
    # strikes=true form: {"expiration": [{"date": ..., "strikes": {...}}]}
    return [str(e.get("date")) for e in as_list(block.get("expiration")) if isinstance(e, dict)]


def parse_tradier_quote(where: str, doc: Any, symbol: str | None) -> dict[str, Any]:
    """The quote of ``symbol`` (normalised) in a quotes response, or the only one."""
    doc = require_object(where, doc, "quotes response")
    block = doc.get("quotes")
    quotes = [q for q in as_list(block.get("quote") if isinstance(block, dict) else None) if isinstance(q, dict)]
    if symbol is not None:
        quotes = [q for q in quotes if normalise_ticker(str(q.get("symbol", ""))) == symbol] or quotes[:0]
    if len(quotes) != 1:
        raise SourceError(where, f"quotes response holds {len(quotes)} quotes for {symbol or 'the symbol'}, expected one")
    return quotes[0]


def add_tradier_contracts(collector: ContractCollector, where: str, doc: Any) -> int:
    """Add the contracts of one chain response; returns how many records it held (0 for a null chain)."""
    doc = require_object(where, doc, "chain response")
    if "options" not in doc:
        raise SourceError(where, "chain response has no 'options' field")
    block = doc["options"]
    if block is None:
        return 0
    block = require_object(where, block, "'options'")
    records = as_list(block.get("option"))
    for rec in records:
        if not isinstance(rec, dict):
            collector.reject(rec, "record is not an object")
            continue
        root = str(rec.get("root_symbol") or rec.get("symbol") or "")
        root = root[: len(root) - 15] if not rec.get("root_symbol") and len(root) > 15 else root
        if root[-1:].isdigit():  # AAPL7 (mini, 10 shares), SPY1 (adjusted): not a 100-share standard contract
            collector.reject(rec, f"adjusted or mini option root {root!r} (non-standard deliverable)")
            continue
        greeks = rec.get("greeks")
        greeks = greeks if isinstance(greeks, dict) else {}
        mid, mid_ok = number(greeks.get("mid_iv"))
        iv = greeks.get("mid_iv") if mid_ok and mid is not None and mid > 0 else greeks.get("smv_vol")
        collector.add(
            rec,
            rec.get("symbol"),
            {
                "bid": rec.get("bid"),
                "ask": rec.get("ask"),
                "last": rec.get("last"),
                "volume": rec.get("volume"),
                "open_interest": rec.get("open_interest"),
                "vendor_iv": iv,
                "vendor_delta": greeks.get("delta"),
                "vendor_gamma": greeks.get("gamma"),
                "vendor_vega": greeks.get("vega"),
                "vendor_theta": greeks.get("theta"),
            },
            strike=rec.get("strike"),
            expiration=rec.get("expiration_date"),
            right=None if rec.get("option_type") is None else _RIGHTS.get(str(rec.get("option_type")), str(rec.get("option_type"))),
            contract_size=rec.get("contract_size", 100),
        )
    return len(records)


def parse_tradier_chain(path: str, bundle: FetchBundle) -> ChainSnapshot:
    """The chain snapshot of a Tradier fetch bundle (expirations, chains, quote).

    Raises
    ------
    SourceError
        A non-JSON or error response, no quote response, no usable spot, no contract at all.
    """
    warnings: list[str] = []
    listed: list[str] = []
    exp_resp = one_of(path, bundle, "expirations", required=False)
    if exp_resp is not None:
        listed = parse_tradier_expirations(entry_label(path, exp_resp), load_json_body(path, exp_resp))
        if not listed:
            raise SourceError(entry_label(path, exp_resp), f"no expirations listed for {bundle.symbol} (expirations: null)")
    quote_resp = one_of(path, bundle, "quote")
    assert quote_resp is not None
    where = entry_label(path, quote_resp)
    q = parse_tradier_quote(where, load_json_body(path, quote_resp), bundle.symbol)
    instant = instant_of(path, quote_resp)
    last, last_ok = number(q.get("last"))
    close, close_ok = number(q.get("close"))
    spot = eod_spot(instant, last if last_ok else None, close if close_ok else None)
    if spot is None:
        raise SourceError(where, f"no usable underlying price: last {q.get('last')!r}, close {q.get('close')!r}")

    collector = ContractCollector()
    fetched: set[str] = set()
    for resp in bundle.by_role("chain"):
        expiration = str(resp.params.get("expiration", "?"))
        fetched.add(expiration)
        if add_tradier_contracts(collector, entry_label(path, resp), load_json_body(path, resp)) == 0:
            warnings.append(f"no contracts for expiration {expiration} ({resp.name}: options null or empty)")
    missing = [e for e in listed if e not in fetched]
    if missing:
        warnings.append(f"{len(missing)} listed expirations not fetched: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    header = ApiHeader(instant, spot, str(q.get("symbol")) if q.get("symbol") else bundle.symbol, warnings)
    return build_snapshot(path, collector, header, FORMAT_TRADIER)
