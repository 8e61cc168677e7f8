"""CSV and Excel files as rows of cells: a CSV's rows each in its encoding (UTF-8, else
GB18030, unless one is given), the first sheet of a workbook read (python-calamine, or
openpyxl without it) once the workbook has passed its caps, and the header row found past
any title rows and resolved through the column mapping. Rows after the header stream."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle_rules.io.readers.columns import _Column, _knows, _Mapping, _resolve_header
from lifecycle_rules.io.readers.values import _is_empty, _norm, _text
from lifecycle_rules.io.records import size_in_words
from lifecycle_rules.pack.yamlfile import clip

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


def _csv_rows(path: Path, encoding: str | None) -> _Rows:
    """The CSV's rows (records), numbered from 1: in ``encoding``, or, with None, each row
    in the encoding it is written in (:func:`_row_text`)."""
    # A cell may be long (a pasted document): the csv module's 128 KiB default would fail
    # the whole file; a long value is then refused by its field's own limit, row by row.
    csv.field_size_limit(max(csv.field_size_limit(), 256 * 2**20))
    if encoding is None:
        prior = detect_encoding(path)
    with open(path, "rb") as raw:
        if encoding is None:
            if raw.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
                raw.seek(0)
            # Latin-1 maps each byte to one character and back: the csv module cuts the
            # bytes into records and cells (its delimiters, quotes and line ends are ASCII,
            # which no byte of a UTF-8 or GB18030 character can be), and each row is decoded
            # after, as a whole.
            text = io.TextIOWrapper(raw, encoding="latin-1", newline="")
        else:
            # surrogateescape keeps a stray undecodable byte visible to the row parser,
            # which rejects that one row instead of the whole file failing or mojibake passing.
            text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        reader = csv.reader(text)
        try:
            if encoding is None:
                for number, cells in enumerate(reader, 1):
                    yield number, _row_text(cells, prior)
            else:
                yield from enumerate(reader, 1)
        except csv.Error as exc:
            raise ValueError(f"{path}: line {reader.line_num}: CSV 无法解析: {exc}") from exc


# What a CSV's rows are read in when no encoding is given: each row in one of these.
EITHER_ENCODING = "utf-8 或 gb18030"
_PAST_07FF = re.compile(r"[^\x00-\u07ff]")  # a character UTF-8 writes in three bytes or four


def _row_text(cells: list[str], prior: str) -> list[str]:
    """A CSV row's cells (read as Latin-1: one character a byte) in the encoding the row is
    written in, decided row by row: an export pasted together from two offices, or edited in
    two programs, mixes UTF-8 rows and GBK rows, and one guess for the file would turn every
    row of the other kind into mojibake (or lose the header).

    UTF-8 is tried first. GB18030 decodes nearly any bytes (most UTF-8 Chinese, with an even
    count of characters, is also valid GB18030 -- as mojibake), so it cannot go first; while
    valid UTF-8 is strict enough that GBK text passes it only by chance, and then only as
    two-byte sequences: characters below U+0800 (Latin, Greek, Cyrillic ...). GBK 签约 is the
    bytes of UTF-8 "ǩԼ". So a row is UTF-8 if it decodes as UTF-8 and has a character from
    U+0800 up (Chinese is there: a UTF-8 row must be taken as UTF-8), or if it decodes only
    as UTF-8. A row that decodes both ways with nothing past U+07FF in its UTF-8 reading
    is ambiguous and goes the way the file's first megabyte does (``prior``:
    :func:`detect_encoding`). A row that is not UTF-8 is GB18030 (GBK is a subset). A row
    that is neither keeps its undecodable bytes as surrogates (``surrogateescape``), and
    the reader rejects it as undecodable, naming the row and the column. All-ASCII rows, and
    files all UTF-8 or all GBK, read as with that one encoding (but for a GBK row that is
    also UTF-8 reaching past U+07FF: no pair or triple of the Chinese words in the packs and
    docs of this project makes one)."""
    joined = ",".join(cells)
    if joined.isascii():
        return cells
    data = joined.encode("latin-1")
    try:
        utf8 = data.decode("utf-8")
    except UnicodeDecodeError:
        chosen = "gb18030" if _decodes(data, "gb18030") else None
    else:
        ambiguous = prior == "gb18030" and not _PAST_07FF.search(utf8) and _decodes(data, "gb18030")
        chosen = "gb18030" if ambiguous else "utf-8"
    if chosen is None:  # each cell as well as it goes; the bad ones keep surrogates
        return [_cell_text(c.encode("latin-1")) if not c.isascii() else c for c in cells]
    return [c.encode("latin-1").decode(chosen) if not c.isascii() else c for c in cells]


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _cell_text(data: bytes) -> str:
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="surrogateescape")


SheetRef = str | int | None  # a sheet's name, its 1-based number, or None: find it


# Caps on a workbook, checked before python-calamine or openpyxl is given it: a zip bomb
# (a small file that unzips to gigabytes), a damaged member, or a sheet whose cells span a
# vast range (one cell at A1, one at XFD1048576: calamine allocates every cell between,
# and aborts the process when it cannot) is an error naming the file, not a blow-up.
MAX_UNZIPPED_BYTES = 1 << 30  # the members of a workbook together, unzipped
MAX_ZIP_RATIO = 200  # a member's unzipped size over its zipped size (sheets are ~5-20)
MAX_SHEET_CELLS = 20_000_000  # the cells one sheet spans; the cells read from one workbook
_RATIO_FLOOR = 1 << 20  # a member smaller than this unzipped is not held to the ratio
_ZIP_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xlsb", ".ods"})  # .xls is not a zip
_CELL_REF = re.compile(rb'<c\s[^>]*?r="([A-Z]{1,3})([0-9]{1,7})"')  # a cell, named by its place
_CELL_ENDS = (b" ", b">", b"/", b"\t", b"\n", b"\r")  # what follows "<c" in a cell's tag


def _check_workbook(path: Path) -> bool:
    """Refuse a workbook over a cap, or with a damaged member, before it is parsed: the zip's
    sizes as its directory states them, then each member read through (bounded memory; its
    CRC checked), a sheet's XML scanned for the range its cells span. True if a sheet has
    cells placed by position alone (no ``r="B7"``), whose range only a reader can tell."""
    if path.suffix.lower() not in _ZIP_SUFFIXES:
        return False
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path}: 无法读取 Excel 文件: {exc}") from exc
    with archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_UNZIPPED_BYTES:
            raise ValueError(f"{path}: 解压后共 {total} 字节，超过上限 {size_in_words(MAX_UNZIPPED_BYTES)}"
                             "（疑似压缩炸弹），未读取")
        for m in members:
            if m.file_size > _RATIO_FLOOR and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1):
                raise ValueError(f"{path}: 成员 {clip(m.filename)} 的压缩比为 "
                                 f"{m.file_size // max(m.compress_size, 1)}:1，超过 {MAX_ZIP_RATIO}:1 "
                                 "的上限（疑似压缩炸弹），未读取")
        return any([_check_member(path, archive, m) for m in members])


def _check_member(path: Path, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Read a member through; for a sheet, refuse a range of more than MAX_SHEET_CELLS cells
    (A1 to the last row and column its cells name), and say if a cell has no name."""
    sheet = member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")
    rows = columns = cells = named = 0
    carry = b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(1 << 20):
                if not sheet:
                    continue
                data = carry + chunk
                cut = data.rfind(b"<")  # the last tag may be cut in two: it waits for the rest
                whole, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
                found = _CELL_REF.findall(whole)
                if found:
                    columns = max(columns, *map(_column_number, {letters for letters, _ in found}))
                    rows = max(rows, *map(int, {digits for _, digits in found}))
                named += len(found)
                cells += sum(whole.count(b"<c" + end) for end in _CELL_ENDS)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as exc:
        raise ValueError(f"{path}: 无法读取 Excel 文件: 成员 {clip(member.filename)} 已损坏（{exc}）") from exc
    if rows * columns > MAX_SHEET_CELLS:
        raise ValueError(f"{path}: {clip(member.filename)} 的单元格从 A1 到第 {rows} 行第 {columns} 列，"
                         f"共 {rows * columns} 格，超过 {MAX_SHEET_CELLS} 格的上限，未读取")
    return cells + carry.count(b"<c") > named


