"""lifecycle_rules: investment-project lifecycle warnings from city rule packs.

    from lifecycle_rules import load_pack, evaluate
    pack = load_pack("jiande")
    result = evaluate(pack, history, as_of="2024-11-30")

Past one process, each with its optional extra: ``lifecycle_rules.arrow`` (Arrow record
batches in and out, the seam Spark and Dask run through), ``lifecycle_rules.spark``
(Spark DataFrames) and ``lifecycle_rules.db`` (database tables in and out).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping as _Mapping
from typing import Any as _Any

from lifecycle_rules.core.dates import WorkCalendar
from lifecycle_rules.core.engine import evaluate as _evaluate_native
from lifecycle_rules.core.engine import evaluate_many
from lifecycle_rules.core.explain import Explanation, explain
from lifecycle_rules.core.history import Event, History, Plan, Project, parse_history
from lifecycle_rules.core.results import ProjectWarning, Result
from lifecycle_rules.errors import CalendarError, HistoryError, LifecycleRulesError, PackError
from lifecycle_rules.io.calendars import load_calendar
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.plugins import PackEntry, discover
from lifecycle_rules.pack.plugins import load_pack as _load_pack

__version__ = "0.1.0"

# The warning class's name before 0.2: it shadows the builtin ``Warning``, so it is not
# in ``__all__``; it stays importable for code written against 0.1.
Warning = ProjectWarning


def load_pack(ref: str | object, parameters: dict[str, object] | None = None,
              calendar: WorkCalendar | None = None, *, as_of: _dt.date | str | None = None,
              allow_outside_effective: bool = False) -> Pack:
    """A pack by id (built-in or plugin), by ``id@version``, or by path to its directory;
    ``parameters`` overrides the pack's stated defaults (e.g. 建德's unpublished red limits);
    ``calendar`` is the working-day calendar it runs on (default: ``load_calendar()``,
    installed calendar packages and chinesecalendar). With ``as_of``, the version in force
    that day is taken, and a day outside its effective dates is a PackError unless
    ``allow_outside_effective`` (docs/pack-format.md, ``effective``)."""
    from pathlib import Path

    if not isinstance(ref, str | Path):
        raise TypeError("load_pack takes a pack id or a directory path")
    return _load_pack(ref, parameters, calendar if calendar is not None else load_calendar(), as_of,
                      allow_outside_effective)


def evaluate(
    pack: Pack,
    history: History | _Mapping[str, _Any] | str | bytes,
    as_of: _dt.date | str,
    *,
    include_closed: bool = False,
    engine: str = "native",
    calendar: WorkCalendar | None = None,
) -> Result:
    """The warnings of one project that stand on ``as_of`` (a date in Asia/Shanghai).

    Pure: no I/O, no clock, no globals. ``calendar`` (from ``load_calendar``) is the
    working-day calendar of the run; by default the pack's. A working-day clock that
    reaches a year the calendar does not know is a notice (``calendar: ...``) naming
    the year, never a guess and never an error. ``engine="durable"`` evaluates the same
    pack on the second, independent engine (durable-rules; the optional extra
    ``durable``), which gives equal results and serves to check the first."""
    if engine == "native":
        return _evaluate_native(pack, history, as_of, include_closed=include_closed, calendar=calendar)
    from lifecycle_rules.engines import get_engine

    if calendar is not None:
        pack = pack.with_calendar(calendar)
    return get_engine(engine)(pack, history, as_of, include_closed)


def discover_packs() -> list[PackEntry]:
    """Every installed pack (entry-point group ``lifecycle_rules.packs``), with load errors."""
    return discover(load_calendar())


__all__ = [
    "CalendarError",
    "Event",
    "Explanation",
    "History",
    "HistoryError",
    "LifecycleRulesError",
    "Pack",
    "PackEntry",
    "PackError",
    "Plan",
    "Project",
    "ProjectWarning",
    "Result",
    "WorkCalendar",
    "__version__",
    "discover_packs",
    "evaluate",
    "evaluate_many",
    "explain",
    "load_calendar",
    "load_pack",
    "parse_history",
]
