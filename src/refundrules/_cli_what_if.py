"""``refundrules what-if CASE``: every seller action tried, with its outcome and cost, ranked."""

from __future__ import annotations

import argparse
from typing import Any

from refundrules._cli_case import add_case_arguments, case_pack_as_of
from refundrules._i18n import print_json, safe_print

__all__ = ["register"]


def _command(args: argparse.Namespace) -> int:
    pack, case, as_of = case_pack_as_of(args)
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
    parser.set_defaults(handler=_command)
