"""``refundrules replay``: predict recorded decisions again with another pack, report changes.

Exit codes: 0 every decision is unchanged; 1 some changed (or the new pack cannot predict a
recorded case); 3 a bad records file; 4 a bad pack.
"""

from __future__ import annotations

import argparse
from typing import Any

from refundrules._i18n import print_json, safe_print
from refundrules._records import read_decision_records
from refundrules._replay import ReplayedDecision, ReplayReport, replay_decision_records
from refundrules._rulepack import load_rule_pack
from refundrules._terminal import printable

__all__ = ["register", "render_replay"]


def register(commands: Any) -> None:
    """Add the ``replay`` verb to the CLI's subparsers."""
    replay = commands.add_parser(
        "replay", help="predict recorded decisions again with another pack; what changed"
    )
    replay.add_argument(
        "records", metavar="RECORDS.jsonl", help="decision records (predict/batch --records)"
    )
    replay.add_argument(
        "--pack", required=True, metavar="NAME|PATH", help="the pack to predict them with"
    )
    replay.add_argument(
        "--show",
        type=int,
        default=20,
        metavar="N",
        help="changed decisions listed in the text output (default 20; JSON lists all)",
    )
    replay.add_argument("--format", choices=("text", "json"), default="text")
    replay.set_defaults(handler=_command_replay)


def _side(decision: ReplayedDecision) -> str:
    old = f"{decision.old.resolution.value} {decision.old.refund_amount} ({decision.old.resolution_rule})"
    if decision.new is None:
        return f"{old} -> error: {printable(str(decision.error), one_line=True)}"
    new = f"{decision.new.resolution.value} {decision.new.refund_amount} ({decision.new.resolution_rule})"
    return f"{old} -> {new}"


def render_replay(report: ReplayReport, show: int) -> str:
    lines = [
        f"replayed {report.records} decision records with pack {report.pack}: "
        f"{report.changed} changed, {report.unchanged} unchanged"
        + (f" ({report.errors} could not be predicted)" if report.errors else "")
    ]
    if not report.transitions:
        lines.append("no decision changed")
        return "\n".join(lines)
    lines.append(f"{'transition':<60}{'cases':>7}")
    lines += [f"{item.label:<60}{item.count:>7}" for item in report.transitions]
    lines.append("changed decisions:")
    for decision in report.decisions[:show]:
        version = decision.new_pack.version if decision.new_pack else "-"
        lines.append(
            f"  line {decision.line} {printable(decision.case_id, one_line=True)} (as of {decision.as_of.isoformat()}, "
            f"{decision.old_pack.version} -> {version}): {_side(decision)}"
        )
    if len(report.decisions) > show:
        lines.append(f"  ... {len(report.decisions) - show} more (--show N, or --format json)")
    return "\n".join(lines)


def _command_replay(args: argparse.Namespace) -> int:
    records = read_decision_records(args.records)
    pack = load_rule_pack(args.pack)
    try:
        report = replay_decision_records(records, pack)
    finally:
        pack.close()
    if args.format == "json":
        print_json(report.model_dump_json(indent=2))
    else:
        safe_print(render_replay(report, args.show))
    return 1 if report.changed else 0
