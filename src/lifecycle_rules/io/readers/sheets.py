"""CSV and Excel files as rows of cells: the CSV encoding detected, the first sheet of a
workbook read (python-calamine, or openpyxl without it), and the header row found past
any title rows and resolved through the column mapping. Rows after the header stream."""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lifecycle_rules.io.readers.columns import _Column, _knows, _Mapping, _resolve_header
from lifecycle_rules.io.readers.values import _is_empty, _norm, _text

__all__ = ["detect_encoding"]

_EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
_OPENPYXL_SUFFIXES = frozenset({".xlsx", ".xlsm"})

# Enough to see plenty of Chinese text; a later stray byte still surfaces as a
# per-row reject rather than silently corrupting data.
_DETECT_CHUNK = 64 * 1024
_DETECT_CHUNKS = 16
_HEADER_SCAN = 10  # non-empty rows searched for the header, past title rows

_Rows = Generator[tuple[int, Sequence[object]], None, None]


def _rows(numbered: Iterator[tuple[int, Sequence[object]]]) -> _Rows:
    """Numbered rows as a generator (which the reader closes when it stops early)."""
    yield from numbered


def detect_encoding(path: str | Path) -> str:
    """``"utf-8-sig"`` if the file starts as valid UTF-8 (BOM or not), else ``"gb18030"``."""
    with open(path, "rb") as handle:
        if handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
            return "utf-8-sig"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for _ in range(_DETECT_CHUNKS):
                chunk = handle.read(_DETECT_CHUNK)
                decoder.decode(chunk, final=not chunk)
                if not chunk:
                    break
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def _csv_rows(path: Path, encoding: str) -> _Rows:
    # surrogateescape keeps a stray undecodable byte visible to the row parser,
    # which rejects that one row instead of the whole file failing or mojibake passing.
    # A cell may be long (a pasted document): the csv module's 128 KiB default would fail
    # the whole file; a long value is then refused by its field's own limit, row by row.
    csv.field_size_limit(max(csv.field_size_limit(), 256 * 2**20))
    with open(path, encoding=encoding, errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle)
        try:
            yield from enumerate(reader, 1)
        except csv.Error as exc:
            raise ValueError(f"{path}: line {reader.line_num}: CSV 无法解析: {exc}") from exc


SheetRef = str | int | None  # a sheet's name, its 1-based number, or None: find it


def _excel_sheets(path: Path, sheet: SheetRef) -> Generator[tuple[str, _Rows], None, None]:
    """(name, rows) of the workbook's sheets: the one asked for, or each in order."""
    try:
        import python_calamine
    except ImportError:
        yield from _openpyxl_sheets(path, sheet)
        return
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.CalamineError as exc:
        raise ValueError(f"{path}: 无法读取 Excel 文件: {exc}") from exc
    except OSError as exc:
        # calamine's message ("No such file or directory") leaves out which file.
        raise OSError(f"{path}: {exc}") from exc
    with workbook:
        names = list(workbook.sheet_names)
        for name in _chosen(path, names, sheet):
            # iter_rows starts at sheet row 1 even when the data starts lower, so
            # the count is the row number Excel shows.
            yield name, _rows(enumerate(workbook.get_sheet_by_name(name).iter_rows(), 1))


def _chosen(path: Path, names: Sequence[str], sheet: SheetRef) -> list[str]:
    if sheet is None:
        return list(names)
    if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
        number = int(sheet)
        if not 1 <= number <= len(names):
            raise ValueError(f"{path}: 没有第 {number} 个工作表（共 {len(names)} 个: {'、'.join(names)}）")
        return [names[number - 1]]
    if sheet not in names:
        raise ValueError(f"{path}: 没有名为 '{sheet}' 的工作表（有: {'、'.join(names)}）")
    return [sheet]


def _openpyxl_sheets(path: Path, sheet: SheetRef) -> Generator[tuple[str, _Rows], None, None]:
    if path.suffix.lower() not in _OPENPYXL_SUFFIXES:
        raise ValueError(f"{path}: reading {path.suffix} needs python-calamine")
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{path}: 无法读取 Excel 文件: {exc}") from exc
    try:
        for name in _chosen(path, workbook.sheetnames, sheet):
            ws = workbook[name]
            ws.reset_dimensions()  # exports often carry a wrong <dimension>; read what is there
            yield name, _rows(enumerate(ws.iter_rows(values_only=True), 1))
    finally:
        workbook.close()


@dataclass(frozen=True)
class _Sheet:
    """A table whose header has been read."""

    file: str
    encoding: str | None  # None for Excel, where cells are typed
    columns: tuple[_Column, ...]
    id_header: str  # as written in the file, for rejects
    mapping: _Mapping
    sheet: str | None  # the worksheet's name (None for CSV)
    header_rows: tuple[int, ...]  # the rows read as the header, as Excel numbers them
    ignored: tuple[tuple[int, str], ...]  # columns the mapping ignores (序号 ...)
    unknown: tuple[tuple[int, str], ...]  # columns no field takes

    @property
    def where(self) -> str:
        rows = "-".join(str(r) for r in (self.header_rows[0], self.header_rows[-1])) \
            if len(self.header_rows) > 1 else str(self.header_rows[0])
        return (f"工作表“{self.sheet}”" if self.sheet is not None else "") + f"第{rows}行表头"


