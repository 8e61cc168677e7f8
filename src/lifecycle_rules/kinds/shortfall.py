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
from typing import TYPE_CHECKING

from lifecycle_rules.core.dates import add_months, month_of
from lifecycle_rules.core.history import EventView
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level
from lifecycle_rules.kinds import Episode
from lifecycle_rules.pack.spec import ShortfallRule

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.pack.spec import Rule


def _qualifies(rule: ShortfallRule, e: EventView) -> bool:
    if rule.counts == "noncompliant":
        return e.compliant is False
    return e.planned_wan is not None and e.actual_wan is not None and e.actual_wan < e.planned_wan


def _period_end(period: str) -> dt.date:
    y, m = month_of(period)
    return add_months(dt.date(y, m, 1), 1) - dt.timedelta(days=1)


def episodes(rule: Rule, facts: Facts) -> list[Episode]:
    assert isinstance(rule, ShortfallRule)
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
