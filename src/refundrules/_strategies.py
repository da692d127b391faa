"""Hypothesis strategies that generate valid cases for a rule pack.

Events and ``as_of`` land on and around every threshold the pack's parameters define (in every
version of a family): exactly at a window's end, one second before and one after. The cases
follow the platform's profile (its vocabularies and event kinds). Public through
``refundrules.testing``; the authoring tools (diff, coverage, properties) use the same
strategies from here, so this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import reject
from hypothesis import strategies as st

from refundrules._case import Case
from refundrules._pack_model import GENERATOR_KEYS, Parameter
from refundrules._rulepack import PackVersion, RulePack
from refundrules._vocabulary import (
    EarlierRequestOutcome,
    EventKind,
    LogisticsStatus,
    RequestKind,
    Resolution,
)
from refundrules.exceptions import CaseError

__all__ = ["SELLER_MOVES", "Evaluation", "Packish", "cases", "evaluations", "threshold_offsets"]

Evaluation = tuple[Case, datetime]
Packish = RulePack | PackVersion
SELLER_MOVES = ("none", "agreed", "refused", "partial_offer")
# True about one time in six, shrinking to False (Hypothesis' booleans are 50/50).
_RARELY = st.sampled_from((False, False, False, False, False, True))
_FIXABLE = GENERATOR_KEYS
_BOOLEANS = st.booleans()
_ORDER_NUMBERS = st.integers(0, 10**6)
_CASE_NUMBERS = st.integers(0, 10**9)
_AFTER_SALES_DAYS = st.sampled_from((7, 15, 30, 365))
_DELIVERY_SECONDS = st.integers(3600, 6 * 86400)
_DELIVERED = st.sampled_from([LogisticsStatus.DELIVERED, LogisticsStatus.SIGNED])
_NOT_DELIVERED = st.sampled_from(
    [LogisticsStatus.IN_TRANSIT, LogisticsStatus.LOST, LogisticsStatus.RETURNED_TO_SENDER]
)
_SELLER_MOVE = st.sampled_from(SELLER_MOVES)
_RETURN_ANSWERS = st.sampled_from(["none", "confirmed", "rejected"])
_OFFER_ANSWERS = st.sampled_from(["none", "accepted", "rejected"])
_RULINGS = st.sampled_from(list(Resolution))
_EARLIER_OUTCOMES = st.sampled_from(list(EarlierRequestOutcome))
_FRACTIONS = st.floats(0, 1)
# Generated orders are paid within this many days of a version's first day (or before its end).
_SPAN_DAYS = 300


def _rare_subset(terms: Sequence[str]) -> st.SearchStrategy[list[str]]:
    """Usually nothing; now and then one or two of ``terms``."""
    return st.one_of(
        st.just([]),
        st.just([]),
        st.lists(st.sampled_from(terms), min_size=1, max_size=2, unique=True),
    )


def _given(**details: Any) -> dict[str, Any]:
    """The event details that are set (``None`` means the event does not carry it)."""
    return {name: value for name, value in details.items() if value is not None}


def _seconds(unit: str, value: float) -> int:
    return round(value * (3600 if unit == "hours" else 86400))


def _versions(pack: Packish) -> tuple[PackVersion, ...]:
    return pack.versions if isinstance(pack, RulePack) else (pack,)


def _parameters(packs: Sequence[Packish]) -> list[Parameter]:
    return [
        parameter
        for pack in packs
        for version in _versions(pack)
        for parameter in version.parameters.values()
    ]


def threshold_offsets(*packs: Packish) -> st.SearchStrategy[int]:
    """Offsets in seconds: every time parameter's length −1 s, exactly, +1 s, or anything."""
    edges: set[int] = {0, 1}
    for parameter in _parameters(packs):
        if parameter.unit in ("hours", "days", "business_days"):
            values = [parameter.value, *(alt.value for alt in parameter.alternatives)]
            for value in values:
                length = _seconds(parameter.unit, value)
                edges.update({length - 1, length, length + 1})
    ordered = sorted(edge for edge in edges if edge >= 0)
    # Edges, short gaps (most disputes move within hours) and anything up to a month.
    return st.one_of(
        st.sampled_from(ordered), st.integers(0, 12 * 3600), st.integers(0, 30 * 86400)
    )


