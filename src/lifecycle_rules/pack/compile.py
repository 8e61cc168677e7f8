"""Loading a rule pack: YAML -> validated ``PackSpec`` -> compiled ``Pack``.

Every error names the file, line, key path and what was expected. Cross-references
(steps, stages, parameters, rule ids, level order) are checked here, once, so the
engine never meets a malformed pack.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lifecycle_rules.core.dates import (
    UNITS,
    Unit,
    WorkCalendar,
    YearSchedule,
    crossing,
    last_day_within,
    parse_fraction,
)
from lifecycle_rules.core.history import ProjectView
from lifecycle_rules.core.vocabulary import CORE_EVENT_TYPES, LEVEL_RANK, Level
from lifecycle_rules.errors import PackError
from lifecycle_rules.pack.spec import (
    MILESTONES,
    Anchor,
    Assignment,
    CadenceRule,
    CalendarYear,
    Condition,
    DeadlineRule,
    Duration,
    EarlyLevel,
    PackSpec,
    ProjectSet,
    Rule,
    ShortfallRule,
    StagnationRule,
    StepDef,
)
from lifecycle_rules.pack.yamlfile import KeyPath, YamlDoc, format_path, load_yaml_file, parse_path

PACK_FILE = "pack.yaml"


@dataclass(frozen=True)
class Threshold:
    unit: Unit
    value: Fraction


@dataclass(frozen=True)
class Pack:
    """A compiled, validated rule pack. Build one with ``load_pack``."""

    spec: PackSpec
    source: str
    parameters: Mapping[str, int | float | str]
    calendar: WorkCalendar = field(compare=False, repr=False)  # national years over the pack's
    national: WorkCalendar = field(compare=False, repr=False)  # the run's calendar it was compiled with
    counts_working_days: bool = field(compare=False, repr=False)  # may meet a year not known
    step_of: Mapping[str, str] = field(repr=False)
    stage_order: Mapping[str, int] = field(repr=False)
    rule_order: Mapping[str, int] = field(repr=False)
    event_types: frozenset[str] = field(repr=False)
    # Per-rule values computed once (thresholds as exact fractions); a cache, not state.
    memo: dict[tuple[str, Any], Any] = field(default_factory=dict, compare=False, repr=False)
    _after: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    _steps: dict[str, StepDef] = field(default_factory=dict, compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def label(self) -> str:
        return f"{self.spec.id}@{self.spec.version}"

    @property
    def rules(self) -> list[Rule]:
        return self.spec.rules

    def rule(self, rule_id: str) -> Rule:
        return self.spec.rules[self.rule_order[rule_id]]

    def number(self, value: int | float | str) -> Fraction:
        """A rule value: a number, a fraction ``1/6`` or ``$name`` of a parameter."""
        if isinstance(value, str) and value.startswith("$"):
            value = self.parameters[value[1:]]
        return parse_fraction(value)

    def duration(self, spec: Duration | EarlyLevel) -> Threshold:
        for unit in UNITS:
            raw = getattr(spec, unit)
            if raw is not None:
                return Threshold(unit, self.number(raw))
        raise ValueError("no duration given")  # unreachable: the schema requires one

    def stages_after(self, step: str) -> tuple[str, ...]:
        """The stages after any stage this step enters (passing them implies the step)."""
        after = self._after
        out = after.get(step)
        if out is None:
            found: list[str] = []
            for order, st in enumerate(self.spec.stages):
                if step in (self.step_of[s] for s in st.entered_by.completed):
                    found += [later.name for later in self.spec.stages[order + 1:]]
            out = after[step] = tuple(dict.fromkeys(found))
        return out

    def stage_entry_steps(self) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
        """Each stage with the (canonical) steps whose completion, or start, enters it."""
        out = self.memo.get(("entries", ""))
        if out is None:
            out = tuple(
                (st.name, tuple(self.step_of[s] for s in st.entered_by.completed),
                 tuple(self.step_of[s] for s in st.entered_by.started))
                for st in self.spec.stages
            )
            self.memo[("entries", "")] = out
        return out

    def step_def(self, name: str) -> StepDef:
        """The definition of a step by its canonical name."""
        steps = self._steps
        if not steps:
            steps.update((s.name, s) for s in self.spec.steps)
        return steps[name]

    def with_parameters(self, overrides: Mapping[str, Any]) -> Pack:
        """The same pack with some parameters set (a deployment's or a fixture's values)."""
        if not overrides:
            return self
        unknown = set(overrides) - set(self.spec.parameters)
        if unknown:
            raise PackError(f"unknown parameter(s) {sorted(unknown)}", pack=self.id)
        return compile_pack(self.spec, self.source, {**self.parameters, **overrides}, self.national)

    def with_calendar(self, national: WorkCalendar) -> Pack:
        """The same pack on a run's calendar (its years first; the pack's own ``calendar:``
        years only where the run's calendar has none). Compiled once per calendar."""
        if national == self.national:
            return self
        key = ("calendar", national)
        pack: Pack | None = self.memo.get(key)
        if pack is None:
            pack = self.memo[key] = compile_pack(self.spec, self.source, self.parameters, national)
        return pack


