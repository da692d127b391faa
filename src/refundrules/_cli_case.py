"""What the seller-facing verbs (explain, what-if, timeline) share: a case, its pack, as_of."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from refundrules._case import Case
from refundrules._rulepack import RulePack, load_rule_pack

__all__ = ["add_case_arguments", "case_pack_as_of"]


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
    # Imported here: _cli imports the verb modules that import this one.
    from refundrules._case_file import load_case
    from refundrules._cli import AS_OF_FILE, _example_as_of, _parse_as_of

    if args.pack:
        pack = load_rule_pack(args.pack)
        case = pack.load_case(args.case_file)
    else:
        case = load_case(args.case_file)
        pack = load_rule_pack(case.platform)
    as_of = args.as_of
    if as_of is None:
        as_of = _example_as_of(args.case_file)
        if as_of is not None:
            print(
                f"as of {as_of} (from {AS_OF_FILE} beside the case; --as-of overrides)",
                file=sys.stderr,
            )
    return pack, case, _parse_as_of(as_of)
