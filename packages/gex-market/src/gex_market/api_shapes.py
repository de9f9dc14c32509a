"""A generated chain (or rate curve) rendered as the exact response bodies of each market-data API.

:func:`render_responses` turns a :class:`gex.chain.ChainSnapshot` into what Cboe's delayed-quotes CDN,
Tradier, Polygon/Massive, Schwab or OCC's series search would answer for it; :func:`render_rate_responses`
turns published curves into Treasury and FRED CSV downloads. A local replay server serves them (path +
query -> body) and the parsers in ``gex_sources`` read them back: the round trip is tested.

Each shape follows the vendor's documented/recorded form (``../shared/data/api/README.md``), including the
quirks the parsers must handle: Cboe's ``_SPX`` / ``^SPX`` symbols and UTC ``timestamp``; Tradier's lone
object instead of a one-element list; Polygon's ``O:`` tickers, nanosecond epochs, ``next_url`` paging and
optional greeks; Schwab's percent ``volatility``, padded OSI symbols and ``"NaN"`` / ``-999.0`` for missing
values; OCC's tab-separated call+put rows. Numbers are rounded as each API publishes them:

=========  ====================================================================
Cboe       iv, delta, gamma 4 decimals; prices 2; OI and volume as floats
Tradier    greeks and IVs 8 significant decimals; prices 2
Polygon    full precision (its JSON carries doubles)
Schwab     volatility in percent with 3 decimals; greeks 3 decimals; prices 2
Treasury   percent, 2 decimals, bond-equivalent
FRED       percent, 2 decimals, bond-equivalent
=========  ====================================================================

Output is a pure function of the inputs: identical snapshots render identical bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlencode

import polars as pl

from gex.calendar import NEW_YORK, UTC
from gex.chain import ChainSnapshot

#: Underlyings that are indices (Cboe ``_SPX``, Polygon ``I:SPX``, Schwab ``$SPX``).
INDEX_SYMBOLS = frozenset({"SPX", "NDX", "RUT", "VIX", "XSP", "DJX", "OEX", "XND", "MRUT"})
SOURCES = ("cboe", "tradier", "polygon", "schwab", "occ")
RATE_SOURCES = ("treasury", "fred")
JSON = "application/json"
#: Treasury CSV header label and FRED series of each generator tenor (gex_market.rates.TENORS).
TREASURY_LABELS = {"1M": "1 Mo", "2M": "2 Mo", "3M": "3 Mo", "4M": "4 Mo", "6M": "6 Mo", "1Y": "1 Yr", "2Y": "2 Yr",
                   "3Y": "3 Yr", "5Y": "5 Yr", "7Y": "7 Yr", "10Y": "10 Yr", "20Y": "20 Yr", "30Y": "30 Yr"}  # fmt: skip
FRED_SERIES = {"1M": "DGS1MO", "3M": "DGS3MO", "6M": "DGS6MO", "1Y": "DGS1", "2Y": "DGS2", "3Y": "DGS3",
               "5Y": "DGS5", "7Y": "DGS7", "10Y": "DGS10", "20Y": "DGS20", "30Y": "DGS30"}  # fmt: skip


class ApiResponse(NamedTuple):
    """One rendered response.

    Attributes
    ----------
    path:
        URL path (``/api/global/delayed_quotes/options/_SPX.json``).
    query:
        Query parameters the request carries (no credentials).
    body:
        Response body bytes.
    content_type:
        ``Content-Type`` to serve it with.
    role:
        Its role in a fetch bundle (``chain``, ``expirations``, ``quote``, ``page``, ``open_interest``, ``rates``).
    params:
        Request parameters that matter to parsing (as a fetch bundle's manifest records them).
    """

    path: str
    query: dict[str, str]
    body: bytes
    content_type: str
    role: str
    params: dict[str, str]


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _r(value: float | None, digits: int) -> float | None:
    """``value`` rounded to ``digits`` decimals; None stays None."""
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def _ms(instant: dt.datetime) -> int:
    return int(instant.timestamp() * 1000)


def _ns(instant: dt.datetime) -> int:
    return int(instant.timestamp()) * 1_000_000_000 + instant.microsecond * 1000


def _rows(snapshot: ChainSnapshot) -> list[dict[str, Any]]:
    return snapshot.frame.sort(["expiration", "root", "strike", "right"]).to_dicts()


def _instant(snapshot: ChainSnapshot) -> dt.datetime:
    if snapshot.snapshot_ts is None:
        raise ValueError("the snapshot has no snapshot_ts to render")
    return snapshot.snapshot_ts.astimezone(UTC)


def render_responses(
    snapshot: ChainSnapshot, source: str, *, base_url: str = "https://example.invalid", page_size: int = 250
) -> list[ApiResponse]:
    """The responses ``source`` would give for ``snapshot``, in request order.

    Parameters
    ----------
    snapshot:
        A conformed chain (the generator's, or any other).
    source:
        ``cboe`` | ``tradier`` | ``polygon`` | ``schwab`` | ``occ``.
    base_url:
        Scheme and host written into Polygon's absolute ``next_url`` (the replay server's).
    page_size:
        Polygon contracts per page (its ``limit``; 250 at most on the real API).

    Raises
    ------
    ValueError
        Unknown ``source``, a snapshot without ``snapshot_ts``, ``page_size`` < 1.
    """
    renderers = {"cboe": _cboe, "tradier": _tradier, "polygon": _polygon, "schwab": _schwab, "occ": _occ}
    if source not in renderers:
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(renderers)}")
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    return renderers[source](snapshot, base_url=base_url.rstrip("/"), page_size=page_size)


# --------------------------------------------------------------------------------------------------- Cboe


def cboe_symbol(underlying: str) -> str:
    """Cboe's URL symbol: ``_SPX`` for indices, ``SPY`` for the rest."""
    return f"_{underlying}" if underlying in INDEX_SYMBOLS else underlying


def _cboe(snapshot: ChainSnapshot, **_: Any) -> list[ApiResponse]:
    ts = _instant(snapshot)
    options = []
    for row in _rows(snapshot):
        options.append(
            {
                "option": row["symbol"],
                "bid": _r(row["bid"], 2),
                "bid_size": 10.0,
                "ask": _r(row["ask"], 2),
                "ask_size": 10.0,
                "iv": _r(row["vendor_iv"], 4) or 0.0,  # Cboe writes 0 where it has no IV
                "open_interest": float(row["open_interest"] or 0),
                "volume": float(row["volume"] or 0),
                "delta": _r(row["vendor_delta"], 4) or 0.0,
                "gamma": _r(row["vendor_gamma"], 4) or 0.0,
                "theta": _r(row["vendor_theta"], 4) or 0.0,
                "vega": _r(row["vendor_vega"], 4) or 0.0,
                "rho": 0.0,
                "theo": _r(((row["bid"] or 0) + (row["ask"] or 0)) / 2, 4),
                "change": 0.0,
                "open": 0.0,
                "high": 0.0,
                "low": 0.0,
                "tick": "no_change",
                "last_trade_price": _r(row["last"], 2) or 0.0,
                "last_trade_time": None,
                "percent_change": 0.0,
                "prev_day_close": _r(row["last"], 2) or 0.0,
            }
        )
    sym = cboe_symbol(snapshot.underlying)
    index = snapshot.underlying in INDEX_SYMBOLS
    spot = round(snapshot.spot, 4)
    doc = {
        "timestamp": ts.strftime("%Y-%m-%d %H:%M:%S"),
        "data": {
            "options": options,
            "symbol": f"^{snapshot.underlying}" if index else snapshot.underlying,
            "security_type": "index" if index else "stock",
            "exchange_id": 5,
            "current_price": spot,
            "price_change": 0.0,
            "price_change_percent": 0.0,
            "bid": spot,
            "ask": spot,
            "bid_size": 0,
            "ask_size": 0,
            "open": spot,
            "high": spot,
            "low": spot,
            "close": spot,
            "prev_day_close": spot,
            "volume": 0,
            "iv30": 15.0,
            "iv30_change": 0.0,
            "iv30_change_percent": 0.0,
            "seqno": 1,
            "last_trade_time": ts.astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M:%S"),
            "tick": "no_change",
        },
        "symbol": sym,
    }
    return [ApiResponse(f"/api/global/delayed_quotes/options/{sym}.json", {}, _dumps(doc), JSON, "chain", {})]


# ------------------------------------------------------------------------------------------------ Tradier


def _sig(value: float | None) -> float | None:
    """8 significant digits, as Tradier's greeks (``7.1E-4``)."""
    return None if value is None or not math.isfinite(value) else float(f"{value:.8g}")


def _tradier(snapshot: ChainSnapshot, **_: Any) -> list[ApiResponse]:
    ts = _instant(snapshot)
    u = snapshot.underlying
    updated = ts.strftime("%Y-%m-%d %H:%M:%S")  # UTC, as the recordings show
    by_expiry: dict[dt.date, list[dict[str, Any]]] = {}
    for row in _rows(snapshot):
        iv = _sig(row["vendor_iv"])
        greeks = {
            "delta": _sig(row["vendor_delta"]),
            "gamma": _sig(row["vendor_gamma"]),
            "theta": _sig(row["vendor_theta"]),
            "vega": _sig(row["vendor_vega"]),
            "rho": 0.0,
            "phi": 0.0,
            "bid_iv": iv if (row["bid"] or 0) > 0 else 0.0,
            "mid_iv": iv,
            "ask_iv": iv,
            "smv_vol": iv,
            "updated_at": updated,
        }
        by_expiry.setdefault(row["expiration"], []).append(
            {
                "symbol": row["symbol"],
                "description": f"{row['root']} {row['expiration']:%b %d %Y} {row['strike']:g} {'Call' if row['right'] == 'C' else 'Put'}",
                "exch": "Z",
                "type": "option",
                "last": _r(row["last"], 2) or None,
                "change": None,
                "volume": int(row["volume"] or 0),
                "open": None,
                "high": None,
                "low": None,
                "close": None,
                "bid": _r(row["bid"], 2),
                "ask": _r(row["ask"], 2),
                "underlying": u,
                "strike": row["strike"],
                "change_percentage": None,
                "average_volume": 0,
                "last_volume": 0,
                "trade_date": 0,
                "prevclose": None,
                "week_52_high": 0.0,
                "week_52_low": 0.0,
                "bidsize": 10,
                "bidexch": "C",
                "bid_date": _ms(ts),
                "asksize": 10,
                "askexch": "C",
                "ask_date": _ms(ts),
                "open_interest": int(row["open_interest"] or 0),
                "contract_size": 100,
                "expiration_date": row["expiration"].isoformat(),
                "expiration_type": "standard" if row["root"] == u else "weeklys",
                "option_type": "call" if row["right"] == "C" else "put",
                "root_symbol": row["root"],
                "greeks": greeks if iv is not None else None,
            }
        )
    dates = [d.isoformat() for d in sorted(by_expiry)]
    out = [
        ApiResponse(
            "/v1/markets/options/expirations",
            {"symbol": u, "includeAllRoots": "true", "strikes": "false"},
            _dumps({"expirations": {"date": dates[0] if len(dates) == 1 else dates}}),  # lone value: no list
            JSON,
            "expirations",
            {},
        )
    ]
    for day in sorted(by_expiry):
        contracts = by_expiry[day]
        body = {"options": {"option": contracts[0] if len(contracts) == 1 else contracts}}  # lone object quirk
        query = {"symbol": u, "expiration": day.isoformat(), "greeks": "true"}
        out.append(ApiResponse("/v1/markets/options/chains", query, _dumps(body), JSON, "chain", {"expiration": day.isoformat()}))
    spot = round(snapshot.spot, 2)
    quote = {
        "symbol": u, "description": snapshot.underlying_name or u, "exch": "C",
        "type": "index" if u in INDEX_SYMBOLS else "etf", "last": spot, "change": 0.0, "volume": 0,
        "open": spot, "high": spot, "low": spot, "close": spot, "bid": spot, "ask": spot,
        "change_percentage": 0.0, "average_volume": 0, "last_volume": 0, "trade_date": _ms(ts),
        "prevclose": spot, "week_52_high": spot, "week_52_low": spot, "bidsize": 0, "bidexch": None,
        "bid_date": 0, "asksize": 0, "askexch": None, "ask_date": 0, "root_symbols": u,
    }  # fmt: skip
    out.append(ApiResponse("/v1/markets/quotes", {"symbols": u}, _dumps({"quotes": {"quote": quote}}), JSON, "quote", {}))
    return out


# ------------------------------------------------------------------------------------------------ Polygon


def polygon_ticker(underlying: str) -> str:
    """Polygon's underlying ticker: ``I:SPX`` for indices."""
    return f"I:{underlying}" if underlying in INDEX_SYMBOLS else underlying


def _polygon(snapshot: ChainSnapshot, *, base_url: str, page_size: int) -> list[ApiResponse]:
    ts = _instant(snapshot)
    ns = _ns(ts)
    u = polygon_ticker(snapshot.underlying)
    index = snapshot.underlying in INDEX_SYMBOLS
    results = []
    for row in _rows(snapshot):
        rec: dict[str, Any] = {
            "break_even_price": row["strike"],
            "day": {"change": 0, "change_percent": 0, "close": row["last"] or 0, "high": row["last"] or 0,
                    "last_updated": ns, "low": row["last"] or 0, "open": row["last"] or 0,
                    "previous_close": row["last"] or 0, "volume": int(row["volume"] or 0), "vwap": row["last"] or 0},
            "details": {"contract_type": "call" if row["right"] == "C" else "put",
                        "exercise_style": "european" if index else "american",
                        "expiration_date": row["expiration"].isoformat(), "shares_per_contract": 100,
                        "strike_price": row["strike"], "ticker": f"O:{row['symbol']}"},
            "last_quote": {"ask": row["ask"], "ask_size": 10, "bid": row["bid"], "bid_size": 10,
                           "last_updated": ns, "midpoint": ((row["bid"] or 0) + (row["ask"] or 0)) / 2,
                           "timeframe": "DELAYED"},
            "open_interest": int(row["open_interest"] or 0),
            "underlying_asset": {"change_to_break_even": 0, "last_updated": ns, "price": snapshot.spot,
                                 "ticker": u, "timeframe": "DELAYED"},
        }  # fmt: skip
        if row["last"]:
            rec["last_trade"] = {"conditions": [209], "exchange": 65, "price": row["last"], "sip_timestamp": ns,
                                 "size": 1, "timeframe": "DELAYED"}  # fmt: skip
        greeks = {k: row[f"vendor_{k}"] for k in ("delta", "gamma", "theta", "vega") if row[f"vendor_{k}"] is not None}
        if greeks:  # omitted, not null, on illiquid contracts
            rec["greeks"] = greeks
        if row["vendor_iv"] is not None:
            rec["implied_volatility"] = row["vendor_iv"]
        results.append(rec)
    path = f"/v3/snapshot/options/{u}"
    pages = [results[i : i + page_size] for i in range(0, len(results), page_size)] or [[]]
    out = []
    for n, page in enumerate(pages):
        query = {"limit": str(page_size)} if n == 0 else {"cursor": f"page{n}", "limit": str(page_size)}
        body: dict[str, Any] = {"request_id": f"gen-{n}", "results": page, "status": "OK"}
        if n + 1 < len(pages):
            body["next_url"] = f"{base_url}{path}?{urlencode({'cursor': f'page{n + 1}', 'limit': str(page_size)})}"
        out.append(ApiResponse(path, query, _dumps(body), JSON, "page", {}))
    return out


# ------------------------------------------------------------------------------------------------- Schwab


def _schwab_num(value: float | None, digits: int, missing: Any) -> Any:
    return missing if value is None or not math.isfinite(value) else round(float(value), digits)


def _schwab(snapshot: ChainSnapshot, **_: Any) -> list[ApiResponse]:
    ts = _instant(snapshot)
    u = snapshot.underlying
    index = u in INDEX_SYMBOLS
    maps: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = {"C": {}, "P": {}}
    for row in _rows(snapshot):
        dte = (row["expiration"] - snapshot.session).days
        settle = row["settlement_ts"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
        rec = {
            "putCall": "CALL" if row["right"] == "C" else "PUT",
            "symbol": f"{row['root']:<6}{row['expiration']:%y%m%d}{row['right']}{round(row['strike'] * 1000):08d}",
            "description": f"{row['root']} {row['expiration']:%m/%d/%Y} {row['strike']:.2f} {row['right']}",
            "exchangeName": "OPR",
            "bid": _r(row["bid"], 2), "ask": _r(row["ask"], 2), "last": _r(row["last"], 2) or 0.0,
            "mark": _r(((row["bid"] or 0) + (row["ask"] or 0)) / 2, 2),
            "bidSize": 10, "askSize": 10, "bidAskSize": "10X10", "lastSize": 0,
            "highPrice": 0.0, "lowPrice": 0.0, "openPrice": 0.0, "closePrice": 0.0,
            "totalVolume": int(row["volume"] or 0), "tradeTimeInLong": 0, "quoteTimeInLong": _ms(ts),
            "netChange": 0.0,
            "volatility": _schwab_num(None if row["vendor_iv"] is None else row["vendor_iv"] * 100, 3, "NaN"),
            "delta": _schwab_num(row["vendor_delta"], 3, -999.0),
            "gamma": _schwab_num(row["vendor_gamma"], 3, -999.0),
            "theta": _schwab_num(row["vendor_theta"], 3, -999.0),
            "vega": _schwab_num(row["vendor_vega"], 3, -999.0),
            "rho": 0.0,
            "openInterest": int(row["open_interest"] or 0),
            "timeValue": 0.0, "theoreticalOptionValue": 0.0, "theoreticalVolatility": 29,
            "optionDeliverablesList": [{"symbol": f"${u}" if index else u, "assetType": "STOCK" if index else "EQUITY",
                                        "deliverableUnits": 100}],
            "strikePrice": row["strike"], "expirationDate": settle, "daysToExpiration": dte,
            "expirationType": "S" if row["root"] == u else "W",
            "lastTradingDay": _ms(row["settlement_ts"]), "multiplier": 100,
            "settlementType": "A" if row["settlement"] == "AM" else "P",
            "deliverableNote": f"100 ${u}(Cash)" if index else "", "optionRoot": row["root"],
            "exerciseType": "E" if index else "A", "nonStandard": False, "pennyPilot": False,
            "inTheMoney": False, "mini": False,
        }  # fmt: skip
        key = f"{row['expiration'].isoformat()}:{dte}"
        maps[row["right"]].setdefault(key, {}).setdefault(str(float(row["strike"])), []).append(rec)
    n = snapshot.frame.height
    doc = {
        "symbol": f"${u}" if index else u, "status": "SUCCESS", "strategy": "SINGLE", "interval": 0,
        "isDelayed": True, "isIndex": index, "interestRate": 4.5, "underlyingPrice": round(snapshot.spot, 2),
        "volatility": 29, "daysToExpiration": 0, "dividendYield": -1 if index else 0, "numberOfContracts": n,
        "assetMainType": "INDEX" if index else "EQUITY", "assetSubType": "", "isChainTruncated": False,
        "callExpDateMap": maps["C"], "putExpDateMap": maps["P"],
    }  # fmt: skip
    query = {"symbol": doc["symbol"], "contractType": "ALL", "includeUnderlyingQuote": "false", "strategy": "SINGLE"}
    return [ApiResponse("/marketdata/v1/chains", query, _dumps(doc), JSON, "chain", {})]


# ---------------------------------------------------------------------------------------------------- OCC


def _occ(snapshot: ChainSnapshot, **_: Any) -> list[ApiResponse]:
    """Series search: one row per (root, expiry, strike) with call and put OI (0 where a side is missing)."""
    f = snapshot.frame
    wide = (
        f.group_by("root", "expiration", "strike")
        .agg(
            call=pl.col("open_interest").filter(pl.col("right") == "C").sum(),
            put=pl.col("open_interest").filter(pl.col("right") == "P").sum(),
        )
        .sort("root", "expiration", "strike")
    )
    lines = [
        f"Series Search Results for {snapshot.underlying}",
        "",
        "Products for this option symbol are traded on: ",
        "AMEX ARCA BATS BOX C2 CBOE EDGX EMLD GEM ISE MCRY MIAX MPRL NOBO NSDQ PHLX ",
        "",
        "\t\tSeries/contract\t\tStrike\t\t\tOpen Interest\t\t\t",
        "ProductSymbol\tyear\tMonth\tDay\tInteger\tDec\tC/P\tCall\tPut\tPosition Limit\t",
    ]
    for root, exp, strike, call, put in wide.iter_rows():
        milli = round(strike * 1000)
        lines.append(
            f"{root:<6}\t\t{exp.year}\t{exp.month:02d}\t{exp.day:02d}\t{milli // 1000}\t{milli % 1000:03d}\tC P \t"
            f"{int(call or 0)}\t{int(put or 0)}\t25000000\t"
        )
    body = ("\n".join(lines) + "\n").encode("utf-8")
    query = {"symbolType": "U", "symbol": snapshot.underlying}
    return [ApiResponse("/series-search", query, body, "text/plain", "open_interest", {})]


# -------------------------------------------------------------------------------------------------- rates


def bond_equivalent_percent(continuous: float) -> float:
    """Continuous decimal rate -> semi-annual bond-equivalent yield in percent (inverse of
    :func:`gex.reference.continuous_from_bond_equivalent`)."""
    return 2.0 * math.expm1(continuous / 2.0) * 100.0


def render_rate_responses(
    curves: Sequence[tuple[dt.date, Mapping[str, float]]], source: str
) -> list[ApiResponse]:
    """Treasury or FRED downloads of published curves (tenor label -> continuous decimal rate).

    Treasury: one CSV, newest first, ``MM/DD/YYYY``, quoted tenor headers. FRED: one ``fredgraph.csv`` per
    series (``observation_date,DGS3MO`` layout), oldest first. Values in percent with 2 decimals,
    bond-equivalent. Tenors without a Treasury column / FRED series are left out.

    Raises
    ------
    ValueError
        Unknown ``source``, no curve.
    """
    if source not in RATE_SOURCES:
        raise ValueError(f"unknown rate source {source!r}; choose treasury or fred")
    if not curves:
        raise ValueError("no curve to render")
    tenors = [t for t in curves[0][1] if t in (TREASURY_LABELS if source == "treasury" else FRED_SERIES)]
    if source == "treasury":
        head = "Date," + ",".join(f'"{TREASURY_LABELS[t]}"' for t in tenors)
        rows = [
            f"{day:%m/%d/%Y}," + ",".join(f"{bond_equivalent_percent(curve[t]):.2f}" for t in tenors)
            for day, curve in sorted(curves, key=lambda c: c[0], reverse=True)
        ]
        year = max(day for day, _ in curves).year
        query = {"type": "daily_treasury_yield_curve", "field_tdr_date_value": str(year), "page": "", "_format": "csv"}
        path = f"/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv/{year}/all"
        return [ApiResponse(path, query, ("\n".join([head, *rows]) + "\n").encode(), "text/csv", "rates", {})]
    out = []
    for t in tenors:
        series = FRED_SERIES[t]
        rows = [f"{day.isoformat()},{bond_equivalent_percent(curve[t]):.2f}" for day, curve in sorted(curves, key=lambda c: c[0])]
        body = ("\n".join([f"observation_date,{series}", *rows]) + "\n").encode()
        out.append(ApiResponse("/graph/fredgraph.csv", {"id": series}, body, "text/csv", "rates", {"series": series}))
    return out
