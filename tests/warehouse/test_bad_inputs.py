"""A bad-input corpus the project builds itself: generated chains, corrupted one way each, ingested.

Every case states its outcome in full: either a clear file error (status failed, the message names the file
and the problem, no data row written), or exactly which records went to raw.quarantine with which reason,
and that nothing else was lost (``rows_in`` counted naively from the file = loaded + rejected, the loaded
rows are in raw.chain_quotes).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from gex_warehouse.load import ingest_file

from tests.sources.test_datashop import CALCS_HEADER as DS_HEADER
from tests.sources.test_datashop import row as ds_row
from tests.warehouse.helpers import HEADER_LINES, SESSION, chain_csv, chain_json, data_lines, rows

#: Data line (0-based among data lines) the row-level cases corrupt: an unexpired SPXW pair (Jan 09 2024).
T = 4
T_LINE = HEADER_LINES + 1 + T  # its physical line number
#: Field positions in a quote-table line.
CALL_BID, CALL_ASK, CALL_IV, CALL_OI, STRIKE, PUT_ASK = 4, 5, 7, 10, 11, 16


@dataclass(frozen=True)
class Case:
    """One corrupted file and its expected outcome.

    make: writes the file from the clean lines (CSV cases) or the clean JSON document (JSON cases).
    failed: substring of the file-level error, or None when the file loads.
    quarantined: expected raw.quarantine rows (source_line, records, stage, reason substring), exactly.
    """

    id: str
    make: Callable[[Path, list[str]], Path]
    failed: str | None = None
    quarantined: list[tuple[int, int, str, str]] = field(default_factory=list)
    kind: str = "csv"


def _write(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_text(newline.join(lines) + newline, encoding="utf-8")
    return path


def _edit(fields: dict[int, str], line: int = T) -> Callable[[Path, list[str]], Path]:
    """Replace some fields of data line ``line``."""

    def make(path: Path, lines: list[str]) -> Path:
        out = list(lines)
        i = HEADER_LINES + line
        parts = out[i].split(",")
        for pos, value in fields.items():
            parts[pos] = value
        out[i] = ",".join(parts)
        return _write(path, out)

    return make


def _text(transform: Callable[[str], str]) -> Callable[[Path, list[str]], Path]:
    def make(path: Path, lines: list[str]) -> Path:
        return _write(path, [transform(line) for line in lines])

    return make


def _bytes(data: bytes) -> Callable[[Path, list[str]], Path]:
    def make(path: Path, lines: list[str]) -> Path:
        path.write_bytes(data)
        return path

    return make


def _truncated_mid_line(path: Path, lines: list[str]) -> Path:
    text = "\n".join(lines)
    path.write_text(text[: len(text) - 40], encoding="utf-8")  # cut inside the last line, no newline
    return path


def _drop_iv_columns(path: Path, lines: list[str]) -> Path:
    out = lines[: HEADER_LINES - 1]
    for line in lines[HEADER_LINES - 1 :]:
        parts = line.split(",")
        out.append(",".join(p for i, p in enumerate(parts) if i not in (CALL_IV, CALL_IV + 11)))
    return _write(path, out)


def _append_copy_of_t(change_oi: bool) -> Callable[[Path, list[str]], Path]:
    def make(path: Path, lines: list[str]) -> Path:
        copy = lines[HEADER_LINES + T].split(",")
        if change_oi:
            copy[CALL_OI] = str(int(copy[CALL_OI]) + 1)
        return _write(path, [*lines, ",".join(copy)])

    return make


def _expiry_before_session(path: Path, lines: list[str]) -> Path:
    parts = lines[HEADER_LINES + T].split(",")
    parts[0] = "Wed Jan 03 2024"
    parts[1] = parts[1].replace("240109", "240103")
    parts[12] = parts[12].replace("240109", "240103")
    out = list(lines)
    out[HEADER_LINES + T] = ",".join(parts)
    return _write(path, out)


def _unknown_root(path: Path, lines: list[str]) -> Path:
    out = list(lines)
    out[HEADER_LINES + T] = out[HEADER_LINES + T].replace("SPXW", "SPXQ")
    return _write(path, out)


def _all_strikes_garbage(path: Path, lines: list[str]) -> Path:
    out = lines[:HEADER_LINES]
    for line in lines[HEADER_LINES:]:
        parts = line.split(",")
        parts[STRIKE] = "x"
        out.append(",".join(parts))
    return _write(path, out)


def _blank_lines(path: Path, lines: list[str]) -> Path:
    return _write(path, [*lines[: HEADER_LINES + 2], "", *lines[HEADER_LINES + 2 :], ""])


def _padding(path: Path, lines: list[str]) -> Path:
    return _write(path, [*lines[:HEADER_LINES], *(line + ",,," for line in lines[HEADER_LINES:])])


def _json(change: Callable[[dict], object]) -> Callable[[Path, list[str]], Path]:
    def make(path: Path, lines: list[str]) -> Path:
        doc = chain_json(path)
        new = change(doc)
        path.write_text(new if isinstance(new, str) else json.dumps(doc), encoding="utf-8")
        return path

    return make


def _set_record(index: int, **values: object) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        doc["data"]["options"][index].update(values)

    return change


def _duplicate_record(doc: dict) -> None:
    doc["data"]["options"].append(dict(doc["data"]["options"][T]))


def _utf16(path: Path, lines: list[str]) -> Path:
    path.write_bytes(codecs.BOM_UTF16_LE + ("\n".join(lines) + "\n").encode("utf-16-le"))
    return path


def _header_date(old: str, new: str) -> Callable[[Path, list[str]], Path]:
    """Replace text in the header's ``Date:`` line only."""
    return _text(lambda s: s.replace(old, new) if s.startswith('"Date:') else s)


