"""Hypothesis strategies and ready-made invariants for rule packs.

For rule authors writing their own Hypothesis tests. The strategies generate *valid* cases
for a pack — consistent timelines, evidence and amounts — and deliberately place events and
``as_of`` on and around every threshold the pack's parameters define: exactly at a window's
end, one second before and one after. The invariants hold for every valid case of every
pack. The tools that check whole packs (diff, coverage, declared properties, pack tests) are
in :mod:`refundrules.authoring`.

>>> from hypothesis import given, settings
>>> import refundrules
>>> from refundrules.testing import evaluations, check_totality
>>> pack = refundrules.load_rule_pack("pinduoduo")
>>> @settings(max_examples=20, deadline=None)
... @given(evaluations(pack))
... def test_total(evaluation):
...     check_totality(pack, *evaluation)
>>> test_total()
"""

from __future__ import annotations

from refundrules import _extras

_extras.require_hypothesis("refundrules.testing")

import warnings
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from refundrules._calibrate import (
    CalibrationReport,
    CalibrationResult,
    CalibrationSplit,
    calibrate,
)
from refundrules._case import Case
from refundrules._conditions import holds
from refundrules._prediction import Prediction
from refundrules._rulepack import RulePack
from refundrules._strategies import SELLER_MOVES, Packish, cases, evaluations, threshold_offsets
from refundrules.exceptions import EvaluationError

__all__ = [
    "SELLER_MOVES",
    "CalibrationReport",
    "CalibrationResult",
    "CalibrationSplit",
    "InvariantError",
    "calibrate",
    "cases",
    "check_determinism",
    "check_explanations_agree",
    "check_isolation",
    "check_totality",
    "evaluations",
    "threshold_offsets",
]

# Names that used to be importable from here; they live in refundrules.authoring now.
_MOVED_TO_AUTHORING = frozenset(
    {
        "CoverageReport",
        "PackDiff",
        "PackTestResult",
        "PropertyResult",
        "check_pack_properties",
        "compare_rule_packs",
        "load_replay",
        "measure_coverage",
        "run_pack_tests",
    }
)


def __getattr__(name: str) -> Any:
    # The one place this module reaches the authoring tools: only when a caller still uses
    # an old name, and only after warning, so importing refundrules.testing stays free of them.
    if name in _MOVED_TO_AUTHORING:
        warnings.warn(
            f"refundrules.testing.{name} has moved to refundrules.authoring; "
            f"use `from refundrules.authoring import {name}` (the old name will be removed)",
            DeprecationWarning,
            stacklevel=2,
        )
        import refundrules.authoring as authoring

        return getattr(authoring, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class InvariantError(AssertionError):
    """An invariant of a rule pack does not hold; the message names the case and the rules."""


# --- invariants --------------------------------------------------------------------------


def _label(case: Case, as_of: datetime) -> str:
    return f"case {case.case_id!r} at {as_of.isoformat()}"


def check_totality(pack: Packish, case: Case, as_of: datetime) -> Prediction:
    """Every valid case gets exactly one stage and one resolution (no EvaluationError)."""

    try:
        prediction = pack.predict(case, as_of)
    except EvaluationError as exc:
        raise InvariantError(f"totality: {_label(case, as_of)}: {exc}") from exc
    deciding = [reason for reason in prediction.reasons if reason.role == "decided"]
    if prediction.resolution.rule_id not in {reason.rule_id for reason in deciding}:
        raise InvariantError(f"totality: {_label(case, as_of)}: resolution rule not a decider")
    return prediction


def check_determinism(pack: Packish, case: Case, as_of: datetime, repeat: int = 3) -> None:
    """Predicting the same case at the same time gives the same answer every time."""
    first = pack.predict(case, as_of)
    for _ in range(repeat - 1):
        again = pack.predict(case, as_of)
        if again != first:
            raise InvariantError(f"determinism: {_label(case, as_of)} changed between runs")


def check_isolation(
    pack: RulePack, case: Case, as_of: datetime, before: Iterable[tuple[Case, datetime]]
) -> None:
    """A case's prediction does not depend on the cases evaluated before it."""
    alone = pack.predict(case, as_of)
    for other, other_as_of in before:
        pack.predict(other, other_as_of)
    after = pack.predict(case, as_of)
    if after != alone:
        raise InvariantError(f"isolation: {_label(case, as_of)} changed after other cases")


def check_explanations_agree(pack: Packish, case: Case, as_of: datetime) -> None:
    """Our explanation evaluator agrees with durable-rules on which decision rules fire, and
    ``explain`` names the prediction's deciding rules (every condition met) and near misses
    that did not fire."""
    version = pack.version_for(case) if isinstance(pack, RulePack) else pack
    facts = version.facts(case, as_of)
    fired = set(version.fire(facts))
    for rule in version.rules:
        if rule.spec.phase != "decision":
            continue
        explained = holds(rule.condition, facts)
        if explained != (rule.spec.id in fired):
            raise InvariantError(
                f"explanation: {_label(case, as_of)}: rule {rule.spec.id!r} "
                f"{'fired' if rule.spec.id in fired else 'did not fire'} in the engine but the "
                f"explanation says it {'holds' if explained else 'does not hold'}"
            )
    explanation = version.explain(case, as_of)
    decided = [
        reason.rule_id
        for reason in version.predict(case, as_of).reasons
        if reason.role == "decided"
    ]
    if [shown.rule_id for shown in explanation.deciding] != decided:
        raise InvariantError(
            f"explanation: {_label(case, as_of)}: explains {explanation.deciding!r} as deciding, "
            f"the prediction's deciding rules are {decided}"
        )
    for shown in explanation.deciding:
        if not all(check.passed for check in shown.conditions):
            raise InvariantError(
                f"explanation: {_label(case, as_of)}: deciding rule {shown.rule_id!r} is shown "
                "with a failing condition"
            )
    for near in explanation.near_misses:
        if near.rule_id in fired or near.failed == 0:
            raise InvariantError(
                f"explanation: {_label(case, as_of)}: near miss {near.rule_id!r} fired in the "
                "engine or fails on no condition"
            )
