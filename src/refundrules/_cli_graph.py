"""``refundrules graph PACK``: the pack's stages and the rules between them; a picture."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from refundrules._graph import draw_flow, pack_flow
from refundrules._i18n import choose_language, print_json, safe_print
from refundrules._rulepack import load_rule_pack

__all__ = ["register"]


def _command(args: argparse.Namespace) -> int:
    pack = load_rule_pack(args.pack)
    flow = pack_flow(pack, choose_language(args.lang, pack.profile.defaults.languages))
    for picture in args.picture or ():
        draw_flow(flow, Path(picture))
    if args.format == "json":
        print_json(flow.model_dump_json(indent=2))
    else:
        safe_print(flow.text)
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("graph", help="a pack's stages and the rules between them")
    parser.add_argument("pack", metavar="PACK", help="bundled pack name or pack folder")
    parser.add_argument(
        "--picture",
        action="append",
        metavar="FILE.svg|FILE.png",
        help="also draw the flow to this file (needs the plot extra; repeatable)",
    )
    parser.add_argument(
        "--lang", choices=("zh", "en"), default=None, help="language (default: the pack's first)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=_command)
