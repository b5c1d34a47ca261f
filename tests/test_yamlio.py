"""Tests for round-trip YAML loading and saving in tui.core.yamlio."""

from __future__ import annotations

import os
import stat
import time
import tracemalloc

import pytest

from tui.core import yamlio
from tui.core.problems import InputError
from tui.core.yamlio import (
    MAX_ALIAS_EXPANSION_NODES,
    MAX_NESTING_DEPTH,
    TextFormat,
    atomic_write_text,
    dump_yaml,
    load_yaml_file,
    node_position,
    parse_yaml,
    read_text_file,
    value_position,
)

EXAMPLE_POLICY = """\
schema: routebook/v1
name: support-assistant
version: 4
description: Short English FAQ traffic goes to the fast model.

models:
  strong: {model: openai/gpt-4o}
  fast: {model: openai/gpt-4o-mini, params: {temperature: 0}}

segments:
  tier: {field: metadata.tenant_tier}
  locale: {field: metadata.locale, fallback: detected_language}
  task: {field: metadata.task_type}

rules:
  - name: enterprise-stays-strong
    when: {tier: enterprise}
    route: strong
  - name: short-english-faq
    when:
      all:
        - {task: {in: [faq, greeting]}}
        - {locale: en}
        - {prompt_tokens: {lt: 400}}
    route: fast

default: strong

budgets:
  baseline: strong
  max_regression: 0.03
  min_samples: 30
  overrides:
    - {when: {locale: ja}, max_regression: 0.01}
"""

# Sequences at the parent's column, comments everywhere, anchors, a long value.
COMMENTED_POLICY = """\
# Support routing policy.
# Owned by the support platform team.
schema: routebook/v1
name: "support-assistant"
version: 7
description: 'Short English FAQ traffic goes to the fast model; everything else \
stays on the strong model, because the cheap model drops the JSON schema on \
extraction tasks for enterprise tenants and those tenants notice within a day.'

models:
  strong: &strong_model {model: openai/gpt-4o}
  fast: {model: openai/gpt-4o-mini, params: {temperature: 0, max_tokens: 512}}
  backup: *strong_model

segments:
  tier: {field: metadata.tenant_tier}   # smb, mid, enterprise
  locale: {field: metadata.locale, fallback: detected_language}

rules:
- name: enterprise-stays-strong
  when: {tier: enterprise}
  route: strong

- name: short-english-faq
  # FAQ and greetings only.
  when:
    all:
    - {task: {in: [faq, greeting]}}
    - {locale: en}
    - prompt_tokens: {lt: 400}
  route: fast
# Rules below are experiments.
# Keep them last.

default: strong

budgets:
  baseline: strong
  max_regression: 0.03
  min_samples: 30
  overrides:
  - {when: {locale: ja}, max_regression: 0.01}
  - {when: {locale: de}, max_regression: 0.02}  # German contracts
"""

# Four-space mappings with sequences indented by four more.
WIDE_POLICY = """\
schema: routebook/v1
models:
    strong:
        model: openai/gpt-4o
    fast:
        model: openai/gpt-4o-mini
rules:
    -   name: a
        route: fast
    -   name: b
        when:
            any:
                -   {locale: fr}
                -   {locale: de}
        route: strong
default: strong
"""

# Document markers, a block scalar, an anchored rule, a list of single-entry maps.
MARKED_POLICY = """\
%YAML 1.2
# Comment before the document start marker.
--- # marker comment
# Comment after the marker.
name: marked
rules:
  - name: long
    when: {prompt: {matches: "^(?:please )?(?:summari[sz]e|tl;dr)\\\\b.*$"}}
    route: fast   # long regex
  - name: literal
    note: |
      first line
      second line

    route: strong
  - &shared
    name: shared
    route: fast
  - *shared
  # Trailing comment in the list.
tags: [{team: support}, {owner: ml-platform}]
default: strong
...
# Comment after the end marker.
"""

