"""Evidence use cases: a check-in's distance to its site, the trusted time of pushed records and
uploaded photos, the evidence figures the desk shows, and verifying a file against the originals.
They flush and never commit."""

import hashlib
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.util import identity_key

from sync.sql import among, insert_rows
from webapp.evidence.geo import fence
from webapp.evidence.models import RecordEvidence, VisitCheckin
from webapp.extensions import db

# Entities whose records carry a capture time, and where it is: a field of the record, or the
# mutation's client_time (when the device made the change) for records without one. A department
# head's rectification progress (its "after" photos) is evidence too.
CAPTURE_FIELDS = {"finding": "captured_at", "checklist_answer": None, "visit_checkin": "device_time",
                  "rectification_update": None}
ACCEPTED = ("applied", "merged", "conflict")
EARLIEST_CLOCK = datetime(2000, 1, 1, tzinfo=UTC)


def skew_limit() -> float:
    return float(current_app.config.get("CLOCK_SKEW_FLAG_SECONDS", 300))


# ---- check-in ---------------------------------------------------------------------------------

def place_checkin(checkin: VisitCheckin, site) -> None:
    """Fill the server's fields of a check-in: distance to the site and inside its geofence."""
    if site is None:
        checkin.distance_m, checkin.in_fence = None, None
        return
    checkin.distance_m, checkin.in_fence = fence(site.lat, site.lng, site.geofence_radius_m, checkin.lat, checkin.lng)


def visit_checkins(visit_id: str) -> list[VisitCheckin]:
    return list(db.session.scalars(select(VisitCheckin).where(
        VisitCheckin.visit_id == visit_id, VisitCheckin.deleted_at.is_(None)).order_by(VisitCheckin.device_time)))


# ---- trusted time -----------------------------------------------------------------------------

def parse_device_time(value) -> datetime | None:
    """The device clock sent with a request (ISO 8601 with a zone), or None if absent or unusable.
    A bad value never fails the request: it only means no offset is known."""
    if not value or not isinstance(value, str) or len(value) > 64:
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        return None
    return t.astimezone(UTC)


def clock_offset(device_time: datetime | None, received: datetime) -> float | None:
    """Server receive time − device time, in seconds (positive: the device clock is behind)."""
    if device_time is None:
        return None
    return round((received - device_time).total_seconds(), 3)


def _evidence_row(entity, record_id, *, user_id, device_id, captured, device_time, received, offset) -> dict:
    estimated = captured + timedelta(seconds=offset) if (captured is not None and offset is not None) else None
    try:
        if estimated is not None and not EARLIEST_CLOCK <= estimated <= datetime(2999, 1, 1, tzinfo=UTC):
            estimated = None
    except OverflowError:
        estimated = None
    return dict(entity=entity, record_id=record_id, user_id=user_id, device_id=device_id, captured_device=captured,
                device_time=device_time, received_at=received, offset_seconds=offset, estimated_at=estimated,
                flagged=offset is not None and abs(offset) > skew_limit())


def _existing(entity_ids: list[tuple[str, str]]) -> set[tuple[str, str]]:
    have = set()
    by_entity: dict[str, list[str]] = {}
    for entity, rid in entity_ids:
        by_entity.setdefault(entity, []).append(rid)
    for entity, ids in by_entity.items():
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            have.update((entity, rid) for rid in db.session.scalars(select(RecordEvidence.record_id).where(
                RecordEvidence.entity == entity, among(RecordEvidence.record_id, part))))
    return have


def record_push_evidence(user, device_id: str, mutations: list, results: list, device_time: datetime | None,
                         received: datetime) -> int:
    """After a push: one evidence row per record with a capture time that this push created or first
    brought (the first receipt is the evidence; later edits keep it). Writes, never commits; returns rows added."""
    offset = clock_offset(device_time, received)
    wanted = []
    for m, res in zip(mutations, results, strict=False):
        if isinstance(m, tuple) or m.entity not in CAPTURE_FIELDS or m.op == "delete":
            continue
        if not isinstance(res, dict) or res.get("status") not in ACCEPTED:
            continue
        wanted.append(m)
    if not wanted:
        return 0
    have = _existing([(m.entity, m.id) for m in wanted])
    from webapp.sync_store.entities import ENTITIES

    new = []
    for m in wanted:
        key = (m.entity, m.id)
        if key not in have:
            have.add(key)
            new.append(m)
    captured_of = _captured_times(ENTITIES, new)
    rows = [_evidence_row(m.entity, m.id, user_id=user.id, device_id=device_id,
                          captured=captured_of.get((m.entity, m.id)) or m.client_time, device_time=device_time,
                          received=received, offset=offset) for m in new]
    if rows:
        # One statement for the batch: a push brings up to hundreds of records at once.
        insert_rows(db.session, RecordEvidence.__table__, rows)
    return len(rows)


