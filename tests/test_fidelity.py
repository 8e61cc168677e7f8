"""Issue 13, policy fidelity: the format features the packs' corrected readings rest on.

- shortfall ``per: period`` and ``per: run`` (同江 二(二)3, 巫山 13(四)), and corrections
  (a later report of a month replaces the earlier one);
- ``signoff.higher_level: reopens`` (建德 三(四)2-3);
- escalation by severity, ``problem_reported`` and ``ladder.severity`` (建德 三(五));
- cadence ``owed: first`` (巫山 三(一)2).

The packs' fixtures pin the policies day by day; here, what the fixtures cannot reach:
refused formats, notices, both engines on the same odd inputs, and the columns of an
export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules import HistoryError, PackError, evaluate, load_pack
from lifecycle_rules.core.history import Event
from lifecycle_rules.core.signoff import standing
from lifecycle_rules.kinds import cadence, shortfall
from lifecycle_rules.pack.spec import Signoff

D = dt.date


def both(pack: Any, history: dict[str, Any], as_of: str, include_closed: bool = False) -> Any:
    """The native result, after checking the durable engine gives the same."""
    durable = pytest.importorskip("lifecycle_rules.engines.durable")
    got = evaluate(pack, history, as_of, include_closed=include_closed)
    assert durable.evaluate(pack, history, as_of, include_closed=include_closed) == got
    return got


def report(day: str, period: str, planned: float, actual: float) -> dict[str, Any]:
    return {"date": day, "type": "monthly_report", "period": period, "planned_wan": planned,
            "actual_wan": actual}


def rows(result: Any) -> list[tuple[str, str, str, str]]:
    return [(w.rule, w.subject, w.level, w.since.isoformat()) for w in result.warnings]


# -- shortfall: per period, per run, corrections ---------------------------------------------------


def test_every_two_months_in_a_row_is_a_supervision_again() -> None:
    # 连续2个月 again: a run of four missed months is two 督办 (Feb-Mar, Apr-May), so a
    # 督办 signed off while the months go on missing does not silence the next one.
    pack = load_pack("tongjiang")
    key = "TJ-T-5/tj.target-supervision/连续未完成 2024-02"
    hist = {"project": {"id": "TJ-T-5", "investment_wan": 5000}, "events": [
        report("2024-03-05", "2024-02", 100, 50), report("2024-04-03", "2024-03", 100, 50),
        {"date": "2024-04-20", "type": "disposition", "warning": key, "action": "completed"},
        report("2024-05-05", "2024-04", 100, 50), report("2024-06-05", "2024-05", 100, 50)]}
    runs = [(w.subject, w.since, w.status) for w in both(pack, hist, "2024-06-05", include_closed=True).warnings
            if w.rule == "tj.target-supervision"]
    assert runs == [("连续未完成 2024-02", D(2024, 4, 3), "closed"), ("连续未完成 2024-04", D(2024, 6, 5), "open")]
    assert [w.subject for w in both(pack, hist, "2024-06-04").warnings if w.rule == "tj.target-supervision"] == []


def test_tongjiang_letters_per_month_and_supervision_per_run() -> None:
    pack = load_pack("tongjiang")
    hist = {"project": {"id": "TJ-T-1", "investment_wan": 5000}, "events": [
        report("2024-02-05", "2024-01", 100, 50), report("2024-03-05", "2024-02", 100, 50),
        report("2024-04-05", "2024-03", 100, 50), report("2024-05-05", "2024-04", 100, 100),
        report("2024-06-05", "2024-05", 100, 50), report("2024-07-05", "2024-06", 100, 50)]}
    assert rows(both(pack, hist, "2024-07-05")) == [
        ("tj.target-shortfall", "月度目标 2024-01", "yellow", "2024-02-05"),
        ("tj.target-shortfall", "月度目标 2024-02", "yellow", "2024-03-05"),
        ("tj.target-shortfall", "月度目标 2024-03", "yellow", "2024-04-05"),
        ("tj.target-shortfall", "月度目标 2024-05", "yellow", "2024-06-05"),
        ("tj.target-shortfall", "月度目标 2024-06", "yellow", "2024-07-05"),
        # January to March is one run: its first two months are one 督办 (from the second
        # month's report); March alone is not yet two more. May-June is a second.
        ("tj.target-supervision", "连续未完成 2024-01", "red", "2024-03-05"),
        ("tj.target-supervision", "连续未完成 2024-05", "red", "2024-07-05"),
    ]
    messages = [w.message for w in evaluate(pack, hist, "2024-07-05").warnings]
    assert "2024年5月的月调度对照推进台账未完成目标计划" in messages[3]
    assert "自2024年1月起连续2个月未完成目标计划" in messages[5]


def test_a_correction_that_fills_a_gap_joins_two_runs_without_a_new_supervision() -> None:
    # Jan-Feb short (督办 keyed 2024-01); March met; April-May short (督办 keyed 2024-04).
    # A correction then shows March short: one run Jan-May, but no third 督办 is raised.
    pack = load_pack("tongjiang")
    hist = {"project": {"id": "TJ-T-2", "investment_wan": 5000}, "events": [
        report("2024-02-05", "2024-01", 100, 50), report("2024-03-05", "2024-02", 100, 50),
        report("2024-04-05", "2024-03", 100, 100), report("2024-05-05", "2024-04", 100, 50),
        report("2024-06-05", "2024-05", 100, 50), report("2024-06-20", "2024-03", 100, 10)]}
    got = both(pack, hist, "2024-06-30")
    runs = [(w.subject, w.since.isoformat()) for w in got.warnings if w.rule == "tj.target-supervision"]
    assert runs == [("连续未完成 2024-01", "2024-03-05"), ("连续未完成 2024-04", "2024-06-05")]
    letters = [w.subject for w in got.warnings if w.rule == "tj.target-shortfall"]
    assert "月度目标 2024-03" in letters  # March's letter from the correction's date
    march = next(w for w in got.warnings if w.subject == "月度目标 2024-03")
    assert march.since == D(2024, 6, 20)


def test_a_month_shown_met_then_short_again_gets_its_letter_again() -> None:
    # The letter is cleared by the first correction; the month's later short report raises
    # it again (the latest report counts), from that report (one key per month).
    pack = load_pack("tongjiang")
    hist = {"project": {"id": "TJ-T-3", "investment_wan": 5000}, "events": [
        report("2024-02-05", "2024-01", 100, 50), report("2024-02-10", "2024-01", 100, 100),
        report("2024-02-20", "2024-01", 100, 40)]}
    got = both(pack, hist, "2024-03-01", include_closed=True)
    assert [(w.subject, w.status, w.since, w.closed_on) for w in got.warnings] == [
        ("月度目标 2024-01", "open", D(2024, 2, 20), None)]
    got = both(pack, hist, "2024-02-15", include_closed=True)
    assert [(w.status, w.since, w.closed_on) for w in got.warnings] == [("closed", D(2024, 2, 5), D(2024, 2, 10))]


def test_a_report_without_amounts_neither_counts_nor_corrects() -> None:
    pack = load_pack("tongjiang")
    hist = {"project": {"id": "TJ-T-4", "investment_wan": 5000}, "events": [
        report("2024-02-05", "2024-01", 100, 50),
        {"date": "2024-02-10", "type": "monthly_report", "period": "2024-01", "compliant": False}]}
    assert rows(both(pack, hist, "2024-03-01")) == [("tj.target-shortfall", "月度目标 2024-01", "yellow", "2024-02-05")]


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
  - {name: 在建, clause: c, entered_by: {completed: [开工]}}
rules:
  - id: t.short
    kind: shortfall
    title: 未达序时
    clause: c
    RULE
    message: "{subject}|{period}|{count}"
"""


