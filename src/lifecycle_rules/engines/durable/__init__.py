"""A second, independent engine on durable-rules, for differential testing.

``evaluate(pack, history, as_of, include_closed=False)`` returns a ``Result`` equal to
the native engine's (``lifecycle_rules.core.engine.evaluate``) for the same inputs: the same
warnings in the same order with the same fields, and the same notices. Its value is
that it decides by other means: each pack is compiled into a durable-rules ruleset, a
project's history becomes facts asserted into a session, and the ruleset's rules make
the decisions. A bug in one engine is then unlikely to be repeated in the other, and
the differential tests (``tests/test_differential.py``) catch it.

What is reused (plumbing, not checked by this engine)
-----------------------------------------------------
- ``parse_history`` (models) and its ``HistoryError`` s; ``Facts.build`` and its
  ``HistoryError`` s (unknown event types and steps).
- From ``Facts``: the events seen on ``as_of`` and their order, the day each step was
  started or completed, each stage's entry, the stage spans, the exit date,
  ``Facts.stage_at``. These hold decisions this engine does not check: the first
  completion of a step counts, a completed step counts as started, a stage is entered
  on the earliest of its listed steps, the project never moves back to an earlier
  stage, ``initial_stage`` holds until the first entry, the first ``project_exited``
  is the exit, events of one day are ordered by their content.
- Calendar arithmetic: ``dates.reached_on`` (the first day whose elapsed time exceeds
  a threshold, SPEC §5: a decision this engine does not check),
  ``WorkCalendar.nth_workday_after``, ``add_months``, ``week_label``, ``month_of``.
- ``Pack.number`` / ``step_of`` / ``stage_order`` (parameters, aliases, stage order).
- ``gaps.settle`` and ``gaps.tier_notice``: what a day past the known years of the
  working-day schedule (``dates.Undated``) still decides, and its ``calendar:`` notice.

Everything else is this engine's own: the thresholds of each level (a fraction before
the limit ...), due days, the cadence period grid, the limit in words, the messages'
fields, and the decisions below.

What this engine decides itself, in durable-rules rules compiled from the pack
------------------------------------------------------------------------------
Facts (days as ordinals): ``today``, ``subj`` (the project's sector, zone, investment,
attributes; later one per warning with its stage and step), ``done``/``began`` (steps),
``entered`` (stages, with their order), ``plan``, ``span``, ``ev`` (progress events),
``report``/``actual`` (reports and their amounts), ``exit``, ``period`` (the cadence
grid). Rules, compiled per pack:

- scope, each rule's ``when``, the investment band of a banded limit, ladder routes and
  every ``responsible`` assignment: the pack's conditions compiled into durable
  conditions on ``subj`` (first match wins: the lowest index that fired);
- deadline: the anchor fact of each rule (and of each ``for_each_step`` item), the
  facts that clear it (the target step done or started, or a later stage entered),
  and a clock exists when its anchor is on or before today and nothing cleared it by
  the anchor;
- stagnation: a silence starts where a watched stretch starts (a watched span with no
  watched span just before it) or at a progress event inside a watched span; it is
  cut by the next progress event or the start of an unwatched span; it is a warning
  when its first level comes on or before today and no later than that cut;
- shortfall: which reports count (short of plan, or ``compliant: false``; the first
  such filing of a month; the month ending in a watched stage);
- cadence: a period is owed when its reference day lies in a watched span and no
  report of it was filed by its due day; a warning when its first level comes on or
  before today and no filing came before that day;
- a rule's ``when.stages`` on the episode's stage;
- which dispositions and extensions belong to which warning, and which to none;
- sign-off: a standing fact per warning, changed by one rule per transition as its
  timeline is posted (levels reached, answers, clearing facts, the exit, the end):
  which level stands and since when (a level only rises until closed; after a
  closure the next level reopens it; a level on the clearing day is still reached),
  the closing actions per level, in progress and its cycle start, extensions (the
  latest wins), already-closed and too-early answers (notices), and on the last day
  ``closure_overdue`` when today is past ``cycle_days * overdue_after_pushes`` from the
  cycle start and past any extension;
- the ladder: the first level at or above the ladder's level of each warning, its
  place among the project's warnings (by day, then key), and for a warning below that
  level the count of warnings that reached it by its ``since``.

Python around the rules only sorts (a warning's timeline: by day; on one day levels,
then answers, then clearing facts), takes minima, counts (the n-th shortfall month, a
run of consecutive months), clamps the tier to 1..max_tier, does calendar
arithmetic (level days, due days, the period grid) and formats messages.

Hazards of durable-rules, hidden here
-------------------------------------
- Rulesets are global by name and cannot be deleted: each pack's ruleset is named by
  pack id, version and a hash of its content and parameters, registered once per
  process and reused; a name is never redefined.
- One long-lived host per process, with its background dispatch threads switched off
  (they run on the wall clock and would fire actions outside our calls); every use of
  it holds one lock, so the engine is thread-safe (evaluations are serialised).
- Sessions per ruleset are capped (about 1,024 live session ids): each evaluation
  takes a session id from a small pool and deletes the session's state when done
  (also on errors), so the id is reused.
- Exceptions raised in actions are swallowed by durable-rules: every action here is
  wrapped, its exception kept and re-raised after the host call returns.
- Facts that no rule's conditions accept raise "not handled", and a batch that raises
  leaves actions pending: every fact type has a sink rule that accepts it.
- Identical facts are refused ("already observed"): every fact carries a serial
  number.
- ``$or`` is mishandled next to references to other patterns (the reference is lost
  in some branches) and inside 'none' patterns: the compiler expands every disjunction
  into one rule per alternative (one 'none' per alternative), so no rule has a ``$or``.
- A field cannot compare with another field of the same fact (the comparison is
  silently wrong): every comparison is between two facts (a join) or with a constant.
- A fact may enter at most 64 joins of one ruleset, has at most 32 fields, and a text
  field at most 64 KB: the compiler keeps each pack well under the first two and says
  so if a pack is too large; long attribute values go by their hash.
- An action taking two arguments is run as asynchronous: every action takes one.
- durable-rules drops the rest of an action chain when an action ends more than 10 s
  (wall clock) after it began: an action that took over 5 s fails the evaluation
  instead (the wall clock guards; it never decides anything).
- No timers: time comes only from ``as_of`` (the ``today`` fact).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from durable import engine as _durable_engine

from lifecycle_rules.core.dates import UNITS, add_months, month_of, reached_on, week_label
from lifecycle_rules.core.facts import Facts
from lifecycle_rules.core.gaps import Settled, settle, tier_notice
from lifecycle_rules.core.history import EventView, History, Project, parse_history
from lifecycle_rules.core.results import Result, Warning, as_of_day
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level, Status
from lifecycle_rules.errors import LifecycleRulesError
from lifecycle_rules.pack.compile import Pack, Threshold
from lifecycle_rules.pack.spec import (
    Anchor,
    Assignment,
    CadenceRule,
    Condition,
    DeadlineRule,
    LevelDef,
    ShortfallRule,
    StagnationRule,
    Target,
)

__all__ = ["evaluate"]

_COMPILER = "1"  # part of every ruleset name: bump when the compiled form changes
_OPEN = 10**8  # the end of an open span, as a day ordinal
_MAX_JOINS = 48  # durable-rules fails past 64 joins entered by one fact type
_MAX_ATTRIBUTES = 16  # a durable-rules fact has at most 32 properties
_ACTION_SECONDS = 5  # durable-rules drops an action's results after 10 s of wall-clock time
_ACTIONS = ("no_action_needed", "in_progress", "completed", "project_exited")

Expr = dict[str, Any]
Fact = dict[str, Any]
# Every fact type this engine asserts; each has a sink rule, so none is "not handled".
_TAGS = ("today", "subj", "exit", "done", "began", "entered", "plan", "span", "ev", "report",
         "actual", "period", "clr", "clock", "live", "episode", "ans", "standing", "item",
         "reach", "counted", "stand")


class DurableEngineError(LifecycleRulesError):
    """The durable engine met a state its rules do not cover (a bug of this engine)."""


# -- the host: one per process, no timers, one lock ------------------------------------------


class _QuietHost(_durable_engine.Host):  # type: ignore[misc]
    """A host without the background dispatch threads: nothing runs on the wall clock,
    and no action fires outside our own calls."""

    def _run(self) -> None:
        pass


_LOCK = threading.RLock()
_HOST: _QuietHost | None = None
_REGISTERED: dict[str, _Plan] = {}
_NAMES: dict[int, tuple[weakref.ref[Pack], str]] = {}  # id(pack) -> its ruleset name
_ACTIVE: dict[str, _Run] = {}
_FREE_SIDS: list[str] = []
_NEXT_SID = [1]


def _reset_lock_after_fork() -> None:
    global _LOCK
    _LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_after_fork)


def _host() -> _QuietHost:
    global _HOST
    if _HOST is None:
        _HOST = _QuietHost()
    return _HOST


def _take_sid() -> str:
    if _FREE_SIDS:
        return _FREE_SIDS.pop()
    sid = str(_NEXT_SID[0])
    _NEXT_SID[0] += 1
    return sid


# -- durable condition expressions -----------------------------------------------------------


def _and(*parts: Expr | None) -> Expr:
    flat: list[Expr] = []
    for p in parts:
        if p is None:
            continue
        if set(p) == {"$and"}:
            flat += p["$and"]
        else:
            flat.append(p)
    return flat[0] if len(flat) == 1 else {"$and": flat}


def _or(parts: list[Expr]) -> Expr:
    return parts[0] if len(parts) == 1 else {"$or": parts}


def _op(op: str, name: str, value: Any) -> Expr:
    return {op: {name: value}}


def _tag(tag: str, *parts: Expr | None) -> Expr:
    return _and({"t": tag}, *parts)


def _one_of(name: str, values: Sequence[str]) -> Expr | None:
    """``name`` is one of ``values``; None if the list is empty (never true)."""
    return _or([{name: v} for v in values]) if values else None


def _canon(value: object, side: str) -> str:
    """An attribute value as a string that is equal exactly when Python's == is: numbers
    and booleans by exact value (1 == 1.0 == True), text by itself, NaN never."""
    if isinstance(value, str):
        # durable-rules keeps a property's length in 16 bits: long text goes by its hash.
        return "s:" + value if len(value) <= 200 else "h:" + hashlib.sha256(value.encode()).hexdigest()
    if isinstance(value, bool | int):
        return "n:" + str(Fraction(int(value)))
    if isinstance(value, float):
        if value != value:
            return f"nan:{side}"
        if value in (float("inf"), float("-inf")):
            return f"f:{value}"
        return "n:" + str(Fraction(value))
    return f"?:{side}:{value!r}"


# -- the compiled pack ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Clock:
    """One deadline clock of a rule: the rule itself, or one item of ``for_each_step``."""

    w: str
    index: int
    k: int
    subject: str
    step: str
    anchor: Anchor
    target: Target


@dataclass(frozen=True)
class _Band:
    below: float | None
    limit: Threshold
    levels: dict[Level, Threshold]


@dataclass
class _Plan:
    name: str
    pack: Pack
    attr_fields: dict[str, str]
    tags: set[str]
    clocks: dict[int, list[_Clock]]
    bands: dict[int, list[_Band]]
    durations: dict[int, dict[Level, Threshold]]
    report_types: set[str]
    amount_types: set[str]
    progress_types: set[str]
    definition: dict[str, Any] = field(default_factory=dict)


def _threshold(pack: Pack, spec: object) -> Threshold:
    for unit in UNITS:
        raw = getattr(spec, unit, None)
        if raw is not None:
            return Threshold(unit, pack.number(raw))
    raise DurableEngineError("a duration without a unit")  # the schema requires one


def _digest(pack: Pack) -> str:
    blob = json.dumps({"spec": pack.spec.model_dump(mode="json"),
                       "parameters": {k: str(v) for k, v in sorted(pack.parameters.items())},
                       "compiler": _COMPILER}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _ruleset_name(pack: Pack) -> str:
    version = "".join(ch if ch.isalnum() else "_" for ch in pack.spec.version)[:40]
    return f"lifecycle_rules_{pack.id}_{version}_{_digest(pack)}"


class _Compiler:
    """Turns a pack into a durable-rules ruleset definition (conditions and actions)."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.rules: dict[str, Any] = {}
        self.joins: dict[str, int] = {}
        self.tags: set[str] = set()
        attrs: set[str] = set()
        for cond in self._conditions():
            attrs.update((cond.attributes or {}).keys())
        self.attr_fields = {name: f"a{i}" for i, name in enumerate(sorted(attrs))}
        if len(self.attr_fields) > _MAX_ATTRIBUTES:
            raise LifecycleRulesError(
                f"pack {pack.id}: its conditions name {len(self.attr_fields)} project attributes; "
                f"the durable engine handles up to {_MAX_ATTRIBUTES} (a fact has at most 32 fields)")

    def _conditions(self) -> Iterator[Condition]:
        spec = self.pack.spec
        conds: list[Condition | None] = [spec.scope]
        conds += [r.when for r in spec.rules]
        conds += [a.when for a in spec.project_unit]
        for st in spec.steps:
            conds += [a.when for a in st.responsible]
        for sg in spec.stages:
            conds += [a.when for a in sg.responsible]
        if spec.ladder is not None:
            conds += [route.when for route in spec.ladder.routes]
        yield from (c for c in conds if c is not None)

    # -- building blocks ----------------------------------------------------------------

    def rule(self, name: str, patterns: list[tuple[str, Expr]],
             fn: Callable[[_Run, Any], None]) -> None:
        """A rule: (alias, condition) patterns, all of which must match ('none' patterns
        have an alias ending in '$not'), and its action.

        durable-rules mishandles ``$or`` next to references to other patterns and inside
        'none' patterns, so no compiled rule has one: a disjunction in a pattern becomes
        one rule per alternative, and in a 'none' pattern one 'none' per alternative."""
        negative: list[tuple[str, Expr]] = []
        positive: list[tuple[str, list[Expr]]] = []
        for alias, expr in patterns:
            if alias.endswith("$not"):
                base = alias[: -len("$not")]
                negative += [(f"{base}{j or ''}$not", alt) for j, alt in enumerate(_expand(expr))]
            else:
                positive.append((alias, _expand(expr)))
        combos = list(itertools.product(*[alts for _, alts in positive]))
        for k, combo in enumerate(combos):
            full = [*zip([a for a, _ in positive], combo, strict=True), *negative]
            rule_name = name if k == 0 else f"{name}#{k}"
            assert rule_name not in self.rules, rule_name
            if len(full) > 1:
                for _, expr in full:
                    tag = _tag_of(expr)
                    self.joins[tag] = self.joins.get(tag, 0) + 1
            for _, expr in full:
                self.tags.add(_tag_of(expr))
            self.rules[rule_name] = {"all": [{alias: expr} for alias, expr in full], "run": _action(fn)}

    def condition(self, cond: Condition | None, *, stage: bool) -> Expr | bool | None:
        """The condition as durable conditions on a ``subj`` fact: an Expr, None (no
        constraint) or False (never true)."""
        if cond is None:
            return None
        parts: list[Expr] = []
        if cond.sectors is not None:
            one = _one_of("sector", list(cond.sectors))
            if one is None:
                return False
            parts.append(one)
        for s in cond.exclude_sectors or ():
            parts.append(_op("$neq", "sector", s))
        if cond.in_development_zone is not None:
            parts.append({"zone": bool(cond.in_development_zone)})
        if cond.investment_wan is not None:
            rng = cond.investment_wan
            parts.append(_op("$ex", "inv", 1))
            if rng.min is not None:
                parts.append(_op("$gte", "inv", rng.min))
            if rng.below is not None:
                parts.append(_op("$lt", "inv", rng.below))
        if stage and cond.stages is not None:
            one = _one_of("stage", list(cond.stages))
            if one is None:
                return False
            parts.append(one)
        for name, want in (cond.attributes or {}).items():
            parts.append({self.attr_fields[name]: _canon(want, "pack")})
        return _and(*parts) if parts else None

    def on_subject(self, name: str, role: str, cond: Condition | None, stage: bool,
                   extra: Expr | None, fn: Callable[[_Run, Any], None]) -> None:
        expr = self.condition(cond, stage=stage)
        if expr is False:
            return  # a condition that can never hold: no rule
        assert expr is not True
        self.rule(name, [("m", _tag("subj", {"role": role}, extra, expr))], fn)


