"""Compiled per-step loop of the built-in hedging rules (one rule, one chunk of steps, all paths).

Mirrors the ``rebalance`` methods of :mod:`gex.hedging.strategies` and the execution rules of the
simulator (minimum order, daily cap, costs); the tests run both and compare. Paths are processed in
blocks of :data:`BLOCK` (contiguous in memory, one block per thread); inside a block, rows (time) outer.

Two shortcuts keep the band rules cheap without changing a decision: Whalley-Wilmott compares
``|x|^3`` with ``H^3`` and takes the cube root only when it trades; the combined (fee) reset band trades
iff the quartic ``a x^4 - b x - c`` is positive at ``x = |hedge - target|`` (it is negative below its
only positive root ``H`` and positive above), so no root is solved at all.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from gex.hedging.strategies import KIND_BAND, KIND_CLOCK, KIND_COMBINED, KIND_NOTIONAL, KIND_WW

BLOCK = 64
#: Orders of at most this many shares are never sent (rounding dust, e.g. a band reset when gamma has
#: underflowed to 0), whatever the minimum order size; a fee must not be paid for nothing.
DUST_SHARES = 1e-9
PARALLEL_MIN_SIZE = 100_000  # rows x paths of a chunk below which the serial loop is used


def _run_rule(
    kind, p, k0, spot, target, trade_target, gamma, steps_per_day,
    cost_rate, per_share, fee, min_order, cap,
    hedge, trades_today, last_trade, hedge_err, cost, n_trades, shares,
):
    m = target.shape[0]
    n = target.shape[1]
    max_int = p[7]
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in nb.prange(n_blocks):
        i0 = b * BLOCK
        i1 = min(n, i0 + BLOCK)
        for r in range(m):
            k = k0 + r
            new_day = k % steps_per_day == 0
            on_clock = False
            if kind == KIND_CLOCK:
                on_clock = k % int(p[0]) == 0
            for i in range(i0, i1):
                if new_day:
                    trades_today[i] = 0
                h = hedge[i]
                tg = target[r, i]
                if k > 0:
                    s = spot[r, i]
                    desired = h
                    x = h - tg
                    ax = abs(x)
                    if kind == KIND_CLOCK:
                        if on_clock:
                            desired = trade_target[r, i]
                    elif kind == KIND_BAND:
                        w = p[0]
                        if p[1] == 0.0:
                            desired = min(max(h, tg - w), tg + w)
                        elif ax > w:
                            desired = tg
                    elif kind == KIND_WW:
                        g = gamma[r, i]
                        w3 = 1.5 / p[1] * p[0] * s * g * g
                        if ax * ax * ax > w3:
                            w = np.cbrt(w3)
                            desired = min(max(h, tg - w), tg + w)
                    elif kind == KIND_NOTIONAL:
                        if ax * s > p[0]:
                            desired = tg
                    elif kind == KIND_COMBINED:
                        g = gamma[r, i]
                        if p[2] / 6.0 * ax**4 - p[0] * s * g * g * ax - 2.0 * p[1] * g * g > 0.0:
                            desired = tg
                    if max_int > 0 and k - last_trade[i] >= max_int:
                        desired = trade_target[r, i]
                    v = desired - h
                    av = abs(v)
                    if av > DUST_SHARES and av >= min_order and trades_today[i] < cap:
                        hedge[i] = desired
                        h = desired
                        cost[i] += cost_rate * s * av + per_share * av + fee
                        trades_today[i] += 1
                        n_trades[i] += 1
                        shares[i] += av
                        last_trade[i] = k
                hedge_err[i] += (h - tg) * (spot[r + 1, i] - spot[r, i])


_serial = nb.njit(cache=True, error_model="numpy")(_run_rule)
_parallel = nb.njit(cache=True, error_model="numpy", parallel=True)(_run_rule)


def run_rule(kind, p, k0, spot, target, trade_target, gamma, *rest):
    """Advance one rule over the rows of a chunk.

    spot: (m+1, n) spots at steps k0..k0+m; target, trade_target, gamma: (m, n) at steps k0..k0+m-1.
    The trailing state arrays (hedge, trades_today, last_trade, hedge_err, cost, n_trades, shares; (n,))
    are updated in place.
    """
    fn = _parallel if target.size >= PARALLEL_MIN_SIZE else _serial
    fn(kind, p, k0, spot, target, trade_target, gamma, *rest)
