"""Bounded inputs (from a fault-injection run of the batch): an input file, however hostile,
costs time and memory in proportion to its size, under caps, and a value past a cap is a
clear error or a reject naming where it is, never a blow-up, a hang or a traceback.

- JSON Lines: reading is linear in line length; a line over the cap (64 MiB, or
  ``max_line_bytes=``) is a reject naming it, and the lines after it are read.
- XLSX: a zip bomb, a damaged member and a sheet spanning a vast range are refused before a
  reader parses them; the cells read are counted.
- Cells: no pattern backtracks on a long hostile cell.
- CSV: each row is decoded in its own encoding (UTF-8, else GB18030).
- Messages quote at most 200 characters of a value.
- A pack.yaml or fixture that is a symlink to a file outside its pack is refused, unread.
"""

from __future__ import annotations

import json
import re
import statistics
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules.errors import PackError
from lifecycle_rules.io.cli import main
from lifecycle_rules.io.readers import jsonl, jsonl_blocks, read_histories, sheets
from lifecycle_rules.io.readers.values import _amount, _period, parse_date
from lifecycle_rules.io.records import LineBlock
from lifecycle_rules.pack.load import load_pack_dir, validate_spec
from lifecycle_rules.pack.validate import validate_doc
from lifecycle_rules.pack.yamlfile import YamlDoc, load_yaml_file
from lifecycle_rules.testing import Fixture, load_fixture, test_pack

ROOT = Path(__file__).resolve().parent.parent
XLSX = ROOT / "tests/data/io/projects.xlsx"  # four projects, header on row 3
DEMO = ROOT / "tests/data/packs/demo"
MiB = 1 << 20


def _located(items: Any) -> list[tuple[str, str]]:
    """(locator, the line's text or the reject's message) of read_histories' records or of
    jsonl_blocks' blocks and records."""
    out: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, LineBlock):
            out += [(locator, line.decode()) for locator, line in item.lines()]
        elif item.reject is not None:
            out.append((item.locator, item.reject.message))
        else:
            out.append((item.locator, item.history if isinstance(item.history, str) else json.dumps(item.history)))
    return out


# ------------------------------------------------------------------------ JSON Lines


