"""Weighted quality figures for one group of requests."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
    differences: list[tuple[float, float]] = field(default_factory=list)
    baseline_cost: float = 0.0
    routed_cost: float = 0.0
    baseline_cost_unknown: int = 0
    routed_cost_unknown: int = 0

    def add(
        self, weight, alias, baseline_grade, routed_grade, baseline_cost, routed_cost
    ):
        self.requests += weight
        self.count += 1
        self.by_alias[alias] = self.by_alias.get(alias, 0.0) + weight
        if baseline_grade is not None and routed_grade is not None:
            self.graded += 1
            self.graded_weight += weight
            self.baseline_sum += weight * baseline_grade
            self.routed_sum += weight * routed_grade
            self.differences.append((weight, baseline_grade - routed_grade))
        if baseline_cost is None:
            self.baseline_cost_unknown += 1
        else:
            self.baseline_cost += weight * baseline_cost
        if routed_cost is None:
            self.routed_cost_unknown += 1
        else:
            self.routed_cost += weight * routed_cost

    def add_rows(self, rows) -> None:
        """Add many RoutedRequest rows in one tight loop (the preview's hot path)."""
        by_alias = self.by_alias
        differences = self.differences
        requests = count = graded = 0
        graded_weight = baseline_sum = routed_sum = 0.0
        baseline_cost = routed_cost = 0.0
        baseline_unknown = routed_unknown = 0
        for row in rows:
            weight = row.request.weight
            requests += weight
            count += 1
            alias = row.alias
            by_alias[alias] = by_alias.get(alias, 0.0) + weight
            baseline_grade = row.baseline_grade
            routed_grade = row.routed_grade
            if baseline_grade is not None and routed_grade is not None:
                graded += 1
                graded_weight += weight
                baseline_sum += weight * baseline_grade
                routed_sum += weight * routed_grade
                differences.append((weight, baseline_grade - routed_grade))
            if row.baseline_cost is None:
                baseline_unknown += 1
            else:
                baseline_cost += weight * row.baseline_cost
            if row.routed_cost is None:
                routed_unknown += 1
            else:
                routed_cost += weight * row.routed_cost

        self.requests += requests
        self.count += count
        self.graded += graded
        self.graded_weight += graded_weight
        self.baseline_sum += baseline_sum
        self.routed_sum += routed_sum
        self.baseline_cost += baseline_cost
        self.routed_cost += routed_cost
        self.baseline_cost_unknown += baseline_unknown
        self.routed_cost_unknown += routed_unknown

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

    def regression_interval(self) -> tuple[float, float] | None:
        """95% interval for the regression, paired over requests.

        Normal approximation of the weighted mean of per-request differences
        (baseline grade minus routed grade). With unit weights the standard
        error is the sample standard deviation over sqrt(n).
        """
        n = len(self.differences)
        mean = self.regression
        if n < 2 or mean is None:
            return None
        total = self.graded_weight
        spread = sum((w * (d - mean)) ** 2 for w, d in self.differences)
        variance = spread / (total * total) * n / (n - 1)
        half = Z_95 * math.sqrt(variance)
        return (mean - half, mean + half)

    def cost(self, which: str) -> float | None:
        """Total weighted cost in USD, or None when any request's cost is unknown."""
        if which == "baseline":
            return None if self.baseline_cost_unknown else self.baseline_cost
        return None if self.routed_cost_unknown else self.routed_cost


def status_for(
    graded: int, regression: float | None, budget: float, min_samples: int
) -> str:
    """`insufficient` below min_samples, else `fail` over budget, else `pass`."""
    if graded < min_samples or regression is None:
        return "insufficient"
    # Rounding keeps a regression that equals the budget up to float noise a pass.
    return "fail" if round(regression, 12) > budget else "pass"
