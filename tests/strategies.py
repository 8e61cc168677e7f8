"""Hypothesis strategies: realistic project histories for a rule pack (SPEC §3).

``histories(pack_id)`` draws one project's history as a plain JSON-ready dict, the way
exports look: a project in or out of the pack's scope, with or without an investment
(values across 建德's 18/24/36-month bands, their exact bounds included), the pack's
steps in lifecycle order with non-decreasing dates (named by canonical names, aliases
or the milestone words), progress notes, monthly reports filed early the next month
(shortfalls, non-compliant dispatches, corrections filed later), a few weekly reports,
dispositions and extensions referring to warning keys of the SPEC's format
``{project_id}/{rule_id}/{subject}`` (mostly plausible ones, some the project cannot
have), and now and then a project exit.

Every date of a drawn history, and every drawn ``as_of``, lies between ``FIRST_DAY`` and
``LAST_DAY``, inside the years the working-day schedule knows. Evaluation dates are
drawn near the pack's level thresholds after the day each clock starts, so level
boundaries get hit (the day before and the day of).

The strategies read only the pack's published vocabulary through ``load_pack`` (steps,
aliases, milestone words, rule ids, subjects, limits and the sign-off cycle), never the
engine, so a second engine's differential tests can reuse them as they are:

    from strategies import cases, histories
    @given(case=cases("jiande"))
    def test_same_as_native(case): history, as_of = case; ...

Public: ``histories``, ``cases``, ``evaluation_dates``, ``later_events``,
``warning_keys``, ``vocabulary``, ``FIRST_DAY``, ``LAST_DAY``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeVar, get_args

from hypothesis import strategies as st

from lifecycle_rules import Pack, load_pack
from lifecycle_rules.core.dates import UNITS
from lifecycle_rules.core.vocabulary import Sector

# The rule kinds these strategies draw histories for (tests/test_kinds.py: every kind).
KINDS_DRAWN = ("deadline", "stagnation", "shortfall", "cadence")
SEVERITIES = ("一般", "复杂", "重大", "严重")  # the last one no pack knows

FIRST_DAY = dt.date(2022, 7, 1)
LAST_DAY = dt.date(2026, 11, 30)  # latest event date and as_of: 2026 is the last known year
SECTORS: tuple[str, ...] = get_args(Sector)
ACTIONS = ("in_progress", "no_action_needed", "completed", "project_exited")
ANSWERS = ("in_progress", "completed", "in_progress", "no_action_needed", "project_exited")
# 建德 五.2 bands (below 1亿 / 1-5亿 / 5-10亿 / 10亿以上) and the values either side.
INVESTMENT_EDGES = (10000, 50000, 100000, 9999, 9999.5, 10001, 49999, 50001, 99999.99, 100001)
NAMES = ("年产5万吨新材料项目", "食品产业园项目", "", "城区污水管网改造工程", "新能源汽车零部件项目")
PROGRESS_NOTES = ("完成项目可研编制", "召开项目推进会", "完成设备招标", "主体结构封顶", "土地平整完成")
PREFIXES = {"jiande": "JD", "luohe": "LH", "tongjiang": "TJ", "wushan": "WS", "jiangyin": "JY"}
REGIONS = ("", "下涯镇", "新安江街道", "源陵区", "召陵区", "经济技术开发区")
EVENT_TYPES = ("step_completed", "step_started", "progress", "monthly_report", "weekly_report",
               "disposition", "extension", "project_exited")
DAY = dt.timedelta(days=1)
T = TypeVar("T")


# -- the pack's vocabulary -------------------------------------------------------------------


@dataclass(frozen=True)
class RuleInfo:
    """What a history needs to know of one rule: its warnings' subjects (a stagnation
    warning's key also carries its clock's start, ``@YYYY-MM-DD``), what starts its clock
    if the rule names it (a step completed or started, a plan date), and its level
    thresholds in approximate calendar days."""

    rule_id: str
    kind: str
    subjects: tuple[str, ...]
    keyed_by_anchor: bool
    step: str | None
    started: bool
    plan: str | None
    days: tuple[int, ...]
    by_month: bool = False  # a shortfall per period or per run: its subject ends in a month


@dataclass(frozen=True)
class Vocabulary:
    """What a pack lets a history say."""

    pack_id: str
    steps: tuple[str, ...]  # canonical step names, in lifecycle order
    names: dict[str, tuple[str, ...]]  # step -> every name for it (canonical first)
    rules: tuple[RuleInfo, ...]
    prefix: str  # project id prefix, e.g. JD
    start_step: str  # the step the milestone word 开工 means: monthly reports follow it
    pushes: tuple[int, ...]  # days after 正在办理 the sign-off cycle pushes (建德: 30 ... 150)


@functools.cache
def vocabulary(pack_id: str) -> Vocabulary:
    pack = load_pack(pack_id)
    spec = pack.spec
    steps = tuple(s.name for s in spec.steps)
    names: dict[str, list[str]] = {s: [s] for s in steps}
    for s in spec.steps:
        names[s.name] += [a for a in s.aliases if a != s.name]
    for word, target in spec.milestones.items():
        canonical = pack.step_of[target]
        if word not in names[canonical]:
            names[canonical].append(word)
    return Vocabulary(
        pack_id=pack_id,
        steps=steps,
        names={k: tuple(v) for k, v in names.items()},
        # A rule that needs a limit the pack does not give is inactive: no warning to answer.
        rules=tuple(_rule_info(pack, rule) for rule in pack.rules
                    if not getattr(pack, "inactive", {}).get(rule.id)),
        prefix=PREFIXES.get(pack_id, pack_id[:2].upper()),
        start_step=pack.step_of["开工"],
        pushes=_push_days(pack),
    )


_DAYS_PER = {"days": Fraction(1), "working_days": Fraction(7, 5), "months": Fraction(3044, 100)}


def _rule_info(pack: Pack, rule: Any) -> RuleInfo:
    """Read from the rule spec (limits, 1/6-earlier levels, stagnation and cadence
    durations; ``$parameters`` resolved by the pack), not from the engine."""

    def durations(spec: Any) -> list[tuple[str, Fraction]]:
        return [(u, pack.number(getattr(spec, u))) for u in UNITS
                if getattr(spec, u, None) is not None]

    def days(unit: str, value: Fraction) -> int:
        return round(value * _DAYS_PER[unit])

    found: set[int] = set()
    levels = getattr(rule, "levels", {})
    step: str | None = None
    started = keyed = False
    plan: str | None = None
    if rule.kind == "deadline":
        each = rule.for_each_step
        target = rule.target.step_completed or rule.target.step_started
        if each:  # "*" stands for each listed step; the clock info follows the first
            subjects = [pack.step_of[s] for s in each]
            target = each[0] if target == "*" else target
        else:
            subjects = [rule.subject or pack.step_of[target]]
        name = rule.anchor.step_completed or rule.anchor.step_started
        if each and name == "*":
            name = each[0]
        step, started = (pack.step_of[name] if name else None), bool(rule.anchor.step_started)
        plan = rule.anchor.plan
        lim = rule.limit
        limits = ([d for band in lim.by_investment for d in durations(band)]
                  if lim.by_investment else durations(lim))
        for unit, value in limits:
            found.add(days(unit, value))
            for level in levels.values():
                if level == "limit":
                    continue
                if level.before_limit is not None:
                    found.add(days(unit, value * (1 - pack.number(level.before_limit))))
                found.update(days(u, v) for u, v in durations(level))
    elif rule.kind == "stagnation":
        subjects = [rule.subject] if rule.subject else list(rule.stages)
        keyed = True
        for level in levels.values():
            found.update(days(u, v) for u, v in durations(level))
    elif rule.kind == "shortfall":
        subjects = [rule.subject or "月度投资"]
        if rule.per != "project":
            return RuleInfo(rule.id, rule.kind, tuple(subjects), False, None, False, None, (), True)
    elif rule.kind == "cadence":  # one warning per period unless the rule names a subject
        subjects = [rule.subject or "2024-03"]
        for level in levels.values():
            found.update(days(u, v) for u, v in durations(level))
    else:
        raise NotImplementedError(f"no strategy draws histories for rule kind {rule.kind!r} yet")
    return RuleInfo(rule.id, rule.kind, tuple(subjects), keyed, step, started, plan,
                    tuple(sorted(found)))


def _push_days(pack: Pack) -> tuple[int, ...]:
    signoff = pack.spec.signoff
    cycle = getattr(signoff, "cycle_days", None)
    if not cycle:
        return ()
    last = (getattr(signoff, "overdue_after_pushes", None) or 3) + 1
    return tuple(cycle * k for k in range(1, last + 1))


# -- cheap draws (index picks and day offsets: no strategy objects built per example) --------


def _int(draw: st.DrawFn, lo: int, hi: int) -> int:
    return draw(st.integers(lo, hi))


def _pick(draw: st.DrawFn, seq: Sequence[T]) -> T:
    return seq[_int(draw, 0, len(seq) - 1)]


def _day(draw: st.DrawFn, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + _int(draw, 0, max(0, (hi - lo).days)) * DAY


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _clamp(day: dt.date, lo: dt.date = FIRST_DAY, hi: dt.date = LAST_DAY) -> dt.date:
    return min(max(day, lo), hi)


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


# -- pieces ----------------------------------------------------------------------------------


def _investment(draw: st.DrawFn) -> float | int | None:
    way = _int(draw, 0, 4)
    if way == 0:
        return None
    if way == 1:
        return _pick(draw, INVESTMENT_EDGES)
    amount = _int(draw, 100, 300_000)
    return amount + 0.5 if way == 4 else amount


@st.composite
def projects(draw: st.DrawFn, pack_id: str) -> dict[str, Any]:
    vocab = vocabulary(pack_id)
    project: dict[str, Any] = {
        "id": f"{vocab.prefix}-{_int(draw, 2022, 2025)}-{_int(draw, 1, 999):03d}",
        "name": _pick(draw, NAMES),
        "sector": _pick(draw, SECTORS),
        "in_development_zone": _int(draw, 0, 3) == 0,
        "investment_wan": _investment(draw),
        "region": _pick(draw, REGIONS),
    }
    if _int(draw, 0, 5) == 0:
        project["attributes"] = {"立项类型": _pick(draw, ("技术改造", "基本建设"))}
    return project


def _step_name(draw: st.DrawFn, vocab: Vocabulary, step: str) -> str:
    # Mostly the canonical name; otherwise an alias or a milestone word.
    return _pick(draw, vocab.names[step]) if _int(draw, 0, 3) == 0 else step


@st.composite
def warning_keys(
    draw: st.DrawFn,
    pack_id: str,
    project_id: str,
    anchors: tuple[dt.date, ...] = (),
    rule: RuleInfo | None = None,
    months: tuple[str, ...] = (),
) -> str:
    """A warning key ``{project_id}/{rule_id}/{subject}``: mostly a plausible one for
    this project (of ``rule`` if given; a stagnation key carries an anchor date drawn
    from ``anchors``), sometimes one it cannot have."""
    vocab = vocabulary(pack_id)
    if _int(draw, 0, 9) == 0:
        some = vocab.rules[0]
        return _pick(draw, (
            f"{project_id}/no.such-rule/开工",
            f"OTHER-2024-001/{some.rule_id}/{some.subjects[0]}",
            f"{project_id}/{some.rule_id}/不存在的事项",
        ))
    if rule is None:
        rule = _pick(draw, vocab.rules)
    key = f"{project_id}/{rule.rule_id}/{_pick(draw, rule.subjects)}"
    if rule.by_month:
        key += f" {_pick(draw, months) if months else '2024-03'}"
    if rule.keyed_by_anchor:
        anchor = _pick(draw, anchors) if anchors else _day(draw, FIRST_DAY, LAST_DAY)
        key += f"@{_iso(anchor)}"
    return key


def _report(draw: st.DrawFn, filed: dt.date, period: str) -> dict[str, Any]:
    planned = _int(draw, 0, 300) * 10
    actual = _pick(draw, (planned, planned + 100, planned - 1, planned * 3 // 5, 0, planned - 0.5))
    report: dict[str, Any] = {
        "date": _iso(filed),
        "type": "monthly_report",
        "period": period,
        "planned_wan": planned,
        "actual_wan": max(actual, 0),
    }
    way = _int(draw, 0, 9)
    if way == 0:
        report["compliant"] = False
        if _int(draw, 0, 1):
            del report["planned_wan"], report["actual_wan"]
    elif way == 1:
        report["compliant"] = True
    return report


def _monthly_reports(
    draw: st.DrawFn, begin: dt.date, corrections: bool
) -> list[dict[str, Any]]:
    """Monthly reports from ``begin``'s month on, each filed 1-15 days into the next month;
    planned (序时) vs actual with shortfalls, some ``compliant: false``; with
    ``corrections``, some months filed again later (the same day or up to 25 days on)."""
    out: list[dict[str, Any]] = []
    year, month = begin.year, begin.month
    for _ in range(_int(draw, 0, 15)):
        period = f"{year}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        filed = dt.date(year, month, _int(draw, 1, 15))
        if filed > LAST_DAY:
            break
        if _int(draw, 0, 6) == 0:
            continue  # a month without a report
        out.append(_report(draw, filed, period))
        if corrections and _int(draw, 0, 7) == 0:
            again = filed + _int(draw, 0, 25) * DAY
            if again <= LAST_DAY:
                out.append(_report(draw, again, period))
    return out


def _weekly_report(draw: st.DrawFn, day: dt.date) -> dict[str, Any]:
    monday = day - day.weekday() * DAY
    year, week, _ = monday.isocalendar()
    return {"date": _iso(monday + _int(draw, 0, 3) * DAY), "type": "weekly_report",
            "period": f"{year}-W{week:02d}"}


# -- histories -------------------------------------------------------------------------------


def _gap(draw: st.DrawFn) -> int:
    """Days between recorded steps: mostly weeks (前期 approvals), sometimes months or years."""
    return _int(draw, *_pick(draw, ((0, 30), (0, 90), (30, 240), (60, 720))))


@st.composite
def histories(draw: st.DrawFn, pack_id: str, *, corrections: bool = True) -> dict[str, Any]:
    """One project's history for pack ``pack_id``, as a plain dict (SPEC §3).

    ``corrections=False`` leaves out monthly reports filed again for a month already
    reported."""
    vocab = vocabulary(pack_id)
    project = draw(projects(pack_id))
    pid = project["id"]
    start = _day(draw, FIRST_DAY, dt.date(2025, 9, 30))
    events: list[dict[str, Any]] = []
    anchors: list[dt.date] = [start]

    # Steps, in lifecycle order: the export starts at some step and runs to a later one,
    # skipping some in between (exports record key milestones only).
    steps = vocab.steps
    n, kaigong = len(steps), steps.index(vocab.start_step)
    first = _int(draw, 0, min(3, n - 1)) if _int(draw, 0, 1) else _int(draw, 0, n - 1)
    last = _int(draw, *_pick(draw, (
        (first - 1, n - 1),  # anywhere (first - 1: no step at all)
        (max(first, kaigong), n - 1),  # construction started, maybe later steps
        (max(first, kaigong), max(first, kaigong)),  # under construction
        (max(first, n - 3), n - 1),  # (nearly) done
    )))
    day = start
    construction: dt.date | None = None
    for i in range(first, last + 1):
        if i > first:
            if _int(draw, 0, 2) == 0:
                continue
            day += _gap(draw) * DAY
        if day > LAST_DAY:
            break
        step = steps[i]
        form = _int(draw, 0, 5)
        if form == 0 or (form == 1 and i == last):
            # started on an earlier day (or the same day), completed on ``day``
            began = max(start, day - _int(draw, 0, 30) * DAY)
            events.append({"date": _iso(began), "type": "step_started",
                           "step": _step_name(draw, vocab, step)})
            anchors.append(began)
            if form == 1:
                break  # the last step is still under way
        events.append({"date": _iso(day), "type": "step_completed",
                       "step": _step_name(draw, vocab, step)})
        anchors.append(day)
        if step == vocab.start_step:
            construction = day

    # Progress notes.
    for _ in range(_pick(draw, (0, 0, 1, 2, 3, 5))):
        d = _day(draw, start, min(LAST_DAY, start + 1200 * DAY))
        events.append({"date": _iso(d), "type": "progress", "note": _pick(draw, PROGRESS_NOTES)})
        anchors.append(d)

    # Monthly reports, mostly from 开工 on (reports before 开工 exist too).
    if _int(draw, 0, 2):
        if construction is None or _int(draw, 0, 3) == 0:
            begin = _day(draw, start, min(LAST_DAY, start + 700 * DAY))
        else:
            begin = construction
        events += _monthly_reports(draw, begin, corrections)
    if _int(draw, 0, 5) == 0:
        for _ in range(_int(draw, 1, 2)):
            events.append(_weekly_report(draw, _day(draw, start, min(LAST_DAY, start + 700 * DAY))))

    # The plan (计划开工、竣工).
    plan: dict[str, str] = {}
    if _int(draw, 0, 1):
        planned_start = _clamp(start + _int(draw, 0, 540) * DAY)
        plan["start"] = _iso(planned_start)
        if _int(draw, 0, 1):
            plan["completion"] = _iso(_clamp(planned_start + _int(draw, 180, 1100) * DAY))

    # Dispositions and extensions. A clerk answers a warning some time after its clock
    # started, mostly about a threshold after it: mostly of a rule whose clock the history
    # starts, often the one started last (the project is stuck there, so its warning
    # stands). Some answers come too early, some refer to warnings the project does not
    # have; some warnings get a second answer later.
    filings = [_date(e["date"]) for e in events if e["type"] == "monthly_report"]
    so_far = {"events": events, "plan": plan}
    started = sorted((when, i) for i, r in enumerate(vocab.rules)
                     if (when := _clock_start(so_far, vocab, r)) is not None)
    for _ in range(_pick(draw, (0, 0, 1, 1, 2, 3, 4))):
        way = _int(draw, 0, 3)
        if started and way >= 2:
            base, index = started[-1] if way == 3 else _pick(draw, started)
            rule = vocab.rules[index]
        else:
            rule = _pick(draw, vocab.rules)
            clock = _clock_start(so_far, vocab, rule)
            base = clock if clock is not None else _pick(
                draw, filings if rule.kind == "shortfall" and filings else anchors
            )
        near = bool(rule.days) and _int(draw, 0, 1) == 1
        late = _pick(draw, rule.days) + _int(draw, 0, 120) if near else _int(draw, 0, 420)
        on = _clamp(base + late * DAY, start)
        months = tuple(e["period"] for e in events if e["type"] == "monthly_report")
        key = draw(warning_keys(pack_id, pid, (base,), rule, months))
        for _answer in range(_pick(draw, (1, 1, 1, 2))):
            if _int(draw, 0, 4) == 0:
                until = on + _int(draw, 1, 180) * DAY
                events.append({"date": _iso(on), "type": "extension", "warning": key,
                               "until": _iso(until)})
            else:
                events.append({"date": _iso(on), "type": "disposition", "warning": key,
                               "action": _pick(draw, ANSWERS)})
            on = _clamp(on + _int(draw, 1, 150) * DAY, start)

    # Judgements of a problem's gravity (建德 三(五)): of one warning, of the whole project,
    # or of a severity the pack does not know.
    for _ in range(_pick(draw, (0, 0, 0, 0, 1, 2))):
        months = tuple(e["period"] for e in events if e["type"] == "monthly_report")
        judged: dict[str, Any] = {"date": _iso(_day(draw, start, min(LAST_DAY, start + 1500 * DAY))),
                                  "type": "problem_reported", "severity": _pick(draw, SEVERITIES)}
        if _int(draw, 0, 2):
            judged["warning"] = draw(warning_keys(pack_id, pid, tuple(anchors), None, months))
        events.append(judged)

    if _int(draw, 0, 14) == 0:
        events.append({"date": _iso(_day(draw, start, LAST_DAY)), "type": "project_exited"})

    events.sort(key=lambda e: e["date"])  # exports are by date; the order must not matter
    history: dict[str, Any] = {"project": project, "events": events}
    if plan or _int(draw, 0, 1):
        history["plan"] = plan
    return history


def _clock_start(history: dict[str, Any], vocab: Vocabulary, rule: RuleInfo) -> dt.date | None:
    """The day ``rule``'s clock starts if the rule names it: its plan date, or the first
    completion (or start) of its step."""
    if rule.plan is not None:
        day = history.get("plan", {}).get(rule.plan)
        return _date(day) if day else None
    if rule.step is None:
        return None
    kind = "step_started" if rule.started else "step_completed"
    names = vocab.names[rule.step]
    return min((_date(e["date"]) for e in history["events"]
                if e["type"] == kind and e.get("step") in names), default=None)


def event_dates(history: dict[str, Any]) -> list[dt.date]:
    days = [_date(e["date"]) for e in history["events"]]
    days += [_date(v) for v in history.get("plan", {}).values()]
    return days


@st.composite
def evaluation_dates(
    draw: st.DrawFn, history: dict[str, Any], pack_id: str | None = None
) -> dt.date:
    """An ``as_of`` for ``history``: often about one of pack ``pack_id``'s thresholds
    after the day its clock starts (mostly the clock started last: stuck projects), or a
    push of the sign-off cycle after an answer; otherwise some days after one of the
    history's dates, or any day. Never after ``LAST_DAY``."""
    days = event_dates(history)
    vocab = vocabulary(pack_id) if pack_id else None
    way = _int(draw, 0, 6)
    if vocab is not None and way == 6 and vocab.pushes:
        answers = [_date(e["date"]) for e in history["events"] if e["type"] == "disposition"]
        if answers:
            offset = _pick(draw, vocab.pushes) + _int(draw, -2, 3)
            return _clamp(_pick(draw, answers) + offset * DAY)
    if vocab is not None and way >= 2:
        starts = [_date(e["date"]) for e in history["events"]
                  if e["type"] in ("step_completed", "step_started", "progress")]
        clocks: list[tuple[dt.date, tuple[int, ...]]] = []
        for rule in vocab.rules:
            if not rule.days:
                continue
            if rule.step is None and rule.plan is None:
                if starts:
                    clocks.append((_pick(draw, starts), rule.days))
            elif (base := _clock_start(history, vocab, rule)) is not None:
                clocks.append((base, rule.days))
        if clocks:
            base, thresholds = max(clocks) if _int(draw, 0, 1) else _pick(draw, clocks)
            offset = _pick(draw, thresholds) + _int(draw, -4, 6)
            return _clamp(base + offset * DAY)
    if way >= 1 and days:
        offset = _int(draw, -10, 200) if _int(draw, 0, 1) else _int(draw, 0, 1200)
        return _clamp(_pick(draw, days) + offset * DAY)
    return _day(draw, FIRST_DAY, LAST_DAY)


