"""Regular expressions for `matches` conditions, evaluated in linear time.

Python's `re` backtracks, so a pattern such as `(a+)+$` can take years on a
long prompt. RE2 guarantees time linear in the input, and it rejects the
constructs that need backtracking (backreferences, look-around), which is how
Routebook reports patterns that cannot be evaluated safely.
"""

from __future__ import annotations

import re

import re2

try:
    # The public `re2.Pattern.search` wrapper costs about 20 us a call on short
    # strings (it maps byte offsets back to characters); the binding underneath
    # costs about 4 us. Matching only needs a yes or no, so call it directly.
    from re2 import _re2
except ImportError:  # pragma: no cover - other builds of the binding
    _re2 = None


class UnsafePattern(ValueError):
    """A pattern RE2 cannot compile: invalid, or one that needs backtracking."""


class SafePattern:
    """A compiled `matches` pattern: `search(text)` answers whether it occurs."""

    __slots__ = ("pattern", "_raw", "_anchor", "_public")

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._raw = None
        self._public = None

        options = re2.Options()
        options.log_errors = False
        options.never_capture = True
        try:
            self._public = re2.compile(pattern, options)
        except re2.error as error:
            raise UnsafePattern(_describe(error)) from None

        if _re2 is not None:
            raw = _re2.RE2(pattern.encode("utf-8"), options)
            if raw.ok():
                self._raw = raw
                self._anchor = _re2.RE2.Anchor.UNANCHORED

    def search(self, text: str) -> bool:
        if self._raw is not None:
            data = text.encode("utf-8", "surrogatepass")
            spans = self._raw.Match(self._anchor, data, 0, len(data))
            return spans[0][0] != -1
        return self._public.search(text) is not None


def _describe(error: Exception) -> str:
    detail = error.args[0] if error.args else str(error)
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    hint = ""
    if "\\Z" in detail:
        hint = " (RE2 writes the end-of-text anchor as \\z)"
    elif re.search(r"\\[1-9]|\(\?<?[=!]", detail):
        hint = (
            " (backreferences and look-around need backtracking, which could hang"
            " on long prompts; rewrite the pattern without them)"
        )
    return f"{detail}{hint}"


def compile_pattern(pattern: str) -> SafePattern:
    """Compile a pattern for linear-time search, raising UnsafePattern if RE2 can't."""
    return SafePattern(pattern)
