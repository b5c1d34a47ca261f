"""The Samples screen: the requests of a segment, filtered, with why each was routed."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    Select,
    Static,
)

from tui.format import fmt_value

from ..widgets.tables import fill_table
from .base import RoutebookScreen

# How long the search waits after the last keystroke before filtering.
SEARCH_DELAY = 0.2
PROMPT_PREVIEW_CHARS = 80


def grade_text(grade: float | None) -> Text:
    if grade is None:
        return Text("—", justify="right")
    style = "green" if grade >= 0.5 else "bold red"
    return Text(f"{grade:.2g}", style=style, justify="right")


def one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class SamplesScreen(RoutebookScreen):
    """Requests of the selected segment; enter opens them side by side.

    | Key | Action |
    | --- | --- |
    | enter | Compare the highlighted request's outputs. |
    | / | Search the id, prompt and outputs. |
    | c | Show every segment (clear the segment). |
    | r | Toggle "baseline right, routed wrong". |
    | ctrl+o | Run the highlighted request through the models. |
    """

    CSS_PATH = "samples.tcss"

    BINDINGS = [
        Binding("slash", "search", "Search"),
        Binding("c", "clear_segment", "All segments"),
        Binding("r", "toggle_regressed", "Right→wrong"),
        Binding("ctrl+o", "app.run_selected", "Run request"),
    ]

    PALETTE = [
        ("Search samples", "Filter by text in the id, prompt or outputs (/)", "search"),
        ("Show all segments", "Stop filtering by segment (c)", "clear_segment"),
        (
            "Toggle baseline right, routed wrong",
            "Only requests the routing made wrong (r)",
            "toggle_regressed",
        ),
        (
            "Toggle failed output check",
            "Only requests whose outputs fail a check",
            "toggle_failed_check",
        ),
        ("Clear all sample filters", "Show every request", "clear_filters"),
    ]

    def __init__(self) -> None:
        super().__init__(id="samples-screen")
        self._shown: tuple | None = None
        self._search_timer = None
        self._rows: list[Any] = []
        self._syncing = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="notice", markup=False)
        with Horizontal(classes="filter-row"):
            yield Static("", id="segment-label")
            yield Select([], prompt="any model", id="model-filter", compact=True)
            yield Select([], prompt="any rule", id="rule-filter", compact=True)
        with Horizontal(classes="filter-row"):
            yield Checkbox("baseline right, routed wrong", id="regressed-filter")
            yield Checkbox("failed check", id="check-filter")
            yield Input(
                placeholder="search id, prompt, outputs", id="search", compact=True
            )
        with Horizontal(id="samples-main"):
            yield DataTable(id="sample-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="explain"):
                yield Static("", id="explain-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search", Input).cursor_blink = self.app.cursor_blink
        self.query_one("#sample-table").focus()

    # --- drawing ----------------------------------------------------------

    def sync(self) -> None:
        state = self.state
        notice = self.query_one("#notice", Static)
        message = state.sample_notice
        if state.preview is None and message is None:
            message = (
                "Loading the sample…" if state.sample_loading else "No preview yet."
            )
        notice.update(message or "")
        notice.display = bool(message)
        preview = state.preview
        if preview is None:
            return
        sample_filter = state.review.filter
        key = (id(preview), sample_filter)
        if key == self._shown:
            return
        self._shown = key
        self._syncing = True
        try:
            self._show_filter_controls(preview, sample_filter)
        finally:
            self.call_after_refresh(self._end_sync)
        self._show_rows(preview, sample_filter)

    def _end_sync(self) -> None:
        self._syncing = False

    def _show_filter_controls(self, preview: Any, sample_filter: Any) -> None:
        policy = preview.policy
        models = sorted({spec.model for spec in policy.models.values()})
        model_select = self.query_one("#model-filter", Select)
        model_select.set_options([(model, model) for model in models])
        if sample_filter.model in models:
            model_select.value = sample_filter.model
        rule_names = [rule.name for rule in policy.rules] + ["default"]
        rule_select = self.query_one("#rule-filter", Select)
        rule_select.set_options(
            [(name, index) for index, name in enumerate(rule_names)]
        )
        if sample_filter.rule_index is not None and sample_filter.rule_index < len(
            rule_names
        ):
            rule_select.value = sample_filter.rule_index
        self.query_one(
            "#regressed-filter", Checkbox
        ).value = sample_filter.regressed_only
        self.query_one(
            "#check-filter", Checkbox
        ).value = sample_filter.failed_check_only
        search = self.query_one("#search", Input)
        if search.value != sample_filter.text:
            search.value = sample_filter.text

    def _show_rows(self, preview: Any, sample_filter: Any) -> None:
        from tui.core.review import ANY

        rows = self.state.review.rows()
        self._rows = rows
        label = "All segments"
        if sample_filter.dimension is not None and sample_filter.value is not ANY:
            label = (
                f"Segment {sample_filter.dimension} = {fmt_value(sample_filter.value)}"
            )
        self.query_one("#segment-label", Static).update(
            f"{label} · {len(rows)} of {len(preview.rows)} requests match the filters"
        )
        table = self.query_one("#sample-table", DataTable)
        keep = self.state.review.current_id
        policy = preview.policy
        cursor = 0
        cells = []
        for position, row in enumerate(rows):
            cells.append(
                (
                    row.request.id,
                    [
                        row.request.id,
                        policy.rule_name(row.rule_index),
                        row.alias,
                        grade_text(row.baseline_grade),
                        grade_text(row.routed_grade),
                        one_line(row.request.prompt_text(), PROMPT_PREVIEW_CHARS),
                    ],
                )
            )
            if row.request.id == keep:
                cursor = position
        labels = ["id", "rule", "routed to", "base", "routed", "prompt"]
        fill_table(table, labels, cells, max_width=PROMPT_PREVIEW_CHARS)
        if rows:
            table.move_cursor(row=cursor)
            self._explain(rows[cursor])
        else:
            self.query_one("#explain-text", Static).update(
                "No request matches the filters."
            )

    def _explain(self, row: Any) -> None:
        self.query_one("#explain-text", Static).update(explanation(self.state, row))

    # --- events -------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#sample-table")
    def _on_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row < len(self._rows):
            row = self._rows[event.cursor_row]
            self.state.review.current_id = row.request.id
            self._explain(row)

    @on(DataTable.RowSelected, "#sample-table")
    def _on_row_selected(self, event: DataTable.RowSelected) -> None:
        self.state.review.current_id = event.row_key.value
        self.app.switch_mode("compare")

    @on(Select.Changed, "#model-filter")
    def _on_model(self, event: Select.Changed) -> None:
        value = None if event.value is Select.BLANK else event.value
        self._set_filter(model=value)

    @on(Select.Changed, "#rule-filter")
    def _on_rule(self, event: Select.Changed) -> None:
        value = None if event.value is Select.BLANK else event.value
        self._set_filter(rule_index=value)

    @on(Checkbox.Changed, "#regressed-filter")
    def _on_regressed(self, event: Checkbox.Changed) -> None:
        self._set_filter(regressed_only=event.value)

    @on(Checkbox.Changed, "#check-filter")
    def _on_failed_check(self, event: Checkbox.Changed) -> None:
        self._set_filter(failed_check_only=event.value)

    @on(Input.Changed, "#search")
    def _on_search(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        value = event.value
        self._search_timer = self.set_timer(
            SEARCH_DELAY, lambda: self._set_filter(text=value)
        )

    @on(Input.Submitted, "#search")
    def _on_search_submitted(self, event: Input.Submitted) -> None:
        self._set_filter(text=event.value)
        self.query_one("#sample-table").focus()

    def _set_filter(self, **changes: Any) -> None:
        if self._syncing:
            return
        if self.state.review.set_filter(**changes):
            self.sync()

    # --- actions --------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_segment(self) -> None:
        from tui.core.review import ANY

        self._set_filter(dimension=None, value=ANY)

    def action_toggle_regressed(self) -> None:
        box = self.query_one("#regressed-filter", Checkbox)
        box.value = not box.value

    def action_toggle_failed_check(self) -> None:
        box = self.query_one("#check-filter", Checkbox)
        box.value = not box.value

    def action_clear_filters(self) -> None:
        from tui.core.review import SampleFilter

        self.state.review.filter = SampleFilter()
        self._shown = None
        self.sync()


def explanation(state: Any, row: Any) -> Text:
    """Describe one routed request: its segments, route, the rules' reasons, grades."""
    policy = state.preview.policy
    text = Text()
    text.append(f"{row.request.id}\n", style="bold")
    segments = " · ".join(f"{name}={fmt_value(v)}" for name, v in row.segments.items())
    text.append(f"{segments}\n\n")

    rule = policy.rule_name(row.rule_index)
    text.append("routed to ")
    text.append(f"{row.alias}", style="bold")
    text.append(f" ({row.model}) by rule '{rule}'\n\n")

    text.append("why:\n", style="bold")
    router = state.router
    if router is not None and router.policy is policy:
        for line in router.explain(row.features, row.rule_index):
            text.append(f"  {line}\n")
    else:
        text.append("  (explanation available after the next preview)\n")

    text.append("\ngrades: ", style="bold")
    text.append(f"baseline {fmt_grade(row.baseline_grade)}")
    text.append(f" · routed {fmt_grade(row.routed_grade)}\n")
    text.append_text(checks_text(state.review.check_flags(row)))
    return text


def checks_text(flags: list[str] | None) -> Text:
    text = Text("checks: ", style="bold")
    if flags is None:
        text.append("not run (disabled in the policy's checks:)\n", style="dim")
    elif flags:
        text.append(", ".join(flags) + "\n", style="yellow")
    else:
        text.append("none flagged\n", style="green")
    return text


def fmt_grade(grade: float | None) -> str:
    return "none" if grade is None else f"{grade:g}"
