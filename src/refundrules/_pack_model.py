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
    "PartInclude",
    "PartManifest",
    "PartVersionSpec",
    "PropertiesFile",
    "PropertySpec",
    "RecommendationEffect",
    "ResolutionEffect",
    "RuleExtension",
    "RuleSpec",
    "RulesFile",
    "SanctionEffect",
    "SourceEntry",
    "TestExpectation",
    "TestsFile",
    "ThenExtension",
    "Titles",
    "sentence_en",
    "sentence_texts",
]

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
Confidence = Literal["A", "B", "C", "D"]
Unit = Literal["hours", "days", "business_days", "points", "currency", "ratio", "count"]
TIME_UNITS = ("hours", "days", "business_days")
RefundBasis = Literal["requested", "paid", "offer", "none"]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class SourceEntry(_Spec):
    """A source a number or rule cites: what it is, where, and how far to trust it."""

    title: str
    """What the source is, as a reader would find it (page title, document name)."""
    url: str | None = None
    """Its public address, if it has one."""
    confidence: Confidence
    """How far to trust it (`high`, `medium`, `low`)."""
    note: str | None = None
    """What the source says that the pack relies on, or a caveat."""


class PackVersionSpec(_Spec):
    """One dated version of a family: in force from ``effective_from`` until the day before
    the next version's (or ``effective_to``, for the last one)."""

    version: Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?$")]
    """The version number, `YEAR.MONTH` of when it came into force (e.g. `2024.12`)."""
    effective_from: date
    """The first day this version is in force (a case selects the version in force on its
    request date).
    """
    effective_to: date | None = None
    """The last day the last version is in force; only the last version sets it (the others end
    where the next begins).
    """
    title: str = Field(min_length=1)
    """One line on what changed in this version."""
    note: str | None = None
    """Longer notes on the change and its sources."""


class CalibrationFloor(_Spec):
    """The accuracy the pack promises on its tuning records (``refundrules calibrate``)."""

    fine_accuracy: Annotated[float, Field(ge=0, le=1)] | None = None
    """The least share of tuning records whose resolution class must be predicted exactly (0 to
    1); `calibrate` exits 1 below it.
    """
    coarse_accuracy: Annotated[float, Field(ge=0, le=1)] | None = None
    """The least share of tuning records where "money back or not" must be right (0 to 1)."""


class PackManifest(_Spec):
    """``pack.yaml``: the family's identity, its dated versions and the sources it cites."""

    id: Identifier
    """The pack family's id, the name `load_rule_pack` and the CLI take."""
    platform: Identifier
    """The marketplace its cases name in `platform`."""
    title: str
    """A human title for the family."""
    versions: tuple[PackVersionSpec, ...] = Field(min_length=1)
    """Its dated versions, oldest first."""
    sources: dict[str, SourceEntry] = Field(min_length=1)
    """Every source a rule or parameter cites, by key."""
    calibration: CalibrationFloor | None = None
    """The accuracy floors the pack promises on its published outcomes."""
    includes: tuple[PartInclude, ...] = ()
    """Shared parts (`rules/_shared/NAME/`) whose rules, parameters and sources this family
    uses, each placed at a base priority and optionally extended."""

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

    value: float = Field(allow_inf_nan=False)
    """The other value (finite)."""
    source: str
    """The key of the source that gives it (in `pack.yaml` `sources`)."""
    note: str | None = None
    """Why it differs."""


class ParameterChange(_Spec):
    """The parameter's value from ``from`` on (a version boundary)."""

    start: date = Field(alias="from")
    """The day the new value applies from (a version boundary)."""
    value: float = Field(allow_inf_nan=False)
    """The new value."""
    source: str
    """The key of the source that gives it."""
    confidence: Confidence
    """How far to trust it (`high`, `medium`, `low`)."""
    note: str | None = None
    """Notes on the change."""


