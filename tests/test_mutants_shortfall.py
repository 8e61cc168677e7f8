"""The shortfall kind (kinds/shortfall.py), through a small pack written here: a month counts when
the project is in a watched stage on the month's last day, from its first filing that shows it
short; cumulative and consecutive counts; non-compliant reports; the rule in words; what check refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules import Pack, PackError, evaluate, load_pack

D = dt.date

SF_PACK = """\
id: sf
version: "1"
city: 测试
policy: {file: none, title: 测试规则包}
levels:
  yellow: {name: 黄灯, action: 提醒}
  red: {name: 红灯, action: 督办}
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
  - id: t.short
    kind: shortfall
    title: 未达序时
    clause: c
    stages: [在建]
    counting: consecutive
    levels: {yellow: 1, red: 2}
    message: "{subject}{anchor}|{stage}|{count}个月，{level_name}"
"""

CUMULATIVE = ("counting: consecutive", "counting: cumulative")


def write_pack(root: Path, *edits: tuple[str, str]) -> Pack:
    text = SF_PACK
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    (root / "sf").mkdir()
    (root / "sf" / "pack.yaml").write_text(text, encoding="utf-8")
    return load_pack(root / "sf")


def step(date: str, name: str) -> dict[str, Any]:
    return {"date": date, "type": "step_completed", "step": name}


def report(date: str, period: str, planned: float | None = 100.0, actual: float | None = 50.0,
           **kw: Any) -> dict[str, Any]:
    e = {"date": date, "type": "monthly_report", "period": period, **kw}
    if planned is not None:
        e["planned_wan"] = planned
    if actual is not None:
        e["actual_wan"] = actual
    return e


def rows(pack: Pack, as_of: str, *events: dict[str, Any]) -> list[tuple[Any, ...]]:
    r = evaluate(pack, {"project": {"id": "F-1"}, "events": list(events)}, as_of, include_closed=True)
    return [(w.key, w.level, w.since, w.stage, w.status, w.message) for w in r.warnings]


def test_a_month_counts_when_in_stage_on_its_last_day(tmp_path: Path) -> None:
    # 在建 from 03-31 (March's last day) until 05-01: March and April count, May does not.
    pack = write_pack(tmp_path)
    events = (step("2024-03-31", "开工"), step("2024-05-01", "竣工"), report("2024-04-03", "2024-03"),
              report("2024-05-03", "2024-04"), report("2024-06-03", "2024-05"))
    assert rows(pack, "2024-06-30", *events) == [
        ("F-1/t.short/月度投资", "red", D(2024, 5, 3), "在建", "open", "月度投资2024年4月3日|在建|2个月，红灯")]
    # left on April's last day: April does not count
    events = (step("2024-03-31", "开工"), step("2024-04-30", "竣工"), report("2024-04-03", "2024-03"),
              report("2024-05-03", "2024-04"))
    assert rows(pack, "2024-06-30", *events) == [
        ("F-1/t.short/月度投资", "yellow", D(2024, 4, 3), "在建", "open", "月度投资2024年4月3日|在建|1个月，黄灯")]
    # entered on April's first day: March does not count
    events = (step("2024-04-01", "开工"), report("2024-04-03", "2024-03"), report("2024-05-03", "2024-04"))
    assert rows(pack, "2024-06-30", *events) == [
        ("F-1/t.short/月度投资", "yellow", D(2024, 5, 3), "在建", "open", "月度投资2024年5月3日|在建|1个月，黄灯")]


GAPS = (step("2023-11-01", "开工"), report("2024-01-05", "2023-12"), report("2024-02-05", "2024-01", actual=100.0),
        report("2024-03-05", "2024-02"), report("2024-03-06", "2024-01"), report("2024-03-07", "2024-02", actual=1.0),
        report("2024-04-10", "2025-02"), report("2024-04-11", "2025-03"))


def test_consecutive_months_from_the_first_short_filing(tmp_path: Path) -> None:
    # 2024-01 is short from its second filing (03-06); 2023-12, 2024-01, 2024-02 run across the new year.
    pack = write_pack(tmp_path)
    assert rows(pack, "2024-06-30", *GAPS) == [
        ("F-1/t.short/月度投资", "red", D(2024, 3, 6), "在建", "open", "月度投资2024年1月5日|在建|5个月，红灯")]


def test_cumulative_counts_filing_dates_in_order(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, CUMULATIVE)
    assert rows(pack, "2024-06-30", *GAPS) == [
        ("F-1/t.short/月度投资", "red", D(2024, 3, 5), "在建", "open", "月度投资2024年1月5日|在建|5个月，红灯")]
    # filed out of order: the first count is reached by the earliest filing, whatever its month
    events = (step("2023-11-01", "开工"), report("2024-04-10", "2024-01"), report("2024-04-05", "2024-03"))
    assert rows(pack, "2024-04-07", *events) == [
        ("F-1/t.short/月度投资", "yellow", D(2024, 4, 5), "在建", "open", "月度投资2024年4月5日|在建|1个月，黄灯")]
    assert rows(pack, "2024-06-30", *events) == [
        ("F-1/t.short/月度投资", "red", D(2024, 4, 10), "在建", "open", "月度投资2024年4月10日|在建|2个月，红灯")]


def test_the_earliest_run_reaches_the_level(tmp_path: Path) -> None:
    # 2024-01, 2024-02 filed late (06-10, 06-11); 2024-04, 2024-05 filed 05-05, 06-05: red on 06-05.
    pack = write_pack(tmp_path)
    events = (step("2023-11-01", "开工"), report("2024-06-10", "2024-01"), report("2024-06-11", "2024-02"),
              report("2024-05-05", "2024-04"), report("2024-06-05", "2024-05"))
    assert rows(pack, "2024-06-30", *events) == [
        ("F-1/t.short/月度投资", "red", D(2024, 6, 5), "在建", "open", "月度投资2024年6月10日|在建|4个月，红灯")]
    assert rows(pack, "2024-06-04", *events) == [
        ("F-1/t.short/月度投资", "yellow", D(2024, 5, 5), "在建", "open", "月度投资2024年5月5日|在建|1个月，黄灯")]


def test_a_year_apart_is_not_in_a_row(tmp_path: Path) -> None:
    events = (step("2022-11-01", "开工"), report("2024-01-05", "2023-12"), report("2024-01-06", "2024-12"))
    assert rows(write_pack(tmp_path), "2024-06-30", *events) == [
        ("F-1/t.short/月度投资", "yellow", D(2024, 1, 5), "在建", "open", "月度投资2024年1月5日|在建|2个月，黄灯")]


def test_no_level_reached_is_no_warning(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, ("{yellow: 1, red: 2}", "{red: 2}"))
    events = (step("2023-11-01", "开工"), report("2024-01-05", "2023-12"), report("2024-03-05", "2024-02"))
    assert rows(pack, "2024-06-30", *events) == []
    assert rows(pack, "2024-06-30", step("2023-11-01", "开工")) == []


def test_what_counts_as_short(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    events = (step("2023-11-01", "开工"), report("2024-01-05", "2023-12", actual=100.0),
              report("2024-02-05", "2024-01", planned=None, actual=None, compliant=False),
              report("2024-03-05", "2024-02", actual=99.5))
    assert rows(pack, "2024-06-30", *events) == [
        ("F-1/t.short/月度投资", "yellow", D(2024, 3, 5), "在建", "open", "月度投资2024年3月5日|在建|1个月，黄灯")]


def test_noncompliant_reports_and_no_stages(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, ("    stages: [在建]\n", "    subject: 月调度\n    counts: noncompliant\n"))
    events = (step("2024-01-03", "签约"), report("2024-01-05", "2023-12", compliant=False),
              step("2024-02-01", "立项"), report("2024-02-05", "2024-01", planned=None, actual=None, compliant=False),
              report("2024-03-05", "2024-02", compliant=True), report("2024-04-05", "2024-03"))
    assert rows(pack, "2024-06-30", *events) == [
        ("F-1/t.short/月调度", "red", D(2024, 2, 5), "招引", "open", "月调度2024年1月5日|招引|2个月，红灯")]
    assert rows(pack, "2024-01-31", *events) == [
        ("F-1/t.short/月调度", "yellow", D(2024, 1, 5), "招引", "open", "月调度2024年1月5日|招引|1个月，黄灯")]


@pytest.mark.parametrize(("edits", "measures", "levels"), [
    ((), "consecutive count of months whose report has actual_wan < planned_wan (monthly_report; a month's "
         "latest report counts), in stage 在建; one warning per project",
     "yellow at the 1st month short of the 序时 target; red at the 2nd month short of the 序时 target "
     "(months in a row; reached on the filing date of the report that makes the count)"),
    ((CUMULATIVE, ("stages: [在建]", "stages: [前期, 在建]\n    counts: noncompliant")),
     "cumulative count of months whose report is compliant: false (monthly_report; a month's latest "
     "report counts), in stage 前期 or 在建; one warning per project",
     "yellow at the 1st non-compliant report; red at the 2nd non-compliant report "
     "(counted in all; reached on the filing date of the report that makes the count)"),
    ((("    stages: [在建]\n", ""),),
     "consecutive count of months whose report has actual_wan < planned_wan (monthly_report; a month's "
     "latest report counts); one warning per project",
     "yellow at the 1st month short of the 序时 target; red at the 2nd month short of the 序时 target "
     "(months in a row; reached on the filing date of the report that makes the count)"),
], ids=["consecutive", "cumulative-noncompliant", "no-stages"])
def test_the_rule_in_words(tmp_path: Path, edits: tuple[tuple[str, str], ...], measures: str, levels: str) -> None:
    from lifecycle_rules.kinds import shortfall

    pack = write_pack(tmp_path, *edits)
    rule = pack.spec.rules[0]
    assert isinstance(rule, shortfall.ShortfallRule)
    assert (shortfall.measures(rule), shortfall.levels_in_words(pack, rule)) == (measures, levels)


@pytest.mark.parametrize(("old", "new", "where", "said"), [
    ("{yellow: 1, red: 2}", "{yellow: 2, red: 2}", "rules[0].levels",
     "red must need more reports than yellow (2 vs 2)"),
    ("{yellow: 1, red: 2}", "{red: 2, yellow: 3}", "rules[0].levels",
     "red must need more reports than yellow (2 vs 3)"),
    ("{yellow: 1, red: 2}", "{yellow: 0, red: 2}", "rules[0].levels", "counts must be 1 or more"),
    ("stages: [在建]", "stages: [未知]", "rules[0].stages",
     "unknown stage '未知'; the pack's stages are ['招引', '前期', '在建', '完工']"),
    ("    counting", "    report: doc2\n    counting", "rules[0].report", "unknown event type 'doc2'"),
], ids=["equal", "order", "zero", "stage", "report"])
def test_check_refuses_and_names_the_key(tmp_path: Path, old: str, new: str, where: str, said: str) -> None:
    with pytest.raises(PackError) as caught:
        write_pack(tmp_path, (old, new))
    assert caught.value.path == where
    assert str(caught.value).split(" at ", 1)[1] == f"{where}: {said}"
