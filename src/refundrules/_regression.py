"""A counterexample written as a pack test entry, ready to paste under ``tests:``.

``refundrules diff`` prints one for each transition (pinning the new pack's answer) and
``refundrules test`` one for each failed property (stating what the property requires), so
the case a search found becomes a regression test without retyping it.

>>> print(pack_test_entry("t", "A case", {"case_id": "c"}, "2025-01-01T00:00:00+08:00",
...                       {"stage": "closed"}))
  - name: t
    description: A case
    case:
      case_id: c
    as_of: '2025-01-01T00:00:00+08:00'
    expect:
      stage: closed
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import yaml

__all__ = ["entry_name", "pack_test_entry"]

# Pack tests files list their tests two spaces in, under ``tests:``.
_INDENT = "  "


def entry_name(*parts: str) -> str:
    """An identifier made of ``parts`` (``partial_refund->closed`` → ``partial_refund_to_closed``)."""
    text = "_".join(parts).replace("->", "_to_").lower()
    name = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return name if name[:1].isalpha() else f"t_{name}"


def pack_test_entry(
    name: str,
    description: str,
    case: dict[str, Any],
    as_of: datetime | str,
    expect: dict[str, Any],
) -> str:
    """The YAML of one pack test, indented as an item of a tests file's ``tests:`` list."""
    entry = {
        "name": name,
        "description": description,
        "case": case,
        "as_of": as_of.isoformat() if isinstance(as_of, datetime) else as_of,
        "expect": expect,
    }
    text = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(f"{_INDENT}{line}" for line in text.splitlines())
