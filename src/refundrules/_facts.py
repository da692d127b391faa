"""Facts: the typed, flat values a rule may test, derived from a case at an ``as_of`` time.

This is the only place case data becomes rule input. ``derive_facts`` is a pure function of
``(case, as_of)``: the same inputs always give the same facts, every declared fact is always
present (no ``None``, which the engine would silently never match), numbers are floats and
closed vocabularies are their string values. Events and evidence dated after ``as_of`` have not
happened yet and are ignored, so replaying a case at earlier times shows how it stood then.

>>> from datetime import datetime, timezone
>>> sorted(DECISION_FACTS)[:3]
['buyer_account_age_days', 'buyer_cancelled', 'buyer_complaints_filed']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from refundrules._case import Case, Event
from refundrules._engine import engine_number
from refundrules._vocabulary import (
    EventKind,
    EvidenceKind,
    LogisticsStatus,
    Party,
    RefundReason,
    RequestKind,
    Resolution,
    SellerRefusalReason,
)
from refundrules.exceptions import CaseError

__all__ = [
    "CONSEQUENCE_FACTS",
    "DECISION_FACTS",
    "FactSpec",
    "FactValue",
    "derive_facts",
    "time_anchors",
]

FactValue = bool | float | str
FactKind = Literal["boolean", "number", "text"]
Phase = Literal["decision", "consequence"]


@dataclass(frozen=True)
class FactSpec:
    """A declared fact: its name, type, meaning and (for text facts) allowed values."""

    name: str
    kind: FactKind
    description: str
    values: tuple[str, ...] = ()
    unit: str | None = None


def _text(name: str, enum: Iterable[StrEnum], description: str, *extra: str) -> FactSpec:
    return FactSpec(name, "text", description, (*extra, *(member.value for member in enum)))


def _flag(name: str, description: str) -> FactSpec:
    return FactSpec(name, "boolean", description)


def _number(name: str, description: str, unit: str | None = None) -> FactSpec:
    return FactSpec(name, "number", description, unit=unit)


SELLER_RESPONSES = ("none", "agreed", "refused", "partial_offer")
OFFER_STATES = ("none", "pending", "accepted", "rejected")

_DECISION_SPECS: tuple[FactSpec, ...] = (
    _text("request_kind", RequestKind, "what the buyer asks for"),
    _text("request_reason", RefundReason, "the reason the buyer gives"),
    _number("paid_amount", "amount the buyer paid", "currency"),
    _number("requested_amount", "amount the buyer asks back", "currency"),
    _number("requested_share", "requested amount divided by paid amount (0..1)"),
    _flag("order_shipped", "the seller has uploaded tracking"),
    _flag("goods_delivered", "logistics shows the parcel delivered or signed for"),
    _flag("delivery_signed", "logistics shows the parcel signed for by the buyer"),
    _text("logistics_status", LogisticsStatus, "outbound parcel status"),
    _flag("goods_virtual", "virtual goods"),
    _flag("goods_custom_made", "custom-made goods"),
    _flag("goods_fresh", "fresh or perishable goods"),
    _flag("goods_opened_digital", "digital goods whose seal was opened"),
    _flag("during_promotion", "the order or request falls in a promotion period"),
    _number("hours_since_payment", "hours from payment to as_of", "hours"),
    _number("hours_since_request", "hours from the request to as_of", "hours"),
    _number(
        "shipping_delay_hours",
        "hours from payment to tracking upload (to as_of while unshipped)",
        "hours",
    ),
    _number(
        "hours_without_carrier_pickup",
        "hours from tracking upload to the carrier's first scan (to as_of if none; "
        "0 while unshipped)",
        "hours",
    ),
    _number(
        "hours_from_delivery_to_request",
        "hours from delivery to the request (0 if not delivered)",
        "hours",
    ),
    _text("seller_response", (), "the seller's latest response", *SELLER_RESPONSES),
    _number(
        "seller_silence_hours",
        "hours from the request to the seller's first response (to as_of if none)",
        "hours",
    ),
    _text(
        "seller_refusal_reason",
        SellerRefusalReason,
        "reason of the seller's latest refusal ('none' if not refused)",
        "none",
    ),
    _number(
        "hours_since_seller_response",
        "hours from the seller's latest response to as_of (0 if none)",
        "hours",
    ),
    _text("offer_status", (), "state of the seller's partial refund offer", *OFFER_STATES),
    _number(
        "hours_since_offer", "hours from the latest partial offer to as_of (0 if none)", "hours"
    ),
    _number("offered_share", "latest partial offer divided by the requested amount (0 if none)"),
    _flag(
        "disagreement",
        "the seller refused, the buyer rejected a partial offer, or the "
        "seller rejected the returned goods",
    ),
    _number(
        "hours_since_disagreement",
        "hours from the latest disagreement to as_of (0 if none)",
        "hours",
    ),
    _flag("buyer_escalated", "the buyer asked the platform to intervene"),
    _flag("contested", "there is a disagreement or the buyer escalated"),
    _number("hours_since_escalation", "hours from the escalation to as_of (0 if none)", "hours"),
    _text("platform_ruling", Resolution, "the platform's ruling ('none' if not ruled)", "none"),
    _flag("seller_appealed", "the seller appealed the platform's ruling"),
    _flag("return_shipped", "the buyer shipped the goods back"),
    _number(
        "hours_since_return_shipped", "hours from the return shipment to as_of (0 if none)", "hours"
    ),
    _flag("return_confirmed", "the seller (or system) confirmed receipt of the return"),
    _flag("return_rejected", "the seller rejected the returned goods"),
    _flag("buyer_cancelled", "the buyer cancelled the request"),
    _flag("buyer_has_defect_media", "the buyer holds photos or video of the problem"),
    _flag("buyer_has_unboxing_video", "the buyer holds an unboxing video"),
    _flag("buyer_has_chat_record", "the buyer holds chat records"),
    _number("buyer_evidence_count", "evidence items the buyer holds"),
    _flag("seller_has_logistics_proof", "the seller holds logistics tracking proof"),
    _flag("seller_has_quality_proof", "the seller holds a quality or inspection report"),
    _flag("seller_has_brand_authorisation", "the seller holds a brand authorisation"),
    _flag("seller_has_listing_terms", "the seller holds the listing's after-sales terms"),
    _flag("seller_has_chat_record", "the seller holds chat records"),
    _number("seller_evidence_count", "evidence items the seller holds"),
    _number("buyer_account_age_days", "age of the buyer's account", "days"),
    _number("buyer_refund_requests_90d", "refund requests by the buyer in 90 days"),
    _number("buyer_negative_reviews", "negative reviews the buyer has left"),
    _number("buyer_complaints_filed", "complaints the buyer has filed"),
    _number("store_penalty_points", "penalty points the store already has", "points"),
    _number("store_experience_score", "the store's experience score (0..5)"),
    _flag("item_quality_record_known", "the case gives the item's quality-complaint rate"),
    _number(
        "item_quality_complaint_rate",
        "share of this item's orders with quality complaints (0 if unknown)",
    ),
)

_CONSEQUENCE_SPECS: tuple[FactSpec, ...] = (
    _text("resolution", Resolution, "the predicted resolution"),
    _flag("decided_against_seller", "the platform or the system decided for the buyer"),
    _text("decided_by", Party, "who decides (or is predicted to decide) the resolution"),
    _flag("resolution_final", "the resolution has already happened (not only predicted)"),
    _flag("dispute_recorded", "a dispute goes on the store's record"),
    _number("penalty_points_added", "penalty points this case adds", "points"),
    _number("penalty_points_total", "store points after this case", "points"),
    _number("malicious_signal_count", "malicious-complaint signals raised against the buyer"),
)

_SHARED_IN_CONSEQUENCES = (
    "request_kind",
    "request_reason",
    "paid_amount",
    "requested_amount",
    "store_penalty_points",
    "buyer_escalated",
    "seller_response",
)

DECISION_FACTS: Mapping[str, FactSpec] = {spec.name: spec for spec in _DECISION_SPECS}
CONSEQUENCE_FACTS: Mapping[str, FactSpec] = {
    **{name: DECISION_FACTS[name] for name in _SHARED_IN_CONSEQUENCES},
    **{spec.name: spec for spec in _CONSEQUENCE_SPECS},
}

_DEFECT_MEDIA = frozenset({EvidenceKind.PHOTO, EvidenceKind.VIDEO, EvidenceKind.UNBOXING_VIDEO})
_QUALITY_PROOF = frozenset({EvidenceKind.QUALITY_REPORT, EvidenceKind.INSPECTION_REPORT})
_DISAGREEMENTS = (
    EventKind.SELLER_REFUSED,
    EventKind.BUYER_REJECTED_OFFER,
    EventKind.SELLER_REJECTED_RETURN,
)
_SELLER_RESPONSE_KINDS = {
    EventKind.SELLER_AGREED: "agreed",
    EventKind.SELLER_REFUSED: "refused",
    EventKind.SELLER_OFFERED_PARTIAL_REFUND: "partial_offer",
}


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600.0


def _last(events: tuple[Event, ...], *kinds: EventKind) -> Event | None:
    for event in reversed(events):
        if event.kind in kinds:
            return event
    return None


def _first(events: tuple[Event, ...], *kinds: EventKind) -> Event | None:
    for event in events:
        if event.kind in kinds:
            return event
    return None


def _check_as_of(case: Case, as_of: datetime) -> None:
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise CaseError([("as_of", "a timezone is required; got a naive time")])
    if as_of < case.request.requested_at:
        raise CaseError(
            [
                (
                    "as_of",
                    f"as_of {as_of.isoformat()} is before the request "
                    f"({case.request.requested_at.isoformat()})",
                )
            ]
        )


def time_anchors(case: Case, as_of: datetime) -> dict[str, datetime]:
    """The moments deadlines are counted from, as they stood at ``as_of`` (absent if not yet).

    Raises :class:`CaseError` (field ``as_of``) like :func:`derive_facts`.
    """
    _check_as_of(case, as_of)
    events = case.events_until(as_of)
    anchors: dict[str, datetime] = {
        "payment": case.order.paid_at,
        "request": case.request.requested_at,
    }
    if case.order.shipped_at is not None and case.order.shipped_at <= as_of:
        anchors["shipment"] = case.order.shipped_at
    if case.order.delivered_at is not None and case.order.delivered_at <= as_of:
        anchors["delivery"] = case.order.delivered_at
    for anchor, kinds in (
        ("seller_response", tuple(_SELLER_RESPONSE_KINDS)),
        ("offer", (EventKind.SELLER_OFFERED_PARTIAL_REFUND,)),
        ("return_shipped", (EventKind.BUYER_SHIPPED_RETURN,)),
        ("return_rejected", (EventKind.SELLER_REJECTED_RETURN,)),
        ("disagreement", _DISAGREEMENTS),
        ("escalation", (EventKind.BUYER_ESCALATED,)),
        ("ruling", (EventKind.PLATFORM_RULED,)),
    ):
        event = _last(events, *kinds)
        if event is not None:
            anchors[anchor] = event.at
    return anchors


def derive_facts(
    case: Case, as_of: datetime, anchors: Mapping[str, datetime] | None = None
) -> dict[str, FactValue]:
    """The decision-phase facts of ``case`` at ``as_of`` (timezone-aware, not before the request).

    Raises :class:`CaseError` (field ``as_of``) for a naive ``as_of`` or one before the request.
    """
    _check_as_of(case, as_of)
    order, request = case.order, case.request
    events = case.events_until(as_of)
    if anchors is None:
        anchors = time_anchors(case, as_of)

    shipped_at = anchors.get("shipment")
    delivered_at = anchors.get("delivery")
    status = case.logistics.status
    if shipped_at is None:
        status = LogisticsStatus.NOT_SHIPPED
    elif delivered_at is None and status in (LogisticsStatus.DELIVERED, LogisticsStatus.SIGNED):
        status = LogisticsStatus.IN_TRANSIT
    pickup = case.logistics.carrier_pickup_at
    if shipped_at is None:
        without_pickup = 0.0
    elif pickup is not None and pickup <= as_of:
        without_pickup = max(0.0, _hours(shipped_at, pickup))
    else:
        without_pickup = _hours(shipped_at, as_of)

    first_response = _first(events, *_SELLER_RESPONSE_KINDS)
    latest_response = _last(events, *_SELLER_RESPONSE_KINDS)
    latest_offer = _last(events, EventKind.SELLER_OFFERED_PARTIAL_REFUND)
    offer_answer = _last(events, EventKind.BUYER_ACCEPTED_OFFER, EventKind.BUYER_REJECTED_OFFER)
    if latest_offer is None:
        offer_status = "none"
    elif offer_answer is None or offer_answer.at < latest_offer.at:
        offer_status = "pending"
    else:
        offer_status = (
            "accepted" if offer_answer.kind is EventKind.BUYER_ACCEPTED_OFFER else "rejected"
        )
    refusal = _last(events, EventKind.SELLER_REFUSED)
    ruling = _last(events, EventKind.PLATFORM_RULED)
    kinds_seen = {event.kind for event in events}

    held = [
        item for item in case.evidence if item.submitted_at is None or item.submitted_at <= as_of
    ]
    buyer_kinds = {item.kind for item in held if item.party is Party.BUYER}
    seller_kinds = {item.kind for item in held if item.party is Party.SELLER}
    paid = float(order.paid_amount)
    requested = float(request.amount)

    def since(anchor: str) -> float:
        moment = anchors.get(anchor)
        return _hours(moment, as_of) if moment is not None else 0.0

    facts: dict[str, FactValue] = {
        "request_kind": request.kind.value,
        "request_reason": request.reason.value,
        "paid_amount": paid,
        "requested_amount": requested,
        "requested_share": requested / paid if paid > 0 else 0.0,
        "order_shipped": shipped_at is not None,
        "goods_delivered": delivered_at is not None,
        "delivery_signed": delivered_at is not None and status is LogisticsStatus.SIGNED,
        "logistics_status": status.value,
        "goods_virtual": order.virtual,
        "goods_custom_made": order.custom_made,
        "goods_fresh": order.fresh,
        "goods_opened_digital": order.opened_digital,
        "during_promotion": order.during_promotion,
        "hours_since_payment": since("payment"),
        "hours_since_request": since("request"),
        "shipping_delay_hours": _hours(order.paid_at, shipped_at or as_of),
        "hours_without_carrier_pickup": without_pickup,
        "hours_from_delivery_to_request": (
            max(0.0, _hours(delivered_at, request.requested_at))
            if delivered_at is not None
            else 0.0
        ),
        "seller_response": (
            _SELLER_RESPONSE_KINDS[latest_response.kind] if latest_response is not None else "none"
        ),
        "seller_silence_hours": _hours(
            request.requested_at, first_response.at if first_response else as_of
        ),
        "seller_refusal_reason": (
            refusal.refusal_reason.value
            if refusal is not None and refusal is latest_response and refusal.refusal_reason
            else "none"
        ),
        "hours_since_seller_response": since("seller_response"),
        "offer_status": offer_status,
        "hours_since_offer": since("offer"),
        "offered_share": (
            float(latest_offer.amount) / requested
            if latest_offer is not None and latest_offer.amount is not None and requested > 0
            else 0.0
        ),
        "disagreement": "disagreement" in anchors,
        "hours_since_disagreement": since("disagreement"),
        "buyer_escalated": EventKind.BUYER_ESCALATED in kinds_seen,
        "contested": "disagreement" in anchors or EventKind.BUYER_ESCALATED in kinds_seen,
        "hours_since_escalation": since("escalation"),
        "platform_ruling": ruling.ruling.value if ruling and ruling.ruling else "none",
        "seller_appealed": EventKind.SELLER_APPEALED in kinds_seen,
        "return_shipped": EventKind.BUYER_SHIPPED_RETURN in kinds_seen,
        "hours_since_return_shipped": since("return_shipped"),
        "return_confirmed": EventKind.SELLER_CONFIRMED_RETURN in kinds_seen,
        "return_rejected": EventKind.SELLER_REJECTED_RETURN in kinds_seen,
        "buyer_cancelled": EventKind.BUYER_CANCELLED in kinds_seen,
        "buyer_has_defect_media": bool(buyer_kinds & _DEFECT_MEDIA),
        "buyer_has_unboxing_video": EvidenceKind.UNBOXING_VIDEO in buyer_kinds,
        "buyer_has_chat_record": EvidenceKind.CHAT_RECORD in buyer_kinds,
        "buyer_evidence_count": float(sum(1 for item in held if item.party is Party.BUYER)),
        "seller_has_logistics_proof": EvidenceKind.LOGISTICS_PROOF in seller_kinds,
        "seller_has_quality_proof": bool(seller_kinds & _QUALITY_PROOF),
        "seller_has_brand_authorisation": EvidenceKind.BRAND_AUTHORISATION in seller_kinds,
        "seller_has_listing_terms": EvidenceKind.LISTING_TERMS in seller_kinds,
        "seller_has_chat_record": EvidenceKind.CHAT_RECORD in seller_kinds,
        "seller_evidence_count": float(sum(1 for item in held if item.party is Party.SELLER)),
        "buyer_account_age_days": float(case.buyer.account_age_days),
        "buyer_refund_requests_90d": float(case.buyer.refund_requests_90d),
        "buyer_negative_reviews": float(case.buyer.negative_reviews),
        "buyer_complaints_filed": float(case.buyer.complaints_filed),
        "store_penalty_points": float(case.store.penalty_points),
        "store_experience_score": float(case.store.experience_score),
        "item_quality_record_known": case.store.item_quality_complaint_rate is not None,
        "item_quality_complaint_rate": float(case.store.item_quality_complaint_rate or 0.0),
    }
    # Every number in the engine's form (four decimals, no exponent), as thresholds are.
    return {
        name: engine_number(value) if isinstance(value, float) else value
        for name, value in facts.items()
    }
