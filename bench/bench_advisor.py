"""Benchmark: the hedging advisor's FULL acceptance simulation (2,000 paths x 11,700 one-minute steps).

Run on demand: ``uv run python bench/bench_advisor.py [--paths N]`` (writes the ``advisor`` section of
docs/performance.md). Never run by pytest; the fast versions are tests/core/test_advisor_simulation.py.

Reference case (docs/hedging-advisor.md): long 4 ATM calls, S = K = 100, 30 days to expiry (11,700 one-minute
steps, 390 per day), sigma_r = sigma_i = 0.20, 5 bp one-way, risk aversion 0.01/$; score = exponential-utility
certainty equivalent (CE) of the final P&L, loss = -CE. Fresh seeds 9101-9107 (never used for tuning; 9001-9007 were the first run, which set the tightening budget).
Measured variance ratio (section 4): paths seeds 9311-9316, estimation histories 10130000 + 100 x scenario + j, fresh
for the final model; the model was built on seeds 5001-5002; seeds 9111-9116 (histories 9120000 + ...) were the runs
before and after the trigger constant was corrected, and seeds 9211-9216 (histories 10120000 + ...) the run that
showed the uncapped widening overshooting in the strong trend (36% captured), after which widening was capped at the
sign-only factor's GBM budget (docs/hedging-advisor.md, "Measured variance ratio").
Speed: the advisor's compiled path (its band expressed as the simulator's built-in WW / fee band) against the
naive baseline, the same policy run step by step in Python (``engine="python"``), measured in the same run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import best_of, machine_line, write_section  # noqa: E402

from gex import advisor as adv  # noqa: E402
from gex.hedging import (  # noqa: E402
    Clock, Costs, FeeBand, FixedBand, NotionalThreshold, OptionLeg, Position, WhalleyWilmott, gbm_paths, pinning_paths,
    regime_paths, simulate,
)

RA, BPS, SIGMA, DAYS, SPD = 0.01, 5.0, 0.2, 30, 390
LEGS = (adv.Leg(100.0, DAYS, "call", 4),)
POSITION = Position([OptionLeg(100.0, DAYS / 365, "C", 4)])
CLOCK_MINUTES = (30, 65, 98, 130, 195, 260, 390)
FACTORS = (0.6, 0.7, 0.8, 0.9, 1.15, 1.3, 1.6)
WIDTHS = (5.0, 10.0, 15.0, 20.0, 30.0, 40.0)


def advice(fee: float = 0.0, regime: str | None = None, variance_ratio: float | None = None) -> adv.Advice:
    return adv.advise(LEGS, spot=100.0, iv=SIGMA, costs=adv.CostModel(BPS, fee_usd_per_order=fee), risk_aversion=RA,
                      regime_row=None if regime is None else {"regime": regime}, variance_ratio=variance_ratio)


def paths(n: int, seed: int, phi: float = 0.0):
    if phi == 0:
        return gbm_paths(n, DAYS, steps_per_day=SPD, sigma=SIGMA, seed=seed)
    return regime_paths(n, DAYS, phi=phi, steps_per_day=SPD, sigma=SIGMA, seed=seed)


def table(res, names) -> dict[str, dict]:
    s = res.summary()
    return {r["strategy"]: r for r in s.iter_rows(named=True) if r["strategy"] in names}


def run(n_paths: int) -> str:
    lines: list[str] = []
    t_all = time.perf_counter()

    # 1. GBM, proportional cost ----------------------------------------------------------------------
    a0, aneg, apos = advice(), advice(regime="negative"), advice(regime="positive")
    rules = [a0.strategy("advisor"), WhalleyWilmott(BPS * 1e-4, RA, name="WW"),
             aneg.strategy(f"advisor, negative regime (x{aneg.regime_adjustment.factor:.3f})"),
             apos.strategy(f"advisor, positive regime (x{apos.regime_adjustment.factor:.3f})"),
             *[Clock(m, name=f"clock {m} min") for m in CLOCK_MINUTES], FixedBand(20.0, name="band 20 sh"),
             NotionalThreshold(500.0, name="notional $500 reset")]
    t0 = time.perf_counter()
    res = simulate(paths(n_paths, 9101), POSITION, rules, Costs(proportional_bps=BPS), hedge_vol=SIGMA, risk_aversion=RA)
    t_gbm = time.perf_counter() - t0
    rows = table(res, [r.name for r in rules])
    loss = {k: -v["ce_exp"] for k, v in rows.items()}
    best_clock = min((k for k in loss if k.startswith("clock")), key=loss.get)
    f0 = adv.forecast(a0.legs, 100.0, a0.policy, SIGMA, iv=SIGMA)
    b = res["advisor"]
    gbm_prop = dict(advisor=loss["advisor"], ww=loss["WW"], clock=loss[best_clock], clock_name=best_clock,
                    cost_sim=float(np.mean(b.cost_paid)), std_sim=float(np.std(b.total, ddof=1)),
                    cost_pred=f0.cost_usd, std_pred=f0.hedge_error_std_usd,
                    neg=loss[rules[2].name], pos=loss[rules[3].name])
    lines.append("### GBM, 5 bp (seed 9101)\n")
    lines.append("| rule | mean $ | std $ | CE $ | CVaR95 $ | trades | cost $ |\n|---|---:|---:|---:|---:|---:|---:|")
    for r in rules:
        v = rows[r.name]
        lines.append(f"| {r.name} | {v['mean']:.1f} | {v['std']:.1f} | {v['ce_exp']:.1f} | {v['cvar']:.1f} | "
                     f"{v['trades']:.0f} | {v['cost_paid']:.1f} |")
    lines.append("")
    lines.append(f"- advisor CE loss vs the best clock ({best_clock}): **{1 - gbm_prop['advisor'] / gbm_prop['clock']:.1%} lower** "
                 f"(target >= 30%); vs WW: {gbm_prop['advisor'] / gbm_prop['ww'] - 1:+.2%} (target within 5%; "
                 "the advisor's band is WW when no regime applies).")
    lines.append(f"- regime factors under plain GBM: negative x{aneg.regime_adjustment.factor:.3f} loses "
                 f"{gbm_prop['neg'] / gbm_prop['ww'] - 1:+.2%}, positive x{apos.regime_adjustment.factor:.3f} loses "
                 f"{gbm_prop['pos'] / gbm_prop['ww'] - 1:+.2%} vs WW (target <= 2%).")
    lines.append(f"- prediction (`gex.advisor.forecast`): cost {f0.cost_usd:.1f} vs simulated {gbm_prop['cost_sim']:.1f} "
                 f"({f0.cost_usd / gbm_prop['cost_sim'] - 1:+.1%}); P&L std {f0.hedge_error_std_usd:.1f} vs "
                 f"{gbm_prop['std_sim']:.1f} ({f0.hedge_error_std_usd / gbm_prop['std_sim'] - 1:+.1%}) (target +/-20%).\n")

    # 2. GBM, 5 bp + $1 fee ----------------------------------------------------------------------------
    af = advice(fee=1.0)
    rules = [af.strategy("advisor (reset)"), WhalleyWilmott(BPS * 1e-4, RA, name="WW trade-to-edge"),
             FeeBand(1.0, RA, BPS * 1e-4, name="fee band (theory)"),
             *[Clock(m, name=f"clock {m} min") for m in CLOCK_MINUTES], NotionalThreshold(500.0, name="notional $500 reset")]
    res = simulate(paths(n_paths, 9102), POSITION, rules, Costs(proportional_bps=BPS, fee_per_order=1.0), hedge_vol=SIGMA,
                   risk_aversion=RA)
    rows = table(res, [r.name for r in rules])
    loss = {k: -v["ce_exp"] for k, v in rows.items()}
    best_clock_f = min((k for k in loss if k.startswith("clock")), key=loss.get)
    ff = adv.forecast(af.legs, 100.0, af.policy, SIGMA, iv=SIGMA)
    b = res["advisor (reset)"]
    cost_f, std_f = float(np.mean(b.cost_paid)), float(np.std(b.total, ddof=1))
    lines.append("### GBM, 5 bp + $1 per order (seed 9102)\n")
    lines.append("| rule | mean $ | std $ | CE $ | CVaR95 $ | trades | cost $ |\n|---|---:|---:|---:|---:|---:|---:|")
    for r in rules:
        v = rows[r.name]
        lines.append(f"| {r.name} | {v['mean']:.1f} | {v['std']:.1f} | {v['ce_exp']:.1f} | {v['cvar']:.1f} | "
                     f"{v['trades']:.0f} | {v['cost_paid']:.1f} |")
    lines.append("")
    lines.append(f"- advisor vs WW trade-to-edge: **{1 - loss['advisor (reset)'] / loss['WW trade-to-edge']:.1%} lower loss** "
                 f"(target >= 80%); vs the best clock ({best_clock_f}): {1 - loss['advisor (reset)'] / loss[best_clock_f]:.1%} lower.")
    lines.append(f"- prediction: cost {ff.cost_usd:.1f} vs simulated {cost_f:.1f} ({ff.cost_usd / cost_f - 1:+.1%}); "
                 f"P&L std {ff.hedge_error_std_usd:.1f} vs {std_f:.1f} ({ff.hedge_error_std_usd / std_f - 1:+.1%}); "
                 f"trades {ff.trades:.0f} vs {float(np.mean(b.n_trades)):.0f}.\n")

    # 3. regime scenarios -------------------------------------------------------------------------------
    lines.append("### Regime scenarios: AR(1) one-minute returns with the GBM long-run variance\n")
    lines.append("Gap = WW loss - loss of the best fixed band chosen in hindsight on the same paths (fixed-share bands "
                 f"{', '.join(f'{w:g}' for w in WIDTHS)} and WW x {', '.join(f'{f:g}' for f in FACTORS)}); "
                 "captured = (WW loss - advisor loss) / gap (target >= 50%).\n")
    lines.append("| scenario | seed | regime told | factor | WW CE $ | advisor CE $ | best fixed band | its CE $ | captured |\n"
                 "|---|---:|---|---:|---:|---:|---|---:|---:|")
    for label, phi, regime, seed in (("trending, phi +0.6", 0.6, "negative", 9103), ("trending, phi +0.3", 0.3, "negative", 9104),
                                     ("mean-reverting, phi -0.3", -0.3, "positive", 9105),
                                     ("mean-reverting, phi -0.6", -0.6, "positive", 9106)):
        ar = advice(regime=regime)
        rules = [ar.strategy("advisor"), WhalleyWilmott(BPS * 1e-4, RA, name="WW")]
        rules += [WhalleyWilmott(BPS * 1e-4, RA / f**3, name=f"WW x{f:g}") for f in FACTORS]
        rules += [FixedBand(w, name=f"band {w:g} sh") for w in WIDTHS]
        res = simulate(paths(n_paths, seed, phi), POSITION, rules, Costs(proportional_bps=BPS), hedge_vol=SIGMA, risk_aversion=RA)
        rows = table(res, [r.name for r in rules])
        loss = {k: -v["ce_exp"] for k, v in rows.items()}
        best = min((r.name for r in rules[2:]), key=loss.get)
        gap = loss["WW"] - loss[best]
        captured = (loss["WW"] - loss["advisor"]) / gap if gap > 0 else float("nan")
        lines.append(f"| {label} | {seed} | {regime} | x{ar.regime_adjustment.factor:.3f} | {-loss['WW']:.1f} | "
                     f"{-loss['advisor']:.1f} | {best} | {-loss[best]:.1f} | "
                     f"{'n/a (WW is best)' if gap <= 0 else f'{captured:.0%}'} |")
    lines.append("")

    # 4. measured variance ratio ---------------------------------------------------------------------------
    lines.append(variance_ratio_section(n_paths))

    # 5. speed: compiled path vs the same policy step by step in Python -------------------------------------
    sub = gbm_paths(n_paths, 2, steps_per_day=SPD, sigma=SIGMA, seed=9107)  # 2 days of the full path count
    fast_rule = a0.strategy("advisor")

    class PythonOnly:  # the same policy without the compiled fast path (the naive baseline)
        name = "advisor (python)"

        def rebalance(self, state):
            return fast_rule.rebalance(state)

    t_fast = best_of(lambda: simulate(sub, POSITION, [fast_rule], Costs(proportional_bps=BPS), hedge_vol=SIGMA), repeat=3)
    t_py = best_of(lambda: simulate(sub, POSITION, [PythonOnly()], Costs(proportional_bps=BPS), hedge_vol=SIGMA), repeat=3)
    r_fast = simulate(sub, POSITION, [fast_rule], Costs(proportional_bps=BPS), hedge_vol=SIGMA)["advisor"].total
    r_py = simulate(sub, POSITION, [PythonOnly()], Costs(proportional_bps=BPS), hedge_vol=SIGMA)["advisor (python)"].total
    t_advise = best_of(lambda: advice(regime="negative"), repeat=20)
    t_forecast = best_of(lambda: adv.forecast(a0.legs, 100.0, a0.policy, SIGMA, iv=SIGMA), repeat=3)
    steps = sub.spot.shape[0] - 1
    lines.append("### Speed\n")
    lines.append(f"{n_paths:,} paths x {steps} steps, one rule, best of 3 (greeks of the position included in both): compiled path {t_fast:.2f} s, step-by-step Python "
                 f"(naive baseline) {t_py:.2f} s: **{t_py / t_fast:.1f}x**; final P&L identical to "
                 f"{float(np.max(np.abs(r_fast - r_py))):.1e} $. The full GBM run above ({n_paths:,} paths x {DAYS * SPD:,} "
                 f"steps, {len(CLOCK_MINUTES) + 6} rules) took {t_gbm:.1f} s. `advise()` with a regime: "
                 f"{t_advise * 1e3:.1f} ms per call; `forecast()` over the option's life: {t_forecast * 1e3:.0f} ms.\n")
    lines.append(f"Total benchmark time {time.perf_counter() - t_all:.0f} s.")
    return "\n".join(lines)


VR_SCENARIOS = (  # label, kind, parameter, true long-horizon VR, paths seed
    ("GBM", "gbm", 0.0, 1.0, 9311),
    ("trending, phi +0.6", "ar1", 0.6, 1.6 / 0.4, 9312),
    ("trending, phi +0.3", "ar1", 0.3, 1.3 / 0.7, 9313),
    ("mean-reverting, phi -0.3", "ar1", -0.3, 0.7 / 1.3, 9314),
    ("mean-reverting, phi -0.6", "ar1", -0.6, 0.4 / 1.6, 9315),
    ("pinning, m 2, memory 120 min", "pin", 2.0, 1 / 2.0, 9316),
)
N_HISTORIES, HISTORY_DAYS, VR_HORIZONS = 8, 20, (30, 390)


def scenario_paths(kind: str, param: float, n: int, days: int, seed: int):
    if kind == "gbm":
        return gbm_paths(n, days, steps_per_day=SPD, sigma=SIGMA, seed=seed)
    if kind == "ar1":
        return regime_paths(n, days, phi=param, steps_per_day=SPD, sigma=SIGMA, seed=seed)
    return pinning_paths(n, days, short_var_multiple=param, memory_steps=120, steps_per_day=SPD, sigma=SIGMA, seed=seed)


def variance_ratio_section(n_paths: int) -> str:
    """Told the true VR, and estimated out of sample from 20 days of one-minute returns of the same process."""
    out = ["### Measured variance ratio: told the true VR, or estimated from 20 days of one-minute returns\n",
           "The advisor is given the scenario's true long-horizon variance ratio (AR(1): (1+phi)/(1-phi); pinning: 1/m) or an "
           f"estimate from {N_HISTORIES} separate simulated histories of the same process ({HISTORY_DAYS} days x 390 one-minute "
           f"returns each; overlapping k-minute returns, k = {' and '.join(str(k) for k in VR_HORIZONS)}). Same paths and "
           "fixed-band grid as the regime table; captured = (WW loss - advisor loss) / gap. For GBM (no gap) the column "
           "gives the loss relative to WW (target: within +2%).\n",
           "| scenario | seed | true VR | factor | WW CE $ | sign-only CE $ | advisor (true VR) CE $ | best fixed band | its CE $ "
           "| captured (true VR) | " + " | ".join(f"estimated k={k}: VR-hat median [min, max]; captured mean [min, max]"
                                                    for k in VR_HORIZONS) + " |",
           "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|" + "---|" * len(VR_HORIZONS)]
    for i, (label, kind, param, vr, seed) in enumerate(VR_SCENARIOS):
        told = advice(variance_ratio=vr)
        sign = advice(regime=None if vr == 1 else ("negative" if vr > 1 else "positive"))
        rules = [told.strategy("advisor"), sign.strategy("sign-only"), WhalleyWilmott(BPS * 1e-4, RA, name="WW")]
        fixed = [WhalleyWilmott(BPS * 1e-4, RA / f**3, name=f"WW x{f:g}") for f in FACTORS]
        fixed += [FixedBand(w, name=f"band {w:g} sh") for w in WIDTHS]
        estimates: dict[int, list[float]] = {k: [] for k in VR_HORIZONS}
        for j in range(N_HISTORIES):
            hist = scenario_paths(kind, param, 1, HISTORY_DAYS, 10130000 + 100 * i + j)
            r = np.diff(np.log(hist.spot[:, 0]))
            for k in VR_HORIZONS:
                e = float(np.clip(adv.estimate_variance_ratio(r, k), adv.variance_ratio.VR_MIN, adv.variance_ratio.VR_MAX))
                estimates[k].append(e)
                rules.append(advice(variance_ratio=e).strategy(f"est k={k} #{j}"))
        rules += fixed
        res = simulate(scenario_paths(kind, param, n_paths, DAYS, seed), POSITION, rules, Costs(proportional_bps=BPS),
                       hedge_vol=SIGMA, risk_aversion=RA)
        loss = {k: -v["ce_exp"] for k, v in table(res, [r.name for r in rules]).items()}
        best = min((r.name for r in fixed), key=loss.get)
        gap = loss["WW"] - loss[best]

        def score(name: str) -> float:
            return (loss["WW"] - loss[name]) / gap if kind != "gbm" and gap > 0 else loss[name] / loss["WW"] - 1

        def fmt(x: float) -> str:
            return f"{x:+.1%}" if kind == "gbm" or gap <= 0 else f"{x:.0%}"

        cells = []
        for k in VR_HORIZONS:
            sc = [score(f"est k={k} #{j}") for j in range(N_HISTORIES)]
            cells.append(f"{np.median(estimates[k]):.2f} [{min(estimates[k]):.2f}, {max(estimates[k]):.2f}]; "
                         f"{fmt(float(np.mean(sc)))} [{fmt(min(sc))}, {fmt(max(sc))}]")
        true_cell = "n/a (WW is best)" if kind != "gbm" and gap <= 0 else fmt(score("advisor"))
        out.append(f"| {label} | {seed} | {vr:.3f} | x{told.regime_adjustment.factor:.3f} | {-loss['WW']:.1f} | "
                   f"{-loss['sign-only']:.1f} | {-loss['advisor']:.1f} | {best} | {-loss[best]:.1f} | {true_cell} | "
                   + " | ".join(cells) + " |")
    out.append("")
    out.append("Targets: told the true VR, captured >= 50% in the regime scenarios; VR = 1 and estimates on GBM histories within "
               "+2% of WW. Where and why the model falls short (strong trend; long-memory pinning estimated at short "
               "horizons; noisy one-day estimates): docs/hedging-advisor.md, \"Measured variance ratio\".\n")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=2000)
    parser.add_argument("--variance-ratio-only", action="store_true",
                        help="print only the measured-variance-ratio table (docs/performance.md is not written)")
    args = parser.parse_args()
    if args.variance_ratio_only:
        print(variance_ratio_section(args.paths))
        return
    body = run(args.paths)
    text = (f"## Hedging advisor (`gex.advisor`): full acceptance simulation\n\nMachine: {machine_line()}.\n\n"
            f"{args.paths:,} paths x {DAYS * SPD:,} one-minute steps, 4 ATM calls (S = K = 100, 30 days), "
            f"sigma = 20%, 5 bp, risk aversion {RA}/$; CE = exponential-utility certainty equivalent of the final P&L "
            "(common random numbers within each table). Reference values (docs/hedging-advisor.md): best clock -103.0, "
            "20-share band -90.5, $500 notional -395.9, WW -68.2; with a $1 fee: best clock -165.3, fee-aware reset "
            "-112.7, WW trade-to-edge -815.1.\n\n" + body)
    write_section("advisor", text)
    print(text)


if __name__ == "__main__":
    main()
