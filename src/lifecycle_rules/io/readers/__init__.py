"""Read exported platform files into plain history dicts (SPEC §3).

Inputs are JSON Lines, or CSV (UTF-8 with or without BOM, GBK/GB18030) and Excel
exports in one of two layouts: a *wide* sheet with one row per project and one
date column per milestone, or a projects table plus an events table. Column
headers map to fields through ``columns.yaml`` (see that file for the format).

Every input project yields exactly one :class:`Record`: a history, or a
:class:`Reject` that names the file, row or line, and column at fault. Histories
are plain dicts; the engine validates them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import json
import math
import re
import unicodedata
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import yaml

__all__ = ["Record", "Reject", "detect_encoding", "parse_date", "read_histories"]

Layout = Literal["auto", "jsonl", "wide", "tables"]

_JSONL_SUFFIXES = frozenset({".jsonl", ".json", ".ndjson"})
_EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
_OPENPYXL_SUFFIXES = frozenset({".xlsx", ".xlsm"})

# Enough to see plenty of Chinese text; a later stray byte still surfaces as a
# per-row reject rather than silently corrupting data.
_DETECT_CHUNK = 64 * 1024
_DETECT_CHUNKS = 16
_HEADER_SCAN = 10  # non-empty rows searched for the header, past title rows

# Excel's 1900 date system: serial 1 is 1900-01-01, and serial 60 is the
# non-existent 1900-02-29 kept for Lotus 1-2-3 compatibility.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31

_DATE_SEP = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DATE_CN = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE_FORMATS = ((_DATE_SEP, (1, 3, 4)), (_DATE_CN, (1, 2, 3)), (_DATE_COMPACT, (1, 2, 3)))
_AMOUNT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_PERIOD_MONTH = re.compile(r"(\d{4})(?:\s*[-/.年]\s*(\d{1,2})\s*月?|(\d{2}))")
_PERIOD_WEEK = re.compile(r"(\d{4})\s*(?:-?\s*W|年第?)\s*(\d{1,2})\s*周?", re.IGNORECASE)
_SURROGATE = re.compile(r"[\udc80-\udcff]")

_Rows = Generator[tuple[int, Sequence[object]], None, None]

_COLUMN_SECTIONS = ("project", "plan", "milestones", "events")
_PROJECT_SECTIONS = ("project", "plan", "milestones")
_VALUE_SECTIONS = ("sectors", "booleans", "event_types", "actions")
_PROJECT_KINDS = {
    "id": "id",
    "name": "text",
    "sector": "sector",
    "in_development_zone": "bool",
    "investment_wan": "amount",
    "region": "text",
}
_EVENT_KINDS = {
    "project_id": "id",
    "date": "date",
    "type": "event_type",
    "step": "text",
    "period": "period",
    "planned_wan": "amount",
    "actual_wan": "amount",
    "compliant": "bool",
    "warning": "text",
    "action": "action",
    "until": "date",
}


@dataclass(frozen=True)
class Reject:
    """One rejected input record, named as a user finds it in an editor or Excel."""

    file: str
    locator: str
    project_id: str | None
    field: str | None
    message: str

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "locator": self.locator,
            "project_id": self.project_id,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True)
class Record:
    """One input project: a history, or the reject that explains why there is none."""

    file: str
    locator: str
    history: dict[str, Any] | str | None  # a str is a JSON line left unparsed (raw_json=True)
    reject: Reject | None


@dataclass(frozen=True)
class LineBlock:
    """Whole lines of a UTF-8 JSON Lines file, as bytes: the batch's unit of work, split
    and parsed in the worker processes (the reading process only cuts the file)."""

    file: str
    first_line: int  # the number of the block's first line (1-based)
    data: bytes

    def lines(self) -> Iterator[tuple[str, bytes]]:
        """(locator, line) for each line that is not blank."""
        for number, raw in enumerate(self.data.split(b"\n"), self.first_line):
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if raw.strip():
                yield f"line {number}", raw


BLOCK_BYTES = 1 << 19  # about 250 histories of 25 events


def jsonl_blocks(path: str | Path, block_bytes: int | None = None) -> Iterator[LineBlock]:
    """A UTF-8 JSON Lines file (a BOM allowed) cut into blocks of whole lines, streaming."""
    file = str(path)
    block_bytes = block_bytes or BLOCK_BYTES
    with open(path, "rb") as handle:
        number, rest = 1, handle.read(3).removeprefix(b"\xef\xbb\xbf")
        while True:
            chunk = handle.read(block_bytes)
            if not chunk:
                if rest:
                    yield LineBlock(file, number, rest)
                return
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield LineBlock(file, number, block)
            number += block.count(b"\n")


def undecodable(encoding: str) -> str:
    """The reject message of a line or cell with bytes the encoding cannot decode."""
    return f"含无法按 {encoding} 解码的字节（可用 encoding= 指定）"


def is_jsonl(path: str | Path, layout: Layout = "auto", events_path: str | Path | None = None) -> bool:
    """Would ``read_histories`` read this file as JSON Lines?"""
    events = Path(events_path) if events_path is not None else None
    return _choose_layout(Path(path), layout, events) == "jsonl"


# --------------------------------------------------------------------------- values


def parse_date(value: object) -> dt.date:
    """Read a date cell: ISO, ``2024/7/2``, ``2024.7.2``, ``2024年7月2日``,
    ``20240702``, a date/datetime, or an Excel serial number (1900 system)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"日期无法识别: {value!r}")
    if isinstance(value, (int, float)):
        return _date_from_number(value)
    if not isinstance(value, str):
        raise ValueError(f"日期无法识别: {value!r}")
    text = unicodedata.normalize("NFKC", value).strip()
    for pattern, groups in _DATE_FORMATS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(match.group(g)) for g in groups)
            return _checked_date(year, month, day, value)
    raise ValueError(f"日期无法识别: '{value}'")


