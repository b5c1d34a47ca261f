"""Text areas of the app: the policy editor, and read-only views without F6."""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea

# The app's F6 (History) replaces TextArea's F6 (select line). Left in, the
# editor's F6 would still claim the first place in the footer, ahead of the
# screen's own keys.
EDITOR_BINDINGS = [binding for binding in TextArea.BINDINGS if binding.key != "f6"]


def continued_indent(line: str) -> str:
    """Indentation for the line after `line`: the same, one level deeper after `:`.

    A list item (`- name: x`) continues at the item's content column, so the
    next key lines up under `name`.
    """
    stripped = line.lstrip(" ")
    indent = " " * (len(line) - len(stripped))
    if stripped.startswith("- "):
        indent += "  "
    if stripped.rstrip().endswith(":") and not stripped.lstrip("- ").startswith("#"):
        indent += "  "
    return indent


class AppTextArea(TextArea, inherit_bindings=False):
    """TextArea without its own F6 binding, so the footer lists screen keys first."""

    BINDINGS = EDITOR_BINDINGS


class PolicyEditor(AppTextArea):
    """TextArea whose Enter starts the new line at the YAML indentation."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key != "enter" or self.read_only:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        row, column = self.selection.end
        line = self.document.get_line(row)[:column]
        self.replace("\n" + continued_indent(line), *self.selection)
