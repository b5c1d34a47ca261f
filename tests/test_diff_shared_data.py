"""Policy diff on the real MMLU two-model data: humanities moved to the weak model.

OLD sends every request to the strong model; NEW sends the humanities category
to the weak one. Moves and per-subject regressions are checked against figures
computed straight from the raw data file. The same diff is then run through
the command line with OLD read as a saved version (POLICY@N) and from a git
revision (git:REV:path). The sample comes from the MMLU `routebook import`
command in docs/import.md, or from a few lines of Python where that command
is missing.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from tui.cli import main
from tui.core.diff import diff_policies
from tui.core.policy import parse_policy
from tui.core.samples import load_sample
from tui.core.versions import file_digest, save_policy

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MMLU = DATA / "mmlu_two_models.jsonl"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not MMLU.is_file(),
        reason=f"real two-model data not found at {MMLU}; these tests need"
        " ../shared/data beside the project",
    ),
]

STRONG = "openai/gpt-4-1106-preview"
WEAK = "together_ai/mistralai/Mixtral-8x7B-Instruct-v0.1"

OLD_POLICY = f"""\
schema: routebook/v1
name: mmlu-routing
version: 1
models:
  strong: {{model: {STRONG}}}
  weak: {{model: {WEAK}}}
segments:
  category: {{field: metadata.category}}
  subject: {{field: metadata.task_type}}
rules: []
default: strong
budgets:
  baseline: strong
  max_regression: 0.03
  min_samples: 30
"""

NEW_RULES = """\
rules:
  - name: humanities-to-weak
    when: {category: humanities}
    route: weak
"""

NEW_POLICY = OLD_POLICY.replace("version: 1", "version: 2").replace(
    "rules: []\n", NEW_RULES
)


def documented_import_arguments(target: Path) -> list[str] | None:
    """Return the MMLU command from docs/import.md as CLI arguments, or None.

    The input path is pointed at the data folder and the output at `target`.
    """
    docs = ROOT / "docs" / "import.md"
    if not (ROOT / "tui" / "import_cmd.py").is_file() or not docs.is_file():
        return None

    blocks = re.findall(r"```sh\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    commands = [block for block in blocks if "mmlu_two_models.jsonl" in block]
    if not commands:
        return None

    words = shlex.split(commands[0].replace("\\\n", " "))
    assert words[:2] == ["routebook", "import"], words
    arguments = []
    for index, word in enumerate(words[1:], start=1):
        if word.endswith("mmlu_two_models.jsonl"):
            word = str(MMLU)
        elif words[index - 1] in ("-o", "--output"):
            word = str(target)
        arguments.append(word)
    return arguments


def convert_with_python(source: Path, target: Path) -> None:
    """Stand in for `routebook import` in builds that do not have it."""
    lines = source.read_text(encoding="utf-8").splitlines()
    with target.open("w", encoding="utf-8") as out:
        for line in lines:
            row = json.loads(line)
            metadata = {key: row[key] for key in ("task_type", "category", "locale")}
            request = {
                "id": row["id"],
                "prompt": row["prompt"],
                "metadata": metadata,
                "outputs": {
                    STRONG: {"grade": float(row["strong_correct"])},
                    WEAK: {"grade": float(row["weak_correct"])},
                },
            }
            out.write(json.dumps(request) + "\n")


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("mmlu") / "mmlu.jsonl"
    arguments = documented_import_arguments(target)
    if arguments is None:
        convert_with_python(MMLU, target)
    else:
        assert main(arguments) == 0
    return target


@pytest.fixture(scope="module")
def raw_subjects() -> dict[str, dict]:
    """Per subject: category, row count, strong and weak correct counts."""
    subjects: dict[str, dict] = defaultdict(lambda: {"n": 0, "strong": 0, "weak": 0})
    with MMLU.open(encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            figures = subjects[row["subject"]]
            figures["category"] = row["category"]
            figures["n"] += 1
            figures["strong"] += bool(row["strong_correct"])
            figures["weak"] += bool(row["weak_correct"])
    return dict(subjects)


@pytest.fixture(scope="module")
def diff_json(sample_path) -> dict:
    sample = load_sample(sample_path, known_models={STRONG, WEAK})
    assert [p for p in sample.problems if p.is_error] == []
    old = parse_policy(OLD_POLICY, "old.yaml").policy
    new = parse_policy(NEW_POLICY, "new.yaml").policy
    return diff_policies(old, new, sample.requests).to_json()


def test_mmlu_moves(diff_json, raw_subjects):
    total = sum(figures["n"] for figures in raw_subjects.values())
    humanities = sum(
        figures["n"]
        for figures in raw_subjects.values()
        if figures["category"] == "humanities"
    )
    assert total == 14_042
    assert diff_json["requests"] == total
    assert diff_json["moved"] == {"strong->weak": humanities}
    assert diff_json["rules"]["added"] == ["humanities-to-weak"]


def test_mmlu_subject_regressions(diff_json, raw_subjects):
    segments = {
        segment["value"]: segment
        for segment in diff_json["segments"]
        if segment["dimension"] == "subject"
    }
    assert set(segments) == set(raw_subjects)
    for subject, figures in raw_subjects.items():
        segment = segments[subject]
        moved_here = figures["category"] == "humanities"
        expected = (figures["strong"] - figures["weak"]) / figures["n"]
        if not moved_here:
            expected = 0.0
        assert segment["requests"] == figures["n"], subject
        assert segment["regression_before"] == pytest.approx(0.0, abs=1e-12), subject
        assert segment["regression_after"] == pytest.approx(expected), subject
        expected_moves = {"strong->weak": figures["n"]} if moved_here else {}
        assert segment["moved"] == expected_moves, subject
        status = "fail" if expected > 0.03 else "pass"
        assert segment["status_before"] == "pass", subject
        assert segment["status_after"] == status, subject


def test_mmlu_category_and_summary(diff_json, raw_subjects):
    humanities = [f for f in raw_subjects.values() if f["category"] == "humanities"]
    count = sum(f["n"] for f in humanities)
    gap = sum(f["strong"] - f["weak"] for f in humanities) / count
    segment = next(
        s
        for s in diff_json["segments"]
        if (s["dimension"], s["value"]) == ("category", "humanities")
    )
    assert segment["regression_after"] == pytest.approx(gap)
    assert round(gap * 100, 1) == 18.1

    newly = [
        subject
        for subject, f in raw_subjects.items()
        if f["category"] == "humanities" and (f["strong"] - f["weak"]) / f["n"] > 0.03
    ]
    assert len(diff_json["totals"]["newly_failing"]) == len(newly) + 1
    assert diff_json["summary"].startswith(f"{count} requests move strong->weak;")
    failing = f"{len(newly) + 1} segments newly fail: subject=moral_scenarios (+37.9 pt"
    assert failing in diff_json["summary"]


def run_json(capsys, arguments: list[str]) -> dict:
    assert main(arguments) == 0
    return json.loads(capsys.readouterr().out)


def test_mmlu_diff_saved_versions(tmp_path, sample_path, diff_json, capsys):
    path = tmp_path / "mmlu.yaml"
    path.write_text(OLD_POLICY, encoding="utf-8")
    save_policy(
        path,
        NEW_POLICY.replace("version: 2", "version: 1"),
        loaded_digest=file_digest(path),
    )

    output = run_json(
        capsys,
        [
            "diff",
            f"{path}@1",
            f"{path}@2",
            "--sample",
            str(sample_path),
            "--format",
            "json",
        ],
    )

    assert output["old"]["version"] == 1
    assert output["new"]["version"] == 2
    assert output["moved"] == diff_json["moved"]
    assert output["segments"] == diff_json["segments"]


def test_mmlu_diff_git_revision(tmp_path, sample_path, diff_json, capsys, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    path = repo / "mmlu.yaml"
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    path.write_text(OLD_POLICY, encoding="utf-8")
    subprocess.run([*git, "add", "mmlu.yaml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "all strong"], check=True)
    path.write_text(NEW_POLICY, encoding="utf-8")
    monkeypatch.chdir(repo)

    output = run_json(
        capsys,
        [
            "diff",
            "git:HEAD:mmlu.yaml",
            "mmlu.yaml",
            "--sample",
            str(sample_path),
            "--format",
            "json",
        ],
    )

    assert output["old"]["source"] == "git:HEAD:mmlu.yaml"
    assert output["moved"] == diff_json["moved"]
    assert output["segments"] == diff_json["segments"]
