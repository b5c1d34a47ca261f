"""Tests for the bundled example: fixtures/support.jsonl and policies/support.yaml.

The routing and the figures are computed here with a plain if-chain that mirrors the
policy's rules, independently of the preview engine and of the generator's evaluator.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "fixtures" / "support.jsonl"
POLICY = ROOT / "policies" / "support.yaml"
GENERATOR = ROOT / "scripts" / "make_example.py"

STRONG = "openai/gpt-4o"
FAST = "openai/gpt-4o-mini"
TOKEN_LIMIT = 400

# The policy's rules as data. route() below implements exactly these.
EXPECTED_RULES = [
    {
        "name": "enterprise-stays-strong",
        "when": {"tier": "enterprise"},
        "route": "strong",
    },
    {
        "name": "complaints-and-orders-stay-strong",
        "when": {
            "any": [{"task": "complaint"}, {"metadata.subject": {"matches": "#\\d{5}"}}]
        },
        "route": "strong",
    },
    {"name": "extraction-goes-fast", "when": {"task": "extraction"}, "route": "fast"},
    {
        "name": "short-faq-goes-fast",
        "when": {"all": [{"task": "faq"}, {"prompt_tokens": {"lt": 400}}]},
        "route": "fast",
    },
    {
        "name": "self-serve-short-goes-fast",
        "when": {
            "all": [
                {"tier": "self-serve"},
                {"prompt_tokens": {"lt": 400}},
                {"task": {"not_in": ["code", "arithmetic"]}},
            ]
        },
        "route": "fast",
    },
]

SEGMENT_FIELDS = {"tier": "tenant_tier", "locale": "locale", "task": "task_type"}
REQUEST_KEYS = {
    "id",
    "prompt",
    "messages",
    "metadata",
    "reference",
    "weight",
    "outputs",
}
METADATA_KEYS = {
    "tenant_id",
    "tenant_tier",
    "locale",
    "task_type",
    "channel",
    "subject",
    "expects_json",
}
OUTPUT_KEYS = {"text", "grade", "finish_reason"}
EXTRACTION_KEYS = {
    "customer_name",
    "order_id",
    "product",
    "issue_type",
    "refund_requested",
}

# How each language's refusals in the sample begin.
REFUSAL_OPENERS = (
    "I'm sorry, but I can't",
    "Es tut mir leid, aber",
    "Lo siento, pero no puedo",
    "申し訳ございませんが",
    "죄송하지만",
    "عذرًا، لا يمكنني",
)


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return SAMPLE.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def records(lines) -> list[dict]:
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def policy() -> dict:
    return YAML(typ="safe").load(POLICY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def encoder():
    """o200k_base from litellm's bundled tokenizer files, loaded without network."""
    spec = importlib.util.find_spec("litellm")
    assert spec is not None, "litellm must be installed: it ships the tokenizer files"
    cache_dir = os.path.join(
        spec.submodule_search_locations[0], "litellm_core_utils", "tokenizers"
    )
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = cache_dir
    try:
        import tiktoken

        return tiktoken.get_encoding("o200k_base")
    finally:
        if previous is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous


def count_tokens(record: dict, encoder) -> int:
    """Count prompt tokens. Chat messages add 3 each plus 3 for the reply (OpenAI)."""
    if "messages" in record:
        contents = [message["content"] for message in record["messages"]]
        return sum(3 + len(encoder.encode_ordinary(c)) for c in contents) + 3
    return len(encoder.encode_ordinary(record["prompt"]))


@pytest.fixture(scope="module")
def tokens(records, encoder) -> dict[str, int]:
    return {record["id"]: count_tokens(record, encoder) for record in records}


def route(record: dict, prompt_tokens: int) -> tuple[str, str]:
    """Route one request by the rules of policies/support.yaml: first match wins."""
    metadata = record["metadata"]
    tier = metadata["tenant_tier"]
    task = metadata["task_type"]

    if tier == "enterprise":
        return "enterprise-stays-strong", STRONG
    if task == "complaint" or re.search(r"#\d{5}", metadata.get("subject", "")):
        return "complaints-and-orders-stay-strong", STRONG
    if task == "extraction":
        return "extraction-goes-fast", FAST
    if task == "faq" and prompt_tokens < TOKEN_LIMIT:
        return "short-faq-goes-fast", FAST
    short = prompt_tokens < TOKEN_LIMIT
    if tier == "self-serve" and short and task not in ("code", "arithmetic"):
        return "self-serve-short-goes-fast", FAST
    return "(default)", STRONG


