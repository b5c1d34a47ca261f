"""Routing: a compiled policy that sends each request to a model alias.

This is the module a service imports. It loads no Textual, Rich or LiteLLM,
so loading a policy and routing requests stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .evaluate import compile_getters, compile_router, explain_condition
from .features import RequestFeatures
from .policy import Policy, load_policy
from .problems import InputError


@dataclass(frozen=True)
class Decision:
    """Where one request goes and why."""

    alias: str
    model: str
    rule: str  # the rule that fired, or "default"
    explanation: list[str]


class Router:
    """A policy compiled once into a function; first matching rule wins."""

    def __init__(self, policy: Policy):
        self.policy = policy
        conditions = [rule.condition for rule in policy.rules]
        self.default_index = len(conditions)
        self.route_index = compile_router(conditions, self.default_index)
        self.routes = [rule.route for rule in policy.rules] + [policy.default]
        self.rule_names = [rule.name for rule in policy.rules] + ["default"]
        self.segment_names = list(policy.segments)
        self.segment_values = compile_getters([s.ref for s in policy.segments.values()])

    def features(self, request: dict) -> RequestFeatures:
        return RequestFeatures.from_dict(request, self.policy.tokenizer_model)

    def route(self, request: dict | RequestFeatures, explain: bool = True) -> Decision:
        """Route a request dict (`prompt` or `messages`, plus `metadata`)."""
        if not isinstance(request, RequestFeatures):
            request = self.features(request)
        index = self.route_index(request)
        alias = self.routes[index]
        lines = self.explain(request, index) if explain else []
        return Decision(
            alias, self.policy.model_for(alias), self.rule_names[index], lines
        )

    def explain(self, request: RequestFeatures, index: int | None = None) -> list[str]:
        """Say, rule by rule, why the request went where it did.

        Each earlier rule gets the first condition that failed, with the
        actual value; the rule that fired gets the comparison that decided it.
        """
        if index is None:
            index = self.route_index(request)
        lines = []
        for position, rule in enumerate(self.policy.rules[: index + 1]):
            outcome = explain_condition(rule.condition, request)
            if position < index:
                lines.append(f"rule '{rule.name}' did not match: {outcome.reason}")
            else:
                lines.append(
                    f"rule '{rule.name}' matched: {outcome.reason} -> {rule.route}"
                )
        if index == self.default_index:
            lines.append(f"no rule matched -> default '{self.policy.default}'")
        return lines


def load_router(path: str | Path) -> Router:
    """Load and compile a policy file for a service; raise InputError if invalid."""
    result = load_policy(path)
    if not result.ok:
        errors = [p.format() for p in result.problems if p.is_error]
        raise InputError(
            f"invalid policy {path}:\n" + "\n".join(errors), result.problems
        )
    return Router(result.policy)
