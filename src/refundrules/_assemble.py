"""Turn the rules durable-rules fired into a :class:`Prediction`.

Precedence is data: among the *deciding* rules that fired (those that set stage and
resolution), the one with the lowest ``priority`` decides, and only its deadlines, dispute
record and penalty points apply. *Additive* rules (no stage or resolution) always contribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from refundrules._case import Case, Event
from refundrules._conditions import describe_leaf, satisfied_leaves
from refundrules._facts import FactValue
from refundrules._loader import CheckedRule, PackDefinition
from refundrules._pack_model import ResolutionEffect
from refundrules._prediction import (
    BuyerFlag,
    Compensation,
    Deadline,
    PredictedResolution,
    Reason,
    RecommendedAction,
    Sanction,
    SourceCitation,
)
from refundrules._vocabulary import (
    EventKind,
    Party,
    RequestKind,
    Resolution,
    ReturnShippingPayer,
)

__all__ = ["DecisionOutcome", "consequence_facts", "reasons_for"]

_CENT = Decimal("0.01")
_GRANTED = {
    RequestKind.REFUND_ONLY: Resolution.FULL_REFUND,
    RequestKind.RETURN_AND_REFUND: Resolution.RETURN_AND_REFUND,
    RequestKind.EXCHANGE: Resolution.EXCHANGE,
}
_GOODS_GO_BACK = frozenset({Resolution.RETURN_AND_REFUND, Resolution.EXCHANGE})
_AGAINST_SELLER = frozenset(
    {
        Resolution.FULL_REFUND,
        Resolution.PARTIAL_REFUND,
        Resolution.RETURN_AND_REFUND,
        Resolution.REFUND_WITHOUT_RETURN,
        Resolution.EXCHANGE,
    }
)


class DecisionOutcome:
    """The decision phase's result: the slot winners and what they and the additive rules say."""

    def __init__(
        self,
        pack: PackDefinition,
        rules: Mapping[str, CheckedRule],
        case: Case,
        as_of: datetime,
        fired: Sequence[str],
        anchors: Mapping[str, datetime],
    ) -> None:
        fired_rules = [rules[rule_id] for rule_id in fired]
        by_priority = sorted(fired_rules, key=lambda rule: rule.spec.priority)
        self.fired = tuple(fired)
        self.stage_rule = next(
            (rule for rule in by_priority if rule.spec.then.stage is not None), None
        )
        self.resolution_rule = next(
            (rule for rule in by_priority if rule.spec.then.resolution is not None), None
        )
        winners = [rule for rule in (self.stage_rule, self.resolution_rule) if rule is not None]
        self.deciders = tuple(dict.fromkeys(winners))
        # A decider's deadlines, dispute record and points apply only if it wins every slot
        # it sets; a rule that won the resolution but lost the stage is a partial winner.
        self.effective = tuple(rule for rule in self.deciders if self._wins_all(rule))
        self.shadowed = tuple(
            rule for rule in by_priority if rule.spec.then.decides and rule not in self.deciders
        )
        self.additive = tuple(rule for rule in fired_rules if not rule.spec.then.decides)
        self._pack = pack
        self._case = case
        self._as_of = as_of
        self._anchors = anchors

    def _wins_all(self, rule: CheckedRule) -> bool:
        effects = rule.spec.then
        return (effects.stage is None or rule is self.stage_rule) and (
            effects.resolution is None or rule is self.resolution_rule
        )

    def resolution(self, winner: CheckedRule) -> PredictedResolution:
        effect = winner.spec.then.resolution
        assert effect is not None
        outcome = self._outcome(effect)
        return PredictedResolution(
            outcome=outcome,
            refund_amount=self._refund(effect, outcome),
            currency=self._case.order.currency,
            return_shipping_paid_by=self._shipping_payer(effect, outcome),
            decided_by=effect.decided_by,
            final=effect.final,
            rule_id=winner.spec.id,
        )

    def _shipping_payer(self, effect: ResolutionEffect, outcome: Resolution) -> ReturnShippingPayer:
        if outcome not in _GOODS_GO_BACK:
            return ReturnShippingPayer.NOT_APPLICABLE
        if effect.return_shipping != "seller_if_at_fault":
            return ReturnShippingPayer(effect.return_shipping)
        at_fault = self._case.request.reason in self._pack.manifest.seller_fault_reasons
        return ReturnShippingPayer.SELLER if at_fault else ReturnShippingPayer.BUYER

    def _ruling(self) -> Event | None:
        rulings = [
            event
            for event in self._case.events_until(self._as_of)
            if event.kind is EventKind.PLATFORM_RULED
        ]
        return rulings[-1] if rulings else None

    def _outcome(self, effect: ResolutionEffect) -> Resolution:
        if effect.outcome == "as_ruled":
            ruling = self._ruling()
            if ruling is not None and ruling.ruling is not None:
                return ruling.ruling
        if effect.outcome not in ("as_requested", "as_ruled"):
            return Resolution(effect.outcome)
        granted = _GRANTED[self._case.request.kind]
        if (
            granted is Resolution.FULL_REFUND
            and self._case.request.amount < self._case.order.paid_amount
        ):
            return Resolution.PARTIAL_REFUND
        return granted

    def _refund(self, effect: ResolutionEffect, outcome: Resolution) -> Decimal:
        if outcome in (Resolution.REQUEST_REJECTED, Resolution.REQUEST_CLOSED, Resolution.EXCHANGE):
            return Decimal("0.00")
        order, request = self._case.order, self._case.request
        basis = effect.refund
        ruling = self._ruling() if effect.outcome == "as_ruled" else None
        if ruling is not None and ruling.amount is not None:
            amount = ruling.amount
        elif basis == "none":
            amount = Decimal(0)
        elif basis == "paid":
            amount = order.paid_amount
        elif basis == "requested":
            amount = request.amount
        elif basis == "offer":
            offers = [
                event.amount
                for event in self._case.events_until(self._as_of)
                if event.kind is EventKind.SELLER_OFFERED_PARTIAL_REFUND
                and event.amount is not None
            ]
            amount = offers[-1] if offers else request.amount
        else:
            share = Decimal(str(self._pack.parameter_value(basis.param)))
            amount = min(order.paid_amount * share, request.amount)
        return min(amount, order.paid_amount).quantize(_CENT, rounding=ROUND_HALF_UP)

    def deadlines(self) -> tuple[Deadline, ...]:
        contributors = [*self.effective, *self.additive]
        anchors = self._anchors
        found: list[Deadline] = []
        for rule in contributors:
            for effect in rule.spec.then.deadlines:
                start = anchors.get(effect.start)
                if start is None:
                    continue
                parameter = self._pack.parameters[effect.after.param]
                span = (
                    timedelta(hours=parameter.value)
                    if parameter.unit == "hours"
                    else timedelta(days=parameter.value)
                )
                due_at = start + span
                found.append(
                    Deadline(
                        id=effect.id,
                        what=effect.what,
                        party=effect.party,
                        due_at=due_at,
                        hours_left=round((due_at - self._as_of).total_seconds() / 3600.0, 2),
                        if_missed=effect.if_missed,
                        rule_id=rule.spec.id,
                    )
                )
        found.sort(key=lambda deadline: (deadline.due_at, deadline.id))
        return tuple(found)

    def _effective_resolution_rule(self) -> CheckedRule | None:
        rule = self.resolution_rule
        return rule if rule is not None and rule in self.effective else None

    def dispute_record(self) -> bool:
        rule = self._effective_resolution_rule()
        return rule is not None and rule.spec.then.dispute_record

    def penalty_points_added(self) -> float:
        rule = self._effective_resolution_rule()
        if rule is None or rule.spec.then.penalty_points is None:
            return 0.0
        return self._pack.parameter_value(rule.spec.then.penalty_points.param)

    def compensation(self, rules: Sequence[CheckedRule]) -> tuple[Compensation, ...]:
        return tuple(
            Compensation(
                what=effect.what,
                amount=Decimal(str(self._pack.parameter_value(effect.amount.param))).quantize(
                    _CENT, rounding=ROUND_HALF_UP
                ),
                paid_to=effect.paid_to,
                rule_id=rule.spec.id,
            )
            for rule in rules
            for effect in rule.spec.then.compensation
        )


