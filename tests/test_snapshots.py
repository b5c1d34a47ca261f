# ruff: noqa: F811
# The fixtures come from app_harness by import, and each test takes them as
# arguments of the same name.
"""SVG snapshots of every screen on the bundled example, with time frozen.

Update them after an intended visual change with
`.venv/bin/pytest tests/test_snapshots.py --snapshot-update`, and look at the
report pytest-textual-snapshot writes when one fails.
"""

from __future__ import annotations

import os
import time

import pytest

from tui.app.main import RoutebookApp

# The snapshots show YAML highlighting, which needs tree-sitter (textual[syntax]).
pytest.importorskip(
    "tree_sitter_yaml",
    reason="the snapshots need YAML highlighting: pip install 'textual[syntax]'",
)

from .app_harness import example, settle, state_dir  # noqa: F401

# 2026-01-01T00:00:00Z: the policy file's modification time, which the History
# screen shows as the saved time.
FIXED_MTIME = 1_767_225_600
WIDE = (160, 48)
NARROW = (80, 24)


@pytest.fixture
def frozen(example, monkeypatch):
    """The example copies with a fixed mtime, read in UTC."""
    policy, sample = example
    os.utime(policy, (FIXED_MTIME, FIXED_MTIME))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield RoutebookApp(policy, sample, cursor_blink=False)
    monkeypatch.undo()
    time.tzset()


def show(key: str | None = None):
    """Build a run_before that settles, presses `key`, and settles again."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        if key is not None:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_policy_screen(snap_compare, frozen):
    assert snap_compare(frozen, terminal_size=WIDE, run_before=show())


def test_preview_screen(snap_compare, frozen):
    assert snap_compare(frozen, terminal_size=WIDE, run_before=show("f3"))


def test_samples_screen(snap_compare, frozen):
    assert snap_compare(frozen, terminal_size=WIDE, run_before=show("f4"))


def test_compare_screen(snap_compare, frozen):
    assert snap_compare(frozen, terminal_size=WIDE, run_before=show("f5"))


def test_history_screen(snap_compare, frozen):
    assert snap_compare(frozen, terminal_size=WIDE, run_before=show("f6"))


def test_help_screen(snap_compare, frozen):
    assert snap_compare(frozen, terminal_size=WIDE, run_before=show("f1"))


def test_policy_screen_narrow(snap_compare, frozen):
    assert snap_compare(frozen, terminal_size=NARROW, run_before=show())


def test_preview_screen_narrow(snap_compare, frozen):
    assert snap_compare(frozen, terminal_size=NARROW, run_before=show("f3"))
