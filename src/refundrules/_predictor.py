"""One version's predictions: facts, both phases and the assembly, on two paths.

The **reference path** (``fast=False``) is the plain account of a prediction: every fact by
:func:`derive_facts`, durable-rules asked about every case (no firing cache), every part
built and validated by pydantic, nothing kept between cases.

The **fast path** (the default) gives the same :class:`Prediction` (tests/test_fast_path.py:
``model_dump`` equal on generated cases of every bundled pack) with less work:

* facts by the version's :class:`FactDeriver` (one pass, only the facts the phases and the
  reasons read, numbers already in the engine's form);
* the firing cache by signature (``_firing_cache``): durable decides each signature once;
* what depends only on the fired rule ids (slot winners, shadowed and additive rules, metric
  additions, compensation, the buyer signals so far) is kept per fired set, and what depends
  only on both phases' ids (buyer flags, the rules' advice, sanctions) per pair of fired
  sets, each in a bounded :class:`Memo`;
* reasons are written from a plan made once per rule (``_reason_plan``);
* parts are built trusted (``model_construct``): every value is ours and already of its
  declared type.

Parts kept in a memo are shared by the predictions that have them; like the predictions they
are frozen models (their dicts are not to be changed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from refundrules._assemble import (
    DecisionOutcome,
    DecisionPlan,
    buyer_flags,
    compensation,
    consequence_facts,
    deadline_steps,
    metric_changes,
    reasons_for,
    recommendations,
    sanctions,
)
from refundrules._fact_derivers import FactDeriver
from refundrules._facts import FactValue, case_at, derive_facts
from refundrules._loader import CheckedRule, VersionDefinition
from refundrules._memo import DEFAULT_MEMO_SIZE, Memo
from refundrules._prediction import (
    Build,
    BuyerFlag,
    Compensation,
    OutcomeLikelihood,
    PackRef,
    PredictedResolution,
    Prediction,
    Reason,
    RecommendedAction,
    Sanction,
    SellerConsequences,
    trusted,
    validated,
)
from refundrules._reason_plan import ReasonPlan
from refundrules.exceptions import EvaluationError

if TYPE_CHECKING:
    from refundrules._case import Case
    from refundrules._engine import RuleEngine

__all__ = ["Likelihood", "PhaseEngines", "Predictor"]

# The likelihood of a predicted resolution (None: the family has no published outcomes).
Likelihood = Callable[[PredictedResolution], OutcomeLikelihood | None]

_FiredIds = tuple[str, ...]


class PhaseEngines(Protocol):
    """A version's compiled phases (``_rulepack._Engines``) and the facts each one reads."""

    @property
    def decision(self) -> RuleEngine: ...
    @property
    def consequence(self) -> RuleEngine | None: ...
    @property
    def decision_fields(self) -> frozenset[str]: ...
    @property
    def consequence_fields(self) -> frozenset[str]: ...


class _Plan:
    """What the fired decision rules alone decide, with the parts built from them."""

    def __init__(
        self,
        definition: VersionDefinition,
        rules: Mapping[str, CheckedRule],
        fired: _FiredIds,
        build: Build,
    ) -> None:
        self.decision = DecisionPlan(rules, fired)
        self.metrics_added = self.decision.metrics_added(definition)
        self.signal_count = sum(
            len(flag.signals) for flag in buyer_flags(self.decision.additive, build)
        )
        self.compensation: tuple[Compensation, ...] = compensation(
            definition, self.decision.additive, build
        )
        self.deadline_steps = deadline_steps(
            definition, (*self.decision.effective, *self.decision.additive)
        )


class _Contributions:
    """What both phases' fired rules decide together: flags, the rules' advice, sanctions."""

    def __init__(
        self,
        definition: VersionDefinition,
        rules: Mapping[str, CheckedRule],
        plan: DecisionPlan,
        later_ids: _FiredIds,
        build: Build,
    ) -> None:
        self.later = tuple(rules[rule_id] for rule_id in later_ids)
        contributors = (*plan.additive, *self.later)
        self.buyer_flags: tuple[BuyerFlag, ...] = buyer_flags(contributors, build)
        self.recommended: tuple[RecommendedAction, ...] = recommendations(
            (*plan.effective, *contributors), build
        )
        self.sanctions: tuple[Sanction, ...] = sanctions(definition, self.later, build)


