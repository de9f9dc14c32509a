"""Option values shared by several commands.

Kept as literals (not read from :mod:`gex.conventions`) so that ``gex --help`` does not import numpy;
``tests/cli/test_help.py`` checks they match the core.
"""

from __future__ import annotations

#: Conventions presets, as ``gex.conventions.PRESETS`` names them.
PRESET_NAMES = ("native", "perfiliev", "perfiliev-early", "gflows")
