"""The office's words (core/wording.py): what every message and office file says for a
date, a period, a project, a sign-off standing and a clause."""

from __future__ import annotations

import datetime as dt

import pytest

from lifecycle_rules import evaluate, load_pack
from lifecycle_rules.core.wording import cite, cn_date, cn_period, cn_subject, project_label, status_sentence

D = dt.date


@pytest.mark.parametrize(("label", "words"), [
    ("2024-03", "2024年3月"),
    ("2024-12", "2024年12月"),
    ("2024-Q2", "2024年第二季度"),
    ("2024-Q4", "2024年第四季度"),
    ("2024-W23", "2024年第23周（6月3日至6月9日）"),
    ("2026-W53", "2026年第53周（12月28日至2027年1月3日）"),  # a week across the year's end
    ("2025", "2025年"),
    ("2024-13", "2024-13"),  # not a month: as given, never guessed
    ("2024-W60", "2024-W60"),
    ("月度", "月度"),
    ("", ""),
])
def test_periods_in_words(label: str, words: str) -> None:
    assert cn_period(label) == words


def test_dates_subjects_projects() -> None:
    assert cn_date(D(2024, 3, 2)) == "2024年3月2日"
    assert cn_subject("月度目标 2024-03") == "月度目标 2024年3月"
    assert cn_subject("2024-W38") == "2024年第38周（9月16日至9月22日）"
    assert cn_subject("开工监管") == "开工监管"
    assert project_label("年产5万吨新材料项目", "JD-1") == "年产5万吨新材料项目（JD-1）"
    assert project_label("", "JD-1") == "JD-1"
    assert project_label("JD-1", "JD-1") == "JD-1"


@pytest.mark.parametrize(("status", "pushes", "closed", "sentence"), [
    ("open", 0, None, ""),
    ("in_progress", 0, None, "目前正在办理。"),
    ("in_progress", 2, None, "目前正在办理（已推送2次）。"),
    ("closure_overdue", 4, None, "目前销号超时：答复正在办理后已推送4次仍未销号。"),
    ("closed", 0, D(2024, 7, 20), "已于2024年7月20日销号。"),
])
def test_where_a_warning_stands(status: str, pushes: int, closed: dt.date | None, sentence: str) -> None:
    assert status_sentence(status, pushes, closed) == sentence


def test_clauses_cite_the_document_number() -> None:
    assert cite("jiande-2024.txt 五.2, 三(三)", "jiande-2024.txt", "建政办函〔2024〕22号") == \
        "建政办函〔2024〕22号 五.2, 三(三)"
    assert cite("其他文件 一", "jiande-2024.txt", "建政办函〔2024〕22号") == "其他文件 一"
    jiande, tongjiang = load_pack("jiande"), load_pack("tongjiang")
    assert jiande.document == "建政办函〔2024〕22号"
    assert jiande.cite("jiande-2024.txt 五.2") == "建政办函〔2024〕22号 五.2"
    # No document number in the pack: the title in 《》.
    assert tongjiang.cite("tongjiang-2022.txt 二(二)3") == "《同江市重点项目全生命周期管理服务实施方案》 二(二)3"


def test_an_overdue_warning_says_so_and_what_is_owed() -> None:
    pack = load_pack("jiande")
    key = "JD-W-1/jd.land-to-start/开工监管"
    hist = {"project": {"id": "JD-W-1", "name": "测试项目", "sector": "industrial", "investment_wan": 30000},
            "events": [{"date": "2024-03-02", "type": "step_completed", "step": "拿地"},
                       {"date": "2024-06-05", "type": "disposition", "warning": key, "action": "in_progress"}]}
    overdue = evaluate(pack, hist, "2024-10-04").warnings[0]
    assert overdue.status == "closure_overdue"
    assert overdue.message == ("测试项目（JD-W-1）于2024年3月2日落地，须在90天内开工（期限2024年5月31日），"
                               "现红灯预警（2024年6月1日起），请尽快办结销号。目前销号超时：答复正在办理后已推送4次仍未销号。")
    assert "预警处置" not in overdue.message
    orange = evaluate(pack, hist, "2024-05-17").warnings[0]
    assert orange.message.endswith("现橙色预警（2024年5月17日起），请加快推进，在红灯期限前办结。")
