"""A loaded YAML document validated as a model of the pack format (a pack, a fixture,
a calendar file): the first problem as a PackError at its file, line and key path."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lifecycle_rules.errors import PackError
from lifecycle_rules.kinds import REGISTRY
from lifecycle_rules.pack.yamlfile import CLIP_CHARS, KeyPath, YamlDoc, clip, format_path

# Parts of pydantic's error locations that name a union member, not a key of the data.
_UNION_TAGS = frozenset({*REGISTRY, "function-after", "str", "int"})

_M = TypeVar("_M", bound=BaseModel)


def validate_doc(model: type[_M], doc: YamlDoc, what: str) -> _M:
    """``doc`` as ``model``; the first problem as a PackError with file, line, key path."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        path = _data_path(doc.data, tuple(err["loc"]))
        msg = _message(err)
        if err["type"] == "extra_forbidden":
            msg = f"unknown key (not part of the {what} format; see docs/pack-format.md)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and not isinstance(err["input"], dict | list):
            msg = f"{msg}; got {clip(repr(err['input']))}"
        more = exc.error_count() - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise PackError(msg, file=doc.file, line=doc.line_of(path), path=format_path(path)) from None


def _message(err: Any) -> str:
    """pydantic's message, a long value it quotes clipped (``Input tag '<10 MB>' found using
    'kind' ...``), so that a 10 MB value never makes a 10 MB message; the rest is kept."""
    msg = str(err["msg"]).removeprefix("Value error, ")
    for value in (err.get("input"), *(err.get("ctx") or {}).values()):
        if isinstance(value, str) and len(value) > CLIP_CHARS:
            msg = msg.replace(value, clip(value))
    return clip(msg, 5 * CLIP_CHARS)


def _data_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """pydantic's loc may hold union tags ('deadline'); keep only keys found in the data."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(str(part))  # mapping keys as the YAML text has them (2027:, 1:)
            cur = cur[part]
        elif isinstance(cur, dict) and str(part) in cur:
            out.append(str(part))
            cur = cur[str(part)]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict | list) and (
            isinstance(part, str) and ("[" in part or part in _UNION_TAGS)
        ):
            continue
        else:
            out.append(part)
            break
    return tuple(out)
