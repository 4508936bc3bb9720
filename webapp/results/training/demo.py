"""Demo data for training: one held training plan with attendance and a development note (idempotent)."""

from datetime import timedelta

from sqlalchemy import select

from webapp.auth.models import User
from webapp.checklists.models import TemplateItem
from webapp.core.clock import company_today
from webapp.demo.keys import demo_id
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.org.models import Person
from webapp.results.models import DevelopmentNote, TrainingAttendance, TrainingPlan
from webapp.results.training.operations import draft_development_note, person_findings_clause


def seed_training() -> dict:
    added = {}
    item = db.session.get(TemplateItem, demo_id("item:S1"))
    plan = db.session.get(TrainingPlan, demo_id("training:service-standards"))
    if plan is None:
        plan = TrainingPlan(id=demo_id("training:service-standards"), topic="新版服务标准与话术培训",
                            audience="客户服务部、上海分公司各门店一线员工", held_on=company_today() - timedelta(days=10),
                            trainer="吴敏", area="service", item_id=item.id if item else None, status="held")
        db.session.add(plan)
        db.session.flush()
        added["training_plans"] = 1
        people = db.session.scalars(select(Person).where(Person.id.in_([
            demo_id(k) for k in ("person:4", "person:5", "person:10", "person:11", "person:user:staff")]))).all()
        for n, person in enumerate(people):
            db.session.add(TrainingAttendance(training_id=plan.id, person_id=person.id, attended=n != 1))
        added["training_attendance"] = len(people)
    person = db.session.get(Person, demo_id("person:user:staff"))
    manager = db.session.scalar(select(User).where(User.username == "manager"))
    if person is not None and manager is not None and db.session.get(DevelopmentNote, demo_id("devnote:staff")) is None:
        findings = db.session.scalars(select(Finding).where(person_findings_clause(person))).all()
        db.session.add(DevelopmentNote(id=demo_id("devnote:staff"), person_id=person.id, author_id=manager.id,
                                       note=draft_development_note(person, findings)
                                       + "\n已安排参加新版服务标准培训，下月复查录音抽检结果。"))
        added["development_notes"] = 1
    db.session.flush()
    return added
