"""The parts of a warning's trace that every rule kind shares (``core/explain``): a
condition key by key, elapsed time (working days listed), the sign-off cycle, the tier
and the responsible units with the entry that chose each. Pure.

Nothing here decides: the decisions are the engine's (``pack.conditions.matches``,
``core.signoff.standing``, ``core.engine``'s tiers); this module shows the values that
led to them, and ``tests/test_explain.py`` holds them to the decisions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from lifecycle_rules.core.dates import ONE_DAY, Unit, WorkCalendar, add_months
from lifecycle_rules.core.explain_model import (
    Answer,
    ConditionCheck,
    Counted,
    Elapsed,
    Severity,
    SignoffTrace,
    TierTrace,
    UnitSource,
)
from lifecycle_rules.core.explain_words import condition_parts, condition_words, project_has
from lifecycle_rules.core.signoff import Standing, standing
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level
from lifecycle_rules.pack.conditions import ANY_STAGE, matches

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.core.history import EventView, ProjectView
    from lifecycle_rules.pack.compile import Pack
    from lifecycle_rules.pack.parts import Assignment, Condition

LISTED = 62  # working days listed at most (the count goes on)
_ANSWERED = ("in_progress", "closure_overdue")


def condition_checks(cond: Condition | None, project: ProjectView, stage: str | None = ANY_STAGE) -> \
        tuple[ConditionCheck, ...]:
    """Each key of the condition against the project (``stages`` only with a stage)."""
    if cond is None:
        return ()
    out: list[ConditionCheck] = []
    for key, wants in condition_parts(cond):
        if key == "stages" and stage == ANY_STAGE:
            continue
        keep = dict.fromkeys(type(cond).model_fields)
        if key.startswith("attributes."):
            name = key.removeprefix("attributes.")
            keep["attributes"] = {name: (cond.attributes or {})[name]}
        else:
            keep[key] = getattr(cond, key)
        part = cond.model_copy(update=keep)  # this key alone
        out.append(ConditionCheck(key, wants, project_has(key, project, None if stage == ANY_STAGE else stage),
                                  matches(part, project, stage)))
    return tuple(out)


# -- elapsed time ------------------------------------------------------------------------------


def elapsed(unit: Unit, anchor: dt.date, on: dt.date, stopped: bool, cal: WorkCalendar,
            listed_to: dt.date | None) -> Elapsed:
    """Elapsed time from ``anchor`` to ``on`` (SPEC §5); working days listed in
    ``(anchor, min(on, listed_to)]``, with the holidays skipped and the make-up days counted."""
    if unit == "days":
        return Elapsed(unit, on, stopped, Fraction(max(0, (on - anchor).days)))
    if unit == "months":
        whole = 0
        while add_months(anchor, whole + 1) <= on:
            whole += 1
        start, end = add_months(anchor, whole), add_months(anchor, whole + 1)
        return Elapsed(unit, on, stopped, whole + Fraction(max(0, (on - start).days), (end - start).days))
    counted: list[dt.date] = []
    makeup: list[dt.date] = []
    holidays: list[dt.date] = []
    n = 0
    cur = anchor
    last = on if listed_to is None else min(on, listed_to)
    while cur < on:
        cur += ONE_DAY
        sched = cal.years.get(cur.year)
        if sched is None:
            return Elapsed(unit, on, stopped, None, tuple(counted), tuple(makeup), tuple(holidays), cur, n)
        if cal.is_workday(cur):
            n += 1
            if cur <= last and len(counted) < LISTED:
                counted.append(cur)
                if cur.weekday() >= 5:
                    makeup.append(cur)
        elif cur in sched.holidays and cur <= last:
            holidays.append(cur)
    return Elapsed(unit, on, stopped, Fraction(n), tuple(counted), tuple(makeup), tuple(holidays))


# -- sign-off ----------------------------------------------------------------------------------


def signoff_trace(pack: Pack, levels: tuple[tuple[Level, dt.date], ...], cleared: dt.date | None,
                  exit_date: dt.date | None, handling: Sequence[EventView], st: Standing, as_of: dt.date,
                  key: str, index_of: dict[int, int]) -> SignoffTrace:
    """Each answer's effect (``standing`` before and after it, on its day), the current cycle,
    its pushes and the day it is overdue."""
    so = pack.spec.signoff
    stop = min((d for d in (cleared, exit_date) if d is not None), default=None)
    stop_why: Literal["cleared", "exited"] | None = None
    if stop is not None and stop <= as_of:
        stop_why = "cleared" if stop == cleared else "exited"
    # The order standing applies them in: by date, as given within a day.
    order = sorted(handling, key=lambda e: e.date)
    answers: list[Answer] = []
    for k, e in enumerate(order):
        def on(upto: int, e: EventView = e) -> tuple[Standing | None, list[str]]:
            said: list[str] = []
            got = standing(levels, cleared=cleared if cleared is not None and cleared < e.date else None,
                           exit_date=exit_date if exit_date is not None and exit_date < e.date else None,
                           handling=order[:upto], signoff=so, as_of=e.date, notices=said, key=key)
            return got, said

        (before, said0), (after, said1) = on(k), on(k + 1)
        effect: Literal["closed", "cycle_started", "cycle_kept", "extended", "ignored"]
        note = None
        if after is None or len(said1) > len(said0):
            effect = "ignored"
            note = said1[-1] if len(said1) > len(said0) else "a project-wide extension before the warning existed"
        elif e.type == "extension":
            effect = "extended"
        elif after.status == "closed":
            effect = "closed"
        elif before is None or before.status not in _ANSWERED:
            effect = "cycle_started"
        else:
            effect = "cycle_kept"
        answers.append(Answer(index_of.get(id(e), -1), e.date, "extension" if e.type == "extension"
                              else "disposition", e.action, e.until, e.warning is None, effect, note,
                              after.status if after is not None else None))
    cycle_start = None
    if st.status in _ANSWERED:
        cycle_start = max((a.date for a in answers if a.effect == "cycle_started"), default=None)
    pushes: tuple[dt.date, ...] = ()
    overdue_from = None
    if cycle_start is not None and so.cycle_days:
        n = so.overdue_after_pushes or st.pushes
        pushes = tuple(cycle_start + dt.timedelta(days=so.cycle_days * k) for k in range(1, n + 1))
        if so.overdue_after_pushes:
            overdue_from = cycle_start + dt.timedelta(days=so.cycle_days * so.overdue_after_pushes + 1)
    reset = _reset_day(pack, levels, cleared, exit_date, order, st, key)
    extended_to = max((a.until for a in answers if a.effect == "extended" and a.until is not None
                       and (reset is None or a.date >= reset)), default=None)
    first = min((d for _, d in levels), default=None)
    spent = reset is not None and any(a.date < reset and a.effect != "ignored" for a in answers)
    renewed = reset if spent and first is not None and reset is not None and reset > first else None
    return SignoffTrace(tuple(answers), stop if stop_why else None, stop_why, so.cycle_days, so.overdue_after_pushes,
                        cycle_start, pushes, overdue_from, extended_to, renewed, st.status, st.pushes, st.closed_on)


def _reset_day(pack: Pack, levels: tuple[tuple[Level, dt.date], ...], cleared: dt.date | None,
               exit_date: dt.date | None, order: list[EventView], st: Standing, key: str) -> dt.date | None:
    """The day the current platform warning began, when an earlier one's extension does not
    carry over: its level reached anew (``higher_level: reopens``, or after a closure)."""
    if pack.spec.signoff.higher_level == "reopens":
        return st.since
    eve = st.since - ONE_DAY
    before = standing(levels, cleared=cleared if cleared is not None and cleared <= eve else None,
                      exit_date=exit_date if exit_date is not None and exit_date <= eve else None,
                      handling=[e for e in order if e.date <= eve], signoff=pack.spec.signoff, as_of=eve,
                      notices=[], key=key)
    return st.since if before is not None and before.status == "closed" else None


# -- tier and units ----------------------------------------------------------------------------


def tier_trace(pack: Pack, facts: Facts, key: str, stage: str | None, st: Standing,
               standings: dict[str, Standing], tier: int) -> TierTrace | None:
    """The count behind the tier (建德 三(五): the n-th red), the severities that lift it and
    the route whose units convene; ``tier`` is evaluate's."""
    ladder = pack.spec.ladder
    if ladder is None:
        return None
    floor = LEVEL_RANK[ladder.counts]
    counted = sorted((min(d for lv, d in s.first_reached.items() if LEVEL_RANK[lv] >= floor), k)
                     for k, s in standings.items() if any(LEVEL_RANK[lv] >= floor for lv in s.first_reached))
    keys = [k for _, k in counted]
    position = keys.index(key) + 1 if key in keys and LEVEL_RANK[st.level] >= floor else None
    by_count = position if position is not None else sum(1 for d, _ in counted if d <= st.since)
    lifts: list[Severity] = []
    if ladder.severity:
        for i, e in facts.of_type("problem_reported"):
            if e.severity in ladder.severity and (e.warning is None or e.warning == key):
                lifts.append(Severity(i, e.date, e.severity, ladder.severity[e.severity], e.warning is None))
    project = facts.history.project
    index = next(i for i, r in enumerate(ladder.routes) if matches(r.when, project, stage))
    route = ladder.routes[index]
    return TierTrace(ladder.counts, pack.spec.levels[ladder.counts].name, tuple(Counted(d, k) for d, k in counted),
                     position, by_count, ladder.max_tier, tuple(lifts), tier, index, condition_words(route.when),
                     tuple(route.tiers[tier]))


