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
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Protocol, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from refundrules._messages import NAIVE_TIME
from refundrules._terminal import CONTROL_CHARACTERS
from refundrules._vocabulary import EarlierRequestOutcome, LogisticsStatus, Resolution
from refundrules.exceptions import CaseError

__all__ = [
    "BuyerProfile",
    "Case",
    "CompensationClaim",
    "EarlierRequest",
    "Event",
    "Evidence",
    "Logistics",
    "Order",
    "PlatformRules",
    "RefundRequest",
    "StoreProfile",
]

# The years a case's times may fall in: wide enough for any real dispute, narrow enough that
# a deadline or a business-day count from them never leaves Python's datetime range.
FIRST_YEAR, LAST_YEAR = 1970, 2199


def check_moment(value: datetime) -> datetime:
    """``value`` if it has a timezone and falls in FIRST_YEAR..LAST_YEAR; else ValueError."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(NAIVE_TIME)
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}, got {value.year}")
    return value


def _visible(value: str) -> str:
    hidden = next((char for char in value if char in CONTROL_CHARACTERS), None)
    if hidden is not None:
        raise ValueError(
            f"control character U+{ord(hidden):04X} is not allowed (terminal escape sequences "
            "and direction overrides could disguise the text on screen)"
        )
    return value


def _ascii_amount(value: Any) -> Any:
    if isinstance(value, str) and not value.isascii():
        raise ValueError(
            "write amounts with the digits 0-9 and a '.' (full-width or other scripts' digits "
            f"are not read): got {value[:40]!r}"
        )
    return value


Moment = Annotated[AwareDatetime, AfterValidator(check_moment)]
Text = Annotated[str, AfterValidator(_visible)]
Money = Annotated[
    Decimal, Field(ge=0, max_digits=14, decimal_places=2), BeforeValidator(_ascii_amount)
]
PositiveMoney = Annotated[
    Decimal, Field(gt=0, max_digits=14, decimal_places=2), BeforeValidator(_ascii_amount)
]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
# Values of a vocabulary a platform profile may extend (reasons, event kinds, parties, …):
# the case model checks their form, the profile checks that they exist on that platform.
Term = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
# The validation context of the Case.model_validate call under way (see Case.model_validate).
_CONTEXT: ContextVar[Any] = ContextVar("refundrules_case_context", default=None)


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", use_enum_values=False, use_attribute_docstrings=True
    )


class Order(_Model):
    """The order the request is about. ``shipped_at`` is when the seller uploaded tracking."""

    order_id: Text = Field(min_length=1)
    """The platform's order number, or any id of yours; it is only echoed back."""
    paid_amount: Money
    """What the buyer paid for the order, in `currency` (a decimal string, at most 2 decimals).
    """
    currency: CurrencyCode | None = None
    """ISO 4217 code of the amounts (CNY, USD, ...); the platform profile's default currency
    when absent.
    """
    paid_at: Moment
    """When the buyer paid, with a timezone (ISO 8601)."""
    shipped_at: Moment | None = None
    """When the seller uploaded tracking (shipped); absent if the order has not shipped."""
    delivered_at: Moment | None = None
    """When the carrier delivered or the buyer signed; needs `shipped_at` and a delivered or
    signed logistics status.
    """
    goods_category: Text = "general"
    """The kind of goods, as the platform's category names it (free text; `general` by
    default).
    """
    virtual: bool = False
    """Virtual goods (top-ups, vouchers, services delivered online); no seven-day no-reason
    return.
    """
    custom_made: bool = False
    """Made to the buyer's order; excluded from no-reason returns."""
    fresh: bool = False
    """Fresh or perishable goods; excluded from no-reason returns."""
    opened_digital: bool = False
    """Digital goods (software, audio-visual) whose seal the buyer has opened; excluded from
    no-reason returns.
    """
    during_promotion: bool = False
    """Bought during a platform promotion (some platforms shorten or lengthen windows then)."""
    after_sales_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    """The after-sales (return or warranty) period promised for this order, in days from
    delivery (7 for seven-day no-reason returns, 365 for a one-year warranty).
    """
    return_terms: tuple[Term, ...] = ()
    """Conditions for returns the seller stated before the purchase (`tags_intact`, `unused`,
    `original_packaging`, `no_return_once_opened`, `no_return_custom`, `no_return_hygiene`;
    the platform profile lists its own).
    """


