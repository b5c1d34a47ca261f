"""The fast preview path: orjson decoding and the one-loop routing pass.

Each test checks the fast path against an independent computation: the
standard `json` decoder for what a line means, and plain sums in sample order
for the preview's figures.
"""

from __future__ import annotations

import gc
import json
import math
import random

import pytest

from tui.core.livepreview import PreviewSession
from tui.core.policy import parse_policy
from tui.core.preview import PreviewCache, compute_preview
from tui.core.problems import InputError
from tui.core.samples import load_sample, parse_sample_lines

STRONG = "openai/gpt-4o"
FAST = "openai/gpt-4o-mini"


def nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


# (case, line) pairs that orjson decodes differently from `json`, or where
# counting keys must not be fooled.
LINES = [
    ("plain", '{"id": "a", "prompt": "p", "metadata": {"tier": "pro"}}'),
    ("colons in text", '{"id": "a", "prompt": "at 10:30", "metadata": {"u": "a:b"}}'),
    ("repeated top key", '{"id": "a", "prompt": "p", "prompt": "q"}'),
    (
        "repeated nested key",
        '{"id": "a", "prompt": "p", "metadata": {"tier": "pro", "tier": "free"}}',
    ),
    (
        "repeated key in list",
        '{"id": "a", "prompt": "p", "metadata": {"tags": [{"k": 1, "k": 2}]}}',
    ),
    (
        "repeat beside colons",
        '{"id": "a", "prompt": "a: b: c", "metadata": {"x": 1, "x": 2}}',
    ),
    ("space before colon", '{"id" : "a", "prompt" : "p", "id" : "b"}'),
    ("tab before colon", '{"id"\t:\t"a", "prompt":"p"}'),
    ("escaped quote", '{"id": "a", "prompt": "say \\": x", "n": 1, "n": 2}'),
    ("string opens with colon", '{"id": "a", "prompt": ":p", "m": {"k": ":"}}'),
    (
        "key ends in backslash",
        '{"id": "a", "prompt": "p", "metadata": {"a\\\\": 1, "a\\\\": 2}}',
    ),
    ("escaped colon", '{"id": "a", "prompt": "x\\u003ay", "m": {"k": 1, "k": 2}}'),
    ("dropped value", '{"id": "a", "prompt": "p", "n": "a:b:c", "n": "d"}'),
    ("above u64", '{"id": "a", "prompt": "p", "m": {"n": 18446744073709551616}}'),
    ("u64 max", '{"id": "a", "prompt": "p", "metadata": {"n": 18446744073709551615}}'),
    (
        "below i64",
        '{"id": "a", "prompt": "p", "metadata": {"n": -9223372036854775809}}',
    ),
    ("i64 min", '{"id": "a", "prompt": "p", "metadata": {"n": -9223372036854775808}}'),
    (
        "long integer in list",
        '{"id": "a", "prompt": "p", "metadata": {"n": [1, 1234567890123456789012]}}',
    ),
    ("large floats", '{"id": "a", "prompt": "p", "m": {"f": 1e19, "g": -9.3e18}}'),
    ("non-finite", '{"id": "a", "prompt": "p", "m": {"f": NaN, "g": -Infinity}}'),
    ("float edge", '{"id": "a", "prompt": "p", "m": {"f": 2e-324, "g": 5e-324}}'),
    ("overflowing float", '{"id": "a", "prompt": "p", "metadata": {"f": 1e400}}'),
    ("raw tab", '{"id": "a", "prompt": "a\tb"}'),
    ("surrogate pair", '{"id": "a", "prompt": "\\ud83d\\ude00"}'),
    (
        "nested 150 deep",
        '{"id": "a", "prompt": "p", "metadata": {"n": ' + nested_list(150) + "}}",
    ),
    (
        "nested 1000 deep",
        '{"id": "a", "prompt": "p", "metadata": {"n": ' + nested_list(1000) + "}}",
    ),
    ("carriage return", '{"id": "a", "prompt": "p"}\r'),
]


def decode_with_json(line: str) -> tuple[object, int]:
    """Return what `json` decodes and how many keys objects repeat in it."""
    repeats = []

    def build(pairs):
        keys = [key for key, _ in pairs]
        repeats.append(len(keys) - len(set(keys)))
        return dict(pairs)

    decoder = json.JSONDecoder(strict=False, object_pairs_hook=build)
    return decoder.decode(line), sum(repeats)


def repeat_warnings(sample) -> int:
    return sum(1 for p in sample.problems if p.message.startswith("duplicate key"))