ROUND_TRIP_DOCUMENTS = {
    "example": EXAMPLE_POLICY,
    "commented": COMMENTED_POLICY,
    "wide": WIDE_POLICY,
    "marked": MARKED_POLICY,
    "no_final_newline": "name: x\nrules:\n  - {route: fast}",
    "leading_blank_lines": "\n\n\n# Heading comment.\nname: x\n",
    "top_level_list": "- a\n- b:\n    c: 1\n",
}


def error_messages(loaded) -> list[str]:
    return [problem.message for problem in loaded.problems if problem.is_error]


def warnings_of(loaded) -> list:
    return [problem for problem in loaded.problems if problem.severity == "warning"]


def column_of(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """Return the 1-based (line, column) of the n-th occurrence of `needle`."""
    offset = -1
    for _ in range(occurrence):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


# Round trip


@pytest.mark.parametrize("name", sorted(ROUND_TRIP_DOCUMENTS))
def test_round_trip_unchanged(name):
    text = ROUND_TRIP_DOCUMENTS[name]
    loaded = parse_yaml(text, f"{name}.yaml")

    assert error_messages(loaded) == []
    assert loaded.doc is not None
    assert dump_yaml(loaded.doc, loaded.text_format) == text


def test_round_trip_bom_crlf_bytes(tmp_path):
    path = tmp_path / "policy.yaml"
    original = b"\xef\xbb\xbf" + COMMENTED_POLICY.replace("\n", "\r\n").encode()
    path.write_bytes(original)

    loaded = load_yaml_file(path)
    assert loaded.text_format.bom is True
    assert loaded.text_format.newline == "\r\n"
    assert "\r" not in loaded.text
    assert not loaded.text.startswith("\ufeff")

    atomic_write_text(path, dump_yaml(loaded.doc, loaded.text_format))
    assert path.read_bytes() == original


def test_round_trip_bom_crlf_text():
    text = "\ufeffname: x\r\nrules:\r\n  - {route: fast}\r\n"
    loaded = parse_yaml(text, "p.yaml")

    assert loaded.text_format.bom is True
    assert loaded.text_format.newline == "\r\n"
    assert dump_yaml(loaded.doc, loaded.text_format) == text


@pytest.mark.parametrize(
    ("text", "mapping", "sequence", "offset"),
    [
        (EXAMPLE_POLICY, 2, 4, 2),
        (COMMENTED_POLICY, 2, 2, 0),
        (WIDE_POLICY, 4, 8, 4),
        ("a:\n    b: 1\n    c:\n    - x\n", 4, 2, 0),
        ("- a\n- b\n", 2, 2, 0),
        ("-\n- b:\n  c: 1\n", 2, 2, 0),
        ("rules:\n  -\n    name: a\n", 2, 4, 2),
    ],
)
def test_indentation_detected(text, mapping, sequence, offset):
    text_format = parse_yaml(text, "p.yaml").text_format

    assert text_format.mapping_indent == mapping
    assert text_format.sequence_indent == sequence
    assert text_format.sequence_dash_offset == offset


def test_edit_keeps_sequence_style():
    loaded = parse_yaml(COMMENTED_POLICY, "p.yaml")
    loaded.doc["rules"].append({"name": "new-rule", "route": "fast"})

    dumped = dump_yaml(loaded.doc, loaded.text_format)

    # The new item uses the document's own style: dash at the parent's column.
    assert "\n- name: new-rule\n  route: fast\n" in dumped
    assert dumped.startswith("# Support routing policy.\n")
    assert "  tier: {field: metadata.tenant_tier}   # smb, mid, enterprise\n" in dumped


def test_edit_keeps_markers():
    loaded = parse_yaml(MARKED_POLICY, "p.yaml")
    loaded.doc["name"] = "renamed"

    dumped = dump_yaml(loaded.doc, loaded.text_format)

    expected = MARKED_POLICY.replace("name: marked", "name: renamed")
    assert dumped == expected


def test_long_value_not_wrapped():
    long_value = " ".join(f"word{index}" for index in range(200))
    text = f"description: {long_value}\nlist: [{', '.join(['x'] * 300)}]\n"
    loaded = parse_yaml(text, "p.yaml")

    assert dump_yaml(loaded.doc, loaded.text_format) == text


def test_dump_none_is_empty():
    text_format = TextFormat(bom=False, newline="\n")
    assert dump_yaml(None, text_format) == ""


# Syntax errors


@pytest.mark.parametrize(
    ("text", "needle", "words"),
    [
        ("name: x\nkey: b: c\n", ": c", "mapping values are not allowed"),
        ("name: x\nrules: *missing\n", "*missing", "undefined alias 'missing'"),
        ("- a\n---\n- b\n", "---", "second YAML document"),
        ("a:\n  - b\n c: 1\n", "c: 1", "invalid YAML"),
        ("x: ok\ny: \x01\n", "\x01", "U+0001"),
    ],
)
def test_syntax_error_problem(text, needle, words):
    loaded = parse_yaml(text, "p.yaml")

    assert loaded.doc is None
    assert len(loaded.problems) == 1
    problem = loaded.problems[0]
    assert problem.severity == "error"
    assert problem.path == "p.yaml"
    assert (problem.line, problem.column) == column_of(text, needle)
    assert words in problem.message
    assert "unicode string" not in problem.message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\nversion: !!int four\n", "!!int"),
        ("name: x\nrules: !!omap plain\n", "!!omap"),
    ],
)
def test_invalid_tagged_value(text, needle):
    loaded = parse_yaml(text, "p.yaml")

    assert loaded.doc is None
    assert len(loaded.problems) == 1
    problem = loaded.problems[0]
    assert (problem.line, problem.column) == column_of(text, needle)
    assert "remove the tag" in problem.message


