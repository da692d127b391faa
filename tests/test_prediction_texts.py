"""Every sentence of a prediction in Chinese and English; recommendations from what-if."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import refundrules
from refundrules import RulePack
from refundrules._i18n import safe_print

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = json.loads((EXAMPLES / "as_of.json").read_text(encoding="utf-8"))
FICTIONAL = ROOT / "tests" / "packs" / "fictional_marketplace"
CASES = sorted(name for name in AS_OF)


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return refundrules.load_rule_pack("pinduoduo")


def _at(name: str) -> datetime:
    return datetime.fromisoformat(AS_OF[name])


def _has_han(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


@pytest.mark.parametrize("name", CASES)
def test_every_seller_sentence_of_every_example_has_chinese(pack: RulePack, name: str) -> None:
    case = pack.load_case(EXAMPLES / name)
    found = pack.predict(case, _at(name), recommend=True, language="zh")
    sentences: list[dict[str, str]] = []
    for deadline in found.deadlines:
        sentences += [deadline.what_texts, deadline.if_missed_texts]
    sentences += [action.why_texts for action in found.recommended_actions]
    sentences += [action.title_texts for action in found.recommended_actions if action.title]
    sentences += [item.description_texts for item in found.seller_consequences.sanctions]
    sentences += [item.what_texts for item in found.seller_consequences.compensation]
    sentences += [change.title_texts for change in found.seller_consequences.metrics]
    if found.likelihood is not None:
        sentences.append(found.likelihood.texts)
    for texts in sentences:
        assert set(texts) == {"en", "zh"}
        assert _has_han(texts["zh"]), texts
        assert not _has_han(texts["en"]), texts
    for flag in found.buyer_flags:
        assert all(_has_han(signal) for signal in flag.signal_texts["zh"])
        assert flag.signal_texts["en"] == flag.signals
    assert found.language == "zh" and found.text == found.texts["zh"]
    assert _has_han(found.texts["zh"]) and found.texts["en"].startswith("Case ")
    for deadline in found.deadlines:
        shown = refundrules_local(deadline.due_at)
        assert shown in found.texts["en"] and shown in found.texts["zh"]
        assert deadline.what_texts["zh"] in found.texts["zh"]
        assert deadline.if_missed_texts["en"] in found.texts["en"]


def refundrules_local(moment: datetime) -> str:
    """A time as the report shows it: Asia/Shanghai, to the second."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Shanghai")).replace(microsecond=0).isoformat()


def test_without_a_language_the_prediction_carries_no_rendered_text(pack: RulePack) -> None:
    name = "01_awaiting_seller.yaml"
    found = pack.predict(pack.load_case(EXAMPLES / name), _at(name))
    assert found.language is None and found.text is None and found.texts == {}
    # The sentences are English, with every language beside them.
    deadline = found.deadlines[0]
    assert deadline.what == deadline.what_texts["en"] and _has_han(deadline.what_texts["zh"])


def test_times_show_in_the_pack_timezone_without_microseconds(pack: RulePack) -> None:
    name = "05_seller_refused_escalation_open.yaml"
    moment = datetime.fromisoformat("2025-06-04T02:00:00.123456+00:00")
    found = pack.predict(pack.load_case(EXAMPLES / name), moment, language="en")
    assert "as of 2025-06-04T10:00:00+08:00" in found.texts["en"]
    assert ".123456" not in found.texts["en"] and ".123456" not in found.texts["zh"]


def test_recommended_actions_come_from_the_what_if_ranking(pack: RulePack) -> None:
    name = "01_awaiting_seller.yaml"
    case = pack.load_case(EXAMPLES / name)
    found = pack.predict(case, _at(name), recommend=True)
    ranked = pack.what_if(case, as_of=_at(name), language="en")
    assert [a.source for a in found.recommended_actions] == ["what_if"] * 3
    assert found.recommended_actions[0].action == ranked.recommended
    by_id = {outcome.action.id: outcome for outcome in ranked.outcomes}
    for action in found.recommended_actions:
        outcome = by_id[action.action]
        assert action.rank == outcome.rank
        assert action.rule_id == outcome.prediction.resolution.rule_id
        assert action.why.startswith(outcome.summary_texts["en"])
    kinds = [by_id[action.action].action.kind for action in found.recommended_actions]
    assert len(set(kinds)) == len(kinds)  # the best of each kind
    # The rules' own advice is what pack tests see without `recommend`.
    plain = pack.predict(case, _at(name))
    assert {a.source for a in plain.recommended_actions} == {"rule"}