class CompensationClaim(_Model):
    """Money the buyer claims on top of (or instead of) the refund, e.g. a repair cost."""

    kind: Term
    """What the money is for (`repair_cost`, `price_difference`, `shipping_cost`,
    `punitive_damages`, `other`; from the platform profile).
    """
    amount: PositiveMoney
    """The amount claimed, in the order's currency."""


class EarlierRequest(_Model):
    """A request on the same order before this one (the buyer re-applies after it ended)."""

    kind: Term
    """The kind of the earlier request (`refund_only`, `return_and_refund`, `exchange`, ...)."""
    reason: Term
    """The reason the buyer gave then, from the platform's reasons."""
    requested_at: Moment
    """When the earlier request was made; between the payment and this request."""
    outcome: EarlierRequestOutcome
    """How the earlier request ended (`rejected`, `closed` or `cancelled`)."""


class RefundRequest(_Model):
    """What the buyer asks for. ``kind`` and ``reason`` come from the platform's vocabularies.

    ``kind`` is the kind the request was opened with; a ``buyer_changed_request`` event on the
    timeline changes it from then on (see :meth:`Case.request_kind_at`).
    """

    kind: Term
    """What the buyer asks for, from the platform's request kinds (`refund_only`,
    `return_and_refund`, `exchange`, ...), as the request was opened.
    """
    reason: Term
    """Why, from the platform's reasons (`not_received`, `quality_problem`, `not_as_described`,
    `no_reason_7_day`, ...).
    """
    amount: PositiveMoney
    """The refund asked for; at most the paid amount."""
    requested_at: Moment
    """When the buyer opened this request; every timeline event comes after it."""
    description: Text | None = None
    """The buyer's own words, kept for the record (never read by a rule)."""
    compensation: CompensationClaim | None = None
    """Money claimed on top of (or instead of) the refund, such as a repair cost."""
    earlier_requests: tuple[EarlierRequest, ...] = ()
    """Earlier requests on the same order that ended before this one (the buyer re-applies)."""


class Event(_Model):
    """One thing that happened after the request, e.g. the seller refusing with a reason.

    Which kinds exist, who may do each and what must come before it is the platform's
    (its profile's ``events``); the case checks them when it is validated.
    """

    at: Moment
    """When it happened, with a timezone; after the request."""
    actor: Term
    """Who did it, from the platform's parties (`buyer`, `seller`, `platform`, `system`)."""
    kind: Term
    """What happened, from the platform's event kinds (`seller_refused`, `buyer_escalated`,
    ...); the profile says who may do it and what must come first.
    """
    refusal_reason: Term | None = None
    """Why the seller refused, from the platform's refusal reasons (on `seller_refused`)."""
    amount: Money | None = None
    """The amount offered or changed to (on a partial offer or a changed request)."""
    ruling: Resolution | None = None
    """The platform's ruling (on `platform_ruled`)."""
    evidence_kind: Term | None = None
    """The kind of evidence submitted (on `evidence_submitted`)."""
    request_kind: Term | None = None
    """The kind the request changes to (on `buyer_changed_request`); must differ from the kind
    it has then.
    """
    goods_condition: Term | None = None
    """The condition of goods sent back (`as_new`, `used`, `damaged`, `tags_removed`,
    `incomplete`).
    """
    note: Text | None = None
    """Free text kept for the record (never read by a rule)."""


class Evidence(_Model):
    """An item of evidence one side holds (and may have submitted to the platform)."""

    party: Term
    """Who holds it (`buyer` or `seller`)."""
    kind: Term
    """What it is, from the platform's evidence kinds (`photo`, `unboxing_video`,
    `logistics_proof`, ...).
    """
    submitted_at: Moment | None = None
    """When it was submitted to the platform; absent if it is held but not yet submitted."""
    description: Text | None = None
    """Free text kept for the record (never read by a rule)."""


