"""The Policy screen: the YAML editor beside its outline, problems and verdicts."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Static, TextArea

from ...format import counted
from ..widgets.editor import PolicyEditor
from ..widgets.figures import status_counts, totals_text
from .base import RoutebookScreen


class PolicyScreen(RoutebookScreen):
    """Edit the policy; problems, outline and segment verdicts follow as you type.

    | Key | Action |
    | --- | --- |
    | alt+up / alt+down | Move the rule under the cursor up or down. |
    | ctrl+n | Add a rule after the rule under the cursor. |
    | f8 | Jump to the next problem. |
    | escape | Leave the editor for the outline. |
    """

    CSS_PATH = "policy.tcss"

    BINDINGS = [
        Binding("alt+up", "move_rule(-1)", "Rule up (at the cursor)", show=False),
        Binding("alt+down", "move_rule(1)", "Rule down (at the cursor)", show=False),
        Binding("ctrl+n", "add_rule", "Add rule"),
        Binding("f8", "next_problem", "Next problem"),
    ]

    PALETTE = [
        (
            "Move rule up",
            "Move the current rule and its comments up (alt+up)",
            "move_rule(-1)",
        ),
        (
            "Move rule down",
            "Move the current rule and its comments down (alt+down)",
            "move_rule(1)",
        ),
        (
            "Delete rule",
            "Delete the current rule and its comments (undo: ctrl+z)",
            "delete_rule",
        ),
        ("Add rule", "Insert a new rule after the current one (ctrl+n)", "add_rule"),
        ("Next problem", "Move the cursor to the next problem (F8)", "next_problem"),
        (
            "Reload policy from disk",
            "Replace the editor text with the file",
            "reload_policy",
        ),
    ]

    def __init__(self) -> None:
        super().__init__(id="policy-screen")
        self._shown_result: Any = None
        self._shown_preview: Any = None
        self._shown_stale: bool | None = None
        self._side_ready = False
        self._side_requested = False
        self._shown_content: dict[str | None, Any] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="notice", markup=False)
        with Horizontal(id="policy-main"):
            yield self._editor()
            yield Vertical(Static("Outline", classes="pane-title"), id="policy-side")
        yield Static("", id="status")
        yield Footer()

    def _editor(self) -> TextArea:
        # YAML highlighting is switched on after the first paint: loading the
        # tree-sitter grammar and highlighting the text would delay it.
        editor = PolicyEditor.code_editor(self.app.text, theme="css", id="editor")
        editor.cursor_blink = self.app.cursor_blink
        return editor

    @property
    def editor(self) -> TextArea:
        return self.query_one("#editor", TextArea)

    def on_mount(self) -> None:
        self.editor.focus()
        # The side panel comes after the first paint, so start-up pays only
        # for the editor.
        if self.app.first_paint_done:
            self.first_paint_done()

    def first_paint_done(self) -> None:
        """Highlight the YAML and mount the side panel, once."""
        if not self._side_requested:
            self._side_requested = True
            self.call_after_refresh(self._highlight_yaml)
            self.call_after_refresh(self._mount_side)

    def _highlight_yaml(self) -> None:
        editor = self.editor
        editor.language = "yaml"
        if not editor.is_syntax_aware:
            self.notify(
                "YAML highlighting is off because tree-sitter is not installed;"
                " install it with: pip install 'textual[syntax]'",
                severity="warning",
                timeout=10,
            )

    async def _mount_side(self) -> None:
        from ..widgets.outline import PolicyOutline
        from ..widgets.preview_tables import SegmentSummary
        from ..widgets.problems import ProblemList

        header = Static("", id="summary-header", markup=False)
        await self.query_one("#policy-side").mount_all(
            [
                PolicyOutline(id="outline"),
                Static("Problems", id="problems-title", classes="pane-title"),
                ProblemList(id="problems"),
                Static("Segments", id="summary-title", classes="pane-title"),
                header,
                SegmentSummary(header, id="summary"),
            ]
        )
        self._side_ready = True
        if self.app.is_running:
            self.sync()

    # --- drawing ----------------------------------------------------------

    def sync(self) -> None:
        state = self.state
        self._show_notice(state.sample_notice)
        self._show_status()
        if not self._side_ready:
            return
        if state.check_result is not self._shown_result:
            self._shown_result = state.check_result
            self._show_check(state.check_result)
        preview_changed = state.preview is not self._shown_preview
        if preview_changed or state.preview_stale != self._shown_stale:
            self._shown_preview = state.preview
            self._shown_stale = state.preview_stale
            self._show_preview(state.preview, preview_changed)

    def _update(self, widget: Static, content: Any) -> None:
        """Set a Static's content unless it shows that already.

        Each update lays the screen out again, and sync runs after every
        check and every preview, mostly with the same titles and status.
        """
        shown = self._shown_content.get(widget.id)
        if shown == content:
            return
        self._shown_content[widget.id] = content
        # A text that wraps to as many lines as the one it replaces keeps the
        # widget's height, so the screen need not be laid out again, which
        # would redraw every widget on it.
        width = widget.content_region.width
        same_height = shown is not None and _line_count(
            self.app.console, shown, width
        ) == _line_count(self.app.console, content, width)
        widget.update(content, layout=not same_height)

    def _show_notice(self, notice: str | None) -> None:
        widget = self.query_one("#notice", Static)
        self._update(widget, notice or "")
        widget.display = bool(notice)

    def _show_check(self, result: Any) -> None:
        if result is None:
            return
        problems = self.query_one("#problems")
        problems.show(result.problems)
        errors = sum(1 for problem in result.problems if problem.is_error)
        warnings = len(result.problems) - errors
        title = "Problems: none"
        if errors or warnings:
            title = (
                f"Problems: {counted(errors, 'error')}, {counted(warnings, 'warning')}"
            )
        self._update(self.query_one("#problems-title", Static), title)
        doc = result.loaded.doc if result.loaded is not None else None
        if doc is not None or result.ok:
            self._show_outline(doc)

    def _show_outline(self, doc: Any) -> None:
        from tui.core.editing import outline

        self.query_one("#outline").show(outline(doc), self._dead_rules(doc))

    def _dead_rules(self, doc: Any) -> dict[int, str]:
        """Map each rule of `doc` that the preview found dead to its mark.

        Rules are matched by name, because a stale preview comes from an
        earlier text whose rules may sit at other positions.
        """
        preview = self.state.preview
        if preview is None:
            return {}
        # The last row of the rule table is the default, never dead.
        dead_names = {rule.name for rule in preview.rules[:-1] if rule.status != "ok"}
        written = doc.get("rules") if isinstance(doc, dict) else None
        if not isinstance(written, list):
            return {}
        dead = {}
        for index, rule in enumerate(written):
            name = rule.get("name") if isinstance(rule, dict) else None
            if isinstance(name, str) and name in dead_names:
                dead[index] = "DEAD"
        return dead

    def _show_preview(self, preview: Any, changed: bool) -> None:
        if preview is None:
            return
        if changed:
            self.query_one("#summary").show(preview)
            result = self._shown_result
            if (
                result is not None
                and result.loaded is not None
                and result.loaded.doc is not None
            ):
                self._show_outline(result.loaded.doc)
        counts = status_counts(preview)
        title = (
            f"Segments: {counts['fail']} FAIL, {counts['insufficient']} insufficient,"
            f" {counts['pass']} pass"
        )
        if self.state.preview_stale:
            title += " (STALE)"
        self._update(self.query_one("#summary-title", Static), title)

    def _show_status(self) -> None:
        state = self.state
        status = Text()
        result = state.check_result
        if result is None:
            status.append("checking…")
        elif result.ok:
            status.append(f"valid · {len(result.policy.rules)} rules", style="green")
        else:
            errors = sum(1 for problem in result.problems if problem.is_error)
            status.append(counted(errors, "error"), style="bold red")
        status.append(" │ ")
        if state.preview_updating:
            status.append("updating… ", style="italic")
        if state.preview is not None:
            status.append_text(totals_text(state.preview, state.preview_stale))
        elif state.sample_loading:
            status.append("loading the sample…")
        else:
            status.append("no preview")
        self._update(self.query_one("#status", Static), status)

    # --- editor events ------------------------------------------------------

    @on(TextArea.Changed, "#editor")
    def _on_editor_changed(self, event: TextArea.Changed) -> None:
        self.state.editor_changed(event.text_area.text)

    def replace_text(self, text: str, line: int | None, keep_cursor: bool) -> None:
        """Replace the whole text as one undoable edit and place the cursor."""
        editor = self.editor
        old = editor.cursor_location
        editor.replace(text, (0, 0), editor.document.end)
        if line is not None:
            target = (line, 0)
        elif keep_cursor:
            target = old
        else:
            target = (0, 0)
        editor.cursor_location = _clamp(editor, target)
        editor.scroll_cursor_visible(center=True)

    # The side panel's widget classes load after the first paint, so these
    # handlers go by message name and widget id instead of `@on(Class, ...)`.

    def on_option_list_option_selected(self, event: Any) -> None:
        if event.option_list.id == "summary":
            segment = event.option_list.segment_at(event.option_index)
            if segment is not None:
                self.state.select_segment(*segment)
            return
        if event.option_list.id != "problems":
            return
        problem = self.query_one("#problems").problem_at(event.option_index)
        if problem is not None:
            self._jump(problem.line - 1, problem.column - 1)

    def _jump(self, line: int, column: int) -> None:
        editor = self.editor
        editor.cursor_location = _clamp(editor, (line, column))
        editor.scroll_cursor_visible(center=True)
        editor.focus()

    def on_tree_node_selected(self, event: Any) -> None:
        if event.control.id != "outline":
            return
        entry = event.node.data
        if entry is not None:
            editor = self.editor
            editor.cursor_location = _clamp(editor, (entry.line, 0))
            editor.scroll_cursor_visible(center=True)

    # --- actions --------------------------------------------------------------

    def action_next_problem(self) -> None:
        problems = self.query_one("#problems").problems
        if not problems:
            self.notify("No problems in the policy")
            return
        line = self.editor.cursor_location[0] + 1
        later = [p for p in problems if p.line > line]
        problem = (later or problems)[0]
        self._jump(problem.line - 1, problem.column - 1)

    def action_reload_policy(self) -> None:
        self.state.reload_policy()

    def _current_rule(self) -> int | None:
        """Return the rule to act on: the outline's highlight, else the cursor's."""
        from tui.core.editing import rule_at_line, rule_blocks

        outline = self.query_one("#outline")
        if outline.has_focus:
            return outline.highlighted_rule()
        blocks = rule_blocks(self.editor.text)
        return rule_at_line(blocks, self.editor.cursor_location[0])

    def _apply(self, operation, describe: str) -> None:
        """Run one rule edit on the current rule; report an EditError as a notice.

        `operation(index)` returns (Edit, index of the rule to highlight after).
        """
        from tui.core.editing import EditError

        outline = self.query_one("#outline")
        try:
            index = self._current_rule()
            outcome = operation(index)
        except EditError as error:
            self.notify(str(error), severity="warning")
            return
        if outcome is None:
            self.notify(
                "Put the cursor on a rule, in the editor or the outline, first",
                severity="warning",
            )
            return
        edit, highlight = outcome
        outline.keep_rule = highlight
        self.state.set_editor_text(edit.text, line=edit.line)
        self.notify(describe, timeout=3)

    def action_move_rule(self, offset: int) -> None:
        from tui.core.editing import move_rule

        def operation(index):
            if index is None:
                return None
            return move_rule(self.editor.text, index, offset), index + offset

        self._apply(operation, "Rule moved with its comments (ctrl+z undoes)")

    def action_delete_rule(self) -> None:
        from tui.core.editing import delete_rule

        def operation(index):
            if index is None:
                return None
            return delete_rule(self.editor.text, index), max(0, index - 1)

        self._apply(operation, "Rule deleted with its comments (ctrl+z undoes)")

    def action_add_rule(self) -> None:
        from tui.core.editing import add_rule, rule_blocks

        def operation(index):
            count = len(rule_blocks(self.editor.text))
            after = index
            if after is None and count:
                after = count - 1
            edit = add_rule(self.editor.text, after, self._new_rule_route())
            return edit, (after + 1 if after is not None else 0)

        self._apply(
            operation, "Rule added; it matches no request until you fill in its 'when'"
        )

    def _new_rule_route(self) -> str:
        """Route a new rule to the first alias that is not the default."""
        policy = self.state.policy
        if policy is None:
            return "fast"
        others = [alias for alias in policy.aliases if alias != policy.default]
        return (others or [policy.default])[0]


def _line_count(console: Any, content: Any, width: int) -> int:
    """Count the lines a Static's content wraps to at `width` cells (0: unknown)."""
    if width <= 0:
        return 0
    text = content if isinstance(content, Text) else Text(str(content))
    return len(text.wrap(console, width))


def _clamp(editor: TextArea, location: tuple[int, int]) -> tuple[int, int]:
    """Keep a (line, column) inside the document."""
    document = editor.document
    line = max(0, min(location[0], document.line_count - 1))
    column = max(0, min(location[1], len(document.get_line(line))))
    return line, column
