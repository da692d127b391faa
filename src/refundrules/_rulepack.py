"""``RulePack``: a loaded family of dated pack versions that predicts disputes; thread-safe.

>>> import refundrules
>>> pack = refundrules.load_rule_pack("pinduoduo")
>>> pack.platform
'pinduoduo'
>>> [version.version for version in pack.versions][:1]
['2021.1']
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from refundrules._calibrate import (
    classify_resolution,
    likelihood_for,
    likelihood_table,
    predict_outcome,
)
from refundrules._case import Case
from refundrules._case_file import load_case
from refundrules._conditions import referenced_facts
from refundrules._engine import EngineRule, RuleCompileError, RuleEngine, check_rules
from refundrules._explain import Explanation, explain_prediction
from refundrules._facts import FactSpec, FactValue, derive_facts
from refundrules._i18n import LANGUAGES, choose_language
from refundrules._loader import (
    CheckedProperty,
    CheckedRule,
    LoadedTest,
    PackDefinition,
    VersionDefinition,
    read_pack,
    read_properties,
    read_tests,
)
from refundrules._memo import Memo
from refundrules._outcomes import LoadedOutcome, OutcomeClass, read_outcome_files
from refundrules._pack_files import yaml_files as _yaml_files
from refundrules._pack_model import PackManifest, Parameter
from refundrules._prediction import OutcomeLikelihood, PackRef, PredictedResolution, Prediction
from refundrules._predictor import Likelihood, Predictor
from refundrules._profile import PlatformProfile
from refundrules._report import render_text
from refundrules._seller_actions import SellerActionsFile
from refundrules._smallest_change import SmallestChange, smallest_change
from refundrules._timeline import Timeline, build_timeline
from refundrules._vocabulary import Resolution
from refundrules._what_if import WhatIf, recommended_actions, what_if
from refundrules.exceptions import CaseError, EngineError, EvaluationError, RulePackError

__all__ = ["PackVersion", "RulePack", "load_rule_pack"]


@dataclass(frozen=True)
class _Phase:
    """One phase's rules ready for the engine, checked against its limits at load."""

    label: str
    rules: tuple[EngineRule, ...]
    fields: frozenset[str]

    @classmethod
    def of(cls, label: str, rules: list[CheckedRule]) -> _Phase:
        engine_rules = tuple(
            EngineRule(rule.spec.id, rule.spec.priority, rule.condition) for rule in rules
        )
        try:
            check_rules(engine_rules)
        except RuleCompileError as exc:
            offender = next(rule for rule in rules if rule.spec.id == exc.rule_id)
            raise RulePackError(
                str(exc), path=offender.path, line=offender.line, rule_id=offender.spec.id
            ) from exc
        fields: set[str] = set()
        for rule in rules:
            fields |= referenced_facts(rule.condition)
        return cls(label, engine_rules, frozenset(fields))

    def engine(self) -> RuleEngine:
        return RuleEngine(self.label, self.rules)


def _typed(
    facts: Mapping[str, FactValue], names: frozenset[str], specs: Mapping[str, FactSpec]
) -> dict[str, FactValue]:
    """The facts the engine needs, each checked against its declared type.

    durable-rules compares a number given as text *as text* ("100.00" <= 50 holds), so a
    wrongly typed fact is refused here rather than silently mis-compared.
    """
    projected: dict[str, FactValue] = {}
    for name in names:
        if name not in facts:
            raise EvaluationError(f"fact {name!r} is missing")
        value, spec = facts[name], specs[name]
        if spec.kind == "number":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif spec.kind == "boolean":
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, str) and value in spec.values
        if not ok:
            raise EvaluationError(
                f"fact {name!r} must be a {spec.kind}"
                + (f" out of {', '.join(spec.values)}" if spec.kind == "text" else "")
                + f"; got {value!r}"
            )
        projected[name] = value
    return projected


class _Engines:
    """A version's two phases registered in durable-rules (on the version's first use)."""

    def __init__(self, decision: _Phase, consequence: _Phase | None) -> None:
        # A consequence phase that fails to register must not leave the decision phase's
        # rulesets registered behind it.
        with ExitStack() as cleanup:
            self.decision = decision.engine()
            cleanup.callback(self.decision.close)
            self.consequence = consequence.engine() if consequence is not None else None
            cleanup.pop_all()
        self.decision_fields = decision.fields
        self.consequence_fields = consequence.fields if consequence is not None else frozenset()

    def close(self) -> None:
        self.decision.close()
        if self.consequence is not None:
            self.consequence.close()


