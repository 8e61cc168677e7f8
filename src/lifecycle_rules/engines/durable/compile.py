"""A pack compiled into a durable-rules ruleset, named by its content and registered
once per process (rulesets are global by name and cannot be redefined or deleted)."""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lifecycle_rules.engines.durable.clock_rules import (
    KIND_RULES,
    _compile_existence,
    _keep,
)
from lifecycle_rules.engines.durable.conditions import _one_of, _tag
from lifecycle_rules.engines.durable.host import DurableEngineError, _host
from lifecycle_rules.engines.durable.plan import _Compiler, _Plan
from lifecycle_rules.engines.durable.warning_rules import (
    _compile_answers,
    _compile_ladder,
    _compile_routing,
    _compile_signoff,
)
from lifecycle_rules.errors import LifecycleRulesError
from lifecycle_rules.pack.compile import Pack

if TYPE_CHECKING:
    from lifecycle_rules.engines.durable.state import _Run

_COMPILER = "1"  # part of every ruleset name: bump when the compiled form changes
_MAX_JOINS = 48  # durable-rules fails past 64 joins entered by one fact type
# Every fact type this engine asserts; each has a sink rule, so none is "not handled".
_TAGS = ("today", "subj", "exit", "done", "began", "entered", "plan", "span", "ev", "report",
         "actual", "period", "clr", "clock", "live", "episode", "ans", "standing", "item",
         "reach", "counted", "stand")

_REGISTERED: dict[str, _Plan] = {}
_NAMES: dict[int, tuple[weakref.ref[Pack], str]] = {}  # id(pack) -> its ruleset name


def _digest(pack: Pack) -> str:
    blob = json.dumps({"spec": pack.spec.model_dump(mode="json"),
                       "parameters": {k: str(v) for k, v in sorted(pack.parameters.items())},
                       "compiler": _COMPILER}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _ruleset_name(pack: Pack) -> str:
    version = "".join(ch if ch.isalnum() else "_" for ch in pack.spec.version)[:40]
    return f"lifecycle_rules_{pack.id}_{version}_{_digest(pack)}"


def _compiled(pack: Pack) -> _Plan:
    """The pack's plan; compiled, and its ruleset registered, the first time its name is
    seen in this process (the caller holds the lock)."""
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


def _compile(pack: Pack, name: str) -> _Plan:
    spec = pack.spec
    comp = _Compiler(pack)
    plan = _Plan(name=name, pack=pack, attr_fields=comp.attr_fields, tags=set(), clocks={},
                 bands={}, durations={}, report_types=set(), amount_types=set(),
                 progress_types=set())

    # Scope, applicability. A rule that needs a parameter with no value (``pack.inactive``)
    # gets no rules at all: it never applies, so it has no clocks and no warnings.
    active = [(i, rule) for i, rule in enumerate(spec.rules) if rule.id not in pack.inactive]
    comp.on_subject("scope", "project", spec.scope, False, None, _in_scope)
    for i, rule in active:
        comp.on_subject(f"applies.{i}", "project", rule.when, False, None, _applies(i))

    for i, rule in active:
        if rule.kind not in KIND_RULES:
            raise DurableEngineError(f"rule {rule.id}: the durable engine has no counterpart for rule "
                                     f"kind {rule.kind!r}")
        KIND_RULES[rule.kind](comp, plan, i, rule)
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

