"""Pack fixtures (SPEC §7): load them, run them, and measure what they cover.

A fixture is one YAML file under ``<pack>/fixtures/``::

    name: 落地未开工 — orange at day 76, red at day 91
    clause: jiande-2024.txt 五.2, 三(三)
    parameters: {}            # optional: pack parameters for this fixture
    include_closed: false     # optional: also expect closed warnings
    history: {project: {...}, plan: {...}, events: [...]}
    checks:
      - as_of: 2024-05-16
        warnings: []
      - as_of: 2024-05-17
        warnings:
          - {rule: jd.land-to-start, subject: 开工监管, level: orange, since: 2024-05-17,
             tier: 1, status: open}

Each check's ``warnings`` is the whole list expected on that day (none missing, none
extra); each expected warning is compared on the keys it gives (``rule`` and ``level``
are required). A rule that needs a limit (a parameter with no default, ``Pack.inactive``)
finds nothing as the pack ships: only fixtures that set the parameter exercise it, and
the report counts such rules apart. Third-party packs reuse this module: ``lifecycle-rules test PACK_DIR``,
or in their own ``conftest.py``: ``from lifecycle_rules.testing import
pytest_collect_file``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from lifecycle_rules.core.engine import evaluate
from lifecycle_rules.core.results import ProjectWarning
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level, Status
from lifecycle_rules.errors import LifecycleRulesError, PackError
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.load import PACK_FILE, load_pack_dir
from lifecycle_rules.pack.validate import validate_doc
from lifecycle_rules.pack.yamlfile import clip, clip_quoted, load_yaml_file

_STRICT = ConfigDict(frozen=True, extra="forbid")


class ExpectedWarning(BaseModel):
    model_config = _STRICT
    rule: str
    level: Level
    subject: str | None = None
    since: dt.date | None = None
    due: dt.date | None = None
    tier: int | None = None
    status: Status | None = None
    responsible: list[str] | None = None
    closed_on: dt.date | None = None
    pushes: int | None = None
    key: str | None = None
    level_name: str | None = None
    action: str | None = None


class Check(BaseModel):
    model_config = _STRICT
    as_of: dt.date
    warnings: list[ExpectedWarning] = []
    notices: list[str] | None = Field(default=None, description="substrings expected among notices")


class Fixture(BaseModel):
    model_config = _STRICT
    name: str
    clause: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, int | float | str] = {}
    include_closed: bool = False
    history: dict[str, Any]
    checks: list[Check] = Field(min_length=1)
    file: str = ""
    _check_lines: list[int | None] = PrivateAttr(default_factory=list)  # each check's line in the file

    def check_line(self, index: int) -> int | None:
        """The line of ``checks[index]`` in the fixture file (None if not loaded from one)."""
        return self._check_lines[index] if index < len(self._check_lines) else None


def load_fixture(path: str | Path) -> Fixture:
    """A fixture file, validated. In a pack's ``fixtures/`` it must be a file of that pack: a
    symlink to a file outside the pack directory is refused, unread (inside it is fine)."""
    p = Path(path)
    doc = load_yaml_file(p, within=p.parent.parent if p.parent.name == "fixtures" else p.parent)
    if isinstance(doc.data, dict):
        doc.data.setdefault("file", str(path))
    fixture = validate_doc(Fixture, doc, "fixture")
    fixture._check_lines = [doc.line_of(("checks", i)) for i in range(len(fixture.checks))]
    return fixture


def fixture_paths(pack_dir: str | Path) -> list[Path]:
    return sorted((Path(pack_dir) / "fixtures").glob("*.yaml"))


def _fields(w: ProjectWarning) -> dict[str, Any]:
    """What a fixture can expect of a warning: the fields of ``ExpectedWarning``."""
    out = {name: getattr(w, name) for name in ExpectedWarning.model_fields}
    out["responsible"] = list(w.responsible)
    return out


def _show(d: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in d.items() if v is not None) + "}"


@dataclass
class CheckOutcome:
    fixture: str
    as_of: dt.date
    problems: list[str]
    seen: list[ProjectWarning]
    line: int | None = None  # the check's line in the fixture file


def run_fixture(pack: Pack, fixture: Fixture) -> list[CheckOutcome]:
    """Evaluate each check of the fixture; a check passes when ``problems`` is empty."""
    p = pack.with_parameters(fixture.parameters)
    out: list[CheckOutcome] = []
    for index, check in enumerate(fixture.checks):
        problems: list[str] = []
        line = fixture.check_line(index)
        try:
            result = evaluate(p, fixture.history, check.as_of, include_closed=fixture.include_closed)
        except LifecycleRulesError as exc:
            out.append(CheckOutcome(fixture.file, check.as_of, [f"error: {clip_quoted(str(exc))}"], [], line))
            continue
        actual = list(result.warnings)
        remaining = list(actual)
        for exp in check.warnings:
            want = exp.model_dump(exclude_none=True)
            match = next((w for w in remaining
                          if all(_fields(w)[k] == v for k, v in want.items())), None)
            if match is None:
                near = [w for w in remaining if w.rule == exp.rule]
                got = "; ".join(_show({k: _fields(w)[k] for k in want}) for w in near) or "none"
                problems.append(f"expected {_show(want)}; got for this rule: {got}")
            else:
                remaining.remove(match)
        shown = ("rule", "subject", "level", "since", "tier", "status")
        for w in remaining:
            problems.append(f"unexpected warning {_show({k: v for k, v in _fields(w).items() if k in shown})}")
        for text in check.notices or []:
            if not any(text in n for n in result.notices):
                problems.append(f"expected a notice containing {clip(repr(text))}; "
                                f"notices: {clip_quoted(repr(list(result.notices)))}")
        out.append(CheckOutcome(fixture.file, check.as_of, problems, actual, line))
    return out


@dataclass
class Coverage:
    """Which rules and (rule, level) pairs the fixtures exercise, and which level
    thresholds they pin on both sides (the day before: not yet; the day of: reached)."""

    rules: set[str] = field(default_factory=set)
    levels: set[tuple[str, str]] = field(default_factory=set)
    pinned: set[tuple[str, str]] = field(default_factory=set)
    wanted_levels: set[tuple[str, str]] = field(default_factory=set)
    wanted_rules: set[str] = field(default_factory=set)
    clauses_missing: list[str] = field(default_factory=list)
    # rules inactive as the pack ships (a parameter with no default): only a fixture that
    # sets the parameter can exercise them
    needs_limit: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def missing_rules(self) -> list[str]:
        return sorted(self.wanted_rules - self.rules)

    @property
    def missing_levels(self) -> list[tuple[str, str]]:
        return sorted(self.wanted_levels - self.levels)

    @property
    def unpinned(self) -> list[tuple[str, str]]:
        return sorted(self.wanted_levels - self.pinned)

    @property
    def complete(self) -> bool:
        return not (self.missing_rules or self.missing_levels or self.unpinned
                    or self.clauses_missing)


def coverage(pack: Pack, fixtures: Iterable[Fixture]) -> Coverage:
    cov = Coverage()
    cov.wanted_rules = {r.id for r in pack.rules}
    cov.wanted_levels = {(r.id, lv) for r in pack.rules for lv in r.levels}
    cov.needs_limit = dict(pack.inactive)
    for fx in fixtures:
        if not fx.clause.strip():
            cov.clauses_missing.append(fx.file)
        by_day = {c.as_of: c for c in fx.checks}
        for check in fx.checks:
            for exp in check.warnings:
                cov.rules.add(exp.rule)
                cov.levels.add((exp.rule, exp.level))
                if exp.since != check.as_of:
                    continue
                before = by_day.get(check.as_of - dt.timedelta(days=1))
                if before is None:
                    continue
                same = [w for w in before.warnings if w.rule == exp.rule
                        and (exp.subject is None or w.subject == exp.subject)]
                if all(LEVEL_RANK[w.level] < LEVEL_RANK[exp.level] for w in same):
                    cov.pinned.add((exp.rule, exp.level))
    return cov


@dataclass(frozen=True)
class LoadProblem:
    """A fixture that could not be loaded (or a pack directory without fixtures): the
    message as ``lifecycle-rules test`` prints it, and the file and line it names."""

    text: str
    file: str | None = None
    line: int | None = None


@dataclass
class PackTestReport:
    pack: Pack
    outcomes: list[CheckOutcome]
    coverage: Coverage
    errors: list[str]  # as printed (ERROR ...); ``located`` says where each is
    directory: str = ""
    located: list[LoadProblem] = field(default_factory=list)
    rule_lines: dict[str, int | None] = field(default_factory=dict)  # each rule's line in pack.yaml

    @property
    def failures(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if o.problems]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors and self.coverage.complete


def test_pack(pack_dir: str | Path) -> PackTestReport:
    """Run every fixture of a pack directory and measure coverage."""
    pack = load_pack_dir(pack_dir)
    outcomes: list[CheckOutcome] = []
    errors: list[LoadProblem] = []
    fixtures: list[Fixture] = []
    paths = fixture_paths(pack_dir)
    if not paths:
        errors.append(LoadProblem(f"{pack_dir}: no fixtures/*.yaml", str(Path(pack_dir) / "fixtures")))
    for path in paths:
        try:
            fx = load_fixture(path)
        except PackError as exc:
            errors.append(LoadProblem(str(exc), exc.file or str(path), exc.line))
            continue
        except LifecycleRulesError as exc:
            errors.append(LoadProblem(str(exc), str(path)))
            continue
        fixtures.append(fx)
        outcomes += run_fixture(pack, fx)
    doc = load_yaml_file(Path(pack_dir) / PACK_FILE, within=pack_dir)  # read once more: the rules' lines
    rule_lines = {rule.id: doc.line_of(("rules", i)) for i, rule in enumerate(pack.rules)}
    return PackTestReport(pack, outcomes, coverage(pack, fixtures), [e.text for e in errors], str(pack_dir),
                          errors, rule_lines)


test_pack.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def format_report(report: PackTestReport) -> Iterator[str]:
    checks = len(report.outcomes)
    failed = report.failures
    for err in report.errors:
        yield f"ERROR {err}"
    for o in failed:
        for p in o.problems:
            yield f"FAIL {o.fixture} as_of {o.as_of}: {p}"
    cov = report.coverage
    # Rules that need a limit are counted apart: they are exercised only with it set.
    limited = set(cov.needs_limit) & cov.wanted_rules
    active = cov.wanted_rules - limited
    needing = (f"rules that need a limit exercised with it set {len(cov.rules & limited)}/{len(limited)}, "
               if limited else "")
    yield (f"{report.pack.label}: {checks - len(failed)} of {checks} checks passed; "
           f"rules exercised {len(cov.rules & active)}/{len(active)}, {needing}"
           f"levels {len(cov.levels & cov.wanted_levels)}/{len(cov.wanted_levels)}, "
           f"thresholds pinned on both sides {len(cov.pinned & cov.wanted_levels)}/"
           f"{len(cov.wanted_levels)}")
    for r in cov.missing_rules:
        needs = cov.needs_limit.get(r)
        yield f"NOT EXERCISED rule {r}" + (
            f" (it needs a limit: set {', '.join(needs)} in a fixture's parameters)" if needs else "")
    for r, lv in cov.missing_levels:
        yield f"NOT EXERCISED level {lv} of rule {r}"
    for r, lv in cov.unpinned:
        yield f"NOT PINNED {lv} of rule {r}: no fixture checks the day before and the day of"
    for f in cov.clauses_missing:
        yield f"NO CLAUSE {f}"


# -- pytest: collect fixtures/*.yaml of a pack directory as test items --------------------

def pytest_collect_file(parent: Any, file_path: Path) -> Any:
    """Collect ``<pack>/fixtures/*.yaml`` (next to a pack.yaml) as pytest items."""
    if file_path.suffix == ".yaml" and file_path.parent.name == "fixtures" and \
            (file_path.parent.parent / "pack.yaml").is_file():
        return _FixtureFile.from_parent(parent, path=file_path)
    return None


@cache
def _pytest_classes() -> tuple[type, type]:
    import pytest

    class FixtureFile(pytest.File):
        def collect(self) -> Iterator[Any]:
            pack = _cached_pack(str(self.path.parent.parent))
            fx = load_fixture(self.path)
            for check in fx.checks:
                yield FixtureItem.from_parent(self, name=f"as_of={check.as_of}", pack=pack,
                                              fixture=fx, as_of=check.as_of)

    class FixtureItem(pytest.Item):
        def __init__(self, *, pack: Pack, fixture: Fixture, as_of: dt.date, **kw: Any) -> None:
            super().__init__(**kw)
            self.pack, self.fixture, self.as_of = pack, fixture, as_of

        def runtest(self) -> None:
            one = self.fixture.model_copy(
                update={"checks": [c for c in self.fixture.checks if c.as_of == self.as_of]})
            problems = [p for o in run_fixture(self.pack, one) for p in o.problems]
            if problems:
                raise AssertionError("\n".join(problems))

        def reportinfo(self) -> tuple[Path, int, str]:
            index = next(i for i, c in enumerate(self.fixture.checks) if c.as_of == self.as_of)
            line = self.fixture.check_line(index)
            said = f"{self.fixture.name} [{self.fixture.clause}] as_of {self.as_of}"
            return self.path, (line - 1 if line else 0), said

        def repr_failure(self, excinfo: Any, style: Any = None) -> str:
            if isinstance(excinfo.value, AssertionError):
                return f"{self.fixture.name}\n{excinfo.value}"
            return str(super().repr_failure(excinfo))

    return FixtureFile, FixtureItem


_PACKS: dict[str, Pack] = {}


def _cached_pack(directory: str) -> Pack:
    if directory not in _PACKS:
        _PACKS[directory] = load_pack_dir(directory)
    return _PACKS[directory]


class _Lazy:
    """Defers importing pytest until a pytest run asks for the collector."""

    def from_parent(self, parent: Any, **kw: Any) -> Any:
        file_cls, _ = _pytest_classes()
        return file_cls.from_parent(parent, **kw)  # type: ignore[attr-defined]


_FixtureFile = _Lazy()
