"""Cboe quote tables: the ``quotedata.csv`` download (format A) and the legacy ``quotedata.dat`` (format B).

Both are a few header lines followed by a 22-column table where one line holds a call and a put of the same
(expiration, strike)::

    Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,Puts,...
    Tue Jan 07 2025,SPXW250107C05930000,54.24,24.4,49.4,50.4,176,0.1749,0.8223,0.0053,251,5930.00,SPXW...

The header lines are parsed in :mod:`gex_sources.cboe_preamble`. The table is located by its header line
(never by line number) and read **by position**. Lines re-saved by spreadsheets may carry extra empty
trailing columns (ignored) and integer strikes (fine).

Speed: the table part is read by ``polars.read_csv`` twice -- once as whole lines (for field counts and the
raw text of rejects), once split into its string columns -- with no quoting, so that one physical line is
always one row and ``source_line`` is exact. Every check is a vectorised expression; reject reasons are
worded only for the (few) bad lines. Measured: about 1.6 s per million lines (two million contracts) on a
quiet 2-core machine.

Row-level problems reject the **whole line** (its call and its put), so that for every file
``2 * data_lines == contracts + 2 * rejected_lines``; blank lines are not data lines.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from os import PathLike

import polars as pl
from gex.chain import ChainSnapshot

from gex_sources import assemble
from gex_sources.cboe_preamble import (
    FORMAT_CSV,
    FORMAT_DAT,
    MAX_PREAMBLE_LINES,
    N_COLUMNS,
    check_table_header,
    csv_header,
    dat_header,
    find_table_header,
    sniff_quote_table,
)
from gex_sources.errors import SourceError
from gex_sources.limits import count_out_of_range, out_of_range_reason, overflowed
from gex_sources.osi import osi_columns
from gex_sources.rawfile import head_lines, load_bytes, offset_after_line

__all__ = ["FORMAT_CSV", "FORMAT_DAT", "read_cboe_csv", "read_cboe_dat", "read_quote_table", "sniff_quote_table"]

#: Position of each per-side field: call offset, put offset = call + 11.
_SIDE_POSITIONS = {
    "symbol": 1,
    "last": 2,
    "bid": 4,
    "ask": 5,
    "volume": 6,
    "iv": 7,
    "delta": 8,
    "gamma": 9,
    "open_interest": 10,
}
_FLOAT_FIELDS = ("last", "bid", "ask", "iv", "delta", "gamma")
_INT_FIELDS = ("volume", "open_interest")
_VENDOR = {"iv": "vendor_iv", "delta": "vendor_delta", "gamma": "vendor_gamma"}
_EXPIRY_POS, _STRIKE_POS = 0, 11
_SIDES = {"C": ("call", 0), "P": ("put", 11)}


def _col(pos: int) -> str:
    return f"f{pos}"


#: Expiration Date forms: Cboe current ("Tue Jan 07 2025", weekday checked), legacy ("06/22/2020"), ISO.
_EXPIRY_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[A-Za-z]{3} [A-Za-z]{3} \d{1,2} \d{4}"), "%a %b %d %Y"),
    (re.compile(r"[A-Za-z]{3} \d{1,2} \d{4}"), "%b %d %Y"),
    (re.compile(r"\d{1,2}/\d{1,2}/\d{4}"), "%m/%d/%Y"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
)


def parse_expiration(text: str) -> dt.date | None:
    """An Expiration Date cell as a date, or ``None`` (also when a written weekday contradicts the date).

    >>> parse_expiration("Tue Jan 07 2025"), parse_expiration("06/22/2020"), parse_expiration("Mon Jan 07 2025")
    (datetime.date(2025, 1, 7), datetime.date(2020, 6, 22), None)
    """
    t = " ".join(text.split())
    for pattern, fmt in _EXPIRY_FORMS:
        if pattern.fullmatch(t):
            try:
                parsed = dt.datetime.strptime(t, fmt).date()
            except ValueError:
                return None
            if fmt.startswith("%a") and parsed.strftime("%a").lower() != t[:3].lower():
                return None  # strptime ignores %a; a contradicting weekday means a corrupted cell
            return parsed
    return None


#: Table positions the reader uses (the two "Net" change columns are skipped).
_USED = tuple(i for i in range(N_COLUMNS) if i not in (3, 14))


def _read_csv(table: bytes, **options: object) -> pl.DataFrame:
    """``pl.read_csv`` without header, inference or quoting; strict UTF-8 first, lossy if the bytes need it."""
    common = {"has_header": False, "infer_schema": False, "quote_char": None}
    try:
        return pl.read_csv(table, encoding="utf8", **common, **options)  # type: ignore[arg-type]
    except pl.exceptions.ComputeError:  # invalid UTF-8 somewhere: keep the lines, the bad cells will reject
        return pl.read_csv(table, encoding="utf8-lossy", **common, **options)  # type: ignore[arg-type]


def _read_lines(table: bytes) -> tuple[pl.Series, pl.DataFrame]:
    """Raw lines and their string fields (the :data:`_USED` positions), one row per physical line.

    There is no quoting, so a line is always exactly one row: ``source_line`` is the row index plus an offset.
    """
    schema = {_col(i): pl.String for i in range(N_COLUMNS)}
    if not table or table.isspace():
        return pl.Series("raw", [], pl.String), pl.DataFrame(schema={_col(i): pl.String for i in _USED})
    if b"\x1f" not in table:
        raw = _read_csv(table, separator="\x1f", new_columns=["raw"]).to_series()
    else:  # the unit separator is our "no split" trick; a file containing it takes the slower path
        lines = table.decode("utf-8", errors="replace").split("\n")
        if lines[-1] == "":
            lines.pop()
        raw = pl.Series("raw", [ln.rstrip("\r") or None for ln in lines], pl.String)
    fields = _read_csv(
        table,
        schema=schema,
        columns=list(_USED),
        # Ragged lines are kept (and rejected later by their field count), never an error for the file.
        truncate_ragged_lines=True,
        extra_columns="ignore",
        missing_columns="insert",
    )
    if fields.height != raw.len():  # cannot happen without quoting; refuse rather than misnumber lines
        raise AssertionError(f"line split mismatch: {raw.len()} lines, {fields.height} rows")
    return raw, fields


def _typed(fields: pl.LazyFrame, expirations: dict[str, dt.date | None]) -> pl.LazyFrame:
    """Typed values next to the string fields: ``expiration``, ``strike``, ``{call,put}_{field}`` (Float64;
    counts are cast to Int64 only after the integrality check) and the OSI parts ``{call,put}_osi_*``.

    Casts are non-strict: a cell that does not parse becomes null, and :func:`_checks` compares it with
    its text to tell "empty" (kept as null) from "garbage" (the line is rejected).
    """
    exprs: list[pl.Expr] = [
        pl.col(_col(_EXPIRY_POS)).replace_strict(expirations, default=None, return_dtype=pl.Date).alias("expiration"),
        pl.col(_col(_STRIKE_POS)).cast(pl.Float64, strict=False).alias("strike"),
    ]
    for side, offset in _SIDES.values():
        exprs += [
            pl.col(_col(_SIDE_POSITIONS[name] + offset)).cast(pl.Float64, strict=False).alias(f"{side}_{name}")
            for name in (*_FLOAT_FIELDS, *_INT_FIELDS)
        ]
        osi = osi_columns(pl.col(_col(_SIDE_POSITIONS["symbol"] + offset)))
        exprs += [
            osi.valid.alias(f"{side}_osi_ok"),
            osi.root.alias(f"{side}_root"),
            osi.expiration.alias(f"{side}_osi_exp"),
            osi.right.alias(f"{side}_osi_right"),
            osi.strike_milli.alias(f"{side}_osi_strike"),
        ]
    return fields.with_columns(exprs)


@dataclass(frozen=True)
class _Check:
    """One row-level check: a flag expression (true = bad) and how to word the reason."""

    flag: pl.Expr
    reason: pl.Expr

    def __post_init__(self) -> None:
        # A check that cannot be evaluated (null: an earlier field is missing) is left to that field's check.
        object.__setattr__(self, "flag", self.flag.fill_null(False))


def _checks(check_padding: bool) -> list[_Check]:
    """Row-level checks in order of precedence (the first failing one names the reason)."""
    s, f = pl.col, pl.format

    def text(pos: int) -> pl.Expr:  # a cell as quoted in a reason; read_csv gives null for empty cells
        return s(_col(pos)).fill_null("")

    n = s("n_fields")
    fields_ok = n == N_COLUMNS
    if check_padding:  # spreadsheet re-saves: 22 fields then only commas
        fields_ok = fields_ok | ((n > N_COLUMNS) & s("raw").str.contains(rf"^(?:[^,]*,){{{N_COLUMNS}}},*\s*$"))
    exp_s, strike_s = text(_EXPIRY_POS), text(_STRIKE_POS)
    checks = [
        _Check(~fields_ok, f("wrong number of fields: {}, expected {}", n, pl.lit(N_COLUMNS))),
        _Check(s("expiration").is_null(), f("unparseable expiration: '{}'", exp_s)),
        _Check(
            ~((s("strike") > 0) & s("strike").is_finite()).fill_null(False), f("non-numeric strike: '{}'", strike_s)
        ),
    ]
    for right, (side, offset) in _SIDES.items():
        sym = text(_SIDE_POSITIONS["symbol"] + offset)
        checks += [
            _Check(~s(f"{side}_osi_ok"), f("malformed OSI symbol ({}): '{}'", pl.lit(side), sym)),
            _Check(s(f"{side}_osi_right") != right, f("wrong right: {} column holds '{}'", pl.lit(side), sym)),
            _Check(
                s(f"{side}_osi_exp") != s("expiration"),
                f("expiration mismatch: symbol '{}' vs Expiration Date '{}'", sym, exp_s),
            ),
            _Check(
                (s("strike") * 1000).round() != s(f"{side}_osi_strike"),
                f("strike mismatch: symbol '{}' vs Strike '{}'", sym, strike_s),
            ),
        ]
    checks.append(
        _Check(
            s("call_root") != s("put_root"), f("root mismatch: call '{}' vs put '{}'", s("call_root"), s("put_root"))
        )
    )
    for side, offset in _SIDES.values():
        for name in (*_FLOAT_FIELDS, *_INT_FIELDS):
            cell = text(_SIDE_POSITIONS[name] + offset)
            value = s(f"{side}_{name}")
            # too large to hold (a count above limits.MAX_COUNT, a price like 1e400): out of range, and
            # rejected here rather than failing the Int64 cast of the whole file later
            too_big = overflowed(value, cell)
            if name in _INT_FIELDS:
                too_big = too_big | count_out_of_range(value)
            checks.append(_Check(too_big, out_of_range_reason(f"{name} ({side})", cell, count=name in _INT_FIELDS)))
            # garbage text (cast gave null), or "nan"/"inf" that the cast accepts; empty cells stay null
            bad = (value.is_not_null() & ~value.is_finite()) | ((cell != "") & value.is_null())
            label = f"non-numeric {name} ({side})"
            if name in _INT_FIELDS:  # counts of contracts: whole and non-negative
                bad = bad | (value.is_finite() & ((value != value.round()) | (value < 0)))
                label = f"non-integer {name} ({side})"
            checks.append(_Check(bad, f("{}: '{}'", pl.lit(label), cell)))
    return checks


def _long(good: pl.DataFrame) -> pl.DataFrame:
    """One row per contract from one row per line: each line's call then its put, in file order."""
    parts = []
    for right, (side, offset) in _SIDES.items():
        parts.append(
            good.select(
                pl.col("source_line"),
                pl.col(_col(_SIDE_POSITIONS["symbol"] + offset)).alias("symbol"),
                pl.col(f"{side}_root").alias("root"),
                pl.col("expiration"),
                pl.col("settlement"),
                pl.col("settlement_ts"),
                pl.col("strike"),
                pl.lit(right).alias("right"),
                pl.col(f"{side}_bid").alias("bid"),
                pl.col(f"{side}_ask").alias("ask"),
                pl.col(f"{side}_last").alias("last"),
                pl.col(f"{side}_volume").cast(pl.Int64).alias("volume"),
                pl.col(f"{side}_open_interest").cast(pl.Int64).alias("open_interest"),
                *(pl.col(f"{side}_{k}").alias(v) for k, v in _VENDOR.items()),
                pl.lit(None, pl.Float64).alias("vendor_vega"),  # not in quote tables
                pl.lit(None, pl.Float64).alias("vendor_theta"),
            )
        )
    # A stable sort of two already-sorted halves keeps call-before-put per line (measured faster than a gather).
    return pl.concat(parts).sort("source_line", maintain_order=True)


