"""Portfolio rates (江阴 一、12: 签约项目备案率, 备案项目开工率, 当年投入完成率, 项目竣工投产率,
最终产能达效率): pure functions over many histories, as the pack declares them.

A ``count`` rate counts the projects of its denominator set, and among them those also
in its numerator set; its window is the calendar year of ``as_of`` up to ``as_of``
(``year``), or everything up to ``as_of`` (``all``). A ``sum`` rate adds one amount of the
reports filed by ``as_of`` (the last filing of a period that gives the amount counts):
with ``window: year``, over the periods that are **the twelve months of as_of's year** (a
year's completion is measured against the whole year's figures: 江阴's 当年投入完成率 is the
year's investment over the year's plan, not over the months so far); with ``window: all``,
over every period up to ``as_of``. Events after ``as_of`` are not seen.

A rate with an empty denominator has no value (None), never 0 or 100%. Nor has a
year-window ``sum`` rate whose denominator is incomplete: a project that reports on a
month of the year and gives no denominator figure for another month of it (a month not
reported yet, or reported without amounts). No figure is guessed: ``missing`` lists each
such month with the number of projects that lack it, and ``notes`` says so in words.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from lifecycle_rules.core.dates import month_of, parse_iso_date
from lifecycle_rules.core.facts import Facts
from lifecycle_rules.core.history import History, parse_history
from lifecycle_rules.errors import HistoryError
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.spec import ProjectSet, RateDef, ReportSum


@dataclass(frozen=True)
class RateValue:
    id: str
    name: str
    clause: str
    numerator: float
    denominator: float
    window_start: dt.date | None
    window_end: dt.date
    # A year-window sum rate's months whose denominator figure some reporting project
    # lacks: (period, number of projects), in month order. Non-empty: no value.
    missing: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def value(self) -> float | None:
        if not self.denominator or self.missing:
            return None
        return float(Fraction(self.numerator).limit_denominator(10**9)
                     / Fraction(self.denominator).limit_denominator(10**9))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "clause": self.clause,
            "numerator": self.numerator, "denominator": self.denominator,
            "value": None if self.value is None else round(self.value, 6),
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "window_end": self.window_end.isoformat(),
            "notes": list(self.notes),
            "missing": [{"period": period, "projects": n} for period, n in self.missing],
        }


@dataclass
class _Tally:
    num: float = 0.0
    den: float = 0.0
    missing: Counter[tuple[int, int]] = field(default_factory=Counter)


def _window(rate: RateDef, as_of: dt.date) -> dt.date | None:
    return dt.date(as_of.year, 1, 1) if rate.window == "year" else None


def _in(day: dt.date | None, start: dt.date | None, end: dt.date, within: str) -> bool:
    if day is None or day > end:
        return False
    return within == "ever" or start is None or day >= start


def _member(s: ProjectSet, facts: Facts, start: dt.date | None, end: dt.date) -> bool:
    if s.step_completed is not None:
        day = facts.done_on(s.step_completed)
    else:
        plan = facts.history.plan
        day = {"start": plan.start, "completion": plan.completion,
               "production": plan.production}[s.plan or "start"]
    return _in(day, start, end, s.within)


def _amounts(s: ReportSum, facts: Facts, year: int | None, end: dt.date) -> dict[tuple[int, int], float | None]:
    """Each reported period in the rate's periods -> its amount: that of the last filing
    that gives one (None if no filing of the period does). ``year``: the twelve months of
    that year; None: every period whose month has begun by ``end``."""
    out: dict[tuple[int, int], float | None] = {}
    for _, e in facts.of_type(s.report):  # sorted by date: a later filing replaces
        if e.period is None:
            continue
        y, m = month_of(e.period)
        outside = y != year if year is not None else dt.date(y, m, 1) > end
        if outside:
            continue
        value = getattr(e, s.field)
        if value is not None:
            out[y, m] = value
        else:  # reported without the amount (a compliant: false dispatch report)
            out.setdefault((y, m), None)
    return out


def _add_sums(rate: RateDef, tally: _Tally, facts: Facts, day: dt.date) -> None:
    assert isinstance(rate.numerator, ReportSum) and isinstance(rate.denominator, ReportSum)
    year = day.year if rate.window == "year" else None
    num = _amounts(rate.numerator, facts, year, day)
    den = _amounts(rate.denominator, facts, year, day)
    tally.num += sum(v for v in num.values() if v is not None)
    tally.den += sum(v for v in den.values() if v is not None)
    if year is not None and den:  # the project reports in the year: its whole year is due
        tally.missing.update((year, m) for m in range(1, 13) if den.get((year, m)) is None)


def _missing_note(rate: RateDef, missing: tuple[tuple[str, int], ...], as_of: dt.date) -> tuple[str, ...]:
    """The missing months in words, consecutive months with the same count as one run
    (``2024-08..2024-12 (2 projects)``); they all lie in as_of's year."""
    if not missing:
        return ()
    assert isinstance(rate.denominator, ReportSum)
    runs: list[tuple[str, str, int]] = []  # (first period, last period, projects)
    for period, n in missing:
        if runs and runs[-1][2] == n and month_of(runs[-1][1])[1] + 1 == month_of(period)[1]:
            runs[-1] = (runs[-1][0], period, n)
        else:
            runs.append((period, period, n))
    months = ", ".join(f"{a}{'' if a == b else '..' + b} ({n} project{'s' if n > 1 else ''})"
                       for a, b, n in runs)
    return (f"the year's {rate.denominator.field} is incomplete: no {rate.denominator.report} "
            f"filed by {as_of.isoformat()} gives it for {months}; no value until every "
            "reporting project gives all twelve months (no figure is guessed)",)


def portfolio_rates(
    pack: Pack,
    histories: Iterable[History | Mapping[str, Any] | str | bytes],
    as_of: dt.date | str,
    *,
    on_error: Callable[[int, HistoryError], None] | None = None,
) -> list[RateValue]:
    """Every rate the pack declares, over ``histories`` (streamed once), on ``as_of``.

    Projects outside the pack's scope are not counted. An invalid history raises its
    HistoryError, or, with ``on_error``, is reported (with its 0-based position) and left
    out of every rate."""
    from lifecycle_rules.pack.conditions import matches

    day = parse_iso_date(as_of)
    rates = pack.spec.rates
    tallies = [_Tally() for _ in rates]
    for index, raw in enumerate(histories):
        try:
            hist = parse_history(raw)
            if not matches(pack.spec.scope, hist.project):
                continue
            facts = Facts.build(pack, hist, day)
        except HistoryError as exc:
            if on_error is None:
                raise
            on_error(index, exc)
            continue
        for rate, tally in zip(rates, tallies, strict=True):
            start = _window(rate, day)
            if isinstance(rate.denominator, ProjectSet):
                assert isinstance(rate.numerator, ProjectSet)
                if _member(rate.denominator, facts, start, day):
                    tally.den += 1
                    if _member(rate.numerator, facts, start, day):
                        tally.num += 1
            else:
                _add_sums(rate, tally, facts, day)
    out: list[RateValue] = []
    for r, t in zip(rates, tallies, strict=True):
        missing = tuple((f"{y:04d}-{m:02d}", n) for (y, m), n in sorted(t.missing.items()))
        out.append(RateValue(r.id, r.name, r.clause, t.num, t.den, _window(r, day), day,
                             missing, _missing_note(r, missing, day)))
    return out
