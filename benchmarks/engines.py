"""Engines side by side: evaluate a JSON Lines file of histories with one engine.

``evaluate_durable_file(path, pack_id, as_of)`` is what ``bench.py`` times for the
durable-rules engine (the same loop as ``evaluate_engine_file(..., engine="native")``
for the native one: one ``evaluate`` per line, in one process, results discarded).
Run alone, it compares the two on seeded synthetic histories (benchmarks/synth.py)
and checks that they agree:

    python -m benchmarks.engines --n 2000 --pack jiande
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

AS_OF = "2025-06-30"


def evaluate_engine_file(path: str | Path, pack_id: str, as_of: str, engine: str = "native") -> int:
    """Evaluate every history of a JSON Lines file with ``engine``; the number of projects."""
    from lifecycle_rules import load_pack
    from lifecycle_rules.engines import get_engine

    run_one = get_engine(engine)
    pack = load_pack(pack_id)
    n = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                run_one(pack, line, as_of, False)
                n += 1
    return n


def evaluate_durable_file(path: str | Path, pack_id: str, as_of: str) -> int:
    """Evaluate every history of a JSON Lines file with the durable-rules engine; the
    number of projects evaluated."""
    return evaluate_engine_file(path, pack_id, as_of, "durable")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="synthetic histories (default 2000)")
    p.add_argument("--pack", default="jiande")
    p.add_argument("--as-of", default=AS_OF)
    p.add_argument("--milestone-words", action="store_true",
                   help="histories named by the six milestone words (valid in every pack)")
    args = p.parse_args(argv)

    from benchmarks.synth import write_jsonl
    from lifecycle_rules import load_pack
    from lifecycle_rules.engines import get_engine

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "h.jsonl"
        write_jsonl(data, args.n, milestone_words=args.milestone_words)
        rates: dict[str, float] = {}
        for engine in ("native", "durable"):
            evaluate_engine_file(data, args.pack, args.as_of, engine)  # warm up (compile the pack)
            start = time.perf_counter()
            n = evaluate_engine_file(data, args.pack, args.as_of, engine)
            secs = time.perf_counter() - start
            rates[engine] = n / secs
            print(f"{engine:<8} {n} projects in {secs:6.2f} s: {n / secs:8,.0f} projects/s")
        print(f"durable / native: {rates['durable'] / rates['native']:.3f}")
        pack = load_pack(args.pack)
        native, durable = get_engine("native"), get_engine("durable")
        with open(data, encoding="utf-8") as fh:
            differ = sum(native(pack, line, args.as_of, True) != durable(pack, line, args.as_of, True)
                         for line in fh)
        print(f"results that differ: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
