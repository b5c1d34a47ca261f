"""Structured edits of a policy's rules, done as text operations.

The editor keeps the author's text, so moving, deleting or adding a rule must not
re-serialise the document: each operation cuts and pastes whole lines. A rule's
block is its sequence item plus the comment lines directly above it, so a comment
travels with the rule it describes. Blank lines between rules stay where they
are. Line numbers here are 0-based, as in Textual's TextArea.

Which lines belong to which rule:

- The comment lines directly above an item's `-` (no blank line between) lead
  that item when they are indented no deeper than the `-`. Deeper comments
  right above an item close the item before it.
- After the last rule, comments indented no deeper than the `-` belong to
  whatever follows the rules section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .yamlio import parse_yaml

# The `rules:` key at the top level, with an optional value and comment after it.
_RULES_KEY = re.compile(r"rules[ \t]*:(?P<rest>.*)$")
_EMPTY_FLOW_LIST = re.compile(r"[ \t]*\[[ \t]*\][ \t]*(#.*)?$")
_TOP_LEVEL_KEY = re.compile(r"(?P<key>[A-Za-z_][\w.-]*)[ \t]*:")

NEW_RULE_CONDITION = "{any: []}"


class EditError(ValueError):
    """A structured edit that cannot be applied to the current text."""


@dataclass(frozen=True)
class RuleBlock:
    """The lines of one rule: leading comments, then the item itself."""

    index: int
    name: str | None
    start: int  # first line, leading comments included
    item: int  # line of the item's `-`
    end: int  # one past the item's last non-blank line
    dash_column: int
    content_column: int  # column of the item's first key


@dataclass(frozen=True)
class Edit:
    """The text after an edit and the line to put the cursor on."""

    text: str
    line: int


@dataclass(frozen=True)
class OutlineEntry:
    """One node of the policy outline: a model, segment, rule or budget."""

    section: str  # "models", "segments", "rules", "default" or "budgets"
    label: str
    line: int  # 0-based line of the entry in the text
    rule_index: int | None = None


# --- finding rule blocks ------------------------------------------------------


def rule_blocks(text: str) -> list[RuleBlock]:
    """Find every rule's line range. Raise EditError when the rules cannot be edited.

    The text must be valid YAML, and `rules` must be a block sequence (one `-` per
    rule), because a flow list `[...]` has no per-rule lines to move.
    """
    doc = _parse(text)
    rules = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rules, list) or not rules:
        return []
    if rules.fa.flow_style():
        raise EditError(
            "the rules are written as a flow list [...]; write one '- name: ...'"
            " item per rule to move, delete or add rules from the outline"
        )

    lines = _lines(text)
    items = [_dash_position(lines, rules, index) for index in range(len(rules))]
    section_end = _section_end(lines, items[-1][0], items[-1][1])
    return _blocks(lines, rules, items, section_end)


def _parse(text: str) -> Any:
    loaded = parse_yaml(text, "<policy>")
    if loaded.has_errors:
        first = next(problem for problem in loaded.problems if problem.is_error)
        raise EditError(
            f"the policy has a YAML error at line {first.line}, column"
            f" {first.column}; fix it before editing rules from the outline"
        )
    return loaded.doc


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _dash_position(lines: list[str], rules: Any, index: int) -> tuple[int, int, int]:
    """Return (line, dash column, content column) of one sequence item.

    ruamel records where the item's value starts; its `-` is on that line or on
    the nearest line above that is not blank.
    """
    line, column = rules.lc.item(index)
    for row in range(line, -1, -1):
        stripped = lines[row].lstrip(" ")
        dash = len(lines[row]) - len(stripped)
        if stripped.startswith("-") and dash < column:
            return row, dash, column
        if row < line and stripped.strip():
            break
    raise EditError(f"cannot find the '-' of rule {index + 1}; reformat the rules list")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _section_end(lines: list[str], last_item: int, dash_column: int) -> int:
    """Return the first line after the rules section (or the line count)."""
    for row in range(last_item + 1, len(lines)):
        line = lines[row].rstrip("\r")
        if _is_blank(line) or _is_comment(line):
            continue
        indent = _indent(line)
        if indent < dash_column:
            return row
        if indent == dash_column and not line.lstrip().startswith("-"):
            return row
    return len(lines)


def _blocks(lines, rules, items, section_end) -> list[RuleBlock]:
    starts = [
        _lead_start(lines, item, dash, first=index == 0)
        for index, (item, dash, _) in enumerate(items)
    ]
    blocks = []
    for index, (item, dash, content) in enumerate(items):
        if index + 1 < len(items):
            end = _trim_blank_end(lines, item, starts[index + 1])
        else:
            end = _last_block_end(lines, item, section_end, dash)
        name = rules[index].get("name") if isinstance(rules[index], dict) else None
        name = name if isinstance(name, str) else None
        blocks.append(RuleBlock(index, name, starts[index], item, end, dash, content))
    return blocks


def _lead_start(lines: list[str], item: int, dash: int, first: bool) -> int:
    start = item
    while start > 0:
        above = lines[start - 1].rstrip("\r")
        if not _is_comment(above) or (not first and _indent(above) > dash):
            break
        start -= 1
    return start


def _trim_blank_end(lines: list[str], item: int, end: int) -> int:
    while end > item + 1 and _is_blank(lines[end - 1]):
        end -= 1
    return end


def _last_block_end(lines: list[str], item: int, section_end: int, dash: int) -> int:
    """Return the end of the last rule, leaving out what leads the next section."""
    end = section_end
    while end > item + 1:
        line = lines[end - 1].rstrip("\r")
        if _is_blank(line) or (_is_comment(line) and _indent(line) <= dash):
            end -= 1
            continue
        break
    return end


def rule_at_line(blocks: list[RuleBlock], line: int) -> int | None:
    """Return the index of the rule whose block contains `line`, if any."""
    for block in blocks:
        if block.start <= line < block.end:
            return block.index
    return None


# --- operations ---------------------------------------------------------------


def move_rule(text: str, index: int, offset: int) -> Edit:
    """Move rule `index` up (offset -1) or down (offset +1), with its comments."""
    if offset not in (-1, 1):
        raise ValueError(f"offset must be -1 or 1, not {offset}")
    blocks = rule_blocks(text)
    _check_index(blocks, index)
    other = index + offset
    if not 0 <= other < len(blocks):
        where = "first" if offset < 0 else "last"
        raise EditError(f"rule {index + 1} is already the {where} rule")

    upper, lower = sorted((blocks[index], blocks[other]), key=lambda b: b.start)
    lines = _lines(text)
    new_lines = (
        lines[: upper.start]
        + lines[lower.start : lower.end]
        + lines[upper.end : lower.start]
        + lines[upper.start : upper.end]
        + lines[lower.end :]
    )
    moved = blocks[index]
    if offset < 0:
        cursor = upper.start + (moved.item - moved.start)
    else:
        shift = (lower.end - lower.start) + (lower.start - upper.end)
        cursor = upper.start + shift + (moved.item - moved.start)
    return Edit("\n".join(new_lines), cursor)


def delete_rule(text: str, index: int) -> Edit:
    """Delete rule `index` with its leading comments and one blank separator."""
    blocks = rule_blocks(text)
    _check_index(blocks, index)
    block = blocks[index]
    lines = _lines(text)

    if len(blocks) == 1:
        return _delete_only_rule(lines, block)
    if index + 1 < len(blocks):
        start, end = block.start, blocks[index + 1].start
    else:
        start, end = blocks[index - 1].end, block.end
    new_lines = lines[:start] + lines[end:]
    cursor = min(start, max(len(new_lines) - 1, 0))
    return Edit("\n".join(new_lines), cursor)


def _delete_only_rule(lines: list[str], block: RuleBlock) -> Edit:
    """Delete the last remaining rule; `rules:` becomes an empty list `[]`."""
    key_row = _rules_key_row(lines)
    new_lines = lines[: block.start] + lines[block.end :]
    if key_row is not None:
        new_lines[key_row] = _with_empty_list(new_lines[key_row])
    cursor = key_row if key_row is not None else 0
    return Edit("\n".join(new_lines), cursor)


def _with_empty_list(key_line: str) -> str:
    match = _RULES_KEY.match(key_line)
    rest = match.group("rest").strip() if match else ""
    comment = f"  {rest}" if rest.startswith("#") else ""
    return f"rules: []{comment}"


def _rules_key_row(lines: list[str]) -> int | None:
    for row, line in enumerate(lines):
        if _RULES_KEY.match(line):
            return row
    return None


def _check_index(blocks: list[RuleBlock], index: int) -> None:
    if not 0 <= index < len(blocks):
        raise EditError(f"there is no rule {index + 1}; the policy has {len(blocks)}")


def add_rule(text: str, after: int | None, route: str, name: str | None = None) -> Edit:
    """Insert a new rule after rule `after` (None: after the last rule).

    The new rule routes to `route` and matches no request (`when: {any: []}`)
    until the author fills in its condition, so adding it moves no traffic.
    Without `name`, a unique `new-rule-N` is chosen. A policy without rules,
    or with `rules: []`, gets a rules section before its `default:` key (or at
    the end).
    """
    blocks = rule_blocks(text)
    name = name or unique_rule_name(blocks)
    if not blocks:
        return _add_first_rule(text, name, route)
    if after is not None:
        _check_index(blocks, after)
    anchor = blocks[after if after is not None else -1]

    lines = _lines(text)
    new_block = _rule_lines(name, route, anchor.dash_column, anchor.content_column)
    separator = [""] if _separated_by_blank(lines, blocks) else []
    insert_at = anchor.end
    new_lines = lines[:insert_at] + separator + new_block + lines[insert_at:]
    return Edit("\n".join(new_lines), insert_at + len(separator) + 1)


def unique_rule_name(blocks: list[RuleBlock], stem: str = "new-rule") -> str:
    """Return `stem`, or `stem-N` with the smallest N that no rule uses."""
    taken = {block.name for block in blocks}
    if stem not in taken:
        return stem
    number = 2
    while f"{stem}-{number}" in taken:
        number += 1
    return f"{stem}-{number}"


def _separated_by_blank(lines: list[str], blocks: list[RuleBlock]) -> bool:
    """Return whether the existing rules are separated by blank lines."""
    if len(blocks) < 2:
        return False
    first, second = blocks[0], blocks[1]
    return any(_is_blank(line) for line in lines[first.end : second.start])


def _rule_lines(name: str, route: str, dash_column: int, content_column: int):
    dash = " " * dash_column
    body = " " * content_column
    gap = " " * (content_column - dash_column - 1)
    return [
        f"{dash}# New rule: it matches no request until 'when' is filled in.",
        f"{dash}-{gap}name: {name}",
        f"{body}when: {NEW_RULE_CONDITION}",
        f"{body}route: {route}",
    ]


def _add_first_rule(text: str, name: str, route: str) -> Edit:
    lines = _lines(text)
    rule = _rule_lines(name, route, 2, 4)
    key_row = _rules_key_row(lines)
    if key_row is not None:
        rest = _RULES_KEY.match(lines[key_row]).group("rest")
        if rest.strip() and not _EMPTY_FLOW_LIST.match(rest):
            raise EditError("'rules' has a value that is not a list; fix it first")
        new_lines = lines[:key_row] + ["rules:"] + rule + lines[key_row + 1 :]
        return Edit("\n".join(new_lines), key_row + 2)

    insert_at = _top_level_key_row(lines, "default")
    if insert_at is None:
        insert_at = len(lines) - 1 if lines and lines[-1] == "" else len(lines)
    new_lines = lines[:insert_at] + ["rules:"] + rule + [""] + lines[insert_at:]
    return Edit("\n".join(new_lines), insert_at + 2)


def _top_level_key_row(lines: list[str], key: str) -> int | None:
    for row, line in enumerate(lines):
        match = _TOP_LEVEL_KEY.match(line)
        if match and match.group("key") == key:
            return row
    return None


# --- outline ------------------------------------------------------------------


def outline(doc: Any) -> list[OutlineEntry]:
    """List the models, segments, rules, default and budgets of a parsed policy.

    `doc` is the ruamel round-trip tree (valid or not as a policy); parts that
    are missing or of the wrong type are left out.
    """
    if not isinstance(doc, dict):
        return []
    entries: list[OutlineEntry] = []
    entries += _mapping_entries(doc, "models", _model_label)
    entries += _mapping_entries(doc, "segments", _segment_label)
    entries += _rule_entries(doc)
    if "default" in doc:
        line = _key_line(doc, "default")
        entries.append(OutlineEntry("default", f"default → {doc['default']}", line))
    entries += _budget_entries(doc)
    return entries


def _key_line(node: Any, key: Any) -> int:
    try:
        return node.lc.key(key)[0]
    except (AttributeError, KeyError, TypeError):
        return 0


def _mapping_entries(doc, section: str, label) -> list[OutlineEntry]:
    node = doc.get(section)
    if not isinstance(node, dict):
        return []
    return [
        OutlineEntry(section, label(key, value), _key_line(node, key))
        for key, value in node.items()
    ]


def _model_label(alias: Any, spec: Any) -> str:
    model = spec.get("model") if isinstance(spec, dict) else None
    return f"{alias} → {model}" if model else str(alias)


def _segment_label(name: Any, spec: Any) -> str:
    field = spec.get("field") if isinstance(spec, dict) else None
    return f"{name}: {field}" if field else str(name)


def _rule_entries(doc) -> list[OutlineEntry]:
    rules = doc.get("rules")
    if not isinstance(rules, list):
        return []
    entries = []
    for index, rule in enumerate(rules):
        try:
            line = rules.lc.item(index)[0]
        except (AttributeError, KeyError, TypeError):
            line = _key_line(doc, "rules")
        name, route = "?", "?"
        if isinstance(rule, dict):
            name = rule.get("name", name)
            route = rule.get("route", route)
        label = f"{index + 1}. {name} → {route}"
        entries.append(OutlineEntry("rules", label, line, index))
    return entries


def _budget_entries(doc) -> list[OutlineEntry]:
    budgets = doc.get("budgets")
    if not isinstance(budgets, dict):
        return []
    entries = []
    for key, value in budgets.items():
        if key == "overrides" and isinstance(value, list):
            label = f"overrides: {len(value)}"
        else:
            label = f"{key}: {value}"
        entries.append(OutlineEntry("budgets", label, _key_line(budgets, key)))
    return entries
