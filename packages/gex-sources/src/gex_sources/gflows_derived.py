"""Third-party **results**: the JSON a gflows-style dashboard computes from one chain (not market data).

::

    {"ticker": "SPY", "spotPrice": 599.14, "lastUpdated": "2025-06-08T16:18:25.874596",
     "expiryData": {"all": {"strikeData": [{"strike": 600.0,
                                            "gamma": {"callExposure": 2.23, "putExposure": -0.36,
                                                      "totalExposure": 1.87},
                                            "delta": {...}, "vanna": {...}, "charm": {...}}, ...],
                            "totalExposure": 3.38, "zeroGamma": 592.83},
                    "monthly": {...}, "0dte": {...}, "opex": {...}}}

The warehouse keeps it to compare its own numbers with a popular tool's. Mapping
(:data:`gex.reference.DERIVED_RESULTS_SCHEMA`, ``provider="gflows"``):

- one row per (expiry group, strike) with the **gamma** call/put/net exposures as published: $bn per 1%
  move of the underlying, dealer-signed (calls positive, puts negative, ``net = totalExposure``); the
  delta, vanna and charm blocks are not kept (their units are the tool's own and undocumented);
- one summary row per expiry group with ``strike`` null, ``total_gex_bn`` = the group's
  ``totalExposure`` (the sum of the strikes' net) and ``zero_gamma`` = its ``zeroGamma`` level;
- ``session``: the as-of session of ``lastUpdated`` (no zone written; taken as UTC like Cboe's own
  stamps: a weekend or evening stamp describes the previous close); ``underlying`` = ``ticker``;
- ``source_line``: 1-based record number in the flattened output, groups in file order, each group's
  strikes in order then its summary row.

Records that are not objects or carry non-numeric values are rejected (``raw`` = the record's JSON).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from os import PathLike
from typing import Any

import polars as pl
from gex.calendar import UTC, as_of_session
from gex.chain import REJECT_SCHEMA
from gex.reference import ReferenceData, conform_reference

from gex_sources.errors import SourceError
from gex_sources.limits import IDENTIFIER_RULE, is_identifier
from gex_sources.rawfile import load_json
from gex_sources.roots import normalise_ticker

FORMAT_GFLOWS = "gflows_derived"
PROVIDER = "gflows"


def sniff_gflows(text: str) -> bool:
    """Whether the start of a file is a gflows results JSON (an object with ``expiryData``)."""
    return text.lstrip().startswith("{") and '"expiryData"' in text


def _num(value: Any) -> float | None:
    """A JSON number as float; ``None`` for null; raises ``ValueError`` for anything else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer literal beyond a 64-bit float
        raise ValueError(f"number out of range: {str(value)[:40]}") from None
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def read_gflows_derived(path: str | PathLike[str]) -> ReferenceData:
    """Read a gflows results JSON into kind ``"derived_results"``.

    Raises
    ------
    SourceError
        Invalid JSON; no ``expiryData`` object; unusable ``lastUpdated``, ``ticker`` or ``spotPrice``.
    """
    doc = load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("expiryData"), dict):
        raise SourceError(path, "JSON has no 'expiryData' object (not a gflows results file)")
    try:
        stamp = dt.datetime.fromisoformat(str(doc.get("lastUpdated", "")).replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(path, "cannot parse 'lastUpdated'", text=str(doc.get("lastUpdated"))) from None
    stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp
    ticker = doc.get("ticker")
    if not isinstance(ticker, str) or not ticker.strip():
        raise SourceError(path, "JSON has no 'ticker'")
    if not is_identifier(normalise_ticker(ticker)):  # it names export folders: see gex_sources.limits
        raise SourceError(path, "invalid 'ticker'", text=ticker, detail=IDENTIFIER_RULE)
    try:
        spot = _num(doc.get("spotPrice"))
        session = as_of_session(stamp)
    except ValueError as exc:
        raise SourceError(path, f"unusable header: {exc}") from None

    rows: list[dict[str, Any]] = []
    rejects: list[tuple[int, str, str]] = []
    n = 0
    for group, body in doc["expiryData"].items():
        strikes = body.get("strikeData") if isinstance(body, dict) else None
        for record in strikes if isinstance(strikes, list) else []:
            n += 1
            try:
                gamma = record["gamma"]
                call, put, net = (_num(gamma[k]) for k in ("callExposure", "putExposure", "totalExposure"))
                strike = _num(record["strike"])
                if strike is None or strike <= 0:
                    raise ValueError(f"invalid strike {record['strike']!r}")
            except (KeyError, TypeError, ValueError) as exc:
                rejects.append((n, json.dumps(record, separators=(",", ":")), f"bad strike record: {exc}"))
                continue
            rows.append({"expiry_group": group, "strike": strike, "call_gex_bn": call, "put_gex_bn": put,
                         "net_gex_bn": net, "zero_gamma": None, "total_gex_bn": None, "source_line": n})  # fmt: skip
        n += 1
        summary = {k: v for k, v in body.items() if k != "strikeData"} if isinstance(body, dict) else body
        try:
            total, zero = _num(body["totalExposure"]), _num(body.get("zeroGamma"))  # type: ignore[index,union-attr]
        except (KeyError, TypeError, ValueError) as exc:
            rejects.append((n, json.dumps(summary, separators=(",", ":")), f"bad group summary '{group}': {exc}"))
            continue
        rows.append({"expiry_group": group, "strike": None, "call_gex_bn": None, "put_gex_bn": None,
                     "net_gex_bn": None, "zero_gamma": zero, "total_gex_bn": total, "source_line": n})  # fmt: skip
    frame = pl.DataFrame(
        rows,
        schema={"expiry_group": pl.String, "strike": pl.Float64, "call_gex_bn": pl.Float64, "put_gex_bn": pl.Float64,
                "net_gex_bn": pl.Float64, "zero_gamma": pl.Float64, "total_gex_bn": pl.Float64,
                "source_line": pl.Int64},  # fmt: skip
    ).with_columns(
        session=pl.lit(session, pl.Date),
        underlying=pl.lit(normalise_ticker(ticker)),
        provider=pl.lit(PROVIDER),
        spot=pl.lit(spot, pl.Float64),
    )
    bad = pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row")
    return ReferenceData(
        kind="derived_results",
        frame=conform_reference("derived_results", frame),
        source=str(path),
        source_format=FORMAT_GFLOWS,
        rejects=bad,
        warnings=(f"{bad.height} records rejected (see rejects)",) if bad.height else (),
    )
