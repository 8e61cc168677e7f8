"""Project codes across a run: compared after normalising, each remembered with the
file and row or line it was first seen in, so a second project with one code is
rejected naming both (two projects with one code would give warnings with one key, and
one disposition would close both)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import msgspec

from lifecycle_rules.io.records import LineBlock, Record, Reject


def normal_id(text: str) -> str:
    """A project code as compared and kept: NFKC (full-width digits and letters become
    plain ones), no surrounding spaces."""
    if text.isascii():  # NFKC leaves ASCII as it is
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


class Seen:
    """The project codes of a run, each with the file and row it was first seen in (kept
    as one int a code: about 130 bytes a project, the one thing a run keeps per row)."""

    def __init__(self) -> None:
        self._files: list[str] = []
        self._first: dict[str, int] = {}

    def __contains__(self, code: object) -> bool:
        return code in self._first

    def add(self, code: str, file: str, row: int) -> tuple[str, int] | None:
        """Where ``code`` was seen before (file, row), or None (and it is now seen here)."""
        at = self._first.get(code)
        if at is not None:
            return self._files[at >> 32], at & 0xFFFFFFFF
        if not self._files or self._files[-1] != file:
            self._files.append(file)
        self._first[code] = ((len(self._files) - 1) << 32) | row
        return None


def duplicate(code: str, file: str, before: tuple[str, int]) -> str:
    """The reject message of a code seen before, naming where."""
    first_file, row = before
    where = "row" if not first_file.lower().endswith((".jsonl", ".json", ".ndjson")) else "line"
    return duplicate_at(code, f"{where} {row}" if first_file == file else f"{first_file} {where} {row}")


def duplicate_at(code: str, place: str) -> str:
    """The reject message of a code seen before at ``place`` (``row 3``, ``a.csv row 3``)."""
    return f"项目代码重复: '{code}' 已在 {place} 出现"


class _Project(msgspec.Struct):
    id: str


class _Head(msgspec.Struct):
    project: _Project


_HEAD = msgspec.json.Decoder(_Head)  # reads only the project's code, skipping the rest


def marked(items: Iterator[LineBlock | Record], seen: Seen) -> Iterator[LineBlock | Record]:
    """JSON Lines blocks with the lines whose project code was seen before marked as
    rejects (the workers reject them unread). A line that does not decode here is left to
    the worker, which says why."""
    for item in items:
        if isinstance(item, LineBlock):
            dups: dict[str, Reject] = {}
            for number, line in item.numbered_lines():
                try:
                    code = normal_id(_HEAD.decode(line).project.id)
                except (msgspec.DecodeError, UnicodeDecodeError):
                    continue
                if not code:
                    continue
                before = seen.add(code, item.file, number)
                if before is not None:
                    locator = f"line {number}"
                    dups[locator] = Reject(item.file, locator, code, "project.id", duplicate(code, item.file, before))
            if dups:
                item = LineBlock(item.file, item.first_line, item.data, dups)
        yield item


def checked(record: Record, seen: Seen) -> Record:
    """A parsed JSON Lines record, or its reject if its project code was seen before."""
    history = record.history
    if not isinstance(history, dict) or record.reject is not None:
        return record
    project = history.get("project")
    raw = project.get("id") if isinstance(project, dict) else None
    code = normal_id(raw) if isinstance(raw, str) else ""
    if not code:
        return record
    before = seen.add(code, record.file, int(record.locator.split()[-1]))
    if before is None:
        return record
    message = duplicate(code, record.file, before)
    return Record(record.file, record.locator, None, Reject(record.file, record.locator, code, "project.id", message))