@pytest.mark.parametrize(
    ("text", "needle", "words"),
    [
        (
            "rules:\n  - name: a\n    route: fast\n  default: strong\n",
            "default",
            "inside the list that starts at line 2, column 3",
        ),
        (
            "name: x\nrules: []\n default: strong\n",
            "default",
            "does not line up with the keys of the mapping that starts at line 1,"
            " column 1",
        ),
        (
            "rules:\n  - name: a\n    route: fast\n    - name: b\n",
            "- name: b",
            "a list item ('- ') at column 5 is where the mapping that starts at"
            " line 2, column 5 expects a key",
        ),
    ],
)
def test_misindented_line_explained(text, needle, words):
    problem = parse_yaml(text, "p.yaml").problems[0]

    assert (problem.line, problem.column) == column_of(text, needle)
    assert words in problem.message
    assert "block end" not in problem.message
    assert "<block" not in problem.message


def test_overindented_block_start_named():
    text = "name: x\nsegments:\n     tier: {field: a}\n  locale: {field: b}\n"
    problem = parse_yaml(text, "p.yaml").problems[0]

    # The parser accepts the deeper first key and stops at the next one.
    assert (problem.line, problem.column) == (4, 3)
    assert "fix line 3, which starts at column 6" in problem.message


def test_misindented_sibling_not_blamed():
    text = "rules:\n  - name: a\n    route: fast\n  default: strong\n"
    problem = parse_yaml(text, "p.yaml").problems[0]

    assert "fix line" not in problem.message


def test_syntax_error_flow_context():
    text = "name: x\nlist: [1, 2\n"
    problem = parse_yaml(text, "p.yaml").problems[0]

    # ruamel reports the end of the stream, then names where the list starts.
    assert (problem.line, problem.column) == (3, 1)
    assert "line 2, column 7" in problem.message
    assert problem.format().startswith("p.yaml:3:1: error: invalid YAML: ")


def test_nesting_depth_limit():
    depth = yamlio.MAX_NESTING_DEPTH + 50
    text = "[" * depth + "]" * depth + "\n"

    loaded = parse_yaml(text, "p.yaml")

    assert loaded.doc is None
    assert "nested more than" in loaded.problems[0].message


