"""Weighted quality figures for one group of requests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter, mul, sub
from typing import Any


def pick(items: Sequence, indexes: Sequence[int]) -> Sequence:
    """Return the items at these indexes, in the order of the indexes."""
    if len(indexes) == 1:
        return [items[indexes[0]]]
    return itemgetter(*indexes)(items) if indexes else []


@dataclass(slots=True)
class Columns:
    """Requests as parallel sequences, one item per request, in sample order.

    The flags (`graded`, `baseline_known`, `routed_known`, `unit_weights`)
    are worked out from the grades, costs and weights unless given.
    """

    weights: Sequence[float]
    aliases: Sequence[str]
    baseline_grades: Sequence[float | None]
    routed_grades: Sequence[float | None]
    baseline_costs: Sequence[float | None]
    routed_costs: Sequence[float | None]
    graded: Sequence[bool] | None = None  # both grades are known
    baseline_known: Sequence[bool] | None = None
    routed_known: Sequence[bool] | None = None
    # Every weight is 1.0, so a weighted sum is the plain sum of its values,
    # exactly: multiplying by 1.0 changes no float.
    unit_weights: bool | None = None

    def __post_init__(self) -> None:
        if self.graded is None:
            self.graded = [
                baseline is not None and routed is not None
                for baseline, routed in zip(
                    self.baseline_grades, self.routed_grades, strict=True
                )
            ]
        if self.baseline_known is None:
            self.baseline_known = [cost is not None for cost in self.baseline_costs]
        if self.routed_known is None:
            self.routed_known = [cost is not None for cost in self.routed_costs]
        if self.unit_weights is None:
            self.unit_weights = all(weight == 1.0 for weight in self.weights)

    @classmethod
    def of_rows(cls, rows) -> Columns:
        return cls(
            [row.request.weight for row in rows],
            [row.alias for row in rows],
            [row.baseline_grade for row in rows],
            [row.routed_grade for row in rows],
            [row.baseline_cost for row in rows],
            [row.routed_cost for row in rows],
        )

    def pick(self, indexes: Sequence[int]) -> Columns:
        """Return the requests at these indexes, in the order of the indexes."""
        fields = (
            self.weights,
            self.aliases,
            self.baseline_grades,
            self.routed_grades,
            self.baseline_costs,
            self.routed_costs,
            self.graded,
            self.baseline_known,
            self.routed_known,
        )
        return Columns(*(pick(field, indexes) for field in fields), self.unit_weights)


# Two-sided 95% quantile of the standard normal distribution.
Z_95 = 1.959963984540054


@dataclass
class GroupStats:
    """Accumulates the requests of one segment (or of the whole sample).

    `requests` and the per-alias shares are weighted by each request's
    `weight`; `graded` is a plain count, because `min_samples` is a number
    of observations, not of traffic.
    """

    requests: float = 0.0
    count: int = 0
    by_alias: dict[str, float] = field(default_factory=dict)
    graded: int = 0
    graded_weight: float = 0.0
    baseline_sum: float = 0.0
    routed_sum: float = 0.0
    # (weights, baseline grades, routed grades) of the graded requests, one
    # entry per add; `differences` pairs them up only when asked.
    graded_parts: list[tuple[list, list, list]] = field(
        default_factory=list, repr=False
    )
    baseline_cost: float = 0.0
    routed_cost: float = 0.0
    baseline_cost_unknown: int = 0
    routed_cost_unknown: int = 0

    def add_rows(self, rows) -> None:
        """Add RoutedRequest rows, in order."""
        self.add_columns(Columns.of_rows(list(rows)))

    def add_columns(self, columns: Columns) -> None:
        """Add the requests of `columns`, in order.

        This is the preview's hot path, so the loops run in C (`sum`, `map`,
        `compress`). Each sum adds its terms in request order, and every
        preview aggregates through here, so a figure does not depend on which
        path computed it. A grade counts only where both grades are known,
        and an unknown (None) cost is counted apart instead of added.
        """
        weights = columns.weights
        aliases = columns.aliases
        unit = columns.unit_weights
        self.requests += float(len(weights)) if unit else sum(weights)
        self.count += len(weights)
        by_alias = self.by_alias
        for alias in dict.fromkeys(aliases):
            if unit:
                share = float(aliases.count(alias))
            else:
                share = sum(compress(weights, map(alias.__eq__, aliases)))
            by_alias[alias] = by_alias.get(alias, 0.0) + share

        graded = columns.graded
        baseline = list(compress(columns.baseline_grades, graded))
        routed = list(compress(columns.routed_grades, graded))
        if unit:
            graded_weights = [1.0] * len(baseline)
            self.graded_weight += float(len(baseline))
            self.baseline_sum += sum(baseline)
            self.routed_sum += sum(routed)
        else:
            graded_weights = list(compress(weights, graded))
            self.graded_weight += sum(graded_weights)
            self.baseline_sum += sum(map(mul, graded_weights, baseline))
            self.routed_sum += sum(map(mul, graded_weights, routed))
        self.graded += len(baseline)
        self.graded_parts.append((graded_weights, baseline, routed))

        known = columns.baseline_known
        costs = columns.baseline_costs
        self.baseline_cost += _weighted_sum(weights, costs, known, unit)
        self.baseline_cost_unknown += len(known) - sum(known)
        known = columns.routed_known
        costs = columns.routed_costs
        self.routed_cost += _weighted_sum(weights, costs, known, unit)
        self.routed_cost_unknown += len(known) - sum(known)

    def share(self, aliases) -> dict[str, float | None]:
        if self.requests <= 0:
            return {alias: None for alias in aliases}
        return {
            alias: self.by_alias.get(alias, 0.0) / self.requests for alias in aliases
        }

    @property
    def baseline_quality(self) -> float | None:
        if self.graded_weight <= 0:
            return None
        return self.baseline_sum / self.graded_weight

    @property
    def routed_quality(self) -> float | None:
        if self.graded_weight <= 0:
            return None
        return self.routed_sum / self.graded_weight

    @property
    def regression(self) -> float | None:
        if self.graded_weight <= 0:
            return None
        return (self.baseline_sum - self.routed_sum) / self.graded_weight

    @property
    def differences(self) -> list[tuple[float, float]]:
        """(weight, baseline grade minus routed grade) per graded request."""
        pairs = []
        for weights, baseline, routed in self.graded_parts:
            pairs.extend(zip(weights, map(sub, baseline, routed), strict=True))
        return pairs

    def regression_interval(self) -> tuple[float, float] | None:
        """95% interval for the regression, paired over requests.

        Normal approximation of the weighted mean of per-request differences
        (baseline grade minus routed grade). With unit weights the standard
        error is the sample standard deviation over sqrt(n).
        """
        differences = self.differences
        n = len(differences)
        mean = self.regression
        if n < 2 or mean is None:
            return None
        total = self.graded_weight
        spread = sum((w * (d - mean)) ** 2 for w, d in differences)
        variance = spread / (total * total) * n / (n - 1)
        half = Z_95 * math.sqrt(variance)
        return (mean - half, mean + half)

    def cost(self, which: str) -> float | None:
        """Total weighted cost in USD, or None when any request's cost is unknown."""
        if which == "baseline":
            return None if self.baseline_cost_unknown else self.baseline_cost
        return None if self.routed_cost_unknown else self.routed_cost


def _weighted_sum(
    weights: Sequence[float], values: Sequence[Any], known: Sequence[bool], unit: bool
) -> float:
    """Sum weight times value over the requests whose value is known."""
    if unit:
        return sum(compress(values, known))
    return sum(map(mul, compress(weights, known), compress(values, known)))


def status_for(
    graded: int, regression: float | None, budget: float, min_samples: int
) -> str:
    """`insufficient` below min_samples, else `fail` over budget, else `pass`."""
    if graded < min_samples or regression is None:
        return "insufficient"
    # Rounding keeps a regression that equals the budget up to float noise a pass.
    return "fail" if round(regression, 12) > budget else "pass"
