"""The library of fact kinds a platform profile builds its facts from, and ``CaseAt``.

A profile's ``facts:`` maps each fact name to one kind with its settings, e.g.
``seller_silence_hours: {kind: elapsed, from: request, to: seller_first_response, unit: hours}``.
Each kind is a small frozen model that turns a case as it stood at ``as_of`` (a ``CaseAt``)
into one typed value: a bool, a float or a text out of a known set. Nothing here knows a
platform: event kinds, anchors and labels all come from the profile.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from refundrules._calendar import BusinessCalendar
from refundrules._case import Case, Event, Evidence
from refundrules._pack_model import Titles
from refundrules._vocabulary import LogisticsStatus

__all__ = [
    "BUILT_IN_ANCHORS",
    "CaseAt",
    "CaseField",
    "FactDeclaration",
    "case_field",
]

FactType = Literal["boolean", "number", "text"]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
BUILT_IN_ANCHORS = ("payment", "request", "shipment", "delivery", "carrier_pickup")
# Case fields whose values come from a vocabulary the profile may extend.
VOCABULARY_FIELDS = {
    "request.kind": "request_kinds",
    "request.reason": "reasons",
}


@dataclass(frozen=True)
class CaseAt:
    """A case as it stood at ``as_of``: the events, evidence and anchors that existed then."""

    case: Case
    as_of: datetime
    events: tuple[Event, ...]
    evidence: tuple[Evidence, ...]
    anchors: Mapping[str, datetime]
    logistics_status: LogisticsStatus
    calendar: BusinessCalendar

    def last(self, kinds: Container[str]) -> Event | None:
        for event in reversed(self.events):
            if event.kind in kinds:
                return event
        return None


# --- case fields by dotted path ----------------------------------------------------------------


@dataclass(frozen=True)
class CaseField:
    """A field of the case model reached by a dotted path, e.g. ``order.virtual``."""

    path: str
    type: FactType
    optional: bool
    values: tuple[str, ...]  # allowed values of a closed text field (an enum)
    vocabulary: str | None  # the profile vocabulary of an open text field
    parts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.path.split(".")))

    def read(self, at: CaseAt) -> Any:
        """The field's value in the case as it stood at ``at.as_of`` (None if absent)."""
        parts = self.parts
        if parts[:2] == ("store", "metrics"):
            return at.case.store.metrics.get(parts[2], 0.0)
        if self.path == "logistics.status":
            return at.logistics_status.value
        if self.path == "request.kind":
            return at.case.request_kind_at(at.as_of)
        value: Any = at.case
        for name in parts:
            value = getattr(value, name)
            if value is None:
                return None
        return value.value if isinstance(value, Enum) else value


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    optional = False
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        inner, _ = _unwrap(args[0])
        return inner, optional
    return annotation, optional


def _annotation_at(parts: list[str]) -> tuple[Any, bool] | str:
    """The type at a dotted path into the case model and whether it may be absent (a field
    inside an optional group may be), or a message naming the missing field."""
    model: Any = Case
    annotation: Any = None
    optional = False
    for index, part in enumerate(parts):
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            known = ", ".join(sorted(fields)) if fields else "none"
            where = ".".join(parts[:index]) or "the case"
            return f"{where} has no field {part!r} (fields: {known})"
        annotation, part_optional = _unwrap(fields[part].annotation)
        optional = optional or part_optional
        model = annotation
    return annotation, optional