@st.composite
def cases(
    draw: st.DrawFn, pack_id: str, *, corrections: bool = True
) -> tuple[dict[str, Any], dt.date]:
    """A history for pack ``pack_id`` and an evaluation date for it."""
    history = draw(histories(pack_id, corrections=corrections))
    return history, draw(evaluation_dates(history, pack_id))


@st.composite
def later_events(
    draw: st.DrawFn, pack_id: str, history: dict[str, Any], after: dt.date
) -> list[dict[str, Any]]:
    """Events of every core type, all dated after ``after`` (up to three years later,
    past the working-day schedule's years): evaluating on ``after`` must not see them."""
    vocab = vocabulary(pack_id)
    pid = history["project"]["id"]
    anchors = tuple(event_dates(history)) or (after,)
    out: list[dict[str, Any]] = []
    for _ in range(_int(draw, 1, 6)):
        day = after + _int(draw, 1, 1100) * DAY
        kind = _pick(draw, EVENT_TYPES)
        event: dict[str, Any] = {"date": _iso(day), "type": kind}
        if kind in ("step_completed", "step_started"):
            event["step"] = _step_name(draw, vocab, _pick(draw, vocab.steps))
        elif kind == "progress":
            event["note"] = _pick(draw, PROGRESS_NOTES)
        elif kind == "monthly_report":
            # A month already reported or seen, or the month before the filing.
            month = _pick(draw, (*anchors, day - 20 * DAY))
            event = _report(draw, day, f"{month.year}-{month.month:02d}")
        elif kind == "weekly_report":
            event = _weekly_report(draw, day)
            event["date"] = _iso(max(day, _date(event["date"])))
        elif kind == "disposition":
            event["warning"] = draw(warning_keys(pack_id, pid, anchors))
            event["action"] = _pick(draw, ACTIONS)
        elif kind == "extension":
            event["warning"] = draw(warning_keys(pack_id, pid, anchors))
            event["until"] = _iso(day + _int(draw, 1, 180) * DAY)
        out.append(event)
    return out
