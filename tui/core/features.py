"""Derived request features that conditions and segments can read.

Each feature is computed at most once per request, on first use: a policy
that never mentions `detected_language` never runs language detection.
"""

from __future__ import annotations

import re
from typing import Any

FEATURES = (
    "prompt_tokens",
    "prompt_chars",
    "turns",
    "detected_language",
    "has_code",
)

# A fenced block, or a line that reads like a statement in a common language.
# Indentation is matched with [ \t]*, never \s*, which would also match line
# breaks and make the search quadratic on prompts with many blank lines.
_CODE_PATTERN = re.compile(
    r"```|~~~"
    r"|^[ \t]*(def|class|import|from|function|const|let|var|public|private|return"
    r"|SELECT|INSERT|UPDATE|#include|package|fn|func)\b[^\n]*[:;{(=]"
    r"|^[ \t]*[}\])];?[ \t]*$"
    r"|=>|\b\w+\([^()\n]*\)[ \t]*[{;]",
    re.MULTILINE,
)


class cached_property:  # noqa: N801 - named after the functools decorator it replaces
    """A per-instance cache like functools.cached_property, without its lock.

    Python 3.11's version takes a lock on every first access, which costs more
    than most features here; a RequestFeatures is used by one thread at a time.
    """

    def __init__(self, function):
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.function(instance)
        instance.__dict__[self.name] = value
        return value


class RequestFeatures:
    """One request as rules see it: metadata plus lazily derived features.

    `tokenizer_model` is the LiteLLM model string whose tokenizer counts
    `prompt_tokens`.
    """

    def __init__(
        self,
        metadata: dict | None,
        prompt: str | None = None,
        messages: list | None = None,
        tokenizer_model: str = "gpt-4o",
    ):
        self.metadata = metadata if isinstance(metadata, dict) else {}
        self.prompt = prompt
        self.messages = messages
        self.tokenizer_model = tokenizer_model

    @classmethod
    def from_dict(cls, request: dict, tokenizer_model: str = "gpt-4o"):
        """Build from a request dict as a service sends it (prompt or messages)."""
        return cls(
            request.get("metadata"),
            request.get("prompt"),
            request.get("messages"),
            tokenizer_model,
        )

    @cached_property
    def text(self) -> str:
        """The prompt text: `prompt`, or every message's text joined by newlines."""
        if isinstance(self.prompt, str):
            return self.prompt
        return "\n".join(_message_texts(self.messages))

    @cached_property
    def prompt_chars(self) -> int:
        # len() of a Python str counts Unicode code points.
        return len(self.text)

    @cached_property
    def prompt_tokens(self) -> int:
        from .costing import count_prompt

        return count_prompt(self.prompt, self.messages, self.tokenizer_model)

    @cached_property
    def turns(self) -> int:
        """User turns: 1 for a bare prompt, else the number of user messages."""
        if isinstance(self.prompt, str) or not isinstance(self.messages, list):
            return 1
        users = [
            m for m in self.messages if isinstance(m, dict) and m.get("role") == "user"
        ]
        return len(users)

    @cached_property
    def detected_language(self) -> str | None:
        from .language import detect_language

        return detect_language(self.text)

    @cached_property
    def has_code(self) -> bool:
        return _CODE_PATTERN.search(self.text) is not None

    def feature(self, name: str) -> Any:
        return getattr(self, name)


def _message_texts(messages: Any) -> list[str]:
    if not isinstance(messages, list):
        return []
    texts = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return texts
