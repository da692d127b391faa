"""Memory of rule packs that are built, used and dropped again, in one process.

    .venv/bin/python benchmarks/pack_memory.py [CYCLES] [RUNS]

Three runs (RUNS, comma-separated, picks some: ``close,drop,failed``) of CYCLES each (2,000 by
default), printing the resident set size (Linux /proc)
after a warm-up and at every fifth of the run, and the growth per cycle:

* ``close``: load the family, predict one case, ``close()``;
* ``drop``: load the family, predict one case, drop it without closing (the garbage
  collector's finalizers free the rulesets);
* ``failed``: load a family whose consequence phase cannot be registered (the decision phase
  is built first, then the consequence phase fails), and drop it.

A flat line (a few KiB per cycle, from allocator noise) means nothing is kept.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import refundrules
from refundrules import _rulepack
from refundrules._loader import read_pack
from refundrules.exceptions import EngineError

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "examples" / "06_platform_reviewing_low_value.yaml"
AS_OF = datetime.fromisoformat("2025-04-17T15:00:00+08:00")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("needs /proc/self/status (Linux)")


def measure(label: str, cycles: int, cycle: Callable[[], None]) -> float:
    for _ in range(20):  # warm-up: allocator pools, caches, first builds
        cycle()
    gc.collect()
    start = rss_mib()
    began = time.perf_counter()
    for index in range(1, cycles + 1):
        cycle()
        if index % max(1, cycles // 5) == 0:
            gc.collect()
            print(f"  {label} {index:5d}: {rss_mib():.1f} MiB", flush=True)
    gc.collect()
    end = rss_mib()
    seconds = time.perf_counter() - began
    growth = (end - start) * 1024 / cycles
    print(
        f"{label}: {cycles} cycles in {seconds:.0f} s, RSS {start:.1f} -> {end:.1f} MiB, "
        f"{growth:+.1f} KiB per cycle",
        flush=True,
    )
    return growth


def main() -> None:
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    runs = sys.argv[2].split(",") if len(sys.argv) > 2 else ["close", "drop", "failed"]
    case = refundrules.load_case(CASE)
    definition = read_pack("pinduoduo")  # the files are read once: the cycles build engines

    def closed() -> None:
        pack = refundrules.RulePack(definition)
        pack.predict(case, AS_OF)
        pack.close()

    def dropped() -> None:
        pack = refundrules.RulePack(definition)
        pack.predict(case, AS_OF)
        del pack

    real_engine = _rulepack._Phase.engine

    def refuse_consequences(phase: _rulepack._Phase) -> _rulepack.RuleEngine:
        if phase.label.endswith("consequences"):
            raise EngineError("consequence phase refused (benchmark)")
        return real_engine(phase)

    def failed() -> None:
        pack = refundrules.RulePack(definition)
        with contextlib.suppress(EngineError):
            pack.latest.compile()
        del pack

    print(f"after import: {rss_mib():.1f} MiB", flush=True)
    if "close" in runs:
        measure("close", cycles, closed)
    if "drop" in runs:
        measure("drop", cycles, dropped)
    if "failed" in runs:
        _rulepack._Phase.engine = refuse_consequences  # type: ignore[method-assign]
        try:
            measure("failed", cycles, failed)
        finally:
            _rulepack._Phase.engine = real_engine  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
