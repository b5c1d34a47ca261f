"""Column mappings and `routebook import` on CSV, TSV and JSONL files."""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tui import import_cmd
from tui.core.importer import (
    MappingError,
    import_file,
    import_rows,
    parse_item,
    parse_mapping,
    parse_template,
)
from tui.core.problems import InputError
from tui.core.samples import load_sample

ROOT = Path(__file__).resolve().parents[1]

BASE = ["id=id", "prompt=prompt"]


def write_csv(path: Path, header: list[str], rows: list[list[str]], **kwargs) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, **kwargs)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def rows_of(path, items, **kwargs) -> list[dict]:
    return list(import_rows(path, parse_mapping(items), **kwargs))


# --- mapping items ---------------------------------------------------------------


def test_item_request_column():
    item = parse_item("reference=reference_answer")

    assert (item.kind, item.name, item.column) == (
        "request",
        "reference",
        "reference_answer",
    )
    assert item.constant is None


def test_item_metadata_type():
    item = parse_item("metadata.turns:int=n_turns")

    assert (item.kind, item.name, item.conversion, item.column) == (
        "metadata",
        "turns",
        "int",
        "n_turns",
    )


def test_item_constants_converted():
    assert parse_item("weight:=2").constant == 2.0
    assert parse_item("metadata.dataset:=gsm8k").constant == "gsm8k"
    assert parse_item("metadata.version:=1.10").constant == "1.10"
    assert parse_item("metadata.version:float:=1.10").constant == 1.1
    assert parse_item("outputs[m].grade:=True").constant == 1.0


def test_item_output_template():
    item = parse_item("outputs[openai/{strong_model}].text=strong_output")

    assert item.kind == "output"
    assert item.model == ((False, "openai/"), (True, "strong_model"))
    assert item.model_text == "openai/{strong_model}"
    assert item.column == "strong_output"


def test_item_model_with_colon():
    item = parse_item("outputs[ollama/llama3:8b].text=answer")

    assert item.model == ((False, "ollama/llama3:8b"),)
    assert item.column == "answer"


def test_template_braces():
    assert parse_template("a{{b}}/{c}") == ((False, "a{b}/"), (True, "c"))
    assert parse_template("{x}{y}") == ((True, "x"), (True, "y"))


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("output[x].text=a", "unknown target 'output' (did you mean 'outputs'?)"),
        ("promt=prompt", "did you mean 'prompt'?"),
        ("grade=correct", "write outputs[MODEL].grade=COLUMN"),
        ("outputs[x].txt=a", "unknown output field 'txt' (did you mean 'text'?)"),
        ("outputs[x.text=a", "outputs[ is not closed by ]"),
        ("outputs[].text=a", "model string in outputs[MODEL] is empty"),
        ("outputs[{m].text=a", "unclosed '{'"),
        ("outputs[a}].text=a", "unmatched '}'"),
        ("outputs[{}].text=a", "empty '{}'"),
        ("outputs[x]text=a", "must be followed by .FIELD"),
        ("metadata.a.b=x", "flat NAME"),
        ("metadata.x:intt=y", "unknown type 'intt' (did you mean 'int'?)"),
        ("prompt:int=x", "only allowed on metadata"),
        ("prompt=", "column name after '=' is empty"),
        ("weight:=heavy", "invalid constant: expected a number"),
        ("weight:=-1", "positive number"),
        ("=x", "expected TARGET=COLUMN or TARGET:=VALUE"),
    ],
)
def test_item_errors(item, words):
    with pytest.raises(MappingError) as caught:
        parse_item(item)
    assert words in str(caught.value)


# --- parse_mapping ---------------------------------------------------------------


def test_mapping_later_item_wins():
    mapping = parse_mapping([*BASE, "outputs[m].grade=a", "outputs[m].grade=b"])

    grades = [f for f in mapping.fields if f.name == "grade"]
    assert len(grades) == 1
    assert grades[0].column == "b"


def test_mapping_columns_listed():
    mapping = parse_mapping(
        [*BASE, "outputs[p/{model}].text=out", "metadata.x:=c"], where=["flag=true"]
    )

    assert mapping.columns() == ["id", "prompt", "model", "out", "flag"]


