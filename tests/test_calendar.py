"""Working days past the published schedule (SPEC §5): what the known days decide, the
run's calendar (files, installed calendar packages, chinesecalendar, a pack's years),
and the ``calendar`` command.

The schedule here ends on 2026-12-31 whatever chinesecalendar ships later: the tests
build their calendars from its years up to 2026. The 2027 they supply is INVENTED test
data (tests/data/calendars/invented-2027.yaml says so in its ``source``)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules import CalendarError, Pack, Result, WorkCalendar, evaluate, load_calendar, load_pack
from lifecycle_rules.core.dates import layered, package_years
from lifecycle_rules.io import calendars as cal_mod
from lifecycle_rules.io.cli import main

ROOT = Path(__file__).resolve().parent.parent
INVENTED = ROOT / "tests/data/calendars/invented-2027.yaml"
D = dt.date

TO_2026 = {y: s for y, s in package_years().items() if y <= 2026}
KNOWN_TO_2026 = WorkCalendar(TO_2026)


def with_invented_2027() -> WorkCalendar:
    return WorkCalendar(layered(cal_mod.read_calendar_file(INVENTED), TO_2026))


@pytest.fixture(autouse=True)
def schedule_ends_2026(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """chinesecalendar as it is today (no 2027) and no calendar package installed."""
    monkeypatch.setattr(cal_mod, "package_years", lambda: dict(TO_2026))
    monkeypatch.setattr(cal_mod, "_entry_points", lambda: [])
    cal_mod.installed_packages.cache_clear()
    yield
    cal_mod.installed_packages.cache_clear()


def luohe(calendar: WorkCalendar = KNOWN_TO_2026) -> Pack:
    return load_pack("luohe", calendar=calendar)


def review(started: str, *more: dict[str, Any], pid: str = "LH-1") -> dict[str, Any]:
    """A 漯河 project signed in March, due to start in September (missed: red), whose
    compliance review (5 working days, 三(三)1) started on ``started``."""
    return {"project": {"id": pid, "name": "年产10万吨项目", "sector": "industrial", "investment_wan": 50000},
            "plan": {"start": "2026-09-01"},
            "events": [{"date": "2026-03-02", "type": "step_completed", "step": "签约"},
                       {"date": started, "type": "step_started", "step": "合规性审查"}, *more]}


def rows(r: Result) -> list[tuple[str, str, dt.date, dt.date | None]]:
    return [(w.rule, w.level, w.since, w.due) for w in r.warnings]


def calendar_notices(r: Result) -> list[str]:
    return [n for n in r.notices if n.startswith("calendar: ")]


START_OVERDUE = ("lh.start-overdue", "red", D(2026, 9, 2), D(2026, 9, 1))

# -- what the known days decide ------------------------------------------------------------------


@pytest.mark.parametrize("as_of", ["2026-12-30", "2026-12-31"])
def test_a_clock_whose_red_falls_in_an_unknown_year_before_it_can_come(as_of: str) -> None:
    # 2026-12-24 (Thu): 12-25, 12-28, 12-29, 12-30, 12-31 are working days 1-5: due 12-31, a
    # known day. Red is the 6th working day, in 2027: not reached by 12-31 whatever 2027 holds.
    r = evaluate(luohe(), review("2026-12-24"), as_of)
    assert rows(r) == [START_OVERDUE]
    assert r.unknown_years == (2027,)
    [said] = calendar_notices(r)
    assert "rule lh.compliance-review, 合规性审查" in said
    assert "red (the 6th working day after 2026-12-24) falls in 2027" in said
    assert f"not reached by {as_of}" in said


def test_a_clock_whose_red_may_have_come_is_not_reported() -> None:
    r = evaluate(luohe(), review("2026-12-24"), "2027-01-05")
    assert rows(r) == [START_OVERDUE]  # the project's other warning stands
    [said] = calendar_notices(r)
    assert "whether red is reached by 2027-01-05 cannot be decided" in said
    assert "not reported" in said and "2027" in said


def test_the_earliest_day_an_undated_level_can_be_is_decided_both_sides() -> None:
    # 2026-12-28 (Mon): 12-29, 12-30, 12-31 are working days 1-3. The due date (5th) and red
    # (6th) fall in 2027; red can come no earlier than 2027-01-03 (if 01-01..01-03 all worked).
    before = evaluate(luohe(), review("2026-12-28"), "2027-01-02")
    assert rows(before) == [START_OVERDUE]
    [said] = calendar_notices(before)
    assert "the due date (the 5th working day after 2026-12-28) and red (the 6th" in said
    assert "red not reached by 2027-01-02" in said
    on = evaluate(luohe(), review("2026-12-28"), "2027-01-03")
    assert rows(on) == [START_OVERDUE]
    assert "whether red is reached by 2027-01-03 cannot be decided" in calendar_notices(on)[0]


def test_a_clock_stopped_before_an_undated_day_says_nothing() -> None:
    done = {"date": "2026-12-31", "type": "step_completed", "step": "合规性审查"}
    r = evaluate(luohe(), review("2026-12-24", done), "2027-01-20")
    assert rows(r) == [START_OVERDUE] and calendar_notices(r) == [] and r.unknown_years == (2027,)


def test_a_clock_stopped_after_an_undated_day_may_have_been_late() -> None:
    # Done on 2027-01-04: red (the 6th working day) was no earlier than 2027-01-01.
    done = {"date": "2027-01-04", "type": "step_completed", "step": "合规性审查"}
    r = evaluate(luohe(), review("2026-12-24", done), "2027-01-20")
    assert rows(r) == [START_OVERDUE]
    assert "whether red is reached by 2027-01-04 cannot be decided" in calendar_notices(r)[0]


def test_answers_to_an_undecided_warning_are_kept_for_it() -> None:
    answer = {"date": "2027-01-06", "type": "disposition", "warning": "LH-1/lh.compliance-review/合规性审查",
              "action": "in_progress"}
    r = evaluate(luohe(), review("2026-12-24", answer), "2027-01-08")
    assert not any("does not have" in n for n in r.notices), r.notices


# -- the same clocks with the year supplied -----------------------------------------------------


def test_a_supplied_year_gives_exact_dates_both_sides() -> None:
    pack = luohe(with_invented_2027())
    # 12-31 is the 5th working day; 2027-01-01..04 are (invented) holidays and a weekend:
    # the 6th working day, red, is 2027-01-05.
    assert rows(evaluate(pack, review("2026-12-24"), "2027-01-04")) == [START_OVERDUE]
    on = evaluate(pack, review("2026-12-24"), "2027-01-05")
    assert rows(on) == [START_OVERDUE, ("lh.compliance-review", "red", D(2027, 1, 5), D(2026, 12, 31))]
    assert on.notices == () and on.unknown_years == ()


def test_a_make_up_workday_of_the_supplied_year_counts() -> None:
    # Started 2027-01-04: 01-05 .. 01-08 are working days 1-4, Saturday 01-09 (调休, invented)
    # the 5th: due 01-09; red on Monday 01-11, not on Sunday 01-10.
    pack = luohe(with_invented_2027())
    assert rows(evaluate(pack, review("2027-01-04"), "2027-01-10")) == [START_OVERDUE]
    on = evaluate(pack, review("2027-01-04"), "2027-01-11")
    assert rows(on)[1] == ("lh.compliance-review", "red", D(2027, 1, 11), D(2027, 1, 9))


def test_evaluate_takes_the_run_calendar() -> None:
    pack = luohe()
    run = with_invented_2027()
    assert evaluate(pack, review("2026-12-24"), "2027-01-05", calendar=run) == \
        evaluate(luohe(run), review("2026-12-24"), "2027-01-05")
    assert pack.with_calendar(run) is pack.with_calendar(with_invented_2027())  # compiled once
    assert pack.with_calendar(KNOWN_TO_2026) is pack


# -- a pack with earlier levels, a ladder and both engines ---------------------------------------

GAP_PACK = """\
id: gaps
version: "1"
city: 测试
policy: {file: none, title: 测试规则包}
levels:
  yellow: {name: 黄灯, action: 提醒}
  orange: {name: 橙灯, action: 通报}
  red: {name: 红灯, action: 督办}
