"""`routebook run`: fill in missing outputs by calling the policy's models.

Imported cheaply by the CLI when it builds its parser; the runner, LiteLLM and
Rich are loaded only when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from contextlib import contextmanager

from .format import counted

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Failed requests listed one by one before the rest are only counted.
MAX_FAILURES_SHOWN = 20

DESCRIPTION = """\
Send every request of the sample that has no recorded output to each model of
the policy through LiteLLM, and record the outputs in the sample file. The
estimated tokens and cost are shown first and must be confirmed (or --yes
given). Responses are cached on disk, so a rerun sends nothing twice. Ctrl+C
stops the run and keeps every output received so far. See docs/run.md.
"""

EPILOG = """\
examples:
  routebook run policies/support.yaml --sample fixtures/support.jsonl
  routebook run policy.yaml --sample s.jsonl --models fast --yes --grade
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `run` command; its handler is `cmd_run`."""
    parser = subparsers.add_parser(
        "run",
        help="fill in missing outputs by calling the models through LiteLLM",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    parser.set_defaults(handler=cmd_run)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    from .core.runner import (
        DEFAULT_CONCURRENCY,
        DEFAULT_MAX_RETRIES,
        DEFAULT_TIMEOUT_S,
        MAX_AUTO_PROCESSES,
        WORKER_MIN_REQUESTS,
    )

    parser.add_argument("policy", help="policy YAML file")
    parser.add_argument("--sample", required=True, help="sample JSONL file to fill in")
    parser.add_argument(
        "--models",
        metavar="ALIAS,...",
        help="comma-separated model aliases to run (default: every alias)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="request every output again, recorded or cached",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="send without asking to confirm the estimated cost",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests in flight at once (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds to wait for one response (default {DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--max-retries",
        type=_count,
        default=DEFAULT_MAX_RETRIES,
        metavar="N",
        help="retries of a request that got a 429 or 5xx response"
        f" (default {DEFAULT_MAX_RETRIES})",
    )
    parser.add_argument(
        "--processes",
        type=_positive_int,
        default=None,
        metavar="N",
        help="processes that send the requests, where 1 sends them from this process"
        f" (default: {MAX_AUTO_PROCESSES} worker processes, at most one per CPU"
        f" core, when more than {WORKER_MIN_REQUESTS} requests are to be sent,"
        " else 1)",
    )
    parser.add_argument(
        "--refresh-prices",
        action="store_true",
        help="download LiteLLM's current price map instead of its bundled copy",
    )
    parser.add_argument(
        "--grade",
        action="store_true",
        help="grade new outputs by reference, checks and the policy's judge",
    )


def cmd_run(args) -> int:
    from .commands import load_sample_for, load_valid_policy
    from .core.runner import RunOptions, plan_run, refreshed_price_map

    policy = load_valid_policy(args.policy)
    sample = load_sample_for(policy, args.sample)
    options = RunOptions(
        concurrency=args.concurrency,
        timeout_s=args.timeout,
        max_retries=args.max_retries,
        force=args.force,
        refresh_prices=args.refresh_prices,
        processes=args.processes,
    )
    aliases = _split_aliases(args.models)
    price_map = refreshed_price_map() if args.refresh_prices else None
    plan = plan_run(
        policy, sample, aliases=aliases, force=args.force, price_map=price_map
    )

    print_plan(plan)
    for warning in plan.warnings:
        print(f"routebook: warning: {warning}", file=sys.stderr)
    if plan.jobs and plan.to_send and not _confirm(args, plan.to_send, plan):
        return EXIT_FAILED

    status = EXIT_OK
    if plan.jobs:
        status = asyncio.run(_run_outputs(plan, options))
    if args.grade and status != EXIT_INTERRUPTED:
        grade_status = _grade(args, policy, options, aliases, price_map)
        status = max(status, grade_status)
    return status


def usd(value: float | None) -> str:
    """Format dollars; amounts under a cent keep six decimals, so none shows as 0."""
    from .format import fmt_cost

    if value is not None and 0 < value < 0.000001:
        return "<$0.000001"
    if value is not None and 0 < value < 0.01:
        return f"${value:.6f}"
    return fmt_cost(value)


def _split_aliases(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [alias.strip() for alias in text.split(",") if alias.strip()]


# --- estimate and confirmation -----------------------------------------------------


def print_plan(plan) -> None:

    print(
        f"{plan.sample_path}: {counted(plan.to_send, 'request')} to send,"
        f" {sum(e.cached for e in plan.estimates.values())} answered from the cache,"
        f" {counted(plan.already_recorded, 'output')} already recorded"
    )
    if not plan.jobs:
        return

    rows = [
        (
            "alias",
            "model",
            "send",
            "cached",
            "prompt tok",
            "est. compl. tok",
            "est. cost",
        )
    ]
    for estimate in plan.estimates.values():
        rows.append(
            (
                estimate.alias,
                estimate.model,
                str(estimate.to_send),
                str(estimate.cached),
                f"{estimate.prompt_tokens:,}",
                f"{estimate.completion_tokens:,}",
                usd(estimate.cost_usd) if estimate.to_send else "-",
            )
        )
    _print_table(rows)
    _print_cost_line(plan)
    _print_basis(plan)


def _print_table(rows: list[tuple]) -> None:
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.ljust(width) if index < 2 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + "  ".join(cells).rstrip())


def _print_cost_line(plan) -> None:
    line = f"estimated cost: {usd(plan.known_cost_usd)}"
    unpriced = plan.unpriced_models
    if unpriced:
        line += (
            f" plus unknown for {', '.join(unpriced)} (no price in"
            f" {plan.price_source}; add price: {{input_per_million: ...,"
            " output_per_million: ...} to the alias)"
        )
    print(line)


def _print_basis(plan) -> None:
    from .core.runner import DEFAULT_COMPLETION_TOKENS

    totals: dict[str, int] = {}
    for estimate in plan.estimates.values():
        for basis, count in estimate.completion_basis.items():
            totals[basis] = totals.get(basis, 0) + count
    if not totals:
        return
    labels = {
        "recorded output": "another model's recorded output",
        "max_tokens": "the model's max_tokens",
        "default": f"a default of {DEFAULT_COMPLETION_TOKENS} tokens",
    }
    parts = [f"{labels.get(basis, basis)} ({count})" for basis, count in totals.items()]
    print("completion tokens estimated from " + ", ".join(parts))


def _confirm(args, count: int, plan) -> bool:
    """Ask before spending; without a terminal, require --yes (exit 2 otherwise)."""
    from .core.problems import InputError

    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise InputError(
            "standard input is not a terminal, so the cost of"
            f" {counted(count, 'request')} cannot be confirmed; rerun with --yes to"
            " send them"
        )
    cost = usd(plan.known_cost_usd) if not plan.unpriced_models else "unknown"
    try:
        question = f"Send {counted(count, 'request')}, estimated cost {cost}? [y/N] "
        answer = input(question)
    except EOFError:
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("nothing sent", file=sys.stderr)
    return False


# --- running with a progress bar -----------------------------------------------------


@contextmanager
def _interrupt_sets(cancel: asyncio.Event):
    """Make Ctrl+C set `cancel`, so completed outputs are written, not lost."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, cancel.set)
    except (NotImplementedError, RuntimeError, ValueError):
        # Not the main thread, or no signal support (Windows): Ctrl+C raises
        # KeyboardInterrupt, which still cancels the run and writes outputs.
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _progress_bar(description: str, total: int, status: str = ""):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=False,
    )
    task = progress.add_task(description, total=total, status=status)
    return progress, task


