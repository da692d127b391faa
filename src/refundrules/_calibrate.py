"""Calibration: predict each published outcome and compare with what the platform decided.

:func:`calibrate` gives accuracy on the tuning records and, separately, on the records set
aside (``holdout: true``): fine (the outcome class) and coarse (money back or not), a
confusion matrix and every miss with its deciding rule and the facts that decided it.
:func:`likelihood_table` counts, per deciding rule, how the tuning records it decides ended:
the basis of every prediction's ``likelihood`` (counts, never invented probabilities).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from refundrules._case import Case
from refundrules._outcomes import LoadedOutcome, OutcomeClass
from refundrules._pack_model import PackManifest
from refundrules._prediction import OutcomeLikelihood, PredictedResolution, Prediction
from refundrules._profile import PlatformProfile, ResolutionPolicy
from refundrules.exceptions import RefundRulesError

__all__ = [
    "CalibrationReport",
    "CalibrationResult",
    "CalibrationSplit",
    "calibrate",
    "classify",
    "classify_resolution",
    "likelihood_for",
    "likelihood_table",
    "wilson_interval",
]


class PackUnderCalibration(Protocol):
    """What calibration needs of a pack family (a :class:`refundrules.RulePack`)."""

    @property
    def id(self) -> str: ...

    @property
    def profile(self) -> PlatformProfile: ...

    @property
    def manifest(self) -> PackManifest: ...

    @property
    def outcomes(self) -> tuple[LoadedOutcome, ...]: ...

    def predict(
        self,
        case: Case,
        as_of: datetime | None = None,
        *,
        version: str | None = None,
        likelihood: bool = True,
    ) -> Prediction: ...


# Fewer records than this decided by a rule: the likelihood says the evidence is thin.
THIN_EVIDENCE = 5


def classify(prediction: Prediction, policy: ResolutionPolicy, paid: Any) -> OutcomeClass:
    """The outcome class of a prediction: rejected if no money goes back, a refund on timeout
    if the system decides, return and refund if the goods go back, else a full or partial
    refund without return by the refund against the ``paid`` amount."""
    return classify_resolution(prediction.resolution, policy, paid)


def classify_resolution(
    resolution: PredictedResolution, policy: ResolutionPolicy, paid: Any
) -> OutcomeClass:
    """:func:`classify` from the predicted resolution alone (all it reads)."""
    if resolution.outcome in policy.no_money_back or resolution.refund_amount <= 0:
        return OutcomeClass.REJECTED
    if resolution.decided_by == "system":
        return OutcomeClass.REFUND_ON_TIMEOUT
    if resolution.outcome in policy.goods_go_back:
        return OutcomeClass.RETURN_AND_REFUND
    if resolution.refund_amount < paid:
        return OutcomeClass.PARTIAL_REFUND_WITHOUT_RETURN
    return OutcomeClass.FULL_REFUND_WITHOUT_RETURN


@dataclass(frozen=True)
class CalibrationResult:
    """One published outcome against its prediction (``predicted`` None if it could not be
    predicted, with ``problem`` saying why)."""

    outcome: LoadedOutcome
    predicted: OutcomeClass | None
    rule_id: str | None
    facts: Mapping[str, bool | float | str]
    problem: str | None = None

    @property
    def expected(self) -> OutcomeClass:
        return self.outcome.expected

    @property
    def platform(self) -> str:
        """The platform the case is on (a pack that also serves other platforms, e.g. the
        Taobao family for Tmall, is measured on each)."""
        return self.outcome.case.platform

    @property
    def fine_hit(self) -> bool:
        return self.predicted is self.expected

    @property
    def coarse_hit(self) -> bool:
        return self.predicted is not None and self.predicted.money_back == self.expected.money_back

    def to_dict(self) -> dict[str, Any]:
        record = self.outcome.record
        return {
            "id": record.id,
            "platform": record.platform,
            "expected": self.expected.value,
            "predicted": self.predicted.value if self.predicted else None,
            "rule_id": self.rule_id,
            "facts": dict(self.facts),
            "problem": self.problem,
            "source": str(record.source.url),
            "location": f"{self.outcome.path}:{self.outcome.line}",
        }


@dataclass(frozen=True)
class CalibrationSplit:
    """Accuracy over one set of records (the tuning ones or the ones set aside)."""

    name: str
    results: tuple[CalibrationResult, ...]

    @property
    def predicted(self) -> tuple[CalibrationResult, ...]:
        return tuple(result for result in self.results if result.predicted is not None)

    @property
    def total(self) -> int:
        return len(self.predicted)

    @property
    def fine_correct(self) -> int:
        return sum(result.fine_hit for result in self.predicted)

    @property
    def coarse_correct(self) -> int:
        return sum(result.coarse_hit for result in self.predicted)

    @property
    def fine_accuracy(self) -> float:
        return self.fine_correct / self.total if self.total else 0.0

    @property
    def coarse_accuracy(self) -> float:
        return self.coarse_correct / self.total if self.total else 0.0

    @property
    def always_money_back(self) -> float:
        """The accuracy of always answering "the buyer gets money back" (the coarse baseline)."""
        if not self.total:
            return 0.0
        return sum(result.expected.money_back for result in self.predicted) / self.total

    @property
    def confusion(self) -> dict[tuple[str, str], int]:
        """(expected class, predicted class) -> records."""
        found: Counter[tuple[str, str]] = Counter()
        for result in self.predicted:
            assert result.predicted is not None
            found[(result.expected.value, result.predicted.value)] += 1
        return dict(sorted(found.items()))

    @property
    def misses(self) -> tuple[CalibrationResult, ...]:
        return tuple(result for result in self.predicted if not result.fine_hit)

    @property
    def unpredictable(self) -> tuple[CalibrationResult, ...]:
        return tuple(result for result in self.results if result.predicted is None)

    def summary(self) -> dict[str, Any]:
        """The counts and accuracies without the confusion matrix and the misses."""
        return {
            "records": self.total,
            "fine_correct": self.fine_correct,
            "fine_accuracy": round(self.fine_accuracy, 4),
            "coarse_correct": self.coarse_correct,
            "coarse_accuracy": round(self.coarse_accuracy, 4),
            "not_predicted": len(self.unpredictable),
        }

    def of_platform(self, platform: str) -> CalibrationSplit:
        """The records of this split whose case is on ``platform``."""
        return CalibrationSplit(
            self.name,
            tuple(result for result in self.results if result.platform == platform),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.total,
            "fine_correct": self.fine_correct,
            "fine_accuracy": round(self.fine_accuracy, 4),
            "coarse_correct": self.coarse_correct,
            "coarse_accuracy": round(self.coarse_accuracy, 4),
            "always_money_back_accuracy": round(self.always_money_back, 4),
            "confusion": [
                {"expected": expected, "predicted": predicted, "records": count}
                for (expected, predicted), count in self.confusion.items()
            ],
            "misses": [result.to_dict() for result in self.misses],
            "not_predicted": [result.to_dict() for result in self.unpredictable],
        }


@dataclass(frozen=True)
class CalibrationReport:
    """A pack family against its published outcomes. ``passed`` compares the tuning records'
    fine accuracy with the floor the pack declares (``calibration:`` in ``pack.yaml``)."""

    pack_id: str
    tuning: CalibrationSplit
    held_aside: CalibrationSplit
    fine_floor: float | None
    coarse_floor: float | None
    notes: tuple[str, ...] = field(default=())
    served: tuple[str, ...] = field(default=())
    """The platforms the pack serves, its own first (orders ``by_platform``)."""

    @property
    def platforms(self) -> tuple[str, ...]:
        """The platforms the records' cases are on: those of ``served`` first (the pack's
        own platform, then the ones it also serves), then any other by first appearance."""
        seen = [
            result.platform for split in (self.tuning, self.held_aside) for result in split.results
        ]
        return tuple(dict.fromkeys([*(name for name in self.served if name in seen), *seen]))

    @property
    def by_platform(self) -> dict[str, tuple[CalibrationSplit, CalibrationSplit]]:
        """The tuning and held-aside records of each platform served, by platform."""
        return {
            platform: (self.tuning.of_platform(platform), self.held_aside.of_platform(platform))
            for platform in self.platforms
        }

    @property
    def passed(self) -> bool:
        fine_ok = self.fine_floor is None or self.tuning.fine_accuracy >= self.fine_floor
        coarse_ok = self.coarse_floor is None or self.tuning.coarse_accuracy >= self.coarse_floor
        return fine_ok and coarse_ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack_id,
            "passed": self.passed,
            "floors": {"fine": self.fine_floor, "coarse": self.coarse_floor},
            "tuning": self.tuning.to_dict(),
            "held_aside": self.held_aside.to_dict(),
            "by_platform": {
                platform: {"tuning": tuning.summary(), "held_aside": held.summary()}
                for platform, (tuning, held) in self.by_platform.items()
            },
        }

    def to_text(self) -> str:
        lines = [f"calibrate {self.pack_id}: {self.tuning.total + self.held_aside.total} records"]
        for split in (self.tuning, self.held_aside):
            lines.append(
                f"  {split.name:<10} {split.total:>3} records  fine {_share(split.fine_correct, split.total)}"
                f"  coarse {_share(split.coarse_correct, split.total)}"
                f"  (always 'money back': {split.always_money_back:.0%})"
            )
        if self.fine_floor is not None or self.coarse_floor is not None:
            floors = []
            if self.fine_floor is not None:
                floors.append(f"fine ≥ {self.fine_floor:.0%}")
            if self.coarse_floor is not None:
                floors.append(f"coarse ≥ {self.coarse_floor:.0%}")
            verdict = "met" if self.passed else "NOT met"
            lines.append(f"  floor on the tuning records ({', '.join(floors)}): {verdict}")
        if len(self.platforms) > 1:
            lines.append("by platform served:")
            width = max(len(platform) for platform in self.platforms)
            for platform, splits in self.by_platform.items():
                for index, split in enumerate(splits):
                    label = platform if index == 0 else ""
                    lines.append(
                        f"  {label:<{width}}  {split.name:<10} {split.total:>3} records"
                        f"  fine {_share(split.fine_correct, split.total)}"
                        f"  coarse {_share(split.coarse_correct, split.total)}"
                        + (
                            f"  ({len(split.unpredictable)} not predicted)"
                            if split.unpredictable
                            else ""
                        )
                    )
        for split in (self.tuning, self.held_aside):
            if not split.total:
                continue
            lines.append(f"confusion ({split.name}; rows expected, columns predicted):")
            lines.extend(_confusion_lines(split))
        for split in (self.tuning, self.held_aside):
            for result in split.misses:
                lines.append(
                    f"miss ({split.name}) {result.outcome.id}: expected {result.expected.value}, "
                    f"predicted {result.predicted.value if result.predicted else '-'} "
                    f"by {result.rule_id}"
                )
                shown = ", ".join(f"{name}={_show(value)}" for name, value in result.facts.items())
                lines.append(f"    facts: {shown or '-'}")
                lines.append(f"    {result.outcome.path}:{result.outcome.line}")
            for result in split.unpredictable:
                lines.append(f"not predicted ({split.name}) {result.outcome.id}: {result.problem}")
        lines.extend(self.notes)
        return "\n".join(lines)


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.1%}" if whole else "0/0"


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _confusion_lines(split: CalibrationSplit) -> list[str]:
    classes = [item.value for item in OutcomeClass]
    short = {
        "full_refund_without_return": "full",
        "partial_refund_without_return": "partial",
        "return_and_refund": "return",
        "rejected": "rejected",
        "refund_on_timeout": "timeout",
    }
    matrix = split.confusion
    header = "  " + " " * 10 + "".join(f"{short[name]:>9}" for name in classes)
    rows = [header]
    for expected in classes:
        counts = [matrix.get((expected, predicted), 0) for predicted in classes]
        if any(counts):
            rows.append(f"  {short[expected]:<10}" + "".join(f"{count:>9}" for count in counts))
    return rows


def _deciding_facts(
    pack: PackUnderCalibration, prediction: Prediction
) -> dict[str, bool | float | str]:
    for reason in prediction.reasons:
        if reason.role == "decided":
            return dict(reason.facts)
    return {}


def predict_outcome(pack: PackUnderCalibration, outcome: LoadedOutcome) -> CalibrationResult:
    """Predict one published outcome's case at its ``as_of`` (without likelihoods)."""
    try:
        prediction = pack.predict(outcome.case, outcome.record.as_of, likelihood=False)
    except RefundRulesError as exc:
        return CalibrationResult(outcome, None, None, {}, problem=str(exc))
    predicted = classify(prediction, pack.profile.policy, outcome.case.order.paid_amount)
    return CalibrationResult(
        outcome,
        predicted,
        prediction.resolution.rule_id,
        _deciding_facts(pack, prediction),
    )


