"""Demo data for a department head's rectification progress (idempotent): the customer service
head (depthead) has reported progress with a photo on the rectification due soonest, so the desk's
before/after and the phone's "progress so far" show something on a fresh demo."""

import hashlib

from sqlalchemy import select

from webapp.auth.models import User
from webapp.core.clock import company_today
from webapp.demo.keys import demo_id, photo_bytes
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.photos.models import Photo
from webapp.photos.operations import process_upload, save_photo
from webapp.rectification.models import Rectification, RectificationUpdate


def seed_rectification_progress() -> dict:
    key = demo_id("rectification-progress:depthead")
    if db.session.get(RectificationUpdate, key) is not None:
        return {}
    head = db.session.scalar(select(User).where(User.username == "depthead"))
    if head is None or head.department_id is None:
        return {}
    rect = db.session.scalars(
        select(Rectification).join(Finding, Finding.id == Rectification.finding_id)
        .where(Finding.department_id == head.department_id, Finding.deleted_at.is_(None),
               Rectification.status == "rectifying", Rectification.round == 1,
               Rectification.deadline >= company_today())
        .order_by(Rectification.deadline, Rectification.id)).first()
    if rect is None:
        return {}
    data = photo_bytes("整改进行中", hue=95)
    sha = hashlib.sha256(data).hexdigest()
    if db.session.get(Photo, sha) is None:
        save_photo(sha, data, process_upload(data), head)
    db.session.add(RectificationUpdate(id=key, finding_id=rect.finding_id, progress=60, photos=[sha],
                                       note="已完成班组培训，正在逐周抽查", author_id=head.id))
    db.session.flush()
    return {"rectification_updates": 1}
