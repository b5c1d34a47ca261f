# ruff: noqa: F811
# The fixtures come from app_harness by import, and each test takes them as
# arguments of the same name.
"""App: edits re-preview; bad YAML lists problems and keeps the last preview."""

from __future__ import annotations

from textual.widgets import Static, TextArea

from tui.app.main import RoutebookApp
from tui.app.widgets.problems import ProblemList

from .app_harness import SMALL_ROWS, small, state_dir, wait_for  # noqa: F401


def expected_figures(fast_tiers: set[str]) -> tuple[float, float]:
    """Return (share of fast, regression) when `fast_tiers` go fast, from SMALL_ROWS."""
    routed = [
        fast if tier in fast_tiers else strong for _, tier, strong, fast in SMALL_ROWS
    ]
    baseline = [strong for _, _, strong, _ in SMALL_ROWS]
    share = sum(1 for _, tier, _, _ in SMALL_ROWS if tier in fast_tiers) / len(
        SMALL_ROWS
    )
    return share, (sum(baseline) - sum(routed)) / len(SMALL_ROWS)


async def test_edit_changes_preview(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: app.preview is not None and not app.checking,
            what="first preview, no check pending",
        )
        share, regression = expected_figures({"silver", "bronze"})
        totals = app.preview.totals.stats
        assert totals.share(["strong", "fast"])["fast"] == share
        assert abs(totals.regression - regression) < 1e-12

        editor = app.screen.query_one("#editor", TextArea)
        row = editor.text.split("\n").index("    route: fast")
        editor.replace("strong", (row, 11), (row, 15))
        first = app.preview
        await wait_for(
            pilot,
            lambda: app.preview is not first and app.preview_revision == app.revision,
            what="preview of the edited text",
        )

        share, regression = expected_figures(set())
        totals = app.preview.totals.stats
        assert totals.share(["strong", "fast"])["fast"] == share == 0
        assert totals.regression == regression == 0
        assert not app.preview_stale
        assert app.dirty
        assert "(modified)" in app.sub_title


async def test_invalid_yaml_lists_problems(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: app.preview is not None and not app.checking,
            what="first preview, no check pending",
        )
        first = app.preview
        editor = app.screen.query_one("#editor", TextArea)
        editor.cursor_location = (0, len("schema: routebook/v1"))
        await pilot.press("colon", "space", "left_square_bracket")
        await wait_for(
            pilot,
            lambda: app.checked_revision == app.revision and not app.check_result.ok,
            what="the check of the broken text",
        )

        problems = app.screen.query_one("#problems", ProblemList)
        assert problems.problems, "a YAML error must be listed"
        assert problems.option_count == len(problems.problems)
        first_problem = problems.problems[0]
        assert first_problem.severity == "error"
        assert first_problem.line >= 1

        assert app.preview is first
        assert app.preview_stale
        status = str(app.screen.query_one("#status", Static).render())
        assert "STALE" in status

        problems.focus()
        problems.highlighted = 0
        await pilot.press("enter")
        await pilot.pause()
        line, column = editor.cursor_location
        assert (line + 1, column + 1) == (first_problem.line, first_problem.column)
        assert editor.has_focus
