"""The split of the suite between xdist workers (tests/scheduling.py): its tables name real files, and the
costliest-first order keeps each unit's tests together and in pytest's order."""

from __future__ import annotations

from dataclasses import dataclass

from tests import scheduling
from tests.conftest import REPO


def test_every_grouped_or_costed_file_exists():
    """A renamed file would silently leave its group (and its shared fixture would be built twice)."""
    named = set(scheduling.GROUPS) | {u for u in scheduling.COST_S if u.endswith(".py")}
    missing = sorted(f for f in named if not (REPO / f).is_file())
    assert not missing, f"tests/scheduling.py names files that do not exist: {missing}"
    assert set(scheduling.COST_S) - {u for u in scheduling.COST_S if u.endswith(".py")} <= set(scheduling.GROUPS.values())


@dataclass
class _Item:
    nodeid: str


def test_costliest_units_first_each_unit_kept_together_in_order(monkeypatch):
    monkeypatch.setattr(scheduling, "GROUPS", {"b.py": "g", "d.py": "g"})
    monkeypatch.setattr(scheduling, "COST_S", {"g": 50.0, "c.py": 80.0})
    ids = ["a.py::t1", "b.py::t1", "a.py::t2", "c.py::t1", "b.py::t2", "d.py::t1", "e.py::t1", "c.py::t2"]
    items = [_Item(i) for i in ids]
    scheduling.order_costliest_first(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == ["c.py::t1", "c.py::t2", "b.py::t1", "b.py::t2", "d.py::t1",
                                         "a.py::t1", "a.py::t2", "e.py::t1"]
    assert scheduling.unit_of("d.py::t1[x::y]") == "g" and scheduling.unit_of("a.py::C::t") == "a.py"