def _json_text(value: object, token: str) -> Callable[[Path, list[str]], Path]:
    """Set record T's ``open_interest`` to a placeholder, then write ``token`` (raw JSON text) in its place:
    for literals ``json.dumps`` cannot produce (``1e400``, ``NaN``, 5000-digit integers)."""

    def make(path: Path, lines: list[str]) -> Path:
        doc = chain_json(path)
        doc["data"]["options"][T][str(value)] = 987654321.125
        path.write_text(json.dumps(doc).replace("987654321.125", token), encoding="utf-8")
        return path

    return make


def _json_deep(path: Path, lines: list[str]) -> Path:
    depth = 100_000
    path.write_text('{"data": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    return path


def _json_spot(value: object) -> Callable[[Path, list[str]], Path]:
    def change(doc: dict) -> None:
        doc["data"]["current_price"] = value

    return _json(change)


R, V = "reader", "validation"
OUT_OF_RANGE = "out of range (max 9,007,199,254,740,991)"

CASES = [
    # --- file-level problems: one clear error, nothing written --------------------------------------
    Case("empty-file", _bytes(b""), failed="empty file"),
    Case("blank-file", _bytes(b"  \n\n \r\n"), failed="empty file"),
    Case("binary-garbage", _bytes(bytes(range(256)) * 40), failed="binary content"),
    Case("truncated-in-preamble", lambda p, ls: _write(p, ls[:3]), failed="no table header"),
    Case("semicolon-delimiter", _text(lambda s: s.replace(",", ";")), failed="no table header"),
    Case("tab-delimiter", _text(lambda s: s.replace(",", "\t")), failed="no table header"),
    Case("not-a-chain", _bytes(b"date,price\n2024-01-05,4700\n"), failed="unrecognised format"),
    Case("missing-iv-columns", _drop_iv_columns, failed="table header has 20 columns, expected 22"),
    Case(
        "renamed-column",
        _text(lambda s: s.replace(",Strike,", ",Strike Price,")),
        failed="table header column 12 is 'Strike Price'",
    ),
    Case(
        "corrupt-header-date",
        _text(lambda s: s.replace("Date: January 5, 2024 at 8:30 PM EST", "Date: 4 June 4, 3:15 PM EDT")),
        failed="header date",
    ),
    Case("header-only", lambda p, ls: _write(p, ls[:HEADER_LINES]), failed="no data records"),
    Case("json-missing-data-key", _json(lambda d: d.pop("data")), failed="no 'data' object", kind="json"),
    Case("json-truncated", _json(lambda d: json.dumps(d)[:5000]), failed="invalid JSON", kind="json"),
    # --- row-level problems: exact records quarantined ------------------------------------------------
    Case("truncated-mid-line", _truncated_mid_line, quarantined=[(-1, 2, R, "wrong number of fields")]),
    Case("non-numeric-strike", _edit({STRIKE: "49OO.00"}), quarantined=[(T_LINE, 2, R, "non-numeric strike")]),
    Case("negative-oi", _edit({CALL_OI: "-5"}), quarantined=[(T_LINE, 2, R, "non-integer open_interest (call)")]),
    Case("nan-string", _edit({CALL_BID: "NaN"}), quarantined=[(T_LINE, 2, R, "non-numeric bid (call)")]),
    Case("dash-string", _edit({PUT_ASK: "-"}), quarantined=[(T_LINE, 2, R, "non-numeric ask (put)")]),
    Case("unknown-root", _unknown_root, quarantined=[(T_LINE, 2, R, "unknown settlement")]),
    Case("bid-above-ask", _edit({CALL_BID: "9.5", CALL_ASK: "5.25"}), quarantined=[(T_LINE, 1, V, "bid above ask: bid 9.5 > ask 5.25")]),
    Case(
        "expiry-before-session",
        _expiry_before_session,
        quarantined=[(T_LINE, 1, V, "expiration 2024-01-03 before the session 2024-01-05")] * 2,
    ),
    Case(
        "absurd-price",
        _edit({CALL_BID: "1000000000000", CALL_ASK: "2000000000000"}),
        quarantined=[(T_LINE, 1, V, "absurd bid: 1000000000000.0 exceeds spot 4700.0 + strike")],
    ),
    Case("absurd-iv", _edit({CALL_IV: "123456"}), quarantined=[(T_LINE, 1, V, "implausible implied volatility: 123456")]),
    Case("negative-iv", _edit({CALL_IV: "-0.2"}), quarantined=[(T_LINE, 1, V, "implausible implied volatility: -0.2")]),
    Case(
        "duplicate-identical-line",
        _append_copy_of_t(change_oi=False),
        quarantined=[(-1, 1, V, f"identical copy of line {T_LINE}")] * 2,
    ),
    Case(
        "duplicate-conflicting-line",
        _append_copy_of_t(change_oi=True),
        # the calls disagree (OI): both quarantined; the puts agree: the later copy only
        quarantined=[
            (T_LINE, 1, V, "conflicting duplicate contract"),
            (-1, 1, V, "conflicting duplicate contract"),
            (-1, 1, V, f"identical copy of line {T_LINE}"),
        ],
    ),
    Case(
        "json-string-bid",
        _json(_set_record(T, bid="abc")),
        quarantined=[(T + 1, 1, R, "non-numeric bid: 'abc'")],
        kind="json",
    ),
    Case(
        "json-negative-oi",
        _json(_set_record(T, open_interest=-3.0)),
        quarantined=[(T + 1, 1, R, "non-integer open_interest: -3.0")],
        kind="json",
    ),
    Case("json-bid-above-ask", _json(_set_record(T, bid=9.0, ask=1.0)), quarantined=[(T + 1, 1, V, "bid above ask")], kind="json"),
    Case("json-duplicate-record", _json(_duplicate_record), quarantined=[(-1, 1, V, f"identical copy of line {T + 1}")], kind="json"),
    # --- numbers too large to hold: row rejects naming the field and the range (issue 10, defect 4) --------
    Case(
        "oi-twenty-nines",
        _edit({CALL_OI: "99999999999999999999"}),
        quarantined=[(T_LINE, 2, R, f"open_interest (call) '99999999999999999999' {OUT_OF_RANGE}")],
    ),
    Case("volume-1e19", _edit({CALL_OI - 4: "1e19"}), quarantined=[(T_LINE, 2, R, f"volume (call) '1e19' {OUT_OF_RANGE}")]),
    Case(
        "bid-1e400",
        _edit({CALL_BID: "1e400"}),
        quarantined=[(T_LINE, 2, R, "bid (call) '1e400' out of range (overflows a 64-bit float)")],
    ),
    Case("put-oi-1e20", _edit({CALL_OI + 11: "1e20"}), quarantined=[(T_LINE, 2, R, f"open_interest (put) '1e20' {OUT_OF_RANGE}")]),
    Case(
        "iv-1e400",
        _edit({CALL_IV: "1e400"}),
        quarantined=[(T_LINE, 2, R, "iv (call) '1e400' out of range (overflows a 64-bit float)")],
    ),
    Case("oi-word-inf", _edit({CALL_OI: "inf"}), quarantined=[(T_LINE, 2, R, "non-integer open_interest (call): 'inf'")]),
    Case("oi-fractional", _edit({CALL_OI: "12.5"}), quarantined=[(T_LINE, 2, R, "non-integer open_interest (call): '12.5'")]),
    Case("strike-inf", _edit({STRIKE: "inf"}), quarantined=[(T_LINE, 2, R, "non-numeric strike: 'inf'")]),
    Case(
        "expiry-weekday-contradicts-date",
        _edit({0: "Mon Jan 09 2024"}),
        quarantined=[(T_LINE, 2, R, "unparseable expiration: 'Mon Jan 09 2024'")],
    ),
    Case("osi-symbol-with-path", _edit({1: "SPXW/../../x"}), quarantined=[(T_LINE, 2, R, "malformed OSI symbol (call)")]),
    Case(
        "json-oi-1e30",
        _json(_set_record(T, open_interest=10**30)),
        quarantined=[(T + 1, 1, R, f"open_interest 1e+30 {OUT_OF_RANGE}")],
        kind="json",
    ),
    Case(
        "json-oi-400-digit-integer",
        _json(_set_record(T, open_interest=10**400)),
        quarantined=[(T + 1, 1, R, f"open_interest 1{'0' * 19}... {OUT_OF_RANGE}")],
        kind="json",
    ),
    Case(
        "json-bid-1e400",
        _json_text("bid", "1e400"),
        quarantined=[(T + 1, 1, R, "bid inf out of range (overflows a 64-bit float)")],
        kind="json",
    ),
    Case("json-oi-nan-token", _json_text("open_interest", "NaN"), quarantined=[(T + 1, 1, R, "non-integer open_interest: nan")], kind="json"),
    Case("json-record-not-object", _json(lambda d: d["data"]["options"].__setitem__(T, 5)), quarantined=[(T + 1, 1, R, "record is not an object")], kind="json"),
    Case("json-symbol-is-number", _json(_set_record(T, option=123)), quarantined=[(T + 1, 1, R, "malformed OSI symbol: 123")], kind="json"),
    # --- unparseable structures and impossible headers: one file-level message ----------------------------
    Case("json-nested-100k-deep", _json_deep, failed="invalid JSON: nested too deeply", kind="json"),
    Case(
        "json-5000-digit-integer",
        _json_text("open_interest", "9" * 5000),
        failed="invalid JSON: Exceeds the limit (4300 digits)",
        kind="json",
    ),
    Case(
        "json-not-utf8",
        lambda p, ls: (p.write_bytes(b'{"data": {"options": [], "x": "\xff\xfe\xfd"}}'), p)[1],
        failed="invalid JSON: the bytes are not UTF-8 text",
        kind="json",
    ),
    Case("json-spot-text", _json_spot("abc"), failed='missing spot: data.current_price is "abc" (want', kind="json"),
    Case("json-spot-null", _json_spot(None), failed="missing spot: data.current_price is absent", kind="json"),
    Case("json-spot-negative", _json_spot(-4700.0), failed="missing spot: data.current_price is -4700.0", kind="json"),
    Case(
        "json-timestamp-garbage",
        _json(lambda d: d.__setitem__("timestamp", "yesterday")),
        failed="cannot parse JSON timestamp 'yesterday'",
        kind="json",
    ),
    Case(
        "header-year-1990",
        _header_date("2024", "1990"),
        failed="implausible header date: session 1990-01-05 but expirations 2024-01-05..",
    ),
    Case("header-year-2014", _header_date("2024", "2014"), failed="more than 10 years later"),
    Case("header-year-2031", _header_date("2024", "2031"), failed="session 2031-01-03 is after every expiration"),
    # --- harmless variations: load exactly like the clean file ------------------------------------------
    Case("cr-only-line-ends", lambda p, ls: _write(p, ls, newline="\r")),
    Case("json-spot-numeric-string", _json_spot("4700.0"), kind="json"),
    Case("oi-exponent-notation-kept", _edit({CALL_OI: "1e3"})),
    Case("byte-order-mark", lambda p, ls: (p.write_bytes(codecs.BOM_UTF8 + ("\n".join(ls) + "\n").encode()), p)[1]),
    Case("crlf-line-ends", lambda p, ls: _write(p, ls, newline="\r\n")),
    Case("utf16-spreadsheet-save", _utf16),
    Case("blank-lines-inside", _blank_lines),
    Case("spreadsheet-padding", _padding),
    Case("iv-placeholder-zero-kept", _edit({CALL_IV: "0"})),
    Case("empty-bid-kept", _edit({CALL_BID: ""})),
]


@pytest.fixture(scope="module")
def clean_lines(tmp_path_factory) -> list[str]:
    path = chain_csv(tmp_path_factory.mktemp("clean") / "clean.csv")
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def _naive_records(path: Path, kind: str) -> int:
    """Contract records in the file, counted without the readers: 2 per quote-table data line, 1 per JSON record."""
    if kind == "json":
        return len(json.loads(path.read_text(encoding="utf-8"))["data"]["options"])
    return 2 * len(data_lines(path))


def test_corpus_is_big_enough():
    ids = [c.id for c in CASES] + [c.id for c in FILE_CASES]
    assert len(ids) >= 70
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, clean_lines, tmp_path, con):
    path = case.make(tmp_path / f"{case.id}.{'json' if case.kind == 'json' else 'csv'}", clean_lines)
    result = ingest_file(con, path)
    quotes = rows(con, "SELECT count(*) FROM raw.chain_quotes")[0][0]
    manifest = rows(con, "SELECT status, rows_in, rows_loaded, rows_rejected, message FROM raw.load_manifest")

    if case.failed is not None:
        assert result.status == "failed"
        assert result.message is not None and str(path) in result.message, result.message
        assert case.failed in result.message, result.message
        assert "\n" not in result.message  # one line
        assert quotes == 0
        assert rows(con, "SELECT count(*) FROM raw.quarantine")[0][0] == 0
        assert rows(con, "SELECT count(*) FROM raw.chain_snapshots")[0][0] == 0
        assert manifest == [("failed", 0, 0, 0, result.message)]
        return

    assert result.status == "loaded", result.message
    n_in = _naive_records(path, case.kind)
    assert result.rows_in == n_in
    assert result.rows_in == result.rows_loaded + result.rows_rejected
    assert quotes == result.rows_loaded
    assert manifest[0][:4] == ("loaded", n_in, result.rows_loaded, result.rows_rejected)
    got = rows(
        con,
        "SELECT source_line, records, stage, reason, raw_text, source_file FROM raw.quarantine ORDER BY source_line, reason",
    )
    last_line = max(n for n, _ in data_lines(path)) if case.kind == "csv" else n_in
    expected = sorted((last_line if line == -1 else line, n, stage, why) for line, n, stage, why in case.quarantined)
    assert len(got) == len(expected), got
    for (line, n, stage, why), (g_line, g_n, g_stage, g_reason, g_raw, g_file) in zip(expected, got, strict=True):
        assert (g_line, g_n, g_stage) == (line, n, stage)
        assert why in g_reason, g_reason
        assert g_file == str(path)
        assert g_raw, "raw text kept"
        if case.kind == "csv" and g_line <= len(clean_lines) + 2:
            physical = path.read_bytes().decode("utf-8", "replace").splitlines()[g_line - 1]
            assert g_raw == physical
    assert result.rows_rejected == sum(n for _, n, _, _ in expected)
    # Expired rows: the generated evening snapshot's 0-DTE SPXW rows of the session, counted independently.
    if case.kind == "csv":
        expired_in_file = sum(2 for _, line in data_lines(path) if line.startswith("Fri Jan 05 2024"))
        assert result.rows_excluded == expired_in_file
    assert rows(con, "SELECT count(*) FROM raw.chain_quotes WHERE session = ?", [SESSION])[0][0] == result.rows_loaded


