"""The words of a trace (``core/explain``), in the office's terms: numbers exact (83⅓),
thresholds with their arithmetic (90 × (1 − 1/6) = 75天，第76天（2024年5月17日）起), dates as
2024年5月17日, conditions and routes (工业), statuses and actions (正在办理). Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from lifecycle_rules.core.dates import Threshold, Undated, add_months
from lifecycle_rules.core.wording import cn_date

if TYPE_CHECKING:
    from lifecycle_rules.core.explain_model import LevelRule
    from lifecycle_rules.core.history import ProjectView
    from lifecycle_rules.pack.parts import Anchor, Condition

SECTOR_WORDS = {"industrial": "工业", "commercial_residential": "商服住", "government": "政府投资",
                "energy": "能源", "infrastructure": "基础设施", "livelihood": "民生", "other": "其他"}
STATUS_WORDS = {"open": "未办理", "in_progress": "正在办理", "closed": "已销号", "closure_overdue": "销号超时"}
ACTION_WORDS = {"no_action_needed": "无需办理", "in_progress": "正在办理", "completed": "已完成办理",
                "project_exited": "项目退出"}
UNIT_WORDS = {"days": "天", "working_days": "个工作日", "months": "个月"}
REPORT_WORDS = {"monthly_report": "月度报告", "weekly_report": "周报"}
PLAN_WORDS = {"start": "计划开工日期", "completion": "计划竣工日期", "production": "计划投产日期"}
_WEEKDAYS = "一二三四五六日"
_VULGAR = {(1, 2): "½", (1, 3): "⅓", (2, 3): "⅔", (1, 4): "¼", (3, 4): "¾", (1, 5): "⅕", (2, 5): "⅖",
           (3, 5): "⅗", (4, 5): "⅘", (1, 6): "⅙", (5, 6): "⅚", (1, 8): "⅛", (3, 8): "⅜", (5, 8): "⅝",
           (7, 8): "⅞"}


def number(value: Fraction | int) -> str:
    """75 -> 75; 250/3 -> 83⅓; 144/7 -> 20 4/7 (exact, as the engine counts)."""
    f = Fraction(value)
    whole, rest = divmod(f.numerator, f.denominator)
    if rest == 0:
        return str(whole)
    glyph = _VULGAR.get((rest, f.denominator))
    if glyph is not None:
        return f"{whole}{glyph}" if whole else glyph
    return f"{whole} {rest}/{f.denominator}" if whole else f"{rest}/{f.denominator}"


def amount(value: float) -> str:
    """An amount in 万元 as written: 30000, 499.5 (never 3e+04)."""
    text = format(Decimal(str(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def day(d: dt.date | None) -> str:
    """2024年5月17日; a day of a year not known yet, or none, in words."""
    if d is None:
        return "（无日期）"
    if isinstance(d, Undated):
        return f"在{d.gap_year}年，其节假日安排尚未公布"
    return cn_date(d)


def short_day(d: dt.date, year: int) -> str:
    """10月8日 within ``year``, 2025年1月2日 outside it."""
    return f"{d.month}月{d.day}日" if d.year == year else cn_date(d)


def weekday(d: dt.date) -> str:
    return f"周{_WEEKDAYS[d.weekday()]}"


def day_list(days: Sequence[dt.date], year: int, makeup: Iterable[dt.date] = ()) -> str:
    """9月29日（周日，调休上班）、9月30日、10月8日 ..."""
    made = set(makeup)
    return "、".join(short_day(d, year) + (f"（{weekday(d)}，调休上班）" if d in made else "") for d in days)


def day_ranges(days: Sequence[dt.date], year: int) -> str:
    """Runs of consecutive days: 10月1日至10月7日、10月12日."""
    runs: list[tuple[dt.date, dt.date]] = []
    for d in sorted(days):
        if runs and (d - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return "、".join(short_day(a, year) if a == b else f"{short_day(a, year)}至{short_day(b, year)}"
                    for a, b in runs)


def span(th: Threshold) -> str:
    """90天, 5个工作日, 83⅓天, 18个月."""
    return f"{number(th.value)}{UNIT_WORDS[th.unit]}"


def ordinal_of(th: Threshold) -> int | None:
    """The day (or working day) a threshold is reached on, counted from the start: the first
    whose elapsed time exceeds it (SPEC §5); None for months (reached past a date)."""
    return None if th.unit == "months" else th.value.numerator // th.value.denominator + 1


def reached(th: Threshold, on: dt.date | None) -> str:
    """第76天（2024年5月17日）起 / 第6个工作日（…）起 / 满3个月次日（…）起."""
    when = f"（{day(on)}）" if on is not None else ""
    n = ordinal_of(th)
    if th.unit == "days":
        return f"第{n}天{when}起"
    if th.unit == "working_days":
        return f"第{n}个工作日{when}起"
    if th.value.denominator == 1:
        return f"满{th.value}个月次日{when}起"
    return f"超过{number(th.value)}个月之日{when}起"


def level_rule(rule: LevelRule, on: dt.date | None) -> str:
    """A level's threshold with its arithmetic, and the day it comes."""
    if rule.how == "count":
        return f"第{rule.count}个月计入时" + (f"（{day(on)}）" if on is not None else "") + "起"
    assert rule.threshold is not None
    th = rule.threshold
    if rule.how == "before_limit" and rule.limit is not None and rule.fraction is not None:
        head = (f"{number(rule.limit.value)} × (1 − {rule.fraction}) = {number(th.value)}"
                f"{UNIT_WORDS[th.unit]}")
    else:
        head = span(th)
    return f"{head}，{reached(th, on)}"


