"""Output checks measured on the real two-model data against hand labels.

The labels (tests/data/checks_labels.jsonl) were decided by reading each
output; scripts/measure_checks.py computes the same numbers and prints them.
The floors sit a little under the measured values (docs/checks.md), so that a
change which loses real cases fails while a single re-labelled edge case does
not.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from tui.core.checks import check_output

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not (DATA / "gsm8k_two_models.jsonl").exists()
        or not (DATA / "multilingual_two_models.jsonl").exists(),
        reason=f"the two-model data files are not in {DATA}; "
        "these tests measure the checks on them",
    ),
]


def load_measure():
    spec = importlib.util.spec_from_file_location(
        "measure_checks", ROOT / "scripts" / "measure_checks.py"
    )
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve their module through sys.modules while the file runs.
    sys.modules["measure_checks"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def measure():
    return load_measure()


@pytest.fixture(scope="module")
def rows(measure):
    return measure.load_rows(DATA)


@pytest.fixture(scope="module")
def labels(measure):
    return measure.load_labels()


@pytest.fixture(scope="module")
def scores(measure, labels, rows):
    return measure.score_outputs(labels, rows)


def test_labels_cover_the_subset(labels):
    outputs = [record for record in labels if record["model"] != "pair"]
    locales = {
        record["id"].split("-")[2] for record in outputs if "arenahard" in record["id"]
    }
    weak_gsm8k = [
        record
        for record in outputs
        if record["file"].startswith("gsm8k") and record["model"] == "weak"
    ]
    assert len(outputs) >= 150
    assert locales == {"de", "es", "fr", "pl", "tr", "id", "vi", "ja", "ko", "zh"}
    assert len(weak_gsm8k) >= 34


def test_labels_hold_no_data_text(labels):
    allowed = {"file", "id", "model", "labels", "format", "expects_json"}
    for record in labels:
        assert set(record) <= allowed, record


def test_scores_match_direct_count(measure, labels, rows, scores):
    # Recount one check without the Score helper.
    flagged = actual = both = 0
    for record in labels:
        if record["model"] == "pair":
            continue
        row = rows[(record["file"], record["id"])]
        output = measure.output_for(row, record["model"])
        result = check_output(output, measure.request_for(row))["wrong_language"]
        flagged += result.flag
        actual += record["labels"]["wrong_language"]
        both += result.flag and record["labels"]["wrong_language"]
    score = scores["wrong_language"]
    assert score.tp == both
    assert score.tp + score.fp == flagged
    assert score.tp + score.fn == actual


@pytest.mark.parametrize(
    ("check", "min_precision", "min_recall"),
    [
        ("truncated", 0.95, 0.88),
        ("repetitive", 0.95, 0.90),
        ("wrong_language", 0.95, 0.95),
        ("refusal", 1.0, 1.0),
    ],
)
def test_check_precision_recall(scores, check, min_precision, min_recall):
    score = scores[check]
    precision = score.tp / (score.tp + score.fp)
    recall = score.tp / (score.tp + score.fn)
    assert precision >= min_precision, score.false_positives
    assert recall >= min_recall, score.false_negatives


@pytest.mark.parametrize("check", ["empty", "invalid_json"])
def test_check_no_false_alarms(scores, check):
    assert scores[check].fp == 0, scores[check].false_positives


def test_pair_checks(measure, labels, rows):
    scores = measure.score_pairs(labels, rows)
    mismatch = scores["answer_mismatch"]
    assert mismatch.tp + mismatch.fn >= 20
    assert mismatch.tp / (mismatch.tp + mismatch.fp) >= 0.9
    assert mismatch.tp / (mismatch.tp + mismatch.fn) >= 0.9
    assert scores["format_mismatch"].fp + scores["format_mismatch"].fn <= 1


def test_format_classifier(measure, labels, rows):
    score = measure.score_formats(labels, rows)
    assert score.tp / (score.tp + score.fp) >= 0.95, score.false_positives


def test_json_request_detection(measure, labels, rows):
    score = measure.score_json_requests(labels, rows)
    assert score.fn == 0, score.false_negatives
    assert score.fp <= 1, score.false_positives


def test_gsm8k_cut_off_outputs_found(measure, rows):
    counts = measure.gsm8k_counts(rows)
    reference = 0
    for (name, _), row in rows.items():
        weak = row["weak_output"].rstrip() if name.startswith("gsm8k") else ""
        if re.search(r"<<[^>]*\Z", weak) or re.search(r"\d,\d{1,2}\Z", weak):
            reference += 1
    assert counts["reference"] == reference == 34
    assert counts["found"] == 34
    assert counts["strong_flagged"] == 0


def test_multilingual_switches_and_runaways(measure, rows):
    counts = measure.multilingual_counts(rows)
    assert counts["han_switch_flagged"]["weak"] >= counts["han_switch"]["weak"] - 1
    assert counts["han_switch_flagged"]["strong"] >= counts["han_switch"]["strong"] - 2
    runaway = counts["runaway"]["strong"] + counts["runaway"]["weak"]
    repetitive = sum(counts["runaway_repetitive"].values())
    with_tokens = sum(counts["runaway_truncated_tokens"].values())
    assert runaway == 37
    assert repetitive >= 34
    assert with_tokens >= 35