def _captured_times(entities, mutations) -> dict[tuple[str, str], datetime]:
    """The stored capture time of each pushed record that has a capture field, read per entity in
    chunks (the records were just written in this transaction)."""
    ids: dict[str, list[str]] = {}
    for m in mutations:
        if CAPTURE_FIELDS[m.entity]:
            ids.setdefault(m.entity, []).append(m.id)
    out = {}
    held = db.session.identity_map
    for entity, record_ids in ids.items():
        model = entities[entity].model
        name = CAPTURE_FIELDS[entity]
        column = getattr(model, name)
        # The push holds the records it just wrote: their capture time needs no query.
        unread = []
        for rid in record_ids:
            obj = held.get(identity_key(model, rid))
            if obj is None or name in instance_state(obj).unloaded:
                unread.append(rid)
            elif getattr(obj, name) is not None:
                out[(entity, rid)] = getattr(obj, name)
        record_ids = unread
        for chunk in range(0, len(record_ids), 500):
            for rid, captured in db.session.execute(select(model.id, column).where(
                    among(model.id, record_ids[chunk:chunk + 500]))):
                if captured is not None:
                    out[(entity, rid)] = captured
    return out


def record_photo_evidence(photo, user, device_time: datetime | None, received: datetime) -> None:
    """On a photo's first upload: its EXIF capture time against the uploading device's clock."""
    if db.session.scalar(select(RecordEvidence.id).where(RecordEvidence.entity == "photo",
                                                         RecordEvidence.record_id == photo.sha256)):
        return
    db.session.add(RecordEvidence(**_evidence_row(
        "photo", photo.sha256, user_id=getattr(user, "id", None), device_id=None, captured=photo.captured_at,
        device_time=device_time, received=received, offset=clock_offset(device_time, received))))
    db.session.flush()


def evidence_of(entity: str, ids) -> dict[str, RecordEvidence]:
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    return {e.record_id: e for e in db.session.scalars(select(RecordEvidence).where(
        RecordEvidence.entity == entity, RecordEvidence.record_id.in_(ids)))}


def offset_words(seconds: float | None) -> str:
    """The clock offset in words: "device clock 3 days behind", "… 5 minutes ahead", "in time"."""
    if seconds is None:
        return _("device clock not sent")
    behind = seconds > 0
    s = abs(seconds)
    if s < 60:
        return _("device clock in time")
    if s >= 86400:
        n = int(round(s / 86400))
        amount = ngettext("%(num)d day", "%(num)d days", n)
    elif s >= 3600:
        n = int(round(s / 3600))
        amount = ngettext("%(num)d hour", "%(num)d hours", n)
    else:
        n = int(round(s / 60))
        amount = ngettext("%(num)d minute", "%(num)d minutes", n)
    if behind:
        return _("device clock %(amount)s behind", amount=amount)
    return _("device clock %(amount)s ahead", amount=amount)


# ---- the evidence panel -----------------------------------------------------------------------

def photo_evidence(shas: list[str], *, finding=None, visit_id: str | None = None) -> list[dict]:
    """Per photo of a record: hash, capture time (device / received / estimated), clock offset,
    distance from the site and the visit's check-in. A photo without its own clock reading
    borrows the offset measured on its record's push."""
    from webapp.photos.models import Photo

    wanted = [s for s in shas or [] if isinstance(s, str) and len(s) == 64]
    photos = {p.sha256: p for p in db.session.scalars(select(Photo).where(Photo.sha256.in_(wanted)))} if wanted else {}
    own = evidence_of("photo", wanted)
    record_ev = evidence_of("finding", [finding.id]).get(finding.id) if finding is not None else None
    visit_id = visit_id or getattr(finding, "visit_id", None)
    checkin = None
    if visit_id:
        checkin = next((c for c in visit_checkins(visit_id) if c.kind == "in"), None)
    site = getattr(finding, "site", None) if finding is not None else None
    out = []
    for sha in wanted:
        p = photos.get(sha)
        if p is None:
            continue
        ev = own.get(sha)
        offset = ev.offset_seconds if ev is not None and ev.offset_seconds is not None else (
            record_ev.offset_seconds if record_ev is not None else None)
        # The photo's own capture time (EXIF); the phone app strips EXIF when it shrinks a photo,
        # so then the time its record was captured on the same device clock.
        captured = p.captured_at or getattr(finding, "captured_at", None)
        estimated = captured + timedelta(seconds=offset) if (captured and offset is not None) else None
        distance = None
        lat, lng = (p.lat, p.lng) if p.lat is not None else (getattr(finding, "lat", None), getattr(finding, "lng", None))
        if site is not None and lat is not None and lng is not None:
            distance, _inside = fence(site.lat, site.lng, site.geofence_radius_m, lat, lng)
        out.append({
            "sha256": sha, "short": sha[:8], "captured": captured,
            "received": ev.received_at if ev is not None else p.uploaded_at,
            "estimated": estimated, "offset": offset, "offset_words": offset_words(offset),
            "flagged": offset is not None and abs(offset) > skew_limit(),
            "distance_m": distance, "checkin": checkin,
        })
    return out


