"""The platform profile: everything that differs between marketplaces, declared in YAML.

A pack family's ``profile.yaml`` says which platform it is, its defaults (currency, timezone,
languages), its business-day calendar, its vocabulary extensions, the event kinds of its
after-sales flow (who may do each, what it needs, what must come before it), the anchors
deadlines count from, the facts its rules may read (built from ``_fact_kinds``), its seller
metrics and its resolution policy. The library's Python knows no platform.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, model_validator

from refundrules._calendar import BusinessCalendar
from refundrules._fact_kinds import (
    BUILT_IN_ANCHORS,
    AnchorReachedFact,
    CaseCountFact,
    CaseField,
    CaseNumberFact,
    CasePlatformFact,
    CasePresentFact,
    CaseValueInFact,
    ElapsedFact,
    EventAmount,
    EventCountFact,
    EventDetailFact,
    EventSeenFact,
    EvidenceCountFact,
    EvidenceHeldFact,
    FactDeclaration,
    LatestEventFact,
    PeriodPassedFact,
    ReplyStateFact,
    ShareFact,
    _CaseValue,
    case_field,
)
from refundrules._fact_spec import FactSpec
from refundrules._pack_model import Titles
from refundrules._vocabulary import (
    CompensationKind,
    EvidenceKind,
    GoodsCondition,
    Party,
    RefundReason,
    RequestKind,
    Resolution,
    ReturnTerm,
    SellerRefusalReason,
)

if TYPE_CHECKING:
    from refundrules._case import Case

__all__ = [
    "OUTCOME_FACTS",
    "VOCABULARIES",
    "MetricDeclaration",
    "PlatformProfile",
    "ProfileProblem",
]

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
Language = Literal["en", "zh"]
ProfileProblem = tuple[str, tuple[str | int, ...]]  # (message, key path in profile.yaml)

# The core of each vocabulary a profile may extend.
VOCABULARIES: Mapping[str, type[StrEnum]] = {
    "request_kinds": RequestKind,
    "reasons": RefundReason,
    "refusal_reasons": SellerRefusalReason,
    "evidence_kinds": EvidenceKind,
    "parties": Party,
    "compensation_kinds": CompensationKind,
    "return_terms": ReturnTerm,
    "goods_conditions": GoodsCondition,
}
_DETAIL_VOCABULARY = {
    "refusal_reason": "refusal_reasons",
    "evidence_kind": "evidence_kinds",
    "request_kind": "request_kinds",
    "goods_condition": "goods_conditions",
}


class _Spec(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", use_attribute_docstrings=True, populate_by_name=True
    )


class ProfileDefaults(_Spec):
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    """The currency of amounts when a case gives none (ISO 4217)."""
    currencies: tuple[Annotated[str, Field(pattern=r"^[A-Z]{3}$")], ...] = ()
    """Other currencies a case may be in (a platform with sites in several currencies); a
    currency parameter is then read in the case's currency.
    """
    timezone: str
    """The platform's timezone (IANA name); deadlines and report times are in it."""
    languages: tuple[Language, ...] = Field(min_length=1)
    """The languages titles and sentences are given in (the first is the default)."""

    @model_validator(mode="after")
    def _check_timezone(self) -> ProfileDefaults:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        return self


class CalendarSpec(_Spec):
    """Business days: a ``holidays`` country (and subdivision) and the weekend (0 = Monday)."""

    country: str | None = None
    """The country whose public holidays are not business days (a `holidays` country code)."""
    subdivision: str | None = None
    """Its subdivision (state, province), if holidays differ by one."""
    weekend: tuple[Annotated[int, Field(ge=0, le=6)], ...] = (5, 6)
    """Weekdays that are not business days (0 = Monday ... 6 = Sunday)."""


class EventSpec(_Spec):
    """One event kind of the platform's flow."""

    by: tuple[Identifier, ...] = Field(min_length=1)
    """The parties who may do it."""
    needs: (
        Literal[
            "refusal_reason", "amount", "ruling", "evidence_kind", "request_kind", "goods_condition"
        ]
        | None
    ) = None
    """The detail the event must carry (`refusal_reason`, `amount`, `ruling`, `evidence_kind`,
    `request_kind`, `goods_condition`).
    """
    after: tuple[Identifier, ...] = ()
    """It may only happen after one of these event kinds."""
    not_on: tuple[Identifier, ...] = ()
    """It may not happen on a request of these kinds (as the request stands at that moment)."""
    amount_within_request: bool = False
    """Its amount may not exceed the requested amount."""
    description: str | None = None
    """What the event is, in a sentence."""


