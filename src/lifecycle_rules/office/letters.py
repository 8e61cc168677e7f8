"""The letters a run sends (预警提示函, 督办通知 ...): which warnings get one, what each says
(the fields a Word template fills in) and the file it is written to. No Word here: the
template and its rendering are ``letters_docx``, the folder ``letters_out``.

Which warnings get a letter (docs/letters.md): of the warnings standing on ``as_of``, in
a period ``[since, as_of]`` (``since`` by default the first day of ``as_of``'s month, so a
monthly run sends each letter once):

- an ``open`` warning whose current level was reached in the period (``since`` of the
  warning within it): a letter of its level (the level's local name: 预警提示函, 督办 ...);
- an ``in_progress`` one, likewise, only with ``include_in_progress``;
- a ``closure_overdue`` one that became overdue in the period (it was not overdue on the
  day before ``since``): a 销号超时催办 letter.

One letter per warning: a letter names one project and one matter.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lifecycle_rules.core.results import ProjectWarning, Result
from lifecycle_rules.core.vocabulary import FIRST_DAY
from lifecycle_rules.core.wording import cn_date, cn_subject, project_label
from lifecycle_rules.office.portfolio import Portfolio
from lifecycle_rules.office.words import COLOR_WORDS, STATUS_WORDS, TIER_WORDS, UNIT_JOIN
from lifecycle_rules.pack.compile import Pack

OVERDUE_KIND = "销号超时催办"
NO_ISSUER = "（发文单位）"
NO_ADDRESSEE = "（主送单位）"
INDEX_NAME = "函件清单.xlsx"

Reason = Literal["level", "overdue"]

# Every field a template may use, with what it holds (docs/letters.md lists the same, with
# examples; tests/test_letters.py holds the two equal). ``units`` is a list, every other
# field a text ('' when the warning has no such value).
FIELDS: dict[str, str] = {
    "title": "the letter's title in 公文 style: 关于{project}{matter}的{doc_kind}",
    "letter_type": "函件类型: the level's local name (预警提示函, 督办 ...), or 销号超时催办",
    "doc_kind": "the 文种 in the title: the letter type when it names a document (…函, …通知, "
                "…通报, …提醒), 督办/催办 + 通知, else 通知",
    "closing": "特此函告。 for a …函, else 特此通知。",
    "addressee": "主送: the responsible units joined with 、 (（主送单位） if none)",
    "units": "the responsible units, as a list (for {% for u in units %})",
    "project_id": "项目代码",
    "project_name": "项目名称 ('' if the export gives none)",
    "project": "名称（代码）, or the code alone",
    "region": "所属乡镇（街道）",
    "matter": "预警事项: the rule's title, with the step or period it is about",
    "rule_title": "the rule's title alone",
    "subject": "the step, stage or period the warning is about, in words",
    "level": "yellow, orange or red",
    "color": "黄灯, 橙灯 or 红灯",
    "level_name": "预警等级: the level's local name",
    "body": "the warning's message: a sentence naming the project, the matter, the level and the date",
    "message": "the same sentence as body",
    "clause": "the clause cited by the policy's document number (建政办函〔2024〕22号 三(三))",
    "document": "the policy's document number, or its title in 《》",
    "policy_title": "the policy's title",
    "since": "预警日期: the day the level was reached (2024年6月1日)",
    "due": "期限: the deadline the rule measures against ('' if none)",
    "action": "处置要求: what the level asks for",
    "status": "办理状态 (未办理, 正在办理, 销号超时)",
    "tier": "协调层级 (一级 …; '' if the pack has no ladder)",
    "stage": "所处阶段",
    "pushes": "推送次数 since the answer 正在办理",
    "issuer": "the issuing office: --issuer, else the unit the level's action names (由…), "
              "else （发文单位）",
    "date": "the letter's date: as_of in words (2024年11月30日)",
    "number": "序号 of the letter in this run",
    "key": "预警编号 (stable across runs)",
    "rule": "规则编号",
    "pack": "the pack, id@version",
}

# The unit an action names as the one who acts: 由县重点项目事务中心在…, 由服务小组办公室催报….
# An organisation's name, then the word that follows it; nothing is guessed beyond that.
_BY_UNIT = re.compile(
    r"^由(?P<unit>[^，。；：、\s]{2,40}?(?:办公室|中心|委员会|委|局|专班|小组|政府|管委会)(?:（[^（）]{1,30}）)?)"
    r"(?=在|催|发|下达|予以|向|对|负责|组织|通报|，|。|$)"
)
_TRAILING_PARENS = re.compile(r"（[^（）]*）$")


@dataclass(frozen=True)
class Chosen:
    """A warning that gets a letter, and why: its level reached in the period, or its
    sign-off overdue in the period."""

    result: Result
    warning: ProjectWarning
    reason: Reason


@dataclass
class Selection:
    """What a run decided: the letters, and every standing warning that got none, by why."""

    as_of: dt.date
    since: dt.date
    chosen: list[Chosen] = field(default_factory=list)
    standing: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def skipped_lines(self) -> list[str]:
        words = {
            "before": f"level reached before {self.since.isoformat()}",
            "in_progress": "in progress (正在办理; --include-in-progress sends them)",
            "overdue_before": f"销号超时 already before {self.since.isoformat()}",
        }
        return [f"{n} {words[why]}" for why, n in sorted(self.skipped.items())]


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def select(portfolio: Portfolio, as_of: dt.date, since: dt.date, *, include_in_progress: bool) -> Selection:
    """The warnings standing on ``as_of`` that get a letter for the period [since, as_of]."""
    if since > as_of:
        raise ValueError(f"--since {since.isoformat()} is after --as-of {as_of.isoformat()}")
    out = Selection(as_of, since)
    before = since - dt.timedelta(days=1)
    overdue_before: set[str] = set()
    if before >= FIRST_DAY:
        overdue_before = {w.key for r in portfolio.results(before, include_closed=False)
                          for w in r.warnings if w.status == "closure_overdue"}
    for result in portfolio.results(as_of, include_closed=False):
        for w in result.warnings:
            out.standing += 1
            if w.status == "closure_overdue":
                if w.key in overdue_before:
                    out.skipped["overdue_before"] += 1
                else:
                    out.chosen.append(Chosen(result, w, "overdue"))
            elif w.status == "in_progress" and not include_in_progress:
                out.skipped["in_progress"] += 1
            elif since <= w.since <= as_of:
                out.chosen.append(Chosen(result, w, "level"))
            else:
                out.skipped["before"] += 1
    return out


def letter_type(chosen: Chosen) -> str:
    """函件类型: the level's local name, or 销号超时催办."""
    if chosen.reason == "overdue":
        return OVERDUE_KIND
    return chosen.warning.level_name or COLOR_WORDS.get(chosen.warning.level, chosen.warning.level)


