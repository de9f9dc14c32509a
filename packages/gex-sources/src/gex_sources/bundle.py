"""Fetch bundles: one fetch of one (source, symbol) as a ZIP of raw HTTP bodies plus a manifest.

The format is specified in ``BUNDLE_SPEC.md`` (issue 11) and documented in ``docs/sources.md``:

- ``manifest.json`` (first entry): format, version, source, normalised symbol, as-of session, the fetch's
  first-request / last-response UTC instants, and one row per response (entry name, role, URL *without
  secrets*, parsing parameters, HTTP status, content type, instants, byte count, SHA-256 of the body);
- ``responses/NNN.<ext>``: each body byte for byte, in request order.

Writing is deterministic: the same :class:`FetchBundle` always gives the same file bytes (fixed ZIP
timestamps and attributes, sorted JSON keys), so a re-fetch of identical content can be recognised by the
file's hash as well as by :meth:`FetchBundle.content_sha256`. Reading validates everything and raises
:class:`~gex_sources.errors.SourceError` with a one-line message naming the file and the entry at fault.

Pure stdlib (no HTTP, no warehouse): the fetch layer writes bundles, the readers in ``gex_sources`` read them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from gex_sources.errors import SourceError

BUNDLE_FORMAT = "gex-fetch-bundle"
BUNDLE_VERSION = 1
MANIFEST_NAME = "manifest.json"
#: Sources a bundle may come from.
SOURCES = frozenset({"cboe", "tradier", "polygon", "schwab", "occ", "treasury", "fred"})
#: What each response is to the parsers.
ROLES = frozenset({"chain", "expirations", "quote", "page", "rates", "open_interest"})
#: ZIP local-file-header magic.
ZIP_MAGIC = b"PK\x03\x04"
#: Largest body accepted in one entry, in bytes (a full SPX chain is ~20 MB; this bounds a ZIP bomb).
MAX_ENTRY_BYTES = 512 * 1024 * 1024
#: Largest manifest accepted, in bytes.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: Fixed ZIP member timestamp (the earliest ZIP can hold) so bytes do not depend on the writing time.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_NAME = re.compile(r"^responses/(\d{3,6})\.([a-z0-9]{1,8})$")
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,15}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
#: Query / parameter names that carry credentials: never allowed in a bundle (compared lower-case).
SECRET_PARAMS = frozenset(
    {"apikey", "api_key", "key", "token", "access_token", "refresh_token", "client_secret", "password", "secret"}
)
#: File extension of a body by content type (the part before ';').
_EXTENSIONS = {
    "application/json": "json",
    "text/json": "json",
    "text/csv": "csv",
    "application/csv": "csv",
    "text/plain": "txt",
    "text/html": "html",
    "application/xml": "xml",
    "text/xml": "xml",
}


def utc_instant(when: dt.datetime) -> str:
    """``when`` as the bundle's UTC instant text, e.g. ``2024-07-15T23:03:20.123456Z`` (naive = UTC)."""
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    text = when.isoformat(timespec="microseconds")
    return text + "Z"


def response_name(index: int, content_type: str) -> str:
    """Entry name of the ``index``-th response (0-based): ``responses/003.json`` from its content type."""
    if not 0 <= index < 1_000_000:
        raise ValueError(f"response index {index} out of range")
    ext = _EXTENSIONS.get(content_type.split(";", 1)[0].strip().lower(), "bin")
    return f"responses/{index:03d}.{ext}"


def normalise_symbol(symbol: str) -> str:
    """The bundle's symbol: upper-case, leading ``^``/``_``/``$`` stripped, validated for use in a path.

    Raises
    ------
    ValueError
        When the result is not ``^[A-Z0-9][A-Z0-9._-]{0,15}$``.
    """
    norm = symbol.strip().lstrip("^_$").upper()
    if not _SYMBOL.match(norm):
        raise ValueError(f"invalid symbol {symbol!r} (after normalisation {norm!r}; expected {_SYMBOL.pattern})")
    return norm


def _secret_keys(url: str, params: Mapping[str, Any]) -> list[str]:
    """Parameter names in the URL query or ``params`` that look like credentials."""
    found = [k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True) if k.lower() in SECRET_PARAMS]
    found += [k for k in params if str(k).lower() in SECRET_PARAMS]
    return found


