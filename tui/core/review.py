"""Reviewing samples: filters over preview rows, verdicts and output differences.

The app's Samples and Compare screens are thin views over these functions. A
row is a `preview.RoutedRequest`. A grade counts as right at 0.5 or more, so
"baseline right, routed wrong" means a baseline grade of at least 0.5 and a
routed grade below 0.5.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

RIGHT_GRADE = 0.5

# Word diffs are computed only when both outputs have at most this many words;
# SequenceMatcher is quadratic in the worst case, and a diff of two long
# outputs marks most of both anyway.
MAX_DIFF_WORDS = 2_000

# A verdict on an output and the grade it records (None removes the grade).
VERDICT_GRADES: dict[str, float | None] = {
    "acceptable": 1.0,
    "unacceptable": 0.0,
    "skip": None,
}


class _AnySegment:
    """Sentinel for "every segment value", distinct from None (value missing)."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _AnySegment()

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class SampleFilter:
    """Filter for the preview rows the Samples screen lists; empty fields match all."""

    dimension: str | None = None
    value: Any = ANY  # the segment value; None selects requests without one
    model: str | None = None  # routed model string
    rule_index: int | None = None  # `len(policy.rules)` selects the default
    regressed_only: bool = False  # baseline right and routed wrong
    failed_check_only: bool = False
    text: str = ""


@dataclass(frozen=True)
class ComparePair:
    """The two models whose outputs the Compare screen puts side by side."""

    baseline: str
    other: str
    routed: str
    cheaper: str  # the model the reviewer's verdict grades


# --- filtering ----------------------------------------------------------------


def is_regressed(row: Any) -> bool:
    """Return whether the baseline model was right and the routed one wrong."""
    if row.baseline_grade is None or row.routed_grade is None:
        return False
    return row.baseline_grade >= RIGHT_GRADE and row.routed_grade < RIGHT_GRADE


def in_segment(row: Any, dimension: str | None, value: Any) -> bool:
    if dimension is None or value is ANY:
        return True
    return row.segments.get(dimension) == value


def search_text(row: Any) -> str:
    """Return the lower-cased text a search looks in: id, prompt and outputs."""
    request = row.request
    parts = [request.id, request.prompt_text()]
    parts.extend(output.text for output in request.outputs.values() if output.text)
    return "\n".join(parts).casefold()


def filter_rows(
    rows: Iterable[Any],
    sample_filter: SampleFilter,
    failed_check: Callable[[Any], bool] | None = None,
) -> list[Any]:
    """Return the rows that pass every set field of `sample_filter`, in order.

    `failed_check(row)` returns whether an output check flagged the row; without
    it, `failed_check_only` selects nothing.
    """
    needle = sample_filter.text.casefold().strip()
    selected = []
    for row in rows:
        if not _passes(row, sample_filter, failed_check):
            continue
        if needle and needle not in search_text(row):
            continue
        selected.append(row)
    return selected


def _passes(row, sample_filter: SampleFilter, failed_check) -> bool:
    if not in_segment(row, sample_filter.dimension, sample_filter.value):
        return False
    if sample_filter.model is not None and row.model != sample_filter.model:
        return False
    if sample_filter.rule_index is not None:
        if row.rule_index != sample_filter.rule_index:
            return False
    if sample_filter.regressed_only and not is_regressed(row):
        return False
    if sample_filter.failed_check_only:
        return failed_check is not None and failed_check(row)
    return True


def step(ids: Sequence[str], current: str | None, offset: int) -> str | None:
    """Return the id `offset` places from `current` in `ids`, clamped to the ends.

    When `current` is not in `ids` (the filter changed), the first id is returned.
    """
    if not ids:
        return None
    try:
        position = ids.index(current)
    except ValueError:
        return ids[0]
    return ids[max(0, min(len(ids) - 1, position + offset))]


# --- comparing ----------------------------------------------------------------


def compare_pair(
    row: Any,
    baseline_model: str,
    models: Sequence[str],
    cost: Callable[[str], float | None],
) -> ComparePair:
    """Choose the two models to compare for one routed request.

    The baseline model is one side. The other is the routed model, or, when
    the request stays on the baseline, the first other policy model with a
    recorded output (else the first other model). The cheaper one is the
    model with the lower `cost(model)`. When a cost is unknown or both are
    equal, the model that is not the baseline counts as cheaper, because
    routing exists to move traffic off the baseline.
    """
    other = row.model
    if other == baseline_model:
        others = [model for model in models if model != baseline_model]
        recorded = [model for model in others if model in row.request.outputs]
        other = (recorded or others or [baseline_model])[0]

    cheaper = other
    baseline_cost, other_cost = cost(baseline_model), cost(other)
    if baseline_cost is not None and other_cost is not None:
        if baseline_cost < other_cost:
            cheaper = baseline_model
    return ComparePair(baseline_model, other, row.model, cheaper)


def verdict_grade(verdict: str) -> float | None:
    """Return the grade a verdict records; raise ValueError for an unknown one."""
    try:
        return VERDICT_GRADES[verdict]
    except KeyError:
        known = ", ".join(VERDICT_GRADES)
        raise ValueError(f"unknown verdict {verdict!r}; known: {known}") from None


def reviewer_name(
    environ: Mapping[str, str] | None = None,
    git_user: Callable[[], str | None] | None = None,
) -> str:
    """Return who is reviewing: $USER, else `git config user.name`, else "unknown"."""
    environ = os.environ if environ is None else environ
    name = environ.get("USER", "").strip()
    if name:
        return name
    name = (git_user or _git_user_name)() or ""
    return name.strip() or "unknown"


def _git_user_name() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "config", "user.name"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout if completed.returncode == 0 else None


# --- output checks --------------------------------------------------------------


def row_check_results(row: Any, baseline: str, other: str) -> dict[str, dict[str, Any]]:
    """Return {model: {check name: CheckResult}} for the two compared outputs.

    The results are the ones the preview computed (`row.checks`, a
    divergence.RequestChecks); empty when checks did not run. Pairwise checks
    compare the baseline output with the other one and are filed under the
    other model, because their spans point into its text.
    """
    checks = getattr(row, "checks", None)
    if checks is None:
        return {}
    results: dict[str, dict[str, Any]] = {}
    for model in (baseline, other):
        if model in checks.outputs:
            results[model] = dict(checks.outputs[model])
    if other != baseline and other in checks.pairs:
        results.setdefault(other, {}).update(checks.pairs[other])
    return results


def flagged(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, Any]]:
    """List (model, check name, result) for every check that flagged an output."""
    return [
        (model, name, result)
        for model, by_name in results.items()
        for name, result in by_name.items()
        if result.flag
    ]


# --- differences --------------------------------------------------------------


def word_diff(
    left: str, right: str, max_words: int = MAX_DIFF_WORDS
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]] | None:
    """Return the character spans of words that differ, in `left` and in `right`.

    Words are runs of non-space characters. Returns None when either text has
    more than `max_words` words.
    """
    left_words = [match.span() for match in _WORD.finditer(left)]
    right_words = [match.span() for match in _WORD.finditer(right)]
    if len(left_words) > max_words or len(right_words) > max_words:
        return None

    matcher = difflib.SequenceMatcher(
        None,
        [left[start:end] for start, end in left_words],
        [right[start:end] for start, end in right_words],
        autojunk=False,
    )
    left_spans: list[tuple[int, int]] = []
    right_spans: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            left_spans.append((left_words[i1][0], left_words[i2 - 1][1]))
        if j2 > j1:
            right_spans.append((right_words[j1][0], right_words[j2 - 1][1]))
    return left_spans, right_spans
