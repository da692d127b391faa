"""Regression tests for the durable-rules hazards that ``refundrules._engine`` contains.

One test (or a small group) per hazard of durable-rules 2.0.28 (listed in
``docs/architecture.md``, "Engine containment"). Every test
drives the real durable-rules engine (no mocks) and its docstring says which containment it
guards and how it would fail if that containment were removed. Tests that could crash or hang
the interpreter when a containment regresses run in a subprocess with a timeout, so a
regression fails the test instead of killing or hanging the suite.

The last tests guard bugs found while writing this file (a rule reported once per true
``$or`` branch, the over-budget error blaming a prefix-named rule, split engines losing agenda
order, wrongly typed facts on the public ``fire`` path); they were fixed in ``_engine`` and
``_rulepack``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import durable_rules_engine
import pytest
from durable import engine as durable_engine

from refundrules import Case, Prediction, RulePack, load_rule_pack
from refundrules._conditions import AllOf, AnyOf, Condition, Leaf
from refundrules._engine import (
    _SESSION_ID,
    CASE_KIND,
    MAX_PATHS_PER_RULESET,
    EngineRule,
    RuleEngine,
    _DurableRule,
    _SynchronousHost,
    partition_rules,
    to_durable,
)
from refundrules._registry import installed_profiles
from refundrules.exceptions import EngineError, RefundRulesError, RulePackError

DECISION_FACTS = installed_profiles()["pinduoduo"].decision_facts

ROOT = Path(__file__).resolve().parents[1]
PDD_PACK = ROOT / "rules" / "pinduoduo"
CST = timezone(timedelta(hours=8))
REQUESTED_AT = datetime(2025, 3, 4, 8, 0, tzinfo=CST)
SUBPROCESS_TIMEOUT = 60.0

# --- helpers -------------------------------------------------------------------------------


def _leaf(fact: str, op: str, value: Any) -> Leaf:
    """A condition leaf as the loader builds one (no parameter, no YAML location)."""
    return Leaf(fact=fact, op=op, value=value, param=None, key_path=())


def _rule(rule_id: str, priority: int, condition: Condition) -> EngineRule:
    return EngineRule(rule_id=rule_id, priority=priority, condition=condition)


Predicate = Callable[[Mapping[str, Any]], bool]


def _sample_rules() -> list[tuple[EngineRule, Predicate]]:
    """A small mixed rule set with, for each rule, the same test written in plain Python."""
    specs: list[tuple[str, Condition, Predicate]] = []
    for threshold in range(0, 1000, 100):
        specs.append(
            (
                f"over_{threshold}",
                _leaf("n", "gt", float(threshold)),
                lambda f, t=threshold: f["n"] > t,
            )
        )
    for code in ("a", "b", "c"):
        specs.append((f"code_{code}", _leaf("code", "eq", code), lambda f, c=code: f["code"] == c))
    specs.append(("flagged", _leaf("flag", "eq", True), lambda f: f["flag"] is True))
    specs.append(("not_code_a", _leaf("code", "ne", "a"), lambda f: f["code"] != "a"))
    specs.append(
        (
            "big_and_flagged",
            AllOf((_leaf("n", "gte", 1500.0), _leaf("flag", "eq", True))),
            lambda f: f["n"] >= 1500 and f["flag"] is True,
        )
    )
    return [
        (_rule(rule_id, index, condition), predicate)
        for index, (rule_id, condition, predicate) in enumerate(specs)
    ]


def _sample_case(i: int) -> dict[str, Any]:
    return {"n": float(i), "code": "abcd"[i % 4], "flag": i % 3 == 0}


def _expected(rules: list[tuple[EngineRule, Predicate]], facts: Mapping[str, Any]) -> list[str]:
    """Ids of the rules whose Python predicate holds, in priority order (the agenda order)."""
    ordered = sorted(rules, key=lambda pair: pair[0].priority)
    return [rule.rule_id for rule, predicate in ordered if predicate(facts)]


def _run_python(
    code: str, tmp_path: Path, timeout: float = SUBPROCESS_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; a hang fails the test instead of hanging pytest."""
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(os.environ),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"the subprocess did not finish within {timeout:.0f} s (engine hang?); "
            f"stdout so far: {exc.stdout!r}"
        )


