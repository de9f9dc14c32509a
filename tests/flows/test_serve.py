"""``pipelines.serve``: the nightly schedule (validated and previewed with Prefect's own scheduler code), the
server checks, the deployment, and ONE end-to-end run of ``gex serve`` against a real ``prefect server start``.

The preview is checked against an independent reference: wall-clock ``HH:MM`` on each weekday, made aware with
``zoneinfo`` (so DST changes are the tz database's, not croniter's).
"""

from __future__ import annotations

import datetime as dt
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines import serve as serving

UTC = dt.timezone.utc
NEW_YORK = ZoneInfo("America/New_York")


def weekday_runs(hour: int, minute: int, zone: str, after: dt.datetime, n: int) -> list[dt.datetime]:
    """Reference: the first ``n`` instants at or after ``after`` that are ``hour:minute`` wall-clock time in
    ``zone`` on a Monday-Friday (``hour:minute`` must exist exactly once each day: no DST gap or fold)."""
    tz = ZoneInfo(zone)
    day = after.astimezone(tz).date() - dt.timedelta(days=1)
    runs: list[dt.datetime] = []
    while len(runs) < n:
        if day.weekday() < 5:
            moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
            if moment >= after:
                runs.append(moment)
        day += dt.timedelta(days=1)
    return runs


# --- the schedule ---------------------------------------------------------------------------------------------

def test_default_schedule_across_the_spring_dst_change():
    """22:00 New York stays 22:00 local when clocks go forward (Sunday 2026-03-08): 03:00 UTC before, 02:00 after."""
    schedule = serving.parse_schedule(serving.DEFAULT_CRON, serving.DEFAULT_TIMEZONE)
    runs = schedule.next_runs(5, after=dt.datetime(2026, 3, 6, 12, tzinfo=UTC))
    assert [r.astimezone(UTC) for r in runs] == [
        dt.datetime(2026, 3, 7, 3, tzinfo=UTC),   # Fri 6 Mar 22:00 EST (UTC-5)
        dt.datetime(2026, 3, 10, 2, tzinfo=UTC),  # Mon 9 Mar 22:00 EDT (UTC-4); no run on the weekend
        dt.datetime(2026, 3, 11, 2, tzinfo=UTC),
        dt.datetime(2026, 3, 12, 2, tzinfo=UTC),
        dt.datetime(2026, 3, 13, 2, tzinfo=UTC),
    ]
    assert all(r.astimezone(NEW_YORK).time() == dt.time(22) for r in runs)
    assert runs[0].utcoffset() == dt.timedelta(hours=-5) and runs[1].utcoffset() == dt.timedelta(hours=-4)


def test_default_schedule_across_the_autumn_dst_change():
    """Clocks go back on Sunday 2026-11-01: Friday's run is 02:00 UTC, Monday's 03:00 UTC."""
    schedule = serving.parse_schedule(serving.DEFAULT_CRON, serving.DEFAULT_TIMEZONE)
    runs = schedule.next_runs(2, after=dt.datetime(2026, 10, 30, 12, tzinfo=UTC))
    assert [r.astimezone(UTC) for r in runs] == [dt.datetime(2026, 10, 31, 2, tzinfo=UTC),
                                                 dt.datetime(2026, 11, 3, 3, tzinfo=UTC)]


def test_a_run_time_itself_is_included():
    schedule = serving.parse_schedule(serving.DEFAULT_CRON, serving.DEFAULT_TIMEZONE)
    at = dt.datetime(2026, 3, 9, 22, tzinfo=NEW_YORK)
    assert schedule.next_runs(1, after=at) == [at]
    assert schedule.next_runs(1, after=at + dt.timedelta(seconds=1))[0] == at + dt.timedelta(days=1)


