"""`routebook run` and the runner core against a real HTTP server on 127.0.0.1.

LiteLLM reaches the stub server (tests/openai_stub.py) through `api_base`, so
every request crosses a real socket. LiteLLM is imported once per process
(about 4 s or more), so the CLI runs in-process through `tui.cli.main`.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.openai_stub import OpenAIStub, messages_word_count, word_count
from tui.cli import main
from tui.core.llm_cache import CompletionCache, cache_key, scrub_params
from tui.core.policy import parse_policy
from tui.core.runner import (
    DEFAULT_COMPLETION_TOKENS,
    RunOptions,
    execute_run,
    plan_run,
    retry_after_seconds,
    scrub_text,
)
from tui.core.samples import load_sample

FAKE_KEY = "sk-test-FAKE-123"
OTHER_FAKE_KEY = "sk-test-OTHER-987"
STRONG = "openai/stub-strong"
FAST = "openai/stub-fast"
# USD per million tokens for the strong alias; the fast alias has no price.
STRONG_INPUT_PRICE = 1.0
STRONG_OUTPUT_PRICE = 2.0
FAST_MAX_TOKENS = 50

PROMPTS = ["hello there", "what is the capital of France", "count to three"]


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ROUTEBOOK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def write_policy(folder: Path, stub: OpenAIStub, fast_params: str = "") -> Path:
    text = f"""\
schema: routebook/v1
name: runner-test
models:
  strong:
    model: {STRONG}
    params: {{api_base: "{stub.api_base}"}}
    price:
      input_per_million: {STRONG_INPUT_PRICE}
      output_per_million: {STRONG_OUTPUT_PRICE}
  fast:
    model: {FAST}
    params: {{api_base: "{stub.api_base}", max_tokens: {FAST_MAX_TOKENS}{fast_params}}}
