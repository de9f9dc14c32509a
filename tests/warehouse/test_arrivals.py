"""Waiting for files still arriving in a landing folder (a fake clock: no real waiting)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from gex_warehouse.arrivals import LandingNotReady, expand_patterns, is_partial, landing_state, wait_for_landing


class FakeClock:
    """A clock that advances only when the code under test sleeps; ``on_sleep`` changes the folder."""

    def __init__(self, on_sleep=None) -> None:
        self.now, self.sleeps, self.on_sleep = 0.0, 0, on_sleep

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        if self.on_sleep is not None:
            self.on_sleep(self.sleeps)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_patterns_take_the_session_and_say_when_it_is_missing():
    day = dt.date(2025, 1, 6)
    assert expand_patterns(["chains/SPX_{session}_*.csv", "oi/occ_{session:%Y%m%d}.csv"], day) == \
        ["chains/SPX_2025-01-06_*.csv", "oi/occ_20250106.csv"]
    with pytest.raises(ValueError, match="no session was given"):
        expand_patterns(["chains/SPX_{session}.csv"], None)


def test_state_skips_hidden_and_names_partial_downloads(tmp_path):
    _write(tmp_path / "chains" / "a.csv", "x")
    _write(tmp_path / ".hidden" / "b.csv", "x")
    _write(tmp_path / "chains" / "c.csv.part", "x")
    state = landing_state(tmp_path, ["chains/*.csv", "oi/*.csv"])
    assert list(state.files) == ["chains/a.csv"]
    assert state.partial == ("chains/c.csv.part",) and state.missing == ("oi/*.csv",)
    assert is_partial(Path("x.CRDOWNLOAD")) and not is_partial(Path("x.csv"))


def test_no_deadline_takes_the_folder_as_it_is_but_requires_expected_files(tmp_path):
    _write(tmp_path / "a.csv", "x")
    assert list(wait_for_landing(tmp_path).files) == ["a.csv"]
    with pytest.raises(LandingNotReady, match="no file matches b.csv"):
        wait_for_landing(tmp_path, expect=["b.csv"])


def test_waits_for_an_expected_file_and_for_it_to_settle(tmp_path):
    target = tmp_path / "chains" / "SPX_2025-01-06_quotedata.csv"

    def arrive(n: int) -> None:  # appears on the 2nd look, still growing on the 3rd, then settles
        if n == 1:
            _write(target, "a")
        elif n == 2:
            _write(target, "abc")

    clock = FakeClock(arrive)
    state = wait_for_landing(tmp_path, expect=["chains/SPX_{session}_*.csv"], session=dt.date(2025, 1, 6),
                             deadline_seconds=60, settle_seconds=5, poll_seconds=1, clock=clock, sleep=clock.sleep)
    assert state.files[str(target.relative_to(tmp_path))][0] == 3
    assert clock.sleeps == 3 and clock.now == pytest.approx(1 + 5 + 5)


def test_deadline_names_what_is_missing_and_what_is_still_changing(tmp_path):
    grow = _write(tmp_path / "big.csv", "")

    def append(n: int) -> None:
        grow.write_text("x" * n)

    clock = FakeClock(append)
    with pytest.raises(LandingNotReady) as err:
        wait_for_landing(tmp_path, deadline_seconds=20, settle_seconds=5, clock=clock, sleep=clock.sleep)
    assert "still changing: big.csv" in str(err.value) and "not ready after 20 s" in str(err.value)

    _write(tmp_path / "x.csv.part", "x")
    clock = FakeClock()
    with pytest.raises(LandingNotReady, match="still downloading: x.csv.part"):
        wait_for_landing(tmp_path, expect=["y.csv"], deadline_seconds=3, clock=clock, sleep=clock.sleep)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        wait_for_landing(tmp_path / "nope")