def test_a_100mb_line_is_a_reject_and_the_lines_after_it_are_read(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with open(path, "wb") as handle:
        handle.write(b'{"a": 1}\n{"x": "')
        for _ in range(100):
            handle.write(b"y" * MiB)
        handle.write(b'"}\n{"b": 2}\n')
    for name, read in (("read_histories", lambda: read_histories(path, raw_json=True)),
                       ("jsonl_blocks", lambda: jsonl_blocks(path))):
        tracemalloc.start()
        start = time.perf_counter()
        try:
            got = _located(read())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert [loc for loc, _ in got] == ["line 1", "line 2", "line 3"], name
        assert got[1][1].startswith("第2行超过 64 MiB"), (name, got[1][1][:100])
        assert got[2][1] == '{"b": 2}', name
        # Never held whole, never copied over and over: at most the cap and a block.
        assert peak < 80 * MiB, (name, peak)
        assert time.perf_counter() - start < 5, name
    path.unlink()  # 100 MB that pytest would otherwise keep with its last runs


def test_the_line_cap_is_a_keyword_and_counts_bytes_without_the_newline(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    at_cap = '{"x": "' + "y" * (1024 - 9) + '"}'
    over = '{"x": "' + "中" * 400 + '"}'  # 1209 bytes, 409 characters
    assert len(at_cap.encode()) == 1024
    path.write_text("\r\n".join(['{"a": 1}', at_cap, over, "", at_cap + "z", '{"b": 2}']), encoding="utf-8")
    expected = ["line 1", "line 2", "line 3", "line 5", "line 6"]
    for items in (read_histories(path, max_line_bytes=1024), jsonl_blocks(path, 64, max_line_bytes=1024)):
        got = _located(items)
        assert [loc for loc, _ in got] == expected
        assert json.loads(got[1][1])["x"] == "y" * 1015
        assert got[2][1] == "第3行超过 1 KiB（单行上限，可用 max_line_bytes= 调整），未读取"
        assert got[3][1].startswith("第5行超过 1 KiB")
        assert json.loads(got[4][1]) == {"b": 2}
    with pytest.raises(ValueError, match="max_line_bytes"):
        jsonl_blocks(path, max_line_bytes=0)
    with pytest.raises(ValueError, match="max_line_bytes"):
        read_histories(path, max_line_bytes=-1)


def _median_seconds(run: Callable[[], object], times: int = 3) -> float:
    seconds = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def test_reading_a_long_line_is_linear_in_its_length(tmp_path: Path) -> None:
    # Before: each read joined the line so far to the new part (rest + chunk), so a line of
    # n blocks cost n^2/2 block copies: 39 s for a 200 MB line. Both sizes are past 32 MiB,
    # where every buffer is fresh memory (glibc's largest heap threshold): one cost regime.
    files = {}
    for size in (36, 72):
        files[size] = tmp_path / f"{size}.jsonl"
        files[size].write_bytes(b'{"a": 1}\n{"x": "' + b"y" * (size * MiB) + b'"}\n{"b": 2}\n')
    cap = 128 * MiB

    def blocks(size: int) -> Callable[[], object]:
        return lambda: sum(len(b.data) for b in jsonl_blocks(files[size], 1 << 16, max_line_bytes=cap)
                           if isinstance(b, LineBlock))

    def records(size: int) -> Callable[[], object]:
        return lambda: sum(1 for _ in read_histories(files[size], raw_json=True, max_line_bytes=cap))

    for how in (blocks, records):
        one, two = _median_seconds(how(36)), _median_seconds(how(72))
        assert two < 3 * one, (how.__name__, one, two)
        assert two < 10, (how.__name__, two)  # only a hang guard: before, 30 s a run for blocks
    for file in files.values():
        file.unlink()


def test_cli_batch_rejects_a_line_over_the_cap_and_evaluates_the_rest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", 4096)  # the batch's blocks use the module's cap
    good = (ROOT / "examples/jiande.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    long = json.dumps({"project": {"id": "LONG", "name": "x" * 5000}}, ensure_ascii=False)
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([good[0], long, good[1], good[2]]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = main(["evaluate", "--pack", "jiande", "--as-of", "2024-11-30", str(src), "-o", str(out),
                 "--allow-rejects"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "read 4, evaluated 3, rejected 1" in err, err
    [reject] = [json.loads(x) for x in (tmp_path / "out.jsonl.rejects.jsonl").read_text("utf-8").splitlines()]
    assert reject["locator"] == "line 2" and reject["message"].startswith("第2行超过 4 KiB")


# ------------------------------------------------------------------------ XLSX


def _workbook(path: Path, sheet: Callable[[bytes], bytes] | None = None, level: int = 6) -> Path:
    """projects.xlsx rewritten, its sheet1.xml changed by ``sheet``."""
    with zipfile.ZipFile(XLSX) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml" and sheet is not None:
                data = sheet(data)
            out.writestr(info.filename, data)
    return path


def test_a_zip_bomb_xlsx_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    # 64 MiB of XML whitespace zips to ~64 KiB: the ratio (about 1000:1) gives it away.
    bomb = _workbook(tmp_path / "bomb.xlsx", lambda d: d.replace(b"<sheetData>", b"<sheetData>" + b" " * (64 * MiB)),
                     level=9)
    assert bomb.stat().st_size < MiB
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"bomb\.xlsx: 成员 xl/worksheets/sheet1\.xml 的压缩比为 \d+:1，超过 200:1"):
        read_histories(bomb)
    assert time.perf_counter() - start < 2


def test_the_unzipped_total_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "MAX_UNZIPPED_BYTES", 10_000)
    with pytest.raises(ValueError, match=r"projects\.xlsx: 解压后共 \d+ 字节，超过上限 10000 字节"):
        read_histories(XLSX)


def _truncated_member(path: Path) -> Path:
    """projects.xlsx with its sheet's deflate stream cut to half (its stated size cut with it)."""
    raw = bytearray(XLSX.read_bytes())
    with zipfile.ZipFile(XLSX) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    half = struct.pack("<I", info.compress_size // 2)
    raw[info.header_offset + 18: info.header_offset + 22] = half  # the local header
    name = info.filename.encode()
    [at] = [m.start() for m in re.finditer(b"PK\x01\x02", raw) if raw[m.start() + 46:].startswith(name)]
    raw[at + 20: at + 24] = half  # its entry in the central directory
    path.write_bytes(raw)
    return path


def _bad_crc(path: Path) -> Path:
    raw = bytearray(XLSX.read_bytes())
    with zipfile.ZipFile(XLSX) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    raw[info.header_offset + 30 + len(info.filename) + len(info.extra) + 200] ^= 0x55
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
@pytest.mark.parametrize("damage", ["truncated", "truncated-member", "bad-crc"])
def test_a_damaged_xlsx_is_a_clear_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  reader: str, damage: str) -> None:
    if reader == "openpyxl":
        monkeypatch.setitem(sys.modules, "python_calamine", None)  # import now fails
    path = tmp_path / "damaged.xlsx"
    if damage == "truncated":  # the zip's directory, at its end, is lost
        whole = XLSX.read_bytes()
        path.write_bytes(whole[: len(whole) * 2 // 3])
    elif damage == "truncated-member":
        _truncated_member(path)
    else:
        _bad_crc(path)
    with pytest.raises(ValueError, match=r"damaged\.xlsx: 无法读取 Excel 文件") as caught:
        list(read_histories(path))
    if damage != "truncated":
        assert "xl/worksheets/sheet1.xml 已损坏" in str(caught.value)


_IN_A_SUBPROCESS = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
from lifecycle_rules.io.readers import read_histories
try:
    print(sum(1 for r in read_histories(sys.argv[1]) if r.history))
except ValueError as exc:
    print("ValueError:", exc)
"""


def _read_apart(path: Path) -> subprocess.CompletedProcess[str]:
    # In a process of its own, memory capped: without the checks, calamine aborts its process.
    return subprocess.run([sys.executable, "-c", _IN_A_SUBPROCESS, str(path)], capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits")
def test_a_sheet_spanning_a_vast_range_is_refused_not_allocated(tmp_path: Path) -> None:
    # One cell at A1 and one at XFD1048576: a 5 KB file whose range is 17 billion cells.
    far = _workbook(tmp_path / "far.xlsx", lambda d: d.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'))
    done = _read_apart(far)
    assert done.returncode == 0, done.stderr[-500:]
    assert re.search(r"far\.xlsx: xl/worksheets/sheet1\.xml 的单元格从 A1 到第 1048576 行第 16384 列，"
                     r"共 17179869184 格，超过 20000000 格的上限", done.stdout), done.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits")
def test_cells_placed_by_position_far_away_are_streamed(tmp_path: Path) -> None:
    # Cells without r="..." are placed after the one before: here 200 of them on row 1048576.
    def by_position(data: bytes) -> bytes:
        data = re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", data)
        return data.replace(b"</sheetData>", b'<row r="1048576">' + b"<c><v>1</v></c>" * 200 + b"</row></sheetData>")

    far = _workbook(tmp_path / "far.xlsx", by_position)
    done = _read_apart(far)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "4", done.stdout


def test_the_cells_read_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "MAX_SHEET_CELLS", 100)
    # Named cells: the range (A1:P7, 112 cells) is refused before reading.
    with pytest.raises(ValueError, match=r"projects\.xlsx: .*共 112 格，超过 100 格的上限"):
        read_histories(XLSX)
    # Cells by position have no range to check before: counted as rows are read.
    # (Without their names, the cells of a row close up: 1, 0, 16, 11, 11, 8 and 11 a row.)
    monkeypatch.setattr(sheets, "MAX_SHEET_CELLS", 40)
    plain = _workbook(tmp_path / "plain.xlsx", lambda d: re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", d))
    with pytest.raises(ValueError, match=r"plain\.xlsx: 第 6 行读到第 47 个单元格，超过 40 个的上限"):
        list(read_histories(plain))
    monkeypatch.setattr(sheets, "MAX_SHEET_CELLS", 58)
    assert len(list(read_histories(plain))) == 4


# ------------------------------------------------------------------------ hostile cells


_HOSTILE_CELLS = """
import json, re, time
from lifecycle_rules.io.readers import values
spaces = " " * 100_000
cells = [spaces, "2024" + spaces + "x", "2024" + spaces + "-" + spaces + "x", "2024-" + spaces + "W",
         "2024年" + spaces + "1" + spaces + "x", "2024" + "\\u3000" * 100_000 + "W", "1" * 100_000 + "x",
         "20" + spaces + "-" + spaces + "1" + spaces + "x", "9" * 100_000 + "亿元x"]
worst = {}
def timed(name, call):
    for cell in cells:
        start = time.perf_counter()
        try:
            call(cell)
        except ValueError:
            pass
        worst[name] = max(worst.get(name, 0), time.perf_counter() - start)
timed("period", lambda c: values._period(c, "weekly_report"))
timed("date", values.parse_date)
timed("amount", values._amount)
for name in dir(values):
    pattern = getattr(values, name)
    if isinstance(pattern, re.Pattern):
        timed(name, pattern.fullmatch)  # each pattern on its own, no length bound before it
print(json.dumps(worst))
"""


def test_hostile_cells_are_read_in_bounded_time() -> None:
    # Before: "2024" + 80k spaces in a period cell backtracked for 42 s (_PERIOD_WEEK had two
    # runs of \\s* side by side). In a process of its own, so that a hang fails, not stalls.
    done = subprocess.run([sys.executable, "-c", _HOSTILE_CELLS], capture_output=True, text=True, timeout=30,
                          check=False)
    assert done.returncode == 0, done.stderr[-500:]
    worst = json.loads(done.stdout)
    assert {"period", "date", "amount", "_PERIOD_WEEK", "_DATE_CN", "_AMOUNT_UNIT"} <= set(worst)
    assert max(worst.values()) < 0.5, worst


def test_a_long_period_date_or_amount_cell_is_refused_at_once_and_quoted_short() -> None:
    cell = "2024" + " " * 100_000 + "W5"
    with pytest.raises(ValueError, match="期间无法识别") as caught:
        _period(cell, "weekly_report")
    assert "超过 40 个字符" in str(caught.value) and len(str(caught.value)) < 300
    big = "x" * 10_000_000
    for read in (parse_date, _amount, lambda v: _period(v, "monthly_report")):
        with pytest.raises(ValueError) as caught:
            read(big)
        assert len(str(caught.value)) < 300 and "(10000000 chars)" in str(caught.value)
    # Within the bound, as before.
    assert _period("2024 - W5", "weekly_report") == "2024-W05"
    assert _period("2024年第5周", "weekly_report") == "2024-W05"


# ------------------------------------------------------------------------ CSV encodings


HEADER = "项目代码,项目名称,行业,总投资(万元),签约日期\r\n"


def _csv(tmp_path: Path, *rows: tuple[str, str]) -> Path:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"".join(text.encode(encoding) for text, encoding in rows))
    return path


def _projects(path: Path, **kwargs: Any) -> list[tuple[str, Any]]:
    return [(r.locator, r.history["project"] if r.history else r.reject.message if r.reject else None)
            for r in read_histories(path, **kwargs)]


def test_a_gbk_csv_with_one_utf8_row_reads_each_row_right(tmp_path: Path) -> None:
    path = _csv(tmp_path, (HEADER, "gbk"), ("A-1,甲乙项目,工业,100,2024/1/10\r\n", "gbk"),
                ("B-2,智能制造,工业,200,2024/1/11\r\n", "utf-8"),  # also valid GB18030: as mojibake
                ("C-3,签约,工业,300,2024/1/12\r\n", "gbk"))  # also valid UTF-8: as "ǩԼ"
    assert _projects(path) == [
        ("row 2", {"id": "A-1", "name": "甲乙项目", "sector": "industrial", "investment_wan": 100}),
        ("row 3", {"id": "B-2", "name": "智能制造", "sector": "industrial", "investment_wan": 200}),
        ("row 4", {"id": "C-3", "name": "签约", "sector": "industrial", "investment_wan": 300}),
    ]
    # --encoding still forces one encoding on every row.
    forced = _projects(path, encoding="gbk")
    assert forced[1][1] != {"id": "B-2", "name": "智能制造", "sector": "industrial", "investment_wan": 200}
    assert forced[0] == _projects(path)[0]


def test_a_utf8_csv_with_one_gbk_row_reads_each_row_right(tmp_path: Path) -> None:
    # Before: the GBK row made the file GB18030, so the UTF-8 header was not found (the
    # whole file refused: "missing required column").
    path = _csv(tmp_path, (HEADER, "utf-8"), ("A-1,甲乙项目,工业,100,2024/1/10\r\n", "utf-8"),
                ("B-2,新材料项目,民生,200,2024/1/11\r\n", "gbk"),
                ("C-3,签约,工业,300,2024/1/12\r\n", "utf-8"))
    assert _projects(path) == [
        ("row 2", {"id": "A-1", "name": "甲乙项目", "sector": "industrial", "investment_wan": 100}),
        ("row 3", {"id": "B-2", "name": "新材料项目", "sector": "livelihood", "investment_wan": 200}),
        ("row 4", {"id": "C-3", "name": "签约", "sector": "industrial", "investment_wan": 300}),
    ]


def test_a_row_neither_utf8_nor_gb18030_is_rejected_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(HEADER.encode() + "A-1,好,工业,1,2024/1/10\n".encode() + b"B-2,\x80\xff,x,1,2024/1/10\n"
                     + "C-3,也好,工业,1,2024/1/10\n".encode("gbk"))
    records = list(read_histories(path))
    assert [r.locator for r in records] == ["row 2", "row 3", "row 4"]
    assert records[0].history and records[2].history and records[2].history["project"]["name"] == "也好"
    reject = records[1].reject
    assert reject is not None and (reject.project_id, reject.field) == ("B-2", "项目名称")
    assert reject.message.startswith("含无法按 utf-8 或 gb18030 解码的字节")


# ------------------------------------------------------------------------ packs


def _demo(tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.yaml").write_text((DEMO / "pack.yaml").read_text("utf-8"), "utf-8")
    (pack / "fixtures").mkdir()
    for f in (DEMO / "fixtures").glob("*.yaml"):
        (pack / "fixtures" / f.name).write_text(f.read_text("utf-8"), "utf-8")
    return pack


def test_a_huge_value_in_pack_yaml_is_quoted_clipped(tmp_path: Path) -> None:
    pack = _demo(tmp_path)
    text = (pack / "pack.yaml").read_text("utf-8")
    # A 1 MB number where a number of days goes (the loader takes files up to 5 MB; PyYAML
    # reads about 1 MB a second).
    (pack / "pack.yaml").write_text(text.replace("red: {days: 10}", "red: {days: " + "9" * 1_000_000 + "x}", 1),
                                    "utf-8")
    with pytest.raises(PackError) as caught:
        load_pack_dir(pack)
    assert len(caught.value.detail) <= 300 and "(1000001 chars)" in caught.value.detail, caught.value.detail[:400]
    # A 10 MB value in a document: where pydantic shows the input, and inside its own message.
    huge = "x" * 10_000_000
    fixture = {"name": "n", "clause": "c", "history": {}, "checks": [{"as_of": huge}]}
    with pytest.raises(PackError) as caught:
        validate_doc(Fixture, YamlDoc(fixture, {}, "f.yaml"), "fixture")
    assert len(caught.value.detail) <= 300 and "(10000002 chars)" in caught.value.detail, caught.value.detail[:400]
    doc = load_yaml_file(DEMO / "pack.yaml")
    doc.data["rules"][0]["kind"] = huge
    with pytest.raises(PackError) as caught:
        validate_spec(doc)
    assert len(caught.value.detail) <= 400 and "(10000000 chars)" in caught.value.detail, caught.value.detail[:500]


def _outside(tmp_path: Path) -> Path:
    secret = tmp_path / "etc" / "hostname"
    secret.parent.mkdir()
    secret.write_text("secret-host\n", "utf-8")
    return secret


def test_a_pack_yaml_symlinked_outside_its_directory_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    pack.mkdir()
    targets = [_outside(tmp_path)] + [Path("/etc/hostname")] * Path("/etc/hostname").is_file()
    for target in targets:
        (pack / "pack.yaml").unlink(missing_ok=True)
        (pack / "pack.yaml").symlink_to(target)
        with pytest.raises(PackError, match=r"p/pack\.yaml: a symlink to .*, outside .*: refused, not read") as caught:
            load_pack_dir(pack)
        assert "secret-host" not in str(caught.value)
    # A symlink to a file inside the directory is fine.
    inside = _demo(tmp_path)
    (inside / "versions").mkdir()
    (inside / "pack.yaml").rename(inside / "versions" / "v1.yaml")
    (inside / "pack.yaml").symlink_to(Path("versions") / "v1.yaml")
    assert load_pack_dir(inside).id == "demo"


def test_a_fixture_symlinked_outside_its_pack_is_refused(tmp_path: Path) -> None:
    pack = _demo(tmp_path)
    evil = pack / "fixtures" / "zz-evil.yaml"
    evil.symlink_to(_outside(tmp_path))
    with pytest.raises(PackError, match=r"zz-evil\.yaml: a symlink to .*: refused, not read"):
        load_fixture(evil)
    report = test_pack(pack)
    assert [e for e in report.errors if "zz-evil.yaml" in e and "refused" in e], report.errors
    evil.unlink()
    # Inside the pack (fixtures shared from another folder of it) is fine.
    shared = pack / "shared"
    shared.mkdir()
    first = sorted((pack / "fixtures").glob("*.yaml"))[0]
    (shared / "x.yaml").write_text(first.read_text("utf-8"), "utf-8")
    (pack / "fixtures" / "zz-shared.yaml").symlink_to(shared / "x.yaml")
    assert load_fixture(pack / "fixtures" / "zz-shared.yaml").name == load_fixture(first).name
