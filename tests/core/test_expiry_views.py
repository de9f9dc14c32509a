"""Expiry-filtered views (gex.expiry_views): hand-built chains priced independently with scipy's normal
pdf, invariants with hypothesis, and real chains (skipped without ../shared)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.stats import norm

from gex.analysis import analyze
from gex.calendar import NEW_YORK, UTC, settlement_instant
from gex.chain import CHAIN_SCHEMA, ChainSnapshot, conform
from gex.conventions import preset
from gex.expiry_views import EXPIRY_FILTERS, expiry_view, expiry_views, monthly_mask, standard_monthly_date

SPOT = 5100.0
S2 = dt.date(2024, 3, 15)  # third Friday of March 2024


def _ny(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), NEW_YORK).astimezone(UTC)


def _chain(contracts: list[tuple], valuation: dt.datetime, underlying: str = "SPX", spot: float = SPOT) -> ChainSnapshot:
    """A canonical snapshot of ``(root, expiration, style, strike, right, open_interest, iv)`` rows, no quotes
    (so no parity carry: r = q = 0 and the vendor IV is the model's)."""
    rows = []
    for i, (root, exp, style, strike, right, oi, iv) in enumerate(contracts):
        rows.append({
            "underlying": underlying, "session": valuation.astimezone(NEW_YORK).date(), "snapshot_ts": valuation,
            "valuation_ts": valuation, "symbol": f"{root}{exp:%y%m%d}{right}{int(strike * 1000):08d}", "root": root,
            "expiration": exp, "settlement": style, "settlement_ts": settlement_instant(exp, style), "strike": strike,
            "right": right, "bid": None, "ask": None, "last": None, "volume": 0, "open_interest": oi,
            "oi_date": None, "vendor_iv": iv, "vendor_delta": None, "vendor_gamma": None, "vendor_vega": None,
            "vendor_theta": None, "underlying_price": spot, "multiplier": 100.0, "source_line": i + 1,
        })
    frame = conform(pl.DataFrame(rows, schema=CHAIN_SCHEMA))
    return ChainSnapshot(frame=frame, underlying=underlying, spot=spot, session=frame["session"][0],
                         snapshot_ts=valuation, valuation_ts=valuation, source="hand-built")


# (root, expiration, settlement, strike, right, open interest, iv)
HAND = [
    ("SPXW", dt.date(2024, 3, 13), "PM", 5100.0, "C", 900, 0.12),  # settled yesterday: excluded
    ("SPXW", dt.date(2024, 3, 14), "PM", 5100.0, "C", 3000, 0.10),
    ("SPXW", dt.date(2024, 3, 14), "PM", 5050.0, "P", 4000, 0.13),
    ("SPX", S2, "AM", 5000.0, "P", 8000, 0.16),
    ("SPX", S2, "AM", 5200.0, "C", 6000, 0.12),
    ("SPXW", S2, "PM", 5150.0, "C", 2500, 0.11),
    ("SPXW", dt.date(2024, 3, 18), "PM", 5100.0, "P", 1500, 0.14),
    ("SPX", dt.date(2024, 4, 19), "AM", 4900.0, "P", 7000, 0.18),
    ("SPXW", dt.date(2024, 4, 19), "PM", 5300.0, "C", 2000, 0.12),
]


def _gex_reference(rows: list[tuple], valuation: dt.datetime, level):
    """Dealer GEX of ``rows`` at ``level`` (a level or an array of them, classic signs), dollars per 1%:
    closed-form Black-Scholes gamma with scipy's normal pdf, r = q = 0."""
    x = np.asarray(level, dtype=np.float64)
    total = np.zeros_like(x)
    for _root, exp, style, k, right, oi, iv in rows:
        t = (settlement_instant(exp, style) - valuation).total_seconds() / (365.0 * 86400.0)
        if t <= 0:
            continue
        d1 = (np.log(x / k) + 0.5 * iv * iv * t) / (iv * math.sqrt(t))
        gamma = norm.pdf(d1) / (x * iv * math.sqrt(t))
        sign = 1.0 if right == "C" else -1.0
        total = total + sign * oi * 100.0 * gamma * x * x * 0.01
    return float(total) if total.ndim == 0 else total


def _select(rows, keep) -> list[tuple]:
    return [r for r in rows if keep(r)]


# Thursday 14 March 2024, 14:00 New York: intraday, the day before a monthly Friday
INTRADAY = _ny(dt.date(2024, 3, 14), 14)
# the same Thursday after the close (valued at the close): the monthly Friday is the next expiry and 0-DTE
EVENING = _ny(dt.date(2024, 3, 14), 16)
# Friday 15 March 2024, 11:00: the AM monthly settled at the open, the SPXW PM of that day is 0-DTE
FRIDAY = _ny(S2, 11)

EXPECTED = {
    INTRADAY: {
        "0dte": lambda r: r[1] == dt.date(2024, 3, 14),
        "ex-0dte": lambda r: r[1] > dt.date(2024, 3, 14),
        "ex-next-expiry": lambda r: r[1] > dt.date(2024, 3, 14),
        "ex-next-monthly": lambda r: not (r[0] == "SPX" and r[1] == S2),
        "monthly": lambda r: r[0] == "SPX",
    },
    EVENING: {
        "0dte": lambda r: r[1] == S2,
        "ex-0dte": lambda r: r[1] != S2,
        "ex-next-expiry": lambda r: r[1] != S2,  # both roots of the Friday
        "ex-next-monthly": lambda r: not (r[0] == "SPX" and r[1] == S2),  # only the AM series
        "monthly": lambda r: r[0] == "SPX",
    },
    FRIDAY: {
        "0dte": lambda r: r[1] == S2 and r[2] == "PM",
        "ex-0dte": lambda r: not (r[1] == S2 and r[2] == "PM"),
        "ex-next-expiry": lambda r: r[1] != S2,
        "ex-next-monthly": lambda r: not (r[0] == "SPX" and r[1] == dt.date(2024, 4, 19)),
        "monthly": lambda r: r[0] == "SPX",
    },
}


@pytest.mark.parametrize("valuation", list(EXPECTED), ids=["intraday", "evening", "monthly-friday"])
@pytest.mark.parametrize("name", ["all", *EXPECTED[INTRADAY]])
def test_hand_built_totals_flip_and_counts_match_an_independent_computation(valuation, name):
    a = analyze(_chain(HAND, valuation), preset("native"), rate=0.0)
    live = _select(HAND, lambda r: settlement_instant(r[1], r[2]) > valuation)  # what the analysis values
    keep = (lambda r: True) if name == "all" else EXPECTED[valuation][name]
    rows = _select(live, keep)
    v = expiry_view(a, name)
    assert v.contracts == len(rows)
    assert v.expirations == len({r[1] for r in rows})
    assert v.total_gex == pytest.approx(_gex_reference(rows, valuation, SPOT), rel=1e-9, abs=1e-6)
    calls = _select(rows, lambda r: r[4] == "C")
    assert v.call_gex == pytest.approx(_gex_reference(calls, valuation, SPOT), rel=1e-9, abs=1e-6)
    gross = sum(abs(_gex_reference([r], valuation, SPOT)) for r in rows)
    gross_all = sum(abs(_gex_reference([r], valuation, SPOT)) for r in live)
    assert v.gross_gex_share == pytest.approx(gross / gross_all, rel=1e-9)
    # the profile on the analysis' grid, and every crossing, against scipy
    lo, hi = a.flip_window
    assert v.profile["spot_level"].to_list() == a.profile["spot_level"].to_list()
    for level, value in v.profile.sample(12, seed=1).iter_rows():
        assert value == pytest.approx(_gex_reference(rows, valuation, level), rel=1e-9, abs=1e-3)
    grid = np.linspace(lo, hi, 20_001)
    values = _gex_reference(rows, valuation, grid)
    roots = [brentq(lambda x: _gex_reference(rows, valuation, x), grid[i], grid[i + 1], xtol=1e-10)
             for i in np.flatnonzero(np.sign(values[:-1]) * np.sign(values[1:]) < 0)]
    assert len(v.flip_crossings) == len(roots)
    assert v.flip_crossings == pytest.approx(roots, abs=1e-5)
    if roots:
        nearest = min(roots, key=lambda x: (abs(x - SPOT), x))
        assert v.gamma_flip == pytest.approx(nearest, abs=1e-5)
        assert v.flip_distance_pct == pytest.approx(100 * (nearest - SPOT) / SPOT, abs=1e-6)
    else:
        assert v.gamma_flip is None
    at_spot = _gex_reference(rows, valuation, SPOT)
    assert v.regime == ("positive" if at_spot > 0 else "negative")


def test_the_all_view_is_the_analysis_itself_bit_for_bit():
    a = analyze(_chain(HAND, EVENING), preset("native"), rate=0.0)
    v = expiry_view(a, "all")
    assert (v.total_gex, v.call_gex, v.put_gex, v.gex_at_spot_model) == (a.total_gex, a.call_gex, a.put_gex, a.gex_at_spot_model)
    assert (v.gamma_flip, v.flip_crossings, v.regime) == (a.gamma_flip, a.flip_crossings, a.regime)
    assert (v.call_wall, v.put_wall, v.abs_gamma_strike) == (a.levels.call_wall, a.levels.put_wall, a.levels.abs_gamma_strike)
    assert v.profile.equals(a.profile)
    assert v.contracts == a.contracts.height and v.gross_gex_share == 1.0


def test_zero_dte_view_share_is_the_analysis_zero_dte_share():
    for valuation in EXPECTED:
        a = analyze(_chain(HAND, valuation), preset("native"), rate=0.0)
        assert expiry_view(a, "0dte").gross_gex_share == a.zero_dte_gamma_share


def test_hand_built_walls_follow_the_level_definitions():
    a = analyze(_chain(HAND, EVENING), preset("native"), rate=0.0)
    monthly = expiry_view(a, "monthly")  # SPX 5000 P, 5200 C (March) and 4900 P (April), spot 5100
    assert (monthly.call_wall, monthly.abs_gamma_strike is not None) == (5200.0, True)
    put = {k: abs(_gex_reference([r], EVENING, SPOT)) for r in HAND if r[0] == "SPX" and r[4] == "P" for k in [r[3]]}
    assert monthly.put_wall == max(put, key=put.get)
    zero = expiry_view(a, "0dte")  # the Friday: SPX 5000 P, 5200 C (AM) and SPXW 5150 C (PM)
    assert (zero.put_wall, zero.call_wall) == (5000.0, 5200.0 if abs(_gex_reference([HAND[4]], EVENING, SPOT)) >
                                               abs(_gex_reference([HAND[5]], EVENING, SPOT)) else 5150.0)
    assert expiry_view(a, "ex-0dte").call_wall == 5300.0  # only the April PM call is left above spot


def test_an_empty_filter_is_a_row_with_zero_contracts_and_null_levels():
    # only weekly PM contracts two weeks out: no 0-DTE, no monthly
    rows = [("SPXW", dt.date(2024, 3, 28), "PM", 5100.0, "C", 1000, 0.15), ("SPXW", dt.date(2024, 3, 28), "PM", 5000.0, "P", 900, 0.18)]
    a = analyze(_chain(rows, EVENING), preset("native"), rate=0.0)
    for name in ("0dte", "monthly"):
        v = expiry_view(a, name)
        assert (v.contracts, v.expirations, v.total_gex, v.gross_gex_share) == (0, 0, 0.0, 0.0)
        assert (v.gamma_flip, v.regime, v.call_wall, v.put_wall, v.abs_gamma_strike) == (None,) * 5
        assert v.flip_crossings == () and v.profile.is_empty()
        assert v.to_dict()["gamma_flip"] is None
    assert expiry_view(a, "ex-next-monthly").contracts == 2 and expiry_view(a, "ex-next-monthly").excluded_expiration is None


def test_a_chain_with_nothing_left_to_value_gives_empty_views_not_an_error():
    # every contract settled before the valuation (found by the invariants below: key_levels used to raise)
    rows = [("SPXW", dt.date(2024, 3, 13), "PM", 5100.0, "C", 1000, 0.15)]
    a = analyze(_chain(rows, EVENING), preset("native"), rate=0.0)
    assert a.contracts.height == 0 and a.levels.most_negative_net_strike is None
    assert {v.expiries: v.contracts for v in expiry_views(a)} == dict.fromkeys(EXPIRY_FILTERS, 0)


def test_unknown_filter_is_a_value_error():
    a = analyze(_chain(HAND, EVENING), preset("native"), rate=0.0)
    with pytest.raises(ValueError, match="unknown expiry filter 'weekly'"):
        expiry_view(a, "weekly")


def test_standard_monthly_dates_and_series():
    assert standard_monthly_date(2024, 3) == S2
    assert standard_monthly_date(2025, 4) == dt.date(2025, 4, 17)  # Good Friday: the Thursday
    assert standard_monthly_date(2026, 6) == dt.date(2026, 6, 18)  # Juneteenth on the third Friday
    assert [standard_monthly_date(2016, m, "VIX") for m in (6, 7, 8)] == [dt.date(2016, 6, 15), dt.date(2016, 7, 20), dt.date(2016, 8, 17)]
    frame = pl.DataFrame({
        "expiration": [S2, S2, S2, dt.date(2024, 3, 22), S2],
        "settlement": ["AM", "PM", "PM", "PM", "PM"],
        "root": ["SPX", "SPXW", "SPY", "SPY", "SPY7"],
    })
    assert monthly_mask(frame, "SPX").to_list() == [True, False, False, False, False]
    assert monthly_mask(frame, "SPY").to_list() == [True, False, True, False, True]  # adjusted root SPY7 counts


# ---- invariants ------------------------------------------------------------------------------------------

_POOL = [S2 + dt.timedelta(days=d) for d in range(-1, 70) if (S2 + dt.timedelta(days=d)).weekday() < 5]


@st.composite
def chains(draw):
    underlying = draw(st.sampled_from(["SPX", "SPY"]))
    spot = 5100.0 if underlying == "SPX" else 510.0
    valuation = draw(st.sampled_from([INTRADAY, EVENING, FRIDAY, _ny(dt.date(2024, 3, 18), 10)]))
    n = draw(st.integers(1, 30))
    rows = []
    for _ in range(n):
        exp = draw(st.sampled_from(_POOL))
        am = underlying == "SPX" and draw(st.booleans())
        root = ("SPX" if am else "SPXW") if underlying == "SPX" else "SPY"
        strike = round(spot * draw(st.floats(0.85, 1.15)), 0)
        rows.append((root, exp, "AM" if am else "PM", strike, draw(st.sampled_from(["C", "P"])),
                     draw(st.integers(0, 50_000)), draw(st.floats(0.05, 0.8))))
    return _chain(rows, valuation, underlying, spot)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_invariants_partition_subset_and_never_adding_contracts(snapshot):
    a = analyze(snapshot, preset("native"), rate=0.0)
    v = {x.expiries: x for x in expiry_views(a)}
    assert list(v) == list(EXPIRY_FILTERS)
    total, n = v["all"].total_gex, v["all"].contracts
    scale = sum(abs(x) for x in a.contracts["gex_usd_per_1pct"].to_list()) + 1.0
    # 0-DTE and ex-0-DTE partition the chain
    assert v["0dte"].contracts + v["ex-0dte"].contracts == n
    assert v["0dte"].total_gex + v["ex-0dte"].total_gex == pytest.approx(total, abs=1e-9 * scale)
    assert v["0dte"].call_gex + v["ex-0dte"].call_gex == pytest.approx(v["all"].call_gex, abs=1e-9 * scale)
    if n and scale > 1.0:
        assert v["0dte"].gross_gex_share + v["ex-0dte"].gross_gex_share == pytest.approx(1.0, abs=1e-9)
    # filters never add contracts; the monthly series holds what ex-next-monthly drops
    for x in v.values():
        assert 0 <= x.contracts <= n and 0.0 <= x.gross_gex_share <= 1.0 + 1e-12
    assert n - v["ex-next-monthly"].contracts <= v["monthly"].contracts
    assert v["ex-next-expiry"].contracts < n or n == 0
    # masks: monthly and 0-DTE contract sets are subsets of the chain's, by identity
    months = a.contracts.filter(monthly_mask(a.contracts, a.underlying))
    assert months.height == v["monthly"].contracts
    for x in v.values():
        if x.contracts == 0:
            assert x.gamma_flip is None and x.regime is None and x.profile.is_empty()
        else:
            assert x.regime in ("positive", "negative", "neutral")
            if x.gamma_flip is not None:
                assert x.gamma_flip in x.flip_crossings


def _same_views(a) -> None:
    """The views computed from arrays (expiry_views) equal the plain per-filter path, bit for bit."""
    from gex.expiry_views import FilterContext, expiry_view_reference, filter_context

    ctx = filter_context(a)
    rows = a.contracts if a.spot_contracts is None else pl.concat(
        [f.select("expiration", "settlement", "settlement_ts", "root") for f in (a.contracts, a.spot_contracts)])
    assert ctx == FilterContext.of_reference(rows, a.underlying, a.valuation_ts)
    fast = expiry_views(a)
    plain = [expiry_view_reference(a, name, ctx) for name in EXPIRY_FILTERS]
    assert [repr(v.to_dict(with_profile=True)) for v in fast] == [repr(v.to_dict(with_profile=True)) for v in plain]


#: The hand-built chains carry no header date or vendor gamma (what the presets need): native, and native with
#: the presets' grid crossing instead of the exact flip.
_CONVENTIONS = {"native": preset("native"), "native-grid": preset("native").with_(flip_method="grid_first_crossing")}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains(), st.sampled_from(sorted(_CONVENTIONS)))
def test_views_from_arrays_equal_the_plain_path_bit_for_bit(snapshot, name):
    _same_views(analyze(snapshot, _CONVENTIONS[name], rate=0.0))


