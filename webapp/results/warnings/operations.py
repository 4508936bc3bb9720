"""Early warnings (预警): each rule is evaluated against the data and raises ONE warning per subject ×
problem whose condition holds; functions flush, never commit.

- high_severity_open: high or critical findings not closed more than N days after they were captured
  (days counted in local dates) → one warning per site × problem (the checklist item, else the area).
- score_drop: a site's overall checklist score on its latest completed visit is more than X points
  below the previous completed visit's → one warning per site.
- repeat_problem: a site × checklist item with ≥ N findings in a repeat chain (repeat_of_id) captured
  within the rule's window (days) → one warning per site × item.
- overdue_rectifications: a department with ≥ N rectifications overdue by more than the rule's grace
  period (days) → one warning per department.

A kind without a stored rule is evaluated with its default (DEFAULT_RULES); a stored rule overrides
it (threshold, window or grace, active).

Grouping: a subject × problem never has two live (open or acknowledged) warnings of one kind. Each
occurrence (a finding, a dropped visit, an overdue rectification) is counted once per warning
(`occurrences`, `last_seen_on`); a new occurrence updates the live warning — whether it is open,
acknowledged or snoozed — and sends nothing. A message goes out only when a warning is raised: the
group opens, or re-opens after it was closed. A live warning is closed automatically (closed_by
NULL) when its condition no longer holds; one a manager closed is raised again at the next check if
its condition still holds.

Snooze: a manager hides a live warning until a date with a reason; it is back on that day (the list
filters on the date; the check clears the expired snooze and records it in the warning's history).

The text is rendered when shown, in the reader's language, from `kind` and `params` (render_warning);
`message` keeps the default language's rendering for the CLI and exports.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from webapp.audit.operations import record_audit
from webapp.authz import can
from webapp.checklists.models import TemplateItem
from webapp.core.clock import company_today
from webapp.core.clock import company_zone as _tz
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.notifications.operations import managers, notify
from webapp.org.models import Department, Site
from webapp.outbox.events import raise_event, warning_data
from webapp.rectification.models import Rectification
from webapp.results.models import WARNING_KINDS, WARNING_LIVE, Warning, WarningRule
from webapp.results.periods import local_date
from webapp.visits.models import ChecklistAnswer, Visit
from webapp.visits.scoring import score_by_area

# Sensible defaults (issue #19): a kind without a stored rule is evaluated with these; an administrator
# overrides them on the rules page. (threshold, {extra setting: value})
DEFAULT_RULES = {
    # the backstop for a high-severity finding still open after two months, whatever its deadline (a
    # late rectification is the overdue rule's, two weeks after its deadline)
    "high_severity_open": (60, {}),
    "score_drop": (15, {}),  # more than 15 points down from the previous completed visit
    "repeat_problem": (4, {"window_days": 90}),  # the same item ≥ 4 times in a repeat chain within a quarter
    "overdue_rectifications": (3, {"grace_days": 14}),  # ≥ 3 rectifications more than 14 days past deadline
}
assert set(DEFAULT_RULES) == set(WARNING_KINDS)
COUNT_KINDS = ("repeat_problem", "overdue_rectifications")  # thresholds that are whole counts ≥ 1
# The rule's extra setting: (name, lowest, highest), whole days.
RULE_SETTINGS = {"repeat_problem": ("window_days", 7, 365), "overdue_rectifications": ("grace_days", 0, 90)}
SUBJECT_TYPES = {"high_severity_open": "site", "score_drop": "site", "repeat_problem": "site",
                 "overdue_rectifications": "department"}
SNOOZE_CHOICES = (7, 14, 30)  # days offered on the form; any date up to SNOOZE_MAX_DAYS ahead is accepted
SNOOZE_MAX_DAYS = 90
REASON_MAX = 1000


class WarningError(Exception):
    def __init__(self, message: str, fields: dict | None = None, status: int = 409):
        super().__init__(message)
        self.message, self.fields, self.status = message, fields or {}, status


@dataclass
class Hit:
    subject_id: str
    params: dict
    subject_name: str  # for the notification
    occurrences: list[str]  # ids of what makes the condition hold now
    last_seen: date | None
    problem: str = ""
    subject_type: str | None = None  # the kind's default when None


@dataclass
class CheckResult:
    raised: list = field(default_factory=list)
    closed: list = field(default_factory=list)
    updated: list = field(default_factory=list)  # live warnings that grouped a new occurrence
    woke: list = field(default_factory=list)  # snoozes that ran out
    still_open: int = 0


@dataclass
class EffectiveRule:
    kind: str
    threshold: float
    settings: dict
    active: bool
    rule_id: str | None  # None: the default, no stored rule


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_tz())


# ---- the rules ---------------------------------------------------------------------------------

def _severity_rank(severity: str) -> int:
    return {"critical": 0, "high": 1}.get(severity, 2)


def _high_severity_open(threshold: float, settings: dict, today: date) -> list[Hit]:
    # age in whole local days > threshold ⟺ captured before local midnight of today − floor(threshold)
    cutoff = _local_midnight(today - timedelta(days=math.floor(threshold)))
    rows = db.session.scalars(select(Finding).where(
        Finding.counted(), Finding.severity.in_(("high", "critical")), Finding.status != "closed",
        Finding.captured_at < cutoff).order_by(Finding.captured_at, Finding.id)).all()
    groups = defaultdict(list)
    for f in rows:
        days = (today - local_date(f.captured_at, _tz())).days
        if days <= threshold:
            continue
        if f.site_id:
            key = ("site", f.site_id, f.item_id or (f"area:{f.area}" if f.area else f"finding:{f.id}"))
        else:  # no site to group under: the finding is its own subject
            key = ("finding", f.id, "")
        groups[key].append((f, days))
    if not groups:
        return []
    sites = {s.id: s for s in db.session.scalars(select(Site).where(
        Site.id.in_({k[1] for k in groups if k[0] == "site"})))}
    items = {i.id: i for i in db.session.scalars(select(TemplateItem).where(
        TemplateItem.id.in_({f.item_id for members in groups.values() for f, _d in members if f.item_id})))}
    hits = []
    for (subject_type, subject_id, problem), members in groups.items():
        members.sort(key=lambda m: (_severity_rank(m[0].severity), -m[1], m[0].id))
        worst, days = members[0]
        params = {"title": worst.title, "severity": worst.severity, "days": max(d for _f, d in members),
                  "count": len(members), "threshold": threshold,
                  "findings": [{"id": f.id, "title": f.title, "severity": f.severity, "days": d}
                               for f, d in members[:10]]}
        name = worst.title
        if subject_type == "site":
            site = sites.get(subject_id)
            if site is None:
                continue
            params.update(site=site.name, site_en=site.name_en, problem=_problem_params(problem, items, worst))
            name = f"{site.name} · {_problem_name(params['problem'], 'zh_CN')}"
        hits.append(Hit(subject_id, params, name, [f.id for f, _d in members],
                        max(local_date(f.captured_at, _tz()) for f, _d in members), problem, subject_type))
    return hits


def _problem_params(problem: str, items: dict, finding: Finding) -> dict:
    """What the problem is called: the checklist item (its title, code), else the area."""
    item = items.get(problem)
    if item is not None:
        return {"item_id": item.id, "code": item.code, "title": item.title, "title_en": item.title_en}
    if problem.startswith("area:"):
        return {"area": problem[5:]}
    return {"finding_title": finding.title}


def _problem_name(problem: dict | None, locale: str) -> str:
    from webapp.i18n import term

    p = problem or {}
    if p.get("item_id"):
        return _item_name(p, locale)
    if p.get("area"):
        return str(term("area", p["area"]))
    return p.get("finding_title") or ""


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


def _score_drop(threshold: float, settings: dict, today: date) -> list[Hit]:
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
    by_id = {v.id: v for v in visits}
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
                                      "previous_visit_id": previous}, site.name,
                            [latest], local_date(by_id[latest].completed_at, _tz())))
    return hits


def _repeat_problem(threshold: float, settings: dict, today: date) -> list[Hit]:
    window = int(settings.get("window_days") or DEFAULT_RULES["repeat_problem"][1]["window_days"])
    since = _local_midnight(today - timedelta(days=window))
    earlier = aliased(Finding)
    in_window = (Finding.counted(), Finding.site_id.is_not(None), Finding.item_id.is_not(None),
                 Finding.captured_at >= since)
    # a chain member: a repeat, or the finding a repeat points to
    members = (Finding.repeat_of_id.is_not(None)) | Finding.id.in_(
        select(earlier.repeat_of_id).where(earlier.repeat_of_id.is_not(None), earlier.deleted_at.is_(None),
               earlier.review_status == "confirmed"))
    rows = db.session.execute(select(Finding.site_id, Finding.item_id, Finding.id, Finding.captured_at)
                              .where(*in_window, members).order_by(Finding.captured_at, Finding.id)).all()
    groups = defaultdict(list)
    for site_id, item_id, finding_id, captured in rows:
        groups[(site_id, item_id)].append((finding_id, captured))
    wanted = {k: v for k, v in groups.items() if len(v) >= threshold}
    if not wanted:
        return []
    items = {i.id: i for i in db.session.scalars(select(TemplateItem).where(
        TemplateItem.id.in_({i for _s, i in wanted})))}
    sites = {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_({s for s, _i in wanted})))}
    hits = []
    for (site_id, item_id), found in wanted.items():
        site, item = sites.get(site_id), items.get(item_id)
        if site is None or item is None:
            continue
        problem = {"item_id": item.id, "code": item.code, "title": item.title, "title_en": item.title_en}
        hits.append(Hit(site_id, {"site": site.name, "site_en": site.name_en, "problem": problem,
                                  "count": len(found), "window": window, "threshold": threshold},
                        f"{site.name} · {_item_name(problem, 'zh_CN')}", [i for i, _c in found],
                        max(local_date(c, _tz()) for _i, c in found), item.id))
    return hits


def _overdue_rectifications(threshold: float, settings: dict, today: date) -> list[Hit]:
    grace = int(settings.get("grace_days", DEFAULT_RULES["overdue_rectifications"][1]["grace_days"]))
    # overdue by more than `grace` days: the deadline fell before today − grace
    rows = db.session.execute(
        select(Finding.department_id, Rectification.id, Rectification.deadline)
        .join(Rectification, Rectification.finding_id == Finding.id)
        .where(Rectification.status == "rectifying", Rectification.deadline < today - timedelta(days=grace),
               Finding.counted(), Finding.department_id.is_not(None))
        .order_by(Rectification.deadline, Rectification.id)).all()
    groups = defaultdict(list)
    for department_id, rect_id, deadline in rows:
        groups[department_id].append((rect_id, deadline))
    wanted = {d: v for d, v in groups.items() if len(v) >= threshold}
    if not wanted:
        return []
    depts = {d.id: d for d in db.session.scalars(select(Department).where(Department.id.in_(list(wanted))))}
    # an occurrence is seen the day it crossed the grace period
    return [Hit(d, {"department": depts[d].name, "department_en": depts[d].name_en, "count": len(found),
                    "grace": grace, "threshold": threshold}, depts[d].name, [r for r, _dl in found],
                max(dl for _r, dl in found) + timedelta(days=grace + 1))
            for d, found in wanted.items() if d in depts]


EVALUATORS = {
    "high_severity_open": _high_severity_open,
    "score_drop": _score_drop,
    "repeat_problem": _repeat_problem,
    "overdue_rectifications": _overdue_rectifications,
}
assert set(EVALUATORS) == set(WARNING_KINDS)


# ---- the check ---------------------------------------------------------------------------------

def effective_rules() -> list[EffectiveRule]:
    """Every kind's rule: the stored one (the oldest, if there were ever two), else the default."""
    stored = {}
    for rule in db.session.scalars(select(WarningRule).order_by(WarningRule.created_at, WarningRule.id)):
        stored.setdefault(rule.kind, rule)
    out = []
    for kind in WARNING_KINDS:
        threshold, settings = DEFAULT_RULES[kind]
        rule = stored.get(kind)
        if rule is None:
            out.append(EffectiveRule(kind, threshold, dict(settings), True, None))
        else:
            out.append(EffectiveRule(kind, rule.threshold, {**settings, **(rule.params or {})}, rule.active, rule.id))
    return out


