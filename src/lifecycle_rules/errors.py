"""Errors raised by lifecycle_rules. Every one says where: file, line, key path; or
project id, event index and field."""

from __future__ import annotations


class LifecycleRulesError(Exception):
    """Base class of every error this package raises on purpose."""


class _Located(LifecycleRulesError):
    """An error in a file: names the file, line, key path and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        path: str | None = None,
        pack: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.path = path
        self.pack = pack
        self.detail = message
        where = ""
        if file:
            where = file + (f":{line}" if line else "")
        if path:
            where = f"{where} at {path}" if where else f"at {path}"
        super().__init__(f"{where}: {message}" if where else message)


class PackError(_Located):
    """A rule pack that cannot be loaded: names the file, line, key path and what was expected."""


class CalendarError(_Located, ValueError):
    """The working-day schedule cannot answer: a day of a year it does not know was asked
    for (never a guess), or a calendar file or package cannot be used (file, line, key)."""


class HistoryError(LifecycleRulesError, ValueError):
    """A project history that does not fit SPEC §3: names the project id, event index, field."""

    def __init__(
        self,
        message: str,
        *,
        project_id: str | None = None,
        event_index: int | None = None,
        field: str | None = None,
    ) -> None:
        self.project_id = project_id
        self.event_index = event_index
        self.field = field
        self.detail = message
        parts = [f"project {project_id!r}" if project_id is not None else "project (no id)"]
        if event_index is not None:
            parts.append(f"event {event_index}")
        if field:
            parts.append(f"field {field!r}")
        super().__init__(f"{', '.join(parts)}: {message}")

    def to_dict(self) -> dict[str, object]:
        return {
            "project_id": self.project_id,
            "event_index": self.event_index,
            "field": self.field,
            "message": self.detail,
        }
