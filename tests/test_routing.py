"""Routing: first match wins, operators, missing fields, and explanations."""

from __future__ import annotations

import itertools
import random
import textwrap

import pytest

from tui.core.evaluate import compile_condition, explain_condition
from tui.core.features import RequestFeatures
from tui.core.policy import parse_policy
from tui.core.router import Router
from tui.runtime import load_router

from .test_policy import VALID


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(parse_policy(VALID, "p.yaml").policy)


def test_enterprise_rule_fires_first(router):
    decision = router.route(
        {
            "prompt": "hi",
            "metadata": {
                "tenant_tier": "enterprise",
                "task_type": "faq",
                "locale": "en",
            },
        }
    )
    assert decision.alias == "strong"
    assert decision.model == "openai/gpt-4o"
    assert decision.rule == "enterprise-stays-strong"


def test_short_faq_goes_fast(router):
    decision = router.route(
        {
            "prompt": "How do I reset my password?",
            "metadata": {"tenant_tier": "smb", "task_type": "faq", "locale": "en"},
        }
    )
    assert decision.alias == "fast"
    assert decision.rule == "short-english-faq"
    assert decision.explanation[0].startswith(
        "rule 'enterprise-stays-strong' did not match: tier is 'smb'"
    )
    assert decision.explanation[1].endswith("-> fast")


def test_missing_field_is_false_and_explained(router):
    decision = router.route({"prompt": "hi", "metadata": {}})
    assert decision.rule == "default"
    assert decision.alias == "strong"
    assert "tier is missing, so eq 'enterprise' is false" in decision.explanation[0]
    assert decision.explanation[-1] == "no rule matched -> default 'strong'"


def test_explanation_quotes_as_yaml():
    text = VALID.replace("{tier: enterprise}", "{metadata.order: {matches: '#\\d{5}'}}")
    policy = parse_policy(text, "p.yaml").policy
    decision = Router(policy).route({"prompt": "hi", "metadata": {"order": "it's"}})
    # Backslashes as typed, and a quote doubled the way YAML escapes it.
    assert (
        "metadata.order is 'it''s', so matches '#\\d{5}' fails"
        in (decision.explanation[0])
    )


def test_messages_request_routes(router):
    request = {
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}],
        "metadata": {"tenant_tier": "smb", "task_type": "greeting", "locale": "en"},
    }
    assert router.route(request).alias == "fast"


POLICY_TEMPLATE = textwrap.dedent(
    """\
    schema: routebook/v1
    name: ops
    models:
      a: {{model: openai/gpt-4o}}
      b: {{model: openai/gpt-4o-mini}}
    segments:
      tier: {{field: metadata.tier}}
    rules:
      - name: r
        when: {when}
        route: b
    default: a
    """
)

CASES = [
    ("{tier: gold}", {"tier": "gold"}, True),
    ("{tier: gold}", {"tier": "silver"}, False),
    ("{tier: gold}", {}, False),
    ("{tier: {ne: gold}}", {"tier": "silver"}, True),
    ("{tier: {ne: gold}}", {}, False),
    ("{tier: {in: [gold, silver]}}", {"tier": "silver"}, True),
    ("{tier: {not_in: [gold]}}", {"tier": "silver"}, True),
    ("{tier: {not_in: [gold]}}", {}, False),
    ("{metadata.n: {lt: 3}}", {"n": 2}, True),
    ("{metadata.n: {lt: 3}}", {"n": "2"}, False),
    ("{metadata.n: {gte: 3, lte: 5}}", {"n": 5}, True),
    ("{metadata.n: {gt: 3}}", {"n": 3}, False),
    ("{metadata.tags: {contains: vip}}", {"tags": ["a", "vip"]}, True),
    ("{metadata.note: {contains: vip}}", {"note": "a vip user"}, True),
    ("{metadata.note: {matches: '^#\\d{5}$'}}", {"note": "#12345"}, True),
    ("{metadata.note: {matches: '^#\\d{5}$'}}", {"note": "#1234"}, False),
    ("{metadata.a.b: 1}", {"a": {"b": 1}}, True),
    ("{metadata.a.b: 1}", {"a": 1}, False),
    ("{not: {tier: gold}}", {}, True),
    ("{all: []}", {}, True),
    ("{any: []}", {"tier": "gold"}, False),
    ("{any: [{tier: gold}, {tier: silver}]}", {"tier": "silver"}, True),
    ("{tier: gold, metadata.n: 1}", {"tier": "gold", "n": 2}, False),
    ("{tier: {in: [gold]}}", {"tier": ["unhashable"]}, False),
    ("{turns: 1}", {}, True),
]


@pytest.mark.parametrize(("when", "metadata", "expected"), CASES)
def test_operator_semantics(when, metadata, expected):
    result = parse_policy(POLICY_TEMPLATE.format(when=when), "p.yaml")
    assert result.ok, [p.format() for p in result.problems]
    router = Router(result.policy)
    request = {"prompt": "x", "metadata": metadata}
    assert (router.route(request).alias == "b") is expected

    # The explaining path must agree with the compiled path.
    condition = result.policy.rules[0].condition
    features = RequestFeatures(metadata, "x")
    assert explain_condition(condition, features).held is expected
    assert compile_condition(condition)(features) == expected


def test_compiled_and_explained_agree_randomly():
    """Random conditions over random requests: both evaluators give one answer."""
    rng = random.Random(7)
    leaves = [
        "{tier: gold}",
        "{metadata.n: {lt: 3}}",
        "{metadata.n: {in: [1, 5]}}",
        "{tier: {ne: silver}}",
    ]
    shapes = [
        "{{all: [{0}, {1}]}}",
        "{{any: [{0}, {1}]}}",
        "{{not: {0}}}",
        "{{all: [{0}, {{not: {1}}}]}}",
    ]
    metadatas = [
        {},
        {"tier": "gold"},
        {"tier": "silver", "n": 1},
        {"n": 5},
        {"tier": "gold", "n": 2},
    ]
    for left, right in itertools.product(leaves, repeat=2):
        when = rng.choice(shapes).format(left, right)
        policy = parse_policy(POLICY_TEMPLATE.format(when=when), "p.yaml").policy
        condition = policy.rules[0].condition
        compiled = compile_condition(condition)
        for metadata in metadatas:
            features = RequestFeatures(metadata, "x")
            assert compiled(features) == explain_condition(condition, features).held, (
                when,
                metadata,
            )


def test_policy_literals_are_not_code():
    when = "{tier: \"gold') or __import__('os').system('false') or ('\"}"
    result = parse_policy(POLICY_TEMPLATE.format(when=when), "p.yaml")
    router = Router(result.policy)
    assert router.route({"prompt": "x", "metadata": {"tier": "gold"}}).alias == "a"


def test_runtime_loads_policy_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(VALID, encoding="utf-8")
    router = load_router(path)
    decision = router.route({"prompt": "hi", "metadata": {"tenant_tier": "enterprise"}})
    assert (decision.alias, decision.model, decision.rule) == (
        "strong",
        "openai/gpt-4o",
        "enterprise-stays-strong",
    )


def test_runtime_rejects_invalid_policy(tmp_path):
    from tui.runtime import InputError

    path = tmp_path / "p.yaml"
    path.write_text(VALID.replace("default: strong", ""), encoding="utf-8")
    with pytest.raises(InputError, match="missing 'default'"):
        load_router(path)
