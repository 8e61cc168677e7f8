"""Portfolio rates: numerators, denominators and windows, exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules import HistoryError, load_pack
from lifecycle_rules.core.rates import portfolio_rates
from lifecycle_rules.io.cli import main

DEMO = Path(__file__).parent / "data/packs/demo"


def h(pid: str, *events: tuple[str, str], plan: dict[str, str] | None = None,
      reports: list[tuple[str, str, float, float]] | None = None) -> dict[str, Any]:
    evs: list[dict[str, Any]] = [{"date": d, "type": "step_completed", "step": s} for d, s in events]
    for filed, period, planned, actual in reports or []:
        evs.append({"date": filed, "type": "monthly_report", "period": period,
                    "planned_wan": planned, "actual_wan": actual})
    return {"project": {"id": pid}, "plan": plan or {}, "events": evs}


PORTFOLIO = [
    h("A", ("2024-02-01", "签约"), ("2024-05-01", "开工"), plan={"completion": "2024-06-30"},
      reports=[("2024-06-05", "2024-05", 100, 80), ("2024-07-05", "2024-06", 100, 100),
               ("2024-07-20", "2024-06", 100, 120)]),           # a correction replaces June
    h("B", ("2024-03-01", "签约"), ("2024-09-01", "开工")),     # starts after as_of
    h("C", ("2023-11-01", "签约"), ("2024-01-10", "开工"),      # signed last year: not in window
      plan={"completion": "2024-05-31"}, reports=[("2024-01-05", "2023-12", 50, 0)]),
    h("D", ("2024-04-01", "签约"), ("2024-04-02", "竣工"), plan={"completion": "2024-12-31"}),
]


def rates(as_of: str = "2024-07-31") -> dict[str, tuple[float, float, float | None]]:
    out = portfolio_rates(load_pack(DEMO), PORTFOLIO, as_of)
    return {r.id: (r.numerator, r.denominator, r.value) for r in out}


def test_count_rate_window_and_membership() -> None:
    # Signed in 2024 up to 07-31: A, B, D (C signed in 2023). Started by then: A, and D,
    # which is already completed (a later milestone implies the earlier one); B starts later.
    assert rates()["start-rate"] == (2, 3, pytest.approx(2 / 3))


def test_sum_rate_uses_the_last_report_of_each_period_in_the_year() -> None:
    # 2024 periods: A May 80/100, A June corrected 120/100; C's 2023-12 is last year.
    # A year-window sum is over the whole year: A gives no planned_wan for January-April
    # or July-December, so there is no value (the old code gave 200/200 = 1.0).
    assert rates()["investment-rate"] == (200, 200, None)
    rate = next(r for r in portfolio_rates(load_pack(DEMO), PORTFOLIO, "2024-07-31") if r.id == "investment-rate")
    assert rate.missing == tuple((f"2024-{m:02d}", 1) for m in (1, 2, 3, 4, 7, 8, 9, 10, 11, 12))
    assert "2024-01..2024-04 (1 project), 2024-07..2024-12 (1 project)" in rate.notes[0]


def test_a_year_sum_counts_every_month_of_the_year_and_only_it() -> None:
    # Z reports all twelve months of 2024, January-June filed monthly, July-December filed
    # ahead on 2024-01-10; and a 2025 month filed ahead too, which is another year.
    #   planned 12 x 10 = 120 (2025-01 left out); actual Jan-Jun 6 x 9 = 54, Jul-Dec 0 -> 54
    #   54 / 120 = 0.45 (the old code: Jan-Jul only, 54 / 70).
    ahead = [("2024-01-10", f"2024-{m:02d}", 10.0, 0.0) for m in range(7, 13)]
    done = [(f"2024-{m + 1:02d}-03", f"2024-{m:02d}", 10.0, 9.0) for m in range(1, 7)]
    z = h("Z", reports=[*ahead, *done, ("2024-01-10", "2025-01", 500.0, 0.0)])
    out = portfolio_rates(load_pack(DEMO), [z], "2024-07-31")
    rate = next(r for r in out if r.id == "investment-rate")
    assert (rate.numerator, rate.denominator, rate.value, rate.missing, rate.notes) == (54, 120, 0.45, (), ())


def test_a_report_without_amounts_leaves_its_month_missing() -> None:
    # January-October reported with amounts (10/10 each), December's plan filed ahead
    # (10/0); November's report is a compliant: false dispatch report without amounts, so
    # November has no planned figure: 100 / 110 so far, but no value.
    evs: list[dict[str, Any]] = [{"date": f"2024-{m + 1:02d}-03", "type": "monthly_report",
                                  "period": f"2024-{m:02d}", "planned_wan": 10.0, "actual_wan": 10.0}
                                 for m in range(1, 11)]
    evs += [{"date": "2024-12-03", "type": "monthly_report", "period": "2024-11", "compliant": False},
            {"date": "2024-01-10", "type": "monthly_report", "period": "2024-12", "planned_wan": 10.0,
             "actual_wan": 0.0}]
    z = {"project": {"id": "Z"}, "events": evs}
    rate = next(r for r in portfolio_rates(load_pack(DEMO), [z], "2024-12-31") if r.id == "investment-rate")
    assert (rate.numerator, rate.denominator, rate.value, rate.missing) == (100, 110, None, (("2024-11", 1),))


def test_plan_dates_select_the_denominator() -> None:
    # Planned completion in 2024 up to 07-31: A (06-30), C (05-31); D's 12-31 is later.
    # Completed: neither A nor C.
    assert rates()["completion-rate"] == (0, 2, 0.0)


def test_empty_denominator_has_no_value() -> None:
    assert rates()["empty-rate"] == (0, 0, None)


def test_events_after_as_of_are_not_seen() -> None:
    assert rates("2024-02-15")["start-rate"] == (0, 1, 0.0)


def test_bad_history_raises_or_is_reported() -> None:
    bad = {"project": {"id": "X"}, "events": [{"date": "2024-01-01", "type": "step_completed", "step": "无"}]}
    with pytest.raises(HistoryError):
        portfolio_rates(load_pack(DEMO), [*PORTFOLIO, bad], "2024-07-31")
    seen: list[int] = []
    out = portfolio_rates(load_pack(DEMO), [bad, *PORTFOLIO], "2024-07-31",
                          on_error=lambda i, e: seen.append(i))
    assert seen == [0] and out[0].denominator == 3


def test_cli_rates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "p.jsonl"
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in PORTFOLIO) + "\n{bad\n",
                   encoding="utf-8")
    out = tmp_path / "rates.json"
    code = main(["rates", "--pack", str(DEMO), "--as-of", "2024-07-31", str(src), "-o", str(out)])
    printed, err = capsys.readouterr()
    assert code == 1 and "line 5" in err
    assert "签约项目开工率\t66.7%\t2/3\ttest rates" in printed
    data = {r["id"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    assert data["investment-rate"]["value"] is None and data["empty-rate"]["value"] is None
    assert data["investment-rate"]["notes"][0].startswith("the year's planned_wan is incomplete")
    assert data["start-rate"]["window_start"] == "2024-01-01"
