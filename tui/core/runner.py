"""Live outputs: send a sample's prompts to the policy's models through LiteLLM.

Two steps, so that a caller can show the cost before spending anything:

    plan = plan_run(policy, sample)            # offline: jobs, tokens, estimate
    report = await execute_run(plan, options,  # sends, retries, records
                               progress=callback, cancel=event)

`execute_run` runs inside any asyncio loop (the CLI's `asyncio.run`, or a
worker of the app). It sends at most `options.concurrency` requests at a time,
retries 429 and 5xx responses with exponential backoff and jitter (honouring
`retry-after`), and writes outputs into the sample file in batches while it
runs, so a cancellation keeps every completed output. Each result also goes to
the disk cache (llm_cache), which makes a rerun send nothing. A big run sends
its requests from worker processes (runner_workers) so that it uses every CPU
core, and this process alone writes the sample file and the cache.

LiteLLM is imported by `load_litellm`, only when a run starts: importing it
takes seconds. API keys come from the environment (LiteLLM's usual variables,
or the variable a model's `api_key_env` parameter names). They are passed to
LiteLLM and nowhere else: not to the sample, the cache, or any error message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property

from .llm_cache import CompletionCache, cache_key, is_secret_param
from .problems import InputError

DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_BACKOFF_BASE_S = 0.5
DEFAULT_BACKOFF_MAX_S = 60.0

# Completion length assumed for the cost estimate when neither the request's
# other recorded outputs nor the model's max_tokens give one.
DEFAULT_COMPLETION_TOKENS = 256

# Outputs are written to the sample file after this many results or this many
# seconds, whichever comes first, and once more when the run stops.
FLUSH_EVERY = 50
FLUSH_INTERVAL_S = 1.0

# A run with more requests to send than this starts worker processes, up to
# MAX_AUTO_PROCESSES, because LiteLLM spends about 9 ms of CPU per call and one
# process then keeps one core busy. Each worker imports LiteLLM again (seconds
# of CPU and about 200 MB of memory), which smaller runs would not win back.
WORKER_MIN_REQUESTS = 50
MAX_AUTO_PROCESSES = 2

# The parameter that names the environment variable holding an alias's API key.
API_KEY_ENV_PARAM = "api_key_env"
# LiteLLM's proxy-config spelling of the same thing: `api_key: os.environ/NAME`.
_ENV_REFERENCE = "os.environ/"

# Fields that describe a grade of the previous output; a new text voids them.
GRADE_FIELDS = ("grade", "grade_source", "graded_by", "graded_at", "grade_detail")

# Call parameters the runner sets itself; the same keys in a policy's params are
# ignored. Responses are read whole, so streaming is off.
_RUNNER_CONTROLLED = frozenset(
    {"timeout", "request_timeout", "max_retries", "num_retries", "stream"}
)

_log = logging.getLogger(__name__)


# --- LiteLLM ------------------------------------------------------------------

_litellm = None


def load_litellm(refresh_prices: bool = False):
    """Import and configure LiteLLM once: offline price map, no telemetry or noise.

    Unless `refresh_prices` is set, LiteLLM reads the price map bundled with it
    instead of downloading the current one. A variable the user already set wins.
    Only the first call imports, so its `refresh_prices` decides for the process.
    """
    global _litellm
    if _litellm is not None:
        return _litellm

    if not refresh_prices:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        # LiteLLM 1.110 reads this to skip every catalog it would fetch itself.
        os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    os.environ.setdefault("LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "True")

    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    # `turn_off_message_logging` stays off: with no callbacks nothing is logged
    # anyway, and turning it on deep-copies every call's logging payload to
    # redact it (1 to 3 ms of CPU a call in LiteLLM 1.110.2, measured with
    # scripts/bench_runner.py on 2 cores).
    litellm.disable_hf_tokenizer_download = True
    litellm.success_callback = []
    litellm.failure_callback = []
    litellm.callbacks = []
    # LiteLLM logs failures that the runner reports itself, with keys scrubbed.
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    _litellm = litellm
    return litellm


def refreshed_price_map():
    """Return a PriceMap over LiteLLM's in-memory map, downloaded afresh."""
    from .pricing import PriceMap

    litellm = load_litellm(refresh_prices=True)
    # NOTE: when the download fails, LiteLLM keeps its bundled map, and this
    # label does not say so.
    return PriceMap(dict(litellm.model_cost), source="LiteLLM's current price map")


