"""The run's working-day calendar: calendar files, installed calendar packages and
``chinesecalendar``. Not part of the pure core: this module reads files and entry points;
the core takes the ``WorkCalendar`` it builds.

Each source gives whole years. For a year, the first source that gives it wins:

1. calendar files named by the run (``--calendar FILE``, ``load_calendar(FILE)``);
2. installed calendar packages (entry-point group ``lifecycle_rules.calendars``);
3. ``chinesecalendar``;
4. a pack's own ``calendar:`` years (``Pack.with_calendar`` puts them last).

A file holds the pack ``calendar:`` format: top-level keys are years, each with
``source`` (the State Council notice it copies), ``holidays`` (rest days) and
``workdays`` (调休 make-up workdays, weekend days only). Its errors name the file, line
and key. Two files, or two packages, that give one year differently are an error (which
to trust is not guessed); a package that fails to load is reported and its years not
used.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from pydantic import RootModel

from lifecycle_rules.core.dates import WorkCalendar, YearSchedule, layered, package_years
from lifecycle_rules.errors import CalendarError, PackError
from lifecycle_rules.pack.compile import schedule_years
from lifecycle_rules.pack.plugins import PluginFailure, contained_all
from lifecycle_rules.pack.plugins import timeout as plugin_timeout
from lifecycle_rules.pack.spec import CalendarYear
from lifecycle_rules.pack.validate import validate_doc
from lifecycle_rules.pack.yamlfile import YamlDoc, load_yaml_file, parse_path

GROUP = "lifecycle_rules.calendars"  # the entry-point group of calendar packages (README)
WARN_DAYS = 60  # warn when the schedule ends this close to a run's day


class CalendarFile(RootModel[dict[int, CalendarYear]]):
    """A calendar file: years, each as in a pack's ``calendar:``."""


def read_calendar(doc: YamlDoc, origin: str) -> dict[int, YearSchedule]:
    """A parsed calendar file's years, checked; errors at their file, line and key."""
    try:
        if not isinstance(doc.data, dict):
            raise CalendarError("a calendar file maps years (2027: ...) to their schedule", file=doc.file)
        model = validate_doc(CalendarFile, doc, "calendar file")
        for year in model.root:
            if not 1900 <= year <= 2199:
                raise CalendarError(f"year {year} is out of range (1900-2199)", path=str(year))
        return schedule_years(model.root, origin)
    except (CalendarError, PackError) as exc:
        line = exc.line if exc.line is not None or exc.path is None else doc.line_of(parse_path(exc.path))
        raise CalendarError(exc.detail, file=exc.file or doc.file, line=line, path=exc.path) from None


def read_calendar_file(path: str | Path) -> dict[int, YearSchedule]:
    try:
        doc = load_yaml_file(path)
    except PackError as exc:
        raise CalendarError(exc.detail, file=exc.file or str(path), line=exc.line, path=exc.path) from None
    return read_calendar(doc, f"file {path}")


@dataclass(frozen=True)
class CalendarPackage:
    """One installed calendar package: its name, where it comes from, its years or its error."""

    name: str
    origin: str
    years: Mapping[int, YearSchedule]
    error: str | None


def _load_entry(ep: EntryPoint, origin: str) -> dict[int, YearSchedule]:
    obj: Any = ep.load()
    if callable(obj):
        obj = obj()
    if isinstance(obj, str | Path):
        years = read_calendar_file(obj)
        return {y: _with_origin(s, f"{origin}, {s.origin}") for y, s in years.items()}
    if isinstance(obj, Mapping):
        return read_calendar(YamlDoc(dict(obj), {}, origin), origin)
    raise CalendarError(f"entry point {ep.value} gave {type(obj).__name__}, not a calendar file "
                        "path or a mapping of years")


def _with_origin(s: YearSchedule, origin: str) -> YearSchedule:
    return YearSchedule(s.year, s.holidays, s.workdays, s.source, origin)


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=GROUP), key=lambda e: e.name)