@cache
def case_field(path: str) -> CaseField | str:
    """The case field at ``path``, or a message saying why there is none.

    ``store.metrics.NAME`` reaches a store metric input (the profile declares the names);
    ``logistics.status`` reads the status as it stood at ``as_of``.
    """
    parts = path.split(".")
    if len(parts) == 3 and parts[:2] == ["store", "metrics"]:
        return CaseField(path, "number", False, (), None)
    found = _annotation_at(parts)
    if isinstance(found, str):
        return found
    annotation, optional = found
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"{path!r} is a group of fields, not a value"
    fact_type: FactType
    values: tuple[str, ...] = ()
    if annotation is bool:
        fact_type = "boolean"
    elif annotation in (int, float, Decimal):
        fact_type = "number"
    elif isinstance(annotation, type) and issubclass(annotation, Enum):
        fact_type = "text"
        values = tuple(str(member.value) for member in annotation)
    elif annotation is str:
        fact_type = "text"
    else:
        return f"{path!r} holds {annotation!r}, which no fact can read"
    if path == "logistics.status":
        return CaseField(path, "text", False, values, None)
    return CaseField(path, fact_type, optional, values, VOCABULARY_FIELDS.get(path))


# --- the fact kinds ---------------------------------------------------------------------------


class _Kind(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", use_attribute_docstrings=True, populate_by_name=True
    )

    description: Annotated[str, Field(min_length=1)] | Titles
    """What the fact means, in a sentence (shown in reasons and docs): a plain English string
    or `{en: ..., zh: ...}` (Chinese optional)."""

    def type(self) -> FactType:  # pragma: no cover - every kind overrides it
        raise NotImplementedError


class ElapsedFact(_Kind):
    """Time from one anchor to another (or to ``as_of``); 0 until the start exists, never < 0."""

    kind: Literal["elapsed"]
    """`elapsed`: time between two anchors."""
    start: Identifier = Field(alias="from")
    """The anchor the time runs from."""
    end: Identifier | None = Field(default=None, alias="to")
    """The anchor it runs to; `as_of` if absent."""
    unit: Literal["hours", "days", "business_days"]
    """`hours`, `days` or `business_days` (the profile's calendar)."""

    def type(self) -> FactType:
        return "number"

    def derive(self, at: CaseAt) -> float:
        start = at.anchors.get(self.start)
        if start is None:
            return 0.0
        end = at.anchors.get(self.end, at.as_of) if self.end is not None else at.as_of
        if end <= start:
            return 0.0
        if self.unit == "hours":
            return (end - start).total_seconds() / 3600.0
        if self.unit == "business_days":
            days = at.calendar.business_days_between(start, end)
        else:
            days = (end - start).total_seconds() / 86400.0
        # Facts reach the engine with four decimals (8.6 s of a day). Counting days *down* to
        # them keeps "at least N days" false until the exact second N days have passed.
        return math.floor(round(days * 10_000, 6)) / 10_000


class AnchorReachedFact(_Kind):
    """The anchor exists by ``as_of`` (e.g. the order has shipped)."""

    kind: Literal["anchor_reached"]
    """`anchor_reached`: the anchor exists by `as_of`."""
    anchor: Identifier
    """The anchor."""

    def type(self) -> FactType:
        return "boolean"

    def derive(self, at: CaseAt) -> bool:
        return self.anchor in at.anchors


class EventSeenFact(_Kind):
    """An event of one of these kinds happened by ``as_of``."""

    kind: Literal["event_seen"]
    """`event_seen`: an event of these kinds happened."""
    events: tuple[Identifier, ...] = Field(min_length=1)
    """The event kinds."""

    def type(self) -> FactType:
        return "boolean"

    def derive(self, at: CaseAt) -> bool:
        kinds = self.events
        return any(event.kind in kinds for event in at.events)


class EventCountFact(_Kind):
    """How many events of these kinds happened by ``as_of``."""

    kind: Literal["event_count"]
    """`event_count`: how many events of these kinds happened."""
    events: tuple[Identifier, ...] = Field(min_length=1)
    """The event kinds."""

    def type(self) -> FactType:
        return "number"

    def derive(self, at: CaseAt) -> float:
        kinds = self.events
        return float(sum(1 for event in at.events if event.kind in kinds))