@settings(max_examples=60, deadline=None)
@given(
    hour=st.integers(4, 23),  # no zone below changes its clocks between 04:00 and midnight
    minute=st.integers(0, 59),
    zone=st.sampled_from(["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "UTC"]),
    after=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31)),
)
def test_next_runs_match_the_wall_clock_reference(hour, minute, zone, after):
    after = after.replace(microsecond=0, tzinfo=UTC)
    schedule = serving.parse_schedule(f"{minute} {hour} * * 1-5", zone)
    runs = schedule.next_runs(5, after=after)
    assert runs == weekday_runs(hour, minute, zone, after, 5)
    assert all(r.tzinfo is not None and r.tzinfo.key == zone for r in runs)


@pytest.mark.parametrize("cron", ["61 22 * * 1-5", "0 22 * *", "0 22 * * 1-5 *x", "H 22 * * 1-5", "every night", ""])
def test_bad_cron_is_refused(cron):
    with pytest.raises(serving.ScheduleError) as info:
        serving.parse_schedule(cron, serving.DEFAULT_TIMEZONE)
    assert info.value.field == "cron"


@pytest.mark.parametrize("cron", ["0 0 30 2 *", "0 22 31 4 *"])
def test_cron_that_never_fires_is_refused(cron):
    with pytest.raises(serving.ScheduleError, match="never fires") as info:
        serving.parse_schedule(cron, serving.DEFAULT_TIMEZONE)
    assert info.value.field == "cron"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "New York", "EST+5", ""])
def test_bad_timezone_is_refused(zone):
    with pytest.raises(serving.ScheduleError) as info:
        serving.parse_schedule(serving.DEFAULT_CRON, zone)
    assert info.value.field == "timezone"
    assert "Invalid timezone" in str(info.value)


def test_cron_whitespace_is_normalised():
    assert serving.parse_schedule("  0  22 * *\t1-5 ", "UTC").cron == "0 22 * * 1-5"


