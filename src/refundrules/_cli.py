"""The ``refundrules`` command line.

Exit codes: 0 success; 1 a check failed (pack tests, a disallowed diff); 2 usage error;
3 invalid case; 4 invalid rule pack; 5 evaluation error (no rule decided, engine failure).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from refundrules import (
    _cli_batch,
    _cli_completion,
    _cli_explain,
    _cli_graph,
    _cli_replay,
    _cli_serve,
    _cli_timeline,
    _cli_what_if,
)
from refundrules._case_file import load_case
from refundrules._cli_case import AS_OF_FILE, case_pack_as_of, example_as_of, parse_as_of
from refundrules._compare import compare_platforms, render_comparison
from refundrules._hypothesis_home import hypothesis_home
from refundrules._i18n import choose_language, print_json, safe_print
from refundrules._installed import installed_packs
from refundrules._loader import bundled_examples_root
from refundrules._progress import progress_bar
from refundrules._records import append_record
from refundrules._registry import profile_problems
from refundrules._rulepack import PackVersion, RulePack, load_rule_pack
from refundrules._schema import SCHEMA_KINDS, json_schema
from refundrules._terminal import printable, use_safe_streams
from refundrules.exceptions import (
    CaseError,
    EvaluationError,
    MissingExtraError,
    RefundRulesError,
    RulePackError,
)

if TYPE_CHECKING:
    from refundrules.authoring import PackTestResult, PropertyResult, SideSummary

__all__ = ["EXIT_BAD_CASE", "EXIT_BAD_PACK", "EXIT_CHECK_FAILED", "EXIT_EVALUATION", "main"]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_CASE = 3
EXIT_BAD_PACK = 4
EXIT_EVALUATION = 5


def _command_predict(args: argparse.Namespace) -> int:
    if args.pack == "all":
        return _predict_on_every_platform(args)
    pack, case, as_of = case_pack_as_of(args)
    language = choose_language(args.lang, pack.profile.defaults.languages)
    prediction = pack.predict(
        case, as_of, version=args.pack_version, recommend=True, language=language
    )
    if args.records:
        append_record(args.records, prediction, case)
    if args.format == "json":
        print_json(prediction.model_dump_json(indent=2))
    else:
        safe_print(prediction.text or "")
    return EXIT_OK


def _predict_on_every_platform(args: argparse.Namespace) -> int:
    if args.pack_version is not None:
        print(
            "refundrules: --pack-version names one pack's version; not with --pack all",
            file=sys.stderr,
        )
        return EXIT_USAGE
    case = load_case(args.case_file)
    as_of = args.as_of if args.as_of is not None else example_as_of(args.case_file)
    with ExitStack() as loaded:
        packs = [loaded.enter_context(load_rule_pack(name)) for name in installed_packs()]
        comparison = compare_platforms(case, parse_as_of(as_of), packs)
        zones = {pack.id: pack.profile.defaults.timezone for pack in packs}
    if args.format == "json":
        print_json(comparison.model_dump_json(indent=2))
    else:
        safe_print(render_comparison(comparison, zones))
    answered = any(answer.prediction is not None for answer in comparison.answers)
    return EXIT_OK if answered else EXIT_BAD_CASE


def _describe(pack: RulePack) -> str:
    also = pack.profile.also_serves
    platforms = pack.platform + (f", also serves {', '.join(also)}" if also else "")
    lines = [
        f"{pack.id} ({platforms}): {len(pack.versions)} version(s), "
        f"{len(pack.tests)} tests, {len(pack.properties)} properties"
    ]
    for version in pack.versions:
        deciding = sum(1 for rule in version.rules if rule.spec.then.decides)
        until = version.effective_to or "open-ended"
        lines.append(
            f"  {version.version} ({version.effective_from} – {until}) {version.title}: "
            f"{len(version.rules)} rules ({deciding} deciding), "
            f"{len(version.parameters)} parameters, hash {version.ref.content_hash[:16]}"
        )
    return "\n".join(lines)


def _command_validate(args: argparse.Namespace) -> int:
    if args.format == "text":
        with load_rule_pack(args.pack) as pack:
            # "ok" only for a pack that can predict: every version's rulesets are built once.
            for version in pack.versions:
                version.compile()
            safe_print(f"ok: {_describe(pack)}")
        return EXIT_OK
    # JSON mode prints JSON whatever happens: the report, or an error object and its exit code.
    error: dict[str, object]
    try:
        with load_rule_pack(args.pack) as pack:
            for version in pack.versions:
                version.compile()
            report = {
                "ok": True,
                "id": pack.id,
                "platform": pack.platform,
                "tests": len(pack.tests),
                "properties": len(pack.properties),
                "versions": [version.ref.model_dump(mode="json") for version in pack.versions],
            }
    except RulePackError as exc:
        error, code = _pack_problem(exc), EXIT_BAD_PACK
    except EvaluationError as exc:  # durable refused to build a ruleset (EngineError)
        error, code = {"message": str(exc), "pack_id": exc.pack_id}, EXIT_EVALUATION
    else:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(json.dumps({"ok": False, "error": error}, indent=2, ensure_ascii=False))
    return code


def _pack_problem(exc: RulePackError) -> dict[str, object]:
    return {
        "message": exc.message,
        "path": exc.path,
        "line": exc.line,
        "rule_id": exc.rule_id,
        "field": exc.field,
        "hint": exc.hint,
    }


def _command_packs(args: argparse.Namespace) -> int:
    listed: list[dict[str, object]] = []
    code = EXIT_OK
    for name, installed in installed_packs().items():
        entry: dict[str, object] = {"name": name, "source": installed.source}
        try:
            pack = load_rule_pack(name)
        except RulePackError as exc:
            entry["error"] = str(exc)
            code = EXIT_BAD_PACK
            if args.format == "text":
                safe_print(f"{name}: cannot be loaded: {exc}\n  from: {installed.source}")
        else:
            entry["id"] = pack.id
            entry["platform"] = pack.platform
            if pack.profile.also_serves:
                entry["also_serves"] = list(pack.profile.also_serves)
            parts = [include.part for include in pack.manifest.includes]
            if parts:
                entry["includes"] = parts
            entry["versions"] = [version.ref.model_dump(mode="json") for version in pack.versions]
            note = profile_problems().get(name)
            if note is not None:
                entry["note"] = note
            if args.format == "text":
                safe_print(_describe(pack))
                if parts:
                    safe_print(f"  includes: {', '.join(parts)}")
                safe_print(f"  from: {installed.source}")
                if note is not None:
                    safe_print(f"  note: {note}")
            pack.close()
        listed.append(entry)
    if args.format == "json":
        print(json.dumps(listed, indent=2, ensure_ascii=False))
    return code


def _example_files(root: Path) -> list[tuple[Path, str | None]]:
    """Every bundled example case (top level, then one folder per pack) with its as-of time."""
    found: list[tuple[Path, str | None]] = []
    for folder in (root, *sorted(child for child in root.iterdir() if child.is_dir())):
        index = folder / AS_OF_FILE
        times = json.loads(index.read_text(encoding="utf-8")) if index.is_file() else {}
        for path in sorted(folder.iterdir()):
            if path.suffix in (".yaml", ".json") and path.name != AS_OF_FILE:
                found.append((path.relative_to(root), times.get(path.name)))
    return found


def _command_examples(args: argparse.Namespace) -> int:
    root = bundled_examples_root()
    if root is None:  # pragma: no cover - the wheel and the checkout both have them
        print("refundrules: no bundled examples found", file=sys.stderr)
        return EXIT_USAGE
    examples = _example_files(root)
    if args.folder is None:
        if args.format == "json":
            listed = [{"file": path.as_posix(), "as_of": as_of} for path, as_of in examples]
            print(json.dumps(listed, indent=2))
            return EXIT_OK
        for path, as_of in examples:
            print(f"{path.as_posix()}  (as of {as_of or '?'})")
        return EXIT_OK
    target = Path(args.folder)
    written = []
    for folder in sorted({path.parent for path, _ in examples}):
        (target / folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / folder / AS_OF_FILE, target / folder / AS_OF_FILE)
        written.append((folder / AS_OF_FILE).as_posix())
    for path, _ in examples:
        shutil.copyfile(root / path, target / path)
        written.append(path.as_posix())
    if args.format == "json":
        print(json.dumps({"folder": str(target), "files": sorted(written)}, indent=2))
        return EXIT_OK
    first = target / examples[0][0]
    print(f"wrote {len(written)} files to {target}; try: refundrules predict {first}")
    return EXIT_OK


def _command_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(args.kind), indent=2, ensure_ascii=False))
    return EXIT_OK


# The authoring tools are imported by the commands that use them: they pull in Hypothesis,
# which would add about 0.3 s to every `refundrules predict`.


def _command_test(args: argparse.Namespace) -> int:
    from refundrules._pack_tests import untested_versions
    from refundrules.authoring import run_pack_tests

    pack = load_rule_pack(args.pack)
    with progress_bar("pack tests", len(pack.tests), unit="test") as advance:
        results = run_pack_tests(pack, progress=advance)
    failed = [result for result in results if not result.passed]
    if args.format == "json":
        return _test_json(pack, results, args.examples)
    for result in failed:
        print(result.report())
    untested = untested_versions(pack)
    for version in untested:
        print(f"FAIL version {version}: no pack test predicts under it (date one in its span)")
    if args.verbose:
        for result in results:
            print(f"{'PASS' if result.passed else 'FAIL'} {result.name} ({result.location})")
    properties = _check_properties(pack, args.examples)
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
    return EXIT_CHECK_FAILED if failed or broken or untested else EXIT_OK


def _check_properties(pack: RulePack, examples: int) -> list[PropertyResult]:
    from refundrules.authoring import check_pack_properties

    if examples == 0:
        return []
    with progress_bar("properties", len(pack.properties) * examples) as advance:
        return check_pack_properties(pack, max_examples=examples, progress=advance)


def _test_json(pack: RulePack, results: list[PackTestResult], examples: int) -> int:
    from refundrules._pack_tests import untested_versions

    untested = list(untested_versions(pack))
    properties = _check_properties(pack, examples)
    failed = [result for result in results if not result.passed]
    broken = [result for result in properties if not result.passed]
    passed = not (failed or broken or untested)
    report = {
        "pack": pack.id,
        "passed": passed,
        "tests": {"passed": len(results) - len(failed), "failed": len(failed)},
        "properties": {
            "examples": examples,
            "held": len(properties) - len(broken),
            "failed": len(broken),
        },
        "untested_versions": untested,
        "failures": [
            {"name": result.name, "location": result.location, "mismatches": result.mismatches}
            for result in failed
        ],
        "broken_properties": [
            {"name": result.name, "report": result.report()} for result in broken
        ],
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return EXIT_OK if passed else EXIT_CHECK_FAILED


def _side_text(label: str, side: SideSummary) -> list[str]:
    lines = [
        f"    {label}: stage {side.stage}, {side.resolution} {side.refund_amount}, "
        f"points +{side.penalty_points_added:g} — decided by {', '.join(side.deciding_rules)}"
    ]
    lines += [f"      because {line}" for line in side.because]
    return lines


def _pack_or_version(spec: str) -> RulePack | PackVersion:
    """``PACK`` (the whole family) or ``PACK@VERSION`` (one version of it)."""
    name, _, version = spec.rpartition("@") if "@" in spec else (spec, "", "")
    pack = load_rule_pack(name)
    return pack.version(version) if version else pack


def _side_name(side: RulePack | PackVersion) -> str:
    if isinstance(side, PackVersion):
        return f"{side.ref.id} {side.version} ({side.ref.content_hash[:12]})"
    return f"{side.id} (each case under its version: {', '.join(v.version for v in side.versions)})"


def _command_diff(args: argparse.Namespace) -> int:
    from refundrules.authoring import compare_rule_packs, load_replay

    old, new = _pack_or_version(args.old_pack), _pack_or_version(args.new_pack)
    replay = load_replay(args.replay) if args.replay else []
    with progress_bar("diff", args.examples + len(replay)) as advance:
        diff = compare_rule_packs(
            old,
            new,
            examples=args.examples,
            replay=replay,
            allow=args.allow or (),
            progress=advance,
        )
    if args.format == "json":
        print(diff.model_dump_json(indent=2))
        return EXIT_CHECK_FAILED if diff.disallowed else EXIT_OK
    total = diff.examples
    share = f"{100 * diff.changed / total:.1f}%" if total else "n/a"
    rate = f"{total / diff.seconds:,.0f}" if diff.seconds else "n/a"
    print(f"diff {_side_name(old)} -> {_side_name(new)}")
    print(
        f"{diff.generated} generated + {diff.replayed} replayed cases; {diff.changed} changed "
        f"({share})"
    )
    # Timing varies between runs; it goes to stderr so stdout stays reproducible.
    print(f"took {diff.seconds:g} s ({rate} cases/s incl. shrinking)", file=sys.stderr)
    if not diff.transitions:
        print("no outcome changed")
        return EXIT_OK
    print(f"{'transition':<52}{'cases':>7}  allowed")
    for report in diff.transitions:
        print(f"{report.label:<52}{report.count:>7}  {'yes' if report.allowed else 'NO'}")
    for number, report in enumerate(diff.transitions, start=1):
        kind = "smallest example (shrunk by Hypothesis)" if report.shrunk else "example"
        print(f"\n[{number}] {report.label} — {kind}, as_of {report.as_of.isoformat()}:")
        print("\n".join(_side_text("old", report.old) + _side_text("new", report.new)))
        print("  the example as a pack test pinning the new answer (paste under `tests:`):")
        print(report.regression_test)
    if diff.disallowed:
        print(f"\n{len(diff.disallowed)} transition(s) not allowed (use --allow 'OLD->NEW')")
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _command_coverage(args: argparse.Namespace) -> int:
    from refundrules.authoring import measure_coverage

    pack = load_rule_pack(args.pack)
    with progress_bar("coverage", args.examples) as advance:
        report = measure_coverage(
            pack, examples=args.examples, search=args.search, progress=advance
        )
    if args.format == "json":
        print(report.model_dump_json(indent=2))
        return EXIT_CHECK_FAILED if report.unexplained else EXIT_OK
    print(f"coverage of {pack.ref.id} {pack.ref.version} ({len(pack.rules)} rules)")
    for source in report.sources:
        fired = sum(1 for count in source.fired.values() if count)
        print(f"\n{source.source} ({source.cases} cases): {fired}/{len(source.fired)} rules fired")
        print(f"  never fired:            {', '.join(source.never_fired) or '-'}")
        print(f"  fired, never decided:   {', '.join(source.fired_never_decided) or '-'}")
        print(f"  stages never reached:   {', '.join(source.unreached_stages) or '-'}")
        print(f"  resolutions never reached: {', '.join(source.unreached_resolutions) or '-'}")
    if report.witnesses:
        print("\ntargeted search for the gaps in generated cases:")
        for witness in report.witnesses:
            found = f"witness found (as_of {witness.as_of})" if witness.found else "not found"
            print(f"  {witness.rule_id}: {found}")
    unexplained = report.unexplained
    print(f"\nunexplained dead rules: {', '.join(unexplained) or 'none'}")
    return EXIT_CHECK_FAILED if unexplained else EXIT_OK


def _command_calibrate(args: argparse.Namespace) -> int:
    from refundrules._calibrate import calibrate

    pack = load_rule_pack(args.pack)
    with progress_bar("calibrate", len(pack.outcomes), unit="record") as advance:
        report = calibrate(pack, progress=advance)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.to_text())
    return EXIT_OK if report.passed else EXIT_CHECK_FAILED


def _version() -> str:
    from refundrules import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="refundrules",
        description="Predict how an e-commerce refund dispute will end.",
        epilog="Exit codes: 0 ok, 1 check failed, 2 usage, 3 invalid case, 4 invalid rule pack, "
        "5 evaluation error.",
    )
    # `-V, --version` is the widest entry, so the help column is the same on every Python
    # (3.13 measures command names with one more indent than 3.11 and 3.12).
    parser.add_argument("-V", "--version", action="version", version=f"refundrules {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    predict = commands.add_parser("predict", help="predict one case")
    predict.add_argument("case_file", metavar="CASE_FILE", help="case file (.yaml or .json)")
    predict.add_argument(
        "--pack",
        metavar="NAME|PATH",
        help="bundled pack name or pack folder (default: the case's platform); 'all' "
        "predicts under every bundled pack, side by side",
    )
    predict.add_argument(
        "--pack-version",
        metavar="VERSION",
        help="predict under this version (default: the one in force on the request date)",
    )
    predict.add_argument(
        "--as-of",
        metavar="ISO",
        help="evaluate at this time (default: the case's entry in as_of.json beside it, else now)",
    )
    predict.add_argument(
        "--lang", choices=("zh", "en"), default=None, help="language (default: the pack's first)"
    )
    predict.add_argument("--format", choices=("text", "json"), default="text")
    predict.add_argument(
        "--records", metavar="PATH", help="append the decision record to this JSON Lines file"
    )
    predict.set_defaults(handler=_command_predict)

    validate = commands.add_parser("validate", help="load and check a rule pack")
    validate.add_argument("pack", metavar="PACK", help="bundled pack name or pack folder")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.set_defaults(handler=_command_validate)

    packs = commands.add_parser(
        "packs", help="list the installed rule packs (bundled, or from an entry point)"
    )
    packs.add_argument("--format", choices=("text", "json"), default="text")
    packs.set_defaults(handler=_command_packs)

    examples = commands.add_parser(
        "examples", help="list the bundled example cases, or write them to a folder"
    )
    examples.add_argument(
        "folder", metavar="FOLDER", nargs="?", help="write the cases and their as_of.json here"
    )
    examples.add_argument("--format", choices=("text", "json"), default="text")
    examples.set_defaults(handler=_command_examples)

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
    test.add_argument("--format", choices=("text", "json"), default="text")
    test.set_defaults(handler=_command_test, uses_hypothesis=True)

    diff = commands.add_parser("diff", help="which disputes end differently under a new pack")
    diff.add_argument("old_pack", metavar="OLD_PACK")
    diff.add_argument("new_pack", metavar="NEW_PACK")
    diff.add_argument(
        "--examples", type=int, default=200, metavar="N", help="generated cases (default 200)"
    )
    diff.add_argument(
        "--replay",
        metavar="CASES.jsonl",
        help='recorded cases, one {"case": ..., "as_of": ...} per line',
    )
    diff.add_argument(
        "--allow",
        action="append",
        metavar="'OLD->NEW'",
        help="an accepted transition (glob patterns; repeatable)",
    )
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.set_defaults(handler=_command_diff, uses_hypothesis=True)

    coverage = commands.add_parser("coverage", help="rules that never fire or never decide")
    coverage.add_argument("pack", metavar="PACK")
    coverage.add_argument(
        "--examples", type=int, default=500, metavar="N", help="generated cases (default 500)"
    )
    coverage.add_argument(
        "--search",
        type=int,
        default=300,
        metavar="N",
        help="targeted search budget per gap (default 300; 0 skips)",
    )
    coverage.add_argument("--format", choices=("text", "json"), default="text")
    coverage.set_defaults(handler=_command_coverage, uses_hypothesis=True)

    calibrate = commands.add_parser(
        "calibrate", help="accuracy against the pack's published outcomes"
    )
    calibrate.add_argument("pack", metavar="PACK")
    calibrate.add_argument("--format", choices=("text", "json"), default="text")
    calibrate.set_defaults(handler=_command_calibrate)
    _cli_explain.register(commands)
    _cli_what_if.register(commands)
    _cli_timeline.register(commands)
    _cli_graph.register(commands)
    _cli_serve.register(commands)
    _cli_batch.register(commands)
    _cli_replay.register(commands)
    _cli_completion.register(commands, parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    use_safe_streams()
    args = build_parser().parse_args(argv)
    try:
        with hypothesis_home() if getattr(args, "uses_hypothesis", False) else nullcontext():
            code: int = args.handler(args)
    except CaseError as exc:
        print(f"refundrules: {printable(str(exc))}", file=sys.stderr)
        return EXIT_BAD_CASE
    except RulePackError as exc:
        print(f"refundrules: invalid rule pack: {printable(str(exc))}", file=sys.stderr)
        return EXIT_BAD_PACK
    except EvaluationError as exc:
        print(f"refundrules: evaluation failed: {printable(str(exc))}", file=sys.stderr)
        return EXIT_EVALUATION
    except MissingExtraError as exc:
        print(f"refundrules: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RefundRulesError as exc:  # e.g. two packs with one id, a refused watch interval
        print(f"refundrules: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader (e.g. `| head`) stopped reading: not an error; silence the final flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:  # a file named on the command line cannot be read or written
        print(f"refundrules: {_os_problem(exc)}", file=sys.stderr)
        return EXIT_USAGE
    return code


def _os_problem(exc: OSError) -> str:
    """One line for a failed file operation: what failed and on which file."""
    problem = exc.strerror or str(exc)
    if exc.filename is not None:
        problem = f"{exc.filename}: {problem}"
    return printable(problem, one_line=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