def test_where_no_seller_action_applies_the_rules_advice_stays(pack: RulePack) -> None:
    name = "07_platform_ruled_closed.yaml"
    case = pack.load_case(EXAMPLES / name)
    found = pack.predict(case, _at(name), recommend=True)
    plain = pack.predict(case, _at(name))
    assert found.recommended_actions == plain.recommended_actions
    assert all(action.source == "rule" for action in found.recommended_actions)


def test_a_profile_without_chinese_falls_back_to_english() -> None:
    fictional = refundrules.load_rule_pack(FICTIONAL)
    test = fictional.tests[0]
    found = fictional.predict(test.case, test.spec.as_of, language="zh")
    for deadline in found.deadlines:
        assert deadline.what_texts["zh"] == deadline.what_texts["en"] == deadline.what
    explained = fictional.explain(test.case, test.spec.as_of, language="zh")
    check = explained.deciding[0].conditions[0]
    spec = fictional.profile.decision_facts[check.fact]
    assert spec.description_zh is None and spec.description in check.texts["zh"]


def test_chinese_fact_meanings_are_used_in_chinese_explanations(pack: RulePack) -> None:
    name = "05_seller_refused_escalation_open.yaml"
    explained = pack.explain(pack.load_case(EXAMPLES / name), _at(name), language="zh")
    for check in explained.deciding[0].conditions:
        spec = pack.profile.decision_facts[check.fact]
        assert spec.description_zh is not None
        assert spec.description_zh in check.texts["zh"]
        assert spec.description in check.texts["en"]


def _cli(*args: str, encoding: str = "utf-8") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "refundrules", *args],
        capture_output=True,
        env={"PYTHONIOENCODING": encoding, "PATH": ""},
        check=False,
    )


def test_cli_predict_defaults_to_the_profile_language_and_takes_lang() -> None:
    case = str(EXAMPLES / "01_awaiting_seller.yaml")
    default = _cli("predict", case)
    assert default.returncode == 0, default.stderr
    assert default.stdout.decode().startswith("案件 example-01-awaiting-seller")
    english = _cli("predict", case, "--lang", "en")
    assert english.stdout.decode().startswith("Case example-01-awaiting-seller")
    assert "Recommended:" in english.stdout.decode()


def test_cli_predict_json_has_the_text_in_the_language_and_in_both() -> None:
    run = _cli("predict", str(EXAMPLES / "02_seller_timeout_auto_refund.yaml"), "--format", "json")
    data = json.loads(run.stdout)
    assert data["language"] == "zh" and data["text"] == data["texts"]["zh"]
    assert set(data["texts"]) == {"en", "zh"}
    assert refundrules.Prediction.model_validate(data).language == "zh"


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_cli_predict_in_chinese_survives_a_terminal_without_han(encoding: str) -> None:
    run = _cli(
        "predict", str(EXAMPLES / "01_awaiting_seller.yaml"), "--lang", "zh", encoding=encoding
    )
    assert run.returncode == 0, run.stderr
    assert b"\\u6848\\u4ef6" in run.stdout  # 案件, escaped


def test_safe_print_on_a_cp1252_stream() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    safe_print("退款 — 39.90 CNY ≥ 0", stream)
    stream.flush()
    # The dash exists in cp1252 and stays; the Han characters and the sign become escapes.
    assert raw.getvalue() == b"\\u9000\\u6b3e \x97 39.90 CNY \\u2265 0\n"


def test_graph_speaks_both_languages() -> None:
    from refundrules._graph import pack_flow

    flow = pack_flow(refundrules.load_rule_pack(FICTIONAL), "zh")
    assert flow.language == "zh" and flow.text == flow.texts["zh"]
    assert flow.texts["zh"].startswith("fictional_marketplace：3 个阶段")
    assert flow.texts["en"].startswith("fictional_marketplace: 3 stages")
    assert flow.texts["en"].splitlines()[1:] == flow.texts["zh"].splitlines()[1:]


def test_what_if_names_a_sanction_in_the_language(pack: RulePack) -> None:
    name = "12_malicious_buyer_sanction.yaml"
    found = pack.what_if(pack.load_case(EXAMPLES / name), ["do_nothing"], as_of=_at(name))
    sanction = found.outcomes[0].prediction.seller_consequences.sanctions[0]
    assert f"处罚：{sanction.description_texts['zh']}" in found.texts["zh"]
    assert f"sanction: {sanction.description}" in found.texts["en"]
