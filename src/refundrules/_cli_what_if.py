"""``refundrules what-if CASE``: every seller action tried, with its outcome and cost, ranked."""

from __future__ import annotations

import argparse
from typing import Any

from refundrules._cli_case import add_case_arguments, case_pack_as_of
from refundrules._i18n import print_json, safe_print

__all__ = ["register"]


def _command(args: argparse.Namespace) -> int:
    pack, case, as_of = case_pack_as_of(args)
    if args.target is not None:
        change = pack.smallest_change(case, args.target, as_of=as_of, language=args.lang)
        if args.format == "json":
            print_json(change.model_dump_json(indent=2))
        else:
            safe_print(change.text)
        return 0
    found = pack.what_if(case, args.action or None, as_of=as_of, language=args.lang)
    if args.format == "json":
        print_json(found.model_dump_json(indent=2))
    else:
        safe_print(found.text)
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "what-if", help="each seller action's predicted outcome and cost, cheapest first"
    )
    add_case_arguments(parser)
    parser.add_argument(
        "--action",
        action="append",
        metavar="ID",
        help="try only this action (an id such as refuse:package_opened, or a kind such as "
        "refuse; repeatable)",
    )
    parser.add_argument(
        "--target",
        metavar="RESOLUTION",
        help="instead: the smallest set of seller actions that reaches this resolution "
        "(e.g. request_rejected), or that none within the pack does",
    )
    parser.set_defaults(handler=_command)
