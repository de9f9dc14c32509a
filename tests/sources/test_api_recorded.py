"""The API parsers on real recorded responses (../shared/data/api; each test skips when it is absent).

The recorded bodies are wrapped in fetch bundles in ``tmp_path`` (never copied into the repository);
quote responses that were never recorded (Tradier's) are written by hand with made-up numbers.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from gex_sources import SourceError, detect_format, read_chain, read_reference
from gex_sources.bundle import BundleResponse, FetchBundle, response_name, utc_instant, write_bundle

from tests.api_helpers import recorded


def bundle_of(tmp: Path, source: str, symbol: str | None, items: list[tuple[str, bytes, dict]], received: str,
              content_type: str = "application/json") -> Path:
    """A bundle file of ``(role, body, params)`` items, all received at ``received`` (UTC, ISO)."""
    at = utc_instant(dt.datetime.fromisoformat(received))
    responses = tuple(
        BundleResponse(response_name(i, content_type), role, f"https://example.invalid/{source}/{i}", params, 200,
                       content_type, at, at, body)
        for i, (role, body, params) in enumerate(items)
    )
    path = tmp / f"{symbol or 'RATES'}.{source}.zip"
    write_bundle(path, FetchBundle(source, symbol, None, at, at, responses))
    return path


def cboe(tmp: Path, name: str, symbol: str) -> Path:
    body = recorded(f"cboe/{name}").read_bytes()
    return bundle_of(tmp, "cboe", symbol, [("chain", body, {})], "2024-07-16T00:00:00")


# --- Cboe ---------------------------------------------------------------------------------------------------


def test_cboe_rut_index_eod(tmp_path: Path) -> None:
    path = cboe(tmp_path, "options__RUT_2024-07-15_eod__jcollazo_gflows.json", "RUT")
    assert detect_format(path) == "cboe_bundle"
    snap = read_chain(path)
    assert snap.underlying == "RUT" and snap.session == dt.date(2024, 7, 15)  # "_RUT" / "^RUT" both understood
    assert snap.frame.height + snap.rejects.height == 8962
    assert set(snap.frame["root"].unique()) == {"RUT", "RUTW"}
    assert snap.snapshot_ts == dt.datetime(2024, 7, 15, 23, 3, 28, tzinfo=dt.UTC)  # timestamp is UTC
    assert snap.valuation_ts == dt.datetime(2024, 7, 15, 20, 0, tzinfo=dt.UTC)  # evening: valued at the close
    doc = json.loads(recorded("cboe/options__RUT_2024-07-15_eod__jcollazo_gflows.json").read_bytes())["data"]
    assert snap.spot == doc["close"]
    deep = snap.frame.filter((pl.col("vendor_iv") == 0) & (pl.col("vendor_gamma") == 0))
    assert deep.height > 0  # deep ITM/OTM rows with iv and gamma 0 are kept (the models re-solve their IV)


def test_cboe_nflx_uses_close_not_after_hours_price(tmp_path: Path) -> None:
    snap = read_chain(cboe(tmp_path, "options_NFLX_2024-07-15_eod__jcollazo_gflows.json", "NFLX"))
    assert snap.spot == 656.45  # close; current_price 659.47 follows after-hours trades
    assert snap.frame.height + snap.rejects.height == 3770


def test_cboe_qqq_intraday_uses_current_price(tmp_path: Path) -> None:
    snap = read_chain(cboe(tmp_path, "options_QQQ_2024-06-24_intraday-1022ET__justinn-lynn_gflows.json", "QQQ"))
    doc = json.loads(recorded("cboe/options_QQQ_2024-06-24_intraday-1022ET__justinn-lynn_gflows.json").read_bytes())
    assert snap.spot == doc["data"]["current_price"] and snap.session == dt.date(2024, 6, 24)
    assert snap.valuation_ts == snap.snapshot_ts  # intraday
    assert snap.frame.height + snap.rejects.height == 6732


def test_cboe_opening_reset_is_refused(tmp_path: Path) -> None:
    path = cboe(tmp_path, "options_COIN_2024-06-24_1344UTC_opening-reset_ALLZERO__justinn-lynn_gflows.json", "COIN")
    with pytest.raises(SourceError, match=r"opening-reset chain: all 2658 contracts have bid = ask = iv = 0") as info:
        read_chain(path)
    assert str(info.value).startswith(f"{path} [responses/000.json]: ") and "\n" not in str(info.value)
    # the plain file reader refuses it too
    with pytest.raises(SourceError, match="opening-reset"):
        read_chain(recorded("cboe/options_COIN_2024-06-24_1344UTC_opening-reset_ALLZERO__justinn-lynn_gflows.json"))


def test_cboe_non_json_body_and_wrong_symbol(tmp_path: Path) -> None:
    path = bundle_of(tmp_path, "cboe", "GOOG", [("chain", b"UnavailableUnavailableUnavailable", {})], "2024-07-16T00:00:00")
    with pytest.raises(SourceError, match=r"\[responses/000.json\]: body is not JSON .* 'UnavailableUnavailable"):
        read_chain(path)
    wrong = cboe(tmp_path, "options_NFLX_2024-07-15_eod__jcollazo_gflows.json", "SPY")
    with pytest.raises(SourceError, match="asked for SPY but the responses hold NFLX"):
        read_chain(wrong)


# --- Tradier ------------------------------------------------------------------------------------------------


def test_tradier_2013_fixture_rejects_minis(tmp_path: Path) -> None:
    chain = recorded("tradier/chains_AAPL_exp2015-01-17_2013__tradier_tradier.rb.json").read_bytes()
    quote = json.dumps({"quotes": {"quote": {"symbol": "AAPL", "last": 431.0, "close": 430.5, "type": "stock"}}}).encode()
    path = bundle_of(
        tmp_path, "tradier", "AAPL",
        [("chain", chain, {"expiration": "2015-01-17"}), ("quote", quote, {})],
        "2013-06-07T22:00:00",
    )  # fmt: skip
    snap = read_chain(path)
    assert snap.frame.height + snap.rejects.height == 330  # exact accounting
    assert snap.rejects.height == 108 and snap.frame.height == 222
    assert set(snap.rejects["reason"]) == {"adjusted or mini option root 'AAPL7' (non-standard deliverable)"}
    assert snap.spot == 430.5 and snap.session == dt.date(2013, 6, 7)  # evening: the close
    row = snap.frame.filter(pl.col("symbol") == "AAPL150117C01000000").row(0, named=True)
    assert (row["bid"], row["ask"], row["open_interest"], row["strike"]) == (1.86, 2.25, 5444, 1000.0)
    assert row["vendor_iv"] is None  # no greeks object in this old fixture


def test_tradier_expirations_shapes(tmp_path: Path) -> None:
    from gex_sources.tradier import parse_tradier_expirations

    doc = json.loads(recorded("tradier/expirations_2013-06__tradier_tradier.rb.json").read_bytes())
    dates = parse_tradier_expirations("x", doc)
    assert dates[:3] == ["2013-06-07", "2013-06-14", "2013-06-22"]  # old Saturday expiries kept as listed
    assert parse_tradier_expirations("x", {"expirations": {"date": "2024-07-19"}}) == ["2024-07-19"]
    assert parse_tradier_expirations("x", {"expirations": None}) == []


# --- Polygon ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["snapshot_options_AAPL_chain_1contract__polygon-io_client-python.json",
             "snapshot_option_contract_O-AAPL230616C00150000__polygon-io_client-python.json"]
)  # fmt: skip
def test_polygon_list_and_single_object(name: str, tmp_path: Path) -> None:
    body = recorded(f"polygon/{name}").read_bytes()
    snap = read_chain(bundle_of(tmp_path, "polygon", "AAPL", [("page", body, {})], "2023-03-13T21:00:00"))
    assert snap.frame.height == 1 and snap.rejects.height == 0
    row = snap.frame.row(0, named=True)
    assert row["symbol"] == "AAPL230616C00150000"  # "O:" dropped
    assert (row["strike"], row["right"], row["expiration"]) == (150.0, "C", dt.date(2023, 6, 16))
    assert (row["bid"], row["ask"], row["last"], row["open_interest"], row["volume"]) == (28.9, 29.25, 29.25, 8133, 8)
    assert row["vendor_iv"] == pytest.approx(0.3570277203465058)
    assert snap.spot == 159.9606  # underlying_asset.price


def test_polygon_incomplete_paging_is_refused(tmp_path: Path) -> None:
    page = json.loads(recorded("polygon/snapshot_options_AAPL_chain_1contract__polygon-io_client-python.json").read_bytes())
    page["next_url"] = "https://api.polygon.io/v3/snapshot/options/AAPL?cursor=abc"
    path = bundle_of(tmp_path, "polygon", "AAPL", [("page", json.dumps(page).encode(), {})], "2023-03-13T21:00:00")
    with pytest.raises(SourceError, match="incomplete chain: the last page fetched still has a next_url"):
        read_chain(path)


# --- Schwab -------------------------------------------------------------------------------------------------


def test_schwab_spx(tmp_path: Path) -> None:
    body = recorded("schwab/chains_SPX_exp2025-05-20_asof2025-05-09__jwplatta_schwab_rb.json").read_bytes()
    snap = read_chain(bundle_of(tmp_path, "schwab", "SPX", [("chain", body, {})], "2025-05-09T21:00:00"))
    assert snap.frame.height + snap.rejects.height == 162 and snap.rejects.height == 0
    assert snap.underlying == "SPX" and snap.spot == 5659.91 and snap.session == dt.date(2025, 5, 9)
    row = snap.frame.filter((pl.col("strike") == 5660.0) & (pl.col("right") == "C")).row(0, named=True)
    assert row["root"] == "SPXW" and row["settlement"] == "PM" and row["symbol"] == "SPXW  250520C05660000"
    assert row["vendor_iv"] == pytest.approx(0.18658)  # percent / 100
    assert (row["bid"], row["ask"], row["volume"], row["open_interest"]) == (76.0, 77.4, 35, 0)


def test_schwab_aapl_puts_and_missing_markers(tmp_path: Path) -> None:
    doc = json.loads(recorded("schwab/chains_AAPL_puts_asof2025-01-16__jwplatta_schwab_rb.json").read_bytes())
    assert doc["callExpDateMap"] == {}
    first_key = next(iter(doc["putExpDateMap"]))
    first_strike = next(iter(doc["putExpDateMap"][first_key]))
    doc["putExpDateMap"][first_key][first_strike][0].update(volatility="NaN", gamma=-999.0)
    doc["isChainTruncated"] = True
    path = bundle_of(tmp_path, "schwab", "AAPL", [("chain", json.dumps(doc).encode(), {})], "2025-01-16T22:00:00")
    snap = read_chain(path)
    assert snap.frame.height + snap.rejects.height == 470 and set(snap.frame["right"]) == {"P"}
    assert snap.spot == 228.375
    nan_row = snap.frame.filter(pl.col("source_line") == 1).row(0, named=True)
    assert nan_row["vendor_iv"] is None and nan_row["vendor_gamma"] is None  # missing, not 0 or -9.99
    assert any("isChainTruncated" in w for w in snap.warnings)


# --- OCC series search ----------------------------------------------------------------------------------------


def test_occ_series_search(tmp_path: Path) -> None:
    text = recorded("occ/series-search_SPY_symbolTypeO_2023-01-21__bonsaiheart_MaxPainHeuristicTracker.txt")
    path = bundle_of(tmp_path, "occ", "SPY", [("open_interest", text.read_bytes(), {})], "2023-01-21T15:00:00", "text/plain")
    oi = read_reference(path)
    assert oi.kind == "open_interest" and oi.rejects.height == 0
    assert oi.frame.height == 2 * 3911  # a call and a put per row
    assert set(oi.frame["publish_date"]) == {dt.date(2023, 1, 20)} and set(oi.frame["oi_date"]) == {dt.date(2023, 1, 19)}
    first = oi.frame.filter(pl.col("source_line") == 8).sort("right")
    assert first["symbol"].to_list() == ["SPY   230119C00320000", "SPY   230119P00320000"]
    assert first["open_interest"].to_list() == [0, 49]
    assert oi.frame["expiration"].min() == dt.date(2023, 1, 19) and oi.frame["expiration"].max() == dt.date(2025, 12, 19)
    # as a plain file it needs the download date
    assert detect_format(text) == "occ_series"
    with pytest.raises(SourceError, match="holds no date"):
        read_reference(text)
    assert read_reference(text, download_date="2023-01-21").frame.height == 2 * 3911


# --- rates ----------------------------------------------------------------------------------------------------


def test_treasury_csv(tmp_path: Path) -> None:
    from gex.reference import continuous_from_bond_equivalent

    path = recorded("treasury/daily_treasury_par_yield_curve_2022-10-03_to_2022-10-21__AniketPant02_volatility_viewer.csv")
    assert detect_format(path) == "treasury_csv"
    rates = read_reference(path)
    assert rates.rejects.height == 0
    days = rates.frame["date"].unique()
    assert days.len() == 14 and days.min() == dt.date(2022, 10, 3) and days.max() == dt.date(2022, 10, 21)
    four_month = rates.frame.filter(pl.col("tenor_days") == 122)
    assert four_month["date"].min() == dt.date(2022, 10, 19)  # "4 Mo" empty before: no rate, no reject
    assert rates.frame.height == 14 * 12 + 3
    one_month = rates.frame.filter((pl.col("date") == dt.date(2022, 10, 21)) & (pl.col("tenor_days") == 30))["rate"].item()
    assert one_month == pytest.approx(continuous_from_bond_equivalent(0.0355))
    # the same body through a bundle
    bundled = read_reference(bundle_of(tmp_path, "treasury", None, [("rates", path.read_bytes(), {})], "2022-10-22T12:00:00", "text/csv"))
    assert bundled.frame.equals(rates.frame)


def test_treasury_zero_row_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('Date,"1 Mo","3 Mo"\n04/14/2017,0.00,0.00\n04/13/2017,0.74,0.80\n04/12/2017,x,0.8\n', encoding="utf-8")
    rates = read_reference(path)
    assert rates.frame.height == 2
    assert rates.rejects["reason"].to_list() == ["every tenor is 0 (placeholder row, not a curve)", "non-numeric rate: 'x'"]
    assert rates.rejects["source_line"].to_list() == [2, 4]


@pytest.mark.parametrize(
    ("name", "tenor", "first", "value"),
    [
        ("fredgraph_DGS10_1962-01-02_to_2021-01-04_oldformat__economics-databases_Interest-rate.csv", 3650, dt.date(1962, 1, 2), 4.06),
        ("fredgraph_DGS3MO_1981-09-01_to_2021-01-04_oldformat__economics-databases_Interest-rate.csv", 91, None, None),
        ("fredgraph_DGS3MO_2021-01-04_to_2026-04-24_newformat__ethanasbell_market-making-simulator.csv", 91, dt.date(2021, 1, 4), 0.09),
    ],
)  # fmt: skip
def test_fred_both_layouts(name: str, tenor: int, first, value) -> None:
    from gex.reference import continuous_from_bond_equivalent

    path = recorded(f"fred/{name}")
    assert detect_format(path) == "fred_csv"
    rates = read_reference(path)
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    missing = sum(1 for line in lines if line.split(",")[1].strip() in ("", "."))
    assert rates.rejects.height == 0 and rates.frame.height == len([x for x in lines if x.strip()]) - missing
    assert set(rates.frame["tenor_days"]) == {tenor}
    if first is not None:
        row = rates.frame.sort("date").row(0, named=True)
        assert row["date"] == first and row["rate"] == pytest.approx(continuous_from_bond_equivalent(value / 100))


def test_fred_refuses_other_series(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("DATE,DGS3MO\n2020-01-02,1.5\n", encoding="utf-8")
    assert read_reference(path).frame.height == 1
    from gex_sources.fred import parse_fred_csv

    with pytest.raises(SourceError, match="not a FRED fredgraph CSV"):
        parse_fred_csv("x", "DATE,DTB3\n2020-01-02,1.5\n")