def check_line_loaded(sample, line: str) -> None:
    try:
        expected, repeats = decode_with_json(line)
    except RecursionError:
        assert sample.requests == []
        assert "nested" in sample.problems[0].message
        return

    assert len(sample.requests) == 1, [p.format() for p in sample.problems]
    # repr distinguishes an int from an equal float and shows key order.
    assert repr(sample.requests[0].raw) == repr(expected)
    assert repeat_warnings(sample) == repeats


@pytest.mark.parametrize(("case", "line"), LINES, ids=[case for case, _ in LINES])
def test_text_line_decoded_as_json(case, line):
    check_line_loaded(parse_sample_lines([line], "s.jsonl"), line)


@pytest.mark.parametrize(("case", "line"), LINES, ids=[case for case, _ in LINES])
def test_file_line_decoded_as_json(tmp_path, case, line):
    path = tmp_path / "s.jsonl"
    path.write_bytes(line.encode("utf-8") + b"\n")
    check_line_loaded(load_sample(path), line)


def test_lone_surrogate_still_rejected(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"id": "a", "prompt": "x\\ud800y"}\n')
    sample = load_sample(path)
    assert sample.requests == []
    assert "lone surrogate \\ud800" in sample.problems[0].message
    assert sample.problems[0].column == len('{"id": "a", "prompt": "x') + 1


def test_big_integer_weight_shown_exactly(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "a", "prompt": "p", "weight": 100000000000000000000}\n')
    sample = load_sample(path)
    (problem,) = sample.problems
    assert "got 100000000000000000000;" in problem.message
    assert sample.requests[0].weight == 1.0


@pytest.mark.parametrize(
    ("prefix", "line_number"), [(b"", 3), (b"\xef\xbb\xbf", 3), (b"\xef\xbb\xbf", 1)]
)
def test_invalid_utf8_located(tmp_path, prefix, line_number):
    lines = [b'{"id": "r%d", "prompt": "caf\xc3\xa9 %d"}' % (n, n) for n in range(4)]
    bad = lines[line_number - 1]
    offset = bad.index(b"caf") + 3
    lines[line_number - 1] = bad[:offset] + b"\xff" + bad[offset:]
    path = tmp_path / "s.jsonl"
    path.write_bytes(prefix + b"\n".join(lines) + b"\n")

    with pytest.raises(InputError) as raised:
        load_sample(path)

    column = len(bad[:offset].decode("utf-8")) + 1
    assert str(raised.value) == (
        f"{path}:{line_number}:{column}: error: invalid UTF-8 byte 0xff; "
        "save the file as UTF-8"
    )


def test_load_restores_collector(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "a", "prompt": "p"}\n')
    enabled = gc.isenabled()
    try:
        gc.disable()
        load_sample(path)
        assert not gc.isenabled()

        gc.enable()
        load_sample(path)
        assert gc.isenabled()
    finally:
        if not enabled:
            gc.disable()


def test_load_keeps_frozen_objects(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "a", "prompt": "p"}\n')
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        load_sample(path)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


# --- the routing pass ---------------------------------------------------------

STRONG_PRICE = (2.5, 10.0)  # USD per million input and output tokens
FAST_PRICE = (0.15, 0.6)


def price_yaml(price: tuple[float, float]) -> str:
    return f"{{input_per_million: {price[0]}, output_per_million: {price[1]}}}"


POLICY = f"""\
schema: routebook/v1
name: weighted
version: 1
models:
  strong:
    model: {STRONG}
    price: {price_yaml(STRONG_PRICE)}
  fast:
    model: {FAST}
    price: {price_yaml(FAST_PRICE)}
segments:
  tier: {{field: metadata.tier}}
  locale: {{field: metadata.locale}}
rules:
  - name: enterprise-strong
    when: {{tier: enterprise}}
    route: strong
  - name: short-fast
    when: {{prompt_chars: {{lt: 20}}}}
    route: fast
  - name: short-german
    when: {{all: [{{locale: de}}, {{prompt_chars: {{lt: 12}}}}]}}
    route: fast
  - name: klingon
    when: {{locale: tlh}}
    route: fast
default: strong
budgets: {{baseline: strong, max_regression: 0.05, min_samples: 3}}
"""


def route_by_hand(request: dict) -> int:
    """Return the index of the rule that fires, with the rules as plain Python."""
    metadata = request["metadata"]
    if metadata.get("tier") == "enterprise":
        return 0
    if len(request["prompt"]) < 20:
        return 1
    if metadata.get("locale") == "de" and len(request["prompt"]) < 12:
        return 2
    if metadata.get("locale") == "tlh":
        return 3
    return 4


