"""The native engine: ``evaluate`` one history, ``evaluate_many`` a stream of them.

Pure: no I/O, no clock, no globals. Each rule kind yields episodes; here they get
their sign-off standing, tier, responsible units, message and clause.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

from lifecycle_rules.core.dates import WorkCalendar
from lifecycle_rules.core.facts import Facts
from lifecycle_rules.core.gaps import Settled, settle, tier_notice
from lifecycle_rules.core.history import EventView, History, HistoryView, parse_history
from lifecycle_rules.core.lean import HistoryStruct, decode
from lifecycle_rules.core.results import ProjectWarning, Result, as_of_day, trusted
from lifecycle_rules.core.signoff import Standing, standing
from lifecycle_rules.core.vocabulary import LEVEL_RANK
from lifecycle_rules.core.wording import OVERDUE_ACTION, cn_date, cn_period, project_label, status_sentence
from lifecycle_rules.errors import HistoryError, LifecycleRulesError
from lifecycle_rules.kinds import Episode
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.conditions import assigned, matches


@dataclass
class _Raised:
    """A warning a rule raised on this project: its episode and where it stands."""

    rule_index: int
    key: str
    episode: Episode
    standing: Standing


def evaluate(
    pack: Pack,
    history: History | Mapping[str, Any] | str | bytes,
    as_of: dt.date | str,
    *,
    include_closed: bool = False,
    calendar: WorkCalendar | None = None,
) -> Result:
    """The warnings of one project that stand on ``as_of`` (a date in Asia/Shanghai).

    Closed warnings (signed off, condition cleared, project exited) are left out unless
    ``include_closed``; they still count towards the project's tier. ``calendar`` is the
    run's working-day calendar (``load_calendar``); by default the one the pack was
    loaded with. A working-day clock that reaches a year it does not know becomes a
    notice (``calendar: ...``), never a rejected history."""
    day = as_of_day(as_of)
    if calendar is not None:
        pack = pack.with_calendar(calendar)
    return evaluate_on(pack, history, day, include_closed)


def evaluate_on(pack: Pack, history: History | Mapping[str, Any] | str | bytes, day: dt.date,
                include_closed: bool = False) -> Result:
    """``evaluate`` once its day is checked (``as_of_day``) and the pack has the run's
    calendar: what the batch calls, having done both once for the run."""
    # One decode per history: what the lean decoder takes, it takes with the values
    # the models would give (``core/lean.py``), so its errors are theirs.
    return _evaluate(pack, read_history(history), day, include_closed)


def _evaluate(pack: Pack, hist: HistoryView, day: dt.date, include_closed: bool) -> Result:
    project = hist.project
    pid = project.id
    notices: list[str] = []
    if not matches(pack.spec.scope, project):
        clause = f" ({pack.spec.scope_clause})" if pack.spec.scope_clause else ""
        return Result(project_id=pid, as_of=day, pack=pack.label, pack_digest=pack.digest,
                      project_name=project.name, region=project.region,
                      notices=(f"project is outside the pack's scope{clause}; no rule applies",))
    facts = Facts.build(pack, hist, day)
    _extra_fields(hist, notices)
    handling, project_wide = answers(facts)
    found: list[_Raised] = []
    has_answers = facts.has_answers
    gapped = pack.counts_working_days
    unknown_years: set[int] = set()
    undecided: list[tuple[str, Settled]] = []
    signoff = pack.spec.signoff
    exit_date = facts.exit_date
    for index, rule, clock, when, stages in pack.active:
        if when is not None and not matches(when, project):
            continue
        for ep in clock(facts, notices):
            if stages is not None and ep.stage not in stages:
                continue
            key = f"{pid}/{rule.id}/{ep.subject}"
            if ep.keyed_by_anchor:
                key += f"@{ep.anchor.isoformat()}"
            if gapped:
                gap = settled(ep, exit_date, day, rule.id, notices, unknown_years)
                if gap is not None and gap.undecided:
                    undecided.append((rule.id, gap))
                    handling.pop(key, None)  # held for the warning once it can be decided
                    continue
            st = standing(
                ep.levels, cleared=ep.cleared, exit_date=exit_date,
                handling=handling.pop(key, []) + project_wide if has_answers else [],
                signoff=signoff, as_of=day,
                notices=notices, key=key,
            )
            if st is not None:
                found.append(_Raised(index, key, ep, st))
    for key, evs in sorted(handling.items()):
        for e in evs:
            notices.append(f"{e.type} of {e.date.isoformat()} refers to warning {key!r}, which "
                           "this project does not have; ignored")
    tiers = _tiers(pack, found)
    if undecided and pack.spec.ladder is not None:
        said = tier_notice(undecided, pack.spec.ladder.counts, pack.spec.ladder.max_tier)
        if said:
            notices.append(said)
    if facts.has_problems:
        _by_severity(pack, facts, found, tiers, notices)
    label, digest = pack.label, pack.digest  # the provenance of every row (SPEC §4)
    units_of: dict[tuple[Any, ...], tuple[str, ...]] = {}
    shown = project_label(project.name, pid) if found else ""
    warnings = [_warning(pack, hist, f, tiers.get(f.key), day, label, digest, units_of, shown) for f in found
                if include_closed or f.standing.status != "closed"]
    warnings.sort(key=lambda w: (pack.rule_order[w.rule], w.subject, w.key))
    return trusted(Result, {"project_id": pid, "as_of": day, "pack": label, "pack_digest": digest,
                          "project_name": project.name, "region": project.region,
                          "warnings": tuple(warnings), "notices": tuple(notices),
                          "unknown_years": tuple(sorted(unknown_years))})


def answers(facts: Facts) -> tuple[dict[str, list[EventView]], list[EventView]]:
    """The project's answers by ``as_of``, in date order: dispositions and extensions by
    the warning key they name, and the extensions that name none (they cover every warning)."""
    handling: dict[str, list[EventView]] = {}
    project_wide: list[EventView] = []
    for _, e in facts.events if facts.has_answers else ():
        if e.type == "extension" and e.warning is None:
            project_wide.append(e)
        elif e.type in ("disposition", "extension"):
            assert e.warning is not None
            handling.setdefault(e.warning, []).append(e)
    return handling, project_wide


def settled(ep: Episode, exit_date: dt.date | None, day: dt.date, rule_id: str, notices: list[str],
            unknown_years: set[int]) -> Settled | None:
    """The episode's days in years whose working-day schedule is not known, settled
    (``core/gaps.settle``): its notice said and its years noted; when every level can be
    decided, the episode takes the settled levels and due date. None: no day was undated.
    With ``undecided`` levels the caller holds the warning back."""
    stop = min((d for d in (ep.cleared, exit_date) if d is not None), default=None)
    gap = settle(ep.levels, ep.due, stop=stop, as_of=day, rule=rule_id, subject=ep.subject)
    if gap is None:
        return None
    unknown_years.update(gap.years)
    if gap.notice:
        notices.append(gap.notice)
    if not gap.undecided:
        ep.levels, ep.due = gap.levels, gap.due
        if gap.due_text:
            ep.info["due_text"] = gap.due_text
    return gap


def read_history(data: History | Mapping[str, Any] | str | bytes) -> HistoryView:
    """JSON text through the lean decoder when it is valid and plain; all else (and its
    errors and notices) through the pydantic models."""
    if isinstance(data, HistoryStruct):
        return data
    if isinstance(data, str | bytes):
        lean = decode(data)
        if lean is not None:
            return lean
    return parse_history(data)


def _extra_fields(hist: HistoryView, notices: list[str]) -> None:
    if not isinstance(hist, History):
        return  # the lean decoder takes no unknown fields

    def names(extra: dict[str, Any]) -> str:
        shown = ", ".join(n if len(n) <= 40 else n[:37] + "..." for n in sorted(extra)[:10])
        return shown + (f" and {len(extra) - 10} more" if len(extra) > 10 else "")

    for part, model in (("history", hist), ("project", hist.project), ("plan", hist.plan)):
        if model.model_extra:
            notices.append(f"{part}: field(s) {names(model.model_extra)} are not part of the "
                           "history format; ignored")
    for i, e in enumerate(hist.events):
        if e.model_extra:
            notices.append(f"event {i}: field(s) {names(e.model_extra)} are not part of "
                           "the history format; ignored")


def _tiers(pack: Pack, found: list[_Raised]) -> dict[str, int]:
    """Tier from the count of the project's warnings that reached the ladder's level
    (建德 三(五): 1st red -> tier 1, 2nd -> tier 2, 3rd -> tier 3), counted in the order
    they reached it, closed ones included. A warning below that level takes the tier the
    project stood at when it reached its current level (at least 1)."""
    ladder = pack.spec.ladder
    if ladder is None:
        return {}
    counted = ladder.counts
    floor = LEVEL_RANK[counted]

    def reached_at(f: _Raised) -> dt.date | None:
        days = [d for lv, d in f.standing.first_reached.items() if LEVEL_RANK[lv] >= floor]
        return min(days) if days else None

    reached = sorted((d, f.key) for f in found if (d := reached_at(f)) is not None)
    ordinal = {key: n for n, (_, key) in enumerate(reached, start=1)}
    days = [d for d, _ in reached]
    out: dict[str, int] = {}
    for f in found:
        if f.key in ordinal and LEVEL_RANK[f.standing.level] >= floor:
            n = ordinal[f.key]
        else:
            n = bisect.bisect_right(days, f.standing.since)  # those reached by its day
        out[f.key] = max(1, min(ladder.max_tier, n))
    return out


def _by_severity(pack: Pack, facts: Facts, found: list[_Raised], tiers: dict[str, int],
                 notices: list[str]) -> None:
    """Escalation by a recorded judgement (建德 三(五): 第二次预警或复杂问题): each
    problem_reported lifts the warning it names (every warning of the project, if it
    names none) to its severity's tier; a tier is the higher of count and severity."""
    ladder = pack.spec.ladder
    keys = {f.key for f in found}
    lift: dict[str | None, int] = {}
    for _, e in facts.of_type("problem_reported"):
        when = f"problem_reported of {e.date.isoformat()}"
        assert e.severity is not None  # check_event requires it
        if ladder is None:
            notices.append(f"{when}: the pack has no coordination ladder (no tiers); ignored")
        elif not ladder.severity:
            notices.append(f"{when}: the pack's ladder does not escalate by severity; ignored")
        elif e.severity not in ladder.severity:
            notices.append(f"{when}: severity {e.severity!r} is not one of "
                           f"{', '.join(ladder.severity)}; ignored")
        elif e.warning is not None and e.warning not in keys:
            notices.append(f"{when} refers to warning {e.warning!r}, which this project does "
                           "not have; ignored")
        else:
            lift[e.warning] = max(lift.get(e.warning, 0), ladder.severity[e.severity])
    for key in tiers:
        tiers[key] = max(tiers[key], lift.get(None, 0), lift.get(key, 0))


