"""A case's timeline: what happened up to ``as_of`` and the deadlines still running, in order,
each with what happens when it passes; and a picture of it (SVG or PNG, via matplotlib).

>>> import refundrules
>>> from datetime import datetime
>>> pack = refundrules.load_rule_pack("pinduoduo")
>>> case = refundrules.load_case("examples/05_seller_refused_escalation_open.yaml")
>>> found = pack.timeline(case, as_of=datetime.fromisoformat("2025-06-04T10:00:00+08:00"))
>>> [entry.kind for entry in found.entries][-1]
'deadline'
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from refundrules._case import Case
from refundrules._extras import require_matplotlib
from refundrules._i18n import LANGUAGES, Language, local_time
from refundrules._prediction import PackRef, Prediction
from refundrules.exceptions import CaseError

__all__ = ["Timeline", "TimelineEntry", "build_timeline", "draw_timeline"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimelineEntry(_Out):
    """A past moment (``past``) or a running deadline (``deadline``, with what happens when it
    passes: ``if_missed`` in the chosen language, ``if_missed_texts`` in each)."""

    at: datetime
    kind: Literal["past", "deadline"]
    party: str
    label: str
    text: str
    texts: dict[str, str]
    if_missed: str | None = None
    if_missed_texts: dict[str, str] = {}
    rule_id: str | None = None


class Timeline(_Out):
    case_id: str
    as_of: datetime
    pack: PackRef
    language: Language
    stage: str
    entries: tuple[TimelineEntry, ...]
    text: str
    texts: dict[str, str]


_BUILT_IN = {
    "paid": ("the buyer paid", "买家付款"),
    "shipped": ("the seller shipped", "商家发货"),
    "delivered": ("delivered", "已送达"),
    "requested": ("the buyer asked for {kind} ({reason})", "买家申请 {kind}（{reason}）"),
    "evidence": ("{who} handed in evidence: {kind}", "{who} 提交证据：{kind}"),
}


def _past(case: Case, as_of: datetime) -> Iterator[TimelineEntry]:
    order, request = case.order, case.request

    def entry(at: datetime, party: str, label: str, key: str, **values: str) -> TimelineEntry:
        en, zh = _BUILT_IN[key]
        texts = {"en": en.format(**values), "zh": zh.format(**values)}
        return TimelineEntry(at=at, kind="past", party=party, label=label, text="", texts=texts)

    yield entry(order.paid_at, "buyer", "paid", "paid")
    if order.shipped_at is not None and order.shipped_at <= as_of:
        yield entry(order.shipped_at, "seller", "shipped", "shipped")
    if order.delivered_at is not None and order.delivered_at <= as_of:
        yield entry(order.delivered_at, "carrier", "delivered", "delivered")
    yield entry(
        request.requested_at,
        "buyer",
        "request",
        "requested",
        kind=request.kind,
        reason=request.reason,
    )
    for event in case.events_until(as_of):
        details = [
            str(value)
            for value in (
                event.refusal_reason,
                event.amount,
                event.ruling,
                event.evidence_kind,
                event.request_kind,
                event.goods_condition,
            )
            if value is not None
        ]
        shown = event.kind + (f" ({', '.join(details)})" if details else "")
        texts = {"en": f"{event.actor}: {shown}", "zh": f"{event.actor}：{shown}"}
        yield TimelineEntry(
            at=event.at, kind="past", party=event.actor, label=event.kind, text="", texts=texts
        )
    for item in case.evidence:
        if item.submitted_at is not None and item.submitted_at <= as_of:
            yield entry(
                item.submitted_at,
                item.party,
                f"evidence: {item.kind}",
                "evidence",
                who=item.party,
                kind=item.kind,
            )


def _deadlines(prediction: Prediction, zone: str, language: Language) -> Iterator[TimelineEntry]:
    for deadline in prediction.deadlines:
        due = local_time(deadline.due_at, zone)
        what: dict[str, str] = {
            each: deadline.what_texts.get(each) or deadline.what for each in LANGUAGES
        }
        missed: dict[str, str] = {
            each: deadline.if_missed_texts.get(each) or deadline.if_missed for each in LANGUAGES
        }
        texts = {
            "en": f"{deadline.party} must: {what['en']} (due {due}); if missed: {missed['en']}",
            "zh": f"{deadline.party} 须在 {due} 前：{what['zh']}；逾期：{missed['zh']}",
        }
        yield TimelineEntry(
            at=deadline.due_at,
            kind="deadline",
            party=deadline.party,
            label=deadline.id,
            text="",
            texts=texts,
            if_missed=missed[language],
            if_missed_texts=missed,
            rule_id=deadline.rule_id,
        )


def build_timeline(case: Case, prediction: Prediction, zone: str, language: Language) -> Timeline:
    entries = sorted(
        [*_past(case, prediction.as_of), *_deadlines(prediction, zone, language)],
        key=lambda entry: (entry.at, entry.kind),
    )
    entries = [entry.model_copy(update={"text": entry.texts[language]}) for entry in entries]
    texts: dict[str, str] = {}
    for language_ in LANGUAGES:
        zh = language_ == "zh"
        as_of = local_time(prediction.as_of, zone)
        lines = [
            f"案件 {case.case_id} — 截至 {as_of}，阶段 {prediction.stage.value}"
            if zh
            else f"Case {case.case_id} — as of {as_of}, stage {prediction.stage.value}"
        ]
        now_shown = False
        for entry in entries:
            if entry.kind == "deadline" and not now_shown:
                lines.append(f"  {as_of}  ── {'现在' if zh else 'now'} ──")
                now_shown = True
            mark = "⏰" if entry.kind == "deadline" else "•"
            lines.append(f"  {local_time(entry.at, zone)}  {mark} {entry.texts[language_]}")
        if not now_shown:
            lines.append(f"  {as_of}  ── {'现在' if zh else 'now'} ──")
            lines.append("  （无进行中的时限）" if zh else "  (no deadline running)")
        texts[language_] = "\n".join(lines)
    return Timeline(
        case_id=case.case_id,
        as_of=prediction.as_of,
        pack=prediction.pack,
        language=language,
        stage=prediction.stage.value,
        entries=tuple(entries),
        text=texts[language],
        texts=texts,
    )


def picture_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("svg", "png"):
        raise CaseError([("picture", f"a picture is .svg or .png; got {path.name!r}")])
    return suffix


def draw_timeline(timeline: Timeline, path: Path) -> None:
    """Draw ``timeline`` to ``path`` (``.svg`` or ``.png``); needs the ``plot`` extra.

    Labels use the case's identifiers (event kinds, deadline ids), which every font shows.
    """
    kind = picture_format(path)
    require_matplotlib("refundrules timeline --picture")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.dates import DateFormatter, date2num

    def num(moment: datetime) -> float:
        return float(date2num(moment))  # type: ignore[no-untyped-call]

    figure, axes = pyplot.subplots(figsize=(11, 4.2))
    try:
        zone = timeline.as_of.tzinfo
        times = [entry.at for entry in timeline.entries]
        axes.axhline(0, color="#555555", linewidth=1)
        for index, entry in enumerate(timeline.entries):
            past = entry.kind == "past"
            height = (1 + index % 4) * (0.42 if past else -0.42)
            color = "#1f6fb4" if past else "#c0392b"
            axes.vlines(num(entry.at), 0, height, color=color, linewidth=1)
            axes.plot([num(entry.at)], [0], "o", color=color)
            label = f"{entry.party}: {entry.label}"
            axes.annotate(
                label,
                (entry.at, height),
                ha="center",
                va="bottom" if past else "top",
                fontsize=8,
                color=color,
            )
        axes.axvline(num(timeline.as_of), color="#27ae60", linestyle="--", linewidth=1)
        axes.annotate("as of", (num(timeline.as_of), 1.9), color="#27ae60", ha="center", fontsize=8)
        axes.set_ylim(-2.2, 2.2)
        axes.set_yticks([])
        if times:
            axes.set_xlim(num(min(times)), num(max([*times, timeline.as_of])))
            axes.margins(x=0.08)
        axes.xaxis.set_major_formatter(DateFormatter("%m-%d %H:%M", tz=zone))  # type: ignore[no-untyped-call]
        for side in ("left", "right", "top"):
            axes.spines[side].set_visible(False)
        axes.set_title(
            f"{timeline.case_id} (stage {timeline.stage}; blue: past, red: deadlines)", fontsize=10
        )
        figure.autofmt_xdate()
        figure.tight_layout()
        figure.savefig(path, format=kind, metadata=_metadata(kind))
    finally:
        pyplot.close(figure)


def _metadata(kind: str) -> dict[str, str | None]:
    """No creation date or software version in the file, so a re-run gives the same bytes."""
    if kind == "svg":
        return {"Date": None, "Creator": None}
    return {"Software": None}