def _expand(expr: Expr) -> list[Expr]:
    """A condition as a list of alternatives without ``$or`` (its disjunctive form)."""
    parts = expr["$and"] if set(expr) == {"$and"} else [expr]
    alts: list[list[Expr]] = [[]]
    for part in parts:
        if set(part) == {"$or"}:
            options = [o for q in part["$or"] for o in _expand(q)]
            alts = [[*a, o] for a in alts for o in options]
        else:
            alts = [[*a, part] for a in alts]
    return [_and(*a) for a in alts]


def _tag_of(expr: Expr) -> str:
    if "t" in expr:
        return str(expr["t"])
    for part in expr.get("$and", []):
        if "t" in part:
            return str(part["t"])
    raise AssertionError(f"pattern without a fact type: {expr}")


def _action(fn: Callable[[_Run, Any], None]) -> Callable[[Any], None]:
    """An action that finds its evaluation by session id and keeps any exception it
    raises (durable-rules would swallow it), for ``_Run`` to raise after the host call."""

    def action(c: Any) -> None:
        run = _ACTIVE.get(str(c.s.sid))
        if run is None or run.error is not None:
            return
        try:
            fn(run, c)
        except BaseException as exc:  # re-raised after the host call
            run.error = exc
            return
        # durable-rules silently drops the rest of an action chain when an action ends
        # 10 s (wall clock) after it started: fail loudly well before that.
        if _durable_engine._unix_now() - c._start_time > _ACTION_SECONDS:
            run.error = DurableEngineError(
                f"an action took over {_ACTION_SECONDS} s (durable-rules would drop its results)")

    return action


