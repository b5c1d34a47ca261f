"""Rule edits as text operations: blocks, moves, deletes, adds, and the outline."""

from __future__ import annotations

import textwrap

import pytest

from tui.core.editing import (
    EditError,
    add_rule,
    delete_rule,
    move_rule,
    outline,
    rule_at_line,
    rule_blocks,
    unique_rule_name,
)
from tui.core.policy import parse_policy
from tui.core.yamlio import parse_yaml


def indented(text: str) -> str:
    """Dedent a rule written in the test, then indent it as a list item in `rules:`."""
    return textwrap.indent(textwrap.dedent(text), "  ")


HEAD = textwrap.dedent(
    """\
    schema: routebook/v1
    name: edits
    models:
      strong: {model: openai/gpt-4o}
      fast: {model: openai/gpt-4o-mini}
    segments:
      tier: {field: metadata.tier}
    """
)

RULE_A = indented(
    """\
    # Gold stays strong.
    # (contract)
    - name: a
      when: {tier: gold}
      route: strong
      # a trailing note of rule a
    """
)

RULE_B = indented(
    """\
    # Silver goes fast.
    - name: b
      when:
        any:
          - {tier: silver}
          - {tier: tin}
      route: fast
    """
)

RULE_C = indented(
    """\
    - name: c
      when: {tier: bronze}
      route: fast
    """
)

TAIL = textwrap.dedent(
    """\
    # The default catches the rest.
    default: strong
    """
)


def policy(*rules: str, separator: str = "\n") -> str:
    return HEAD + "rules:\n" + separator.join(rules) + "\n" + TAIL


def rule_names(text: str) -> list[str]:
    result = parse_policy(text, "p.yaml")
    assert result.ok, [problem.format() for problem in result.problems]
    return [rule.name for rule in result.policy.rules]


def test_blocks_include_leading_comments():
    text = policy(RULE_A, RULE_B, RULE_C)
    lines = text.split("\n")
    blocks = rule_blocks(text)
    assert [block.name for block in blocks] == ["a", "b", "c"]
    a, b, c = blocks
    assert lines[a.start] == "  # Gold stays strong."
    assert lines[a.item] == "  - name: a"
    assert lines[a.end - 1] == "    # a trailing note of rule a"
    assert lines[b.start] == "  # Silver goes fast."
    assert lines[b.end - 1] == "    route: fast"
    assert lines[c.start] == lines[c.item] == "  - name: c"
    assert lines[c.end - 1] == "    route: fast"
    assert lines[c.end + 1] == "# The default catches the rest."
    assert (a.dash_column, a.content_column) == (2, 4)


def test_move_up_keeps_comments_and_blank_lines():
    text = policy(RULE_A, RULE_B, RULE_C)
    edit = move_rule(text, 1, -1)
    assert edit.text == policy(RULE_B, RULE_A, RULE_C)
    assert rule_names(edit.text) == ["b", "a", "c"]
    assert edit.text.split("\n")[edit.line] == "  - name: b"


def test_move_down_keeps_comments():
    text = policy(RULE_A, RULE_B, RULE_C)
    edit = move_rule(text, 0, 1)
    assert edit.text == policy(RULE_B, RULE_A, RULE_C)
    assert edit.text.split("\n")[edit.line] == "  - name: a"


def test_move_last_rule_up_leaves_tail():
    text = policy(RULE_A, RULE_B, RULE_C)
    edit = move_rule(text, 2, -1)
    assert edit.text == policy(RULE_A, RULE_C, RULE_B)
    assert edit.text.endswith(TAIL)


def test_move_without_blank_separators():
    text = policy(RULE_A, RULE_B, RULE_C, separator="")
    edit = move_rule(text, 2, -1)
    assert edit.text == policy(RULE_A, RULE_C, RULE_B, separator="")


def test_move_past_ends_rejected():
    text = policy(RULE_A, RULE_B)
    with pytest.raises(EditError, match="already the first"):
        move_rule(text, 0, -1)
    with pytest.raises(EditError, match="already the last"):
        move_rule(text, 1, 1)


def test_move_round_trip_restores_text():
    text = policy(RULE_A, RULE_B, RULE_C)
    assert move_rule(move_rule(text, 0, 1).text, 1, -1).text == text


def test_delete_middle_rule():
    text = policy(RULE_A, RULE_B, RULE_C)
    edit = delete_rule(text, 1)
    assert edit.text == policy(RULE_A, RULE_C)
    assert "Silver goes fast" not in edit.text


