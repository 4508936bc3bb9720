"""The decision dashboard's tallies: counts of findings and of rectification outcomes per local
calendar day (and site, department, checklist item, area, severity), kept equal to the raw rows by
webapp/results/dashboard/tallies.py in the same transaction as every write (docs/results.md)."""

from datetime import date, datetime

from sqlalchemy import Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import BigIntPK, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db


class FindingTally(db.Model):
    """Live findings captured on `day` (local) with these dimensions."""

    __tablename__ = "finding_tallies"
    __table_args__ = (
        # Covering for every widget: a window of days read index-only, whatever it groups by.
        Index("ix_finding_tallies_day", "day", "department_id", "site_id", "area", "item_id", "severity",
              "findings", "repeats"),
        Index("ix_finding_tallies_site_day", "site_id", "day"),  # the per-(day, site) recount on writes
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    department_id: Mapped[str | None] = mapped_column(UUIDStr)
    site_id: Mapped[str | None] = mapped_column(UUIDStr)
    item_id: Mapped[str | None] = mapped_column(UUIDStr)
    area: Mapped[str | None] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    findings: Mapped[int]
    repeats: Mapped[int]


class SiteDayTally(db.Model):
    """The same counts per day and site only (about one row per visit): the totals, the departments,
    the sites and the monthly trend read these, a tenth of the rows of finding_tallies at chain scale."""

    __tablename__ = "site_day_tallies"
    __table_args__ = (
        Index("ix_site_day_tallies_day", "day", "department_id", "site_id", "findings", "severe", "repeats"),
        Index("ix_site_day_tallies_site_day", "site_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    department_id: Mapped[str | None] = mapped_column(UUIDStr)
    site_id: Mapped[str | None] = mapped_column(UUIDStr)
    findings: Mapped[int]
    severe: Mapped[int]  # high or critical
    repeats: Mapped[int]


class RectificationTally(db.Model):
    """Rectifications of live findings captured on `day`, by how they stand. `state` is accepted,
    rectifying or waiting (planned / pending acceptance); `deadline` is kept only when not accepted,
    because whether those are due or overdue depends on the day the dashboard is read."""

    __tablename__ = "rectification_tallies"
    __table_args__ = (
        Index("ix_rectification_tallies_day", "day", "department_id", "site_id", "state", "deadline",
              "rectifications", "on_time", "first_round", "decided"),
        Index("ix_rectification_tallies_state", "state", "deadline", "department_id", "site_id", "rectifications"),
        Index("ix_rectification_tallies_site_day", "site_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    department_id: Mapped[str | None] = mapped_column(UUIDStr)
    site_id: Mapped[str | None] = mapped_column(UUIDStr)
    state: Mapped[str] = mapped_column(String(12))
    deadline: Mapped[date | None] = mapped_column(Date)
    rectifications: Mapped[int]
    on_time: Mapped[int]  # accepted on or before the deadline (local day)
    first_round: Mapped[int]  # accepted on round 1
    decided: Mapped[int]  # accepted, or a round failed


class TallyEpoch(db.Model):
    """One row per committed transaction that recounted the tallies, numbered in commit order (taken
    under the change feed's lock): with the change feed's last seq it tells whether anything the
    dashboard counts changed since a snapshot was computed (webapp/results/dashboard/snapshots.py).
    Only the newest row matters; the refresh job deletes the older ones."""

    __tablename__ = "tally_epochs"
    __table_args__ = ({"sqlite_autoincrement": True},)  # an id is never reused after the older rows go

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DashboardSnapshot(db.Model):
    """The dashboard's figures for one period, filter and day, computed by the job queue (or by the
    first request that asks) and served with the time they were counted. `mark` is the data's state
    when counting began: a snapshot whose mark is not the current one is served as of `computed_at`
    while a job counts again (webapp/results/dashboard/snapshots.py)."""

    __tablename__ = "dashboard_snapshots"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # period|department|site|today (key_parts)
    today: Mapped[date] = mapped_column(Date, index=True)  # the key's day, for dropping past days
    mark: Mapped[str] = mapped_column(String(60))
    payload: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float]  # how long the counting took
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a recount was asked of the queue
