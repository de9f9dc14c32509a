"""Cboe quote tables (formats A and B) on small hand-made files: good, odd and bad inputs."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from gex.chain import CHAIN_SCHEMA, REJECT_SCHEMA, conform
from gex_sources import SourceError, detect_format, read_chain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sources_helpers import CLEAN_LINES, CSV_PREAMBLE, DAT_TABLE_HEADER, TABLE_HEADER, quote_line, write_lines

UTC = dt.timezone.utc
MakeCsv = Callable[..., Path]


def data_lines(path: Path) -> int:
    """Non-blank lines after the table header, counted naively (the test's own reading of the file)."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Expiration Date,Calls"))
    return sum(1 for line in lines[start + 1 :] if line.strip())


def assert_counting_invariant(path: Path, snap) -> None:
    assert 2 * data_lines(path) == snap.frame.height + 2 * snap.rejects.height
    assert snap.rejects["source_line"].is_unique().all()
    assert not set(snap.rejects["source_line"]) & set(snap.frame["source_line"])


# --------------------------------------------------------------------------------------------- clean file


def test_clean_file(make_csv: MakeCsv) -> None:
    path = make_csv()
    snap = read_chain(path)
    assert snap.source_format == "cboe_csv"
    assert (snap.underlying, snap.underlying_name, snap.spot) == ("SPX", "S&P 500 INDEX", 5900.5)
    # Monday 9:26 PM EST: after the close, so the session is that Monday, valued at its 16:00 close
    assert snap.snapshot_ts == dt.datetime(2025, 1, 7, 2, 26, tzinfo=UTC)
    assert snap.session == dt.date(2025, 1, 6)
    assert snap.valuation_ts == dt.datetime(2025, 1, 6, 21, 0, tzinfo=UTC)
    assert snap.header_date == dt.date(2025, 1, 6)
    assert snap.source == str(path)
    assert snap.warnings == ()
    assert snap.rejects.height == 0 and snap.rejects.schema == pl.Schema(REJECT_SCHEMA)

    f = snap.frame
    assert f.schema == pl.Schema(CHAIN_SCHEMA)
    assert conform(f).equals(f)
    assert f.height == 2 * len(CLEAN_LINES)
    assert f["source_line"].to_list() == [5, 5, 6, 6, 7, 7, 8, 8]  # 1-based physical lines, call then put
    assert f["right"].to_list() == ["C", "P"] * 4
    assert f["symbol"][0] == "SPXW250106C05900000"
    assert set(f["underlying"]) == {"SPX"} and set(f["multiplier"]) == {100.0}
    assert set(f["underlying_price"]) == {5900.5}
    assert set(f["oi_date"]) == {dt.date(2025, 1, 3)}  # start-of-day OI = previous session's close
    assert f["vendor_vega"].null_count() == f.height and f["vendor_theta"].null_count() == f.height
    row = f.row(0, named=True)
    assert (row["bid"], row["ask"], row["last"], row["volume"], row["open_interest"]) == (12.0, 13.0, 12.5, 100, 1000)
    assert (row["vendor_iv"], row["vendor_delta"], row["vendor_gamma"]) == (0.15, 0.51, 0.004)
    put = f.row(1, named=True)
    assert (put["bid"], put["volume"], put["open_interest"], put["vendor_delta"]) == (11.0, 90, 900, -0.49)

    # the monthly strike appears twice: AM-settled SPX (09:30 open) and PM-settled SPXW (16:00 close)
    monthly = f.filter(pl.col("expiration") == dt.date(2025, 1, 17)).select("root", "settlement", "settlement_ts")
    assert set(monthly.rows()) == {
        ("SPX", "AM", dt.datetime(2025, 1, 17, 14, 30, tzinfo=UTC)),
        ("SPXW", "PM", dt.datetime(2025, 1, 17, 21, 0, tzinfo=UTC)),
    }


def test_first_line_may_be_anything(make_csv: MakeCsv) -> None:
    ref = read_chain(make_csv(name="a.csv"))
    snap = read_chain(make_csv(preamble=("---Example Data---", *CSV_PREAMBLE[1:]), name="b.csv"))
    assert snap.frame.equals(ref.frame)


def test_bom_and_crlf_parse_identically(make_csv: MakeCsv) -> None:
    bad = [*CLEAN_LINES, quote_line(strike_text="abc")]
    ref = read_chain(make_csv(bad, name="clean.csv"))
    snap = read_chain(make_csv(bad, name="bom_crlf.csv", newline="\r\n", bom=True))
    assert snap.frame.equals(ref.frame)
    assert snap.rejects.equals(ref.rejects)
    assert "\r" not in snap.rejects["raw"][0]
    assert (snap.underlying_name, snap.spot, snap.snapshot_ts) == (ref.underlying_name, ref.spot, ref.snapshot_ts)


def test_spreadsheet_resave_padding_and_integer_strikes(make_csv: MakeCsv) -> None:
    ref = read_chain(make_csv(name="clean.csv"))
    resaved = [line.replace(".00,", ",", 1) + ",,," for line in CLEAN_LINES]  # "5900.00" -> "5900"
    assert ",5900," in resaved[0]
    snap = read_chain(make_csv(resaved, header=TABLE_HEADER + ",,,", name="resaved.csv"))
    assert snap.frame.equals(ref.frame)
    assert snap.rejects.height == 0
    assert any("trailing columns" in w for w in snap.warnings)


def test_quoted_name_with_commas_and_unquoted_day_first_date(make_csv: MakeCsv) -> None:
    preamble = (
        "",
        '"PowerShares QQQ Trust, Series 1 (ETF)",Last: 401.25,Change:  -1.5',
        'Date: 9 June 2023, 1:40 PM EDT,Bid: 401.2,Ask: 401.3,Size: 3*4,"Volume: 41,039,449"',
    )
    rows = [quote_line("Fri Jun 09 2023", "QQQ", "230609", 400), quote_line("Fri Jun 16 2023", "QQQ", "230616", 401)]
    snap = read_chain(make_csv(rows, preamble=preamble))
    assert (snap.underlying, snap.underlying_name, snap.spot) == (
        "QQQ",
        "PowerShares QQQ Trust, Series 1 (ETF)",
        401.25,
    )
    # intraday: the session is that day and the model values at the snapshot instant itself
    assert snap.session == dt.date(2023, 6, 9)
    assert snap.snapshot_ts == dt.datetime(2023, 6, 9, 17, 40, tzinfo=UTC)
    assert snap.valuation_ts == snap.snapshot_ts
    assert set(snap.frame["settlement"]) == {"PM"}
    assert snap.warnings == ()


def test_weekend_header_describes_the_previous_session(make_csv: MakeCsv) -> None:
    preamble = (*CSV_PREAMBLE[:2], '"Date: January 5, 2025 at 10:52 AM EST",Bid: 0,Ask: 0,Size: 0*0,Volume: 0')
    snap = read_chain(make_csv(preamble=preamble))
    assert snap.header_date == dt.date(2025, 1, 5)  # Sunday, what popular scripts call "today"
    assert snap.session == dt.date(2025, 1, 3)
    assert snap.valuation_ts == dt.datetime(2025, 1, 3, 21, 0, tzinfo=UTC)


def test_blank_lines_are_not_data_lines(make_csv: MakeCsv) -> None:
    path = make_csv([CLEAN_LINES[0], "", "   ", CLEAN_LINES[1], "", ""])
    snap = read_chain(path)
    assert snap.rejects.height == 0
    assert snap.frame["source_line"].unique().sort().to_list() == [5, 8]
    assert_counting_invariant(path, snap)


def test_header_only_table_is_an_empty_chain(make_csv: MakeCsv) -> None:
    snap = read_chain(make_csv([]))
    assert snap.frame.height == 0 and snap.frame.schema == pl.Schema(CHAIN_SCHEMA)
    assert snap.underlying == "SPX"  # from the header name, as there are no roots


def test_header_name_cross_checks(make_csv: MakeCsv) -> None:
    other = read_chain(make_csv(preamble=("", "NASDAQ 100,Last: 5900.5,Change: 1", CSV_PREAMBLE[2]), name="a.csv"))
    assert other.underlying == "SPX"  # the contracts' roots decide
    assert any("NDX" in w and "SPX" in w for w in other.warnings)
    unknown = read_chain(make_csv(preamble=("", "Some Index,Last: 5900.5,Change: 1", CSV_PREAMBLE[2]), name="b.csv"))
    assert unknown.underlying == "SPX"
    assert any("not recognised" in w for w in unknown.warnings)


def test_mislabelled_zone_is_a_warning(make_csv: MakeCsv) -> None:
    preamble = (*CSV_PREAMBLE[:2], '"Date: June 11, 2025, 8:47 PM EST",Bid: 0,Ask: 0,Size: 0*0,Volume: 0')
    rows = [quote_line("Fri Jun 13 2025", "SPXW", "250613", 5900)]
    snap = read_chain(make_csv(rows, preamble=preamble))
    assert any("EST" in w for w in snap.warnings)


# ------------------------------------------------------------------------------------------ row rejects


def test_non_numeric_strike_rejects_only_that_line(make_csv: MakeCsv) -> None:
    bad = quote_line("Mon Jan 06 2025", "SPXW", "250106", 5910, strike_text="abc")
    path = make_csv([CLEAN_LINES[0], bad, *CLEAN_LINES[1:]])
    snap = read_chain(path)
    assert snap.frame.height == 2 * len(CLEAN_LINES)
    assert snap.rejects.rows() == [(6, bad, "non-numeric strike: 'abc'")]
    assert any("1 source rows rejected" in w for w in snap.warnings)
    assert_counting_invariant(path, snap)


def test_short_line_is_rejected(make_csv: MakeCsv) -> None:
    short = "Mon Jan 06 2025,SPXW250106C05910000,1,2"
    snap = read_chain(make_csv([*CLEAN_LINES, short]))
    assert snap.rejects.rows() == [(9, short, "wrong number of fields: 4, expected 22")]
    assert snap.frame.height == 8


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (quote_line(strike_text=""), "non-numeric strike"),
        (quote_line(strike_text="-5"), "non-numeric strike"),
        (quote_line(strike_text="nan"), "non-numeric strike"),
        (quote_line("Jan 6th", "SPXW", "250106", 5900), "unparseable expiration: 'Jan 6th'"),
        (quote_line("Tue Jan 06 2025", "SPXW", "250106", 5900), "unparseable expiration"),  # weekday contradicts
        (quote_line(call="SPXW250106C0590000"), "malformed OSI symbol (call)"),
        (quote_line(put="SPXW2501O6P05900000"), "malformed OSI symbol (put)"),
        (quote_line().replace("SPXW250106C05900000", "", 1), "malformed OSI symbol (call): ''"),
        (quote_line(call="SPXW250106P05900000"), "wrong right: call column"),
        (quote_line(put="SPXW250106C05900000"), "wrong right: put column"),
        (quote_line("Tue Jan 07 2025", "SPXW", "250106", 5900), "expiration mismatch"),
        (quote_line(strike=5900, strike_text="5905.00"), "strike mismatch"),
        (quote_line(put="SPX250106P05900000"), "root mismatch"),
        (quote_line(root="SPXQ"), "unknown settlement: root 'SPXQ'"),
        (quote_line(root="XSP", strike=590), "root of another underlying: 'XSP'"),
        (quote_line().replace(",12.0,13.0,", ",12.0,x,", 1), "non-numeric ask (call)"),
        (quote_line().replace(",0.16,", ",inf,", 1), "non-numeric iv (put)"),
        (quote_line().replace(",100,", ",1.5,", 1), "non-integer volume (call)"),
        (quote_line().replace(",900", ",-3"), "non-integer open_interest (put)"),
        (quote_line() + ",,x", "wrong number of fields: 24"),  # extra columns that are not empty
    ],
)
def test_row_problems_become_rejects(make_csv: MakeCsv, line: str, reason: str) -> None:
    path = make_csv([*CLEAN_LINES, line])
    snap = read_chain(path)
    assert snap.rejects.height == 1, snap.rejects
    source_line, raw, why = snap.rejects.row(0)
    assert (source_line, raw) == (9, line)
    assert why.startswith(reason), why
    assert snap.frame.height == 2 * len(CLEAN_LINES)
    assert_counting_invariant(path, snap)


