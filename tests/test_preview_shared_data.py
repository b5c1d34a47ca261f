"""Preview and gate on the real two-model data, against independent computations.

The data folder sits beside the project (`../shared/data`); these tests skip
when it is absent, so a clone of the project alone still passes.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import pytest

from tui.cli import main

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MMLU = DATA / "mmlu_two_models.jsonl"
GSM8K = DATA / "gsm8k_two_models.jsonl"

pytestmark = pytest.mark.skipif(
    not MMLU.exists(), reason=f"real two-model data not found at {DATA}"
)

STRONG = "openai/gpt-4-1106-preview"
WEAK = "together_ai/mistralai/Mixtral-8x7B-Instruct-v0.1"

MMLU_POLICY = f"""\
schema: routebook/v1
name: mmlu-by-category
version: 1
models:
  strong: {{model: {STRONG}}}
  weak: {{model: {WEAK}}}
segments:
  category: {{field: metadata.category}}
  subject: {{field: metadata.subject}}
rules:
  - name: humanities-and-social-to-weak
    when: {{category: {{in: [humanities, social_sciences]}}}}
    route: weak
default: strong
budgets:
  baseline: strong
  max_regression: 0.10
  min_samples: 30
"""


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(args)
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def mmlu_sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mmlu") / "mmlu.jsonl"
    code = main(
        [
            "import",
            str(MMLU),
            "-o",
            str(out),
            "--map",
            "id=id",
            "--map",
            "prompt=prompt",
            "--map",
            "metadata.category=category",
            "--map",
            "metadata.subject=subject",
            "--map",
            "metadata.locale=locale",
            "--map",
            f"outputs[{STRONG}].grade=strong_correct",
            "--map",
            f"outputs[{WEAK}].grade=weak_correct",
        ]
    )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def mmlu_policy(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "mmlu.yaml"
    path.write_text(MMLU_POLICY, encoding="utf-8")
    return path


def independent_mmlu() -> dict:
    """Regression per subject and category, computed straight from the raw file."""
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    rows = [
        json.loads(line)
        for line in MMLU.read_text(encoding="utf-8").split("\n")
        if line
    ]
    for row in rows:
        routed_weak = row["category"] in ("humanities", "social_sciences")
        strong = 1.0 if row["strong_correct"] else 0.0
        routed = (1.0 if row["weak_correct"] else 0.0) if routed_weak else strong
        difference = strong - routed
        groups[("subject", row["subject"])].append(difference)
        groups[("category", row["category"])].append(difference)
        groups[("total", "")].append(difference)
    return {key: values for key, values in groups.items()}


def test_mmlu_global_passes_while_subjects_fail(mmlu_policy, mmlu_sample, capsys):
    code, out = run_cli(
        ["preview", str(mmlu_policy), "--sample", str(mmlu_sample), "--format", "json"],
        capsys,
    )
    assert code == 0
    report = json.loads(out)
    expected = independent_mmlu()

    total = expected[("total", "")]
    assert report["requests"] == len(total) == 14042
    assert report["graded"] == 14042
    assert report["totals"]["regression"] == pytest.approx(
        sum(total) / len(total), abs=1e-12
    )
    assert round(report["totals"]["regression"] * 100, 1) == 8.3
    assert report["totals"]["status"] == "pass"

    segments = {(s["dimension"], s["value"]): s for s in report["segments"]}
    for key, differences in expected.items():
        if key[0] == "total":
            continue
        segment = segments[key]
        mean = sum(differences) / len(differences)
        assert segment["requests"] == len(differences)
        assert segment["regression"] == pytest.approx(mean, abs=1e-12), key
        low, high = segment["regression_interval"]
        spread = math.sqrt(
            sum((d - mean) ** 2 for d in differences)
            / (len(differences) - 1)
            / len(differences)
        )
        assert low == pytest.approx(mean - 1.959963984540054 * spread, abs=1e-9)
        assert high == pytest.approx(mean + 1.959963984540054 * spread, abs=1e-9)

    failing = {
        s["value"]: s["regression"] for s in report["segments"] if s["status"] == "fail"
    }
    failing_subjects = {
        value
        for (dimension, value) in segments
        if dimension == "subject" and value in failing
    }
    assert len(failing_subjects) == 11
    assert round(failing["moral_scenarios"] * 100, 1) == 37.9
    assert round(failing["formal_logic"] * 100, 1) == 25.4
    assert round(failing["professional_law"] * 100, 1) == 19.5
    assert {"humanities", "social_sciences"} <= set(failing)
    assert segments[("category", "STEM")]["status"] == "pass"
    assert segments[("category", "STEM")]["share"] == {"strong": 1.0, "weak": 0.0}


def test_mmlu_gate_fails_listing_segments(mmlu_policy, mmlu_sample, capsys):
    code, out = run_cli(
        ["gate", str(mmlu_policy), "--sample", str(mmlu_sample)], capsys
    )
    assert code == 1
    assert "FAIL subject=moral_scenarios: regression +37.9 pt > budget +10.0 pt" in out
    assert "FAIL category=humanities" in out
    assert "gate: FAILED" in out


def test_mmlu_gate_passes_all_strong(tmp_path, mmlu_sample, capsys):
    policy = tmp_path / "all-strong.yaml"
    policy.write_text(
        MMLU_POLICY.replace("route: weak", "route: strong"), encoding="utf-8"
    )
    code, out = run_cli(["gate", str(policy), "--sample", str(mmlu_sample)], capsys)
    assert code == 0
    assert "gate: passed" in out


def test_mmlu_rules_and_cost(mmlu_policy, mmlu_sample, capsys):
    _, out = run_cli(
        ["preview", str(mmlu_policy), "--sample", str(mmlu_sample), "--format", "json"],
        capsys,
    )
    report = json.loads(out)
    rows = [
        json.loads(line)
        for line in MMLU.read_text(encoding="utf-8").split("\n")
        if line
    ]
    routed = sum(1 for r in rows if r["category"] in ("humanities", "social_sciences"))
    rules = {rule["name"]: rule for rule in report["rules"]}
    assert rules["humanities-and-social-to-weak"]["matched"] == routed == 7782
    assert rules["default"]["matched"] == len(rows) - routed
    # MMLU records no output text, so no cost can be computed: unknown, not zero.
    assert report["totals"]["baseline_cost"] is None
    assert report["totals"]["routed_cost"] is None