@pytest.mark.parametrize(
    "depth, accepted", [(MAX_NESTING_DEPTH, True), (MAX_NESTING_DEPTH + 1, False)]
)
def test_flow_nesting_boundary(depth, accepted):
    text = "[" * depth + "]" * depth + "\n"

    loaded = parse_yaml(text, "p.yaml")

    assert (loaded.problems == []) is accepted
    if not accepted:
        problem = loaded.problems[0]
        assert (problem.line, problem.column) == (1, MAX_NESTING_DEPTH + 1)


def test_flow_nesting_rejected_fast():
    # ruamel alone takes over a second for this before its own depth check applies.
    depth = 2_000
    text = "a: " + "[" * depth + "]" * depth + "\n"

    started = time.perf_counter()
    loaded = parse_yaml(text, "p.yaml")
    elapsed = time.perf_counter() - started

    assert loaded.doc is None
    assert len(loaded.problems) == 1
    problem = loaded.problems[0]
    assert (problem.line, problem.column) == (1, len("a: ") + MAX_NESTING_DEPTH + 1)
    assert "nested more than" in problem.message
    assert elapsed < 0.5


def test_flow_nesting_across_lines():
    depth = MAX_NESTING_DEPTH + 20
    text = "a:\n" + "  [\n" * depth + "  ]\n" * depth

    loaded = parse_yaml(text, "p.yaml")

    # Bracket n is on line n + 1, so the one that crosses the limit is on 102.
    problem = loaded.problems[0]
    assert (problem.line, problem.column) == (MAX_NESTING_DEPTH + 2, 3)


BRACKETS = "[" * 300

BRACKETS_AS_TEXT = {
    "comment": (f"a: 1  # {BRACKETS}\n", 1),
    "single": (f"a: '{BRACKETS}''s'\n", f"{BRACKETS}'s"),
    "double": (f'a: "{BRACKETS}\\"x"\n', f'{BRACKETS}"x'),
    "block": (f"a: |\n  {BRACKETS}\n  more\nb: 2\n", f"{BRACKETS}\nmore\n"),
    "plain": (f"a: x{BRACKETS}\n", f"x{BRACKETS}"),
    "flow": (f"a: ['{BRACKETS}', x]\n", [BRACKETS, "x"]),
}


@pytest.mark.parametrize("case", BRACKETS_AS_TEXT)
def test_brackets_in_text_not_nesting(case):
    text, expected = BRACKETS_AS_TEXT[case]

    loaded = parse_yaml(text, "p.yaml")

    assert loaded.problems == []
    assert loaded.doc["a"] == expected


def test_brackets_in_plain_lines():
    text = "".join(f"k{index}: x[\n" for index in range(MAX_NESTING_DEPTH * 2))

    loaded = parse_yaml(text, "p.yaml")

    assert loaded.problems == []
    assert loaded.doc["k0"] == "x["


@pytest.mark.parametrize("extra_bytes, accepted", [(0, True), (1, False)])
def test_size_limit_boundary(monkeypatch, extra_bytes, accepted):
    monkeypatch.setattr(yamlio, "MAX_YAML_BYTES", 1000)
    # "é" is two bytes in UTF-8, so the text has fewer characters than bytes.
    prefix = "a: '" + "é" * 100
    text = prefix + "x" * (1000 - len(prefix.encode()) - 2 + extra_bytes) + "'\n"
    size = len(text.encode("utf-8"))
    assert size == 1000 + extra_bytes

    loaded = parse_yaml(text, "p.yaml")

    assert (loaded.problems == []) is accepted
    if not accepted:
        assert [(p.line, p.column) for p in loaded.problems] == [(1, 1)]
        assert f"({size:,} bytes)" in loaded.problems[0].message


