"""The command line: exit codes, messages and the preview JSON contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import main

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "support.yaml"
SAMPLE = ROOT / "fixtures" / "support.jsonl"


def run(args, capsys):
    capsys.readouterr()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_valid_example(capsys):
    code, out, _ = run(["check", POLICY], capsys)
    assert code == 0
    assert "valid, policy 'support-assistant'" in out


def test_check_misspelled_key_exit_1(tmp_path, capsys):
    text = POLICY.read_text(encoding="utf-8")
    lines = text.split("\n")
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("route:"))
    column = lines[index].index("route:") + 1
    lines[index] = lines[index].replace("route:", "rotue:", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text("\n".join(lines), encoding="utf-8")

    code, out, _ = run(["check", bad], capsys)
    assert code == 1
    expected = f"{bad}:{index + 1}:{column}: error: unknown key 'rotue'"
    assert expected in out
    assert "did you mean 'route'?" in out
    assert "invalid, " in out


def test_missing_policy_file_exit_2(tmp_path, capsys):
    code, _, err = run(["check", tmp_path / "nope.yaml"], capsys)
    assert code == 2
    assert "routebook: error:" in err
    assert "nope.yaml" in err


def test_missing_sample_exit_2(tmp_path, capsys):
    code, _, err = run(["preview", POLICY, "--sample", tmp_path / "none.jsonl"], capsys)
    assert code == 2
    assert "none.jsonl" in err


def test_malformed_sample_line_exit_2(tmp_path, capsys):
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    lines[4] = lines[4][:-5]
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines), encoding="utf-8")
    code, _, err = run(["gate", POLICY, "--sample", broken], capsys)
    assert code == 2
    assert f"{broken}:5:" in err
    assert "1 invalid line listed above" in err


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["preview", str(POLICY)])
    assert raised.value.code == 2
    assert "--sample" in capsys.readouterr().err


def test_preview_json_contract(capsys):
    code, out, _ = run(
        ["preview", POLICY, "--sample", SAMPLE, "--format", "json"], capsys
    )
    assert code == 0
    report = json.loads(out)
    assert set(report) >= {
        "policy",
        "requests",
        "graded",
        "totals",
        "rules",
        "segments",
        "exposure",
    }
    assert set(report["policy"]) == {"name", "version"}
    assert set(report["totals"]) >= {
        "share",
        "baseline_quality",
        "routed_quality",
        "regression",
        "baseline_cost",
        "routed_cost",
    }
    for rule in report["rules"]:
        assert set(rule) >= {"name", "route", "matched"}
    for segment in report["segments"]:
        assert set(segment) >= {
            "dimension",
            "value",
            "requests",
            "graded",
            "share",
            "baseline_quality",
            "routed_quality",
            "regression",
            "regression_interval",
            "max_regression",
            "status",
            "baseline_cost",
            "routed_cost",
        }
        for value in segment["share"].values():
            assert value is None or 0 <= value <= 1
        assert segment["status"] in ("pass", "fail", "insufficient")


def test_example_shows_the_point(capsys):
    """Globally inside budget, yet at least one segment fails."""
    _, out, _ = run(["preview", POLICY, "--sample", SAMPLE, "--format", "json"], capsys)
    report = json.loads(out)
    assert report["totals"]["status"] == "pass"
    assert any(s["status"] == "fail" for s in report["segments"])
    assert any(s["status"] == "insufficient" for s in report["segments"])


def test_gate_on_example_fails_and_lists(capsys):
    code, out, _ = run(["gate", POLICY, "--sample", SAMPLE], capsys)
    assert code == 1
    assert "FAIL locale=ja" in out
    assert "gate: FAILED" in out


def test_gate_strict_fails_insufficient(tmp_path, capsys):
    text = POLICY.read_text(encoding="utf-8")
    lenient = tmp_path / "lenient.yaml"
    # A huge budget leaves only insufficient segments.
    lenient.write_text(
        text.replace("max_regression: 0.05", "max_regression: 1.0").replace(
            "max_regression: 0.02", "max_regression: 1.0"
        ),
        encoding="utf-8",
    )
    code, out, _ = run(["gate", lenient, "--sample", SAMPLE], capsys)
    assert code == 0, out
    code, out, _ = run(["gate", lenient, "--sample", SAMPLE, "--strict"], capsys)
    assert code == 1
    assert "insufficient evidence" in out


def test_gate_ungraded_sample_fails(tmp_path, capsys):
    ungraded = tmp_path / "ungraded.jsonl"
    with ungraded.open("w", encoding="utf-8") as handle:
        for line in SAMPLE.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            for output in record.get("outputs", {}).values():
                output.pop("grade", None)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    code, out, _ = run(["gate", POLICY, "--sample", ungraded], capsys)
    assert code == 1, out
    assert "no request has grades from both" in out
    assert "gate: FAILED" in out

    code, out, _ = run(
        ["gate", POLICY, "--sample", ungraded, "--format", "json"], capsys
    )
    payload = json.loads(out)
    assert code == 1
    assert payload["passed"] is False
    assert payload["ungraded"] is True


def test_console_script_help_runs():
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0
    for command in ("edit", "check", "preview", "gate", "import"):
        assert command in result.stdout
