"""OptionMetrics IvyDB-style files: the option price file and its security price companion.

Option price file (one row per contract per date; WRDS ``opprcd`` exports have this shape)::

    secid,date,symbol,exdate,cp_flag,strike_price,best_bid,best_offer,volume,open_interest,impl_volatility,
    delta,gamma,vega,theta,am_settlement,contract_size
    108105,2024-01-05,SPX 240119C4700000,2024-01-19,C,4700000,50.1,51.3,1200,34567,0.1234,0.55,0.0021,...

Security price file (``secprd``: one row per security per date)::

    secid,date,low,high,close,open
    108105,2024-01-05,4682.11,4721.49,4697.24,4690.57

Mapping to the canonical chain (one snapshot per ``(underlying, date)``):

- ``strike`` = ``strike_price / 1000`` (IvyDB stores strikes in thousandths); ``right`` = ``cp_flag``;
  ``bid``/``ask`` = ``best_bid``/``best_offer`` (closing best quotes); ``last`` null (not in the file);
- ``root``: a ``root`` column when present, else the symbol's root. Supported symbols: the post-2010
  OSI-like forms ``SPX 240119C4700000`` (root, space, YYMMDD, C/P, strike x 1000 unpadded), the padded
  OCC form ``SPXW  240119C04700000`` and the unpadded ``SPXW240119C04700000``. Pre-2010 IvyDB symbols
  (``SPQ.AF``) are not: give a ``root`` column for those;
- ``underlying``: a ``ticker`` column when present, else the ``tickers`` argument (secid -> ticker), else
  the root's family (``SPXW`` -> ``SPX``, ``AAPL7`` -> ``AAPL``);
- settlement: ``am_settlement`` 1 -> AM, 0 -> PM; from the root (as :func:`gex.calendar.settlement_style`)
  when the column is absent or empty;
- ``multiplier`` = ``contract_size`` (100 when absent, empty or not positive);
- ``vendor_iv`` = ``impl_volatility``, ``vendor_delta/gamma/vega/theta`` as OptionMetrics publishes them;
  IvyDB's missing-value code ``-99.99`` becomes null (it is a code, not a value);
- ``session`` = ``date``; end of day: ``snapshot_ts = valuation_ts`` = the session close, ``oi_date`` =
  the previous session (IvyDB's open interest is lagged one day: the previous close's positions);
- spot = the underlying's ``close`` for that ``(secid, date)`` in the security price file. IvyDB writes a
  negative close when there was no trade (the negative of the bid/ask midpoint): its absolute value is
  used, with a warning.

Finding the security prices: pass ``security_prices`` (a path, several paths, or a frame with ``secid``,
``date`` and ``close``), as the warehouse does. Otherwise every file **in the option file's folder** whose
name contains ``secprd`` or ``security_price`` (case-insensitive) and whose header is a security price file
is used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from os import PathLike
from pathlib import Path

import polars as pl
from gex.chain import ChainSnapshot, conform
from gex.reference import ReferenceData, conform_reference

from gex_sources import csvtable as ct
from gex_sources.csvtable import Check
from gex_sources.limits import identifier_reason, invalid_identifier
from gex_sources.errors import SourceError
from gex_sources.snapshots import (
    DEFAULT_MULTIPLIER,
    ChainBatch,
    add_eod_times,
    add_settlement,
    eod_batch,
    family_expr,
    osi_symbol,
    root_screen,
    spot_table,
    ticker_expr,
    with_orphan_batches,
)

FORMAT_IVYDB = "ivydb_option_price"
FORMAT_IVYDB_SECPRD = "ivydb_security_price"
SIGNATURE = ("secid", "date", "symbol", "exdate", "cp_flag", "strike_price")
SECPRD_SIGNATURE = ("secid", "date", "close")
COMPANION_MARKERS = ("secprd", "security_price")
MISSING_CODE = -99.99

COLUMNS: dict[str, tuple[str, ...]] = {
    **{c: (c,) for c in SIGNATURE},
    **{c: (c,) for c in ("best_bid", "best_offer", "volume", "open_interest", "impl_volatility", "delta", "gamma",
                         "vega", "theta", "am_settlement", "contract_size", "root", "ticker")},
}  # fmt: skip
REQUIRED = (*SIGNATURE, "best_bid", "best_offer", "open_interest")
_GREEKS = {"vendor_iv": "impl_volatility", "vendor_delta": "delta", "vendor_gamma": "gamma", "vendor_vega": "vega",
           "vendor_theta": "theta"}  # fmt: skip
_COUNTS = ("volume", "open_interest")
#: Symbol forms: root, optional spaces, YYMMDD, C/P, digits.
_SYMBOL = r"^\s*([A-Z][A-Z0-9.]*?)\s*\d{6}[CP]\d+\s*$"
KEYS = ("underlying", "session")

Prices = str | PathLike[str] | Sequence[str | PathLike[str]] | pl.DataFrame


def sniff_ivydb(names: list[str]) -> bool:
    """Whether a header is an IvyDB option price file."""
    return all(c in names for c in SIGNATURE)


def sniff_secprd(names: list[str]) -> bool:
    """Whether a header is an IvyDB security price file (secid, date, close; no option columns)."""
    return all(c in names for c in SECPRD_SIGNATURE) and "cp_flag" not in names and "strike_price" not in names


def _ticker_of_secid(secid: pl.Expr, tickers: Mapping[int, str] | None) -> pl.Expr:
    """``tickers`` as a when/then chain (streaming-safe, unlike ``replace``); null when not given."""
    chain = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    for sid, ticker in (tickers or {}).items():
        chain = chain.when(secid == int(sid)).then(pl.lit(ticker.strip().upper().lstrip("^")))
    return chain


# --- security prices ---------------------------------------------------------------------------------------


def _secprd_plan(path: str | PathLike[str]) -> ct.TablePlan:
    layout = ct.read_layout(path)
    spec = {"secid": ("secid",), "date": ("date",), "close": ("close",), "open": ("open",), "high": ("high",),
            "low": ("low",), "ticker": ("ticker",)}  # fmt: skip
    columns = ct.require(layout, spec, SECPRD_SIGNATURE)
    date_forms = ct.date_formats(layout, columns["date"])

    def build(fields: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Check]]:
        s = pl.col
        lf = fields.with_columns(
            secid_f=ct.number("secid"),
            session=ct.date("date", date_forms),
            ticker=ticker_expr(ct.text("ticker")),
            **{p: ct.number(p) for p in ("open", "high", "low", "close")},
        ).with_columns(secid=s("secid_f").cast(pl.Int64, strict=False))
        checks = [
            ct.field_count_check(len(layout.names)),
            Check(
                s("secid").is_null() | (s("secid_f") != s("secid_f").round()),
                pl.format("non-integer secid: '{}'", ct.cell("secid")),
            ),
            ct.required_check("date", s("session"), "date"),
            Check(s("close").is_null(), pl.format("non-numeric close: '{}'", ct.cell("close"))),
            Check(invalid_identifier(s("ticker")), identifier_reason("ticker", s("ticker"))),
            *(ct.number_check(p, s(p)) for p in ("open", "high", "low") if columns[p]),
        ]
        return lf, checks

    return ct.TablePlan(layout, columns, build, ("secid", "session", "ticker", "open", "high", "low", "close"))


def read_security_prices(path: str | PathLike[str], *, tickers: Mapping[int, str] | None = None) -> ReferenceData:
    """Read an IvyDB security price file as kind ``"closes"``.

    ``underlying`` is the file's ``ticker`` column, else ``tickers[secid]``, else ``"SECID<n>"`` (with a
    warning: IvyDB identifies securities by secid only). Negative closes (IvyDB: no trade, the value is
    minus the bid/ask midpoint) are made positive, with a warning.
    """
    good, rejects = ct.read_single(_secprd_plan(path))
    warnings = []
    secid_name = pl.format("SECID{}", pl.col("secid"))
    good = good.with_columns(underlying=pl.coalesce("ticker", _ticker_of_secid(pl.col("secid"), tickers), secid_name))
    if good["ticker"].null_count() and not tickers:
        warnings.append("no ticker column: underlying is 'SECID<secid>' (pass tickers={secid: ticker})")
    negative = int((good["close"] < 0).sum())
    if negative:
        warnings.append(f"{negative} negative closes (IvyDB: bid/ask midpoint, no trade) taken as positive")
    if rejects.height:
        warnings.append(f"{rejects.height} source rows rejected (see rejects)")
    # volume: not read from IvyDB (its missing-value codes are not checked here); null = no dollar volume
    frame = good.with_columns(pl.col("open", "high", "low", "close").abs(), volume=pl.lit(None, pl.Float64))
    return ReferenceData(
        kind="closes",
        frame=conform_reference("closes", frame),
        source=str(path),
        source_format=FORMAT_IVYDB_SECPRD,
        rejects=rejects,
        warnings=tuple(warnings),
    )


def companion_paths(option_path: str | PathLike[str]) -> list[Path]:
    """Security price files next to ``option_path``: same folder, name containing ``secprd`` or
    ``security_price`` (case-insensitive), header recognised as a security price file."""
    here = Path(option_path).resolve()
    found = []
    for p in sorted(here.parent.iterdir()):
        if p == here or not p.is_file() or not any(m in p.name.lower() for m in COMPANION_MARKERS):
            continue
        try:
            names = ct.read_layout(p).names
        except SourceError:
            continue
        if sniff_secprd(list(names)):
            found.append(p)
    return found


def _price_table(option_path: str | PathLike[str], prices: Prices | None) -> tuple[pl.DataFrame, list[str]]:
    """``secid, session, und_close`` (positive) and notes; raises SourceError when nothing is found."""
    if isinstance(prices, pl.DataFrame):
        frame = prices.rename({"date": "session"}) if "date" in prices.columns else prices
        missing = [c for c in ("secid", "session", "close") if c not in frame.columns]
        if missing:
            raise SourceError(option_path, f"security_prices frame is missing columns: {', '.join(missing)}")
        frame = frame.select(
            pl.col("secid").cast(pl.Int64), pl.col("session").cast(pl.Date), pl.col("close").cast(pl.Float64)
        )
        notes: list[str] = []
    else:
        if prices is None:
            paths = companion_paths(option_path)
            if not paths:
                raise SourceError(
                    option_path,
                    "no security price file for the underlying close: pass security_prices=... or put a file whose "
                    "name contains 'secprd' or 'security_price' in the same folder",
                )
        else:
            paths = [Path(prices)] if isinstance(prices, (str, PathLike)) else [Path(p) for p in prices]
            if not paths:
                raise SourceError(option_path, "security_prices is empty: give the security price file(s)")
        parts, notes = [], []
        for p in paths:
            good, rejects = ct.read_single(_secprd_plan(p))
            parts.append(good.select("secid", "session", "close"))
            if rejects.height:
                notes.append(f"{p.name}: {rejects.height} security price rows rejected")
        frame = pl.concat(parts)
    negative = int((frame["close"] < 0).sum())
    if negative:
        notes.append(f"{negative} negative security closes (IvyDB: bid/ask midpoint) taken as positive")
    table = frame.group_by("secid", "session").agg(und_close=pl.col("close").abs().first())
    return table, notes


# --- option prices -------------------------------------------------------------------------------------------


def _build(layout: ct.CsvLayout, columns: dict[str, str | None], tickers: Mapping[int, str] | None) -> ct.Build:
    sessions = ct.all_sessions()
    date_forms, exp_forms = ct.date_formats(layout, columns["date"]), ct.date_formats(layout, columns["exdate"])

    def build(fields: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Check]]:
        s, t = pl.col, ct.text
        symbol = t("symbol").str.strip_chars().str.to_uppercase()
        numbers = {c: ct.number(c) for c in ("strike_price", "best_bid", "best_offer", "volume", "open_interest",
                                             "contract_size", "am_settlement", *_GREEKS.values())}  # fmt: skip
        lf = fields.with_columns(
            secid_f=ct.number("secid"),
            session=ct.date("date", date_forms),
            expiration=ct.date("exdate", exp_forms),
            right=t("cp_flag").str.strip_chars().str.to_uppercase(),
            symbol=symbol,
            root=pl.coalesce(t("root").str.strip_chars().str.to_uppercase(), symbol.str.extract(_SYMBOL, 1)),
            **{f"{c}_v": e for c, e in numbers.items()},
        ).with_columns(secid=s("secid_f").cast(pl.Int64, strict=False), strike=s("strike_price_v") / 1000)
        lf = lf.with_columns(
            underlying=pl.coalesce(
                ticker_expr(t("ticker")), _ticker_of_secid(s("secid"), tickers), family_expr(s("root"))
            ),
        )
        am = s("am_settlement_v")
        unusable_root, root_reason = root_screen(s("root"), s("underlying"), True)
        checks = [
            ct.field_count_check(len(layout.names)),
            Check(
                s("secid").is_null() | (s("secid_f") != s("secid_f").round()),
                pl.format("non-integer secid: '{}'", ct.cell("secid")),
            ),
            ct.required_check("date", s("session"), "date"),
            Check(~s("session").is_in(sessions.implode()), pl.format("date {} is not an NYSE session", s("session"))),
            ct.required_check("exdate", s("expiration"), "exdate"),
            Check(
                ~((s("strike") > 0) & s("strike").is_finite()).fill_null(False),
                pl.format("non-numeric strike: '{}'", ct.cell("strike_price")),
            ),
            Check(
                ~s("right").is_in(["C", "P"]).fill_null(False), pl.format("unknown cp_flag: '{}'", ct.cell("cp_flag"))
            ),
            Check(s("root").is_null(), pl.format("unrecognised symbol (no root): '{}'", ct.cell("symbol"))),
            Check(invalid_identifier(s("underlying")), identifier_reason("underlying", s("underlying"))),
            Check(invalid_identifier(s("root")), identifier_reason("root", s("root"))),
            Check(
                am.is_not_null() & ~am.is_in([0.0, 1.0]),
                pl.format("am_settlement not 0/1: '{}'", ct.cell("am_settlement")),
            ),
            Check(am.is_null() & unusable_root, root_reason),
            *(ct.number_check(c, s(f"{c}_v")) for c in numbers if columns.get(c) and c not in _COUNTS),
            *(ct.number_check(c, s(f"{c}_v"), integer=True) for c in _COUNTS if columns.get(c)),
        ]
        size = s("contract_size_v")
        typed = lf.with_columns(
            bid=s("best_bid_v"),
            ask=s("best_offer_v"),
            last=pl.lit(None, pl.Float64),
            volume=s("volume_v").cast(pl.Int64, strict=False),
            open_interest=s("open_interest_v").cast(pl.Int64, strict=False),
            settlement=pl.when(am == 1).then(pl.lit("AM")).when(am == 0).then(pl.lit("PM")),
            multiplier=pl.when(size > 0).then(size).otherwise(pl.lit(DEFAULT_MULTIPLIER)),
            **{k: pl.when(s(f"{v}_v") != MISSING_CODE).then(s(f"{v}_v")) for k, v in _GREEKS.items()},
        )
        return typed, checks

    return build


_KEEP = ("secid", "symbol", "root", "expiration", "strike", "right", "bid", "ask", "last", "volume", "open_interest",
         "settlement", "multiplier", *_GREEKS)  # fmt: skip


def _batch(
    path: str | PathLike[str], good: pl.DataFrame, rejects: pl.DataFrame, prices: pl.DataFrame, notes: list[str]
) -> ChainBatch:
    """The snapshots of one bucket of rows (complete key groups), finished with vectorised steps."""
    frame = good.join(prices, on=["secid", "session"], how="left", maintain_order="left")
    frame = frame.rename({"und_close": "und_price"})
    frame = add_eod_times(add_settlement(frame))
    spots = spot_table(frame, KEYS)
    frame = frame.join(spots, on=list(KEYS), how="left", maintain_order="left")
    frame = frame.with_columns(underlying_price=pl.col("spot"))
    # symbols are kept as IvyDB wrote them; a row without one gets an OSI symbol built from its fields
    frame = frame.with_columns(
        symbol=pl.coalesce(
            "symbol", osi_symbol(pl.col("root"), pl.col("expiration"), pl.col("right"), pl.col("strike"))
        )
    )
    secids = frame.group_by(KEYS).agg(pl.col("secid").n_unique().alias("n"))
    several = {
        (r[0], r[1]): [f"several secids map to {r[0]}; spot is the most common close"]
        for r in secids.filter(pl.col("n") > 1).iter_rows()
    }
    return eod_batch(
        conform(frame), rejects, spots, keys=KEYS, path=path, source_format=FORMAT_IVYDB, notes=notes, extra=several
    )


def iter_ivydb_batches(
    path: str | PathLike[str],
    *,
    security_prices: Prices | None = None,
    tickers: Mapping[int, str] | None = None,
    spill_bytes: int | None = None,
    tmp_dir: str | PathLike[str] | None = None,
) -> Iterator[ChainBatch]:
    """The snapshots of an IvyDB option price file, a bucket of whole snapshots at a time (see
    :func:`gex_sources.datashop.iter_datashop_batches`); :func:`iter_ivydb` splits them.

    Parameters
    ----------
    security_prices:
        The security price file(s) or a frame (``secid, date|session, close``); default: the companion
        files next to ``path`` (see the module docstring).
    tickers:
        secid -> ticker, for files without a ``ticker`` column whose roots do not name the underlying.
    spill_bytes, tmp_dir:
        See :func:`gex_sources.csvtable.execute`.

    Raises
    ------
    SourceError
        Missing required columns (named), no security prices found, unreadable file, no usable row.
    """
    layout = ct.read_layout(path)
    columns = ct.require(layout, COLUMNS, REQUIRED)
    prices, notes = _price_table(path, security_prices)
    plan = ct.TablePlan(layout, columns, _build(layout, columns, tickers), _KEEP, KEYS)
    buckets = ct.run(plan, spill_bytes=spill_bytes, tmp_dir=tmp_dir)
    try:
        yield from with_orphan_batches(path, (_batch(path, good, bad, prices, notes) for good, bad in buckets))
    finally:
        buckets.close()  # the temporary bucket files go now, not when the generator is collected


def iter_ivydb(
    path: str | PathLike[str],
    *,
    security_prices: Prices | None = None,
    tickers: Mapping[int, str] | None = None,
    spill_bytes: int | None = None,
    tmp_dir: str | PathLike[str] | None = None,
) -> Iterator[ChainSnapshot]:
    """Snapshots of an IvyDB option price file, one per (underlying, date): :func:`iter_ivydb_batches` (same
    parameters and errors) split into snapshots."""
    batches = iter_ivydb_batches(
        path, security_prices=security_prices, tickers=tickers, spill_bytes=spill_bytes, tmp_dir=tmp_dir
    )
    try:
        for batch in batches:
            yield from batch.split()
    finally:
        batches.close()
