"""Early warnings (预警): each active rule is evaluated against the data and raises one warning per
subject whose condition holds; functions flush, never commit.

- high_severity_open: a high or critical finding not closed more than N days after it was captured
  (days counted in local dates) → subject the finding.
- score_drop: a site's overall checklist score on its latest completed visit is more than X points
  below the previous completed visit's → subject the site.
- repeat_problem: a site × checklist item with ≥ N findings in a repeat chain (repeat_of_id) captured
  within the last 365 days → subject the site (one warning per site, naming each such item).
- overdue_rectifications: a department with ≥ N overdue rectifications → subject the department.

Idempotent: a subject never has two live (open or acknowledged) warnings of one kind; a live warning is
refreshed (its figures updated) while its condition holds, and closed automatically (closed_by NULL) when
it no longer does. A warning a manager closed is raised again at the next check if its condition still
holds: acknowledge is the way to say "seen, being handled". Inactive rules are not evaluated and their
warnings are left as they are.

The text is rendered when shown, in the reader's language, from `kind` and `params` (render_warning);
`message` keeps the default language's rendering for the CLI and exports.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from webapp.checklists.models import TemplateItem
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.notifications.operations import managers, notify
from webapp.org.models import Department, Site
from webapp.outbox.events import raise_event, warning_data
from webapp.rectification.models import Rectification
from webapp.rectification.operations import overdue_clause
from webapp.results.models import WARNING_KINDS, WARNING_LIVE, Warning, WarningRule
from webapp.results.periods import local_date
from webapp.visits.models import ChecklistAnswer, Visit
from webapp.visits.scoring import score_by_area

REPEAT_WINDOW_DAYS = 365
COUNT_KINDS = ("repeat_problem", "overdue_rectifications")  # thresholds that are whole counts ≥ 1
SUBJECT_TYPES = {"high_severity_open": "finding", "score_drop": "site", "repeat_problem": "site",
                 "overdue_rectifications": "department"}
MANAGERS = ("manager", "admin")


class WarningError(Exception):
    def __init__(self, message: str, fields: dict | None = None, status: int = 409):
        super().__init__(message)
        self.message, self.fields, self.status = message, fields or {}, status


@dataclass
class Hit:
    subject_id: str
    params: dict
    subject_name: str  # for the notification


@dataclass
class CheckResult:
    raised: list = field(default_factory=list)
    closed: list = field(default_factory=list)
    still_open: int = 0


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_tz())


def local_today() -> date:
    return local_date(datetime.now(UTC), _tz())


# ---- the rules ---------------------------------------------------------------------------------

def _high_severity_open(threshold: float, today: date) -> list[Hit]:
    # age in whole local days > threshold ⟺ captured before local midnight of today − floor(threshold)
    cutoff = _local_midnight(today - timedelta(days=math.floor(threshold)))
    rows = db.session.scalars(select(Finding).where(
        Finding.counted(), Finding.severity.in_(("high", "critical")), Finding.status != "closed",
        Finding.captured_at < cutoff)).all()
    hits = []
    for f in rows:
        days = (today - local_date(f.captured_at, _tz())).days
        if days > threshold:
            hits.append(Hit(f.id, {"title": f.title, "severity": f.severity, "days": days,
                                   "threshold": threshold}, f.title))
    return hits


def visit_overall_scores(visits: list[Visit]) -> dict[str, float | None]:
    """Overall checklist score (visits/scoring.py) of each visit, in two queries."""
    if not visits:
        return {}
    items = defaultdict(list)
    for item in db.session.scalars(select(TemplateItem).where(
            TemplateItem.template_id.in_({v.template_id for v in visits}))):
        items[item.template_id].append(item)
    answers = defaultdict(list)
    for a in db.session.scalars(select(ChecklistAnswer).where(ChecklistAnswer.visit_id.in_([v.id for v in visits]))):
        answers[a.visit_id].append(a)
    return {v.id: score_by_area(items[v.template_id], answers[v.id])["overall"] for v in visits}


def _score_drop(threshold: float, today: date) -> list[Hit]:
    rows = db.session.execute(select(Visit.id, Visit.site_id).where(
        Visit.deleted_at.is_(None), Visit.status == "completed", Visit.completed_at.is_not(None))
        .order_by(Visit.site_id, Visit.completed_at.desc(), Visit.id.desc())).all()
    latest_two = defaultdict(list)
    for visit_id, site_id in rows:
        if len(latest_two[site_id]) < 2:
            latest_two[site_id].append(visit_id)
    pairs = {s: ids for s, ids in latest_two.items() if len(ids) == 2}
    visits = db.session.scalars(select(Visit).where(Visit.id.in_([i for ids in pairs.values() for i in ids]))).all() \
        if pairs else []
    scores = visit_overall_scores(visits)
    sites = {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(list(pairs))))} if pairs else {}
    hits = []
    for site_id, (latest, previous) in pairs.items():
        new, old = scores.get(latest), scores.get(previous)
        if new is None or old is None or site_id not in sites:
            continue
        drop = round(old - new, 1)
        if drop > threshold:
            site = sites[site_id]
            hits.append(Hit(site_id, {"site": site.name, "site_en": site.name_en, "previous": old, "latest": new,
                                      "drop": drop, "threshold": threshold, "visit_id": latest,
                                      "previous_visit_id": previous}, site.name))
    return hits


def _repeat_problem(threshold: float, today: date) -> list[Hit]:
    since = _local_midnight(today - timedelta(days=REPEAT_WINDOW_DAYS))
    earlier = aliased(Finding)
    in_window = (Finding.counted(), Finding.site_id.is_not(None), Finding.item_id.is_not(None),
                 Finding.captured_at >= since)
    # a chain member: a repeat, or the finding a repeat points to
    members = (Finding.repeat_of_id.is_not(None)) | Finding.id.in_(
        select(earlier.repeat_of_id).where(earlier.repeat_of_id.is_not(None), earlier.deleted_at.is_(None), earlier.review_status == "confirmed"))
    counts = db.session.execute(select(Finding.site_id, Finding.item_id, func.count()).where(*in_window, members)
                                .group_by(Finding.site_id, Finding.item_id)).all()
    by_site = defaultdict(list)
    for site_id, item_id, n in counts:
        if n >= threshold:
            by_site[site_id].append((item_id, n))
    if not by_site:
        return []
    items = {i.id: i for i in db.session.scalars(select(TemplateItem).where(
        TemplateItem.id.in_([i for pairs in by_site.values() for i, _n in pairs])))}
    sites = {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(list(by_site))))}
    hits = []
    for site_id, pairs in by_site.items():
        site = sites.get(site_id)
        if site is None:
            continue
        listed = sorted(({"id": i, "code": items[i].code, "title": items[i].title, "title_en": items[i].title_en,
                          "count": n} for i, n in pairs if i in items), key=lambda x: (-x["count"], x["code"]))
        hits.append(Hit(site_id, {"site": site.name, "site_en": site.name_en, "items": listed,
                                  "threshold": threshold}, site.name))
    return hits


def _overdue_rectifications(threshold: float, today: date) -> list[Hit]:
    rows = db.session.execute(
        select(Finding.department_id, func.count()).join(Rectification, Rectification.finding_id == Finding.id)
        .where(overdue_clause(today), Finding.counted(), Finding.department_id.is_not(None))
        .group_by(Finding.department_id)).all()
    wanted = {d: n for d, n in rows if n >= threshold}
    if not wanted:
        return []
    depts = {d.id: d for d in db.session.scalars(select(Department).where(Department.id.in_(list(wanted))))}
    return [Hit(d, {"department": depts[d].name, "department_en": depts[d].name_en, "count": n,
                    "threshold": threshold}, depts[d].name) for d, n in wanted.items() if d in depts]


EVALUATORS = {
    "high_severity_open": _high_severity_open,
    "score_drop": _score_drop,
    "repeat_problem": _repeat_problem,
    "overdue_rectifications": _overdue_rectifications,
}
assert set(EVALUATORS) == set(WARNING_KINDS)


# ---- the check ---------------------------------------------------------------------------------

def check_warnings(today: date | None = None) -> CheckResult:
    """Evaluate every active rule; raise, refresh and auto-close warnings; notify managers of new ones."""
    today = today or local_today()
    result = CheckResult()
    rules = db.session.scalars(select(WarningRule).where(WarningRule.active.is_(True))
                               .order_by(WarningRule.kind, WarningRule.created_at, WarningRule.id)).all()
    seen_kinds = set()
    for rule in rules:
        if rule.kind not in EVALUATORS or rule.kind in seen_kinds:
            continue  # one rule per kind; a duplicate would fight over the same warnings
        seen_kinds.add(rule.kind)
        subject_type = SUBJECT_TYPES[rule.kind]
        live = {w.subject_id: w for w in db.session.scalars(select(Warning).where(
            Warning.kind == rule.kind, Warning.status.in_(WARNING_LIVE)))}
        for hit in EVALUATORS[rule.kind](rule.threshold, today):
            warning = live.pop(hit.subject_id, None)
            if warning is not None:
                warning.params = hit.params
                warning.rule_id = rule.id
                continue
            warning = Warning(rule_id=rule.id, kind=rule.kind, subject_type=subject_type, subject_id=hit.subject_id,
                              params=hit.params, status="open", message=_default_text(rule.kind, hit.params))
            db.session.add(warning)
            db.session.flush()
            notify(managers(), f"warning_{rule.kind}", hit.subject_name, "/results/warnings/")
            raise_event("warning.raised", {"warning": warning_data(warning, hit.subject_name)})
            result.raised.append(warning)
        for warning in live.values():  # the condition no longer holds
            warning.status, warning.closed_at, warning.closed_by = "closed", utcnow(), None
            result.closed.append(warning)
    db.session.flush()
    result.still_open = db.session.scalar(select(func.count()).select_from(Warning).where(
        Warning.status.in_(WARNING_LIVE))) or 0
    return result


def acknowledge_warning(warning: Warning, user) -> None:
    if user.role not in MANAGERS:
        raise WarningError(_("Only management can handle warnings."), status=403)
    if warning.status != "open":
        raise WarningError(_("Only an open warning can be acknowledged."))
    warning.status, warning.acknowledged_by, warning.acknowledged_at = "acknowledged", user.id, utcnow()
    db.session.flush()


def close_warning(warning: Warning, user) -> None:
    if user.role not in MANAGERS:
        raise WarningError(_("Only management can handle warnings."), status=403)
    if warning.status not in WARNING_LIVE:
        raise WarningError(_("This warning is already closed."))
    warning.status, warning.closed_by, warning.closed_at = "closed", user.id, utcnow()
    db.session.flush()


def update_warning_rule(rule: WarningRule, user, threshold: float, active: bool) -> None:
    if user.role != "admin":
        raise WarningError(_("Only an administrator can change warning rules."), status=403)
    if rule.kind in COUNT_KINDS and (threshold < 1 or threshold != int(threshold)):
        raise WarningError(_("Enter a whole number of at least 1."), {"threshold": [_("Enter a whole number of at least 1.")]},
                           status=400)
    rule.threshold, rule.active = threshold, active
    db.session.flush()


def open_warning_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Warning).where(Warning.status == "open")) or 0


# ---- text --------------------------------------------------------------------------------------

def _num(value) -> str:
    value = float(value)
    return str(int(value)) if value == int(value) else f"{value:g}"


def _name(params: dict, key: str, locale: str) -> str:
    return (params.get(f"{key}_en") if locale == "en" else None) or params.get(key) or "?"


def _item_name(item: dict, locale: str) -> str:
    """A checklist item as people know it: its title (the code, R3, only when it has none)."""
    title = (item.get("title_en") if locale == "en" else None) or item.get("title")
    return title or item.get("code") or "?"


def render_warning(kind: str, params: dict, locale: str | None = None) -> str:
    """The warning's text in the current language (gettext), from its kind and stored figures."""
    from webapp.i18n import current_locale_code, term

    locale = locale or current_locale_code()
    p = params or {}
    threshold = _num(p.get("threshold", 0))
    if kind == "high_severity_open":
        return _("High-severity finding “%(title)s” (%(severity)s) has been open for %(days)s days "
                 "(rule: more than %(threshold)s days).", title=p.get("title", ""),
                 severity=term("severity", p.get("severity")), days=p.get("days", "?"), threshold=threshold)
    if kind == "score_drop":
        return _("Checklist score at %(site)s fell from %(previous)s to %(latest)s, down %(drop)s points "
                 "(rule: more than %(threshold)s points).", site=_name(p, "site", locale),
                 previous=_num(p.get("previous", 0)), latest=_num(p.get("latest", 0)), drop=_num(p.get("drop", 0)),
                 threshold=threshold)
    if kind == "repeat_problem":
        sep = ", " if locale == "en" else "、"
        items = sep.join(_("%(item)s: %(count)s findings", item=_item_name(i, locale), count=i["count"])
                         for i in p.get("items", []))
        return _("Repeat problems at %(site)s — %(items)s (rule: at least %(threshold)s findings in a repeat "
                 "chain within 365 days).", site=_name(p, "site", locale), items=items, threshold=threshold)
    if kind == "overdue_rectifications":
        return _("%(department)s has %(count)s overdue rectifications (rule: at least %(threshold)s).",
                 department=_name(p, "department", locale), count=p.get("count", "?"), threshold=threshold)
    return kind


def _default_text(kind: str, params: dict) -> str:
    locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        return render_warning(kind, params, "en" if locale == "en" else "zh_CN")
