"""``RulePack``: a loaded, compiled pack that predicts disputes. Safe to share between threads.

>>> import refundrules
>>> pack = refundrules.load_rule_pack("pinduoduo")
>>> pack.platform.value
'pinduoduo'
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

from refundrules._assemble import (
    DecisionOutcome,
    buyer_flags,
    consequence_facts,
    reasons_for,
    recommendations,
    sanctions,
)
from refundrules._case import Case
from refundrules._conditions import referenced_facts
from refundrules._engine import EngineRule, RuleCompileError, RuleEngine
from refundrules._facts import (
    CONSEQUENCE_FACTS,
    DECISION_FACTS,
    FactSpec,
    FactValue,
    derive_facts,
    time_anchors,
)
from refundrules._loader import CheckedRule, LoadedTest, PackDefinition, read_pack
from refundrules._pack_model import PackManifest, Parameter
from refundrules._prediction import PackRef, Prediction, Reason, SellerConsequences
from refundrules._vocabulary import Platform
from refundrules.exceptions import CaseError, EvaluationError, RulePackError

__all__ = ["RulePack", "load_rule_pack"]


def _compile(label: str, rules: list[CheckedRule]) -> tuple[RuleEngine, frozenset[str]]:
    fields: set[str] = set()
    for rule in rules:
        fields |= referenced_facts(rule.condition)
    try:
        engine = RuleEngine(
            label,
            [EngineRule(rule.spec.id, rule.spec.priority, rule.condition) for rule in rules],
        )
    except RuleCompileError as exc:
        offender = next(rule for rule in rules if rule.spec.id == exc.rule_id)
        raise RulePackError(
            str(exc), path=offender.path, line=offender.line, rule_id=offender.spec.id
        ) from exc
    return engine, frozenset(fields)


def _typed(
    facts: Mapping[str, FactValue], names: frozenset[str], specs: Mapping[str, FactSpec]
) -> dict[str, FactValue]:
    """The facts the engine needs, each checked against its declared type.

    durable-rules compares a number given as text *as text* ("100.00" <= 50 holds), so a
    wrongly typed fact is refused here rather than silently mis-compared.
    """
    projected: dict[str, FactValue] = {}
    for name in names:
        if name not in facts:
            raise EvaluationError(f"fact {name!r} is missing")
        value, spec = facts[name], specs[name]
        if spec.kind == "number":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif spec.kind == "boolean":
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, str) and value in spec.values
        if not ok:
            raise EvaluationError(
                f"fact {name!r} must be a {spec.kind}"
                + (f" out of {', '.join(spec.values)}" if spec.kind == "text" else "")
                + f"; got {value!r}"
            )
        projected[name] = value
    return projected


class RulePack:
    """A validated rule pack compiled into durable-rules; call :meth:`predict` per case."""

    def __init__(self, definition: PackDefinition) -> None:
        self._definition = definition
        self._rules: dict[str, CheckedRule] = {rule.spec.id: rule for rule in definition.rules}
        manifest = definition.manifest
        label = f"{manifest.id}@{manifest.version}"
        decision = [rule for rule in definition.rules if rule.spec.phase == "decision"]
        consequence = [rule for rule in definition.rules if rule.spec.phase == "consequence"]
        self._decision_engine, self._decision_fields = _compile(f"{label}/decision", decision)
        self._consequence_engine: RuleEngine | None = None
        self._consequence_fields: frozenset[str] = frozenset()
        if consequence:
            self._consequence_engine, self._consequence_fields = _compile(
                f"{label}/consequence", consequence
            )
        self.ref = PackRef(
            id=manifest.id,
            platform=manifest.platform,
            version=manifest.version,
            content_hash=definition.content_hash,
        )

    # --- what the pack is -------------------------------------------------------------------
    @property
    def manifest(self) -> PackManifest:
        return self._definition.manifest

    @property
    def platform(self) -> Platform:
        return self._definition.manifest.platform

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        return self._definition.parameters

    @property
    def rules(self) -> tuple[CheckedRule, ...]:
        return self._definition.rules

    @property
    def tests(self) -> tuple[LoadedTest, ...]:
        return self._definition.tests

    @property
    def root(self) -> Path:
        return self._definition.root

    @property
    def definition(self) -> PackDefinition:
        return self._definition

    def rule(self, rule_id: str) -> CheckedRule:
        return self._rules[rule_id]

    def __repr__(self) -> str:
        return (
            f"<RulePack {self.ref.id}@{self.ref.version} rules={len(self._rules)} "
            f"hash={self.ref.content_hash[:12]}>"
        )

    def close(self) -> None:
        """Free the engine's rulesets; the pack cannot predict afterwards. Idempotent.

        A prediction in flight in another thread finishes first or raises EngineError; later
        ones raise EngineError. A pack that is never closed is freed when it is collected.
        """
        self._decision_engine.close()
        if self._consequence_engine is not None:
            self._consequence_engine.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        """A pickle holds the checked pack, never durable's objects; unpickling compiles fresh
        engines from it (no files are read), so the copy is open even if this pack was closed.
        """
        return {"definition": self._definition}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        RulePack.__init__(self, state["definition"])

    # --- evaluation -------------------------------------------------------------------------
    def facts(self, case: Case, as_of: datetime | None = None) -> dict[str, FactValue]:
        """The decision facts this pack sees for ``case`` at ``as_of``."""
        return derive_facts(case, self._as_of(as_of))

    def fire(self, facts: Mapping[str, FactValue]) -> list[str]:
        """The decision rules durable-rules fires for ``facts``, in agenda order.

        ``facts`` are checked against their declared types first (see :meth:`facts`).
        """
        return self._decision_engine.fire(_typed(facts, self._decision_fields, DECISION_FACTS))

    def fire_consequences(self, facts: Mapping[str, FactValue]) -> list[str]:
        if self._consequence_engine is None:
            return []
        return self._consequence_engine.fire(
            _typed(facts, self._consequence_fields, CONSEQUENCE_FACTS)
        )

    @staticmethod
    def _as_of(as_of: datetime | None) -> datetime:
        return datetime.now(UTC) if as_of is None else as_of

    def predict(self, case: Case, as_of: datetime | None = None) -> Prediction:
        """Predict ``case`` at ``as_of`` (default: now). Deterministic for a given ``as_of``.

        Raises :class:`CaseError` for a case of another platform or a bad ``as_of``, and
        :class:`EvaluationError` if no rule decides (a gap in the pack).
        """
        if case.platform is not self.platform:
            raise CaseError(
                [
                    (
                        "platform",
                        f"this pack is for {self.platform.value!r}, "
                        f"the case is {case.platform.value!r}",
                    )
                ]
            )
        if case.order.currency != self.manifest.currency:
            raise CaseError(
                [
                    (
                        "order.currency",
                        f"this pack's amounts are in {self.manifest.currency}, "
                        f"the case is in {case.order.currency}",
                    )
                ]
            )
        moment = self._as_of(as_of)
        anchors = time_anchors(case, moment)
        facts = derive_facts(case, moment, anchors)
        # derive_facts types every fact by construction (tests/test_facts.py), so the per-fact
        # type check of the public fire() is skipped on this hot path.
        fired = self._decision_engine.fire({name: facts[name] for name in self._decision_fields})
        outcome = DecisionOutcome(self._definition, self._rules, case, moment, fired, anchors)
        if outcome.stage_rule is None or outcome.resolution_rule is None:
            missing = "stage" if outcome.stage_rule is None else "resolution"
            raise EvaluationError(
                f"no rule decided the {missing} of case {case.case_id!r} at "
                f"{moment.isoformat()}; rules fired: {', '.join(fired) or 'none'}",
                pack_id=f"{self.ref.id}@{self.ref.version}",
            )
        resolution = outcome.resolution(outcome.resolution_rule)
        stage = outcome.stage_rule.spec.then.stage
        assert stage is not None  # the stage rule is, by definition, one that sets a stage
        points_added = outcome.penalty_points_added()
        flags_so_far = buyer_flags(outcome.additive)
        signal_count = sum(len(flag.signals) for flag in flags_so_far)
        later_facts = consequence_facts(
            facts, resolution, outcome.dispute_record(), points_added, signal_count
        )
        later_ids = (
            self._consequence_engine.fire(
                {name: later_facts[name] for name in self._consequence_fields}
            )
            if self._consequence_engine is not None
            else []
        )
        later = tuple(self._rules[rule_id] for rule_id in later_ids)
        contributors = (*outcome.additive, *later)
        reasons: list[Reason] = [
            reasons_for(self._definition, rule, "decided", facts) for rule in outcome.deciders
        ]
        reasons += [
            reasons_for(self._definition, rule, "contributed", facts) for rule in outcome.additive
        ]
        reasons += [
            reasons_for(self._definition, rule, "contributed", later_facts) for rule in later
        ]
        reasons += [
            reasons_for(self._definition, rule, "shadowed", facts) for rule in outcome.shadowed
        ]
        consequences = SellerConsequences(
            dispute_record=outcome.dispute_record(),
            penalty_points_added=points_added,
            penalty_points_total=float(later_facts["penalty_points_total"]),
            sanctions=sanctions(self._definition, later),
            compensation=outcome.compensation(outcome.additive),
        )
        return Prediction(
            case_id=case.case_id,
            as_of=moment,
            stage=stage,
            resolution=resolution,
            deadlines=outcome.deadlines(),
            seller_consequences=consequences,
            buyer_flags=buyer_flags(contributors),
            recommended_actions=recommendations((*outcome.effective, *contributors)),
            reasons=tuple(reasons),
            fired_rules=(*fired, *later_ids),
            pack=self.ref,
            warnings=self._warnings(case),
        )

    def _warnings(self, case: Case) -> tuple[str, ...]:
        """Reasons to doubt the prediction that are not errors (e.g. a pack not yet in force)."""
        manifest = self.manifest
        requested = case.request.requested_at.astimezone(ZoneInfo(manifest.timezone)).date()
        if requested < manifest.effective_from:
            return (
                f"the request ({requested}) predates this pack, in force from "
                f"{manifest.effective_from}; the rules then may have differed",
            )
        if manifest.effective_to is not None and requested > manifest.effective_to:
            return (
                f"the request ({requested}) is after this pack's last day in force "
                f"({manifest.effective_to})",
            )
        return ()


def load_rule_pack(name_or_path: str | Path) -> RulePack:
    """Load, validate and compile a rule pack: a bundled name (``"pinduoduo"``) or a folder.

    >>> pack = load_rule_pack("pinduoduo")
    >>> pack.ref.id
    'pinduoduo'
    """
    return RulePack(read_pack(name_or_path))
