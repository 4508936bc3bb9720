from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from webapp.auth.scope import get_scoped_or_404, scoped
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.photos.operations import gallery_items

bp = Blueprint("findings", __name__, url_prefix="/findings")


@bp.get("/")
@login_required
def index():
    findings = db.session.scalars(
        scoped(Finding, current_user)
        .where(Finding.deleted_at.is_(None))
        .options(selectinload(Finding.site), selectinload(Finding.department))
        .order_by(Finding.captured_at.desc(), Finding.id.desc())
        .limit(100)
    ).all()
    return render_template("findings/index.html", findings=findings)


@bp.get("/<finding_id>")
@login_required
def detail(finding_id):
    finding = get_scoped_or_404(Finding, finding_id, current_user)
    photos = gallery_items(finding.photos, current_user)
    return render_template("findings/detail.html", finding=finding, photos=photos)
