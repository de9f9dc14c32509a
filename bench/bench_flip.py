"""Benchmark: gamma flip (nearest zero crossing of dealer GEX) on a synthetic SPX-like chain.

Run on demand: ``uv run python bench/bench_flip.py`` (writes the ``flip`` section of
docs/performance.md). Never run by pytest.

Compares ``gex.flip.nearest_flip`` / ``find_crossings`` with what popular scripts do: a Python loop
over 60 levels on 0.8-1.2 x spot computing every contract's gamma with ``scipy.stats.norm.pdf``, then
linear interpolation at the first sign change. Errors are measured against a high-precision root
(``scipy.optimize.brentq`` at xtol 1e-12 on an independent numpy/scipy evaluation of G, confirmed by
an mpmath evaluation of G on both sides of the root).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy import optimize, stats  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import best_of, machine_line, write_section  # noqa: E402

SPOT = 4700.0
RATE = 0.045
DIV = 0.013
PUT_TILT = 1.3  # puts carry more open interest than calls


def make_chain(seed: int = 20240607, spot: float = SPOT) -> dict[str, np.ndarray]:
    """A realistic synthetic SPX-like chain (~30k contracts), deterministic for a seed.

    Expiries from a few hours to 3 years (dailies for two weeks, weeklies, monthlies, quarterlies);
    strikes 50%-150% of spot, 5 points apart near the money and coarser further out (coarser for long
    expiries); a put skew; open interest heavier on puts, round strikes and monthlies; dealers long
    calls (+) and short puts (-). Returns arrays strike, sigma, tenor_years, weight, rate, dividend_yield,
    is_call.
    """
    rng = np.random.default_rng(seed)
    hours = [3.0, 6.5]
    days = [1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 16, 18, 21, 23, 25, 28, 35, 42, 49, 56, 63, 77, 91, 119, 154, 182]
    days += [245, 280, 364, 455, 546, 637, 728, 910, 1092]
    tenors = np.array([h / (24 * 365) for h in hours] + [d / 365 for d in days])
    monthly = np.array([False, False] + [d in (21, 49, 77, 119, 154, 182, 245, 364, 546, 728, 1092) for d in days])
    fine = np.arange(np.round(0.80 * spot / 5) * 5, 1.20 * spot + 1, 5.0)
    coarse = np.concatenate([np.arange(0.50 * spot, 0.80 * spot, 25.0), np.arange(1.20 * spot + 25, 1.50 * spot, 25.0)])
    coarse = np.round(coarse / 25) * 25
    K_all, sig_all, T_all, w_all, call_all = [], [], [], [], []
    for T, is_monthly in zip(tenors, monthly, strict=True):
        grid = np.unique(np.concatenate([fine, coarse]))
        if T > 0.5:  # long expiries list fewer strikes
            keep = (grid % 25 == 0) | (rng.random(grid.size) < 0.3)
            grid = grid[keep]
        atm = 0.13 + 0.05 * np.sqrt(T) + (0.03 if T < 2 / 365 else 0.0)
        std = atm * np.sqrt(T)
        m = np.log(grid / spot) / std  # moneyness in standard deviations
        sig = atm * (1.0 - 0.10 * np.clip(m, -8, 8) + 0.012 * np.clip(m, -8, 8) ** 2)
        sig = np.clip(sig * np.exp(rng.normal(0, 0.01, grid.size)), 0.05, 1.5)
        width = 0.03 + 0.25 * np.sqrt(T)  # open interest spreads wider for longer expiries
        lm = np.log(grid / spot)
        for is_call in (True, False):
            base = 900.0 * (2.5 if is_monthly else 1.0) * np.exp(-0.5 * (lm / width) ** 2)
            base *= np.where(grid % 100 == 0, 3.0, np.where(grid % 50 == 0, 1.8, np.where(grid % 25 == 0, 1.3, 1.0)))
            otm = (grid > spot) if is_call else (grid < spot)
            base *= np.where(otm, 1.0, 0.4)
            if not is_call:
                base *= PUT_TILT
            oi = np.floor(base * rng.lognormal(0.0, 0.8, grid.size))
            stale = rng.random(grid.size) < 0.15  # scattered stale open interest far from the money
            oi[stale] += rng.integers(1, 60, stale.sum())
            oi[rng.random(grid.size) < 0.05] = 0.0  # some strikes without open interest
            K_all.append(grid)
            # vendors quote calls and puts at slightly different volatilities (so no two contracts
            # share (strike, tenor, vol) and GammaProfile's merging of identical terms does not apply)
            sig_all.append(np.clip(sig * np.exp(rng.normal(0, 0.005, grid.size)), 0.05, 1.5))
            T_all.append(np.full(grid.size, T))
            w_all.append((1.0 if is_call else -1.0) * oi * 100.0)
            call_all.append(np.full(grid.size, is_call))
    K = np.concatenate(K_all)
    return {
        "strike": K,
        "sigma": np.concatenate(sig_all),
        "tenor_years": np.concatenate(T_all),
        "weight": np.concatenate(w_all),
        "rate": np.full(K.size, RATE),
        "dividend_yield": np.full(K.size, DIV),
        "is_call": np.concatenate(call_all),
    }


def gex_reference(ch: dict[str, np.ndarray], S: float) -> float:
    """Independent numpy/scipy G(S), $ per 1% move (straight from the definition)."""
    K, sig, T, w = ch["strike"], ch["sigma"], ch["tenor_years"], ch["weight"]
    r, q = ch["rate"], ch["dividend_yield"]
    sq = sig * np.sqrt(T)
    d1 = (np.log(S / K) + (r - q + 0.5 * sig * sig) * T) / sq
    gamma = np.exp(-q * T) * stats.norm.pdf(d1) / (S * sq)
    return float(np.sum(w * gamma) * S * S * 0.01)


def naive_grid_flip(ch: dict[str, np.ndarray], spot: float, levels: int = 60) -> float | None:
    """What popular scripts do: per-level Python loop with norm.pdf, first sign change, lerp."""
    from gex.flip import first_grid_crossing

    grid = np.linspace(0.8 * spot, 1.2 * spot, levels)
    K, sig, T, w = ch["strike"], ch["sigma"], ch["tenor_years"], ch["weight"]
    r, q = ch["rate"], ch["dividend_yield"]
    vals = []
    for S in grid:
        d1 = (np.log(S / K) + (r - q + 0.5 * sig**2) * T) / (sig * np.sqrt(T))
        gamma = np.exp(-q * T) * stats.norm.pdf(d1) / (S * sig * np.sqrt(T))
        vals.append(np.sum(w * gamma * S * S * 0.01))
    return first_grid_crossing(grid, np.array(vals))


def mp_gex(ch: dict[str, np.ndarray], S: float, dps: int = 40) -> float:
    import mpmath as mp

    with mp.workdps(dps):
        Sm = mp.mpf(S)
        tot = mp.mpf(0)
        for K, sig, T, w, r, q in zip(
            ch["strike"], ch["sigma"], ch["tenor_years"], ch["weight"], ch["rate"], ch["dividend_yield"], strict=True
        ):
            if w == 0:
                continue
            sq = mp.mpf(sig) * mp.sqrt(mp.mpf(T))
            d1 = (mp.log(Sm / mp.mpf(K)) + (mp.mpf(r) - mp.mpf(q) + mp.mpf(sig) ** 2 / 2) * mp.mpf(T)) / sq
            tot += mp.mpf(w) * mp.exp(-mp.mpf(q) * mp.mpf(T)) * mp.npdf(d1) / (Sm * sq)
        return float(tot * Sm * Sm / 100)


def cold_start_seconds() -> tuple[float, float]:
    """(import + first nearest_flip) in a fresh interpreter: with the numba cache, and without it."""
    code = (
        "import time; t=time.perf_counter(); import numpy as np; from gex.flip import GammaProfile, nearest_flip;"
        "p=GammaProfile.from_contracts([90.,110.],0.2,0.25,[-1.,1.]); nearest_flip(p,100.,50.,200.);"
        "print(time.perf_counter()-t)"
    )
    env = dict(os.environ)
    warm = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:  # empty numba cache: everything compiles
        env["NUMBA_CACHE_DIR"] = tmp
        cold = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout)
    return warm, cold


def _cells_used(prof, spot: float, lo: float, hi: float) -> int:
    """Cells (one G evaluation each, plus ~2 per crossing for the refinement) the scan anchored at the
    spot processed over the whole window (what nearest_flip and solve_flip run)."""
    import math

    import numpy as np

    from gex.flip import crossings as C
    from gex.flip._scan import _MAX_ROOTS, _scan_serial

    w = C._prepare(prof, lo, hi, 1e-6)
    xs = math.log(spot / prof.reference)
    edges = np.array([w.xlo, xs, w.xhi])
    dirs = np.array([-1.0, 1.0])
    roots = np.empty((2, _MAX_ROOTS))
    nroots = np.zeros((2, 1), dtype=np.int64)
    link = np.zeros((2, 6))
    _scan_serial(w.a, w.b, w.c, w.k2, w.tails, edges, dirs, w.h0, C._HTRIAL, w.hmin, w.xtol_x, w.fzero, roots, nroots, link)
    return int(link[:, 5].sum())


def main() -> None:
    from gex.flip import GammaProfile, find_crossings, nearest_flip

    ch = make_chain()
    spot = SPOT
    lo, hi = 0.8 * spot, 1.2 * spot
    args = {k: ch[k] for k in ("strike", "sigma", "tenor_years", "weight", "rate", "dividend_yield")}

    def build() -> GammaProfile:
        return GammaProfile.from_contracts(**args, reference=spot)

    prof = build()
    nearest_flip(prof, spot, lo, hi)  # compile / load cache
    find_crossings(prof, lo, hi)

    flip = nearest_flip(prof, spot, lo, hi)
    crossings = find_crossings(prof, lo, hi)
    assert flip is not None, "synthetic chain must have a flip near spot"

    # timings first, in a process that has done little else
    t_naive = best_of(lambda: naive_grid_flip(ch, spot), repeat=7)
    t_build = best_of(build, repeat=30)
    t_near_warm = best_of(lambda: nearest_flip(prof, spot, lo, hi), repeat=100)
    t_near_full = best_of(lambda: nearest_flip(build(), spot, lo, hi), repeat=50)
    t_find = best_of(lambda: find_crossings(prof, lo, hi), repeat=20)
    t_gex1 = best_of(lambda: prof.gex(spot), repeat=100)
    cells = _cells_used(prof, spot, lo, hi)

    # a harder case: heavier puts push the flip ~10% away, so both sides must be certified that far
    global PUT_TILT
    tilt, PUT_TILT = PUT_TILT, 2.0
    far = make_chain()
    PUT_TILT = tilt
    prof_far = GammaProfile.from_contracts(
        **{k: far[k] for k in ("strike", "sigma", "tenor_years", "weight", "rate", "dividend_yield")}, reference=spot
    )
    flip_far = nearest_flip(prof_far, spot, lo, hi)
    t_near_far = best_of(lambda: nearest_flip(prof_far, spot, lo, hi), repeat=50)
    t_naive_far = best_of(lambda: naive_grid_flip(far, spot), repeat=5)

    # high-precision reference root of the same crossing
    def f(S: float) -> float:
        return gex_reference(ch, S)

    br_lo, br_hi = flip - 1.0, flip + 1.0
    while f(br_lo) * f(br_hi) > 0:
        br_lo, br_hi = br_lo - 1.0, br_hi + 1.0
    ref_root = optimize.brentq(f, br_lo, br_hi, xtol=1e-12, rtol=4 * np.finfo(float).eps, maxiter=200)
    mp_lo, mp_hi = mp_gex(ch, ref_root - 1e-6), mp_gex(ch, ref_root + 1e-6)
    mp_ok = mp_lo * mp_hi < 0
    err_flip = abs(flip - ref_root)

    grid_flip = naive_grid_flip(ch, spot)
    # the grid's error against the nearest high-precision root of the crossing it interpolated
    ref_all = []
    for x in crossings:
        a_, b_ = x - 0.5, x + 0.5
        ref_all.append(optimize.brentq(f, a_, b_, xtol=1e-12) if f(a_) * f(b_) < 0 else x)
    ref_all = np.array(ref_all)
    err_grid = float(np.min(np.abs(ref_all - grid_flip))) if grid_flip is not None else float("nan")
    err_cross = float(np.max(np.abs(ref_all - crossings))) if crossings.size else float("nan")

    warm, cold = cold_start_seconds()

    n_in = int(ch["strike"].size)
    n_kept = prof.n_contracts
    md = f"""## Gamma flip (`gex.flip`)