def test_mapping_collects_all_errors():
    with pytest.raises(InputError) as caught:
        parse_mapping(["id=id", "promt=prompt", "outputs[x].txt=a"])

    message = str(caught.value)
    assert "invalid --map item 'promt=prompt'" in message
    assert "invalid --map item 'outputs[x].txt=a'" in message
    assert len(message.splitlines()) == 2


def test_mapping_needs_prompt():
    with pytest.raises(InputError) as caught:
        parse_mapping(["id=id"])
    assert "neither prompt nor messages" in str(caught.value)


def test_mapping_prompt_and_messages():
    with pytest.raises(InputError) as caught:
        parse_mapping(["prompt=a", "messages=b"])
    assert "both prompt and messages" in str(caught.value)


def test_mapping_bad_filter():
    with pytest.raises(InputError) as caught:
        parse_mapping(BASE, where=["contaminated"])
    assert "invalid --where filter 'contaminated'" in str(caught.value)


def test_mapping_file_list(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(
        "format: csv\nmap:\n  - id=qid\n  - prompt=question\nwhere:\n  - lang!=xx\n",
        encoding="utf-8",
    )

    mapping = parse_mapping([str(path)])

    assert mapping.fmt == "csv"
    assert [(f.name, f.column) for f in mapping.fields] == [
        ("id", "qid"),
        ("prompt", "question"),
    ]
    (row_filter,) = mapping.filters
    assert (row_filter.column, row_filter.value, row_filter.negate) == (
        "lang",
        "xx",
        True,
    )


def test_mapping_file_pairs(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(
        "map:\n"
        "  prompt: question\n"
        "  metadata.dataset: {const: demo}\n"
        "  weight: {const: 3}\n"
        "  outputs[openai/{model}].grade: correct\n",
        encoding="utf-8",
    )

    mapping = parse_mapping(path)

    by_name = {f.name: f for f in mapping.fields}
    assert by_name["dataset"].constant == "demo"
    assert by_name["weight"].constant == 3.0
    assert by_name["grade"].model_text == "openai/{model}"


def test_mapping_json_file_override(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(
        json.dumps({"map": ["prompt=q", "outputs[m].grade=strict"]}), encoding="utf-8"
    )

    mapping = parse_mapping([str(path), "outputs[m].grade=lenient"])

    (grade,) = [f for f in mapping.fields if f.name == "grade"]
    assert grade.column == "lenient"


def test_mapping_file_top_list(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("- prompt=q\n- id=i\n", encoding="utf-8")

    assert [f.name for f in parse_mapping(path).fields] == ["prompt", "id"]


def test_mapping_file_error_positions(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(
        "map:\n  - prompt=q\n  - promt=q\nwher:\n  - a=b\n", encoding="utf-8"
    )

    with pytest.raises(InputError) as caught:
        parse_mapping(path)

    problems = {(p.line, p.column): p.message for p in caught.value.problems}
    assert "did you mean 'prompt'" in problems[(3, 5)]
    assert "unknown key 'wher' (did you mean 'where'?)" in problems[(4, 1)]
    assert str(caught.value).splitlines()[0].startswith(f"{path}:")


def test_mapping_file_bad_yaml(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("map:\n  - prompt=q\n  bad: [\n", encoding="utf-8")

    with pytest.raises(InputError) as caught:
        parse_mapping(path)
    (problem,) = caught.value.problems
    assert "invalid YAML" in problem.message
    assert problem.line >= 3


def test_mapping_file_duplicate_keys(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("map: [prompt=q]\nformat: csv\nmap: [prompt=r]\n", encoding="utf-8")

    with pytest.raises(InputError) as caught:
        parse_mapping(path)

    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (3, 1)
    assert "duplicate key 'map'" in problem.message


def test_mapping_file_deep_nesting(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("map: " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")

    with pytest.raises(InputError) as caught:
        parse_mapping(path)

    (problem,) = caught.value.problems
    # The 101st bracket is the first one past the nesting limit of 100.
    assert (problem.line, problem.column) == (1, len("map: ") + 101)
    assert "nested more than" in problem.message


def test_mapping_file_alias_bomb(tmp_path):
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 9) + "]")
    path = tmp_path / "map.yaml"
    path.write_text("\n".join(lines) + "\nmap: [prompt=q]\n", encoding="utf-8")

    with pytest.raises(InputError) as caught:
        parse_mapping(path)

    assert any("aliases expand" in p.message for p in caught.value.problems)


def test_mapping_file_missing(tmp_path):
    with pytest.raises(InputError) as caught:
        parse_mapping([str(tmp_path / "absent.yaml")])
    assert "cannot read mapping file" in str(caught.value)
    assert "without '='" in str(caught.value)


# --- CSV --------------------------------------------------------------------------


def test_csv_bool_grades(tmp_path):
    grades = ["True", "false", "1", "0", "yes", "0.25", "", "NaN"]
    rows = [[str(i), f"q{i}", g] for i, g in enumerate(grades)]
    path = write_csv(tmp_path / "in.csv", ["id", "prompt", "ok"], rows)

    result = rows_of(path, [*BASE, "outputs[m].grade=ok"])

    expected = [1.0, 0.0, 1.0, 0.0, 1.0, 0.25, None, None]
    got = [r.get("outputs", {}).get("m", {}).get("grade") for r in result]
    assert got == expected
    assert result[0]["outputs"]["m"]["grade_source"] == "data"
    assert "outputs" not in result[6]


def test_csv_metadata_types(tmp_path):
    header = ["id", "prompt", "tenant", "turns", "score", "flag", "tags"]
    rows = [["a", "p", "007", "3", "0.5", "True", '["x", "y"]']]
    path = write_csv(tmp_path / "in.csv", header, rows)

    (request,) = rows_of(
        path,
        [
            *BASE,
            "metadata.tenant=tenant",
            "metadata.turns=turns",
            "metadata.turns_n:int=turns",
            "metadata.score:float=score",
            "metadata.flag:bool=flag",
            "metadata.tags:json=tags",
        ],
    )

    assert request["metadata"] == {
        "tenant": "007",
        "turns": "3",
        "turns_n": 3,
        "score": 0.5,
        "flag": True,
        "tags": ["x", "y"],
    }


def test_csv_multiline_line_numbers(tmp_path):
    rows = [["a", "line one\nline two", "x"], ["b", "p", "maybe"]]
    path = write_csv(tmp_path / "in.csv", ["id", "prompt", "ok"], rows)
    problems = []

    result = list(
        import_rows(
            path, parse_mapping([*BASE, "outputs[m].grade=ok"]), problems=problems
        )
    )

    assert result == []
    first, second = problems
    assert (first.line, first.column) == (2, 1)
    assert "column 'ok'" in first.message
    assert '"x"' in first.message
    assert (second.line, second.column) == (4, 1)
    assert '"maybe"' in second.message


def test_csv_first_error_raises(tmp_path):
    path = write_csv(tmp_path / "in.csv", ["id", "prompt", "ok"], [["a", "p", "2"]])

    with pytest.raises(InputError) as caught:
        rows_of(path, [*BASE, "outputs[m].grade=ok"])
    (problem,) = caught.value.problems
    assert problem.line == 2
    assert 'a grade must be in 0..1, got "2"' in problem.message


def test_csv_field_count(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,prompt\na,p\nb,q,extra\n", encoding="utf-8")
    problems = []

    result = list(import_rows(path, parse_mapping(BASE), problems=problems))

    assert [r["id"] for r in result] == ["a"]
    (problem,) = problems
    assert problem.line == 3
    assert "3 fields but the header has 2" in problem.message


def test_csv_unknown_column(tmp_path):
    path = write_csv(tmp_path / "in.csv", ["id", "prompt", "strong_output"], [])

    with pytest.raises(InputError) as caught:
        rows_of(path, [*BASE, "outputs[m].text=strong_outptu"])

    message = str(caught.value)
    assert "column 'strong_outptu' not found in the header" in message
    assert "did you mean 'strong_output'" in message
    assert "available columns: id, prompt, strong_output" in message


def test_csv_header_problems(tmp_path):
    duplicate = tmp_path / "dup.csv"
    duplicate.write_text("id,prompt,id\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")

    with pytest.raises(InputError, match="appears twice"):
        rows_of(duplicate, BASE)
    with pytest.raises(InputError, match="expected a header row"):
        rows_of(empty, BASE)


def test_csv_header_problem_located(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("id,prompt,id\n", encoding="utf-8")

    with pytest.raises(InputError) as caught:
        rows_of(path, BASE)

    (problem,) = caught.value.problems
    assert (problem.path, problem.line, problem.column) == (str(path), 1, 1)
    assert str(caught.value) == problem.format()


@pytest.mark.parametrize(
    "cell, words",
    [
        ("[" * 100_000 + "]" * 100_000, "levels deep"),
        ("9" * 5000, "integer of 5000 digits"),
        ('"a\\ud800"', "lone surrogate \\ud800"),
    ],
    ids=["deep", "long-integer", "surrogate"],
)
def test_csv_json_cell_rejected(tmp_path, cell, words):
    path = write_csv(tmp_path / "in.csv", ["id", "prompt", "x"], [["a", "p", cell]])
    problems = []

    mapping = parse_mapping([*BASE, "metadata.x:json=x"])

    rows = list(import_rows(path, mapping, problems=problems))

    assert rows == []
    (problem,) = problems
    assert problem.line == 2
    assert words in problem.message


def test_csv_bom_and_tsv(tmp_path):
    csv_path = tmp_path / "in.csv"
    csv_path.write_bytes(b"\xef\xbb\xbfid,prompt\r\na,\xc3\xa9t\xc3\xa9\r\n")
    tsv_path = write_csv(
        tmp_path / "in.tsv", ["id", "prompt"], [["b", "tab\tless"]], delimiter="\t"
    )

    assert rows_of(csv_path, BASE) == [{"id": "a", "prompt": "\u00e9t\u00e9"}]
    assert rows_of(tsv_path, BASE) == [{"id": "b", "prompt": "tab\tless"}]


def test_csv_messages_column(tmp_path):
    messages = [{"role": "user", "content": "hi"}]
    path = write_csv(tmp_path / "in.csv", ["id", "chat"], [["a", json.dumps(messages)]])

    (request,) = rows_of(path, ["id=id", "messages=chat"])

    assert request == {"id": "a", "messages": messages}


def test_csv_empty_prompt(tmp_path):
    path = write_csv(tmp_path / "in.csv", ["id", "prompt"], [["a", ""]])

    with pytest.raises(InputError, match="column 'prompt' for prompt is empty"):
        rows_of(path, BASE)


# --- JSONL ------------------------------------------------------------------------


def test_jsonl_conversion(tmp_path):
    rows = [
        {
            "qid": 17,
            "text": "2+2?",
            "answer": 4,
            "lang": "en",
            "n": 3,
            "strong_model": "gpt-4o",
            "strong": {"out": "4", "ok": True, "usage": {"completion_tokens": 1}},
            "weak_ok": None,
        }
    ]
    path = write_jsonl(tmp_path / "in.jsonl", rows)

    (request,) = rows_of(
        path,
        [
            "id=qid",
            "prompt=text",
            "reference=answer",
            "weight:=2",
            "metadata.locale=lang",
            "metadata.n=n",
            "metadata.dataset:=demo",
            "outputs[openai/{strong_model}].text=strong.out",
            "outputs[openai/{strong_model}].grade=strong.ok",
            "outputs[openai/{strong_model}].completion_tokens=strong.usage.completion_tokens",
            "outputs[openai/{strong_model}].grade_source:=judge",
            "outputs[together_ai/weak].grade=weak_ok",
        ],
    )

    assert request == {
        "id": "17",
        "prompt": "2+2?",
        "metadata": {"locale": "en", "n": 3, "dataset": "demo"},
        "reference": "4",
        "weight": 2.0,
        "outputs": {
            "openai/gpt-4o": {
                "text": "4",
                "grade": 1.0,
                "completion_tokens": 1,
                "grade_source": "judge",
            }
        },
    }


def test_jsonl_empty_text_kept(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "prompt": "p", "out": ""}])

    (request,) = rows_of(path, [*BASE, "outputs[m].text=out"])

    assert request["outputs"] == {"m": {"text": ""}}


def test_jsonl_generated_ids(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"prompt": "a"}\n\n{"prompt": "b"}\n', encoding="utf-8")

    result = rows_of(path, ["prompt=prompt"])

    assert [r["id"] for r in result] == ["line-1", "line-3"]


def test_jsonl_malformed_line(tmp_path):
    bad = '{"id": "b", "prompt": tru}'
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "a", "prompt": "p"}) + "\n" + bad + "\n")
    problems = []

    result = list(import_rows(path, parse_mapping(BASE), problems=problems))

    assert [r["id"] for r in result] == ["a"]
    (problem,) = problems
    assert (problem.line, problem.column) == (2, bad.index("tru") + 1)
    assert "invalid JSON" in problem.message


def test_jsonl_undecodable_lines(tmp_path):
    depth = 100_000
    deep = '{"id": "b", "prompt": "p", "x": ' + "[" * depth + "]" * depth + "}"
    long_integer = '{"id": "c", "prompt": "p", "n": ' + "9" * 5000 + "}"
    lone = '{"id": "d", "prompt": "p\\udc00"}'
    lines = [json.dumps({"id": "a", "prompt": "p"}), deep, long_integer, lone]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = []

    result = list(import_rows(path, parse_mapping(BASE), problems=problems))

    assert [r["id"] for r in result] == ["a"]
    located = [(p.line, p.column) for p in problems]
    assert located == [
        (2, deep.rindex("[") + 1),
        (3, long_integer.index("9") + 1),
        (4, lone.index("\\udc00") + 1),
    ]
    assert f"nested {depth + 1} levels deep" in problems[0].message
    assert "integer of 5000 digits" in problems[1].message
    assert "lone surrogate \\udc00" in problems[2].message


def test_jsonl_bad_value_column(tmp_path):
    line = {"id": "a", "prompt": "p", "ok": "sometimes"}
    path = write_jsonl(tmp_path / "in.jsonl", [line])
    problems = []

    list(
        import_rows(
            path, parse_mapping([*BASE, "outputs[m].grade=ok"]), problems=problems
        )
    )

    (problem,) = problems
    text = json.dumps(line)
    assert problem.column == text.index('"sometimes"') + 1
    assert "outputs[m].grade" in problem.message


def test_jsonl_unknown_column(tmp_path):
    rows = [{"id": "a", "prompt": "p"}, {"id": "b", "prompt": "q", "extra": 1}]
    path = write_jsonl(tmp_path / "in.jsonl", rows)

    assert len(rows_of(path, [*BASE, "metadata.extra=extra"])) == 2
    with pytest.raises(InputError) as caught:
        rows_of(path, [*BASE, "metadata.x=extr"])
    message = str(caught.value)
    assert "column 'extr' not found in any row (did you mean 'extra'?)" in message
    assert "available columns: id, prompt, extra" in message


def test_jsonl_empty_model_column(tmp_path):
    rows = [{"id": "a", "prompt": "p", "model": None, "out": "x"}]
    path = write_jsonl(tmp_path / "in.jsonl", rows)

    with pytest.raises(InputError, match="column 'model' is empty"):
        rows_of(path, [*BASE, "outputs[p/{model}].text=out"])


def test_jsonl_duplicate_id(tmp_path):
    rows = [
        {"id": "a", "prompt": "p"},
        {"id": "b", "prompt": "p"},
        {"id": "a", "prompt": "q"},
    ]
    path = write_jsonl(tmp_path / "in.jsonl", rows)
    problems = []

    result = list(import_rows(path, parse_mapping(BASE), problems=problems))

    assert [r["id"] for r in result] == ["a", "b"]
    (problem,) = problems
    assert (problem.line, problem.column) == (3, json.dumps(rows[2]).index('"a"') + 1)
    assert "duplicate id 'a' (first on line 1)" in problem.message


def test_jsonl_no_rows(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n\n", encoding="utf-8")

    with pytest.raises(InputError, match="no data rows"):
        rows_of(path, BASE)


def test_unknown_extension(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text('{"id": "a", "prompt": "p"}\n', encoding="utf-8")

    with pytest.raises(InputError, match="--format"):
        rows_of(path, BASE)
    assert rows_of(path, BASE, fmt="jsonl") == [{"id": "a", "prompt": "p"}]


def test_not_utf8_input(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"id,prompt\na,caf\xe9\n")

    with pytest.raises(InputError) as caught:
        rows_of(path, BASE)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (2, 6)


# --- filters ----------------------------------------------------------------------


def test_where_filters(tmp_path):
    rows = [
        {"id": "a", "prompt": "p", "contaminated": True, "lang": "en", "n": 1},
        {"id": "b", "prompt": "p", "contaminated": False, "lang": "de", "n": 2},
        {"id": "c", "prompt": "p", "contaminated": False, "lang": "en", "n": 2.0},
        {"id": "d", "prompt": "p", "contaminated": None, "lang": "en", "n": 3},
    ]
    path = write_jsonl(tmp_path / "in.jsonl", rows)

    def kept(*where: str) -> list[str]:
        mapping = parse_mapping(BASE, where=list(where))
        return [r["id"] for r in import_rows(path, mapping)]

    assert kept("contaminated=false") == ["b", "c"]
    assert kept("contaminated!=true") == ["b", "c", "d"]
    assert kept("contaminated=null") == ["d"]
    assert kept("lang=en", "n=2") == ["c"]
    assert kept("lang!=en") == ["b"]


def test_where_csv_bools(tmp_path):
    rows = [["a", "p", "True"], ["b", "p", "False"], ["c", "p", ""]]
    path = write_csv(tmp_path / "in.csv", ["id", "prompt", "flag"], rows)

    mapping = parse_mapping(BASE, where=["flag=false"])

    assert [r["id"] for r in import_rows(path, mapping)] == ["b"]


# --- writing ----------------------------------------------------------------------


def test_import_file_loads_clean(tmp_path):
    rows = [
        {
            "id": f"r{i}",
            "prompt": f"q{i} \u05e9\u05dc\u05d5\u05dd \U0001f600",
            "ok": i % 2,
        }
        for i in range(5)
    ]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    target = tmp_path / "out.jsonl"
    mapping = parse_mapping([*BASE, "outputs[openai/gpt-4o].grade=ok"])

    summary = import_file(source, mapping, target)

    assert summary.problems == []
    assert (summary.rows_read, summary.requests_written) == (5, 5)
    assert summary.grades_per_model == {"openai/gpt-4o": 5}
    assert summary.texts_per_model == {"openai/gpt-4o": 0}
    sample = load_sample(target, known_models={"openai/gpt-4o"})
    assert sample.problems == []
    grades = [r.outputs["openai/gpt-4o"].grade for r in sample.requests]
    assert grades == [float(i % 2) for i in range(5)]
    assert sample.requests[0].prompt == rows[0]["prompt"]


def test_import_file_errors_write_nothing(tmp_path):
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [{"id": "a", "prompt": "p", "ok": 1}, {"id": "b", "prompt": "p", "ok": 7}],
    )
    target = tmp_path / "out.jsonl"
    target.write_text("previous\n", encoding="utf-8")

    summary = import_file(source, parse_mapping([*BASE, "outputs[m].grade=ok"]), target)

    assert len(summary.problems) == 1
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_import_file_unknown_column_writes_nothing(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "prompt": "p"}])
    target = tmp_path / "out.jsonl"

    with pytest.raises(InputError):
        import_file(source, parse_mapping([*BASE, "metadata.x=nope"]), target)
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_import_file_keeps_fifo(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "prompt": "p"}])
    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)

    with pytest.raises(InputError, match="is not a regular file but a FIFO"):
        import_file(source, parse_mapping(BASE), fifo)

    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_import_file_stdout(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "prompt": "p"}])

    summary = import_file(source, parse_mapping(BASE), "-")

    assert summary.requests_written == 1
    assert capsys.readouterr().out == '{"id": "a", "prompt": "p"}\n'


