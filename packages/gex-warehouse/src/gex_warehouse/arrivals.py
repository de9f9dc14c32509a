"""Files still arriving in a landing folder: wait until the expected ones are there and nothing changes.

Vendors drop files by copy or download, so a nightly job can start while a file is half written. A folder
is *ready* when

- every expected pattern matches a file (patterns are globs relative to the folder with a ``{session}``
  placeholder: ``chains/SPX_{session}_quotedata.csv``; ``{session:%Y%m%d}`` formats the date otherwise),
- no file carries a download-in-progress name (:data:`PARTIAL_SUFFIXES`), and
- no file changed size or modification time over ``settle_seconds``.

:func:`wait_for_landing` polls until ready or the deadline passes (then :class:`LandingNotReady` says what
was missing or still changing). Hidden files (a leading dot) are never data.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Name endings of files being downloaded or copied (browsers, rsync-style tools, curl -o x.part).
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart", ".incomplete")


class LandingNotReady(RuntimeError):
    """The landing folder was not ready by the deadline (message lists what was missing or changing)."""


def is_partial(path: Path) -> bool:
    """Whether ``path`` is a file still being written by name (see :data:`PARTIAL_SUFFIXES`)."""
    return path.name.lower().endswith(PARTIAL_SUFFIXES)


@dataclass(frozen=True)
class LandingState:
    """One look at the folder: data files with (size, mtime_ns), partial files, unmatched patterns."""

    files: dict[str, tuple[int, int]]
    partial: tuple[str, ...]
    missing: tuple[str, ...]

    def ready_against(self, earlier: LandingState | None) -> bool:
        """Ready when nothing is missing or partial and the files equal ``earlier``'s (a settled folder)."""
        return not self.missing and not self.partial and earlier is not None and earlier.files == self.files


def expand_patterns(patterns: Sequence[str], session: dt.date | None) -> list[str]:
    """Patterns with ``{session}`` filled in (``ValueError`` naming the pattern when it needs a session)."""
    out = []
    for p in patterns:
        if "{session" in p and session is None:
            raise ValueError(f"expected-file pattern {p!r} has a {{session}} placeholder but no session was given")
        out.append(p.format(session=session) if session is not None else p)
    return out


def landing_state(folder: Path, patterns: Sequence[str] = ()) -> LandingState:
    """Look at ``folder`` once (``patterns`` already expanded, see :func:`expand_patterns`)."""
    if not folder.is_dir():
        raise FileNotFoundError(f"landing folder {folder} does not exist")
    files: dict[str, tuple[int, int]] = {}
    partial: list[str] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if is_partial(path):
            partial.append(str(rel))
            continue
        st = path.stat()
        files[str(rel)] = (st.st_size, st.st_mtime_ns)
    missing = tuple(p for p in patterns if not any(folder.glob(p)))
    return LandingState(files, tuple(partial), missing)


def wait_for_landing(
    folder: str | Path,
    *,
    expect: Sequence[str] = (),
    session: dt.date | None = None,
    deadline_seconds: float = 0.0,
    settle_seconds: float = 2.0,
    poll_seconds: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> LandingState:
    """Wait until ``folder`` is ready (module docstring) and return its state.

    ``deadline_seconds`` = 0 looks once and does not wait for files to settle: the folder is taken as it
    is, but missing expected files still raise. Raises :class:`LandingNotReady` at the deadline.
    """
    root = Path(folder)
    patterns = expand_patterns(expect, session)
    start = clock()
    state = landing_state(root, patterns)
    if deadline_seconds <= 0:
        if state.missing:
            raise LandingNotReady(f"{root}: no file matches {', '.join(state.missing)}")
        return state
    previous: LandingState | None = None
    while True:
        if state.ready_against(previous):
            return state
        elapsed = clock() - start
        if elapsed >= deadline_seconds:
            problems = []
            if state.missing:
                problems.append(f"no file matches {', '.join(state.missing)}")
            if state.partial:
                problems.append(f"still downloading: {', '.join(state.partial)}")
            if previous is not None and previous.files != state.files:
                changing = sorted(k for k in state.files if previous.files.get(k) != state.files[k])
                problems.append(f"still changing: {', '.join(changing) or 'files appeared or vanished'}")
            raise LandingNotReady(f"{root} not ready after {elapsed:.0f} s: " + "; ".join(problems or ["not settled"]))
        previous = state if not (state.missing or state.partial) else None
        sleep(max(settle_seconds if previous is not None else poll_seconds, 0.01))
        state = landing_state(root, patterns)
