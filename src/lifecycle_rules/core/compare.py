"""Two evaluations of the same histories compared, warning by warning (``lifecycle-rules
diff``): what policy B (another pack, another version, other parameters) adds, removes and
changes against policy A. Pure: two lists of Results in, a ``Diff`` out.

- Projects are paired by ``project_id``; warnings within a project by ``key`` (a key that
  occurs more than once in one result is paired occurrence by occurrence, in order).
- **added**: a key in B's result and not in A's; **removed**: in A's and not in B's;
  **changed**: in both, with a different ``level``, ``since``, ``due``, ``tier``,
  ``status`` or ``responsible`` (``FIELDS``). The wording (``message``, ``clause``,
  ``level_name``, ``action``) is not compared: it differs whenever the texts do, and a
  warning whose words alone differ is the same warning.
- A project evaluated on one side only (B's pack rejected its history, say) is listed in
  ``only_a``/``only_b``, and its warnings are not counted as added or removed.
- The order is A's: project by project, each project's A warnings (removed or changed)
  in A's order, then its added warnings in B's order; then the projects of B only.
- Counts by rule (``by_rule``) and by responsible unit (``by_unit``): a change counts once
  for its rule and once for each unit responsible on either side (old or new).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lifecycle_rules.core.results import ProjectWarning, Result

__all__ = ["FIELDS", "KINDS", "Diff", "WarningChange", "compare"]

FIELDS = ("level", "since", "due", "tier", "status", "responsible")
KINDS = ("added", "removed", "changed")
Kind = Literal["added", "removed", "changed"]
Value = str | int | dt.date | tuple[str, ...] | None


@dataclass(frozen=True)
class WarningChange:
    """One warning that differs: ``a`` is A's (None if added), ``b`` B's (None if removed);
    ``fields`` the compared fields that differ (for an added or removed one, all of them)."""

    kind: Kind
    project_id: str
    key: str
    rule: str
    subject: str
    a: ProjectWarning | None
    b: ProjectWarning | None
    fields: tuple[str, ...]

    def old(self, name: str) -> Value:
        return _value(self.a, name)

    def new(self, name: str) -> Value:
        return _value(self.b, name)

    @property
    def units(self) -> tuple[str, ...]:
        """The units responsible on either side, old first, each once."""
        return tuple(dict.fromkeys([*(self.a.responsible if self.a else ()),
                                    *(self.b.responsible if self.b else ())]))


def _value(w: ProjectWarning | None, name: str) -> Value:
    if w is None:
        return None
    value: Value = getattr(w, name)
    return value


@dataclass(frozen=True)
class Diff:
    """What B changes against A on the same histories."""

    changes: tuple[WarningChange, ...]
    projects: int  # projects evaluated on both sides
    unchanged: int  # warnings equal on both sides (in the compared fields)
    only_a: tuple[str, ...] = ()
    only_b: tuple[str, ...] = ()

    def count(self, kind: Kind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def by_rule(self) -> dict[str, Counter[str]]:
        """Rule -> counts of added, removed and changed, rules in order of first change."""
        out: dict[str, Counter[str]] = {}
        for c in self.changes:
            out.setdefault(c.rule, Counter())[c.kind] += 1
        return out

    def by_unit(self) -> dict[str, Counter[str]]:
        """Responsible unit -> counts of added, removed and changed (a change counts for
        each unit responsible on either side), units in order of first change."""
        out: dict[str, Counter[str]] = {}
        for c in self.changes:
            for unit in c.units:
                out.setdefault(unit, Counter())[c.kind] += 1
        return out


def _keyed(warnings: Sequence[ProjectWarning]) -> dict[tuple[str, int], ProjectWarning]:
    seen: Counter[str] = Counter()
    out: dict[tuple[str, int], ProjectWarning] = {}
    for w in warnings:
        out[(w.key, seen[w.key])] = w
        seen[w.key] += 1
    return out


def _project(a: Result, b: Result) -> tuple[list[WarningChange], int]:
    left, right = _keyed(a.warnings), _keyed(b.warnings)
    changes: list[WarningChange] = []
    same = 0
    for ident, old in left.items():
        new = right.get(ident)
        if new is None:
            changes.append(WarningChange("removed", a.project_id, old.key, old.rule, old.subject, old, None, FIELDS))
            continue
        differ = tuple(name for name in FIELDS if _value(old, name) != _value(new, name))
        if differ:
            changes.append(WarningChange("changed", a.project_id, old.key, old.rule, old.subject, old, new, differ))
        else:
            same += 1
    for ident, new in right.items():
        if ident not in left:
            changes.append(WarningChange("added", b.project_id, new.key, new.rule, new.subject, None, new, FIELDS))
    return changes, same


def compare(a: Sequence[Result], b: Sequence[Result]) -> Diff:
    """What ``b`` (policy B's results) changes against ``a`` (policy A's) on the same
    histories; see the module."""
    right = {r.project_id: r for r in b}
    left_ids = {r.project_id for r in a}
    changes: list[WarningChange] = []
    same = both = 0
    only_a: list[str] = []
    for result in a:
        other = right.get(result.project_id)
        if other is None:
            only_a.append(result.project_id)
            continue
        found, equal = _project(result, other)
        changes += found
        same += equal
        both += 1
    only_b = [r.project_id for r in b if r.project_id not in left_ids]
    return Diff(tuple(changes), both, same, tuple(only_a), tuple(only_b))
