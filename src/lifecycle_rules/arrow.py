"""Arrow record batches in, Arrow record batches out: the one seam every engine runs the
library through (Spark's ``mapInArrow``, Dask partitions, a loader of any kind).

    import pyarrow as pa
    from lifecycle_rules.arrow import evaluate_batches, OUTPUT_SCHEMA
    batches = [pa.RecordBatch.from_pydict({"history": [line, ...]})]
    for out in evaluate_batches(batches, "jiande", "2024-11-30"):
        ...  # OUTPUT_SCHEMA: warnings, rejects and notices, a row each

A pure function of its input: no files, no clock; it needs ``pyarrow`` (the optional
extra ``arrow``). Every input row ends as its warnings, a reject row or a notice row in
the output (``kind``), never as an exception out of a batch, so one bad history cannot
stop a partition of a million. Each input batch gives one output batch, in input order.

Input, either layout:

- **a history column** (``history_column``, default ``history``): one history as JSON
  (SPEC §3), string or binary, per row; decoded and validated as the CLI does a JSON line.
- **the two tables grouped by project** (no history column): a row per project, its
  columns named like the tables layout's projects table (``project_id``, ``name``,
  ``sector``, ``investment_wan``, ``region``, ``plan_start``, ``plan_completion``, milestone
  dates, or the Chinese headers of ``lifecycle-rules mapping``; ``mapping`` lays a
  mapping file over them), and an ``events`` column: a list of structs with the events
  table's fields (``date``, ``type``, ``step``, ``period``, ``planned_wan``, ``actual_wan``,
  ``compliant``, ``warning``, ``action``, ``until``, ``severity``). Cells are read like a
  sheet's (dates, ``Decimal``, text such as ``3.5亿``): a bad cell is a reject naming it.

A row is named in rejects by ``locator_column`` if the batch has it, else ``row N``
counting the rows of every batch given (1-based). With ``check_codes`` (the default) a
project code seen before in the same call is rejected, as the CLI does within a run; an
engine that splits the input (Spark partitions) checks codes across the whole input
itself and turns this off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa

from lifecycle_rules.core.engine import evaluate_on
from lifecycle_rules.core.results import Result, as_of_day
from lifecycle_rules.io.batch import evaluated
from lifecycle_rules.io.readers.codes import Seen, duplicate, normal_id
from lifecycle_rules.io.readers.columns import _Mapping, load_mapping
from lifecycle_rules.io.readers.tables import named_notes, named_record, named_table
from lifecycle_rules.io.records import Note, Record, Reject
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.plugins import load_pack

__all__ = ["NOTICE_COLUMNS", "OUTPUT_SCHEMA", "REJECT_COLUMNS", "ROW_COLUMNS", "WARNING_SCHEMA", "Split",
           "evaluate_batches", "split"]

_TEXT, _DAY, _INT = pa.string(), pa.date32(), pa.int32()

# A warning as a row (SPEC §4, then the fields ProjectWarning adds, then the provenance).
WARNING_SCHEMA = pa.schema([
    pa.field("project_id", _TEXT, nullable=False),
    pa.field("key", _TEXT, nullable=False),
    pa.field("rule", _TEXT, nullable=False),
    pa.field("subject", _TEXT, nullable=False),
    pa.field("level", _TEXT, nullable=False),  # yellow | orange | red
    pa.field("since", _DAY, nullable=False),
    pa.field("due", _DAY),
    pa.field("tier", _INT),
    pa.field("status", _TEXT, nullable=False),
    pa.field("responsible", pa.list_(_TEXT), nullable=False),
    pa.field("clause", _TEXT, nullable=False),
    pa.field("message", _TEXT, nullable=False),
    pa.field("level_name", _TEXT, nullable=False),
    pa.field("action", _TEXT, nullable=False),
    pa.field("stage", _TEXT),
    pa.field("closed_on", _DAY),
    pa.field("pushes", _INT, nullable=False),
    pa.field("as_of", _DAY, nullable=False),
    pa.field("pack", _TEXT, nullable=False),  # id@version
    pa.field("pack_digest", _TEXT, nullable=False),
])

# What a reject or a notice adds: ``kind`` is warning, reject or notice; a reject has
# ``file`` (the ``file`` argument), ``locator``, ``field`` (a field path or a column) and
# ``error``; a notice has ``file``, ``locator`` and ``notice``. Every row has the provenance.
_KINDS = ("warning", "reject", "notice")
ROW_COLUMNS = ("kind", "file", "locator", "field", "error", "notice")
OUTPUT_SCHEMA = pa.schema(
    [f.with_nullable(True) for f in WARNING_SCHEMA]
    + [pa.field("kind", _TEXT, nullable=False)] + [pa.field(name, _TEXT) for name in ROW_COLUMNS[1:]]
)
_PROVENANCE = ("as_of", "pack", "pack_digest")
# What ``split`` keeps of a reject and of a notice (and Spark's rejects and notices).
REJECT_COLUMNS = ("project_id", "file", "locator", "field", "error", *_PROVENANCE)
NOTICE_COLUMNS = ("project_id", "file", "locator", "notice", *_PROVENANCE)
_WARNING_NAMES = tuple(WARNING_SCHEMA.names)
_EMPTY = dict.fromkeys(OUTPUT_SCHEMA.names)


class Split(NamedTuple):
    """An output table taken apart: warnings (WARNING_SCHEMA), rejects and notices."""

    warnings: pa.Table
    rejects: pa.Table
    notices: pa.Table


def split(output: pa.Table | pa.RecordBatch) -> Split:
    """The warnings (as WARNING_SCHEMA), rejects (project_id, file, locator, field, error
    and the provenance) and notices (project_id, file, locator, notice, provenance) of an
    output of ``evaluate_batches``."""
    table = output if isinstance(output, pa.Table) else pa.Table.from_batches([output])
    kinds = table.column("kind")
    import pyarrow.compute as pc

    warnings = table.filter(pc.equal(kinds, "warning")).select(list(_WARNING_NAMES)).cast(WARNING_SCHEMA)
    rejects = table.filter(pc.equal(kinds, "reject")).select(list(REJECT_COLUMNS))
    notices = table.filter(pc.equal(kinds, "notice")).select(list(NOTICE_COLUMNS))
    return Split(warnings, rejects, notices)


def evaluate_batches(
    batches: Iterable[pa.RecordBatch],
    pack: Pack | str,
    as_of: dt.date | str,
    *,
    include_closed: bool = False,
    parameters: Mapping[str, Any] | None = None,
    history_column: str = "history",
    locator_column: str = "locator",
    mapping: str | Path | None = None,
    file: str = "arrow",
    check_codes: bool = True,
) -> Iterator[pa.RecordBatch]:
    """A batch of OUTPUT_SCHEMA for each batch of histories (module docstring): the
    warnings standing on ``as_of`` of every project, a row for each reject and notice.
    ``pack`` is a compiled pack (it pickles: Spark and Dask send it to their workers) or
    an id or path, loaded here with ``parameters``."""
    if not isinstance(pack, Pack):
        pack = load_pack(pack, dict(parameters or {}))
    elif parameters:
        raise ValueError("parameters are given to load_pack, with a pack id, not with a compiled pack")
    run = _Run(pack, as_of_day(as_of), include_closed, file, Seen() if check_codes else None, mapping)
    for batch in batches:
        yield run.batch(batch, history_column, locator_column)


class _Run:
    """One call's state: the row count, the codes seen, the tables' columns read."""

    def __init__(self, pack: Pack, day: dt.date, include_closed: bool, file: str, seen: Seen | None,
                 mapping: str | Path | None) -> None:
        self.pack, self.day, self.include_closed, self.file, self.seen = pack, day, include_closed, file, seen
        self.mapping_path = mapping
        self.row = 0
        self.provenance = {"as_of": day, "pack": pack.label, "pack_digest": pack.digest}
        self.columns_said: set[tuple[str, str]] = set()
        self.mapping: _Mapping | None = None

    def batch(self, batch: pa.RecordBatch, history_column: str, locator_column: str) -> pa.RecordBatch:
        names = batch.schema.names
        locators = batch.column(locator_column).to_pylist() if locator_column in names else None
        rows: list[dict[str, Any]] = []
        if history_column in names:
            for i, text in enumerate(batch.column(history_column).to_pylist()):
                self.row += 1
                locator = str(locators[i]) if locators is not None and locators[i] is not None else f"row {self.row}"
                self._history(text, locator, rows)
        else:
            self._grouped(batch, locators, locator_column, rows)
        return pa.RecordBatch.from_pylist(rows, schema=OUTPUT_SCHEMA)

    def _history(self, text: object, locator: str, rows: list[dict[str, Any]],
                 columns: Mapping[str, str] | None = None) -> None:
        if not isinstance(text, (str, bytes, dict)):
            rows.append(self._reject(Reject(self.file, locator, None, None,
                                            "the history is null: a JSON object (SPEC §3) is expected")))
            return
        result = evaluated(evaluate_on, self.pack, text, self.day, self.include_closed, self.file, locator, columns,
                           encoding="utf-8")
        if isinstance(result, Reject):
            rows.append(self._reject(result))
            return
        if self.seen is not None and columns is None:  # a grouped row's code was checked as read
            code = normal_id(result.project_id)
            before = self.seen.add(code, self.file, self.row)
            if before is not None:
                rows.append(self._reject(Reject(self.file, locator, code, "project.id",
                                                duplicate(code, self.file, before))))
                return
        self._result(result, locator, rows)

    def _result(self, result: Result, locator: str, rows: list[dict[str, Any]]) -> None:
        for w in result.warnings:
            fields = w.__dict__
            rows.append({**_EMPTY, **{name: fields[name] for name in _WARNING_NAMES}, "kind": "warning"})
        for text in result.notices:
            rows.append({**_EMPTY, **self.provenance, "project_id": result.project_id, "kind": "notice",
                         "file": self.file, "locator": locator, "notice": text})

    def _reject(self, reject: Reject) -> dict[str, Any]:
        return {**_EMPTY, **self.provenance, "project_id": reject.project_id, "kind": "reject", "file": reject.file,
                "locator": reject.locator, "field": reject.field, "error": reject.message}

    def _note(self, note: Note) -> dict[str, Any]:
        return {**_EMPTY, **self.provenance, "kind": "notice", "file": note.file, "locator": note.locator,
                "notice": note.text}

    def _grouped(self, batch: pa.RecordBatch, locators: Sequence[Any] | None, locator_column: str,
                 rows: list[dict[str, Any]]) -> None:
        """A row per project and its ``events`` (a list of structs): read as the tables
        layout reads a projects row and its events rows."""
        names = [n for n in batch.schema.names if n not in ("events", locator_column)]
        if "events" in batch.schema.names:
            event_type = batch.schema.field("events").type
            if not (pa.types.is_list(event_type) or pa.types.is_large_list(event_type)) or \
                    not pa.types.is_struct(event_type.value_type):
                raise ValueError(f"{self.file}: the events column must be a list of structs, not {event_type}")
            # the row's own code stands for each event's (an event's own project_id is not read)
            event_names = ["project_id", *(f.name for f in event_type.value_type if f.name != "project_id")]
        else:
            event_names = ["project_id", "date", "type"]
        mapping = self._mapping()
        projects = named_table(self.file, names, "projects", mapping)
        events = named_table(f"{self.file} events", event_names, "events", mapping)
        for sheet in (projects, events):  # a column no field takes: said once a call
            for note in named_notes(sheet):
                if (sheet.file, note.locator) not in self.columns_said:
                    self.columns_said.add((sheet.file, note.locator))
                    rows.append(self._note(note))
        id_index = next(c.index for c in projects.columns if c.section == "project" and c.name == "id")
        table = batch.to_pylist()
        for i, row in enumerate(table):
            self.row += 1
            cells = [row[n] for n in names]
            code = cells[id_index]
            event_rows = [(n, [code, *(e.get(f) for f in event_names[1:])])
                          for n, e in enumerate(row.get("events") or (), 1) if e is not None]
            for item in named_record(projects, self.row, cells, events, event_rows, self.seen or Seen()):
                if locators is not None and locators[i] is not None and item.file == self.file:
                    item = _relocated(item, str(locators[i]))
                if isinstance(item, Note):
                    rows.append(self._note(item))
                elif item.reject is not None:
                    rows.append(self._reject(item.reject))
                else:
                    self._history(item.history, item.locator, rows, item.columns or {})

    def _mapping(self) -> _Mapping:
        if self.mapping is None:  # read once a call: the pack's own columns, the file over them
            self.mapping = load_mapping(self.mapping_path, (self.pack.id, self.pack.spec.columns))
        return self.mapping


def _relocated(item: Record | Note, locator: str) -> Record | Note:
    """A grouped row's record or note named by the batch's locator column, not ``row N``."""
    if isinstance(item, Record) and item.reject is not None:
        return replace(item, locator=locator, reject=replace(item.reject, locator=locator))
    return replace(item, locator=locator)
