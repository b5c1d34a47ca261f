"""Preview: what a policy does to a sample, per segment and in total.

For each request the preview records where it is routed, its grades under the
baseline model and under the routed model, and the cost of both. Segments
then aggregate those rows. The JSON form (`Preview.to_json`) is a contract
that users' CI reads, so its keys change only with a new schema.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .conditions import FieldRef
from .evaluate import compile_getters, compile_match_mask
from .features import RequestFeatures
from .policy import Policy
from .router import Router
from .stats import GroupStats, status_for


@dataclass(slots=True)
class RoutedRequest:
    """One request after routing: the row every view of the preview reads."""

    request: Any  # samples.Request
    features: RequestFeatures
    rule_index: int
    alias: str
    model: str
    baseline_grade: float | None
    routed_grade: float | None
    baseline_cost: float | None
    routed_cost: float | None
    segments: dict[str, Any]
    checks: Any = None  # divergence.RequestChecks, when checks ran

    @property
    def graded(self) -> bool:
        return self.baseline_grade is not None and self.routed_grade is not None


@dataclass
class SegmentRow:
    dimension: str | None  # None for the totals row
    value: Any
    stats: GroupStats
    max_regression: float
    min_samples: int
    aliases: list[str]
    checks: dict | None = None  # {alias: {check: failing requests}}
    pair_checks: dict | None = None  # {check: requests whose outputs differ}
    members: list = field(default_factory=list, repr=False)  # its RoutedRequests

    @property
    def status(self) -> str:
        return status_for(
            self.stats.graded,
            self.stats.regression,
            self.max_regression,
            self.min_samples,
        )

    def to_json(self) -> dict:
        stats = self.stats
        interval = stats.regression_interval()
        return {
            "dimension": self.dimension,
            "value": self.value,
            "requests": stats.requests,
            "graded": stats.graded,
            "share": stats.share(self.aliases),
            "baseline_quality": stats.baseline_quality,
            "routed_quality": stats.routed_quality,
            "regression": stats.regression,
            "regression_interval": list(interval) if interval else None,
            "max_regression": self.max_regression,
            "min_samples": self.min_samples,
            "status": self.status,
            "baseline_cost": stats.cost("baseline"),
            "routed_cost": stats.cost("routed"),
            "checks": self.checks,
            "pair_checks": self.pair_checks,
        }


@dataclass
class RuleRow:
    name: str
    route: str
    matched: float  # weighted requests this rule routed (first match)
    matches_alone: float  # weighted requests its condition holds for, in isolation
    status: str  # "ok", "unmatched" or "shadowed"
    shadowed_by: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "route": self.route,
            "matched": self.matched,
            "matches_alone": self.matches_alone,
            "status": self.status,
            "shadowed_by": self.shadowed_by,
        }


@dataclass
class Exposure:
    field: str
    tenants: dict[Any, GroupStats]
    aliases: list[str]
    missing: int  # requests without the tenant field

    @property
    def mixed(self) -> list[Any]:
        return [
            t
            for t, s in self.tenants.items()
            if sum(1 for v in s.by_alias.values() if v > 0) > 1
        ]

    def to_json(self) -> dict:
        return {
            "field": self.field,
            "tenants": [
                {
                    "tenant": tenant,
                    "requests": stats.requests,
                    "share": stats.share(self.aliases),
                }
                for tenant, stats in sorted(
                    self.tenants.items(), key=lambda item: str(item[0])
                )
            ],
            "tenant_count": len(self.tenants),
            "mixed_tenants": len(self.mixed),
            "requests_without_tenant": self.missing,
        }


@dataclass
class Preview:
    policy: Policy
    rows: list[RoutedRequest]
    totals: SegmentRow
    segments: list[SegmentRow]
    rules: list[RuleRow]
    exposure: Exposure
    warnings: list[str]

    @property
    def aliases(self) -> list[str]:
        return self.policy.aliases

    def dimension_rows(self, dimension: str) -> list[SegmentRow]:
        return [row for row in self.segments if row.dimension == dimension]

    @property
    def failing(self) -> list[SegmentRow]:
        return [row for row in self.segments if row.status == "fail"]

    @property
    def insufficient(self) -> list[SegmentRow]:
        return [row for row in self.segments if row.status == "insufficient"]

    def to_json(self) -> dict:
        totals = self.totals.to_json()
        return {
            "policy": {"name": self.policy.name, "version": self.policy.version},
            "baseline": self.policy.budgets.baseline,
            "requests": self.totals.stats.requests,
            "graded": self.totals.stats.graded,
            "totals": {
                key: totals[key]
                for key in (
                    "share",
                    "baseline_quality",
                    "routed_quality",
                    "regression",
                    "regression_interval",
                    "max_regression",
                    "status",
                    "baseline_cost",
                    "routed_cost",
                    "checks",
                    "pair_checks",
                )
            },
            "rules": [rule.to_json() for rule in self.rules],
            "segments": [row.to_json() for row in self.segments],
            "exposure": self.exposure.to_json(),
            "warnings": self.warnings,
        }


# --- computing ----------------------------------------------------------------


GradeFn = Callable[[Any, str], float | None]


def recorded_grade(request, model: str) -> float | None:
    output = request.outputs.get(model)
    return None if output is None else output.grade


def compute_preview(*args, **kwargs) -> Preview:
    """Route every request and aggregate per segment, per rule and per tenant.

    See `_compute_preview` for the arguments. The cyclic garbage collector is
    paused meanwhile, because the preview allocates a few objects per request
    and frees none. Each collection would rescan every request of the sample;
    in one measurement on two loaded cores that made a 50k-request preview 10
    to 40% slower.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _compute_preview(*args, **kwargs)
    finally:
        if enabled:
            gc.enable()


