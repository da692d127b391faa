"""Render a :class:`Prediction` as text a seller can read."""

from __future__ import annotations

from refundrules._prediction import Prediction
from refundrules._vocabulary import ReturnShippingPayer

__all__ = ["render_text"]


def _label(value: str) -> str:
    return value.replace("_", " ")


def _shipping(prediction: Prediction) -> str:
    payer = prediction.resolution.return_shipping_paid_by
    if payer is ReturnShippingPayer.NOT_APPLICABLE:
        return "no goods go back"
    return f"return shipping paid by {payer.value}"


def render_text(prediction: Prediction) -> str:
    """A plain-text summary: stage, resolution, deadlines, consequences, actions, reasons."""
    resolution = prediction.resolution
    consequences = prediction.seller_consequences
    settled = "final" if resolution.final else "predicted"
    lines = [
        f"Case {prediction.case_id} — {prediction.pack.id} pack {prediction.pack.version} "
        f"(as of {prediction.as_of.isoformat()})",
        f"Stage:       {_label(prediction.stage.value)}",
        f"Resolution:  {_label(resolution.outcome.value)} ({settled}, by {resolution.decided_by.value}"
        f"; rule {resolution.rule_id})",
        f"Refund:      {resolution.refund_amount} {resolution.currency}; {_shipping(prediction)}",
    ]
    lines.append("Deadlines:" if prediction.deadlines else "Deadlines:   none running")
    for deadline in prediction.deadlines:
        left = (
            f"{deadline.hours_left:g} h left"
            if deadline.hours_left >= 0
            else f"{-deadline.hours_left:g} h overdue"
        )
        lines.append(
            f"  - {deadline.party.value}: {deadline.what} by "
            f"{deadline.due_at.isoformat()} ({left}) [{deadline.rule_id}]"
        )
        lines.append(f"      if missed: {deadline.if_missed}")
    lines.append(
        f"Seller:      dispute record {'yes' if consequences.dispute_record else 'no'}; "
        f"penalty points +{consequences.penalty_points_added:g} "
        f"(total {consequences.penalty_points_total:g})"
    )
    for sanction in consequences.sanctions:
        lines.append(
            f"  ! sanction at {sanction.threshold_points:g} points: "
            f"{sanction.description} [{sanction.rule_id}]"
        )
    for item in consequences.compensation:
        lines.append(
            f"  - pays {item.amount} {resolution.currency} to {item.paid_to}: "
            f"{item.what} [{item.rule_id}]"
        )
    for flag in prediction.buyer_flags:
        lines.append(f"Buyer flag:  {_label(flag.flag)}: {'; '.join(flag.signals)}")
    if prediction.recommended_actions:
        lines.append("Recommended:")
        for action in prediction.recommended_actions:
            lines.append(f"  - {_label(action.action)}: {action.why} [{action.rule_id}]")
    for warning in prediction.warnings:
        lines.append(f"Warning:     {warning}")
    lines.append("Reasons:")
    for reason in prediction.reasons:
        cited = ", ".join(f"{source.key} ({source.confidence})" for source in reason.sources)
        lines.append(f"  [{reason.role}] {reason.rule_id}: {reason.title}")
        lines.append(f"      because {reason.because}")
        lines.append(f"      sources: {cited}")
    return "\n".join(lines)
