"""Loading a rule pack from its directory: YAML -> validated ``PackSpec`` -> compiled
``Pack``. Every error names the file, line, key path and what was expected."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lifecycle_rules.core.dates import WorkCalendar
from lifecycle_rules.errors import PackError
from lifecycle_rules.pack.compile import Pack, compile_pack
from lifecycle_rules.pack.spec import PackSpec
from lifecycle_rules.pack.validate import validate_doc
from lifecycle_rules.pack.yamlfile import YamlDoc, clip_quoted, load_yaml_file, parse_path

PACK_FILE = "pack.yaml"


def load_pack_dir(directory: str | Path, parameters: Mapping[str, Any] | None = None,
                  calendar: WorkCalendar | None = None) -> Pack:
    """Load ``<directory>/pack.yaml``, on ``calendar`` (default: the years chinesecalendar
    knows; ``io.calendars.load_calendar()`` adds calendar packages and files). A
    ``pack.yaml`` that is a symlink to a file outside the directory is refused, unread."""
    d = Path(directory)
    file = d / PACK_FILE
    if not file.is_file():
        raise PackError(f"no {PACK_FILE} in this directory", file=str(d))
    doc = load_yaml_file(file, within=d)
    spec = validate_spec(doc)
    try:
        pack = compile_pack(spec, str(d), None, calendar)
    except PackError as exc:
        raise _locate(exc, doc) from None
    if parameters:
        pack = pack.with_parameters(parameters)
    return pack


def validate_spec(doc: YamlDoc) -> PackSpec:
    return validate_doc(PackSpec, doc, "pack")


def _locate(exc: PackError, doc: YamlDoc) -> PackError:
    """The compiler's error at its place in the file, a value it quotes clipped."""
    detail = clip_quoted(exc.detail)
    if exc.file is not None or exc.path is None:
        if detail == exc.detail:
            return exc
        return PackError(detail, file=exc.file, line=exc.line, path=exc.path, pack=exc.pack)
    line = doc.line_of(parse_path(exc.path))
    return PackError(detail, file=doc.file, line=line, path=exc.path, pack=exc.pack)
