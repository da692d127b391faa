"""``refundrules timeline CASE``: past events and running deadlines in order; a picture."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from refundrules._cli_case import add_case_arguments, case_pack_as_of
from refundrules._i18n import print_json, safe_print
from refundrules._timeline import draw_timeline

__all__ = ["register"]


def _command(args: argparse.Namespace) -> int:
    pack, case, as_of = case_pack_as_of(args)
    found = pack.timeline(case, as_of, language=args.lang)
    for picture in args.picture or ():
        draw_timeline(found, Path(picture))
    if args.format == "json":
        print_json(found.model_dump_json(indent=2))
    else:
        safe_print(found.text)
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "timeline", help="a case's past events and running deadlines, in order"
    )
    add_case_arguments(parser)
    parser.add_argument(
        "--picture",
        action="append",
        metavar="FILE.svg|FILE.png",
        help="also draw the timeline to this file (needs the plot extra; repeatable)",
    )
    parser.set_defaults(handler=_command)
