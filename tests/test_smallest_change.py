"""RulePack.smallest_change: the fewest seller actions that reach a target resolution."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import refundrules
from refundrules import RulePack
from refundrules.exceptions import CaseError

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "cases" / "seed_not_as_described.yaml"
AS_OF = datetime.fromisoformat("2025-06-03T10:00:00+08:00")


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return refundrules.load_rule_pack("pinduoduo")


def test_the_change_found_does_reach_the_target(pack: RulePack) -> None:
    case = refundrules.load_case(SEED)
    found = pack.smallest_change(case, "partial_refund", as_of=AS_OF, language="en")
    assert found.reached and not found.already and len(found.actions) == 1
    assert found.prediction is not None
    assert found.prediction.resolution.outcome.value == "partial_refund"
    assert pack.predict(case, AS_OF).resolution.outcome.value != "partial_refund"
    assert found.actions[0].texts["en"] in found.text and found.texts["zh"].startswith("达到")


def test_a_target_no_seller_action_reaches_is_stated(pack: RulePack) -> None:
    # Goods not as described with the buyer's video: refusing with any reason or evidence
    # still ends in a refund, so no seller move gets the request rejected.
    found = pack.smallest_change(
        refundrules.load_case(SEED), "request_rejected", as_of=AS_OF, language="zh"
    )
    assert not found.reached and found.prediction is None and found.actions == ()
    assert "无法达到 request_rejected" in found.text


def test_the_current_outcome_needs_no_change(pack: RulePack) -> None:
    case = refundrules.load_case(SEED)
    current = pack.predict(case, AS_OF).resolution.outcome
    found = pack.smallest_change(case, current, as_of=AS_OF)
    assert found.reached and found.already and found.actions == ()


def test_an_unknown_target_is_a_case_error(pack: RulePack) -> None:
    with pytest.raises(CaseError, match="'refund_everything' is not a resolution"):
        pack.smallest_change(refundrules.load_case(SEED), "refund_everything", as_of=AS_OF)
