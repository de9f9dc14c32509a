"""The header part of Cboe quote tables: the lines above the table, and the table's own header line.

Format A (``quotedata.csv``)::

    <blank or anything, e.g. "---Example Data---">
    <Underlying name>,Last: <spot>,Change: <chg>            (the name may be quoted and contain commas)
    "Date: <timestamp text>",Bid: <b>,Ask: <a>,Size: <bs>*<as>,Volume: <v>
    Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,Puts,...

Format B (legacy ``quotedata.dat``)::

    SPY (SPDR S&P 500 ETF Trust),310.68,1.98
    Jun 22 2020 @ 20:42 ET,Bid,0,Ask,0,Size,0x0,Vol,74649389
    Expiration Date,Calls,Last Sale,Net,Bid,Ask,Vol,IV,Delta,Gamma,Open Int,Strike,Puts,...

The table header is found by its content, never by its line number. Every problem here is a file-level
:class:`~gex_sources.errors.SourceError` naming the line.
"""

from __future__ import annotations

import datetime as dt
import re
from os import PathLike

from gex_sources import assemble
from gex_sources.errors import SourceError
from gex_sources.header import HeaderDateError, parse_header_timestamp

FORMAT_CSV = "cboe_csv"  # format A
FORMAT_DAT = "cboe_dat"  # format B

#: Columns of the table, by position.
N_COLUMNS = 22
#: Accepted header names per position (lower case): the current and the legacy spellings.
HEADER_NAMES: tuple[tuple[str, ...], ...] = (
    ("expiration date",),
    *(
        side
        for symbol in ("calls", "puts")
        for side in (
            (symbol,),
            ("last sale", "last"),
            ("net",),
            ("bid",),
            ("ask",),
            ("volume", "vol"),
            ("iv",),
            ("delta",),
            ("gamma",),
            ("open interest", "open int"),
            *((("strike",),) if symbol == "calls" else ()),
        )
    ),
)

#: Lines searched for the table header.
MAX_PREAMBLE_LINES = 50


def _header_fields(line: str) -> list[str]:
    """Comma-separated fields of a header line, unquoted and stripped, trailing empty fields removed."""
    fields = [f.strip().strip('"').strip() for f in line.split(",")]
    while fields and fields[-1] == "":
        fields.pop()
    return fields


def is_table_header(line: str) -> bool:
    """Whether ``line`` is a quote-table header (``Expiration Date,Calls,...``)."""
    fields = _header_fields(line)
    return len(fields) >= 2 and fields[0].lower() == "expiration date" and fields[1].lower() == "calls"


def find_table_header(lines: list[str]) -> int | None:
    """0-based index of the table header among ``lines``, or ``None``."""
    for i, line in enumerate(lines[:MAX_PREAMBLE_LINES]):
        if is_table_header(line):
            return i
    return None


def check_table_header(path: str | PathLike[str], line: str, line_no: int) -> None:
    """Refuse a table header without 22 columns or with a column out of place (the table is read by position).

    Raises
    ------
    SourceError
        Quoting the header line.
    """
    fields = _header_fields(line)
    if len(fields) != N_COLUMNS:
        raise SourceError(path, f"table header has {len(fields)} columns, expected {N_COLUMNS}:", line_no, line)
    for pos, (name, accepted) in enumerate(zip(fields, HEADER_NAMES, strict=True)):
        if name.lower() not in accepted:
            raise SourceError(
                path, f"table header column {pos + 1} is {name!r}, expected {accepted[0].title()!r}:", line_no, line
            )


_CSV_NAME_LINE = re.compile(
    r'^\s*(?P<name>"(?:[^"]|"")*"|.*?)\s*,\s*(?:"Last:\s*(?P<qspot>[^"]*)"|Last:\s*(?P<spot>[^,]*))', re.I
)
_CSV_DATE_LINE = re.compile(r'^\s*(?:"Date:\s*(?P<qts>[^"]*)"|Date:\s*(?P<ts>.*?)\s*(?:,\s*"?Bid:.*)?$)', re.I)
_DAT_NAME_LINE = re.compile(r"^\s*(?P<ticker>[^,(]+?)\s*\((?P<name>.*)\)\s*,\s*(?P<spot>[^,]+)")


def _spot(path: str | PathLike[str], text: str, line_no: int, line: str) -> float:
    try:
        spot = float(text.replace(",", "").strip())
    except ValueError:
        spot = float("nan")
    if not (spot > 0 and spot < float("inf")):
        raise SourceError(path, "missing spot: cannot read a positive underlying price from", line_no, line)
    return spot


