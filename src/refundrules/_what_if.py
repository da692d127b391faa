"""What each seller action would lead to, and what it would cost the store.

The actions a seller may take are the pack's data (``seller_actions.yaml`` beside
``profile.yaml``): which event or evidence each adds, at which stages, with which refusal
reasons or partial amounts, and how each reads in each language. ``what_if`` applies each
as a hypothetical event at ``as_of``, predicts the result with the same engine and ranks
the results by their cost to the seller. "Do nothing" is always tried: the case predicted
just after the seller's next deadline passes (or at ``as_of`` if none runs).

Ranking (cheapest first): sanctions reached, then a dispute record, then metric changes
(penalty points, defects), then money paid out (refund + compensation), then goods not
coming back, then return shipping paid by the seller.

>>> import refundrules
>>> from datetime import datetime
>>> pack = refundrules.load_rule_pack("pinduoduo")
>>> case = refundrules.load_case("examples/01_awaiting_seller.yaml")
>>> found = pack.what_if(case, as_of=datetime.fromisoformat("2025-03-05T12:00:00+08:00"))
>>> found.outcomes[0].rank
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from refundrules._case import Case
from refundrules._i18n import LANGUAGES, Language, local_time
from refundrules._pack_model import Parameter
from refundrules._prediction import PackRef, Prediction, RecommendedAction
from refundrules._profile import PlatformProfile
from refundrules._seller_actions import (
    DO_NOTHING,
    SellerAction,
    SellerActionsFile,
    acceptance_unknown,
    action_texts,
    money,
    seller_actions,
)
from refundrules._vocabulary import ReturnShippingPayer
from refundrules.exceptions import CaseError

__all__ = [
    "ActionOutcome",
    "PackForActions",
    "SellerCost",
    "WhatIf",
    "recommended_actions",
    "what_if",
]


class PackForActions(Protocol):
    """What trying seller actions needs of a pack family (a :class:`refundrules.RulePack`)."""

    @property
    def root(self) -> Path: ...

    @property
    def profile(self) -> PlatformProfile: ...

    @property
    def parameters(self) -> Mapping[str, Parameter]: ...

    @property
    def seller_actions(self) -> SellerActionsFile: ...

    def predict(
        self,
        case: Case,
        as_of: datetime | None = None,
        *,
        version: str | None = None,
        likelihood: bool = True,
    ) -> Prediction: ...

    def load_case(self, source: str | Path | Mapping[str, Any]) -> Case: ...


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SellerCost(_Spec):
    """What an outcome costs the store: money out (refund + compensation), whether the goods
    come back and who pays their postage, the dispute record, each metric's change and the
    sanctions reached."""

    refund_amount: Decimal
    compensation: Decimal
    money: Decimal
    currency: str
    goods_returned: bool
    return_shipping_paid_by: ReturnShippingPayer
    dispute_record: bool
    metrics_added: dict[str, float]
    sanctions: tuple[str, ...]


class ActionOutcome(_Spec):
    """One action's predicted result, its cost, its rank (1 = cheapest), the result and cost
    in a sentence (``summary``) and how it compares with the cheapest (``compared``), each in
    the chosen language and in every language (``*_texts``)."""

    action: SellerAction
    rank: int
    cost: SellerCost
    prediction: Prediction
    summary: str
    summary_texts: dict[str, str]
    compared: str
    compared_texts: dict[str, str]
    versus: str | None = None
    versus_texts: dict[str, str] = {}


class WhatIf(_Spec):
    """Every action tried on ``case_id`` at ``as_of``, cheapest first; ``recommended`` is the
    cheapest action's id (the ranking, not separately written advice); ``note`` says what the
    pack cannot predict about these actions (e.g. which partial refund the buyer accepts)."""

    case_id: str
    as_of: datetime
    pack: PackRef
    language: Language
    stage: str
    outcomes: tuple[ActionOutcome, ...]
    recommended: str
    note: str | None = None
    note_texts: dict[str, str] = {}
    text: str
    texts: dict[str, str]


def _cost(prediction: Prediction, profile: PlatformProfile) -> SellerCost:
    resolution = prediction.resolution
    consequences = prediction.seller_consequences
    compensation = sum(
        (item.amount for item in consequences.compensation if item.paid_to == "buyer"),
        Decimal("0.00"),
    )
    return SellerCost(
        refund_amount=resolution.refund_amount,
        compensation=compensation,
        money=resolution.refund_amount + compensation,
        currency=resolution.currency,
        goods_returned=resolution.outcome in profile.policy.goods_go_back,
        return_shipping_paid_by=resolution.return_shipping_paid_by,
        dispute_record=consequences.dispute_record,
        metrics_added={change.metric: change.added for change in consequences.metrics},
        sanctions=tuple(sanction.name for sanction in consequences.sanctions),
    )


def _key(cost: SellerCost) -> tuple[int, bool, float, Decimal, bool, bool]:
    return (
        len(cost.sanctions),
        cost.dispute_record,
        sum(cost.metrics_added.values()),
        cost.money,
        not cost.goods_returned,
        cost.return_shipping_paid_by is ReturnShippingPayer.SELLER,
    )


def _compare(
    cost: SellerCost, best: SellerCost, best_texts: Mapping[str, str], profile: PlatformProfile
) -> dict[str, str]:
    """How much more ``cost`` is than the cheapest action's, in each language."""
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        zh = language == "zh"
        parts: list[str] = []
        extra = cost.money - best.money
        if extra:
            more = "多" if extra > 0 else "少"
            parts.append(
                f"{more}付 {money(abs(extra))} {cost.currency}"
                if zh
                else f"{money(abs(extra))} {cost.currency} {'more' if extra > 0 else 'less'} paid out"
            )
        if cost.dispute_record and not best.dispute_record:
            parts.append("多一条纠纷记录" if zh else "a dispute on the store's record")
        for name, added in cost.metrics_added.items():
            delta = added - best.metrics_added.get(name, 0.0)
            if delta:
                title = profile.metrics[name].title
                shown = (title.zh or title.en) if zh else title.en
                parts.append(f"{shown} {delta:+g}")
        new = [name for name in cost.sanctions if name not in best.sanctions]
        if new:
            parts.append(("处罚：" if zh else "sanctions: ") + ", ".join(new))
        if best.goods_returned and not cost.goods_returned:
            parts.append("货物不退回" if zh else "the goods do not come back")
        if (
            cost.return_shipping_paid_by is ReturnShippingPayer.SELLER
            and best.return_shipping_paid_by is not ReturnShippingPayer.SELLER
        ):
            parts.append("商家承担退货运费" if zh else "the seller pays return shipping")
        reference = best_texts[language]
        if not parts:
            texts[language] = (
                f"与「{reference}」成本相同" if zh else f"costs the same as '{reference}'"
            )
        else:
            joined = ("；" if zh else "; ").join(parts)
            texts[language] = (
                f"比「{reference}」：{joined}" if zh else f"compared with '{reference}': {joined}"
            )
    return texts


