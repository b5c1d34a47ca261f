"""Plain-text formatting of figures, shared by the CLI report and the app."""

from __future__ import annotations

from typing import Any

STATUS_WORDS = {"fail": "FAIL", "insufficient": "insufficient", "pass": "pass"}


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def fmt_share(value: float | None, decimals: int = 1) -> str:
    """A 0..1 fraction as a percentage, or an em dash when not computable."""
    return "—" if value is None else f"{value:.{decimals}%}"


def fmt_points(value: float | None, unit: bool = True) -> str:
    """A 0..1 quality difference in signed percentage points."""
    if value is None:
        return "—"
    return f"{value * 100:+.1f}" + (" pt" if unit else "")


def fmt_interval(interval: tuple[float, float] | None) -> str:
    if interval is None:
        return "—"
    low, high = interval
    return f"[{low * 100:+.1f}, {high * 100:+.1f}]"


def fmt_cost(value: float | None) -> str:
    if value is None:
        return "unknown"
    if abs(value) < 1:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def fmt_value(value: Any) -> str:
    return "(missing)" if value is None else str(value)
