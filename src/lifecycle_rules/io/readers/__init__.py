"""Read exported platform files into plain history dicts (SPEC §3).

Inputs are JSON Lines, or CSV (UTF-8 with or without BOM, GBK/GB18030) and Excel
exports in one of two layouts: a *wide* sheet with one row per project and one
date column per milestone, or a projects table plus an events table. Column
headers map to fields through ``columns.yaml`` (see that file for the format).

Every input project yields exactly one :class:`Record`: a history, or a
:class:`Reject` that names the file, row or line, and column at fault. Histories
are plain dicts; the engine validates them.

This module is the front: which layout a file is read in, and the calls. The parts:
``values`` (dates, amounts, periods, text), ``columns`` (the column mapping and
header resolution), ``sheets`` (encoding detection, CSV and Excel rows, the header
row), ``tables`` (wide and projects+events rows into histories) and ``jsonl``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, cast

from lifecycle_rules.io.readers.codes import Seen, checked, marked
from lifecycle_rules.io.readers.columns import _load_mapping
from lifecycle_rules.io.readers.jsonl import _jsonl_records, line_blocks, line_limit
from lifecycle_rules.io.readers.sheets import _EXCEL_SUFFIXES, SheetRef, detect_encoding
from lifecycle_rules.io.readers.tables import _table_records
from lifecycle_rules.io.readers.values import parse_date
from lifecycle_rules.io.records import LineBlock, Note, Record, Reject, undecodable

__all__ = [
    "BLOCK_BYTES", "LineBlock", "Note", "Record", "Reject", "Seen", "SheetRef", "detect_encoding",
    "is_jsonl", "jsonl_blocks", "parse_date", "read_histories", "undecodable",
]  # fmt: skip

Layout = Literal["auto", "jsonl", "wide", "tables"]

_JSONL_SUFFIXES = frozenset({".jsonl", ".json", ".ndjson"})

# Here, at the package's front, so that one assignment (readers.BLOCK_BYTES = ...) tunes
# every caller's blocks; the cutting itself is jsonl.line_blocks.
BLOCK_BYTES = 1 << 19  # about 250 histories of 25 events


def jsonl_blocks(path: str | Path, block_bytes: int | None = None, *,
                 max_line_bytes: int | None = None, seen: Seen | None = None) -> Iterator[LineBlock | Record]:
    """A UTF-8 JSON Lines file (a BOM allowed) cut into blocks of whole lines, streaming.
    Time and memory are linear in the file's size. A line longer than ``max_line_bytes``
    (default ``jsonl.MAX_LINE_BYTES``, 64 MiB) comes in its place as a :class:`Record` whose
    reject names it; it is skipped without being held, and the lines after it are read.
    With ``seen`` (a run's project codes), a line whose code was seen before is marked
    as a reject in its block (``LineBlock.rejected``)."""
    line_limit(max_line_bytes)  # a bad cap is an error at the call
    blocks = line_blocks(path, block_bytes or BLOCK_BYTES, max_line_bytes)
    return blocks if seen is None else marked(blocks, seen)


def is_jsonl(path: str | Path, layout: Layout = "auto", events_path: str | Path | None = None) -> bool:
    """Would ``read_histories`` read this file as JSON Lines?"""
    events = Path(events_path) if events_path is not None else None
    return _choose_layout(Path(path), layout, events) == "jsonl"


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
    sheet: SheetRef = None,
    seen: Seen | None = None,
    notes: bool = False,
    pack_columns: tuple[str, Mapping[str, Any]] | None = None,
    max_line_bytes: int | None = None,
) -> Iterator[Record | Note]:
    """Yield one :class:`Record` per input project, and a :class:`Note` for what is not
    a project (the header read, a column no field takes, a 合计 row or a note under the
    table, skipped), streaming.

    With ``raw_json``, a JSON Lines record's ``history`` is the line's text, left for
    the evaluator to parse (the batch path: parsing happens in the worker processes).

    ``layout="auto"`` picks JSON Lines for ``.jsonl``/``.json``/``.ndjson``, the
    wide sheet for ``.csv`` and Excel files, and ``"tables"`` when
    ``events_path`` is given. CSV encoding is detected unless ``encoding`` is
    given. In a workbook, the sheet is ``sheet`` (its name or 1-based number), or the
    first sheet with a header naming the project id column. The header is the first
    such row (title rows above it are skipped), with the row under it when that row
    names columns under a group header (a two-row merged header).
    ``mapping`` is a YAML file laid over ``columns.yaml`` (table layouts only).
    With ``notes``, the :class:`Note` s come too (otherwise only Records).
    ``pack_columns`` (a pack's id and its ``columns:``) lays a pack's own synonyms over
    the default mapping, under ``mapping``.
    ``seen`` carries the project codes of a run across files: a code seen before is
    rejected, naming the row that had it first (codes compared after NFKC and strip).
    ``max_line_bytes`` caps a JSON Lines line (default ``jsonl.MAX_LINE_BYTES``, 64 MiB): a
    longer line is a reject naming it, skipped without being held; the lines after it are read.

    Bad arguments, an unreadable mapping, or a header without the project id
    column raise ``ValueError`` here, before anything is yielded. A bad row or
    line becomes a Record with a Reject; every other row is still read.

    Memory: JSON Lines and CSV stream (one row at a time; reading JSON Lines is linear in
    the file's size, however long its lines). Excel via
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
        generator: Generator[Record | Note | None, None, None] = _jsonl_records(
            source, encoding, raw_json, max_line_bytes)
    else:
        generator = _table_records(source, encoding, _load_mapping(mapping, pack_columns), events, sheet, seen)
    # Run up to the first yield so that open and header errors surface at the call.
    next(generator)
    # After the priming None only Records and Notes follow.
    items = cast(Iterator[Record | Note], generator)
    if chosen == "jsonl" and seen is not None:
        items = (checked(r, seen) if isinstance(r, Record) else r for r in items)
    if notes:
        return items
    return (r for r in items if isinstance(r, Record))