def _get(c: Any, alias: str) -> dict[str, Any]:
    content = getattr(c, alias)
    assert content is not None, alias
    return content._d  # type: ignore[no-any-return]


def _compile(pack: Pack, name: str) -> _Plan:
    spec = pack.spec
    comp = _Compiler(pack)
    plan = _Plan(name=name, pack=pack, attr_fields=comp.attr_fields, tags=set(), clocks={},
                 bands={}, durations={}, report_types=set(), amount_types=set(),
                 progress_types=set())

    # Scope, applicability.
    comp.on_subject("scope", "project", spec.scope, False, None, _in_scope)
    for i, rule in enumerate(spec.rules):
        comp.on_subject(f"applies.{i}", "project", rule.when, False, None, _applies(i))

    for i, rule in enumerate(spec.rules):
        if isinstance(rule, DeadlineRule):
            _compile_deadline(comp, plan, i, rule)
        elif isinstance(rule, StagnationRule):
            _compile_stagnation(comp, plan, i, rule)
        elif isinstance(rule, ShortfallRule):
            _compile_shortfall(comp, plan, i, rule)
        elif isinstance(rule, CadenceRule):
            _compile_cadence(comp, plan, i, rule)
        # A rule's when.stages, on the stage of each live clock of the rule.
        stages = rule.when.stages if rule.when is not None else None
        if stages is None:
            comp.rule(f"stage.{i}", [("m", _tag("live", {"i": i}))], _keep)
        elif stages:
            comp.rule(f"stage.{i}", [("m", _tag("live", {"i": i}, _one_of("stage", stages)))], _keep)

    _compile_existence(comp)
    _compile_answers(comp)
    _compile_signoff(comp, pack)
    _compile_ladder(comp, pack)
    _compile_routing(comp, pack)

    referenced = set(comp.tags)
    for tag in _TAGS:
        comp.rule(f"sink.{tag}", [("x", {"t": tag}), ("y", {"t": "sink-never"})], _ignore)
    too_many = {t: n for t, n in comp.joins.items() if n > _MAX_JOINS}
    if too_many:
        raise LifecycleRulesError(
            f"pack {pack.id}: too many rules for the durable engine (joins per fact type "
            f"{too_many}; durable-rules allows 64)")
    assert "$or" not in json.dumps({k: v["all"] for k, v in comp.rules.items()}), "a rule kept a $or"
    plan.tags = referenced
    plan.definition = comp.rules
    return plan


def _ignore(run: _Run, c: Any) -> None:
    pass


def _in_scope(run: _Run, c: Any) -> None:
    run.in_scope = True


def _applies(i: int) -> Callable[[_Run, Any], None]:
    def fn(run: _Run, c: Any) -> None:
        run.applies.add(i)
    return fn


def _band(i: int, j: int) -> Callable[[_Run, Any], None]:
    def fn(run: _Run, c: Any) -> None:
        run.band.setdefault(i, j)
    return fn


def _anchor(w: str) -> Callable[[_Run, Any], None]:
    def fn(run: _Run, c: Any) -> None:
        run.anchor.setdefault(w, _get(c, "m")["day"])
    return fn


def _keep(run: _Run, c: Any) -> None:
    run.kept.add(_get(c, "m")["w"])


# -- deadline ----------------------------------------------------------------------------


def _star(name: str | None, each: str | None) -> str | None:
    return each if name == "*" and each is not None else name


def _compile_deadline(comp: _Compiler, plan: _Plan, i: int, rule: DeadlineRule) -> None:
    pack = comp.pack
    # Investment bands: durable picks the band from the project's investment.
    bands: list[_Band] = []
    lim = rule.limit
    raw = [(None, lim)] if lim.by_investment is None else [(b.below, b) for b in lim.by_investment]
    for below, spec in raw:
        limit = _threshold(pack, spec)
        levels: dict[Level, Threshold] = {}
        for lv, ls in rule.levels.items():
            if ls == "limit":
                levels[lv] = limit
            elif ls.before_limit is not None:
                levels[lv] = Threshold(limit.unit, limit.value * (1 - pack.number(ls.before_limit)))
            else:
                levels[lv] = _threshold(pack, ls)
        bands.append(_Band(below, limit, levels))
    plan.bands[i] = bands
    lower: float | None = None
    for j, band in enumerate(bands):
        parts: list[Expr] = []
        if len(bands) > 1:
            parts.append(_op("$ex", "inv", 1))
            if lower is not None:
                parts.append(_op("$gte", "inv", lower))
            if band.below is not None:
                parts.append(_op("$lt", "inv", band.below))
        comp.on_subject(f"band.{i}.{j}", "project", None, False, _and(*parts) if parts else None,
                        _band(i, j))
        lower = band.below

    items = rule.for_each_step if rule.for_each_step is not None else [None]
    clocks: list[_Clock] = []
    for k, each in enumerate(items):
        anchor = rule.anchor.model_copy(update={
            "step_completed": _star(rule.anchor.step_completed, each),
            "step_started": _star(rule.anchor.step_started, each)})
        target = rule.target.model_copy(update={
            "step_completed": _star(rule.target.step_completed, each),
            "step_started": _star(rule.target.step_started, each)})
        tname = target.step_completed or target.step_started
        assert tname is not None
        step = pack.step_of[tname]
        subject = pack.step_of[each] if each is not None else (rule.subject or step)
        clock = _Clock(f"d{i}.{k}", i, k, subject, step, anchor, target)
        clocks.append(clock)
        _compile_clock(comp, clock)
    plan.clocks[i] = clocks


def _compile_clock(comp: _Compiler, clock: _Clock) -> None:
    pack = comp.pack
    w = clock.w
    a = clock.anchor
    if a.step_completed is not None:
        anchor = _tag("done", {"step": pack.step_of[a.step_completed]})
    elif a.step_started is not None:
        anchor = _tag("began", {"step": pack.step_of[a.step_started]})
    elif a.stage_entered is not None:
        anchor = _tag("entered", {"stage": a.stage_entered})
    else:
        anchor = _tag("plan", {"which": a.plan or "start"})
    comp.rule(f"anchor.{w}", [("m", anchor)], _anchor(w))

    # What clears the clock: the target step done (or started), or a stage entered that
    # comes after a stage the target step enters (the project passed the step).
    t = clock.target
    name = t.step_completed or t.step_started
    assert name is not None
    step = pack.step_of[name]
    clears = [_tag("done", {"step": step})]
    if t.step_started is not None:
        clears.append(_tag("began", {"step": step}))
    orders = [o for o, st in enumerate(pack.spec.stages)
              if step in {pack.step_of[s] for s in st.entered_by.completed}]
    if orders:
        clears.append(_tag("entered", _op("$gt", "order", min(orders))))
    for n, expr in enumerate(clears):
        comp.rule(f"clear.{w}.{n}", [("m", expr)], lambda run, c: run.clear(c, w, _get(c, "m")["day"]))


# -- stagnation ----------------------------------------------------------------------------


