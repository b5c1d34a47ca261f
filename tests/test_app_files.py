# ruff: noqa: F811
# The fixtures come from app_harness by import, and each test takes them as
# arguments of the same name.
"""App: saving, external changes, drafts, quitting, a missing policy or sample."""

from __future__ import annotations

import json

from textual.widgets import Static, TextArea

from tui.app.main import RoutebookApp, sample_problem_notice
from tui.core.drafts import read_draft, write_draft
from tui.core.samples import load_sample
from tui.core.versions import file_digest

from .app_harness import SMALL_POLICY, choose, small, state_dir, wait_for  # noqa: F401


def dialog_id(app) -> str | None:
    return app.screen.id


async def type_comment(pilot, app, text: str = "# edited") -> None:
    """Append a comment line at the end of the policy through the editor."""
    editor = app.screen.query_one("#editor", TextArea)
    editor.insert(text + "\n", editor.document.end)
    await wait_for(pilot, lambda: app.text.endswith(text + "\n"), what="the edit")
    await wait_for(pilot, lambda: app.checked_revision == app.revision, what="check")


async def test_save_bumps_version_keeps_history(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.check_result is not None, what="first check")
        await type_comment(pilot, app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not app.dirty, what="the save")

        saved = policy_path.read_text(encoding="utf-8")
        assert "version: 2\n" in saved
        assert saved.endswith("# edited\n")
        history = policy_path.parent / ".history" / "small" / "v1.yaml"
        assert history.read_text(encoding="utf-8") == SMALL_POLICY
        editor = app.screen.query_one("#editor", TextArea)
        assert editor.text == saved
        assert app.loaded_digest == file_digest(policy_path)
        assert read_draft(policy_path) is None


async def test_external_change_prompts(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.check_result is not None, what="first check")
        outside = SMALL_POLICY.replace("max_regression: 0.1", "max_regression: 0.2")
        policy_path.write_text(outside, encoding="utf-8")
        await type_comment(pilot, app)
        await pilot.press("ctrl+s")
        await wait_for(
            pilot, lambda: dialog_id(app) == "external-change", what="dialog"
        )
        assert policy_path.read_text(encoding="utf-8") == outside

        await pilot.click("#cancel")
        await wait_for(pilot, lambda: dialog_id(app) == "policy-screen", what="cancel")
        assert policy_path.read_text(encoding="utf-8") == outside
        assert app.dirty

        await pilot.press("ctrl+s")
        await choose(pilot, "external-change", "overwrite")
        await wait_for(pilot, lambda: not app.dirty, what="the forced save")
        saved = policy_path.read_text(encoding="utf-8")
        assert "max_regression: 0.1" in saved
        assert "# edited" in saved
        assert "version: 2" in saved


async def test_external_change_reload(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.check_result is not None, what="first check")
        outside = SMALL_POLICY.replace("max_regression: 0.1", "max_regression: 0.2")
        policy_path.write_text(outside, encoding="utf-8")
        await type_comment(pilot, app)
        await pilot.press("ctrl+s")
        await choose(pilot, "external-change", "reload")
        await wait_for(pilot, lambda: not app.dirty, what="the reload")
        assert app.screen.query_one("#editor", TextArea).text == outside
        assert app.loaded_digest == file_digest(policy_path)


async def test_draft_recovered_after_crash(small):
    policy_path, sample_path = small
    draft_text = SMALL_POLICY.replace("name: small", "name: small  # from the draft")
    write_draft(policy_path, draft_text, file_digest(policy_path))

    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot, "draft-dialog", "restore")
        await wait_for(pilot, lambda: app.text == draft_text, what="the restore")
        assert app.screen.query_one("#editor", TextArea).text == draft_text
        assert app.dirty
        assert policy_path.read_text(encoding="utf-8") == SMALL_POLICY