steps:
  - {name: 签约, clause: c}
  - {name: 审查, clause: c}
  - {name: 开工, clause: c}
  - {name: 竣工, clause: c}
  - {name: 投产, clause: c}
  - {name: 达产, clause: c}
milestones: {签约: 签约, 落地: 签约, 开工: 开工, 竣工: 竣工, 投产: 投产, 达产: 达产}
ladder:
  counts: red
  max_tier: 2
  clause: c
  routes:
    - tiers: {1: [属地], 2: [市政府]}
rules:
  - id: g.start
    kind: deadline
    title: 开工
    clause: c
    anchor: {step_completed: 签约}
    target: {step_completed: 开工}
    limit: {days: 30}
    levels: {red: limit}
    message: "{subject}{due}"
  - id: g.review
    kind: deadline
    title: 审查
    clause: c
    anchor: {step_started: 审查}
    target: {step_completed: 审查}
    limit: {working_days: 20}
    levels: {orange: {working_days: 2}, red: limit}
    message: "{project_name}审查应于{due}前完成，{level_name}（{since}起）"
"""


@pytest.fixture
def gap_pack(tmp_path: Path) -> Pack:
    (tmp_path / "gaps").mkdir()
    (tmp_path / "gaps/pack.yaml").write_text(GAP_PACK, encoding="utf-8")
    return load_pack(tmp_path / "gaps", calendar=KNOWN_TO_2026)


def gap_history(*more: dict[str, Any]) -> dict[str, Any]:
    return {"project": {"id": "G-1", "name": "测试项目"},
            "events": [{"date": "2026-12-01", "type": "step_completed", "step": "签约"},
                       {"date": "2026-12-24", "type": "step_started", "step": "审查"}, *more]}


def test_a_known_level_is_reported_without_an_undated_due_date(gap_pack: Pack) -> None:
    # Orange after 2 working days: the 3rd, 12-29, a known day. The due date (20th) is in 2027.
    r = evaluate(gap_pack, gap_history(), "2026-12-30")
    review = next(w for w in r.warnings if w.rule == "g.review")
    assert (review.level, review.since, review.due) == ("orange", D(2026, 12, 29), None)
    assert review.message == "测试项目审查应于（期限取决于2027年节假日安排，尚未公布）前完成，橙灯（2026年12月29日起）"
    [said] = calendar_notices(r)
    assert "the due date (the 20th working day after 2026-12-24) and red (the 21st" in said
    assert "reported without a due date" in said


def test_an_undecided_red_may_raise_the_other_warnings_tiers(gap_pack: Pack) -> None:
    # g.start is red from 2026-12-31 (tier 1); g.review's red may come before it in 2027 ...
    r = evaluate(gap_pack, gap_history(), "2027-02-10")
    assert [(w.rule, w.level, w.tier) for w in r.warnings] == [("g.start", "red", 1)]
    assert any("tiers are counted without the undecided warning(s) of g.review" in n for n in r.notices)
    # ... and with the year supplied, it is red from the 21st working day: tier 2.
    known = evaluate(gap_pack, gap_history(), "2027-02-10", calendar=with_invented_2027())
    assert [(w.rule, w.level, w.tier) for w in known.warnings] == [("g.start", "red", 1), ("g.review", "red", 2)]


ENGINE_CASES = [("luohe", "2026-12-24", d) for d in ("2026-12-30", "2026-12-31", "2027-01-05")] + [
    ("luohe", "2026-12-28", d) for d in ("2027-01-02", "2027-01-03")] + [
    ("gaps", "", d) for d in ("2026-12-30", "2027-01-04", "2027-02-10")]


@pytest.mark.parametrize(("which", "started", "as_of"), ENGINE_CASES)
def test_both_engines_settle_undated_days_alike(gap_pack: Pack, which: str, started: str, as_of: str) -> None:
    pytest.importorskip("durable")
    pack, history = (luohe(), review(started)) if which == "luohe" else (gap_pack, gap_history())
    native = evaluate(pack, history, as_of, include_closed=True)
    assert evaluate(pack, history, as_of, include_closed=True, engine="durable") == native
    assert native.unknown_years == (2027,)


# -- calendar files ------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "cal.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "line", "path", "needle"),
    [
        ("2027:\n  source: s\n  holidays: [2027-01-01, 2028-01-01]\n", 3, "2027.holidays[1]",
         "2028-01-01 is not in 2027"),
        ("2027:\n  source: s\n  holidays: [2027-02-06]\n  workdays: [2027-02-06]\n", 4, "2027.workdays[0]",
         "listed both as a holiday and as a workday"),
        ("2027:\n  source: s\n  workdays:\n    - 2027-01-09\n    - 2027-01-05\n", 5, "2027.workdays[1]",
         "2027-01-05 is a Tuesday, a working day anyway"),
        ("2027:\n  holidays: []\n", 2, "2027.source", "required key is missing"),
        ("2027:\n  source: s\n  holiday: []\n", 3, "2027.holiday", "unknown key"),
        ("2027:\n  source: s\n  holidays: [2027-13-01]\n", 3, "2027.holidays[0]", "2027-13-01"),
        ("3000:\n  source: s\n", 2, "3000", "out of range"),
        ("- 2027\n", None, None, "maps years"),
    ],
)
def test_a_calendar_file_error_names_file_line_and_key(tmp_path: Path, text: str, line: int | None,
                                                       path: str | None, needle: str) -> None:
    file = write(tmp_path, text)
    with pytest.raises(CalendarError) as info:
        load_calendar(file)
    err = info.value
    assert needle in str(err) and err.file == str(file), str(err)
    assert (err.line, err.path) == (line, path), str(err)


def test_files_come_first_then_packages_then_chinesecalendar(tmp_path: Path) -> None:
    cal = load_calendar(INVENTED)
    assert cal.years[2027].source.startswith("INVENTED") and cal.years[2027].origin == f"file {INVENTED}"
    assert cal.years[2026].origin.startswith("chinesecalendar")
    # A file may replace a year chinesecalendar knows, whole.
    own = write(tmp_path, "2026:\n  source: 本地核对版\n  holidays: [2026-01-01]\n")
    replaced = load_calendar(own)
    assert replaced.years[2026].source == "本地核对版" and replaced.is_workday(D(2026, 2, 17)) is True


def test_two_files_that_disagree_on_a_year_are_an_error(tmp_path: Path) -> None:
    same = write(tmp_path, INVENTED.read_text(encoding="utf-8"), "same.yaml")
    assert load_calendar(INVENTED, same).years[2027].origin == f"file {INVENTED}"
    other = write(tmp_path, "2027:\n  source: s\n  holidays: [2027-01-01]\n", "other.yaml")
    with pytest.raises(CalendarError, match=r"2027 is given differently by file .*invented-2027.yaml and file "):
        load_calendar(INVENTED, other)


def test_a_pack_year_is_used_only_where_nothing_else_gives_it(tmp_path: Path) -> None:
    demo = ROOT / "tests/data/packs/demo"  # its calendar: gives an INVENTED 2027
    assert load_pack(demo).calendar.years[2027].origin.startswith("pack demo")
    own = write(tmp_path, "2027:\n  source: file\n  holidays: [2027-01-01]\n")
    assert load_pack(demo, calendar=load_calendar(own)).calendar.years[2027].source == "file"


# -- installed calendar packages (a real distribution on sys.path, found by importlib.metadata) --


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A calendar package as pip would leave it: a module, its .dist-info, an entry point."""
    site = tmp_path / "site"
    (site / "lr_cal_2027").mkdir(parents=True)
    shutil.copy(INVENTED, site / "lr_cal_2027/2027.yaml")
    (site / "lr_cal_2027/__init__.py").write_text(
        "from pathlib import Path\n\ndef path():\n    return Path(__file__).with_name('2027.yaml')\n",
        encoding="utf-8")
    info = site / "lr_cal_2027-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lr-cal-2027\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[lifecycle_rules.calendars]\ncn-2027 = lr_cal_2027:path\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "lr_cal_2027", raising=False)
    monkeypatch.setattr(cal_mod, "_entry_points", lambda: sorted(
        cal_mod.entry_points(group=cal_mod.GROUP), key=lambda e: e.name))
    cal_mod.installed_packages.cache_clear()
    return site


