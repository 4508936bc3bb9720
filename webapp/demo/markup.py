"""The demo's photo markup, signatures and a before/after pair (docs/photo-evidence.md#markup-and-signatures):
the first finding of each recorded visit has its photo marked up, the visits carry the site
manager's signature at the opening (and, once completed, the closing) meeting, and the cash-desk
finding waiting for acceptance has a rectification with an "after" photo."""

import hashlib
import math
from datetime import timedelta

from webapp.demo.keys import demo_id, photo_bytes
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.photos.models import Photo
from webapp.photos.operations import process_upload, save_photo
from webapp.rectification.models import Rectification, RectificationUpdate
from webapp.visits.models import Visit

SIGNERS = {"v1": "周丽", "v2": "孙强", "v3": "吴敏", "v4": "刘洋"}


def demo_strokes(seed: int) -> list:
    """A hand-like signature: two loops and a flourish, varied by `seed` (normalized 0..1)."""
    strokes = []
    for part in range(3):
        pts = []
        for i in range(40):
            t = i / 39
            x = 0.08 + part * 0.28 + t * 0.24
            y = 0.5 + 0.28 * math.sin(t * math.pi * (2 + part + seed % 3)) * (1 - 0.5 * t)
            pts.append([round(min(0.98, x), 4), round(min(0.95, max(0.05, y)), 4)])
        strokes.append(pts)
    strokes.append([[0.1, 0.85], [0.5, 0.8], [0.92, 0.83]])
    return strokes


def demo_markup(sha: str) -> dict:
    return {sha: [
        {"kind": "circle", "color": "red", "x1": 0.3, "y1": 0.25, "x2": 0.62, "y2": 0.62},
        {"kind": "arrow", "color": "yellow", "x1": 0.85, "y1": 0.12, "x2": 0.64, "y2": 0.38},
        {"kind": "text", "color": "yellow", "x1": 0.62, "y1": 0.05, "text": "此处问题"},
    ]}


def seed_markup(visits: list, users: dict) -> dict:
    """`visits`: (key, status, start) of the recorded demo visits. Only what is missing is added."""
    added = {"markups": 0, "signatures": 0, "rectification_photos": 0}
    for key, status, start in visits:
        visit = db.session.get(Visit, demo_id(f"visit:{key}"))
        if visit is None:
            continue
        signer = SIGNERS.get(key, "场所负责人")
        if visit.opening_signature is None:
            visit.opening_signature = {"signer": signer, "signed_at": (start + timedelta(minutes=20)).isoformat(),
                                       "strokes": demo_strokes(len(key))}
            added["signatures"] += 1
        if status == "completed" and visit.closing_signature is None:
            visit.closing_signature = {"signer": signer, "signed_at": (start + timedelta(hours=5)).isoformat(),
                                       "strokes": demo_strokes(len(key) + 1)}
            added["signatures"] += 1
        first = db.session.get(Finding, demo_id(f"finding:{key}:0"))
        if first is not None and first.photos and not first.markup:
            first.markup = demo_markup(first.photos[0])
            added["markups"] += 1
    # The cash-desk finding of v2 waits for acceptance: its rectification, with the "after" photo.
    finding = db.session.get(Finding, demo_id("finding:v2:0"))
    if finding is not None and finding.status == "pending_acceptance" \
            and db.session.get(Rectification, demo_id("finding:v2:0:rect")) is None:
        head = users["depthead"]
        when = finding.captured_at + timedelta(days=5)
        db.session.add(Rectification(id=demo_id("finding:v2:0:rect"), finding_id=finding.id,
                                     measures="营业款当日入柜，交接记录双人签字", owner="孙强",
                                     deadline=when.date() + timedelta(days=10), status="pending_acceptance",
                                     round=1, submitted_by=head.id))
        data = photo_bytes("SH-NJ 整改后", hue=200)
        sha = hashlib.sha256(data).hexdigest()
        if db.session.get(Photo, sha) is None:
            photo, _created = save_photo(sha, data, process_upload(data), head)
            photo.captured_at = when
            added["rectification_photos"] += 1
        db.session.add(RectificationUpdate(id=demo_id("finding:v2:0:update"), finding_id=finding.id,
                                           author_id=head.id, note="保险柜已启用，交接表已补签", progress=100,
                                           photos=[sha], created_at=when))
    return {k: v for k, v in added.items() if v}
