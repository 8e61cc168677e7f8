"""The compiled form of a pack (``_Plan``: its clocks, investment bands, level
durations and the fact types it reads) and the ``_Compiler`` that collects the rules
of its durable-rules ruleset."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lifecycle_rules.core.dates import UNITS
from lifecycle_rules.core.vocabulary import Level
from lifecycle_rules.engines.durable.conditions import Expr, _and, _canon, _expand, _one_of, _op, _tag, _tag_of
from lifecycle_rules.engines.durable.host import DurableEngineError, _action
from lifecycle_rules.errors import LifecycleRulesError
from lifecycle_rules.pack.compile import Pack, Threshold
from lifecycle_rules.pack.spec import Anchor, Condition, Target

if TYPE_CHECKING:
    from lifecycle_rules.engines.durable.state import _Run

_MAX_ATTRIBUTES = 16  # a durable-rules fact has at most 32 properties


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
