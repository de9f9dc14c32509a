"""Risk-free rate files: ``date,tenor,rate``, one rate per line.

::

    date,tenor,rate
    2024-01-05,1M,0.0532
    2024-01-05,3M,0.0537
    2024-01-05,10Y,0.0405

- ``tenor``: ``ON``/``O/N`` (1 day), ``<n>D``, ``<n>W`` (7n days), ``<n>M`` (round(n * 365/12) days:
  1M = 30, 3M = 91, 6M = 183), ``<n>Y`` (365n days), or a plain integer number of days;
- ``rate``: **decimal per year** (0.0532 = 5.32%). Percent is accepted only where it cannot be mistaken:
  a column named ``rate_pct``/``rate_percent``, values written with a ``%`` sign, or a file in which some
  rate exceeds 1 (no decimal rate does; then the whole file is read as percent, with a warning). A
  percent file whose rates are all below 1% looks exactly like a decimal one and is read as decimal:
  write decimals (or name the column ``rate_pct``);
- the output rate is continuously compounded (:data:`gex.reference.RATES_SCHEMA`). The file's rates are
  taken as continuous unless the reader is told otherwise: ``compounding="simple"`` (money-market,
  act/360 unless ``basis_days`` says) or ``"bond_equivalent"`` (semi-annual, as Treasury par yields) are
  converted with :mod:`gex.reference`'s helpers.
"""

from __future__ import annotations

from os import PathLike
from typing import Literal

import polars as pl
from gex.reference import ReferenceData, conform_reference, continuous_from_bond_equivalent, continuous_from_simple

from gex_sources import csvtable as ct
from gex_sources.csvtable import Check

FORMAT_RATES = "rates"
Compounding = Literal["continuous", "simple", "bond_equivalent"]
COLUMNS = {"date": ("date",), "tenor": ("tenor", "tenor_days"), "rate": ("rate", "rate_pct", "rate_percent")}
_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.0 / 12.0, "Y": 365.0}


def sniff_rates(names: list[str]) -> bool:
    """Whether a header is a rates file."""
    return "date" in names and any(n in names for n in COLUMNS["tenor"]) and any(n in names for n in COLUMNS["rate"])


def tenor_days(tenor: pl.Expr) -> pl.Expr:
    """Tenor text -> calendar days (Int32; null when unparseable). See the module docstring."""
    t = tenor.str.strip_chars().str.to_uppercase()
    m = t.str.extract_groups(r"^(\d+(?:\.\d+)?)\s*([DWMY])$")
    n, unit = m.struct.field("1").cast(pl.Float64), m.struct.field("2")
    scaled = n * unit.replace_strict(_UNIT_DAYS, default=None, return_dtype=pl.Float64)
    return (
        pl.when(t.is_in(["ON", "O/N"]))
        .then(pl.lit(1.0))
        .when(t.str.contains(r"^\d+$"))
        .then(t.cast(pl.Float64, strict=False))
        .otherwise(scaled)
        .round()
        .cast(pl.Int32)
    )


def read_rates(
    path: str | PathLike[str], *, compounding: Compounding = "continuous", basis_days: float = 360.0
) -> ReferenceData:
    """Read a rates CSV into :data:`gex.reference.RATES_SCHEMA` (continuous, decimal per year).

    Parameters
    ----------
    compounding:
        Convention of the file's rates (see the module docstring).
    basis_days:
        Day-count year of ``"simple"`` rates.

    Raises
    ------
    SourceError
        Missing ``date``, ``tenor`` or ``rate`` column (named); unreadable file.
    ValueError
        Unknown ``compounding``.
    """
    if compounding not in ("continuous", "simple", "bond_equivalent"):
        raise ValueError(f"compounding must be continuous, simple or bond_equivalent, not {compounding!r}")
    layout = ct.read_layout(path)
    columns = ct.require(layout, COLUMNS, ("date", "tenor", "rate"))
    date_forms = ct.date_formats(layout, columns["date"])

    def build(fields: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Check]]:
        s, t = pl.col, ct.text
        rate_text = t("rate").str.strip_chars()
        lf = fields.with_columns(
            date=ct.date("date", date_forms),
            tenor_days=tenor_days(t("tenor")),
            rate=rate_text.str.strip_chars_end("%").str.strip_chars().cast(pl.Float64, strict=False),
            percent_sign=rate_text.str.ends_with("%"),
        )
        checks = [
            ct.field_count_check(len(layout.names)),
            ct.required_check("date", s("date"), "date"),
            Check(
                ~(s("tenor_days") > 0).fill_null(False), pl.format("unparseable tenor: '{}'", ct.cell("tenor"))
            ),
            Check(
                s("rate").is_null() | ~s("rate").is_finite(), pl.format("non-numeric rate: '{}'", ct.cell("rate"))
            ),
        ]
        return lf, checks

    plan = ct.TablePlan(layout, columns, build, ("date", "tenor_days", "rate", "percent_sign"))
    good, rejects = ct.read_single(plan)
    warnings: list[str] = []
    percent = columns["rate"] in ("rate_pct", "rate_percent") or bool(good["percent_sign"].any())
    if not percent and good.height and float(good["rate"].abs().max()) > 1.0:  # type: ignore[arg-type]
        percent = True
        warnings.append("rates above 1 found: the file is read as percent (divided by 100)")
    rate = pl.col("rate") / 100.0 if percent else pl.col("rate")
    if compounding == "simple":
        rate = continuous_from_simple(rate, pl.col("tenor_days").cast(pl.Float64), basis_days)
    elif compounding == "bond_equivalent":
        rate = continuous_from_bond_equivalent(rate)
    if rejects.height:
        warnings.append(f"{rejects.height} source rows rejected (see rejects)")
    return ReferenceData(
        kind="rates",
        frame=conform_reference("rates", good.with_columns(rate=rate)),
        source=str(path),
        source_format=FORMAT_RATES,
        rejects=rejects,
        warnings=tuple(warnings),
    )