def _column_number(letters: bytes) -> int:
    """b"A" -> 1, b"XFD" -> 16384."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _counted(path: Path, numbered: Iterator[tuple[int, Sequence[object]]], cells: list[int],
             errors: tuple[type[BaseException], ...]) -> _Rows:
    """A sheet's numbered rows, the cells counted against MAX_SHEET_CELLS for the workbook
    (``cells``), and a reader's error on a damaged part as a ValueError naming the file."""
    while True:
        try:
            number, row = next(numbered)
        except StopIteration:
            return
        except errors as exc:
            raise ValueError(f"{path}: 无法读取 Excel 文件: {exc}") from exc
        cells[0] += len(row)
        if cells[0] > MAX_SHEET_CELLS:
            raise ValueError(f"{path}: 第 {number} 行读到第 {cells[0]} 个单元格，超过 {MAX_SHEET_CELLS} "
                             "个的上限，未读完")
        yield number, row


def _excel_sheets(path: Path, sheet: SheetRef) -> Generator[tuple[str, _Rows], None, None]:
    """(name, rows) of the workbook's sheets: the one asked for, or each in order."""
    by_position = _check_workbook(path)
    cells = [0]
    try:
        if by_position and path.suffix.lower() in _OPENPYXL_SUFFIXES:
            # calamine builds a sheet's whole range before a row is read, and from cells
            # without names that range is unknown until then: openpyxl streams the rows.
            raise ImportError
        import python_calamine
    except ImportError:
        yield from _openpyxl_sheets(path, sheet, cells)
        return
    damaged = (python_calamine.CalamineError,)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except damaged as exc:
        raise ValueError(f"{path}: 无法读取 Excel 文件: {exc}") from exc
    except OSError as exc:
        # calamine's message ("No such file or directory") leaves out which file.
        raise OSError(f"{path}: {exc}") from exc
    with workbook:
        names = list(workbook.sheet_names)
        for name in _chosen(path, names, sheet):
            try:
                rows = workbook.get_sheet_by_name(name).iter_rows()
            except damaged as exc:
                raise ValueError(f"{path}: 无法读取 Excel 文件: {exc}") from exc
            # iter_rows starts at sheet row 1 even when the data starts lower, so
            # the count is the row number Excel shows.
            yield name, _counted(path, enumerate(rows, 1), cells, damaged)


