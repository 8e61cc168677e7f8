"""江阴 portfolio rates (jiangyin-2022.txt 一, 12): each rate's numerator, denominator and
value on a small hand-built portfolio, derived by hand below.

The pack (rulepacks/jiangyin/pack.yaml, ``rates:``) defines:
- 签约项目备案率 (year): signed (签约, not 意向) in the window; of them, filed by as_of.
- 备案项目开工率 (year): filed (备案, or passed by 开工 or later) in the window; of them,
  started by as_of.
- 当年投入完成率 (year): sum actual_wan / sum planned_wan (the year's plan) of the monthly
  reports filed by as_of whose period is one of the twelve months of as_of's year (last
  filing of a period that gives the amount wins); no value while a reporting project
  lacks planned_wan for a month of the year (``missing`` names the months).
- 项目竣工投产率 (year): plan.completion in the window; of them, completed (竣工 = 投产, or
  passed by 达产) by as_of.
- 最终产能达效率 (all): completed (投产) by as_of; of them, 达产 by as_of.
The window of a ``year`` rate is 1 January of as_of's year to as_of, both included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules import load_pack
from lifecycle_rules.core.rates import portfolio_rates
from lifecycle_rules.io.cli import main

AS_OF = "2024-07-31"


def h(
    pid: str,
    *steps: tuple[str, str],
    plan: dict[str, str] | None = None,
    reports: list[tuple[str, str, float, float]] | None = None,
) -> dict[str, Any]:
    events: list[dict[str, Any]] = [{"date": d, "type": "step_completed", "step": s} for d, s in steps]
    for filed, period, planned, actual in reports or []:
        events.append(
            {"date": filed, "type": "monthly_report", "period": period, "planned_wan": planned, "actual_wan": actual}
        )
    return {"project": {"id": pid, "sector": "industrial"}, "plan": plan or {}, "events": events}


PORTFOLIO = [
    # P1: signed on the window's first day, filed, started; planned completion on as_of
    # itself (in the window), not completed. Reports: January, and July filed on as_of.
    h(
        "P1",
        ("2024-01-01", "签约"),
        ("2024-03-10", "备案"),
        ("2024-06-01", "开工"),
        plan={"completion": "2024-07-31"},
        reports=[("2024-02-05", "2024-01", 100, 90), ("2024-07-31", "2024-07", 100, 50)],
    ),
    # P2: signed the day before the window (not counted), filed on the window's first day,
    # not started. Its December 2023 report, filed in January, is last year's month.
    h("P2", ("2023-12-31", "签约"), ("2024-01-01", "备案"), reports=[("2024-01-05", "2023-12", 500, 0)]),
    # P3: signed on as_of itself, not filed; planned completion the day after as_of.
    h("P3", ("2024-07-31", "签约"), plan={"completion": "2024-08-01"}),
    # P4: signed in May, filed after as_of (not seen); its August report is not seen either.
    h("P4", ("2024-05-01", "签约"), ("2024-08-01", "备案"), reports=[("2024-09-05", "2024-08", 300, 300)]),
    # P5: an intent (意向签约) only: not a 签约项目.
    h("P5", ("2024-02-01", "意向签约")),
    # P6: no 签约 or 备案 record; 施工许可证 (开工) 04-01 implies 备案 passed on 04-01.
    # Planned completion 06-30, completed late (07-15) but by as_of. March report corrected
    # (the later filing replaces the earlier); July report filed after as_of (not seen).
    h(
        "P6",
        ("2024-04-01", "施工许可证"),
        ("2024-07-15", "综合竣工验收"),
        plan={"completion": "2024-06-30"},
        reports=[
            ("2024-04-05", "2024-03", 200, 100),
            ("2024-04-20", "2024-03", 200, 180),
            ("2024-08-05", "2024-07", 400, 400),
        ],
    ),
    # P7: an old project: filed 2022, completed 2023, 达产 2024-02-01; plan in 2023.
    h(
        "P7",
        ("2022-03-01", "备案"),
        ("2022-06-01", "开工"),
        ("2023-05-01", "竣工"),
        ("2024-02-01", "达产"),
        plan={"completion": "2023-04-30"},
    ),
    # P8: 投产 (mapped onto 竣工) 2023-11-30, before its planned completion 2024-01-01 (the
    # window's first day); not 达产. 备案 passed on 2023-11-30: last year.
    h("P8", ("2023-11-30", "投产"), plan={"completion": "2024-01-01"}),
    # P9: only 达产, on as_of itself: passes 竣工, 开工 and 备案 on 2024-07-31.
    h("P9", ("2024-07-31", "达产"), plan={"completion": "2024-03-31"}),
    # P10: planned 07-15, completed 08-01, after as_of (not seen).
    h("P10", ("2022-05-01", "备案"), ("2022-09-01", "开工"), ("2024-08-01", "竣工"), plan={"completion": "2024-07-15"}),
]


def rates(
    as_of: str = AS_OF, portfolio: list[dict[str, Any]] | None = None
) -> dict[str, tuple[float, float, float | None]]:
    out = portfolio_rates(load_pack("jiangyin"), PORTFOLIO if portfolio is None else portfolio, as_of)
    return {r.id: (r.numerator, r.denominator, r.value) for r in out}


def test_the_pack_declares_the_five_rates_with_readings() -> None:
    pack = load_pack("jiangyin")
    assert [(r.id, r.name, r.kind, r.window) for r in pack.spec.rates] == [
        ("sign-filing-rate", "签约项目备案率", "count", "year"),
        ("filing-start-rate", "备案项目开工率", "count", "year"),
        ("annual-investment-rate", "当年投入完成率", "sum", "year"),
        ("completion-production-rate", "项目竣工投产率", "count", "year"),
        ("capacity-rate", "最终产能达效率", "count", "all"),
    ]
    assert all(r.reading and "jiangyin-2022.txt 一" in r.clause for r in pack.spec.rates)


def test_sign_filing_rate() -> None:
    # Signed 2024-01-01..07-31: P1 (01-01, the window's first day), P3 (07-31, as_of
    # itself), P4 (05-01). Not P2 (2023-12-31), P5 (意向 only), P6 (no 签约 record).
    # Filed by as_of: P1 (03-10). P3 never, P4 on 08-01 (after as_of). -> 1/3.
    assert rates()["sign-filing-rate"] == (1, 3, pytest.approx(1 / 3))


def test_filing_start_rate() -> None:
    # Filed 2024-01-01..07-31: P1 (03-10), P2 (01-01, first day), P6 (passed by 开工 on
    # 04-01), P9 (passed by 达产 on 07-31, as_of itself). Not P4 (08-01), P7/P10 (2022),
    # P8 (passed 2023-11-30). Started by as_of: P1, P6, P9 (passed). -> 3/4.
    assert rates()["filing-start-rate"] == (3, 4, 0.75)


def test_annual_investment_rate() -> None:
    # 2024 months, filed by as_of: P1 Jan 100/90, P1 Jul 100/50 (filed on as_of), P6 Mar
    # 200/180 (the correction replaces 200/100). Not P2's 2023-12, P4's August (filed after
    # as_of), P6's July (filed 08-05). Planned so far 400, actual 320: the old reading's 0.8.
    # But the year's plan is all twelve months: P1 lacks Feb-Jun and Aug-Dec, P6 every month
    # but March, so the plan is incomplete and the rate has no value (no month is guessed).
    assert rates()["annual-investment-rate"] == (320, 400, None)
    out = {r.id: r for r in portfolio_rates(load_pack("jiangyin"), PORTFOLIO, AS_OF)}
    rate = out["annual-investment-rate"]
    assert rate.missing == (("2024-01", 1), ("2024-02", 2), ("2024-03", 1), ("2024-04", 2), ("2024-05", 2),
                            ("2024-06", 2), ("2024-07", 1), ("2024-08", 2), ("2024-09", 2), ("2024-10", 2),
                            ("2024-11", 2), ("2024-12", 2))
    assert rate.notes == (
        "the year's planned_wan is incomplete: no monthly_report filed by 2024-07-31 gives it for "
        "2024-01 (1 project), 2024-02 (2 projects), 2024-03 (1 project), 2024-04..2024-06 (2 projects), "
        "2024-07 (1 project), 2024-08..2024-12 (2 projects); no value until every reporting project gives "
        "all twelve months (no figure is guessed)",
    )
    assert all(not r.missing and not r.notes for r in out.values() if r.id != "annual-investment-rate")


def year_planned_ahead() -> dict[str, Any]:
    """Q1 files its 年度计划任务 on 2024-01-15 as twelve monthly reports (planned_wan 50 a
    month for January-June, 150 for July-December, actual_wan 0), then each month's own
    report on the 5th of the next month, which replaces the month's plan filing."""
    plan = [("2024-01-15", f"2024-{m:02d}", 50.0 if m <= 6 else 150.0, 0.0) for m in range(1, 13)]
    actual = [("2024-02-05", "2024-01", 50.0, 40.0), ("2024-03-05", "2024-02", 50.0, 50.0),
              ("2024-04-05", "2024-03", 50.0, 60.0), ("2024-05-05", "2024-04", 50.0, 50.0),
              ("2024-06-05", "2024-05", 50.0, 45.0), ("2024-07-05", "2024-06", 50.0, 55.0),
              ("2024-08-05", "2024-07", 150.0, 120.0)]
    return h("Q1", ("2024-01-02", "开工"), reports=plan + actual)


