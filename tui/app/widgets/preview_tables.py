"""Tables that show a preview: segments, rules and tenant exposure."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

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


class SegmentSummary(DataTable):
    """The segments of every dimension that fail or lack evidence, worst first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.segments: dict[str, tuple[str | None, Any]] = {}
        self._shown_rows: list[tuple[str, list[Any]]] | None = None

    def show(self, preview: Any) -> None:
        segments: dict[str, tuple[str | None, Any]] = {}
        rows = []
        for row in ordered_segments(preview.segments):
            key = segment_key(row.dimension, row.value)
            segments[key] = (row.dimension, row.value)
            cells = [
                status_text(row.status),
                f"{row.dimension}={fmt_value(row.value)}",
                Text(fmt_points(row.stats.regression), justify="right"),
                Text(fmt_points(row.max_regression), justify="right"),
            ]
            rows.append((key, cells))
        # Refilling redraws every visible row, so identical rows are kept.
        if rows == self._shown_rows:
            return
        self.segments = segments
        self._shown_rows = rows
        fill_table(self, ["status", "segment", "regression", "budget"], rows)
