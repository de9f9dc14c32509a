"""Progress of a long flow: a bar in the terminal, and a progress artifact in the Prefect UI.

The terminal bar (rich, already a dependency of typer and Prefect) shows when stderr is a terminal or
``GEX_PROGRESS=1`` (``GEX_PROGRESS=0`` hides it); the Prefect progress artifact is updated every ~5%, so a
scheduled backfill can be followed in the UI.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any


def _bar_wanted() -> bool:
    flag = os.environ.get("GEX_PROGRESS", "").strip()
    return flag == "1" or (flag != "0" and sys.stderr.isatty())


class FlowProgress:
    """Count finished items of ``total``; use as a context manager around the work."""

    def __init__(self, total: int, description: str, artifact_key: str | None = None) -> None:
        self.total, self.done, self.description = total, 0, description
        self._artifact_key, self._artifact_id, self._reported = artifact_key, None, -1.0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> FlowProgress:
        if self.total and _bar_wanted():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), transient=False,
                                 console=None)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        if self.total and self._artifact_key:
            from prefect.artifacts import create_progress_artifact

            self._artifact_id = create_progress_artifact(0.0, key=self._artifact_key, description=self.description)
        return self

    def advance(self, n: int = 1) -> None:
        """``n`` more items finished."""
        self.done += n
        if self._bar is not None:
            self._bar.update(self._task, advance=n)
        percent = 100.0 * self.done / self.total if self.total else 100.0
        if self._artifact_id is not None and (percent - self._reported >= 5.0 or self.done == self.total):
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(self._artifact_id, percent)
            self._reported = percent

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