def _compute_preview(
    policy: Policy,
    requests: Sequence[Any],
    *,
    router: Router | None = None,
    grade: GradeFn = recorded_grade,
    costs: Any = None,
    checks: bool = True,
    check_cache: Any = None,
    cache: PreviewCache | None = None,
) -> Preview:
    """Route and aggregate; `compute_preview` is the public entry point.

    `grade(request, model)` supplies recorded grades. With `checks`, every
    output is checked (see divergence.py), segments count the failures, and
    checks the policy lists under `checks.as_grade` grade outputs that have no
    grade. `costs` is a CostModel; None builds one from LiteLLM's price map.
    `cache` keeps the work that does not depend on the rules (derived features,
    check results) for the next preview of the same requests. `router` must be
    compiled from `policy`. Its routes name each rule's alias, and the rule that
    fires is read from the policy's conditions compiled into a match mask.
    """
    router = router or Router(policy)
    if costs is None:
        from .costing import CostModel

        costs = CostModel(policy)
    baseline_model = policy.model_for(policy.budgets.baseline)
    checker = _Checker.build(policy, baseline_model, check_cache) if checks else None
    routing = _RoutingPass(policy, router, baseline_model, grade, costs, checker, cache)
    routing.route_all(requests)
    rows = routing.rows

    aliases = policy.aliases
    totals = SegmentRow(
        None, None, _aggregate(rows), *policy.budget_for(None, None), aliases
    )
    totals.members = rows
    segments = _segment_rows(policy, routing.groups, aliases)
    if checker is not None:
        checker.count(totals, rows)
        for segment in segments:
            checker.count(segment, segment.members)
    rules = _rule_rows(policy, routing)
    exposure = Exposure(
        policy.exposure_field.name, routing.tenants, aliases, routing.missing_tenant
    )
    warnings = _warnings(policy, rules, costs, totals)
    warnings.extend(_unused_output_models(policy, requests))
    return Preview(policy, rows, totals, segments, rules, exposure, warnings)


class PreviewCache:
    """Per-request work that no rule edit changes, kept between previews.

    Entries hold their request, so an id reused by a new object never hits a
    stale entry. Because the cache keeps the requests alive, create one per
    loaded sample.
    """

    def __init__(self):
        self._entries: dict[int, tuple[Any, dict]] = {}

    def entry(self, request) -> dict:
        item = self._entries.get(id(request))
        if item is None or item[0] is not request:
            item = (request, {})
            self._entries[id(request)] = item
        return item[1]


class _Checker:
    """Runs output checks for the preview and turns opted-in checks into grades."""

    def __init__(self, policy, baseline_model, cache):
        # Imported here, not at the top, because the checks pull in the
        # language detector, which the app's first screen does not need.
        from . import divergence

        self.divergence = divergence
        self.config = policy.checks
        self.cache = cache or divergence.SHARED_CACHE
        self.baseline_model = baseline_model
        self.models = {alias: spec.model for alias, spec in policy.models.items()}
        self.params = {spec.model: spec.params for spec in policy.models.values()}
        self.key = (
            "checks",
            self.config.fingerprint(),
            baseline_model,
            repr(sorted(self.params.items())),
        )

    @classmethod
    def build(cls, policy, baseline_model, cache):
        if policy.checks is None or not policy.checks.enabled:
            return None
        return cls(policy, baseline_model, cache)

    def run(self, request, entry: dict | None):
        """Check one request's outputs, reusing and keeping results in `entry`."""
        checks = None if entry is None else entry.get(self.key)
        if checks is None:
            models = set(self.models.values())
            checks = self.divergence.check_request(
                request,
                models,
                self.baseline_model,
                self.config,
                self.cache,
                self.params,
            )
            if entry is not None:
                entry[self.key] = checks
        return checks

    def grade(self, recorded, checks, model):
        if recorded is not None or not self.config.as_grade:
            return recorded
        return self.divergence.check_grade(recorded, checks, model, self.config)

    def count(self, segment: SegmentRow, rows) -> None:
        counts = self.divergence.count_checks(rows, self.models)
        segment.checks, segment.pair_checks = counts


