"""Measure the output checks against hand labels and over the full two-model files.

Usage (from the project root):

    .venv/bin/python scripts/measure_checks.py                  # labels and counts
    .venv/bin/python scripts/measure_checks.py --show-errors    # list disagreements
    .venv/bin/python scripts/measure_checks.py --bench          # time 10,000 outputs
    .venv/bin/python scripts/measure_checks.py --detector-costs # lingua time, memory
    .venv/bin/python scripts/measure_checks.py --detector-accuracy

The data files are read from `../shared/data` beside the project, or from the
folder given with `--data-dir`. The labels come from
tests/data/checks_labels.jsonl.
Checks see only the output text (no finish reason, no token counts), so the
numbers measure the text rules; the runaway table adds the recorded token
counts separately.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tui.core import checks  # noqa: E402
from tui.core.checks import (  # noqa: E402
    CheckCache,
    OutputInfo,
    RequestInfo,
    check_output,
    check_pair,
    classify_format,
    prompt_asks_for_json,
)

LABELS = ROOT / "tests" / "data" / "checks_labels.jsonl"
GSM8K = "gsm8k_two_models.jsonl"
MULTILINGUAL = "multilingual_two_models.jsonl"
# max_tokens of the runs that produced the multilingual outputs.
MULTILINGUAL_MAX_TOKENS = 8192
# Outputs at or above this recorded token count are the runaway outputs near the
# cap. The recorded counts come from another tokenizer, so they stop short of
# 8,192 for some outputs that did hit the cap.
RUNAWAY_TOKENS = 7900


def default_data_dir() -> Path:
    return ROOT.parent / "shared" / "data"


def load_rows(data_dir: Path) -> dict[tuple[str, str], dict]:
    """Return every row of the two files with outputs, keyed by (file, id)."""
    rows = {}
    for name in (GSM8K, MULTILINGUAL):
        with open(data_dir / name, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                rows[(name, row["id"])] = row
    return rows


def load_labels(path: Path = LABELS) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def request_for(row: dict) -> RequestInfo:
    # expects_json stays None so that the prompt detection is measured too.
    return RequestInfo(prompt_text=row["prompt"], locale=row.get("locale"))


def output_for(row: dict, model: str, with_tokens: bool = False) -> OutputInfo:
    output = OutputInfo(text=row[f"{model}_output"])
    tokens = row.get(f"{model}_output_tokens")
    if with_tokens and tokens is not None:
        output.completion_tokens = tokens
        output.max_tokens = MULTILINGUAL_MAX_TOKENS
    return output


# --- scoring against labels -------------------------------------------------------


@dataclass
class Score:
    """Confusion counts for one check, with the ids it got wrong."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    false_positives: list[str] = field(default_factory=list)
    false_negatives: list[str] = field(default_factory=list)

    def add(self, predicted: bool, actual: bool, name: str) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
            self.false_positives.append(name)
        elif actual:
            self.fn += 1
            self.false_negatives.append(name)
        else:
            self.tn += 1

    @property
    def precision(self) -> float | None:
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        positives = self.tp + self.fn
        return self.tp / positives if positives else None


def label_name(record: dict) -> str:
    return f"{record['id']}/{record['model']}"


def score_outputs(labels: list[dict], rows: dict) -> dict[str, Score]:
    """Score every per-output check against the labelled outputs."""
    scores = {name: Score() for name in checks.OUTPUT_CHECKS}
    for record in labels:
        if record["model"] == "pair":
            continue
        row = rows[(record["file"], record["id"])]
        results = check_output(output_for(row, record["model"]), request_for(row))
        for name, score in scores.items():
            score.add(results[name].flag, record["labels"][name], label_name(record))
    return scores


def score_formats(labels: list[dict], rows: dict) -> Score:
    """Score classify_format: a hit is a predicted class equal to the label."""
    score = Score()
    for record in labels:
        if "format" not in record:
            continue
        row = rows[(record["file"], record["id"])]
        predicted = classify_format(row[f"{record['model']}_output"])
        score.add(True, predicted == record["format"], label_name(record))
    return score