class Parameter(_Spec):
    """A named number, e.g. ``seller_response_window_hours: {value: 48, unit: hours, …}``.

    ``changes`` gives later values, each from a version boundary on.
    """

    value: float = Field(allow_inf_nan=False)
    """The number (finite)."""
    unit: Unit
    """What it counts (`hours`, `days`, `business_days`, `points`, `currency`, `ratio`,
    `count`).
    """
    source: str
    """The key of the source that gives it (in `pack.yaml` `sources`)."""
    confidence: Confidence
    """How far to trust it (`high`, `medium`, `low`)."""
    description: str
    """What the number means, in a sentence."""
    alternatives: tuple[Alternative, ...] = ()
    """Other values sources give, which generated tests also try."""
    changes: tuple[ParameterChange, ...] = ()
    """Later values, each from a version boundary on."""
    note: str | None = None
    """Notes on the value or its sources."""

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
    """The name of a parameter in `parameters.yaml`."""


class Titles(_Spec):
    """A rule's title in each language of the platform profile (English always)."""

    en: str = Field(min_length=1)
    """The title in English."""
    zh: str | None = Field(default=None, min_length=1)
    """The title in Chinese."""

    def texts(self) -> dict[str, str]:
        """The text in every language (English where the Chinese is missing)."""
        return {"en": self.en, "zh": self.zh or self.en}


def sentence_texts(value: str | Titles) -> dict[str, str]:
    """A pack sentence (a plain English string, or ``{en: ..., zh: ...}``) in every language."""
    return {"en": value, "zh": value} if isinstance(value, str) else value.texts()


def sentence_en(value: str | Titles) -> str:
    """A pack sentence in English."""
    return value if isinstance(value, str) else value.en


class ResolutionEffect(_Spec):
    """How the case ends if this rule decides. ``as_requested`` grants what the buyer asked;
    ``as_ruled`` takes the platform's recorded ruling."""

    outcome: Resolution | Literal["as_requested", "as_ruled"]
    """The resolution (`full_refund`, `partial_refund`, `return_and_refund`,
    `request_rejected`, ...), or `as_requested` (what the buyer asked for) or `as_ruled`
    (the platform's recorded ruling).
    """
    refund: RefundBasis | ParamRef = "requested"
    """How much is refunded - `requested`, `paid`, `offered`, `none` - or a parameter."""
    return_shipping: ReturnShippingPayer | Literal["seller_if_at_fault"] = (
        ReturnShippingPayer.NOT_APPLICABLE
    )
    """Who pays the return shipping (`buyer`, `seller`, `platform`, `not_applicable`, or
    `seller_if_at_fault`).
    """
    decided_by: Identifier
    """Who decides it (`seller`, `buyer`, `platform`, `system`, ...)."""
    final: bool = False
    """The resolution has already happened (not only predicted)."""


class DeadlineEffect(_Spec):
    """A clock a rule starts: who must act, by ``from`` + ``after``, and what if missed."""

    id: Identifier
    """The deadline's id, as predictions name it."""
    what: str | Titles
    """What must be done by then, in a sentence (or `{en: ..., zh: ...}`)."""
    party: Identifier
    """Who must act."""
    start: Identifier = Field(alias="from")
    """The anchor the clock starts from (e.g. `request`, `refusal`)."""
    after: ParamRef
    """The parameter giving how long after the anchor the deadline falls."""
    if_missed: str | Titles
    """What happens if the deadline passes, in a sentence (or `{en: ..., zh: ...}`)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", use_attribute_docstrings=True, populate_by_name=True
    )


class CompensationEffect(_Spec):
    """An amount (a parameter) the seller pays to the buyer or the platform."""

    what: str | Titles
    """What the money is for, in a sentence (or `{en: ..., zh: ...}`)."""
    amount: ParamRef
    """The parameter giving the amount."""
    paid_to: Literal["buyer", "platform"] = "buyer"
    """Who receives it (`buyer` or `platform`)."""


class BuyerSignalEffect(_Spec):
    """A signal about the buyer, grouped by ``flag`` in the prediction."""

    flag: Identifier
    """The flag the signal is grouped under (e.g. `possible_malicious_buyer`)."""
    signal: str | Titles
    """The signal, in a sentence (or `{en: ..., zh: ...}`)."""


class RecommendationEffect(_Spec):
    """An action the rule recommends to the seller, and why."""

    action: Identifier
    """The recommended action's id."""
    why: str | Titles
    """Why, in a sentence (or `{en: ..., zh: ...}`)."""


