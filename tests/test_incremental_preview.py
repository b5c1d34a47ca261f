"""Previews that reuse the last one's work, checked against previews from scratch.

A PreviewSession keeps what the rules do not change (features, segments,
check counts, each condition's matches) and the last preview's figures for
requests whose model did not change. After every edit in a long random
series, its preview must equal `compute_preview` run from nothing, figure for
figure and request for request. Segment sums are also checked against plain
loops over the requests.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from tui.core.livepreview import PreviewSession
from tui.core.preview import compute_preview
from tui.core.samples import load_sample, parse_sample_lines
from tui.core.stats import Columns, GroupStats

from .test_livepreview import policy_of

ROOT = Path(__file__).resolve().parents[1]
POLICY_TEXT = (ROOT / "policies" / "support.yaml").read_text(encoding="utf-8")
SAMPLE = ROOT / "fixtures" / "support.jsonl"
DATA = ROOT.parent / "shared" / "data" / "gsm8k_two_models.jsonl"

# Edits a person might make, each a (find, replace) on the example policy.
FAST = "fast: {model: openai/gpt-4o-mini, params: {temperature: 0}}"
LAST_LINE = "    - {when: {locale: ja}, max_regression: 0.02}\n"
EDITS = [
    ("{tier: enterprise}\n    route: strong", "{tier: enterprise}\n    route: fast"),
    ("{task: extraction}\n    route: fast", "{task: extraction}\n    route: strong"),
    ("{lt: 400}}\n    route: fast", "{lt: 120}}\n    route: fast"),
    ("- {tier: self-serve}", "- {tier: smb}"),
    ("{task: {not_in: [code, arithmetic]}}", "{task: {not_in: [code]}}"),
    ("default: strong", "default: fast"),
    ("baseline: strong", "baseline: fast"),
    ("max_regression: 0.05", "max_regression: 0.01"),
    (
        "task: {field: metadata.task_type}",
        "task: {field: metadata.task_type}\n  tenant: {field: metadata.tenant_id}",
    ),
    (
        FAST,
        "fast: {model: openai/gpt-4o-mini,"
        " price: {input_per_million: 1, output_per_million: 3}}",
    ),
    (FAST, "fast: {model: openai/gpt-4o-mini-unpriced}"),
    (
        "\ndefault: strong",
        "\n  - name: short-goes-fast\n    when: {prompt_chars: {lt: 200}}\n"
        "    route: fast\n\ndefault: strong",
    ),
    (LAST_LINE, LAST_LINE + "\nchecks:\n  as_grade: [refusal, truncated]\n"),
]


def rule_blocks(text: str) -> tuple[str, list[str], str]:
    head, rest = text.split("rules:\n", 1)
    body, tail = rest.split("\ndefault:", 1)
    blocks = [block for block in body.split("\n\n") if block.strip()]
    return head + "rules:\n", blocks, "\ndefault:" + tail


def reorder_rules(text: str, rng: random.Random) -> str:
    head, blocks, tail = rule_blocks(text)
    rng.shuffle(blocks)
    return head + "\n\n".join(blocks) + "\n" + tail


def random_text(rng: random.Random) -> str:
    text = POLICY_TEXT
    for find, replace in rng.sample(EDITS, rng.randint(0, 4)):
        text = text.replace(find, replace, 1)
    if rng.random() < 0.3:
        text = reorder_rules(text, rng)
    return text


def everything(preview) -> dict:
    """Every figure of a preview, down to each request's row and each segment."""
    data = preview.to_json()
    data["rows"] = [
        (
            row.request.id,
            row.rule_index,
            row.alias,
            row.model,
            row.baseline_grade,
            row.routed_grade,
            row.baseline_cost,
            row.routed_cost,
            row.segments,
        )
        for row in preview.rows
    ]
    data["members"] = [
        [row.request.id for row in segment.members] for segment in preview.segments
    ]
    data["stats"] = [
        (
            segment.stats.requests,
            segment.stats.count,
            sorted(segment.stats.by_alias.items()),
            segment.stats.differences,
            segment.stats.baseline_cost_unknown,
            segment.stats.routed_cost_unknown,
        )
        for segment in [preview.totals, *preview.segments]
    ]
    return data