def consequence_facts(
    decision_facts: Mapping[str, FactValue],
    resolution: PredictedResolution,
    dispute_record: bool,
    points_added: float,
    malicious_signals: int,
) -> dict[str, FactValue]:
    """Facts for the consequence phase: the decision's result plus a few case facts."""
    against = resolution.outcome in _AGAINST_SELLER and resolution.decided_by in (
        Party.PLATFORM,
        Party.SYSTEM,
    )
    return {
        "request_kind": decision_facts["request_kind"],
        "request_reason": decision_facts["request_reason"],
        "paid_amount": decision_facts["paid_amount"],
        "requested_amount": decision_facts["requested_amount"],
        "store_penalty_points": decision_facts["store_penalty_points"],
        "buyer_escalated": decision_facts["buyer_escalated"],
        "seller_response": decision_facts["seller_response"],
        "resolution": resolution.outcome.value,
        "decided_against_seller": against,
        "decided_by": resolution.decided_by.value,
        "resolution_final": resolution.final,
        "dispute_recorded": dispute_record,
        "penalty_points_added": points_added,
        "penalty_points_total": float(decision_facts["store_penalty_points"]) + points_added,
        "malicious_signal_count": float(malicious_signals),
    }


def buyer_flags(rules: Sequence[CheckedRule]) -> tuple[BuyerFlag, ...]:
    by_flag: dict[str, tuple[list[str], list[str]]] = {}
    for rule in rules:
        for effect in rule.spec.then.buyer_signals:
            signals, ids = by_flag.setdefault(effect.flag, ([], []))
            signals.append(effect.signal)
            ids.append(rule.spec.id)
    return tuple(
        BuyerFlag(flag=flag, signals=tuple(signals), rule_ids=tuple(ids))
        for flag, (signals, ids) in sorted(by_flag.items())
    )


