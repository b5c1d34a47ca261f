"""Plain-text formatting of figures, shared by the CLI report and the app."""

from __future__ import annotations

import re
from typing import Any

STATUS_WORDS = {"fail": "FAIL", "insufficient": "insufficient", "pass": "pass"}


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and `noun`, the noun in the plural unless the count is 1."""
    if count == 1:
        return f"1 {noun}"
    return f"{count:,} {plural or noun + 's'}"


def invalid_sample_message(path: str, errors: list, report: str) -> str:
    """Say how many lines of a sample have errors, and why `report` stops.

    Counts lines, not errors, because one line can have several.
    """
    lines = len({error.line for error in errors})
    found = counted(lines, "invalid line")
    if len(errors) != lines:
        found += f" ({counted(len(errors), 'error')})"
    return (
        f"{path}: {found} listed above; fix or remove them, because a {report}"
        " that skips requests or reads fallback values would misstate every figure"
    )


def exposure_summary(exposure) -> str:
    """Summarise tenant exposure: tenants, mixed tenants, requests without one."""
    if not exposure.tenants:
        return (
            f"exposure by {exposure.field}: no request has this field; set"
            " exposure.field in the policy to the field that names the tenant"
        )
    text = (
        f"exposure by {exposure.field}: {counted(len(exposure.tenants), 'tenant')},"
        f" {len(exposure.mixed):,} served by more than one model"
    )
    if exposure.missing:
        text += f"; {counted(exposure.missing, 'request')} without a tenant"
    return text


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def fmt_share(value: float | None, decimals: int = 1) -> str:
    """Format a 0..1 fraction as a percentage, or an em dash when not computable."""
    return "—" if value is None else f"{value:.{decimals}%}"


def fmt_points(value: float | None, unit: bool = True) -> str:
    """Format a 0..1 quality difference in signed percentage points."""
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


# C0 and C1 control characters, which a terminal would act on (ESC starts
# colour, title and clear-screen sequences) if sample data reached it raw.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Show control characters as escapes (`\x1b`) so data cannot drive the terminal."""
    return _CONTROL.sub(
        lambda m: m.group().encode("unicode_escape").decode("ascii"), text
    )


def fmt_counts(stats) -> str:
    """Requests and graded requests, saying so when weights make them differ.

    `requests` sums the lines' weights while `graded` counts lines, so with
    weights in the sample both numbers are named for what they count.
    """
    if stats.requests == stats.count:
        return f"{counted(stats.count, 'request')}, {stats.graded:,} graded"
    return (
        f"{stats.requests:,g} weighted requests from {counted(stats.count, 'line')},"
        f" {counted(stats.graded, 'line')} graded"
    )


def fmt_value(value: Any) -> str:
    return "(missing)" if value is None else printable(str(value))


def check_summary(row) -> str:
    """Nonzero check failures, such as `fast: refusal 3, truncated 1`."""
    if not row.checks:
        return ""
    parts = []
    for alias, counts in row.checks.items():
        failed = [f"{name} {count}" for name, count in counts.items() if count]
        if failed:
            parts.append(f"{alias}: " + ", ".join(failed))
    return "; ".join(parts)
