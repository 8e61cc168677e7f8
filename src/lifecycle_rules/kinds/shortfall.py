"""投资未达序时 (shortfall) and 月调度不符合要求 (non-compliant reports).

Monthly reports are counted, once per period (a later report of the same period
corrects an earlier one). ``cumulative`` counts every qualifying month; ``consecutive``
counts months in a row. A level is reached on the filing date of the report that
brings the count to its number. One warning per project and rule; it rises with the
count and does not clear by itself (closure is by disposition).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..dates import add_months, month_of
from ..models import LEVEL_RANK, Event, Level
from ..packspec import ShortfallRule
from . import Episode

if TYPE_CHECKING:
    from ..facts import Facts
    from ..packspec import Rule


def _qualifies(rule: ShortfallRule, e: Event) -> bool:
    if rule.counts == "noncompliant":
        return e.compliant is False
    return e.planned_wan is not None and e.actual_wan is not None and e.actual_wan < e.planned_wan


def _period_end(period: str) -> dt.date:
    y, m = month_of(period)
    return add_months(dt.date(y, m, 1), 1) - dt.timedelta(days=1)


def episodes(rule: Rule, facts: Facts) -> list[Episode]:
    assert isinstance(rule, ShortfallRule)
    latest: dict[str, Event] = {}
    for _, e in facts.of_type(rule.report):
        if e.period is None:
            continue
        latest[e.period] = e  # events are sorted by date: the last one filed wins
    wanted = set(rule.stages) if rule.stages is not None else None
    hits: list[tuple[str, dt.date]] = []
    for period in sorted(latest):
        e = latest[period]
        if wanted is not None and facts.stage_at(_period_end(period)) not in wanted:
            continue
        if _qualifies(rule, e):
            hits.append((period, e.date))
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
