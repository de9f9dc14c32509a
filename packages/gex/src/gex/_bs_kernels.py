"""Numba kernels behind :mod:`gex.greeks` and :mod:`gex.iv` (private).

Nothing is compiled at import time: each loop is compiled (or loaded from numba's on-disk cache) on
its first call, once per argument-type combination. The cache is stamped with every compiled source of
the core (:mod:`gex._numba_cache`), so kernels here never mix with an older :mod:`gex._fastmath`.

Layout
------
- the vectorisable ``exp`` / ``log(a/b)`` and the normal pdf/cdf come from :mod:`gex._fastmath`
  (shared with the flip kernels): numba's ``math.exp``/``math.log`` lower to scalar libm calls, which
  stop LLVM from vectorising a loop; the polynomial versions are accurate to ~1 ulp and let the cheap
  greeks (gamma, vega, vanna, d1, d2) run as AVX2/AVX-512 loops;
- the normal cdf (``erfc``-based, relative accuracy in both tails) and pdf;
- the *normalised out-of-the-money price* ``c(theta, s)`` (see :func:`_otm_c`), evaluated without
  catastrophic cancellation, which both the pricer and the implied-vol solver use;
- scalar Black-Scholes-Merton kernels, each returning NaN for invalid inputs;
- the implied-vol solver;
- serial and ``prange`` loops over flattened inputs. Each loop argument is either a float (a scalar
  broadcast over the loop) or a C-contiguous 1-D float64 array of the loop length.

Shapes and units: every kernel is scalar in, scalar out (float64); the loops take 1-D float64 arrays
(or scalars) of one length ``n`` and write an ``(n,)`` output; units are those of :mod:`gex.greeks`.
A plain numpy/scipy reference of every kernel is :mod:`gex.bs_reference` (selected with
``kernel="reference"`` or ``GEX_KERNEL=reference``).

Notation
--------
``x = ln(F/K)`` with ``F = S exp((r - q) T)``; ``s = sigma sqrt(T)``; ``theta = -|x| <= 0``;
``d1,2 = x/s +- s/2``. The *normalised OTM price* is
``c(theta, s) = exp(theta) N(theta/s + s/2) - N(theta/s - s/2)``, the undiscounted OTM option price in
units of ``max(F, K)``: OTM call (``F <= K``) ``= exp(-rT) K c(x, s)``, OTM put (``F > K``)
``= exp(-rT) F c(-x, s)``. It lies in ``(0, exp(theta))`` and increases with ``s``, and
``dc/ds = phi(theta/s - s/2)``.
"""

from __future__ import annotations

import math

from numba import njit, prange, types
from numba.extending import overload

from gex._fastmath import (  # shared vectorisable elementary functions (and the cache stamp)
    DBL_MIN,
    EPS,
    INLINE as _INLINE,
    INV_SQRT2,
    INV_SQRT_2PI,
    OPTS as _OPTS,
    SQRT2,
    exp as _exp,
    log_ratio as _log_ratio,
    ncdf as _ncdf,
    npdf as _npdf,
)

SQRT_2PI = math.sqrt(2.0 * math.pi)
LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
SQRT_PI_OVER_2 = math.sqrt(0.5 * math.pi)

# Region boundaries of the normalised OTM price (see _otm_c)
SERIES_MAX_S = 0.125
SERIES_MAX_ABS_THETA = 0.25

# implied-vol reason codes (mirrored by gex.iv.IVReason)
R_OK = 0
R_INVALID_INPUT = 1
R_NON_POSITIVE_PRICE = 2
R_BELOW_INTRINSIC = 3
R_ABOVE_MAX = 4
R_NOT_CONVERGED = 5
R_UNRESOLVED = 6
R_BELOW_MIN_VOL = 7
R_ABOVE_MAX_VOL = 8

# --------------------------------------------------------------------------------------------------
# argument access


def _get(a, i):  # pragma: no cover - replaced by the overload below inside numba
    raise NotImplementedError


@overload(_get, inline="always")
def _get_overload(a, i):
    """``a[i]`` for an array, ``a`` for a scalar: lets one loop body serve any scalar/array mix."""
    if isinstance(a, types.Array):
        return lambda a, i: a[i]
    return lambda a, i: a


# --------------------------------------------------------------------------------------------------
# validity


