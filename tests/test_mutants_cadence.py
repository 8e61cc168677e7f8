"""The cadence kind (kinds/cadence.py), through a small pack written here: the period owed by its
reference day (a month's last day; the due day of weeks, quarters and years), the due day clamped
to the month, labels, filings on time and late, the rule in words, and what check refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules import Pack, PackError, evaluate, load_pack

D = dt.date

CAD_PACK = """\
id: cad
version: "1"
city: 测试
policy: {file: none, title: 测试规则包}
levels:
  yellow: {name: 黄灯, action: 提醒}
  red: {name: 红灯, action: 督办}
event_types: [doc]
steps:
  - {name: 签约, clause: c}
  - {name: 立项, clause: c}
  - {name: 开工, clause: c}
  - {name: 竣工, clause: c}
  - {name: 投产, clause: c}
milestones: {签约: 签约, 落地: 立项, 开工: 开工, 竣工: 竣工, 投产: 投产, 达产: 投产}
stages:
  - {name: 招引, clause: c, entered_by: {completed: [签约]}}
  - {name: 前期, clause: c, entered_by: {completed: [立项]}}
  - {name: 在建, clause: c, entered_by: {completed: [开工]}}
  - {name: 完工, clause: c, entered_by: {completed: [竣工]}}
rules:
  - id: t.report
    kind: cadence
    title: 报送
    clause: c
    report: doc
    every: month
    due_day: 5
    stages: [在建]
    levels: {yellow: {days: 0}, red: {days: 10}}
    message: "{subject}未报送，{level_name}"
