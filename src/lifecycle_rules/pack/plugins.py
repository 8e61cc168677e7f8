"""Finding packs: entry-point group ``lifecycle_rules.packs``, or a directory path.

An entry point names a pack id and loads to a directory path, or to a callable that
returns one. A pack that fails to load is reported by name and does not stop the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from lifecycle_rules.core.dates import WorkCalendar
from lifecycle_rules.errors import PackError
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.load import load_pack_dir

GROUP = "lifecycle_rules.packs"


@dataclass(frozen=True)
class PackEntry:
    """One installed pack: its id, where it comes from, and its pack or its load error."""

    id: str
    origin: str
    pack: Pack | None
    error: str | None


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=GROUP), key=lambda ep: ep.name)


def _directory(ep: EntryPoint) -> Path:
    obj = ep.load()
    if callable(obj):
        obj = obj()
    if not isinstance(obj, str | Path):
        raise PackError(f"entry point {ep.value} gave {type(obj).__name__}, not a directory path")
    return Path(obj)


def discover(calendar: WorkCalendar | None = None) -> list[PackEntry]:
    """Every installed pack, loaded (on ``calendar``, by default the years chinesecalendar
    knows); failures are entries with their error, not exceptions."""
    out: list[PackEntry] = []
    for ep in _entry_points():
        origin = f"{ep.value} ({ep.dist.name} {ep.dist.version})" if ep.dist else ep.value
        try:
            pack = load_pack_dir(_directory(ep), calendar=calendar)
        except Exception as exc:  # a broken plugin must not stop the others
            out.append(PackEntry(ep.name, origin, None, f"{type(exc).__name__}: {exc}"))
        else:
            if pack.id != ep.name:
                out.append(PackEntry(ep.name, origin, None,
                                     f"PackError: the pack's id is {pack.id!r}, not {ep.name!r}"))
            else:
                out.append(PackEntry(ep.name, origin, pack, None))
    return out


def load_pack(ref: str | Path, parameters: Mapping[str, Any] | None = None,
              calendar: WorkCalendar | None = None) -> Pack:
    """A pack by id (built-in or plugin) or by path to its directory, on ``calendar``
    (default: the years chinesecalendar knows; the public ``lifecycle_rules.load_pack``
    adds installed calendar packages: ``io.calendars.load_calendar``)."""
    path = Path(ref)
    if isinstance(ref, Path) or "/" in str(ref) or "\\" in str(ref) or path.is_dir():
        return load_pack_dir(path, parameters, calendar)
    matches = [ep for ep in _entry_points() if ep.name == ref]
    if not matches:
        known = ", ".join(ep.name for ep in _entry_points()) or "none"
        raise PackError(f"no pack named {ref!r} is installed (installed: {known}); "
                        "give a pack id or a path to a pack directory")
    return load_pack_dir(_directory(matches[0]), parameters, calendar)
