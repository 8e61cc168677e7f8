"""The monthly bulletin's figures (通报, 建德 五.1: 按月通报监测情况; 三(六) 专项考评): pure
functions from the results of ``evaluate`` on a few days to numbers. No I/O, no clock;
rendering is ``bulletin_tables`` (what each table holds) and ``bulletin_xlsx`` /
``bulletin_html`` (how it looks). Every figure is defined in ``docs/bulletin.md`` and in
the bulletin's own 说明, and each one can be recounted by hand from the bulletin's lists.

The days (``needed_days``): the period is ``[since, as_of]``; its eve is ``since - 1``.
A warning is *standing* (在办) on a day when its status that day is 未办理 (open), 正在办理
(in_progress) or 销号超时 (closure_overdue). For each warning key, comparing the eve
with ``as_of`` (results with closed warnings included):

- 上期结转 (carried): standing on the eve.
- 本期新增 (new): not standing on the eve, and on ``as_of`` standing or closed within the
  period (closed_on in [since, as_of]).
- 升级 (escalated): standing on the eve and at a higher level on ``as_of`` (new ones are
  never also counted as escalated).
- 本期销号 (closed): closed on ``as_of`` with closed_on in [since, as_of].
- 期内预警 (received): carried or new: every warning a unit had to handle in the period.

响应评定 (the response of a received warning), with R the response window (the pack's
sign-off cycle, 30 days where it has none): judged on ``as_of`` if the warning still
stands, else on the day before its 销号 (``closing_eves`` names those days):
正在办理 -> 按期 (answered in time); 销号超时 -> 超时; 未办理 and more than R days after its
预警日期 -> 超时 (逾期未响应), otherwise 待响应 if it still stands, or 按期 if it was closed
(closed from 未办理 within R days).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from lifecycle_rules.core.rates import RateValue
from lifecycle_rules.core.results import ProjectWarning, Result
from lifecycle_rules.core.vocabulary import LEVEL_RANK
from lifecycle_rules.pack.compile import Pack

STANDING = frozenset({"open", "in_progress", "closure_overdue"})
DEFAULT_RESPONSE_DAYS = 30
BOARD_SIZE = 3  # units on each of the 红榜 and 黑榜
NO_STAGE = "（未分阶段）"
NO_REGION = "（未填写）"
NO_UNIT = "（未指定）"

# 响应评定
ON_TIME = "按期"
LATE = "超时"
PENDING = "待响应"
# 本期变化
NEW = "新增"
ESCALATED = "升级"


def default_since(as_of: dt.date) -> dt.date:
    """The first day of ``as_of``'s month."""
    return as_of.replace(day=1)


def month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def trend_days(as_of: dt.date) -> list[dt.date]:
    """The 12 points of the trend: the ends of the 11 months before ``as_of``'s month,
    then ``as_of`` (the month end itself when ``as_of`` is one)."""
    out = []
    for back in range(11, 0, -1):
        index = as_of.year * 12 + as_of.month - 1 - back
        out.append(month_end(index // 12, index % 12 + 1))
    return [*out, as_of]


def needed_days(since: dt.date, as_of: dt.date) -> list[dt.date]:
    """Every day whose full results ``compute`` needs: the eve, ``as_of`` and the trend's."""
    return sorted({since - dt.timedelta(days=1), as_of, *trend_days(as_of)})


def closing_eves(now: Sequence[Result], since: dt.date, as_of: dt.date) -> dict[dt.date, list[int]]:
    """For the warnings closed within the period: the day before each closing, with the
    positions (in ``now``) of the projects whose results ``compute`` needs on that day."""
    out: dict[dt.date, set[int]] = {}
    for i, r in enumerate(now):
        for w in r.warnings:
            if _closed_within(w, since, as_of):
                assert w.closed_on is not None
                out.setdefault(w.closed_on - dt.timedelta(days=1), set()).add(i)
    return {d: sorted(v) for d, v in sorted(out.items())}


def _closed_within(w: ProjectWarning, since: dt.date, as_of: dt.date) -> bool:
    return w.status == "closed" and w.closed_on is not None and since <= w.closed_on <= as_of


@dataclass(frozen=True)
class Item:
    """One warning of the period, as it stands on ``as_of`` (or, had it vanished, on the
    eve), with what the bulletin says of it."""

    result: Result
    warning: ProjectWarning
    change: str  # NEW, ESCALATED or ""
    carried: bool
    closed: bool  # closed within the period
    before: str  # the status it is judged by (on as_of, or the day before its 销号)
    response: str  # ON_TIME, LATE, PENDING
    days: int  # (closed_on if closed within the period, else as_of) - since

    @property
    def standing(self) -> bool:
        return self.warning.status in STANDING

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.warning.responsible)) or (NO_UNIT,)


