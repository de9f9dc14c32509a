"""Regenerate tests/warehouse/schema_history.json: the project's own SQL (migrations and views) as of every
commit that changed it, so the upgrade test can build a warehouse exactly as each earlier version did.

    uv run python scripts/schema_history.py

Versions before the migrations/models split (per-layer ``sql/<layer>/NNNN_*.sql`` files) are listed with their
files in version order; each distinct file text is stored once. Run it after adding a migration or changing a
model, and commit the result (the upgrade test then covers the new version too).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "warehouse" / "schema_history.json"


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def main() -> None:
    commits = git("log", "--reverse", "--format=%h %cs", "--", "sql").split("\n")
    versions, blobs = [], {}
    for line in filter(None, commits):
        commit, date = line.split()
        files = {}
        for path in git("ls-tree", "-r", "--name-only", commit, "sql").split("\n"):
            if not path.endswith(".sql") or path.startswith("sql/queries/"):
                continue
            sha = git("rev-parse", f"{commit}:{path}").strip()
            blobs.setdefault(sha, git("show", f"{commit}:{path}"))
            files[path.removeprefix("sql/")] = sha
        versions.append({"commit": commit, "date": date, "layout": "models" if any(f.startswith("migrations/") for f in files) else "legacy",
                         "files": dict(sorted(files.items()))})
    OUT.write_text(json.dumps({"versions": versions, "blobs": blobs}, indent=1, sort_keys=True) + "\n")
    print(f"{len(versions)} schema versions, {len(blobs)} distinct files -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
