# ruff: noqa: F811
# The fixtures come from app_harness by import, and each test takes them as
# arguments of the same name.
"""App: screens by key and by command palette, the help screen, segment drill-down."""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import DataTable

from tui.app.main import RoutebookApp

from .app_harness import SMALL_ROWS, small, state_dir, wait_for  # noqa: F401

SCREENS = {
    "f2": "policy-screen",
    "f3": "preview-screen",
    "f4": "samples-screen",
    "f5": "compare-screen",
    "f6": "history-screen",
}


async def test_function_keys_switch_screens(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        for key, screen_id in [*SCREENS.items(), ("f2", "policy-screen")]:
            await pilot.press(key)
            await wait_for(
                pilot, lambda wanted=screen_id: app.screen.id == wanted, what=screen_id
            )


async def test_palette_runs_screen_command(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: "CommandPalette" in type(app.screen).__name__)
        await pilot.press(*"show history")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "history-screen", what="history")


async def test_help_lists_screen_keys(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.screen.id == "compare-screen", what="compare")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: app.screen.id == "help-screen", what="help")
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(app.screen.content())
        text = console.export_text()
        assert "Not acceptable" in text
        assert "History" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.id == "compare-screen", what="close")


async def test_preview_row_opens_segment_samples(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.screen.id == "preview-screen", what="preview")
        await pilot.pause()
        table = app.screen.query_one("#segments", DataTable)
        values = [str(table.get_row_at(index)[1]) for index in range(table.row_count)]
        assert sorted(values) == sorted({row[1] for row in SMALL_ROWS})
        row = values.index("bronze")
        table.focus()
        table.move_cursor(row=row)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "samples-screen", what="samples")
        assert app.review.filter.dimension == "tier"
        assert app.review.filter.value == "bronze"
        expected = [row[0] for row in SMALL_ROWS if row[1] == "bronze"]
        assert [r.request.id for r in app.review.rows()] == expected
