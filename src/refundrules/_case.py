"""The case: one refund dispute as the seller sees it, validated on the way in.

>>> from refundrules import Case
>>> case = Case.model_validate({
...     "platform": "pinduoduo",
...     "order": {"order_id": "o-1", "paid_amount": "59.90", "paid_at": "2025-03-01T10:00:00+08:00"},
...     "request": {"kind": "refund_only", "reason": "not_received", "amount": "59.90",
...                 "requested_at": "2025-03-02T09:00:00+08:00"},
... })
>>> case.logistics.status.value
'not_shipped'
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from refundrules._vocabulary import (
    EventKind,
    EvidenceKind,
    LogisticsStatus,
    Party,
    Platform,
    RefundReason,
    RequestKind,
    Resolution,
    SellerRefusalReason,
)
from refundrules.exceptions import CaseError

__all__ = [
    "BuyerProfile",
    "Case",
    "Event",
    "Evidence",
    "Logistics",
    "Order",
    "RefundRequest",
    "StoreProfile",
    "load_case",
]

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
PositiveMoney = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Order(_Model):
    """The order the request is about. ``shipped_at`` is when the seller uploaded tracking."""

    order_id: str = Field(min_length=1)
    paid_amount: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    paid_at: AwareDatetime
    shipped_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    goods_category: str = "general"
    virtual: bool = False
    custom_made: bool = False
    fresh: bool = False
    opened_digital: bool = False
    during_promotion: bool = False


class RefundRequest(_Model):
    kind: RequestKind
    reason: RefundReason
    amount: PositiveMoney
    requested_at: AwareDatetime
    description: str | None = None


# Which party may perform each kind of timeline event.
EVENT_ACTOR: dict[EventKind, frozenset[Party]] = {
    EventKind.SELLER_AGREED: frozenset({Party.SELLER}),
    EventKind.SELLER_REFUSED: frozenset({Party.SELLER}),
    EventKind.SELLER_OFFERED_PARTIAL_REFUND: frozenset({Party.SELLER}),
    EventKind.BUYER_ACCEPTED_OFFER: frozenset({Party.BUYER}),
    EventKind.BUYER_REJECTED_OFFER: frozenset({Party.BUYER}),
    EventKind.BUYER_SHIPPED_RETURN: frozenset({Party.BUYER}),
    EventKind.SELLER_CONFIRMED_RETURN: frozenset({Party.SELLER, Party.SYSTEM}),
    EventKind.SELLER_REJECTED_RETURN: frozenset({Party.SELLER}),
    EventKind.BUYER_ESCALATED: frozenset({Party.BUYER}),
    EventKind.EVIDENCE_SUBMITTED: frozenset({Party.BUYER, Party.SELLER}),
    EventKind.PLATFORM_RULED: frozenset({Party.PLATFORM}),
    EventKind.BUYER_CANCELLED: frozenset({Party.BUYER}),
    EventKind.SELLER_APPEALED: frozenset({Party.SELLER}),
}

_SELLER_RESPONSES = frozenset(
    {EventKind.SELLER_AGREED, EventKind.SELLER_REFUSED, EventKind.SELLER_OFFERED_PARTIAL_REFUND}
)


class Event(_Model):
    """One thing that happened after the request, e.g. the seller refusing with a reason."""

    at: AwareDatetime
    actor: Party
    kind: EventKind
    refusal_reason: SellerRefusalReason | None = None
    amount: Money | None = None
    ruling: Resolution | None = None
    evidence_kind: EvidenceKind | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _check_kind_details(self) -> Self:
        allowed = EVENT_ACTOR[self.kind]
        if self.actor not in allowed:
            names = " or ".join(sorted(p.value for p in allowed))
            raise ValueError(f"'{self.kind.value}' is done by {names}, not by '{self.actor.value}'")
        required = {
            EventKind.SELLER_REFUSED: "refusal_reason",
            EventKind.SELLER_OFFERED_PARTIAL_REFUND: "amount",
            EventKind.PLATFORM_RULED: "ruling",
        }.get(self.kind)
        if required is not None and getattr(self, required) is None:
            raise ValueError(f"'{self.kind.value}' needs '{required}'")
        return self


class Evidence(_Model):
    """An item of evidence one side holds (and may have submitted to the platform)."""

    party: Party
    kind: EvidenceKind
    submitted_at: AwareDatetime | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _check_party(self) -> Self:
        if self.party not in (Party.BUYER, Party.SELLER):
            raise ValueError(f"evidence belongs to 'buyer' or 'seller', not '{self.party.value}'")
        return self


class Logistics(_Model):
    """Outbound parcel status. ``carrier_pickup_at`` is the carrier's first scan, if any."""

    status: LogisticsStatus = LogisticsStatus.NOT_SHIPPED
    carrier_pickup_at: AwareDatetime | None = None
    tracking_number: str | None = None