@lru_cache(maxsize=1)
def installed_packages() -> tuple[CalendarPackage, ...]:
    """Every installed calendar package, loaded once per process; a broken one is an entry
    with its error (one line), never an exception.

    Each package's entry point is loaded in its own daemon thread, all at once, and waited
    on for ``plugins.timeout()`` seconds (10 s; ``LR_PLUGIN_TIMEOUT``): one that raises,
    calls ``sys.exit`` or has not returned by then is an entry with its error. A thread
    that did not return is left running (it cannot be killed; a daemon, it does not keep
    the process alive). ``KeyboardInterrupt`` is let through."""
    eps = _entry_points()
    origins = [f"package {ep.dist.name} {ep.dist.version}" if ep.dist else f"entry point {ep.value}"
               for ep in eps]
    loaded = contained_all([partial(_load_entry, ep, origin) for ep, origin in zip(eps, origins, strict=True)],
                           plugin_timeout())
    out: list[CalendarPackage] = []
    for ep, origin, years in zip(eps, origins, loaded, strict=True):
        if isinstance(years, PluginFailure):  # a broken plugin must not stop the run
            out.append(CalendarPackage(ep.name, origin, {}, str(years)))
        else:
            out.append(CalendarPackage(ep.name, origin, years, None))
    return tuple(out)


def _merge(sources: Iterable[tuple[str, Mapping[int, YearSchedule]]], what: str) -> dict[int, YearSchedule]:
    """Years of sources of one rank: a year given twice must be given alike."""
    out: dict[int, YearSchedule] = {}
    for _, years in sources:
        for year, sched in years.items():
            have = out.get(year)
            if have is None:
                out[year] = sched
            elif (have.holidays, have.workdays) != (sched.holidays, sched.workdays):
                raise CalendarError(f"{year} is given differently by {have.origin} and {sched.origin}; "
                                    f"which {what} is right is not guessed: keep one")
    return out


def load_calendar(*files: str | Path, installed: bool = True) -> WorkCalendar:
    """The run's calendar: ``files`` first, then installed calendar packages (unless
    ``installed=False``), then ``chinesecalendar``. Pass it to ``evaluate(...,
    calendar=)`` or ``load_pack(..., calendar=)``."""
    given = _merge(((str(f), read_calendar_file(f)) for f in files), "file")
    packages: dict[int, YearSchedule] = {}
    if installed:
        usable = [(p.name, {y: s for y, s in p.years.items() if y not in given})
                  for p in installed_packages() if p.error is None]
        packages = _merge(usable, "package")
    return WorkCalendar(layered(given, packages, package_years()))


def end_warning(calendar: WorkCalendar, day: dt.date, what: str) -> str | None:
    """A warning when the schedule ends within WARN_DAYS of ``day`` (or before it)."""
    end = calendar.last_known_day(day)
    if end is None:
        return (f"the working-day schedule does not know {day.year}, the year of {what} {day.isoformat()}: "
                "working-day clocks reaching it are notices, not warnings; add the year's State Council "
                "notice as a calendar file (see `lifecycle-rules calendar`)")
    left = (end - day).days
    if left > WARN_DAYS:
        return None
    return (f"the working-day schedule ends on {end.isoformat()}, {left} day(s) after {what} "
            f"{day.isoformat()}; the {end.year + 1} schedule is not known: add it as a calendar file "
            "the day the State Council publishes it (see `lifecycle-rules calendar`)")


def run_calendar(files: list[Path]) -> WorkCalendar:
    """The run's calendar; calendar packages that failed to load are said on stderr."""
    for p in installed_packages():
        if p.error is not None:
            print(f"lifecycle-rules: warning: calendar package {p.name} ({p.origin}) failed to load, its "
                  f"years are not used: {p.error}", file=sys.stderr)
    return load_calendar(*files)


def command(calendar: WorkCalendar, pack_ref: str | None, as_of: dt.date | None) -> int:
    """`lifecycle-rules calendar`: each known year and its source; warnings on stderr."""
    from lifecycle_rules.pack.compile import pack_years
    from lifecycle_rules.pack.plugins import load_pack

    if pack_ref:
        pack = load_pack(pack_ref)
        calendar = calendar.over(pack_years(pack.spec, pack.source))
    rows: list[list[Any]] = []  # [first, last, origin, source]
    for year, sched in calendar.years.items():
        if rows and rows[-1][1] == year - 1 and rows[-1][2:] == [sched.origin, sched.source]:
            rows[-1][1] = year
        else:
            rows.append([year, year, sched.origin, sched.source])
    print("years\tfrom\tsource")
    for first, last, origin, source in rows:
        span = str(first) if first == last else f"{first}-{last}"
        print(f"{span}\t{origin}\t{source}")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()  # Asia/Shanghai
    warned = False
    for day, what in ((today, "today"), (as_of, "--as-of")):
        said = end_warning(calendar, day, what) if day is not None else None
        if said:
            print(f"lifecycle-rules: warning: {said}", file=sys.stderr)
            warned = True
    if not warned:
        end = calendar.last_known_day(today)
        print(f"lifecycle-rules: the schedule is known up to {end}", file=sys.stderr)
    return 1 if any(p.error for p in installed_packages()) else 0