def test_size_limit_default():
    text = "a: '" + "x" * (10 << 20) + "'\n"

    started = time.perf_counter()
    loaded = parse_yaml(text, "p.yaml")
    elapsed = time.perf_counter() - started

    assert loaded.doc is None
    message = loaded.problems[0].message
    assert f"{len(text):,} bytes" in message
    assert "10.0 MiB" in message
    assert "limit of 1.0 MiB" in message
    assert elapsed < 1


# Alias bombs


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        items = ",".join([f"*{previous}"] * 9)
        lines.append(f"{name}: &{name} [{items}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_rejected_fast():
    text = billion_laughs()

    started = time.perf_counter()
    loaded = parse_yaml(text, "bomb.yaml")
    elapsed = time.perf_counter() - started

    assert elapsed < 1.0
    # A bool, because the repr of an expanded bomb in a failure would not end.
    document_built = loaded.doc is not None
    assert not document_built
    assert len(loaded.problems) == 1
    problem = loaded.problems[0]
    assert "expand the anchors by hand or remove aliases" in problem.message

    # Level k anchors a list of 9 aliases to level k - 1, so its expanded size is
    # 1 + 9 * size(k - 1), starting from 10 nodes at level 0. Each alias adds one
    # copy. Find the first alias that takes the total past the limit.
    previous_size, added, position = 10, 0, None
    for level in range(1, 9):
        for item in range(9):
            added += previous_size
            if added > MAX_ALIAS_EXPANSION_NODES and position is None:
                prefix = f"{chr(ord('a') + level)}: &{chr(ord('a') + level)} ["
                position = (level + 1, len(prefix) + item * len("*x,") + 1)
        previous_size = 1 + 9 * previous_size
    assert (problem.line, problem.column) == position


def test_billion_laughs_bounded_memory():
    text = billion_laughs(12)

    tracemalloc.start()
    try:
        loaded = parse_yaml(text, "bomb.yaml")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # A bool, because the repr of an expanded bomb in a failure would not end.
    document_built = loaded.doc is not None
    assert not document_built
    assert peak < 20 * 1024 * 1024


@pytest.mark.parametrize(("aliases", "accepted"), [(100, True), (101, False)])
def test_alias_limit_boundary(aliases, accepted):
    # The anchored list contains 99 scalars, so each alias adds exactly 100 nodes.
    anchored = ", ".join(["x"] * 99)
    references = ", ".join(["*big"] * aliases)
    text = f"big: &big [{anchored}]\ncopies: [{references}]\n"

    loaded = parse_yaml(text, "p.yaml")

    assert (100 * aliases <= MAX_ALIAS_EXPANSION_NODES) == accepted
    if accepted:
        assert loaded.problems == []
        assert len(loaded.doc["copies"]) == aliases
        return
    assert loaded.doc is None
    problem = loaded.problems[0]
    assert (problem.line, problem.column) == column_of(text, "*big", 101)


def test_recursive_alias_rejected():
    text = "a: &loop\n  - x\n  - *loop\n"
    loaded = parse_yaml(text, "p.yaml")

    assert loaded.doc is None
    assert (loaded.problems[0].line, loaded.problems[0].column) == (3, 5)
    assert "expand forever" in loaded.problems[0].message


def test_small_anchors_accepted():
    loaded = parse_yaml(COMMENTED_POLICY, "p.yaml")

    assert loaded.problems == []
    assert loaded.doc["models"]["backup"]["model"] == "openai/gpt-4o"


def test_merge_key_accepted():
    text = "base: &base {model: m, temperature: 0}\nfast:\n  <<: *base\n  model: x\n"
    loaded = parse_yaml(text, "p.yaml")

    assert loaded.problems == []
    assert loaded.doc["fast"]["temperature"] == 0
    assert loaded.doc["fast"]["model"] == "x"
    assert dump_yaml(loaded.doc, loaded.text_format) == text


def test_reused_anchor_warning():
    text = "a: &x 1\nb: &x 2\nc: *x\n"
    loaded = parse_yaml(text, "p.yaml")

    assert loaded.doc["c"] == 2
    assert len(loaded.problems) == 1
    problem = loaded.problems[0]
    assert problem.severity == "warning"
    assert (problem.line, problem.column) == column_of(text, "&x", 2)
    assert "first defined at line 1" in problem.message


# Duplicate keys


def test_duplicate_keys_all_reported():
    text = (
        "name: a\n"
        "rules:\n"
        "  - {route: fast, route: strong}\n"
        "name: b\n"
        "default: strong\n"
        "name: c\n"
    )
    loaded = parse_yaml(text, "p.yaml")

    found = [(p.line, p.column, p.message) for p in loaded.problems]
    assert len(found) == 3
    assert found[0][:2] == column_of(text, "route", 2)
    assert "first defined at line 3" in found[0][2]
    assert found[1][:2] == column_of(text, "name", 2)
    assert "first defined at line 1" in found[1][2]
    assert found[2][:2] == column_of(text, "name", 3)
    assert "first defined at line 1" in found[2][2]
    assert all("duplicate key" in message for *_, message in found)


def test_duplicate_keys_first_kept():
    loaded = parse_yaml("name: a\nname: b\n", "p.yaml")

    assert loaded.doc["name"] == "a"
    assert loaded.has_errors


def test_quoted_duplicate_key():
    loaded = parse_yaml("name: a\n'name': b\n", "p.yaml")

    assert error_messages(loaded) != []
    assert (loaded.problems[0].line, loaded.problems[0].column) == (2, 1)


# Tabs


def test_tab_indentation_each_line():
    text = "models:\n\tstrong: x\n  \tfast: y\nrules: []\n\tz: 1\n"
    loaded = parse_yaml(text, "p.yaml")

    found = [(p.line, p.column) for p in loaded.problems]
    assert found == [(2, 1), (3, 3), (5, 1)]
    assert all("use spaces" in p.message for p in loaded.problems)
    assert all(p.severity == "error" for p in loaded.problems)
    assert loaded.doc is None


def test_tab_in_block_scalar_allowed():
    text = "note: |\n  line\n  \tindented text\nname: x\n"
    loaded = parse_yaml(text, "p.yaml")

    assert loaded.problems == []
    assert loaded.doc["note"] == "line\n\tindented text\n"


def test_tab_after_block_scalar():
    text = "note: |\n  line\n  \ttext\nrules:\n\t- x\n"
    loaded = parse_yaml(text, "p.yaml")

    assert [(p.line, p.column) for p in loaded.problems] == [(5, 1)]


def test_tab_after_colon():
    text = "name: x\nroute:\tfast\n"
    loaded = parse_yaml(text, "p.yaml")

    assert [(p.line, p.column) for p in loaded.problems] == [column_of(text, "\t")]
    assert "replace it with spaces" in loaded.problems[0].message


# YAML 1.1 boolean words


@pytest.mark.parametrize(
    ("word", "boolean"),
    [("yes", "true"), ("No", "false"), ("on", "true"), ("OFF", "false"), ("y", "true")],
)
def test_yaml11_word_warning(word, boolean):
    text = f"name: x\nenabled: {word}\n"
    loaded = parse_yaml(text, "p.yaml")

    assert loaded.doc["enabled"] == word
    assert len(loaded.problems) == 1
    problem = loaded.problems[0]
    assert problem.severity == "warning"
    assert (problem.line, problem.column) == (2, 10)
    assert f'read as the string "{word}"' in problem.message
    assert f"write {boolean}" in problem.message


def test_yaml11_quoted_no_warning():
    text = "a: 'no'\nb: \"yes\"\nc: true\nd: false\nyes: 1\ne: nothing\n"
    loaded = parse_yaml(text, "p.yaml")

    assert loaded.problems == []
    assert loaded.legacy_booleans == []


def test_yaml11_word_positions():
    text = "rules:\n  - name: a\n    flags: [on, 'off', n]\nnote: |\n  no\n"
    loaded = parse_yaml(text, "p.yaml")

    found = [(b.line, b.column, b.text, b.yaml11_value) for b in loaded.legacy_booleans]
    on_line, on_column = column_of(text, "on,")
    n_line, n_column = column_of(text, "n]")
    assert found == [(on_line, on_column, "on", True), (n_line, n_column, "n", False)]
    assert loaded.legacy_booleans[0].path == ("rules", 0, "flags", 0)
    assert loaded.legacy_booleans[1].path == ("rules", 0, "flags", 2)


def test_problems_sorted():
    text = "name: a\nenabled: yes\nname: b\n"
    loaded = parse_yaml(text, "p.yaml")

    positions = [(p.line, p.column) for p in loaded.problems]
    assert positions == [(2, 10), (3, 1)]
    assert [p.severity for p in loaded.problems] == ["warning", "error"]


# Documents that are not a mapping


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("\n\n", None),
        ("# only a comment\n# and another\n", None),
        ("---\n", None),
        ("- a\n- b\n", ["a", "b"]),
        ("just a string\n", "just a string"),
        ("42\n", 42),
    ],
)
def test_non_mapping_document(text, expected):
    loaded = parse_yaml(text, "p.yaml")

    assert loaded.problems == []
    assert loaded.doc == expected


