"""FRED ``fredgraph.csv`` constant-maturity Treasury yields (``DGS1MO``, ``DGS3MO``, ..., ``DGS30``) -> rates.

``https://fred.stlouisfed.org/graph/fredgraph.csv?id=DGS3MO``. Two layouts::

    DATE,DGS10                  observation_date,DGS3MO
    1962-01-02,4.06             2021-01-04,0.09
    1962-01-12,.                2021-01-18,              <- a market holiday: "." (old) or empty (new)

One or more series columns (``id=DGS1MO,DGS3MO`` gives several). Values are **percent**, constant-maturity
yields on a **bond-equivalent** basis (the same curve as the Treasury par yields), converted to continuous
decimals with :func:`gex.reference.continuous_from_bond_equivalent`. A missing value is no rate, not a reject
(a 0.00 is a real rate: 1-month bills yielded 0 in 2011-2015). Series other than ``DGS<n>MO``/``DGS<n>`` are
refused (``DTB3`` is on a discount basis, another convention).
"""

from __future__ import annotations

import csv
import io
import re
from os import PathLike

from gex.reference import ReferenceData

from gex_sources.errors import SourceError
from gex_sources.rawfile import decode_text, load_bytes
from gex_sources.treasury import MISSING, _reference, parse_date

FORMAT_FRED = "fred_csv"
_SERIES = re.compile(r"^DGS(\d+)(MO)?$", re.I)
DATE_NAMES = ("date", "observation_date")


def sniff_fred(lines: list[str]) -> bool:
    """Whether the first line is ``DATE|observation_date`` followed by ``DGS`` series ids."""
    first = next((line for line in lines if line.strip()), "")
    cells = [c.strip().strip('"') for c in first.split(",")]
    return len(cells) >= 2 and cells[0].lower() in DATE_NAMES and all(c.upper().startswith("DGS") for c in cells[1:])


def series_tenor(series: str) -> str | None:
    """``DGS3MO`` -> ``"3M"``, ``DGS10`` -> ``"10Y"``; None for other series."""
    m = _SERIES.match(series.strip())
    if m is None:
        return None
    return f"{int(m[1])}{'M' if m[2] else 'Y'}"


def parse_fred_csv(where: str, text: str, *, source_format: str = FORMAT_FRED) -> ReferenceData:
    """Rates of a fredgraph CSV text (see the module docstring).

    Raises
    ------
    SourceError
        Not a fredgraph header, or a series that is not a constant-maturity yield.
    """
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or not sniff_fred(lines[start : start + 1]):
        raise SourceError(where, "not a FRED fredgraph CSV of DGS series (want DATE,DGS3MO or observation_date,DGS3MO)")
    header = next(csv.reader([lines[start]]))
    tenors = []
    for name in header[1:]:
        tenor = series_tenor(name)
        if tenor is None:
            raise SourceError(where, f"series {name!r} is not a constant-maturity Treasury yield (DGS<n>MO or DGS<n>)", line=start + 1)
        tenors.append(tenor)
    rows, rejects = [], []
    for offset, fields in enumerate(csv.reader(io.StringIO("\n".join(lines[start + 1 :])))):
        line_no = start + 2 + offset
        raw = lines[line_no - 1]
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            rejects.append((line_no, raw, f"{len(fields)} fields, header has {len(header)}"))
            continue
        day = parse_date(fields[0])
        if day is None:
            rejects.append((line_no, raw, f"unparseable date: {fields[0]!r}"))
            continue
        try:
            values = [(t, float(c)) for t, c in zip(tenors, fields[1:]) if c.strip() not in MISSING]
        except ValueError:
            rejects.append((line_no, raw, f"non-numeric rate in {fields[1:]!r}"))
            continue
        rows += [(day, t, v, line_no) for t, v in values]
    return _reference(where, rows, rejects, source_format)


def read_fred_csv(path: str | PathLike[str]) -> ReferenceData:
    """Read a fredgraph CSV file (see the module docstring)."""
    return parse_fred_csv(str(path), decode_text(load_bytes(path)))
