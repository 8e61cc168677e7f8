"""Packs as plugins: the entry-point group, and a broken plugin not stopping the others."""

from __future__ import annotations

import shutil
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from lifecycle_rules import discover_packs, load_pack
from lifecycle_rules.errors import PackError
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
    # third-party plugins are probed in a subprocess with this process's sys.path: real modules
    (tmp_path / "lr_where.py").write_text(f"DEMO_PATH = {str(good)!r}\nBROKEN_PATH = {str(broken)!r}\n",
                                          encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [
        EntryPoint("demo", "lr_where:DEMO_PATH", plugins.GROUP),
        EntryPoint("broken", "lr_where:BROKEN_PATH", plugins.GROUP),
        EntryPoint("missing", "no_such_module_xyz:f", plugins.GROUP),
        EntryPoint("other", "lr_where:DEMO_PATH", plugins.GROUP),
        *plugins._entry_points(),
    ]
    monkeypatch.setattr(plugins, "_entry_points", lambda: sorted(eps, key=lambda e: e.name))
    found = {e.id: e for e in discover_packs()}
    assert found["demo"].pack is not None and found["demo"].pack.id == "demo"
    assert found["jiande"].pack is not None
    assert found["broken"].pack is None and "pack.yaml" in (found["broken"].error or "")
    assert found["missing"].pack is None and "ModuleNotFoundError" in (found["missing"].error or "")
    assert found["other"].pack is None and "the pack's id is 'demo', not 'other'" in (found["other"].error or "")
    assert load_pack("demo").id == "demo"
    with pytest.raises(PackError, match=r"pack plugin 'missing' \(no_such_module_xyz:f\) failed to load: "
                                        "ModuleNotFoundError"):
        load_pack("missing")


def test_plugin_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(plugins.TIMEOUT_ENV, raising=False)
    assert plugins.timeout() == plugins.TIMEOUT == 10
    monkeypatch.setenv(plugins.TIMEOUT_ENV, "0.5")
    assert plugins.timeout() == 0.5
    for bad in ("0", "-1", "nan", "inf", "soon"):
        monkeypatch.setenv(plugins.TIMEOUT_ENV, bad)
        assert plugins.timeout() == plugins.TIMEOUT


def test_a_path_works_too() -> None:
    assert load_pack(str(ROOT / "rulepacks/luohe")).id == "luohe"
    assert load_pack(ROOT / "tests/data/packs/demo").id == "demo"
