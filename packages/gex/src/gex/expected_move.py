"""Expected move: what the options price for the next expiries and days (pure polars/numpy).

- **Straddle-implied move of each expiry** (:func:`straddle_moves`): the at-the-money straddle mid
  ``C_mid(K) + P_mid(K)`` (both sides two-sided quotes), linearly interpolated in strike to the expiry's
  forward between the two strikes around it (exactly the straddle when the forward is a strike). The
  forward is the put-call-parity forward of :func:`gex.forwards.parity_forwards` where the expiry has
  one, else ``spot * exp((rate - dividend_yield) * T)`` with the contracts' own carry. Under
  Black-Scholes the ATM-forward straddle is ``2 e^{-rT} F (2 N(sigma sqrt(T) / 2) - 1) ~ 0.8 sigma sqrt(T) F``:
  the market's price of one standard deviation, about, of the move to expiry.
- **IV-implied moves** (:func:`iv_implied_move`): ``sigma_ATM * sqrt(days / 252)`` of spot for 1 and 5
  sessions, from the 30-day constant-maturity ATM implied vol (:func:`gex.volatility.atm_iv_constant_maturity`):
  one standard deviation of the log move over that many sessions.

- **The mart's long table** (:func:`expected_move_table`): both kinds as rows of ``mart.expected_move``.

Points are index points (currency per share); percentages are of spot.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from gex.columns import date_days, epoch_microseconds, utc_microseconds
from gex.volatility import TRADING_DAYS_PER_YEAR

_SECONDS_PER_DAY = 86_400.0

#: Columns of :func:`straddle_moves`' result.
MOVE_SCHEMA = {
    "expiration": pl.Date,
    "settlement": pl.String,
    "days_to_settlement": pl.Float64,  # calendar days from the valuation instant (act/365 days)
    "forward": pl.Float64,  # index points
    "forward_source": pl.String,  # parity | carry
    "strike_below": pl.Float64,
    "strike_above": pl.Float64,
    "straddle_points": pl.Float64,  # ATM straddle mid at the forward, index points (= the expected move)
    "straddle_pct": pl.Float64,  # straddle / spot * 100
}


def interpolate_straddle(strikes: np.ndarray, straddles: np.ndarray, forward: float) -> tuple[float, float, float]:
    """Straddle at ``forward`` by linear interpolation in strike: ``(value, strike_below, strike_above)``.

    ``strikes`` sorted ascending and unique. NaN when the forward is outside the quoted strikes.

    >>> interpolate_straddle(np.array([95.0, 100.0, 105.0]), np.array([12.0, 8.0, 11.0]), 101.0)
    (8.6, 100.0, 105.0)
    """
    if strikes.size == 0 or not (strikes[0] <= forward <= strikes[-1]):
        return math.nan, math.nan, math.nan
    hi = int(np.searchsorted(strikes, forward, side="left"))
    if strikes[hi] == forward:
        return float(straddles[hi]), float(strikes[hi]), float(strikes[hi])
    lo = hi - 1
    w = (forward - strikes[lo]) / (strikes[hi] - strikes[lo])
    return float(straddles[lo] + w * (straddles[hi] - straddles[lo])), float(strikes[lo]), float(strikes[hi])


def straddle_moves(
    contracts: pl.DataFrame, forwards: pl.DataFrame, spot: float, valuation_ts: dt.datetime
) -> pl.DataFrame:
    """Straddle-implied move of every expiry with a quoted straddle around its forward (:data:`MOVE_SCHEMA`).

    Parameters
    ----------
    contracts:
        Contracts with ``expiration``, ``settlement``, ``settlement_ts`` (aware), ``strike``, ``right``
        (C/P), ``bid``, ``ask`` (currency per share), ``tenor_years``, ``rate`` and ``dividend_yield``
        (decimal per year, continuous), e.g. :attr:`gex.analysis.Analysis.contracts`.
    forwards:
        :func:`gex.forwards.parity_forwards` output (``expiration``, ``settlement``, ``forward``); may be empty.
    spot:
        Underlying, currency per share (> 0).
    valuation_ts:
        The valuation instant; expiries settling at or before it are left out.

    Equal, bit for bit, to :func:`straddle_moves_reference`; computed on numpy arrays because it runs for every
    chain (~14 polars queries, ~2 ms, against ~0.3 ms). The means of an expiry's carry and tenor stay polars'
    (its summation order), and the reference decides chains with nulls, non-finite values or repeated contracts.
    """
    if contracts.is_empty() or not spot > 0:
        return pl.DataFrame(schema=MOVE_SCHEMA)
    out = _straddle_moves_arrays(contracts, forwards, spot, valuation_ts)
    return straddle_moves_reference(contracts, forwards, spot, valuation_ts) if out is None else out


def _instant_us(ts: dt.datetime) -> int | None:
    """An aware instant as microseconds since the epoch (exact integer); ``None`` for a naive one."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        return None
    return epoch_microseconds(ts)