@pytest.mark.parametrize("valuation", list(EXPECTED), ids=["intraday", "evening", "monthly-friday"])
def test_hand_built_views_from_arrays_equal_the_plain_path(valuation):
    for conventions in _CONVENTIONS.values():
        _same_views(analyze(_chain(HAND, valuation), conventions, rate=0.0))


@pytest.mark.parametrize("file", ["cboe_csv/SPY_2023-09-14_eod__carlosjimenezdiaz_GEX_Python.csv",
                                  "cboe_json/SPY_2025-06-06_eod__osamanoman_tradingforcast.json"])
def test_real_chain_views_from_arrays_equal_the_plain_path(file):
    from gex_sources import read_chain

    from tests.conftest import shared_file

    snapshot = read_chain(shared_file(file))
    for name in ("native", "gflows"):  # gflows takes the vendor's gamma at spot: the spot rows differ from the model's
        _same_views(analyze(snapshot, preset(name), rate=0.0451))


# ---- real chains -------------------------------------------------------------------------------------------


def test_spy_thursday_before_a_monthly_friday_three_filters_coincide():
    from gex_sources import read_chain

    from tests.conftest import shared_file

    a = analyze(read_chain(shared_file("cboe_csv/SPY_2023-09-14_eod__carlosjimenezdiaz_GEX_Python.csv")))
    v = {x.expiries: x for x in expiry_views(a)}
    assert v["ex-0dte"].total_gex == v["ex-next-expiry"].total_gex == v["ex-next-monthly"].total_gex
    assert v["ex-next-monthly"].excluded_expiration == dt.date(2023, 9, 15)
    assert v["0dte"].gross_gex_share == pytest.approx(a.zero_dte_gamma_share, rel=1e-12)
    assert v["0dte"].expirations == 1 and v["monthly"].contracts > 0


