"""Hypothesis strategies that generate valid cases for a rule pack.

Events and ``as_of`` land on and around every threshold the pack's parameters define:
exactly at a window's end, one second before and one after. Public through
``refundrules.testing``; the authoring tools (diff, coverage, properties) use the same
strategies from here, so this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from refundrules._case import Case
from refundrules._pack_model import GENERATOR_KEYS, Parameter
from refundrules._rulepack import RulePack
from refundrules._vocabulary import (
    EventKind,
    EvidenceKind,
    LogisticsStatus,
    RefundReason,
    RequestKind,
    Resolution,
    SellerRefusalReason,
)

__all__ = ["SELLER_MOVES", "Evaluation", "cases", "evaluations", "threshold_offsets"]

Evaluation = tuple[Case, datetime]
SELLER_MOVES = ("none", "agreed", "refused", "partial_offer")
_CHINA = timezone(timedelta(hours=8))
# True about one time in six, shrinking to False (Hypothesis' booleans are 50/50).
_RARELY = st.sampled_from((False, False, False, False, False, True))
_EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=_CHINA)
_FIXABLE = GENERATOR_KEYS


def _seconds(unit: str, value: float) -> int:
    return round(value * (3600 if unit == "hours" else 86400))


def _parameters(packs: Sequence[RulePack]) -> list[Parameter]:
    return [parameter for pack in packs for parameter in pack.parameters.values()]


def threshold_offsets(*packs: RulePack) -> st.SearchStrategy[int]:
    """Offsets in seconds: every time parameter's length −1 s, exactly, +1 s, or anything."""
    edges: set[int] = {0, 1}
    for parameter in _parameters(packs):
        if parameter.unit in ("hours", "days"):
            values = [parameter.value, *(alt.value for alt in parameter.alternatives)]
            for value in values:
                length = _seconds(parameter.unit, value)
                edges.update({length - 1, length, length + 1})
    ordered = sorted(edge for edge in edges if edge >= 0)
    # Edges, short gaps (most disputes move within hours) and anything up to a month.
    return st.one_of(
        st.sampled_from(ordered), st.integers(0, 12 * 3600), st.integers(0, 30 * 86400)
    )


def _money_points(packs: Sequence[RulePack]) -> list[Decimal]:
    cent = Decimal("0.01")
    points = {Decimal("0.01"), Decimal("9.90"), Decimal("39.90"), Decimal("199.00")}
    for parameter in _parameters(packs):
        if parameter.unit == "currency":
            value = Decimal(str(parameter.value)).quantize(cent)
            points.update({value - cent, value, value + cent})
    return sorted(point for point in points if point > 0)


def _count_points(packs: Sequence[RulePack], unit: str, default: int) -> st.SearchStrategy[int]:
    # The case's default comes first so that shrinking leads back to it.
    edges = {0, 1}
    for parameter in _parameters(packs):
        if parameter.unit == unit:
            value = int(parameter.value)
            edges.update({max(0, value - 1), value, value + 1})
    return st.one_of(st.just(default), st.sampled_from(sorted(edges)), st.integers(0, 60))


def _ratio_points(packs: Sequence[RulePack]) -> st.SearchStrategy[float | None]:
    edges = {0.0, 1.0}
    for parameter in _parameters(packs):
        if parameter.unit == "ratio":
            edges.add(parameter.value)
    return st.one_of(st.none(), st.sampled_from(sorted(edges)), st.floats(0, 1, allow_nan=False))


def _iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass(frozen=True)
class _Parts:
    """Sub-strategies built once per ``evaluations`` call (building them per draw is slow)."""

    offset: st.SearchStrategy[int]
    money: st.SearchStrategy[Decimal]
    days: st.SearchStrategy[int]
    counts: st.SearchStrategy[int]
    points: st.SearchStrategy[int]
    ratio: st.SearchStrategy[float | None]
    score: st.SearchStrategy[float]


