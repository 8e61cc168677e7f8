"""The column mapping (``columns.yaml``, beside this module, and a user's file laid over
it): which header means which field, which cell words mean which value; and a header
row resolved against it into the columns a sheet is read by."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml

from lifecycle_rules.io.readers.values import _is_empty, _norm, _text

_COLUMN_SECTIONS = ("project", "plan", "milestones", "events")
_PROJECT_SECTIONS = ("project", "plan", "milestones")
_VALUE_SECTIONS = ("sectors", "booleans", "event_types", "actions")


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
