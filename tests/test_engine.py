from __future__ import annotations

import copy
import gc
import itertools
import json
import math
import pickle
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundrules import Case, EngineError
from refundrules._conditions import Leaf, check_condition, holds
from refundrules._engine import (
    CASE_KIND,
    NUMBER_DECIMALS,
    EngineRule,
    RuleCompileError,
    RuleEngine,
    _check_engine_value,
    engine_number,
    to_durable,
)
from refundrules._facts import derive_facts as _derive_facts
from refundrules._registry import installed_profiles

from .conftest import freed_among, spy_ruleset_deletes

RULES = [
    EngineRule("small", 1, Leaf("x", "lt", 10, param=None, key_path=())),
    EngineRule("large", 2, Leaf("x", "gte", 10, param=None, key_path=())),
]

PROFILE = installed_profiles()["pinduoduo"]
DECISION_FACTS = PROFILE.decision_facts


def derive_facts(case: Case, as_of: datetime) -> dict[str, bool | float | str]:
    return _derive_facts(PROFILE, case, as_of)


def test_fire_returns_the_matching_rule_ids() -> None:
    engine = RuleEngine("unit", RULES)
    assert engine.fire({"x": 3.5}) == ["small"]
    assert engine.fire({"x": 10}) == ["large"]


@pytest.mark.parametrize("value", [1e-06, 1e20, float("nan"), float("inf"), None, [1], {"a": 1}])
def test_values_the_engine_would_misread_are_refused(value: object) -> None:
    engine = RuleEngine("unit", RULES)
    with pytest.raises(EngineError, match="cannot be sent"):
        engine.fire({"x": value})
    assert engine.fire({"x": 1.0}) == ["small"]


def test_reserved_field_names_are_refused() -> None:
    with pytest.raises(EngineError, match="reserved"):
        RuleEngine("unit", RULES).fire({"sid": "other", "x": 1})


def test_closed_engine_refuses_to_fire() -> None:
    engine = RuleEngine("unit", RULES)
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        engine.fire({"x": 1})


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_check_accepts_exactly_the_floats_written_without_exponent(value: float) -> None:
    from refundrules._engine import _check_engine_value

    plain = math.isfinite(value) and "e" not in repr(value)
    try:
        _check_engine_value("x", value, "unit")
        accepted = True
    except EngineError:
        accepted = False
    assert accepted == plain


# --- the seam: our condition trees in, durable stays inside ----------------------------------

SRC = Path(__file__).resolve().parents[1] / "src" / "refundrules"
DURABLE_IMPORT = re.compile(r"^\s*(?:import|from)\s+durable(?:_rules_engine)?\b", re.M)
# durable's JSON operators (our YAML says `ne`, durable says `$neq`) and the compiled form.
DURABLE_FORM = re.compile(r"""["']\$(?:and|or|neq|lt|lte|gt|gte|ex|nex|kind)["']|to_durable""")


def test_only_the_engine_module_imports_durable() -> None:
    importers = sorted(
        path.name for path in SRC.rglob("*.py") if DURABLE_IMPORT.search(path.read_text("utf-8"))
    )
    assert importers == ["_engine.py"]


def test_durable_json_form_stays_in_the_engine_module() -> None:
    leaking = sorted(
        path.name
        for path in SRC.rglob("*.py")
        if path.name != "_engine.py" and DURABLE_FORM.search(path.read_text("utf-8"))
    )
    assert leaking == []


def test_engine_takes_checked_condition_trees() -> None:
    """The engine compiles what ``check_condition`` returns: the registered definition is the
    discriminator ANDed with the tree's durable form, and what fires agrees with ``holds``."""
    condition = check_condition(
        {
            "all": [
                {"fact": "request_kind", "in": ["refund_only", "return_and_refund"]},
                {"not": {"fact": "buyer_escalated", "eq": True}},
                {"fact": "paid_amount", "lte": {"param": "low"}},
            ]
        },
        facts=DECISION_FACTS,
        parameters={"low": 50.0},
        key_path=("when",),
    )
    with RuleEngine("trees", [EngineRule("cheap_calm", 0, condition)]) as engine:
        host = engine._host
        assert host is not None
        definition = host._ruleset_directory[engine._names[0]].get_definition()
        assert definition["cheap_calm"]["all"][0]["m"] == {
            "$and": [{"$kind": CASE_KIND}, to_durable(condition)]
        }
        for kind, escalated, paid in itertools.product(
            ("refund_only", "exchange"), (True, False), (49.99, 50.0, 50.01)
        ):
            facts = {"request_kind": kind, "buyer_escalated": escalated, "paid_amount": paid}
            assert engine.fire(facts) == (["cheap_calm"] if holds(condition, facts) else [])