class SanctionEffect(_Spec):
    """A sanction on the store; ``threshold`` names the penalty-points level it belongs to."""

    name: Identifier
    """The sanction's id."""
    description: str | Titles
    """What the sanction does to the store (a sentence, or `{en: ..., zh: ...}`)."""
    threshold: ParamRef
    """The parameter giving the penalty-points level it belongs to."""


class Effects(_Spec):
    """What a rule concludes.

    ``stage`` and ``resolution`` are *slots*: a rule that sets one is a deciding rule, and each
    slot is decided by the firing rule with the lowest priority that sets it. A deciding rule's
    other effects apply only if it wins every slot it sets. Rules that set neither are additive.
    """

    stage: Stage | None = None
    """The stage the case is in (a slot; the lowest-priority firing rule that sets it decides).
    """
    resolution: ResolutionEffect | None = None
    """How the case ends (a slot, like `stage`)."""
    deadlines: tuple[DeadlineEffect, ...] = ()
    """Clocks this rule starts."""
    dispute_record: bool = False
    """The dispute goes on the store's record (only on a rule that sets `resolution`)."""
    metrics: dict[Identifier, ParamRef] = Field(default_factory=dict)
    """What this case adds to each seller metric, by metric (only on a rule that sets
    `resolution`).
    """
    compensation: tuple[CompensationEffect, ...] = ()
    """Amounts the seller pays on top of the refund."""
    buyer_signals: tuple[BuyerSignalEffect, ...] = ()
    """Signals about the buyer (e.g. malicious-complaint signs)."""
    recommend: tuple[RecommendationEffect, ...] = ()
    """Actions recommended to the seller."""
    sanction: SanctionEffect | None = None
    """A sanction on the store (consequence rules)."""

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
    """The first day the rule is in force (a version boundary); from the first version if
    absent.
    """
    until: date | None = None
    """The last day the rule is in force (the day before a version boundary); open-ended if
    absent.
    """

    @model_validator(mode="after")
    def _ordered(self) -> InForce:
        if self.start is not None and self.until is not None and self.until < self.start:
            raise ValueError("'until' is before 'from'")
        return self


_ALWAYS = (InForce(),)


class RuleSpec(_Spec):
    """One rule as written in ``rules/*.yaml``; ``when`` is checked into a condition at load."""

    id: Identifier
    """The rule's id, unique in the pack; reasons and tests name it."""
    title: Titles
    """Its title in each language of the profile."""
    phase: Literal["decision", "consequence"] = "decision"
    """`decision` (decides the case from its facts) or `consequence` (reads the decision:
    sanctions, recommendations).
    """
    priority: Annotated[int, Field(ge=0, le=65535)]
    """Lower wins a slot; unique among deciding rules of a phase."""
    in_force: InForce | tuple[InForce, ...] | None = None
    """The dates the rule is in force; every version if absent."""

    @property
    def in_force_spans(self) -> tuple[InForce, ...]:
        """The spans the rule is in force (one open span if it names none)."""
        if self.in_force is None:
            return _ALWAYS
        return self.in_force if isinstance(self.in_force, tuple) else (self.in_force,)

    when: dict[str, Any]
    """The condition over facts: `{all: [...]}`, `{any: [...]}`, `{not: ...}` or `{fact: NAME,
    OP: VALUE}`.
    """
    then: Effects
    """What the rule concludes."""
    sources: tuple[str, ...] = Field(min_length=1)
    """Keys of the sources (in `pack.yaml`) the rule follows."""
    # Published outcomes (ids in the family's outcomes/*.yaml) that support the rule.
    outcomes: tuple[str, ...] = ()
    """Ids of published outcomes (in the family's `outcomes/*.yaml`) that support the rule."""
    note: str | None = None
    """Notes for rule authors, e.g. where sources and outcomes disagree."""


class RulesFile(_Spec):
    rules: tuple[RuleSpec, ...] = Field(min_length=1)
    """The rules of this file."""


