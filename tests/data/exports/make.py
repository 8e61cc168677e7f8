"""Write the messy project-list exports in this folder (wide layout, one row per project).

    python tests/data/exports/make.py

``messy.xlsx`` is a city office's hand-kept workbook: an instructions sheet first, then
the table sheet ``项目清单`` with a merged title, a two-row header with a merged group
``关键节点时间``, investment in 亿元 (some as text with a unit), real Excel date cells
mixed with typed dates and placeholders (``/``, ``无``, ``——``, ``N/A`` ...), a 小计 row,
a 合计 row, notes below the table, two duplicate codes and two genuinely bad values.
``messy-gbk.csv`` is the table sheet as Excel's "Save as CSV" writes it on a Chinese
Windows: GBK, CRLF, no BOM, merged cells as the value in their first cell, date cells as
displayed (``2024/3/2``). README.md describes every row and the expected reading.

Both files come from the one grid below, so they always agree. Nothing is random and
no date depends on today; the .xlsx content is the same on every run (its zip entries
carry the time of writing, so its bytes differ).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

HERE = Path(__file__).resolve().parent
D = dt.date
Cell = str | int | float | dt.date | None  # None (empty), str (text cell), int/float (number cell), dt.date (date cell)

SINGLE = ["序号", "项目代码", "项目名称", "行业类别", "所属乡镇", "总投资（亿元）"]
GROUP = "关键节点时间"
STEPS = ["签约时间", "拿地时间", "开工时间", "竣工时间", "投产时间", "达产时间"]
TAIL = ["计划开工日期", "备注"]
WIDTH = len(SINGLE) + len(STEPS) + len(TAIL)  # 14 columns, A..N
AMOUNT = SINGLE.index("总投资（亿元）")  # column F
G0 = len(SINGLE)  # first column of the group (G)

INSTRUCTIONS = [
    "填报说明",
    "1. 请按项目逐行填报，项目代码以省投资项目在线审批监管平台赋码为准。",
    "2. 总投资单位为亿元，关键节点填写实际发生日期，格式为“年/月/日”。",
    "3. 尚未发生的节点填“/”或留空。",
    "4. 请于每月30日前报送市发改局项目科。",
]

# Data rows as typed: 序号, 项目代码, 项目名称, 行业类别, 所属乡镇, 总投资（亿元）,
# 签约, 拿地, 开工, 竣工, 投产, 达产 (关键节点时间), 计划开工日期, 备注.
# A dt.date is a real Excel date cell; every str is a text cell exactly as typed.
# "SUBTOTAL" marks where the 小计 row goes (after the industrial projects).
PROJECTS: list[list[Cell] | str] = [
    # row 5: signed and landed, not started; planned start already passed
    [1, "JD-2024-101", "年产3万吨高端新材料项目", "工业", "下涯镇", 3.5,
     D(2024, 1, 10), D(2024, 3, 2), "/", "/", "/", "/", D(2024, 10, 31), "已拿地，待开工"],
    # row 6: amount as text with unit 亿; signed as a typed date; started long ago
    [2, "JD-2024-102", "智能装备制造基地", "工业", "洋溪街道", "3.5亿",
     "2023.6.15", D(2023, 9, 20), D(2023, 12, 18), "无", "无", "无", D(2023, 12, 1), None],
    # row 7: complete and in production
    [3, "JD-2024-103", "新能源汽车零部件项目", "工业", "更楼街道", 12,
     D(2023, 2, 8), D(2023, 4, 12), D(2023, 6, 30), D(2024, 8, 28), D(2024, 10, 15), "—",
     D(2023, 6, 1), "已投产"],
    # row 8: signed (typed 2024/3/2), no land yet
    [4, "JD-2024-104", "高端纺织印染升级项目", "工业", "大洋镇", 0.8,
     "2024/3/2", "暂无", None, None, None, None, "2024年11月30日", "土地指标待落实"],
    # row 9: amount as text in 万元; signed and landed, not started
    [5, "JD-2024-105", "生物医药中间体项目", "工业", "三都镇", "20000万元",
     D(2024, 5, 20), D(2024, 8, 6), "N/A", "N/A", "N/A", "N/A", D(2024, 11, 30), None],
    "SUBTOTAL",  # row 10
    # row 11: started as 2023年8月1日 typed
    [6, "JD-2024-106", "城南商业综合体", "商服住", "新安江街道", 6,
     D(2023, 3, 15), D(2023, 5, 10), "2023年8月1日", "——", "——", "——", D(2023, 8, 1), None],
    # row 12: government project, no signing or land; complete
    [7, "JD-2024-107", "城区供水管网改造工程", "政府投资", "新安江街道", 1.2,
     "-", "-", D(2023, 9, 1), D(2024, 6, 30), "-", "-", D(2023, 9, 1), "已竣工"],
    # row 13: infrastructure, started
    [8, "JD-2024-108", "江滨大道提升改造工程", "基础设施", "洋溪街道", 2.4,
     "／", "／", D(2024, 4, 8), "／", "／", "／", D(2024, 3, 31), None],
    # row 14: code with surrounding spaces (not a duplicate); typed dates; complete
    [9, " JD-2024-109 ", "城北幼儿园新建工程", "民生", "寿昌镇", 0.6,
     None, D(2024, 2, 26), "2024.5.6", D(2024, 11, 20), None, None, "2024/5/1", None],
    # row 15: energy, started
    [10, "JD-2024-110", "渔光互补光伏电站", "能源", "大同镇", 4.5,
     D(2023, 10, 8), D(2023, 12, 20), D(2024, 1, 5), "暂无", "暂无", "暂无", D(2024, 1, 1), None],
    # row 16: DUPLICATE across normalisation: full-width ０ makes it JD-2024-105 (row 9)
    [11, "JD-2024-1０5", "农产品冷链物流中心", "其他", "航头镇", 1.5,
     D(2024, 6, 12), D(2024, 9, 3), "/", "/", "/", "/", D(2024, 11, 15), None],
    # row 17: EXACT DUPLICATE of JD-2024-103 (row 7), pasted again with a 达产 date
    [12, "JD-2024-103", "新能源汽车零部件项目", "工业", "更楼街道", 12,
     D(2023, 2, 8), D(2023, 4, 12), D(2023, 6, 30), D(2024, 8, 28), D(2024, 10, 15),
     D(2024, 11, 20), D(2023, 6, 1), "已达产"],
    # row 18: BAD: 签约时间 typed with a two-digit year
    [13, "JD-2024-113", "乡村振兴文旅综合体", "商服住", "大慈岩镇", 5,
     "24/3/2", D(2024, 6, 20), "无", "无", "无", "无", D(2024, 9, 30), None],
    # row 19: BAD: 开工时间 is a date that does not exist
    [14, "JD-2024-114", "老旧小区改造提升工程", "民生", "梅城镇", 0.9,
     "/", "/", "2024-02-30", "/", "/", "/", D(2024, 3, 1), None],
    # row 20: energy, started
    [15, "JD-2024-115", "220千伏输变电工程", "能源", "乾潭镇", 2,
     "—", D(2024, 1, 15), D(2024, 3, 20), "—", "—", "—", D(2024, 3, 1), None],
    # row 21: landed, not started; planned start passed
    [16, "JD-2024-116", "高新区标准厂房（一期）", "政府投资", "杨村桥镇", 3,
     "无", D(2024, 7, 9), None, None, None, None, "2024年10月31日", "施工图审查中"],
]  # fmt: skip

NOTES = ["说明：1. 投资单位为亿元。", "填表人：张三    联系电话：0571-12345678"]


def _numeric_sum(rows: list[list[Cell]]) -> float:
    """What Excel's SUM shows: number cells only (text such as 3.5亿 is ignored)."""
    total = sum(v for r in rows if isinstance(v := r[AMOUNT], (int, float)))
    return round(total, 2)


