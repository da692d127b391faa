"""Why a case ends as predicted, and why not otherwise: the deciding rules and the near misses.

durable-rules decides which rules fire; this module only annotates the same checked
conditions (``_conditions``) with the fact values read, pass or fail, in each language of
the profile. A *near miss* is a deciding rule that did not fire, would have set a different
stage or resolution, and fails on few conditions (on its closest ``any`` branch).

>>> import refundrules
>>> from datetime import datetime
>>> pack = refundrules.load_rule_pack("pinduoduo")
>>> case = refundrules.load_case("examples/05_seller_refused_escalation_open.yaml")
>>> found = pack.explain(case, as_of=datetime.fromisoformat("2025-06-04T10:00:00+08:00"))
>>> [rule.rule_id for rule in found.deciding]
['escalation_window_open', 'ruling_defect_return_seller_pays']
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from refundrules._condition_tree import AllOf, AnyOf, Condition, Leaf
from refundrules._conditions import holds
from refundrules._fact_spec import FactSpec, FactValue
from refundrules._i18n import LANGUAGES, Language, both, local_time, op_words, show_value
from refundrules._loader import CheckedRule
from refundrules._prediction import PackRef, Prediction
from refundrules._profile import PlatformProfile

__all__ = [
    "ConditionCheck",
    "ExplainedVersion",
    "Explanation",
    "RuleExplanation",
    "explain_prediction",
]

NEAR_MISS_MAX_FAILED = 2
NEAR_MISS_LIMIT = 5


class ExplainedVersion(Protocol):
    """What explaining needs of a pack version (a :class:`refundrules.PackVersion`)."""

    @property
    def profile(self) -> PlatformProfile: ...

    @property
    def rules(self) -> tuple[CheckedRule, ...]: ...

    def rule(self, rule_id: str) -> CheckedRule: ...


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConditionCheck(_Out):
    """One condition of a rule: the fact, the comparison, the value read and whether it held."""

    fact: str
    op: str
    threshold: bool | float | str | tuple[str, ...]
    param: str | None
    value: bool | float | str
    passed: bool
    text: str
    texts: dict[str, str]


class RuleExplanation(_Out):
    """A rule with each condition on its deciding path (or closest path, for a near miss).

    ``role``: ``decided`` (it set the stage and/or resolution), ``shadowed`` (it fired but a
    higher-precedence rule won), ``near_miss`` (it did not fire; ``failed`` conditions kept it
    from setting ``sets``)."""

    rule_id: str
    role: Literal["decided", "shadowed", "near_miss"]
    title: str
    title_zh: str
    priority: int
    sets: dict[str, str]
    fired: bool
    failed: int
    conditions: tuple[ConditionCheck, ...]
    text: str
    texts: dict[str, str]


class Explanation(_Out):
    """Why ``case_id`` ends as predicted at ``as_of``: the engine's verdict explained."""

    case_id: str
    as_of: datetime
    pack: PackRef
    language: Language
    stage: str
    resolution: str
    fired_rules: tuple[str, ...]
    deciding: tuple[RuleExplanation, ...]
    shadowed: tuple[RuleExplanation, ...]
    near_misses: tuple[RuleExplanation, ...]
    text: str
    texts: dict[str, str]


def _failures(condition: Condition, facts: Mapping[str, FactValue]) -> int:
    """How many leaves must change for ``condition`` to hold (its closest ``any`` branch)."""
    if isinstance(condition, Leaf):
        return 0 if holds(condition, facts) else 1
    counts = [_failures(child, facts) for child in condition.children]
    return sum(counts) if isinstance(condition, AllOf) else min(counts)


def _path(condition: Condition, facts: Mapping[str, FactValue]) -> list[Leaf]:
    """The leaves of the deciding (or closest) path: all of an ``all``, the best ``any``."""
    if isinstance(condition, Leaf):
        return [condition]
    if isinstance(condition, AllOf):
        return [leaf for child in condition.children for leaf in _path(child, facts)]
    assert isinstance(condition, AnyOf)
    best = min(condition.children, key=lambda child: _failures(child, facts))
    return _path(best, facts)


