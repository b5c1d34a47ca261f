"""Token counts for prompts and chat messages, offline and without importing LiteLLM.

Counting uses tiktoken directly. Its BPE files for cl100k_base and o200k_base ship
inside the installed `litellm` package (`litellm/litellm_core_utils/tokenizers/`),
so TIKTOKEN_CACHE_DIR is pointed there before the first encoding loads, unless the
user has set it. The expected files are checked first, so tiktoken never tries to
download one.

The encoding for a model follows the tiktoken path of `litellm.token_counter` in
LiteLLM 1.110.2 (`openai_tokenizer_encoding_name` in
`litellm/litellm_core_utils/token_counter.py`):

- An OpenAI model gets o200k_base when its name contains `gpt-4o`, else the
  encoding tiktoken names for it. So gpt-4 and gpt-3.5 get cl100k_base, and o1,
  o3, gpt-4.1 and gpt-5 get o200k_base. A newer OpenAI name that tiktoken does not
  know gets o200k_base, or cl100k_base when the price map lists it as a model
  other than chat (embeddings, images). A name counts as OpenAI in four cases:
  1. Some "/"-separated suffix of it is an `openai` entry in the price map, or an
     Azure entry with an OpenAI name.
  2. tiktoken gives it o200k_base.
  3. It is named like gpt-5 and later or the o-series.
  4. The price map has an Azure chat entry for it.
- Every other model (Anthropic, Llama, Mistral, Qwen, DeepSeek, Cohere, unknown
  names) gets cl100k_base. LiteLLM tries Hugging Face tokenizers for some of
  these: it downloads one for Llama and Cohere Command R, and uses one bundled
  with it for DeepSeek and for Claude names without a provider prefix (except
  claude-3). This module uses none, so start-up stays fast and nothing touches
  the network, but the counts for these models are estimates.

Two deliberate differences from LiteLLM: text is encoded whole (LiteLLM encodes
1024-character chunks, which can add one token per chunk boundary, and samples
texts above 4,000,000 characters), and the older encodings tiktoken names for
retired models (r50k_base, p50k_base, gpt2) are replaced by cl100k_base. No
model in LiteLLM 1.110.2's price map selects one of them.

Chat messages are counted the way LiteLLM counts them: 3 tokens per
message, the tokens of every string value in it (role and name included), 1 more
for a `name`, the `arguments` of tool and function calls, and 3 tokens that
prime the reply.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import pricing
from .problems import InputError

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3
FALLBACK_ENCODING = "cl100k_base"

# tiktoken caches a BPE file under the SHA-1 hex digest of its download URL, and
# LiteLLM ships the files under those names. These are the encodings used here.
_ENCODING_URLS = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    ),
}
OFFLINE_ENCODINGS = frozenset(_ENCODING_URLS)

# Price map modes LiteLLM counts as chat models when it picks an encoding.
_CHAT_MODES = frozenset({"chat", "responses"})
_AZURE_TEXT_MODES = frozenset({"chat", "completion", "responses", "realtime"})

# OpenAI's reasoning models (o1, o3, o4-mini, ...) and gpt-5 onwards.
_RECENT_OPENAI_NAME = re.compile(
    r"^(?:gpt-(?:[5-9]|[1-9][0-9]+)|o[1-9][0-9]*)(?:[.-]|$)"
)

# Keys of a chat message that carry no text sent to the model.
_METADATA_KEYS = frozenset({"cache_control"})

# Content part types whose text LiteLLM counts, and the field holding the text.
_TEXT_PART_FIELDS = {
    "text": "text",
    "thinking": "thinking",
    "redacted_thinking": "thinking",
}


class TokenizerUnavailableError(RuntimeError):
    """A tiktoken encoding cannot be loaded without a download."""


@dataclass
class TokenCount:
    """Tokens counted in a request, and the parts that could not be counted.

    Each `unsupported` item names a part of the request (JSON-path style, for
    example `messages[1].content[0]`) and why it was left out, so the count is a
    lower bound whenever the list is not empty.
    """

    tokens: int
    unsupported: list[str] = field(default_factory=list)


_encodings: dict[str, object] = {}
_encoding_lock = threading.Lock()


def tokenizer_cache_dir() -> Path | None:
    """Return the folder of BPE files bundled with LiteLLM, or None if absent."""
    package_dir = pricing.litellm_package_dir()
    if package_dir is None:
        return None
    folder = package_dir / "litellm_core_utils" / "tokenizers"
    return folder if folder.is_dir() else None


def _prepare_cache_dir(encoding_name: str) -> None:
    """Point tiktoken at LiteLLM's files unless the user chose a folder.

    Raises TokenizerUnavailableError when the encoding's file is not there, which
    would otherwise make tiktoken download it.
    """
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        bundled = tokenizer_cache_dir()
        if bundled is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)

    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR")
    url = _ENCODING_URLS[encoding_name]
    file_name = hashlib.sha1(url.encode()).hexdigest()
    if not cache_dir or not (Path(cache_dir) / file_name).is_file():
        raise TokenizerUnavailableError(
            f"cannot load tiktoken encoding {encoding_name} offline: file"
            f" {file_name} not found in TIKTOKEN_CACHE_DIR={cache_dir!r}; install"
            " litellm (it ships the file) and unset TIKTOKEN_CACHE_DIR, or copy"
            " the file into that folder"
        )


def get_encoding(encoding_name: str):
    """Return a tiktoken encoding, loading it on first use.

    A load takes about a second; o200k_base, with twice the vocabulary of
    cl100k_base, takes twice as long.
    """
    encoding = _encodings.get(encoding_name)
    if encoding is not None:
        return encoding

    with _encoding_lock:
        encoding = _encodings.get(encoding_name)
        if encoding is None:
            _prepare_cache_dir(encoding_name)
            import tiktoken

            encoding = tiktoken.get_encoding(encoding_name)
            _encodings[encoding_name] = encoding
    return encoding


@lru_cache(maxsize=4096)
def tokenizer_name(model: str) -> str:
    """Return the tiktoken encoding used to count tokens for a LiteLLM model string."""
    if not isinstance(model, str):
        raise TypeError(f"model must be a string, not {type(model).__name__}")
    openai_name = _openai_model_name(model)
    if openai_name is None:
        return FALLBACK_ENCODING

    name = _openai_encoding_name(openai_name)
    return name if name in OFFLINE_ENCODINGS else FALLBACK_ENCODING


def _openai_encoding_name(name: str) -> str:
    import tiktoken.model

    if "gpt-4o" in name:
        return "o200k_base"
    try:
        return tiktoken.model.encoding_name_for_model(name)
    except KeyError:
        pass

    # A suffixed variant of a name in tiktoken's table (text-embedding-ada-002-v2).
    known = [
        prefix
        for prefix in tiktoken.model.MODEL_TO_ENCODING
        if name.startswith(f"{prefix}-")
    ]
    if known:
        return tiktoken.model.MODEL_TO_ENCODING[max(known, key=len)]
    return FALLBACK_ENCODING if _is_listed_non_chat(name) else "o200k_base"


def _openai_model_name(model: str) -> str | None:
    """Return the OpenAI model name inside `model`, or None for other providers."""
    last_segment = model.rsplit("/", 1)[-1]
    if _is_listed_openai(model):
        return last_segment
    if _tiktoken_encoding(last_segment) == "o200k_base":
        return last_segment
    if _RECENT_OPENAI_NAME.match(last_segment):
        return last_segment

    deployment = last_segment
    if deployment.startswith("ft:"):
        deployment = deployment.split(":")[1]
    if _is_azure_openai_chat(deployment):
        return deployment
    return None


def _is_listed_openai(model: str) -> bool:
    segments = model.split("/")
    suffixes = ["/".join(segments[start:]) for start in range(len(segments))]
    return any(
        _is_openai_key(suffix) or _is_openai_key(f"azure/{suffix}")
        for suffix in suffixes
    )


def _is_openai_key(key: str) -> bool:
    if key in pricing.AZURE_MODEL_RENAMES:
        return True
    entry = _map_entry(key)
    if entry is None:
        return False
    provider = entry.get("litellm_provider")
    if provider == "openai":
        # LiteLLM keeps `ft:<base>` price rows out of its list of OpenAI models.
        return not (key.startswith("ft:") and key.count(":") <= 1)
    if provider == "azure" and entry.get("mode") in _AZURE_TEXT_MODES:
        return _looks_like_openai_name(key.rsplit("/", 1)[-1])
    return False


def _looks_like_openai_name(name: str) -> bool:
    openai_names = _openai_names()
    if name in openai_names or _tiktoken_encoding(name) is not None:
        return True
    return any(
        name.startswith(f"{listed}-") or listed.startswith(f"{name}-")
        for listed in openai_names
    )


@lru_cache(maxsize=1)
def _openai_names() -> frozenset[str]:
    price_map = _price_map()
    if price_map is None:
        return frozenset()
    return frozenset(
        key
        for key in price_map.keys()
        if price_map.raw_entry(key).get("litellm_provider") == "openai"
        and not (key.startswith("ft:") and key.count(":") <= 1)
    )


def _is_azure_openai_chat(name: str) -> bool:
    entry = _map_entry(f"azure/{name}")
    if entry is None:
        return False
    return (
        entry.get("litellm_provider") == "azure"
        and entry.get("mode") in _CHAT_MODES
        and (entry.get("supports_pdf_input") is True or name.startswith("gpt-"))
    )


def _is_listed_non_chat(name: str) -> bool:
    for key in (name, f"azure/{name}"):
        entry = _map_entry(key)
        mode = entry.get("mode") if entry is not None else None
        if mode is not None and mode not in _CHAT_MODES:
            return True
    return False


def _map_entry(key: str) -> Mapping[str, object] | None:
    price_map = _price_map()
    return price_map.raw_entry(key) if price_map is not None else None


def _price_map() -> pricing.PriceMap | None:
    # Counting must not fail because the price map is unusable: without it the
    # choice rests on tiktoken's table and the OpenAI naming rules alone, and the
    # pricing calls report the map's problem.
    try:
        return pricing.default_price_map()
    except InputError:
        return None


def _tiktoken_encoding(name: str) -> str | None:
    import tiktoken.model

    try:
        return tiktoken.model.encoding_name_for_model(name)
    except KeyError:
        return None


def count_text_tokens(text: str, model: str) -> int:
    """Count the tokens of `text` with the tokenizer of `model`.

    Special-token text such as "<|endoftext|>" is counted as ordinary text, as
    providers tokenize it inside a prompt. Raises TypeError when `text` is not a
    string, and TokenizerUnavailableError when the encoding cannot be loaded.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, not {type(text).__name__}")
    if not text:
        return 0
    encoding = get_encoding(tokenizer_name(model))
    return len(encoding.encode_ordinary(text))