# Reading files


def test_invalid_utf8_position(tmp_path):
    path = tmp_path / "policy.yaml"
    # Line 3 starts with two 2-byte characters, so the bad byte is at column 5.
    data = b"name: x\nrules: []\n\xc3\xa9\xc3\xa9: \xff\n"
    path.write_bytes(data)

    with pytest.raises(InputError) as caught:
        read_text_file(path)

    message = str(caught.value)
    assert message.startswith(f"{path}:3:5: error: invalid UTF-8 byte 0xff")
    bad_offset = data.index(b"\xff")
    assert f"byte offset {bad_offset}" in message
    assert caught.value.problems[0].line == 3
    assert caught.value.problems[0].column == 5


def test_invalid_utf8_after_bom(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: \xc3\n")

    with pytest.raises(InputError) as caught:
        load_yaml_file(path)

    problem = caught.value.problems[0]
    assert (problem.line, problem.column) == (1, 4)
    assert "byte offset 6" in problem.message


def test_utf16_rejected(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_bytes("name: x\n".encode("utf-16"))

    with pytest.raises(InputError, match="UTF-16"):
        read_text_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_yaml_file(tmp_path / "absent.yaml")


def test_mixed_newlines_majority():
    text, text_format = yamlio.decode_text(b"a: 1\r\nb: 2\r\nc: 3\n", "p.yaml")

    assert text == "a: 1\nb: 2\nc: 3\n"
    assert text_format.newline == "\r\n"


# Atomic writes


def test_atomic_write_replaces(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("old\n")
    path.chmod(0o640)

    atomic_write_text(path, "new é\n")

    assert path.read_bytes() == "new é\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["policy.yaml"]


def test_atomic_write_new_file_mode(tmp_path):
    path = tmp_path / "new.yaml"
    umask = os.umask(0o022)
    os.umask(umask)

    atomic_write_text(path, "x: 1\n")

    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_atomic_write_encode_failure(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("original\n")

    with pytest.raises(InputError, match="cannot encode"):
        atomic_write_text(path, "café\n", encoding="ascii")

    assert path.read_text() == "original\n"
    assert sorted(os.listdir(tmp_path)) == ["policy.yaml"]


def test_atomic_write_fsync_failure(tmp_path, monkeypatch):
    path = tmp_path / "policy.yaml"
    path.write_text("original\n")

    def failing_fsync(descriptor):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(yamlio.os, "fsync", failing_fsync)
    with pytest.raises(InputError, match="Input/output error"):
        atomic_write_text(path, "replacement\n")

    assert path.read_text() == "original\n"
    assert sorted(os.listdir(tmp_path)) == ["policy.yaml"]


def test_atomic_write_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "policy.yaml"
    path.write_text("original\n")

    def interrupted_replace(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(yamlio.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(path, "replacement\n")

    assert path.read_text() == "original\n"
    assert sorted(os.listdir(tmp_path)) == ["policy.yaml"]


def test_atomic_write_follows_symlink(tmp_path):
    target = tmp_path / "real.yaml"
    target.write_text("old\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)

    atomic_write_text(link, "new\n")

    assert link.is_symlink()
    assert target.read_text() == "new\n"


def test_atomic_write_keeps_fifo(tmp_path):
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)

    with pytest.raises(InputError, match="is not a regular file but a FIFO"):
        atomic_write_text(fifo, "x\n")

    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["p.yaml"]


def test_atomic_write_symlink_to_fifo(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "p.yaml"
    link.symlink_to(fifo)

    with pytest.raises(InputError, match="not a regular file"):
        atomic_write_text(link, "x\n")

    assert link.is_symlink()
    assert stat.S_ISFIFO(os.stat(link).st_mode)


def test_atomic_write_missing_folder(tmp_path):
    with pytest.raises(InputError, match="cannot write"):
        atomic_write_text(tmp_path / "absent" / "p.yaml", "x\n")


# Positions


def test_node_position_keys_items():
    loaded = parse_yaml(EXAMPLE_POLICY, "p.yaml")
    doc = loaded.doc

    assert node_position(doc, "rules") == column_of(EXAMPLE_POLICY, "rules:")
    rules = doc["rules"]
    assert node_position(rules, 1) == column_of(EXAMPLE_POLICY, "name: short")
    all_items = rules[1]["when"]["all"]
    assert node_position(all_items, 2) == column_of(EXAMPLE_POLICY, "{prompt_tokens")
    assert node_position(doc["models"]["fast"], "params") == column_of(
        EXAMPLE_POLICY, "params"
    )
    route_line, route_column = column_of(EXAMPLE_POLICY, "route: strong")
    expected = (route_line, route_column + len("route: "))
    assert value_position(rules[0], "route") == expected


def test_node_position_fallbacks():
    text = "base: &base {model: m}\nfast:\n  <<: *base\n  route: x\n"
    doc = parse_yaml(text, "p.yaml").doc

    # A merged key has no position of its own, so the mapping's is used.
    assert node_position(doc["fast"], "model") == (3, 3)
    assert node_position(doc["fast"], "absent") == (3, 3)
    assert node_position(doc) == (1, 1)
    assert node_position("plain string", "x") == (1, 1)
    assert value_position({"a": 1}, "a") == (1, 1)


# Performance


def generated_policy(rule_count: int) -> str:
    head = EXAMPLE_POLICY.partition("rules:\n")[0]
    tail = EXAMPLE_POLICY.partition("\ndefault:")[2]
    rules = "".join(
        f"  - name: rule-{index}   # rule {index}\n"
        "    when:\n"
        "      all:\n"
        "        - {task: {in: [faq, greeting]}}\n"
        f"        - {{locale: l{index}}}\n"
        "        - {prompt_tokens: {lt: 400}}\n"
        "    route: fast\n"
        "\n"
        for index in range(rule_count)
    )
    return head + "rules:\n" + rules + "default:" + tail


def best_time(function, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


def test_safety_walk_overhead():
    text = generated_policy(36)
    assert len(text.splitlines()) >= 300

    loaded = parse_yaml(text, "p.yaml")
    assert loaded.problems == []
    assert dump_yaml(loaded.doc, loaded.text_format) == text

    loader = yamlio._new_loader()
    started = time.perf_counter()
    root = loader.compose(text)
    compose_seconds = time.perf_counter() - started

    def walk():
        yamlio._NodeInspection("p.yaml", loader.composer.alias_marks).run(root)

    # The checks are one linear walk over the composed nodes, which should cost a
    # small fraction of ruamel's own scan, parse and compose.
    assert best_time(walk, repeats=3) < 0.25 * compose_seconds