@njit(**_INLINE)
def _valid(S, K, r, sig, T, q):
    return (
        (S > 0.0)
        & (S < math.inf)
        & (K > 0.0)
        & (K < math.inf)
        & (sig > 0.0)
        & (sig < math.inf)
        & (T > 0.0)
        & (T < math.inf)
        & (abs(r) < math.inf)
        & (abs(q) < math.inf)
    )


# --------------------------------------------------------------------------------------------------
# normalised out-of-the-money price


@njit(**_OPTS)
def _mills(w):
    """(m, 1 - w m) for w >= 0, with m = N(-w)/phi(w) the Mills ratio.

    ``m`` is accurate to a few ulp for all w >= 0. ``1 - w m`` (= d m(-z)/dz at z = -w) is computed
    by subtraction for w < 28 (relative error ~ w^2 eps, the conditioning of the quantities it feeds)
    and by its asymptotic series above.
    """
    if w < 28.0:
        u = w * INV_SQRT2
        # exp(u^2) with u^2 = uh^2 + ul (u + uh) split exactly (Veltkamp), so that the rounding of
        # u^2 (up to ~400 here) does not cost ~u^2 ulps
        c = 134217729.0 * u
        uh = c - (c - u)
        ul = u - uh
        b = ul * (u + uh)  # |b| < 1.2e-5: exp(b) by its cubic Taylor polynomial (error < 1e-20)
        m = SQRT_PI_OVER_2 * math.exp(uh * uh) * (1.0 + b * (1.0 + b * (0.5 + b / 6.0))) * math.erfc(u)
        return m, 1.0 - w * m
    iw2 = 1.0 / (w * w)
    t = 1.0
    acc = 0.0
    for k in range(1, 12):  # sum_{k>=1} (-1)^k (2k-1)!! / w^(2k); 11 terms < 1e-17 for w >= 28
        t *= -(2.0 * k - 1.0) * iw2
        acc += t
    return (1.0 + acc) / w, -acc


@njit(**_OPTS)
def _series_D(z, s):
    """D = Y(z + s) - Y(z), Y = N/phi, for z <= 0 and small s, as a sum of positive terms.

    ``Y(z + s) - Y(z) = sum_{k>=1} s^k M_k(z) / k!`` with ``M_k = Y^(k)``, all positive, obtained by the
    recurrence ``M_{k+1} = z M_k + k M_{k-1}``. Used where s * |z| <= 0.25 + s^2/2, where the terms
    fall at least like (2 s |z|)^k / k!, so the recurrence's error growth is harmless.
    """
    m0, m1 = _mills(-z)
    pk = s
    D = s * m1
    mkm1 = m0
    mk = m1
    for k in range(1, 100):
        mkp1 = z * mk + k * mkm1
        pk *= s / (k + 1.0)
        term = pk * mkp1
        D += term
        if term <= 1e-17 * D:
            break
        mkm1 = mk
        mk = mkp1
    return D


@njit(**_OPTS)
def _otm_c(th, s):
    """Normalised OTM price c(th, s) = e^th N(th/s + s/2) - N(th/s - s/2) for th <= 0, s > 0.

    Three regions, chosen so that no evaluation loses more than a few bits beyond the problem's own
    conditioning (relative error measured <= ~10 eps (1 + d2^2) against 50-digit mpmath):

    1. s <= 0.125 and |th| <= 0.25 (near the money, short total vol): ``c = phi(d2) D`` with the
       positive series :func:`_series_D` -- the direct formula would cancel like 1/s here;
    2. d1 >= 0: the direct formula; the first term dominates (cancellation < 12x);
    3. d1 < 0: ``c = phi(d2) [Y(d1) - Y(d2)]`` with Mills ratios (no underflow, cancellation of the
       difference below ~4 d2^2, the conditioning of c itself).
    """
    h = th / s
    t = 0.5 * s
    d1 = h + t
    d2 = h - t
    if d1 < 0.0 and 0.5 * d2 * d2 > 746.0:
        return 0.0  # c < phi(d2) Y(0): below the smallest subnormal
    if s <= SERIES_MAX_S and -th <= SERIES_MAX_ABS_THETA:
        return _npdf(d2) * _series_D(d2, s)
    if d1 >= 0.0:
        return max(math.exp(th) * _ncdf(d1) - _ncdf(d2), 0.0)
    return _npdf(d2) * max(_mills(-d1)[0] - _mills(-d2)[0], 0.0)


