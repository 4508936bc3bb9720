"""Demo data for supervisor management: training records and recognitions in the two seeded profiles,
and a few visit ratings with teamwork notes by the demo department head (陈静, 客户服务部).
Idempotent; works on whatever visits exist (the demo history may add months of them)."""

from collections import Counter

from sqlalchemy import select

from webapp.auth.models import User
from webapp.demo.keys import demo_id
from webapp.extensions import db
from webapp.results.models import SupervisorProfile, VisitRating
from webapp.visits.models import Visit

TRAINING = {
    "supervisor": [
        {"date": "2026-03-14", "topic": "运营督导方法与检查表使用", "hours": 16.0, "certificate": "内部督导员上岗证"},
        {"date": "2025-09-20", "topic": "风险识别与评估（可能性 × 影响）", "hours": 8.0},
        {"date": "2025-04-11", "topic": "现场访谈与沟通技巧", "hours": 6.0},
    ],
    "supervisor2": [
        {"date": "2026-05-09", "topic": "仓储物流作业规范", "hours": 12.0, "certificate": "ISO 9001 内审员证书"},
        {"date": "2026-01-16", "topic": "运营督导制度入职培训", "hours": 8.0},
    ],
}
RECOGNITIONS = {
    "supervisor": [{"date": "2025-12-28", "title": "2025 年度优秀督导员"},
                   {"date": "2026-07-05", "title": "第二季度整改推进之星"}],
    "supervisor2": [{"date": "2026-06-30", "title": "新人进步奖"}],
}
# (score, comment, teamwork note), used in turn for the department head's completed visits, newest first.
RATINGS = [
    (4, "督导准备充分，问题描述具体，附有照片", "与值班主管沟通顺畅，现场指导整改方法"),
    (5, "反馈及时，建议可操作", "主动协调仓库与门店，跨部门配合好"),
    (3, "检查较细，但首次会议时间偏短", "访谈时间与高峰期冲突，希望提前沟通"),
    (4, "报告清楚", "和客服团队一起复盘了录音抽查结果"),
]
MAX_RATED = 6


def seed_supervisors() -> Counter:

    added: Counter = Counter()
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(["supervisor", "supervisor2", "depthead"])))}
    for key in ("supervisor", "supervisor2"):
        profile = db.session.get(SupervisorProfile, demo_id(f"profile:{key}"))
        if profile is None:
            continue
        if not profile.training_records:
            profile.training_records = TRAINING[key]
            added["supervisor_profile_training"] += len(TRAINING[key])
        if not profile.recognitions:
            profile.recognitions = RECOGNITIONS[key]
            added["supervisor_profile_recognitions"] += len(RECOGNITIONS[key])
    head = users.get("depthead")
    if head is None or head.department_id is None:
        return added
    visits = db.session.scalars(select(Visit).where(
        Visit.department_id == head.department_id, Visit.status == "completed", Visit.deleted_at.is_(None),
        Visit.completed_at.is_not(None)).order_by(Visit.completed_at.desc(), Visit.id).limit(MAX_RATED)).all()
    rated = set(db.session.scalars(select(VisitRating.visit_id).where(VisitRating.rated_by == head.id)))
    for n, visit in enumerate(visits):
        if visit.id in rated:
            continue
        score, comment, note = RATINGS[n % len(RATINGS)]
        db.session.add(VisitRating(id=demo_id(f"rating:{visit.id}:depthead"), visit_id=visit.id,
                                   rated_by=head.id, score=score, comment=comment, teamwork_note=note))
        added["visit_ratings"] += 1
    db.session.flush()
    return added
