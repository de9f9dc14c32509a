"""Benchmark and reference reproduction of the hedging simulator (``gex.hedging``).

Run on demand: ``uv run python bench/bench_hedging.py`` (never from pytest; ~3-5 minutes on 2 cores).
Writes the ``hedging`` section of docs/performance.md.

Measures, on the reference workload of docs/hedging-advisor.md (2,000 GBM paths x 11,700 one-minute
steps = 30 days of 390 minutes, 4 ATM calls, S = K = 100, T = 30/365, sigma_r = sigma_i = 0.20, 5 bp):

- wall time of ``simulate`` with 10 rules (best of 3), against two baselines measured in the same run:
  the per-step numpy engine (``engine="python"``: every rule's ``rebalance`` called once per step, greeks
  shared) on the first 1,170 steps, extrapolated x10; and a naive per-path, per-rule pure-Python loop
  (scalar Black-Scholes with ``math.erf``, greeks recomputed for every rule) on 4 paths, extrapolated;
- the certainty equivalents of the doc's reference table (proportional cost; $1 fee) and the regime
  scenarios, beside the doc's numbers, with bootstrap standard errors.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import best_of, machine_line, write_section  # noqa: E402

from gex.hedging import (  # noqa: E402
    Clock,
    Costs,
    FeeBand,
    FixedBand,
    NotionalThreshold,
    OptionLeg,
    Paths,
    Position,
    WhalleyWilmott,
    ce_exponential,
    gbm_paths,
    pinning_paths,
    regime_paths,
    simulate,
    theory,
)

N_PATHS, N_DAYS, SPD = 2000, 30, 390
RA = 0.01
LAM = 0.0005
SEED = 20261121
ATM4 = Position([OptionLeg(strike=100.0, expiry_years=30 / 365, right="C", quantity=4)])
CLOCKS = (30, 60, 90, 130, 195, 260, 390)  # minutes; theory's optimum at inception is ~1/3 day = 145 min


def proportional_rules():
    return [Clock(k) for k in CLOCKS] + [FixedBand(20.0), NotionalThreshold(500.0), WhalleyWilmott(LAM, RA)]


def fee_rules():
    return [Clock(k) for k in (60, 90, 130, 195, 260, 390, 520)] + [
        FeeBand(1.0, RA, LAM),
        WhalleyWilmott(LAM, RA),
        FixedBand(30.0, "reset"),
    ]


def ce_se(x: np.ndarray, n_boot: int = 200, seed: int = 0) -> float:
    """Bootstrap standard error of the exponential CE."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    return float(np.std([ce_exponential(x[i], RA) for i in idx], ddof=1))


# ------------------------------------------------------------------------ naive per-path baseline


def _ncdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def naive_one_path(spot: np.ndarray, dt: float, rule: str) -> float:
    """Pure-Python P&L of one path for one rule (4 ATM calls, 5 bp, r = 0): the textbook loop."""
    k_exp = round((30 / 365) / dt)
    sig, strike, n_sh = 0.2, 100.0, 400.0

    def greeks(s: float, tau: float) -> tuple[float, float]:
        sq = sig * math.sqrt(tau)
        d1 = (math.log(s / strike) + 0.5 * sig * sig * tau) / sq
        return n_sh * _ncdf(d1), n_sh * math.exp(-0.5 * d1 * d1) / (math.sqrt(2 * math.pi) * s * sq)

    delta, _ = greeks(spot[0], 30 / 365)
    h, pnl, cost = -delta, 0.0, 0.0
    for k in range(k_exp):
        s = spot[k]
        if k > 0:
            delta, gamma = greeks(s, 30 / 365 - k * dt)
            tg = -delta
            if rule == "clock":
                new = tg if k % 130 == 0 else h
            else:  # Whalley-Wilmott
                w = (1.5 / RA * LAM * s * gamma * gamma) ** (1 / 3)
                new = min(max(h, tg - w), tg + w)
            cost += LAM * s * abs(new - h)
            h = new
        pnl += h * (spot[k + 1] - s)
    payoff = n_sh * max(spot[k_exp] - strike, 0.0)
    sq = sig * math.sqrt(30 / 365)
    d1 = (math.log(spot[0] / strike) + 0.5 * sig * sig * 30 / 365) / sq
    premium = n_sh * (spot[0] * _ncdf(d1) - strike * _ncdf(d1 - sq))
    return payoff - premium + pnl - cost