"""

WEEK = ("every: month\n    due_day: 5", "every: week\n    due_day: 3")
QUARTER = ("every: month\n    due_day: 5", "every: quarter\n    due_day: 10")
YEAR = ("every: month\n    due_day: 5", "every: year\n    due_day: 31\n    due_month: 10\n    year_offset: 1")


def write_pack(root: Path, *edits: tuple[str, str]) -> Pack:
    text = CAD_PACK
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    (root / "cad").mkdir()
    (root / "cad" / "pack.yaml").write_text(text, encoding="utf-8")
    return load_pack(root / "cad")


def step(date: str, name: str) -> dict[str, Any]:
    return {"date": date, "type": "step_completed", "step": name}


def doc(date: str, period: str) -> dict[str, Any]:
    return {"date": date, "type": "doc", "period": period}


def rows(pack: Pack, as_of: str, *events: dict[str, Any]) -> list[tuple[Any, ...]]:
    r = evaluate(pack, {"project": {"id": "C-1"}, "events": list(events)}, as_of, include_closed=True)
    return [(w.key, w.level, w.subject, w.since, w.due, w.status, w.closed_on) for w in r.warnings]


def test_a_month_is_owed_by_its_last_day(tmp_path: Path) -> None:
    # 在建 from 03-31 (March's last day) to 05-01 (April's last day is 04-30): March and April are owed.
    pack = write_pack(tmp_path)
    assert rows(pack, "2024-06-30", step("2024-03-31", "开工"), step("2024-05-01", "竣工")) == [
        ("C-1/t.report/2024-03", "red", "2024-03", D(2024, 4, 16), D(2024, 4, 5), "open", None),
        ("C-1/t.report/2024-04", "red", "2024-04", D(2024, 5, 16), D(2024, 5, 5), "open", None),
    ]


def test_a_month_left_before_its_last_day_is_not_owed(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    assert rows(pack, "2024-06-30", step("2024-03-10", "开工"), step("2024-04-30", "竣工")) == [
        ("C-1/t.report/2024-03", "red", "2024-03", D(2024, 4, 16), D(2024, 4, 5), "open", None),
    ]


def test_filings_on_time_late_and_the_first_one_counts(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    events = (step("2024-03-15", "开工"), doc("2024-04-05", "2024-03"), doc("2024-05-08", "2024-04"),
              doc("2024-06-20", "2024-05"), doc("2024-06-21", "2024-05"), {"date": "2024-06-22", "type": "doc"})
    assert rows(pack, "2024-06-30", *events) == [
        ("C-1/t.report/2024-04", "yellow", "2024-04", D(2024, 5, 6), D(2024, 5, 5), "closed", D(2024, 5, 8)),
        ("C-1/t.report/2024-05", "red", "2024-05", D(2024, 6, 16), D(2024, 6, 5), "closed", D(2024, 6, 20)),
    ]
    # the day before a period's first level, nothing is raised; on it, yellow
    assert rows(pack, "2024-04-05", step("2024-03-15", "开工")) == []
    assert rows(pack, "2024-04-06", step("2024-03-15", "开工")) == [
        ("C-1/t.report/2024-03", "yellow", "2024-03", D(2024, 4, 6), D(2024, 4, 5), "open", None)]


def test_a_filing_late_but_before_the_first_level_raises_nothing(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, ("{yellow: {days: 0}", "{yellow: {days: 2}"))
    assert rows(pack, "2024-04-30", step("2024-03-15", "开工"), doc("2024-04-07", "2024-03")) == []
    assert rows(pack, "2024-04-30", step("2024-03-15", "开工"), doc("2024-04-08", "2024-03")) == [
        ("C-1/t.report/2024-03", "yellow", "2024-03", D(2024, 4, 8), D(2024, 4, 5), "closed", D(2024, 4, 8))]
    # the next month is still owed after one filed late but before its first level
    assert rows(pack, "2024-05-31", step("2024-03-15", "开工"), doc("2024-04-07", "2024-03")) == [
        ("C-1/t.report/2024-04", "red", "2024-04", D(2024, 5, 16), D(2024, 5, 5), "open", None)]


def test_the_due_day_is_clamped_to_the_months_end(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, ("due_day: 5", "due_day: 31"))
    assert rows(pack, "2024-04-30", step("2024-01-10", "开工"), doc("2024-03-31", "2024-02")) == [
        ("C-1/t.report/2024-01", "red", "2024-01", D(2024, 3, 11), D(2024, 2, 29), "open", None),
    ]


def test_weeks(tmp_path: Path) -> None:
    # 在建 from Wednesday 2024-05-29, the due day of 2024-W22 (ISO weekday 3).
    pack = write_pack(tmp_path, WEEK)
    events = (step("2024-05-29", "开工"), doc("2024-06-05", "2024-W23"), doc("2024-06-13", "2024-W24"))
    assert rows(pack, "2024-06-30", *events) == [
        ("C-1/t.report/2024-W22", "red", "2024-W22", D(2024, 6, 9), D(2024, 5, 29), "open", None),
        ("C-1/t.report/2024-W24", "yellow", "2024-W24", D(2024, 6, 13), D(2024, 6, 12), "closed", D(2024, 6, 13)),
        ("C-1/t.report/2024-W25", "red", "2024-W25", D(2024, 6, 30), D(2024, 6, 19), "open", None),
        ("C-1/t.report/2024-W26", "yellow", "2024-W26", D(2024, 6, 27), D(2024, 6, 26), "open", None),
    ]
    # entered the day after a due day: that week is not owed
    assert rows(pack, "2024-06-06", step("2024-05-30", "开工")) == [
        ("C-1/t.report/2024-W23", "yellow", "2024-W23", D(2024, 6, 6), D(2024, 6, 5), "open", None)]


def test_quarters(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, QUARTER)
    assert rows(pack, "2024-12-31", step("2024-02-10", "开工"), doc("2024-07-15", "2024-Q3")) == [
        ("C-1/t.report/2024-Q2", "red", "2024-Q2", D(2024, 4, 21), D(2024, 4, 10), "open", None),
        ("C-1/t.report/2024-Q3", "yellow", "2024-Q3", D(2024, 7, 11), D(2024, 7, 10), "closed", D(2024, 7, 15)),
        ("C-1/t.report/2024-Q4", "red", "2024-Q4", D(2024, 10, 21), D(2024, 10, 10), "open", None),
    ]


def test_years_about_the_next_year(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, YEAR)
    assert rows(pack, "2026-12-31", step("2023-05-10", "开工"), doc("2024-10-30", "2025")) == [
        ("C-1/t.report/2024", "red", "2024", D(2023, 11, 11), D(2023, 10, 31), "open", None),
        ("C-1/t.report/2026", "red", "2026", D(2025, 11, 11), D(2025, 10, 31), "open", None),
        ("C-1/t.report/2027", "red", "2027", D(2026, 11, 11), D(2026, 10, 31), "open", None),
    ]


@pytest.mark.parametrize(("entered", "first"), [("2024-01-05", "2024-Q1"), ("2023-12-20", "2024-Q1"),
                                                ("2024-04-10", "2024-Q2"), ("2024-10-01", "2024-Q4")])
def test_the_first_quarter_owed(tmp_path: Path, entered: str, first: str) -> None:
    pack = write_pack(tmp_path, QUARTER)
    r = evaluate(pack, {"project": {"id": "C-1"}, "events": [step(entered, "开工")]}, "2025-01-31")
    labels = [w.subject for w in r.warnings]
    assert labels[0] == first
    assert labels[-1] == "2025-Q1"
    assert len(labels) == len(set(labels)) == {"2024-Q1": 5, "2024-Q2": 4, "2024-Q4": 2}[first]


def test_without_stages_every_period_is_owed_once_and_the_subject_leads(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, ("    stages: [在建]\n", "    subject: 月报\n"))
    events = (step("2024-01-03", "签约"), step("2024-01-10", "立项"), step("2024-01-20", "开工"),
              step("2024-02-03", "竣工"))
    assert rows(pack, "2024-03-06", *events) == [
        ("C-1/t.report/月报 2024-01", "red", "月报 2024-01", D(2024, 2, 16), D(2024, 2, 5), "open", None),
        ("C-1/t.report/月报 2024-02", "yellow", "月报 2024-02", D(2024, 3, 6), D(2024, 3, 5), "open", None),
    ]
    r = evaluate(pack, {"project": {"id": "C-1"}, "events": list(events)}, "2024-03-06")
    assert [w.message for w in r.warnings] == ["月报 2024-01未报送，红灯", "月报 2024-02未报送，黄灯"]


def test_no_watched_stage_owes_nothing(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    assert rows(pack, "2024-12-31", step("2024-01-03", "签约")) == []


LEVELS = ("yellow after 0 days past the due day unfiled — from day 1 after the due day; red after 10 days past "
          "the due day unfiled — from day 11 after the due day")


@pytest.mark.parametrize(("edits", "measures"), [
    ((), "doc every month, due on day 5 of the following month, while in stage 在建"),
    ((WEEK,), "doc every week, due on ISO weekday 3 of its week, while in stage 在建"),
    ((QUARTER,), "doc every quarter, due on day 10 of the quarter's first month, while in stage 在建"),
    ((YEAR,), "doc every year, due on 10/31 each year (about the next year), while in stage 在建"),
    ((YEAR, ("year_offset: 1", "year_offset: 0")), "doc every year, due on 10/31 each year, while in stage 在建"),
    ((("stages: [在建]", "stages: [前期, 在建]"),), "doc every month, due on day 5 of the following month, "
     "while in stage 前期 or 在建"),
    ((("    stages: [在建]\n", ""),), "doc every month, due on day 5 of the following month"),
], ids=["month", "week", "quarter", "year", "year-same", "two-stages", "no-stages"])
def test_the_rule_in_words(tmp_path: Path, edits: tuple[tuple[str, str], ...], measures: str) -> None:
    from lifecycle_rules.kinds import cadence

    pack = write_pack(tmp_path, *edits)
    rule = pack.spec.rules[0]
    assert isinstance(rule, cadence.CadenceRule)
    assert (cadence.measures(rule), cadence.levels_in_words(pack, rule)) == (measures, LEVELS)


@pytest.mark.parametrize(("old", "new", "where", "said"), [
    ("every: month\n    due_day: 5", "every: week\n    due_day: 8", "rules[0].due_day",
     "for a weekly report, due_day is an ISO weekday 1-7"),
    ("stages: [在建]", "stages: [在建, 未知]", "rules[0].stages",
     "unknown stage '未知'; the pack's stages are ['招引', '前期', '在建', '完工']"),
    ("report: doc", "report: nodoc", "rules[0].report", "unknown event type 'nodoc'"),
    ("{days: 0}", "{days: 11}", "rules[0].levels", "red must come after yellow (red at 10 days, yellow at 11 days)"),
], ids=["week-day", "stage", "report", "order"])
def test_check_refuses_and_names_the_key(tmp_path: Path, old: str, new: str, where: str, said: str) -> None:
    with pytest.raises(PackError) as caught:
        write_pack(tmp_path, (old, new))
    assert caught.value.path == where
    assert str(caught.value).split(" at ", 1)[1] == f"{where}: {said}"


def test_a_weekly_due_day_of_7_is_sunday(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, ("every: month\n    due_day: 5", "every: week\n    due_day: 7"))
    assert rows(pack, "2024-06-10", step("2024-06-03", "开工")) == [
        ("C-1/t.report/2024-W23", "yellow", "2024-W23", D(2024, 6, 10), D(2024, 6, 9), "open", None)]


def test_a_period_not_yet_warned_has_no_warning_to_answer(tmp_path: Path) -> None:
    # Before its first level (04-08), or filed late but before it, the period has no warning: a
    # disposition of it refers to a warning the project does not have.
    key = "C-1/t.report/2024-03"
    answer = {"date": "2024-04-04", "type": "disposition", "warning": key, "action": "completed"}
    said = f"disposition of 2024-04-04 refers to warning '{key}', which this project does not have; ignored"
    pack = write_pack(tmp_path, ("{yellow: {days: 0}", "{yellow: {days: 2}"))
    r = evaluate(pack, {"project": {"id": "C-1"}, "events": [step("2024-03-15", "开工"), answer]}, "2024-04-05",
                 include_closed=True)
    assert (r.warnings, r.notices) == ((), (said,))
    r = evaluate(pack, {"project": {"id": "C-1"}, "events": [step("2024-03-15", "开工"), doc("2024-04-07", "2024-03"),
                                                                answer]}, "2024-04-30", include_closed=True)
    assert (r.warnings, r.notices) == ((), (said,))
