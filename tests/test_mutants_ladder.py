"""The ladder (core/engine._tiers): warnings reaching the counted level on one day, and a
warning below it that rose the day others reached it. A small pack written here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lifecycle_rules import Pack, evaluate, load_pack

D = dt.date

LADDER_PACK = """\
id: ladder
version: "1"
city: 测试
policy: {file: none, title: 测试规则包}
levels:
  yellow: {name: 黄灯, action: 提醒}
  orange: {name: 橙灯, action: 通报}
  red: {name: 红灯, action: 督办}
steps:
  - {name: 签约, clause: c}
  - {name: 甲, clause: c}
  - {name: 乙, clause: c}
  - {name: 丙, clause: c}
  - {name: 丁, clause: c}
milestones: {签约: 签约, 落地: 签约, 开工: 甲, 竣工: 乙, 投产: 丙, 达产: 丁}
ladder:
  counts: red
  max_tier: 3
  clause: c
  routes:
    - tiers: {1: [属地], 2: [主管部门], 3: [市政府]}
rules:
  - {id: t.five, kind: deadline, title: 甲, clause: c, anchor: {step_completed: 签约},
     target: {step_completed: 甲}, limit: {days: 5}, levels: {red: limit}, message: "{subject}"}
  - {id: t.ten-a, kind: deadline, title: 乙, clause: c, anchor: {step_completed: 签约},
     target: {step_completed: 乙}, limit: {days: 10}, levels: {red: limit}, message: "{subject}"}
  - {id: t.ten-b, kind: deadline, title: 丙, clause: c, anchor: {step_completed: 签约},
     target: {step_completed: 丙}, limit: {days: 10}, levels: {red: limit}, message: "{subject}"}
  - {id: t.twenty, kind: deadline, title: 丁, clause: c, anchor: {step_completed: 签约},
     target: {step_completed: 丁}, limit: {days: 20}, levels: {orange: {days: 10}, red: limit},
     message: "{subject}"}
"""


@pytest.fixture(scope="module")
def ladder_pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    root: Path = tmp_path_factory.mktemp("packs")
    (root / "ladder").mkdir()
    (root / "ladder/pack.yaml").write_text(LADDER_PACK, encoding="utf-8")
    return load_pack(root / "ladder")


HISTORY = {"project": {"id": "T-1", "name": "测试项目"},
           "events": [{"date": "2024-01-01", "type": "step_completed", "step": "签约"}]}


def test_reds_of_one_day_take_consecutive_tiers_and_an_orange_of_that_day_the_count(ladder_pack: Pack) -> None:
    r = evaluate(ladder_pack, HISTORY, "2024-01-15")
    assert [(w.rule, w.level, w.since, w.tier, w.responsible) for w in r.warnings] == [
        ("t.five", "red", D(2024, 1, 7), 1, ("属地",)),
        ("t.ten-a", "red", D(2024, 1, 12), 2, ("主管部门",)),
        ("t.ten-b", "red", D(2024, 1, 12), 3, ("市政府",)),
        # orange the day the two 10-day reds came: three reds by then
        ("t.twenty", "orange", D(2024, 1, 12), 3, ("市政府",)),
    ]


def test_an_orange_before_the_same_day_reds_counts_only_the_earlier_red(ladder_pack: Pack) -> None:
    r = evaluate(ladder_pack, HISTORY, "2024-01-11")
    assert [(w.rule, w.level, w.since, w.tier) for w in r.warnings] == [("t.five", "red", D(2024, 1, 7), 1)]
