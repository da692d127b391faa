"""Tools for rule authors: check a whole pack before you ship it.

The checks behind ``refundrules test``, ``diff`` and ``coverage``: run the pack's own
tests, check the properties it declares, compare two versions on the same generated and
recorded cases, and find the rules no case makes fire. Every result is a frozen object
with a readable report. For Hypothesis strategies and invariants to use in your own
tests, see :mod:`refundrules.testing`.

>>> import refundrules
>>> from refundrules.authoring import compare_rule_packs, run_pack_tests
>>> pack = refundrules.load_rule_pack("pinduoduo")
>>> all(result.passed for result in run_pack_tests(pack))
True
>>> compare_rule_packs(pack, pack, examples=20).changed
0
"""

from __future__ import annotations

from refundrules import _extras

_extras.require_hypothesis("refundrules.authoring")

from refundrules._coverage import CoverageReport, SourceCoverage, Witness, measure_coverage
from refundrules._diff import (
    PackDiff,
    SideSummary,
    TransitionReport,
    compare_rule_packs,
    load_replay,
)
from refundrules._pack_tests import PackTestResult, run_pack_tests
from refundrules._properties import PropertyResult, PropertyViolation, check_pack_properties

__all__ = [
    "CoverageReport",
    "PackDiff",
    "PackTestResult",
    "PropertyResult",
    "PropertyViolation",
    "SideSummary",
    "SourceCoverage",
    "TransitionReport",
    "Witness",
    "check_pack_properties",
    "compare_rule_packs",
    "load_replay",
    "measure_coverage",
    "run_pack_tests",
]