def _compile_stagnation(comp: _Compiler, plan: _Plan, i: int, rule: StagnationRule) -> None:
    pack = comp.pack
    plan.durations[i] = {lv: _threshold(pack, d) for lv, d in rule.levels.items()}
    plan.progress_types.update(rule.progress)
    watched = _one_of("stage", list(rule.stages))
    unwatched = _and(*[_op("$neq", "stage", s) for s in rule.stages])
    progress = _one_of("type", list(rule.progress))
    # A silence starts where a watched stretch starts ...
    comp.rule(f"sg.{i}.start", [
        ("m", _tag("span", watched)),
        ("p$not", _tag("span", watched, {"end": {"m": "start"}})),
    ], lambda run, c: run.sg_anchor.setdefault(i, set()).add(_get(c, "m")["start"]))
    # ... or at a progress event inside a watched span.
    comp.rule(f"sg.{i}.progress", [
        ("e", _tag("ev", progress)),
        ("m", _tag("span", watched, _op("$lte", "start", {"e": "day"}), _op("$gt", "end", {"e": "day"}))),
    ], lambda run, c: run.sg_anchor.setdefault(i, set()).add(_get(c, "e")["day"]))
    # A silence is a warning when its first level comes by today and no later than its
    # cut: the next progress event, or the start of an unwatched span.
    def no_cut(after: str, before: Expr) -> list[tuple[str, Expr]]:
        return [("x$not", _tag("ev", progress, _op("$gt", "day", {"m": after}), _op("$lt", "day", before))),
                ("y$not", _tag("span", unwatched, _op("$gt", "start", {"m": after}), _op("$lt", "start", before)))]

    clock = ("m", _tag("clock", {"kind": "s"}, {"i": i}))
    comp.rule(f"sg.{i}.exists", [clock, ("td", _tag("today", _op("$gte", "day", {"m": "first"}))),
                                 *no_cut("anchor", {"m": "first"})], _exists)
    comp.rule(f"sg.{i}.cut-progress", [clock, ("b", _tag("ev", progress, _op("$gt", "day", {"m": "anchor"}))),
                                       *no_cut("anchor", {"b": "day"})],
              lambda run, c: run.clear(c, _get(c, "m")["w"], _get(c, "b")["day"]))
    comp.rule(f"sg.{i}.cut-span", [clock, ("b", _tag("span", unwatched, _op("$gt", "start", {"m": "anchor"}))),
                                   *no_cut("anchor", {"b": "start"})],
              lambda run, c: run.clear(c, _get(c, "m")["w"], _get(c, "b")["start"]))


# -- shortfall -----------------------------------------------------------------------------


def _compile_shortfall(comp: _Compiler, plan: _Plan, i: int, rule: ShortfallRule) -> None:
    plan.report_types.add(rule.report)
    patterns: list[tuple[str, Expr]] = []
    if rule.counts == "noncompliant":
        patterns.append(("m", _tag("report", {"type": rule.report}, {"nc": True})))
    else:
        plan.amount_types.add(rule.report)
        patterns.append(("m", _tag("report", {"type": rule.report}, _op("$ex", "planned", 1))))
        patterns.append(("a", _tag("actual", {"rn": {"m": "rn"}}, _op("$lt", "value", {"m": "planned"}))))
    if rule.stages is not None:
        watched = _one_of("stage", list(rule.stages))
        if watched is None:
            return
        patterns.append(("p", _tag("span", watched, _op("$lte", "start", {"m": "pend"}),
                                   _op("$gt", "end", {"m": "pend"}))))

    def hit(run: _Run, c: Any) -> None:
        m = _get(c, "m")
        got = run.hits.setdefault(i, {})
        if m["period"] not in got or m["day"] < got[m["period"]]:
            got[m["period"]] = m["day"]

    comp.rule(f"sf.{i}", patterns, hit)


# -- cadence -------------------------------------------------------------------------------


def _compile_cadence(comp: _Compiler, plan: _Plan, i: int, rule: CadenceRule) -> None:
    pack = comp.pack
    plan.durations[i] = {lv: _threshold(pack, d) for lv, d in rule.levels.items()}
    plan.report_types.add(rule.report)
    watched = None if rule.stages is None else _one_of("stage", list(rule.stages))
    if rule.stages is not None and watched is None:
        return

    def owed(run: _Run, c: Any) -> None:
        p, s = _get(c, "m"), _get(c, "p")
        run.owed.setdefault(i, []).append((p["label"], p["ref"], p["due"], s["stage"]))

    comp.rule(f"cd.{i}.owed", [
        ("m", _tag("period", {"i": i})),
        ("p", _tag("span", watched, _op("$lte", "start", {"m": "ref"}), _op("$gt", "end", {"m": "ref"}))),
        ("r$not", _tag("report", {"type": rule.report}, {"period": {"m": "label"}},
                       _op("$lte", "day", {"m": "due"}))),
    ], owed)
    comp.rule(f"cd.{i}.filed", [
        ("m", _tag("period", {"i": i})),
        ("r", _tag("report", {"type": rule.report}, {"period": {"m": "label"}})),
    ], lambda run, c: run.clear(c, f"c{i}#{_get(c, 'm')['label']}", _get(c, "r")["day"]))


# -- which clocks are episodes -------------------------------------------------------------


def _compile_existence(comp: _Compiler) -> None:
    # Deadline: the anchor is on or before today, and nothing cleared the clock by it.
    comp.rule("exists.deadline", [
        ("m", _tag("clock", {"kind": "d"})),
        ("td", _tag("today", _op("$gte", "day", {"m": "anchor"}))),
        ("x$not", _tag("clr", {"w": {"m": "w"}}, _op("$lte", "day", {"m": "anchor"}))),
    ], _exists)
    # Cadence: the first level comes by today, and no filing came before that day.
    comp.rule("exists.cadence", [
        ("m", _tag("clock", {"kind": "c"})),
        ("td", _tag("today", _op("$gte", "day", {"m": "first"}))),
        ("x$not", _tag("clr", {"w": {"m": "w"}}, _op("$lt", "day", {"m": "first"}))),
    ], _exists)
    # Shortfall: a level was reached.
    comp.rule("exists.shortfall", [("m", _tag("clock", {"kind": "f"}))], _exists)


def _exists(run: _Run, c: Any) -> None:
    clock = dict(_get(c, "m"))
    run.exists.add(clock["w"])
    clock.pop("sid", None)
    clock["t"] = "live"
    c.assert_fact(run.fact(clock))


def _compile_answers(comp: _Compiler) -> None:
    comp.rule("answer.match", [
        ("e", _tag("episode")),
        ("m", _tag("ans", {"key": {"e": "key"}})),
    ], lambda run, c: run.answers.setdefault(_get(c, "e")["w"], []).append(_get(c, "m")["an"]))
    comp.rule("answer.orphan", [
        ("m", _tag("ans")),
        ("e$not", _tag("episode", {"key": {"m": "key"}})),
    ], lambda run, c: run.orphans.append(_get(c, "m")["an"]))


# -- sign-off --------------------------------------------------------------------------------


