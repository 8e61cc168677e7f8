"""``explain``: why each warning of one project fired, or did not, on a day (issue 15).

The trace is built from the pieces ``evaluate`` decides with, in the order it uses them
(``core/engine._evaluate``): the pack's scope and each rule's ``when``
(``pack.conditions``), ``Facts.build``, each rule's compiled clock (``pack.clocks[i]``),
``core.gaps.settle``, ``core.signoff.standing``, the engine's tiers and its warning (units,
message). So the verdict it holds for each warning *is* evaluate's. Around the decisions it
puts the values that led to them: the anchor taken and the events passed over, each level's
threshold with its arithmetic, elapsed time (working days listed), the answers and the
sign-off cycle, the tier's count and route, and the entry that named each unit — from each
kind's ``explain`` (``kinds/<kind>.py``) and ``core/explain_parts``. A rule without a
warning says why. Pure: no I/O, no clock, no globals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lifecycle_rules.core.dates import Undated, WorkCalendar
from lifecycle_rules.core.engine import (
    _by_severity,
    _extra_fields,
    _Raised,
    _tiers,
    _warning,
    answers,
    read_history,
    settled,
)
from lifecycle_rules.core.explain_model import (
    Elapsed,
    Explanation,
    LevelRule,
    LevelTrace,
    RuleTrace,
    WarningTrace,
)
from lifecycle_rules.core.explain_parts import condition_checks, elapsed, signoff_trace, tier_trace, unit_sources
from lifecycle_rules.core.explain_why import cleared_words, episode_why, rule_why
from lifecycle_rules.core.explain_words import ordinal_of
from lifecycle_rules.core.facts import Facts
from lifecycle_rules.core.gaps import Settled, tier_notice
from lifecycle_rules.core.history import EventView, History, HistoryView
from lifecycle_rules.core.results import ProjectWarning, as_of_day
from lifecycle_rules.core.signoff import Standing, standing
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level
from lifecycle_rules.errors import LifecycleRulesError
from lifecycle_rules.kinds import REGISTRY, Episode
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.conditions import matches

__all__ = ["Explanation", "explain"]


def explain(
    pack: Pack,
    history: History | Mapping[str, Any] | str | bytes,
    as_of: dt.date | str,
    rule: str | None = None,
    *,
    calendar: WorkCalendar | None = None,
) -> Explanation:
    """Why each rule of ``pack`` fired, or did not, on ``as_of`` for this project (only
    ``rule``, if given). Every warning ``evaluate(..., include_closed=True)`` gives is the
    ``verdict`` of one trace; a rule without one says why (``RuleTrace.why``)."""
    day = as_of_day(as_of)
    if calendar is not None:
        pack = pack.with_calendar(calendar)
    if rule is not None and rule not in pack.rule_order:
        raise LifecycleRulesError(f"unknown rule {rule!r}; the rules of pack {pack.id} are "
                                  f"{', '.join(pack.rule_order)}")
    hist = read_history(history)
    run = _replay(pack, hist, day)
    project = hist.project
    scope = condition_checks(pack.spec.scope, project)
    rules = tuple(_rule_trace(pack, run, i) for i, r in enumerate(pack.rules) if rule in (None, r.id))
    return Explanation(project.id, project.name, day, pack.label, pack.digest, pack.document, run.facts is not None,
                       scope, pack.spec.scope_clause, rules, tuple(run.notices), tuple(sorted(run.unknown_years)))


# -- the engine's steps, kept -------------------------------------------------------------------


@dataclass
class _Seen:
    """One episode a clock gave, and what the engine made of it."""

    rule_index: int
    key: str
    episode: Episode
    levels: tuple[tuple[Level, dt.date], ...]  # as the clock gave them (undated days kept)
    due: dt.date | None  # as the clock gave it
    skipped: Literal["stage", "undecided"] | None = None
    gap: Settled | None = None
    handling: list[EventView] = field(default_factory=list)
    standing: Standing | None = None


@dataclass
class _Run:
    hist: HistoryView
    day: dt.date
    facts: Facts | None  # None: outside the pack's scope
    notices: list[str] = field(default_factory=list)
    seen: list[_Seen] = field(default_factory=list)
    tiers: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, ProjectWarning] = field(default_factory=dict)
    unknown_years: set[int] = field(default_factory=set)


def _replay(pack: Pack, hist: HistoryView, day: dt.date) -> _Run:
    """``core/engine._evaluate``, step for step, keeping what each step saw."""
    project = hist.project
    if not matches(pack.spec.scope, project):
        clause = f" ({pack.spec.scope_clause})" if pack.spec.scope_clause else ""
        return _Run(hist, day, None, [f"project is outside the pack's scope{clause}; no rule applies"])
    facts = Facts.build(pack, hist, day)
    run = _Run(hist, day, facts)
    notices = run.notices
    _extra_fields(hist, notices)
    handling, project_wide = answers(facts)
    found: list[_Raised] = []
    undecided: list[tuple[str, Settled]] = []
    for index, rule in enumerate(pack.rules):
        if rule.when is not None and not matches(rule.when, project):
            continue
        for ep in pack.clocks[index](facts, notices):
            key = f"{project.id}/{rule.id}/{ep.subject}" + (f"@{ep.anchor.isoformat()}" if ep.keyed_by_anchor else "")
            seen = _Seen(index, key, ep, ep.levels, ep.due)
            run.seen.append(seen)
            if rule.when is not None and rule.when.stages is not None and ep.stage not in rule.when.stages:
                seen.skipped = "stage"
                continue
            if pack.counts_working_days:
                seen.gap = gap = settled(ep, facts.exit_date, day, rule.id, notices, run.unknown_years)
                if gap is not None and gap.undecided:
                    undecided.append((rule.id, gap))
                    handling.pop(key, None)
                    seen.skipped = "undecided"
                    continue
            seen.handling = handling.pop(key, []) + project_wide if facts.has_answers else []
            seen.standing = standing(ep.levels, cleared=ep.cleared, exit_date=facts.exit_date,
                                     handling=seen.handling, signoff=pack.spec.signoff, as_of=day,
                                     notices=notices, key=key)
            if seen.standing is not None:
                found.append(_Raised(index, key, ep, seen.standing))
    for key, evs in sorted(handling.items()):
        for e in evs:
            notices.append(f"{e.type} of {e.date.isoformat()} refers to warning {key!r}, which "
                           "this project does not have; ignored")
    run.tiers = _tiers(pack, found)
    if undecided and pack.spec.ladder is not None:
        said = tier_notice(undecided, pack.spec.ladder.counts, pack.spec.ladder.max_tier)
        if said:
            notices.append(said)
    if facts.has_problems:
        _by_severity(pack, facts, found, run.tiers, notices)
    label, digest = pack.label, pack.digest
    run.warnings = {f.key: _warning(pack, hist, f, run.tiers.get(f.key), day, label, digest) for f in found}
    return run


# -- the traces ---------------------------------------------------------------------------------


def _rule_trace(pack: Pack, run: _Run, index: int) -> RuleTrace:
    rule = pack.rules[index]
    project = run.hist.project
    when = condition_checks(rule.when, project)
    inactive = tuple(pack.inactive.get(rule.id, ()))
    facts = run.facts
    applies = facts is not None and matches(rule.when, project)
    details: tuple[Any, ...] = ()
    if facts is not None and applies and not inactive:
        details = tuple(REGISTRY[rule.kind].explain(pack, rule, facts))
    warnings = tuple(_warning_trace(pack, run, s, details) for s in run.seen if s.rule_index == index)
    outcome: Literal["warning", "closed", "none", "not_applicable", "inactive", "undecided"]
    if not applies:
        outcome = "not_applicable"
    elif inactive:
        outcome = "inactive"
    else:
        outcomes = {w.outcome for w in warnings}
        outcome = ("warning" if "warning" in outcomes else "closed" if "closed" in outcomes
                   else "undecided" if "undecided" in outcomes else "none")
    why = rule_why(pack, rule, run.day, outcome, when, inactive, warnings, details, facts)
    return RuleTrace(rule.id, rule.title, rule.kind, rule.clause, pack.cite(rule.clause), applies, when, inactive,
                     outcome, why, warnings, details)


def _item(pack: Pack, index: int, ep: Episode, details: tuple[Any, ...]) -> Any:
    """The kind's trace item of this episode (None for shortfall: its items are months)."""
    kind = pack.rules[index].kind
    for item in details:
        if (kind == "deadline" and item.subject == ep.subject) or \
                (kind == "stagnation" and item.start == ep.anchor) or \
                (kind == "cadence" and item.period == ep.info.get("period")):
            return item
    return None


