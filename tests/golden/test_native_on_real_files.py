"""Native analysis of every real chain file: it runs, and the model's invariants hold."""

from __future__ import annotations

import pytest

from gex.analysis import analyze
from gex_sources import read_chain
from tests.conftest import SHARED_CHAINS, shared_file

pytestmark = pytest.mark.shared_data

FILES = [
    "cboe_csv/NDX_2022-02-04_eod__Luca-Castelli_Index-Gamma.csv",
    "cboe_csv/RUT_2022-12-12_eod__aaguiar10_gflows.csv",
    "cboe_csv/SPX_2022-02-04_eod__Luca-Castelli_Index-Gamma.csv",
    "cboe_csv/SPX_2022-12-12_eod__aaguiar10_gflows.csv",
    "cboe_csv/SPX_2023-02-07_eod__abasuray_GammaExposure.csv",
    "cboe_csv/SPX_2023-08-18_eod__aryamanwastaken_gamma-exposure.csv",
    "cboe_csv/SPX_2024-01-05_eod__phammings_SPX500-GEX.csv",
    "cboe_csv/SPY_2023-09-14_eod__carlosjimenezdiaz_GEX_Python.csv",
    "cboe_csv/SPY_2025-09-25_eod__ralph-e-boy_gamma-chart.csv",
    "cboe_csv_variants/SPX_2023-06-09_intraday_EUdate__AyourElwazani97_gamma.csv",
    "cboe_csv_variants/SPX_2025-01-06_eod_JANexpiries_only__DorelRoata.csv",
    "cboe_dat_legacy/SPY_2020-06-22_eod__pranavmalikk_GammaExposure.dat",
    "cboe_dat_legacy/SPY_2020-07-02_eod__pranavmalikk_GammaExposure.dat",
    "cboe_json/SPY_2025-06-06_eod__osamanoman_tradingforcast.json",
]
PARTIAL = {"cboe_csv/SPY_2025-09-25_eod__ralph-e-boy_gamma-chart.csv",
           "cboe_csv_variants/SPX_2025-01-06_eod_JANexpiries_only__DorelRoata.csv"}


@pytest.mark.parametrize("relpath", FILES, ids=[f.split("/")[1][:16] for f in FILES])
def test_native_invariants(relpath):
    snap = read_chain(shared_file(relpath))
    a = analyze(snap)
    # accounting: every contract of the file is used or excluded with a reason
    assert a.contracts.height + a.excluded.height == snap.frame.height
    assert a.excluded["exclude_reason"].null_count() == 0
    # one model: the per-strike table sums to the total, which equals the profile at spot
    assert a.by_strike["net_gex_usd_per_1pct"].sum() == pytest.approx(a.total_gex, rel=1e-9, abs=1.0)
    assert a.total_gex == pytest.approx(a.gex_at_spot_model, rel=1e-9, abs=1.0)
    assert a.regime == ("positive" if a.gex_at_spot_model > 0 else "negative")
    # the flip is the crossing nearest spot, and every crossing is a real sign change
    if a.flip_crossings:
        assert a.gamma_flip == min(a.flip_crossings, key=lambda x: abs(x - a.spot))
    else:
        assert a.gamma_flip is None
    for x in a.flip_crossings:
        assert a.gamma_profile.gex(x - 0.01) * a.gamma_profile.gex(x + 0.01) <= 0
    # expired contracts (settled before valuation) are never used
    assert (a.contracts["settlement_ts"] > a.valuation_ts).all()
    assert a.coverage.partial == (relpath in PARTIAL)
    assert (not a.coverage.partial) or any("partial chain" in w for w in a.warnings)


def test_every_shared_chain_file_is_listed():
    if not SHARED_CHAINS.is_dir():
        pytest.skip("real data not available")
    present = {str(p.relative_to(SHARED_CHAINS)) for p in SHARED_CHAINS.glob("cboe_*/*") if "datashop" not in str(p)}
    assert present == set(FILES)