def _audit(user, action: str, warning: Warning, data: dict | None = None) -> None:
    record_audit(user, f"warning.{action}", "warning", warning.id, data or {})


def check_warnings(today: date | None = None) -> CheckResult:
    """Evaluate every active rule; raise, update (group) and auto-close warnings; wake expired snoozes;
    notify managers of the warnings raised (and of nothing else)."""
    today = today or company_today()
    result = CheckResult()
    for warning in db.session.scalars(select(Warning).where(
            Warning.status.in_(WARNING_LIVE), Warning.snoozed_until.is_not(None), Warning.snoozed_until <= today)):
        _audit(None, "woke", warning, {"snoozed_until": warning.snoozed_until.isoformat()})
        warning.snoozed_until = warning.snoozed_by = warning.snoozed_at = warning.snooze_reason = None
        result.woke.append(warning)
    for rule in effective_rules():
        if not rule.active:
            continue
        live = {(w.subject_type, w.subject_id, w.problem_key): w for w in db.session.scalars(select(Warning).where(
            Warning.kind == rule.kind, Warning.status.in_(WARNING_LIVE)))}
        for hit in EVALUATORS[rule.kind](rule.threshold, rule.settings, today):
            subject_type = hit.subject_type or SUBJECT_TYPES[rule.kind]
            warning = live.pop((subject_type, hit.subject_id, hit.problem), None)
            if warning is not None:
                if _group(warning, hit):
                    result.updated.append(warning)
                warning.params, warning.rule_id = hit.params, rule.rule_id
                continue
            warning = Warning(rule_id=rule.rule_id, kind=rule.kind, subject_type=subject_type,
                              subject_id=hit.subject_id, problem_key=hit.problem, params=hit.params, status="open",
                              occurrences=len(set(hit.occurrences)), occurrence_ids=sorted(set(hit.occurrences)),
                              last_seen_on=hit.last_seen, message=_default_text(rule.kind, hit.params))
            db.session.add(warning)
            db.session.flush()
            _audit(None, "raised", warning, {"occurrences": warning.occurrences})
            notify(managers(), f"warning_{rule.kind}", hit.subject_name, "/results/warnings/")
            raise_event("warning.raised", {"warning": warning_data(warning, hit.subject_name)})
            result.raised.append(warning)
        for warning in live.values():  # the condition no longer holds
            warning.status, warning.closed_at, warning.closed_by = "closed", utcnow(), None
            _audit(None, "auto_closed", warning)
            result.closed.append(warning)
    db.session.flush()
    result.still_open = db.session.scalar(select(func.count()).select_from(Warning).where(
        Warning.status.in_(WARNING_LIVE))) or 0
    return result


