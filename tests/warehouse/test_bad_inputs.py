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


R, V = "reader", "validation"

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
    # --- harmless variations: load exactly like the clean file ------------------------------------------
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
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


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