class LatestEventFact(_Kind):
    """Which of these kinds happened last, by its label (``none`` if none has)."""

    kind: Literal["latest_event"]
    """`latest_event`: which of these kinds happened last."""
    events: dict[Identifier, Identifier] = Field(min_length=1)
    """Each event kind with the label the fact takes when it is the latest."""
    none: Identifier = "none"
    """The label when none has happened."""

    def type(self) -> FactType:
        return "text"

    def labels(self) -> tuple[str, ...]:
        return (self.none, *dict.fromkeys(self.events.values()))

    def derive(self, at: CaseAt) -> str:
        event = at.last(self.events)
        return self.events[event.kind] if event is not None else self.none


Detail = Literal["refusal_reason", "ruling", "evidence_kind", "request_kind", "goods_condition"]


class EventDetailFact(_Kind):
    """A detail of the latest event of a kind (``none`` if absent). With ``latest_of``, only
    while that event is also the latest of the group (a refusal the seller took back by
    agreeing no longer gives a reason)."""

    kind: Literal["event_detail"]
    """`event_detail`: a detail of the latest event of a kind."""
    event: Identifier | tuple[Identifier, ...]
    """The event kind (or kinds)."""
    detail: Detail
    """The detail (`refusal_reason`, `ruling`, `evidence_kind`, `request_kind`,
    `goods_condition`).
    """
    latest_of: tuple[Identifier, ...] = ()
    """Only while the event is also the latest of these kinds."""
    none: Identifier = "none"
    """The value when there is no such event."""

    def type(self) -> FactType:
        return "text"

    @property
    def event_kinds(self) -> tuple[str, ...]:
        """The kinds whose latest event gives the detail (one or several)."""
        return (self.event,) if isinstance(self.event, str) else self.event

    def derive(self, at: CaseAt) -> str:
        kinds = self.event_kinds
        event = at.last(kinds)
        if event is None:
            return self.none
        if self.latest_of and at.last((*self.latest_of, *kinds)) is not event:
            return self.none
        value = getattr(event, self.detail)
        if value is None:
            return self.none
        return str(value.value) if isinstance(value, Enum) else str(value)


class ReplyStateFact(_Kind):
    """The state of the latest event of a kind that expects a reply: ``none``, ``pending`` or
    the label of the reply given after it."""

    kind: Literal["reply_state"]
    """`reply_state`: the state of the latest event that expects a reply."""
    event: Identifier
    """The event kind that expects a reply."""
    replies: dict[Identifier, Identifier] = Field(min_length=1)
    """Each reply kind with the label the fact takes after it."""
    pending: Identifier = "pending"
    """The label while no reply has come."""
    none: Identifier = "none"
    """The label when there is no such event."""

    def type(self) -> FactType:
        return "text"

    def labels(self) -> tuple[str, ...]:
        return (self.none, self.pending, *dict.fromkeys(self.replies.values()))

    def derive(self, at: CaseAt) -> str:
        latest = at.last((self.event,))
        if latest is None:
            return self.none
        reply = at.last(self.replies)
        if reply is None or reply.at < latest.at:
            return self.pending
        return self.replies[reply.kind]


class _CaseValue(_Kind):
    field: str
    """The case field, as a dotted path (e.g. `order.virtual`)."""

    def problem(self) -> str | None:
        """Why the field cannot be read (None if it can): checked when the profile loads."""
        found = case_field(self.field)
        return found if isinstance(found, str) else None

    def reader(self) -> CaseField:
        found = case_field(self.field)
        assert isinstance(found, CaseField), "checked when the profile is loaded"
        return found


class CaseFlagFact(_CaseValue):
    """A true/false field of the case, e.g. ``order.virtual``."""

    kind: Literal["case_flag"]
    """`case_flag`: a true/false case field."""

    def type(self) -> FactType:
        return "boolean"

    def derive(self, at: CaseAt) -> bool:
        return bool(self.reader().read(at))


class CaseNumberFact(_CaseValue):
    """A number field of the case; ``missing`` stands in when an optional field is absent."""

    kind: Literal["case_number"]
    """`case_number`: a number case field."""
    unit: Literal["hours", "days", "points", "currency"] | None = None
    """Its unit (`hours`, `days`, `points`, `currency`)."""
    missing: float | None = None
    """The value when an optional field is absent."""

    def type(self) -> FactType:
        return "number"

    def derive(self, at: CaseAt) -> float:
        value = self.reader().read(at)
        if value is None:
            return float(self.missing or 0.0)
        return float(value)


