"""Memory over many predictions in one process (issue 13's soak).

    .venv/bin/python benchmarks/soak.py [PREDICTIONS]

Predicts the bundled examples in turn with one loaded family, PREDICTIONS times in all
(200,000 by default), each at its own as_of and every answer checked against the first one;
prints the resident set size (Linux /proc) after a warm-up and at every tenth of the run, and
the growth.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

import refundrules

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("needs /proc/self/status (Linux)")


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    times = json.loads((EXAMPLES / "as_of.json").read_text(encoding="utf-8"))
    pack = refundrules.load_rule_pack("pinduoduo")
    work = [
        (pack.load_case(EXAMPLES / name), datetime.fromisoformat(moment))
        for name, moment in sorted(times.items())
    ]
    expected = [pack.predict(case, as_of) for case, as_of in work]
    for _ in range(20):  # warm-up: caches, allocator pools
        for case, as_of in work:
            pack.predict(case, as_of)
    start = rss_mib()
    began = time.perf_counter()
    print(f"after warm-up: {start:.1f} MiB", flush=True)
    for index in range(1, total + 1):
        slot = index % len(work)
        case, as_of = work[slot]
        assert pack.predict(case, as_of) == expected[slot]
        if index % max(1, total // 10) == 0:
            print(f"{index:8d} predictions: {rss_mib():.1f} MiB", flush=True)
    seconds = time.perf_counter() - began
    end = rss_mib()
    print(
        f"{total} predictions in {seconds:.0f} s ({total / seconds:.0f}/s): "
        f"RSS {start:.1f} -> {end:.1f} MiB, growth {end - start:+.1f} MiB"
    )


if __name__ == "__main__":
    main()