@njit(**_OPTS)
def _otm_logc(th, s):
    """(ln c, phi(d2) / c) without underflow, c = _otm_c(th, s). phi(d2)/c = d ln c / ds."""
    h = th / s
    t = 0.5 * s
    d1 = h + t
    d2 = h - t
    if s <= SERIES_MAX_S and -th <= SERIES_MAX_ABS_THETA:
        D = _series_D(d2, s)
    elif d1 >= 0.0:
        c = math.exp(th) * _ncdf(d1) - _ncdf(d2)
        return math.log(c), _npdf(d2) / c
    else:
        D = _mills(-d1)[0] - _mills(-d2)[0]
    return -0.5 * d2 * d2 - LN_SQRT_2PI + math.log(D), 1.0 / D


@njit(**_OPTS)
def _otm_logu(th, s):
    """(ln u, phi(d2) / u) with u = e^th - c = e^th N(-d1) + N(d2) (sum of positives, no cancellation)."""
    h = th / s
    t = 0.5 * s
    d1 = h + t
    d2 = h - t
    u = math.exp(th) * _ncdf(-d1) + _ncdf(d2)
    return math.log(u), _npdf(d2) / u


# --------------------------------------------------------------------------------------------------
# Black-Scholes-Merton scalar kernels (NaN for invalid inputs)


@njit(**_INLINE)
def _k_d1(S, K, r, sig, T, q):
    d = (_log_ratio(S, K) + (r - q + 0.5 * sig * sig) * T) / (sig * math.sqrt(T))
    return d if _valid(S, K, r, sig, T, q) else math.nan


@njit(**_INLINE)
def _k_d2(S, K, r, sig, T, q):
    d = (_log_ratio(S, K) + (r - q - 0.5 * sig * sig) * T) / (sig * math.sqrt(T))
    return d if _valid(S, K, r, sig, T, q) else math.nan


@njit(**_INLINE)
def _k_gamma(S, K, r, sig, T, q):
    s = sig * math.sqrt(T)
    d1 = (_log_ratio(S, K) + (r - q + 0.5 * sig * sig) * T) / s
    g = (_exp(-q * T - 0.5 * d1 * d1) * INV_SQRT_2PI / S) / s  # no 0 * inf if S * s underflows
    return g if _valid(S, K, r, sig, T, q) else math.nan


@njit(**_INLINE)
def _k_vega(S, K, r, sig, T, q):
    sq = math.sqrt(T)
    d1 = (_log_ratio(S, K) + (r - q + 0.5 * sig * sig) * T) / (sig * sq)
    v = S * sq * INV_SQRT_2PI * _exp(-q * T - 0.5 * d1 * d1)
    return v if _valid(S, K, r, sig, T, q) else math.nan


@njit(**_INLINE)
def _k_vanna(S, K, r, sig, T, q):
    s = sig * math.sqrt(T)
    x = _log_ratio(S, K) + (r - q) * T
    d1 = x / s + 0.5 * s
    d2 = x / s - 0.5 * s
    ph = _exp(-q * T - 0.5 * d1 * d1)
    v = 0.0 if ph == 0.0 else -INV_SQRT_2PI * ph * (d2 / sig)  # d2 may overflow where phi == 0
    return v if _valid(S, K, r, sig, T, q) else math.nan


@njit(**_OPTS)
def _k_price(S, K, r, sig, T, q, flag):
    if not (_valid(S, K, r, sig, T, q) and (flag == 1.0 or flag == 0.0)):
        return math.nan
    s = sig * math.sqrt(T)
    x = _log_ratio(S, K) + (r - q) * T
    dfr = math.exp(-r * T)
    # OTM part, in units of max(F, K) e^{-rT}: S e^{-qT} if F > K else K e^{-rT}
    scale = S * math.exp(-q * T) if x > 0.0 else K * dfr
    c = _otm_c(-abs(x), s)
    if c < 1e-290:
        # tiny prices: scale in log space, so that a subnormal c (few significant bits) is never
        # scaled up; the result is then correct to its own (subnormal) spacing
        v = math.exp(math.log(scale) + _otm_logc(-abs(x), s)[0])
    else:
        v = scale * c
    # ITM options add the forward intrinsic e^{-rT} |F - K| = e^{-rT} K |expm1(x)| (parity)
    if (flag == 1.0 and x > 0.0) or (flag == 0.0 and x < 0.0):
        v += K * dfr * abs(math.expm1(x))
    return v