def test_empty_cells_are_missing_values_not_rejects(make_csv: MakeCsv) -> None:
    line = quote_line().replace(",12.5,1.0,12.0,", ",,1.0,,", 1)
    snap = read_chain(make_csv([line]))
    assert snap.rejects.height == 0
    call = snap.frame.row(0, named=True)
    assert call["last"] is None and call["bid"] is None and call["ask"] == 13.0


def test_quoted_and_padded_cells_are_cleaned(make_csv: MakeCsv) -> None:
    ref = read_chain(make_csv(name="a.csv"))
    edited = ['"' + line.replace(",", '", "') + '"' for line in CLEAN_LINES]  # "x", "y", ... (hand edit)
    snap = read_chain(make_csv(edited, name="b.csv"))
    assert snap.rejects.height == 0
    assert snap.frame.equals(ref.frame)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(["good", "strike", "short", "blank", "symbol", "expiry"]), max_size=30))
def test_counting_invariant_holds_for_any_mix(tmp_path: Path, kinds: list[str]) -> None:
    makers = {
        "good": lambda k: quote_line(strike=5000 + 5 * k),
        "strike": lambda k: quote_line(strike=5000 + 5 * k, strike_text="x"),
        "short": lambda k: "Mon Jan 06 2025,SPXW250106C05000000",
        "blank": lambda k: "",
        "symbol": lambda k: quote_line(strike=5000 + 5 * k, call="BAD"),
        "expiry": lambda k: quote_line("Mon Jan 13 2025", strike=5000 + 5 * k),
    }
    lines = [makers[kind](k) for k, kind in enumerate(kinds)]
    path = write_lines(tmp_path / "mix.csv", [*CSV_PREAMBLE, TABLE_HEADER, *lines])
    snap = read_chain(path)
    assert snap.rejects.height == sum(kind not in ("good", "blank") for kind in kinds)
    assert_counting_invariant(path, snap)


