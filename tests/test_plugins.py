"""Packs as plugins: the entry-point group, and a broken plugin not stopping the others."""

from __future__ import annotations

import shutil
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from lifecycle_rules import discover_packs, load_pack
from lifecycle_rules.pack import plugins

ROOT = Path(__file__).resolve().parent.parent


def test_builtins_come_through_the_entry_point_group() -> None:
    names = {ep.name: ep.value for ep in plugins._entry_points()}
    assert names["jiande"] == "lifecycle_rules._builtin:jiande"
    assert names["luohe"] == "lifecycle_rules._builtin:luohe"


def test_third_party_and_broken_plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    good = tmp_path / "demo"
    shutil.copytree(ROOT / "tests/data/packs/demo", good)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pack.yaml").write_text("id: broken\nversion: 1\n", encoding="utf-8")
    eps = [
        EntryPoint("demo", f"{__name__}:DEMO_PATH", plugins.GROUP),
        EntryPoint("broken", f"{__name__}:BROKEN_PATH", plugins.GROUP),
        EntryPoint("missing", "no_such_module_xyz:f", plugins.GROUP),
        *plugins._entry_points(),
    ]
    globals()["DEMO_PATH"] = str(good)
    globals()["BROKEN_PATH"] = broken
    monkeypatch.setattr(plugins, "_entry_points", lambda: sorted(eps, key=lambda e: e.name))
    found = {e.id: e for e in discover_packs()}
    assert found["demo"].pack is not None and found["demo"].pack.id == "demo"
    assert found["jiande"].pack is not None
    assert found["broken"].pack is None and "pack.yaml" in (found["broken"].error or "")
    assert found["missing"].pack is None and "ModuleNotFoundError" in (found["missing"].error or "")
    assert load_pack("demo").id == "demo"


def test_a_path_works_too() -> None:
    assert load_pack(str(ROOT / "rulepacks/luohe")).id == "luohe"
    assert load_pack(ROOT / "tests/data/packs/demo").id == "demo"
