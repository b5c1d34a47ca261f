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
from itertools import repeat
from typing import Any

from .conditions import Combine, FieldRef
from .evaluate import compile_getters, compile_match_mask
from .features import RequestFeatures
from .policy import Policy
from .router import Router
from .stats import Columns, GroupStats, pick, status_for


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
    layer = _SampleLayer.of(policy, requests, checker, cache)
    routing = _RoutingPass(policy, router, baseline_model, grade, costs, checker)
    routing.route_all(layer)
    rows = routing.rows

    aliases = policy.aliases
    budget = policy.budget_for(None, None)
    totals = SegmentRow(None, None, routing.aggregate(None, None), *budget, aliases)
    totals.members = rows
    segments = _segment_rows(policy, routing, aliases)
    if checker is not None:
        totals.checks, totals.pair_checks = layer.check_counts(checker, None, rows)
        for segment in segments:
            key = (segment.dimension, segment.value)
            counts = layer.check_counts(checker, key, segment.members)
            segment.checks, segment.pair_checks = counts
    # Kept for the next preview once every sum is taken, since taking them
    # reads this pass's predecessor.
    layer.keep_pass(routing.reuse_key, routing)
    rules = _rule_rows(policy, routing)
    exposure = Exposure(
        policy.exposure_field.name, routing.tenants, aliases, routing.missing_tenant
    )
    warnings = _warnings(policy, rules, costs, totals)
    warnings.extend(layer.unused_output_models(policy))
    return Preview(policy, rows, totals, segments, rules, exposure, warnings)


class PreviewCache:
    """Per-request work that no rule edit changes, kept between previews.

    Entries hold their request, so an id reused by a new object never hits a
    stale entry. Because the cache keeps the requests alive, create one per
    loaded sample.
    """

    def __init__(self):
        self._entries: dict[int, tuple[Any, dict]] = {}
        self.layer: tuple[tuple, _SampleLayer] | None = None

    def forget_passes(self) -> None:
        """Recompute every figure next time: grades in the sample changed."""
        if self.layer is not None:
            self.layer[1].forget_passes()

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

    def count(self, rows) -> tuple[dict, dict]:
        return self.divergence.count_checks(rows, self.models)


class _SampleLayer:
    """The part of a sample's preview that no rule edit changes, kept across edits.

    It holds each request's derived features, segment values, tenant and check
    results, the requests of each segment, the check counts of each segment,
    and which requests each rule's condition matches. A rule
    edit re-evaluates only the conditions that changed. The layer is rebuilt
    when anything it depends on changes: the segments, the exposure field, the
    tokenizer or the check settings.
    """

    def __init__(self, policy, requests, checker, cache):
        self.requests = requests
        tokenizer_model = policy.tokenizer_model
        refs = [_direct_ref(segment.ref) for segment in policy.segments.values()]
        # One getter reads the segment values and, last, the exposure field.
        values_of = compile_getters([*refs, policy.exposure_field])
        segments_of = _compile_segment_dict(list(policy.segments))

        self.features: list[RequestFeatures] = []
        self.values: list[tuple] = []
        self.segments: list[dict[str, Any]] = []
        self.checks: list[Any] = []
        self.weights: list[float] = []
        # Per segment dimension, in policy order: value -> indexes of its requests.
        self.groups: list[dict[Any, list[int]]] = [{} for _ in refs]
        for index, request in enumerate(requests):
            entry = None if cache is None else cache.entry(request)
            features = None if entry is None else entry.get(tokenizer_model)
            if features is None:
                features = RequestFeatures(
                    request.metadata, request.prompt, request.messages, tokenizer_model
                )
                if entry is not None:
                    entry[tokenizer_model] = features
            values = values_of(features)
            self.features.append(features)
            self.values.append(values)
            self.segments.append(segments_of(values))
            self.checks.append(None if checker is None else checker.run(request, entry))
            self.weights.append(request.weight)
            # zip stops at the last dimension, before the exposure field.
            for members_by_value, value in zip(self.groups, values):  # noqa: B905
                members = members_by_value.get(value)
                if members is None:
                    members_by_value[value] = [index]
                else:
                    members.append(index)

        # Condition key -> whether that condition matches, per request.
        self._matches: dict[tuple, list[bool]] = {}
        self._masks: tuple[list[tuple], list[int]] | None = None
        self._check_counts: dict[tuple, tuple[dict, dict]] = {}
        self._unused: tuple[frozenset, list[str]] | None = None
        self._last_pass: tuple[tuple, Any] | None = None

    def last_pass(self, key: tuple) -> Any:
        """Return the last routing pass over this layer made with `key`, if kept."""
        if self._last_pass is None or self._last_pass[0] != key:
            return None
        return self._last_pass[1]

    def keep_pass(self, key: tuple, routing: Any) -> None:
        # Only the newest pass is kept, and without its own predecessor, so
        # the passes do not form a chain that keeps every old preview alive.
        routing.previous = None
        self._last_pass = (key, routing)

    def forget_passes(self) -> None:
        """Drop the kept pass: grades in the sample changed."""
        self._last_pass = None

    @classmethod
    def of(cls, policy, requests, checker, cache) -> _SampleLayer:
        """Return the layer for these requests, reusing the one in `cache`."""
        key = (
            policy.tokenizer_model,
            tuple((name, _ref_key(seg.ref)) for name, seg in policy.segments.items()),
            _ref_key(policy.exposure_field),
            None if checker is None else checker.key,
        )
        layer = None if cache is None else cache.layer
        if layer is None or layer[0] != key or layer[1].requests is not requests:
            layer = (key, cls(policy, requests, checker, cache))
            if cache is not None:
                cache.layer = layer
        return layer[1]

    def masks(self, conditions: Sequence[Any]) -> list[int]:
        """Return each request's rule mask: bit i is set where condition i matches."""
        keys = [condition_key(condition) for condition in conditions]
        if self._masks is not None and self._masks[0] == keys:
            return self._masks[1]  # only routes, names or comments changed
        columns = []
        for key, condition in zip(keys, conditions, strict=True):
            matches = self._matches.get(key)
            if matches is None:
                mask_of = compile_match_mask([condition])
                matches = [mask_of(features) == 1 for features in self.features]
            columns.append((key, matches))
        # Conditions no longer in the policy are dropped, so edits do not pile up.
        self._matches = dict(columns)

        masks = [0] * len(self.features)
        for bit, (_, matches) in enumerate(columns):
            flag = 1 << bit
            masks = [
                mask | flag if matched else mask
                for mask, matched in zip(masks, matches, strict=True)
            ]
        self._masks = (keys, masks)
        return masks

    def check_counts(self, checker, group, rows) -> tuple[dict, dict]:
        """Count the failed checks of a segment's requests (`group` None: all).

        Check results do not depend on routing, so each segment is counted
        once per check setting. Callers get copies they may change.
        """
        key = (checker.key, tuple(checker.models.items()), group)
        counts = self._check_counts.get(key)
        if counts is None:
            counts = self._check_counts[key] = checker.count(rows)
        per_alias, pairs = counts
        return {alias: dict(flags) for alias, flags in per_alias.items()}, dict(pairs)

    def unused_output_models(self, policy) -> list[str]:
        used = frozenset(spec.model for spec in policy.models.values())
        if self._unused is None or self._unused[0] != used:
            self._unused = (used, _unused_output_models(policy, self.requests))
        return list(self._unused[1])


