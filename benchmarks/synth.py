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


def write_jsonl(path: Path, n: int, seed: int = 7, milestone_words: bool = False,
                pack: str | None = None) -> None:
    """``n`` histories as JSON Lines: with ``pack``, in that pack's vocabulary
    (``pack_histories``), else the 建德-like mix of ``histories``."""
    made = pack_histories(pack, n, seed) if pack else histories(n, seed, milestone_words=milestone_words)
    with path.open("w", encoding="utf-8") as fh:
        for h in made:
            fh.write(json.dumps(h, ensure_ascii=False) + "\n")


# -- every pack's own vocabulary ---------------------------------------------------------
# Histories as heavy as the exports the offices keep: 20-30 events, the pack's own steps in
# order (some late, some stopped), monthly reports from construction start (shortfalls,
# non-compliant ones, a correction now and then), weekly reports where a rule asks for
# them (with missed weeks), reserve lists where the pack has them, progress notes, and
# answers (dispositions, extensions) to keys a rule of the pack could raise. Read from
# the pack's published vocabulary (steps, event types, rule ids, subjects), never from
# the engine's decisions.
PREFIXES = {"jiande": "JD", "luohe": "LH", "tongjiang": "TJ", "wushan": "WS", "jiangyin": "JY"}
ACTIONS = ("in_progress", "in_progress", "completed", "no_action_needed", "project_exited")


def _vocabulary(pack_id: str) -> dict[str, Any]:
    from lifecycle_rules import load_pack

    pack = load_pack(pack_id)
    subjects: list[tuple[str, str]] = []
    for rule in pack.rules:
        subject = getattr(rule, "subject", None)
        if not subject and rule.kind == "deadline":
            target = rule.target.step_completed or rule.target.step_started
            names = rule.for_each_step or ([target] if target and target != "*" else [])
            subjects += [(rule.id, pack.step_of[n]) for n in names]
        else:
            subjects.append((rule.id, subject or "月度投资"))
    ladder = pack.spec.ladder
    return {"pack": pack_id, "steps": list(pack.steps), "types": set(pack.event_types),
            "start": pack.step_of["开工"], "weekly": any(getattr(r, "report", None) == "weekly_report"
                                                         for r in pack.rules),
            "subjects": subjects, "severities": list(ladder.severity) if ladder and ladder.severity else []}


