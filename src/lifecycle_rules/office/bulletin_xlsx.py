"""The bulletin as an .xlsx workbook: one sheet per part (概况, 分乡镇, 分责任单位, the lists,
单位考评, 月度趋势, 五率 where the pack declares rates, 说明), each with a title row, a row of
who/when, then a two-row merged header (a group over its columns), frozen panes below the
header, print titles repeating the rows down to the header, A4 landscape fitted to the
page's width. Values in Chinese; dates are date cells, counts numbers, rates percentages.

A cell cannot hold a control character: such a character is written as ``\\uXXXX`` and
the cell listed in ``Workbook.escaped`` for the caller to report (as ``evaluate`` does); a
text beginning with ``=`` stays text, never a formula.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook as Book
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from lifecycle_rules.office.bulletin import Bulletin
from lifecycle_rules.office.bulletin_tables import Table, tables
from lifecycle_rules.office.bulletin_words import subtitle, title

HEADING_FONT = "黑体"  # on every Chinese Windows; others substitute a sans-serif
BODY_FONT = "宋体"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_THIN = Side(style="thin", color="666666")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="E8E8E8")
_TOTAL_FILL = PatternFill("solid", fgColor="F4F4F4")
_LEVEL_FONT = {"红灯": "C00000", "橙灯": "C55A11", "黄灯": "8A6D00"}
_FORMATS = {"date": "yyyy-mm-dd", "pct": "0.0%", "num": "0.0", "int": "0"}


@dataclass
class Workbook:
    """The file's bytes, and the cells written escaped: (sheet, row, header, project)."""

    data: bytes
    escaped: list[tuple[str, int, str, str]] = field(default_factory=list)


def _text(value: str, where: tuple[str, int, str], escaped: list[tuple[str, int, str, str]],
          project: str) -> str:
    if _ILLEGAL.search(value):
        escaped.append((*where, project))
        return _ILLEGAL.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    return value


def _put(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, not a formula
    return cell


def _merged_line(ws: Worksheet, row: int, width: int, text: str, font: Font, *, height: float | None = None,
                 align: str = "center") -> None:
    _put(ws, row, 1, text).font = font
    ws.cell(row=row, column=1).alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
    if width > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    if height is not None:
        ws.row_dimensions[row].height = height


def _lead_height(text: str, chars: float) -> float:
    lines = max(1, math.ceil(len(text) * 2.1 / max(chars, 10)))
    return 18.0 * lines


def _header(ws: Worksheet, t: Table, top: int) -> None:
    font = Font(name=HEADING_FONT, bold=True, size=10)
    align = Alignment(horizontal="center", vertical="center", wrap_text=True)
    i, cols = 0, t.columns
    while i < len(cols):
        c = cols[i]
        if c.group is None:
            _put(ws, top, i + 1, c.header)
            ws.merge_cells(start_row=top, start_column=i + 1, end_row=top + 1, end_column=i + 1)
            i += 1
            continue
        j = i
        while j < len(cols) and cols[j].group == c.group:
            _put(ws, top + 1, j + 1, cols[j].header)
            j += 1
        _put(ws, top, i + 1, c.group)
        if j - i > 1:
            ws.merge_cells(start_row=top, start_column=i + 1, end_row=top, end_column=j)
        i = j
    for r in (top, top + 1):
        ws.row_dimensions[r].height = 30
        for col in range(1, len(cols) + 1):
            cell = ws.cell(row=r, column=col)
            cell.font, cell.alignment, cell.fill, cell.border = font, align, _HEAD_FILL, _BOX


def _sheet(book: Book, b: Bulletin, t: Table, escaped: list[tuple[str, int, str, str]]) -> None:
    ws = book.create_sheet(title=t.sheet)
    width = len(t.columns)
    chars = sum(c.width for c in t.columns)
    for n, c in enumerate(t.columns, 1):
        ws.column_dimensions[get_column_letter(n)].width = c.width
    _merged_line(ws, 1, width, f"{title(b)}　{t.heading}", Font(name=HEADING_FONT, bold=True, size=16), height=30)
    _merged_line(ws, 2, width, subtitle(b), Font(name=HEADING_FONT, size=10, color="444444"),
                 height=_lead_height(subtitle(b), chars * 1.6))
    row = 3
    for text in t.lead:
        _merged_line(ws, row, width, text, Font(name=BODY_FONT, size=12), height=_lead_height(text, chars),
                     align="left")
        row += 1
    if t.note:
        _merged_line(ws, row, width, t.note, Font(name=BODY_FONT, size=10, color="444444"),
                     height=_lead_height(t.note, chars * 1.2), align="left")
        row += 1
    header = row
    _header(ws, t, header)
    first = header + 2
    body = Font(name=BODY_FONT, size=10)
    bold = Font(name=BODY_FONT, size=10, bold=True)
    pid = next((n for n, c in enumerate(t.columns) if c.header == "项目代码"), None)
    for r, values in enumerate(t.rows, first):
        total = t.total_row and r == first + len(t.rows) - 1
        project = str(values[pid]) if pid is not None else ""
        for n, (value, c) in enumerate(zip(values, t.columns, strict=True), 1):
            shown = _text(value, (t.sheet, r, c.header), escaped, project) if isinstance(value, str) else value
            cell = _put(ws, r, n, shown if shown != "" else None)
            cell.border = _BOX
            color = _LEVEL_FONT.get(shown) if isinstance(shown, str) else None
            cell.font = bold if total else Font(name=BODY_FONT, size=10, bold=True, color=color) if color else body
            if total:
                cell.fill = _TOTAL_FILL
            if c.kind in _FORMATS and value is not None:
                cell.number_format = _FORMATS[c.kind]
            cell.alignment = Alignment(vertical="center", wrap_text=c.kind in ("text", "long"),
                                       horizontal="right" if c.kind in ("int", "pct", "num") else None)
    if not t.rows:
        _merged_line(ws, first, width, t.empty, body)
        ws.cell(row=first, column=1).border = _BOX
    ws.freeze_panes = f"{get_column_letter(t.frozen_columns + 1)}{first}"
    ws.print_title_rows = f"1:{header + 1}"
    setup = ws.page_setup
    setup.orientation = "landscape"
    setup.paperSize = ws.PAPERSIZE_A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def render_xlsx(b: Bulletin, *, rejects_file: str = "", notices_file: str = "") -> Workbook:
    """The workbook's bytes (saved in memory: the caller commits the file)."""
    book = Book()
    default = book.active
    escaped: list[tuple[str, int, str, str]] = []
    for t in tables(b, rejects_file=rejects_file, notices_file=notices_file):
        _sheet(book, b, t, escaped)
    if default is not None:
        book.remove(default)
    book.properties.title = title(b)
    book.properties.creator = "lifecycle-rules"
    out = io.BytesIO()
    book.save(out)
    return Workbook(out.getvalue(), escaped)
