# ruff: noqa: F811
# The stub and env fixtures come from test_runner by import, and each test
# takes them as arguments of the same name.
"""The runner's worker processes (tui/core/runner_workers.py) against a real server.

Workers are separate interpreters that import LiteLLM (seconds each), so most
tests share one pool of two workers started once for the module, in its own
event loop. The stub server (tests/openai_stub.py) runs in this process on
127.0.0.1, and the workers reach it through `api_base` like any provider.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.openai_stub import OpenAIStub, word_count
from tests.test_runner import (
    FAKE_KEY,
    FAST,
    STRONG,
    STRONG_INPUT_PRICE,
    STRONG_OUTPUT_PRICE,
    env,  # noqa: F401 - a fixture, used by name
    load_policy_object,
    read_rows,
    run_cli,
    stub,  # noqa: F401 - a fixture, used by name
    write_policy,
    write_sample,
)
from tui.core.runner import (
    MAX_AUTO_PROCESSES,
    WORKER_MIN_REQUESTS,
    ModelEstimate,
    RunOptions,
    RunPlan,
    available_cores,
    execute_run,
    plan_run,
    process_count,
)
from tui.core.runner_workers import WorkerPool
from tui.core.samples import load_sample

pytestmark = pytest.mark.skipif(
    not WorkerPool.supported(), reason="worker processes need POSIX pipes"
)


@pytest.fixture(scope="module")
def pool_loop():
    """A started pool of two workers and the event loop it belongs to."""
    loop = asyncio.new_event_loop()
    with pytest.MonkeyPatch.context() as patch:
        # Workers copy the environment when they start.
        patch.setenv("OPENAI_API_KEY", FAKE_KEY)
        pool = loop.run_until_complete(WorkerPool(2).start())
    yield pool, loop
    loop.run_until_complete(pool.close())
    loop.close()


def make_plan(folder: Path, stub: OpenAIStub, prompts: list[str], aliases=None):
    policy = load_policy_object(write_policy(folder, stub))
    sample = load_sample(write_sample(folder, prompts))
    return plan_run(policy, sample, aliases=aliases)


def run_in(pool_loop, plan, options: RunOptions, **kwargs):
    pool, loop = pool_loop
    return loop.run_until_complete(execute_run(plan, options, workers=pool, **kwargs))


def cache_entries(folder: Path) -> list[Path]:
    return list((folder / "cache").rglob("*.json"))


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- recording -------------------------------------------------------------------


def test_workers_record_outputs(pool_loop, env, stub):
    prompts = [f"question number {i}" for i in range(40)]
    plan = make_plan(env, stub, prompts)
    pool, _ = pool_loop
    has_proc = Path(f"/proc/{pool.pids[0]}/stat").exists()
    before = [cpu_seconds(pid) for pid in pool.pids] if has_proc else []

    report = run_in(pool_loop, plan, RunOptions(concurrency=4))

    assert report.processes == 2
    assert report.progress.done == 80
    assert report.progress.failed == 0
    assert report.written == 80
    assert stub.count() == 80
    assert stub.max_in_flight <= 4
    assert len(cache_entries(env)) == 80

    rows = read_rows(env / "sample.jsonl")
    expected_spend = 0.0
    for index, prompt in enumerate(prompts):
        outputs = rows[f"r{index}"]["outputs"]
        for model in (STRONG, FAST):
            reply = f"{model.split('/')[1]} says: {prompt}"
            assert outputs[model]["text"] == reply
            assert outputs[model]["prompt_tokens"] == word_count(prompt)
            assert outputs[model]["completion_tokens"] == word_count(reply)
        strong = outputs[STRONG]
        cost = (
            strong["prompt_tokens"] * STRONG_INPUT_PRICE
            + strong["completion_tokens"] * STRONG_OUTPUT_PRICE
        ) / 1_000_000
        assert strong["cost"] == pytest.approx(cost)
        assert "cost" not in outputs[FAST]  # no price: unknown, never 0
        expected_spend += cost
    assert report.progress.cost_usd == pytest.approx(expected_spend)
    assert report.progress.unpriced == 40

    if has_proc:
        after = [cpu_seconds(pid) for pid in pool.pids]
        # Both workers sent requests, so both spent CPU.
        assert all(a > b for a, b in zip(after, before, strict=True))


def test_workers_send_duplicates_once(pool_loop, env, stub):
    prompts = ["same question", "other question"] * 3
    plan = make_plan(env, stub, prompts, aliases=["strong"])

    report = run_in(pool_loop, plan, RunOptions(concurrency=4))

    assert stub.count() == 2
    assert report.progress.done == 6
    assert report.progress.from_cache == 4
    rows = read_rows(env / "sample.jsonl")
    for index, prompt in enumerate(prompts):
        text = rows[f"r{index}"]["outputs"][STRONG]["text"]
        assert text == f"stub-strong says: {prompt}"


def test_workers_rerun_sends_nothing(pool_loop, env, stub):
    prompts = [f"cached question {i}" for i in range(4)]
    plan = make_plan(env, stub, prompts, aliases=["strong"])
    run_in(pool_loop, plan, RunOptions(concurrency=2))
    sent = stub.count()

    # A fresh sample with the same prompts: the cache answers every request.
    plan = make_plan(env, stub, prompts, aliases=["strong"])
    report = run_in(pool_loop, plan, RunOptions(concurrency=2))

    assert sent == 4
    assert stub.count() == sent
    assert report.progress.from_cache == 4
    assert report.written == 4


# --- retries, timeouts, failures -----------------------------------------------------


def test_workers_retry_after(pool_loop, env, stub):
    plan = make_plan(
        env, stub, ["flaky prompt", "boom prompt", "calm prompt"], ["strong"]
    )
    stub.fail_when("flaky", status=429, times=2, retry_after=0.2)
    stub.fail_when("boom", status=503, times=1)

    report = run_in(pool_loop, plan, RunOptions(concurrency=3))

    assert report.progress.done == 3
    assert report.progress.retries == 2 + 1
    flaky = [r for r in stub.requests if r.last_user_text == "flaky prompt"]
    assert [r.status for r in flaky] == [429, 429, 200]
    gaps = [
        b.received_at - a.received_at for a, b in zip(flaky, flaky[1:], strict=False)
    ]
    assert all(gap >= 0.2 for gap in gaps)  # retry-after honoured
    boom = [r.status for r in stub.requests if r.last_user_text == "boom prompt"]
    assert boom == [503, 200]


def test_workers_failures_scrubbed(pool_loop, env, stub):
    prompts = ["rejected prompt", "bad prompt", "hang prompt", "fine prompt"]
    plan = make_plan(env, stub, prompts, aliases=["strong"])
    stub.fail_when("rejected", status=401, echo_authorization=True)
    stub.fail_when("bad", status=400)
    stub.hang_when("hang")

    started = time.monotonic()
    report = run_in(pool_loop, plan, RunOptions(concurrency=4, timeout_s=1))
    elapsed = time.monotonic() - started

    errors = {o.job.request_id: o.result.error for o in report.failures}
    assert sorted(errors) == ["r0", "r1", "r2"]
    assert errors["r0"].startswith("HTTP 401")
    assert "[redacted]" in errors["r0"]
    assert FAKE_KEY not in errors["r0"]
    assert errors["r1"].startswith("HTTP 400")
    assert errors["r2"] == "timed out after 1 s"
    assert stub.count(match="bad") == 1  # a 400 is not retried
    assert elapsed < 8
    rows = read_rows(env / "sample.jsonl")
    assert rows["r3"]["outputs"][STRONG]["text"] == "stub-strong says: fine prompt"
    assert all(FAKE_KEY.encode() not in p.read_bytes() for p in env.rglob("*.json*"))


# --- cancellation and stray signals ------------------------------------------------


def test_workers_cancel_keeps_completed(pool_loop, env):
    with OpenAIStub(delay_s=0.05) as slow:
        prompts = [f"prompt {i}" for i in range(30)]
        plan = make_plan(env, slow, prompts, aliases=["strong"])
        options = RunOptions(concurrency=2, flush_every=100, flush_interval_s=60)
        cancel = asyncio.Event()

        def on_progress(state):
            if state.done == 5:
                cancel.set()

        report = run_in(pool_loop, plan, options, progress=on_progress, cancel=cancel)
        sent = slow.count()

    assert report.cancelled
    done = report.progress.done
    assert done >= 5
    assert report.written == done
    assert sent <= done + options.concurrency  # in flight when cancelled
    rows = read_rows(env / "sample.jsonl")
    recorded = {rid for rid, row in rows.items() if STRONG in row.get("outputs", {})}
    assert recorded == {o.job.request_id for o in report.outcomes if o.ok}
    assert len(cache_entries(env)) == done

    # The pool confirmed the cancel, so it serves the next run.
    with OpenAIStub() as server:
        plan = make_plan(env, server, ["after cancel"], aliases=["strong"])
        again = run_in(pool_loop, plan, RunOptions(concurrency=2))
    assert again.progress.done == 1


def test_workers_ignore_sigint(pool_loop, env, stub):
    pool, _ = pool_loop
    prompts = [f"interrupted {i}" for i in range(12)]
    plan = make_plan(env, stub, prompts, aliases=["strong"])
    sent_signal = threading.Event()

    def on_progress(state):
        # Ctrl+C in a terminal reaches every process of the foreground group.
        if state.done == 3 and not sent_signal.is_set():
            sent_signal.set()
            for pid in pool.pids:
                os.kill(pid, signal.SIGINT)

    report = run_in(pool_loop, plan, RunOptions(concurrency=2), progress=on_progress)

    assert sent_signal.is_set()
    assert report.progress.done == 12
    assert all(worker.process.poll() is None for worker in pool.workers)


def test_worker_exit_fails_its_requests(env):
    with OpenAIStub(delay_s=0.3) as slow:
        plan = make_plan(env, slow, [f"q {i}" for i in range(8)], aliases=["strong"])

        async def run():
            pool = await WorkerPool(2).start()
            try:
                task = asyncio.create_task(
                    execute_run(plan, RunOptions(concurrency=2), workers=pool)
                )
                while slow.in_flight < 2:
                    await asyncio.sleep(0.01)
                os.kill(pool.pids[0], signal.SIGKILL)
                return await task
            finally:
                await pool.close()

        report = asyncio.run(run())

    # Jobs go out in turn, two per worker (one slot each, one job ahead). So
    # worker 0 had q 0 in flight and q 2 queued, and worker 1 sent the rest.
    failed = sorted(o.job.request_id for o in report.failures)
    assert failed == ["r0", "r2"]
    assert all("exited with code -9" in o.result.error for o in report.failures)
    assert report.progress.done == 6
    assert report.written == 6


# --- choosing the process count -----------------------------------------------------


def plan_with(to_send: int) -> RunPlan:
    estimate = ModelEstimate("strong", STRONG, to_send=to_send)
    return RunPlan("sample.jsonl", [], {"strong": estimate}, 0)


def test_process_count_by_size():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    auto = min(2, cores)  # one worker per core, at most two

    assert WORKER_MIN_REQUESTS == 50
    assert MAX_AUTO_PROCESSES == 2
    assert process_count(plan_with(0), RunOptions()) == 1
    assert process_count(plan_with(50), RunOptions()) == 1
    assert process_count(plan_with(51), RunOptions()) == auto
    assert process_count(plan_with(51), RunOptions(concurrency=1)) == 1
    assert process_count(plan_with(5), RunOptions(processes=3)) == 3
    assert process_count(plan_with(5), RunOptions(processes=3, concurrency=2)) == 2
    assert process_count(plan_with(0), RunOptions(processes=3)) == 1


def test_workers_skip_bookkeeping(pool_loop):
    # False would mean this LiteLLM moved the methods, and workers lost the
    # CPU they save (see skip_unread_bookkeeping).
    pool, _ = pool_loop
    assert pool.bookkeeping_skipped is True


# --- the command ---------------------------------------------------------------------


@pytest.mark.skipif(available_cores() < 2, reason="workers start on 2 cores or more")
def test_cli_workers_ctrl_c(env, caplog):
    """A run of more than WORKER_MIN_REQUESTS starts workers, and Ctrl+C keeps
    the outputs finished before it."""
    interrupted = threading.Event()

    def reply(messages):
        text = messages[-1]["content"]
        if text == "prompt 30" and not interrupted.is_set():
            interrupted.set()
            os.kill(os.getpid(), signal.SIGINT)
        return f"answer to {text}"

    prompts = [f"prompt {i}" for i in range(WORKER_MIN_REQUESTS + 10)]
    with OpenAIStub(replies={"stub-strong": reply}, delay_s=0.05) as server:
        policy = write_policy(env, server)
        sample = write_sample(env, prompts)
        with caplog.at_level(logging.INFO, logger="tui.core.runner_workers"):
            status = run_cli(policy, sample, "--models", "strong")
        sent = server.count()

    assert interrupted.is_set()
    assert status == 130
    assert "started 2 worker processes" in caplog.text
    assert sent < len(prompts)
    rows = read_rows(sample)
    recorded = [rid for rid, row in rows.items() if STRONG in row.get("outputs", {})]
    assert 0 < len(recorded) < len(prompts)
    for rid in recorded:
        prompt = prompts[int(rid[1:])]
        assert rows[rid]["outputs"][STRONG]["text"] == f"answer to {prompt}"
    assert len(cache_entries(env)) == len(recorded)


def test_spawn_failure_runs_in_process(env, stub, monkeypatch, caplog):
    def fail_to_start(*args, **kwargs):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr("tui.core.runner_workers.subprocess.Popen", fail_to_start)
    plan = make_plan(env, stub, ["first", "second", "third"], aliases=["strong"])

    with caplog.at_level(logging.WARNING, logger="tui.core.runner_workers"):
        report = asyncio.run(execute_run(plan, RunOptions(processes=2)))

    assert report.processes == 1
    assert report.progress.done == 3
    assert stub.count() == 3
    assert "worker processes failed to start" in caplog.text
