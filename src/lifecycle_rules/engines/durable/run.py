"""One evaluation, step by step (``_evaluate``): each step asserts facts into the run's
session, and the rules' actions record on the ``_Run`` what they decided. The steps:
scope; the history as facts; clocks and episodes (and what days past the known years
of the working-day schedule leave undecided); then, in ``standing``, answers, sign-off,
tiers and the warnings with their units; last the notices, in order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lifecycle_rules.core.dates import add_months, month_of
from lifecycle_rules.core.facts import Facts
from lifecycle_rules.core.gaps import Settled, settle
from lifecycle_rules.core.history import EventView, History, Project
from lifecycle_rules.core.results import Result
from lifecycle_rules.engines.durable.arithmetic import _describe, _due, _level_days, _periods, _shortfall_finds
from lifecycle_rules.engines.durable.conditions import _canon
from lifecycle_rules.engines.durable.plan import _Plan
from lifecycle_rules.engines.durable.standing import _answers, _sign_off, _tiers, _warnings
from lifecycle_rules.engines.durable.state import Fact, Notice, _Episode, _Run
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.spec import CadenceRule, DeadlineRule, ShortfallRule, StagnationRule

_OPEN = 10**8  # the end of an open span, as a day ordinal

Clocks = dict[int, list[tuple[str, Fact]]]  # per rule index: (clock id, clock fact)


def _evaluate(plan: _Plan, run: _Run, hist: History, day: dt.date, include_closed: bool,
              provenance: tuple[str, str]) -> Result:
    """``provenance``: the evaluated pack's id@version and digest (``Pack.digest``), which
    every row and the Result carry (SPEC §4)."""
    pack = plan.pack
    project = hist.project
    pid = project.id
    proj = _project_fields(plan, project)
    label, digest = provenance

    # 0. Scope, the rules that apply, the investment band of banded limits.
    run.assert_facts([{"t": "today", "day": day.toordinal()}, {"t": "subj", "role": "project", **proj}])
    if not run.in_scope:
        clause = f" ({pack.spec.scope_clause})" if pack.spec.scope_clause else ""
        return Result(project_id=pid, as_of=day, pack=label, pack_digest=digest, project_name=project.name,
                      region=project.region,
                      notices=(f"project is outside the pack's scope{clause}; no rule applies",))

    facts = Facts.build(pack, hist, day)
    notices = _extra_field_notices(hist)
    # 1. The history as facts: steps, stages, plan, spans, progress, reports, exit; then
    # the cadence grid, after the reports it looks for.
    run.assert_facts(_history_facts(plan, hist, facts))
    run.assert_facts(_period_facts(pack, run, facts, day))
    # 2. Clocks; durable decides which are episodes.
    made, pending = _clocks(plan, run, facts)
    episodes = _episodes(plan, run, made, pending, pid, notices)
    unknown_years, undecided = _settle_gaps(pack, run, facts, day, episodes, notices)
    # 3. Which answers belong to which warning.
    keyed, project_wide = _answers(run, facts, episodes)
    # 4. Sign-off, one warning after the other.
    standing = _sign_off(run, facts, episodes, undecided, keyed, project_wide)
    # 5. Tiers.
    tiers = _tiers(pack, run, facts, episodes, standing, undecided, notices)
    # 6. Responsible units, and the warnings.
    warnings = _warnings(plan, run, hist, episodes, standing, tiers, proj, include_closed,
                         {"as_of": day, "pack": label, "pack_digest": digest})
    return Result(project_id=pid, as_of=day, pack=label, pack_digest=digest, project_name=project.name,
                  region=project.region, warnings=tuple(warnings),
                  notices=_notice_texts(run, notices, keyed), unknown_years=tuple(sorted(unknown_years)))


def _project_fields(plan: _Plan, project: Project) -> Fact:
    out: Fact = {"sector": project.sector, "zone": bool(project.in_development_zone)}
    if project.investment_wan is not None:
        out["inv"] = float(project.investment_wan)
    for name, fieldname in plan.attr_fields.items():
        if name in project.attributes:
            out[fieldname] = _canon(project.attributes[name], "project")
    return out


# -- 1. facts ----------------------------------------------------------------------------------


def _extra_field_notices(hist: History) -> list[Notice]:
    """Fields of the history, its project, plan or events that the format does not have."""
    notices: list[Notice] = []
    for rank, (part, extra) in enumerate((("history", hist.model_extra), ("project", hist.project.model_extra),
                                          ("plan", hist.plan.model_extra)), start=-3):
        if extra:
            notices.append(((0, rank), f"{part}: field(s) {', '.join(sorted(extra))} are not part of "
                                       "the history format; ignored"))
    for i, ev in enumerate(hist.events):
        if ev.model_extra:
            notices.append(((0, i), f"event {i}: field(s) {', '.join(sorted(ev.model_extra))} are not "
                                    "part of the history format; ignored"))
    return notices


def _history_facts(plan: _Plan, hist: History, facts: Facts) -> list[Fact]:
    """The history as facts: steps, stages, plan, spans, progress, reports, exit."""
    pack = plan.pack
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
            reports += _report_facts(plan, n, e)
    return batch + reports


def _report_facts(plan: _Plan, n: int, e: EventView) -> list[Fact]:
    """A report (the n-th event) as facts: its amounts (if its shortfall compares
    them), then the report."""
    assert e.period is not None
    out: list[Fact] = []
    rep: Fact = {"t": "report", "type": e.type, "period": e.period, "day": e.date.toordinal(), "rn": n,
                 "nc": e.compliant is False}
    if e.planned_wan is not None and e.actual_wan is not None and e.type in plan.amount_types:
        rep["planned"] = float(e.planned_wan)
        out.append({"t": "actual", "rn": n, "value": float(e.actual_wan)})
    try:
        y, mo = month_of(e.period)
    except ValueError:
        pass
    else:
        rep["pend"] = (add_months(dt.date(y, mo, 1), 1) - dt.timedelta(days=1)).toordinal()
    out.append(rep)
    return out


def _period_facts(pack: Pack, run: _Run, facts: Facts, day: dt.date) -> list[Fact]:
    """The cadence grid: each period of each cadence rule that applies, from the one
    holding the project's first day."""
    periods: list[Fact] = []
    if facts.spans:
        for i in sorted(run.applies):
            rule = pack.rules[i]
            if isinstance(rule, CadenceRule):
                for label, ref, due in _periods(rule, facts.spans[0].start, day):
                    periods.append({"t": "period", "i": i, "label": label, "ref": ref.toordinal(),
                                    "due": due.toordinal()})
    return periods


