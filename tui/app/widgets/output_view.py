"""A read-only, virtualised view of one model output with marked spans.

TextArea renders only the lines on screen, so an output of 8,000+ tokens
scrolls as smoothly as a short one. Marked spans (words that differ from the
other output, evidence of a failed check) are drawn through TextArea's
highlight map, which its syntax highlighting also uses.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.widgets.text_area import TextAreaTheme

from .editor import AppTextArea

THEME_NAME = "routebook-output"

# Styles that read on light and dark themes alike, without relying on colour.
MARK_STYLES = {
    "diff": Style(bold=True, underline=True),
    "check": Style(reverse=True, bold=True),
}


class OutputView(AppTextArea):
    """Plain text of one output; `show(text, marks)` loads it with marks.

    A mark is (start, end, kind) in characters of the text, with kind one of
    MARK_STYLES. Line numbers and the cursor line are hidden.
    """

    def __init__(self, **kwargs: Any) -> None:
        # TextArea.__init__ builds the highlight map, which reads the marks.
        self._marks: list[tuple[int, int, str]] = []
        super().__init__(
            read_only=True,
            soft_wrap=True,
            show_line_numbers=False,
            highlight_cursor_line=False,
            **kwargs,
        )
        self.register_theme(TextAreaTheme(name=THEME_NAME, syntax_styles=MARK_STYLES))
        self.theme = THEME_NAME

    def show(self, text: str, marks: list[tuple[int, int, str]]) -> None:
        self._marks = marks
        self.load_text(text)

    def _build_highlight_map(self) -> None:
        # NOTE: overrides a private TextArea hook (Textual 8.2); the highlight
        # map contains (start byte, end byte or None, style name) per line.
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        if not self._marks:
            return
        lines = self.document.lines
        for row, start, end, kind in line_spans(lines, self._marks):
            line = lines[row]
            start_byte = len(line[:start].encode("utf-8"))
            end_byte = len(line[:end].encode("utf-8"))
            highlights[row].append((start_byte, end_byte, kind))


def line_spans(lines: list[str], marks: list[tuple[int, int, str]]):
    """Split spans over the joined lines into (row, start, end, kind) per line."""
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    for start, end, kind in marks:
        row = _row_of(starts, start)
        while row < len(lines) and starts[row] < end:
            line_start = starts[row]
            first = max(start, line_start) - line_start
            last = min(end, line_start + len(lines[row])) - line_start
            if last > first:
                yield row, first, last, kind
            row += 1


def _row_of(starts: list[int], offset: int) -> int:
    from bisect import bisect_right

    return max(0, bisect_right(starts, offset) - 1)
