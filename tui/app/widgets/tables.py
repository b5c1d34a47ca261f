"""Filling a DataTable with columns sized from their content up front.

DataTable measures auto-width columns later, when it is idle, so a table
refilled just before a screenshot can show label-wide columns. Measuring here
and fixing each width keeps the layout the same however the refills are timed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

MAX_COLUMN_WIDTH = 60


def cell_width(cell: Any) -> int:
    if isinstance(cell, Text):
        return cell.cell_len
    return Text(str(cell)).cell_len


def fill_table(
    table: DataTable,
    labels: Sequence[str],
    rows: Sequence[tuple[str | None, Sequence[Any]]],
    max_width: int = MAX_COLUMN_WIDTH,
) -> None:
    """Replace the table's columns and rows; `rows` contains (key, cells) pairs."""
    widths = [cell_width(label) for label in labels]
    for _, cells in rows:
        for index, cell in enumerate(cells):
            widths[index] = max(widths[index], cell_width(cell))
    table.clear(columns=True)
    for label, width in zip(labels, widths, strict=True):
        table.add_column(label, width=min(width, max_width))
    for key, cells in rows:
        table.add_row(*cells, key=key)
