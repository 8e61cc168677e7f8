"""Compiling a validated pack: cross-checks (steps, stages, parameters, rule ids, level
order), then every rule compiled once by its kind (``kinds/``). The result, ``Pack``, is a
frozen value: all a rule needs is computed here, so the engine never meets a malformed
pack and keeps no state. Loading from files is ``load``.

A parameter with no default (``default: null``: a limit the policy does not publish)
that is not set leaves every rule using it *inactive* (``Pack.inactive``): its clock
finds nothing, and nothing is made up for the value. Its structure is checked all the
same (steps, stages, event types ...); what depends on the value is checked when a
deployment sets it (``Pack.with_parameters``).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import msgspec

from lifecycle_rules.core.dates import UNITS, Threshold, WorkCalendar, YearSchedule, parse_fraction
from lifecycle_rules.core.vocabulary import CORE_EVENT_TYPES
from lifecycle_rules.core.wording import cite
from lifecycle_rules.errors import PackError
from lifecycle_rules.kinds import REGISTRY, Clock, Episode
from lifecycle_rules.pack import checks
from lifecycle_rules.pack.parts import MILESTONES, Assignment, Condition, Duration, EarlyLevel
from lifecycle_rules.pack.spec import CalendarYear, PackSpec, ProjectSet, Rule, StepDef

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts

__all__ = ["Pack", "Threshold", "compile_pack", "pack_digest", "pack_years", "schedule_years"]


class _OtherCalendars:
    """The pack compiled on other calendars (``Pack.with_calendar``): a named cache of at
    most ``SIZE`` packs, the least recently used dropped first."""

    SIZE = 4

    def __init__(self) -> None:
        self._packs: OrderedDict[WorkCalendar, Pack] = OrderedDict()

    def get(self, calendar: WorkCalendar, make: Any) -> Pack:
        pack = self._packs.get(calendar)
        if pack is None:
            pack = self._packs[calendar] = make()
            if len(self._packs) > self.SIZE:
                self._packs.popitem(last=False)
        else:
            self._packs.move_to_end(calendar)
        return pack


_VIEWS = frozenset({"inactive", "steps", "after"})  # Pack's fields kept as read-only views


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
    steps: Mapping[str, StepDef] = field(compare=False, repr=False)  # by canonical name
    after: Mapping[str, tuple[str, ...]] = field(compare=False, repr=False)  # step -> later stages
    # each stage with the (canonical) steps whose completion, or start, enters it
    entries: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = field(compare=False, repr=False)
    clocks: tuple[Clock, ...] = field(default=(), compare=False, repr=False)  # one per rule
    # rule id -> the parameters it needs that have no default and are not set (such a
    # rule is inactive: its clock finds nothing); empty when every parameter has a value
    inactive: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}),
                                                    compare=False, repr=False)
    _other_calendars: _OtherCalendars = field(default_factory=_OtherCalendars, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        """What pickling keeps (a Spark or Dask worker gets the compiled pack this way):
        the fields, with read-only views as plain dicts. The rules' clocks (closures with
        their caches, which do not pickle) and the caches (``active``, ``digest``, calendars
        made for other runs) are left behind: the clocks are compiled again on arrival,
        from the same spec, parameters and calendar, as ``load_pack`` compiled them."""
        state = {name: getattr(self, name) for name in self.__dataclass_fields__
                 if name not in ("_other_calendars", "clocks")}
        return {name: dict(value) if isinstance(value, MappingProxyType) else value
                for name, value in state.items()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, MappingProxyType(value) if name in _VIEWS else value)
        object.__setattr__(self, "_other_calendars", _OtherCalendars())
        object.__setattr__(self, "clocks", compiled_clocks(self))

    @property
    def id(self) -> str:
        return self.spec.id

    @cached_property
    def active(self) -> tuple[tuple[int, Rule, Clock, Condition | None, frozenset[str] | None], ...]:
        """The rules evaluation runs, in pack order: (index, rule, its clock, its ``when``,
        the stages ``when`` names or None); inactive rules (``inactive``) find nothing and
        are left out."""
        return tuple((i, rule, clock, rule.when,
                      frozenset(rule.when.stages) if rule.when is not None and rule.when.stages is not None
                      else None)
                     for i, (rule, clock) in enumerate(zip(self.rules, self.clocks, strict=True))
                     if rule.id not in self.inactive)

    @property
    def label(self) -> str:
        return f"{self.spec.id}@{self.spec.version}"

    @cached_property
    def digest(self) -> str:
        """What this pack decides with, as ``sha256:`` and 16 hex digits (SPEC §4's
        ``pack_digest``): worked out once per compiled pack (``pack_digest``)."""
        return pack_digest(self.spec, self.parameters, self.calendar)

    @property
    def document(self) -> str:
        """The policy as a clerk cites it: its document number (建政办函〔2024〕22号) when
        the pack gives one, else its title in 《》."""
        policy = self.spec.policy
        found = re.search(r"\S*〔\d{4}〕\d+号", policy.status)
        return found.group(0) if found else f"《{policy.title}》"

    def cite(self, clause: str) -> str:
        """A rule's clause with the policy's document number in place of its file name."""
        return cite(clause, self.spec.policy.file, self.document)

    @property
    def rules(self) -> list[Rule]:
        return self.spec.rules

    def number(self, value: int | float | str) -> Fraction:
        """A rule value: a number, a fraction ``1/6`` or ``$name`` of a parameter (KeyError
        for one that is not declared, or has no value: no default and not set)."""
        if isinstance(value, str) and value.startswith("$"):
            value = self.parameters[value[1:]]
        return parse_fraction(value)

    def duration(self, spec: Duration | EarlyLevel) -> Threshold:
        """A duration as an exact threshold; ValueError if it is out of range (``checks.MAX_SPAN``)."""
        for unit in UNITS:
            raw = getattr(spec, unit)
            if raw is not None:
                return checks.bounded(Threshold(unit, self.number(raw)))
        raise ValueError("no duration given")  # unreachable: the schema requires one

    def with_parameters(self, overrides: Mapping[str, Any]) -> Pack:
        """The same pack with some parameters set (a deployment's or a fixture's values)."""
        if not overrides:
            return self
        unknown = set(overrides) - set(self.spec.parameters)
        if unknown:
            raise PackError(f"unknown parameter(s) {sorted(unknown)}", pack=self.id)
        try:
            return compile_pack(self.spec, self.source, {**self.parameters, **overrides}, self.national)
        except PackError as exc:
            given = ", ".join(f"{k}={v!r}"[:80] for k, v in overrides.items())
            raise PackError(f"with {given}: {exc}", pack=self.id) from None

    def with_calendar(self, national: WorkCalendar) -> Pack:
        """The same pack on a run's calendar (its years first; the pack's own ``calendar:``
        years only where the run's calendar has none). Compiled once per calendar."""
        if national == self.national:
            return self
        return self._other_calendars.get(
            national, lambda: compile_pack(self.spec, self.source, self.parameters, national))


