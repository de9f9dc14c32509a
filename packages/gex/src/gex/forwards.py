"""Forward prices per expiry from put-call parity, and the carry (dividend yield) they imply.

For a call and put on the same strike and expiry, ``C - P = e^{-rT} (F - K)``, so every strike with
two-sided quotes gives an estimate ``F = K + e^{rT} (C_mid - P_mid)``. Following the Cboe VIX white
paper, the strikes where ``|C_mid - P_mid|`` is smallest (closest to the at-the-money forward) are the
best conditioned; we take the median of the ``n_strikes`` best. The forward absorbs dividends and
borrow, so the model's per-expiry dividend yield is ``q = r - ln(F/S)/T``.
"""

from __future__ import annotations

import numpy as np
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


#: An implied dividend (a rise of the PV of dividends from one parity expiry to the next) smaller than this
#: fraction of spot is read as parity noise (quotes rounded to the cent, the median of a few strikes), not a
#: dividend: 5 basis points, $0.05 on a $100 stock (real quarterly dividends of payers are 0.1-1% of spot).
DIVIDEND_TOLERANCE = 5e-4

#: Columns of :func:`implied_dividends`.
IMPLIED_DIVIDEND_SCHEMA: dict[str, pl.DataType] = {
    "expiration": pl.Date(),
    "settlement": pl.String(),
    "tenor_years": pl.Float64(),
    "dividend_source": pl.String(),
    "dividend_pv": pl.Float64(),
    "last_dividend": pl.Float64(),
    "last_ex_years": pl.Float64(),
}


def implied_dividends(expiries: pl.DataFrame, forwards: pl.DataFrame, spot: float,
                      tolerance: float = DIVIDEND_TOLERANCE) -> pl.DataFrame:
    """The dividends the parity forwards imply, per expiry: their present value and the last one before expiry.

    The forward of a stock paying cash dividends is ``F = (S - PV(D)) e^{rT}`` (the escrowed-dividend model), so
    the present value of the dividends with ex-date before an expiry is ``PV(D) = S - F e^{-rT}`` (equivalently
    ``S (1 - e^{-qT})`` with the parity yield ``q``). It can only grow with the expiry, so it is taken as the running
    maximum over the expiries sorted by tenor (negative values, hard-to-borrow carry, count as no dividend). A rise
    of more than ``tolerance * spot`` between two consecutive parity expiries is a dividend whose ex-date falls
    between them; it is placed at the earlier expiry (the earliest it can be), which is the conservative choice
    for the call screen (:mod:`gex.early_exercise`: less interest left on the strike after it, a smaller cash
    amount ``step * e^{r t_ex}``); after the first dividend, a rise under half of it is not a new dividend (carry
    drift, or the distorted parity of the first expiry after an ex-date, where American calls get exercised), and
    a rise that lumps several dividends (a long gap between LEAPS expiries) counts as one of the first one's amount.

    Parameters
    ----------
    expiries:
        One row per (``expiration``, ``settlement``) to report, with ``tenor_years`` (years) and ``rate``
        (decimal per year, continuous).
    forwards:
        :func:`parity_forwards` of the chain (``expiration``, ``settlement``, ``forward``); may be empty.
    spot:
        Underlying price, currency per share.
    tolerance:
        Smallest dividend recognised, fraction of spot.

    Returns
    -------
    polars.DataFrame
        One row per row of ``expiries`` (:data:`IMPLIED_DIVIDEND_SCHEMA`): ``dividend_source`` ``"parity"`` or
        ``"none"`` (no parity forward for that expiry: no dividends assumed), ``dividend_pv`` (PV of the
        dividends before expiry, currency per share; 0 below the tolerance or without parity),
        ``last_dividend`` (cash amount of the last dividend before expiry, currency per share; 0 for none) and
        ``last_ex_years`` (time to its ex-date as placed above, years; ``inf`` for none).

    Examples
    --------
    A $100 stock at 5% with a $1 dividend going ex at 0.2 years, between the 0.1- and 0.3-year expiries: its PV
    is recovered exactly; placed at 0.1 years, its cash amount reads 0.995 (a little under $1: conservative):

    >>> import datetime as dt, math
    >>> e = pl.DataFrame({"expiration": [dt.date(2025, 2, 7), dt.date(2025, 4, 18)], "settlement": ["PM", "PM"],
    ...                   "tenor_years": [0.1, 0.3], "rate": [0.05, 0.05]})
    >>> f = e.select("expiration", "settlement", forward=pl.Series([100 * math.exp(0.005),
    ...                                                            (100 - math.exp(-0.05 * 0.2)) * math.exp(0.015)]))
    >>> d = implied_dividends(e, f, 100.0)
    >>> [round(x, 6) for x in d["dividend_pv"]], [round(x, 6) for x in d["last_dividend"]], d["last_ex_years"].to_list()
    ([0.0, 0.99005], [0.0, 0.995012], [inf, 0.1])
    """
    rows = expiries.select("expiration", pl.col("settlement").cast(pl.String), "tenor_years", "rate").join(
        forwards.select("expiration", pl.col("settlement").cast(pl.String), "forward"),
        on=["expiration", "settlement"], how="left",
    ).sort("tenor_years", "expiration", "settlement")
    forward = rows["forward"].fill_null(float("nan")).to_numpy()
    parity, pv, last, ex = dividend_term_structure(rows["tenor_years"].to_numpy(), rows["rate"].to_numpy(), forward,
                                                   spot, tolerance)
    return rows.select("expiration", "settlement", "tenor_years").with_columns(
        dividend_source=pl.Series(np.where(parity, "parity", "none").tolist(), dtype=pl.String),
        dividend_pv=pl.Series(pv), last_dividend=pl.Series(last), last_ex_years=pl.Series(ex),
    ).cast(IMPLIED_DIVIDEND_SCHEMA)  # type: ignore[arg-type]