def _warning(pack: Pack, hist: HistoryView, f: _Raised, tier: int | None, day: dt.date, label: str,
             digest: str, units_of: dict[tuple[Any, ...], tuple[str, ...]] | None = None,
             shown: str | None = None) -> ProjectWarning:
    """The warning as ``evaluate`` gives it, with its provenance (SPEC §4): ``day`` (the
    as_of), ``label`` and ``digest`` (``pack.label``, ``pack.digest``: looked up once per
    evaluation by the caller). ``units_of``: the responsible units already worked out for
    this project, by rule, level, tier, stage and step (many warnings of one project share
    them: a missed week each); ``shown``: the project as 名称（代码） (``project_label``), once
    per project."""
    rule = pack.rules[f.rule_index]
    project = hist.project
    ep, st = f.episode, f.standing
    level_def = rule.level_overrides.get(st.level) or pack.spec.levels[st.level]
    which = (f.rule_index, st.level, tier, ep.stage, ep.step)
    if units_of is None:
        units_of = {}
    responsible = units_of.get(which)
    if responsible is None:
        responsible = units_of[which] = _units(pack, project, ep, tier, level_def.units)
    # The message in the office's words (core/wording): dates as 2024年3月2日, the period
    # in words, 名称（代码）, and where the warning stands in its sign-off cycle. Only the
    # fields the rule's message names are worked out.
    info = ep.info
    fields: dict[str, str] = {}
    for name in _message_fields(rule.message):
        if name == "project":
            if shown is None:
                shown = project_label(project.name, project.id)
            fields[name] = shown
        elif name == "since":
            fields[name] = cn_date(st.since)
        elif name == "due":
            fields[name] = cn_date(ep.due) if ep.due else info.get("due_text", "")
        elif name == "period":
            fields[name] = cn_period(str(info.get("period", "")))
        elif name == "level_name":
            fields[name] = level_def.name
        elif name == "action":
            fields[name] = OVERDUE_ACTION if st.status == "closure_overdue" else level_def.action
        elif name == "anchor":
            fields[name] = cn_date(ep.anchor)
        elif name == "subject":
            fields[name] = ep.subject
        elif name in ("limit", "count"):
            fields[name] = str(info.get(name, ""))
        elif name == "project_id":
            fields[name] = project.id
        elif name == "project_name":
            fields[name] = project.name or project.id
        elif name == "region":
            fields[name] = project.region
        elif name == "stage":
            fields[name] = ep.stage or ""
        elif name == "title":
            fields[name] = rule.title
    message = rule.message.format_map(fields)
    if st.status != "open":
        message += status_sentence(st.status, st.pushes, st.closed_on)
    # Built from validated values: no need to validate again (the batch hot path).
    return trusted(ProjectWarning, {
        "project_id": project.id,
        "key": f.key,
        "rule": rule.id,
        "subject": ep.subject,
        "level": st.level,
        "since": st.since,
        "due": ep.due,
        "tier": tier,
        "status": st.status,
        "responsible": responsible,
        "clause": rule.clause,
        "message": message,
        "level_name": level_def.name,
        "action": level_def.action,
        "stage": ep.stage,
        "closed_on": st.closed_on,
        "pushes": st.pushes,
        "as_of": day,
        "pack": label,
        "pack_digest": digest,
    })


