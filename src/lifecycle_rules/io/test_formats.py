"""``lifecycle-rules test --format``: a pack's fixture results for people and for CI.

- ``text``: the report ``testing.format_report`` gives (FAIL and NOT ... lines, a summary).
- ``junit``: one JUnit XML document: a ``<testsuite>`` per pack (``jiande@2024.2``), a
  ``<testcase>`` per fixture check (``classname`` ``<pack id>.<fixture file stem>``,
  ``name`` the check's ``as_of``, ``file`` and ``line`` of the check), its problems in a
  ``<failure>``; a fixture that cannot be loaded is a testcase with an ``<error>``; the
  coverage rules (every rule and level exercised and pinned, every fixture a clause) are
  one more testcase, ``<pack id>.coverage`` / ``coverage``, failed with what is missing.
- ``github``: GitHub Actions workflow commands, ``::error file=F,line=N,title=T::message``
  for each failing check (at its line in the fixture file), each fixture that cannot be
  loaded (at the line its error names) and each coverage gap (at the rule in
  ``pack.yaml``), then the summary line as plain text. Paths under the working directory
  are given relative to it (GitHub resolves them against the checkout).
- ``json``: one document ``{"ok", "packs": [{"pack", "id", "version", "directory", "ok",
  "checks", "passed", "failed", "coverage": {...}, "failures": [...], "errors": [...]}]}``.

Exit codes do not depend on the format: 0 when every pack passes, 1 when one fails, 2
(raised ``LifecycleRulesError``) when a pack cannot be loaded; with ``github`` that pack's
error is also printed as an annotation first.
"""

from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lifecycle_rules.errors import PackError
from lifecycle_rules.testing import PackTestReport, format_report, test_pack

FORMATS = ("text", "junit", "github", "json")


def run_tests(pack_dirs: Sequence[Path], fmt: str, output: Path | None) -> int:
    """Test each pack directory and write the report in ``fmt`` to ``output`` (or stdout).
    On standard output, text and github reports are written pack by pack, as each is done."""
    reports: list[PackTestReport] = []
    stream = (output is None or str(output) == "-") and fmt in ("text", "github")
    for directory in pack_dirs:
        try:
            reports.append(test_pack(directory))
        except PackError as exc:
            if fmt == "github":
                sys.stdout.write(_command("error", exc.file or str(directory), exc.line,
                                          "pack does not load", exc.detail if exc.file else str(exc)))
                sys.stdout.flush()
            raise
        if stream:
            sys.stdout.write(render(reports[-1:], fmt))
            sys.stdout.flush()
    if output is not None and str(output) != "-":
        from lifecycle_rules.io.writers import write_text

        write_text(output, render(reports, fmt))
    elif not stream:
        sys.stdout.write(render(reports, fmt))
    return 0 if all(r.ok for r in reports) else 1


def render(reports: Sequence[PackTestReport], fmt: str) -> str:
    """The reports in ``fmt`` (one of FORMATS), as one text."""
    if fmt == "junit":
        return junit(reports)
    if fmt == "github":
        return "".join(github(r) for r in reports)
    if fmt == "json":
        return json.dumps(summary(reports), ensure_ascii=False, indent=2) + "\n"
    return "".join(line + "\n" for r in reports for line in format_report(r))


# -- what is missing from coverage, as (rule, message) -------------------------------------------

def gaps(report: PackTestReport) -> Iterator[tuple[str | None, str | None, str]]:
    """Each coverage gap: the rule it is about, the fixture file (for a fixture without a
    clause; else None) and the line ``format_report`` gives it."""
    lines = [line for line in format_report(report)
             if line.startswith(("NOT EXERCISED", "NOT PINNED", "NO CLAUSE"))]
    cov = report.coverage
    about: list[tuple[str | None, str | None]] = [
        *((r, None) for r in cov.missing_rules), *((r, None) for r, _ in cov.missing_levels),
        *((r, None) for r, _ in cov.unpinned), *((None, f) for f in cov.clauses_missing)]
    for line, (rule, file) in zip(lines, about, strict=True):
        yield rule, file, line


# -- json ----------------------------------------------------------------------------------------

def _count(have: set[Any], wanted: set[Any]) -> dict[str, int]:
    return {"covered": len(have & wanted), "of": len(wanted)}