def _straddle_moves_arrays(contracts: pl.DataFrame, forwards: pl.DataFrame, spot: float,
                           valuation_ts: dt.datetime) -> pl.DataFrame | None:
    """:func:`straddle_moves` on numpy arrays, or ``None`` where it could differ from the reference (nulls,
    non-finite values, a repeated (expiration, settlement, strike, right): polars would average its quotes)."""
    from gex.forwards import _finite_columns, _order_codes, quoted_call_put_pairs

    cols = _finite_columns(contracts, ("strike", "bid", "ask", "tenor_years", "rate", "dividend_yield"))
    exp, settle, right = contracts["expiration"], contracts["settlement"], contracts["right"]
    days, codes, ts, now = date_days(exp), _order_codes(settle), utc_microseconds(contracts["settlement_ts"]), _instant_us(valuation_ts)
    if cols is None or days is None or codes is None or ts is None or now is None or right.null_count():
        return None
    if forwards.height and (forwards["expiration"].dtype != pl.Date
                            or any(forwards[c].null_count() for c in ("expiration", "settlement", "forward"))):
        return None
    strike, bid, ask, tenor, rate, dividend_yield = cols
    pairs = quoted_call_put_pairs(days, codes, strike, bid, ask, right)
    if pairs is None:
        return None
    c, p = pairs
    if c.size == 0:
        return pl.DataFrame(schema=MOVE_SCHEMA)
    # one leg per (expiration, settlement, strike, right): a leg's mean mid, first settlement instant and tenor and
    # mean carry are its contract's own; the expiry's tenor and carry are those of its calls (as the join keeps)
    strikes, straddle = strike[c], (bid[c] + ask[c]) / 2 + (bid[p] + ask[p]) / 2
    carry, tenors = rate[c] - dividend_yield[c], tenor[c]
    key = days[c] * (int(codes.max()) + 1) + codes[c]  # one integer per expiry: the pairs are sorted by it
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], key.size]
    settlement = settle.to_numpy()[c[starts]].tolist()
    parity: dict[tuple[int, str], float] = {}
    if forwards.height:
        f_days = forwards["expiration"].to_numpy().view(np.int64).tolist()
        parity = dict(zip(zip(f_days, forwards["settlement"].cast(pl.String).to_list()), forwards["forward"].to_list()))
    seconds = ((ts[c[starts]] - now) / 1e6).tolist()  # exact microseconds, then one rounding: total_seconds()
    kept: list[int] = []
    columns: dict[str, list[object]] = {k: [] for k in ("days_to_settlement", "forward", "forward_source",
                                                        "strike_below", "strike_above", "straddle_points", "straddle_pct")}
    for g, (lo, hi) in enumerate(zip(starts.tolist(), ends.tolist())):
        if seconds[g] <= 0:
            continue
        found = parity.get((int(days[c[lo]]), settlement[g]))
        if found is not None:
            forward, source = float(found), "parity"
        else:  # polars' means (its summation order), as the reference takes them
            mean_carry, mean_tenor = float(pl.Series(carry[lo:hi]).mean()), float(pl.Series(tenors[lo:hi]).mean())
            forward, source = spot * math.exp(mean_carry * mean_tenor), "carry"
        value, below, above = interpolate_straddle(strikes[lo:hi], straddle[lo:hi], forward)
        if not math.isfinite(value):
            continue
        kept.append(g)
        for name, v in zip(columns, (seconds[g] / _SECONDS_PER_DAY, forward, source, below, above, value,
                                     100.0 * value / spot)):
            columns[name].append(v)
    if not kept:
        return pl.DataFrame(schema=MOVE_SCHEMA)
    # one Series per column (numpy for the floats): ~5x cheaper than a frame built from lists against a schema
    series = [exp[c[starts[kept]]], pl.Series("settlement", [settlement[g] for g in kept], dtype=pl.String)]
    for name, values in columns.items():
        dtype = MOVE_SCHEMA[name]
        series.append(pl.Series(name, values, dtype=dtype) if dtype == pl.String
                      else pl.Series(name, np.array(values, dtype=np.float64)))
    return pl.DataFrame(series)


