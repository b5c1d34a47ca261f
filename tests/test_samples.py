"""Sample files: loading with located problems, and atomic output updates."""

from __future__ import annotations

import json
import os
import random
import stat
import sys
import time
from pathlib import Path

import pytest

from tui.core import samples
from tui.core.problems import InputError
from tui.core.samples import (
    load_sample,
    locate_json_value,
    parse_sample_lines,
    update_outputs,
    write_grade,
)

STRONG = "openai/gpt-4o"
FAST = "openai/gpt-4o-mini"


def dumps(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def value_column(line: str, key: str, after: int = 0) -> int:
    """1-based column of the value that follows `"key": ` (searching from `after`)."""
    marker = f'"{key}": '
    return line.index(marker, after) + len(marker) + 1


def only_problem(sample):
    assert len(sample.problems) == 1, [p.format() for p in sample.problems]
    return sample.problems[0]


# --- loading -----------------------------------------------------------------


def test_load_full_request(tmp_path):
    line = dumps(
        {
            "id": "req-1",
            "prompt": "Summarise the invoice",
            "metadata": {"tenant_tier": "smb", "locale": "de"},
            "reference": "42",
            "weight": 2.5,
            "outputs": {
                STRONG: {
                    "text": "Total: 42",
                    "grade": 1,
                    "finish_reason": "stop",
                    "prompt_tokens": 12,
                    "completion_tokens": 3,
                    "latency_s": 0.8,
                    "cost": 0.0001,
                    "grade_source": "data",
                },
                FAST: {"text": "Total: 41", "grade": 0.25},
            },
        }
    )
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [line]))

    assert sample.problems == []
    (request,) = sample.requests
    assert request.id == "req-1"
    assert request.line == 1
    assert request.prompt == "Summarise the invoice"
    assert request.messages is None
    assert request.metadata == {"tenant_tier": "smb", "locale": "de"}
    assert request.reference == "42"
    assert request.weight == 2.5
    assert request.raw == json.loads(line)

    strong = request.outputs[STRONG]
    assert strong.text == "Total: 42"
    assert strong.grade == 1.0
    assert isinstance(strong.grade, float)
    assert strong.finish_reason == "stop"
    assert strong.prompt_tokens == 12
    assert strong.completion_tokens == 3
    assert strong.extra == {"latency_s": 0.8, "cost": 0.0001, "grade_source": "data"}
    assert request.outputs[FAST].grade == 0.25
    assert request.outputs[FAST].extra == {}


def test_load_defaults(tmp_path):
    path = write_lines(tmp_path / "s.jsonl", [dumps({"id": "a", "prompt": "hi"})])
    (request,) = load_sample(path).requests

    assert request.weight == 1.0
    assert request.metadata == {}
    assert request.outputs == {}
    assert request.reference is None


def test_load_weights(tmp_path):
    lines = [
        dumps({"id": "a", "prompt": "p", "weight": 3}),
        dumps({"id": "b", "prompt": "p", "weight": 0.5}),
        dumps({"id": "c", "prompt": "p", "weight": None}),
    ]
    sample = load_sample(write_lines(tmp_path / "s.jsonl", lines))

    assert sample.problems == []
    assert [r.weight for r in sample.requests] == [3.0, 0.5, 1.0]


def test_bool_grades(tmp_path):
    line = dumps(
        {
            "id": "a",
            "prompt": "p",
            "outputs": {STRONG: {"grade": True}, FAST: {"grade": False}},
        }
    )
    (request,) = load_sample(write_lines(tmp_path / "s.jsonl", [line])).requests

    assert request.outputs[STRONG].grade == 1.0
    assert request.outputs[FAST].grade == 0.0
    assert type(request.outputs[FAST].grade) is float


def test_blank_lines_bom_crlf(tmp_path):
    path = tmp_path / "s.jsonl"
    body = "\r\n".join(
        [
            dumps({"id": "a", "prompt": "p"}),
            "",
            "   ",
            dumps({"id": "b", "prompt": "q"}),
            "",
        ]
    )
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    sample = load_sample(path)

    assert sample.problems == []
    assert [(r.id, r.line) for r in sample.requests] == [("a", 1), ("b", 4)]


