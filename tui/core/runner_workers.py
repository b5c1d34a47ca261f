"""Worker processes that send a run's requests, so that a big run uses every core.

LiteLLM 1.110.2 spends about 9 ms of CPU on each call (see docs/benchmarks.md),
so one process that sends many requests at once keeps one core busy, and each
response waits for the CPU. A WorkerPool spawns processes, each with its own
event loop, its own LLMClient and a share of the run's concurrency. The parent
process:

- hands out the jobs a few at a time, so a worker that finishes sooner gets more;
- serves cached and duplicate requests itself, so a request is sent only once;
- alone prices the results, writes the cache and the sample file, and keeps the
  progress counts;
- on cancellation sends each worker a cancel message, so it abandons its
  requests in flight, and records every result finished before that.

A worker is a new interpreter (`python -m tui.core.runner_workers`), so it
copies no threads or event loops of the parent and never re-runs the parent's
main script, as multiprocessing's spawn method would. Each imports LiteLLM
itself (seconds of CPU, counted as start-up). Workers run in their own session
and ignore SIGINT, because Ctrl+C in a terminal reaches the whole foreground
process group, and the parent decides what a cancellation keeps. Pipes passed
by file descriptor need POSIX, so elsewhere runs stay in one process.

Messages are pickled, with a 4-byte length before each, through one pipe each
way per worker:

- parent to worker: ("run", RunOptions), ("jobs", [(index, ChatCall), ...]),
  ("cancel",), ("exit",);
- worker to parent: ("ready", whether `skip_unread_bookkeeping` applied),
  ("failed", text), ("cancelled",) and
  ("result", index, CallResult, retries sent since the last result). The
  parent's reader thread adds ("gone",) when a worker's pipe closes.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections import deque
from dataclasses import replace
from pathlib import Path

from .llm_cache import CompletionCache
from .runner import (
    CallResult,
    JobOutcome,
    LLMClient,
    OutputWriter,
    RunOptions,
    RunPlan,
    RunProgress,
    RunRecorder,
    RunReport,
    _fields_from_entry,
    _flush_periodically,
    environment_secrets,
    execute_run,
    load_litellm,
    output_cost,
    run_price_map,
    scrub_text,
)

# Jobs handed to a worker ahead of its free request slots, per slot, so that
# it starts the next request without waiting for the parent.
JOBS_AHEAD_PER_SLOT = 2

# Seconds the parent waits for the workers to confirm a cancellation, and for
# a worker to exit, before it terminates the process.
STOP_GRACE_S = 5.0

# The worker's command-line flag for `load_litellm(refresh_prices=True)`.
REFRESH_PRICES_ARG = "--refresh-prices"

_log = logging.getLogger(__name__)

# Numbers that tell one run's cancellation request from a stale one of another.
_run_numbers = itertools.count(1)


class WorkerError(RuntimeError):
    """A worker process failed to start or stopped responding."""


# --- the pool (parent side) -------------------------------------------------------


class WorkerPool:
    """Worker processes for runs: start once, use for one run or more, close.

    A pool belongs to the event loop that started it. One run at a time uses it.
    A run that raises (or whose task is cancelled) closes the pool, because its
    workers may still be busy with that run.
    """

    def __init__(self, processes: int = 2, *, refresh_prices: bool = False):
        if processes < 1:
            raise ValueError(f"a worker pool needs 1 process or more, got {processes}")
        self.size = processes
        self.refresh_prices = refresh_prices
        self.closed = False
        self.inbox: asyncio.Queue | None = None
        # Whether every worker turned off LiteLLM's unread bookkeeping
        # (`skip_unread_bookkeeping`); known once the pool has started.
        self.bookkeeping_skipped = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self._workers: list[_Worker] = []

    @property
    def pids(self) -> list[int]:
        return [worker.process.pid for worker in self._workers]

    @staticmethod
    def supported() -> bool:
        """Return whether worker processes can run here (POSIX pipes by number)."""
        return os.name == "posix"

    @property
    def workers(self) -> list[_Worker]:
        return self._workers

    async def start(self) -> WorkerPool:
        """Spawn the processes and wait until each has imported LiteLLM.

        Raises WorkerError, after closing the pool, when a worker fails to start.
        """
        if self.loop is not None:
            raise WorkerError("the worker pool was started already")
        self.loop = asyncio.get_running_loop()
        self.inbox = asyncio.Queue()
        try:
            for number in range(self.size):
                worker = _Worker.spawn(
                    number, self.refresh_prices, self.loop, self.inbox
                )
                self._workers.append(worker)
            skipped = await self._wait_until_ready()
        except BaseException:
            await self.close()
            raise
        self.bookkeeping_skipped = all(skipped)
        _log.info(
            "started %d worker processes: pids %s, LiteLLM bookkeeping skipped: %s",
            self.size,
            self.pids,
            self.bookkeeping_skipped,
        )
        return self

    async def _wait_until_ready(self) -> list[bool]:
        """Wait for every worker's "ready" and return whether each skipped the
        bookkeeping."""
        starting = set(range(self.size))
        skipped = []
        while starting:
            number, message = await self.inbox.get()
            if number is None:
                continue  # a cancellation request of an earlier run
            if message[0] == "ready":
                starting.discard(number)
                skipped.append(message[1])
            elif message[0] == "failed":
                raise WorkerError(f"worker process {number} failed: {message[1]}")
            elif message[0] == "gone":
                code = self._workers[number].exit_code()
                raise WorkerError(
                    f"worker process {number} exited with code {code} while starting"
                )
        return skipped

    async def close(self) -> None:
        """Ask every worker to exit, terminate those that do not, and wait for them."""
        if self.closed:
            return
        self.closed = True
        for worker in self._workers:
            worker.send(("exit",))
        await asyncio.to_thread(self._join_all)
        _log.info("stopped %d worker processes", len(self._workers))

    def _join_all(self) -> None:
        for worker in self._workers:
            worker.stop(STOP_GRACE_S)


class _Worker:
    """The parent's handle on one worker process: its pipes and reader thread."""

    def __init__(self, number: int, process, jobs: _Channel, results: _Channel):
        self.number = number
        self.process = process
        self.jobs = jobs
        self.results = results
        self.alive = True

    @classmethod
    def spawn(cls, number: int, refresh_prices: bool, loop, inbox) -> _Worker:
        jobs_read, jobs_write = os.pipe()
        results_read, results_write = os.pipe()
        command = [
            sys.executable,
            "-m",
            __name__,
            str(jobs_read),
            str(results_write),
        ]
        if refresh_prices:
            command.append(REFRESH_PRICES_ARG)
        try:
            # What the worker prints goes to the parent's log, not to the
            # terminal, where it would break the app's screen.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(jobs_read, results_write),
                env=_worker_environment(),
                start_new_session=True,
            )
        except BaseException:
            for fd in (jobs_write, results_read):
                os.close(fd)
            raise
        finally:
            # The child has its own copies now. Closing the parent's lets a
            # read end see EOF when the other process exits.
            os.close(jobs_read)
            os.close(results_write)

        results = _Channel(results_read, "rb")
        for target, args, name in (
            (_forward_messages, (results, number, loop, inbox), "reader"),
            (_log_output, (process.stdout, number), "output"),
        ):
            thread = threading.Thread(
                target=target,
                args=args,
                name=f"routebook-run-{name}-{number}",
                daemon=True,
            )
            thread.start()
        return cls(number, process, _Channel(jobs_write, "wb"), results)

    def send(self, message: tuple) -> bool:
        """Send a message and return True, or False when the worker's pipe is closed."""
        if not self.alive:
            return False
        try:
            self.jobs.send(message)
        except (OSError, ValueError):
            # The reader thread reports the exit as ("gone",).
            self.alive = False
            return False
        return True

    def exit_code(self) -> int | None:
        try:
            return self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace_s: float) -> None:
        self.alive = False
        self.jobs.close()
        try:
            self.process.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            _log.warning("worker process %d did not exit; terminating it", self.number)
        self.process.terminate()
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _log_output(stream, number: int) -> None:
    """Log each line a worker prints, scrubbed of secrets, until it exits."""
    secrets = environment_secrets()
    with stream:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                _log.warning("worker process %d: %s", number, scrub_text(line, secrets))


