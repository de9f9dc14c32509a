"""Fetch bundles (gex_sources.bundle): round trip, determinism, validation, sniffing."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from gex_sources.bundle import (
    BUNDLE_FORMAT,
    BundleResponse,
    FetchBundle,
    bundle_bytes,
    normalise_symbol,
    read_bundle,
    response_name,
    sniff_bundle,
    utc_instant,
    write_bundle,
)
from gex_sources.errors import SourceError

T0 = "2024-07-15T23:03:20.123456Z"
T1 = "2024-07-15T23:03:21.000000Z"


def resp(i: int, body: bytes, role: str = "chain", ct: str = "application/json", **params: str) -> BundleResponse:
    return BundleResponse(
        name=response_name(i, ct),
        role=role,
        url=f"https://api.tradier.com/v1/markets/options/chains?symbol=SPX&n={i}",
        params=dict(params),
        status=200,
        content_type=ct,
        requested_at=T0,
        received_at=T1,
        body=body,
    )


def make_bundle(*bodies: bytes, requested_at: str = T0) -> FetchBundle:
    return FetchBundle(
        source="tradier",
        symbol="SPX",
        as_of_session=dt.date(2024, 7, 15),
        requested_at=requested_at,
        received_at=T1,
        responses=tuple(resp(i, b, expiration="2024-07-19") for i, b in enumerate(bodies)),
    )


def test_round_trip_and_manifest(tmp_path: Path) -> None:
    b = make_bundle(b'{"options": null}', b"\x00\xffbinary is kept byte for byte")
    path = tmp_path / "SPX_2024-07-15_20240715T230321Z.tradier.zip"
    digest = write_bundle(path, b)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    back = read_bundle(path)
    assert back == b
    assert back.responses[1].body == b"\x00\xffbinary is kept byte for byte"
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names == ["manifest.json", "responses/000.json", "responses/001.json"]
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["format"] == BUNDLE_FORMAT and manifest["version"] == 1
    assert manifest["as_of_session"] == "2024-07-15"
    row = manifest["responses"][0]
    assert row["bytes"] == len(b'{"options": null}')
    assert row["sha256"] == hashlib.sha256(b'{"options": null}').hexdigest()
    assert row["params"] == {"expiration": "2024-07-19"}
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed away


def test_deterministic_bytes_and_content_hash(tmp_path: Path) -> None:
    a = make_bundle(b"[1]", b"[2]")
    assert bundle_bytes(a) == bundle_bytes(make_bundle(b"[1]", b"[2]"))
    later = make_bundle(b"[1]", b"[2]", requested_at="2024-07-16T23:03:20Z")
    assert bundle_bytes(later) != bundle_bytes(a)  # the instants are in the manifest ...
    assert later.content_sha256() == a.content_sha256()  # ... but the content is the same
    assert make_bundle(b"[1]", b"[3]").content_sha256() != a.content_sha256()
    assert make_bundle(b"[2]", b"[1]").content_sha256() != a.content_sha256()  # order matters
    p1, p2 = tmp_path / "a.zip", tmp_path / "b.zip"
    assert write_bundle(p1, a) == write_bundle(p2, a)


def test_sniff() -> None:
    data = bundle_bytes(make_bundle(b"[]"))
    assert sniff_bundle(data[:65536]) and sniff_bundle(data[:200])
    assert not sniff_bundle(b"PK\x03\x04" + b"\x00" * 40)
    assert not sniff_bundle(b'{"format": "gex-fetch-bundle"}')
    assert not sniff_bundle(b"")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", '{"format": "something-else"}')
    assert not sniff_bundle(buf.getvalue())


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"source": "yahoo"}, "source 'yahoo'"),
        ({"symbol": "^SPX"}, "symbol '^SPX'"),
        ({"requested_at": "2024-07-15 23:03:20"}, "requested_at"),
        ({"responses": ()}, "no responses"),
    ],
)
def test_write_refuses_invalid_bundle(change: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle.replace("^", r"\^")):
        bundle_bytes(replace(make_bundle(b"[]"), **change))


def test_write_refuses_credentials_without_echoing_them() -> None:
    r = replace(resp(0, b"[]"), url="https://api.polygon.io/v3/snapshot/options/SPX?apiKey=SEKRET123")
    bad = replace(make_bundle(b"[]"), responses=(r,))
    with pytest.raises(ValueError, match="apiKey") as info:
        bundle_bytes(bad)
    assert "SEKRET123" not in str(info.value)
    r2 = replace(resp(0, b"[]"), params={"token": "SEKRET123"})
    with pytest.raises(ValueError, match="token") as info:
        bundle_bytes(replace(make_bundle(b"[]"), responses=(r2,)))
    assert "SEKRET123" not in str(info.value)


def test_write_refuses_names_out_of_order() -> None:
    r = replace(resp(0, b"[]"), name="responses/001.json")
    with pytest.raises(ValueError, match="position 0"):
        bundle_bytes(replace(make_bundle(b"[]"), responses=(r,)))


def _rezip(src: Path, dst: Path, edit) -> Path:
    """Copy a bundle, letting ``edit(name, data) -> (name, data) | None`` change or drop entries."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            out = edit(info.filename, zin.read(info))
            if out is not None:
                zout.writestr(out[0], out[1])
    return dst


