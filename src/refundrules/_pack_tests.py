"""Run the example cases a pack ships in ``tests/*.yaml`` and compare with their expectations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from refundrules._loader import LoadedTest
from refundrules._pack_model import PropertyExpectation
from refundrules._prediction import Prediction
from refundrules._rulepack import RulePack
from refundrules.exceptions import RefundRulesError

__all__ = [
    "PackTestResult",
    "check_expectations",
    "expectation_problem",
    "prediction_summary",
    "run_pack_test",
    "run_pack_tests",
]


@dataclass(frozen=True)
class PackTestResult:
    """One pack test's outcome: ``mismatches`` is empty when it passed."""

    test: LoadedTest
    prediction: Prediction | None
    mismatches: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.mismatches

    @property
    def name(self) -> str:
        return self.test.spec.name

    @property
    def location(self) -> str:
        return f"{self.test.path}:{self.test.line}" if self.test.line else self.test.path

    def report(self) -> str:
        """A readable failure: expected vs predicted, and the rules that fired."""
        lines = [f"{self.location}: pack test {self.name!r}"]
        lines += [f"  - {mismatch}" for mismatch in self.mismatches]
        if self.prediction is not None:
            lines.append(f"  rules fired: {', '.join(self.prediction.fired_rules) or 'none'}")
            for reason in self.prediction.reasons:
                lines.append(f"    [{reason.role}] {reason.rule_id}: {reason.because}")
        return "\n".join(lines)


def _show(value: object) -> str:
    if isinstance(value, Enum):
        return repr(value.value)
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return repr(value)


def prediction_summary(prediction: Prediction) -> str:
    """Stage, resolution, who decides and the deciding rules, in one line."""
    deciders = [reason.rule_id for reason in prediction.reasons if reason.role == "decided"]
    return (
        f"stage {prediction.stage.value}, resolution {prediction.resolution.outcome.value} "
        f"by {prediction.resolution.decided_by} (deciding rules: {', '.join(deciders)})"
    )


def expectation_problem(expect: PropertyExpectation, prediction: Prediction) -> str | None:
    """How ``prediction`` breaks what a property (or a test's ``holds``) requires, if it does."""
    outcome = prediction.resolution.outcome
    checks: list[tuple[str, tuple[object, ...] | None, object]] = [
        ("resolution", expect.resolution, outcome),
        ("stage", expect.stage, prediction.stage),
        ("decided_by", expect.decided_by, prediction.resolution.decided_by),
    ]
    for label, allowed, actual in checks:
        if allowed is not None and actual not in allowed:
            wanted = ", ".join(str(item) for item in allowed)
            return f"expected {label} in [{wanted}]; predicted {prediction_summary(prediction)}"
    if expect.not_resolution is not None and outcome in expect.not_resolution:
        return f"resolution {outcome.value} is excluded; predicted {prediction_summary(prediction)}"
    consequences = prediction.seller_consequences
    added = {change.metric: change.added for change in consequences.metrics}
    for metric, ceiling in sorted((expect.max_metric_added or {}).items()):
        if added.get(metric, 0.0) > ceiling:
            return (
                f"expected at most +{ceiling:g} {metric}; predicted "
                f"+{added[metric]:g} ({prediction_summary(prediction)})"
            )
    if expect.dispute_record is not None and consequences.dispute_record != expect.dispute_record:
        return (
            f"expected dispute record {expect.dispute_record}; predicted "
            f"{consequences.dispute_record} ({prediction_summary(prediction)})"
        )
    return None


def check_expectations(test: LoadedTest, prediction: Prediction) -> list[str]:
    """Every way ``prediction`` differs from what ``test`` expects, as sentences."""
    expect = test.spec.expect
    found: list[str] = []

    def compare(label: str, expected: object, actual: object) -> None:
        if expected is not None and expected != actual:
            found.append(f"{label}: expected {_show(expected)}, predicted {_show(actual)}")

    resolution = prediction.resolution
    compare("stage", expect.stage, prediction.stage)
    compare("resolution", expect.resolution, resolution.outcome)
    if expect.refund_amount is not None:
        compare(
            "refund_amount",
            round(expect.refund_amount, 2),
            round(float(resolution.refund_amount), 2),
        )
    compare("return_shipping", expect.return_shipping, resolution.return_shipping_paid_by)
    compare("resolution_rule", expect.resolution_rule, resolution.rule_id)
    compare("pack_version", expect.pack_version, prediction.pack.version)
    consequences = prediction.seller_consequences
    if expect.metrics_added is not None:
        added = {change.metric: change.added for change in consequences.metrics}
        for metric, expected in sorted(expect.metrics_added.items()):
            compare(f"metrics_added.{metric}", expected, added.get(metric))
    compare("dispute_record", expect.dispute_record, consequences.dispute_record)
    if expect.sanctions is not None:
        compare(
            "sanctions",
            sorted(expect.sanctions),
            sorted(sanction.name for sanction in consequences.sanctions),
        )
    if expect.buyer_flags is not None:
        compare(
            "buyer_flags",
            sorted(expect.buyer_flags),
            sorted(flag.flag for flag in prediction.buyer_flags),
        )
    if expect.deadlines is not None:
        compare(
            "deadlines",
            sorted(expect.deadlines),
            sorted(deadline.id for deadline in prediction.deadlines),
        )
    fired = set(prediction.fired_rules)
    for rule_id in expect.fired:
        if rule_id not in fired:
            found.append(f"expected rule {rule_id!r} to fire; it did not")
    for rule_id in expect.not_fired:
        if rule_id in fired:
            found.append(f"expected rule {rule_id!r} not to fire; it did")
    actions = {action.action for action in prediction.recommended_actions}
    for action in expect.recommended:
        if action not in actions:
            found.append(f"expected recommended action {action!r}; got {sorted(actions)}")
    if expect.holds is not None:
        problem = expectation_problem(expect.holds, prediction)
        if problem is not None:
            found.append(f"holds: {problem}")
    return found


def run_pack_test(pack: RulePack, test: LoadedTest) -> PackTestResult:
    try:
        prediction = pack.predict(test.case, test.spec.as_of, version=test.spec.version)
    except (ValueError, RefundRulesError) as exc:
        return PackTestResult(test, None, (f"prediction failed: {exc}",))
    return PackTestResult(test, prediction, tuple(check_expectations(test, prediction)))


def run_pack_tests(
    pack: RulePack, *, progress: Callable[[int], object] | None = None
) -> list[PackTestResult]:
    """Run every test the pack ships, in file order."""
    results = []
    for test in pack.tests:
        results.append(run_pack_test(pack, test))
        if progress is not None:
            progress(1)
    return results


def untested_versions(pack: RulePack) -> list[str]:
    """The versions of the family that no pack test predicts under (each needs its own)."""
    tested = set()
    for test in pack.tests:
        if test.spec.version is not None:
            tested.add(test.spec.version)
        else:
            try:
                tested.add(pack.version_for(test.case).version)
            except RefundRulesError:
                continue
    return [version.version for version in pack.versions if version.version not in tested]