# -- 2. clocks and episodes --------------------------------------------------------------------


def _clocks(plan: _Plan, run: _Run, facts: Facts) -> tuple[Clocks, dict[str, Any]]:
    """The clocks of the rules that apply, asserted: durable decides which are episodes
    (``run.exists``) and which hold in their stage (``run.kept``). Returns each rule's
    clocks, and by clock id what its episode is made of (``pending``)."""
    pack = plan.pack
    clocks: list[Fact] = []
    made: Clocks = {}
    pending: dict[str, Any] = {}
    for i in sorted(run.applies):
        rule = pack.rules[i]
        out = made.setdefault(i, [])
        if isinstance(rule, DeadlineRule):
            out += _deadline_clocks(plan, run, facts, i, pending)
        elif isinstance(rule, StagnationRule):
            out += _stagnation_clocks(plan, run, facts, i, pending)
        elif isinstance(rule, CadenceRule):
            out += _cadence_clocks(plan, run, facts, i, pending)
        elif isinstance(rule, ShortfallRule):
            out += _shortfall_clocks(run, facts, i, rule, pending)
        clocks += [f for _, f in out]
    run.assert_facts(clocks)
    return made, pending


def _deadline_clocks(plan: _Plan, run: _Run, facts: Facts, i: int, pending: dict[str, Any]) -> list[tuple[str, Fact]]:
    out: list[tuple[str, Fact]] = []
    for ck in plan.clocks[i]:
        a = run.anchor.get(ck.w)
        if a is None:
            continue
        anchor = dt.date.fromordinal(a)
        fact: Fact = {"t": "clock", "kind": "d", "i": i, "w": ck.w, "anchor": a}
        stage = facts.stage_at(anchor)
        if stage is not None:
            fact["stage"] = stage
        pending[ck.w] = (ck, anchor, stage)
        out.append((ck.w, fact))
    return out


def _stagnation_clocks(plan: _Plan, run: _Run, facts: Facts, i: int,
                       pending: dict[str, Any]) -> list[tuple[str, Fact]]:
    out: list[tuple[str, Fact]] = []
    for a in sorted(run.sg_anchor.get(i, ())):
        anchor = dt.date.fromordinal(a)
        levels = _level_days(anchor, plan.durations[i], plan.pack.calendar)
        w = f"s{i}@{a}"
        stage = facts.stage_at(anchor)
        fact: Fact = {"t": "clock", "kind": "s", "i": i, "w": w, "anchor": a, "first": levels[0][1].toordinal()}
        if stage is not None:
            fact["stage"] = stage
        pending[w] = (anchor, levels, stage)
        out.append((w, fact))
    return out