ANY_STAGE = "\x00any"


def matches(cond: Condition | None, project: ProjectView, stage: str | None = ANY_STAGE) -> bool:
    """Does the condition hold for this project (in this stage; by default any stage)?"""
    if cond is None:
        return True
    if cond.sectors is not None and project.sector not in cond.sectors:
        return False
    if cond.exclude_sectors is not None and project.sector in cond.exclude_sectors:
        return False
    if cond.in_development_zone is not None and project.in_development_zone != cond.in_development_zone:
        return False
    if cond.investment_wan is not None:
        inv = project.investment_wan
        if inv is None:
            return False
        rng = cond.investment_wan
        if rng.min is not None and inv < rng.min:
            return False
        if rng.below is not None and inv >= rng.below:
            return False
    if cond.stages is not None and stage != ANY_STAGE and stage not in cond.stages:
        return False
    if cond.attributes:
        for name, want in cond.attributes.items():
            if project.attributes.get(name) != want:
                return False
    return True


def assigned(assignments: Iterable[Assignment], project: ProjectView, stage: str | None) -> list[str]:
    for a in assignments:
        if matches(a.when, project, stage):
            return list(a.units)
    return []


def load_pack_dir(directory: str | Path, parameters: Mapping[str, Any] | None = None,
                  calendar: WorkCalendar | None = None) -> Pack:
    """Load ``<directory>/pack.yaml``, on ``calendar`` (default: the years chinesecalendar
    knows; ``calendars.national()`` adds installed calendar packages and files)."""
    d = Path(directory)
    file = d / PACK_FILE
    if not file.is_file():
        raise PackError(f"no {PACK_FILE} in this directory", file=str(d))
    doc = load_yaml_file(file)
    spec = validate_spec(doc)
    try:
        pack = compile_pack(spec, str(d), None, calendar)
    except PackError as exc:
        raise _locate(exc, doc) from None
    if parameters:
        pack = pack.with_parameters(parameters)
    return pack


def validate_spec(doc: YamlDoc) -> PackSpec:
    return validate_doc(PackSpec, doc, "pack")


_M = TypeVar("_M", bound=BaseModel)


def validate_doc(model: type[_M], doc: YamlDoc, what: str) -> _M:
    """``doc`` as ``model``; the first problem as a PackError with file, line, key path."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        path = _data_path(doc.data, tuple(err["loc"]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key (not part of the {what} format; see docs/pack-format.md)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and not isinstance(err["input"], dict | list):
            msg = f"{msg}; got {err['input']!r}"
        more = exc.error_count() - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise PackError(msg, file=doc.file, line=doc.line_of(path), path=format_path(path)) from None


def _data_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """pydantic's loc may hold union tags ('deadline'); keep only keys found in the data."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(str(part))  # mapping keys as the YAML text has them (2027:, 1:)
            cur = cur[part]
        elif isinstance(cur, dict) and str(part) in cur:
            out.append(str(part))
            cur = cur[str(part)]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict | list) and (
            isinstance(part, str) and ("[" in part or part in ("deadline", "stagnation",
                                       "shortfall", "cadence", "function-after", "str", "int"))
        ):
            continue
        else:
            out.append(part)
            break
    return tuple(out)