@njit(**_OPTS)
def _k_delta(S, K, r, sig, T, q, flag):
    if not (_valid(S, K, r, sig, T, q) and (flag == 1.0 or flag == 0.0)):
        return math.nan
    s = sig * math.sqrt(T)
    d1 = (_log_ratio(S, K) + (r - q) * T) / s + 0.5 * s
    if flag == 1.0:
        return math.exp(-q * T) * _ncdf(d1)
    return -math.exp(-q * T) * _ncdf(-d1)


@njit(**_OPTS)
def _k_theta(S, K, r, sig, T, q, flag):
    if not (_valid(S, K, r, sig, T, q) and (flag == 1.0 or flag == 0.0)):
        return math.nan
    sq = math.sqrt(T)
    s = sig * sq
    x = _log_ratio(S, K) + (r - q) * T
    d1 = x / s + 0.5 * s
    d2 = x / s - 0.5 * s
    sdq = S * math.exp(-q * T)
    kdr = K * math.exp(-r * T)
    decay = -sdq * _npdf(d1) * sig / (2.0 * sq)
    if flag == 1.0:
        return decay - r * kdr * _ncdf(d2) + q * sdq * _ncdf(d1)
    return decay + r * kdr * _ncdf(-d2) - q * sdq * _ncdf(-d1)


@njit(**_OPTS)
def _k_charm(S, K, r, sig, T, q, flag):
    if not (_valid(S, K, r, sig, T, q) and (flag == 1.0 or flag == 0.0)):
        return math.nan
    s = sig * math.sqrt(T)
    x = _log_ratio(S, K) + (r - q) * T
    d1 = x / s + 0.5 * s
    d2 = x / s - 0.5 * s
    dq = math.exp(-q * T)
    # -d(delta)/dT; d(d1)/dT = (r - q)/s - d2/(2T)
    ph = _npdf(d1)
    flow = 0.0 if ph == 0.0 else -dq * ph * ((r - q) / s - d2 / (2.0 * T))
    if flag == 1.0:
        return q * dq * _ncdf(d1) + flow
    return -q * dq * _ncdf(-d1) + flow


# --------------------------------------------------------------------------------------------------
# implied volatility


@njit(**_OPTS)
def _inv_ncdf_rough(p):
    """z with N(z) ~= p for 0 < p <= 0.5 (Abramowitz & Stegun 26.2.23, |error| < 4.5e-4): a guess only."""
    t = math.sqrt(-2.0 * math.log(p))
    num = 2.515517 + t * (0.802853 + t * 0.010328)
    den = 1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))
    return -(t - num / den)


