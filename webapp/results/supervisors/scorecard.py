"""A supervisor's scorecard for one period (督导人员考核, policy 六): pure functions over records that
were queried already (or made by hand in tests). Each figure keeps its numerator and denominator so
the page can show the formula next to the value and link to the records behind it.

Which records count, for supervisor S and period P (local calendar days, Asia/Shanghai by default):
- plan completion: S's visits from a plan (plan_id set) scheduled for a day in P;
  completed / planned (webapp/plans/progress.py);
- problems found: S's findings captured in P; resolved: those of them now closed;
- first-round acceptance: rectifications of S's findings accepted in P; accepted on the first round /
  accepted (webapp/rectification/outcomes.py);
- recurrence: S's findings captured in P that repeat an earlier problem (repeat_of_id set) / found;
- satisfaction: mean 1–5 rating that department heads gave S's visits completed in P;
- agreement with peers (calibration): of the checklist items S and a peer both judged in blind
  double inspections completed in P, those judged the same / compared (webapp/results/calibration);
  shown as a KPI, not part of the overall score.
A figure without data (nothing planned, nothing found, nothing accepted, no rating) is None, shown "—",
and is left out of the overall score, whose weights are then renormalised to sum to 1."""

from dataclasses import dataclass, field
from datetime import date, tzinfo

from webapp.core.clock import company_today
from webapp.plans.progress import Progress, plan_progress
from webapp.rectification.outcomes import accepted_first_round
from webapp.results.calibration.agreement import Agreement
from webapp.results.periods import Period, local_date

# Weights of the overall score (each component is first put on a 0..1 scale, higher is better).
WEIGHTS = {
    "completion": 0.30,  # plan completion rate
    "resolution": 0.20,  # resolved / found
    "first_round": 0.20,  # first-round acceptance rate
    "recurrence": 0.15,  # 1 − recurrence rate
    "satisfaction": 0.15,  # mean rating / 5
}
# For the previous-period arrows: does a rise mean better (+1) or worse (−1)?
DIRECTION = {"completion": 1, "found": 0, "resolved": 1, "resolution": 1, "first_round": 1,
             "recurrence": -1, "satisfaction": 1, "overall": 1, "agreement": 1}


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass
class Scorecard:
    period: Period
    progress: Progress
    found: list = field(default_factory=list)
    resolved: list = field(default_factory=list)
    accepted: list = field(default_factory=list)  # rectifications accepted in the period
    first_round: list = field(default_factory=list)
    repeats: list = field(default_factory=list)
    ratings: list = field(default_factory=list)
    planned_visits: list = field(default_factory=list)
    agreement: Agreement = field(default_factory=Agreement)  # calibration: agreement with peers

    @property
    def completion(self) -> Ratio:
        return Ratio(self.progress.done, self.progress.planned)

    @property
    def resolution(self) -> Ratio:
        return Ratio(len(self.resolved), len(self.found))

    @property
    def first_round_rate(self) -> Ratio:
        return Ratio(len(self.first_round), len(self.accepted))

    @property
    def recurrence(self) -> Ratio:
        return Ratio(len(self.repeats), len(self.found))

    @property
    def satisfaction(self) -> float | None:
        return mean_score(self.ratings)

    @property
    def teamwork_notes(self) -> list:
        return [r for r in self.ratings if (r.teamwork_note or "").strip()]

    def components(self) -> dict[str, float | None]:
        """Each weighted component on a 0..1 scale (higher is better); None when it has no data."""
        recurrence = self.recurrence.value
        satisfaction = self.satisfaction
        return {
            "completion": self.completion.value,
            "resolution": self.resolution.value,
            "first_round": self.first_round_rate.value,
            "recurrence": None if recurrence is None else 1 - recurrence,
            "satisfaction": None if satisfaction is None else satisfaction / 5,
        }

    def overall(self) -> tuple[float | None, dict[str, float]]:
        return overall_score(self.components())

    def figures(self) -> dict[str, float | None]:
        """The headline numbers, for the previous-period comparison and the ranking."""
        return {
            "completion": self.completion.value, "found": len(self.found), "resolved": len(self.resolved),
            "resolution": self.resolution.value, "first_round": self.first_round_rate.value,
            "recurrence": self.recurrence.value, "satisfaction": self.satisfaction,
            "overall": self.overall()[0], "agreement": self.agreement.rate,
        }


def in_period(moment, period: Period, tz: tzinfo | str) -> bool:
    """An aware (or naive-UTC) timestamp falls in the period as a local calendar day."""
    return moment is not None and period.contains(local_date(moment, tz))


