"""The schema of a rule pack's YAML files, as frozen pydantic models.

A pack is a folder::

    pack.yaml          # manifest: id, platform, dated versions, sources
    profile.yaml       # the platform profile (``_profile.PlatformProfile``)
    parameters.yaml    # named numbers, each with unit, source and confidence (and dated changes)
    rules/*.yaml       # rules: id, titles, phase, priority, in_force, when (condition), then
    tests/*.yaml       # example cases with expected outcomes
    properties.yaml    # properties checked with Hypothesis

Conditions (``when``) are kept as plain data here and checked by ``_conditions``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from refundrules._vocabulary import Resolution, ReturnShippingPayer, Stage

__all__ = [
    "BuyerSignalEffect",
    "CompensationEffect",
    "DeadlineEffect",
    "Effects",
    "InForce",
    "PackManifest",
    "PackTest",
    "PackVersionSpec",
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
Unit = Literal["hours", "days", "business_days", "points", "currency", "ratio", "count"]
TIME_UNITS = ("hours", "days", "business_days")
RefundBasis = Literal["requested", "paid", "offer", "none"]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceEntry(_Spec):
    """A source a number or rule cites: what it is, where, and how far to trust it."""

    title: str
    url: str | None = None
    confidence: Confidence
    note: str | None = None


class PackVersionSpec(_Spec):
    """One dated version of a family: in force from ``effective_from`` until the day before
    the next version's (or ``effective_to``, for the last one)."""

    version: Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?$")]
    effective_from: date
    effective_to: date | None = None
    title: str = Field(min_length=1)
    note: str | None = None


class CalibrationFloor(_Spec):
    """The accuracy the pack promises on its tuning records (``refundrules calibrate``)."""

    fine_accuracy: Annotated[float, Field(ge=0, le=1)] | None = None
    coarse_accuracy: Annotated[float, Field(ge=0, le=1)] | None = None


class PackManifest(_Spec):
    """``pack.yaml``: the family's identity, its dated versions and the sources it cites."""

    id: Identifier
    platform: Identifier
    title: str
    versions: tuple[PackVersionSpec, ...] = Field(min_length=1)
    sources: dict[str, SourceEntry] = Field(min_length=1)
    calibration: CalibrationFloor | None = None

    @model_validator(mode="after")
    def _check_versions(self) -> PackManifest:
        seen: set[str] = set()
        for earlier, later in zip(self.versions, self.versions[1:], strict=False):
            if later.effective_from <= earlier.effective_from:
                raise ValueError(
                    f"versions are listed oldest first: {later.version} "
                    f"({later.effective_from}) follows {earlier.version} ({earlier.effective_from})"
                )
            if earlier.effective_to is not None:
                raise ValueError(
                    f"only the last version sets effective_to; {earlier.version} ends where "
                    f"{later.version} begins"
                )
        for version in self.versions:
            if version.version in seen:
                raise ValueError(f"version {version.version!r} is listed twice")
            seen.add(version.version)
        last = self.versions[-1]
        if last.effective_to is not None and last.effective_to < last.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self


class Alternative(_Spec):
    """Another value a parameter might have, with its source (generators test these too)."""

    value: float
    source: str
    note: str | None = None


class ParameterChange(_Spec):
    """The parameter's value from ``from`` on (a version boundary)."""

    start: date = Field(alias="from")
    value: float = Field(allow_inf_nan=False)
    source: str
    confidence: Confidence
    note: str | None = None


class Parameter(_Spec):
    """A named number, e.g. ``seller_response_window_hours: {value: 48, unit: hours, …}``.

    ``changes`` gives later values, each from a version boundary on.
    """

    value: float = Field(allow_inf_nan=False)
    unit: Unit
    source: str
    confidence: Confidence
    description: str
    alternatives: tuple[Alternative, ...] = ()
    changes: tuple[ParameterChange, ...] = ()
    note: str | None = None

    def in_force_on(self, day: date) -> Parameter:
        """This parameter as it stood on ``day`` (its latest change by then, if any)."""
        current = self
        for change in self.changes:
            if change.start <= day:
                current = self.model_copy(
                    update={
                        "value": change.value,
                        "source": change.source,
                        "confidence": change.confidence,
                        "changes": (),
                    }
                )
        return current if current is not self else self.model_copy(update={"changes": ()})


