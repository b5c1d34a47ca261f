"""The policy outline: models, segments, rules, default and budgets as a tree."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree

SECTION_TITLES = {
    "models": "Models",
    "segments": "Segments",
    "rules": "Rules (first match wins)",
    "default": "Default",
    "budgets": "Budgets",
}


class PolicyOutline(Tree):
    """The parts of the policy; selecting one moves the editor cursor to it.

    | Key | Action |
    | --- | --- |
    | shift+up | Move the highlighted rule up. |
    | shift+down | Move the highlighted rule down. |
    | delete | Delete the highlighted rule. |
    | insert | Add a rule after the highlighted one. |
    """

    BINDINGS = [
        Binding("shift+up", "screen.move_rule(-1)", "Rule up"),
        Binding("shift+down", "screen.move_rule(1)", "Rule down"),
        Binding("delete", "screen.delete_rule", "Delete rule"),
        Binding("insert", "screen.add_rule", "Add rule"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("policy", **kwargs)
        self.show_root = False
        self.guide_depth = 2
        self.keep_rule: int | None = None
        """Rule index to highlight after the next rebuild (after a rule edit)."""
        self._pending_rule: int | None = None
        self._content: tuple[list[Any], dict[int, str]] | None = None
        self._shape: list[str] | None = None
        self._widest = 0
        self._leaves: list[Any] = []

    def show(self, entries: list[Any], dead_rules: dict[int, str]) -> None:
        """Show outline entries; `dead_rules` maps rule index to a note.

        The outline is shown after every check and every preview. When the
        sections and the number of entries in each stay the same, only the
        labels that changed are redrawn, because a rebuild lays out the whole
        screen.
        """
        content = (list(entries), dict(dead_rules))
        if content == self._content and self.keep_rule is None:
            return
        self._content = content
        labels = [_label(entry, dead_rules) for entry in entries]
        shape = [entry.section for entry in entries]
        if self.keep_rule is None and self._relabel(shape, entries, labels):
            return
        self._rebuild(shape, entries, labels)

    def _relabel(self, shape: list[str], entries: list[Any], labels: list) -> bool:
        """Update the leaves in place; False when the outline must be rebuilt."""
        widest = max((label.cell_len for label in labels), default=0)
        # A wider label would need a wider scroll area, which only a rebuild sets.
        if shape != self._shape or widest > self._widest:
            return False
        for node, entry, label in zip(self._leaves, entries, labels, strict=True):
            node.data = entry
            if node.label != label:
                node.set_label(label)
        return True

    def _rebuild(self, shape: list[str], entries: list[Any], labels: list) -> None:
        keep = self.keep_rule
        if keep is None:
            keep = self._pending_rule
        if keep is None:
            keep = self.highlighted_rule()
        self.keep_rule = None
        self._pending_rule = keep
        self._shape = shape
        self._widest = max((label.cell_len for label in labels), default=0)
        self._leaves = []
        self.clear()
        sections: dict[str, Any] = {}
        for entry, label in zip(entries, labels, strict=True):
            section = sections.get(entry.section)
            if section is None:
                title = SECTION_TITLES.get(entry.section, entry.section)
                section = self.root.add(title, expand=True)
                sections[entry.section] = section
            self._leaves.append(section.add_leaf(label, data=entry))
        # Tree lines are laid out on the next refresh; the cursor can move after.
        self.call_after_refresh(self._apply_pending_rule)

    def _apply_pending_rule(self) -> None:
        if self._pending_rule is None:
            return
        if self.highlight_rule(self._pending_rule):
            self._pending_rule = None
        else:
            self.call_after_refresh(self._apply_pending_rule)

    def highlighted_rule(self) -> int | None:
        """Return the rule index of the highlighted node, if it is a rule."""
        node = self.cursor_node
        if node is None or node.data is None:
            return None
        return node.data.rule_index

    def highlight_rule(self, index: int) -> bool:
        """Move the cursor to a rule; False when its node is not laid out yet."""
        for section in self.root.children:
            for node in section.children:
                if node.data is not None and node.data.rule_index == index:
                    if node.line < 0:
                        return False
                    self.move_cursor(node)
                    return True
        return True  # no such rule any more; nothing to wait for


def _label(entry: Any, dead_rules: dict[int, str]) -> Text:
    label = Text(entry.label)
    if entry.rule_index in dead_rules:
        label.append(f"  {dead_rules[entry.rule_index]}", style="bold yellow")
    return label
