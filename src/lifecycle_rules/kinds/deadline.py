"""期限 (deadline): from an anchor (a step done, a stage entered, a plan date) to a limit.

The red limit may depend on the investment band (建德 五.2: 开工 -> 竣工 18/24/36 months);
an earlier level may sit a fraction of the limit before it (建德 三(三): orange 1/6 before
red) or at its own duration. The clock stops when the target step is done. With
``for_each_step`` the rule runs once per listed step (江阴: each approval item).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from pydantic import Field, model_validator

from lifecycle_rules.core.dates import Threshold, crossing, last_day_within
from lifecycle_rules.core.explain_model import EventSeen, LevelRule
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level
from lifecycle_rules.kinds.episode import Episode
from lifecycle_rules.pack import checks, words
from lifecycle_rules.pack.parts import Anchor, Duration, EarlyLevel, Limit, RuleBase, Target

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.pack.compile import Pack


class DeadlineRule(RuleBase):
    """期限: from an anchor to a limit; levels at thresholds, cleared when the target is done.

    With ``for_each_step``, the rule runs once per listed step (its subject), and ``"*"``
    in ``anchor`` or ``target`` stands for that step (江阴: each approval item)."""

    kind: Literal["deadline"]
    anchor: Anchor
    target: Target
    limit: Limit
    levels: dict[Level, Literal["limit"] | EarlyLevel]
    for_each_step: list[str] | None = Field(
        default=None, min_length=1, description="run once per step; '*' in anchor/target is the step"
    )

    @model_validator(mode="after")
    def _red_is_limit(self) -> DeadlineRule:
        limits = [lv for lv, spec in self.levels.items() if spec == "limit"]
        if len(limits) != 1:
            raise ValueError("exactly one level must be 'limit' (the level reached at the limit)")
        return self


Model = DeadlineRule

# -- the limit and each level's threshold ------------------------------------------------------


def limits(pack: Pack, rule: DeadlineRule) -> list[tuple[float | None, Threshold]]:
    """(exclusive investment bound, red limit) pairs; one pair with bound None if no bands."""
    lim = rule.limit
    if lim.by_investment is None:
        return [(None, pack.duration(Duration(days=lim.days, working_days=lim.working_days,
                                              months=lim.months)))]
    return [(band.below, pack.duration(band)) for band in lim.by_investment]


def thresholds(pack: Pack, rule: DeadlineRule, limit: Threshold) -> dict[Level, Threshold]:
    out: dict[Level, Threshold] = {}
    for level, spec in rule.levels.items():
        if spec == "limit":
            out[level] = limit
        elif spec.before_limit is not None:
            f = pack.number(spec.before_limit)
            out[level] = Threshold(limit.unit, limit.value * (1 - f))
        else:
            out[level] = pack.duration(spec)
    return out


def check(pack: Pack, rule: DeadlineRule, path: str) -> None:
    each = rule.for_each_step
    for k, name in enumerate(each or ()):
        checks.step(pack, f"{path}.for_each_step[{k}]", name)
    stars = [f"{part}.{k}" for part, ref in (("anchor", rule.anchor), ("target", rule.target))
             for k in ("step_completed", "step_started") if getattr(ref, k) == "*"]
    if each is None and stars:
        raise checks.err(f"{path}.{stars[0]}", "'*' stands for each step of for_each_step, which "
                         "this rule does not have")
    if each is not None and not stars:
        raise checks.err(f"{path}.for_each_step", "use '*' in anchor or target for the step")
    star = "*" if each is not None else None
    checks.anchor(pack, f"{path}.anchor", rule.anchor, star)
    for field_name in ("step_completed", "step_started"):
        name = getattr(rule.target, field_name)
        if name != star:
            checks.step(pack, f"{path}.target.{field_name}", name)
    for level, spec in rule.levels.items():
        if isinstance(spec, EarlyLevel) and spec.before_limit is not None:
            f = pack.number(spec.before_limit)
            if not 0 < f < 1:
                raise checks.err(f"{path}.levels.{level}.before_limit",
                                 f"must be a fraction between 0 and 1, got {f}")
    for _, limit in limits(pack, rule):
        if limit.value < 0:
            raise checks.err(f"{path}.limit", "a limit cannot be negative")
        ths = thresholds(pack, rule, limit)
        checks.ordered(path, ths)
        limit_level = next(lv for lv, s in rule.levels.items() if s == "limit")
        for level, th in ths.items():
            if LEVEL_RANK[level] > LEVEL_RANK[limit_level]:
                raise checks.err(f"{path}.levels.{level}",
                                 f"{level} cannot come after the limit level {limit_level}")
            if th.value < 0:
                raise checks.err(f"{path}.levels.{level}", "threshold before the anchor")


# -- compiled once per pack --------------------------------------------------------------------


@dataclass(frozen=True)
class BandClock:
    """The limit of one investment band, compiled: anchor -> due day and level days."""

    below: float | None
    limit: str  # in words, for messages: 90天
    due: Callable[[dt.date], dt.date]  # anchor -> last day within the limit
    levels: tuple[tuple[Level, Callable[[dt.date], dt.date]], ...]
    ordered: bool  # levels already in date order


def limit_text(limit: Threshold) -> str:
    unit = {"days": "天", "working_days": "个工作日", "months": "个月"}[limit.unit]
    v = limit.value
    return f"{v.numerator if v.denominator == 1 else float(v):g}{unit}"


def bands(pack: Pack, rule: DeadlineRule) -> tuple[BandClock, ...]:
    out: list[BandClock] = []
    for below, lim in limits(pack, rule):
        ths = thresholds(pack, rule, lim)
        ranked = sorted(ths.items(), key=lambda kv: (kv[1].value, LEVEL_RANK[kv[0]]))
        out.append(BandClock(
            below=below,
            limit=limit_text(lim),
            due=last_day_within(lim.unit, lim.value, pack.calendar),
            levels=tuple((lv, crossing(t.unit, t.value, pack.calendar)) for lv, t in ranked),
            ordered=len({t.unit for t in ths.values()}) == 1,
        ))
    return tuple(out)


_Ref = TypeVar("_Ref", Anchor, Target)


def _for(ref: _Ref, step: str) -> _Ref:
    """``ref`` with ``"*"`` replaced by ``step``."""
    fields = {k: step for k in ("step_completed", "step_started") if getattr(ref, k) == "*"}
    return ref.model_copy(update=fields) if fields else ref


@dataclass(frozen=True, slots=True)
class StepClock:
    """One clock of the rule (one per step with ``for_each_step``): its refs with ``"*"``
    replaced, its bands, the step it waits for, its subject."""

    anchor: Anchor
    target: Target
    bands: tuple[BandClock, ...]
    step: str  # canonical name of the target step
    subject: str


@dataclass(frozen=True, slots=True)
class DeadlineClock:
    rule: DeadlineRule
    clocks: tuple[StepClock, ...]

    def __call__(self, facts: Facts, notices: list[str]) -> list[Episode]:
        out: list[Episode] = []
        for clock in self.clocks:
            anchor = facts.anchor_date(clock.anchor)
            if anchor is None or anchor > facts.as_of:
                continue
            cleared = facts.target_date(clock.target)
            if cleared is not None and cleared <= anchor:
                continue
            plan = clock.bands
            if len(plan) == 1:
                band = plan[0]
            else:
                inv = facts.history.project.investment_wan
                if inv is None:
                    notices.append(f"rule {self.rule.id}: the limit depends on investment_wan, which the "
                                   "project does not give; rule not evaluated")
                    return []
                band = next(b for b in plan if b.below is None or inv < b.below)
            levels = tuple([(lv, at(anchor)) for lv, at in band.levels])
            if not band.ordered:
                levels = tuple(sorted(levels, key=lambda p: (p[1], LEVEL_RANK[p[0]])))
            out.append(Episode(clock.subject, anchor, levels, band.due(anchor), cleared,
                               facts.stage_at(anchor), clock.step, False, {"limit": band.limit}))
        return out


def compile(pack: Pack, rule: DeadlineRule) -> DeadlineClock:
    plan = bands(pack, rule)
    each: list[str | None] = list(rule.for_each_step) if rule.for_each_step is not None else [None]
    clocks: list[StepClock] = []
    for step in each:
        anchor, target = rule.anchor, rule.target
        if step is not None:
            anchor, target = _for(anchor, step), _for(target, step)
        waits_for = target.step_completed or target.step_started
        assert waits_for is not None
        canonical = pack.step_of[waits_for]
        subject = pack.step_of[step] if step is not None else (rule.subject or canonical)
        clocks.append(StepClock(anchor, target, plan, canonical, subject))
    return DeadlineClock(rule, tuple(clocks))


# -- in words ----------------------------------------------------------------------------------


def measures(rule: DeadlineRule) -> str:
    target = (f"{rule.target.step_completed} completed" if rule.target.step_completed
              else f"{rule.target.step_started} started")
    text = f"from {words.anchor_words(rule.anchor)} until {target}"
    if rule.for_each_step is not None:
        text = f"for each of {', '.join(rule.for_each_step)} (* below): " + text
    return text


def _limit_raw(rule: DeadlineRule) -> tuple[str, int | float | str]:
    lim = rule.limit
    for unit in ("days", "working_days", "months"):
        value = getattr(lim, unit)
        if value is not None:
            return unit, value
    raise ValueError("no limit")  # the schema requires one


def levels_in_words(pack: Pack, rule: DeadlineRule) -> str:
    lims = limits(pack, rule)
    banded = rule.limit.by_investment is not None
    per_band = [thresholds(pack, rule, th) for _, th in lims]
    parts: list[str] = []
    for level in words.levels_sorted(rule.levels):
        spec = rule.levels[level]
        if spec == "limit":
            if banded:
                assert rule.limit.by_investment is not None
                found: list[str] = []
                lower: float | None = None
                for band, (below, _) in zip(rule.limit.by_investment, lims, strict=True):
                    unit, raw = words.duration_raw(band)
                    if below is None:
                        rng = f"≥ {words.wan(lower)}" if lower is not None else "any investment"
                    elif lower is None:
                        rng = f"< {words.wan(below)}"
                    else:
                        rng = f"{words.wan(lower)} to < {words.wan(below)}"
                    found.append(f"{rng}: {words.amount(pack, raw, unit)}")
                    lower = below
                parts.append(f"{level} at the limit, by investment: " + "; ".join(found)
                             + " — from the day after the band's limit")
            else:
                unit, raw = _limit_raw(rule)
                th = lims[0][1]
                parts.append(f"{level} at the limit, {words.amount(pack, raw, unit)} "
                             f"— from {words.reached(th)}")
        elif spec.before_limit is not None:
            frac = words.amount(pack, spec.before_limit)
            ths = [t[level] for t in per_band]
            if banded:
                where = " / ".join(words.span(t) for t in ths) + " by band"
                parts.append(f"{level} {frac} before the limit ({where})")
            else:
                parts.append(f"{level} {frac} before the limit ({words.span(ths[0])}: from "
                             f"{words.reached(ths[0])})")
        else:
            unit, raw = words.duration_raw(spec)
            th = per_band[0][level]
            parts.append(f"{level} at {words.amount(pack, raw, unit)} from the anchor "
                         f"— from {words.reached(th)}")
    return "; ".join(parts)


# -- explained (``core/explain``): what the clock saw, without deciding anything new -----------


@dataclass(frozen=True)
class ClockTrace:
    """One clock of the rule (one per step with ``for_each_step``): the anchor it took and
    the events it passed over, the target, the band, the limit and each level's threshold."""

    subject: str
    step: str  # the target step (canonical)
    anchor: Anchor  # with "*" replaced by the step
    target: Target
    anchor_day: dt.date | None
    anchor_events: tuple[EventSeen, ...]
    target_day: dt.date | None  # done (or passed) on
    target_events: tuple[EventSeen, ...]
    passed_by: str | None  # the later stage whose entry counts as the target done
    band: int | None  # the by_investment band (its index), if the limit has bands
    band_from: float | None  # its lower bound in 万元 (the previous band's ``below``), inclusive
    band_below: float | None  # its upper bound, exclusive
    limit: Threshold | None
    due: dt.date | None
    levels: tuple[LevelRule, ...]
    why_none: Literal["no_anchor", "anchor_after_as_of", "target_before_anchor", "no_investment"] | None