def test_an_installed_calendar_package_supplies_its_years(installed: Path) -> None:
    assert cal_mod.GROUP == "lifecycle_rules.calendars"  # the group the README gives deployments
    [pkg] = cal_mod.installed_packages()
    assert (pkg.name, pkg.origin, pkg.error) == ("cn-2027", "package lr-cal-2027 1.0", None)
    cal = load_calendar()
    assert cal.years[2027].origin.startswith("package lr-cal-2027 1.0")
    assert rows(evaluate(luohe(cal), review("2026-12-24"), "2027-01-05"))[1][:3] == \
        ("lh.compliance-review", "red", D(2027, 1, 5))
    assert load_pack("luohe").calendar.years[2027].origin.startswith("package lr-cal-2027")


def test_a_file_overrides_an_installed_package(installed: Path, tmp_path: Path) -> None:
    own = write(tmp_path, "2027:\n  source: file\n  holidays: [2027-01-01]\n")
    assert load_calendar(own).years[2027].source == "file"


def test_a_broken_calendar_package_is_reported_not_fatal(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (installed / "lr_cal_2027/2027.yaml").write_text("2027:\n  holidays: []\n", encoding="utf-8")
    cal_mod.installed_packages.cache_clear()
    [pkg] = cal_mod.installed_packages()
    assert pkg.error is not None and "required key is missing" in pkg.error
    assert 2027 not in load_calendar().years
    assert main(["calendar"]) == 1
    assert "calendar package cn-2027 (package lr-cal-2027 1.0) failed to load" in capsys.readouterr().err


# -- through the command line --------------------------------------------------------------------


def run_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], as_of: str, *extra: str,
            histories: list[dict[str, Any]] | None = None) -> tuple[int, str, list[dict[str, Any]],
                                                                   list[dict[str, Any]]]:
    src = tmp_path / "in.jsonl"
    histories = histories or [review("2026-12-24", pid="LH-GAP"), review("2026-09-01", pid="LH-OK")]
    src.write_text("".join(json.dumps(h, ensure_ascii=False) + "\n" for h in histories), encoding="utf-8")
    out = tmp_path / f"out-{as_of}.jsonl"
    code = main(["evaluate", "--pack", "luohe", "--as-of", as_of, str(src), "-o", str(out), *extra])
    err = capsys.readouterr().err
    notices_file = out.with_name(out.name + ".notices.jsonl")
    notices = [json.loads(x) for x in notices_file.read_text("utf-8").splitlines()] if notices_file.exists() else []
    return code, err, [json.loads(x) for x in out.read_text("utf-8").splitlines()], notices


