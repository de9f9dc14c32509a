import datetime as dt

import math

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from gex.coverage import chain_coverage
from gex.levels import key_levels, key_levels_reference, regime_of


def _table(strikes, calls, puts):
    t = pl.DataFrame({"strike": strikes, "call_gex_usd_per_1pct": calls, "put_gex_usd_per_1pct": puts})
    return t.with_columns(net_gex_usd_per_1pct=pl.col("call_gex_usd_per_1pct") + pl.col("put_gex_usd_per_1pct"))


def test_walls_respect_spot_side():
    t = _table([90.0, 100.0, 110.0], [50.0, 5.0, 3.0], [-1.0, -2.0, -40.0])
    lv = key_levels(t, spot=100.0)
    # The biggest call GEX is below spot and the biggest put GEX above: walls take the right side only.
    assert lv.call_wall == 100.0 and lv.put_wall == 100.0
    assert lv.abs_gamma_strike == 90.0 and lv.most_negative_net_strike == 110.0


def test_no_qualifying_strike_gives_none():
    t = _table([90.0, 95.0], [1.0, 2.0], [-1.0, -2.0])
    lv = key_levels(t, spot=100.0)
    assert lv.call_wall is None and lv.put_wall == 95.0
    assert key_levels(_table([90.0], [1.0], [0.0]), spot=100.0).most_negative_net_strike is None


def test_regime_sign():
    assert [regime_of(x) for x in (1e-3, -5e9, 0.0)] == ["positive", "negative", "neutral"]


def test_full_chain_is_not_partial():
    session = dt.date(2024, 1, 5)
    exps = [session + dt.timedelta(days=d) for d in (0, 3, 7, 14, 42, 70, 105, 350, 714)]
    cov = chain_coverage(pl.DataFrame({"expiration": exps}), session)
    assert not cov.partial and cov.expirations == 9 and cov.last_expiration == exps[-1]


def test_month_filtered_chain_is_partial():
    exps = [dt.date(2025, 1, d) for d in (6, 7, 8, 10, 17, 24, 31)]
    cov = chain_coverage(pl.DataFrame({"expiration": exps}), dt.date(2025, 1, 6))
    assert cov.partial and "January 2025" in cov.reason


def test_short_horizon_chain_is_partial():
    exps = [dt.date(2025, 1, 10), dt.date(2025, 2, 7)]
    cov = chain_coverage(pl.DataFrame({"expiration": exps}), dt.date(2025, 1, 6))
    assert cov.partial and "days out" in cov.reason


def test_coverage_of_many_chains_at_once():
    """coverage_table words each chain as its own chain_coverage does: full, month-filtered, short, all expired
    (chains interleaved, the session per chain), with the exact texts written out here."""
    from gex.coverage import coverage_table

    s1, s2 = dt.date(2024, 1, 5), dt.date(2025, 1, 6)
    full = [s1 + dt.timedelta(days=d) for d in (0, 3, 7, 14, 42, 70, 105, 350, 714)]
    month = [dt.date(2025, 1, d) for d in (6, 7, 8, 10, 17, 24, 31)]
    short = [dt.date(2025, 1, 10), dt.date(2025, 2, 7)]
    expired = [dt.date(2025, 1, 3)]
    parts = [(0, full), (1, month), (2, short), (3, expired)]
    frame = pl.DataFrame(
        {"id": [i for i, e in parts for _ in e], "expiration": [d for _, e in parts for d in e]}
    ).sample(fraction=1.0, shuffle=True, seed=1)
    chains = pl.DataFrame({"id": [3, 1, 0, 2], "session": [s2, s2, s1, s2]})
    out = coverage_table(frame, chains, "id")
    assert out["id"].to_list() == [3, 1, 0, 2]  # the chains' own order
    got = {r["id"]: r for r in out.iter_rows(named=True)}
    assert (got[0]["partial"], got[0]["reason"], got[0]["expirations"], got[0]["months_covered"]) == (False, None, 9, 6)
    assert got[1]["reason"] == "all 7 expirations fall in January 2025 (month-filtered download?)"
    assert got[2]["reason"] == "furthest expiration 2025-02-07 is only 32 days out"
    assert (got[3]["partial"], got[3]["reason"], got[3]["expirations"]) == (True, "no unexpired expirations", 0)
    for i, exps in parts:
        one = chain_coverage(pl.DataFrame({"expiration": exps}), got[i]["session"])
        assert (one.expirations, one.first_expiration, one.last_expiration, one.partial, one.reason) == (
            got[i]["expirations"], got[i]["first_expiration"], got[i]["last_expiration"], got[i]["partial"], got[i]["reason"]
        )


_values = st.one_of(st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5]), st.floats(-1e12, 1e12))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_values, _values), min_size=0, max_size=12), st.floats(80.0, 120.0),
       st.booleans())
def test_key_levels_in_numpy_equal_the_polars_statement_of_the_definitions(gex, spot, with_nan):
    """Ties (to the lowest strike), zeros (never a level), both sides of spot, and non-finite values (the
    polars reference decides those)."""
    strikes = [90.0 + 2.5 * i for i in range(len(gex))]
    calls, puts = [c for c, _ in gex], [p for _, p in gex]
    if with_nan and gex:
        calls[0] = math.nan
    table = _table(strikes, calls, puts).cast(pl.Float64)  # typed even when empty, as per_strike_gex's
    assert repr(key_levels(table, spot)) == repr(key_levels_reference(table, spot))


# chain_coverage (numpy on the expiration days) against chain_coverage_reference (the polars coverage_table), exactly

@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.dates(dt.date(2023, 11, 1), dt.date(2027, 3, 1))), max_size=40),
       st.dates(dt.date(2024, 1, 1), dt.date(2025, 12, 31)))
def test_chain_coverage_equals_the_polars_reference(expirations, session):
    from gex.coverage import chain_coverage_reference

    frame = pl.DataFrame({"expiration": expirations}, schema={"expiration": pl.Date})
    assert chain_coverage(frame, session) == chain_coverage_reference(frame, session)


def test_chain_coverage_equals_the_reference_by_hand():
    from gex.coverage import chain_coverage_reference

    s = dt.date(2024, 12, 20)
    cases = [[], [dt.date(2024, 12, 19)], [s], [dt.date(2025, 1, 3), dt.date(2025, 1, 31)],  # one month, expired
             [s, dt.date(2025, 2, 17)], [s, dt.date(2025, 2, 18)], [s, dt.date(2025, 2, 19)]]  # 59, 60, 61 days
    for exps in cases:
        frame = pl.DataFrame({"expiration": exps}, schema={"expiration": pl.Date})
        assert chain_coverage(frame, s) == chain_coverage_reference(frame, s), exps