def _group(warning: Warning, hit: Hit) -> bool:
    """Count the hit's new occurrences into the live warning; True when there was one."""
    seen = set(warning.occurrence_ids or [])
    new = set(hit.occurrences) - seen
    if hit.last_seen and (warning.last_seen_on is None or hit.last_seen > warning.last_seen_on):
        warning.last_seen_on = hit.last_seen
    if not new:
        return False
    warning.occurrence_ids = sorted(seen | new)
    warning.occurrences = (warning.occurrences or 0) + len(new)
    return True


# ---- what a manager does -----------------------------------------------------------------------

def _may_act(user, warning: Warning) -> None:
    if not can(user, "warnings.act", warning):
        raise WarningError(_("Only management can handle warnings."), status=403)


def acknowledge_warning(warning: Warning, user) -> None:
    _may_act(user, warning)
    if warning.status != "open":
        raise WarningError(_("Only an open warning can be acknowledged."))
    warning.status, warning.acknowledged_by, warning.acknowledged_at = "acknowledged", user.id, utcnow()
    _audit(user, "acknowledged", warning)
    db.session.flush()


def close_warning(warning: Warning, user) -> None:
    _may_act(user, warning)
    if warning.status not in WARNING_LIVE:
        raise WarningError(_("This warning is already closed."))
    warning.status, warning.closed_by, warning.closed_at = "closed", user.id, utcnow()
    _audit(user, "closed", warning)
    db.session.flush()