# --------------------------------------------------------------------------------------- file-level errors


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="file not found"):
        read_chain(tmp_path / "nope.csv")
    with pytest.raises(SourceError, match="file not found"):
        read_chain(tmp_path / "nope.csv", format="cboe_csv")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="directory"):
        read_chain(tmp_path, format="cboe_csv")


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=r"empty\.csv: empty file"):
        read_chain(path)
    with pytest.raises(SourceError, match="empty file"):
        read_chain(path, format="cboe_csv")


def test_binary_garbage(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    with pytest.raises(SourceError, match="binary"):
        read_chain(path)
    with pytest.raises(SourceError, match="binary"):
        read_chain(path, format="cboe_csv")


def test_no_table_header(make_csv: MakeCsv) -> None:
    path = make_csv(header=None)
    with pytest.raises(SourceError, match="no table header"):
        read_chain(path)  # detected as a Cboe CSV from its header lines, then refused with the real problem


def test_wrong_number_of_columns_in_table_header(make_csv: MakeCsv) -> None:
    path = make_csv(header=TABLE_HEADER.rsplit(",", 1)[0])
    with pytest.raises(SourceError, match=r"spx_quotedata\.csv:4: table header has 21 columns, expected 22") as err:
        read_chain(path)
    assert "'Expiration Date,Calls," in str(err.value)
    assert err.value.line == 4


def test_misplaced_column_in_table_header(make_csv: MakeCsv) -> None:
    path = make_csv(header=TABLE_HEADER.replace("Bid,Ask", "Ask,Bid", 1))
    with pytest.raises(SourceError, match="column 5 is 'Ask', expected 'Bid'"):
        read_chain(path)


def test_corrupt_header_date_is_rejected_with_the_line_quoted(make_csv: MakeCsv) -> None:
    preamble = (*CSV_PREAMBLE[:2], '"Date: 4 June 4, 3:15 PM EDT",Bid: 0,Ask: 0,Size: 0*0,Volume: 0')
    with pytest.raises(SourceError) as err:
        read_chain(make_csv(preamble=preamble))
    assert "spx_quotedata.csv:3: cannot parse header date 'Date: 4 June 4, 3:15 PM EDT'" in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("preamble", "message"),
    [
        (("", "S&P 500 INDEX,Change: 1", CSV_PREAMBLE[2]), "missing spot"),
        (("", "S&P 500 INDEX,Last: n/a,Change: 1", CSV_PREAMBLE[2]), r":2: missing spot"),
        (("", "S&P 500 INDEX,Last: 0,Change: 1", CSV_PREAMBLE[2]), "missing spot"),
        (CSV_PREAMBLE[:2], "no 'Date: <timestamp>' line"),
        (("", "S&P 500 INDEX,Last: 1,Change: 1", '"Date: 31 February 2023, 1:00 PM EST",Bid: 0'), "impossible date"),
        (("", "S&P 500 INDEX,Last: 1,Change: 1", '"Date: February 3, 2060, 1:00 PM EST",Bid: 0'), "unusable"),
    ],
)
def test_header_problems_are_file_errors(make_csv: MakeCsv, preamble: tuple[str, ...], message: str) -> None:
    with pytest.raises(SourceError, match=message):
        read_chain(make_csv(preamble=preamble), format="cboe_csv")


