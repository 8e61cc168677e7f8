"""What a clerk opens: `evaluate -o x.xlsx|x.csv` and `rates -o x.xlsx|x.csv` in the office's words.

The workbook is reopened with openpyxl (headers, Chinese values, date cells, frozen header,
filter, print setup, the rejects and notices sheets), the CSV read with the csv module (BOM,
headers, values, the side CSVs, formula-looking text neutralised); `--columns contract`
gives the contract's columns as before; `--jobs 2` writes what `--jobs 1` writes; JSON
Lines stay the machine contract.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from lifecycle_rules import evaluate, load_pack
from lifecycle_rules.io.cli import main
from lifecycle_rules.io.writers import RESULT_HEADERS, RESULT_KEYS, Table, open_tables, sheet_of
from lifecycle_rules.office.table import NOTICES, REJECTS, WARNINGS, line_of, open_office
from lifecycle_rules.office.words import COLUMNS, HEADERS, STATUS_WORDS, office_row

ROOT = Path(__file__).resolve().parent.parent
OFFICE_HEADERS = [header for _, header in COLUMNS]
REJECT_HEADERS = ["文件", "行", "项目代码", "列", "问题"]
NOTICE_HEADERS = ["文件", "行", "项目代码", "说明", "评估日期", "规则包"]
JIANDE = ["evaluate", "--pack", "jiande", "--as-of", "2025-06-30", "--include-closed"]
TONGJIANG = ["evaluate", "--pack", "tongjiang", "--as-of", "2024-11-30"]
LAND = ('{"project": {"id": "%s", "name": "%s", "region": "%s", "sector": "industrial", "investment_wan": 30000},'
        ' "events": [{"date": "2024-01-10", "type": "step_completed", "step": "签约"},'
        ' {"date": "2024-03-02", "type": "step_completed", "step": "拿地"}]}')
BAD_DATE = '{"project": {"id": "BAD-1", "investment_wan": 30000}, "events": [{"date": "2024-02-30", "type": "step_completed", "step": "签约"}]}'  # noqa: E501
SMALL = '{"project": {"id": "SMALL-1", "name": "小项目", "investment_wan": 100}, "events": []}'


def cli(argv: list[Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def jiande_input(tmp_path: Path) -> Path:
    """The jiande example (every status on 2025-06-30 with closed ones), a history that is
    rejected, and a project whose name and region a spreadsheet would take for formulas."""
    lines = (ROOT / "examples/jiande.jsonl").read_text(encoding="utf-8").splitlines()
    lines += [BAD_DATE, LAND % ("F-1", "=HYPERLINK(\\\"http://x\\\")", "+下涯镇"), "not json"]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return src


def expected_rows(pack_id: str, src: Path, as_of: str, include_closed: bool = False) -> list[dict[str, Any]]:
    """The office rows the library gives for every history that evaluates, in input order."""
    pack = load_pack(pack_id)
    rows = []
    for line in src.read_text(encoding="utf-8").splitlines():
        try:
            history = json.loads(line)
            result = evaluate(pack, history, as_of, include_closed=include_closed)
        except Exception:
            continue
        rows += [office_row(pack, result, w) for w in result.warnings]
    return rows


def sheet_rows(sheet: Any) -> list[tuple[Any, ...]]:
    return list(sheet.iter_rows(values_only=True))


def csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)  # what makes Excel read UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def as_cell(value: Any) -> Any:
    """What openpyxl reads back for a value written to a sheet."""
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return None if value == "" else value


# ------------------------------------------------------------------ the workbook


def test_the_xlsx_is_the_office_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = jiande_input(tmp_path)
    out = tmp_path / "预警.xlsx"
    code, err = cli([*JIANDE, src, "-o", out], capsys)
    assert code == 1, err  # two rejected records
    assert f"2 rejected record(s) written to {out} (sheet 未能读取的记录)" in err
    assert names(tmp_path) == ["in.jsonl", "预警.xlsx"]  # rejects and notices are sheets, not files
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["预警", "未能读取的记录", "说明"]
    sheet = book["预警"]
    rows = sheet_rows(sheet)
    assert list(rows[0]) == OFFICE_HEADERS
    expected = expected_rows("jiande", src, "2025-06-30", include_closed=True)
    assert len(rows) == len(expected) + 1 and len(expected) > 10
    assert [list(r) for r in rows[1:]] == [[as_cell(e[k]) for k, _ in COLUMNS] for e in expected]
    by = [dict(zip(OFFICE_HEADERS, r, strict=True)) for r in rows[1:]]
    # Chinese values: the pack's level names, the colour, the status, the tier, the units.
    assert {r["预警颜色"] for r in by} == {"红灯", "橙灯"}
    assert {r["预警等级"] for r in by} == {"红灯预警", "橙色预警"}
    assert {r["办理状态"] for r in by} == {"未办理", "已销号", "销号超时"} <= set(STATUS_WORDS.values())
    assert {r["协调层级"] for r in by} == {"一级", "二级", "三级"}
    first = next(r for r in by if r["项目代码"] == "JD-2024-001")
    assert (first["项目名称"], first["所属乡镇（街道）"]) == ("年产5万吨新材料项目", "下涯镇")
    assert first["责任单位"] == "属地政府、市经信局、市规划和自然资源局"
    assert all(r["政策依据"].startswith("建政办函〔2024〕22号 ") and "jiande-2024.txt" not in r["政策依据"]
               for r in by)
    assert all("red" not in str(v) and "closure_overdue" not in str(v) for r in by for v in r.values()
               if v is not None and not isinstance(v, dt.datetime) and v not in (r["规则编号"], r["预警编号"]))
    closed = [r for r in by if r["办理状态"] == "已销号"]
    assert closed and all(isinstance(r["销号日期"], dt.datetime) for r in closed)
    # Real date cells under a frozen, filtered header row.
    since = OFFICE_HEADERS.index("预警日期") + 1
    assert sheet.cell(2, since).is_date and sheet.cell(2, since).number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(COLUMNS))}{len(rows)}"
    assert sheet["A1"].font.bold
    # The long text wraps; the formula-looking name is text.
    message = OFFICE_HEADERS.index("预警内容") + 1
    assert sheet.cell(2, message).alignment.wrap_text
    assert sheet.column_dimensions["R"].width >= 40
    formula = next(r for r in range(2, len(rows) + 1) if sheet.cell(r, 1).value == "F-1")
    assert sheet.cell(formula, 2).value == '=HYPERLINK("http://x")' and sheet.cell(formula, 2).data_type == "s"
    assert sheet.cell(formula, 3).value == "+下涯镇"
    # Print setup: A4 landscape, one page wide, the header row on every page.
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert int(sheet.page_setup.fitToWidth) == 1 and int(sheet.page_setup.fitToHeight) == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"
    # The rejects: a history the pack refuses (its field named) and a line that is not JSON.
    rejects = sheet_rows(book["未能读取的记录"])
    lines = src.read_text(encoding="utf-8").splitlines()
    assert list(rejects[0]) == REJECT_HEADERS
    assert [r[:4] for r in rejects[1:]] == [(str(src), lines.index(BAD_DATE) + 1, "BAD-1", "events[0].date"),
                                            (str(src), len(lines), None, None)]
    assert book["未能读取的记录"].auto_filter.ref == "A1:E3"
    notices = sheet_rows(book["说明"])
    assert list(notices[0]) == NOTICE_HEADERS
    book.close()


def test_rejects_and_notices_sheets_of_another_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # tongjiang: a project outside the pack's scope is a notice; periods are in words.
    example = (ROOT / "examples/tongjiang.jsonl").read_text(encoding="utf-8").splitlines()[0]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([example, BAD_DATE, SMALL]) + "\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    code, err = cli([*TONGJIANG, src, "-o", out], capsys)
    assert code == 1, err
    book = openpyxl.load_workbook(out)
    warnings = [dict(zip(OFFICE_HEADERS, r, strict=True)) for r in sheet_rows(book["预警"])[1:]]
    subjects = {w["环节/期间"] for w in warnings}
    assert "月度目标 2024年3月" in subjects and not any("2024-03" in s for s in subjects)
    assert {w["预警等级"] for w in warnings} <= {"预警提示函", "督办"}
    assert all(w["协调层级"] is None for w in warnings)  # tongjiang has no ladder: an empty cell
    assert all(w["政策依据"].startswith("《同江市重点项目全生命周期管理服务实施方案》") for w in warnings)
    rejects = sheet_rows(book["未能读取的记录"])
    assert [r[1:4] for r in rejects[1:]] == [(2, "BAD-1", "events[0].date")]
    notices = sheet_rows(book["说明"])
    assert [n[1:3] for n in notices[1:]] == [(3, "SMALL-1")]
    assert "outside the pack's scope" in notices[1][3]
    assert book["说明"].auto_filter.ref == "A1:F2" and book["说明"].print_title_rows == "$1:$1"
    book.close()


def test_an_xlsx_with_no_rejects_still_has_the_sheets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(LAND % ("A-1", "甲", "下涯镇") + "\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    code, err = cli([*JIANDE, src, "-o", out], capsys)
    assert code == 0, err
    book = openpyxl.load_workbook(out)
    assert [len(sheet_rows(s)) for s in book.worksheets] == [2, 1, 1]  # a header says there is none
    assert book["未能读取的记录"].auto_filter.ref == "A1:E1"
    book.close()


def test_explicit_side_files_and_stale_ones_with_an_xlsx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = jiande_input(tmp_path)
    out = tmp_path / "out.xlsx"
    # An earlier run in the contract's form left JSON Lines beside the workbook.
    code, err = cli([*JIANDE, src, "-o", out, "--columns", "contract"], capsys)
    assert code == 1, err
    assert names(tmp_path) == ["in.jsonl", "out.xlsx", "out.xlsx.notices.jsonl", "out.xlsx.rejects.jsonl"]
    # The office's workbook: those go (stale); an explicit --rejects file gets the rejects as well as
    # the sheet, as JSON Lines for a .jsonl path.
    code, err = cli([*JIANDE, src, "-o", out, "--rejects", tmp_path / "r.jsonl"], capsys)
    assert code == 1, err
    assert f"written to {out} (sheet 未能读取的记录) and {tmp_path / 'r.jsonl'}" in err
    assert names(tmp_path) == ["in.jsonl", "out.xlsx", "r.jsonl"]
    rejects = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["project_id"] for r in rejects] == ["BAD-1", None] and rejects[0]["locator"].startswith("line ")
    book = openpyxl.load_workbook(out)
    assert len(sheet_rows(book["未能读取的记录"])) == 3
    book.close()


# ------------------------------------------------------------------ the CSV


def test_the_csv_is_the_office_table_with_side_csvs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = jiande_input(tmp_path)
    out = tmp_path / "out.csv"
    code, err = cli([*JIANDE, src, "-o", out], capsys)
    assert code == 1, err
    assert f"written to {tmp_path / 'out.csv.rejects.csv'}" in err
    assert names(tmp_path) == ["in.jsonl", "out.csv", "out.csv.notices.csv", "out.csv.rejects.csv"]
    rows = csv_rows(out)
    assert rows[0] == OFFICE_HEADERS
    expected = expected_rows("jiande", src, "2025-06-30", include_closed=True)
    assert len(rows) == len(expected) + 1
    assert [r[OFFICE_HEADERS.index("预警日期")] for r in rows[1:]] == [e["since"].isoformat() for e in expected]
    assert [r[OFFICE_HEADERS.index("办理状态")] for r in rows[1:]] == [e["status"] for e in expected]
    first = next(dict(zip(OFFICE_HEADERS, r, strict=True)) for r in rows[1:] if r[0] == "JD-2024-001")
    assert (first["预警颜色"], first["预警等级"]) == ("红灯", "红灯预警")
    assert first["项目名称"] == "年产5万吨新材料项目" and first["所属乡镇（街道）"] == "下涯镇"
    assert first["责任单位"] == "属地政府、市经信局、市规划和自然资源局"
    assert first["政策依据"].startswith("建政办函〔2024〕22号")
    # A cell a spreadsheet would run as a formula starts with ' (OWASP); the rest as they are.
    formula = next(dict(zip(OFFICE_HEADERS, r, strict=True)) for r in rows[1:] if r[0] == "F-1")
    assert formula["项目名称"] == "'=HYPERLINK(\"http://x\")" and formula["所属乡镇（街道）"] == "'+下涯镇"
    assert formula["预警内容"].startswith("'=HYPERLINK")
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    rejects = csv_rows(tmp_path / "out.csv.rejects.csv")
    lines = src.read_text(encoding="utf-8").splitlines()
    assert rejects[0] == REJECT_HEADERS
    assert [r[:4] for r in rejects[1:]] == [[str(src), str(lines.index(BAD_DATE) + 1), "BAD-1", "events[0].date"],
                                            [str(src), str(len(lines)), "", ""]]
    notices = csv_rows(tmp_path / "out.csv.notices.csv")
    assert notices[0] == NOTICE_HEADERS
    assert [(n[2], "investment_wan" in n[3]) for n in notices[1:]] == [("JD-2024-009", True)]
    # A side file exists only when it has something: a clean run removes the old ones.
    clean = tmp_path / "clean.jsonl"
    clean.write_text(LAND % ("A-1", "甲", "下涯镇") + "\n", encoding="utf-8")
    code, err = cli([*JIANDE, clean, "-o", out], capsys)
    assert code == 0 and "notices: 0" in err, err
    assert names(tmp_path) == ["clean.jsonl", "in.jsonl", "out.csv"]
    assert [r[0] for r in csv_rows(out)[1:]] == ["A-1"]


def test_formula_guard_covers_every_leading_character(tmp_path: Path) -> None:
    table = Table(("a", "n"), {"a": "甲", "n": "数"}, office=True)
    path = tmp_path / "g.csv"
    with open_tables(path, None, (table,)) as writer:
        for text in ("=1", "+1", "-1", "@x", "\tx", "\rx", "a=b", "", "１"):
            writer.write({"a": text, "n": -3})
    rows = csv_rows(path)
    assert [r[0] for r in rows[1:]] == ["'=1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "a=b", "", "１"]
    assert {r[1] for r in rows[1:]} == {"-3"}  # a number is a number
    # The contract's CSV keeps the data as it is.
    plain = tmp_path / "p.csv"
    with open_tables(plain, None, (Table(("a",), {}),)) as writer:
        writer.write({"a": "=1"})
    assert csv_rows(plain)[1] == ["=1"]


# ------------------------------------------------------------------ --columns


def test_columns_contract_gives_the_old_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = jiande_input(tmp_path)
    code, err = cli([*JIANDE, src, "-o", tmp_path / "out.jsonl", "--quiet"], capsys)
    assert code == 1, err
    machine = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    out = tmp_path / "out.csv"
    code, err = cli([*JIANDE, src, "-o", out, "--columns", "contract", "--quiet"], capsys)
    assert code == 1, err
    rows = csv_rows(out)
    assert rows[0][: len(RESULT_KEYS)] == [RESULT_HEADERS[k] for k in RESULT_KEYS]
    keys = [*RESULT_KEYS, *rows[0][len(RESULT_KEYS):]]
    assert [dict(zip(keys, r, strict=True))["level"] for r in rows[1:]] == [m["level"] for m in machine]
    assert [dict(zip(keys, r, strict=True))["status"] for r in rows[1:]] == [m["status"] for m in machine]
    assert "out.csv.rejects.jsonl" in names(tmp_path) and "out.csv.rejects.csv" not in names(tmp_path)
    code, err = cli([*JIANDE, src, "-o", tmp_path / "c.xlsx", "--columns", "contract", "--quiet"], capsys)
    book = openpyxl.load_workbook(tmp_path / "c.xlsx")
    assert book.sheetnames == ["预警"]
    assert list(sheet_rows(book["预警"])[0])[: len(RESULT_KEYS)] == [RESULT_HEADERS[k] for k in RESULT_KEYS]
    book.close()


def test_json_lines_stay_the_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    argv = ["evaluate", "--pack", "jiande", "--as-of", "2024-11-30", ROOT / "examples/jiande.jsonl", "-o", out]
    code, err = cli(argv, capsys)
    assert code == 0, err
    assert out.read_bytes() == (ROOT / "examples/expected/jiande-2024-11-30.jsonl").read_bytes()
    code, err = cli([*argv, "--columns", "office"], capsys)
    assert code == 2 and err.splitlines() == [
        "lifecycle-rules: --columns office needs a .csv or .xlsx output (JSON Lines are the machine contract)"]
    code, err = cli([*argv[:-2], "--columns", "office"], capsys)  # standard output
    assert code == 2 and "--columns office needs a .csv or .xlsx output" in err


# ------------------------------------------------------------------ --jobs, order


def _members(path: Path) -> dict[str, bytes]:
    """The workbook's parts but its timestamps (docProps/core.xml)."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def test_jobs_2_writes_what_jobs_1_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle_rules.io import readers

    monkeypatch.setattr(readers, "BLOCK_BYTES", 2048)  # many chunks in flight
    good = (ROOT / "examples/jiande.jsonl").read_text(encoding="utf-8").splitlines()
    lines = []
    for i in range(40):
        history = json.loads(good[i % len(good)])
        history["project"]["id"] += f"-{i}"
        history["project"]["colour"] = i  # a notice each
        lines.append(json.dumps(history, ensure_ascii=False))
        if i % 9 == 4:
            lines.append(BAD_DATE.replace("BAD-1", f"BAD-{i}"))
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for jobs in ("1", "2"):
        for suffix in ("csv", "xlsx"):
            code, err = cli([*JIANDE, src, "-o", tmp_path / f"j{jobs}.{suffix}", "--jobs", jobs], capsys)
            assert code == 1, err
    for name in ("j{}.csv", "j{}.csv.rejects.csv", "j{}.csv.notices.csv"):
        assert (tmp_path / name.format(1)).read_bytes() == (tmp_path / name.format(2)).read_bytes(), name
    assert _members(tmp_path / "j1.xlsx") == _members(tmp_path / "j2.xlsx")
    # Output order is input order.
    order = {json.loads(x)["project"]["id"]: n for n, x in enumerate(lines)}
    ids = [r[0] for r in csv_rows(tmp_path / "j2.csv")[1:]]
    assert len(set(ids)) > 20 and [order[i] for i in ids] == sorted(order[i] for i in ids)
    book = openpyxl.load_workbook(tmp_path / "j2.xlsx")
    noticed = [n[2] for n in sheet_rows(book["说明"])[1:] if "colour" in n[3]]
    rejected = [r[2] for r in sheet_rows(book["未能读取的记录"])[1:]]
    book.close()
    assert noticed == [json.loads(x)["project"]["id"] for x in lines if "colour" in x]
    assert rejected == [f"BAD-{i}" for i in range(40) if i % 9 == 4]


