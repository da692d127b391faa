"""Check the properties a pack declares in ``properties.yaml`` with Hypothesis.

A violation is reported with the *shrunk* counterexample Hypothesis finds: the smallest
case it could reach that still breaks the property.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings

from refundrules._case import Case, Evidence
from refundrules._conditions import holds
from refundrules._loader import CheckedProperty
from refundrules._prediction import Prediction
from refundrules._profile import PlatformProfile
from refundrules._rulepack import RulePack
from refundrules._strategies import evaluations

__all__ = ["PropertyResult", "PropertyViolation", "check_pack_properties", "check_property"]


class PropertyViolation(AssertionError):
    """A declared property failed on ``case`` at ``as_of``."""

    def __init__(self, message: str, case: Case, as_of: datetime) -> None:
        super().__init__(message)
        self.message = message
        self.case = case
        self.as_of = as_of


@dataclass(frozen=True)
class PropertyResult:
    """One declared property checked on ``examples`` covered cases; ``violation`` holds the
    shrunk counterexample when it failed."""

    prop: CheckedProperty
    examples: int
    violation: PropertyViolation | None

    @property
    def passed(self) -> bool:
        return self.violation is None

    @property
    def name(self) -> str:
        return self.prop.spec.id

    def report(self) -> str:
        head = f"{self.prop.path}:{self.prop.line}: property {self.name!r}"
        if self.violation is None:
            return f"{head}: held on {self.examples} generated cases"
        case_yaml = yaml.safe_dump(
            self.violation.case.model_dump(mode="json", exclude_defaults=True),
            allow_unicode=True,
            sort_keys=False,
        )
        return (
            f"{head} failed: {self.prop.spec.description}\n"
            f"  {self.violation.message}\n"
            f"  shrunk counterexample (as_of {self.violation.as_of.isoformat()}):\n"
            + "\n".join(f"    {line}" for line in case_yaml.splitlines())
        )


def _summary(prediction: Prediction) -> str:
    deciders = [reason.rule_id for reason in prediction.reasons if reason.role == "decided"]
    return (
        f"stage {prediction.stage.value}, resolution {prediction.resolution.outcome.value} "
        f"by {prediction.resolution.decided_by} (deciding rules: {', '.join(deciders)})"
    )


def _expectation_problem(prop: CheckedProperty, prediction: Prediction) -> str | None:
    expect = prop.spec.expect
    assert expect is not None
    outcome = prediction.resolution.outcome
    checks: list[tuple[str, Any, Any]] = [
        ("resolution", expect.resolution, outcome),
        ("stage", expect.stage, prediction.stage),
        ("decided_by", expect.decided_by, prediction.resolution.decided_by),
    ]
    for label, allowed, actual in checks:
        if allowed is not None and actual not in allowed:
            wanted = ", ".join(str(item) for item in allowed)
            return f"expected {label} in [{wanted}]; predicted {_summary(prediction)}"
    if expect.not_resolution is not None and outcome in expect.not_resolution:
        return f"resolution {outcome.value} is excluded; predicted {_summary(prediction)}"
    consequences = prediction.seller_consequences
    added = {change.metric: change.added for change in consequences.metrics}
    for metric, ceiling in sorted((expect.max_metric_added or {}).items()):
        if added.get(metric, 0.0) > ceiling:
            return (
                f"expected at most +{ceiling:g} {metric}; predicted "
                f"+{added[metric]:g} ({_summary(prediction)})"
            )
    if expect.dispute_record is not None and consequences.dispute_record != expect.dispute_record:
        return (
            f"expected dispute record {expect.dispute_record}; predicted "
            f"{consequences.dispute_record} ({_summary(prediction)})"
        )
    return None


def _changed(prop: CheckedProperty, case: Case, profile: PlatformProfile) -> Case:
    change = prop.spec.change
    assert change is not None
    added = Evidence(party=change.add_evidence.party, kind=change.add_evidence.kind)
    return Case.model_validate(
        {
            **case.model_dump(mode="json"),
            "evidence": [
                *(item.model_dump(mode="json") for item in case.evidence),
                added.model_dump(mode="json"),
            ],
        },
        context={"profile": profile},
    )


def _transition_problem(
    pack: RulePack, prop: CheckedProperty, case: Case, as_of: datetime, before: Prediction
) -> str | None:
    after = pack.predict(_changed(prop, case, pack.profile), as_of)
    old, new = before.resolution.outcome, after.resolution.outcome
    for forbidden in prop.spec.forbid:
        if old in forbidden.from_ and new in forbidden.to:
            change = prop.spec.change
            assert change is not None
            added = change.add_evidence
            return (
                f"adding {added.party} evidence '{added.kind}' moved the resolution "
                f"{old.value} -> {new.value}; before: {_summary(before)}; after: {_summary(after)}"
            )
    return None


def check_property(
    pack: RulePack, prop: CheckedProperty, *, max_examples: int = 200
) -> PropertyResult:
    """Check one declared property on ``max_examples`` generated cases (reproducibly)."""
    counted = {"examples": 0}

    @settings(
        max_examples=max_examples,
        database=None,
        derandomize=True,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(evaluations(pack, **prop.spec.given))
    def run(evaluation: tuple[Case, datetime]) -> None:
        case, as_of = evaluation
        version = pack.version_for(case)
        if prop.spec.versions and version.version not in prop.spec.versions:
            return
        condition = prop.conditions[version.version]
        if condition is not None and not holds(condition, version.facts(case, as_of)):
            return
        counted["examples"] += 1
        prediction = pack.predict(case, as_of)
        if prop.spec.expect is not None:
            problem = _expectation_problem(prop, prediction)
        else:
            problem = _transition_problem(pack, prop, case, as_of, prediction)
        if problem is not None:
            raise PropertyViolation(problem, case, as_of)

    try:
        run()
    except PropertyViolation as violation:
        return PropertyResult(prop, counted["examples"], violation)
    return PropertyResult(prop, counted["examples"], None)


def check_pack_properties(pack: RulePack, *, max_examples: int = 200) -> list[PropertyResult]:
    """Check every property the pack declares."""
    return [check_property(pack, prop, max_examples=max_examples) for prop in pack.properties]
