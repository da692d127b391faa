"""Turn the rules durable-rules fired into a :class:`Prediction`.

Precedence is data: among the *deciding* rules that fired (those that set stage and
resolution), the one with the lowest ``priority`` decides, and only its deadlines, dispute
record and penalty points apply. *Additive* rules (no stage or resolution) always contribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from refundrules._calendar import BusinessCalendar
from refundrules._case import Case, Event
from refundrules._conditions import describe_leaf, satisfied_leaves
from refundrules._engine import engine_number
from refundrules._facts import FactValue
from refundrules._loader import CheckedRule, VersionDefinition
from refundrules._pack_model import ResolutionEffect, sentence_en, sentence_texts
from refundrules._prediction import (
    Build,
    BuyerFlag,
    Compensation,
    Deadline,
    MetricChange,
    PredictedResolution,
    Reason,
    RecommendedAction,
    Sanction,
    trusted,
    validated,
)
from refundrules._profile import PlatformProfile, RateMetric
from refundrules._vocabulary import Resolution, ReturnShippingPayer

__all__ = [
    "DeadlineStep",
    "DecisionOutcome",
    "DecisionPlan",
    "consequence_facts",
    "deadline_steps",
    "reasons_for",
]

_CENT = Decimal("0.01")
_UNREAD = object()  # the latest ruling, not looked for yet


class DecisionPlan:
    """What the fired decision rules alone settle: the slot winners, the shadowed deciders, the
    additive rules. A pure function of the fired ids, so the fast path keeps one per fired set."""

    def __init__(self, rules: Mapping[str, CheckedRule], fired: Sequence[str]) -> None:
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

    def _wins_all(self, rule: CheckedRule) -> bool:
        effects = rule.spec.then
        return (effects.stage is None or rule is self.stage_rule) and (
            effects.resolution is None or rule is self.resolution_rule
        )

    def _effective_resolution_rule(self) -> CheckedRule | None:
        rule = self.resolution_rule
        return rule if rule is not None and rule in self.effective else None

    def dispute_record(self) -> bool:
        rule = self._effective_resolution_rule()
        return rule is not None and rule.spec.then.dispute_record

    def metrics_added(self, pack: VersionDefinition) -> dict[str, float]:
        """What the deciding rule adds to each seller metric of the profile (0 if nothing)."""
        rule = self._effective_resolution_rule()
        effects = rule.spec.then.metrics if rule is not None else {}
        return {
            name: pack.parameter_value(effects[name].param) if name in effects else 0.0
            for name in pack.profile.metrics
        }


class DecisionOutcome:
    """The decision phase's result for one case: the plan of its fired set, and what the
    winners and the additive rules say about this case at ``as_of``. Parts go through
    ``build`` (validated by default; the fast path builds them trusted)."""

    def __init__(
        self,
        pack: VersionDefinition,
        plan: DecisionPlan,
        case: Case,
        as_of: datetime,
        anchors: Mapping[str, datetime],
        build: Build = validated,
    ) -> None:
        self.plan = plan
        self.fired = plan.fired
        self.stage_rule = plan.stage_rule
        self.resolution_rule = plan.resolution_rule
        self.deciders = plan.deciders
        self.effective = plan.effective
        self.shadowed = plan.shadowed
        self.additive = plan.additive
        self._pack = pack
        self._policy = pack.profile.policy
        self._case = case
        self._as_of = as_of
        self._anchors = anchors
        self._build = build
        self._latest_ruling: object = _UNREAD

    def resolution(self, winner: CheckedRule) -> PredictedResolution:
        effect = winner.spec.then.resolution
        assert effect is not None
        outcome = self._outcome(effect)
        return self._build(
            PredictedResolution,
            outcome=outcome,
            refund_amount=self._refund(effect, outcome),
            currency=self._case.currency or self._pack.profile.defaults.currency,
            return_shipping_paid_by=self._shipping_payer(effect, outcome),
            decided_by=effect.decided_by,
            final=effect.final,
            rule_id=winner.spec.id,
        )

    def _shipping_payer(self, effect: ResolutionEffect, outcome: Resolution) -> ReturnShippingPayer:
        if outcome not in self._policy.goods_go_back:
            return ReturnShippingPayer.NOT_APPLICABLE
        if effect.return_shipping != "seller_if_at_fault":
            return ReturnShippingPayer(effect.return_shipping)
        at_fault = self._case.request.reason in self._policy.seller_fault_reasons
        return ReturnShippingPayer.SELLER if at_fault else ReturnShippingPayer.BUYER

    def _ruling(self) -> Event | None:
        if self._latest_ruling is _UNREAD:
            rulings = [
                event for event in self._case.events_until(self._as_of) if event.ruling is not None
            ]
            self._latest_ruling = rulings[-1] if rulings else None
        return self._latest_ruling  # type: ignore[return-value]

    def _outcome(self, effect: ResolutionEffect) -> Resolution:
        if effect.outcome == "as_ruled":
            ruling = self._ruling()
            if ruling is not None and ruling.ruling is not None:
                return ruling.ruling
        if effect.outcome not in ("as_requested", "as_ruled"):
            return Resolution(effect.outcome)
        granted = self._policy.granted[self._case.request_kind_at(self._as_of)]
        if (
            granted in self._policy.partial_below_paid
            and self._case.request.amount < self._case.order.paid_amount
        ):
            return Resolution.PARTIAL_REFUND
        return granted

    def _refund(self, effect: ResolutionEffect, outcome: Resolution) -> Decimal:
        if outcome in self._policy.no_money_back:
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
            # The latest amount the seller offered (events that carry an amount are offers).
            offers = [
                event.amount
                for event in self._case.events_until(self._as_of)
                if event.amount is not None and event.actor == "seller"
            ]
            amount = offers[-1] if offers else request.amount
        else:
            share = Decimal(str(self._pack.parameter_value(basis.param)))
            amount = min(order.paid_amount * share, request.amount)
        return min(amount, order.paid_amount).quantize(_CENT, rounding=ROUND_HALF_UP)

    def deadlines(self, steps: Sequence[DeadlineStep] | None = None) -> tuple[Deadline, ...]:
        """The clocks the effective and additive rules start (``steps``: the same rules'
        :func:`deadline_steps`, when the caller kept them)."""
        if steps is None:
            steps = deadline_steps(self._pack, (*self.effective, *self.additive))
        anchors = self._anchors
        found: list[Deadline] = []
        for step in steps:
            start = anchors.get(step.start)
            if start is None:
                continue
            if step.unit == "business_days":
                due_at = step.calendar.add_business_days(start, step.value)
            elif step.unit == "hours":
                due_at = start + timedelta(hours=step.value)
            else:
                due_at = start + timedelta(days=step.value)
            due_at = due_at.astimezone(step.zone)
            found.append(
                self._build(
                    Deadline,
                    id=step.id,
                    what=step.what,
                    party=step.party,
                    due_at=due_at,
                    hours_left=round((due_at - self._as_of).total_seconds() / 3600.0, 2),
                    if_missed=step.if_missed,
                    rule_id=step.rule_id,
                    what_texts=step.what_texts,
                    if_missed_texts=step.if_missed_texts,
                )
            )
        found.sort(key=lambda deadline: (deadline.due_at, deadline.id))
        return tuple(found)

    def dispute_record(self) -> bool:
        return self.plan.dispute_record()

    def metrics_added(self) -> dict[str, float]:
        return self.plan.metrics_added(self._pack)


@dataclass(frozen=True)
class DeadlineStep:
    """One clock a rule starts, read from the pack: everything but the case's anchors."""

    id: str
    rule_id: str
    start: str
    unit: str
    value: float
    calendar: BusinessCalendar
    zone: ZoneInfo
    what: str
    party: str
    if_missed: str
    what_texts: dict[str, str]
    if_missed_texts: dict[str, str]