class AnchorSpec(_Spec):
    """A moment named by the first or the last event of some kinds."""

    first: tuple[Identifier, ...] | None = Field(default=None, min_length=1)
    """The moment is the first event of one of these kinds."""
    last: tuple[Identifier, ...] | None = Field(default=None, min_length=1)
    """The moment is the last event of one of these kinds."""

    @model_validator(mode="after")
    def _one(self) -> AnchorSpec:
        if (self.first is None) == (self.last is None):
            raise ValueError("an anchor is either 'first' or 'last' of some event kinds")
        return self

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.first or self.last or ()


class StoreMetricInput(_Spec):
    description: str
    """What the input counts."""


class TotalMetric(_Spec):
    """A metric that adds up (penalty points, deductions, fees): current value + this case."""

    kind: Literal["total"]
    """`total`: the metric adds up."""
    title: Titles
    """Its title in each language."""
    current: str
    """The store's current value, a case field (e.g. `store.penalty_points`)."""
    unit: Literal["points", "currency", "count"] = "points"
    """What it counts (`points`, `currency` or `count`)."""


class RateMetric(_Spec):
    """A share of orders with a defect (e.g. an order defect rate): (defects + this case's) /
    orders, 0 when the store has no orders in the window."""

    kind: Literal["rate"]
    """`rate`: a share of orders."""
    title: Titles
    """Its title in each language."""
    defects: str
    """The store metric input counting defects in the window."""
    orders: str
    """The store metric input counting orders in the window."""
    unit: Literal["ratio"] = "ratio"
    """Always `ratio`."""


MetricDeclaration = Annotated[TotalMetric | RateMetric, Field(discriminator="kind")]


class ResolutionPolicy(_Spec):
    """How the library reads a deciding rule's outcome on this platform."""

    granted: dict[Identifier, Resolution] = Field(min_length=1)
    """The resolution a granted request of each kind gets (`refund_only` -> `full_refund`,
    ...).
    """
    partial_below_paid: tuple[Resolution, ...] = ()
    """Resolutions that count as partial when less than the paid amount is refunded."""
    goods_go_back: tuple[Resolution, ...] = ()
    """Resolutions under which the goods go back to the seller."""
    no_money_back: tuple[Resolution, ...] = ()
    """Resolutions under which the buyer gets no money back."""
    against_seller: tuple[Resolution, ...] = ()
    """Resolutions that count against the seller when the platform or system decides."""
    against_seller_when_decided_by: tuple[Identifier, ...] = ("platform", "system")
    """Who, deciding, makes a resolution count against the seller."""
    seller_fault_reasons: tuple[Identifier, ...] = ()
    """Request reasons that put the seller at fault (e.g. for return shipping)."""


# Facts of the consequence phase that every profile has: the decision's result.
OUTCOME_FACTS: tuple[FactSpec, ...] = (
    FactSpec(
        "resolution", "text", "the predicted resolution", tuple(item.value for item in Resolution)
    ),
    FactSpec(
        "decided_against_seller", "boolean", "the platform or the system decided for the buyer"
    ),
    FactSpec("decided_by", "text", "who decides (or is predicted to decide) the resolution"),
    FactSpec(
        "resolution_final", "boolean", "the resolution has already happened (not only predicted)"
    ),
    FactSpec("dispute_recorded", "boolean", "a dispute goes on the store's record"),
    FactSpec(
        "malicious_signal_count", "number", "malicious-complaint signals raised against the buyer"
    ),
)