def _assert_clean_exit(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, (
        f"subprocess exited with {result.returncode} "
        f"({'killed by signal ' + str(-result.returncode) if result.returncode < 0 else 'error'})"
        f"\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-4000:]}"
    )
    last = result.stdout.strip().splitlines()[-1]
    summary: dict[str, Any] = json.loads(last)
    return summary


CASE_01: dict[str, Any] = {
    "case_id": "hazard-awaiting",
    "platform": "pinduoduo",
    "order": {
        "order_id": "PDD-H-1",
        "paid_amount": "39.90",
        "paid_at": "2025-03-01T20:15:00+08:00",
        "shipped_at": "2025-03-02T10:00:00+08:00",
        "delivered_at": "2025-03-04T07:30:00+08:00",
    },
    "request": {
        "kind": "refund_only",
        "reason": "damaged",
        "amount": "39.90",
        "requested_at": REQUESTED_AT.isoformat(),
    },
    "evidence": [{"party": "buyer", "kind": "photo", "submitted_at": "2025-03-04T08:01:00+08:00"}],
    "logistics": {"status": "signed", "carrier_pickup_at": "2025-03-02T15:00:00+08:00"},
}


def _case(
    case_id: str = "hazard", *, paid: str | None = None, timeline: list[Any] | None = None
) -> Case:
    """The example-01 case (refund-only, damaged, seller silent), optionally varied."""
    data = json.loads(json.dumps(CASE_01))
    data["case_id"] = case_id
    if paid is not None:
        data["order"]["paid_amount"] = paid
        data["request"]["amount"] = paid
    if timeline is not None:
        data["timeline"] = timeline
    return Case.model_validate(data)


def _hours_after_request(hours: float) -> datetime:
    return REQUESTED_AT + timedelta(hours=hours)


def _copy_pack(tmp_path: Path, name: str = "pdd") -> Path:
    target = tmp_path / name
    shutil.copytree(PDD_PACK, target)
    return target


def _edit(pack_dir: Path, relative: str, old: str, new: str) -> int:
    """Replace the single occurrence of ``old`` in a pack file; return its 1-based line."""
    path = pack_dir / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{relative} should contain {old!r} exactly once"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return line


def _add_rules_file(pack_dir: Path, name: str, body: str) -> Path:
    path = pack_dir / "rules" / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pdd() -> RulePack:
    return load_rule_pack("pinduoduo")


# --- 1. crash on delete_state ---------------------------------------------------------------


def test_fresh_process_first_case_matching_nothing_does_not_crash(tmp_path: Path) -> None:
    """Containment: one fixed session id per ruleset, the case retracted in ``finally``, never
    ``delete_state``.

    Without it (a fresh sid per case cleaned up with ``delete_state``), deleting the session of
    a first case on which no action ever ran frees uninitialised memory: the child process dies
    with SIGSEGV/SIGABRT (negative return code). The spy on ``Ruleset.delete_state`` makes the
    failure deterministic even when the heap happens to survive.
    """
    result = _run_python(
        """
        import json
        from durable import engine as durable_engine
        from refundrules._conditions import Leaf
        from refundrules._engine import EngineRule, RuleEngine

        deletes = []
        original = durable_engine.Ruleset.delete_state

        def spy(self, sid):
            deletes.append(sid)
            return original(self, sid)

        durable_engine.Ruleset.delete_state = spy
        thresholds = list(range(0, 600, 10))            # 60 rules: more than one ruleset
        rules = [EngineRule(f"over_{t}", i, Leaf("n", "gt", float(t), None, ()))
                 for i, t in enumerate(thresholds)]
        engine = RuleEngine("fresh-process", rules, cache_size=0)
        values = [-1.0, -7.0, 15.0, -2.0, 605.0, -3.0, 0.0]  # the FIRST case matches no rule
        wrong = 0
        for k in range(3000):
            n = values[k % len(values)] * (1 + (k // len(values)) % 5)
            got = engine.fire({"n": n})
            if got != [f"over_{t}" for t in thresholds if n > t]:
                wrong += 1
        print(json.dumps({"cases": 3000, "wrong": wrong, "deletes": len(deletes),
                          "rulesets": engine.ruleset_count}))
    """,
        tmp_path,
    )
    summary = _assert_clean_exit(result)
    assert summary["cases"] == 3000
    assert summary["wrong"] == 0
    assert summary["deletes"] == 0
    assert summary["rulesets"] > 1


# --- 2. live-session cap ---------------------------------------------------------------------


def test_thousands_of_distinct_cases_through_one_engine() -> None:
    """Containment: one live session per ruleset (fixed sid, case fact retracted after each
    call).

    Without it, a session per case leaves live sessions behind: durable refuses the 1,025th
    with a bare ``MemoryError`` (raised here as EngineError) and then corrupts memory; without
    the retraction the next case's fact (same id) is "already observed" and fires nothing. Both
    make results wrong long before 3,000 cases.
    """
    rules = _sample_rules()
    engine = RuleEngine("live-session-cap", [rule for rule, _ in rules], cache_size=0)
    wrong = []
    for i in range(3000):
        facts = _sample_case(i)
        got = engine.fire(facts)
        if got != _expected(rules, facts):
            wrong.append((i, got))
    assert wrong == []
    host = engine._host
    assert host is not None
    for name in engine._names:  # nothing of any case is left in the engine
        assert host.get_facts(name, _SESSION_ID) == []
    engine.close()


# --- 3. background dispatcher ----------------------------------------------------------------


def test_engines_start_no_dispatcher_threads() -> None:
    """Containment: a private ``Host`` subclass whose ``_run`` does nothing.

    durable's default ``Host.__init__`` starts two self-re-arming ``threading.Timer`` loops
    that can run actions on another thread and crashed threaded runs; with the stock host,
    building engines would add threads to ``threading.enumerate()`` and the host's class would
    not be ``_SynchronousHost``.
    """
    before = {thread.ident for thread in threading.enumerate()}
    engines = [RuleEngine(f"threads-{i}", [rule for rule, _ in _sample_rules()], cache_size=0) for i in range(3)]
    pack = load_rule_pack("pinduoduo")
    try:
        for engine in engines:
            assert engine.fire(_sample_case(2000))  # used, not only built
        pack.predict(_case(), _hours_after_request(28))
        hosts = [engine._host for engine in engines]
        hosts += [pack.latest._compiled().decision._host]
        for host in hosts:
            assert type(host) is _SynchronousHost
            assert isinstance(host, durable_engine.Host)
            assert host._run() is None
            assert not hasattr(host, "_d_timer")
            assert not hasattr(host, "_t_timer")
        assert _SynchronousHost._run is not durable_engine.Host._run
        new_threads = [
            f"{thread.name} ({type(thread).__name__})"
            for thread in threading.enumerate()
            if thread.ident not in before
        ]
        assert new_threads == []
    finally:
        for engine in engines:
            engine.close()
        pack.close()


def test_threads_sharing_one_engine_get_correct_results() -> None:
    """Containment: a lock per engine around the assert/actions/retract sequence on the
    private host (no dispatcher thread runs actions behind the caller's back).

    Without the lock, threads interleave on the one shared session: a second thread's fact
    with the same id is "already observed", actions land in another call's list, and durable
    reports error 111 — wrong results and EngineErrors in almost every run at this size.
    """
    rules = _sample_rules()
    engine = RuleEngine("threads", [rule for rule, _ in rules], cache_size=0)
    wrong: list[tuple[int, int, list[str]]] = []
    errors: list[BaseException] = []
    per_thread = 1500

    def work(seed: int) -> None:
        for k in range(per_thread):
            facts = _sample_case((k * 7 + seed * 131) % 2100)
            try:
                got = engine.fire(facts)
            except BaseException as exc:
                errors.append(exc)
                continue
            if got != _expected(rules, facts):
                wrong.append((seed, k, got))

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert wrong == []
    engine.close()


# --- 4. the engine's own state fact ---------------------------------------------------------


def test_absence_only_rule_fires_once_and_returns(tmp_path: Path) -> None:
    """Containment: every rule is ANDed with ``{"$kind": CASE_KIND}``, which only case facts
    carry.

    durable re-asserts its per-session state record after every action. A rule that only tests
    absence (``$nex``) matches that record too, so without the discriminator the first firing
    re-triggers the rule forever (the subprocess would hang and hit the timeout, growing by
    GBs). With it, each rule fires exactly once per case. Our condition trees have no
    absence test, so the rules are given to the engine in durable's form directly.
    """
    result = _run_python(
        """
        import json
        from refundrules._engine import RuleEngine, _DurableRule

        engine = RuleEngine._from_durable("state-fact", [
            _DurableRule("x_absent", 0, {"$nex": {"x": 1}}, 1, 1),
            _DurableRule("x_not_one", 1, {"$neq": {"x": 1.0}}, 1, 1),
        ])
        runs = [engine.fire({"y": 2.0}), engine.fire({"x": 2.0}), engine.fire({"x": 1.0}),
                engine.fire({"y": 3.0})]
        print(json.dumps(runs))
    """,
        tmp_path,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    runs = json.loads(result.stdout.strip().splitlines()[-1])
    assert runs == [["x_absent"], ["x_not_one"], [], ["x_absent"]]


def test_rules_are_compiled_with_the_case_discriminator() -> None:
    """Containment (structural half of the test above): the registered durable definition of
    every rule is ``$and`` of the discriminator and the rule's condition. Removing it fails
    here without needing a hang."""
    engine = RuleEngine._from_durable(
        "discriminator", [_DurableRule("x_absent", 0, {"$nex": {"x": 1}}, 1, 1)]
    )
    host = engine._host
    assert host is not None
    definition = host._ruleset_directory[engine._names[0]].get_definition()
    condition = definition["x_absent"]["all"][0]["m"]
    assert condition == {"$and": [{"$kind": CASE_KIND}, {"$nex": {"x": 1}}]}
    engine.close()


# --- 5. text comparison of mixed types ----------------------------------------------------------


MIXED_TYPE_EDITS = [
    pytest.param(
        "rules/10_closed.yaml",
        "{fact: seller_silence_hours, gte: {param: seller_response_window_hours}}",
        '{fact: seller_silence_hours, gte: "48"}',
        "seller_timeout_system_agrees",
        "number fact",
        id="number-fact-vs-string",
    ),
    pytest.param(
        "rules/10_closed.yaml",
        "{fact: seller_silence_hours, gte: {param: seller_response_window_hours}}",
        "{fact: seller_silence_hours, gte: 48}",
        "seller_timeout_system_agrees",
        "number fact",
        id="number-fact-vs-bare-number",
    ),
    pytest.param(
        "rules/20_seller_response.yaml",
        "{fact: request_kind, eq: refund_only}",
        "{fact: request_kind, eq: 1}",
        "seller_agreed_refund",
        "not a value of 'request_kind'",
        id="text-fact-vs-number",
    ),
    pytest.param(
        "rules/20_seller_response.yaml",
        "{fact: seller_response, eq: agreed}",
        "{fact: seller_response, eq: agred}",
        "seller_agreed_refund",
        "not a value of 'seller_response'",
        id="text-fact-unknown-value",
    ),
    pytest.param(
        "rules/20_seller_response.yaml",
        "{fact: offer_status, eq: accepted}",
        '{fact: offer_status, eq: "true"}',
        "partial_offer_accepted",
        "not a value of 'offer_status'",
        id="text-fact-vs-boolean-text",
    ),
]


@pytest.mark.parametrize(("relative", "old", "new", "rule_id", "message"), MIXED_TYPE_EDITS)
def test_pack_rejects_mixed_type_comparisons(
    tmp_path: Path, relative: str, old: str, new: str, rule_id: str, message: str
) -> None:
    """Containment: conditions are type-checked against the declared facts at load time
    (``_conditions.check_condition``), so no wrongly typed operand reaches durable, which would
    compare it as text (``"9" > 50`` is true) or never match it.

    Without the check these packs would load, and the rule would silently misfire.
    """
    pack_dir = _copy_pack(tmp_path)
    line = _edit(pack_dir, relative, old, new)
    with pytest.raises(RulePackError) as caught:
        load_rule_pack(pack_dir)
    error = caught.value
    assert message in error.message
    assert error.rule_id == rule_id
    assert error.path is not None and error.path.endswith(relative.split("/")[-1])
    assert error.line == line


def test_engine_compares_numbers_as_numbers(pdd: RulePack) -> None:
    """Containment: facts are typed (every number fact is a float) before they reach durable,
    and thresholds compile to numbers.

    durable compares a text value with a number as text. The bundled low-value rule tests
    ``paid_amount <= low_value_threshold (50)``: as text, ``"9.0" <= "50.0"`` is false and
    ``"100.0" <= "50.0"`` is true, so text on either side inverts both predictions below.
    The last block shows the raw engine (no refundrules layer) really has the hazard.
    """
    rule_id = "recommend_refund_without_return_low_value"
    compiled = to_durable(pdd.rule(rule_id).condition)
    threshold = [leaf for leaf in compiled["$and"] if "$lte" in leaf]
    assert threshold == [{"$lte": {"paid_amount": 50.0}}]
    assert type(threshold[0]["$lte"]["paid_amount"]) is float

    as_of = _hours_after_request(28)
    cheap = _case("cheap", paid="9.00")
    dear = _case("dear", paid="100.00")
    for case in (cheap, dear):
        facts = pdd.facts(case, as_of)
        for name, spec in DECISION_FACTS.items():
            if spec.kind == "number":
                assert type(facts[name]) is float, name
    assert rule_id in pdd.predict(cheap, as_of).fired_rules
    assert rule_id not in pdd.predict(dear, as_of).fired_rules
    assert rule_id in pdd.fire(pdd.facts(cheap, as_of))
    assert rule_id not in pdd.fire(pdd.facts(dear, as_of))

    engine = RuleEngine("numbers", [_rule("over_50", 0, _leaf("n", "gt", 50.0))], cache_size=0)
    assert engine.fire({"n": 9.0}) == []
    assert engine.fire({"n": 9}) == []
    assert engine.fire({"n": 100.0}) == ["over_50"]
    engine.close()

    # The hazard itself, on a bare durable host: "9" > 50 compares as text and matches.
    host = _SynchronousHost()
    seen: list[Any] = []
    name = "text-comparison-canary"
    host.register_rulesets(
        {
            name: {
                "over_50": {"all": [{"m": {"$gt": {"n": 50}}}], "run": lambda c: seen.append(c.m.n)}
            }
        }
    )
    host.assert_fact(name, {"sid": "canary", "id": "fact", "n": "9"})
    host.retract_fact(name, {"sid": "canary", "id": "fact"})
    durable_rules_engine.delete_ruleset(host._ruleset_directory.pop(name)._handle)
    assert seen == ["9"]


def test_public_fire_does_not_compare_a_text_number_as_text(pdd: RulePack) -> None:
    """``RulePack.fire`` is public (docs/python-api.md): a number fact given as text must be
    refused (a RefundRulesError) or compared as a number, never compared as text."""
    rule_id = "recommend_refund_without_return_low_value"
    facts = dict(pdd.facts(_case("dear", paid="100.00"), _hours_after_request(28)))
    facts["paid_amount"] = "100.00"
    try:
        fired = pdd.fire(facts)
    except RefundRulesError:
        return
    assert rule_id not in fired


# --- 6. unknown fields and operators ------------------------------------------------------------


UNKNOWN_NAME_EDITS = [
    pytest.param(
        "{fact: seller_silence_hours, lt: {param: seller_response_window_hours}}",
        "{fact: seller_silence_hour, lt: {param: seller_response_window_hours}}",
        "unknown fact 'seller_silence_hour'",
        "'seller_silence_hours'",
        id="unknown-fact",
    ),
    pytest.param(
        "{fact: seller_silence_hours, lt: {param: seller_response_window_hours}}",
        "{fact: seller_silence_hours, lt: {param: seller_response_window_hour}}",
        "unknown parameter 'seller_response_window_hour'",
        "'seller_response_window_hours'",
        id="unknown-parameter",
    ),
    pytest.param(
        "{fact: seller_response, eq: none}",
        "{fact: seller_response, nee: none}",
        "exactly one operator",
        "'ne'",
        id="unknown-operator-nee",
    ),
    pytest.param(
        "{fact: seller_response, eq: none}",
        "{fact: seller_response, $ne: none}",
        "exactly one operator",
        "'ne'",
        id="durable-style-operator-$ne",
    ),
    pytest.param(
        "{fact: seller_response, eq: none}",
        "{fact: seller_response, gtee: none}",
        "exactly one operator",
        "'gte'",
        id="unknown-operator-gtee",
    ),
]


@pytest.mark.parametrize(("old", "new", "message", "suggestion"), UNKNOWN_NAME_EDITS)
def test_unknown_fact_or_operator_is_rejected_with_location(
    tmp_path: Path, old: str, new: str, message: str, suggestion: str
) -> None:
    """Containment: the loader validates every condition against the declared facts, the
    operator whitelist and the parameters, and reports the file, line and rule id.

    durable accepts a misspelled field and never matches it, accepts ``{"$ne": {"x": "a"}}``
    and never matches it, or fails with a bare "error code 202" naming no rule. Without the
    validation these packs would load and silently never fire ``awaiting_seller_response``.
    """
    pack_dir = _copy_pack(tmp_path)
    line = _edit(pack_dir, "rules/20_seller_response.yaml", old, new)
    with pytest.raises(RulePackError) as caught:
        load_rule_pack(pack_dir)
    error = caught.value
    assert message in error.message
    assert error.rule_id == "awaiting_seller_response"
    assert error.path is not None and error.path.endswith("20_seller_response.yaml")
    assert error.line == line
    assert error.hint == f"did you mean {suggestion}?"
    rendered = str(error)
    assert f"20_seller_response.yaml:{line}:" in rendered
    assert "'awaiting_seller_response'" in rendered
    assert "did you mean" in rendered


# --- 7. 64 simultaneous matches ----------------------------------------------------------------


def test_two_hundred_simultaneous_matches_are_split_across_rulesets() -> None:
    """Containment: ``partition_rules`` splits rules into rulesets whose match paths plus
    depth stay within ``MAX_PATHS_PER_RULESET``.

    One durable ruleset fails the whole assert with error 303 when a fact satisfies more than
    64 conditions at once. Without the split, the 200 rules would share one ruleset and the
    case matching all of them would raise EngineError (error 303) instead of returning 200 ids.
    """
    rules = [_rule(f"over_{i}", i, _leaf("n", "gt", float(i))) for i in range(200)]
    engine = RuleEngine("sixty-four", rules, cache_size=0)
    groups = partition_rules(rules)
    assert engine.ruleset_count == len(groups) > 1
    for group in groups:
        assert (
            sum(rule.paths for rule in group) + max(rule.depth for rule in group)
            <= MAX_PATHS_PER_RULESET
        )
    assert [rule.rule_id for group in groups for rule in group] == [r.rule_id for r in rules]
    assert engine.fire({"n": 1000.0}) == [rule.rule_id for rule in rules]
    assert engine.fire({"n": 100.5}) == [f"over_{i}" for i in range(101)]
    assert engine.fire({"n": -1.0}) == []
    engine.close()


def test_pack_sized_rules_split_and_evaluate() -> None:
    """Containment: a pack whose decision rules exceed one ruleset's budget is split (the
    bundled pack already is) and still evaluates to the same prediction."""
    pack = load_rule_pack("pinduoduo")
    assert pack.latest._compiled().decision.ruleset_count > 1
    prediction = pack.predict(_case(), _hours_after_request(28))
    assert prediction.stage.value == "awaiting_seller"
    pack.close()


def test_rule_over_the_path_budget_is_rejected() -> None:
    """Containment: a single rule whose paths + depth exceed ``MAX_PATHS_PER_RULESET`` cannot
    be split, so ``partition_rules`` refuses it with ValueError naming the rule.

    Without the check it would be registered and any case satisfying its alternatives would
    hit error 303 (or, with >= 512 alternatives, hang) at evaluation time.
    """
    at_limit = _rule(
        "at_limit",
        0,
        AnyOf(tuple(_leaf("n", "gt", float(i)) for i in range(MAX_PATHS_PER_RULESET - 1))),
    )
    assert partition_rules([at_limit]) == [[at_limit]]
    over = _rule(
        "too_wide",
        1,
        AnyOf(tuple(_leaf("n", "gt", float(i)) for i in range(MAX_PATHS_PER_RULESET))),
    )
    deep = _rule(
        "too_deep",
        2,
        AllOf(tuple(_leaf("n", "gt", float(i)) for i in range(MAX_PATHS_PER_RULESET))),
    )
    assert (at_limit.paths, at_limit.depth) == (MAX_PATHS_PER_RULESET - 1, 1)
    assert (over.paths, over.depth) == (MAX_PATHS_PER_RULESET, 1)
    assert (deep.paths, deep.depth) == (1, MAX_PATHS_PER_RULESET)
    for rule in (over, deep):
        with pytest.raises(ValueError, match=rule.rule_id):
            partition_rules([at_limit, rule])
        with pytest.raises(ValueError, match=rule.rule_id):
            RuleEngine("over-budget", [rule])


WIDE_RULE = """\
    # A rule with 8 x 9 = 72 match paths: over the engine's budget.
    rules:
      - id: {rule_id}
        title: {{en: "Too many alternatives", zh: 备选条件过多}}
        priority: 990
        when:
          all:
            - {{fact: request_reason, in: [quality_problem, not_as_described, damaged, wrong_item, missing_part, not_received, no_reason_7_day, changed_mind]}}
            - {{fact: seller_refusal_reason, in: [none, package_opened, buyer_subjectively_unhappy, cannot_resell, goods_as_described, delivered_and_signed, outside_return_period, excluded_from_no_reason_return, other]}}
        then:
          recommend:
            - {{action: keep_evidence, why: "Test rule."}}
        sources: [seed_refund]
    """


def test_pack_rule_over_the_path_budget_is_rejected_at_load(tmp_path: Path) -> None:
    """Containment: the same budget check, surfaced by the loader as RulePackError with the
    rule's id, file and line. Without it the pack would load and fail (error 303) or hang
    at evaluation time."""
    pack_dir = _copy_pack(tmp_path)
    path = _add_rules_file(pack_dir, "80_wide.yaml", WIDE_RULE.format(rule_id="zz_wide_rule"))
    with pytest.raises(RulePackError) as caught:
        load_rule_pack(pack_dir)
    error = caught.value
    assert error.rule_id == "zz_wide_rule"
    assert error.path is not None and error.path.endswith(path.name)
    assert error.line == 3
    assert "72 match paths" in error.message


def test_over_budget_error_names_the_offending_rule_not_a_prefix(tmp_path: Path) -> None:
    """The over-budget error must name the offending rule even when another rule's id is a
    prefix of it."""
    pack_dir = _copy_pack(tmp_path)
    path = _add_rules_file(
        pack_dir, "80_wide.yaml", WIDE_RULE.format(rule_id="buyer_cancelled_request_wide")
    )
    with pytest.raises(RulePackError) as caught:
        load_rule_pack(pack_dir)
    error = caught.value
    assert error.rule_id == "buyer_cancelled_request_wide"
    assert error.path is not None and error.path.endswith(path.name)
    assert error.line == 3


def test_split_engine_returns_ids_in_agenda_order() -> None:
    """Splitting for the 64-match limit must not change the documented agenda order."""
    rules = [_rule(f"r{i}", 1000 - i, _leaf("n", "gt", float(i))) for i in range(100)]
    engine = RuleEngine("agenda", rules, cache_size=0)
    assert engine.ruleset_count > 1
    expected = [rule.rule_id for rule in sorted(rules, key=lambda rule: rule.priority)]
    try:
        assert engine.fire({"n": 1000.0}) == expected
    finally:
        engine.close()


# --- 8. 512 sibling tests ------------------------------------------------------------------------


def test_six_hundred_sibling_equality_tests_register_and_evaluate(tmp_path: Path) -> None:
    """Containment: the path budget also keeps every node under durable's 512-children table.

    600 rules ``code == i`` in one ruleset hang ``register_rulesets`` forever (an infinite
    probe loop in the C engine). Without the split the subprocess would time out; with it they
    register across several rulesets and each code fires exactly its rule.
    """
    result = _run_python(
        """
        import json
        from refundrules._conditions import Leaf
        from refundrules._engine import EngineRule, RuleEngine

        rules = [EngineRule(f"code_{i}", i, Leaf("code", "eq", float(i), None, ()))
                 for i in range(600)]
        engine = RuleEngine("siblings", rules, cache_size=0)
        wrong = []
        for code in [*range(600), 600, 1000, -1]:
            got = engine.fire({"code": float(code)})
            if got != ([f"code_{code}"] if 0 <= code < 600 else []):
                wrong.append([code, got])
        print(json.dumps({"rulesets": engine.ruleset_count, "wrong": wrong}))
    """,
        tmp_path,
        timeout=30,
    )
    summary = _assert_clean_exit(result)
    assert summary["wrong"] == []
    assert summary["rulesets"] > 1


# --- 9. swallowed action errors / engine errors ---------------------------------------------------


def test_engine_error_is_raised_and_the_next_case_is_clean() -> None:
    """Containment: durable's own errors are raised as EngineError (a RefundRulesError) and
    the engine is rebuilt before the error leaves ``fire``.

    A fact with 300 properties makes durable fail the assert (error 302). Without the
    containment the caller would get durable's bare error type; the following cases must
    evaluate exactly as on a fresh engine.
    """
    rules = _sample_rules()
    engine = RuleEngine("errors", [rule for rule, _ in rules], cache_size=0)
    assert engine.fire(_sample_case(1200)) == _expected(rules, _sample_case(1200))
    too_wide = {f"extra_{i}": 1.0 for i in range(300)} | _sample_case(2000)
    with pytest.raises(EngineError) as caught:
        engine.fire(too_wide)
    assert isinstance(caught.value, RefundRulesError)
    assert "302" in str(caught.value)
    assert caught.value.__cause__ is not None
    for i in (1200, 7, 2000, 1501, 0):
        assert engine.fire(_sample_case(i)) == _expected(rules, _sample_case(i))
    engine.close()


class _FailingActionEngine(RuleEngine):
    """A RuleEngine whose actions raise inside durable while ``fail_next`` is set."""

    fail_next = False

    def _action(self, rule_id: str) -> Callable[[Any], None]:
        record = super()._action(rule_id)

        def action(context: Any) -> None:
            if self.fail_next:
                self.fail_next = False
                raise RuntimeError("action exploded")
            record(context)

        return action


def test_swallowed_action_error_is_raised_and_does_not_leak() -> None:
    """Containment: an error stored in the session state (durable swallows action exceptions
    into ``state["exception"]``) is raised as EngineError, and the rulesets are rebuilt.

    Without the state check, ``fire`` would return a silently truncated list; without the
    rebuild, the exception stays in the shared session's state and every later case fails
    too (and abandoned activations could fire in the next case).
    """
    rules = _sample_rules()
    engine = _FailingActionEngine("action-errors", [rule for rule, _ in rules], cache_size=0)
    engine.fail_next = True
    with pytest.raises(EngineError, match="action exploded"):
        engine.fire(_sample_case(1800))
    for i in (1800, 3, 950, 1500, 0):
        assert engine.fire(_sample_case(i)) == _expected(rules, _sample_case(i))
    engine.close()


def test_engine_failure_mid_case_is_isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Containment: any exception from the C engine during a case becomes EngineError, the case
    fact is retracted in ``finally`` and the engine is rebuilt, so nothing of the failed case
    reaches the next one.

    Here the C extension's ``assert_fact`` stores and fires the case in the second ruleset,
    then raises. Without the wrapping the caller gets a bare RuntimeError; without both the
    retraction and the rebuild the stored fact makes the next case "already observed" in that
    ruleset, so its rules would not fire.
    """
    rules = [_rule(f"over_{i}", i, _leaf("n", "gt", float(i))) for i in range(100)]
    engine = RuleEngine("engine-failure", rules, cache_size=0)
    assert engine.ruleset_count > 1
    host = engine._host
    assert host is not None
    second = engine._handles[1]
    original = durable_rules_engine.assert_fact

    def flaky(handle: int, payload: str) -> Any:
        result = original(handle, payload)
        if handle == second:
            raise RuntimeError("engine failed")
        return result

    monkeypatch.setattr(durable_rules_engine, "assert_fact", flaky)
    with pytest.raises(EngineError, match="engine failed"):
        engine.fire({"n": 1000.0})
    monkeypatch.undo()
    assert engine._host is not host
    assert engine.fire({"n": 1000.0}) == [rule.rule_id for rule in rules]
    assert engine.fire({"n": 10.5}) == [f"over_{i}" for i in range(11)]
    engine.close()


def test_a_fact_left_behind_is_an_error_not_a_silent_empty_answer() -> None:
    """Containment: if a case's fact were still stored (a retraction that did not happen),
    durable answers the next identical assert with "already observed" and fires nothing. The
    adapter raises EngineError for that and rebuilds, so the case after it is answered right.
    """
    engine = RuleEngine("left-behind", [_rule("big", 0, _leaf("n", "gt", 1.0))], cache_size=0)
    handle = engine._handles[0]
    fact = {"n": 5.0, "sid": _SESSION_ID, "id": "case", "$kind": CASE_KIND}
    durable_rules_engine.assert_fact(handle, json.dumps(fact))  # stored, never retracted
    with pytest.raises(EngineError, match="already seen"):
        engine.fire({"n": 5.0})
    assert engine.fire({"n": 5.0}) == ["big"]
    engine.close()


def test_reserved_fact_names_are_refused() -> None:
    """Containment: ``sid``, ``id`` and the discriminator are engine-owned; a case fact using
    them would move the case to another session or fake the discriminator, so ``fire``
    refuses them with EngineError."""
    engine = RuleEngine("reserved", [_rule("any_n", 0, _leaf("n", "gt", 0.0))], cache_size=0)
    for name in ("sid", "id", "$kind"):
        with pytest.raises(EngineError, match="reserved"):
            engine.fire({"n": 1.0, name: "x"})
    assert engine.fire({"n": 1.0}) == ["any_n"]
    engine.close()


# --- 10. duplicate ruleset names / side-by-side versions / unload -------------------------------


def test_two_pack_versions_side_by_side(tmp_path: Path, pdd: RulePack) -> None:
    """Containment: unique ruleset names per compiled engine, one private host each.

    Two versions of the Pinduoduo pack are loaded in one process; at 30 h after the request
    the 48 h window still awaits the seller and the 24 h window has closed. If the versions
    shared rulesets (or a second registration were refused as a duplicate), loading the
    second would fail or both would answer alike.
    """
    pack_dir = _copy_pack(tmp_path, "pdd_24h")
    _edit(
        pack_dir,
        "parameters.yaml",
        "seller_response_window_hours:\n    value: 48",
        "seller_response_window_hours:\n    value: 24",
    )
    _edit(pack_dir, "pack.yaml", f'version: "{pdd.ref.version}"', 'version: "99.0.0"')
    short = load_rule_pack(pack_dir)
    try:
        assert short.ref.version == "99.0.0"
        assert short.ref.content_hash != pdd.ref.content_hash
        names_long = set(pdd.latest._compiled().decision._names)
        names_short = set(short.latest._compiled().decision._names)
        assert names_long.isdisjoint(names_short)
        case = _case("side-by-side")
        as_of = _hours_after_request(30)
        for _ in range(3):  # interleaved, repeatedly
            assert pdd.predict(case, as_of).stage.value == "awaiting_seller"
            assert short.predict(case, as_of).stage.value == "closed"
    finally:
        short.close()


def test_same_pack_loaded_twice_and_close_frees_it(pdd: RulePack) -> None:
    """Containment: each load compiles its own uniquely named rulesets; ``close`` removes them
    from the host and frees them in the C engine (durable has no public unload).

    Without unique names the second load would be refused or share state with the first;
    without ``close`` freeing the rulesets, predicting on a closed pack would still work.
    """
    first = load_rule_pack("pinduoduo")
    second = load_rule_pack("pinduoduo")
    case = _case("twice")
    as_of = _hours_after_request(28)
    assert first.predict(case, as_of) == second.predict(case, as_of) == pdd.predict(case, as_of)
    assert set(first.latest._compiled().decision._names).isdisjoint(second.latest._compiled().decision._names)

    engine = first.latest._compiled().decision
    host = engine._host
    assert host is not None
    names = list(engine._names)
    first.close()
    assert engine._host is None and engine._names == []
    assert not any(name in host._ruleset_directory for name in names)
    assert host._ruleset_list == []
    with pytest.raises(EngineError):
        first.predict(case, as_of)
    first.close()  # closing twice is harmless
    assert second.predict(case, as_of) == pdd.predict(case, as_of)
    second.close()
    with pytest.raises(EngineError):
        second.predict(case, as_of)


# --- 11. no leakage between cases ------------------------------------------------------------------


def _varied_cases() -> list[tuple[Case, datetime]]:
    refused = [
        {
            "at": "2025-03-04T12:00:00+08:00",
            "actor": "seller",
            "kind": "seller_refused",
            "refusal_reason": "goods_as_described",
        },
        {"at": "2025-03-04T13:00:00+08:00", "actor": "buyer", "kind": "buyer_escalated"},
    ]
    agreed = [{"at": "2025-03-04T09:00:00+08:00", "actor": "seller", "kind": "seller_agreed"}]
    cancelled = [{"at": "2025-03-04T09:30:00+08:00", "actor": "buyer", "kind": "buyer_cancelled"}]
    return [
        (_case("awaiting"), _hours_after_request(28)),
        (_case("timed-out"), _hours_after_request(50)),
        (_case("agreed", timeline=agreed), _hours_after_request(5)),
        (_case("escalated", timeline=refused, paid="80.00"), _hours_after_request(20)),
        (_case("cheap", paid="9.00"), _hours_after_request(2)),
        (_case("cancelled", timeline=cancelled), _hours_after_request(3)),
        (_case("early"), _hours_after_request(0.5)),
    ]


def test_case_a_then_b_then_a_gives_identical_results(pdd: RulePack) -> None:
    """Containment: the case fact is retracted after every call (one reused session, fact id
    ``"case"``), so nothing of one case is visible to the next.

    Without the retraction B's fact would be "already observed" (same id) and fire nothing,
    or A's matches would still be pending when B is asserted; A's second prediction would
    then differ from its first.
    """
    a, a_at = _case("case-a"), _hours_after_request(28)
    b, b_at = _varied_cases()[3]
    first_a = pdd.predict(a, a_at)
    first_b = pdd.predict(b, b_at)
    second_a = pdd.predict(a, a_at)
    assert first_a == second_a
    assert first_a.fired_rules != first_b.fired_rules
    assert pdd.predict(b, b_at) == first_b


def test_results_do_not_depend_on_case_order(pdd: RulePack) -> None:
    """Containment: one case per call with the fact retracted afterwards; results must be a
    function of the case alone. Leakage through the shared session would make a case's
    prediction depend on what was evaluated before it."""
    cases = _varied_cases()

    def run(order: list[int]) -> dict[int, Prediction]:
        return {index: pdd.predict(*cases[index]) for index in order}

    forward = run(list(range(len(cases))))
    stages = {prediction.stage.value for prediction in forward.values()}
    assert len(stages) >= 3  # the cases really differ
    backward = run(list(reversed(range(len(cases)))))
    shuffled_order = list(range(len(cases))) * 3
    random.Random(20250304).shuffle(shuffled_order)
    shuffled = run(shuffled_order)
    assert forward == backward == shuffled


def test_engine_level_results_do_not_depend_on_order() -> None:
    """Containment, at the adapter itself: the same facts give the same ids whatever was fired
    before, across split rulesets, and no fact is left in the session afterwards."""
    rules = _sample_rules()
    engine = RuleEngine("order", [rule for rule, _ in rules], cache_size=0)
    indices = list(range(0, 2100, 37))
    forward = {i: engine.fire(_sample_case(i)) for i in indices}
    shuffled = indices * 2
    random.Random(7).shuffle(shuffled)
    for i in shuffled:
        assert engine.fire(_sample_case(i)) == forward[i] == _expected(rules, _sample_case(i))
    engine.close()


# --- a bug found while writing these tests ---------------------------------------------------------


def test_rule_with_several_true_alternatives_is_reported_once() -> None:
    """A rule is one rule: when two of its alternatives hold, ``fire`` must list it once."""
    engine = RuleEngine(
        "alternatives",
        [
            _rule("either", 0, AnyOf((_leaf("a", "eq", True), _leaf("b", "eq", True)))),
        ],
        cache_size=0,
    )
    try:
        assert engine.fire({"a": True, "b": False}) == ["either"]
        assert engine.fire({"a": True, "b": True}) == ["either"]
    finally:
        engine.close()


EITHER_RULE = """\
    rules:
      - id: zz_compensate_either
        title: {en: "Shipped or delivered: compensation", zh: 已发货或已签收：赔付}
        priority: 990
        when:
          any:
            - {fact: order_shipped, eq: true}
            - {fact: goods_delivered, eq: true}
        then:
          compensation:
            - {what: Test compensation, amount: {param: late_shipment_compensation}}
        sources: [pdd_late_shipment]
    """


def test_any_rule_with_two_true_branches_counts_once_in_a_prediction(tmp_path: Path) -> None:
    """Through a pack: a compensation rule ``any: [shipped, delivered]`` on a shipped and
    delivered order must contribute one compensation, not two."""
    pack_dir = _copy_pack(tmp_path)
    _add_rules_file(pack_dir, "80_either.yaml", EITHER_RULE)
    pack = load_rule_pack(pack_dir)
    try:
        prediction = pack.predict(_case("either"), _hours_after_request(28))
        assert prediction.fired_rules.count("zz_compensate_either") == 1
        mine = [
            item
            for item in prediction.seller_consequences.compensation
            if item.rule_id == "zz_compensate_either"
        ]
        assert len(mine) == 1
    finally:
        pack.close()
