"""Benchmark `routebook run` against the local stub server, and LiteLLM alone.

    .venv/bin/python scripts/bench_runner.py [--requests 200] [--concurrency 16]
        [--latency 0.1] [--model openai/gpt-4o-mini] [--processes N]
        [--repeat 1] [--profile] [--compare-bookkeeping]

The stub server (tests/openai_stub.py) runs in a child process on 127.0.0.1 and
responds to every request after `--latency` seconds, so the ideal time of a run is
ceil(requests / concurrency) * latency. Each repetition prints four timings:

- `litellm only`: bare `litellm.acompletion` calls under a semaphore in this
  process, the floor that LiteLLM's own per-call CPU sets for one process;
- `runner, 1 process`: `plan_run` + `execute_run` sending from this process,
  on a fresh sample and an empty cache (the estimate, the disk cache and the
  batched sample writes included);
- `runner, N processes`: the same through N worker processes (runner_workers),
  which is what `routebook run` does for a run this size unless `--processes`
  says otherwise;
- `runner, cached`: the same plan again, answered from the disk cache.

Start-up is timed apart: importing LiteLLM here and one warm-up round (the
first calls create LiteLLM's HTTP clients), and for the workers, starting them
(each imports LiteLLM) and one warm-up round through them. CPU per request is
the CPU of this process (all threads) plus that of the worker processes. The
stub server's CPU is printed apart, and so is the CPU that other processes
used meanwhile, in cores (1.00: another job kept one core busy). CPU figures
come from /proc, so they are missing on systems without it. With --profile,
the top functions of the first one-process runner timing are printed from
cProfile. With --compare-bookkeeping, `litellm only` is timed --repeat more
times at the end, after `skip_unread_bookkeeping()` has turned off LiteLLM's
cost calculation and success logging in this process, as worker processes do.

Exit status 1 when the median runner timing, in the process count that
`routebook run` would pick, is longer than --target times the ideal.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_STUB_CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from tests.openai_stub import OpenAIStub
stub = OpenAIStub(delay_s={latency!r}).start()
print(stub.port, flush=True)
sys.stdin.read()  # runs until the parent closes stdin
stub.stop()
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per reply")
    parser.add_argument("--model", default="openai/gpt-4o-mini")
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="worker processes for the multi-process timing (default: the count"
        " `routebook run` picks for this run, else 2)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="timed repetitions")
    parser.add_argument("--target", type=float, default=1.3, help="allowed x ideal")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--compare-bookkeeping",
        action="store_true",
        help="time `litellm only` again with LiteLLM's bookkeeping off",
    )
    return parser.parse_args()


def start_stub(latency: float) -> tuple[subprocess.Popen, str]:
    code = _STUB_CHILD.format(root=str(ROOT), latency=latency)
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(child.stdout.readline())
    return child, f"http://127.0.0.1:{port}/v1"


def write_inputs(folder: Path, api_base: str, model: str, count: int, tag: str):
    from tui.core.policy import parse_policy
    from tui.core.samples import load_sample

    policy_text = (
        "schema: routebook/v1\nname: bench\nmodels:\n"
        f'  bench: {{model: {model}, params: {{api_base: "{api_base}"}}}}\n'
        "rules: []\ndefault: bench\n"
    )
    policy = parse_policy(policy_text, "bench.yaml").policy
    sample_path = folder / f"sample-{tag}.jsonl"
    rows = [{"id": f"{tag}-{i}", "prompt": f"{tag} question {i}"} for i in range(count)]
    sample_path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return policy, load_sample(sample_path)


async def litellm_only(api_base: str, model: str, count: int, concurrency: int):
    from tui.core.runner import load_litellm

    litellm = load_litellm()
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int):
        async with gate:
            await litellm.acompletion(
                model=model,
                messages=[{"role": "user", "content": f"bare question {index}"}],
                api_base=api_base,
                timeout=30,
                max_retries=0,
            )

    await asyncio.gather(*(one(index) for index in range(count)))


def process_cpu_seconds(pid: int) -> float | None:
    """Return a process's user + system CPU seconds from /proc, or None."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_cpu_seconds() -> float | None:
    """Return the CPU seconds all processes have used since boot, or None."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal ...: idle and iowait are idle.
    ticks = [int(value) for value in fields[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


@dataclass
class Timing:
    """One timed section: wall and CPU seconds, and what else used the CPU.

    `other_cores` is the CPU that processes other than this benchmark's used
    during the section, divided by its wall time: 1.0 means another job kept
    one core busy the whole time.
    """

    name: str
    wall_s: float
    cpu_s: float | None
    stub_cpu_s: float | None
    other_cores: float | None
    load: float


class Clock:
    """Times async sections, with the CPU of this process, workers and stub."""

    def __init__(self, stub_pid: int):
        self.stub_pid = stub_pid

    async def time(self, name: str, coroutine, worker_pids=()) -> Timing:
        pids = list(worker_pids)
        busy_before = busy_cpu_seconds()
        stub_before = process_cpu_seconds(self.stub_pid)
        workers_before = [process_cpu_seconds(pid) for pid in pids]
        cpu_before = time.process_time()
        started = time.perf_counter()

        await coroutine

        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        for pid, before in zip(pids, workers_before, strict=True):
            after = process_cpu_seconds(pid)
            cpu = (
                None if cpu is None or None in (before, after) else cpu + after - before
            )
        stub_after = process_cpu_seconds(self.stub_pid)
        stub = None if None in (stub_before, stub_after) else stub_after - stub_before
        busy_after = busy_cpu_seconds()
        others = None
        if None not in (busy_before, busy_after, cpu, stub):
            others = max(0.0, busy_after - busy_before - cpu - stub) / wall
        return Timing(name, wall, cpu, stub, others, os.getloadavg()[0])


class Bench:
    """The runs of one benchmark, sharing the stub server and a temp folder."""

    def __init__(self, args, api_base: str, folder: Path, clock: Clock):
        from tui.core.runner import RunOptions

        self.args = args
        self.api_base = api_base
        self.folder = folder
        self.clock = clock
        self.options = RunOptions(concurrency=args.concurrency, timeout_s=30)
        self.runs = 0

    def plan(self, count: int, tag: str | None = None):
        from tui.core.runner import plan_run

        self.runs += 1
        tag = tag or f"run{self.runs}"
        policy, sample = write_inputs(
            self.folder, self.api_base, self.args.model, count, tag
        )
        return plan_run(policy, sample)

    async def run(self, plan, workers=None, profiler=None):
        from tui.core.runner import execute_run, process_count

        options = self.options
        if workers is None:
            # Sending from this process is what `--processes 1` selects.
            options = _with_processes(options, 1)
        if profiler:
            profiler.enable()
        report = await execute_run(plan, options, workers=workers)
        if profiler:
            profiler.disable()
        assert report.progress.failed == 0, report.failures[:3]
        assert workers is None or report.processes == workers.size
        assert workers is not None or process_count(plan, options) == 1
        return report


def _with_processes(options, processes: int):
    from dataclasses import replace

    return replace(options, processes=processes)


async def bench(args, api_base: str, folder: Path, clock: Clock) -> dict:
    from tui.core.runner import load_litellm, process_count
    from tui.core.runner_workers import WorkerPool

    session = Bench(args, api_base, folder, clock)
    timings: dict[str, list[Timing]] = {}

    startup = [await clock.time("import LiteLLM", asyncio.to_thread(load_litellm))]
    warmup = session.plan(args.concurrency, "warmup")
    startup.append(await clock.time("warm-up round", session.run(warmup)))

    auto = process_count(session.plan(args.requests, "count"), session.options)
    processes = args.processes or (auto if auto > 1 else 2)
    pool = WorkerPool(processes)
    startup.append(await clock.time(f"start {processes} workers", pool.start()))
    try:
        warmup = session.plan(args.concurrency, "warmup-workers")
        round_through = session.run(warmup, workers=pool)
        startup.append(await clock.time("warm-up round through them", round_through))
        await repeat_timings(args, session, pool, timings)
    finally:
        await pool.close()
    if args.compare_bookkeeping:
        await time_without_bookkeeping(args, session, timings)

    return {"startup": startup, "timings": timings, "auto": auto, "pool": processes}


async def repeat_timings(args, session: Bench, pool, timings: dict) -> None:
    clock = session.clock
    profiler = cProfile.Profile() if args.profile else None
    for repetition in range(args.repeat):
        bare = litellm_only(
            session.api_base, args.model, args.requests, args.concurrency
        )
        sections = [await clock.time("litellm only", bare)]

        plan = session.plan(args.requests)
        in_process = session.run(plan, profiler=profiler if repetition == 0 else None)
        sections.append(await clock.time("runner, 1 process", in_process))

        plan = session.plan(args.requests)
        name = f"runner, {pool.size} processes"
        sections.append(
            await clock.time(name, session.run(plan, workers=pool), pool.pids)
        )

        # The same requests again: the disk cache serves every one.
        last_tag = f"run{session.runs}"
        cached = session.plan(args.requests, last_tag)
        sections.append(await clock.time("runner, cached", session.run(cached)))

        for timing in sections:
            timings.setdefault(timing.name, []).append(timing)
        print_repetition(args, repetition, sections)

    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


async def time_without_bookkeeping(args, session: Bench, timings: dict) -> None:
    from tui.core.runner_workers import skip_unread_bookkeeping

    # Last, because it changes LiteLLM for the rest of this process.
    if not skip_unread_bookkeeping():
        print("this LiteLLM has no bookkeeping methods to turn off")
        return
    name = "litellm, no bookkeeping"
    for repetition in range(args.repeat):
        bare = litellm_only(
            session.api_base, args.model, args.requests, args.concurrency
        )
        timing = await session.clock.time(name, bare)
        timings.setdefault(name, []).append(timing)
        print_repetition(args, repetition, [timing])


def ideal_seconds(args) -> float:
    return math.ceil(args.requests / args.concurrency) * args.latency


def print_repetition(args, repetition: int, sections: list[Timing]) -> None:
    ideal = ideal_seconds(args)
    print(f"repetition {repetition + 1}:")
    for timing in sections:
        cpu = (
            "n/a"
            if timing.cpu_s is None
            else f"{timing.cpu_s / args.requests * 1e3:5.1f}"
        )
        stub = (
            "n/a"
            if timing.stub_cpu_s is None
            else f"{timing.stub_cpu_s / args.requests * 1e3:4.1f}"
        )
        others = "n/a" if timing.other_cores is None else f"{timing.other_cores:.2f}"
        print(
            f"  {timing.name:<22} {timing.wall_s:6.2f} s {timing.wall_s / ideal:5.2f}x"
            f" ideal  CPU {cpu} ms per request, stub {stub} ms,"
            f" other processes {others} cores, load average {timing.load:.2f}"
        )


def print_summary(args, result: dict) -> bool:
    ideal = ideal_seconds(args)
    print(
        f"{args.requests} requests, concurrency {args.concurrency},"
        f" {args.latency * 1000:g} ms per reply, model {args.model},"
        f" {os.cpu_count()} CPU cores, `routebook run` would use"
        f" {result['auto']} process(es)"
    )
    parts = ", ".join(f"{t.name} {t.wall_s:.2f} s" for t in result["startup"])
    print(f"start-up: {parts}")
    print(f"ideal                    {ideal:6.2f} s")
    for name, timings in result["timings"].items():
        walls = [timing.wall_s for timing in timings]
        median = statistics.median(walls)
        print(
            f"{name:<24} {median:6.2f} s  {median / ideal:5.2f}x ideal"
            f"  (median of {len(walls)}, best {min(walls):.2f} s)"
        )

    checked = (
        f"runner, {result['pool']} processes"
        if result["auto"] > 1
        else "runner, 1 process"
    )
    median = statistics.median(t.wall_s for t in result["timings"][checked])
    within = median <= args.target * ideal
    print(f"{checked} within {args.target}x ideal: {'yes' if within else 'no'}")
    return within


def main() -> int:
    args = parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
    folder = Path(tempfile.mkdtemp(prefix="routebook-bench-"))
    os.environ["ROUTEBOOK_CACHE_DIR"] = str(folder / "cache")

    child, api_base = start_stub(args.latency)
    try:
        result = asyncio.run(bench(args, api_base, folder, Clock(child.pid)))
    finally:
        child.stdin.close()
        child.wait(timeout=10)
    return 0 if print_summary(args, result) else 1


if __name__ == "__main__":
    sys.exit(main())
