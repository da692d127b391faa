"""Property tests over generated valid cases (the same strategies users get)."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refundrules import Case, RulePack, load_rule_pack
from refundrules.testing import (
    check_determinism,
    check_explanations_agree,
    check_isolation,
    check_totality,
    evaluations,
)

PACK: RulePack = load_rule_pack("pinduoduo")
# Example counts come from the Hypothesis profile (tests/conftest.py): quick by default, 150
# under HYPOTHESIS_PROFILE=ci.
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(evaluations(PACK))
def test_every_valid_case_gets_exactly_one_stage_and_resolution(
    evaluation: tuple[Case, datetime],
) -> None:
    prediction = check_totality(PACK, *evaluation)
    deciders = [reason.rule_id for reason in prediction.reasons if reason.role == "decided"]
    assert 1 <= len(deciders) <= 2
    assert prediction.resolution.rule_id in deciders


@SETTINGS
@given(evaluations(PACK))
def test_the_same_case_gives_the_same_answer(evaluation: tuple[Case, datetime]) -> None:
    check_determinism(PACK, *evaluation)


@SETTINGS
@given(evaluations(PACK), st.lists(evaluations(PACK), min_size=1, max_size=4))
def test_no_state_leaks_between_cases(
    evaluation: tuple[Case, datetime], others: list[tuple[Case, datetime]]
) -> None:
    check_isolation(PACK, *evaluation, before=others)


@SETTINGS
@given(st.lists(evaluations(PACK), min_size=2, max_size=5), st.randoms())
def test_evaluation_order_does_not_matter(
    batch: list[tuple[Case, datetime]], random: object
) -> None:
    forward = [PACK.predict(case, as_of) for case, as_of in batch]
    order = list(range(len(batch)))
    random.shuffle(order)  # type: ignore[attr-defined]
    shuffled = {index: PACK.predict(*batch[index]) for index in order}
    assert [shuffled[index] for index in range(len(batch))] == forward


@settings(
    max_examples=2 * settings.default.max_examples,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(evaluations(PACK))
def test_explanations_agree_with_the_engine(evaluation: tuple[Case, datetime]) -> None:
    check_explanations_agree(PACK, *evaluation)


@SETTINGS
@given(evaluations(PACK))
def test_a_second_pack_instance_agrees(evaluation: tuple[Case, datetime]) -> None:
    assert _SECOND.predict(*evaluation) == PACK.predict(*evaluation)


_SECOND: RulePack = load_rule_pack("pinduoduo")


@SETTINGS
@given(evaluations(PACK))
def test_derived_numbers_never_need_an_exponent(evaluation: tuple[Case, datetime]) -> None:
    """durable-rules' parser rejects floats written with an exponent (e.g. 1e-06)."""
    facts = PACK.facts(*evaluation)
    assert not [
        name for name, value in facts.items() if isinstance(value, float) and "e" in repr(value)
    ]
