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
        from . import pricing

        self._pricing = pricing
        self._overrides = {spec.model: spec.price for spec in policy.models.values() if spec.price}
        self._priced: dict[str, bool] = {}
        self._prompt_tokens: dict[tuple[int, str], int] = {}
        self.unpriced: Counter = Counter()
        self.missing_output: Counter = Counter()

    def has_price(self, model: str) -> bool:
        known = self._priced.get(model)
        if known is None:
            known = model in self._overrides or self._pricing.price_for(model) is not None
            self._priced[model] = known
        return known

    def request_cost(self, request, model: str) -> float | None:
        """USD for one request answered by `model`, or None when unknown."""
        if not self.has_price(model):
            self.unpriced[model] += 1
            return None
        output = request.outputs.get(model)
        if output is None or (output.completion_tokens is None and output.text is None):
            self.missing_output[model] += 1
            return None

        prompt_tokens = output.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = self._count_prompt(request, model)
        completion_tokens = output.completion_tokens
        if completion_tokens is None:
            completion_tokens = self._pricing_tokens().count_text_tokens(output.text, model)
        return self._pricing.cost_with_override(
            model, prompt_tokens, completion_tokens, self._overrides.get(model)
        )

    def _pricing_tokens(self):
        from . import tokens

        return tokens

    def _count_prompt(self, request, model: str) -> int:
        key = (id(request), model)
        count = self._prompt_tokens.get(key)
        if count is None:
            source = request.prompt if request.prompt is not None else request.messages
            count = self._pricing_tokens().count_request_tokens(source or "", model).tokens
            self._prompt_tokens[key] = count
        return count

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
