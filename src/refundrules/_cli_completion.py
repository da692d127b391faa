"""``refundrules completion SHELL``: a shell completion script (extra ``completion``: shtab).

shtab writes a static script from the argument parser, so pressing Tab costs no Python start
(argcomplete would start the CLI on every Tab) and the CLI needs no hook at start-up.

    refundrules completion bash > ~/.local/share/bash-completion/completions/refundrules
    refundrules completion zsh > "${fpath[1]}/_refundrules"
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["SHELLS", "register"]

SHELLS = ("bash", "zsh", "tcsh")


def register(commands: Any, root: argparse.ArgumentParser) -> None:
    """Add the ``completion`` verb; ``root`` is the whole CLI's parser it describes."""
    completion = commands.add_parser(
        "completion", help="print a shell completion script (extra 'completion')"
    )
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(handler=_command_completion, root_parser=root)


def _command_completion(args: argparse.Namespace) -> int:
    from refundrules._extras import require_module

    require_module("refundrules completion", module="shtab", extra="completion")
    import shtab

    print(shtab.complete(args.root_parser, shell=args.shell), end="")
    return 0
