"""Agreement between two inspectors of the same site (calibration): pure functions over answers
(anything with item_id, result, score) that were queried already.

An item counts when both visits answered it (a result, or a score for a points item) and, when the
pair names a sample, it is in the sample. Two answers agree when they give the same result (pass,
fail, not applicable) and, for a points item, the same score."""

from dataclasses import dataclass, field


def _answered(answer) -> bool:
    return answer is not None and (answer.result is not None or answer.score is not None)


def judgement(answer) -> tuple:
    return (answer.result, None if answer.score is None else round(float(answer.score), 2))


@dataclass
class Comparison:
    """One pair's items judged by both: item id → agreed?"""

    items: dict = field(default_factory=dict)

    @property
    def compared(self) -> int:
        return len(self.items)

    @property
    def agreed(self) -> int:
        return sum(1 for ok in self.items.values() if ok)


def compare_answers(first_answers, second_answers, sample: list | None = None) -> Comparison:
    """The items both answered (within the sample, if any), and whether they were judged the same."""
    first = {a.item_id: a for a in first_answers if getattr(a, "deleted_at", None) is None}
    second = {a.item_id: a for a in second_answers if getattr(a, "deleted_at", None) is None}
    wanted = set(sample) if sample else set(first) | set(second)
    out = Comparison()
    for item_id in sorted(wanted):
        a, b = first.get(item_id), second.get(item_id)
        if _answered(a) and _answered(b):
            out.items[item_id] = judgement(a) == judgement(b)
    return out


@dataclass
class Agreement:
    agreed: int = 0
    compared: int = 0
    pairs: int = 0

    @property
    def rate(self) -> float | None:
        """Share of compared items judged the same, 0..1; None when nothing was compared."""
        return self.agreed / self.compared if self.compared else None

    def add(self, comparison: Comparison) -> None:
        self.agreed += comparison.agreed
        self.compared += comparison.compared
        self.pairs += 1


def agreement_by_supervisor(pairs) -> dict[str, Agreement]:
    """`pairs`: (first supervisor id, second supervisor id, Comparison). Each inspector's agreement
    with their peers, over every pair they took part in."""
    out: dict[str, Agreement] = {}
    for first, second, comparison in pairs:
        for sid in {first, second}:
            out.setdefault(sid, Agreement()).add(comparison)
    return out


def agreement_by_item(comparisons, key=lambda item_id: item_id) -> dict:
    """Per checklist item (through `key`, e.g. the item's code, so that template revisions count as
    one item): how often the two inspectors judged it the same."""
    out: dict = {}
    for comparison in comparisons:
        for item_id, ok in comparison.items.items():
            a = out.setdefault(key(item_id), Agreement())
            a.compared += 1
            a.agreed += 1 if ok else 0
            a.pairs += 1
    return out


def lowest(by_item: dict, limit: int = 10, minimum: int = 1) -> list:
    """The items with the lowest agreement (criteria to clarify): (key, Agreement), worst first,
    items compared at least `minimum` times; more comparisons first among equal rates."""
    rows = [(k, a) for k, a in by_item.items() if a.compared >= minimum]
    rows.sort(key=lambda kv: (kv[1].rate, -kv[1].compared, str(kv[0])))
    return rows[:limit]
