"""Steps 3 to 6 of an evaluation (``run._evaluate``), once the episodes are known: which
answers belong to which warning, the sign-off of each warning (its timeline posted item
by item), the tiers of the ladder, and the standing warnings with their responsible
units and messages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lifecycle_rules.core.facts import Facts
from lifecycle_rules.core.gaps import Settled, tier_notice
from lifecycle_rules.core.history import EventView, History
from lifecycle_rules.core.results import ProjectWarning
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level, Status
from lifecycle_rules.core.wording import OVERDUE_ACTION, cn_date, cn_period, project_label, status_sentence
from lifecycle_rules.engines.durable.plan import _Plan
from lifecycle_rules.engines.durable.state import Fact, Notice, _Episode, _Run
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.spec import LevelDef

Standing = dict[str, dict[str, Any]]  # per warning: its final standing fact


# -- 3. answers --------------------------------------------------------------------------------


def _answers(run: _Run, facts: Facts,
             episodes: list[_Episode]) -> tuple[dict[int, EventView], list[tuple[int, EventView]]]:
    """Which answers belong to which warning: the episodes and the keyed answers
    (dispositions, extensions) asserted; durable matches them (``run.answers``,
    ``run.orphans``). Returns the keyed answers and the project-wide extensions, by
    their place among the events."""
    keyed: dict[int, EventView] = {}
    project_wide: list[tuple[int, EventView]] = []
    for n, (_, e) in enumerate(facts.events):
        if e.type == "extension" and e.warning is None:
            project_wide.append((n, e))
        elif e.type in ("disposition", "extension") and e.warning is not None:
            keyed[n] = e
    run.assert_facts([{"t": "episode", "w": ep.w, "key": ep.key} for ep in episodes]
                     + [{"t": "ans", "key": e.warning, "an": n} for n, e in keyed.items()])
    return keyed, project_wide


# -- 4. sign-off -------------------------------------------------------------------------------


def _sign_off(run: _Run, facts: Facts, episodes: list[_Episode], undecided: dict[str, Settled],
              keyed: dict[int, EventView], project_wide: list[tuple[int, EventView]]) -> Standing:
    """Sign-off, one warning after the other: a standing fact per warning, then its
    timeline posted item by item. Returns the standing of each warning that reached a
    level."""
    run.assert_facts([{"t": "standing", "w": ep.w, "rank": 0, "level": "", "status": "open", "since": 0,
                       "closed": 0, "cycle": 0, "ext": 0, "v": 0} for ep in episodes])
    seq = 0
    for ep in episodes:
        if ep.w in undecided:
            continue
        for item in _timeline(run, facts, ep, keyed, project_wide):
            seq += 1
            run.post({"t": "item", "w": ep.w, "seq": seq, **item})
    return {w: st for w, st in run.final.items() if st["rank"] > 0}


def _timeline(run: _Run, facts: Facts, ep: _Episode, keyed: dict[int, EventView],
              project_wide: list[tuple[int, EventView]]) -> list[Fact]:
    """A warning's timeline, by day: on one day its levels, then its answers, then what
    cleared it and the exit; last its end, on today."""
    timeline: list[tuple[tuple[Any, ...], Fact]] = []
    for lv, d in ep.levels:
        timeline.append(((d, 0, LEVEL_RANK[lv]), {"what": "level", "level": lv, "rank": LEVEL_RANK[lv],
                                                  "day": d.toordinal()}))
    answers = [(0, n) for n in sorted(run.answers.get(ep.w, []))] + [(1, n) for n, _ in project_wide]
    events = dict(project_wide) | keyed
    for rank, (group, n) in enumerate(answers):
        e = events[n]
        item: Fact = {"day": e.date.toordinal(), "keyed": group == 0, "etype": e.type}
        if e.type == "extension":
            assert e.until is not None
            item.update(what="ext", until=e.until.toordinal())
        else:
            item.update(what="disp", action=e.action)
        timeline.append(((e.date, 1, rank), item))
    stops = set(run.clears.get(ep.w, ()))
    if facts.exit_date is not None:
        stops.add(facts.exit_date.toordinal())
    for s in sorted(stops):
        if s <= run.today:
            timeline.append(((dt.date.fromordinal(s), 2, 0), {"what": "stop", "day": s}))
    timeline.sort(key=lambda p: p[0])
    return [item for _, item in timeline] + [{"what": "end", "day": run.today}]


# -- 5. tiers ----------------------------------------------------------------------------------


def _tiers(pack: Pack, run: _Run, facts: Facts, episodes: list[_Episode], standing: Standing,
           undecided: dict[str, Settled], notices: list[Notice]) -> dict[str, int]:
    """The tier of each standing warning on the ladder (from durable's counts, clamped
    to 1..max_tier), and a notice of what the undecided warnings leave open."""
    tiers: dict[str, int] = {}
    ladder = pack.spec.ladder
    if ladder is not None and standing:
        run.assert_facts([{"t": "stand", "w": w, "key": run.key_of[w], "rank": st["rank"], "since": st["since"]}
                          for w, st in standing.items()])
        for w in standing:
            n = run.before.get(w, 0) + 1 if w in run.own else run.by_since.get(w, 0)
            tiers[w] = max(1, min(ladder.max_tier, n))

    if undecided and ladder is not None:
        said = tier_notice([(pack.rules[ep.index].id, undecided[ep.w]) for ep in episodes if ep.w in undecided],
                           ladder.counts, ladder.max_tier)
        if said:
            notices.append(((3,), said))
    _severity(pack, run, facts, tiers, notices)
    return tiers


def _severity(pack: Pack, run: _Run, facts: Facts, tiers: dict[str, int], notices: list[Notice]) -> None:
    """Problems reported (a judgement of gravity) as facts; durable lifts the warnings
    they concern (``run.lifted``) and finds those naming no standing warning."""
    ladder = pack.spec.ladder
    scale = ladder.severity if ladder is not None else {}
    problems: list[Fact] = []
    said: dict[int, str] = {}
    for n, (_, e) in enumerate(facts.events):
        if e.type != "problem_reported":
            continue
        when = f"problem_reported of {e.date.isoformat()}"
        if ladder is None:
            said[n] = f"{when}: the pack has no coordination ladder (no tiers); ignored"
        elif not scale:
            said[n] = f"{when}: the pack's ladder does not escalate by severity; ignored"
        elif e.severity not in scale:
            said[n] = f"{when}: severity {e.severity!r} is not one of {', '.join(scale)}; ignored"
        else:
            problems.append({"t": "problem", "en": n, "all": e.warning is None, "key": e.warning or "",
                             "tier": scale[e.severity]})
    run.assert_facts(problems)
    for n in run.lost_problems:
        e = facts.events[n][1]
        said[n] = (f"problem_reported of {e.date.isoformat()} refers to warning {e.warning!r}, which "
                   "this project does not have; ignored")
    notices += [((4, n), text) for n, text in sorted(said.items())]
    for w, tier in run.lifted.items():
        if w in tiers:
            tiers[w] = max(tiers[w], tier)


# -- 6. responsible units, and the warnings ----------------------------------------------------


def _warnings(plan: _Plan, run: _Run, hist: History, episodes: list[_Episode], standing: Standing,
              tiers: dict[str, int], proj: Fact, include_closed: bool,
              provenance: dict[str, Any]) -> list[ProjectWarning]:
    """The standing warnings (closed ones only with ``include_closed``), in the order of
    their rules, then subject and key; each with ``provenance`` (``as_of``, ``pack``,
    ``pack_digest``: SPEC §4)."""
    kept = [ep for ep in episodes if ep.w in standing]
    _assert_subjects(run, kept, proj)
    warnings: list[ProjectWarning] = []
    for ep in kept:
        st = standing[ep.w]
        if st["status"] == "closed" and not include_closed:
            continue
        warnings.append(_warning(plan, run, hist, ep, st, tiers.get(ep.w), provenance))
    warnings.sort(key=lambda w: (plan.pack.rule_order[w.rule], w.subject, w.key))
    return warnings


def _assert_subjects(run: _Run, kept: list[_Episode], proj: Fact) -> None:
    """Responsible units depend on the project, the stage and the step only, so one
    subject per (stage, step) of the warnings; durable routes each (``run.routes``)."""
    groups: dict[tuple[str | None, str | None], str] = {}
    subjects: list[Fact] = []
    for ep in kept:
        if (ep.stage, ep.step) not in groups:
            gid = groups[ep.stage, ep.step] = f"g{len(groups)}"
            subj: Fact = {"t": "subj", "role": "warning", "w": gid, **proj}
            if ep.stage is not None:
                subj["stage"] = ep.stage
            if ep.step is not None:
                subj["step"] = ep.step
            subjects.append(subj)
        run.group[ep.w] = groups[ep.stage, ep.step]
    run.assert_facts(subjects)


def _warning(plan: _Plan, run: _Run, hist: History, ep: _Episode, st: dict[str, Any],
             tier: int | None, provenance: dict[str, Any]) -> ProjectWarning:
    pack = plan.pack
    spec = pack.spec
    rule = pack.rules[ep.index]
    project = hist.project
    level: Level = st["level"]
    level_def: LevelDef = rule.level_overrides.get(level) or spec.levels[level]
    units = _units(pack, run, ep, level_def, tier)
    since = dt.date.fromordinal(st["since"])
    status: Status = st["status"]
    pushes = 0
    cycle = spec.signoff.cycle_days
    if status in ("in_progress", "closure_overdue") and cycle:
        pushes = (run.today - st["cycle"]) // cycle
    closed_on = dt.date.fromordinal(st["closed"]) if status == "closed" else None
    fields = {
        "project_id": project.id,
        "project_name": project.name or project.id,
        "project": project_label(project.name, project.id),
        "region": project.region,
        "subject": ep.subject,
        "level_name": level_def.name,
        "action": OVERDUE_ACTION if status == "closure_overdue" else level_def.action,
        "since": cn_date(since),
        "due": cn_date(ep.due) if ep.due else ep.info.get("due_text", ""),
        "anchor": cn_date(ep.anchor),
        "stage": ep.stage or "",
        "limit": str(ep.info.get("limit", "")),
        "count": str(ep.info.get("count", "")),
        "title": rule.title,
        "period": cn_period(str(ep.info.get("period", ""))),
    }
    return ProjectWarning(
        project_id=project.id,
        key=ep.key,
        rule=rule.id,
        subject=ep.subject,
        level=level,
        since=since,
        due=ep.due,
        tier=tier,
        status=status,
        responsible=units,
        clause=rule.clause,
        message=rule.message.format_map(fields) + status_sentence(status, pushes, closed_on),
        level_name=level_def.name,
        action=level_def.action,
        stage=ep.stage,
        closed_on=closed_on,
        pushes=pushes,
        **provenance,
    )


def _units(pack: Pack, run: _Run, ep: _Episode, level_def: LevelDef, tier: int | None) -> tuple[str, ...]:
    """A warning's responsible units, each once: the ladder's route at its tier, its
    level's, then those of the project, its stage and its step (as durable routed them)."""
    spec = pack.spec
    routes = run.routes.get(run.group[ep.w], {})
    units: list[str] = []
    if spec.ladder is not None and tier is not None and "route" in routes:
        units += spec.ladder.routes[routes["route"]].tiers[tier]
    units += level_def.units
    if "project" in routes:
        units += spec.project_unit[routes["project"]].units
    if ep.stage is not None:
        n = pack.stage_order[ep.stage]
        if f"stage.{n}" in routes:
            units += spec.stages[n].responsible[routes[f"stage.{n}"]].units
    if ep.step is not None:
        n = next(k for k, s in enumerate(spec.steps) if s.name == ep.step)
        if f"step.{n}" in routes:
            units += spec.steps[n].responsible[routes[f"step.{n}"]].units
    return tuple(dict.fromkeys(units))
