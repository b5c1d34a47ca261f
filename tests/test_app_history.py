# ruff: noqa: F811
# The fixtures come from app_harness by import, and each test takes them as
# arguments of the same name.
"""App: the History screen lists saved versions and diffs two of them."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TextArea

from tui.app.main import RoutebookApp

from .app_harness import SMALL_POLICY, SMALL_ROWS, small, state_dir, wait_for  # noqa: F401


def diff_text(app) -> str:
    return str(app.screen.query_one("#diff-text", Static).render())


async def test_history_diffs_saved_versions(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        editor = app.screen.query_one("#editor", TextArea)
        row = editor.text.split("\n").index("    route: fast")
        editor.replace("strong", (row, 11), (row, 15))
        await wait_for(
            pilot, lambda: "route: strong\n    route" not in app.text, what="edit"
        )
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not app.dirty, what="the save")

        await pilot.press("f6")
        await wait_for(pilot, lambda: app.screen.id == "history-screen", what="history")
        table = app.screen.query_one("#versions", DataTable)
        await wait_for(pilot, lambda: table.row_count == 2, what="two versions")
        labels = [str(table.get_row_at(index)[1]) for index in range(2)]
        assert labels == ["v1", "v2 (current file)"]

        table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "v1 → v2" in diff_text(app), what="the diff")
        text = diff_text(app)
        assert "~ others-go-fast: route fast → strong" in text
        moved = sum(1 for _, tier, _, _ in SMALL_ROWS if tier in {"silver", "bronze"})
        assert f"{moved} requests move fast->strong" in text
        assert "tier=bronze" in text
        assert "tier=gold" not in text, "gold requests did not move"


async def test_history_marks_two_versions(small):
    policy_path, sample_path = small
    history = policy_path.parent / ".history" / "small"
    history.mkdir(parents=True)
    (history / "v1.yaml").write_text(
        SMALL_POLICY.replace("version: 1", "version: 0").replace(
            "min_samples: 2", "min_samples: 3"
        ),
        encoding="utf-8",
    )
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        await pilot.press("f6")
        await wait_for(pilot, lambda: app.screen.id == "history-screen", what="history")
        table = app.screen.query_one("#versions", DataTable)
        await wait_for(pilot, lambda: table.row_count == 2, what="two versions")
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("space")
        await pilot.pause()
        table.move_cursor(row=1)
        await pilot.press("space")
        assert app.screen.marked == ["1", "1*"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: "v1 → v1" in diff_text(app), what="the diff")
        text = diff_text(app)
        assert "no rule changed" in text
        assert "min_samples: changed (3 → 2)" in text