def test_annual_investment_rate_is_against_the_whole_years_plan() -> None:
    # jiangyin-2022.txt 三.3 督当年投入完成率, 逐项目动态审核年度计划任务: the year's plan.
    # Q1 on 2024-07-31 (its July report, filed 08-05, is not seen yet):
    #   actual  Jan-Jun 40+50+60+50+45+55 = 300; Jul-Dec 0 (the plan filings)      -> 300
    #   planned Jan-Jun 6 x 50 = 300;          Jul-Dec 6 x 150 = 900             -> 1200
    #   new (the whole year's plan): 300 / 1200 = 0.25
    #   old code (months up to as_of's month, Jan-Jul): 300 / (300 + 150) = 2/3, i.e. the
    #   completion of the plan so far, not of 当年投入.
    assert rates(portfolio=[year_planned_ahead()])["annual-investment-rate"] == (300, 1200, 0.25)
    # On 2024-08-05 July's own report (150/120) replaces its plan filing (150/0):
    #   new: (300 + 120) / 1200 = 0.35; old code (Jan-Aug): 420 / (450 + 150) = 0.7.
    assert rates("2024-08-05", [year_planned_ahead()])["annual-investment-rate"] == (420, 1200, 0.35)


def test_a_month_not_reported_yet_is_named_not_guessed() -> None:
    # Q2 files its reports month by month, Jan-Jun, each planned 100, actual 80 (filed on
    # the 5th of the next month): its July-December plan is not in the history yet.
    #   numerator   Q1 300 + Q2 6 x 80 = 480   -> 780
    #   denominator Q1 1200 + Q2 6 x 100 = 600 -> 1800 (the plan known so far)
    #   new: no value; July-December missing for one project (Q2).
    #   old code: (300 + 480) / (450 + 600) = 780 / 1050 = 0.742857 (no word of July-December).
    q2 = h("Q2", ("2023-06-01", "开工"),
           reports=[(f"2024-{m + 1:02d}-05", f"2024-{m:02d}", 100.0, 80.0) for m in range(1, 7)])
    out = portfolio_rates(load_pack("jiangyin"), [year_planned_ahead(), q2], AS_OF)
    rate = next(r for r in out if r.id == "annual-investment-rate")
    assert (rate.numerator, rate.denominator, rate.value) == (780, 1800, None)
    assert rate.missing == tuple((f"2024-{m:02d}", 1) for m in range(7, 13))
    assert rate.to_dict()["notes"] == [
        "the year's planned_wan is incomplete: no monthly_report filed by 2024-07-31 gives it for "
        "2024-07..2024-12 (1 project); no value until every reporting project gives all twelve months "
        "(no figure is guessed)"
    ]


