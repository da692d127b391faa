"""The schema of a rule pack's YAML files, as frozen pydantic models.

A pack is a folder::

    pack.yaml          # manifest: id, platform, version, effective dates, timezone, sources
    parameters.yaml    # named numbers, each with unit, source and confidence
    rules/*.yaml       # rules: id, titles, phase, priority, when (condition), then (effects)
    tests/*.yaml       # example cases with expected outcomes

Conditions (``when``) are kept as plain data here and checked by ``_conditions``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from refundrules._vocabulary import (
    EvidenceKind,
    Party,
    Platform,
    RefundReason,
    Resolution,
    ReturnShippingPayer,
    Stage,
)

__all__ = [
    "BuyerSignalEffect",
    "CompensationEffect",
    "DeadlineEffect",
    "Effects",
    "PackManifest",
    "PackTest",
    "ParamRef",
    "Parameter",
    "PropertiesFile",
    "PropertySpec",
    "RecommendationEffect",
    "ResolutionEffect",
    "RuleSpec",
    "RulesFile",
    "SanctionEffect",
    "SourceEntry",
    "TestExpectation",
    "TestsFile",
]

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
Confidence = Literal["A", "B", "C", "D"]
Unit = Literal["hours", "days", "points", "currency", "ratio", "count"]
Anchor = Literal[
    "payment",
    "request",
    "shipment",
    "delivery",
    "seller_response",
    "offer",
    "return_shipped",
    "return_rejected",
    "disagreement",
    "escalation",
    "ruling",
]
RefundBasis = Literal["requested", "paid", "offer", "none"]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceEntry(_Spec):
    """A source a number or rule cites: what it is, where, and how far to trust it."""

    title: str
    url: str | None = None
    confidence: Confidence
    note: str | None = None


class PackManifest(_Spec):
    """``pack.yaml``: which platform and version, when in force, timezone, currency, sources."""

    id: Identifier
    platform: Platform
    version: Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?$")]
    title: str
    effective_from: date
    effective_to: date | None = None
    timezone: str = "Asia/Shanghai"
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    seller_fault_reasons: tuple[RefundReason, ...] = ()
    sources: dict[str, SourceEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_dates(self) -> PackManifest:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        return self


class Alternative(_Spec):
    """Another value a parameter might have, with its source (generators test these too)."""

    value: float
    source: str
    note: str | None = None


class Parameter(_Spec):
    """A named number, e.g. ``seller_response_window_hours: {value: 48, unit: hours, …}``."""

    value: float
    unit: Unit
    source: str
    confidence: Confidence
    description: str
    alternatives: tuple[Alternative, ...] = ()
    note: str | None = None


class ParamRef(_Spec):
    """``{param: NAME}``: a reference to a parameter instead of a literal number."""

    param: Identifier


class Titles(_Spec):
    """A rule's title in English and Chinese."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class ResolutionEffect(_Spec):
    """How the case ends if this rule decides. ``as_requested`` grants what the buyer asked;
    ``as_ruled`` takes the platform's recorded ruling."""

    outcome: Resolution | Literal["as_requested", "as_ruled"]
    refund: RefundBasis | ParamRef = "requested"
    return_shipping: ReturnShippingPayer | Literal["seller_if_at_fault"] = (
        ReturnShippingPayer.NOT_APPLICABLE
    )
    decided_by: Party
    final: bool = False


class DeadlineEffect(_Spec):
    """A clock a rule starts: who must act, by ``from`` + ``after``, and what if missed."""

    id: Identifier
    what: str
    party: Party
    start: Anchor = Field(alias="from")
    after: ParamRef
    if_missed: str

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class CompensationEffect(_Spec):
    """An amount (a parameter) the seller pays to the buyer or the platform."""

    what: str
    amount: ParamRef
    paid_to: Literal["buyer", "platform"] = "buyer"


class BuyerSignalEffect(_Spec):
    """A signal about the buyer, grouped by ``flag`` in the prediction."""

    flag: Identifier
    signal: str


class RecommendationEffect(_Spec):
    """An action the rule recommends to the seller, and why."""

    action: Identifier
    why: str


class SanctionEffect(_Spec):
    """A sanction on the store; ``threshold`` names the penalty-points level it belongs to."""

    name: Identifier
    description: str
    threshold: ParamRef


class Effects(_Spec):
    """What a rule concludes.

    ``stage`` and ``resolution`` are *slots*: a rule that sets one is a deciding rule, and each
    slot is decided by the firing rule with the lowest priority that sets it. A deciding rule's
    other effects apply only if it wins every slot it sets. Rules that set neither are additive.
    """

    stage: Stage | None = None
    resolution: ResolutionEffect | None = None
    deadlines: tuple[DeadlineEffect, ...] = ()
    dispute_record: bool = False
    penalty_points: ParamRef | None = None
    compensation: tuple[CompensationEffect, ...] = ()
    buyer_signals: tuple[BuyerSignalEffect, ...] = ()
    recommend: tuple[RecommendationEffect, ...] = ()
    sanction: SanctionEffect | None = None

    @model_validator(mode="after")
    def _check_deciding(self) -> Effects:
        if self.resolution is None and (self.dispute_record or self.penalty_points is not None):
            raise ValueError(
                "'dispute_record' and 'penalty_points' belong to a rule that sets 'resolution'"
            )
        return self

    @property
    def decides(self) -> bool:
        return self.stage is not None or self.resolution is not None


