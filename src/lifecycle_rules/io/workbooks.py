"""XLSX output (``io/writers.py`` opens it): one workbook of one or more sheets, each a
:class:`~lifecycle_rules.io.writers.Table`, streamed by openpyxl's write-only mode and saved
to the writer's temporary file, all or nothing like every writer.

An XLSX cell cannot hold a control character (U+0000-U+001F but tab, newline and
carriage return), U+FFFE/U+FFFF or a lone surrogate: such a character is written as
its visible escape ``\\u0007`` and the row is listed in ``escaped`` (row number in the
sheet, the columns, the project; a column of another sheet than the first as
``sheet!column``), for the caller to report. A text beginning with ``=`` is written as
text, never as a formula.

An ``office`` table's sheet has a styled header row (frozen, as every sheet's), wrapped
top-aligned text, an autofilter over its rows, and a print setup: A4 landscape, fit to
one page wide, the header row repeated on every printed page, page numbers in the footer.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any

from lifecycle_rules.io.writers import (
    _ISO_DATE,
    ResultWriter,
    Row,
    Table,
    _columns,
    _naming,
    _ordered,
    _text_cell,
    _Writer,
)

__all__ = ["XlsxWriter"]

# What a worksheet (XML 1.0) cannot hold: openpyxl refuses the control characters and would
# write U+FFFE/U+FFFF into a file Excel cannot open; lone surrogates cannot be encoded.
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class _Sheet:
    """One worksheet of an XLSX being written (openpyxl write-only: each sheet streams to a
    temporary file of openpyxl's own until the workbook is saved)."""

    def __init__(self, book: Any, table: Table) -> None:
        from openpyxl.styles import Font
        from openpyxl.worksheet.properties import PageSetupProperties

        self.table = table
        self.ws = book.create_sheet(title=table.title)
        self.rows = 0
        self.fixed: tuple[str, ...] | None = None
        # Sheet properties and views are written with the first row: set before any row.
        self.ws.freeze_panes = "A2"
        self._bold = Font(bold=True)
        self._styles: dict[tuple[str | None, str | None, str | None], Any] = {}
        if table.office:
            self.ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)

    def _header(self, row: Row) -> tuple[str, ...]:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, PatternFill
        from openpyxl.utils import get_column_letter

        self.fixed, new = _columns(self.fixed, self.table.keys, row)
        if new:
            for index, key in enumerate(self.fixed, 1):
                width = self.table.widths.get(key, self.table.width)
                self.ws.column_dimensions[get_column_letter(index)].width = width
            cells = []
            for key in self.fixed:
                cell = WriteOnlyCell(self.ws, value=self.table.headers.get(key, key))
                cell.font = self._bold
                if self.table.office:
                    cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
                    cell.fill = PatternFill("solid", fgColor="D9D9D9")
                cells.append(cell)
            self.ws.append(cells)
        return self.fixed

    def write(self, row: dict[str, object]) -> tuple[int, list[str]]:
        """Append the row; its row number and the headers of the columns escaped."""
        columns = self._header(row)
        escaped: list[str] = []
        self.ws.append([self._cell(k, row.get(k), escaped) for k in columns])
        self.rows += 1
        return self.rows + 1, escaped

    def _cell(self, key: str, value: object, escaped: list[str]) -> object:
        table = self.table
        if isinstance(value, str) and key in table.dates and _ISO_DATE.fullmatch(value):
            value = dt.date.fromisoformat(value)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return self._styled(value, key, table.date_format)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key in table.percent:
            return self._styled(value, key, "0.0%")
        if value is None or isinstance(value, (int, float, dt.datetime)):
            return self._styled(value, key) if table.office and value is not None else value
        text = _text_cell(value)
        if _XLSX_ILLEGAL.search(text):
            text = _XLSX_ILLEGAL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
            escaped.append(table.headers.get(key, key))
        if not text.startswith("=") and not table.office:
            return text
        cell = self._styled(text, key, fill=table.fills.get(key, {}).get(text))
        cell.data_type = "s"  # text, never a formula
        return cell

    def _styled(self, value: object, key: str, number_format: str | None = None, fill: str | None = None) -> Any:
        """A cell with the number format, fill and (an office sheet) the alignment of its
        column: top, wrapped if the column wraps. Each combination's style is made once
        (openpyxl would look it up again for every cell)."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, PatternFill

        align = ("wrap" if key in self.table.wrap else "top") if self.table.office else None
        style = self._styles.get((number_format, align, fill))
        if style is None:
            model = WriteOnlyCell(self.ws)
            if number_format is not None:
                model.number_format = number_format
            if align is not None:
                model.alignment = Alignment(wrap_text=align == "wrap", vertical="top")
            if fill is not None:
                model.fill = PatternFill("solid", fgColor=fill)
            style = self._styles[number_format, align, fill] = model._style
        cell = WriteOnlyCell(self.ws, value=value)
        cell._style = copy.copy(style)
        return cell

    def finish(self) -> None:
        """The header (a sheet with no rows has it too); an office sheet's filter and print setup."""
        from openpyxl.utils import get_column_letter

        columns = self._header({})
        if not self.table.office:
            return
        ws = self.ws
        ws.auto_filter.ref = f"A1:{get_column_letter(max(len(columns), 1))}{self.rows + 1}"
        ws.print_title_rows = "1:1"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = 9  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"

    def release(self) -> None:
        # openpyxl streams rows to its own temp file and deletes it only on save or at
        # exit; a long-lived process that aborts should not pile them up.
        temp = getattr(self.ws, "_writer", None)
        if temp is not None:
            with suppress(Exception):
                self.ws.close()
            temp.cleanup()


