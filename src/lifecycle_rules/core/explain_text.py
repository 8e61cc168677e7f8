"""A trace (``core/explain``) as a clerk reads it: one block per rule, in Chinese, with the
numbers to check by hand (``lifecycle-rules explain``; ``docs/explain.md``). Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lifecycle_rules.core.explain_model import (
    Elapsed,
    Explanation,
    RuleTrace,
    SignoffTrace,
    UnitSource,
    WarningTrace,
)
from lifecycle_rules.core.explain_words import (
    ACTION_WORDS,
    PLAN_WORDS,
    STATUS_WORDS,
    amount,
    anchor_words,
    day,
    day_list,
    day_ranges,
    elapsed_words,
    level_rule,
    number,
    short_day,
    span,
)
from lifecycle_rules.core.wording import cn_date, cn_period, cn_subject

_SOURCE = {"project_unit": "项目责任单位", "stage": "阶段", "step": "环节"}
_TYPE = {"step_completed": "完成", "step_started": "开始"}
_MONTH = {"met": "达到", "corrected": "已更正为达到", "outside_stages": "不在适用阶段", "silent": "报告未含可比数据"}


def text_lines(expl: Explanation) -> list[str]:
    """The trace in words: a line for the project and day, a block for each rule (the
    inactive ones named on one line), then the notices."""
    name = f" {expl.project_name}" if expl.project_name and expl.project_name != expl.project_id else ""
    lines = [f"{expl.project_id}{name} · {cn_date(expl.as_of)} · {expl.pack}"]
    idle = [r.rule for r in expl.rules if r.outcome == "inactive"]
    for r in expl.rules:
        if r.outcome == "inactive" and len(expl.rules) > 1:
            continue
        lines += rule_lines(r)
    if idle and len(expl.rules) > 1:
        lines.append(f"未启用（需设定参数，见 --param）: {', '.join(idle)}")
    if expl.notices:
        lines.append("提示:")
        lines += [f"  {n}" for n in expl.notices]
    return lines


def _verdict(w: WarningTrace) -> str:
    v = w.verdict
    if v is None or w.outcome not in ("warning", "closed"):
        return f"无预警 — {w.why}"
    head = f"{v.level_name}，自{cn_date(v.since)}起"
    if v.status == "closed" and v.closed_on is not None:
        return f"{head}，已于{cn_date(v.closed_on)}销号"
    if v.status == "in_progress":
        return f"{head}，正在办理" + (f"（已推送{v.pushes}次）" if v.pushes else "")
    if v.status == "closure_overdue":
        return f"{head}，销号超时"
    return head


def rule_lines(r: RuleTrace) -> list[str]:
    head = f"{r.rule} {r.title}（{r.cited}）: "
    if r.outcome in ("not_applicable", "inactive"):
        return [head + ("不适用 — " if r.outcome == "not_applicable" else "未启用 — ") + r.why]
    single = len(r.warnings) == 1 and (r.kind != "deadline" or len(r.details) == 1)
    if single and r.outcome != "undecided":
        lines = [head + _verdict(r.warnings[0])]
    elif r.outcome in ("warning", "closed"):
        standing = sum(1 for w in r.warnings if w.outcome == "warning")
        closed = sum(1 for w in r.warnings if w.outcome == "closed")
        lines = [head + (f"{standing}个预警" if standing else "无预警") + (f"（另{closed}个已销号）" if closed else "")]
    else:
        lines = [head + ("无法判定 — " if r.outcome == "undecided" else "无预警 — ") + r.why]
    lines += [f"  {line}" for line in _rule_facts(r)]
    for w in r.warnings:
        if single:
            lines += [f"  {line}" for line in _warning_lines(r, w)]
            continue
        lines.append(f"  [{cn_subject(w.subject)}] {_verdict(w)}")
        if w.outcome in ("warning", "closed", "not_reached"):
            lines += [f"    {line}" for line in _warning_lines(r, w)]
    return lines


def _rule_facts(r: RuleTrace) -> list[str]:
    """What the rule counted across its warnings: a shortfall's months, a cadence's periods."""
    if r.kind == "shortfall" and r.details:
        out = []
        counted = [m for m in r.details if m.state == "counted"]
        if counted:
            out.append("计入: " + "、".join(f"{cn_period(m.period)}（{_report(m.reports[-1])}）" for m in counted))
        rest = [f"{cn_period(m.period)}（{_MONTH[m.state]}）" for m in r.details if m.state != "counted"]
        if rest:
            out.append("未计入: " + "、".join(rest))
        return out
    if r.kind == "cadence" and r.details and r.outcome in ("warning", "closed"):
        on_time = sum(1 for p in r.details if p.state == "on_time")
        return [f"应报{len(r.details)}期，按时报送{on_time}期"]
    return []


def _report(rep: Any) -> str:
    what = ""
    if rep.planned_wan is not None and rep.actual_wan is not None:
        what = f"计划{amount(rep.planned_wan)}万元、实际{amount(rep.actual_wan)}万元，"
    elif rep.compliant is False:
        what = "不符合要求，"
    return f"{what}{cn_date(rep.filed)}报送，事件 #{rep.event}"


def _warning_lines(r: RuleTrace, w: WarningTrace) -> list[str]:
    lines, tail = _KIND_LINES[r.kind](r, w)
    for lv in w.levels:
        lead = "期限后" if r.kind == "cadence" else ""
        lines.append(f"{lv.name}: {lead}{level_rule(lv.rule(), lv.day)}")
    lines += tail
    if w.elapsed:
        lines.append(_elapsed_line(w.elapsed, w, r.kind))
    for e in w.elapsed:
        year = w.anchor.year
        if e.counted:
            more = "" if e.value is None or len(e.counted) >= e.value else f" …（共{e.value}个）"
            lines.append(f"工作日: {day_list(e.counted, year, e.makeup)}{more}")
        if e.holidays:
            lines.append(f"节假日（不计）: {day_ranges(e.holidays, year)}")
        if e.unknown_from is not None:
            lines.append(f"{e.unknown_from.year}年节假日安排尚未公布，自{cn_date(e.unknown_from)}起无法计数")
    if w.calendar:
        lines.append(f"日历: {w.calendar}")
    if w.signoff is not None:
        lines += _signoff_lines(w.signoff, w, w.cleared_by or "条件消除")
    if w.tier is not None:
        t = w.tier
        why = f"第{t.position}个{t.counts_name}" if t.position is not None else \
            f"达到当前等级时已有{t.by_count}个{t.counts_name}" + ("，至少为1" if t.by_count < 1 else "")
        if t.by_count > t.max_tier:
            why += f"，最高为{t.max_tier}"
        lifts = "".join(f"；问题上报 {cn_date(s.date)} {s.severity}（事件 #{s.event}）→ 层级{s.tier}"
                        for s in t.severities)
        lines.append(f"协调层级: {t.tier}（{why}{lifts}）; 路线: {t.route_words} (ladder.routes[{t.route}])")
    if w.units:
        lines.append("责任单位: " + " · ".join(f"{u.unit} ({_source(u, w)})" for u in w.units if u.first))
    return lines


def _source(u: UnitSource, w: WarningTrace) -> str:
    if u.source == "route":
        return f"路线 层级{w.tier.tier if w.tier else ''}"
    if u.source == "level":
        return u.name
    if u.source == "project_unit":
        return _SOURCE["project_unit"]
    return f"{_SOURCE[u.source]} {u.name}"


def _elapsed_line(spent: Sequence[Elapsed], w: WarningTrace, kind: str) -> str:
    lead = "计时停止之日" if spent[0].stopped else "今日"
    after = "期限后" if kind == "cadence" else ""
    return f"{lead}: {after}" + "；".join(elapsed_words(e.unit, e.value, w.anchor, e.on, e.at_least or 0)
                                         for e in spent)


def _deadline_lines(r: RuleTrace, w: WarningTrace) -> tuple[list[str], list[str]]:
    """起算, 未采用, 期限 (before the levels); 完成 (after them)."""
    item = next((c for c in r.details if c.subject == w.subject), None)
    if item is None:
        return [], []
    lines: list[str] = []
    anchor = item.anchor
    chosen = next((e for e in item.anchor_events if e.role == "chosen"), None)
    if anchor.plan is not None:
        lines.append(f"起算: {PLAN_WORDS[anchor.plan]} {day(item.anchor_day)}")
    elif chosen is not None:
        what = f"{chosen.step} {_TYPE.get(chosen.type, chosen.type)}" if anchor.stage_entered else anchor_words(anchor)
        stage = f"进入{anchor.stage_entered}阶段（{what}）" if anchor.stage_entered else what
        lines.append(f"起算: {stage}于{day(item.anchor_day)}（事件 #{chosen.event}）")
    for e in item.anchor_events:
        what = f"{e.step} {_TYPE.get(e.type, e.type)}于{day(e.date)}（事件 #{e.event}）"
        if e.role == "passed_over":
            lines.append(f"未采用: {what}，以最早一次为准")
        elif e.role == "after_as_of":
            lines.append(f"未计入: {what}，在今日之后")
    if item.limit is not None:
        band = ""
        if item.band is not None:
            bounds = ([f"≥{amount(item.band_from)}万元"] if item.band_from is not None else []) + \
                     ([f"<{amount(item.band_below)}万元"] if item.band_below is not None else [])
            band = f"（按投资额第{item.band + 1}档: {'且'.join(bounds)}）"
        lines.append(f"期限: {span(item.limit)}{band} → {day(w.due or item.due)}")
    done = next((e for e in item.target_events if e.role == "chosen"), None)
    tail: list[str] = []
    if item.passed_by is not None:
        tail.append(f"完成: 已于{day(item.target_day)}进入{item.passed_by}阶段，视为{item.step}完成")
    elif done is not None:
        tail.append(f"完成: {item.step} {_TYPE.get(done.type, done.type)}于{day(done.date)}（事件 #{done.event}）")
    return lines, tail


def _stagnation_lines(r: RuleTrace, w: WarningTrace) -> tuple[list[str], list[str]]:
    item = next((s for s in r.details if s.start == w.anchor), None)
    if item is None:
        return [], []
    if item.started_by is None:
        lines = [f"起算: {item.stage or ''}阶段开始于{day(item.start)}，此后无进展"]
    else:
        lines = [f"起算: 最近一次进展于{day(item.start)}（事件 #{item.started_by}）"]
    tail: list[str] = []
    if item.end is not None and item.end <= w.elapsed[-1].on:
        tail.append(f"结束: 有新进展于{day(item.end)}（事件 #{item.ended_by}）" if item.ended_by is not None
                    else f"结束: 于{day(item.end)}离开适用阶段")
    return lines, tail


def _cadence_lines(r: RuleTrace, w: WarningTrace) -> tuple[list[str], list[str]]:
    item = next((p for p in r.details if p.period in w.subject.split(" ")), None)
    if item is None:
        return [], []
    if item.left is not None:
        filed = f"{cn_date(item.left)}离开适用阶段，不再应报"
    elif item.filed is not None:
        filed = f"{cn_date(item.filed)}报送（事件 #{item.event}），逾期"
    else:
        filed = "今日仍未报送"
    return [f"应报: {cn_period(item.period)}，期限{cn_date(item.due)}"], [f"报送: {filed}"]


def _signoff_lines(s: SignoffTrace, w: WarningTrace, cleared: str) -> list[str]:
    said: list[str] = []
    renewed = s.renewed_on
    for a in s.answers:
        if renewed is not None and a.date >= renewed:
            said.append(f"{short_day(renewed, renewed.year)} 升为{_level_name(w)}，为新的平台预警（此前答复不再延续）")
            renewed = None
        year = a.date.year
        if a.type == "extension":
            text = f"{short_day(a.date, year)} 延期至{day(a.until)}" + ("（全项目）" if a.project_wide else "")
        else:
            text = f"{short_day(a.date, year)} {ACTION_WORDS.get(a.action or '', a.action)}"
        text += {"closed": "（销号）", "cycle_started": "（销号周期起算）", "cycle_kept": "（周期不重新起算）",
                 "extended": "", "ignored": f"（不计: {a.note}）"}[a.effect]
        said.append(text)
    if renewed is not None:
        said.append(f"{short_day(renewed, renewed.year)} 升为{_level_name(w)}，为新的平台预警（此前答复不再延续）")
    status = STATUS_WORDS[s.status]
    if s.status == "closed" and s.closed_on is not None:
        why = {"cleared": cleared, "exited": "项目退出"}.get(s.stop_why or "", "答复销号") \
            if s.stop == s.closed_on else "答复销号"
        status = f"已于{cn_date(s.closed_on)}销号（{why}）"
    lines = [f"办理: {'；'.join(said) if said else '无答复'} → {status}"]
    if s.cycle_start is not None and s.cycle_days:
        year = s.cycle_start.year
        pushes = "、".join(short_day(d, year) for d in s.push_days)
        text = f"销号周期: 自{cn_date(s.cycle_start)}起每{s.cycle_days}天推送一次（{pushes}），今日已推送{s.pushes}次"
        if s.overdue_from is not None:
            text += f"；第{s.overdue_after_pushes}次推送后仍未销号，{cn_date(s.overdue_from)}起销号超时"
        if s.extended_to is not None:
            text += f"；延期至{cn_date(s.extended_to)}，此前不计超时"
        lines.append(text)
    return lines


def _shortfall_lines(r: RuleTrace, w: WarningTrace) -> tuple[list[str], list[str]]:
    """The months of a per-month (or per-run) warning; the count of a per-project one."""
    counted = [m for m in r.details if m.state == "counted"]
    head, _, label = w.subject.rpartition(" ")
    months = [m for m in r.details if m.period == label] if head and label else []
    if months and len(w.levels) == 1 and w.levels[0].count == 1:  # one warning per month
        m = months[0]
        state = "计入" if m.state == "counted" else _MONTH[m.state]
        return [f"月份: {cn_period(m.period)}，{state}（{'；'.join(_report(x) for x in m.reports)}）"], []
    if months:  # one warning per run, from its first month
        run = [months[0]]
        for m in r.details[r.details.index(months[0]) + 1:]:
            if m.state != "counted" or _next_month(run[-1].period) != m.period:
                break
            run.append(m)
        return [f"连续月份: {'、'.join(cn_period(m.period) for m in run)}"], []
    return [], [f"今日: 计入{len(counted)}个月"]


def _next_month(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + month // 12}-{month % 12 + 1:02d}"


_KIND_LINES: dict[str, Callable[[RuleTrace, WarningTrace], tuple[list[str], list[str]]]] = {
    "deadline": _deadline_lines, "stagnation": _stagnation_lines, "cadence": _cadence_lines,
    "shortfall": _shortfall_lines}


def _level_name(w: WarningTrace) -> str:
    return w.verdict.level_name if w.verdict is not None else ""


def join(lines: Sequence[str]) -> str:
    return "\n".join(lines) + "\n"


__all__ = ["join", "number", "rule_lines", "text_lines"]
