"""The state of one evaluation: ``_Run`` (what its actions found, by session id, and its
calls into the host) and ``_Episode`` (a clock that became a warning's episode)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lifecycle_rules.core.vocabulary import Level
from lifecycle_rules.engines.durable.host import DurableEngineError, _host
from lifecycle_rules.engines.durable.plan import _Plan

Fact = dict[str, Any]
Notice = tuple[tuple[Any, ...], str]  # (sort key, text)


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
    filed: dict[int, list[tuple[int, int, str, bool]]] = field(default_factory=dict)
    owed: dict[int, list[tuple[str, int, int, str]]] = field(default_factory=dict)
    stay: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)  # (ref, span start, label)
    exists: set[str] = field(default_factory=set)
    kept: set[str] = field(default_factory=set)
    answers: dict[str, list[int]] = field(default_factory=dict)
    orphans: list[int] = field(default_factory=list)
    key_of: dict[str, str] = field(default_factory=dict)
    place: dict[str, tuple[int, int]] = field(default_factory=dict)
    standing: dict[str, dict[str, Any]] = field(default_factory=dict)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)
    consumed: int = 0
    notices: list[Notice] = field(default_factory=list)
    before: dict[str, int] = field(default_factory=dict)
    own: set[str] = field(default_factory=set)
    by_since: dict[str, int] = field(default_factory=dict)
    lifted: dict[str, int] = field(default_factory=dict)
    lost_problems: list[int] = field(default_factory=list)
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