def unit_weights(path: Path, tmp_path: Path) -> Path:
    """A copy of the sample without weights, with some outputs left out."""
    lines = []
    for index, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        record = json.loads(line)
        record.pop("weight", None)
        if index % 7 == 0:
            record.get("outputs", {}).pop("openai/gpt-4o-mini", None)
        lines.append(json.dumps(record))
    copy = tmp_path / "unit.jsonl"
    copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return copy


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unit-weights"])
def test_random_edits_match_fresh_previews(weighted, tmp_path):
    sample = SAMPLE if weighted else unit_weights(SAMPLE, tmp_path)
    requests = load_sample(sample).requests
    session = PreviewSession(requests)
    rng = random.Random(7 if weighted else 11)

    for _ in range(40):
        policy = policy_of(random_text(rng))
        preview, _ = session.compute(policy)
        assert everything(preview) == everything(compute_preview(policy, requests))


def test_route_edit_reuses_unmoved_rows():
    requests = load_sample(SAMPLE).requests
    session = PreviewSession(requests)
    first, _ = session.compute(policy_of(POLICY_TEXT))
    find, replace = EDITS[1]  # extraction moves from fast to strong

    second, _ = session.compute(policy_of(POLICY_TEXT.replace(find, replace)))

    extraction = [rule.name for rule in first.rules].index("extraction-goes-fast")
    moved = 0
    for before, after in zip(first.rows, second.rows, strict=True):
        if before.rule_index == extraction:
            moved += 1
            assert (before.alias, after.alias) == ("fast", "strong")
        else:
            assert after is before
    assert moved > 0


def test_regrade_after_reuse_counts_new_grade():
    requests = load_sample(SAMPLE).requests
    session = PreviewSession(requests)
    policy = policy_of(POLICY_TEXT)
    session.compute(policy)
    session.compute(policy_of(POLICY_TEXT.replace(*EDITS[1])))
    model = policy.model_for("strong")
    request = next(r for r in requests if r.outputs.get(model) is not None)
    request.outputs[model].grade = 1.0 - (request.outputs[model].grade or 0.0)

    preview, _ = session.compute(policy, regrade=True)

    assert everything(preview) == everything(compute_preview(policy, requests))


def plain_sums(weights, aliases, baseline, routed, baseline_cost, routed_cost):
    """GroupStats figures from one ordinary loop over the requests."""
    sums = dict.fromkeys(("requests", "graded_weight", "base", "routed"), 0.0)
    sums.update(base_cost=0.0, routed_cost=0.0, graded=0, unknown=[0, 0])
    by_alias: dict[str, float] = {}
    for index, weight in enumerate(weights):
        sums["requests"] += weight
        by_alias[aliases[index]] = by_alias.get(aliases[index], 0.0) + weight
        if baseline[index] is not None and routed[index] is not None:
            sums["graded"] += 1
            sums["graded_weight"] += weight
            sums["base"] += weight * baseline[index]
            sums["routed"] += weight * routed[index]
        for slot, cost in enumerate((baseline_cost[index], routed_cost[index])):
            if cost is None:
                sums["unknown"][slot] += 1
            else:
                key = "base_cost" if slot == 0 else "routed_cost"
                sums[key] += weight * cost
    sums["by_alias"] = by_alias
    return sums


