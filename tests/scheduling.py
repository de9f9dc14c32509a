"""How ``pytest -n 2`` shares the suite between its two workers (hooks wired in ``tests/conftest.py``).

The README's test command runs on 2 cores; a handful of files (the demo, the interrupt and race tests, the
Prefect server test, the intraday flow, the browser pages) hold most of the suite's time. xdist's default
``--dist load`` hands out consecutive chunks of the collection, so a whole folder of slow files could land on
one worker while the other ran out of work. Instead (``--dist loadfile`` in ``pyproject.toml``):

- every file is one unit of work (its module-scoped fixtures are built once), and a few files that share an
  expensive session fixture are one unit (:data:`GROUPS`), so that fixture is built on one worker only;
- units are handed out costliest first (:data:`COST_S`, then the rest in collection order), a free worker
  taking the next one: the longest-processing-time-first rule, so both workers finish close together.

:data:`COST_S` holds the seconds per unit of a ``--durations=0`` run (on a loaded machine: about twice
CI's); only the order matters, so it needs refreshing only when a file's cost changes a lot (a
missing or stale entry makes the run slower, never wrong).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

#: Files that share session-scoped fixtures too costly to build on both workers, by unit name.
_SHARING: dict[str, tuple[str, ...]] = {
    # the Prefect test harness (a temporary API server, ~10-20 s to start), the generated landing folder and its
    # warehouse, and the uninterrupted reference runs of the interrupt and race tests (tests/flows/conftest.py)
    "flows+prefect": (
        "tests/flows/test_alerts.py", "tests/flows/test_dask.py", "tests/flows/test_demo.py",
        "tests/flows/test_flow_safety.py", "tests/flows/test_flows.py", "tests/flows/test_interrupts.py",
        "tests/flows/test_intraday_flow.py", "tests/flows/test_nightly_fetch.py",
        "tests/flows/test_nightly_poisoned.py", "tests/flows/test_readers_during_backfill.py",
        "tests/flows/test_tasks.py", "tests/fetch/test_fetch_flow.py",
    ),
    # tests/warehouse/published_market.built_warehouse: two generated markets (55 sessions) ingested and computed
    "published-market": (
        "tests/warehouse/test_published_queries.py", "tests/warehouse/test_published_snapshot.py",
        "tests/warehouse/test_hedge_advice_refresh.py", "tests/warehouse/test_scanner.py",
        "tests/warehouse/test_published_contract.py", "tests/warehouse/test_published_vol.py",
        "tests/warehouse/test_level_outcomes.py", "tests/cli/test_sql_cli.py", "tests/cli/test_sql_sandbox.py",
        "tests/cli/test_cli_defects.py", "tests/cli/test_advise_cli.py",
    ),
    # tests/report/conftest.report_warehouse: 30 generated sessions ingested and computed
    "report-market": (
        "tests/report/test_browser.py", "tests/report/test_page.py", "tests/report/test_report_cli.py",
        "tests/report/test_data.py",
    ),
}

#: file -> the unit it belongs to (files not listed are a unit each).
GROUPS: dict[str, str] = {file: unit for unit, files in _SHARING.items() for file in files}

#: Approximate seconds per unit (file or group) with ``-n 2`` on 2 cores; the order is what matters.
COST_S: dict[str, float] = {  # measured 2026-12-06, `-n 2 --durations=0` on 2 cores under load ~15 (~2x CI)
    "flows+prefect": 1241.0,
    "published-market": 576.0,
    "report-market": 223.0,
    "tests/flows/test_serve.py": 72.0,
    "tests/report/test_intraday_serve.py": 59.0,
    "tests/fetch/test_end_to_end.py": 51.0,
    "tests/warehouse/test_market_batches.py": 60.0,  # 2026-12-07: ~40 s alone with -n 2 after the packing tests
    "tests/warehouse/test_upgrade_history.py": 48.0,
    "tests/warehouse/test_compute.py": 46.0,
    "tests/cli/test_intraday_cli.py": 45.0,
    "tests/cli/test_analyze_expiries.py": 42.0,
    "tests/cli/test_analyze_chart.py": 41.0,
    "tests/cli/test_analyze_cli.py": 39.0,
    "tests/warehouse/test_bad_inputs.py": 36.0,
    "tests/golden/test_reference_on_real_files.py": 35.0,
    "tests/sources/test_api_replay_cli.py": 34.0,
    "tests/report/test_scanner_page.py": 33.0,
}


def unit_of(nodeid: str) -> str:
    """The unit of work of a test id: its group, else its file."""
    path = nodeid.split("::", 1)[0]
    return GROUPS.get(path, path)


def order_costliest_first(items: list[pytest.Item]) -> None:
    """Reorder ``items`` in place: units by decreasing :data:`COST_S` (unknown units last, in their collection
    order); within a unit, the collection order (the fixture-friendly order pytest chose)."""
    first_seen: dict[str, int] = {}
    for item in items:
        first_seen.setdefault(unit_of(item.nodeid), len(first_seen))

    def key(item: pytest.Item) -> tuple[float, int]:
        unit = unit_of(item.nodeid)
        return -COST_S.get(unit, 0.0), first_seen[unit]

    items.sort(key=key)  # stable: the order inside a unit is kept


def make_scheduler(config: pytest.Config, log: object) -> object | None:
    """A ``--dist loadfile`` scheduler whose units are :func:`unit_of` (``None``: xdist's own choice)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class GroupedFileScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

    return GroupedFileScheduling(config, log)


#: Key of ``workerinput`` (what the controller sends each worker) saying the worker should reorder.
WORKER_FLAG = "gex_costliest_first"


def configure_node(node: object) -> None:
    """Controller side: tell each worker whether to reorder (a worker's own config says ``dist = "no"``)."""
    node.workerinput[WORKER_FLAG] = node.config.getvalue("dist") == "loadfile"  # type: ignore[attr-defined]


def reorder(config: pytest.Config, items: Sequence[pytest.Item]) -> bool:
    """Whether to reorder: only in xdist workers of a ``--dist loadfile`` run (a plain ``pytest`` run, or
    another ``--dist`` mode, keeps pytest's order)."""
    return bool(getattr(config, "workerinput", {}).get(WORKER_FLAG)) and bool(items)
