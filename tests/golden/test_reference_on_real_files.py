"""The compiled GEX profile against its numpy/scipy reference on every real chain file.

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


@pytest.mark.parametrize("relpath", FILES, ids=[f.split("/")[1][:16] for f in FILES])
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
