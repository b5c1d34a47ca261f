"""App: "Run missing outputs" calls the models on a stub server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app_harness import choose, state_dir, wait_for  # noqa: F401 - fixture
from tests.openai_stub import OpenAIStub
from tui.app.main import RoutebookApp

FAKE_KEY = "sk-test-FAKE-123"
MODEL = "openai/stub-strong"
# The environment variable the no-key test names and leaves unset.
KEY_VARIABLE = "ROUTEBOOK_TEST_UNSET_KEY"
PROMPTS = ["hello there", "what is the capital of France", "count to three"]


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


def write_files(
    folder: Path, stub: OpenAIStub, extra_params: str = ""
) -> tuple[Path, Path]:
    policy = folder / "policy.yaml"
    policy.write_text(
        f"""\
schema: routebook/v1
name: app-run-test
models:
  strong:
    model: {MODEL}
    params: {{api_base: "{stub.api_base}"{extra_params}}}
    price: {{input_per_million: 1.0, output_per_million: 2.0}}
rules: []
default: strong
""",
        encoding="utf-8",
    )
    sample = folder / "sample.jsonl"
    lines = [json.dumps({"id": f"r{i}", "prompt": p}) for i, p in enumerate(PROMPTS)]
    sample.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return policy, sample


def recorded_outputs(path: Path) -> dict[str, str]:
    """Return request id -> recorded text of MODEL, for rows that have one."""
    texts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        output = row.get("outputs", {}).get(MODEL)
        if output and output.get("text") is not None:
            texts[row["id"]] = output["text"]
    return texts


async def test_run_fills_missing(tmp_path, stub, state_dir, monkeypatch):  # noqa: F811
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ROUTEBOOK_CACHE_DIR", str(tmp_path / "cache"))
    policy, sample = write_files(tmp_path, stub)

    app = RoutebookApp(policy, sample, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.screen.id == "run-confirm", what="confirm")
        assert "3 model calls to send" in app.screen.message
        assert "unknown" not in app.screen.message
        await pilot.pause()
        # Enter on the fresh dialog must not spend money.
        assert app.focused is not None and app.focused.id == "cancel"
        await choose(pilot, "run-confirm", "run")

        await wait_for(
            pilot,
            lambda: len(recorded_outputs(sample)) == len(PROMPTS),
            timeout=60,
            what="outputs in the sample file",
        )
        await wait_for(pilot, lambda: not app.run_active, what="run end")
        await wait_for(
            pilot,
            lambda: (
                app.sample is not None
                and all(MODEL in r.outputs for r in app.sample.requests)
            ),
            what="reloaded sample",
        )

    # The stub replies "<model without provider> says: <prompt>".
    expected = {f"r{i}": f"stub-strong says: {p}" for i, p in enumerate(PROMPTS)}
    assert recorded_outputs(sample) == expected
    assert stub.count() == len(PROMPTS)


async def test_run_without_key(tmp_path, stub, state_dir, monkeypatch):  # noqa: F811
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.setenv("ROUTEBOOK_CACHE_DIR", str(tmp_path / "cache"))
    policy, sample = write_files(tmp_path, stub, f", api_key_env: {KEY_VARIABLE}")
    before = sample.read_text(encoding="utf-8")

    app = RoutebookApp(policy, sample, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: getattr(app.screen, "title_text", "") == "Run failed",
            what="error dialog",
        )
        assert KEY_VARIABLE in app.screen.message
        assert not app.run_active

    assert sample.read_text(encoding="utf-8") == before
    assert stub.count() == 0


async def test_run_cancel_keeps(tmp_path, stub, state_dir, monkeypatch):  # noqa: F811
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ROUTEBOOK_CACHE_DIR", str(tmp_path / "cache"))
    policy, sample = write_files(tmp_path, stub)
    stub.hang_when("capital")

    app = RoutebookApp(policy, sample, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        await pilot.press("ctrl+r")
        await choose(pilot, "run-confirm", "run")
        await wait_for(
            pilot,
            lambda: len(recorded_outputs(sample)) == 2,
            timeout=60,
            what="the two outputs that do not hang",
        )
        assert app.screen.id == "run-progress"

        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.run_active, what="run end")
        assert app.screen.id == "run-progress"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.id != "run-progress", what="close")

    expected = {
        "r0": "stub-strong says: hello there",
        "r2": "stub-strong says: count to three",
    }
    assert recorded_outputs(sample) == expected
    notes = [note.message for note in app._notifications]
    assert any(note.startswith("Run cancelled: recorded 2 outputs") for note in notes)


async def run_selected(app, pilot, request_id: str) -> str:
    """Select `request_id` on the Samples screen, press ctrl+o, confirm; return
    the confirmation dialog's message."""
    app.switch_mode("samples")
    await pilot.pause()
    app.review.current_id = request_id
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: app.screen.id == "run-confirm", what="confirm")
    message = app.screen.message
    await choose(pilot, "run-confirm", "run")
    await wait_for(pilot, lambda: not app.run_active, timeout=60, what="run end")
    return message


async def test_run_selected_request(tmp_path, stub, state_dir, monkeypatch):  # noqa: F811
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ROUTEBOOK_CACHE_DIR", str(tmp_path / "cache"))
    policy, sample = write_files(tmp_path, stub)
    before = sample.read_text(encoding="utf-8").splitlines()

    app = RoutebookApp(policy, sample, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        message = await run_selected(app, pilot, "r1")
        assert "Request 'r1'" in message
        assert "1 model call to send" in message
        assert "replaces" not in message

        # Every output of r1 is recorded now, so a second run replaces it.
        await wait_for(
            pilot,
            lambda: MODEL in app.sample.requests[1].outputs,
            what="reloaded sample",
        )
        await pilot.press("escape")
        message = await run_selected(app, pilot, "r1")
        assert "replaces them" in message

    after = sample.read_text(encoding="utf-8").splitlines()
    assert recorded_outputs(sample) == {"r1": f"stub-strong says: {PROMPTS[1]}"}
    assert [after[0], after[2]] == [before[0], before[2]]
    # The forced second run skips the cache, so the stub is called twice.
    assert stub.count() == 2


async def test_run_selected_none(tmp_path, stub, state_dir, monkeypatch):  # noqa: F811
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    policy, sample = write_files(tmp_path, stub)

    app = RoutebookApp(policy, sample, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
        app.switch_mode("history")
        await pilot.pause()
        app.review.current_id = None
        await pilot.press("ctrl+p")
        await pilot.press(*"Run selected request")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: getattr(app.screen, "title_text", "") == "Cannot run",
            what="error dialog",
        )
        assert "No request is selected" in app.screen.message
    assert stub.count() == 0
