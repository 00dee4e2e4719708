"""What a text field may hold, on HTTP and on NATS: any Unicode except the C0 control characters other
than tab, line feed and carriage return (NUL cannot be stored, the others corrupt logs and terminals), and
except unpaired surrogates (not Unicode text at all, so they cannot be encoded as UTF-8).

The patterns are written so that Python and JSON Schema (ECMA-262) read them alike: the OpenAPI documents
carry them, so a client can check a field before it sends it.
"""

from __future__ import annotations

import re

_CONTROL = r"\x00-\x08\x0B\x0C\x0E-\x1F"
# What Python or ECMA-262 call white space (their `\s` differ, at U+0085 and U+FEFF among others).
_SPACE = r"\t\n\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF"
TEXT_PATTERN = rf"^[^{_CONTROL}]*$"
NON_BLANK_PATTERN = rf"^[^{_CONTROL}]*[^{_SPACE}{_CONTROL}][^{_CONTROL}]*$"  # also one character that is not space
_FORBIDDEN = re.compile(rf"[{_CONTROL}\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why the text is not allowed, naming the first offending character, or None."""
    found = _FORBIDDEN.search(value)
    if found is None:
        return None
    char = found.group()
    kind = "an unpaired surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"{kind} (U+{ord(char):04X}) at position {found.start()}"
