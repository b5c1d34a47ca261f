"""Preview figures on the bundled example, checked against independent arithmetic."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import tiktoken

from tui.core.policy import load_policy, parse_policy
from tui.core.preview import compute_preview
from tui.core.pricing import litellm_package_dir
from tui.core.samples import load_sample, parse_sample_lines

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "support.yaml"
SAMPLE = ROOT / "fixtures" / "support.jsonl"


@pytest.fixture(scope="module")
def preview():
    policy = load_policy(POLICY).policy
    return compute_preview(policy, load_sample(SAMPLE).requests)


def raw_prices(model_key: str) -> tuple[float, float]:
    path = litellm_package_dir() / "model_prices_and_context_window_backup.json"
    entry = json.loads(path.read_text(encoding="utf-8"))[model_key]
    return entry["input_cost_per_token"], entry["output_cost_per_token"]


def test_costs_match_price_map_and_tiktoken(preview):
    """Baseline cost: every request answered by gpt-4o, counted with o200k_base."""
    os.environ.setdefault(
        "TIKTOKEN_CACHE_DIR",
        str(litellm_package_dir() / "litellm_core_utils" / "tokenizers"),
    )
    encoding = tiktoken.get_encoding("o200k_base")
    input_rate, output_rate = raw_prices("gpt-4o")
    expected = 0.0
    for line in SAMPLE.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        row = json.loads(line)
        output = row["outputs"]["openai/gpt-4o"]
        if "prompt" in row:
            prompt_tokens = len(encoding.encode(row["prompt"], disallowed_special=()))
        else:
            # OpenAI's chat framing: 3 tokens a message, its role and content,
            # plus 3 that prime the reply.
            prompt_tokens = 3
            for message in row["messages"]:
                prompt_tokens += 3
                for key in ("role", "content"):
                    prompt_tokens += len(
                        encoding.encode(message[key], disallowed_special=())
                    )
        completion_tokens = len(encoding.encode(output["text"], disallowed_special=()))
        weight = row.get("weight", 1)
        expected += weight * (
            prompt_tokens * input_rate + completion_tokens * output_rate
        )
    assert preview.totals.stats.cost("baseline") == pytest.approx(expected, rel=1e-9)


def test_routed_cost_below_baseline(preview):
    totals = preview.totals.stats
    assert totals.cost("routed") < totals.cost("baseline")


def test_shares_sum_to_one(preview):
    for row in [preview.totals, *preview.segments]:
        shares = row.stats.share(preview.aliases)
        assert math.isclose(sum(shares.values()), 1.0)


def test_segment_requests_add_up(preview):
    total = preview.totals.stats.requests
    for dimension in preview.policy.segments:
        rows = preview.dimension_rows(dimension)
        assert sum(row.stats.requests for row in rows) == pytest.approx(total)


def test_exposure_counts_mixed_tenants(preview):
    tenants: dict[str, set[str]] = {}
    for row in preview.rows:
        tenant = row.request.metadata["tenant_id"]
        tenants.setdefault(tenant, set()).add(row.alias)
    mixed = sum(1 for aliases in tenants.values() if len(aliases) > 1)
    exposure = preview.to_json()["exposure"]
    assert exposure["tenant_count"] == len(tenants) == 40
    assert exposure["mixed_tenants"] == mixed


POLICY_TEXT = """\
schema: routebook/v1
name: t
models:
  a: {model: openai/gpt-4o}
  b: {model: openai/gpt-4o-mini}
  c: {model: example/no-such-model}
segments:
  tier: {field: metadata.tier}
rules:
  - {name: gold-to-b, when: {tier: gold}, route: b}
  - {name: also-gold, when: {tier: {in: [gold]}}, route: c}
  - {name: never, when: {tier: platinum}, route: b}