class PackVersion:
    """One dated version of a family, compiled into durable-rules on its first use.

    It predicts every case under its own rules, whatever the case's date (a pinned version).
    """

    def __init__(self, definition: VersionDefinition) -> None:
        self._definition = definition
        self._rules: dict[str, CheckedRule] = {rule.spec.id: rule for rule in definition.rules}
        manifest = definition.manifest
        self._label = f"{manifest.id}@{definition.version}"
        rules = definition.rules
        decision = [rule for rule in rules if rule.spec.phase == "decision"]
        consequence = [rule for rule in rules if rule.spec.phase == "consequence"]
        self._decision = _Phase.of(f"{self._label}/decision", decision)
        self._consequence = (
            _Phase.of(f"{self._label}/consequence", consequence) if consequence else None
        )
        self._engines: _Engines | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.ref = PackRef(
            id=manifest.id,
            platform=manifest.platform,
            version=definition.version,
            effective_from=definition.effective_from,
            effective_to=definition.effective_to,
            content_hash=definition.content_hash,
        )
        self._predictor = Predictor(definition, self._rules, self.ref, self._label)

    # --- what the version is -------------------------------------------------------------
    @property
    def version(self) -> str:
        return self._definition.version

    @property
    def title(self) -> str:
        return self._definition.spec.title

    @property
    def effective_from(self) -> date:
        return self._definition.effective_from

    @property
    def effective_to(self) -> date | None:
        return self._definition.effective_to

    @property
    def profile(self) -> PlatformProfile:
        return self._definition.profile

    @property
    def platform(self) -> str:
        return self._definition.profile.platform

    @property
    def manifest(self) -> PackManifest:
        return self._definition.manifest

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        return self._definition.parameters

    @property
    def rules(self) -> tuple[CheckedRule, ...]:
        return self._definition.rules

    @property
    def definition(self) -> VersionDefinition:
        return self._definition

    def rule(self, rule_id: str) -> CheckedRule:
        return self._rules[rule_id]

    def in_force_on(self, day: date) -> bool:
        return self._definition.in_force_on(day)

    def __repr__(self) -> str:
        until = self.effective_to or "…"
        return (
            f"<PackVersion {self.ref.id}@{self.version} {self.effective_from}–{until} "
            f"rules={len(self._rules)} hash={self.ref.content_hash[:12]}>"
        )

    def _compiled(self) -> _Engines:
        engines = self._engines
        if engines is not None:
            return engines
        with self._lock:
            if self._closed:
                raise EngineError("this rule pack was closed", pack_id=self._label)
            if self._engines is None:
                self._engines = _Engines(self._decision, self._consequence)
            return self._engines

    def compile(self) -> None:
        """Build the durable-rules rulesets now rather than on the first prediction."""
        self._compiled()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Free the engine's rulesets; the version cannot predict afterwards."""
        with self._lock:
            self._closed = True
            engines, self._engines = self._engines, None
        if engines is not None:
            engines.close()

    def __getstate__(self) -> dict[str, Any]:
        """A pickle holds the checked version, never durable's objects; the copy compiles
        fresh rulesets on its first prediction (no files are read), open even if this one
        was closed."""
        return {"definition": self._definition}

    def __setstate__(self, state: dict[str, Any]) -> None:
        PackVersion.__init__(self, state["definition"])

    # --- evaluation ----------------------------------------------------------------------
    def facts(self, case: Case, as_of: datetime | None = None) -> dict[str, FactValue]:
        """The decision facts this version sees for ``case`` at ``as_of``."""
        return derive_facts(self.profile, case, _as_of(as_of))

    def fire(self, facts: Mapping[str, FactValue]) -> list[str]:
        """The decision rules durable-rules fires for ``facts``, in agenda order.

        ``facts`` are checked against their declared types first (see :meth:`facts`).
        """
        engines = self._compiled()
        return engines.decision.fire(
            _typed(facts, engines.decision_fields, self.profile.decision_facts)
        )

    def fire_consequences(self, facts: Mapping[str, FactValue]) -> list[str]:
        engines = self._compiled()
        if engines.consequence is None:
            return []
        return engines.consequence.fire(
            _typed(facts, engines.consequence_fields, self.profile.consequence_fact_specs)
        )

    def check_case(self, case: Case) -> None:
        """Raise :class:`CaseError` unless ``case`` is one this version's platform can have."""
        profile = self.profile
        wrong_platform = profile.platform_problem(case.platform)
        if wrong_platform is not None:
            raise CaseError([("platform", wrong_platform)])
        problems = list(profile.case_problems(case))
        currencies = profile.currencies
        if case.currency is not None and case.currency not in currencies:
            names = ", ".join(currencies)
            problems.append(
                (
                    "order.currency",
                    f"this pack's amounts are in {names}, the case is in {case.currency}",
                )
            )
        if problems:
            raise CaseError(problems)

    def predict(
        self,
        case: Case,
        as_of: datetime | None = None,
        *,
        warnings: tuple[str, ...] = (),
        fast: bool = True,
    ) -> Prediction:
        """Predict ``case`` at ``as_of`` (default: now) under this version. Deterministic.

        ``fast=False`` takes the reference path (see :meth:`RulePack.predict`): the same
        prediction, slower.

        Raises :class:`CaseError` for a case of another platform or a bad ``as_of``, and
        :class:`EvaluationError` if no rule decides (a gap in the pack).
        """
        return self._predict(case, _as_of(as_of), warnings, fast=fast)

    def _predict(
        self,
        case: Case,
        moment: datetime,
        warnings: tuple[str, ...],
        *,
        fast: bool,
        likelihood: Likelihood | None = None,
    ) -> Prediction:
        self.check_case(case)
        return self._predictor.predict(
            self._compiled(), case, moment, warnings, fast=fast, likelihood=likelihood
        )

    def explain(
        self, case: Case, as_of: datetime | None = None, *, language: str | None = None
    ) -> Explanation:
        """Why ``case`` ends as predicted under this version: see :meth:`RulePack.explain`."""
        moment = _as_of(as_of)
        prediction = self.predict(case, moment)
        chosen = choose_language(language, self.profile.defaults.languages)
        return explain_prediction(self, prediction, self.facts(case, moment), chosen)


