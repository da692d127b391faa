"""The compiled fact deriver gives exactly the facts derive_facts gives, for every bundled pack."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import refundrules
from refundrules._fact_derivers import FactDeriver
from refundrules._facts import case_at, derive_facts
from refundrules.testing import evaluations

from .conftest import BUNDLED


def _typed(facts: dict[str, object]) -> list[tuple[str, str, object]]:
    # 1.0 == True and 0.0 == -0.0 in Python: compare the types and the exact text too.
    return [(name, type(value).__name__, repr(value)) for name, value in facts.items()]


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_deriver_gives_every_fact_bit_for_bit(
    families: dict[str, refundrules.RulePack], data: st.DataObject
) -> None:
    family = families[data.draw(st.sampled_from(BUNDLED), label="pack")]
    case, as_of = data.draw(evaluations(family), label="evaluation")
    profile = family.profile
    expected = derive_facts(profile, case, as_of)
    assert _typed(FactDeriver(profile)(case_at(profile, case, as_of))) == _typed(expected)


def test_deriver_derives_only_the_named_facts_in_the_profile_order(
    families: dict[str, refundrules.RulePack],
) -> None:
    profile = families["pinduoduo"].profile
    names = list(profile.facts)
    wanted = {names[5], names[0], names[-1]}
    assert FactDeriver(profile, wanted).names == (names[0], names[5], names[-1])
