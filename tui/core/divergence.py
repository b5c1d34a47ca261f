"""Output checks applied to a sample: per request, per segment, and as grades.

Each request's outputs are checked once per model, and the baseline model's
output is compared with every other model's output (the pairwise checks).
Results come from a `CheckCache`, so the app's re-preview after each edit
re-runs no check whose output, request and settings are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .checks import (
    OUTPUT_CHECKS,
    PAIR_CHECKS,
    CheckCache,
    CheckResult,
    ChecksConfig,
    OutputInfo,
    RequestInfo,
    grade_from_checks,
)

# Shared by every preview in a process; entries are keyed by content, so a
# cache hit is always valid.
SHARED_CACHE = CheckCache()


@dataclass(slots=True)
class RequestChecks:
    """Check results for one request's outputs."""

    outputs: dict[str, dict[str, CheckResult]] = field(default_factory=dict)
    pairs: dict[str, dict[str, CheckResult]] = field(default_factory=dict)
    # Flag names, worked out once because every preview counts them per segment.
    _failed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _pair_failed: tuple[str, ...] | None = None
    _alias_flags: tuple = ()

    def alias_flags(self, aliases: tuple[tuple[str, str], ...]) -> tuple:
        """(alias, check) for every failed check, for an (alias, model) tuple."""
        if not self._alias_flags or self._alias_flags[0] != aliases:
            flags = tuple(
                (alias, name) for alias, model in aliases for name in self.failed(model)
            )
            self._alias_flags = (aliases, flags)
        return self._alias_flags[1]

    def failed(self, model: str) -> tuple[str, ...]:
        names = self._failed.get(model)
        if names is None:
            results = self.outputs.get(model, {})
            names = tuple(name for name, result in results.items() if result.flag)
            self._failed[model] = names
        return names

    def pair_failed(self) -> tuple[str, ...]:
        """Pairwise checks flagged against the baseline by any other model."""
        if self._pair_failed is None:
            names = set()
            for results in self.pairs.values():
                names.update(name for name, result in results.items() if result.flag)
            self._pair_failed = tuple(sorted(names))
        return self._pair_failed


def request_info(request) -> RequestInfo:
    metadata = request.metadata
    locale = metadata.get("locale") or metadata.get("language")
    expects_json = metadata.get("expects_json")
    return RequestInfo(
        request.prompt_text(),
        locale if isinstance(locale, str) else None,
        expects_json if isinstance(expects_json, bool) else None,
    )


def output_info(output, params: dict | None = None) -> OutputInfo:
    max_tokens = (params or {}).get("max_tokens")
    return OutputInfo(
        output.text,
        output.finish_reason,
        max_tokens if isinstance(max_tokens, int) else None,
        output.completion_tokens,
    )


def check_request(
    request,
    models: Iterable[str],
    baseline_model: str,
    config: ChecksConfig,
    cache: CheckCache = SHARED_CACHE,
    params: dict[str, dict] | None = None,
) -> RequestChecks:
    """Run the enabled checks on every listed model's output for one request."""
    params = params or {}
    info = request_info(request)
    result = RequestChecks()
    outputs = {}
    for model in models:
        output = request.outputs.get(model)
        if output is None or output.text is None:
            continue
        outputs[model] = output_info(output, params.get(model))
        result.outputs[model] = cache.check_output(outputs[model], info, config)

    baseline = outputs.get(baseline_model)
    if baseline is not None:
        for model, other in outputs.items():
            if model != baseline_model:
                result.pairs[model] = cache.check_pair(baseline, other, info, config)
    return result


def check_grade(
    recorded: float | None, checks: RequestChecks | None, model: str, config
) -> float | None:
    """The recorded grade, or else one derived from the opted-in checks."""
    if recorded is not None or checks is None or not config.as_grade:
        return recorded
    results = checks.outputs.get(model)
    if not results:
        return None
    return grade_from_checks(results, config)


def count_checks(rows, aliases: dict[str, str]) -> tuple[dict, dict]:
    """Count failing requests per alias and check, and per pairwise check.

    `aliases` maps alias to model string. Returns (`checks`, `pair_checks`)
    in the preview JSON's shape: {alias: {check: n}} and {check: n}.
    """
    per_alias = {alias: dict.fromkeys(OUTPUT_CHECKS, 0) for alias in aliases}
    pairs = dict.fromkeys(PAIR_CHECKS, 0)
    key = tuple(aliases.items())
    for row in rows:
        checks = row.checks
        if checks is None:
            continue
        for alias, name in checks.alias_flags(key):
            per_alias[alias][name] += 1
        for name in checks.pair_failed():
            pairs[name] += 1
    return per_alias, pairs