class ParamRef(_Spec):
    """``{param: NAME}``: a reference to a parameter instead of a literal number."""

    param: Identifier


class Titles(_Spec):
    """A rule's title in each language of the platform profile (English always)."""

    en: str = Field(min_length=1)
    zh: str | None = Field(default=None, min_length=1)


class ResolutionEffect(_Spec):
    """How the case ends if this rule decides. ``as_requested`` grants what the buyer asked;
    ``as_ruled`` takes the platform's recorded ruling."""

    outcome: Resolution | Literal["as_requested", "as_ruled"]
    refund: RefundBasis | ParamRef = "requested"
    return_shipping: ReturnShippingPayer | Literal["seller_if_at_fault"] = (
        ReturnShippingPayer.NOT_APPLICABLE
    )
    decided_by: Identifier
    final: bool = False


class DeadlineEffect(_Spec):
    """A clock a rule starts: who must act, by ``from`` + ``after``, and what if missed."""

    id: Identifier
    what: str
    party: Identifier
    start: Identifier = Field(alias="from")
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
    metrics: dict[Identifier, ParamRef] = Field(default_factory=dict)
    compensation: tuple[CompensationEffect, ...] = ()
    buyer_signals: tuple[BuyerSignalEffect, ...] = ()
    recommend: tuple[RecommendationEffect, ...] = ()
    sanction: SanctionEffect | None = None

    @model_validator(mode="after")
    def _check_deciding(self) -> Effects:
        if self.resolution is None and (self.dispute_record or self.metrics):
            raise ValueError(
                "'dispute_record' and 'metrics' belong to a rule that sets 'resolution'"
            )
        return self

    @property
    def decides(self) -> bool:
        return self.stage is not None or self.resolution is not None


class InForce(_Spec):
    """The dates a rule is in force (each on a version boundary); open-ended if absent."""

    start: date | None = Field(default=None, alias="from")
    until: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> InForce:
        if self.start is not None and self.until is not None and self.until < self.start:
            raise ValueError("'until' is before 'from'")
        return self


_ALWAYS = (InForce(),)


class RuleSpec(_Spec):
    """One rule as written in ``rules/*.yaml``; ``when`` is checked into a condition at load."""

    id: Identifier
    title: Titles
    phase: Literal["decision", "consequence"] = "decision"
    priority: Annotated[int, Field(ge=0, le=65535)]
    in_force: InForce | tuple[InForce, ...] | None = None

    @property
    def in_force_spans(self) -> tuple[InForce, ...]:
        """The spans the rule is in force (one open span if it names none)."""
        if self.in_force is None:
            return _ALWAYS
        return self.in_force if isinstance(self.in_force, tuple) else (self.in_force,)

    when: dict[str, Any]
    then: Effects
    sources: tuple[str, ...] = Field(min_length=1)
    # Published outcomes (ids in the family's outcomes/*.yaml) that support the rule.
    outcomes: tuple[str, ...] = ()
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
    pack_version: str | None = None  # the version that predicted it
    metrics_added: dict[str, float] | None = None
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
    version: str | None = None  # pin a version; default: the one the case's request date selects
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
    decided_by: tuple[Identifier, ...] | None = None
    max_metric_added: dict[str, float] | None = None
    dispute_record: bool | None = None


class EvidenceChange(_Spec):
    """Evidence to add to a generated case: by which party, of which kind."""

    party: Identifier
    kind: Identifier


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
    versions: tuple[str, ...] = ()  # only cases these versions predict (default: every one)
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
