"""Write evaluation results (SPEC §4), reader rejects and portfolio rates as JSON Lines,
CSV or XLSX (rates also as one JSON array).

A file appears complete or not at all: rows go to a hidden temporary file of its own
beside the target, ``.<name>.<random>.partial`` (two writers of one target never share
it), which ``close()`` renames into place (``os.replace``, atomic on one file system);
``abort()``, or an exception inside ``with``, deletes it. An existing file at the
target stays untouched until a successful ``close()``. ``seal()`` finishes the
temporary file (written, synced, closed) without moving it and ``publish()`` moves a
sealed file into place: ``io/outputs.py`` seals every file of a run before it moves
any. The file gets the mode a new file gets (0666 less the umask). An OSError while
writing names the target, not the temporary file. Standard output cannot be taken
back, so it is written as it goes.

A :class:`Table` says what a tabular file shows: its columns and headers, and for a
worksheet its look (date and percentage cells, widths, wrapped columns, fills). An
``office`` table is one people open: in its CSV a text a spreadsheet would take for a
formula (beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a
leading ``'`` (OWASP); its worksheet a filter and a print setup. An XLSX (written by
``io/workbooks.py``, which also says what a worksheet cannot hold) may have several
tables, a sheet each (``sheet_of``), in one temporary file.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Protocol, Self

import msgspec

from lifecycle_rules.core.vocabulary import ROW_KEYS
from lifecycle_rules.io.records import Reject

__all__ = [
    "RESULT_HEADERS", "RESULT_KEYS", "ResultWriter", "Table", "open_rejects_writer", "open_tables", "open_writer",
    "output_format", "result_json", "sheet_of", "warning_lines", "write_rates", "write_rejects", "write_text",
]  # fmt: skip

Format = Literal["jsonl", "csv", "xlsx"]
Row = Mapping[str, object]

# The columns every result file has, in SPEC §4 order (ROW_KEYS through ``message``: a
# CSV with no rows has them too). A row's other keys follow in the row's own order;
# ``ProjectWarning.to_dict`` gives level_name … pushes and the provenance (as_of, pack,
# pack_digest) in ROW_KEYS order, so they follow in it.
RESULT_KEYS: tuple[str, ...] = ROW_KEYS[: ROW_KEYS.index("message") + 1]
RESULT_HEADERS = {
    "project_id": "项目代码", "key": "预警编号", "rule": "规则", "subject": "对象", "level": "等级",
    "since": "起始日期", "due": "期限", "tier": "协调层级", "status": "状态", "responsible": "责任单位",
    "clause": "政策条款", "message": "提示内容",
}  # fmt: skip
_REJECT_KEYS = ("file", "locator", "project_id", "field", "message")
_REJECT_HEADERS = {"file": "文件", "locator": "位置", "project_id": "项目代码", "field": "字段", "message": "问题"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LIST_JOIN = "、"
_SUFFIX_FORMATS: dict[str, Format] = {
    ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx",
}  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as a formula (OWASP)


@dataclass(frozen=True)
class Table:
    """The columns of a tabular file (a CSV, or one sheet of an XLSX) and how a sheet shows them.

    ``keys`` come first, in order, then the first row's other keys; ``headers`` names
    them (a key without a header is its own). ``convert`` turns each row given into the
    row written. In a worksheet: ``dates`` are date cells (dates, or ISO text) in
    ``date_format``, ``percent`` numbers are percentage cells, ``wrap`` columns wrap,
    ``fills`` colour a cell by its text (key -> text -> RGB); ``office`` (see the module)."""

    keys: tuple[str, ...]
    headers: Mapping[str, str]
    title: str = "Sheet1"
    dates: frozenset[str] = frozenset()
    date_format: str = "yyyy-mm-dd"
    widths: Mapping[str, float] = field(default_factory=dict)
    width: float = 14
    wrap: frozenset[str] = frozenset()
    percent: frozenset[str] = frozenset()
    fills: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    convert: Callable[[Row], Row] | None = None
    office: bool = False


RESULTS = Table(RESULT_KEYS, RESULT_HEADERS, "预警", dates=frozenset({"since", "due"}),
                widths={"key": 36, "rule": 20, "responsible": 24, "clause": 24, "message": 60})
REJECTS = Table(_REJECT_KEYS, _REJECT_HEADERS, "问题")


class ResultWriter(Protocol):
    """Rows in, one finished file out; ``with`` commits on success, aborts on error."""

    target: Path | None  # None: standard output (or a sheet of another writer's file)
    escaped: list[tuple[int, tuple[str, ...], object]]  # XLSX: (row, columns, project_id)

    def write(self, row: Row) -> None: ...
    def seal(self) -> None: ...
    def publish(self) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def __enter__(self) -> ResultWriter: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


def _umask() -> int:
    mask = os.umask(0o022)  # reading it means setting it; put back at once
    os.umask(mask)
    return mask


def _temp_beside(final: Path, suffix: str = ".partial") -> tuple[int, Path]:
    """A new hidden file of this process's own beside ``final`` (same directory, so the
    rename is atomic), with the mode a new file would get; its descriptor and path."""
    try:
        fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=suffix)
    except OSError as exc:
        exc.filename = str(final)  # the random name means nothing to a user
        raise
    with suppress(OSError):
        os.fchmod(fd, 0o666 & ~_umask())
    return fd, Path(name)


def _fsync(stream: IO[Any]) -> None:
    stream.flush()
    os.fsync(stream.fileno())


def _naming(exc: OSError, target: Path | None, temp: Path | None) -> None:
    """Let the error name the target (the temporary file's name means nothing to a user)."""
    if target is not None and (exc.filename is None or str(exc.filename) == str(temp)):
        exc.filename = str(target)


def _columns(fixed: tuple[str, ...] | None, keys: tuple[str, ...], row: Row) -> tuple[tuple[str, ...], bool]:
    """A tabular file's columns: all known keys, then the first row's extra keys (True: just
    fixed, the header is due); a later row may not bring a key of its own."""
    if fixed is None:
        return keys + tuple(k for k in row if k not in keys), True
    extra = [k for k in row if k not in fixed]
    if extra:
        raise ValueError(f"keys {extra} are not columns of this file (the first row fixes them)")
    return fixed, False


class _Writer:
    """The life cycle shared by every format: write rows, then commit or discard."""

    def __init__(self, final: Path | None, table: Table) -> None:
        self.target = final
        made: tuple[int | None, Path | None] = _temp_beside(final) if final is not None else (None, None)
        self._fd, self._partial = made
        self._table = table
        self._done = False
        self._sealed = False
        self.escaped: list[tuple[int, tuple[str, ...], object]] = []

    def write(self, row: Row) -> None:
        if self._done or self._sealed:
            raise ValueError("write() on a writer that is already closed or aborted")
        if self._table.convert is not None:
            row = self._table.convert(row)
        try:
            self._write(_ordered(row, self._table.keys))
        except OSError as exc:
            _naming(exc, self.target, self._partial)
            raise

    def seal(self) -> None:
        """Finish the temporary file (written, synced, closed); nothing is moved yet.
        On failure the temporary file is deleted."""
        if self._done or self._sealed:
            return
        self._sealed = True
        try:
            self._finish()
        except BaseException as exc:
            if isinstance(exc, OSError):
                _naming(exc, self.target, self._partial)
            self._done = True
            self._discard()
            raise

    def publish(self) -> None:
        """Move the file (sealed first if need be) into place; a second call does nothing."""
        self.seal()
        if self._done:
            return
        self._done = True
        if self._partial is not None and self.target is not None:
            try:
                os.replace(self._partial, self.target)
            except BaseException:
                self._discard()
                raise
            self._partial = None

    def close(self) -> None:
        """Finish and move the file into place; a second call does nothing."""
        self.publish()

    def abort(self) -> None:
        """Drop everything written; after close() it does nothing."""
        if self._done:
            return
        self._done = True
        self._discard()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _discard(self) -> None:
        # Runs while another error propagates; cleanup must not replace that error.
        with suppress(Exception):
            self._release()
        if self._fd is not None:
            with suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self._partial is not None:
            with suppress(OSError):
                self._partial.unlink(missing_ok=True)

    def _take_fd(self) -> int:
        assert self._fd is not None
        fd, self._fd = self._fd, None
        return fd

    def _write(self, row: dict[str, object]) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError


def _json_default(value: object) -> object:
    # Dates (ISO), lists, tuples, numbers and text msgspec writes itself.
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"cannot write {type(value).__name__} as JSON: {value!r}")