def deadline_steps(
    pack: VersionDefinition, rules: Sequence[CheckedRule]
) -> tuple[DeadlineStep, ...]:
    """The clocks ``rules`` start, in order."""
    profile = pack.profile
    steps: list[DeadlineStep] = []
    for rule in rules:
        for effect in rule.spec.then.deadlines:
            parameter = pack.parameters[effect.after.param]
            steps.append(
                DeadlineStep(
                    id=effect.id,
                    rule_id=rule.spec.id,
                    start=effect.start,
                    unit=parameter.unit,
                    value=parameter.value,
                    calendar=profile.business_calendar,
                    zone=ZoneInfo(profile.defaults.timezone),
                    what=sentence_en(effect.what),
                    party=effect.party,
                    if_missed=sentence_en(effect.if_missed),
                    what_texts=sentence_texts(effect.what),
                    if_missed_texts=sentence_texts(effect.if_missed),
                )
            )
    return tuple(steps)


def compensation(
    pack: VersionDefinition, rules: Sequence[CheckedRule], build: Build = validated
) -> tuple[Compensation, ...]:
    return tuple(
        build(
            Compensation,
            what=sentence_en(effect.what),
            what_texts=sentence_texts(effect.what),
            amount=Decimal(str(pack.parameter_value(effect.amount.param))).quantize(
                _CENT, rounding=ROUND_HALF_UP
            ),
            paid_to=effect.paid_to,
            rule_id=rule.spec.id,
        )
        for rule in rules
        for effect in rule.spec.then.compensation
    )