def _table(data: bytes, header_idx: int) -> pl.DataFrame:
    """The data lines after the table header: string fields ``f0..f21``, ``raw``, ``source_line``, ``n_fields``.

    Blank lines are dropped (they are not data lines); cells are unquoted and trimmed only when some line
    needs it (hand edits, spreadsheet saves), which keeps the common case at full speed.
    """
    first_line = header_idx + 2  # 1-based number of the line after the header
    raw, fields = _read_lines(data[offset_after_line(data, header_idx) :])
    table = fields.with_columns(raw=raw, source_line=pl.int_range(first_line, first_line + raw.len(), dtype=pl.Int64))
    table = table.with_columns(n_fields=pl.col("raw").str.count_matches(",", literal=True).fill_null(0) + 1)
    # A blank line has no comma: the whitespace regex only runs when some line has no comma at all.
    if table.select((pl.col("n_fields") == 1).any()).item():
        table = table.filter(~((pl.col("n_fields") == 1) & pl.col("raw").fill_null("").str.contains(r"^\s*$")))
    line = pl.col("raw").str
    # literal searches (memchr-fast), not a regex: this runs on every line of every file
    needs_cleaning = pl.any_horizontal(
        *(line.contains(t, literal=True) for t in ('"', " ,", ", ", "\t")), line.starts_with(" "), line.ends_with(" ")
    )
    if table.select(needs_cleaning.any()).item():
        table = table.with_columns(pl.col(_col(i)).str.strip_chars().str.strip_chars('"') for i in _USED)
        table = table.with_columns(pl.col(_col(i)).replace("", None) for i in _USED)  # as read_csv gives empties
    return table