def test_spx_monthly_friday_evening_next_monthly_is_next_month():
    from gex_sources import read_chain

    from tests.conftest import shared_file

    a = analyze(read_chain(shared_file("cboe_csv/SPX_2023-08-18_eod__aryamanwastaken_gamma-exposure.csv")))
    v = {x.expiries: x for x in expiry_views(a)}
    assert v["ex-next-expiry"].excluded_expiration == dt.date(2023, 8, 21)
    assert v["ex-next-monthly"].excluded_expiration == dt.date(2023, 9, 15)
    am_sep = a.contracts.filter((pl.col("expiration") == dt.date(2023, 9, 15)) & (pl.col("root") == "SPX")).height
    assert v["all"].contracts - v["ex-next-monthly"].contracts == am_sep > 0
    assert v["monthly"].contracts == a.contracts.filter(pl.col("root") == "SPX").height  # every SPX AM is a monthly
    assert v["0dte"].total_gex + v["ex-0dte"].total_gex == pytest.approx(a.total_gex, rel=1e-12)


def test_gflows_zero_dte_group_is_reproduced_bit_for_bit():
    """gflows' "0dte" group is the first unexpired expiry; on this Sunday download that is the next session's
    expiry, i.e. our 0dte set: its published total and zero-gamma level must come out (gflows preset)."""
    import json

    from gex_sources import read_chain

    from tests.conftest import shared_file

    derived = json.loads(shared_file("derived_outputs/SPY_2025-06-06_gflows-derived_gamma__osamanoman_tradingforcast.json").read_text())
    published = derived["expiryData"]["0dte"]
    a = analyze(read_chain(shared_file("cboe_json/SPY_2025-06-06_eod__osamanoman_tradingforcast.json")), preset("gflows"), rate=0.0451)
    v = expiry_view(a, "0dte")
    assert v.total_gex / 1e9 == pytest.approx(published["totalExposure"], rel=1e-12)
    assert v.gamma_flip == pytest.approx(published["zeroGamma"], abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from([None, S2, dt.date(2024, 3, 22), dt.date(2024, 4, 19), dt.date(2025, 4, 17),
                                             dt.date(2016, 6, 15), dt.date(2024, 3, 14)]),
                            st.sampled_from([None, "AM", "PM"]),
                            st.sampled_from([None, "", "SPX", "SPXW", "SPY", "SPY7", "spy1", "VIX", "VIXW", "QQQ12", "SPY\n"])),
                  max_size=40),
    underlying=st.sampled_from(["SPX", "SPY", "^SPX", "VIX", "QQQ", "spy"]),
    enum=st.booleans(),
)
def test_monthly_mask_equals_its_reference(rows, underlying, enum):
    from gex.expiry_views import monthly_mask_reference

    frame = pl.DataFrame(rows, schema={"expiration": pl.Date, "settlement": pl.String, "root": pl.String}, orient="row")
    if enum:
        frame = frame.with_columns(pl.col("settlement").cast(pl.Enum(["AM", "PM"])))
    fast, reference = monthly_mask(frame, underlying), monthly_mask_reference(frame, underlying)
    assert fast.dtype == reference.dtype == pl.Boolean
    assert fast.to_list() == reference.to_list()