def _worker_environment() -> dict[str, str]:
    """Return the parent's environment with the folder of `tui` first on PYTHONPATH.

    The child then imports this code however the parent found it (installed,
    or from a checkout put on sys.path by a script).
    """
    root = str(Path(__file__).resolve().parents[2])
    environment = dict(os.environ)
    paths = [root, *filter(None, environment.get("PYTHONPATH", "").split(os.pathsep))]
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    return environment


class _Channel:
    """One direction of a pipe that carries pickled messages, each after its length."""

    _HEADER = struct.Struct("!I")

    def __init__(self, fd: int, mode: str):
        self._file = os.fdopen(fd, mode)
        self._lock = threading.Lock()

    def send(self, message: tuple) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._file.write(self._HEADER.pack(len(data)) + data)
            self._file.flush()

    def recv(self) -> tuple:
        """Return the next message, or raise EOFError when the pipe is closed."""
        header = self._file.read(self._HEADER.size)
        if len(header) < self._HEADER.size:
            raise EOFError("the pipe is closed")
        (length,) = self._HEADER.unpack(header)
        data = self._file.read(length)
        if len(data) < length:
            raise EOFError("the pipe closed inside a message")
        return pickle.loads(data)

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass  # the other end is gone, so unflushed bytes have no reader


