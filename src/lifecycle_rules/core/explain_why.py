"""Why, in one sentence (Chinese): why a warning stands, was closed, or is not there; why a
rule gives no warning (``core/explain``). Built from the trace's values, deciding nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lifecycle_rules.core.explain_model import ConditionCheck, Elapsed, LevelTrace, WarningTrace
from lifecycle_rules.core.explain_parts import elapsed
from lifecycle_rules.core.explain_words import (
    REPORT_WORDS,
    STATUS_WORDS,
    anchor_words,
    day,
    elapsed_words,
    level_rule,
    not_yet_words,
    span,
)

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.core.signoff import Standing
    from lifecycle_rules.kinds import Episode
    from lifecycle_rules.pack.compile import Pack
    from lifecycle_rules.pack.spec import Rule

_CLEARED = {"stagnation": "有新进展", "cadence": "已报送", "shortfall": "更正为已达到"}


def cleared_words(rule: Rule, ep: Episode, item: Any) -> str:
    """What cleared the rule's condition: 开工监管 完成, 进入X阶段（视为…完成）, 有新进展, 已报送,
    离开适用阶段 ... (``item``: the kind's trace item of the episode, if any)."""
    if rule.kind == "deadline":
        if item is not None and item.passed_by is not None:
            return f"进入{item.passed_by}阶段，视为{ep.step}完成"
        return f"{ep.step} 完成"
    if rule.kind == "cadence" and item is not None and item.left is not None:
        return "离开适用阶段"
    return _CLEARED[rule.kind]


def episode_why(rule: Rule, ep: Episode, outcome: str, levels: Sequence[LevelTrace], spent: Sequence[Elapsed],
                st: Standing | None, facts: Facts, cleared_by: str) -> str:
    if outcome == "stage":
        stages = "、".join(rule.when.stages or ()) if rule.when is not None else ""
        return f"所属阶段{ep.stage or '（无）'}不在本规则适用的阶段（{stages}）内，不预警"
    if outcome == "undecided":
        return "所需年份的节假日安排尚未公布，能否达到预警等级无法判定，暂不报告（见日历提示）"
    if st is not None:
        name = next(lv.name for lv in levels if lv.level == st.level)
        head = f"{name}，自{day(st.since)}起"
        if st.status != "closed":
            return f"{head}，{STATUS_WORDS[st.status]}"
        assert st.closed_on is not None
        return f"{head}，已于{day(st.closed_on)}销号（{_closed_by(ep, st, facts, cleared_by)}）"
    first = min((lv for lv in levels if lv.day is not None), key=lambda lv: lv.day or dt.date.max, default=None)
    if first is None:
        return "尚未达到任何预警等级"
    stop = min((d for d in (ep.cleared, facts.exit_date) if d is not None), default=None)
    now = _elapsed(spent, ep.anchor)
    target = f"{first.name}（{level_rule(first.rule(), first.day)}）"
    if stop is not None and stop <= facts.as_of:
        what = cleared_by if stop == ep.cleared else "项目退出"
        return f"{what}于{day(stop)}（{now}），未到{target}"
    return f"今日{now}，未到{target}"


def _closed_by(ep: Episode, st: Standing, facts: Facts, cleared_by: str) -> str:
    if st.closed_on == ep.cleared:
        return cleared_by
    if st.closed_on == facts.exit_date:
        return "项目退出"
    return "答复销号"


def _elapsed(spent: Sequence[Elapsed], anchor: dt.date) -> str:
    if not spent:
        return ""
    e = spent[0]
    return elapsed_words(e.unit, e.value, anchor, e.on)


def rule_why(pack: Pack, rule: Rule, today: dt.date, outcome: str, when: Sequence[ConditionCheck],
             inactive: Sequence[str], warnings: Sequence[WarningTrace], details: Sequence[Any],
             facts: Facts | None) -> str:
    """Why the rule gives what it gives on ``today``; never empty."""
    if facts is None:
        clause = f"（{pack.cite(pack.spec.scope_clause)}）" if pack.spec.scope_clause else ""
        return f"项目不在规则包适用范围内{clause}，规则不适用"
    if outcome == "not_applicable":
        return "规则不适用：" + "；".join(f"要求{c.wants}，本项目{c.has}" for c in when if not c.holds)
    if outcome == "inactive":
        return (f"规则未启用：需设定参数 {'、'.join(inactive)}（政策未公布该时限，规则包不设默认值；"
                "以 --param 名称=数值 设定）")
    if outcome in ("warning", "closed", "undecided"):
        picked = [w for w in warnings if w.outcome == outcome]
        if len(picked) == 1 and len(warnings) == 1:
            return picked[0].why
        return "；".join(f"{w.subject}: {w.why}" for w in picked)
    kind_why = {"deadline": _deadline_none, "stagnation": _stagnation_none, "shortfall": _shortfall_none,
                "cadence": _cadence_none}[rule.kind]
    return kind_why(pack, rule, today, warnings, details, facts) or "无预警"


def _deadline_none(pack: Pack, rule: Any, today: dt.date, warnings: Sequence[WarningTrace],
                   details: Sequence[Any], facts: Facts) -> str:
    said: list[str] = []
    many = len(details) > 1
    for item in details:
        head = f"{item.subject}: " if many else ""
        start = anchor_words(_anchor_for(rule, item.subject))
        if item.why_none == "no_anchor":
            said.append(f"{head}{not_yet_words(_anchor_for(rule, item.subject))}（截至{day(today)}），未起算")
        elif item.why_none == "anchor_after_as_of":
            said.append(f"{head}{start}为{day(item.anchor_day)}，在今日之后，尚未起算")
        elif item.why_none == "target_before_anchor":
            said.append(f"{head}{item.step} 已于{day(item.target_day)}完成，不晚于起算日{day(item.anchor_day)}")
        elif item.why_none == "no_investment":
            said.append(f"{head}期限按投资额分档，项目未填投资额，未计算")
        else:
            w = next((w for w in warnings if w.subject == item.subject), None)
            if w is not None:
                limit = f"，期限{span(item.limit)}" if item.limit is not None else ""
                said.append(f"{head}{start}于{day(item.anchor_day)}{limit}；{w.why}")
    return "；".join(said)


def _anchor_for(rule: Any, subject: str) -> Any:
    anchor = rule.anchor
    if rule.for_each_step is not None:
        fields = {k: subject for k in ("step_completed", "step_started") if getattr(anchor, k) == "*"}
        anchor = anchor.model_copy(update=fields)
    return anchor


def _stagnation_none(pack: Pack, rule: Any, today: dt.date, warnings: Sequence[WarningTrace],
                     details: Sequence[Any], facts: Facts) -> str:
    if not details:
        return f"截至{day(today)}项目未处于{'、'.join(rule.stages)}阶段，不计无进展"
    said: list[str] = [w.why for w in warnings]
    ended = [s for s in details if s.why_none == "progress_before_first_level"]
    if ended:
        some = f"{len(ended)}段无进展期均" if len(ended) > 1 else "此前的无进展期"
        said.append(f"{some}在达到预警等级前有新进展或离开阶段（最近一段止于{day(ended[-1].end)}）")
    last = details[-1]
    if last.why_none == "first_level_after_as_of":
        first = min(last.levels, key=lambda r: r.reached_on)
        assert first.threshold is not None
        now = elapsed(first.threshold.unit, last.start, today, False, pack.calendar, None)
        name = (rule.level_overrides.get(first.level) or pack.spec.levels[first.level]).name
        said.append(f"当前无进展期自{day(last.start)}起，今日{elapsed_words(now.unit, now.value, last.start, today)}，"
                    f"未到{name}（{level_rule(first, first.reached_on)}）")
    return "；".join(said)


def _shortfall_none(pack: Pack, rule: Any, today: dt.date, warnings: Sequence[WarningTrace],
                    details: Sequence[Any], facts: Facts) -> str:
    if not details:
        return f"截至{day(today)}无{REPORT_WORDS.get(rule.report, rule.report)}"
    counted = [m.period for m in details if m.state == "counted"]
    parts = [f"计入{len(counted)}个月" + (f"（{'、'.join(counted)}）" if counted else "")]
    need = min(rule.levels.values())
    if rule.per != "period":
        parts.append(f"首个预警等级需{need}个月" + ("连续" if rule.counting == "consecutive" else ""))
    for state, words in (("met", "达到"), ("corrected", "已更正为达到"), ("outside_stages", "不在适用阶段"),
                         ("silent", "报告未含可比数据")):
        months = [m.period for m in details if m.state == state]
        if months:
            parts.append(f"{words}: {'、'.join(months)}")
    return "；".join(parts + [w.why for w in warnings])


def _cadence_none(pack: Pack, rule: Any, today: dt.date, warnings: Sequence[WarningTrace],
                  details: Sequence[Any], facts: Facts) -> str:
    if not details:
        return f"截至{day(today)}无应报期（未处于适用阶段，或尚未到报送期限）"
    counts = {s: sum(1 for p in details if p.state == s) for s in ("on_time", "left_stages", "before_level",
                                                                      "not_yet")}
    parts = [f"应报{len(details)}期：按时{counts['on_time']}期"]
    if counts["left_stages"]:
        parts.append(f"到期前离开适用阶段{counts['left_stages']}期")
    if counts["before_level"]:
        parts.append(f"逾期但在预警日前报送或离开阶段{counts['before_level']}期")
    if counts["not_yet"]:
        nxt = next(p for p in details if p.state == "not_yet")
        first = min(nxt.levels, key=lambda r: r.reached_on)
        parts.append(f"未报送、未到预警日{counts['not_yet']}期（{nxt.period}应报于{day(nxt.due)}，"
                     f"{day(first.reached_on)}起预警）")
    return "，".join(parts) + "".join(f"；{w.why}" for w in warnings)
