"""``gex report --serve``: a small local HTTP server for the live intraday page (standard library only).

Routes (GET only):

- ``/``: the intraday page (:func:`gex_report.intraday_page.render_intraday` with a :class:`LiveConfig`) of
  ``?underlying=&session=&preset=`` (defaults: the server's, else the first underlying and its latest session);
- ``/api/snapshots``: JSON of the same query's snapshots valued after ``&after=`` (an ISO instant the page
  got from this endpoint), with the session's index of (valuation instant, load id) so the page can tell a
  new snapshot from a replaced one (see ``live.js``);
- ``/daily``: the daily report page (:mod:`gex_report.page`) of ``?underlying=&session=``.

Every request opens the published contract afresh (:func:`gex_report.data.open_read_only`: the published
snapshot the writers atomically replace, else the warehouse read-only) and closes it, so each poll sees the
latest published snapshot and the server never holds a lock a writer needs. Query values are validated
(date, known preset) and bound; the server binds 127.0.0.1 by default and answers only requests whose
``Host`` header names a loopback address (a web page elsewhere cannot reach it through DNS rebinding).
"""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
import json
import math
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gex_report.data import ReportInputError, open_read_only
from gex_report.intraday_charts import cell_columns, series_columns
from gex_report.intraday_page import LiveConfig, render_intraday

#: Presets the server accepts (the names of gex.conventions.PRESETS; checked by the tests).
PRESETS = ("native", "perfiliev", "perfiliev-early", "gflows")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Seconds between the page's polls by default (intraday snapshots come every few minutes).
DEFAULT_POLL_SECONDS = 10.0


class BadQuery(ValueError):
    """A query value that is not valid (HTTP 400)."""


@dataclass
class ServeSettings:
    """What the server reads and its defaults: the warehouse file, the default (underlying, session,
    preset), the page's poll interval (seconds) and the hosts the ``Host`` header may name."""

    warehouse: Path
    underlying: str | None = None
    session: dt.date | None = None
    preset: str = "native"
    poll_seconds: float = DEFAULT_POLL_SECONDS
    allowed_hosts: set[str] = field(default_factory=lambda: {"127.0.0.1", "localhost", "::1"})


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values or not values[0].strip():
        return None
    if len(values) > 1:
        raise BadQuery(f"give {name} once")
    return values[0].strip()


def parse_query(raw: str, settings: ServeSettings) -> tuple[str | None, dt.date | None, str, dt.datetime | None]:
    """(underlying, session, preset, after) of a query string, with the server's defaults; raises :class:`BadQuery`."""
    query = parse_qs(raw, keep_blank_values=False, max_num_fields=20)
    underlying = _one(query, "underlying") or settings.underlying
    if underlying is not None and (len(underlying) > 24 or not all(c.isalnum() or c in "._-^" for c in underlying)):
        raise BadQuery(f"underlying {underlying[:30]!r} is not a symbol")
    session_text = _one(query, "session")
    session = settings.session
    if session_text is not None:
        try:
            session = dt.date.fromisoformat(session_text)
        except ValueError:
            raise BadQuery(f"session {session_text[:30]!r} is not a date like 2024-01-05") from None
    preset = _one(query, "preset") or settings.preset
    if preset not in PRESETS:
        raise BadQuery(f"unknown preset {preset[:30]!r}; choose one of {', '.join(PRESETS)}")
    after = None
    after_text = _one(query, "after")
    if after_text is not None:
        try:
            after = dt.datetime.fromisoformat(after_text)
        except ValueError:
            raise BadQuery(f"after {after_text[:40]!r} is not an ISO instant") from None
        if after.tzinfo is None:
            raise BadQuery("after must carry its UTC offset (the page sends what the endpoint gave it)")
    return underlying, session, preset, after


def _strict(value: Any) -> Any:
    """NaN (a missing value in the chart columns) as JSON null; the page turns null back into NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value


def snapshots_payload(con: Any, underlying: str | None, session: dt.date | None, preset: str,
                      after: dt.datetime | None) -> dict[str, Any]:
    """The JSON the page polls: snapshots (and their strike cells) valued after ``after`` (all when ``None``),
    the index of every snapshot of the session, and the underlying's latest session with snapshots."""
    from gex_report import intraday_data as idd

    underlying, session, known = idd.resolve(con, underlying, session, preset)
    index = con.execute(
        "SELECT valuation_ts, load_id FROM main.regime_snapshots WHERE underlying = ? AND session = ? AND preset = ? "
        "ORDER BY valuation_ts", [underlying, session, preset]).fetchall()
    snapshots = idd.read_snapshots(con, underlying, session, preset, after=after)
    strikes = idd.read_strikes(con, underlying, session, preset, after=after)
    return _strict({
        "underlying": underlying,
        "session": str(session),
        "preset": preset,
        "latest_session": str(known[underlying][-1]),
        "index": [{"key": ts.isoformat(), "load_id": str(load or "")} for ts, load in index],
        "series": series_columns(snapshots),
        "cells": cell_columns(strikes),
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    })