def test_messages_prompt_text(tmp_path):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "First question"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "t1", "type": "function"}],
        },
        {"role": "tool", "content": "result", "tool_call_id": "t1"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look at this"},
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,AAAA"},
                },
            ],
        },
    ]
    line = dumps({"id": "a", "messages": messages})
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [line]))

    assert sample.problems == []
    (request,) = sample.requests
    assert request.prompt is None
    assert request.messages == messages
    assert request.prompt_text() == "First question\nLook at this"


def test_unusual_text_loaded_as_is(tmp_path):
    prompts = [
        "bell \u0007 and escape \u001b[31m",
        "\u05e9\u05dc\u05d5\u05dd \u202eevil\u202c",
        "\uff21\uff22 \u6f22\u5b57 \u3042",
        "\U0001f600\U0001f1e9\U0001f1ea \u200d",
        "separator \u2028 inside",
    ]
    lines = [dumps({"id": f"r{i}", "prompt": p}) for i, p in enumerate(prompts)]
    # A raw tab inside a JSON string is invalid strict JSON but still accepted.
    lines.append('{"id": "raw", "prompt": "a\tb"}')
    sample = load_sample(write_lines(tmp_path / "s.jsonl", lines))

    assert sample.problems == []
    assert [r.prompt for r in sample.requests] == [*prompts, "a\tb"]


def test_parse_lines_iterable():
    lines = iter(["\ufeff" + dumps({"id": "a", "prompt": "p"}), dumps({"prompt": "q"})])
    sample = parse_sample_lines(lines, "mem.jsonl")

    assert [r.id for r in sample.requests] == ["a", "line-2"]
    assert sample.path == "mem.jsonl"


# --- problems ----------------------------------------------------------------


def test_malformed_json_column(tmp_path):
    bad = '{"id": "b", "prompt": }'
    lines = [dumps({"id": "a", "prompt": "p"}), bad, dumps({"id": "c", "prompt": "p"})]
    sample = load_sample(write_lines(tmp_path / "s.jsonl", lines))

    problem = only_problem(sample)
    assert problem.line == 2
    assert problem.column == bad.index("}") + 1
    assert problem.severity == "error"
    assert "invalid JSON" in problem.message
    assert [r.id for r in sample.requests] == ["a", "c"]


def test_truncated_line_column(tmp_path):
    bad = '{"id": "b", "prompt": "unfinished'
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [bad]))

    problem = only_problem(sample)
    assert (problem.line, problem.column) == (1, bad.index('"unfinished') + 1)
    assert sample.requests == []


def test_non_object_line(tmp_path):
    sample = load_sample(write_lines(tmp_path / "s.jsonl", ['["a", "b"]', "42"]))

    assert [(p.line, p.column) for p in sample.problems] == [(1, 1), (2, 1)]
    assert all("expected a JSON object" in p.message for p in sample.problems)
    assert sample.requests == []


@pytest.mark.parametrize(
    ("obj", "key", "words", "kept"),
    [
        (
            {"id": "a", "prompt": 5, "messages": [{"role": "user", "content": "x"}]},
            "prompt",
            "'prompt' must be a string",
            True,
        ),
        (
            {"id": "a", "prompt": "p", "metadata": ["en"]},
            "metadata",
            "'metadata'",
            True,
        ),
        ({"id": "a", "prompt": "p", "reference": 42}, "reference", "'reference'", True),
        ({"id": "a", "prompt": "p", "weight": -1}, "weight", "positive number", True),
        ({"id": "a", "prompt": "p", "weight": 0}, "weight", "positive number", True),
        ({"id": "a", "prompt": "p", "weight": "2"}, "weight", "positive number", True),
        ({"id": "a", "prompt": "p", "weight": True}, "weight", "positive number", True),
        ({"id": "a", "prompt": "p", "outputs": ["x"]}, "outputs", "'outputs'", True),
        ({"id": "a", "prompt": "p", "outputs": 0}, "outputs", "'outputs'", True),
        ({"id": "a", "prompt": "p", "messages": "hi"}, "messages", "'messages'", True),
    ],
)
def test_wrong_field_types(tmp_path, obj, key, words, kept):
    line = dumps(obj)
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [line]))

    problem = only_problem(sample)
    assert problem.severity == "error"
    assert (problem.line, problem.column) == (1, value_column(line, key))
    assert words in problem.message
    assert len(sample.requests) == (1 if kept else 0)