{machine_line()}. Synthetic SPX-like chain (`bench/bench_flip.py`, seed 20240607): {n_in:,} contracts
({n_kept:,} with non-zero open interest), {np.unique(ch["tenor_years"]).size} expiries from 3 hours to 3 years,
strikes 50%-150% of spot {spot:.0f}, put skew, dealers long calls / short puts. Window 0.8-1.2 x spot.
Crossings found: {", ".join(f"{x:.4f}" for x in crossings)}; flip (nearest to spot) {flip:.6f}.

| what | best time | vs 60-level loop | error vs brentq(xtol=1e-12) |
|---|---:|---:|---:|
| 60-level Python loop, `norm.pdf`, lerp at first sign change (baseline) | {t_naive * 1e3:.1f} ms | 1x | ${err_grid:.4f} |
| `nearest_flip`, profile prebuilt | {t_near_warm * 1e3:.3f} ms | {t_naive / t_near_warm:.0f}x | ${err_flip:.1e} |
| `nearest_flip` incl. `GammaProfile.from_contracts` | {t_near_full * 1e3:.3f} ms | {t_naive / t_near_full:.0f}x | same |
| `nearest_flip`, same generator with puts x2.0 (flip at {flip_far:.1f}, {100 * (flip_far / spot - 1):+.1f}%) | {t_near_far * 1e3:.3f} ms | {t_naive_far / t_near_far:.0f}x | |
| `find_crossings` (every crossing, 0.8-1.2 x spot) | {t_find * 1e3:.2f} ms | {t_naive / t_find:.0f}x | max ${err_cross:.1e} |
| `GammaProfile.from_contracts` alone | {t_build * 1e3:.3f} ms | | |
| one `G(S)` evaluation (`profile.gex(spot)`) | {t_gex1 * 1e6:.0f} us | | |

- Targets: nearest flip <= 2 ms and >= 30x the 60-level loop, error <= $0.01. `nearest_flip` (the
  nearest element of the certified scan of the whole window, anchored at the spot) processed {cells}
  cells (~{cells + 3} evaluations of G over {prof.n_contracts:,} terms, ~30 us each).
- Best-of-N wall times; the machine is shared, so repeated runs vary by up to ~2x (the baseline
  has been measured between 37 and 90 ms here); ratios are from the same run.
- The reference root is confirmed by mpmath (40 digits): G(root -/+ 1e-6) = {mp_lo:.3e} / {mp_hi:.3e}
  ({"sign change" if mp_ok else "NO sign change"}).
- Cold start (fresh interpreter: import + first `nearest_flip`): {warm:.2f} s with the numba on-disk
  cache warm, {cold:.1f} s when everything is compiled (first run on a machine / after a code change).
"""
    print(md)
    write_section("flip", md)


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"bench done in {time.perf_counter() - t0:.1f} s")
