"""Vectorisable exp, log and normal density/cdf shared by every compiled kernel of the core (private).

Why it exists: numba lowers ``math.exp`` / ``math.log`` to scalar libm calls, and one libm call in a
loop stops LLVM from vectorising it. The polynomial versions here are plain arithmetic, accurate to
~1 ulp, so the loops of :mod:`gex._bs_kernels` (greeks) and of :mod:`gex.flip` (the GEX profile) run
as AVX2/AVX-512 loops: ~9x faster than libm on the reference machine.

Everything takes and returns float64 scalars (dimensionless); call them from ``@njit`` code (they also
run, slowly, from Python, which the tests use). Pieces:

- :func:`f64_as_i64`, :func:`i64_as_f64`: bit reinterpretation (exponent arithmetic without libm);
- :func:`exp_poly`: ``exp(r)`` for ``|r| <= ln(2)/2``, degree-13 Taylor polynomial (error < 5e-18);
- :func:`exp`: ``exp(x)`` on the whole float64 range (subnormal results to 1 unit of 2**-1074, NaN kept),
  for the greeks, which must stay accurate down to the underflow threshold;
- :func:`exp_flush`: ``exp(v)`` for ``v < 709``, 0 below -708. For sums of Gaussian terms (the GEX
  profile), where a term below ``exp(-708)`` is negligible and the profile's error bounds account for
  it: one scale multiply and no subnormal arithmetic (x86 takes a ~100-cycle microcode assist per
  subnormal operation, so far-away contracts would otherwise cost 100x more than near ones);
- :func:`log_ratio`: ``ln(a / b)`` with full relative accuracy at ``a ~ b`` (``d1`` at the money);
- :func:`log_pos`: ``ln(v)`` for positive normal ``v`` (fdlibm's reduction and coefficients);
- :func:`npdf`, :func:`ncdf`: standard normal density (via :func:`exp`) and cdf (erfc, relative accuracy
  in the lower tail).

The two exps and two logs differ in range handling and rounding of the reduction, so each kernel keeps
the one it was verified with: results of the compiled core are bit-for-bit those of the fingerprints in
``bench/bench_core_split.py``. Accuracy of each is tested against numpy in ``tests/core/test_fastmath.py``.

numba flags: :data:`FM_ELEMENTWISE` for element-wise math (contraction into fma, reciprocal
approximations and signed-zero freedom do not move results beyond rounding), :data:`FM_SUM` adds
``reassoc`` for reductions so that sums vectorise (it only changes the summation order; the flip
kernels' error bounds hold for any order). The exp/log helpers themselves never get ``reassoc``
(Cody-Waite reduction and the round-to-nearest trick must not be re-associated); LLVM inlines them
keeping their own per-instruction flags. ``nnan``/``ninf`` are never used.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from gex import _numba_cache  # noqa: F401  (registers the shared cache stamp before any @njit below)

FM_ELEMENTWISE = {"contract", "arcp", "nsz"}
FM_SUM = {"contract", "arcp", "nsz", "reassoc"}
# ``error_model="numpy"``: float division by zero gives inf/nan instead of raising, which is what we
# want and is also what allows LLVM to vectorise loops containing divisions.
# ``fastmath={"contract"}`` only allows fused multiply-add, which never loses accuracy.
OPTS = dict(cache=True, error_model="numpy", fastmath={"contract"})
INLINE = dict(OPTS, inline="always")

EPS = 2.220446049250313e-16  # float64 machine epsilon (2**-52)
DBL_MIN = 2.2250738585072014e-308  # smallest normal float64
SQRT2 = math.sqrt(2.0)
INV_SQRT2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

# ln 2 split so that k * LN2_HI is exact for |k| < 2**11 (Cody-Waite reduction)
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.4426950408889634
SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # bit pattern of sqrt(0.5)
ROUND = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer held in the low bits

# fdlibm e_log.c minimax coefficients (log_pos)
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


@intrinsic
def i64_as_f64(typingctx, x):  # pragma: no cover - compiled
    """The float64 whose bits are the int64 ``x``."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@intrinsic