class _RoutingPass:
    """Routes every request, grouping rows by segment and counting rules and tenants.

    It is one loop, with the per-request steps written out in it, because at
    100k requests every extra call or attribute lookup per request shows in the
    preview's time. The rule index is the lowest set bit of the request's rule
    match mask, so one evaluation of the conditions serves both routing and the
    rule table. Every sum adds its requests in sample order, so floating-point
    totals do not depend on how the work is split.
    """

    def __init__(self, policy, router, baseline_model, grade, costs, checker, cache):
        self.policy = policy
        self.routes = router.routes
        self.models = [policy.model_for(alias) for alias in router.routes]
        self.baseline_model = baseline_model
        self.grade = grade
        self.costs = costs
        self.checker = checker
        self.cache = cache

        conditions = [rule.condition for rule in policy.rules]
        self.mask_of = compile_match_mask(conditions)
        self.default_index = len(conditions)
        # One getter reads the segment values and, last, the exposure field.
        refs = [_direct_ref(segment.ref) for segment in policy.segments.values()]
        self.values_of = compile_getters([*refs, policy.exposure_field])
        self.segments_of = _compile_segment_dict(list(policy.segments))

        self.rows: list[RoutedRequest] = []
        # Per segment dimension, in policy order: value -> its RoutedRequests.
        self.groups: list[dict[Any, list]] = [{} for _ in refs]
        # The weighted requests each rule routed (the default last), and those
        # each rule's condition matches in isolation.
        self.fired = [0.0] * (len(conditions) + 1)
        self.alone = [0.0] * len(conditions)
        # Every mask seen -> (index of the rule that fires, indexes of all set bits).
        self.masks: dict[int, tuple[int, tuple[int, ...]]] = {}
        self.tenants: dict[Any, GroupStats] = {}
        self.missing_tenant = 0

    def route_all(self, requests) -> None:
        # Bound to locals: attribute lookups repeated for 100k requests add up.
        rows_append = self.rows.append
        mask_of = self.mask_of
        values_of = self.values_of
        segments_of = self.segments_of
        masks = self.masks
        routes = self.routes
        models = self.models
        fired = self.fired
        alone = self.alone
        groups = self.groups
        tenants = self.tenants
        request_cost = self.costs.request_cost
        baseline_model = self.baseline_model
        grade = self.grade
        recorded = grade is recorded_grade
        checker = self.checker
        cache = self.cache
        tokenizer_model = self.policy.tokenizer_model

        for request in requests:
            entry = None if cache is None else cache.entry(request)
            features = None if entry is None else entry.get(tokenizer_model)
            if features is None:
                features = RequestFeatures(
                    request.metadata, request.prompt, request.messages, tokenizer_model
                )
                if entry is not None:
                    entry[tokenizer_model] = features

            mask = mask_of(features)
            decoded = masks.get(mask)
            if decoded is None:
                decoded = masks[mask] = _decode_mask(mask, self.default_index)
            index, matched = decoded
            alias = routes[index]
            model = models[index]

            baseline_cost = request_cost(request, baseline_model)
            if model == baseline_model:
                routed_cost = baseline_cost
            else:
                routed_cost = request_cost(request, model)

            if recorded:
                # recorded_grade inlined: the grade of the model's output, if any.
                output = request.outputs.get(baseline_model)
                baseline_grade = None if output is None else output.grade
                output = request.outputs.get(model)
                routed_grade = None if output is None else output.grade
            else:
                baseline_grade = grade(request, baseline_model)
                routed_grade = grade(request, model)

            checks = None
            if checker is not None:
                checks = checker.run(request, entry)
                baseline_grade = checker.grade(baseline_grade, checks, baseline_model)
                routed_grade = checker.grade(routed_grade, checks, model)

            values = values_of(features)
            row = RoutedRequest(
                request,
                features,
                index,
                alias,
                model,
                baseline_grade,
                routed_grade,
                baseline_cost,
                routed_cost,
                segments_of(values),
                checks,
            )
            rows_append(row)

            weight = request.weight
            fired[index] += weight
            for bit in matched:
                alone[bit] += weight

            # zip stops at the last dimension, before the exposure field. Passing
            # strict= would make each call about 0.5 µs slower.
            for members_by_value, value in zip(groups, values):  # noqa: B905
                members = members_by_value.get(value)
                if members is None:
                    members_by_value[value] = [row]
                else:
                    members.append(row)

            tenant = values[-1]
            if tenant is None:
                self.missing_tenant += 1
                continue
            stats = tenants.get(tenant)
            if stats is None:
                stats = tenants[tenant] = GroupStats()
            stats.requests += weight
            by_alias = stats.by_alias
            by_alias[alias] = by_alias.get(alias, 0.0) + weight


