"""Benchmark `routebook run` against the local stub server, and LiteLLM alone.

    .venv/bin/python scripts/bench_runner.py [--requests 200] [--concurrency 16]
        [--latency 0.1] [--model openai/gpt-4o-mini] [--profile]

The stub server (tests/openai_stub.py) runs in a child process on 127.0.0.1 and
responds to every request after `--latency` seconds, so the ideal time of a run is
ceil(requests / concurrency) * latency. Three timings are printed:

- `litellm only`: bare `litellm.acompletion` calls under a semaphore, the floor
  that LiteLLM's own per-call overhead sets;
- `runner`: `plan_run` + `execute_run` on a fresh sample and an empty cache,
  which adds the estimate, the disk cache and batched sample writes;
- `runner, cached`: the same plan again, served from the cache.

LiteLLM's import and one warm-up round (the first calls create its HTTP
clients) are timed separately as start-up. With --profile, the top functions of
the runner timing are printed from cProfile. Exit status 1 when the runner
takes longer than --target times the ideal.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import os
import pstats
import subprocess
import sys
import tempfile
import time
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
    parser.add_argument("--target", type=float, default=1.3, help="allowed x ideal")
    parser.add_argument("--profile", action="store_true")
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


def timed(function, *args) -> tuple[float, float]:
    """Return the wall-clock and CPU seconds (this process, all threads) of a call."""
    started = time.perf_counter()
    cpu_started = time.process_time()
    function(*args)
    return time.perf_counter() - started, time.process_time() - cpu_started


def main() -> int:
    args = parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
    folder = Path(tempfile.mkdtemp(prefix="routebook-bench-"))
    os.environ["ROUTEBOOK_CACHE_DIR"] = str(folder / "cache")

    from tui.core.runner import RunOptions, execute_run, load_litellm, plan_run

    child, api_base = start_stub(args.latency)
    try:
        import_s, _ = timed(load_litellm)
        options = RunOptions(concurrency=args.concurrency, timeout_s=30)

        def run_plan(tag: str, count: int, profiler=None):
            policy, sample = write_inputs(folder, api_base, args.model, count, tag)
            plan = plan_run(policy, sample)
            if profiler:
                profiler.enable()
            report = asyncio.run(execute_run(plan, options))
            if profiler:
                profiler.disable()
            assert report.progress.failed == 0, report.failures[:3]
            return policy, sample

        warmup_s, _ = timed(run_plan, "warmup", args.concurrency)
        bare = timed(
            lambda: asyncio.run(
                litellm_only(api_base, args.model, args.requests, args.concurrency)
            )
        )
        profiler = cProfile.Profile() if args.profile else None
        runner = timed(run_plan, "timed", args.requests, profiler)

        # The same requests again: the disk cache serves every response.
        policy, _ = write_inputs(folder, api_base, args.model, args.requests, "timed")
        from tui.core.samples import load_sample

        cached_plan = plan_run(policy, load_sample(folder / "sample-timed.jsonl"))
        cached = timed(lambda: asyncio.run(execute_run(cached_plan, options)))
    finally:
        child.stdin.close()
        child.wait(timeout=10)

    ideal = math.ceil(args.requests / args.concurrency) * args.latency
    print(
        f"{args.requests} requests, concurrency {args.concurrency},"
        f" {args.latency * 1000:g} ms per reply, model {args.model},"
        f" {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"start-up: import LiteLLM {import_s:.2f} s, warm-up round {warmup_s:.2f} s")
    print(f"ideal              {ideal:6.2f} s")
    for name, (seconds, cpu) in (
        ("litellm only", bare),
        ("runner", runner),
        ("runner, cached", cached),
    ):
        cpu_per_call = cpu / args.requests * 1000
        print(
            f"{name:<18} {seconds:6.2f} s  {seconds / ideal:5.2f}x ideal"
            f"  CPU {cpu_per_call:5.1f} ms per request"
        )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

    within = runner[0] <= args.target * ideal
    print(f"runner within {args.target}x ideal: {'yes' if within else 'no'}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
