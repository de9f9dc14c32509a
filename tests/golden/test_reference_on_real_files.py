"""The compiled GEX profile against its numpy/scipy reference on real chain files: one per format and per
distinct case (tests/golden/test_native_on_real_files.py runs every real file through the analysis).

For each file's native analysis: the reference-built coefficients, ``G`` and ``dG/dS`` on a grid over
the flip window, every crossing and the flip agree with the compiled path to the tolerances documented
in tests/core/test_reference_paths.py.
"""

from __future__ import annotations

import pytest

from gex.analysis import analyze
from gex_sources import read_chain
from tests.conftest import shared_file
from tests.core.test_reference_paths import assert_profiles_agree
from tests.golden.test_native_on_real_files import FILES

pytestmark = pytest.mark.shared_data

#: The reference is a slow, obviously-correct numpy/scipy path (~4 s per SPX-sized chain): one file per format
#: and per case that changes the profile's inputs. The other SPX/SPY end-of-day CSVs repeat the first rows'
#: case (same format, an index or an ETF at the close, full chain, one crossing).
REFERENCE_FILES = [
    "cboe_csv/SPX_2024-01-05_eod__phammings_SPX500-GEX.csv",  # SPX at the close: the published reference file
    "cboe_csv/NDX_2022-02-04_eod__Luca-Castelli_Index-Gamma.csv",  # another index, at another level
    "cboe_csv/SPY_2023-09-14_eod__carlosjimenezdiaz_GEX_Python.csv",  # an ETF, not an index
    "cboe_csv_variants/SPX_2023-06-09_intraday_EUdate__AyourElwazani97_gamma.csv",  # valued intraday
    "cboe_csv_variants/SPX_2025-01-06_eod_JANexpiries_only__DorelRoata.csv",  # a partial chain
    "cboe_dat_legacy/SPY_2020-06-22_eod__pranavmalikk_GammaExposure.dat",  # the legacy .dat format
    "cboe_json/SPY_2025-06-06_eod__osamanoman_tradingforcast.json",  # the delayed-quotes JSON format
]


def test_reference_files_are_real_files():
    assert set(REFERENCE_FILES) <= set(FILES)


@pytest.mark.parametrize("relpath", REFERENCE_FILES, ids=[f.split("/")[1][:16] for f in REFERENCE_FILES])
def test_compiled_profile_equals_reference(relpath):
    a = analyze(read_chain(shared_file(relpath)))
    used = a.contracts  # the priced contracts the analysis built its profile from
    ch = dict(
        strike=used["strike"].to_numpy(),
        sigma=used["sigma"].to_numpy(),
        tenor_years=used["tenor_years"].to_numpy(),
        weight=used["dealer_shares_per_point"].to_numpy(),
        rate=used["rate"].to_numpy(),
        dividend_yield=used["dividend_yield"].to_numpy(),
    )
    lo, hi = a.flip_window
    cr = assert_profiles_agree(ch, reference=a.gamma_profile.reference, lo=lo, hi=hi)
    # the analysis' own crossings (scan anchored at the spot): the same to within 2 xtol
    assert len(cr) == len(a.flip_crossings)
    assert all(abs(x - y) <= 2e-6 for x, y in zip(cr, a.flip_crossings, strict=True))
