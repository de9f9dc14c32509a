"""Measure how much of the GEX the early-exercise screen flags on the generated whole-market universe.

    uv run python scripts/early_exercise_share.py [--underlyings 400] [--seed 0] [--keep DIR]

Generates one session of ``gex generate --universe N`` (index chains thinned: they are European and never
flagged), analyses every underlying under the native conventions at the session's 1-month rate (what
``gex_warehouse.compute.rate_for`` reads at 30 days), runs :func:`gex.early_exercise.screen_chain` and prints, per kind
(stock, etf, index): underlyings, contracts, flagged contracts and the distribution across underlyings of the
flagged share of |GEX| (median, 95th percentile, max), the reasons, and how well the parity-implied dividends
match the generator's (payers only). The numbers in docs/conventions.md ("American options and European gamma")
come from this script.
"""

from __future__ import annotations

import argparse
import csv
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from gex.analysis import analyze
from gex.early_exercise import screen_chain
from gex.forwards import implied_dividends
from gex_market.universe import ex_dates, generate_universe, universe_members
from gex_sources.datashop import iter_datashop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--underlyings", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="generate into (or reuse) this folder")
    args = ap.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        if not (out / "reference" / "rates.csv").exists():
            generate_universe(out, args.underlyings, sessions=1, seed=args.seed, index_contracts=2000)
        rates = pl.read_csv(out / "reference" / "rates.csv")
        rate = float(rates.filter(pl.col("tenor") == "1M")["rate"][0])
        with open(out / ".universe" / "underlyings.csv") as f:
            kinds = {r["underlying"]: r["kind"] for r in csv.DictReader(f)}
        members = {m.symbol: m for m in universe_members(args.underlyings, args.seed)}
        stats, reasons, div_err = [], {}, []
        file = sorted((out / "datashop").glob("*.csv"))[-1]
        for snap in iter_datashop(file):
            a = analyze(snap, rate=rate)
            screen = screen_chain(a.contracts, a.forwards, a.spot)
            stats.append((kinds.get(snap.underlying, "?"), a.contracts.height, screen.american_contracts,
                          screen.flagged.height, screen.gex_share, screen.expiries_without_carry))
            for reason, n in screen.flagged.group_by("reason").len().rows():
                reasons[(kinds.get(snap.underlying, "?"), reason)] = reasons.get((kinds.get(snap.underlying, "?"), reason), 0) + n
            m = members.get(snap.underlying)
            if m is not None and m.dividend_yield > 0 and a.forwards.height:
                exp = a.contracts.group_by("expiration", "settlement").agg(pl.col("tenor_years", "rate").first())
                d = implied_dividends(exp, a.forwards, a.spot).filter(pl.col("dividend_source") == "parity")
                amount = round(a.spot * m.dividend_yield / 4.0, 2)
                for e, pv, t in d.select("expiration", "dividend_pv", "tenor_years").iter_rows():
                    if t > 0.5:
                        continue  # beyond 6 months the flat 1-month rate, not the dividends, dominates the gap
                    truth = sum(amount * math.exp(-rate * (x - snap.session).days / 365.0)
                                for x in ex_dates(m, snap.session, e))
                    div_err.append((pv - truth) / a.spot)
    print(f"universe of {args.underlyings} underlyings, seed {args.seed}, session {file.stem[-10:]}, rate {rate:.4f}; "
          f"{time.perf_counter() - began:.0f} s\n")
    print("| kind | underlyings | contracts | flagged | flagged share of \\|GEX\\|: median | 95th pct | max | "
          "expiries without parity |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind in ("stock", "etf", "index"):
        rows = [s for s in stats if s[0] == kind]
        if not rows:
            continue
        share = np.array([s[4] for s in rows])
        print(f"| {kind} | {len(rows)} | {sum(s[1] for s in rows):,} | {sum(s[3] for s in rows):,} | "
              f"{100 * np.median(share):.2f}% | {100 * np.percentile(share, 95):.2f}% | {100 * share.max():.2f}% | "
              f"{sum(s[5] for s in rows)} |")
    print("\nreasons:", ", ".join(f"{k}/{r}: {n:,}" for (k, r), n in sorted(reasons.items())))
    if div_err:
        e = np.abs(np.array(div_err))
        print(f"implied dividend PV - generator's (expiries <= 6 months, payers): median |error| {1e4 * np.median(e):.2f} bp "
              f"of spot, 95th pct {1e4 * np.percentile(e, 95):.2f} bp, max {1e4 * e.max():.2f} bp ({len(e)} expiries)")


if __name__ == "__main__":
    main()