def elapsed_words(unit: str, value: Fraction | None, anchor: dt.date, on: dt.date, at_least: int = 0) -> str:
    """第91天 / 第6个工作日 / 满2个月又15天 (at least ``at_least`` working days, when a year is not known)."""
    if value is None:
        return f"至少第{at_least}个工作日（其后年份的节假日安排尚未公布，无法计数）"
    if unit == "days":
        return f"第{value}天"
    if unit == "working_days":
        return f"第{value}个工作日" if value else "尚无工作日"
    whole = value.numerator // value.denominator
    extra = (on - add_months(anchor, whole)).days
    if not whole:
        return f"{extra}天（不足1个月）"
    return f"满{whole}个月" + (f"又{extra}天" if extra else "")


def anchor_words(anchor: Anchor) -> str:
    """What starts a deadline's clock: 拿地 完成 / 合规性审查 开始 / 进入落地未开工阶段 / 计划开工日期."""
    if anchor.step_completed is not None:
        return f"{anchor.step_completed} 完成"
    if anchor.step_started is not None:
        return f"{anchor.step_started} 开始"
    if anchor.stage_entered is not None:
        return f"进入{anchor.stage_entered}阶段"
    return PLAN_WORDS[anchor.plan or "start"]


def not_yet_words(anchor: Anchor) -> str:
    """The clock has not started: 开工监管尚未完成 / 合规性审查尚未开始 / 计划开工日期未填."""
    if anchor.step_completed is not None:
        return f"{anchor.step_completed}尚未完成"
    if anchor.step_started is not None:
        return f"{anchor.step_started}尚未开始"
    if anchor.stage_entered is not None:
        return f"尚未进入{anchor.stage_entered}阶段"
    return f"{PLAN_WORDS[anchor.plan or 'start']}未填"


def condition_words(cond: Condition | None) -> str:
    """A route's (or an assignment's) condition in words: 工业, 开发区, 工业、签约未落地阶段."""
    if cond is None:
        return "其余项目"
    parts = [wants for _, wants in condition_parts(cond)]
    return "、".join(parts) if parts else "其余项目"


def condition_parts(cond: Condition) -> list[tuple[str, str]]:
    """(key, what it wants in words) for each key the condition gives."""
    out: list[tuple[str, str]] = []
    if cond.sectors is not None:
        out.append(("sectors", "或".join(SECTOR_WORDS[s] for s in cond.sectors) or "行业属于空列表（无项目符合）"))
    if cond.exclude_sectors is not None:
        out.append(("exclude_sectors", "非" + "或".join(SECTOR_WORDS[s] for s in cond.exclude_sectors)))
    if cond.in_development_zone is not None:
        out.append(("in_development_zone", "开发区" if cond.in_development_zone else "非开发区"))
    if cond.investment_wan is not None:
        rng = cond.investment_wan
        bounds = ([f"≥{amount(rng.min)}万元"] if rng.min is not None else []) + \
                 ([f"<{amount(rng.below)}万元"] if rng.below is not None else [])
        out.append(("investment_wan", "投资" + "且".join(bounds)))
    if cond.stages is not None:
        out.append(("stages", "或".join(cond.stages) + "阶段"))
    for name, want in (cond.attributes or {}).items():
        out.append((f"attributes.{name}", f"{name}={_value(want)}"))
    return out


def project_has(key: str, project: ProjectView, stage: str | None) -> str:
    """The project's value for a condition key, in words."""
    if key in ("sectors", "exclude_sectors"):
        return SECTOR_WORDS.get(project.sector, project.sector)
    if key == "in_development_zone":
        return "开发区" if project.in_development_zone else "非开发区"
    if key == "investment_wan":
        inv = project.investment_wan
        return "未填投资额" if inv is None else f"投资{amount(inv)}万元"
    if key == "stages":
        return f"{stage}阶段" if stage else "无阶段"
    name = key.removeprefix("attributes.")
    value = project.attributes.get(name)
    return f"{name}未填" if value is None else f"{name}={_value(value)}"


def _value(value: object) -> str:
    return ("是" if value else "否") if isinstance(value, bool) else str(value)
