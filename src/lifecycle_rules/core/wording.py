"""The office's words for the values of a warning: dates as 2024年3月2日, periods as
2024年3月 / 2024年第二季度 / 2024年第23周（6月3日至6月9日）, a project as 名称（代码）, where
a warning stands in its sign-off cycle, and a clause cited by the policy's document
number. Pure: the messages of both engines and every file a person opens use them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from lifecycle_rules.core.dates import iso_week_of, month_of

_QUARTERS = {"1": "一", "2": "二", "3": "三", "4": "四"}


@functools.lru_cache(maxsize=8192)  # a batch formats the same days and periods again and again
def cn_date(day: dt.date) -> str:
    """2024年3月2日."""
    return f"{day.year}年{day.month}月{day.day}日"


@functools.lru_cache(maxsize=8192)
def cn_period(label: str) -> str:
    """A period label in words: ``2024-03`` 2024年3月, ``2024-Q2`` 2024年第二季度, ``2024-W23``
    2024年第23周（6月3日至6月9日）, ``2025`` 2025年; anything else as given."""
    if re.fullmatch(r"\d{4}-\d{2}", label):
        try:
            y, m = month_of(label)
        except ValueError:
            return label
        return f"{y}年{m}月"
    q = re.fullmatch(r"(\d{4})-Q([1-4])", label)
    if q:
        return f"{q.group(1)}年第{_QUARTERS[q.group(2)]}季度"
    if re.fullmatch(r"\d{4}-W\d{2}", label):
        try:
            monday = iso_week_of(label)
        except ValueError:
            return label
        sunday = monday + dt.timedelta(days=6)
        end = f"{sunday.month}月{sunday.day}日" if sunday.year == monday.year else cn_date(sunday)
        return f"{label[:4]}年第{int(label[6:])}周（{monday.month}月{monday.day}日至{end}）"
    if re.fullmatch(r"\d{4}", label):
        return f"{label}年"
    return label


def cn_subject(subject: str) -> str:
    """A subject whose last word is a period label, with the period in words
    (``月度目标 2024-03`` -> 月度目标 2024年3月, ``2024-W38`` -> 2024年第38周（…）)."""
    head, _, tail = subject.rpartition(" ")
    words = cn_period(tail)
    if words == tail:
        return subject
    return f"{head} {words}" if head else words


def project_label(name: str, project_id: str) -> str:
    """名称（代码）, or the code alone when the project has no name (never 代码（代码）)."""
    name = name.strip()
    return f"{name}（{project_id}）" if name and name != project_id else project_id


OVERDUE_ACTION = "尽快办结销号"


def status_sentence(status: str, pushes: int, closed_on: dt.date | None) -> str:
    """Where the warning stands, as a sentence to end its message ('' while it is open)."""
    if status == "in_progress":
        return f"目前正在办理（已推送{pushes}次）。" if pushes else "目前正在办理。"
    if status == "closure_overdue":
        return f"目前销号超时：答复正在办理后已推送{pushes}次仍未销号。"
    if status == "closed" and closed_on is not None:
        return f"已于{cn_date(closed_on)}销号。"
    return ""


def cite(clause: str, policy_file: str, document: str) -> str:
    """A clause cited by the policy's document number (or title) instead of the file the
    pack keeps it in: ``jiande-2024.txt 五.2`` -> 建政办函〔2024〕22号 五.2."""
    if not policy_file or policy_file not in clause:
        return clause
    return clause.replace(f"{policy_file} ", f"{document} ").replace(policy_file, document)
