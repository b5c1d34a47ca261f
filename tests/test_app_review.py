# ruff: noqa: F811
# The fixtures come from app_harness by import, and each test takes them as
# arguments of the same name.
"""App: sample filters, side-by-side comparison and verdicts written as grades."""

from __future__ import annotations

import json

from textual.widgets import DataTable, Input

from tui.app.main import RoutebookApp

from .app_harness import (  # noqa: F401
    FAST,
    REFUSAL_ID,
    SMALL_ROWS,
    small,
    state_dir,
    wait_for,
)

FAST_TIERS = {"silver", "bronze"}


def regressed_ids() -> list[str]:
    """Requests routed fast where the strong output is right and the fast one wrong."""
    return [
        request_id
        for request_id, tier, strong, fast in SMALL_ROWS
        if tier in FAST_TIERS and strong >= 0.5 and fast < 0.5
    ]


def table_ids(app) -> list[str]:
    table = app.screen.query_one("#sample-table", DataTable)
    return [table.get_row_at(index)[0] for index in range(table.row_count)]


def sample_record(path, request_id: str) -> dict:
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["id"] == request_id:
            return record
    raise AssertionError(f"{request_id} not in {path}")


async def open_samples(pilot, app) -> None:
    await wait_for(pilot, lambda: app.preview is not None, what="first preview")
    await pilot.press("f4")
    await wait_for(pilot, lambda: app.screen.id == "samples-screen", what="samples")
    await pilot.pause()


async def test_regressed_filter_lists_right_to_wrong(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_samples(pilot, app)
        assert table_ids(app) == [row[0] for row in SMALL_ROWS]
        await pilot.press("r")
        await wait_for(pilot, lambda: app.review.filter.regressed_only, what="filter")
        await pilot.pause()
        assert table_ids(app) == regressed_ids() == ["r04", "r08", "r09"]


async def test_search_and_segment_filters(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        app.select_segment("tier", "bronze")
        await wait_for(pilot, lambda: app.screen.id == "samples-screen", what="samples")
        await pilot.pause()
        bronze = [row[0] for row in SMALL_ROWS if row[1] == "bronze"]
        assert table_ids(app) == bronze

        await pilot.press("slash")
        assert app.screen.query_one("#search", Input).has_focus
        await pilot.press("r", "1", "0", "enter")
        await wait_for(pilot, lambda: app.review.filter.text == "r10", what="search")
        await pilot.pause()
        assert table_ids(app) == ["r10"]


async def test_failed_check_filter(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_samples(pilot, app)
        await pilot.click("#check-filter")
        await wait_for(pilot, lambda: table_ids(app) == [REFUSAL_ID], what="checks")
        explain = str(app.screen.query_one("#explain-text").render())
        await wait_for(
            pilot,
            lambda: "refusal" in str(app.screen.query_one("#explain-text").render()),
            what="the flag in the explanation",
        )
        assert REFUSAL_ID in explain


async def test_verdict_writes_grade(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_samples(pilot, app)
        await pilot.press("r")
        await wait_for(pilot, lambda: table_ids(app) == regressed_ids(), what="filter")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "compare-screen", what="compare")
        await pilot.pause()
        screen = app.screen
        assert screen.row.request.id == "r04"
        assert screen.pair.cheaper == FAST
        assert screen.pair.routed == FAST

        before = app.preview
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: app.preview is not before and not app.checking,
            what="re-preview",
        )
        assert app.review.current_id == "r08"

        output = sample_record(sample_path, "r04")["outputs"][FAST]
        assert output["grade"] == 1.0
        assert output["grade_source"] == "human"
        assert output["graded_by"] == "test-reviewer"
        assert output["graded_at"].endswith("Z")

        fast_grades = {row[0]: row[3] for row in SMALL_ROWS} | {"r04": 1.0}
        routed = [
            fast_grades[request_id] if tier in FAST_TIERS else strong
            for request_id, tier, strong, _ in SMALL_ROWS
        ]
        baseline = [strong for _, _, strong, _ in SMALL_ROWS]
        expected = (sum(baseline) - sum(routed)) / len(SMALL_ROWS)
        assert abs(app.preview.totals.stats.regression - expected) < 1e-12
        assert [row.request.id for row in app.review.rows()] == ["r08", "r09"]

        await pilot.press("x")
        await wait_for(
            pilot,
            lambda: (
                sample_record(sample_path, "r08")["outputs"][FAST].get("grade") == 0.0
            ),
            what="the second verdict",
        )
        await wait_for(pilot, lambda: app.review.current_id == "r09", what="next")
        await pilot.press("s")
        await wait_for(
            pilot,
            lambda: "grade" not in sample_record(sample_path, "r09")["outputs"][FAST],
            what="the skip",
        )
        skipped = sample_record(sample_path, "r09")["outputs"][FAST]
        assert skipped["graded_by"] == "test-reviewer"


async def test_compare_steps_through_filter(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_samples(pilot, app)
        await pilot.press("r")
        await wait_for(pilot, lambda: table_ids(app) == regressed_ids(), what="filter")
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.screen.id == "compare-screen", what="compare")
        await pilot.pause()
        seen = [app.screen.row.request.id]
        for _ in range(3):
            await pilot.press("n")
            await pilot.pause()
            seen.append(app.screen.row.request.id)
        await pilot.press("p")
        await pilot.pause()
        seen.append(app.screen.row.request.id)
        assert seen == ["r04", "r08", "r09", "r09", "r08"]


async def test_compare_marks_differences(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        app.review.current_id = REFUSAL_ID
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.screen.id == "compare-screen", what="compare")
        await wait_for(
            pilot,
            lambda: "refusal" in str(app.screen.query_one("#right-checks").render()),
            what="the refusal flag",
        )
        right = app.screen.query_one("#right-text")
        kinds = {kind for line in right._highlights.values() for *_, kind in line}
        assert kinds == {"diff", "check"}
        assert "ROUTED" in str(app.screen.query_one("#right-title").render())

        await pilot.press("m")
        await pilot.pause()
        markdown = app.screen.query_one("#right-markdown")
        assert markdown.children, "Markdown is rendered on demand"
        assert app.screen.query_one("#right-text").display is False
