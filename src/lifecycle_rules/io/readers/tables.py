"""The table layouts into histories: a *wide* sheet (one row per project, a date column
per milestone), or a projects table joined with an events table. Each cell is read as
its field's kind; a project with any bad cell becomes one :class:`Reject` naming them
all."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, cast

from lifecycle_rules.io.readers.codes import Seen, duplicate, normal_id
from lifecycle_rules.io.readers.columns import _PROJECT_SECTIONS, _Column, _Mapping, _resolve_header
from lifecycle_rules.io.readers.sheets import SheetRef, _blank, _open_sheet, _Sheet
from lifecycle_rules.io.readers.values import _SURROGATE, _amount, _is_empty, _iso, _norm, _period, _text
from lifecycle_rules.io.records import Note, Record, Reject, Rows, undecodable

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
    "severity": "text",
}


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


def _convert(kind: str, value: object, mapping: _Mapping, unit: int | Fraction = 1) -> object:
    if kind == "date":
        return _iso(value)
    if kind == "amount":
        return _amount(value, unit)
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
    if kind == "id":
        return normal_id(text)
    return text  # "text"; "period" is finished by the caller, which knows the type



def _plan(sheet: _Sheet, kinds: Mapping[str, str]) -> tuple[tuple[_Column, int, str], ...]:
    """Each mapped column with its index and the kind its cells are read as: worked out
    once a table, not once a row."""
    plan = sheet.plans.get(id(kinds))
    if plan is None:
        plan = sheet.plans[id(kinds)] = tuple(
            (c, c.index, "date" if c.section in ("plan", "milestones") else kinds.get(c.name, "text"))
            for c in sheet.columns)
    return cast(tuple[tuple[_Column, int, str], ...], plan)


def _cells(
    sheet: _Sheet, locator: str, cells: Sequence[object], kinds: Mapping[str, str]
) -> tuple[dict[_Column, object], list[_Problem]]:
    values: dict[_Column, object] = {}
    problems: list[_Problem] = []
    width = len(cells)
    for column, index, kind in _plan(sheet, kinds):
        raw = cells[index] if index < width else None
        if raw is None or _is_empty(raw):
            continue
        if isinstance(raw, str) and _SURROGATE.search(raw):
            message = undecodable(str(sheet.encoding))
            problems.append(_Problem(sheet.file, locator, column.header, message))
            continue
        try:
            values[column] = raw if kind == "period" else _convert(kind, raw, sheet.mapping, column.unit)
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
            events.append({"date": value, "type": "step_completed", "step": column.name,
                           _FROM: column.header})
    project_id = cast(str | None, project.get("id"))
    if project_id is None and not any(p.field == sheet.id_header for p in problems):
        problems.insert(0, _Problem(sheet.file, locator, sheet.id_header, "缺少项目代码"))
    return project_id, {"project": project, "plan": plan, "events": events}, problems


def _event_row(
    sheet: _Sheet, locator: str, cells: Sequence[object]
) -> tuple[str | None, dict[str, object], list[_Problem]]:
    values, problems = _cells(sheet, locator, cells, _EVENT_KINDS)
    by_name = cast(dict[str, _Column] | None, sheet.plans.get("by name"))  # once a table
    if by_name is None:
        by_name = sheet.plans["by name"] = {c.name: c for c in sheet.columns}
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


_FROM = "\x00column"  # an event's column, taken off before the history leaves the reader


def _by_date(history: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The history with its events by date, and the column each field came from."""
    # ISO strings sort as dates; the sort is stable, so same-day events keep input order.
    history["events"].sort(key=lambda e: e["date"])
    columns: dict[str, str] = {}
    for i, event in enumerate(history["events"]):
        column = event.pop(_FROM, None)
        if column is not None:
            columns[f"events[{i}]"] = column
    return history, columns


_Pending = tuple[int, str | None, dict[str, object], list[_Problem]]  # row, id, event, problems


def _table_records(
    path: Path, encoding: str | None, mapping: _Mapping, events_path: Path | None,
    sheet_ref: SheetRef = None, seen: Seen | None = None,
) -> Generator[Record | Note | None, None, None]:
    sheet, rows = _open_sheet(path, encoding, mapping, _PROJECT_SECTIONS, [("project", "id")], sheet_ref)
    seen = Seen() if seen is None else seen
    with closing(rows):
        if events_path is None:
            yield None
            yield from _sheet_notes(sheet)
            for number, cells in rows:
                yield from _project_or_note(sheet, number, cells, seen)
            return
        required = [("events", "project_id"), ("events", "date"), ("events", "type")]
        events_sheet, event_rows = _open_sheet(events_path, encoding, mapping, ("events",), required)
        with closing(event_rows):
            yield None
            yield from _sheet_notes(sheet)
            yield from _sheet_notes(events_sheet)
            pending, strays = _group_events(events_sheet, event_rows)
        for number, cells in rows:
            yield from _project_or_note(sheet, number, cells, seen, pending)
        yield from _leftover_events(events_sheet, sheet.file, pending, strays)


