"""Predictions per second for a bundled pack, against the raw durable-rules cost of the same facts.

Run:  python benchmarks/bench_predict.py [--pack pinduoduo] [--cases 400] [--generated 2000]
      [--rounds 5] [--batch-lines 4000]

First, fire on generated fact sets (--generated cases from refundrules.testing.evaluations, the
decision facts of the version each selects), best of --rounds, interleaved:
  host path        the version's decision rules on a bare durable Host, assert/retract per
                   ruleset (what RuleEngine.fire did before it drove the C extension: baseline)
  C, uncached      RuleEngine(..., cache_size=0).fire: durable decides every case
  cached, cold     a fresh RuleEngine each round: durable decides each signature once
  cached, warm     the same engine again: every signature already decided
  zen collect      zen-engine, the same conditions as a collect decision table
  plain Python     the same conditions as one generated Python expression per rule
zen and plain Python are generated from the compiled pack (benchmarks/fire_peers.py) and
checked to fire the same rule ids as RuleEngine.fire on every case.

Stages timed on the same cases in the same run (best of --rounds):
  raw durable    the pack's compiled rulesets registered on a bare durable Host; each case's
                 already-derived facts asserted and retracted (the engine's own cost: baseline)
  engine adapter RulePack.fire(facts): our containment around the same calls
  facts          derive_facts(case, as_of), and the fast path's FactDeriver
  predict, fast=False
                 the reference path: facts afresh, no firing cache, every part validated,
                 nothing kept between cases (what predict did before the fast path)
  predict        RulePack.predict(case, as_of): everything (facts, both phases, assembly)
The ratio predict / raw durable is refundrules' overhead over the engine it wraps; the last
line gives predictions/s end to end and the ratio to the reference path, after checking that
every answer is the reference path's. The cases are the bundled examples, all predicted by
the pack version their request dates select.

Then batch: run_batch over --batch-lines JSONL lines of the same cases with 1 worker
(baseline) and 2 worker processes, best of 2, pool start-up included; both outputs must match.

Then loading, each best of --rounds in the same run:
  yaml.safe_load    the family's manifest, profile, parameters and rules with PyYAML's
                    pure-Python safe loader (the old loader parsed each file twice so: baseline)
  load_rule_pack    the whole family: parse once (libyaml), validate, check every version
and a cold process, best of 3 (each a fresh interpreter):
  python -c pass    the interpreter alone (baseline)
  import            python -c "import refundrules"
  predict CLI       refundrules predict EXAMPLE --as-of ... (import, load, predict, print)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from durable import engine as durable_engine

import refundrules
from refundrules._engine import CASE_KIND, DISCRIMINATOR, RuleEngine
from refundrules._facts import case_at

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fire_peers import python_fire, zen_fire

ROOT = Path(__file__).resolve().parents[1]


def sample_cases(count: int) -> list[tuple[refundrules.Case, datetime]]:
    """The bundled examples at as_of times spread around their windows."""
    as_of = json.loads((ROOT / "examples" / "as_of.json").read_text(encoding="utf-8"))
    base = [
        (refundrules.load_case(ROOT / "examples" / name), datetime.fromisoformat(moment))
        for name, moment in sorted(as_of.items())
    ]
    samples = []
    for index in range(count):
        case, moment = base[index % len(base)]
        shift = timedelta(hours=(index // len(base)) % 96)
        samples.append((case, moment + shift))
    return samples


class _QuietHost(durable_engine.Host):  # the bare minimum needed to run without a dispatcher
    def _run(self) -> None:
        return None


def raw_durable(version: refundrules.PackVersion) -> Callable[[dict[str, Any]], list[str]]:
    """The same decision rules on a bare Host, fired with assert_fact/retract_fact."""
    fired: list[str] = []
    groups = version._compiled().decision._groups  # the rulesets, in durable's own form
    host = _QuietHost()
    names = []
    for index, group in enumerate(groups):
        ruleset = {}
        for rule in group:
            ruleset[rule.rule_id] = {
                "all": [{"m": {"$and": [{DISCRIMINATOR: CASE_KIND}, rule.condition]}}],
                "pri": rule.priority,
                "run": (lambda rule_id: lambda c: fired.append(rule_id))(rule.rule_id),
            }
        name = f"bench-raw-{index}"
        host.register_rulesets({name: ruleset})
        names.append(name)

    def fire(facts: dict[str, Any]) -> list[str]:
        fired.clear()
        fact = {**facts, "sid": "bench", "id": "case", DISCRIMINATOR: CASE_KIND}
        for name in names:
            with contextlib.suppress(durable_engine.MessageNotHandledException):
                host.assert_fact(name, fact)
            with contextlib.suppress(durable_engine.MessageNotHandledException):
                host.retract_fact(name, {"sid": "bench", "id": "case"})
        # durable runs a rule's action once for each of its `$or` paths that holds (a case on
        # two paths of one rule fires it twice): one rule is one rule, as in RuleEngine.fire.
        return list(dict.fromkeys(fired))

    return fire


def generated(family: refundrules.RulePack, count: int) -> list[tuple[refundrules.Case, datetime]]:
    """``count`` (case, as_of) pairs from the public strategies (fixed seed)."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    from refundrules.testing import evaluations

    found: list[tuple[refundrules.Case, datetime]] = []

    @seed(11)
    @settings(
        max_examples=count,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(evaluations(family))
    def collect(evaluation: tuple[refundrules.Case, datetime]) -> None:
        found.append(evaluation)

    collect()
    return found


def fire_on_generated(family: refundrules.RulePack, count: int, rounds: int) -> None:
    pairs = generated(family, count)
    chosen = Counter(family.version_for(case).version for case, _ in pairs)
    version = family.version(chosen.most_common(1)[0][0])  # the version most cases select
    facts = []
    for case, moment in pairs:
        chosen = family.version_for(case)
        if chosen is version:
            full = chosen.facts(case, moment)
            facts.append({name: full[name] for name in chosen._compiled().decision_fields})
    rules = version._decision.rules
    label = version._decision.label
    uncached = RuleEngine(label, rules, cache_size=0)
    warm = RuleEngine(label, rules)
    zen, python, host = zen_fire(rules), python_fire(rules), raw_durable(version)
    for fact in facts:
        expected = uncached.fire(fact)
        assert warm.fire(fact) == expected, "cached and uncached disagree"
        assert zen(fact) == expected, f"zen-engine disagrees: {zen(fact)} != {expected}"
        assert python(fact) == expected, f"plain Python disagrees on {fact}"
        assert host(fact) == expected, "the host path disagrees"
    cache = warm.cache
    assert cache is not None
    signatures = len(cache)
    cold_engines = [RuleEngine(label, rules) for _ in range(rounds)]

    def cold() -> None:
        engine = cold_engines.pop()
        for fact in facts:
            engine.fire(fact)
        engine.close()

    n = len(facts)
    rates = best_rates(
        {
            "host path (baseline)": lambda: [host(f) for f in facts],
            "C, uncached": lambda: [uncached.fire(f) for f in facts],
            "cached, cold": cold,
            "cached, warm": lambda: [warm.fire(f) for f in facts],
            "zen collect": lambda: [zen(f) for f in facts],
            "plain Python": lambda: [python(f) for f in facts],
        },
        n,
        rounds,
    )
    print(
        f"fire on generated fact sets: {version.ref.id}@{version.version} decision "
        f"({len(rules)} rules); {n} of {len(pairs)} generated cases select it, "
        f"{signatures} distinct signatures; best of {rounds}; zen-engine, plain Python and "
        "the host path fire the same rule ids on every case"
    )
    zen_rate = rates["zen collect"]
    print(f"{'stage':<26}{'cases/s':>12}{'us/case':>10}{'x baseline':>12}{'x zen':>8}")
    for label_, rate in rates.items():
        base = rates["host path (baseline)"]
        print(
            f"{label_:<26}{rate:>12,.0f}{1e6 / rate:>10.1f}{rate / base:>12.2f}"
            f"{rate / zen_rate:>8.2f}"
        )
    uncached.close()
    warm.close()
    print()


def best_rates(
    stages: dict[str, Callable[[], object]], items: int, rounds: int
) -> dict[str, float]:
    """Cases per second for each stage, best of ``rounds``. Rounds are interleaved across the
    stages so that a noisy neighbour slows all of them alike and the ratios stay meaningful."""
    best = dict.fromkeys(stages, float("inf"))
    for _ in range(rounds):
        for label, work in stages.items():
            start = time.perf_counter()
            work()
            best[label] = min(best[label], time.perf_counter() - start)
    return {label: items / seconds for label, seconds in best.items()}


def best_seconds(work: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def batch_workers(
    pack_name: str, samples: list[tuple[refundrules.Case, datetime]], lines: int
) -> None:
    """``run_batch`` over the same JSONL file with 1 and 2 worker processes (pool start-up
    and each worker's engine load included); both outputs must be byte for byte the same."""
    from refundrules._batch import run_batch

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "cases.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for index in range(lines):
                case, moment = samples[index % len(samples)]
                line = {"case": case.model_dump(mode="json"), "as_of": moment.isoformat()}
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        seconds: dict[int, float] = {}
        outputs: dict[int, bytes] = {}
        for jobs in (1, 2):
            output = Path(folder) / f"out{jobs}.jsonl"
            seconds[jobs] = best_seconds(
                lambda jobs=jobs, output=output: run_batch(
                    source, output, packs=(pack_name,), jobs=jobs
                ),
                2,
            )
            outputs[jobs] = output.read_bytes()
        assert outputs[1] == outputs[2], "1 and 2 workers wrote different outputs"
    print(f"\nbatch: {lines} JSONL lines, best of 2 (process start-up included)")
    print(f"{'workers':<26}{'lines/s':>12}{'x 1 worker':>17}")
    for jobs, spent in seconds.items():
        print(f"{jobs:<26}{lines / spent:>12,.0f}{seconds[1] / spent:>17.2f}")


def loading(pack_name: str, rounds: int) -> None:
    pack = refundrules.load_rule_pack(pack_name)
    files = [pack.root / name for name in ("pack.yaml", "profile.yaml", "parameters.yaml")]
    files += sorted((pack.root / "rules").glob("*.yaml"))
    texts = [file.read_text(encoding="utf-8") for file in files]
    parse = best_seconds(
        lambda: [yaml.load(text, Loader=yaml.SafeLoader) for text in texts], rounds
    )
    load = best_seconds(lambda: refundrules.load_rule_pack(pack_name), rounds)
    print(f"\nloading the {pack.id} family ({len(pack.versions)} versions, {len(files)} files)")
    print(f"{'stage':<26}{'ms':>12}{'x baseline':>17}")
    print(f"{'yaml.safe_load (baseline)':<26}{parse * 1e3:>12.1f}{1.0:>17.2f}")
    print(f"{'load_rule_pack':<26}{load * 1e3:>12.1f}{load / parse:>17.2f}")

    example = ROOT / "examples" / "06_platform_reviewing_low_value.yaml"
    cli = Path(sys.executable).parent / "refundrules"
    commands = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "import refundrules": [sys.executable, "-c", "import refundrules"],
        "refundrules predict (CLI)": [
            str(cli),
            "predict",
            str(example),
            "--as-of",
            "2025-04-17T15:00:00+08:00",
        ],
    }
    cold = {
        label: best_seconds(
            lambda command=command: subprocess.run(command, check=True, capture_output=True), 3
        )
        for label, command in commands.items()
    }
    baseline = cold["python -c pass (baseline)"]
    print("\na cold process, best of 3")
    print(f"{'stage':<26}{'ms':>12}{'x baseline':>17}")
    for label, seconds in cold.items():
        print(f"{label:<26}{seconds * 1e3:>12.1f}{seconds / baseline:>17.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", default="pinduoduo")
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--generated", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--batch-lines", type=int, default=4000)
    args = parser.parse_args()

    family = refundrules.load_rule_pack(args.pack)
    fire_on_generated(family, args.generated, args.rounds)
    samples = sample_cases(args.cases)
    pack = family.version_for(samples[0][0])
    samples = [(case, moment) for case, moment in samples if family.version_for(case) is pack]
    facts = [pack.facts(case, moment) for case, moment in samples]
    fields = pack._compiled().decision_fields
    projected = [{name: f[name] for name in fields} for f in facts]
    raw = raw_durable(pack)
    for full, fact in zip(facts, projected, strict=True):
        assert sorted(raw(fact)) == sorted(pack.fire(full)), "raw and adapter disagree"

    # The reference path (fast=False): every fact derived afresh, durable asked about every
    # case, every part validated, nothing kept. Every answer must be the fast path's.
    family.predict(*samples[0])  # builds the likelihood table both paths read
    for case, moment in samples:
        fast, reference = family.predict(case, moment), family.predict(case, moment, fast=False)
        assert fast == reference, "the fast path and the reference path disagree"
        assert fast.model_dump_json() == reference.model_dump_json()
        assert repr(fast.model_dump()) == repr(reference.model_dump())
    deriver = pack._predictor._fact_deriver(pack._compiled())

    n = len(samples)
    rates = best_rates(
        {
            "raw durable (baseline)": lambda: [raw(f) for f in projected],
            "engine adapter (fire)": lambda: [pack.fire(f) for f in facts],
            "facts (derive_facts)": lambda: [pack.facts(c, m) for c, m in samples],
            "facts (FactDeriver)": lambda: [
                deriver(case_at(pack.profile, c, m)) for c, m in samples
            ],
            "predict, fast=False": lambda: [family.predict(c, m, fast=False) for c, m in samples],
            "predict (end to end)": lambda: [family.predict(c, m) for c, m in samples],
        },
        n,
        args.rounds,
    )
    baseline = rates["raw durable (baseline)"]
    print(
        f"refundrules {refundrules.__version__} pack {pack.ref.id}@{pack.ref.version} "
        f"({len(pack.rules)} rules, {pack._compiled().decision.ruleset_count} decision rulesets); "
        f"Python {platform.python_version()}; {n} cases x best of {args.rounds}"
    )
    print(f"{'stage':<26}{'cases/s':>12}{'us/case':>10}{'x baseline time':>17}")
    for label, rate in rates.items():
        print(f"{label:<26}{rate:>12,.0f}{1e6 / rate:>10.1f}{baseline / rate:>17.2f}")
    end_to_end, reference = rates["predict (end to end)"], rates["predict, fast=False"]
    print(
        f"\npredict end to end: {end_to_end:,.0f} predictions/s in one process, "
        f"{end_to_end / reference:.2f}x the reference path (fast=False, {reference:,.0f}/s); "
        f"every one of the {n} answers identical to the reference path's"
    )

    batch_workers(args.pack, samples, args.batch_lines)
    loading(args.pack, args.rounds)


if __name__ == "__main__":
    main()
