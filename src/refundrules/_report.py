"""Render a :class:`Prediction` as text a seller can read, in English or Chinese.

The grammar of each line is here; every platform sentence (deadlines, advice, sanctions, …)
comes from the pack in each language (``*_texts`` of the prediction, English where the pack
gives no Chinese). Times show in the pack's timezone, to the second.
"""

from __future__ import annotations

from datetime import datetime

from refundrules._i18n import Language, local_time
from refundrules._prediction import MetricChange, Prediction
from refundrules._vocabulary import ReturnShippingPayer

__all__ = ["render_text"]

# (English, Chinese) for each line head and fixed phrase of the report.
_WORDS: dict[str, tuple[str, str]] = {
    "stage": ("Stage:       ", "阶段：      "),
    "resolution": ("Resolution:  ", "结果：      "),
    "refund": ("Refund:      ", "退款：      "),
    "likelihood": ("Likelihood:  ", "依据：      "),
    "deadlines": ("Deadlines:", "时限："),
    "no_deadlines": ("Deadlines:   none running", "时限：      无进行中的时限"),
    "seller": ("Seller:      ", "商家：      "),
    "buyer_flag": ("Buyer flag:  ", "买家标记：  "),
    "recommended": ("Recommended:", "建议："),
    "warning": ("Warning:     ", "提示：      "),
    "reasons": ("Reasons:", "依据规则："),
    "final": ("final", "最终"),
    "predicted": ("predicted", "预测"),
    "by": ("by", "由"),
    "rule": ("rule", "规则"),
    "no_goods": ("no goods go back", "货物不退回"),
    "shipping": ("return shipping paid by", "退货运费承担方："),
    "left": ("h left", "小时后到期"),
    "overdue": ("h overdue", "小时前已过期"),
    "if_missed": ("if missed", "逾期"),
    "record": ("dispute record", "纠纷记录"),
    "yes": ("yes", "有"),
    "no": ("no", "无"),
    "total": ("total", "累计"),
    "sanction": ("sanction at {points} points", "累计 {points} 分处罚"),
    "pays": ("pays {amount} to {who}", "向 {who} 支付 {amount}"),
    "because": ("because", "因为"),
    "sources": ("sources", "来源"),
}


def _w(key: str, language: Language) -> str:
    en, zh = _WORDS[key]
    return zh if language == "zh" else en


def _in(texts: dict[str, str], fallback: str, language: Language) -> str:
    return texts.get(language) or fallback


def _label(value: str, language: Language) -> str:
    return value if language == "zh" else value.replace("_", " ")


def _shipping(prediction: Prediction, language: Language) -> str:
    payer = prediction.resolution.return_shipping_paid_by
    if payer is ReturnShippingPayer.NOT_APPLICABLE:
        return _w("no_goods", language)
    return f"{_w('shipping', language)} {payer.value}"


def _metric(change: MetricChange, language: Language) -> str:
    title = _in(change.title_texts, change.title, language)
    if change.kind == "rate":
        defects = "defect" if change.added == 1 else "defects"
        counted = "单" if language == "zh" else f" {defects}"
        return f"{title} +{change.added:g}{counted} ({change.before:.2%} → {change.after:.2%})"
    return f"{title} +{change.added:g} ({_w('total', language)} {change.after:g})"


