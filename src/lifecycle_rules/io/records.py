"""What reading an input gives, as readers, the batch runner and writers share it: a
:class:`Record` per input project, a :class:`Reject` that says why a record has no
history, and a :class:`LineBlock` of JSON lines (the batch's unit of work).

Plain values, no I/O: readers make them, the batch runner passes them on, writers
write rejects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["LineBlock", "Note", "Record", "Reject", "Rows", "size_in_words", "undecodable"]


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
    # For a sheet's row: the column (as the file spells it) each field came from, so that a
    # problem the history's validation finds names the column, not a field path.
    columns: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Note:
    """What a reader says of a file that is not a project: the header it read (``header``),
    a column no field takes (``column``), a row that is not a project and was skipped
    (``skipped``: a 合计 row, a note under the table)."""

    file: str
    locator: str
    kind: Literal["header", "column", "skipped"]
    text: str


@dataclass(frozen=True)
class Rows:
    """A project's row of a table read by column names (a database's), with its events'
    rows, not yet read into a history: read where it is evaluated (a worker process),
    since reading every cell is most of what such a table costs
    (``io.readers.tables.deferred`` makes it, ``read_rows`` reads it). Its code was new to
    the run where it was read; a repeated code, a 合计 row, a row without a code are
    Records or Notes already."""

    projects: Any  # the projects table (io.readers.tables' _Sheet: its columns and mapping)
    number: int
    cells: tuple[object, ...]
    events: Any  # the events table, or None
    event_rows: tuple[tuple[int, tuple[object, ...]], ...]


@dataclass(frozen=True)
class LineBlock:
    """Whole lines of a UTF-8 JSON Lines file, as bytes: the batch's unit of work, split
    and parsed in the worker processes (the reading process only cuts the file). A line too
    long to read is not in a block: it comes between blocks as the Record of its reject."""

    file: str
    first_line: int  # the number of the block's first line (1-based)
    data: bytes
    # lines rejected before they were read, by locator (a project code seen before)
    rejected: Mapping[str, Reject] = field(default_factory=dict)

    def lines(self) -> Iterator[tuple[str, bytes]]:
        """(locator, line) for each line that is not blank."""
        for number, raw in self.numbered_lines():
            yield f"line {number}", raw

    def numbered_lines(self) -> Iterator[tuple[int, bytes]]:
        """(line number, line) for each line that is not blank, without its line end."""
        for number, raw in enumerate(self.data.split(b"\n"), self.first_line):
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if raw.strip():
                yield number, raw


def undecodable(encoding: str) -> str:
    """The reject message of a line or cell with bytes the encoding cannot decode."""
    return f"含无法按 {encoding} 解码的字节（可用 encoding= 指定）"


def size_in_words(size: int) -> str:
    """A size in bytes as a message gives it: ``64 MiB``, ``1 GiB``, else ``1000 字节``."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} 字节"