class Predictor:
    """Predicts cases under one compiled version, on the fast or the reference path.

    ``memo_size`` bounds each of its memos (fired sets; pairs of fired sets).
    """

    def __init__(
        self,
        definition: VersionDefinition,
        rules: Mapping[str, CheckedRule],
        ref: PackRef,
        label: str,
        *,
        memo_size: int = DEFAULT_MEMO_SIZE,
    ) -> None:
        self._definition = definition
        self._rules = rules
        self._ref = ref
        self._label = label
        self._deriver: FactDeriver | None = None
        self._reason_plans: dict[str, ReasonPlan] = {}
        self._plans: Memo[_FiredIds, _Plan] = Memo(memo_size)
        self._contributions: Memo[tuple[_FiredIds, _FiredIds], _Contributions] = Memo(memo_size)

    @property
    def plans(self) -> Memo[_FiredIds, _Plan]:
        return self._plans

    @property
    def contributions(self) -> Memo[tuple[_FiredIds, _FiredIds], _Contributions]:
        return self._contributions

    def _fact_deriver(self, engines: PhaseEngines) -> FactDeriver:
        deriver = self._deriver
        if deriver is None:
            profile = self._definition.profile
            needed = engines.decision_fields | set(profile.consequence_facts)
            deriver = self._deriver = FactDeriver(profile, needed)
        return deriver

    def _plan(self, fired: _FiredIds, fast: bool) -> _Plan:
        if not fast:
            return _Plan(self._definition, self._rules, fired, validated)
        return self._plans.get_or_make(
            fired, lambda: _Plan(self._definition, self._rules, fired, trusted)
        )

    def _contributed(self, plan: _Plan, later: _FiredIds, fast: bool) -> _Contributions:
        definition, rules = self._definition, self._rules
        if not fast:
            return _Contributions(definition, rules, plan.decision, later, validated)
        return self._contributions.get_or_make(
            (plan.decision.fired, later),
            lambda: _Contributions(definition, rules, plan.decision, later, trusted),
        )

    def _reason(self, rule: CheckedRule, role: str, facts: Mapping[str, FactValue]) -> Reason:
        plans = self._reason_plans
        plan = plans.get(rule.spec.id)
        if plan is None:  # at most one per rule of the version: no bound needed
            plan = plans.setdefault(rule.spec.id, ReasonPlan(self._definition, rule))
        return plan.reason(role, facts)

    def _reason_walked(
        self, rule: CheckedRule, role: str, facts: Mapping[str, FactValue]
    ) -> Reason:
        return reasons_for(self._definition, rule, role, facts)

    def predict(
        self,
        engines: PhaseEngines,
        case: Case,
        moment: datetime,
        warnings: tuple[str, ...],
        *,
        fast: bool,
        likelihood: Likelihood | None = None,
    ) -> Prediction:
        """The prediction of a checked ``case`` at ``moment``; :class:`EvaluationError` if no
        rule decides its stage or resolution."""
        definition = self._definition
        profile = definition.profile
        build = trusted if fast else validated
        view = case_at(profile, case, moment)
        facts = (
            self._fact_deriver(engines)(view) if fast else derive_facts(profile, case, moment, view)
        )
        # Facts are typed by construction (tests/test_facts.py), so the per-fact type check of
        # the public fire() is skipped on this path.
        fired = tuple(
            engines.decision.fire(
                {name: facts[name] for name in engines.decision_fields}, cached=fast
            )
        )
        plan = self._plan(fired, fast)
        decision = plan.decision
        if decision.stage_rule is None or decision.resolution_rule is None:
            missing = "stage" if decision.stage_rule is None else "resolution"
            raise EvaluationError(
                f"no rule decided the {missing} of case {case.case_id!r} at "
                f"{moment.isoformat()}; rules fired: {', '.join(fired) or 'none'}",
                pack_id=self._label,
            )
        outcome = DecisionOutcome(definition, decision, case, moment, view.anchors, build)
        resolution = outcome.resolution(decision.resolution_rule)
        stage = decision.stage_rule.spec.then.stage
        assert stage is not None  # the stage rule is, by definition, one that sets a stage
        metrics = metric_changes(profile, case, plan.metrics_added, build)
        dispute_record = decision.dispute_record()
        later_facts = consequence_facts(
            profile, facts, resolution, dispute_record, metrics, plan.signal_count
        )
        later_ids: _FiredIds = (
            tuple(
                engines.consequence.fire(
                    {name: later_facts[name] for name in engines.consequence_fields},
                    cached=fast,
                )
            )
            if engines.consequence is not None
            else ()
        )
        parts = self._contributed(plan, later_ids, fast)
        reason = self._reason if fast else self._reason_walked
        reasons: list[Reason] = [reason(rule, "decided", facts) for rule in decision.deciders]
        reasons += [reason(rule, "contributed", facts) for rule in decision.additive]
        reasons += [reason(rule, "contributed", later_facts) for rule in parts.later]
        reasons += [reason(rule, "shadowed", facts) for rule in decision.shadowed]
        points = next((change for change in metrics if change.metric == "penalty_points"), None)
        consequences = build(
            SellerConsequences,
            dispute_record=dispute_record,
            metrics=metrics,
            penalty_points_added=points.added if points is not None else 0.0,
            penalty_points_total=points.after if points is not None else 0.0,
            sanctions=parts.sanctions,
            compensation=plan.compensation,
        )
        found = likelihood(resolution) if likelihood is not None else None
        values = {
            "case_id": case.case_id,
            "as_of": moment,
            "stage": stage,
            "resolution": resolution,
            "deadlines": outcome.deadlines(plan.deadline_steps),
            "seller_consequences": consequences,
            "buyer_flags": parts.buyer_flags,
            "recommended_actions": parts.recommended,
            "reasons": tuple(reasons),
            "fired_rules": (*fired, *later_ids),
            "pack": self._ref,
            "warnings": warnings,
        }
        if found is not None:
            values["likelihood"] = found
        return build(Prediction, **values)
