"""Reload packs when their files change: a polling thread over the files' sizes and mtimes.

Polling (no extra dependency, works on every file system, including network and container
mounts where change notifications are unreliable) costs one ``stat`` per pack file per
interval; the thread sleeps on an event in between, so it never spins and stops at once when
asked. A change is reloaded once the files have stayed the same for one more interval, so an
editor or ``git checkout`` writing several files produces one reload, not a half-written pack.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from refundrules._parts import PARTS_FOLDER
from refundrules.exceptions import RefundRulesError, ReloadError

__all__ = ["LOGGER", "PackWatcher", "snapshot"]

LOGGER = "refundrules.engine"

Snapshot = tuple[tuple[str, int, int], ...] | None


def snapshot(root: Path) -> Snapshot:
    """Every YAML file under ``root`` with its size and mtime (``None`` if ``root`` is gone),
    and those of the shared parts beside it (``../_shared``), which the pack may include."""
    try:
        shared = root.parent / PARTS_FOLDER
        folders = [root, shared] if shared.is_dir() else [root]
        files = sorted(
            path
            for folder in folders
            for path in folder.rglob("*")
            if path.suffix in (".yaml", ".yml") and path.is_file()
        )
        return tuple(
            (os.path.relpath(path, root), stat.st_size, stat.st_mtime_ns)
            for path, stat in ((path, path.stat()) for path in files)
        )
    except OSError:
        return None


class PackWatcher:
    """Calls ``reload(pack_id)`` when the files under a pack's folder change.

    ``roots()`` gives the folder of every pack to watch (asked each interval, so packs added or
    reloaded from elsewhere are followed). Runs in a daemon thread until :meth:`stop`.
    """

    def __init__(
        self,
        roots: Callable[[], Mapping[str, Path]],
        reload: Callable[[str], object],
        *,
        interval: float = 1.0,
    ) -> None:
        if not math.isfinite(interval) or interval <= 0:
            raise RefundRulesError(f"the watch interval must be positive seconds, got {interval}")
        self.interval = interval
        self._roots = roots
        self._reload = reload
        self._stopping = threading.Event()
        self._seen = {pack_id: snapshot(root) for pack_id, root in roots().items()}
        self._thread = threading.Thread(target=self._run, name="refundrules-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        log = logging.getLogger(LOGGER)
        pending: dict[str, Snapshot] = {}
        while not self._stopping.wait(self.interval):
            try:
                roots = self._roots()
            except RefundRulesError:  # the engine was closed
                return
            for pack_id, root in roots.items():
                now = snapshot(root)
                if pack_id not in self._seen:
                    self._seen[pack_id] = now
                if now == self._seen[pack_id]:
                    pending.pop(pack_id, None)
                    continue
                if pack_id not in pending or pending[pack_id] != now:  # wait until it holds still
                    pending[pack_id] = now
                    continue
                del pending[pack_id]
                self._seen[pack_id] = now
                try:
                    self._reload(pack_id)
                except ReloadError as exc:
                    log.warning(
                        "reload after a file change failed; the old pack stays in use: %s",
                        exc,
                        extra={"pack_id": pack_id},
                    )
                except RefundRulesError:  # the engine was closed meanwhile
                    return
                else:
                    log.info("reloaded after a file change", extra={"pack_id": pack_id})

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop the thread and wait for it (a reload in progress finishes first)."""
        self._stopping.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
