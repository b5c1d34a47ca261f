"""Rule conditions: parsing with located problems, and evaluation with reasons.

A condition is a mapping. Keys `all`, `any` and `not` combine conditions;
every other key names a field, and its value is either a mapping of operators
(`{lt: 400}`, `{in: [faq, greeting]}`) or a bare value meaning `eq`. Several
keys in one mapping must all hold.

A field that is missing (absent, or JSON null) makes its comparison false,
whatever the operator, so `ne` and `not_in` do not match requests that lack
the field. `not` inverts that false, so `not: {locale: en}` does match them;
the validator warns about it.
"""

from __future__ import annotations

import datetime
import difflib
import math
from dataclasses import dataclass, field
from typing import Any

from .features import FEATURES
from .problems import Problem
from .regex import SafePattern, UnsafePattern, compile_pattern

COMBINATORS = ("all", "any", "not")
OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "lt",
    "lte",
    "gt",
    "gte",
    "contains",
    "matches",
)
NUMERIC_OPERATORS = ("lt", "lte", "gt", "gte")
NUMERIC_FEATURES = ("prompt_tokens", "prompt_chars", "turns")


@dataclass
class FieldRef:
    """A field as a condition names it, resolved to where its value comes from."""

    name: str
    kind: str  # "metadata", "feature" or "segment"
    path: tuple[str, ...] = ()
    fallback: FieldRef | None = None
    target: FieldRef | None = None  # what a segment name reads


@dataclass
class Compare:
    field: FieldRef
    op: str
    value: Any
    line: int
    column: int
    pattern: SafePattern | None = None


@dataclass
class Combine:
    op: str  # "all", "any" or "not"
    items: list = field(default_factory=list)
    line: int = 1
    column: int = 1


Condition = Compare | Combine


@dataclass
class ParseContext:
    """The fields a condition may refer to, and the list its problems go to."""

    path: str
    segments: dict[str, FieldRef]
    problems: list[Problem]
    allowed_kinds: tuple[str, ...] = ("metadata", "feature", "segment")

    def error(self, line: int, column: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, column, message, "error"))

    def warn(self, line: int, column: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, column, message, "warning"))


# --- positions in ruamel nodes ------------------------------------------------


def key_position(node: Any, key: Any) -> tuple[int, int]:
    """1-based line and column of a mapping key, or of the mapping itself."""
    try:
        line, column = node.lc.key(key)
        return line + 1, column + 1
    except (AttributeError, KeyError, TypeError):
        return node_start(node)


def value_position(node: Any, key: Any) -> tuple[int, int]:
    """1-based position of a mapping value; the key's position when it is empty.

    ruamel places an empty (null) value at the start of the next line, which
    would point the user at the wrong key.
    """
    try:
        if node[key] is None:
            return key_position(node, key)
    except (KeyError, TypeError, IndexError):
        pass
    try:
        line, column = node.lc.value(key)
        return line + 1, column + 1
    except (AttributeError, KeyError, TypeError):
        return key_position(node, key)


def item_position(node: Any, index: int) -> tuple[int, int]:
    try:
        line, column = node.lc.item(index)
        return line + 1, column + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return node_start(node)


def node_start(node: Any) -> tuple[int, int]:
    try:
        return node.lc.line + 1, node.lc.col + 1
    except AttributeError:
        return 1, 1


