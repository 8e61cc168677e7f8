from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/strategies.py

# The demo pack's fixtures run like any pack's.
from lifecycle_rules.testing import pytest_collect_file  # noqa: E402

__all__ = ["pytest_collect_file"]


@pytest.fixture
def root() -> Path:
    return ROOT
