"""``refundrules serve``: the HTTP service (extra ``server``) on a long-lived engine."""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import ExitStack
from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``serve`` verb to the CLI's subparsers."""
    serve = commands.add_parser("serve", help="answer predictions over HTTP (extra 'server')")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--pack",
        action="append",
        metavar="NAME|PATH",
        help="a pack to load (repeatable; default: every bundled pack)",
    )
    serve.add_argument(
        "--max-body",
        type=int,
        default=1_000_000,
        metavar="BYTES",
        help="refuse request bodies larger than this (413; default 1000000)",
    )
    serve.add_argument(
        "--records",
        metavar="PATH",
        help="append each prediction's decision record to this JSON Lines file",
    )
    serve.add_argument(
        "--watch",
        action="store_true",
        help="reload a pack when its files change (a broken change keeps the old pack)",
    )
    serve.set_defaults(handler=_command_serve)


def _command_serve(args: argparse.Namespace) -> int:
    from refundrules._extras import require_module

    require_module("refundrules serve", module="uvicorn", extra="server")
    import uvicorn

    from refundrules._records import DecisionLog
    from refundrules._server import LOGGER, JsonLogFormatter, create_app
    from refundrules._service import Engine
    from refundrules._watch import LOGGER as ENGINE_LOGGER

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    for name in (ENGINE_LOGGER, LOGGER):  # the watcher's reloads are logged by the engine's
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    with ExitStack() as stack:
        records = stack.enter_context(DecisionLog(args.records)) if args.records else None
        engine = stack.enter_context(Engine(args.pack, records=records, watch=args.watch))
        logger.info(
            "serving",
            extra={
                "host": args.host,
                "port": args.port,
                "packs": [f"{info.id}#{info.generation}" for info in engine.packs()],
            },
        )
        app = create_app(engine, max_body=args.max_body)
        uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_config=None)
    return 0
