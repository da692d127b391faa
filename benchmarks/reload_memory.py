"""Memory over many hot reloads of a long-lived Engine, with predictions between them.

    .venv/bin/python benchmarks/reload_memory.py [RELOADS] [PREDICTIONS_PER_RELOAD]

Prints the resident set size (Linux /proc) after a warm-up and every tenth of the run, and
the growth per reload. The pack stays the same; every reload builds and frees its rulesets.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

import refundrules

ROOT = Path(__file__).resolve().parent.parent


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("needs /proc/self/status (Linux)")


def main() -> None:
    reloads = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    per_reload = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    case = refundrules.load_case(ROOT / "examples" / "06_platform_reviewing_low_value.yaml")
    as_of = datetime.fromisoformat("2025-04-17T15:00:00+08:00")
    with refundrules.Engine(["pinduoduo"]) as engine:
        expected = engine.predict(case, as_of)
        for _ in range(10):  # warm-up: allocator pools, caches, first builds
            engine.reload("pinduoduo")
            engine.predict(case, as_of)
        start = rss_mib()
        began = time.perf_counter()
        print(f"after warm-up: {start:.1f} MiB")
        for index in range(1, reloads + 1):
            engine.reload("pinduoduo")
            for _ in range(per_reload):
                assert engine.predict(case, as_of) == expected
            if index % max(1, reloads // 10) == 0:
                print(f"reload {index:5d}: {rss_mib():.1f} MiB")
        end = rss_mib()
        seconds = time.perf_counter() - began
    print(
        f"{reloads} reloads, {reloads * per_reload} predictions in {seconds:.0f} s: "
        f"RSS {start:.1f} -> {end:.1f} MiB, growth {end - start:+.1f} MiB "
        f"({(end - start) * 1024 / reloads:+.1f} KiB per reload)"
    )


if __name__ == "__main__":
    main()