def _money_points(packs: Sequence[Packish]) -> list[Decimal]:
    cent = Decimal("0.01")
    points = {Decimal("0.01"), Decimal("9.90"), Decimal("39.90"), Decimal("199.00")}
    for parameter in _parameters(packs):
        if parameter.unit == "currency":
            value = Decimal(str(parameter.value)).quantize(cent)
            points.update({value - cent, value, value + cent})
    return sorted(point for point in points if point > 0)


def _count_points(packs: Sequence[Packish], unit: str, default: int) -> st.SearchStrategy[int]:
    # The case's default comes first so that shrinking leads back to it.
    edges = {0, 1}
    for parameter in _parameters(packs):
        if parameter.unit == unit:
            value = int(parameter.value)
            edges.update({max(0, value - 1), value, value + 1})
    return st.one_of(st.just(default), st.sampled_from(sorted(edges)), st.integers(0, 60))


def _ratio_points(packs: Sequence[Packish]) -> st.SearchStrategy[float | None]:
    edges = {0.0, 1.0}
    for parameter in _parameters(packs):
        if parameter.unit == "ratio":
            edges.add(parameter.value)
    return st.one_of(st.none(), st.sampled_from(sorted(edges)), st.floats(0, 1, allow_nan=False))


def _iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass(frozen=True)
class _Parts:
    """Sub-strategies built once per ``evaluations`` call.

    Building a strategy inside the draw costs more than drawing from it (Hypothesis validates
    and caches every new one), so everything that does not depend on an earlier draw is built
    here. The draws, and so the cases a seed generates, are the same either way.
    """

    offset: st.SearchStrategy[int]
    money: st.SearchStrategy[Decimal]
    days: st.SearchStrategy[int]
    counts: st.SearchStrategy[int]
    points: st.SearchStrategy[int]
    ratio: st.SearchStrategy[float | None]
    score: st.SearchStrategy[float]
    starts: st.SearchStrategy[datetime]
    # The profile's vocabularies, by vocabulary name.
    terms: dict[str, st.SearchStrategy[str]]
    return_terms: st.SearchStrategy[list[str]]
    evidence: st.SearchStrategy[list[str]]
    goods_conditions: st.SearchStrategy[str | None]


def _starts(pack: Packish) -> st.SearchStrategy[datetime]:
    """When generated orders are paid: within a version's dates, the newest version first."""
    zone = ZoneInfo(pack.profile.defaults.timezone)
    windows = []
    for version in reversed(_versions(pack)):
        first = datetime.combine(version.effective_from, time(9), zone)
        last_day = version.effective_to or version.effective_from + timedelta(days=_SPAN_DAYS)
        span = min(_SPAN_DAYS, max(0, (last_day - version.effective_from).days))
        windows.append((first, span))
    return st.sampled_from(windows).flatmap(
        lambda window: st.integers(0, 60 * 24 * window[1]).map(
            lambda minutes: window[0] + timedelta(minutes=minutes)
        )
    )


