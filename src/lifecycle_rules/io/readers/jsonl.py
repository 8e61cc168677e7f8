"""JSON Lines: read line by line into records (each line a history, or its reject), or
cut, undecoded, into blocks of whole lines for the batch workers to parse.

Reading is linear in the file's size, whatever its lines' lengths: the bytes are gathered in
one growing buffer and each newly read part is searched once for the end of a line. A line
longer than ``max_line_bytes`` (:data:`MAX_LINE_BYTES` unless the caller says) is never held
whole: once it is known to be too long it is rejected, naming its line, the rest of it is
skipped unread into memory, and the lines after it are read as usual."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO, Any, cast

from lifecycle_rules.io.readers.values import _SURROGATE
from lifecycle_rules.io.records import LineBlock, Record, Reject, size_in_words, undecodable

MAX_LINE_BYTES = 64 * 2**20  # one history; a longer line is a reject, not a memory blow-up

_READ_BYTES = 1 << 16  # how much read_histories reads at a time (its memory stays flat)
_SKIP_BYTES = 1 << 20  # how much is read at a time while skipping a line too long to keep


def line_limit(max_line_bytes: int | None) -> int:
    """The line cap a caller asked for, or the module's (looked up at the call)."""
    limit = MAX_LINE_BYTES if max_line_bytes is None else max_line_bytes
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"max_line_bytes must be a positive number of bytes, not {limit!r}")
    return limit


def too_long(file: str, number: int, max_line_bytes: int) -> Record:
    """The record of a line over the cap: a reject naming it."""
    locator = f"line {number}"
    message = f"第{number}行超过 {size_in_words(max_line_bytes)}（单行上限，可用 max_line_bytes= 调整），未读取"
    return Record(file, locator, None, Reject(file, locator, None, None, message))


def line_blocks(path: str | Path, block_bytes: int,
                max_line_bytes: int | None = None) -> Iterator[LineBlock | Record]:
    """A UTF-8 JSON Lines file (a BOM allowed) cut into blocks of whole lines, streaming;
    a block is about ``block_bytes`` long, or one line if that line is longer. A line over
    ``max_line_bytes`` comes, in its place, as a :class:`Record` with its reject."""
    file = str(path)
    limit = line_limit(max_line_bytes)
    with open(path, "rb") as handle:
        start = handle.read(len(codecs.BOM_UTF8)).removeprefix(codecs.BOM_UTF8)
        yield from _cut(file, handle, start, max(block_bytes, 1), limit)


def _cut(file: str, handle: IO[bytes], start: bytes, block_bytes: int,
         limit: int) -> Iterator[LineBlock | Record]:
    """The file from ``handle`` (``start`` read already) in blocks of whole lines; each line
    over ``limit`` bytes (its "\n" or "\r\n" not counted) as the Record of its reject."""
    pending = bytearray(start)  # the lines not yet given out; holds no b"\n" before `scanned`
    scanned = 0
    number = 1  # the number of pending's first line
    while True:
        chunk = handle.read(block_bytes)
        pending += chunk  # amortised: the buffer grows, it is not copied whole each time
        cut = pending.rfind(b"\n", scanned) + 1
        if cut:
            with memoryview(pending) as view:
                block = bytes(view[:cut])
            del pending[:cut]
            yield from _checked(file, number, block, limit)
            number += block.count(b"\n")
        scanned = len(pending)
        if scanned > limit + pending.endswith(b"\r"):  # already too long: drop it, skip its rest
            yield too_long(file, number, limit)
            rest = _skip_line(handle)
            if rest is None:
                return
            pending, scanned, number = bytearray(rest), 0, number + 1
            continue
        if not chunk:
            if pending:
                yield LineBlock(file, number, bytes(pending))
            return


def _checked(file: str, number: int, block: bytes, limit: int) -> Iterator[LineBlock | Record]:
    """A block of whole lines as it is, or, when a line in it is over the limit, the lines
    around it as blocks and that line as a reject."""
    if len(block) - 1 <= limit:  # no line in it can be longer (its "\n" not counted)
        yield LineBlock(file, number, block)
        return
    start = at = 0
    first = number
    while at < len(block):
        end = block.index(b"\n", at)
        if end - at - (end > at and block[end - 1] == 13) > limit:  # 13: a "\r" before the "\n"
            if start < at:
                yield LineBlock(file, first, block[start:at])
            yield too_long(file, number, limit)
            start, first = end + 1, number + 1
        at, number = end + 1, number + 1
    if start < len(block):
        yield LineBlock(file, first, block[start:])


def _skip_line(handle: IO[bytes]) -> bytes | None:
    """Read past the end of the current line: what follows it, or None at the end of file."""
    while chunk := handle.read(_SKIP_BYTES):
        at = chunk.find(b"\n")
        if at >= 0:
            return chunk[at + 1:]
    return None


def _ascii_lines(encoding: str) -> bool:
    """Does ``encoding`` write b"\\n" for a newline and never inside another character (UTF-8,
    GBK, GB18030 ...)? Then a file in it is cut into lines as bytes."""
    encoder = codecs.getincrementalencoder(encoding)()
    encoder.encode("{")  # past any BOM it writes first
    return encoder.encode("\n\r{}") == b"\n\r{}"


def _lines(file: str, handle: IO[bytes], encoding: str, limit: int) -> Iterator[tuple[int, str] | Record]:
    """(number, text) of each line, or the Record rejecting a line over the limit."""
    if not _ascii_lines(encoding):
        # UTF-16 and the like: read as text, the cap counted in characters.
        text = io.TextIOWrapper(handle, encoding=encoding, errors="surrogateescape")
        number = 0
        while line := text.readline(limit + 1):
            number += 1
            if len(line) > limit and not line.endswith("\n"):
                while line and not line.endswith("\n"):
                    line = text.readline(_SKIP_BYTES)
                yield too_long(file, number, limit)
            else:
                yield number, line
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
    for item in _cut(file, handle, b"", _READ_BYTES, limit):
        if isinstance(item, Record):
            yield item
            continue
        # Every block but the last ends a line, where no character is left half-decoded;
        # one decoder for the file, so a BOM is taken off the file's start only.
        yield from enumerate(decoder.decode(item.data, final=True).split("\n"), item.first_line)


def _jsonl_records(path: Path, encoding: str | None, raw_json: bool = False,
                   max_line_bytes: int | None = None) -> Generator[Record | None, None, None]:
    file = str(path)
    limit = line_limit(max_line_bytes)
    # JSON is UTF-8 (RFC 8259): no guessing, so a stray GBK line is rejected as undecodable
    # rather than turning every other line into mojibake. --encoding still overrides.
    chosen = encoding or "utf-8-sig"
    codecs.lookup(chosen)  # an unknown encoding is an error at the call
    with open(path, "rb") as handle:
        yield None
        for item in _lines(file, handle, chosen, limit):
            if isinstance(item, Record):
                yield item
                continue
            number, line = item
            if not line or line.isspace():  # blank (as not line.strip(), without a copy)
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
