"""Org structure: departments and branches (部门/分支机构) own sites (运营场所); people belong to departments."""

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import Synced, UUIDStr
from webapp.extensions import db

DEPARTMENT_KINDS = ("department", "branch")


class Department(Synced, db.Model):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="department")
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))

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

    department: Mapped[Department] = relationship(back_populates="sites")

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
