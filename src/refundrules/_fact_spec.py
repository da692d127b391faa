"""What a fact is: its name, type, meaning and allowed values; and the values facts take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["FactKind", "FactSpec", "FactValue"]

FactValue = bool | float | str
FactKind = Literal["boolean", "number", "text"]


@dataclass(frozen=True)
class FactSpec:
    """A declared fact: its name, type, meaning and (for text facts) allowed values."""

    name: str
    kind: FactKind
    description: str
    values: tuple[str, ...] = ()
    unit: str | None = None
