from sqlalchemy import func, select

from webapp.auth.models import User
from webapp.extensions import db
from webapp.models import Finding, Photo, Site
from webapp.photos.storage import get_store


def test_user_create(runner, create_department):
    create_department("OPS")
    r = runner.invoke(args=["user", "create", "li", "--role", "dept_head", "--password", "long-enough-pw",
                            "--department", "OPS"])
    assert r.exit_code == 0, r.output
    user = db.session.scalar(select(User).where(User.username == "li"))
    assert user.role == "dept_head" and user.check_password("long-enough-pw")


def test_user_create_refuses_bad_input(runner):
    r = runner.invoke(args=["user", "create", "li", "--role", "boss", "--password", "long-enough-pw"])
    assert r.exit_code != 0 and "unknown role" in r.output
    r = runner.invoke(args=["user", "create", "li", "--role", "staff", "--password", "long-enough-pw"])
    assert r.exit_code != 0 and "--department" in r.output
    r = runner.invoke(args=["user", "create", "li", "--role", "manager", "--password", "short"])
    assert r.exit_code != 0 and "10 个字符" in r.output  # the default locale: zh_CN
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_seed_demo_is_realistic_and_idempotent(runner):
    r = runner.invoke(args=["seed-demo"])
    assert r.exit_code == 0, r.output
    assert "supervisor-demo-2026" in r.output  # passwords printed for the demo
    counts = {m: db.session.scalar(select(func.count()).select_from(m)) for m in (User, Site, Finding, Photo)}
    assert counts[Site] == 8 and counts[User] == 6 and counts[Finding] >= 8
    r = runner.invoke(args=["seed-demo"])
    assert r.exit_code == 0
    again = {m: db.session.scalar(select(func.count()).select_from(m)) for m in (User, Site, Finding, Photo)}
    assert again == counts
    photo = db.session.scalars(select(Photo)).first()
    assert get_store().exists(photo.sha256)


def test_demo_users_can_sign_in(runner, auth, client):
    runner.invoke(args=["seed-demo"])
    from webapp.demo.seed import DEMO_USERS

    for u in DEMO_USERS:
        assert auth.login(u["username"], u["password"]).status_code == 302, u["username"]
        assert client.get("/").status_code == 200
        auth.logout()
