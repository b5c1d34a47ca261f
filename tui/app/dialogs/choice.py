"""A modal question with a few labelled choices; the dialog returns the chosen id."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


@dataclass(frozen=True)
class Choice:
    """One choice: the id the dialog returns, its button label and look."""

    id: str
    label: str
    variant: str = "default"  # a Button variant: default, primary, warning, error


class ChoiceDialog(ModalScreen[str]):
    """Ask one question; dismiss with the chosen id.

    Escape returns `cancel_id`. The choice named by `focus_id` (by default the
    first) has focus, so Enter picks it.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        message: str,
        choices: list[Choice],
        cancel_id: str = "cancel",
        dialog_id: str | None = None,
        focus_id: str | None = None,
    ) -> None:
        super().__init__(id=dialog_id)
        self.focus_id = focus_id or choices[0].id
        self.title_text = title
        self.message = message
        self.choices = choices
        self.cancel_id = cancel_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.message, classes="dialog-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                for choice in self.choices:
                    yield Button(choice.label, id=choice.id, variant=choice.variant)

    def on_mount(self) -> None:
        self.query_one(f"#{self.focus_id}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id)

    def action_cancel(self) -> None:
        self.dismiss(self.cancel_id)
