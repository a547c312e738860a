"""Text made safe to show: on a terminal, in a Markdown report, in one line of a table.

Prompts, file names and model output can hold control characters and terminal escape sequences
(ESC [ 31 m recolours a terminal, a carriage return overwrites a line, a bidirectional override
reverses what follows). Shown raw they change what the reader sees; here each becomes a visible
escape such as ``\\x1b``.
"""

from __future__ import annotations

import re

# C0 and C1 controls (tab and newline are handled apart), DEL, and the bidirectional marks,
# embeddings, overrides and isolates.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}]")
# On one line, tabs and line breaks are escaped as well.
_ANY_CONTROL = re.compile(f"[{_CONTROLS}\t\n\u2028\u2029]")

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: object, *, multiline: bool = False) -> str:
    """``text`` with every control character shown as an escape.

    One line (the default): line breaks and tabs are escaped too (``\\n``), so a value cannot start
    a new line of a table or a Markdown heading and a path still reads as it is. ``multiline`` keeps
    newlines (and tabs, as spaces).
    """
    value = str(text)
    if multiline:
        value = value.replace("\r\n", "\n")
        lines = [_CONTROL.sub(_escape, line.replace("\t", "    ")) for line in re.split("[\n\u2028\u2029\x85]", value)]
        return "\n".join(lines)
    return _ANY_CONTROL.sub(_escape, value)
