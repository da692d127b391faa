"""A profile may accept cases in several currencies and read a free-text field's value."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import refundrules
from refundrules import CaseError, RulePack

from .conftest import ROOT, at

FICTIONAL = ROOT / "tests" / "packs" / "fictional_marketplace"
CLAIM: dict[str, Any] = {
    "case_id": "mm-currency",
    "platform": "maple_market",
    "order": {"order_id": "MM", "paid_amount": "80.00", "paid_at": "2025-08-20T12:00:00-04:00"},
    "request": {
        "kind": "refund_only",
        "reason": "damaged",
        "amount": "80.00",
        "requested_at": "2025-08-29T17:00:00-04:00",
    },
}


def _pack_with(tmp_path: Path, currencies: list[str]) -> RulePack:
    folder = tmp_path / "maple"
    shutil.copytree(FICTIONAL, folder)
    profile_path = folder / "profile.yaml"
    profile = yaml.safe_load(profile_path.read_text(encoding="utf-8"))
    profile["defaults"]["currencies"] = currencies
    profile["facts"]["paid_in_pounds"] = {
        "kind": "case_value_in",
        "field": "order.currency",
        "values": ["GBP"],
        "description": "the order was paid in pounds",
    }
    profile_path.write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    return refundrules.load_rule_pack(folder)


def test_a_case_in_a_declared_currency_is_predicted_in_it(tmp_path: Path) -> None:
    pack = _pack_with(tmp_path, ["GBP", "EUR"])
    assert pack.profile.currencies == ("USD", "GBP", "EUR")
    data = copy.deepcopy(CLAIM)
    data["order"]["currency"] = "GBP"
    prediction = pack.predict(pack.load_case(data), at("2025-08-30T12:00:00-04:00"))
    assert prediction.resolution.currency == "GBP"
    assert (
        pack.facts(pack.load_case(data), at("2025-08-30T12:00:00-04:00"))["paid_in_pounds"] is True
    )


def test_a_case_without_a_currency_gets_the_default_and_not_the_others(tmp_path: Path) -> None:
    pack = _pack_with(tmp_path, ["GBP"])
    prediction = pack.predict(pack.load_case(CLAIM), at("2025-08-30T12:00:00-04:00"))
    assert prediction.resolution.currency == "USD"
    assert (
        pack.facts(pack.load_case(CLAIM), at("2025-08-30T12:00:00-04:00"))["paid_in_pounds"]
        is False
    )


def test_a_currency_the_profile_does_not_declare_is_refused(tmp_path: Path) -> None:
    pack = _pack_with(tmp_path, ["GBP"])
    data = copy.deepcopy(CLAIM)
    data["order"]["currency"] = "JPY"
    with pytest.raises(CaseError) as info:
        pack.predict(pack.load_case(data), at("2025-08-30T12:00:00-04:00"))
    assert info.value.field == "order.currency"
    assert "amounts are in USD, GBP, the case is in JPY" in str(info.value)
