"""``refundrules explain CASE``: the deciding rules and the near misses, condition by condition."""

from __future__ import annotations

import argparse
from typing import Any

from refundrules._cli_case import add_case_arguments, case_pack_as_of
from refundrules._i18n import print_json, safe_print

__all__ = ["register"]


def _command(args: argparse.Namespace) -> int:
    pack, case, as_of = case_pack_as_of(args)
    explanation = pack.explain(case, as_of, language=args.lang)
    if args.format == "json":
        print_json(explanation.model_dump_json(indent=2))
    else:
        safe_print(explanation.text)
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "explain", help="why a case ends as predicted: deciding rules and near misses"
    )
    add_case_arguments(parser)
    parser.set_defaults(handler=_command)