def write_pack(root: Path, rule: str) -> Any:
    (root / "sf").mkdir()
    (root / "sf" / "pack.yaml").write_text(SF_PACK.replace("RULE", rule), encoding="utf-8")
    return load_pack(root / "sf")


@pytest.mark.parametrize(("rule", "says"), [
    ("per: period\n    levels: {yellow: 1, red: 2}", "per: period is one warning per qualifying month"),
    ("per: period\n    levels: {red: 2}", "per: period is one warning per qualifying month"),
    ("per: run\n    levels: {red: 2}", "per: run counts months in a row: set counting: consecutive"),
    ("per: month\n    levels: {red: 1}", "per"),
])
def test_per_refuses_what_it_cannot_mean(tmp_path: Path, rule: str, says: str) -> None:
    with pytest.raises(PackError, match=says):
        write_pack(tmp_path, rule)


def test_a_run_with_two_levels_rises_within_the_run(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, "per: run\n    counting: consecutive\n    levels: {yellow: 2, red: 3}")
    hist = {"project": {"id": "P"}, "events": [
        report("2024-02-05", "2024-01", 100, 50), report("2024-03-05", "2024-02", 100, 50),
        report("2024-04-05", "2024-03", 100, 50)]}
    got = both(pack, hist, "2024-04-05")
    assert [(w.subject, w.level, w.since, w.message) for w in got.warnings] == [
        ("月度投资 2024-01", "red", D(2024, 4, 5), "月度投资 2024-01|2024年1月|3")]
    assert both(pack, hist, "2024-04-04").warnings[0].level == "yellow"


