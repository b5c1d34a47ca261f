"""Grades for outputs that have none: reference checks, output checks, an LLM judge.

A grade is a quality score in [0, 1] recorded on an output with its
`grade_source`:

- "reference": the request has a `reference`. A reference written `re:PATTERN`
  is a regular expression (RE2 syntax) that must occur in the output. A numeric
  reference (`42`, `1,000`, `$20.00`, `70%`) is compared with the last number
  in the output, numerically, so `20.00` equals `20`. Any other reference must
  equal the output after normalisation (Unicode NFKC, case folding, collapsed
  whitespace, surrounding quotes and final punctuation removed).
- "check": the policy lists output checks under `checks.as_grade`; the output
  gets 0.0 when it fails one of them and 1.0 when it passes all.
- "judge": an LLM named under the policy's `judge` compares the output with the
  baseline model's output for the same request, once in each order. The
  verdict for each order is 1 when the output is at least as good as the
  baseline's ([[TIE]] or a win) and 0 when it is worse, and the grade is their
  mean: 1.0, 0.5 (the orders disagree) or 0.0. The baseline's own output gets
  1.0, the reference point that regressions are measured from.

Outputs that already have a grade keep it unless regrading is asked for.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from .problems import InputError, Problem

if TYPE_CHECKING:
    from .runner import ChatCall, ModelEstimate

SOURCE_REFERENCE = "reference"
SOURCE_CHECK = "check"
SOURCE_JUDGE = "judge"
GRADED_BY = "routebook"
REGEX_PREFIX = "re:"

# Judge prompts keep this much of each answer: the start and the end, because a
# runaway answer shows its degeneration at the end.
ANSWER_HEAD_CHARS = 12_000
ANSWER_TAIL_CHARS = 4_000


@dataclass(frozen=True)
class Grade:
    """A grade for one output and where it came from."""

    value: float
    source: str
    detail: str
    graded_by: str = GRADED_BY

    def fields(self, when: str | None = None) -> dict:
        """Return the output fields that record this grade."""
        return {
            "grade": self.value,
            "grade_source": self.source,
            "graded_by": self.graded_by,
            "graded_at": when or _now(),
            "grade_detail": self.detail,
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class InvalidReference(ValueError):
    """A `re:` reference that RE2 cannot compile."""


# --- reference checks ------------------------------------------------------------

# A number with optional sign, thousands groups of exactly three digits, and
# decimals. "130,00" reads as 130 and 00, so a cut-off group is not a number.
_NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_NUMERIC_REFERENCE = re.compile(r"[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_CURRENCY = "$€£¥₹"
_EDGE_PUNCTUATION = "\"'“”‘’«»`.,;:!?。．！？、"


def parse_number(text: str) -> Decimal | None:
    """Return the value of a number as written (`1,000`, `-3.5`), or None."""
    cleaned = text.replace(",", "").replace("−", "-")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def last_number(text: str) -> Decimal | None:
    """Return the last number in a text, or None when it has none."""
    found = None
    for match in _NUMBER.finditer(text):
        found = match.group(0)
    return None if found is None else parse_number(found)


def numeric_reference(reference: str) -> Decimal | None:
    """Return the number a reference states, when the whole reference is one."""
    text = reference.strip().strip(_CURRENCY).rstrip("%").strip()
    if not _NUMERIC_REFERENCE.fullmatch(text):
        return None
    return parse_number(text)


def normalize_answer(text: str) -> str:
    """Return the comparable form of a short answer (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = " ".join(text.split())
    return text.strip(_EDGE_PUNCTUATION + " ")


def grade_reference(text: str, reference: str) -> Grade:
    """Grade an output against its request's reference.

    Raises InvalidReference when a `re:` pattern cannot be compiled.
    """
    if reference.startswith(REGEX_PREFIX):
        return _grade_regex(text, reference[len(REGEX_PREFIX) :])

    expected = numeric_reference(reference)
    if expected is not None:
        found = last_number(text)
        matched = found is not None and found == expected
        shown = "no number" if found is None else f"last number {found}"
        verdict = "equals" if matched else "differs from"
        detail = f"{shown} {verdict} reference {expected}"
        return Grade(1.0 if matched else 0.0, SOURCE_REFERENCE, detail)

    matched = normalize_answer(text) == normalize_answer(reference)
    detail = "exact match" if matched else "differs from the reference"
    return Grade(1.0 if matched else 0.0, SOURCE_REFERENCE, detail)


def _grade_regex(text: str, pattern: str) -> Grade:
    from .regex import UnsafePattern, compile_pattern

    try:
        compiled = compile_pattern(pattern)
    except UnsafePattern as error:
        raise InvalidReference(
            f"invalid reference pattern {pattern!r}: {error}"
        ) from None
    matched = compiled.search(text)
    detail = f"pattern {'found' if matched else 'not found'}: {pattern}"
    return Grade(1.0 if matched else 0.0, SOURCE_REFERENCE, detail)


# --- output checks as grades -------------------------------------------------------


class CheckGrader:
    """Grades outputs with the policy's `checks.as_grade` checks, if it lists any."""

    def __init__(self, policy):
        self.problems: list[Problem] = []
        self._config = policy.checks
        if self._config is None or isinstance(self._config, dict):
            # A policy built without the validator may carry the raw mapping.
            from .checks import ChecksConfig

            raw = self._config or None
            self._config, problems = ChecksConfig.from_mapping(raw, policy.path)
            self.problems = list(problems)
        self.names: list[str] = list(self._config.as_grade)

    def grade(self, request, output, params: dict) -> Grade | None:
        """Return 0.0 when the output fails a listed check, 1.0 when it passes all."""
        if not self.names:
            return None
        from .checks import OutputInfo, RequestInfo, check_output, grade_from_checks

        max_tokens = params.get("max_tokens")
        info = OutputInfo(
            text=output.text,
            finish_reason=output.finish_reason,
            max_tokens=max_tokens if isinstance(max_tokens, int) else None,
            completion_tokens=output.completion_tokens,
        )
        # NOTE: the requested language is read from metadata.locale only, not
        # from a segment the policy derives in another way.
        locale = request.metadata.get("locale")
        expects_json = request.metadata.get("expects_json")
        request_info = RequestInfo(
            prompt_text=request.prompt_text(),
            locale=locale if isinstance(locale, str) else None,
            expects_json=expects_json if isinstance(expects_json, bool) else None,
        )
        results = check_output(info, request_info, self._config)
        value = grade_from_checks(results, self._config)
        if value is None:
            return None
        failed = [name for name in self.names if _flagged(results.get(name))]
        if failed:
            return Grade(value, SOURCE_CHECK, "failed " + ", ".join(failed))
        ran = [name for name in self.names if name in results]
        return Grade(value, SOURCE_CHECK, "passed " + ", ".join(ran))


def _flagged(result) -> bool:
    return bool(result is not None and getattr(result, "flag", False))


# --- grading without a judge -----------------------------------------------------


@dataclass
class GradingResult:
    """Grades computed for a sample, keyed by request id then model string."""

    grades: dict[str, dict[str, Grade]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, request_id: str, model: str, grade: Grade) -> None:
        self.grades.setdefault(request_id, {})[model] = grade

    def get(self, request_id: str, model: str) -> Grade | None:
        return self.grades.get(request_id, {}).get(model)

    def count(self) -> Counter:
        """Return how many grades came from each source."""
        return Counter(
            grade.source for models in self.grades.values() for grade in models.values()
        )

    def merge(self, other: GradingResult) -> None:
        for request_id, models in other.grades.items():
            for model, grade in models.items():
                self.add(request_id, model, grade)
        self.problems.extend(other.problems)


def needs_grade(output, regrade: bool) -> bool:
    """Return whether an output has text and no grade, or `regrade` is set."""
    return (
        output is not None
        and output.text is not None
        and (regrade or output.grade is None)
    )


def offline_grades(
    policy, sample, models: list[str] | None = None, *, regrade: bool = False
) -> GradingResult:
    """Grade outputs by reference, else by the policy's as-grade checks.

    `models` are model strings (all of the policy's by default). Outputs with a
    grade are skipped unless `regrade` is set.
    """
    models = models or [spec.model for spec in policy.models.values()]
    params = {spec.model: spec.params for spec in policy.models.values()}
    checks = CheckGrader(policy)
    result = GradingResult(problems=list(checks.problems))

    for request in sample.requests:
        for model in models:
            output = request.outputs.get(model)
            if not needs_grade(output, regrade):
                continue
            model_params = params.get(model, {})
            grade = _offline_grade(
                sample.path, request, output, checks, model_params, result
            )
            if grade is not None:
                result.add(request.id, model, grade)
    return result


def _offline_grade(path, request, output, checks, params, result) -> Grade | None:
    if request.reference is not None:
        try:
            return grade_reference(output.text, request.reference)
        except InvalidReference as error:
            message = f"{error}; fix the pattern or drop the 're:' prefix"
            result.problems.append(Problem(str(path), request.line, 1, message))
            return None
    return checks.grade(request, output, params)


def write_grades(path, result: GradingResult, when: str | None = None) -> int:
    """Write every grade into the sample file at once; return how many were written."""
    from .samples import update_outputs

    when = when or _now()
    updates = {
        request_id: {model: grade.fields(when) for model, grade in models.items()}
        for request_id, models in result.grades.items()
    }
    if not updates:
        return 0
    update_outputs(path, updates)
    return sum(len(models) for models in updates.values())


# --- LLM judge ---------------------------------------------------------------------

VERDICT_A = "A"
VERDICT_B = "B"
VERDICT_TIE = "TIE"
_VERDICT = re.compile(r"\[\[\s*(A|B|TIE)\s*\]\]", re.IGNORECASE)

JUDGE_SYSTEM_PROMPT = (
    "You compare two answers to the same user request and decide which one"
    " serves the user better. You are strict, fair and brief."
)

DEFAULT_JUDGE_PROMPT = """\
Compare the two answers to the user's request below. Judge correctness first,
then whether the answer does what was asked (language, format, completeness),
then clarity. The order of the answers says nothing about their quality, and a
longer answer is not better for being longer.

[Request]
{question}

[Answer A]
{answer_a}
[End of answer A]

[Answer B]
{answer_b}
[End of answer B]

Explain your reasoning in a few sentences. Then give your verdict on the last
line as exactly one of: [[A]] if answer A is better, [[B]] if answer B is
better, [[TIE]] if they are equally good or equally bad."""

_PLACEHOLDERS = ("{question}", "{answer_a}", "{answer_b}")
_PLACEHOLDER = re.compile("|".join(re.escape(name) for name in _PLACEHOLDERS))


def parse_verdict(text: str | None) -> str | None:
    """Return the last verdict token in a judge's reply: "A", "B", "TIE" or None."""
    if not text:
        return None
    matches = _VERDICT.findall(text)
    return matches[-1].upper() if matches else None


def judge_grade(
    baseline_first: str | None, candidate_first: str | None
) -> float | None:
    """Map the verdicts of both orders to the candidate's grade, None without any.

    In `baseline_first` the candidate is answer B; in `candidate_first` it is A.
    """
    scores = []
    if baseline_first is not None:
        scores.append(0.0 if baseline_first == VERDICT_A else 1.0)
    if candidate_first is not None:
        scores.append(0.0 if candidate_first == VERDICT_B else 1.0)
    if not scores:
        return None
    return sum(scores) / len(scores)


def clip_answer(text: str) -> str:
    """Keep the start and end of a very long answer, marking what was cut."""
    limit = ANSWER_HEAD_CHARS + ANSWER_TAIL_CHARS
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    head = text[:ANSWER_HEAD_CHARS]
    tail = text[-ANSWER_TAIL_CHARS:]
    return f"{head}\n[... {cut} characters cut ...]\n{tail}"


def judge_template(judge: dict) -> str:
    """Return the policy's judge prompt or the default; InputError when unusable."""
    template = judge.get("prompt")
    if template is None:
        return DEFAULT_JUDGE_PROMPT
    if not isinstance(template, str):
        raise InputError(
            "judge.prompt must be a string with {question}, {answer_a}"
            " and {answer_b} in it"
        )
    missing = [name for name in _PLACEHOLDERS if name not in template]
    if missing:
        raise InputError(
            f"judge.prompt lacks {', '.join(missing)}; the judge needs the request and"
            " both answers to compare"
        )
    return template


def judge_messages(template: str, question: str, answer_a: str, answer_b: str) -> list:
    """Build the judge's messages; the default prompt adds a system message."""
    values = {
        "{question}": question,
        "{answer_a}": clip_answer(answer_a),
        "{answer_b}": clip_answer(answer_b),
    }
    # One pass over the template, so a placeholder written inside an answer is
    # never replaced, and other braces stay as written.
    content = _PLACEHOLDER.sub(lambda match: values[match.group(0)], template)
    messages = [{"role": "user", "content": content}]
    if template is DEFAULT_JUDGE_PROMPT:
        messages.insert(0, {"role": "system", "content": JUDGE_SYSTEM_PROMPT})
    return messages


def request_question(request) -> str:
    """Return the request as shown to the judge: the prompt or the conversation."""
    if request.messages is None or len(request.messages) == 1:
        return request.prompt_text()
    lines = []
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(
                part.get("text", "") for part in content if isinstance(part, dict)
            )
        lines.append(f"{message.get('role')}: {content or ''}")
    return "\n".join(lines)


@dataclass
class JudgeTask:
    """One candidate output to compare with the baseline output, in both orders."""

    request_id: str
    model: str
    baseline_model: str
    baseline_first: ChatCall  # the baseline output is answer A
    candidate_first: ChatCall  # the candidate output is answer A
    baseline_needs_grade: bool


@dataclass
class JudgePlan:
    """The judge calls to make and their estimated tokens and cost."""

    judge_model: str
    tasks: list[JudgeTask]
    estimate: ModelEstimate
    skipped: Counter = field(default_factory=Counter)

    @property
    def calls(self) -> int:
        return 2 * len(self.tasks)


def plan_judging(
    policy,
    sample,
    models: list[str] | None = None,
    *,
    already: GradingResult | None = None,
    regrade: bool = False,
    cache=None,
    price_map=None,
) -> JudgePlan:
    """List the outputs the judge should grade: ungraded, non-baseline, with text.

    Raises InputError when the policy has no judge or its prompt is unusable.
    """
    from . import pricing
    from .llm_cache import CompletionCache
    from .runner import ChatCall, ModelEstimate, resolve_call_params

    judge = policy.judge
    if not judge or not isinstance(judge.get("model"), str):
        raise InputError(
            "the policy has no judge; add 'judge: {model: MODEL_STRING}' to grade"
            " outputs without a reference by comparison with the baseline"
        )
    template = judge_template(judge)
    params = dict(judge.get("params") or {})
    resolve_call_params("judge", params)
    cache = cache if cache is not None else CompletionCache()
    prices = price_map if price_map is not None else pricing.default_price_map()

    baseline = policy.models[policy.budgets.baseline].model
    models = models or [spec.model for spec in policy.models.values()]
    estimate = ModelEstimate("judge", judge["model"])
    plan = JudgePlan(judge["model"], [], estimate)
    already = already or GradingResult()

    for request in sample.requests:
        base_output = request.outputs.get(baseline)
        for model in models:
            if model == baseline:
                continue
            reason = _skip_reason(request, model, base_output, already, regrade)
            if reason:
                plan.skipped[reason] += 1
                continue
            question = request_question(request)
            candidate = request.outputs[model].text

            def call(answer_a: str, answer_b: str, question: str = question):
                messages = judge_messages(template, question, answer_a, answer_b)
                return ChatCall(judge["model"], messages, params, "judge")

            baseline_needs_grade = (
                needs_grade(base_output, regrade)
                and already.get(request.id, baseline) is None
            )
            task = JudgeTask(
                request.id,
                model,
                baseline,
                baseline_first=call(base_output.text, candidate),
                candidate_first=call(candidate, base_output.text),
                baseline_needs_grade=baseline_needs_grade,
            )
            plan.tasks.append(task)
            _estimate_judge(estimate, task, params, cache, prices)
    return plan


def _skip_reason(request, model, base_output, already, regrade) -> str | None:
    output = request.outputs.get(model)
    if output is None or output.text is None:
        return "no output text"
    if already.get(request.id, model) is not None or not needs_grade(output, regrade):
        return "already graded"
    if base_output is None or base_output.text is None:
        return "no baseline output to compare with"
    return None


def _estimate_judge(estimate, task: JudgeTask, params: dict, cache, prices) -> None:
    from .runner import DEFAULT_COMPLETION_TOKENS, max_tokens_param
    from .tokens import count_request_tokens

    completion = max_tokens_param(params) or DEFAULT_COMPLETION_TOKENS
    for call in (task.baseline_first, task.candidate_first):
        if call.key in cache:
            estimate.cached += 1
            continue
        prompt = count_request_tokens(call.messages, call.model).tokens
        estimate.to_send += 1
        estimate.prompt_tokens += prompt
        estimate.completion_tokens += completion
        if estimate.cost_usd is not None:
            cost = prices.cost(call.model, prompt, completion)
            estimate.cost_usd = None if cost is None else estimate.cost_usd + cost


@dataclass
class JudgeReport:
    """Judge grades, and the tasks whose calls failed or gave no verdict."""

    result: GradingResult
    failures: list[tuple[JudgeTask, str]] = field(default_factory=list)
    cancelled: bool = False
    cost_usd: float = 0.0
    done: int = 0


async def run_judging(
    plan: JudgePlan,
    client,
    *,
    concurrency: int = 8,
    progress=None,
    cancel: asyncio.Event | None = None,
) -> JudgeReport:
    """Send both orders of every task to the judge and turn the verdicts into grades.

    `client` is a started runner.LLMClient. `progress(report, total)` is called
    after each task. Setting `cancel` stops the run and returns what finished.
    """
    report = JudgeReport(GradingResult())
    tasks = iter(plan.tasks)
    use_cache = not client.options.force

    async def work():
        for task in tasks:
            first, second = await asyncio.gather(
                client.complete(task.baseline_first, use_cache=use_cache),
                client.complete(task.candidate_first, use_cache=use_cache),
            )
            _record_verdicts(report, task, first, second, plan.judge_model)
            if progress is not None:
                progress(report, len(plan.tasks))

    from .runner import wait_for_workers

    # Each worker sends two calls at a time.
    workers = [asyncio.create_task(work()) for _ in range(max(1, concurrency // 2))]
    try:
        report.cancelled = await wait_for_workers(workers, cancel)
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return report


def _record_verdicts(report: JudgeReport, task, first, second, judge_model) -> None:
    report.done += 1
    for result in (first, second):
        if result.ok and not result.from_cache and result.fields.get("cost"):
            report.cost_usd += result.fields["cost"]

    errors = [result.error for result in (first, second) if not result.ok]
    verdicts = [
        parse_verdict(result.fields.get("text")) if result.ok else None
        for result in (first, second)
    ]
    value = judge_grade(*verdicts)
    if value is None:
        reason = (
            "; ".join(errors) or "the judge gave no [[A]], [[B]] or [[TIE]] verdict"
        )
        report.failures.append((task, reason))
        return

    shown = ", ".join(verdict or "none" for verdict in verdicts)
    detail = (
        f"pairwise vs {task.baseline_model}: verdicts {shown}"
        " (baseline first, then swapped)"
    )
    report.result.add(
        task.request_id, task.model, Grade(value, SOURCE_JUDGE, detail, judge_model)
    )
    if task.baseline_needs_grade:
        baseline_detail = "baseline of pairwise judging"
        report.result.add(
            task.request_id,
            task.baseline_model,
            Grade(1.0, SOURCE_JUDGE, baseline_detail, judge_model),
        )
