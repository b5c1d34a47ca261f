# ruff: noqa: F811
# The fixtures come from app_harness by import, and each test takes them as
# arguments of the same name.
"""App: edits re-preview; bad YAML lists problems and keeps the last preview."""

from __future__ import annotations

from textual.widgets import Static, TextArea

from tui.app.main import RoutebookApp
from tui.app.widgets.problems import ProblemList
from tui.format import status_word

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


def summary_lines(app) -> list[str]:
    found = app.screen.query("#summary")
    if not found:
        return []  # the side panel is mounted after the first paint
    summary = found.first()
    return [
        summary.get_option_at_index(index).prompt.plain
        for index in range(summary.option_count)
    ]


def rule_labels(app) -> list[str]:
    outline = app.screen.query_one("#outline")
    rules = next(node for node in outline.root.children if "Rules" in str(node.label))
    return [str(node.label) for node in rules.children]


def outline_leaves(outline) -> list:
    return [node for section in outline.root.children for node in section.children]


async def side_panel(pilot, app) -> str:
    """Wait for the first preview in the side panel; return the summary's header."""
    await wait_for(
        pilot,
        lambda: app.preview is not None and summary_lines(app),
        what="first preview in the side panel",
    )
    return str(app.screen.query_one("#summary-header", Static).render())


async def test_side_panel_follows_edit(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        header = await side_panel(pilot, app)
        assert header.split() == ["status", "segment", "regression", "budget"]
        assert rule_labels(app)[1].endswith("→ fast")
        outline = app.screen.query_one("#outline")
        leaves = outline_leaves(outline)

        editor = app.screen.query_one("#editor", TextArea)
        row = editor.text.split("\n").index("    route: fast")
        editor.replace("strong", (row, 11), (row, 15))
        await wait_for(
            pilot,
            lambda: rule_labels(app)[1].endswith("→ strong"),
            what="the outline's new route",
        )
        await wait_for(
            pilot,
            lambda: (
                app.preview_revision == app.revision
                and all("+0.0 pt" in line for line in summary_lines(app))
            ),
            what="the summary of the edited policy",
        )

        # The outline changed its labels in place: the same nodes, new text.
        assert outline_leaves(outline) == leaves
        segments = {row.value: row for row in app.preview.segments}
        for line in summary_lines(app):
            status, label, regression, unit, budget, _ = line.split()
            value = label.split("=", 1)[1]
            assert status == status_word(segments[value].status)
            assert f"{regression} {unit}" == "+0.0 pt"
            assert budget == "+10.0"

        summary = app.screen.query_one("#summary")
        summary.focus()
        summary.highlighted = 1
        chosen = summary.segment_at(1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "samples-screen", what="samples")
        assert (app.review.filter.dimension, app.review.filter.value) == chosen


async def test_side_panel_fits_80_columns(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        header = await side_panel(pilot, app)
        summary = app.screen.query_one("#summary")
        room = summary.content_region.width - 2
        assert header.split() == ["status", "segment", "regr."]
        for line in summary_lines(app):
            assert len(line) <= room
            assert line.rstrip().endswith(" pt")


async def test_dead_mark_follows_rule_name(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await side_panel(pilot, app)
        editor = app.screen.query_one("#editor", TextArea)
        editor.text = editor.text.replace("{in: [silver, bronze]}", "platinum")
        await wait_for(
            pilot,
            lambda: rule_labels(app)[1].endswith("DEAD"),
            what="the rule that matches nothing marked dead",
        )

        # An invalid rule first: the preview is stale, and its rules now sit
        # one place lower in the text.
        row = editor.text.split("\n").index("  - name: gold-stays-strong")
        editor.insert("  - {name: x, when: {tier: gold}, route: nope}\n", (row, 0))
        await wait_for(
            pilot,
            lambda: len(rule_labels(app)) == 3 and app.preview_stale,
            what="the outline of the invalid text",
        )

        labels = rule_labels(app)
        assert not labels[0].endswith("DEAD")
        assert not labels[1].endswith("DEAD")
        assert labels[2].endswith("DEAD")
        assert "others-go-fast" in labels[2]
