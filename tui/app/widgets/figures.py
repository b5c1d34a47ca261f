"""Preview figures as Rich text: status words, the totals line, status counts.

Status is written as a word wherever it shows, and coloured as well, so it
reads without colour. This module imports no widget, so the first screen can
use it cheaply.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tui.format import fmt_cost, fmt_counts, fmt_points, fmt_share, status_word

STATUS_STYLE = {"fail": "bold red", "insufficient": "yellow", "pass": "green"}
STATUS_ORDER = {"fail": 0, "insufficient": 1, "pass": 2}


def status_text(status: str) -> Text:
    return Text(status_word(status), style=STATUS_STYLE.get(status, ""))


def totals_text(preview: Any, stale: bool) -> Text:
    """Build the totals line: requests, share, global regression, cost saved."""
    totals = preview.totals
    stats = totals.stats
    text = Text()
    if stale:
        text.append("STALE ", style="bold reverse yellow")
        text.append(
            "(policy has errors; showing the last valid policy) · ", style="yellow"
        )
    base, routed = stats.cost("baseline"), stats.cost("routed")
    text.append(f"{fmt_counts(stats)} · ")
    shares = stats.share(preview.aliases)
    text.append(", ".join(f"{a} {fmt_share(v)}" for a, v in shares.items()))
    text.append(f" · global regression {fmt_points(stats.regression)}")
    text.append(f" (budget {fmt_points(totals.max_regression)}, ")
    text.append_text(status_text(totals.status))
    text.append(")")
    text.append(
        f" · cost {fmt_cost(base)} → {fmt_cost(routed)},"
        f" saved {saved_text(base, routed)}"
    )
    return text


def saved_text(base: float | None, routed: float | None) -> str:
    if base is None or routed is None or base <= 0:
        return "unknown"
    return f"{fmt_cost(base - routed)} ({(base - routed) / base:.1%})"


def status_counts(preview: Any) -> dict[str, int]:
    counts = {"fail": 0, "insufficient": 0, "pass": 0}
    for row in preview.segments:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts
