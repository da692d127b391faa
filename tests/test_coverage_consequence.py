"""The witness search for a consequence-phase rule runs (it reads outcome facts)."""

from __future__ import annotations

import refundrules
from refundrules._coverage import _search_witness

from .conftest import ROOT

FICTIONAL = ROOT / "tests" / "packs" / "fictional_marketplace"


def test_a_consequence_rule_witness_search_does_not_read_decision_facts() -> None:
    pack = refundrules.load_rule_pack(FICTIONAL)
    assert pack.rule("below_defect_standard").spec.phase == "consequence"
    witness = _search_witness(pack, "below_defect_standard", 8)
    assert witness.rule_id == "below_defect_standard"
    if witness.found:
        assert witness.case is not None