@njit(**_OPTS)
def _solve_otm(th, cs, lcs):
    """s > 0 with c(th, s) = cs, for th <= 0 and 0 < cs < e^th. Returns (s, iterations), -1 if not converged.

    ``lcs = ln(cs)``, passed separately because it is more accurate than ``log(cs)`` when cs is
    subnormal.

    The inflection point of c in s, s_c = sqrt(2|th|), splits the problem (c_c = c(th, s_c) <= e^th/2):

    - cs <= c_c (root left of s_c, out of the money relative to the total vol): Halley in y = 1/s on
      Psi(s) = -sqrt(-2 ln(c sqrt(2 pi))) ~ d2, which is close to linear in y. The first step, from
      s_c (whose price the zone test already computed), solves a model that also knows Psi's
      asymptote Psi ~ th * y (y -> inf): Psi(y) ~ th y + A + B / (y - y_c + w), fitted to the value,
      slope and curvature at y_c;
    - c_c < cs <= e^th / 2: Halley in ln s on ln c (Corrado-Miller start);
    - cs > e^th / 2 (near the upper bound): Halley in s on ln(e^th - c) (inverse-normal start).

    Each objective is monotone; every evaluation updates a bracket [lo, hi] that provably contains the
    root (initially [0, s_c] or [s_c, inf)), and a step that leaves the bracket is replaced by a
    (geometric) bisection, so convergence is guaranteed. Iteration stops after a Halley step of
    relative size <= 1e-5: with cubic convergence the step lands within rounding noise of the root
    (measured: no change of the result, over millions of cases, for any tolerance up to 1e-4).
    """
    tol = 1e-5  # Halley steps
    tol_newton = 1e-10  # steps where the Halley correction was not applied (quadratic convergence)
    em = math.exp(th)
    sc = math.sqrt(-2.0 * th)
    lo = sc
    hi = math.inf
    if cs > 0.5 * em:
        # --- near the upper bound: f(s) = ln(e^th - c(s)) - ln(e^th - cs), decreasing
        us = em - cs
        lut = math.log(us)
        s = -2.0 * _inv_ncdf_rough(min(us / (1.0 + em), 0.5))
        if not (s > lo):
            s = 1.5 * lo if lo > 0.0 else 1.0
        for n in range(1, 200):
            lu, b = _otm_logu(th, s)
            f = lu - lut
            if f > 0.0:
                lo = s
            elif f < 0.0:
                hi = s
            else:
                return s, n
            k = th * th / (s * s * s) - 0.25 * s  # d ln phi(d2) / ds
            # f' = -b, f'' = -b k - b^2
            corr = -f * (k + b) / (2.0 * b)  # = f f'' / (2 f'^2)
            halley = abs(corr) < 0.5
            ds = f / (b * (1.0 - corr)) if halley else f / b
            sn = s + ds
            if abs(ds) <= (tol if halley else tol_newton) * s:
                return sn, n
            if not (sn > lo and sn < hi):
                sn = 2.0 * s if hi == math.inf else 0.5 * (lo + hi)
            if hi < math.inf and hi - lo <= 4.0 * EPS * hi:
                return sn, n
            s = sn
        return s, -1

    cc = _otm_c(th, sc) if sc > 0.0 else 0.0
    if cs > cc:
        # --- middle: f(ln s) = ln c(s) - ln cs, increasing
        aa = 0.5 * (em - 1.0)  # Corrado-Miller with K = 1, F = e^th
        b = cs + aa
        s = SQRT_2PI / (1.0 + em) * (b + math.sqrt(max(b * b - 4.0 * aa * aa / math.pi, 0.0)))
        if not (s > lo):
            s = 1.5 * lo if lo > 0.0 else 1e-3
        for n in range(1, 200):
            lc, a = _otm_logc(th, s)
            f = lc - lcs
            if f < 0.0:
                lo = s
            elif f > 0.0:
                hi = s
            else:
                return s, n
            k = th * th / (s * s * s) - 0.25 * s
            # d f / d ln s = s a, d2 f / d (ln s)^2 = s a + s^2 (a k - a^2)
            corr = f * (1.0 + s * (k - a)) / (2.0 * s * a)
            halley = abs(corr) < 0.5
            dl = -f / (s * a * (1.0 - corr)) if halley else -f / (s * a)
            sn = s * math.exp(dl)
            if abs(sn - s) <= (tol if halley else tol_newton) * s:
                return sn, n
            if not (sn > lo and sn < hi):
                if hi == math.inf:
                    sn = 2.0 * s
                elif lo > 0.0:
                    sn = math.sqrt(lo * hi)
                else:
                    sn = 0.5 * hi
            if hi < math.inf and hi - lo <= 4.0 * EPS * hi:
                return sn, n
            s = sn
        return s, -1

    # --- out of the money: f(y) = Psi(1/y) - Psi_target, decreasing in y = 1/s
    lo = 0.0
    hi = sc
    pt = -math.sqrt(-2.0 * (lcs + LN_SQRT_2PI))
    s = sc
    lc = math.log(cc)
    a = _npdf(-sc) / cc
    for n in range(1, 200):
        if n > 1:
            lc, a = _otm_logc(th, s)
        p = -math.sqrt(-2.0 * (lc + LN_SQRT_2PI))
        f = p - pt
        if f < 0.0:
            lo = s
        elif f > 0.0:
            hi = s
        else:
            return s, n
        y = 1.0 / s
        ip = 1.0 / p
        k = th * th * y * y * y - 0.25 * s
        ps = -a * ip  # dPsi/ds (a = d ln c / ds)
        pss = -((a * k - a * a) - a * ps * ip) * ip
        s2 = s * s
        py = -ps * s2  # dPsi/dy
        pyy = (pss * s2 + 2.0 * ps * s) * s2
        corr = f * pyy / (2.0 * py * py)
        halley = abs(corr) < 0.5
        dy = -f / (py * (1.0 - corr)) if halley else -f / py
        yn = y + dy
        if n == 1:
            w = 2.0 * (th - py) / pyy
            if w > 0.0:
                bb = (th - py) * w * w
                beta = th * (y - w) + (p - th * y - bb / w) - pt
                disc = beta * beta - 4.0 * th * bb
                if disc >= 0.0:
                    u = (-beta - math.sqrt(disc)) / (2.0 * th)
                    if u > w:
                        yn = y - w + u
                        halley = False  # not a converged Halley step: never accept it as final
        sn = 1.0 / yn if yn > 0.0 else 0.0
        if abs(sn - s) <= (tol if halley else tol_newton) * s:
            return sn, n
        if not (sn > lo and sn < hi):
            sn = math.sqrt(lo * hi) if lo > 0.0 else 0.5 * hi
        if hi - lo <= 4.0 * EPS * hi:
            return sn, n
        s = sn
    return s, -1


