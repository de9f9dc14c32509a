"""The generator is calibrated to real chains: its GEX, flips, walls and 0-DTE share fall in the real range.

The real ranges are measured with the project's own path (``gex_sources.read_chain`` + ``gex.analysis.analyze``,
native conventions) on the real files in ``../shared/data/chains`` and recorded in ``docs/market-generator.md``
("Calibration"); :func:`test_real_ranges_are_what_the_files_give` re-measures them when the files are present,
so the constants below cannot drift from the data.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from gex.analysis import analyze
from gex.calendar import session_close
from gex.chain import ChainSnapshot
from gex_market.market import iter_market
from gex_market.path import sessions_from
from gex_market.rates import simulate_curves
from gex_market.universe import _finish, _rng, stock_contracts, universe_members
from tests.conftest import SHARED_CHAINS

#: The seven real full SPX chains (five EOD files, one intraday, one with January expiries only).
REAL_SPX_FILES = (
    "cboe_csv/SPX_2022-02-04_eod__Luca-Castelli_Index-Gamma.csv",
    "cboe_csv/SPX_2022-12-12_eod__aaguiar10_gflows.csv",
    "cboe_csv/SPX_2023-02-07_eod__abasuray_GammaExposure.csv",
    "cboe_csv/SPX_2023-08-18_eod__aryamanwastaken_gamma-exposure.csv",
    "cboe_csv/SPX_2024-01-05_eod__phammings_SPX500-GEX.csv",
    "cboe_csv_variants/SPX_2023-06-09_intraday_EUdate__AyourElwazani97_gamma.csv",
    "cboe_csv_variants/SPX_2025-01-06_eod_JANexpiries_only__DorelRoata.csv",
)
#: Measured on REAL_SPX_FILES (native): total GEX $bn per 1%, |flip - spot| %, call/put wall distance %,
#: 0-DTE share of gross gamma.
REAL_SPX = {
    "total_bn": (-41.96, 63.25),
    "flip_abs_pct": (0.16, 2.80),
    "flip_abs_median_pct": 1.69,
    "call_wall_pct": (0.24, 4.43),
    "put_wall_pct": (-3.94, -0.00),
    "zero_dte_share": (0.016, 0.101),
}
#: The real full SPY chains (Cboe CSV, JSON and two legacy .dat files; the partial 2025-09-25 file is left out).
REAL_SPY_FILES = (
    "cboe_csv/SPY_2023-09-14_eod__carlosjimenezdiaz_GEX_Python.csv",
    "cboe_json/SPY_2025-06-06_eod__osamanoman_tradingforcast.json",
    "cboe_dat_legacy/SPY_2020-06-22_eod__pranavmalikk_GammaExposure.dat",
    "cboe_dat_legacy/SPY_2020-07-02_eod__pranavmalikk_GammaExposure.dat",
)
REAL_SPY = {"total_bn": (-0.57, 3.65), "flip_abs_pct": (0.07, 0.90), "call_put_ratio": (0.91, 1.30)}
#: Generated distributions may exceed a real range by this share of its width (seven files are a small sample).
SLACK = 0.25


def _stats(a) -> dict[str, float]:
    pct = lambda level: (level / a.spot - 1.0) * 100.0 if level is not None else np.nan  # noqa: E731
    return {
        "total_bn": a.total_gex / 1e9,
        "flip_pct": pct(a.gamma_flip),
        "call_wall_pct": pct(a.levels.call_wall),
        "put_wall_pct": pct(a.levels.put_wall),
        "zero_dte_share": a.zero_dte_gamma_share,
        "call_put_ratio": a.call_gex / -a.put_gex if a.put_gex < 0 else np.nan,
    }


def _widened(bounds: tuple[float, float]) -> tuple[float, float]:
    lo, hi = bounds
    return lo - SLACK * (hi - lo), hi + SLACK * (hi - lo)


def _inside(values: np.ndarray, bounds: tuple[float, float], central: float = 0.8) -> None:
    """The central ``central`` share of ``values`` lies inside the widened ``bounds``."""
    lo, hi = _widened(bounds)
    q = np.nanpercentile(values, [50 * (1 - central), 50 * (1 + central)])
    assert lo <= q[0] and q[1] <= hi, f"central {central:.0%} {q} outside {lo:.2f}..{hi:.2f}"


def test_real_ranges_are_what_the_files_give():
    from gex_sources import read_chain

    if not SHARED_CHAINS.is_dir():
        pytest.skip(f"real data not available: {SHARED_CHAINS} (the ../shared folder is not part of a clone)")
    spx = [_stats(analyze(read_chain(SHARED_CHAINS / f))) for f in REAL_SPX_FILES]
    col = lambda rows, k: np.array([r[k] for r in rows])  # noqa: E731
    assert (col(spx, "total_bn").min(), col(spx, "total_bn").max()) == pytest.approx(REAL_SPX["total_bn"], abs=0.01)
    flips = np.abs(col(spx, "flip_pct"))
    assert (flips.min(), flips.max()) == pytest.approx(REAL_SPX["flip_abs_pct"], abs=0.01)
    assert np.median(flips) == pytest.approx(REAL_SPX["flip_abs_median_pct"], abs=0.01)
    for key in ("call_wall_pct", "put_wall_pct", "zero_dte_share"):
        assert (col(spx, key).min(), col(spx, key).max()) == pytest.approx(REAL_SPX[key], abs=0.01), key
    spy = [_stats(analyze(read_chain(SHARED_CHAINS / f))) for f in REAL_SPY_FILES]
    assert (col(spy, "total_bn").min(), col(spy, "total_bn").max()) == pytest.approx(REAL_SPY["total_bn"], abs=0.01)
    spy_flips = np.abs(col(spy, "flip_pct"))
    assert (spy_flips.min(), spy_flips.max()) == pytest.approx(REAL_SPY["flip_abs_pct"], abs=0.01)
    ratio = col(spy, "call_put_ratio")
    assert (ratio.min(), ratio.max()) == pytest.approx(REAL_SPY["call_put_ratio"], abs=0.01)


@pytest.fixture(scope="module")
def spx_sessions() -> list[dict[str, float]]:
    """60 sessions of the default SPX market (the demo's first three months), analysed like real files."""
    return [_stats(analyze(ms.snapshot)) for ms in iter_market(sessions=60, seed=0)]


def test_generated_spx_totals_and_flips_in_real_range(spx_sessions):
    totals = np.array([s["total_bn"] for s in spx_sessions])
    flips = np.abs(np.array([s["flip_pct"] for s in spx_sessions]))
    _inside(totals, REAL_SPX["total_bn"], central=0.9)
    assert np.isfinite(flips).mean() >= 0.9  # a flip near spot on (nearly) every session
    _inside(flips, REAL_SPX["flip_abs_pct"], central=0.8)
    lo, hi = REAL_SPX["flip_abs_pct"]
    assert 0.5 * REAL_SPX["flip_abs_median_pct"] <= np.nanmedian(flips) <= hi
    # both regimes occur (the real files: 2 positive, 5 negative)
    assert 0.1 <= np.mean(totals > 0) <= 0.9


def test_generated_spx_walls_and_zero_dte_in_real_range(spx_sessions):
    for key in ("call_wall_pct", "put_wall_pct", "zero_dte_share"):
        values = np.array([s[key] for s in spx_sessions])
        _inside(values, REAL_SPX[key], central=0.8)
        lo, hi = REAL_SPX[key]
        assert lo <= np.nanmedian(values) <= hi, key


def test_generated_spy_in_real_range():
    """SPY of the universe generator, 12 independent cross-sections, against the real SPY files."""
    spy = [m for m in universe_members(4, seed=0) if m.symbol == "SPY"]
    days = sessions_from(dt.date(2025, 1, 2), 12)
    curves = simulate_curves(len(days), _rng(0, "calibration", "rates"))
    rows = []
    for i, day in enumerate(days):
        spot = np.array([spy[0].spot0 * float(np.exp(_rng(i, "calibration", "spot").normal(0.0, 0.02)))])
        spot = np.round(spot, 2)
        anchor = spot * np.exp(_rng(i, "calibration", "anchor").normal(0.0, spy[0].vol * np.sqrt(10 / 252), 1))
        frame = _finish(stock_contracts(spy, spot, anchor, day, curves[i], seed=i), day)
        close = session_close(day)
        snap = ChainSnapshot(
            frame=frame, underlying="SPY", spot=float(spot[0]), session=day, snapshot_ts=close, valuation_ts=close,
            header_date=day, source="test", source_format="synthetic", underlying_name="SPY",
        )  # fmt: skip
        rows.append(_stats(analyze(snap)))
    totals = np.array([r["total_bn"] for r in rows])
    flips = np.abs(np.array([r["flip_pct"] for r in rows]))
    ratio = np.array([r["call_put_ratio"] for r in rows])
    lo, hi = REAL_SPY["total_bn"]
    # four real files are a thin sample: the median size of the total within 2x the largest real one
    assert np.median(np.abs(totals)) <= 2.0 * max(abs(lo), abs(hi))
    assert np.isfinite(flips).mean() >= 0.9
    assert np.nanmedian(flips) <= REAL_SPX["flip_abs_pct"][1]
    assert REAL_SPX["total_bn"][0] / 10 < np.median(totals) < REAL_SPX["total_bn"][1] / 10  # SPY ~ SPX / 10
    rlo, rhi = _widened((0.66, 1.66))  # call/put GEX ratio of every real full SPX and SPY chain
    assert rlo <= np.median(ratio) <= rhi
