"""The column mapping (``columns.yaml``, beside this module, and a user's file laid over
it): which header means which field, which cell words mean which value; and a header
row resolved against it into the columns a sheet is read by."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml

from lifecycle_rules.io.readers.values import UNITS, _norm

_COLUMN_SECTIONS = ("project", "plan", "milestones", "events")
_IGNORED = "ignored"  # headers of columns that carry nothing for the rules (序号, 备注 ...)
_PROJECT_SECTIONS = ("project", "plan", "milestones")
_VALUE_SECTIONS = ("sectors", "booleans", "event_types", "actions")


@dataclass(frozen=True)
class _Mapping:
    columns: dict[str, dict[str, tuple[str, ...]]]
    ignored: frozenset[str]  # normalised headers
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
    unit: int | Fraction = 1  # an amount column's unit from its header (（亿元） -> 10000), to 万元

    def __hash__(self) -> int:  # a row's values are keyed by column: the index says which, cheaply
        return self.index


def _validate_mapping(raw: object, source: str) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        got = type(raw).__name__
        raise ValueError(f"mapping {source}: expected a YAML mapping of sections, got {got}")
    result: dict[str, dict[str, Any]] = {}
    for section, body in raw.items():
        if section == _IGNORED:
            if body is None:
                continue
            if not isinstance(body, list) or not all(isinstance(a, str) for a in body):
                raise ValueError(f"mapping {source}: section 'ignored' should be a list of headers")
            result[section] = {_norm(a): True for a in body}
            continue
        if section not in _COLUMN_SECTIONS + _VALUE_SECTIONS:
            known = ", ".join((*_COLUMN_SECTIONS, *_VALUE_SECTIONS, _IGNORED))
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


def _load_mapping(path: str | Path | None, pack: tuple[str, Mapping[str, Any]] | None = None) -> _Mapping:
    """The default mapping, a pack's own synonyms over it (``pack``: its id and its
    ``columns:``), and the file at ``path`` over both."""
    merged = _validate_mapping(yaml.safe_load(_default_mapping_text()), "columns.yaml (default)")
    source = "columns.yaml (default)"
    if pack is not None and pack[1]:
        source = f"pack {pack[0]} columns"
        for section, entries in _validate_mapping(dict(pack[1]), source).items():
            merged[section] = {**merged.get(section, {}), **entries}
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
        ignored=frozenset(merged.get(_IGNORED, {})),
        sectors=cast(dict[str, str], merged.get("sectors", {})),
        booleans=cast(dict[str, bool], merged.get("booleans", {})),
        event_types=cast(dict[str, str], merged.get("event_types", {})),
        actions=cast(dict[str, str], merged.get("actions", {})),
    )


# A unit in a header: 总投资（亿元） is 总投资 in 亿元.
_HEADER_UNIT = re.compile(r"(.*?)[(（]\s*(亿元|万元|元)\s*[)）]")


def _lookup(mapping: _Mapping, sections: Sequence[str]) -> dict[str, tuple[str, str, int]]:
    lookup: dict[str, tuple[str, str, int]] = {}
    rank = 0
    for section in sections:
        for name, aliases in mapping.columns[section].items():
            for alias in aliases:
                lookup[_norm(alias)] = (section, name, rank)
            rank += 1
    return lookup


def _match(lookup: dict[str, tuple[str, str, int]], text: str) -> tuple[tuple[str, str, int], int | Fraction] | None:
    """A header's field, and the unit its header names (1 if none)."""
    hit = lookup.get(_norm(text))
    if hit is not None:
        return hit, 1
    unit = _HEADER_UNIT.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if unit is not None:
        hit = lookup.get(_norm(unit.group(1)))
        if hit is not None:
            return hit, UNITS[unit.group(2)]
    return None


def _knows(mapping: _Mapping, sections: Sequence[str], texts: Iterable[str]) -> bool:
    """Does the mapping know any of these headers (as a field, or as a column to ignore)?"""
    lookup = _lookup(mapping, sections)
    return any(_match(lookup, t) is not None or _norm(t) in mapping.ignored for t in texts)


def _resolve_header(
    file: str,
    names: Sequence[tuple[int, str, tuple[str, ...]]],
    mapping: _Mapping,
    sections: Sequence[str],
    required: Sequence[tuple[str, str]],
) -> tuple[list[_Column], list[tuple[int, str]], list[tuple[int, str]]]:
    """The columns a sheet is read by, from its header: (column index, the header as the
    file shows it, the names to try in order). Returns the mapped columns, the columns
    the mapping ignores, and the columns no field takes (index, header)."""
    lookup = _lookup(mapping, sections)
    found: dict[tuple[str, str], _Column] = {}
    ignored: list[tuple[int, str]] = []
    unknown: list[tuple[int, str]] = []
    for index, shown, tries in names:
        match = next((m for t in tries if (m := _match(lookup, t)) is not None), None)
        if match is None:
            if any(_norm(t) in mapping.ignored for t in tries):
                ignored.append((index, shown))
            else:
                unknown.append((index, shown))
            continue
        (section, name, order), unit = match
        # Two date columns may give one milestone (拿地日期 and 落地日期 both say 落地: the
        # earlier counts); any other field takes one column.
        key = (section, name if section != "milestones" else f"{name}#{index}")
        if key in found:
            other = found[key].header
            raise ValueError(f"{file}: columns {other!r} and {shown!r} both map to {name}; keep one or pass mapping=")
        found[key] = _Column(index, shown, section, name, order, unit)
    for section, name in required:
        if (section, name) not in found:
            aliases = mapping.columns[section].get(name, ())
            shown_name = aliases[0] if aliases else name
            others = f" (or one of: {', '.join(aliases[1:])})" if len(aliases) > 1 else ""
            raise ValueError(f"{file}: missing required column {shown_name}{others}")
    return sorted(found.values(), key=lambda c: c.rank), ignored, unknown


def load_mapping(path: str | Path | None = None, pack: tuple[str, Mapping[str, Any]] | None = None) -> _Mapping:
    """The column mapping of a run: the default columns.yaml, a pack's own ``columns:``
    (``pack``: its id and them) over it, and the file at ``path`` over both."""
    return _load_mapping(path, pack)
