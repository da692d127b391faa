"""The same compiled conditions as a zen-engine collect table and as plain Python functions.

Both are generated from a version's compiled condition trees (never written by hand), so the
benchmark compares engines, not rule sets; ``bench_predict`` checks on every case that both fire
exactly the rule ids ``RuleEngine.fire`` fires.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from refundrules._condition_tree import AllOf, AnyOf, Condition, Leaf
from refundrules._engine import EngineRule

Facts = dict[str, Any]


# --- disjunctive normal form: a table row is a conjunction of per-column tests -------------


def _terms(condition: Condition) -> list[list[Leaf]]:
    if isinstance(condition, Leaf):
        return [[condition]]
    if isinstance(condition, AnyOf):
        return [term for child in condition.children for term in _terms(child)]
    assert isinstance(condition, AllOf)
    terms: list[list[Leaf]] = [[]]
    for child in condition.children:
        terms = [left + right for left in terms for right in _terms(child)]
    return terms


def _zen_value(value: Any) -> str:
    return json.dumps(value)  # true/false, numbers and quoted texts read as zen literals


def _zen_test(leaf: Leaf) -> str:
    """One leaf as a zen unary expression over ``$`` (the column's value)."""
    if leaf.op in {"in", "not_in"}:
        assert isinstance(leaf.value, tuple)
        options = ", ".join(_zen_value(item) for item in leaf.value)
        return f"$ in [{options}]" if leaf.op == "in" else f"not ($ in [{options}])"
    symbol = {"eq": "==", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[leaf.op]
    return f"$ {symbol} {_zen_value(leaf.value)}"


def zen_graph(rules: Sequence[EngineRule]) -> dict[str, Any]:
    """A JDM graph: one collect decision table, a row per match path, in agenda order."""
    facts = sorted({leaf.fact for rule in rules for term in _terms(rule.condition) for leaf in term})
    inputs = [{"id": f"in_{name}", "field": name, "name": name} for name in facts]
    rows = []
    for rule in sorted(rules, key=lambda rule: rule.priority):
        for index, term in enumerate(_terms(rule.condition)):
            cells: dict[str, list[str]] = {}
            for leaf in term:
                cells.setdefault(leaf.fact, []).append(_zen_test(leaf))  # zen refuses (…) here
            row = {f"in_{name}": " and ".join(cells.get(name, [])) for name in facts}
            row["_id"] = f"{rule.rule_id}#{index}"
            row["out_rule"] = json.dumps(rule.rule_id)
            rows.append(row)
    position = {"x": 0, "y": 0}
    table = {
        "hitPolicy": "collect",
        "inputs": inputs,
        "outputs": [{"id": "out_rule", "field": "rule_id", "name": "rule_id"}],
        "rules": rows,
    }
    return {
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request", "position": position},
            {
                "id": "table",
                "type": "decisionTableNode",
                "name": "Rules",
                "position": position,
                "content": table,
            },
            {"id": "response", "type": "outputNode", "name": "Response", "position": position},
        ],
        "edges": [
            {"id": "e1", "sourceId": "request", "targetId": "table", "type": "edge"},
            {"id": "e2", "sourceId": "table", "targetId": "response", "type": "edge"},
        ],
    }


def zen_fire(rules: Sequence[EngineRule]) -> Callable[[Facts], list[str]]:
    """Fire through zen-engine's collect table: the ids of the matching rows, each rule once."""
    import zen

    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"rules": zen_graph(rules)}}})

    def fire(facts: Facts) -> list[str]:
        rows = engine.evaluate("rules", facts)["result"]
        return list(dict.fromkeys(row["rule_id"] for row in rows))

    return fire


# --- plain Python: each rule one compiled expression -----------------------------------------


def _python(condition: Condition) -> str:
    if isinstance(condition, Leaf):
        fact = f"f[{condition.fact!r}]"
        if condition.op in {"in", "not_in"}:
            word = "in" if condition.op == "in" else "not in"
            return f"{fact} {word} {set(condition.value)!r}"  # type: ignore[arg-type]
        symbol = {"eq": "==", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
        return f"{fact} {symbol[condition.op]} {condition.value!r}"
    word = " and " if isinstance(condition, AllOf) else " or "
    return "(" + word.join(_python(child) for child in condition.children) + ")"


def python_fire(rules: Sequence[EngineRule]) -> Callable[[Facts], list[str]]:
    """Every rule's condition as one Python expression; the ids that hold, in agenda order."""
    ordered = sorted(rules, key=lambda rule: rule.priority)
    body = ", ".join(f"({rule.rule_id!r}, {_python(rule.condition)})" for rule in ordered)
    source = f"lambda f: [rule for rule, held in ({body},) if held]"
    function: Callable[[Facts], list[str]] = eval(source)  # generated from our own trees
    return function
