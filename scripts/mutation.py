"""Mutation testing of the rule kinds, sign-off, dates and the ladder, with mutmut.

Install the tool by hand into the project's venv (it is not a dependency of the project):

    .venv/bin/pip install "mutmut>=3.8,<4"

Run (from the repository root; one worker process, the machine is shared):

    .venv/bin/python scripts/mutation.py                      # every module below
    .venv/bin/python scripts/mutation.py signoff deadline     # some of them
    .venv/bin/python scripts/mutation.py --list               # the modules and their tests

The run happens in a copy of the repository (``--workdir``, by default a directory under the
system's temp dir, made afresh each run), never in the working tree: mutmut writes a
``mutants/`` tree and its configuration goes into the copy's ``pyproject.toml`` only.
mutmut picks, for each mutant, the tests of the selection below that ran the mutated
function; the selection itself is the fast one (fixtures, engine, dates, pack format, the
mutant tests), never the slow differential tests.

(tests/test_docs.py is in it for the pack words each kind writes: ``measures``,
``levels_in_words``.) The score of a module is killed / (all mutants - equivalent mutants); a mutant no test
ran counts as a survivor. Equivalent mutants (no test can tell them from the original)
are listed in ``scripts/mutation_equivalent.txt``, one a line::

    module | function | original line -> mutated line | reason

(the lines as ``mutmut show`` prints them, stripped; the reason holds no " | "). The script prints the score per
module, the equivalent mutants it excluded with their reasons, and the survivors with
their diffs. Exit status 1 when a module scores under ``--threshold`` (default 90).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = ROOT / "scripts/mutation_equivalent.txt"
PKG = "src/lifecycle_rules"

# module -> (file, mutant-name pattern). The ladder is one function of engine.py. kinds/__init__.py
# (REGISTRY) and kinds/episode.py (a dataclass) have no function for mutmut to mutate.
MODULES: dict[str, tuple[str, str]] = {
    "signoff": (f"{PKG}/core/signoff.py", "lifecycle_rules.core.signoff.*"),
    "deadline": (f"{PKG}/kinds/deadline.py", "lifecycle_rules.kinds.deadline.*"),
    "stagnation": (f"{PKG}/kinds/stagnation.py", "lifecycle_rules.kinds.stagnation.*"),
    "shortfall": (f"{PKG}/kinds/shortfall.py", "lifecycle_rules.kinds.shortfall.*"),
    "cadence": (f"{PKG}/kinds/cadence.py", "lifecycle_rules.kinds.cadence.*"),
    "dates": (f"{PKG}/core/dates.py", "lifecycle_rules.core.dates.*"),
    "ladder": (f"{PKG}/core/engine.py", "lifecycle_rules.core.engine.x__tiers__mutmut_*"),
}

# The fast selection (a few seconds in all). Missing files (no mutant tests yet) are skipped.
TESTS = [
    "tests/test_engine.py",
    "tests/test_dates.py",
    "tests/test_pack_format.py",
    "tests/test_kinds.py",
    "tests/test_calendar.py",
    "tests/test_docs.py",
    "tests/test_mutants_signoff.py",
    "tests/test_mutants_kinds.py",
    "tests/test_mutants_dates.py",
    "tests/test_mutants_ladder.py",
    "tests/test_mutants_stagnation.py",
    "tests/test_mutants_shortfall.py",
    "tests/test_mutants_cadence.py",
    "rulepacks",
]

# Tests that read the source files themselves (mutmut's copies are long): not about behaviour.
DESELECT = ["--deselect", "tests/test_kinds.py::test_no_module_is_over_500_lines"]

COPIED = ["src", "tests", "rulepacks", "docs", "examples", "scripts", "README.md", "CHANGELOG.md"]

KILLED = {1, 3, 36, 24, -24, 152, 255, 37}  # test failure, pytest error, timeouts, type check


@dataclass
class Equivalent:
    module: str
    function: str
    change: str
    reason: str
    used: bool = False


@dataclass
class Score:
    module: str
    total: int = 0
    killed: int = 0
    equivalent: list[tuple[str, Equivalent]] = field(default_factory=list)
    survivors: list[tuple[str, str, str]] = field(default_factory=list)  # name, change, diff

    @property
    def percent(self) -> float:
        counted = self.total - len(self.equivalent)
        return 100.0 if counted <= 0 else 100.0 * self.killed / counted


def read_equivalents(path: Path = EQUIVALENT_FILE) -> list[Equivalent]:
    out: list[Equivalent] = []
    if not path.exists():
        return out
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        # The change may hold " | " itself (a type union); the reason may not.
        head = line.split(" | ", 2)
        if len(head) != 3 or " | " not in head[2]:
            raise SystemExit(f"{path}:{n}: expected 'module | function | change | reason'")
        change, reason = head[2].rsplit(" | ", 1)
        out.append(Equivalent(head[0].strip(), head[1].strip(), change.strip(), reason.strip()))
    return out


def prepare(workdir: Path, modules: list[str]) -> list[str]:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, workdir / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.exists():
            shutil.copy2(src, workdir / name)
    tests = [t for t in TESTS if (ROOT / t).exists()]
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", pyproject)
    only = sorted({MODULES[m][0] for m in modules})
    pyproject += "\n[tool.mutmut]\n" + "\n".join([
        'source_paths = ["src"]',
        f"also_copy = {json.dumps([c for c in COPIED if c not in ('src', 'tests')])}",
        f"only_mutate = {json.dumps(only)}",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        f"pytest_add_cli_args = {json.dumps(['-p', 'no:cacheprovider', '-p', 'no:xdist', '-x', '-q', *DESELECT])}",
        "use_git_change_detection = false",
        "timeout_multiplier = 10.0",
    ]) + "\n"
    (workdir / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return tests


def mutmut(workdir: Path, *args: str, capture: bool = True) -> str:
    exe = Path(sys.executable).with_name("mutmut")
    cmd = [str(exe) if exe.exists() else "mutmut", *args]
    done = subprocess.run(cmd, cwd=workdir, text=True, capture_output=capture, check=False)
    if done.returncode != 0 and args[0] == "run":
        out = (done.stdout or "") + (done.stderr or "")
        raise SystemExit(f"mutmut {' '.join(args)} failed ({done.returncode}):\n{out[-4000:]}")
    return done.stdout if capture else ""


def function_of(name: str) -> str:
    """lifecycle_rules.core.signoff.x_standing__mutmut_12 -> standing;
    lifecycle_rules.kinds.deadline.xǁDeadlineClockǁ__call____mutmut_3 -> DeadlineClock.__call__."""
    last = name.rsplit(".", 1)[1]
    last = re.sub(r"__mutmut_\d+$", "", last)
    if last.startswith("xǁ"):
        cls, meth = last[2:].split("ǁ", 1)
        return f"{cls}.{meth}"
    return last[2:] if last.startswith("x_") else last


def change_of(diff: str) -> str:
    """The changed lines of a ``mutmut show`` diff, as 'original -> mutated' (stripped)."""
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return f"{' / '.join(minus)} -> {' / '.join(plus)}"


def results(workdir: Path, module: str, equivalents: list[Equivalent]) -> Score:
    path, pattern = MODULES[module]
    meta = workdir / "mutants" / (path + ".meta")
    codes: dict[str, int | None] = {}
    if meta.exists():
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    score = Score(module)
    for name, code in sorted(codes.items(), key=lambda kv: natural(kv[0])):
        if not fnmatch.fnmatch(name, pattern):
            continue
        score.total += 1
        if code in KILLED:
            score.killed += 1
            continue
        diff = mutmut(workdir, "show", name)
        change = change_of(diff)
        func = function_of(name)
        match = next((e for e in equivalents if e.module == module and e.function == func
                      and e.change == change), None)
        if match is not None:
            match.used = True
            score.equivalent.append((name, match))
        else:
            status = {0: "survived", None: "not checked", 33: "no tests", 5: "no tests"}.get(code, f"exit {code}")
            score.survivors.append((name, f"[{status}] {func}: {change}", diff))
    return score


def natural(name: str) -> tuple[str, int]:
    m = re.search(r"(\d+)$", name)
    return (name[: m.start()] if m else name, int(m.group(1)) if m else 0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", nargs="*", metavar="module",
                    help=f"modules to mutate (default: all): {', '.join(MODULES)}")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "lifecycle-rules-mutation")
    ap.add_argument("--threshold", type=float, default=90.0)
    ap.add_argument("--diffs", action="store_true", help="print the diff of each survivor")
    ap.add_argument("--list", action="store_true", help="list the modules and the test selection")
    ap.add_argument("--report-only", action="store_true", help="report the last run in --workdir again")
    args = ap.parse_args(argv)
    modules = args.modules or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        ap.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    if args.list:
        for m, (p, pat) in MODULES.items():
            print(f"{m:11} {p}  ({pat})")
        print("tests:", " ".join(t for t in TESTS if (ROOT / t).exists()))
        return 0
    equivalents = read_equivalents()
    if not args.report_only:
        prepare(args.workdir, modules)
        print(f"mutmut in {args.workdir}: {', '.join(modules)}", flush=True)
        mutmut(args.workdir, "run", "--max-children", "1", *[MODULES[m][1] for m in modules])
    scores = [results(args.workdir, m, equivalents) for m in modules]

    print("\nscore per module (killed / (mutants - equivalent)):")
    for s in scores:
        print(f"  {s.module:11} {s.percent:5.1f}%  killed {s.killed:4} of {s.total - len(s.equivalent):4}"
              f"  ({s.total} mutants, {len(s.equivalent)} equivalent, {len(s.survivors)} surviving)")
    all_total = sum(s.total - len(s.equivalent) for s in scores)
    all_killed = sum(s.killed for s in scores)
    print(f"  {'all':11} {100.0 * all_killed / max(all_total, 1):5.1f}%  killed {all_killed:4} of {all_total:4}")
    for s in scores:
        if s.equivalent:
            print(f"\nequivalent mutants of {s.module} (excluded):")
            for name, e in s.equivalent:
                print(f"  {name}: {e.change}\n      {e.reason}")
    for s in scores:
        if s.survivors:
            print(f"\nsurvivors of {s.module}:")
            for name, what, diff in s.survivors:
                print(f"  {name} {what}")
                if args.diffs:
                    print("\n".join("      " + ln for ln in diff.splitlines()[2:]))
    stale = [e for e in equivalents if e.module in modules and not e.used]
    for e in stale:
        print(f"\nnote: listed as equivalent but not found in this run: {e.module} | {e.function} | {e.change}")
    low = [s.module for s in scores if s.percent < args.threshold]
    if low:
        print(f"\nunder {args.threshold:g}%: {', '.join(low)}")
    return 1 if low else 0


if __name__ == "__main__":
    raise SystemExit(main())