def test_long_offending_lines_are_truncated(make_csv: MakeCsv) -> None:
    header = TABLE_HEADER + ",Extra" * 50
    with pytest.raises(SourceError) as err:
        read_chain(make_csv(header=header))
    message = str(err.value)
    quoted = message[message.index(" 'Expiration") + 1 :]
    assert quoted.endswith("...'") and len(quoted) <= 125


def test_unknown_underlying_without_rows_is_a_file_error(make_csv: MakeCsv) -> None:
    with pytest.raises(SourceError, match="cannot tell the underlying"):
        read_chain(make_csv([], preamble=("", "Mystery,Last: 5,Change: 1", CSV_PREAMBLE[2])))


def test_unknown_format_name(make_csv: MakeCsv) -> None:
    with pytest.raises(ValueError, match="unknown source format 'excel'"):
        read_chain(make_csv(), format="excel")


# ---------------------------------------------------------------------------------- legacy .dat, detection

DAT_LINES = (
    "QQQ (PowerShares QQQ Trust, Series 1 (ETF)),250.10,1.2",
    "Jul 04 2020 @ 13:52 ET,Bid,0,Ask,0,Size,0x0,Vol,1234",
    DAT_TABLE_HEADER,
    "07/02/2020,QQQ200702C00250000,1.5,0,1.4,1.6,10,0.2,0.6,0.05,100,250.000,"
    "QQQ200702P00250000,0.5,0,0.4,0.6,20,0.2,-0.4,0.05,200",
    "07/17/2020,QQQ200717C00252500,1.5,0,1.4,1.6,10,0.2,0.6,0.05,100,252.500,"
    "QQQ200717P00252500,0.5,0,0.4,0.6,20,0.2,-0.4,0.05,200",
)


