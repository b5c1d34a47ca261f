"""The check, preview and gate commands: the core, then a report on stdout."""

from __future__ import annotations

import json
import sys

from .core.problems import InputError, Problem
from .format import counted, invalid_sample_message

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def print_problems(problems: list[Problem], stream=None) -> None:
    from .format import printable

    stream = stream or sys.stderr
    for problem in problems:
        print(printable(problem.format()), file=stream)


def load_valid_policy(path: str):
    """Load a policy, or print its problems and raise SystemExit(1)."""
    from .core.policy import load_policy

    result = load_policy(path)
    if not result.ok:
        print_problems(result.problems)
        errors = sum(1 for p in result.problems if p.is_error)
        print(
            f"routebook: {path}: {counted(errors, 'error')}; fix"
            f" {'it' if errors == 1 else 'them'} and run again",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_FAILED)
    print_problems(result.problems)
    return result.policy


def load_sample_for(policy, path: str):
    """Load a sample; errors in it stop the command with exit code 2."""
    from .core.samples import load_sample

    known = {spec.model for spec in policy.models.values()}
    sample = load_sample(path, known_models=known)
    errors = [p for p in sample.problems if p.is_error]
    print_problems(sample.problems)
    if errors:
        raise InputError(invalid_sample_message(path, errors, "preview"))
    if not sample.requests:
        raise InputError(f"{path}: the sample has no requests")
    return sample


def check(path: str) -> int:
    from .core.policy import load_policy

    result = load_policy(path)
    print_problems(result.problems, sys.stdout)
    errors = sum(1 for p in result.problems if p.is_error)
    warnings = len(result.problems) - errors
    if errors:
        found = f"{counted(errors, 'error')}, {counted(warnings, 'warning')}"
        print(f"{path}: invalid, {found}")
        return EXIT_FAILED
    policy = result.policy
    print(
        f"{path}: valid, policy '{policy.name}' version {policy.version},"
        f" {counted(len(policy.rules), 'rule')}, {counted(warnings, 'warning')}"
    )
    return EXIT_OK


def run_preview(policy_path: str, sample_path: str, checks: bool = False):
    """Load both files and compute the preview.

    Without `checks`, the output checks run only when the policy grades with
    them (`checks.as_grade`), which is all the gate needs.
    """
    from .core.preview import compute_preview

    policy = load_valid_policy(policy_path)
    sample = load_sample_for(policy, sample_path)
    if not checks:
        checks = bool(policy.checks and policy.checks.as_grade)
    return compute_preview(policy, sample.requests, checks=checks)


def preview(
    policy_path: str, sample_path: str, output_format: str, checks: bool = True
) -> int:
    result = run_preview(policy_path, sample_path, checks)
    if output_format == "json":
        json.dump(result.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    from .report import print_preview

    print_preview(result)
    return EXIT_OK


def gate(policy_path: str, sample_path: str, strict: bool, output_format: str) -> int:
    result = run_preview(policy_path, sample_path)
    failing = result.failing
    insufficient = result.insufficient if strict else []
    # A sample without a single graded request has no evidence either way;
    # passing it would let any policy through.
    ungraded = result.totals.stats.graded == 0
    blocked = bool(failing or insufficient or ungraded)
    if output_format == "json":
        payload = {
            "policy": {"name": result.policy.name, "version": result.policy.version},
            "passed": not blocked,
            "ungraded": ungraded,
            "strict": strict,
            "failing": [row.to_json() for row in failing],
            "insufficient": [row.to_json() for row in result.insufficient],
            "totals": result.to_json()["totals"],
        }
        json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        from .report import print_gate

        print_gate(result, strict)
    return EXIT_FAILED if blocked else EXIT_OK
