"""A modal that reports a recoverable error and waits for the user to close it."""

from __future__ import annotations

from .choice import Choice, ChoiceDialog


def error_dialog(title: str, message: str) -> ChoiceDialog:
    """Build a dialog that shows `message` with a single Close button."""
    return ChoiceDialog(
        title, message, [Choice("close", "Close", "primary")], cancel_id="close"
    )