class PropertyExpectation(_Spec):
    """What must hold of every prediction the property covers (each field: one of)."""

    resolution: tuple[Resolution, ...] | None = None
    """The resolution must be one of these."""
    not_resolution: tuple[Resolution, ...] | None = None
    """The resolution must be none of these."""
    stage: tuple[Stage, ...] | None = None
    """The stage must be one of these."""
    decided_by: tuple[Identifier, ...] | None = None
    """Whoever decides must be one of these."""
    max_metric_added: dict[str, float] | None = None
    """The most the case may add to each seller metric, by metric."""
    dispute_record: bool | None = None
    """Whether the dispute must go on the store's record."""


class TestExpectation(_Spec):
    """What a pack test expects; fields left out are not checked."""

    # Exported from refundrules: keep pytest from collecting it in a test module that imports it.
    __test__: ClassVar[bool] = False

    stage: Stage | None = None
    """The stage expected."""
    resolution: Resolution | None = None
    """The resolution expected."""
    refund_amount: float | None = None
    """The refund amount expected (to the cent)."""
    return_shipping: ReturnShippingPayer | None = None
    """Who is expected to pay return shipping."""
    resolution_rule: str | None = None
    """The rule expected to decide the resolution."""
    fired: tuple[str, ...] = ()
    """Rules that must fire."""
    not_fired: tuple[str, ...] = ()
    """Rules that must not fire."""
    pack_version: str | None = None  # the version that predicted it
    """The version expected to predict it."""
    metrics_added: dict[str, float] | None = None
    """What the case must add to each seller metric, by metric."""
    dispute_record: bool | None = None
    """Whether the dispute must go on the store's record."""
    sanctions: tuple[str, ...] | None = None
    """The sanctions expected, exactly (order ignored)."""
    buyer_flags: tuple[str, ...] | None = None
    """The buyer flags expected, exactly (order ignored)."""
    deadlines: tuple[str, ...] | None = None
    """The running deadlines expected, exactly (order ignored)."""
    recommended: tuple[str, ...] = ()
    """Actions that must be among the recommendations."""
    holds: PropertyExpectation | None = None
    """What a property requires of the prediction (each list is "one of"); a failed property's
    counterexample is printed as a pack test with it."""


class PackTest(_Spec):
    """A test in ``tests/*.yaml``: a case (inline or ``case_file``), ``as_of``, what to expect."""

    name: Identifier
    """The test's name, unique in the pack."""
    description: str | None = None
    """What the test shows, in a sentence."""
    case: dict[str, Any] | None = None
    """The case, inline (exactly one of `case` and `case_file`)."""
    case_file: str | None = None
    """A case file, relative to the tests folder and inside the pack."""
    version: str | None = None  # pin a version; default: the one the case's request date selects
    """Pin a version; by default the one the case's request date selects."""
    as_of: AwareDatetime
    """When to predict, with a timezone."""
    expect: TestExpectation
    """What the prediction must show; fields left out are not checked."""

    @model_validator(mode="after")
    def _one_case(self) -> PackTest:
        if (self.case is None) == (self.case_file is None):
            raise ValueError("give exactly one of 'case' and 'case_file'")
        return self


class TestsFile(_Spec):
    tests: tuple[PackTest, ...] = Field(min_length=1)
    """The tests of this file."""


class EvidenceChange(_Spec):
    """Evidence to add to a generated case: by which party, of which kind."""

    party: Identifier
    """Who adds the evidence."""
    kind: Identifier
    """The kind of evidence added."""


class CaseChange(_Spec):
    """How to change a generated case before predicting it again."""

    add_evidence: EvidenceChange
    """Evidence added to the case before predicting it again."""


