"""What ``RulePack.predict`` returns: a frozen, JSON-serialisable account of the dispute."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from refundrules._vocabulary import Party, Platform, Resolution, ReturnShippingPayer, Stage

__all__ = [
    "BuyerFlag",
    "Compensation",
    "Deadline",
    "PackRef",
    "PredictedResolution",
    "Prediction",
    "Reason",
    "RecommendedAction",
    "Sanction",
    "SellerConsequences",
    "SourceCitation",
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PackRef(_Out):
    """Which pack produced a prediction: id, version and a hash of its rule-bearing files."""

    id: str
    platform: Platform
    version: str
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
    decided_by: Party
    final: bool
    rule_id: str


class Deadline(_Out):
    id: str
    what: str
    party: Party
    due_at: datetime
    hours_left: float
    if_missed: str
    rule_id: str


class Sanction(_Out):
    name: str
    description: str
    threshold_points: float
    rule_id: str


class Compensation(_Out):
    what: str
    amount: Decimal
    paid_to: Literal["buyer", "platform"]
    rule_id: str


class SellerConsequences(_Out):
    dispute_record: bool
    penalty_points_added: float
    penalty_points_total: float
    sanctions: tuple[Sanction, ...]
    compensation: tuple[Compensation, ...]


class BuyerFlag(_Out):
    flag: str
    signals: tuple[str, ...]
    rule_ids: tuple[str, ...]


class RecommendedAction(_Out):
    action: str
    why: str
    rule_id: str


class Prediction(_Out):
    """The predicted course and end of one dispute at ``as_of``.

    ``stage`` is where it stands; ``resolution`` how it is predicted to end if the parties do
    nothing more than the rules expect; every other field cites the rule that produced it in
    ``reasons``.
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
