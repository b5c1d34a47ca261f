"""The History screen: saved versions of the policy and what changed between two."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from tui.format import fmt_cost, fmt_points, status_word

from ..widgets.figures import STATUS_STYLE
from ..widgets.tables import fill_table
from .base import RoutebookScreen


class HistoryScreen(RoutebookScreen):
    """Saved versions, oldest first; the diff compares two of them.

    | Key | Action |
    | --- | --- |
    | space | Mark or unmark a version (at most two). |
    | enter | Compare the marked pair, or the highlighted version with the file. |
    | r | List the versions again. |
    """

    CSS_PATH = "history.tcss"

    BINDINGS = [
        Binding("space", "mark", "Mark"),
        Binding("enter", "compare", "Compare", show=False),
        Binding("r", "refresh_versions", "Refresh"),
    ]

    PALETTE = [
        ("Mark version", "Mark the highlighted version for comparison (space)", "mark"),
        (
            "Compare versions",
            "Diff the marked pair or the highlighted version (enter)",
            "compare",
        ),
        ("Refresh versions", "List the saved versions again (r)", "refresh_versions"),
    ]

    def __init__(self) -> None:
        super().__init__(id="history-screen")
        self.versions: list[Any] = []
        self.marked: list[str] = []
        self._listed_digest: object = object()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "Saved versions · space marks up to two, enter compares them"
            " (or the highlighted version with the current file)",
            classes="pane-title",
        )
        yield DataTable(id="versions", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="history-diff"):
            yield Static(
                "Pick a version and press enter to see what changed.", id="diff-text"
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#versions").focus()

    def sync(self) -> None:
        if self.state.loaded_digest != self._listed_digest:
            self._listed_digest = self.state.loaded_digest
            self.action_refresh_versions()

    # --- listing ------------------------------------------------------------

    def action_refresh_versions(self) -> None:
        if not self.state.policy_exists:
            return
        self._list_versions()

    @work(thread=True, exclusive=True, group="versions", exit_on_error=False)
    def _list_versions(self) -> None:
        from tui.core.problems import InputError
        from tui.core.versions import list_versions

        try:
            versions = list_versions(self.state.policy_path)
        except InputError as error:
            self.app.call_from_thread(self._show_error, str(error))
            return
        self.app.call_from_thread(self._show_versions, versions)

    def _show_error(self, message: str) -> None:
        self.query_one("#diff-text", Static).update(Text(message, style="red"))

    def _show_versions(self, versions: list[Any]) -> None:
        self.versions = versions
        keys = {self._key(info) for info in versions}
        self.marked = [key for key in self.marked if key in keys]
        table = self.query_one("#versions", DataTable)
        # The first listing starts on the current file; later ones keep the row.
        keep = table.cursor_row if table.row_count else len(versions) - 1
        labels = ["mark", "version", "saved at", "rules", "description"]
        rows = [(self._key(info), self._cells(info)) for info in versions]
        fill_table(table, labels, rows)
        if versions:
            table.move_cursor(row=max(0, min(keep, len(versions) - 1)))

    def _cells(self, info: Any) -> list[Any]:
        mark = "●" if self._key(info) in self.marked else ""
        version = f"v{info.label}" + (" (current file)" if info.current else "")
        description = " ".join((info.description or "").split())
        if len(description) > 60:
            description = description[:59] + "…"
        return [mark, version, info.saved_at, str(info.rule_count), description]

    @staticmethod
    def _key(info: Any) -> str:
        return info.label + ("*" if info.current else "")

    # --- marking and comparing ------------------------------------------------

    def _highlighted(self) -> Any:
        table = self.query_one("#versions", DataTable)
        if not self.versions or table.cursor_row >= len(self.versions):
            return None
        return self.versions[table.cursor_row]

    def action_mark(self) -> None:
        info = self._highlighted()
        if info is None:
            return
        key = self._key(info)
        if key in self.marked:
            self.marked.remove(key)
        else:
            self.marked = (self.marked + [key])[-2:]
        self._show_versions(self.versions)

    @on(DataTable.RowSelected, "#versions")
    def _on_selected(self, event: DataTable.RowSelected) -> None:
        self.action_compare()

    def action_compare(self) -> None:
        pair = self._pair()
        if pair is None:
            self.notify(
                "Only one version exists; save a change first", severity="warning"
            )
            return
        self.query_one("#history-diff").loading = True
        self._compare(*pair)

    def _pair(self) -> tuple[Any, Any] | None:
        by_key = {self._key(info): info for info in self.versions}
        if len(self.marked) == 2:
            first, second = (by_key[key] for key in self.marked)
        else:
            first = self._highlighted()
            second = next((info for info in self.versions if info.current), None)
            if first is None or second is None or first is second:
                others = [info for info in self.versions if not info.current]
                if not others or second is None:
                    return None
                first = others[-1]
        order = {self._key(info): index for index, info in enumerate(self.versions)}
        return tuple(sorted((first, second), key=lambda info: order[self._key(info)]))

    @work(thread=True, exclusive=True, group="history-diff", exit_on_error=False)
    def _compare(self, old_info: Any, new_info: Any) -> None:
        try:
            text = render_diff(self.state, old_info, new_info)
        finally:
            self.app.call_from_thread(self._done_loading)
        self.app.call_from_thread(self.query_one("#diff-text", Static).update, text)

    def _done_loading(self) -> None:
        self.query_one("#history-diff").loading = False


def _load(info: Any, label: str):
    """Read and validate one version; return (policy, None) or (None, message)."""
    from tui.core.policy import parse_policy
    from tui.core.problems import InputError
    from tui.core.yamlio import read_text_file

    try:
        text, _ = read_text_file(info.path)
    except InputError as error:
        return None, str(error)
    result = parse_policy(text, label)
    if not result.ok:
        first = next(problem for problem in result.problems if problem.is_error)
        return None, f"{label} is not a valid policy: {first.format()}"
    return result.policy, None


def render_diff(state: Any, old_info: Any, new_info: Any) -> Text:
    """Describe what changed from one saved version to another, with traffic moves."""
    from tui.core import diff

    old_label = f"v{old_info.label}"
    new_label = f"v{new_info.label}" + (" (current file)" if new_info.current else "")
    old, error = _load(old_info, old_label)
    new, error2 = _load(new_info, new_label)
    if error or error2:
        return Text(error or error2, style="red")

    text = Text()
    text.append(f"{old_label} → {new_label}\n", style="bold")
    sample = state.sample
    if sample is not None and sample.requests:
        result = diff.diff_policies(
            old, new, sample.requests, old_source=old_label, new_source=new_label
        )
        text.append(result.summary() + "\n\n")
        _append_rules(text, result.rules)
        _append_list(text, "Models", [_change_line(c, "alias") for c in result.models])
        _append_list(
            text, "Budgets", [_change_line(c, "field") for c in result.budgets]
        )
        definitions = [_change_line(c, "dimension") for c in result.segment_definitions]
        _append_list(text, "Segment definitions", definitions)
        _append_segments(text, result.segments)
        for note in result.notes + result.warnings:
            text.append(f"note: {note}\n", style="yellow")
    else:
        text.append(
            "No sample is loaded, so only the rules are compared.\n\n", style="yellow"
        )
        _append_rules(text, diff.compare_rules(old, new))
    return text


def _append_rules(text: Text, rules: Any) -> None:
    text.append("Rules\n", style="bold underline")
    if not rules.any:
        text.append("  no rule changed\n")
    for detail in rules.details:
        change, name = detail["change"], detail["name"]
        if change == "added":
            text.append(
                f"  + {name} → {detail['route_after']} when {detail['when_after']}\n",
                style="green",
            )
        elif change == "removed":
            text.append(
                f"  - {name} → {detail['route_before']} when {detail['when_before']}\n",
                style="red",
            )
        elif change == "changed":
            text.append(f"  ~ {name}:", style="yellow")
            if detail.get("route_changed"):
                text.append(
                    f" route {detail['route_before']} → {detail['route_after']};"
                )
            if detail.get("condition_changed"):
                text.append(f" when {detail['when_before']} → {detail['when_after']}")
            text.append("\n")
        elif change == "reordered":
            text.append(
                f"  ↕ {name}: position {detail['position_before']}"
                f" → {detail['position_after']}\n"
            )
    if rules.default is not None:
        text.append(f"  default {rules.default['before']} → {rules.default['after']}\n")
    text.append("\n")


def _change_line(change: dict, key: str) -> str:
    name = change.get(key) or change.get("name") or "?"
    kind = change.get("change", "changed")
    return f"{name}: {kind} ({change.get('before')} → {change.get('after')})"


def _append_list(text: Text, title: str, lines: list[str]) -> None:
    if not lines:
        return
    text.append(f"{title}\n", style="bold underline")
    for line in lines:
        text.append(f"  {line}\n")
    text.append("\n")


def _append_segments(text: Text, segments: list[Any]) -> None:
    changed = [segment for segment in segments if segment.changed]
    text.append("Segments that changed\n", style="bold underline")
    if not changed:
        text.append("  none\n")
    for segment in changed:
        moved = (
            ", ".join(f"{n:g} {move}" for move, n in segment.moved.items())
            or "no moves"
        )
        text.append(f"  {segment.label}: {moved}; regression")
        text.append(
            f" {fmt_points(segment.before.regression)}"
            f" → {fmt_points(segment.after.regression)}; "
        )
        text.append(
            status_word(segment.status_before),
            style=STATUS_STYLE.get(segment.status_before, ""),
        )
        text.append(" → ")
        text.append(
            status_word(segment.status_after),
            style=STATUS_STYLE.get(segment.status_after, ""),
        )
        before, after = segment.before.cost("routed"), segment.after.cost("routed")
        text.append(f"; cost {fmt_cost(before)} → {fmt_cost(after)}\n")
