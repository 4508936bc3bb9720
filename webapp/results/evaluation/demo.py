"""Demo data for summary evaluations and the policy log: an evaluation of a completed demo visit and
of the quarterly plan, and two policy suggestions (one from that evaluation, one from a finding).
Idempotent: records are keyed by demo_id() and only added when missing."""

from collections import Counter

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.demo.keys import demo_id
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.plans.models import Plan
from webapp.results.models import Evaluation, PolicySuggestion
from webapp.visits.models import Visit


def seed_evaluation() -> dict:
    """Flush, never commit. Returns counts of what was added."""
    added: Counter = Counter()
    users = {name: db.session.get(User, demo_id(f"user:{name}")) for name in ("supervisor", "manager")}
    if not all(users.values()):
        return {}
    visit = db.session.get(Visit, demo_id("visit:v1"))
    plan = db.session.get(Plan, demo_id("plan:quarter"))
    visit_eval = None
    if visit is not None and visit.status == "completed":
        visit_eval = db.session.get(Evaluation, demo_id("evaluation:visit:v1"))
        if visit_eval is None and db.session.query(Evaluation).filter_by(visit_id=visit.id).first() is None:
            visit_eval = Evaluation(
                id=demo_id("evaluation:visit:v1"), visit_id=visit.id, author_id=users["supervisor"].id,
                lessons="高峰时段的接通率问题上期已有苗头，本次检查前应先调阅话务报表，带着数据进场。",
                went_well="首次会议部门准备充分；录音抽查方法有效，问题定位快。",
                went_badly="访谈只覆盖了一名客服专员，一线意见代表性不足。",
                suggestions="将高峰时段接通率纳入客服部月度考核指标；排班制度增加节假日弹性排班条款。")
            db.session.add(visit_eval)
            added["evaluations"] += 1
    if plan is not None and db.session.get(Evaluation, demo_id("evaluation:plan:quarter")) is None \
            and db.session.query(Evaluation).filter_by(plan_id=plan.id).first() is None:
        db.session.add(Evaluation(
            id=demo_id("evaluation:plan:quarter"), plan_id=plan.id, author_id=users["supervisor"].id,
            lessons="季度计划把客服质量和资金安全列为重点是对的：两类问题占本季度高严重度问题的大部分。",
            went_well="计划内已完成的现场督导均按时完成；问题记录附照片证据。",
            went_badly="门店资金安全问题重复出现，上季度的整改效果没有保持。",
            suggestions="门店现金日结增加店长双人签字；每季度对重复问题做一次专项复查。"))
        added["evaluations"] += 1
    db.session.flush()

    def suggest(key, author, **fields):
        if db.session.get(PolicySuggestion, demo_id(key)) is not None:
            return
        s = PolicySuggestion(id=demo_id(key), author_id=author.id, **fields)
        db.session.add(s)
        db.session.flush()
        record_audit(author, "policy_suggestion.proposed", "policy_suggestion", s.id,
                     {"to": "proposed", "source_type": s.source_type, "source_id": s.source_id})
        if s.status == "under_review":
            record_audit(users["manager"], "policy_suggestion.under_review", "policy_suggestion", s.id,
                         {"from": "proposed", "to": "under_review", "comment": "下月运营例会讨论"})
        added["policy_suggestions"] += 1

    if visit_eval is not None:
        suggest("policy:peak-hours", users["supervisor"], title="高峰时段接通率纳入客服部月度考核",
                body=visit_eval.suggestions, source_type="evaluation", source_id=visit_eval.id,
                owner_id=users["manager"].id, status="under_review")
    finding = db.session.get(Finding, demo_id("finding:v2:0"))
    if finding is not None:
        suggest("policy:cash-daily", users["supervisor"], title="修订《门店现金管理规定》:日结双人签字",
                body="收银台现金未按规定日结的问题在多家门店出现，建议日结交接必须由店长与收银员双人签字，"
                     "并在营业结束后 30 分钟内入保险柜。", source_type="finding", source_id=finding.id,
                status="proposed")
    db.session.flush()
    return dict(added)
