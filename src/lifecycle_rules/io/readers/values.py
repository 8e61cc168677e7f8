"""Cell values as the export readers read them: dates, amounts, periods and text, and
the normalised key under which headers and value words are looked up. Pure functions;
a value that cannot be read raises ``ValueError`` with the message a reject shows (a
value it quotes clipped to ``CLIP_CHARS``).

A cell is hostile input: no pattern here may backtrack on it. A date, amount or period
longer than :data:`MAX_PATTERN_CHARS` is refused before any pattern sees it, and the
patterns themselves are linear (no two ``\\s*`` that can take the same spaces)."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from lifecycle_rules.pack.yamlfile import clip

__all__ = ["parse_date"]

# The longest date, amount or period text read ("2024-07-02 12:34:56.123456" is 26, "3,500,000.00
# 万元" 15): a longer cell is refused at once, whatever a pattern would make of it.
MAX_PATTERN_CHARS = 40

# Excel's 1900 date system: serial 1 is 1900-01-01, and serial 60 is the
# non-existent 1900-02-29 kept for Lotus 1-2-3 compatibility.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31

# Cell words an office writes for "nothing": read as an empty cell (NFKC and case folded
# first, so ／ is / and N/A is n/a).
PLACEHOLDERS = frozenset({"/", "\\", "无", "—", "——", "-", "--", "暂无", "n/a", "na", "空", "（空）", "(空)"})

_DATE_SEP = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DATE_CN = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE_FORMATS = ((_DATE_SEP, (1, 3, 4)), (_DATE_CN, (1, 2, 3)), (_DATE_COMPACT, (1, 2, 3)))
_DATE_SHORT_YEAR = re.compile(r"(\d{2})\s*([-/.年])\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?")
_AMOUNT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_PERIOD_MONTH = re.compile(r"(\d{4})(?:\s*[-/.年]\s*(\d{1,2})\s*月?|(\d{2}))")
# "2024-W05", "2024 - W5", "2024W05", "2024年第5周": spaces, an optional "-" and spaces after it
# (never two runs of spaces side by side, which would backtrack quadratically), then W or 年.
_PERIOD_WEEK = re.compile(r"(\d{4})\s*(?:(?:-\s*)?W|年第?)\s*(\d{1,2})\s*周?", re.IGNORECASE)
# A byte the encoding could not decode, as errors="surrogateescape" keeps it in the text.
_SURROGATE = re.compile(r"[\udc80-\udcff]")


def parse_date(value: object) -> dt.date:
    """Read a date cell: ISO, ``2024/7/2``, ``2024.7.2``, ``2024年7月2日``,
    ``20240702``, a date/datetime, or an Excel serial number (1900 system)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"日期无法识别: {value!r}")
    if isinstance(value, (int, float)):
        return _date_from_number(value)
    if not isinstance(value, str):
        raise ValueError(f"日期无法识别: {clip(repr(value))}")
    text = unicodedata.normalize("NFKC", value).strip()
    if len(text) > MAX_PATTERN_CHARS:
        raise ValueError(f"日期无法识别: '{clip(value)}'（超过 {MAX_PATTERN_CHARS} 个字符）")
    for pattern, groups in _DATE_FORMATS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(match.group(g)) for g in groups)
            return _checked_date(year, month, day, value)
    if _DATE_SHORT_YEAR.fullmatch(text):
        raise ValueError(f"日期无法识别: '{clip(value)}'（年份须写四位，如 2024/3/2；两位年份不猜）")
    raise ValueError(f"日期无法识别: '{clip(value)}'")


def _checked_date(year: int, month: int, day: int, original: object) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        why = f"没有{month}月" if not 1 <= month <= 12 else f"{year}年{month}月没有{day}日"
        if not 1 <= year <= 9999:
            why = f"年份{year}不可用"
        raise ValueError(f"日期无法识别: '{clip(str(original))}'（{why}）") from None