def test_every_record_rejected_keeps_the_previous_chain(clean_lines, tmp_path, con):
    good = _write(tmp_path / "good.csv", clean_lines)
    assert ingest_file(con, good).status == "loaded"
    before = rows(con, "SELECT count(*), min(load_id) FROM raw.chain_quotes")[0]
    bad = _all_strikes_garbage(tmp_path / "bad.csv", clean_lines)
    result = ingest_file(con, bad)
    assert result.status == "rejected"
    assert result.rows_loaded == 0 and result.rows_rejected == result.rows_in == 2 * len(data_lines(bad))
    assert "no valid record" in (result.message or "")
    assert rows(con, "SELECT count(*), min(load_id) FROM raw.chain_quotes")[0] == before
    assert rows(con, "SELECT sum(records) FROM raw.quarantine WHERE load_id = ?", [result.load_id])[0][0] == result.rows_in
    assert rows(con, "SELECT status FROM raw.load_manifest WHERE load_id = ?", [result.load_id]) == [("rejected",)]


def test_missing_file_fails_without_a_manifest_row(tmp_path, con):
    result = ingest_file(con, tmp_path / "nope.csv")
    assert result.status == "failed" and "file not found" in (result.message or "")
    assert rows(con, "SELECT count(*) FROM raw.load_manifest")[0][0] == 0