def test_per_period_and_run_in_words(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, "per: period\n    levels: {red: 1}")
    rule = pack.rules[0]
    assert isinstance(rule, shortfall.ShortfallRule)
    assert shortfall.measures(rule).endswith("; one warning per qualifying month")
    assert shortfall.levels_in_words(pack, rule) == (
        "red for each month short of the 序时 target, from the filing that shows it (a correction "
        "showing the month met clears it)")


# -- sign-off: a higher level reopens ----------------------------------------------------------------


def test_higher_level_reopens_or_continues() -> None:
    key = "P/r/s"
    answers = [Event(date=D(2024, 5, 20), type="disposition", warning=key, action="in_progress"),
               Event(date=D(2024, 5, 25), type="extension", warning=key, until=D(2024, 12, 31))]
    levels = (("orange", D(2024, 5, 17)), ("red", D(2024, 6, 1)))
    common = {"cleared": None, "exit_date": None, "handling": answers, "as_of": D(2024, 10, 1),
              "notices": [], "key": key}
    cycle = {"cycle_days": 30, "overdue_after_pushes": 4}
    carried = standing(levels, signoff=Signoff(**cycle), **common)  # type: ignore[arg-type]
    fresh = standing(levels, signoff=Signoff(higher_level="reopens", **cycle), **common)  # type: ignore[arg-type]
    assert carried is not None and fresh is not None
    assert (carried.status, carried.pushes) == ("in_progress", 4)  # the orange's cycle, extended
    assert (fresh.level, fresh.status, fresh.pushes) == ("red", "open", 0)


def test_an_answer_to_the_orange_does_not_hold_off_the_reds_overdue() -> None:
    # 建德: the red's own answer (06-10) starts its cycle; the orange's extension is not carried.
    pack = load_pack("jiande")
    key = "JD-T-1/jd.land-to-start/开工监管"
    hist = {"project": {"id": "JD-T-1", "sector": "industrial", "investment_wan": 30000}, "events": [
        {"date": "2024-03-02", "type": "step_completed", "step": "拿地"},
        {"date": "2024-05-20", "type": "disposition", "warning": key, "action": "in_progress"},
        {"date": "2024-05-21", "type": "extension", "warning": key, "until": "2024-12-31"},
        {"date": "2024-06-10", "type": "disposition", "warning": key, "action": "in_progress"}]}
    assert [(w.status, w.pushes) for w in both(pack, hist, "2024-10-08").warnings] == [("in_progress", 4)]
    assert [(w.status, w.pushes) for w in both(pack, hist, "2024-10-09").warnings] == [("closure_overdue", 4)]


# -- escalation by severity --------------------------------------------------------------------------


def jiande_red(*events: dict[str, Any]) -> dict[str, Any]:
    return {"project": {"id": "JD-T-2", "sector": "industrial", "investment_wan": 30000}, "events": [
        {"date": "2024-03-02", "type": "step_completed", "step": "拿地"}, *events]}


def problem(day: str, severity: str, warning: str | None = None) -> dict[str, Any]:
    out = {"date": day, "type": "problem_reported", "severity": severity}
    if warning is not None:
        out["warning"] = warning
    return out


def test_severity_lifts_only_the_warning_it_names_and_never_lowers() -> None:
    pack = load_pack("jiande")
    other = "JD-T-2/jd.sign-to-land/拿地"
    hist = jiande_red(problem("2024-06-02", "重大", other), problem("2024-06-03", "一般"))
    got = both(pack, hist, "2024-06-05")
    assert [w.tier for w in got.warnings] == [1]
    assert got.notices == ("problem_reported of 2024-06-02 refers to warning 'JD-T-2/jd.sign-to-land/拿地', "
                           "which this project does not have; ignored",)
    hist = jiande_red(problem("2024-06-02", "重大"), problem("2024-06-03", "一般"))
    assert [w.tier for w in both(pack, hist, "2024-06-05").warnings] == [3]


