"""One dispute under every installed platform's pack, side by side.

A seller who runs stores on several marketplaces asks the same question of each: what would
this platform decide? :func:`compare_platforms` re-checks the case against each pack's own
profile (its vocabularies, events and currency) and predicts it there at one ``as_of``; a
pack the case cannot be put to (another currency, a reason that platform does not have)
answers with the reason instead of a prediction.

>>> from datetime import datetime
>>> from refundrules import load_case
>>> case = load_case("examples/01_awaiting_seller.yaml")
>>> found = compare_platforms(case, datetime.fromisoformat("2025-03-05T12:00:00+08:00"))
>>> [answer.pack_id for answer in found.answers if answer.own_platform]
['pinduoduo']
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from refundrules._case import Case
from refundrules._installed import installed_packs
from refundrules._prediction import Prediction
from refundrules._rulepack import RulePack, load_rule_pack
from refundrules.exceptions import CaseError, EvaluationError

__all__ = ["PlatformAnswer", "PlatformComparison", "compare_platforms", "render_comparison"]


class PlatformAnswer(BaseModel):
    """What one platform's pack predicts for the case, or why it cannot."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    pack_id: str
    """The pack that answered."""
    platform: str
    """Its platform."""
    own_platform: bool
    """This pack serves the platform the case was filed on (its own, or one it also serves)."""
    served_as: str
    """The platform the case was put to this pack as: the case's own when the pack serves it
    (`tmall` for a Tmall case under the Taobao family), else the pack's platform."""
    prediction: Prediction | None = None
    """The prediction under this platform's rules (absent when ``problem`` says why)."""
    problem: str | None = None
    """Why the case cannot be predicted here (e.g. its amounts are in another currency)."""


class PlatformComparison(BaseModel):
    """A case predicted under every pack compared, its own platform first."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    case_id: str
    """The case's id."""
    as_of: datetime
    """The one moment every pack was asked at."""
    answers: tuple[PlatformAnswer, ...]
    """One answer per pack: the case's own platform first, then by pack id."""


def _answer(pack: RulePack, case: Case, as_of: datetime) -> PlatformAnswer:
    own = pack.profile.serves(case.platform)
    served_as = case.platform if own else pack.platform
    data = case.model_dump(mode="json", exclude_none=True)
    data["platform"] = served_as
    prediction: Prediction | None = None
    problem: str | None = None
    try:
        retargeted = case if own else pack.load_case(data)
        prediction = pack.predict(retargeted, as_of)
    except (CaseError, EvaluationError) as exc:
        problem = str(exc)
    return PlatformAnswer(
        pack_id=pack.id,
        platform=pack.platform,
        own_platform=own,
        served_as=served_as,
        prediction=prediction,
        problem=problem,
    )


def _row_name(answer: PlatformAnswer) -> str:
    mark = "*" if answer.own_platform else " "
    if answer.served_as != answer.platform:
        return f"{mark} {answer.pack_id} (as {answer.served_as})"
    return f"{mark} {answer.pack_id}"


def compare_platforms(
    case: Case, as_of: datetime | None = None, packs: Iterable[RulePack] | None = None
) -> PlatformComparison:
    """Predict ``case`` under each of ``packs`` (default: every installed pack, bundled or from an entry point) at ``as_of``
    (default: now), each under the version in force on the request date.
    """
    moment = datetime.now(UTC) if as_of is None else as_of
    with ExitStack() as owned:  # packs loaded here are freed here; the caller's stay open
        if packs is not None:
            chosen = list(packs)
        else:
            chosen = [owned.enter_context(load_rule_pack(name)) for name in installed_packs()]
        answers = sorted(
            (_answer(pack, case, moment) for pack in chosen),
            key=lambda answer: (not answer.own_platform, answer.pack_id),
        )
    return PlatformComparison(case_id=case.case_id, as_of=moment, answers=tuple(answers))


def _next_deadline(prediction: Prediction, timezone: str) -> str:
    running = sorted(prediction.deadlines, key=lambda deadline: deadline.due_at)
    if not running:
        return "none"
    first = running[0]
    due = first.due_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    return f"{first.party} by {due}"


def _consequence(prediction: Prediction) -> str:
    consequences = prediction.seller_consequences
    parts = [f"{change.title} +{change.added:g}" for change in consequences.metrics if change.added]
    if consequences.dispute_record:
        parts.append("dispute record")
    parts.extend(f"sanction: {sanction.name}" for sanction in consequences.sanctions)
    return ", ".join(parts) or "none"


def render_comparison(comparison: PlatformComparison, timezones: dict[str, str]) -> str:
    """The comparison as a table (one row per platform; ``*`` marks the case's own, and a pack
    that serves it as another platform reads ``taobao (as tmall)``), times in
    each pack's timezone (``timezones`` by pack id), followed by the packs that could not
    answer and why.
    """
    header = ("platform", "resolution", "refund", "deciding rule", "next deadline", "seller")
    rows: list[tuple[str, ...]] = []
    problems: list[str] = []
    for answer in comparison.answers:
        name = _row_name(answer)
        if answer.prediction is None:
            rows.append((name, "cannot predict", "", "", "", ""))
            first_line = (answer.problem or "").splitlines()[0] if answer.problem else ""
            problems.append(f"  {answer.pack_id}: {first_line}")
            continue
        prediction = answer.prediction
        resolution = prediction.resolution
        zone = timezones.get(answer.pack_id, "UTC")
        rows.append(
            (
                name,
                resolution.outcome.value.replace("_", " "),
                f"{resolution.refund_amount} {resolution.currency}",
                resolution.rule_id,
                _next_deadline(prediction, zone),
                _consequence(prediction),
            )
        )
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        f"Case {comparison.case_id} on every platform (as of "
        f"{comparison.as_of.isoformat(timespec='seconds')}; * = the case's own platform)",
        "  ".join(text.ljust(width) for text, width in zip(header, widths, strict=True)).rstrip(),
    ]
    lines += [
        "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    if problems:
        lines.append("not predicted:")
        lines += problems
    return "\n".join(lines)