def compile_pack(spec: PackSpec, source: str, parameters: Mapping[str, Any] | None,
                 national: WorkCalendar | None = None) -> Pack:
    params: dict[str, int | float | str] = {k: p.default for k, p in spec.parameters.items()
                                            if p.default is not None}
    for name, value in (parameters or {}).items():
        if value is None:
            raise checks.err(f"parameters.{name}", "null is not a value: give a number or a fraction "
                             "like 1/6 (a parameter with no default is unset when not given)")
        params[name] = value
    unset = frozenset(spec.parameters) - set(params)
    inactive = {rule.id: needs for rule in spec.rules if (needs := _needs(rule, unset))}

    step_of: dict[str, str] = {}
    for i, step in enumerate(spec.steps):
        for name in (step.name, *step.aliases):
            if name != name.strip():
                raise checks.err(f"steps[{i}]", f"name or alias {name!r} starts or ends with whitespace, "
                           "which histories never have (their text is stripped)")
            if name in step_of and step_of[name] != step.name:
                raise checks.err(f"steps[{i}]", f"name or alias {name!r} is already used by step "
                           f"{step_of[name]!r}")
            step_of[name] = step.name
    canonical = {s.name for s in spec.steps}
    if len(canonical) != len(spec.steps):
        raise checks.err("steps", "two steps have the same name")
    for word in MILESTONES:
        target = spec.milestones.get(word)
        if target is None:
            raise checks.err("milestones", f"milestone word {word!r} must map to a step "
                       f"(every pack accepts {', '.join(MILESTONES)})")
        if target not in canonical:
            raise checks.err(f"milestones.{word}", f"unknown step {target!r}")
        if word in step_of and step_of[word] != target:
            raise checks.err(f"milestones.{word}", f"{word!r} is already an alias of {step_of[word]!r}")
        step_of[word] = target
    extra = set(spec.milestones) - set(MILESTONES)
    if extra:
        raise checks.err("milestones", f"only the six milestone words are allowed; got {sorted(extra)}")

    stage_order = {s.name: i for i, s in enumerate(spec.stages)}
    if len(stage_order) != len(spec.stages):
        raise checks.err("stages", "two stages have the same name")
    for i, st in enumerate(spec.stages):
        for j, name in enumerate([*st.entered_by.completed, *st.entered_by.started]):
            if name not in step_of:
                raise checks.err(f"stages[{i}].entered_by", f"unknown step {name!r} (entry {j})")
    if spec.initial_stage is not None and spec.initial_stage not in stage_order:
        raise checks.err("initial_stage", f"unknown stage {spec.initial_stage!r}")

    def check_condition(path: str, cond: Condition | None) -> None:
        if cond is not None:
            for name in cond.stages or ():
                if name not in stage_order:
                    raise checks.err(f"{path}.stages", f"unknown stage {name!r}; the pack's stages are "
                                     f"{list(stage_order)}")

    def check_assignments(path: str, items: list[Assignment]) -> None:
        for k, a in enumerate(items):
            check_condition(f"{path}[{k}].when", a.when)

    if spec.scope is not None and spec.scope.stages is not None:
        raise checks.err("scope.stages", "a pack's scope is about the project, not its stage; "
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
        inactive=MappingProxyType(inactive),
        steps=MappingProxyType({s.name: s for s in spec.steps}),
        after=MappingProxyType(_stages_after(spec, step_of)),
        entries=tuple((st.name, tuple(step_of[s] for s in st.entered_by.completed),
                       tuple(step_of[s] for s in st.entered_by.started)) for st in spec.stages),
    )

    rate_ids: set[str] = set()
    for i, rate in enumerate(spec.rates):
        if rate.id in rate_ids:
            raise checks.err(f"rates[{i}].id", f"duplicate rate id {rate.id!r}")
        rate_ids.add(rate.id)
        for side in ("numerator", "denominator"):
            part = getattr(rate, side)
            if isinstance(part, ProjectSet):
                checks.step(pack, f"rates[{i}].{side}.step_completed", part.step_completed)
            elif part.report not in pack.event_types:
                raise checks.err(f"rates[{i}].{side}.report", f"unknown event type {part.report!r}")

    seen: dict[str, int] = {}
    for i, rule in enumerate(spec.rules):
        path = f"rules[{i}]"
        if rule.id in seen:
            raise checks.err(f"{path}.id", f"duplicate rule id {rule.id!r} (first at rules[{seen[rule.id]}])")
        seen[rule.id] = i
        for level in rule.level_overrides:
            if level not in rule.levels:
                raise checks.err(f"{path}.level_overrides.{level}", f"the rule has no {level} level")
        for level in rule.levels:
            if level not in spec.levels:
                raise checks.err(f"{path}.levels.{level}", f"level {level!r} is not declared in "
                           "the pack's levels (give its local name there)")
        check_condition(f"{path}.when", rule.when)
        try:
            if rule.id in inactive:
                _check_inactive(pack, rule, path, inactive[rule.id])
            else:
                REGISTRY[rule.kind].check(pack, rule, path)
        except KeyError as exc:
            raise checks.err(path, f"unknown parameter {exc.args[0]!r} (declare it under parameters)") from None
        except ValueError as exc:
            raise checks.err(path, str(exc)) from None
    # Every rule compiled once, now, by its kind: nothing is computed later and kept. An
    # inactive rule is not compiled (its kind would need the missing value): it finds nothing.
    return replace(pack, clocks=compiled_clocks(pack))