def _summary(
    cost: SellerCost, prediction: Prediction, language: Language, profile: PlatformProfile
) -> str:
    zh = language == "zh"
    resolution = prediction.resolution
    by = resolution.decided_by
    outcome = (
        f"{resolution.outcome.value}（{'最终' if resolution.final else '预测'}，{by}）"
        if zh
        else f"{resolution.outcome.value} ({'final' if resolution.final else 'predicted'}, by {by})"
    )
    goods = (
        ("货物退回" if zh else "goods come back")
        if cost.goods_returned
        else ("货物不退回" if zh else "goods stay with the buyer")
    )
    titles = {name: metric.title for name, metric in profile.metrics.items()}
    metrics = ", ".join(
        f"{(titles[name].zh or titles[name].en) if zh else titles[name].en} +{added:g}"
        for name, added in cost.metrics_added.items()
        if added
    )
    record = ("有纠纷记录" if zh else "dispute record") if cost.dispute_record else ""
    pending = not resolution.final and by == "buyer"
    condition = ("需买家接受" if zh else "if the buyer accepts") if pending else ""
    paid = f"{money(cost.money)} {cost.currency}"
    items = [outcome, paid, condition, goods, record, metrics]
    for sanction in prediction.seller_consequences.sanctions:
        described = sanction.description_texts.get(language) or sanction.description
        items.append(("处罚：" if zh else "sanction: ") + described)
    return ("；" if zh else "; ").join(item for item in items if item)


def _do_nothing_time(prediction: Prediction, as_of: datetime) -> datetime:
    """Just after the seller's next running deadline (what doing nothing lets happen)."""
    due = [
        deadline.due_at
        for deadline in prediction.deadlines
        if deadline.party == "seller" and deadline.due_at >= as_of
    ]
    return min(due) + timedelta(minutes=1) if due else as_of


def _with(case: Case, action: SellerAction, pack: PackForActions) -> Case:
    data = case.model_dump(mode="json")
    own = (action.event,) if action.event is not None else ()
    added = [*action.before, *own, *action.after]
    if added:
        data["timeline"] = [*data.get("timeline", []), *added]
    if action.evidence is not None:
        data["evidence"] = [*data.get("evidence", []), action.evidence]
    return pack.load_case(data)