def is_snoozed(warning: Warning, today: date | None = None) -> bool:
    return warning.snoozed_until is not None and warning.snoozed_until > (today or company_today())


def snooze_warning(warning: Warning, user, until: date, reason: str, today: date | None = None) -> None:
    """Hide a live warning from the open list and the counts until `until` (it is back that day)."""
    _may_act(user, warning)
    today = today or company_today()
    if warning.status not in WARNING_LIVE:
        raise WarningError(_("Only an open or acknowledged warning can be snoozed."))
    reason = (reason or "").strip()
    if not reason:
        raise WarningError(_("Say why the warning is snoozed."), {"reason": [_("Say why the warning is snoozed.")]},
                           status=400)
    if len(reason) > REASON_MAX:
        raise WarningError(_("This text is too long."), {"reason": [_("This text is too long.")]}, status=400)
    if until <= today or until > today + timedelta(days=SNOOZE_MAX_DAYS):
        message = _("Choose a date from tomorrow to %(days)d days ahead.", days=SNOOZE_MAX_DAYS)
        raise WarningError(message, {"until": [message]}, status=400)
    warning.snoozed_until, warning.snoozed_by, warning.snoozed_at = until, user.id, utcnow()
    warning.snooze_reason = reason
    _audit(user, "snoozed", warning, {"until": until.isoformat(), "reason": reason})
    db.session.flush()