def _error_page(status: int, message: str) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gex report: {status}</title></head>"
            f"<body style=\"font-family:system-ui,sans-serif;margin:2em\"><h1>gex report</h1><p>{html.escape(message)}</p>"
            "<p><a href=\"/\">the default page</a></p></body></html>")


class Handler(BaseHTTPRequestHandler):
    """One request: route, open the published contract, answer, close (see the module docstring)."""

    server: ReportServer
    # HTTP/1.0: one request per connection, so a stopped server is seen as stopped at the next poll (a kept-alive
    # connection would go on being answered by its thread)
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Quiet: a poll every few seconds would flood the terminal."""

    def _send(self, status: int, body: str, content_type: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the page went away (closed tab, reload): nothing to tell
            self.close_connection = True

    def _fail(self, status: int, message: str, as_json: bool) -> None:
        if as_json:
            self._send(status, json.dumps({"error": message}), "application/json")
        else:
            self._send(status, _error_page(status, message), "text/html; charset=utf-8")

    def _host_allowed(self) -> bool:
        host = (self.headers.get("Host") or "").strip()
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]", 1)[0]
        if name in self.server.settings.allowed_hosts:
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        parts = urlsplit(self.path)
        as_json = parts.path.startswith("/api/")
        if not self._host_allowed():
            self._fail(HTTPStatus.FORBIDDEN, "this server answers requests for 127.0.0.1 / localhost only", as_json)
            return
        if parts.path not in ("/", "/api/snapshots", "/daily"):
            self._fail(HTTPStatus.NOT_FOUND, f"no page {parts.path[:60]!r}: the pages are / (intraday), /daily and "
                                             "/api/snapshots", as_json)
            return
        settings = self.server.settings
        try:
            underlying, session, preset, after = parse_query(parts.query, settings)
        except BadQuery as exc:
            self._fail(HTTPStatus.BAD_REQUEST, str(exc), as_json)
            return
        from gex_warehouse.connect import WarehouseError

        try:
            con = open_read_only(settings.warehouse)
        except WarehouseError as exc:  # locked before any snapshot, missing, not a database
            self._fail(HTTPStatus.SERVICE_UNAVAILABLE, " ".join(str(exc).split()), as_json)
            return
        try:
            status, body, kind = self._answer(con, parts.path, underlying, session, preset, after)
        except ReportInputError as exc:
            status, body, kind = HTTPStatus.NOT_FOUND, str(exc), None
        except Exception as exc:  # noqa: BLE001 - a bug answers 500 with one line; the server keeps serving
            self.server.report_error(f"{self.command} {parts.path}: {type(exc).__name__}: {exc}")
            status, body, kind = (HTTPStatus.INTERNAL_SERVER_ERROR,
                                  f"internal error: {type(exc).__name__}: {exc} (this is a bug)", None)
        finally:
            # closed before answering: once the reader has its answer no thread of ours is still inside DuckDB
            # (Ctrl-C right after a poll must not find one there)
            con.close()
        if kind is None:
            self._fail(status, body, as_json)
        else:
            self._send(status, body, kind)

    def _answer(self, con: Any, path: str, underlying: str | None, session: dt.date | None, preset: str,
                after: dt.datetime | None) -> tuple[int, str, str]:
        """(status, body, content type) of a routed request."""
        if path == "/api/snapshots":
            body = json.dumps(snapshots_payload(con, underlying, session, preset, after), allow_nan=False)
            return HTTPStatus.OK, body, "application/json"
        if path == "/daily":
            return HTTPStatus.OK, self._daily(con, underlying, session), "text/html; charset=utf-8"
        from gex_report import intraday_data as idd

        loaded = idd.load(con, underlying, session, preset)
        page = render_intraday(loaded, live=LiveConfig(poll_seconds=self.server.settings.poll_seconds),
                               warehouse_name=self.server.settings.warehouse.name)
        return HTTPStatus.OK, page, "text/html; charset=utf-8"

    def _daily(self, con: Any, underlying: str | None, session: dt.date | None) -> str:
        from gex_report import data as report_data
        from gex_report.page import render

        loaded = report_data.load(con, underlying, session)
        return render(loaded, warehouse_name=self.server.settings.warehouse.name)


class ReportServer(ThreadingHTTPServer):
    """The HTTP server with its :class:`ServeSettings`. Request threads are joined by :meth:`server_close`
    (``block_on_close``): a thread killed inside DuckDB at interpreter exit aborts the process."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, settings: ServeSettings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.settings = settings
        if host not in ("127.0.0.1", "localhost", "::1"):
            settings.allowed_hosts.add(host)
        super().__init__((host, port), Handler)

    def report_error(self, line: str) -> None:
        """One line on stderr for an internal error (a bug) while answering; the server goes on."""
        import sys

        print(f"gex: internal error while serving {line} (this is a bug; please report it)", file=sys.stderr, flush=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/"


def start_in_thread(server: ReportServer) -> threading.Thread:
    """Serve in a daemon thread (tests); stop with ``server.shutdown(); server.server_close()``."""
    thread = threading.Thread(target=server.serve_forever, name="gex-report-serve", daemon=True)
    thread.start()
    return thread