def test_delete_last_rule_keeps_next_section_comment():
    text = policy(RULE_A, RULE_B, RULE_C)
    edit = delete_rule(text, 2)
    assert edit.text == policy(RULE_A, RULE_B)
    assert "# The default catches the rest." in edit.text


def test_delete_only_rule_leaves_empty_list():
    text = policy(RULE_C)
    edit = delete_rule(text, 0)
    assert "rules: []\n" in edit.text
    assert parse_policy(edit.text, "p.yaml").ok


def test_add_rule_after_first():
    text = policy(RULE_A, RULE_B)
    edit = add_rule(text, 0, "fast")
    assert rule_names(edit.text) == ["a", "new-rule", "b"]
    assert edit.text.split("\n")[edit.line] == "  - name: new-rule"
    assert edit.text.count("\n\n") == text.count("\n\n") + 1


def test_add_rule_names_are_unique():
    text = add_rule(policy(RULE_A), None, "fast").text
    text = add_rule(text, None, "fast").text
    assert rule_names(text) == ["a", "new-rule", "new-rule-2"]
    assert unique_rule_name(rule_blocks(text)) == "new-rule-3"


def test_add_first_rule_to_empty_list():
    text = HEAD + "rules: []\n" + TAIL
    edit = add_rule(text, None, "fast")
    assert rule_names(edit.text) == ["new-rule"]
    assert edit.text.split("\n")[edit.line] == "  - name: new-rule"


def test_add_rule_creates_section_before_default():
    text = HEAD + TAIL
    edit = add_rule(text, None, "strong")
    assert rule_names(edit.text) == ["new-rule"]
    lines = edit.text.split("\n")
    assert lines.index("rules:") < lines.index("default: strong")


def test_flow_rules_rejected():
    text = HEAD + "rules: [{name: a, when: {tier: gold}, route: strong}]\n" + TAIL
    with pytest.raises(EditError, match="flow list"):
        move_rule(text, 0, 1)


def test_broken_yaml_rejected():
    text = policy(RULE_A, RULE_B).replace("route: fast", "route: [fast")
    with pytest.raises(EditError, match="YAML error at line"):
        rule_blocks(text)


def test_dash_on_its_own_line():
    rule = "  -\n    name: d\n    when: {tier: x}\n    route: fast\n"
    text = policy(RULE_A, rule)
    blocks = rule_blocks(text)
    assert text.split("\n")[blocks[1].item] == "  -"
    assert rule_names(move_rule(text, 1, -1).text) == ["d", "a"]


def test_zero_dash_offset():
    rules = (
        "- name: a\n  when: {tier: gold}\n  route: strong\n"
        "- name: b\n  when: {tier: x}\n  route: fast\n"
    )
    text = HEAD + "rules:\n" + rules + TAIL
    edit = move_rule(text, 1, -1)
    assert rule_names(edit.text) == ["b", "a"]
    assert edit.text.endswith(TAIL)


def test_rule_at_line():
    text = policy(RULE_A, RULE_B)
    blocks = rule_blocks(text)
    lines = text.split("\n")
    assert rule_at_line(blocks, lines.index("  # Gold stays strong.")) == 0
    assert rule_at_line(blocks, lines.index("        - {tier: tin}")) == 1
    assert rule_at_line(blocks, lines.index("default: strong")) is None


def test_outline_lists_sections():
    text = (
        policy(RULE_A, RULE_B)
        + "budgets:\n  baseline: strong\n  max_regression: 0.05\n"
    )
    entries = outline(parse_yaml(text, "p.yaml").doc)
    lines = text.split("\n")
    by_label = {entry.label: entry for entry in entries}
    assert [e.section for e in entries] == [
        "models",
        "models",
        "segments",
        "rules",
        "rules",
        "default",
        "budgets",
        "budgets",
    ]
    assert lines[by_label["strong → openai/gpt-4o"].line].startswith("  strong:")
    assert by_label["2. b → fast"].rule_index == 1
    assert lines[by_label["2. b → fast"].line] == "  - name: b"
    assert lines[by_label["default → strong"].line] == "default: strong"
    assert by_label["max_regression: 0.05"].section == "budgets"


def test_outline_of_non_mapping_is_empty():
    assert outline(None) == []
    assert outline(["a"]) == []
