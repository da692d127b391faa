"""A pack's flow: its stages and the rules that move a dispute between them; and a picture.

The rules do not say which stage they leave from, so the flow is *observed*: each case the
pack's own tests carry is predicted just after its request and after each of its events,
and every change of stage is an edge labelled with the rule that decided the new stage.

>>> import refundrules
>>> flow = pack_flow(refundrules.load_rule_pack("pinduoduo"))
>>> ("start", "awaiting_seller") in {(edge.source, edge.target) for edge in flow.edges}
True
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from refundrules._extras import require_matplotlib
from refundrules._i18n import LANGUAGES, Language
from refundrules._timeline import picture_format
from refundrules._vocabulary import Stage
from refundrules.exceptions import EvaluationError

if TYPE_CHECKING:
    from refundrules._rulepack import RulePack

__all__ = ["FlowEdge", "PackFlow", "draw_flow", "pack_flow"]

START = "start"
_AFTER = timedelta(seconds=1)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FlowEdge(_Out):
    """``source`` → ``target`` stage, by these rules (how many test cases took it)."""

    source: str
    target: str
    rules: tuple[str, ...]
    cases: int


class PackFlow(_Out):
    pack_id: str
    stages: tuple[str, ...]
    edges: tuple[FlowEdge, ...]
    cases: int
    language: Language = "en"
    text: str
    texts: dict[str, str] = {}


def pack_flow(pack: RulePack, language: Language = "en") -> PackFlow:
    """The stages and the observed moves between them over the pack's test cases (``text`` in
    ``language``, ``texts`` in each)."""
    moves: Counter[tuple[str, str, str]] = Counter()
    seen: set[str] = set()
    for test in pack.tests:
        case = test.case
        moments = [case.request.requested_at + _AFTER]
        moments += [event.at + _AFTER for event in case.timeline]
        moments.append(test.spec.as_of)
        previous = START
        for moment in sorted(set(moments)):
            try:
                prediction = pack.predict(case, moment, likelihood=False)
            except EvaluationError:
                continue
            stage = prediction.stage.value
            seen.add(stage)
            if stage != previous:
                rule = next(
                    (reason.rule_id for reason in prediction.reasons if reason.role == "decided"),
                    "?",
                )
                moves[(previous, stage, rule)] += 1
            previous = stage
    edges: dict[tuple[str, str], tuple[list[str], int]] = {}
    for (source, target, rule), count in sorted(moves.items()):
        rules, total = edges.get((source, target), ([], 0))
        edges[(source, target)] = ([*rules, rule], total + count)
    order = [stage.value for stage in Stage]
    stages = tuple(stage for stage in order if stage in seen)
    found = tuple(
        FlowEdge(source=source, target=target, rules=tuple(rules), cases=count)
        for (source, target), (rules, count) in sorted(
            edges.items(), key=lambda item: (_index(order, item[0][0]), _index(order, item[0][1]))
        )
    )
    heads = {
        "en": f"{pack.id}: {len(stages)} stages, {len(found)} moves over {len(pack.tests)} "
        "test cases",
        "zh": f"{pack.id}：{len(stages)} 个阶段，{len(pack.tests)} 个测试案例中的 {len(found)} 种转移",
    }
    edges_text = [
        f"  {edge.source} -> {edge.target} ({edge.cases}): {', '.join(edge.rules)}"
        for edge in found
    ]
    texts: dict[str, str] = {each: "\n".join([heads[each], *edges_text]) for each in LANGUAGES}
    return PackFlow(
        pack_id=pack.id,
        stages=stages,
        edges=found,
        cases=len(pack.tests),
        language=language,
        text=texts[language],
        texts=texts,
    )


def _index(order: list[str], stage: str) -> int:
    return -1 if stage == START else order.index(stage)


def draw_flow(flow: PackFlow, path: Path) -> None:
    """Draw ``flow`` to ``path`` (``.svg`` or ``.png``); needs the ``plot`` extra."""
    kind = picture_format(path)
    require_matplotlib("refundrules graph --picture")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from refundrules._timeline import _metadata

    nodes = [START, *flow.stages]
    open_stages = [stage for stage in nodes if stage != Stage.CLOSED.value]
    position = {stage: (index * 2.2, 0.0) for index, stage in enumerate(open_stages)}
    if Stage.CLOSED.value in nodes:
        position[Stage.CLOSED.value] = ((len(open_stages) - 1) * 1.1, -3.2)
    figure, axes = pyplot.subplots(figsize=(15, 6.5))
    try:
        for edge in flow.edges:
            (x1, y1), (x2, y2) = position[edge.source], position[edge.target]
            bend = 0.25 if x2 >= x1 else -0.35
            axes.annotate(
                "",
                xy=(x2, y2),
                xytext=(x1, y1),
                arrowprops={
                    "arrowstyle": "->",
                    "color": "#555555",
                    "connectionstyle": f"arc3,rad={bend}",
                    "shrinkA": 22,
                    "shrinkB": 22,
                },
            )
            shown = list(edge.rules[:3]) + (
                [f"+{len(edge.rules) - 3} more"] if len(edge.rules) > 3 else []
            )
            # The label sits on the arc's midpoint (arc3's control point is mid + rad·(dy, -dx)).
            dx, dy = x2 - x1, y2 - y1
            axes.text(
                (x1 + x2) / 2 + 0.5 * bend * dy,
                (y1 + y2) / 2 - 0.5 * bend * dx,
                "\n".join(shown),
                fontsize=6,
                ha="center",
                va="center",
                color="#1f4e79",
                bbox={
                    "boxstyle": "round,pad=0.15",
                    "facecolor": "white",
                    "alpha": 0.8,
                    "linewidth": 0,
                },
            )
        for stage, (x, y) in position.items():
            axes.text(
                x,
                y,
                stage.replace("_", "\n"),
                ha="center",
                va="center",
                fontsize=8,
                bbox={"boxstyle": "round", "facecolor": "#fdebd0" if stage != START else "#d5f5e3"},
            )
        axes.set_xlim(-1.2, (len(open_stages) - 1) * 2.2 + 1.2)
        axes.set_ylim(-4.0, 1.0)
        axes.axis("off")
        axes.set_title(
            f"{flow.pack_id}: stages and the rules that move a dispute between them "
            f"(observed over {flow.cases} test cases)",
            fontsize=10,
        )
        figure.tight_layout()
        figure.savefig(path, format=kind, metadata=_metadata(kind))
    finally:
        pyplot.close(figure)
