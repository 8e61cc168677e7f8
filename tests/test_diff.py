"""``lifecycle-rules diff`` and ``core.compare``: the warnings two policies disagree on.

Two versions of 建德 are installed together (see tests/test_versions.py): ``jiande@2024.1``
(落地未开工 within 120 days; orange 1/6 earlier, at day 101) and the built-in 2024.2 (90
days; orange at day 76). The portfolio, evaluated on 2024-08-20, hand-checked:

- JD-1 landed 2024-03-02: 2024.1 red since 2024-07-01, due 2024-06-30; 2024.2 red since
  2024-06-01, due 2024-05-31. **changed** (since, due).
- JD-2 (商服住) landed 2024-05-20: 2024.1 orange from day 101 = 2024-08-29, not yet; 2024.2
  due 2024-08-18, red since 2024-08-19. **added** in 2024.2.
- JD-3 signed 2024-01-10, not landed: 签约未落地 180 days in both, red since 2024-07-09.
  **the same**.
- JD-4 landed 2024-05-01: 2024.1 orange since day 101 = 2024-08-10, due 2024-08-29;
  2024.2 due 2024-07-30, red since 2024-07-31. **changed** (level, since, due).
- JD-5 landed 2024-05-01, 开工 2024-07-15: nothing in either (done within 90 days).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from test_versions import make_site

from lifecycle_rules.core.compare import compare
from lifecycle_rules.core.engine import evaluate
from lifecycle_rules.io.cli import main
from lifecycle_rules.pack.plugins import load_pack

AS_OF = "2024-08-20"
INDUSTRIAL = {"sector": "industrial", "investment_wan": 30000, "region": "下涯镇"}


def project(pid: str, name: str, events: list[tuple[str, str]], **attrs: Any) -> dict[str, Any]:
    return {"project": {"id": pid, "name": name, **(attrs or INDUSTRIAL)},
            "events": [{"date": d, "type": "step_completed", "step": s} for d, s in events]}


PORTFOLIO = [
    project("JD-1", "甲项目", [("2024-01-10", "签约"), ("2024-03-02", "拿地")]),
    project("JD-2", "乙项目", [("2024-01-10", "签约"), ("2024-05-20", "拿地")],
            sector="commercial_residential", investment_wan=8000, region="洋溪街道"),
    project("JD-3", "丙项目", [("2024-01-10", "签约")]),
    project("JD-4", "丁项目", [("2024-01-10", "签约"), ("2024-05-01", "拿地")]),
    project("JD-5", "戊项目", [("2024-01-10", "签约"), ("2024-05-01", "拿地"), ("2024-07-15", "开工监管")]),
]
INDUSTRY_UNITS = ["属地政府", "市经信局", "市规划和自然资源局"]
COMMERCE_UNITS = ["属地政府", "市住建局", "市规划和自然资源局"]


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = make_site(tmp_path / "site", {"jiande@2024.1": "v2024_1"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "lr_jiande_old", raising=False)
    src = tmp_path / "portfolio.jsonl"
    src.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PORTFOLIO), encoding="utf-8")
    yield src


def side(level: str, since: str, due: str, units: list[str]) -> dict[str, Any]:
    return {"level": level, "since": since, "due": due, "tier": 1, "status": "open", "responsible": units}


# old 2024.1 -> new 2024.2, exactly these
EXPECTED = [
    ("changed", "JD-1", ["since", "due"], side("red", "2024-07-01", "2024-06-30", INDUSTRY_UNITS),
     side("red", "2024-06-01", "2024-05-31", INDUSTRY_UNITS)),
    ("added", "JD-2", [], None, side("red", "2024-08-19", "2024-08-18", COMMERCE_UNITS)),
    ("changed", "JD-4", ["level", "since", "due"], side("orange", "2024-08-10", "2024-08-29", INDUSTRY_UNITS),
     side("red", "2024-07-31", "2024-07-30", INDUSTRY_UNITS)),
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_is_pure_over_two_lists_of_results(installed: Path) -> None:
    old, new = load_pack("jiande@2024.1"), load_pack("jiande@2024.2")
    a = [evaluate(old, p, AS_OF) for p in PORTFOLIO]
    b = [evaluate(new, p, AS_OF) for p in PORTFOLIO]
    diff = compare(a, b)
    assert [(c.kind, c.project_id, c.rule, c.fields if c.kind == "changed" else ()) for c in diff.changes] == [
        ("changed", "JD-1", "jd.land-to-start", ("since", "due")),
        ("added", "JD-2", "jd.land-to-start", ()),
        ("changed", "JD-4", "jd.land-to-start", ("level", "since", "due")),
    ]
    assert (diff.projects, diff.unchanged, diff.only_a, diff.only_b) == (5, 1, (), ())
    assert diff.by_rule() == {"jd.land-to-start": {"changed": 2, "added": 1}}
    assert diff.by_unit() == {"属地政府": {"changed": 2, "added": 1}, "市经信局": {"changed": 2},
                              "市规划和自然资源局": {"changed": 2, "added": 1}, "市住建局": {"added": 1}}
    # the other way round: what was added is removed
    back = compare(b, a)
    assert [(c.kind, c.project_id) for c in back.changes] == [("changed", "JD-1"), ("removed", "JD-2"),
                                                               ("changed", "JD-4")]
    assert compare(a, a).changes == () and compare(a, a).unchanged == 3
    assert compare(a, b[1:]).only_a == ("JD-1",)


def test_diff_between_two_versions_lists_exactly_the_warnings_that_differ(
        installed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "diff.jsonl"
    code, out, err = run(capsys, "--pack", "jiande@2024.1", "--pack", "jiande", "--as-of", AS_OF, str(installed),
                         "--allow-outside-effective", "-o", str(out_file))
    assert code == 0, err
    rows = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert [(r["change"], r["project_id"], r["changed"], r["a"], r["b"]) for r in rows] == EXPECTED
    assert {(r["rule"], r["subject"], r["pack_a"], r["pack_b"], r["as_of"]) for r in rows} == {
        ("jd.land-to-start", "开工监管", "jiande@2024.1", "jiande@2024.2", AS_OF)}
    assert rows[0]["key"] == "JD-1/jd.land-to-start/开工监管"
    assert "政策对比：A = jiande@2024.1，B = jiande@2024.2；评估日 2024-08-20；比较项目 5 个。" in out
    assert "新增预警 1 条（B 有、A 无），消失 0 条（A 有、B 无），变化 2 条；相同 1 条。" in out
    assert "jd.land-to-start 落地未开工：新增 1，消失 0，变化 2" in out
    assert "市住建局：新增 1，消失 0，变化 0" in out and "市经信局：新增 0，消失 0，变化 2" in out
    assert f"明细 3 条已写入 {out_file}" in out and "明细：" not in out


def test_diff_on_stdout_lists_each_change_in_words(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--pack", "jiande", "--pack", "jiande@2024.1", "--as-of", AS_OF, str(installed),
                         "--allow-outside-effective")
    assert code == 0, err
    listed = out.split("明细：\n")[1].splitlines()
    assert listed == [
        "  变化  甲项目（JD-1）  jd.land-to-start  开工监管：预警日期 2024年6月1日 → 2024年7月1日；"
        "期限 2024年5月31日 → 2024年6月30日",
        "  消失  乙项目（JD-2）  jd.land-to-start  开工监管：等级 红灯，预警日期 2024年8月19日，期限 2024年8月18日，"
        "协调层级 一级，办理状态 未办理，责任单位 属地政府、市住建局、市规划和自然资源局",
        "  变化  丁项目（JD-4）  jd.land-to-start  开工监管：等级 红灯 → 橙灯；预警日期 2024年7月31日 → 2024年8月10日；"
        "期限 2024年7月30日 → 2024年8月29日",
    ]


def test_diff_of_parameters_and_the_office_files(installed: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # B: the same pack with 签约未落地 at 200 days: JD-3 (signed 2024-01-10) has 200 - 200/6 =
    # 166.67 -> orange from day 167 = 2024-06-25, red from day 201 = 2024-07-29
    base = ["--pack", "jiande", "--pack", "jiande", "--as-of", AS_OF, str(installed), "--param-b",
            "sign_to_land_days=200"]
    xlsx, table = tmp_path / "diff.xlsx", tmp_path / "diff.csv"
    for target in (xlsx, table):
        code, out, err = run(capsys, *base, "-o", str(target))
        assert code == 0, err
        assert "B = jiande@2024.2（参数 sign_to_land_days=200）" in out
    with table.open(encoding="utf-8-sig", newline="") as f:
        [row] = list(csv.DictReader(f))
    assert (row["变化"], row["项目代码"], row["项目名称"], row["预警事项"], row["变化内容"]) == (
        "变化", "JD-3", "丙项目", "签约未落地", "预警日期、期限")
    assert (row["预警日期（A）"], row["预警日期（B）"], row["期限（B）"]) == ("2024-07-09", "2024-07-29", "2024-07-28")
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["预警变化", "按规则", "按责任单位"]
    assert [c.value for c in book["按规则"][2]] == ["jd.sign-to-land 签约未落地", 0, 0, 1]
    assert book["预警变化"]["A2"].value == "变化"


def test_diff_usage_and_dates(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--pack", "jiande", "--as-of", AS_OF, str(installed))
    assert code == 2 and "--pack: give it twice" in err
    code, _, err = run(capsys, "--pack", "jiande", "--pack", "jiande", "--as-of", AS_OF, str(installed),
                       "-o", "diff.txt")
    assert code == 2 and "cannot tell the format" in err
    code, out, err = run(capsys, "--pack", "jiande@2024.1", "--pack", "jiande", "--as-of", AS_OF, str(installed))
    assert code == 2 and out == ""
    assert "pack jiande@2024.1: in force 2024-01-01 to 2024-07-01; as_of 2024-08-20" in err
    code, out, err = run(capsys, "--pack", "jiande", "--pack", "jiande", "--as-of", AS_OF, str(installed))
    assert code == 0 and "两者在这些项目上的预警完全相同。" in out
