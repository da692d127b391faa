"""Engine(watch=True): a pack reloads when its files change; a broken change keeps the old pack
and is reported; the watcher sleeps between checks and stops with the engine."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import refundrules
from refundrules import _watch
from refundrules.exceptions import RefundRulesError, ReloadError

from .conftest import ROOT
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



def test_an_edit_to_the_seller_actions_alone_is_reloaded_as_a_change(pack_copy: Path) -> None:
    actions = pack_copy / "seller_actions.yaml"
    with refundrules.Engine([pack_copy], watch=True, watch_interval=0.05) as engine:
        before = engine.info("pinduoduo").versions
        text = actions.read_text(encoding="utf-8")
        actions.write_text(text.replace("Agree to the request now", "Agree to it now"), "utf-8")
        wait_for(lambda: engine.info("pinduoduo").generation == 2)
        result = engine.last_reload("pinduoduo")
        assert isinstance(result, refundrules.ReloadResult) and result.changed
        after = engine.info("pinduoduo").versions
    pairs = zip(before, after, strict=True)
    assert all(one.content_hash != other.content_hash for one, other in pairs)

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


def test_a_close_while_watch_starts_its_watcher_leaves_none_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from refundrules import _service

    engine = refundrules.Engine(["pinduoduo"])
    closers: list[threading.Thread] = []

    class CloseRightAfterStarting(_watch.PackWatcher):
        """The watcher starts, then another thread closes the engine before watch() returns."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            closer = threading.Thread(target=engine.close)
            closers.append(closer)
            closer.start()
            # Give close() its chance to run now; it must then wait for watch() (or find the
            # watcher). Not an assertion on time: a correct engine passes however long this is.
            closer.join(timeout=0.5)

    monkeypatch.setattr(_service, "PackWatcher", CloseRightAfterStarting)
    engine.watch(3600)  # an hour between checks: a leaked watcher would still be waiting
    for closer in closers:
        closer.join()
    leaked = engine._watcher
    try:
        assert leaked is None and not engine.watching
        assert watchers() == []
    finally:
        if leaked is not None:
            leaked.stop()


def test_threads_watching_and_closing_at_once_leave_no_watcher_running() -> None:
    for _ in range(5):
        engine = refundrules.Engine(["pinduoduo"])
        start = threading.Barrier(4)

        def watch_or_close(
            close: bool, engine: refundrules.Engine = engine, start: threading.Barrier = start
        ) -> None:
            start.wait()
            if close:
                engine.close()
                return
            with contextlib.suppress(RefundRulesError):  # closed first: refused
                engine.watch(3600)

        threads = [threading.Thread(target=watch_or_close, args=(n % 2 == 0,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not engine.watching and watchers() == []
        with pytest.raises(RefundRulesError, match="closed"):
            engine.watch(3600)


def test_a_snapshot_sees_the_shared_parts_beside_the_pack(tmp_path: Path) -> None:
    pack = tmp_path / "taobao"
    shutil.copytree(ROOT / "rules" / "taobao", pack)
    shutil.copytree(ROOT / "rules" / "_shared", tmp_path / "_shared")
    before = _watch.snapshot(pack)
    part = tmp_path / "_shared" / "china_law" / "parameters.yaml"
    part.write_text(part.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after = _watch.snapshot(pack)
    assert before is not None and after is not None
    assert before != after
    assert any(name.startswith(os.path.join("..", "_shared")) for name, _, _ in after)
