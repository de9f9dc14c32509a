"""Schwab Trader API option chains: ``/marketdata/v1/chains``.

Shape::

    {"symbol": "$SPX", "status": "SUCCESS", "underlyingPrice": 5659.91, "interestRate": 4.25,
     "isChainTruncated": false, "underlying": {...} (with includeUnderlyingQuote=true),
     "callExpDateMap": {"2025-05-20:9": {"5660.0": [ {contract} ]}},
     "putExpDateMap":  {...}}

Per contract: ``symbol`` (OSI, root space-padded to 6), ``putCall``, ``strikePrice``, ``bid``, ``ask``,
``last``, ``totalVolume``, ``openInterest``, ``volatility`` (**percent**), ``delta``, ``gamma``, ``theta``,
``vega``, ``multiplier``, ``mini``, ``nonStandard``, ``settlementType`` (A/P), ``quoteTimeInLong`` (epoch ms).

Rules:

- ``volatility`` is divided by 100; the string ``"NaN"``, a JSON NaN and ``-999.0`` mean "no value" in any
  numeric field (null, never zero);
- the map keys are checked against the contract: the date of ``"YYYY-MM-DD:DTE"`` must be the symbol's
  expiry, the strike key the symbol's strike, a call map must hold calls;
- ``mini`` true, ``nonStandard`` true or a ``multiplier`` other than 100 reject the contract (reason given);
- spot is ``underlyingPrice``; the snapshot instant is the response's ``received_at``;
- ``isChainTruncated: true`` keeps the chain with a warning (Schwab cut it at its size limit: the total is
  partial); ``status`` other than ``SUCCESS`` is refused. Several chain responses (e.g. one per date range)
  are combined. ``interestRate`` (percent) is not the project's rate source (see the Treasury/FRED readers).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from gex.chain import ChainSnapshot

from gex_sources.bundle import FetchBundle
from gex_sources.bundle_chain import (
    ApiHeader,
    ContractCollector,
    build_snapshot,
    entry_label,
    instant_of,
    load_json_body,
    number,
    require_object,
)
from gex_sources.errors import SourceError
from gex_sources.osi import parse_osi_symbol

FORMAT_SCHWAB = "schwab_bundle"
#: Values Schwab sends for "no value".
MISSING = ("NaN", -999.0)
_MAPS = {"callExpDateMap": "C", "putExpDateMap": "P"}


def _key_problem(rec: dict[str, Any], exp_key: str, strike_key: str, right: str) -> str | None:
    """Why a contract does not belong under its map keys, or None."""
    try:
        osi = parse_osi_symbol(str(rec.get("symbol", "")).strip())
    except ValueError:
        return None  # the collector words the symbol problem
    day = exp_key.split(":", 1)[0]
    try:
        if dt.date.fromisoformat(day) != osi.expiration:
            return f"map key {exp_key!r} disagrees with the symbol's expiry {osi.expiration}"
    except ValueError:
        return f"map key {exp_key!r} is not YYYY-MM-DD:DTE"
    try:
        if not math.isclose(float(strike_key), osi.strike, rel_tol=1e-9):
            return f"strike key {strike_key!r} disagrees with the symbol's strike {osi.strike:g}"
    except ValueError:
        return f"strike key {strike_key!r} is not a number"
    if osi.right != right:
        return f"{'call' if right == 'C' else 'put'} map holds a {osi.right} contract"
    return None


def add_schwab_chain(collector: ContractCollector, where: str, doc: Any) -> tuple[float | None, list[str]]:
    """Add one chain response's contracts; return its ``underlyingPrice`` and warnings."""
    doc = require_object(where, doc, "chain response")
    if doc.get("status") != "SUCCESS":
        raise SourceError(where, f"chain status {doc.get('status')!r}, not 'SUCCESS'")
    warnings = []
    if doc.get("isChainTruncated") is True:
        warnings.append(f"{where}: Schwab truncated the chain (isChainTruncated): totals are partial")
    for map_name, right in _MAPS.items():
        exp_map = doc.get(map_name)
        if exp_map is None:
            continue
        exp_map = require_object(where, exp_map, f"'{map_name}'")
        for exp_key, strikes in exp_map.items():
            strikes = require_object(where, strikes, f"'{map_name}[{exp_key}]'")
            for strike_key, contracts in strikes.items():
                for rec in contracts if isinstance(contracts, list) else [contracts]:
                    if not isinstance(rec, dict):
                        collector.reject(rec, "record is not an object")
                        continue
                    problem = _key_problem(rec, exp_key, strike_key, right)
                    if problem is None and rec.get("mini") is True:
                        problem = "mini option (10 shares; the chain holds 100-share contracts)"
                    if problem is None and rec.get("nonStandard") is True:
                        problem = f"non-standard deliverable: {str(rec.get('deliverableNote', ''))[:60]!r}"
                    if problem is not None:
                        collector.reject(rec, problem)
                        continue
                    iv, ok = number(rec.get("volatility"), missing=MISSING)
                    collector.add(
                        rec,
                        rec.get("symbol"),
                        {
                            "bid": rec.get("bid"),
                            "ask": rec.get("ask"),
                            "last": rec.get("last"),
                            "volume": rec.get("totalVolume"),
                            "open_interest": rec.get("openInterest"),
                            "vendor_iv": iv / 100.0 if ok and iv is not None else rec.get("volatility"),
                            "vendor_delta": rec.get("delta"),
                            "vendor_gamma": rec.get("gamma"),
                            "vendor_vega": rec.get("vega"),
                            "vendor_theta": rec.get("theta"),
                        },
                        strike=rec.get("strikePrice"),
                        right=None if rec.get("putCall") is None else {"CALL": "C", "PUT": "P"}.get(str(rec["putCall"]), str(rec["putCall"])),
                        contract_size=rec.get("multiplier", 100),
                    )
    spot, ok = number(doc.get("underlyingPrice"), missing=MISSING)
    return (spot if ok and spot is not None and spot > 0 else None), warnings


def parse_schwab_chain(path: str, bundle: FetchBundle) -> ChainSnapshot:
    """The chain snapshot of a Schwab fetch bundle (one or more chain responses).

    Raises
    ------
    SourceError
        No chain response, a failed status, no ``underlyingPrice``, no contract at all.
    """
    responses = bundle.by_role("chain")
    if not responses:
        raise SourceError(path, "no chain response in the bundle")
    collector = ContractCollector(missing=MISSING)
    spot = None
    warnings: list[str] = []
    for resp in responses:
        where = entry_label(path, resp)
        price, notes = add_schwab_chain(collector, where, load_json_body(path, resp))
        warnings += notes
        spot = spot if spot is not None else price
    if spot is None:
        raise SourceError(entry_label(path, responses[0]), "no usable underlyingPrice")
    header = ApiHeader(instant_of(path, responses[-1]), spot, bundle.symbol, warnings)
    return build_snapshot(path, collector, header, FORMAT_SCHWAB)