def _units(pack: Pack, project: Any, ep: Episode, tier: int | None,
           level_units: Sequence[str]) -> tuple[str, ...]:
    """Who must act: the ladder's tier, the level's units, the project's, the stage's and
    the step's, in that order, each once."""
    units: list[str] = []
    if pack.spec.ladder is not None and tier is not None:
        for route in pack.spec.ladder.routes:
            if matches(route.when, project, ep.stage):
                units += route.tiers[tier]
                break
    units += level_units
    units += assigned(pack.spec.project_unit, project, ep.stage)
    if ep.stage is not None:
        stage_spec = pack.spec.stages[pack.stage_order[ep.stage]]
        units += assigned(stage_spec.responsible, project, ep.stage)
    if ep.step is not None:
        step_spec = pack.steps[ep.step]
        units += assigned(step_spec.responsible, project, ep.stage)
    return tuple(dict.fromkeys(units))


@functools.lru_cache(maxsize=4096)
def _message_fields(message: str) -> tuple[str, ...]:
    """The distinct field names ``message`` formats, in order of first use (the pack's
    checks allow only the names of ``pack.parts.MESSAGE_FIELDS``, each plain)."""
    names = [name for _, name, _, _ in string.Formatter().parse(message) if name]
    return tuple(dict.fromkeys(names))