def rules_matched_alone(request: dict) -> list[int]:
    metadata = request["metadata"]
    length = len(request["prompt"])
    matched = []
    if metadata.get("tier") == "enterprise":
        matched.append(0)
    if length < 20:
        matched.append(1)
    if metadata.get("locale") == "de" and length < 12:
        matched.append(2)
    if metadata.get("locale") == "tlh":
        matched.append(3)
    return matched


def weighted_requests(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    requests = []
    for index in range(count):
        outputs = {}
        for model in (STRONG, FAST):
            if rng.random() < 0.9:
                output = {"text": "answer", "grade": rng.choice([0.0, 0.5, 1.0])}
                output["prompt_tokens"] = rng.randint(5, 900)
                output["completion_tokens"] = rng.randint(1, 400)
                if rng.random() < 0.1:
                    del output["grade"]
                outputs[model] = output
        metadata = {
            "tier": rng.choice(["enterprise", "pro", "free", None]),
            "locale": rng.choice(["de", "en", "ja"]),
        }
        if rng.random() < 0.9:
            metadata["tenant_id"] = f"t-{rng.randint(1, 12)}"
        requests.append(
            {
                "id": f"r{index}",
                "prompt": "x" * rng.randint(5, 40),
                "metadata": metadata,
                "weight": rng.choice([1, 0.1, 0.7, 2.5, 1 / 3]),
                "outputs": outputs,
            }
        )
    return requests


def expected_cost(request: dict, model: str) -> float | None:
    output = request["outputs"].get(model)
    if output is None:
        return None
    per_million = STRONG_PRICE if model == STRONG else FAST_PRICE
    input_rate = per_million[0] / 1_000_000
    output_rate = per_million[1] / 1_000_000
    return (
        output["prompt_tokens"] * input_rate + output["completion_tokens"] * output_rate
    )


def expected_group(requests: list[dict]) -> dict:
    """Sum one group's figures in sample order, as plain Python."""
    sums = {
        "requests": 0.0,
        "strong": 0.0,
        "fast": 0.0,
        "graded": 0,
        "graded_weight": 0.0,
        "baseline_sum": 0.0,
        "routed_sum": 0.0,
        "baseline_cost": 0.0,
        "routed_cost": 0.0,
        "baseline_cost_unknown": 0,
        "routed_cost_unknown": 0,
    }
    for request in requests:
        weight = float(request["weight"])
        routed = FAST if route_by_hand(request) in (1, 2, 3) else STRONG
        sums["requests"] += weight
        sums["fast" if routed == FAST else "strong"] += weight

        baseline_grade = request["outputs"].get(STRONG, {}).get("grade")
        routed_grade = request["outputs"].get(routed, {}).get("grade")
        if baseline_grade is not None and routed_grade is not None:
            sums["graded"] += 1
            sums["graded_weight"] += weight
            sums["baseline_sum"] += weight * baseline_grade
            sums["routed_sum"] += weight * routed_grade

        for side, model in (("baseline", STRONG), ("routed", routed)):
            cost = expected_cost(request, model)
            if cost is None:
                sums[f"{side}_cost_unknown"] += 1
            else:
                sums[f"{side}_cost"] += weight * cost
    return sums


def check_group(stats, requests: list[dict]) -> None:
    expected = expected_group(requests)
    assert stats.requests == expected["requests"]
    assert stats.count == len(requests)
    assert stats.by_alias.get("strong", 0.0) == expected["strong"]
    assert stats.by_alias.get("fast", 0.0) == expected["fast"]
    assert stats.graded == expected["graded"]
    assert stats.graded_weight == expected["graded_weight"]
    assert stats.baseline_sum == expected["baseline_sum"]
    assert stats.routed_sum == expected["routed_sum"]
    assert stats.baseline_cost == expected["baseline_cost"]
    assert stats.routed_cost == expected["routed_cost"]
    assert stats.baseline_cost_unknown == expected["baseline_cost_unknown"]
    assert stats.routed_cost_unknown == expected["routed_cost_unknown"]


def load_weighted(count: int, seed: int):
    requests = weighted_requests(count, seed)
    sample = parse_sample_lines([json.dumps(r) for r in requests], "w.jsonl")
    assert not sample.problems, [p.format() for p in sample.problems]
    return requests, sample


@pytest.fixture(scope="module")
def weighted():
    policy = parse_policy(POLICY, "w.yaml").policy
    requests, sample = load_weighted(600, seed=5)
    preview = compute_preview(policy, sample.requests, checks=False)
    return requests, preview


def test_pass_routes_like_hand_rules(weighted):
    requests, preview = weighted
    for request, row in zip(requests, preview.rows, strict=True):
        assert row.request.id == request["id"]
        assert row.rule_index == route_by_hand(request)
        assert row.segments == {
            "tier": request["metadata"]["tier"],
            "locale": request["metadata"]["locale"],
        }


def test_pass_totals_in_sample_order(weighted):
    requests, preview = weighted
    check_group(preview.totals.stats, requests)
    assert len(preview.totals.members) == len(requests)


def test_pass_segments_in_sample_order(weighted):
    requests, preview = weighted
    seen = 0
    for row in preview.segments:
        members = [r for r in requests if r["metadata"][row.dimension] == row.value]
        check_group(row.stats, members)
        assert [m.request.id for m in row.members] == [r["id"] for r in members]
        seen += len(members)
    assert seen == 2 * len(requests)


def test_pass_regression_interval(weighted):
    requests, preview = weighted
    stats = preview.totals.stats
    pairs = []
    for request in requests:
        routed = FAST if route_by_hand(request) in (1, 2, 3) else STRONG
        baseline = request["outputs"].get(STRONG, {}).get("grade")
        grade = request["outputs"].get(routed, {}).get("grade")
        if baseline is not None and grade is not None:
            pairs.append((float(request["weight"]), baseline - grade))
    total = sum(w for w, _ in pairs)
    mean = sum(w * d for w, d in pairs) / total
    variance = sum((w * (d - mean)) ** 2 for w, d in pairs) / total**2
    variance *= len(pairs) / (len(pairs) - 1)
    half = 1.959963984540054 * math.sqrt(variance)

    low, high = stats.regression_interval()
    assert low == pytest.approx(mean - half, rel=1e-12)
    assert high == pytest.approx(mean + half, rel=1e-12)


def test_pass_rule_table(weighted):
    requests, preview = weighted
    fired = [0.0] * 5
    alone = [0.0] * 4
    for request in requests:
        weight = float(request["weight"])
        fired[route_by_hand(request)] += weight
        for index in rules_matched_alone(request):
            alone[index] += weight

    rules = {rule.name: rule for rule in preview.rules}
    names = ["enterprise-strong", "short-fast", "short-german", "klingon"]
    for index, name in enumerate(names):
        assert rules[name].matched == fired[index]
        assert rules[name].matches_alone == alone[index]
    assert rules["default"].matched == fired[4]
    assert rules["short-german"].status == "shadowed"
    assert rules["short-german"].shadowed_by == ["enterprise-strong", "short-fast"]
    assert rules["klingon"].status == "unmatched"


def test_pass_tenant_exposure(weighted):
    requests, preview = weighted
    shares: dict[str, dict[str, float]] = {}
    missing = 0
    for request in requests:
        tenant = request["metadata"].get("tenant_id")
        if tenant is None:
            missing += 1
            continue
        alias = "fast" if route_by_hand(request) in (1, 2, 3) else "strong"
        by_alias = shares.setdefault(tenant, {})
        by_alias[alias] = by_alias.get(alias, 0.0) + float(request["weight"])

    exposure = preview.exposure
    assert exposure.missing == missing
    assert set(exposure.tenants) == set(shares)
    for tenant, by_alias in shares.items():
        stats = exposure.tenants[tenant]
        assert stats.by_alias == by_alias
        expected_total = 0.0
        for request in requests:
            if request["metadata"].get("tenant_id") == tenant:
                expected_total += float(request["weight"])
        assert stats.requests == expected_total
    mixed = [t for t, by_alias in shares.items() if len(by_alias) > 1]
    assert sorted(exposure.mixed) == sorted(mixed)


def test_pass_cache_same_figures():
    policy = parse_policy(POLICY, "w.yaml").policy
    _, sample = load_weighted(300, seed=9)
    plain = compute_preview(policy, sample.requests, checks=False)
    cache = PreviewCache()
    first = compute_preview(policy, sample.requests, checks=False, cache=cache)
    again = compute_preview(policy, sample.requests, checks=False, cache=cache)
    expected = plain.to_json()
    assert first.to_json() == expected
    assert again.to_json() == expected

    # The app's session runs the output checks, so compare it with a checked run.
    checked = compute_preview(policy, sample.requests).to_json()
    session = PreviewSession(sample.requests)
    session.compute(policy)
    assert session.compute(policy)[0].to_json() == checked
    assert checked["segments"][0]["checks"] is not None
