"""What ``RulePack.predict`` returns: a frozen, JSON-serialisable account of the dispute."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from refundrules._vocabulary import Resolution, ReturnShippingPayer, Stage

__all__ = [
    "Build",
    "BuyerFlag",
    "Compensation",
    "Deadline",
    "MetricChange",
    "OutcomeLikelihood",
    "PackRef",
    "PredictedResolution",
    "Prediction",
    "Reason",
    "RecommendedAction",
    "Sanction",
    "SellerConsequences",
    "SourceCitation",
    "trusted",
    "validated",
]

_M = TypeVar("_M", bound=BaseModel)


class Build(Protocol):
    """How the assembly makes a part of a prediction: :func:`validated` or :func:`trusted`."""

    def __call__(self, model: type[_M], /, **values: Any) -> _M: ...


def validated(model: type[_M], /, **values: Any) -> _M:
    """The part, validated by pydantic (the reference path)."""
    return model(**values)


_setattr = object.__setattr__


@cache
def _field_defaults(model: type[BaseModel]) -> tuple[tuple[str, bool, Any], ...]:
    """Each field of ``model`` in declared order: its name, whether it is required, its default."""
    return tuple(
        (name, info.is_required(), None if info.is_required() else info.default)
        for name, info in model.model_fields.items()
    )


def trusted(model: type[_M], /, **values: Any) -> _M:
    """The part from values the assembly made itself, already of exactly the declared types,
    without validating them again (the fast path; tests/test_fast_path.py checks that every
    prediction it makes dumps exactly as the validated one does).

    What ``model_construct`` does for these models, without its generality: fields in
    declared order, a fresh copy of a ``{}`` default, the given fields as the set ones.
    """
    data: dict[str, Any] = {}
    for name, required, default in _field_defaults(model):
        if name in values:
            data[name] = values[name]
        elif required:
            raise TypeError(f"{model.__name__} needs {name!r}")
        else:
            data[name] = dict(default) if type(default) is dict else default
    part = model.__new__(model)
    _setattr(part, "__dict__", data)
    _setattr(part, "__pydantic_fields_set__", set(values))
    _setattr(part, "__pydantic_extra__", None)
    _setattr(part, "__pydantic_private__", None)
    return part


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PackRef(_Out):
    """Which pack version produced a prediction: the family id, the version, the dates it is in
    force and a SHA-256 of its resolved content (profile, parameters and rules in force)."""

    id: str
    platform: str
    version: str
    effective_from: date
    effective_to: date | None
    content_hash: str


class SourceCitation(_Out):
    """A source a reason's rule cites: its key in the pack manifest, title, url, confidence
    (``A`` official … ``D`` our inference)."""

    key: str
    title: str
    url: str | None
    confidence: str


class Reason(_Out):
    """Why a claim in the prediction holds: the rule, the fact values that made it fire, sources.

    ``role`` is ``decided`` for the rule that set the stage and resolution, ``contributed`` for
    additive rules (deadlines, flags, sanctions, …) and ``shadowed`` for deciding rules that
    fired but lost to a higher-precedence rule.
    """

    rule_id: str
    title: str
    title_zh: str
    role: Literal["decided", "contributed", "shadowed"]
    because: str
    facts: dict[str, bool | float | str]
    sources: tuple[SourceCitation, ...]


class PredictedResolution(_Out):
    outcome: Resolution
    refund_amount: Decimal
    currency: str
    return_shipping_paid_by: ReturnShippingPayer
    decided_by: str
    final: bool
    rule_id: str


class Deadline(_Out):
    """A running clock: ``what`` and ``if_missed`` in English, ``*_texts`` in every language."""

    id: str
    what: str
    party: str
    due_at: datetime
    hours_left: float
    if_missed: str
    rule_id: str
    what_texts: dict[str, str] = {}
    if_missed_texts: dict[str, str] = {}


class Sanction(_Out):
    name: str
    description: str
    threshold_points: float
    rule_id: str
    description_texts: dict[str, str] = {}


class Compensation(_Out):
    what: str
    amount: Decimal
    paid_to: Literal["buyer", "platform"]
    rule_id: str
    what_texts: dict[str, str] = {}


class MetricChange(_Out):
    """One seller metric of the platform (penalty points, an order defect rate, …) before and
    after this case. For a ``rate``, ``added`` counts defects and ``before``/``after`` are shares."""

    metric: str
    title: str
    kind: Literal["total", "rate"]
    unit: str
    before: float
    added: float
    after: float
    title_texts: dict[str, str] = {}


class SellerConsequences(_Out):
    """What the case costs the store. ``penalty_points_added``/``_total`` repeat the
    ``penalty_points`` metric for platforms that have one (0 elsewhere)."""

    dispute_record: bool
    metrics: tuple[MetricChange, ...] = ()
    penalty_points_added: float
    penalty_points_total: float
    sanctions: tuple[Sanction, ...]
    compensation: tuple[Compensation, ...]


class BuyerFlag(_Out):
    flag: str
    signals: tuple[str, ...]
    rule_ids: tuple[str, ...]
    signal_texts: dict[str, tuple[str, ...]] = {}


class RecommendedAction(_Out):
    """What the seller should do. ``source`` ``what_if``: an action of the pack's
    ``seller_actions.yaml`` in the what-if ranking (``rank`` 1 = cheapest), ``why`` its
    predicted result and cost, ``rule_id`` the rule deciding that result; ``rule``: advice a
    rule gives where no seller action applies at the stage. ``title`` / ``why`` are English;
    ``*_texts`` give every language."""

    action: str
    why: str
    rule_id: str
    source: Literal["what_if", "rule"] = "rule"
    rank: int | None = None
    title: str = ""
    title_texts: dict[str, str] = {}
    why_texts: dict[str, str] = {}


class OutcomeLikelihood(_Out):
    """How often the deciding rule's outcome held in the published disputes it decides.

    Counts from the pack's published outcomes (the tuning records, never the ones set aside):
    ``held`` of ``records`` ended in ``predicted_class``; ``counts`` gives every class seen;
    ``interval`` is the 95 % Wilson interval of ``held / records``; ``thin`` is true below 5
    records. No other probability is claimed.
    """

    rule_id: str
    predicted_class: str
    records: int
    held: int
    counts: dict[str, int]
    interval: tuple[float, float]
    thin: bool
    text: str
    texts: dict[str, str] = {}


class Prediction(_Out):
    """The predicted course and end of one dispute at ``as_of``.

    ``stage`` is where it stands; ``resolution`` how it is predicted to end if the parties do
    nothing more than the rules expect; every other field cites the rule that produced it in
    ``reasons``. Sentences are in English, each with ``*_texts`` in every language; asked
    for in a ``language``, ``text`` is the whole account in it and ``texts`` in each.
    """

    case_id: str
    as_of: datetime
    stage: Stage
    resolution: PredictedResolution
    deadlines: tuple[Deadline, ...]
    seller_consequences: SellerConsequences
    buyer_flags: tuple[BuyerFlag, ...]
    recommended_actions: tuple[RecommendedAction, ...]
    reasons: tuple[Reason, ...]
    fired_rules: tuple[str, ...]
    pack: PackRef
    warnings: tuple[str, ...] = ()
    likelihood: OutcomeLikelihood | None = None
    language: Literal["en", "zh"] | None = None
    text: str | None = None
    texts: dict[str, str] = {}