async def _run_outputs(plan, options) -> int:
    from .core.runner import execute_run

    cancel = asyncio.Event()
    # Importing LiteLLM takes seconds before the first request goes out.
    bar, task = _progress_bar("outputs", len(plan.jobs), "importing LiteLLM")

    def on_progress(state) -> None:
        status = (
            f"failed {state.failed}  retries {state.retries}"
            f"  spent {usd(state.cost_usd)}"
        )
        if state.unpriced:
            status += f" + {state.unpriced} unpriced"
        bar.update(task, completed=state.finished, status=status)

    with _interrupt_sets(cancel), bar:
        report = await execute_run(plan, options, progress=on_progress, cancel=cancel)
    return _print_run_report(report, options.force)


def _print_run_report(report, force: bool) -> int:

    state = report.progress
    spent = usd(state.cost_usd)
    if state.unpriced:
        unpriced = counted(state.unpriced, "output")
        spent += f" plus unknown for {unpriced} without a price"
    print(
        f"recorded {counted(report.written, 'output')}"
        f" ({state.from_cache} from the cache),"
        f" {state.failed} failed, spent {spent}"
    )
    _print_failures(
        [(o.job.request_id, o.job.model, o.result.error) for o in report.failures]
    )
    for error in report.write_errors:
        print(f"routebook: error: {error}", file=sys.stderr)

    if report.cancelled:
        remaining = state.total - state.finished
        advice = "run the same command again to send them"
        if force:
            advice = "run without --force to send only the outputs still missing"
        print(
            f"routebook: cancelled; {counted(remaining, 'request')} not sent or not"
            " finished,"
            f" {advice}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if report.failures or report.write_errors:
        return EXIT_FAILED
    return EXIT_OK


def _print_failures(failures: list[tuple[str, str, str | None]]) -> None:
    for request_id, model, error in failures[:MAX_FAILURES_SHOWN]:
        print(
            f"routebook: failed: request {request_id!r}, {model}: {error}",
            file=sys.stderr,
        )
    hidden = len(failures) - MAX_FAILURES_SHOWN
    if hidden > 0:
        more = counted(hidden, "more failed request")
        print(f"routebook: ... and {more}", file=sys.stderr)


# --- grading ----------------------------------------------------------------------


def _grade(args, policy, options, aliases, price_map) -> int:
    """Grade ungraded outputs of the run's models, then judge the rest if possible."""
    from .commands import load_sample_for, print_problems
    from .core.grading import offline_grades, plan_judging, write_grades
    from .core.problems import has_errors
    from .core.runner import select_aliases

    sample = load_sample_for(policy, args.sample)
    models = [policy.models[alias].model for alias in select_aliases(policy, aliases)]
    graded = offline_grades(policy, sample, models)
    print_problems(graded.problems)
    written = write_grades(args.sample, graded)
    by_source = graded.count()
    print(
        f"graded {counted(written, 'output')}: {by_source['reference']} by reference,"
        f" {by_source['check']} by checks"
    )
    offline_status = EXIT_FAILED if has_errors(graded.problems) else EXIT_OK
    if not policy.judge:
        print("no judge in the policy, so outputs without a reference stay ungraded")
        return offline_status

    plan = plan_judging(policy, sample, models, already=graded, price_map=price_map)
    return max(offline_status, _judge(args, plan, options))


def _judge(args, plan, options) -> int:
    from .core.grading import write_grades

    estimate = plan.estimate
    print(
        f"judge {plan.judge_model}: {counted(len(plan.tasks), 'output')} to compare"
        f" with the baseline, {counted(estimate.to_send, 'call')} to send"
        f" ({estimate.cached} cached),"
        f" {estimate.prompt_tokens:,} prompt tokens, estimated cost"
        f" {usd(estimate.cost_usd)}"
    )
    for reason, count in sorted(plan.skipped.items()):
        print(f"  skipped {count}: {reason}")
    if not plan.tasks:
        return EXIT_OK
    if estimate.to_send and not _confirm(args, estimate.to_send, _JudgeCost(estimate)):
        return EXIT_FAILED

    report = asyncio.run(_run_judge(plan, options))
    written = write_grades(args.sample, report.result)
    compared = report.done - len(report.failures)
    print(
        f"judge graded {counted(compared, 'output')} against the baseline and"
        f" {counted(written - compared, 'baseline output')} as 1.0,"
        f" spent {usd(report.cost_usd)}"
    )
    _print_failures([(t.request_id, t.model, reason) for t, reason in report.failures])
    if report.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if report.failures else EXIT_OK


class _JudgeCost:
    """The two plan fields `_confirm` reads, for a judge estimate."""

    def __init__(self, estimate):
        self.known_cost_usd = estimate.cost_usd or 0.0
        self.unpriced_models = [] if estimate.cost_usd is not None else [estimate.model]


async def _run_judge(plan, options):
    from .core.grading import run_judging
    from .core.runner import LLMClient

    cancel = asyncio.Event()
    bar, task = _progress_bar("judge", len(plan.tasks))

    def on_progress(report, total) -> None:
        bar.update(task, completed=report.done, status=f"failed {len(report.failures)}")

    with _interrupt_sets(cancel), bar:
        client = await LLMClient(options).start()
        return await run_judging(
            plan,
            client,
            concurrency=options.concurrency,
            progress=on_progress,
            cancel=cancel,
        )
