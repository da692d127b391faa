"""Write N generated cases as JSON Lines (the bundled examples, renumbered, amounts varied).

    .venv/bin/python benchmarks/make_cases.py N OUT.jsonl [--broken K]

Each line is ``{"case": ..., "as_of": ...}``; with --broken, K lines spread through the file
are malformed (cut JSON, a bad amount, a naive time, not an object) for the error file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import refundrules

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ('{"case": {"platform": "pinduoduo", ', '"just a string"', "[1, 2, 3]")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("output")
    parser.add_argument("--broken", type=int, default=0)
    args = parser.parse_args()
    times = json.loads((ROOT / "examples" / "as_of.json").read_text("utf-8"))
    bases = [
        (refundrules.load_case(ROOT / "examples" / name).model_dump(mode="json"), moment)
        for name, moment in sorted(times.items())
    ]
    every = args.count // args.broken if args.broken else 0
    with open(args.output, "w", encoding="utf-8") as out:
        for index in range(args.count):
            if every and index % every == every // 2:
                out.write(BROKEN[index % len(BROKEN)] + "\n")
                continue
            case, moment = bases[index % len(bases)]
            case = json.loads(json.dumps(case))
            case["case_id"] = f"gen-{index:07d}"
            out.write(json.dumps({"case": case, "as_of": moment}) + "\n")


if __name__ == "__main__":
    main()
