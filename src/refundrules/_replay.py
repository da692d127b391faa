"""Replay decision records against another pack: which recorded decisions would now differ.

Each record's case is predicted again, at its recorded ``as_of``, by the new pack (the version
in force on the case's request date), and its outcome compared with the recorded one.

>>> import refundrules
>>> records = refundrules.read_decision_records("records.jsonl")  # doctest: +SKIP
>>> report = refundrules.replay_decision_records(records, refundrules.load_rule_pack("pinduoduo"))  # doctest: +SKIP
>>> report.changed  # doctest: +SKIP
0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from refundrules._prediction import PackRef
from refundrules._records import DecisionRecord, RecordedOutcome
from refundrules._rulepack import RulePack
from refundrules.exceptions import CaseError, EvaluationError

__all__ = ["ReplayReport", "ReplayedDecision", "TransitionCount", "replay_decision_records"]

ERROR = "error"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReplayedDecision(_Out):
    """One record whose decision differs under the new pack: its line in the records file,
    the transition, the recorded outcome and pack, and the new ones (``new`` and
    ``new_pack`` are ``None`` and ``error`` says why when the new pack cannot predict it)."""

    line: int
    case_id: str
    input_hash: str
    as_of: datetime
    transition: str
    old: RecordedOutcome
    old_pack: PackRef
    new: RecordedOutcome | None
    new_pack: PackRef | None
    error: str | None = None


class TransitionCount(_Out):
    label: str
    count: int


class ReplayReport(_Out):
    """What :func:`replay_decision_records` found: ``records`` = ``unchanged`` + ``changed``
    (``errors`` of the changed could not be predicted by the new pack at all); ``transitions``
    counts each kind of change, most frequent first; ``decisions`` lists every changed record."""

    pack: str
    records: int
    unchanged: int
    changed: int
    errors: int
    transitions: tuple[TransitionCount, ...]
    decisions: tuple[ReplayedDecision, ...]


def outcome_transition(old: RecordedOutcome, new: RecordedOutcome) -> str | None:
    """How a decision changed, most important first (the labels ``refundrules diff`` uses,
    plus the deciding rule); ``None`` if it did not."""
    if old.resolution != new.resolution:
        return f"{old.resolution.value}->{new.resolution.value}"
    if old.stage != new.stage:
        return f"stage:{old.stage.value}->{new.stage.value}"
    if old.refund_amount != new.refund_amount:
        return f"refund:{old.resolution.value}:amount-changed"
    if old.resolution_rule != new.resolution_rule:
        return f"rule:{old.resolution_rule}->{new.resolution_rule}"
    return None


def replay_decision_records(
    records: Iterable[tuple[int, DecisionRecord]], pack: RulePack
) -> ReplayReport:
    """Predict every recorded case again with ``pack`` and report the decisions that changed.

    ``records`` are ``(line, record)`` pairs, as :func:`read_decision_records` returns them.
    A case the new pack refuses (its profile no longer accepts it) or cannot decide counts as
    changed, with transition ``error``.
    """
    total = 0
    counts: Counter[str] = Counter()
    changed: list[ReplayedDecision] = []
    for line, record in records:
        total += 1
        new: RecordedOutcome | None = None
        new_pack: PackRef | None = None
        error: str | None = None
        try:
            case = pack.load_case(record.case)
            prediction = pack.predict(case, record.as_of)
            new, new_pack = RecordedOutcome.of(prediction), prediction.pack
            label = outcome_transition(record.outcome, new)
        except (CaseError, EvaluationError) as exc:
            label, error = ERROR, str(exc)
        if label is None:
            continue
        counts[label] += 1
        changed.append(
            ReplayedDecision(
                line=line,
                case_id=record.case_id,
                input_hash=record.input_hash,
                as_of=record.as_of,
                transition=label,
                old=record.outcome,
                old_pack=record.pack,
                new=new,
                new_pack=new_pack,
                error=error,
            )
        )
    return ReplayReport(
        pack=pack.id,
        records=total,
        unchanged=total - len(changed),
        changed=len(changed),
        errors=counts[ERROR],
        transitions=tuple(
            TransitionCount(label=label, count=count)
            for label, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ),
        decisions=tuple(changed),
    )