def render_text(
    prediction: Prediction, language: Language = "en", timezone: str | None = None
) -> str:
    """A plain-text summary: stage, resolution, deadlines, consequences, actions, reasons.

    ``timezone`` (the pack's) shows times there, to the second; without it they show as the
    prediction holds them.
    """
    zh = language == "zh"
    sep = "；" if zh else "; "

    def show(moment: datetime) -> str:
        if timezone is not None:
            return local_time(moment, timezone)
        return moment.replace(microsecond=0).isoformat()

    resolution = prediction.resolution
    consequences = prediction.seller_consequences
    settled = _w("final" if resolution.final else "predicted", language)
    pack = f"{prediction.pack.id} {prediction.pack.version}"
    head = (
        f"案件 {prediction.case_id} — {pack}（截至 {show(prediction.as_of)}）"
        if zh
        else f"Case {prediction.case_id} — {prediction.pack.id} pack {prediction.pack.version} "
        f"(as of {show(prediction.as_of)})"
    )
    decided = (
        f"（{settled}，{_w('by', language)} {resolution.decided_by} 决定；"
        f"{_w('rule', language)} {resolution.rule_id}）"
        if zh
        else f" ({settled}, by {resolution.decided_by}; rule {resolution.rule_id})"
    )
    lines = [
        head,
        f"{_w('stage', language)}{_label(prediction.stage.value, language)}",
        f"{_w('resolution', language)}{_label(resolution.outcome.value, language)}{decided}",
        f"{_w('refund', language)}{resolution.refund_amount} {resolution.currency}{sep}"
        f"{_shipping(prediction, language)}",
    ]
    if prediction.likelihood is not None:
        likelihood = prediction.likelihood
        lines.append(
            f"{_w('likelihood', language)}{_in(likelihood.texts, likelihood.text, language)}"
        )
    lines.append(_w("deadlines" if prediction.deadlines else "no_deadlines", language))
    for deadline in prediction.deadlines:
        hours = deadline.hours_left
        left = (
            f"{hours:g} {_w('left', language)}"
            if hours >= 0
            else f"{-hours:g} {_w('overdue', language)}"
        )
        what = _in(deadline.what_texts, deadline.what, language)
        due = show(deadline.due_at)
        lines.append(
            f"  - {deadline.party} 须在 {due} 前：{what}（{left}）[{deadline.rule_id}]"
            if zh
            else f"  - {deadline.party}: {what} by {due} ({left}) [{deadline.rule_id}]"
        )
        missed = _in(deadline.if_missed_texts, deadline.if_missed, language)
        lines.append(f"      {_w('if_missed', language)}{'：' if zh else ': '}{missed}")
    record = _w("yes" if consequences.dispute_record else "no", language)
    lines.append(
        sep.join(
            [
                f"{_w('seller', language)}{_w('record', language)} {record}",
                *(_metric(change, language) for change in consequences.metrics),
            ]
        )
    )
    for sanction in consequences.sanctions:
        points = _w("sanction", language).format(points=f"{sanction.threshold_points:g}")
        text = _in(sanction.description_texts, sanction.description, language)
        lines.append(f"  ! {points}{'：' if zh else ': '}{text} [{sanction.rule_id}]")
    for item in consequences.compensation:
        pays = _w("pays", language).format(
            amount=f"{item.amount} {resolution.currency}", who=item.paid_to
        )
        text = _in(item.what_texts, item.what, language)
        lines.append(f"  - {pays}{'：' if zh else ': '}{text} [{item.rule_id}]")
    for flag in prediction.buyer_flags:
        signals = flag.signal_texts.get(language) or flag.signals
        lines.append(
            f"{_w('buyer_flag', language)}{_label(flag.flag, language)}: {sep.join(signals)}"
        )
    if prediction.recommended_actions:
        lines.append(_w("recommended", language))
        for action in prediction.recommended_actions:
            title = _in(
                action.title_texts, action.title or _label(action.action, language), language
            )
            why = _in(action.why_texts, action.why, language)
            lines.append(f"  - {title}{'：' if zh else ': '}{why} [{action.rule_id}]")
    for warning in prediction.warnings:
        lines.append(f"{_w('warning', language)}{warning}")
    lines.append(_w("reasons", language))
    for reason in prediction.reasons:
        cited = ", ".join(f"{source.key} ({source.confidence})" for source in reason.sources)
        title = reason.title_zh if zh else reason.title
        lines.append(f"  [{reason.role}] {reason.rule_id}: {title}")
        lines.append(f"      {_w('because', language)} {reason.because}")
        lines.append(f"      {_w('sources', language)}: {cited}")
    return "\n".join(lines)