def record_clock(entity: str, record_id: str) -> dict | None:
    """The trusted-time figures of one record for the desk (None when none were recorded)."""
    ev = evidence_of(entity, [record_id]).get(record_id)
    if ev is None:
        return None
    return {"evidence": ev, "words": offset_words(ev.offset_seconds), "flagged": ev.flagged}


# ---- verify -----------------------------------------------------------------------------------

def verify_bytes(data: bytes):
    """The stored photo whose original has these exact bytes, or None."""
    from webapp.photos.models import Photo

    return db.session.get(Photo, hashlib.sha256(data).hexdigest())


def visit_evidence(visit) -> dict:
    """The visit page's evidence: its check-ins and out, and its records whose device clock was off
    by more than CLOCK_SKEW_FLAG_SECONDS."""
    from webapp.findings.models import Finding
    from webapp.visits.models import ChecklistAnswer

    checkins = visit_checkins(visit.id)
    finding_ids = list(db.session.scalars(select(Finding.id).where(Finding.visit_id == visit.id)))
    answer_ids = list(db.session.scalars(select(ChecklistAnswer.id).where(ChecklistAnswer.visit_id == visit.id)))
    clocks = {**{("visit_checkin", k): v for k, v in evidence_of("visit_checkin", [c.id for c in checkins]).items()},
              **{("finding", k): v for k, v in evidence_of("finding", finding_ids).items()},
              **{("checklist_answer", k): v for k, v in evidence_of("checklist_answer", answer_ids).items()}}
    flagged = sorted((ev for ev in clocks.values() if ev.flagged), key=lambda ev: ev.received_at)
    worst = max(flagged, key=lambda ev: abs(ev.offset_seconds or 0)) if flagged else None
    return {"checkins": [{"checkin": c, "clock": clocks.get(("visit_checkin", c.id)),
                          "words": offset_words(clocks[("visit_checkin", c.id)].offset_seconds)
                          if ("visit_checkin", c.id) in clocks else None} for c in checkins],
            "flagged": flagged, "worst_words": offset_words(worst.offset_seconds) if worst else None,
            "site_has_position": visit.site is not None and visit.site.lat is not None and visit.site.lng is not None}


def evidence_lines(finding) -> list[str]:
    """The evidence panel as text lines: one per photo, then the visit's check-ins (the approved
    report, its share link and the PDF show them)."""
    from flask_babel import format_datetime

    def when(value):
        return format_datetime(value, "short") if value else "—"

    lines = []
    for i, e in enumerate(photo_evidence(finding.photos, finding=finding), 1):
        distance = _("%(m)s m from the site", m=f"{e['distance_m']:.0f}") if e["distance_m"] is not None \
            else _("distance unknown")
        lines.append(" · ".join([
            f"{_('Photo')} {i}", f"SHA-256 {e['short']}", f"{_('captured (device)')} {when(e['captured'])}",
            f"{_('received')} {when(e['received'])}", f"{_('estimated')} {when(e['estimated'])}",
            e["offset_words"], distance]))
    if lines:  # the visit's check-ins, as the live panel shows them beside the photos
        lines.extend(checkin_line(c) for c in visit_checkins(finding.visit_id))
    return lines


def checkin_line(c: VisitCheckin) -> str:
    """A check-in or check-out as text: when (device clock), distance to the site, in or out of its
    geofence, and the reason given for checking in outside it."""
    from flask_babel import format_datetime

    if c.distance_m is None:
        where = _("distance unknown")
    elif c.in_fence is None:
        where = _("%(m)s m from the site", m=f"{c.distance_m:.0f}")
    elif c.in_fence:
        where = _("%(m)s m from the site, inside the geofence", m=f"{c.distance_m:.0f}")
    else:
        where = _("%(m)s m from the site, outside the geofence", m=f"{c.distance_m:.0f}")
    parts = [_("Check-in") if c.kind == "in" else _("Check-out"),
             format_datetime(c.device_time, "short") if c.device_time else "—", where]
    if c.reason:
        parts.append(f"{_('Reason')}{_(': ')}{c.reason}")
    return " · ".join(parts)


def rectification_photos(finding_id: str) -> list[str]:
    """The "after" photos of a finding: every photo of its rectification progress updates, oldest
    first, each once (the "before" photos are the finding's own)."""
    from webapp.rectification.models import RectificationUpdate

    seen: list[str] = []
    for photos in db.session.scalars(select(RectificationUpdate.photos).where(
            RectificationUpdate.finding_id == finding_id, RectificationUpdate.deleted_at.is_(None))
            .order_by(RectificationUpdate.created_at)):
        for sha in photos or []:
            if sha not in seen:
                seen.append(sha)
    return seen