def _unit(spec: FactSpec | None, language: Language) -> str:
    unit = spec.unit if spec is not None else None
    if unit == "hours":
        return " 小时" if language == "zh" else " h"
    if unit == "days":
        return " 天" if language == "zh" else " days"
    if unit == "business_days":
        return " 个工作日" if language == "zh" else " business days"
    return ""


def _sentence(leaf: Leaf, spec: FactSpec | None, value: FactValue, passed: bool) -> dict[str, str]:
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        meaning = spec.meaning(language) if spec is not None else leaf.fact
        unit = _unit(spec, language)
        shown = show_value(value, language)
        shown += unit if isinstance(value, float) else ""
        threshold = show_value(leaf.value, language)
        threshold += unit if isinstance(leaf.value, float) else ""
        if leaf.param is not None:
            threshold += f" ({leaf.param})"
        if language == "zh":
            verdict = "满足" if passed else "不满足"
            texts["zh"] = (
                f"{leaf.fact}（{meaning}）为 {shown}；规则要求{op_words(leaf.op, 'zh')} "
                f"{threshold}：{verdict}"
            )
        else:
            verdict = "met" if passed else "NOT met"
            texts["en"] = (
                f"{meaning} ({leaf.fact}) is {shown}; the rule needs "
                f"{op_words(leaf.op, 'en')} {threshold}: {verdict}"
            )
    return texts


def _checks(
    rule: CheckedRule,
    facts: Mapping[str, FactValue],
    specs: Mapping[str, FactSpec],
    language: Language,
) -> tuple[ConditionCheck, ...]:
    found: list[ConditionCheck] = []
    for leaf in _path(rule.condition, facts):
        value = facts[leaf.fact]
        passed = holds(leaf, facts)
        texts = _sentence(leaf, specs.get(leaf.fact), value, passed)
        found.append(
            ConditionCheck(
                fact=leaf.fact,
                op=leaf.op,
                threshold=leaf.value,
                param=leaf.param,
                value=value,
                passed=passed,
                text=texts[language],
                texts=texts,
            )
        )
    return tuple(found)


def _sets(rule: CheckedRule) -> dict[str, str]:
    effects = rule.spec.then
    found: dict[str, str] = {}
    if effects.stage is not None:
        found["stage"] = effects.stage.value
    if effects.resolution is not None:
        found["resolution"] = str(effects.resolution.outcome)
    return found


def _rule_explanation(
    rule: CheckedRule,
    role: Literal["decided", "shadowed", "near_miss"],
    facts: Mapping[str, FactValue],
    specs: Mapping[str, FactSpec],
    fired: bool,
    language: Language,
) -> RuleExplanation:
    checks = _checks(rule, facts, specs, language)
    failed = sum(1 for check in checks if not check.passed)
    title_zh = rule.spec.title.zh or rule.spec.title.en
    sets = ", ".join(f"{key} {value}" for key, value in _sets(rule).items())
    sets_zh = "，".join(f"{key} {value}" for key, value in _sets(rule).items())
    heads = {
        "decided": ("decided", "决定结果"),
        "shadowed": (
            "fired but lost to a higher-precedence rule",
            "命中，但被更高优先级的规则覆盖",
        ),
        "near_miss": (f"near miss, {failed} condition(s) short", f"差 {failed} 个条件未命中"),
    }
    head_en, head_zh = heads[role]
    texts = both(
        en=f"{rule.spec.id} ({head_en}; sets {sets}): {rule.spec.title.en}",
        zh=f"{rule.spec.id}（{head_zh}；设定 {sets_zh}）：{title_zh}",
    )
    return RuleExplanation(
        rule_id=rule.spec.id,
        role=role,
        title=rule.spec.title.en,
        title_zh=title_zh,
        priority=rule.spec.priority,
        sets=_sets(rule),
        fired=fired,
        failed=failed,
        conditions=checks,
        text=texts[language],
        texts=texts,
    )


def _differs(rule: CheckedRule, winners: Mapping[str, str]) -> bool:
    """Whether ``rule`` would set a stage or resolution other than the winners'."""
    return any(winners.get(slot) != value for slot, value in _sets(rule).items())


