"""Evaluation of parsed conditions: a fast compiled path and an explaining path.

`compile_router` turns a policy's rules into one generated Python function,
an if-chain like the one a person would write by hand, so routing costs about
what hand-written code costs. Every literal from the policy reaches that
function as a bound constant, never as source text, so a policy cannot inject
code. `explain_condition` walks the same conditions slowly and reports why each
one held or failed. Tests check that both paths give the same results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .conditions import Combine, Compare, Condition, FieldRef, show_value

NUMBER_TYPES = (int, float)


# --- field access -------------------------------------------------------------


def read_field(ref: FieldRef, request) -> Any:
    """Read a field from a RequestFeatures; None means missing."""
    if ref.kind == "metadata":
        return _read_path(request.metadata, ref.path)
    if ref.kind == "feature":
        return getattr(request, ref.name)
    value = read_field(ref.target, request)
    if value is None and ref.fallback is not None:
        value = read_field(ref.fallback, request)
    return value


def _read_path(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
        if data is None:
            return None
    return data


def _contains(value: Any, item: Any) -> bool:
    if isinstance(value, str):
        return isinstance(item, str) and item in value
    if isinstance(value, list | tuple):
        return item in value
    return False


def _is_in(value: Any, choices: tuple) -> bool:
    try:
        return value in choices
    except TypeError:
        return False


def compare(op: str, value: Any, expected: Any, pattern=None) -> bool:
    """Apply one operator; a missing (None) value always gives False."""
    if value is None:
        return False
    if op == "eq":
        return value == expected
    if op == "ne":
        return value != expected
    if op == "in":
        return _is_in(value, expected)
    if op == "not_in":
        return not _is_in(value, expected)
    if op == "contains":
        return _contains(value, expected)
    if op == "matches":
        return isinstance(value, str) and pattern.search(value)
    if type(value) not in NUMBER_TYPES:
        return False
    if op == "lt":
        return value < expected
    if op == "lte":
        return value <= expected
    if op == "gt":
        return value > expected
    return value >= expected


# --- the compiled path --------------------------------------------------------


class _Generator:
    """Builds the source of one routing function with constants bound by name."""

    def __init__(self):
        self.constants: dict[str, Any] = {
            "_read_path": _read_path,
            "_contains": _contains,
            "_is_in": _is_in,
            "_NUMBERS": NUMBER_TYPES,
        }
        self.segment_functions: list[str] = []
        self._segment_names: dict[int, str] = {}

    def constant(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def field(self, ref: FieldRef) -> str:
        if ref.kind == "metadata":
            if len(ref.path) == 1:
                return f"r.metadata.get({self.constant(ref.path[0])})"
            return f"_read_path(r.metadata, {self.constant(ref.path)})"
        if ref.kind == "feature":
            return f"r.{ref.name}"
        return f"{self._segment_function(ref)}(r)"

    def _segment_function(self, ref: FieldRef) -> str:
        if id(ref) in self._segment_names:
            return self._segment_names[id(ref)]
        name = f"_segment{len(self._segment_names)}"
        self._segment_names[id(ref)] = name
        lines = [f"def {name}(r):", f"    v = {self.field(ref.target)}"]
        if ref.fallback is not None:
            lines += ["    if v is None:", f"        v = {self.field(ref.fallback)}"]
        lines.append("    return v")
        self.segment_functions.append("\n".join(lines))
        return name

    def condition(self, condition: Condition) -> str:
        if isinstance(condition, Combine):
            return self._combine(condition)
        return self._compare(condition)

    def _combine(self, condition: Combine) -> str:
        parts = [self.condition(item) for item in condition.items]
        if condition.op == "not":
            return f"(not {parts[0]})"
        if not parts:
            return "True" if condition.op == "all" else "False"
        joiner = " and " if condition.op == "all" else " or "
        return "(" + joiner.join(parts) + ")"

    def _compare(self, condition: Compare) -> str:
        value = self.field(condition.field)
        op = condition.op
        if op == "matches":
            pattern = self.constant(condition.pattern)
            return f"(type(v := {value}) is str and {pattern}.search(v))"
        expected = self.constant(condition.value)
        if op == "eq":
            return f"((v := {value}) is not None and v == {expected})"
        if op == "ne":
            return f"((v := {value}) is not None and v != {expected})"
        if op == "in":
            return f"((v := {value}) is not None and _is_in(v, {expected}))"
        if op == "not_in":
            return f"((v := {value}) is not None and not _is_in(v, {expected}))"
        if op == "contains":
            return f"_contains({value}, {expected})"
        symbol = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
        return f"(type(v := {value}) in _NUMBERS and v {symbol} {expected})"


def compile_router(
    conditions: Sequence[Condition], default: int
) -> Callable[[Any], int]:
    """Compile rules into `route(request) -> index`, the first rule that matches.

    Returns `default` (the caller's index for the default route) when none does.
    """
    generator = _Generator()
    body = ["def route(r):"]
    for index, condition in enumerate(conditions):
        body.append(f"    if {generator.condition(condition)}:")
        body.append(f"        return {index}")
    body.append(f"    return {default}")

    source = "\n\n".join([*generator.segment_functions, "\n".join(body)])
    namespace = dict(generator.constants)
    exec(compile(source, "<routebook policy>", "exec"), namespace)  # noqa: S102
    return namespace["route"]


def compile_getters(refs: Sequence[FieldRef]) -> Callable[[Any], tuple]:
    """Compile `values(request) -> tuple` reading several fields at once.

    Lists and mappings come back as their `str()`, so every value can serve as
    a dictionary key when requests are grouped by segment, and booleans as
    "true" and "false", because Python's True equals 1 and would merge the
    segments `true` and `1`.
    """
    generator = _Generator()
    generator.constants["_group_key"] = group_key
    generator.constants["_PLAIN"] = frozenset((str, int, float, type(None)))
    items = ", ".join(
        f"(v if (v := {generator.field(ref)}).__class__ in _PLAIN else _group_key(v))"
        for ref in refs
    )
    body = f"def values(r):\n    return ({items}{',' if refs else ''})"
    source = "\n\n".join([*generator.segment_functions, body])
    namespace = dict(generator.constants)
    exec(compile(source, "<routebook segments>", "exec"), namespace)  # noqa: S102
    return namespace["values"]


def group_key(value: Any) -> Any:
    """Convert a segment value into a dictionary key (see `compile_getters`)."""
    if value.__class__ is bool:
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return str(value)
    return value


def compile_match_mask(conditions: Sequence[Condition]) -> Callable[[Any], int]:
    """Compile `mask(request) -> int` with bit i set when condition i holds alone."""
    generator = _Generator()
    body = ["def mask(r):", "    m = 0"]
    for index, condition in enumerate(conditions):
        body.append(f"    if {generator.condition(condition)}:")
        body.append(f"        m |= {1 << index}")
    body.append("    return m")
    source = "\n\n".join([*generator.segment_functions, "\n".join(body)])
    namespace = dict(generator.constants)
    exec(compile(source, "<routebook rules>", "exec"), namespace)  # noqa: S102
    return namespace["mask"]


def compile_condition(condition: Condition) -> Callable[[Any], bool]:
    """Compile one condition into `holds(request) -> bool`."""
    route = compile_router([condition], default=-1)
    return lambda request: route(request) == 0


# --- the explaining path ------------------------------------------------------


@dataclass
class Outcome:
    """Whether a condition held, and the comparison that decided it."""

    held: bool
    reason: str
    missing: bool = False


def explain_condition(condition: Condition, request) -> Outcome:
    """Evaluate a condition and report which comparison decided the result."""
    if isinstance(condition, Compare):
        return _explain_compare(condition, request)
    if condition.op == "not":
        inner = explain_condition(condition.items[0], request)
        return Outcome(not inner.held, f"not ({inner.reason})", inner.missing)
    if condition.op == "all":
        for item in condition.items:
            outcome = explain_condition(item, request)
            if not outcome.held:
                return outcome
        return Outcome(
            True, "all conditions hold" if condition.items else "all: [] is empty"
        )
    failures = []
    for item in condition.items:
        outcome = explain_condition(item, request)
        if outcome.held:
            return outcome
        failures.append(outcome)
    if not failures:
        return Outcome(False, "any: [] is empty")
    return Outcome(
        False,
        "none of: " + "; ".join(f.reason for f in failures),
        any(f.missing for f in failures),
    )


def _explain_compare(condition: Compare, request) -> Outcome:
    value = read_field(condition.field, request)
    wanted = f"{condition.op} {_show(condition.value)}"
    name = condition.field.name
    if value is None:
        return Outcome(False, f"{name} is missing, so {wanted} is false", missing=True)
    held = bool(compare(condition.op, value, condition.value, condition.pattern))
    verdict = "holds" if held else "fails"
    return Outcome(held, f"{name} is {_show(value)}, so {wanted} {verdict}")


def _show(value: Any) -> str:
    text = show_value(value)
    return text if len(text) <= 60 else text[:57] + "..."
