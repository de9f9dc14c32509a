"""Dealer exposures per contract and their aggregations (by strike, expiry, days-to-expiry bucket).

Units (every exposure is the **dealers'** position, after the dealer-positioning convention):

- ``gex_usd_per_1pct``: dollars of delta the dealers gain when the underlying rises 1%,
  ``sign * gamma * OI * multiplier * S^2 * 0.01`` (gamma per point, so ``gamma*OI*mult`` is shares per
  point, ``*S`` dollars per point, ``*S*0.01`` dollars per 1% move). Positive: dealers must sell into
  rallies and buy dips (they dampen moves).
- ``dex_usd``: dealers' dollar delta, ``sign * delta * OI * multiplier * S``.
- ``vex_usd_per_volpt``: change of dealers' dollar delta for a +1 vol-point (0.01) rise in every IV,
  ``sign * vanna * OI * multiplier * S * 0.01``.
- ``cex_usd_per_day``: change of dealers' dollar delta per calendar day that passes (charm),
  ``sign * charm * OI * multiplier * S / 365``.

The functions take and return polars frames; they never read files or databases.
"""

from __future__ import annotations

import polars as pl

from gex.conventions import DealerPositioning

#: Days-to-expiry buckets (calendar days from the as-of session to expiration), inclusive bounds.
DTE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0", 0, 0),
    ("1-7", 1, 7),
    ("8-30", 8, 30),
    (">30", 31, None),
)

EXPOSURE_COLUMNS = ("gex_usd_per_1pct", "dex_usd", "vex_usd_per_volpt", "cex_usd_per_day")


def dealer_sign_expr(positioning: DealerPositioning) -> pl.Expr:
    """Signed dealer contracts per contract row under ``positioning``, as a polars expression.

    ``classic``: +OI for calls, -OI for puts; ``all_short``: -OI; ``signed``: the frame's
    ``dealer_position`` column (signed contracts, dealers long > 0).
    """
    if positioning == "classic":
        return pl.when(pl.col("right") == "C").then(1.0).otherwise(-1.0) * pl.col("open_interest")
    if positioning == "all_short":
        return -pl.col("open_interest").cast(pl.Float64)
    if positioning == "signed":
        return pl.col("dealer_position").cast(pl.Float64)
    raise ValueError(f"unknown dealer positioning {positioning!r}; use classic, all_short or signed")


def contract_exposures(priced: pl.DataFrame, spot: float, positioning: DealerPositioning) -> pl.DataFrame:
    """Add dealer position and dollar exposures to contracts that carry model greeks.

    Parameters
    ----------
    priced:
        Contracts with columns ``right``, ``open_interest`` (or ``dealer_position`` for ``signed``),
        ``multiplier`` and model greeks ``gamma`` (per point), ``delta``, ``vanna`` (per unit sigma),
        ``charm`` (per year). Shape ``(n, ...)``.
    spot:
        Underlying price the exposures are measured at, currency per share.
    positioning:
        Dealer-positioning convention (see :func:`dealer_sign_expr`).

    Returns
    -------
    polars.DataFrame
        ``priced`` plus ``dealer_contracts`` (signed contracts), ``dealer_shares_per_point``
        (``dealer_contracts * multiplier``, the weight of the gamma profile) and the four exposure
        columns in :data:`EXPOSURE_COLUMNS`, shape ``(n, ...)``.
    """
    s = float(spot)
    shares = pl.col("dealer_contracts") * pl.col("multiplier")
    return priced.with_columns(dealer_contracts=dealer_sign_expr(positioning)).with_columns(
        dealer_shares_per_point=shares,
        gex_usd_per_1pct=shares * pl.col("gamma") * (s * s * 0.01),
        dex_usd=shares * pl.col("delta") * s,
        vex_usd_per_volpt=shares * pl.col("vanna") * (s * 0.01),
        cex_usd_per_day=shares * pl.col("charm") * (s / 365.0),
    )


def _split_by_right(value: str) -> list[pl.Expr]:
    call = pl.when(pl.col("right") == "C").then(pl.col(value)).otherwise(0.0)
    put = pl.when(pl.col("right") == "P").then(pl.col(value)).otherwise(0.0)
    return [call.sum().alias(f"call_{value}"), put.sum().alias(f"put_{value}"), pl.col(value).sum().alias(f"net_{value}")]