def build_grid() -> tuple[list[list[Cell]], list[str]]:
    """The table sheet as rows of 14 cells (row 1 first), and its merged ranges."""
    last = get_column_letter(WIDTH)
    blank: list[Cell] = [None] * WIDTH
    header3: list[Cell] = [*SINGLE, GROUP, *[None] * (len(STEPS) - 1), *TAIL]
    header4: list[Cell] = [*[None] * len(SINGLE), *STEPS, *[None] * len(TAIL)]
    grid: list[list[Cell]] = [
        ["2024年重点项目推进情况表", *blank[1:]],
        ["填报单位：市发改局    截止日期：2024年11月30日", *blank[1:]],
        header3,
        header4,
    ]
    merges = [f"A1:{last}1", f"A2:{last}2"]
    for col in [*range(len(SINGLE)), WIDTH - 2, WIDTH - 1]:
        letter = get_column_letter(col + 1)
        merges.append(f"{letter}3:{letter}4")
    merges.append(f"{get_column_letter(G0 + 1)}3:{get_column_letter(G0 + len(STEPS))}3")

    data: list[list[Cell]] = []
    for item in PROJECTS:
        if item == "SUBTOTAL":
            row: list[Cell] = list(blank)
            row[1] = "小计"  # the word in the code column, 序号 empty
            row[AMOUNT] = _numeric_sum(data)
            grid.append(row)
        else:
            assert isinstance(item, list) and len(item) == WIDTH, item
            data.append(item)
            grid.append(list(item))
    total: list[Cell] = list(blank)
    total[0] = "合计"  # the word in 序号, merged across A:E so the code cell is empty
    total[AMOUNT] = _numeric_sum(data)
    merges.append(f"A{len(grid) + 1}:{get_column_letter(AMOUNT)}{len(grid) + 1}")
    grid.append(total)
    grid.append(list(blank))
    for note in NOTES:
        grid.append([note, *blank[1:]])
        merges.append(f"A{len(grid)}:{last}{len(grid)}")
    return grid, merges


