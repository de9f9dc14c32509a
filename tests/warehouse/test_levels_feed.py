"""The levels feed: exact CSV/JSON of computed sessions, atomic and idempotent writes, paths kept under root."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from gex.conventions import preset
from gex_warehouse import levels_feed as lf
from gex_warehouse.paths import UnsafePathError

from tests.warehouse.test_compute import compute_all
from tests.warehouse.test_export import computed, con, ingested  # noqa: F401  (fixtures: a small computed warehouse)

ROW = {
    "underlying": "SPX", "session": dt.date(2025, 1, 6), "preset": "native", "spot": 5900.0, "gamma_flip": 5841.0,
    "call_wall": 6000.0, "put_wall": 5800.0, "abs_gamma_strike": 5900.0, "regime": "positive",
    "total_gex_usd_per_1pct": 3.21e9,
}


def test_csv_and_json_of_one_row_are_exactly_the_documented_shape():
    assert lf.feed_csv(ROW) == (
        "symbol,date,level_name,price,note\n"
        "SPX,2025-01-06,spot,5900.00,regime positive; total GEX +3.210 $bn per 1%\n"
        "SPX,2025-01-06,gamma_flip,5841.00,-1.00% vs spot\n"
        "SPX,2025-01-06,call_wall,6000.00,+1.69% vs spot\n"
        "SPX,2025-01-06,put_wall,5800.00,-1.69% vs spot\n"
        "SPX,2025-01-06,abs_gamma_strike,5900.00,+0.00% vs spot\n"
    )
    doc = json.loads(lf.feed_json(ROW))
    assert doc == {"schema": 1, "symbol": "SPX", "date": "2025-01-06", "preset": "native", "regime": "positive",
                   "spot": 5900.0, "total_gex_usd_bn_per_1pct": 3.21,
                   "levels": {"gamma_flip": 5841.0, "call_wall": 6000.0, "put_wall": 5800.0, "abs_gamma_strike": 5900.0},
                   "futures": None, "expected_move": {"iv_1d": None, "straddle": None}}


def test_a_missing_flip_has_no_csv_row_and_is_null_in_json():
    row = {**ROW, "gamma_flip": None, "regime": "negative", "total_gex_usd_per_1pct": float("nan")}
    lines = lf.feed_csv(row).splitlines()
    assert [ln.split(",")[2] for ln in lines[1:]] == ["spot", "call_wall", "put_wall", "abs_gamma_strike"]
    assert lines[1].endswith("regime negative; total GEX n/a $bn per 1%")
    doc = json.loads(lf.feed_json(row))
    assert doc["levels"]["gamma_flip"] is None and doc["total_gex_usd_bn_per_1pct"] is None


MOVES = {"iv_move_1d_points": 37.2, "iv_move_1d_pct": 37.2 / 59, "atm_iv_30d": 0.1, "straddle_move_points": 29.5,
         "straddle_move_pct": 0.5, "straddle_expiration": dt.date(2025, 1, 7), "straddle_settlement": "PM"}


def test_expected_move_bands_come_after_the_levels_in_the_documented_order():
    row = {**ROW, **MOVES}
    lines = lf.feed_csv(row).splitlines()
    assert lines[:6] == lf.feed_csv(ROW).splitlines()  # the existing rows are unchanged, bands are added at the end
    assert lines[6:] == [
        "SPX,2025-01-06,expected_move_1d_upper,5937.20,+-0.63% 1-session move (ATM IV 10.0%)",
        "SPX,2025-01-06,expected_move_1d_lower,5862.80,+-0.63% 1-session move (ATM IV 10.0%)",
        "SPX,2025-01-06,straddle_move_upper,5929.50,+-0.50% ATM straddle, expiry 2025-01-07 PM",
        "SPX,2025-01-06,straddle_move_lower,5870.50,+-0.50% ATM straddle, expiry 2025-01-07 PM",
    ]
    basis = lf.parse_basis("SPX=ES:+10")
    assert lf.feed_csv(row, basis).splitlines()[-1] == "ES,2025-01-06,straddle_move_lower,5880.50,SPX level + basis 10.00"
    doc = json.loads(lf.feed_json(row))
    assert list(doc)[-1] == "expected_move"
    assert doc["expected_move"] == {
        "iv_1d": {"points": 37.2, "pct": 37.2 / 59, "lower": 5862.8, "upper": 5937.2, "atm_iv": 0.1},
        "straddle": {"points": 29.5, "pct": 0.5, "lower": 5870.5, "upper": 5929.5, "expiration": "2025-01-07",
                     "settlement": "PM"}}
    # no straddle quoted: its rows are absent and its object null
    partial = {**row, "straddle_move_points": None, "straddle_move_pct": None}
    assert [ln.split(",")[2] for ln in lf.feed_csv(partial).splitlines()[6:]] == ["expected_move_1d_upper",
                                                                               "expected_move_1d_lower"]
    assert json.loads(lf.feed_json(partial))["expected_move"]["straddle"] is None


def test_futures_basis_repeats_the_levels_under_the_future():
    basis = lf.parse_basis("SPX=ES:+12.5")
    csv = lf.feed_csv(ROW, basis).splitlines()
    assert csv[6:] == [
        "ES,2025-01-06,spot,5912.50,SPX level + basis 12.50",
        "ES,2025-01-06,gamma_flip,5853.50,SPX level + basis 12.50",
        "ES,2025-01-06,call_wall,6012.50,SPX level + basis 12.50",
        "ES,2025-01-06,put_wall,5812.50,SPX level + basis 12.50",
        "ES,2025-01-06,abs_gamma_strike,5912.50,SPX level + basis 12.50",
    ]
    assert json.loads(lf.feed_json(ROW, basis))["futures"]["levels"]["call_wall"] == 6012.5
    assert lf.feed_csv(ROW, lf.parse_basis("NDX=NQ:-3")) == lf.feed_csv(ROW)  # another underlying's basis: no rows
    assert lf.parse_basis("") == {} and lf.parse_basis("ndx=nq:-3.25") == {"NDX": ("NQ", -3.25)}
    for bad in ("SPX=ES", "SPX:ES:+1", "SPX=ES:abc", "S/X=ES:1"):
        with pytest.raises(ValueError, match="GEX_LEVELS_BASIS"):
            lf.parse_basis(bad)


def _native(con) -> list[tuple]:
    return con.execute(
        "SELECT underlying, session, spot, gamma_flip, call_wall, put_wall, abs_gamma_strike, regime, "
        "total_gex_usd_per_1pct, atm_iv_30d FROM mart.regime_daily WHERE preset = 'native' AND underlying = 'SPX' "
        "ORDER BY session").fetchall()  # the fixture's SPX (its NDX is there for the exports' tests)


def _moves(con, u, s) -> tuple[tuple | None, tuple | None]:
    """(1-session IV move row, nearest straddle row) of the native snapshot, from mart.expected_move."""
    rows = con.execute("SELECT method, sessions_ahead, target_date, settlement, move_points, move_pct "
                       "FROM mart.expected_move WHERE underlying = ? AND session = ? AND preset = 'native'", [u, s]).fetchall()
    iv = [r for r in rows if r[0] == "atm_iv" and r[1] == 1]
    straddles = sorted((r for r in rows if r[0] == "straddle"), key=lambda r: (r[2], r[3]))
    return (iv[0] if iv else None), (straddles[0] if straddles else None)


def _expected_csv(r: tuple, con=None) -> str:
    """The CSV written independently of the module, from the mart rows."""
    u, s, spot, flip, cw, pw, ags, regime, gex, atm_iv = r
    lines = ["symbol,date,level_name,price,note",
             f"{u},{s},spot,{spot:.2f},regime {regime}; total GEX {gex / 1e9:+.3f} $bn per 1%"]
    for name, p in (("gamma_flip", flip), ("call_wall", cw), ("put_wall", pw), ("abs_gamma_strike", ags)):
        if p is not None:
            lines.append(f"{u},{s},{name},{p:.2f},{(p / spot - 1) * 100:+.2f}% vs spot")
    iv, straddle = _moves(con, u, s) if con is not None else (None, None)
    if iv is not None:
        note = f"+-{iv[5]:.2f}% 1-session move (ATM IV {100 * atm_iv:.1f}%)"
        lines += [f"{u},{s},expected_move_1d_upper,{spot + iv[4]:.2f},{note}",
                  f"{u},{s},expected_move_1d_lower,{spot - iv[4]:.2f},{note}"]
    if straddle is not None:
        note = f"+-{straddle[5]:.2f}% ATM straddle, expiry {straddle[2]} {straddle[3]}"
        lines += [f"{u},{s},straddle_move_upper,{spot + straddle[4]:.2f},{note}",
                  f"{u},{s},straddle_move_lower,{spot - straddle[4]:.2f},{note}"]
    return "\n".join(lines) + "\n"


def test_write_levels_on_a_computed_warehouse(con, tmp_path):
    rows = _native(con)
    assert len(rows) == 4
    root = tmp_path / "exports"
    keys = [(r[0], r[1]) for r in rows]
    result = lf.write_levels(con, root, keys)
    folder = root / "levels" / "SPX"
    assert result.files == 2 * 4 + 2 and result.root == (root / "levels").resolve()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{r[1]}.{ext}" for r in rows for ext in ("csv", "json")] + ["latest.csv", "latest.json"])
    for r in rows:
        assert (folder / f"{r[1]}.csv").read_text() == _expected_csv(r, con)
        doc = json.loads((folder / f"{r[1]}.json").read_text())
        assert (doc["spot"], doc["levels"]["call_wall"], doc["regime"]) == (r[2], r[4], r[7])
        iv, straddle = _moves(con, r[0], r[1])
        assert iv is not None and straddle is not None  # the generated chains have a smile and quoted straddles
        assert doc["expected_move"]["iv_1d"]["upper"] == pytest.approx(r[2] + iv[4], rel=1e-15)
        assert doc["expected_move"]["straddle"] == {
            "points": straddle[4], "pct": straddle[5], "lower": r[2] - straddle[4], "upper": r[2] + straddle[4],
            "expiration": straddle[2].isoformat(), "settlement": straddle[3]}
    assert (folder / "latest.csv").read_bytes() == (folder / f"{rows[-1][1]}.csv").read_bytes()
    assert (folder / "latest.json").read_bytes() == (folder / f"{rows[-1][1]}.json").read_bytes()

    # idempotent: the same rows give the same bytes, and no temporary file is left behind
    before = {p: p.read_bytes() for p in folder.iterdir()}
    lf.write_levels(con, root, keys)
    assert {p: p.read_bytes() for p in folder.iterdir()} == before
    assert not list(root.rglob(".*"))


def test_only_native_rows_and_only_the_sessions_asked(con, tmp_path):
    rows = _native(con)
    u, s = rows[1][0], rows[1][1]
    compute_all(con, [(u, s)], preset("perfiliev"))  # another preset's row of the same session
    root = tmp_path / "exports"
    assert lf.write_levels(con, root, [(u, s)]).files == 4  # the session and latest
    folder = root / "levels" / u
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{s}.csv", f"{s}.json", "latest.csv", "latest.json"])
    assert (folder / f"{s}.csv").read_text() == _expected_csv(rows[1], con)
    assert json.loads((folder / "latest.json").read_text())["date"] == rows[-1][1].isoformat()
    assert lf.write_levels(con, root, []).files == 0


def test_an_unsafe_underlying_never_leaves_the_root(tmp_path):
    # the underlying's folder is checked (and resolved) once, each file name as a single name
    with pytest.raises(UnsafePathError):
        lf._write_pair(lf.safe_child(tmp_path / "levels", "../../etc"), "latest", ROW, None)
    with pytest.raises(UnsafePathError):
        lf._write_pair(lf.safe_child(tmp_path / "levels", "SPX"), "../x", ROW, None)
    assert not any(tmp_path.rglob("*"))


def test_an_underlying_folder_linked_outside_the_root_is_refused(tmp_path):
    # a symbolic link planted where an underlying's folder goes must not carry the feed elsewhere
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "exports" / "levels").mkdir(parents=True)
    (tmp_path / "exports" / "levels" / "SPX").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="resolves to"):
        lf._write_pair(lf.safe_child(tmp_path / "exports" / "levels", "SPX"), "latest", ROW, None)
    assert not any(outside.iterdir())


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "latest.csv"
    lf.write_atomic(target, "old\n")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(lf.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        lf.write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["latest.csv"]