@dataclass(frozen=True)
class BundleResponse:
    """One HTTP response of a fetch.

    Attributes
    ----------
    name:
        ZIP entry of the body, ``responses/NNN.<ext>`` with NNN its 0-based position in the fetch.
    role:
        ``chain`` | ``expirations`` | ``quote`` | ``page`` | ``rates`` | ``open_interest``.
    url:
        Requested URL without credentials.
    params:
        Request parameters that matter to parsing (``{"expiration": "2024-07-19"}``), no credentials.
    status:
        HTTP status code.
    content_type:
        ``Content-Type`` header value as received.
    requested_at, received_at:
        UTC instants, ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``.
    body:
        The body exactly as received (after HTTP content decoding).
    """

    name: str
    role: str
    url: str
    params: dict[str, Any]
    status: int
    content_type: str
    requested_at: str
    received_at: str
    body: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of :attr:`body`."""
        return hashlib.sha256(self.body).hexdigest()

    @property
    def bytes(self) -> int:
        """Length of :attr:`body` in bytes."""
        return len(self.body)

    def text(self) -> str:
        """The body decoded as UTF-8 (BOM removed), invalid bytes replaced."""
        return self.body.decode("utf-8-sig", errors="replace")


@dataclass(frozen=True)
class FetchBundle:
    """Every response of one fetch of one (source, symbol).

    Attributes
    ----------
    source:
        One of :data:`SOURCES`.
    symbol:
        Normalised symbol asked for (no ``^ _ $``), or ``None`` (rates).
    as_of_session:
        NYSE session the data is as of, as derived by the source, or ``None``.
    requested_at, received_at:
        UTC instants of the first request and the last response.
    responses:
        In request order.
    """

    source: str
    symbol: str | None
    as_of_session: dt.date | None
    requested_at: str
    received_at: str
    responses: tuple[BundleResponse, ...]

    def content_sha256(self) -> str:
        """SHA-256 over the responses' body hashes in order: equal for two fetches with the same bodies."""
        h = hashlib.sha256()
        for r in self.responses:
            h.update(r.sha256.encode("ascii"))
            h.update(b"\n")
        return h.hexdigest()

    def by_role(self, role: str) -> list[BundleResponse]:
        """The responses of one role, in request order."""
        return [r for r in self.responses if r.role == role]

    def manifest(self) -> dict[str, Any]:
        """The manifest object written as ``manifest.json``."""
        return {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "source": self.source,
            "symbol": self.symbol,
            "as_of_session": None if self.as_of_session is None else self.as_of_session.isoformat(),
            "requested_at": self.requested_at,
            "received_at": self.received_at,
            "responses": [
                {
                    "name": r.name,
                    "role": r.role,
                    "url": r.url,
                    "params": dict(r.params),
                    "status": r.status,
                    "content_type": r.content_type,
                    "requested_at": r.requested_at,
                    "received_at": r.received_at,
                    "bytes": r.bytes,
                    "sha256": r.sha256,
                }
                for r in self.responses
            ],
        }


# ---------------------------------------------------------------------------------------------- validation


def _problems(bundle: FetchBundle) -> list[str]:
    """Everything wrong with ``bundle`` (empty when it is valid), each naming the field or entry."""
    out: list[str] = []
    if bundle.source not in SOURCES:
        out.append(f"source {bundle.source!r} is not one of {sorted(SOURCES)}")
    if bundle.symbol is not None and (not isinstance(bundle.symbol, str) or not _SYMBOL.match(bundle.symbol)):
        out.append(f"symbol {bundle.symbol!r} is not a normalised symbol ({_SYMBOL.pattern})")
    if bundle.as_of_session is not None and (
        not isinstance(bundle.as_of_session, dt.date) or isinstance(bundle.as_of_session, dt.datetime)
    ):
        out.append(f"as_of_session {bundle.as_of_session!r} is not a date")
    for label, value in (("requested_at", bundle.requested_at), ("received_at", bundle.received_at)):
        if not _valid_instant(value):
            out.append(f"{label} {value!r} is not a UTC instant YYYY-MM-DDTHH:MM:SS[.ffffff]Z")
    if not bundle.responses:
        out.append("no responses")
    seen: set[str] = set()
    for i, r in enumerate(bundle.responses):
        where = f"response {i} ({r.name!r})"
        m = _NAME.match(r.name) if isinstance(r.name, str) else None
        if m is None:
            out.append(f"{where}: entry name is not responses/NNN.<ext>")
        elif int(m.group(1)) != i:
            out.append(f"{where}: entry number {m.group(1)} is not its position {i} in request order")
        if r.name in seen:
            out.append(f"{where}: duplicate entry name")
        seen.add(r.name)
        if r.role not in ROLES:
            out.append(f"{where}: role {r.role!r} is not one of {sorted(ROLES)}")
        if not isinstance(r.url, str) or not r.url:
            out.append(f"{where}: url missing")
        if not isinstance(r.params, Mapping):
            out.append(f"{where}: params is not an object")
        elif isinstance(r.url, str) and (secret := _secret_keys(r.url, r.params)):
            # Never name the value: only the parameter names.
            out.append(f"{where}: credential parameter(s) {sorted(set(secret))} must be removed before archiving")
        if not isinstance(r.status, int) or isinstance(r.status, bool) or not 100 <= r.status <= 599:
            out.append(f"{where}: status {r.status!r} is not an HTTP status")
        if not isinstance(r.content_type, str):
            out.append(f"{where}: content_type is not a string")
        for label, value in (("requested_at", r.requested_at), ("received_at", r.received_at)):
            if not _valid_instant(value):
                out.append(f"{where}: {label} {value!r} is not a UTC instant")
        if not isinstance(r.body, bytes | bytearray):
            out.append(f"{where}: body is not bytes")
    return out


