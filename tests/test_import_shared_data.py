"""The import commands in docs/import.md, run on the real two-model data.

Each command is parsed out of the doc and run through `python -m tui.cli` in a
folder laid out like the project (the data reached as `../shared/data/`). The
samples it writes are checked against figures computed here straight from the
source files.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tui.core.importer import import_file, parse_mapping
from tui.core.samples import load_sample

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DOC = ROOT / "docs" / "import.md"

needs_data = pytest.mark.skipif(
    not DATA.is_dir(),
    reason=f"the shared two-model data folder {DATA} is absent",
)
pytestmark = pytest.mark.shared_data

GPT4 = "openai/gpt-4-1106-preview"
MIXTRAL = "together_ai/mistralai/Mixtral-8x7B-Instruct-v0.1"
QWEN_72B = "deepinfra/Qwen/Qwen2.5-72B-Instruct"
QWEN_7B = "deepinfra/Qwen/Qwen2.5-7B-Instruct"

# output file -> (source file, strong model, weak model, strong and weak grade columns)
EXPECTED = {
    "gsm8k.jsonl": (
        "gsm8k_two_models.jsonl",
        GPT4,
        MIXTRAL,
        ("strong_correct", "weak_correct"),
    ),
    "gsm8k-lenient.jsonl": (
        "gsm8k_two_models.jsonl",
        GPT4,
        MIXTRAL,
        ("strong_correct_lenient", "weak_correct_lenient"),
    ),
    "mmlu.jsonl": (
        "mmlu_two_models.jsonl",
        GPT4,
        MIXTRAL,
        ("strong_correct", "weak_correct"),
    ),
    "multilingual.jsonl": (
        "multilingual_two_models.jsonl",
        QWEN_72B,
        QWEN_7B,
        (None, None),
    ),
}

# Expected accuracy in percent, rounded to one decimal, for (strong, weak).
PUBLISHED_ACCURACY = {
    "gsm8k.jsonl": (85.8, 65.5),
    "gsm8k-lenient.jsonl": (95.0, 65.8),
    "mmlu.jsonl": (80.6, 68.1),
}


def doc_commands() -> list[str]:
    """Return the doc's `routebook import ../shared/data/...` commands (sh blocks)."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    commands = [block.replace("\\\n", " ").strip() for block in blocks]
    return [c for c in commands if c.startswith("routebook import ../shared/data/")]


