"""Real exports in, nothing lost: a sheet as an office keeps it (tests/data/exports/:
an instructions sheet first, title rows, a two-row merged header, 小计 and 合计 rows,
notes under the table, placeholders for nothing, amounts with units, duplicate codes,
two bad values), in .xlsx and as Excel saves it to a GBK CSV. Both must read and
evaluate alike, under every built-in pack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules.io.cli import main
from lifecycle_rules.io.readers import Note, Record, read_histories

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = ROOT / "tests/data/exports"
XLSX, CSV = EXPORTS / "messy.xlsx", EXPORTS / "messy-gbk.csv"
PACKS = ("jiande", "luohe", "tongjiang", "wushan", "jiangyin")
DATA_CODES = [f"JD-2024-{n}" for n in (101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 115, 116)]


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], pack: str, source: Path, *extra: str,
        as_of: str = "2024-11-30") -> dict[str, Any]:
    out = tmp_path / f"{source.stem}-{pack}.jsonl"
    code = main(["evaluate", "--pack", pack, "--as-of", as_of, str(source), "-o", str(out), *extra])
    err = capsys.readouterr().err

    def lines(suffix: str) -> list[dict[str, Any]]:
        path = out.with_name(out.name + suffix)
        return [json.loads(x) for x in path.read_text("utf-8").splitlines()] if path.exists() else []

    return {"code": code, "err": err, "warnings": lines(""), "rejects": lines(".rejects.jsonl"),
            "notices": lines(".notices.jsonl")}


@pytest.mark.parametrize("source", [XLSX, CSV], ids=["xlsx", "gbk-csv"])
def test_the_sheet_reads_as_the_office_means_it(source: Path) -> None:
    items = list(read_histories(source, notes=True))
    records = [r for r in items if isinstance(r, Record)]
    assert [r.history["project"]["id"] for r in records if r.history] == DATA_CODES
    first = next(r.history for r in records if r.history)
    assert first == {
        "project": {"id": "JD-2024-101", "name": first["project"]["name"], "sector": "industrial",
                    "region": "下涯镇", "investment_wan": 35000},  # 3.5 in a column headed 亿元
        "plan": {"start": "2024-10-31"},
        "events": [{"date": "2024-01-10", "type": "step_completed", "step": "签约"},
                   {"date": "2024-03-02", "type": "step_completed", "step": "落地"}],  # 拿地时间
    }
    amounts = {r.history["project"]["id"]: r.history["project"]["investment_wan"] for r in records if r.history}
    assert amounts["JD-2024-102"] == 35000  # the text 3.5亿
    assert amounts["JD-2024-105"] == 20000  # the text 20000万元
    assert amounts["JD-2024-109"] == 6000  # its code written with spaces around it
    rejects = [(r.locator, r.reject.field, r.reject.message) for r in records if r.reject]
    assert rejects == [
        ("row 16", "项目代码", "项目代码重复: 'JD-2024-105' 已在 row 9 出现"),
        ("row 17", "项目代码", "项目代码重复: 'JD-2024-103' 已在 row 7 出现"),
        ("row 18", "关键节点时间/签约时间", "日期无法识别: '24/3/2'（年份须写四位，如 2024/3/2；两位年份不猜）"),
        ("row 19", "关键节点时间/开工时间", "日期无法识别: '2024-02-30'（2024年2月没有30日）"),
    ]
    notes = [(n.locator, n.kind) for n in items if isinstance(n, Note)]
    assert notes == [("rows 3-4", "header"), ("row 10", "skipped"), ("row 22", "skipped"),
                     ("row 24", "skipped"), ("row 25", "skipped")]
    header = next(n.text for n in items if isinstance(n, Note) and n.kind == "header")
    sheet = "工作表“项目清单”" if source == XLSX else ""
    assert header == f"读取{sheet}第3-4行表头：12 列对应字段，2 列按映射不使用（序号、备注）"


@pytest.mark.parametrize("pack", PACKS)
def test_both_files_give_the_same_warnings_under_every_pack(pack: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    xlsx, csv = run(tmp_path, capsys, pack, XLSX), run(tmp_path, capsys, pack, CSV)
    assert xlsx["code"] == csv["code"] == 1  # the four bad rows
    assert xlsx["warnings"] == csv["warnings"]
    # Only the reader's four rejects: no pack refuses a column of the default mapping.
    assert [(r["locator"], r["field"]) for r in xlsx["rejects"]] == [
        ("row 16", "项目代码"), ("row 17", "项目代码"), ("row 18", "关键节点时间/签约时间"),
        ("row 19", "关键节点时间/开工时间")]
    assert [r["message"] for r in xlsx["rejects"]] == [r["message"] for r in csv["rejects"]]
    # The summary: every row accounted for; 合计, 小计 and the notes are not projects.
    for run_ in (xlsx, csv):
        assert "read 20, evaluated 12, rejected 4, skipped 4 (not projects: see notices)" in run_["err"], \
            run_["err"]
        skipped = [n for n in run_["notices"] if n["locator"] in ("row 10", "row 22", "row 24", "row 25")]
        assert len(skipped) == 4 and all(n["project_id"] is None for n in skipped)
    assert "读取工作表“项目清单”第3-4行表头" in xlsx["err"]
    if pack == "jiande":
        assert {w["project_id"] for w in xlsx["warnings"]} >= {"JD-2024-101", "JD-2024-105"}


@pytest.mark.parametrize("pack", PACKS)
def test_the_clean_wide_example_has_no_reject_under_any_pack(pack: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    for source in (ROOT / "examples/wide/projects.xlsx", ROOT / "examples/wide/projects-gbk.csv"):
        got = run(tmp_path, capsys, pack, source)
        assert got["code"] == 0 and got["rejects"] == [], got["err"]


def test_an_unknown_column_is_a_notice_once_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "sheet.csv"
    src.write_text("项目代码,项目名称,行业类别,招商负责人,签约时间\nA-1,甲,工业,李四,2024/1/10\nA-2,乙,工业,王五,2024/2/1\n",
                   encoding="utf-8")
    got = run(tmp_path, capsys, "jiande", src)
    assert got["code"] == 0
    unknown = [n for n in got["notices"] if "招商负责人" in n["notice"]]
    assert [(n["locator"], n["project_id"]) for n in unknown] == [("row 1 column D", None)]
    assert "columns not used: 1" in got["err"]


def test_a_code_seen_in_two_files_is_rejected_naming_both(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("项目代码,签约日期\nX-1,2024/1/10\n", encoding="utf-8")
    b.write_text("项目代码,签约日期\nＸ-1,2024/2/10\nX-2,2024/2/10\n", encoding="utf-8")  # full-width Ｘ
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", "--pack", "jiande", "--as-of", "2024-11-30", str(a), str(b), "-o", str(out)]) == 1
    rejects = [json.loads(x) for x in (tmp_path / "out.jsonl.rejects.jsonl").read_text("utf-8").splitlines()]
    assert [(r["file"], r["locator"], r["project_id"], r["message"]) for r in rejects] == [
        (str(b), "row 2", "X-1", f"项目代码重复: 'X-1' 已在 {a} row 2 出现")]
    capsys.readouterr()


def test_validation_names_the_column_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "sheet.csv"
    src.write_text("项目代码,项目名称\nL-1," + "长" * 1001 + "\n", encoding="utf-8")
    got = run(tmp_path, capsys, "jiande", src)
    assert [(r["field"], r["message"]) for r in got["rejects"]] == [("项目名称", "超过 1000 个字符")]


def test_sheet_by_name_number_and_a_sheet_without_the_table(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    by_name = run(tmp_path, capsys, "jiande", XLSX, "--sheet", "项目清单")
    by_number = run(tmp_path, capsys, "jiande", XLSX, "--sheet", "2")
    assert by_name["warnings"] == by_number["warnings"] and by_name["warnings"]
    assert main(["evaluate", "--pack", "jiande", "--as-of", "2024-11-30", str(XLSX), "--sheet", "填报说明"]) == 2
    err = capsys.readouterr().err
    assert err.count(str(XLSX)) == 1 and "没有工作表含表头列 项目代码（查看了: 填报说明；可用 --sheet 指定）" in err
    assert main(["evaluate", "--pack", "jiande", "--as-of", "2024-11-30", str(XLSX), "--sheet", "9"]) == 2
    assert "没有第 9 个工作表（共 2 个: 填报说明、项目清单）" in capsys.readouterr().err


@pytest.mark.parametrize("source", [XLSX, CSV], ids=["xlsx", "gbk-csv"])
def test_inspect_shows_every_column_s_fate(source: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(source), "--pack", "luohe"]) == 0
    out = capsys.readouterr().out
    columns = [line for line in out.splitlines() if " -> " in line or "  ->  " in line]
    assert [line.split()[0] for line in columns] == list("ABCDEFGHIJKLMN")
    assert "序号  ->  不使用（映射列为无关列）" in out
    assert "总投资（亿元）  ->  项目 investment_wan（单位亿元，换算为万元）" in out
    assert "关键节点时间/拿地时间  ->  环节完成 落地" in out
    assert "行: 项目 12，非项目行（跳过） 4" in out.replace("，空白行 1", "")
    assert "重复项目代码 2" in out and "读取时拒收 2" in out
    assert "拒收 row 18 关键节点时间/签约时间" in out
    assert "按规则包 luohe@" in out


def test_mapping_prints_the_default_as_a_file_to_start_from(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mapping"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Default column mapping") and "milestones:" in text
    copy = tmp_path / "m.yaml"
    assert main(["mapping", "-o", str(copy)]) == 0
    assert copy.read_text("utf-8") == text
    # It works as a --mapping as it is.
    assert [r.history is not None for r in read_histories(CSV, mapping=copy)].count(True) == 12


def test_every_step_of_the_default_mapping_is_known_to_every_builtin_pack() -> None:
    import yaml

    from lifecycle_rules import load_pack

    mapping = yaml.safe_load((ROOT / "src/lifecycle_rules/io/readers/columns.yaml").read_text("utf-8"))
    for pack in PACKS:
        known = load_pack(pack).step_of
        assert [s for s in mapping["milestones"] if s not in known] == [], pack


def test_a_pack_may_add_its_own_synonyms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    pack = tmp_path / "jd"
    shutil.copytree(ROOT / "rulepacks/jiande", pack)
    text = (pack / "pack.yaml").read_text("utf-8")
    (pack / "pack.yaml").write_text(text + "\ncolumns:\n  project:\n    region: [所属片区]\n"
                                    "  milestones:\n    拿地: [土地摘牌时间]\n", encoding="utf-8")
    src = tmp_path / "sheet.csv"
    src.write_text("项目代码,所属片区,土地摘牌时间\nP-1,城东片,2024/3/2\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", "--pack", str(pack), "--as-of", "2024-06-01", "--allow-outside-effective",
                 str(src), "-o", str(out)]) == 0
    [warning] = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert (warning["rule"], warning["level"], warning["since"]) == ("jd.land-to-start", "red", "2024-06-01")
    assert "columns not used" not in capsys.readouterr().err
    # Without the pack's synonyms the two columns are unknown.
    assert main(["evaluate", "--pack", "jiande", "--as-of", "2024-06-01", "--allow-outside-effective",
                 str(src), "-o", str(out)]) == 0
    assert "columns not used: 2" in capsys.readouterr().err


def test_json_lines_duplicates_are_rejected_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # One project code twice in a JSON Lines file, and again in a sheet of the same run:
    # the first stands, each later one is a reject naming where it was seen first.
    line = '{"project": {"id": "%s"}, "events": [{"date": "2024-03-02", "type": "step_completed", "step": "拿地"}]}'
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("\n".join([line % "D-1", line % "D-2", line % " D-1 "]) + "\n", encoding="utf-8")
    sheet = tmp_path / "b.csv"
    sheet.write_text("项目代码,拿地日期\nD-2,2024/3/2\nD-3,2024/3/2\n", encoding="utf-8")
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        code = main(["evaluate", "--pack", "jiande", "--as-of", "2024-06-01", "--allow-outside-effective",
                     str(jsonl), str(sheet),
                     "-o", str(out), "--jobs", jobs])
        err = capsys.readouterr().err
        assert code == 1 and "read 5, evaluated 3, rejected 2" in err, err
        rejects = [json.loads(x) for x in out.with_name(out.name + ".rejects.jsonl").read_text("utf-8").splitlines()]
        assert [(r["locator"], r["project_id"], r["message"]) for r in rejects] == [
            ("line 3", "D-1", "项目代码重复: 'D-1' 已在 line 1 出现"),
            ("row 2", "D-2", f"项目代码重复: 'D-2' 已在 {jsonl} line 2 出现")]
        warned = {json.loads(x)["project_id"] for x in out.read_text("utf-8").splitlines()}
        assert warned == {"D-1", "D-2", "D-3"}