def _valid_instant(value: object) -> bool:
    if not isinstance(value, str) or not _INSTANT.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value[:-1])
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------------------------- writing


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, whatever the writing platform
    info.external_attr = 0o644 << 16
    return info


def bundle_bytes(bundle: FetchBundle) -> bytes:
    """The bundle file's bytes (deterministic for the same bundle).

    Raises
    ------
    ValueError
        When the bundle is invalid (every problem listed, credentials named by parameter only).
    """
    problems = _problems(bundle)
    if problems:
        raise ValueError("invalid fetch bundle: " + "; ".join(problems))
    manifest = json.dumps(bundle.manifest(), sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_member(MANIFEST_NAME), manifest.encode("utf-8"), compresslevel=6)
        for r in bundle.responses:
            zf.writestr(_member(r.name), bytes(r.body), compresslevel=6)
    return buf.getvalue()


def write_bundle(path: str | PathLike[str], bundle: FetchBundle) -> str:
    """Write ``bundle`` to ``path`` atomically; return the file's hex SHA-256.

    The bytes go to a temporary file in the same folder, are fsynced, then renamed over ``path``
    (``os.replace``), so a reader never sees a half-written bundle and a crash leaves no partial file
    under the final name. The folder must exist.

    Raises
    ------
    ValueError
        When the bundle is invalid.
    OSError
        When the file cannot be written.
    """
    data = bundle_bytes(bundle)
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename durable; not every platform can open a directory
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        pass
    else:
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------------- reading