# --- the server checks ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Answer(http.server.BaseHTTPRequestHandler):
    status, body = 200, b"true"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_server():
    """A local HTTP server whose every answer is ``(status, body)``, set by the test."""
    handler = type("Handler", (_Answer,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def test_healthy_server(fake_server):
    _, url = fake_server
    assert serving.check_server(url) is None
    assert serving.check_server(url + "/") is None


def test_closed_port_does_not_answer():
    url = f"http://127.0.0.1:{free_port()}/api"
    problem = serving.check_server(url, timeout_s=2)
    assert problem is not None and problem.startswith(f"no Prefect server answers at {url}")


@pytest.mark.parametrize(("status", "body", "says"), [
    (404, b"{}", "answered HTTP 404"),
    (200, b"<!doctype html><html>the UI</html>", "did not answer like a Prefect API"),
    (200, b"false", "did not answer like a Prefect API"),
])
def test_something_else_at_the_url(fake_server, status, body, says):
    handler, url = fake_server
    handler.status, handler.body = status, body
    problem = serving.check_server(url)
    assert problem is not None and says in problem and "ending in /api" in problem


# --- the deployment -------------------------------------------------------------------------------------------

def test_deployment_carries_schedule_parameters_and_a_module_entrypoint(tmp_path):
    schedule = serving.parse_schedule("30 21 * * 1-5", "Europe/London")
    params = serving.parameters(str(tmp_path), str(tmp_path / "w.duckdb"), ["SPX", "NDX"])
    deployment = serving.build_deployment(schedule, params, name="gex-test")
    assert deployment.name == "gex-test" and deployment.flow_name == "nightly"
    assert deployment.entrypoint == "pipelines.nightly.nightly"
    assert deployment.parameters == {"landing": str(tmp_path), "warehouse": str(tmp_path / "w.duckdb"),
                                     "underlyings": ["SPX", "NDX"], "presets": None, "watchlist": None}
    [created] = deployment.schedules
    assert (created.schedule.cron, created.schedule.timezone) == ("30 21 * * 1-5", "Europe/London")


def test_no_underlyings_means_all():
    assert serving.parameters("landing")["underlyings"] is None
    assert serving.parameters("landing", None, [])["underlyings"] is None


# --- end to end: gex serve against a real Prefect server ------------------------------------------------------

def _quiet_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH")}
    env.update(PREFECT_HOME=str(home), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return env


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, wait_s: float = 30) -> None:
    """Stop ``proc`` and its process group (the server starts children), escalating to SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=wait_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def _wait_for(what: str, check, timeout_s: float, alive: list[subprocess.Popen], logs: list[Path]):
    """Poll ``check()`` until it returns a truthy value; fail with the logs if a process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        for proc, log in zip(alive, logs):
            if proc.poll() is not None:
                pytest.fail(f"{what}: process {proc.args[:4]} exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:.0f} s\n" + "\n".join(log.read_text()[-3000:] for log in logs))
        time.sleep(0.5)


def _api(method: str, url: str, **kwargs):
    """One HTTP call to the server, retried on 503 as Prefect's own client does (a busy SQLite database)."""
    import httpx

    for _ in range(20):
        answer = httpx.request(method, url, timeout=10, **kwargs)
        if answer.status_code != 503:
            return answer
        time.sleep(0.5)
    return answer


@pytest.mark.slow
def test_gex_serve_registers_the_scheduled_deployment_on_a_real_server(tmp_path):
    """``prefect server start`` + ``gex serve``: the deployment nightly/gex-nightly exists with the cron, time
    zone and parameters, the server's scheduler created runs at exactly the previewed times, a run triggered
    now is executed by the serving process (an empty landing folder: nothing to do, so it completes), and
    SIGTERM stops serving cleanly (exit 0, schedule paused)."""
    import httpx

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    landing = tmp_path / "landing"
    landing.mkdir()
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    server = serve = None
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    try:
        with server_log.open("w") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                env=_quiet_env(tmp_path / "server-home"), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

        def healthy() -> bool:
            try:
                return httpx.get(f"{api}/health", timeout=2).json() is True
            except (httpx.HTTPError, ValueError):
                return False

        _wait_for("server health", healthy, 120, [server], [server_log])
        timings["server_ready_s"] = time.monotonic() - t0

        started = dt.datetime.now(UTC).replace(microsecond=0)
        env = _quiet_env(tmp_path / "client-home") | {"PREFECT_API_URL": api}
        with serve_log.open("w") as out:
            serve = subprocess.Popen(
                [sys.executable, "-m", "gex_cli", "serve", "--landing", str(landing),
                 "--warehouse", str(tmp_path / "gex.duckdb"), "--underlying", "spx"],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

        def deployment() -> dict | None:
            answer = _api("GET", f"{api}/deployments/name/nightly/gex-nightly")
            return answer.json() if answer.status_code == 200 else None

        found = _wait_for("deployment nightly/gex-nightly", deployment, 90, [server, serve], [server_log, serve_log])
        timings["deployment_registered_s"] = time.monotonic() - t0
        [schedule] = found["schedules"]
        assert schedule["schedule"]["cron"] == "0 22 * * 1-5"
        assert schedule["schedule"]["timezone"] == "America/New_York"
        assert schedule["active"] and not found["paused"]
        assert found["parameters"] == {"landing": str(landing.resolve()),
                                       "warehouse": str((tmp_path / "gex.duckdb").resolve()), "underlyings": ["SPX"],
                                       "presets": None, "watchlist": None}
        assert found["entrypoint"] == "pipelines.nightly.nightly"

        def scheduled_runs() -> list[dict]:
            answer = _api("POST", f"{api}/flow_runs/filter", json={
                "deployments": {"id": {"any_": [found["id"]]}},
                "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
                "sort": "EXPECTED_START_TIME_ASC",
            })
            answer.raise_for_status()
            return answer.json()

        runs = _wait_for("scheduled runs", scheduled_runs, 90, [server, serve], [server_log, serve_log])
        timings["runs_scheduled_s"] = time.monotonic() - t0
        times = [dt.datetime.fromisoformat(r["expected_start_time"]) for r in runs]
        expected = weekday_runs(22, 0, "America/New_York", started, len(times))
        assert times == expected

        # A run now (as `prefect deployment run` does): the serving process must pick it up and run the flow.
        created = _api("POST", f"{api}/deployments/{found['id']}/create_flow_run", json={})
        created.raise_for_status()

        def finished() -> dict | None:
            run = _api("GET", f"{api}/flow_runs/{created.json()['id']}").json()
            return run if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        run = _wait_for("the triggered run", finished, 120, [server, serve], [server_log, serve_log])
        timings["run_completed_s"] = time.monotonic() - t0
        assert run["state"]["type"] == "COMPLETED", serve_log.read_text()[-3000:]
        assert run["parameters"]["landing"] == str(landing.resolve())

        printed = serve_log.read_text()
        assert f"serving on the Prefect server at {api}" in printed
        assert "deployment: nightly/gex-nightly" in printed and "cron '0 22 * * 1-5' in America/New_York" in printed
        first = expected[0]
        assert f"{first.astimezone(NEW_YORK):%a %Y-%m-%d %H:%M %Z} = {first.astimezone(UTC):%a %Y-%m-%d %H:%M} UTC" in printed

        os.killpg(serve.pid, signal.SIGTERM)  # what `systemctl stop gex-serve` sends
        assert serve.wait(timeout=60) == 0, serve_log.read_text()[-3000:]
        assert "stopped serving" in serve_log.read_text()
        assert "Traceback" not in serve_log.read_text(), serve_log.read_text()[-6000:]
        assert deployment()["paused"] is True  # pause_on_shutdown: no Late runs pile up while nothing serves
        timings["total_s"] = time.monotonic() - t0
        print("timings:", {k: round(v, 1) for k, v in timings.items()})
    finally:
        _stop(serve)
        _stop(server)


# --- the files for production: prefect.yaml and the systemd units ---------------------------------------------

REPO = Path(__file__).resolve().parents[2]


def test_prefect_yaml_matches_the_served_deployment():
    """prefect.yaml (the work-pool variant) deploys the same flow on the same schedule, with valid parameters."""
    import inspect

    import yaml
    from prefect.flows import load_flow_from_entrypoint

    from pipelines.nightly import nightly

    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    [deployment] = config["deployments"]
    assert deployment["work_pool"]["name"] == "gex"
    assert deployment["name"] != serving.DEFAULT_NAME  # never the same deployment as `gex serve`'s
    [schedule] = deployment["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == (serving.DEFAULT_CRON, serving.DEFAULT_TIMEZONE)
    serving.parse_schedule(schedule["cron"], schedule["timezone"])
    flow = load_flow_from_entrypoint(str(REPO / deployment["entrypoint"]))
    assert flow.name == nightly.name == "nightly"
    signature = inspect.signature(nightly.fn).parameters
    required = {n for n, p in signature.items() if p.default is inspect.Parameter.empty}
    assert required <= set(deployment["parameters"]) <= set(signature)
    assert set(serving.parameters("landing")) <= set(signature)


def _unit(name: str) -> dict[str, list[str]]:
    """``key -> values`` of a systemd unit file (repeated keys such as Environment= collect)."""
    entries: dict[str, list[str]] = {}
    for line in (REPO / "deploy" / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            entries.setdefault(key.strip(), []).append(value.strip())
    return entries


@pytest.mark.parametrize(("unit", "command"), [("gex-serve.service", "gex serve"),
                                               ("gex-worker.service", "prefect worker start --pool gex")])
def test_systemd_units_start_after_the_server_with_its_url(unit, command):
    server, client = _unit("gex-prefect-server.service"), _unit(unit)
    assert "prefect server start --host 127.0.0.1 --port 4200" in server["ExecStart"][0]
    assert "gex-prefect-server.service" in client["After"][0] and client["Requires"] == ["gex-prefect-server.service"]
    assert command in client["ExecStart"][0]
    env = dict(e.split("=", 1) for e in client["Environment"])
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"
    assert env["DO_NOT_TRACK"] == "1" and "GEX_WAREHOUSE" in env and "PREFECT_HOME" in env
    assert client["Restart"] == ["on-failure"] and client["WorkingDirectory"] == server["WorkingDirectory"]
    assert "http://127.0.0.1:4200/api/health" in client["ExecStartPre"][0]
    assert "GEX_LANDING" in env or unit == "gex-worker.service"  # the worker's landing comes from prefect.yaml