@pytest.mark.parametrize("value", [1e20, float("inf"), float("nan"), 2.4000000000000004, 1e-05])
def test_threshold_the_engine_would_misread_is_refused_naming_the_rule(value: float) -> None:
    rule = EngineRule("odd_threshold", 0, Leaf("x", "gte", value, param=None, key_path=()))
    with pytest.raises(RuleCompileError, match="odd_threshold") as caught:
        RuleEngine("thresholds", [rule])
    assert caught.value.rule_id == "odd_threshold"


# --- one number form --------------------------------------------------------------------------


@given(st.floats(min_value=-1e15, max_value=1e15))
def test_engine_number_is_sendable_and_idempotent(value: float) -> None:
    number = engine_number(value)
    _check_engine_value("x", number, "unit")  # no exponent form, ever
    assert engine_number(number) == number
    assert abs(number - value) <= 0.5 * 10**-NUMBER_DECIMALS + 1e-9 * abs(value)


@pytest.mark.parametrize(
    ("days", "hours"),
    [(0.1, 2.4), (1 / 3, 8.0), (0.333333, 8.0), (0.5, 12.0), (2.0, 48.0)],
)
@pytest.mark.parametrize("op", ["gte", "lt"])
def test_facts_meet_thresholds_at_the_boundary(
    make_case: Callable[..., Case], days: float, hours: float, op: str
) -> None:
    """A time parameter in days compiled against an hours fact is in the engine's number
    form, as the fact is: at the parameter's moment the fact equals the threshold, and the
    engine and the explainer (``holds``) agree one second either side of it too.

    0.1 days is 2.4000000000000004 hours in floating point; compared unrounded, a case at
    exactly 0.1 days would not have reached 0.1 days."""
    condition = check_condition(
        {"fact": "hours_since_request", op: {"param": "window"}},
        facts=DECISION_FACTS,
        parameters={"window": days},
        units={"window": "days"},
        key_path=("when",),
    )
    assert isinstance(condition, Leaf) and condition.value == hours
    case = make_case()
    moment = case.request.requested_at + timedelta(days=days)
    with RuleEngine("boundary", [EngineRule("window", 0, condition)]) as engine:
        for offset, reached in ((-1, False), (0, True), (1, True)):
            facts = derive_facts(case, moment + timedelta(seconds=offset))
            expected = reached if op == "gte" else not reached
            assert holds(condition, facts) is expected, (offset, facts["hours_since_request"])
            fired = engine.fire({"hours_since_request": facts["hours_since_request"]})
            assert fired == (["window"] if expected else []), offset


def test_derive_facts_uses_the_engine_number_form(make_case: Callable[..., Case]) -> None:
    case = make_case()
    facts = derive_facts(case, case.request.requested_at + timedelta(seconds=1))
    numbers = [value for value in facts.values() if type(value) is float]
    assert numbers and all(engine_number(value) == value for value in numbers)
    assert facts["hours_since_request"] == engine_number(1 / 3600) == 0.0003


# --- lifecycle --------------------------------------------------------------------------------


def _handles(engine: RuleEngine) -> list[int]:
    host = engine._host
    assert host is not None
    return [host._ruleset_directory[name]._handle for name in engine._names]


MANY_RULES = [
    EngineRule(f"over_{i}", i, Leaf("n", "gt", float(i), param=None, key_path=()))
    for i in range(100)
]


def test_engine_closes_at_the_end_of_a_with_block(monkeypatch: pytest.MonkeyPatch) -> None:
    deleted = spy_ruleset_deletes(monkeypatch)
    with RuleEngine("with", RULES) as engine:
        handles = _handles(engine)
        assert engine.fire({"x": 3.5}) == ["small"]
    assert engine.closed and freed_among(deleted, handles) == handles
    with pytest.raises(EngineError, match="closed"):
        engine.fire({"x": 1})


def test_garbage_collected_engine_frees_its_rulesets(monkeypatch: pytest.MonkeyPatch) -> None:
    deleted = spy_ruleset_deletes(monkeypatch)
    engine = RuleEngine("collected", MANY_RULES)
    assert engine.ruleset_count > 1
    handles, host, names = _handles(engine), engine._host, list(engine._names)
    assert host is not None
    del engine
    gc.collect()
    assert sorted(freed_among(deleted, handles)) == sorted(handles)
    assert not any(name in host._ruleset_directory for name in names)
    assert host._ruleset_list == []


def test_close_then_collection_frees_once(monkeypatch: pytest.MonkeyPatch) -> None:
    deleted = spy_ruleset_deletes(monkeypatch)
    engine = RuleEngine("once", MANY_RULES)
    handles = _handles(engine)
    engine.close()
    engine.close()
    del engine
    gc.collect()
    assert sorted(freed_among(deleted, handles)) == sorted(handles)


