"""What the CLI gives on a JSON Lines file, for tests that hold another way in (Spark,
Dask) to it: one process, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

Rows = list[dict[str, Any]]

# The same histories for every way in (the Arrow seam, Spark, PostgreSQL): issue 17 holds
# each to the CLI on ``benchmarks.synth.pack_histories(pack, SAME_SIZE, SAME_SEED)``.
SAME_SIZE, SAME_SEED = 2000, 7


def cli_outputs(source: Path, pack: str, as_of: str) -> tuple[Rows, Rows, Rows]:
    """The warnings, rejects and notices of ``lifecycle-rules evaluate --jobs 1`` on ``source``."""
    out = source.with_suffix(".out.jsonl")
    done = subprocess.run([sys.executable, "-m", "lifecycle_rules", "evaluate", "--pack", pack, "--as-of", as_of,
                           "--jobs", "1", str(source), "-o", str(out)], capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1) and out.exists(), done.stderr  # 1: the run had rejects

    def read(path: Path) -> Rows:
        return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []

    return read(out), read(Path(f"{out}.rejects.jsonl")), read(Path(f"{out}.notices.jsonl"))


def normal(rows: list[dict[str, Any]], keys: list[str]) -> list[str]:
    """Rows as sorted JSON of ``keys``, dates as ISO text (Spark and Arrow give date objects)."""
    def one(row: dict[str, Any]) -> str:
        return json.dumps({k: row[k].isoformat() if hasattr(row[k], "isoformat") else row[k] for k in keys},
                          ensure_ascii=False, sort_keys=True)

    return sorted(one(r) for r in rows)