def _checked_date(year: int, month: int, day: int, original: object) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"日期无法识别: '{original}' ({exc})") from None


def _date_from_number(number: float) -> dt.date:
    if not math.isfinite(number):
        raise ValueError(f"日期无法识别: {number!r}")
    whole = math.floor(number)  # a fraction is the time of day
    if 19000101 <= whole <= 99991231 and whole == number:
        # An 8-digit number in a date column is 20240702 typed as a number.
        return _checked_date(whole // 10000, whole // 100 % 100, whole % 100, number)
    if whole == 60:
        raise ValueError("日期无法识别: Excel 序列号 60 是不存在的 1900-02-29")
    if 1 <= whole <= _EXCEL_MAX_SERIAL:
        return _EXCEL_EPOCH + dt.timedelta(days=whole if whole > 60 else whole + 1)
    raise ValueError(f"日期无法识别: {number!r}")


def _iso(value: object) -> str:
    return parse_date(value).isoformat()


def _amount(value: object) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"金额无法识别: {value!r}（单位万元，应为数字）")
    if isinstance(value, (int, float)):
        number: int | float = value
    else:
        text = re.sub(r"[\s,]", "", unicodedata.normalize("NFKC", str(value)))
        if not _AMOUNT.fullmatch(text):
            raise ValueError(f"金额无法识别: '{value}'（单位万元，应为数字）")
        number = int(text) if text.lstrip("+-").isdigit() else float(text)
    if isinstance(number, float):
        if not math.isfinite(number):
            raise ValueError(f"金额无法识别: '{value}'（单位万元，应为数字）")
        # Excel hands every number over as a float; 65000.0 and "65,000" must agree.
        if number.is_integer():
            return int(number)
    return number


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel returns the number 2024017 as 2024017.0
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _norm(text: str) -> str:
    """Header/value key: NFKC (full-width = half-width), no whitespace, case folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).replace("\ufeff", "")).casefold()


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _period(value: object, event_type: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        # Excel turns a typed "2024-03" into the date 2024-03-01.
        day = value.date() if isinstance(value, dt.datetime) else value
        if event_type == "weekly_report":
            iso = day.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        return f"{day.year}-{day.month:02d}"
    text = unicodedata.normalize("NFKC", _text(value))
    week = _PERIOD_WEEK.fullmatch(text)
    if week:
        return f"{week.group(1)}-W{int(week.group(2)):02d}"
    month = _PERIOD_MONTH.fullmatch(text)
    if month:
        number = int(month.group(2) or month.group(3))
        if not 1 <= number <= 12:
            raise ValueError(f"期间无法识别: '{value}'")
        return f"{month.group(1)}-{number:02d}"
    return text


# -------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class _Mapping:
    columns: dict[str, dict[str, tuple[str, ...]]]
    sectors: dict[str, str]
    booleans: dict[str, bool]
    event_types: dict[str, str]
    actions: dict[str, str]


@dataclass(frozen=True)
class _Column:
    index: int
    header: str
    section: str  # "project" | "plan" | "milestones" | "events"
    name: str  # field name, or the step word for milestones
    rank: int  # position in the mapping, so output order does not follow the file's


def _validate_mapping(raw: object, source: str) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        got = type(raw).__name__
        raise ValueError(f"mapping {source}: expected a YAML mapping of sections, got {got}")
    result: dict[str, dict[str, Any]] = {}
    for section, body in raw.items():
        if section not in _COLUMN_SECTIONS + _VALUE_SECTIONS:
            known = ", ".join(_COLUMN_SECTIONS + _VALUE_SECTIONS)
            raise ValueError(f"mapping {source}: unknown section {section!r} (known: {known})")
        if body is None:
            continue
        if not isinstance(body, dict):
            raise ValueError(f"mapping {source}: section {section!r} should be a mapping")
        entries: dict[str, Any] = {}
        for key, value in body.items():
            where = f"mapping {source}: {section}.{key}"
            if not isinstance(key, str):
                raise ValueError(f"{where}: key {key!r} must be quoted text")
            if section in _COLUMN_SECTIONS:
                aliases = [value] if isinstance(value, str) else value
                if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                    raise ValueError(f"{where} should be a header or a list of headers")
                entries[key] = tuple(aliases)
            elif section == "booleans":
                if not isinstance(value, bool):
                    raise ValueError(f"{where} should be true or false")
                entries[_norm(key)] = value
            else:
                if not isinstance(value, str):
                    raise ValueError(f"{where} should be text")
                entries[_norm(key)] = value
        result[section] = entries
    return result


def _check_unique(columns: dict[str, dict[str, tuple[str, ...]]], sections: Sequence[str], source: str) -> None:
    owner: dict[str, str] = {}
    for section in sections:
        for name, aliases in columns.get(section, {}).items():
            for alias in aliases:
                key = _norm(alias)
                here = f"{section}.{name}"
                if key in owner and owner[key] != here:
                    both = f"{owner[key]} and {here}"
                    raise ValueError(f"mapping {source}: header {alias!r} is given to both {both}")
                owner[key] = here


@functools.lru_cache(maxsize=1)
def _default_mapping_text() -> str:
    package = resources.files(__package__ or "lifecycle_rules")
    return (package / "columns.yaml").read_text(encoding="utf-8")


def _load_mapping(path: str | Path | None) -> _Mapping:
    merged = _validate_mapping(yaml.safe_load(_default_mapping_text()), "columns.yaml (default)")
    source = "columns.yaml (default)"
    if path is not None:
        source = str(path)
        try:
            with open(path, encoding="utf-8") as handle:
                raw = yaml.safe_load(handle)
        except OSError as exc:
            raise ValueError(f"{source}: cannot read the column mapping: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ValueError(f"{source}: the column mapping is not UTF-8 text") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ValueError(f"{source}{where}: the column mapping is not valid YAML: {problem}") from None
        user = _validate_mapping(raw, source)
        for section, entries in user.items():
            merged[section] = {**merged.get(section, {}), **entries}
    columns = {s: cast(dict[str, tuple[str, ...]], merged.get(s, {})) for s in _COLUMN_SECTIONS}
    _check_unique(columns, ("project", "plan", "milestones"), source)
    _check_unique(columns, ("events",), source)
    return _Mapping(
        columns=columns,
        sectors=cast(dict[str, str], merged.get("sectors", {})),
        booleans=cast(dict[str, bool], merged.get("booleans", {})),
        event_types=cast(dict[str, str], merged.get("event_types", {})),
        actions=cast(dict[str, str], merged.get("actions", {})),
    )


def _resolve_header(
    file: str,
    cells: Sequence[object],
    mapping: _Mapping,
    sections: Sequence[str],
    required: Sequence[tuple[str, str]],
) -> list[_Column]:
    lookup: dict[str, tuple[str, str, int]] = {}
    rank = 0
    for section in sections:
        for name, aliases in mapping.columns[section].items():
            for alias in aliases:
                lookup[_norm(alias)] = (section, name, rank)
            rank += 1
    found: dict[tuple[str, str], _Column] = {}
    for index, cell in enumerate(cells):
        if _is_empty(cell):
            continue
        header = _text(cell).replace("\ufeff", "")
        hit = lookup.get(_norm(header))
        if hit is None:
            continue
        section, name, order = hit
        if (section, name) in found:
            other = found[(section, name)].header
            raise ValueError(f"{file}: columns {other!r} and {header!r} both map to {name}; keep one or pass mapping=")
        found[(section, name)] = _Column(index, header, section, name, order)
    for section, name in required:
        if (section, name) not in found:
            aliases = mapping.columns[section].get(name, ())
            shown = aliases[0] if aliases else name
            others = f" (or one of: {', '.join(aliases[1:])})" if len(aliases) > 1 else ""
            raise ValueError(f"{file}: missing required column {shown}{others}")
    return sorted(found.values(), key=lambda c: c.rank)


# ---------------------------------------------------------------------------- files


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


# ------------------------------------------------------------------------------ rows


@dataclass(frozen=True)
class _Problem:
    file: str
    locator: str
    field: str | None
    message: str


def _reject(problems: Sequence[_Problem], project_id: str | None) -> Reject:
    """One reject for the record: placed at the first problem, listing them all."""
    first = problems[0]
    parts = [first.message]
    for p in problems[1:]:
        place = [p.file] if p.file != first.file else []
        place += [p.locator] if (p.file, p.locator) != (first.file, first.locator) else []
        place += [p.field] if p.field else []
        parts.append(f"{' '.join(place)}: {p.message}" if place else p.message)
    return Reject(first.file, first.locator, project_id, first.field, "；".join(parts))


def _convert(kind: str, value: object, mapping: _Mapping) -> object:
    if kind == "date":
        return _iso(value)
    if kind == "amount":
        return _amount(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        flag = mapping.booleans.get(_norm(_text(value)))
        if flag is None:
            raise ValueError(f"无法识别为是/否: '{value}'")
        return flag
    text = _text(value)
    if kind == "sector":
        sector = mapping.sectors.get(_norm(text))
        if sector is None:
            known = "、".join(sorted(set(mapping.sectors.values())))
            raise ValueError(f"行业无法识别: '{text}'（可用: {known} 或其中文名称）")
        return sector
    if kind == "event_type":
        return mapping.event_types.get(_norm(text), text)
    if kind == "action":
        return mapping.actions.get(_norm(text), text)
    return text  # "id", "text"; "period" is finished by the caller, which knows the type


def _cells(
    sheet: _Sheet, locator: str, cells: Sequence[object], kinds: Mapping[str, str]
) -> tuple[dict[_Column, object], list[_Problem]]:
    values: dict[_Column, object] = {}
    problems: list[_Problem] = []
    for column in sheet.columns:
        raw = cells[column.index] if column.index < len(cells) else None
        if _is_empty(raw):
            continue
        if isinstance(raw, str) and _SURROGATE.search(raw):
            message = undecodable(str(sheet.encoding))
            problems.append(_Problem(sheet.file, locator, column.header, message))
            continue
        kind = "date" if column.section in ("plan", "milestones") else kinds.get(column.name, "text")
        try:
            values[column] = raw if kind == "period" else _convert(kind, raw, sheet.mapping)
        except ValueError as exc:
            problems.append(_Problem(sheet.file, locator, column.header, str(exc)))
    return values, problems


def _project_row(
    sheet: _Sheet, locator: str, cells: Sequence[object]
) -> tuple[str | None, dict[str, Any], list[_Problem]]:
    values, problems = _cells(sheet, locator, cells, _PROJECT_KINDS)
    project: dict[str, object] = {}
    plan: dict[str, object] = {}
    events: list[dict[str, object]] = []
    for column, value in values.items():
        if column.section == "project":
            project[column.name] = value
        elif column.section == "plan":
            plan[column.name] = value
        else:
            events.append({"date": value, "type": "step_completed", "step": column.name})
    project_id = cast(str | None, project.get("id"))
    if project_id is None and not any(p.field == sheet.id_header for p in problems):
        problems.insert(0, _Problem(sheet.file, locator, sheet.id_header, "缺少项目代码"))
    return project_id, {"project": project, "plan": plan, "events": events}, problems


def _event_row(
    sheet: _Sheet, locator: str, cells: Sequence[object]
) -> tuple[str | None, dict[str, object], list[_Problem]]:
    values, problems = _cells(sheet, locator, cells, _EVENT_KINDS)
    by_name = {c.name: c for c in sheet.columns}
    event: dict[str, object] = {}
    for column, value in values.items():
        if column.name == "period":
            try:
                value = _period(value, values.get(by_name["type"]))
            except ValueError as exc:
                problems.append(_Problem(sheet.file, locator, column.header, str(exc)))
                continue
        event[column.name] = value
    project_id = cast(str | None, event.pop("project_id", None))
    failed = {p.field for p in problems}
    for name, message in (("date", "缺少日期"), ("type", "缺少类型")):
        if name not in event and by_name[name].header not in failed:
            problems.append(_Problem(sheet.file, locator, by_name[name].header, message))
    if project_id is None and sheet.id_header not in failed:
        problems.insert(0, _Problem(sheet.file, locator, sheet.id_header, "缺少项目代码"))
    return project_id, event, problems


def _by_date(history: dict[str, Any]) -> dict[str, Any]:
    # ISO strings sort as dates; the sort is stable, so same-day events keep input order.
    history["events"].sort(key=lambda e: e["date"])
    return history


# --------------------------------------------------------------------------- readers


def _jsonl_records(path: Path, encoding: str | None,
                   raw_json: bool = False) -> Generator[Record | None, None, None]:
    file = str(path)
    # JSON is UTF-8 (RFC 8259): no guessing, so a stray GBK line is rejected as undecodable
    # rather than turning every other line into mojibake. --encoding still overrides.
    chosen = encoding or "utf-8-sig"
    with open(path, encoding=chosen, errors="surrogateescape") as handle:
        yield None
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            locator = f"line {number}"
            message: str | None = None
            obj: object = None
            if _SURROGATE.search(line):
                message = undecodable(chosen)
            elif raw_json:
                # The evaluator decodes it (in the worker); JSON errors then come back
                # as that record's HistoryError.
                yield Record(file, locator, line.rstrip("\r\n"), None)
                continue
            else:
                try:
                    obj = json.loads(line.rstrip("\r\n"))
                except json.JSONDecodeError as exc:
                    message = f"不是有效的 JSON: {exc.msg} (column {exc.colno})"
                except RecursionError:
                    message = "不是有效的 JSON: 嵌套层数过深"
                else:
                    if not isinstance(obj, dict):
                        message = f"不是 JSON 对象（得到 {type(obj).__name__}）"
            if message is None:
                yield Record(file, locator, cast(dict[str, Any], obj), None)
            else:
                yield Record(file, locator, None, Reject(file, locator, None, None, message))


_Pending = tuple[int, str | None, dict[str, object], list[_Problem]]  # row, id, event, problems


def _table_records(
    path: Path, encoding: str | None, mapping: _Mapping, events_path: Path | None
) -> Generator[Record | None, None, None]:
    sheet, rows = _open_sheet(path, encoding, mapping, _PROJECT_SECTIONS, [("project", "id")])
    with closing(rows):
        if events_path is None:
            yield None
            for number, cells in rows:
                if not _blank(cells):
                    yield _project_record(sheet, number, cells)
            return

        required = [("events", "project_id"), ("events", "date"), ("events", "type")]
        events_sheet, event_rows = _open_sheet(events_path, encoding, mapping, ("events",), required)
        with closing(event_rows):
            yield None
            pending, strays = _group_events(events_sheet, event_rows)
        seen: dict[str, int] = {}
        for number, cells in rows:
            if not _blank(cells):
                yield _project_record(sheet, number, cells, pending, seen)
        yield from _leftover_events(events_sheet, sheet.file, pending, strays)


def _project_record(
    sheet: _Sheet,
    number: int,
    cells: Sequence[object],
    pending: dict[str, list[_Pending]] | None = None,
    seen: dict[str, int] | None = None,
) -> Record:
    locator = f"row {number}"
    project_id, history, problems = _project_row(sheet, locator, cells)
    if pending is not None and seen is not None and project_id is not None:
        if project_id in seen:
            # Its events went to the first row with this id; a second history would lack them.
            message = f"项目代码重复: '{project_id}' 已在 row {seen[project_id]} 出现"
            problems.insert(0, _Problem(sheet.file, locator, sheet.id_header, message))
        else:
            seen[project_id] = number
            for _, _, event, event_problems in pending.pop(project_id, []):
                history["events"].append(event)
                problems.extend(event_problems)
    if problems:
        return Record(sheet.file, locator, None, _reject(problems, project_id))
    return Record(sheet.file, locator, _by_date(history), None)


def _group_events(
    sheet: _Sheet, rows: Iterator[tuple[int, Sequence[object]]]
) -> tuple[dict[str, list[_Pending]], list[_Pending]]:
    """Hold the events table in memory, by project id; rows without an id are strays."""
    pending: dict[str, list[_Pending]] = {}
    strays: list[_Pending] = []
    for number, cells in rows:
        if _blank(cells):
            continue
        project_id, event, problems = _event_row(sheet, f"row {number}", cells)
        item = (number, project_id, event, problems)
        if project_id is None:
            strays.append(item)
        else:
            pending.setdefault(project_id, []).append(item)
    return pending, strays


def _leftover_events(
    sheet: _Sheet, projects_file: str, pending: dict[str, list[_Pending]], strays: list[_Pending]
) -> Iterator[Record]:
    leftovers = [item for items in pending.values() for item in items] + strays
    for number, project_id, _, problems in sorted(leftovers, key=lambda item: item[0]):
        locator = f"row {number}"
        if project_id is not None:
            orphan = f"项目代码 '{project_id}' 不在项目表 {projects_file} 中"
            problems = [_Problem(sheet.file, locator, sheet.id_header, orphan), *problems]
        yield Record(sheet.file, locator, None, _reject(problems, project_id))


def _choose_layout(path: Path, layout: Layout, events_path: Path | None) -> Layout:
    if layout == "auto":
        if events_path is not None:
            return "tables"
        suffix = path.suffix.lower()
        if suffix in _JSONL_SUFFIXES:
            return "jsonl"
        if suffix == ".csv" or suffix in _EXCEL_SUFFIXES:
            return "wide"
        raise ValueError(f"{path}: cannot tell the layout from suffix {suffix!r}; pass layout=")
    if layout == "tables" and events_path is None:
        raise ValueError("layout='tables' needs events_path (the events table)")
    if layout in ("jsonl", "wide") and events_path is not None:
        raise ValueError(f"events_path applies only to layout='tables', not {layout!r}")
    if layout not in ("jsonl", "wide", "tables"):
        raise ValueError(f"unknown layout {layout!r}")
    return layout


def read_histories(
    path: str | Path,
    *,
    encoding: str | None = None,
    mapping: str | Path | None = None,
    layout: Layout = "auto",
    events_path: str | Path | None = None,
    raw_json: bool = False,
) -> Iterator[Record]:
    """Yield one :class:`Record` per input project, streaming.

    With ``raw_json``, a JSON Lines record's ``history`` is the line's text, left for
    the evaluator to parse (the batch path: parsing happens in the worker processes).

    ``layout="auto"`` picks JSON Lines for ``.jsonl``/``.json``/``.ndjson``, the
    wide sheet for ``.csv`` and Excel files, and ``"tables"`` when
    ``events_path`` is given. CSV encoding is detected unless ``encoding`` is
    given; Excel files are read from their first sheet. The header is the first
    row naming the project id column (title rows above it are skipped).
    ``mapping`` is a YAML file laid over ``columns.yaml`` (table layouts only).

    Bad arguments, an unreadable mapping, or a header without the project id
    column raise ``ValueError`` here, before anything is yielded. A bad row or
    line becomes a Record with a Reject; every other row is still read.

    Memory: JSON Lines and CSV stream (one row at a time). Excel via
    python-calamine holds the sheet's cells in compact native form while rows
    are converted one by one. Layout ``"tables"`` holds the whole events table
    in memory as plain dicts (a few hundred bytes per event) plus the set of
    project ids seen, and streams the projects table; events whose project id
    is not in the projects table are rejected after the last project.

    Histories have ``project``, ``plan`` and ``events``, dates as ISO strings,
    amounts as numbers in 万元. Events are sorted by date; on the same day,
    milestone columns come first in mapping order, then events-table rows in
    file order. In layout ``"tables"`` a repeated project id is rejected (its
    events went to the first row). JSON Lines objects are passed on unchanged.
    """
    source = Path(path)
    events = Path(events_path) if events_path is not None else None
    chosen = _choose_layout(source, layout, events)
    if chosen == "jsonl":
        generator = _jsonl_records(source, encoding, raw_json)
    else:
        generator = _table_records(source, encoding, _load_mapping(mapping), events)
    # Run up to the first yield so that open and header errors surface at the call.
    next(generator)
    # After the priming None only Records follow.
    return cast(Iterator[Record], generator)
