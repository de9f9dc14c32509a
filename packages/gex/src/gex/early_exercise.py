"""Flag American-style contracts whose early-exercise right matters, where European gamma is a poor proxy.

The pipeline values every option with European Black-Scholes-Merton greeks. For American single-stock and
ETF options that is an approximation which is good except where early exercise can be optimal before expiry:

- **deep in-the-money puts**: holding the put forgoes the interest on the strike. When the put's time value
  (price minus intrinsic, per share) is below the carry on the strike over its remaining life,
  ``K (1 - e^{-rT})`` net of the dividends the holder would lose by exercising (their present value), an
  American holder would rather exercise: the European value (and its gamma) misstates the contract;
- **calls before an ex-dividend date**: exercising just before the ex-date captures the dividend. It can be
  optimal only when the dividend exceeds the interest on the strike from the ex-date to expiry,
  ``D > K (1 - e^{-r (T - t_ex)})`` (Merton's condition), and it matters when the dividend also exceeds the
  call's time value (what exercising throws away), for an in-the-money call.

Both rules are screens, not prices: they say where a European number should not be trusted, they do not
give the American value. Units: prices and strikes in currency per share, rates and yields as continuously
compounded decimals per year, times in years; dividends as cash per share with their time to the ex-date.

Pure: arrays in, arrays out (no I/O). :func:`screen_chain` applies both screens to an analysed chain: the
American contracts only (:mod:`gex.exercise_style`), with the dividends the parity forwards imply
(:func:`gex.forwards.implied_dividends`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

from gex import greeks
from gex.columns import date_days, frame_of
from gex.exercise_style import EUROPEAN, chain_style, exercise_style
from gex.forwards import dividend_term_structure
from gex.gex import gross_gex

#: Reason codes of :func:`early_exercise_flags` (index = code).
REASONS: tuple[str | None, ...] = (None, "deep_itm_put", "call_before_ex_dividend")
NONE, DEEP_ITM_PUT, CALL_BEFORE_EX_DIVIDEND = 0, 1, 2


class EarlyExercise(NamedTuple):
    """Per contract: whether early exercise matters, and why.

    Attributes
    ----------
    flag:
        Boolean array.
    reason:
        ``int8`` codes into :data:`REASONS` (0 when not flagged).
    time_value:
        Price minus intrinsic value, currency per share (may be negative for a European deep ITM put).
    carry:
        The threshold the rule compared against, currency per share: for puts the strike's carry net of the
        dividends' present value, for calls the dividend's excess over the strike's carry after the ex-date
        (0 where no dividend falls before expiry).
    """

    flag: np.ndarray
    reason: np.ndarray
    time_value: np.ndarray
    carry: np.ndarray


def early_exercise_flags(
    spot: ArrayLike,
    strike: ArrayLike,
    rate: ArrayLike,
    tenor_years: ArrayLike,
    is_call: ArrayLike,
    price: ArrayLike,
    *,
    dividend: ArrayLike = 0.0,
    ex_dividend_years: ArrayLike = np.inf,
    dividend_pv: ArrayLike | None = None,
) -> EarlyExercise:
    """Flag contracts where American early exercise matters.

    Parameters
    ----------
    spot, strike:
        Underlying price and strike, currency per share.
    rate:
        Risk-free rate, continuously compounded decimal per year.
    tenor_years:
        Time to expiry, years (contracts with ``tenor_years <= 0`` are never flagged).
    is_call:
        True for calls.
    price:
        The option's value per share (a quote mid, or a European model value).
    dividend:
        Cash amount of the next dividend, currency per share (0: none).
    ex_dividend_years:
        Time to that dividend's ex-date, years (``inf``: none). Only a dividend with ex-date before expiry counts.
    dividend_pv:
        Present value of all dividends with ex-date before expiry, currency per share (default: the next one,
        discounted); it reduces a put's carry (exercising a put early gives up the dividends' drop in spot).

    Returns
    -------
    EarlyExercise

    Examples
    --------
    A deep ITM 1-year put at 5% (carry on the strike ~4.88) with 0.5 of time value is flagged; an ATM put is not:

    >>> r = early_exercise_flags([50.0, 100.0], 100.0, 0.05, 1.0, False, [50.5, 5.57])
    >>> r.flag.tolist(), [REASONS[c] for c in r.reason]
    ([True, False], ['deep_itm_put', None])
    """
    s, k, r, t, call, p, d, tex = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (spot, strike, rate, tenor_years, is_call, price, dividend, ex_dividend_years))
    )
    call = call.astype(bool)
    live = t > 0
    before_expiry = (d > 0) & (tex >= 0) & (tex < t)
    pv = (
        np.where(before_expiry, d * np.exp(-r * np.where(before_expiry, tex, 0.0)), 0.0)
        if dividend_pv is None
        else np.broadcast_to(np.asarray(dividend_pv, dtype=float), s.shape)
    )
    intrinsic = np.where(call, np.maximum(s - k, 0.0), np.maximum(k - s, 0.0))
    time_value = p - intrinsic
    put_carry = k * -np.expm1(-r * np.maximum(t, 0.0)) - pv
    put_flag = ~call & live & (intrinsic > 0) & (put_carry > 0) & (time_value < put_carry)
    # Merton: exercising a call just before the ex-date can be optimal only if the dividend beats the
    # interest on the strike from the ex-date to expiry; it matters when it also beats the time value.
    after_ex = np.maximum(t - np.where(before_expiry, tex, t), 0.0)
    call_excess = np.where(before_expiry, d - k * -np.expm1(-r * after_ex), 0.0)
    call_flag = call & live & before_expiry & (intrinsic > 0) & (call_excess > 0) & (d > time_value)
    reason = np.where(put_flag, DEEP_ITM_PUT, np.where(call_flag, CALL_BEFORE_EX_DIVIDEND, NONE)).astype(np.int8)
    carry = np.where(call, call_excess, put_carry)
    return EarlyExercise(put_flag | call_flag, reason, time_value, carry)


#: Columns of :attr:`ChainScreen.flagged` (the rows of ``mart.early_exercise`` without the snapshot key).
FLAGGED_SCHEMA: dict[str, pl.DataType] = {
    "symbol": pl.String(),
    "root": pl.String(),
    "expiration": pl.Date(),
    "settlement": pl.String(),
    "strike": pl.Float64(),
    "right": pl.String(),
    "reason": pl.String(),
    "open_interest": pl.Int64(),
    "gex_usd_per_1pct": pl.Float64(),
    "time_value": pl.Float64(),
    "carry": pl.Float64(),
    "dividend_pv": pl.Float64(),
    "dividend_source": pl.String(),
}


@dataclass(frozen=True)
class ChainScreen:
    """The early-exercise screen of one analysed chain.

    Attributes
    ----------
    exercise_style:
        ``"european"``, ``"american"`` or ``"mixed"`` (:func:`gex.exercise_style.chain_style` of its roots).
    american_contracts:
        Contracts screened (the American ones among those valued), count.
    flagged:
        One row per flagged contract (:data:`FLAGGED_SCHEMA`), in the chain's order: its reason (a name of
        :data:`REASONS`), open interest (contracts), dealer GEX (dollars per 1% move), time value and the carry it
        was compared with (currency per share, see :class:`EarlyExercise`), the PV of the dividends before its
        expiry (currency per share) and where they came from (``parity``, or ``none``: no parity forward, screened
        without dividends).
    gex_share:
        ``sum |GEX| of flagged / sum |GEX| of every contract valued``, fraction in [0, 1] (0 when the chain has no
        exposure).
    expiries_without_carry:
        American expiries with no parity forward, screened as if no dividend were paid, count.
    """

    exercise_style: str
    american_contracts: int
    flagged: pl.DataFrame
    gex_share: float
    expiries_without_carry: int

    def summary(self) -> dict[str, object]:
        """JSON-ready summary (``gex analyze --json``): style, counts, share of |GEX| (fraction) and flags per reason."""
        by_reason = dict(sorted(self.flagged.group_by("reason").len().rows())) if self.flagged.height else {}
        return {
            "exercise_style": self.exercise_style,
            "american_contracts": self.american_contracts,
            "flagged_contracts": self.flagged.height,
            "flagged_by_reason": {str(k): int(v) for k, v in by_reason.items()},
            "gex_share": self.gex_share,
            "expiries_without_carry": self.expiries_without_carry,
        }


def screen_chain(contracts: pl.DataFrame, forwards: pl.DataFrame, spot: float) -> ChainScreen:
    """Apply :func:`early_exercise_flags` to the American contracts of an analysed chain.

    Parameters
    ----------
    contracts:
        The contracts valued (:attr:`gex.analysis.Analysis.contracts`): ``symbol``, ``root``, ``expiration``,
        ``settlement``, ``strike``, ``right``, ``tenor_years``, ``rate``, ``sigma``, ``dividend_yield``,
        ``open_interest``, ``gex_usd_per_1pct``.
    forwards:
        The chain's parity forwards (:attr:`gex.analysis.Analysis.forwards`), possibly empty.
    spot:
        Underlying price, currency per share.

    The price screened is each contract's European Black-Scholes-Merton value under the analysis' own inputs
    (``sigma``, ``rate``, ``dividend_yield``): the number whose gamma the marts use, so the flag says where that
    number is not to be trusted. The dividends are :func:`gex.forwards.implied_dividends`: their PV lowers a put's
    carry; the last one before expiry (cash amount, ex-date) drives the call screen.

    Equal, bit for bit, to :func:`screen_chain_reference` (it runs for every chain: ~1.7 -> ~0.6 ms).
    """
    # the distinct roots as a set (chain_style and the European filter ignore their order; unique() is a query)
    roots = list(set(contracts["root"].to_list())) if contracts.height else []
    style = chain_style(roots)
    total = gross_gex(contracts["gex_usd_per_1pct"]) if contracts.height else 0.0
    european = [r for r in roots if exercise_style(r) == EUROPEAN]
    american = contracts.filter(~contracts["root"].is_in(european)) if european else contracts
    if american.is_empty():
        return ChainScreen(style, 0, pl.DataFrame(schema=FLAGGED_SCHEMA), 0.0, 0)
    right = american["right"]
    # numpy's comparison of the values, not a polars one (a query, ~30 us); nulls as polars compares them
    is_call = right.to_numpy() == "C" if not right.null_count() else (right.cast(pl.String) == "C").to_numpy()
    screen, parity, pv, without_parity = _screen_american(american, forwards, spot, is_call, _expiry_key)
    # the flagged rows gathered column by column (a filter of the whole ~40-column frame, then with_columns and a
    # cast select, cost ~1 ms a chain; one gather and casts ~0.1 ms), in the chain's order, cast as FLAGGED_SCHEMA
    at = np.flatnonzero(screen.flag)
    computed = {
        "reason": pl.Series("reason", np.array(REASONS, dtype=object)[screen.reason[at]].tolist(), dtype=pl.String),
        "time_value": pl.Series("time_value", screen.time_value[at]),
        "carry": pl.Series("carry", screen.carry[at]),
        "dividend_pv": pl.Series("dividend_pv", pv[at]),
        "dividend_source": pl.Series("dividend_source", np.where(parity[at], "parity", "none").tolist(),
                                     dtype=pl.String),
    }
    rows = american[at]  # one gather of the frame: cheaper than one per column
    flagged = frame_of([
        (computed[c] if c in computed else rows.get_column(c)).cast(d) for c, d in FLAGGED_SCHEMA.items()
    ])
    share = float(np.abs(flagged["gex_usd_per_1pct"].to_numpy()).sum()) / total if total > 0 else 0.0
    # the flagged are a subset: the share exceeds 1 only by summation rounding when every contract is flagged
    return ChainScreen(style, american.height, flagged, min(share, 1.0), without_parity)


def screen_chain_reference(contracts: pl.DataFrame, forwards: pl.DataFrame, spot: float) -> ChainScreen:
    """:func:`screen_chain` as first written (same arguments and result): its flagged frame filtered, extended and
    cast with polars, its keys through :func:`_expiry_key_reference` (the statement :func:`screen_chain` is tested
    against, bit for bit).
    """
    roots = contracts["root"].unique().to_list() if contracts.height else []
    style = chain_style(roots)
    total = float(contracts["gex_usd_per_1pct"].abs().sum()) if contracts.height else 0.0
    european = [r for r in roots if exercise_style(r) == EUROPEAN]
    american = contracts.filter(~contracts["root"].is_in(european)) if european else contracts
    if american.is_empty():
        return ChainScreen(style, 0, pl.DataFrame(schema=FLAGGED_SCHEMA), 0.0, 0)
    is_call = (american["right"].cast(pl.String) == "C").to_numpy()
    screen, parity, pv, without_parity = _screen_american(american, forwards, spot, is_call, _expiry_key_reference)
    flag = screen.flag
    flagged = american.filter(pl.Series(flag)).with_columns(
        reason=pl.Series(np.array(REASONS, dtype=object)[screen.reason[flag]].tolist(), dtype=pl.String),
        time_value=pl.Series(screen.time_value[flag]),
        carry=pl.Series(screen.carry[flag]),
        dividend_pv=pl.Series(pv[flag]),
        dividend_source=pl.Series(np.where(parity[flag], "parity", "none").tolist(), dtype=pl.String),
    ).select(*(pl.col(c).cast(d) for c, d in FLAGGED_SCHEMA.items()))
    share = float(np.abs(flagged["gex_usd_per_1pct"].to_numpy()).sum()) / total if total > 0 else 0.0
    # the flagged are a subset: the share exceeds 1 only by summation rounding when every contract is flagged
    return ChainScreen(style, american.height, flagged, min(share, 1.0), without_parity)


def _screen_american(american: pl.DataFrame, forwards: pl.DataFrame, spot: float, is_call: np.ndarray,
                     expiry_key: Callable[[pl.Series, pl.Series], np.ndarray]) -> tuple[EarlyExercise, np.ndarray, np.ndarray, int]:
    """What :func:`screen_chain` and :func:`screen_chain_reference` share: each expiry's dividends from the parity
    forwards, each contract's European price and :func:`early_exercise_flags`. Returns (the screen, whether each
    contract's expiry has a parity forward, each contract's dividend PV in currency per share, the expiries
    without one); ``expiry_key`` reads (expiration, settlement) as one integer per row."""
    # one key per (expiration, settlement): days since the epoch * 2 + (1 for AM); arrays, not joins (per chain cost)
    key = expiry_key(american["expiration"], american["settlement"])
    keys, first, per_contract = np.unique(key, return_index=True, return_inverse=True)
    t, r = american["tenor_years"].to_numpy(), american["rate"].to_numpy()
    forward = np.full(keys.size, np.nan)
    if forwards.height:
        f_key = expiry_key(forwards["expiration"], forwards["settlement"])
        at = np.searchsorted(keys, f_key)
        hit = (at < keys.size) & (keys[np.minimum(at, keys.size - 1)] == f_key)
        forward[at[hit]] = forwards["forward"].to_numpy()[hit]
    parity, pv, last, ex = dividend_term_structure(t[first], r[first], forward, spot)
    k = american["strike"].to_numpy()
    price = np.asarray(greeks.bs_price(spot, k, r, american["sigma"].to_numpy(), t, is_call,
                                       dividend_yield=american["dividend_yield"].to_numpy()), dtype=np.float64)
    screen = early_exercise_flags(spot, k, r, t, is_call, price, dividend=last[per_contract],
                                  ex_dividend_years=ex[per_contract], dividend_pv=pv[per_contract])
    return screen, parity[per_contract], pv[per_contract], int((~parity).sum())


def _expiry_key(expiration: pl.Series, settlement: pl.Series) -> np.ndarray:
    """``days since 1970-01-01 * 2 + (1 if AM)`` per row: one integer per (expiration, settlement).

    A Date column without nulls is read with numpy (a polars cast and comparison are queries, ~0.1 ms a call);
    anything else as :func:`_expiry_key_reference` reads it (the same integers)."""
    days = date_days(expiration)
    if days is None or settlement.null_count():
        return _expiry_key_reference(expiration, settlement)
    return days * 2 + (settlement.to_numpy() == "AM").astype(np.int64)


def _expiry_key_reference(expiration: pl.Series, settlement: pl.Series) -> np.ndarray:
    """:func:`_expiry_key` with polars casts (any temporal dtype, nulls)."""
    days = expiration.cast(pl.Date).to_physical().to_numpy().astype(np.int64)
    return days * 2 + (settlement.cast(pl.String) == "AM").to_numpy().astype(np.int64)
