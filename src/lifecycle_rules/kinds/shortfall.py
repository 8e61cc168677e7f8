"""投资未达序时 (shortfall) and 月调度不符合要求 (non-compliant reports).

Monthly reports are counted once per period. A period counts from the first filing
that shows it short (or non-compliant): a later correction can make a month count,
but never un-count it, since the warning was sent (SPEC §1: a level only rises until
it is closed). ``cumulative`` counts every such month; ``consecutive`` counts months in
a row. A level is reached on the day the count reaches its number. One warning per
project and rule; it does not clear by itself (closure is by disposition).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from lifecycle_rules.core.dates import add_months, month_of, ordinal
from lifecycle_rules.core.history import EventView
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level
from lifecycle_rules.kinds.episode import Episode
from lifecycle_rules.pack import checks, words
from lifecycle_rules.pack.parts import RuleBase

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.pack.compile import Pack


class ShortfallRule(RuleBase):
    """投资未达序时 / 月调度不符合要求: monthly reports counted, level by count."""

    kind: Literal["shortfall"]
    stages: list[str] | None = None
    counts: Literal["shortfall", "noncompliant"] = "shortfall"
    counting: Literal["cumulative", "consecutive"] = "cumulative"
    report: str = "monthly_report"
    levels: dict[Level, int] = Field(min_length=1)

    @field_validator("levels")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        if any(v < 1 for v in value.values()):
            raise ValueError("counts must be 1 or more")
        return value


Model = ShortfallRule


def check(pack: Pack, rule: ShortfallRule, path: str) -> None:
    checks.stages(pack, f"{path}.stages", rule.stages)
    checks.event_type(pack, f"{path}.report", rule.report)
    ranked = sorted(rule.levels.items(), key=lambda kv: LEVEL_RANK[kv[0]])
    for (lo, a), (hi, b) in pairwise(ranked):
        if a >= b:
            raise checks.err(f"{path}.levels", f"{hi} must need more reports than {lo} ({b} vs {a})")




def _qualifies(rule: ShortfallRule, e: EventView) -> bool:
    if rule.counts == "noncompliant":
        return e.compliant is False
    return e.planned_wan is not None and e.actual_wan is not None and e.actual_wan < e.planned_wan


def _period_end(period: str) -> dt.date:
    y, m = month_of(period)
    return add_months(dt.date(y, m, 1), 1) - dt.timedelta(days=1)


def episodes(rule: ShortfallRule, facts: Facts, notices: list[str]) -> list[Episode]:
    wanted = set(rule.stages) if rule.stages is not None else None
    first_hit: dict[str, dt.date] = {}
    for _, e in facts.of_type(rule.report):  # sorted by date: the first hit wins
        if e.period is None or e.period in first_hit or not _qualifies(rule, e):
            continue
        if wanted is not None and facts.stage_at(_period_end(e.period)) not in wanted:
            continue
        first_hit[e.period] = e.date
    hits = sorted(first_hit.items())
    if not hits:
        return []
    levels: list[tuple[Level, dt.date]] = []
    for level, n in rule.levels.items():
        d = _reached(rule, hits, n)
        if d is not None:
            levels.append((level, d))
    if not levels:
        return []
    levels.sort(key=lambda p: (p[1], LEVEL_RANK[p[0]]))
    first = levels[0][1]
    return [Episode(
        subject=rule.subject or "月度投资",
        anchor=hits[0][1],
        levels=tuple(levels),
        stage=facts.stage_at(first),
        info={"count": len(hits), "periods": [p for p, _ in hits]},
    )]


def _reached(rule: ShortfallRule, hits: list[tuple[str, dt.date]], n: int) -> dt.date | None:
    if rule.counting == "cumulative":
        dates = sorted(d for _, d in hits)
        return dates[n - 1] if len(dates) >= n else None
    best: dt.date | None = None
    run: list[dt.date] = []
    prev: tuple[int, int] | None = None
    for period, d in hits:
        y, m = month_of(period)
        if prev is not None and (y * 12 + m) - (prev[0] * 12 + prev[1]) == 1:
            run.append(d)
        else:
            run = [d]
        prev = (y, m)
        if len(run) >= n:
            when = max(run[-n:])
            best = when if best is None or when < best else best
    return best


def compile(pack: Pack, rule: ShortfallRule) -> Callable[[Facts, list[str]], list[Episode]]:
    return partial(episodes, rule)


def measures(rule: ShortfallRule) -> str:
    what = ("months whose report has actual_wan < planned_wan" if rule.counts == "shortfall"
            else "months whose report is compliant: false")
    text = f"{rule.counting} count of {what} ({rule.report})"
    if rule.stages is not None:
        text += f", in stage {' or '.join(rule.stages)}"
    return text


def levels_in_words(pack: Pack, rule: ShortfallRule) -> str:
    what = "month short of the 序时 target" if rule.counts == "shortfall" else "non-compliant report"
    how = "months in a row" if rule.counting == "consecutive" else "counted in all"
    parts = [f"{level} at the {ordinal(rule.levels[level])} {what}" for level in words.levels_sorted(rule.levels)]
    return "; ".join(parts) + f" ({how}; reached on the filing date of the report that makes the count)"