@dataclass
class Tally:
    """The figures of one row of an overview table."""

    standing: Counter[str] = field(default_factory=Counter)  # by level, standing on as_of
    overdue: int = 0  # 销号超时 on as_of
    new: int = 0
    escalated: int = 0
    closed: int = 0

    @property
    def total(self) -> int:
        return sum(self.standing.values())

    def add(self, item: Item) -> None:
        if item.standing:
            self.standing[item.warning.level] += 1
            self.overdue += item.warning.status == "closure_overdue"
        self.new += item.change == NEW
        self.escalated += item.change == ESCALATED
        self.closed += item.closed

    def empty(self) -> bool:
        return not (self.total or self.new or self.escalated or self.closed)


@dataclass(frozen=True)
class Breakdown:
    """An overview by one dimension: labelled rows and the whole (each warning once)."""

    by: str
    rows: tuple[tuple[str, Tally], ...]
    total: Tally


@dataclass
class UnitScore:
    """A responsible unit's 专项考评 (建德 三(六)) over the warnings it received."""

    unit: str
    carried: int = 0
    new: int = 0
    closed: int = 0  # closed within the period
    in_progress: int = 0  # 正在办理 on as_of
    overdue: int = 0  # 销号超时 on as_of
    waiting: int = 0  # 未办理 on as_of, within the response window
    unanswered: int = 0  # 未办理 on as_of, past the response window
    on_time: int = 0
    late: int = 0
    days: list[int] = field(default_factory=list)
    rank: int = 0
    board: str = ""  # 红榜, 黑榜 or ""

    @property
    def received(self) -> int:
        return self.carried + self.new

    @property
    def rate(self) -> float | None:
        judged = self.on_time + self.late
        return self.on_time / judged if judged else None

    @property
    def average_days(self) -> float | None:
        """To one decimal, halves rounded up (as a clerk rounds: 68.75 -> 68.8)."""
        if not self.days:
            return None
        mean = Decimal(sum(self.days)) / Decimal(len(self.days))
        return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class TrendPoint:
    day: dt.date
    standing: Counter[str]
    overdue: int

    @property
    def total(self) -> int:
        return sum(self.standing.values())


@dataclass(frozen=True)
class Bulletin:
    """Everything the bulletin says, as numbers and lists; rendering adds the words."""

    pack: Pack
    since: dt.date
    as_of: dt.date
    response_days: int
    projects: int  # projects evaluated
    items: tuple[Item, ...]  # received in the period, bulletin order
    overall: Tally
    by_stage: Breakdown
    by_region: Breakdown
    by_unit: Breakdown
    scores: tuple[UnitScore, ...]  # ranked
    trend: tuple[TrendPoint, ...]
    rates: tuple[RateValue, ...] = ()
    rejected: int = 0
    noticed: int = 0

    @property
    def eve(self) -> dt.date:
        return self.since - dt.timedelta(days=1)

    @property
    def levels(self) -> list[str]:
        """The pack's levels, highest first."""
        return sorted(self.pack.spec.levels, key=lambda lv: -LEVEL_RANK[lv])

    def standing(self, *levels: str) -> list[Item]:
        return [i for i in self.items if i.standing and i.warning.level in levels]

    @property
    def overdue(self) -> list[Item]:
        return [i for i in self.items if i.warning.status == "closure_overdue"]

    @property
    def closed(self) -> list[Item]:
        return [i for i in self.items if i.closed]

    @property
    def standing_projects(self) -> int:
        return len({i.warning.project_id for i in self.items if i.standing})

    @property
    def on_time(self) -> int:
        return sum(i.response == ON_TIME for i in self.items)

    @property
    def late(self) -> int:
        return sum(i.response == LATE for i in self.items)

    def board(self, name: str) -> list[UnitScore]:
        """The 红榜 in ranking order, or the 黑榜 worst first."""
        found = [s for s in self.scores if s.board == name]
        return found if name == "红榜" else sorted(found, key=_worst_first)


