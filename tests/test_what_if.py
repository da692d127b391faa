"""RulePack.what_if: each seller action's predicted outcome and cost, ranked."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

import refundrules
from refundrules import RulePack, WhatIf
from refundrules.exceptions import RulePackError

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "cases" / "seed_not_as_described.yaml"
SEED_AS_OF = datetime.fromisoformat("2025-06-03T10:00:00+08:00")
FICTIONAL = ROOT / "tests" / "packs" / "fictional_marketplace"
SEED_ACTIONS = ["agree", "refuse", "do_nothing"]


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return refundrules.load_rule_pack("pinduoduo")


@pytest.fixture(scope="module")
def seed(pack: RulePack) -> WhatIf:
    case = refundrules.load_case(SEED)
    return pack.what_if(case, SEED_ACTIONS, as_of=SEED_AS_OF, language="en")


def _outcome(found: WhatIf, action_id: str) -> refundrules.ActionOutcome:
    return next(outcome for outcome in found.outcomes if outcome.action.id == action_id)


def test_the_seed_story_refusing_costs_more_than_agreeing(seed: WhatIf) -> None:
    agree = _outcome(seed, "agree")
    for reason in ("package_opened", "buyer_subjectively_unhappy"):
        refuse = _outcome(seed, f"refuse:{reason}")
        assert refuse.rank > agree.rank
        # The platform still orders the refund: the same money, plus a dispute and points.
        assert refuse.prediction.resolution.decided_by == "platform"
        assert refuse.cost.money == agree.cost.money
        assert refuse.cost.dispute_record and not agree.cost.dispute_record
        extra = (
            refuse.cost.metrics_added["penalty_points"] - agree.cost.metrics_added["penalty_points"]
        )
        assert extra > 0
        assert refuse.versus_texts["en"] == (
            f"compared with 'Agree to the request now': a dispute on the store's record; "
            f"penalty points +{extra:g}"
        )
        assert refuse.versus_texts["zh"] == (
            f"比「立即同意买家申请」：多一条纠纷记录；扣分 +{extra:g}"
        )


def test_the_ranking_is_by_cost_and_recommends_the_cheapest(seed: WhatIf) -> None:
    ranks = [outcome.rank for outcome in seed.outcomes]
    assert ranks == list(range(1, len(ranks) + 1))
    assert seed.recommended == seed.outcomes[0].action.id
    records = [outcome.cost.dispute_record for outcome in seed.outcomes]
    assert records == sorted(records)  # a dispute record never ranks above none


def test_every_action_at_the_stage_is_tried_by_default(pack: RulePack) -> None:
    case = refundrules.load_case(SEED)
    found = pack.what_if(case, as_of=SEED_AS_OF)
    kinds = {outcome.action.kind for outcome in found.outcomes}
    assert kinds == {"do_nothing", "agree", "refuse", "partial_refund", "submit_evidence"}
    refusals = [o for o in found.outcomes if o.action.kind == "refuse"]
    assert len(refusals) == 7
    assert found.language == "zh" and "拒绝：商品已拆封" in found.text
    assert "Refuse: the package was opened" in found.texts["en"]


def test_doing_nothing_is_predicted_after_the_seller_window(seed: WhatIf) -> None:
    nothing = _outcome(seed, "do_nothing")
    assert nothing.prediction.as_of > SEED_AS_OF
    assert nothing.prediction.resolution.decided_by == "system"


def test_a_pack_in_english_only_has_its_own_actions() -> None:
    fictional = refundrules.load_rule_pack(FICTIONAL)
    test = fictional.tests[0]
    found = fictional.what_if(test.case, as_of=test.spec.as_of)
    assert found.language == "en"
    assert {o.action.kind for o in found.outcomes} <= {"do_nothing", "agree", "provide_tracking"}


def test_a_seller_action_the_profile_does_not_have_is_a_pack_error(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "pack"
    shutil.copytree(FICTIONAL, copy)
    (copy / "seller_actions.yaml").write_text(
        "actions:\n  - {id: x, event: buyer_cancelled, stages: [awaiting_seller], "
        "title: {en: X}}\n",
        encoding="utf-8",
    )
    # refused when the pack loads (so `refundrules validate` refuses it), at the action's key
    with pytest.raises(RulePackError, match="'buyer_cancelled' is not an event the seller") as err:
        refundrules.load_rule_pack(copy)
    assert err.value.path == str(copy / "seller_actions.yaml")
    assert (err.value.line, err.value.field) == (2, "actions.0.event")


def test_cli_what_if_in_json_on_an_ascii_terminal() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "refundrules",
            "what-if",
            str(SEED),
            "--as-of",
            SEED_AS_OF.isoformat(),
            "--action",
            "agree",
            "--action",
            "refuse:package_opened",
            "--format",
            "json",
            "--lang",
            "en",
        ],
        capture_output=True,
        env={"PYTHONIOENCODING": "ascii", "PATH": ""},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert [o["action"]["id"] for o in data["outcomes"]] == ["agree", "refuse:package_opened"]
    assert set(data["texts"]) == {"en", "zh"} and data["language"] == "en"


def test_cli_predict_survives_an_ascii_terminal() -> None:
    case = ROOT / "examples" / "05_seller_refused_escalation_open.yaml"
    run = subprocess.run(
        [sys.executable, "-m", "refundrules", "predict", str(case)],
        capture_output=True,
        env={"PYTHONIOENCODING": "ascii", "PATH": ""},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert b"\\u2265" in run.stdout or b"\\u2264" in run.stdout or b"\\u2014" in run.stdout


REFUND_ONLY = ROOT / "examples" / "01_awaiting_seller.yaml"
REFUND_ONLY_AS_OF = datetime.fromisoformat("2025-03-05T12:00:00+08:00")


def test_proposing_a_return_is_tried_on_a_refund_only_request(pack: RulePack) -> None:
    case = refundrules.load_case(REFUND_ONLY)
    found = pack.what_if(case, as_of=REFUND_ONLY_AS_OF, language="en")
    propose = _outcome(found, "propose_return")
    agree = _outcome(found, "agree")
    # The goods come back, which agreeing to the refund-only request does not give.
    assert propose.cost.goods_returned and not agree.cost.goods_returned
    assert propose.prediction.resolution.outcome.value == "return_and_refund"
    assert propose.action.assumes["zh"] == "买家同意将申请改为退货退款"
    assert "assuming: the buyer agrees to change the request" in found.texts["en"]
    assert "假设：买家同意将申请改为退货退款" in found.texts["zh"]


def test_proposing_a_return_is_not_offered_on_a_return_request(
    seed: WhatIf, pack: RulePack
) -> None:
    case = refundrules.load_case(SEED)
    found = pack.what_if(case, as_of=SEED_AS_OF)
    assert "propose_return" not in {outcome.action.kind for outcome in found.outcomes}


def test_the_pack_says_it_does_not_know_which_partial_refund_is_accepted(pack: RulePack) -> None:
    case = refundrules.load_case(REFUND_ONLY)
    found = pack.what_if(case, ["partial_refund"], as_of=REFUND_ONLY_AS_OF, language="zh")
    assert found.note_texts["en"].startswith("The pack does not predict which partial refund")
    assert found.note == found.note_texts["zh"] and found.note in found.text
    assert all(o.prediction.resolution.decided_by == "buyer" for o in found.outcomes[:-1])
    agreed = pack.what_if(case, ["agree"], as_of=REFUND_ONLY_AS_OF)
    assert agreed.note is None and agreed.note_texts == {}


def _pack_with_accepted_share(tmp_path: Path, share: float, parameter: str) -> RulePack:
    import shutil

    copy = tmp_path / "pinduoduo"
    shutil.copytree(ROOT / "rules" / "pinduoduo", copy)
    parameters = copy / "parameters.yaml"
    parameters.write_text(
        parameters.read_text(encoding="utf-8")
        + f"  buyer_accepts_share:\n    value: {share}\n    unit: ratio\n"
        "    description: The least share of the request buyers accept (test only).\n"
        "    source: seed_refund\n    confidence: D\n",
        encoding="utf-8",
    )
    actions = copy / "seller_actions.yaml"
    text = actions.read_text(encoding="utf-8")
    marker = "    shares: [0.3, 0.5, 0.7]\n"
    assert marker in text
    actions.write_text(
        text.replace(
            marker,
            marker + f"    accepted_share: {parameter}\n"
            "    accepted_by: {kind: buyer_accepted_offer, actor: buyer}\n"
            '    accepted_title: {en: "Offer {amount}, the least the buyer accepts", '
            'zh: "提出买家可接受的最低部分退款 {amount}"}\n',
        ),
        encoding="utf-8",
    )
    return refundrules.load_rule_pack(copy)


def test_the_smallest_accepted_partial_refund_where_the_pack_knows_it(tmp_path: Path) -> None:
    pack = _pack_with_accepted_share(tmp_path, 0.4, "buyer_accepts_share")
    case = pack.load_case(REFUND_ONLY)
    found = pack.what_if(case, ["partial_refund"], as_of=REFUND_ONLY_AS_OF, language="en")
    accepted = _outcome(found, "partial_refund:accepted")
    expected = (case.request.amount * Decimal("0.4")).quantize(Decimal("0.01"))
    assert accepted.cost.money == expected
    assert accepted.prediction.resolution.outcome.value == "partial_refund"
    assert accepted.prediction.resolution.final
    assert accepted.action.texts["en"] == f"Offer {expected}, the least the buyer accepts"
    assert (
        "40% of the request or more (parameter buyer_accepts_share)"
        in accepted.action.assumes["en"]
    )
    assert found.note is None  # the pack knows, so nothing to warn about


def test_an_accepted_share_naming_no_parameter_is_a_pack_error(tmp_path: Path) -> None:
    with pytest.raises(
        RulePackError, match="accepted_share names no parameter: 'no_such_share'"
    ) as err:
        _pack_with_accepted_share(tmp_path, 0.4, "no_such_share")
    assert err.value.field is not None and err.value.field.endswith(".accepted_share")
    assert err.value.line is not None


def _fictional_copy(tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "pack"
    shutil.copytree(FICTIONAL, copy)
    return copy


@pytest.mark.parametrize(
    ("text", "message", "line", "field"),
    [
        ("actions: []\nactions: []\n", "duplicate key 'actions'", 2, None),
        (
            "actions:\n  - id: agree\n    event: seller_agreed\n    stages: [awaiting_seller]\n"
            "    title: {en: Agree}\n    colour: red\n",
            "unknown key 'colour'",
            6,
            "actions.0.colour",
        ),
        ("a: &a [1]\nb: *a\n" + "c: [" * 200 + "]" * 200 + "\n", "nested more than", 3, None),
    ],
)
def test_seller_actions_are_read_by_the_hardened_reader_with_file_line_and_field(
    tmp_path: Path, text: str, message: str, line: int, field: str | None
) -> None:
    copy = _fictional_copy(tmp_path)
    (copy / "seller_actions.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RulePackError, match=message) as err:
        refundrules.load_rule_pack(copy)
    assert (err.value.path, err.value.line) == (str(copy / "seller_actions.yaml"), line)
    assert err.value.field == field


def test_seller_actions_linking_outside_the_pack_or_not_a_file_are_refused(
    tmp_path: Path,
) -> None:
    import os

    copy = _fictional_copy(tmp_path)
    actions = copy / "seller_actions.yaml"
    outside = tmp_path / "elsewhere.yaml"
    outside.write_bytes(actions.read_bytes())
    actions.unlink()
    actions.symlink_to(outside)
    with pytest.raises(RulePackError, match="links outside the pack folder"):
        refundrules.load_rule_pack(copy)
    actions.unlink()
    os.mkfifo(actions)  # a FIFO with no writer: refused at once, not waited on
    with pytest.raises(RulePackError, match="cannot read file: not a regular file"):
        refundrules.load_rule_pack(copy)


def test_seller_actions_are_read_once_when_the_pack_loads(tmp_path: Path) -> None:
    copy = _fictional_copy(tmp_path)
    pack = refundrules.load_rule_pack(copy)
    test = pack.tests[0]
    before = pack.what_if(test.case, as_of=test.spec.as_of)
    # what-if asks the loaded pack, not the disk: a later edit is seen only by a reload
    (copy / "seller_actions.yaml").write_text("actions: [broken", encoding="utf-8")
    again = pack.what_if(test.case, as_of=test.spec.as_of)
    assert [o.action.id for o in again.outcomes] == [o.action.id for o in before.outcomes]
    assert len(before.outcomes) > 1
    assert pack.seller_actions.actions  # the fictional pack declares some


def test_validate_checks_the_seller_actions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from refundrules._cli import EXIT_BAD_PACK, main

    copy = _fictional_copy(tmp_path)
    actions = copy / "seller_actions.yaml"
    actions.write_text(
        actions.read_text(encoding="utf-8") + "  - {id: y, stages: [nowhere], title: {en: Y}}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(copy)]) == EXIT_BAD_PACK
    err = capsys.readouterr().err
    assert f"{actions}:" in err and "actions." in err and "Traceback" not in err
    assert main(["validate", str(copy), "--format", "json"]) == EXIT_BAD_PACK
    problem = json.loads(capsys.readouterr().out)["error"]
    assert problem["path"] == str(actions) and problem["line"] is not None
    assert str(problem["field"]).startswith("actions.")
