"""Per-token prices from LiteLLM's bundled price map, read without importing LiteLLM.

Importing `litellm` costs seconds and hundreds of MB, so this module reads the JSON
file that ships inside the installed package
(`model_prices_and_context_window_backup.json`) directly. The file is found with
`importlib.util.find_spec`, which locates the package without running it. Setting
ROUTEBOOK_PRICE_MAP to the path of a JSON file in the same format reads that file
instead.

A model string resolves to a price map entry the way `litellm.get_model_info(model)`
does in LiteLLM 1.110.2 (read from `litellm/utils.py`, `get_model_info_helper` and
`get_potential_model_names`, and from `get_llm_provider_logic.py`):

0. LiteLLM's Azure renames apply first (`gpt-35-turbo` is `azure/gpt-35-turbo`).
1. Provider. When the text before the first "/" is a provider named in the map
   (`openai/gpt-4o`, `together_ai/mistralai/...`), that is the provider and the rest
   is the split model. A bare name that is itself a key takes that entry's provider.
   A bare name that is not a key takes the provider of the first routing rule in
   the map's `fallback_generalizations` block that matches it, if any. Other names
   (`mistralai/Mixtral-8x7B-Instruct-v0.1`, `Qwen/Qwen2.5-72B-Instruct`) have no
   provider.
2. Candidates, tried in this order: the string as given, the split model (for
   Bedrock also without its `converse/`-style route and region path), and the
   string stripped of a version tail. The tail is `-YYYY-MM-DD` in general, the
   org, suffix and id of an `ft:` name, a trailing `-NNN` for `vertex_ai`,
   `gemini` and `databricks`, and the cross-region prefix (`us.`) or region path
   for Bedrock.
3. Each candidate is looked up exactly, then case-insensitively. It counts only
   when the entry's `litellm_provider` agrees with the provider from step 1
   (`vertex_ai` accepts every `vertex_ai-*` entry, Bedrock providers accept each
   other, `azure_ai` accepts `azure` and `openai`, and `litellm_proxy`, `github`
   and `nadir` accept any entry).

Alias rows (`alias_of`, `aliases`) are served as the entry they name, as LiteLLM
does. Unlike LiteLLM, a model with no entry, or an entry without per-token
prices, has no price here (None), never 0: LiteLLM returns 0 for `huggingface/*`
models, for entries without prices and for names that match only a capability
rule. Nothing is fetched over the network (LiteLLM queries a local Ollama server
for Ollama models the map does not list). Two LiteLLM 1.110.2 misses are priced
here: bare AI21 names (`jamba-1.5`, which it files under `ai21_chat`) and
`azure/<non-OpenAI model>` (which it sends to the `openai` provider).

Costs follow LiteLLM's cost calculator for plain requests: a `tiered_pricing`
table or a `*_cost_per_token_above_<N>k_tokens` rate replaces the base rate once
the prompt is long enough. Cache, batch, audio and service-tier prices are not
used.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import threading
from collections.abc import KeysView, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .problems import InputError, Problem

PRICE_MAP_ENV = "ROUTEBOOK_PRICE_MAP"
PRICE_MAP_FILE_NAME = "model_prices_and_context_window_backup.json"

PRICE_OVERRIDE_KEYS = ("input_per_million", "output_per_million")

# Top-level keys of the map that describe the format rather than a model.
_SAMPLE_SPEC_KEY = "sample_spec"
_GENERALIZATIONS_KEY = "fallback_generalizations"

# Model names LiteLLM renames before any lookup (`litellm.azure_llms`): Azure's
# spelling of gpt-3.5 and the Azure names of the gpt-4.1 family.
AZURE_MODEL_RENAMES = {
    "gpt-35-turbo": "azure/gpt-35-turbo",
    "gpt-35-turbo-instruct": "azure/gpt-35-turbo-instruct",
    "azure/gpt-41": "gpt-4.1",
    "azure/gpt-41-mini": "gpt-4.1-mini",
    "azure/gpt-41-nano": "gpt-4.1-nano",
}

# Prefixes that LiteLLM accepts as providers and that match entries filed under
# other provider names, so they must count as providers even when no entry
# carries them as its own `litellm_provider`.
_PROVIDERS_MATCHING_OTHERS = frozenset(
    {
        "vertex_ai",
        "fireworks_ai",
        "bedrock",
        "azure_ai",
        "litellm_proxy",
        "github",
        "nadir",
    }
)

# `litellm_provider` values that name a catalog inside a provider rather than a
# prefix LiteLLM accepts in a model string (it spells the Converse route
# `bedrock/converse/...`).
_CATALOG_ONLY_PROVIDER = re.compile(r"^(?:bedrock_converse$|vertex_ai-|fireworks_ai-)")

_DATED_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_FINE_TUNE_TAIL = re.compile(r"(:[^:]*){3}$")
_NUMBERED_VERSION_TAIL = re.compile(r"-\d+$")
_ABOVE_THRESHOLD_KEY = re.compile(
    r"^(input|output)_cost_per_token_above_(\d+(?:\.\d+)?)(k?)_tokens$"
)

# Bedrock route prefixes that LiteLLM removes before a Bedrock model id.
_BEDROCK_ROUTE_PREFIXES = (
    "bedrock/",
    "chat_completions/",
    "converse/",
    "invoke/",
    "openai/",
    "mantle/",
)
_BEDROCK_CROSS_REGION_PREFIXES = frozenset(
    {"global", "us", "eu", "apac", "jp", "au", "us-gov"}
)
_AWS_REGION = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d+$")


@dataclass(frozen=True)
class PriceTier:
    """One row of an entry's `tiered_pricing` table, chosen by prompt size.

    A request whose prompt has more than `start` and at most `end` tokens pays this
    tier's rates for every token, prompt and completion alike.
    """

    start: float
    end: float
    input_cost_per_token: float
    output_cost_per_token: float | None


@dataclass(frozen=True)
class PriceThreshold:
    """Rates that replace the base rates once a prompt exceeds `above_tokens`."""

    above_tokens: float
    input_cost_per_token: float | None
    output_cost_per_token: float | None


@dataclass(frozen=True)
class PriceEntry:
    """The prices of one price map entry, in USD per token.

    `input_cost_per_token` and `output_cost_per_token` are the base rates, or None
    when the entry states none. An entry priced only by a `tiered_pricing` table
    reports its first tier's rates as the base rates.
    """

    key: str
    litellm_provider: str | None
    mode: str | None
    input_cost_per_token: float | None
    output_cost_per_token: float | None
    thresholds: tuple[PriceThreshold, ...] = ()
    tiers: tuple[PriceTier, ...] = ()

    @property
    def is_priced(self) -> bool:
        """Whether both base rates are known (0 is a known rate)."""
        return (
            self.input_cost_per_token is not None
            and self.output_cost_per_token is not None
        )

    def rates_for(self, prompt_tokens: int) -> tuple[float, float] | None:
        """Return the (input, output) USD-per-token rates for a prompt of this size.

        A `tiered_pricing` table wins when the entry has one. Otherwise the highest
        `*_cost_per_token_above_*_tokens` threshold below `prompt_tokens` replaces
        whichever base rates it states. None when the entry has no price.
        """
        if not self.is_priced:
            return None

        tier = self._tier_for(prompt_tokens)
        if tier is not None:
            output = tier.output_cost_per_token
            if output is None:
                output = self.output_cost_per_token
            return tier.input_cost_per_token, output

        input_rate = self.input_cost_per_token
        output_rate = self.output_cost_per_token
        for threshold in self.thresholds:
            if prompt_tokens > threshold.above_tokens:
                if threshold.input_cost_per_token is not None:
                    input_rate = threshold.input_cost_per_token
                if threshold.output_cost_per_token is not None:
                    output_rate = threshold.output_cost_per_token
        return input_rate, output_rate

    def _tier_for(self, prompt_tokens: int) -> PriceTier | None:
        # LiteLLM picks the tier with start < tokens <= end, or the last tier when
        # the prompt is longer than every range, and no tier for an empty prompt.
        if not self.tiers or prompt_tokens <= 0:
            return None
        for tier in self.tiers:
            if tier.start < prompt_tokens <= tier.end:
                return tier
        return self.tiers[-1]


class PriceMap:
    """A price map: LiteLLM's model entries keyed by model name, with lookups.

    Build it with `PriceMap.from_file` or from already parsed entries. Resolved
    model strings are cached, so repeated lookups cost one dict access.
    """

    def __init__(self, raw_entries: Mapping[str, object], source: str = "<memory>"):
        self.source = source
        self._entries = _expand_aliases(_model_rows(raw_entries))
        self._lowercase_keys: dict[str, str] = {}
        for key in self._entries:
            self._lowercase_keys.setdefault(key.lower(), key)
        self._providers = _known_providers(self._entries)
        self._routing_rules = _routing_rules(raw_entries.get(_GENERALIZATIONS_KEY))
        self._resolved: dict[str, PriceEntry | None] = {}

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> PriceMap:
        """Read a price map JSON file; raise InputError when it cannot be used."""
        path = Path(path)
        raw_entries = _read_json_object(path)
        return cls(raw_entries, source=str(path))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def raw_entry(self, key: str) -> Mapping[str, object] | None:
        """Return the entry stored under exactly `key`, as read from the JSON."""
        return self._entries.get(key)

    def keys(self) -> KeysView[str]:
        return self._entries.keys()

    @property
    def providers(self) -> frozenset[str]:
        """Names treated as provider prefixes in model strings."""
        return self._providers

    def resolve_model(self, model: str) -> PriceEntry | None:
        """Return the entry a LiteLLM model string resolves to, or None.

        The lookup order is the one in this module's docstring.
        """
        if not isinstance(model, str):
            raise TypeError(f"model must be a string, not {type(model).__name__}")
        if model in self._resolved:
            return self._resolved[model]

        resolved = self._resolve_uncached(model)
        self._resolved[model] = resolved
        return resolved

    def price_for(self, model: str) -> tuple[float, float] | None:
        """Return the (input, output) base USD-per-token rates, or None if unknown."""
        entry = self.resolve_model(model)
        if entry is None or not entry.is_priced:
            return None
        return entry.input_cost_per_token, entry.output_cost_per_token

    def cost(
        self, model: str, prompt_tokens: int, completion_tokens: int
    ) -> float | None:
        """Return the USD cost of one request, or None when the model has no price."""
        return self.cost_with_override(model, prompt_tokens, completion_tokens, None)

    def cost_with_override(
        self,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        override: Mapping[str, object] | None,
    ) -> float | None:
        """Return the USD cost of one request, with a policy's price taking precedence.

        `override` is an alias's `price` mapping, `{input_per_million: x,
        output_per_million: y}` in USD per million tokens. Either key may be left
        out, and then that side comes from the price map. None when a rate that is
        needed is unknown. Raises ValueError on a token count that is negative or
        not a whole number, and on an invalid override.
        """
        _check_token_count("prompt_tokens", prompt_tokens)
        _check_token_count("completion_tokens", completion_tokens)
        input_override, output_override = _override_rates(override)

        input_rate, output_rate = input_override, output_override
        if input_rate is None or output_rate is None:
            entry = self.resolve_model(model)
            rates = entry.rates_for(prompt_tokens) if entry is not None else None
            if rates is None:
                return None
            if input_rate is None:
                input_rate = rates[0]
            if output_rate is None:
                output_rate = rates[1]

        return prompt_tokens * input_rate + completion_tokens * output_rate

    def _resolve_uncached(self, model: str) -> PriceEntry | None:
        model = AZURE_MODEL_RENAMES.get(model, model)
        provider, split_model = self._split_provider(model)

        for candidate in _candidates(model, provider, split_model):
            key = self._find_key(candidate)
            if key is None:
                continue
            raw = self._entries[key]
            entry_provider = raw.get("litellm_provider")
            if _provider_accepts(provider, entry_provider):
                return _price_entry(key, raw)
        return None

    def _split_provider(self, model: str) -> tuple[str | None, str]:
        prefix, separator, rest = model.partition("/")
        if separator and prefix in self._providers:
            return prefix, rest

        key = self._find_key(model)
        if key is not None:
            provider = self._entries[key].get("litellm_provider")
            return (provider if isinstance(provider, str) else None), model

        for pattern, provider in self._routing_rules:
            if pattern.search(model):
                return provider, model
        return None, model

    def _find_key(self, candidate: str) -> str | None:
        if candidate in self._entries:
            return candidate
        return self._lowercase_keys.get(candidate.lower())


def _model_rows(raw_entries: Mapping[str, object]) -> dict[str, dict]:
    return {
        key: value
        for key, value in raw_entries.items()
        if isinstance(key, str)
        and isinstance(value, dict)
        and key not in (_SAMPLE_SPEC_KEY, _GENERALIZATIONS_KEY)
    }


def _expand_aliases(rows: dict[str, dict]) -> dict[str, dict]:
    """Serve every alias name with the entry of the model it names.

    As in LiteLLM, an `aliases` list claims names first, a name that is already a
    model row or already claimed is skipped, and an `alias_of` row that names a
    missing row or another alias row is dropped.
    """
    pointers = {
        name: row["alias_of"]
        for name, row in rows.items()
        if isinstance(row.get("alias_of"), str)
    }
    owners: dict[str, str] = {}

    for name, row in rows.items():
        aliases = row.get("aliases")
        if name in pointers or not isinstance(aliases, list):
            continue
        for alias in aliases:
            claimable = isinstance(alias, str) and alias not in owners
            if claimable and (alias not in rows or alias in pointers):
                owners[alias] = name

    for name, target in pointers.items():
        if target in rows and target not in pointers and name not in owners:
            owners[name] = target

    entries = {name: row for name, row in rows.items() if name not in pointers}
    for alias, owner in owners.items():
        entries[alias] = rows[owner]
    return entries


def _known_providers(entries: Mapping[str, dict]) -> frozenset[str]:
    # A prefix can only select an entry whose own provider it names or one that a
    # provider family accepts, so these names decide every lookup that LiteLLM's
    # longer provider list would.
    providers = {
        value
        for value in (entry.get("litellm_provider") for entry in entries.values())
        if isinstance(value, str) and value and not _CATALOG_ONLY_PROVIDER.match(value)
    }
    return frozenset(providers | _PROVIDERS_MATCHING_OTHERS)


def _routing_rules(block: object) -> tuple[tuple[re.Pattern, str], ...]:
    """Compile the map's routing rules, whose `model_info` names only a provider."""
    rules = block.get("rules") if isinstance(block, dict) else None
    if not isinstance(rules, list):
        return ()

    compiled = []
    for rule in rules:
        if not isinstance(rule, dict) or "extends" in rule:
            continue
        pattern = rule.get("pattern")
        info = rule.get("model_info")
        if not isinstance(pattern, str) or not isinstance(info, dict):
            continue
        provider = info.get("litellm_provider")
        if set(info) != {"litellm_provider"} or not isinstance(provider, str):
            continue
        try:
            compiled.append((re.compile(pattern, re.IGNORECASE), provider))
        except re.error:
            continue
    return tuple(compiled)


def _candidates(model: str, provider: str | None, split_model: str) -> list[str]:
    if provider in ("bedrock", "bedrock_converse"):
        split_model = _bedrock_model_id(split_model)

    ordered = [model, split_model, _strip_version_tail(model, provider)]
    return list(dict.fromkeys(ordered))


def _strip_version_tail(model: str, provider: str | None) -> str:
    if provider in ("bedrock", "bedrock_converse"):
        return _bedrock_base_model(model)
    if provider in ("vertex_ai", "gemini", "databricks"):
        return _NUMBERED_VERSION_TAIL.sub("", model)
    if "ft:" in model:
        return _FINE_TUNE_TAIL.sub("", model)
    return _DATED_SUFFIX.sub("", model)


def _strip_bedrock_routes(model: str) -> str:
    for prefix in _BEDROCK_ROUTE_PREFIXES:
        if model.startswith(prefix):
            model = model[len(prefix) :]
    return model


def _bedrock_model_id(model: str) -> str:
    """Return the id AWS receives: without route prefixes, region path or ARN."""
    model = _strip_bedrock_routes(model)
    region, separator, rest = model.partition("/")
    if separator and _AWS_REGION.match(region):
        model = rest
    if model.startswith("arn:"):
        model = model.rsplit("/", 1)[-1]
    return model


def _bedrock_base_model(model: str) -> str:
    """Return the Bedrock model without route prefixes, ARN and region."""
    # NOTE: LiteLLM also maps `nova/arn:...` names to its custom Nova entries and
    # removes provisioned-throughput suffixes; neither is done here.
    model = _strip_bedrock_routes(model)
    if "arn" in model.lower():
        model = model.rsplit("/", 1)[-1]

    cross_region, dot, rest = model.partition(".")
    if dot and cross_region in _BEDROCK_CROSS_REGION_PREFIXES:
        return rest
    region, separator, rest = model.partition("/")
    if separator and _AWS_REGION.match(region):
        return rest
    return model


def _provider_accepts(provider: str | None, entry_provider: object) -> bool:
    """Return whether an entry filed under `entry_provider` serves `provider`."""
    if provider is None or entry_provider is None or entry_provider == provider:
        return True
    if not isinstance(entry_provider, str):
        return False
    if provider in ("litellm_proxy", "github", "nadir"):
        return True
    if provider == "azure_ai":
        return entry_provider in ("azure", "openai")
    for family in ("vertex_ai", "fireworks_ai"):
        if provider == family:
            return entry_provider.startswith(family)
    if provider.startswith("bedrock"):
        return entry_provider.startswith("bedrock")
    return False


def _price_entry(key: str, raw: Mapping[str, object]) -> PriceEntry:
    tiers = _price_tiers(raw.get("tiered_pricing"))
    input_rate = _rate(raw.get("input_cost_per_token"))
    output_rate = _rate(raw.get("output_cost_per_token"))
    if tiers and input_rate is None and output_rate is None:
        input_rate = tiers[0].input_cost_per_token
        output_rate = tiers[0].output_cost_per_token

    provider = raw.get("litellm_provider")
    mode = raw.get("mode")
    return PriceEntry(
        key=key,
        litellm_provider=provider if isinstance(provider, str) else None,
        mode=mode if isinstance(mode, str) else None,
        input_cost_per_token=input_rate,
        output_cost_per_token=output_rate,
        thresholds=_price_thresholds(raw),
        tiers=tiers,
    )


def _rate(value: object) -> float | None:
    """Return a per-token rate, or None for a missing or unusable value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _price_thresholds(raw: Mapping[str, object]) -> tuple[PriceThreshold, ...]:
    rates: dict[float, dict[str, float | None]] = {}
    for key, value in raw.items():
        match = _ABOVE_THRESHOLD_KEY.match(key)
        if match is None or _rate(value) is None:
            continue
        side, number, thousands = match.groups()
        above = float(number) * (1000 if thousands else 1)
        rates.setdefault(above, {})[side] = _rate(value)

    return tuple(
        PriceThreshold(above, sides.get("input"), sides.get("output"))
        for above, sides in sorted(rates.items())
    )


def _price_tiers(table: object) -> tuple[PriceTier, ...]:
    if not isinstance(table, list):
        return ()

    tiers = []
    for row in table:
        if not isinstance(row, dict):
            continue
        bounds = row.get("range")
        input_rate = _rate(row.get("input_cost_per_token"))
        if not isinstance(bounds, list) or len(bounds) != 2 or input_rate is None:
            continue
        start, end = _rate(bounds[0]), _rate(bounds[1])
        if start is None or end is None:
            continue
        output_rate = _rate(row.get("output_cost_per_token"))
        tiers.append(PriceTier(start, end, input_rate, output_rate))
    return tuple(sorted(tiers, key=lambda tier: tier.start))


def _check_token_count(name: str, value: object) -> None:
    # Counts read from JSON may arrive as whole floats (12.0), which are accepted.
    whole = isinstance(value, int) or (
        isinstance(value, float) and math.isfinite(value) and value.is_integer()
    )
    if isinstance(value, bool) or not whole or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")


def validate_price_override(price: object) -> list[str]:
    """Return what is wrong with a policy's `price` mapping; empty when it is valid.

    A valid override is a mapping with `input_per_million` and/or
    `output_per_million`, each a finite number >= 0 (USD per million tokens).
    """
    if not isinstance(price, Mapping):
        return [f"price must be a mapping, not {type(price).__name__}"]

    messages = []
    for key in price:
        if key not in PRICE_OVERRIDE_KEYS:
            allowed = ", ".join(PRICE_OVERRIDE_KEYS)
            messages.append(f"unknown price key {key!r}; expected one of: {allowed}")
    for key in PRICE_OVERRIDE_KEYS:
        if key in price and _rate(price[key]) is None:
            messages.append(
                f"{key} must be a number >= 0 (USD per million tokens),"
                f" got {price[key]!r}"
            )
    return messages


def _override_rates(
    override: Mapping[str, object] | None,
) -> tuple[float | None, float | None]:
    if override is None:
        return None, None
    messages = validate_price_override(override)
    if messages:
        raise ValueError("invalid price override: " + "; ".join(messages))

    rates = []
    for key in PRICE_OVERRIDE_KEYS:
        per_million = override.get(key)
        rates.append(None if per_million is None else per_million / 1_000_000)
    return rates[0], rates[1]


def _read_json_object(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"price map {path} not found; set {PRICE_MAP_ENV} to an existing"
            " LiteLLM price map JSON file, or unset it to use LiteLLM's own"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read price map {path}: {error}") from None

    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        problem = Problem(
            str(path), error.lineno, error.colno, f"invalid JSON: {error.msg}"
        )
        raise InputError(problem.format(), [problem]) from None

    if not isinstance(data, dict):
        message = (
            "a price map must be a JSON object keyed by model name,"
            f" not a JSON {type(data).__name__}"
        )
        problem = Problem(str(path), 1, 1, message)
        raise InputError(problem.format(), [problem])
    return data


@lru_cache(maxsize=1)
def litellm_package_dir() -> Path | None:
    """Return the installed `litellm` package folder, found without importing it."""
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0])


def price_map_path() -> Path:
    """Return the price map in use: ROUTEBOOK_PRICE_MAP, else LiteLLM's bundled map.

    Raises InputError when neither is available.
    """
    configured = os.environ.get(PRICE_MAP_ENV)
    if configured:
        return Path(configured).expanduser()

    package_dir = litellm_package_dir()
    if package_dir is None:
        raise InputError(
            "litellm is not installed, so its price map is missing; install"
            f" litellm or set {PRICE_MAP_ENV} to a price map JSON file"
        )
    return package_dir / PRICE_MAP_FILE_NAME


_load_lock = threading.Lock()
# The map last loaded, with the ROUTEBOOK_PRICE_MAP value it was loaded for.
_default_map: tuple[str | None, PriceMap] | None = None


def default_price_map() -> PriceMap:
    """Return the price map at `price_map_path()`, read once per ROUTEBOOK_PRICE_MAP.

    Raises InputError when the file is missing or is not a JSON object.
    """
    global _default_map
    configured = os.environ.get(PRICE_MAP_ENV) or None
    loaded = _default_map
    if loaded is not None and loaded[0] == configured:
        return loaded[1]

    # The lock keeps two threads from parsing the 3 MB file at the same time.
    with _load_lock:
        loaded = _default_map
        if loaded is None or loaded[0] != configured:
            loaded = (configured, PriceMap.from_file(price_map_path()))
            _default_map = loaded
    return loaded[1]


def resolve_model(model: str) -> PriceEntry | None:
    """Return the default price map's entry for a LiteLLM model string, or None."""
    return default_price_map().resolve_model(model)


def price_for(model: str) -> tuple[float, float] | None:
    """Return (input, output) USD per token for `model`, or None if unknown."""
    return default_price_map().price_for(model)


def cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Return the USD cost of one request under `model`, or None if unknown."""
    return default_price_map().cost(model, prompt_tokens, completion_tokens)


def cost_with_override(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    override: Mapping[str, object] | None,
) -> float | None:
    """Return the USD cost of one request, preferring the policy's `price` mapping.

    See `PriceMap.cost_with_override`.
    """
    return default_price_map().cost_with_override(
        model, prompt_tokens, completion_tokens, override
    )