def _compile_signoff(comp: _Compiler, pack: Pack) -> None:
    signoff = pack.spec.signoff
    level = _tag("item", {"what": "level"})
    standing = "standing"

    def st(*parts: Expr) -> tuple[str, Expr]:
        return ("st", _tag(standing, {"w": {"m": "w"}}, *parts))

    # A level is reached when it comes by today and no later than the day anything
    # cleared the clock or the project exited (on that day it is reached, then closed).
    reached: list[tuple[str, Expr]] = [
        ("m", level),
        ("td", _tag("today", _op("$gte", "day", {"m": "day"}))),
        ("x$not", _tag("clr", {"w": {"m": "w"}}, _op("$lt", "day", {"m": "day"}))),
        ("y$not", _tag("exit", _op("$lt", "day", {"m": "day"}))),
    ]
    comp.rule("level.late", [("m", level), ("td", _tag("today", _op("$lt", "day", {"m": "day"})))], _consume)
    comp.rule("level.cleared", [("m", level), ("x", _tag("clr", {"w": {"m": "w"}}, _op("$lt", "day", {"m": "day"})))],
              _consume)
    comp.rule("level.exited", [("m", level), ("y", _tag("exit", _op("$lt", "day", {"m": "day"})))], _consume)
    comp.rule("level.first", [*reached, st({"rank": 0})], _apply_level)
    comp.rule("level.reopen", [*reached, st(_op("$gt", "rank", 0), {"status": "closed"})], _apply_level)
    comp.rule("level.rise", [*reached, st(_op("$gt", "rank", 0), _op("$neq", "status", "closed"),
                                          _op("$lt", "rank", {"m": "rank"}))], _apply_level)
    comp.rule("level.lower", [*reached, st(_op("$gt", "rank", 0), _op("$neq", "status", "closed"),
                                           _op("$gte", "rank", {"m": "rank"}))], _consume)

    answer = _tag("item", _or([{"what": "disp"}, {"what": "ext"}]))
    comp.rule("answer.early", [("m", _and(answer, {"keyed": True})), st({"rank": 0})], _early)
    comp.rule("answer.early-project-wide", [("m", _and(answer, {"keyed": False})), st({"rank": 0})], _consume)
    ext = _tag("item", {"what": "ext"})
    comp.rule("extension.later", [("m", ext), st(_op("$gt", "rank", 0), _op("$lt", "ext", {"m": "until"}))],
              lambda run, c: _update(run, c, ext=_get(c, "m")["until"]))
    comp.rule("extension.earlier", [("m", ext), st(_op("$gt", "rank", 0), _op("$gte", "ext", {"m": "until"}))],
              _consume)
    disp = _tag("item", {"what": "disp"})
    comp.rule("disposition.after-closure", [("m", disp), st(_op("$gt", "rank", 0), {"status": "closed"})],
              _already_closed)
    for lv in pack.spec.levels:
        closing = list(signoff.closing_actions_by_level.get(lv, signoff.closing_actions))
        other = [a for a in _ACTIONS if a not in closing]
        if closing:
            comp.rule(f"disposition.close.{lv}", [
                ("m", _and(disp, _one_of("action", closing))),
                st({"level": lv}, _op("$neq", "status", "closed")),
            ], lambda run, c: _update(run, c, status="closed", closed=_get(c, "m")["day"]))
        if other:
            comp.rule(f"disposition.handle.{lv}", [
                ("m", _and(disp, _one_of("action", other))),
                st({"level": lv}, {"status": "open"}),
            ], lambda run, c: _update(run, c, status="in_progress", cycle=_get(c, "m")["day"]))
            comp.rule(f"disposition.handling.{lv}", [
                ("m", _and(disp, _one_of("action", other))),
                st({"level": lv}, {"status": "in_progress"}),
            ], _consume)

    stop = _tag("item", {"what": "stop"})
    comp.rule("stop.close", [("m", stop), st(_op("$gt", "rank", 0), _op("$neq", "status", "closed"))],
              lambda run, c: _update(run, c, status="closed", closed=_get(c, "m")["day"]))
    comp.rule("stop.noop", [("m", stop), st(_or([{"rank": 0}, {"status": "closed"}]))], _consume)

    end = _tag("item", {"what": "end"})
    cycle, pushes = signoff.cycle_days, signoff.overdue_after_pushes
    if cycle and pushes:
        limit = cycle * pushes
        past = {"$add": {"$l": {"st": "cycle"}, "$r": limit}}
        comp.rule("end.overdue", [("m", end), st({"status": "in_progress"}),
                                  ("td", _tag("today", _op("$gt", "day", past), _op("$gt", "day", {"st": "ext"})))],
                  lambda run, c: _end(run, c, "closure_overdue"))
        comp.rule("end.in-progress", [("m", end), st({"status": "in_progress"}),
                                      ("td", _tag("today", _or([_op("$lte", "day", past),
                                                                _op("$lte", "day", {"st": "ext"})])))],
                  lambda run, c: _end(run, c, "in_progress"))
    else:
        comp.rule("end.in-progress", [("m", end), st({"status": "in_progress"})],
                  lambda run, c: _end(run, c, "in_progress"))
    comp.rule("end.other", [("m", end), st(_op("$neq", "status", "in_progress"))],
              lambda run, c: _end(run, c, None))


def _consume(run: _Run, c: Any) -> None:
    run.consumed += 1


def _update(run: _Run, c: Any, **changes: Any) -> None:
    run.consumed += 1
    old = _get(c, "st")
    new = {**old, **changes, "v": old["v"] + 1}
    c.retract_fact(dict(old))
    c.assert_fact(new)
    run.standing[new["w"]] = new


def _apply_level(run: _Run, c: Any) -> None:
    m = _get(c, "m")
    old = _get(c, "st")
    changes: dict[str, Any] = {"level": m["level"], "rank": m["rank"], "since": m["day"]}
    if old["status"] == "closed":
        changes.update(status="open", closed=0, cycle=0)
    _update(run, c, **changes)
    c.assert_fact(run.fact({"t": "reach", "w": m["w"], "rank": m["rank"], "day": m["day"]}))


def _early(run: _Run, c: Any) -> None:
    run.consumed += 1
    m = _get(c, "m")
    run.notice(m, f"{m['etype']} of {_iso(m['day'])} for warning {run.key_of[m['w']]} came before "
                  "the warning existed; ignored")


def _already_closed(run: _Run, c: Any) -> None:
    run.consumed += 1
    m = _get(c, "m")
    run.notice(m, f"disposition of {_iso(m['day'])} for warning {run.key_of[m['w']]}: the warning "
                  "was already closed; ignored")


def _end(run: _Run, c: Any, status: Status | None) -> None:
    run.consumed += 1
    st = _get(c, "st")
    run.final[st["w"]] = {**st, "status": status or st["status"]}


# -- the ladder ------------------------------------------------------------------------------


def _compile_ladder(comp: _Compiler, pack: Pack) -> None:
    ladder = pack.spec.ladder
    if ladder is None:
        return
    floor = LEVEL_RANK[ladder.counts]
    # The first level at or above the ladder's level, per warning.
    comp.rule("ladder.reached", [
        ("m", _tag("reach", _op("$gte", "rank", floor))),
        ("p$not", _tag("reach", {"w": {"m": "w"}}, _op("$gte", "rank", floor), _op("$lt", "n", {"m": "n"}))),
    ], _counted)
    # Its place among the project's warnings that reached it: by day, then key.
    comp.rule("ladder.before", [
        ("m", _tag("counted")),
        ("b", _tag("counted", _or([_op("$lt", "day", {"m": "day"}),
                                   _and({"day": {"m": "day"}}, _op("$lt", "key", {"m": "key"}))]))),
    ], lambda run, c: _count(run.before, _get(c, "m")["w"]))
    comp.rule("ladder.own", [
        ("m", _tag("stand", _op("$gte", "rank", floor))),
        ("b", _tag("counted", {"w": {"m": "w"}})),
    ], lambda run, c: run.own.add(_get(c, "m")["w"]))
    comp.rule("ladder.by-since", [
        ("m", _tag("stand")),
        ("b", _tag("counted", _op("$lte", "day", {"m": "since"}))),
    ], lambda run, c: _count(run.by_since, _get(c, "m")["w"]))


def _count(counter: dict[str, int], w: str) -> None:
    counter[w] = counter.get(w, 0) + 1


def _counted(run: _Run, c: Any) -> None:
    m = _get(c, "m")
    c.assert_fact(run.fact({"t": "counted", "w": m["w"], "day": m["day"], "key": run.key_of[m["w"]]}))


# -- responsible units -----------------------------------------------------------------------


def _compile_routing(comp: _Compiler, pack: Pack) -> None:
    spec = pack.spec

    def pick(category: str, j: int) -> Callable[[_Run, Any], None]:
        def fn(run: _Run, c: Any) -> None:
            got = run.routes.setdefault(_get(c, "m")["w"], {})
            if category not in got or j < got[category]:
                got[category] = j
        return fn

    if spec.ladder is not None:
        for j, route in enumerate(spec.ladder.routes):
            comp.on_subject(f"route.{j}", "warning", route.when, True, None, pick("route", j))
    assignments: list[tuple[str, Expr | None, list[Assignment]]] = [("project", None, spec.project_unit)]
    for n, sg in enumerate(spec.stages):
        assignments.append((f"stage.{n}", {"stage": sg.name}, sg.responsible))
    for n, step in enumerate(spec.steps):
        assignments.append((f"step.{n}", {"step": step.name}, step.responsible))
    for category, extra, items in assignments:
        for j, a in enumerate(items):
            comp.on_subject(f"units.{category}.{j}", "warning", a.when, True, extra, pick(category, j))


# -- one evaluation ----------------------------------------------------------------------------


def _iso(day: int) -> str:
    return dt.date.fromordinal(day).isoformat()


@dataclass
class _Episode:
    w: str
    index: int
    order: int
    key: str
    subject: str
    anchor: dt.date
    levels: list[tuple[Level, dt.date]]
    due: dt.date | None
    stage: str | None
    step: str | None
    info: dict[str, Any]