class RuleSpec(_Spec):
    """One rule as written in ``rules/*.yaml``; ``when`` is checked into a condition at load."""

    id: Identifier
    title: Titles
    phase: Literal["decision", "consequence"] = "decision"
    priority: Annotated[int, Field(ge=0, le=65535)]
    when: dict[str, Any]
    then: Effects
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None


class RulesFile(_Spec):
    rules: tuple[RuleSpec, ...] = Field(min_length=1)


class TestExpectation(_Spec):
    """What a pack test expects; fields left out are not checked."""

    # Exported from refundrules: keep pytest from collecting it in a test module that imports it.
    __test__: ClassVar[bool] = False

    stage: Stage | None = None
    resolution: Resolution | None = None
    refund_amount: float | None = None
    return_shipping: ReturnShippingPayer | None = None
    resolution_rule: str | None = None
    fired: tuple[str, ...] = ()
    not_fired: tuple[str, ...] = ()
    penalty_points_added: float | None = None
    dispute_record: bool | None = None
    sanctions: tuple[str, ...] | None = None
    buyer_flags: tuple[str, ...] | None = None
    deadlines: tuple[str, ...] | None = None
    recommended: tuple[str, ...] = ()


class PackTest(_Spec):
    """A test in ``tests/*.yaml``: a case (inline or ``case_file``), ``as_of``, what to expect."""

    name: Identifier
    description: str | None = None
    case: dict[str, Any] | None = None
    case_file: str | None = None
    as_of: AwareDatetime
    expect: TestExpectation

    @model_validator(mode="after")
    def _one_case(self) -> PackTest:
        if (self.case is None) == (self.case_file is None):
            raise ValueError("give exactly one of 'case' and 'case_file'")
        return self


class TestsFile(_Spec):
    tests: tuple[PackTest, ...] = Field(min_length=1)


class PropertyExpectation(_Spec):
    """What must hold of every prediction the property covers (each field: one of)."""

    resolution: tuple[Resolution, ...] | None = None
    not_resolution: tuple[Resolution, ...] | None = None
    stage: tuple[Stage, ...] | None = None
    decided_by: tuple[Party, ...] | None = None
    max_penalty_points_added: float | None = None
    dispute_record: bool | None = None


class EvidenceChange(_Spec):
    """Evidence to add to a generated case: by which party, of which kind."""

    party: Literal["buyer", "seller"]
    kind: EvidenceKind


class CaseChange(_Spec):
    """How to change a generated case before predicting it again."""

    add_evidence: EvidenceChange


class ForbiddenTransition(_Spec):
    """A resolution change a property forbids: from any of ``from`` to any of ``to``."""

    from_: tuple[Resolution, ...] = Field(alias="from", min_length=1)
    to: tuple[Resolution, ...] = Field(min_length=1)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# What a property's ``given`` (and ``refundrules.testing.evaluations``) may pin.
GENERATOR_KEYS = frozenset(
    {"kind", "reason", "seller_move", "shipped", "delivered", "escalated", "paid_amount"}
)


class PropertySpec(_Spec):
    """A property the pack declares, checked with Hypothesis over generated cases.

    Either ``expect`` (every covered case's prediction satisfies it) or ``change`` with
    ``forbid`` (changing the case never moves the resolution along a forbidden transition).
    ``given`` pins the generator (see ``refundrules.testing.evaluations``); ``when`` is a
    condition over decision facts that selects the cases the property covers.
    """

    id: Identifier
    description: str
    given: dict[str, Any] = Field(default_factory=dict)
    when: dict[str, Any] | None = None
    expect: PropertyExpectation | None = None
    change: CaseChange | None = None
    forbid: tuple[ForbiddenTransition, ...] = ()

    @model_validator(mode="after")
    def _one_kind(self) -> PropertySpec:
        unknown = sorted(set(self.given) - GENERATOR_KEYS)
        if unknown:
            raise ValueError(
                f"'given' cannot pin {unknown}; it pins {', '.join(sorted(GENERATOR_KEYS))}"
            )
        if (self.expect is None) == (self.change is None):
            raise ValueError("a property has either 'expect' or 'change' (with 'forbid')")
        if (self.change is None) != (not self.forbid):
            raise ValueError("'change' and 'forbid' go together")
        return self


class PropertiesFile(_Spec):
    properties: tuple[PropertySpec, ...] = Field(min_length=1)
