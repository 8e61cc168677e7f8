"""The benchmark script runs end to end on a small size and reports what it measured
(speed itself is never asserted here: it is the script's to measure, not a test's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_script_measures_every_mode(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--sizes", "120", "--repeat", "2",
         "--durable-max", "0", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=300,
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    rows = {r["mode"]: r for r in report["results"]}
    assert set(rows) == {"parse", "evaluate-1", "evaluate-N"}
    assert all(r["size"] == 120 and len(r["runs"]) == 2 and r["peak_mb"] > 0 for r in rows.values())
    assert rows["parse"]["x_parse"] == 1.0
    assert all(min(r["runs"]) - 0.001 <= r["seconds"] <= max(r["runs"]) + 0.001 for r in rows.values())
    table = proc.stdout.splitlines()
    assert table[0].split()[:3] == ["size", "mode", "median"] and len(table) == 4