def _seen(facts: Facts, types: tuple[str, ...], steps: set[str], day: dt.date | None) -> tuple[EventSeen, ...]:
    """The events of ``types`` on ``steps``, by date; the first on ``day`` is the one taken."""
    found = sorted((e.date, i, e) for i, e in enumerate(facts.history.events)
                   if e.type in types and e.step is not None and facts.pack.step_of.get(e.step) in steps)
    out: list[EventSeen] = []
    taken = False
    for d, i, e in found:
        role: Literal["chosen", "passed_over", "after_as_of"] = "passed_over"
        if d > facts.as_of:
            role = "after_as_of"
        elif not taken and d == day:
            role, taken = "chosen", True
        out.append(EventSeen(i, d, e.type, e.step or "", role))
    return tuple(out)


def _anchor_events(facts: Facts, anchor: Anchor, day: dt.date | None) -> tuple[EventSeen, ...]:
    step_of = facts.pack.step_of
    if anchor.step_completed is not None:
        return _seen(facts, ("step_completed",), {step_of[anchor.step_completed]}, day)
    if anchor.step_started is not None:
        return _seen(facts, ("step_started", "step_completed"), {step_of[anchor.step_started]}, day)
    if anchor.stage_entered is not None:
        _, by_completed, by_started = next(e for e in facts.pack.entries if e[0] == anchor.stage_entered)
        done = _seen(facts, ("step_completed",), set(by_completed), day)
        begun = _seen(facts, ("step_started", "step_completed"), set(by_started), day) if by_started else ()
        return tuple(sorted({*done, *begun}, key=lambda s: (s.date, s.event)))
    return ()  # a plan date