def pack_summary(report: PackTestReport) -> dict[str, Any]:
    cov = report.coverage
    limited = set(cov.needs_limit) & cov.wanted_rules
    checks = len(report.outcomes)
    return {
        "pack": report.pack.label,
        "id": report.pack.id,
        "version": report.pack.spec.version,
        "directory": report.directory,
        "ok": report.ok,
        "checks": checks,
        "passed": checks - len(report.failures),
        "failed": len(report.failures),
        "coverage": {
            "complete": cov.complete,
            "rules": _count(cov.rules, cov.wanted_rules - limited),
            "rules_needing_a_limit": _count(cov.rules, limited),
            "levels": _count(cov.levels, cov.wanted_levels),
            "pinned": _count(cov.pinned, cov.wanted_levels),
            "missing_rules": cov.missing_rules,
            "missing_levels": [{"rule": r, "level": lv} for r, lv in cov.missing_levels],
            "unpinned": [{"rule": r, "level": lv} for r, lv in cov.unpinned],
            "fixtures_without_clause": cov.clauses_missing,
        },
        "failures": [{"fixture": o.fixture, "line": o.line, "as_of": o.as_of.isoformat(), "problems": o.problems}
                     for o in report.failures],
        "errors": [{"message": e.text, "file": e.file, "line": e.line} for e in report.located],
    }


def summary(reports: Sequence[PackTestReport]) -> dict[str, Any]:
    return {"ok": all(r.ok for r in reports), "packs": [pack_summary(r) for r in reports]}


# -- junit ---------------------------------------------------------------------------------------

def _stem(path: str) -> str:
    return Path(path).stem


def junit(reports: Sequence[PackTestReport]) -> str:
    """One JUnit XML document (``<testsuites>``) for the reports."""
    suites = ET.Element("testsuites", name="lifecycle-rules test")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for report in reports:
        suite = ET.SubElement(suites, "testsuite", name=report.pack.label)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        for o in report.outcomes:
            case = ET.SubElement(suite, "testcase", classname=f"{report.pack.id}.{_stem(o.fixture)}",
                                 name=o.as_of.isoformat(), file=o.fixture)
            if o.line is not None:
                case.set("line", str(o.line))
            counts["tests"] += 1
            if o.problems:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=o.problems[0], type="FixtureCheckFailed")
                failure.text = "\n".join(o.problems)
        for err in report.located:
            name = _stem(err.file) if err.file else "fixtures"
            case = ET.SubElement(suite, "testcase", classname=f"{report.pack.id}.{name}", name="load")
            if err.file:
                case.set("file", err.file)
            if err.line is not None:
                case.set("line", str(err.line))
            counts["tests"] += 1
            counts["errors"] += 1
            error = ET.SubElement(case, "error", message=err.text, type="FixtureLoadError")
            error.text = err.text
        case = ET.SubElement(suite, "testcase", classname=f"{report.pack.id}.coverage", name="coverage",
                             file=str(Path(report.directory) / "pack.yaml"))
        counts["tests"] += 1
        missing = [line for _, _, line in gaps(report)]
        if missing:
            counts["failures"] += 1
            failure = ET.SubElement(case, "failure", message=f"{len(missing)} coverage gap(s): {missing[0]}",
                                    type="CoverageIncomplete")
            failure.text = "\n".join(missing)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("skipped", "0")
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# -- github --------------------------------------------------------------------------------------

def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _relative(path: str) -> str:
    """A path under the working directory relative to it (GitHub resolves against the checkout)."""
    try:
        here = Path.cwd().resolve()
        resolved = Path(path).resolve()
    except OSError:
        return path
    if resolved.is_relative_to(here):
        return os.path.relpath(resolved, here)
    return path


def _command(kind: str, file: str | None, line: int | None, title: str, message: str) -> str:
    props = [f"file={_prop(_relative(file))}"] if file else []
    if file and line is not None:
        props.append(f"line={line}")
    props.append(f"title={_prop(title)}")
    return f"::{kind} {','.join(props)}::{_data(message)}\n"


def github(report: PackTestReport) -> str:
    """The report as GitHub Actions workflow commands, then its summary line."""
    label = report.pack.label
    out: list[str] = []
    for err in report.located:
        out.append(_command("error", err.file, err.line, f"{label}: fixture does not load", err.text))
    for o in report.failures:
        for problem in o.problems:
            out.append(_command("error", o.fixture, o.line, f"{label}: check as_of {o.as_of.isoformat()} failed",
                                problem))
    pack_yaml = str(Path(report.directory) / "pack.yaml")
    for rule, file, line in gaps(report):
        where = report.rule_lines.get(rule) if rule else None
        out.append(_command("error", file or pack_yaml, where, f"{label}: coverage", line))
    summary_line = next(line for line in format_report(report) if line.startswith(f"{label}: "))
    out.append(summary_line + "\n")
    return "".join(out)
