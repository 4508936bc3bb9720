from sqlalchemy import func, select

from webapp.auth.models import User
from webapp.extensions import db
from webapp.results.models import SupervisorProfile, VisitRating
from webapp.visits.models import Visit


def test_demo_profiles_and_ratings_are_seeded_once(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    profiles = db.session.scalars(select(SupervisorProfile)).all()
    assert len(profiles) == 2 and all(p.training_records and p.recognitions for p in profiles)
    head = db.session.scalar(select(User).where(User.username == "depthead"))
    ratings = db.session.scalars(select(VisitRating)).all()
    assert ratings and all(r.rated_by == head.id and 1 <= r.score <= 5 and r.teamwork_note for r in ratings)
    for r in ratings:  # only completed visits of the head's own department
        visit = db.session.get(Visit, r.visit_id)
        assert visit.status == "completed" and visit.department_id == head.department_id
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(VisitRating)) == len(ratings)