def _validate(table: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed, checked lines: ``(good, rejects)``; ``rejects`` has ``source_line, raw, reason``.

    ``good`` keeps only what the later steps use, which makes filtering out bad lines cheap.
    """
    expirations = {v: parse_expiration(v) for v in table[_col(_EXPIRY_POS)].drop_nulls().unique()}
    checks = _checks(check_padding=bool((table["n_fields"] > N_COLUMNS).any()))
    typed = _typed(table.lazy(), expirations).with_columns(bad=pl.any_horizontal(c.flag for c in checks))
    keep = [
        "source_line",
        "raw",
        "n_fields",
        "expiration",
        "strike",
        *(_col(_SIDE_POSITIONS["symbol"] + offset) for _, offset in _SIDES.values()),
        *(f"{side}_{name}" for side, _ in _SIDES.values() for name in ("root", *_FLOAT_FIELDS, *_INT_FIELDS)),
    ]
    # Reasons are worded only for bad lines; the first failing check (in precedence order) names it.
    reason = pl.coalesce(pl.when(c.flag).then(c.reason) for c in checks)
    good, rejects = pl.collect_all(
        [
            typed.filter(~pl.col("bad")).select(keep),
            typed.filter(pl.col("bad")).select("source_line", "raw", reason=reason),
        ]
    )
    return good, rejects


def _drop_roots(good: pl.DataFrame, root_reasons: dict[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split off lines whose call or put root is unusable: ``(kept, rejects)``."""
    roots = list(root_reasons)
    unusable = pl.col("call_root").is_in(roots) | pl.col("put_root").is_in(roots)
    reason = pl.coalesce(
        pl.col(c).replace_strict(root_reasons, default=None, return_dtype=pl.String) for c in ("call_root", "put_root")
    )
    return good.filter(~unusable), good.filter(unusable).select("source_line", "raw", reason=reason)


def read_quote_table(path: str | PathLike[str], source_format: str = FORMAT_CSV) -> ChainSnapshot:
    """Read a Cboe quote table (``cboe_csv`` format A or ``cboe_dat`` format B).

    Parameters
    ----------
    path:
        The file.
    source_format:
        ``"cboe_csv"`` (header ``<name>,Last: <spot>`` + ``"Date: <ts>",Bid: ...``) or ``"cboe_dat"``
        (header ``TICKER (<name>),<spot>,<chg>`` + ``<ts>,Bid,...``). The table is the same.

    Returns
    -------
    ChainSnapshot
        Two contracts per valid line; bad lines in ``rejects``.

    Raises
    ------
    SourceError
        For file-level problems (see :mod:`gex_sources.errors`).
    """
    if source_format not in (FORMAT_CSV, FORMAT_DAT):
        raise ValueError(f"not a quote-table format: {source_format!r}")
    data = load_bytes(path)
    lines = head_lines(data)
    header_idx = find_table_header(lines)
    if header_idx is None:
        raise SourceError(
            path, f"no table header ('Expiration Date,Calls,...') in the first {MAX_PREAMBLE_LINES} lines"
        )
    check_table_header(path, lines[header_idx], header_idx + 1)
    read_header = csv_header if source_format == FORMAT_CSV else dat_header
    header = read_header(path, lines[:header_idx], header_idx + 1)
    times = assemble.snapshot_times(path, header.instant)

    good, rejects = _validate(_table(data, header_idx))
    root_counts = Counter(dict(good["call_root"].value_counts().iter_rows()))
    root_counts.update(dict(good["put_root"].value_counts().iter_rows()))
    underlying, warnings = assemble.resolve_underlying(path, root_counts, header)
    styles, root_reasons = assemble.root_settlements(root_counts, underlying)
    if root_reasons:
        good, dropped = _drop_roots(good, root_reasons)
        rejects = pl.concat([rejects, dropped])
    if (good["n_fields"] > N_COLUMNS).any():
        warnings.append("lines carry extra empty trailing columns (spreadsheet re-save?); ignored")
    # Settlement per line (call and put share the root, checked above): half the rows of doing it per contract.
    good = assemble.with_settlement(good.with_columns(root=pl.col("call_root")), styles)
    return assemble.finish(
        _long(good),
        path=path,
        source_format=source_format,
        header=header,
        times=times,
        underlying=underlying,
        styles=styles,
        rejects=assemble.rejects_frame(rejects["source_line"], rejects["raw"], rejects["reason"]),
        warnings=warnings,
    )


def read_cboe_csv(path: str | PathLike[str]) -> ChainSnapshot:
    """Read a Cboe ``quotedata.csv`` quote table (format A). See :func:`read_quote_table`."""
    return read_quote_table(path, FORMAT_CSV)


def read_cboe_dat(path: str | PathLike[str]) -> ChainSnapshot:
    """Read a legacy Cboe ``quotedata.dat`` quote table (format B). See :func:`read_quote_table`."""
    return read_quote_table(path, FORMAT_DAT)