def _week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def pack_history(rng: random.Random, index: int, as_of: dt.date, vocab: dict[str, Any]) -> dict[str, Any]:
    pid = f"{PREFIXES.get(vocab['pack'], 'P')}-SYN-{index:07d}"
    investment = round(rng.lognormvariate(10.0, 1.0), 1)
    start = as_of - dt.timedelta(days=rng.randint(90, 1100))
    size = rng.randint(20, 30)
    events: list[dict[str, Any]] = []
    steps = vocab["steps"]
    day, started = start, None
    for step in steps[: rng.randint(1, len(steps))]:
        day += dt.timedelta(days=max(0, int(rng.gauss(60, 45))))
        if day > as_of:
            break
        events.append({"date": day.isoformat(), "type": "step_completed", "step": step})
        if step == vocab["start"]:
            started = day
    if started is not None:  # monthly reports, filed early the next month
        month = dt.date(started.year, started.month, 1)
        planned = round(investment / 24, 1)
        while len(events) < size - 4:
            nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
            filed = nxt + dt.timedelta(days=rng.randint(1, 12))
            if filed > as_of:
                break
            if rng.random() < 0.9:  # a month now and then is not reported
                ev: dict[str, Any] = {"date": filed.isoformat(), "type": "monthly_report",
                                      "period": f"{month.year}-{month.month:02d}", "planned_wan": planned,
                                      "actual_wan": round(planned * rng.uniform(0.55, 1.3), 1)}
                if rng.random() < 0.04:
                    ev["compliant"] = False
                events.append(ev)
                if rng.random() < 0.03:  # a correction filed later
                    events.append({**ev, "date": (filed + dt.timedelta(days=20)).isoformat(),
                                   "actual_wan": planned})
            month = nxt
        if vocab["weekly"]:  # the last weeks' reports, some missed
            monday = as_of - dt.timedelta(days=as_of.weekday())
            for back in range(rng.randint(3, 8), 0, -1):
                week = monday - dt.timedelta(weeks=back)
                if week >= started and rng.random() < 0.8:
                    events.append({"date": week.isoformat(), "type": "weekly_report", "period": _week(week)})
    elif "reserve_proposal" in vocab["types"] and rng.random() < 0.7:
        d = start + dt.timedelta(days=rng.randint(0, 100))
        if d <= as_of:
            events.append({"date": d.isoformat(), "type": "reserve_proposal",
                           "period": f"{d.year}-Q{(d.month - 1) // 3 + 1}"})
        if rng.random() < 0.5 and as_of.month >= 10:
            events.append({"date": f"{as_of.year}-10-2{rng.randint(0, 9)}", "type": "annual_reserve_list",
                           "period": str(as_of.year + 1)})
    for _ in range(rng.randint(0, 2) if rng.random() < 0.4 else 0):  # answers to warnings
        rule, subject = rng.choice(vocab["subjects"])
        d = start + dt.timedelta(days=rng.randint(60, max(61, (as_of - start).days)))
        if d <= as_of:
            events.append({"date": d.isoformat(), "type": "disposition", "warning": f"{pid}/{rule}/{subject}",
                           "action": rng.choice(ACTIONS)})
            if rng.random() < 0.15:
                events.append({"date": d.isoformat(), "type": "extension", "warning": f"{pid}/{rule}/{subject}",
                               "until": (d + dt.timedelta(days=rng.randint(30, 120))).isoformat()})
    if vocab["severities"] and rng.random() < 0.03:
        events.append({"date": (as_of - dt.timedelta(days=rng.randint(0, 60))).isoformat(),
                       "type": "problem_reported", "severity": rng.choice(vocab["severities"])})
    if rng.random() < 0.03:
        events.append({"date": (as_of - dt.timedelta(days=rng.randint(0, 200))).isoformat(),
                       "type": "project_exited", "note": "项目终止"})
    while len(events) < size:
        d = start + dt.timedelta(days=rng.randint(0, (as_of - start).days))
        events.append({"date": d.isoformat(), "type": "progress", "note": rng.choice(NOTES)})
    rng.shuffle(events)
    return {"project": {"id": pid, "name": f"合成项目{index}", "sector": _weighted(rng, SECTORS),
                        "in_development_zone": rng.random() < 0.2, "investment_wan": investment,
                        "region": rng.choice(REGIONS)},
            "plan": {"start": (start + dt.timedelta(days=200)).isoformat(),
                     "completion": (start + dt.timedelta(days=700)).isoformat(),
                     "production": (start + dt.timedelta(days=800)).isoformat()},
            "events": events}


NOTES = ("完成项目可研编制", "召开项目推进会", "完成设备招标", "主体结构封顶", "土地平整完成", "推进")
REGIONS = ("新安江街道", "下涯镇", "梅城镇", "源陵区", "召陵区", "经济技术开发区", "")


def pack_histories(pack_id: str, n: int, seed: int = 7,
                   as_of: dt.date = dt.date(2025, 6, 30)) -> Iterator[dict[str, Any]]:
    """``n`` seeded histories in the vocabulary of the built-in pack ``pack_id``."""
    vocab = _vocabulary(pack_id)
    rng = random.Random(f"{pack_id}/{seed}")
    for i in range(n):
        yield pack_history(rng, i, as_of, vocab)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("n", type=int)
    p.add_argument("-o", "--output", type=Path)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--pack", help="a built-in pack: histories in its own vocabulary")
    p.add_argument("--milestone-words", action="store_true",
                   help="only the six milestone words as steps (valid in every pack)")
    args = p.parse_args(argv)
    if args.output:
        write_jsonl(args.output, args.n, args.seed, args.milestone_words, args.pack)
    else:
        made = pack_histories(args.pack, args.n, args.seed) if args.pack else \
            histories(args.n, args.seed, milestone_words=args.milestone_words)
        for h in made:
            sys.stdout.write(json.dumps(h, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