def _direct_ref(ref: FieldRef) -> FieldRef:
    """Return the field a segment without a fallback reads, else the segment.

    Both give the same value, and the generated getter reads a plain field
    inline instead of calling a function per segment.
    """
    if ref.kind == "segment" and ref.fallback is None and ref.target is not None:
        return ref.target
    return ref


def _compile_segment_dict(names: list[str]) -> Callable[[tuple], dict]:
    """Compile `segments(values) -> {name: value}` for the policy's dimensions.

    A dict display is about three times faster than `dict(zip(names, values))`.
    The names reach the function as bound constants, never as source text.
    """
    constants = {f"_n{index}": name for index, name in enumerate(names)}
    items = ", ".join(f"_n{index}: v[{index}]" for index in range(len(names)))
    source = f"def segments(v):\n    return {{{items}}}"
    exec(compile(source, "<routebook segment dict>", "exec"), constants)  # noqa: S102
    return constants["segments"]


def _decode_mask(mask: int, default_index: int) -> tuple[int, tuple[int, ...]]:
    """Return the index of the first rule a mask matches and those of all of them.

    The first index is `default_index` when the mask matches no rule.
    """
    matched = tuple(bit for bit in range(mask.bit_length()) if mask >> bit & 1)
    return (matched[0] if matched else default_index), matched


def _aggregate(rows) -> GroupStats:
    stats = GroupStats()
    stats.add_rows(rows)
    return stats


def _segment_rows(policy: Policy, groups, aliases) -> list[SegmentRow]:
    result = []
    for dimension, members_by_value in zip(policy.segments, groups, strict=True):
        for value in sorted(members_by_value, key=_value_order):
            budget, min_samples = policy.budget_for(dimension, value)
            members = members_by_value[value]
            row = SegmentRow(
                dimension, value, _aggregate(members), budget, min_samples, aliases
            )
            row.members = members
            result.append(row)
    return result


def _value_order(value) -> tuple:
    return (value is None, str(value))


def _rule_rows(policy: Policy, routing: _RoutingPass) -> list[RuleRow]:
    count = len(policy.rules)
    fired = routing.fired
    alone = routing.alone
    # A rule is shadowed by the earlier rules that fire on the requests it matches.
    shadowers: list[set[int]] = [set() for _ in range(count)]
    for index, matched in routing.masks.values():
        for bit in matched:
            if index < bit:
                shadowers[bit].add(index)

    result = []
    for index, rule in enumerate(policy.rules):
        status = "ok"
        if alone[index] == 0:
            status = "unmatched"
        elif fired[index] == 0:
            status = "shadowed"
        shadowed_by = []
        if status == "shadowed":
            shadowed_by = [policy.rules[i].name for i in sorted(shadowers[index])]
        result.append(
            RuleRow(
                rule.name, rule.route, fired[index], alone[index], status, shadowed_by
            )
        )
    default = fired[count]
    result.append(RuleRow("default", policy.default, default, default, "ok"))
    return result


def _unused_output_models(policy: Policy, requests) -> list[str]:
    """Warn about recorded outputs under model strings that no alias uses."""
    import difflib

    used = {spec.model for spec in policy.models.values()}
    unused: dict[str, int] = {}
    for request in requests:
        for model in request.outputs:
            if model not in used:
                unused[model] = unused.get(model, 0) + 1
    warnings = []
    for model, count in sorted(unused.items()):
        close = difflib.get_close_matches(model, sorted(used), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        warnings.append(
            f"{count} request(s) have outputs from '{model}', which no alias in"
            f" models: uses{hint}; those outputs are ignored, so bind an alias to"
            " that model string to use them"
        )
    return warnings


def _warnings(policy, rules, costs, totals) -> list[str]:
    warnings = []
    for rule in rules:
        if rule.status == "unmatched":
            warnings.append(f"rule '{rule.name}' matches no request in the sample")
        elif rule.status == "shadowed":
            warnings.append(
                f"rule '{rule.name}' never fires: earlier rules ("
                + ", ".join(rule.shadowed_by)
                + ") take every request it matches"
            )
    warnings.extend(costs.warnings())
    if totals.stats.graded == 0:
        warnings.append(
            "no request has grades for both the baseline and the routed model,"
            " so quality cannot be computed"
        )
    return warnings