def _require(manifest: Mapping[str, Any], key: str, types: type | tuple[type, ...], path: str, where: str) -> Any:
    if key not in manifest:
        raise SourceError(path, f"{where}: missing field {key!r}")
    value = manifest[key]
    allowed = types if isinstance(types, tuple) else (types,)
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        raise SourceError(path, f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def read_bundle(path: str | PathLike[str]) -> FetchBundle:
    """Read and validate a bundle file.

    Checks: a ZIP whose first entry is ``manifest.json``; format and version; every manifest field's type;
    entry names, roles, instants; every listed entry present with the declared byte count and SHA-256;
    no entry that the manifest does not list.

    Raises
    ------
    SourceError
        One line naming the file and the entry at fault.
    """
    p = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise SourceError(p, "file not found") from None
    except IsADirectoryError:
        raise SourceError(p, "is a directory, not a file") from None
    except zipfile.BadZipFile as exc:
        raise SourceError(p, f"not a fetch bundle: not a readable ZIP ({exc})") from None
    except OSError as exc:
        raise SourceError(p, f"cannot read file: {exc.strerror or exc}") from None
    with zf:
        infos = zf.infolist()
        if not infos or infos[0].filename != MANIFEST_NAME:
            first = infos[0].filename if infos else "nothing"
            raise SourceError(p, f"not a fetch bundle: first entry is {first!r}, not {MANIFEST_NAME!r}")
        if infos[0].file_size > MAX_MANIFEST_BYTES:
            raise SourceError(p, f"{MANIFEST_NAME}: {infos[0].file_size} bytes, more than {MAX_MANIFEST_BYTES}")
        try:
            raw = zf.read(infos[0])
            manifest = json.loads(raw.decode("utf-8"))
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise SourceError(p, f"{MANIFEST_NAME}: corrupt entry ({exc})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(p, f"{MANIFEST_NAME}: not UTF-8 JSON ({exc})") from None
        bundle = _from_manifest(p, manifest, zf, {i.filename: i for i in infos[1:]})
    return bundle


def _from_manifest(
    p: str, manifest: Any, zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo]
) -> FetchBundle:
    m = MANIFEST_NAME
    if not isinstance(manifest, dict):
        raise SourceError(p, f"{m}: not a JSON object")
    if manifest.get("format") != BUNDLE_FORMAT:
        raise SourceError(p, f"{m}: format {manifest.get('format')!r} is not {BUNDLE_FORMAT!r}")
    version = manifest.get("version")
    if version != BUNDLE_VERSION or isinstance(version, bool):
        raise SourceError(p, f"{m}: version {version!r} not supported (this reader reads version {BUNDLE_VERSION})")
    source = _require(manifest, "source", str, p, m)
    symbol = _require(manifest, "symbol", (str, type(None)), p, m)
    session_text = _require(manifest, "as_of_session", (str, type(None)), p, m)
    try:
        session = None if session_text is None else dt.date.fromisoformat(session_text)
    except ValueError:
        raise SourceError(p, f"{m}: as_of_session {session_text!r} is not a date YYYY-MM-DD") from None
    rows = _require(manifest, "responses", list, p, m)
    responses: list[BundleResponse] = []
    listed: set[str] = set()
    for i, row in enumerate(rows):
        where = f"{m}: responses[{i}]"
        if not isinstance(row, dict):
            raise SourceError(p, f"{where}: not an object")
        name = _require(row, "name", str, p, where)
        where = f"entry {name!r}"
        if name in listed:
            raise SourceError(p, f"{where}: listed twice in {m}")
        listed.add(name)
        info = entries.get(name)
        if info is None:
            raise SourceError(p, f"{where}: listed in {m} but missing from the ZIP")
        size = _require(row, "bytes", int, p, where)
        digest = _require(row, "sha256", str, p, where)
        if info.file_size != size:
            raise SourceError(p, f"{where}: {info.file_size} bytes in the ZIP, {size} in {m}")
        if size > MAX_ENTRY_BYTES:
            raise SourceError(p, f"{where}: {size} bytes, more than the {MAX_ENTRY_BYTES} accepted")
        try:
            body = zf.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise SourceError(p, f"{where}: corrupt entry ({exc})") from None
        if hashlib.sha256(body).hexdigest() != digest.lower():
            raise SourceError(p, f"{where}: SHA-256 of the body does not match {m}")
        responses.append(
            BundleResponse(
                name=name,
                role=_require(row, "role", str, p, where),
                url=_require(row, "url", str, p, where),
                params=_require(row, "params", dict, p, where),
                status=_require(row, "status", int, p, where),
                content_type=_require(row, "content_type", str, p, where),
                requested_at=_require(row, "requested_at", str, p, where),
                received_at=_require(row, "received_at", str, p, where),
                body=body,
            )
        )
    extra = sorted(set(entries) - listed)
    if extra:
        raise SourceError(p, f"entry {extra[0]!r}: in the ZIP but not listed in {m}")
    bundle = FetchBundle(
        source=source,
        symbol=symbol,
        as_of_session=session,
        requested_at=_require(manifest, "requested_at", str, p, m),
        received_at=_require(manifest, "received_at", str, p, m),
        responses=tuple(responses),
    )
    problems = _problems(bundle)
    if problems:
        raise SourceError(p, f"{m}: {problems[0]}")
    return bundle


# ------------------------------------------------------------------------------------------------- sniffing

_FORMAT_FIELD = re.compile(rb'"format"\s*:\s*"' + re.escape(BUNDLE_FORMAT.encode()) + rb'"')


def sniff_bundle(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a file, 64 KB is plenty) starts a fetch bundle.

    Reads the first ZIP local header: it must be ``manifest.json``, and its (possibly deflated, possibly
    cut) data must show ``"format": "gex-fetch-bundle"``. Never raises.
    """
    if len(head) < 30 or not head.startswith(ZIP_MAGIC):
        return False
    method = int.from_bytes(head[8:10], "little")
    name_len = int.from_bytes(head[26:28], "little")
    extra_len = int.from_bytes(head[28:30], "little")
    name = head[30 : 30 + name_len]
    if name != MANIFEST_NAME.encode():
        return False
    data = head[30 + name_len + extra_len :]
    if method == zipfile.ZIP_DEFLATED:
        try:
            data = zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, 1 << 20)
        except zlib.error:
            return False
    elif method != zipfile.ZIP_STORED:
        return False
    return _FORMAT_FIELD.search(data[:65_536]) is not None
