"""Policy diff: rule changes by meaning, traffic moves, quality and cost per segment."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from tui.cli import main
from tui.core.diff import (
    compare_budgets,
    compare_models,
    compare_rules,
    diff_policies,
    normalize_condition,
    read_policy_source,
)
from tui.core.policy import parse_policy
from tui.core.problems import InputError
from tui.core.samples import load_sample
from tui.core.versions import file_digest, save_policy

STRONG = "test/strong-model"
FAST = "test/fast-model"
PRICES = {STRONG: (2.5, 10.0), FAST: (0.15, 0.6)}  # USD per million tokens

HEADER = f"""\
schema: routebook/v1
name: support
version: 1
models:
  strong: {{model: {STRONG}, price: {{input_per_million: 2.5, output_per_million: 10}}}}
  fast: {{model: {FAST}, price: {{input_per_million: 0.15, output_per_million: 0.6}}}}
segments:
  tier: {{field: metadata.tier}}
  locale: {{field: metadata.locale}}
  task: {{field: metadata.task}}
"""

BUDGETS = """\
default: strong
budgets:
  baseline: strong
  max_regression: 0.05
  min_samples: 10
  overrides:
    - {when: {locale: ja}, max_regression: 0.02}
"""

OLD_RULES = """\
rules:
  - name: enterprise-stays-strong
    when: {tier: enterprise}
    route: strong
  - name: english-faq
    when: {all: [{locale: en}, {task: {in: [faq, chat]}}]}
    route: fast
"""

# english-faq is the same rule written differently; enterprise-stays-strong
# moves below it; short-faq is new.
NEW_RULES = """\
rules:
  - name: english-faq
    when:
      all:
        - task:
            in: [chat, faq]
        - locale: en
    route: fast
  - name: enterprise-stays-strong
    when:
      tier: enterprise
    route: strong
  - name: short-faq
    when: {task: faq, prompt_chars: {lt: 60}}
    route: fast