def compiled_clocks(pack: Pack) -> tuple[Clock, ...]:
    """Each rule's clock, compiled by its kind (an inactive rule's finds nothing: its kind
    would need the missing value)."""
    return tuple(_inactive_clock if rule.id in pack.inactive else REGISTRY[rule.kind].compile(pack, rule)
                 for rule in pack.spec.rules)


# -- the digest ---------------------------------------------------------------------------------

DIGEST_FORMAT = 1  # part of every digest: bump when what goes in it changes


def pack_digest(spec: PackSpec, parameters: Mapping[str, int | float | str], calendar: WorkCalendar) -> str:
    """``sha256:`` and the first 16 hex digits of the SHA-256 of one canonical JSON text
    (msgspec, every object's keys sorted, no spaces, UTF-8) of:

    - ``pack``: the pack's content, ``spec.model_dump(mode="json")`` (its id, version,
      policy, steps, stages, levels, ladder, rules, rates, parameter declarations, own
      calendar years ...: all of pack.yaml as validated), not where it was read from;
    - ``parameters``: the values in force (defaults and what was set), by name, each a
      number as its exact fraction (``90``, ``90.0`` and ``"180/2"`` are all ``"90"``,
      ``1/6`` stays ``"1/6"``), any other value as ``text:`` and its text;
    - ``calendar``: each year of the working-day schedule the pack was compiled with (the
      run's calendar over the pack's own years): the year, its source (the notice it
      copies) and its content (holidays and make-up workdays, as sorted ISO dates), not
      where the copy came from;
    - ``format``: ``DIGEST_FORMAT``.

    Equal inputs give equal digests in every process and on every machine (no hash
    randomisation, no dict order, no file paths); a different pack version, rule,
    parameter value or calendar year gives another. About a millisecond, once per pack."""
    blob = msgspec.json.encode({
        "format": DIGEST_FORMAT,
        "pack": spec.model_dump(mode="json"),
        "parameters": {name: _canonical(value) for name, value in parameters.items()},
        "calendar": [[year, s.source, sorted(s.holidays), sorted(s.workdays)]
                     for year, s in sorted(calendar.years.items())],
    }, order="sorted")
    return "sha256:" + hashlib.sha256(blob).hexdigest()[:16]