def _parts(packs: Sequence[Packish]) -> _Parts:
    profile = packs[0].profile
    vocabularies = ("request_kinds", "reasons", "refusal_reasons", "compensation_kinds")
    return _Parts(
        terms={name: st.sampled_from(profile.terms(name)) for name in vocabularies},
        return_terms=_rare_subset(profile.terms("return_terms")),
        evidence=st.lists(
            st.sampled_from(profile.terms("evidence_kinds")), max_size=4, unique=True
        ),
        goods_conditions=st.sampled_from((None, *profile.terms("goods_conditions"))),
        starts=_starts(packs[0]),
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
    draw: st.DrawFn, packs: tuple[Packish, ...], parts: _Parts, fixed: dict[str, Any]
) -> Evaluation:
    pack = packs[0]
    profile = pack.profile
    offset = parts.offset

    def pick(name: str, strategy: st.SearchStrategy[Any]) -> Any:
        return fixed[name] if name in fixed else draw(strategy)

    paid_at = draw(parts.starts)
    money = parts.money
    paid = Decimal(str(pick("paid_amount", money))).quantize(Decimal("0.01"))
    requested = (
        paid
        if draw(_BOOLEANS)
        else draw(st.decimals(Decimal("0.01"), paid, places=2, allow_nan=False))
    )
    kind = str(pick("kind", parts.terms["request_kinds"]))
    reason = str(pick("reason", parts.terms["reasons"]))

    shipped = bool(pick("shipped", _BOOLEANS))
    delivered = shipped and bool(pick("delivered", _BOOLEANS))
    order: dict[str, Any] = {
        "order_id": f"gen-{draw(_ORDER_NUMBERS)}",
        "paid_amount": str(paid),
        "paid_at": _iso(paid_at),
        "virtual": draw(_RARELY),
        "custom_made": draw(_RARELY),
        "fresh": draw(_RARELY),
        "opened_digital": draw(_RARELY),
        "during_promotion": draw(_RARELY),
        "return_terms": draw(parts.return_terms),
    }
    if draw(_RARELY):
        order["after_sales_days"] = draw(_AFTER_SALES_DAYS)
    logistics: dict[str, Any] = {"status": LogisticsStatus.NOT_SHIPPED.value}
    latest = paid_at
    if shipped:
        shipped_at = paid_at + timedelta(seconds=draw(offset))
        order["shipped_at"] = _iso(shipped_at)
        latest = shipped_at
        if draw(_BOOLEANS):
            logistics["carrier_pickup_at"] = _iso(shipped_at + timedelta(seconds=draw(offset)))
        logistics["shared_with_other_orders"] = draw(_RARELY)
        if delivered:
            logistics["contents_short"] = draw(_RARELY)
            delivered_at = shipped_at + timedelta(seconds=draw(_DELIVERY_SECONDS))
            order["delivered_at"] = _iso(delivered_at)
            latest = delivered_at
            logistics["status"] = draw(_DELIVERED).value
        else:
            logistics["status"] = draw(_NOT_DELIVERED).value
    requested_at = latest + timedelta(seconds=draw(offset))

    timeline: list[dict[str, Any]] = []
    moment = requested_at

    def add(actor: str, event_kind: EventKind, **details: Any) -> None:
        # The usual after-sales moves, kept to the events this platform has.
        nonlocal moment
        spec = profile.events.get(event_kind.value)
        if spec is None:
            return
        moment = moment + timedelta(seconds=max(1, draw(offset)))
        who = actor if actor in spec.by else spec.by[0]
        timeline.append({"at": _iso(moment), "actor": who, "kind": event_kind.value, **details})

    current_kind = kind
    if draw(_RARELY):  # the request changes kind before the seller answers
        others = [term for term in profile.terms("request_kinds") if term != kind]
        if others and EventKind.BUYER_CHANGED_REQUEST.value in profile.events:
            current_kind = draw(st.sampled_from(others))
            add("buyer", EventKind.BUYER_CHANGED_REQUEST, request_kind=current_kind)
    move = pick("seller_move", _SELLER_MOVE)
    disagreement = False
    if move == "none" and draw(_RARELY):
        add("platform", EventKind.PLATFORM_INSTANT_REFUND)
    elif move == "none" and not shipped and draw(_RARELY):
        add("seller", EventKind.SELLER_CANCELLED_ORDER)
    if move == "agreed":
        add("seller", EventKind.SELLER_AGREED)
        if current_kind != RequestKind.REFUND_ONLY and draw(_BOOLEANS):
            add("buyer", EventKind.BUYER_SHIPPED_RETURN)
            answer = draw(_RETURN_ANSWERS)
            condition = _given(goods_condition=draw(parts.goods_conditions))
            if answer == "confirmed":
                add("seller", EventKind.SELLER_CONFIRMED_RETURN, **condition)
            elif answer == "rejected":
                add("seller", EventKind.SELLER_REJECTED_RETURN, **condition)
                disagreement = True
    if current_kind == RequestKind.REFUND_ONLY and delivered and draw(_RARELY):
        add("buyer", EventKind.BUYER_SENT_GOODS_BACK)
    elif move == "refused":
        add(
            "seller",
            EventKind.SELLER_REFUSED,
            refusal_reason=draw(parts.terms["refusal_reasons"]),
        )
        disagreement = True
    elif move == "partial_offer":
        offer = draw(st.decimals(Decimal("0.01"), requested, places=2, allow_nan=False))
        add("seller", EventKind.SELLER_OFFERED_PARTIAL_REFUND, amount=str(offer))
        answer = draw(_OFFER_ANSWERS)
        if answer == "accepted":
            add("buyer", EventKind.BUYER_ACCEPTED_OFFER)
        elif answer == "rejected":
            add("buyer", EventKind.BUYER_REJECTED_OFFER)
            disagreement = True
    escalate = fixed.get("escalated")
    if escalate is None:
        escalate = disagreement and draw(_BOOLEANS)
    # The platform steps in on its own on a request nobody settled (never after an agreement).
    unsettled = disagreement or move in ("none", "refused")
    intervened = not escalate and unsettled and fixed.get("escalated") is None and draw(_RARELY)
    if escalate or intervened:
        if intervened:  # the platform steps in on its own
            add("platform", EventKind.PLATFORM_INTERVENED)
        else:
            add("buyer", EventKind.BUYER_ESCALATED)
        if draw(_BOOLEANS):
            ruling = draw(_RULINGS)
            add("platform", EventKind.PLATFORM_RULED, ruling=ruling.value)
            if draw(_BOOLEANS):
                add("seller", EventKind.SELLER_APPEALED)
    if draw(_RARELY):
        add("buyer", EventKind.BUYER_CANCELLED)

    evidence = [
        {"party": party, "kind": item}
        for party in profile.evidence_parties
        for item in draw(parts.evidence)
    ]
    request: dict[str, Any] = {
        "kind": kind,
        "reason": reason,
        "amount": str(requested),
        "requested_at": _iso(requested_at),
    }
    if draw(_RARELY):
        request["compensation"] = {
            "kind": draw(parts.terms["compensation_kinds"]),
            "amount": str(draw(st.decimals(Decimal("0.01"), paid, places=2, allow_nan=False))),
        }
    if draw(_RARELY):  # the buyer re-applies after an earlier request ended
        earlier_at = paid_at + (requested_at - paid_at) * draw(_FRACTIONS)
        request["earlier_requests"] = [
            {
                "kind": draw(parts.terms["request_kinds"]),
                "reason": draw(parts.terms["reasons"]),
                "requested_at": _iso(earlier_at),
                "outcome": draw(_EARLIER_OUTCOMES).value,
            }
        ]
    data: dict[str, Any] = {
        "case_id": f"generated-{draw(_CASE_NUMBERS)}",
        "platform": pack.platform,
        "order": order,
        "request": request,
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
            "left_platform": draw(_RARELY),
        },
    }
    try:
        case = Case.model_validate(data, context={"profile": profile})
    except CaseError:
        # The usual moves in an order this platform's flow does not allow (e.g. a ruling
        # with no claim before it): not a case of this platform.
        reject()
    as_of = moment + timedelta(seconds=draw(offset))
    if draw(_BOOLEANS):
        as_of = as_of.astimezone(UTC)  # the same instant in another zone
    return case, as_of


def evaluations(
    pack: Packish, *, also: Sequence[Packish] = (), **fixed: Any
) -> st.SearchStrategy[Evaluation]:
    """``(case, as_of)`` pairs for ``pack``, with ``as_of`` landing on and around thresholds.

    Orders are paid within the dates of ``pack``'s versions (one version's, for a
    ``PackVersion``). ``also`` adds the thresholds of other packs (e.g. the new version in a
    diff). ``fixed``
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


def cases(pack: Packish, *, also: Sequence[Packish] = (), **fixed: Any) -> st.SearchStrategy[Case]:
    """Valid cases for ``pack`` (see :func:`evaluations` for ``also`` and ``fixed``)."""
    return evaluations(pack, also=also, **fixed).map(lambda evaluation: evaluation[0])