def _manifest_edit(fn):
    def edit(name: str, data: bytes):
        if name == "manifest.json":
            m = json.loads(data)
            fn(m)
            return name, json.dumps(m).encode()
        return name, data

    return edit


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (_manifest_edit(lambda m: m.update(format="other")), "format 'other'"),
        (_manifest_edit(lambda m: m.update(version=2)), "version 2 not supported"),
        (_manifest_edit(lambda m: m["responses"][0].update(sha256="0" * 64)), "entry 'responses/000.json': SHA-256"),
        (_manifest_edit(lambda m: m["responses"][1].update(bytes=1)), "entry 'responses/001.json': 3 bytes in the ZIP"),
        (_manifest_edit(lambda m: m["responses"][0].pop("role")), "missing field 'role'"),
        (_manifest_edit(lambda m: m["responses"][0].update(role="other")), "role 'other'"),
        (_manifest_edit(lambda m: m["responses"][0].update(status="200")), "field 'status' has the wrong type"),
        (_manifest_edit(lambda m: m.update(as_of_session="15/07/2024")), "as_of_session '15/07/2024'"),
        (_manifest_edit(lambda m: m["responses"].pop()), "entry 'responses/001.json': in the ZIP but not listed"),
        (lambda n, d: None if n == "responses/001.json" else (n, d), "missing from the ZIP"),
        (lambda n, d: (n, b"{}") if n == "manifest.json" else (n, d), "format None"),
        (lambda n, d: (n, b"not json") if n == "manifest.json" else (n, d), "not UTF-8 JSON"),
    ],
)
def test_read_refuses_damage_naming_file_and_entry(tmp_path: Path, edit, needle: str) -> None:
    good = tmp_path / "good.zip"
    write_bundle(good, make_bundle(b"[1]", b"[2]"))
    bad = _rezip(good, tmp_path / "bad.zip", edit)
    with pytest.raises(SourceError, match=None) as info:
        read_bundle(bad)
    msg = str(info.value)
    assert msg.startswith(f"{bad}: ") and needle in msg and "\n" not in msg


def test_read_refuses_non_bundles(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(SourceError, match="not a readable ZIP"):
        read_bundle(tmp_path / "x.zip")
    with pytest.raises(SourceError, match="file not found"):
        read_bundle(tmp_path / "missing.zip")
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("data.json", "{}")
    with pytest.raises(SourceError, match="first entry is 'data.json'"):
        read_bundle(plain)
    good = tmp_path / "good.zip"
    write_bundle(good, make_bundle(b"[1]"))
    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(SourceError):
        read_bundle(truncated)


def test_helpers() -> None:
    assert normalise_symbol("^rut") == "RUT" and normalise_symbol("$SPX") == "SPX" and normalise_symbol("_SPX") == "SPX"
    assert normalise_symbol("BRK.B") == "BRK.B"
    for bad in ("", "../etc", "A/B", "X" * 17):
        with pytest.raises(ValueError):
            normalise_symbol(bad)
    assert response_name(3, "application/json; charset=utf-8") == "responses/003.json"
    assert response_name(12, "text/csv") == "responses/012.csv"
    assert response_name(0, "application/octet-stream") == "responses/000.bin"
    assert utc_instant(dt.datetime(2024, 7, 15, 19, 3, 20, tzinfo=dt.timezone(dt.timedelta(hours=-4)))) == (
        "2024-07-15T23:03:20.000000Z"
    )