class CaseTextFact(_CaseValue):
    """A text field of the case out of a known set (an enum or a profile vocabulary)."""

    kind: Literal["case_text"]
    """`case_text`: a text case field from a known set."""

    def type(self) -> FactType:
        return "text"

    def derive(self, at: CaseAt) -> str:
        return str(self.reader().read(at))


class CasePlatformFact(_Kind):
    """The platform the case names, out of those the profile serves (its own and its
    ``also_serves``), so rules may differ where a platform served alike differs."""

    kind: Literal["case_platform"]
    """`case_platform`: the case's platform, one of those the profile serves."""

    def type(self) -> FactType:
        return "text"

    def derive(self, at: CaseAt) -> str:
        return at.case.platform


class CaseValueInFact(_CaseValue):
    """A text field of the case holds one of these values (e.g. the parcel is ``signed``)."""

    kind: Literal["case_value_in"]
    """`case_value_in`: a text case field holds one of these values."""
    values: tuple[str, ...] = Field(min_length=1)
    """The values."""

    def type(self) -> FactType:
        return "boolean"

    def derive(self, at: CaseAt) -> bool:
        return str(self.reader().read(at)) in self.values


class CasePresentFact(_CaseValue):
    """An optional field of the case is given."""

    kind: Literal["case_present"]
    """`case_present`: an optional case field is given."""

    def type(self) -> FactType:
        return "boolean"

    def derive(self, at: CaseAt) -> bool:
        return self.reader().read(at) is not None


class CaseCountFact(_Kind):
    """How many items a list field of the case holds, e.g. ``request.earlier_requests``;
    with ``where``, only the items whose fields hold one of the given values
    (``{outcome: [rejected]}``), with ``values``, only the items (texts) among them."""

    kind: Literal["case_count"]
    """`case_count`: how many items a list field holds."""
    field: str
    """The list field, as a dotted path."""
    where: dict[Identifier, tuple[str, ...]] = Field(default_factory=dict)
    """Count only items whose fields hold one of the given values."""
    values: tuple[str, ...] = ()
    """Count only items (texts) among these."""

    def type(self) -> FactType:
        return "number"

    def problem(self) -> str | None:
        """Why the field cannot be counted (None if it can): checked when the profile loads."""
        found = case_list(self.field)
        if isinstance(found, str):
            return found
        if self.where and found is str:
            return f"{self.field!r} holds texts: count them with 'values', not 'where'"
        if self.values and found is not str:
            return f"{self.field!r} holds records: count them with 'where', not 'values'"
        fields = getattr(found, "model_fields", {})
        for name in self.where:
            if name not in fields:
                known = ", ".join(sorted(fields))
                return f"the items of {self.field!r} have no field {name!r} (fields: {known})"
        return None

    def derive(self, at: CaseAt) -> float:
        value: Any = at.case
        for name in self.field.split("."):
            value = getattr(value, name)
        if self.values:
            return float(sum(1 for item in value if item in self.values))
        count = 0
        for item in value:
            if all(_text(getattr(item, name)) in allowed for name, allowed in self.where.items()):
                count += 1
        return float(count)


