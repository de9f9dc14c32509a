"""Which implementation of the core's numerics runs: the compiled kernels or the plain references.

Every compiled (numba) kernel of the core has a plain numpy/scipy reference beside it, written from the
textbook formulas with no speed tricks: :mod:`gex.bs_reference` for the Black-Scholes greeks,
:mod:`gex.flip.reference` for the GEX profile (coefficients, values, crossings). The references are
what the tests check the compiled path against, and a way to cross-check a surprising number.

Selection, first match wins:

1. the ``kernel=`` argument of a public function (``"compiled"`` or ``"reference"``);
2. the environment variable ``GEX_KERNEL`` (same values), read at each call, e.g.
   ``GEX_KERNEL=reference gex analyze FILE`` runs a whole analysis on the references;
3. ``"compiled"``.

The references are 10-1000x slower and not certified: :func:`gex.flip.reference.crossings` finds sign
changes on a dense grid (it can miss two crossings closer than its grid step, which the compiled
certified scan never does). Tolerances between the two paths are documented in the tests
(``tests/core/test_reference_paths.py``).
"""

from __future__ import annotations

import os
from typing import Literal

Kernel = Literal["compiled", "reference"]
KERNEL_ENV = "GEX_KERNEL"
KERNELS: tuple[Kernel, ...] = ("compiled", "reference")


def resolve(kernel: str | None = None) -> Kernel:
    """The implementation to use: ``kernel`` if given, else ``$GEX_KERNEL``, else ``"compiled"``.

    Raises
    ------
    ValueError
        For any other value (naming where it came from).
    """
    source = "kernel argument"
    if kernel is None:
        kernel = os.environ.get(KERNEL_ENV) or "compiled"
        source = f"${KERNEL_ENV}"
    value = kernel.strip().lower()
    if value not in KERNELS:
        raise ValueError(f"{source} must be one of {', '.join(KERNELS)}, got {kernel!r}")
    return value  # type: ignore[return-value]