def _date_from_number(number: float) -> dt.date:
    if not math.isfinite(number):
        raise ValueError(f"日期无法识别: {number!r}")
    whole = math.floor(number)  # a fraction is the time of day
    if 19000101 <= whole <= 99991231 and whole == number:
        # An 8-digit number in a date column is 20240702 typed as a number.
        return _checked_date(whole // 10000, whole // 100 % 100, whole % 100, number)
    if whole == 60:
        raise ValueError("日期无法识别: Excel 序列号 60 是不存在的 1900-02-29")
    if 1 <= whole <= _EXCEL_MAX_SERIAL:
        return _EXCEL_EPOCH + dt.timedelta(days=whole if whole > 60 else whole + 1)
    raise ValueError(f"日期无法识别: {number!r}")


def _iso(value: object) -> str:
    return parse_date(value).isoformat()


# Units of an amount, as written after the number or in a column's header: to 万元.
UNITS: dict[str, int | Fraction] = {"亿元": 10000, "亿": 10000, "万元": 1, "万": 1, "元": Fraction(1, 10000)}
_AMOUNT_UNIT = re.compile(r"(.*?)(亿元|亿|万元|万|元)?")


def _amount(value: object, unit: int | Fraction = 1) -> int | float:
    """An amount in 万元: a number (in ``unit``: the header's, 万元 by default), or text
    with its own unit (``3.5亿``, ``20000万元``, ``30,000``); never negative."""
    bad = f"金额无法识别: '{clip(str(value))}'（应为数字，单位万元，或写明单位如 3.5亿、20000万元）"
    if isinstance(value, bool):
        raise ValueError(bad)
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(bad)
        number: int | float | Fraction = value
    elif isinstance(value, Decimal):  # a database's NUMERIC column: exact, kept exact
        if not value.is_finite():
            raise ValueError(bad)
        number = Fraction(value)
    else:
        text = re.sub(r"[\s,]", "", unicodedata.normalize("NFKC", str(value)))
        if len(text) > MAX_PATTERN_CHARS:
            raise ValueError(bad)
        match = _AMOUNT_UNIT.fullmatch(text)
        assert match is not None  # the pattern takes any text
        digits, written = match.group(1), match.group(2)
        if not _AMOUNT.fullmatch(digits):
            raise ValueError(bad)
        number = int(digits) if digits.lstrip("+-").isdigit() else Fraction(digits)
        if written is not None:
            unit = UNITS[written]
    if number < 0:
        raise ValueError(f"金额不能为负数: '{clip(str(value))}'")
    if unit != 1:
        number = Fraction(str(number)) * unit if isinstance(number, float) else number * unit
    if isinstance(number, Fraction):
        number = int(number) if number.denominator == 1 else float(number)
    # Excel hands every number over as a float; 65000.0 and "65,000" must agree.
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel returns the number 2024017 as 2024017.0
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


@lru_cache(maxsize=8192)  # a column's values repeat (types, sectors, placeholders): worked out once each
def _norm(text: str) -> str:
    """Header/value key: NFKC (full-width = half-width), no whitespace, case folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).replace("\ufeff", "")).casefold()


def _is_empty(value: object) -> bool:
    """A cell with nothing in it: blank, or a placeholder word for nothing (``/``, ``无`` ...)."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    return not text or (len(text) <= 6 and _norm(text) in PLACEHOLDERS)


def _period(value: object, event_type: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        # Excel turns a typed "2024-03" into the date 2024-03-01.
        day = value.date() if isinstance(value, dt.datetime) else value
        if event_type == "weekly_report":
            iso = day.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        return f"{day.year}-{day.month:02d}"
    text = unicodedata.normalize("NFKC", _text(value))
    if len(text) > MAX_PATTERN_CHARS:
        raise ValueError(f"期间无法识别: '{clip(str(value))}'（超过 {MAX_PATTERN_CHARS} 个字符）")
    week = _PERIOD_WEEK.fullmatch(text)
    if week:
        return f"{week.group(1)}-W{int(week.group(2)):02d}"
    month = _PERIOD_MONTH.fullmatch(text)
    if month:
        number = int(month.group(2) or month.group(3))
        if not 1 <= number <= 12:
            raise ValueError(f"期间无法识别: '{clip(str(value))}'")
        return f"{month.group(1)}-{number:02d}"
    return text