def f64_as_i64(typingctx, x):  # pragma: no cover - compiled
    """The int64 whose bits are the float64 ``x``."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@njit(**INLINE)
def exp_poly(r):
    """exp(r) for |r| <= ln(2)/2 + rounding: Taylor polynomial of degree 13 (truncation < 5e-18)."""
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    return p * r + 1.0


@njit(**INLINE)
def exp(x):
    """exp(x) to ~1 ulp (subnormal results to 1 unit of 2**-1074); branch-free so loops vectorise."""
    xc = min(max(x, -1400.0), 1400.0)
    k = math.floor(xc * INV_LN2 + 0.5)
    r = (xc - k * LN2_HI) - k * LN2_LO  # |r| <= ln(2)/2
    p = exp_poly(r)
    ki = np.int64(k)
    k1 = ki >> 1  # 2**k = 2**k1 * 2**k2 keeps both factors normal for |k| <= 2044
    k2 = ki - k1
    res = p * i64_as_f64((k1 + 1023) << 52) * i64_as_f64((k2 + 1023) << 52)
    return res if x == x else x


@njit(cache=True, error_model="numpy", fastmath=FM_ELEMENTWISE)
def exp_flush(v):  # pragma: no cover - compiled
    """exp(v) for v < 709 (max error 1 ulp), vectorisable; 0 below -708 (true value < 3.4e-308)."""
    ok = v > -708.0
    v = max(v, -708.0)
    t = v * INV_LN2 + ROUND
    k = t - ROUND
    r = (v - k * LN2_HI) - k * LN2_LO
    p = exp_poly(r)
    scale = i64_as_f64((f64_as_i64(t) + 1023) << 52)
    return p * scale if ok else 0.0


@njit(**INLINE)
def log_ratio(a, b):
    """ln(a / b) for positive finite a, b, to ~1 ulp; relative accuracy also for a ~ b.

    Near a == b the argument is formed as (a - b)/(a + b), where a - b is exact (Sterbenz), instead
    of from the rounded quotient a/b, so ln(a/b) keeps full *relative* accuracy at the money.
    """
    q = a / b
    tiny = q < DBL_MIN
    qs = q * 18014398509481984.0 if tiny else q  # scale subnormal quotients by 2**54
    bits = f64_as_i64(qs)
    t = bits - np.int64(SQRT_HALF_BITS)
    e = t >> 52  # qs = m * 2**e with m in [sqrt(1/2), sqrt(2))
    m = i64_as_f64(bits - (e << 52))
    s = (a - b) / (a + b) if e == 0 else (m - 1.0) / (m + 1.0)
    z = s * s  # |s| <= 0.1716: ln(m) = 2 atanh(s) = 2 (s + s^3/3 + ...), 11 terms < 1e-17
    p = 1.0 / 23.0
    p = p * z + 1.0 / 21.0
    p = p * z + 1.0 / 19.0
    p = p * z + 1.0 / 17.0
    p = p * z + 1.0 / 15.0
    p = p * z + 1.0 / 13.0
    p = p * z + 1.0 / 11.0
    p = p * z + 1.0 / 9.0
    p = p * z + 1.0 / 7.0
    p = p * z + 1.0 / 5.0
    p = p * z + 1.0 / 3.0
    ef = np.float64(e) - (54.0 if tiny else 0.0)
    res = ef * LN2_HI + (2.0 * s + (2.0 * s * z * p + ef * LN2_LO))
    res = -math.inf if q == 0.0 else res
    return math.inf if q == math.inf else res


@njit(cache=True, error_model="numpy", fastmath=FM_ELEMENTWISE)
def log_pos(v):  # pragma: no cover - compiled
    """ln(v) for positive normal finite v (max error < 1 ulp, fdlibm's reduction); vectorisable."""
    bits = f64_as_i64(v)
    e = (bits >> 52) - 1023
    m = i64_as_f64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # mantissa in [1, 2)
    big = m > SQRT2
    m = m * 0.5 if big else m
    e = e + 1 if big else e
    f = m - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    k = float(e)
    return k * LN2_HI - ((hfsq - (s * (hfsq + t2 + t1) + k * LN2_LO)) - f)


@njit(**INLINE)
def npdf(x):
    """Standard normal density."""
    return INV_SQRT_2PI * exp(-0.5 * x * x)


@njit(**OPTS)
def ncdf(x):
    """Standard normal cdf via erfc: relative accuracy ~1 ulp of erfc in the lower tail."""
    return 0.5 * math.erfc(-x * INV_SQRT2)
