"""Pack versions side by side and their effective dates (pack.yaml ``effective:``).

Two versions of 建德 are installed together: the built-in ``jiande`` (2024.2, in force from
2024-07-02, 落地未开工 within 90 days) and a test plugin ``jiande@2024.1``, a real
distribution (module, ``.dist-info``, entry point) in a site directory on ``sys.path``: a copy
of the pack in force 2024-01-01 to 2024-07-01 whose 落地未开工 limit is 120 days.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifecycle_rules.core.engine import evaluate
from lifecycle_rules.errors import PackError
from lifecycle_rules.io.cli import main
from lifecycle_rules.pack import plugins
from lifecycle_rules.pack.plugins import discover, load_pack
from lifecycle_rules.pack.versions import check_effective, choose, dates_text, in_force, parse_ref, version_key

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / ".venv/bin/lifecycle-rules"
D = dt.date.fromisoformat

# Landed 2024-03-02: under 2024.1 (120 days) due 2024-06-30, red from 2024-07-01; under
# 2024.2 (90 days) due 2024-05-31, red from 2024-06-01.
LANDED = {"project": {"id": "JD-V-1", "name": "版本测试项目", "sector": "industrial", "investment_wan": 30000,
                      "region": "下涯镇"},
          "events": [{"date": "2024-01-10", "type": "step_completed", "step": "签约"},
                     {"date": "2024-03-02", "type": "step_completed", "step": "拿地"}]}


def old_jiande(target: Path, version: str = "2024.1") -> Path:
    """A copy of the jiande pack as an older version: its dates and one limit changed."""
    shutil.copytree(ROOT / "rulepacks/jiande", target)
    text = (target / "pack.yaml").read_text(encoding="utf-8")
    for old, new in [('version: "2024.2"', f'version: "{version}"'),
                     ("  from: 2024-07-02\n  until: null\n", "  from: 2024-01-01\n  until: 2024-07-01\n"),
                     ("    limit: {days: 90}\n", "    limit: {days: 120}\n")]:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    (target / "pack.yaml").write_text(text, encoding="utf-8")
    return target


def make_site(root: Path, entries: dict[str, str]) -> Path:
    """A distribution ``lr-jiande-old`` whose entry points (name -> pack directory name
    inside its module) give old jiande copies."""
    module = root / "lr_jiande_old"
    module.mkdir(parents=True)
    (module / "__init__.py").write_text(
        "from pathlib import Path\n\n\n" + "".join(
            f"def {fn}():\n    return Path(__file__).with_name({fn!r})\n\n\n" for fn in set(entries.values())),
        encoding="utf-8")
    for fn in set(entries.values()):
        old_jiande(module / fn)
    info = root / "lr_jiande_old-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lr-jiande-old\nVersion: 1.0\n", encoding="utf-8")
    lines = "".join(f"{name} = lr_jiande_old:{fn}\n" for name, fn in entries.items())
    (info / "entry_points.txt").write_text(f"[{plugins.GROUP}]\n{lines}", encoding="utf-8")
    return root


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path / "site", {"jiande@2024.1": "v2024_1"})


@pytest.fixture
def installed(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "lr_jiande_old", raising=False)
    yield site


# -- the pure parts ------------------------------------------------------------------------------


def test_version_order() -> None:
    ordered = ["2022.9", "2024.1", "2024.2-draft", "2024.2", "2024.2.1", "2024.10"]
    assert sorted(reversed(ordered), key=version_key) == ordered
    assert parse_ref("jiande@2024.1") == ("jiande", "2024.1") and parse_ref("jiande") == ("jiande", None)
    with pytest.raises(PackError, match="no version after '@'"):
        parse_ref("jiande@")


def test_builtin_packs_state_their_dates() -> None:
    said = {p: dates_text(load_pack(p).spec.effective) for p in ("jiande", "tongjiang", "wushan", "jiangyin",
                                                                 "luohe")}
    assert said == {"jiande": "in force from 2024-07-02 (no end stated)",
                    "tongjiang": "in force from 2022-01-17 (no end stated)",
                    "wushan": "in force from 2024-09-03 (no end stated)",
                    "jiangyin": "in force from 2022-02-14 (no end stated)",
                    "luohe": "draft, dates not stated"}
    luohe = load_pack("luohe").spec.effective
    assert luohe is not None and luohe.draft and luohe.from_ is None and luohe.until is None
    assert "no force" in (luohe.reading or "") and "working rules" in (luohe.reading or "")


def test_check_effective_is_a_pure_check(tmp_path: Path) -> None:
    jiande = load_pack("jiande")
    check_effective(jiande, D("2024-07-02"), allow=False)  # the first day
    check_effective(jiande, D("2030-01-01"), allow=False)  # no end stated
    with pytest.raises(PackError) as info:
        check_effective(jiande, D("2024-07-01"), allow=False)
    said = str(info.value)
    assert "jiande@2024.2" in said and "from 2024-07-02" in said and "2024-07-01" in said
    assert "before it came into force" in said and "--allow-outside-effective" in said
    check_effective(jiande, D("2024-07-01"), allow=True)
    # a draft states no dates: never outside them
    for day in ("2000-01-01", "2024-11-30", "2099-12-31"):
        check_effective(load_pack("luohe"), D(day), allow=False)
    old = load_pack(old_jiande(tmp_path / "old"))
    check_effective(old, D("2024-01-01"), allow=False)
    check_effective(old, D("2024-07-01"), allow=False)
    with pytest.raises(PackError, match=r"jiande@2024\.1: in force 2024-01-01 to 2024-07-01; as_of 2024-07-02 is "
                                        "after it ceased to be in force"):
        check_effective(old, D("2024-07-02"), allow=False)
    assert in_force(old.spec, D("2024-03-01")) and not in_force(old.spec, D("2023-12-31"))


def test_choose_among_versions(tmp_path: Path) -> None:
    new, old = load_pack("jiande").spec, load_pack(old_jiande(tmp_path / "old")).spec
    specs = [new, old]
    assert choose(specs, None, False) == 0  # newest by version
    assert choose(specs, D("2024-07-01"), False) == 1 and choose(specs, D("2024-07-02"), False) == 0
    with pytest.raises(PackError, match="no installed version of pack jiande is in force on 2023-12-31"):
        choose(specs, D("2023-12-31"), False)
    assert choose(specs, D("2023-12-31"), True) == 1  # before every version: the oldest


def test_effective_is_validated(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    shutil.copytree(ROOT / "rulepacks/jiande", pack)
    text = (pack / "pack.yaml").read_text(encoding="utf-8")
    (pack / "pack.yaml").write_text(text.replace("  until: null\n", "  until: 2024-07-01\n", 1), encoding="utf-8")
    with pytest.raises(PackError, match=r"pack.yaml:\d+ at effective: until 2024-07-01 is before from 2024-07-02"):
        load_pack(pack)
    (pack / "pack.yaml").write_text(text.replace("  until: null\n", "", 1), encoding="utf-8")
    with pytest.raises(PackError, match=r"at effective\.until: required key is missing"):
        load_pack(pack)


# -- two versions installed together ---------------------------------------------------------------


def test_load_pack_picks_by_date_on_both_sides_of_the_boundary(installed: Path) -> None:
    assert load_pack("jiande").label == "jiande@2024.2"  # no day: the newest by version
    assert load_pack("jiande", as_of="2024-07-01").label == "jiande@2024.1"
    assert load_pack("jiande", as_of=D("2024-07-02")).label == "jiande@2024.2"
    assert load_pack("jiande", as_of="2024-01-01").label == "jiande@2024.1"
    with pytest.raises(PackError) as info:
        load_pack("jiande", as_of="2023-12-31")
    said = str(info.value)
    assert "jiande@2024.1: in force 2024-01-01 to 2024-07-01" in said
    assert "jiande@2024.2: in force from 2024-07-02 (no end stated)" in said
    assert load_pack("jiande", as_of="2023-12-31", allow_outside_effective=True).label == "jiande@2024.1"
    # the version in force gives its own limit: red from 2024-07-01 (120 days), from 2024-06-01 (90 days)
    for day, since in (("2024-07-01", "2024-07-01"), ("2024-07-02", "2024-06-01")):
        [w] = evaluate(load_pack("jiande", as_of=day), LANDED, day).warnings
        assert (w.rule, w.level, w.since.isoformat()) == ("jd.land-to-start", "red", since)


def test_load_pack_by_id_at_version(installed: Path) -> None:
    assert load_pack("jiande@2024.1").label == "jiande@2024.1"
    assert load_pack("jiande@2024.2").label == "jiande@2024.2"  # the built-in, by its pack.yaml
    with pytest.raises(PackError, match=r"no installed pack is jiande@2023\.1 \(entry points of jiande: jiande, "
                                        r"jiande@2024\.1"):
        load_pack("jiande@2023.1")
    # that version exactly, and its dates checked on the day
    with pytest.raises(PackError) as info:
        load_pack("jiande@2024.1", as_of="2024-11-30")
    said = str(info.value)
    assert "pack jiande@2024.1: in force 2024-01-01 to 2024-07-01; as_of 2024-11-30" in said
    pack = load_pack("jiande@2024.1", {"sign_to_land_days": 100}, as_of="2024-11-30", allow_outside_effective=True)
    assert pack.label == "jiande@2024.1" and pack.parameters["sign_to_land_days"] == 100


def test_discover_lists_each_version_and_refuses_a_wrong_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path / "site", {"jiande@2024.1": "v2024_1", "jiande@2024.9": "v2024_1"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "lr_jiande_old", raising=False)
    found = {e.id: e for e in discover()}
    assert found["jiande"].pack is not None and found["jiande"].pack.label == "jiande@2024.2"
    assert found["jiande@2024.1"].pack is not None and found["jiande@2024.1"].pack.label == "jiande@2024.1"
    assert found["jiande@2024.9"].pack is None
    assert "the pack's version is '2024.1', not '2024.9'" in (found["jiande@2024.9"].error or "")
    with pytest.raises(PackError, match=r"the pack's version is '2024\.1', not '2024\.9'"):
        load_pack("jiande@2024.9")


def test_a_version_installed_twice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path / "site", {"jiande@2024.1": "v2024_1", "jiande": "v2024_1b"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "lr_jiande_old", raising=False)
    twice = [e for e in discover() if e.id in ("jiande@2024.1",) or (e.id == "jiande" and "lr_jiande_old" in e.origin)]
    assert len(twice) == 2 and all(e.pack is None and "installed more than once" in (e.error or "") for e in twice)
    with pytest.raises(PackError, match=r"jiande@2024\.1 is installed more than once"):
        load_pack("jiande", as_of="2024-03-01")


# -- the command line ------------------------------------------------------------------------------


def _evaluate(capsys: pytest.CaptureFixture[str], src: Path, *argv: str) -> tuple[int, list[dict[str, object]], str]:
    code = main(["evaluate", "--quiet", *argv, str(src)])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_cli_evaluate_picks_the_version_in_force(installed: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(LANDED, ensure_ascii=False) + "\n", encoding="utf-8")
    # 2024-07-01: 2024.1 (120 days, red from 07-01); 2024-07-02: 2024.2 (90 days, red from 06-01)
    for day, since in (("2024-07-01", "2024-07-01"), ("2024-07-02", "2024-06-01")):
        for jobs in ("1", "2"):  # worker processes evaluate the same version
            code, rows, err = _evaluate(capsys, src, "--pack", "jiande", "--as-of", day, "--jobs", jobs)
            assert code == 0, err
            [row] = rows
            assert (row["level"], row["since"]) == ("red", since), (day, jobs)
    code, rows, err = _evaluate(capsys, src, "--pack", "jiande@2024.1", "--as-of", "2024-06-30")
    assert code == 0 and rows[0]["level"] == "orange" and rows[0]["due"] == "2024-06-30"
    code, rows, err = _evaluate(capsys, src, "--pack", "jiande@2024.1", "--as-of", "2024-07-02")
    assert code == 2 and rows == []
    assert "pack jiande@2024.1: in force 2024-01-01 to 2024-07-01; as_of 2024-07-02 is after" in err
    code, rows, err = _evaluate(capsys, src, "--pack", "jiande@2024.1", "--as-of", "2024-07-02",
                                "--allow-outside-effective")
    assert code == 0 and rows[0]["since"] == "2024-07-01", err


def test_cli_rates_checks_the_dates(capsys: pytest.CaptureFixture[str]) -> None:
    src = ROOT / "examples/jiangyin.jsonl"
    assert main(["rates", "--pack", "jiangyin", "--as-of", "2022-02-13", str(src)]) == 2
    assert "pack jiangyin@2022.2: in force from 2022-02-14" in capsys.readouterr().err
    assert main(["rates", "--pack", "jiangyin", "--as-of", "2022-02-13", "--allow-outside-effective",
                 str(src)]) == 0


def test_cli_packs_lists_each_version_with_its_dates(site: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    done = subprocess.run([str(CLI), "packs"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    jiande = {r[1]: r for r in rows if r[0] == "jiande"}
    assert set(jiande) == {"2024.1", "2024.2"}
    assert jiande["2024.1"][5] == "in force 2024-01-01 to 2024-07-01"
    assert jiande["2024.1"][6] == "lr_jiande_old:v2024_1 (lr-jiande-old 1.0)"
    assert jiande["2024.2"][5] == "in force from 2024-07-02 (no end stated)"
    assert {r[0]: r[5] for r in rows}["luohe"] == "draft, dates not stated"
    # and through a process of its own, the CLI picks by date too
    src = site.parent / "in.jsonl"
    src.write_text(json.dumps(LANDED, ensure_ascii=False) + "\n", encoding="utf-8")
    for day, since in (("2024-07-01", "2024-07-01"), ("2024-07-02", "2024-06-01")):
        done = subprocess.run([str(CLI), "evaluate", "--quiet", "--pack", "jiande", "--as-of", day, str(src)],
                              env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["since"] == since