class XlsxWriter(_Writer):
    """A workbook: the first table's sheet takes ``write``; ``sheet(title)`` the others."""

    def __init__(self, final: Path, tables: Sequence[Table]) -> None:
        import openpyxl

        super().__init__(final, tables[0])
        os.close(self._take_fd())  # made now, to fail before a long run; saved by name
        self._book = openpyxl.Workbook(write_only=True)
        self._sheets = [_Sheet(self._book, t) for t in tables]

    def _write(self, row: dict[str, object]) -> None:
        self._append(self._sheets[0], row)

    def _append(self, sheet: _Sheet, row: dict[str, object]) -> None:
        number, escaped = sheet.write(row)
        if escaped:
            if sheet is not self._sheets[0]:
                escaped = [f"{sheet.table.title}!{column}" for column in escaped]
            self.escaped.append((number, tuple(escaped), row.get("project_id")))

    def sheet(self, title: str) -> ResultWriter:
        """A writer of the rows of another sheet of this workbook: saved, moved or
        dropped with the workbook (its own seal, publish, close and abort do nothing)."""
        return _SheetWriter(self, next(s for s in self._sheets if s.table.title == title))

    def _finish(self) -> None:
        for sheet in self._sheets:
            sheet.finish()
        assert self._partial is not None
        self._book.save(self._partial)
        with open(self._partial, "rb") as saved:
            os.fsync(saved.fileno())

    def _release(self) -> None:
        for sheet in self._sheets:
            sheet.release()


class _SheetWriter:
    def __init__(self, book: XlsxWriter, sheet: _Sheet) -> None:
        self.target: Path | None = None
        self.escaped = book.escaped
        self._book, self._sheet = book, sheet

    def write(self, row: Row) -> None:
        book, table = self._book, self._sheet.table
        if book._done or book._sealed:
            raise ValueError("write() on a writer that is already closed or aborted")
        try:
            book._append(self._sheet, _ordered(table.convert(row) if table.convert else row, table.keys))
        except OSError as exc:
            _naming(exc, book.target, book._partial)
            raise

    def seal(self) -> None:
        pass

    publish = close = abort = seal

    def __enter__(self) -> _SheetWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        pass
