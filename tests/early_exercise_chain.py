"""A hand-built single-stock chain with one known cash dividend, for the early-exercise tests (core and marts).

Quotes are European values on the escrowed-dividend forward ``F = (S - PV(D)) e^{rT}`` (Black-Scholes with the
equivalent continuous yield of each expiry, the way the market generator prices payers), rounded to the cent
around a 4-cent spread; vendor IV is the pricing vol, so the analysis values every contract at it.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
from scipy.stats import norm

from gex.calendar import session_close, settlement_instant
from gex.chain import ChainSnapshot, conform

SESSION = dt.date(2025, 1, 6)
SPOT, RATE, SIGMA = 100.0, 0.05, 0.25
#: The dividend: $2 (a large one, 2% of spot) going ex on 3 February 2025, between the first two expiries.
DIVIDEND, EX_DATE = 2.0, dt.date(2025, 2, 3)
#: (expiration, strikes, rights): both rights on the first two expiries, calls only on the third (no parity).
EXPIRIES = (
    (dt.date(2025, 1, 17), (60.0, 100.0, 140.0), "CP"),
    (dt.date(2025, 2, 21), (60.0, 100.0, 140.0), "CP"),
    (dt.date(2025, 3, 21), (60.0, 100.0, 140.0), "C"),
)


def years(a: dt.datetime, b: dt.datetime) -> float:
    """act/365 years from ``a`` to ``b`` (the native day count)."""
    return (b - a).total_seconds() / (365.0 * 86_400.0)


def bs(s: float, k: float, r: float, q: float, sig: float, t: float, call: bool) -> float:
    """Textbook Black-Scholes-Merton (scipy), independent of gex.greeks."""
    d1 = (math.log(s / k) + (r - q + 0.5 * sig * sig) * t) / (sig * math.sqrt(t))
    d2 = d1 - sig * math.sqrt(t)
    if call:
        return s * math.exp(-q * t) * norm.cdf(d1) - k * math.exp(-r * t) * norm.cdf(d2)
    return k * math.exp(-r * t) * norm.cdf(-d2) - s * math.exp(-q * t) * norm.cdf(-d1)


def dividend_pv(expiration: dt.date) -> float:
    """PV at the valuation instant of the dividend if it goes ex before ``expiration``, dollars per share."""
    if EX_DATE > expiration:
        return 0.0
    return DIVIDEND * math.exp(-RATE * years(session_close(SESSION), session_close(EX_DATE)))


def stock_chain(underlying: str = "ABC", root: str | None = None, expiries=EXPIRIES) -> ChainSnapshot:
    """The chain as a canonical snapshot valued at the close of :data:`SESSION`."""
    root = root or underlying
    valuation = session_close(SESSION)
    rows = []
    for expiration, strikes, rights in expiries:
        settle = settlement_instant(expiration, "PM")
        t = years(valuation, settle)
        q = -math.log((SPOT - dividend_pv(expiration)) / SPOT) / t  # the escrowed forward as a continuous yield
        for k in strikes:
            for right in rights:
                p = bs(SPOT, k, RATE, q, SIGMA, t, right == "C")
                bid, ask = max(round(p - 0.02, 2), 0.0), round(p + 0.02, 2) if p > 0.005 else 0.05
                rows.append({
                    "underlying": underlying, "session": SESSION, "snapshot_ts": valuation, "valuation_ts": valuation,
                    "symbol": f"{root}{expiration:%y%m%d}{right}{int(k * 1000):08d}", "root": root,
                    "expiration": expiration, "settlement": "PM", "settlement_ts": settle, "strike": k, "right": right,
                    "bid": bid, "ask": ask, "last": None, "volume": 10, "open_interest": 1000,
                    "oi_date": dt.date(2025, 1, 3), "vendor_iv": SIGMA, "vendor_delta": None, "vendor_gamma": None,
                    "vendor_vega": None, "vendor_theta": None, "underlying_price": SPOT, "multiplier": 100.0,
                    "source_line": len(rows) + 1,
                })
    frame = conform(pl.DataFrame(rows, infer_schema_length=None))
    return ChainSnapshot(frame=frame, underlying=underlying, spot=SPOT, session=SESSION, snapshot_ts=valuation,
                         valuation_ts=valuation, source="hand-built test chain", source_format="canonical")


#: The contracts early exercise matters for in :func:`stock_chain`, by symbol: the 140 put of the first expiry (deep
#: in the money, no dividend before expiry: its time value is below the interest on the strike) and the 60 call
#: of the second (deep in the money, the $2 dividend before expiry beats its time value and the interest on the
#: strike after the ex-date). Not flagged: the second expiry's 140 put (the dividend it would forgo outweighs
#: the strike's carry), the first expiry's 60 call (no dividend), the third expiry's 60 call (no parity
#: forward: screened without the dividend), and the at-the-money contracts (no intrinsic value).
EXPECTED_FLAGS = {"ABC250117P00140000": "deep_itm_put", "ABC250221C00060000": "call_before_ex_dividend"}

