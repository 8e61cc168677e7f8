"""The rules about each warning once its episode exists: which answers are its, its
sign-off (the standing fact and one rule per transition), its place on the ladder, and
its responsible units."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lifecycle_rules.core.vocabulary import LEVEL_RANK, Status
from lifecycle_rules.engines.durable.arithmetic import _iso
from lifecycle_rules.engines.durable.conditions import Expr, _and, _one_of, _op, _or, _tag
from lifecycle_rules.engines.durable.host import _get
from lifecycle_rules.engines.durable.plan import _Compiler
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.spec import Assignment

if TYPE_CHECKING:
    from lifecycle_rules.engines.durable.state import _Run

_ACTIONS = ("no_action_needed", "in_progress", "completed", "project_exited")


# -- which answers are whose -------------------------------------------------------------------


def _compile_answers(comp: _Compiler) -> None:
    comp.rule("answer.match", [
        ("e", _tag("episode")),
        ("m", _tag("ans", {"key": {"e": "key"}})),
    ], lambda run, c: run.answers.setdefault(_get(c, "e")["w"], []).append(_get(c, "m")["an"]))
    comp.rule("answer.orphan", [
        ("m", _tag("ans")),
        ("e$not", _tag("episode", {"key": {"m": "key"}})),
    ], lambda run, c: run.orphans.append(_get(c, "m")["an"]))


# -- sign-off --------------------------------------------------------------------------------


def _compile_signoff(comp: _Compiler, pack: Pack) -> None:
    signoff = pack.spec.signoff
    level = _tag("item", {"what": "level"})
    standing = "standing"

    def st(*parts: Expr) -> tuple[str, Expr]:
        return ("st", _tag(standing, {"w": {"m": "w"}}, *parts))

    # A level is reached when it comes by today and no later than the day anything
    # cleared the clock or the project exited (on that day it is reached, then closed).
    reached: list[tuple[str, Expr]] = [
        ("m", level),
        ("td", _tag("today", _op("$gte", "day", {"m": "day"}))),
        ("x$not", _tag("clr", {"w": {"m": "w"}}, _op("$lt", "day", {"m": "day"}))),
        ("y$not", _tag("exit", _op("$lt", "day", {"m": "day"}))),
    ]
    comp.rule("level.late", [("m", level), ("td", _tag("today", _op("$lt", "day", {"m": "day"})))], _consume)
    comp.rule("level.cleared", [("m", level), ("x", _tag("clr", {"w": {"m": "w"}}, _op("$lt", "day", {"m": "day"})))],
              _consume)
    comp.rule("level.exited", [("m", level), ("y", _tag("exit", _op("$lt", "day", {"m": "day"})))], _consume)
    comp.rule("level.first", [*reached, st({"rank": 0})], _apply_level)
    comp.rule("level.reopen", [*reached, st(_op("$gt", "rank", 0), {"status": "closed"})], _apply_level)
    comp.rule("level.rise", [*reached, st(_op("$gt", "rank", 0), _op("$neq", "status", "closed"),
                                          _op("$lt", "rank", {"m": "rank"}))],
              _apply_level if signoff.higher_level == "reopens" else _raise_level)
    comp.rule("level.lower", [*reached, st(_op("$gt", "rank", 0), _op("$neq", "status", "closed"),
                                           _op("$gte", "rank", {"m": "rank"}))], _consume)

    answer = _tag("item", _or([{"what": "disp"}, {"what": "ext"}]))
    comp.rule("answer.early", [("m", _and(answer, {"keyed": True})), st({"rank": 0})], _early)
    comp.rule("answer.early-project-wide", [("m", _and(answer, {"keyed": False})), st({"rank": 0})], _consume)
    ext = _tag("item", {"what": "ext"})
    comp.rule("extension.later", [("m", ext), st(_op("$gt", "rank", 0), _op("$lt", "ext", {"m": "until"}))],
              lambda run, c: _update(run, c, ext=_get(c, "m")["until"]))
    comp.rule("extension.earlier", [("m", ext), st(_op("$gt", "rank", 0), _op("$gte", "ext", {"m": "until"}))],
              _consume)
    disp = _tag("item", {"what": "disp"})
    comp.rule("disposition.after-closure", [("m", disp), st(_op("$gt", "rank", 0), {"status": "closed"})],
              _already_closed)
    for lv in pack.spec.levels:
        closing = list(signoff.closing_actions_by_level.get(lv, signoff.closing_actions))
        other = [a for a in _ACTIONS if a not in closing]
        if closing:
            comp.rule(f"disposition.close.{lv}", [
                ("m", _and(disp, _one_of("action", closing))),
                st({"level": lv}, _op("$neq", "status", "closed")),
            ], lambda run, c: _update(run, c, status="closed", closed=_get(c, "m")["day"]))
        if other:
            comp.rule(f"disposition.handle.{lv}", [
                ("m", _and(disp, _one_of("action", other))),
                st({"level": lv}, {"status": "open"}),
            ], lambda run, c: _update(run, c, status="in_progress", cycle=_get(c, "m")["day"]))
            comp.rule(f"disposition.handling.{lv}", [
                ("m", _and(disp, _one_of("action", other))),
                st({"level": lv}, {"status": "in_progress"}),
            ], _consume)

    stop = _tag("item", {"what": "stop"})
    comp.rule("stop.close", [("m", stop), st(_op("$gt", "rank", 0), _op("$neq", "status", "closed"))],
              lambda run, c: _update(run, c, status="closed", closed=_get(c, "m")["day"]))
    comp.rule("stop.noop", [("m", stop), st(_or([{"rank": 0}, {"status": "closed"}]))], _consume)

    end = _tag("item", {"what": "end"})
    cycle, pushes = signoff.cycle_days, signoff.overdue_after_pushes
    if cycle and pushes:
        limit = cycle * pushes
        past = {"$add": {"$l": {"st": "cycle"}, "$r": limit}}
        comp.rule("end.overdue", [("m", end), st({"status": "in_progress"}),
                                  ("td", _tag("today", _op("$gt", "day", past), _op("$gt", "day", {"st": "ext"})))],
                  lambda run, c: _end(run, c, "closure_overdue"))
        comp.rule("end.in-progress", [("m", end), st({"status": "in_progress"}),
                                      ("td", _tag("today", _or([_op("$lte", "day", past),
                                                                _op("$lte", "day", {"st": "ext"})])))],
                  lambda run, c: _end(run, c, "in_progress"))
    else:
        comp.rule("end.in-progress", [("m", end), st({"status": "in_progress"})],
                  lambda run, c: _end(run, c, "in_progress"))
    comp.rule("end.other", [("m", end), st(_op("$neq", "status", "in_progress"))],
              lambda run, c: _end(run, c, None))


def _consume(run: _Run, c: Any) -> None:
    run.consumed += 1


def _update(run: _Run, c: Any, **changes: Any) -> None:
    run.consumed += 1
    old = _get(c, "st")
    new = {**old, **changes, "v": old["v"] + 1}
    c.retract_fact(dict(old))
    c.assert_fact(new)
    run.standing[new["w"]] = new


def _apply_level(run: _Run, c: Any) -> None:
    """A level that opens the warning afresh: the first, one after a closure, or (with
    ``higher_level: reopens``) any higher one: open, no cycle, no extension."""
    _set_level(run, c, status="open", closed=0, cycle=0, ext=0)


def _raise_level(run: _Run, c: Any) -> None:
    """A higher level that continues the warning: its answer and cycle carry on."""
    _set_level(run, c)


def _set_level(run: _Run, c: Any, **reset: Any) -> None:
    m = _get(c, "m")
    _update(run, c, level=m["level"], rank=m["rank"], since=m["day"], **reset)
    c.assert_fact(run.fact({"t": "reach", "w": m["w"], "rank": m["rank"], "day": m["day"]}))


def _early(run: _Run, c: Any) -> None:
    run.consumed += 1
    m = _get(c, "m")
    run.notice(m, f"{m['etype']} of {_iso(m['day'])} for warning {run.key_of[m['w']]} came before "
                  "the warning existed; ignored")


def _already_closed(run: _Run, c: Any) -> None:
    run.consumed += 1
    m = _get(c, "m")
    run.notice(m, f"disposition of {_iso(m['day'])} for warning {run.key_of[m['w']]}: the warning "
                  "was already closed; ignored")


def _end(run: _Run, c: Any, status: Status | None) -> None:
    run.consumed += 1
    st = _get(c, "st")
    run.final[st["w"]] = {**st, "status": status or st["status"]}


# -- the ladder ------------------------------------------------------------------------------


def _compile_ladder(comp: _Compiler, pack: Pack) -> None:
    ladder = pack.spec.ladder
    if ladder is None:
        return
    floor = LEVEL_RANK[ladder.counts]
    # The first level at or above the ladder's level, per warning.
    comp.rule("ladder.reached", [
        ("m", _tag("reach", _op("$gte", "rank", floor))),
        ("p$not", _tag("reach", {"w": {"m": "w"}}, _op("$gte", "rank", floor), _op("$lt", "n", {"m": "n"}))),
    ], _counted)
    # Its place among the project's warnings that reached it: by day, then key.
    comp.rule("ladder.before", [
        ("m", _tag("counted")),
        ("b", _tag("counted", _or([_op("$lt", "day", {"m": "day"}),
                                   _and({"day": {"m": "day"}}, _op("$lt", "key", {"m": "key"}))]))),
    ], lambda run, c: _count(run.before, _get(c, "m")["w"]))
    comp.rule("ladder.own", [
        ("m", _tag("stand", _op("$gte", "rank", floor))),
        ("b", _tag("counted", {"w": {"m": "w"}})),
    ], lambda run, c: run.own.add(_get(c, "m")["w"]))
    comp.rule("ladder.by-since", [
        ("m", _tag("stand")),
        ("b", _tag("counted", _op("$lte", "day", {"m": "since"}))),
    ], lambda run, c: _count(run.by_since, _get(c, "m")["w"]))
    _compile_severity(comp, pack)


def _compile_severity(comp: _Compiler, pack: Pack) -> None:
    """Escalation by a recorded judgement: a problem lifts the standing warning it names
    (``key``), or every one (``all``), to its tier; a named warning not standing is lost."""
    ladder = pack.spec.ladder
    if ladder is None or not ladder.severity:
        return
    comp.rule("severity.all", [("m", _tag("stand")), ("p", _tag("problem", {"all": True}))], _lift)
    comp.rule("severity.keyed", [("m", _tag("stand")), ("p", _tag("problem", {"key": {"m": "key"}}))], _lift)
    comp.rule("severity.lost", [
        ("p", _tag("problem", {"all": False})),
        ("s$not", _tag("stand", {"key": {"p": "key"}})),
    ], lambda run, c: run.lost_problems.append(_get(c, "p")["en"]))


def _lift(run: _Run, c: Any) -> None:
    w, tier = _get(c, "m")["w"], _get(c, "p")["tier"]
    run.lifted[w] = max(run.lifted.get(w, 0), tier)


def _count(counter: dict[str, int], w: str) -> None:
    counter[w] = counter.get(w, 0) + 1


def _counted(run: _Run, c: Any) -> None:
    m = _get(c, "m")
    c.assert_fact(run.fact({"t": "counted", "w": m["w"], "day": m["day"], "key": run.key_of[m["w"]]}))


# -- responsible units -----------------------------------------------------------------------


def _compile_routing(comp: _Compiler, pack: Pack) -> None:
    spec = pack.spec

    def pick(category: str, j: int) -> Callable[[_Run, Any], None]:
        def fn(run: _Run, c: Any) -> None:
            got = run.routes.setdefault(_get(c, "m")["w"], {})
            if category not in got or j < got[category]:
                got[category] = j
        return fn

    if spec.ladder is not None:
        for j, route in enumerate(spec.ladder.routes):
            comp.on_subject(f"route.{j}", "warning", route.when, True, None, pick("route", j))
    assignments: list[tuple[str, Expr | None, list[Assignment]]] = [("project", None, spec.project_unit)]
    for n, sg in enumerate(spec.stages):
        assignments.append((f"stage.{n}", {"stage": sg.name}, sg.responsible))
    for n, step in enumerate(spec.steps):
        assignments.append((f"step.{n}", {"step": step.name}, step.responsible))
    for category, extra, items in assignments:
        for j, a in enumerate(items):
            comp.on_subject(f"units.{category}.{j}", "warning", a.when, True, extra, pick(category, j))
