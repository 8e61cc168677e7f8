"""The rules that make each kind's clocks and clear them (deadline, stagnation,
shortfall, cadence), and the rules that decide which clocks are episodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lifecycle_rules.core.vocabulary import Level
from lifecycle_rules.engines.durable.conditions import Expr, _and, _one_of, _op, _tag
from lifecycle_rules.engines.durable.host import _get
from lifecycle_rules.engines.durable.plan import _Band, _Clock, _Compiler, _Plan, _threshold
from lifecycle_rules.pack.compile import Threshold
from lifecycle_rules.pack.spec import CadenceRule, DeadlineRule, ShortfallRule, StagnationRule

if TYPE_CHECKING:
    from lifecycle_rules.engines.durable.state import _Run


# -- actions that note what the clock rules found ------------------------------------------------


def _band(i: int, j: int) -> Callable[[_Run, Any], None]:
    def fn(run: _Run, c: Any) -> None:
        run.band.setdefault(i, j)
    return fn


def _anchor(w: str) -> Callable[[_Run, Any], None]:
    def fn(run: _Run, c: Any) -> None:
        run.anchor.setdefault(w, _get(c, "m")["day"])
    return fn


def _keep(run: _Run, c: Any) -> None:
    run.kept.add(_get(c, "m")["w"])


# -- deadline ----------------------------------------------------------------------------


def _star(name: str | None, each: str | None) -> str | None:
    return each if name == "*" and each is not None else name


def _compile_deadline(comp: _Compiler, plan: _Plan, i: int, rule: DeadlineRule) -> None:
    pack = comp.pack
    # Investment bands: durable picks the band from the project's investment.
    bands: list[_Band] = []
    lim = rule.limit
    raw = [(None, lim)] if lim.by_investment is None else [(b.below, b) for b in lim.by_investment]
    for below, spec in raw:
        limit = _threshold(pack, spec)
        levels: dict[Level, Threshold] = {}
        for lv, ls in rule.levels.items():
            if ls == "limit":
                levels[lv] = limit
            elif ls.before_limit is not None:
                levels[lv] = Threshold(limit.unit, limit.value * (1 - pack.number(ls.before_limit)))
            else:
                levels[lv] = _threshold(pack, ls)
        bands.append(_Band(below, limit, levels))
    plan.bands[i] = bands
    lower: float | None = None
    for j, band in enumerate(bands):
        parts: list[Expr] = []
        if len(bands) > 1:
            parts.append(_op("$ex", "inv", 1))
            if lower is not None:
                parts.append(_op("$gte", "inv", lower))
            if band.below is not None:
                parts.append(_op("$lt", "inv", band.below))
        comp.on_subject(f"band.{i}.{j}", "project", None, False, _and(*parts) if parts else None,
                        _band(i, j))
        lower = band.below

    items = rule.for_each_step if rule.for_each_step is not None else [None]
    clocks: list[_Clock] = []
    for k, each in enumerate(items):
        anchor = rule.anchor.model_copy(update={
            "step_completed": _star(rule.anchor.step_completed, each),
            "step_started": _star(rule.anchor.step_started, each)})
        target = rule.target.model_copy(update={
            "step_completed": _star(rule.target.step_completed, each),
            "step_started": _star(rule.target.step_started, each)})
        tname = target.step_completed or target.step_started
        assert tname is not None
        step = pack.step_of[tname]
        subject = pack.step_of[each] if each is not None else (rule.subject or step)
        clock = _Clock(f"d{i}.{k}", i, k, subject, step, anchor, target)
        clocks.append(clock)
        _compile_clock(comp, clock)
    plan.clocks[i] = clocks


def _compile_clock(comp: _Compiler, clock: _Clock) -> None:
    pack = comp.pack
    w = clock.w
    a = clock.anchor
    if a.step_completed is not None:
        anchor = _tag("done", {"step": pack.step_of[a.step_completed]})
    elif a.step_started is not None:
        anchor = _tag("began", {"step": pack.step_of[a.step_started]})
    elif a.stage_entered is not None:
        anchor = _tag("entered", {"stage": a.stage_entered})
    else:
        anchor = _tag("plan", {"which": a.plan or "start"})
    comp.rule(f"anchor.{w}", [("m", anchor)], _anchor(w))

    # What clears the clock: the target step done (or started), or a stage entered that
    # comes after a stage the target step enters (the project passed the step).
    t = clock.target
    name = t.step_completed or t.step_started
    assert name is not None
    step = pack.step_of[name]
    clears = [_tag("done", {"step": step})]
    if t.step_started is not None:
        clears.append(_tag("began", {"step": step}))
    orders = [o for o, st in enumerate(pack.spec.stages)
              if step in {pack.step_of[s] for s in st.entered_by.completed}]
    if orders:
        clears.append(_tag("entered", _op("$gt", "order", min(orders))))
    for n, expr in enumerate(clears):
        comp.rule(f"clear.{w}.{n}", [("m", expr)], lambda run, c: run.clear(c, w, _get(c, "m")["day"]))


# -- stagnation ----------------------------------------------------------------------------


def _compile_stagnation(comp: _Compiler, plan: _Plan, i: int, rule: StagnationRule) -> None:
    pack = comp.pack
    plan.durations[i] = {lv: _threshold(pack, d) for lv, d in rule.levels.items()}
    plan.progress_types.update(rule.progress)
    watched = _one_of("stage", list(rule.stages))
    unwatched = _and(*[_op("$neq", "stage", s) for s in rule.stages])
    progress = _one_of("type", list(rule.progress))
    # A silence starts where a watched stretch starts ...
    comp.rule(f"sg.{i}.start", [
        ("m", _tag("span", watched)),
        ("p$not", _tag("span", watched, {"end": {"m": "start"}})),
    ], lambda run, c: run.sg_anchor.setdefault(i, set()).add(_get(c, "m")["start"]))
    # ... or at a progress event inside a watched span.
    comp.rule(f"sg.{i}.progress", [
        ("e", _tag("ev", progress)),
        ("m", _tag("span", watched, _op("$lte", "start", {"e": "day"}), _op("$gt", "end", {"e": "day"}))),
    ], lambda run, c: run.sg_anchor.setdefault(i, set()).add(_get(c, "e")["day"]))
    # A silence is a warning when its first level comes by today and no later than its
    # cut: the next progress event, or the start of an unwatched span.
    def no_cut(after: str, before: Expr) -> list[tuple[str, Expr]]:
        return [("x$not", _tag("ev", progress, _op("$gt", "day", {"m": after}), _op("$lt", "day", before))),
                ("y$not", _tag("span", unwatched, _op("$gt", "start", {"m": after}), _op("$lt", "start", before)))]

    clock = ("m", _tag("clock", {"kind": "s"}, {"i": i}))
    comp.rule(f"sg.{i}.exists", [clock, ("td", _tag("today", _op("$gte", "day", {"m": "first"}))),
                                 *no_cut("anchor", {"m": "first"})], _exists)
    comp.rule(f"sg.{i}.cut-progress", [clock, ("b", _tag("ev", progress, _op("$gt", "day", {"m": "anchor"}))),
                                       *no_cut("anchor", {"b": "day"})],
              lambda run, c: run.clear(c, _get(c, "m")["w"], _get(c, "b")["day"]))
    comp.rule(f"sg.{i}.cut-span", [clock, ("b", _tag("span", unwatched, _op("$gt", "start", {"m": "anchor"}))),
                                   *no_cut("anchor", {"b": "start"})],
              lambda run, c: run.clear(c, _get(c, "m")["w"], _get(c, "b")["start"]))


# -- shortfall -----------------------------------------------------------------------------


def _compile_shortfall(comp: _Compiler, plan: _Plan, i: int, rule: ShortfallRule) -> None:
    plan.report_types.add(rule.report)
    # Two rules: the reports that make their month count, and those that show it met
    # (a report without the amounts its rule compares says neither).
    shows: dict[bool, list[tuple[str, Expr]]] = {}
    if rule.counts == "noncompliant":
        shows[True] = [("m", _tag("report", {"type": rule.report}, {"nc": True}))]
        shows[False] = [("m", _tag("report", {"type": rule.report}, {"nc": False}))]
    else:
        plan.amount_types.add(rule.report)
        for counts, op in ((True, "$lt"), (False, "$gte")):
            shows[counts] = [("m", _tag("report", {"type": rule.report}, _op("$ex", "planned", 1))),
                             ("a", _tag("actual", {"rn": {"m": "rn"}}, _op(op, "value", {"m": "planned"})))]
    if rule.stages is not None:
        watched = _one_of("stage", list(rule.stages))
        if watched is None:
            return
        for patterns in shows.values():
            patterns.append(("p", _tag("span", watched, _op("$lte", "start", {"m": "pend"}),
                                       _op("$gt", "end", {"m": "pend"}))))

    def filed(counts: bool) -> Callable[[_Run, Any], None]:
        def fn(run: _Run, c: Any) -> None:
            m = _get(c, "m")
            run.filed.setdefault(i, []).append((m["day"], m["rn"], m["period"], counts))
        return fn

    comp.rule(f"sf.{i}", shows[True], filed(True))
    comp.rule(f"sf.{i}.met", shows[False], filed(False))


# -- cadence -------------------------------------------------------------------------------


def _compile_cadence(comp: _Compiler, plan: _Plan, i: int, rule: CadenceRule) -> None:
    pack = comp.pack
    plan.durations[i] = {lv: _threshold(pack, d) for lv, d in rule.levels.items()}
    plan.report_types.add(rule.report)
    watched = None if rule.stages is None else _one_of("stage", list(rule.stages))
    if rule.stages is not None and watched is None:
        return

    def owed(run: _Run, c: Any) -> None:
        p, s = _get(c, "m"), _get(c, "p")
        run.owed.setdefault(i, []).append((p["label"], p["ref"], p["due"], s["stage"]))

    if rule.owed == "first":
        # Every period of a watched stay, filed or not: only the first of each is owed.
        comp.rule(f"cd.{i}.stay", [
            ("m", _tag("period", {"i": i})),
            ("p", _tag("span", watched, _op("$lte", "start", {"m": "ref"}), _op("$gt", "end", {"m": "ref"}))),
        ], lambda run, c: run.stay.setdefault(i, []).append((_get(c, "m")["ref"], _get(c, "p")["start"],
                                                             _get(c, "m")["label"])))
    # A period is answered by a report of it; with owed: first, by a report of any period
    # (the project is proposed once).
    same = None if rule.owed == "first" else {"period": {"m": "label"}}
    comp.rule(f"cd.{i}.owed", [
        ("m", _tag("period", {"i": i})),
        ("p", _tag("span", watched, _op("$lte", "start", {"m": "ref"}), _op("$gt", "end", {"m": "ref"}))),
        ("r$not", _tag("report", {"type": rule.report}, same, _op("$lte", "day", {"m": "due"}))),
    ], owed)
    comp.rule(f"cd.{i}.filed", [
        ("m", _tag("period", {"i": i})),
        ("r", _tag("report", {"type": rule.report}, same)),
    ], lambda run, c: run.clear(c, f"c{i}#{_get(c, 'm')['label']}", _get(c, "r")["day"]))


# -- which clocks are episodes -------------------------------------------------------------


def _compile_existence(comp: _Compiler) -> None:
    # Deadline: the anchor is on or before today, and nothing cleared the clock by it.
    comp.rule("exists.deadline", [
        ("m", _tag("clock", {"kind": "d"})),
        ("td", _tag("today", _op("$gte", "day", {"m": "anchor"}))),
        ("x$not", _tag("clr", {"w": {"m": "w"}}, _op("$lte", "day", {"m": "anchor"}))),
    ], _exists)
    # Cadence: the first level comes by today, and no filing came before that day.
    comp.rule("exists.cadence", [
        ("m", _tag("clock", {"kind": "c"})),
        ("td", _tag("today", _op("$gte", "day", {"m": "first"}))),
        ("x$not", _tag("clr", {"w": {"m": "w"}}, _op("$lt", "day", {"m": "first"}))),
    ], _exists)
    # Shortfall: a level was reached.
    comp.rule("exists.shortfall", [("m", _tag("clock", {"kind": "f"}))], _exists)


def _exists(run: _Run, c: Any) -> None:
    clock = dict(_get(c, "m"))
    run.exists.add(clock["w"])
    clock.pop("sid", None)
    clock["t"] = "live"
    c.assert_fact(run.fact(clock))


# This engine's counterpart of each rule kind (``kinds.REGISTRY``): the rules that decide
# which clocks of a pack's rule of that kind become episodes. tests/test_kinds.py holds
# the two lists equal.
KIND_RULES: dict[str, Callable[[_Compiler, _Plan, int, Any], None]] = {
    "deadline": _compile_deadline,
    "stagnation": _compile_stagnation,
    "shortfall": _compile_shortfall,
    "cadence": _compile_cadence,
}