# --- the other formats: DataShop, OCC open interest, SqueezeMetrics, closes, canonical, gflows ---------------


@dataclass(frozen=True)
class FileCase:
    """A hand-made file of another format and its exact outcome.

    lines: the file's lines (joined with ``newline``); status: the manifest status; failed: substring of the
    file-level message; quarantined: exact raw.quarantine rows (source_line, stage, reason substring);
    warning: substring of one manifest warning.
    """

    id: str
    lines: list[str]
    status: str
    failed: str | None = None
    quarantined: list[tuple[int, str, str]] = field(default_factory=list)
    warning: str | None = None
    newline: str = "\n"
    suffix: str = "csv"


GOOD, GOOD_PUT = ds_row(), ds_row(option_type="P")
TRAVERSAL = "x/../../../../tmp/escaped/vix"
OCC = "date,symbol,open_interest"
DIX = "date,price,dix,gex"
CANONICAL = "underlying,session,root,expiration,strike,right,underlying_price,open_interest"
IDENT = "(want a letter or digit, then up to 15 letters, digits, '.', '_' or '-')"


def _gflows(ticker: str = "SPY", body: str | None = None) -> list[str]:
    doc = {"ticker": ticker, "spotPrice": 599.14, "lastUpdated": "2025-06-06T20:18:25",
           "expiryData": {"all": {"strikeData": [{"strike": 600.0, "gamma": {"callExposure": 1.0, "putExposure": -0.5,
                                                                             "totalExposure": 0.5}}],
                                  "totalExposure": 0.5, "zeroGamma": 592.8}}}  # fmt: skip
    return [json.dumps(doc) if body is None else body]


