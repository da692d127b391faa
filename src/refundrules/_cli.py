"""The ``refundrules`` command line.

Exit codes: 0 success; 1 a check failed (pack tests, a disallowed diff); 2 usage error;
3 invalid case; 4 invalid rule pack; 5 evaluation error (no rule decided, engine failure).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime

from refundrules._case import load_case
from refundrules._loader import bundled_pack_names
from refundrules._report import render_text
from refundrules._rulepack import RulePack, load_rule_pack
from refundrules._schema import SCHEMA_KINDS, json_schema
from refundrules.exceptions import CaseError, EvaluationError, RulePackError

__all__ = ["EXIT_BAD_CASE", "EXIT_BAD_PACK", "EXIT_CHECK_FAILED", "EXIT_EVALUATION", "main"]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_CASE = 3
EXIT_BAD_PACK = 4
EXIT_EVALUATION = 5


def _parse_as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CaseError([("as_of", f"not an ISO 8601 time: {text!r}")]) from exc
    if moment.tzinfo is None:
        raise CaseError([("as_of", "a timezone is required (e.g. 2025-03-05T12:00:00+08:00)")])
    return moment


def _command_predict(args: argparse.Namespace) -> int:
    case = load_case(args.case_file)
    pack = load_rule_pack(args.pack or case.platform.value)
    prediction = pack.predict(case, _parse_as_of(args.as_of))
    if args.format == "json":
        print(prediction.model_dump_json(indent=2))
    else:
        print(render_text(prediction))
    return EXIT_OK


def _describe(pack: RulePack) -> str:
    manifest = pack.manifest
    deciding = sum(1 for rule in pack.rules if rule.spec.then.decides)
    return (
        f"{manifest.id} {manifest.version} ({manifest.platform.value}, effective "
        f"{manifest.effective_from}{' to ' + str(manifest.effective_to) if manifest.effective_to else ''}): "
        f"{len(pack.rules)} rules ({deciding} deciding), {len(pack.parameters)} parameters, "
        f"{len(pack.tests)} tests, hash {pack.ref.content_hash[:16]}"
    )


def _command_validate(args: argparse.Namespace) -> int:
    pack = load_rule_pack(args.pack)
    print(f"ok: {_describe(pack)}")
    return EXIT_OK


def _command_packs(args: argparse.Namespace) -> int:
    for name in bundled_pack_names():
        print(_describe(load_rule_pack(name)))
    return EXIT_OK


def _command_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(args.kind), indent=2, ensure_ascii=False))
    return EXIT_OK


def _command_test(args: argparse.Namespace) -> int:
    from refundrules._pack_tests import run_pack_tests
    from refundrules._properties import check_pack_properties

    pack = load_rule_pack(args.pack)
    results = run_pack_tests(pack)
    failed = [result for result in results if not result.passed]
    for result in failed:
        print(result.report())
    if args.verbose:
        for result in results:
            print(f"{'PASS' if result.passed else 'FAIL'} {result.name} ({result.location})")
    properties = (
        [] if args.examples == 0 else check_pack_properties(pack, max_examples=args.examples)
    )
    broken = [result for result in properties if not result.passed]
    for checked in properties:
        if args.verbose or not checked.passed:
            print(checked.report())
    print(
        f"pack tests: {len(results) - len(failed)} passed, {len(failed)} failed; "
        f"properties ({args.examples} examples each): {len(properties) - len(broken)} held, "
        f"{len(broken)} failed"
    )
    print(
        f"{len(results) + len(properties) - len(failed) - len(broken)} passed, "
        f"{len(failed) + len(broken)} failed"
    )
    return EXIT_CHECK_FAILED if failed or broken else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="refundrules",
        description="Predict how an e-commerce refund dispute will end.",
        epilog="Exit codes: 0 ok, 1 check failed, 2 usage, 3 invalid case, 4 invalid rule pack, "
        "5 evaluation error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    predict = commands.add_parser("predict", help="predict one case")
    predict.add_argument("case_file", metavar="CASE_FILE", help="case file (.yaml or .json)")
    predict.add_argument(
        "--pack",
        metavar="NAME|PATH",
        help="bundled pack name or pack folder (default: the case's platform)",
    )
    predict.add_argument("--as-of", metavar="ISO", help="evaluate at this time (default: now)")
    predict.add_argument("--format", choices=("text", "json"), default="text")
    predict.set_defaults(handler=_command_predict)

    validate = commands.add_parser("validate", help="load and check a rule pack")
    validate.add_argument("pack", metavar="PACK", help="bundled pack name or pack folder")
    validate.set_defaults(handler=_command_validate)

    packs = commands.add_parser("packs", help="list the bundled rule packs")
    packs.set_defaults(handler=_command_packs)

    schema = commands.add_parser("schema", help="print a JSON Schema")
    schema.add_argument("kind", choices=SCHEMA_KINDS)
    schema.set_defaults(handler=_command_schema)

    test = commands.add_parser("test", help="run the tests a rule pack ships")
    test.add_argument("pack", metavar="PACK", help="bundled pack name or pack folder")
    test.add_argument("-v", "--verbose", action="store_true", help="list every test")
    test.add_argument(
        "--examples",
        type=int,
        default=200,
        metavar="N",
        help="generated cases per declared property (0 skips properties; default 200)",
    )
    test.set_defaults(handler=_command_test)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except CaseError as exc:
        print(f"refundrules: {exc}", file=sys.stderr)
        return EXIT_BAD_CASE
    except RulePackError as exc:
        print(f"refundrules: invalid rule pack: {exc}", file=sys.stderr)
        return EXIT_BAD_PACK
    except EvaluationError as exc:
        print(f"refundrules: evaluation failed: {exc}", file=sys.stderr)
        return EXIT_EVALUATION
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
