"""What a history says on a day: steps done, the stage timeline, reports, exit.

Built once per project and evaluation date; every rule kind reads from it. Events
after ``as_of`` are not seen. Event order in the input does not matter: events are
sorted by a key of their content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple

from lifecycle_rules.core.history import EventView, HistoryView
from lifecycle_rules.errors import HistoryError

if TYPE_CHECKING:
    from lifecycle_rules.pack.compile import Pack
    from lifecycle_rules.pack.spec import Anchor, Target


class Span(NamedTuple):
    """A stretch of time in one stage: [start, end) (end None: still in it on as_of)."""

    stage: str
    start: dt.date
    end: dt.date | None


def _event_key(e: EventView) -> tuple[object, ...]:
    # Every field takes part, a missing value apart from 0 or "", so that no two different
    # events tie and input order never decides anything. Text is stripped: the lean
    # decoder (``structs``) leaves some as written, pydantic strips it.
    return (e.date, e.type, (e.step or "").strip(), (e.period or "").strip(), e.warning or "", e.action or "",
            e.planned_wan is None, e.planned_wan or 0.0, e.actual_wan is None, e.actual_wan or 0.0,
            e.compliant is None, e.compliant is False, e.until or dt.date.min, (e.note or "").strip(),
            (e.source or "").strip(), e.severity or "")


_ANSWERS = frozenset({"disposition", "extension"})
# The event types that mark facts at build time; the rest are read later, if at all.
_MARKING = frozenset({"step_completed", "step_started", "project_exited", "problem_reported"}) | _ANSWERS
_NEVER = dt.date.max


@dataclass(slots=True)
class Facts:
    history: HistoryView
    as_of: dt.date
    pack: Pack
    completed: dict[str, dt.date] = field(default_factory=dict)
    started: dict[str, dt.date] = field(default_factory=dict)
    spans: list[Span] = field(default_factory=list)
    exit_date: dt.date | None = None
    first_date: dt.date | None = None
    entries: dict[str, dt.date] = field(default_factory=dict)
    has_answers: bool = False  # a disposition or extension by as_of
    has_problems: bool = False  # a problem_reported by as_of
    _sorted: list[tuple[int, EventView]] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, pack: Pack, history: HistoryView, as_of: dt.date) -> Facts:
        """One pass over the events: checked against the pack, those by ``as_of`` kept,
        first days of steps done and started taken (min, so input order is moot)."""
        f = cls(history=history, as_of=as_of, pack=pack)
        known, step_of = pack.event_types, pack.step_of
        completed, started = f.completed, f.started
        exit_date: dt.date | None = None
        first = _NEVER
        for i, e in enumerate(history.events):
            t, step = e.type, e.step
            if t not in known:
                raise HistoryError(
                    f"unknown event type {t!r} for pack {pack.id}; known: "
                    f"{', '.join(sorted(known))}",
                    project_id=history.project.id, event_index=i, field="type",
                )
            if step is not None and step not in step_of:
                raise HistoryError(
                    f"unknown step {step!r} for pack {pack.id} (its steps, aliases and the "
                    f"milestone words are accepted)", project_id=history.project.id,
                    event_index=i, field="step",
                )
            d = e.date
            if d > as_of:
                continue
            if d < first:
                first = d
            if t not in _MARKING:
                continue
            if t == "step_completed":
                step = step_of[step]  # type: ignore[index]  # the models require a step
                if step not in completed or d < completed[step]:
                    completed[step] = d
            elif t == "step_started":
                step = step_of[step]  # type: ignore[index]
                if step not in started or d < started[step]:
                    started[step] = d
            elif t == "project_exited":
                if exit_date is None or d < exit_date:
                    exit_date = d
            elif t in _ANSWERS:
                f.has_answers = True
            else:
                f.has_problems = True
        f.exit_date = exit_date
        # A step completed implies it was started, even if a start came later in the data.
        for step, d in completed.items():
            if step not in started or started[step] > d:
                started[step] = d
        if first is not _NEVER:
            f.first_date = first
        entries = f.entries
        for stage, by_completed, by_started in pack.entries:
            best: dt.date | None = None
            for step in by_completed:
                entered = completed.get(step)
                if entered is not None and (best is None or entered < best):
                    best = entered
            for step in by_started:
                entered = started.get(step)
                if entered is not None and (best is None or entered < best):
                    best = entered
            if best is not None:
                entries[stage] = best
        f.spans = f._stage_spans()
        return f

    @property
    def events(self) -> list[tuple[int, EventView]]:
        """(input index, event) of the events by ``as_of``, in date order (sorted when
        first asked for: many packs' rules never need them)."""
        if self._sorted is None:
            as_of = self.as_of
            seen = [(e.date, e.type, i, e) for i, e in enumerate(self.history.events)
                    if e.date <= as_of]
            # Most histories have no two events of the same day and type: sort on that
            # (the index only keeps tuples from comparing events), and fall back to the
            # full content key only when a tie could let input order decide.
            seen.sort()
            if len({(d, t) for d, t, _, _ in seen}) != len(seen):
                ordered: list[tuple[dt.date, str, int, EventView]] = []
                for _, same in groupby(seen, key=itemgetter(0, 1)):  # one day and type
                    run = list(same)
                    if len(run) > 1:
                        run.sort(key=lambda q: _event_key(q[3]))
                    ordered += run
                seen = ordered
            self._sorted = [(i, e) for _, _, i, e in seen]
        return self._sorted

    # -- stages -------------------------------------------------------------------------
    def stage_entry(self, stage: str) -> dt.date | None:
        return self.entries.get(stage)

    def _stage_spans(self) -> list[Span]:
        order_of = self.pack.stage_order
        entries = sorted([(d, order_of[name], name) for name, d in self.entries.items()])
        spans: list[Span] = []
        initial = self.pack.spec.initial_stage
        current: str | None = None
        rank = -1
        start: dt.date | None = None
        if initial is not None and self.first_date is not None:
            first_entry = entries[0][0] if entries else None
            if first_entry is None or self.first_date < first_entry:
                # Assumed until the first recorded entry, whichever stage that enters.
                current, rank, start = initial, -1, self.first_date
        for d, order, name in entries:
            if order <= rank:
                continue  # entering an earlier stage late does not move the project back
            if current is not None and start is not None and d > start:
                spans.append(Span(current, start, d))
            current, rank, start = name, order, d
        if current is not None and start is not None:
            spans.append(Span(current, start, None))
        return spans

    def stage_at(self, day: dt.date) -> str | None:
        found: str | None = None
        for span in self.spans:
            if span.start <= day:
                found = span.stage
            else:
                break
        return found

    # -- steps ----------------------------------------------------------------------------
    def done_on(self, step_name: str) -> dt.date | None:
        """When a step was completed, or passed: a later stage entered implies the step that
        enters an earlier stage is behind the project."""
        step = self.pack.step_of[step_name]
        best = self.completed.get(step)
        for later in self.pack.after.get(step, ()):
            d = self.entries.get(later)
            if d is not None and (best is None or d < best):
                best = d
        return best

    def anchor_date(self, anchor: Anchor) -> dt.date | None:
        if anchor.step_completed is not None:
            return self.completed.get(self.pack.step_of[anchor.step_completed])
        if anchor.step_started is not None:
            return self.started.get(self.pack.step_of[anchor.step_started])
        if anchor.stage_entered is not None:
            return self.stage_entry(anchor.stage_entered)
        plan = self.history.plan
        return {"start": plan.start, "completion": plan.completion,
                "production": plan.production}[anchor.plan or "start"]

    def target_date(self, target: Target) -> dt.date | None:
        if target.step_completed is not None:
            return self.done_on(target.step_completed)
        assert target.step_started is not None
        step = self.pack.step_of[target.step_started]
        started = self.started.get(step)
        done = self.done_on(target.step_started)
        dates = [d for d in (started, done) if d is not None]
        return min(dates) if dates else None

    def of_type(self, event_type: str) -> list[tuple[int, EventView]]:
        return [(i, e) for i, e in self.events if e.type == event_type]