@pytest.mark.parametrize("as_of", ["2026-12-31", "2027-01-05"])
def test_cli_year_end_without_the_year(tmp_path: Path, capsys: pytest.CaptureFixture[str], as_of: str) -> None:
    code, err, warnings, notices = run_cli(tmp_path, capsys, as_of)
    assert code == 0
    assert "read 2, evaluated 2, rejected 0" in err
    assert {(w["project_id"], w["rule"]) for w in warnings} == {
        ("LH-GAP", "lh.start-overdue"), ("LH-OK", "lh.start-overdue"), ("LH-OK", "lh.compliance-review"),
        ("LH-OK", "lh.preliminary-stall")}
    [n] = [n for n in notices if n["notice"].startswith("calendar: ")]
    assert (n["project_id"], n["locator"]) == ("LH-GAP", "line 1") and "2027" in n["notice"]
    assert "calendar notices: 1: working-day clocks reach 2027 (1 project)" in err
    if as_of == "2026-12-31":
        assert "the working-day schedule ends on 2026-12-31, 0 day(s) after --as-of 2026-12-31" in err
    else:
        assert "the working-day schedule does not know 2027" in err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cli_year_end_with_a_calendar_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], jobs: str) -> None:
    code, err, warnings, notices = run_cli(tmp_path, capsys, "2027-01-05", "--calendar", str(INVENTED),
                                           "--jobs", jobs)
    assert code == 0 and notices == [] and "calendar notices" not in err
    gap = next(w for w in warnings if (w["project_id"], w["rule"]) == ("LH-GAP", "lh.compliance-review"))
    assert (gap["level"], gap["since"], gap["due"]) == ("red", "2027-01-05", "2026-12-31")
    assert "schedule ends on 2027-12-31" not in err  # 2027-01-05 is far from the end of 2027


