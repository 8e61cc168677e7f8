"""`lifecycle-rules explain`: being built (issue 15)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any, name: str) -> None:
    sub.add_parser(name, help="why a warning fired or not (being built)")


def run(args: argparse.Namespace) -> int:
    raise SystemExit("lifecycle-rules explain: not built yet")
