"""Rich tables for the preview and gate commands."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .format import (
    check_summary,
    counted,
    exposure_summary,
    fmt_cost,
    fmt_counts,
    fmt_interval,
    fmt_points,
    fmt_share,
    fmt_value,
    printable,
    status_word,
)

STATUS_STYLE = {"fail": "bold red", "insufficient": "yellow", "pass": "green"}
STATUS_ORDER = {"fail": 0, "insufficient": 1, "pass": 2}


def plain_console() -> Console:
    """Return a console for reports: no markup, no highlighting, wide when piped.

    Markup is off because policy values such as `[code, arithmetic]` would be
    read as style tags and vanish.
    """
    console = Console(highlight=False, markup=False)
    if not console.is_terminal:
        # Piped output (CI logs, files) has no width to fit; 80 columns would
        # truncate the segment tables, so give them room instead.
        console = Console(highlight=False, markup=False, width=200)
    return console


def segment_table(preview, dimension: str) -> Table:
    rows = sorted(
        preview.dimension_rows(dimension),
        key=lambda row: (STATUS_ORDER[row.status], -(row.stats.regression or 0)),
    )
    table = Table(
        title=f"segments by {dimension}"
        " (quality in %, regression and budget in points)",
        title_justify="left",
        expand=False,
    )
    table.add_column("status", no_wrap=True)
    table.add_column(dimension, no_wrap=True)
    table.add_column("requests", justify="right")
    table.add_column("graded", justify="right")
    for alias in preview.aliases:
        table.add_column(f"→{alias}", justify="right")
    table.add_column("baseline", justify="right")
    table.add_column("routed", justify="right")
    table.add_column("regression", justify="right", no_wrap=True)
    table.add_column("95% interval", justify="right", no_wrap=True)
    table.add_column("budget", justify="right")
    table.add_column("cost baseline", justify="right")
    table.add_column("cost routed", justify="right")
    table.add_column("failed checks")
    for row in rows:
        stats = row.stats
        share = stats.share(preview.aliases)
        table.add_row(
            Text(status_word(row.status), style=STATUS_STYLE[row.status]),
            fmt_value(row.value),
            f"{stats.requests:g}",
            str(stats.graded),
            *(fmt_share(share[alias], 0) for alias in preview.aliases),
            fmt_share(stats.baseline_quality),
            fmt_share(stats.routed_quality),
            fmt_points(stats.regression, unit=False),
            fmt_interval(stats.regression_interval()),
            fmt_points(row.max_regression, unit=False),
            fmt_cost(stats.cost("baseline")),
            fmt_cost(stats.cost("routed")),
            check_summary(row),
        )
    return table


def rules_table(preview) -> Table:
    table = Table(title="rules (first match wins)", title_justify="left")
    table.add_column("rule")
    table.add_column("route")
    table.add_column("routed", justify="right")
    table.add_column("matches alone", justify="right")
    table.add_column("note")
    for rule in preview.rules:
        note = ""
        if rule.status == "unmatched":
            note = "DEAD: matches no request"
        elif rule.status == "shadowed":
            note = "DEAD: shadowed by " + ", ".join(rule.shadowed_by)
        table.add_row(
            printable(rule.name),
            rule.route,
            f"{rule.matched:g}",
            f"{rule.matches_alone:g}",
            Text(note, style="yellow" if note else ""),
        )
    return table


def totals_line(preview) -> Text:
    stats = preview.totals.stats
    base = stats.cost("baseline")
    routed = stats.cost("routed")
    saved = "unknown"
    if base is not None and routed is not None and base > 0:
        saved = f"{fmt_cost(base - routed)} ({(base - routed) / base:.1%})"
    status = preview.totals.status
    text = Text()
    text.append(f"total: {fmt_counts(stats)}; ")
    text.append(
        "share "
        + ", ".join(
            f"{alias} {fmt_share(value)}"
            for alias, value in stats.share(preview.aliases).items()
        )
    )
    text.append(f"; global regression {fmt_points(stats.regression)}")
    text.append(f" (budget {fmt_points(preview.totals.max_regression)}, ")
    text.append(status_word(status), style=STATUS_STYLE[status])
    text.append(f"); cost {fmt_cost(base)} -> {fmt_cost(routed)}, saved {saved}")
    return text


def print_preview(preview, console: Console | None = None) -> None:
    console = console or plain_console()
    policy = preview.policy
    console.print(
        f"policy {policy.name} v{policy.version}, baseline '{policy.budgets.baseline}'"
        f" ({policy.model_for(policy.budgets.baseline)})"
    )
    for dimension in policy.segments:
        console.print(segment_table(preview, dimension))
    console.print(rules_table(preview))
    console.print(exposure_summary(preview.exposure))
    console.print(totals_line(preview))
    totals = preview.totals
    if totals.checks is not None:
        console.print(f"failed checks, all requests: {check_summary(totals) or 'none'}")
        differ = ", ".join(f"{name} {n}" for name, n in totals.pair_checks.items())
        console.print(f"outputs that differ from the baseline's: {differ}")
    failing = len(preview.failing)
    if failing:
        verdict = f"{counted(failing, 'segment')} FAIL their budget"
        console.print(Text(verdict, style="bold red"))
    for warning in preview.warnings:
        console.print(Text(f"warning: {printable(warning)}", style="yellow"))


def print_gate(preview, strict: bool, console: Console | None = None) -> None:
    console = console or plain_console()
    failing = preview.failing
    insufficient = preview.insufficient
    for row in failing:
        console.print(
            Text(
                f"FAIL {row.dimension}={fmt_value(row.value)}: regression"
                f" {fmt_points(row.stats.regression)}"
                f" > budget {fmt_points(row.max_regression)}"
                f" ({row.stats.graded} graded)",
                style="bold red",
            )
        )
    for row in insufficient:
        label = "FAIL" if strict else "note"
        console.print(
            Text(
                f"{label} {row.dimension}={fmt_value(row.value)}:"
                " insufficient evidence,"
                f" {row.stats.graded} graded < min_samples {row.min_samples}",
                style="yellow",
            )
        )
    console.print(totals_line(preview))
    for warning in preview.warnings:
        console.print(Text(f"warning: {printable(warning)}", style="yellow"))
    ungraded = preview.totals.stats.graded == 0
    if ungraded:
        console.print(
            Text(
                "FAIL no request has grades from both the baseline and the routed"
                " model, so no budget can be checked; record grades (routebook run"
                " --grade, or verdicts in the app) or turn on checks.as_grade",
                style="bold red",
            )
        )
    blocked = failing or (strict and insufficient) or ungraded
    if blocked:
        console.print(Text("gate: FAILED", style="bold red"))
    else:
        console.print(Text("gate: passed", style="green"))