def segment_figures(records: list[dict], tokens: dict[str, int]) -> dict:
    """Return {(dimension, value): (graded count, regression)}, with ("all", "all").

    Regression is the weighted mean strong grade minus the weighted mean grade of the
    routed model, over requests whose baseline and routed outputs both carry a grade.
    """
    sums: dict = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for record in records:
        outputs = record["outputs"]
        grades = {model: output.get("grade") for model, output in outputs.items()}
        _, model = route(record, tokens[record["id"]])
        if grades[STRONG] is None or grades[model] is None:
            continue
        weight = record.get("weight", 1)
        keys = [("all", "all")]
        metadata = record["metadata"]
        keys += [(dim, metadata[field]) for dim, field in SEGMENT_FIELDS.items()]
        for key in keys:
            entry = sums[key]
            entry[0] += 1
            entry[1] += weight
            entry[2] += weight * grades[STRONG]
            entry[3] += weight * grades[model]
    return {key: (n, (base - routed) / w) for key, (n, w, base, routed) in sums.items()}


def budget_for(key: tuple[str, str]) -> float:
    return 0.02 if key == ("locale", "ja") else 0.05


def scripts_in(text: str) -> set[str]:
    """Return the Unicode script words (LATIN, CJK, HIRAGANA, ...) of the letters."""
    return {unicodedata.name(ch, "?").split()[0] for ch in text if ch.isalpha()}


def final_number(text: str) -> int | None:
    numbers = re.findall(r"\d[\d,]*(?:\.\d+)?", text)
    if not numbers:
        return None
    return round(float(numbers[-1].replace(",", "")))


def parse_json_output(text: str):
    """Parse the first ```json fenced block, else the whole text, or return None."""
    fenced = re.search(r"```json\n(.*?)\n```", text, re.DOTALL)
    candidate = fenced.group(1) if fenced else text.strip()
    try:
        return json.loads(candidate)
    except json.JSONDecodeError:
        return None


def outputs_of(records: list[dict]):
    for record in records:
        for model, output in record["outputs"].items():
            yield record, model, output


# --- file format ----------------------------------------------------------------------


def test_sample_every_line_json_object(lines):
    assert lines, "the sample is empty"
    for number, line in enumerate(lines, start=1):
        assert line.strip(), f"line {number} is blank"
        assert isinstance(json.loads(line), dict), f"line {number} is not an object"


def test_sample_ends_with_newline():
    assert SAMPLE.read_bytes().endswith(b"\n")


def test_sample_ids_unique(records):
    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids))


def test_sample_keys_known(records):
    for record in records:
        assert set(record) <= REQUEST_KEYS, record["id"]
        assert set(record["metadata"]) <= METADATA_KEYS, record["id"]
        assert ("prompt" in record) != ("messages" in record), record["id"]
        for output in record["outputs"].values():
            assert set(output) <= OUTPUT_KEYS, record["id"]


# --- shape of the traffic -------------------------------------------------------------


def test_sample_request_count(records):
    assert len(records) >= 300


def test_sample_three_tiers(records):
    tiers = {record["metadata"]["tenant_tier"] for record in records}
    assert tiers == {"enterprise", "smb", "self-serve"}


def test_sample_forty_tenants(records):
    tenants = {record["metadata"]["tenant_id"] for record in records}
    assert tenants == {f"t-{number:02d}" for number in range(1, 41)}


def test_sample_tenant_tier_fixed(records):
    tiers_per_tenant = defaultdict(set)
    for record in records:
        metadata = record["metadata"]
        tiers_per_tenant[metadata["tenant_id"]].add(metadata["tenant_tier"])
    assert all(len(tiers) == 1 for tiers in tiers_per_tenant.values())


def test_sample_tenant_sizes_vary(records):
    counts = Counter(record["metadata"]["tenant_id"] for record in records)
    assert min(counts.values()) <= 2
    assert max(counts.values()) >= 20


def test_sample_six_locales(records):
    locales = {record["metadata"]["locale"] for record in records}
    assert len(locales) == 6


def test_sample_non_latin_scripts(records):
    scripts_by_locale = defaultdict(set)
    for record in records:
        messages = record.get("messages", [])
        text = record.get("prompt") or " ".join(m["content"] for m in messages)
        scripts_by_locale[record["metadata"]["locale"]] |= scripts_in(text)
    non_latin = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "ARABIC"}
    locales_with_non_latin = [
        locale for locale, scripts in scripts_by_locale.items() if scripts & non_latin
    ]
    assert len(locales_with_non_latin) >= 2