"""

OLD_POLICY = HEADER + OLD_RULES + BUDGETS
NEW_POLICY = HEADER.replace("version: 1", "version: 2") + NEW_RULES + BUDGETS


def old_route(metadata: dict, prompt: str) -> str:
    if metadata.get("tier") == "enterprise":
        return "strong"
    if metadata.get("locale") == "en" and metadata.get("task") in ("faq", "chat"):
        return "fast"
    return "strong"


def new_route(metadata: dict, prompt: str) -> str:
    if metadata.get("locale") == "en" and metadata.get("task") in ("faq", "chat"):
        return "fast"
    if metadata.get("tier") == "enterprise":
        return "strong"
    if metadata.get("task") == "faq" and len(prompt) < 60:
        return "fast"
    return "strong"


def make_requests(count: int = 400, seed: int = 7) -> list[dict]:
    """Requests with weights, missing fields, missing grades and token counts."""
    rng = random.Random(seed)
    requests = []
    for index in range(count):
        metadata = {
            "tier": rng.choice(["smb", "enterprise", "free"]),
            "task": rng.choice(["faq", "chat", "code"]),
        }
        locale = rng.choice(["en", "en", "ja", "de", None])
        if locale is not None:
            metadata["locale"] = locale
        fast_quality = 0.55 if locale == "ja" else 0.85
        fast_grade = float(rng.random() < fast_quality)
        outputs = {
            STRONG: {
                "text": "strong answer",
                "grade": float(rng.random() < 0.92),
                "prompt_tokens": rng.randint(20, 400),
                "completion_tokens": rng.randint(10, 300),
            },
            FAST: {
                "text": "fast answer",
                "grade": None if index % 17 == 0 else fast_grade,
                "prompt_tokens": rng.randint(20, 400),
                "completion_tokens": rng.randint(10, 300),
            },
        }
        requests.append(
            {
                "id": f"r{index}",
                "prompt": "x" * rng.randint(10, 120),
                "metadata": metadata,
                "weight": rng.choice([1, 1, 2, 0.5]),
                "outputs": outputs,
            }
        )
    return requests


def write_sample(path: Path, requests: list[dict]) -> Path:
    lines = [json.dumps(request) for request in requests]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def policy(text: str):
    result = parse_policy(text, "<test>")
    assert result.ok, [problem.format() for problem in result.problems]
    return result.policy


def rules_of(old_text: str, new_text: str):
    return compare_rules(policy(old_text), policy(new_text))


# --- expected figures, computed without Routebook -----------------------------


def expected_group(requests: list[dict], budget: float, min_samples: int = 10):
    model_of = {"strong": STRONG, "fast": FAST}
    moved: dict[str, float] = {}
    total = 0.0
    figures = {}
    for side, route in (("before", old_route), ("after", new_route)):
        graded_weight = 0.0
        difference = 0.0
        graded = 0
        cost = 0.0
        for request in requests:
            alias = route(request["metadata"], request["prompt"])
            weight = request["weight"]
            strong_grade = request["outputs"][STRONG]["grade"]
            routed = request["outputs"][model_of[alias]]
            if routed["grade"] is not None:
                graded += 1
                graded_weight += weight
                difference += weight * (strong_grade - routed["grade"])
            rate_in, rate_out = PRICES[model_of[alias]]
            tokens_cost = routed["prompt_tokens"] * rate_in
            tokens_cost += routed["completion_tokens"] * rate_out
            cost += weight * tokens_cost / 1_000_000
        regression = difference / graded_weight
        status = (
            "insufficient"
            if graded < min_samples
            else ("fail" if regression > budget else "pass")
        )
        figures[side] = (regression, status, cost)

    for request in requests:
        weight = request["weight"]
        total += weight
        before = old_route(request["metadata"], request["prompt"])
        after = new_route(request["metadata"], request["prompt"])
        if before != after:
            key = f"{before}->{after}"
            moved[key] = moved.get(key, 0.0) + weight
    return total, moved, figures


@pytest.fixture(scope="module")
def sample_requests():
    return make_requests()


@pytest.fixture(scope="module")
def diff_json(tmp_path_factory, sample_requests):
    path = write_sample(tmp_path_factory.mktemp("diff") / "s.jsonl", sample_requests)
    sample = load_sample(path, known_models={STRONG, FAST})
    assert not sample.problems
    result = diff_policies(policy(OLD_POLICY), policy(NEW_POLICY), sample.requests)
    return result.to_json()


# --- rule changes -------------------------------------------------------------


def test_rules_reformatted_not_changed():
    changes = rules_of(OLD_POLICY, NEW_POLICY)
    assert changes.changed == []
    assert changes.added == ["short-faq"]
    assert changes.removed == []
    assert changes.reordered == ["enterprise-stays-strong"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("{locale: en, task: faq}", "{task: faq, locale: en}"),
        ("{locale: en, task: faq}", "{all: [{task: faq}, {locale: en}]}"),
        ("{locale: en}", "{locale: {eq: en}}"),
        ("{locale: en}", "{locale: {in: [en]}}"),
        ("{locale: {in: [en, de]}}", "{locale: {in: [de, en, de]}}"),
        ("{locale: {ne: en}}", "{locale: {not_in: [en]}}"),
        (
            "{prompt_chars: {gt: 5, lt: 60}}",
            "{all: [{prompt_chars: {lt: 60.0}}, {prompt_chars: {gt: 5}}]}",
        ),
        ("{all: [{locale: en}, {all: [{task: faq}]}]}", "{locale: en, task: faq}"),
        ("{any: [{locale: en}, {locale: de}]}", "{any: [{locale: de}, {locale: en}]}"),
        ("{not: {not: {locale: en}}}", "{locale: en}"),
        ("{locale: en}", "{metadata.locale: en}"),
    ],
)
def test_condition_same_meaning(before, after):
    old = policy(OLD_POLICY.replace("{tier: enterprise}", before))
    new = policy(OLD_POLICY.replace("{tier: enterprise}", after))
    assert normalize_condition(old.rules[0].condition) == normalize_condition(
        new.rules[0].condition
    )
    assert compare_rules(old, new).changed == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("{locale: en}", "{locale: de}"),
        ("{locale: en}", "{locale: {ne: en}}"),
        ("{prompt_chars: {lt: 60}}", "{prompt_chars: {lte: 60}}"),
        ("{locale: en}", "{task: en}"),
        ("{locale: en, task: faq}", "{any: [{locale: en}, {task: faq}]}"),
        ("{locale: {in: [en, de]}}", "{locale: {in: [en]}}"),
        ("{locale: en}", "{not: {locale: en}}"),
        ("{metadata.count: 1}", "{metadata.count: '1'}"),
        ("{metadata.flag: true}", "{metadata.flag: 'true'}"),
    ],
)
def test_condition_different_meaning(before, after):
    old = policy(OLD_POLICY.replace("{tier: enterprise}", before))
    new = policy(OLD_POLICY.replace("{tier: enterprise}", after))
    changes = compare_rules(old, new)
    assert changes.changed == ["enterprise-stays-strong"]
    assert changes.details[0]["condition_changed"] is True
    assert changes.details[0]["route_changed"] is False


def test_rule_route_changed():
    new = OLD_POLICY.replace("route: strong\n", "route: fast\n", 1)
    changes = rules_of(OLD_POLICY, new)
    assert changes.changed == ["enterprise-stays-strong"]
    detail = changes.details[0]
    assert (detail["route_before"], detail["route_after"]) == ("strong", "fast")
    assert detail["condition_changed"] is False


def test_rule_changed_by_segment_field():
    new = OLD_POLICY.replace("{field: metadata.tier}", "{field: metadata.plan}")
    changes = rules_of(OLD_POLICY, new)
    assert changes.changed == ["enterprise-stays-strong"]


def test_rule_removed_and_default():
    new = OLD_POLICY.replace(OLD_RULES, "rules: []\n").replace(
        "default: strong", "default: fast"
    )
    changes = rules_of(OLD_POLICY, new)
    assert changes.removed == ["enterprise-stays-strong", "english-faq"]
    assert changes.default == {"before": "strong", "after": "fast"}


def test_rules_reordered_minimal():
    rule = "  - name: {0}\n    when: {{task: {0}}}\n    route: strong\n"
    old = HEADER + "rules:\n" + "".join(rule.format(n) for n in "abcd") + BUDGETS
    new = HEADER + "rules:\n" + "".join(rule.format(n) for n in "dabc") + BUDGETS
    assert rules_of(old, new).reordered == ["d"]
    swapped = HEADER + "rules:\n" + "".join(rule.format(n) for n in "bacd") + BUDGETS
    assert len(rules_of(old, swapped).reordered) == 1


# --- models and budgets -------------------------------------------------------


def test_models_changes():
    new = OLD_POLICY.replace(
        "output_per_million: 0.6}}",
        "output_per_million: 0.6}, params: {temperature: 0}}\n  tiny: {model: t/x}",
    ).replace(f"model: {STRONG}", "model: test/stronger")
    changes = compare_models(policy(OLD_POLICY), policy(new))
    by_alias = {change["alias"]: change for change in changes}
    assert set(by_alias) == {"strong", "fast", "tiny"}
    assert by_alias["tiny"]["change"] == "added"
    assert by_alias["fast"]["after"]["params"] == {"temperature": 0}
    assert by_alias["strong"]["before"]["model"] == STRONG
    assert by_alias["strong"]["after"]["model"] == "test/stronger"


def test_budgets_changes():
    new = OLD_POLICY.replace("max_regression: 0.05", "max_regression: 0.03").replace(
        "{when: {locale: ja}, max_regression: 0.02}",
        "{when: {locale: ja}, max_regression: 0.01}\n"
        "    - {when: {tier: free}, min_samples: 5}",
    )
    changes = compare_budgets(policy(OLD_POLICY), policy(new))
    assert changes[0] == {
        "field": "max_regression",
        "change": "changed",
        "before": 0.05,
        "after": 0.03,
    }
    overrides = {change["when"]: change for change in changes[1:]}
    assert overrides["locale eq ja"]["change"] == "changed"
    assert overrides["locale eq ja"]["after"]["max_regression"] == 0.01
    assert overrides["tier eq free"]["change"] == "added"


# --- traffic per segment ------------------------------------------------------


def test_diff_json_contract(diff_json):
    for key in (
        "old",
        "new",
        "requests",
        "moved",
        "segments",
        "rules",
        "models",
        "budgets",
        "totals",
    ):
        assert key in diff_json
    assert diff_json["old"] == {"name": "support", "version": 1, "source": "<test>"}
    assert diff_json["new"]["version"] == 2
    assert set(diff_json["rules"]) >= {"added", "removed", "changed", "reordered"}
    segment_keys = {
        "dimension",
        "value",
        "requests",
        "moved",
        "regression_before",
        "regression_after",
        "status_before",
        "status_after",
        "cost_before",
        "cost_after",
    }
    for segment in diff_json["segments"]:
        assert segment_keys <= set(segment)
    json.dumps(diff_json)


def test_diff_totals_match_hand_routing(diff_json, sample_requests):
    total, moved, figures = expected_group(sample_requests, 0.05)
    totals = diff_json["totals"]
    assert diff_json["requests"] == pytest.approx(total)
    assert diff_json["moved"].keys() == moved.keys()
    for key, count in moved.items():
        assert diff_json["moved"][key] == pytest.approx(count)
    assert totals["regression_before"] == pytest.approx(figures["before"][0])
    assert totals["regression_after"] == pytest.approx(figures["after"][0])
    assert totals["cost_before"] == pytest.approx(figures["before"][2])
    assert totals["cost_after"] == pytest.approx(figures["after"][2])
    change = (figures["after"][2] - figures["before"][2]) / figures["before"][2]
    assert totals["cost_change"] == pytest.approx(change)


def test_diff_segments_match_hand_routing(diff_json, sample_requests):
    segments = {(s["dimension"], s["value"]): s for s in diff_json["segments"]}
    expected_keys = set()
    for dimension in ("tier", "locale", "task"):
        values = {r["metadata"].get(dimension) for r in sample_requests}
        expected_keys |= {(dimension, value) for value in values}
    assert set(segments) == expected_keys

    for (dimension, value), segment in segments.items():
        members = [r for r in sample_requests if r["metadata"].get(dimension) == value]
        budget = 0.02 if (dimension, value) == ("locale", "ja") else 0.05
        total, moved, figures = expected_group(members, budget)
        label = f"{dimension}={value}"
        assert segment["requests"] == pytest.approx(total), label
        assert segment["moved"].keys() == moved.keys(), label
        for key, count in moved.items():
            assert segment["moved"][key] == pytest.approx(count), label
        regression_before, regression_after = figures["before"][0], figures["after"][0]
        assert segment["regression_before"] == pytest.approx(regression_before), label
        assert segment["regression_after"] == pytest.approx(regression_after), label
        assert segment["status_before"] == figures["before"][1], label
        assert segment["status_after"] == figures["after"][1], label
        assert segment["cost_before"] == pytest.approx(figures["before"][2]), label
        assert segment["cost_after"] == pytest.approx(figures["after"][2]), label


def test_diff_newly_failing_first(diff_json):
    segments = diff_json["segments"]
    flags = [
        s["status_after"] == "fail" and s["status_before"] != "fail" for s in segments
    ]
    assert any(flags), "the fixture should make at least one segment newly fail"
    first_other = flags.index(False)
    assert all(flags[:first_other])
    assert not any(flags[first_other:])
    newly = [f"{s['dimension']}={s['value']}" for s in segments[:first_other]]
    assert diff_json["totals"]["newly_failing"] == newly
    assert diff_json["summary"].count("newly fail") == 1


def test_diff_segment_only_in_old(tmp_path, sample_requests):
    new_text = NEW_POLICY.replace("  task: {field: metadata.task}\n", "").replace(
        "task", "metadata.task"
    )
    path = write_sample(tmp_path / "s.jsonl", sample_requests[:50])
    requests = load_sample(path).requests
    result = diff_policies(policy(OLD_POLICY), policy(new_text), requests).to_json()
    dimensions = {segment["dimension"] for segment in result["segments"]}
    assert dimensions == {"tier", "locale", "task"}
    definitions = result["segment_definitions"]
    assert definitions == [
        {
            "dimension": "task",
            "change": "removed",
            "before": "metadata.task",
            "after": None,
        }
    ]


def test_diff_alias_model_note(tmp_path, sample_requests):
    new_text = OLD_POLICY.replace(f"model: {FAST}", f"model: {STRONG}")
    path = write_sample(tmp_path / "s.jsonl", sample_requests[:40])
    requests = load_sample(path).requests
    result = diff_policies(policy(OLD_POLICY), policy(new_text), requests)
    staying = sum(
        r["weight"]
        for r in sample_requests[:40]
        if old_route(r["metadata"], r["prompt"]) == "fast"
    )
    assert result.moved == {}
    assert result.notes == [
        f"alias 'fast' is {FAST} in OLD and {STRONG} in NEW, so {staying:g}"
        " request(s) that stay on 'fast' still change model"
    ]


# --- sources ------------------------------------------------------------------


def test_source_version_form(tmp_path):
    path = tmp_path / "support.yaml"
    path.write_text(OLD_POLICY, encoding="utf-8")
    save_policy(path, NEW_POLICY, loaded_digest=file_digest(path))
    assert read_policy_source(f"{path}@1").text == OLD_POLICY
    assert read_policy_source(f"{path}@3").text == NEW_POLICY.replace(
        "version: 2", "version: 3"
    )
    with pytest.raises(InputError, match="no saved version 7"):
        read_policy_source(f"{path}@7")


def test_source_file_with_at_sign(tmp_path):
    path = tmp_path / "support@2"
    path.write_text(OLD_POLICY, encoding="utf-8")
    assert read_policy_source(str(path)).text == OLD_POLICY


def git(folder: Path, *arguments: str) -> str:
    command = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t"]
    completed = subprocess.run(
        [*command, *arguments], capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


@pytest.fixture
def repo(tmp_path):
    folder = tmp_path / "repo"
    (folder / "policies").mkdir(parents=True)
    git(folder, "init", "-q")
    policy_path = folder / "policies" / "support.yaml"
    policy_path.write_text(OLD_POLICY, encoding="utf-8")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "first")
    policy_path.write_text(NEW_POLICY, encoding="utf-8")
    git(folder, "commit", "-q", "-am", "second")
    return folder


def test_source_git_revision(repo, monkeypatch):
    monkeypatch.chdir(repo / "policies")
    assert read_policy_source("git:HEAD~1:support.yaml").text == OLD_POLICY
    assert read_policy_source("git:HEAD:support.yaml").text == NEW_POLICY


def test_source_git_deleted_file(repo, monkeypatch):
    git(repo, "rm", "-q", "policies/support.yaml")
    monkeypatch.chdir(repo)
    text = read_policy_source("git:HEAD:policies/support.yaml").text
    assert text == NEW_POLICY


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("git:HEAD~5:support.yaml", "git show HEAD~5:policies/support.yaml' failed"),
        ("git:HEAD:missing.yaml", "does not exist"),
        ("git:-x:support.yaml", "cannot start with '-'"),
        ("git:HEAD", "expected git:REV:path"),
    ],
)
def test_source_git_errors(repo, monkeypatch, spec, message):
    monkeypatch.chdir(repo / "policies")
    with pytest.raises(InputError, match=message):
        read_policy_source(spec)


def test_source_git_outside_repository(tmp_path, monkeypatch):
    (tmp_path / "p.yaml").write_text(OLD_POLICY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    with pytest.raises(InputError, match="not a git repository"):
        read_policy_source("git:HEAD:p.yaml")


# --- command line -------------------------------------------------------------


@pytest.fixture
def files(tmp_path, sample_requests):
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    old.write_text(OLD_POLICY, encoding="utf-8")
    new.write_text(NEW_POLICY, encoding="utf-8")
    sample = write_sample(tmp_path / "s.jsonl", sample_requests)
    return old, new, sample


def test_cli_diff_json(files, capsys, diff_json):
    old, new, sample = files
    code = main(
        ["diff", str(old), str(new), "--sample", str(sample), "--format", "json"]
    )
    output = json.loads(capsys.readouterr().out)
    assert code == 0
    assert output["moved"] == diff_json["moved"]
    assert output["segments"] == diff_json["segments"]
    assert output["old"]["source"] == str(old)


def test_cli_diff_markdown(files, capsys, diff_json):
    old, new, sample = files
    code = main(
        ["diff", str(old), str(new), "--sample", str(sample), "--format", "markdown"]
    )
    output = capsys.readouterr().out
    assert code == 0
    assert f"**{diff_json['summary']}**" in output
    assert "| segment | requests | moved |" in output
    assert "short-faq added" in output
    newly = diff_json["totals"]["newly_failing"][0]
    assert f"| {newly} |" in output


def test_cli_diff_table(files, capsys, diff_json):
    old, new, sample = files
    code = main(["diff", str(old), str(new), "--sample", str(sample)])
    output = capsys.readouterr().out
    assert code == 0
    assert "support v1" in output
    assert "short-faq" in output


def test_cli_diff_table_lists(files, capsys):
    old, new, sample = files
    changed = NEW_POLICY.replace("in: [chat, faq]", "in: [chat, faq, code]")
    new.write_text(changed, encoding="utf-8")
    code = main(["diff", str(old), str(new), "--sample", str(sample)])
    output = capsys.readouterr().out
    assert code == 0
    # Square brackets in rule values are text, never Rich markup.
    assert "[chat, faq, code]" in output


def test_cli_diff_invalid_policy(files, capsys):
    old, new, sample = files
    broken = NEW_POLICY.replace("route: fast", "route: fastest")
    new.write_text(broken, encoding="utf-8")
    code = main(["diff", str(old), str(new), "--sample", str(sample)])
    error = capsys.readouterr().err
    assert code == 2
    assert error.startswith(f"{new}:18:12: error: unknown model alias")
    assert f"routebook: error: NEW policy {new} is invalid" in error
    assert f"{new}:" in error
    assert "fastest" in error


def test_cli_diff_missing_sample(files, capsys):
    old, new, _ = files
    code = main(["diff", str(old), str(new), "--sample", "missing.jsonl"])
    assert code == 2
    assert "routebook: error:" in capsys.readouterr().err


def test_cli_diff_bad_sample_line(files, capsys):
    old, new, sample = files
    with sample.open("a", encoding="utf-8") as handle:
        handle.write("{broken\n")
    code = main(["diff", str(old), str(new), "--sample", str(sample)])
    error = capsys.readouterr().err
    assert code == 2
    assert "1 invalid line listed above" in error


def test_cli_history(tmp_path, capsys):
    path = tmp_path / "support.yaml"
    path.write_text(OLD_POLICY, encoding="utf-8")
    save_policy(path, NEW_POLICY, loaded_digest=file_digest(path))
    code = main(["history", str(path), "--format", "json"])
    listed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(v["version"], v["current"], v["rule_count"]) for v in listed] == [
        (1, False, 2),
        (3, True, 3),
    ]
    assert main(["history", str(path)]) == 0
    assert "(current)" in capsys.readouterr().out
