"""A bounded, thread-safe memo: the least recently used entry goes once ``size`` is passed.

The fast prediction path keeps what depends only on a few discrete inputs (the fired rule ids,
the deciding rule and the predicted class, a case object it already checked) in one of these,
one memo per compiled version, so nothing is module-global and memory stays bounded however
many cases a process predicts.

>>> memo: Memo[str, int] = Memo(size=2)
>>> memo.get_or_make("a", lambda: 1), memo.get_or_make("b", lambda: 2)
(1, 2)
>>> memo.get_or_make("a", lambda: 99)  # kept: made once
1
>>> _ = memo.get_or_make("c", lambda: 3)  # "b" was used least recently: it goes
>>> sorted(memo.keys())
['a', 'c']
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from refundrules.exceptions import EngineError

__all__ = ["DEFAULT_MEMO_SIZE", "Memo"]

DEFAULT_MEMO_SIZE = 1024

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """At most ``size`` values by key. ``make`` runs outside the lock: two threads may make the
    same value at once (the makers are pure, so either result is the answer) but never block
    each other on a slow one."""

    def __init__(self, size: int = DEFAULT_MEMO_SIZE) -> None:
        if size < 1:
            raise EngineError(f"a memo holds at least 1 entry; got size={size}")
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[K]:
        with self._lock:
            return list(self._entries)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            entries = self._entries
            if key in entries:
                entries.move_to_end(key)
                return entries[key]
        value = make()
        with self._lock:
            entries[key] = value
            if len(entries) > self.size:
                entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