def unit_sources(pack: Pack, rule_index: int, project: ProjectView, stage: str | None, step: str | None,
                 level: Level, tier: int | None) -> tuple[UnitSource, ...]:
    """The responsible units in the engine's order (route, level, project unit, stage, step),
    each with the entry that named it; ``first`` marks the entry that put it in the list."""
    found: list[tuple[str, Literal["route", "level", "project_unit", "stage", "step"], str, str]] = []
    ladder = pack.spec.ladder
    if ladder is not None and tier is not None:
        for i, route in enumerate(ladder.routes):
            if matches(route.when, project, stage):
                found += [(u, "route", f"ladder.routes[{i}].tiers[{tier}]", condition_words(route.when))
                          for u in route.tiers[tier]]
                break
    rule = pack.rules[rule_index]
    if level in rule.level_overrides:
        found += [(u, "level", f"rules[{rule_index}].level_overrides.{level}.units",
                   rule.level_overrides[level].name) for u in rule.level_overrides[level].units]
    else:
        found += [(u, "level", f"levels.{level}.units", pack.spec.levels[level].name)
                  for u in pack.spec.levels[level].units]
    found += _assigned(pack.spec.project_unit, project, stage, "project_unit", "project_unit", "项目责任单位")
    if stage is not None:
        j = pack.stage_order[stage]
        found += _assigned(pack.spec.stages[j].responsible, project, stage, "stage",
                           f"stages[{j}].responsible", stage)
    if step is not None:
        j = next(k for k, s in enumerate(pack.spec.steps) if s.name == step)
        found += _assigned(pack.spec.steps[j].responsible, project, stage, "step", f"steps[{j}].responsible", step)
    seen: set[str] = set()
    out: list[UnitSource] = []
    for unit, source, path, name in found:
        out.append(UnitSource(unit, source, path, name, unit not in seen))
        seen.add(unit)
    return tuple(out)


def _assigned(items: Sequence[Assignment], project: ProjectView, stage: str | None,
              source: Literal["project_unit", "stage", "step"], path: str, name: str) -> \
        list[tuple[str, Literal["route", "level", "project_unit", "stage", "step"], str, str]]:
    for k, a in enumerate(items):
        if matches(a.when, project, stage):
            return [(u, source, f"{path}[{k}]", name) for u in a.units]
    return []