def _locate(exc: PackError, doc: YamlDoc) -> PackError:
    if exc.file is not None or exc.path is None:
        return exc
    line = doc.line_of(parse_path(exc.path))
    return PackError(exc.detail, file=doc.file, line=line, path=exc.path, pack=exc.pack)


def _err(path: str, message: str) -> PackError:
    return PackError(message, path=path)


def compile_pack(spec: PackSpec, source: str, parameters: Mapping[str, Any] | None,
                 national: WorkCalendar | None = None) -> Pack:
    params: dict[str, int | float | str] = {k: p.default for k, p in spec.parameters.items()}
    if parameters:
        params.update(parameters)

    step_of: dict[str, str] = {}
    for i, step in enumerate(spec.steps):
        for name in (step.name, *step.aliases):
            if name != name.strip():
                raise _err(f"steps[{i}]", f"name or alias {name!r} starts or ends with whitespace, "
                           "which histories never have (their text is stripped)")
            if name in step_of and step_of[name] != step.name:
                raise _err(f"steps[{i}]", f"name or alias {name!r} is already used by step "
                           f"{step_of[name]!r}")
            step_of[name] = step.name
    canonical = {s.name for s in spec.steps}
    if len(canonical) != len(spec.steps):
        raise _err("steps", "two steps have the same name")
    for word in MILESTONES:
        target = spec.milestones.get(word)
        if target is None:
            raise _err("milestones", f"milestone word {word!r} must map to a step "
                       f"(every pack accepts {', '.join(MILESTONES)})")
        if target not in canonical:
            raise _err(f"milestones.{word}", f"unknown step {target!r}")
        if word in step_of and step_of[word] != target:
            raise _err(f"milestones.{word}", f"{word!r} is already an alias of {step_of[word]!r}")
        step_of[word] = target
    extra = set(spec.milestones) - set(MILESTONES)
    if extra:
        raise _err("milestones", f"only the six milestone words are allowed; got {sorted(extra)}")

    stage_order = {s.name: i for i, s in enumerate(spec.stages)}
    if len(stage_order) != len(spec.stages):
        raise _err("stages", "two stages have the same name")
    for i, st in enumerate(spec.stages):
        for j, name in enumerate([*st.entered_by.completed, *st.entered_by.started]):
            if name not in step_of:
                raise _err(f"stages[{i}].entered_by", f"unknown step {name!r} (entry {j})")
    if spec.initial_stage is not None and spec.initial_stage not in stage_order:
        raise _err("initial_stage", f"unknown stage {spec.initial_stage!r}")

    def check_stages(path: str, names: Iterable[str] | None) -> None:
        for name in names or ():
            if name not in stage_order:
                raise _err(path, f"unknown stage {name!r}; the pack's stages are "
                           f"{list(stage_order)}")

    def check_condition(path: str, cond: Condition | None) -> None:
        if cond is not None:
            check_stages(f"{path}.stages", cond.stages)

    def check_assignments(path: str, items: list[Assignment]) -> None:
        for k, a in enumerate(items):
            check_condition(f"{path}[{k}].when", a.when)

    if spec.scope is not None and spec.scope.stages is not None:
        raise _err("scope.stages", "a pack's scope is about the project, not its stage; "
                   "put stages on the rules")
    check_condition("scope", spec.scope)
    check_assignments("project_unit", spec.project_unit)
    for i, step in enumerate(spec.steps):
        check_assignments(f"steps[{i}].responsible", step.responsible)
    for i, st in enumerate(spec.stages):
        check_assignments(f"stages[{i}].responsible", st.responsible)
    if spec.ladder is not None:
        for i, route in enumerate(spec.ladder.routes):
            check_condition(f"ladder.routes[{i}].when", route.when)

    event_types = CORE_EVENT_TYPES | set(spec.event_types)
    national = national if national is not None else WorkCalendar()
    pack = Pack(
        spec=spec,
        source=source,
        parameters=params,
        calendar=national.over(pack_years(spec, source)),
        national=national,
        counts_working_days=_counts_working_days(spec.model_dump(include={"rules"})),
        step_of=step_of,
        stage_order=stage_order,
        rule_order={r.id: i for i, r in enumerate(spec.rules)},
        event_types=frozenset(event_types),
    )

    rate_ids: set[str] = set()
    for i, rate in enumerate(spec.rates):
        if rate.id in rate_ids:
            raise _err(f"rates[{i}].id", f"duplicate rate id {rate.id!r}")
        rate_ids.add(rate.id)
        for side in ("numerator", "denominator"):
            part = getattr(rate, side)
            if isinstance(part, ProjectSet):
                _check_step(pack, f"rates[{i}].{side}.step_completed", part.step_completed)
            elif part.report not in pack.event_types:
                raise _err(f"rates[{i}].{side}.report", f"unknown event type {part.report!r}")

    seen: dict[str, int] = {}
    for i, rule in enumerate(spec.rules):
        path = f"rules[{i}]"
        if rule.id in seen:
            raise _err(f"{path}.id", f"duplicate rule id {rule.id!r} (first at rules[{seen[rule.id]}])")
        seen[rule.id] = i
        for level in rule.level_overrides:
            if level not in rule.levels:
                raise _err(f"{path}.level_overrides.{level}", f"the rule has no {level} level")
        for level in _levels_of(rule):
            if level not in spec.levels:
                raise _err(f"{path}.levels.{level}", f"level {level!r} is not declared in "
                           "the pack's levels (give its local name there)")
        check_condition(f"{path}.when", rule.when)
        try:
            _check_rule(pack, rule, path, check_stages)
        except KeyError as exc:
            raise _err(path, f"unknown parameter {exc.args[0]!r} (declare it under parameters)") from None
        except ValueError as exc:
            raise _err(path, str(exc)) from None
    return pack


