"""Facts in one pass: a profile's fact declarations compiled into one deriver per fact.

:func:`refundrules._facts.derive_facts` asks each declaration (a pydantic model) to derive its
value and then brings every float into the engine's number form. A :class:`FactDeriver` is
built once per compiled version and gives the same values (tests/test_fact_derivers.py checks
every bundled pack's facts on generated cases, bit for bit) with less work per case:

* each declaration becomes a closure over its settings, read once (case fields resolved to
  a reader, event kinds to a frozen set) instead of on every case;
* a number comes out already in the engine's form (no second pass over the facts);
* the event kinds that happened by ``as_of`` are collected once per case for every
  ``event_seen`` fact;
* only the facts the caller names are derived (the prediction needs the facts its rules and
  the consequence phase read, not every fact the profile declares).

A kind without a specialised closure falls back to its own ``derive``, so a new kind is
correct here before it is fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from enum import Enum
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from refundrules._engine import NUMBER_DECIMALS
from refundrules._fact_kinds import (
    AnchorReachedFact,
    CaseAt,
    CaseField,
    CaseFlagFact,
    CaseNumberFact,
    CasePresentFact,
    CaseTextFact,
    CaseValueInFact,
    ElapsedFact,
    EventAmount,
    EventCountFact,
    EventDetailFact,
    EventSeenFact,
    EvidenceCountFact,
    EvidenceHeldFact,
    LatestEventFact,
    ReplyStateFact,
    ShareFact,
    case_field,
)
from refundrules._fact_spec import FactValue

if TYPE_CHECKING:
    from refundrules._profile import PlatformProfile

__all__ = ["FactDeriver"]

# A deriver reads the case as it stood (``CaseAt``) and the kinds of its events by then.
_Deriver = Callable[[CaseAt, frozenset[str]], FactValue]
_Reader = Callable[[CaseAt], Any]


def _number(value: float) -> float:
    # engine_number, inlined: rounded to four decimals, never -0.0.
    return round(value, NUMBER_DECIMALS) + 0.0


def _reader(found: CaseField) -> _Reader:
    """``CaseField.read`` with its path resolved once."""
    parts = found.parts
    if parts[:2] == ("store", "metrics"):
        metric = parts[2]
        return lambda at: at.case.store.metrics.get(metric, 0.0)
    if found.path == "logistics.status":
        return lambda at: at.logistics_status.value
    if found.path == "request.kind":
        return lambda at: at.case.request_kind_at(at.as_of)

    get = attrgetter(found.path)

    def walk(at: CaseAt) -> Any:
        value: Any = at.case
        for name in parts:
            value = getattr(value, name)
            if value is None:
                return None
        return value

    def read(at: CaseAt) -> Any:
        try:
            value = get(at.case)
        except AttributeError:  # an optional group is absent on the way: walk it
            value = walk(at)
        return value.value if isinstance(value, Enum) else value

    return read


def _elapsed(declared: ElapsedFact) -> _Deriver:
    start_name, end_name, unit = declared.start, declared.end, declared.unit

    def derive(at: CaseAt, kinds: frozenset[str]) -> FactValue:
        anchors = at.anchors
        start = anchors.get(start_name)
        if start is None:
            return 0.0
        end = anchors.get(end_name, at.as_of) if end_name is not None else at.as_of
        if end <= start:
            return 0.0
        if unit == "hours":
            return _number((end - start).total_seconds() / 3600.0)
        if unit == "business_days":
            days = at.calendar.business_days_between(start, end)
        else:
            days = (end - start).total_seconds() / 86400.0
        return _number(math.floor(round(days * 10_000, 6)) / 10_000)

    return derive


def _event_seen(declared: EventSeenFact) -> _Deriver:
    wanted = frozenset(declared.events)
    return lambda at, kinds: not wanted.isdisjoint(kinds)


def _evidence_held(declared: EvidenceHeldFact) -> _Deriver:
    party, wanted = declared.party, declared.evidence

    def derive(at: CaseAt, kinds: frozenset[str]) -> FactValue:
        for item in at.evidence:
            if item.party == party and (not wanted or item.kind in wanted):
                return True
        return False

    return derive


def _case_flag(declared: CaseFlagFact) -> _Deriver:
    read = _reader(declared.reader())
    return lambda at, kinds: bool(read(at))


def _case_number(declared: CaseNumberFact) -> _Deriver:
    read, missing = _reader(declared.reader()), declared.missing

    def derive(at: CaseAt, kinds: frozenset[str]) -> FactValue:
        value = read(at)
        return _number(float(missing or 0.0) if value is None else float(value))

    return derive


def _anchor_reached(declared: AnchorReachedFact) -> _Deriver:
    anchor = declared.anchor
    return lambda at, kinds: anchor in at.anchors


def _event_count(declared: EventCountFact) -> _Deriver:
    wanted = declared.events
    # A whole number as a float is already in the engine's form.
    return lambda at, kinds: float(sum(1 for event in at.events if event.kind in wanted))


def _latest_event(declared: LatestEventFact) -> _Deriver:
    labels, none = declared.events, declared.none

    def derive(at: CaseAt, kinds: frozenset[str]) -> FactValue:
        event = at.last(labels)
        return labels[event.kind] if event is not None else none

    return derive


def _event_detail(declared: EventDetailFact) -> _Deriver:
    wanted, detail, none = declared.event_kinds, declared.detail, declared.none
    group = (*declared.latest_of, *wanted) if declared.latest_of else None

    def derive(at: CaseAt, kinds: frozenset[str]) -> FactValue:
        event = at.last(wanted)
        if event is None:
            return none
        if group is not None and at.last(group) is not event:
            return none
        value = getattr(event, detail)
        if value is None:
            return none
        return str(value.value) if isinstance(value, Enum) else str(value)

    return derive


def _reply_state(declared: ReplyStateFact) -> _Deriver:
    asking, replies = (declared.event,), declared.replies
    pending, none = declared.pending, declared.none

    def derive(at: CaseAt, kinds: frozenset[str]) -> FactValue:
        latest = at.last(asking)
        if latest is None:
            return none
        reply = at.last(replies)
        if reply is None or reply.at < latest.at:
            return pending
        return replies[reply.kind]

    return derive


def _case_text(declared: CaseTextFact) -> _Deriver:
    read = _reader(declared.reader())
    return lambda at, kinds: str(read(at))


def _case_value_in(declared: CaseValueInFact) -> _Deriver:
    read, values = _reader(declared.reader()), declared.values
    return lambda at, kinds: str(read(at)) in values


def _case_present(declared: CasePresentFact) -> _Deriver:
    read = _reader(declared.reader())
    return lambda at, kinds: read(at) is not None


def _evidence_count(declared: EvidenceCountFact) -> _Deriver:
    party = declared.party
    # A whole number as a float is already in the engine's form.
    return lambda at, kinds: float(sum(1 for item in at.evidence if item.party == party))


def _amount(source: str | EventAmount) -> Callable[[CaseAt], float | None]:
    if isinstance(source, EventAmount):
        kinds = (source.event_amount,)

        def latest(at: CaseAt) -> float | None:
            event = at.last(kinds)
            return float(event.amount) if event is not None and event.amount is not None else None

        return latest
    found = case_field(source)
    assert isinstance(found, CaseField), "checked when the profile is loaded"
    read = _reader(found)

    def field(at: CaseAt) -> float | None:
        value = read(at)
        return float(value) if value is not None else None

    return field


def _share(declared: ShareFact) -> _Deriver:
    top_of, bottom_of = _amount(declared.numerator), _amount(declared.denominator)

    def derive(at: CaseAt, kinds: frozenset[str]) -> FactValue:
        top = top_of(at)
        bottom = bottom_of(at)
        if top is None or bottom is None or bottom <= 0:
            return 0.0
        return _number(top / bottom)

    return derive


def _generic(declared: Any) -> _Deriver:
    derive_one: Callable[[CaseAt], FactValue] = declared.derive

    def derive(at: CaseAt, kinds: frozenset[str]) -> FactValue:
        value = derive_one(at)
        return _number(value) if isinstance(value, float) else value

    return derive


def _deriver(declared: Any) -> _Deriver:
    if isinstance(declared, ElapsedFact):
        return _elapsed(declared)
    if isinstance(declared, EventSeenFact):
        return _event_seen(declared)
    if isinstance(declared, EvidenceHeldFact):
        return _evidence_held(declared)
    if isinstance(declared, CaseFlagFact):
        return _case_flag(declared)
    if isinstance(declared, CaseNumberFact):
        return _case_number(declared)
    specialised: dict[type, Callable[[Any], _Deriver]] = {
        AnchorReachedFact: _anchor_reached,
        EventCountFact: _event_count,
        LatestEventFact: _latest_event,
        EventDetailFact: _event_detail,
        ReplyStateFact: _reply_state,
        CaseTextFact: _case_text,
        CaseValueInFact: _case_value_in,
        CasePresentFact: _case_present,
        EvidenceCountFact: _evidence_count,
        ShareFact: _share,
    }
    make = specialised.get(type(declared))
    return make(declared) if make is not None else _generic(declared)


class FactDeriver:
    """The facts ``names`` (default: every fact the profile declares) of a case as it stood,
    in the profile's order and the engine's number form: ``derive_facts`` in one pass.

    >>> import refundrules
    >>> from datetime import datetime
    >>> from refundrules._facts import case_at, derive_facts
    >>> pack = refundrules.load_rule_pack("pinduoduo")
    >>> case = pack.load_case("examples/01_awaiting_seller.yaml")
    >>> moment = datetime.fromisoformat("2025-03-05T12:00:00+08:00")
    >>> view = case_at(pack.profile, case, moment)
    >>> FactDeriver(pack.profile)(view) == derive_facts(pack.profile, case, moment)
    True
    """

    def __init__(self, profile: PlatformProfile, names: Collection[str] | None = None) -> None:
        self._steps = tuple(
            (name, _deriver(declared))
            for name, declared in profile.facts.items()
            if names is None or name in names
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self._steps)

    def __call__(self, at: CaseAt) -> dict[str, FactValue]:
        kinds = frozenset([event.kind for event in at.events])
        return {name: derive(at, kinds) for name, derive in self._steps}
