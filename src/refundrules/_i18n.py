"""Sentences in the languages a profile declares (``en``, ``zh``), times and safe printing.

Only the *grammar* of a sentence lives here (how a comparison or a cost reads in each
language); every platform word (rule titles, actions, fact meanings) comes from the pack.

>>> from datetime import datetime, timezone
>>> local_time(datetime(2025, 6, 4, 2, 0, 0, 123456, tzinfo=timezone.utc), "Asia/Shanghai")
'2025-06-04T10:00:00+08:00'
>>> both(en="met", zh="满足")["zh"]
'满足'
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Literal, TextIO
from zoneinfo import ZoneInfo

__all__ = [
    "LANGUAGES",
    "Language",
    "both",
    "choose_language",
    "local_time",
    "op_words",
    "print_json",
    "safe_print",
    "show_value",
]

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")

_OP_WORDS: dict[str, tuple[str, str]] = {
    "eq": ("equal to", "等于"),
    "ne": ("other than", "不等于"),
    "lt": ("below", "小于"),
    "lte": ("at most", "不超过"),
    "gt": ("above", "大于"),
    "gte": ("at least", "不少于"),
    "in": ("one of", "属于"),
    "not_in": ("none of", "不属于"),
}


def both(*, en: str, zh: str) -> dict[str, str]:
    """One sentence in every language, keyed by language code."""
    return {"en": en, "zh": zh}


def op_words(op: str, language: Language) -> str:
    en, zh = _OP_WORDS[op]
    return zh if language == "zh" else en


def show_value(value: object, language: Language) -> str:
    """A fact value or threshold as a seller reads it."""
    if isinstance(value, bool):
        if language == "zh":
            return "是" if value else "否"
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ("、" if language == "zh" else ", ").join(str(item) for item in value)
    return str(value)


def choose_language(requested: str | None, languages: tuple[str, ...]) -> Language:
    """The requested language, else the profile's first; English if the profile has no zh."""
    found = requested or (languages[0] if languages else "en")
    return "zh" if found == "zh" else "en"


def local_time(moment: datetime, timezone: str) -> str:
    """``moment`` in the pack's timezone, to the second (no microseconds)."""
    return moment.astimezone(ZoneInfo(timezone)).replace(microsecond=0).isoformat()


def safe_print(text: str, stream: TextIO | None = None) -> None:
    """Print ``text`` even on a terminal whose encoding cannot show some characters
    (they become ``\\uXXXX`` escapes instead of raising ``UnicodeEncodeError``)."""
    out = sys.stdout if stream is None else stream
    encoding = getattr(out, "encoding", None) or "utf-8"
    printable = text.encode(encoding, errors="backslashreplace").decode(encoding)
    print(printable, file=out)


def print_json(text: str, stream: TextIO | None = None) -> None:
    """Print a JSON document; as ASCII escapes (still valid JSON) where the terminal cannot
    encode a character."""
    out = sys.stdout if stream is None else stream
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=True)
    print(text, file=out)
