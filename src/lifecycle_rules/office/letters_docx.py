"""The Word side of the letters: a template (the default ``templates/letter.docx`` or an
office's own) checked before anything is written, each letter filled in from it, and the
index sheet (函件清单.xlsx).

A template is a .docx with docxtpl's Jinja fields (``{{ title }}`` ...; the fields are
``letters.FIELDS``, documented in docs/letters.md). Before any input is read it is checked:
every tag must parse, every field must be one of ``FIELDS`` (a misspelt field is named, with
the paragraph it is in), and a trial letter is filled in. Values are escaped for XML
(docxtpl's ``autoescape``) and never evaluated: a project named ``{{ issuer }}`` is printed
as such. Templates run in Jinja's sandbox with undefined values as errors.

docxtpl (the ``reports`` extra) is imported here only, inside functions.
"""

from __future__ import annotations

import difflib
import html
import importlib
import importlib.resources
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lifecycle_rules.errors import LifecycleRulesError
from lifecycle_rules.office.letters import FIELDS, INDEX_COLUMNS

EXTRA_HINT = "install lifecycle-rules[reports] (pip install 'lifecycle-rules[reports]'), which brings docxtpl"
FIELDS_DOC = "docs/letters.md"


def docxtpl() -> Any:
    """The docxtpl module, or the error that says which extra to install."""
    try:
        return importlib.import_module("docxtpl")
    except ImportError:
        raise LifecycleRulesError(f"letters needs docxtpl: {EXTRA_HINT}") from None


def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


def default_template() -> bytes:
    return importlib.resources.files("lifecycle_rules.office").joinpath("templates", "letter.docx").read_bytes()


def _paragraph(line: str) -> str:
    """A line of a part's XML (one paragraph a line) as the text Word shows."""
    text = html.unescape(re.sub(r"<[^>]+>", "", line)).strip()
    return text if len(text) <= 80 else text[:77] + "..."


class LetterTemplate:
    """A checked template: ``render`` fills one letter in."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.name = name
        self._module = docxtpl()
        self._check()

    @classmethod
    def load(cls, path: Path | None) -> LetterTemplate:
        if path is None:
            return cls(default_template(), "the default template")
        if path.is_dir() or not path.exists():
            raise LifecycleRulesError(f"--template {path}: no such file")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise LifecycleRulesError(f"--template {path}: cannot read: {exc.strerror}") from None
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise LifecycleRulesError(f"--template {path}: not a Word .docx file (a Word 97-2003 .doc or "
                                      ".wps must be saved as .docx first)")
        return cls(data, f"--template {path}")

    # -- checks ----------------------------------------------------------------------

    def _parts(self) -> list[tuple[str, str]]:
        """(where, XML with one paragraph a line) of the body, the headers and the footers,
        as docxtpl will render them."""
        try:
            tpl = self._module.DocxTemplate(io.BytesIO(self.data))
            tpl.init_docx()
        except Exception as exc:  # python-docx's errors for a broken package vary
            raise LifecycleRulesError(f"{self.name}: not a Word .docx file ({exc})") from None
        parts = [("the body", tpl.patch_xml(tpl.get_xml()))]
        for where, uri in (("a header", tpl.HEADER_URI), ("a footer", tpl.FOOTER_URI)):
            parts += [(where, tpl.patch_xml(tpl.get_part_xml(part))) for _, part in tpl.get_headers_footers(uri)]
        return [(where, re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)) for where, xml in parts]

    def _check(self) -> None:
        from jinja2 import TemplateSyntaxError, meta

        env = _environment()
        for where, xml in self._parts():
            lines = xml.splitlines()
            try:
                env.from_string(xml)  # compiled: tags, filters, tests
            except TemplateSyntaxError as exc:
                at = lines[exc.lineno - 1] if exc.lineno and 0 < exc.lineno <= len(lines) else ""
                said = f" in the paragraph «{_paragraph(at)}»" if at else ""
                raise LifecycleRulesError(f"{self.name}: template error in {where}{said}: {exc.message}") from None
            for name in sorted(meta.find_undeclared_variables(env.parse(xml)) - set(FIELDS)):
                raise LifecycleRulesError(self._unknown(name, where, lines))
        self.render(sample_fields())  # what only filling in finds (an attribute of a text ...)

    def _unknown(self, name: str, where: str, lines: Sequence[str]) -> str:
        used = re.compile(r"(\{\{|\{%)[^}]*(?<![\w.])" + re.escape(name) + r"(?!\w)")
        at = next((line for line in lines if used.search(html.unescape(re.sub(r"<[^>]+>", "", line)))), "")
        said = f" in the paragraph «{_paragraph(at)}»" if at else ""
        close = difflib.get_close_matches(name, list(FIELDS), n=1)
        hint = f" (did you mean {{{{ {close[0]} }}}}?)" if close else ""
        return (f"{self.name}: unknown field {{{{ {name} }}}} in {where}{said}{hint}; the fields a letter has "
                f"are listed in {FIELDS_DOC}: {', '.join(FIELDS)}")

    # -- filling in --------------------------------------------------------------------

    def render(self, values: Mapping[str, Any], target: Path | None = None, *, what: str = "a trial letter") -> bytes:
        """The letter as .docx bytes (also written to ``target`` if given)."""
        from jinja2 import TemplateError

        tpl = self._module.DocxTemplate(io.BytesIO(self.data))
        try:
            tpl.render(dict(values), _environment(), autoescape=True)
        except TemplateError as exc:
            raise LifecycleRulesError(f"{self.name}: cannot fill in {what}: {exc}") from None
        except Exception as exc:  # docxtpl/lxml on a template whose tags break the document
            raise LifecycleRulesError(f"{self.name}: cannot fill in {what}: {type(exc).__name__}: {exc}") from None
        out = io.BytesIO()
        tpl.save(out)
        data = out.getvalue()
        if target is not None:
            with open(target, "xb") as f:
                f.write(data)
        return data


def sample_fields() -> dict[str, Any]:
    """Values of every field, for the trial letter of the check (and the docs)."""
    values: dict[str, Any] = {name: "示例" for name in FIELDS}
    values["units"] = ["示例单位一", "示例单位二"]
    return values


# -- the index sheet ---------------------------------------------------------------------

_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_WIDTHS = {"序号": 6, "文件名": 36, "项目名称": 30, "主送单位": 36, "预警事项": 30, "政策依据": 30}


def write_index(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """函件清单.xlsx: one row a letter, dates as date cells, texts never formulas."""
    import datetime as dt

    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "函件清单"
    sheet.append(list(INDEX_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, column in enumerate(INDEX_COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(column, 14)
    sheet.freeze_panes = "A2"
    for r, row in enumerate(rows, 2):
        for c, column in enumerate(INDEX_COLUMNS, 1):
            value = row.get(column)
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, dt.date):
                cell.value = value
                cell.number_format = "yyyy-mm-dd"
            elif value is None or isinstance(value, int):
                cell.value = value
            else:
                text = _XLSX_ILLEGAL.sub(lambda m: f"\\u{ord(m.group()):04x}", str(value))
                cell.value = text
                cell.data_type = "s"  # a text, never a formula (a name may begin with =)
    with open(path, "xb") as f:
        book.save(f)