def _text(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


@cache
def case_list(path: str) -> type | str:
    """The item type of the list field of the case at ``path``, or why there is none."""
    found = _annotation_at(path.split("."))
    if isinstance(found, str):
        return found
    annotation, _ = found
    if typing.get_origin(annotation) is not tuple:
        return f"{path!r} is not a list"
    item, _ = _unwrap(typing.get_args(annotation)[0])
    return item if isinstance(item, type) else str


class PeriodPassedFact(_Kind):
    """The period a case field gives in days (e.g. ``order.after_sales_days``) has run out
    between two anchors (or an anchor and ``as_of``); false while either is missing."""

    kind: Literal["period_passed"]
    """`period_passed`: a period in days given by a case field has run out."""
    start: Identifier = Field(alias="from")
    """The anchor the period runs from."""
    end: Identifier | None = Field(default=None, alias="to")
    """The anchor it runs to; `as_of` if absent."""
    days: str
    """The case field giving the period in days."""

    def type(self) -> FactType:
        return "boolean"

    def problem(self) -> str | None:
        found = case_field(self.days)
        if isinstance(found, str):
            return found
        if found.type != "number":
            return f"{self.days!r} is a {found.type} field, not a number of days"
        return None

    def derive(self, at: CaseAt) -> bool:
        start = at.anchors.get(self.start)
        end = at.anchors.get(self.end) if self.end is not None else at.as_of
        found = case_field(self.days)
        assert isinstance(found, CaseField), "checked when the profile is loaded"
        days = found.read(at)
        if start is None or end is None or days is None:
            return False
        return (end - start).total_seconds() > float(days) * 86400.0


class EventAmount(BaseModel):
    """The amount of the latest event of a kind (e.g. the seller's latest offer)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    event_amount: Identifier
    """The event kind whose latest amount is used."""


AmountSource = str | EventAmount


class ShareFact(_Kind):
    """One amount divided by another (0 when either is missing or the divisor is 0)."""

    kind: Literal["share"]
    """`share`: one amount divided by another."""
    numerator: AmountSource
    """An amount field (e.g. `request.amount`) or `{event_amount: KIND}`."""
    denominator: AmountSource
    """An amount field or `{event_amount: KIND}`."""

    def type(self) -> FactType:
        return "number"

    def problem(self) -> str | None:
        for source in (self.numerator, self.denominator):
            if not isinstance(source, EventAmount):
                found = case_field(source)
                if isinstance(found, str):
                    return found
        return None

    @staticmethod
    def _amount(source: AmountSource, at: CaseAt) -> float | None:
        if isinstance(source, EventAmount):
            event = at.last((source.event_amount,))
            return float(event.amount) if event is not None and event.amount is not None else None
        found = case_field(source)
        assert isinstance(found, CaseField), "checked when the profile is loaded"
        value = found.read(at)
        return float(value) if value is not None else None

    def derive(self, at: CaseAt) -> float:
        top = self._amount(self.numerator, at)
        bottom = self._amount(self.denominator, at)
        if top is None or bottom is None or bottom <= 0:
            return 0.0
        return top / bottom


class EvidenceHeldFact(_Kind):
    """The party holds evidence of one of these kinds (any kind if none given) by ``as_of``."""

    kind: Literal["evidence_held"]
    """`evidence_held`: the party holds evidence of these kinds."""
    party: Identifier
    """The party."""
    evidence: tuple[Identifier, ...] = ()
    """The evidence kinds; any kind if empty."""

    def type(self) -> FactType:
        return "boolean"

    def derive(self, at: CaseAt) -> bool:
        kinds = self.evidence
        return any(
            item.party == self.party and (not kinds or item.kind in kinds) for item in at.evidence
        )


class EvidenceCountFact(_Kind):
    """How many items of evidence the party holds by ``as_of``."""

    kind: Literal["evidence_count"]
    """`evidence_count`: how many items of evidence the party holds."""
    party: Identifier
    """The party."""

    def type(self) -> FactType:
        return "number"

    def derive(self, at: CaseAt) -> float:
        return float(sum(1 for item in at.evidence if item.party == self.party))


FactDeclaration = Annotated[
    ElapsedFact
    | AnchorReachedFact
    | EventSeenFact
    | EventCountFact
    | LatestEventFact
    | EventDetailFact
    | ReplyStateFact
    | CaseFlagFact
    | CaseNumberFact
    | CaseTextFact
    | CasePlatformFact
    | CaseValueInFact
    | CasePresentFact
    | ShareFact
    | EvidenceHeldFact
    | EvidenceCountFact
    | CaseCountFact
    | PeriodPassedFact,
    Field(discriminator="kind"),
]
