"""The fast prediction path answers exactly what the reference path (``fast=False``) answers.

The reference path derives every fact afresh, asks durable-rules about every case, validates
every part with pydantic and keeps nothing between cases; the fast path uses the fact
deriver, the firing cache, the memos and trusted construction (``_predictor``). Generated
cases of every bundled pack, at times on and around its thresholds, must give predictions
that dump identically (values *and* types: an enum is not its text), or the same error.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import refundrules
from refundrules import RefundRulesError
from refundrules._predictor import Predictor
from refundrules.testing import evaluations

from .conftest import BUNDLED, ROOT


def _answer(
    family: refundrules.RulePack, case: refundrules.Case, as_of: datetime, *, fast: bool
) -> tuple[str, str]:
    """The prediction as JSON and as Python values with their types (or the error)."""
    try:
        found = family.predict(case, as_of, fast=fast)
    except RefundRulesError as exc:
        return type(exc).__name__, str(exc)
    return found.model_dump_json(), repr(found.model_dump())


def test_every_bundled_pack_is_checked() -> None:
    assert {"pinduoduo", "taobao", "jd", "amazon", "ebay"} <= set(BUNDLED)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_fast_path_predicts_exactly_as_the_reference_path(
    families: dict[str, refundrules.RulePack], data: st.DataObject
) -> None:
    family = families[data.draw(st.sampled_from(BUNDLED), label="pack")]
    case, as_of = data.draw(evaluations(family), label="evaluation")
    expected = _answer(family, case, as_of, fast=False)
    assert _answer(family, case, as_of, fast=True) == expected  # decided, or memo filled
    assert _answer(family, case, as_of, fast=True) == expected  # answered from the memos


def _examples() -> list[tuple[str, Path, str]]:
    """Every bundled example: (pack, file, as_of), from each examples folder's as_of.json."""
    found = []
    for folder, pack in [(ROOT / "examples", "pinduoduo")] + [
        (ROOT / "examples" / name, name) for name in BUNDLED if name != "pinduoduo"
    ]:
        as_of = json.loads((folder / "as_of.json").read_text(encoding="utf-8"))
        found += [(pack, folder / name, moment) for name, moment in sorted(as_of.items())]
    return found


def test_fast_path_predicts_the_bundled_examples_as_the_reference_path(
    families: dict[str, refundrules.RulePack],
) -> None:
    examples = _examples()
    assert {pack for pack, _, _ in examples} == set(BUNDLED)
    for pack, path, moment in examples:
        family = families[pack]
        case = family.load_case(path)
        when = datetime.fromisoformat(moment)
        fast = family.predict(case, when, recommend=True, language="zh")
        reference = family.predict(case, when, recommend=True, language="zh", fast=False)
        assert fast == reference, path.name
        assert repr(fast.model_dump()) == repr(reference.model_dump()), path.name


def test_fast_path_gives_the_same_error_when_no_rule_decides(
    families: dict[str, refundrules.RulePack],
) -> None:
    family = families["pinduoduo"]
    case = family.load_case(ROOT / "examples" / "01_awaiting_seller.yaml")
    before = datetime.fromisoformat("2020-01-01T00:00:00+08:00")
    assert _answer(family, case, before, fast=True) == _answer(family, case, before, fast=False)


def test_reference_path_leaves_the_memos_and_the_cache_alone() -> None:
    family = refundrules.load_rule_pack("pinduoduo")
    try:
        case = family.load_case(ROOT / "examples" / "01_awaiting_seller.yaml")
        when = datetime.fromisoformat("2025-03-05T12:00:00+08:00")
        version = family.version_for(case)
        # (likelihood=False: the family's likelihood table, built once, predicts its records.)
        family.predict(case, when, likelihood=False, fast=False)
        engines = version._compiled()
        assert engines.decision.cache is not None and len(engines.decision.cache) == 0
        assert len(version._predictor.plans) == 0
        family.predict(case, when, likelihood=False)
        assert len(engines.decision.cache) == 1
        assert len(version._predictor.plans) == 1
    finally:
        family.close()


def test_memos_stay_within_their_bound_and_answers_stay_right(
    families: dict[str, refundrules.RulePack],
) -> None:
    family = families["pinduoduo"]
    case = family.load_case(ROOT / "examples" / "01_awaiting_seller.yaml")
    version = family.version_for(case)
    rules = {rule.spec.id: rule for rule in version.rules}
    small = Predictor(version.definition, rules, version.ref, "bounded", memo_size=2)
    engines = version._compiled()
    fired_sets: set[tuple[str, ...]] = set()
    start = case.request.requested_at
    for hours in range(0, 24 * 30, 6):  # a month of one case: several fired sets
        moment = start + timedelta(hours=hours)
        try:
            got = small.predict(engines, case, moment, (), fast=True)
        except RefundRulesError:
            continue
        want = small.predict(engines, case, moment, (), fast=False)
        assert got.model_dump_json() == want.model_dump_json()
        fired_sets.add(got.fired_rules)
        assert len(small.plans) <= 2 and len(small.contributions) <= 2
    assert len(fired_sets) > 2, "the case should pass through more fired sets than the bound"


def test_eight_threads_predict_as_one() -> None:
    family = refundrules.load_rule_pack("pinduoduo")
    as_of = json.loads((ROOT / "examples" / "as_of.json").read_text(encoding="utf-8"))
    work = [
        (family.load_case(ROOT / "examples" / name), datetime.fromisoformat(moment))
        for name, moment in sorted(as_of.items())
    ]
    expected = [family.predict(case, when, fast=False).model_dump_json() for case, when in work]
    results: list[list[str]] = [[] for _ in range(8)]

    def run(slot: int) -> None:
        for _ in range(5):
            for case, when in work:
                results[slot].append(family.predict(case, when).model_dump_json())

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    family.close()
    for found in results:
        assert found == expected * 5
