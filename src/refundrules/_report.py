"""Render a :class:`Prediction` as text a seller can read."""

from __future__ import annotations

from refundrules._prediction import MetricChange, Prediction
from refundrules._vocabulary import ReturnShippingPayer

__all__ = ["render_text"]


def _label(value: str) -> str:
    return value.replace("_", " ")


def _shipping(prediction: Prediction) -> str:
    payer = prediction.resolution.return_shipping_paid_by
    if payer is ReturnShippingPayer.NOT_APPLICABLE:
        return "no goods go back"
    return f"return shipping paid by {payer.value}"


def _metric(change: MetricChange) -> str:
    if change.kind == "rate":
        defects = "defect" if change.added == 1 else "defects"
        return (
            f"{change.title} +{change.added:g} {defects} ({change.before:.2%} → {change.after:.2%})"
        )
    return f"{change.title} +{change.added:g} (total {change.after:g})"


def render_text(prediction: Prediction) -> str:
    """A plain-text summary: stage, resolution, deadlines, consequences, actions, reasons."""
    resolution = prediction.resolution
    consequences = prediction.seller_consequences
    settled = "final" if resolution.final else "predicted"
    lines = [
        f"Case {prediction.case_id} — {prediction.pack.id} pack {prediction.pack.version} "
        f"(as of {prediction.as_of.isoformat()})",
        f"Stage:       {_label(prediction.stage.value)}",
        f"Resolution:  {_label(resolution.outcome.value)} ({settled}, by {resolution.decided_by}"
        f"; rule {resolution.rule_id})",
        f"Refund:      {resolution.refund_amount} {resolution.currency}; {_shipping(prediction)}",
    ]
    if prediction.likelihood is not None:
        lines.append(f"Likelihood:  {prediction.likelihood.text}")
    lines.append("Deadlines:" if prediction.deadlines else "Deadlines:   none running")
    for deadline in prediction.deadlines:
        left = (
            f"{deadline.hours_left:g} h left"
            if deadline.hours_left >= 0
            else f"{-deadline.hours_left:g} h overdue"
        )
        lines.append(
            f"  - {deadline.party}: {deadline.what} by "
            f"{deadline.due_at.isoformat()} ({left}) [{deadline.rule_id}]"
        )
        lines.append(f"      if missed: {deadline.if_missed}")
    lines.append(
        "; ".join(
            [
                f"Seller:      dispute record {'yes' if consequences.dispute_record else 'no'}",
                *(_metric(change) for change in consequences.metrics),
            ]
        )
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
