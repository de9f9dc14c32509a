"""Forward prices per expiry from put-call parity, and the carry (dividend yield) they imply.

For a call and put on the same strike and expiry, ``C - P = e^{-rT} (F - K)``, so every strike with
two-sided quotes gives an estimate ``F = K + e^{rT} (C_mid - P_mid)``. Following the Cboe VIX white
paper, the strikes where ``|C_mid - P_mid|`` is smallest (closest to the at-the-money forward) are the
best conditioned; we take the median of the ``n_strikes`` best. The forward absorbs dividends and
borrow, so the model's per-expiry dividend yield is ``q = r - ln(F/S)/T``.
"""

from __future__ import annotations

import polars as pl

#: A parity forward further than this (log distance) from spot is treated as a bad quote, not carry.
MAX_ABS_LOG_FORWARD = 0.25


def parity_forwards(contracts: pl.DataFrame, spot: float, n_strikes: int = 5) -> pl.DataFrame:
    """Forward and implied dividend yield per (expiration, settlement) from two-sided quotes.

    Parameters
    ----------
    contracts:
        Contracts with ``expiration``, ``settlement``, ``strike``, ``right``, ``bid``, ``ask``,
        ``tenor_years`` (> 0) and ``rate`` (decimal per year, continuous). Shape ``(n, ...)``.
    spot:
        Underlying price, currency per share.
    n_strikes:
        How many of the most at-the-money strikes to take the median over.

    Returns
    -------
    polars.DataFrame
        One row per (expiration, settlement) that had at least one usable pair: ``forward``
        (currency per share), ``parity_dividend_yield`` (decimal per year, continuous) and
        ``parity_pairs`` (strikes used). Expiries without usable pairs are absent.
    """
    quoted = contracts.filter(
        (pl.col("bid") > 0) & (pl.col("ask") >= pl.col("bid")) & (pl.col("tenor_years") > 0)
    ).with_columns(mid=(pl.col("bid") + pl.col("ask")) / 2)
    keys = ["expiration", "settlement", "strike"]
    calls = quoted.filter(pl.col("right") == "C").select(*keys, "tenor_years", "rate", call_mid="mid")
    puts = quoted.filter(pl.col("right") == "P").select(*keys, put_mid="mid")
    pairs = calls.join(puts, on=keys, how="inner").with_columns(
        gap=(pl.col("call_mid") - pl.col("put_mid")).abs(),
        forward=pl.col("strike") + (pl.col("rate") * pl.col("tenor_years")).exp() * (pl.col("call_mid") - pl.col("put_mid")),
    )
    best = (
        pairs.sort("gap")
        .group_by(["expiration", "settlement"], maintain_order=True)
        .agg(
            pl.col("forward").head(n_strikes).median(),
            pl.col("tenor_years").first(),
            pl.col("rate").first(),
            pl.col("forward").head(n_strikes).len().alias("parity_pairs"),
        )
        .filter((pl.col("forward") > 0) & ((pl.col("forward") / spot).log().abs() <= MAX_ABS_LOG_FORWARD))
    )
    return best.with_columns(
        parity_dividend_yield=pl.col("rate") - (pl.col("forward") / spot).log() / pl.col("tenor_years")
    ).select("expiration", "settlement", "forward", "parity_dividend_yield", "parity_pairs").sort("expiration", "settlement")
