"""CSV and Excel files as rows of cells: the CSV encoding detected, the first sheet of a
workbook read (python-calamine, or openpyxl without it), and the header row found past
any title rows and resolved through the column mapping. Rows after the header stream."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lifecycle_rules.io.readers.columns import _Column, _Mapping, _resolve_header
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


def _excel_rows(path: Path) -> _Rows:
    try:
        import python_calamine
    except ImportError:
        yield from _openpyxl_rows(path)
        return
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.CalamineError as exc:
        raise ValueError(f"{path}: 无法读取 Excel 文件: {exc}") from exc
    except OSError as exc:
        # calamine's message ("No such file or directory") leaves out which file.
        raise OSError(f"{path}: {exc}") from exc
    with workbook:
        sheet = workbook.get_sheet_by_index(0)
        # iter_rows starts at sheet row 1 even when the data starts lower, so
        # the count is the row number Excel shows.
        yield from enumerate(sheet.iter_rows(), 1)


def _openpyxl_rows(path: Path) -> _Rows:
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
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # exports often carry a wrong <dimension>; read what is there
        yield from enumerate(sheet.iter_rows(values_only=True), 1)
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


def _open_sheet(
    path: Path,
    encoding: str | None,
    mapping: _Mapping,
    sections: Sequence[str],
    required: Sequence[tuple[str, str]],
) -> tuple[_Sheet, _Rows]:
    """Read up to and including the header row; the rest stays unread.

    The header is the first row naming the id column, so title rows above it
    (common in exports) are skipped; only the first few non-empty rows are tried.
    """
    chosen: str | None = None
    if path.suffix.lower() in _EXCEL_SUFFIXES:
        rows = _excel_rows(path)
    else:
        chosen = encoding or detect_encoding(path)
        rows = _csv_rows(path, chosen)
    id_section, id_name = required[0]
    id_aliases = {_norm(a) for a in mapping.columns[id_section].get(id_name, ())}
    first: Sequence[object] | None = None
    header: Sequence[object] | None = None
    try:
        tried = 0
        for _, cells in rows:
            if _blank(cells):
                continue
            first = cells if first is None else first
            if any(not _is_empty(c) and _norm(_text(c)) in id_aliases for c in cells):
                header = cells
                break
            tried += 1
            if tried == _HEADER_SCAN:
                break
        if first is None:
            raise ValueError(f"{path}: no header row (file is empty)")
        # Without an id column the first row is reported, naming what is missing.
        columns = _resolve_header(str(path), header or first, mapping, sections, required)
    except BaseException:
        rows.close()
        raise
    id_header = next(c.header for c in columns if (c.section, c.name) == required[0])
    return _Sheet(str(path), chosen, tuple(columns), id_header, mapping), rows


def _blank(cells: Sequence[object]) -> bool:
    return all(_is_empty(c) for c in cells)
