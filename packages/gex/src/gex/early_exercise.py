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

Pure: arrays in, arrays out (no I/O).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

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
