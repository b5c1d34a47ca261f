"""The help screen: every key of the current screen and of the whole app."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ..widgets.outline import PolicyOutline

EDITOR_KEYS = [
    ("ctrl+z / ctrl+y", "Undo / redo, rule edits from the outline included"),
    ("escape", "Leave the editor for the outline"),
    ("ctrl+p", "Command palette: every action by name"),
]

# Bindings of widgets inside a screen, listed with that screen's own keys. Each
# names the widget that must have focus. Two keys for one action (alt+up on the
# whole screen, shift+up in the outline) then do not look like duplicates.
SCREEN_EXTRA_WIDGETS: dict[str, list[tuple[str, list[Any]]]] = {
    "policy-screen": [("in the outline", PolicyOutline.BINDINGS)]
}
SCREEN_EXTRA_KEYS: dict[str, list[tuple[str, str]]] = {"policy-screen": EDITOR_KEYS}


def binding_rows(
    app: Any, bindings: list[Any], where: str = ""
) -> list[tuple[str, str]]:
    """Return (key as the footer shows it, description) for each binding.

    `where`, when given, is appended to each description in brackets.
    """
    rows = []
    for binding in bindings:
        if not isinstance(binding, Binding):
            binding = Binding(*binding)
        description = binding.description
        if where:
            description = f"{description} ({where})"
        rows.append((app.get_key_display(binding), description))
    return rows


def keys_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, expand=True)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("action")
    for key, description in rows:
        table.add_row(key, description)
    return table


class HelpScreen(ModalScreen[None]):
    """A list of keys; escape, q or F1 closes it."""

    BINDINGS = [
        Binding("escape,q,f1,question_mark", "dismiss", "Close"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__(id="help-screen")
        self.under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self.content())

    def content(self) -> Any:
        """Build the help text: this screen's keys, then the app-wide keys."""
        from rich.console import Group

        screen_id = self.under.id or ""
        screen_rows = binding_rows(self.app, type(self.under).BINDINGS)
        for where, bindings in SCREEN_EXTRA_WIDGETS.get(screen_id, []):
            screen_rows += binding_rows(self.app, bindings, where)
        screen_rows += SCREEN_EXTRA_KEYS.get(screen_id, [])
        title = (type(self.under).__doc__ or "").strip().splitlines()[0:1]
        parts: list[Any] = [
            Text("Routebook keys (escape closes)", style="bold"),
            Text(title[0] if title else ""),
            keys_table("This screen", screen_rows),
            keys_table("Everywhere", binding_rows(self.app, type(self.app).BINDINGS)),
            Text(
                "The mouse works too: click a row, a tab, a checkbox or a button."
                " ctrl+p opens the command palette, which also switches themes."
            ),
        ]
        return Group(*parts)
