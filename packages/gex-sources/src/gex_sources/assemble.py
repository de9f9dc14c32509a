"""Steps every reader shares once it has candidate contracts: underlying, settlement, snapshot facts.

Readers parse their format into typed columns and flag bad rows; this module turns the header and the good
rows into a :class:`gex.chain.ChainSnapshot`:

- the underlying comes from the option roots (the most common root family), cross-checked against the
  header's ticker or long name (a disagreement is a warning: the roots are what the contracts are on);
- each root gets its settlement style from :func:`gex.calendar.settlement_style`; a root the calendar does
  not know, or one that belongs to another underlying, rejects its rows rather than guess;
- as-of session, valuation instant and open-interest date come from :mod:`gex.calendar`.

Open interest: Cboe publishes OCC open interest **as of the start of the session**, i.e. the positions
after the previous session's close. ``oi_date`` is therefore ``previous_session(session)`` for every Cboe
snapshot, evening ones included (OCC's overnight update reaches the page the next morning).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from os import PathLike

import polars as pl
from gex.calendar import (
    UTC,
    UnknownSettlementError,
    as_of_session,
    previous_session,
    settlement_instant,
    settlement_style,
    valuation_instant,
)
from gex.chain import CHAIN_SCHEMA, REJECT_SCHEMA, ChainSnapshot, conform

from gex_sources.errors import SourceError
from gex_sources.limits import MAX_LISTING_DAYS, MAX_LISTING_YEARS
from gex_sources.roots import normalise_ticker, underlying_for_root, underlying_from_name

#: Shares per contract of listed US equity and index options.
MULTIPLIER = 100.0


@dataclass
class SnapshotHeader:
    """Snapshot-wide facts a reader found in the file header.

    Attributes
    ----------
    instant:
        Snapshot instant, timezone-aware.
    header_date:
        Calendar date as written in the header (New York date for sources stamped in UTC).
    spot:
        Underlying price, currency per share.
    name:
        Long name of the underlying as written ("" when the source has none).
    ticker:
        Ticker the header states explicitly (".dat" name line, JSON ``symbol``), else ``None``.
    warnings:
        Notes gathered while reading the header.
    """

    instant: dt.datetime
    header_date: dt.date
    spot: float
    name: str = ""
    ticker: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SnapshotTimes:
    """As-of facts derived from the snapshot instant (all dates New York, instants UTC)."""

    snapshot_ts: dt.datetime
    session: dt.date
    valuation_ts: dt.datetime
    oi_date: dt.date


def snapshot_times(path: str | PathLike[str], instant: dt.datetime, line: int | None = None) -> SnapshotTimes:
    """Session, valuation instant and OI date of a snapshot taken at ``instant``.

    Raises
    ------
    SourceError
        When ``instant`` lies outside the exchange calendar.
    """
    try:
        session = as_of_session(instant)
        return SnapshotTimes(
            snapshot_ts=instant.astimezone(UTC),
            session=session,
            valuation_ts=valuation_instant(instant),
            oi_date=previous_session(session),
        )
    except ValueError as exc:
        raise SourceError(path, f"header timestamp {instant.isoformat()} is unusable: {exc}", line=line) from None


def resolve_underlying(
    path: str | PathLike[str], root_counts: Counter[str], header: SnapshotHeader
) -> tuple[str, list[str]]:
    """The snapshot's underlying and the warnings its cross-checks raised.

    Parameters
    ----------
    root_counts:
        Contracts (or lines) per option root among the rows that parsed.
    header:
        The header, for its explicit ticker and long name.

    Raises
    ------
    SourceError
        When neither the roots nor the header identify an underlying.
    """
    warnings: list[str] = []
    families: Counter[str] = Counter()
    for root, n in root_counts.items():
        families[underlying_for_root(root)] += n
    from_name = underlying_from_name(header.name) if header.name else None
    if header.name and from_name is None:
        warnings.append(f"header underlying name {header.name!r} not recognised; underlying taken from option roots")
    stated = normalise_ticker(header.ticker) if header.ticker else from_name
    if families:
        underlying = families.most_common(1)[0][0]
        if len(families) > 1:
            others = ", ".join(f"{u} ({n} contracts)" for u, n in families.most_common()[1:])
            warnings.append(f"option roots not of {underlying} present, their rows rejected: {others}")
        if stated is not None and stated != underlying:
            warnings.append(
                f"header names {stated} ({header.name or header.ticker!r}) but option roots are {underlying}"
            )
        return underlying, warnings
    if stated is None:
        raise SourceError(path, "cannot tell the underlying: no valid option symbol and no recognised header name")
    return stated, warnings


def root_settlements(roots: Iterable[str], underlying: str) -> tuple[dict[str, str], dict[str, str]]:
    """Settlement style per root, and a reject reason per root that cannot be used.

    Returns
    -------
    styles, reasons:
        ``{root: "AM" | "PM"}`` for usable roots; ``{root: reason}`` for roots of another underlying or of
        unknown settlement.
    """
    styles: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for root in roots:
        family = underlying_for_root(root)
        if family != underlying:
            if family.startswith(underlying):  # "SPXQ" in an SPX file: looks like a sibling root we do not know
                reasons[root] = f"unknown settlement: root {root!r} is not a known {underlying} root"
            else:
                reasons[root] = f"root of another underlying: {root!r} is {family}, snapshot is {underlying}"
            continue
        try:
            styles[root] = settlement_style(root, underlying)
        except UnknownSettlementError:
            reasons[root] = f"unknown settlement: root {root!r}"
    return styles, reasons


def with_settlement(frame: pl.DataFrame, styles: dict[str, str]) -> pl.DataFrame:
    """Add ``settlement`` (from ``root``) and ``settlement_ts`` (from ``expiration`` and the style).

    Settlement instants are computed once per distinct expiration (a few hundred per chain) and mapped,
    instead of per row. Every root of ``frame`` must be in ``styles``.
    """
    unknown = set(frame["root"].unique().drop_nulls()) - set(styles)
    if unknown:  # the readers reject such rows first; reaching here is a bug, not a data problem
        raise AssertionError(f"roots without a settlement style: {sorted(unknown)}")
    expirations = [e for e in frame["expiration"].unique().to_list() if e is not None]
    ts = CHAIN_SCHEMA["settlement_ts"]
    at_open = {e: settlement_instant(e, "AM") for e in expirations}
    at_close = {e: settlement_instant(e, "PM") for e in expirations}
    is_am = pl.col("root").is_in([r for r, style in styles.items() if style == "AM"])
    return frame.with_columns(
        settlement=pl.when(is_am).then(pl.lit("AM")).otherwise(pl.lit("PM")).cast(CHAIN_SCHEMA["settlement"]),
        settlement_ts=pl.when(is_am)
        .then(pl.col("expiration").replace_strict(at_open, return_dtype=ts))
        .otherwise(pl.col("expiration").replace_strict(at_close, return_dtype=ts)),
    )


def check_header_date(path: str | PathLike[str], expirations: pl.Series, session: dt.date) -> None:
    """Refuse a snapshot whose header date cannot be right for its contracts (see
    :data:`gex_sources.limits.MAX_LISTING_YEARS`): expirations beyond the listing horizon of the session,
    or every expiration before it. A corrupted header year would otherwise load every contract silently
    under the wrong session (or reject every one of them as expired, with no word about the header).

    Raises
    ------
    SourceError
        Naming the session and the range of expirations.
    """
    if expirations.is_empty() or expirations.null_count() == expirations.len():
        return
    first, last = expirations.min(), expirations.max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    span = f"expirations {first}..{last}"
    if (last - session).days > MAX_LISTING_DAYS:
        raise SourceError(
            path,
            f"implausible header date: session {session} but {span}, more than {MAX_LISTING_YEARS} years later "
            "(no listed option is that long-dated; corrupted header year?)",
        )
    if last < session:
        raise SourceError(
            path, f"implausible header date: session {session} is after every expiration ({span}); corrupted header date?"
        )


def rejects_frame(lines: Iterable[int], raws: Iterable[str], reasons: Iterable[str]) -> pl.DataFrame:
    """A :data:`gex.chain.REJECT_SCHEMA` frame, sorted by source line."""
    frame = pl.DataFrame({"source_line": list(lines), "raw": list(raws), "reason": list(reasons)}, schema=REJECT_SCHEMA)
    return frame.sort("source_line")


def finish(
    contracts: pl.DataFrame,
    *,
    path: str | PathLike[str],
    source_format: str,
    header: SnapshotHeader,
    times: SnapshotTimes,
    underlying: str,
    styles: dict[str, str],
    rejects: pl.DataFrame,
    warnings: list[str],
) -> ChainSnapshot:
    """Broadcast snapshot facts into ``contracts``, add settlement, conform and wrap in a snapshot.

    Parameters
    ----------
    contracts:
        One row per valid contract with at least ``symbol, root, expiration, strike, right, bid, ask, last,
        volume, open_interest, vendor_iv, vendor_delta, vendor_gamma, vendor_vega, vendor_theta,
        source_line``; ``settlement`` and ``settlement_ts`` are added from ``styles`` unless present.
    """
    check_header_date(path, contracts["expiration"], times.session)
    if "settlement_ts" not in contracts.columns:
        contracts = with_settlement(contracts, styles)
    frame = contracts.with_columns(
        underlying=pl.lit(underlying, pl.String),
        session=pl.lit(times.session, pl.Date),
        snapshot_ts=pl.lit(times.snapshot_ts, CHAIN_SCHEMA["snapshot_ts"]),
        valuation_ts=pl.lit(times.valuation_ts, CHAIN_SCHEMA["valuation_ts"]),
        oi_date=pl.lit(times.oi_date, pl.Date),
        underlying_price=pl.lit(header.spot, pl.Float64),
        multiplier=pl.lit(MULTIPLIER, pl.Float64),
    )
    if rejects.height:
        warnings = [*warnings, f"{rejects.height} source rows rejected (see snapshot.rejects)"]
    return ChainSnapshot(
        frame=conform(frame),
        underlying=underlying,
        spot=header.spot,
        session=times.session,
        snapshot_ts=times.snapshot_ts,
        valuation_ts=times.valuation_ts,
        header_date=header.header_date,
        source=str(path),
        source_format=source_format,
        underlying_name=header.name,
        warnings=tuple(header.warnings + warnings),
        rejects=rejects,
    )