def doc_kind(kind: str) -> str:
    """The 文种 a letter type is sent as (see FIELDS['doc_kind'])."""
    base = _TRAILING_PARENS.sub("", kind).strip() or kind
    if base.endswith(("督办", "催办")):
        return base + "通知"
    if base.endswith(("函", "通知", "通报", "提醒")):
        return base
    return "通知"


def title(who: str, matter: str, kind: str) -> str:
    """关于{who}{matter}的{文种}: 关于年产5万吨新材料项目落地未开工（开工监管）红灯预警的通知."""
    word = doc_kind(kind)
    base = _TRAILING_PARENS.sub("", kind).strip() or kind
    if word == "通知" and base != "通知" and base not in matter:  # not 评估意见超时 twice
        return f"关于{who}{matter}{base}的通知"
    return f"关于{who}{matter}的{word}"


def matter(rule_title: str, subject: str) -> str:
    """预警事项: the rule's title and, in （）, what of the subject the title does not say
    (the step, the period): 未完成目标计划（月度目标 2024年3月）, 月度投资未完成按月分解计划（2024年4月）."""
    words = _TRAILING_PARENS.sub("", cn_subject(subject)).strip()  # a week without its dates
    extra = " ".join(p for p in words.split(" ") if p and p not in rule_title)
    return f"{rule_title}（{extra}）" if extra else rule_title


def default_issuer(action: str) -> str:
    """The unit the level's action names as the one acting (由…催报, 由…发出), else NO_ISSUER."""
    found = _BY_UNIT.match(action.strip())
    return found.group("unit") if found else NO_ISSUER


def _sentence(text: str) -> str:
    """A text to set inside a sentence of the template: no closing 。 of its own."""
    return text.strip().rstrip("。；;，, ")


