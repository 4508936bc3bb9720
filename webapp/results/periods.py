"""Reporting periods (考核周期) shared by the ledger, dashboards, scorecards and warnings.

A period is a month (2026-11), a quarter (2026-Q4) or a year (2026), in the company's local time zone:
a finding captured at 2026-09-30 23:30 Asia/Shanghai belongs to Q3 even though it is Q4 in UTC."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

_PATTERNS = (
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), "month"),
    (re.compile(r"^(\d{4})$"), "year"),
)
KINDS = ("month", "quarter", "year")


@dataclass(frozen=True, order=True)
class Period:
    start: date  # first day
    end: date  # first day of the next period (exclusive)
    code: str
    kind: str

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def bounds(self, tz: tzinfo | str) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes at local midnight, to compare with UTC timestamps."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return datetime.combine(self.start, time.min, zone), datetime.combine(self.end, time.min, zone)

    def previous(self) -> "Period":
        return period_containing(_day_before(self.start), self.kind)

    def next(self) -> "Period":
        return period_containing(self.end, self.kind)

    def label(self, locale: str = "zh_CN") -> str:
        year = self.start.year
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return f"{year}年第{q}季度" if locale.startswith("zh") else f"Q{q} {year}"
        if self.kind == "month":
            return f"{year}年{self.start.month}月" if locale.startswith("zh") else self.start.strftime("%b %Y")
        return f"{year}年" if locale.startswith("zh") else str(year)


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(code: str) -> Period:
    """'2026-Q4' | '2026-11' | '2026' → Period; ValueError for anything else."""
    code = (code or "").strip().upper()
    for pattern, kind in _PATTERNS:
        if m := pattern.match(code):
            year = int(m.group(1))
            if not 2000 <= year <= 2100:
                break
            if kind == "quarter":
                start = date(year, 3 * int(m.group(2)) - 2, 1)
                return Period(start, _add_months(start, 3), code, kind)
            if kind == "month":
                start = date(year, int(m.group(2)), 1)
                return Period(start, _add_months(start, 1), code, kind)
            return Period(date(year, 1, 1), date(year + 1, 1, 1), code, kind)
    raise ValueError(f"not a period: {code!r} (expected 2026-Q4, 2026-11 or 2026)")


def period_containing(day: date, kind: str = "quarter") -> Period:
    if kind == "quarter":
        return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    if kind == "month":
        return parse_period(f"{day.year}-{day.month:02d}")
    if kind == "year":
        return parse_period(str(day.year))
    raise ValueError(f"unknown period kind: {kind!r}")


def local_date(moment: datetime, tz: tzinfo | str) -> date:
    """The local calendar day of an aware timestamp (naive ones are taken as UTC)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone).date()


def recent_periods(today: date, kind: str = "quarter", count: int = 4) -> list[Period]:
    """The `count` periods ending with the one containing today, oldest first."""
    periods = [period_containing(today, kind)]
    while len(periods) < count:
        periods.insert(0, periods[0].previous())
    return periods


# ---- SQL twins of local_date(): the local calendar day / month of a stored UTC timestamp ----------



class _LocalPart(FunctionElement):
    inherit_cache = True

    def __init__(self, column, tz: tzinfo | str):
        self.zone_name = tz if isinstance(tz, str) else str(tz)
        ZoneInfo(self.zone_name)  # an unknown zone fails here, before it reaches SQL text
        # The zone is a literal clause so that it is part of the statement cache key.
        super().__init__(column, literal_column("'" + self.zone_name.replace("'", "") + "'"))

    @property
    def column(self):
        return self.clauses.clauses[0]


class local_day(_LocalPart):
    """SQL twin of local_date(): a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite (it compares with
    the dates SQLite stores as text)."""

    type = Date()
    name = "local_day"
    inherit_cache = True


class local_month(_LocalPart):
    """'YYYY-MM' of the local month of a UTC timestamp."""

    type = String()
    name = "local_month"
    inherit_cache = True


def _sqlite_offset(zone_name: str) -> str:
    # XXX: SQLite has no zone database; the zone's current UTC offset is used. Exact for zones without
    # daylight saving time (Asia/Shanghai, the company's); elsewhere off by an hour around a change.
    offset = datetime.now(ZoneInfo(zone_name)).utcoffset()
    return f"{int(offset.total_seconds() // 60):+d} minutes"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.column, **kw)}, '{_sqlite_offset(element.zone_name)}')"


@compiles(local_month, "sqlite")
def _local_month_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.column, **kw)}, '{_sqlite_offset(element.zone_name)}')"


def _pg_zone(element) -> str:
    return element.zone_name.replace("'", "")


@compiles(local_day, "postgresql")
def _local_day_pg(element, compiler, **kw):
    return f"CAST(timezone('{_pg_zone(element)}', {compiler.process(element.column, **kw)}) AS DATE)"


@compiles(local_month, "postgresql")
def _local_month_pg(element, compiler, **kw):
    return f"to_char(timezone('{_pg_zone(element)}', {compiler.process(element.column, **kw)}), 'YYYY-MM')"