def _forward_messages(channel: _Channel, number, loop, inbox) -> None:
    """Move messages from a pipe to an asyncio queue until the pipe closes.

    Each pipe gets a thread, so a message bigger than the pipe's buffer is
    read whole and the event loop does not wait on the read.
    """
    while True:
        try:
            message = channel.recv()
        except (EOFError, OSError, ValueError):
            message = ("gone",)
        try:
            loop.call_soon_threadsafe(inbox.put_nowait, (number, message))
        except RuntimeError:
            return  # the event loop is closed, so no one reads any more
        if message[0] == "gone":
            channel.close()
            return


# --- running a plan in a pool (parent side) -----------------------------------------


async def run_in_new_workers(
    plan: RunPlan, options: RunOptions, processes: int, *, progress=None, cancel=None
) -> RunReport:
    """Start a pool of `processes` workers, run the plan in it, and close it.

    A cancellation while the workers start (importing LiteLLM takes seconds)
    stops them and returns a cancelled report with nothing sent.
    """
    pool = WorkerPool(processes, refresh_prices=options.refresh_prices)
    try:
        started = await _start_unless_cancelled(pool, cancel)
    except OSError as error:
        # The system could not start a process (a process or memory limit, for
        # example). One process can still send everything, only slower.
        _log.warning("worker processes failed to start (%s); sending from here", error)
        await pool.close()
        in_process = replace(options, processes=1)
        return await execute_run(plan, in_process, progress=progress, cancel=cancel)

    try:
        if not started:
            tracker = RunProgress(total=len(plan.jobs))
            return RunReport([], tracker, cancelled=True, processes=processes)
        return await run_in_workers(
            plan, options, pool, progress=progress, cancel=cancel
        )
    finally:
        await pool.close()


