"""Fingerprint and timing of the compiled numerics: proves a refactor of the core kept results bit-identical.

Run on demand: ``uv run python bench/bench_core_split.py OUT.json`` on two versions of the code, then
``uv run python bench/bench_core_split.py --compare BEFORE.json AFTER.json``. Never run by pytest.

What it fingerprints (sha256 of the exact float64 bytes, or of polars' round-trip CSV of frames):
every real chain under ``../shared/data/chains/cboe_*`` analysed with every preset (totals, flip,
crossings, walls, counts, per-strike/expiry/profile frames, the profile's coefficient arrays), the
profile of the synthetic SPX-like chain of ``bench_flip.py`` (coefficients, ``G`` on a grid, crossings),
and the Black-Scholes greeks and implied vols on 200k random inputs. What it times (best of N, seconds):
``analyze`` per real file, ``GammaProfile.from_contracts``, ``find_crossings`` and one ``G(S)`` on the
synthetic chain, and the greeks/iv on 200k inputs.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import best_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAINS = ROOT.parent / "shared" / "data" / "chains"


def _h(*parts: object) -> str:
    """sha256 of float64 bytes (arrays, floats) and reprs (everything else)."""
    m = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            m.update(np.ascontiguousarray(p, dtype=np.float64).tobytes())
        elif isinstance(p, float):
            m.update(np.float64(p).tobytes())
        elif hasattr(p, "write_csv"):
            m.update(p.write_csv().encode())
        else:
            m.update(repr(p).encode())
    return m.hexdigest()[:16]


def fingerprint_real(out: dict, times: dict) -> None:
    from gex.analysis import analyze
    from gex.conventions import PRESETS
    from gex_sources import read_chain

    files = sorted(p for p in CHAINS.glob("cboe_*/*") if p.is_file())
    for path in files:
        snap = read_chain(path)
        for name, conv in PRESETS.items():
            a = analyze(snap, conv)
            p = a.gamma_profile
            key = f"{path.parent.name}/{path.name}:{name}"
            out[key] = _h(
                a.total_gex, a.call_gex, a.put_gex, a.dex_usd, a.vex_usd_per_volpt, a.cex_usd_per_day,
                a.gex_at_spot_model, a.gamma_flip, a.flip_crossings, a.flip_window, a.regime, a.levels,
                a.zero_dte_gamma_share, a.contracts.height, a.excluded_counts(), a.by_strike, a.by_expiry,
                a.by_dte, a.profile, p.a, p.b, p.c, p.k2, p.reference,
            )
        times[f"analyze:{path.name}"] = best_of(lambda snap=snap: analyze(snap), repeat=3)


def fingerprint_synthetic(out: dict, times: dict) -> None:
    from bench_flip import SPOT, make_chain

    from gex.flip import GammaProfile, find_crossings, solve_flip

    ch = make_chain()
    args = {k: ch[k] for k in ("strike", "sigma", "tenor_years", "weight", "rate", "dividend_yield")}
    prof = GammaProfile.from_contracts(**args, reference=SPOT)
    lo, hi = 0.8 * SPOT, 1.2 * SPOT
    grid = np.linspace(0.5 * SPOT, 1.5 * SPOT, 2001)
    g, d = prof.gex_and_slope(grid)
    out["synthetic:profile"] = _h(prof.a, prof.b, prof.c, prof.k2, prof.reference)
    out["synthetic:gex"] = _h(g, d)
    out["synthetic:crossings"] = _h(find_crossings(prof, lo, hi), find_crossings(prof, lo, hi, spot=SPOT))
    out["synthetic:solve_flip"] = _h(solve_flip(prof, SPOT, lo, hi))
    times["from_contracts"] = best_of(lambda: GammaProfile.from_contracts(**args, reference=SPOT), repeat=30)
    times["find_crossings"] = best_of(lambda: find_crossings(prof, lo, hi), repeat=20)
    times["solve_flip"] = best_of(lambda: solve_flip(prof, SPOT, lo, hi), repeat=20)
    times["gex_one"] = best_of(lambda: prof.gex(SPOT), repeat=100)


def fingerprint_greeks(out: dict, times: dict) -> None:
    from gex import greeks
    from gex.iv import implied_vol

    rng = np.random.default_rng(5)
    n = 200_000
    S = rng.uniform(50, 150, n)
    K = S * np.exp(rng.normal(0, 0.3, n))
    r = rng.uniform(0, 0.08, n)
    sig = rng.uniform(0.03, 1.5, n)
    T = np.exp(rng.uniform(np.log(1e-4), np.log(5.0), n))
    q = rng.uniform(0, 0.04, n)
    flag = rng.random(n) < 0.5
    for name in ("d1", "d2", "bs_gamma", "bs_vega", "bs_vanna"):
        fn = getattr(greeks, name)
        out[f"greeks:{name}"] = _h(fn(S, K, r, sig, T, q), fn(S[:999], K[:999], r[:999], sig[:999], T[:999], q[:999]))
        times[f"greeks:{name}"] = best_of(lambda fn=fn: fn(S, K, r, sig, T, q), repeat=5)
    for name in ("bs_price", "bs_delta", "bs_theta", "bs_charm"):
        fn = getattr(greeks, name)
        out[f"greeks:{name}"] = _h(fn(S, K, r, sig, T, flag, q), fn(S[:999], K[:999], r[:999], sig[:999], T[:999], flag[:999], q[:999]))
        times[f"greeks:{name}"] = best_of(lambda fn=fn: fn(S, K, r, sig, T, flag, q), repeat=5)
    price = greeks.bs_price(S, K, r, sig, T, flag, q)
    iv, why = implied_vol(price, S, K, r, T, flag, q, return_reason=True)
    out["iv"] = _h(iv, why.astype(np.float64))
    times["iv"] = best_of(lambda: implied_vol(price, S, K, r, T, flag, q), repeat=3)


def main() -> None:
    if sys.argv[1] == "--compare":
        a, b = (json.loads(Path(p).read_text()) for p in sys.argv[2:4])
        diff = [k for k in a["hash"] if a["hash"][k] != b["hash"].get(k)]
        print(f"{len(a['hash'])} fingerprints, {len(diff)} differ: {diff}")
        print("| timing | before | after | ratio |\n|---|---:|---:|---:|")
        for k in a["time"]:
            print(f"| {k} | {a['time'][k] * 1e3:.3f} ms | {b['time'][k] * 1e3:.3f} ms | {b['time'][k] / a['time'][k]:.2f} |")
        sys.exit(1 if diff else 0)
    out: dict = {}
    times: dict = {}
    fingerprint_greeks(out, times)
    fingerprint_synthetic(out, times)
    if CHAINS.is_dir():
        fingerprint_real(out, times)
    Path(sys.argv[1]).write_text(json.dumps({"hash": out, "time": times}, indent=1))
    print(f"{len(out)} fingerprints written to {sys.argv[1]}")


if __name__ == "__main__":
    main()
