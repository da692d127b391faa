"""The only module that imports durable-rules: compile our condition trees, evaluate one case,
collect the firings, and own every durable-specific detail on the way.

The interface is small. :class:`EngineRule` is a rule as the rest of the package knows it (an
id, a priority, a :mod:`refundrules._conditions` tree); :class:`RuleEngine` compiles such
rules into durable's JSON form, splits them by the path budget, registers them and answers
``fire(facts)`` with the ids of the rules that matched; :func:`engine_number` is the one
number form facts and thresholds share. durable's JSON form, its limits and its number quirks
stay here.

durable-rules has hazards (see ``docs/architecture.md``, "Engine containment"); each is contained
here, and each containment has a regression test in ``tests/test_engine_hazards.py``:

* crash on ``delete_state`` and the 1,024 live-session cap: one fixed session id per ruleset;
  a case is asserted as a fact with ``id: "case"`` and retracted in ``finally``; no
  ``delete_state``, ever;
* background dispatcher threads: a private ``Host`` whose ``_run`` does nothing; the host
  only registers the rulesets, cases are driven through the C extension directly (one JSON
  text per case; activations taken with ``start_action_for_state`` /
  ``complete_and_start_action``, no per-action JSON round trips, no state re-assertion);
* the engine's own state fact: every rule is ANDed with a discriminator only case facts carry;
* swallowed action errors: actions only append a rule id, and run in our own activation loop:
  one that raises abandons its activation and is raised as :class:`EngineError`; a session
  that had a failure is never asked for another action (that crashed the C engine);
* a case the engine cannot finish (e.g. an aborted action) rebuilds the rulesets before raising;
* the 64-simultaneous-match and 512-sibling limits: rules are split into several rulesets by a
  path budget (``MAX_PATHS_PER_RULESET``); a single rule over it is refused;
* numbers it cannot parse or compares as text: facts and thresholds are checked, and both come
  in one canonical form (:func:`engine_number`);
* duplicate ruleset names and no unload: unique names per compiled engine; ``close``, the end
  of a ``with`` block or garbage collection frees the C rulesets;
* threads: the C extension holds the GIL, so one lock per engine serialises calls; ``close``
  waits for a call in flight.

Each engine keeps a bounded firing cache by the facts' signature (``_firing_cache``): durable
decides a signature the first time it appears, and the same signature is answered from the
cache afterwards; rules the signature plan cannot take run uncached.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import uuid
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import durable_rules_engine
from durable import engine as durable_engine

from refundrules._condition_tree import AllOf, Condition, Leaf
from refundrules._firing_cache import DEFAULT_CACHE_SIZE, FiringCache, SignaturePlan
from refundrules.exceptions import EngineError

# durable-rules calls datetime.utcfromtimestamp, deprecated since Python 3.12, inside every
# action dispatch. Under `-W error` that would turn into an engine failure, so this one
# warning from durable's own module is silenced.
warnings.filterwarnings(
    "ignore",
    message=r"datetime\.datetime\.utcfromtimestamp",
    category=DeprecationWarning,
    module=r"durable\.engine",
)

__all__ = [
    "CASE_KIND",
    "MAX_PATHS_PER_RULESET",
    "NUMBER_DECIMALS",
    "EngineRule",
    "RuleBudgetError",
    "RuleCompileError",
    "RuleEngine",
    "check_rules",
    "engine_number",
    "partition_rules",
    "path_count",
    "path_depth",
    "to_durable",
]

CASE_KIND = "__refundrules_case__"
DISCRIMINATOR = "$kind"
RESERVED_FIELDS = frozenset({"sid", "id", DISCRIMINATOR})
_SESSION_ID = "refundrules-case"
_RETRACT_CASE = json.dumps({"sid": _SESSION_ID, "id": "case"})
# What the C extension's assert_fact / retract_fact return first (rules.h): activations are
# pending; nothing matched; the fact was already there; the session is locked by an action
# that outlived its lease (the host reports that as 0).
_RESULT_OK, _RESULT_NOT_HANDLED, _RESULT_OBSERVED, _RESULT_DEFERRED = 0, 1, 2, 3
# Freeing a ruleset frees its pools but not the state of the session that cases used (about
# 0.2 MiB a ruleset), and durable's delete_state frees garbage unless an action has completed
# on that state. So every ruleset also holds a rule that only a closing fact matches: freeing
# asserts it (an action completes), then deletes the state, then the ruleset.
_CLOSE_KIND = "__refundrules_close__"
_CLOSE_RULE = "__refundrules_close__"
# One fact may satisfy at most 64 conditions at once (error 303) and one node may hold at most
# 511 children. A ruleset's match paths (disjunctive terms) plus its deepest path bound the
# engine's stack; keeping that sum under this budget keeps every case clear of both limits.
MAX_PATHS_PER_RULESET = 48

# --- numbers ------------------------------------------------------------------------------

# durable-rules' JSON parser reads a number without a decimal point as an integer and stops at
# an exponent ("1e-06", "1e+20": error 204), and Python writes floats under 1e-4 that way. Four
# decimals keep one second (0.00028 h) visible at every hour-based threshold while no number in
# this form needs an exponent. Facts (``_facts.derive_facts``) and thresholds
# (``_conditions.check_condition``) both take this form, so a fact that sits exactly on a
# threshold (0.1 days = 2.4 h, not 2.4000000000000004 h) meets it in durable and in ``holds``.
NUMBER_DECIMALS = 4


def engine_number(value: float) -> float:
    """``value`` in the engine's number form: rounded to four decimals, never ``-0.0``.

    >>> engine_number(0.1 * 24), engine_number(1e-06), engine_number(-0.00001)
    (2.4, 0.0, 0.0)
    """
    return round(value, NUMBER_DECIMALS) + 0.0


_PLAIN_TYPES = (bool, str, int)


def _sendable(value: Any) -> bool:
    """Python writes a float without an exponent exactly when it is 0 or 1e-4 <= |x| < 1e16
    (NaN and the infinities fail that test too)."""
    kind = type(value)
    return kind in _PLAIN_TYPES or (kind is float and (value == 0.0 or 1e-4 <= abs(value) < 1e16))


def _check_engine_value(name: str, value: Any, label: str) -> None:
    """Only values durable-rules compares exactly: bool, str, int, and finite plain floats.

    Its C parser rejects exponent forms such as ``1e-06`` (error 204) and compares mixed
    types as text, so anything else is refused here, before the engine sees it.
    """
    if not _sendable(value):
        raise EngineError(
            f"fact {name!r} = {value!r} cannot be sent to durable-rules exactly "
            "(only bool, str, int and plain finite floats)",
            pack_id=label,
        )


# --- rules and their durable form ---------------------------------------------------------


class RuleCompileError(ValueError):
    """The engine cannot take this rule; ``rule_id`` names it (the caller adds file and line)."""

    def __init__(self, message: str, rule_id: str) -> None:
        super().__init__(message)
        self.rule_id = rule_id


class RuleBudgetError(RuleCompileError):
    """One rule alone exceeds the engine's match budget; ``rule_id`` names it."""