default: a
budgets: {baseline: a, max_regression: 0.1, min_samples: 2}
"""


def line(request_id, tier, grade_a, grade_b, weight=1):
    outputs = {"openai/gpt-4o": {"text": "x", "grade": grade_a}}
    if grade_b is not None:
        outputs["openai/gpt-4o-mini"] = {"text": "y", "grade": grade_b}
    return json.dumps(
        {
            "id": request_id,
            "prompt": "p",
            "metadata": {"tier": tier},
            "weight": weight,
            "outputs": outputs,
        }
    )


def small_preview(lines):
    policy = parse_policy(POLICY_TEXT, "t.yaml").policy
    sample = parse_sample_lines(lines, "s.jsonl")
    assert not sample.problems
    return compute_preview(policy, sample.requests)


def test_dead_rules_flagged():
    preview = small_preview([line("1", "gold", 1, 0), line("2", "silver", 1, 1)])
    rules = {rule.name: rule for rule in preview.rules}
    assert rules["gold-to-b"].status == "ok"
    assert rules["also-gold"].status == "shadowed"
    assert rules["also-gold"].shadowed_by == ["gold-to-b"]
    assert rules["never"].status == "unmatched"
    assert any("never fires" in w for w in preview.warnings)
    assert any("matches no request" in w for w in preview.warnings)


def test_weighted_regression_and_status():
    preview = small_preview(
        [
            line("1", "gold", 1, 0, weight=3),
            line("2", "gold", 1, 1),
            line("3", "silver", 1, 1),
        ]
    )
    gold = next(r for r in preview.segments if r.value == "gold")
    # Weighted: (3 * 1 + 1 * 0) / 4 = 0.75 regression on gold.
    assert gold.stats.regression == pytest.approx(0.75)
    assert gold.stats.requests == 4
    assert gold.stats.graded == 2
    assert gold.status == "fail"
    silver = next(r for r in preview.segments if r.value == "silver")
    assert silver.status == "insufficient"
    total = preview.totals.stats
    assert total.regression == pytest.approx(3 / 5)


def test_ungraded_routed_output_not_counted():
    preview = small_preview([line("1", "gold", 1, None), line("2", "gold", 1, 1)])
    gold = next(r for r in preview.segments if r.value == "gold")
    assert gold.stats.graded == 1
    assert gold.status == "insufficient"


def test_missing_output_cost_unknown_not_zero():
    preview = small_preview([line("1", "gold", 1, None)])
    assert preview.totals.stats.cost("routed") is None
    assert preview.totals.stats.cost("baseline") is not None
    assert any("no recorded output" in w for w in preview.warnings)


def test_unpriced_model_cost_unknown():
    text = POLICY_TEXT.replace("default: a", "default: c")
    policy = parse_policy(text, "t.yaml").policy
    sample = parse_sample_lines([line("1", "silver", 1, 1)], "s.jsonl")
    preview = compute_preview(policy, sample.requests)
    assert preview.totals.stats.cost("routed") is None
    assert any(
        "example/no-such-model" in w and "no price" in w for w in preview.warnings
    )


def test_missing_segment_value_is_its_own_row():
    raw = json.dumps({"id": "x", "prompt": "p", "metadata": {}, "outputs": {}})
    preview = small_preview([raw, line("2", "gold", 1, 1)])
    values = [row.value for row in preview.dimension_rows("tier")]
    assert values == ["gold", None]


def test_checks_grade_unlabelled_sample(tmp_path):
    """With checks.as_grade, a sample without grades still yields quality."""
    from tui.core.checks import check_output
    from tui.core.divergence import output_info, request_info

    lines = []
    for raw in SAMPLE.read_text(encoding="utf-8").split("\n"):
        if raw:
            row = json.loads(raw)
            for output in row["outputs"].values():
                output.pop("grade", None)
            lines.append(json.dumps(row))
    text = POLICY.read_text(encoding="utf-8")
    text += (
        "\nchecks:\n  as_grade: [refusal, truncated, wrong_language, invalid_json]\n"
    )
    policy = parse_policy(text, "p.yaml").policy
    requests = parse_sample_lines(lines, "s.jsonl").requests
    preview = compute_preview(policy, requests)

    # Independent grades: 0 when any listed check flags the output, else 1.
    listed = ("refusal", "truncated", "wrong_language", "invalid_json")
    base_sum = routed_sum = weight_sum = 0.0
    for row in preview.rows:
        grades = {}
        for model in (row.model, policy.model_for("strong")):
            results = check_output(
                output_info(row.request.outputs[model]),
                request_info(row.request),
                policy.checks,
            )
            grades[model] = 0.0 if any(results[n].flag for n in listed) else 1.0
        weight = row.request.weight
        weight_sum += weight
        base_sum += weight * grades[policy.model_for("strong")]
        routed_sum += weight * grades[row.model]

    totals = preview.totals.stats
    assert totals.graded == len(preview.rows)
    assert totals.baseline_quality == pytest.approx(base_sum / weight_sum)
    assert totals.regression == pytest.approx((base_sum - routed_sum) / weight_sum)
    assert totals.regression > 0