def count_request_tokens(prompt_or_messages: object, model: str) -> TokenCount:
    """Count the prompt tokens of one request: a prompt string or chat messages.

    A string is counted as plain text, without chat framing, like
    `litellm.token_counter(text=...)`. Sending it as one user message adds 7
    tokens: 3 for the message, 1 for the role and 3 for the reply priming. A list
    is counted as OpenAI-format chat messages (see the module docstring).

    Malformed input does not raise, because the parts that cannot be counted are
    listed in `unsupported` instead. Only a non-string `model` (TypeError) and an
    encoding that cannot be loaded (TokenizerUnavailableError) raise.
    """
    counter = _RequestCounter(model)
    if isinstance(prompt_or_messages, str):
        counter.add_text(prompt_or_messages)
    elif isinstance(prompt_or_messages, Sequence) and not isinstance(
        prompt_or_messages, (bytes, bytearray)
    ):
        counter.add_messages(prompt_or_messages)
    elif prompt_or_messages is None:
        counter.skip("request", "no prompt or messages")
    else:
        kind = type(prompt_or_messages).__name__
        reason = f"expected a prompt string or a message list, got {kind}"
        counter.skip("request", reason)
    return TokenCount(counter.tokens, counter.unsupported)


class _RequestCounter:
    """Running token total and list of skipped parts for one request."""

    def __init__(self, model: str):
        self.encoding = get_encoding(tokenizer_name(model))
        self.tokens = 0
        self.unsupported: list[str] = []

    def add_text(self, text: str) -> None:
        if text:
            self.tokens += len(self.encoding.encode_ordinary(text))

    def skip(self, where: str, reason: str) -> None:
        self.unsupported.append(f"{where}: {reason}")

    def add_messages(self, messages: Sequence[object]) -> None:
        for index, message in enumerate(messages):
            where = f"messages[{index}]"
            if isinstance(message, Mapping):
                self.add_message(message, where)
            else:
                self.skip(where, f"expected an object, got {_describe(message)}")
        self.tokens += REPLY_PRIMING_TOKENS

    def add_message(self, message: Mapping, where: str) -> None:
        self.tokens += TOKENS_PER_MESSAGE
        for key, value in message.items():
            path = f"{where}.{key}"
            if value is None or key in _METADATA_KEYS:
                continue
            if key in ("tool_calls", "function_call"):
                self.add_calls(key, value, path)
            elif isinstance(value, str):
                self.add_text(value)
                if key == "name":
                    self.tokens += TOKENS_PER_NAME
            elif key == "content" and isinstance(value, list):
                self.add_parts(value, path)
            else:
                self.skip(path, f"{_describe(value)} not counted")

    def add_parts(self, parts: list, where: str) -> None:
        for index, part in enumerate(parts):
            path = f"{where}[{index}]"
            if isinstance(part, str):
                self.add_text(part)
            elif isinstance(part, Mapping):
                self.add_part(part, path)
            else:
                self.skip(path, f"{_describe(part)} not counted")

    def add_part(self, part: Mapping, where: str) -> None:
        part_type = part.get("type")
        if not isinstance(part_type, str):
            self.skip(where, "part without a type not counted")
            return
        text_field = _TEXT_PART_FIELDS.get(part_type)
        if text_field is None:
            self.skip(where, f"{part_type!r} part not counted")
            return

        text = part.get(text_field)
        if isinstance(text, str):
            self.add_text(text)
        elif text is not None:
            self.skip(f"{where}.{text_field}", f"{_describe(text)} not counted")

    def add_calls(self, key: str, value: object, where: str) -> None:
        if key == "function_call":
            self.add_call_arguments(value, where)
            return
        if not isinstance(value, list):
            self.skip(where, f"expected a list of tool calls, got {_describe(value)}")
            return
        for index, call in enumerate(value):
            path = f"{where}[{index}]"
            function = call.get("function") if isinstance(call, Mapping) else None
            if function is None:
                self.skip(path, "tool call without a function object not counted")
            else:
                self.add_call_arguments(function, f"{path}.function")

    def add_call_arguments(self, function: object, where: str) -> None:
        # LiteLLM counts only the arguments of a call; its name is part of the
        # tool definitions, which a request sample does not carry.
        if not isinstance(function, Mapping):
            self.skip(where, f"expected an object, got {_describe(function)}")
            return
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            self.add_text(arguments)
        elif arguments is not None:
            self.skip(f"{where}.arguments", f"{_describe(arguments)} not counted")


def _describe(value: object) -> str:
    """Name the JSON kind of a value, for an `unsupported` description."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__} value"
