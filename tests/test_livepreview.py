"""Live preview sessions: reuse across edits that change no figure."""

from __future__ import annotations

from pathlib import Path

from tui.core.livepreview import PreviewSession, content_key
from tui.core.policy import parse_policy
from tui.core.preview import compute_preview
from tui.core.samples import load_sample

ROOT = Path(__file__).resolve().parents[1]
POLICY_TEXT = (ROOT / "policies" / "support.yaml").read_text(encoding="utf-8")
SAMPLE = ROOT / "fixtures" / "support.jsonl"


def policy_of(text: str):
    result = parse_policy(text, "support.yaml")
    assert result.ok, [problem.format() for problem in result.problems]
    return result.policy


def figures(preview) -> dict:
    """The preview's JSON without the policy's name and version."""
    data = preview.to_json()
    data.pop("policy")
    return data


def test_comment_edit_reuses_preview():
    session = PreviewSession(load_sample(SAMPLE).requests)
    first, _ = session.compute(policy_of(POLICY_TEXT))
    edited = policy_of(
        POLICY_TEXT.replace("version: 1", "version: 7").replace(
            "rules:", "# a new comment\nrules:", 1
        )
    )

    second, router = session.compute(edited)

    assert second.rows is first.rows
    assert second.policy is edited
    assert second.to_json()["policy"]["version"] == 7
    assert router.policy is edited


def test_rule_edit_recomputes():
    requests = load_sample(SAMPLE).requests
    session = PreviewSession(requests)
    session.compute(policy_of(POLICY_TEXT))
    edited = policy_of(POLICY_TEXT.replace("lt: 400", "lt: 30"))

    preview, _ = session.compute(edited)

    expected = compute_preview(edited, requests)
    assert figures(preview) == figures(expected)


def test_regrade_recomputes():
    requests = load_sample(SAMPLE).requests
    session = PreviewSession(requests)
    policy = policy_of(POLICY_TEXT)
    first, _ = session.compute(policy)
    baseline = policy.model_for(policy.budgets.baseline)
    graded = next(r for r in requests if r.outputs.get(baseline) is not None)
    graded.outputs[baseline].grade = 0.0 if graded.outputs[baseline].grade else 1.0

    again, _ = session.compute(policy)
    regraded, _ = session.compute(policy, regrade=True)
    by_version, _ = session.compute(policy, data_version=1)

    assert again.rows is first.rows
    assert figures(regraded) == figures(compute_preview(policy, requests))
    assert figures(regraded) != figures(first)
    assert by_version.rows is not regraded.rows
    assert figures(by_version) == figures(regraded)


def test_content_key_ignores_display_keys():
    base = policy_of(POLICY_TEXT)
    renamed = policy_of(POLICY_TEXT.replace("name: support-assistant", "name: x"))
    rebudgeted = policy_of(
        POLICY_TEXT.replace("max_regression: 0.05", "max_regression: 0.06")
    )

    assert content_key(base) == content_key(renamed)
    assert content_key(base) != content_key(rebudgeted)