async def test_draft_discarded(small):
    policy_path, sample_path = small
    write_draft(policy_path, SMALL_POLICY + "# draft\n", file_digest(policy_path))
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot, "draft-dialog", "discard")
        await wait_for(pilot, lambda: read_draft(policy_path) is None, what="discard")
        assert app.text == SMALL_POLICY


async def test_draft_autosaved_when_idle(small, monkeypatch):
    monkeypatch.setattr("tui.app.main.DRAFT_DELAY", 0.2)
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.check_result is not None, what="first check")
        await type_comment(pilot, app, "# unsaved")
        await wait_for(pilot, lambda: read_draft(policy_path) is not None, what="draft")
        draft = read_draft(policy_path)
        assert draft.text == SMALL_POLICY + "# unsaved\n"
        assert draft.base_digest == file_digest(policy_path)


async def test_quit_with_edits_asks(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.check_result is not None, what="first check")
        await type_comment(pilot, app)
        await pilot.press("ctrl+q")
        await choose(pilot, "quit-dialog", "cancel")
        await wait_for(pilot, lambda: dialog_id(app) == "policy-screen", what="cancel")
        assert app.is_running

        await pilot.press("ctrl+q")
        await choose(pilot, "quit-dialog", "discard")
        await wait_for(pilot, lambda: not app.is_running, what="exit")
    assert app.return_code == 0
    assert policy_path.read_text(encoding="utf-8") == SMALL_POLICY


async def test_quit_without_edits_exits(small):
    policy_path, sample_path = small
    app = RoutebookApp(policy_path, sample_path, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.check_result is not None, what="first check")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, what="exit")
    assert app.return_code == 0


async def test_missing_policy_created_from_template(tmp_path, state_dir):
    policy_path = tmp_path / "team" / "billing-router.yaml"
    app = RoutebookApp(policy_path, None, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot, "create-policy", "create")
        await wait_for(pilot, lambda: app.check_result is not None, what="first check")
        assert policy_path.exists()
        assert app.check_result.ok
        assert app.check_result.policy.name == "billing-router"
        assert app.screen.query_one("#editor", TextArea).text == policy_path.read_text()


async def test_missing_policy_declined_exits(tmp_path, state_dir):
    policy_path = tmp_path / "absent.yaml"
    app = RoutebookApp(policy_path, None, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot, "create-policy", "quit")
        await wait_for(pilot, lambda: not app.is_running, what="exit")
    assert app.return_code == 2
    assert "not found" in app.fatal_message
    assert not policy_path.exists()


async def test_missing_sample_shows_notice(small, tmp_path):
    policy_path, _ = small
    app = RoutebookApp(policy_path, tmp_path / "nowhere.jsonl", cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        notice = app.screen.query_one("#notice", Static)
        await wait_for(pilot, lambda: notice.display, what="the notice")
        text = str(notice.render())
        assert "Sample not loaded" in text
        assert "nowhere.jsonl" in text
        assert "--sample" in text
        assert app.preview is None
        assert app.screen.query_one("#editor", TextArea).text == SMALL_POLICY


async def test_no_sample_argument_shows_notice(small):
    policy_path, _ = small
    app = RoutebookApp(policy_path, None, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.sample_notice is not None, what="notice")
        assert "--sample" in app.sample_notice


def test_sample_notice_counts_lines(tmp_path):
    lines = [
        # Two errors on one line: the request is read with fallbacks.
        {"id": "a", "prompt": "x", "weight": -1, "metadata": [1]},
        {"id": "b", "prompt": 7},  # skipped: the prompt is not text
        {"id": "c", "prompt": "fine"},
    ]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    sample = load_sample(path)
    errors = [problem for problem in sample.problems if problem.is_error]
    loaded = sorted(request.line for request in sample.requests)

    notice = sample_problem_notice(sample)

    assert len({problem.line for problem in errors}) == 2
    assert loaded == [1, 3]
    assert notice.startswith("2 lines of the sample have errors (1 skipped, 1 read")
