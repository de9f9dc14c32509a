"""Strict JSON for every ``--json`` / ``--format json`` output of the ``gex`` commands: one helper.

Python's ``json`` writes ``NaN``, ``Infinity`` and ``-Infinity`` by default, tokens that are not JSON
(RFC 8259): ``jq``, JavaScript's ``JSON.parse`` and most strict parsers refuse the whole document. Every
command that prints JSON goes through :func:`dumps`, which

- maps a non-finite float (Python or numpy) to ``null``: a number that is not a number, or an unbounded
  limit (the ``gflows`` preset's ``iv_max`` is infinite: no cap), has no JSON number; ``null`` is how the
  outputs already say "none" (``gamma_flip`` without a crossing);
- writes dates and instants as ISO 8601 text, tuples and sets as arrays, numpy scalars and arrays as
  numbers and arrays, other objects (paths, decimals, enums) as their text;
- then serialises with ``allow_nan=False``, so a value that escaped the mapping is a bug that fails loudly
  rather than an invalid document.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import typer


def jsonable(value: Any) -> Any:
    """``value`` with every part made strict-JSON-ready (see the module docstring).

    >>> jsonable({"a": float("inf"), "b": [1.5, float("nan")], "c": dt.date(2024, 1, 5), 3: (1, 2)})
    {'a': None, 'b': [1.5, None], 'c': '2024-01-05', '3': [1, 2]}
    """
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return jsonable(item())
    tolist = getattr(value, "tolist", None)  # numpy arrays, polars series
    if callable(tolist):
        return jsonable(tolist())
    return str(value)


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``value`` (no ``NaN``/``Infinity`` tokens, ever)."""
    return json.dumps(jsonable(value), indent=indent, allow_nan=False)


def echo(value: Any, *, indent: int | None = 2) -> None:
    """Print :func:`dumps` of ``value`` on stdout."""
    typer.echo(dumps(value, indent=indent))
