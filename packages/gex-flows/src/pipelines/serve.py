"""The nightly flow as a scheduled Prefect deployment (``nightly/gex-nightly``), served by this process.

``gex serve`` (``gex_cli.serve_cmd``) is the command; this module holds the Prefect side: the schedule
(validated and previewed with Prefect's own server-side cron schedule, so the times shown are the times the
server's scheduler will create), the server checks, and the deployment. A schedule needs a real Prefect
server (``prefect server start``): the temporary API that ``gex nightly`` uses has no scheduler.

    python -m pipelines.serve LANDING [WAREHOUSE]      # serve with the default schedule (PREFECT_API_URL set)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from prefect.flows import serve
from prefect.schedules import Cron

from pipelines.nightly import nightly

#: Default schedule: 22:00 New York time, Monday to Friday (after the close and the vendors' end-of-day files).
DEFAULT_CRON = "0 22 * * 1-5"
DEFAULT_TIMEZONE = "America/New_York"
#: Deployment name; the full name is ``nightly/gex-nightly`` (flow/deployment).
DEFAULT_NAME = "gex-nightly"
#: Seconds to wait for the server's ``/health`` before saying it does not answer.
HEALTH_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class NightlySchedule:
    """A validated cron schedule of the nightly deployment.

    Attributes
    ----------
    cron : str
        Five-field cron expression (minute hour day-of-month month day-of-week), read in ``timezone``.
    timezone : str
        IANA time zone the cron is read in (wall-clock time: 22:00 stays 22:00 across DST changes).
    """

    cron: str
    timezone: str

    def next_runs(self, n: int = 5, after: dt.datetime | None = None) -> list[dt.datetime]:
        """The next ``n`` run times at or after ``after`` (default now), timezone-aware, in :attr:`timezone`.

        Computed by Prefect's server-side ``CronSchedule`` (the scheduler's own code), so they are the runs the
        server will create. A naive ``after`` is read as UTC.
        """
        from prefect.server.schemas.schedules import CronSchedule

        start = after or dt.datetime.now(dt.timezone.utc)
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.timezone.utc)
        dates = asyncio.run(CronSchedule(cron=self.cron, timezone=self.timezone).get_dates(n=n, start=start))
        zone = _zone(self.timezone)
        # Prefect returns pendulum/whenever datetimes: convert to plain stdlib ones in the schedule's zone.
        return [dt.datetime.fromtimestamp(d.timestamp(), tz=zone) for d in dates]


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


class ScheduleError(ValueError):
    """An invalid schedule; :attr:`field` is ``"cron"`` or ``"timezone"``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_schedule(cron: str, timezone: str) -> NightlySchedule:
    """Validate a cron expression and an IANA time zone the way the Prefect server will.

    Raises
    ------
    ScheduleError
        One line saying what is wrong (an invalid cron string, hashed/random expressions, an unknown zone),
        with ``field`` naming the culprit.
    """
    from zoneinfo import ZoneInfoNotFoundError

    from prefect.server.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    cron = " ".join(cron.split())
    # Each value checked alone, so that the message names the one that is wrong.
    for field, check in (("cron", {"cron": cron}), ("timezone", {"cron": DEFAULT_CRON, "timezone": timezone})):
        try:
            CronSchedule(**check)
        except ValidationError as exc:
            message = "; ".join(str(e.get("msg", e)).removeprefix("Value error, ") for e in exc.errors())
            raise ScheduleError(field, message) from None
    try:
        _zone(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError("timezone", f'Invalid timezone: "{timezone}" (specify in IANA tzdata format, for '
                                        "example, America/New_York)") from None
    schedule = NightlySchedule(cron, timezone)
    try:  # a valid cron may still match no date ("0 0 30 2 *"): croniter gives up with a ValueError
        schedule.next_runs(1)
    except ValueError:
        raise ScheduleError("cron", f'"{cron}" never fires: no date matches it') from None
    return schedule


def api_url() -> str | None:
    """The Prefect API the deployment would go to (``PREFECT_API_URL``, from the environment or the active
    Prefect profile), or None when Prefect would start its temporary local API instead."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url).rstrip("/") if url else None


def check_server(url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> str | None:
    """Ask ``{url}/health``; None if the server answers healthy, else one line saying what went wrong."""
    health = f"{url.rstrip('/')}/health"
    try:
        with urllib.request.urlopen(health, timeout=timeout_s) as response:
            body = response.read(1024)
    except urllib.error.HTTPError as exc:
        return (f"the Prefect server at {url} answered HTTP {exc.code} on {health}: is PREFECT_API_URL the API "
                "address (ending in /api, e.g. http://127.0.0.1:4200/api)?")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"no Prefect server answers at {url} ({health}: {reason})"
    try:
        healthy = json.loads(body) is True
    except ValueError:
        healthy = False
    if not healthy:
        return (f"{health} did not answer like a Prefect API (got {body[:60]!r}): is PREFECT_API_URL the API "
                "address (ending in /api, e.g. http://127.0.0.1:4200/api)?")
    return None


def parameters(landing: str, warehouse: str | None = None, underlyings: list[str] | None = None,
               presets: list[str] | None = None, watchlist: str | None = None) -> dict[str, Any]:
    """The default parameters of the deployment's runs (those of :func:`pipelines.nightly.nightly`):
    ``presets`` computed every night (default native plus every preset the warehouse holds), ``watchlist``
    fetched before the ingest (absolute path of its TOML; None: wait for files dropped into ``landing``)."""
    return {"landing": landing, "warehouse": warehouse, "underlyings": underlyings or None,
            "presets": presets or None, "watchlist": watchlist}


def build_deployment(schedule: NightlySchedule, params: dict[str, Any], name: str = DEFAULT_NAME) -> Any:
    """The nightly flow as a deployment ``nightly/<name>`` on ``schedule`` with default ``params``.

    The entrypoint is the module path ``pipelines.nightly.nightly`` (the root project installs
    ``pipelines``), so it resolves from any working directory.
    """
    from prefect.types.entrypoint import EntrypointType

    return nightly.to_deployment(
        name=name,
        schedules=[Cron(schedule.cron, timezone=schedule.timezone)],
        parameters=params,
        description=f"Nightly GEX pipeline: fetch the watchlist (if any), ingest the landing folder, compute every "
                    f"pending session, publish "
                    f"the regimes. Schedule: {schedule.cron} ({schedule.timezone}).",
        tags=["gex", "nightly"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


#: Deployment name of the intraday flow; the full name is ``intraday/gex-intraday``.
INTRADAY_NAME = "gex-intraday"


def intraday_parameters(landing: str, warehouse: str | None, watchlist: str, every: int,
                        presets: list[str] | None = None) -> dict[str, Any]:
    """The default parameters of the intraday deployment's runs (those of :func:`pipelines.intraday.intraday`,
    gated: each run checks its scheduled instant against the NYSE calendar)."""
    return {"landing": landing, "warehouse": warehouse, "watchlist": watchlist, "every": every,
            "presets": presets or None, "gate": True}


def build_intraday_deployment(every: int, params: dict[str, Any], name: str = INTRADAY_NAME) -> Any:
    """The intraday flow as a deployment ``intraday/<name>`` on the cron of every possible run instant
    (:func:`gex_fetch.schedule.intraday_cron`, New York time); each run skips unless its scheduled instant is
    a run instant of a session (holidays, weekends, after early closes)."""
    from gex_fetch.schedule import intraday_cron
    from prefect.types.entrypoint import EntrypointType

    from pipelines.intraday import intraday

    cron = intraday_cron(every)
    return intraday.to_deployment(
        name=name,
        schedules=[Cron(cron, timezone=DEFAULT_TIMEZONE)],
        parameters=params,
        description=f"Intraday GEX cycle every {every} min of NYSE regular hours: fetch the watchlist, ingest, "
                    f"compute the snapshots, publish. Schedule: {cron} ({DEFAULT_TIMEZONE}), gated by the calendar.",
        tags=["gex", "intraday"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def serve_nightly(schedule: NightlySchedule, params: dict[str, Any], name: str = DEFAULT_NAME,
                  extra: tuple[Any, ...] = ()) -> None:
    """Register the deployment with the server in ``PREFECT_API_URL`` and run its scheduled runs in this
    process (each in a subprocess) until interrupted (Ctrl-C or SIGTERM); ``extra`` deployments (the
    intraday one, :func:`build_intraday_deployment`) are served beside it.

    On shutdown Prefect pauses the schedule (``pause_on_shutdown``), so runs do not pile up as Late while
    nothing serves them; the next ``serve`` registers the deployment again and resumes it.
    """
    import warnings

    # Prefect 3.8's SIGTERM handler calls the async Runner.stop() without awaiting it (the schedules are paused
    # by the runner's own shutdown anyway): silence that one warning, which would otherwise reach the journal.
    warnings.filterwarnings("ignore", message="coroutine 'Runner.astop' was never awaited", category=RuntimeWarning)
    # The same handler exits from inside the event loop; an open control-channel connection of a finished run
    # is then cancelled and asyncio logs that cancellation with a traceback. It is the shutdown itself, not an
    # error: keep it out of the journal (any other asyncio error still shows).
    logging.getLogger("asyncio").addFilter(_drop_shutdown_cancellations)
    serve(build_deployment(schedule, params, name), *extra, print_starting_message=False)


def pause(name: str = DEFAULT_NAME, flow_name: str | None = None) -> bool:
    """Pause the deployment ``nightly/<name>`` (``<flow_name>/<name>``) on the server (what ``pause_on_shutdown`` should have done:
    Prefect 3.8's SIGTERM path starts the runner's stop without awaiting it, so under load the pause can be
    lost). Returns whether the server confirmed; never raises (the server may be gone too)."""
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name(f"{flow_name or nightly.name}/{name}")
            client.pause_deployment(deployment.id)
        return True
    except Exception:  # noqa: BLE001 - best effort at shutdown: the next `gex serve` resumes it anyway
        return False


def _drop_shutdown_cancellations(record: logging.LogRecord) -> bool:
    """Logging filter: False (drop) for asyncio's report of a task cancelled or exited during shutdown."""
    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, (asyncio.CancelledError, SystemExit))


def _main(argv: list[str]) -> int:
    """``python -m pipelines.serve LANDING [WAREHOUSE]``: the default schedule, after the same server checks."""
    url = api_url()
    problem = ("PREFECT_API_URL is not set: start `prefect server start` and point PREFECT_API_URL at it "
               "(docs/scheduling.md)") if url is None else check_server(url)
    if problem is not None:
        print(f"pipelines.serve: {problem}", file=sys.stderr)
        return 1
    serve_nightly(parse_schedule(DEFAULT_CRON, DEFAULT_TIMEZONE),
                  parameters(argv[0], argv[1] if len(argv) > 1 else None))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