def test_completion_production_rate() -> None:
    # Planned completion 2024-01-01..07-31: P1 (07-31, as_of itself), P6 (06-30), P8
    # (01-01, first day), P9 (03-31), P10 (07-15). Not P3 (08-01), P7 (2023).
    # Completed by as_of: P6 (07-15, late), P8 (投产 2023-11-30), P9 (达产 passes 竣工).
    # P1 not completed, P10 completes 08-01. -> 3/5.
    assert rates()["completion-production-rate"] == (3, 5, 0.6)


def test_capacity_rate() -> None:
    # In production (竣工 = 投产) by as_of, any year: P6 (07-15), P7 (2023-05-01),
    # P8 (2023-11-30), P9 (passed 07-31). Not P10 (08-01). 达产: P7, P9. -> 2/4.
    assert rates()["capacity-rate"] == (2, 4, 0.5)


def test_the_day_before_as_of_drops_what_happens_on_as_of() -> None:
    # as_of 2024-07-30: P3's 签约, P9's 达产 and P1's July report (all 07-31) are unseen,
    # and P1's planned completion 07-31 is outside the window.
    r = rates("2024-07-30")
    assert r["sign-filing-rate"] == (1, 2, 0.5)  # P1, P4; P1 filed
    assert r["filing-start-rate"] == (2, 3, pytest.approx(2 / 3))  # P1, P2, P6; P1, P6
    assert r["annual-investment-rate"] == (270, 300, None)  # P1 Jan 90/100, P6 Mar 180/200; plan incomplete
    assert r["completion-production-rate"] == (2, 4, 0.5)  # P6, P8, P9, P10; P6, P8
    assert r["capacity-rate"] == (1, 3, pytest.approx(1 / 3))  # P6, P7, P8; P7