# ------------------------------------------------------------------ rates


def test_rates_xlsx_in_the_office_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "五率.xlsx"
    code, err = cli(["rates", "--pack", "jiangyin", "--as-of", "2024-07-31", ROOT / "examples/jiangyin.jsonl",
                     "-o", out], capsys)
    assert code == 0, err
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["指标", "指标说明"]
    sheet = book["指标"]
    rows = [dict(zip(sheet_rows(sheet)[0], r, strict=True)) for r in sheet_rows(sheet)[1:]]
    assert list(sheet_rows(sheet)[0]) == ["指标", "数值", "分子", "分母", "统计区间", "政策依据", "说明",
                                          "评估日期", "规则包", "规则包摘要"]
    pack = load_pack("jiangyin")
    assert [r["指标"] for r in rows] == [r.name for r in pack.spec.rates]
    filing = rows[0]
    assert filing["数值"] == 1.0 and sheet["B2"].number_format == "0.0%"
    assert (filing["分子"], filing["分母"]) == (4, 4) and filing["统计区间"] == "2024年1月1日至2024年7月31日"
    assert filing["政策依据"] == "《江阴市重大项目全生命周期管理实施意见》 一, 二.2, 三.1, 12"
    investment = next(r for r in rows if r["指标"] == "当年投入完成率")
    assert investment["数值"] == "—" and investment["说明"].startswith("当年计划投资不全：2024年1月至5月（1个项目）")
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:J{len(rows) + 1}"
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
    definitions = [dict(zip(sheet_rows(book["指标说明"])[0], r, strict=True))
                   for r in sheet_rows(book["指标说明"])[1:]]
    assert list(definitions[0]) == ["指标", "统计方式", "分子", "分母", "统计区间", "政策依据", "口径说明"]
    assert definitions[0]["分母"] == "统计区间内完成“签约”的项目数"
    assert definitions[0]["分子"] == "分母项目中截至统计日已完成“备案”的项目数"
    assert definitions[0]["统计区间"] == "当年1月1日至统计日" and definitions[0]["统计方式"] == "项目计数"
    assert definitions[0]["口径说明"] == pack.spec.rates[0].reading.strip()  # type: ignore[union-attr]
    money = next(d for d in definitions if d["指标"] == "当年投入完成率")
    assert money["统计方式"] == "金额求和（万元）" and "计划投资（万元）之和" in money["分母"]
    book.close()
    # The same in a CSV (the values only), and the machine's keys with --columns contract.
    code, err = cli(["rates", "--pack", "jiangyin", "--as-of", "2024-07-31", ROOT / "examples/jiangyin.jsonl",
                     "-o", tmp_path / "r.csv"], capsys)
    assert code == 0, err
    assert csv_rows(tmp_path / "r.csv")[1][:4] == ["签约项目备案率", "100.0%", "4", "4"]


