"""``python -m gex_cli`` runs the ``gex`` command."""

from gex_cli.main import run

run()
