"""`lifecycle-rules letters`: which warnings get a letter, what each says (reopened with
python-docx), the index sheet (reopened with openpyxl), templates (the default's page setup,
an office's own, errors), hostile project codes and names, the output folder."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.shared import Mm, Pt

from lifecycle_rules import load_pack
from lifecycle_rules.io.cli import main
from lifecycle_rules.office import letters as L
from lifecycle_rules.office.letters_docx import default_template
from lifecycle_rules.office.portfolio import read_portfolio

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
INDEX = "函件清单.xlsx"
PACKS = ("jiande", "luohe", "tongjiang", "wushan", "jiangyin")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["letters", *argv])
    return code, capsys.readouterr().err


def texts(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def index_rows(folder: Path) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(folder / INDEX).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == L.INDEX_COLUMNS
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def letters_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.docx"))


# -- which warnings get a letter ---------------------------------------------------------

def chosen(pack_id: str, since: str, as_of: str = "2024-11-30", **kw: bool) -> L.Selection:
    pack = load_pack(pack_id)
    pf = read_portfolio(pack, [EXAMPLES / f"{pack_id}.jsonl"])
    return L.select(pf, dt.date.fromisoformat(as_of), dt.date.fromisoformat(since),
                    include_in_progress=kw.get("include_in_progress", False))


def test_level_reached_in_the_period_gets_a_letter() -> None:
    s = chosen("tongjiang", "2024-11-01")
    assert [(c.warning.project_id, c.warning.level_name, c.reason) for c in s.chosen] == [
        ("TJ-2024-007", "催报提醒", "level"), ("TJ-2024-009", "催报提醒", "level"),
        ("TJ-2024-017", "评估意见超时", "level")]
    assert s.standing == 20 and s.skipped == {"before": 17}


def test_closure_overdue_gets_a_reminder_once_and_in_progress_only_when_asked() -> None:
    # JD-2024-013 is 销号超时 from 2024-10-04; JD-2024-014 正在办理; both red since 2024-06-01.
    s = chosen("jiande", "2024-10-01")
    assert [(c.warning.project_id, c.reason, L.letter_type(c)) for c in s.chosen] == [
        ("JD-2024-013", "overdue", "销号超时催办")]
    assert s.skipped == {"before": 5, "in_progress": 1}
    later = chosen("jiande", "2024-10-05")
    assert later.chosen == [] and later.skipped["overdue_before"] == 1
    wide = chosen("jiande", "2024-06-01", include_in_progress=True)
    assert {c.warning.project_id for c in wide.chosen} >= {"JD-2024-013", "JD-2024-014"}
    assert len(wide.chosen) == wide.standing == 7


@pytest.mark.parametrize("pack_id", PACKS)
def test_monthly_runs_send_each_letter_once(pack_id: str) -> None:
    pack = load_pack(pack_id)
    pf = read_portfolio(pack, [EXAMPLES / f"{pack_id}.jsonl"])
    sent: list[tuple[str, str, str]] = []
    for month in range(1, 12):
        first = dt.date(2024, month, 1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        sel = L.select(pf, last, L.first_of_month(last), include_in_progress=True)
        sent += [(c.warning.key, c.warning.level, c.reason) for c in sel.chosen]
    assert len(sent) == len(set(sent)), "a letter went out twice"
    assert sent, "a year of monthly runs sends letters"


def test_since_after_as_of_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = run(["--pack", "jiande", "--as-of", "2024-11-30", "--since", "2024-12-01",
                     str(EXAMPLES / "jiande.jsonl"), "-o", str(tmp_path / "out")], capsys)
    assert code == 2 and "--since 2024-12-01 is after --as-of 2024-11-30" in err
    assert not (tmp_path / "out").exists()


# -- what a letter says --------------------------------------------------------------------

@pytest.mark.parametrize(("pack_id", "since", "count"), [
    ("jiande", "2024-06-01", 6), ("luohe", "2024-11-01", 2), ("tongjiang", "2024-11-01", 3),
    ("wushan", "2024-11-01", 3), ("jiangyin", "2024-05-01", 3)])
def test_every_builtin_pack_writes_its_examples_letters(pack_id: str, since: str, count: int, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "letters"
    code, err = run(["--pack", pack_id, "--as-of", "2024-11-30", "--since", since,
                     str(EXAMPLES / f"{pack_id}.jsonl"), "-o", str(out)], capsys)
    assert code == 0, err
    assert f"{count} letter(s) for " in err
    pack = load_pack(pack_id)
    rows = index_rows(out)
    assert [r["文件名"] for r in rows] == [p.name for p in letters_in(out)]
    for row in rows:
        lines = texts(out / str(row["文件名"]))
        assert lines[0].startswith("关于") and lines[0] == lines[0].strip()
        assert lines[2] == f"{row['主送单位']}："
        assert any(row["项目代码"] in line for line in lines[3:])  # the message names the project
        assert f"政策依据：{row['政策依据']}。" in lines and pack.document in str(row["政策依据"])
        assert lines[-1] == "2024年11月30日"
        assert isinstance(row["预警日期"], dt.datetime)


def test_letter_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "l"
    code, _ = run(["--pack", "tongjiang", "--as-of", "2024-11-30", str(EXAMPLES / "tongjiang.jsonl"),
                   "-o", str(out)], capsys)
    assert code == 0
    lines = texts(out / "003_TJ-2024-017_评估意见超时.docx")
    assert lines == [
        "关于同江市农产品冷链物流项目综合评估意见超时的通知",
        "",
        "重点项目全生命周期管理服务小组副组长（分管副市长）、项目推进责任单位：",
        "同江市农产品冷链物流项目（TJ-2024-017）于2024年11月21日报送分管副市长，市长办公会应在2个工作日内"
        "（2024年11月25日前）一次性提出具体意见，现已超时，评估意见超时（2024年11月26日起）。",
        "政策依据：《同江市重点项目全生命周期管理服务实施方案》 二(一)2。",
        "期限：2024年11月25日。",
        "处置要求：催促分管副市长组织市长办公会提出意见。",
        "请接此通知后按要求抓紧办理，并及时反馈办理情况（无需办理、正在办理、已完成办理或项目退出）。",
        "特此通知。",
        "", "",
        "（发文单位）",  # the pack names no issuer for this level: a placeholder, never invented
        "2024年11月30日",
    ]
    # 催报提醒's action names who sends it: 由服务小组办公室催报…
    reminder = texts(out / "001_TJ-2024-007_催报提醒.docx")
    assert reminder[0] == "关于同江港码头改扩建工程月调度报告逾期（2024年10月）的催报提醒"
    assert reminder[-2] == "服务小组办公室"
    assert index_rows(out)[2] == {
        "序号": 3, "文件名": "003_TJ-2024-017_评估意见超时.docx", "函件类型": "评估意见超时",
        "项目代码": "TJ-2024-017", "项目名称": "同江市农产品冷链物流项目",
        "主送单位": "重点项目全生命周期管理服务小组副组长（分管副市长）、项目推进责任单位",
        "预警事项": "综合评估意见超时", "预警等级": "评估意见超时", "预警日期": dt.datetime(2024, 11, 26),
        "期限": dt.datetime(2024, 11, 25), "政策依据": "《同江市重点项目全生命周期管理服务实施方案》 二(一)2"}


def test_document_number_issuer_and_overdue_reminder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "l"
    code, err = run(["--pack", "jiande", "--as-of", "2024-11-30", "--since", "2024-10-01",
                     str(EXAMPLES / "jiande.jsonl"), "-o", str(out), "--issuer", "建德市项目全生命周期管理专班办公室"],
                    capsys)
    assert code == 0 and "销号超时催办 1" in err
    (letter,) = letters_in(out)
    assert letter.name == "001_JD-2024-013_销号超时催办.docx"
    lines = texts(letter)
    assert lines[0] == "关于JD-2024-013项目落地未开工（开工监管）的销号超时催办通知"
    assert "政策依据：建政办函〔2024〕22号 五.2, 三(三)。" in lines
    assert "期限：2024年5月31日。" in lines
    assert any("目前销号超时" in line and "2024年6月1日" in line for line in lines)
    assert lines[-2:] == ["建德市项目全生命周期管理专班办公室", "2024年11月30日"]


def test_titles_and_issuers_in_words() -> None:
    assert L.doc_kind("预警提示函") == "预警提示函" and L.doc_kind("督办") == "督办通知"
    assert L.doc_kind("黄灯预警（通报式）") == "通知" and L.doc_kind("约谈") == "通知"
    assert L.title("X项目", "落地未开工", "黄灯预警（通报式）") == "关于X项目落地未开工黄灯预警的通知"
    assert L.title("X项目", "未完成目标计划", "督办") == "关于X项目未完成目标计划的督办通知"
    assert L.matter("月度投资未完成按月分解计划", "月度投资 2024-04") == "月度投资未完成按月分解计划（2024年4月）"
    assert L.matter("每周一报送推进情况", "2024-W38") == "每周一报送推进情况（2024年第38周）"
    assert L.default_issuer("由县发展改革委（县重点项目事务中心）催报") == "县发展改革委（县重点项目事务中心）"
    assert L.default_issuer("由县重点项目事务中心在“晾晒比拼”中予以通报") == "县重点项目事务中心"
    for action in ("下达预警提示函，抄报包保市领导", "由此可见", "预警处置，按三级协调机制协调", ""):
        assert L.default_issuer(action) == L.NO_ISSUER


# -- the templates -------------------------------------------------------------------------

def test_default_template_page_setup() -> None:
    import io

    d = docx.Document(io.BytesIO(default_template()))
    s = d.sections[0]
    for got, want in ((s.page_width, Mm(210)), (s.page_height, Mm(297)), (s.top_margin, Mm(37)),
                      (s.bottom_margin, Mm(35)), (s.left_margin, Mm(28)), (s.right_margin, Mm(26))):
        assert abs(got - want) < Mm(0.1)
    title, body = d.styles["公文标题"], d.styles["公文正文"]
    assert title.font.size == Pt(22) and body.font.size == Pt(16)
    assert title.element.rPr.rFonts.get(docx.oxml.ns.qn("w:eastAsia")) == "方正小标宋简体"
    assert body.element.rPr.rFonts.get(docx.oxml.ns.qn("w:eastAsia")) == "仿宋_GB2312"
    assert title.paragraph_format.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER
    assert Pt(28) <= body.paragraph_format.line_spacing <= Pt(29)
    assert body.paragraph_format.first_line_indent == Pt(32)
    fonts = next(p for p in d.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml").blob.decode()
    assert '<w:font w:name="方正小标宋简体"><w:altName w:val="华文中宋"/>' in fonts
    assert d.paragraphs[0].text == "{{ title }}" and d.paragraphs[0].style.name == "公文标题"


def test_committed_template_is_what_the_script_makes() -> None:
    spec = importlib.util.spec_from_file_location("make_letter_template", ROOT / "scripts" / "make_letter_template.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == default_template(), "run scripts/make_letter_template.py"


def make_template(path: Path, *paragraphs: str, header: str = "") -> Path:
    d = docx.Document()
    for text in paragraphs:
        d.add_paragraph(text)
    if header:
        d.sections[0].header.paragraphs[0].text = header
    d.save(str(path))
    return path


def test_custom_template_with_extra_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = make_template(tmp_path / "ours.docx", "{{ project }}|{{ region }}|{{ level }}|{{ color }}|{{ tier }}",
                      "{% for u in units %}[{{ u }}]{% endfor %}", "{{ key }} {{ pack }} {{ number }}",
                      "{%p if due %}", "due {{ due }}", "{%p endif %}", "{{ matter }}/{{ letter_type }}",
                      header="{{ document }} {{ policy_title }}")
    out = tmp_path / "l"
    code, err = run(["--pack", "jiande", "--as-of", "2024-11-30", "--since", "2024-06-01",
                     str(EXAMPLES / "jiande.jsonl"), "-o", str(out), "--template", str(t)], capsys)
    assert code == 0, err
    first = letters_in(out)[0]
    assert texts(first) == [
        "年产5万吨新材料项目（JD-2024-001）|下涯镇|red|红灯|一级",
        "[属地政府][市经信局][市规划和自然资源局]",
        "JD-2024-001/jd.land-to-start/开工监管 jiande@2024.2 1",
        "due 2024年5月31日",
        "落地未开工（开工监管）/红灯预警"]
    assert docx.Document(str(first)).sections[0].header.paragraphs[0].text == \
        "建政办函〔2024〕22号 建德市投资项目全生命周期管理工作推进机制"


@pytest.mark.parametrize(("paragraphs", "said"), [
    (("{{ title }}", "项目：{{ projet_name }}"),
     ["unknown field {{ projet_name }}", "«项目：{{ projet_name }}»", "did you mean {{ project_name }}"]),
    (("{{ title }", "x"), ["template error in the body", "«{{ title }", "unexpected"]),
    (("{% if due %}{{ due }}",), ["template error", "endif"]),
    (("{{ title|nosuchfilter }}",), ["template error", "nosuchfilter"]),
    (("{{ title.nosuch }}",), ["cannot fill in a trial letter", "nosuch"]),
])
def test_template_errors_name_the_file_and_field_and_write_nothing(
        paragraphs: tuple[str, ...], said: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = make_template(tmp_path / "bad.docx", *paragraphs)
    code, err = run(["--pack", "jiande", "--as-of", "2024-11-30", str(EXAMPLES / "jiande.jsonl"),
                     "-o", str(tmp_path / "out"), "--template", str(t)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"lifecycle-rules: --template {t}: ")
    for words in said:
        assert words in err
    assert sorted(os.listdir(tmp_path)) == ["bad.docx"]


def test_a_template_that_is_not_a_docx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = tmp_path / "old.doc.docx"
    t.write_bytes(b"\xd0\xcf\x11\xe0 an OLE .doc")
    code, err = run(["--pack", "jiande", "--as-of", "2024-11-30", str(EXAMPLES / "jiande.jsonl"),
                     "-o", str(tmp_path / "out"), "--template", str(t)], capsys)
    assert code == 2 and "not a Word .docx file" in err and not (tmp_path / "out").exists()


def test_docs_list_every_field() -> None:
    doc = (ROOT / "docs" / "letters.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)` \|", doc, flags=re.MULTILINE))
    assert documented == set(L.FIELDS)
    assert "{{ title }}" in doc and "--include-in-progress" in doc and "--force" in doc


# -- hostile data ----------------------------------------------------------------------------

HOSTILE = [
    ("../../escape", "{{ issuer }}<w:p>&amp;"),
    ("..\\..\\win:*?<>|\"", "{% for x in units %}X{% endfor %}"),
    ("CON", "=HYPERLINK(\"http://x\")"),
    ("a\u202egpj.exe", "名\x07称\n换行\t"),
    ("长" * 200, "很长的名字" * 200),
    (".", "{#"),
]


def hostile_file(tmp_path: Path) -> Path:
    base = json.loads((EXAMPLES / "tongjiang.jsonl").read_text(encoding="utf-8").splitlines()[0])
    lines = []
    for pid, name in HOSTILE:
        base["project"]["id"], base["project"]["name"] = pid, name
        lines.append(json.dumps(base, ensure_ascii=False))
    path = tmp_path / "in" / "hostile.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_hostile_codes_and_names_stay_inside_and_are_never_evaluated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = hostile_file(tmp_path)
    work = tmp_path / "work"
    out = work / "out"
    work.mkdir()
    code, err = run(["--pack", "tongjiang", "--as-of", "2024-11-30", "--since", "2024-04-01", str(src),
                     "-o", str(out)], capsys)
    assert code == 0, err
    assert sorted(os.listdir(work)) == ["out"]  # nothing beside it: no escape, no leftovers
    assert sorted(os.listdir(tmp_path)) == ["in", "work"]
    names = os.listdir(out)
    assert len(names) == 3 * len(HOSTILE) + 1
    for name in names:
        assert "/" not in name and "\\" not in name and not re.search(r'[<>:"|?*\x00-\x1f\u202e]', name)
        assert len(name.encode()) <= 255 and not name.endswith((".", " "))
        assert (out / name).resolve().parent == out.resolve()
    rows = index_rows(out)
    for row, (pid, name) in zip(rows[::3], HOSTILE, strict=True):
        assert row["项目代码"] == pid
        lines = texts(out / str(row["文件名"]))
        shown = L.safe_text(name.strip())
        assert shown in lines[0] or (name.strip() == "" and pid in lines[0])
        assert any(shown in line for line in lines[3:])
    first = texts(out / str(rows[0]["文件名"]))
    assert first[0].startswith("关于{{ issuer }}<w:p>&amp;未完成目标计划")  # printed, not evaluated
    assert first[-2] == "（发文单位）"
    assert "关于名\\u0007称 换行未完成目标计划" in texts(out / str(rows[9]["文件名"]))[0]
    assert rows[6]["项目名称"] == '=HYPERLINK("http://x")'  # a text cell, not a formula


def test_file_names_are_safe() -> None:
    assert L.file_name(1, 3, "../../x", "督办") == "001__.._x_督办.docx"  # no leading dot
    assert L.file_name(12, 3, " .. ", "提示函") == "012___提示函.docx"
    assert L.file_name(1, 4, "a/b\\c:d", "黄灯预警（通报式）") == "0001_a_b_c_d_黄灯预警（通报式）.docx"
    assert len(L.file_name(1, 3, "码" * 500, "类" * 100).encode()) < 255


# -- the folder ----------------------------------------------------------------------------

def args_for(out: Path, *more: str) -> list[str]:
    return ["--pack", "tongjiang", "--as-of", "2024-11-30", str(EXAMPLES / "tongjiang.jsonl"), "-o", str(out), *more]


def test_a_folder_that_is_not_empty_is_refused_unless_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    (out / "001_TJ-2024-007_催报提醒.docx").write_text("old")
    (out / "函件清单.rejects.jsonl").write_text("{}\n")  # an earlier run's
    code, err = run(args_for(out), capsys)
    assert code == 2 and "the folder is not empty (3 entries" in err and "--force" in err
    assert sorted(os.listdir(out)) == ["001_TJ-2024-007_催报提醒.docx", "mine.txt", "函件清单.rejects.jsonl"]
    code, err = run(args_for(out, "--force"), capsys)
    assert code == 0, err
    assert (out / "mine.txt").read_text() == "keep"
    assert texts(out / "001_TJ-2024-007_催报提醒.docx")[0].startswith("关于")  # replaced
    assert not (out / "函件清单.rejects.jsonl").exists()
    assert "removed 函件清单.rejects.jsonl" in err and "1 other file(s)" in err and "mine.txt" in err
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no lock, no temporary folder left


def test_an_empty_folder_is_filled_and_a_new_one_made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(args_for(empty), capsys)[0] == 0
    assert sorted(os.listdir(empty))[-2:] == ["函件清单.notices.jsonl", INDEX]
    fresh = tmp_path / "fresh"
    assert run(args_for(fresh), capsys)[0] == 0
    assert sorted(os.listdir(fresh)) == sorted(os.listdir(empty))
    assert (fresh.stat().st_mode & 0o777) == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(("make", "said"), [
    (lambda p: p.write_text("x"), "exists and is not a folder"),
    (lambda p: None, "no such directory"),
])
def test_bad_output_folders(make: object, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "f" if said != "no such directory" else tmp_path / "missing" / "f"
    make(out)  # type: ignore[operator]
    code, err = run(args_for(out), capsys)
    assert code == 2 and said in err
    code, err = run(args_for(tmp_path / "letters.docx"), capsys)
    assert code == 2 and "-o takes a folder" in err


def test_a_failure_midway_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle_rules.errors import LifecycleRulesError
    from lifecycle_rules.office.letters_docx import LetterTemplate

    real = LetterTemplate.render
    calls: list[str] = []

    def flaky(self: LetterTemplate, values: object, target: Path | None = None, *, what: str = "") -> bytes:
        calls.append(what)
        if len(calls) == 3:  # the trial letter, the first letter, then this
            raise LifecycleRulesError("disk full")
        return real(self, values, target, what=what)  # type: ignore[arg-type]

    monkeypatch.setattr(LetterTemplate, "render", flaky)
    code, err = run(args_for(tmp_path / "out"), capsys)
    assert code == 2 and "disk full" in err
    assert os.listdir(tmp_path) == []


def test_rejects_are_written_and_exit_1_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    good = (EXAMPLES / "tongjiang.jsonl").read_text(encoding="utf-8")
    src.write_text(good + '{"project": {"id": "BAD-1"}, "events": [{"date": "2024-13-01", "type": "x"}]}\n',
                   encoding="utf-8")
    out = tmp_path / "out"
    code, err = run(["--pack", "tongjiang", "--as-of", "2024-11-30", str(src), "-o", str(out)], capsys)
    assert code == 1 and "1 rejected record(s) written to" in err
    (reject,) = [json.loads(line) for line in (out / "函件清单.rejects.jsonl").read_text().splitlines()]
    assert reject["project_id"] == "BAD-1" and reject["file"] == str(src)
    assert len(letters_in(out)) == 3
    code, _ = run(["--pack", "tongjiang", "--as-of", "2024-11-30", str(src), "-o", str(tmp_path / "o2"),
                   "--allow-rejects"], capsys)
    assert code == 0


def test_no_letter_still_writes_the_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, err = run(["--pack", "jiangyin", "--as-of", "2024-11-30", str(EXAMPLES / "jiangyin.jsonl"),
                     "-o", str(out)], capsys)
    assert code == 0 and "0 letter(s) for 3 warning(s)" in err and "3 level reached before 2024-11-01" in err
    assert os.listdir(out) == [INDEX] and index_rows(out) == []


def test_without_the_reports_extra(tmp_path: Path) -> None:
    script = ("import sys; sys.modules['docxtpl'] = None\n"
              "from lifecycle_rules.io.cli import main\n"
              "assert main(['packs']) == 0\n"
              f"sys.exit(main(['letters', '--pack', 'jiande', '--as-of', '2024-11-30', "
              f"{str(EXAMPLES / 'jiande.jsonl')!r}, '-o', {str(tmp_path / 'out')!r}]))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert "install lifecycle-rules[reports]" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
