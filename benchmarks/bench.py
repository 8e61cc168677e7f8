"""The project's benchmark: projects per second and peak memory, measured in one run.

For each size (default 10k; the README's figures use 10k, 100k and 1M), it generates
seeded histories (benchmarks/synth.py, about 25 events each) and measures, each in a
fresh subprocess so peak memory is its own:

- ``parse``: read JSON Lines and validate every history with the decoder evaluation
  uses (the floor: no rules run);
- ``evaluate-1``: the CLI's batch path on one process (read, evaluate, write JSON Lines);
- ``evaluate-N``: the same on all cores (``--jobs`` = cpu count);
- any other engine the project has (none yet besides the native one).

Each is run ``--repeat`` times; the table shows the median, and ratios against
``parse`` measured in the same run (never absolute numbers from another run).

    python -m benchmarks.bench --sizes 10000,100000,1000000 --json out/bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

AS_OF = "2025-06-30"
MODES = ("parse", "evaluate-1", "evaluate-N", "engine:durable")


def _one(mode: str, path: str, pack: str, out: str) -> dict[str, Any]:
    """Runs inside the measuring subprocess."""
    import resource

    start = time.perf_counter()
    if mode == "parse":
        from lifecycle_rules.core.engine import read_history
        from lifecycle_rules.io.readers import jsonl_blocks

        n = 0
        for block in jsonl_blocks(path):  # the reading and the decoder evaluation uses
            for _, line in block.lines():
                read_history(line)
                n += 1
    elif mode.startswith("engine:"):
        from lifecycle_rules import load_pack
        from lifecycle_rules.engines import get_engine

        run_one, loaded, n = get_engine(mode.split(":", 1)[1]), load_pack(pack), 0
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                run_one(loaded, line, AS_OF, False)
                n += 1
    else:
        # Exactly what a user runs: the CLI, reading JSONL and writing JSONL.
        from lifecycle_rules.io.cli import main

        jobs = "1" if mode == "evaluate-1" else "0"
        code = main(["evaluate", "--pack", pack, "--as-of", AS_OF, path, "-o", out,
                     "--jobs", jobs, "--quiet", "--allow-rejects"])
        if code != 0:
            raise SystemExit(f"evaluate failed with exit code {code}")
        n = -1  # counted below, outside the timed run
    elapsed = time.perf_counter() - start
    if n < 0:
        with open(path, "rb") as fh:
            n = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
    peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {"mode": mode, "projects": n, "seconds": elapsed, "peak_mb": peak_kb / 1024}


def measure(mode: str, path: Path, pack: str, workdir: Path) -> dict[str, Any]:
    out = workdir / f"out-{mode}.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--one", mode, str(path), "--pack", pack,
         "--out", str(out)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000", help="comma-separated project counts")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--pack", default="jiande")
    p.add_argument("--json", type=Path, help="also write the results as JSON")
    p.add_argument("--durable-max", type=int, default=20000,
                   help="time the durable engine only up to this many projects (it is slow)")
    p.add_argument("--one", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one[0], args.one[1], args.pack, args.out)))
        return 0

    from benchmarks.synth import write_jsonl

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            data = work / f"h{size}.jsonl"
            write_jsonl(data, size)
            medians: dict[str, dict[str, Any]] = {}
            for mode in MODES:
                if mode == "engine:durable" and size > args.durable_max:
                    continue
                runs = [measure(mode, data, args.pack, work) for _ in range(args.repeat)]
                secs = statistics.median(r["seconds"] for r in runs)
                medians[mode] = {"size": size, "mode": mode, "seconds": secs,
                                 "projects_per_s": size / secs,
                                 "peak_mb": max(r["peak_mb"] for r in runs),
                                 "runs": [round(r["seconds"], 3) for r in runs]}
            floor = medians["parse"]["seconds"]
            for m in medians.values():
                m["x_parse"] = m["seconds"] / floor
                rows.append(m)
            data.unlink()
    # min-max: the spread of the runs (a shared virtual machine's speed varies).
    print(f"{'size':>9} {'mode':<15} {'median s':>9} {'min-max s':>13} {'projects/s':>11} {'x parse':>8} "
          f"{'peak MB':>8}")
    for r in rows:
        spread = f"{min(r['runs']):.2f}-{max(r['runs']):.2f}"
        print(f"{r['size']:>9} {r['mode']:<15} {r['seconds']:>9.2f} {spread:>13} {r['projects_per_s']:>11,.0f} "
              f"{r['x_parse']:>8.2f} {r['peak_mb']:>8.0f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"pack": args.pack, "as_of": AS_OF, "cpus": os.cpu_count(),
                                         "python": sys.version.split()[0], "results": rows},
                                        indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
