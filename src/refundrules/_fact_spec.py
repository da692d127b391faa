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
    description_zh: str | None = None

    def meaning(self, language: str) -> str:
        """What the fact means in ``language`` (English where no Chinese is given)."""
        return (self.description_zh or self.description) if language == "zh" else self.description
