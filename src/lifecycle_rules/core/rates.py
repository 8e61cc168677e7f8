"""Portfolio rates (江阴 一、12: 签约项目备案率, 备案项目开工率, 当年投入完成率, 项目竣工投产率,
最终产能达效率): pure functions over many histories, as the pack declares them.

A ``count`` rate counts the projects of its denominator set, and among them those also
in its numerator set; a ``sum`` rate adds one amount of the reports whose period falls
in the window. The window is the calendar year of ``as_of`` up to ``as_of`` (``year``),
or everything up to ``as_of`` (``all``). Events after ``as_of`` are not seen. A rate with
an empty denominator has no value (None), never 0 or 100%.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
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

    @property
    def value(self) -> float | None:
        if not self.denominator:
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
        }


@dataclass
class _Tally:
    num: float = 0.0
    den: float = 0.0


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


def _report_sum(s: ReportSum, facts: Facts, start: dt.date | None, end: dt.date) -> float:
    last: dict[str, float] = {}
    for _, e in facts.of_type(s.report):
        if e.period is None:
            continue
        y, m = month_of(e.period)
        first_day = dt.date(y, m, 1)
        if first_day > end or (start is not None and first_day < start):
            continue
        value = getattr(e, s.field)
        if value is not None:
            last[e.period] = value  # sorted by date: the last report of a period wins
    return sum(last.values())


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
                assert isinstance(rate.numerator, ReportSum)
                tally.den += _report_sum(rate.denominator, facts, start, day)
                tally.num += _report_sum(rate.numerator, facts, start, day)
    return [
        RateValue(r.id, r.name, r.clause, t.num, t.den, _window(r, day), day)
        for r, t in zip(rates, tallies, strict=True)
    ]
