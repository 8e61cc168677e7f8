"""Progress of a long run on a terminal: a line with the projects done, the rate and an
ETA (from a line count of the input, a cheap byte scan); silent in pipes and CI."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TextIO


class Progress:
    """A one-line progress display with rate and ETA on a terminal; silent elsewhere."""

    def __init__(self, total: int | None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() and not os.environ.get("CI")
        self.total = total
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        if self.total:
            eta = (self.total - done) / rate if rate else 0
            self.stream.write(f"\r{done}/{self.total} projects, {rate:,.0f}/s, ETA {eta:,.0f}s ")
        else:
            self.stream.write(f"\r{done} projects, {rate:,.0f}/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def count_lines(path: Path) -> int | None:
    """Line count for a progress total (cheap: a byte scan); None for other formats."""
    if path.suffix.lower() not in (".jsonl", ".json", ".ndjson", ".csv"):
        return None
    with path.open("rb") as fh:
        n = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return n - (1 if path.suffix.lower() == ".csv" else 0)
