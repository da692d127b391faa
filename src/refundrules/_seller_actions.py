"""The actions a seller may take, as a pack declares them (``seller_actions.yaml``).

Each action adds to the case, at ``as_of``, a timeline event of the seller's (agree, refuse
with a reason, offer a partial amount) or a piece of evidence, optionally with events it
assumes: before it (``before``: e.g. the buyer changing a refund-only request into a return,
which proposing a return needs) or after it (the buyer accepting an offer). Only the pack
says which actions exist, at which stages, on which requests, and how each reads.

``accepted_share`` on a partial-refund action names a parameter of the pack: the smallest
share of the requested amount the buyer is predicted to accept. With it, one more variant
offers that amount and assumes the buyer accepts; without it the pack does not know, and
what-if says so (:func:`acceptance_unknown`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

from refundrules._case import Case
from refundrules._i18n import LANGUAGES, Language, both
from refundrules._pack_model import Parameter
from refundrules._profile import PlatformProfile
from refundrules._vocabulary import Stage
from refundrules._yaml import YamlDocument
from refundrules.exceptions import RulePackError

__all__ = [
    "ACCEPTED",
    "ACTIONS_FILE",
    "DO_NOTHING",
    "ActionWords",
    "AssumedEvent",
    "SellerAction",
    "SellerActionSpec",
    "SellerActionsFile",
    "acceptance_unknown",
    "action_texts",
    "check_seller_actions",
    "money",
    "seller_actions",
]

ACTIONS_FILE = "seller_actions.yaml"
DO_NOTHING = "do_nothing"
ACCEPTED = "accepted"
_CENT = Decimal("0.01")


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActionWords(_Spec):
    """A phrase in English and (optionally) Chinese; ``{term}`` is filled per variant."""

    en: str = Field(min_length=1)
    zh: str | None = None

    def text(self, language: Language, **values: str) -> str:
        template = self.zh if language == "zh" and self.zh else self.en
        return template.format(**values)


class AssumedEvent(_Spec):
    """An event an action assumes besides the seller's own (another party's answer)."""

    kind: str
    actor: str
    request_kind: str | None = None


class SellerActionSpec(_Spec):
    """One kind of seller action: an event (``event``) or evidence handed in (``evidence``);
    ``refusal_reasons`` / ``shares`` (of the requested amount) make one variant each.
    ``request_kinds`` limits it to requests of those kinds; ``before`` / ``after`` are events
    it assumes (``assumes`` says so to the seller); ``accepted_share`` names the parameter
    giving the smallest share of the request the buyer is predicted to accept, with
    ``accepted_title`` for that variant and ``accepted_by`` for the buyer's acceptance."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: ActionWords
    stages: tuple[Stage, ...] = Field(min_length=1)
    event: str | None = None
    refusal_reasons: tuple[str, ...] = ()
    shares: tuple[float, ...] = ()
    evidence: tuple[str, ...] = ()
    request_kinds: tuple[str, ...] = ()
    before: tuple[AssumedEvent, ...] = ()
    after: tuple[AssumedEvent, ...] = ()
    assumes: ActionWords | None = None
    accepted_share: str | None = None
    accepted_title: ActionWords | None = None
    accepted_by: AssumedEvent | None = None


class SellerActionsFile(_Spec):
    """A pack's ``seller_actions.yaml``; ``compare_with`` names the action every other one is
    also compared with (besides the cheapest), e.g. agreeing."""

    do_nothing: ActionWords = ActionWords(en="Do nothing", zh="不处理")
    compare_with: str | None = None
    actions: tuple[SellerActionSpec, ...] = ()
    labels: dict[str, ActionWords] = {}


class SellerAction(_Spec):
    """A concrete action: ``id`` such as ``refuse:package_opened`` or ``partial_refund:50%``,
    with what it adds to the case at ``as_of`` (a timeline event or a piece of evidence) and
    the events it assumes (``before``, ``after``; ``assumes`` says which, in each language)."""

    id: str
    kind: str
    title: str
    texts: dict[str, str]
    event: dict[str, str] | None = None
    evidence: dict[str, str] | None = None
    before: tuple[dict[str, str], ...] = ()
    after: tuple[dict[str, str], ...] = ()
    assumes: dict[str, str] = {}


