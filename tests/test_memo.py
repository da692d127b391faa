"""The bounded memo keeps at most its size, drops the least recently used, and is thread-safe."""

from __future__ import annotations

import threading

import pytest

from refundrules import EngineError
from refundrules._memo import Memo


def test_memo_makes_a_value_once_per_key() -> None:
    calls: list[str] = []
    memo: Memo[str, str] = Memo(size=4)

    def make(key: str) -> str:
        calls.append(key)
        return key.upper()

    assert [memo.get_or_make(key, lambda key=key: make(key)) for key in "abab"] == list("ABAB")
    assert calls == ["a", "b"]


def test_memo_never_holds_more_than_its_size() -> None:
    memo: Memo[int, int] = Memo(size=3)
    for key in range(100):
        memo.get_or_make(key, lambda key=key: key * key)
        assert len(memo) <= 3
    assert memo.keys() == [97, 98, 99]


def test_memo_drops_the_least_recently_used_entry() -> None:
    memo: Memo[str, int] = Memo(size=2)
    memo.get_or_make("a", lambda: 1)
    memo.get_or_make("b", lambda: 2)
    memo.get_or_make("a", lambda: 0)  # "a" used again: "b" is now the oldest
    memo.get_or_make("c", lambda: 3)
    assert sorted(memo.keys()) == ["a", "c"]
    assert memo.get_or_make("b", lambda: 22) == 22  # made again after it was dropped


@pytest.mark.parametrize("size", [0, -1])
def test_memo_refuses_a_size_below_one(size: int) -> None:
    with pytest.raises(EngineError, match="at least 1 entry"):
        Memo(size=size)


def test_memo_clear_empties_it() -> None:
    memo: Memo[int, int] = Memo(size=4)
    memo.get_or_make(1, lambda: 1)
    memo.clear()
    assert len(memo) == 0


def test_memo_under_threads_keeps_its_bound_and_right_values() -> None:
    memo: Memo[int, int] = Memo(size=16)
    wrong: list[tuple[int, int]] = []

    def run(offset: int) -> None:
        for step in range(2000):
            key = (step * 7 + offset) % 40
            value = memo.get_or_make(key, lambda key=key: key * 3)
            if value != key * 3:
                wrong.append((key, value))

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert len(memo) <= 16
