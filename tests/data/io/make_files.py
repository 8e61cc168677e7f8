"""Generate the reader/writer test inputs in this folder.

    python tests/data/io/make_files.py [OUTPUT_DIR]

The same four projects are written as JSON Lines, a GBK CSV as Excel exports
it (CRLF, no BOM), a UTF-8 CSV with BOM and an .xlsx with real date cells, a
title row and different headers and column order; the CSVs spread the accepted
date spellings over their cells. Broken files and a projects/events table pair
cover rejects. The tests read the committed files and check that this script
still produces the same text files, and .xlsx files that read the same (zip
entries carry the time they were written, so those bytes differ per run).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path

import openpyxl

WIDE_HEADER = [
    "项目代码", "项目名称", "行业/板块", "是否开发区", "总投资(万元)", "所在地/属地",
    "计划开工日期", "计划竣工日期", "签约日期", "落地日期", "拿地日期", "立项日期",
    "开工日期", "竣工日期", "投产日期", "达产日期", "备案日期", "备注",
]  # fmt: skip

# One row per project, cells as a clerk's export shows them (every date spelling used).
WIDE_ROWS = [
    ["JD-2024-017", "年产5万吨新材料项目", "工业", "否", "65,000", "下涯镇",
     "2024/9/1", "2026年3月31日", "2024-01-10", "", "2024.3.2", "20240320",
     "", "", "", "", "", "重点,省市县长项目"],
    ["JD-2024-018", "城南商业综合体", "商服住", "是", "1,200.5", "新安江街道",
     "2024-05-01", "", "2023/11/15", "2024年2月1日", "", "",
     "2024.6.18", "", "", "", "20231201", ""],
    ["2024017", "城区供水管网改造", "政府投资", "N", " 300 ", "",
     "", "", "", "", "", "2024年7月2日",
     "2024-08-15", "2024/12/30", "", "", "", ""],
    ["NY-7", "渔光互补光伏电站", "energy", "1", "2,500", "大洋镇",
     "", "2025.6.30", "2023-10-08", "2023/10/8", "", "",
     "2024年1月5日", "", "20241231", "", "", ""],
]  # fmt: skip


def _history(project: dict[str, object], plan: dict[str, str], steps: list[tuple[str, str]]):
    events = [{"date": d, "type": "step_completed", "step": s} for d, s in steps]
    return {"project": project, "plan": plan, "events": events}


# What every format must read as; JSON Lines holds it verbatim.
HISTORIES = [
    _history(
        {"id": "JD-2024-017", "name": "年产5万吨新材料项目", "sector": "industrial",
         "in_development_zone": False, "investment_wan": 65000, "region": "下涯镇"},
        {"start": "2024-09-01", "completion": "2026-03-31"},
        [("2024-01-10", "签约"), ("2024-03-02", "落地"), ("2024-03-20", "立项")],
    ),
    _history(
        {"id": "JD-2024-018", "name": "城南商业综合体", "sector": "commercial_residential",
         "in_development_zone": True, "investment_wan": 1200.5, "region": "新安江街道"},
        {"start": "2024-05-01"},
        [("2023-11-15", "签约"), ("2023-12-01", "备案"), ("2024-02-01", "落地"),
         ("2024-06-18", "开工")],
    ),
    _history(
        {"id": "2024017", "name": "城区供水管网改造", "sector": "government",
         "in_development_zone": False, "investment_wan": 300},
        {},
        [("2024-07-02", "立项"), ("2024-08-15", "开工"), ("2024-12-30", "竣工")],
    ),
    _history(
        {"id": "NY-7", "name": "渔光互补光伏电站", "sector": "energy",
         "in_development_zone": True, "investment_wan": 2500, "region": "大洋镇"},
        {"completion": "2025-06-30"},
        [("2023-10-08", "签约"), ("2023-10-08", "落地"), ("2024-01-05", "开工"),
         ("2024-12-31", "投产")],
    ),
]  # fmt: skip

D = dt.date

# The xlsx: other header spellings, another column order, typed cells.
XLSX_HEADER = [
    "项目名称", "项目代码", "行业", "总投资（万元）", "是否开发区", "所在地",
    "签约日期", "落地日期", "拿地日期", "立项日期", "开工日期", "竣工日期",
    "投产日期", "备案日期", "计划开工日期", "计划竣工日期",
]  # fmt: skip
XLSX_ROWS: list[list[object]] = [
    ["年产5万吨新材料项目", "JD-2024-017", "工业", 65000, "否", "下涯镇",
     D(2024, 1, 10), None, D(2024, 3, 2), D(2024, 3, 20), None, None,
     None, None, D(2024, 9, 1), D(2026, 3, 31)],
    ["城南商业综合体", "JD-2024-018", "商服住", 1200.5, "是", "新安江街道",
     D(2023, 11, 15), D(2024, 2, 1), None, None, dt.datetime(2024, 6, 18, 9, 30), None,
     None, D(2023, 12, 1), dt.datetime(2024, 5, 1), None],
    ["城区供水管网改造", 2024017, "政府投资", 300, "N", None,
     None, None, None, "2024年7月2日", D(2024, 8, 15), D(2024, 12, 30),
     None, None, None, None],
    # 45657 is the serial Excel stores for 2024-12-31: a date cell that lost its format.
    ["渔光互补光伏电站", "NY-7", "energy", 2500, True, "大洋镇",
     D(2023, 10, 8), D(2023, 10, 8), None, None, D(2024, 1, 5), None,
     45657.0, None, None, D(2025, 6, 30)],
]  # fmt: skip

BROKEN_CSV = [
    WIDE_HEADER,
    WIDE_ROWS[0],  # row 2
    ["BAD-1", "坏日期", "工业", "", "", "", "", "", "", "", "2024-02-30",
     "", "", "", "", "", "", ""],  # row 3: no 30 February
    ["", "缺代码", "工业", "", "100", "", "", "", "2024-01-01", "", "", "",
     "", "", "", "", "", ""],  # row 4: no id
    ["BAD-3", "文字金额", "工业", "", "三百", "", "", "", "", "", "", "",
     "", "", "", "", "", ""],  # row 5: amount in words
    WIDE_ROWS[1],  # row 6
    [""] * len(WIDE_HEADER),  # row 7: empty, not a project
    ["BAD-5", "两处错误", "农业", "", "", "", "", "", "", "", "", "",
     "明年", "", "", "", "", ""],  # row 8: unknown sector and a garbage date
    ["BAD-6", "开发区不明", "工业", "也许", "", "", "", "", "", "", "", "",
     "", "", "", "", "", ""],  # row 9
    WIDE_ROWS[2],  # row 10
]  # fmt: skip

BROKEN_JSONL = [
    json.dumps(HISTORIES[0], ensure_ascii=False),  # line 1
    "",  # line 2: blank, skipped
    '{"project": {"id": "X"',  # line 3: truncated
    "[1, 2]",  # line 4: not an object
    json.dumps(HISTORIES[1], ensure_ascii=False),  # line 5
]

BROKEN_XLSX: list[list[object]] = [
    ["项目代码", "项目名称", "开工日期", "总投资(万元)"],
    ["OK-1", "正常", D(2024, 3, 1), 10],  # row 2
    ["BAD-1", "月份不存在", "2024/13/40", 10],  # row 3
    [None, "缺代码", D(2024, 3, 1), 10],  # row 4
    ["BAD-3", "文字金额", 45352.0, "三百"],  # row 5
    ["OK-2", "序列号日期", 45352.0, "1,000"],  # row 6: 45352 = 2024-03-01
]

TABLES_PROJECTS = [
    ["项目代码", "项目名称", "行业", "总投资(万元)", "计划开工日期", "签约日期"],
    ["T1", "智能装备产业园", "工业", "80000", "2024-09-01", ""],  # row 2
    ["T2", "城南商业综合体", "商业", "1200", "", ""],  # row 3
    ["T3", "人才公寓", "民生", "3000", "", "2024-02-02"],  # row 4: no events
    ["T4", "坏事件项目", "工业", "500", "", ""],  # row 5: one bad event
    ["T2", "重复行", "商业", "", "", ""],  # row 6: duplicate id
]  # fmt: skip

EVENTS_HEADER = [
    "项目代码", "日期", "类型", "环节", "期间", "计划投资(万元)", "实际投资(万元)",
    "是否合规", "预警编号", "办理结果", "延期至",
]  # fmt: skip
TABLES_EVENTS = [
    EVENTS_HEADER,
    ["T1", "2024-03-02", "step_completed", "拿地", "", "", "", "", "", "", ""],  # 2
    ["T2", "2024/4/5", "月报", "", "2024年3月", "500", "300", "否", "", "", ""],  # 3
    ["ORPHAN-1", "2024-02-01", "step_completed", "拿地", "", "", "", "", "", "", ""],  # 4
    ["T1", "2024-01-10", "完成", "签约", "", "", "", "", "", "", ""],  # 5
    ["T2", "2024-06-01", "处置", "", "", "", "", "", "T2/签约未落地", "正在办理", ""],  # 6
    ["", "2024-06-01", "进展", "", "", "", "", "", "", "", ""],  # 7: no id
    ["T1", "2024-06-03", "周报", "", "2024-W23", "", "", "", "", "", ""],  # 8
    ["T2", "2024-07-01", "延期", "", "", "", "", "", "T2/签约未落地", "", "2024-09-30"],  # 9
    ["ORPHAN-2", "2024-02-30", "进展", "", "", "", "", "", "", "", ""],  # 10
    ["T1", "2024-05-20", "月报", "", "2024-04", "800", "800", "是", "", "", ""],  # 11
    ["T4", "2024-08-05", "月报", "", "2024-07", "100", "三百", "", "", "", ""],  # 12
]  # fmt: skip

# The events table as .xlsx: typed cells, 期间 as the date Excel makes of "2024-03".
TABLES_EVENTS_XLSX: list[list[object]] = [
    EVENTS_HEADER,
    ["T1", D(2024, 3, 2), "step_completed", "拿地"],
    ["T2", D(2024, 4, 5), "月报", None, D(2024, 3, 1), 500, 300, False],
    ["ORPHAN-1", D(2024, 2, 1), "step_completed", "拿地"],
    ["T1", D(2024, 1, 10), "完成", "签约"],
    ["T2", D(2024, 6, 1), "处置", None, None, None, None, None, "T2/签约未落地", "正在办理"],
    [None, D(2024, 6, 1), "进展"],
    ["T1", D(2024, 6, 3), "周报", None, "2024-W23"],
    ["T2", D(2024, 7, 1), "延期", None, None, None, None, None, "T2/签约未落地", None,
     D(2024, 9, 30)],
    ["ORPHAN-2", "2024-02-30", "进展"],
    ["T1", D(2024, 5, 20), "月报", None, "2024-04", 800, 800, "是"],
    ["T4", D(2024, 8, 5), "月报", None, "2024-07", 100, "三百"],
]  # fmt: skip

CUSTOM_MAPPING = """\
# A county export with its own headers.
project:
  id: [统一项目代码]
  sector: [产业类别]