def _by_key(results: Iterable[Result]) -> dict[str, tuple[Result, ProjectWarning]]:
    return {w.key: (r, w) for r in results for w in r.warnings}


def _order(item: Item) -> tuple[int, dt.date, str, str, str]:
    """A bulletin's order: level (red first), then since ascending, region, project."""
    w = item.warning
    return (-LEVEL_RANK[w.level], w.since, item.result.region, w.project_id, w.key)


def _response(status: str, w: ProjectWarning, day: dt.date, closed: bool, window: int) -> str:
    if status == "in_progress":
        return ON_TIME
    if status == "closure_overdue":
        return LATE
    if (day - w.since).days > window:
        return LATE
    return ON_TIME if closed else PENDING


def _items(since: dt.date, as_of: dt.date, results: Mapping[dt.date, Sequence[Result]],
           window: int) -> list[Item]:
    eve = _by_key(results[since - dt.timedelta(days=1)])
    now = _by_key(results[as_of])
    items: list[Item] = []
    for key in dict.fromkeys([*now, *eve]):
        r, w = now[key] if key in now else eve[key]
        before = eve.get(key)
        carried = before is not None and before[1].status in STANDING
        closed = _closed_within(w, since, as_of)
        if not (carried or w.status in STANDING or closed):
            continue  # closed before the period, or closed since without standing in it
        change = ""
        if not carried:
            change = NEW
        elif before is not None and LEVEL_RANK[w.level] > LEVEL_RANK[before[1].level]:
            change = ESCALATED
        status, judged_on, judged = w.status, as_of, w
        if closed:
            assert w.closed_on is not None
            judged_on = w.closed_on
            day_before = _by_key(results[w.closed_on - dt.timedelta(days=1)]).get(key)
            # No warning the day before: it was reached and closed on one day (open).
            status = day_before[1].status if day_before is not None else "open"
            judged = day_before[1] if day_before is not None else w
        end = w.closed_on if closed and w.closed_on is not None else as_of
        items.append(Item(r, w, change, carried, closed, status,
                          _response(status, judged, judged_on, closed, window), (end - w.since).days))
    items.sort(key=_order)
    return items


def _breakdown(by: str, items: Sequence[Item], labels: Mapping[str, int] | None,
               label_of: Callable[[Item], str | tuple[str, ...]]) -> Breakdown:
    """Rows by ``label_of(item)`` (a label or several); ``labels`` gives a fixed order
    (rows shown even when empty), else rows are ranked: red, orange, yellow, total, new,
    descending, then by name."""
    rows: dict[str, Tally] = {k: Tally() for k in (labels or {})}
    total = Tally()
    for item in items:
        total.add(item)
        got = label_of(item)
        for label in (got,) if isinstance(got, str) else got:
            rows.setdefault(label, Tally()).add(item)
    if labels is not None:
        order = sorted(rows, key=lambda k: (labels.get(k, len(labels)), k))
        kept = [(k, rows[k]) for k in order if k in labels or not rows[k].empty()]
    else:
        kept = sorted(rows.items(), key=lambda kv: (
            *(-kv[1].standing[lv] for lv in ("red", "orange", "yellow")), -kv[1].total, -kv[1].new, kv[0]))
    return Breakdown(by, tuple(kept), total)