def _event_problems(
    events: tuple[AssumedEvent, ...], profile: PlatformProfile, kinds: set[str]
) -> list[str]:
    problems: list[str] = []
    for event in events:
        declared = profile.events.get(event.kind)
        if declared is None or event.actor not in declared.by:
            problems.append(f"{event.kind!r} is not an event {event.actor!r} may do")
        if event.request_kind is not None and event.request_kind not in kinds:
            problems.append(f"unknown request kind {event.request_kind!r}")
    return problems


def check_seller_actions(
    found: SellerActionsFile,
    doc: YamlDocument,
    profile: PlatformProfile,
    parameters: Mapping[str, Parameter],
) -> SellerActionsFile:
    """``found`` (the pack's ``seller_actions.yaml``, read as ``doc``) checked against the
    pack's profile and parameters; :class:`RulePackError` names the file, line and field of
    the first action that names something the pack does not have."""
    reasons = set(profile.terms("refusal_reasons"))
    kinds = set(profile.terms("evidence_kinds"))
    request_kinds = set(profile.terms("request_kinds"))
    for index, spec in enumerate(found.actions):
        problems: list[tuple[str, str]] = []
        if (spec.event is None) == (not spec.evidence):
            problems.append(("event", "an action adds either an event or evidence"))
        if spec.event is not None:
            declared = profile.events.get(spec.event)
            if declared is None or "seller" not in declared.by:
                problems.append(("event", f"{spec.event!r} is not an event the seller may do"))
        problems += [
            ("refusal_reasons", f"unknown refusal reason {r!r}")
            for r in spec.refusal_reasons
            if r not in reasons
        ]
        problems += [
            ("evidence", f"unknown evidence kind {k!r}") for k in spec.evidence if k not in kinds
        ]
        problems += [
            ("request_kinds", f"unknown request kind {k!r}")
            for k in spec.request_kinds
            if k not in request_kinds
        ]
        for key in ("before", "after"):
            events: tuple[AssumedEvent, ...] = getattr(spec, key)
            problems += [(key, p) for p in _event_problems(events, profile, request_kinds)]
        if spec.accepted_by is not None:
            found_problems = _event_problems((spec.accepted_by,), profile, request_kinds)
            problems += [("accepted_by", p) for p in found_problems]
        if spec.accepted_share is not None:
            if spec.accepted_share not in parameters:
                problems.append(
                    (
                        "accepted_share",
                        f"accepted_share names no parameter: {spec.accepted_share!r}",
                    )
                )
            if spec.accepted_by is None or spec.accepted_title is None:
                problems.append(
                    ("accepted_share", "accepted_share needs accepted_by and accepted_title")
                )
        if problems:
            key_path: tuple[str | int, ...] = ("actions", index, problems[0][0])
            raise RulePackError(
                f"seller action {spec.id!r}: {'; '.join(message for _, message in problems)}",
                path=doc.path,
                line=doc.line_of(key_path),
                field=".".join(map(str, key_path)),
            )
    return found


def _label(found: SellerActionsFile, term: str, language: Language) -> str:
    words = found.labels.get(term)
    return words.text(language) if words is not None else term.replace("_", " ")


def action_texts(words: ActionWords, found: SellerActionsFile, **terms: str) -> dict[str, str]:
    """``words`` in every language, each ``{term}`` given its label in that language."""
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        values = {key: _label(found, value, language) for key, value in terms.items()}
        texts[language] = words.text(language, **values)
    return texts


def money(amount: Decimal) -> str:
    return str(amount.quantize(_CENT, rounding=ROUND_HALF_UP))


def _assumed(events: tuple[AssumedEvent, ...], at: str) -> tuple[dict[str, str], ...]:
    found: list[dict[str, str]] = []
    for event in events:
        item = {"at": at, "actor": event.actor, "kind": event.kind}
        if event.request_kind is not None:
            item["request_kind"] = event.request_kind
        found.append(item)
    return tuple(found)


