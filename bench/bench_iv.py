"""Benchmark: gex.iv.implied_vol against a scipy.optimize.brentq loop and py_vollib_vectorized.

Run on demand: ``uv run python bench/bench_iv.py`` (never from pytest). Writes the ``iv`` section of
docs/performance.md.

Test set: 1e6 random *well-posed* European options -- sigma in [0.01, 5], T log-uniform from one day
to five years, K/S log-uniform in [0.3, 3], r in [0, 0.1], q in [0, 0.05], calls and puts -- priced with
gex.greeks.bs_price and kept only if one ulp of the price (and of the intrinsic value) moves sigma by
less than 1e-11. Reported: throughput, speed-up and the max |sigma - true sigma|.

Baselines:
- brentq: ``scipy.optimize.brentq`` (default tolerances) on [1e-4, 10] per option, with a scalar
  closed-form Black-Scholes-Merton price (``math.erfc``); timed on a 2e4 subsample and scaled;
- py_vollib_vectorized (Jaeckel's "Let's be rational" in numba), if it imports. It is deliberately
  not a project dependency; install it into the environment by hand to include it
  (``uv pip install py_vollib_vectorized "py_lets_be_rational==1.0.1"``: its 0.1.1 release only works
  with that older, numba-jittable py_lets_be_rational).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import best_of, machine_line, write_section  # noqa: E402

from gex.greeks import bs_price, bs_vega  # noqa: E402
from gex.iv import implied_vol  # noqa: E402

EPS = 2.220446049250313e-16
N = 1_000_000
N_BRENTQ = 20_000


def well_posed_options(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    parts = []
    have = 0
    while have < n:
        m = 2 * n
        S = np.exp(rng.uniform(np.log(5.0), np.log(5000.0), m))
        K = S * np.exp(rng.uniform(np.log(0.3), np.log(3.0), m))
        sig = rng.uniform(0.01, 5.0, m)
        T = np.exp(rng.uniform(np.log(1 / 365), np.log(5.0), m))
        r = rng.uniform(0.0, 0.1, m)
        q = rng.uniform(0.0, 0.05, m)
        call = rng.random(m) < 0.5
        P = bs_price(S, K, r, sig, T, call, q)
        vega = bs_vega(S, K, r, sig, T, q)
        fwd = S * np.exp(-q * T) - K * np.exp(-r * T)
        intrinsic = np.maximum(np.where(call, fwd, -fwd), 0.0)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            ok = (P > 0) & (np.maximum(np.spacing(P), EPS * (P + intrinsic)) / vega < 1e-11)
        parts.append(np.stack([P, S, K, r, T, call, q, sig])[:, ok])
        have += int(ok.sum())
    data = np.concatenate(parts, axis=1)[:, :n]
    P, S, K, r, T, call, q, sig = data
    return dict(P=P, S=S, K=K, r=r, T=T, call=call.astype(bool), q=q, sig=sig)


_SQ2 = math.sqrt(2.0)


def _price_scalar(S, K, r, sig, T, q, call):
    s = sig * math.sqrt(T)
    d1 = (math.log(S / K) + (r - q + 0.5 * sig * sig) * T) / s
    d2 = d1 - s
    sdq, kdr = S * math.exp(-q * T), K * math.exp(-r * T)
    if call:
        return sdq * 0.5 * math.erfc(-d1 / _SQ2) - kdr * 0.5 * math.erfc(-d2 / _SQ2)
    return kdr * 0.5 * math.erfc(d2 / _SQ2) - sdq * 0.5 * math.erfc(d1 / _SQ2)


def brentq_loop(d, idx):
    out = np.empty(idx.size)
    for j, i in enumerate(idx):
        P, S, K, r, T, q, c = (float(d[k][i]) for k in ("P", "S", "K", "r", "T", "q", "call"))
        try:
            out[j] = brentq(lambda v: _price_scalar(S, K, r, v, T, q, c) - P, 1e-4, 10.0)
        except (ValueError, RuntimeError, OverflowError, ZeroDivisionError):
            out[j] = math.nan
    return out


_LATENCY_SCRIPT = r"""
import json, time
t0 = time.perf_counter()
import numpy as np
from gex.iv import implied_vol
t1 = time.perf_counter()
K = np.linspace(80.0, 120.0, 1000)
implied_vol(np.full(K.size, 5.0), 100.0, K, 0.03, 0.5, True, 0.01)
t2 = time.perf_counter()
K = np.linspace(80.0, 120.0, 100_000)
implied_vol(np.full(K.size, 5.0), 100.0, K, 0.03, 0.5, True, 0.01)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_small": t2 - t1, "first_large": t3 - t2}))
"""


def latency() -> dict[str, dict[str, float]]:
    """Fresh-process import and first-call times with an empty (cold) and a filled (warm) numba cache."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold", "warm"):
            res = subprocess.run(
                [sys.executable, "-c", _LATENCY_SCRIPT], env=env, capture_output=True, text=True, check=True
            )
            out[label] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    import numba

    t0 = time.perf_counter()
    d = well_posed_options(N)
    print(f"generated {N} well-posed options in {time.perf_counter() - t0:.1f} s", flush=True)
    args = (d["P"], d["S"], d["K"], d["r"], d["T"], d["call"], d["q"])
    n_threads = numba.get_num_threads()

    implied_vol(*(a[:5000] for a in args))  # compile / load from cache
    iv = implied_vol(*args)
    err_gex = float(np.nanmax(np.abs(iv - d["sig"])))
    nan_gex = int(np.isnan(iv).sum())
    t_gex = best_of(lambda: implied_vol(*args), repeat=5)
    numba.set_num_threads(1)
    try:
        t_gex_1 = best_of(lambda: implied_vol(*args), repeat=3)
    finally:
        numba.set_num_threads(n_threads)
    print(f"gex: {N / t_gex / 1e6:.2f} M/s ({n_threads} threads), {N / t_gex_1 / 1e6:.2f} M/s (1 thread), "
          f"max err {err_gex:.1e}, NaN {nan_gex}", flush=True)

    idx = np.random.default_rng(5).choice(N, N_BRENTQ, replace=False)
    t = time.perf_counter()
    iv_bq = brentq_loop(d, idx)
    t_bq = (time.perf_counter() - t) / N_BRENTQ * N
    ok_bq = np.isfinite(iv_bq)
    err_bq = float(np.max(np.abs(iv_bq[ok_bq] - d["sig"][idx][ok_bq])))
    bad_bq = int((~ok_bq).sum() + (np.abs(iv_bq[ok_bq] - d["sig"][idx][ok_bq]) > 1e-10).sum())
    print(f"brentq: {N / t_bq / 1e3:.1f} k/s, max err {err_bq:.1e}, failed or > 1e-10: {bad_bq}", flush=True)

    rows = [
        (
            f"gex `implied_vol` ({n_threads} threads)",
            f"{N / t_gex / 1e6:.2f} M/s",
            f"{t_bq / t_gex:.0f}x",
            f"{err_gex:.1e}",
            f"{nan_gex}",
        ),
        ("gex `implied_vol` (1 thread)", f"{N / t_gex_1 / 1e6:.2f} M/s", f"{t_bq / t_gex_1:.0f}x", "", ""),
        (
            f"brentq loop (timed on {N_BRENTQ:.0e}, scaled)",
            f"{N / t_bq / 1e3:.1f} k/s",
            "1x",
            f"{err_bq:.1e}",
            f"{bad_bq} of {N_BRENTQ} failed or off by > 1e-10",
        ),
    ]

    pvv_note = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import py_vollib_vectorized as pvv

            flag = np.where(d["call"], "c", "p")

            def run_pvv(sl=slice(None)):
                return pvv.vectorized_implied_volatility(
                    d["P"][sl], d["S"][sl], d["K"][sl], d["T"][sl], d["r"][sl], flag[sl], q=d["q"][sl],
                    model="black_scholes_merton", return_as="numpy", on_error="ignore",
                )

            run_pvv(slice(0, 5000))  # JIT warm-up
            iv_pvv = np.asarray(run_pvv(), dtype=float)
            t_pvv = best_of(run_pvv, repeat=3)
        err_pvv = float(np.nanmax(np.abs(iv_pvv - d["sig"])))
        nan_pvv = int(np.isnan(iv_pvv).sum())
        over_pvv = int((np.abs(iv_pvv - d["sig"]) > 1e-10).sum())
        rows.append(
            (
                "py_vollib_vectorized 0.1.1 (LBR, numba)",
                f"{N / t_pvv / 1e6:.2f} M/s",
                f"{t_bq / t_pvv:.0f}x",
                f"{err_pvv:.1e}",
                f"{nan_pvv} NaN; {over_pvv} off by > 1e-10",
            )
        )
        pvv_note = f"gex / py_vollib_vectorized throughput ratio: {t_pvv / t_gex:.1f}x."
        print(f"py_vollib_vectorized: {N / t_pvv / 1e6:.2f} M/s, max err {err_pvv:.1e}", flush=True)
    except Exception as exc:  # noqa: BLE001 - report whatever went wrong, the benchmark goes on
        pvv_note = (
            f"py_vollib_vectorized not measured: `{type(exc).__name__}: {str(exc).splitlines()[0][:160]}` "
            '(install it by hand: `uv pip install py_vollib_vectorized "py_lets_be_rational==1.0.1"`).'
        )
        print(pvv_note, flush=True)

    lines = [
        "## Implied volatility (`gex.iv`)",
        "",
        f"Machine: {machine_line()}; numba {numba.__version__}.",
        "",
        f"{N:.0e} random well-posed options (sigma in [0.01, 5], T from 1 day to 5 years, K/S in [0.3, 3], "
        "r in [0, 0.1], q in [0, 0.05], calls and puts; kept if one ulp of the price moves sigma by "
        "< 1e-11). Best of 5 (gex) / 3 (py_vollib_vectorized); brentq per option with default tolerances "
        "on [1e-4, 10] and a scalar `math.erfc` price.",
        "",
        "| method | throughput | vs brentq | max abs error in sigma | failures |",
        "|---|---:|---:|---:|---|",
        *(f"| {' | '.join(r)} |" for r in rows),
        "",
        pvv_note,
    ]
    lat = latency()
    lines += [
        "",
        "Latency in a fresh process (numpy + gex import; first call compiles or loads the kernel; cold = "
        "empty `NUMBA_CACHE_DIR`):",
        "",
        "| cache | import | first implied_vol, 1e3 (serial kernel) "
        "| first implied_vol, 1e5 (parallel kernel) |",
        "|---|---:|---:|---:|",
    ]
    for label in ("cold", "warm"):
        dl = lat[label]
        lines.append(
            f"| {label} | {dl['import']:.2f} s | {dl['first_small']:.2f} s | {dl['first_large']:.2f} s |"
        )
        print(lines[-1], flush=True)
    write_section("iv", "\n".join(lines))
    print("wrote iv section of docs/performance.md")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"done in {time.perf_counter() - t0:.0f} s")