async def _start_unless_cancelled(pool: WorkerPool, cancel) -> bool:
    if cancel is None:
        await pool.start()
        return True

    starting = asyncio.create_task(pool.start())
    waiter = asyncio.create_task(cancel.wait())
    try:
        await asyncio.wait({starting, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if starting.done():
        starting.result()  # re-raise a start-up failure
        return True
    starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
    return False


async def run_in_workers(
    plan: RunPlan,
    options: RunOptions,
    pool: WorkerPool,
    *,
    progress=None,
    cancel: asyncio.Event | None = None,
) -> RunReport:
    """Send the plan's jobs from a started pool; see runner.execute_run."""
    if pool.closed or pool.inbox is None:
        raise WorkerError("the worker pool is not started, or closed")
    if pool.loop is not asyncio.get_running_loop():
        # Its reader threads deliver to the loop that started it.
        raise WorkerError("the worker pool belongs to another event loop")

    tracker = RunProgress(total=len(plan.jobs))
    price_map = await asyncio.to_thread(run_price_map, options)
    writer = OutputWriter(plan.sample_path, options.flush_every)
    recorder = RunRecorder(tracker, writer, progress)
    run = _PoolRun(plan, options, pool, CompletionCache(), price_map, recorder)

    flusher = asyncio.create_task(_flush_periodically(writer, options.flush_interval_s))
    watcher = asyncio.create_task(run.forward_cancel(cancel))
    try:
        cancelled = await run.drive()
    except BaseException:
        await pool.close()
        raise
    finally:
        flusher.cancel()
        watcher.cancel()
        await asyncio.gather(flusher, watcher, *run.flushes, return_exceptions=True)
        writer.close()

    return RunReport(
        recorder.outcomes,
        tracker,
        cancelled,
        writer.written,
        writer.errors,
        processes=pool.size,
    )


class _PoolRun:
    """One run's dispatch state in the parent: what is pending, sent and waiting."""

    def __init__(self, plan, options, pool, cache, price_map, recorder):
        self.jobs = plan.jobs
        self.options = options
        self.pool = pool
        self.workers = pool.workers
        self.cache = cache
        self.price_map = price_map
        self.recorder = recorder
        self.pending = deque(range(len(plan.jobs)))
        self.sending: set[str] = set()  # cache keys of the jobs a worker has
        self.waiting: dict[str, list[int]] = {}  # key -> duplicates of a sent job
        self.outstanding = [set() for _ in self.workers]
        self.limits = _slots_per_worker(options.concurrency, self.workers)
        self.number = next(_run_numbers)
        self.cancelled = False
        self.cancel_unconfirmed: set[int] = set()
        self.flushes: set[asyncio.Task] = set()

    async def forward_cancel(self, cancel) -> None:
        """Put a cancellation into the pool's queue, where `drive` reads it."""
        if cancel is None:
            return
        await cancel.wait()
        self.pool.inbox.put_nowait((None, ("cancel", self.number)))

    async def drive(self) -> bool:
        """Dispatch jobs and record results until done, and return whether cancelled."""
        for worker, limit in zip(self.workers, self.limits, strict=True):
            if limit:
                worker.send(("run", replace(self.options, concurrency=limit)))
        if not any(self.limits):
            self._fail_pending("not sent: every worker process has exited")
        self._fill()

        while self._busy():
            number, message = await self._next_message()
            if number is None:
                if message == ("cancel", self.number):
                    self._cancel()
                continue
            self._handle(number, message)
        return self.cancelled

    def _busy(self) -> bool:
        if self.cancelled:
            return bool(self.cancel_unconfirmed)
        return bool(self.pending or any(self.outstanding))

    async def _next_message(self):
        if not self.cancelled:
            return await self.pool.inbox.get()
        try:
            return await asyncio.wait_for(self.pool.inbox.get(), STOP_GRACE_S)
        except TimeoutError:
            # A worker that does not confirm within the grace period is stopped,
            # so the run can end. Its unfinished requests count as abandoned.
            for number in sorted(self.cancel_unconfirmed):
                _log.warning(
                    "worker process %d did not confirm the cancellation within"
                    " %g s; stopping it",
                    number,
                    STOP_GRACE_S,
                )
                await asyncio.to_thread(self.workers[number].stop, 0.5)
            self.cancel_unconfirmed.clear()
            return None, ("timeout",)

    def _handle(self, number: int, message: tuple) -> None:
        kind = message[0]
        if kind == "result":
            self._record_result(number, *message[1:])
        elif kind == "cancelled":
            self.cancel_unconfirmed.discard(number)
        elif kind == "gone":
            self._lose_worker(number)
        if not self.cancelled:
            self._fill()

    def _record_result(self, number: int, index: int, result, retries: int) -> None:
        self.outstanding[number].discard(index)
        self.recorder.tracker.retries += retries
        job = self.jobs[index]
        key = job.call.key
        self.sending.discard(key)
        if result.ok:
            result.fields["cost"] = output_cost(self.price_map, job.call, result.fields)
            self.cache.put(key, result.fields)

        self.recorder.record(JobOutcome(job, result))
        self._record_waiting(key, result)
        if self.recorder.writer.due():
            task = asyncio.create_task(self.recorder.writer.flush())
            self.flushes.add(task)
            task.add_done_callback(self.flushes.discard)

    def _record_waiting(self, key: str, result) -> None:
        for index in self.waiting.pop(key, []):
            # Duplicates share the sent copy's result, as LLMClient.complete does.
            shared = CallResult(result.fields, result.error, result.status, 0, True)
            self.recorder.record(JobOutcome(self.jobs[index], shared))

    def _lose_worker(self, number: int) -> None:
        worker = self.workers[number]
        worker.alive = False
        self.cancel_unconfirmed.discard(number)
        if self.cancelled:
            # Its requests were abandoned with the run, so none of them failed.
            self.outstanding[number].clear()
            return
        code = worker.exit_code()
        _log.warning(
            "worker process %d exited with code %s; %d requests in flight failed",
            number,
            code,
            len(self.outstanding[number]),
        )
        error = f"the worker process sending it exited with code {code}"
        for index in sorted(self.outstanding[number]):
            self._record_result(number, index, CallResult(None, error), 0)

        if not any(worker.alive for worker in self.workers):
            self._fail_pending("not sent: every worker process has exited")

    def _fail_pending(self, error: str) -> None:
        while self.pending:
            job = self.jobs[self.pending.popleft()]
            self.recorder.record(JobOutcome(job, CallResult(None, error)))
        for key in list(self.waiting):
            self._record_waiting(key, CallResult(None, error))

    def _cancel(self) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        self.pending.clear()
        self.waiting.clear()
        for worker in self.workers:
            if worker.send(("cancel",)):
                self.cancel_unconfirmed.add(worker.number)

    def _fill(self) -> None:
        """Hand out pending jobs, in turn, to every worker with room for more."""
        batches: dict[int, list] = {worker.number: [] for worker in self.workers}
        assigned = True
        while assigned and self.pending:
            assigned = False
            for worker in self.workers:
                if not worker.alive or not self._has_room(worker.number):
                    continue
                index = self._next_to_send()
                if index is None:
                    break
                batches[worker.number].append((index, self.jobs[index].call))
                self.outstanding[worker.number].add(index)
                assigned = True

        for number, batch in batches.items():
            if batch:
                self.workers[number].send(("jobs", batch))

    def _has_room(self, number: int) -> bool:
        room = self.limits[number] * JOBS_AHEAD_PER_SLOT
        return len(self.outstanding[number]) < room

    def _next_to_send(self) -> int | None:
        """Return the next job to send, or None.

        Cached jobs met on the way are recorded, and duplicates of a job in
        flight are queued to share its result.
        """
        while self.pending:
            index = self.pending.popleft()
            job = self.jobs[index]
            key = job.call.key
            if key in self.sending:
                self.waiting.setdefault(key, []).append(index)
                continue
            if not self.options.force or job.duplicate:
                entry = self.cache.get(key)
                if entry is not None:
                    result = CallResult(_fields_from_entry(entry), from_cache=True)
                    self.recorder.record(JobOutcome(job, result))
                    continue
            self.sending.add(key)
            return index
        return None


def _slots_per_worker(total: int, workers: list[_Worker]) -> list[int]:
    """Split `total` request slots over the live workers, as evenly as possible."""
    alive = [worker.number for worker in workers if worker.alive]
    slots = [0] * len(workers)
    for position, number in enumerate(alive):
        share, extra = divmod(total, len(alive))
        slots[number] = share + (1 if position < extra else 0)
    return slots


# --- the worker process -----------------------------------------------------------


def worker_main(jobs: _Channel, results: _Channel, refresh_prices: bool) -> None:
    """Serve jobs from the parent until it sends "exit" or its pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        load_litellm(refresh_prices)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises
        text = scrub_text(f"{type(error).__name__}: {error}", environment_secrets())
        results.send(("failed", text))
        return

    skipped = skip_unread_bookkeeping()
    # LiteLLM's import leaves about 400,000 objects that live as long as the
    # process. A full garbage collection walks all of them (0.21 s once in a
    # 200-call run with LiteLLM 1.110.2 on the development machine), so
    # freezing them keeps such pauses out of the run. This process runs
    # nothing but the runner.
    gc.collect()
    gc.freeze()
    results.send(("ready", skipped))
    asyncio.run(_serve(jobs, results))


def skip_unread_bookkeeping() -> bool:
    """Turn off LiteLLM's per-call cost calculation and success logging, here only.

    The two take about a quarter of LiteLLM's CPU per call: about 2 ms of 9 ms
    with LiteLLM 1.110.2 against the stub server on the development machine
    (scripts/bench_runner.py --compare-bookkeeping). The runner reads neither
    result. It prices outputs with its own map, and `load_litellm` removes
    every success callback, so the logging payload has no reader. LiteLLM has
    no setting for either, so this replaces the two methods of its `Logging`
    class. That changes LiteLLM for the whole process, which is why only worker
    processes, which run nothing else, call it. Returns False, changing
    nothing, when the methods are not where LiteLLM 1.110.2 has them.
    """
    try:
        from litellm.litellm_core_utils.litellm_logging import Logging
    except ImportError:
        return False
    names = ("response_cost_calculator", "async_success_handler")
    if not all(callable(getattr(Logging, name, None)) for name in names):
        return False

    Logging.response_cost_calculator = _no_response_cost
    Logging.async_success_handler = _no_success_logging
    return True


def _no_response_cost(self, *args, **kwargs) -> None:
    # LiteLLM treats None as an unknown cost, and its own readers fall back to 0.
    return None


async def _no_success_logging(self, *args, **kwargs) -> None:
    return None


async def _serve(jobs: _Channel, results: _Channel) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue = asyncio.Queue()
    reader = threading.Thread(
        target=_forward_messages,
        args=(jobs, None, loop, inbox),
        name="routebook-run-jobs",
        daemon=True,
    )
    reader.start()
    server = _JobServer(LLMClient(priced=False), results, inbox)

    while True:
        _, message = await inbox.get()
        kind = message[0]
        if kind == "run":
            server.configure(message[1])
        elif kind == "jobs":
            server.add(message[1])
        elif kind == "cancel":
            await server.cancel()
            server.reply(("cancelled",))
        else:  # "exit", or "gone" when the parent's pipe closed
            await server.cancel()
            return


class _JobServer:
    """Sends the jobs a worker received, at most `limit` at a time."""

    def __init__(self, client: LLMClient, results: _Channel, inbox: asyncio.Queue):
        self.client = client
        self.results = results
        self.inbox = inbox
        self.limit = 1
        self.queue: deque = deque()
        self.tasks: set[asyncio.Task] = set()
        self.retries_reported = 0

    def configure(self, options: RunOptions) -> None:
        self.client.options = options
        self.limit = max(1, options.concurrency)

    def add(self, jobs: list) -> None:
        self.queue.extend(jobs)
        self._start_more()

    def _start_more(self) -> None:
        while self.queue and len(self.tasks) < self.limit:
            index, call = self.queue.popleft()
            self.tasks.add(asyncio.create_task(self._send(index, call)))

    async def _send(self, index: int, call) -> None:
        try:
            result = await self.client.send(call)
        except Exception as error:  # noqa: BLE001 - becomes this request's failure
            text = f"unexpected error: {type(error).__name__}: {error}"
            result = CallResult(None, self.client.scrub(text))

        retries = self.client.retries - self.retries_reported
        self.retries_reported = self.client.retries
        self.reply(("result", index, result, retries))
        self.tasks.discard(asyncio.current_task())
        self._start_more()

    def reply(self, message: tuple) -> None:
        try:
            self.results.send(message)
        except (OSError, ValueError):
            # The parent is gone, so nothing it asked for matters any more.
            self.inbox.put_nowait((None, ("gone",)))

    async def cancel(self) -> None:
        self.queue.clear()
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()


def _main(arguments: list[str]) -> int:
    jobs = _Channel(int(arguments[0]), "rb")
    results = _Channel(int(arguments[1]), "wb")
    worker_main(jobs, results, REFRESH_PRICES_ARG in arguments[2:])
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
