"""Hypothesis stateful test of the one rulebook: phone pushes and desk actions interleave.

Phones (two supervisors, two department heads, a staff member, a manager) record findings, try to
move their status, report progress, and pull; on the desk the department heads plan and submit,
the supervisors decide acceptance, and the manager reassigns visits between the supervisors.

Invariants:
- a finding is closed only with a passed acceptance round;
- no status change sent from a phone is ever applied;
- after a pull, each phone holds exactly the records the authorization module lets its user see
  (the deletion markers of a reassignment included): nothing outside it, nothing missing;
- every revision written by a push or a desk action names its author.
"""

import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from tests.conftest import PASSWORD, AuthActions, _cheap_hash
from tests.sync.conftest import Device, new_id
from webapp.authz import scoped
from webapp.extensions import db
from webapp.models import (
    AcceptanceRound,
    ChecklistTemplate,
    Department,
    Finding,
    Rectification,
    Revision,
    Site,
    User,
    Visit,
)

DEADLINE = "2026-12-20"  # after the pinned today
STATUSES = ("open", "rectifying", "pending_acceptance", "closed")
TRACKED = {"visit": Visit, "finding": Finding}


class RulebookMachine(RuleBasedStateMachine):
    app = None
    client = None

    def __init__(self):
        super().__init__()
        tag = uuid.uuid4().hex[:8]
        d1, d2 = Department(code=f"A{tag}", name="一部"), Department(code=f"B{tag}", name="二部")
        db.session.add_all([d1, d2])
        db.session.flush()
        s1 = Site(code=f"S{tag}", name="一店", department_id=d1.id)
        s2 = Site(code=f"T{tag}", name="二店", department_id=d2.id)
        tpl = ChecklistTemplate(code=f"C{tag}", name="模板")
        pw = _cheap_hash(PASSWORD)
        mk = lambda name, role, dept=None: User(  # noqa: E731
            username=f"{name.lower()}{tag}", display_name=name, role=role, password_hash=pw,
            department_id=dept.id if dept else None)
        self.users = {"supA": mk("supA", "supervisor"), "supB": mk("supB", "supervisor"),
                      "headA": mk("headA", "dept_head", d1), "headB": mk("headB", "dept_head", d2),
                      "staff": mk("staff", "staff", d1), "manager": mk("manager", "manager")}
        db.session.add_all([s1, s2, tpl, *self.users.values()])
        db.session.flush()
        self.visits = []
        for sup, site in (("supA", s1), ("supB", s2)):
            v = Visit(site_id=site.id, department_id=site.department_id, template_id=tpl.id,
                      supervisor_id=self.users[sup].id, status="in_progress", scheduled_for=date(2026, 11, 20))
            db.session.add(v)
            self.visits.append(v)
        db.session.commit()
        self.visit_ids = [v.id for v in self.visits]
        self.user_ids = {name: u.id for name, u in self.users.items()}
        self.phones = {name: Device(self.client, u) for name, u in self.users.items()}
        self.local = {name: set() for name in self.phones}  # (entity, id) each phone holds
        self.cursor = {name: None for name in self.phones}
        self.desks = {}
        self.findings: list[str] = []
        self.first_revision = db.session.scalar(select(func.max(Revision.id))) or 0

    # -- helpers --

    def _desk(self, name):
        if name not in self.desks:
            c = self.app.test_client()
            AuthActions(c).login(self.users[name].username)
            self.desks[name] = (c, AuthActions(c).csrf())
        return self.desks[name]

    def _post(self, name, url, data):
        c, token = self._desk(name)
        db.session.commit()
        return c.post(url, data={**data, "csrf_token": token})

    def _finding(self, k):
        db.session.expire_all()
        return db.session.get(Finding, self.findings[k % len(self.findings)])

    def _head_of(self, finding):
        return "headA" if finding.department_id == self.users["headA"].department_id else "headB"

    def _owner_of(self, finding):
        visit = db.session.get(Visit, finding.visit_id)
        return "supA" if visit.supervisor_id == self.user_ids["supA"] else "supB"

    # -- the phone --

    @rule(who=st.sampled_from(["supA", "supB", "manager", "staff", "headA"]), v=st.integers(0, 1))
    def phone_records_finding(self, who, v):
        fid = new_id()
        res = self.phones[who].push_one("finding", fid, {"visit_id": self.visit_ids[v], "title": "问题",
                                                         "severity": "medium"})
        db.session.expire_all()
        owner = db.session.get(Visit, self.visit_ids[v]).supervisor_id
        may = who == "manager" or self.user_ids.get(who) == owner
        assert (res["status"] == "applied") == may, (who, res)
        if may:
            self.findings.append(fid)

    @precondition(lambda self: self.findings)
    @rule(who=st.sampled_from(["supA", "supB", "manager", "headA", "headB"]), k=st.integers(0, 50),
          to=st.sampled_from(STATUSES))
    def phone_moves_status(self, who, k, to):
        f = self._finding(k)
        before = f.status
        res = self.phones[who].push_one("finding", f.id, {"status": to}, base_version=f.version)
        db.session.expire_all()
        assert res["status"] in ("rejected", "applied", "merged"), res
        assert db.session.get(Finding, f.id).status == before, ("a phone moved the status", who, to, res)

    @precondition(lambda self: self.findings)
    @rule(who=st.sampled_from(["supA", "headA", "headB", "staff"]), k=st.integers(0, 50))
    def phone_reports_progress(self, who, k):
        f = self._finding(k)
        rect = db.session.scalar(select(Rectification).where(Rectification.finding_id == f.id))
        may = who == self._head_of(f) and rect is not None and rect.status == "rectifying"
        res = self.phones[who].push_one("rectification_update", new_id(),
                                        {"finding_id": f.id, "progress": 50, "note": "进行中"})
        assert (res["status"] == "applied") == may, (who, f.status, res)

    @rule(who=st.sampled_from(["supA", "supB", "headA", "headB", "staff", "manager"]))
    def phone_pulls(self, who):
        changes, self.cursor[who] = self.phones[who].pull_all(self.cursor[who])
        held = self.local[who]
        for c in changes:
            if c["entity"] not in TRACKED:
                continue
            key = (c["entity"], c["id"])
            if c.get("deleted"):
                held.discard(key)
            else:
                held.add(key)
        # exactly what the rulebook lets this user see, of this run's records
        user = db.session.get(User, self.user_ids[who])
        ours = self._ours()
        visible = set()
        for entity, model in TRACKED.items():
            visible |= {(entity, pk) for pk in db.session.scalars(
                scoped(model, user).with_only_columns(model.id).where(model.deleted_at.is_(None)))}
        assert {k for k in held if k in ours} == visible & ours, who

    def _ours(self):
        return {("visit", v) for v in self.visit_ids} | {("finding", f) for f in self.findings}

    # -- the desk --

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50))
    def head_plans(self, k):
        f = self._finding(k)
        self._post(self._head_of(f), f"/rectification/{f.id}/plan",
                   {"measures": "整改", "owner": "吴敏", "deadline": DEADLINE})

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50))
    def head_submits(self, k):
        f = self._finding(k)
        self._post(self._head_of(f), f"/rectification/{f.id}/progress", {"progress": "100"})
        self._post(self._head_of(f), f"/rectification/{f.id}/submit", {})

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50), passed=st.booleans(), wrong_person=st.booleans())
    def supervisor_decides(self, k, passed, wrong_person):
        f = self._finding(k)
        who = self._owner_of(f)
        if wrong_person:
            who = "supB" if who == "supA" else "supA"
        data = {"result": "pass"} if passed else {"result": "fail", "reason": "未整改到位", "new_deadline": DEADLINE}
        self._post(who, f"/rectification/{f.id}/decide", data)

    @rule(v=st.integers(0, 1), to=st.sampled_from(["supA", "supB"]))
    def manager_reassigns(self, v, to):
        r = self._post("manager", f"/visits/{self.visit_ids[v]}/reassign", {"supervisor_id": self.user_ids[to]})
        assert r.status_code == 303

    # -- invariants --

    @invariant()
    def closed_only_after_a_passed_acceptance(self):
        db.session.expire_all()
        for fid in self.findings:
            f = db.session.get(Finding, fid)
            if f.status != "closed":
                continue
            last = db.session.scalars(
                select(AcceptanceRound).join(Rectification, Rectification.id == AcceptanceRound.rectification_id)
                .where(Rectification.finding_id == fid).order_by(AcceptanceRound.round.desc())).first()
            assert last is not None and last.result == "pass", fid

    @invariant()
    def every_revision_names_its_author(self):
        nameless = db.session.scalars(select(Revision).where(Revision.id > self.first_revision,
                                                             Revision.user_id.is_(None))).all()
        assert not nameless, [(r.entity, r.kind, r.actor) for r in nameless]

    def teardown(self):
        statuses = db.session.scalars(select(Finding.status).where(Finding.id.in_(self.findings))).all()
        event(f"closed findings: {min(statuses.count('closed'), 2)}+")
        event(f"reassigned: {any(v.supervisor_id != self.user_ids[s] for v, s in zip(self.visits_now(), ('supA', 'supB'), strict=True))}")
        db.session.commit()

    def visits_now(self):
        db.session.expire_all()
        return [db.session.get(Visit, v) for v in self.visit_ids]


@pytest.mark.slow
def test_phone_and_desk_follow_one_rulebook(app, client):
    RulebookMachine.app, RulebookMachine.client = app, client
    examples = 12 if db.engine.dialect.name == "sqlite" else 8
    run_state_machine_as_test(RulebookMachine, settings=settings(
        max_examples=examples, stateful_step_count=30, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