def write_xlsx(path: Path, grid: list[list[Cell]], merges: list[str]) -> None:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "填报说明"
    for line in INSTRUCTIONS:
        notes.append([line])
    notes["A1"].font = Font(bold=True, size=14)
    notes.column_dimensions["A"].width = 70

    ws = wb.create_sheet("项目清单")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(grid, start=1):
        for c, value in enumerate(row, start=1):
            if value is None:
                continue
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, dt.date):
                cell.number_format = "yyyy/m/d"
            if r <= 4:
                cell.alignment = center
                cell.font = Font(bold=True, size=16 if r == 1 else 11)
    for ref in merges:
        ws.merge_cells(ref)
    for c, width in enumerate([6, 14, 26, 10, 12, 12] + [11] * 7 + [16], start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "C5"
    fixed = dt.datetime(2024, 11, 30, 17, 0, 0)
    wb.properties.creator = "市发改局"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.save(path)


def shown(value: Cell) -> str:
    """A cell as Excel displays it, which is what "Save as CSV" writes."""
    if value is None:
        return ""
    if isinstance(value, dt.date):  # number format yyyy/m/d
        return f"{value.year}/{value.month}/{value.day}"
    if isinstance(value, float):
        return f"{value:.10g}"  # General: 3.5, 16.3
    return str(value)  # ints as 12; text as typed, spaces kept


def write_csv(path: Path, grid: list[list[Cell]]) -> None:
    with open(path, "w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        for row in grid:
            writer.writerow([shown(v) for v in row])


def main() -> None:
    grid, merges = build_grid()
    write_xlsx(HERE / "messy.xlsx", grid, merges)
    write_csv(HERE / "messy-gbk.csv", grid)


if __name__ == "__main__":
    main()
