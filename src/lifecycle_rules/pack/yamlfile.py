"""Safe YAML for packs and fixtures: what the author wrote, with its line numbers.

- Safe loading only; any tag beyond the plain YAML types (``!!python/...``) is an error.
- YAML 1.1 surprises are closed: only ``true``/``false`` are booleans (``no``, ``on``,
  ``yes`` stay strings), ``010`` is the decimal 10, never octal, and ``1:20`` is a string.
- Duplicate keys are an error (PyYAML would keep the last one silently).
- Alias expansion is bounded, so an alias bomb is an error rather than a hang.
- A file read for a directory (a pack's ``pack.yaml``, a fixture) is refused, unread, when it
  is a symlink to somewhere outside that directory.

Also :func:`clip`, how every message of the readers and the pack loader quotes a value.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from lifecycle_rules.errors import PackError

MAX_NODES = 200_000
MAX_BYTES = 5_000_000

KeyPath = tuple[str | int, ...]

CLIP_CHARS = 200  # the most of a value an error message quotes


def clip(text: str, limit: int = CLIP_CHARS) -> str:
    """``text`` as an error message quotes it: whole up to ``limit`` characters; longer, its
    first ``limit`` characters, an ellipsis and the whole length (a 10 MB cell or YAML value
    must not make a 10 MB message)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} chars)"


_LONG = f"{{{CLIP_CHARS + 1},}}"  # a regex repeat: more than CLIP_CHARS
_QUOTED = re.compile(f"'[^']{_LONG}'|\"[^\"]{_LONG}\"")  # a long quoted value


def clip_quoted(message: str) -> str:
    """A message made elsewhere, each value it quotes ('...' or "...") clipped as :func:`clip`
    does, and the whole held to a few times that."""
    if len(message) <= CLIP_CHARS:
        return message
    clipped = _QUOTED.sub(lambda m: m[0][0] + clip(m[0][1:-1]) + m[0][0], message)
    return clip(clipped, 5 * CLIP_CHARS)


class _Loader(yaml.SafeLoader):
    pass


# Start from SafeLoader's resolvers minus bool/int/float, then add YAML 1.2-style ones.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def _int_decimal(loader: _Loader, node: yaml.Node) -> int:
    assert isinstance(node, yaml.ScalarNode)
    return int(str(node.value), 10)  # "010" -> 10: decimal, never octal


_Loader.add_constructor("tag:yaml.org,2002:int", _int_decimal)


class YamlDoc:
    """A loaded document and the line of each key path in it."""

    def __init__(self, data: Any, lines: dict[KeyPath, int], file: str) -> None:
        self.data = data
        self.lines = lines
        self.file = file

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def load_yaml_text(text: str, file: str) -> YamlDoc:
    if len(text) > MAX_BYTES:
        raise PackError(f"file is larger than {MAX_BYTES} bytes", file=file)
    try:
        loader = _Loader(text)  # PyYAML's reader checks the characters here already
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise PackError(f"not valid YAML: the control character U+{code:04X} is not allowed",
                        file=file, line=line) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise PackError(f"not valid YAML: {exc.problem}", file=file, line=_line_of(exc)) from None
        except yaml.YAMLError as exc:
            raise PackError(f"not valid YAML: {exc}", file=file, line=_line_of(exc)) from None
        except RecursionError:
            raise PackError("nested too deeply", file=file, line=loader.line + 1) from None
        if node is None:
            raise PackError("the file is empty", file=file)
        lines: dict[KeyPath, int] = {}
        try:
            _walk(loader, node, (), lines, file, [0], set())
        except RecursionError:
            raise PackError("nested too deeply", file=file) from None
        try:
            data = loader.construct_document(node)
        except yaml.constructor.ConstructorError as exc:
            raise PackError(
                f"{exc.problem} (only plain YAML values are allowed)", file=file, line=_line_of(exc)
            ) from None
        except (ValueError, OverflowError) as exc:
            raise PackError(f"bad value: {clip(str(exc))}", file=file) from None
    finally:
        loader.dispose()
    return YamlDoc(data, lines, file)


def _line_of(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def load_yaml_file(path: str | Path, within: str | Path | None = None) -> YamlDoc:
    """Read and load ``path``; with ``within``, only if the file is really in that directory
    (a symlink to a file outside it is refused, never followed; symlinks inside are fine)."""
    p = Path(path)
    if within is not None:
        check_within(p, within)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise PackError(f"cannot read: {exc.strerror}", file=str(p)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PackError(
            f"not UTF-8 text (byte {exc.start}): save the file as UTF-8", file=str(p)
        ) from None
    return load_yaml_text(text, str(p))


def check_within(path: Path, directory: str | Path) -> None:
    """A PackError naming ``path`` unless it resolves (symlinks followed, as reading would)
    to a file inside ``directory`` (itself resolved)."""
    real = Path(os.path.realpath(path))
    if real.is_relative_to(os.path.realpath(directory)):
        return
    raise PackError(f"a symlink to {clip(str(real))}, outside {clip(str(directory))}: refused, not read",
                    file=str(path))


_CHECKED_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp",
                 "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null")


def _walk(loader: _Loader, node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: str,
          count: list[int], open_nodes: set[int]) -> None:
    count[0] += 1
    line = node.start_mark.line + 1
    if count[0] > MAX_NODES:
        raise PackError(f"more than {MAX_NODES} values after expanding aliases (an alias bomb?)",
                        file=file, line=line)
    lines.setdefault(path, line)
    if isinstance(node, yaml.ScalarNode):
        if node.tag in _CHECKED_TAGS:
            # Build it here, where the line is known: 2024-02-30 or 0x10 get their line.
            try:
                loader.construct_object(node)
            except (ValueError, OverflowError, KeyError, AttributeError, TypeError) as exc:
                # e.g. "!!bool maybe" (KeyError) or "!!timestamp nope" (AttributeError)
                raise PackError(f"bad value {clip(repr(node.value))} for {node.tag.rsplit(':', 1)[-1]}: "
                                f"{clip(str(exc))}",
                                file=file, line=line, path=format_path(path)) from None
        return
    if id(node) in open_nodes:
        raise PackError("an alias refers to a value that contains it (recursive alias)",
                        file=file, line=line, path=format_path(path))
    open_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise PackError("merge keys (<<) are not supported", file=file,
                                line=key_node.start_mark.line + 1)
            key: str | int = str(key_node.value)
            if key in seen:
                raise PackError(
                    f"duplicate key {clip(repr(key))} (first on line {seen[key]})",
                    file=file, line=key_node.start_mark.line + 1,
                    path=format_path((*path, key)),
                )
            seen[key] = key_node.start_mark.line + 1
            _walk(loader, value_node, (*path, key), lines, file, count, open_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(loader, item, (*path, i), lines, file, count, open_nodes)
    open_nodes.discard(id(node))


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{clip(part)}" if out else clip(str(part)))
    return out or "(top)"


def parse_path(text: str) -> KeyPath:
    """``format_path`` read back: ``calendar.2027.holidays[1]`` -> ("calendar", "2027",
    "holidays", 1): mapping keys as text, list indices as numbers."""
    return tuple(int(index) if index else key for index, key in re.findall(r"\[(\d+)\]|([^.\[\]]+)", text))
