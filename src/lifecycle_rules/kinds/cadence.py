"""报送 (reporting cadence): a report due each period while the project is in given stages.

Periods: ``month`` (the report on month M is due by day ``due_day`` of M+1, clamped to
the month's end), ``week`` (the ISO week whose weekday ``due_day`` it is due on; SPEC §3:
``2024-W23`` is due Monday 2024-06-03 when due_day is 1), ``quarter`` (due by day
``due_day`` of the quarter's first month; label ``2024-Q2``), ``year`` (due by
``due_month``/``due_day``; label the year, plus ``year_offset`` for a list about next
year). A period is owed when the project is in a
watched stage on its reference day (the month's last day; the due day for weeks and
quarters). Filing late clears the warning on the filing day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from lifecycle_rules.core.dates import add_months, week_label
from lifecycle_rules.core.vocabulary import LEVEL_RANK
from lifecycle_rules.kinds import Episode
from lifecycle_rules.pack.compile import level_crossings
from lifecycle_rules.pack.spec import CadenceRule

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.pack.spec import Rule


def _clamped(year: int, month: int, day: int) -> dt.date:
    first = dt.date(year, month, 1)
    last = add_months(first, 1) - dt.timedelta(days=1)
    return first.replace(day=min(day, last.day))


def periods(rule: CadenceRule, start: dt.date, until: dt.date) -> Iterator[tuple[str, dt.date, dt.date]]:
    """(label, reference day, due day) of each period from the one containing ``start``
    whose due day is on or before ``until``."""
    if rule.every == "month":
        cur = dt.date(start.year, start.month, 1)
        while True:
            nxt = add_months(cur, 1)
            due = _clamped(nxt.year, nxt.month, rule.due_day)
            if due > until:
                return
            yield f"{cur.year}-{cur.month:02d}", nxt - dt.timedelta(days=1), due
            cur = nxt
    elif rule.every == "week":
        monday = start - dt.timedelta(days=start.weekday())
        while True:
            due = monday + dt.timedelta(days=rule.due_day - 1)
            if due > until:
                return
            yield week_label(monday), due, due
            monday += dt.timedelta(days=7)
    elif rule.every == "year":
        assert rule.due_month is not None
        year = start.year
        while True:
            due = _clamped(year, rule.due_month, rule.due_day)
            if due > until:
                return
            yield str(year + rule.year_offset), due, due
            year += 1
    else:
        q0 = (start.month - 1) // 3 * 3 + 1
        cur = dt.date(start.year, q0, 1)
        while True:
            due = _clamped(cur.year, cur.month, rule.due_day)
            if due > until:
                return
            yield f"{cur.year}-Q{(cur.month - 1) // 3 + 1}", due, due
            cur = add_months(cur, 3)


def episodes(rule: Rule, facts: Facts) -> list[Episode]:
    assert isinstance(rule, CadenceRule)
    pack = facts.pack
    if rule.stages is not None:
        wanted = set(rule.stages)
        spans = [s for s in facts.spans if s.stage in wanted]
    else:
        spans = facts.spans
    if not spans:
        return []
    filed: dict[str, dt.date] = {}
    for _, e in facts.of_type(rule.report):
        if e.period is not None and e.period not in filed:
            filed[e.period] = e.date  # events are sorted: the first filing counts
    clocks = level_crossings(pack, rule)
    out: list[Episode] = []
    seen: set[str] = set()
    for span in spans:
        for label, ref, due in periods(rule, span.start, facts.as_of):
            if label in seen or ref < span.start or (span.end is not None and ref >= span.end):
                continue
            seen.add(label)
            got = filed.get(label)
            if got is not None and got <= due:
                continue
            levels = sorted(
                ((lv, at(due)) for lv, at in clocks.items()),
                key=lambda p: (p[1], LEVEL_RANK[p[0]]),
            )
            if levels[0][1] > facts.as_of or (got is not None and got < levels[0][1]):
                continue
            out.append(Episode(
                subject=f"{rule.subject} {label}" if rule.subject else label,
                anchor=due,
                levels=tuple(levels),
                due=due,
                cleared=got,
                stage=span.stage,
                info={"period": label},
            ))
    return out