def _levels_of(rule: Rule) -> list[Level]:
    return list(rule.levels)


def pack_years(spec: PackSpec, source: str) -> dict[int, YearSchedule]:
    """The years a pack's ``calendar:`` gives, checked like a calendar file's."""
    return schedule_years(spec.calendar, f"pack {spec.id} ({source})", "calendar.")


def schedule_years(years: Mapping[int, CalendarYear], origin: str, prefix: str = "") -> dict[int, YearSchedule]:
    """Validated years (a calendar file's, or a pack's ``calendar:``) as schedules; the
    first contradiction as a PackError at its key path (``2027.workdays``)."""
    out: dict[int, YearSchedule] = {}
    for year, cy in sorted(years.items()):
        sched = YearSchedule(year, frozenset(cy.holidays), frozenset(cy.workdays), cy.source, origin)
        for key, day, message in sched.problems():
            index = (cy.holidays if key == "holidays" else cy.workdays).index(day)
            raise _err(f"{prefix}{year}.{key}[{index}]", message)
        out[year] = sched
    return out


def _counts_working_days(data: Any) -> bool:
    """Does any duration of the rules count working days?"""
    if isinstance(data, dict):
        return data.get("working_days") is not None or any(_counts_working_days(v) for v in data.values())
    if isinstance(data, list):
        return any(_counts_working_days(v) for v in data)
    return False


def _check_step(pack: Pack, path: str, name: str | None) -> None:
    if name is not None and name not in pack.step_of:
        raise _err(path, f"unknown step {name!r}; steps and aliases are {sorted(pack.step_of)}")


