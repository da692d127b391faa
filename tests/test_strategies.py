"""The case strategies reach what real disputes contain (issue 7's case fields), so that
properties, diff and coverage explore them, and every case they draw is valid and predicts."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings

import refundrules
from refundrules.testing import evaluations


def _features(case: refundrules.Case) -> set[str]:
    found = {event.kind for event in case.timeline}
    if any(event.goods_condition for event in case.timeline):
        found.add("goods_condition")
    flags = {
        "compensation": case.request.compensation is not None,
        "earlier_requests": bool(case.request.earlier_requests),
        "shared_with_other_orders": case.logistics.shared_with_other_orders,
        "contents_short": case.logistics.contents_short,
        "left_platform": case.store.left_platform,
        "return_terms": bool(case.order.return_terms),
        "after_sales_days": case.order.after_sales_days is not None,
    }
    return found | {name for name, present in flags.items() if present}


def test_generated_cases_reach_every_dispute_feature(pack: refundrules.RulePack) -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=400, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(evaluations(pack))
    def draw(evaluation: tuple[refundrules.Case, object]) -> None:
        case, as_of = evaluation
        seen.update(_features(case))
        pack.predict(case, as_of)  # type: ignore[arg-type]

    draw()
    wanted = {
        "compensation", "earlier_requests", "shared_with_other_orders", "contents_short",
        "left_platform", "return_terms", "after_sales_days", "goods_condition",
        "buyer_changed_request", "platform_intervened", "platform_instant_refund",
        "seller_cancelled_order",
    }
    assert wanted <= set(seen), f"never generated: {sorted(wanted - set(seen))}"


def test_platform_steps_in_after_an_agreement_only_on_a_rejected_return(pack: refundrules.RulePack) -> None:
    @settings(max_examples=200, database=None, derandomize=True)
    @given(evaluations(pack, seller_move="agreed"))
    def draw(evaluation: tuple[refundrules.Case, object]) -> None:
        kinds = [event.kind for event in evaluation[0].timeline]
        if "platform_intervened" in kinds:  # the agreement was undone by a rejected return
            assert "seller_rejected_return" in kinds

    draw()
