"""The Preview screen: per-segment routing, quality and cost, rules and exposure."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static, Tab, Tabs

from ..widgets.figures import totals_text
from ..widgets.preview_tables import (
    ExposureTable,
    RuleTable,
    SegmentTable,
    exposure_title,
)
from .base import RoutebookScreen


class PreviewScreen(RoutebookScreen):
    """The policy's effect on the sample, one segment dimension at a time.

    | Key | Action |
    | --- | --- |
    | [ / ] | Previous or next segment dimension. |
    | enter | Show the samples of the highlighted segment. |
    """

    CSS_PATH = "preview.tcss"

    BINDINGS = [
        Binding("left_square_bracket", "dimension(-1)", "Prev dimension"),
        Binding("right_square_bracket", "dimension(1)", "Next dimension"),
    ]

    PALETTE = [
        (
            "Next segment dimension",
            "Show the segments of the next dimension (])",
            "dimension(1)",
        ),
        (
            "Previous segment dimension",
            "Show the previous dimension ([)",
            "dimension(-1)",
        ),
        ("Review highlighted segment", "Open its samples (enter)", "review_segment"),
    ]

    def __init__(self) -> None:
        super().__init__(id="preview-screen")
        self.dimension: str | None = None
        self._shown: tuple | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="notice", markup=False)
        yield Static("", id="totals")
        yield Tabs(id="dimensions")
        yield SegmentTable(id="segments")
        with Horizontal(id="preview-lower"):
            with Vertical(id="rules-pane"):
                yield Static("Rules (first match wins)", classes="pane-title")
                yield RuleTable(id="rules")
            with Vertical(id="exposure-pane"):
                yield Static("Exposure", id="exposure-title", classes="pane-title")
                yield ExposureTable(id="exposure")
        yield Static("", id="warnings", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#segments").focus()

    def sync(self) -> None:
        state = self.state
        notice = self.query_one("#notice", Static)
        message = state.sample_notice
        if state.preview is None and message is None:
            message = "Loading the sample…" if state.sample_loading else None
            if message is None and state.check_result is not None:
                message = (
                    "No preview yet: the policy has errors; fix them on the"
                    " Policy screen (F2)."
                )
        notice.update(message or "")
        notice.display = bool(message)
        preview = state.preview
        if preview is None:
            return
        key = (id(preview), state.preview_stale)
        self.query_one("#totals", Static).update(
            totals_text(preview, state.preview_stale)
        )
        if key == self._shown:
            return
        self._shown = key
        self._show_dimensions(preview)
        self._show_tables(preview)

    def _show_dimensions(self, preview: Any) -> None:
        tabs = self.query_one("#dimensions", Tabs)
        names = list(preview.policy.segments)
        current = [tab.id for tab in tabs.query(Tab)]
        wanted = [f"dim-{index}" for index in range(len(names))]
        labels = [str(tab.label) for tab in tabs.query(Tab)]
        if current != wanted or labels != names:
            tabs.clear()
            for index, name in enumerate(names):
                tabs.add_tab(Tab(name, id=f"dim-{index}"))
        if self.dimension not in names:
            self.dimension = names[0] if names else None
        if self.dimension is not None:
            tabs.active = f"dim-{names.index(self.dimension)}"

    def _show_tables(self, preview: Any) -> None:
        if self.dimension is not None:
            self.query_one("#segments", SegmentTable).show(preview, self.dimension)
        self.query_one("#rules", RuleTable).show(preview)
        self.query_one("#exposure", ExposureTable).show(preview)
        self.query_one("#exposure-title", Static).update(exposure_title(preview))
        warnings = "\n".join(f"warning: {w}" for w in preview.warnings)
        widget = self.query_one("#warnings", Static)
        widget.update(warnings)
        widget.display = bool(warnings)

    @on(Tabs.TabActivated, "#dimensions")
    def _on_dimension(self, event: Tabs.TabActivated) -> None:
        preview = self.state.preview
        if preview is None or event.tab is None:
            return
        names = list(preview.policy.segments)
        index = int(event.tab.id.removeprefix("dim-"))
        if index < len(names) and names[index] != self.dimension:
            self.dimension = names[index]
            self.query_one("#segments", SegmentTable).show(preview, self.dimension)

    def action_dimension(self, offset: int) -> None:
        tabs = self.query_one("#dimensions", Tabs)
        if offset > 0:
            tabs.action_next_tab()
        else:
            tabs.action_previous_tab()

    @on(DataTable.RowSelected, "#segments")
    def _on_segment_selected(self, event: DataTable.RowSelected) -> None:
        segment = self.query_one("#segments", SegmentTable).segments.get(
            event.row_key.value
        )
        if segment is not None:
            self.state.select_segment(*segment)

    def action_review_segment(self) -> None:
        table = self.query_one("#segments", SegmentTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        segment = table.segments.get(key)
        if segment is not None:
            self.state.select_segment(*segment)
