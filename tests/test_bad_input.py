"""Hostile but realistic input to the headless core and the CLI.

The contract under test: every kind of bad input gets defined behaviour and, where
it is a problem, a message that names the file, line and column. Nothing hangs,
nothing ends in a traceback and no data is lost. Exit code 2 is for usage errors
and unreadable input, exit code 1 for an invalid policy (`check`) or a failing
gate. Commands that could hang run in a subprocess with a timeout; the rest run
in-process through `tui.cli.main`.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from tui.cli import main

ROOT = Path(__file__).resolve().parents[1]

STRONG = "openai/gpt-4o"
FAST = "openai/gpt-4o-mini"

# Line numbers below refer to this text: 9 is the rule's `- name:`, 10 its
# `when:`, 11 its `route:`, 12 `default:` and 15 `max_regression:`.
POLICY = """\
schema: routebook/v1
name: probe
models:
  strong: {model: openai/gpt-4o}
  fast: {model: openai/gpt-4o-mini}
segments:
  tier: {field: metadata.tier}
rules:
  - name: smb-fast
    when: {tier: smb}
    route: fast
default: strong
budgets:
  baseline: strong
  max_regression: 0.05
  min_samples: 1
"""

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


# --- helpers ------------------------------------------------------------------


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_cli(capsys, *args) -> Result:
    """Run the CLI in-process; an exception escaping `main` fails the test."""
    capsys.readouterr()
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except Exception as error:  # noqa: BLE001 - a traceback is the finding
        captured = capsys.readouterr()
        pytest.fail(
            f"uncaught {type(error).__name__}: {error}\n{traceback.format_exc()}"
            f"\nstderr so far:\n{captured.err[-2000:]}",
            pytrace=False,
        )
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def process_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env.pop("CLICOLOR_FORCE", None)
    env["LC_ALL"] = "C.UTF-8"
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_process(args, timeout: float, **options) -> subprocess.CompletedProcess:
    """Run the CLI in a subprocess; exceeding `timeout` seconds fails the test."""
    command = [sys.executable, "-m", "tui.cli", *[str(arg) for arg in args]]
    options.setdefault("stdout", subprocess.PIPE)
    try:
        return subprocess.run(
            command,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=process_env(),
            timeout=timeout,
            **options,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`routebook {' '.join(command[3:])[:200]}` ran over {timeout} s")


def policy_with(*replacements: tuple[str, str]) -> str:
    text = POLICY
    for old, new in replacements:
        assert old in text, f"{old!r} is not in the base policy"
        text = text.replace(old, new, 1)
    return text


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def request(request_id: str, tier: str = "smb", strong=1.0, fast=1.0, **fields) -> dict:
    row = {
        "id": request_id,
        "prompt": "Where is my order?",
        "metadata": {"tier": tier},
        "outputs": {
            STRONG: {"text": "It ships today.", "grade": strong},
            FAST: {"text": "Today.", "grade": fast},
        },
    }
    row.update(fields)
    return row


def write_sample(tmp_path: Path, rows, name: str = "sample.jsonl") -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    return write(tmp_path, name, "".join(line + "\n" for line in lines))


def preview_json(capsys, policy: Path, sample: Path) -> dict:
    result = run_cli(capsys, "preview", policy, "--sample", sample, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def rule_row(report: dict, name: str) -> dict:
    return next(rule for rule in report["rules"] if rule["name"] == name)


def located(text: str, path: Path, line: int) -> list[str]:
    """Lines of output that name `path` at `line` as path:line:column."""
    prefix = re.compile(rf"{re.escape(str(path))}:{line}:\d+:")
    return [entry for entry in text.splitlines() if prefix.search(entry)]


def reject_non_finite(constant: str):
    raise ValueError(f"non-standard JSON constant {constant}")


# --- policy YAML hazards ------------------------------------------------------


def test_alias_bomb_bounded(tmp_path):
    import resource

    path = write(tmp_path, "bomb.yaml", BILLION_LAUGHS)
    limit = 1 << 30

    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    started = time.monotonic()
    result = run_process(["check", path], timeout=20, preexec_fn=cap_memory)
    elapsed = time.monotonic() - started

    out = result.stdout.decode()
    assert result.returncode == 1, result.stderr.decode()[-2000:]
    assert elapsed < 5
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: error: .*alias", out)


def test_duplicate_keys_all_reported(tmp_path, capsys):
    text = (
        "schema: routebook/v1\nname: a\nname: b\nmodels:\n"
        "  strong: {model: openai/gpt-4o}\n  strong: {model: openai/gpt-4o-mini}\n"
        "default: strong\ndefault: strong\n"
    )
    path = write(tmp_path, "dup.yaml", text)
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    for line in (3, 6, 8):
        assert any(
            "duplicate key" in entry for entry in located(result.out, path, line)
        )


def test_tab_indentation_reported(tmp_path, capsys):
    path = write(tmp_path, "tab.yaml", policy_with(("  strong:", "\tstrong:")))
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert f"{path}:4:1:" in result.out
    assert "tab" in result.out


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bom_crlf_accepted(tmp_path, capsys, bom, newline):
    text = ("\ufeff" if bom else "") + POLICY.replace("\n", newline)
    path = write(tmp_path, "policy.yaml", text)
    result = run_cli(capsys, "check", path)

    assert result.code == 0, result.out
    assert "valid" in result.out


def test_bom_crlf_positions(tmp_path, capsys):
    text = "\ufeff" + policy_with(("route: fast", "rotue: fast")).replace("\n", "\r\n")
    path = write(tmp_path, "policy.yaml", text)
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert f"{path}:11:5: error: unknown key 'rotue'" in result.out


def test_yaml11_words_strings(tmp_path, capsys):
    text = policy_with(
        ("  tier: {field: metadata.tier}", "  country: {field: metadata.country}"),
        ("when: {tier: smb}", "when: {country: no}"),
        ("{model: openai/gpt-4o}", '{model: openai/gpt-4o, params: {stream: "off"}}'),
    )
    path = write(tmp_path, "policy.yaml", text)
    countries = ["no", "se", "no", "NO"]
    rows = [request(f"r{i}", metadata={"country": c}) for i, c in enumerate(countries)]
    sample = write_sample(tmp_path, rows)

    checked = run_cli(capsys, "check", path)
    assert checked.code == 0
    warnings = located(checked.out, path, 10)
    assert any("warning" in entry and "no" in entry for entry in warnings)
    assert located(checked.out, path, 4) == []

    report = preview_json(capsys, path, sample)
    expected = sum(1 for country in countries if country == "no")
    assert rule_row(report, "smb-fast")["matched"] == expected


def test_deep_nesting_rejected(tmp_path, capsys):
    path = write(tmp_path, "deep.yaml", "a: " + "[" * 150 + "]" * 150 + "\n")
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert located(result.out, path, 1)
    assert "nested" in result.out


def test_deep_flow_nesting_fast(tmp_path):
    # The nesting limit should reject 4 KB of brackets as fast as an alias bomb.
    path = write(tmp_path, "deep.yaml", "a: " + "[" * 2000 + "]" * 2000 + "\n")
    result = run_process(["check", path], timeout=3)

    assert result.returncode == 1
    assert b"nested" in result.stdout


def test_huge_policy_no_hang(tmp_path):
    description = "x" * (10 * 1024 * 1024)
    text = POLICY + f"description: '{description}'\n"
    path = write(tmp_path, "huge.yaml", text)
    result = run_process(["check", path], timeout=4)

    assert result.returncode in (0, 1, 2)
    assert b"Traceback" not in result.stderr


def test_binary_policy_exit_2(tmp_path, capsys):
    path = write(tmp_path, "policy.yaml", bytes(range(256)) * 64)
    result = run_cli(capsys, "check", path)

    assert result.code == 2
    assert str(path) in result.err
    assert "UTF-8" in result.err


def test_directory_policy_exit_2(tmp_path, capsys):
    result = run_cli(capsys, "check", tmp_path)

    assert result.code == 2
    assert str(tmp_path) in result.err


@pytest.mark.parametrize(
    "text", ["", "# only a comment\n", "- a\n- b\n", "just text\n"]
)
def test_empty_policy_invalid(tmp_path, capsys, text):
    path = write(tmp_path, "policy.yaml", text)
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert f"{path}:1:1: error:" in result.out
    assert "mapping" in result.out


def test_non_utf8_policy_exit_2(tmp_path, capsys):
    path = write(
        tmp_path, "policy.yaml", POLICY.replace("probe", "caf\xe9").encode("latin-1")
    )
    result = run_cli(capsys, "check", path)

    assert result.code == 2
    assert f"{path}:2:10:" in result.err


def test_utf16_policy_hint(tmp_path, capsys):
    path = write(tmp_path, "policy.yaml", POLICY.encode("utf-16"))
    result = run_cli(capsys, "check", path)

    assert result.code == 2
    assert "UTF-16" in result.err


@pytest.mark.parametrize("kind", ["policy", "sample"])
def test_located_error_starts_line(tmp_path, capsys, kind):
    # Editors and CI annotators match `path:line:column:` at the start of a line.
    policy = write(tmp_path, "policy.yaml", POLICY)
    if kind == "policy":
        bad = write(
            tmp_path, "bad.yaml", POLICY.replace("probe", "caf\xe9").encode("latin-1")
        )
        result = run_cli(capsys, "check", bad)
    else:
        line = json.dumps(request("a")).replace("Where", "Wh\udcffere")
        data = (json.dumps(request("b")) + "\n").encode() + line.encode(
            "utf-8", "surrogateescape"
        )
        bad = write(tmp_path, "bad.jsonl", data)
        result = run_cli(capsys, "preview", policy, "--sample", bad)

    assert result.code == 2
    starts = [entry for entry in result.err.splitlines() if entry.startswith(f"{bad}:")]
    assert starts, result.err


def test_nul_in_policy_located(tmp_path, capsys):
    path = write(
        tmp_path, "policy.yaml", POLICY.replace("name: probe", "name: pr\0obe")
    )
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert located(result.out, path, 2)


def test_huge_hex_version(tmp_path, capsys):
    text = policy_with(
        ("name: probe\n", "name: probe\nversion: 0x" + "f" * 5000 + "\n")
    )
    path = write(tmp_path, "policy.yaml", text)
    result = run_cli(capsys, "check", path)

    assert result.code in (0, 1)
    if result.code == 1:
        assert located(result.out, path, 3)


# --- conditions ---------------------------------------------------------------


def test_backtracking_pattern_linear(tmp_path):
    text = policy_with(
        ("when: {tier: smb}", 'when: {metadata.subject: {matches: "(a+)+$"}}')
    )
    path = write(tmp_path, "policy.yaml", text)
    subjects = ["a" * 100_000 + "b", "aaaa", "ab", "b" + "a" * 30]
    rows = [request(f"r{i}") for i in range(len(subjects))]
    for row, subject in zip(rows, subjects, strict=True):
        row["metadata"]["subject"] = subject
    sample = write_sample(tmp_path, rows)

    result = run_process(["preview", path, "--sample", sample, "--format", "json"], 20)
    assert result.returncode == 0, result.stderr.decode()[-2000:]

    # `(a+)+$` occurs in a string exactly when the string ends with "a".
    expected = sum(1 for subject in subjects if subject.endswith("a"))
    report = json.loads(result.stdout)
    assert rule_row(report, "smb-fast")["matched"] == expected


@pytest.mark.parametrize("pattern", [r"(a)\\1", "foo(?=bar)", "(?<!x)y", "(?!a)b"])
def test_backtracking_patterns_rejected(tmp_path, capsys, pattern):
    text = policy_with(
        ("when: {tier: smb}", f'when: {{metadata.subject: {{matches: "{pattern}"}}}}')
    )
    path = write(tmp_path, "policy.yaml", text)
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    entries = located(result.out, path, 10)
    assert any("backtracking" in entry for entry in entries), result.out


def test_end_anchor_hint(tmp_path, capsys):
    # `\Z` is Python's end-of-text anchor and RE2 spells it `\z`. It needs no
    # backtracking, so the backreference advice would mislead.
    text = policy_with(
        ("when: {tier: smb}", r'when: {metadata.subject: {matches: "x\\Z"}}')
    )
    path = write(tmp_path, "policy.yaml", text)
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    entries = located(result.out, path, 10)
    assert entries
    assert not any("backreference" in entry for entry in entries), entries


def test_empty_all_any(tmp_path, capsys):
    text = policy_with(
        (
            "  - name: smb-fast\n",
            "  - name: never\n    when: {any: []}\n    route: fast\n"
            "  - name: smb-fast\n",
        ),
        ("when: {tier: smb}", "when: {all: []}"),
    )
    path = write(tmp_path, "policy.yaml", text)
    sample = write_sample(tmp_path, [request("a"), request("b", tier="ent")])

    checked = run_cli(capsys, "check", path)
    assert checked.code == 0
    assert any("warning" in entry for entry in located(checked.out, path, 10))
    assert any("warning" in entry for entry in located(checked.out, path, 13))

    report = preview_json(capsys, path, sample)
    assert rule_row(report, "never")["matched"] == 0
    assert rule_row(report, "smb-fast")["matched"] == 2


def test_not_over_missing_field(tmp_path, capsys):
    text = policy_with(("when: {tier: smb}", "when: {not: {metadata.vip: true}}"))
    path = write(tmp_path, "policy.yaml", text)
    rows = [request("a"), request("b"), request("c")]
    rows[0]["metadata"]["vip"] = True
    sample = write_sample(tmp_path, rows)

    checked = run_cli(capsys, "check", path)
    assert checked.code == 0
    assert any("missing" in entry for entry in located(checked.out, path, 10))

    report = preview_json(capsys, path, sample)
    expected = sum(1 for row in rows if row["metadata"].get("vip") is not True)
    assert rule_row(report, "smb-fast")["matched"] == expected


def test_rule_after_catch_all(tmp_path, capsys):
    # A rule after an unconditional `all: []` can never fire, whatever the sample.
    text = policy_with(
        (
            "  - name: smb-fast\n",
            "  - name: all-fast\n    when: {all: []}\n"
            "    route: fast\n  - name: smb-fast\n",
        ),
    )
    path = write(tmp_path, "policy.yaml", text)
    result = run_cli(capsys, "check", path)

    assert result.code in (0, 1)
    entries = located(result.out, path, 12) + located(result.out, path, 13)
    assert any("all-fast" in entry for entry in entries), result.out


def test_shadowed_rule_in_preview(tmp_path, capsys):
    text = policy_with(
        (
            "default: strong",
            "  - name: smb-strong\n    when: {tier: smb}\n"
            "    route: strong\ndefault: strong",
        ),
    )
    path = write(tmp_path, "policy.yaml", text)
    sample = write_sample(tmp_path, [request("a"), request("b", tier="ent")])
    report = preview_json(capsys, path, sample)

    row = rule_row(report, "smb-strong")
    assert row["matched"] == 0
    assert row["status"] == "shadowed"
    assert row["shadowed_by"] == ["smb-fast"]


def test_undefined_aliases_reported(tmp_path, capsys):
    text = policy_with(
        ("route: fast", "route: medium"), ("default: strong", "default: fasst")
    )
    path = write(tmp_path, "policy.yaml", text)
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert any("medium" in entry for entry in located(result.out, path, 11))
    default_entries = located(result.out, path, 12)
    assert any("did you mean 'fast'" in entry for entry in default_entries)


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("route: fast", "route:", 11),
        ("default: strong", "default:", 12),
        ("name: probe", "name:", 2),
        ("schema: routebook/v1", "schema:", 1),
    ],
)
def test_null_value_position(tmp_path, capsys, old, new, line):
    path = write(tmp_path, "policy.yaml", policy_with((old, new)))
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert located(result.out, path, line), result.out


@pytest.mark.parametrize("when", ["when: smb", "when: 5", "when:", "when: {not: smb}"])
def test_scalar_condition_position(tmp_path, capsys, when):
    path = write(tmp_path, "policy.yaml", policy_with(("when: {tier: smb}", when)))
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert located(result.out, path, 10), result.out


def test_override_scalar_when_position(tmp_path, capsys):
    text = POLICY + "  overrides:\n    - {when: ja, max_regression: 0.01}\n"
    path = write(tmp_path, "policy.yaml", text)
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert located(result.out, path, 18), result.out


@pytest.mark.parametrize(
    "when",
    ["{tier: null}", "{tier: ~}", "{tier: {eq: null}}", "{tier: {contains: null}}"],
)
def test_null_comparison_reported(tmp_path, capsys, when):
    # A missing field makes every comparison false, so a comparison with null never
    # matches. `check` should flag such a dead rule at its line.
    path = write(tmp_path, "policy.yaml", policy_with(("{tier: smb}", when)))
    result = run_cli(capsys, "check", path)

    assert located(result.out, path, 10), result.out


def test_date_literal_reported(tmp_path, capsys):
    # YAML reads 2024-05-01 as a date, but a JSON sample can only hold the string.
    path = write(
        tmp_path, "policy.yaml", policy_with(("{tier: smb}", "{tier: 2024-05-01}"))
    )
    sample = write_sample(tmp_path, [request("a", tier="2024-05-01")])

    checked = run_cli(capsys, "check", path)
    if located(checked.out, path, 10):
        return
    report = preview_json(capsys, path, sample)
    assert rule_row(report, "smb-fast")["matched"] == 1, checked.out


def test_number_string_comparisons(tmp_path, capsys):
    bad = write(
        tmp_path,
        "bad.yaml",
        policy_with(("{tier: smb}", '{prompt_tokens: {lt: "400"}}')),
    )
    checked = run_cli(capsys, "check", bad)
    assert checked.code == 1
    assert located(checked.out, bad, 10)

    good = write(
        tmp_path, "good.yaml", policy_with(("{tier: smb}", "{metadata.n: {gt: 5}}"))
    )
    rows = [request("a"), request("b"), request("c")]
    for row, value in zip(rows, ["10", 10, None], strict=True):
        row["metadata"]["n"] = value
    sample = write_sample(tmp_path, rows)
    report = preview_json(capsys, good, sample)

    # Only a JSON number is compared, so the string "10" and null are false.
    expected = sum(1 for row in rows if type(row["metadata"]["n"]) is int)
    assert rule_row(report, "smb-fast")["matched"] == expected


WRONG_TYPES = [
    (
        "models:\n  strong: {model: openai/gpt-4o}\n"
        "  fast: {model: openai/gpt-4o-mini}",
        "models: [strong, fast]",
        3,
        "models",
    ),
    (
        "rules:\n  - name: smb-fast\n    when: {tier: smb}\n    route: fast\n",
        "rules: {name: smb-fast, when: {tier: smb}, route: fast}\n",
        8,
        "rules",
    ),
    ("  tier: {field: metadata.tier}", "  tier: [metadata.tier]", 7, "tier"),
    (
        "  - name: smb-fast\n    when: {tier: smb}\n    route: fast\n",
        "  - smb-fast\n",
        9,
        "rule 1",
    ),
    ("when: {tier: smb}", "when: [{tier: smb}]", 10, "condition"),
    ("when: {tier: smb}", "when: {all: {tier: smb}}", 10, "all"),
    ("when: {tier: smb}", "when: {tier: {in: smb}}", 10, "in"),
    ("when: {tier: smb}", "when: {tier: [smb, ent]}", 10, "in"),
    ("when: {tier: smb}", "when: {tier: {lt: [1]}}", 10, "lt"),
    ("  min_samples: 1", "  min_samples: 1.5", 16, "min_samples"),
    ("  max_regression: 0.05", "  max_regression: 5%", 15, "max_regression"),
    ("name: probe", "name: probe\nversion: one", 3, "version"),
    ("{model: openai/gpt-4o}", "{model: openai/gpt-4o, params: [1]}", 4, "params"),
    ("{model: openai/gpt-4o}", "{model: openai/gpt-4o, price: 5}", 4, "price"),
    ("{model: openai/gpt-4o}", "{model: [openai/gpt-4o]}", 4, "model"),
    (
        "  max_regression: 0.05",
        "  max_regression: 0.05\n  overrides: {locale: ja}",
        16,
        "overrides",
    ),
]


@pytest.mark.parametrize(("old", "new", "line", "word"), WRONG_TYPES)
def test_wrong_types_located(tmp_path, capsys, old, new, line, word):
    path = write(tmp_path, "policy.yaml", policy_with((old, new)))
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    entries = located(result.out, path, line)
    assert any(word in entry for entry in entries), result.out


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("  max_regression: 0.05", "  max_regression: .nan", 15),
        (
            "{model: openai/gpt-4o}",
            "{model: openai/gpt-4o, price: {input_per_million: .nan}}",
            4,
        ),
        (
            "{model: openai/gpt-4o}",
            "{model: openai/gpt-4o, price: {output_per_million: .inf}}",
            4,
        ),
    ],
)
def test_non_finite_numbers_rejected(tmp_path, capsys, old, new, line):
    path = write(tmp_path, "policy.yaml", policy_with((old, new)))
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert located(result.out, path, line), result.out


def test_nan_budget_gate(tmp_path, capsys):
    # With a NaN budget every `regression > budget` is false, so the gate passed.
    path = write(tmp_path, "policy.yaml", policy_with(("0.05", ".nan")))
    sample = write_sample(tmp_path, [request("a", strong=1.0, fast=0.0)])
    result = run_cli(capsys, "gate", path, "--sample", sample)

    assert result.code != 0


def test_checks_section_validated(tmp_path, capsys):
    path = write(
        tmp_path, "policy.yaml", POLICY + "checks: {bogus_key: 1, enabled: 5}\n"
    )
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert located(result.out, path, 17), result.out


def test_unsafe_name_rejected(tmp_path, capsys):
    # `history` and saving reject a name with `..` or `/`, so `check` should too.
    path = write(
        tmp_path, "policy.yaml", policy_with(("name: probe", "name: ../../etc"))
    )
    result = run_cli(capsys, "check", path)

    assert result.code == 1
    assert located(result.out, path, 2), result.out


# --- samples ------------------------------------------------------------------


def test_invalid_json_lines_listed(tmp_path, capsys):
    policy = write(tmp_path, "policy.yaml", POLICY)
    rows = [
        json.dumps(request("a")),
        '{"id": "b", "prompt": ',
        "not json",
        "[1, 2]",
        '"text"',
        "null",
        json.dumps(request("c")),
    ]
    sample = write_sample(tmp_path, rows)
    result = run_cli(capsys, "preview", policy, "--sample", sample)

    assert result.code == 2
    assert result.out == ""
    for line in range(2, 7):
        assert located(result.err, sample, line), result.err
    assert located(result.err, sample, 1) == []


def test_wrong_field_types_located(tmp_path, capsys):
    policy = write(tmp_path, "policy.yaml", POLICY)
    rows = [
        request("a", prompt=5),
        request("b", metadata=[1]),
        request("c", weight="2"),
        request("d", strong=1.5),
        request("e", fast="1"),
        request("f", outputs=[]),
    ]
    sample = write_sample(tmp_path, rows)
    result = run_cli(capsys, "gate", policy, "--sample", sample)

    assert result.code == 2
    words = ["prompt", "metadata", "weight", "grade", "grade", "outputs"]
    for line, word in enumerate(words, start=1):
        entries = located(result.err, sample, line)
        assert any(word in entry for entry in entries), (line, result.err)


def test_unknown_model_warned(tmp_path, capsys):
    policy = write(tmp_path, "policy.yaml", POLICY)
    row = request("a")
    row["outputs"]["openai/gpt-4-o"] = {"text": "x", "grade": 1}
    sample = write_sample(tmp_path, [row])
    result = run_cli(capsys, "preview", policy, "--sample", sample)

    assert result.code == 0
    entries = located(result.err, sample, 1)
    assert any("openai/gpt-4-o" in entry and "gpt-4o" in entry for entry in entries)


def test_unusual_characters_load(tmp_path, capsys):
    text = policy_with(
        ("  tier: {field: metadata.tier}", "  chars: {field: prompt_chars}")
    )
    policy = write(
        tmp_path, "policy.yaml", text.replace("{tier: smb}", "{chars: {gt: 0}}")
    )
    prompts = [
        "bell\x07 escape\x1b[31m nul\x00 done",
        "\u202eright-to-left \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
        "\u4e2d\u6587\u5b57\u7b26 \uff21\uff22 wide",
        "emoji \U0001f600\U0001f468\u200d\U0001f469\u200d\U0001f467 e\u0301",
    ]
    rows = [request(f"r{i}", prompt=prompt) for i, prompt in enumerate(prompts)]
    sample = write_sample(tmp_path, rows)
    report = preview_json(capsys, policy, sample)

    values = sorted(
        row["value"] for row in report["segments"] if row["dimension"] == "chars"
    )
    assert values == sorted(len(prompt) for prompt in prompts)


def test_escape_sequences_not_printed(tmp_path, capsys):
    # Sample data must not reach the terminal as control sequences (title, colours).
    policy = write(tmp_path, "policy.yaml", POLICY)
    hostile = "smb\x1b]0;PWNED\x07\x1b[2J"
    sample = write_sample(tmp_path, [request("a", tier=hostile), request("b")])
    result = run_cli(capsys, "preview", policy, "--sample", sample)

    assert result.code == 0
    assert "\x1b]0;" not in result.text
    assert "\x1b[2J" not in result.text


SURROGATE_LINE = (
    '{"id": "a\\ud800", "prompt": "x\\udc00y", "metadata": {"tier": "smb\\ud800",'
    ' "tenant_id": "t\\udfff"}, "outputs": {"openai/gpt-4o": {"text": "hi\\ud800",'
    ' "grade": 1}, "openai/gpt-4o-mini": {"text": "hi", "grade": 0}}}'
)


@pytest.mark.parametrize(
    "command",
    [["preview"], ["preview", "--format", "json"], ["gate"], ["diff"]],
    ids=["table", "json", "gate", "diff"],
)
def test_lone_surrogates(tmp_path, capsys, command):
    # Every request goes to the fast model, so the gate lists failing segments.
    policy = write(tmp_path, "policy.yaml", policy_with(("{tier: smb}", "{all: []}")))
    segments = "segments:\n  tenant: {field: metadata.tenant_id}\n"
    write(tmp_path, "other.yaml", POLICY.replace("segments:\n", segments))
    sample = write_sample(tmp_path, [SURROGATE_LINE, json.dumps(request("b"))])

    name, *options = command
    policies = [policy, tmp_path / "other.yaml"] if name == "diff" else [policy]
    result = run_cli(capsys, name, *policies, "--sample", sample, *options)

    assert result.code in (0, 1, 2)
    if result.code == 2:
        assert located(result.err, sample, 1), result.err


MULTIMODAL_MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call-1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"order": 48213}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call-1", "content": '{"status": "shipped"}'},
    {"role": "user", "content": "Thanks, and when does it arrive?"},
]


def multimodal_sample(tmp_path) -> tuple[Path, Path]:
    text = policy_with(("{tier: smb}", "{prompt_tokens: {lt: 1000}}"))
    policy = write(tmp_path, "policy.yaml", text)
    row = request("m1")
    del row["prompt"]
    row["messages"] = MULTIMODAL_MESSAGES
    return policy, write_sample(tmp_path, [row])


def test_multimodal_messages_preview(tmp_path, capsys):
    policy, sample = multimodal_sample(tmp_path)
    report = preview_json(capsys, policy, sample)

    assert rule_row(report, "smb-fast")["matched"] == 1


def test_image_parts_reported(tmp_path, capsys):
    # Token counting skips the image part, so the preview should report that part.
    policy, sample = multimodal_sample(tmp_path)
    result = run_cli(capsys, "preview", policy, "--sample", sample, "--format", "json")

    assert result.code == 0
    assert "image_url" in result.text, result.err


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_sample_exit_2(tmp_path, capsys, content):
    policy = write(tmp_path, "policy.yaml", POLICY)
    sample = write(tmp_path, "sample.jsonl", content)
    result = run_cli(capsys, "preview", policy, "--sample", sample)

    assert result.code == 2
    assert str(sample) in result.err


def test_sample_directory_exit_2(tmp_path, capsys):
    policy = write(tmp_path, "policy.yaml", POLICY)
    result = run_cli(capsys, "gate", policy, "--sample", tmp_path)

    assert result.code == 2
    assert str(tmp_path) in result.err


def test_very_long_line(tmp_path, capsys):
    text = policy_with(("{tier: smb}", "{prompt_chars: {gt: 1000000}}"))
    policy = write(tmp_path, "policy.yaml", text)
    prompts = ["long " * 250_000, "short"]
    rows = [request(f"r{i}", prompt=prompt) for i, prompt in enumerate(prompts)]
    report = preview_json(capsys, policy, write_sample(tmp_path, rows))

    expected = sum(1 for prompt in prompts if len(prompt) > 1_000_000)
    assert rule_row(report, "smb-fast")["matched"] == expected


def test_duplicate_ids_rejected(tmp_path, capsys):
    policy = write(tmp_path, "policy.yaml", POLICY)
    sample = write_sample(tmp_path, [request("a"), request("b"), request("a")])
    result = run_cli(capsys, "preview", policy, "--sample", sample)

    assert result.code == 2
    assert any("'a'" in entry for entry in located(result.err, sample, 3))


@pytest.mark.parametrize("weight", ["0", "-1", "NaN", "Infinity", "1e400", '"2"'])
def test_bad_weights_rejected(tmp_path, capsys, weight):
    policy = write(tmp_path, "policy.yaml", POLICY)
    line = json.dumps(request("a")).replace(
        '"id": "a"', f'"id": "a", "weight": {weight}'
    )
    sample = write_sample(tmp_path, [line])
    result = run_cli(capsys, "preview", policy, "--sample", sample)

    assert result.code == 2
    assert any("weight" in entry for entry in located(result.err, sample, 1))


def huge_weight_sample(tmp_path) -> tuple[Path, Path]:
    # Each weight is finite, but their sum overflows a float.
    policy = write(tmp_path, "policy.yaml", POLICY)
    rows = [request("a", fast=0.0, weight=1e308), request("b", fast=0.0, weight=1e308)]
    return policy, write_sample(tmp_path, rows)


def test_huge_weights_gate(tmp_path, capsys):
    policy, sample = huge_weight_sample(tmp_path)
    result = run_cli(capsys, "gate", policy, "--sample", sample)

    # Either both requests count equally (regression 1.0 > 0.05, exit 1) or the
    # weights are rejected (exit 2). A pass would hide a full regression.
    assert result.code in (1, 2), result.text


def test_huge_weights_json_valid(tmp_path, capsys):
    policy, sample = huge_weight_sample(tmp_path)
    result = run_cli(capsys, "preview", policy, "--sample", sample, "--format", "json")

    if result.code == 0:
        report = json.loads(result.out, parse_constant=reject_non_finite)
        assert math.isclose(report["totals"]["regression"], 1.0)
    else:
        assert result.code == 2


@pytest.mark.parametrize("grade", ['"1"', '"0.5"', '"yes"', "-0.1", "1.5"])
def test_string_grades_rejected(tmp_path, capsys, grade):
    policy = write(tmp_path, "policy.yaml", POLICY)
    line = json.dumps(request("a")).replace('"grade": 1.0', f'"grade": {grade}', 1)
    sample = write_sample(tmp_path, [line])
    result = run_cli(capsys, "preview", policy, "--sample", sample)

    assert result.code == 2
    assert any("grade" in entry for entry in located(result.err, sample, 1))


def test_deep_json_line(tmp_path, capsys):
    policy = write(tmp_path, "policy.yaml", POLICY)
    deep = '{"id": "a", "prompt": "x", "metadata": {"tier": ' + "[" * 100_000
    sample = write_sample(
        tmp_path, [json.dumps(request("b")), deep + "]" * 100_000 + "}}"]
    )
    result = run_cli(capsys, "preview", policy, "--sample", sample)

    assert result.code == 2
    assert located(result.err, sample, 2), result.err


def test_huge_integer_in_sample(tmp_path, capsys):
    policy = write(tmp_path, "policy.yaml", POLICY)
    line = json.dumps(request("a")).replace('"smb"}', '"smb", "n": ' + "9" * 5000 + "}")
    sample = write_sample(tmp_path, [line])
    result = run_cli(capsys, "preview", policy, "--sample", sample)

    assert result.code in (0, 2)
    if result.code == 2:
        assert located(result.err, sample, 1), result.err


def test_duplicate_json_keys_reported(tmp_path, capsys):
    # json.loads keeps the last of two equal keys, so one grade would vanish unseen.
    policy = write(tmp_path, "policy.yaml", POLICY)
    line = json.dumps(request("a")).replace(
        '"grade": 1.0', '"grade": 1.0, "grade": 0.0', 1
    )
    sample = write_sample(tmp_path, [line])
    result = run_cli(capsys, "preview", policy, "--sample", sample)

    assert any("grade" in entry for entry in located(result.err, sample, 1)), result.err


def test_has_code_blank_lines_fast(tmp_path):
    # A code detector that rescans every line start is quadratic: about 12 s for
    # 16,000 newlines on the 2-core development machine, so 30,000 take far longer.
    text = policy_with(("{tier: smb}", "{has_code: true}"))
    policy = write(tmp_path, "policy.yaml", text)
    sample = write_sample(tmp_path, [request("a", prompt="\n" * 30_000 + "thanks")])
    result = run_process(["preview", policy, "--sample", sample, "--format", "json"], 5)

    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert rule_row(report, "smb-fast")["matched"] == 0


def test_bool_int_segments_apart(tmp_path, capsys):
    # JSON true, 1 and 1.0 are different values; a segment row must not merge them.
    policy = write(tmp_path, "policy.yaml", POLICY)
    tiers = [True, 1, 1.0, "1"]
    rows = [request(f"r{i}", tier=tier) for i, tier in enumerate(tiers)]
    report = preview_json(capsys, policy, write_sample(tmp_path, rows))

    counts = [
        row["requests"] for row in report["segments"] if row["dimension"] == "tier"
    ]
    assert len(counts) >= 3, report["segments"]


# --- command line -------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["check", "{tmp}/none.yaml"],
        ["preview", "{tmp}/none.yaml", "--sample", "{tmp}/sample.jsonl"],
        ["preview", "{tmp}/policy.yaml", "--sample", "{tmp}/none.jsonl"],
        ["gate", "{tmp}/policy.yaml", "--sample", "{tmp}/none.jsonl"],
        [
            "diff",
            "{tmp}/policy.yaml",
            "{tmp}/none.yaml",
            "--sample",
            "{tmp}/sample.jsonl",
        ],
        ["history", "{tmp}/none.yaml"],
        ["import", "{tmp}/none.csv", "--map", "prompt=q"],
    ],
    ids=[
        "check",
        "preview-policy",
        "preview-sample",
        "gate",
        "diff",
        "history",
        "import",
    ],
)
def test_missing_files_exit_2(tmp_path, capsys, args):
    write(tmp_path, "policy.yaml", POLICY)
    write_sample(tmp_path, [request("a")])
    filled = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    result = run_cli(capsys, *filled)

    assert result.code == 2
    missing = next(arg for arg in filled if "none." in arg)
    assert missing in result.err


@pytest.mark.parametrize(
    "args",
    [
        ["preview", "policy.yaml"],
        ["preview", "policy.yaml", "--sample", "s.jsonl", "--format", "xml"],
        ["check"],
        ["frobnicate"],
        ["import", "in.csv"],
    ],
)
def test_usage_errors_exit_2(capsys, args):
    result = run_cli(capsys, *args)

    assert result.code == 2
    assert "usage:" in result.err


def test_empty_path_message(capsys):
    result = run_cli(capsys, "check", "")

    assert result.code == 2
    assert "folder" not in result.err, result.err


def test_import_output_parent_file(tmp_path, capsys):
    source = write(tmp_path, "in.csv", "q\nhello\n")
    blocker = write(tmp_path, "blocker", "x")
    result = run_cli(
        capsys, "import", source, "--map", "prompt=q", "-o", blocker / "out.jsonl"
    )

    assert result.code == 2
    assert str(blocker) in result.err


def test_import_invalid_rows_keep_output(tmp_path, capsys):
    source = write(tmp_path, "in.csv", "q,w\nhi,1\nho,-5\n")
    target = write(tmp_path, "out.jsonl", "KEEP\n")
    result = run_cli(
        capsys, "import", source, "--map", "prompt=q", "--map", "weight=w", "-o", target
    )

    assert result.code == 2
    assert located(result.err, source, 3)
    assert target.read_text(encoding="utf-8") == "KEEP\n"


def test_import_output_device_kept(tmp_path, capsys):
    # The node is a copy of /dev/full inside tmp_path. The atomic rename must not
    # replace a device node with a regular file, and a write to a full device fails.
    device = tmp_path / "full"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except (PermissionError, OSError) as error:
        pytest.skip(f"cannot create a device node here: {error}")
    source = write(tmp_path, "in.csv", "q\nhello\n")
    result = run_cli(capsys, "import", source, "--map", "prompt=q", "-o", device)

    assert stat.S_ISCHR(os.lstat(device).st_mode), "the device node was replaced"
    assert result.code == 2


@pytest.fixture(scope="module")
def full_stdout_run():
    full = Path("/dev/full")
    if not full.exists() or not stat.S_ISCHR(full.stat().st_mode):
        pytest.skip("/dev/full is not a character device here")
    policy = ROOT / "policies" / "support.yaml"
    with open(full, "w", encoding="utf-8") as stdout:
        return run_process(["check", policy], 30, stdout=stdout)


def test_stdout_full_exit_2(full_stdout_run):
    assert full_stdout_run.returncode == 2
    assert b"Traceback" not in full_stdout_run.stderr


def test_stdout_full_names_output(full_stdout_run):
    err = full_stdout_run.stderr.decode()
    assert "standard output" in err or "stdout" in err, err


def test_import_deep_json(tmp_path, capsys):
    source = write(
        tmp_path, "in.jsonl", '{"q": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    )
    result = run_cli(capsys, "import", source, "--map", "prompt=q")

    assert result.code == 2
    assert located(result.err, source, 1), result.err


def test_import_huge_integer(tmp_path, capsys):
    source = write(tmp_path, "in.jsonl", '{"q": "x", "n": ' + "9" * 5000 + "}\n")
    result = run_cli(
        capsys, "import", source, "--map", "prompt=q", "--map", "metadata.n=n"
    )

    assert result.code in (0, 2)
    if result.code == 2:
        assert located(result.err, source, 1), result.err


def test_import_deep_mapping_file(tmp_path, capsys):
    source = write(tmp_path, "in.csv", "q\nhello\n")
    mapping = write(tmp_path, "map.yaml", "map: " + "[" * 600 + "]" * 600 + "\n")
    result = run_cli(capsys, "import", source, "--map", mapping)

    assert result.code == 2
    assert str(mapping) in result.err


def test_import_alias_bomb_mapping(tmp_path):
    source = write(tmp_path, "in.csv", "q\nhello\n")
    mapping = write(tmp_path, "map.yaml", BILLION_LAUGHS + "map: [prompt=q]\n")
    result = run_process(["import", source, "--map", mapping], timeout=20)

    assert result.returncode == 2
    assert str(mapping).encode() in result.stderr