def _level_rules(pack: Pack, index: int, ep: Episode, item: Any) -> list[LevelRule]:
    """Each level's threshold, from the kind's trace item of this episode."""
    rule = pack.rules[index]
    if rule.kind == "shortfall":
        return [LevelRule(lv, "count", count=n) for lv, n in rule.levels.items()]
    assert item is not None, f"no trace item for {ep.subject} of {rule.id}"
    return list(item.levels)


def _warning_trace(pack: Pack, run: _Run, s: _Seen, details: tuple[Any, ...]) -> WarningTrace:
    facts = run.facts
    assert facts is not None
    ep, st, day = s.episode, s.standing, run.day
    rule = pack.rules[s.rule_index]
    stop = min((d for d in (ep.cleared, facts.exit_date) if d is not None), default=None)
    days = dict(s.levels)
    levels: list[LevelTrace] = []
    item = _item(pack, s.rule_index, ep, details)
    for lr in sorted(_level_rules(pack, s.rule_index, ep, item), key=lambda r: LEVEL_RANK[r.level]):
        on = days.get(lr.level, lr.reached_on)
        known = on is not None and not isinstance(on, Undated)
        name = (rule.level_overrides.get(lr.level) or pack.spec.levels[lr.level]).name
        ordinal = lr.count if lr.threshold is None else ordinal_of(lr.threshold)
        levels.append(LevelTrace(lr.level, name, lr.how, lr.threshold, lr.fraction, lr.limit, lr.count, ordinal, on,
                                 known and on is not None and on <= day and (stop is None or on <= stop)))
    units = list(dict.fromkeys(lv.threshold.unit for lv in levels if lv.threshold is not None))
    ends = stop is not None and stop <= day
    on_day = stop if ends and stop is not None else day
    listed = max((lv.day for lv in levels if lv.day is not None and not isinstance(lv.day, Undated)), default=None)
    spent: tuple[Elapsed, ...] = tuple(elapsed(u, ep.anchor, max(on_day, ep.anchor), ends, pack.calendar, listed)
                                       for u in units)
    verdict = run.warnings.get(s.key)
    outcome: Literal["warning", "closed", "not_reached", "stage", "undecided"]
    if s.skipped is not None:
        outcome = s.skipped
    elif st is None:
        outcome = "not_reached"
    else:
        outcome = "closed" if st.status == "closed" else "warning"
    signoff = tier = None
    units_from: tuple[Any, ...] = ()
    if st is not None and verdict is not None:
        index_of = {id(e): i for i, e in facts.events}
        signoff = signoff_trace(pack, ep.levels, ep.cleared, facts.exit_date, s.handling, st, day, s.key, index_of)
        standings = {x.key: x.standing for x in run.seen if x.standing is not None}
        if verdict.tier is not None:
            tier = tier_trace(pack, facts, s.key, ep.stage, st, standings, verdict.tier)
        units_from = unit_sources(pack, s.rule_index, run.hist.project, ep.stage, ep.step, st.level, verdict.tier)
    calendar = s.gap.notice if s.gap is not None else None
    cleared_by = cleared_words(rule, ep, item)
    why = episode_why(rule, ep, outcome, tuple(levels), spent, st, facts, cleared_by)
    return WarningTrace(s.key, ep.subject, ep.stage, ep.anchor, s.due, tuple(levels), spent, ep.cleared,
                        cleared_by if ep.cleared is not None else None, outcome, why, signoff, tier, units_from,
                        calendar, verdict)