def output_name(argv: list[str]) -> str:
    return argv[argv.index("-o") + 1]


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def cli_command() -> list[str]:
    """Invoke the real CLI; fall back to the import command's own entry point."""
    if importlib.util.find_spec("tui.cli") is not None:
        return [sys.executable, "-m", "tui.cli", "import"]
    return [sys.executable, "-m", "tui.import_cmd"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    base = tmp_path_factory.mktemp("shared-import")
    project = base / "project"
    project.mkdir()
    (base / "shared").mkdir()
    (base / "shared" / "data").symlink_to(DATA, target_is_directory=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    results = {}
    for command in doc_commands():
        argv = shlex.split(command)
        result = subprocess.run(
            cli_command() + argv[2:],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        results[output_name(argv)] = (project / output_name(argv), result)
    return results


def test_doc_lists_commands():
    commands = [shlex.split(command) for command in doc_commands()]

    assert sorted(output_name(argv) for argv in commands) == sorted(EXPECTED)
    sources = {Path(argv[2]).name for argv in commands}
    assert sources == {entry[0] for entry in EXPECTED.values()}


@needs_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_command_succeeds(converted, name):
    path, result = converted[name]

    assert result.returncode == 0, result.stderr
    assert f"routebook: wrote {len(read_jsonl(path))} requests" in result.stderr
    sample = load_sample(path, known_models={EXPECTED[name][1], EXPECTED[name][2]})
    assert sample.problems == []


@needs_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rows_match_source(converted, name):
    source_name, strong, weak, _ = EXPECTED[name]
    source = read_jsonl(DATA / source_name)
    written = read_jsonl(converted[name][0])

    assert len(written) == len(source)
    assert [r["id"] for r in written] == [row["id"] for row in source]
    for request, row in zip(written, source, strict=True):
        assert request["prompt"] == row["prompt"]
        assert request["metadata"]["locale"] == row["locale"]
        assert request["metadata"]["task_type"] == row["task_type"]
        assert set(request["outputs"]) == {strong, weak}


@needs_data
@pytest.mark.parametrize("name", ["gsm8k.jsonl", "gsm8k-lenient.jsonl", "mmlu.jsonl"])
def test_grade_means(converted, name):
    source_name, strong, weak, (strong_column, weak_column) = EXPECTED[name]
    source = read_jsonl(DATA / source_name)
    written = read_jsonl(converted[name][0])

    for model, column, published in (
        (strong, strong_column, PUBLISHED_ACCURACY[name][0]),
        (weak, weak_column, PUBLISHED_ACCURACY[name][1]),
    ):
        expected_right = sum(1 for row in source if row[column] is True)
        grades = [r["outputs"][model]["grade"] for r in written]
        assert all(grade in (0.0, 1.0) for grade in grades)
        assert sum(grades) == expected_right
        assert round(100 * sum(grades) / len(grades), 1) == published
        assert all(r["outputs"][model]["grade_source"] == "data" for r in written)


@needs_data
def test_gsm8k_texts_and_reference(converted):
    source = read_jsonl(DATA / "gsm8k_two_models.jsonl")
    written = read_jsonl(converted["gsm8k.jsonl"][0])

    for request, row in zip(written, source, strict=True):
        assert request["outputs"][GPT4]["text"] == row["strong_output"]
        assert request["outputs"][MIXTRAL]["text"] == row["weak_output"]
        assert request["reference"] == row["reference_answer"]
        assert request["metadata"]["contaminated"] is row["contaminated"]


@needs_data
def test_mmlu_grades_only(converted):
    written = read_jsonl(converted["mmlu.jsonl"][0])
    source = read_jsonl(DATA / "mmlu_two_models.jsonl")

    assert len(written) == 14042
    for request, row in zip(written, source, strict=True):
        assert request["metadata"]["category"] == row["category"]
        for output in request["outputs"].values():
            assert "text" not in output


@needs_data
def test_multilingual_text_only(converted):
    source = read_jsonl(DATA / "multilingual_two_models.jsonl")
    written = read_jsonl(converted["multilingual.jsonl"][0])

    assert len(written) == 2000
    assert all(row["strong_correct"] is None for row in source)
    for request, row in zip(written, source, strict=True):
        assert request["outputs"][QWEN_72B] == {"text": row["strong_output"]}
        assert request["outputs"][QWEN_7B] == {"text": row["weak_output"]}
        assert request["metadata"]["question_id"] == row["question_id"]

    per_locale: dict[str, int] = {}
    for request in written:
        locale = request["metadata"]["locale"]
        per_locale[locale] = per_locale.get(locale, 0) + 1
    assert per_locale == {locale: 200 for locale in per_locale}
    assert len(per_locale) == 10


@needs_data
def test_contaminated_filter(tmp_path):
    source_path = DATA / "gsm8k_two_models.jsonl"
    clean = sum(1 for row in read_jsonl(source_path) if row["contaminated"] is False)
    mapping = parse_mapping(["id=id", "prompt=prompt"], where=["contaminated=false"])

    summary = import_file(source_path, mapping, tmp_path / "clean.jsonl")

    assert summary.problems == []
    assert summary.requests_written == clean == 1045
    assert summary.rows_filtered == 10


def litellm_price_map() -> dict:
    """Read LiteLLM's bundled price map without importing LiteLLM."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("litellm is not installed")
    folder = Path(spec.submodule_search_locations[0])
    path = folder / "model_prices_and_context_window_backup.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("model", "key", "provider"),
    [
        (GPT4, "gpt-4-1106-preview", "openai"),
        (MIXTRAL, MIXTRAL, "together_ai"),
        (QWEN_72B, QWEN_72B, "deepinfra"),
        (QWEN_7B, QWEN_7B, "deepinfra"),
    ],
)
def test_model_strings_priced(model, key, provider):
    entry = litellm_price_map().get(key)

    assert entry is not None, f"{model} has no price under {key!r}"
    assert entry["litellm_provider"] == provider
    assert entry["input_cost_per_token"] > 0
    assert entry["output_cost_per_token"] > 0