class PlatformProfile(_Spec):
    """A platform's after-sales flow as data (``profile.yaml``)."""

    platform: Identifier
    """The platform's id, as cases name it."""
    also_serves: tuple[Identifier, ...] = ()
    """Other platforms whose cases this pack predicts under the same rules (Tmall cases by
    the Taobao family: `also_serves: [tmall]`); a case keeps its own platform, which the
    `case_platform` fact kind lets rules read.
    """
    title: Titles
    """Its title in each language."""
    defaults: ProfileDefaults
    """Currency, timezone and languages."""
    calendar: CalendarSpec = CalendarSpec()
    """Business days for business-day windows."""
    vocabulary: dict[Identifier, tuple[Identifier, ...]] = Field(default_factory=dict)
    """Terms this platform adds to each core vocabulary (reasons, refusal reasons, evidence
    kinds, ...).
    """
    evidence_parties: tuple[Identifier, ...] = ("buyer", "seller")
    """Parties who may hold evidence."""
    store_metrics: dict[Identifier, StoreMetricInput] = Field(default_factory=dict)
    """Inputs of seller metrics a case's `store.metrics` may give."""
    events: dict[Identifier, EventSpec] = Field(min_length=1)
    """The event kinds of the platform's flow, who may do each and what must come first."""
    anchors: dict[Identifier, AnchorSpec] = Field(default_factory=dict)
    """Named moments (first or last event of some kinds) facts measure time from."""
    facts: dict[Identifier, FactDeclaration] = Field(min_length=1)
    """The decision facts rules read, each derived from the case by a fact kind."""
    consequence_facts: tuple[Identifier, ...] = ()
    """Decision facts the consequence phase also reads."""
    metrics: dict[Identifier, MetricDeclaration] = Field(default_factory=dict)
    """The seller metrics (penalty points, defect rates, ...)."""
    policy: ResolutionPolicy
    """What each resolution means here: granted requests, partial refunds, who is at fault."""

    # --- derived views -------------------------------------------------------------------
    @property
    def served_platforms(self) -> tuple[str, ...]:
        """Every platform whose cases this profile checks: its own first, then `also_serves`."""
        return (self.platform, *self.also_serves)

    def serves(self, platform: str) -> bool:
        """Whether a case of ``platform`` is one this profile checks and predicts."""
        return platform in self.served_platforms

    def platform_problem(self, platform: str) -> str | None:
        """Why a case of ``platform`` cannot be put to this profile (None if it can)."""
        if self.serves(platform):
            return None
        return f"this pack is for {_listed(self.served_platforms)}, the case is {platform!r}"

    @property
    def default_currency(self) -> str:
        return self.defaults.currency

    @property
    def currencies(self) -> tuple[str, ...]:
        """Every currency a case may be in: the default first."""
        extra = (code for code in self.defaults.currencies if code != self.defaults.currency)
        return (self.defaults.currency, *extra)

    def terms(self, vocabulary: str) -> tuple[str, ...]:
        """The core values of ``vocabulary`` followed by this profile's extensions."""
        return self._all_terms[vocabulary]

    @cached_property
    def _all_terms(self) -> Mapping[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for name, enum in VOCABULARIES.items():
            core = tuple(item.value for item in enum)
            extra = (term for term in self.vocabulary.get(name, ()) if term not in core)
            found[name] = (*core, *extra)
        return found

    @cached_property
    def anchor_names(self) -> tuple[str, ...]:
        return (*BUILT_IN_ANCHORS, *self.anchors)

    @cached_property
    def anchor_lookups(self) -> tuple[tuple[str, frozenset[str], bool], ...]:
        """Each declared anchor as (name, its event kinds, whether it is the first of them)."""
        return tuple(
            (name, frozenset(anchor.kinds), anchor.first is not None)
            for name, anchor in self.anchors.items()
        )

    @cached_property
    def business_calendar(self) -> BusinessCalendar:
        return BusinessCalendar(
            self.defaults.timezone,
            country=self.calendar.country,
            subdivision=self.calendar.subdivision,
            weekend=self.calendar.weekend,
        )

    @cached_property
    def decision_facts(self) -> Mapping[str, FactSpec]:
        return {name: self._fact_spec(name, declared) for name, declared in self.facts.items()}

    @cached_property
    def consequence_fact_specs(self) -> Mapping[str, FactSpec]:
        specs = {name: self.decision_facts[name] for name in self.consequence_facts}
        for spec in OUTCOME_FACTS:
            if spec.name == "decided_by":
                spec = replace(spec, values=self.terms("parties"))
            specs[spec.name] = spec
        for name, metric in self.metrics.items():
            added_unit = "count" if metric.kind == "rate" else metric.unit
            specs[f"{name}_added"] = FactSpec(
                f"{name}_added",
                "number",
                f"{metric.title.en}: what this case adds",
                unit=_fact_unit(added_unit),
            )
            specs[f"{name}_total"] = FactSpec(
                f"{name}_total",
                "number",
                f"{metric.title.en} after this case",
                unit=_fact_unit(metric.unit),
            )
        return specs

    def _fact_spec(self, name: str, declared: FactDeclaration) -> FactSpec:
        fact_type = declared.type()
        values: tuple[str, ...] = ()
        unit: str | None = None
        if isinstance(declared, LatestEventFact | ReplyStateFact):
            values = declared.labels()
        elif isinstance(declared, EventDetailFact):
            if declared.detail == "ruling":
                values = tuple(item.value for item in Resolution)
            else:
                values = self.terms(_DETAIL_VOCABULARY[declared.detail])
            values = (declared.none, *values)
        elif isinstance(declared, CasePlatformFact):
            values = self.served_platforms
        elif isinstance(declared, _CaseValue) and fact_type == "text":
            found = case_field(declared.field)
            if isinstance(found, CaseField):
                values = found.values or (self.terms(found.vocabulary) if found.vocabulary else ())
        if isinstance(declared, ElapsedFact | CaseNumberFact):
            unit = declared.unit
        meaning = declared.description
        if isinstance(meaning, str):
            return FactSpec(name, fact_type, meaning, values, unit)
        return FactSpec(name, fact_type, meaning.en, values, unit, description_zh=meaning.zh)

    # --- checks --------------------------------------------------------------------------
    def problems(self) -> Iterator[ProfileProblem]:
        """Cross-references the models cannot check alone (unknown events, anchors, fields)."""
        for index, other in enumerate(self.also_serves):
            if other == self.platform:
                yield (
                    f"also_serves names the profile's own platform {other!r}",
                    ("also_serves", index),
                )
            elif other in self.also_serves[:index]:
                yield (f"also_serves names {other!r} twice", ("also_serves", index))
        for vocabulary in self.vocabulary:
            if vocabulary not in VOCABULARIES:
                yield _unknown("vocabulary", vocabulary, VOCABULARIES, ("vocabulary", vocabulary))
        parties = self.terms("parties")
        request_kinds = self.terms("request_kinds")
        for kind, event in self.events.items():
            base = ("events", kind)
            for party in event.by:
                if party not in parties:
                    yield _unknown("party", party, parties, (*base, "by"))
            for before in event.after:
                if before not in self.events:
                    yield _unknown("event kind", before, self.events, (*base, "after"))
            for request_kind in event.not_on:
                if request_kind not in request_kinds:
                    yield _unknown("request kind", request_kind, request_kinds, (*base, "not_on"))
        for party in self.evidence_parties:
            if party not in parties:
                yield _unknown("party", party, parties, ("evidence_parties",))
        for name, anchor in self.anchors.items():
            if name in BUILT_IN_ANCHORS:
                yield (f"anchor {name!r} is built in; choose another name", ("anchors", name))
            for kind in anchor.kinds:
                if kind not in self.events:
                    yield _unknown("event kind", kind, self.events, ("anchors", name))
        for name, declared in self.facts.items():
            yield from self._fact_problems(name, declared, ("facts", name))
        for name in self.consequence_facts:
            if name not in self.facts:
                yield _unknown("fact", name, self.facts, ("consequence_facts",))
        for name, metric in self.metrics.items():
            paths = (
                [metric.current]
                if isinstance(metric, TotalMetric)
                else [metric.defects, metric.orders]
            )
            for path in paths:
                problem = self._number_field_problem(path)
                if problem:
                    yield (problem, ("metrics", name))
        policy = self.policy
        for request_kind in policy.granted:
            if request_kind not in request_kinds:
                yield _unknown("request kind", request_kind, request_kinds, ("policy", "granted"))
        missing = [kind for kind in request_kinds if kind not in policy.granted]
        if missing:
            yield (
                f"policy.granted says nothing of request kind(s) {missing}",
                ("policy", "granted"),
            )
        reasons = self.terms("reasons")
        for reason in policy.seller_fault_reasons:
            if reason not in reasons:
                yield _unknown("reason", reason, reasons, ("policy", "seller_fault_reasons"))
        for party in policy.against_seller_when_decided_by:
            if party not in parties:
                yield _unknown(
                    "party", party, parties, ("policy", "against_seller_when_decided_by")
                )
        for language in self.defaults.languages:
            if getattr(self.title, language) is None:
                yield (
                    f"the title needs a {language!r} text (a language of the profile)",
                    ("title",),
                )

    def _number_field_problem(self, path: str) -> str | None:
        found = case_field(path)
        if isinstance(found, str):
            return found
        if found.type != "number":
            return f"{path!r} is not a number field"
        parts = path.split(".")
        if parts[:2] == ["store", "metrics"] and parts[2] not in self.store_metrics:
            return f"store metric {parts[2]!r} is not declared in store_metrics"
        return None

    def _fact_problems(
        self, name: str, declared: FactDeclaration, key_path: tuple[str | int, ...]
    ) -> Iterator[ProfileProblem]:
        if name in {spec.name for spec in OUTCOME_FACTS}:
            yield (f"fact {name!r} is a consequence-phase fact every profile has", key_path)
        anchors: list[str] = []
        kinds: list[str] = []
        if isinstance(declared, ElapsedFact):
            anchors = [declared.start, *([declared.end] if declared.end else [])]
        elif isinstance(declared, AnchorReachedFact):
            anchors = [declared.anchor]
        elif isinstance(declared, EventSeenFact | EventCountFact | LatestEventFact):
            kinds = list(declared.events)
        elif isinstance(declared, EventDetailFact):
            kinds = [*declared.event_kinds, *declared.latest_of]
        elif isinstance(declared, PeriodPassedFact):
            anchors = [declared.start, *([declared.end] if declared.end else [])]
            problem = declared.problem()
            if problem:
                yield (problem, (*key_path, "days"))
        elif isinstance(declared, CaseCountFact):
            problem = declared.problem()
            if problem:
                yield (problem, (*key_path, "field"))
        elif isinstance(declared, ReplyStateFact):
            kinds = [declared.event, *declared.replies]
        elif isinstance(declared, ShareFact):
            for source in (declared.numerator, declared.denominator):
                if isinstance(source, EventAmount):
                    kinds.append(source.event_amount)
                else:
                    problem = self._number_field_problem(source)
                    if problem:
                        yield (problem, key_path)
        elif isinstance(declared, EvidenceHeldFact | EvidenceCountFact):
            if declared.party not in self.evidence_parties:
                yield _unknown("evidence party", declared.party, self.evidence_parties, key_path)
            if isinstance(declared, EvidenceHeldFact):
                evidence_kinds = self.terms("evidence_kinds")
                for kind in declared.evidence:
                    if kind not in evidence_kinds:
                        yield _unknown("evidence kind", kind, evidence_kinds, key_path)
        if isinstance(declared, _CaseValue):
            problem = declared.problem()
            if problem:
                yield (problem, (*key_path, "field"))
            else:
                found = declared.reader()
                wanted = "text" if isinstance(declared, CaseValueInFact) else declared.type()
                if found.type != wanted and not isinstance(declared, CasePresentFact):
                    yield (f"{declared.field!r} is a {found.type} field, not a {wanted}", key_path)
                if (
                    found.type == "text"
                    and not found.values
                    and found.vocabulary is None
                    and not isinstance(declared, CaseValueInFact)
                ):
                    yield (
                        f"{declared.field!r} is free text, not a value out of a known set",
                        key_path,
                    )
                if isinstance(declared, CaseValueInFact) and found.type == "text":
                    allowed = found.values or (
                        self.terms(found.vocabulary) if found.vocabulary else ()
                    )
                    for value in declared.values if allowed else ():
                        if value not in allowed:
                            yield _unknown(f"value of {declared.field}", value, allowed, key_path)
                if isinstance(declared, CasePresentFact) and not found.optional:
                    yield (f"{declared.field!r} is always present", key_path)
                if (
                    isinstance(declared, CaseNumberFact)
                    and found.optional
                    and declared.missing is None
                ):
                    yield (
                        f"{declared.field!r} may be absent: give 'missing' (its stand-in)",
                        key_path,
                    )
                if declared.field.startswith("store.metrics."):
                    problem = self._number_field_problem(declared.field)
                    if problem:
                        yield (problem, key_path)
        for anchor in anchors:
            if anchor not in self.anchor_names:
                yield _unknown("anchor", anchor, self.anchor_names, key_path)
        for kind in kinds:
            if kind not in self.events:
                yield _unknown("event kind", kind, self.events, key_path)

    def case_problems(self, case: Case) -> Iterator[tuple[str, str]]:
        """What in ``case`` this platform's flow and vocabularies do not allow (field, message)."""
        request = case.request
        yield from _term_problem(self, "request_kinds", request.kind, "request.kind")
        yield from _term_problem(self, "reasons", request.reason, "request.reason")
        if request.compensation is not None:
            yield from _term_problem(
                self, "compensation_kinds", request.compensation.kind, "request.compensation.kind"
            )
        for index, earlier in enumerate(request.earlier_requests):
            path = f"request.earlier_requests[{index}]"
            yield from _term_problem(self, "request_kinds", earlier.kind, f"{path}.kind")
            yield from _term_problem(self, "reasons", earlier.reason, f"{path}.reason")
        for index, term in enumerate(case.order.return_terms):
            yield from _term_problem(self, "return_terms", term, f"order.return_terms[{index}]")
        parties = self.terms("parties")
        for name in case.store.metrics:
            if name not in self.store_metrics:
                yield _term_message(
                    f"store.metrics.{name}", "store metric", name, tuple(self.store_metrics)
                )
        for index, item in enumerate(case.evidence):
            path = f"evidence[{index}]"
            if item.party not in self.evidence_parties:
                names = " or ".join(repr(party) for party in self.evidence_parties)
                yield (f"{path}.party", f"evidence belongs to {names}, not {item.party!r}")
            yield from _term_problem(self, "evidence_kinds", item.kind, f"{path}.kind")
        seen: set[str] = set()
        request_kind = request.kind
        ordered = sorted(enumerate(case.timeline), key=lambda pair: pair[1].at)
        for index, event in ordered:
            path = f"timeline[{index}]"
            spec = self.events.get(event.kind)
            if spec is None:
                yield _term_message(f"{path}.kind", "event kind", event.kind, tuple(self.events))
                continue
            if event.actor not in parties:
                yield _term_message(f"{path}.actor", "party", event.actor, parties)
            elif event.actor not in spec.by:
                names = " or ".join(spec.by)
                yield (path, f"{event.kind!r} is done by {names}, not by {event.actor!r}")
            elif spec.needs is not None and getattr(event, spec.needs) is None:
                yield (path, f"{event.kind!r} needs {spec.needs!r}")
            if spec.after and not (set(spec.after) & seen):
                names = " or ".join(repr(kind) for kind in spec.after)
                yield (f"{path}.kind", f"{event.kind!r} needs {names} before it")
            if request_kind in spec.not_on:
                what = request_kind.replace("_", "-")
                yield (f"{path}.kind", f"{event.kind!r} is impossible on a {what} request")
            if event.request_kind is not None:
                if event.request_kind == request_kind:
                    yield (
                        f"{path}.request_kind",
                        f"the request is already {request_kind!r}: a change needs another kind",
                    )
                yield from _term_problem(
                    self, "request_kinds", event.request_kind, f"{path}.request_kind"
                )
                request_kind = event.request_kind
            if event.goods_condition is not None:
                yield from _term_problem(
                    self, "goods_conditions", event.goods_condition, f"{path}.goods_condition"
                )
            amount = event.amount
            if (
                spec.amount_within_request
                and amount is not None
                and not Decimal(0) < amount <= case.request.amount
            ):
                yield (
                    f"{path}.amount",
                    f"the amount of {event.kind!r} is above 0 and at most the requested amount",
                )
            if event.refusal_reason is not None:
                yield from _term_problem(
                    self, "refusal_reasons", event.refusal_reason, f"{path}.refusal_reason"
                )
            if event.evidence_kind is not None:
                yield from _term_problem(
                    self, "evidence_kinds", event.evidence_kind, f"{path}.evidence_kind"
                )
            seen.add(event.kind)


def _listed(platforms: tuple[str, ...]) -> str:
    quoted = [repr(name) for name in platforms]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _fact_unit(unit: str) -> str | None:
    return unit if unit in ("points", "currency") else None


def _unknown(
    what: str, name: str, known: object, key_path: tuple[str | int, ...]
) -> ProfileProblem:
    choices = [str(choice) for choice in known]  # type: ignore[attr-defined]
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"unknown {what} {name!r}{hint}", key_path)


def _term_message(path: str, what: str, value: str, allowed: tuple[str, ...]) -> tuple[str, str]:
    close = difflib.get_close_matches(value, list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(repr(term) for term in allowed) or "none"
    return (path, f"unknown {what} {value!r} on this platform; expected one of {listed}{hint}")


def _term_problem(
    profile: PlatformProfile, vocabulary: str, value: str, path: str
) -> Iterator[tuple[str, str]]:
    allowed = profile.terms(vocabulary)
    if value not in allowed:
        what = vocabulary.rstrip("s").replace("_", " ")
        yield _term_message(path, what, value, allowed)
