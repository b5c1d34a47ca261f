"""Tables that show a preview: segments, rules and tenant exposure."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable, OptionList, Static

from tui.format import (
    check_summary,
    exposure_summary,
    fmt_cost,
    fmt_interval,
    fmt_points,
    fmt_share,
    fmt_value,
)

from .figures import STATUS_ORDER, status_text
from .tables import fill_table


def segment_key(dimension: str | None, value: Any) -> str:
    """Build the DataTable row key of a segment, keeping None and "None" apart."""
    return f"{dimension}\x1f{type(value).__name__}\x1f{value}"


def ordered_segments(rows: list[Any]) -> list[Any]:
    """Sort failing segments first, then by regression, largest first."""
    return sorted(
        rows,
        key=lambda row: (STATUS_ORDER.get(row.status, 3), -(row.stats.regression or 0)),
    )


class SegmentTable(DataTable):
    """Per-segment share, quality, regression against budget, and cost."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.segments: dict[str, tuple[str | None, Any]] = {}

    def show(self, preview: Any, dimension: str) -> None:
        """Fill the table with the segments of one dimension, keeping the cursor."""
        keep = self.cursor_row
        self.segments = {}
        aliases = preview.aliases
        # The verdict columns come first, so a narrow terminal still shows them.
        labels = [
            "status",
            dimension,
            "regression",
            "budget",
            "requests",
            "graded",
            *(f"% {alias}" for alias in aliases),
            "baseline q",
            "routed q",
            "95% interval",
            "cost base",
            "cost routed",
            "failed checks",
        ]
        rows = []
        for row in ordered_segments(preview.dimension_rows(dimension)):
            key = segment_key(dimension, row.value)
            self.segments[key] = (dimension, row.value)
            rows.append((key, segment_cells(row, aliases)))
        fill_table(self, labels, rows)
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))


def segment_cells(row: Any, aliases: list[str]) -> list[Any]:
    stats = row.stats
    share = stats.share(aliases)
    return [
        status_text(row.status),
        fmt_value(row.value),
        Text(fmt_points(stats.regression), justify="right"),
        Text(fmt_points(row.max_regression), justify="right"),
        Text(f"{stats.requests:g}", justify="right"),
        Text(str(stats.graded), justify="right"),
        *(Text(fmt_share(share[alias]), justify="right") for alias in aliases),
        Text(fmt_share(stats.baseline_quality), justify="right"),
        Text(fmt_share(stats.routed_quality), justify="right"),
        Text(fmt_interval(stats.regression_interval()), justify="right"),
        Text(fmt_cost(stats.cost("baseline")), justify="right"),
        Text(fmt_cost(stats.cost("routed")), justify="right"),
        check_summary(row),
    ]


class RuleTable(DataTable):
    """Requests each rule routed, with rules that never fire flagged as dead."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)

    def show(self, preview: Any) -> None:
        rows = [
            (
                str(index),
                [
                    rule.name,
                    rule.route,
                    Text(f"{rule.matched:g}", justify="right"),
                    Text(f"{rule.matches_alone:g}", justify="right"),
                    rule_note(rule),
                ],
            )
            for index, rule in enumerate(preview.rules)
        ]
        fill_table(self, ["rule", "route", "routed", "matches alone", "note"], rows)


def rule_note(rule: Any) -> Text:
    if rule.status == "unmatched":
        return Text("DEAD: matches no request", style="bold yellow")
    if rule.status == "shadowed":
        return Text(
            "DEAD: shadowed by " + ", ".join(rule.shadowed_by), style="bold yellow"
        )
    return Text("")


class ExposureTable(DataTable):
    """Each tenant's split of requests across models, mixed tenants first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def show(self, preview: Any) -> None:
        exposure = preview.exposure
        aliases = exposure.aliases
        mixed = set(map(str, exposure.mixed))
        labels = ["tenant", "requests", *(f"% {a}" for a in aliases), "models"]
        tenants = sorted(
            exposure.tenants.items(),
            key=lambda item: (
                str(item[0]) not in mixed,
                -item[1].requests,
                str(item[0]),
            ),
        )
        rows = []
        for tenant, stats in tenants:
            share = stats.share(aliases)
            served = "mixed" if str(tenant) in mixed else "one"
            cells = [
                fmt_value(tenant),
                Text(f"{stats.requests:g}", justify="right"),
                *(Text(fmt_share(share[a]), justify="right") for a in aliases),
                Text(served, style="bold yellow" if served == "mixed" else ""),
            ]
            rows.append((None, cells))
        fill_table(self, labels, rows)