# --- the command ------------------------------------------------------------------


def run_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="routebook")
    import_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_command_success(tmp_path, capsys):
    source = write_csv(
        tmp_path / "in.csv", ["id", "prompt", "ok"], [["a", "p", "True"]]
    )
    target = tmp_path / "out.jsonl"

    code = run_command(
        [
            "import",
            str(source),
            "-o",
            str(target),
            "--map",
            "id=id",
            "--map",
            "prompt=prompt",
        ]
        + ["--map", "outputs[m].grade=ok"]
    )

    assert code == 0
    err = capsys.readouterr().err
    assert f"wrote 1 requests to {target} (read 1 rows)" in err
    assert "m: 0 texts, 1 grades" in err
    assert (
        json.loads(target.read_text(encoding="utf-8"))["outputs"]["m"]["grade"] == 1.0
    )


def test_command_where_summary(tmp_path, capsys):
    rows = [
        {"id": "a", "prompt": "p", "keep": True},
        {"id": "b", "prompt": "p", "keep": False},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    target = tmp_path / "out.jsonl"

    code = run_command(
        ["import", str(source), "-o", str(target), "--map", "id=id"]
        + ["--map", "prompt=prompt", "--where", "keep=true"]
    )

    assert code == 0
    assert "1 left out by --where" in capsys.readouterr().err
    assert len(target.read_text(encoding="utf-8").splitlines()) == 1


def test_command_mapping_error(tmp_path, capsys):
    source = write_csv(tmp_path / "in.csv", ["id", "prompt"], [["a", "p"]])

    code = run_command(["import", str(source), "--map", "promt=prompt"])

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("routebook: error: invalid --map item 'promt=prompt'")


def test_command_invalid_rows(tmp_path, capsys):
    source = write_csv(tmp_path / "in.csv", ["id", "prompt", "ok"], [["a", "p", "x"]])
    target = tmp_path / "out.jsonl"

    code = run_command(
        ["import", str(source), "-o", str(target), "--map", "prompt=prompt"]
        + ["--map", "outputs[m].grade=ok"]
    )

    assert code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"{source}:2:1: error: column 'ok'")
    assert lines[-1] == (
        f"routebook: error: 1 invalid rows in {source}; nothing was written to {target}"
    )
    assert not target.exists()


