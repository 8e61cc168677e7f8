"""期限 (deadline): from an anchor (a step done, a stage entered, a plan date) to a limit.

The red limit may depend on the investment band (建德 五.2: 开工 -> 竣工 18/24/36 months);
an earlier level may sit a fraction of the limit before it (建德 三(三): orange 1/6 before
red) or at its own duration. The clock stops when the target step is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from lifecycle_rules.core.vocabulary import LEVEL_RANK
from lifecycle_rules.kinds import Episode
from lifecycle_rules.pack.compile import Band, Pack, deadline_plan
from lifecycle_rules.pack.spec import Anchor, DeadlineRule, Target

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.pack.spec import Rule


_Ref = TypeVar("_Ref", Anchor, Target)


class MissingInvestment(Exception):
    """The rule's limit depends on investment_wan and the project gives none."""


@dataclass(frozen=True, slots=True)
class _Clock:
    """One clock of a deadline rule (one per step with ``for_each_step``), compiled once
    per pack: its refs with ``"*"`` replaced, its bands, the step it waits for."""

    anchor: Anchor
    target: Target
    plan: list[Band]
    step: str  # canonical name of the target step
    subject: str


def _clocks(rule: DeadlineRule, pack: Pack) -> list[_Clock]:
    key = ("clocks", rule.id)
    clocks: list[_Clock] | None = pack.memo.get(key)
    if clocks is None:
        plan = deadline_plan(pack, rule)
        each: list[str | None] = list(rule.for_each_step) if rule.for_each_step is not None else [None]
        clocks = []
        for step in each:
            anchor, target = rule.anchor, rule.target
            if step is not None:
                anchor, target = _for(anchor, step), _for(target, step)
            waits_for = target.step_completed or target.step_started
            assert waits_for is not None
            canonical = pack.step_of[waits_for]
            subject = pack.step_of[step] if step is not None else (rule.subject or canonical)
            clocks.append(_Clock(anchor, target, plan, canonical, subject))
        pack.memo[key] = clocks
    return clocks


def episodes(rule: Rule, facts: Facts) -> list[Episode]:
    assert isinstance(rule, DeadlineRule)
    out: list[Episode] = []
    for clock in _clocks(rule, facts.pack):
        ep = _episode(rule, facts, clock)
        if ep is not None:
            out.append(ep)
    return out


def _for(ref: _Ref, step: str) -> _Ref:
    """``ref`` with ``"*"`` replaced by ``step``."""
    fields = {k: step for k in ("step_completed", "step_started") if getattr(ref, k) == "*"}
    return ref.model_copy(update=fields) if fields else ref


def _episode(rule: DeadlineRule, facts: Facts, clock: _Clock) -> Episode | None:
    anchor = facts.anchor_date(clock.anchor)
    if anchor is None or anchor > facts.as_of:
        return None
    cleared = facts.target_date(clock.target)
    if cleared is not None and cleared <= anchor:
        return None
    plan = clock.plan
    if len(plan) == 1:
        band = plan[0]
    else:
        inv = facts.history.project.investment_wan
        if inv is None:
            raise MissingInvestment(rule.id)
        band = next(b for b in plan if b.below is None or inv < b.below)
    levels = tuple([(lv, at(anchor)) for lv, at in band.levels])
    if not band.ordered:
        levels = tuple(sorted(levels, key=lambda p: (p[1], LEVEL_RANK[p[0]])))
    return Episode(clock.subject, anchor, levels, band.due(anchor), cleared, facts.stage_at(anchor),
                   clock.step, False, {"limit": band.limit})