def test_legacy_dat(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "quotedata.dat", DAT_LINES, newline="\r\n")
    assert detect_format(path) == "cboe_dat"
    snap = read_chain(path)
    assert snap.source_format == "cboe_dat"
    assert (snap.underlying, snap.underlying_name, snap.spot) == ("QQQ", "PowerShares QQQ Trust, Series 1 (ETF)", 250.1)
    assert snap.header_date == dt.date(2020, 7, 4)  # a Saturday; Friday 3 July 2020 was a holiday
    assert snap.session == dt.date(2020, 7, 2)
    assert snap.frame["expiration"].unique().sort().to_list() == [dt.date(2020, 7, 2), dt.date(2020, 7, 17)]
    assert snap.frame["strike"].to_list() == [250.0, 250.0, 252.5, 252.5]
    assert snap.frame["source_line"].to_list() == [4, 4, 5, 5]
    assert snap.rejects.height == 0 and snap.warnings == ()


def test_legacy_dat_header_problems(tmp_path: Path) -> None:
    bad_date = write_lines(tmp_path / "a.dat", [DAT_LINES[0], "Jul 4 @ 13:52 ET,Bid,0", *DAT_LINES[2:]])
    with pytest.raises(SourceError, match=r"a\.dat:2: cannot parse header date 'Jul 4 @ 13:52 ET'"):
        read_chain(bad_date, format="cboe_dat")
    no_spot = write_lines(tmp_path / "b.dat", ["QQQ (Invesco QQQ),n/a,1", *DAT_LINES[1:]])
    with pytest.raises(SourceError, match=r"b\.dat:1: missing spot"):
        read_chain(no_spot, format="cboe_dat")


def test_detection_uses_content_not_extension(tmp_path: Path, make_csv: MakeCsv, make_json) -> None:
    assert detect_format(make_csv(name="chain.txt")) == "cboe_csv"
    assert detect_format(write_lines(tmp_path / "chain.csv", DAT_LINES)) == "cboe_dat"
    assert detect_format(make_json(name="chain.csv")) == "cboe_json"
    with pytest.raises(SourceError, match=r"unrecognised format .*'foo,bar,baz'"):
        detect_format(write_lines(tmp_path / "mystery.csv", ["foo,bar,baz", "1,2,3"]))


def test_explicit_format_overrides_detection(make_csv: MakeCsv) -> None:
    path = make_csv()
    assert read_chain(path, format="cboe_csv").frame.height == 8
    with pytest.raises(SourceError, match="missing spot"):
        read_chain(path, format="cboe_dat")