def explain(pack: Pack, rule: DeadlineRule, facts: Facts) -> list[ClockTrace]:
    """Each clock of the (active) rule as the compiled clock sees it on ``facts.as_of``."""
    clock = pack.clocks[pack.rule_order[rule.id]]
    assert isinstance(clock, DeadlineClock)
    out: list[ClockTrace] = []
    for c in clock.clocks:
        anchor = facts.anchor_date(c.anchor)
        target = facts.target_date(c.target)
        own = facts.completed.get(c.step) if c.target.step_completed else facts.started.get(c.step)
        passed = None
        if target is not None and target != own:
            passed = next(s for s in pack.after.get(c.step, ()) if facts.entries.get(s) == target)
        index: int | None = 0
        if len(c.bands) > 1:
            inv = facts.history.project.investment_wan
            index = None if inv is None else next(
                k for k, b in enumerate(c.bands) if b.below is None or inv < b.below)
        levels: tuple[LevelRule, ...] = ()
        limit = due = None
        if index is not None:
            limit = limits(pack, rule)[index][1]
            band = c.bands[index]
            at = dict(band.levels)
            due = band.due(anchor) if anchor is not None else None
            levels = tuple(_level_rule(pack, rule, lv, th, limit, at[lv](anchor) if anchor else None)
                           for lv, th in thresholds(pack, rule, limit).items())
        why: Literal["no_anchor", "anchor_after_as_of", "target_before_anchor", "no_investment"] | None = None
        if anchor is None:
            why = "no_anchor"
        elif anchor > facts.as_of:
            why = "anchor_after_as_of"
        elif target is not None and target <= anchor:
            why = "target_before_anchor"
        elif index is None:
            why = "no_investment"
        kinds = ("step_completed",) if c.target.step_completed else ("step_started", "step_completed")
        out.append(ClockTrace(c.subject, c.step, c.anchor, c.target, anchor, _anchor_events(facts, c.anchor, anchor),
                              target, _seen(facts, kinds, {c.step}, own), passed,
                              index if len(c.bands) > 1 else None,
                              c.bands[index - 1].below if index and len(c.bands) > 1 else None,
                              c.bands[index].below if index is not None and len(c.bands) > 1 else None, limit, due,
                              tuple(sorted(levels, key=lambda r: LEVEL_RANK[r.level])), why))
    return out


def _level_rule(pack: Pack, rule: DeadlineRule, level: Level, th: Threshold, limit: Threshold,
                day: dt.date | None) -> LevelRule:
    spec = rule.levels[level]
    if spec == "limit":
        return LevelRule(level, "limit", th, reached_on=day)
    if spec.before_limit is not None:
        return LevelRule(level, "before_limit", th, fraction=pack.number(spec.before_limit), limit=limit,
                         reached_on=day)
    return LevelRule(level, "duration", th, reached_on=day)
