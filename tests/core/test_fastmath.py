"""The shared fast math of the compiled core (gex._fastmath) against numpy/scipy, and its cache stamp."""

from __future__ import annotations

import math
import os
import shutil

import mpmath as mp
import numpy as np
import pytest
from scipy import special

from gex import _fastmath as fm
from gex import _numba_cache


def test_exp_flush_within_one_ulp():
    rng = np.random.default_rng(0)
    v = -np.concatenate([rng.uniform(0, 708, 20000), rng.uniform(0, 2, 5000), [0.0, 1e-300, 707.9]])
    ours = np.array([fm.exp_flush(x) for x in v])
    ref = np.exp(v)
    assert np.all(np.abs(ours - ref) <= 2.0 * np.spacing(ref))
    assert fm.exp_flush(-709.0) == 0.0 and fm.exp_flush(-1e6) == 0.0


def test_exp_full_range_within_one_ulp():
    rng = np.random.default_rng(2)
    v = np.concatenate([rng.uniform(-708, 709, 20000), rng.uniform(-2, 2, 5000), [0.0, -1e-300, 1e-300]])
    ours = np.array([fm.exp(x) for x in v])
    ref = np.exp(v)
    assert np.all(np.abs(ours - ref) <= 2.0 * np.spacing(ref))
    # subnormal results to one unit of 2**-1074, and the edges
    sub = rng.uniform(-744.0, -709.0, 2000)
    assert np.all(np.abs(np.array([fm.exp(x) for x in sub]) - np.exp(sub)) <= 2.0**-1074)
    assert fm.exp(-1e6) == 0.0 and fm.exp(1e6) == math.inf and math.isnan(fm.exp(math.nan))


def test_log_pos_within_one_ulp():
    rng = np.random.default_rng(1)
    v = np.concatenate([np.exp(rng.uniform(-700, 700, 20000)), 1 + rng.uniform(-1e-3, 1e-3, 5000), [1.0, 2.0]])
    ours = np.array([fm.log_pos(x) for x in v])
    ref = np.log(v)
    assert np.all(np.abs(ours - ref) <= np.spacing(np.abs(ref)) + 1e-300)
    assert fm.log_pos(1.0) == 0.0


def test_log_ratio_relative_accuracy_at_the_money():
    rng = np.random.default_rng(3)
    a = np.exp(rng.uniform(-5, 9, 1000))
    b = np.concatenate([a[:500] * np.exp(rng.uniform(-3, 3, 500)), a[500:] * (1 + rng.uniform(-1e-6, 1e-6, 500))])
    ours = np.array([fm.log_ratio(x, y) for x, y in zip(a, b, strict=True)])
    with mp.workdps(40):  # exact inputs, 40-digit log
        ref = np.array([float(mp.log(mp.mpf(x) / mp.mpf(y))) for x, y in zip(a, b, strict=True)])
    assert np.all(np.abs(ours - ref) <= 2.0 * np.spacing(np.abs(ref)) + 1e-300)
    assert fm.log_ratio(7.0, 7.0) == 0.0


def test_normal_pdf_and_cdf():
    x = np.linspace(-37.0, 37.0, 2001)
    pdf = np.array([fm.npdf(v) for v in x])
    cdf = np.array([fm.ncdf(v) for v in x])
    ref_pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    assert np.all(np.abs(pdf - ref_pdf) <= 4.0 * np.spacing(ref_pdf) + 1e-320)
    ref_cdf = special.ndtr(x)
    # the tail's own conditioning: rounding x / sqrt(2) moves erfc by ~x^2 eps relative
    assert np.all(np.abs(cdf - ref_cdf) <= 4 * np.finfo(float).eps * (1 + x * x) * ref_cdf + 1e-320)


def test_every_compiled_source_is_stamped():
    # the list covers every core file whose kernels use another file's compiled helpers (else an edit
    # there could be missed); self-contained kernel files (hedging/_kernels.py) keep numba's own stamp
    core = _numba_cache._CORE
    with_njit = {
        str(p.relative_to(core))
        for p in core.rglob("*.py")
        if p.name != "_numba_cache.py" and "@" in (text := p.read_text()) and "njit" in text
        and ("_fastmath" in text or "gex.flip._" in text)
    }
    assert with_njit <= set(_numba_cache.COMPILED_SOURCES)
    for rel in _numba_cache.COMPILED_SOURCES:
        assert (core / rel).is_file(), rel


def test_cache_stamp_changes_when_any_compiled_source_changes(tmp_path, monkeypatch):
    for rel in _numba_cache.COMPILED_SOURCES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_numba_cache._CORE / rel, tmp_path / rel)
    monkeypatch.setattr(_numba_cache, "_CORE", tmp_path)
    before = _numba_cache.source_stamp()
    assert _numba_cache.source_stamp() == before
    st = os.stat(tmp_path / "_fastmath.py")
    os.utime(tmp_path / "_fastmath.py", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert _numba_cache.source_stamp() != before


@pytest.mark.parametrize(
    "module, name",
    [("gex.flip._evaluate", "_point"), ("gex.flip._scan", "_scan_serial"), ("gex._bs_kernels", "gamma_serial")],
)
def test_kernels_use_the_shared_stamp(module, name):
    import importlib

    disp = getattr(importlib.import_module(module), name)
    locator = disp._cache._impl.locator
    assert isinstance(locator, (_numba_cache.SharedStampInTreeCacheLocator, _numba_cache.SharedStampUserCacheLocator))
    assert locator.get_source_stamp() == ("gex-core", _numba_cache.source_stamp())