def fields(pack: Pack, chosen: Chosen, *, number: int, as_of: dt.date, issuer: str | None) -> dict[str, Any]:
    """Every field of ``FIELDS`` for one letter (texts made safe for a Word document)."""
    r, w = chosen.result, chosen.warning
    rule = pack.rules[pack.rule_order[w.rule]] if w.rule in pack.rule_order else None
    rule_title = rule.title if rule is not None else w.rule
    kind = letter_type(chosen)
    what = matter(rule_title, w.subject)
    name = r.project_name.strip()
    who = name if name and name != w.project_id else f"{w.project_id}项目"
    word = doc_kind(kind)
    values: dict[str, Any] = {
        "title": title(who, what, kind),
        "letter_type": kind,
        "doc_kind": word,
        "closing": "特此函告。" if word.endswith("函") else "特此通知。",
        "addressee": UNIT_JOIN.join(w.responsible) or NO_ADDRESSEE,
        "units": list(w.responsible),
        "project_id": w.project_id,
        "project_name": name,
        "project": project_label(r.project_name, w.project_id),
        "region": r.region,
        "matter": what,
        "rule_title": rule_title,
        "subject": cn_subject(w.subject),
        "level": w.level,
        "color": COLOR_WORDS.get(w.level, w.level),
        "level_name": w.level_name or COLOR_WORDS.get(w.level, w.level),
        "body": w.message,
        "message": w.message,
        "clause": _sentence(pack.cite(w.clause)),
        "document": pack.document,
        "policy_title": pack.spec.policy.title,
        "since": cn_date(w.since),
        "due": cn_date(w.due) if w.due else "",
        "action": _sentence(w.action),
        "status": STATUS_WORDS.get(w.status, w.status),
        "tier": TIER_WORDS.get(w.tier, f"{w.tier}级") if w.tier is not None else "",
        "stage": w.stage or "",
        "pushes": str(w.pushes),
        "issuer": issuer if issuer is not None else default_issuer(w.action),
        "date": cn_date(as_of),
        "number": str(number),
        "key": w.key,
        "rule": w.rule,
        "pack": pack.label,
    }
    return {k: safe_text(v) if isinstance(v, str) else [safe_text(u) for u in v] for k, v in values.items()}


# What a Word document (XML 1.0) cannot hold, and what docxtpl would turn into breaks: line
# breaks and tabs in a name become a space; other control characters, lone surrogates and
# U+FFFE/U+FFFF their visible escape (as in the XLSX files, io/writers.py).
_BREAKS = re.compile("[\t\n\r\x0b\x0c\x85\u2028\u2029]+")
_NOT_XML = re.compile("[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def safe_text(text: str) -> str:
    text = _BREAKS.sub(" ", text)
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# A file name on every system the office uses: none of <>:"/\|?* nor control or format
# characters (a right-to-left override could disguise the suffix), no leading or trailing
# dot or space, bounded length; the 序号 first makes it unique and never a device name.
_NOT_IN_NAMES = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


def name_part(text: str, limit: int) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join("_" if unicodedata.category(c) in ("Cf", "Cs", "Co", "Cn", "Zl", "Zp") else c for c in text)
    text = _NOT_IN_NAMES.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    return text[:limit].rstrip(" .") or "_"


def file_name(number: int, width: int, project_id: str, kind: str) -> str:
    """``{序号}_{项目代码}_{函件类型}.docx``, safe: 001_JD-2024-001_红灯预警.docx."""
    return f"{number:0{width}d}_{name_part(project_id, 40)}_{name_part(kind, 20)}.docx"


@dataclass(frozen=True)
class Letter:
    """One letter to write: its file name, its fields and its row of the index."""

    file_name: str
    fields: Mapping[str, Any]
    row: Mapping[str, Any]


INDEX_COLUMNS: tuple[str, ...] = (
    "序号", "文件名", "函件类型", "项目代码", "项目名称", "主送单位",
    "预警事项", "预警等级", "预警日期", "期限", "政策依据",
)  # fmt: skip


def letters(pack: Pack, selection: Selection, *, issuer: str | None) -> list[Letter]:
    """The run's letters, numbered in input order (projects as read, warnings as evaluated)."""
    width = max(3, len(str(len(selection.chosen))))
    out: list[Letter] = []
    for number, chosen in enumerate(selection.chosen, 1):
        values = fields(pack, chosen, number=number, as_of=selection.as_of, issuer=issuer)
        name = file_name(number, width, chosen.warning.project_id, values["letter_type"])
        w = chosen.warning
        row = {
            "序号": number, "文件名": name, "函件类型": values["letter_type"], "项目代码": w.project_id,
            "项目名称": chosen.result.project_name, "主送单位": UNIT_JOIN.join(w.responsible),
            "预警事项": values["matter"], "预警等级": values["level_name"], "预警日期": w.since,
            "期限": w.due, "政策依据": values["clause"],
        }  # fmt: skip
        out.append(Letter(name, values, row))
    return out
