"""The firing cache by signature answers exactly what durable-rules answers, always."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refundrules
from refundrules import EngineError
from refundrules._condition_tree import AllOf, AnyOf, Leaf
from refundrules._engine import EngineRule, RuleEngine, engine_number
from refundrules._firing_cache import FiringCache, SignaturePlan
from refundrules._rulepack import PackVersion
from refundrules.testing import evaluations

PACKS = Path(__file__).parent / "packs"
STEP = 10.0**-4  # one step of the engine's number form


def _leaf(fact: str, op: str, value: Any) -> Leaf:
    return Leaf(fact, op, value, param=None, key_path=())


@pytest.fixture(scope="module")
def family() -> Iterator[refundrules.RulePack]:
    pack = refundrules.load_rule_pack("pinduoduo")
    yield pack
    pack.close()


@pytest.fixture(scope="module")
def fictional() -> Iterator[refundrules.RulePack]:
    pack = refundrules.load_rule_pack(PACKS / "fictional_marketplace")
    yield pack
    pack.close()


class _Pair:
    """One phase of a version twice: with the cache, and uncached (every case to durable)."""

    def __init__(self, label: str, rules: tuple[EngineRule, ...]) -> None:
        self.cached = RuleEngine(label, rules)
        self.uncached = RuleEngine(label, rules, cache_size=0)
        assert self.cached.cache is not None, "the bundled packs' rules are all cacheable"
        assert self.uncached.cache is None
        self.plan = self.cached.cache.plan

    def check(self, facts: dict[str, Any]) -> None:
        expected = self.uncached.fire(facts)
        assert self.cached.fire(facts) == expected  # decided by durable, or answered
        assert self.cached.fire(facts) == expected  # answered from the cache

    def close(self) -> None:
        self.cached.close()
        self.uncached.close()


def _pairs(pack: refundrules.RulePack) -> dict[str, list[_Pair]]:
    pairs: dict[str, list[_Pair]] = {}
    for version in pack.versions:
        phases = [version._decision, version._consequence]
        pairs[version.version] = [
            _Pair(phase.label, phase.rules) for phase in phases if phase is not None
        ]
    return pairs


@pytest.fixture(scope="module")
def pdd_pairs(family: refundrules.RulePack) -> Iterator[dict[str, list[_Pair]]]:
    pairs = _pairs(family)
    yield pairs
    for phase_pairs in pairs.values():
        for pair in phase_pairs:
            pair.close()


def _near_thresholds(pair: _Pair) -> st.SearchStrategy[dict[str, Any]]:
    """Facts for every fact the phase's rules read: numbers exactly on, one step below and one
    step above each threshold (or anywhere), flags, and texts the rules name or no rule does."""
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for plan in pair.plan.facts:
        if plan.kind == "number":
            near = st.tuples(st.sampled_from(plan.thresholds), st.sampled_from((-1, 0, 1))).map(
                lambda point: engine_number(point[0] + point[1] * STEP)
            )
            anywhere = st.integers(0, 10**7).map(lambda n: engine_number(n * STEP))
            parts[plan.name] = st.one_of(near, near, anywhere)
        elif plan.kind == "flag":
            parts[plan.name] = st.booleans()
        else:
            parts[plan.name] = st.sampled_from((*sorted(plan.texts), "no-rule-names-this"))
    return st.fixed_dictionaries(parts)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_cached_firings_equal_uncached_on_generated_cases(
    family: refundrules.RulePack, pdd_pairs: dict[str, list[_Pair]], data: st.DataObject
) -> None:
    case, as_of = data.draw(evaluations(family))
    version: PackVersion = family.version_for(case)
    decision = pdd_pairs[version.version][0]
    facts = version.facts(case, as_of)
    decision.check({name: facts[name] for name in version._decision.fields})


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_cached_firings_equal_uncached_on_threshold_boundaries(
    pdd_pairs: dict[str, list[_Pair]], data: st.DataObject
) -> None:
    phase_pairs = pdd_pairs[data.draw(st.sampled_from(sorted(pdd_pairs)))]
    pair = data.draw(st.sampled_from(phase_pairs))
    pair.check(data.draw(_near_thresholds(pair)))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_cached_firings_equal_uncached_on_another_platform(
    fictional: refundrules.RulePack, data: st.DataObject
) -> None:
    pairs = _pairs(fictional)
    try:
        for phase_pairs in pairs.values():
            for pair in phase_pairs:
                pair.check(data.draw(_near_thresholds(pair)))
    finally:
        for phase_pairs in pairs.values():
            for pair in phase_pairs:
                pair.close()


def test_a_repeated_signature_is_answered_without_the_engine() -> None:
    rule = EngineRule("big", 0, _leaf("n", "gte", 10.0))
    with RuleEngine("cache-hit", [rule]) as engine:
        assert engine.cache is not None
        assert engine.fire({"n": 12.5}) == ["big"]
        assert engine.fire({"n": 99.0}) == ["big"]  # same interval: above 10
        assert engine.fire({"n": 10.0}) == ["big"]  # exactly on it: a signature of its own
        assert engine.fire({"n": 9.9999}) == []
        assert (engine.cache.hits, engine.cache.misses) == (1, 3)


def test_a_threshold_point_and_its_neighbours_are_three_signatures() -> None:
    plan = SignaturePlan.of([_leaf("n", "lt", 2.4), _leaf("n", "eq", 1)])
    assert plan is not None
    signatures = [plan.signature({"n": value}) for value in (0.5, 1, 1.5, 2.4, 2.4001)]
    assert len(set(signatures)) == 5
    assert plan.signature({"n": 1.5}) == plan.signature({"n": 2.3999})  # one interval
    assert plan.signature({"n": 1.0}) == plan.signature({"n": 1})


def test_texts_no_rule_names_share_one_signature() -> None:
    plan = SignaturePlan.of([_leaf("s", "in", ("a", "b")), _leaf("s", "ne", "c")])
    assert plan is not None
    assert plan.signature({"s": "x"}) == plan.signature({"s": "y"})
    assert plan.signature({"s": "a"}) != plan.signature({"s": "x"})
    assert plan.signature({"s": "c"}) != plan.signature({"s": "x"})
    assert plan.signature({}) != plan.signature({"s": "x"})  # missing never matches


@pytest.mark.parametrize(
    "conditions",
    [
        [_leaf("n", "lt", 3.0), _leaf("n", "eq", "three")],  # one fact, numbers and texts
        [_leaf("n", "lt", True)],  # an order comparison with a flag
        [_leaf("s", "lt", "m")],  # an order comparison of texts
        [AllOf((_leaf("n", "gt", 1.0), _leaf("s", "matches", "a.*")))],  # unknown operator
        [AnyOf((_leaf("n", "gt", 1.0), _leaf("n", "in", (1, 2))))],  # in with numbers
    ],
)
def test_conditions_that_are_not_plain_comparisons_refuse_the_cache(conditions: list[Any]) -> None:
    assert SignaturePlan.of(conditions) is None


def test_a_value_of_another_type_bypasses_the_cache_and_gets_durables_answer() -> None:
    rule = EngineRule("big", 0, _leaf("n", "gte", 10.0))
    with (
        RuleEngine("cache-bypass", [rule]) as engine,
        RuleEngine("cache-bypass-off", [rule], cache_size=0) as uncached,
    ):
        assert engine.cache is not None
        assert engine.cache.signature({"n": "9"}) is None
        assert engine.fire({"n": "9"}) == uncached.fire({"n": "9"})
        assert len(engine.cache) == 0


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    rule = EngineRule("big", 0, _leaf("n", "gte", 10.0))
    with RuleEngine("cache-lru", [rule], cache_size=2) as engine:
        cache = engine.cache
        assert cache is not None
        engine.fire({"n": 1.0})
        engine.fire({"n": 10.0})
        engine.fire({"n": 1.0})  # now the most recent
        engine.fire({"n": 50.0})  # evicts n == 10
        assert len(cache) == 2
        assert cache.get(cache.signature({"n": 1.0}) or ()) == ()
        assert cache.get(cache.signature({"n": 10.0}) or ()) is None


def test_a_cache_of_no_entries_is_refused() -> None:
    plan = SignaturePlan.of([_leaf("n", "gte", 10.0)])
    assert plan is not None
    with pytest.raises(EngineError, match="at least 1 entry"):
        FiringCache(plan, size=0)


def test_a_closed_engine_refuses_even_a_cached_signature() -> None:
    engine = RuleEngine("cache-closed", [EngineRule("big", 0, _leaf("n", "gte", 10.0))])
    assert engine.fire({"n": 12.0}) == ["big"]
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        engine.fire({"n": 12.0})


def test_a_pickled_engine_keeps_its_plan_but_not_its_entries() -> None:
    with RuleEngine("cache-pickle", [EngineRule("big", 0, _leaf("n", "gte", 10.0))]) as engine:
        engine.fire({"n": 12.0})
        copy = pickle.loads(pickle.dumps(engine))
        with copy:
            assert copy.cache is not None and engine.cache is not None
            assert copy.cache.plan == engine.cache.plan
            assert len(copy.cache) == 0
            assert copy.fire({"n": 12.0}) == ["big"]


def test_predictions_use_the_cache(family: refundrules.RulePack) -> None:
    case = refundrules.load_case(
        Path(__file__).parents[1] / "examples" / "06_platform_reviewing_low_value.yaml"
    )
    as_of = datetime.fromisoformat("2025-04-17T15:00:00+08:00")
    first = family.predict(case, as_of)
    cache = family.version_for(case)._compiled().decision.cache
    assert cache is not None
    hits = cache.hits
    assert family.predict(case, as_of) == first
    assert cache.hits == hits + 1


@pytest.mark.parametrize(
    "facts",
    [{"n": 1e-06}, {"n": float("nan")}, {"n": 1e16}, {"n": 12.0, "unread": 1e-06}],
)
def test_values_the_engine_refuses_are_refused_even_after_a_hit(facts: dict[str, Any]) -> None:
    with RuleEngine("cache-refuses", [EngineRule("big", 0, _leaf("n", "gte", 10.0))]) as engine:
        assert engine.fire({"n": 12.0}) == ["big"]
        assert engine.fire({"n": 0.5}) == []
        with pytest.raises(EngineError, match="cannot be sent"):
            engine.fire(facts)


def test_a_reserved_fact_name_is_refused_even_after_a_hit() -> None:
    with RuleEngine("cache-reserved", [EngineRule("big", 0, _leaf("n", "gte", 10.0))]) as engine:
        assert engine.fire({"n": 12.0}) == ["big"]
        with pytest.raises(EngineError, match="reserved"):
            engine.fire({"n": 12.0, "sid": "other"})


_ODD_NUMBERS = st.sampled_from(
    [float("nan"), float("inf"), -float("inf"), 1e-5, -0.0, 0, 7, 10**17, 10**400, 1e16, True]
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_quick_signature_is_the_general_one(
    pdd_pairs: dict[str, list[_Pair]], data: st.DataObject
) -> None:
    """The C-level path (exact names, plain values) gives what the general loop gives, and
    odd values (NaN, infinities, exponent forms, huge ints, a flag for a number, a missing or
    an extra fact) leave it for the general loop's answer."""
    pair = data.draw(st.sampled_from(pdd_pairs[data.draw(st.sampled_from(sorted(pdd_pairs)))]))
    facts = data.draw(_near_thresholds(pair))
    numbers = [plan.name for plan in pair.plan.facts if plan.kind == "number"]
    for name in data.draw(st.lists(st.sampled_from(numbers), max_size=2)):
        facts[name] = data.draw(_ODD_NUMBERS)
    change = data.draw(st.sampled_from(["none", "drop", "extra", "swap"]))
    if change == "drop":
        facts.pop(sorted(facts)[0])
    elif change == "extra":
        facts["no_rule_reads_this"] = 1.0
    elif change == "swap":
        facts.pop(sorted(facts)[0])
        facts["no_rule_reads_this"] = 1.0
    plan = pair.plan
    assert plan.signature(facts) == plan._general_signature(facts)
