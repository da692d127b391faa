"""Facts: the typed, flat values a rule may test, derived from a case at an ``as_of`` time.

This is the only place case data becomes rule input. ``derive_facts`` is a pure function of
``(profile, case, as_of)``: the same inputs always give the same facts, every fact the
profile declares is always present (no ``None``, which the engine would silently never
match), numbers are floats and texts come from a known set. Events and evidence dated after
``as_of`` have not happened yet and are ignored, so replaying a case at earlier times shows
how it stood then. Which facts exist is the platform profile's (``profile.yaml``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from refundrules._case import Case, check_moment
from refundrules._engine import engine_number
from refundrules._fact_kinds import CaseAt
from refundrules._fact_spec import FactSpec, FactValue
from refundrules._vocabulary import LogisticsStatus
from refundrules.exceptions import CaseError

if TYPE_CHECKING:
    from refundrules._profile import PlatformProfile

__all__ = [
    "FactSpec",
    "FactValue",
    "case_at",
    "derive_facts",
]


def _check_as_of(case: Case, as_of: datetime) -> None:
    try:
        check_moment(as_of)
    except ValueError as exc:
        raise CaseError([("as_of", str(exc))]) from exc
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


def case_at(profile: PlatformProfile, case: Case, as_of: datetime) -> CaseAt:
    """The case as it stood at ``as_of``: its events, evidence, anchors and parcel status.

    Raises :class:`CaseError` (field ``as_of``) for a naive ``as_of`` or one before the request.
    """
    _check_as_of(case, as_of)
    order = case.order
    events = case.events_until(as_of)
    anchors: dict[str, datetime] = {"payment": order.paid_at, "request": case.request.requested_at}
    if order.shipped_at is not None and order.shipped_at <= as_of:
        anchors["shipment"] = order.shipped_at
    if order.delivered_at is not None and order.delivered_at <= as_of:
        anchors["delivery"] = order.delivered_at
    pickup = case.logistics.carrier_pickup_at
    if pickup is not None and pickup <= as_of:
        anchors["carrier_pickup"] = pickup
    for name, kinds, first in profile.anchor_lookups:
        for event in events if first else reversed(events):
            if event.kind in kinds:
                anchors[name] = event.at
                break
    status = case.logistics.status
    if "shipment" not in anchors:
        status = LogisticsStatus.NOT_SHIPPED
    elif "delivery" not in anchors and status in (
        LogisticsStatus.DELIVERED,
        LogisticsStatus.SIGNED,
    ):
        status = LogisticsStatus.IN_TRANSIT
    held = tuple(
        item for item in case.evidence if item.submitted_at is None or item.submitted_at <= as_of
    )
    return CaseAt(
        case=case,
        as_of=as_of,
        events=events,
        evidence=held,
        anchors=anchors,
        logistics_status=status,
        calendar=profile.business_calendar,
    )


def derive_facts(
    profile: PlatformProfile, case: Case, as_of: datetime, at: CaseAt | None = None
) -> dict[str, FactValue]:
    """The decision-phase facts of ``case`` at ``as_of`` under ``profile``.

    Raises :class:`CaseError` (field ``as_of``) for a naive ``as_of`` or one before the request.
    """
    view = at if at is not None else case_at(profile, case, as_of)
    facts: dict[str, FactValue] = {}
    for name, declared in profile.facts.items():
        value = declared.derive(view)
        facts[name] = engine_number(value) if isinstance(value, float) else value
    return facts
