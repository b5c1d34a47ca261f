"""Previews of one sample, recomputed each time the edited policy changes.

The editor requests a new preview after every valid edit. What a request costs
under a model depends only on the request, the model and the policy's price
overrides, so those costs are computed once per sample and reused. Routing and
aggregation run again each time the policy's content changes. An edit that
changes only comments, the name, the version or the description reuses the
last preview. One session serves one sample, and `compute` runs one preview at
a time.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from .costing import CostModel
from .preview import Preview, PreviewCache, compute_preview
from .router import Router


class ReusedCosts:
    """A CostModel whose per-request costs are kept across previews.

    `start_run` clears the counters behind `warnings()`. A reused cost counts
    again what it counted when it was computed (an unknown cost, message parts
    left out of the token count), so each preview's warnings describe that
    preview alone.
    """

    def __init__(self, policy: Any):
        self.model = CostModel(policy)
        # (id of the request, model) -> (cost, message parts it left uncounted).
        self._costs: dict[tuple[int, str], tuple[float | None, Counter | None]] = {}

    def start_run(self) -> None:
        self.model.unpriced.clear()
        self.model.missing_output.clear()
        self.model.uncounted_parts.clear()

    def request_cost(self, request: Any, model: str) -> float | None:
        key = (id(request), model)
        stored = self._costs.get(key)
        if stored is None:
            parts = self.model.uncounted_parts
            before = Counter(parts) if request.messages is not None else None
            cost = self.model.request_cost(request, model)
            noted = None if before is None else (parts - before) or None
            self._costs[key] = (cost, noted)
            return cost

        cost, noted = stored
        if cost is None:
            self.model.count_unknown(model)
        elif noted:
            self.model.uncounted_parts.update(noted)
        return cost

    def count_reused(self, request: Any, model: str, cost: float | None) -> None:
        self.request_cost(request, model)

    def warnings(self) -> list[str]:
        return self.model.warnings()


def price_key(policy: Any) -> tuple:
    """Identify the prices a policy sets, so costs are recomputed when they change."""
    return tuple(
        sorted(
            (spec.model, tuple(sorted((spec.price or {}).items())))
            for spec in policy.models.values()
        )
    )


# Top-level keys that no figure of a preview depends on. The judge settings
# are used only by `routebook run --grade`.
_DISPLAY_KEYS = ("name", "version", "description", "judge")


def content_key(policy: Any) -> str | None:
    """Fingerprint what the preview of `policy` depends on, or None if unknown.

    The key is the policy document as plain data without the display keys,
    so comments and layout do not change it while any value or rule order does.
    """
    document = getattr(policy, "document", None)
    if not isinstance(document, dict):
        return None
    plain = {
        str(key): value
        for key, value in document.items()
        if str(key) not in _DISPLAY_KEYS
    }
    return json.dumps(plain, default=repr, ensure_ascii=False)


class PreviewSession:
    """Computes previews of one sample's requests for successive policies."""

    def __init__(self, requests: Sequence[Any]):
        self.requests = requests
        self._cache = PreviewCache()
        self._costs: ReusedCosts | None = None
        self._price_key: tuple | None = None
        self._last: tuple[str, Preview] | None = None
        self._data_version = 0
        self._lock = threading.Lock()

    def compute(
        self, policy: Any, regrade: bool = False, data_version: int = 0
    ) -> tuple[Preview, Router]:
        """Return the preview of `policy` over the sample and the router it used.

        Pass `regrade`, or a new `data_version`, after grades in the sample
        changed, so that an unchanged policy is previewed again instead of
        reusing the last preview.
        """
        with self._lock:
            content = content_key(policy)
            key = None if content is None else f"{data_version}:{content}"
            last = self._last
            if not regrade and key is not None and last and last[0] == key:
                # The router is rebuilt because its explanations and rule
                # positions come from this policy, even when figures do not.
                preview = dataclasses.replace(last[1], policy=policy)
                return preview, Router(policy)

            if regrade or data_version != self._data_version:
                # Grades changed, so no figure of an earlier preview is reused.
                self._cache.forget_passes()
                self._data_version = data_version
            preview, router = self._compute(policy)
            self._last = (key, preview) if key is not None else None
            return preview, router

    def _compute(self, policy: Any) -> tuple[Preview, Router]:
        key = price_key(policy)
        if self._costs is None or key != self._price_key:
            self._costs = ReusedCosts(policy)
            self._price_key = key
        self._costs.start_run()
        router = Router(policy)
        preview = compute_preview(
            policy,
            self.requests,
            router=router,
            costs=self._costs,
            cache=self._cache,
        )
        return preview, router