def _parts(packs: Sequence[RulePack]) -> _Parts:
    return _Parts(
        offset=threshold_offsets(*packs),
        money=st.one_of(
            st.sampled_from(_money_points(packs)),
            st.decimals(Decimal("0.01"), Decimal("5000"), places=2, allow_nan=False),
        ),
        days=_count_points(packs, "days", 365),
        counts=_count_points(packs, "count", 0),
        points=_count_points(packs, "points", 0),
        ratio=_ratio_points(packs),
        score=st.one_of(st.just(4.5), st.floats(0, 5, allow_nan=False)),
    )


@st.composite
def _evaluation(
    draw: st.DrawFn, packs: tuple[RulePack, ...], parts: _Parts, fixed: dict[str, Any]
) -> Evaluation:
    pack = packs[0]
    offset = parts.offset

    def pick(name: str, strategy: st.SearchStrategy[Any]) -> Any:
        return fixed[name] if name in fixed else draw(strategy)

    paid_at = _EPOCH + timedelta(minutes=draw(st.integers(0, 60 * 24 * 300)))
    money = parts.money
    paid = Decimal(str(pick("paid_amount", money))).quantize(Decimal("0.01"))
    requested = (
        paid
        if draw(st.booleans())
        else draw(st.decimals(Decimal("0.01"), paid, places=2, allow_nan=False))
    )
    kind = RequestKind(pick("kind", st.sampled_from(list(RequestKind))))
    reason = RefundReason(pick("reason", st.sampled_from(list(RefundReason))))

    shipped = bool(pick("shipped", st.booleans()))
    delivered = shipped and bool(pick("delivered", st.booleans()))
    order: dict[str, Any] = {
        "order_id": f"gen-{draw(st.integers(0, 10**6))}",
        "paid_amount": str(paid),
        "paid_at": _iso(paid_at),
        "virtual": draw(_RARELY),
        "custom_made": draw(_RARELY),
        "fresh": draw(_RARELY),
        "opened_digital": draw(_RARELY),
        "during_promotion": draw(_RARELY),
    }
    logistics: dict[str, Any] = {"status": LogisticsStatus.NOT_SHIPPED.value}
    latest = paid_at
    if shipped:
        shipped_at = paid_at + timedelta(seconds=draw(offset))
        order["shipped_at"] = _iso(shipped_at)
        latest = shipped_at
        if draw(st.booleans()):
            logistics["carrier_pickup_at"] = _iso(shipped_at + timedelta(seconds=draw(offset)))
        if delivered:
            delivered_at = shipped_at + timedelta(seconds=draw(st.integers(3600, 6 * 86400)))
            order["delivered_at"] = _iso(delivered_at)
            latest = delivered_at
            logistics["status"] = draw(
                st.sampled_from([LogisticsStatus.DELIVERED, LogisticsStatus.SIGNED])
            ).value
        else:
            logistics["status"] = draw(
                st.sampled_from(
                    [
                        LogisticsStatus.IN_TRANSIT,
                        LogisticsStatus.LOST,
                        LogisticsStatus.RETURNED_TO_SENDER,
                    ]
                )
            ).value
    requested_at = latest + timedelta(seconds=draw(offset))

    timeline: list[dict[str, Any]] = []
    moment = requested_at

    def add(actor: str, event_kind: EventKind, **details: Any) -> None:
        nonlocal moment
        moment = moment + timedelta(seconds=max(1, draw(offset)))
        timeline.append({"at": _iso(moment), "actor": actor, "kind": event_kind.value, **details})

    move = pick("seller_move", st.sampled_from(SELLER_MOVES))
    disagreement = False
    if move == "agreed":
        add("seller", EventKind.SELLER_AGREED)
        if kind is not RequestKind.REFUND_ONLY and draw(st.booleans()):
            add("buyer", EventKind.BUYER_SHIPPED_RETURN)
            answer = draw(st.sampled_from(["none", "confirmed", "rejected"]))
            if answer == "confirmed":
                add("seller", EventKind.SELLER_CONFIRMED_RETURN)
            elif answer == "rejected":
                add("seller", EventKind.SELLER_REJECTED_RETURN)
                disagreement = True
    elif move == "refused":
        add(
            "seller",
            EventKind.SELLER_REFUSED,
            refusal_reason=draw(st.sampled_from(list(SellerRefusalReason))).value,
        )
        disagreement = True
    elif move == "partial_offer":
        offer = draw(st.decimals(Decimal("0.01"), requested, places=2, allow_nan=False))
        add("seller", EventKind.SELLER_OFFERED_PARTIAL_REFUND, amount=str(offer))
        answer = draw(st.sampled_from(["none", "accepted", "rejected"]))
        if answer == "accepted":
            add("buyer", EventKind.BUYER_ACCEPTED_OFFER)
        elif answer == "rejected":
            add("buyer", EventKind.BUYER_REJECTED_OFFER)
            disagreement = True
    escalate = fixed.get("escalated")
    if escalate is None:
        escalate = disagreement and draw(st.booleans())
    if escalate:
        add("buyer", EventKind.BUYER_ESCALATED)
        if draw(st.booleans()):
            ruling = draw(st.sampled_from(list(Resolution)))
            add("platform", EventKind.PLATFORM_RULED, ruling=ruling.value)
            if draw(st.booleans()):
                add("seller", EventKind.SELLER_APPEALED)
    if draw(_RARELY):
        add("buyer", EventKind.BUYER_CANCELLED)

    evidence = [
        {"party": party, "kind": item.value}
        for party in ("buyer", "seller")
        for item in draw(st.lists(st.sampled_from(list(EvidenceKind)), max_size=4, unique=True))
    ]
    data: dict[str, Any] = {
        "case_id": f"generated-{draw(st.integers(0, 10**9))}",
        "platform": pack.platform.value,
        "order": order,
        "request": {
            "kind": kind.value,
            "reason": reason.value,
            "amount": str(requested),
            "requested_at": _iso(requested_at),
        },
        "timeline": draw(st.permutations(timeline)),  # any order: the case sorts them
        "evidence": evidence,
        "logistics": logistics,
        "buyer": {
            "account_age_days": draw(parts.days),
            "refund_requests_90d": draw(parts.counts),
            "negative_reviews": draw(parts.counts),
            "complaints_filed": draw(parts.counts),
        },
        "store": {
            "penalty_points": draw(parts.points),
            "experience_score": draw(parts.score),
            "item_quality_complaint_rate": draw(parts.ratio),
        },
    }
    case = Case.model_validate(data)
    as_of = moment + timedelta(seconds=draw(offset))
    if draw(st.booleans()):
        as_of = as_of.astimezone(UTC)  # the same instant in another zone
    return case, as_of


