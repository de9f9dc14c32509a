"""The temporary Prefect API of one ``gex`` command, whose lifetime the command owns.

Without ``PREFECT_API_URL``, Prefect starts a temporary API itself (``SubprocessASGIServer``, a uvicorn
child) on the first flow call. That child shares the terminal's process group, so Ctrl-C kills it while the
flow still needs it to record the interruption (Prefect then retried for minutes and the command ended with
``ConnectError``), and it has no tie to its parent, so a ``gex`` killed with SIGKILL left it running. Here the
command starts the same server (``prefect.server.api.server:create_app`` under uvicorn, with Prefect's
ephemeral-mode settings) itself:

* in its **own session** (process group): a Ctrl-C in the terminal reaches ``gex`` only, which stops its
  flows cleanly and then stops the server;
* bound to a socket the parent reserved on ``127.0.0.1`` (port chosen by the kernel, no race);
* with ``PR_SET_PDEATHSIG = SIGTERM`` (Linux): the kernel stops it when ``gex`` dies, even by SIGKILL; a
  watchdog thread in the child ends it 10 s later if a graceful stop hangs, and on systems without
  ``prctl`` the same thread notices the parent is gone (within a second);
* stopped in a ``finally`` after Prefect's log and event queues are drained (no "Error logging to API").

The server starts while the command goes on with its own work (importing Prefect and the flows, generating
the demo's market); :meth:`TemporaryApi.wait_ready` waits for ``/health`` before the first flow.

``PREFECT_API_URL`` set in the environment (a real server, the test harness) wins: nothing is started. A URL
set only in a Prefect profile or ``prefect.toml`` is honoured too, detected once Prefect is imported (the
speculatively started server is then stopped).

    python -m pipelines.api_server PARENT_PID SOCKET_FD   # the child; started by TemporaryApi only
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

#: Settings Prefect's own ``SubprocessASGIServer`` gives its temporary server (prefect/server/api/server.py).
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
#: Seconds the server gets to stop after SIGTERM before SIGKILL (it holds only its SQLite database, which
#: survives a kill; Prefect's own server is given 5 s).
STOP_GRACE_SECONDS = 3.0
#: Seconds a server whose parent died gets for a graceful stop before the child's watchdog ends it.
ORPHAN_GRACE_SECONDS = 10.0
#: Linux prctl option: signal to receive when the parent (thread) dies.
PR_SET_PDEATHSIG = 1


class ApiServerError(RuntimeError):
    """The temporary API did not start (message for people: what happened and the end of its log)."""


def startup_timeout() -> float:
    """Seconds to wait for the server: ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS`` (gex defaults it
    to 120, see ``gex_cli.flows_cmd.PREFECT_DEFAULTS``), else Prefect's default 20."""
    try:
        return float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20"))
    except ValueError:
        return 20.0


