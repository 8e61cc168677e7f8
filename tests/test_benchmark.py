"""The benchmark script runs end to end on a small size and reports what it measured
(speed itself is never asserted here: it is the script's to measure, not a test's)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKS = ["jiande", "wushan"]
TIMED = ["floor", "evaluate-1", "evaluate-N"]


def _within(s: dict[str, Any], runs: int) -> bool:
    return len(s["runs"]) == runs and s["min"] <= s["median"] <= s["max"] and \
        (s["min"], s["max"]) == (min(s["runs"]), max(s["runs"]))


def test_benchmark_script_measures_every_pack_and_mode(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--size", "40", "--repeat", "2", "--packs", ",".join(PACKS),
         "--json", str(out), "--markdown"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["machine"]["cpus"] and report["machine"]["platform"] and report["machine"]["python"]
    assert report["generator"] == {"name": "benchmarks.synth.pack_histories", "seed": 7}
    assert report["repeat"] == 2 and report["as_of"] == "2025-06-30" and report["date"]
    cases = {c["pack"]: c for c in report["cases"]}
    assert list(cases) == PACKS
    for pack, case in cases.items():
        assert case["size"] == 40 and case["rules"] > 0 and 20 <= case["events_per_history"] <= 30
        assert case["odd"] == [], case["odd"]
        modes = case["modes"]
        assert list(modes) == [*TIMED, "marginal"]
        for mode in TIMED:
            m = modes[mode]
            assert len(m["runs"]) == 2 and all(r["projects"] == 40 for r in m["runs"])
            assert m["warnings"] == case["warnings"], (pack, mode)  # the same rows as the reference run
            assert m["peak_mb"] > 0
            for key in ("wall", "cpu", "cpu_x_floor", "wall_x_floor"):
                assert _within(m[key], 2), (pack, mode, key)
        assert modes["floor"]["cpu_x_floor"]["runs"] == [1.0, 1.0]
        assert modes["floor"]["wall_x_floor"]["median"] == 1.0
        # per round: the mode's CPU over the floor's in the same round
        ratios = [r["cpu"] / f["cpu"] for r, f in zip(modes["evaluate-1"]["runs"], modes["floor"]["runs"],
                                                      strict=True)]
        assert modes["evaluate-1"]["cpu_x_floor"]["runs"] == ratios
        assert modes["evaluate-N"]["runs"][0]["jobs"] == report["machine"]["cpus"]
        marginal = modes["marginal"]
        assert len(marginal["runs"]) == 2 and marginal["projects"] == 40
        for key in ("us_per_warning", "us_per_project"):
            assert _within(marginal[key], 2) and all(math.isfinite(v) for v in marginal[key]["runs"])
        assert case["one_core"]["projects_per_s"] > 0 and case["all_cores"]["projects_per_s"] > 0
        assert case["warnings_per_project"] == case["warnings"] / 40
    targets = {row["pack"]: row for row in report["targets"]}
    assert list(targets) == PACKS
    for pack, row in targets.items():
        assert row["cpu_x_floor"] == cases[pack]["modes"]["evaluate-1"]["cpu_x_floor"]
        assert row["cpu_x_floor_target"] == (1.0 if pack == "jiande" else 2.0)
        assert row["us_per_warning_target"] == 5.0
        assert isinstance(row["cpu_x_floor_met"], bool) and isinstance(row["us_per_warning_met"], bool)

    text = proc.stdout.splitlines()
    assert text[0].split()[:3] == ["pack", "size", "mode"]
    rows = [line.split()[:3] for line in text[1:7]]
    assert rows == [[pack, "40", mode] for pack in PACKS for mode in TIMED]
    at = text.index("targets (judged on the median; min-max of the rounds in brackets)")
    assert [line.split()[0] for line in text[at + 2: at + 4]] == PACKS
    assert all(("not met" in line) or (" met" in line) for line in text[at + 2: at + 4])
    markdown = [line for line in text if line.startswith("| ")]
    assert markdown[0].startswith("| pack | rules | events/history") and len(markdown) == 1 + len(PACKS)
    assert any(line.startswith("Generator `benchmarks.synth.pack_histories` (seed 7)") for line in text)


def test_without_the_floor_no_reference_is_run_and_ratios_are_dashes(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--modes", "evaluate-N", "--packs", "jiande", "--size", "30",
         "--repeat", "1", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )
    (case,) = json.loads(out.read_text(encoding="utf-8"))["cases"]
    assert list(case["modes"]) == ["evaluate-N"] and case["events_per_history"] is None
    assert case["modes"]["evaluate-N"]["cpu_x_floor"] is None and case["one_core"] is None
    row = proc.stdout.splitlines()[1].split()
    assert row[:3] == ["jiande", "30", "evaluate-N"] and row[-4:-2] == ["-", "-"]
