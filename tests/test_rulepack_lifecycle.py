"""A RulePack's life: closed by a ``with`` block or by ``close()`` (also while another
thread predicts), freed when collected, and pickled cheaply (the checked pack travels, its
durable rulesets are rebuilt on the other side)."""

from __future__ import annotations

import gc
import io
import json
import pickle
import subprocess
import sys
import textwrap
from datetime import datetime
from typing import Any

import pytest

import refundrules
from refundrules import EngineError, RulePack, load_rule_pack

from .conftest import ROOT, freed_among, spy_ruleset_deletes

AS_OF: dict[str, str] = json.loads((ROOT / "examples" / "as_of.json").read_text("utf-8"))
EXAMPLES = [
    (refundrules.load_case(ROOT / "examples" / name), datetime.fromisoformat(moment))
    for name, moment in sorted(AS_OF.items())
]


def _engines(pack: RulePack) -> list[Any]:
    """Every version's engines (each version registers its rulesets on first use)."""
    engines = []
    for version in pack.versions:
        compiled = version._compiled()
        engines += [compiled.decision, compiled.consequence]
    return [engine for engine in engines if engine is not None]


def _names(pack: RulePack) -> set[str]:
    return {name for engine in _engines(pack) for name in engine._names}


def _handles(pack: RulePack) -> list[int]:
    return [
        engine._host._ruleset_directory[name]._handle
        for engine in _engines(pack)
        for name in engine._names
    ]


@pytest.fixture
def deleted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return spy_ruleset_deletes(monkeypatch)


def test_pack_closes_at_the_end_of_a_with_block(deleted: list[int]) -> None:
    case, as_of = EXAMPLES[0]
    with load_rule_pack("pinduoduo") as pack:
        handles = _handles(pack)
        assert pack.predict(case, as_of).stage
    assert sorted(freed_among(deleted, handles)) == sorted(handles)
    with pytest.raises(EngineError, match="closed"):
        pack.predict(case, as_of)


def test_with_block_closes_the_pack_when_it_raises(deleted: list[int]) -> None:
    with pytest.raises(KeyError), load_rule_pack("pinduoduo") as pack:
        handles = _handles(pack)
        raise KeyError("boom")
    assert sorted(freed_among(deleted, handles)) == sorted(handles)


def test_dropped_pack_frees_its_rulesets(deleted: list[int]) -> None:
    pack = load_rule_pack("pinduoduo")
    handles = _handles(pack)
    assert len(handles) > 1
    del pack
    gc.collect()
    assert sorted(freed_among(deleted, handles)) == sorted(handles)


def test_close_while_other_threads_predict(tmp_path: Any) -> None:
    """Threads predicting the bundled examples while the pack is closed: each prediction is
    the one a fresh pack gives, or an EngineError saying the pack was closed; no crash (in a
    subprocess, so a use-after-free would fail this test rather than kill pytest)."""
    code = textwrap.dedent(
        f"""
        import json, threading, time
        from datetime import datetime
        from pathlib import Path
        import refundrules
        from refundrules import EngineError

        root = Path({str(ROOT)!r})
        as_of = json.loads((root / "examples" / "as_of.json").read_text("utf-8"))
        examples = [(refundrules.load_case(root / "examples" / name),
                     datetime.fromisoformat(moment)) for name, moment in sorted(as_of.items())]
        reference = refundrules.load_rule_pack("pinduoduo")
        expected = [reference.predict(case, moment) for case, moment in examples]
        pack = refundrules.load_rule_pack("pinduoduo")
        # The first prediction builds the likelihood table (every published record predicted
        # once): done before the threads start, so that predictions finish before the close.
        assert pack.predict(*examples[0]) == expected[0]
        counts = {{"ok": 0, "wrong": 0, "closed": 0, "other": 0}}
        lock = threading.Lock()

        def work(seed):
            k = seed
            while True:
                index = k % len(examples)
                k += 1
                try:
                    got = pack.predict(*examples[index])
                    key = "ok" if got == expected[index] else "wrong"
                except EngineError as exc:
                    key = "closed" if "closed" in str(exc) else "other"
                with lock:
                    counts[key] += 1
                if key != "ok":
                    return

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(3)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60  # the first prediction also predicts the outcomes
        while time.monotonic() < deadline:
            with lock:
                if counts["ok"] >= 3:
                    break
            time.sleep(0.01)
        pack.close()
        for thread in threads:
            thread.join(timeout=30)
        print(json.dumps(counts | {{"alive": sum(t.is_alive() for t in threads)}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["alive"] == 0
    assert counts["wrong"] == 0 and counts["other"] == 0
    assert counts["closed"] == 3 and counts["ok"] > 0


@pytest.fixture(scope="module")
def pdd() -> RulePack:
    return load_rule_pack("pinduoduo")


def test_unpickled_pack_predicts_the_examples_identically(pdd: RulePack) -> None:
    clone = pickle.loads(pickle.dumps(pdd))
    try:
        assert clone.ref == pdd.ref and repr(clone) == repr(pdd)
        assert _names(clone).isdisjoint(_names(pdd))
        for case, as_of in EXAMPLES:
            assert clone.predict(case, as_of) == pdd.predict(case, as_of)
            facts = pdd.facts(case, as_of)
            assert clone.fire(facts) == pdd.fire(facts)
    finally:
        clone.close()
    assert pdd.predict(*EXAMPLES[0])  # closing the copy leaves the original open


class _GlobalsSeen(pickle.Unpickler):
    """An unpickler that records the module of every class or function the pickle names."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.modules: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.modules.add(module)
        return super().find_class(module, name)


def test_pickle_holds_the_checked_pack_not_durable_objects_or_locks(pdd: RulePack) -> None:
    unpickler = _GlobalsSeen(pickle.dumps(pdd))
    clone = unpickler.load()
    clone.close()
    assert "refundrules._loader" in unpickler.modules  # the checked definition travels
    engine_side = ("durable", "durable_rules_engine", "_thread", "threading", "weakref")
    assert not {module for module in unpickler.modules if module.startswith(engine_side)}
    assert "refundrules._engine" not in unpickler.modules


def test_closed_pack_unpickles_open() -> None:
    pack = load_rule_pack("pinduoduo")
    expected = pack.predict(*EXAMPLES[0])
    pack.close()
    with pickle.loads(pickle.dumps(pack)) as clone:
        assert clone.predict(*EXAMPLES[0]) == expected
    with pytest.raises(EngineError, match="closed"):
        pack.predict(*EXAMPLES[0])


def test_a_likelihood_table_built_across_a_closed_version_is_refused() -> None:
    """The first prediction predicts every published record; a version closed by then turns
    its records into problems. That partial table must not be kept or used (it would give
    wrong likelihoods to every later prediction)."""
    pack = load_rule_pack("pinduoduo")
    case, as_of = EXAMPLES[0]
    chosen = pack.version_for(case)
    other = next(version for version in pack.versions if version is not chosen)
    other.close()
    with pytest.raises(EngineError, match="closed"):
        pack.predict(case, as_of)
    assert pack._likelihoods is None
    assert pack.predict(case, as_of, likelihood=False).likelihood is None
    pack.close()
