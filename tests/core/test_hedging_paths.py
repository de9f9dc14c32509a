"""Path generators of the hedging simulator (gex.hedging.paths)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gex.hedging import (
    Paths,
    ar1_variance_ratio,
    bootstrap_paths,
    gbm_paths,
    pinning_paths,
    pinning_variance_ratio,
    regime_paths,
)


def test_gbm_moments():
    p = gbm_paths(20000, 10, steps_per_day=20, sigma=0.3, seed=1)
    t = p.n_steps * p.dt_years
    assert t == pytest.approx(10 / 365)
    st_ = p.spot[-1]
    assert abs(st_.mean() - 100.0) < 4 * st_.std() / math.sqrt(st_.size)  # zero drift: a martingale
    lr = np.log(st_ / 100.0)
    assert lr.var() == pytest.approx(0.09 * t, rel=0.03)
    steps = np.diff(np.log(p.spot), axis=0)
    assert steps.var() == pytest.approx(0.09 * p.dt_years, rel=0.01)


def test_gbm_drift():
    p = gbm_paths(20000, 5, steps_per_day=4, sigma=0.2, drift=2.0, seed=2)
    t = p.n_steps * p.dt_years
    st_ = p.spot[-1]
    assert abs(st_.mean() - 100.0 * math.exp(2.0 * t)) < 4 * st_.std() / math.sqrt(st_.size)


def test_seeded_and_reproducible():
    a = gbm_paths(10, 3, steps_per_day=5, seed=7).spot
    b = gbm_paths(10, 3, steps_per_day=5, seed=np.random.default_rng(7)).spot
    c = gbm_paths(10, 3, steps_per_day=5, seed=8).spot
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(regime_paths(5, 2, phi=0.3, seed=1).spot, regime_paths(5, 2, phi=0.3, seed=1).spot)


@settings(max_examples=50, deadline=None)
@given(phi=st.floats(-0.95, 0.95), h=st.integers(1, 500))
def test_ar1_variance_ratio_closed_form(phi, h):
    j = np.arange(1, h)
    direct = 1.0 + 2.0 * np.sum((1.0 - j / h) * phi**j)
    assert ar1_variance_ratio(phi, h) == pytest.approx(direct, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("phi", [0.4, -0.4])
def test_regime_paths_variance_ratio_and_long_run_variance(phi):
    sigma = 0.2
    p = regime_paths(4000, 2, phi=phi, steps_per_day=390, sigma=sigma, seed=3)
    r = np.diff(np.log(p.spot), axis=0)
    dt = p.dt_years
    # one step: sigma^2 dt (1 - phi)/(1 + phi); the whole path: the AR(1) sum variance
    assert r.var() == pytest.approx(sigma**2 * dt * (1 - phi) / (1 + phi), rel=0.01)
    n = p.n_steps
    total = sigma**2 * dt * (n - 2 * phi * (1 - phi**n) / ((1 - phi) * (1 + phi)))
    assert np.log(p.spot[-1] / 100.0).var() == pytest.approx(total, rel=0.05)
    assert total == pytest.approx(sigma**2 * n * dt, rel=0.01)  # same long-run variance as GBM
    for h in (2, 5, 30, 390):
        sums = r[: (n // h) * h].reshape(n // h, h, -1).sum(axis=1)
        vr = sums.var() / (h * r.var())
        assert vr == pytest.approx(ar1_variance_ratio(phi, h), rel=0.04), h
    assert (ar1_variance_ratio(phi, 390) > 1) == (phi > 0)


def test_regime_zero_phi_is_gbm_like():
    p = regime_paths(5000, 1, phi=0.0, steps_per_day=100, sigma=0.2, seed=4)
    r = np.diff(np.log(p.spot), axis=0)
    assert abs(np.corrcoef(r[:-1].ravel(), r[1:].ravel())[0, 1]) < 0.01


def test_bootstrap_days_are_resampled_blocks_and_bridges_end_at_the_close():
    rng = np.random.default_rng(0)
    closes = 100 * np.exp(np.cumsum(rng.normal(0.0, 0.012, 60)))
    src = np.diff(np.log(closes))
    src = src - src.mean()
    p = bootstrap_paths(closes, 50, 12, steps_per_day=30, block_days=4, seed=5)
    day_ends = np.log(p.spot[::30])
    daily = np.diff(day_ends, axis=0)  # (12, 50)
    # every simulated day is one of the (demeaned) historical returns, in blocks of 4 consecutive days
    pos = np.array([[np.argmin(np.abs(src - d)) for d in col] for col in daily.T])  # (50, 12)
    np.testing.assert_allclose(src[pos].T, daily, atol=1e-12)
    for b in range(3):
        blk = pos[:, 4 * b : 4 * b + 4]
        np.testing.assert_array_equal(np.diff(blk, axis=1) % src.size, 1)
    # intraday: a rough path (not a straight line), variance per step ~ daily variance / steps
    intra = np.diff(np.log(p.spot), axis=0)
    assert intra.var() == pytest.approx(src.var(ddof=1) / 30, rel=0.15)


def test_bootstrap_demean_and_errors():
    closes = 100 * np.exp(np.linspace(0, 0.3, 40))  # a steady trend
    p = bootstrap_paths(closes, 5, 3, steps_per_day=2, block_days=2, seed=1, demean=False)
    assert np.all(p.spot[-1] > 100.0)
    p0 = bootstrap_paths(closes, 5, 3, steps_per_day=2, block_days=2, seed=1)
    np.testing.assert_allclose(p0.spot[::2], 100.0, rtol=1e-12)  # all returns equal: demeaned to 0
    with pytest.raises(ValueError, match="daily_closes"):
        bootstrap_paths([100.0, -1.0, 100.0], 5, 3)
    with pytest.raises(ValueError, match="block_days"):
        bootstrap_paths(closes, 5, 3, block_days=0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Paths(np.ones((1, 3)), 0.01, 1), "shape"),
        (lambda: Paths(-np.ones((3, 3)), 0.01, 1), "finite"),
        (lambda: Paths(np.ones((3, 3)), 0.0, 1), "dt_years"),
        (lambda: gbm_paths(0, 1), "n_paths"),
        (lambda: gbm_paths(1, 1, sigma=-0.1), "sigma"),
        (lambda: regime_paths(1, 1, phi=1.0), "phi"),
        (lambda: gbm_paths(1, 1, steps_per_day=0), "steps_per_day"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(("m", "memory"), [(2.0, 30.0), (1.5, 200.0)])
def test_pinning_paths_variance_ratio(m, memory):
    sigma = 0.2
    p = pinning_paths(3000, 2, short_var_multiple=m, memory_steps=memory, steps_per_day=390, sigma=sigma, seed=6)
    r = np.diff(np.log(p.spot), axis=0)
    assert r.var() == pytest.approx(m * sigma**2 * p.dt_years, rel=0.01)
    n = p.n_steps
    for h in (1, 10, 60, 390):
        sums = r[: (n // h) * h].reshape(n // h, h, -1).sum(axis=1)
        assert sums.var() / (h * r.var()) == pytest.approx(pinning_variance_ratio(m, memory, h), rel=0.05), h
    assert pinning_variance_ratio(m, memory, 10**7) == pytest.approx(1 / m, rel=1e-3)


def test_pinning_variance_ratio_closed_form_against_a_direct_sum():
    m, memory, h = 2.0, 30.0, 50
    psi = math.exp(-1 / memory)
    s2 = (m - 1) / (2 * (1 - psi))  # level variance in units of sigma^2 dt
    # Var(W_h + X_h - X_0) = h + 2 s2 (1 - psi^h); one step: 1 + 2 s2 (1 - psi) = m
    direct = (h + 2 * s2 * (1 - psi**h)) / (h * m)
    assert pinning_variance_ratio(m, memory, h) == pytest.approx(direct, rel=1e-12)
    assert pinning_variance_ratio(1.0, memory, h) == 1.0