def test_unknown_severity_and_packs_without_a_severity_scale_say_so() -> None:
    got = both(load_pack("jiande"), jiande_red(problem("2024-06-02", "严重")), "2024-06-05")
    assert [w.tier for w in got.warnings] == [1]
    assert got.notices == ("problem_reported of 2024-06-02: severity '严重' is not one of 一般, 复杂, 重大; ignored",)
    hist = {"project": {"id": "LH-T-1"}, "events": [problem("2024-06-02", "重大")]}
    got = both(load_pack("luohe"), hist, "2024-06-05")
    assert got.notices == ("problem_reported of 2024-06-02: the pack's ladder does not escalate by severity; "
                           "ignored",)
    got = both(load_pack("tongjiang"), {"project": {"id": "TJ-T-9", "investment_wan": 5000},
                                        "events": [problem("2024-06-02", "重大")]}, "2024-06-05")
    assert got.notices == ("problem_reported of 2024-06-02: the pack has no coordination ladder (no tiers); ignored",)


def test_a_problem_report_needs_its_severity() -> None:
    with pytest.raises(HistoryError, match="severity"):
        evaluate(load_pack("jiande"), jiande_red({"date": "2024-06-02", "type": "problem_reported"}), "2024-06-05")


def test_a_severity_beyond_the_ladder_is_refused(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "rulepacks" / "jiande" / "pack.yaml").read_text(encoding="utf-8")
    (tmp_path / "jd").mkdir()
    (tmp_path / "jd" / "pack.yaml").write_text(text.replace("重大: 3}", "重大: 4}"), encoding="utf-8")
    with pytest.raises(PackError, match=r"severity '重大': tier 4 is not one of 1\.\.3"):
        load_pack(tmp_path / "jd")


def test_an_export_column_carries_the_severity(tmp_path: Path) -> None:
    from lifecycle_rules.io.readers import Record, read_histories

    projects = tmp_path / "projects.csv"
    events = tmp_path / "events.csv"
    projects.write_text("项目代码,项目名称,行业类别,总投资(万元)\nJD-T-3,测试项目,工业,30000\n", encoding="utf-8")
    events.write_text("项目代码,日期,类型,环节,问题性质\nJD-T-3,2024-03-02,完成,拿地,\n"
                      "JD-T-3,2024-06-10,问题上报,,复杂\n", encoding="utf-8")
    records = [r for r in read_histories(projects, events_path=events) if isinstance(r, Record)]
    history = records[0].history
    assert history["events"][-1] == {"date": "2024-06-10", "type": "problem_reported", "severity": "复杂"}
    assert [w.tier for w in evaluate(load_pack("jiande"), history, "2024-06-10").warnings] == [2]


# -- cadence: owed once ------------------------------------------------------------------------------


def test_owed_first_in_words() -> None:
    pack = load_pack("wushan")
    rule = next(r for r in pack.rules if r.id == "ws.quarterly-reserve")
    assert isinstance(rule, cadence.CadenceRule)
    assert cadence.measures(rule).endswith(
        "; only the first period after the project enters a watched stage (any filing of the report counts)"
        "; a warning still open when the project leaves the stages closes that day")


def test_owed_first_is_per_stay_and_on_time_filing_uses_it_up() -> None:
    pack = load_pack("wushan")
    hist = {"project": {"id": "WS-T-1"}, "events": [
        {"date": "2024-05-20", "type": "step_completed", "step": "谋划"},
        {"date": "2024-07-10", "type": "reserve_proposal", "period": "2024-Q3"}]}
    def quarterly(history: dict[str, Any]) -> list[tuple[str, dt.date]]:
        return [(w.subject, w.since) for w in both(pack, history, "2025-04-11").warnings
                if w.rule == "ws.quarterly-reserve"]

    assert quarterly(hist) == []
    late = {"project": {"id": "WS-T-2"}, "events": [{"date": "2024-05-20", "type": "step_completed", "step": "谋划"}]}
    assert quarterly(late) == [("2024-Q3", D(2024, 7, 11))]
