"""A warning in the office's words: the columns and values of every file a clerk opens
(the office CSV/XLSX of ``evaluate``, the bulletin, the letters' index). JSON Lines stay
the machine contract (SPEC §4) and do not use this.

``office_row(pack, result, warning)`` is the one place a warning becomes a row of Chinese
columns; everything people read is built from it, so a column means the same thing in
every file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lifecycle_rules.core.results import ProjectWarning, Result
from lifecycle_rules.core.wording import cn_subject, project_label
from lifecycle_rules.pack.compile import Pack

STATUS_WORDS: dict[str, str] = {
    "open": "未办理",
    "in_progress": "正在办理",
    "closed": "已销号",
    "closure_overdue": "销号超时",
}
COLOR_WORDS: dict[str, str] = {"red": "红灯", "orange": "橙灯", "yellow": "黄灯"}
UNIT_JOIN = "、"

# The office columns, in order: (key, header). Dates stay dates (real date cells in XLSX).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("project_id", "项目代码"),
    ("project_name", "项目名称"),
    ("region", "所属乡镇（街道）"),
    ("title", "预警事项"),
    ("subject", "环节/期间"),
    ("color", "预警颜色"),
    ("level_name", "预警等级"),
    ("since", "预警日期"),
    ("due", "期限"),
    ("status", "办理状态"),
    ("tier", "协调层级"),
    ("responsible", "责任单位"),
    ("action", "处置要求"),
    ("stage", "所处阶段"),
    ("closed_on", "销号日期"),
    ("pushes", "推送次数"),
    ("clause", "政策依据"),
    ("message", "预警内容"),
    ("rule", "规则编号"),
    ("key", "预警编号"),
    # Which policy produced the row (SPEC §4's provenance): the day evaluated, the pack
    # as id@version and the digest of its content and the parameter values in force.
    ("as_of", "评估日期"),
    ("pack", "规则包"),
    ("pack_digest", "规则包摘要"),
)
HEADERS: dict[str, str] = dict(COLUMNS)
DATE_COLUMNS = frozenset({"since", "due", "closed_on", "as_of"})
TIER_WORDS = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}


def office_row(pack: Pack, result: Result, w: ProjectWarning) -> dict[str, Any]:
    """One warning as the office reads it (keys of ``COLUMNS``; dates as dates)."""
    rule = pack.rules[pack.rule_order[w.rule]] if w.rule in pack.rule_order else None
    return {
        "project_id": w.project_id,
        "project_name": result.project_name,
        "region": result.region,
        "title": rule.title if rule is not None else w.rule,
        "subject": cn_subject(w.subject),
        "color": COLOR_WORDS.get(w.level, w.level),
        "level_name": w.level_name or w.level,
        "since": w.since,
        "due": w.due,
        "status": STATUS_WORDS.get(w.status, w.status),
        "tier": TIER_WORDS.get(w.tier, f"{w.tier}级") if w.tier is not None else "",
        "responsible": UNIT_JOIN.join(w.responsible),
        "action": w.action or "",
        "stage": w.stage or "",
        "closed_on": w.closed_on,
        "pushes": w.pushes,
        "clause": pack.cite(w.clause),
        "message": w.message,
        "rule": w.rule,
        "key": w.key,
        "as_of": w.as_of or result.as_of,
        "pack": w.pack or result.pack,
        "pack_digest": w.pack_digest or result.pack_digest,
    }


def project_words(result: Result) -> str:
    """名称（代码）, or the code alone."""
    return project_label(result.project_name, result.project_id)


def day_words(day: dt.date | None) -> str:
    return "" if day is None else f"{day.year}年{day.month}月{day.day}日"