def condition_key(condition: Any) -> tuple:
    """Identify what a condition tests, leaving out where it is written."""
    if isinstance(condition, Combine):
        return (condition.op, *(condition_key(item) for item in condition.items))
    return (
        "compare",
        _ref_key(condition.field),
        condition.op,
        _value_key(condition.value),
    )


def _value_key(value: Any) -> Any:
    # The type is part of the key: 1, 1.0 and true compare equal in Python.
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_value_key(item) for item in value))
    return (type(value).__name__, repr(value))


def _ref_key(ref: FieldRef | None) -> Any:
    if ref is None:
        return None
    return (ref.name, ref.kind, ref.path, _ref_key(ref.fallback), _ref_key(ref.target))


class _RoutingPass:
    """Routes every request, counting rules and tenants, then sums segments.

    The per-request steps are written out in one loop, because at 100k
    requests every extra call or attribute lookup per request shows in the
    preview's time. The rule index is the lowest set bit of the request's rule
    match mask, so one evaluation of the conditions serves both routing and the
    rule table. Every sum adds its requests in sample order, so floating-point
    totals do not depend on how the work is split.
    """

    def __init__(self, policy, router, baseline_model, grade, costs, checker):
        self.policy = policy
        self.routes = router.routes
        self.models = [policy.model_for(alias) for alias in router.routes]
        self.baseline_model = baseline_model
        self.grade = grade
        self.costs = costs
        self.checker = checker
        self.default_index = len(policy.rules)
        # What a request's grades and costs depend on besides its model.
        self.reuse_key = (
            id(costs),
            grade,
            baseline_model,
            None if checker is None else checker.key,
        )

        self.layer: _SampleLayer | None = None
        self.rows: list[RoutedRequest] = []
        # One item per request, in sample order, for the segment sums.
        self.aliases: list[str] = []
        self.baseline_grades: list[float | None] = []
        self.routed_grades: list[float | None] = []
        self.baseline_costs: list[float | None] = []
        self.routed_costs: list[float | None] = []
        self.columns: Columns | None = None
        # Per request: whether its alias, grades or costs differ from the
        # last preview's. Every request counts as changed without one.
        self.changed: list[bool] = []
        self.previous: _RoutingPass | None = None
        # Segment (dimension, value), or None for all requests -> its sums.
        self.sums: dict[Any, GroupStats] = {}
        # The weighted requests each rule routed (the default last), and those
        # each rule's condition matches in isolation.
        self.fired = [0.0] * (self.default_index + 1)
        self.alone = [0.0] * self.default_index
        # Every mask seen -> (index of the rule that fires, indexes of all set bits).
        self.masks: dict[int, tuple[int, tuple[int, ...]]] = {}
        self.tenants: dict[Any, GroupStats] = {}
        self.missing_tenant = 0

    def route_all(self, layer: _SampleLayer) -> None:
        self.layer = layer
        request_masks = layer.masks([rule.condition for rule in self.policy.rules])
        # The last preview's rows, when its grades and costs still hold: a
        # request routed to the same model as then keeps its figures.
        previous = layer.last_pass(self.reuse_key)
        self.previous = previous
        previous_rows = repeat(None) if previous is None else previous.rows
        # Bound to locals: attribute lookups repeated for 100k requests add up.
        rows_append = self.rows.append
        aliases_append = self.aliases.append
        baseline_grades_append = self.baseline_grades.append
        routed_grades_append = self.routed_grades.append
        baseline_costs_append = self.baseline_costs.append
        routed_costs_append = self.routed_costs.append
        changed_append = self.changed.append
        masks = self.masks
        routes = self.routes
        models = self.models
        fired = self.fired
        alone = self.alone
        tenants = self.tenants
        costs = self.costs
        request_cost = costs.request_cost
        baseline_model = self.baseline_model
        grade = self.grade
        recorded = grade is recorded_grade
        checker = self.checker

        # Not strict: without a last pass, previous_rows repeats None forever.
        rows = zip(  # noqa: B905
            layer.requests,
            layer.features,
            layer.values,
            layer.segments,
            layer.checks,
            layer.weights,
            request_masks,
            previous_rows,
        )
        for request, features, values, segments, checks, weight, mask, last in rows:
            decoded = masks.get(mask)
            if decoded is None:
                decoded = masks[mask] = _decode_mask(mask, self.default_index)
            index, matched = decoded
            alias = routes[index]
            model = models[index]

            if last is not None and last.model == model:
                baseline_cost = last.baseline_cost
                routed_cost = last.routed_cost
                baseline_grade = last.baseline_grade
                routed_grade = last.routed_grade
                # Warnings count what request_cost would count: unknown costs,
                # and message parts left out of the token count.
                if baseline_cost is None or request.messages is not None:
                    costs.count_reused(request, baseline_model, baseline_cost)
                if model != baseline_model and (
                    routed_cost is None or request.messages is not None
                ):
                    costs.count_reused(request, model, routed_cost)
                if last.rule_index == index and last.alias == alias:
                    row = last
                else:
                    row = None
                changed_append(last.alias != alias)
            else:
                baseline_cost = request_cost(request, baseline_model)
                if model == baseline_model:
                    routed_cost = baseline_cost
                else:
                    routed_cost = request_cost(request, model)
                if recorded:
                    # recorded_grade inlined: the grade of the model's output.
                    output = request.outputs.get(baseline_model)
                    baseline_grade = None if output is None else output.grade
                    output = request.outputs.get(model)
                    routed_grade = None if output is None else output.grade
                else:
                    baseline_grade = grade(request, baseline_model)
                    routed_grade = grade(request, model)
                if checker is not None:
                    baseline_grade = checker.grade(
                        baseline_grade, checks, baseline_model
                    )
                    routed_grade = checker.grade(routed_grade, checks, model)
                row = None
                changed_append(True)

            if row is None:
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
                    segments,
                    checks,
                )
            rows_append(row)
            aliases_append(alias)
            baseline_grades_append(baseline_grade)
            routed_grades_append(routed_grade)
            baseline_costs_append(baseline_cost)
            routed_costs_append(routed_cost)

            fired[index] += weight
            for bit in matched:
                alone[bit] += weight

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

    def aggregate(self, group: Any, members: list[int] | None) -> GroupStats:
        """Sum the requests at these indexes (all of them for None), in order.

        `group` names the segment. When none of its requests changed alias,
        grades or costs since the last preview, that preview's sums are
        reused: they were added in the same order, so they are the same.
        """
        previous = self.previous
        if previous is not None and group in previous.sums:
            flags = self.changed if members is None else pick(self.changed, members)
            if not any(flags):
                stats = self.sums[group] = previous.sums[group]
                return stats

        if self.columns is None:
            self.columns = Columns(
                self.layer.weights,
                self.aliases,
                self.baseline_grades,
                self.routed_grades,
                self.baseline_costs,
                self.routed_costs,
            )
        columns = self.columns if members is None else self.columns.pick(members)
        stats = self.sums[group] = GroupStats()
        stats.add_columns(columns)
        return stats

    def members(self, members: list[int]) -> list[RoutedRequest]:
        return list(pick(self.rows, members))


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


def _segment_rows(policy: Policy, routing: _RoutingPass, aliases) -> list[SegmentRow]:
    result = []
    groups = routing.layer.groups
    for dimension, members_by_value in zip(policy.segments, groups, strict=True):
        for value in sorted(members_by_value, key=_value_order):
            budget, min_samples = policy.budget_for(dimension, value)
            indexes = members_by_value[value]
            row = SegmentRow(
                dimension,
                value,
                routing.aggregate((dimension, value), indexes),
                budget,
                min_samples,
                aliases,
            )
            row.members = routing.members(indexes)
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