@njit(**_OPTS)
def _k_iv(P, S, K, r, T, flag, q, sig_min, sig_max, resolution):
    """(implied vol, reason code) for one option; see gex.iv.implied_vol for the contract."""
    if not (
        (S > 0.0)
        & (S < math.inf)
        & (K > 0.0)
        & (K < math.inf)
        & (T > 0.0)
        & (T < math.inf)
        & (abs(r) < math.inf)
        & (abs(q) < math.inf)
        & ((flag == 1.0) | (flag == 0.0))
        & (P == P)
    ):
        return math.nan, R_INVALID_INPUT
    if P <= 0.0:
        return math.nan, R_NON_POSITIVE_PRICE
    is_call = flag == 1.0
    x = _log_ratio(S, K) + (r - q) * T
    dfr = math.exp(-r * T)
    sdq = S * math.exp(-q * T)
    kdr = K * dfr
    if P >= (sdq if is_call else kdr):
        return math.nan, R_ABOVE_MAX
    itm = (is_call and x > 0.0) or ((not is_call) and x < 0.0)
    intrinsic = kdr * abs(math.expm1(x)) if itm else 0.0
    if P <= intrinsic:
        return math.nan, R_BELOW_INTRINSIC
    scale = sdq if x > 0.0 else kdr  # max(F, K) e^{-rT}
    th = -abs(x)
    tv = P - intrinsic  # the OTM option's price
    cs = tv / scale
    if not (cs > 0.0 and cs < math.exp(th)):
        return math.nan, R_UNRESOLVED  # time value lost in the parity/normalisation rounding
    s, n = _solve_otm(th, cs, math.log(tv) - math.log(scale))
    if n < 0 or not (s > 0.0 and s < math.inf):
        return math.nan, R_NOT_CONVERGED
    sq = math.sqrt(T)
    sig = s / sq
    # Resolution: four ulps of the price (and of the intrinsic value subtracted from it) move sigma
    # by 4 eps (P + intrinsic) / vega, vega = scale * phi(d2) * sqrt(T); computed in logs (prices can
    # be subnormal, where the spacing is 4.9e-324 rather than eps * P).
    d2 = th / s - 0.5 * s
    log_dsig = (
        math.log(4.0 * EPS * (P + intrinsic) + 2e-323)
        - math.log(scale)
        + 0.5 * d2 * d2
        + LN_SQRT_2PI
        - math.log(sq)
    )
    if log_dsig > math.log(resolution):
        return math.nan, R_UNRESOLVED
    if sig < sig_min:
        return math.nan, R_BELOW_MIN_VOL
    if sig > sig_max:
        return math.nan, R_ABOVE_MAX_VOL
    return sig, R_OK


@njit(**_OPTS)
def iv_serial(P, S, K, r, T, flag, q, sig_min, sig_max, resolution, out, reason):
    for i in range(out.size):
        out[i], reason[i] = _k_iv(
            _get(P, i), _get(S, i), _get(K, i), _get(r, i), _get(T, i), _get(flag, i), _get(q, i),
            sig_min, sig_max, resolution,
        )


@njit(parallel=True, **_OPTS)
def iv_parallel(P, S, K, r, T, flag, q, sig_min, sig_max, resolution, out, reason):
    for i in prange(out.size):
        out[i], reason[i] = _k_iv(
            _get(P, i), _get(S, i), _get(K, i), _get(r, i), _get(T, i), _get(flag, i), _get(q, i),
            sig_min, sig_max, resolution,
        )


