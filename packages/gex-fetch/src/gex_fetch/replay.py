"""A local HTTP server replaying registered responses, with fault injection: for tests and the demo.

::

    with ReplayServer() as server:
        server.add("/api/global/delayed_quotes/options/_SPX.json", Reply.json_body(doc))
        server.add("/api/global/delayed_quotes/options/QQQ.json", [Reply.too_many(retry_after="2"), Reply(body=b"...")])
        fetch_one("cboe", "SPX", landing, FetchSettings(base_url=server.base_url))

Each route (path, and optionally query parameters that must be present) holds a **sequence** of replies:
request *n* gets reply *n*, and the last reply repeats. Faults are ordinary replies: a status with or without
``Retry-After``, a ``delay_s`` past the client's timeout, ``truncate_to`` (announces the full
``Content-Length``, sends fewer bytes and closes), an HTML page with 200, a redirect to itself. Unknown routes
get a 404 JSON body. Listens on 127.0.0.1 only, on a free port; threaded; a context manager.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HTML_ERROR_PAGE = (b"<!DOCTYPE html><html><head><title>Access Denied</title></head>"
                   b"<body><h1>Service unavailable</h1><p>Please try again later.</p></body></html>")


@dataclass(frozen=True)
class Reply:
    """One canned response."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0  # wait before answering (a timeout fault when longer than the client's timeout)
    truncate_to: int | None = None  # send only this many body bytes (Content-Length stays the full length)

    @classmethod
    def json_body(cls, doc: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(doc).encode())

    @classmethod
    def too_many(cls, retry_after: str | None = None) -> Reply:
        return cls(429, b'{"error":"rate limited"}', headers=(("Retry-After", retry_after),) if retry_after else ())

    @classmethod
    def server_error(cls, status: int = 500) -> Reply:
        return cls(status, b'{"error":"internal"}')

    @classmethod
    def html_page(cls, status: int = 200) -> Reply:
        return cls(status, HTML_ERROR_PAGE, content_type="text/html")

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Reply:
        return cls(status, b"", content_type="text/plain", headers=(("Location", location),))


@dataclass
class _Route:
    path: str
    query: dict[str, str]
    replies: list[Reply]
    hits: int = 0


@dataclass
class Seen:
    """A request the server received (for assertions): path, query and headers."""

    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


class ReplayServer:
    """See the module docstring. ``base_url`` is ``http://127.0.0.1:<port>``; ``requests`` lists what came."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .requests instead
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                reply = server._next(parts.path, query, dict(self.headers.items()))
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body = reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in reply.headers:
                        self.send_header(k, v)
                    if reply.truncate_to is not None:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(body if reply.truncate_to is None else body[: reply.truncate_to])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: str, replies: Reply | list[Reply], query: dict[str, str] | None = None) -> None:
        """Register ``replies`` (one, or a sequence whose last repeats) for ``path`` (+ required ``query``).
        Later registrations of the same route replace earlier ones."""
        seq = [replies] if isinstance(replies, Reply) else list(replies)
        if not seq:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self._routes = [r for r in self._routes if (r.path, r.query) != (path, dict(query or {}))]
            self._routes.append(_Route(path, dict(query or {}), seq))

    def hits(self, path: str) -> int:
        """How many requests came for ``path`` (any query)."""
        return sum(1 for s in self.requests if s.path == path)

    def _next(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(Seen(path, query, headers))
            # most specific match first: the route requiring the most query parameters
            matches = [r for r in self._routes if r.path == path and all(query.get(k) == v for k, v in r.query.items())]
            if not matches:
                return Reply(404, json.dumps({"error": f"no replay route for {path}"}).encode())
            route = max(matches, key=lambda r: len(r.query))
            reply = route.replies[min(route.hits, len(route.replies) - 1)]
            route.hits += 1
            return reply

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="replay-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