def straddle_moves_reference(
    contracts: pl.DataFrame, forwards: pl.DataFrame, spot: float, valuation_ts: dt.datetime
) -> pl.DataFrame:
    """:func:`straddle_moves` stated with polars (same arguments and result): the plain statement the fast path is
    tested against, bit for bit, and falls back to where it could not reproduce it.
    """
    if contracts.is_empty() or not spot > 0:
        return pl.DataFrame(schema=MOVE_SCHEMA)
    quoted = contracts.filter((pl.col("bid") > 0) & (pl.col("ask") >= pl.col("bid"))).with_columns(
        mid=(pl.col("bid") + pl.col("ask")) / 2
    )
    keys = ["expiration", "settlement", "strike"]
    legs = quoted.group_by([*keys, "right"]).agg(pl.col("mid").mean(), pl.col("settlement_ts").first(),
                                                 pl.col("tenor_years").first(), carry=(pl.col("rate") - pl.col("dividend_yield")).mean())
    calls = legs.filter(pl.col("right") == "C").select(*keys, "settlement_ts", "tenor_years", "carry", call_mid="mid")
    puts = legs.filter(pl.col("right") == "P").select(*keys, put_mid="mid")
    pairs = calls.join(puts, on=keys, how="inner").with_columns(straddle=pl.col("call_mid") + pl.col("put_mid"))
    parity = {(e, s): f for e, s, f in forwards.select("expiration", "settlement", "forward").iter_rows()} if forwards.height else {}
    rows = []
    for (expiration, settlement), group in pairs.sort(keys).group_by(["expiration", "settlement"], maintain_order=True):
        seconds = (group["settlement_ts"][0] - valuation_ts).total_seconds()
        if seconds <= 0:
            continue
        if (expiration, settlement) in parity:
            forward, source = float(parity[(expiration, settlement)]), "parity"
        else:
            carry, tenor = float(group["carry"].mean()), float(group["tenor_years"].mean())
            forward, source = spot * math.exp(carry * tenor), "carry"
        value, below, above = interpolate_straddle(group["strike"].to_numpy(), group["straddle"].to_numpy(), forward)
        if not math.isfinite(value):
            continue
        rows.append({"expiration": expiration, "settlement": settlement, "days_to_settlement": seconds / _SECONDS_PER_DAY,
                     "forward": forward, "forward_source": source, "strike_below": below, "strike_above": above,
                     "straddle_points": value, "straddle_pct": 100.0 * value / spot})
    return pl.DataFrame(rows, schema=MOVE_SCHEMA, orient="row") if rows else pl.DataFrame(schema=MOVE_SCHEMA)


def iv_implied_move(atm_iv: float | None, spot: float, sessions: int) -> tuple[float | None, float | None]:
    """One-standard-deviation move over ``sessions`` sessions from an annual ATM vol: ``(points, percent of spot)``.

    ``percent = 100 * sigma * sqrt(sessions / 252)``; ``(None, None)`` without a vol.

    >>> [round(x, 4) for x in iv_implied_move(0.16, 5000.0, 1)]
    [50.3953, 1.0079]
    """
    if atm_iv is None or not math.isfinite(atm_iv) or atm_iv <= 0:
        return None, None
    pct = 100.0 * atm_iv * math.sqrt(sessions / TRADING_DAYS_PER_YEAR)
    return spot * pct / 100.0, pct


#: Forward horizons of the IV-implied moves, sessions (``mart.expected_move`` rows with ``method = 'atm_iv'``).
IV_MOVE_SESSIONS = (1, 5)