@njit(**_OPTS)
def otm_c_loop(th, s, out):
    """Normalised OTM price over arrays (used by tests and benchmarks)."""
    for i in range(out.size):
        out[i] = _otm_c(_get(th, i), _get(s, i))


# --------------------------------------------------------------------------------------------------
# loops. Written out one by one (not generated) so that numba can cache each of them.


@njit(**_OPTS)
def d1_serial(S, K, r, sig, T, q, out):
    for i in range(out.size):
        out[i] = _k_d1(_get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i))


@njit(parallel=True, **_OPTS)
def d1_parallel(S, K, r, sig, T, q, out):
    for i in prange(out.size):
        out[i] = _k_d1(_get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i))


@njit(**_OPTS)
def d2_serial(S, K, r, sig, T, q, out):
    for i in range(out.size):
        out[i] = _k_d2(_get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i))


@njit(parallel=True, **_OPTS)
def d2_parallel(S, K, r, sig, T, q, out):
    for i in prange(out.size):
        out[i] = _k_d2(_get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i))


@njit(**_OPTS)
def gamma_serial(S, K, r, sig, T, q, out):
    for i in range(out.size):
        out[i] = _k_gamma(_get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i))


@njit(parallel=True, **_OPTS)
def gamma_parallel(S, K, r, sig, T, q, out):
    for i in prange(out.size):
        out[i] = _k_gamma(_get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i))


@njit(**_OPTS)
def vega_serial(S, K, r, sig, T, q, out):
    for i in range(out.size):
        out[i] = _k_vega(_get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i))


@njit(parallel=True, **_OPTS)
def vega_parallel(S, K, r, sig, T, q, out):
    for i in prange(out.size):
        out[i] = _k_vega(_get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i))


@njit(**_OPTS)
def vanna_serial(S, K, r, sig, T, q, out):
    for i in range(out.size):
        out[i] = _k_vanna(_get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i))


@njit(parallel=True, **_OPTS)
def vanna_parallel(S, K, r, sig, T, q, out):
    for i in prange(out.size):
        out[i] = _k_vanna(_get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i))


@njit(**_OPTS)
def price_serial(S, K, r, sig, T, q, flag, out):
    for i in range(out.size):
        out[i] = _k_price(
            _get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i), _get(flag, i)
        )


@njit(parallel=True, **_OPTS)
def price_parallel(S, K, r, sig, T, q, flag, out):
    for i in prange(out.size):
        out[i] = _k_price(
            _get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i), _get(flag, i)
        )


@njit(**_OPTS)
def delta_serial(S, K, r, sig, T, q, flag, out):
    for i in range(out.size):
        out[i] = _k_delta(
            _get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i), _get(flag, i)
        )


@njit(parallel=True, **_OPTS)
def delta_parallel(S, K, r, sig, T, q, flag, out):
    for i in prange(out.size):
        out[i] = _k_delta(
            _get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i), _get(flag, i)
        )


@njit(**_OPTS)
def theta_serial(S, K, r, sig, T, q, flag, out):
    for i in range(out.size):
        out[i] = _k_theta(
            _get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i), _get(flag, i)
        )


@njit(parallel=True, **_OPTS)
def theta_parallel(S, K, r, sig, T, q, flag, out):
    for i in prange(out.size):
        out[i] = _k_theta(
            _get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i), _get(flag, i)
        )


@njit(**_OPTS)
def charm_serial(S, K, r, sig, T, q, flag, out):
    for i in range(out.size):
        out[i] = _k_charm(
            _get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i), _get(flag, i)
        )


@njit(parallel=True, **_OPTS)
def charm_parallel(S, K, r, sig, T, q, flag, out):
    for i in prange(out.size):
        out[i] = _k_charm(
            _get(S, i), _get(K, i), _get(r, i), _get(sig, i), _get(T, i), _get(q, i), _get(flag, i)
        )


#: name -> (serial loop, parallel loop, takes an is_call flag)
LOOPS = {
    "d1": (d1_serial, d1_parallel, False),
    "d2": (d2_serial, d2_parallel, False),
    "gamma": (gamma_serial, gamma_parallel, False),
    "vega": (vega_serial, vega_parallel, False),
    "vanna": (vanna_serial, vanna_parallel, False),
    "price": (price_serial, price_parallel, True),
    "delta": (delta_serial, delta_parallel, True),
    "theta": (theta_serial, theta_parallel, True),
    "charm": (charm_serial, charm_parallel, True),
}