def main() -> None:
    import numba

    t_start = time.perf_counter()
    # compile / load every kernel once on a small problem
    small = gbm_paths(50, 2, steps_per_day=SPD, seed=1)
    simulate(small, ATM4, proportional_rules() + [fee_rules()[-3]], Costs(proportional_bps=5), hedge_vol=0.2)

    t0 = time.perf_counter()
    paths = gbm_paths(N_PATHS, N_DAYS, steps_per_day=SPD, sigma=0.2, seed=SEED)
    t_paths = time.perf_counter() - t0
    costs = Costs(proportional_bps=5)
    rules = proportional_rules()
    assert len(rules) == 10
    res = {}

    def run():
        res["prop"] = simulate(paths, ATM4, rules, costs, hedge_vol=0.2, risk_aversion=RA)

    t_fast = best_of(run, repeat=3)
    print(f"simulate 2000 x 11700 x 10 rules: {t_fast:.1f} s (paths {t_paths:.1f} s)", flush=True)

    # baseline 1: per-step numpy engine on the first 1,170 steps (the horizon is cut by the paths), x10
    head = Paths(paths.spot[: 1171], paths.dt_years, SPD)
    t_py = best_of(lambda: simulate(head, ATM4, rules, costs, hedge_vol=0.2, engine="python"), repeat=1)
    t_py_full = t_py * paths.n_steps / head.n_steps
    print(f"per-step numpy engine (extrapolated): {t_py_full:.0f} s", flush=True)

    # baseline 2: naive per-path pure Python, 4 paths x {clock, WW}, extrapolated to 2000 paths x 10 rules
    cols = [np.ascontiguousarray(paths.spot[:, j]) for j in range(4)]
    t0 = time.perf_counter()
    naive = {r: [naive_one_path(c, paths.dt_years, r) for c in cols] for r in ("clock", "WW")}
    t_naive = (time.perf_counter() - t0) / 8 * N_PATHS * 10
    check = max(
        max(abs(a - b) for a, b in zip(naive["clock"], res["prop"]["clock 130"].total[:4])),
        max(abs(a - b) for a, b in zip(naive["WW"], res["prop"][f"WW ra={RA:g}"].total[:4])),
    )
    print(f"naive per-path loop (extrapolated): {t_naive:.0f} s; max |P&L diff| on 4 paths {check:.1e}", flush=True)

    # reference table, proportional cost
    s_prop = res["prop"].summary()
    ce = dict(zip(s_prop["strategy"], s_prop["ce_exp"]))
    best_clock = max((f"clock {k}" for k in CLOCKS), key=lambda n: ce[n])
    # $1 fee
    costs_fee = Costs(proportional_bps=5, fee_per_order=1.0)
    r_fee = simulate(paths, ATM4, fee_rules(), costs_fee, hedge_vol=0.2, risk_aversion=RA)
    s_fee = r_fee.summary()
    ce_f = dict(zip(s_fee["strategy"], s_fee["ce_exp"]))
    clock_names_f = [n for n in ce_f if n.startswith("clock")]
    best_clock_f = max(clock_names_f, key=lambda n: ce_f[n])
    del paths, head

    # regimes: AR(1) trend (phi = 0.3) and level pinning (m = 2, memory 120 min)
    reg_rules = [Clock(1), FixedBand(80.0), WhalleyWilmott(LAM, RA), WhalleyWilmott(LAM, 0.2)]
    trend = simulate(regime_paths(N_PATHS, N_DAYS, phi=0.3, seed=SEED + 1), ATM4, reg_rules, costs, hedge_vol=0.2)
    pin_paths = pinning_paths(N_PATHS, N_DAYS, short_var_multiple=2.0, memory_steps=120, seed=SEED + 2)
    pin = simulate(pin_paths, ATM4, reg_rules, costs, hedge_vol=0.2)
    del pin_paths
    s_trend, s_pin = trend.summary(), pin.summary()
    m_trend = dict(zip(s_trend["strategy"], s_trend["mean"]))
    m_pin = dict(zip(s_pin["strategy"], s_pin["mean"]))

    dt_star = theory.optimal_clock_interval_proportional(27.82, 100.0, 0.2, LAM, RA) * 365 * SPD
    dt_star_f = theory.optimal_clock_interval_fee(27.82, 100.0, 0.2, 1.0, RA) * 365 * SPD

    def row(label, doc, result, name):
        x = result[name].total
        ce_v = ce_exponential(x, RA)
        return (
            f"| {label} | {doc} | {ce_v:.1f} +/- {ce_se(x):.1f} | {x.mean():.1f} | {x.std(ddof=1):.1f} | "
            f"{result[name].n_trades.mean():.0f} | {result[name].cost_paid.mean():.1f} |"
        )

    lines = [
        "## Hedging simulator (`gex.hedging`, `bench/bench_hedging.py`)",
        "",
        f"Machine: {machine_line()}; numba {numba.__version__}, {numba.get_num_threads()} threads. "
        "Other jobs shared the 2 cores during the run: treat times as upper bounds.",
        "",
        f"Workload: {N_PATHS:,} GBM paths x {N_DAYS * SPD:,} one-minute steps ({N_DAYS} days of {SPD} minutes, "
        "a day = 1/365 year), 4 ATM calls (S = K = 100, T = 30/365), sigma_r = sigma_i = 0.20, 5 bp, "
        f"10 rules ({', '.join(r.name for r in rules)}).",
        "",
        "| what | time | vs simulate |",
        "|---|---:|---:|",
        f"| path generation (`gbm_paths`) | {t_paths:.1f} s | |",
        f"| `simulate`, 10 rules, compiled rules + shared greeks (best of 3) | {t_fast:.1f} s | 1x |",
        f"| per-step numpy engine (`engine=\"python\"`), 1,170 steps x10 | {t_py_full:.0f} s | "
        f"{t_py_full / t_fast:.1f}x slower |",
        f"| naive per-path, per-rule pure-Python loop, 4 paths x 2 rules extrapolated | {t_naive:,.0f} s | "
        f"{t_naive / t_fast:.0f}x slower |",
        "",
        f"The naive loop agrees with `simulate` on its 4 paths to {check:.1e} $ (an independent check of the "
        "accounting). Where the time goes: one `bs_delta` + `bs_gamma` evaluation per path-step shared by "
        "all rules (delta dominates: its erfc kernel runs at ~30 M/s, see Greeks), theta from the "
        "Black-Scholes identity `theta = -1/2 sigma^2 S^2 Gamma` (r = q = 0), then one compiled pass per "
        "rule over blocks of 64 paths (threads over blocks); greeks are held 512 steps at a time.",
        "",
        f"### Reference measurements (docs/hedging-advisor.md), gamma_ra = {RA}, exponential CE in $",
        "",
        "Same paths for every rule (common random numbers). `+/-`: bootstrap standard error of the CE. "
        "`trades`: mean orders per path after inception (the initial hedge is free).",
        "",
        "| rule | doc CE | our CE | mean | std | trades | cost paid |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row(f"best clock, 5 bp (ours: `{best_clock}` min)", "-103.0", res["prop"], best_clock),
        row("20-share band (trade to edge), 5 bp", "-90.5", res["prop"], "band 20 edge"),
        row("$500 notional reset, 5 bp", "-395.9", res["prop"], "notional $500"),
        row("Whalley-Wilmott, 5 bp", "-68.2", res["prop"], f"WW ra={RA:g}"),
        row(f"best clock, 5 bp + $1 fee (ours: `{best_clock_f}` min)", "-165.3", r_fee, best_clock_f),
        row("fee-aware reset band, 5 bp + $1 fee", "-112.7", r_fee, f"fee band ra={RA:g}"),
        row("WW trade-to-edge, 5 bp + $1 fee", "-815.1", r_fee, f"WW ra={RA:g}"),
        "",
        "All clocks tried (CE, 5 bp): "
        + ", ".join(f"{k} min {ce[f'clock {k}']:.1f}" for k in CLOCKS)
        + f"; theory's optimal interval at inception: {dt_star:.0f} min. With the $1 fee: "
        + ", ".join(f"{n[6:]} min {ce_f[n]:.1f}" for n in clock_names_f)
        + f"; theory (fee only): {dt_star_f:.0f} min.",
        "",
        "### Regime scenarios (same long-run variance as GBM), mean P&L in $",
        "",
        "| scenario | doc | 1-min clock | 80-share band | WW gamma_ra 0.01 | WW gamma_ra 0.2 |",
        "|---|---|---:|---:|---:|---:|",
        f"| trend: AR(1) minute returns, phi = 0.3 | clock -728, 80-band -60 | {m_trend['clock 1']:.1f} | "
        f"{m_trend['band 80 edge']:.1f} | {m_trend['WW ra=0.01']:.1f} | {m_trend['WW ra=0.2']:.1f} |",
        f"| pinning: level AR(1), m = 2, memory 120 min | tight WW +233..+252, 80-band +84 | "
        f"{m_pin['clock 1']:.1f} | {m_pin['band 80 edge']:.1f} | {m_pin['WW ra=0.01']:.1f} | "
        f"{m_pin['WW ra=0.2']:.1f} |",
        "",
        f"Bench wall time {time.perf_counter() - t_start:.0f} s.",
    ]
    text = "\n".join(lines)
    print(text)
    write_section("hedging", text)
    print(f"wrote hedging section of {Path(__file__).resolve().parents[1] / 'docs' / 'performance.md'}")


if __name__ == "__main__":
    main()