def calibrate(
    pack: PackUnderCalibration, *, progress: Callable[[int], object] | None = None
) -> CalibrationReport:
    """Measure ``pack`` against its published outcomes (``outcomes/*.yaml``).

    >>> from refundrules import load_rule_pack
    >>> report = calibrate(load_rule_pack("pinduoduo"))
    >>> report.tuning.total > 0 and report.held_aside.total > 0
    True
    """
    results = []
    for outcome in pack.outcomes:
        results.append(predict_outcome(pack, outcome))
        if progress is not None:
            progress(1)
    tuning = tuple(result for result in results if not result.outcome.record.holdout)
    held = tuple(result for result in results if result.outcome.record.holdout)
    floors = pack.manifest.calibration
    return CalibrationReport(
        pack_id=pack.id,
        tuning=CalibrationSplit("tuning", tuning),
        held_aside=CalibrationSplit("held-aside", held),
        fine_floor=floors.fine_accuracy if floors else None,
        coarse_floor=floors.coarse_accuracy if floors else None,
        served=pack.profile.served_platforms,
    )


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) for ``successes`` out of ``trials``.

    >>> low, high = wilson_interval(9, 12)
    >>> round(low, 2), round(high, 2)
    (0.47, 0.91)
    """
    if trials <= 0:
        return (0.0, 1.0)
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    spread /= denominator
    return (max(0.0, centre - spread), min(1.0, centre + spread))


def likelihood_table(results: Iterable[CalibrationResult]) -> dict[str, Counter[str]]:
    """Deciding rule id -> how the tuning records it decides ended (class -> records)."""
    table: dict[str, Counter[str]] = {}
    for result in results:
        if result.rule_id is None or result.outcome.record.holdout:
            continue
        table.setdefault(result.rule_id, Counter())[result.expected.value] += 1
    return table


def likelihood_for(
    table: Mapping[str, Counter[str]], rule_id: str, predicted: OutcomeClass
) -> OutcomeLikelihood:
    """How often ``rule_id``'s outcome held in the published records it decides."""
    counts = table.get(rule_id, Counter())
    records = sum(counts.values())
    held = counts.get(predicted.value, 0)
    low, high = wilson_interval(held, records)
    thin = records < THIN_EVIDENCE
    ordered = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    if records == 0:
        text = f"no published dispute in this pack's records was decided by {rule_id}"
        text_zh = f"本规则包公开的纠纷记录中没有由 {rule_id} 决定的"
    else:
        others = "; ".join(
            f"{count} in {name.replace('_', ' ')}"
            for name, count in ordered.items()
            if name != predicted.value
        )
        others_zh = "；".join(
            f"{count} 件为 {name}" for name, count in ordered.items() if name != predicted.value
        )
        text = (
            f"{held} of {records} published disputes decided by this rule ended in "
            f"{predicted.value.replace('_', ' ')}"
            + (f"; {others}" if others else "")
            + f" (95 % interval {low:.0%}–{high:.0%})"
        )
        text_zh = (
            f"由本规则决定的 {records} 件公开纠纷中，{held} 件结果为 {predicted.value}"
            + (f"；{others_zh}" if others_zh else "")
            + f"（95% 区间 {low:.0%}–{high:.0%}）"
        )
        if thin:
            text += f"; fewer than {THIN_EVIDENCE} records: the evidence is thin"
            text_zh += f"；记录少于 {THIN_EVIDENCE} 件，依据不足"
    return OutcomeLikelihood(
        rule_id=rule_id,
        predicted_class=predicted.value,
        records=records,
        held=held,
        counts=ordered,
        interval=(round(low, 4), round(high, 4)),
        thin=thin,
        text=text,
        texts={"en": text, "zh": text_zh},
    )