rules: []
default: strong
"""
    path = folder / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_sample(folder: Path, prompts: list[str]) -> Path:
    path = folder / "sample.jsonl"
    lines = [json.dumps({"id": f"r{i}", "prompt": p}) for i, p in enumerate(prompts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_rows(path: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]
    return {row["id"]: row for row in rows}


def run_cli(policy: Path, sample: Path, *extra: str) -> int:
    return main(["run", str(policy), "--sample", str(sample), "--yes", *extra])


def files_containing(folder: Path, needle: str) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            found.append(path)
    return found


def load_policy_object(path: Path):
    result = parse_policy(path.read_text(), str(path))
    assert result.ok, result.problems
    return result.policy


# --- recording ----------------------------------------------------------------


def test_run_records_both_models(env, stub):
    policy = write_policy(env, stub)
    sample = write_sample(env, PROMPTS)

    assert run_cli(policy, sample) == 0

    rows = read_rows(sample)
    for index, prompt in enumerate(PROMPTS):
        outputs = rows[f"r{index}"]["outputs"]
        assert set(outputs) == {STRONG, FAST}
        for model in (STRONG, FAST):
            output = outputs[model]
            reply = f"{model.split('/')[1]} says: {prompt}"
            assert output["text"] == reply
            assert output["finish_reason"] == "stop"
            assert output["prompt_tokens"] == word_count(prompt)
            assert output["completion_tokens"] == word_count(reply)
            assert output["latency_s"] > 0
            created = datetime.strptime(output["created_at"], "%Y-%m-%dT%H:%M:%SZ")
            age = datetime.now(UTC).replace(tzinfo=None) - created
            assert timedelta(0) <= age < timedelta(minutes=5)

        strong = outputs[STRONG]
        expected_cost = (
            strong["prompt_tokens"] * STRONG_INPUT_PRICE
            + strong["completion_tokens"] * STRONG_OUTPUT_PRICE
        ) / 1_000_000
        assert strong["cost"] == pytest.approx(expected_cost)
        assert "cost" not in outputs[FAST]  # no price: unknown, never 0

    assert stub.count() == 2 * len(PROMPTS)


def test_run_sends_messages_as_written(env, stub):
    policy = write_policy(env, stub)
    sample = env / "sample.jsonl"
    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "name a colour"},
    ]
    sample.write_text(json.dumps({"id": "m1", "messages": messages}) + "\n")

    assert run_cli(policy, sample, "--models", "strong") == 0

    assert stub.count() == 1
    seen = stub.requests[0]
    assert seen.messages == messages
    output = read_rows(sample)["m1"]["outputs"][STRONG]
    assert output["prompt_tokens"] == messages_word_count(messages)


def test_run_keeps_other_lines(env, stub):
    policy = write_policy(env, stub)
    sample = env / "sample.jsonl"
    recorded = {STRONG: {"text": "kept", "grade": 1.0}, FAST: {"text": "also kept"}}
    untouched = json.dumps(
        {"id": "done", "prompt": "x", "outputs": recorded}, indent=None
    )
    odd_spacing = untouched.replace(", ", ",  ")
    sample.write_text(
        odd_spacing + "\n" + json.dumps({"id": "new", "prompt": "y"}) + "\n"
    )

    assert run_cli(policy, sample) == 0

    lines = sample.read_text().splitlines()
    assert lines[0] == odd_spacing
    assert stub.count() == 2
    assert all("y" == request.last_user_text for request in stub.requests)


# --- estimate and confirmation ----------------------------------------------------


def chat_prompt_tokens(text: str) -> int:
    """Tokens of one user message: 3 per message, the role, the text, 3 to prime."""
    from tui.core.tokens import get_encoding

    encoding = get_encoding("cl100k_base")
    return 3 + len(encoding.encode("user")) + len(encoding.encode(text)) + 3


def test_estimate_printed(env, stub, capsys):
    policy = write_policy(env, stub)
    sample = write_sample(env, PROMPTS)

    assert run_cli(policy, sample) == 0

    out = capsys.readouterr().out
    prompt_total = sum(chat_prompt_tokens(prompt) for prompt in PROMPTS)
    strong_completion = DEFAULT_COMPLETION_TOKENS * len(PROMPTS)
    fast_completion = FAST_MAX_TOKENS * len(PROMPTS)
    strong_cost = (
        prompt_total * STRONG_INPUT_PRICE + strong_completion * STRONG_OUTPUT_PRICE
    ) / 1_000_000

    strong_row = next(
        line for line in out.splitlines() if line.strip().startswith("strong")
    )
    fast_row = next(
        line for line in out.splitlines() if line.strip().startswith("fast")
    )
    assert strong_row.split()[2:] == [
        str(len(PROMPTS)),
        "0",
        f"{prompt_total:,}",
        f"{strong_completion:,}",
        f"${strong_cost:.6f}",  # amounts under a cent keep six decimals
    ]
    assert fast_row.split()[-1] == "unknown"
    assert fast_row.split()[-2] == f"{fast_completion:,}"
    assert f"estimated cost: ${strong_cost:.6f} plus unknown for {FAST}" in out


def test_estimate_uses_other_recorded_output(env, stub):
    policy_path = write_policy(env, stub)
    sample_path = env / "sample.jsonl"
    row = {
        "id": "a",
        "prompt": "hi",
        "outputs": {STRONG: {"text": "x", "completion_tokens": 7}},
    }
    sample_path.write_text(json.dumps(row) + "\n")
    policy = load_policy_object(policy_path)
    sample = load_sample(sample_path)

    plan = plan_run(policy, sample, cache=CompletionCache(env / "cache"))

    assert [job.model for job in plan.jobs] == [FAST]
    assert plan.jobs[0].completion_tokens == 7
    assert plan.jobs[0].completion_basis == "recorded output"
    assert plan.already_recorded == 1


def test_no_tty_without_yes_exits_2(env, stub, monkeypatch, capsys):
    policy = write_policy(env, stub)
    sample = write_sample(env, PROMPTS)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    status = main(["run", str(policy), "--sample", str(sample)])

    assert status == 2
    assert "--yes" in capsys.readouterr().err
    assert stub.count() == 0
    assert "outputs" not in sample.read_text()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "status", "sent"), [("n\n", 1, 0), ("y\n", 0, 6)])
def test_confirmation_answer(env, stub, monkeypatch, answer, status, sent):
    policy = write_policy(env, stub)
    sample = write_sample(env, PROMPTS)
    monkeypatch.setattr("sys.stdin", _Terminal(answer))

    assert main(["run", str(policy), "--sample", str(sample)]) == status
    assert stub.count() == sent


# --- retries, timeouts, failures ---------------------------------------------------


def test_retries_recover(env, stub):
    policy = write_policy(env, stub)
    sample = write_sample(env, ["flaky prompt", "boom prompt", "calm prompt"])
    stub.fail_when("flaky", status=429, times=2, retry_after=0.2, model="stub-strong")
    stub.fail_when("boom", status=503, times=1, model="stub-strong")

    assert run_cli(policy, sample, "--models", "strong") == 0

    rows = read_rows(sample)
    assert all(STRONG in row["outputs"] for row in rows.values())
    flaky = [r for r in stub.requests if r.last_user_text == "flaky prompt"]
    assert [r.status for r in flaky] == [429, 429, 200]
    gaps = [
        later.received_at - earlier.received_at
        for earlier, later in zip(flaky, flaky[1:], strict=False)
    ]
    assert all(gap >= 0.2 for gap in gaps)  # retry-after honoured
    boom = [r.status for r in stub.requests if r.last_user_text == "boom prompt"]
    assert boom == [503, 200]


def test_no_retry_on_400(env, stub, capsys):
    policy = write_policy(env, stub)
    sample = write_sample(env, ["bad prompt", "good prompt"])
    stub.fail_when("bad", status=400, model="stub-strong")

    assert run_cli(policy, sample, "--models", "strong") == 1

    assert stub.count(match="bad") == 1
    assert "HTTP 400" in capsys.readouterr().err
    rows = read_rows(sample)
    assert "outputs" not in rows["r0"]
    assert STRONG in rows["r1"]["outputs"]


def test_retries_give_up_after_max(env, stub, capsys):
    policy = write_policy(env, stub)
    sample = write_sample(env, ["down prompt"])
    stub.fail_when("down", status=500, retry_after=0.01)

    status = run_cli(policy, sample, "--models", "strong", "--max-retries", "2")

    assert status == 1
    assert stub.count() == 3
    assert "HTTP 500" in capsys.readouterr().err


def test_missing_key_not_retried(env, stub, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY")
    policy = write_policy(env, stub)
    sample = write_sample(env, ["first", "second"])

    status = run_cli(policy, sample, "--models", "strong")

    # LiteLLM reports the missing key as a 500, but no server answered it.
    assert status == 1
    assert stub.count() == 0
    err = capsys.readouterr().err
    assert "Missing credentials" in err
    assert "HTTP 500" not in err


def test_hanging_request_times_out(env, stub, capsys):
    policy = write_policy(env, stub)
    prompts = ["first", "hang here", "third", "fourth"]
    sample = write_sample(env, prompts)
    stub.hang_when("hang")

    started = time.monotonic()
    status = run_cli(policy, sample, "--models", "strong", "--timeout", "1")
    elapsed = time.monotonic() - started

    assert status == 1
    assert elapsed < 8
    err = capsys.readouterr().err
    assert "request 'r1'" in err
    assert "timed out after 1 s" in err
    rows = read_rows(sample)
    assert "outputs" not in rows["r1"]
    for request_id in ("r0", "r2", "r3"):
        assert rows[request_id]["outputs"][STRONG]["text"].endswith(
            prompts[int(request_id[1])]
        )


def test_concurrency_is_bounded(env):
    with OpenAIStub(delay_s=0.15) as slow:
        policy = write_policy(env, slow)
        sample = write_sample(env, [f"prompt {i}" for i in range(8)])

        assert run_cli(policy, sample, "--models", "strong", "--concurrency", "3") == 0

        assert slow.max_in_flight == 3
        assert slow.count() == 8


# --- cache, rerun, force --------------------------------------------------------------


def test_rerun_sends_nothing(env, stub):
    policy = write_policy(env, stub)
    sample = write_sample(env, PROMPTS)
    assert run_cli(policy, sample) == 0
    sent = stub.count()
    recorded = read_rows(sample)

    assert run_cli(policy, sample) == 0
    assert stub.count() == sent

    # With the outputs gone from the file, the cache serves every request.
    write_sample(env, PROMPTS)
    assert run_cli(policy, sample) == 0
    assert stub.count() == sent
    assert read_rows(sample) == recorded


def test_force_rerequests(env, stub):
    policy = write_policy(env, stub)
    sample = write_sample(env, PROMPTS)
    assert run_cli(policy, sample) == 0
    sent = stub.count()

    assert run_cli(policy, sample, "--force") == 0

    assert stub.count() == 2 * sent


def test_force_drops_stale_grade(env, stub):
    policy = write_policy(env, stub)
    sample = env / "sample.jsonl"
    old = {STRONG: {"text": "old answer", "grade": 0.0, "grade_source": "human"}}
    sample.write_text(json.dumps({"id": "g", "prompt": "q", "outputs": old}) + "\n")

    assert run_cli(policy, sample, "--models", "strong", "--force") == 0

    output = read_rows(sample)["g"]["outputs"][STRONG]
    assert output["text"] == "stub-strong says: q"
    assert "grade" not in output
    assert "grade_source" not in output


def test_cache_key_ignores_secrets():
    messages = [{"role": "user", "content": "hi"}]
    base = cache_key(STRONG, messages, {"temperature": 0})

    assert cache_key(STRONG, messages, {"temperature": 0, "api_key": "x"}) == base
    assert cache_key(STRONG, messages, {"temperature": 0, "timeout": 9}) == base
    assert cache_key(STRONG, messages, {"temperature": 1}) != base
    assert cache_key(FAST, messages, {"temperature": 0}) != base


def test_cache_put_after_folder_deleted(tmp_path):
    import shutil

    cache = CompletionCache(tmp_path / "cache")
    first = cache_key(STRONG, [{"role": "user", "content": "a"}], {})
    cache.put(first, {"text": "one"})
    # Emptying the cache by hand while a run writes to it.
    shutil.rmtree(tmp_path / "cache")

    cache.put(first, {"text": "two"})

    assert cache.get(first) == {"text": "two"}
    # No temporary file is left beside the entry.
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [f"{first}.json"]


def test_scrub_params_drops_credentials():
    params = {
        "api_key": "a",
        "aws_secret_access_key": "b",
        "aws_access_key_id": "c",
        "azure_ad_token": "d",
        "max_tokens": 5,
        "extra_headers": {"Authorization": "Bearer e", "X-Trace": "f"},
    }

    assert scrub_params(params) == {"max_tokens": 5, "extra_headers": {"X-Trace": "f"}}


# --- secrets ---------------------------------------------------------------------


def test_key_never_written(env, stub, capsys):
    policy = write_policy(env, stub)
    sample = write_sample(env, ["ok prompt", "rejected prompt", "hang prompt"])
    stub.fail_when("rejected", status=401, echo_authorization=True)
    stub.hang_when("hang")

    status = run_cli(policy, sample, "--timeout", "1")

    assert status == 1
    assert all(r.authorization == f"Bearer {FAKE_KEY}" for r in stub.requests)
    captured = capsys.readouterr()
    assert "HTTP 401" in captured.err
    assert "[redacted]" in captured.err  # the quoted key was replaced
    assert FAKE_KEY not in captured.err
    assert FAKE_KEY not in captured.out
    assert files_containing(env, FAKE_KEY) == []


def test_api_key_env_param(env, stub, monkeypatch, capsys):
    monkeypatch.setenv("ROUTEBOOK_TEST_KEY", OTHER_FAKE_KEY)
    policy = write_policy(env, stub, fast_params=", api_key_env: ROUTEBOOK_TEST_KEY")
    sample = write_sample(env, ["first"])

    assert run_cli(policy, sample, "--models", "fast") == 0

    assert stub.requests[0].authorization == f"Bearer {OTHER_FAKE_KEY}"
    assert files_containing(env, OTHER_FAKE_KEY) == []
    assert OTHER_FAKE_KEY not in capsys.readouterr().err


def test_literal_key_in_policy_warns(env, stub, capsys):
    policy = write_policy(env, stub, fast_params=f", api_key: {OTHER_FAKE_KEY}")
    sample = write_sample(env, ["first"])

    assert run_cli(policy, sample, "--models", "fast") == 0

    assert stub.requests[0].authorization == f"Bearer {OTHER_FAKE_KEY}"
    err = capsys.readouterr().err
    assert "literal api_key" in err
    assert OTHER_FAKE_KEY not in err
    # Only the policy, where the user wrote it, contains the key.
    assert files_containing(env, OTHER_FAKE_KEY) == [env / "policy.yaml"]


def test_api_key_env_missing_exits_2(env, stub, monkeypatch, capsys):
    monkeypatch.delenv("ROUTEBOOK_MISSING_KEY", raising=False)
    policy = write_policy(env, stub, fast_params=", api_key_env: ROUTEBOOK_MISSING_KEY")
    sample = write_sample(env, ["first"])

    assert run_cli(policy, sample) == 2

    assert "ROUTEBOOK_MISSING_KEY" in capsys.readouterr().err
    assert stub.count() == 0


def test_scrub_text_replaces_secrets():
    text = f"key {FAKE_KEY} and header Bearer abc.def and sk-live-1234567"

    scrubbed = scrub_text(text, {FAKE_KEY})

    assert scrubbed == "key [redacted] and header Bearer [redacted] and [redacted]"


def test_long_error_cut_after_scrub(env, monkeypatch):
    from tui.core.runner import LLMClient

    monkeypatch.setenv("ROUTEBOOK_TEST_TOKEN", "abcdefgh12345678")
    client = LLMClient(cache=CompletionCache(env / "cache"))
    error = RuntimeError("x" * 290 + "abcdefgh12345678 and more")

    message = client._describe_error(error, None, set())

    assert "abcdefgh" not in message
    assert message.startswith("x" * 290 + "[redact")
    assert len(message) <= 300


def test_only_loopback_contacted(env, stub, monkeypatch):
    policy = write_policy(env, stub)
    sample = write_sample(env, PROMPTS)
    hosts: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(sock, address):
        if isinstance(address, tuple):
            hosts.append(str(address[0]))
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        hosts.append(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    assert run_cli(policy, sample, "--force") == 0

    assert stub.count() == 2 * len(PROMPTS)
    assert set(hosts) <= {"127.0.0.1", "localhost", "::1"}


# --- options and usage errors -------------------------------------------------------


def test_unknown_alias_exits_2(env, stub, capsys):
    policy = write_policy(env, stub)
    sample = write_sample(env, PROMPTS)

    assert run_cli(policy, sample, "--models", "strong,tiny") == 2

    err = capsys.readouterr().err
    assert "'tiny'" in err
    assert "strong, fast" in err


@pytest.mark.parametrize(
    "option", [["--concurrency", "0"], ["--timeout", "0"], ["--max-retries", "-1"]]
)
def test_invalid_option_exits_2(env, stub, option):
    policy = write_policy(env, stub)
    sample = write_sample(env, PROMPTS)

    with pytest.raises(SystemExit) as raised:
        run_cli(policy, sample, *option)

    assert raised.value.code == 2


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"Retry-After": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_parsing(headers, expected):
    error = Exception("rate limited")
    error.litellm_response_headers = headers

    assert retry_after_seconds(error) == expected


def test_retry_after_http_date():
    error = Exception("rate limited")
    when = datetime.now(UTC) + timedelta(seconds=30)
    error.litellm_response_headers = {"retry-after": format_datetime(when, usegmt=True)}

    assert 28 <= retry_after_seconds(error) <= 30


# --- cancellation ------------------------------------------------------------------


def test_cancel_keeps_partial(env, stub):
    policy_path = write_policy(env, stub)
    prompts = [f"prompt {i}" for i in range(6)]
    sample_path = write_sample(env, prompts)
    policy = load_policy_object(policy_path)
    plan = plan_run(policy, load_sample(sample_path), aliases=["strong"])
    options = RunOptions(concurrency=1, flush_every=100, flush_interval_s=60)

    async def run():
        cancel = asyncio.Event()

        def on_progress(state):
            if state.done == 3:
                cancel.set()

        return await execute_run(plan, options, progress=on_progress, cancel=cancel)

    report = asyncio.run(run())

    assert report.cancelled
    assert report.progress.done == 3
    assert report.written == 3
    rows = read_rows(sample_path)
    recorded = [rid for rid, row in rows.items() if STRONG in row.get("outputs", {})]
    assert recorded == ["r0", "r1", "r2"]
    assert stub.count() <= 4  # the fourth may have been in flight


def test_ctrl_c_keeps_outputs(env, capsys):
    def reply(messages):
        text = messages[-1]["content"]
        if text == "prompt 3":
            # Ctrl+C arrives while this request is in flight.
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)
        return f"answer to {text}"

    with OpenAIStub(replies={"stub-strong": reply}) as server:
        policy = write_policy(env, server)
        sample = write_sample(env, [f"prompt {i}" for i in range(8)])

        status = run_cli(policy, sample, "--models", "strong", "--concurrency", "1")

        assert status == 130
        assert server.count() == 4

    rows = read_rows(sample)
    recorded = [rid for rid, row in rows.items() if STRONG in row.get("outputs", {})]
    assert recorded == ["r0", "r1", "r2"]
    assert "cancelled" in capsys.readouterr().err
    cache_entries = list((env / "cache").rglob("*.json"))
    assert len(cache_entries) == 3


def test_writes_are_batched_during_run(env, stub):
    policy_path = write_policy(env, stub)
    sample_path = write_sample(env, [f"prompt {i}" for i in range(6)])
    policy = load_policy_object(policy_path)
    plan = plan_run(policy, load_sample(sample_path), aliases=["strong"])
    options = RunOptions(concurrency=1, flush_every=2, flush_interval_s=60)
    seen_on_disk: list[int] = []

    def on_progress(state):
        text = sample_path.read_text()
        seen_on_disk.append(len(re.findall(re.escape(f'"{STRONG}"'), text)))

    report = asyncio.run(execute_run(plan, options, progress=on_progress))

    assert report.written == 6
    # Each callback finds the batches written before it: 2 outputs at a time.
    assert seen_on_disk == [0, 0, 2, 2, 4, 4]


def test_vanished_request_keeps_others(env, stub):
    policy_path = write_policy(env, stub)
    sample_path = write_sample(env, ["a", "b", "c"])
    policy = load_policy_object(policy_path)
    plan = plan_run(policy, load_sample(sample_path), aliases=["strong"])
    options = RunOptions(concurrency=1, flush_every=100, flush_interval_s=60)

    def drop_last_line(state):
        if state.done == 1:
            lines = sample_path.read_text().splitlines()
            sample_path.write_text("\n".join(lines[:2]) + "\n")

    report = asyncio.run(execute_run(plan, options, progress=drop_last_line))

    assert report.progress.done == 3
    assert report.written == 2
    assert len(report.write_errors) == 1
    assert "'r2'" in report.write_errors[0]
    rows = read_rows(sample_path)
    assert sorted(rows) == ["r0", "r1"]
    assert all(STRONG in row["outputs"] for row in rows.values())
