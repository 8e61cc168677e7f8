"""Seeded synthetic project histories for benchmarks and soak tests.

A realistic mix: sectors and development-zone projects in 建德-like proportions,
investment sizes across the 18/24/36-month bands, projects stopped at every stage,
late steps, monthly reports from construction start with some shortfalls and
non-compliant reports, progress notes, and some dispositions. About 25 events each.

    python -m benchmarks.synth 100000 -o /tmp/h.jsonl --seed 7
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SECTORS = [("industrial", 45), ("commercial_residential", 15), ("government", 20), ("energy", 5),
           ("infrastructure", 8), ("livelihood", 5), ("other", 2)]
# (step, typical days after the previous step) in 建德's order; the milestone words work in
# every pack, the other names are 建德's.
LADDER = [("签约", 0), ("拿地", 120), ("立项", 20), ("工程规划许可", 25), ("施工许可", 25),
          ("开工监管", 10), ("入统", 45), ("竣工验收", 500), ("投产", 90), ("达产", 300)]
MILESTONES_ONLY = [("签约", 0), ("落地", 120), ("开工", 80), ("竣工", 500), ("投产", 90), ("达产", 300)]


def _weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def history(rng: random.Random, index: int, as_of: dt.date, milestone_words: bool = False) -> dict[str, Any]:
    pid = f"SYN-{index:07d}"
    sector = _weighted(rng, SECTORS)
    investment = round(rng.lognormvariate(10.0, 1.0), 1)  # median ~2.2亿 (22000万)
    start = as_of - dt.timedelta(days=rng.randint(60, 1400))
    ladder = MILESTONES_ONLY if milestone_words else LADDER
    stop_at = rng.randint(1, len(ladder))
    events: list[dict[str, Any]] = []
    day = start
    started: dt.date | None = None
    for step, gap in ladder[:stop_at]:
        day = day + dt.timedelta(days=max(0, int(rng.gauss(gap, gap / 3 + 1))))
        if day > as_of:
            break
        events.append({"date": day.isoformat(), "type": "step_completed", "step": step})
        if step in ("开工监管", "开工"):
            started = day
    for _ in range(rng.randint(6, 14)):
        d = start + dt.timedelta(days=rng.randint(0, max(1, (as_of - start).days)))
        events.append({"date": d.isoformat(), "type": "progress", "note": "推进"})
    if started is not None:
        month = dt.date(started.year, started.month, 1)
        while True:
            nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
            filed = nxt + dt.timedelta(days=rng.randint(1, 9))
            if filed > as_of or len(events) > 40:
                break
            planned = round(investment / 24, 1)
            ev: dict[str, Any] = {"date": filed.isoformat(), "type": "monthly_report",
                                  "period": f"{month.year}-{month.month:02d}",
                                  "planned_wan": planned,
                                  "actual_wan": round(planned * rng.uniform(0.6, 1.3), 1)}
            if rng.random() < 0.03:
                ev["compliant"] = False
            events.append(ev)
            month = nxt
    rng.shuffle(events)
    return {"project": {"id": pid, "name": f"合成项目{index}", "sector": sector,
                        "in_development_zone": rng.random() < 0.2, "investment_wan": investment,
                        "region": rng.choice(["新安江街道", "下涯镇", "梅城镇", "寿昌镇", "乾潭镇"])},
            "plan": {"start": (start + dt.timedelta(days=200)).isoformat()},
            "events": events}


def histories(n: int, seed: int = 7, as_of: dt.date = dt.date(2025, 6, 30),
              milestone_words: bool = False) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(n):
        yield history(rng, i, as_of, milestone_words)


def write_jsonl(path: Path, n: int, seed: int = 7, milestone_words: bool = False) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for h in histories(n, seed, milestone_words=milestone_words):
            fh.write(json.dumps(h, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("n", type=int)
    p.add_argument("-o", "--output", type=Path)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--milestone-words", action="store_true",
                   help="only the six milestone words as steps (valid in every pack)")
    args = p.parse_args(argv)
    if args.output:
        write_jsonl(args.output, args.n, args.seed, args.milestone_words)
    else:
        for h in histories(args.n, args.seed, milestone_words=args.milestone_words):
            sys.stdout.write(json.dumps(h, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