# ------------------------------------------------------------------ the writers


def test_line_of_the_locators() -> None:
    assert [line_of(x) for x in ("row 16", "line 4", "rows 3-4", "row 1 column D", "rows 3-4 column D",
                                 "the header")] == [16, 4, "第3-4行", "第1行D列", "第3-4行D列", "the header"]


def test_an_office_workbook_is_all_or_nothing(tmp_path: Path) -> None:
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    before = list(ALL_TEMP_FILES)
    path = tmp_path / "out.xlsx"
    writer, (rejects, notices) = open_office(path, None)
    rejects.write({"file": "a.csv", "locator": "row 3", "project_id": "X", "field": "签约时间", "message": "坏"})
    notices.write({"file": "a.csv", "locator": "row 4", "project_id": None, "notice": "合计行"})
    assert not path.exists() and rejects.target is None
    writer.abort()
    assert names(tmp_path) == [] and before == ALL_TEMP_FILES  # openpyxl's files of every sheet too
    with pytest.raises(ValueError, match="already closed"):
        rejects.write({"file": "a.csv", "locator": "row 5", "project_id": None, "field": None, "message": "x"})
    # Committed: the three sheets, the reject's row as a number.
    writer, (rejects, _) = open_office(path, None)
    rejects.write({"file": "a.csv", "locator": "row 3", "project_id": "X", "field": "签约时间", "message": "坏"})
    rejects.close()  # a sheet's own close does nothing: the workbook commits
    assert not path.exists()
    writer.close()
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [WARNINGS.title, REJECTS.title, NOTICES.title]
    assert sheet_rows(book[REJECTS.title]) == [tuple(REJECT_HEADERS), ("a.csv", 3, "X", "签约时间", "坏")]
    assert list(sheet_rows(book[WARNINGS.title])[0]) == list(HEADERS.values())
    book.close()
    assert sheet_of(open_tables(tmp_path / "x.csv", None, (WARNINGS,)), "说明") is None