def exposure_title(preview: Any) -> str:
    summary = exposure_summary(preview.exposure)
    return summary[0].upper() + summary[1:]


class SegmentSummary(OptionList):
    """Every segment of every dimension, failing ones first, one line each.

    An OptionList, not a DataTable: it is redrawn after every edit that moves
    traffic, and a line of text draws several times faster than table cells.
    The column titles go to `header`, a one-line Static above the list.
    """

    COLUMNS = ("status", "segment", "regression", "budget")

    def __init__(self, header: Static | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.header = header
        self.segments: dict[str, tuple[str | None, Any]] = {}
        self.keys: list[str] = []
        self._rows: list[tuple[str, list[Text]]] | None = None
        self._width = 0

    def show(self, preview: Any) -> None:
        """Show the preview's segments; unchanged lines are not redrawn."""
        segments: dict[str, tuple[str | None, Any]] = {}
        rows = []
        for row in ordered_segments(preview.segments):
            key = segment_key(row.dimension, row.value)
            segments[key] = (row.dimension, row.value)
            cells = [
                status_text(row.status),
                Text(f"{row.dimension}={fmt_value(row.value)}"),
                Text(fmt_points(row.stats.regression)),
                Text(fmt_points(row.max_regression)),
                Text(fmt_value(row.value)),
            ]
            rows.append((key, cells))
        if rows == self._rows and self._width == self._available():
            return
        self.segments = segments
        self._rows = rows
        self.keys = [key for key, _ in rows]
        self._draw()

    def on_resize(self) -> None:
        if self._rows is not None and self._width != self._available():
            self._draw()

    def _available(self) -> int:
        # Each line has one cell of padding on either side, and room is kept
        # for the scroll bar, which appears only once the list overflows.
        width = self.content_region.width - 2 - self.styles.scrollbar_size_vertical
        return max(width, 0)

    def _draw(self) -> None:
        self._width = width = self._available()
        labels = list(self.COLUMNS)
        rows = [(key, cells[:4]) for key, cells in self._rows or []]
        if 0 < width < NARROW_SUMMARY:
            # Narrow: the budget goes (the Preview screen shows it), a long
            # status word is cut short, and a segment shows its value alone,
            # so that the value stays readable.
            labels = [*labels[:2], "regr."]
            rows = [(key, _narrow(cells)) for key, cells in self._rows or []]
        widths = [len(label) for label in labels]
        for _, cells in rows:
            widths = [
                max(column, cell.cell_len)
                for column, cell in zip(widths, cells, strict=True)
            ]
        # The segment column gives way first, then every line is cut to fit.
        if width:
            others = sum(widths) - widths[1] + 2 * (len(widths) - 1)
            widths[1] = max(min(widths[1], width - others), 6)
        lines = [_line(cells, widths, width) for _, cells in rows]
        if self.header is not None:
            titles = [Text(label) for label in labels]
            self.header.update(_line(titles, widths, width), layout=False)

        if len(lines) == self.option_count:
            # Prompts replaced in place keep the list's height, so the screen
            # is not laid out again.
            for index, line in enumerate(lines):
                if self.get_option_at_index(index).prompt != line:
                    self.replace_option_prompt_at_index(index, line)
            return
        keep = self.highlighted or 0
        self.clear_options()
        self.add_options(lines)
        if lines:
            self.highlighted = min(keep, len(lines) - 1)

    def segment_at(self, index: int | None) -> tuple[str | None, Any] | None:
        """Return the (dimension, value) of the segment on line `index`, if any."""
        if index is None or not 0 <= index < len(self.keys):
            return None
        return self.segments.get(self.keys[index])


# Below this many cells a summary line leaves out the budget.
NARROW_SUMMARY = 44


def _narrow(cells: list[Text]) -> list[Text]:
    """Status (cut to six letters and a dot), segment value and regression."""
    status = cells[0]
    if status.cell_len > 6:
        status = status.copy()
        status.truncate(6)
        status.append(".")
    return [status, cells[4], cells[2]]


def _line(cells: list[Text], widths: list[int], limit: int) -> Text:
    """Lay cells out in columns, text left and figures right, within `limit`."""
    line = Text()
    for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        if index:
            line.append("  ")
        if cell.cell_len > width:
            cell = cell.copy()
            cell.truncate(width, overflow="ellipsis")
        padding = " " * (width - cell.cell_len)
        if index >= 2:
            line.append(padding)
        line.append_text(cell)
        if index < 2:
            line.append(padding)
    if limit:
        line.truncate(limit, overflow="ellipsis")
    return line
