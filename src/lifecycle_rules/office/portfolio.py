"""A portfolio for the office's paperwork: the input files read once, every history kept
(parsed), and the pure function run on as many days as a bulletin needs (the month's
first day, ``as_of``, each month end of a trend). Nothing is lost: every record is a
history or a reject naming file, row and column; every result's notices are kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle_rules.core.engine import evaluate, read_history
from lifecycle_rules.core.facts import Facts
from lifecycle_rules.core.history import HistoryView
from lifecycle_rules.core.results import Result
from lifecycle_rules.core.vocabulary import FIRST_DAY
from lifecycle_rules.errors import HistoryError
from lifecycle_rules.io.batch import history_reject
from lifecycle_rules.io.readers import Note, Record, Reject, Seen, read_histories
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.conditions import matches


@dataclass(frozen=True)
class Entry:
    """One project of the portfolio: where it came from and its history (decoded once)."""

    file: str
    locator: str
    history: HistoryView


@dataclass
class Portfolio:
    """The projects of the input files, and what could not be read."""

    pack: Pack
    entries: list[Entry] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    _cache: dict[tuple[dt.date, bool], list[Result]] = field(default_factory=dict, repr=False)

    def results(self, day: dt.date, *, include_closed: bool = True) -> list[Result]:
        """Every project's Result on ``day``, in input order (computed once per day)."""
        key = (day, include_closed)
        got = self._cache.get(key)
        if got is None:
            # A decoded history (a model or a lean struct) is taken as it is: decoded once.
            got = self._cache[key] = [evaluate(self.pack, e.history, day,  # type: ignore[arg-type]
                                               include_closed=include_closed) for e in self.entries]
        return got

    def notices(self, day: dt.date) -> list[dict[str, str]]:
        """The notices of ``day``'s results, each with the record it is about."""
        return [{"file": e.file, "locator": e.locator, "project_id": r.project_id, "notice": n}
                for e, r in zip(self.entries, self.results(day), strict=True) for n in r.notices]


def read_portfolio(pack: Pack, inputs: Sequence[Path], *, options: Mapping[str, Any] | None = None) -> Portfolio:
    """Read ``inputs`` (JSON Lines, CSV or XLSX exports, as ``evaluate`` reads them; the
    reader options are ``read_histories``'s: encoding, mapping, layout, events_path,
    sheet) into a Portfolio. A history that does not validate is a reject, as in
    ``evaluate``; a file that cannot be read at all raises (ValueError, OSError)."""
    opts = dict(options or {})
    seen = Seen()
    out = Portfolio(pack)
    for path in inputs:
        items: Iterable[Any] = read_histories(path, seen=seen, notes=True,
                                              pack_columns=(pack.id, pack.spec.columns), **opts)
        for item in items:
            if isinstance(item, Note):
                out.notes.append(item)
            elif isinstance(item, Record):
                if item.reject is not None:
                    out.rejects.append(item.reject)
                    continue
                try:
                    history = read_history(item.history)  # type: ignore[arg-type]  # a dict here
                    if matches(pack.spec.scope, history.project):
                        # What evaluate would refuse on any day (an unknown step or event
                        # type): a reject now, not an error in the middle of a bulletin.
                        Facts.build(pack, history, FIRST_DAY)
                except HistoryError as exc:
                    out.rejects.append(history_reject(item.file, item.locator, exc, item.columns))
                    continue
                out.entries.append(Entry(item.file, item.locator, history))
    return out
