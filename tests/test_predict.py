from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundrules import (
    Case,
    CaseError,
    EvaluationError,
    Prediction,
    Resolution,
    RulePack,
    Stage,
)
from refundrules._prediction import Reason
from refundrules.testing import evaluations

from .conftest import at

REQUEST = at("2025-03-03T10:00:00+08:00")


def test_silence_inside_the_window_awaits_the_seller(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    window = pack.parameters["seller_response_window_hours"].value
    prediction = pack.predict(make_case(), REQUEST + timedelta(hours=window) - timedelta(seconds=1))
    assert prediction.stage is Stage.AWAITING_SELLER
    assert prediction.resolution.outcome is Resolution.FULL_REFUND
    (deadline,) = [d for d in prediction.deadlines if d.id == "seller_response"]
    assert deadline.due_at == REQUEST + timedelta(hours=window)


def test_silence_to_the_end_of_the_window_refunds_and_costs_points(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    window = pack.parameters["seller_response_window_hours"].value
    prediction = pack.predict(make_case(), REQUEST + timedelta(hours=window))
    assert prediction.stage is Stage.CLOSED
    assert prediction.resolution.decided_by == "system"
    points = pack.parameters["penalty_points_non_cooperation"].value
    assert prediction.seller_consequences.penalty_points_added == points


def test_reasons_cite_rule_ids_fact_values_and_sources(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    prediction = pack.predict(make_case(), REQUEST + timedelta(hours=5))
    decided = [reason for reason in prediction.reasons if reason.role == "decided"]
    assert prediction.resolution.rule_id in {reason.rule_id for reason in decided}
    for reason in prediction.reasons:
        assert reason.rule_id in prediction.fired_rules
        assert reason.sources, reason.rule_id
        assert reason.because
        for name, value in reason.facts.items():
            assert f"{name}" in reason.because
            assert value == pack.facts(make_case(), REQUEST + timedelta(hours=5))[name]


def test_refused_then_escalated_low_value_defect_predicts_refund_without_return(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    case = make_case(
        order__paid_amount="19.90",
        request__amount="19.90",
        evidence=[{"party": "buyer", "kind": "photo"}],
        timeline=[
            {
                "at": "2025-03-03T12:00:00+08:00",
                "actor": "seller",
                "kind": "seller_refused",
                "refusal_reason": "goods_as_described",
            },
            {"at": "2025-03-03T20:00:00+08:00", "actor": "buyer", "kind": "buyer_escalated"},
        ],
    )
    prediction = pack.predict(case, at("2025-03-04T10:00:00+08:00"))
    assert prediction.stage is Stage.PLATFORM_REVIEWING
    assert prediction.resolution.outcome is Resolution.REFUND_WITHOUT_RETURN
    assert prediction.seller_consequences.dispute_record is True


def test_sanction_is_reached_when_points_cross_the_threshold(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    threshold = pack.parameters["sanction_threshold_points"].value
    added = pack.parameters["penalty_points_non_cooperation"].value
    window = pack.parameters["seller_response_window_hours"].value
    below = make_case(store__penalty_points=int(threshold - added - 1))
    at_threshold = make_case(store__penalty_points=int(threshold - added))
    moment = REQUEST + timedelta(hours=window + 1)
    assert pack.predict(below, moment).seller_consequences.sanctions == ()
    consequences = pack.predict(at_threshold, moment).seller_consequences
    assert consequences.penalty_points_total == threshold
    assert [s.threshold_points for s in consequences.sanctions] == [threshold]


def test_prediction_json_round_trips(pack: RulePack, make_case: Callable[..., Case]) -> None:
    prediction = pack.predict(make_case(), REQUEST + timedelta(hours=5))
    data = json.loads(prediction.model_dump_json())
    assert data["stage"] == "awaiting_seller" and data["pack"]["id"] == "pinduoduo"
    assert Prediction.model_validate_json(prediction.model_dump_json()) == prediction


def test_case_of_another_platform_is_rejected(pack: RulePack, case_data: dict[str, object]) -> None:
    case_data["platform"] = "taobao"
    with pytest.raises(CaseError) as info:
        pack.predict(Case.model_validate(case_data), REQUEST)
    assert info.value.field == "platform"


def test_predictions_carry_the_pack_identity(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    prediction = pack.predict(case, REQUEST)
    assert prediction.pack == pack.version_for(case).ref != pack.latest.ref
    assert prediction.pack.version == "2024.12"
    assert prediction.pack.effective_from.isoformat() == "2024-12-11"
    assert len(prediction.pack.content_hash) == 64
    assert len({version.ref.content_hash for version in pack.versions}) == len(pack.versions)


def test_case_in_another_currency_is_rejected(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    with pytest.raises(CaseError) as info:
        pack.predict(make_case(order__currency="USD"), REQUEST)
    assert info.value.field == "order.currency"


def test_public_fire_refuses_wrongly_typed_facts(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    from refundrules import EvaluationError

    facts = pack.facts(make_case(), REQUEST)
    facts["paid_amount"] = "100.00"
    with pytest.raises(EvaluationError, match="paid_amount"):
        pack.fire(facts)


def test_request_before_the_first_version_is_a_case_error(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    first = pack.versions[0].effective_from
    early = make_case(
        order__paid_at="2014-06-01T10:00:00+08:00",
        order__shipped_at="2014-06-01T18:00:00+08:00",
        order__delivered_at="2014-06-03T09:00:00+08:00",
        logistics={"status": "signed"},
        request__requested_at="2014-06-03T10:00:00+08:00",
    )
    with pytest.raises(CaseError) as info:
        pack.predict(early, at("2014-06-03T12:00:00+08:00"))
    assert info.value.field == "request.requested_at"
    assert f"in force from {first}" in str(info.value)
    assert pack.predict(make_case(), REQUEST).warnings == ()


def test_a_pinned_version_outside_its_dates_is_flagged(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    oldest = pack.versions[0]
    if oldest.effective_to is None:
        pytest.skip("the family has one open-ended version")
    late = make_case()
    prediction = pack.predict(late, REQUEST, version=oldest.version)
    assert prediction.pack.version == oldest.version
    assert prediction.warnings and "was pinned" in prediction.warnings[0]


def test_naive_or_early_as_of_is_a_case_error_in_predict(
    pack: RulePack, make_case: Callable[..., Case]
) -> None:
    from datetime import datetime

    with pytest.raises(CaseError, match="timezone"):
        pack.predict(make_case(), datetime(2025, 3, 4, 10))
    with pytest.raises(CaseError) as info:
        pack.predict(make_case(), REQUEST - timedelta(seconds=1))
    assert info.value.field == "as_of"


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_reasons_built_without_validation_validate_back_to_themselves(
    pack: RulePack, data: st.DataObject
) -> None:
    """Reasons are built with ``model_construct`` (no validation): each must be exactly what
    validating its own dump gives, field types included."""
    case, as_of = data.draw(evaluations(pack))
    try:
        prediction = pack.predict(case, as_of)
    except EvaluationError:
        return  # a gap in the pack: nothing to compare
    for reason in prediction.reasons:
        again = Reason.model_validate(reason.model_dump())
        assert again == reason
        assert [type(value) for value in again.facts.values()] == [
            type(value) for value in reason.facts.values()
        ]
    assert Prediction.model_validate_json(prediction.model_dump_json()) == prediction