def _timestamp(
    path: str | PathLike[str], text: str, line_no: int, quoted: str
) -> tuple[dt.datetime, dt.date, str | None]:
    try:
        ts = parse_header_timestamp(text)
    except HeaderDateError as exc:
        raise SourceError(path, "cannot parse header date", line_no, quoted, detail=str(exc)) from None
    return ts.instant, ts.local_date, ts.note


def csv_header(path: str | PathLike[str], preamble: list[str], table_line_no: int) -> assemble.SnapshotHeader:
    """Name/spot line (``<name>,Last: <spot>,...``) and date line (``"Date: <timestamp>",Bid: ...``)."""
    name_match = date_match = None
    for i, line in enumerate(preamble, start=1):
        if name_match is None and (m := _CSV_NAME_LINE.match(line)):
            name_match, name_line = (m, i)
        elif date_match is None and (m := _CSV_DATE_LINE.match(line)):
            date_match, date_line = (m, i)
    if name_match is None:
        raise SourceError(path, "missing spot: no '<name>,Last: <spot>' line before the table header", table_line_no)
    if date_match is None:
        raise SourceError(path, "no 'Date: <timestamp>' line before the table header", table_line_no)
    name = name_match["name"].strip()
    if name.startswith('"') and name.endswith('"'):
        name = name[1:-1].replace('""', '"')
    raw_spot = name_match["qspot"] if name_match["qspot"] is not None else name_match["spot"]
    spot = _spot(path, raw_spot, name_line, preamble[name_line - 1])
    ts_text = (date_match["qts"] if date_match["qts"] is not None else date_match["ts"]).strip()
    instant, header_date, note = _timestamp(path, ts_text, date_line, f"Date: {ts_text}")
    return assemble.SnapshotHeader(instant, header_date, spot, name=name, warnings=[note] if note else [])


def dat_header(path: str | PathLike[str], preamble: list[str], table_line_no: int) -> assemble.SnapshotHeader:
    """Name line ``SPY (SPDR S&P 500 ETF Trust),310.68,1.98`` then ``Jun 22 2020 @ 20:42 ET,Bid,0,...``."""
    numbered = [(i, line) for i, line in enumerate(preamble, start=1) if line.strip()]
    if not numbered:
        raise SourceError(
            path, "missing spot: no '<TICKER> (<name>),<spot>,...' line before the table header", table_line_no
        )
    name_line, line = numbered[0]
    m = _DAT_NAME_LINE.match(line)
    if m is None:
        raise SourceError(path, "missing spot: expected '<TICKER> (<name>),<spot>,...', got", name_line, line)
    spot = _spot(path, m["spot"], name_line, line)
    if len(numbered) < 2:
        raise SourceError(path, "no timestamp line before the table header", table_line_no)
    date_line, line = numbered[1]
    ts_text = line.split(",", 1)[0].strip()
    instant, header_date, note = _timestamp(path, ts_text, date_line, ts_text)
    return assemble.SnapshotHeader(
        instant, header_date, spot, name=m["name"].strip(), ticker=m["ticker"].strip(), warnings=[note] if note else []
    )


def sniff_quote_table(lines: list[str]) -> str | None:
    """``"cboe_csv"``, ``"cboe_dat"`` or ``None``, from the first lines of a file (content, not extension).

    The header lines decide (``Last:``/``Date:`` vs ``TICKER (name),spot`` + ``... @ ... ET``), then the
    table header's spelling (``Volume`` vs ``Vol``). A Cboe-looking header without a table still answers
    ``"cboe_csv"``, so that the reader reports the missing table rather than an unknown format.
    """
    idx = find_table_header(lines)
    preamble = lines[:idx] if idx is not None else lines[:MAX_PREAMBLE_LINES]
    if any(_CSV_NAME_LINE.match(line) or _CSV_DATE_LINE.match(line) for line in preamble):
        return FORMAT_CSV
    filled = [line for line in preamble if line.strip()]
    if len(filled) >= 2 and _DAT_NAME_LINE.match(filled[0]) and "@" in filled[1].split(",", 1)[0]:
        return FORMAT_DAT
    if idx is not None:
        fields = _header_fields(lines[idx])
        return FORMAT_DAT if len(fields) > 6 and fields[6].lower() == "vol" else FORMAT_CSV
    return None
