"""Plain, obviously-correct loop versions of the evidence figures (slow; the tests' yardstick).

Each function restates a definition from :mod:`gex.evidence.forward`, :mod:`gex.evidence.buckets` or
:mod:`gex.evidence.bootstrap` one element at a time, without cumulative sums, fancy indexing or bincount.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _ok(x: float) -> bool:
    return x is not None and math.isfinite(x)


def forward_realised_vol(closes: Sequence[float], h: int, periods_per_year: int = 252) -> list[float]:
    """``sqrt(252 / h * sum_{j=t+1}^{t+h} ln(C_j / C_{j-1})^2)`` per ``t``; NaN without a full clean window."""
    n = len(closes)
    out = []
    for t in range(n):
        if t + h >= n:
            out.append(math.nan)
            continue
        total, bad = 0.0, False
        for j in range(t + 1, t + h + 1):
            a, b = closes[j - 1], closes[j]
            if not (_ok(a) and _ok(b) and a > 0 and b > 0):
                bad = True
                break
            total += math.log(b / a) ** 2
        out.append(math.nan if bad else math.sqrt(periods_per_year / h * total))
    return out


def forward_parkinson_vol(highs: Sequence[float], lows: Sequence[float], h: int, periods_per_year: int = 252) -> list[float]:
    """``sqrt(252 / h * sum_{j=t+1}^{t+h} ln(H_j / L_j)^2 / (4 ln 2))`` per ``t``."""
    n = len(highs)
    out = []
    for t in range(n):
        if t + h >= n:
            out.append(math.nan)
            continue
        total, bad = 0.0, False
        for j in range(t + 1, t + h + 1):
            hi, lo = highs[j], lows[j]
            if not (_ok(hi) and _ok(lo) and hi > 0 and lo > 0 and hi >= lo):
                bad = True
                break
            total += math.log(hi / lo) ** 2 / (4.0 * math.log(2.0))
        out.append(math.nan if bad else math.sqrt(periods_per_year / h * total))
    return out


def quantile_groups(values: Sequence[float], eligible: Sequence[bool], n_groups: int = 5) -> list[int]:
    """Group of each eligible day: ``floor(n_groups * rank / m)`` with rank = number of eligible days with a
    smaller value, or an equal value earlier in time; ``-1`` for the others."""
    days = [i for i in range(len(values)) if eligible[i] and _ok(values[i])]
    m = len(days)
    out = [-1] * len(values)
    for i in days:
        rank = sum(1 for j in days if values[j] < values[i] or (values[j] == values[i] and j < i))
        out[i] = (n_groups * rank) // m
    return out


def resample_indices(starts: np.ndarray, n: int, block: int) -> np.ndarray:
    """Each replicate: the blocks ``start, start + 1, ..., start + block - 1`` one after another, cut at ``n``."""
    out = np.empty((starts.shape[0], n), dtype=np.int64)
    for r in range(starts.shape[0]):
        seq: list[int] = []
        for s in starts[r]:
            for o in range(block):
                seq.append(int(s) + o)
        out[r] = seq[:n]
    return out


def bucket_means(values: Sequence[float], labels: Sequence[int], n_buckets: int, index: Sequence[int]) -> list[float]:
    """Mean of the finite values of each bucket over the days ``index`` (one replicate)."""
    sums = [0.0] * n_buckets
    counts = [0] * n_buckets
    for i in index:
        if labels[i] >= 0 and _ok(values[i]):
            sums[labels[i]] += values[i]
            counts[labels[i]] += 1
    return [sums[k] / counts[k] if counts[k] else math.nan for k in range(n_buckets)]


def residual_bucket_means(
    y: Sequence[float], x: Sequence[float], labels: Sequence[int], n_buckets: int, index: Sequence[int]
) -> list[float]:
    """OLS ``y = a + b x`` on the days ``index`` with both finite (textbook sums), then the bucket means of
    ``y - a - b x``."""
    pairs = [(x[i], y[i]) for i in index if _ok(x[i]) and _ok(y[i])]
    n = len(pairs)
    sx = sum(p[0] for p in pairs)
    sy = sum(p[1] for p in pairs)
    sxx = sum(p[0] * p[0] for p in pairs)
    sxy = sum(p[0] * p[1] for p in pairs)
    b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    a = (sy - b * sx) / n
    resid = [y[i] - a - b * x[i] if (_ok(x[i]) and _ok(y[i])) else math.nan for i in range(len(y))]
    return bucket_means(resid, labels, n_buckets, index)


def percentile(values: Sequence[float], q: float) -> float:
    """Quantile ``q`` with linear interpolation between order statistics (numpy's default), NaN skipped."""
    v = sorted(x for x in values if _ok(x))
    if not v:
        return math.nan
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)