def test_sample_task_types(records):
    tasks = {record["metadata"]["task_type"] for record in records}
    assert len(tasks) >= 6


def test_sample_both_outputs_present(records):
    for record in records:
        assert set(record["outputs"]) == {STRONG, FAST}, record["id"]
        for output in record["outputs"].values():
            assert isinstance(output["text"], str), record["id"]
            assert output["text"].strip(), record["id"]


def test_sample_output_fields_valid(records):
    for record, model, output in outputs_of(records):
        assert output["finish_reason"] in ("stop", "length"), (record["id"], model)
        if "grade" in output:
            assert output["grade"] in (0.0, 0.5, 1.0), (record["id"], model)


def test_sample_some_outputs_ungraded(records):
    one_grade_missing = [
        record
        for record in records
        if sum("grade" in output for output in record["outputs"].values()) == 1
    ]
    assert len(one_grade_missing) >= 3


def test_sample_weights(records):
    weights = [record["weight"] for record in records if "weight" in record]
    assert len(weights) >= 3
    assert set(weights) <= {2, 3}


def test_sample_chat_requests(records):
    chats = [record for record in records if "messages" in record]
    assert len(chats) >= 3
    for record in chats:
        user_turns = [m for m in record["messages"] if m["role"] == "user"]
        assert 2 <= len(user_turns) <= 3, record["id"]
        for message in record["messages"]:
            assert message["role"] in ("system", "user", "assistant"), record["id"]
            assert isinstance(message["content"], str), record["id"]


def test_sample_long_prompts(records, tokens):
    long_ids = [id_ for id_, count in tokens.items() if count >= 600]
    assert len(long_ids) >= 3
    by_id = {record["id"]: record for record in records}
    long_tasks = {by_id[id_]["metadata"]["task_type"] for id_ in long_ids}
    assert "summarisation" in long_tasks


def test_sample_tokens_clear_of_limit(tokens):
    # A margin of 100 tokens keeps routing the same under any reasonable way of
    # counting chat overhead, so the engine's counter and this one agree.
    near = {id_: count for id_, count in tokens.items() if 300 < count < 500}
    assert near == {}


# --- grades match the text ------------------------------------------------------------


def test_arithmetic_reference_decides_grade(records):
    arithmetic = [r for r in records if r["metadata"]["task_type"] == "arithmetic"]
    assert arithmetic
    for record in arithmetic:
        reference = int(record["reference"])
        for model, output in record["outputs"].items():
            right = final_number(output["text"]) == reference
            assert output["grade"] == (1.0 if right else 0.0), (record["id"], model)


def test_arithmetic_fast_sometimes_wrong(records):
    wrong = [
        record
        for record in records
        if record["metadata"]["task_type"] == "arithmetic"
        and record["outputs"][FAST]["grade"] == 0.0
        and record["outputs"][STRONG]["grade"] == 1.0
    ]
    assert len(wrong) >= 3


def test_extraction_marked_expects_json(records):
    for record in records:
        if record["metadata"]["task_type"] == "extraction":
            assert record["metadata"].get("expects_json") is True, record["id"]


def test_extraction_grade_matches_json(records):
    for record in records:
        if record["metadata"]["task_type"] != "extraction":
            continue
        for model, output in record["outputs"].items():
            parsed = parse_json_output(output["text"])
            valid = isinstance(parsed, dict) and set(parsed) == EXTRACTION_KEYS
            assert output["grade"] == (1.0 if valid else 0.0), (record["id"], model)


def test_extraction_graded_outputs_agree(records):
    for record in records:
        if record["metadata"]["task_type"] != "extraction":
            continue
        outputs = record["outputs"]
        if outputs[STRONG]["grade"] == outputs[FAST]["grade"] == 1.0:
            strong = parse_json_output(outputs[STRONG]["text"])
            fast = parse_json_output(outputs[FAST]["text"])
            assert strong == fast, record["id"]


def test_extraction_fast_breaks_json(records):
    broken = [
        record
        for record in records
        if record["metadata"]["task_type"] == "extraction"
        and parse_json_output(record["outputs"][FAST]["text"]) is None
    ]
    assert len(broken) >= 3