def _as_of(as_of: datetime | None) -> datetime:
    return datetime.now(UTC) if as_of is None else as_of


class RulePack:
    """A family of dated pack versions for one platform; :meth:`predict` picks the version in
    force on the request date. Load it once and share it between threads.

    >>> pack = load_rule_pack("pinduoduo")
    >>> pack.version("2021.1").effective_from.isoformat()
    '2021-01-01'
    """

    def __init__(self, definition: PackDefinition) -> None:
        self._definition = definition
        self._versions = tuple(PackVersion(version) for version in definition.versions)
        self._by_name = {version.version: version for version in self._versions}
        self._zone = ZoneInfo(definition.profile.defaults.timezone)
        self._lock = threading.Lock()
        self._tests: tuple[LoadedTest, ...] | None = None
        self._properties: tuple[CheckedProperty, ...] | None = None
        self._outcomes: tuple[LoadedOutcome, ...] | None = None
        self._likelihoods: Mapping[str, Counter[str]] | None = None
        # At most one entry per deciding rule and outcome class: bounded by the pack itself.
        self._likelihoods_by_rule: Memo[tuple[str, OutcomeClass], OutcomeLikelihood] = Memo(4096)

    # --- what the family is --------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._definition.manifest.id

    @property
    def platform(self) -> str:
        return self._definition.profile.platform

    @property
    def profile(self) -> PlatformProfile:
        return self._definition.profile

    @property
    def manifest(self) -> PackManifest:
        return self._definition.manifest

    @property
    def root(self) -> Path:
        return self._definition.root

    @property
    def definition(self) -> PackDefinition:
        return self._definition

    @property
    def seller_actions(self) -> SellerActionsFile:
        """The seller actions the family declares (its ``seller_actions.yaml``, read at load)."""
        return self._definition.seller_actions

    @property
    def versions(self) -> tuple[PackVersion, ...]:
        """The versions, oldest first."""
        return self._versions

    @property
    def latest(self) -> PackVersion:
        return self._versions[-1]

    @property
    def ref(self) -> PackRef:
        """The newest version's reference (a prediction names the version it used)."""
        return self.latest.ref

    @property
    def rules(self) -> tuple[CheckedRule, ...]:
        """Every rule of the family, once per id (the newest version's where ids repeat)."""
        found: dict[str, CheckedRule] = {}
        for version in self._versions:
            found.update({rule.spec.id: rule for rule in version.rules})
        return tuple(found.values())

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        """Every parameter of the family as the newest version has it."""
        found: dict[str, Parameter] = {}
        for version in self._versions:
            found.update(version.parameters)
        return found

    @property
    def tests(self) -> tuple[LoadedTest, ...]:
        """The family's pack tests, read on first use."""
        if self._tests is None:
            tests = read_tests(self._definition)
            with self._lock:
                self._tests = tests
        return self._tests

    @property
    def properties(self) -> tuple[CheckedProperty, ...]:
        """The family's declared properties, read on first use."""
        if self._properties is None:
            properties = read_properties(self._definition)
            with self._lock:
                self._properties = properties
        return self._properties

    @property
    def outcomes(self) -> tuple[LoadedOutcome, ...]:
        """The family's published outcomes (``outcomes/*.yaml``), read on first use; each
        case is checked against the profile (:class:`RulePackError` names the bad record)."""
        if self._outcomes is None:
            files = _yaml_files(self._definition.root / "outcomes")
            outcomes = read_outcome_files(files, profile=self.profile, root=self._definition.root)
            _check_cited_outcomes(self.rules, outcomes)
            with self._lock:
                self._outcomes = outcomes
        return self._outcomes

    def _likelihood_table(self) -> Mapping[str, Counter[str]]:
        if self._likelihoods is None:
            table = likelihood_table(predict_outcome(self, item) for item in self.outcomes)
            # A version closed while the records were predicted turned some of them into
            # problems: that table is partial, so it is neither kept nor used.
            if any(version.closed for version in self._versions):
                raise EngineError("this rule pack was closed", pack_id=self.id)
            with self._lock:
                self._likelihoods = table
        return self._likelihoods

    def version(self, name: str) -> PackVersion:
        """The version called ``name`` (e.g. ``"2025.7"``); :class:`RulePackError` if none."""
        found = self._by_name.get(name)
        if found is None:
            names = ", ".join(self._by_name)
            raise RulePackError(
                f"{self.id} has no version {name!r} (versions: {names})",
                path=str(self.root),
                field="version",
            )
        return found

    def rule(self, rule_id: str) -> CheckedRule:
        for version in reversed(self._versions):
            if rule_id in {rule.spec.id for rule in version.rules}:
                return version.rule(rule_id)
        raise KeyError(rule_id)

    def request_day(self, case: Case) -> date:
        """The request's calendar date in the platform's timezone (what selects a version)."""
        return case.request.requested_at.astimezone(self._zone).date()

    def version_for(self, case: Case) -> PackVersion:
        """The version in force on ``case``'s request date.

        Raises :class:`CaseError` (field ``request.requested_at``) before the first version.
        """
        day = self.request_day(case)
        for version in self._versions:
            if version.in_force_on(day):
                return version
        first = self._versions[0]
        if day < first.effective_from:
            raise CaseError(
                [
                    (
                        "request.requested_at",
                        f"the request ({day}) predates every version of the {self.id} pack; "
                        f"the first, {first.version}, is in force from {first.effective_from}",
                    )
                ]
            )
        return self.latest  # after the last version's end: see _warnings

    def __repr__(self) -> str:
        names = ", ".join(version.version for version in self._versions)
        return f"<RulePack {self.id} versions={names}>"

    def close(self) -> None:
        """Free every version's rulesets; the pack cannot predict afterwards."""
        for version in self._versions:
            version.close()

    def __enter__(self) -> RulePack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        """A pickle holds the checked family (cheap to send to worker processes); each version
        compiles fresh rulesets on its first prediction after unpickling."""
        return {"definition": self._definition}

    def __setstate__(self, state: dict[str, Any]) -> None:
        RulePack.__init__(self, state["definition"])

    # --- evaluation ----------------------------------------------------------------------
    def load_case(self, source: str | Path | Mapping[str, Any]) -> Case:
        """Load a case checked against this pack's profile (for packs that are not installed)."""
        return load_case(source, profile=self.profile)

    def _choose(self, case: Case, version: str | None) -> tuple[PackVersion, tuple[str, ...]]:
        if version is not None:
            chosen = self.version(version)
            day = self.request_day(case)
            if not chosen.in_force_on(day):
                until = chosen.effective_to or "open-ended"
                return chosen, (
                    f"version {chosen.version} was pinned; the request ({day}) is outside its "
                    f"dates ({chosen.effective_from} – {until})",
                )
            return chosen, ()
        chosen = self.version_for(case)
        day = self.request_day(case)
        if not chosen.in_force_on(day):
            return chosen, (
                f"the request ({day}) is after this pack's last day in force "
                f"({chosen.effective_to}); the rules then may have differed",
            )
        return chosen, ()

    def facts(
        self, case: Case, as_of: datetime | None = None, *, version: str | None = None
    ) -> dict[str, FactValue]:
        """The decision facts of ``case`` at ``as_of`` under the version that predicts it."""
        return self._choose(case, version)[0].facts(case, as_of)

    def fire(self, facts: Mapping[str, FactValue], *, version: str | None = None) -> list[str]:
        """The decision rules of ``version`` (default: the newest) that fire for ``facts``."""
        chosen = self.version(version) if version is not None else self.latest
        return chosen.fire(facts)

    def predict(
        self,
        case: Case,
        as_of: datetime | None = None,
        *,
        version: str | None = None,
        likelihood: bool = True,
        recommend: bool = False,
        language: str | None = None,
        fast: bool = True,
    ) -> Prediction:
        """Predict ``case`` at ``as_of`` (default: now) under the version in force on its
        request date, or under ``version`` if given. Deterministic for a given ``as_of``.

        With ``likelihood`` (the default) and a family that has published outcomes, the
        prediction says how often its deciding rule's outcome held in them
        (:class:`OutcomeLikelihood`); the first such prediction predicts every record once.

        With ``recommend``, ``recommended_actions`` are the cheapest seller actions of the
        :meth:`what_if` ranking (one more prediction per seller action); the rules' own
        advice stays only where no seller action applies at the case's stage. Without it (the
        default, as pack tests, properties and batches use it) they are the rules' advice. With ``language``
        (``en``/``zh``), ``text`` is the whole prediction as a seller reads it in that
        language, times in the pack's timezone, and ``texts`` in each language.

        ``fast=False`` takes the reference path: every fact derived afresh, durable-rules asked
        about every case (no firing cache), every part validated by pydantic, nothing kept
        between cases. It gives the same prediction as the default fast path, several times
        slower; it is there for tests and benchmarks (docs/architecture.md, "Performance").

        Raises :class:`CaseError` for a case of another platform, a request before the first
        version or a bad ``as_of``, and :class:`EvaluationError` if no rule decides.

        >>> pack = load_rule_pack("pinduoduo")
        >>> case = pack.load_case("examples/01_awaiting_seller.yaml")
        >>> moment = datetime.fromisoformat("2025-03-05T12:00:00+08:00")
        >>> found = pack.predict(case, moment, recommend=True, language="zh")
        >>> found.recommended_actions[0].source, found.language
        ('what_if', 'zh')
        """
        moment = _as_of(as_of)
        chosen, warnings = self._choose(case, version)
        odds = self._likelihood_of(case, fast) if likelihood and self.outcomes else None
        prediction = chosen._predict(case, moment, warnings, fast=fast, likelihood=odds)
        if recommend:
            ranked = what_if(self, case, moment, "en", None, prediction=prediction)
            actions = recommended_actions(ranked)
            if actions:
                prediction = prediction.model_copy(update={"recommended_actions": actions})
        if language is None:
            return prediction
        chosen_language = choose_language(language, self.profile.defaults.languages)
        zone = self.profile.defaults.timezone
        texts = {each: render_text(prediction, each, zone) for each in LANGUAGES}
        return prediction.model_copy(
            update={"language": chosen_language, "text": texts[chosen_language], "texts": texts}
        )

    def _likelihood_of(self, case: Case, fast: bool) -> Likelihood:
        """How often the deciding rule's outcome held, for a resolution predicted for ``case``
        (kept per deciding rule and outcome class on the fast path)."""
        table = self._likelihood_table()
        policy, paid = self.profile.policy, case.order.paid_amount

        def of(resolution: PredictedResolution) -> OutcomeLikelihood:
            predicted = classify_resolution(resolution, policy, paid)
            if not fast:
                return likelihood_for(table, resolution.rule_id, predicted)
            return self._likelihoods_by_rule.get_or_make(
                (resolution.rule_id, predicted),
                lambda: likelihood_for(table, resolution.rule_id, predicted),
            )

        return of

    def explain(
        self,
        case: Case,
        as_of: datetime | None = None,
        *,
        version: str | None = None,
        language: str | None = None,
    ) -> Explanation:
        """Why ``case`` ends as predicted at ``as_of``: the deciding rules, the shadowed ones
        and the near misses (rules with another outcome that fail on few conditions), each
        condition with the fact value read and pass/fail, in ``language`` (``en``/``zh``;
        default the profile's first) and in every language (``texts``). durable-rules
        decides; the explanation annotates the same compiled conditions.

        >>> pack = load_rule_pack("pinduoduo")
        >>> case = pack.load_case("examples/01_awaiting_seller.yaml")
        >>> found = pack.explain(case, as_of=datetime.fromisoformat("2025-03-05T12:00:00+08:00"))
        >>> found.deciding[0].conditions[0].passed
        True
        """
        chosen, warnings = self._choose(case, version)
        moment = _as_of(as_of)
        prediction = chosen.predict(case, moment, warnings=warnings)
        language_ = choose_language(language, self.profile.defaults.languages)
        return explain_prediction(chosen, prediction, chosen.facts(case, moment), language_)

    def what_if(
        self,
        case: Case,
        actions: Sequence[str] | None = None,
        *,
        as_of: datetime | None = None,
        language: str | None = None,
    ) -> WhatIf:
        """Each seller action allowed at the case's stage (the pack's ``seller_actions.yaml``;
        or only those whose id or kind is in ``actions``), applied as a hypothetical event at
        ``as_of``, with its prediction and its cost to the store, cheapest first.

        >>> pack = load_rule_pack("pinduoduo")
        >>> case = pack.load_case("examples/01_awaiting_seller.yaml")
        >>> found = pack.what_if(case, as_of=datetime.fromisoformat("2025-03-05T12:00:00+08:00"))
        >>> found.recommended == found.outcomes[0].action.id
        True
        """
        language_ = choose_language(language, self.profile.defaults.languages)
        return what_if(self, case, _as_of(as_of), language_, actions)

    def timeline(
        self, case: Case, as_of: datetime | None = None, *, language: str | None = None
    ) -> Timeline:
        """What happened in ``case`` up to ``as_of`` and the deadlines still running, in order,
        each with what happens when it passes (draw it with :func:`draw_timeline`)."""
        moment = _as_of(as_of)
        prediction = self.predict(case, moment, likelihood=False)
        language_ = choose_language(language, self.profile.defaults.languages)
        return build_timeline(case, prediction, self.profile.defaults.timezone, language_)

    def smallest_change(
        self,
        case: Case,
        target: Resolution | str,
        *,
        as_of: datetime | None = None,
        language: str | None = None,
    ) -> SmallestChange:
        """The fewest seller actions (of the pack's ``seller_actions.yaml``, or letting the
        seller's deadline pass; at most two) after which ``case`` is predicted to end in
        ``target``, or an answer saying that none within the pack does.

        Raises :class:`CaseError` (field ``target``) for an unknown resolution.
        """
        try:
            wanted = Resolution(target)
        except ValueError as exc:
            known = ", ".join(item.value for item in Resolution)
            raise CaseError([("target", f"{target!r} is not a resolution ({known})")]) from exc
        language_ = choose_language(language, self.profile.defaults.languages)
        return smallest_change(self, case, wanted, _as_of(as_of), language_)


def _check_cited_outcomes(
    rules: tuple[CheckedRule, ...], outcomes: tuple[LoadedOutcome, ...]
) -> None:
    known = {outcome.id for outcome in outcomes}
    for rule in rules:
        for cited in rule.spec.outcomes:
            if cited not in known:
                raise RulePackError(
                    f"cites the published outcome {cited!r}, which no outcomes/*.yaml record has",
                    path=rule.path,
                    line=rule.line,
                    rule_id=rule.spec.id,
                    field="outcomes",
                )


def load_rule_pack(name_or_path: str | Path) -> RulePack:
    """Load and validate a rule pack family: a bundled name (``"pinduoduo"``) or a folder.

    >>> pack = load_rule_pack("pinduoduo")
    >>> pack.id
    'pinduoduo'
    """
    return RulePack(read_pack(name_or_path))
