"""Wordings shared by several checks, so one mistake reads the same wherever it is caught."""

from __future__ import annotations

__all__ = ["NAIVE_TIME"]

# A time without a UTC offset: in a case field, --as-of, a replay line or predict(as_of=...).
NAIVE_TIME = "a timezone is required (e.g. '2025-03-01T10:00:00+08:00'); got a naive time"
