"""``refundrules batch``: predict a JSON Lines file of cases on every core."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from refundrules.exceptions import CaseError

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``batch`` verb to the CLI's subparsers."""
    batch = commands.add_parser("batch", help="predict a JSON Lines file of cases")
    batch.add_argument("cases", metavar="CASES.jsonl", help="one case per line ('-': stdin)")
    batch.add_argument("-o", "--output", required=True, metavar="OUT.jsonl")
    batch.add_argument(
        "--errors", metavar="PATH", help="bad lines go here (default: OUT.errors.jsonl)"
    )
    batch.add_argument(
        "--pack",
        action="append",
        metavar="NAME|PATH",
        help="pack to predict with (repeatable; default: the bundled pack of each platform)",
    )
    batch.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: cores)")
    batch.add_argument(
        "--as-of", metavar="ISO", help="predict at this time (a line's own as_of wins)"
    )
    batch.add_argument(
        "--resume", action="store_true", help="continue a killed run of the same files"
    )
    batch.add_argument(
        "--records", metavar="PATH", help="also write each prediction's decision record here"
    )
    batch.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: the counts on stdout too (the text summary goes to stderr either way)",
    )
    batch.set_defaults(handler=_command_batch)


def _command_batch(args: argparse.Namespace) -> int:
    from refundrules._batch import run_batch

    as_of = None
    if args.as_of is not None:
        try:
            as_of = datetime.fromisoformat(args.as_of)
        except ValueError:
            raise CaseError([("as_of", f"not an ISO 8601 time: {args.as_of!r}")]) from None
        if as_of.tzinfo is None:
            raise CaseError([("as_of", "a timezone is required")])
    summary = run_batch(
        args.cases,
        args.output,
        error_file=args.errors,
        packs=tuple(args.pack) if args.pack else None,
        as_of=as_of,
        jobs=args.jobs,
        resume=args.resume,
        progress=sys.stderr.isatty(),
        records=args.records,
    )
    resumed = f" ({summary.resumed} from the earlier run)" if summary.resumed else ""
    print(
        f"{summary.lines} lines{resumed}: {summary.predictions} predictions in "
        f"{summary.output}, {summary.errors} errors in {summary.error_file}"
        + ("" if summary.reconciles else " — COUNTS DO NOT RECONCILE"),
        file=sys.stderr,
    )
    if args.format == "json":
        counts = {
            "lines": summary.lines,
            "predictions": summary.predictions,
            "errors": summary.errors,
            "resumed": summary.resumed,
            "reconciles": summary.reconciles,
            "output": str(summary.output),
            "error_file": str(summary.error_file),
            "records": args.records,
        }
        print(json.dumps(counts, indent=2))
    return 0 if summary.reconciles else 1
