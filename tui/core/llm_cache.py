"""A disk cache of chat completions, so that rerunning a sample sends nothing twice.

An entry is keyed by a SHA-256 hash of the model string, the messages and the
call parameters that shape the output. Secrets (API keys, tokens, passwords and
authorization headers) and parameters that only change how a call is made
(timeout, retries) are left out of the key and never written. The cache lives
in platformdirs' user cache folder for "routebook", under `llm/`, unless
ROUTEBOOK_CACHE_DIR names another folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path
from typing import Any

CACHE_DIR_ENV = "ROUTEBOOK_CACHE_DIR"

# Bump when the key or the entry format changes, so old entries stop matching.
CACHE_FORMAT = 1

# Parameter names that hold a secret, such as api_key, aws_access_key_id,
# aws_secret_access_key, aws_session_token, azure_ad_token or vertex_credentials.
# `max_tokens` does not match because the pattern requires the singular "token"
# at the end.
_SECRET_NAME = re.compile(
    r"(^|_)(key|key_id|secret|token|password|credentials?)$", re.IGNORECASE
)

# Header names that carry credentials in `extra_headers` or `headers`.
_SECRET_HEADER = re.compile(
    r"^(authorization|proxy-authorization|cookie|x-api-key|api-key|.*-key|.*token.*)$",
    re.IGNORECASE,
)

# Parameters that change how a call is sent, not what the model returns.
# `api_key_env` names the variable that contains the key; the key itself is secret.
_TRANSPORT_PARAMS = frozenset(
    {
        "api_key_env",
        "timeout",
        "request_timeout",
        "stream_timeout",
        "max_retries",
        "num_retries",
        "stream",
        "metadata",
    }
)


def is_secret_param(name: str) -> bool:
    """Return whether a call parameter name is one that contains a credential."""
    return bool(_SECRET_NAME.search(name))


def scrub_params(params: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of call parameters without credentials.

    Secret-named keys are dropped at every depth, and header mappings lose their
    authorization and key headers.
    """
    clean: dict[str, Any] = {}
    for name, value in params.items():
        if is_secret_param(str(name)):
            continue
        if name in ("extra_headers", "headers") and isinstance(value, dict):
            clean[name] = {
                header: header_value
                for header, header_value in value.items()
                if not _SECRET_HEADER.match(str(header))
            }
            continue
        if isinstance(value, dict):
            clean[name] = scrub_params(value)
            continue
        clean[name] = value
    return clean


def output_params(params: dict[str, Any]) -> dict[str, Any]:
    """Return the scrubbed parameters that can change a model's output."""
    scrubbed = scrub_params(params)
    return {
        name: value for name, value in scrubbed.items() if name not in _TRANSPORT_PARAMS
    }


def cache_key(model: str, messages: list, params: dict[str, Any]) -> str:
    """Return the hex SHA-256 key of one chat completion request."""
    payload = {
        "format": CACHE_FORMAT,
        "model": model,
        "messages": messages,
        "params": output_params(params),
    }
    canonical = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def default_cache_dir() -> Path:
    """Return ROUTEBOOK_CACHE_DIR, else the user cache folder's `routebook/llm`."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()

    from platformdirs import user_cache_dir

    return Path(user_cache_dir("routebook", appauthor=False)) / "llm"


class CompletionCache:
    """Completion entries stored as one JSON file per key, in two-letter subfolders."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory else default_cache_dir()
        # Subfolders made or found by this object, so `put` skips the mkdir call.
        self._folders: set[Path] = set()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """Return the stored entry, or None when absent or unreadable."""
        try:
            with open(self._path(key), encoding="utf-8") as handle:
                entry = json.load(handle)
        except (OSError, ValueError):
            # A damaged entry is a miss: the request is sent again and rewritten.
            return None
        return entry if isinstance(entry, dict) else None

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def put(self, key: str, entry: dict) -> None:
        """Store an entry atomically (temporary file, then rename).

        Entries are not fsynced: after a crash a lost entry only costs a resend,
        and a damaged one reads as a miss.
        """
        path = self._path(key)
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)

        # One process and thread writes one entry at a time, so the process and
        # thread ids make the name unique without reading random bytes per entry.
        temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            try:
                _write_json(temp, entry)
            except FileNotFoundError:
                # The folder was deleted after it was made, by emptying the cache.
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_json(temp, entry)
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise


def _write_json(path: Path, entry: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(entry, handle, ensure_ascii=False)
