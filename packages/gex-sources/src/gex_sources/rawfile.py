"""Loading a source file's bytes, with the file-level checks every reader needs.

Byte-order marks are removed (UTF-8) or decoded (UTF-16, as written by spreadsheet "Unicode text" saves);
CRLF endings are left to the line splitters, which drop a trailing ``\\r``; CR-only endings (old Mac) are
turned into LF (:func:`is_cr_only`), so line numbers stay those of the file. Binary content is refused
here, before any parser can mistake it for an empty or malformed chain.
"""

from __future__ import annotations

import codecs
import json
from os import PathLike
from typing import Any
from pathlib import Path

from gex_sources.errors import SourceError

#: Bytes examined to decide whether a file is text and to find a table header.
HEAD_BYTES = 65_536
#: Share of control bytes (other than tab/CR/LF/FF) above which a file is taken as binary.
BINARY_CONTROL_SHARE = 0.01
_TEXT_CONTROLS = frozenset(b"\t\n\r\f")


def _read(path: str | PathLike[str], limit: int | None) -> bytes:
    try:
        with Path(path).open("rb") as fh:
            return fh.read() if limit is None else fh.read(limit)
    except FileNotFoundError:
        raise SourceError(path, "file not found") from None
    except IsADirectoryError:
        raise SourceError(path, "is a directory, not a file") from None
    except OSError as exc:
        raise SourceError(path, f"cannot read file: {exc.strerror or exc}") from None


def _normalise(path: str | PathLike[str], data: bytes, complete: bool) -> bytes:
    """Strip or decode a byte-order mark; refuse empty and binary content."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            # A head cut mid-character is decoded leniently; a whole file must decode.
            data = data.decode("utf-16", errors="strict" if complete else "replace").encode("utf-8")
        except UnicodeDecodeError:
            raise SourceError(path, "binary content (starts with a UTF-16 mark but does not decode)") from None
    if is_cr_only(data):  # old Mac line ends: same lines, same numbers, as LF
        data = data.replace(b"\r", b"\n")
    if not data or data.isspace():  # isspace() stops at the first non-blank byte; strip() would copy
        raise SourceError(path, "empty file" if complete else f"no content in the first {len(data)} bytes")
    head = data[:HEAD_BYTES]
    controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
    if b"\x00" in head or controls > BINARY_CONTROL_SHARE * len(head):
        raise SourceError(path, "binary content, not a text chain file")
    return data


def is_cr_only(data: bytes) -> bool:
    """Whether ``data`` (a file or its head) ends its lines with a bare CR (classic Mac OS, some old
    spreadsheet exports): CRs and no LF at all.

    >>> is_cr_only(b"a,b\\rc,d\\r"), is_cr_only(b"a,b\\r\\nc,d\\r\\n"), is_cr_only(b"a,b")
    (True, False, False)
    """
    return b"\r" in data and b"\n" not in data


def load_bytes(path: str | PathLike[str]) -> bytes:
    """The file's bytes, BOM removed (UTF-16 re-encoded as UTF-8).

    Raises
    ------
    SourceError
        When the file does not exist, is not a regular file, is empty (or blank), or is binary.
    """
    return _normalise(path, _read(path, None), complete=True)


def load_head(path: str | PathLike[str], max_bytes: int = HEAD_BYTES) -> bytes:
    """The first ``max_bytes`` of the file (after BOM handling), with the same checks as :func:`load_bytes`."""
    data = _read(path, max_bytes)
    return _normalise(path, data, complete=len(data) < max_bytes)


def decode_text(data: bytes) -> str:
    """UTF-8 text of ``data``; Windows-1252 when the bytes are not UTF-8 (old spreadsheet saves)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def head_lines(data: bytes, max_bytes: int = HEAD_BYTES) -> list[str]:
    """The complete lines within the first ``max_bytes`` of ``data``, without line terminators.

    A line cut by the ``max_bytes`` boundary is dropped unless the file ends there.
    """
    head = data[:max_bytes]
    if len(data) > max_bytes and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]
    text = decode_text(head)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def offset_after_line(data: bytes, line_index: int) -> int:
    """Byte offset just after the ``line_index``-th (0-based) line's terminator, or ``len(data)``."""
    pos = 0
    for _ in range(line_index + 1):
        nl = data.find(b"\n", pos)
        if nl < 0:
            return len(data)
        pos = nl + 1
    return pos


def load_json(path: str | PathLike[str]) -> Any:
    """The file parsed as JSON (after the checks of :func:`load_bytes`).

    Every way a JSON text can defeat the parser is a file-level :class:`SourceError` naming the file (and
    the line when the parser knows it): invalid syntax, bytes that are not UTF-8, nesting deeper than the
    interpreter's recursion limit (``[[[[...`` 100k deep), an integer literal longer than Python's
    4300-digit conversion limit.

    Raises
    ------
    SourceError
        As described above, and as :func:`load_bytes`.
    """
    data = load_bytes(path)
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    except UnicodeDecodeError:
        raise SourceError(path, "invalid JSON: the bytes are not UTF-8 text") from None
    except RecursionError:
        raise SourceError(path, "invalid JSON: nested too deeply to be a data file (recursion limit)") from None
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        raise SourceError(path, f"invalid JSON: {str(exc).splitlines()[0]}") from None