def recommendations(rules: Sequence[CheckedRule]) -> tuple[RecommendedAction, ...]:
    seen: set[str] = set()
    found: list[RecommendedAction] = []
    for rule in rules:
        for effect in rule.spec.then.recommend:
            if effect.action in seen:
                continue
            seen.add(effect.action)
            found.append(
                RecommendedAction(action=effect.action, why=effect.why, rule_id=rule.spec.id)
            )
    return tuple(found)


def sanctions(pack: PackDefinition, rules: Sequence[CheckedRule]) -> tuple[Sanction, ...]:
    found = [
        Sanction(
            name=rule.spec.then.sanction.name,
            description=rule.spec.then.sanction.description,
            threshold_points=pack.parameter_value(rule.spec.then.sanction.threshold.param),
            rule_id=rule.spec.id,
        )
        for rule in rules
        if rule.spec.then.sanction is not None
    ]
    return tuple(sorted(found, key=lambda sanction: sanction.threshold_points))


def reasons_for(
    pack: PackDefinition, rule: CheckedRule, role: str, facts: Mapping[str, FactValue]
) -> Reason:
    leaves = satisfied_leaves(rule.condition, facts)
    because = "; ".join(describe_leaf(leaf, facts) for leaf in leaves)
    return Reason(
        rule_id=rule.spec.id,
        title=rule.spec.title.en,
        title_zh=rule.spec.title.zh,
        role=role,  # type: ignore[arg-type]
        because=because,
        facts={leaf.fact: facts[leaf.fact] for leaf in leaves},
        sources=tuple(
            SourceCitation(
                key=key,
                title=pack.manifest.sources[key].title,
                url=pack.manifest.sources[key].url,
                confidence=pack.manifest.sources[key].confidence,
            )
            for key in rule.spec.sources
        ),
    )
