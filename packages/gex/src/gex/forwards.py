"""Forward prices per expiry from put-call parity, and the carry (dividend yield) they imply.

For a call and put on the same strike and expiry, ``C - P = e^{-rT} (F - K)``, so every strike with
two-sided quotes gives an estimate ``F = K + e^{rT} (C_mid - P_mid)``. Following the Cboe VIX white
paper, the strikes where ``|C_mid - P_mid|`` is smallest (closest to the at-the-money forward) are the
best conditioned; we take the median of the ``n_strikes`` best. The forward absorbs dividends and
borrow, so the model's per-expiry dividend yield is ``q = r - ln(F/S)/T``.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from gex.columns import date_days, frame_of

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

    Equal, bit for bit, to :func:`parity_forwards_reference` (the polars statement). Computed on numpy arrays
    because it runs for every chain (~14 polars queries, ~2 ms, against ~0.2 ms); the reference decides the
    chains whose result would depend on an order polars leaves unspecified (see :func:`_parity_forwards_arrays`).
    """
    out = _parity_forwards_arrays(contracts, spot, n_strikes)
    return parity_forwards_reference(contracts, spot, n_strikes) if out is None else out


def _order_codes(series: pl.Series) -> np.ndarray | None:
    """Integer codes of a key column that sort as polars sorts its values (an Enum by its categories, a String
    by its bytes), shape ``(n,)``; ``None`` for another dtype or a null (the caller's reference decides).
    Why not ``to_physical``: a Series operation runs a polars query (~50 us), ``to_numpy`` does not (~3 us)."""
    if series.null_count():
        return None
    values = series.to_numpy()
    if isinstance(series.dtype, pl.Enum):
        codes = np.zeros(values.size, dtype=np.int64)
        for i, category in enumerate(series.dtype.categories.to_list()):
            codes[values == category] = i
        return codes
    if series.dtype == pl.String:
        return np.unique(values, return_inverse=True)[1].astype(np.int64).reshape(-1)
    return None


def _finite_columns(contracts: pl.DataFrame, names: tuple[str, ...]) -> list[np.ndarray] | None:
    """The Float64 columns ``names`` as numpy arrays, or ``None`` when one holds a null or a non-finite value
    (polars orders and compares NaN apart from IEEE: the references decide those chains)."""
    out = []
    for name in names:
        col = contracts[name]
        if col.dtype != pl.Float64 or col.null_count():
            return None
        values = col.to_numpy()
        if not np.isfinite(values).all():
            return None
        out.append(values)
    return out


def polars_divide(values: np.ndarray, divisor: float) -> np.ndarray:
    """``values / divisor`` as a polars expression ``pl.col(...) / divisor`` computes it over a frame of
    ``values.size`` rows: a one-row frame divides (a scalar operation), a taller one multiplies by the reciprocal
    ``1 / divisor`` (which can differ from the quotient in the last bit). Shape ``(n,)``."""
    return values / divisor if values.size == 1 else values * (1.0 / divisor)


def _log(values: np.ndarray) -> np.ndarray:
    """Natural log, element by element, with libm's ``log`` as polars takes it (numpy's SIMD log can differ in the
    last bit); NaN for a non-positive value (their rows are filtered out before the log is used)."""
    return np.array([math.log(x) if x > 0 else math.nan for x in values.tolist()], dtype=np.float64)


#: polars' row-index type (the dtype of a ``len()``), as numpy spells it.
INDEX_TYPE = pl.get_index_type()
_INDEX_NUMPY = np.uint64 if INDEX_TYPE == pl.UInt64 else np.uint32