#: Columns of :func:`expected_move_table` (``mart.expected_move`` without its key columns session,
#: underlying, valuation_ts and preset).
TABLE_SCHEMA = {
    "method": pl.String,  # straddle | atm_iv
    "target_date": pl.Date,  # expiration (straddle) or the session ``sessions_ahead`` after the as-of session
    "settlement": pl.String,  # AM/PM of the expiry; PM (the target session's close) for atm_iv
    "sessions_ahead": pl.Int64,  # NYSE sessions after the as-of session up to and including target_date
    "days_to_settlement": pl.Float64,  # calendar days from the valuation instant to the settlement instant
    "spot": pl.Float64,  # index points
    "forward": pl.Float64,  # index points (straddle rows)
    "forward_source": pl.String,  # parity | carry (straddle rows)
    "strike_below": pl.Float64,
    "strike_above": pl.Float64,
    "atm_iv": pl.Float64,  # the 30-day ATM IV behind an atm_iv row, decimal per year
    "move_points": pl.Float64,  # index points
    "move_pct": pl.Float64,  # percent of spot
}


def expected_move_table(
    moves: pl.DataFrame,
    atm_iv: float | None,
    spot: float,
    session: dt.date,
    valuation_ts: dt.datetime,
    iv_sessions: tuple[int, ...] = IV_MOVE_SESSIONS,
) -> pl.DataFrame:
    """One long frame of every expected move of a snapshot (:data:`TABLE_SCHEMA`), as ``mart.expected_move`` stores it.

    - one ``method = 'straddle'`` row per expiry of ``moves`` (:func:`straddle_moves`), ``target_date`` its
      expiration, ``move_points`` / ``move_pct`` the straddle at the forward;
    - one ``method = 'atm_iv'`` row per horizon of ``iv_sessions`` (default 1 and 5 sessions) when ``atm_iv``
      is usable: ``target_date`` the session that many NYSE sessions after ``session``, settlement ``PM``
      (its close), ``move_points`` / ``move_pct`` from :func:`iv_implied_move`.

    ``sessions_ahead`` counts the NYSE sessions ``s`` with ``session < s <= target_date``; ``days_to_settlement``
    is calendar days (act/365 seconds / 86,400) from ``valuation_ts`` to the settlement instant.
    Rows come ordered by method (straddle first), target_date, settlement.
    """
    from gex import calendar  # the exchange calendar: the target sessions and settlement instants

    rows: list[dict[str, object]] = []
    for r in _sorted_moves(moves).iter_rows(named=True):
        ahead = calendar.count_sessions(session + dt.timedelta(days=1), r["expiration"])
        rows.append({"method": "straddle", "target_date": r["expiration"], "settlement": r["settlement"],
                     "sessions_ahead": ahead, "days_to_settlement": r["days_to_settlement"], "spot": spot,
                     "forward": r["forward"], "forward_source": r["forward_source"], "strike_below": r["strike_below"],
                     "strike_above": r["strike_above"], "atm_iv": None, "move_points": r["straddle_points"],
                     "move_pct": r["straddle_pct"]})
    target = session
    for n in sorted(set(iv_sessions)):
        points, pct = iv_implied_move(atm_iv, spot, n)
        if points is None:
            break
        while calendar.count_sessions(session + dt.timedelta(days=1), target) < n:
            target = calendar.next_session(target)
        seconds = (calendar.settlement_instant(target, "PM") - valuation_ts).total_seconds()
        rows.append({"method": "atm_iv", "target_date": target, "settlement": "PM", "sessions_ahead": n,
                     "days_to_settlement": seconds / _SECONDS_PER_DAY, "spot": spot, "forward": None,
                     "forward_source": None, "strike_below": None, "strike_above": None, "atm_iv": atm_iv,
                     "move_points": points, "move_pct": pct})
    return pl.DataFrame(rows, schema=TABLE_SCHEMA, orient="row") if rows else pl.DataFrame(schema=TABLE_SCHEMA)


def _sorted_moves(moves: pl.DataFrame) -> pl.DataFrame:
    """``moves.sort("expiration", "settlement")``, without the sort (a polars query, ~0.25 ms a chain) when the rows
    are already strictly in that order, as :func:`straddle_moves` returns them (a strict order leaves no tie for
    the sort to order its own way, so the frame is the sorted one)."""
    exp, settle = moves["expiration"], moves["settlement"]
    if exp.dtype == pl.Date and settle.dtype == pl.String and not exp.null_count() and not settle.null_count():
        keys = list(zip(exp.to_list(), settle.to_list()))  # str order is polars' byte order of UTF-8
        if all(a < b for a, b in zip(keys, keys[1:])):
            return moves
    return moves.sort("expiration", "settlement")
