"""Before/after comparison for a summary evaluation (总结评估): pure functions over plain values.

Nothing here touches the database: the operations fetch (scoped) records and hand them over, so every
rule below is tested on hand-made data with known answers.

- Figures collected (数据收集) are matched by kind + name (trimmed); several values of one figure on one
  side (a plan window with several visits) are averaged. Different units on the two sides are not
  compared (change = None).
- Findings: count, count by severity, repeats (repeat_of_id set) and repeat rate = repeats / findings
  (None when there are no findings: a rate of nothing is not 0 %).
- Checklist score by area and overall: visits/scoring.score_by_area per visit; a window with several
  visits takes the mean of the visits that have a score in that area.
- change = after − before, None when either side is missing. Rates and scores are in percent, so their
  change is in percentage points.
"""

from datetime import date, datetime, timedelta

from webapp.checklists.models import AREAS
from webapp.findings.models import SEVERITIES
from webapp.results.periods import local_date, period_containing
from webapp.visits.models import METRIC_KINDS

PERIOD_KIND = {"annual": "year", "quarterly": "quarter", "monthly": "month"}


def change(before, after):
    if before is None or after is None:
        return None
    return round(after - before, 2)


def _mean(values):
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 2) if values else None


# ---- figures collected ---------------------------------------------------------------------------

def metric_values(metrics) -> dict:
    """{(kind, name): {"value": mean of the values, "unit": unit, "n": how many}} of Metric-like objects
    (kind, name, value, unit); figures without a value are left out."""
    grouped: dict[tuple, dict] = {}
    for m in metrics:
        if m.value is None or not (m.name or "").strip():
            continue
        key = (m.kind, m.name.strip())
        entry = grouped.setdefault(key, {"values": [], "unit": (m.unit or "").strip() or None})
        entry["values"].append(float(m.value))
    return {key: {"value": _mean(e["values"]), "unit": e["unit"], "n": len(e["values"])}
            for key, e in grouped.items()}


def compare_metrics(before, after) -> list[dict]:
    """Rows {kind, name, unit, before, after, change} for every figure on either side, in the order of
    METRIC_KINDS then name. `before`/`after` are lists of Metric-like objects."""
    b, a = metric_values(before), metric_values(after)
    order = {kind: i for i, kind in enumerate(METRIC_KINDS)}
    rows = []
    for key in sorted(set(b) | set(a), key=lambda k: (order.get(k[0], len(order)), k[0], k[1])):
        old, new = b.get(key), a.get(key)
        units = {e["unit"] for e in (old, new) if e and e["unit"]}
        same_unit = len(units) <= 1
        rows.append({
            "kind": key[0], "name": key[1],
            "unit": (new or old)["unit"] if same_unit else " → ".join([old["unit"] or "", new["unit"] or ""]),
            "before": old["value"] if old else None,
            "after": new["value"] if new else None,
            "change": change(old["value"], new["value"]) if old and new and same_unit else None,
        })
    return rows


# ---- findings ------------------------------------------------------------------------------------

def summarise_findings(findings) -> dict:
    """{count, by_severity: {severity: n}, repeats, repeat_rate (percent, None without findings)} of
    Finding-like objects (severity, repeat_of_id)."""
    findings = list(findings)
    by_severity = dict.fromkeys(SEVERITIES, 0)
    repeats = 0
    for f in findings:
        by_severity[f.severity] = by_severity.get(f.severity, 0) + 1
        repeats += f.repeat_of_id is not None
    count = len(findings)
    return {"count": count, "by_severity": by_severity, "repeats": repeats,
            "repeat_rate": round(100 * repeats / count, 1) if count else None}


def compare_findings(before: dict | None, after: dict) -> list[dict]:
    """Rows {measure, severity, before, after, change}: count, one per severity, repeats, repeat rate.
    `before` is None when there is nothing to compare with."""
    def row(measure, pick, severity=None):
        old = pick(before) if before is not None else None
        new = pick(after)
        return {"measure": measure, "severity": severity, "before": old, "after": new, "change": change(old, new)}

    rows = [row("count", lambda s: s["count"])]
    rows += [row("severity", lambda s, sev=sev: s["by_severity"].get(sev, 0), sev) for sev in SEVERITIES]
    rows.append(row("repeats", lambda s: s["repeats"]))
    rows.append(row("repeat_rate", lambda s: s["repeat_rate"]))
    return rows


# ---- checklist scores ----------------------------------------------------------------------------

def mean_scores(score_dicts) -> dict:
    """The mean per area (and overall) of several score_by_area() results, ignoring missing values."""
    score_dicts = list(score_dicts)
    keys = (*AREAS, "overall")
    return {k: (round(m, 1) if (m := _mean([s.get(k) for s in score_dicts])) is not None else None) for k in keys}


def compare_scores(before: dict | None, after: dict | None) -> list[dict]:
    """Rows {area, before, after, change} for each content area, then "overall"."""
    before, after = before or {}, after or {}
    return [{"area": k, "before": before.get(k), "after": after.get(k),
             "change": change(before.get(k), after.get(k))} for k in (*AREAS, "overall")]


# ---- which visits and which dates ----------------------------------------------------------------

def reference_time(visit) -> datetime | None:
    """When a visit took place, for ordering: completed, else started; None for a visit not begun."""
    return visit.completed_at or visit.started_at


def previous_visit(visit, candidates):
    """The most recent completed visit at the same site that finished before `visit` took place (any
    completed earlier visit when `visit` has not begun); None when there is none."""
    ref = reference_time(visit)
    earlier = [c for c in candidates
               if c.id != visit.id and c.site_id == visit.site_id and c.status == "completed"
               and getattr(c, "deleted_at", None) is None and c.completed_at is not None
               and (ref is None or c.completed_at < ref)]
    return max(earlier, key=lambda c: (c.completed_at, str(c.id)), default=None)


def visit_window(visit, findings, tz) -> tuple[date | None, date | None]:
    """The local days that hold a visit's findings (for a link to the findings list): first to last
    finding, else the day of the visit."""
    days = sorted(local_date(f.captured_at, tz) for f in findings if f.captured_at)
    if days:
        return days[0], days[-1]
    moment = reference_time(visit)
    day = local_date(moment, tz) if moment else visit.scheduled_for
    return day, day


def previous_window(start: date, end: date, period_type: str | None = None) -> tuple[date, date]:
    """The period before [start, end] (inclusive days) of the same length: the previous calendar
    month/quarter/year when [start, end] is exactly one, else the same number of days just before."""
    kind = PERIOD_KIND.get(period_type or "")
    if kind:
        period = period_containing(start, kind)
        if period.start == start and period.end == end + timedelta(days=1):
            prev = period.previous()
            return prev.start, prev.end - timedelta(days=1)
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)