def _check_anchor(pack: Pack, path: str, anchor: Anchor, star: str | None = None) -> None:
    for k in ("step_completed", "step_started"):
        name = getattr(anchor, k)
        if name != star:
            _check_step(pack, f"{path}.{k}", name)
    if anchor.stage_entered is not None and anchor.stage_entered not in pack.stage_order:
        raise _err(f"{path}.stage_entered", f"unknown stage {anchor.stage_entered!r}")


def _day_span(t: Threshold) -> tuple[Fraction, Fraction]:
    """The fewest and most calendar days a threshold can be, whatever the anchor: a
    month is 28 to 31 days; a working day at least one day, and the longest official
    holiday runs (Spring Festival, National Day) add at most about 10 days a year."""
    v = t.value
    if t.unit == "days":
        return v, v
    if t.unit == "months":
        return v * 28, v * 31 + 3
    return v, v * Fraction(7, 5) + 12 * (1 + v // 250)


def _ordered(path: str, thresholds: dict[Level, Threshold]) -> None:
    """Levels must come in order in time: yellow before orange before red. In one unit
    that is exact; across units, a level that always comes after the next one is an
    error (one that only may, for some anchors, is left to the engine, which never lets
    a level fall)."""
    ranked = sorted(thresholds.items(), key=lambda kv: LEVEL_RANK[kv[0]])
    for (lo, a), (hi, b) in pairwise(ranked):
        same = a.unit == b.unit
        if (a.value >= b.value) if same else (_day_span(a)[0] > _day_span(b)[1]):
            raise _err(f"{path}.levels", f"{hi} must come after {lo} "
                       f"({hi} at {b.value} {b.unit}, {lo} at {a.value} {a.unit})")


def deadline_thresholds(pack: Pack, rule: DeadlineRule, limit: Threshold) -> dict[Level, Threshold]:
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


def deadline_limits(pack: Pack, rule: DeadlineRule) -> list[tuple[float | None, Threshold]]:
    """(exclusive investment bound, red limit) pairs; one pair with bound None if no bands."""
    lim = rule.limit
    if lim.by_investment is None:
        return [(None, pack.duration(Duration(days=lim.days, working_days=lim.working_days,
                                              months=lim.months)))]
    return [(band.below, pack.duration(band)) for band in lim.by_investment]


@dataclass(frozen=True)
class Band:
    """A deadline's compiled limit for one investment band."""

    below: float | None
    limit: str                                         # in words, for messages: 90天
    due: Callable[[dt.date], dt.date]                  # anchor -> last day within the limit
    levels: tuple[tuple[Level, Callable[[dt.date], dt.date]], ...]
    ordered: bool                                      # levels already in date order


def deadline_plan(pack: Pack, rule: DeadlineRule) -> list[Band]:
    """The rule's bands with their level crossings, compiled once per pack."""
    key = ("deadline", rule.id)
    plan = pack.memo.get(key)
    if plan is None:
        plan = []
        for below, lim in deadline_limits(pack, rule):
            ths = deadline_thresholds(pack, rule, lim)
            ranked = sorted(ths.items(), key=lambda kv: (kv[1].value, LEVEL_RANK[kv[0]]))
            same_unit = len({t.unit for t in ths.values()}) == 1
            plan.append(Band(
                below=below,
                limit=describe(lim),
                due=last_day_within(lim.unit, lim.value, pack.calendar),
                levels=tuple((lv, crossing(t.unit, t.value, pack.calendar)) for lv, t in ranked),
                ordered=same_unit,
            ))
        pack.memo[key] = plan
    return plan


def describe(limit: Threshold) -> str:
    unit = {"days": "天", "working_days": "个工作日", "months": "个月"}[limit.unit]
    v = limit.value
    return f"{v.numerator if v.denominator == 1 else float(v):g}{unit}"


def level_crossings(pack: Pack, rule: StagnationRule | CadenceRule) -> dict[Level, Callable[[dt.date], dt.date]]:
    """Each level's clock of a stagnation or cadence rule, compiled once per pack as a
    deadline's bands are: anchor -> the day the level is reached."""
    key = ("crossings", rule.id)
    out: dict[Level, Callable[[dt.date], dt.date]] | None = pack.memo.get(key)
    if out is None:
        out = {}
        for lv, d in rule.levels.items():
            th = pack.duration(d)
            out[lv] = crossing(th.unit, th.value, pack.calendar)
        pack.memo[key] = out
    return out


def _check_rule(pack: Pack, rule: Rule, path: str, check_stages: Any) -> None:
    if isinstance(rule, DeadlineRule):
        each = rule.for_each_step
        for k, name in enumerate(each or ()):
            _check_step(pack, f"{path}.for_each_step[{k}]", name)
        stars = [f"{part}.{k}" for part, ref in (("anchor", rule.anchor), ("target", rule.target))
                 for k in ("step_completed", "step_started") if getattr(ref, k) == "*"]
        if each is None and stars:
            raise _err(f"{path}.{stars[0]}", "'*' stands for each step of for_each_step, which "
                       "this rule does not have")
        if each is not None and not stars:
            raise _err(f"{path}.for_each_step", "use '*' in anchor or target for the step")
        star = "*" if each is not None else None
        _check_anchor(pack, f"{path}.anchor", rule.anchor, star)
        for field_name in ("step_completed", "step_started"):
            name = getattr(rule.target, field_name)
            if name != star:
                _check_step(pack, f"{path}.target.{field_name}", name)
        for level, spec in rule.levels.items():
            if isinstance(spec, EarlyLevel) and spec.before_limit is not None:
                f = pack.number(spec.before_limit)
                if not 0 < f < 1:
                    raise _err(f"{path}.levels.{level}.before_limit",
                               f"must be a fraction between 0 and 1, got {f}")
        for _, limit in deadline_limits(pack, rule):
            if limit.value < 0:
                raise _err(f"{path}.limit", "a limit cannot be negative")
            thresholds = deadline_thresholds(pack, rule, limit)
            _ordered(path, thresholds)
            limit_level = next(lv for lv, s in rule.levels.items() if s == "limit")
            for level, th in thresholds.items():
                if LEVEL_RANK[level] > LEVEL_RANK[limit_level]:
                    raise _err(f"{path}.levels.{level}",
                               f"{level} cannot come after the limit level {limit_level}")
                if th.value < 0:
                    raise _err(f"{path}.levels.{level}", "threshold before the anchor")
    elif isinstance(rule, StagnationRule):
        check_stages(f"{path}.stages", rule.stages)
        for t in rule.progress:
            if t not in pack.event_types:
                raise _err(f"{path}.progress", f"unknown event type {t!r}")
        _ordered(path, {lv: pack.duration(d) for lv, d in rule.levels.items()})
    elif isinstance(rule, ShortfallRule):
        check_stages(f"{path}.stages", rule.stages)
        if rule.report not in pack.event_types:
            raise _err(f"{path}.report", f"unknown event type {rule.report!r}")
        ranked = sorted(rule.levels.items(), key=lambda kv: LEVEL_RANK[kv[0]])
        for (lo, a), (hi, b) in pairwise(ranked):
            if a >= b:
                raise _err(f"{path}.levels", f"{hi} must need more reports than {lo} ({b} vs {a})")
    elif isinstance(rule, CadenceRule):
        check_stages(f"{path}.stages", rule.stages)
        if rule.report not in pack.event_types:
            raise _err(f"{path}.report", f"unknown event type {rule.report!r}")
        if rule.every == "week" and rule.due_day > 7:
            raise _err(f"{path}.due_day", "for a weekly report, due_day is an ISO weekday 1-7")
        _ordered(path, {lv: pack.duration(d) for lv, d in rule.levels.items()})
