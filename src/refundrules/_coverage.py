"""Rule coverage of a pack: which rules never fire, which fire but never decide, and which
stages and resolutions are never reached — over the pack's own tests and over generated cases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from random import Random

from hypothesis import HealthCheck, Phase, find, given, seed, settings, target
from hypothesis.errors import NoSuchExample
from pydantic import BaseModel, ConfigDict

from refundrules._conditions import closeness
from refundrules._prediction import PackRef, Prediction
from refundrules._rulepack import RulePack
from refundrules._strategies import SELLER_MOVES, Evaluation, evaluations
from refundrules._vocabulary import Resolution, Stage

__all__ = ["CoverageReport", "SourceCoverage", "Witness", "measure_coverage"]

_SEED = 20251122


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceCoverage(_Out):
    """Coverage over one source of cases (the pack tests, or generated cases)."""

    source: str
    cases: int
    fired: dict[str, int]
    decided: dict[str, int]
    never_fired: tuple[str, ...]
    fired_never_decided: tuple[str, ...]
    unreached_stages: tuple[str, ...]
    unreached_resolutions: tuple[str, ...]


class Witness(_Out):
    """A generated case that makes a rule fire (and decide, for deciding rules)."""

    rule_id: str
    found: bool
    decided: bool
    as_of: str | None = None
    case: dict[str, object] | None = None


class CoverageReport(_Out):
    """The result of :func:`measure_coverage`: one :class:`SourceCoverage` per source of
    cases, and a :class:`Witness` per rule the generated cases left uncovered."""

    pack: PackRef
    sources: tuple[SourceCoverage, ...]
    witnesses: tuple[Witness, ...] = ()

    @property
    def unexplained(self) -> tuple[str, ...]:
        """Rules that neither the tests nor any search made fire (or decide)."""
        settled = {w.rule_id for w in self.witnesses if w.found}
        gaps = {
            rule
            for source in self.sources
            for rule in (*source.never_fired, *source.fired_never_decided)
        }
        tested = self.sources[0]
        covered_by_tests = {rule for rule, count in tested.fired.items() if count} - set(
            tested.fired_never_decided
        )
        return tuple(sorted(gaps - settled - covered_by_tests))


def _tally(pack: RulePack, source: str, predictions: Iterable[Prediction]) -> SourceCoverage:
    fired: Counter[str] = Counter()
    decided: Counter[str] = Counter()
    stages: set[Stage] = set()
    resolutions: set[Resolution] = set()
    count = 0
    for prediction in predictions:
        count += 1
        fired.update(set(prediction.fired_rules))
        decided.update(r.rule_id for r in prediction.reasons if r.role == "decided")
        stages.add(prediction.stage)
        resolutions.add(prediction.resolution.outcome)
    rule_ids = [rule.spec.id for rule in sorted(pack.rules, key=lambda r: (r.path, r.line or 0))]
    deciding = {rule.spec.id for rule in pack.rules if rule.spec.then.decides}
    return SourceCoverage(
        source=source,
        cases=count,
        fired={rule: fired[rule] for rule in rule_ids},
        decided={rule: decided[rule] for rule in rule_ids if rule in deciding},
        never_fired=tuple(rule for rule in rule_ids if fired[rule] == 0),
        fired_never_decided=tuple(
            rule for rule in rule_ids if rule in deciding and fired[rule] and not decided[rule]
        ),
        unreached_stages=tuple(stage.value for stage in Stage if stage not in stages),
        unreached_resolutions=tuple(
            resolution.value for resolution in Resolution if resolution not in resolutions
        ),
    )


def measure_coverage(pack: RulePack, *, examples: int = 500, search: int = 300) -> CoverageReport:
    """Coverage over the pack's tests and over ``examples`` generated cases (reproducible).

    For each rule the generated cases never fire (or never let decide), a targeted Hypothesis
    search of up to ``search`` examples looks for a witness case, shrunk to its smallest.
    """
    tested = [pack.predict(test.case, test.spec.as_of) for test in pack.tests]
    sources = [_tally(pack, "pack tests", tested)]
    if examples > 0:
        generated: list[Prediction] = []

        @seed(_SEED)
        @settings(
            max_examples=examples,
            database=None,
            deadline=None,
            phases=(Phase.generate,),
            suppress_health_check=list(HealthCheck),
        )
        @given(evaluations(pack))
        def explore(evaluation: Evaluation) -> None:
            generated.append(pack.predict(*evaluation))

        explore()
        sources.append(_tally(pack, "generated cases", generated))
    witnesses = []
    if examples > 0 and search > 0:
        gaps = dict.fromkeys((*sources[-1].never_fired, *sources[-1].fired_never_decided))
        witnesses = [_search_witness(pack, rule_id, search) for rule_id in gaps]
    return CoverageReport(pack=pack.ref, sources=tuple(sources), witnesses=tuple(witnesses))


def _search_witness(pack: RulePack, rule_id: str, budget: int) -> Witness:
    """Look for a case where ``rule_id`` fires (and decides, if it is a deciding rule),
    steering Hypothesis with how nearly the rule's condition holds."""
    rule = pack.rule(rule_id)
    must_decide = rule.spec.then.decides
    # Closeness is measured on the decision facts; a consequence rule reads the outcome facts,
    # which exist only inside a prediction, so its search is not steered.
    steered = rule.spec.phase == "decision"

    def hits(evaluation: Evaluation) -> bool:
        case, as_of = evaluation
        if steered:
            target(closeness(rule.condition, pack.facts(case, as_of)), label=rule_id)
        prediction = pack.predict(case, as_of)
        if rule_id not in prediction.fired_rules:
            return False
        return not must_decide or any(
            r.rule_id == rule_id and r.role == "decided" for r in prediction.reasons
        )

    # One search per seller move: deep paths (returns, rulings) hang off a particular move,
    # and pinning it makes them reachable within the same total budget.
    share = max(1, budget // len(SELLER_MOVES))
    for move in SELLER_MOVES:
        try:
            case, as_of = find(
                evaluations(pack, seller_move=move),
                hits,
                settings=settings(
                    max_examples=share,
                    database=None,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    phases=(Phase.generate, Phase.target, Phase.shrink),
                ),
                random=Random(_SEED),
            )
        except NoSuchExample:
            continue
        break
    else:
        return Witness(rule_id=rule_id, found=False, decided=False)
    return Witness(
        rule_id=rule_id,
        found=True,
        decided=must_decide,
        as_of=as_of.isoformat(),
        case=case.model_dump(mode="json", exclude_defaults=True),
    )