def test_cli_a_bad_calendar_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, "2027:\n  source: s\n  workdays: [2027-01-05]\n")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(review("2026-12-24")) + "\n", encoding="utf-8")
    assert main(["evaluate", "--pack", "luohe", "--as-of", "2027-01-05", str(src), "--calendar", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3 at 2027.workdays[0]: 2027-01-05 is a Tuesday" in err


def test_cli_calendar_lists_years_and_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["calendar", "--as-of", "2026-12-01"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1].startswith("2004-2026\tchinesecalendar")
    assert "the working-day schedule ends on 2026-12-31, 30 day(s) after --as-of 2026-12-01" in err
    assert main(["calendar", "--calendar", str(INVENTED), "--as-of", "2026-12-01"]) == 0
    out, err = capsys.readouterr()
    assert f"2027\tfile {INVENTED}\tINVENTED for tests" in out
    assert "after --as-of" not in err
    assert main(["calendar", "--pack", str(ROOT / "tests/data/packs/demo")]) == 0
    assert "2027\tpack demo" in capsys.readouterr().out


def test_cli_calendar_warns_60_days_before_the_end_of_today_s_schedule(capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return dt.datetime(2026, 11, 1, 12, tzinfo=tz)

    monkeypatch.setattr(sys.modules["datetime"], "datetime", Clock)
    try:
        assert main(["calendar"]) == 0
    finally:
        monkeypatch.undo()
    assert "60 day(s) after today 2026-11-01" in capsys.readouterr().err


def test_end_warning_edges() -> None:
    assert cal_mod.end_warning(KNOWN_TO_2026, D(2026, 11, 1), "x") is not None  # 60 days left
    assert cal_mod.end_warning(KNOWN_TO_2026, D(2026, 10, 31), "x") is None  # 61 days left
    assert "does not know 2027" in (cal_mod.end_warning(KNOWN_TO_2026, D(2027, 1, 1), "x") or "")
