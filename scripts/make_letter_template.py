"""Make the default letter template, src/lifecycle_rules/office/templates/letter.docx.

    .venv/bin/python scripts/make_letter_template.py [OUT.docx]

A plain .docx in 公文 layout (GB/T 9704-2012): A4; margins top 37 mm, bottom 35 mm, left
28 mm, right 26 mm; the title in 二号 (22 pt) 方正小标宋简体, centred; the text in 三号 (16 pt)
仿宋_GB2312 at an exact 29 pt line pitch (22 lines a page); digits and Latin letters in
Times New Roman; the page number as 「— 1 —」 in the footer. The font table names a
fallback for each Chinese font (方正小标宋简体 -> 华文中宋, 仿宋_GB2312 -> 仿宋) and marks them
GB2312 fonts, so Word or WPS on a machine without them substitutes a Chinese serif
(宋体/SimSun) rather than a Latin font.

The fields are docxtpl's Jinja fields (``{{ title }}`` ...), listed in docs/letters.md; an
office edits this file in Word or WPS (or makes its own) and passes it as --template.
The output is byte-for-byte reproducible (fixed dates): tests/test_letters.py checks that
the committed template is what this script makes.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "lifecycle_rules" / "office" / "templates" / "letter.docx"

LATIN = "Times New Roman"
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
# (font, its alternative name, family, pitch): the font table's fallbacks.
FONTS = (
    (TITLE_FONT, "华文中宋", "roman", "variable"),
    ("华文中宋", "STZhongsong", "roman", "variable"),
    (BODY_FONT, "仿宋", "modern", "fixed"),
    ("仿宋", "FangSong", "modern", "fixed"),
    ("宋体", "SimSun", "roman", "variable"),
)
BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号
LINE = Pt(29)  # 22 lines in the 225 mm type area
INDENT = Pt(32)  # two characters of 三号
FIXED = dt.datetime(2024, 1, 1, 0, 0, 0)

# (style, text) a paragraph; {%p ... %} paragraphs are docxtpl's: they disappear when filled in.
PARAGRAPHS = (
    ("公文标题", "{{ title }}"),
    ("公文主送", ""),
    ("公文主送", "{{ addressee }}："),
    ("公文正文", "{{ body }}"),
    ("公文正文", "政策依据：{{ clause }}。"),
    ("公文正文", "{%p if due %}"),
    ("公文正文", "期限：{{ due }}。"),
    ("公文正文", "{%p endif %}"),
    ("公文正文", "{%p if action %}"),
    ("公文正文", "处置要求：{{ action }}。"),
    ("公文正文", "{%p endif %}"),
    ("公文正文", "请接此{{ doc_kind }}后按要求抓紧办理，并及时反馈办理情况"
                 "（无需办理、正在办理、已完成办理或项目退出）。"),
    ("公文正文", "{{ closing }}"),
    ("公文主送", ""),
    ("公文主送", ""),
    ("公文落款", "{{ issuer }}"),
    ("公文落款", "{{ date }}"),
)


def _fonts(rpr: object, east_asia: str) -> None:
    """Explicit fonts on a run-properties element (no theme fonts, which would win)."""
    rfonts = rpr.find(qn("w:rFonts"))  # type: ignore[attr-defined]
    if rfonts is None:
        rfonts = parse_xml(f"<w:rFonts {nsdecls('w')}/>")
        rpr.insert(0, rfonts)  # type: ignore[attr-defined]
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "cs"):
        rfonts.set(qn(f"w:{attr}"), LATIN)
    rfonts.set(qn("w:eastAsia"), east_asia)


def _defaults(doc: object) -> None:
    styles = doc.styles.element  # type: ignore[attr-defined]
    rpr = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr, BODY_FONT)
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), str(int(LINE.pt * 20)))
    spacing.set(qn("w:lineRule"), "exact")


def _style(doc: object, name: str, *, size: Pt, east_asia: str, align: WD_ALIGN_PARAGRAPH,
           first_line: Pt | None = None, right: Pt | None = None, line: Pt = LINE) -> None:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)  # type: ignore[attr-defined]
    style.base_style = doc.styles["Normal"]  # type: ignore[attr-defined]
    style.quick_style = True
    style.font.size = size
    _fonts(style.element.get_or_add_rPr(), east_asia)
    fmt = style.paragraph_format
    fmt.alignment = align
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = line
    fmt.first_line_indent = first_line
    fmt.right_indent = right
    fmt.widow_control = False


def _font_table(doc: object) -> None:
    part = next(p for p in doc.part.package.iter_parts()  # type: ignore[attr-defined]
                if str(p.partname) == "/word/fontTable.xml")
    table = parse_xml(part.blob)
    for name, alt, family, pitch in FONTS:
        table.append(parse_xml(
            f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
            f'<w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>'))
    from lxml import etree

    part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)


def _footer(section: object) -> None:
    footer = section.footer  # type: ignore[attr-defined]
    p = footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    rpr = f'<w:rPr><w:rFonts w:ascii="{LATIN}" w:hAnsi="{LATIN}" w:eastAsia="宋体"/><w:sz w:val="28"/></w:rPr>'
    p._p.append(parse_xml(f'<w:r {nsdecls("w")}>{rpr}<w:t xml:space="preserve">— </w:t></w:r>'))
    p._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r>{rpr}<w:t>1</w:t></w:r></w:fldSimple>'))
    p._p.append(parse_xml(f'<w:r {nsdecls("w")}>{rpr}<w:t xml:space="preserve"> —</w:t></w:r>'))


def build() -> bytes:
    doc = Document()
    _defaults(doc)
    normal = doc.styles["Normal"]
    normal.font.size = BODY_SIZE
    _fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    _style(doc, "公文标题", size=TITLE_SIZE, east_asia=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER, line=Pt(35))
    _style(doc, "公文主送", size=BODY_SIZE, east_asia=BODY_FONT, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _style(doc, "公文正文", size=BODY_SIZE, east_asia=BODY_FONT, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line=INDENT)
    _style(doc, "公文落款", size=BODY_SIZE, east_asia=BODY_FONT, align=WD_ALIGN_PARAGRAPH.RIGHT, right=INDENT)
    _font_table(doc)

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(20)
    _footer(section)

    body = doc.paragraphs[0]._p if doc.paragraphs else None
    if body is not None:
        body.getparent().remove(body)
    for style, text in PARAGRAPHS:
        doc.add_paragraph(text, style=style)

    props = doc.core_properties
    props.title, props.subject, props.author, props.comments = "", "", "", ""
    props.keywords, props.last_modified_by, props.revision = "", "", 1
    props.created = props.modified = FIXED
    props.last_printed = FIXED
    # No thumbnail of another document in file browsers.
    pkg = doc.part.package
    for rid, rel in list(pkg.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del pkg.rels[rid]
    out = io.BytesIO()
    doc.save(out)
    return _reproducible(out.getvalue())


def _reproducible(data: bytes) -> bytes:
    """The same bytes on every run: fixed entry dates, fixed order."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else OUT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(build())
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