def test_rebuilt_engine_frees_the_rulesets_it_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine error rebuilds the rulesets; the old ones are freed at once, the new ones at
    close, each exactly once."""
    deleted = spy_ruleset_deletes(monkeypatch)
    engine = RuleEngine("rebuilt", RULES)
    first = _handles(engine)
    with pytest.raises(EngineError):
        engine.fire({f"extra_{i}": 1.0 for i in range(300)} | {"x": 1.0})  # error 302
    assert freed_among(deleted, first) == first
    second = _handles(engine)
    engine.close()
    assert freed_among(deleted, first + second) == first + second


class _BlockingEngine(RuleEngine):
    """A RuleEngine whose actions wait for ``release`` after setting ``started``."""

    started = threading.Event()
    release = threading.Event()

    def _action(self, rule_id: str) -> Callable[[Any], None]:
        record = super()._action(rule_id)
        started, release = self.started, self.release

        def action(context: Any) -> None:
            started.set()
            assert release.wait(timeout=5)  # well inside durable's 10 s action lease
            record(context)

        return action


def test_close_waits_for_a_fire_in_flight_in_another_thread() -> None:
    _BlockingEngine.started = threading.Event()
    _BlockingEngine.release = threading.Event()
    engine = _BlockingEngine("in-flight", RULES)
    results: list[object] = []
    firing = threading.Thread(target=lambda: results.append(engine.fire({"x": 3.5})))
    closing = threading.Thread(target=engine.close)
    firing.start()
    assert _BlockingEngine.started.wait(timeout=5)  # the fire is inside durable now
    closing.start()
    closing.join(timeout=0.3)
    assert closing.is_alive()  # close waits for the case in flight ...
    with pytest.raises(EngineError, match="closed"):
        engine.fire({"x": 3.5})  # ... while new calls are refused at once
    _BlockingEngine.release.set()
    firing.join(timeout=5)
    closing.join(timeout=5)
    assert not firing.is_alive() and not closing.is_alive()
    assert results == [["small"]]  # the case in flight finished, with the right answer
    assert engine._host is None and engine._names == []
    with pytest.raises(EngineError, match="closed"):
        engine.fire({"x": 3.5})


def test_close_during_fires_from_other_threads_never_crashes(tmp_path: Path) -> None:
    """Four threads fire as fast as they can while the main thread closes the engine: every
    call returns the right ids or raises EngineError("... closed"), and the process exits
    cleanly (run in a subprocess: a use-after-free would kill it, not pytest)."""
    code = textwrap.dedent(
        """
        import json, threading, time
        from refundrules._conditions import Leaf
        from refundrules._engine import EngineRule, RuleEngine
        from refundrules.exceptions import EngineError

        rules = [EngineRule(f"over_{i}", i, Leaf("n", "gt", float(i), None, ()))
                 for i in range(100)]
        engine = RuleEngine("close-race", rules)
        counts = {"ok": 0, "wrong": 0, "closed": 0, "other": 0}
        lock = threading.Lock()
        go = threading.Event()

        def work(seed):
            go.wait()
            k = 0
            while True:
                n = float((seed * 37 + k) % 120)
                k += 1
                try:
                    got = engine.fire({"n": n})
                    key = "ok" if got == [f"over_{i}" for i in range(100) if n > i] else "wrong"
                except EngineError as exc:
                    key = "closed" if "closed" in str(exc) else "other"
                with lock:
                    counts[key] += 1
                if key != "ok":
                    return

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        go.set()
        time.sleep(0.3)
        engine.close()
        for thread in threads:
            thread.join(timeout=30)
        print(json.dumps(counts | {"alive": sum(t.is_alive() for t in threads)}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["alive"] == 0
    assert counts["wrong"] == 0 and counts["other"] == 0
    assert counts["closed"] == 4 and counts["ok"] > 0


def test_engine_pickles_to_a_fresh_open_engine() -> None:
    with RuleEngine("pickled", MANY_RULES) as engine:
        clone = pickle.loads(pickle.dumps(engine))
        assert set(clone._names).isdisjoint(engine._names)
        for n in (-1.0, 0.5, 42.0, 99.5, 1000.0):
            assert clone.fire({"n": n}) == engine.fire({"n": n})
    assert engine.closed
    reopened = pickle.loads(pickle.dumps(engine))  # a closed engine unpickles open
    assert not reopened.closed and reopened.fire({"n": 1.5}) == ["over_0", "over_1"]
    for copied in (reopened, clone, copy.deepcopy(reopened)):
        copied.close()