@pytest.mark.parametrize("unit", [True, False])
def test_column_sums_match_plain_loop(unit):
    rng = random.Random(3)
    count = 2000
    weights = [1.0 if unit else rng.choice([0.5, 1.0, 2.5, 1e-3]) for _ in range(count)]

    def maybe(value):
        return None if rng.random() < 0.1 else value

    aliases = [rng.choice(["strong", "fast", "mid"]) for _ in range(count)]
    baseline = [maybe(rng.random()) for _ in range(count)]
    routed = [maybe(rng.choice([0.0, 1.0, rng.random()])) for _ in range(count)]
    base_cost = [maybe(rng.random() / 1000) for _ in range(count)]
    routed_cost = [maybe(rng.random() / 3000) for _ in range(count)]
    columns = Columns(weights, aliases, baseline, routed, base_cost, routed_cost)
    picked = sorted(rng.sample(range(count), 700))

    for indexes in (None, picked):
        part = columns if indexes is None else columns.pick(indexes)
        stats = GroupStats()
        stats.add_columns(part)
        expected = plain_sums(
            *(
                list(values) if indexes is None else [values[i] for i in indexes]
                for values in (
                    weights,
                    aliases,
                    baseline,
                    routed,
                    base_cost,
                    routed_cost,
                )
            )
        )

        # Sums in request order agree with the loop to the last bit on Python
        # 3.11. From 3.12, sum() compensates floats for rounding, hence isclose.
        close = math.isclose
        assert close(stats.requests, expected["requests"], rel_tol=1e-12)
        assert stats.graded == expected["graded"]
        assert close(stats.graded_weight, expected["graded_weight"], rel_tol=1e-12)
        assert close(stats.baseline_sum, expected["base"], rel_tol=1e-12)
        assert close(stats.routed_sum, expected["routed"], rel_tol=1e-12)
        assert close(stats.baseline_cost, expected["base_cost"], rel_tol=1e-12)
        assert close(stats.routed_cost, expected["routed_cost"], rel_tol=1e-12)
        assert [stats.baseline_cost_unknown, stats.routed_cost_unknown] == expected[
            "unknown"
        ]
        assert stats.by_alias.keys() == expected["by_alias"].keys()
        for alias, share in expected["by_alias"].items():
            assert close(stats.by_alias[alias], share, rel_tol=1e-12)
        assert len(stats.differences) == expected["graded"]


@pytest.mark.skipif(
    not DATA.exists(), reason=f"real two-model data not found at {DATA}"
)
def test_real_data_edits_match_fresh_previews():
    """GSM8K questions answered by GPT-4 and Mixtral, graded by their answers."""
    lines = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        outputs = {
            row[f"{side}_model"]: {
                "text": row[f"{side}_output"],
                "grade": float(row[f"{side}_correct"]),
            }
            for side in ("strong", "weak")
        }
        metadata = {"contaminated": row["contaminated"], "locale": row["locale"]}
        record = {"id": row["id"], "prompt": row["prompt"], "metadata": metadata}
        lines.append(json.dumps({**record, "outputs": outputs}))
    first = json.loads(lines[0])
    strong, weak = first["outputs"]
    requests = parse_sample_lines(lines, "gsm8k.jsonl").requests
    base = f"""\
schema: routebook/v1
name: gsm8k
version: 1
models:
  strong: {{model: {strong}, price: {{input_per_million: 10, output_per_million: 30}}}}
  weak: {{model: {weak}, price: {{input_per_million: 0.6, output_per_million: 0.6}}}}
segments:
  contaminated: {{field: metadata.contaminated}}
  length: {{field: prompt_tokens}}
rules:
  - name: short-to-weak
    when: {{prompt_tokens: {{lt: LIMIT}}}}
    route: weak
default: strong
budgets:
  baseline: strong
  max_regression: 0.05
  min_samples: 10
checks:
  as_grade: [truncated]
"""
    session = PreviewSession(requests)
    for limit in (50, 400, 120, 2000, 120, 80):
        policy = policy_of(base.replace("LIMIT", str(limit)))
        preview, _ = session.compute(policy)
        assert everything(preview) == everything(compute_preview(policy, requests))


def test_uncounted_parts_warning_per_preview(tmp_path):
    """A message part left out of token counts is counted once per preview."""
    record = {
        "id": "img-1",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": "data:,x"}},
                ],
            }
        ],
        "metadata": {"task_type": "faq"},
        "outputs": {
            "openai/gpt-4o": {"text": "A cat.", "grade": 1},
            "openai/gpt-4o-mini": {"text": "A dog.", "grade": 0},
        },
    }
    sample = tmp_path / "image.jsonl"
    sample.write_text(json.dumps(record) + "\n", encoding="utf-8")
    requests = load_sample(sample).requests
    session = PreviewSession(requests)
    all_strong = POLICY_TEXT.replace("route: fast", "route: strong")

    for text in (POLICY_TEXT, all_strong, POLICY_TEXT, all_strong):
        policy = policy_of(text)
        preview, _ = session.compute(policy)
        fresh = compute_preview(policy, requests)
        parts = [w for w in preview.warnings if "message part" in w]
        assert parts == [w for w in fresh.warnings if "message part" in w]
        assert len(parts) == 1