def call_put_pairs(exp_days: np.ndarray, settle: np.ndarray, strike: np.ndarray, is_call: np.ndarray,
                   is_put: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Row indices ``(call, put)`` of the inner join of the calls and puts on (expiration, settlement, strike),
    sorted by that key, shape ``(m,)`` each; ``None`` when a key repeats on one side (a join would multiply rows
    and an aggregate would depend on their order: the caller's reference decides).

    ``exp_days``, ``settle``: integer codes of the expiration and settlement (sorting as polars sorts them);
    ``is_call``/``is_put``: the rows taking part on each side (boolean masks, shape ``(n,)``)."""
    rows = np.flatnonzero(is_call | is_put)
    put = is_put[rows]
    order = np.lexsort((put, strike[rows], settle[rows], exp_days[rows]))
    rows, put = rows[order], put[order]
    e, s, k = exp_days[rows], settle[rows], strike[rows]
    same = (e[1:] == e[:-1]) & (s[1:] == s[:-1]) & (k[1:] == k[:-1])
    if (same & (put[1:] == put[:-1])).any():
        return None
    match = np.flatnonzero(same)  # a call (sorted first) followed by the put of its key
    return rows[match], rows[match + 1]


def quoted_call_put_pairs(exp_days: np.ndarray, settle: np.ndarray, strike: np.ndarray, bid: np.ndarray,
                          ask: np.ndarray, right: pl.Series, also: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`call_put_pairs` of the two-sided quotes (``bid > 0`` and ``ask >= bid``, and ``also`` where given):
    the pairing the parity forwards and the straddle moves both start from. ``right`` holds "C"/"P", no nulls."""
    quoted = (bid > 0) & (ask >= bid)
    if also is not None:
        quoted = quoted & also
    rights = right.to_numpy()
    return call_put_pairs(exp_days, settle, strike, quoted & (rights == "C"), quoted & (rights == "P"))


def _pair_forwards(strike: np.ndarray, bid: np.ndarray, ask: np.ndarray, tenor: np.ndarray, rate: np.ndarray,
                   c: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per call/put pair (rows ``c[i]`` and ``p[i]``): ``(tenor, rate, |C_mid - P_mid|, K + e^{rT} (C_mid - P_mid))``,
    each shape ``(m,)``, the call's tenor and rate, in currency per share and years."""
    call_mid, put_mid = (bid[c] + ask[c]) / 2, (bid[p] + ask[p]) / 2
    t, r = tenor[c], rate[c]
    # e^{rT} with the libm exp polars uses (numpy's SIMD exp can differ in the last bit), once per distinct rT
    rt, at = np.unique(r * t, return_inverse=True)
    growth = np.array([math.exp(x) for x in rt])[at.reshape(-1)]
    return t, r, np.abs(call_mid - put_mid), strike[c] + growth * (call_mid - put_mid)


def _parity_forwards_arrays(contracts: pl.DataFrame, spot: float, n_strikes: int) -> pl.DataFrame | None:
    """:func:`parity_forwards` with numpy, or ``None`` where it could differ from the reference: nulls or
    non-finite values, a repeated (expiration, settlement, strike, right), a tenor or rate not constant within an
    expiry, or a tie in ``|C - P|`` across the ``n_strikes`` cut (polars' sort by the gap is unstable: which of the
    tied strikes it keeps, and so the median, is its choice). The one-chain case of
    :func:`parity_forwards_stacked`."""
    return parity_forwards_stacked(contracts, np.array([contracts.height]), np.array([spot], dtype=np.float64),
                                   n_strikes)[0]


def parity_forwards_stacked(contracts: pl.DataFrame, sizes: np.ndarray, spots: np.ndarray,
                            n_strikes: int = 5) -> list[pl.DataFrame | None]:
    """:func:`parity_forwards` of several chains at once: ``contracts`` holds the chains' rows one chain after the
    other (chain ``k``: ``sizes[k]`` rows, underlying price ``spots[k]``). Returns per chain its frame, equal bit
    for bit to ``parity_forwards(chain_rows, spots[k], n_strikes)``, or ``None`` where only the polars statement
    (:func:`parity_forwards_reference`) can say (see :func:`_parity_forwards_arrays`, this function's one-chain
    case), for an empty chain, or for columns the arrays cannot read.

    Every pairing, sort and group has the chain as its leading key, so no pair, expiry or median crosses chains;
    the divisions by spot follow each chain's own frame heights (:func:`polars_divide`)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    spots = np.asarray(spots, dtype=np.float64)
    k = sizes.size
    out: list[pl.DataFrame | None] = [None] * k
    exp, settle, right = contracts["expiration"], contracts["settlement"], contracts["right"]
    days, codes = date_days(exp), _order_codes(settle)
    if (n_strikes < 1 or not contracts.height or days is None or codes is None or right.null_count()
            or any(contracts[n].dtype != pl.Float64 for n in ("strike", "bid", "ask", "tenor_years", "rate"))):
        return out
    chain = np.repeat(np.arange(k), sizes)
    strike, bid, ask, tenor, rate = (contracts[n].to_numpy() for n in ("strike", "bid", "ask", "tenor_years", "rate"))
    good = (sizes > 0) & np.isfinite(spots) & (spots > 0)
    finite = np.isfinite(strike) & np.isfinite(bid) & np.isfinite(ask) & np.isfinite(tenor) & np.isfinite(rate)
    good[np.unique(chain[~finite])] = False  # a null is NaN here: either way the reference decides that chain
    quoted = good[chain] & (bid > 0) & (ask >= bid) & (tenor > 0)
    rights = right.to_numpy()
    is_call, is_put = quoted & (rights == "C"), quoted & (rights == "P")
    # call_put_pairs with the chain first: rows sorted by (chain, expiration, settlement, strike, put)
    rows = np.flatnonzero(is_call | is_put)
    put = is_put[rows]
    order = np.lexsort((put, strike[rows], codes[rows], days[rows], chain[rows]))
    rows, put = rows[order], put[order]
    ch, e, st, kk = chain[rows], days[rows], codes[rows], strike[rows]
    same = (ch[1:] == ch[:-1]) & (e[1:] == e[:-1]) & (st[1:] == st[:-1]) & (kk[1:] == kk[:-1])
    good[np.unique(ch[:-1][same & (put[1:] == put[:-1])])] = False  # a repeated key: a join would multiply rows
    match = np.flatnonzero(same)
    c, p = rows[match], rows[match + 1]
    c_chain = chain[c]
    t, r, gap, forward = _pair_forwards(strike, bid, ask, tenor, rate, c, p)
    if c.size:
        new_group = np.r_[True, (c_chain[1:] != c_chain[:-1]) | (days[c][1:] != days[c][:-1])
                          | (codes[c][1:] != codes[c][:-1])]
    else:
        new_group = np.zeros(0, dtype=bool)
    starts = np.flatnonzero(new_group)
    size = np.diff(np.r_[starts, c.size])
    group = np.repeat(np.arange(starts.size), size)
    g_chain = c_chain[starts]
    # the first row polars keeps of an expiry has the smallest gap: its tenor and rate are every row's, or the
    # reference decides (bit patterns, so -0.0 and 0.0 differ)
    for v in (t.view(np.int64), r.view(np.int64)):
        if starts.size:
            good[np.unique(g_chain[np.minimum.reduceat(v, starts) != np.maximum.reduceat(v, starts)])] = False
    by_gap = np.lexsort((gap, group))  # stable: within an expiry by gap
    rank = np.arange(c.size) - np.repeat(starts, size)
    sorted_gap = gap[by_gap]
    cut = np.flatnonzero(rank == n_strikes)  # the first row left out of an expiry with more than n_strikes pairs
    good[np.unique(chain[c[by_gap[cut]]][sorted_gap[cut] == sorted_gap[cut - 1]])] = False  # a tie at the cut
    keep = by_gap[rank < n_strikes]
    kept_group, kept_forward = group[keep], forward[keep]
    values = kept_forward[np.lexsort((kept_forward, kept_group))]
    used = np.minimum(size, n_strikes)
    first = np.r_[0, np.cumsum(used)[:-1]].astype(np.int64)
    lower, upper = values[first + (used - 1) // 2], values[first + used // 2]
    # polars' median of an even count: linear interpolation at the middle, 0.5 * (upper - lower) + lower
    median = np.where(lower == upper, lower, 0.5 * (upper - lower) + lower)
    t0, r0 = t[starts], r[starts]

    def divide(values: np.ndarray, in_chain: np.ndarray) -> np.ndarray:
        # polars_divide by each chain's spot, as a frame of that chain's rows (``in_chain``: each value's chain)
        alone = np.bincount(in_chain, minlength=k)[in_chain] == 1
        spot_of = spots[in_chain]
        return np.where(alone, values / spot_of, values * (1.0 / spot_of))

    # the filter's ln(F / S) over a chain's expiries, the yield's over those kept: the same as the reference's
    # only when divided as polars divides a frame of that height
    log_ratio = _log(divide(median, g_chain)) if median.size else median
    ok = (median > 0) & (np.abs(log_ratio) <= MAX_ABS_LOG_FORWARD)
    ok_chain = g_chain[ok]
    at_rows = c[starts[ok]]
    dividend_yield = r0[ok] - _log(divide(median[ok], ok_chain)) / t0[ok] if ok.any() else r0[ok]
    stacked = frame_of([
        exp[at_rows], settle[at_rows],  # indexing keeps each key's dtype (an Enum settlement stays one)
        pl.Series("forward", median[ok]),
        pl.Series("parity_dividend_yield", dividend_yield),
        pl.Series("parity_pairs", used[ok].astype(_INDEX_NUMPY)),
    ])
    counts = np.bincount(ok_chain, minlength=k)
    offsets = np.r_[0, np.cumsum(counts)[:-1]]
    for j in np.flatnonzero(good):
        out[j] = stacked.slice(int(offsets[j]), int(counts[j]))
    return out


def parity_forwards_reference(contracts: pl.DataFrame, spot: float, n_strikes: int = 5) -> pl.DataFrame:
    """:func:`parity_forwards` stated with polars (same arguments and result): the plain statement the fast path is
    tested against, bit for bit, and falls back to where the fast path could not reproduce it.
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
