from datetime import UTC, date, datetime

import pytest

from webapp.results.periods import local_date, parse_period, period_containing, recent_periods


@pytest.mark.parametrize("code,start,end,kind", [
    ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1), "quarter"),
    ("2026-q1", date(2026, 1, 1), date(2026, 4, 1), "quarter"),
    ("2026-11", date(2026, 11, 1), date(2026, 12, 1), "month"),
    ("2026-12", date(2026, 12, 1), date(2027, 1, 1), "month"),
    ("2026", date(2026, 1, 1), date(2027, 1, 1), "year"),
])
def test_parse_period(code, start, end, kind):
    p = parse_period(code)
    assert (p.start, p.end, p.kind) == (start, end, kind)
    assert p.contains(start) and not p.contains(end)


@pytest.mark.parametrize("bad", ["", "2026-Q5", "2026-13", "26-Q1", "2026-00", "Q4", "1899", None])
def test_parse_period_refuses(bad):
    with pytest.raises(ValueError):
        parse_period(bad)


def test_previous_next_and_recent():
    q1 = parse_period("2026-Q1")
    assert q1.previous().code == "2025-Q4" and q1.next().code == "2026-Q2"
    assert parse_period("2026-01").previous().code == "2025-12"
    assert [p.code for p in recent_periods(date(2026, 11, 25), "quarter", 3)] == ["2026-Q2", "2026-Q3", "2026-Q4"]
    assert period_containing(date(2026, 3, 31), "month").code == "2026-03"


def test_local_day_decides_the_period():
    # 2026-09-30 16:30 UTC is 2026-10-01 00:30 in Shanghai: Q4 there.
    moment = datetime(2026, 9, 30, 16, 30, tzinfo=UTC)
    assert local_date(moment, "Asia/Shanghai") == date(2026, 10, 1)
    start, end = parse_period("2026-Q4").bounds("Asia/Shanghai")
    assert start <= moment < end


def test_labels():
    assert parse_period("2026-Q4").label("zh_CN") == "2026年第4季度"
    assert parse_period("2026-Q4").label("en") == "Q4 2026"
    assert parse_period("2026-11").label("en") == "Nov 2026"