def _offer(
    spec: SellerActionSpec, title: ActionWords, case: Case, share: float, at: str, key: str
) -> SellerAction:
    amount = money(case.request.amount * Decimal(str(share)))
    texts: dict[str, str] = {
        language: title.text(language, amount=amount, share=f"{share:.0%}")
        for language in LANGUAGES
    }
    return SellerAction(
        id=f"{spec.id}:{key}",
        kind=spec.id,
        title="",
        texts=texts,
        event={"at": at, "actor": "seller", "kind": str(spec.event), "amount": amount},
    )


def seller_actions(
    found: SellerActionsFile,
    case: Case,
    stage: Stage,
    as_of: datetime,
    parameters: Mapping[str, Parameter],
) -> Iterator[SellerAction]:
    """The actions of the pack allowed at ``stage`` on ``case``'s request, each made concrete."""
    at = as_of.isoformat()
    request_kind = case.request_kind_at(as_of)
    for spec in found.actions:
        if stage not in spec.stages:
            continue
        if spec.request_kinds and request_kind not in spec.request_kinds:
            continue
        assumed: dict[str, object] = {
            "before": _assumed(spec.before, at),
            "after": _assumed(spec.after, at),
            "assumes": action_texts(spec.assumes, found) if spec.assumes is not None else {},
        }
        for action in _variants(spec, found, case, at):
            yield action.model_copy(update=assumed)
        if spec.shares and spec.accepted_share is not None:
            name = spec.accepted_share
            yield _accepted(spec, case, name, parameters[name].value, at)


def _variants(
    spec: SellerActionSpec, found: SellerActionsFile, case: Case, at: str
) -> Iterator[SellerAction]:
    """One action per evidence kind, refusal reason or share (or the one action)."""
    if spec.evidence:
        for kind in spec.evidence:
            yield SellerAction(
                id=f"{spec.id}:{kind}",
                kind=spec.id,
                title="",
                texts=action_texts(spec.title, found, evidence_kind=kind),
                evidence={"party": "seller", "kind": kind, "submitted_at": at},
            )
    elif spec.refusal_reasons:
        for reason in spec.refusal_reasons:
            event = {"at": at, "actor": "seller", "kind": str(spec.event)}
            yield SellerAction(
                id=f"{spec.id}:{reason}",
                kind=spec.id,
                title="",
                texts=action_texts(spec.title, found, refusal_reason=reason),
                event={**event, "refusal_reason": reason},
            )
    elif spec.shares:
        for share in spec.shares:
            yield _offer(spec, spec.title, case, share, at, f"{share:.0%}")
    else:
        yield SellerAction(
            id=spec.id,
            kind=spec.id,
            title="",
            texts=action_texts(spec.title, found),
            event={"at": at, "actor": "seller", "kind": str(spec.event)},
        )


def _accepted(spec: SellerActionSpec, case: Case, name: str, share: float, at: str) -> SellerAction:
    """The offer of the smallest share the buyer is predicted to accept, accepted."""
    assert spec.accepted_title is not None and spec.accepted_by is not None  # checked at read
    offer = _offer(spec, spec.accepted_title, case, share, at, ACCEPTED)
    assumes = both(
        en=f"the pack predicts the buyer accepts {share:.0%} of the request or more "
        f"(parameter {name})",
        zh=f"规则包预测买家接受申请金额的 {share:.0%} 及以上（参数 {name}）",
    )
    return offer.model_copy(update={"after": _assumed((spec.accepted_by,), at), "assumes": assumes})


def acceptance_unknown(found: SellerActionsFile, tried: Collection[str]) -> dict[str, str]:
    """What what-if says where partial offers were ``tried`` (action kinds) but the pack does
    not predict which amount the buyer accepts (empty where it does, or no offer was tried)."""
    offers = [spec for spec in found.actions if spec.shares and spec.id in tried]
    if not offers or any(spec.accepted_share is not None for spec in offers):
        return {}
    return both(
        en="The pack does not predict which partial refund the buyer accepts: each offer is "
        "shown waiting for the buyer's answer, and costs what it offers only if accepted.",
        zh="本规则包无法预测买家会接受多少部分退款：各方案均为等待买家答复，"
        "仅在买家接受时按所列金额计算。",
    )