@dataclass
class _Run:
    """What one evaluation's actions found, by session id."""

    sid: str
    plan: _Plan
    today: int
    serial: int = 0
    error: BaseException | None = None
    asserted: bool = False
    in_scope: bool = False
    applies: set[int] = field(default_factory=set)
    band: dict[int, int] = field(default_factory=dict)
    anchor: dict[str, int] = field(default_factory=dict)
    clears: dict[str, set[int]] = field(default_factory=dict)
    sg_anchor: dict[int, set[int]] = field(default_factory=dict)
    hits: dict[int, dict[str, int]] = field(default_factory=dict)
    owed: dict[int, list[tuple[str, int, int, str]]] = field(default_factory=dict)
    exists: set[str] = field(default_factory=set)
    kept: set[str] = field(default_factory=set)
    answers: dict[str, list[int]] = field(default_factory=dict)
    orphans: list[int] = field(default_factory=list)
    key_of: dict[str, str] = field(default_factory=dict)
    place: dict[str, tuple[int, int]] = field(default_factory=dict)
    standing: dict[str, dict[str, Any]] = field(default_factory=dict)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)
    consumed: int = 0
    notices: list[tuple[tuple[Any, ...], str]] = field(default_factory=list)
    before: dict[str, int] = field(default_factory=dict)
    own: set[str] = field(default_factory=set)
    by_since: dict[str, int] = field(default_factory=dict)
    routes: dict[str, dict[str, int]] = field(default_factory=dict)
    group: dict[str, str] = field(default_factory=dict)

    def fact(self, content: Fact) -> Fact:
        self.serial += 1
        return {**content, "sid": self.sid, "n": self.serial}

    def clear(self, c: Any, w: str, day: int) -> None:
        self.clears.setdefault(w, set()).add(day)
        c.assert_fact(self.fact({"t": "clr", "w": w, "day": day}))

    def notice(self, item: dict[str, Any], text: str) -> None:
        i, order = self.place[item["w"]]
        self.notices.append(((1, i, order, item["seq"]), text))

    def _raise(self) -> None:
        if self.error is not None:
            err, self.error = self.error, None
            raise err

    def assert_facts(self, facts: list[Fact]) -> None:
        wanted = [f for f in facts if f["t"] in self.plan.tags]
        if not wanted:
            return
        self.asserted = True
        _host().assert_facts(self.plan.name, [self.fact(f) for f in wanted])
        self._raise()

    def post(self, item: Fact) -> None:
        self.asserted = True
        before = self.consumed
        _host().post(self.plan.name, self.fact(item))
        self._raise()
        if self.consumed != before + 1:
            raise DurableEngineError(f"no sign-off rule took {item} (pack {self.plan.pack.label})")


def _compiled(pack: Pack) -> _Plan:
    known = _NAMES.get(id(pack))
    if known is not None and known[0]() is pack:
        name = known[1]
    else:
        name = _ruleset_name(pack)
        key = id(pack)
        _NAMES[key] = (weakref.ref(pack, lambda _: _NAMES.pop(key, None)), name)
    plan = _REGISTERED.get(name)
    if plan is None:
        plan = _compile(pack, name)
        _host().register_rulesets({name: plan.definition})
        _REGISTERED[name] = plan
    return plan


def evaluate(
    pack: Pack,
    history: History | Mapping[str, Any] | str | bytes,
    as_of: dt.date | str,
    include_closed: bool = False,
) -> Result:
    """The warnings of one project standing on ``as_of``, decided by durable-rules.

    Equal to ``lifecycle_rules.evaluate(pack, history, as_of, include_closed=...)``."""
    day = as_of_day(as_of)
    hist = parse_history(history)
    with _LOCK:
        plan = _compiled(pack)
        sid = _take_sid()
        run = _Run(sid=sid, plan=plan, today=day.toordinal())
        _ACTIVE[sid] = run
        try:
            return _evaluate(plan, run, hist, day, include_closed)
        finally:
            del _ACTIVE[sid]
            reusable = True
            if run.asserted:
                try:
                    _host().delete_state(plan.name, sid)
                except Exception:
                    reusable = False  # its session may live on: never use the id again
            if reusable:
                _FREE_SIDS.append(sid)


def _project_fields(plan: _Plan, project: Project) -> Fact:
    out: Fact = {"sector": project.sector, "zone": bool(project.in_development_zone)}
    if project.investment_wan is not None:
        out["inv"] = float(project.investment_wan)
    for name, fieldname in plan.attr_fields.items():
        if name in project.attributes:
            out[fieldname] = _canon(project.attributes[name], "project")
    return out