def _chosen(path: Path, names: Sequence[str], sheet: SheetRef) -> list[str]:
    if sheet is None:
        return list(names)
    shown = clip("、".join(names))
    if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
        number = int(sheet)
        if not 1 <= number <= len(names):
            raise ValueError(f"{path}: 没有第 {number} 个工作表（共 {len(names)} 个: {shown}）")
        return [names[number - 1]]
    if sheet not in names:
        raise ValueError(f"{path}: 没有名为 '{clip(sheet)}' 的工作表（有: {shown}）")
    return [sheet]


def _openpyxl_sheets(path: Path, sheet: SheetRef, cells: list[int]) -> Generator[tuple[str, _Rows], None, None]:
    if path.suffix.lower() not in _OPENPYXL_SUFFIXES:
        raise ValueError(f"{path}: reading {path.suffix} needs python-calamine")
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{path}: 无法读取 Excel 文件: {exc}") from exc
    # A damaged part found while rows are read (the XML parser's errors are SyntaxErrors).
    damaged = (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError, KeyError)
    try:
        for name in _chosen(path, workbook.sheetnames, sheet):
            ws = workbook[name]
            ws.reset_dimensions()  # exports often carry a wrong <dimension>; read what is there
            yield name, _counted(path, enumerate(ws.iter_rows(values_only=True), 1), cells, damaged)
    finally:
        workbook.close()


@dataclass(frozen=True)
class _Sheet:
    """A table whose header has been read."""

    file: str
    encoding: str | None  # None for Excel, where cells are typed; EITHER_ENCODING: row by row
    columns: tuple[_Column, ...]
    id_header: str  # as written in the file, for rejects
    mapping: _Mapping
    sheet: str | None  # the worksheet's name (None for CSV)
    header_rows: tuple[int, ...]  # the rows read as the header, as Excel numbers them
    ignored: tuple[tuple[int, str], ...]  # columns the mapping ignores (序号 ...)
    unknown: tuple[tuple[int, str], ...]  # columns no field takes
    # what reading a row needs, worked out once a table (io/readers/tables.py: _plan)
    plans: dict[object, object] = field(default_factory=dict, compare=False, repr=False)

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
        chosen = encoding or EITHER_ENCODING
        sheets = [(None, _csv_rows(path, encoding))]
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
        raise ValueError(f"{path}: 没有工作表含表头列 {shown}（查看了: {clip('、'.join(looked))}；可用 --sheet 指定）")
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
    # The names under a group ("group/name", then "name"): the first of each is the shown one.
    return _knows(mapping, sections, (t for _, shown, tries in _two_row_names(top, below) if "/" in shown
                                      for t in tries))


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
