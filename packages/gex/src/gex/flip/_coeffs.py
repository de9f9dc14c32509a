"""Coefficients of the GEX profile from contracts, with identical terms merged (private, compiled).

Input: per-contract float64 arrays of shape ``(n,)``: strike ``K`` (currency per share), implied vol
``sig`` (annual decimal), tenor ``T`` (years), weight ``w`` (signed shares per point per unit gamma),
rate ``r`` and dividend yield ``q`` (annual decimals, continuous). Output: arrays of shape ``(m,)``,
``m <= n``: ``a = 1 / (sig sqrt T)``, ``b = d1`` at ``S = reference``, ``c = 0.01 w exp(-q T) a /
sqrt(2 pi)`` (dollars per 1% per unit of spot) and ``k2 = |c| a**2`` (curvature scale, for bounds).

Invalid contracts (non-finite inputs, non-positive ``K``, ``sig``, ``T``, zero ``w``) are dropped.
Contracts with bit-identical ``(a, b)`` (a call and a put of one strike and expiry quoted at one vol)
are merged by adding their ``c``; exact cancellations are dropped. Besides halving the work, merging
keeps exactly cancelling pairs from inflating the ``|F''|`` bounds of the scan.

Why it is fast: one fused pass of vectorisable math (:func:`gex._fastmath.log_pos` and
:func:`gex._fastmath.exp_flush` instead of libm), then the merge by open addressing on the bit patterns
of ``(a, b)``, compacting in place (fresh large numpy temporaries cost more in page faults than the
arithmetic at this size). The plain numpy reference (``np.unique`` on the pairs) is
:func:`gex.flip.reference.coefficients`; the tests check both give the same terms.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from gex._fastmath import FM_SUM as _FM_SUM
from gex._fastmath import exp_flush as _exp_neg
from gex._fastmath import f64_as_i64 as _f64_as_i64
from gex._fastmath import log_pos as _log_pos

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_HASH_A = np.int64(-7046029254386353131)  # odd 64-bit multipliers for the (a, b) hash
_HASH_B = np.int64(-4658895280553007687)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _valid(K, sig, T, w, r, q):  # pragma: no cover - compiled
    inf = np.inf
    fin = (abs(K) < inf) & (abs(sig) < inf) & (abs(T) < inf)
    fin = fin & (abs(w) < inf) & (abs(r) < inf) & (abs(q) < inf)
    return fin & (K > 0.0) & (sig > 0.0) & (T > 0.0) & (w != 0.0)


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM)
def _mean_log_valid(K, sig, T, w, r, q):  # pragma: no cover - compiled
    s = 0.0
    m = 0.0
    for i in range(K.size):
        ok = _valid(K[i], sig[i], T[i], w[i], r[i], q[i]) & (K[i] > 1e-300) & (K[i] < 1e300)
        s += _log_pos(K[i]) if ok else 0.0
        m += 1.0 if ok else 0.0
    return s / m if m > 0.0 else np.nan


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM)
def _build(K, sig, T, w, r, q, ref):  # pragma: no cover - compiled
    """Coefficients a, b, c and |c| a^2 of the valid contracts, identical (a, b) merged.

    Fused (one pass of vectorisable math, then an in-place compaction): numpy temporaries cost more
    in page faults than in arithmetic at this size.
    """
    n = K.size
    ta = np.empty(n)
    tb = np.empty(n)
    tc = np.empty(n)
    tk = np.empty(n)
    keep = np.empty(n, dtype=np.uint8)
    for i in range(n):  # kept apart from the checks below so that it vectorises
        si = sig[i]
        Ti = T[i]
        ai = 1.0 / (si * math.sqrt(Ti))
        ta[i] = ai
        tb[i] = (_log_pos(ref / K[i]) + (r[i] - q[i] + 0.5 * si * si) * Ti) * ai
        tc[i] = (0.01 * _INV_SQRT_2PI) * w[i] * _exp_neg(-(q[i] * Ti)) * ai
    m = 0
    for i in range(n):
        ratio = ref / K[i]
        qt = q[i] * T[i]
        ok = _valid(K[i], sig[i], T[i], w[i], r[i], q[i])
        ok = ok & (ratio > 1e-300) & (ratio < 1e300) & (abs(qt) < 700.0)  # domains of _log_pos, _exp_neg
        ok = ok & (abs(ta[i]) < np.inf) & (abs(tb[i]) < np.inf) & (abs(tc[i]) < np.inf) & (tc[i] != 0.0)
        keep[i] = ok
        m += ok
    # Merge contracts with bit-identical (a, b) - e.g. a call and a put of the same strike and expiry
    # quoted at one volatility - into one coefficient. Besides halving the work, it keeps exactly
    # cancelling pairs from inflating the |F''| bounds (they would contribute |c| to the bound but 0 to
    # F). Open addressing, compacting in place (fresh large buffers cost page faults, not compute).
    size = 16
    while size < 2 * m:
        size *= 2
    mask = size - 1
    table = np.full(size, -1, dtype=np.int32)
    u = 0
    for i in range(n):
        if not keep[i]:
            continue
        ai = ta[i]
        bi = tb[i]
        h = (_f64_as_i64(ai) * _HASH_A) ^ (_f64_as_i64(bi) * _HASH_B)
        h = (h ^ (h >> 29)) & mask
        while True:
            j = table[h]
            if j < 0:
                table[h] = u
                ta[u] = ai  # u <= i: never overwrites an unread entry
                tb[u] = bi
                tc[u] = tc[i]
                u += 1
                break
            if ta[j] == ai and tb[j] == bi:
                tc[j] += tc[i]
                break
            h = (h + 1) & mask
    k = 0
    for j in range(u):  # drop exact cancellations
        cj = tc[j]
        if cj != 0.0:
            aj = ta[j]
            ta[k] = aj
            tb[k] = tb[j]
            tc[k] = cj
            tk[k] = abs(cj) * aj * aj
            k += 1
    return ta[:k], tb[:k], tc[:k], tk[:k]