def test_wrong_type_fallbacks(tmp_path):
    lines = [
        dumps({"id": "a", "prompt": "p", "metadata": "x", "weight": -2, "outputs": []}),
    ]
    sample = load_sample(write_lines(tmp_path / "s.jsonl", lines))

    (request,) = sample.requests
    assert request.metadata == {}
    assert request.weight == 1.0
    assert request.outputs == {}
    assert len(sample.problems) == 3


@pytest.mark.parametrize(
    ("output", "field", "value_text"),
    [
        ({"grade": 1.5}, "grade", "1.5"),
        ({"grade": -0.1}, "grade", "-0.1"),
        ({"grade": "1"}, "grade", '"1"'),
        ({"grade": [1]}, "grade", "a list"),
        ({"text": 7}, "text", "7"),
        ({"text": "ok", "finish_reason": 1}, "finish_reason", "1"),
        ({"text": "ok", "prompt_tokens": -3}, "prompt_tokens", "-3"),
        ({"text": "ok", "completion_tokens": 2.5}, "completion_tokens", "2.5"),
    ],
)
def test_wrong_output_fields(tmp_path, output, field, value_text):
    line = dumps({"id": "a", "prompt": "p", "outputs": {STRONG: output}})
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [line]))

    problem = only_problem(sample)
    outputs_at = line.index('"outputs"')
    assert (problem.line, problem.column) == (1, value_column(line, field, outputs_at))
    assert f"'{field}'" in problem.message
    assert STRONG in problem.message
    assert value_text in problem.message
    (request,) = sample.requests
    assert getattr(request.outputs[STRONG], field) is None


def test_output_not_object(tmp_path):
    line = dumps(
        {"id": "a", "prompt": "p", "outputs": {STRONG: "text", FAST: {"grade": 1}}}
    )
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [line]))

    problem = only_problem(sample)
    assert problem.column == value_column(line, STRONG)
    assert list(sample.requests[0].outputs) == [FAST]


@pytest.mark.parametrize(
    ("messages", "path", "words"),
    [
        ([], ("messages",), "non-empty list"),
        (["hi"], ("messages", 0), "messages[0] must be an object"),
        ([{"content": "hi"}], ("messages", 0), "messages[0] needs a string 'role'"),
        ([{"role": "user"}], ("messages", 0), "messages[0] needs 'content'"),
        (
            [{"role": "user", "content": "a"}, {"role": "user", "content": 3}],
            ("messages", 1, "content"),
            "messages[1].content",
        ),
    ],
)
def test_bad_messages_skipped(tmp_path, messages, path, words):
    line = dumps({"id": "a", "messages": messages})
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [line]))

    assert sample.requests == []
    problem = only_problem(sample)
    assert words in problem.message
    assert "the line is skipped" in problem.message
    assert problem.column == locate_json_value(line, path)


def test_bad_messages_with_prompt(tmp_path):
    line = dumps({"id": "a", "prompt": "p", "messages": [{"role": "user"}]})
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [line]))

    problem = only_problem(sample)
    assert "the field is ignored" in problem.message
    (request,) = sample.requests
    assert request.messages is None
    assert request.prompt_text() == "p"


def test_missing_prompt_skipped(tmp_path):
    lines = [dumps({"id": "a", "metadata": {}}), dumps({"id": "b", "prompt": "p"})]
    sample = load_sample(write_lines(tmp_path / "s.jsonl", lines))

    problem = only_problem(sample)
    assert (problem.line, problem.column, problem.severity) == (1, 1, "error")
    assert [r.id for r in sample.requests] == ["b"]


