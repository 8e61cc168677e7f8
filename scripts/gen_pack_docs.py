"""Generate ``docs/packs.md``: every built-in rule pack, clause by clause.

    python scripts/gen_pack_docs.py            # (re)write docs/packs.md
    python scripts/gen_pack_docs.py --check    # exit 1 if docs/packs.md is stale

The packs come from ``lifecycle_rules.discover_packs()`` (entry-point group
``lifecycle_rules.packs``). By default only the packs this distribution ships are
documented, so the output does not depend on which third-party plugins happen to be
installed; ``--include-plugins`` documents those too (e.g. for a deployment's own copy).
The output is deterministic: packs by id, everything else in pack order, numbers from
the packs' stated parameter defaults.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from lifecycle_rules import PackEntry, discover_packs
from lifecycle_rules.kinds import REGISTRY
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.spec import Assignment, ProjectSet, ReportSum, Rule
from lifecycle_rules.pack.versions import dates_text
from lifecycle_rules.pack.words import NO_DEFAULT, code, condition, default, levels_sorted, needs_limit

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "packs.md"
BUILTIN_ORIGIN = "lifecycle_rules._builtin:"

ACTION_WORDS = {
    "no_action_needed": "无需办理 (no_action_needed)",
    "in_progress": "正在办理 (in_progress)",
    "completed": "已完成办理 (completed)",
    "project_exited": "项目退出 (project_exited)",
}


# -- small formatters ----------------------------------------------------------------------

def cell(text: object) -> str:
    """One Markdown table cell: one line, pipes escaped."""
    s = " ".join(str(text).split())
    return s.replace("|", "\\|") if s else "—"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


# -- conditions and assignments --------------------------------------------------------------

def assignments(items: Sequence[Assignment]) -> str:
    if not items:
        return "—"
    out: list[str] = []
    for a in items:
        units = "、".join(a.units)
        if a.when is None:
            out.append(units if len(items) == 1 else f"otherwise {units}")
        else:
            out.append(f"{units} if {condition(a.when)}")
    return "; ".join(out)


# -- rules in words --------------------------------------------------------------------------

def measures(rule: Rule) -> str:
    text: str = REGISTRY[rule.kind].measures(rule)
    if rule.when is not None:
        text += f"; only for: {condition(rule.when)}"
    if rule.subject is not None:
        text += f"; subject {rule.subject}"
    return text


WINDOW_WORDS = {"year": "1 Jan of as_of's year to as_of", "all": "everything up to as_of"}


def rate_side(part: ProjectSet | ReportSum) -> str:
    if isinstance(part, ReportSum):
        return (f"sum of {part.field} of {part.report} (window year: all twelve months of the "
                "year, no value while one is missing)")
    what = (f"{part.step_completed} done" if part.step_completed is not None
            else f"plan.{part.plan}")
    return f"projects with {what} " + ("in the window" if part.within == "window" else "by as_of")


def level_words(pack: Pack, rule: Rule) -> str:
    if rule.id in pack.inactive:  # a parameter with no default: no number to show
        return needs_limit(pack, rule)
    return str(REGISTRY[rule.kind].levels_in_words(pack, rule))


# -- one pack --------------------------------------------------------------------------------

def render_pack(pack: Pack) -> list[str]:
    spec = pack.spec
    pol = spec.policy
    out = [f"## {spec.city} `{spec.id}` — {pol.title}", ""]
    facts = [
        ("Pack version", code(spec.version)),
        ("Policy", f"{pol.title} (`{pol.file}`)"),
        ("Status", pol.status or "—"),
        ("Issued", pol.issued.isoformat() if pol.issued else "—"),
        ("Effective", dates_text(spec.effective) + (f". Reading: {spec.effective.reading}"
                                                    if spec.effective and spec.effective.reading else "")),
        ("Scope", condition(spec.scope) + (f" ({spec.scope_clause})" if spec.scope_clause
                                           else "")),
    ]
    if spec.event_types:
        facts.append(("Extra event types", ", ".join(code(t) for t in spec.event_types)))
    out += [f"- **{k}**: {' '.join(v.split())}" for k, v in facts]
    out.append("")

    out += ["### Levels", ""]
    out += table(["level", "local name", "action"],
                 [(code(lv), spec.levels[lv].name, spec.levels[lv].action)
                  for lv in levels_sorted(spec.levels)])
    out.append("")

    if spec.parameters:
        out += ["### Parameters", "",
                "Values the policy does not publish. Override with `load_pack(id, "
                "parameters=...)`, `lifecycle-rules evaluate --param NAME=VALUE` or a "
                "fixture's `parameters:`."
                + (f" A parameter with **{NO_DEFAULT}** leaves the rules that use it inactive "
                   "(they find nothing) until a deployment sets it." if pack.inactive else ""), ""]
        users: dict[str, list[str]] = {}
        for rule_id, names in pack.inactive.items():
            for name in names:
                users.setdefault(name, []).append(code(rule_id))
        out += table(["parameter", "default", "description", "reading"],
                     [(code("$" + name), default(p.default)
                       + (f" (inactive until set: {', '.join(users[name])})" if name in users else ""),
                       p.description, p.reading or "")
                      for name, p in spec.parameters.items()])
        out.append("")

    out += ["### Milestone words", ""]
    out += table(["word", "step"], [(w, spec.milestones[w]) for w in spec.milestones])
    out.append("")

    out += ["### Steps (环节)", ""]
    out += table(["step", "aliases", "responsible", "clause"],
                 [(s.name, "、".join(s.aliases), assignments(s.responsible), s.clause or "")
                  for s in spec.steps])
    out.append("")

    if spec.stages:
        out += ["### Stages (阶段)", ""]
        if spec.initial_stage:
            out += [f"Initial stage: **{spec.initial_stage}** (assumed from the project's "
                    "first event until a step enters a stage).", ""]
        rows = []
        for st in spec.stages:
            entry = [f"{s} completed" for s in st.entered_by.completed]
            entry += [f"{s} started" for s in st.entered_by.started]
            rows.append((st.name, "; ".join(entry), assignments(st.responsible), st.clause or ""))
        out += table(["stage", "entered when", "responsible", "clause"], rows)
        out.append("")

    if spec.project_unit:
        out += ["### Project unit (项目责任单位)", "", assignments(spec.project_unit), ""]

    if spec.ladder is not None:
        lad = spec.ladder
        out += ["### Coordination ladder (协调机制)", "",
                (f"Tier from the count of the project's **{lad.counts}** warnings, "
                 f"1 to {lad.max_tier}" if lad.max_tier > 1 else "A single tier")
                + f". Clause: {lad.clause}.", ""]
        if lad.reading:
            out += [f"Reading: {' '.join(lad.reading.split())}", ""]
        tiers = list(range(1, lad.max_tier + 1))
        out += table(["#", "when", *[f"tier {t}" for t in tiers], "reading"],
                     [(i + 1, condition(r.when) if r.when or i == 0 else "any other project",
                       *["、".join(r.tiers[t]) for t in tiers], r.reading or "")
                      for i, r in enumerate(lad.routes)])
        out += ["", "The first route whose condition holds gives the units.", ""]

    so = spec.signoff
    out += ["### Sign-off (预警办理与销号)", ""]
    out.append("- **Closing actions**: " + ", ".join(ACTION_WORDS[a] for a in so.closing_actions))
    for lv in levels_sorted(so.closing_actions_by_level):
        acts = so.closing_actions_by_level[lv]
        out.append(f"- **Closing actions at {lv}**: " + ", ".join(ACTION_WORDS[a] for a in acts))
    if so.cycle_days is not None:
        limit = so.cycle_days * (so.overdue_after_pushes or 0)
        out.append(f"- **Cycle**: {so.cycle_days} days from 正在办理; 销号超时 "
                   f"(closure_overdue) after push {so.overdue_after_pushes}, from day "
                   f"{limit + 1}, unless an extension runs")
    else:
        out.append("- **Cycle**: none (正在办理 stays in progress without a deadline)")
    if so.clause:
        out.append(f"- **Clause**: {so.clause}")
    if so.reading:
        out.append(f"- **Reading**: {' '.join(so.reading.split())}")
    out.append("")

    if spec.calendar:
        out += ["### Calendar years supplied by the pack", ""]
        out += table(["year", "holidays", "make-up workdays", "source"],
                     [(y, ", ".join(d.isoformat() for d in c.holidays),
                       ", ".join(d.isoformat() for d in c.workdays), c.source)
                      for y, c in sorted(spec.calendar.items())])
        out.append("")

    out += [f"### Rules ({len(spec.rules)})", ""]
    if pack.inactive:
        out += [f"{len(pack.inactive)} of them need a limit the pack does not give (a parameter "
                f"with no default): they are inactive, and find nothing, until a deployment sets it: "
                + ", ".join(code(r) for r in pack.inactive) + ".", ""]
    worded = [r for r in spec.rules if r.quote or r.summary]
    if worded:
        out += table(["id", "clause", "原文 (Chinese)", "in English"],
                     [(code(r.id), r.clause, " ".join((r.quote or "").split()),
                       " ".join((r.summary or "").split())) for r in worded])
        out.append("")
    out += table(["id", "标题", "kind", "clause", "measures", "levels", "reading"],
                 [(code(r.id), r.title, r.kind, r.clause, measures(r), level_words(pack, r),
                   r.reading or "") for r in spec.rules])
    out.append("")
    if spec.rates:
        out += [f"### Portfolio rates ({len(spec.rates)})", ""]
        out += table(["id", "name", "clause", "window", "numerator", "denominator", "reading"],
                     [(code(r.id), r.name, r.clause, WINDOW_WORDS[r.window],
                       rate_side(r.numerator), rate_side(r.denominator),
                       " ".join((r.reading or "").split())) for r in spec.rates])
        out.append("")
    if spec.not_encoded:
        out += ["### Read and deliberately not encoded", ""]
        out += table(["clause", "why"], [(n.clause, " ".join(n.reading.split()))
                                         for n in spec.not_encoded])
        out.append("")
    return out


# -- the whole file --------------------------------------------------------------------------

def packs(include_plugins: bool = False) -> list[Pack]:
    """The documented packs, by id; a pack that fails to load is an error here."""
    chosen: list[PackEntry] = [e for e in discover_packs()
                               if include_plugins or e.origin.startswith(BUILTIN_ORIGIN)]
    broken = [f"{e.id}: {e.error}" for e in chosen if e.pack is None]
    if broken:
        raise RuntimeError("packs that fail to load:\n" + "\n".join(broken))
    return sorted((e.pack for e in chosen if e.pack is not None), key=lambda p: p.id)


def render(pack_list: Sequence[Pack]) -> str:
    out = [
        "# Rule packs",
        "",
        "<!-- Generated by scripts/gen_pack_docs.py from the installed packs; do not edit. -->",
        "<!-- Regenerate: python scripts/gen_pack_docs.py (tests/test_docs.py checks it). -->",
        "",
        "Each city's rules as its pack encodes them, with the clause each implements and "
        "the pack's reading of vague clauses. The pack format is described in "
        "[pack-format.md](pack-format.md); the time rules (SPEC §5) are: a threshold T is "
        "reached on the first day whose elapsed time exceeds T (day 91 for a 90-day limit), "
        "working days are counted in (anchor, D], months from the anchor in one step. "
        "Numbers are computed from the parameters' stated defaults; a rule whose parameter "
        "has no default is shown as inactive until a deployment sets it (it needs a limit).",
        "",
    ]
    out += table(["pack", "city", "version", "policy", "status", "rules"],
                 [(f"[{code(p.id)}](#{_anchor(p)})", p.spec.city, p.spec.version,
                   p.spec.policy.title, p.spec.policy.status, f"{len(p.spec.rules)}"
                   + (f" ({len(p.inactive)} need a limit)" if p.inactive else ""))
                  for p in pack_list])
    out.append("")
    for p in pack_list:
        out += render_pack(p)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def _anchor(pack: Pack) -> str:
    """GitHub's heading anchor of the pack's section."""
    heading = f"{pack.spec.city} {pack.spec.id} — {pack.spec.policy.title}".lower()
    kept = "".join(c for c in heading if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def generate(include_plugins: bool = False) -> str:
    return render(packs(include_plugins))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    ap.add_argument("--include-plugins", action="store_true",
                    help="also document installed third-party packs")
    ap.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = ap.parse_args(argv)
    text = generate(args.include_plugins)
    current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
    if args.check:
        if current != text:
            print(f"{args.output} is stale: run python scripts/gen_pack_docs.py",
                  file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
