"""The core vocabularies of the domain: each is a string enum, so JSON and YAML use the values.

``Stage``, ``Resolution``, ``LogisticsStatus`` and ``ReturnShippingPayer`` are closed. The others
are the *core* of a vocabulary that a platform profile may extend (``vocabulary:`` in its
``profile.yaml``), so case fields holding them are validated against the profile, not the enum.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CompensationKind",
    "EarlierRequestOutcome",
    "EventKind",
    "EvidenceKind",
    "GoodsCondition",
    "LogisticsStatus",
    "Party",
    "RefundReason",
    "RequestKind",
    "Resolution",
    "ReturnShippingPayer",
    "ReturnTerm",
    "SellerRefusalReason",
    "Stage",
]


class RequestKind(StrEnum):
    """What the buyer asks for (仅退款 / 退货退款 / 换货)."""

    REFUND_ONLY = "refund_only"
    RETURN_AND_REFUND = "return_and_refund"
    EXCHANGE = "exchange"


class RefundReason(StrEnum):
    QUALITY_PROBLEM = "quality_problem"
    NOT_AS_DESCRIBED = "not_as_described"
    NOT_RECEIVED = "not_received"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    MISSING_PART = "missing_part"
    NO_REASON_7_DAY = "no_reason_7_day"
    CHANGED_MIND = "changed_mind"
    WRONG_SIZE = "wrong_size"
    COUNTERFEIT = "counterfeit"


class Party(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    PLATFORM = "platform"
    SYSTEM = "system"


class EventKind(StrEnum):
    """What happened on the timeline. Each kind has one party allowed to do it (see the case)."""

    SELLER_AGREED = "seller_agreed"
    SELLER_REFUSED = "seller_refused"
    SELLER_OFFERED_PARTIAL_REFUND = "seller_offered_partial_refund"
    BUYER_ACCEPTED_OFFER = "buyer_accepted_offer"
    BUYER_REJECTED_OFFER = "buyer_rejected_offer"
    BUYER_SHIPPED_RETURN = "buyer_shipped_return"
    SELLER_CONFIRMED_RETURN = "seller_confirmed_return"
    SELLER_REJECTED_RETURN = "seller_rejected_return"
    BUYER_ESCALATED = "buyer_escalated"
    EVIDENCE_SUBMITTED = "evidence_submitted"
    PLATFORM_RULED = "platform_ruled"
    BUYER_CANCELLED = "buyer_cancelled"
    SELLER_APPEALED = "seller_appealed"
    BUYER_CHANGED_REQUEST = "buyer_changed_request"
    BUYER_SENT_GOODS_BACK = "buyer_sent_goods_back"
    SELLER_CANCELLED_ORDER = "seller_cancelled_order"
    PLATFORM_INTERVENED = "platform_intervened"
    PLATFORM_INSTANT_REFUND = "platform_instant_refund"


class SellerRefusalReason(StrEnum):
    """Reasons a seller gives for refusing; the first three are ones the sources show rejected."""

    PACKAGE_OPENED = "package_opened"
    BUYER_SUBJECTIVELY_UNHAPPY = "buyer_subjectively_unhappy"
    CANNOT_RESELL = "cannot_resell"
    GOODS_AS_DESCRIBED = "goods_as_described"
    DELIVERED_AND_SIGNED = "delivered_and_signed"
    OUTSIDE_RETURN_PERIOD = "outside_return_period"
    EXCLUDED_FROM_NO_REASON_RETURN = "excluded_from_no_reason_return"
    OTHER = "other"


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    UNBOXING_VIDEO = "unboxing_video"
    CHAT_RECORD = "chat_record"
    LOGISTICS_PROOF = "logistics_proof"
    QUALITY_REPORT = "quality_report"
    BRAND_AUTHORISATION = "brand_authorisation"
    LISTING_TERMS = "listing_terms"
    INSPECTION_REPORT = "inspection_report"


class CompensationKind(StrEnum):
    """What a compensation claim on top of (or instead of) the refund is for."""

    REPAIR_COST = "repair_cost"
    PRICE_DIFFERENCE = "price_difference"
    SHIPPING_COST = "shipping_cost"
    PUNITIVE_DAMAGES = "punitive_damages"
    OTHER = "other"


class ReturnTerm(StrEnum):
    """A condition for returns the seller stated before the purchase (in the listing)."""

    TAGS_INTACT = "tags_intact"
    UNUSED = "unused"
    ORIGINAL_PACKAGING = "original_packaging"
    NO_RETURN_ONCE_OPENED = "no_return_once_opened"
    NO_RETURN_CUSTOM = "no_return_custom"
    NO_RETURN_HYGIENE = "no_return_hygiene"


class GoodsCondition(StrEnum):
    """The state goods are in when they are sent back."""

    AS_NEW = "as_new"
    USED = "used"
    DAMAGED = "damaged"
    TAGS_REMOVED = "tags_removed"
    INCOMPLETE = "incomplete"


class EarlierRequestOutcome(StrEnum):
    """How an earlier request on the same order ended."""

    REJECTED = "rejected"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class LogisticsStatus(StrEnum):
    NOT_SHIPPED = "not_shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    SIGNED = "signed"
    LOST = "lost"
    RETURNED_TO_SENDER = "returned_to_sender"


class Stage(StrEnum):
    """Where the dispute stands at ``as_of``."""

    AWAITING_SELLER = "awaiting_seller"
    AWAITING_BUYER = "awaiting_buyer"
    AWAITING_BUYER_RETURN = "awaiting_buyer_return"
    AWAITING_SELLER_RECEIPT = "awaiting_seller_receipt"
    ESCALATION_OPEN = "escalation_open"
    PLATFORM_REVIEWING = "platform_reviewing"
    CLOSED = "closed"


class Resolution(StrEnum):
    """How the dispute ends (or is predicted to end)."""

    FULL_REFUND = "full_refund"
    PARTIAL_REFUND = "partial_refund"
    RETURN_AND_REFUND = "return_and_refund"
    REFUND_WITHOUT_RETURN = "refund_without_return"
    EXCHANGE = "exchange"
    REQUEST_REJECTED = "request_rejected"
    REQUEST_CLOSED = "request_closed"


class ReturnShippingPayer(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"
    NOT_APPLICABLE = "not_applicable"
