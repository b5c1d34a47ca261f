# ruff: noqa: F811
# The fixtures come from app_harness by import, and each test takes them as
# arguments of the same name.
"""App: rule moves, deletes and adds from the outline, with their comments."""

from __future__ import annotations

from textual.widgets import TextArea

from tui.app.main import RoutebookApp
from tui.app.widgets.outline import PolicyOutline
from tui.core.editing import move_rule

from .app_harness import SMALL_POLICY, small, state_dir, wait_for  # noqa: F401


def rule_node(outline: PolicyOutline, index: int):
    for section in outline.root.children:
        for node in section.children:
            if node.data is not None and node.data.rule_index == index:
                return node
    raise AssertionError(f"no outline node for rule {index}")


async def ready(pilot, app) -> None:
    await wait_for(pilot, lambda: app.check_result is not None, what="first check")
    await pilot.pause()


async def test_outline_moves_rule_with_comment(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        outline = app.screen.query_one("#outline", PolicyOutline)
        outline.focus()
        outline.move_cursor(rule_node(outline, 1))
        await pilot.press("shift+up")
        expected = move_rule(SMALL_POLICY, 1, -1).text
        await wait_for(pilot, lambda: app.text == expected, what="the move")

        lines = app.text.split("\n")
        first = lines.index("  - name: others-go-fast")
        assert lines[first - 1] == "  # Everyone else goes fast."
        await wait_for(
            pilot, lambda: app.checked_revision == app.revision, what="check"
        )
        assert [r.name for r in app.check_result.policy.rules] == [
            "others-go-fast",
            "gold-stays-strong",
        ]
        await wait_for(pilot, lambda: outline.highlighted_rule() == 0, what="highlight")

        editor = app.screen.query_one("#editor", TextArea)
        editor.focus()
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: app.text == SMALL_POLICY, what="the undo")


async def test_outline_delete_and_add(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        outline = app.screen.query_one("#outline", PolicyOutline)
        outline.focus()
        outline.move_cursor(rule_node(outline, 0))
        await pilot.press("delete")
        await wait_for(
            pilot, lambda: "gold-stays-strong" not in app.text, what="delete"
        )
        assert "# Gold customers keep the strong model." not in app.text
        assert "# Everyone else goes fast." in app.text

        await wait_for(
            pilot, lambda: app.checked_revision == app.revision, what="check"
        )
        await pilot.press("insert")
        await wait_for(pilot, lambda: "name: new-rule" in app.text, what="add")
        await wait_for(
            pilot, lambda: app.checked_revision == app.revision, what="check"
        )
        assert app.check_result.ok
        rules = app.check_result.policy.rules
        assert [(r.name, r.route) for r in rules] == [
            ("others-go-fast", "fast"),
            ("new-rule", "fast"),
        ]


async def test_editor_cursor_picks_rule(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        editor = app.screen.query_one("#editor", TextArea)
        lines = SMALL_POLICY.split("\n")
        editor.cursor_location = (lines.index("    route: fast"), 4)
        await pilot.press("alt+up")
        expected = move_rule(SMALL_POLICY, 1, -1).text
        await wait_for(pilot, lambda: app.text == expected, what="the move")
        line = editor.cursor_location[0]
        assert app.text.split("\n")[line] == "  - name: others-go-fast"


async def test_rule_edit_on_broken_yaml_notifies(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        editor = app.screen.query_one("#editor", TextArea)
        broken = SMALL_POLICY.replace("route: fast", "route: [fast")
        app.set_editor_text(broken, line=0)
        await wait_for(pilot, lambda: app.text == broken, what="broken text")
        editor.cursor_location = (
            broken.split("\n").index("  - name: others-go-fast"),
            4,
        )
        await pilot.press("alt+up")
        await pilot.pause()
        assert app.text == broken
        messages = [notification.message for notification in app._notifications]
        assert any("YAML error at line" in message for message in messages)
