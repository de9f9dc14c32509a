"""OCC series search text (``https://marketdata.theocc.com/series-search?symbolType=U&symbol=SPY``) -> open
interest (:data:`gex.reference.OPEN_INTEREST_SCHEMA`).

Plain text, TAB-separated rows after a short preamble and two header lines::

    Series Search Results for SPY
    ...
    ProductSymbol<TAB>year<TAB>Month<TAB>Day<TAB>Integer<TAB>Dec<TAB>C/P<TAB>Call<TAB>Put<TAB>Position Limit<TAB>
    SPY   <TAB><TAB>2023<TAB>01<TAB>19<TAB>320<TAB>000<TAB>C P <TAB>0<TAB>49<TAB>360000000<TAB>

The root is space-padded to 6 and followed by an empty column; the strike is an integer part and
thousandths; call and put open interest share the row, so **each row gives two contracts** (the OSI
symbol is built in the padded 21-character OCC form). A row that does not parse is rejected whole.

As-of rule (inferred from the recordings, not documented by OCC): the page serves OCC's latest morning
publication. With ``D`` the New York date of the download, ``publish_date`` is the last session on or
before ``D`` and ``oi_date = previous_session(publish_date)``: a weekday download gives the prior business
day's close; a Saturday 2023-01-21 download gives publish 2023-01-20 and OI as of 2023-01-19 (which is why
series expiring 2023-01-19 are still listed). The text itself holds no date, so the download date comes
from the fetch bundle's ``received_at`` (or the caller).
"""

from __future__ import annotations

import datetime as dt
from os import PathLike

import polars as pl
from gex.calendar import NEW_YORK, is_session, previous_session
from gex.chain import REJECT_SCHEMA
from gex.reference import ReferenceData, conform_reference

from gex_sources.errors import SourceError
from gex_sources.rawfile import decode_text, load_bytes
from gex_sources.roots import underlying_for_root

FORMAT_OCC_SERIES = "occ_series"
TITLE = "Series Search Results for"


def sniff_occ_series(lines: list[str]) -> bool:
    """Whether the first non-blank line is the series-search title."""
    first = next((line for line in lines if line.strip()), "")
    return first.strip().startswith(TITLE)


def publication_dates(download_date: dt.date) -> tuple[dt.date, dt.date]:
    """``(publish_date, oi_date)`` of a series search downloaded on New York date ``download_date``."""
    publish = download_date if is_session(download_date) else previous_session(download_date)
    return publish, previous_session(publish)


def _row(fields: list[str]) -> tuple[str, dt.date, float, int, int] | str:
    """``(root, expiration, strike, call OI, put OI)`` of a data row, or the reason it does not parse."""
    cells = [f.strip() for f in fields]
    while cells and cells[-1] == "":
        cells.pop()
    if len(cells) < 10:
        return f"{len(cells)} fields, want 10 (root, '', year, month, day, integer, dec, 'C P', call, put, ...)"
    root, _, year, month, day, integer, dec, cp, call, put = cells[:10]
    if not root.isalnum() or not root[:1].isalpha() or len(root) > 6:
        return f"malformed root: {root!r}"
    try:
        expiration = dt.date(int(year), int(month), int(day))
    except ValueError:
        return f"impossible date: {year}-{month}-{day}"
    if not (integer.isdigit() and dec.isdigit() and len(dec) <= 3):
        return f"malformed strike: {integer!r} {dec!r}"
    if cp.replace(" ", "") != "CP":
        return f"unexpected C/P column: {cp!r}"
    if not (call.isdigit() and put.isdigit()):
        return f"non-integer open interest: call {call!r}, put {put!r}"
    return root.upper(), expiration, int(integer) + int(dec.ljust(3, "0")) / 1000, int(call), int(put)


def parse_occ_series(where: str, text: str, download_date: dt.date, *, source_format: str = FORMAT_OCC_SERIES) -> ReferenceData:
    """Open interest of a series-search text downloaded on ``download_date`` (New York).

    Raises
    ------
    SourceError
        No title line, or no header line ``ProductSymbol ...``.
    """
    lines = text.splitlines()
    if not sniff_occ_series(lines[:5]):
        raise SourceError(where, f"not an OCC series search (want a first line {TITLE!r} ...)")
    header = next((i for i, line in enumerate(lines) if line.strip().lower().startswith("productsymbol")), None)
    if header is None:
        raise SourceError(where, "OCC series search without a 'ProductSymbol' header line (no series found?)")
    publish, oi_date = publication_dates(download_date)
    rows: list[dict] = []
    rejects: list[tuple[int, str, str]] = []
    for i in range(header + 1, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        parsed = _row(line.split("\t"))
        if isinstance(parsed, str):
            rejects.append((i + 1, line, parsed))
            continue
        root, expiration, strike, call, put = parsed
        milli = round(strike * 1000)
        for right, oi in (("C", call), ("P", put)):
            rows.append(
                {
                    "publish_date": publish,
                    "oi_date": oi_date,
                    "underlying": underlying_for_root(root),
                    "symbol": f"{root:<6}{expiration:%y%m%d}{right}{milli:08d}",
                    "root": root,
                    "expiration": expiration,
                    "strike": milli / 1000,
                    "right": right,
                    "open_interest": oi,
                    "source_line": i + 1,
                }
            )
    frame = pl.DataFrame(rows, schema={k: v for k, v in _SCHEMA.items()}) if rows else pl.DataFrame(schema=_SCHEMA)
    reject_frame = pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row") if rejects else pl.DataFrame(schema=REJECT_SCHEMA)
    return ReferenceData(
        kind="open_interest",
        frame=conform_reference("open_interest", frame),
        source=where,
        source_format=source_format,
        rejects=reject_frame,
        warnings=(f"{len(rejects)} source rows rejected (see rejects)",) if rejects else (),
    )


_SCHEMA = {
    "publish_date": pl.Date(),
    "oi_date": pl.Date(),
    "underlying": pl.String(),
    "symbol": pl.String(),
    "root": pl.String(),
    "expiration": pl.Date(),
    "strike": pl.Float64(),
    "right": pl.String(),
    "open_interest": pl.Int64(),
    "source_line": pl.Int64(),
}


def read_occ_series(path: str | PathLike[str], *, download_date: dt.date | str | None = None) -> ReferenceData:
    """Read a saved series-search text file; ``download_date`` (New York date of the download) is required
    because the text holds no date (a fetch bundle records it: prefer bundles).

    Raises
    ------
    SourceError
        Without ``download_date``, or as :func:`parse_occ_series`.
    """
    if download_date is None:
        raise SourceError(
            path, "an OCC series search holds no date: read it with download_date=YYYY-MM-DD, or fetch it as a bundle"
        )
    day = dt.date.fromisoformat(download_date) if isinstance(download_date, str) else download_date
    return parse_occ_series(str(path), decode_text(load_bytes(path)), day)


def download_date_of(received_at: dt.datetime) -> dt.date:
    """New York date of a download instant."""
    return received_at.astimezone(NEW_YORK).date()
