"""What the API chain parsers (Cboe, Tradier, Polygon, Schwab) share: per-contract validation with exact
accounting, and the step from validated contracts to a :class:`gex.chain.ChainSnapshot`.

Each parser walks its vendor's JSON and hands every contract record to a :class:`ContractCollector` with
the values it found; the collector numbers the records (``source_line`` = 1-based position of the record
among all contract records of the bundle, in response order), checks every value and either keeps the
contract or rejects the record with a reason. Nothing is dropped silently: ``records in = contracts +
rejects``. :func:`build_snapshot` then applies the steps every reader shares (underlying from the roots,
settlement per root, as-of session and times; see :mod:`gex_sources.assemble`), and refuses a chain whose
quotes are all zero (a feed's state around the open: no bid, no ask, no IV anywhere).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl
from gex.calendar import NEW_YORK
from gex.chain import ChainSnapshot

from gex_sources import assemble
from gex_sources.bundle import BundleResponse, FetchBundle
from gex_sources.errors import SourceError
from gex_sources.osi import parse_osi_symbol
from gex_sources.roots import normalise_ticker

#: Canonical float columns a contract may carry (null when the vendor gave none).
FLOAT_COLUMNS = ("bid", "ask", "last", "vendor_iv", "vendor_delta", "vendor_gamma", "vendor_vega", "vendor_theta")
#: Canonical count columns (contracts): whole and non-negative.
INT_COLUMNS = ("volume", "open_interest")
#: Relative tolerance when a vendor's strike field is compared with the strike in its OSI symbol.
STRIKE_TOLERANCE = 1e-9
#: Shares per contract the chain schema holds; other contract sizes (mini options) are rejected.
STANDARD_CONTRACT_SIZE = 100


def entry_label(path: str, response: BundleResponse) -> str:
    """How a message names one response of a bundle: ``<file> [responses/003.json]``."""
    return f"{path} [{response.name}]"


def load_json_body(path: str, response: BundleResponse) -> Any:
    """The response body parsed as JSON.

    Raises
    ------
    SourceError
        Naming the bundle and the entry, for an HTTP error status, an empty body or a non-JSON body (an HTML
        error page, Cboe's ``UnavailableUnavailable``), quoting its start.
    """
    where = entry_label(path, response)
    if not 200 <= response.status < 300:
        raise SourceError(where, f"HTTP status {response.status}, not a data response; body starts", text=_start(response))
    if not response.body.strip():
        raise SourceError(where, "empty body")
    try:
        return json.loads(response.body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SourceError(where, "body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SourceError(where, f"body is not JSON ({exc.msg} at line {exc.lineno}); it starts", text=_start(response)) from None
    except (ValueError, RecursionError) as exc:
        raise SourceError(where, f"body is not usable JSON ({str(exc).splitlines()[0][:80]})") from None


def _start(response: BundleResponse) -> str:
    return response.body[:80].decode("utf-8", errors="replace")


def number(value: Any, *, missing: Iterable[Any] = ()) -> tuple[float | None, bool]:
    """``(value as float or None, acceptable)``: JSON numbers and null pass; ``missing`` markers (Schwab's
    ``"NaN"`` and ``-999.0``) become None; other strings, booleans and non-finite numbers are refused."""
    if value is None:
        return None, True
    markers = tuple(missing)
    if isinstance(value, str):
        return (None, True) if value in markers else (None, False)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, False
    try:
        v = float(value)
    except OverflowError:
        return None, False
    if not math.isfinite(v):
        return (None, True) if "NaN" in markers and math.isnan(v) else (None, False)
    if v in markers:
        return None, True
    return v, True


@dataclass
class ContractCollector:
    """Collects contract records, numbering them and checking every value.

    Attributes
    ----------
    missing:
        Values a vendor uses for "no value" (passed to :func:`number`).
    rows, rejects:
        Kept contracts (canonical column -> value) and ``(source_line, raw, reason)`` of rejected records.
    """

    missing: tuple[Any, ...] = ()
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)
    line: int = 0

    def reject(self, record: Any, reason: str) -> None:
        """Reject the next record."""
        self.line += 1
        self.rejects.append((self.line, _raw(record), reason))

    def add(
        self,
        record: Any,
        symbol: Any,
        values: dict[str, Any],
        *,
        strike: Any = None,
        expiration: Any = None,
        right: str | None = None,
        contract_size: Any = STANDARD_CONTRACT_SIZE,
    ) -> None:
        """Check one record and keep it as a contract, or reject it with the first problem found.

        Parameters
        ----------
        record:
            The vendor's record (its compact JSON is the reject's ``raw``).
        symbol:
            OSI symbol (padded, unpadded, or with Polygon's ``O:`` prefix): root, expiry, right and strike
            come from it.
        values:
            Canonical float/count column -> the vendor's value (already scaled: Schwab's percent IV /100).
        strike, expiration, right:
            The vendor's separate fields, when it has them: they must agree with the symbol.
        contract_size:
            Shares per contract; anything but 100 (mini options) is rejected.
        """
        reason = self._problem(symbol, values, strike, expiration, right, contract_size)
        if isinstance(reason, str):
            self.reject(record, reason)
            return
        self.line += 1
        reason["source_line"] = self.line
        self.rows.append(reason)

    def _problem(
        self, symbol: Any, values: dict[str, Any], strike: Any, expiration: Any, right: str | None, size: Any
    ) -> str | dict[str, Any]:
        if not isinstance(symbol, str):
            return f"malformed OSI symbol: {symbol!r}"
        text = symbol.strip().removeprefix("O:")
        try:
            osi = parse_osi_symbol(text)
        except ValueError as exc:
            return str(exc)
        size_value, ok = number(size)
        if not ok or size_value is None:
            return f"non-numeric contract size: {size!r}"
        if size_value != STANDARD_CONTRACT_SIZE:
            return f"non-standard contract size {size_value:g} (mini or adjusted option; the chain holds 100-share contracts)"
        if strike is not None:
            k, ok = number(strike)
            if not ok or k is None or not math.isclose(k, osi.strike, rel_tol=STRIKE_TOLERANCE):
                return f"strike {strike!r} disagrees with the symbol's {osi.strike:g}"
        if expiration is not None and expiration != osi.expiration.isoformat():
            return f"expiration {expiration!r} disagrees with the symbol's {osi.expiration}"
        if right is not None and right != osi.right:
            return f"option type {right!r} disagrees with the symbol's {osi.right}"
        row: dict[str, Any] = {
            "symbol": text,
            "root": osi.root,
            "expiration": osi.expiration,
            "strike": osi.strike,
            "right": osi.right,
        }
        for column in FLOAT_COLUMNS:
            v, ok = number(values.get(column), missing=self.missing)
            if not ok:
                return f"non-numeric {column}: {values.get(column)!r}"
            row[column] = v
        for column in INT_COLUMNS:
            v, ok = number(values.get(column), missing=self.missing)
            if not ok or (v is not None and (v < 0 or v != round(v))):
                return f"non-integer {column}: {values.get(column)!r}"
            row[column] = None if v is None else int(v)
        return row


def _raw(record: Any) -> str:
    try:
        return json.dumps(record, separators=(",", ":"), sort_keys=False, default=str)
    except (TypeError, ValueError):
        return repr(record)


_FRAME_SCHEMA = {
    "symbol": pl.String(),
    "root": pl.String(),
    "expiration": pl.Date(),
    "strike": pl.Float64(),
    "right": pl.String(),
    **{c: pl.Float64() for c in FLOAT_COLUMNS},
    **{c: pl.Int64() for c in INT_COLUMNS},
    "source_line": pl.Int64(),
}


def refuse_opening_reset(path: str, frame: pl.DataFrame) -> None:
    """Raise when every contract has bid = ask = 0 and no IV: the feed's reset state around the open.

    Such a chain keeps its open interest, so exposure computed from it would look plausible while every
    model input is missing. One contract with a quote or an IV is enough to pass.

    Raises
    ------
    SourceError
        Naming the count and what to do.
    """
    if frame.height == 0:
        return
    quoted = (
        (pl.col("bid").fill_null(0.0) != 0.0)
        | (pl.col("ask").fill_null(0.0) != 0.0)
        | (pl.col("vendor_iv").fill_null(0.0) != 0.0)
    )
    if not frame.select(quoted.any()).item():
        raise SourceError(
            path,
            f"opening-reset chain: all {frame.height} contracts have bid = ask = iv = 0 "
            "(the feed's state around the open); not used - fetch again after the open",
        )


@dataclass
class ApiHeader:
    """Snapshot facts a parser found: the instant the data describes (aware), spot, the ticker stated."""

    instant: dt.datetime
    spot: float
    ticker: str | None
    warnings: list[str] = field(default_factory=list)


def build_snapshot(
    path: str, collector: ContractCollector, header: ApiHeader, source_format: str
) -> ChainSnapshot:
    """The snapshot of the collected contracts (see the module docstring).

    Raises
    ------
    SourceError
        No contract record at all; an opening-reset chain; an instant outside the calendar; no underlying.
    """
    if not collector.rows and not collector.rejects:
        raise SourceError(path, "no option contracts in the response(s)")
    good = pl.DataFrame(collector.rows, schema=_FRAME_SCHEMA, orient="row") if collector.rows else pl.DataFrame(
        schema=_FRAME_SCHEMA
    )
    refuse_opening_reset(path, good)
    snap_header = assemble.SnapshotHeader(
        header.instant, header.instant.astimezone(NEW_YORK).date(), header.spot, ticker=header.ticker
    )
    times = assemble.snapshot_times(path, header.instant)
    roots = Counter(dict(good["root"].value_counts().iter_rows())) if good.height else Counter()
    underlying, warnings = assemble.resolve_underlying(path, roots, snap_header)
    styles, root_reasons = assemble.root_settlements(roots, underlying)
    rejects = list(collector.rejects)
    if root_reasons:
        bad = good.filter(pl.col("root").is_in(list(root_reasons)))
        for row in bad.iter_rows(named=True):
            rejects.append((row["source_line"], _raw({k: v for k, v in row.items() if k != "source_line"}), root_reasons[row["root"]]))
        good = good.filter(~pl.col("root").is_in(list(root_reasons)))
    rejects_frame = assemble.rejects_frame(*zip(*rejects)) if rejects else assemble.rejects_frame([], [], [])
    return assemble.finish(
        good,
        path=path,
        source_format=source_format,
        header=snap_header,
        times=times,
        underlying=underlying,
        styles=styles,
        rejects=rejects_frame,
        warnings=[*header.warnings, *warnings],
    )


def eod_spot(instant: dt.datetime, last: float | None, close: float | None) -> float | None:
    """The spot of a snapshot: the official ``close`` when the snapshot is not intraday (after the close,
    a weekend, before the next open: ``close`` then holds the as-of session's close while the last price
    may follow extended hours), else ``last``; either falls back on the other when missing or not > 0."""
    from gex.calendar import is_intraday

    good_last = last if last is not None and last > 0 else None
    good_close = close if close is not None and close > 0 else None
    if is_intraday(instant):
        return good_last or good_close
    return good_close or good_last


def check_bundle_symbol(path: str, bundle: FetchBundle, snapshot: ChainSnapshot) -> ChainSnapshot:
    """Refuse responses for another underlying than the bundle asked for; warn when the bundle's as-of
    session differs from the one the data gives; name the bundle as the snapshot's source."""
    if bundle.symbol is not None and normalise_ticker(bundle.symbol) != snapshot.underlying:
        raise SourceError(path, f"the bundle asked for {bundle.symbol} but the responses hold {snapshot.underlying}")
    warnings = list(snapshot.warnings)
    if bundle.as_of_session is not None and bundle.as_of_session != snapshot.session:
        warnings.append(
            f"bundle manifest says session {bundle.as_of_session} but the data is as of {snapshot.session} (data wins)"
        )
    return replace(snapshot, source=path, warnings=tuple(warnings))


def instant_of(path: str, response: BundleResponse) -> dt.datetime:
    """The response's ``received_at`` as an aware UTC datetime."""
    return dt.datetime.fromisoformat(response.received_at[:-1]).replace(tzinfo=dt.UTC)


def one_of(path: str, bundle: FetchBundle, role: str, *, required: bool = True) -> BundleResponse | None:
    """The bundle's only response of ``role``."""
    found = bundle.by_role(role)
    if len(found) > 1:
        raise SourceError(path, f"{len(found)} responses of role {role!r}, expected one")
    if not found:
        if required:
            raise SourceError(path, f"no response of role {role!r} in the bundle")
        return None
    return found[0]


def as_list(value: Any) -> list[Any]:
    """Tradier's single-or-array: a list as is, one object as a one-element list, null as empty."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


Parser = Callable[[str, FetchBundle], ChainSnapshot]


def require_object(where: str, value: Any, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object, else a SourceError naming ``what``."""
    if not isinstance(value, dict):
        raise SourceError(where, f"{what} is not a JSON object but", text=_raw(value)[:60])
    return value
