"""Shared set-up for the app tests: tmp copies of a policy and a sample."""

from __future__ import annotations

import asyncio
import json
import shutil
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_POLICY = ROOT / "policies" / "support.yaml"
EXAMPLE_SAMPLE = ROOT / "fixtures" / "support.jsonl"

STRONG = "openai/gpt-4o"
FAST = "openai/gpt-4o-mini"

# A small policy whose routing a test can work out by hand: gold stays strong,
# silver and bronze go fast.
SMALL_POLICY = textwrap.dedent(
    """\
    schema: routebook/v1
    name: small
    version: 1
    models:
      strong: {model: openai/gpt-4o}
      fast: {model: openai/gpt-4o-mini}
    segments:
      tier: {field: metadata.tier}
    rules:
      # Gold customers keep the strong model.
      - name: gold-stays-strong
        when: {tier: gold}
        route: strong

      # Everyone else goes fast.
      - name: others-go-fast
        when: {tier: {in: [silver, bronze]}}
        route: fast
    default: strong
    budgets:
      baseline: strong
      max_regression: 0.1
      min_samples: 2
    """
)

# The one fast output that an output check flags (a refusal).
REFUSAL_ID = "r09"
REFUSAL_TEXT = "I'm sorry, but I can't help with that request."

# (id, tier, strong grade, fast grade)
SMALL_ROWS = [
    ("r01", "gold", 1.0, 0.0),
    ("r02", "gold", 1.0, 1.0),
    ("r03", "gold", 1.0, 1.0),
    ("r04", "silver", 1.0, 0.0),
    ("r05", "silver", 1.0, 1.0),
    ("r06", "silver", 1.0, 1.0),
    ("r07", "silver", 0.0, 1.0),
    ("r08", "bronze", 1.0, 0.0),
    ("r09", "bronze", 1.0, 0.0),
    ("r10", "bronze", 1.0, 1.0),
]


def small_sample_lines() -> list[str]:
    lines = []
    for request_id, tier, strong, fast in SMALL_ROWS:
        record = {
            "id": request_id,
            "prompt": f"Question {request_id} from a {tier} customer?",
            "metadata": {"tier": tier, "tenant_id": f"t-{tier}"},
            "outputs": {
                STRONG: {"text": f"Strong answer to {request_id}.", "grade": strong},
                FAST: {"text": _fast_text(request_id), "grade": fast},
            },
        }
        lines.append(json.dumps(record))
    return lines


def _fast_text(request_id: str) -> str:
    if request_id == REFUSAL_ID:
        return REFUSAL_TEXT
    return f"Fast answer to {request_id}!"


@pytest.fixture
def state_dir(tmp_path, monkeypatch) -> Path:
    """Point drafts at a tmp folder, never the user's state folder."""
    folder = tmp_path / "state"
    monkeypatch.setenv("ROUTEBOOK_STATE_DIR", str(folder))
    monkeypatch.setenv("USER", "test-reviewer")
    return folder


@pytest.fixture
def small(tmp_path, state_dir) -> tuple[Path, Path]:
    """Write the small policy and sample into tmp_path; return their paths."""
    policy = tmp_path / "small.yaml"
    sample = tmp_path / "small.jsonl"
    policy.write_text(SMALL_POLICY, encoding="utf-8")
    sample.write_text("\n".join(small_sample_lines()) + "\n", encoding="utf-8")
    return policy, sample


@pytest.fixture
def example(tmp_path, state_dir) -> tuple[Path, Path]:
    """Copy the bundled example policy and sample into tmp_path."""
    policy = tmp_path / "support.yaml"
    sample = tmp_path / "support.jsonl"
    shutil.copyfile(EXAMPLE_POLICY, policy)
    shutil.copyfile(EXAMPLE_SAMPLE, sample)
    return policy, sample


async def wait_for(pilot, condition, timeout: float = 20.0, what: str = "") -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            screen = pilot.app.screen
            notes = [note.message for note in pilot.app._notifications]
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what};"
                f" the app shows {screen!r} {getattr(screen, 'message', '')};"
                f" notifications: {notes}"
            )
        await pilot.pause(0.02)
        await asyncio.sleep(0)


async def choose(pilot, dialog_id: str, button_id: str) -> None:
    """Wait for a ChoiceDialog and click one of its buttons once it is laid out."""
    app = pilot.app
    await wait_for(pilot, lambda: app.screen.id == dialog_id, what=dialog_id)
    await pilot.pause()
    await wait_for(
        pilot,
        lambda: app.screen.query_one(f"#{button_id}").region.area > 0,
        what=f"button {button_id}",
    )
    await pilot.click(f"#{button_id}")


async def settle(pilot) -> None:
    """Wait for the first preview, then until no worker runs and the screen is drawn.

    Results that workers post back can start more work (checks of the shown
    request), so the wait repeats a few times.
    """
    app = pilot.app
    if app.sample_path is not None:
        await wait_for(pilot, lambda: app.preview is not None, what="first preview")
    for _ in range(4):
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
    # The footer recomposes its keys a moment after focus settles.
    await pilot.pause(0.3)
    await pilot.wait_for_scheduled_animations()