def _cadence_clocks(plan: _Plan, run: _Run, facts: Facts, i: int, pending: dict[str, Any]) -> list[tuple[str, Fact]]:
    out: list[tuple[str, Fact]] = []
    left: list[Fact] = []
    owed = sorted(run.owed.get(i, ()), key=lambda p: p[1])
    rule = plan.pack.rules[i]
    if isinstance(rule, CadenceRule) and rule.owed == "first":
        firsts: dict[int, str] = {}
        for _ref, start, label in sorted(run.stay.get(i, ())):
            firsts.setdefault(start, label)  # the first period of each stay
        owed = [item for item in owed if item[0] in firsts.values()]
    for label, ref, due_n, stage in owed:
        due = dt.date.fromordinal(due_n)
        levels = _level_days(due, plan.durations[i], plan.pack.calendar)
        w = f"c{i}#{label}"
        fact: Fact = {"t": "clock", "kind": "c", "i": i, "w": w, "first": levels[0][1].toordinal(), "stage": stage}
        pending[w] = (label, due, levels, stage)
        out.append((w, fact))
        if isinstance(rule, CadenceRule) and rule.ends_with_stage:
            # The stay's end (shared plumbing: Facts' spans) clears what is still owed.
            end = next((sp.end for sp in facts.spans if sp.stage == stage and sp.start.toordinal() <= ref
                        and (sp.end is None or ref < sp.end.toordinal())), None)
            if end is not None:
                run.clears.setdefault(w, set()).add(end.toordinal())
                left.append({"t": "clr", "w": w, "day": end.toordinal()})
    run.assert_facts(left)
    return out


def _shortfall_clocks(run: _Run, facts: Facts, i: int, rule: ShortfallRule,
                      pending: dict[str, Any]) -> list[tuple[str, Fact]]:
    out: list[tuple[str, Fact]] = []
    clears: list[Fact] = []
    for find in _shortfall_finds(rule, run.filed.get(i, [])):
        first = find.levels[0][1]
        stage = facts.stage_at(first)
        w = f"f{i}" if find.month is None else f"f{i}#{find.month}"
        fact: Fact = {"t": "clock", "kind": "f", "i": i, "w": w, "first": first.toordinal()}
        if stage is not None:
            fact["stage"] = stage
        if find.cleared is not None:
            run.clears.setdefault(w, set()).add(find.cleared.toordinal())
            clears.append({"t": "clr", "w": w, "day": find.cleared.toordinal()})
        pending[w] = find, stage
        out.append((w, fact))
    run.assert_facts(clears)
    return out


def _episodes(plan: _Plan, run: _Run, made: Clocks, pending: dict[str, Any], pid: str,
              notices: list[Notice]) -> list[_Episode]:
    """The episodes, in the order the native engine yields them (rule, then time): the
    clocks that exist and hold in their stage. Each gets its order, key and place."""
    pack = plan.pack
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
                levels = _level_days(anchor, band.levels, pack.calendar)
                due = _due(anchor, band.limit, pack.calendar)
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
                find, stage = pending[w]
                subject = rule.subject or "月度投资"
                if find.month is not None:
                    subject = f"{subject} {find.month}"
                episodes.append(_Episode(w, i, 0, f"{pid}/{rule.id}/{subject}", subject, find.anchor,
                                         find.levels, None, stage, None,
                                         {"count": find.count, "period": find.month or ""}))
    for order, ep in enumerate(episodes):
        ep.order = order
        run.key_of[ep.w] = ep.key
        run.place[ep.w] = (ep.index, order)
    return episodes


def _settle_gaps(pack: Pack, run: _Run, facts: Facts, day: dt.date, episodes: list[_Episode],
                 notices: list[Notice]) -> tuple[set[int], dict[str, Settled]]:
    """Days in a year whose working-day schedule is not known: what they still decide
    (shared plumbing, lifecycle_rules.core.gaps). Returns the unknown years and the
    undecided episodes; an undecided episode keeps its answers and gets no standing."""
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
    return unknown_years, undecided


# -- notices -----------------------------------------------------------------------------------


def _notice_texts(run: _Run, notices: list[Notice], keyed: dict[int, EventView]) -> tuple[str, ...]:
    """All notices in order: those of the steps, the sign-off's, then answers that refer
    to no warning of the project."""
    notices += run.notices
    orphan_events = [(keyed[n].warning or "", n) for n in run.orphans]
    for key, n in sorted(orphan_events):
        e = keyed[n]
        notices.append(((2, key, n), f"{e.type} of {e.date.isoformat()} refers to warning {key!r}, which "
                                     "this project does not have; ignored"))
    notices.sort(key=lambda p: p[0])
    return tuple(text for _, text in notices)
