"""Training needs, training plans with attendance, development notes. Functions flush, never commit."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import false, func, select

from webapp.authz import scope_clause
from webapp.checklists.models import AREAS, TemplateItem
from webapp.core.clock import company_tz_name
from webapp.extensions import db
from webapp.findings.models import SEVERITIES, Finding
from webapp.i18n import term
from webapp.org.models import Person
from webapp.results.models import DevelopmentNote, TrainingAttendance, TrainingPlan
from webapp.results.periods import Period

TRAINING_STATUSES = ("planned", "held", "cancelled")
WRITERS = ("manager", "admin")


class TrainingError(Exception):
    """Bad input the schema could not see (unknown references, attendance before the training)."""

    def __init__(self, fields: dict):
        super().__init__(fields)
        self.fields = fields


def can_manage_training(user) -> bool:
    return user.role in WRITERS


# ---- training needs ----------------------------------------------------------------------------

@dataclass
class TrainingNeed:
    """A checklist item (or, for findings without an item, a content area) with findings in several
    departments in one period."""

    area: str | None
    item: TemplateItem | None
    department_ids: set = field(default_factory=set)
    finding_count: int = 0

    def findings_filter(self, period: Period) -> dict:
        """Query arguments of the findings list showing this need's findings."""
        where = {"item_id": self.item.id} if self.item is not None else {"area": self.area}
        return {**where, "date_from": period.start.isoformat(),
                "date_to": (period.end - timedelta(days=1)).isoformat()}


def suggest_training_needs(period: Period, min_departments: int = 2, user=None) -> list[TrainingNeed]:
    """Items (and areas of findings without an item) with findings in ≥ `min_departments` distinct
    responsible departments, captured in `period` (local time). Most widespread first."""
    start, end = period.bounds(company_tz_name())
    q = (select(Finding.item_id, Finding.area, Finding.department_id, func.count())
         .where(Finding.counted(), Finding.department_id.is_not(None),
                Finding.captured_at >= start, Finding.captured_at < end)
         .group_by(Finding.item_id, Finding.area, Finding.department_id))
    if user is not None:
        q = q.where(scope_clause(Finding, user))
    needs: dict[tuple, TrainingNeed] = {}
    for item_id, area, department_id, count in db.session.execute(q):
        if item_id is None and area is None:
            continue
        key = ("item", item_id) if item_id else ("area", area)
        need = needs.setdefault(key, TrainingNeed(area=area, item=None))
        need.department_ids.add(department_id)
        need.finding_count += count
    items = {i.id: i for i in db.session.scalars(select(TemplateItem).where(
        TemplateItem.id.in_([k[1] for k in needs if k[0] == "item"])))} if needs else {}
    out = []
    for (kind, key), need in needs.items():
        if len(need.department_ids) < min_departments:
            continue
        if kind == "item":
            need.item = items.get(key)
            if need.item is None:
                continue
            need.area = need.item.area
        out.append(need)
    out.sort(key=lambda n: (-len(n.department_ids), -n.finding_count,
                            AREAS.index(n.area) if n.area in AREAS else 99, n.item.code if n.item else ""))
    return out


# ---- training plans ----------------------------------------------------------------------------

def _check_item(data: dict) -> None:
    if data.get("item_id"):
        item = db.session.get(TemplateItem, data["item_id"])
        if item is None:
            raise TrainingError({"item_id": [_("Choose one of the offered options.")]})
        data["area"] = item.area  # an item belongs to exactly one area


def create_training_plan(data: dict) -> TrainingPlan:
    _check_item(data)
    plan = TrainingPlan(**data)
    db.session.add(plan)
    db.session.flush()
    return plan


def update_training_plan(plan: TrainingPlan, data: dict) -> TrainingPlan:
    _check_item(data)
    for key in ("topic", "audience", "held_on", "trainer", "area", "item_id", "status"):
        setattr(plan, key, data.get(key))
    db.session.flush()
    return plan


def set_attendance(plan: TrainingPlan, person_ids: list[str], attended_ids: list[str]) -> None:
    """The invited people and who attended; attendance can be marked once the training was held."""
    wanted = list(dict.fromkeys(person_ids + attended_ids))
    found = set(db.session.scalars(select(Person.id).where(Person.id.in_(wanted), Person.deleted_at.is_(None))))
    if len(found) != len(wanted):
        raise TrainingError({"person_ids": [_("Choose people from the list.")]})
    if attended_ids and plan.status != "held":
        raise TrainingError({"attended_ids": [_("Attendance can be marked once the training was held.")]})
    rows = {a.person_id: a for a in plan.attendance}
    for person_id, row in rows.items():
        if person_id not in found:
            db.session.delete(row)
    for person_id in wanted:
        row = rows.get(person_id)
        if row is None:
            row = TrainingAttendance(training_id=plan.id, person_id=person_id)
            db.session.add(row)
        row.attended = person_id in attended_ids
    db.session.flush()
    db.session.expire(plan, ["attendance"])


def trainings_of(person: Person) -> list[tuple[TrainingPlan, bool]]:
    return db.session.execute(
        select(TrainingPlan, TrainingAttendance.attended)
        .join(TrainingAttendance, TrainingAttendance.training_id == TrainingPlan.id)
        .where(TrainingAttendance.person_id == person.id)
        .order_by(TrainingPlan.held_on.desc().nulls_last(), TrainingPlan.topic)).all()


# ---- development notes -------------------------------------------------------------------------

def person_findings_clause(person: Person):
    """Findings naming the person responsible (责任人) in their own department."""
    if person.department_id is None:
        return false()
    return ((Finding.department_id == person.department_id) & (Finding.responsible_person == person.name)
            & Finding.counted())


def findings_of(person: Person, user) -> list[Finding]:
    return list(db.session.scalars(select(Finding).where(person_findings_clause(person), scope_clause(Finding, user))
                                   .order_by(Finding.captured_at.desc())))


def draft_development_note(person: Person, findings: list[Finding]) -> str:
    """A starting text for a development note from the person's findings, in the reader's language."""
    if not findings:
        return _("%(name)s has not been named responsible for any finding.", name=person.name)
    areas = Counter(f.area for f in findings if f.area)
    severities = Counter(f.severity for f in findings)
    repeats = sum(1 for f in findings if f.repeat_of_id)
    still_open = sum(1 for f in findings if f.status != "closed")
    sep = "、" if current_locale_is_zh() else ", "
    lines = [
        _("%(name)s was named responsible for %(count)d findings.", name=person.name, count=len(findings)),
        _("By area: %(list)s.", list=sep.join(f"{term('area', a)} {n}" for a, n in areas.most_common())),
        _("By severity: %(list)s.", list=sep.join(f"{term('severity', s)} {severities[s]}"
                                                   for s in reversed(SEVERITIES) if severities[s])),
        _("Repeat problems: %(count)d. Still open: %(open)d.", count=repeats, open=still_open),
    ]
    if areas:
        lines.append(_("Suggested focus: %(area)s — training on it and follow-up of the open items.",
                       area=term("area", areas.most_common(1)[0][0])))
    return "\n".join(lines)


def current_locale_is_zh() -> bool:
    from webapp.i18n import current_locale_code

    return current_locale_code() != "en"


def add_development_note(person: Person, author, note: str) -> DevelopmentNote:
    row = DevelopmentNote(person_id=person.id, note=note, author_id=author.id)
    db.session.add(row)
    db.session.flush()
    return row


def update_development_note(row: DevelopmentNote, note: str) -> DevelopmentNote:
    row.note = note
    db.session.flush()
    return row
