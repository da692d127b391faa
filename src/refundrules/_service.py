"""A long-lived engine for services: the installed pack families, reloadable while predicting.

:class:`Engine` holds one :class:`RulePack` per family id. ``reload(pack_id)`` reads the
family again from where it came from, builds its rulesets, and only then swaps it in under a
lock: a prediction that already holds the old pack finishes on it, every later one uses the
new one, and the old pack is closed (its durable rulesets freed) when its last prediction
returns. A reload that fails keeps the old pack and raises :class:`ReloadError` saying why.
``watch=True`` (or :meth:`Engine.watch`) reloads a pack when its files change.

>>> engine = Engine(["pinduoduo"])  # doctest: +SKIP
>>> engine.reload("pinduoduo").generation  # doctest: +SKIP
2
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from refundrules._case import Case
from refundrules._case_file import load_case
from refundrules._installed import installed_packs
from refundrules._loader import resolve_pack_path
from refundrules._prediction import PackRef, Prediction
from refundrules._records import DecisionLog, DecisionRecord
from refundrules._rulepack import RulePack, load_rule_pack
from refundrules._watch import PackWatcher
from refundrules.exceptions import (
    CaseError,
    RefundRulesError,
    ReloadError,
    RulePackError,
    UnknownPackError,
)

__all__ = ["Engine", "PackInfo", "ReloadResult"]


class PackInfo(BaseModel):
    """One family an :class:`Engine` holds: where it is read from, which load it is (the
    ``generation`` counts loads, 1 for the first), when it was loaded, and its versions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    platform: str
    source: str
    generation: int
    loaded_at: datetime
    versions: tuple[PackRef, ...]


