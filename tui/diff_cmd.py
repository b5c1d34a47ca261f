"""The `diff` and `history` commands.

`routebook diff OLD NEW --sample FILE` reports what moves between two versions
of a policy. It exits 0 even when segments fail, because it is a report, and 2
on bad input. `routebook history POLICY` lists the saved versions. Heavy
modules load inside the handlers, because the CLI imports this module on every
run to register the commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .format import counted, invalid_sample_message

EXIT_OK = 0

DIFF_HELP = (
    "what moves between two versions of a policy, per segment: traffic, quality"
    " and cost"
)
SOURCE_HELP = (
    "a policy file, POLICY@N for version N from its history, or git:REV:path"
    " for the file at a git revision"
)


def add_parser(subparsers) -> None:
    """Register the `diff` and `history` subcommands."""
    diff = subparsers.add_parser("diff", help=DIFF_HELP, description=DIFF_HELP)
    diff.add_argument("old", metavar="OLD", help=SOURCE_HELP)
    diff.add_argument("new", metavar="NEW", help=SOURCE_HELP)
    diff.add_argument("--sample", required=True, help="sample JSONL file to route")
    diff.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="output format; markdown fits a pull-request description",
    )
    diff.set_defaults(handler=run_diff)

    history = subparsers.add_parser(
        "history", help="list the saved versions of a policy"
    )
    history.add_argument("policy", help="policy YAML file")
    history.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format"
    )
    history.set_defaults(handler=run_history)


# --- diff ---------------------------------------------------------------------


def run_diff(args) -> int:
    from .core.diff import diff_policies, load_policy_source

    old = load_policy_source(args.old, "OLD")
    new = load_policy_source(args.new, "NEW")
    requests = _load_requests(args.sample, old, new)
    result = diff_policies(old, new, requests, old_source=args.old, new_source=args.new)

    if args.format == "json":
        json.dump(result.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(result, args.sample))
    else:
        print_diff(result)
    return EXIT_OK


def _load_requests(path: str, old, new) -> list:
    """Load the sample with outputs of every model either policy names."""
    from .commands import print_problems
    from .core.problems import InputError
    from .core.samples import load_sample

    known = {spec.model for spec in old.models.values()}
    known |= {spec.model for spec in new.models.values()}
    sample = load_sample(path, known_models=known)
    print_problems(sample.problems)
    errors = [problem for problem in sample.problems if problem.is_error]
    if errors:
        raise InputError(invalid_sample_message(path, errors, "diff"))
    if not sample.requests:
        raise InputError(f"{path}: the sample has no requests; add some requests")
    return sample.requests


def print_diff(result, console=None) -> None:
    """Print the diff as Rich tables: header, summary, changes, segments."""
    from rich.text import Text

    from .report import plain_console

    console = console or plain_console()
    console.print(_title(result))
    console.print(Text(result.summary(), style="bold"))
    for line in _change_lines(result):
        console.print(line)

    changed = [segment for segment in result.segments if segment.changed]
    if changed:
        console.print(_segment_table(changed))
    unchanged = len(result.segments) - len(changed)
    if unchanged:
        console.print(f"{counted(unchanged, 'segment')} unchanged, not shown")
    for note in result.notes:
        console.print(Text(f"note: {note}", style="yellow"))
    for warning in result.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))


def _title(result) -> str:
    old, new = result.old, result.new
    requests = result.totals.requests
    return (
        f"diff {old.name} v{old.version} ({result.old_source}) ->"
        f" {new.name} v{new.version} ({result.new_source}), {requests:g} requests"
    )


def _segment_table(segments):
    from rich.table import Table
    from rich.text import Text

    from .report import STATUS_STYLE

    table = Table(title="segments that changed", title_justify="left")
    for name in ("segment", "requests", "moved", "regression", "budget", "status"):
        table.add_column(name, justify="right" if name == "requests" else "left")
    table.add_column("cost")
    for segment in segments:
        status = Text(_status_word(segment.status_before) + " -> ")
        status.append(
            _status_word(segment.status_after),
            style=STATUS_STYLE.get(segment.status_after, ""),
        )
        table.add_row(
            segment.label,
            f"{segment.requests:g}",
            _moves_cell(segment.moved),
            _arrow(segment.before.regression, segment.after.regression, _points),
            _budget_cell(segment),
            status,
            _arrow(segment.before.cost("routed"), segment.after.cost("routed"), _cost),
        )
    return table


def _change_lines(result) -> list[str]:
    """Describe rule, model, budget and segment-definition changes, one per line."""
    lines = []
    rules = result.rules
    for detail in rules.details:
        lines.append("rule " + _rule_text(detail))
    if rules.default is not None:
        lines.append(
            f"default route {rules.default['before']} -> {rules.default['after']}"
        )
    for change in result.models:
        lines.append("model " + _model_text(change))
    for change in result.budgets:
        lines.append("budget " + _budget_text(change))
    for change in result.segment_definitions:
        lines.append(
            f"segment {change['dimension']} {change['change']}:"
            f" {change['before'] or '-'} -> {change['after'] or '-'}"
        )
    return lines


def _rule_text(detail: dict) -> str:
    name = detail["name"]
    change = detail["change"]
    if change == "added":
        return f"{name} added: when {detail['when_after']} -> {detail['route_after']}"
    if change == "removed":
        return (
            f"{name} removed (was: when {detail['when_before']} ->"
            f" {detail['route_before']})"
        )
    if change == "reordered":
        return (
            f"{name} moved from position {detail['position_before']} to"
            f" {detail['position_after']}"
        )
    parts = []
    if detail["route_changed"]:
        parts.append(f"route {detail['route_before']} -> {detail['route_after']}")
    if detail["condition_changed"]:
        parts.append(f"when {detail['when_before']} -> {detail['when_after']}")
    return f"{name} changed: " + "; ".join(parts)


def _model_text(change: dict) -> str:
    before = change["before"]
    after = change["after"]
    alias = change["alias"]
    if before is None:
        return f"{alias} added: {after['model']}"
    if after is None:
        return f"{alias} removed (was {before['model']})"
    parts = []
    for key in ("model", "params", "price"):
        if before[key] != after[key]:
            parts.append(f"{key} {before[key]} -> {after[key]}")
    return f"{alias} changed: " + "; ".join(parts)


def _budget_text(change: dict) -> str:
    if change["field"] != "overrides":
        return f"{change['field']} {change['before']} -> {change['after']}"
    before = change["before"] or {}
    after = change["after"] or {}
    return (
        f"override when {change['when']} {change['change']}: max_regression"
        f" {before.get('max_regression', '-')} -> {after.get('max_regression', '-')},"
        f" min_samples {before.get('min_samples', '-')} ->"
        f" {after.get('min_samples', '-')}"
    )


def _moves_cell(moved: dict[str, float]) -> str:
    if not moved:
        return "-"
    return ", ".join(f"{move} {count:g}" for move, count in moved.items())


def _budget_cell(segment, arrow: str = "->") -> str:
    before, after = segment.budget_before[0], segment.budget_after[0]
    if before == after:
        return _points(after, signed=False)
    return f"{_points(before, signed=False)} {arrow} {_points(after, signed=False)}"


def _arrow(before, after, fmt, arrow: str = "->") -> str:
    if before == after:
        return fmt(after)
    return f"{fmt(before)} {arrow} {fmt(after)}"


def _points(value, signed: bool = True) -> str:
    from .format import fmt_points

    if value is None:
        return "-"
    if signed:
        return fmt_points(value)
    return f"{value * 100:.1f} pt"


def _cost(value) -> str:
    from .format import fmt_cost

    return fmt_cost(value)


def _status_word(status: str) -> str:
    from .format import status_word

    return status_word(status)


# --- markdown -----------------------------------------------------------------


def render_markdown(result, sample: str) -> str:
    """Render the diff for a pull-request description: summary, segments, changes."""
    old, new = result.old, result.new
    lines = [
        f"### Routing diff: {_md(old.name)} v{old.version} → {_md(new.name)}"
        f" v{new.version}",
        "",
        f"Sample `{sample}`, {result.totals.requests:g} requests."
        f" OLD `{result.old_source}`, NEW `{result.new_source}`.",
        "",
        f"**{_md(result.summary())}**",
        "",
    ]

    changed = [segment for segment in result.segments if segment.changed]
    if changed:
        lines += _markdown_segments(changed)
    else:
        lines += ["No segment changes.", ""]

    changes = _change_lines(result)
    if changes:
        lines += ["**Policy changes**", ""]
        lines += [f"- {_md(line)}" for line in changes]
        lines.append("")
    remarks = [f"note: {note}" for note in result.notes]
    remarks += [f"warning: {warning}" for warning in result.warnings]
    if remarks:
        lines += ["**Notes**", ""]
        lines += [f"- {_md(remark)}" for remark in remarks]
        lines.append("")
    return "\n".join(lines)


def _markdown_segments(segments) -> list[str]:
    lines = [
        "| segment | requests | moved | regression | budget | status | cost |",
        "|---|---:|---|---|---|---|---|",
    ]
    for segment in segments:
        status_after = _status_word(segment.status_after)
        if segment.newly_failing:
            status_after = f"**{status_after}**"
        cells = [
            segment.label,
            f"{segment.requests:g}",
            _moves_cell(segment.moved),
            _arrow(segment.before.regression, segment.after.regression, _points, "→"),
            _budget_cell(segment, "→"),
            f"{_status_word(segment.status_before)} → {status_after}",
            _arrow(
                segment.before.cost("routed"), segment.after.cost("routed"), _cost, "→"
            ),
        ]
        lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
    lines.append("")
    return lines


def _md(text: str) -> str:
    """Escape the pipe, which would end a Markdown table cell."""
    return str(text).replace("|", "\\|")


# --- history ------------------------------------------------------------------


def run_history(args) -> int:
    from .core.versions import list_versions

    versions = list_versions(args.policy)
    if args.format == "json":
        payload = [
            {
                "version": info.version,
                "label": info.label,
                "path": str(info.path),
                "saved_at": info.saved_at,
                "rule_count": info.rule_count,
                "description": info.description,
                "current": info.current,
            }
            for info in versions
        ]
        json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK

    print_history(versions)
    return EXIT_OK


def print_history(versions, console=None) -> None:
    from rich.table import Table

    from .report import plain_console

    console = console or plain_console()
    table = Table(
        title="saved versions (compare with routebook diff POLICY@VERSION ...)",
        title_justify="left",
    )
    table.add_column("version", no_wrap=True)
    table.add_column("saved at", no_wrap=True)
    table.add_column("rules", justify="right")
    table.add_column("description", overflow="ellipsis", no_wrap=True, max_width=40)
    table.add_column("file", no_wrap=True)
    for info in versions:
        label = info.label + (" (current)" if info.current else "")
        # The first line of a long description is enough to tell versions apart.
        description = (info.description or "").strip().split("\n")[0]
        table.add_row(
            label,
            info.saved_at,
            str(info.rule_count),
            description,
            Path(info.path).name,
        )
    console.print(table)