def _sheet_notes(sheet: _Sheet) -> Iterator[Note]:
    """The header the sheet was read by, and each column no field takes."""
    rows = ("rows " + "-".join(map(str, (sheet.header_rows[0], sheet.header_rows[-1])))
            if len(sheet.header_rows) > 1 else f"row {sheet.header_rows[0]}")
    ignored = "、".join(h for _, h in sheet.ignored)
    yield Note(sheet.file, rows, "header", f"读取{sheet.where}：{len(sheet.columns)} 列对应字段"
               + (f"，{len(sheet.ignored)} 列按映射不使用（{ignored}）" if sheet.ignored else "")
               + (f"，{len(sheet.unknown)} 列无对应字段" if sheet.unknown else ""))
    for index, header in sheet.unknown:
        yield Note(sheet.file, f"{rows} column {_letter(index)}", "column",
                   f"列“{header}”没有对应的字段，未使用（可用 --mapping 指定；"
                   "lifecycle-rules mapping 打印默认映射）")


def _letter(index: int) -> str:
    """A 0-based column index as Excel names it: 0 -> A, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


_TOTALS = ("合计", "小计", "总计", "累计")
_NOTES = re.compile(r"(说明|注|备注|填表人|填报人|审核人|制表人?|联系人|联系电话|单位负责人|统计人)\s*[:：]")


def _not_a_project(sheet: _Sheet, cells: Sequence[object]) -> str | None:
    """Why a row is not a project (a 合计 row, a note under the table), or None."""
    filled = [_text(c) for c in cells if not _is_empty(c)]
    id_column = next(c for c in sheet.columns if c.header == sheet.id_header)
    raw_id = cells[id_column.index] if id_column.index < len(cells) else None
    has_id = not _is_empty(raw_id)
    words = [re.sub(r"\s+", "", unicodedata.normalize("NFKC", t)) for t in filled[:3]]
    total = next((w for w in words if w.startswith(_TOTALS)), None)
    if total is not None and (not has_id or _norm(_text(raw_id)).startswith(_TOTALS)):
        return f"“{total[:10]}”行是汇总，不是项目，未读取"
    if not has_id and _NOTES.match(unicodedata.normalize("NFKC", filled[0])):
        return f"表下说明行（“{filled[0][:20]}”），不是项目，未读取"
    if not has_id and len(filled) == 1:
        return f"只有一格文字、没有项目代码的行（“{filled[0][:20]}”），按表下说明处理，未读取"
    return None


def _project_or_note(
    sheet: _Sheet, number: int, cells: Sequence[object], seen: Seen,
    pending: dict[str, list[_Pending]] | None = None,
) -> Iterator[Record | Note]:
    if _blank(cells):
        return
    why = _not_a_project(sheet, cells)
    if why is not None:
        yield Note(sheet.file, f"row {number}", "skipped", why)
        return
    yield _project_record(sheet, number, cells, seen, pending)


def _project_record(
    sheet: _Sheet,
    number: int,
    cells: Sequence[object],
    seen: Seen,
    pending: dict[str, list[_Pending]] | None = None,
) -> Record:
    locator = f"row {number}"
    project_id, history, problems = _project_row(sheet, locator, cells)
    if project_id is not None:
        before = seen.add(project_id, sheet.file, number)
        if before is not None:
            # Two projects with one code would give warnings with one key: one disposition
            # would close both. (In the tables layout its events went to the first row.)
            message = duplicate(project_id, sheet.file, before)
            problems.insert(0, _Problem(sheet.file, locator, sheet.id_header, message))
        else:
            for _, _, event, event_problems in (pending or {}).pop(project_id, []):
                history["events"].append(event)
                problems.extend(event_problems)
    if problems:
        return Record(sheet.file, locator, None, _reject(problems, project_id))
    history, columns = _by_date(history)
    for c in sheet.columns:
        if c.section in ("project", "plan"):
            columns[f"{c.section}.{c.name}"] = c.header
    return Record(sheet.file, locator, history, None, columns)


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


# Tables whose column names are known (a database query's, an Arrow batch's): no header to
# find, the same mapping, conversions and rejects as a sheet's, a row at a time.

_NAMED_REQUIRED = {
    "projects": (_PROJECT_SECTIONS, (("project", "id"),)),
    "events": (("events",), (("events", "project_id"), ("events", "date"), ("events", "type"))),
}


def named_table(file: str, names: Sequence[str], kind: Literal["projects", "events"], mapping: _Mapping) -> _Sheet:
    """A table read by its column names, mapped to fields like a sheet's header (the
    default columns.yaml, a pack's ``columns:``, a mapping file: ``load_mapping``). Cells
    may be what a database driver or Arrow gives (dates, Decimal, bool, numbers, text).
    ``file`` names the table in rejects. A required column missing is a ValueError."""
    sections, required = _NAMED_REQUIRED[kind]
    columns, ignored, unknown = _resolve_header(file, [(i, n, (n,)) for i, n in enumerate(names)], mapping,
                                                sections, required)
    id_header = next(c.header for c in columns if (c.section, c.name) == required[0])
    return _Sheet(file, None, tuple(columns), id_header, mapping, None, (0,), tuple(ignored), tuple(unknown))


def named_notes(sheet: _Sheet) -> Iterator[Note]:
    """A notice for each column of a named table that no field takes."""
    for _, header in sheet.unknown:
        yield Note(sheet.file, f"column {header}", "column",
                   f"列“{header}”没有对应的字段，未使用（可用 mapping 指定；lifecycle-rules mapping 打印默认映射）")


def project_code(projects: _Sheet, cells: Sequence[object]) -> str | None:
    """The code of a projects row as a run compares codes (NFKC, stripped), or None when its
    cell is empty or holds bytes its encoding could not read."""
    column = next(c for c in projects.columns if c.section == "project" and c.name == "id")
    raw = cells[column.index] if column.index < len(cells) else None
    if _is_empty(raw) or (isinstance(raw, str) and _SURROGATE.search(raw)):
        return None
    return cast(str, _convert("id", raw, projects.mapping)) or None


def named_record(
    projects: _Sheet, number: int, cells: Sequence[object], events: _Sheet | None = None,
    event_rows: Iterable[tuple[int, Sequence[object]]] = (), seen: Seen | None = None,
) -> Iterator[Record | Note]:
    """Row ``number`` of a named projects table, with the rows of the events table
    (``(row number, cells)``) whose code is its own: its Record (a Reject naming every bad
    cell, a duplicate code), or a Note for a row that is not a project (合计, a note);
    then a reject for each given event row whose code is not the project's."""
    pending, strays = _group_events(events, iter(event_rows)) if events is not None else ({}, [])
    yield from _project_or_note(projects, number, cells, Seen() if seen is None else seen, pending)
    if events is not None:
        yield from _leftover_events(events, projects.file, pending, strays)