def test_missing_id_generated(tmp_path):
    lines = [
        dumps({"id": "a", "prompt": "p"}),
        dumps({"prompt": "q"}),
        dumps({"id": 7, "prompt": "r"}),
    ]
    sample = load_sample(write_lines(tmp_path / "s.jsonl", lines))

    assert [r.id for r in sample.requests] == ["a", "line-2", "line-3"]
    missing, wrong_type = sample.problems
    assert (missing.line, missing.column, missing.severity) == (2, 1, "warning")
    assert "line-2" in missing.message
    assert (wrong_type.line, wrong_type.column) == (3, value_column(lines[2], "id"))
    assert wrong_type.severity == "warning"


def test_duplicate_id_later_line(tmp_path):
    lines = [
        dumps({"id": "a", "prompt": "first"}),
        dumps({"id": "b", "prompt": "p"}),
        dumps({"id": "a", "prompt": "second"}),
    ]
    sample = load_sample(write_lines(tmp_path / "s.jsonl", lines))

    problem = only_problem(sample)
    assert (problem.line, problem.column) == (3, value_column(lines[2], "id"))
    assert "duplicate id 'a' (first on line 1)" in problem.message
    assert [r.prompt for r in sample.requests] == ["first", "p"]


def test_unknown_model_warning(tmp_path):
    typo = "openai/gpt-4o-mni"
    lines = [
        dumps(
            {
                "id": str(i),
                "prompt": "p",
                "outputs": {STRONG: {"grade": 1}, typo: {"grade": 0}},
            }
        )
        for i in range(3)
    ]
    sample = load_sample(
        write_lines(tmp_path / "s.jsonl", lines), known_models={STRONG, FAST}
    )

    problem = only_problem(sample)
    assert problem.severity == "warning"
    assert (problem.line, problem.column) == (1, value_column(lines[0], typo))
    assert f"output for unknown model '{typo}' is ignored" in problem.message
    assert "add it to models: or check the spelling" in problem.message
    assert f"did you mean '{FAST}'" in problem.message
    assert "3 lines" in problem.message
    assert all(list(r.outputs) == [STRONG] for r in sample.requests)


def test_problems_sorted_by_line(tmp_path):
    lines = [
        dumps({"id": "a", "prompt": "p", "outputs": {"x/y": {"grade": 1}}}),
        "{oops",
    ]
    sample = load_sample(
        write_lines(tmp_path / "s.jsonl", lines), known_models={STRONG}
    )

    assert [p.line for p in sample.problems] == [1, 2]
    assert sample.problems[0].format().startswith(f"{tmp_path / 's.jsonl'}:1:")


def test_lone_surrogate_rejected(tmp_path):
    # json.dumps escapes the emoji as the pair \ud83d\ude00, which is valid.
    paired = json.dumps({"id": "a", "prompt": "smile \U0001f600"})
    lone = '{"id": "b", "prompt": "p", "metadata": {"tier": "smb\\ud800"}}'
    literal = '{"id": "c", "prompt": "\\\\ud800"}'
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [paired, lone, literal]))

    problem = only_problem(sample)
    assert (problem.line, problem.column) == (2, lone.index("\\ud800") + 1)
    assert problem.severity == "error"
    assert "invalid Unicode: lone surrogate \\ud800" in problem.message
    assert [r.id for r in sample.requests] == ["a", "c"]
    assert sample.requests[0].prompt == "smile \U0001f600"
    assert sample.requests[1].prompt == "\\ud800"


@pytest.mark.parametrize(
    "before, escape, after",
    [
        ("x", "\\udc00", "y"),
        ("", "\\uDBFF", ""),
        ("\\ud83d\\ude00 ", "\\ud83d", "\\u0041"),
        ("", "\\ud83d", "\\ud83d\\ude00"),
        ("\\\\\\\\", "\\udfff", ""),
    ],
)
def test_lone_surrogate_column(before, escape, after):
    line = f'{{"id": "a", "prompt": "{before}{escape}{after}"}}'
    sample = parse_sample_lines([line], "s.jsonl")

    problem = only_problem(sample)
    assert problem.column == len('{"id": "a", "prompt": "') + len(before) + 1
    assert escape in problem.message


