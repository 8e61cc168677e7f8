"""The office's table of warnings: what ``evaluate -o x.xlsx|x.csv`` writes for people.

The columns are ``office.words.COLUMNS`` (one ``office_row`` a warning, built in the
worker that evaluated it). An ``.xlsx`` is one workbook of three sheets: 预警 (the
warnings), 未能读取的记录 (the rejects: 文件, 行, 项目代码, 列, 问题) and 说明 (the notices:
what was not evaluated, or not written, and why; with the day and the pack of the run); the
warnings end with their provenance (评估日期, 规则包 as id@version, 规则包摘要); each sheet has its header in row 1,
frozen and filtered, real date cells, wrapped long text and an A4 landscape print setup
with the header on every page. A ``.csv`` (UTF-8 with BOM) holds the warnings, and the
rejects and notices go to CSV files beside it, ``x.csv.rejects.csv`` and
``x.csv.notices.csv``; a cell Excel would take for a formula starts with ``'``.

JSON Lines stay the machine contract (SPEC §4); ``--columns contract`` writes a CSV or
XLSX in the contract's keys, as before the office's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from lifecycle_rules.io.writers import (
    Format,
    ResultWriter,
    Row,
    Table,
    open_rejects_writer,
    open_tables,
    open_writer,
    sheet_of,
)
from lifecycle_rules.office.words import COLUMNS, DATE_COLUMNS, HEADERS

__all__ = ["NOTICES", "REJECTS", "WARNINGS", "escape_notice", "line_of", "open_office", "open_side"]

_LONG = frozenset({"project_name", "region", "title", "subject", "level_name", "responsible", "action",
                   "stage", "clause", "message"})
WARNINGS = Table(
    tuple(key for key, _ in COLUMNS), HEADERS, "预警", dates=DATE_COLUMNS,
    widths={"project_id": 16, "project_name": 24, "region": 12, "title": 16, "subject": 14, "color": 8,
            "level_name": 10, "since": 11, "due": 11, "status": 10, "tier": 8, "responsible": 22,
            "action": 20, "stage": 12, "closed_on": 11, "pushes": 8, "clause": 20, "message": 50,
            "rule": 16, "key": 30, "as_of": 11, "pack": 16, "pack_digest": 26},
    wrap=_LONG, fills={"color": {"红灯": "FFC7CE", "橙灯": "FCD5B4", "黄灯": "FFEB9C"}}, office=True,
)


def line_of(locator: str) -> int | str:
    """Where a record is, for the 行 column: ``row 16`` / ``line 4`` -> 16 / 4 (a number a
    clerk can sort), ``rows 3-4`` -> 第3-4行, ``row 1 column D`` -> 第1行D列; else as it is."""
    found = re.fullmatch(r"(?:rows?|lines?) (\d+)(?:-(\d+))?(?: column ([A-Z]+))?", locator)
    if found is None:
        return locator
    first, last, column = found.groups()
    if last is None and column is None:
        return int(first)
    return f"第{first}{'-' + last if last else ''}行{column + '列' if column else ''}"


def _located(row: Row) -> Row:
    return {**row, "locator": line_of(str(row["locator"]))} if row.get("locator") is not None else row


REJECTS = Table(
    ("file", "locator", "project_id", "field", "message"),
    {"file": "文件", "locator": "行", "project_id": "项目代码", "field": "列", "message": "问题"},
    "未能读取的记录", widths={"file": 30, "locator": 10, "project_id": 16, "field": 22, "message": 60},
    wrap=frozenset({"file", "field", "message"}), convert=_located, office=True,
)
NOTICES = Table(
    ("file", "locator", "project_id", "notice", "as_of", "pack"),
    {"file": "文件", "locator": "行", "project_id": "项目代码", "notice": "说明", "as_of": "评估日期",
     "pack": "规则包"},
    "说明", dates=frozenset({"as_of"}),
    widths={"file": 30, "locator": 10, "project_id": 16, "notice": 80, "as_of": 11, "pack": 16},
    wrap=frozenset({"file", "notice"}), convert=_located, office=True,
)


def open_office(path: Path, fmt: Format | None) -> tuple[ResultWriter, Sequence[ResultWriter]]:
    """The office's result writer at ``path`` (CSV or XLSX), and for an XLSX the writers
    of its rejects and notices sheets (else none: the caller writes side files)."""
    writer = open_tables(path, fmt, (WARNINGS, REJECTS, NOTICES))
    sheets = [sheet_of(writer, t.title) for t in (REJECTS, NOTICES)]
    return writer, [s for s in sheets if s is not None]


def open_side(path: Path, kind: str, office: bool) -> ResultWriter:
    """The file of a run's rejects or notices (``kind``): JSON Lines as the contract has
    them; with ``office``, a ``.csv`` or ``.xlsx`` path gets the office's table. Without,
    a ``.csv`` of rejects keeps the contract's CSV and notices are always JSON Lines."""
    table = REJECTS if kind == "rejects" else NOTICES
    suffix = path.suffix.lower()
    if office and suffix in (".csv", ".xlsx"):
        return open_tables(path, None, (table,))
    return open_rejects_writer(path) if kind == "rejects" else open_writer(path, "jsonl")


def escape_notice(columns: Sequence[str], office: bool) -> str:
    """The notice of a row whose cells held characters a worksheet cannot hold."""
    if office:
        return f"输出：{'、'.join(columns)} 含工作表不能存放的控制字符，已写作 \\uXXXX"
    return f"output: {'、'.join(columns)}: characters a worksheet cannot hold (control characters) written as \\uXXXX"
