"""The long-lived Engine: hot reload with an atomic swap, failed reloads, freeing, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import refundrules
from refundrules import Engine, ReloadError, RulePackError, UnknownPackError
from refundrules._loader import bundled_pack_names
from tests.conftest import ROOT, at, freed_among, spy_ruleset_deletes

CASE = ROOT / "examples" / "01_awaiting_seller.yaml"
AS_OF = at("2025-03-05T12:00:00+08:00")  # 28 hours of seller silence


def shorten_window(pack: Path, hours: int) -> None:
    """Set the seller's response window (48 hours in the pack) to ``hours``."""
    path = pack / "parameters.yaml"
    text = path.read_text(encoding="utf-8")
    old = "  seller_response_window_hours:\n    value: 48\n"
    assert old in text
    path.write_text(text.replace(old, old.replace("48", str(hours))), encoding="utf-8")


def ruleset_handles(pack: refundrules.RulePack) -> list[int]:
    handles: list[int] = []
    for version in pack.versions:
        compiled = version._compiled()
        for engine in (compiled.decision, compiled.consequence):
            if engine is not None:
                handles += [engine._host._ruleset_directory[name]._handle for name in engine._names]
    return handles


def test_the_engine_predicts_as_the_pack_does(pack: refundrules.RulePack) -> None:
    case = refundrules.load_case(CASE)
    with Engine() as engine:
        assert [info.id for info in engine.packs()] == list(bundled_pack_names())
        assert engine.predict(case, AS_OF) == pack.predict(case, AS_OF)
        # a mapping is checked against the pack's profile, like load_case
        assert engine.predict(case.model_dump(mode="json"), AS_OF) == pack.predict(case, AS_OF)


def test_a_reload_swaps_in_the_edited_pack(pack_copy: Path) -> None:
    case = refundrules.load_case(CASE)
    with Engine([pack_copy]) as engine:
        before = engine.predict(case, AS_OF)
        assert before.stage.value == "awaiting_seller"
        shorten_window(pack_copy, 24)
        result = engine.reload("pinduoduo")
        assert result.changed
        assert (result.before.generation, result.after.generation) == (1, 2)
        after = engine.predict(case, AS_OF)
        assert after.stage != before.stage
        assert after.pack.content_hash != before.pack.content_hash
        assert engine.info("pinduoduo").generation == 2
        unchanged = engine.reload("pinduoduo")
        assert not unchanged.changed and unchanged.after.generation == 3


def test_a_failed_reload_keeps_the_old_pack_and_says_why(pack_copy: Path) -> None:
    case = refundrules.load_case(CASE)
    with Engine([pack_copy]) as engine:
        before = engine.predict(case, AS_OF)
        (pack_copy / "parameters.yaml").write_text("parameters: [unclosed\n", encoding="utf-8")
        with pytest.raises(ReloadError) as caught:
            engine.reload("pinduoduo")
        assert isinstance(caught.value.cause, RulePackError)
        assert caught.value.cause.path is not None
        assert caught.value.cause.path.endswith("parameters.yaml")
        assert engine.info("pinduoduo").versions[-1].content_hash.startswith(caught.value.kept)
        assert engine.predict(case, AS_OF) == before
        assert engine.info("pinduoduo").generation == 1


def test_a_prediction_in_flight_finishes_on_the_old_pack_which_is_then_freed(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = refundrules.load_case(CASE)
    with Engine([pack_copy]) as engine:
        engine.predict(case, AS_OF)
        with engine.lease("pinduoduo") as old:
            handles = ruleset_handles(old)
            deleted = spy_ruleset_deletes(monkeypatch)
            shorten_window(pack_copy, 24)
            engine.reload("pinduoduo")
            # still usable inside the lease, with the old answer; new predictions use the new
            assert old.predict(case, AS_OF).stage.value == "awaiting_seller"
            assert engine.predict(case, AS_OF).stage.value != "awaiting_seller"
            assert freed_among(deleted, handles) == []
        assert sorted(freed_among(deleted, handles)) == sorted(handles)
        with pytest.raises(refundrules.EngineError):
            old.predict(case, AS_OF)


def test_an_idle_old_pack_is_freed_at_the_swap(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = refundrules.load_case(CASE)
    with Engine([pack_copy]) as engine:
        engine.predict(case, AS_OF)
        with engine.lease("pinduoduo") as old:
            handles = ruleset_handles(old)
        deleted = spy_ruleset_deletes(monkeypatch)
        engine.reload("pinduoduo")
        assert sorted(freed_among(deleted, handles)) == sorted(handles)


def test_unknown_packs_and_platforms_are_our_errors() -> None:
    with Engine(["pinduoduo"]) as engine:
        with pytest.raises(UnknownPackError, match="loaded: pinduoduo"):
            engine.reload("taobao")
        with pytest.raises(UnknownPackError):
            engine.predict({"platform": "pinduoduo"}, AS_OF, pack="taobao")
        with pytest.raises(refundrules.CaseError, match="platform"):
            engine.predict({"platform": "taobao"}, AS_OF)
        with pytest.raises(refundrules.CaseError, match="platform"):
            engine.predict({}, AS_OF)
    with pytest.raises(refundrules.RefundRulesError, match="closed"):
        engine.predict({"platform": "pinduoduo"}, AS_OF)


def test_predictions_during_reloads_from_many_threads_are_old_or_new(pack_copy: Path) -> None:
    case = refundrules.load_case(CASE)
    with Engine([pack_copy]) as engine:
        old = engine.predict(case, AS_OF)
        shorten_window(pack_copy, 24)
        with Engine([pack_copy]) as reference:
            new = reference.predict(case, AS_OF)
        assert new != old
        errors: list[BaseException] = []
        seen: set[str] = set()
        stop = threading.Event()

        def client() -> None:
            try:
                while not stop.is_set():
                    prediction = engine.predict(case, AS_OF)
                    assert prediction in (old, new)
                    seen.add(prediction.pack.content_hash)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        for _ in range(3):
            engine.reload("pinduoduo")
        stop.set()
        for thread in threads:
            thread.join()
        assert errors == []
        assert engine.predict(case, AS_OF) == new
        assert new.pack.content_hash in seen


def test_closing_a_pack_that_predicted_frees_its_session_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """durable's delete_ruleset leaves the session's state allocated (about 0.9 MiB a pack
    version, so every reload grew memory by megabytes): closing deletes it first."""
    import durable_rules_engine

    freed: list[int] = []
    original = durable_rules_engine.delete_state

    def spy(handle: int, sid: str) -> object:
        freed.append(handle)
        return original(handle, sid)

    monkeypatch.setattr(durable_rules_engine, "delete_state", spy)
    case = refundrules.load_case(CASE)
    pack = refundrules.load_rule_pack("pinduoduo")
    pack.predict(case, AS_OF)
    handles = ruleset_handles(pack)  # every version compiled, one predicted
    pack.close()
    assert sorted(freed) == sorted(handles)
