"""Cboe delayed-quotes JSON (format C): ``cdn.cboe.com/api/global/delayed_quotes/options/{SYM}.json``.

::

    {"timestamp": "2025-06-08 12:49:38",               <- UTC
     "data": {"symbol": "SPY", "current_price": 599.14, ...,
              "options": [{"option": "SPY250609C00400000", "bid": .., "ask": .., "iv": .., "open_interest": ..,
                           "volume": .., "delta": .., "gamma": .., "vega": .., "theta": ..,
                           "last_trade_price": .., ...}, ...]}}

One object per contract. Root, expiration, right and strike all come from the OSI symbol (the order of the
records means nothing). ``source_line`` is the 1-based index of the record in ``data.options``;
``header_date`` is the New York calendar date of ``timestamp``. Vega and theta are kept as Cboe publishes
them; ``last`` is ``last_trade_price``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from os import PathLike
from typing import Any

import polars as pl
from gex.calendar import NEW_YORK, UTC
from gex.chain import ChainSnapshot

from gex_sources import assemble
from gex_sources.bundle_chain import eod_spot, refuse_opening_reset
from gex_sources.errors import SourceError
from gex_sources.osi import osi_columns
from gex_sources.limits import MAX_COUNT, scalar_out_of_range
from gex_sources.rawfile import load_json

FORMAT_JSON = "cboe_json"

#: Canonical column -> JSON key of an option record.
FLOAT_FIELDS: dict[str, str] = {
    "bid": "bid",
    "ask": "ask",
    "last": "last_trade_price",
    "vendor_iv": "iv",
    "vendor_delta": "delta",
    "vendor_gamma": "gamma",
    "vendor_vega": "vega",
    "vendor_theta": "theta",
}
INT_FIELDS: dict[str, str] = {"volume": "volume", "open_interest": "open_interest"}  # floats like 212.0 in the file


def sniff_json(text: str) -> bool:
    """Whether the start of a file looks like a Cboe JSON chain (a JSON object)."""
    return text.lstrip().startswith("{")


def _number(value: Any) -> tuple[float | None, bool]:
    """(value as float or None, whether it is acceptable): numbers and null pass; strings, bools do not,
    nor numbers beyond a 64-bit float (an integer literal like 10**400 or a float literal like 1e400)."""
    if value is None:
        return None, True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, False
    try:
        v = float(value)
    except OverflowError:
        return math.inf, False
    return v, math.isfinite(v)


def _spot(value: Any) -> float | None:
    """``data.current_price`` as a positive float, or None. A numeric string (``"599.14"``, as some
    re-serialisations write it) is accepted: the value is unambiguous."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    number, ok = _number(value)
    return number if ok and number is not None and number > 0 else None


def _snapshot_header(path: str | PathLike[str], doc: dict[str, Any], body: dict[str, Any]) -> assemble.SnapshotHeader:
    text = doc.get("timestamp")
    if text is None:
        raise SourceError(path, "JSON has no 'timestamp'")
    try:
        instant = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(path, "cannot parse JSON timestamp", text=str(text)) from None
    instant = instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant  # Cboe stamps in UTC
    raw_spot = body.get("current_price")
    spot = _spot(raw_spot)
    if spot is None:
        shown = "absent" if raw_spot is None else json.dumps(raw_spot)[:60]  # the JSON text, quoted once
        raise SourceError(path, f"missing spot: data.current_price is {shown} (want a positive number)")
    symbol = body.get("symbol") or doc.get("symbol")  # "SPY", or "_SPX" for indices; no long name in JSON
    ticker = str(symbol) if symbol else None
    return assemble.SnapshotHeader(instant, instant.astimezone(NEW_YORK).date(), spot, ticker=ticker)


_NUMERIC = frozenset({int, float, type(None)})


