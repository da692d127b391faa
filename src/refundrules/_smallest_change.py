"""The smallest change of a case that reaches a target resolution, within the pack.

The changes tried are the seller actions the pack declares (``seller_actions.yaml``: a
response given, evidence handed in) and letting the seller's next deadline pass: first each
alone, then each pair, applied at ``as_of``. The first set (fewest changes, then the cheaper
outcome) whose prediction ends in the target wins; if none does, the answer says so.

>>> import refundrules
>>> from datetime import datetime
>>> pack = refundrules.load_rule_pack("pinduoduo")
>>> case = refundrules.load_case("examples/01_awaiting_seller.yaml")
>>> moment = datetime.fromisoformat("2025-03-05T12:00:00+08:00")
>>> found = pack.smallest_change(case, "partial_refund", as_of=moment)
>>> found.reached, [action.kind for action in found.actions]
(True, ['partial_refund'])
"""

from __future__ import annotations

from datetime import datetime
from itertools import combinations

from pydantic import BaseModel, ConfigDict

from refundrules._case import Case
from refundrules._i18n import LANGUAGES, Language
from refundrules._prediction import Prediction
from refundrules._seller_actions import (
    DO_NOTHING,
    SellerAction,
    action_texts,
    seller_actions,
)
from refundrules._vocabulary import Resolution
from refundrules._what_if import PackForActions, _cost, _do_nothing_time, _key, _with
from refundrules.exceptions import CaseError

__all__ = ["MAX_CHANGES", "SmallestChange", "smallest_change"]

MAX_CHANGES = 2


class SmallestChange(BaseModel):
    """``actions`` that reach ``target`` (``reached``), with the prediction they lead to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    as_of: datetime
    target: Resolution
    reached: bool
    already: bool
    actions: tuple[SellerAction, ...]
    prediction: Prediction | None
    language: Language
    text: str
    texts: dict[str, str]


def smallest_change(
    pack: PackForActions, case: Case, target: Resolution, as_of: datetime, language: Language
) -> SmallestChange:
    now = pack.predict(case, as_of, likelihood=False)
    found = pack.seller_actions
    if now.resolution.outcome is target:
        return _answer(case, as_of, target, (), now, language, already=True)
    nothing = SellerAction(
        id=DO_NOTHING, kind=DO_NOTHING, title="", texts=action_texts(found.do_nothing, found)
    )
    single = list(seller_actions(found, case, now.stage, as_of, pack.parameters))
    for size in range(1, MAX_CHANGES + 1):
        hits: list[tuple[tuple[SellerAction, ...], Prediction]] = []
        if size == 1:
            waited = pack.predict(case, _do_nothing_time(now, as_of), likelihood=False)
            if waited.resolution.outcome is target:
                hits.append(((nothing,), waited))
        for group in combinations(single, size):
            changed = case
            try:
                for action in group:
                    changed = _with(changed, action, pack)
            except CaseError:
                continue
            prediction = pack.predict(changed, as_of, likelihood=False)
            if prediction.resolution.outcome is target:
                hits.append((group, prediction))
        if hits:
            best = min(hits, key=lambda hit: _key(_cost(hit[1], pack.profile)))
            return _answer(case, as_of, target, best[0], best[1], language, already=False)
    return _answer(case, as_of, target, (), None, language, already=False)


def _answer(
    case: Case,
    as_of: datetime,
    target: Resolution,
    actions: tuple[SellerAction, ...],
    prediction: Prediction | None,
    language: Language,
    *,
    already: bool,
) -> SmallestChange:
    texts: dict[str, str] = {}
    for language_ in LANGUAGES:
        zh = language_ == "zh"
        if already:
            texts[language_] = (
                f"已经预测为 {target.value}，无需改变"
                if zh
                else f"already predicted to end in {target.value}; nothing to change"
            )
        elif prediction is None:
            texts[language_] = (
                f"在本规则包内，{MAX_CHANGES} 个以内的商家操作都无法达到 {target.value}"
                if zh
                else f"no set of up to {MAX_CHANGES} seller actions in this pack reaches "
                f"{target.value}"
            )
        else:
            steps = ("；" if zh else "; ").join(action.texts[language_] for action in actions)
            texts[language_] = (
                f"达到 {target.value} 的最小改变：{steps}"
                if zh
                else f"smallest change to reach {target.value}: {steps}"
            )
    return SmallestChange(
        case_id=case.case_id,
        as_of=as_of,
        target=target,
        reached=already or prediction is not None,
        already=already,
        actions=actions,
        prediction=prediction,
        language=language,
        text=texts[language],
        texts=texts,
    )
