"""What a history says on a day: steps done, the stage timeline, reports, exit.

Built once per project and evaluation date; every rule kind reads from it. Events
after ``as_of`` are not seen. Event order in the input does not matter: events are
sorted by a key of their content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import HistoryError
from .models import EventView, HistoryView

if TYPE_CHECKING:
    from .pack import Pack
    from .packspec import Anchor, Target


@dataclass(frozen=True)
class Span:
    """A stretch of time in one stage: [start, end) (end None: still in it on as_of)."""

    stage: str
    start: dt.date
    end: dt.date | None


def _event_key(pair: tuple[int, EventView]) -> tuple[object, ...]:
    e = pair[1]
    # Every field takes part, a missing value apart from 0 or "", so that no two different
    # events tie and input order never decides anything. Text is stripped: the lean
    # decoder (``structs``) leaves some as written, pydantic strips it.
    return (e.date, e.type, (e.step or "").strip(), (e.period or "").strip(), e.warning or "", e.action or "",
            e.planned_wan is None, e.planned_wan or 0.0, e.actual_wan is None, e.actual_wan or 0.0,
            e.compliant is None, e.compliant is False, e.until or dt.date.min, (e.note or "").strip(),
            (e.source or "").strip())


@dataclass
class Facts:
    history: HistoryView
    as_of: dt.date
    pack: Pack
    events: list[tuple[int, EventView]] = field(default_factory=list)
    completed: dict[str, dt.date] = field(default_factory=dict)
    started: dict[str, dt.date] = field(default_factory=dict)
    spans: list[Span] = field(default_factory=list)
    exit_date: dt.date | None = None
    first_date: dt.date | None = None
    entries: dict[str, dt.date] = field(default_factory=dict)

    @classmethod
    def build(cls, pack: Pack, history: HistoryView, as_of: dt.date) -> Facts:
        f = cls(history=history, as_of=as_of, pack=pack)
        known, step_of = pack.event_types, pack.step_of
        seen: list[tuple[dt.date, str, int, EventView]] = []
        for i, e in enumerate(history.events):
            if e.type not in known:
                raise HistoryError(
                    f"unknown event type {e.type!r} for pack {pack.id}; known: "
                    f"{', '.join(sorted(known))}",
                    project_id=history.project.id, event_index=i, field="type",
                )
            if e.step is not None and e.step not in step_of:
                raise HistoryError(
                    f"unknown step {e.step!r} for pack {pack.id} (its steps, aliases and the "
                    f"milestone words are accepted)", project_id=history.project.id,
                    event_index=i, field="step",
                )
            if e.date <= as_of:
                seen.append((e.date, e.type, i, e))
        # Most histories have no two events of the same day and type: sort on that (the
        # index only to keep tuples from comparing events), and fall back to the full
        # content key only when a tie could let input order decide.
        seen.sort()
        if len({(d, t) for d, t, _, _ in seen}) != len(seen):
            seen.sort(key=lambda q: _event_key((q[2], q[3])))
        events = f.events
        completed, started = f.completed, f.started
        for _, t, i, e in seen:
            events.append((i, e))
            if t == "step_completed":
                step = step_of[e.step]  # type: ignore[index]  # checked by the models
                if step not in completed:
                    completed[step] = e.date
                    if step not in started or started[step] > e.date:
                        # A step completed implies it was started, even if a start came
                        # later in the data.
                        started[step] = e.date
            elif t == "step_started":
                step = step_of[e.step]  # type: ignore[index]
                if step not in started:
                    started[step] = e.date
            elif t == "project_exited" and f.exit_date is None:
                f.exit_date = e.date
        if seen:
            f.first_date = seen[0][0]
        entries = f.entries
        for stage, by_completed, by_started in pack.stage_entry_steps():
            best: dt.date | None = None
            for step in by_completed:
                d = completed.get(step)
                if d is not None and (best is None or d < best):
                    best = d
            for step in by_started:
                d = started.get(step)
                if d is not None and (best is None or d < best):
                    best = d
            if best is not None:
                entries[stage] = best
        f.spans = f._stage_spans()
        return f

    # -- stages -------------------------------------------------------------------------
    def stage_entry(self, stage: str) -> dt.date | None:
        return self.entries.get(stage)

    def _stage_spans(self) -> list[Span]:
        entries = sorted(
            (d, self.pack.stage_order[s.name], s.name)
            for s in self.pack.spec.stages
            if (d := self.stage_entry(s.name)) is not None
        )
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
        for later in self.pack.stages_after(step):
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
