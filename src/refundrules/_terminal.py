"""What the command line writes reaches a terminal safely.

Two hazards: a terminal (or pipe) whose encoding lacks a character the output has (Chinese
titles on an ASCII console) would raise ``UnicodeEncodeError`` mid-report, and text that
came from a file (a pack's texts, an error quoting input) could carry escape sequences that
retitle, clear or recolour the user's terminal.

>>> printable("ok\\x1b[2J\\tdone")
'ok\\\\x1b[2J\\tdone'
"""

from __future__ import annotations

import io
import sys

__all__ = ["CONTROL_CHARACTERS", "printable", "use_safe_streams"]

# C0 and C1 controls except tab and line breaks, and the bidirectional overrides: what could
# retitle or clear a terminal, or disguise text on screen. A case refuses them in its text
# (``refundrules._case``); output escapes them.
CONTROL_CHARACTERS = frozenset(
    chr(code)
    for code in (
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    )
    if chr(code) not in "\t\n\r"
)
_ESCAPES = {
    ord(char): f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    for char in CONTROL_CHARACTERS
}
_LINE_ESCAPES = {**_ESCAPES, ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"}


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` with control characters written out as escapes (``\\x1b``); ``one_line``
    escapes tabs and line breaks too (for a value such as an id inside a line of output)."""
    return text.translate(_LINE_ESCAPES if one_line else _ESCAPES)


def use_safe_streams() -> None:
    """Make stdout and stderr write a character their encoding lacks as an escape
    (``\\u4e70``) instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
