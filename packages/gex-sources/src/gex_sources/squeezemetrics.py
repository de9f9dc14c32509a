"""SqueezeMetrics' daily ``DIX.csv`` (format E): ``date,price,dix,gex``.

::

    date,price,dix,gex
    2011-05-02,1361.219971,0.37884209915686345,1897312571.4860

- ``price``: the S&P 500 (SPX) close of that session;
- ``dix``: SqueezeMetrics' dark-pool index, a fraction (0.38 = 38%);
- ``gex``: SqueezeMetrics' own gamma-exposure estimate, **US dollars** as they publish it (by their white
  paper: dollars of the index that dealers would trade per 1% move). Their positioning model is their
  own, so compare it with this project's GEX by sign and rank, not by level.

Result: :class:`gex.reference.ReferenceData` of kind ``"external_gex"`` (``provider="squeezemetrics"``,
``underlying="SPX"``); :func:`closes_from_external` gives the prices as SPX closes.
"""

from __future__ import annotations

from os import PathLike

import polars as pl
from gex.reference import ReferenceData, conform_reference

from gex_sources import csvtable as ct
from gex_sources.csvtable import Check

FORMAT_DIX = "squeezemetrics_dix"
PROVIDER = "squeezemetrics"
COLUMNS = {"date": ("date",), "price": ("price",), "dix": ("dix",), "gex": ("gex",)}


def sniff_dix(names: list[str]) -> bool:
    """Whether a header is SqueezeMetrics' DIX file."""
    return all(c in names for c in COLUMNS)


def read_dix(path: str | PathLike[str]) -> ReferenceData:
    """Read SqueezeMetrics' ``DIX.csv``.

    Raises
    ------
    SourceError
        Missing ``date``, ``price``, ``dix`` or ``gex`` column (named); unreadable file.
    """
    layout = ct.read_layout(path)
    columns = ct.require(layout, COLUMNS, tuple(COLUMNS))
    date_forms = ct.date_formats(layout, columns["date"])
    sessions = ct.all_sessions()

    def build(fields: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Check]]:
        s = pl.col
        lf = fields.with_columns(
            session=ct.date("date", date_forms),
            underlying_close=ct.number("price"),
            dix=ct.number("dix"),
            gex_usd=ct.number("gex"),
        )
        checks = [
            ct.field_count_check(len(layout.names)),
            ct.required_check("date", s("session"), "date"),
            Check(~s("session").is_in(sessions.implode()), pl.format("date {} is not an NYSE session", s("session"))),
            Check(s("gex_usd").is_null(), pl.format("non-numeric gex: '{}'", ct.cell("gex"))),
            ct.number_check("price", s("underlying_close")),
            ct.number_check("dix", s("dix")),
        ]
        return lf, checks

    plan = ct.TablePlan(layout, columns, build, ("session", "underlying_close", "dix", "gex_usd"))
    good, rejects = ct.read_single(plan)
    frame = good.with_columns(underlying=pl.lit("SPX"), provider=pl.lit(PROVIDER))
    return ReferenceData(
        kind="external_gex",
        frame=conform_reference("external_gex", frame),
        source=str(path),
        source_format=FORMAT_DIX,
        rejects=rejects,
        warnings=(f"{rejects.height} source rows rejected (see rejects)",) if rejects.height else (),
    )


def closes_from_external(data: ReferenceData) -> ReferenceData:
    """The underlying closes an external-GEX file printed (DIX's ``price``), as kind ``"closes"``
    (open/high/low null; rows without a close are left out)."""
    if data.kind != "external_gex":
        raise ValueError(f"closes_from_external needs external_gex data, not {data.kind!r}")
    frame = data.frame.filter(pl.col("underlying_close").is_not_null()).select(
        "session",
        "underlying",
        open=pl.lit(None, pl.Float64),
        high=pl.lit(None, pl.Float64),
        low=pl.lit(None, pl.Float64),
        close=pl.col("underlying_close"),
        volume=pl.lit(None, pl.Float64),
        source_line=pl.col("source_line"),
    )
    return ReferenceData(
        kind="closes",
        frame=conform_reference("closes", frame),
        source=data.source,
        source_format=data.source_format,
        warnings=data.warnings,
    )
