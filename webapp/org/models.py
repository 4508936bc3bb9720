"""Org structure: departments and branches (部门/分支机构) own sites (运营场所); people belong to departments."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import Synced, UTCDateTime, UUIDStr
from webapp.extensions import db

DEPARTMENT_KINDS = ("department", "branch", "region")
SITE_CLASSES = ("A", "B", "C")  # the default classes; a company may use its own codes


class Department(Synced, db.Model):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="department")
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # archived: kept, offered for nothing new

    sites: Mapped[list["Site"]] = relationship(back_populates="department", order_by="Site.code")
    people: Mapped[list["Person"]] = relationship(back_populates="department", order_by="Person.name")

    def label(self, locale: str) -> str:
        return self.name_en if (locale == "en" and self.name_en) else self.name


class Site(Synced, db.Model):
    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    geofence_radius_m: Mapped[int | None] = mapped_column(default=200)  # check-in counts inside this radius
    site_class: Mapped[str | None] = mapped_column(String(20))  # A/B/C or the company's own (scheduling)
    manager_person_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("people.id"))  # 场所负责人
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship(back_populates="sites")
    manager: Mapped["Person | None"] = relationship(foreign_keys=[manager_person_id])

    def label(self, locale: str) -> str:
        return self.name_en if (locale == "en" and self.name_en) else self.name


class Person(Synced, db.Model):
    """Anyone who can be named responsible (责任人), interviewed or rated; a user account is optional."""

    __tablename__ = "people"

    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[str | None] = mapped_column(String(80))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"), unique=True)

    department: Mapped[Department | None] = relationship(back_populates="people")
