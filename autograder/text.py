"""Cleaning text that comes from student code before the grader keeps or shows it."""

import re

_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text, limit):
    """``text`` as printable UTF-8 of at most about ``limit`` characters.

    Terminal escape sequences and control characters (other than newline and tab) are
    removed, lone surrogates are written as ``\\udXXX``, and what is over ``limit`` is
    cut with a note saying how much.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    dropped = max(len(text) - 4 * limit, 0)
    text = text[: 4 * limit]  # bound the work below before cleaning
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = _CONTROLS.sub("", _ESCAPES.sub("", text))
    if len(text) > limit:
        dropped += len(text) - limit
        text = text[:limit]
    if dropped:
        text += f" [... {dropped} more characters not kept]"
    return text