class TemporaryApi:
    """A Prefect API server child process owned by this process (see the module docstring)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.url: str | None = None
        self._log: Path | None = None
        self._ready = False

    # -- lifetime -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Spawn the server (returns at once; see :meth:`wait_ready`). Call from the main thread: the
        death signal follows the thread that spawned the child."""
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("start the temporary Prefect API from the main thread (its death signal is tied to it)")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))  # the kernel picks a free port; the child listens on this very socket
            port = sock.getsockname()[1]
            fd, log = tempfile.mkstemp(prefix="gex-prefect-api-", suffix=".log")
            self._log = Path(log)
            with os.fdopen(fd, "wb") as out:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "pipelines.api_server", str(os.getpid()), str(sock.fileno())],
                    env={**os.environ, **SERVER_ENV},
                    pass_fds=(sock.fileno(),),
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,  # a terminal's Ctrl-C reaches gex, not its API
                )
        finally:
            sock.close()  # the child has its own copy; ours would keep accepting after the child died
        self.url = f"http://127.0.0.1:{port}/api"

    def wait_ready(self, timeout: float | None = None) -> str:
        """Block until ``/health`` answers 200 (or raise :class:`ApiServerError`); returns the API URL."""
        if self.process is None or self.url is None:
            raise RuntimeError("TemporaryApi.wait_ready() before start()")
        if self._ready:
            return self.url
        limit = startup_timeout() if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            code = self.process.poll()
            if code is not None:
                raise ApiServerError(f"the temporary Prefect API exited with code {code} while starting{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2.0) as response:
                    if response.status == 200:
                        self._ready = True
                        return self.url
            except (urllib.error.URLError, OSError):
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise ApiServerError(
                    f"the temporary Prefect API did not answer within {limit:.0f} s (raise "
                    f"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or run `prefect server start` and set "
                    f"PREFECT_API_URL){self._log_tail()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server and its process group: SIGTERM, then SIGKILL after :data:`STOP_GRACE_SECONDS`.
        Idempotent; never raises for a server that is already gone."""
        process, self.process = self.process, None
        if process is not None:
            _drain_prefect_queues()
            if self._ready and os.environ.get("PREFECT_API_URL") == self.url:
                use_api(None)  # the process may go on (tests, an embedding program): not at a dead server
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None

    def kill_now(self) -> None:
        """Signal-safe emergency stop (a second Ctrl-C): SIGTERM to the server's group, no waiting."""
        process = self.process
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except OSError:
                pass

    def _log_tail(self, lines: int = 15) -> str:
        if self._log is None or not self._log.exists():
            return ""
        text = self._log.read_text(errors="replace").strip().splitlines()[-lines:]
        return (":\n  " + "\n  ".join(text)) if text else ""


def _drain_prefect_queues(timeout: float = 5.0) -> None:
    """Send the logs and events Prefect still queues for the API before the API goes away (as Prefect's
    test harness does); without this they fail at exit with "Error logging to API"."""
    if "prefect.logging.handlers" in sys.modules:
        try:
            from prefect.logging.handlers import APILogHandler

            APILogHandler.flush()
        except Exception:  # noqa: BLE001 - best effort: the run's result does not depend on its logs
            pass
    if "prefect.events.worker" in sys.modules:
        try:
            from prefect.events.worker import EventsWorker

            EventsWorker.drain_all(timeout=timeout)
        except Exception:  # noqa: BLE001 - best effort, as above
            pass


def configured_api_url() -> str | None:
    """The API URL Prefect would use without us: the environment's, a profile's or ``prefect.toml``'s
    (imports Prefect's settings, ~2 s: call it once Prefect is imported anyway)."""
    env = os.environ.get("PREFECT_API_URL", "").strip()
    if env:
        return env
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    return str(value) if value else None


def use_api(url: str | None) -> None:
    """Point this process (and the processes it starts) at ``url`` (``None``: back to no API URL)."""
    if url is None:
        os.environ.pop("PREFECT_API_URL", None)
    else:
        os.environ["PREFECT_API_URL"] = url
    if "prefect.context" in sys.modules:  # Prefect caches the settings it read at import: refresh them
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()


# -- the child ------------------------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGTERM when the parent dies; exit now if it already has. A watchdog thread ends
    the process :data:`ORPHAN_GRACE_SECONDS` after the parent is gone (a graceful stop that hangs, or no
    ``prctl``)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog below still ends an orphan
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)

    def watchdog() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # graceful first (the death signal may not exist here)
        except OSError:
            pass
        time.sleep(ORPHAN_GRACE_SECONDS)
        os._exit(0)

    threading.Thread(target=watchdog, name="gex-api-watchdog", daemon=True).start()


def _serve(parent: int, fd: int) -> None:
    """Run Prefect's API app under uvicorn on the inherited socket until SIGTERM (or the parent's death)."""
    _die_with_parent(parent)
    import uvicorn

    sock = socket.socket(fileno=fd)
    config = uvicorn.Config("prefect.server.api.server:create_app", factory=True, log_level="error", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
