"""lifecycle_rules: investment-project lifecycle warnings from city rule packs.

    from lifecycle_rules import load_pack, evaluate
    pack = load_pack("jiande")
    result = evaluate(pack, history, as_of="2024-11-30")
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping as _Mapping
from typing import Any as _Any

from .engine import evaluate as _evaluate_native
from .engine import evaluate_many
from .errors import CalendarError, HistoryError, LifecycleRulesError, PackError
from .models import Event, History, Plan, Project, Result, Warning, parse_history
from .pack import Pack
from .plugins import PackEntry, discover
from .plugins import load_pack as _load_pack

__version__ = "0.1.0"


def load_pack(ref: str | object, parameters: dict[str, object] | None = None) -> Pack:
    """A pack by id (built-in or plugin) or by path to its directory; ``parameters``
    overrides the pack's stated defaults (e.g. 建德's unpublished red limits)."""
    from pathlib import Path

    if not isinstance(ref, str | Path):
        raise TypeError("load_pack takes a pack id or a directory path")
    return _load_pack(ref, parameters)


def evaluate(
    pack: Pack,
    history: History | _Mapping[str, _Any] | str | bytes,
    as_of: _dt.date | str,
    *,
    include_closed: bool = False,
    engine: str = "native",
) -> Result:
    """The warnings of one project that stand on ``as_of`` (a date in Asia/Shanghai).

    Pure: no I/O, no clock, no globals. ``engine="durable"`` evaluates the same pack on
    the second, independent engine (durable-rules; the optional extra ``durable``),
    which gives equal results and serves to check the first."""
    if engine == "native":
        return _evaluate_native(pack, history, as_of, include_closed=include_closed)
    from .engines import get_engine

    return get_engine(engine)(pack, history, as_of, include_closed)


def discover_packs() -> list[PackEntry]:
    """Every installed pack (entry-point group ``lifecycle_rules.packs``), with load errors."""
    return discover()


__all__ = [
    "CalendarError",
    "Event",
    "History",
    "HistoryError",
    "LifecycleRulesError",
    "Pack",
    "PackEntry",
    "PackError",
    "Plan",
    "Project",
    "Result",
    "Warning",
    "__version__",
    "discover_packs",
    "evaluate",
    "evaluate_many",
    "load_pack",
    "parse_history",
]