def evaluations(
    pack: RulePack, *, also: Sequence[RulePack] = (), **fixed: Any
) -> st.SearchStrategy[Evaluation]:
    """``(case, as_of)`` pairs for ``pack``, with ``as_of`` landing on and around thresholds.

    ``also`` adds the thresholds of other packs (e.g. the new version in a diff). ``fixed``
    pins parts of the case: ``kind``, ``reason``, ``seller_move`` (one of
    :data:`SELLER_MOVES`), ``shipped``, ``delivered``, ``escalated``, ``paid_amount``.
    """
    unknown = set(fixed) - _FIXABLE
    if unknown:
        raise TypeError(f"cannot fix {sorted(unknown)}; fixable: {', '.join(sorted(_FIXABLE))}")
    if fixed.get("seller_move", "none") not in SELLER_MOVES:
        raise ValueError(f"seller_move must be one of {SELLER_MOVES}")
    packs = (pack, *also)
    return _evaluation(packs, _parts(packs), dict(fixed))


def cases(
    pack: RulePack, *, also: Sequence[RulePack] = (), **fixed: Any
) -> st.SearchStrategy[Case]:
    """Valid cases for ``pack`` (see :func:`evaluations` for ``also`` and ``fixed``)."""
    return evaluations(pack, also=also, **fixed).map(lambda evaluation: evaluation[0])
