"""The before/after arithmetic on hand-made data with known answers."""

from datetime import UTC, date, datetime
from types import SimpleNamespace as NS

from webapp.results.evaluation import compare


def M(kind, name, value, unit=None):
    return NS(kind=kind, name=name, value=value, unit=unit)


def F(severity="medium", repeat=False, captured_at=None):
    return NS(severity=severity, repeat_of_id="x" if repeat else None, captured_at=captured_at)


def V(id, site="S1", status="completed", completed=None, started=None, scheduled=None):
    return NS(id=id, site_id=site, status=status, completed_at=completed, started_at=started,
              scheduled_for=scheduled, deleted_at=None)


def test_metrics_are_matched_by_kind_and_name_with_change():
    rows = compare.compare_metrics(
        [M("business", "日均客流", 800, "人次"), M("customer", "客户满意度", 86, "%")],
        [M("business", "日均客流 ", 860, "人次"), M("customer", "客户满意度", 83.5, "%")])
    assert [(r["kind"], r["name"], r["before"], r["after"], r["change"], r["unit"]) for r in rows] == [
        ("business", "日均客流", 800, 860, 60, "人次"),
        ("customer", "客户满意度", 86, 83.5, -2.5, "%"),
    ]


def test_metric_missing_on_one_side_has_no_change():
    rows = compare.compare_metrics([M("financial", "月营业额", 126.5, "万元")],
                                   [M("business", "日均客流", 900, "人次"), M("business", "空值", None)])
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"月营业额", "日均客流"}  # a figure without a value is left out
    assert (by_name["月营业额"]["before"], by_name["月营业额"]["after"], by_name["月营业额"]["change"]) == (126.5, None, None)
    assert (by_name["日均客流"]["before"], by_name["日均客流"]["after"], by_name["日均客流"]["change"]) == (None, 900, None)
    assert [r["kind"] for r in rows] == ["business", "financial"]  # METRIC_KINDS order


def test_same_kind_different_name_do_not_match_and_units_must_agree():
    rows = compare.compare_metrics([M("business", "客流", 1, "人"), M("customer", "客流", 5, "分")],
                                   [M("business", "客流", 2, "人次")])
    business = next(r for r in rows if r["kind"] == "business")
    assert business["change"] is None and business["unit"] == "人 → 人次"
    customer = next(r for r in rows if r["kind"] == "customer")
    assert (customer["before"], customer["after"]) == (5, None)


def test_several_values_of_a_figure_are_averaged():
    rows = compare.compare_metrics([M("business", "客流", 100), M("business", "客流", 200)],
                                   [M("business", "客流", 90)])
    assert (rows[0]["before"], rows[0]["after"], rows[0]["change"]) == (150, 90, -60)


def test_findings_summary_counts_severity_and_repeat_rate():
    s = compare.summarise_findings([F("high", True), F("high"), F("low", True), F("critical")])
    assert s == {"count": 4, "by_severity": {"low": 1, "medium": 0, "high": 2, "critical": 1},
                 "repeats": 2, "repeat_rate": 50.0}


def test_zero_findings_has_no_repeat_rate():
    s = compare.summarise_findings([])
    assert (s["count"], s["repeats"], s["repeat_rate"]) == (0, 0, None)


def test_compare_findings_rows_and_changes():
    before = compare.summarise_findings([F("high", True), F("medium"), F("medium")])
    after = compare.summarise_findings([F("medium", True)])
    rows = {(r["measure"], r["severity"]): r for r in compare.compare_findings(before, after)}
    assert (rows["count", None]["before"], rows["count", None]["after"], rows["count", None]["change"]) == (3, 1, -2)
    assert rows["severity", "high"]["change"] == -1
    assert rows["severity", "medium"]["change"] == -1
    assert rows["repeats", None]["change"] == 0
    assert (rows["repeat_rate", None]["before"], rows["repeat_rate", None]["after"],
            rows["repeat_rate", None]["change"]) == (33.3, 100.0, 66.7)