def _live(records):
    return [r for r in records if getattr(r, "deleted_at", None) is None]


def planned_visits(visits, period: Period) -> list:
    """Visits from a plan whose scheduled day is in the period (ad-hoc visits are not planned)."""
    return [v for v in _live(visits)
            if v.plan_id is not None and v.scheduled_for is not None and period.contains(v.scheduled_for)]


def found_in(findings, period: Period, tz) -> list:
    return [f for f in _live(findings) if in_period(f.captured_at, period, tz)]


def accepted_in(rectifications, period: Period, tz) -> list:
    return [r for r in rectifications if r.status == "accepted" and in_period(r.accepted_at, period, tz)]


def rated_in(ratings, period: Period, tz) -> list:
    """Ratings of visits completed in the period (the visit is `rating.visit`)."""
    return [r for r in ratings if r.visit is not None and getattr(r.visit, "deleted_at", None) is None
            and r.visit.status == "completed" and in_period(r.visit.completed_at, period, tz)]


def mean_score(ratings) -> float | None:
    return sum(r.score for r in ratings) / len(ratings) if ratings else None


def overall_score(components: dict[str, float | None], weights: dict[str, float] = WEIGHTS
                  ) -> tuple[float | None, dict[str, float]]:
    """Weighted mean on 0..100 of the components that have data; returns it and the weights used
    (renormalised to sum to 1). No component with data → (None, {})."""
    present = {k: w for k, w in weights.items() if components.get(k) is not None and w > 0}
    total = sum(present.values())
    if not total:
        return None, {}
    used = {k: w / total for k, w in present.items()}
    return 100 * sum(components[k] * w for k, w in used.items()), used


def compute_scorecard(period: Period, tz, *, visits=(), findings=(), rectifications=(), ratings=(),
                      today: date | None = None) -> Scorecard:
    """The scorecard of one supervisor from their records (any superset: the period is applied here)."""
    found = found_in(findings, period, tz)
    accepted = accepted_in(rectifications, period, tz)
    return _scorecard(period, tz, visits, ratings, today, found=found,
                      resolved=[f for f in found if f.status == "closed"],
                      repeats=[f for f in found if f.repeat_of_id is not None], accepted=accepted,
                      first_round=[r for r in accepted if accepted_first_round(r)])


@dataclass(frozen=True)
class Counted:
    """Records the database counted and did not list (the ranking): as many as `n` for len()."""
    n: int

    def __len__(self) -> int:
        return self.n


def counted_scorecard(period: Period, tz, *, found: int, resolved: int, repeats: int, accepted: int,
                      first_round: int, visits=(), ratings=(), today: date | None = None) -> Scorecard:
    """`compute_scorecard` for the ranking: the findings (found in the period, of them closed, of them
    repeats) and the rectifications (accepted in the period, of them on the first round) counted by
    the database under the same rules; the visits and ratings, few, as records."""
    return _scorecard(period, tz, visits, ratings, today, found=Counted(found), resolved=Counted(resolved),
                      repeats=Counted(repeats), accepted=Counted(accepted), first_round=Counted(first_round))


def _scorecard(period: Period, tz, visits, ratings, today: date | None, **found_and_accepted) -> Scorecard:
    """A scorecard from the findings and rectifications of the period (listed or counted) and the
    supervisor's visits and ratings, whose period is applied here."""
    planned = planned_visits(visits, period)
    return Scorecard(period=period, progress=plan_progress(planned, today or company_today()), planned_visits=planned,
                     ratings=rated_in(ratings, period, tz), **found_and_accepted)


def trend(current: float | None, previous: float | None, direction: int) -> dict | None:
    """Compared with the previous period: arrow ↑ ↓ →, and whether that is better, worse or neutral."""
    if current is None or previous is None:
        return None
    if abs(current - previous) < 1e-9:
        return {"arrow": "→", "sense": "same", "delta": 0.0}
    up = current > previous
    sense = "neutral" if direction == 0 else ("better" if up == (direction > 0) else "worse")
    return {"arrow": "↑" if up else "↓", "sense": sense, "delta": current - previous}


def trends(current: Scorecard, previous: Scorecard) -> dict[str, dict | None]:
    now, before = current.figures(), previous.figures()
    return {k: trend(now[k], before[k], DIRECTION[k]) for k in now}


def rank(cards: dict[str, Scorecard]) -> list[tuple[str, Scorecard]]:
    """Supervisors by overall score, best first; those without a score last (by id for stability)."""
    def key(item):
        score = item[1].overall()[0]
        return (score is None, -(score or 0), item[0])
    return sorted(cards.items(), key=key)
