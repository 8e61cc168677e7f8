"""A compiled pack travels to Spark and Dask workers by pickling: it must come back
equal, with the same digest, and decide exactly as the original does."""

from __future__ import annotations

import pickle

import pytest

import lifecycle_rules as lr
from benchmarks.synth import pack_histories

PACKS = ("jiande", "luohe", "tongjiang", "wushan", "jiangyin")


@pytest.mark.parametrize("pack_id", PACKS)
def test_a_pickled_pack_decides_as_the_original(pack_id: str) -> None:
    pack = lr.load_pack(pack_id)
    histories = list(pack_histories(pack_id, 120, 11))
    before = [lr.evaluate(pack, h, "2024-11-30").to_dict() for h in histories[:60]]  # warm caches go along
    data = pickle.dumps(pack)
    assert len(data) < 200_000  # the recipe, not the caches: about 30-45 KB for the built-in packs
    copy = pickle.loads(data)
    assert copy == pack and copy.digest == pack.digest and copy.label == pack.label
    after = [lr.evaluate(copy, h, "2024-11-30").to_dict() for h in histories]
    assert after[:60] == before
    assert after[60:] == [lr.evaluate(pack, h, "2024-11-30").to_dict() for h in histories[60:]]
    assert sum(len(r["warnings"]) for r in after) > 0