def test_command_missing_map(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        run_command(["import", str(tmp_path / "in.csv")])
    assert caught.value.code == 2
    assert "--map" in capsys.readouterr().err


def test_cli_subprocess(tmp_path):
    source = write_csv(tmp_path / "in.csv", ["id", "prompt"], [["a", "p"]])
    target = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    result = subprocess.run(
        [sys.executable, "-m", "tui.import_cmd", str(source), "-o", str(target)]
        + ["--map", "id=id", "--map", "prompt=prompt"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == '{"id": "a", "prompt": "p"}\n'


def test_doc_mapping_file_example(tmp_path):
    doc = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```yaml\n(.*?)```", doc, flags=re.DOTALL)
    mapping_path = tmp_path / "gsm8k.yaml"
    mapping_path.write_text(example, encoding="utf-8")
    row = {
        "id": "g-1",
        "prompt": "2+2?",
        "reference_answer": "4",
        "locale": "en",
        "task_type": "math_word_problem",
        "strong_model": "gpt-4-1106-preview",
        "weak_model": "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "strong_output": "4",
        "weak_output": "5",
        "strong_correct": True,
        "weak_correct": False,
        "contaminated": False,
    }
    contaminated = {**row, "id": "g-2", "contaminated": True}
    # The file's `format: jsonl` applies, although the extension says nothing.
    source = write_jsonl(tmp_path / "in.data", [row, contaminated])

    (request,) = rows_of(source, [str(mapping_path)])

    assert request["id"] == "g-1"
    assert request["metadata"] == {
        "locale": "en",
        "task_type": "math_word_problem",
        "dataset": "gsm8k",
    }
    assert request["outputs"]["openai/gpt-4-1106-preview"]["grade"] == 1.0
    weak = request["outputs"]["together_ai/mistralai/Mixtral-8x7B-Instruct-v0.1"]
    assert weak == {"text": "5", "grade": 0.0, "grade_source": "data"}


def test_jsonl_list_path(tmp_path):
    row = {"id": "a", "prompt": "p", "choices": [{"text": "first"}, {"text": "second"}]}
    path = write_jsonl(tmp_path / "in.jsonl", [row])

    (request,) = rows_of(path, [*BASE, "outputs[m].text=choices.1.text"])

    assert request["outputs"] == {"m": {"text": "second"}}
