"""Predicting needs no Hypothesis; the tools for rule authors say which extra brings it."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

WITHOUT_HYPOTHESIS = "import sys; sys.modules['hypothesis'] = None\n"


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_HYPOTHESIS + code], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def test_predicting_works_without_hypothesis() -> None:
    done = python(
        "from datetime import datetime\nimport refundrules\n"
        "pack = refundrules.load_rule_pack('pinduoduo')\n"
        "case = refundrules.load_case('examples/06_platform_reviewing_low_value.yaml')\n"
        "p = pack.predict(case, datetime.fromisoformat('2025-04-17T15:00:00+08:00'))\n"
        "print(p.resolution.outcome.value, 'hypothesis' in sys.modules and sys.modules['hypothesis'])"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refund_without_return None"


def test_the_authoring_modules_name_the_extra_when_hypothesis_is_missing() -> None:
    for module in ("refundrules.authoring", "refundrules.testing"):
        done = python(
            "import refundrules\n"
            f"try:\n    import {module}\n"
            "except refundrules.MissingExtraError as exc:\n    print(exc)\n"
        )
        assert done.stdout.strip() == (
            f"{module} needs hypothesis, which is not installed; "
            "install it with: pip install 'refundrules[authoring]'"
        )


def test_the_cli_authoring_commands_say_what_to_install() -> None:
    done = python("from refundrules._cli import main\nsys.exit(main(['test', 'pinduoduo']))")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "refundrules: refundrules.authoring needs hypothesis, which is not installed; "
        "install it with: pip install 'refundrules[authoring]'"
    )
    assert "Traceback" not in done.stderr
