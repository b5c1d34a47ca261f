"""Cost of a request under a model, from LiteLLM's price map and token counts.

Recorded token counts (from `routebook run`) are used when present; otherwise
the prompt and the recorded output text are counted with the model's
tokenizer. A cost is None (unknown) when the model has no price or the
request has no recorded output for it: never 0.
"""

from __future__ import annotations

from collections import Counter

# The marker of a model whose prices were not looked up yet. A stored None
# means that the model has no price.
_UNRESOLVED = object()


class CostModel:
    def __init__(self, policy):
        self._overrides = {
            spec.model: spec.price for spec in policy.models.values() if spec.price
        }
        self._pricers: dict[str, _Pricer | None] = {}
        self.unpriced: Counter = Counter()
        self.missing_output: Counter = Counter()
        self.uncounted_parts: Counter = Counter()

    def pricer(self, model: str) -> _Pricer | None:
        """Return the model's prices (resolved once), or None when it has none."""
        if model not in self._pricers:
            self._pricers[model] = _Pricer.resolve(model, self._overrides.get(model))
        return self._pricers[model]

    def has_price(self, model: str) -> bool:
        return self.pricer(model) is not None

    def request_cost(self, request, model: str) -> float | None:
        """USD for one request answered by `model`, or None when unknown."""
        # The preview calls this twice per request, so the lookup is inlined.
        pricer = self._pricers.get(model, _UNRESOLVED)
        if pricer is _UNRESOLVED:
            pricer = self.pricer(model)
        if pricer is None:
            self.unpriced[model] += 1
            return None
        output = request.outputs.get(model)
        if output is None or (output.completion_tokens is None and output.text is None):
            self.missing_output[model] += 1
            return None

        prompt_tokens = output.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = count_prompt(request.prompt, request.messages, model)
            if request.messages is not None:
                self._note_uncounted(request, model)
        completion_tokens = output.completion_tokens
        if completion_tokens is None:
            completion_tokens = count_text(output.text, model)
        return pricer.cost(prompt_tokens, completion_tokens)

    def count_unknown(self, model: str) -> None:
        """Count an unknown cost that request_cost returned earlier, again."""
        if self.has_price(model):
            self.missing_output[model] += 1
        else:
            self.unpriced[model] += 1

    def count_reused(self, request, model: str, cost: float | None) -> None:
        """Count the warnings of a cost that request_cost returned earlier, again."""
        if cost is None:
            self.count_unknown(model)
            return
        output = request.outputs.get(model)
        if output.prompt_tokens is None and request.messages is not None:
            self._note_uncounted(request, model)

    def _note_uncounted(self, request, model: str) -> None:
        from .tokens import count_request_tokens

        for part in count_request_tokens(request.messages, model).unsupported:
            # "messages[0].content[1]: 'image_url' part not counted" -> the kind.
            kind = part.split(": ", 1)[-1]
            self.uncounted_parts[kind] += 1

    def warnings(self) -> list[str]:
        notes = []
        for kind, count in sorted(self.uncounted_parts.items()):
            notes.append(
                f"{count} message part(s) not counted in prompt tokens ({kind});"
                " costs of those requests count only their text"
            )
        for model in sorted(self.unpriced):
            notes.append(
                f"model '{model}' has no price in LiteLLM's price map, so its cost is"
                " unknown; add `price: {input_per_million: ..., output_per_million:"
                " ...}` to its alias"
            )
        for model, count in sorted(self.missing_output.items()):
            notes.append(
                f"{count} request(s) have no recorded output from '{model}', so their"
                " cost under it is unknown; `routebook run` fills them in"
            )
        return notes


class _Pricer:
    """USD per token for one model: flat rates, or the map entry's tiers."""

    __slots__ = ("flat", "entry", "input_override", "output_override")

    def __init__(self, flat, entry, input_override, output_override):
        self.flat = flat
        self.entry = entry
        self.input_override = input_override
        self.output_override = output_override

    @classmethod
    def resolve(cls, model: str, override: dict | None) -> _Pricer | None:
        from . import pricing

        override = override or {}
        input_override = _per_token(override.get("input_per_million"))
        output_override = _per_token(override.get("output_per_million"))
        if input_override is not None and output_override is not None:
            return cls((input_override, output_override), None, None, None)

        entry = pricing.default_price_map().resolve_model(model)
        if entry is None or not entry.is_priced:
            return None
        if entry.tiers or entry.thresholds:
            return cls(None, entry, input_override, output_override)
        input_rate = (
            entry.input_cost_per_token if input_override is None else input_override
        )
        output_rate = (
            entry.output_cost_per_token if output_override is None else output_override
        )
        return cls((input_rate, output_rate), None, None, None)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        if self.flat is not None:
            input_rate, output_rate = self.flat
        else:
            # Long-prompt tiers: the rates depend on this request's prompt size.
            input_rate, output_rate = self.entry.rates_for(prompt_tokens)
            if self.input_override is not None:
                input_rate = self.input_override
            if self.output_override is not None:
                output_rate = self.output_override
        return prompt_tokens * input_rate + completion_tokens * output_rate


def _per_token(per_million) -> float | None:
    return None if per_million is None else per_million / 1_000_000


# Token counts are memoised by text, because the app previews the same sample
# again on every edit and tokenizing is about 40 times slower than parsing JSON.
# NOTE: the memo is never trimmed, so a process that loads many different
# samples keeps every counted text alive until it exits.
_TEXT_COUNTS: dict[tuple[str, str], int] = {}


def count_text(text: str, model: str) -> int:
    key = (model, text)
    count = _TEXT_COUNTS.get(key)
    if count is None:
        from .tokens import count_text_tokens

        count = _TEXT_COUNTS[key] = count_text_tokens(text, model)
    return count


def count_prompt(prompt: str | None, messages, model: str) -> int:
    """Tokens of a prompt, or of chat messages with their per-message overhead."""
    if isinstance(prompt, str):
        key = ("prompt:" + model, prompt)
        count = _TEXT_COUNTS.get(key)
        if count is None:
            from .tokens import count_request_tokens

            count = _TEXT_COUNTS[key] = count_request_tokens(prompt, model).tokens
        return count
    from .tokens import count_request_tokens

    return count_request_tokens(messages or "", model).tokens
