"""Writes the wide-sheet example in three twins: a GBK CSV as Excel saves it, an .xlsx
with real date cells, and the JSON Lines the readers should make of them.

    python examples/wide/make.py
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
HEADERS = ["项目代码", "项目名称", "行业", "是否开发区", "总投资(万元)", "所在地",
           "计划开工日期", "签约日期", "拿地日期", "开工日期", "竣工日期", "投产日期"]
SECTOR = {"工业": "industrial", "商服住": "commercial_residential", "政府投资": "government",
          "能源": "energy"}
# 建德 projects as a platform exports them: one row a project, a date column a milestone.
ROWS: list[list[object]] = [
    ["JD-W-001", "年产5万吨新材料项目", "工业", "否", 30000, "下涯镇", None,
     dt.date(2024, 1, 10), dt.date(2024, 3, 2), None, None, None],
    ["JD-W-002", "城东商业综合体", "商服住", "否", 50000, "新安江街道", None,
     None, None, dt.date(2024, 1, 31), None, None],
    ["JD-W-003", "高铁新区道路工程", "政府投资", "否", 100000, "洋溪街道", None,
     None, None, dt.date(2024, 2, 29), None, None],
    ["JD-W-004", "智能装备产业园", "工业", "是", 8000, "经济开发区", None,
     dt.date(2024, 2, 1), None, None, None, None],
    ["JD-W-005", "光伏发电项目", "能源", "否", 200000, "寿昌镇", None,
     dt.date(2023, 6, 1), dt.date(2023, 8, 1), dt.date(2023, 10, 1), dt.date(2024, 3, 31), None],
    ["JD-W-006", "精密铸件技改项目", "工业", "否", 12000, "梅城镇", None,
     dt.date(2024, 5, 6), dt.date(2024, 6, 20), dt.date(2024, 8, 1), None, None],
]
STEPS = {"签约日期": "签约", "拿地日期": "落地", "开工日期": "开工", "竣工日期": "竣工",
         "投产日期": "投产"}


def twin(row: list[object]) -> dict[str, object]:
    cells = dict(zip(HEADERS, row, strict=True))
    project: dict[str, object] = {"id": cells["项目代码"], "name": cells["项目名称"],
                                  "sector": SECTOR[str(cells["行业"])],
                                  "in_development_zone": cells["是否开发区"] == "是",
                                  "investment_wan": cells["总投资(万元)"], "region": cells["所在地"]}
    events = [{"date": d.isoformat(), "type": "step_completed", "step": step}
              for col, step in STEPS.items() if isinstance(d := cells[col], dt.date)]
    events.sort(key=lambda e: str(e["date"]))
    return {"project": project, "plan": {}, "events": events}


def main() -> None:
    # Excel's "CSV" on a Chinese Windows is GBK, dates as 2024/1/10.
    with (HERE / "projects-gbk.csv").open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        for row in ROWS:
            w.writerow(["" if c is None else (f"{c.year}/{c.month}/{c.day}" if isinstance(c, dt.date) else c)
                        for c in row])
    wb = Workbook()
    ws = wb.active
    ws.title = "项目清单"
    ws.append(HEADERS)
    for row in ROWS:
        ws.append(row)
    for col in "GHIJKL":
        for cell in ws[col][1:]:
            cell.number_format = "yyyy-mm-dd"
    wb.save(HERE / "projects.xlsx")
    with (HERE / "projects.jsonl").open("w", encoding="utf-8") as fh:
        for row in ROWS:
            fh.write(json.dumps(twin(row), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
