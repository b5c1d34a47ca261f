"""Cost of a request under a model, from LiteLLM's price map and token counts.

Recorded token counts (from `routebook run`) are used when present; otherwise
the prompt and the recorded output text are counted with the model's
tokenizer. A cost is None (unknown) when the model has no price or the
request has no recorded output for it: never 0.
"""

from __future__ import annotations

from collections import Counter


class CostModel:
    def __init__(self, policy):
        self._overrides = {spec.model: spec.price for spec in policy.models.values() if spec.price}
        self._rates: dict[str, tuple[float, float] | None] = {}
        self.unpriced: Counter = Counter()
        self.missing_output: Counter = Counter()

    def rates(self, model: str) -> tuple[float, float] | None:
        """USD per (input token, output token), resolved once per model."""
        if model not in self._rates:
            self._rates[model] = _resolve_rates(model, self._overrides.get(model))
        return self._rates[model]

    def has_price(self, model: str) -> bool:
        return self.rates(model) is not None

    def request_cost(self, request, model: str) -> float | None:
        """USD for one request answered by `model`, or None when unknown."""
        rates = self.rates(model)
        if rates is None:
            self.unpriced[model] += 1
            return None
        output = request.outputs.get(model)
        if output is None or (output.completion_tokens is None and output.text is None):
            self.missing_output[model] += 1
            return None

        prompt_tokens = output.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = count_prompt(request.prompt, request.messages, model)
        completion_tokens = output.completion_tokens
        if completion_tokens is None:
            completion_tokens = count_text(output.text, model)
        return prompt_tokens * rates[0] + completion_tokens * rates[1]

    def warnings(self) -> list[str]:
        notes = []
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


def _resolve_rates(model: str, override: dict | None) -> tuple[float, float] | None:
    from . import pricing

    known = pricing.price_for(model)
    if not override:
        return known
    input_rate = override.get("input_per_million")
    output_rate = override.get("output_per_million")
    input_rate = known[0] if input_rate is None and known else input_rate
    output_rate = known[1] if output_rate is None and known else output_rate
    if input_rate is None or output_rate is None:
        return None
    if "input_per_million" in override:
        input_rate = input_rate / 1e6
    if "output_per_million" in override:
        output_rate = output_rate / 1e6
    return (input_rate, output_rate)


# Token counts are memoised by text, because the app previews the same sample
# again on every edit and tokenizing is about 40 times slower than parsing JSON.
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