@pytest.mark.parametrize("unit", ["us", "ns", "ms"])
@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_masks_from_arrays_equal_the_query_with_nulls_units_and_zones(unit, zone):
    """FilterContext.masks compares the columns' physical values in numpy; masks_reference is the polars query it
    replaced. Nulls never match, an instant exactly at the cutoff is 0-DTE, any unit and time zone compare alike,
    and a frame other than the one the context came from gets its own monthly mask."""
    from gex.expiry_views import FilterContext

    valuation = dt.datetime(2025, 3, 20, 21, 0, tzinfo=dt.timezone.utc)  # Thursday close, before a monthly Friday
    ctx_frame = pl.DataFrame({
        "expiration": [dt.date(2025, 3, 21), dt.date(2025, 3, 21), dt.date(2025, 4, 17), None, dt.date(2025, 3, 28)],
        "settlement": ["AM", "PM", "AM", "PM", "PM"],
        "settlement_ts": [dt.datetime(2025, 3, 21, 13, 30), dt.datetime(2025, 3, 21, 20, 0), dt.datetime(2025, 4, 17, 13, 30),
                          None, dt.datetime(2025, 3, 28, 20, 0)],
        "root": ["SPX", "SPXW", "SPX", "SPXW", None],
    }).with_columns(pl.col("settlement_ts").dt.replace_time_zone("UTC").dt.cast_time_unit(unit)
                    .dt.convert_time_zone(zone))
    ctx = FilterContext.of(ctx_frame, "SPX", valuation)
    assert ctx.next_expiration == dt.date(2025, 3, 21) and ctx.next_monthly == dt.date(2025, 3, 21)
    at_cutoff = ctx_frame.with_columns(settlement_ts=pl.lit(ctx.zero_dte_cutoff).dt.cast_time_unit(unit)
                                       .dt.convert_time_zone(zone))
    names = [n for n in EXPIRY_FILTERS if n != "all"]
    for frame in (ctx_frame, ctx_frame.clone(), ctx_frame.reverse(), at_cutoff, ctx_frame.head(0)):
        # the query compares only a UTC column with the UTC cutoff (another zone is a SchemaError there); the same
        # instants in another zone give the same masks here
        in_utc = frame.with_columns(pl.col("settlement_ts").dt.convert_time_zone("UTC"))
        fast, plain = ctx.masks(frame, names), ctx.masks_reference(in_utc, names)
        assert {k: v.tolist() for k, v in fast.items()} == {k: v.tolist() for k, v in plain.items()}
    assert ctx.masks(at_cutoff, ["0dte"])["0dte"].tolist() == [True, True, True, True, True]
    assert ctx.masks(ctx_frame, ["0dte"])["0dte"].tolist() == [True, True, False, False, False]