def _open_sheet(
    path: Path,
    encoding: str | None,
    mapping: _Mapping,
    sections: Sequence[str],
    required: Sequence[tuple[str, str]],
    sheet: SheetRef = None,
) -> tuple[_Sheet, _Rows]:
    """Read up to and including the header; the rest stays unread.

    The header is the first row naming the id column among the first few non-empty rows
    (title rows above it are skipped), with the row under it when that row names columns
    under a group header (a two-row merged header: 关键节点时间 over 签约时间 ...). In a
    workbook it is the first sheet with such a header, unless ``sheet`` names one."""
    chosen: str | None = None
    if path.suffix.lower() in _EXCEL_SUFFIXES:
        sheets: Sequence[tuple[str | None, _Rows]] | Generator[tuple[str, _Rows], None, None] = \
            _excel_sheets(path, sheet)
    else:
        chosen = encoding or detect_encoding(path)
        sheets = [(None, _csv_rows(path, chosen))]
    id_section, id_name = required[0]
    id_aliases = {_norm(a) for a in mapping.columns[id_section].get(id_name, ())}
    looked: list[str] = []
    empty = True
    for name, rows in sheets:
        try:
            found = _find_header(rows, id_aliases, mapping, sections)
        except BaseException:
            rows.close()
            raise
        if found is None or found[0] == ():
            empty = empty and found is not None
            looked.append(name or "")
            rows.close()
            continue
        empty = False
        header_rows, names, data = found
        try:
            columns, ignored, unknown = _resolve_header(str(path), names, mapping, sections, required)
        except BaseException:
            rows.close()
            raise
        id_header = next(c.header for c in columns if (c.section, c.name) == required[0])
        return _Sheet(str(path), chosen, tuple(columns), id_header, mapping, name, header_rows,
                      tuple(ignored), tuple(unknown)), data
    aliases = mapping.columns[id_section].get(id_name, ())
    shown = aliases[0] if aliases else id_name
    if empty:
        raise ValueError(f"{path}: no header row (file is empty)")
    if looked and looked != [""]:
        raise ValueError(f"{path}: 没有工作表含表头列 {shown}（查看了: {'、'.join(looked)}；可用 --sheet 指定）")
    raise ValueError(f"{path}: missing required column {shown}"
                     + (f" (or one of: {', '.join(aliases[1:])})" if len(aliases) > 1 else ""))


def _find_header(
    rows: _Rows, id_aliases: set[str], mapping: _Mapping, sections: Sequence[str]
) -> tuple[tuple[int, ...], list[tuple[int, str, tuple[str, ...]]], _Rows] | None:
    """(header rows, the columns' names, the rows after the header); None if the first
    rows name no id column; no header rows if the sheet has no non-blank row."""
    tried = 0
    for number, cells in rows:
        if _blank(cells):
            continue
        id_at = next((i for i, c in enumerate(cells) if not _is_empty(c) and _norm(_text(c)) in id_aliases), None)
        if id_at is not None:
            nxt = next(rows, None)
            if nxt is not None and _second_header(cells, nxt[1], id_at, mapping, sections):
                return (number, nxt[0]), _two_row_names(cells, nxt[1]), rows
            names: list[tuple[int, str, tuple[str, ...]]] = [
                (i, _text(c).replace("\ufeff", ""), (_text(c).replace("\ufeff", ""),))
                for i, c in enumerate(cells) if not _is_empty(c)]
            header: tuple[int, ...] = (number,)
            return header, names, (_rows(itertools.chain([nxt], rows)) if nxt is not None else rows)
        tried += 1
        if tried == _HEADER_SCAN:
            return None
    return ((), [], rows) if tried == 0 else None


def _second_header(top: Sequence[object], below: Sequence[object], id_at: int, mapping: _Mapping,
                   sections: Sequence[str]) -> bool:
    """Is the row under a header the lower row of a two-row header? Its cell under the id
    column is empty (merged with the one above) and it names a known column."""
    if id_at < len(below) and not _is_empty(below[id_at]):
        return False
    return any(_knows(mapping, sections, shown) or any(_knows(mapping, sections, t) for t in tries)
               for _, shown, tries in _two_row_names(top, below) if "/" in shown)


def _two_row_names(top: Sequence[object], below: Sequence[object]) -> list[tuple[int, str, tuple[str, ...]]]:
    """Each column's name under a two-row header: a group header spans the cells to its
    right that are empty in the top row (a merged cell); "group/name" where the lower row
    has a name, else the top row's."""
    names: list[tuple[int, str, tuple[str, ...]]] = []
    group = ""
    for i in range(max(len(top), len(below))):
        upper = "" if i >= len(top) or _is_empty(top[i]) else _text(top[i]).replace("\ufeff", "")
        lower = "" if i >= len(below) or _is_empty(below[i]) else _text(below[i])
        if upper:
            group = upper
        if lower:
            names.append((i, f"{group}/{lower}" if group else lower, (f"{group}/{lower}", lower)))
        elif upper:
            names.append((i, upper, (upper,)))
            group = upper
    return names


def _blank(cells: Sequence[object]) -> bool:
    return all(_is_empty(c) for c in cells)
