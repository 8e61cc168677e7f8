"""Entry points of the built-in packs: each returns the pack's directory.

They register in ``lifecycle_rules.packs`` like any third-party pack. In a wheel the
packs sit inside the package (``lifecycle_rules/rulepacks``); in a source checkout
(editable install) they are the repository's ``rulepacks/``.
"""

from __future__ import annotations

from pathlib import Path


def _root() -> Path:
    here = Path(__file__).resolve().parent
    inside = here / "rulepacks"
    if inside.is_dir():
        return inside
    return here.parent.parent / "rulepacks"


def jiande() -> Path:
    return _root() / "jiande"


def luohe() -> Path:
    return _root() / "luohe"


def tongjiang() -> Path:
    return _root() / "tongjiang"


def wushan() -> Path:
    return _root() / "wushan"


def jiangyin() -> Path:
    return _root() / "jiangyin"