# --- secrets ------------------------------------------------------------------

_SECRET_ENV_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[^\s'\",]+", re.IGNORECASE)
_KEY_SHAPED = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{6,}")
# Shorter values are too likely to occur in ordinary text to be replaced.
_MIN_SECRET_LENGTH = 8
REDACTED = "[redacted]"


def environment_secrets() -> set[str]:
    """Return values of environment variables whose names suggest a credential."""
    return {
        value
        for name, value in os.environ.items()
        if _SECRET_ENV_NAME.search(name) and len(value) >= _MIN_SECRET_LENGTH
    }


def scrub_text(text: str, secrets: set[str] | frozenset[str]) -> str:
    """Replace every known secret, bearer token and key-shaped word with [redacted]."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    text = _BEARER.sub(lambda match: match.group(1) + REDACTED, text)
    return _KEY_SHAPED.sub(REDACTED, text)


def resolve_call_params(alias: str, params: dict) -> tuple[dict, set[str]]:
    """Return the keyword arguments for LiteLLM and the secret values among them.

    `api_key_env: NAME` and `api_key: os.environ/NAME` read the key from the
    environment. Raises InputError naming the variable when it is not set.
    """
    resolved = dict(params)
    env_name = resolved.pop(API_KEY_ENV_PARAM, None)
    api_key = resolved.get("api_key")
    if isinstance(api_key, str) and api_key.startswith(_ENV_REFERENCE):
        env_name = api_key[len(_ENV_REFERENCE) :]

    if env_name is not None:
        value = os.environ.get(str(env_name))
        if not value:
            raise InputError(
                f"model alias '{alias}' reads its API key from the environment"
                f" variable {env_name}, which is not set; export {env_name} and"
                " run again"
            )
        resolved["api_key"] = value

    secrets = {
        value
        for name, value in resolved.items()
        if is_secret_param(str(name)) and isinstance(value, str) and value
    }
    return resolved, secrets


# --- planning -------------------------------------------------------------------


@dataclass(frozen=True)
class ChatCall:
    """One chat completion to send: model string, messages and policy params."""

    model: str
    messages: list
    params: dict
    alias: str = ""
    price: dict | None = None

    @cached_property
    def key(self) -> str:
        """Return the cache key, hashed once because the plan and the send read it."""
        return cache_key(self.model, self.messages, self.params)


@dataclass
class Job:
    """One output to fill in: a request sent to one model alias."""

    request_id: str
    call: ChatCall
    prompt_tokens: int
    completion_tokens: int  # estimated
    completion_basis: str  # "recorded output", "max_tokens" or "default"
    previous_text: str | None = None
    cached: bool = False
    duplicate: bool = False

    @property
    def alias(self) -> str:
        return self.call.alias

    @property
    def model(self) -> str:
        return self.call.model


@dataclass
class ModelEstimate:
    """The requests a run sends to one model, with their estimated tokens and cost."""

    alias: str
    model: str
    to_send: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None when the model has no price
    completion_basis: Counter = field(default_factory=Counter)


@dataclass
class RunPlan:
    """The jobs of a run and its cost estimate, computed without sending anything."""

    sample_path: str
    jobs: list[Job]
    estimates: dict[str, ModelEstimate]
    already_recorded: int
    price_source: str = "LiteLLM's bundled price map"
    warnings: list[str] = field(default_factory=list)

    @property
    def to_send(self) -> int:
        return sum(estimate.to_send for estimate in self.estimates.values())

    @property
    def known_cost_usd(self) -> float:
        """Return the estimated cost of the models that have a price."""
        return sum(
            estimate.cost_usd
            for estimate in self.estimates.values()
            if estimate.cost_usd is not None
        )

    @property
    def unpriced_models(self) -> list[str]:
        return [
            estimate.model
            for estimate in self.estimates.values()
            if estimate.cost_usd is None and estimate.to_send
        ]


def request_messages(request) -> list:
    """Return a request's chat messages; a prompt becomes one user message."""
    if request.messages is not None:
        return request.messages
    return [{"role": "user", "content": request.prompt or ""}]


def select_aliases(policy, aliases: list[str] | None) -> list[str]:
    """Return the aliases to run (all by default); reject unknown and clashing ones."""
    chosen = list(policy.models) if not aliases else list(dict.fromkeys(aliases))
    unknown = [alias for alias in chosen if alias not in policy.models]
    if unknown:
        raise InputError(
            f"unknown model alias {', '.join(map(repr, unknown))}; the policy"
            f" defines: {', '.join(policy.models)}"
        )

    by_model: dict[str, str] = {}
    for alias in chosen:
        model = policy.models[alias].model
        if model in by_model:
            raise InputError(
                f"aliases '{by_model[model]}' and '{alias}' both use model '{model}',"
                " and outputs are stored per model string; pick one of them with"
                " --models"
            )
        by_model[model] = alias
    return chosen


def plan_run(
    policy,
    sample,
    *,
    aliases: list[str] | None = None,
    force: bool = False,
    cache: CompletionCache | None = None,
    price_map=None,
) -> RunPlan:
    """List the outputs to request and estimate their tokens and cost.

    Only outputs with no recorded text are requested unless `force` is set. A
    request whose response is cached costs nothing; with `force` the cache
    is bypassed. Raises InputError for unknown aliases and missing API keys.
    """
    from . import pricing

    chosen = select_aliases(policy, aliases)
    warnings = []
    for alias in chosen:
        resolve_call_params(alias, policy.models[alias].params)
        warnings.extend(_literal_secret_warnings(alias, policy.models[alias].params))
    cache = cache if cache is not None else CompletionCache()
    prices = price_map if price_map is not None else pricing.default_price_map()

    estimates = {
        alias: ModelEstimate(alias, policy.models[alias].model) for alias in chosen
    }
    jobs: list[Job] = []
    already = 0
    seen_keys: set[str] = set()
    for request in sample.requests:
        for alias in chosen:
            spec = policy.models[alias]
            recorded = request.outputs.get(spec.model)
            if not force and recorded is not None and recorded.text is not None:
                already += 1
                continue
            job = _job_for(request, spec, policy, chosen)
            _mark_free(job, cache, seen_keys, force)
            jobs.append(job)
            _add_to_estimate(estimates[alias], job, spec, prices)

    source = _price_source(prices)
    return RunPlan(str(sample.path), jobs, estimates, already, source, warnings)


def _literal_secret_warnings(alias: str, params: dict) -> list[str]:
    warnings = []
    for name, value in params.items():
        literal = isinstance(value, str) and not value.startswith(_ENV_REFERENCE)
        if is_secret_param(str(name)) and literal:
            warnings.append(
                f"model alias '{alias}' has a literal {name} in the policy, which is"
                " usually committed; set the key in an environment variable and"
                f" write {API_KEY_ENV_PARAM}: VARIABLE_NAME instead"
            )
    return warnings


def _price_source(prices) -> str:
    from .pricing import PRICE_MAP_ENV, PRICE_MAP_FILE_NAME

    source = str(getattr(prices, "source", ""))
    if source.endswith(PRICE_MAP_FILE_NAME) and not os.environ.get(PRICE_MAP_ENV):
        return "LiteLLM's bundled price map"
    return source


def _job_for(request, spec, policy, chosen: list[str]) -> Job:
    from .tokens import count_request_tokens

    messages = request_messages(request)
    call = ChatCall(spec.model, messages, dict(spec.params), spec.alias, spec.price)
    prompt_tokens = count_request_tokens(messages, spec.model).tokens
    completion, basis = _completion_estimate(request, spec, policy, chosen)
    recorded = request.outputs.get(spec.model)
    previous = recorded.text if recorded is not None else None
    return Job(request.id, call, prompt_tokens, completion, basis, previous)


def _completion_estimate(request, spec, policy, chosen) -> tuple[int, str]:
    """Estimate completion tokens: another model's recorded output, else max_tokens."""
    from .tokens import count_text_tokens

    cap = max_tokens_param(spec.params)
    order = [alias for alias in chosen if alias != spec.alias]
    order += [alias for alias in policy.models if alias not in order]
    for alias in order:
        other = policy.models[alias].model
        output = request.outputs.get(other)
        if other == spec.model or output is None:
            continue
        if output.completion_tokens is not None:
            tokens = output.completion_tokens
        elif output.text is not None:
            tokens = count_text_tokens(output.text, spec.model)
        else:
            continue
        if cap is not None:
            tokens = min(tokens, cap)
        return tokens, "recorded output"

    if cap is not None:
        return cap, "max_tokens"
    return DEFAULT_COMPLETION_TOKENS, "default"


def max_tokens_param(params: dict) -> int | None:
    """Return the completion token limit a model's params set, if any."""
    for name in ("max_tokens", "max_completion_tokens"):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _mark_free(job: Job, cache: CompletionCache, seen: set[str], force: bool):
    key = job.call.key
    if key in seen:
        job.duplicate = True
        return
    seen.add(key)
    if not force and key in cache:
        job.cached = True


def _add_to_estimate(estimate: ModelEstimate, job: Job, spec, prices) -> None:
    if job.cached or job.duplicate:
        estimate.cached += 1
        return

    estimate.to_send += 1
    estimate.prompt_tokens += job.prompt_tokens
    estimate.completion_tokens += job.completion_tokens
    estimate.completion_basis[job.completion_basis] += 1
    if estimate.cost_usd is None:
        return
    cost = prices.cost_with_override(
        spec.model, job.prompt_tokens, job.completion_tokens, spec.price
    )
    estimate.cost_usd = None if cost is None else estimate.cost_usd + cost


# --- sending ----------------------------------------------------------------------


@dataclass
class RunOptions:
    """Settings for sending a run's requests. Times are in seconds."""

    concurrency: int = DEFAULT_CONCURRENCY
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    backoff_max_s: float = DEFAULT_BACKOFF_MAX_S
    flush_every: int = FLUSH_EVERY
    flush_interval_s: float = FLUSH_INTERVAL_S
    force: bool = False
    refresh_prices: bool = False
    # Processes that send the requests: 1 sends them from this process, N > 1
    # from N worker processes. None lets `process_count` choose by the run's size.
    processes: int | None = None


@dataclass
class CallResult:
    """The outcome of one chat completion: recorded fields, or an error."""

    fields: dict | None
    error: str | None = None
    status: int | None = None
    attempts: int = 0
    from_cache: bool = False

    @property
    def ok(self) -> bool:
        return self.fields is not None


class LLMClient:
    """Sends chat completions through LiteLLM with a timeout, retries and a cache.

    Results are stored in the cache as they arrive. Identical calls in flight at
    the same time are sent once. Error messages are scrubbed of every API key
    found in the environment or in the call's parameters. With `priced=False`
    no price map is loaded and every result's `cost` is None, for a caller that
    prices results itself (the worker processes of a run).
    """

    def __init__(
        self,
        options: RunOptions | None = None,
        *,
        cache: CompletionCache | None = None,
        price_map=None,
        sleep: Callable = asyncio.sleep,
        priced: bool = True,
    ):
        self.options = options or RunOptions()
        self.cache = cache if cache is not None else CompletionCache()
        self._price_map = price_map
        self._priced = priced
        self._sleep = sleep
        self._litellm = None
        self._secrets = environment_secrets()
        self._inflight: dict[str, asyncio.Future] = {}
        self.retries = 0  # retries sent so far, for progress displays

    async def start(self) -> LLMClient:
        """Import LiteLLM in a worker thread so the event loop keeps running."""
        if self._litellm is None:
            refresh = self.options.refresh_prices
            self._litellm = await asyncio.to_thread(load_litellm, refresh)
        if self._priced and self._price_map is None:
            self._price_map = await asyncio.to_thread(run_price_map, self.options)
        return self

    def scrub(self, text: str, extra: set[str] | None = None) -> str:
        return scrub_text(text, self._secrets | (extra or set()))

    async def complete(self, call: ChatCall, *, use_cache: bool = True) -> CallResult:
        """Return the call's recorded fields, from the cache when allowed."""
        key = call.key
        if use_cache:
            entry = self.cache.get(key)
            if entry is not None:
                return CallResult(_fields_from_entry(entry), from_cache=True)

        pending = self._inflight.get(key)
        if pending is not None:
            result = await asyncio.shield(pending)
            return CallResult(result.fields, result.error, result.status, 0, True)

        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self.send(call)
            future.set_result(result)
        except BaseException:
            # Only cancellation gets here: the identical calls waiting on this
            # one are cancelled with it.
            future.cancel()
            raise
        finally:
            self._inflight.pop(key, None)

        if result.ok:
            self.cache.put(key, result.fields)
        return result

    async def send(self, call: ChatCall) -> CallResult:
        """Send one call, with retries and without the cache, and return its outcome."""
        await self.start()
        try:
            kwargs, secrets = resolve_call_params(call.alias, call.params)
        except InputError as error:
            return CallResult(None, str(error))

        attempts_allowed = 1 + max(0, self.options.max_retries)
        for attempt in range(1, attempts_allowed + 1):
            started = time.perf_counter()
            try:
                response = await self._send_once(call, kwargs)
            except Exception as error:
                status = _status_of(error, self._litellm)
                message = self._describe_error(error, status, secrets)
                if not _is_retryable(status) or attempt == attempts_allowed:
                    return CallResult(None, message, status, attempt)
                delay = self._retry_delay(attempt, retry_after_seconds(error))
                _log.info(
                    "retrying %s in %.2f s after attempt %d: %s",
                    call.model,
                    delay,
                    attempt,
                    message,
                )
                self.retries += 1
                await self._sleep(delay)
                continue

            latency = time.perf_counter() - started
            try:
                fields = self._fields_from_response(call, response, latency)
            except (AttributeError, IndexError, TypeError, ValueError) as error:
                text = f"unexpected response from the provider: {error}"
                message = self.scrub(text, secrets)
                return CallResult(None, message, 200, attempt)
            return CallResult(fields, status=200, attempts=attempt)
        raise AssertionError("unreachable: the last attempt always returns")

    async def _send_once(self, call: ChatCall, kwargs: dict):
        timeout = self.options.timeout_s
        request = self._litellm.acompletion(
            model=call.model,
            messages=call.messages,
            timeout=timeout,
            # Retries are done here, with backoff and retry-after, so LiteLLM
            # and the OpenAI SDK must not retry on their own as well.
            max_retries=0,
            num_retries=0,
            **{k: v for k, v in kwargs.items() if k not in _RUNNER_CONTROLLED},
        )
        # A provider client that ignores `timeout` is still stopped a little later.
        return await asyncio.wait_for(request, timeout + 5.0)

    def _retry_delay(self, attempt: int, retry_after: float | None) -> float:
        cap = self.options.backoff_max_s
        if retry_after is not None:
            # Waiting at least as long as the server asked, plus up to 10 %,
            # keeps concurrent retries from arriving together.
            return min(cap, retry_after * (1 + 0.1 * random.random()))
        backoff = min(cap, self.options.backoff_base_s * 2 ** (attempt - 1))
        return backoff / 2 + random.uniform(0, backoff / 2)

    def _describe_error(self, error: Exception, status: int | None, secrets) -> str:
        if isinstance(error, asyncio.TimeoutError) or _is_timeout(error, self._litellm):
            return f"timed out after {self.options.timeout_s:g} s"

        # Scrub before cutting, so that a cut can never leave part of a key.
        lines = self.scrub(str(error), secrets).strip().splitlines()
        text = lines[0] if lines else type(error).__name__
        if len(text) > 300:
            text = text[:297] + "..."
        prefix = f"HTTP {status}: " if status is not None else ""
        return prefix + text

    def _fields_from_response(self, call: ChatCall, response, latency: float) -> dict:
        choice = response.choices[0]
        text = getattr(choice.message, "content", None) or ""
        usage = getattr(response, "usage", None)
        prompt_tokens = getattr(usage, "prompt_tokens", None)
        completion_tokens = getattr(usage, "completion_tokens", None)
        if not isinstance(prompt_tokens, int) or not isinstance(completion_tokens, int):
            prompt_tokens, completion_tokens = _counted_usage(call, text)

        fields = {
            "text": text,
            "finish_reason": getattr(choice, "finish_reason", None),
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "latency_s": round(latency, 3),
            "cost": None,
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if self._priced:
            fields["cost"] = output_cost(self._price_map, call, fields)
        return fields


def run_price_map(options: RunOptions):
    """Return the price map for a run's costs, downloaded afresh with refresh_prices."""
    if options.refresh_prices:
        return refreshed_price_map()
    from .pricing import default_price_map

    return default_price_map()


def output_cost(price_map, call: ChatCall, fields: dict) -> float | None:
    """Return the USD cost of one recorded output, or None without a price."""
    cost = price_map.cost_with_override(
        call.model, fields["prompt_tokens"], fields["completion_tokens"], call.price
    )
    return None if cost is None else round(cost, 10)


def _fields_from_entry(entry: dict) -> dict:
    return {name: value for name, value in entry.items() if not name.startswith("_")}


def _counted_usage(call: ChatCall, text: str) -> tuple[int, int]:
    """Count tokens offline when the provider reported no usage."""
    from .tokens import count_request_tokens, count_text_tokens

    prompt = count_request_tokens(call.messages, call.model).tokens
    return prompt, count_text_tokens(text, call.model)


def _is_timeout(error: Exception, litellm) -> bool:
    if litellm is not None and isinstance(error, litellm.Timeout):
        return True
    return type(error).__name__ in ("APITimeoutError", "Timeout", "TimeoutError")


def _status_of(error: Exception, litellm) -> int | None:
    """Return the HTTP status of a failed call, or None for timeouts and no response."""
    if isinstance(error, asyncio.TimeoutError) or _is_timeout(error, litellm):
        return None
    # LiteLLM gives connection failures status 500 without any HTTP answer.
    if litellm is not None and isinstance(error, litellm.APIConnectionError):
        return None
    status = getattr(error, "status_code", None)
    if not isinstance(status, int) or isinstance(status, bool):
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return None
    # LiteLLM also reports client-side failures, such as a missing API key, as
    # InternalServerError 500. Only a response with headers proves a server
    # responded, so only then is a 5xx worth retrying.
    if 500 <= status <= 599 and not _response_headers(error):
        return None
    return status


def _response_headers(error: Exception):
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    return headers or getattr(error, "litellm_response_headers", None)


def _is_retryable(status: int | None) -> bool:
    return status == 429 or (status is not None and 500 <= status <= 599)


def retry_after_seconds(error: Exception) -> float | None:
    """Return the wait a failed call's `retry-after(-ms)` header requests, if any."""
    sources = []
    response = getattr(error, "response", None)
    if response is not None:
        sources.append(getattr(response, "headers", None))
    sources.append(getattr(error, "litellm_response_headers", None))

    for headers in sources:
        if not headers:
            continue
        milliseconds = _header(headers, "retry-after-ms")
        if milliseconds is not None:
            try:
                return max(0.0, float(milliseconds) / 1000)
            except ValueError:
                pass
        value = _header(headers, "retry-after")
        if value is not None:
            seconds = _parse_retry_after(value)
            if seconds is not None:
                return seconds
    return None


def _header(headers, name: str) -> str | None:
    try:
        value = headers.get(name)
    except AttributeError:
        return None
    if value is None and isinstance(headers, dict):
        for key, candidate in headers.items():
            if str(key).lower() == name:
                return str(candidate)
    return None if value is None else str(value)


def _parse_retry_after(value: str) -> float | None:
    """Parse seconds (`1.5`) or an HTTP date, as RFC 9110 allows both."""
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --- running a plan ---------------------------------------------------------------


@dataclass
class JobOutcome:
    """The result of one job."""

    job: Job
    result: CallResult

    @property
    def ok(self) -> bool:
        return self.result.ok


@dataclass
class RunProgress:
    """Counts so far; the callback gets this object, updated in place, per job."""

    total: int
    done: int = 0
    failed: int = 0
    from_cache: int = 0
    cost_usd: float = 0.0
    unpriced: int = 0  # finished outputs whose cost is unknown
    retries: int = 0
    last: JobOutcome | None = None

    @property
    def finished(self) -> int:
        return self.done + self.failed


@dataclass
class RunReport:
    """The end of a run: every outcome, and whether it was cancelled."""

    outcomes: list[JobOutcome]
    progress: RunProgress
    cancelled: bool = False
    written: int = 0
    write_errors: list[str] = field(default_factory=list)
    processes: int = 1  # processes that sent the requests (1: the caller's own)

    @property
    def failures(self) -> list[JobOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]


ProgressCallback = Callable[[RunProgress], None]


async def execute_run(
    plan: RunPlan,
    options: RunOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: asyncio.Event | None = None,
    client: LLMClient | None = None,
    workers=None,
) -> RunReport:
    """Send the plan's jobs and record each output in the sample file.

    Setting `cancel` stops the run: requests in flight are abandoned, every
    completed output is written, and the report has `cancelled` set. Cancelling
    the task that awaits this also writes completed outputs, then re-raises.

    The requests are sent from this process through `client`, or from the
    started `workers` (a runner_workers.WorkerPool, left running for the next
    run). Without either, `process_count` decides: a big run starts worker
    processes for itself and stops them at the end.
    """
    options = options or RunOptions()
    if not plan.jobs:
        return RunReport([], RunProgress(total=0))

    from . import runner_workers

    if workers is not None:
        return await runner_workers.run_in_workers(
            plan, options, workers, progress=progress, cancel=cancel
        )
    count = process_count(plan, options) if client is None else 1
    if count > 1:
        return await runner_workers.run_in_new_workers(
            plan, options, count, progress=progress, cancel=cancel
        )
    return await _run_in_process(plan, options, progress, cancel, client)


def process_count(plan: RunPlan, options: RunOptions) -> int:
    """Return how many processes should send the plan's requests (1: this one).

    `options.processes` decides when set. Otherwise a run with more than
    WORKER_MIN_REQUESTS requests to send uses one worker process per CPU core,
    at most MAX_AUTO_PROCESSES. No process gets less than one request slot.
    """
    if plan.to_send == 0 or os.name != "posix":
        # Workers get their pipes by file descriptor number, which needs POSIX.
        return 1
    requested = options.processes
    if requested is None:
        if plan.to_send <= WORKER_MIN_REQUESTS:
            return 1
        requested = min(MAX_AUTO_PROCESSES, available_cores())
    return max(1, min(requested, options.concurrency))


def available_cores() -> int:
    """Return the CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


async def _run_in_process(plan, options, progress, cancel, client) -> RunReport:
    tracker = RunProgress(total=len(plan.jobs))
    client = client or LLMClient(options)
    await client.start()

    writer = OutputWriter(plan.sample_path, options.flush_every)
    recorder = RunRecorder(tracker, writer, progress)

    def record(outcome: JobOutcome) -> None:
        tracker.retries = client.retries
        recorder.record(outcome)

    jobs = iter(plan.jobs)
    worker_count = max(1, min(options.concurrency, len(plan.jobs)))
    workers = [
        asyncio.create_task(_work(jobs, client, options, record, writer))
        for _ in range(worker_count)
    ]
    flusher = asyncio.create_task(_flush_periodically(writer, options.flush_interval_s))
    cancelled = False
    try:
        cancelled = await wait_for_workers(workers, cancel)
    finally:
        flusher.cancel()
        for worker in workers:
            worker.cancel()
        await asyncio.gather(flusher, *workers, return_exceptions=True)
        writer.close()

    return RunReport(
        recorder.outcomes, tracker, cancelled, writer.written, writer.errors
    )


class RunRecorder:
    """Outcomes of a run as they arrive, with counts, queued outputs and progress."""

    def __init__(self, tracker: RunProgress, writer, progress=None):
        self.tracker = tracker
        self.writer = writer
        self.progress = progress
        self.outcomes: list[JobOutcome] = []

    def record(self, outcome: JobOutcome) -> None:
        self.outcomes.append(outcome)
        _count(self.tracker, outcome)
        if outcome.ok:
            self.writer.add(outcome.job, outcome.result.fields)
        if self.progress is not None:
            self.progress(self.tracker)


async def wait_for_workers(workers: list[asyncio.Task], cancel) -> bool:
    """Wait for the workers; return True when `cancel` was set first."""
    all_done = asyncio.gather(*workers)
    if cancel is None:
        await all_done
        return False

    waiter = asyncio.create_task(cancel.wait())
    try:
        await asyncio.wait({all_done, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if all_done.done():
        all_done.result()  # re-raise a worker's unexpected error
        return False
    all_done.cancel()
    await asyncio.gather(all_done, return_exceptions=True)
    return True


async def _work(jobs: Iterator[Job], client, options, record, writer) -> None:
    # All workers share one iterator; the event loop runs one `next` at a time.
    for job in jobs:
        use_cache = not options.force
        if job.duplicate:
            # The first copy stores its answer in the cache before this one reads it.
            use_cache = True
        result = await client.complete(job.call, use_cache=use_cache)
        record(JobOutcome(job, result))
        if writer.due():
            await writer.flush()


async def _flush_periodically(writer: OutputWriter, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await writer.flush()


def _count(tracker: RunProgress, outcome: JobOutcome) -> None:
    tracker.last = outcome
    result = outcome.result
    if not result.ok:
        tracker.failed += 1
        return
    tracker.done += 1
    if result.from_cache:
        tracker.from_cache += 1
        return
    cost = result.fields.get("cost")
    if cost is None:
        tracker.unpriced += 1
    else:
        tracker.cost_usd += cost


class OutputWriter:
    """Writes finished outputs into the sample file in batches, one write at a time.

    Writes run in one background thread, so they never overlap and the event
    loop keeps serving requests while a large sample file is rewritten.
    """

    def __init__(self, path: str, flush_every: int = FLUSH_EVERY):
        self.path = path
        self.flush_every = max(1, flush_every)
        self.written = 0
        self.errors: list[str] = []
        self._pending: dict[str, dict[str, dict]] = {}
        self._pending_count = 0
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="routebook-writer")

    def add(self, job: Job, fields: dict) -> None:
        record = dict(fields)
        if job.previous_text is not None and job.previous_text != fields.get("text"):
            # A grade judged the previous text, so it does not carry over.
            for name in GRADE_FIELDS:
                record[name] = None
        self._pending.setdefault(job.request_id, {})[job.model] = record
        self._pending_count += 1

    def due(self) -> bool:
        return self._pending_count >= self.flush_every

    def _take(self) -> dict:
        batch, self._pending, self._pending_count = self._pending, {}, 0
        return batch

    async def flush(self) -> None:
        batch = self._take()
        if batch:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._write, batch)

    def close(self) -> None:
        """Write what is pending, wait for every write, and stop the thread."""
        batch = self._take()
        if batch:
            self._executor.submit(self._write, batch).result()
        self._executor.shutdown(wait=True)

    def _write(self, batch: dict) -> None:
        from .samples import update_outputs

        try:
            update_outputs(self.path, batch)
            self.written += sum(len(models) for models in batch.values())
            return
        except (InputError, OSError):
            pass

        # One request id that vanished from the file must not lose the others.
        for request_id, models in batch.items():
            try:
                update_outputs(self.path, {request_id: models})
                self.written += len(models)
            except (InputError, OSError) as error:
                message = f"outputs not saved: {error}"
                if message not in self.errors:
                    self.errors.append(message)
