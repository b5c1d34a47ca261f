"""State shared by the Samples and Compare screens: filter and current request.

Output check results come with the preview (each row's `checks`), so filtering
on them needs no extra work here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tui.core.review import (
    ComparePair,
    SampleFilter,
    compare_pair,
    filter_rows,
    flagged,
    row_check_results,
)


class ReviewState:
    """Review state kept by the app for the Samples and Compare screens."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.filter = SampleFilter()
        self.current_id: str | None = None
        self._filtered_key: tuple | None = None
        self._filtered: list[Any] = []

    def rows(self) -> list[Any]:
        """Return the preview rows that pass the filter, in sample order."""
        preview = self.app.preview
        if preview is None:
            return []
        key = (id(preview), self.filter)
        if key != self._filtered_key:
            self._filtered = filter_rows(preview.rows, self.filter, self.failed_check)
            self._filtered_key = key
        return self._filtered

    def set_filter(self, **changes: Any) -> bool:
        """Change filter fields; return whether the filter changed."""
        updated = replace(self.filter, **changes)
        if updated == self.filter:
            return False
        self.filter = updated
        return True

    def pair_for(self, row: Any) -> ComparePair:
        """Return the models to compare for a row; the cheaper one gets the verdict."""
        policy = self.app.preview.policy
        baseline = policy.model_for(policy.budgets.baseline)
        models = [spec.model for spec in policy.models.values()]

        def cost(model: str) -> float | None:
            if model == baseline:
                return row.baseline_cost
            if model == row.model:
                return row.routed_cost
            return None

        return compare_pair(row, baseline, models, cost)

    def check_results(self, row: Any, pair: ComparePair | None = None) -> dict:
        """Return {model: {check: CheckResult}} for the row's two compared outputs."""
        pair = pair or self.pair_for(row)
        return row_check_results(row, pair.baseline, pair.other)

    def failed_check(self, row: Any) -> bool:
        return bool(flagged(self.check_results(row)))

    def check_flags(self, row: Any) -> list[str] | None:
        """Return "model: check" per flag, or None when checks did not run."""
        if getattr(row, "checks", None) is None:
            return None
        results = self.check_results(row)
        return [f"{model}: {name}" for model, name, _ in flagged(results)]