def test_refusals_graded_zero(records):
    refusals = [
        (record, output)
        for record, _, output in outputs_of(records)
        if output["text"].startswith(REFUSAL_OPENERS)
    ]
    assert len(refusals) >= 5
    for record, output in refusals:
        assert output["grade"] == 0.0, record["id"]


def test_truncated_outputs_cut_off(records):
    truncated = [
        (record, output)
        for record, _, output in outputs_of(records)
        if output["finish_reason"] == "length"
    ]
    assert len(truncated) >= 3
    for record, output in truncated:
        assert output["grade"] < 1.0, record["id"]
        assert output["text"][-1] not in ".!?。！？)", record["id"]


def test_wrong_language_graded_below_one(records):
    # Japanese answers without kana, Arabic answers without Arabic letters and Korean
    # answers that switch into Chinese are failures, whatever their content.
    failures = 0
    for record, model, output in outputs_of(records):
        if "grade" not in output:
            continue
        locale = record["metadata"]["locale"]
        scripts = scripts_in(output["text"])
        if locale == "ja":
            wrong = not scripts & {"HIRAGANA", "KATAKANA"}
        elif locale == "ar":
            wrong = "ARABIC" not in scripts
        elif locale == "ko":
            wrong = re.search(r"[\u4e00-\u9fff]{5}", output["text"]) is not None
        else:
            continue
        if wrong:
            failures += 1
            assert output["grade"] < 1.0, (record["id"], model)
    assert failures >= 5


def test_strong_model_sometimes_worse(records):
    strong_worse = [
        record
        for record in records
        if record["outputs"][STRONG].get("grade", 1.0)
        < record["outputs"][FAST].get("grade", 0.0)
    ]
    assert strong_worse


# --- the policy -----------------------------------------------------------------------


def test_policy_header(policy):
    assert policy["schema"] == "routebook/v1"
    assert policy["name"] == "support-assistant"
    assert policy["version"] == 1
    assert policy["description"].strip()


def test_policy_models(policy):
    assert policy["models"] == {
        "strong": {"model": STRONG},
        "fast": {"model": FAST, "params": {"temperature": 0}},
    }


def test_policy_segments(policy):
    assert policy["segments"] == {
        "tier": {"field": "metadata.tenant_tier"},
        "locale": {"field": "metadata.locale", "fallback": "detected_language"},
        "task": {"field": "metadata.task_type"},
    }


def test_policy_rules_match_if_chain(policy):
    assert policy["rules"] == EXPECTED_RULES


def test_policy_default_and_budgets(policy):
    assert policy["default"] == "strong"
    assert policy["budgets"] == {
        "baseline": "strong",
        "max_regression": 0.05,
        "min_samples": 20,
        "overrides": [{"when": {"locale": "ja"}, "max_regression": 0.02}],
    }


def test_policy_rules_have_comments():
    # Each rule states its business reason in a comment on the lines above it.
    lines = POLICY.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if line.lstrip().startswith("- name:"):
            assert lines[index - 1].lstrip().startswith("#"), line


# --- routing and figures, computed here -----------------------------------------------


def test_routing_no_dead_rule(records, tokens):
    first_matches = Counter(route(r, tokens[r["id"]])[0] for r in records)
    for rule in EXPECTED_RULES:
        assert first_matches[rule["name"]] > 0, rule["name"]


def test_routing_subject_pattern_used(records, tokens):
    # Requests that only the order-number pattern keeps on the strong model.
    kept_by_subject = [
        record
        for record in records
        if route(record, tokens[record["id"]])[0] == "complaints-and-orders-stay-strong"
        and record["metadata"]["task_type"] != "complaint"
    ]
    assert kept_by_subject


def test_routing_prompt_tokens_matter(records, tokens):
    # Long FAQ prompts and long self-serve prompts stay strong only because of the
    # token limit.
    held_back = [
        record
        for record in records
        if tokens[record["id"]] >= TOKEN_LIMIT
        and route(record, tokens[record["id"]])[0] == "(default)"
        and (
            record["metadata"]["task_type"] == "faq"
            or record["metadata"]["tenant_tier"] == "self-serve"
        )
    ]
    assert held_back


def test_figures_global_within_budget(records, tokens):
    graded, regression = segment_figures(records, tokens)[("all", "all")]
    assert graded >= 300
    assert regression <= 0.05