def what_if(
    pack: PackForActions,
    case: Case,
    as_of: datetime,
    language: Language,
    actions: Sequence[str] | None = None,
    *,
    prediction: Prediction | None = None,
) -> WhatIf:
    """Try each seller action (or those whose id or kind is in ``actions``) on ``case``
    (``prediction``: the case as it stands at ``as_of``, if already made)."""
    now = pack.predict(case, as_of) if prediction is None else prediction
    found = pack.seller_actions
    tried: list[tuple[SellerAction, Prediction]] = []
    nothing = SellerAction(
        id=DO_NOTHING, kind=DO_NOTHING, title="", texts=action_texts(found.do_nothing, found)
    )
    offered = seller_actions(found, case, now.stage, as_of, pack.parameters)
    candidates = [nothing, *offered]
    for action in candidates:
        if actions is not None and action.id not in actions and action.kind not in actions:
            continue
        if action.id == DO_NOTHING:
            tried.append((action, pack.predict(case, _do_nothing_time(now, as_of))))
            continue
        try:
            changed = _with(case, action, pack)
        except CaseError:
            continue  # the profile does not allow this action on this case (e.g. its order)
        tried.append((action, pack.predict(changed, as_of)))
    costs = [_cost(prediction, pack.profile) for _, prediction in tried]
    order = sorted(range(len(tried)), key=lambda index: (_key(costs[index]), index))
    best = costs[order[0]]
    best_texts = tried[order[0]][0].texts
    reference = next(
        (index for index, (action, _) in enumerate(tried) if action.id == found.compare_with),
        None,
    )
    outcomes: list[ActionOutcome] = []
    for rank, index in enumerate(order, start=1):
        action, prediction = tried[index]
        compared = _compare(costs[index], best, best_texts, pack.profile)
        versus: dict[str, str] = {}
        if reference is not None and reference != index:
            versus = _compare(
                costs[index], costs[reference], tried[reference][0].texts, pack.profile
            )
        action = action.model_copy(update={"title": action.texts[language]})
        summary: dict[str, str] = {
            language_: _summary(costs[index], prediction, language_, pack.profile)
            for language_ in LANGUAGES
        }
        outcomes.append(
            ActionOutcome(
                action=action,
                rank=rank,
                cost=costs[index],
                prediction=prediction,
                summary=summary[language],
                summary_texts=summary,
                compared=compared[language],
                compared_texts=compared,
                versus=versus.get(language),
                versus_texts=versus,
            )
        )
    zone = pack.profile.defaults.timezone
    notes = acceptance_unknown(found, {action.kind for action, _ in tried})
    texts: dict[str, str] = {
        language_: _render(outcomes, now, language_, local_time(as_of, zone), notes)
        for language_ in LANGUAGES
    }
    return WhatIf(
        case_id=case.case_id,
        as_of=as_of,
        pack=now.pack,
        language=language,
        stage=now.stage.value,
        outcomes=tuple(outcomes),
        recommended=outcomes[0].action.id,
        note=notes.get(language),
        note_texts=notes,
        text=texts[language],
        texts=texts,
    )


def _render(
    outcomes: Sequence[ActionOutcome],
    now: Prediction,
    language: Language,
    as_of: str,
    notes: Mapping[str, str],
) -> str:
    zh = language == "zh"
    head = (
        f"案件 {now.case_id} — 截至 {as_of}，阶段 {now.stage.value}；各操作的结果与成本（从低到高）："
        if zh
        else f"Case {now.case_id} — as of {as_of}, stage {now.stage.value}; "
        "each action's outcome and cost (cheapest first):"
    )
    lines = [head]
    for outcome in outcomes:
        lines.append(f"{outcome.rank:>3}. {outcome.action.texts[language]} [{outcome.action.id}]")
        if outcome.action.assumes:
            assumed = outcome.action.assumes[language]
            lines.append(f"       {'假设' if zh else 'assuming'}{'：' if zh else ': '}{assumed}")
        lines.append(f"       {outcome.summary_texts[language]}")
        likelihood = outcome.prediction.likelihood
        if likelihood is not None:
            shown = likelihood.texts.get(language) or likelihood.text
            lines.append(f"       {'依据' if zh else 'evidence'}{'：' if zh else ': '}{shown}")
        if outcome.rank > 1:
            lines.append(f"       {outcome.compared_texts[language]}")
        if outcome.versus_texts and outcome.versus_texts != outcome.compared_texts:
            lines.append(f"       {outcome.versus_texts[language]}")
    if notes:
        lines.append(f"{'注' if zh else 'Note'}{'：' if zh else ': '}{notes[language]}")
    return "\n".join(lines)


RECOMMENDED_KINDS = 3


def recommended_actions(found: WhatIf) -> tuple[RecommendedAction, ...]:
    """The prediction's recommended actions: the best-ranked action of each kind, for the
    ``RECOMMENDED_KINDS`` cheapest kinds (none if no seller action applies at the stage)."""
    if all(outcome.action.kind == DO_NOTHING for outcome in found.outcomes):
        return ()
    chosen: list[RecommendedAction] = []
    kinds: set[str] = set()
    for outcome in found.outcomes:
        if outcome.action.kind in kinds or len(kinds) == RECOMMENDED_KINDS:
            continue
        kinds.add(outcome.action.kind)
        why: dict[str, str] = {}
        for language in LANGUAGES:
            summary = outcome.summary_texts[language]
            compared = outcome.compared_texts[language] if outcome.rank > 1 else ""
            why[language] = ("；" if language == "zh" else "; ").join(
                part for part in (summary, compared) if part
            )
        chosen.append(
            RecommendedAction(
                action=outcome.action.id,
                why=why["en"],
                rule_id=outcome.prediction.resolution.rule_id,
                source="what_if",
                rank=outcome.rank,
                title=outcome.action.texts["en"],
                title_texts=outcome.action.texts,
                why_texts=why,
            )
        )
    return tuple(chosen)