def test_deep_nesting_line(tmp_path):
    depth = 100_000
    deep = dumps({"id": "b", "prompt": "p", "metadata": {"t": None}})
    deep = deep.replace("null", "[" * depth + "]" * depth)
    lines = [dumps({"id": "a", "prompt": "p"}), deep]
    sample = load_sample(write_lines(tmp_path / "s.jsonl", lines))

    problem = only_problem(sample)
    # The innermost bracket is the first at the deepest level: the outer object,
    # metadata and every bracket.
    assert (problem.line, problem.column) == (2, deep.rindex("[") + 1)
    assert f"nested {depth + 2} levels deep" in problem.message
    assert [r.id for r in sample.requests] == ["a"]


def test_long_integer_line(tmp_path):
    digits = sys.get_int_max_str_digits() + 1
    bad = '{"id": "a", "prompt": "p", "n": -' + "9" * digits + "}"
    long_float = '{"id": "b", "prompt": "p", "n": 1' + "0" * digits + ".5}"
    long_text = '{"id": "c", "prompt": "' + "9" * digits + '"}'
    lines = [bad, long_float, long_text]
    sample = load_sample(write_lines(tmp_path / "s.jsonl", lines))

    problem = only_problem(sample)
    assert (problem.line, problem.column) == (1, bad.index("-") + 1)
    assert f"integer of {digits} digits" in problem.message
    assert [r.id for r in sample.requests] == ["b", "c"]


def test_duplicate_key_warning(tmp_path):
    obj = {"id": "a", "prompt": "p", "outputs": {STRONG: {"text": "t", "grade": 1.0}}}
    line = dumps(obj).replace('"grade": 1.0', '"grade": 1.0, "grade": 0.0')
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [line]))

    problem = only_problem(sample)
    first = line.index('"grade"') + 1
    assert (problem.line, problem.column) == (1, line.index('"grade"', first) + 1)
    assert problem.severity == "warning"
    assert f"duplicate key 'grade' (first at column {first})" in problem.message
    # The last value wins, as with json.loads.
    assert sample.requests[0].outputs[STRONG].grade == 0.0


def test_duplicate_key_in_list(tmp_path):
    line = (
        '{"id": "a", "messages": [{"role": "user", "content": "x"}, '
        '{"role": "user", "content": "y" , "content" : "z"}]}'
    )
    sample = load_sample(write_lines(tmp_path / "s.jsonl", [line]))

    problem = only_problem(sample)
    assert problem.column == line.rindex('"content"') + 1
    assert sample.requests[0].prompt_text() == "x\nz"


def test_duplicate_key_not_carried(tmp_path):
    # A repeated key seen before the decode fails belongs to the failed line only.
    lines = ['{"a": {"k": 1, "k": 2}, "b": }', dumps({"id": "c", "prompt": "p"})]
    sample = load_sample(write_lines(tmp_path / "s.jsonl", lines))

    problem = only_problem(sample)
    assert problem.line == 1
    assert "invalid JSON" in problem.message


