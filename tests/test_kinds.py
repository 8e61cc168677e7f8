"""The house: a rule kind is one module, and the rest follows from the registry; the pure
core imports no I/O; no module is too long to read.

These tests fail when a kind is added without its docs, its fixtures, its strategies or
its counterpart in the durable engine, and when an import points the wrong way."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

import pytest
import strategies

from lifecycle_rules.kinds import REGISTRY
from lifecycle_rules.pack.spec import PackSpec
from lifecycle_rules.pack.yamlfile import load_yaml_file

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src/lifecycle_rules"
KIND_API = ("Model", "check", "compile", "measures", "levels_in_words")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_kind_is_one_module_with_everything_about_it(name: str) -> None:
    module = REGISTRY[name]
    missing = [attr for attr in KIND_API if not hasattr(module, attr)]
    assert not missing, f"kinds/{name}.py lacks {missing}"
    assert typing.get_args(module.Model.model_fields["kind"].annotation) == (name,)
    assert module.__doc__ and module.Model.__doc__, f"kinds/{name}.py: say what the kind is"


def test_the_pack_schema_takes_its_rules_from_the_registry() -> None:
    annotation = PackSpec.model_fields["rules"].annotation
    union = typing.get_args(typing.get_args(typing.get_args(annotation)[0])[0])
    assert set(union) == {k.Model for k in REGISTRY.values()}
    # The static spelling for type checkers names the same models.
    spec = (SRC / "pack/spec.py").read_text(encoding="utf-8")
    static = re.search(r"if TYPE_CHECKING:\n\s+Rule = Annotated\[([^,]+),", spec)
    assert static is not None
    assert {n.strip() for n in static[1].split("|")} == {k.Model.__name__ for k in REGISTRY.values()}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_kind_is_documented(name: str) -> None:
    doc = (ROOT / "docs/pack-format.md").read_text(encoding="utf-8")
    assert f"kind: {name}" in doc or f"`{name}`" in doc, f"docs/pack-format.md says nothing of kind {name}"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_kind_has_fixtures(name: str) -> None:
    packs = [*ROOT.glob("rulepacks/*/pack.yaml"), *ROOT.glob("tests/data/packs/*/pack.yaml")]
    kinds = {rule.get("kind") for p in packs for rule in load_yaml_file(p).data["rules"]}
    assert name in kinds, f"no pack with fixtures has a {name} rule"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_kind_has_a_durable_counterpart_and_strategies(name: str) -> None:
    from lifecycle_rules.engines import durable

    assert name in durable.KINDS, f"the durable engine does not implement kind {name}"
    assert name in strategies.KINDS_DRAWN, f"tests/strategies.py draws no histories for kind {name}"


# -- the import direction ----------------------------------------------------------------------

# The pure core (and the rule kinds) never import the I/O, an engine adapter, the fixture
# runner, or the modules that read pack and calendar files.
PURE = ("core", "kinds")
FORBIDDEN_FROM_PURE = ("lifecycle_rules.io", "lifecycle_rules.office", "lifecycle_rules.engines",
                       "lifecycle_rules.testing", "lifecycle_rules.pack.load", "lifecycle_rules.pack.plugins",
                       "lifecycle_rules.pack.yamlfile", "lifecycle_rules.pack.validate")
# The pack format and its loading never import the I/O or an engine adapter.
FORBIDDEN_FROM_PACK = ("lifecycle_rules.io", "lifecycle_rules.office", "lifecycle_rules.engines",
                       "lifecycle_rules.testing")


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize(("folder", "forbidden"), [*((f, FORBIDDEN_FROM_PURE) for f in PURE),
                                                   ("pack", FORBIDDEN_FROM_PACK)])
def test_imports_point_inward(folder: str, forbidden: tuple[str, ...]) -> None:
    bad = [f"{path.relative_to(SRC)} imports {name}"
           for path in sorted((SRC / folder).rglob("*.py"))
           for name in sorted(imports_of(path)) if name.startswith(forbidden)]
    assert not bad, bad
    relative = [str(p.relative_to(SRC)) for p in (SRC / folder).rglob("*.py")
                if re.search(r"^\s*from \.", p.read_text(encoding="utf-8"), re.M)]
    assert not relative, f"relative imports hide the direction: {relative}"


def test_no_module_is_over_500_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert not long, long
