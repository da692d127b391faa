"""Engine(watch=True): a pack reloads when its files change; a broken change keeps the old pack
and is reported; the watcher sleeps between checks and stops with the engine."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import refundrules
from refundrules import _watch
from refundrules.exceptions import RefundRulesError, ReloadError

from .test_service import AS_OF, CASE, shorten_window


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def watchers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "refundrules-watch"]


def test_a_changed_pack_is_reloaded_and_predicts_the_new_way(pack_copy: Path) -> None:
    case = refundrules.load_case(CASE)
    with refundrules.Engine([pack_copy], watch=True, watch_interval=0.05) as engine:
        assert engine.watching and engine.last_reload("pinduoduo") is None
        before = engine.predict(case, AS_OF)
        shorten_window(pack_copy, 24)  # 28 hours of silence now pass the window
        wait_for(lambda: engine.info("pinduoduo").generation == 2)
        after = engine.predict(case, AS_OF)
        result = engine.last_reload("pinduoduo")
        assert isinstance(result, refundrules.ReloadResult) and result.changed
    assert before.pack.content_hash != after.pack.content_hash
    assert before.resolution.rule_id != after.resolution.rule_id


def test_a_broken_change_keeps_the_old_pack_and_is_reported(
    pack_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    case = refundrules.load_case(CASE)
    rules = pack_copy / "rules" / "20_seller_response.yaml"
    with refundrules.Engine([pack_copy], watch=True, watch_interval=0.05) as engine:
        expected = engine.predict(case, AS_OF)
        with caplog.at_level(logging.WARNING, logger="refundrules.engine"):
            rules.write_text(rules.read_text(encoding="utf-8") + "\n  - id: [broken\n", "utf-8")
            wait_for(lambda: engine.last_reload("pinduoduo") is not None)
            # the failure is recorded first and logged just after, by the watcher's thread
            wait_for(lambda: any("old pack stays" in r.getMessage() for r in caplog.records))
        failure = engine.last_reload("pinduoduo")
        assert isinstance(failure, ReloadError)
        assert "20_seller_response.yaml" in str(failure.cause)
        assert failure.kept == engine.info("pinduoduo").versions[-1].content_hash[:16]
        assert engine.info("pinduoduo").generation == 1
        assert engine.predict(case, AS_OF) == expected
        assert any("old pack stays in use" in record.getMessage() for record in caplog.records)
        # fixing the file reloads again
        rules.write_text(
            rules.read_text(encoding="utf-8").replace("\n  - id: [broken\n", ""), "utf-8"
        )
        wait_for(lambda: engine.info("pinduoduo").generation == 2)
        assert isinstance(engine.last_reload("pinduoduo"), refundrules.ReloadResult)


def test_the_watcher_sleeps_between_checks_and_stops_with_the_engine(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []
    real = _watch.snapshot

    def counting(root: Path) -> _watch.Snapshot:
        calls.append(time.monotonic())
        return real(root)

    monkeypatch.setattr(_watch, "snapshot", counting)
    before = len(watchers())
    engine = refundrules.Engine([pack_copy])
    engine.watch(interval=0.1)
    engine.watch(interval=0.1)  # a second call starts no second thread
    assert len(watchers()) == before + 1
    time.sleep(1.0)
    checks = len(calls)
    assert 3 <= checks <= 12  # about one per interval, never a busy loop
    assert engine.info("pinduoduo").generation == 1  # nothing changed, nothing reloaded
    engine.close()
    assert not engine.watching and len(watchers()) == before
    time.sleep(0.3)
    assert len(calls) == checks
    with pytest.raises(RefundRulesError, match="closed"):
        engine.watch()


def test_a_watch_interval_must_be_positive(pack_copy: Path) -> None:
    with (
        refundrules.Engine([pack_copy]) as engine,
        pytest.raises(RefundRulesError, match="positive"),
    ):
        engine.watch(interval=0)


@pytest.mark.parametrize("interval", [0, -1, float("nan"), float("inf")])
def test_a_refused_interval_frees_the_packs_already_loaded(
    pack_copy: Path, interval: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    original = refundrules.RulePack.close

    def spy(self: refundrules.RulePack) -> None:
        closed.append(self.id)
        original(self)

    monkeypatch.setattr(refundrules.RulePack, "close", spy)
    with pytest.raises(RefundRulesError, match="watch interval"):
        refundrules.Engine([pack_copy], watch=True, watch_interval=interval)
    assert "pinduoduo" in closed and not watchers()