class Logistics(_Model):
    """Outbound parcel status. ``carrier_pickup_at`` is the carrier's first scan, if any."""

    status: LogisticsStatus = LogisticsStatus.NOT_SHIPPED
    """Where the outbound parcel is (`not_shipped`, `in_transit`, `delivered`, `signed`,
    `lost`, `returned_to_sender`).
    """
    carrier_pickup_at: Moment | None = None
    """The carrier's first scan, if any (tracking uploaded without one may count as a fake
    shipment).
    """
    tracking_number: Text | None = None
    """The tracking number, kept for the record."""
    shared_with_other_orders: bool = False
    """The parcel signed for also carried other orders (signed-for tracking is then not
    conclusive); needs a shipment.
    """
    contents_short: bool = False
    """The parcel held less than the order (weight or count short); needs a delivery."""


class BuyerProfile(_Model):
    """The buyer's history with the platform (malicious-buyer signals read it)."""

    account_age_days: Count = 365
    """Days since the buyer's account was opened."""
    refund_requests_90d: Count = 0
    """Refund requests the buyer opened in the last 90 days (a malicious-buyer signal when
    high).
    """
    negative_reviews: Count = 0
    """Negative reviews the buyer has left."""
    complaints_filed: Count = 0
    """Complaints the buyer has filed against stores."""


class StoreProfile(_Model):
    """The store's standing: penalty points, scores and the inputs of its seller metrics."""

    penalty_points: Count = 0
    """Penalty points the store already holds in the current period."""
    experience_score: Annotated[float, Field(ge=0, le=5)] = 4.5
    """The store's experience (service) score, 0 to 5."""
    item_quality_complaint_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    """Share of the store's orders with a quality complaint, 0 to 1, where the platform
    publishes it.
    """
    metrics: dict[Term, Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]] = Field(
        default_factory=dict
    )
    """Inputs of the platform's seller metrics (its profile's `store_metrics`), e.g. the
    store's orders and defects over the measuring window.
    """
    left_platform: bool = False
    """The merchant has closed the store or left the platform."""