def _evaluate(plan: _Plan, run: _Run, hist: History, day: dt.date, include_closed: bool) -> Result:
    pack = plan.pack
    project = hist.project
    pid = project.id
    today = day.toordinal()
    proj = _project_fields(plan, project)

    # 0. Scope, the rules that apply, the investment band of banded limits.
    run.assert_facts([{"t": "today", "day": today}, {"t": "subj", "role": "project", **proj}])
    if not run.in_scope:
        clause = f" ({pack.spec.scope_clause})" if pack.spec.scope_clause else ""
        return Result(project_id=pid, as_of=day, pack=pack.label,
                      notices=(f"project is outside the pack's scope{clause}; no rule applies",))

    facts = Facts.build(pack, hist, day)
    notices: list[tuple[tuple[Any, ...], str]] = []
    for rank, (part, extra) in enumerate((("history", hist.model_extra), ("project", project.model_extra),
                                          ("plan", hist.plan.model_extra)), start=-3):
        if extra:
            notices.append(((0, rank), f"{part}: field(s) {', '.join(sorted(extra))} are not part of "
                                       "the history format; ignored"))
    for i, ev in enumerate(hist.events):
        if ev.model_extra:
            notices.append(((0, i), f"event {i}: field(s) {', '.join(sorted(ev.model_extra))} are not "
                                    "part of the history format; ignored"))

    # 1. The history as facts: steps, stages, plan, spans, progress, reports, exit.
    batch: list[Fact] = []
    if facts.exit_date is not None:
        batch.append({"t": "exit", "day": facts.exit_date.toordinal()})
    batch += [{"t": "done", "step": s, "day": d.toordinal()} for s, d in facts.completed.items()]
    batch += [{"t": "began", "step": s, "day": d.toordinal()} for s, d in facts.started.items()]
    batch += [{"t": "entered", "stage": s, "order": pack.stage_order[s], "day": d.toordinal()}
              for s, d in facts.entries.items()]
    plan_dates = hist.plan
    for which in ("start", "completion", "production"):
        d = getattr(plan_dates, which)
        if d is not None:
            batch.append({"t": "plan", "which": which, "day": d.toordinal()})
    for sp in facts.spans:  # in time order: a span's predecessor is asserted before it
        span: Fact = {"t": "span", "stage": sp.stage, "start": sp.start.toordinal(),
                      "end": sp.end.toordinal() if sp.end is not None else _OPEN}
        batch.append(span)
    seen_ev: set[tuple[str, dt.date]] = set()
    reports: list[Fact] = []
    for n, (_, e) in enumerate(facts.events):
        if e.type in plan.progress_types and (e.type, e.date) not in seen_ev:
            seen_ev.add((e.type, e.date))
            batch.append({"t": "ev", "type": e.type, "day": e.date.toordinal()})
        if e.type in plan.report_types and e.period is not None:
            rep: Fact = {"t": "report", "type": e.type, "period": e.period, "day": e.date.toordinal(), "rn": n}
            if e.compliant is False:
                rep["nc"] = True
            if e.planned_wan is not None and e.actual_wan is not None and e.type in plan.amount_types:
                rep["planned"] = float(e.planned_wan)
                reports.append({"t": "actual", "rn": n, "value": float(e.actual_wan)})
            try:
                y, mo = month_of(e.period)
            except ValueError:
                pass
            else:
                rep["pend"] = (add_months(dt.date(y, mo, 1), 1) - dt.timedelta(days=1)).toordinal()
            reports.append(rep)
    run.assert_facts(batch + reports)
    # The cadence grid, after the reports it looks for.
    periods: list[Fact] = []
    if facts.spans:
        for i in sorted(run.applies):
            rule = pack.rules[i]
            if isinstance(rule, CadenceRule):
                for label, ref, due in _periods(rule, facts.spans[0].start, day):
                    periods.append({"t": "period", "i": i, "label": label, "ref": ref.toordinal(),
                                    "due": due.toordinal()})
    run.assert_facts(periods)

    # 2. Clocks; durable decides which are episodes.
    cal = pack.calendar
    clocks: list[Fact] = []
    made: dict[int, list[tuple[str, Fact]]] = {}

    def levels_from(i: int, start: dt.date, ths: dict[Level, Threshold]) -> list[tuple[Level, dt.date]]:
        # A day past the known years comes back Undated (its earliest day): settled below.
        got = [(lv, reached_on(start, th.unit, th.value, cal)) for lv, th in ths.items()]
        return sorted(got, key=lambda p: (p[1], LEVEL_RANK[p[0]]))

    pending: dict[str, Any] = {}
    for i in sorted(run.applies):
        rule = pack.rules[i]
        out = made.setdefault(i, [])
        if isinstance(rule, DeadlineRule):
            for ck in plan.clocks[i]:
                a = run.anchor.get(ck.w)
                if a is None:
                    continue
                anchor = dt.date.fromordinal(a)
                fact = {"t": "clock", "kind": "d", "i": i, "w": ck.w, "anchor": a}
                stage = facts.stage_at(anchor)
                if stage is not None:
                    fact["stage"] = stage
                pending[ck.w] = (ck, anchor, stage)
                out.append((ck.w, fact))
        elif isinstance(rule, StagnationRule):
            for a in sorted(run.sg_anchor.get(i, ())):
                anchor = dt.date.fromordinal(a)
                levels = levels_from(i, anchor, plan.durations[i])
                w = f"s{i}@{a}"
                stage = facts.stage_at(anchor)
                fact = {"t": "clock", "kind": "s", "i": i, "w": w, "anchor": a,
                        "first": levels[0][1].toordinal()}
                if stage is not None:
                    fact["stage"] = stage
                pending[w] = (anchor, levels, stage)
                out.append((w, fact))
        elif isinstance(rule, CadenceRule):
            for label, _ref, due_n, stage in sorted(run.owed.get(i, ()), key=lambda p: p[1]):
                due = dt.date.fromordinal(due_n)
                levels = levels_from(i, due, plan.durations[i])
                w = f"c{i}#{label}"
                fact = {"t": "clock", "kind": "c", "i": i, "w": w, "first": levels[0][1].toordinal(),
                        "stage": stage}
                pending[w] = (label, due, levels, stage)
                out.append((w, fact))
        elif isinstance(rule, ShortfallRule):
            hits = run.hits.get(i)
            if not hits:
                continue
            levels = _shortfall_levels(rule, hits)
            if not levels:
                continue
            first = levels[0][1]
            stage = facts.stage_at(first)
            w = f"f{i}"
            fact = {"t": "clock", "kind": "f", "i": i, "w": w, "first": first.toordinal()}
            if stage is not None:
                fact["stage"] = stage
            by_period = sorted(hits.items(), key=lambda p: month_of(p[0]))
            pending[w] = (dt.date.fromordinal(by_period[0][1]), levels, stage, len(hits))
            out.append((w, fact))
        clocks += [f for _, f in out]
    run.assert_facts(clocks)

    # Episodes, in the order the native engine yields them (rule, then time).
    episodes: list[_Episode] = []
    for i in sorted(made):
        rule = pack.rules[i]
        alive = [w for w, _ in made[i] if w in run.exists]
        found = [w for w in alive if w in run.kept]
        if not alive:
            continue
        if isinstance(rule, DeadlineRule):
            bands = plan.bands[i]
            if i not in run.band:
                notices.append(((1, i, -1, 0), f"rule {rule.id}: the limit depends on investment_wan, "
                                               "which the project does not give; rule not evaluated"))
                continue
            band = bands[run.band[i]]
            for w in found:
                ck, anchor, stage = pending[w]
                levels = levels_from(i, anchor, band.levels)
                due = _due(anchor, band.limit, cal)
                episodes.append(_Episode(w, i, 0, f"{pid}/{rule.id}/{ck.subject}", ck.subject, anchor,
                                         levels, due, stage, ck.step, {"limit": _describe(band.limit)}))
        elif isinstance(rule, StagnationRule):
            for w in found:
                anchor, levels, stage = pending[w]
                subject = rule.subject or (stage or "")
                episodes.append(_Episode(w, i, 0, f"{pid}/{rule.id}/{subject}@{anchor.isoformat()}",
                                         subject, anchor, levels, None, stage, None, {}))
        elif isinstance(rule, CadenceRule):
            for w in found:
                label, due, levels, stage = pending[w]
                subject = f"{rule.subject} {label}" if rule.subject else label
                episodes.append(_Episode(w, i, 0, f"{pid}/{rule.id}/{subject}", subject, due, levels, due,
                                         stage, None, {"period": label}))
        elif isinstance(rule, ShortfallRule):
            for w in found:
                anchor, levels, stage, count = pending[w]
                subject = rule.subject or "月度投资"
                episodes.append(_Episode(w, i, 0, f"{pid}/{rule.id}/{subject}", subject, anchor, levels,
                                         None, stage, None, {"count": count}))
    for order, ep in enumerate(episodes):
        ep.order = order
        run.key_of[ep.w] = ep.key
        run.place[ep.w] = (ep.index, order)
    # Days in a year whose working-day schedule is not known: what they still decide
    # (shared plumbing, lifecycle_rules.core.gaps). An undecided episode keeps its answers and
    # gets no standing.
    unknown_years: set[int] = set()
    undecided: dict[str, Settled] = {}
    for ep in episodes if pack.counts_working_days else ():
        ends = set(run.clears.get(ep.w, ()))
        if facts.exit_date is not None:
            ends.add(facts.exit_date.toordinal())
        gap = settle(ep.levels, ep.due, stop=dt.date.fromordinal(min(ends)) if ends else None, as_of=day,
                     rule=pack.rules[ep.index].id, subject=ep.subject)
        if gap is None:
            continue
        unknown_years.update(gap.years)
        if gap.notice:
            notices.append(((1, ep.index, ep.order, 0), gap.notice))
        if gap.undecided:
            undecided[ep.w] = gap
        ep.levels, ep.due = list(gap.levels), gap.due
        if gap.due_text:
            ep.info["due_text"] = gap.due_text

    # 3. Which answers belong to which warning.
    keyed: dict[int, EventView] = {}
    project_wide: list[tuple[int, EventView]] = []
    for n, (_, e) in enumerate(facts.events):
        if e.type == "extension" and e.warning is None:
            project_wide.append((n, e))
        elif e.type in ("disposition", "extension") and e.warning is not None:
            keyed[n] = e
    run.assert_facts([{"t": "episode", "w": ep.w, "key": ep.key} for ep in episodes]
                     + [{"t": "ans", "key": e.warning, "an": n} for n, e in keyed.items()])

    # 4. Sign-off, one warning after the other.
    run.assert_facts([{"t": "standing", "w": ep.w, "rank": 0, "level": "", "status": "open", "since": 0,
                       "closed": 0, "cycle": 0, "ext": 0, "v": 0} for ep in episodes])
    seq = 0
    for ep in episodes:
        if ep.w in undecided:
            continue
        timeline: list[tuple[tuple[Any, ...], Fact]] = []
        for lv, d in ep.levels:
            timeline.append(((d, 0, LEVEL_RANK[lv]), {"what": "level", "level": lv, "rank": LEVEL_RANK[lv],
                                                      "day": d.toordinal()}))
        answers = [(0, n) for n in sorted(run.answers.get(ep.w, []))] + [(1, n) for n, _ in project_wide]
        events = dict(project_wide) | keyed
        for rank, (group, n) in enumerate(answers):
            e = events[n]
            item: Fact = {"day": e.date.toordinal(), "keyed": group == 0, "etype": e.type}
            if e.type == "extension":
                assert e.until is not None
                item.update(what="ext", until=e.until.toordinal())
            else:
                item.update(what="disp", action=e.action)
            timeline.append(((e.date, 1, rank), item))
        stops = set(run.clears.get(ep.w, ()))
        if facts.exit_date is not None:
            stops.add(facts.exit_date.toordinal())
        for s in sorted(stops):
            if s <= today:
                timeline.append(((dt.date.fromordinal(s), 2, 0), {"what": "stop", "day": s}))
        timeline.sort(key=lambda p: p[0])
        for _, item in [*timeline, ((), {"what": "end", "day": today})]:
            seq += 1
            run.post({"t": "item", "w": ep.w, "seq": seq, **item})
    standing = {w: st for w, st in run.final.items() if st["rank"] > 0}

    # 5. Tiers.
    tiers: dict[str, int] = {}
    ladder = pack.spec.ladder
    if ladder is not None and standing:
        run.assert_facts([{"t": "stand", "w": w, "rank": st["rank"], "since": st["since"]}
                          for w, st in standing.items()])
        for w in standing:
            n = run.before.get(w, 0) + 1 if w in run.own else run.by_since.get(w, 0)
            tiers[w] = max(1, min(ladder.max_tier, n))

    if undecided and ladder is not None:
        said = tier_notice([(pack.rules[ep.index].id, undecided[ep.w]) for ep in episodes if ep.w in undecided],
                           ladder.counts, ladder.max_tier)
        if said:
            notices.append(((3,), said))
    # 6. Responsible units: they depend on the project, the stage and the step only, so
    # one subject per (stage, step) of the warnings.
    kept = [ep for ep in episodes if ep.w in standing]
    groups: dict[tuple[str | None, str | None], str] = {}
    subjects: list[Fact] = []
    for ep in kept:
        if (ep.stage, ep.step) not in groups:
            gid = groups[ep.stage, ep.step] = f"g{len(groups)}"
            subj: Fact = {"t": "subj", "role": "warning", "w": gid, **proj}
            if ep.stage is not None:
                subj["stage"] = ep.stage
            if ep.step is not None:
                subj["step"] = ep.step
            subjects.append(subj)
        run.group[ep.w] = groups[ep.stage, ep.step]
    run.assert_facts(subjects)

    warnings: list[Warning] = []
    for ep in kept:
        st = standing[ep.w]
        if st["status"] == "closed" and not include_closed:
            continue
        warnings.append(_warning(plan, run, hist, ep, st, tiers.get(ep.w)))
    warnings.sort(key=lambda w: (pack.rule_order[w.rule], w.subject, w.key))

    # Notices: the sign-off's, then answers that refer to no warning of the project.
    notices += run.notices
    orphan_events = [(keyed[n].warning or "", n) for n in run.orphans]
    for key, n in sorted(orphan_events):
        e = keyed[n]
        notices.append(((2, key, n), f"{e.type} of {e.date.isoformat()} refers to warning {key!r}, which "
                                     "this project does not have; ignored"))
    notices.sort(key=lambda p: p[0])
    return Result(project_id=pid, as_of=day, pack=pack.label, warnings=tuple(warnings),
                  notices=tuple(text for _, text in notices), unknown_years=tuple(sorted(unknown_years)))