milestones:
  开工: [实际开工]
sectors:
  农业: other
"""

CUSTOM_CSV = [
    ["统一项目代码", "项目名称", "产业类别", "实际开工", "开工日期"],
    ["C-1", "高山蔬菜基地", "农业", "2024-04-01", "2030-01-01"],
]


def _write_csv(path: Path, rows: list[list[str]], encoding: str) -> None:
    # Excel's "CSV (逗号分隔)" export: CRLF rows, quotes only where needed.
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)


def _write_xlsx(path: Path, rows: list[list[object]], title: str | None = None) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "项目"
    if title is not None:
        sheet.append([title])
        sheet.append([])
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    workbook.save(path)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "projects.jsonl", "w", encoding="utf-8", newline="\n") as handle:
        for history in HISTORIES:
            handle.write(json.dumps(history, ensure_ascii=False) + "\n")
    _write_csv(out / "projects_gbk.csv", [WIDE_HEADER, *WIDE_ROWS], "gb18030")
    _write_csv(out / "projects_utf8bom.csv", [WIDE_HEADER, *WIDE_ROWS], "utf-8-sig")
    _write_xlsx(out / "projects.xlsx", [XLSX_HEADER, *XLSX_ROWS], title="建德市重点项目推进情况表")
    _write_csv(out / "broken.csv", BROKEN_CSV, "utf-8-sig")
    (out / "broken.jsonl").write_text("\n".join(BROKEN_JSONL) + "\n", encoding="utf-8")
    _write_xlsx(out / "broken.xlsx", BROKEN_XLSX)
    _write_csv(out / "tables_projects.csv", TABLES_PROJECTS, "gb18030")
    _write_csv(out / "tables_events.csv", TABLES_EVENTS, "utf-8-sig")
    _write_xlsx(out / "tables_events.xlsx", TABLES_EVENTS_XLSX)
    (out / "custom_mapping.yaml").write_text(CUSTOM_MAPPING, encoding="utf-8")
    _write_csv(out / "custom.csv", CUSTOM_CSV, "utf-8-sig")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