def _canonical(value: int | float | str) -> str:
    try:
        return str(parse_fraction(value))
    except ValueError:
        return f"text:{value}"


# -- rules that need a parameter with no default ------------------------------------------------

_PLACEHOLDER = "1/2"  # a value the structural checks of an inactive rule can compute with


class _NoValue(Exception):
    """A check of an inactive rule asked for the value of a parameter that has none."""


class _Unset(dict[str, int | float | str]):
    """A pack's parameters where asking for an unset one raises ``_NoValue``."""

    def __init__(self, values: Mapping[str, int | float | str], unset: tuple[str, ...]) -> None:
        super().__init__(values)
        self.unset = unset

    def __missing__(self, name: str) -> int | float | str:
        if name in self.unset:
            raise _NoValue(name)
        raise KeyError(name)


def _needs(rule: Rule, unset: frozenset[str]) -> tuple[str, ...]:
    """The unset parameters a rule refers to (``$name`` anywhere in its data), in order."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if value.startswith("$") and value[1:] in unset:
                found.append(value[1:])
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    if unset:
        walk(rule.model_dump())
    return tuple(dict.fromkeys(found))


def _check_inactive(pack: Pack, rule: Rule, path: str, unset: tuple[str, ...]) -> None:
    """The kind's checks of a rule whose parameters have no value yet: with a placeholder
    for each, so a misspelt step or stage fails at load. An error that the placeholder
    may have caused (levels out of order ...) is left for the day the value is set: it
    counts only if the kind raises it before it asks for an unset value."""
    check = REGISTRY[rule.kind].check
    stand_in = {**pack.parameters, **dict.fromkeys(unset, _PLACEHOLDER)}
    try:
        check(replace(pack, parameters=stand_in), rule, path)
    except (PackError, ValueError) as first:
        try:
            check(replace(pack, parameters=_Unset(pack.parameters, unset)), rule, path)
        except _NoValue:
            return
        raise first from None


def _inactive_clock(facts: Facts, notices: list[str]) -> list[Episode]:
    """The clock of an inactive rule: it finds nothing (``Pack.inactive`` says why)."""
    return []


def _stages_after(spec: PackSpec, step_of: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """For each step, the stages after any stage it enters (passing them implies the step)."""
    out: dict[str, tuple[str, ...]] = {}
    for step in {s.name for s in spec.steps}:
        found: list[str] = []
        for order, st in enumerate(spec.stages):
            if step in (step_of[s] for s in st.entered_by.completed):
                found += [later.name for later in spec.stages[order + 1:]]
        out[step] = tuple(dict.fromkeys(found))
    return out


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
            raise checks.err(f"{prefix}{year}.{key}[{index}]", message)
        out[year] = sched
    return out


def _counts_working_days(data: Any) -> bool:
    """Does any duration of the rules count working days?"""
    if isinstance(data, dict):
        return data.get("working_days") is not None or any(_counts_working_days(v) for v in data.values())
    if isinstance(data, list):
        return any(_counts_working_days(v) for v in data)
    return False