def orphan_events(projects: _Sheet, events: _Sheet,
                  event_rows: Iterable[tuple[int, Sequence[object]]]) -> Iterator[Record]:
    """A reject for each event row (``(row number, cells)``) whose project is in no row of
    the projects table, or whose code is empty."""
    for item in named_record(projects, 0, (), events, event_rows):
        assert isinstance(item, Record)  # a blank projects row gives nothing of its own
        yield item


def deferred(
    projects: _Sheet, number: int, cells: Sequence[object], code: str | None, events: _Sheet | None,
    event_rows: Sequence[tuple[int, Sequence[object]]], seen: Seen,
) -> Iterator[Record | Note | Rows]:
    """``named_record``, with the reading of the cells left to where the project is
    evaluated: a project whose code (``project_code``) is new to the run (``seen`` takes it
    now) comes as :class:`Rows` (``read_rows`` reads it there, to the same Records); a
    blank row, a row that is not a project, one without a code or with a code seen before
    is read here (they are few, and the last two need the run's codes)."""
    if not code or code in seen or _blank(cells) or _not_a_project(projects, cells) is not None:
        yield from named_record(projects, number, cells, events, event_rows, seen)
        return
    seen.add(code, projects.file, number)
    yield Rows(projects, number, tuple(cells), events,
               tuple((n, tuple(row)) for n, row in event_rows) if events is not None else ())


def read_rows(rows: Rows) -> Iterator[Record | Note]:
    """A deferred project row read: what ``named_record`` gives for it (its code was
    checked against the run's where it was read)."""
    return named_record(rows.projects, rows.number, rows.cells, rows.events, rows.event_rows)
