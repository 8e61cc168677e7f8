"""JSON Lines: read line by line into records (each line a history, or its reject), or
cut, undecoded, into blocks of whole lines for the batch workers to parse."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, cast

from lifecycle_rules.io.readers.values import _SURROGATE
from lifecycle_rules.io.records import LineBlock, Record, Reject, undecodable


def line_blocks(path: str | Path, block_bytes: int) -> Iterator[LineBlock]:
    """A UTF-8 JSON Lines file (a BOM allowed) cut into blocks of whole lines, streaming;
    a block is about ``block_bytes`` long, or one line if that line is longer."""
    file = str(path)
    with open(path, "rb") as handle:
        number, rest = 1, handle.read(3).removeprefix(b"\xef\xbb\xbf")
        while True:
            chunk = handle.read(block_bytes)
            if not chunk:
                if rest:
                    yield LineBlock(file, number, rest)
                return
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield LineBlock(file, number, block)
            number += block.count(b"\n")


def _jsonl_records(path: Path, encoding: str | None,
                   raw_json: bool = False) -> Generator[Record | None, None, None]:
    file = str(path)
    # JSON is UTF-8 (RFC 8259): no guessing, so a stray GBK line is rejected as undecodable
    # rather than turning every other line into mojibake. --encoding still overrides.
    chosen = encoding or "utf-8-sig"
    with open(path, encoding=chosen, errors="surrogateescape") as handle:
        yield None
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            locator = f"line {number}"
            message: str | None = None
            obj: object = None
            if _SURROGATE.search(line):
                message = undecodable(chosen)
            elif raw_json:
                # The evaluator decodes it (in the worker); JSON errors then come back
                # as that record's HistoryError.
                yield Record(file, locator, line.rstrip("\r\n"), None)
                continue
            else:
                try:
                    obj = json.loads(line.rstrip("\r\n"))
                except json.JSONDecodeError as exc:
                    message = f"不是有效的 JSON: {exc.msg} (column {exc.colno})"
                except RecursionError:
                    message = "不是有效的 JSON: 嵌套层数过深"
                else:
                    if not isinstance(obj, dict):
                        message = f"不是 JSON 对象（得到 {type(obj).__name__}）"
            if message is None:
                yield Record(file, locator, cast(dict[str, Any], obj), None)
            else:
                yield Record(file, locator, None, Reject(file, locator, None, None, message))