def test_not_utf8(tmp_path):
    path = tmp_path / "s.jsonl"
    first = dumps({"id": "a", "prompt": "p"}).encode()
    second = b'{"id": "b", "prompt": "caf\xe9 \xff"}'
    path.write_bytes(first + b"\n" + second + b"\n")

    with pytest.raises(InputError) as caught:
        load_sample(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (2, second.index(b"\xe9") + 1)
    assert "UTF-8" in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as caught:
        load_sample(tmp_path / "absent.jsonl")
    assert "cannot read sample file" in str(caught.value)


def test_locate_json_value():
    line = '{"a": 1, "b": {"c": [10, {"d": "x"}]}, "a": 2}'

    assert locate_json_value(line, ("a",)) == line.rindex("2") + 1
    assert locate_json_value(line, ("b", "c", 1, "d")) == line.index('"x"') + 1
    assert locate_json_value(line, ("b", "missing")) == line.index('{"c"') + 1
    assert locate_json_value("not json", ("a",)) == 1


# --- updating outputs ----------------------------------------------------------


def mixed_file(path: Path) -> list[bytes]:
    """Write a file with odd spacing, CRLF, a bad line and no final newline."""
    lines = [
        b'\xef\xbb\xbf{"id":"a",   "prompt":"p",  "outputs": {}}\r',
        b"",
        b'{ "id" : "b", "prompt" : "\\u00e9t\xc3\xa9", '
        b'"outputs": {"openai/gpt-4o": {"text": "x", "grade": 0}}}',
        b"{not json",
        b'{"id": "c", "prompt": "q", "weight": 2.0}',
    ]
    path.write_bytes(b"\n".join(lines))
    return lines


def test_update_keeps_other_lines(tmp_path):
    path = tmp_path / "s.jsonl"
    before = mixed_file(path)

    update_outputs(path, {"b": {STRONG: {"grade": 1.0, "graded_by": "ann"}}})

    after = path.read_bytes().split(b"\n")
    assert len(after) == len(before)
    for index in (0, 1, 3, 4):
        assert after[index] == before[index]
    changed = json.loads(after[2])
    assert changed["outputs"][STRONG] == {"text": "x", "grade": 1.0, "graded_by": "ann"}
    assert changed["prompt"] == "\u00e9t\u00e9"
    assert not path.read_bytes().endswith(b"\n")


def test_update_bom_crlf_line(tmp_path):
    path = tmp_path / "s.jsonl"
    before = mixed_file(path)

    update_outputs(path, {"a": {FAST: {"text": "new"}}})

    after = path.read_bytes().split(b"\n")
    assert after[0].startswith(b"\xef\xbb\xbf{")
    assert after[0].endswith(b"\r")
    assert json.loads(after[0][3:])["outputs"] == {FAST: {"text": "new"}}
    assert after[1:] == before[1:]


def test_update_none_removes_field(tmp_path):
    path = tmp_path / "s.jsonl"
    mixed_file(path)

    update_outputs(path, {"b": {STRONG: {"grade": None}}, "c": {FAST: {"grade": 0.5}}})

    sample = load_sample(path)
    by_id = {r.id: r for r in sample.requests}
    assert by_id["b"].outputs[STRONG].grade is None
    assert by_id["b"].outputs[STRONG].text == "x"
    assert by_id["c"].outputs[FAST].grade == 0.5
    assert by_id["c"].raw["outputs"] == {FAST: {"grade": 0.5}}


def test_update_unknown_id(tmp_path):
    path = tmp_path / "s.jsonl"
    mixed_file(path)
    before = path.read_bytes()

    with pytest.raises(InputError) as caught:
        update_outputs(
            path, {"b": {STRONG: {"grade": 1}}, "zz": {STRONG: {"grade": 1}}}
        )
    assert "'zz'" in str(caught.value)
    assert path.read_bytes() == before


def test_update_escaped_id(tmp_path):
    path = tmp_path / "s.jsonl"
    # "\u0061" is "a" written as a JSON escape, so a plain substring search misses it.
    path.write_text('{"id": "\\u0061", "prompt": "p"}\n', encoding="utf-8")

    update_outputs(path, {"a": {STRONG: {"grade": 1.0}}})

    (request,) = load_sample(path).requests
    assert request.outputs[STRONG].grade == 1.0


def test_update_generated_id(tmp_path):
    path = tmp_path / "s.jsonl"
    write_lines(path, [dumps({"id": "a", "prompt": "p"}), dumps({"prompt": "q"})])
    sample = load_sample(path)
    assert sample.requests[1].id == "line-2"

    write_grade(
        path, "line-2", STRONG, 1.0, graded_by="ann", when="2024-01-01T00:00:00Z"
    )

    lines = path.read_text(encoding="utf-8").split("\n")
    assert json.loads(lines[1])["id"] == "line-2"
    write_grade(path, "line-2", STRONG, 0.0, graded_by="bob")
    (_, request) = load_sample(path).requests
    assert request.outputs[STRONG].grade == 0.0
    assert request.outputs[STRONG].extra["graded_by"] == "bob"


def test_update_first_of_duplicates(tmp_path):
    path = tmp_path / "s.jsonl"
    lines = [dumps({"id": "a", "prompt": "one"}), dumps({"id": "a", "prompt": "two"})]
    write_lines(path, lines)

    update_outputs(path, {"a": {STRONG: {"grade": 1.0}}})

    stored = path.read_text(encoding="utf-8").split("\n")
    assert "outputs" in json.loads(stored[0])
    assert stored[1] == lines[1]


# --- write_grade ---------------------------------------------------------------


def test_write_grade_fields(tmp_path):
    path = write_lines(tmp_path / "s.jsonl", [dumps({"id": "a", "prompt": "p"})])

    write_grade(path, "a", FAST, True, graded_by="ann", when="2024-05-01T10:00:00Z")

    output = load_sample(path).requests[0].outputs[FAST]
    assert output.grade == 1.0
    assert output.extra == {
        "grade_source": "human",
        "graded_by": "ann",
        "graded_at": "2024-05-01T10:00:00Z",
    }


def test_write_grade_skip(tmp_path):
    line = dumps(
        {"id": "a", "prompt": "p", "outputs": {FAST: {"text": "t", "grade": 1}}}
    )
    path = write_lines(tmp_path / "s.jsonl", [line])

    write_grade(path, "a", FAST, None, graded_by="ann", source="human")

    output = load_sample(path).requests[0].outputs[FAST]
    assert output.grade is None
    assert output.text == "t"
    assert output.extra["graded_by"] == "ann"


def test_write_grade_default_time(tmp_path):
    path = write_lines(tmp_path / "s.jsonl", [dumps({"id": "a", "prompt": "p"})])
    start = time.time()

    write_grade(path, "a", FAST, 0.5, graded_by="ann")

    stamp = load_sample(path).requests[0].outputs[FAST].extra["graded_at"]
    assert stamp.endswith("Z")
    parsed = time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert start - 2 <= parsed <= time.time() + 2


def test_write_grade_rejects_range(tmp_path):
    path = write_lines(tmp_path / "s.jsonl", [dumps({"id": "a", "prompt": "p"})])
    before = path.read_bytes()

    with pytest.raises(ValueError):
        write_grade(path, "a", FAST, 1.5, graded_by="ann")
    assert path.read_bytes() == before


def test_write_grade_atomic_failure(tmp_path, monkeypatch):
    path = write_lines(tmp_path / "s.jsonl", [dumps({"id": "a", "prompt": "p"})])
    before = path.read_bytes()

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(samples.os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_grade(path, "a", FAST, 1.0, graded_by="ann")

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]


def test_update_skips_undecodable_lines(tmp_path):
    depth = 100_000
    deep = '{"id": "a", "prompt": "p", "x": ' + "[" * depth + "]" * depth + "}"
    long_integer = '{"id": "a", "prompt": "p", "n": ' + "9" * 5000 + "}"
    # The escaped id makes the update parse every line.
    target = '{"id": "\\u0062", "prompt": "q"}'
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join([deep, long_integer, target]), encoding="utf-8")

    update_outputs(path, {"b": {FAST: {"grade": 1.0}}})

    first, second, third = path.read_text(encoding="utf-8").split("\n")
    assert (first, second) == (deep, long_integer)
    assert json.loads(third)["outputs"] == {FAST: {"grade": 1.0}}


