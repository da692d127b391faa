"""What the verbs that take a case share: the case, its pack and the as_of time (given, or
the one ``as_of.json`` beside the case gives)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from refundrules._case import Case
from refundrules._case_file import load_case
from refundrules._messages import NAIVE_TIME
from refundrules._registry import pack_for_platform
from refundrules._rulepack import RulePack, load_rule_pack
from refundrules.exceptions import CaseError

__all__ = ["AS_OF_FILE", "add_case_arguments", "case_pack_as_of", "example_as_of", "parse_as_of"]


def parse_as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CaseError([("as_of", f"not an ISO 8601 time: {text!r}")]) from exc
    if moment.tzinfo is None:
        raise CaseError([("as_of", NAIVE_TIME)])
    return moment


AS_OF_FILE = "as_of.json"


def example_as_of(case_file: str) -> str | None:
    """The as-of time ``as_of.json`` beside a case file gives it (how the examples carry theirs)."""
    path = Path(case_file)
    index = path.parent / AS_OF_FILE
    if not index.is_file():
        return None
    try:
        times = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CaseError([("as_of", f"cannot read {index}: {exc}")]) from exc
    found = times.get(path.name) if isinstance(times, dict) else None
    return found if isinstance(found, str) else None


def add_case_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("case_file", metavar="CASE_FILE", help="case file (.yaml or .json)")
    parser.add_argument(
        "--pack",
        metavar="NAME|PATH",
        help="bundled pack name or pack folder (default: the case's platform)",
    )
    parser.add_argument(
        "--as-of",
        metavar="ISO",
        help="evaluate at this time (default: the case's entry in as_of.json beside it, else now)",
    )
    parser.add_argument(
        "--lang", choices=("zh", "en"), default=None, help="language (default: the pack's first)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


def case_pack_as_of(args: argparse.Namespace) -> tuple[RulePack, Case, datetime | None]:
    """The pack, the case checked against it and the as_of time, as ``predict`` finds them."""
    if args.pack:
        pack = load_rule_pack(args.pack)
        case = pack.load_case(args.case_file)
    else:
        case = load_case(args.case_file)
        pack = load_rule_pack(pack_for_platform(case.platform))
    as_of = args.as_of
    if as_of is None:
        as_of = example_as_of(args.case_file)
        if as_of is not None:
            print(
                f"as of {as_of} (from {AS_OF_FILE} beside the case; --as-of overrides)",
                file=sys.stderr,
            )
    return pack, case, parse_as_of(as_of)