FILE_CASES = [
    # DataShop: identifiers that become export paths, validated at ingest (issue 10, defect 6)
    FileCase(
        "datashop-path-traversal-underlying",
        [DS_HEADER, GOOD, ds_row(underlying_symbol=TRAVERSAL, root="VIX"), GOOD_PUT],
        "loaded",
        quarantined=[(3, R, f"invalid underlying_symbol 'X/../../../../TMP/ESCAPED/VIX' {IDENT}")],
    ),
    FileCase(
        "datashop-only-traversal-rows",
        [DS_HEADER, ds_row(underlying_symbol=TRAVERSAL, root="VIX"), ds_row(underlying_symbol="a b", root="VIX")],
        "rejected",
        quarantined=[(2, R, "invalid underlying_symbol 'X/../../"), (3, R, "invalid underlying_symbol 'A B'")],
        warning="no usable row: all 2 data lines rejected",
    ),
    FileCase(
        "datashop-underlying-17-characters",
        [DS_HEADER, GOOD, ds_row(underlying_symbol="ABCDEFGHIJKLMNOPQ", root="ABC")],
        "loaded",
        quarantined=[(3, R, "invalid underlying_symbol 'ABCDEFGHIJKLMNOPQ'")],
    ),
    FileCase(
        "datashop-root-traversal",
        [DS_HEADER, GOOD, ds_row(underlying_symbol="AAPL", root="../AAPL")],
        "loaded",
        quarantined=[(3, R, "invalid root '../AAPL'")],
    ),
    FileCase("datashop-lower-case-caret-underlying-normalised", [DS_HEADER, ds_row(underlying_symbol=" ^spx ")], "loaded"),
    # DataShop: every row bad ends "rejected" with its quarantine rows (issue 10, defect 12)
    FileCase(
        "datashop-every-row-rejected",
        [DS_HEADER, ds_row(strike="abc"), ds_row(strike="x", option_type="P")],
        "rejected",
        quarantined=[(2, R, "non-numeric strike: 'abc'"), (3, R, "non-numeric strike: 'x'")],
        warning="no usable row: all 2 data lines rejected",
    ),
    FileCase(
        "datashop-oi-1e20",
        [DS_HEADER, GOOD, ds_row(open_interest="1e20", option_type="P")],
        "loaded",
        quarantined=[(3, R, f"open_interest '1e20' {OUT_OF_RANGE}")],
    ),
    FileCase(
        "datashop-oi-twenty-nines",
        [DS_HEADER, GOOD, ds_row(open_interest="9" * 20, option_type="P")],
        "loaded",
        quarantined=[(3, R, f"open_interest '{'9' * 20}' {OUT_OF_RANGE}")],
    ),
    FileCase(
        "datashop-volume-1e19",
        [DS_HEADER, GOOD, ds_row(trade_volume="1e19", option_type="P")],
        "loaded",
        quarantined=[(3, R, f"trade_volume '1e19' {OUT_OF_RANGE}")],
    ),
    FileCase(
        "datashop-bid-1e400",
        [DS_HEADER, GOOD, ds_row(bid_eod="1e400", option_type="P")],
        "loaded",
        quarantined=[(3, R, "bid_eod '1e400' out of range (overflows a 64-bit float)")],
    ),
    FileCase(
        "datashop-quote-date-1990",
        [DS_HEADER, GOOD, ds_row(quote_date="1990-01-05", option_type="P")],
        "loaded",
        quarantined=[(3, V, "expiration 2024-01-19 more than 10 years after the session 1990-01-05")],
    ),
    FileCase(
        "datashop-cr-only-line-ends",
        [DS_HEADER, GOOD, GOOD_PUT],
        "failed",
        failed="old Mac line endings (CR only) are not supported by this reader",
        newline="\r",
    ),
    FileCase(
        "datashop-crlf-line-ends",
        [DS_HEADER, GOOD, GOOD_PUT],
        "loaded",
        newline="\r\n",
    ),
    FileCase(
        "datashop-missing-bid-column",
        [DS_HEADER.replace("bid_eod", "bid_close"), GOOD],
        "failed",
        failed="missing required columns: bid_eod",
    ),
    # OCC open interest
    FileCase(
        "occ-oi-1e20-is-out-of-range-not-missing",
        [OCC, "2024-01-05,SPXW240119C04700000,1e20", "2024-01-05,SPXW240119P04700000,12"],
        "loaded",
        quarantined=[(2, R, f"open_interest '1e20' {OUT_OF_RANGE}")],
        warning="1 rows for underlyings with no chain loaded: SPX",
    ),
    FileCase(
        "occ-unknown-underlyings-warn",
        [OCC, "2024-01-05,ZZZ240119C00040000,5", "2024-01-05,QQQ240119C00400000,7", "2024-01-05,QQQ240119P00400000,7"],
        "loaded",
        warning="3 rows for underlyings with no chain loaded: QQQ, ZZZ",
    ),
    FileCase(
        "occ-underlying-column-traversal",
        ["date,symbol,open_interest,underlying", "2024-01-05,SPXW240119C04700000,5,SPX",
         f"2024-01-05,SPXW240119P04700000,5,{TRAVERSAL}"],  # fmt: skip
        "loaded",
        quarantined=[(3, R, "invalid underlying 'X/../../")],
        warning="no chain loaded: SPX",
    ),
    FileCase(
        "occ-oi-fractional",
        [OCC, "2024-01-05,SPXW240119C04700000,5", "2024-01-05,SPXW240119P04700000,2.5"],
        "loaded",
        quarantined=[(3, R, "non-integer open_interest: '2.5'")],
    ),
    FileCase(
        "occ-oi-absurd-but-representable",
        [OCC, "2024-01-05,SPXW240119C04700000,5", "2024-01-05,SPXW240119P04700000,1000000000"],
        "loaded",
        quarantined=[(3, V, "absurd open_interest: 1000000000 contracts (limit 100,000,000)")],
    ),
    FileCase(
        "occ-every-row-rejected",
        [OCC, "2024-01-05,SPXW240119C04700000,x", "2024-01-05,SPXW240119P04700000,1e30"],
        "rejected",
        quarantined=[(2, R, "non-integer open_interest: 'x'"), (3, R, f"open_interest '1e30' {OUT_OF_RANGE}")],
    ),
    FileCase(
        "occ-cr-only-line-ends",
        [OCC, "2024-01-05,SPXW240119C04700000,5"],
        "failed",
        failed="old Mac line endings (CR only)",
        newline="\r",
    ),
    # SqueezeMetrics DIX, closes
    FileCase(
        "dix-gex-1e400",
        [DIX, "2024-01-05,4697.24,0.41,1897312571.4", "2024-01-04,4688.68,0.42,1e400"],
        "loaded",
        quarantined=[(3, V, "non-finite gex_usd: inf")],
    ),
    FileCase(
        "dix-price-text",
        [DIX, "2024-01-05,4697.24,0.41,1897312571.4", "2024-01-04,abc,0.42,1.0"],
        "loaded",
        quarantined=[(3, R, "non-numeric price: 'abc'")],
    ),
    FileCase(
        "closes-underlying-traversal",
        ["date,underlying,close", "2024-01-05,SPX,4697.24", f"2024-01-05,{TRAVERSAL},1"],
        "loaded",
        quarantined=[(3, R, "invalid underlying 'X/../../")],
    ),
    FileCase(
        "closes-close-1e400",
        ["date,underlying,close", "2024-01-05,SPX,4697.24", "2024-01-04,SPX,1e400"],
        "loaded",
        quarantined=[(3, R, "close '1e400' out of range (overflows a 64-bit float)")],
    ),
    # canonical chains
    FileCase(
        "canonical-oi-1e20",
        [CANONICAL, "SPX,2024-01-05,SPXW,2024-01-19,4700,C,4697,10", "SPX,2024-01-05,SPXW,2024-01-19,4700,P,4697,1e20"],
        "loaded",
        quarantined=[(3, R, f"open_interest '1e20' {OUT_OF_RANGE}")],
    ),
    FileCase(
        "canonical-underlying-traversal",
        [CANONICAL, "SPX,2024-01-05,SPXW,2024-01-19,4700,C,4697,10", f"{TRAVERSAL},2024-01-05,VIX,2024-01-19,20,C,14,10"],
        "loaded",
        quarantined=[(3, R, "invalid underlying 'X/../../")],
    ),
    # gflows results JSON
    FileCase(
        "gflows-ticker-traversal", _gflows(ticker="../../etc"), "failed", failed="invalid 'ticker' '../../etc'", suffix="json"
    ),
    FileCase(
        "gflows-nested-100k-deep",
        ['{"expiryData": ' + "[" * 100_000 + "]" * 100_000 + "}"],
        "failed",
        failed="invalid JSON: nested too deeply",
        suffix="json",
    ),
    FileCase("gflows-clean", _gflows(), "loaded", suffix="json"),
]