def test_update_not_utf8_located(tmp_path):
    bad = b'{"id": "x", "prompt": "caf\xe9"}'
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"id": "\\u0062", "prompt": "q"}\n' + bad + b"\n")

    with pytest.raises(InputError) as caught:
        update_outputs(path, {"c": {FAST: {"grade": 1.0}}})

    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (2, bad.index(b"\xe9") + 1)
    assert str(caught.value) == problem.format()


def test_update_outputs_not_object_located(tmp_path):
    path = write_lines(
        tmp_path / "s.jsonl", [dumps({"id": "a", "prompt": "p", "outputs": [1]})]
    )

    with pytest.raises(InputError) as caught:
        update_outputs(path, {"a": {FAST: {"grade": 1.0}}})

    (problem,) = caught.value.problems
    assert problem.line == 1
    assert "'outputs' is not an object" in problem.message


def test_writer_keeps_fifo(tmp_path):
    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)

    with pytest.raises(InputError, match="is not a regular file but a FIFO"):
        with samples.atomic_text_writer(fifo) as handle:
            handle.write("x\n")

    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["out.jsonl"]


def test_writer_through_symlink(tmp_path):
    target = write_lines(tmp_path / "real.jsonl", ["old"])
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)

    with samples.atomic_text_writer(link) as handle:
        handle.write("new\n")

    assert link.read_text(encoding="utf-8") == "new\n"