def metric_changes(
    profile: PlatformProfile, case: Case, added: Mapping[str, float], build: Build = validated
) -> tuple[MetricChange, ...]:
    """Each seller metric of the profile before and after this case."""
    changes: list[MetricChange] = []
    for name, metric in profile.metrics.items():
        if isinstance(metric, RateMetric):
            defects = _store_value(case, metric.defects)
            orders = _store_value(case, metric.orders)
            before = defects / orders if orders > 0 else 0.0
            after = (defects + added[name]) / orders if orders > 0 else 0.0
        else:
            before = _store_value(case, metric.current)
            after = before + added[name]
        changes.append(
            build(
                MetricChange,
                metric=name,
                title=metric.title.en,
                title_texts=metric.title.texts(),
                kind=metric.kind,
                unit=metric.unit,
                before=round(before, 6),
                added=added[name],
                after=round(after, 6),
            )
        )
    return tuple(changes)


def _store_value(case: Case, path: str) -> float:
    parts = path.split(".")
    if parts[:2] == ["store", "metrics"]:
        return float(case.store.metrics.get(parts[2], 0.0))
    value: object = case
    for part in parts:
        value = getattr(value, part)
    return float(value)  # type: ignore[arg-type]


def consequence_facts(
    profile: PlatformProfile,
    decision_facts: Mapping[str, FactValue],
    resolution: PredictedResolution,
    dispute_record: bool,
    metrics: Sequence[MetricChange],
    malicious_signals: int,
) -> dict[str, FactValue]:
    """Facts for the consequence phase: the decision's result, the metrics after the case and
    the decision facts the profile passes on."""
    policy = profile.policy
    against = (
        resolution.outcome in policy.against_seller
        and resolution.decided_by in policy.against_seller_when_decided_by
    )
    facts: dict[str, FactValue] = {name: decision_facts[name] for name in profile.consequence_facts}
    facts.update(
        {
            "resolution": resolution.outcome.value,
            "decided_against_seller": against,
            "decided_by": resolution.decided_by,
            "resolution_final": resolution.final,
            "dispute_recorded": dispute_record,
            "malicious_signal_count": float(malicious_signals),
        }
    )
    for change in metrics:
        facts[f"{change.metric}_added"] = engine_number(change.added)
        facts[f"{change.metric}_total"] = engine_number(change.after)
    return facts


def buyer_flags(rules: Sequence[CheckedRule], build: Build = validated) -> tuple[BuyerFlag, ...]:
    by_flag: dict[str, tuple[list[dict[str, str]], list[str]]] = {}
    for rule in rules:
        for effect in rule.spec.then.buyer_signals:
            signals, ids = by_flag.setdefault(effect.flag, ([], []))
            signals.append(sentence_texts(effect.signal))
            ids.append(rule.spec.id)
    return tuple(
        build(
            BuyerFlag,
            flag=flag,
            signals=tuple(texts["en"] for texts in signals),
            rule_ids=tuple(ids),
            signal_texts={
                language: tuple(texts[language] for texts in signals) for language in ("en", "zh")
            },
        )
        for flag, (signals, ids) in sorted(by_flag.items())
    )


def recommendations(
    rules: Sequence[CheckedRule], build: Build = validated
) -> tuple[RecommendedAction, ...]:
    seen: set[str] = set()
    found: list[RecommendedAction] = []
    for rule in rules:
        for effect in rule.spec.then.recommend:
            if effect.action in seen:
                continue
            seen.add(effect.action)
            found.append(
                build(
                    RecommendedAction,
                    action=effect.action,
                    why=sentence_en(effect.why),
                    why_texts=sentence_texts(effect.why),
                    rule_id=rule.spec.id,
                )
            )
    return tuple(found)


def sanctions(
    pack: VersionDefinition, rules: Sequence[CheckedRule], build: Build = validated
) -> tuple[Sanction, ...]:
    found = [
        build(
            Sanction,
            name=rule.spec.then.sanction.name,
            description=sentence_en(rule.spec.then.sanction.description),
            description_texts=sentence_texts(rule.spec.then.sanction.description),
            threshold_points=pack.parameter_value(rule.spec.then.sanction.threshold.param),
            rule_id=rule.spec.id,
        )
        for rule in rules
        if rule.spec.then.sanction is not None
    ]
    return tuple(sorted(found, key=lambda sanction: sanction.threshold_points))


def reasons_for(
    pack: VersionDefinition, rule: CheckedRule, role: str, facts: Mapping[str, FactValue]
) -> Reason:
    leaves = satisfied_leaves(rule.condition, facts)
    because = "; ".join(describe_leaf(leaf, facts) for leaf in leaves)
    # Built from checked parts with exactly the declared types (tests/test_predict.py checks
    # that validating a dumped reason gives it back), so pydantic's validation is skipped.
    return trusted(
        Reason,
        rule_id=rule.spec.id,
        title=rule.spec.title.en,
        title_zh=rule.spec.title.zh or rule.spec.title.en,
        role=role,
        because=because,
        facts={leaf.fact: facts[leaf.fact] for leaf in leaves},
        sources=pack.citations[rule.spec.id],
    )