# One JSON writer for every JSON Lines file: UTF-8 as is (no \u escapes), compact.
_JSON = msgspec.json.Encoder(enc_hook=_json_default)


class _JsonlWriter(_Writer):
    def __init__(self, final: Path | None, table: Table) -> None:
        super().__init__(final, table)
        self._owned = self._partial is not None
        if self._partial is not None:
            self._stream: IO[bytes] = os.fdopen(self._take_fd(), "wb")
        else:
            sys.stdout.flush()  # what was printed before comes first
            self._stream = sys.stdout.buffer

    def _write(self, row: dict[str, object]) -> None:
        self._stream.write(_JSON.encode(row) + b"\n")

    def write_block(self, data: bytes) -> None:
        """Write JSON lines already encoded by :func:`result_json`, each ending in a
        newline (batch workers serialise whole chunks)."""
        if self._done or self._sealed:
            raise ValueError("write_block() on a writer that is already closed or aborted")
        try:
            self._stream.write(data)
        except OSError as exc:
            _naming(exc, self.target, self._partial)
            raise

    def _finish(self) -> None:
        if self._owned:
            _fsync(self._stream)
            self._stream.close()
        else:
            self._stream.flush()

    def _release(self) -> None:
        if self._owned:
            self._stream.close()


def _text_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return _LIST_JOIN.join(_text_cell(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _text_cell(value.value)
    return str(value)


def _guarded(value: object) -> str:
    """A CSV cell of an office table: text a spreadsheet would run as a formula gets a
    leading ``'`` (numbers and dates are written as they are)."""
    text = _text_cell(value)
    if isinstance(value, (str, list, tuple)) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


class _CsvWriter(_Writer):
    def __init__(self, final: Path, table: Table) -> None:
        super().__init__(final, table)
        assert self._partial is not None
        # The BOM is what makes Excel read UTF-8 rather than the local code page.
        self._stream = os.fdopen(self._take_fd(), "w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._stream)
        self._cell = _guarded if table.office else _text_cell
        self._fixed: tuple[str, ...] | None = None

    def _header(self, row: Row) -> tuple[str, ...]:
        self._fixed, new = _columns(self._fixed, self._table.keys, row)
        if new:
            self._csv.writerow([self._table.headers.get(k, k) for k in self._fixed])
        return self._fixed

    def _write(self, row: dict[str, object]) -> None:
        percent = self._table.percent
        self._csv.writerow([f"{v:.1%}" if k in percent and isinstance(v, (int, float)) and not isinstance(v, bool)
                            else self._cell(v) for k in self._header(row) for v in (row.get(k),)])

    def _finish(self) -> None:
        self._header({})
        _fsync(self._stream)
        self._stream.close()

    def _release(self) -> None:
        self._stream.close()


def _open(path: str | Path | None, fmt: Format | None, tables: Sequence[Table]) -> _Writer:
    if path is None or str(path) == "-":
        if fmt not in (None, "jsonl"):
            raise ValueError(f"{fmt} output needs a file path; standard output takes JSON Lines")
        return _JsonlWriter(None, tables[0])
    final = Path(path)
    chosen = output_format(final, fmt)
    if chosen is None:
        known = ", ".join(sorted(_SUFFIX_FORMATS))
        raise ValueError(f"{final}: cannot tell the format from its suffix (known: {known}); pass fmt=")
    if chosen == "jsonl":
        return _JsonlWriter(final, tables[0])
    if chosen == "csv":
        return _CsvWriter(final, tables[0])
    if chosen == "xlsx":
        from lifecycle_rules.io.workbooks import XlsxWriter

        return XlsxWriter(final, tables)
    raise ValueError(f"unknown format {chosen!r} (jsonl, csv or xlsx)")


def output_format(path: str | Path, fmt: Format | None = None) -> Format | None:
    """The format a file at ``path`` is written in: ``fmt`` if given, else what its suffix
    says (``.jsonl``/``.json``/``.ndjson``, ``.csv``, ``.xlsx``); None if it says nothing.
    Nothing is opened: a caller can refuse a path before doing any work."""
    return fmt or _SUFFIX_FORMATS.get(Path(path).suffix.lower())


def open_writer(path: str | Path | None, fmt: Format | None = None) -> ResultWriter:
    """Open a result writer; ``None`` or ``"-"`` is standard output (JSON Lines).

    The format comes from ``fmt`` or the suffix (``.jsonl``/``.json``, ``.csv``,
    ``.xlsx``). JSON Lines keeps SPEC §4 key order, then any extra keys. CSV
    (UTF-8 with BOM) and XLSX use Chinese headers, join ``responsible`` with
    "、", and take their columns from SPEC §4 plus the first row's extra keys.
    XLSX writes ``since``/``due`` as real dates under a frozen header row. (The
    office's columns and words: ``lifecycle_rules.office.table``.)
    """
    return _open(path, fmt, (RESULTS,))


def open_tables(path: str | Path, fmt: Format | None, tables: Sequence[Table]) -> ResultWriter:
    """A writer of rows of ``tables[0]`` (JSON Lines: the rows as they are); an XLSX also
    has a sheet for each other table, whose writer :func:`sheet_of` gives."""
    return _open(path, fmt, tables)


def sheet_of(writer: ResultWriter, title: str) -> ResultWriter | None:
    """The writer of the sheet ``title`` of an XLSX writer from :func:`open_tables`; None
    for other formats."""
    sheet = getattr(writer, "sheet", None)
    return sheet(title) if sheet is not None else None


def _ordered(row: Row, keys: Sequence[str]) -> dict[str, object]:
    """The row with the known keys first, in their order, then its own."""
    ordered = {key: row[key] for key in keys if key in row}
    ordered.update((key, value) for key, value in row.items() if key not in ordered)
    return ordered


def result_json(row: Row) -> bytes:
    """One result row exactly as the JSON Lines result writer writes it (UTF-8, no newline)."""
    return _JSON.encode(_ordered(row, RESULT_KEYS))


def warning_lines(fields: Sequence[Mapping[str, object]]) -> bytes:
    """Warnings as JSON Lines in one call, each line ending in a newline: ``fields`` are
    ``ProjectWarning.__dict__`` (its fields in declaration order, which is SPEC §4's and
    ``to_dict``'s; dates written as ISO text, tuples as lists), so each line is exactly
    ``result_json(w.to_dict())`` (``tests/test_writers.py`` holds them equal)."""
    return _JSON.encode_lines(fields)


def open_rejects_writer(path: str | Path) -> ResultWriter:
    """A writer of ``Reject.to_dict()`` rows: JSON Lines, or CSV with BOM for a ``.csv`` path."""
    fmt: Format = "csv" if Path(path).suffix.lower() == ".csv" else "jsonl"
    return _open(path, fmt, (REJECTS,))


def write_rejects(path: str | Path, rejects: Iterable[Reject]) -> int:
    """Write rejects as JSON Lines, or CSV with BOM for a ``.csv`` path; return the count.

    The same all-or-nothing rule as results applies.
    """
    count = 0
    with open_rejects_writer(path) as writer:
        for reject in rejects:
            writer.write(reject.to_dict())
            count += 1
    return count


def write_text(path: str | Path, text: str) -> None:
    """Write a whole text file (UTF-8) all or nothing, through a temporary file of its own."""
    final = Path(path)
    fd, partial = _temp_beside(final)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            _fsync(stream)
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_rates(path: str | Path, rows: Sequence[Row],
                office: Sequence[tuple[Table, Sequence[Row]]] | None = None) -> int:
    """Write portfolio rates (``RateValue.to_dict()`` rows) as the suffix says: ``.json`` one
    JSON array (indented), ``.jsonl``/``.ndjson`` JSON Lines, ``.csv`` CSV with BOM, ``.xlsx``.
    The columns are the rows' own keys in their order, nothing else. With ``office`` (tables
    and their rows), a ``.csv`` or ``.xlsx`` shows those instead: the CSV the first table,
    the XLSX a sheet each. Return the count of ``rows``.

    The same all-or-nothing rule as results applies."""
    final = Path(path)
    fmt = output_format(final)
    if final.suffix.lower() == ".json":
        write_text(final, json.dumps([dict(r) for r in rows], ensure_ascii=False, indent=2) + "\n")
        return len(rows)
    sheets = list(office) if office and fmt in ("csv", "xlsx") else [(Table(tuple(rows[0]) if rows else (),
                                                                            {}, "指标"), rows)]
    with _open(final, None, [t for t, _ in sheets]) as writer:
        for index, (table, table_rows) in enumerate(sheets):
            into = writer if index == 0 else sheet_of(writer, table.title)
            if into is None:
                continue  # a CSV holds the first table only
            for row in table_rows:
                into.write(row)
    return len(rows)