def test_write_grade_keeps_mode(tmp_path):
    path = write_lines(tmp_path / "s.jsonl", [dumps({"id": "a", "prompt": "p"})])
    os.chmod(path, 0o640)
    inode = path.stat().st_ino

    write_grade(path, "a", FAST, 1.0, graded_by="ann")

    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]


def test_external_edit_kept(tmp_path):
    path = write_lines(
        tmp_path / "s.jsonl",
        [dumps({"id": "a", "prompt": "p"}), dumps({"id": "b", "prompt": "q"})],
    )
    sample = load_sample(path)
    added = dumps({"id": "c", "prompt": "added elsewhere"})
    with path.open("a", encoding="utf-8") as handle:
        handle.write(added + "\n")

    write_grade(path, sample.requests[1].id, FAST, 1.0, graded_by="ann")

    reloaded = load_sample(path)
    assert [r.id for r in reloaded.requests] == ["a", "b", "c"]
    assert reloaded.requests[1].outputs[FAST].grade == 1.0
    assert path.read_text(encoding="utf-8").split("\n")[2] == added


def test_concurrent_edit_merged(tmp_path, monkeypatch):
    path = write_lines(
        tmp_path / "s.jsonl",
        [dumps({"id": "a", "prompt": "p"}), dumps({"id": "b", "prompt": "q"})],
    )
    real_read = samples._read_with_stamp
    reads = []

    def read_then_edit(path_text):
        result = real_read(path_text)
        reads.append(result)
        if len(reads) == 1:
            # Another program grades request "a" after our read, before our replace.
            time.sleep(0.01)
            other = json.loads(result[0].split(b"\n")[0])
            other["outputs"] = {STRONG: {"grade": 0.0, "graded_by": "bob"}}
            lines = result[0].split(b"\n")
            lines[0] = json.dumps(other).encode()
            Path(path_text).write_bytes(b"\n".join(lines))
        return result

    monkeypatch.setattr(samples, "_read_with_stamp", read_then_edit)
    write_grade(path, "b", FAST, 1.0, graded_by="ann")

    assert len(reads) == 2
    first, second = load_sample(path).requests
    assert first.outputs[STRONG].grade == 0.0
    assert first.outputs[STRONG].extra["graded_by"] == "bob"
    assert second.outputs[FAST].grade == 1.0


# --- speed ---------------------------------------------------------------------


def synthetic_lines(count: int) -> list[str]:
    rng = random.Random(11)
    words = "invoice refund schema ticket export locale order tenant".split()
    lines = []
    for index in range(count):
        obj = {
            "id": f"req-{index:06d}",
            "prompt": " ".join(rng.choices(words, k=30)),
            "metadata": {
                "tenant_id": f"t-{index % 40}",
                "locale": rng.choice(["en", "de"]),
            },
            "weight": 1,
            "outputs": {
                STRONG: {"text": " ".join(rng.choices(words, k=40)), "grade": 1.0},
                FAST: {
                    "text": " ".join(rng.choices(words, k=40)),
                    "grade": rng.random() < 0.7,
                },
            },
        }
        lines.append(json.dumps(obj))
    return lines


def test_load_speed_vs_json_loads(tmp_path):
    path = write_lines(tmp_path / "big.jsonl", synthetic_lines(10_000))

    def bare_loop():
        text = path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.split("\n") if line]

    def loader():
        return load_sample(path, known_models={STRONG, FAST})

    def best_cpu_time(function) -> float:
        times = []
        for _ in range(3):
            start = time.process_time()
            function()
            times.append(time.process_time() - start)
        return min(times)

    assert len(loader().requests) == 10_000
    ratio = best_cpu_time(loader) / best_cpu_time(bare_loop)
    assert ratio < 3.0, f"load_sample took {ratio:.2f}x a bare json.loads loop"