def wake_warning(warning: Warning, user, today: date | None = None) -> None:
    """End a snooze now."""
    _may_act(user, warning)
    if warning.status not in WARNING_LIVE or not is_snoozed(warning, today):
        raise WarningError(_("This warning is not snoozed."))
    _audit(user, "unsnoozed", warning, {"snoozed_until": warning.snoozed_until.isoformat()})
    warning.snoozed_until = warning.snoozed_by = warning.snoozed_at = warning.snooze_reason = None
    db.session.flush()


def update_warning_rule(rule: WarningRule, user, threshold: float, active: bool, setting: int | None = None) -> None:
    if not can(user, "warnings.rules", rule):
        raise WarningError(_("Only an administrator can change warning rules."), status=403)
    _check_rule(rule.kind, threshold, setting)
    rule.threshold, rule.active = threshold, active
    if rule.kind in RULE_SETTINGS:
        name = RULE_SETTINGS[rule.kind][0]
        rule.params = {**(rule.params or {}), name: setting if setting is not None
                       else (rule.params or {}).get(name, DEFAULT_RULES[rule.kind][1][name])}
    record_audit(user, "warning_rule.updated", "warning_rule", rule.id,
                 {"kind": rule.kind, "threshold": threshold, "active": active, "params": rule.params})
    db.session.flush()


def save_default_rule(kind: str, user, threshold: float, active: bool, setting: int | None = None) -> WarningRule:
    """An administrator saves a kind that still runs on its default: it becomes a stored rule."""
    if not can(user, "warnings.rules", None):
        raise WarningError(_("Only an administrator can change warning rules."), status=403)
    if db.session.scalar(select(WarningRule).where(WarningRule.kind == kind)) is not None:
        raise WarningError(_("This rule was saved meanwhile; reload the page."))
    rule = WarningRule(kind=kind, threshold=DEFAULT_RULES[kind][0], params=dict(DEFAULT_RULES[kind][1]), active=True)
    db.session.add(rule)
    db.session.flush()
    update_warning_rule(rule, user, threshold, active, setting)
    return rule