class Case(_Model):
    """One refund dispute. Timeline events may arrive in any order; they are kept sorted by time.

    Build it with ``Case.model_validate(data)`` or ``load_case(path)``; invalid input raises
    :class:`refundrules.CaseError` naming each bad field (``request.amount``, ``timeline[2].at``).
    """

    case_id: Text = "case"
    """Your id for this dispute, echoed in every prediction."""
    platform: Term
    """The marketplace, which selects its rule pack and profile (`pinduoduo`, ...)."""
    order: Order
    """The order the request is about."""
    request: RefundRequest
    """What the buyer asks for, and why."""
    timeline: tuple[Event, ...] = ()
    """What each side did after the request, in any order (kept sorted by time)."""
    evidence: tuple[Evidence, ...] = ()
    """The evidence each side holds or has submitted."""
    logistics: Logistics = Logistics()
    """The outbound parcel's status."""
    buyer: BuyerProfile = BuyerProfile()
    """The buyer's history with the platform."""
    store: StoreProfile = StoreProfile()
    """The store's standing and metrics."""

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
        # Case's own __init__ (which wraps pydantic's errors) makes pydantic validate through
        # it, and that drops ``context``; the context variable carries it across.
        if isinstance(obj, Mapping):
            # pydantic passes a mapping to Case.__init__ as keywords, which must be text.
            odd = next((key for key in obj if not isinstance(key, str)), None)
            if any(not isinstance(key, str) for key in obj):
                raise CaseError([("", f"a field name must be text, got {odd!r}")])
        token = _CONTEXT.set(context)
        try:
            return super().model_validate(
                obj, strict=strict, from_attributes=from_attributes, context=context
            )
        except ValidationError as exc:
            raise case_error_from(exc) from exc
        finally:
            _CONTEXT.reset(token)

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
        token = _CONTEXT.set(context)
        try:
            return super().model_validate_json(json_data, strict=strict, context=context)
        except ValidationError as exc:
            raise case_error_from(exc) from exc
        finally:
            _CONTEXT.reset(token)

    @model_validator(mode="after")
    def _check_consistency(self, info: ValidationInfo) -> Self:
        problems = list(_consistency_problems(self))
        context = info.context or _CONTEXT.get()
        platform = context.get("profile") if isinstance(context, Mapping) else None
        if platform is not None:
            wrong_platform = platform.platform_problem(self.platform)
            if wrong_platform is not None:
                problems.append(("platform", wrong_platform))
            else:
                problems.extend(platform.case_problems(self))
        if problems:
            raise CaseError(problems)
        ordered = tuple(sorted(self.timeline, key=lambda event: event.at))
        if ordered != self.timeline:
            object.__setattr__(self, "timeline", ordered)
        if self.order.currency is None and platform is not None:
            order = self.order.model_copy(update={"currency": platform.default_currency})
            object.__setattr__(self, "order", order)
        return self

    @property
    def currency(self) -> str | None:
        """The order's currency (filled from the platform's default when the case was
        validated against its profile; None if neither says)."""
        return self.order.currency

    def request_kind_at(self, as_of: datetime) -> str:
        """The request's kind at ``as_of``: the latest change of kind by then, else the kind
        it was opened with.

        >>> case = Case.model_validate({
        ...     "platform": "pinduoduo",
        ...     "order": {"order_id": "o-1", "paid_amount": "20", "paid_at": "2025-03-01T10:00:00+08:00"},
        ...     "request": {"kind": "refund_only", "reason": "damaged", "amount": "20",
        ...                 "requested_at": "2025-03-02T09:00:00+08:00"},
        ...     "timeline": [{"at": "2025-03-03T09:00:00+08:00", "actor": "buyer",
        ...                   "kind": "buyer_changed_request", "request_kind": "return_and_refund"}],
        ... })
        >>> case.request_kind_at(case.request.requested_at), case.request_kind_at(case.timeline[0].at)
        ('refund_only', 'return_and_refund')
        """
        kind = self.request.kind
        for event in self.timeline:
            if event.at > as_of:
                break
            if event.request_kind is not None:
                kind = event.request_kind
        return kind

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
    for index, event in enumerate(case.timeline):
        if event.at < request.requested_at:
            yield (
                f"timeline[{index}].at",
                f"an event ({event.kind}) is dated before the request",
            )
    for index, earlier in enumerate(request.earlier_requests):
        if not order.paid_at <= earlier.requested_at <= request.requested_at:
            yield (
                f"request.earlier_requests[{index}].requested_at",
                "an earlier request must be dated between the payment and this request",
            )
    logistics = case.logistics
    if logistics.shared_with_other_orders and order.shipped_at is None:
        yield ("logistics.shared_with_other_orders", "a shared parcel needs a shipped order")
    if logistics.contents_short and not delivered:
        yield (
            "logistics.contents_short",
            "short contents are found on delivery: the status must be 'delivered' or 'signed'",
        )
    for index, item in enumerate(case.evidence):
        if item.submitted_at is not None and item.submitted_at < order.paid_at:
            yield (
                f"evidence[{index}].submitted_at",
                "evidence submitted before the order was paid",
            )


class PlatformRules(Protocol):
    """What a case is checked against beyond its shape: a platform profile (``_profile``)."""

    @property
    def platform(self) -> str: ...

    @property
    def default_currency(self) -> str: ...

    def platform_problem(self, platform: str) -> str | None: ...

    def case_problems(self, case: Case) -> Iterable[tuple[str, str]]: ...


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
        CompensationClaim,
        EarlierRequest,
        Event,
        Evidence,
        Logistics,
        BuyerProfile,
        StoreProfile,
    ):
        names.update(model.model_fields)
    return sorted(names)


# An unknown field's name is echoed only when it looks like one; a case error lists at most
# this many problems.
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
MAX_PROBLEMS = 10


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
            if not _FIELD_NAME.fullmatch(name):
                # Not a field name anyone meant (a line of some other file read as a case,
                # e.g. /etc/shadow): say so without echoing it.
                path = _location(tuple(error["loc"][:-1]))
                message = "an unknown field whose name is not shown (is this a case file?)"
            else:
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
            message = NAIVE_TIME
        problems.append((path, message))
    if len(problems) > MAX_PROBLEMS:
        hidden = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], ("", f"and {hidden} more problems")]
    return CaseError(problems, source=source)