def _warning(plan: _Plan, run: _Run, hist: History, ep: _Episode, st: dict[str, Any],
             tier: int | None) -> Warning:
    pack = plan.pack
    spec = pack.spec
    rule = pack.rules[ep.index]
    project = hist.project
    level: Level = st["level"]
    routes = run.routes.get(run.group[ep.w], {})
    units: list[str] = []
    if spec.ladder is not None and tier is not None and "route" in routes:
        units += spec.ladder.routes[routes["route"]].tiers[tier]
    level_def: LevelDef = rule.level_overrides.get(level) or spec.levels[level]
    units += level_def.units
    if "project" in routes:
        units += spec.project_unit[routes["project"]].units
    if ep.stage is not None:
        n = pack.stage_order[ep.stage]
        if f"stage.{n}" in routes:
            units += spec.stages[n].responsible[routes[f"stage.{n}"]].units
    if ep.step is not None:
        n = next(k for k, s in enumerate(spec.steps) if s.name == ep.step)
        if f"step.{n}" in routes:
            units += spec.steps[n].responsible[routes[f"step.{n}"]].units
    since = dt.date.fromordinal(st["since"])
    fields = {
        "project_id": project.id,
        "project_name": project.name or project.id,
        "region": project.region,
        "subject": ep.subject,
        "level_name": level_def.name,
        "action": level_def.action,
        "since": since.isoformat(),
        "due": ep.due.isoformat() if ep.due else ep.info.get("due_text", ""),
        "anchor": ep.anchor.isoformat(),
        "stage": ep.stage or "",
        "limit": str(ep.info.get("limit", "")),
        "count": str(ep.info.get("count", "")),
        "title": rule.title,
    }
    status: Status = st["status"]
    pushes = 0
    cycle = spec.signoff.cycle_days
    if status in ("in_progress", "closure_overdue") and cycle:
        pushes = (run.today - st["cycle"]) // cycle
    return Warning(
        project_id=project.id,
        key=ep.key,
        rule=rule.id,
        subject=ep.subject,
        level=level,
        since=since,
        due=ep.due,
        tier=tier,
        status=status,
        responsible=tuple(dict.fromkeys(units)),
        clause=rule.clause,
        message=rule.message.format_map(fields),
        level_name=level_def.name,
        action=level_def.action,
        stage=ep.stage,
        closed_on=dt.date.fromordinal(st["closed"]) if status == "closed" else None,
        pushes=pushes,
    )


# -- arithmetic: shortfall counts, due days, the cadence grid ----------------------------------


def _shortfall_levels(rule: ShortfallRule, hits: dict[str, int]) -> list[tuple[Level, dt.date]]:
    """The day each level's count of months is reached."""
    out: list[tuple[Level, dt.date]] = []
    if rule.counting == "cumulative":
        days = sorted(hits.values())
        for lv, n in rule.levels.items():
            if len(days) >= n:
                out.append((lv, dt.date.fromordinal(days[n - 1])))
    else:
        # The run of consecutive months ending at each month; a level is reached when a
        # run's last n months are all filed: on the latest of those filings.
        index = {y * 12 + m: hits[p] for p in hits for y, m in [month_of(p)]}
        run_len: dict[int, int] = {}
        for k in sorted(index):
            run_len[k] = run_len.get(k - 1, 0) + 1
        for lv, n in rule.levels.items():
            best: int | None = None
            for k, length in run_len.items():
                if length >= n:
                    when = max(index[k - j] for j in range(n))
                    best = when if best is None or when < best else best
            if best is not None:
                out.append((lv, dt.date.fromordinal(best)))
    return sorted(out, key=lambda p: (p[1], LEVEL_RANK[p[0]]))


def _due(anchor: dt.date, limit: Threshold, cal: Any) -> dt.date:
    """The deadline: the day the limit's last whole unit ends (anchor + n days; the n-th
    working day after the anchor; anchor + n months), or for a fractional or zero limit
    the day before it is exceeded."""
    v = limit.value
    if v.denominator == 1 and v > 0:
        n = v.numerator
        if limit.unit == "days":
            return anchor + dt.timedelta(days=n)
        if limit.unit == "working_days":
            return cal.nth_workday_after(anchor, n)  # type: ignore[no-any-return]
        return add_months(anchor, n)
    return reached_on(anchor, limit.unit, v, cal) - dt.timedelta(days=1)


def _describe(limit: Threshold) -> str:
    unit = {"days": "天", "working_days": "个工作日", "months": "个月"}[limit.unit]
    v = limit.value
    return f"{v.numerator if v.denominator == 1 else float(v):g}{unit}"


def _month_end(year: int, month: int, day: int) -> dt.date:
    first = dt.date(year, month, 1)
    last = (add_months(first, 1) - dt.timedelta(days=1)).day
    return first.replace(day=min(day, last))


def _periods(rule: CadenceRule, start: dt.date, until: dt.date) -> Iterator[tuple[str, dt.date, dt.date]]:
    """(label, reference day, due day) of the periods from the one holding ``start`` whose
    due day is on or before ``until``."""
    one = dt.timedelta(days=1)
    if rule.every == "month":
        cur = start.replace(day=1)
        while True:
            nxt = add_months(cur, 1)
            due = _month_end(nxt.year, nxt.month, rule.due_day)
            if due > until:
                return
            yield f"{cur.year}-{cur.month:02d}", nxt - one, due
            cur = nxt
    elif rule.every == "week":
        monday = start - dt.timedelta(days=start.weekday())
        while True:
            due = monday + dt.timedelta(days=rule.due_day - 1)
            if due > until:
                return
            yield week_label(monday), due, due
            monday += dt.timedelta(days=7)
    elif rule.every == "quarter":
        cur = dt.date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
        while True:
            due = _month_end(cur.year, cur.month, rule.due_day)
            if due > until:
                return
            yield f"{cur.year}-Q{(cur.month - 1) // 3 + 1}", due, due
            cur = add_months(cur, 3)
    else:
        assert rule.due_month is not None
        year = start.year
        while True:
            due = _month_end(year, rule.due_month, rule.due_day)
            if due > until:
                return
            yield str(year + rule.year_offset), due, due
            year += 1