class _ActionFailedError(EngineError):
    """An action raised inside the activation loop (re-raised as EngineError by the caller)."""


@dataclass(frozen=True)
class EngineRule:
    """A rule as the engine takes it: its id, priority (lower fires first) and condition tree."""

    rule_id: str
    priority: int
    condition: Condition

    @property
    def paths(self) -> int:
        return path_count(self.condition)

    @property
    def depth(self) -> int:
        return path_depth(self.condition)


@dataclass(frozen=True)
class _DurableRule:
    """A rule in durable's JSON form, with the budget figures of its tree."""

    rule_id: str
    priority: int
    condition: Mapping[str, Any]
    paths: int
    depth: int


_DURABLE_OP = {"ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


def _leaf_to_durable(leaf: Leaf) -> dict[str, Any]:
    if leaf.op == "eq":
        return {leaf.fact: leaf.value}
    if leaf.op == "in":
        assert isinstance(leaf.value, tuple)
        options = [{leaf.fact: item} for item in leaf.value]
        return options[0] if len(options) == 1 else {"$or": options}
    if leaf.op == "not_in":
        assert isinstance(leaf.value, tuple)
        exclusions = [{"$neq": {leaf.fact: item}} for item in leaf.value]
        return exclusions[0] if len(exclusions) == 1 else {"$and": exclusions}
    return {_DURABLE_OP[leaf.op]: {leaf.fact: leaf.value}}


def to_durable(condition: Condition) -> dict[str, Any]:
    """The condition in durable-rules' JSON ruleset form."""
    if isinstance(condition, Leaf):
        return _leaf_to_durable(condition)
    key = "$and" if isinstance(condition, AllOf) else "$or"
    return {key: [to_durable(child) for child in condition.children]}


def path_depth(condition: Condition) -> int:
    """The most tests one match path chains (the engine's stack grows with it)."""
    if isinstance(condition, Leaf):
        return 1
    depths = [path_depth(child) for child in condition.children]
    return sum(depths) if isinstance(condition, AllOf) else max(depths)


def path_count(condition: Condition) -> int:
    """How many alternative match paths (disjunctive terms) the engine builds for this tree."""
    if isinstance(condition, Leaf):
        if condition.op == "in" and isinstance(condition.value, tuple):
            return len(condition.value)
        return 1
    counts = [path_count(child) for child in condition.children]
    if isinstance(condition, AllOf):
        product = 1
        for count in counts:
            product *= count
        return product
    return sum(counts)


def _leaves(condition: Condition) -> list[Leaf]:
    if isinstance(condition, Leaf):
        return [condition]
    return [leaf for child in condition.children for leaf in _leaves(child)]


def _compile(rule: EngineRule) -> _DurableRule:
    """The rule in durable's form; a threshold durable would misread raises RuleCompileError."""
    for leaf in _leaves(rule.condition):
        values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
        for value in values:
            if not _sendable(value) or (type(value) is float and value != engine_number(value)):
                raise RuleCompileError(
                    f"rule {rule.rule_id!r} compares {leaf.fact!r} with {value!r}, which "
                    "durable-rules cannot compare exactly with facts: a threshold is a bool, "
                    f"a text or a finite number below 1e16 with at most {NUMBER_DECIMALS} "
                    "decimals (engine_number); round or bound the parameter",
                    rule.rule_id,
                )
    return _DurableRule(
        rule_id=rule.rule_id,
        priority=rule.priority,
        condition=to_durable(rule.condition),
        paths=path_count(rule.condition),
        depth=path_depth(rule.condition),
    )


def check_rules(rules: Sequence[EngineRule]) -> None:
    """Raise :class:`RuleCompileError` for a rule the engine could not take (a threshold it
    would misread, a rule over the match budget), without registering anything."""
    partition_rules([_compile(rule) for rule in rules])


class _Budgeted(Protocol):
    @property
    def rule_id(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def paths(self) -> int: ...
    @property
    def depth(self) -> int: ...


_R = TypeVar("_R", bound=_Budgeted)


def partition_rules(rules: Sequence[_R]) -> list[list[_R]]:
    """Split rules, in agenda order, into groups whose paths + depth stay within the budget.

    A single rule over the budget raises :class:`RuleBudgetError` (a ``ValueError``).
    """
    groups: list[list[_R]] = []
    current: list[_R] = []
    paths = depth = 0
    for rule in sorted(rules, key=lambda rule: rule.priority):  # stable: ties keep rule order
        rule_paths, rule_depth = rule.paths, rule.depth
        if rule_paths + rule_depth > MAX_PATHS_PER_RULESET:
            raise RuleBudgetError(
                f"rule {rule.rule_id!r} has {rule_paths} match paths of depth up to "
                f"{rule_depth}; the engine allows {MAX_PATHS_PER_RULESET} in all",
                rule.rule_id,
            )
        if current and paths + rule_paths + max(depth, rule_depth) > MAX_PATHS_PER_RULESET:
            groups.append(current)
            current, paths, depth = [], 0, 0
        current.append(rule)
        paths += rule_paths
        depth = max(depth, rule_depth)
    if current:
        groups.append(current)
    return groups


# --- the engine ---------------------------------------------------------------------------


class _SynchronousHost(durable_engine.Host):  # type: ignore[misc]
    """A Host without the background dispatcher threads that can run actions and crash."""

    def _run(self) -> None:
        return None


def _free_rulesets(
    host: _SynchronousHost, names: Sequence[str], session_failed: list[bool]
) -> None:
    """Remove rulesets from their host and free them in the C engine (durable has no unload).

    Called once per registration, by ``close`` or by the engine's finalizer; it must not
    refer to the engine, or the engine could never be collected. After a failed case the
    session is not touched again (asking it for an action after an abandoned one crashes the
    C engine), so its state stays allocated and only the rulesets are freed.
    """
    for name in names:
        ruleset = host._ruleset_directory.get(name)
        if ruleset is None:
            continue
        if not session_failed[0]:
            try:
                close_fact = {"sid": _SESSION_ID, "id": "close", DISCRIMINATOR: _CLOSE_KIND}
                host.assert_fact(name, close_fact)
                durable_rules_engine.delete_state(ruleset._handle, _SESSION_ID)
            except Exception:  # pragma: no cover - the state stays allocated
                pass
        host._ruleset_directory.pop(name, None)
        if ruleset in host._ruleset_list:
            host._ruleset_list.remove(ruleset)
        durable_rules_engine.delete_ruleset(ruleset._handle)


def _closing(context: Any) -> None:
    """The close rule's action: nothing to record."""


class RuleEngine:
    """Rules compiled into durable-rules; ``fire(facts)`` returns the ids of the rules that
    matched, in agenda order (priority, then rule order).

    Thread-safe. ``close()`` (or leaving a ``with`` block, or garbage collection) frees the
    rulesets; a ``fire`` in flight in another thread finishes first, later ones raise
    :class:`EngineError`. A pickle holds the compiled rules only: unpickling registers fresh
    rulesets, so the copy is open even if the original was closed.

    >>> from refundrules._conditions import Leaf
    >>> rule = EngineRule("big", 0, Leaf("n", "gte", 10.0, param=None, key_path=()))
    >>> with RuleEngine("example", [rule]) as engine:
    ...     engine.fire({"n": 12.5}), engine.fire({"n": 3.0})
    (['big'], [])
    """

    _counter = itertools.count()

    def __init__(
        self, label: str, rules: Sequence[EngineRule], *, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> None:
        # cache_size=0 runs every case through durable-rules (the uncached path, for tests
        # and benchmarks); a rule set the signature plan refuses runs uncached whatever it is.
        plan = SignaturePlan.of([rule.condition for rule in rules]) if cache_size else None
        if plan is not None and plan.names & RESERVED_FIELDS:
            plan = None  # such a fact is refused on every case: nothing to cache
        self._start(label, [_compile(rule) for rule in rules], plan, cache_size)

    @classmethod
    def _from_durable(cls, label: str, rules: Sequence[_DurableRule]) -> Self:
        """An engine over conditions already in durable's form, which our trees cannot always
        express (``$nex``): for the hazard tests only."""
        engine = cls.__new__(cls)
        engine._start(label, rules, None, 0)
        return engine

    def _start(
        self,
        label: str,
        rules: Sequence[_DurableRule],
        plan: SignaturePlan | None,
        cache_size: int,
    ) -> None:
        self._label = label
        self._plan, self._cache_size = plan, cache_size
        self._cache = FiringCache(plan, cache_size) if plan is not None else None
        self._groups = partition_rules(rules)
        self._lock = threading.Lock()
        self._fired: list[str] = []
        self._closed = False
        self._host: _SynchronousHost | None = None
        self._names: list[str] = []
        self._handles: list[int] = []  # the C rulesets, in agenda order
        self._session_failed = [False]  # shared with the finalizer of the current rulesets
        self._actions: dict[str, Callable[[Any], None]] = {}
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._build()

    @property
    def ruleset_count(self) -> int:
        return len(self._groups)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def cache(self) -> FiringCache | None:
        """The firing cache by signature, or None when this engine runs every case uncached."""
        return self._cache

    def _action(self, rule_id: str) -> Callable[[Any], None]:
        # The action holds the list, not the engine: the finalizer keeps the host (and so the
        # actions) alive, and an action that referred to the engine would keep it alive too.
        fired = self._fired

        def record(context: Any) -> None:
            fired.append(rule_id)

        return record

    def _build(self) -> None:
        host = _SynchronousHost()
        unique = f"{uuid.uuid4().hex[:12]}-{next(self._counter)}"
        names: list[str] = []
        # The finalizer exists before the first ruleset does, so nothing registered can leak.
        self._session_failed = [False]
        finalizer = weakref.finalize(self, _free_rulesets, host, names, self._session_failed)
        finalizer.atexit = False  # the process is ending: freeing would only risk its exit
        self._finalizer = finalizer
        actions = {
            rule.rule_id: self._action(rule.rule_id) for group in self._groups for rule in group
        }
        for index, group in enumerate(self._groups):
            name = f"{self._label}#{unique}#{index}"
            ruleset = {
                rule.rule_id: {
                    "all": [
                        {
                            "m": {
                                "$and": [
                                    {DISCRIMINATOR: CASE_KIND},
                                    copy.deepcopy(dict(rule.condition)),  # durable mutates it
                                ]
                            }
                        }
                    ],
                    "pri": rule.priority,
                    # The host needs an action to register a rule; ``_run_actions`` calls ours.
                    "run": actions[rule.rule_id],
                }
                for rule in group
            }
            ruleset[_CLOSE_RULE] = {
                "all": [{"m": {DISCRIMINATOR: _CLOSE_KIND}}],
                "pri": 0,
                "run": _closing,
            }
            try:
                host.register_rulesets({name: ruleset})
            except Exception as exc:  # durable raises bare Exception / its C error type
                finalizer()
                raise EngineError(
                    f"durable-rules refused the compiled rules: {exc}", pack_id=self._label
                ) from exc
            names.append(name)
        self._handles = [host._ruleset_directory[name]._handle for name in names]
        self._actions = actions
        self._host, self._names = host, list(names)

    def _release(self) -> None:
        finalizer, self._finalizer = self._finalizer, None
        self._host, self._names, self._handles = None, [], []
        if finalizer is not None:
            finalizer()  # frees at most once: a finalizer that already ran does nothing

    def close(self) -> None:
        """Free the engine's rulesets; later calls to ``fire`` raise EngineError. Idempotent.

        A ``fire`` in flight in another thread finishes (or raises EngineError) first.
        """
        self._closed = True
        with self._lock:
            self._release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        # The compiled rules, never durable's objects: the host, its C rulesets, the lock and
        # the finalizer belong to this process.
        return {
            "label": self._label,
            "rules": [rule for group in self._groups for rule in group],
            "plan": self._plan,
            "cache_size": self._cache_size,
        }

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self._start(state["label"], state["rules"], state["plan"], state["cache_size"])

    def fire(self, facts: Mapping[str, Any], *, cached: bool = True) -> list[str]:
        """Assert ``facts`` as one case and return the ids of the rules that fired.

        ``cached=False`` asks durable-rules even when the firing cache holds the answer (the
        reference path) and leaves the cache as it was.
        """
        cache = self._cache if cached else None
        key = cache.signature(facts) if cache is not None else None
        if key is None:
            # Facts the signature cannot vouch for (a name no rule reads, another type, a
            # float durable cannot parse): check each one, as every case was checked before.
            for name in RESERVED_FIELDS & facts.keys():
                raise EngineError(
                    f"fact name {name!r} is reserved by the engine", pack_id=self._label
                )
            for name, value in facts.items():
                _check_engine_value(name, value, self._label)
        if self._closed:  # refused at once, not after waiting for a case in flight
            raise EngineError("this engine was closed", pack_id=self._label)
        if key is not None and self._host is not None:
            assert cache is not None
            hit = cache.get(key)
            if hit is not None:
                return list(hit)
        fired = self._fire_uncached(facts)
        if key is not None:
            assert cache is not None
            cache.put(key, fired)
        return fired

    def _fire_uncached(self, facts: Mapping[str, Any]) -> list[str]:
        """durable-rules decides this case (the caller has checked the facts)."""
        with self._lock:
            if self._host is None:
                raise EngineError(
                    "this engine was closed"
                    if self._closed
                    else "this engine could not be rebuilt after an earlier failure",
                    pack_id=self._label,
                )
            fired = self._fired
            fired.clear()
            fact = dict(facts)
            fact["sid"] = _SESSION_ID
            fact["id"] = "case"
            fact[DISCRIMINATOR] = CASE_KIND
            # One JSON text for every ruleset: the C engine parses it, nothing parses it back.
            payload = json.dumps(fact, ensure_ascii=False)
            for handle in self._handles:
                self._assert_one(handle, payload)
            # durable runs a rule's action once per satisfied `$or` path: a rule is one rule.
            return list(dict.fromkeys(fired))

    def _run_actions(self, handle: int, state: int) -> None:
        """Run every activation the last assert or retract left for the session, in agenda
        order, without the host's per-action JSON round trips and state re-assertion.

        ``start_action_for_state`` hands out the first activation, ``complete_and_start_action``
        completes it and hands out the next (None when there is none). An action that raises
        abandons its activation (so no lease stays open) and the error is raised after the
        caller has retracted the case.
        """
        message = durable_rules_engine.start_action_for_state(handle, state)
        if message is None:
            return
        text: str | None = message[1]
        actions = self._actions
        while text is not None:
            # '{"<rule id>":{"m":…}}': the rule id is the first key.
            end = text.find('"', 2)
            rule_id = text[2:end]
            if rule_id not in actions:  # a name with escapes: read it properly
                rule_id = next(iter(json.loads(text)))
            try:
                actions[rule_id](rule_id)
            except Exception as exc:
                durable_rules_engine.abandon_action(handle, state)
                raise _ActionFailedError(str(exc)) from exc
            text = durable_rules_engine.complete_and_start_action(handle, state)

    def _assert_one(self, handle: int, payload: str) -> None:
        failure: Exception | None = None
        try:
            code, state = durable_rules_engine.assert_fact(handle, payload)
            if code == _RESULT_OK:
                self._run_actions(handle, state)
            elif code == _RESULT_DEFERRED:
                failure = EngineError(
                    "durable-rules abandoned the case (an action outlived its lease)",
                    pack_id=self._label,
                )
            elif code == _RESULT_OBSERVED:
                failure = EngineError(
                    "durable-rules had already seen this case (a fact was left behind)",
                    pack_id=self._label,
                )
            # _RESULT_NOT_HANDLED: no rule in this ruleset matched, a normal outcome
        except _ActionFailedError as exc:
            failure = EngineError(f"a rule action failed: {exc}", pack_id=self._label)
            failure.__cause__ = exc.__cause__
        except Exception as exc:  # the C extension's error type, MemoryError, …
            failure = EngineError(f"durable-rules failed on this case: {exc}", pack_id=self._label)
            failure.__cause__ = exc
        finally:
            try:
                code, state = durable_rules_engine.retract_fact(handle, _RETRACT_CASE)
                # Every rule needs the case fact, so a retraction activates nothing; the drain
                # only makes sure no activation waits for the next case. After a failure the
                # session is not touched again (asking it for an action after an abandoned one
                # crashed the C engine): the rulesets are rebuilt below.
                if code == _RESULT_OK and failure is None:
                    self._run_actions(handle, state)
            except Exception as exc:
                failure = failure or EngineError(
                    f"could not clear the case: {exc}", pack_id=self._label
                )
        if failure is not None:
            # Start from fresh rulesets so nothing of this case reaches the next one (unless
            # the engine is being closed: then there is no next case).
            self._session_failed[0] = True
            self._release()
            if not self._closed:
                self._build()
            raise failure