@pytest.mark.parametrize("valuation", list(EXPECTED), ids=["intraday", "evening", "monthly-friday"])
def test_filters_keeping_the_same_rows_are_valued_once(monkeypatch, valuation):
    # expiry_views values each distinct set of rows once and gives the other filters keeping those rows that view
    # under their own name (intraday on the 14th, ex-0dte and ex-next-expiry keep the same six contracts): each
    # view still equals the plain path's, and the profile runs once per distinct non-empty set of rows
    import gex.expiry_views as ev
    from gex.expiry_views import FilterContext, expiry_view_reference

    a = analyze(_chain(HAND, valuation), preset("native"), rate=0.0)
    ctx = FilterContext.of(a.contracts, a.underlying, a.valuation_ts)
    masks = ctx.masks(a.contracts, [n for n in EXPIRY_FILTERS if n != "all"])
    distinct = {keep.tobytes() for keep in masks.values() if keep.any()}
    assert len(distinct) < sum(keep.any() for keep in masks.values())  # the chain has filters that coincide
    calls = []
    real = ev.profile_and_flip_arrays
    monkeypatch.setattr(ev, "profile_and_flip_arrays", lambda *args: calls.append(args) or real(*args))
    views = expiry_views(a, context=ctx)
    assert len(calls) == len(distinct)
    plain = [expiry_view_reference(a, name, ctx) for name in EXPIRY_FILTERS]
    assert [repr(v.to_dict(with_profile=True)) for v in views] == [repr(v.to_dict(with_profile=True)) for v in plain]