def score_pairs(labels: list[dict], rows: dict) -> dict[str, Score]:
    """Score the pairwise checks: strong output as baseline, weak as other.

    answer_mismatch uses the pair records; format_mismatch the format labels of
    both outputs where both are labelled.
    """
    formats = {
        (record["file"], record["id"], record["model"]): record["format"]
        for record in labels
        if "format" in record
    }
    scores = {"answer_mismatch": Score(), "format_mismatch": Score()}
    keys = {(record["file"], record["id"]) for record in labels}
    pair_labels = {
        (record["file"], record["id"]): record["labels"]
        for record in labels
        if record["model"] == "pair"
    }
    for key in sorted(keys):
        row = rows[key]
        results = check_pair(
            output_for(row, "strong"), output_for(row, "weak"), request_for(row)
        )
        expected = pair_labels.get(key, {})
        if "answer_mismatch" in expected:
            scores["answer_mismatch"].add(
                results["answer_mismatch"].flag, expected["answer_mismatch"], key[1]
            )
        both = (formats.get((*key, "strong")), formats.get((*key, "weak")))
        if None not in both:
            actual = both[0] != both[1]
            scores["format_mismatch"].add(
                results["format_mismatch"].flag, actual, key[1]
            )
    return scores


def score_json_requests(labels: list[dict], rows: dict) -> Score:
    """Score the detection of JSON requests on the labelled rows' prompts."""
    score = Score()
    seen = set()
    for record in labels:
        key = (record["file"], record["id"])
        if key in seen or record["model"] == "pair":
            continue
        seen.add(key)
        predicted = prompt_asks_for_json(rows[key]["prompt"])
        score.add(predicted, record["expects_json"], record["id"])
    return score


# --- counts over the full files ---------------------------------------------------

_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CUT_END = re.compile(r"(?:<<[^>]*|\d,\d{1,2})\Z")


def gsm8k_counts(rows: dict) -> dict:
    """Count truncated flags on GSM8K outputs.

    The reference set is every weak output that ends inside `<<` or on a
    number like `130,00`, found here with a plain pattern on the text's end.
    """
    reference, flagged_weak, flagged_strong, found = set(), set(), set(), set()
    for (name, row_id), row in rows.items():
        if name != GSM8K:
            continue
        request = request_for(row)
        weak = row["weak_output"].rstrip()
        if _CUT_END.search(weak):
            reference.add(row_id)
        if check_output(output_for(row, "weak"), request)["truncated"].flag:
            flagged_weak.add(row_id)
        if check_output(output_for(row, "strong"), request)["truncated"].flag:
            flagged_strong.add(row_id)
    found = reference & flagged_weak
    return {
        "reference": len(reference),
        "found": len(found),
        "weak_flagged": len(flagged_weak),
        "weak_flagged_outside_reference": len(flagged_weak - reference),
        "strong_flagged": len(flagged_strong),
        "rows": sum(1 for name, _ in rows if name == GSM8K),
    }


def multilingual_counts(rows: dict) -> dict:
    """Count flags on the multilingual outputs.

    `han_switch` is the reference set: outputs outside zh and ja with a Han
    character outside code fences. `runaway` is the set of outputs whose
    recorded token count reaches RUNAWAY_TOKENS.
    """
    counts: dict = {
        "flags": Counter(),
        "han_switch": Counter(),
        "han_switch_flagged": Counter(),
        "wrong_language_by_locale": Counter(),
        "runaway": Counter(),
        "runaway_repetitive": Counter(),
        "runaway_truncated_text": Counter(),
        "runaway_truncated_tokens": Counter(),
    }
    for (name, _), row in rows.items():
        if name != MULTILINGUAL:
            continue
        request = request_for(row)
        for model in ("strong", "weak"):
            _count_output(counts, row, model, request)
    return counts