class BuyerProfile(_Model):
    account_age_days: Count = 365
    refund_requests_90d: Count = 0
    negative_reviews: Count = 0
    complaints_filed: Count = 0


class StoreProfile(_Model):
    penalty_points: Count = 0
    experience_score: Annotated[float, Field(ge=0, le=5)] = 4.5
    item_quality_complaint_rate: Annotated[float, Field(ge=0, le=1)] | None = None


class Case(_Model):
    """One refund dispute. Timeline events may arrive in any order; they are kept sorted by time.

    Build it with ``Case.model_validate(data)`` or ``load_case(path)``; invalid input raises
    :class:`refundrules.CaseError` naming each bad field (``request.amount``, ``timeline[2].at``).
    """

    case_id: str = "case"
    platform: Platform
    order: Order
    request: RefundRequest
    timeline: tuple[Event, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    logistics: Logistics = Logistics()
    buyer: BuyerProfile = BuyerProfile()
    store: StoreProfile = StoreProfile()

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise case_error_from(exc) from exc

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Any = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        try:
            return super().model_validate(
                obj, strict=strict, from_attributes=from_attributes, context=context
            )
        except ValidationError as exc:
            raise case_error_from(exc) from exc

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: Any = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        try:
            return super().model_validate_json(json_data, strict=strict, context=context)
        except ValidationError as exc:
            raise case_error_from(exc) from exc

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        problems = list(_consistency_problems(self))
        if problems:
            raise CaseError(problems)
        ordered = tuple(sorted(self.timeline, key=lambda event: event.at))
        if ordered != self.timeline:
            object.__setattr__(self, "timeline", ordered)
        return self

    def events_until(self, as_of: datetime) -> tuple[Event, ...]:
        """The timeline as it stood at ``as_of`` (events after it have not happened yet)."""
        return tuple(event for event in self.timeline if event.at <= as_of)


def _consistency_problems(case: Case) -> Iterable[tuple[str, str]]:
    order, request = case.order, case.request
    if request.amount > order.paid_amount:
        yield (
            "request.amount",
            f"the requested amount {request.amount} is above the paid amount {order.paid_amount}",
        )
    if request.requested_at < order.paid_at:
        yield ("request.requested_at", "the request is dated before the order was paid")
    if order.shipped_at is not None and order.shipped_at < order.paid_at:
        yield ("order.shipped_at", "the order is shipped before it was paid")
    if order.delivered_at is not None:
        if order.shipped_at is None:
            yield ("order.delivered_at", "a delivered order needs 'order.shipped_at'")
        elif order.delivered_at < order.shipped_at:
            yield ("order.delivered_at", "the order is delivered before it was shipped")
    status = case.logistics.status
    if status is LogisticsStatus.NOT_SHIPPED and order.shipped_at is not None:
        yield ("logistics.status", "'not_shipped' contradicts 'order.shipped_at'")
    if status is not LogisticsStatus.NOT_SHIPPED and order.shipped_at is None:
        yield ("order.shipped_at", f"logistics status '{status.value}' needs 'order.shipped_at'")
    delivered = status in (LogisticsStatus.DELIVERED, LogisticsStatus.SIGNED)
    if delivered and order.delivered_at is None:
        yield (
            "order.delivered_at",
            f"logistics status '{status.value}' needs 'order.delivered_at'",
        )
    if not delivered and order.delivered_at is not None:
        yield (
            "logistics.status",
            "'order.delivered_at' is set, so the status must be 'delivered' or 'signed'",
        )
    pickup = case.logistics.carrier_pickup_at
    if pickup is not None and (order.shipped_at is None or pickup < order.paid_at):
        yield ("logistics.carrier_pickup_at", "a carrier pickup needs a shipped, paid order")
    seen: set[EventKind] = set()
    for index, event in sorted(enumerate(case.timeline), key=lambda pair: pair[1].at):
        path = f"timeline[{index}]"
        if event.at < request.requested_at:
            what = "a seller response" if event.kind in _SELLER_RESPONSES else "an event"
            yield (f"{path}.at", f"{what} ({event.kind.value}) is dated before the request")
        needs = _EVENT_NEEDS.get(event.kind)
        if needs is not None and not (needs[0] & seen):
            yield (f"{path}.kind", f"'{event.kind.value}' needs {needs[1]} before it")
        offer = event.amount if event.kind is EventKind.SELLER_OFFERED_PARTIAL_REFUND else None
        if offer is not None and not Decimal(0) < offer <= request.amount:
            yield (f"{path}.amount", "a partial offer is above 0 and at most the requested amount")
        if event.kind in _RETURN_EVENTS and request.kind is RequestKind.REFUND_ONLY:
            yield (f"{path}.kind", f"'{event.kind.value}' is impossible on a refund-only request")
        seen.add(event.kind)
    for index, item in enumerate(case.evidence):
        if item.submitted_at is not None and item.submitted_at < order.paid_at:
            yield (
                f"evidence[{index}].submitted_at",
                "evidence submitted before the order was paid",
            )


_RETURN_EVENTS = frozenset(
    {
        EventKind.BUYER_SHIPPED_RETURN,
        EventKind.SELLER_CONFIRMED_RETURN,
        EventKind.SELLER_REJECTED_RETURN,
    }
)
_EVENT_NEEDS: dict[EventKind, tuple[frozenset[EventKind], str]] = {
    EventKind.BUYER_ACCEPTED_OFFER: (
        frozenset({EventKind.SELLER_OFFERED_PARTIAL_REFUND}),
        "a partial refund offer",
    ),
    EventKind.BUYER_REJECTED_OFFER: (
        frozenset({EventKind.SELLER_OFFERED_PARTIAL_REFUND}),
        "a partial refund offer",
    ),
    EventKind.SELLER_CONFIRMED_RETURN: (
        frozenset({EventKind.BUYER_SHIPPED_RETURN}),
        "'buyer_shipped_return'",
    ),
    EventKind.SELLER_REJECTED_RETURN: (
        frozenset({EventKind.BUYER_SHIPPED_RETURN}),
        "'buyer_shipped_return'",
    ),
    EventKind.PLATFORM_RULED: (frozenset({EventKind.BUYER_ESCALATED}), "'buyer_escalated'"),
    EventKind.SELLER_APPEALED: (frozenset({EventKind.PLATFORM_RULED}), "'platform_ruled'"),
}


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif (
            part.startswith(("function-after", "function-before", "function-wrap"))
            or part in _ENUM_TAGS
            or "[" in part
        ):
            continue
        else:
            path += f".{part}" if path else part
    return path


_ENUM_TAGS = frozenset({"enum", "literal", "is-instance"})


def _all_field_names() -> list[str]:
    names: set[str] = set()
    for model in (
        Case,
        Order,
        RefundRequest,
        Event,
        Evidence,
        Logistics,
        BuyerProfile,
        StoreProfile,
    ):
        names.update(model.model_fields)
    return sorted(names)


def case_error_from(exc: ValidationError, *, source: str | None = None) -> CaseError:
    """Turn pydantic's error into a :class:`CaseError` with field paths and hints."""
    problems: list[tuple[str, str]] = []
    for error in exc.errors(include_url=False):
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, CaseError):
            prefix = _location(tuple(error["loc"]))
            problems.extend(
                (f"{prefix}.{path}" if prefix else path, message) for path, message in cause.errors
            )
            continue
        path = _location(tuple(error["loc"]))
        message = error["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if error["type"] == "extra_forbidden":
            name = str(error["loc"][-1])
            close = difflib.get_close_matches(name, _all_field_names(), n=1)
            message = f"unknown field {name!r}" + (
                f" (did you mean {close[0]!r}?)" if close else ""
            )
        elif error["type"] == "enum":
            allowed = [
                part.strip().strip("'")
                for part in str(error.get("ctx", {}).get("expected", ""))
                .replace(" or ", ", ")
                .split(",")
            ]
            close = difflib.get_close_matches(str(error.get("input")), allowed, n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
        elif error["type"] == "timezone_aware":
            message = "a timezone is required (e.g. '2025-03-01T10:00:00+08:00'); got a naive time"
        problems.append((path, message))
    return CaseError(problems, source=source)


def load_case(source: str | Path | Mapping[str, Any]) -> Case:
    """Load a case from a JSON/YAML file path or a mapping; errors raise :class:`CaseError`."""
    if isinstance(source, Mapping):
        return Case.model_validate(dict(source))
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseError([("", f"cannot read case file: {exc.strerror}")], source=str(path)) from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CaseError(
            [("", f"not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}")], source=str(path)
        ) from exc
    if not isinstance(data, dict):
        raise CaseError([("", "a case file must hold a mapping")], source=str(path))
    try:
        return Case.model_validate(data)
    except CaseError as exc:
        raise CaseError(exc.errors, source=str(path)) from exc
