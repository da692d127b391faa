"""Check the properties a pack declares in ``properties.yaml`` with Hypothesis.

A violation is reported with the *shrunk* counterexample Hypothesis finds: the smallest
case it could reach that still breaks the property.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

from refundrules._case import Case, Evidence
from refundrules._conditions import holds
from refundrules._loader import CheckedProperty
from refundrules._pack_tests import expectation_problem, prediction_summary
from refundrules._prediction import Prediction
from refundrules._profile import PlatformProfile
from refundrules._regression import entry_name, pack_test_entry
from refundrules._rulepack import RulePack
from refundrules._strategies import evaluations

__all__ = ["PropertyResult", "PropertyViolation", "check_pack_properties", "check_property"]


class PropertyViolation(AssertionError):
    """A declared property failed on ``case`` at ``as_of``.

    ``regression_case`` with ``holds`` is the pack test that would catch it again: the case
    (after the property's change, if it has one) and what the property requires of it.
    """

    def __init__(
        self,
        message: str,
        case: Case,
        as_of: datetime,
        *,
        regression_case: Case | None = None,
        holds: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.case = case
        self.as_of = as_of
        self.regression_case = regression_case if regression_case is not None else case
        self.holds = holds or {}


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
        entry = pack_test_entry(
            entry_name(self.name, "counterexample"),
            self.prop.spec.description,
            self.violation.regression_case.model_dump(mode="json", exclude_defaults=True),
            self.violation.as_of,
            {"holds": self.violation.holds},
        )
        return (
            f"{head} failed: {self.prop.spec.description}\n"
            f"  {self.violation.message}\n"
            "  shrunk counterexample, as a pack test (paste under `tests:` in tests/*.yaml):\n"
            + entry
        )


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
) -> PropertyViolation | None:
    changed = _changed(prop, case, pack.profile)
    after = pack.predict(changed, as_of)
    old, new = before.resolution.outcome, after.resolution.outcome
    for forbidden in prop.spec.forbid:
        if old in forbidden.from_ and new in forbidden.to:
            change = prop.spec.change
            assert change is not None
            added = change.add_evidence
            message = (
                f"adding {added.party} evidence '{added.kind}' moved the resolution "
                f"{old.value} -> {new.value}; before: {prediction_summary(before)}; "
                f"after: {prediction_summary(after)}"
            )
            required = {"not_resolution": [item.value for item in forbidden.to]}
            return PropertyViolation(message, case, as_of, regression_case=changed, holds=required)
    return None


def check_property(
    pack: RulePack,
    prop: CheckedProperty,
    *,
    max_examples: int = 200,
    progress: Callable[[int], object] | None = None,
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
        if progress is not None:
            progress(1)
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
            problem = expectation_problem(prop.spec.expect, prediction)
            if problem is not None:
                required = prop.spec.expect.model_dump(mode="json", exclude_none=True)
                raise PropertyViolation(problem, case, as_of, holds=required)
        else:
            violation = _transition_problem(pack, prop, case, as_of, prediction)
            if violation is not None:
                raise violation

    try:
        run()
    except PropertyViolation as violation:
        return PropertyResult(prop, counted["examples"], violation)
    return PropertyResult(prop, counted["examples"], None)


def check_pack_properties(
    pack: RulePack,
    *,
    max_examples: int = 200,
    progress: Callable[[int], object] | None = None,
) -> list[PropertyResult]:
    """Check every property the pack declares (``progress(1)`` after each generated case)."""
    return [
        check_property(pack, prop, max_examples=max_examples, progress=progress)
        for prop in pack.properties
    ]
