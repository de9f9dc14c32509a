"""US Treasury daily par yield curve CSV -> risk-free rates (:data:`gex.reference.RATES_SCHEMA`).

``https://home.treasury.gov/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv/{YEAR}/all?type=daily_treasury_yield_curve&...``::

    Date,"1 Mo","2 Mo","3 Mo","4 Mo","6 Mo","1 Yr","2 Yr",...,"30 Yr"
    10/21/2022,3.55,3.78,4.09,4.31,4.43,4.58,4.49,...
    10/18/2022,3.25,3.70,4.04,,4.39,...            <- "4 Mo" empty before 2022-10-19

Rules: dates ``MM/DD/YYYY`` (ISO dates also accepted), newest first (order does not matter); values in
**percent**, par yields on a **bond-equivalent** (semi-annual) basis, converted to continuous decimals with
:func:`gex.reference.continuous_from_bond_equivalent`; tenor headers ``"<n> Mo"`` / ``"<n> Yr"`` (quoted or
not; ``1.5 Mo`` too) to days as :func:`gex_sources.rates.tenor_days` counts them (1M = 30, 3M = 91, 1Y =
365). Columns come and go: an empty cell is no rate (not a reject). A row whose every value is 0 is a
placeholder (the old feed's Good Friday 2017-04-14) and is rejected with that reason; a bad date or a
non-numeric cell rejects its line. ``source_line`` is the physical line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from os import PathLike

import polars as pl
from gex.chain import REJECT_SCHEMA
from gex.reference import ReferenceData, conform_reference, continuous_from_bond_equivalent

from gex_sources.errors import SourceError
from gex_sources.rates import tenor_days
from gex_sources.rawfile import decode_text, load_bytes

FORMAT_TREASURY = "treasury_csv"
_TENOR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(Mo|Yr|Wk)\s*$", re.I)
_UNITS = {"mo": "M", "yr": "Y", "wk": "W"}
MISSING = frozenset({"", ".", "N/A", "NA", "#N/A"})


def sniff_treasury(lines: list[str]) -> bool:
    """Whether the first line is a par-yield-curve header: ``Date`` then tenor columns like ``"1 Mo"``."""
    first = next((line for line in lines if line.strip()), "")
    cells = [c.strip().strip('"') for c in first.split(",")]
    return len(cells) >= 2 and cells[0].lower() == "date" and all(_TENOR.match(c) for c in cells[1:] if c)


def parse_date(text: str) -> dt.date | None:
    """``MM/DD/YYYY`` (also ``M/D/YYYY``) or ISO ``YYYY-MM-DD``; None when neither."""
    text = text.strip()
    try:
        if "/" in text:
            month, day, year = (int(p) for p in text.split("/"))
            return dt.date(year, month, day)
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def rates_frame(rows: list[tuple[dt.date, str, float, int]], *, percent: bool = True) -> pl.DataFrame:
    """``(date, tenor label like "3M", yield, line)`` rows -> the rates schema, bond-equivalent -> continuous."""
    frame = pl.DataFrame(rows, schema={"date": pl.Date(), "tenor": pl.String(), "y": pl.Float64(), "source_line": pl.Int64()}, orient="row")
    y = pl.col("y") / 100.0 if percent else pl.col("y")
    return conform_reference(
        "rates", frame.with_columns(tenor_days=tenor_days(pl.col("tenor")), rate=continuous_from_bond_equivalent(y))
    )


def parse_treasury_csv(where: str, text: str, *, source_format: str = FORMAT_TREASURY) -> ReferenceData:
    """Rates of a Treasury par-yield-curve CSV text (see the module docstring).

    Raises
    ------
    SourceError
        No header with tenor columns.
    """
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or not sniff_treasury(lines[start : start + 1]):
        raise SourceError(where, "not a Treasury par yield curve CSV (want a header Date,\"1 Mo\",...)", line=None if start is None else start + 1)
    header = next(csv.reader([lines[start]]))
    tenors = []
    for cell in header[1:]:
        m = _TENOR.match(cell.strip().strip('"'))
        tenors.append(None if m is None else f"{m[1]}{_UNITS[m[2].lower()]}")
    rows: list[tuple[dt.date, str, float, int]] = []
    rejects: list[tuple[int, str, str]] = []
    for offset, fields in enumerate(csv.reader(io.StringIO("\n".join(lines[start + 1 :])))):
        line_no = start + 2 + offset
        raw = lines[line_no - 1] if line_no - 1 < len(lines) else ",".join(fields)
        if not any(f.strip() for f in fields):
            continue  # a blank line is not a row
        if len(fields) != len(header):
            rejects.append((line_no, raw, f"{len(fields)} fields, header has {len(header)}"))
            continue
        day = parse_date(fields[0])
        if day is None:
            rejects.append((line_no, raw, f"unparseable date: {fields[0]!r}"))
            continue
        values: list[tuple[str, float]] = []
        bad = None
        for tenor, cell in zip(tenors, fields[1:]):
            cell = cell.strip()
            if tenor is None or cell in MISSING:
                continue
            try:
                values.append((tenor, float(cell)))
            except ValueError:
                bad = f"non-numeric rate: {cell!r}"
                break
        if bad is not None:
            rejects.append((line_no, raw, bad))
        elif values and all(v == 0.0 for _, v in values) and len(values) > 1:
            rejects.append((line_no, raw, "every tenor is 0 (placeholder row, not a curve)"))
        else:
            rows += [(day, tenor, v, line_no) for tenor, v in values]
    return _reference(where, rows, rejects, source_format)


def _reference(where: str, rows: list, rejects: list, source_format: str) -> ReferenceData:
    reject_frame = pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row") if rejects else pl.DataFrame(schema=REJECT_SCHEMA)
    return ReferenceData(
        kind="rates",
        frame=rates_frame(rows),
        source=where,
        source_format=source_format,
        rejects=reject_frame,
        warnings=(f"{len(rejects)} source rows rejected (see rejects)",) if rejects else (),
    )


def read_treasury_csv(path: str | PathLike[str]) -> ReferenceData:
    """Read a Treasury par-yield-curve CSV file (see the module docstring)."""
    return parse_treasury_csv(str(path), decode_text(load_bytes(path)))
