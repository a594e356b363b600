"""Cleaning text that comes from student code before the grader keeps or shows it."""

import re
import unicodedata

_ESCAPES = re.compile(
    r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INVISIBLE = {"Cf", "Zl", "Zp"}


def printable(text):
    """``text`` without terminal escape sequences, control characters (other than
    newline and tab) and invisible format characters."""
    text = _CONTROLS.sub("", _ESCAPES.sub("", text))
    if not text.isascii():
        text = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)
    return text


def clean_text(text, limit):
    """``text`` as printable UTF-8 of at most about ``limit`` characters.

    Terminal escape sequences, control characters (other than newline and tab) and
    invisible format characters (bidirectional overrides, zero-width characters, line
    and paragraph separators) are removed, lone surrogates are written as ``\\udXXX``,
    and what is over ``limit`` is cut with a note saying how much.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    dropped = max(len(text) - 4 * limit, 0)
    text = text[: 4 * limit]  # bound the work below before cleaning
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = printable(text)
    if len(text) > limit:
        dropped += len(text) - limit
        text = text[:limit]
    if dropped:
        text += f" [... {dropped} more characters not kept]"
    return text