def _best_first(s: UnitScore) -> tuple[bool, float, int, float, str]:
    """Ranking: 按期响应率 high to low (units with nothing judged last), then fewer 超时,
    then a shorter 平均办理天数, then the unit's name (code point order)."""
    return (s.rate is None, -(s.rate or 0.0), s.late,
            s.average_days if s.average_days is not None else float("inf"), s.unit)


def _worst_first(s: UnitScore) -> tuple[float, int, float, str]:
    return (s.rate if s.rate is not None else 2.0, -s.late,
            -(s.average_days or 0.0), s.unit)


def _scores(items: Sequence[Item]) -> tuple[UnitScore, ...]:
    scores: dict[str, UnitScore] = {}
    for item in items:
        status = item.warning.status
        for unit in item.units:
            s = scores.setdefault(unit, UnitScore(unit))
            s.carried += item.carried
            s.new += item.change == NEW
            s.closed += item.closed
            s.in_progress += status == "in_progress"
            s.overdue += status == "closure_overdue"
            s.waiting += status == "open" and item.response == PENDING
            s.unanswered += status == "open" and item.response == LATE
            s.on_time += item.response == ON_TIME
            s.late += item.response == LATE
            s.days.append(item.days)
    ranked = sorted(scores.values(), key=_best_first)
    for n, s in enumerate(ranked, 1):
        s.rank = n
    for s in [s for s in ranked if s.late == 0 and s.rate is not None][:BOARD_SIZE]:
        s.board = "红榜"
    for s in sorted((s for s in ranked if s.late > 0), key=_worst_first)[:BOARD_SIZE]:
        s.board = "黑榜"
    return tuple(ranked)


def _trend(as_of: dt.date, results: Mapping[dt.date, Sequence[Result]]) -> tuple[TrendPoint, ...]:
    out = []
    for day in trend_days(as_of):
        standing: Counter[str] = Counter()
        overdue = 0
        for r in results[day]:
            for w in r.warnings:
                if w.status in STANDING:
                    standing[w.level] += 1
                    overdue += w.status == "closure_overdue"
        out.append(TrendPoint(day, standing, overdue))
    return tuple(out)


def response_window(pack: Pack, days: int | None = None) -> int:
    """R: ``days`` if given, else the pack's sign-off cycle, else 30 days."""
    return days if days is not None else (pack.spec.signoff.cycle_days or DEFAULT_RESPONSE_DAYS)


def compute(pack: Pack, since: dt.date, as_of: dt.date, results: Mapping[dt.date, Sequence[Result]], *,
            rates: Sequence[RateValue] = (), rejected: int = 0, noticed: int = 0,
            response_days: int | None = None) -> Bulletin:
    """The bulletin's figures. ``results`` holds, for each of ``needed_days(since, as_of)``,
    every project's Result with closed warnings included, and for each day of
    ``closing_eves`` at least the results of the projects it names. KeyError names a day
    missing; ValueError if ``since`` is after ``as_of``."""
    if since > as_of:
        raise ValueError(f"since {since} is after as_of {as_of}")
    missing = [d for d in needed_days(since, as_of) if d not in results]
    if missing:
        raise KeyError(f"no results for {', '.join(d.isoformat() for d in missing)}")
    window = response_window(pack, response_days)
    items = _items(since, as_of, results, window)
    overall = Tally()
    for item in items:
        overall.add(item)
    stages = {name: n for n, name in enumerate(pack.stage_order)}
    return Bulletin(
        pack=pack, since=since, as_of=as_of, response_days=window, projects=len(results[as_of]),
        items=tuple(items), overall=overall,
        by_stage=_breakdown("所处阶段", items, stages, lambda i: i.warning.stage or NO_STAGE),
        by_region=_breakdown("所属乡镇（街道）", items, None, lambda i: i.result.region.strip() or NO_REGION),
        by_unit=_breakdown("责任单位", items, None, lambda i: i.units),
        scores=_scores(items), trend=_trend(as_of, results), rates=tuple(rates),
        rejected=rejected, noticed=noticed,
    )
