"""Policy validation: every problem reported, each at its line and column."""

from __future__ import annotations

import textwrap

import pytest

from tui.core.policy import load_policy, parse_policy

VALID = textwrap.dedent(
    """\
    schema: routebook/v1
    name: support-assistant
    version: 4
    description: Short English FAQ traffic goes to the fast model.

    models:
      strong: {model: openai/gpt-4o}
      fast: {model: openai/gpt-4o-mini, params: {temperature: 0}}

    segments:
      tier: {field: metadata.tenant_tier}
      locale: {field: metadata.locale, fallback: detected_language}
      task: {field: metadata.task_type}

    rules:
      - name: enterprise-stays-strong
        when: {tier: enterprise}
        route: strong
      - name: short-english-faq
        when:
          all:
            - {task: {in: [faq, greeting]}}
            - {locale: en}
            - {prompt_tokens: {lt: 400}}
        route: fast

    default: strong

    budgets:
      baseline: strong
      max_regression: 0.03
      min_samples: 30
      overrides:
        - {when: {locale: ja}, max_regression: 0.01}
    """
)


def problems_of(text: str) -> list[str]:
    return [problem.format() for problem in parse_policy(text, "p.yaml").problems]


def test_product_example_is_valid():
    result = parse_policy(VALID, "p.yaml")
    assert result.problems == []
    assert result.ok
    policy = result.policy
    assert policy.name == "support-assistant"
    assert policy.version == 4
    assert policy.aliases == ["strong", "fast"]
    assert policy.models["fast"].params == {"temperature": 0}
    assert [rule.name for rule in policy.rules] == [
        "enterprise-stays-strong",
        "short-english-faq",
    ]
    assert policy.budgets.baseline == "strong"
    assert policy.budgets.min_samples == 30


def test_misspelled_route_names_route():
    text = VALID.replace("    route: fast", "    rotue: fast")
    problems = problems_of(text)
    assert any(
        p.startswith("p.yaml:25:5: error: unknown key 'rotue'")
        and "did you mean 'route'" in p
        for p in problems
    ), problems
    assert any("missing 'route' in rule 'short-english-faq'" in p for p in problems)


def test_unknown_top_key_suggests():
    problems = problems_of(VALID.replace("default: strong", "defualt: strong"))
    assert any(
        "unknown key 'defualt'" in p and "did you mean 'default'" in p for p in problems
    )
    assert any("missing 'default'" in p for p in problems)


def test_unknown_alias_in_route_and_baseline():
    text = VALID.replace("route: fast", "route: fsat").replace(
        "baseline: strong", "baseline: strog"
    )
    problems = problems_of(text)
    assert any(
        "p.yaml:25:12: error: unknown model alias 'fsat'" in p for p in problems
    ), problems
    assert any("'strog'" in p and "did you mean 'strong'" in p for p in problems)


def test_unknown_field_and_operator():
    text = VALID.replace("{tier: enterprise}", "{teir: enterprise}").replace(
        "{lt: 400}", "{less: 400}"
    )
    problems = problems_of(text)
    assert any(
        "unknown field 'teir'" in p and "did you mean 'tier'" in p for p in problems
    )
    assert any("unknown operator 'less'" in p for p in problems)


@pytest.mark.parametrize("value", ["{lt: .nan}", "{in: [1, .NaN]}", "{ne: .nan}"])
def test_nan_comparison_rejected(value):
    text = VALID.replace("{lt: 400}", value)
    problems = problems_of(text)
    assert any("compared with .nan" in p and ": error:" in p for p in problems)


def test_wrong_types_reported():
    text = VALID.replace("{lt: 400}", "{lt: many}").replace(
        "version: 4", "version: four"
    )
    text = text.replace("max_regression: 0.03", "max_regression: lots")
    problems = problems_of(text)
    assert any("'lt' compares numbers" in p for p in problems)
    assert any("'version' must be a whole number" in p for p in problems)
    assert any("'max_regression' in budgets must be a number" in p for p in problems)


def test_invalid_regex_reported():
    text = VALID.replace("{tier: enterprise}", "{metadata.x: {matches: '[unclosed'}}")
    problems = problems_of(text)
    assert any(
        "invalid or unsafe regular expression '[unclosed'" in p for p in problems
    )


def test_backtracking_regex_rejected():
    text = VALID.replace("{tier: enterprise}", "{metadata.x: {matches: '(a)\\1'}}")
    problems = problems_of(text)
    assert any("backreferences" in p for p in problems), problems


def test_duplicate_rule_names():
    text = VALID.replace("name: short-english-faq", "name: enterprise-stays-strong")
    problems = problems_of(text)
    assert any(
        "duplicate rule name 'enterprise-stays-strong' (first used on line 16)" in p
        for p in problems
    )


def test_missing_default_and_schema():
    text = VALID.replace("schema: routebook/v1\n", "").replace("default: strong\n", "")
    problems = problems_of(text)
    assert any("missing 'schema'" in p for p in problems)
    assert any("missing 'default'" in p for p in problems)


def test_unsupported_schema():
    problems = problems_of(VALID.replace("routebook/v1", "routebook/v9"))
    assert any("unsupported schema 'routebook/v9'" in p for p in problems)


def test_all_problems_collected_at_once():
    text = (
        VALID.replace("rotue", "x")
        .replace("route: fast", "rotue: fast")
        .replace("{tier: enterprise}", "{teir: enterprise}")
        .replace("baseline: strong", "baseline: nope")
    )
    errors = [p for p in parse_policy(text, "p.yaml").problems if p.is_error]
    assert len(errors) >= 4


def test_empty_lists_warn():
    text = VALID.replace("{tier: enterprise}", "{any: []}")
    result = parse_policy(text, "p.yaml")
    assert result.ok
    assert any(
        "'any: []' is empty, so it matches no request" in p.message
        for p in result.problems
    )


def test_not_over_missing_field_warns():
    text = VALID.replace("{tier: enterprise}", "{not: {metadata.vip: true}}")
    result = parse_policy(text, "p.yaml")
    assert result.ok
    assert any(
        "'not' also matches requests where metadata.vip is missing" in p.message
        for p in result.problems
    )


def test_bare_list_rejected_with_hint():
    problems = problems_of(VALID.replace("{locale: en}", "{locale: [en, de]}"))
    assert any("write {in: [...]}" in p for p in problems)


def test_not_a_mapping():
    for text in ("", "- a\n- b\n", "just text\n"):
        result = parse_policy(text, "p.yaml")
        assert not result.ok
        assert any("a policy is a mapping" in p.message for p in result.problems)


@pytest.mark.parametrize(
    ("dimension", "value", "expected"),
    [
        ("locale", "ja", (0.01, 30)),
        ("locale", "en", (0.03, 30)),
        ("tier", "ja", (0.03, 30)),
    ],
)
def test_budget_overrides_apply_per_segment(dimension, value, expected):
    policy = parse_policy(VALID, "p.yaml").policy
    assert policy.budget_for(dimension, value) == expected


def test_override_must_name_segment():
    text = VALID.replace("{when: {locale: ja}", "{when: {prompt_tokens: {lt: 3}}")
    problems = problems_of(text)
    assert any("'prompt_tokens' cannot be used here" in p for p in problems)


def test_load_from_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(VALID, encoding="utf-8")
    result = load_policy(path)
    assert result.ok
    assert result.policy.path == str(path)