def _nearness(rule: RuleExplanation) -> tuple[int, int, int, int]:
    """Fewest failing conditions first; then the rule that already meets the most (the more
    specific the rule, the more it says), a failing threshold (a time or an amount) before a
    missing event, and precedence."""
    passed = sum(1 for check in rule.conditions if check.passed)
    thresholds = sum(
        1 for check in rule.conditions if not check.passed and isinstance(check.value, float)
    )
    return (rule.failed, -passed, -thresholds, rule.priority)


def explain_prediction(
    version: ExplainedVersion,
    prediction: Prediction,
    facts: Mapping[str, FactValue],
    language: Language,
) -> Explanation:
    """Annotate ``prediction`` (made by ``version`` from ``facts``) with its rules' conditions."""
    specs = version.profile.decision_facts
    fired = set(prediction.fired_rules)
    decided_ids = [reason.rule_id for reason in prediction.reasons if reason.role == "decided"]
    shadowed_ids = [reason.rule_id for reason in prediction.reasons if reason.role == "shadowed"]
    deciding = tuple(
        _rule_explanation(version.rule(rule_id), "decided", facts, specs, True, language)
        for rule_id in decided_ids
    )
    shadowed = tuple(
        _rule_explanation(version.rule(rule_id), "shadowed", facts, specs, True, language)
        for rule_id in shadowed_ids
    )
    winners: dict[str, str] = {}
    for rule_id in decided_ids:
        for slot, value in _sets(version.rule(rule_id)).items():
            winners.setdefault(slot, value)
    candidates = [
        rule
        for rule in version.rules
        if rule.spec.phase == "decision"
        and rule.spec.then.decides
        and rule.spec.id not in fired
        and _differs(rule, winners)
    ]
    near = tuple(
        sorted(
            (
                _rule_explanation(rule, "near_miss", facts, specs, False, language)
                for rule in candidates
                if 0 < _failures(rule.condition, facts) <= NEAR_MISS_MAX_FAILED
            ),
            key=_nearness,
        )
    )[:NEAR_MISS_LIMIT]
    zone = version.profile.defaults.timezone
    stage = prediction.stage.value
    outcome = prediction.resolution.outcome.value
    texts: dict[str, str] = {
        language_: render_explanation_lines(
            prediction, deciding, shadowed, near, language_, local_time(prediction.as_of, zone)
        )
        for language_ in LANGUAGES
    }
    return Explanation(
        case_id=prediction.case_id,
        as_of=prediction.as_of,
        pack=prediction.pack,
        language=language,
        stage=stage,
        resolution=outcome,
        fired_rules=prediction.fired_rules,
        deciding=deciding,
        shadowed=shadowed,
        near_misses=near,
        text=texts[language],
        texts=texts,
    )


def _rule_lines(rule: RuleExplanation, language: Language) -> list[str]:
    lines = [f"  - {rule.texts[language]}"]
    for check in rule.conditions:
        mark = "✓" if check.passed else "✗"
        lines.append(f"      {mark} {check.texts[language]}")
    return lines


def render_explanation_lines(
    prediction: Prediction,
    deciding: tuple[RuleExplanation, ...],
    shadowed: tuple[RuleExplanation, ...],
    near: tuple[RuleExplanation, ...],
    language: Language,
    as_of: str,
) -> str:
    stage = prediction.stage.value
    outcome = prediction.resolution.outcome.value
    pack = f"{prediction.pack.id} {prediction.pack.version}"
    if language == "zh":
        lines = [
            f"案件 {prediction.case_id} — {pack}（截至 {as_of}）",
            f"预测：阶段 {stage}，结果 {outcome}",
            "决定结果的规则：",
        ]
        sections = (("被覆盖的规则：", shadowed), ("差一点命中（结果会不同）：", near))
        none = "  （无）"
    else:
        lines = [
            f"Case {prediction.case_id} — {pack} (as of {as_of})",
            f"Predicted: stage {stage}, resolution {outcome}",
            "Deciding rules:",
        ]
        sections = (
            ("Shadowed rules:", shadowed),
            ("Near misses (a different outcome):", near),
        )
        none = "  (none)"
    for rule in deciding:
        lines += _rule_lines(rule, language)
    for title, rules in sections:
        lines.append(title)
        if not rules:
            lines.append(none)
        for rule in rules:
            lines += _rule_lines(rule, language)
    return "\n".join(lines)