def test_empty_denominators_have_no_value() -> None:
    # Only an intent: nobody signed, filed, reporting, planned or completed.
    r = rates(portfolio=[h("P5", ("2024-02-01", "意向"))])
    assert r == {
        "sign-filing-rate": (0, 0, None),
        "filing-start-rate": (0, 0, None),
        "annual-investment-rate": (0, 0, None),
        "completion-production-rate": (0, 0, None),
        "capacity-rate": (0, 0, None),
    }


def test_a_new_year_restarts_the_year_windows_but_not_the_final_rate() -> None:
    # as_of 2025-01-01: nothing signed, filed, reported or planned in 2025 so far -> None.
    # 最终产能达效率 (window all): 竣工 by then: P6, P7, P8, P9, P10 (08-01); 达产 P7, P9.
    r = rates("2025-01-01")
    for rate in ("sign-filing-rate", "filing-start-rate", "annual-investment-rate", "completion-production-rate"):
        assert r[rate] == (0, 0, None), rate
    assert r["capacity-rate"] == (2, 5, 0.4)


def test_cli_rates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "portfolio.jsonl"
    src.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in PORTFOLIO), encoding="utf-8")
    out = tmp_path / "rates.json"
    code = main(["rates", "--pack", "jiangyin", "--as-of", AS_OF, str(src), "-o", str(out)])
    printed, err = capsys.readouterr()
    assert code == 0, err
    lines = printed.splitlines()
    assert lines == [
        "签约项目备案率\t33.3%\t1/3\tjiangyin-2022.txt 一, 二.2, 三.1, 12",
        "备案项目开工率\t75.0%\t3/4\tjiangyin-2022.txt 一, 三.2, 12",
        "当年投入完成率\t—\t320/400\tjiangyin-2022.txt 一, 三.3, 12",
        "项目竣工投产率\t60.0%\t3/5\tjiangyin-2022.txt 一, 二.8, 12",
        "最终产能达效率\t50.0%\t2/4\tjiangyin-2022.txt 一, 二.8, 三.3, 12",
    ]
    data = {r["id"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    assert data["sign-filing-rate"]["window_start"] == "2024-01-01"
    assert data["sign-filing-rate"]["window_end"] == AS_OF
    assert data["capacity-rate"]["window_start"] is None
    assert data["annual-investment-rate"]["value"] is None
    assert "2024-08..2024-12 (2 projects)" in data["annual-investment-rate"]["notes"][0]
    assert data["sign-filing-rate"]["notes"] == []


def test_cli_rates_empty_denominator_is_a_dash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "one.jsonl"
    src.write_text(json.dumps(h("P5", ("2024-02-01", "意向")), ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["rates", "--pack", "jiangyin", "--as-of", AS_OF, str(src)]) == 0
    printed, _ = capsys.readouterr()
    assert "签约项目备案率\t—\t0/0\tjiangyin-2022.txt 一, 二.2, 三.1, 12" in printed.splitlines()