def _bad_reason(name: str, value: Any, kind: str, integer: bool) -> str:
    """Why a value was refused: out of range (too large to hold, see :mod:`gex_sources.limits`), or not
    a number / not a whole non-negative count."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            magnitude = abs(float(value))
        except OverflowError:
            magnitude = math.inf
        if magnitude == math.inf or (integer and magnitude > MAX_COUNT and magnitude == magnitude):
            shown = value if isinstance(value, float) else (float(value) if magnitude != math.inf else str(value)[:20] + "...")
            return scalar_out_of_range(name, shown, count=integer)
    return f"{kind} {name}: {value!r}"


def _numeric_column(name: str, values: list[Any], reasons: dict[int, str], integer: bool) -> pl.Series:
    """``values`` as Float64; bad values (strings, bools, nan/inf, fractional or negative counts) become null
    and give their record a reason (the first one found per record wins)."""
    kind = "non-integer" if integer else "non-numeric"
    parsed: list[tuple[float | None, bool]] | None = None
    if set(map(type, values)) <= _NUMERIC:  # the usual case: one C-level pass, no per-value Python
        try:
            series = pl.Series(name, values, dtype=pl.Float64, strict=True)
        except (OverflowError, pl.exceptions.PolarsError):  # an integer beyond a float: the slow path words it
            parsed = [_number(v) for v in values]
    else:
        parsed = [_number(v) for v in values]
    if parsed is None:
        bad = ~series.is_finite()
        if integer:
            bad = bad | (series != series.round()) | (series < 0) | (series.abs() > MAX_COUNT)
        bad_idx = bad.fill_null(False).arg_true().to_list()
    else:
        series = pl.Series(name, [v if ok else None for v, ok in parsed], dtype=pl.Float64)
        bad_idx = [i for i, (v, ok) in enumerate(parsed) if not ok or (integer and v is not None and v != round(v))]
        bad_idx += [i for i, (v, ok) in enumerate(parsed) if integer and ok and v is not None and (v < 0 or v > MAX_COUNT)]
    for i in bad_idx:
        reasons.setdefault(i, _bad_reason(name, values[i], kind, integer))
    if bad_idx:
        series = series.scatter(sorted(set(bad_idx)), None)
    return series


def _records(options: list[Any]) -> tuple[pl.DataFrame, dict[int, str]]:
    """Typed columns of the records, and a reject reason per bad record (by 0-based index).

    Built column by column (list comprehensions and strict polars construction), not record by record:
    the per-value Python path only runs for a column that holds something other than numbers.
    """
    reasons = {i: "record is not an object" for i, rec in enumerate(options) if type(rec) is not dict}
    records = [rec if type(rec) is dict else {} for rec in options]
    symbols = [rec.get("option") for rec in records]
    for i, symbol in enumerate(symbols):
        if type(symbol) is not str:
            reasons.setdefault(i, f"malformed OSI symbol: {symbol!r}")
    columns = {"symbol": pl.Series("symbol", [v if type(v) is str else None for v in symbols], dtype=pl.String)}
    for col, key in (*FLOAT_FIELDS.items(), *INT_FIELDS.items()):
        values = [rec.get(key) for rec in records]
        columns[col] = _numeric_column(key, values, reasons, integer=col in INT_FIELDS).alias(col)
    frame = pl.DataFrame(columns).with_columns(
        pl.col("symbol").str.strip_chars(), source_line=pl.int_range(1, len(options) + 1, dtype=pl.Int64)
    )
    return frame, reasons


def read_cboe_json(path: str | PathLike[str]) -> ChainSnapshot:
    """Read a Cboe delayed-quotes option-chain JSON.

    Returns
    -------
    ChainSnapshot
        One contract per valid record; bad records (malformed symbol, non-numeric field, unknown root) in
        ``rejects`` with the record's JSON text as ``raw``.

    Raises
    ------
    SourceError
        Invalid JSON, no ``data`` object, no ``data.options`` list, unusable ``timestamp``, missing spot.
    """
    doc = load_json(path)
    return parse_cboe_document(path, doc)


def parse_cboe_document(path: str | PathLike[str], doc: Any) -> ChainSnapshot:
    """The chain of a parsed Cboe delayed-quotes document (see :func:`read_cboe_json`; also used for the
    body of a fetch bundle). Spot is ``data.close`` for a snapshot that is not intraday (evening, weekend,
    before the open: ``current_price`` follows extended hours), else ``current_price``. An opening-reset
    chain (every bid, ask and iv 0) raises :class:`SourceError`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise SourceError(path, "JSON has no 'data' object (not a Cboe delayed-quotes chain)")
    body = doc["data"]
    options = body.get("options")
    if not isinstance(options, list):
        raise SourceError(path, "JSON 'data' has no 'options' list")
    header = _snapshot_header(path, doc, body)
    close, close_ok = _number(body.get("close"))
    header.spot = eod_spot(header.instant, header.spot, close if close_ok else None) or header.spot
    times = assemble.snapshot_times(path, header.instant)

    frame, reasons = _records(options)
    osi = osi_columns(pl.col("symbol"))
    frame = frame.with_columns(
        osi_ok=osi.valid,
        root=osi.root,
        expiration=osi.expiration,
        right=osi.right,
        strike=osi.strike_milli / 1000,
    )
    for i, symbol in frame.filter(~pl.col("osi_ok")).select(pl.col("source_line") - 1, "symbol").iter_rows():
        reasons.setdefault(i, f"malformed OSI symbol: {symbol!r}")
    good = frame.filter(~pl.col("source_line").is_in([i + 1 for i in reasons]))

    root_counts = Counter(dict(good["root"].value_counts().iter_rows()))
    underlying, warnings = assemble.resolve_underlying(path, root_counts, header)
    styles, root_reasons = assemble.root_settlements(root_counts, underlying)
    if root_reasons:
        for line, root in (
            good.filter(pl.col("root").is_in(list(root_reasons))).select("source_line", "root").iter_rows()
        ):
            reasons[line - 1] = root_reasons[root]
        good = good.filter(~pl.col("root").is_in(list(root_reasons)))

    rejects = assemble.rejects_frame(
        (i + 1 for i in reasons),
        (json.dumps(options[i], separators=(",", ":")) for i in reasons),
        reasons.values(),
    )
    contracts = good.with_columns(pl.col("volume", "open_interest").cast(pl.Int64))
    refuse_opening_reset(str(path), contracts)
    return assemble.finish(
        contracts,
        path=path,
        source_format=FORMAT_JSON,
        header=header,
        times=times,
        underlying=underlying,
        styles=styles,
        rejects=rejects,
        warnings=warnings,
    )