def dividend_term_structure(tenor_years: np.ndarray, rate: np.ndarray, forward: np.ndarray, spot: float,
                            tolerance: float = DIVIDEND_TOLERANCE) -> tuple[np.ndarray, ...]:
    """:func:`implied_dividends` on arrays, one element per expiry in any order (the screens call this per chain).

    Parameters
    ----------
    tenor_years, rate:
        Time to each expiry (years) and its rate (decimal per year, continuous), shape ``(n,)``.
    forward:
        Each expiry's parity forward, currency per share; NaN where there is none, shape ``(n,)``.
    spot:
        Underlying price, currency per share.
    tolerance:
        Smallest dividend recognised, fraction of spot.

    Returns
    -------
    tuple of numpy arrays, shape ``(n,)`` each
        ``(parity, dividend_pv, last_dividend, last_ex_years)``: whether the expiry had a parity forward, the PV of
        the dividends before it, the last one's cash amount (currency per share) and its placed ex-date (years;
        ``inf`` for none), as :func:`implied_dividends` defines them.
    """
    t, r, f = (np.asarray(x, dtype=np.float64) for x in (tenor_years, rate, forward))
    s = float(spot)
    n = t.shape[0]
    dividend_pv, last, ex = np.zeros(n), np.zeros(n), np.full(n, np.inf)
    parity = np.isfinite(f) & (t > 0)
    order = np.flatnonzero(parity)
    order = order[np.argsort(t[order], kind="stable")]
    if order.size:
        tt, rr = t[order], r[order]
        pv = np.maximum.accumulate(np.maximum(s - f[order] * np.exp(-rr * tt), 0.0))
        step = np.diff(pv, prepend=0.0)
        prev_t = np.concatenate(([0.0], tt[:-1]))
        counted = step > tolerance * s
        if counted.any():
            # after the first dividend, a rise under half of it is carry drift (the flat rate against the market's)
            # or a distorted parity (the first expiry after an ex-date, where American calls are exercised), not a
            # second dividend: payers pay regular amounts, quarterly
            first = int(np.flatnonzero(counted)[0])
            counted[first + 1:] &= step[first + 1:] > 0.5 * step[first]
        cash = step * np.exp(rr * prev_t)
        if counted.any():
            # a rise across a long gap (between LEAPS) lumps several dividends: payers pay regular amounts, so
            # the cash amount of one is capped at the first dividend seen (read across a short gap)
            cash = np.minimum(cash, cash[counted][0])
        latest = np.maximum.accumulate(np.where(counted, np.arange(order.size), -1))  # last dividend so far
        seen = latest >= 0
        last[order] = np.where(seen, cash[np.maximum(latest, 0)], 0.0)
        ex[order] = np.where(seen, prev_t[np.maximum(latest, 0)], np.inf)
        dividend_pv[order] = np.where(pv > tolerance * s, pv, 0.0)
    return parity, dividend_pv, last, ex