def _aggregate(exposures: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return (
        exposures.group_by(keys)
        .agg(
            *_split_by_right("gex_usd_per_1pct"),
            pl.col("dex_usd").sum(),
            pl.col("vex_usd_per_volpt").sum(),
            pl.col("cex_usd_per_day").sum(),
            pl.col("open_interest").filter(pl.col("right") == "C").sum().alias("call_open_interest"),
            pl.col("open_interest").filter(pl.col("right") == "P").sum().alias("put_open_interest"),
            pl.len().alias("contracts"),
        )
        .sort(keys)
    )


def per_strike_gex(exposures: pl.DataFrame, *, by_root: bool = False) -> pl.DataFrame:
    """Dealer GEX by strike: call, put and net, dollars per 1% move.

    AM- and PM-settled roots sharing a strike (SPX and SPXW) are summed unless ``by_root``.

    Parameters
    ----------
    exposures:
        Output of :func:`contract_exposures`, shape ``(n, ...)``.
    by_root:
        Keep one row per (root, strike) instead of per strike.

    Returns
    -------
    polars.DataFrame
        One row per strike (or root and strike), sorted: ``strike``, ``call_gex_usd_per_1pct``,
        ``put_gex_usd_per_1pct``, ``net_gex_usd_per_1pct``, ``dex_usd``, ``vex_usd_per_volpt``,
        ``cex_usd_per_day``, ``call_open_interest``, ``put_open_interest``, ``contracts``.

    Examples
    --------
    >>> import polars as pl
    >>> ex = pl.DataFrame({"strike": [100.0, 100.0, 105.0], "right": ["C", "P", "C"],
    ...     "open_interest": [10, 20, 5], "gex_usd_per_1pct": [50.0, -80.0, 20.0], "dex_usd": [1.0, 2.0, 3.0],
    ...     "vex_usd_per_volpt": [0.0, 0.0, 0.0], "cex_usd_per_day": [0.0, 0.0, 0.0]})
    >>> per_strike_gex(ex).select("strike", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct").rows()
    [(100.0, 50.0, -80.0, -30.0), (105.0, 20.0, 0.0, 20.0)]
    """
    return _aggregate(exposures, ["root", "strike"] if by_root else ["strike"])


def per_expiry_gex(exposures: pl.DataFrame) -> pl.DataFrame:
    """Dealer exposures by expiration (and settlement style), sorted by expiration; same columns as
    :func:`per_strike_gex` with ``expiration`` and ``settlement`` as keys."""
    return _aggregate(exposures, ["expiration", "settlement"])


def dte_bucket_expr(session_col: str = "session") -> pl.Expr:
    """Label of the days-to-expiry bucket (:data:`DTE_BUCKETS`) from calendar days session -> expiry."""
    dte = (pl.col("expiration") - pl.col(session_col)).dt.total_days()
    expr = pl.lit(None, dtype=pl.String)
    for label, lo, hi in reversed(DTE_BUCKETS):
        cond = dte >= lo if hi is None else dte.is_between(lo, hi)
        expr = pl.when(cond).then(pl.lit(label)).otherwise(expr)
    return expr


def per_dte_bucket_gex(exposures: pl.DataFrame) -> pl.DataFrame:
    """Dealer exposures by days-to-expiry bucket ("0", "1-7", "8-30", ">30"), every bucket present.

    Days are calendar days from the as-of ``session`` to ``expiration``.
    """
    labelled = exposures.with_columns(dte_bucket=dte_bucket_expr())
    agg = _aggregate(labelled, ["dte_bucket"])
    order = pl.DataFrame({"dte_bucket": [b[0] for b in DTE_BUCKETS], "bucket_order": list(range(len(DTE_BUCKETS)))})
    return (
        order.join(agg, on="dte_bucket", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in agg.columns if c != "dte_bucket")
        .sort("bucket_order")
        .drop("bucket_order")
    )


def exposure_totals(exposures: pl.DataFrame) -> dict[str, float]:
    """Chain totals: gross call, gross put and net GEX ($ per 1%), DEX ($), VEX ($/vol pt), CEX ($/day)."""
    row = exposures.select(*_split_by_right("gex_usd_per_1pct"), *(pl.col(c).sum() for c in EXPOSURE_COLUMNS[1:])).row(
        0, named=True
    )
    return {k: float(v) for k, v in row.items()}
