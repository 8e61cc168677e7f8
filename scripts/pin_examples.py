"""Write the bundled examples' expected output (examples/expected/), which
tests/test_examples.py holds byte for byte. Run it only when a change of output is
intended, and say why in the commit: `python scripts/pin_examples.py`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKS = ("jiande", "luohe", "tongjiang", "wushan", "jiangyin")
# (name, arguments): every pack's examples on the README's day and, with closed warnings,
# half a year later; the wide sheet on the README's day.
CASES = [
    *((f"{p}-2024-11-30", ["--pack", p, "--as-of", "2024-11-30", f"examples/{p}.jsonl"]) for p in PACKS),
    *((f"{p}-2025-06-30-closed", ["--pack", p, "--as-of", "2025-06-30", "--include-closed",
                                  f"examples/{p}.jsonl"]) for p in PACKS),
    ("wide-jiande-2024-11-30", ["--pack", "jiande", "--as-of", "2024-11-30", "examples/wide/projects.xlsx"]),
]


def output(argv: list[str]) -> bytes:
    """What `lifecycle-rules evaluate --quiet ARGV` writes on stdout, run from the root."""
    done = subprocess.run([sys.executable, "-m", "lifecycle_rules.io.cli", "evaluate", "--quiet", *argv],
                          cwd=ROOT, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"lifecycle-rules evaluate {' '.join(argv)}: exit {done.returncode}\n"
                         f"{done.stderr.decode('utf-8', 'replace')}")
    return done.stdout


def main_() -> None:
    target = ROOT / "examples/expected"
    target.mkdir(exist_ok=True)
    for name, argv in CASES:
        (target / f"{name}.jsonl").write_bytes(output(argv))


if __name__ == "__main__":
    main_()
