"""The policy editor keeps YAML indentation when Enter starts a new line."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from tui.app.widgets.editor import PolicyEditor, continued_indent


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("name: x", ""),
        ("rules:", "  "),
        ("  - name: short-faq", "    "),
        ("    when:", "      "),
        ("        - {task: faq}", "          "),
        ("    route: fast", "    "),
        ("  # a comment:", "  "),
    ],
)
def test_continued_indent(line, expected):
    assert continued_indent(line) == expected


class EditorApp(App):
    def compose(self) -> ComposeResult:
        yield PolicyEditor("rules:\n  - name: a", id="editor")


async def test_enter_keeps_indentation():
    app = EditorApp()
    async with app.run_test() as pilot:
        editor = app.query_one(PolicyEditor)
        editor.focus()
        editor.move_cursor((1, len("  - name: a")))
        await pilot.press("enter")
        await pilot.press("w", "h", "e", "n")
        assert editor.text == "rules:\n  - name: a\n    when"