def suggest(word: str, choices) -> str:
    """Return ` (did you mean 'x'?)` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- parsing ------------------------------------------------------------------


def resolve_field(
    name: str, context: ParseContext, line: int, column: int
) -> FieldRef | None:
    """Resolve a field name as written in a condition, reporting unknown ones."""
    if name.startswith("metadata.") and len(name) > len("metadata."):
        ref = FieldRef(name, "metadata", tuple(name.split(".")[1:]))
    elif name in FEATURES:
        ref = FieldRef(name, "feature")
    elif name in context.segments:
        ref = context.segments[name]
    else:
        known = list(context.segments) + list(FEATURES) + list(COMBINATORS)
        context.error(
            line,
            column,
            f"unknown field '{name}'{suggest(name, known)}; a condition reads"
            " metadata.<path>, a segment name, or one of " + ", ".join(FEATURES),
        )
        return None

    if ref.kind not in context.allowed_kinds:
        context.error(
            line,
            column,
            f"'{name}' cannot be used here; use a segment name ("
            + ", ".join(context.segments)
            + ")",
        )
        return None
    return ref


def parse_condition(
    node: Any, context: ParseContext, position: tuple[int, int] | None = None
) -> Condition | None:
    """Parse a `when` node. Returns None (with problems recorded) when invalid.

    `position` locates the node when it is a scalar, which carries no position
    of its own.
    """
    line, column = node_start(node) if hasattr(node, "lc") else (position or (1, 1))
    if not isinstance(node, dict):
        context.error(
            line,
            column,
            "a condition must be a mapping such as {tier: enterprise} or"
            f" {{all: [...]}}, not {_type_name(node)}",
        )
        return None
    if not node:
        context.error(
            line, column, "empty condition; write {all: []} to match every request"
        )
        return None

    items = []
    for key in node:
        item = _parse_entry(node, key, context)
        if item is not None:
            items.append(item)
    if len(items) != len(node):
        return None
    if len(items) == 1:
        return items[0]
    return Combine("all", items, line, column)


def _parse_entry(node: dict, key: Any, context: ParseContext) -> Condition | None:
    line, column = key_position(node, key)
    value = node[key]
    if key in ("all", "any"):
        return _parse_list(key, value, node, context)
    if key == "not":
        inner = parse_condition(value, context, value_position(node, key))
        if inner is None:
            return None
        _warn_not_over_missing(inner, context, line, column)
        return Combine("not", [inner], line, column)
    if not isinstance(key, str):
        context.error(
            line, column, f"a field name must be a string, not {_type_name(key)}"
        )
        return None

    ref = resolve_field(key, context, line, column)
    if ref is None:
        return None
    return _parse_comparisons(ref, value, node, key, context)


def _parse_list(key: str, value: Any, node: dict, context: ParseContext):
    line, column = key_position(node, key)
    if not isinstance(value, list):
        context.error(
            line, column, f"'{key}' takes a list of conditions, not {_type_name(value)}"
        )
        return None
    if not value:
        meaning = "matches every request" if key == "all" else "matches no request"
        context.warn(line, column, f"'{key}: []' is empty, so it {meaning}")
    items = [
        parse_condition(item, context, item_position(value, index))
        for index, item in enumerate(value)
    ]
    if any(item is None for item in items):
        return None
    return Combine(key, items, line, column)


def _parse_comparisons(ref, value, node, key, context) -> Condition | None:
    line, column = value_position(node, key)
    if not isinstance(value, dict):
        if isinstance(value, list):
            context.error(
                line,
                column,
                f"'{key}' is compared with a list; write {{in: [...]}} to match any"
                " of several values",
            )
            return None
        return _make_compare(ref, "eq", value, line, column, context)

    if not value:
        context.error(
            line, column, f"no operator for '{key}'; use one of " + ", ".join(OPERATORS)
        )
        return None
    compares = []
    for op in value:
        op_line, op_column = key_position(value, op)
        if op not in OPERATORS:
            context.error(
                op_line,
                op_column,
                f"unknown operator '{op}'{suggest(op, OPERATORS)}; operators are "
                + ", ".join(OPERATORS),
            )
            continue
        val_line, val_column = value_position(value, op)
        compare = _make_compare(ref, op, value[op], val_line, val_column, context)
        if compare is not None:
            compares.append(compare)
    if len(compares) != len(value):
        return None
    if len(compares) == 1:
        return compares[0]
    return Combine("all", compares, line, column)


def _make_compare(ref, op, value, line, column, context) -> Compare | None:
    if _has_date(value):
        context.error(
            line,
            column,
            f"{value} is read as a date by YAML, and request fields are text or"
            f' numbers; quote it ("{value}") to compare with text',
        )
        return None
    value = _plain(value)
    if _has_nan(value):
        context.error(
            line,
            column,
            f"'{ref.name}' is compared with .nan (not a number), which no value"
            " equals or orders with; use a number",
        )
        return None
    if value is None or (isinstance(value, list) and None in value):
        context.error(
            line,
            column,
            f"'{ref.name}' is compared with null, which never matches: a missing or"
            " null field makes every comparison false; compare with a value instead",
        )
        return None
    if op in NUMERIC_OPERATORS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            context.error(
                line, column, f"'{op}' compares numbers, not {_type_name(value)}"
            )
            return None
    elif op in ("in", "not_in"):
        if not isinstance(value, list):
            context.error(
                line,
                column,
                f"'{op}' takes a list such as [a, b], not {_type_name(value)}",
            )
            return None
        value = tuple(value)
    elif op == "matches":
        return _make_pattern(ref, value, line, column, context)
    elif isinstance(value, dict | list):
        context.error(
            line,
            column,
            f"'{op}' compares with a single value, not {_type_name(value)}",
        )
        return None

    if ref.kind == "feature" and ref.name in NUMERIC_FEATURES and op in ("eq", "ne"):
        if isinstance(value, str):
            context.warn(
                line,
                column,
                f"'{ref.name}' is a number, so it never equals the string"
                f" {show_value(value)}",
            )
    return Compare(ref, op, value, line, column)


def _make_pattern(ref, value, line, column, context) -> Compare | None:
    if not isinstance(value, str):
        context.error(
            line,
            column,
            f"'matches' takes a regular expression string, not {_type_name(value)}",
        )
        return None
    try:
        pattern = compile_pattern(value)
    except UnsafePattern as error:
        context.error(
            line,
            column,
            f"invalid or unsafe regular expression {show_value(value)}: {error}",
        )
        return None
    return Compare(ref, "matches", value, line, column, pattern)


def _warn_not_over_missing(inner: Condition, context, line, column) -> None:
    fields = sorted({ref.name for ref in _fields(inner) if _may_be_missing(ref)})
    if fields:
        context.warn(
            line,
            column,
            "'not' also matches requests where "
            + ", ".join(fields)
            + " is missing, because a comparison with a missing field is false",
        )


def _may_be_missing(ref: FieldRef) -> bool:
    if ref.kind == "segment":
        return ref.fallback is None or _may_be_missing(ref.fallback)
    return ref.kind == "metadata" or ref.name == "detected_language"


def _fields(condition: Condition):
    if isinstance(condition, Compare):
        yield condition.field
    else:
        for item in condition.items:
            yield from _fields(item)


def _has_nan(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(item, float) and math.isnan(item) for item in values)


def _has_date(value: Any) -> bool:
    if isinstance(value, datetime.date):
        return True
    return isinstance(value, list) and any(isinstance(v, datetime.date) for v in value)


def _plain(value: Any) -> Any:
    """Convert ruamel scalar and container types to plain Python values."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def show_value(value: Any) -> str:
    """Write a condition value the way a policy author would type it in YAML.

    Strings are single-quoted with YAML's own escape (a quote is doubled), so
    a pattern such as '#\\d{5}' reads as written, not with Python's doubled
    backslashes. Characters that cannot be printed are shown escaped.
    """
    if isinstance(value, tuple | list):
        return "[" + ", ".join(show_value(item) for item in value) + "]"
    if isinstance(value, str):
        printable = "".join(
            char if char.isprintable() else repr(char)[1:-1] for char in value
        )
        return "'" + printable.replace("'", "''") + "'"
    return repr(value)


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {show_value(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