def test_compare_findings_without_previous_visit():
    rows = compare.compare_findings(None, compare.summarise_findings([F("low")]))
    assert all(r["before"] is None and r["change"] is None for r in rows)
    assert rows[0]["after"] == 1


def test_scores_by_area_and_overall():
    before = {"process": 50.0, "service": 100.0, "efficiency": None, "risk": 0.0, "teamwork": None, "overall": 60.0}
    after = {"process": 75.0, "service": 100.0, "efficiency": 80.0, "risk": None, "teamwork": None, "overall": 85.0}
    rows = {r["area"]: r for r in compare.compare_scores(before, after)}
    assert list(rows) == ["process", "service", "efficiency", "risk", "teamwork", "overall"]
    assert rows["process"]["change"] == 25.0
    assert rows["service"]["change"] == 0
    assert rows["efficiency"]["change"] is None and rows["risk"]["change"] is None
    assert rows["overall"]["change"] == 25.0
    assert all(r["before"] is None for r in compare.compare_scores(None, after))


def test_mean_scores_ignore_missing_areas():
    m = compare.mean_scores([{"process": 50.0, "overall": 50.0}, {"process": 100.0, "risk": 20.0, "overall": 70.0}])
    assert (m["process"], m["risk"], m["service"], m["overall"]) == (75.0, 20.0, None, 60.0)
    assert compare.mean_scores([])["overall"] is None


def _t(day, hour=9):
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def test_previous_visit_is_latest_completed_before_at_same_site():
    this = V("v3", completed=_t(20))
    candidates = [V("v1", completed=_t(1)), V("v2", completed=_t(10)), V("v4", completed=_t(25)),
                  V("x", site="S2", completed=_t(15)), V("y", status="in_progress", started=_t(18)), this]
    assert compare.previous_visit(this, candidates).id == "v2"


def test_no_previous_visit():
    this = V("v1", completed=_t(1))
    assert compare.previous_visit(this, [this, V("v2", completed=_t(5))]) is None
    assert compare.previous_visit(this, []) is None


def test_visit_not_begun_compares_with_the_latest_completed():
    this = V("v9", status="scheduled")
    assert compare.previous_visit(this, [V("a", completed=_t(1)), V("b", completed=_t(9))]).id == "b"


def test_visit_window_uses_local_days_of_the_findings():
    # 2026-10-01 17:00 UTC is 10-02 01:00 in Shanghai.
    findings = [F(captured_at=datetime(2026, 10, 1, 17, tzinfo=UTC)), F(captured_at=datetime(2026, 10, 3, 2, tzinfo=UTC))]
    assert compare.visit_window(V("v"), findings, "Asia/Shanghai") == (date(2026, 10, 2), date(2026, 10, 3))
    assert compare.visit_window(V("v", completed=_t(5)), [], "Asia/Shanghai") == (date(2026, 10, 5), date(2026, 10, 5))
    assert compare.visit_window(V("v", status="scheduled", scheduled=date(2026, 12, 1)), [], "UTC") == (
        date(2026, 12, 1), date(2026, 12, 1))


def test_previous_window_of_calendar_periods_and_odd_ranges():
    assert compare.previous_window(date(2026, 10, 1), date(2026, 12, 31), "quarterly") == (date(2026, 7, 1), date(2026, 9, 30))
    assert compare.previous_window(date(2026, 3, 1), date(2026, 3, 31), "monthly") == (date(2026, 2, 1), date(2026, 2, 28))
    assert compare.previous_window(date(2026, 1, 1), date(2026, 12, 31), "annual") == (date(2025, 1, 1), date(2025, 12, 31))
    assert compare.previous_window(date(2026, 1, 1), date(2026, 3, 31), "quarterly") == (date(2025, 10, 1), date(2025, 12, 31))
    # not a calendar period: the same number of days just before
    assert compare.previous_window(date(2026, 10, 11), date(2026, 10, 20), "monthly") == (date(2026, 10, 1), date(2026, 10, 10))


def test_change_is_none_when_a_side_is_missing():
    assert compare.change(None, 3) is None and compare.change(3, None) is None and compare.change(2, 5) == 3