def _physical_lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n").split("\n")


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.id for c in FILE_CASES])
def test_bad_file(case: FileCase, tmp_path, con):
    path = tmp_path / f"{case.id}.{case.suffix}"
    path.write_bytes((case.newline.join(case.lines) + case.newline).encode("utf-8"))
    result = ingest_file(con, path)
    manifest = rows(con, "SELECT status, rows_in, rows_loaded, rows_rejected, message, warnings FROM raw.load_manifest")
    quarantine = rows(
        con, "SELECT source_line, records, stage, reason, raw_text, source_file FROM raw.quarantine ORDER BY source_line"
    )
    assert result.status == case.status, result.message
    assert manifest[0][0] == case.status
    assert result.message is not None and "\n" not in result.message
    if case.failed is not None:
        assert str(path) in result.message and case.failed in result.message, result.message
        assert manifest == [("failed", 0, 0, 0, result.message, [])]
        assert quarantine == []
        return
    n_in = sum(1 for line in case.lines[1:] if line.strip()) if case.suffix == "csv" else result.rows_in
    assert (result.rows_in, manifest[0][1]) == (n_in, n_in)
    assert result.rows_in == result.rows_loaded + result.rows_rejected
    assert manifest[0][2:4] == (result.rows_loaded, result.rows_rejected)
    assert len(quarantine) == len(case.quarantined), quarantine
    physical = _physical_lines(path)
    for (line, stage, why), (g_line, g_n, g_stage, g_reason, g_raw, g_file) in zip(case.quarantined, quarantine, strict=True):
        assert (g_line, g_n, g_stage) == (line, 1, stage)
        assert why in g_reason, g_reason
        assert g_raw == physical[line - 1] and g_file == str(path)
    assert result.rows_rejected == len(case.quarantined)
    if case.warning is not None:
        assert any(case.warning in w for w in manifest[0][5]), manifest[0][5]
    if case.status == "rejected":
        assert result.rows_loaded == 0 and "no valid record" in result.message


def test_open_interest_for_loaded_chains_does_not_warn(clean_lines, tmp_path, con):
    assert ingest_file(con, _write(tmp_path / "chain.csv", clean_lines)).status == "loaded"
    oi = _write(tmp_path / "oi.csv", [OCC, "2024-01-05,SPXW240119C04700000,5", "2024-01-05,QQQ240119C00400000,7"])
    result = ingest_file(con, oi)
    assert result.status == "loaded"
    assert [w for w in result.warnings if "no chain loaded" in w] == ["1 rows for underlyings with no chain loaded: QQQ"]