def test_figures_some_segment_fails(records, tokens):
    figures = segment_figures(records, tokens)
    failing = [
        key
        for key, (graded, regression) in figures.items()
        if graded >= 20 and regression > budget_for(key)
    ]
    assert failing


def test_figures_japanese_fails(records, tokens):
    graded, regression = segment_figures(records, tokens)[("locale", "ja")]
    assert graded >= 20
    assert regression > 0.02


def test_figures_extraction_fails(records, tokens):
    graded, regression = segment_figures(records, tokens)[("task", "extraction")]
    assert graded >= 20
    assert regression > 0.05


def test_figures_arabic_insufficient(records, tokens):
    graded, _ = segment_figures(records, tokens)[("locale", "ar")]
    assert graded < 20


def test_figures_weights_count(records, tokens):
    # Dropping the weights changes the global regression, so they take effect.
    unweighted = [{k: v for k, v in r.items() if k != "weight"} for r in records]
    _, weighted_regression = segment_figures(records, tokens)[("all", "all")]
    _, plain_regression = segment_figures(unweighted, tokens)[("all", "all")]
    assert weighted_regression != pytest.approx(plain_regression, abs=1e-6)


# --- the generator --------------------------------------------------------------------


def run_generator(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_generator_reproduces_fixture(tmp_path):
    output = tmp_path / "support.jsonl"
    result = run_generator("--output", str(output))
    assert result.returncode == 0, result.stderr
    assert output.read_bytes() == SAMPLE.read_bytes()


def test_generator_check_agrees(records, tokens):
    result = run_generator("--check", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    figures = segment_figures(records, tokens)
    for row in report["rows"]:
        key = (row["dimension"], row["value"])
        graded, regression = figures[key]
        assert row["graded"] == graded, key
        assert row["regression"] == pytest.approx(regression, abs=1e-9), key
        assert row["budget"] == budget_for(key), key


def test_generator_check_flags_stale(tmp_path):
    stale = tmp_path / "support.jsonl"
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    stale.write_text("".join(lines[:-1]), encoding="utf-8")
    result = run_generator("--check", "--output", str(stale))
    assert result.returncode == 1
    assert "run scripts/make_example.py" in result.stderr


def test_engine_preview_matches_independent_figures(records, tokens):
    """The engine's preview agrees with this file's own routing and arithmetic."""
    from tui.core.policy import load_policy
    from tui.core.preview import compute_preview
    from tui.core.samples import load_sample

    policy = load_policy(POLICY).policy
    preview = compute_preview(policy, load_sample(SAMPLE).requests).to_json()
    figures = segment_figures(records, tokens)

    graded, regression = figures[("all", "all")]
    assert preview["graded"] == graded
    assert preview["totals"]["regression"] == pytest.approx(regression, abs=1e-12)
    for segment in preview["segments"]:
        key = (segment["dimension"], segment["value"])
        graded, regression = figures[key]
        assert segment["graded"] == graded, key
        assert segment["regression"] == pytest.approx(regression, abs=1e-12), key


def expected_language_misses(records: list[dict]) -> int:
    """Fast answers without their locale's script, or Korean ones switching to Han."""
    own_script = {
        "ja": {"CJK", "HIRAGANA", "KATAKANA"},
        "ar": {"ARABIC"},
        "ko": {"HANGUL"},
    }
    misses = 0
    for record in records:
        locale = record["metadata"]["locale"]
        if locale not in own_script:
            continue
        text = record["outputs"][FAST]["text"]
        scripts = scripts_in(text)
        if not scripts & own_script[locale] or (locale == "ko" and "CJK" in scripts):
            misses += 1
    return misses


def test_engine_checks_find_the_written_failures(records):
    """The output checks flag the failures the generator wrote into the sample."""
    from tui.core.policy import load_policy
    from tui.core.preview import compute_preview
    from tui.core.samples import load_sample

    policy = load_policy(POLICY).policy
    totals = compute_preview(policy, load_sample(SAMPLE).requests).totals
    fast = totals.checks["fast"]

    cut = sum(1 for r in records if r["outputs"][FAST].get("finish_reason") == "length")
    broken = sum(
        1
        for r in records
        if r["metadata"].get("expects_json")
        and parse_json_output(r["outputs"][FAST]["text"]) is None
    )
    assert fast["truncated"] == cut == 5
    assert fast["invalid_json"] == broken
    assert fast["wrong_language"] == expected_language_misses(records) == 10
    assert fast["refusal"] == 9
    assert sum(totals.checks["strong"].values()) == 0