def _count_output(counts: dict, row: dict, model: str, request: RequestInfo) -> None:
    results = check_output(output_for(row, model), request)
    for check_name, result in results.items():
        if result.flag:
            counts["flags"][(model, check_name)] += 1
    if results["wrong_language"].flag:
        counts["wrong_language_by_locale"][(model, row["locale"])] += 1
    text = row[f"{model}_output"]
    if row["locale"] not in ("zh", "ja") and _HAN.search(_FENCE.sub(" ", text)):
        counts["han_switch"][model] += 1
        if results["wrong_language"].flag:
            counts["han_switch_flagged"][model] += 1
    if (row.get(f"{model}_output_tokens") or 0) >= RUNAWAY_TOKENS:
        counts["runaway"][model] += 1
        counts["runaway_repetitive"][model] += results["repetitive"].flag
        counts["runaway_truncated_text"][model] += results["truncated"].flag
        with_tokens = check_output(output_for(row, model, with_tokens=True), request)
        counts["runaway_truncated_tokens"][model] += with_tokens["truncated"].flag


# --- benchmark ----------------------------------------------------------------------


def benchmark(rows: dict, outputs: int = 10_000) -> dict:
    """Time all checks over `outputs` distinct outputs built from the data.

    The multilingual outputs (strong and weak of each row) are cycled.
    check_output keeps no results between calls (only facts about each prompt
    are cached), so a repeated text costs as much as a new one. Pairs reuse
    the same texts, one pair per two outputs.
    """
    base = [row for (name, _), row in rows.items() if name == MULTILINGUAL]
    items = []
    for index in range(outputs):
        row = base[(index // 2) % len(base)]
        model = "strong" if index % 2 == 0 else "weak"
        items.append((request_for(row), output_for(row, model)))
    chars = statistics.mean(len(output.text) for _, output in items)

    check_output(OutputInfo("warm up the detector"), RequestInfo("hello", "de"))
    wall, cpu = time.perf_counter(), time.process_time()
    for request, output in items:
        check_output(output, request)
    output_wall, output_cpu = time.perf_counter() - wall, time.process_time() - cpu

    wall, cpu = time.perf_counter(), time.process_time()
    for index in range(0, len(items) - 1, 2):
        request, first = items[index]
        check_pair(first, items[index + 1][1], request)
    pair_wall, pair_cpu = time.perf_counter() - wall, time.process_time() - cpu

    cache = CheckCache()
    for request, output in items:
        cache.check_output(output, request, checks.DEFAULT_CONFIG)
    wall = time.perf_counter()
    for request, output in items:
        cache.check_output(output, request, checks.DEFAULT_CONFIG)
    cached_wall = time.perf_counter() - wall

    return {
        "outputs": outputs,
        "mean_chars": chars,
        "output_wall": output_wall,
        "output_cpu": output_cpu,
        "pair_wall": pair_wall,
        "pair_cpu": pair_cpu,
        "cached_wall": cached_wall,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


# --- detector costs -------------------------------------------------------------------

_COST_PROBE = r"""
import json, sys, time
from lingua import IsoCode639_1, LanguageDetectorBuilder
from tui.core.language import SUPPORTED_LANGUAGES
def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
everything = sys.argv[1] == "all"
low = sys.argv[2] == "low"
preload = sys.argv[3] == "1"
start_rss = rss_mb()
start = time.perf_counter()
if everything:
    builder = LanguageDetectorBuilder.from_all_languages()
else:
    codes = [getattr(IsoCode639_1, code.upper()) for code in SUPPORTED_LANGUAGES]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
if low:
    builder = builder.with_low_accuracy_mode()
if preload:
    builder = builder.with_preloaded_language_models()
detector = builder.build()
built = time.perf_counter()
samples = json.loads(sys.stdin.read())
for text in samples:
    detector.detect_language_of(text)
first = time.perf_counter()
for text in samples * 20:
    detector.detect_language_of(text)
warm = time.perf_counter()
print(json.dumps({
    "build_s": built - start,
    "first_pass_s": first - built,
    "per_call_ms": (warm - first) / (len(samples) * 20) * 1000,
    "rss_mb": rss_mb() - start_rss,
}))
"""


def detector_costs(rows: dict) -> list[dict]:
    """Run lingua in fresh processes per configuration and report its costs.

    For one row per multilingual locale and one GSM8K row, the samples are
    the first 400 characters of the strong output and the first 100 of the
    prompt. So the first pass loads the models that both long outputs and
    short prompts make lingua load.
    """
    samples, seen = [], set()
    for row in rows.values():
        locale = row.get("locale")
        if locale in seen:
            continue
        seen.add(locale)
        samples.append(row["strong_output"][:400])
        samples.append(row["prompt"][:100])
    configurations = [
        ("all", "high", "0"),
        ("all", "high", "1"),
        ("all", "low", "0"),
        ("supported", "high", "0"),
        ("supported", "high", "1"),
        ("supported", "low", "0"),
        ("supported", "low", "1"),
    ]
    results = []
    for languages, accuracy, preload in configurations:
        completed = subprocess.run(
            [sys.executable, "-c", _COST_PROBE, languages, accuracy, preload],
            input=json.dumps(samples),
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        measured = json.loads(completed.stdout)
        measured.update(languages=languages, accuracy=accuracy, preload=preload)
        results.append(measured)
    return results


def detector_accuracy(rows: dict) -> list[dict]:
    """Compare lingua configurations and detect_language on the data.

    The reference language is each row's locale. Prompts are unescaped and
    their code masked; outputs are read as their first 400 characters of prose.
    """
    import html

    from lingua import IsoCode639_1, LanguageDetectorBuilder

    from tui.core import language

    prompts, outputs = [], []
    for row in rows.values():
        locale = row["locale"]
        prompts.append((locale, language.mask_non_prose(html.unescape(row["prompt"]))))
        prose = language.mask_non_prose(row["strong_output"])
        outputs.append((locale, language.prose_sample(prose, 400)[0]))

    def lingua_config(everything: bool, low: bool):
        if everything:
            builder = LanguageDetectorBuilder.from_all_languages()
        else:
            codes = [
                getattr(IsoCode639_1, code.upper())
                for code in language.SUPPORTED_LANGUAGES
            ]
            builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        if low:
            builder = builder.with_low_accuracy_mode()
        detector = builder.with_minimum_relative_distance(0.1).build()

        def detect(text: str) -> str | None:
            found = detector.detect_language_of(text)
            return found.iso_code_639_1.name.lower() if found else None

        return detect

    configurations = [
        ("lingua, all languages, high accuracy", lingua_config(True, False)),
        ("lingua, all languages, low accuracy", lingua_config(True, True)),
        ("lingua, supported set, high accuracy", lingua_config(False, False)),
        ("lingua, supported set, low accuracy", lingua_config(False, True)),
        ("detect_language (scripts, function words, lingua)", language.detect_language),
    ]
    results = []
    for label, detect in configurations:
        result = {"configuration": label}
        for name, items in (("prompts", prompts), ("outputs", outputs)):
            start = time.perf_counter()
            hits = sum(detect(text) == locale for locale, text in items)
            result[name] = hits / len(items)
            result[f"{name}_ms"] = (time.perf_counter() - start) / len(items) * 1000
        results.append(result)
    return results


# --- report ---------------------------------------------------------------------------


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def score_table(scores: dict[str, Score]) -> list[str]:
    lines = [
        "| check | labelled positive | TP | FP | FN | TN | precision | recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, score in scores.items():
        positives = score.tp + score.fn
        lines.append(
            f"| {name} | {positives} | {score.tp} | {score.fp} | {score.fn} | "
            f"{score.tn} | {percent(score.precision)} | {percent(score.recall)} |"
        )
    return lines


def report_labels(labels: list[dict], rows: dict, show_errors: bool) -> None:
    outputs = [record for record in labels if record["model"] != "pair"]
    print(f"## Hand-labelled subset ({len(outputs)} outputs)\n")
    scores = score_outputs(labels, rows)
    pair_scores = score_pairs(labels, rows)
    scores.update(pair_scores)
    json_score = score_json_requests(labels, rows)
    scores["JSON request detection (prompts)"] = json_score
    print("\n".join(score_table(scores)))
    formats = score_formats(labels, rows)
    total = formats.tp + formats.fp
    print(f"\nclassify_format agrees with {formats.tp} of {total} format labels.")
    if show_errors:
        scores["classify_format"] = formats
        for name, score in scores.items():
            for kind, names in (
                ("false positive", score.false_positives),
                ("false negative", score.false_negatives),
            ):
                for item in names:
                    print(f"  {name}: {kind}: {item}")


def report_counts(rows: dict) -> None:
    gsm = gsm8k_counts(rows)
    print("\n## Full files (text only)\n")
    print(
        f"- truncated weak GSM8K: found {gsm['found']} of {gsm['reference']} that end "
        f"inside `<<` or on a cut group; {gsm['weak_flagged_outside_reference']} "
        f"more weak outputs flagged; {gsm['strong_flagged']} of {gsm['rows']} "
        "strong outputs flagged."
    )
    counts = multilingual_counts(rows)
    for model in ("strong", "weak"):
        print(
            f"- {model}: outputs outside zh/ja with Han text outside code fences: "
            f"{counts['han_switch'][model]}, flagged wrong_language: "
            f"{counts['han_switch_flagged'][model]}"
        )
    for model in ("strong", "weak"):
        print(
            f"- {model}: runaway outputs (>= {RUNAWAY_TOKENS} recorded tokens): "
            f"{counts['runaway'][model]}; repetitive "
            f"{counts['runaway_repetitive'][model]}; truncated from text "
            f"{counts['runaway_truncated_text'][model]}, with token counts "
            f"{counts['runaway_truncated_tokens'][model]}"
        )
    print("\n| multilingual flags | strong | weak |\n|---|---|---|")
    for name in checks.OUTPUT_CHECKS:
        strong = counts["flags"][("strong", name)]
        weak = counts["flags"][("weak", name)]
        print(f"| {name} | {strong} | {weak} |")
    by_locale = counts["wrong_language_by_locale"]
    locales = sorted({locale for _, locale in by_locale})
    print(
        "\nwrong_language by locale (strong/weak): "
        + ", ".join(
            f"{locale} {by_locale[('strong', locale)]}/{by_locale[('weak', locale)]}"
            for locale in locales
        )
    )


def report_benchmark(rows: dict) -> None:
    result = benchmark(rows)
    outputs = result["outputs"]
    load = ", ".join(f"{value:.1f}" for value in result["load_average"])
    print(f"\n## Timing ({outputs} outputs, mean {result['mean_chars']:.0f} chars)\n")
    print(f"- CPUs: {result['cpus']}, load average at the end: {load}")
    print(
        f"- per-output checks: {result['output_wall']:.2f} s wall, "
        f"{result['output_cpu']:.2f} s CPU "
        f"({result['output_cpu'] / outputs * 1e6:.0f} µs CPU per output)"
    )
    print(
        f"- pair checks ({outputs // 2} pairs): {result['pair_wall']:.2f} s wall, "
        f"{result['pair_cpu']:.2f} s CPU"
    )
    print(
        f"- all per-output results again from CheckCache: {result['cached_wall']:.2f} s"
    )


def report_detector_costs(rows: dict) -> None:
    print("\n## lingua detector costs\n")
    print(
        "| languages | accuracy mode | preload | build s | first pass s | "
        "per call ms | RSS MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for item in detector_costs(rows):
        print(
            f"| {item['languages']} | {item['accuracy']} | {item['preload']} | "
            f"{item['build_s']:.2f} | {item['first_pass_s']:.2f} | "
            f"{item['per_call_ms']:.2f} | {item['rss_mb']:.0f} |"
        )


def report_detector_accuracy(rows: dict) -> None:
    print("\n## Language detection accuracy (reference: the row's locale)\n")
    print("| configuration | prompts | ms per prompt | outputs | ms per output |")
    print("|---|---|---|---|---|")
    for item in detector_accuracy(rows):
        print(
            f"| {item['configuration']} | {item['prompts']:.1%} | "
            f"{item['prompts_ms']:.2f} | {item['outputs']:.1%} | "
            f"{item['outputs_ms']:.2f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument("--bench", action="store_true")
    parser.add_argument("--detector-costs", action="store_true")
    parser.add_argument("--detector-accuracy", action="store_true")
    args = parser.parse_args(argv)
    if not (args.data_dir / GSM8K).exists():
        print(
            f"data not found: {args.data_dir / GSM8K}; pass --data-dir", file=sys.stderr
        )
        return 2
    rows = load_rows(args.data_dir)
    report_labels(load_labels(), rows, args.show_errors)
    report_counts(rows)
    if args.bench:
        report_benchmark(rows)
    if args.detector_costs:
        report_detector_costs(rows)
    if args.detector_accuracy:
        report_detector_accuracy(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