@overload
def evaluate_many(pack: Pack, histories: Iterable[Any], as_of: dt.date | str, *,
                  on_error: Literal["raise"] = "raise",
                  include_closed: bool = False, calendar: WorkCalendar | None = None) -> Iterator[Result]: ...
@overload
def evaluate_many(pack: Pack, histories: Iterable[Any], as_of: dt.date | str, *,
                  on_error: Literal["return"],
                  include_closed: bool = False,
                  calendar: WorkCalendar | None = None) -> Iterator[Result | LifecycleRulesError]: ...
def evaluate_many(
    pack: Pack,
    histories: Iterable[Any],
    as_of: dt.date | str,
    *,
    on_error: Literal["raise", "return"] = "raise",
    include_closed: bool = False,
    calendar: WorkCalendar | None = None,
) -> Iterator[Result] | Iterator[Result | LifecycleRulesError]:
    """Stream one Result per history, in input order. With ``on_error="return"`` a bad
    history yields its HistoryError in its place, and the stream goes on."""
    day = as_of_day(as_of)
    if calendar is not None:
        pack = pack.with_calendar(calendar)

    def gen() -> Iterator[Any]:
        for h in histories:
            try:
                yield evaluate(pack, h, day, include_closed=include_closed)
            except HistoryError as exc:
                if on_error == "raise":
                    raise
                yield exc

    return gen()