class ReloadResult(BaseModel):
    """What a successful :meth:`Engine.reload` did: the pack before and after, and whether any
    version's content hash changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    changed: bool
    before: PackInfo
    after: PackInfo


class _Slot:
    """One loaded family and how many predictions are using it right now."""

    __slots__ = ("info", "pack", "retired", "source", "users")

    def __init__(self, pack: RulePack, source: str | Path, generation: int) -> None:
        self.pack = pack
        self.source = source
        self.users = 0
        self.retired = False
        self.info = PackInfo(
            id=pack.id,
            platform=pack.platform,
            source=str(source),
            generation=generation,
            loaded_at=datetime.now(UTC),
            versions=tuple(version.ref for version in pack.versions),
        )


def _built(source: str | Path) -> RulePack:
    """Load a family and build every version's rulesets, so a pack that durable refuses fails
    here, before it replaces anything."""
    pack = load_rule_pack(source)
    with ExitStack() as on_failure:  # closes the pack unless every version compiled
        on_failure.callback(pack.close)
        for version in pack.versions:
            version.compile()
        on_failure.pop_all()
    return pack


class Engine:
    """The pack families a long-running process predicts with, each reloadable in place.

    ``Engine()`` holds every installed family (bundled or from an entry point); ``Engine(["pinduoduo", "path/to/pack"])`` the
    ones named (a bundled name or a folder). Thread-safe: ``predict``, ``reload`` and
    ``packs`` may be called from any thread at once. ``close()`` (or leaving a ``with`` block)
    frees every pack. With ``records=DecisionLog(path)`` every prediction also appends its
    :class:`DecisionRecord` to that file (the caller closes the log).
    """

    def __init__(
        self,
        packs: Iterable[str | Path] | None = None,
        *,
        records: DecisionLog | None = None,
        watch: bool = False,
        watch_interval: float = 1.0,
    ) -> None:
        self._records = records
        self._watcher: PackWatcher | None = None
        self._last: dict[str, ReloadResult | ReloadError] = {}
        self._lock = threading.Lock()
        self._reloading = threading.Lock()  # one reload at a time; predictions never wait on it
        self._watching = threading.Lock()  # guards starting the watcher and taking it away
        self._slots: dict[str, _Slot] = {}
        self._closed = False
        sources = list(packs) if packs is not None else list(installed_packs())
        with ExitStack() as on_failure:  # frees what was built unless every pack loaded
            on_failure.callback(self.close)
            for source in sources:
                pack = _built(source)
                if pack.id in self._slots:
                    pack.close()
                    raise RefundRulesError(f"two packs have the id {pack.id!r}")
                self._slots[pack.id] = _Slot(pack, source, 1)
            if watch:  # a refused interval frees the packs too
                self.watch(watch_interval)
            on_failure.pop_all()

    # --- what it holds ---------------------------------------------------------------------
    def packs(self) -> tuple[PackInfo, ...]:
        """The families held, by id."""
        with self._lock:
            return tuple(self._slots[name].info for name in sorted(self._slots))

    def info(self, pack_id: str) -> PackInfo:
        with self._lock:
            return self._slot(pack_id).info

    def _slot(self, pack_id: str) -> _Slot:
        if self._closed:
            raise RefundRulesError("this engine was closed")
        try:
            return self._slots[pack_id]
        except KeyError:
            raise UnknownPackError(pack_id, known=tuple(sorted(self._slots))) from None

    def _for_platform(self, platform: str) -> str:
        """The loaded pack whose platform is ``platform``, else the one whose profile also
        serves it (two of those: an error naming both)."""
        for pack_id, slot in self._slots.items():
            if slot.pack.platform == platform:
                return pack_id
        serving = sorted(
            pack_id for pack_id, slot in self._slots.items() if slot.pack.profile.serves(platform)
        )
        if len(serving) == 1:
            return serving[0]
        if serving:
            raise RulePackError(
                f"platform {platform!r} is served by more than one loaded pack: "
                + " and ".join(repr(name) for name in serving),
                field="platform",
                hint="name the pack to predict with",
            )
        names = ", ".join(
            sorted(
                name for slot in self._slots.values() for name in slot.pack.profile.served_platforms
            )
        )
        raise CaseError(
            [("platform", f"no loaded rule pack is for platform {platform!r}; loaded: {names}")]
        )

    def lease(self, pack_id: str) -> AbstractContextManager[RulePack]:
        """The current pack of ``pack_id``, kept open until the block ends even if a reload
        replaces it meanwhile: ``with engine.lease("pinduoduo") as pack: ...``."""
        return self._lease(pack_id)

    @contextmanager
    def _lease(self, pack_id: str) -> Iterator[RulePack]:
        with self._lock:
            slot = self._slot(pack_id)
            slot.users += 1
        try:
            yield slot.pack
        finally:
            with self._lock:
                slot.users -= 1
                free = slot.retired and slot.users == 0
            if free:
                slot.pack.close()

    # --- predicting ------------------------------------------------------------------------
    def resolve(self, data: Mapping[str, Any], pack: str | None = None) -> str:
        """The id of the pack that predicts ``data``: ``pack`` if given, else the one for the
        case's platform."""
        if pack is not None:
            with self._lock:
                self._slot(pack)
            return pack
        platform = data.get("platform")
        if not isinstance(platform, str):
            raise CaseError([("platform", "a platform is required (a string)")])
        with self._lock:
            if self._closed:
                raise RefundRulesError("this engine was closed")
            return self._for_platform(platform)

    def predict(
        self,
        case: Case | Mapping[str, Any],
        as_of: datetime | None = None,
        *,
        pack: str | None = None,
        version: str | None = None,
    ) -> Prediction:
        """Predict a case (a :class:`Case` or a mapping, checked against the pack's profile)
        with the current pack of its platform (or ``pack``); see :meth:`RulePack.predict`."""
        return self.predict_case(case, as_of, pack=pack, version=version)[1]

    def predict_case(
        self,
        case: Case | Mapping[str, Any],
        as_of: datetime | None = None,
        *,
        pack: str | None = None,
        version: str | None = None,
    ) -> tuple[Case, Prediction]:
        """:meth:`predict`, also giving the case as checked against the predicting pack (what a
        :class:`DecisionRecord` is made from). Writes the record if the engine has a log."""
        data = case.model_dump(mode="json") if isinstance(case, Case) else case
        pack_id = self.resolve(data, pack)
        with self.lease(pack_id) as family:
            checked = case if isinstance(case, Case) else load_case(case, profile=family.profile)
            prediction = family.predict(checked, as_of, version=version)
        if self._records is not None:
            self._records.write(DecisionRecord.from_prediction(prediction, checked))
        return checked, prediction

    # --- reloading -------------------------------------------------------------------------
    def reload(self, pack_id: str) -> ReloadResult:
        """Read ``pack_id`` again from its source and swap it in atomically.

        Raises :class:`ReloadError` (the old pack stays in use) if the new one does not load
        or build, and :class:`UnknownPackError` for an id the engine does not hold.
        """
        with self._reloading:
            with self._lock:
                old = self._slot(pack_id)
            try:
                pack = _built(old.source)
                if pack.id != pack_id:
                    pack.close()
                    raise RefundRulesError(f"the folder now holds pack {pack.id!r}")
            except Exception as exc:
                kept = old.info.versions[-1].content_hash[:16]
                error = ReloadError(pack_id, exc, kept=kept)
                with self._lock:
                    self._last[pack_id] = error
                raise error from exc
            new = _Slot(pack, old.source, old.info.generation + 1)
            with self._lock:
                if self._closed:
                    pack.close()
                    raise RefundRulesError("this engine was closed")
                self._slots[pack_id] = new
                old.retired = True
                free = old.users == 0
            if free:
                old.pack.close()
        before = {ref.version: ref.content_hash for ref in old.info.versions}
        after = {ref.version: ref.content_hash for ref in new.info.versions}
        result = ReloadResult(id=pack_id, changed=before != after, before=old.info, after=new.info)
        with self._lock:
            self._last[pack_id] = result
        return result

    def last_reload(self, pack_id: str) -> ReloadResult | ReloadError | None:
        """How the last reload of ``pack_id`` ended (by :meth:`reload` or the watcher): its
        :class:`ReloadResult`, the :class:`ReloadError` that kept the old pack, or ``None``."""
        with self._lock:
            self._slot(pack_id)
            return self._last.get(pack_id)

    # --- watching ----------------------------------------------------------------------------
    def watch(self, interval: float = 1.0) -> None:
        """Reload a pack whenever its files change (checked every ``interval`` seconds, by a
        thread that :meth:`close` stops). A reload that fails keeps the old pack, is logged
        (logger ``refundrules.engine``) and is what :meth:`last_reload` returns."""
        # Under the watch lock from the check to the assignment, so a close() meanwhile either
        # comes first (and this refuses) or finds the watcher (and stops it). The engine's own
        # lock is free while the watcher starts: its first snapshot asks for the roots.
        with self._watching:
            with self._lock:
                if self._closed:
                    raise RefundRulesError("this engine was closed")
                if self._watcher is not None:
                    return
            self._watcher = PackWatcher(self._roots, self.reload, interval=interval)

    @property
    def watching(self) -> bool:
        watcher = self._watcher
        return watcher is not None and watcher.running

    def _roots(self) -> dict[str, Path]:
        with self._lock:
            if self._closed:
                raise RefundRulesError("this engine was closed")
            sources = {pack_id: slot.source for pack_id, slot in self._slots.items()}
        roots = {}
        for pack_id, source in sources.items():
            try:
                roots[pack_id] = resolve_pack_path(source)
            except RulePackError:  # gone: the next reload says why
                roots[pack_id] = Path(source)
        return roots

    # --- lifetime --------------------------------------------------------------------------
    def close(self) -> None:
        """Stop watching and free every pack (those in use when their last prediction returns)."""
        with self._watching:  # no watch() can start a watcher once this is done
            with self._lock:
                self._closed = True
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()  # outside the locks: its thread may be reloading, which takes them
        with self._lock:
            slots = list(self._slots.values())
            self._slots.clear()
            idle = []
            for slot in slots:
                slot.retired = True
                if slot.users == 0:
                    idle.append(slot)
        for slot in idle:
            slot.pack.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        held = ", ".join(f"{info.id}#{info.generation}" for info in self.packs())
        return f"<Engine {held}>"