class ForbiddenTransition(_Spec):
    """A resolution change a property forbids: from any of ``from`` to any of ``to``."""

    from_: tuple[Resolution, ...] = Field(alias="from", min_length=1)
    """Resolutions before the change."""
    to: tuple[Resolution, ...] = Field(min_length=1)
    """Resolutions after the change that are forbidden from those."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", use_attribute_docstrings=True, populate_by_name=True
    )


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
    """The property's id, unique in the pack."""
    description: str
    """The invariant, in a sentence (printed when it fails)."""
    versions: tuple[str, ...] = ()  # only cases these versions predict (default: every one)
    """Only cases these versions predict; every version if empty."""
    given: dict[str, Any] = Field(default_factory=dict)
    """What the generator pins (`kind`, `reason`, `seller_move`, `shipped`, `delivered`,
    `escalated`, `paid_amount`).
    """
    when: dict[str, Any] | None = None
    """A condition over decision facts selecting the cases the property covers."""
    expect: PropertyExpectation | None = None
    """What every covered prediction must satisfy."""
    change: CaseChange | None = None
    """How to change a covered case (with `forbid`)."""
    forbid: tuple[ForbiddenTransition, ...] = ()
    """Resolution transitions the change must never cause."""

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
    """The properties the pack declares."""


class ThenExtension(_Spec):
    """What a pack adds to a shared part's rule: consequences only. What the rule decides (its
    stage and resolution) belongs to the part; a pack cannot change it."""

    deadlines: tuple[DeadlineEffect, ...] = ()
    """Clocks the rule also starts on this platform (the platform's own deadline wording)."""
    metrics: dict[Identifier, ParamRef] = Field(default_factory=dict)
    """What the case also adds to each seller metric (e.g. penalty points), by metric."""
    recommend: tuple[RecommendationEffect, ...] = ()
    """Actions also recommended to the seller."""
    buyer_signals: tuple[BuyerSignalEffect, ...] = ()
    """Signals about the buyer the rule also gives."""


class RuleExtension(_Spec):
    """``{rule: ID, then: {...}, sources: [...]}``: pack-specific consequences merged into one
    rule of an included part."""

    rule: Identifier
    """The id of the part's rule to extend."""
    then: ThenExtension = Field(default_factory=ThenExtension)
    """The consequences added to the rule's `then` (lists are appended, metrics added)."""
    sources: tuple[str, ...] = ()
    """Sources of this pack (in its `pack.yaml`) the extended rule also cites."""


class PartInclude(_Spec):
    """One shared part a family includes, e.g. ``{part: china_law, priority: 38}``."""

    part: Identifier
    """The part's name: the folder `rules/_shared/NAME/` (beside the pack, or bundled)."""
    priority: Annotated[int, Field(ge=0, le=65535)]
    """The base priority: each part rule's priority is added to it, placing the part's rules in
    the family's priority order."""
    extend: tuple[RuleExtension, ...] = ()
    """Pack-specific consequences merged into the part's rules."""
    overrides: tuple[Identifier, ...] = ()
    """Part parameters this family's `parameters.yaml` replaces; a parameter of the same name
    that is not listed here is an error."""


class PartVersionSpec(_Spec):
    """A dated change of the law or policy a shared part writes down."""

    version: Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?$")]
    """The version number, `YEAR.MONTH` of when it came into force (e.g. `2026.2`)."""
    effective_from: date
    """The first day the change is in force."""
    title: str = Field(min_length=1)
    """One line on what changed."""
    sources: tuple[str, ...] = ()
    """Keys of the part's sources that give the change."""
    note: str | None = None
    """How the change reaches the part's rules, if at all."""


class PartManifest(_Spec):
    """``part.yaml`` of a shared part (``rules/_shared/NAME/``): rules, parameters and sources
    several families use, written once."""

    id: Identifier
    """The part's name, equal to its folder's."""
    title: str = Field(min_length=1)
    """A human title."""
    versions: tuple[PartVersionSpec, ...] = ()
    """Its dated changes, oldest first."""
    sources: dict[str, SourceEntry] = Field(min_length=1)
    """Every source the part's rules and parameters cite, by key; an including family cites
    them as its own."""
    note: str | None = None
    """Notes for rule authors."""

    @model_validator(mode="after")
    def _check_versions(self) -> PartManifest:
        for earlier, later in zip(self.versions, self.versions[1:], strict=False):
            if later.effective_from <= earlier.effective_from:
                raise ValueError(
                    f"versions are listed oldest first: {later.version} "
                    f"({later.effective_from}) follows {earlier.version} ({earlier.effective_from})"
                )
        return self


PackManifest.model_rebuild()
