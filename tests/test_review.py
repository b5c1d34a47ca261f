"""Review helpers: sample filters, compare pairs, verdicts, word diffs, checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tui.core.checks import CheckCache, ChecksConfig
from tui.core.divergence import check_request
from tui.core.review import (
    ANY,
    SampleFilter,
    compare_pair,
    filter_rows,
    flagged,
    is_regressed,
    reviewer_name,
    row_check_results,
    step,
    verdict_grade,
    word_diff,
)
from tui.core.samples import Output

STRONG = "openai/gpt-4o"
FAST = "openai/gpt-4o-mini"


def output(text: str | None, grade: float | None = None) -> Output:
    return Output(text, grade, "stop", None, None, {})


@dataclass
class FakeRequest:
    id: str
    prompt: str
    outputs: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def prompt_text(self) -> str:
        return self.prompt


@dataclass
class FakeRow:
    """The fields of preview.RoutedRequest that the review helpers read."""

    request: FakeRequest
    model: str
    rule_index: int
    baseline_grade: float | None
    routed_grade: float | None
    segments: dict
    checks: object = None


def row(request_id, model, rule, base, routed, tier, text="") -> FakeRow:
    request = FakeRequest(
        request_id,
        f"prompt of {request_id} {text}",
        {STRONG: output(f"strong {request_id}"), FAST: output(f"fast {request_id}")},
    )
    return FakeRow(request, model, rule, base, routed, {"tier": tier})


ROWS = [
    row("a", FAST, 1, 1.0, 0.0, "silver"),
    row("b", FAST, 1, 1.0, 1.0, "silver", text="refund please"),
    row("c", STRONG, 0, 1.0, 1.0, "gold"),
    row("d", FAST, 2, 0.0, 1.0, None),
    row("e", FAST, 2, 1.0, None, "bronze"),
    row("f", FAST, 2, 0.5, 0.4, "bronze"),
]


def ids(rows) -> list[str]:
    return [r.request.id for r in rows]


def test_regressed_means_right_then_wrong():
    expected = [
        r.request.id
        for r in ROWS
        if r.baseline_grade is not None
        and r.routed_grade is not None
        and r.baseline_grade >= 0.5 > r.routed_grade
    ]
    assert ids(r for r in ROWS if is_regressed(r)) == expected == ["a", "f"]


def test_empty_filter_keeps_every_row():
    assert ids(filter_rows(ROWS, SampleFilter())) == ids(ROWS)


@pytest.mark.parametrize(
    ("sample_filter", "expected"),
    [
        (SampleFilter(dimension="tier", value="silver"), ["a", "b"]),
        (SampleFilter(dimension="tier", value=None), ["d"]),
        (SampleFilter(dimension="tier", value=ANY), ["a", "b", "c", "d", "e", "f"]),
        (SampleFilter(model=STRONG), ["c"]),
        (SampleFilter(rule_index=2), ["d", "e", "f"]),
        (SampleFilter(regressed_only=True, dimension="tier", value="bronze"), ["f"]),
        (SampleFilter(text="REFUND"), ["b"]),
        (SampleFilter(text="fast e"), ["e"]),
        (SampleFilter(text="  c  "), ["c"]),
    ],
)
def test_filter_fields(sample_filter, expected):
    assert ids(filter_rows(ROWS, sample_filter)) == expected


def test_failed_check_filter_uses_callback():
    flagged_ids = {"b", "e"}
    sample_filter = SampleFilter(failed_check_only=True)
    assert ids(
        filter_rows(ROWS, sample_filter, lambda r: r.request.id in flagged_ids)
    ) == [
        "b",
        "e",
    ]
    assert filter_rows(ROWS, sample_filter) == []


def test_step_walks_and_clamps():
    order = ["a", "b", "c"]
    assert step(order, "a", 1) == "b"
    assert step(order, "c", 1) == "c"
    assert step(order, "a", -1) == "a"
    assert step(order, "gone", 1) == "a"
    assert step([], "a", 1) is None


def test_compare_pair_routed_away():
    costs = {STRONG: 0.010, FAST: 0.001}
    pair = compare_pair(ROWS[0], STRONG, [STRONG, FAST], costs.get)
    assert (pair.baseline, pair.other, pair.routed, pair.cheaper) == (
        STRONG,
        FAST,
        FAST,
        FAST,
    )


def test_compare_pair_on_baseline_uses_other_model():
    pair = compare_pair(ROWS[2], STRONG, [STRONG, FAST], lambda model: None)
    assert (pair.other, pair.routed, pair.cheaper) == (FAST, STRONG, FAST)


def test_compare_pair_cheaper_by_cost():
    costs = {STRONG: 0.001, FAST: 0.010}
    pair = compare_pair(ROWS[0], STRONG, [STRONG, FAST], costs.get)
    assert pair.cheaper == STRONG


def test_verdict_grades():
    assert verdict_grade("acceptable") == 1.0
    assert verdict_grade("unacceptable") == 0.0
    assert verdict_grade("skip") is None
    with pytest.raises(ValueError, match="unknown verdict 'maybe'"):
        verdict_grade("maybe")


def test_reviewer_name_order():
    assert reviewer_name({"USER": "ana"}, lambda: "Ana Git") == "ana"
    assert reviewer_name({}, lambda: "Ana Git\n") == "Ana Git"
    assert reviewer_name({"USER": "  "}, lambda: None) == "unknown"


def test_word_diff_spans():
    left = "The total is 42 dollars."
    right = "The total is 41 dollars, sorry."
    left_spans, right_spans = word_diff(left, right)
    assert [left[s:e] for s, e in left_spans] == ["42 dollars."]
    assert [right[s:e] for s, e in right_spans] == ["41 dollars, sorry."]


def test_word_diff_equal_texts():
    assert word_diff("same words here", "same  words\nhere") == ([], [])


def test_word_diff_skips_long_texts():
    long_text = " ".join(["word"] * 11)
    assert word_diff(long_text, "word", max_words=10) is None
    assert word_diff("word", long_text, max_words=10) is None


def checked_row(strong_text: str, fast_text: str) -> FakeRow:
    """A row routed fast whose `checks` come from the preview's check runner."""
    request = FakeRequest(
        "r",
        "What is 2 + 2?",
        {STRONG: output(strong_text), FAST: output(fast_text)},
    )
    result = FakeRow(request, FAST, 0, 1.0, 0.0, {})
    result.checks = check_request(
        request, [STRONG, FAST], STRONG, ChecksConfig(), CheckCache()
    )
    return result


def test_row_checks_file_pair_under_other():
    checked = checked_row(
        "The answer is 4.", "I'm sorry, but I can't help with that request."
    )
    results = row_check_results(checked, STRONG, FAST)
    assert set(results) == {STRONG, FAST}
    assert "answer_mismatch" in results[FAST]
    assert "answer_mismatch" not in results[STRONG]
    assert "refusal" in results[STRONG]
    assert [(model, name) for model, name, _ in flagged(results)] == [(FAST, "refusal")]
    refusal = results[FAST]["refusal"]
    text = checked.request.outputs[FAST].text
    assert text[refusal.span[0] : refusal.span[1]].startswith("I'm sorry")


def test_row_checks_absent_when_not_run():
    assert row_check_results(ROWS[0], STRONG, FAST) == {}