def _check_rule(kind: str, threshold: float, setting: int | None) -> None:
    fields = {}
    if kind in COUNT_KINDS and (threshold < 1 or threshold != int(threshold)):
        fields["threshold"] = [_("Enter a whole number of at least 1.")]
    if kind in RULE_SETTINGS and setting is not None:
        _name, low, high = RULE_SETTINGS[kind]
        if not low <= setting <= high:
            fields["setting"] = [_("Enter a whole number of days from %(low)d to %(high)d.", low=low, high=high)]
    if fields:
        raise WarningError(next(iter(fields.values()))[0], fields, status=400)


def open_warning_count(today: date | None = None) -> int:
    """Open warnings not snoozed: the nav badge."""
    return db.session.scalar(select(func.count()).select_from(Warning).where(
        Warning.status == "open", not_snoozed(today or company_today()))) or 0


def not_snoozed(today: date):
    return or_(Warning.snoozed_until.is_(None), Warning.snoozed_until <= today)


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


def subject_label(warning: Warning, locale: str | None = None) -> str:
    """What the warning is about, for its heading: "site · problem", the site, or the department."""
    from webapp.i18n import current_locale_code

    locale = locale or current_locale_code()
    p = warning.params or {}
    if warning.kind == "overdue_rectifications":
        return _name(p, "department", locale)
    if "site" not in p:
        return p.get("title", "")
    site = _name(p, "site", locale)
    problem = _problem_name(p.get("problem"), locale)
    return _("%(site)s · %(problem)s", site=site, problem=problem) if problem else site


def render_warning(kind: str, params: dict, locale: str | None = None) -> str:
    """The warning's text in the current language (gettext), from its kind and stored figures."""
    from webapp.i18n import current_locale_code, term

    locale = locale or current_locale_code()
    p = params or {}
    threshold = _num(p.get("threshold", 0))
    if kind == "high_severity_open":
        if int(p.get("count") or 1) > 1:
            return _("%(count)s high-severity findings on “%(problem)s” at %(site)s have been open for more than "
                     "%(threshold)s days, the oldest for %(days)s days.", count=p["count"],
                     problem=_problem_name(p.get("problem"), locale), site=_name(p, "site", locale),
                     threshold=threshold, days=p.get("days", "?"))
        return _("High-severity finding “%(title)s” (%(severity)s) has been open for %(days)s days "
                 "(rule: more than %(threshold)s days).", title=p.get("title", ""),
                 severity=term("severity", p.get("severity")), days=p.get("days", "?"), threshold=threshold)
    if kind == "score_drop":
        return _("Checklist score at %(site)s fell from %(previous)s to %(latest)s, down %(drop)s points "
                 "(rule: more than %(threshold)s points).", site=_name(p, "site", locale),
                 previous=_num(p.get("previous", 0)), latest=_num(p.get("latest", 0)), drop=_num(p.get("drop", 0)),
                 threshold=threshold)
    if kind == "repeat_problem":
        return _("“%(item)s” recurred at %(site)s: %(count)s findings in a repeat chain within %(window)s days "
                 "(rule: at least %(threshold)s).", item=_problem_name(p.get("problem"), locale),
                 site=_name(p, "site", locale), count=p.get("count", "?"), window=p.get("window", 365),
                 threshold=threshold)
    if kind == "overdue_rectifications":
        if p.get("grace"):
            return _("%(department)s has %(count)s rectifications overdue by more than %(grace)s days "
                     "(rule: at least %(threshold)s).", department=_name(p, "department", locale),
                     count=p.get("count", "?"), grace=p["grace"], threshold=threshold)
        return _("%(department)s has %(count)s overdue rectifications (rule: at least %(threshold)s).",
                 department=_name(p, "department", locale), count=p.get("count", "?"), threshold=threshold)
    return kind


def _default_text(kind: str, params: dict) -> str:
    locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        return render_warning(kind, params, "en" if locale == "en" else "zh_CN")
