"""Prices from LiteLLM's bundled price map, resolved like LiteLLM, without LiteLLM."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.core import pricing
from tui.core.pricing import PriceMap
from tui.core.problems import InputError

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TOKENIZERS_FOLDER = "litellm_core_utils/tokenizers"


def bundled_map_file() -> Path:
    spec = importlib.util.find_spec("litellm")
    if spec is None:
        pytest.skip("litellm is not installed, so its price map is missing")
    return Path(spec.submodule_search_locations[0]) / pricing.PRICE_MAP_FILE_NAME


@pytest.fixture(scope="module")
def bundled_json() -> dict:
    return json.loads(bundled_map_file().read_text(encoding="utf-8"))


@pytest.fixture
def write_map(tmp_path):
    def write(entries: dict) -> PriceMap:
        path = tmp_path / "prices.json"
        path.write_text(json.dumps(entries), encoding="utf-8")
        return PriceMap.from_file(path)

    return write


def chat(provider: str, input_rate: float, output_rate: float, **extra) -> dict:
    return {
        "litellm_provider": provider,
        "mode": "chat",
        "input_cost_per_token": input_rate,
        "output_cost_per_token": output_rate,
        **extra,
    }


# --- the bundled map, checked against the JSON read here -------------------


def expected_key(bundled: dict, *keys: str) -> str | None:
    """The first of `keys` that is a priced row of the bundled JSON."""
    for key in keys:
        row = bundled.get(key)
        if isinstance(row, dict) and "input_cost_per_token" in row:
            return key
    return None


RESOLUTION_TABLE = [
    ("openai/gpt-4o", ("gpt-4o",)),
    ("gpt-4o", ("gpt-4o",)),
    ("openai/gpt-4o-mini", ("gpt-4o-mini",)),
    ("gpt-4-1106-preview", ("gpt-4-1106-preview",)),
    ("openai/gpt-4-1106-preview", ("gpt-4-1106-preview",)),
    ("anthropic/claude-3-5-sonnet-20240620", ("claude-3-5-sonnet-20240620",)),
    ("anthropic/claude-sonnet-4-5", ("claude-sonnet-4-5",)),
    (
        "together_ai/mistralai/Mixtral-8x7B-Instruct-v0.1",
        ("together_ai/mistralai/Mixtral-8x7B-Instruct-v0.1",),
    ),
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", ("mistralai/Mixtral-8x7B-Instruct-v0.1",)),
    ("Qwen/Qwen2.5-72B-Instruct", ("Qwen/Qwen2.5-72B-Instruct",)),
    ("deepinfra/Qwen/Qwen2.5-72B-Instruct", ("deepinfra/Qwen/Qwen2.5-72B-Instruct",)),
    ("ollama/llama3", ("ollama/llama3",)),
    ("azure/gpt-4o", ("azure/gpt-4o",)),
    ("openai/GPT-4o", ("gpt-4o",)),
    # The provider prefix is case-sensitive, as in LiteLLM.
    ("OpenAI/gpt-4o", ()),
    ("gpt-4o-2099-01-01", ("gpt-4o",)),
    ("no-such-provider/no-such-model-xyz", ()),
    ("definitely not a model", ()),
]


@pytest.mark.parametrize(("model", "keys"), RESOLUTION_TABLE)
def test_resolve_bundled_table(bundled_json, model, keys):
    key = expected_key(bundled_json, *keys)
    entry = pricing.resolve_model(model)

    if key is None:
        assert entry is None
        assert pricing.price_for(model) is None
        assert pricing.cost(model, 1000, 100) is None
        return

    row = bundled_json[key]
    assert entry is not None
    assert entry.key == key
    assert entry.input_cost_per_token == row["input_cost_per_token"]
    assert entry.output_cost_per_token == row["output_cost_per_token"]
    assert entry.litellm_provider == row["litellm_provider"]
    expected_prices = (row["input_cost_per_token"], row["output_cost_per_token"])
    assert pricing.price_for(model) == expected_prices


def test_known_prices_match_json(bundled_json):
    for key in ("gpt-4o", "gpt-4o-mini", "gpt-4-1106-preview"):
        row = bundled_json[key]
        expected = (
            1234 * row["input_cost_per_token"] + 567 * row["output_cost_per_token"]
        )
        assert pricing.cost(f"openai/{key}", 1234, 567) == pytest.approx(
            expected, rel=1e-12
        )


def test_zero_price_differs_from_unknown(bundled_json):
    row = bundled_json.get("ollama/llama3")
    if row is None or row.get("input_cost_per_token") != 0:
        pytest.skip("the bundled map has no zero price for ollama/llama3")

    assert pricing.price_for("ollama/llama3") == (0.0, 0.0)
    assert pricing.cost("ollama/llama3", 5000, 500) == 0.0
    assert pricing.price_for("ollama/no-such-model-xyz") is None
    assert pricing.cost("ollama/no-such-model-xyz", 5000, 500) is None


def test_prefixed_keys_found_as_is(bundled_json):
    prefixes = ("openrouter/", "groq/", "bedrock/", "gemini/", "deepinfra/")
    checked = 0
    for prefix in prefixes:
        keys = [
            key
            for key, row in bundled_json.items()
            if key.startswith(prefix)
            and isinstance(row, dict)
            and "input_cost_per_token" in row
            and "output_cost_per_token" in row
            and "alias_of" not in row
        ]
        for key in keys[:3]:
            entry = pricing.resolve_model(key)
            assert entry is not None, key
            assert entry.key == key
            assert (
                entry.input_cost_per_token == bundled_json[key]["input_cost_per_token"]
            )
            checked += 1
    assert checked >= 6


def test_alias_rows_priced_as_target(bundled_json):
    aliases = {
        key: row["alias_of"]
        for key, row in bundled_json.items()
        if isinstance(row, dict) and isinstance(row.get("alias_of"), str)
    }
    usable = {
        alias: target
        for alias, target in aliases.items()
        if target in bundled_json
        and "alias_of" not in bundled_json[target]
        and "input_cost_per_token" in bundled_json[target]
    }
    if not usable:
        pytest.skip("the bundled map has no alias rows")

    for alias, target in list(usable.items())[:10]:
        entry = pricing.resolve_model(alias)
        assert entry is not None, alias
        assert (
            entry.input_cost_per_token == bundled_json[target]["input_cost_per_token"]
        )


def test_every_priced_key_resolves_to_itself(bundled_json):
    """Each priced row without a foreign prefix is found by its own key."""
    price_map = pricing.default_price_map()
    checked = 0
    for key, row in bundled_json.items():
        if key == "sample_spec" or not isinstance(row, dict) or "alias_of" in row:
            continue
        if "input_cost_per_token" not in row or "output_cost_per_token" not in row:
            continue
        # `azure/...` rows filed under `azure_text` are out of reach in LiteLLM
        # too, because the `azure` prefix rules them out.
        prefix, separator, _ = key.partition("/")
        if separator and prefix != row.get("litellm_provider"):
            if prefix in price_map.providers:
                continue
        checked += 1
        entry = price_map.resolve_model(key)
        assert entry is not None, key
        assert entry.input_cost_per_token == row["input_cost_per_token"], key
        assert entry.output_cost_per_token == row["output_cost_per_token"], key
    assert checked > 1000


def test_non_string_model_rejected():
    with pytest.raises(TypeError):
        pricing.resolve_model(None)


# --- resolution rules, on small maps written by the tests ------------------


def test_prefix_split_and_provider_match(write_map):
    prices = write_map(
        {
            "gpt-x": chat("openai", 1e-6, 2e-6),
            "claude-x": chat("anthropic", 3e-6, 4e-6),
        }
    )
    assert prices.resolve_model("openai/gpt-x").key == "gpt-x"
    assert prices.resolve_model("anthropic/claude-x").key == "claude-x"
    # The entry belongs to another provider, so the prefix rules it out.
    assert prices.resolve_model("anthropic/gpt-x") is None
    # An unknown prefix is part of the name, not a provider.
    assert prices.resolve_model("someorg/gpt-x") is None


def test_provider_families_accept_each_other(write_map):
    prices = write_map(
        {
            "gemini-x": chat("vertex_ai-language-models", 1e-6, 2e-6),
            "gpt-y": chat("openai", 1e-6, 2e-6),
            "anthropic.claude-z-v1:0": chat("bedrock_converse", 1e-6, 2e-6),
        }
    )
    assert prices.resolve_model("vertex_ai/gemini-x").key == "gemini-x"
    assert prices.resolve_model("azure_ai/gpt-y").key == "gpt-y"
    assert prices.resolve_model("litellm_proxy/gpt-y").key == "gpt-y"
    assert prices.resolve_model("bedrock/anthropic.claude-z-v1:0") is not None
    # A catalog name is not a prefix LiteLLM accepts.
    assert prices.resolve_model("vertex_ai-language-models/gemini-x") is None


def test_case_insensitive_fallback(write_map):
    prices = write_map({"Model-A": chat("openai", 1e-6, 2e-6)})
    assert prices.resolve_model("model-a").key == "Model-A"
    assert prices.resolve_model("openai/MODEL-A").key == "Model-A"


def test_version_tails_stripped(write_map):
    prices = write_map(
        {
            "model-b": chat("openai", 1e-6, 2e-6),
            "ft:model-b": chat("openai", 5e-6, 6e-6),
            "gemini-c": chat("vertex_ai-language-models", 1e-6, 2e-6),
            "vertex_ai/gemini-c": chat("vertex_ai-language-models", 1e-6, 2e-6),
        }
    )
    assert prices.resolve_model("model-b-2031-04-05").key == "model-b"
    assert prices.resolve_model("ft:model-b:my-org:suffix:id42").key == "ft:model-b"
    assert prices.resolve_model("ft:model-b:my-org::id42").key == "ft:model-b"
    assert prices.resolve_model("vertex_ai/gemini-c-002").key == "vertex_ai/gemini-c"
    # A date without dashes is not a snapshot suffix.
    assert prices.resolve_model("model-b-20310405") is None


def test_bedrock_names_reduced(write_map):
    prices = write_map(
        {"anthropic.claude-q-v1:0": chat("bedrock", 1e-6, 2e-6)},
    )
    for model in (
        "bedrock/anthropic.claude-q-v1:0",
        "bedrock/converse/anthropic.claude-q-v1:0",
        "bedrock/us-east-1/anthropic.claude-q-v1:0",
        "bedrock/us.anthropic.claude-q-v1:0",
        "bedrock/global.anthropic.claude-q-v1:0",
    ):
        entry = prices.resolve_model(model)
        assert entry is not None, model
        assert entry.key == "anthropic.claude-q-v1:0"


def test_routing_rule_sets_provider(write_map):
    rules = {
        "rules": [
            {
                "name": "anthropic ids",
                "pattern": "^claude-",
                "model_info": {"litellm_provider": "anthropic"},
            }
        ]
    }
    prices = write_map(
        {
            "fallback_generalizations": rules,
            "claude-w": chat("other_cloud", 1e-6, 2e-6),
        }
    )
    # The rule makes `claude-w-2030-01-01` an Anthropic model, so the stripped
    # name's entry, filed under another provider, does not price it.
    assert prices.resolve_model("claude-w-2030-01-01") is None
    assert prices.resolve_model("claude-w").key == "claude-w"


def test_alias_expansion(write_map):
    prices = write_map(
        {
            "real-model": chat("openai", 1e-6, 2e-6, aliases=["nick", "real-twin"]),
            "real-twin": chat("openai", 9e-6, 9e-6),
            "pointer": {"alias_of": "real-model"},
            "dangling": {"alias_of": "missing-model"},
            "chained": {"alias_of": "pointer"},
        }
    )
    assert prices.resolve_model("nick").input_cost_per_token == 1e-6
    assert prices.resolve_model("pointer").input_cost_per_token == 1e-6
    # A name that is already a model row keeps its own prices.
    assert prices.resolve_model("real-twin").input_cost_per_token == 9e-6
    assert prices.resolve_model("dangling") is None
    assert prices.resolve_model("chained") is None


def test_format_rows_ignored(write_map):
    prices = write_map(
        {
            "sample_spec": chat("openai", 0.0, 0.0),
            "fallback_generalizations": {"rules": []},
            "m": chat("openai", 1e-6, 2e-6),
        }
    )
    assert len(prices) == 1
    assert prices.resolve_model("sample_spec") is None


def test_missing_or_bad_rates_unknown(write_map):
    prices = write_map(
        {
            "image-model": {"litellm_provider": "openai", "mode": "image_generation"},
            "half-priced": {"litellm_provider": "openai", "input_cost_per_token": 1e-6},
            "text-price": chat("openai", "0.1", 2e-6),
            "negative": chat("openai", -1e-6, 2e-6),
            "bool-price": chat("openai", True, 2e-6),
        }
    )
    for model in ("image-model", "half-priced", "text-price", "negative", "bool-price"):
        entry = prices.resolve_model(model)
        assert entry is not None, model
        assert prices.price_for(model) is None, model
        assert prices.cost(model, 10, 10) is None, model


# --- costs -----------------------------------------------------------------


def test_cost_formula(write_map):
    prices = write_map({"m": chat("openai", 2.5e-6, 1e-5)})
    assert prices.cost("m", 1000, 200) == pytest.approx(
        1000 * 2.5e-6 + 200 * 1e-5, rel=1e-12
    )
    assert prices.cost("m", 0, 0) == 0.0


def test_cost_above_threshold(write_map):
    prices = write_map(
        {
            "long": chat(
                "gemini",
                1e-6,
                2e-6,
                input_cost_per_token_above_200k_tokens=3e-6,
                output_cost_per_token_above_200k_tokens=4e-6,
                input_cost_per_token_above_128_tokens=1.5e-6,
                input_cost_per_token_above_200k_tokens_priority=9e-6,
            )
        }
    )
    assert prices.cost("long", 100, 10) == pytest.approx(100 * 1e-6 + 10 * 2e-6)
    # Above 128 tokens only the input rate changes.
    assert prices.cost("long", 129, 10) == pytest.approx(129 * 1.5e-6 + 10 * 2e-6)
    # Exactly 200k is not above 200k.
    assert prices.cost("long", 200_000, 10) == pytest.approx(
        200_000 * 1.5e-6 + 10 * 2e-6
    )
    assert prices.cost("long", 200_001, 10) == pytest.approx(200_001 * 3e-6 + 10 * 4e-6)


def test_cost_tiered_pricing(write_map):
    tiers = [
        {
            "input_cost_per_token": 2e-7,
            "output_cost_per_token": 2e-6,
            "range": [256, 1e6],
        },
        {
            "input_cost_per_token": 5e-8,
            "output_cost_per_token": 4e-7,
            "range": [0, 256],
        },
    ]
    prices = write_map(
        {"tiered": {"litellm_provider": "dashscope", "tiered_pricing": tiers}}
    )
    # The first tier's rates stand for the entry.
    assert prices.price_for("tiered") == (5e-8, 4e-7)
    assert prices.cost("tiered", 256, 10) == pytest.approx(256 * 5e-8 + 10 * 4e-7)
    assert prices.cost("tiered", 257, 10) == pytest.approx(257 * 2e-7 + 10 * 2e-6)
    # Beyond every range the last tier applies.
    assert prices.cost("tiered", 2_000_000, 1) == pytest.approx(
        2_000_000 * 2e-7 + 1 * 2e-6
    )


def test_cost_accepts_whole_floats(write_map):
    prices = write_map({"m": chat("openai", 1e-6, 2e-6)})
    assert prices.cost("m", 12.0, 3.0) == prices.cost("m", 12, 3)


@pytest.mark.parametrize("tokens", [-1, 1.5, float("inf"), True, "10", None])
def test_cost_rejects_bad_counts(write_map, tokens):
    prices = write_map({"m": chat("openai", 1e-6, 2e-6)})
    with pytest.raises(ValueError):
        prices.cost("m", tokens, 0)
    with pytest.raises(ValueError):
        prices.cost("m", 0, tokens)


def test_override_full(write_map):
    prices = write_map({"m": chat("openai", 1e-6, 2e-6)})
    override = {"input_per_million": 3.0, "output_per_million": 15}
    expected = 1000 * (3.0 / 1_000_000) + 100 * (15 / 1_000_000)
    assert prices.cost_with_override("m", 1000, 100, override) == pytest.approx(
        expected, rel=1e-12
    )
    # A price in the policy adds a model the map does not know.
    assert prices.cost_with_override("custom/model", 1000, 100, override) == (
        pytest.approx(expected, rel=1e-12)
    )


def test_override_partial(write_map):
    prices = write_map({"m": chat("openai", 1e-6, 2e-6)})
    override = {"output_per_million": 10}
    expected = 1000 * 1e-6 + 100 * (10 / 1_000_000)
    assert prices.cost_with_override("m", 1000, 100, override) == pytest.approx(
        expected, rel=1e-12
    )
    assert prices.cost_with_override("unknown", 1000, 100, override) is None


def test_override_none_or_empty(write_map):
    prices = write_map({"m": chat("openai", 1e-6, 2e-6)})
    plain = prices.cost("m", 10, 10)
    assert prices.cost_with_override("m", 10, 10, None) == plain
    assert prices.cost_with_override("m", 10, 10, {}) == plain
    assert prices.cost_with_override("unknown", 10, 10, None) is None


@pytest.mark.parametrize(
    "override",
    [
        {"input_per_million": -1},
        {"input_per_million": "3"},
        {"output_per_million": float("nan")},
        {"input_per_million": True},
        {"input_per_1k": 3},
        [3, 15],
    ],
)
def test_override_invalid(write_map, override):
    prices = write_map({"m": chat("openai", 1e-6, 2e-6)})
    assert pricing.validate_price_override(override)
    with pytest.raises(ValueError):
        prices.cost_with_override("m", 10, 10, override)


def test_override_messages_name_key():
    messages = pricing.validate_price_override({"input_per_1k": 3})
    assert messages == [
        "unknown price key 'input_per_1k'; expected one of:"
        " input_per_million, output_per_million"
    ]
    assert pricing.validate_price_override({"input_per_million": 0}) == []


# --- the map file ----------------------------------------------------------


def test_env_map_used(monkeypatch, tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"my-model": chat("openai", 7e-6, 8e-6)}))
    monkeypatch.setenv(pricing.PRICE_MAP_ENV, str(path))

    assert pricing.price_map_path() == path
    assert pricing.price_for("my-model") == (7e-6, 8e-6)
    assert pricing.price_for("gpt-4o") is None


def test_env_map_missing(monkeypatch, tmp_path):
    monkeypatch.setenv(pricing.PRICE_MAP_ENV, str(tmp_path / "absent.json"))
    with pytest.raises(InputError, match="absent.json not found"):
        pricing.price_for("gpt-4o")


def test_invalid_json_located(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "m": {"input_cost_per_token": 1e-6,,}\n}\n')
    with pytest.raises(InputError) as caught:
        PriceMap.from_file(path)

    problem = caught.value.problems[0]
    second_line = path.read_text().splitlines()[1]
    assert problem.path == str(path)
    assert problem.line == 2
    # 1-based column of the second of the two commas.
    assert problem.column == second_line.index(",,") + 2
    assert "invalid JSON" in problem.message


def test_non_object_rejected(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(InputError, match="JSON object keyed by model name"):
        PriceMap.from_file(path)


# --- no LiteLLM, no network -------------------------------------------------

NETWORK_GUARD = """
import socket
attempts = []
def reject_connection(*args, **kwargs):
    attempts.append(repr(args[1:] if args else kwargs))
    raise OSError("network disabled by the test")
socket.socket.connect = reject_connection
socket.socket.connect_ex = reject_connection
socket.create_connection = reject_connection
socket.getaddrinfo = reject_connection
"""


def offline_env() -> dict:
    env = dict(os.environ)
    env.pop("TIKTOKEN_CACHE_DIR", None)
    env.pop(pricing.PRICE_MAP_ENV, None)
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        # Port 9 (discard) on the loopback: nothing listens there.
        env[name] = "http://127.0.0.1:9"
        env[name.lower()] = "http://127.0.0.1:9"
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return env


def test_offline_without_litellm():
    bundled_map_file()
    script = NETWORK_GUARD + (
        "import json, sys, time\n"
        "start = time.perf_counter()\n"
        "from tui.core import pricing, tokens\n"
        "messages = [{'role': 'user', 'content': 'What is 2 + 2?'}]\n"
        "counted = [\n"
        "    tokens.count_request_tokens(messages, model).tokens\n"
        "    for model in ('openai/gpt-4o', 'gpt-4-1106-preview',\n"
        "                  'mistralai/Mixtral-8x7B-Instruct-v0.1')\n"
        "]\n"
        "priced = pricing.cost('openai/gpt-4o', counted[0], 10)\n"
        "print(json.dumps({\n"
        "    'litellm': sorted(m for m in sys.modules if m.startswith('litellm')),\n"
        "    'attempts': attempts, 'counted': counted, 'priced': priced,\n"
        "    'seconds': time.perf_counter() - start,\n"
        "}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    report = json.loads(result.stdout.splitlines()[-1])
    assert report["litellm"] == []
    assert report["attempts"] == []
    assert all(count > 3 for count in report["counted"])
    assert report["priced"] is not None
    assert report["priced"] > 0


# --- agreement with LiteLLM itself ------------------------------------------
# One LiteLLM process answers the price questions here and the token questions
# of test_tokens.py, because importing LiteLLM takes seconds.

ORACLE = (
    NETWORK_GUARD
    + """
import json, os, sys
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
import litellm
litellm.suppress_debug_info = True
case = json.load(sys.stdin)
prices = {}
for model in case["price_models"]:
    try:
        info = litellm.get_model_info(model)
    except Exception:
        prices[model] = None
    else:
        prices[model] = [info["input_cost_per_token"], info["output_cost_per_token"]]
counts = {}
for model in case["token_models"]:
    counts[model] = {
        "messages": [litellm.token_counter(model=model, messages=messages)
                     for messages in case["messages"]],
        "texts": [litellm.token_counter(model=model, text=text)
                  for text in case["texts"]],
    }
print()
print(json.dumps({"prices": prices, "counts": counts, "attempts": attempts}))
"""
)


@functools.lru_cache(maxsize=1)
def litellm_oracle() -> dict:
    """LiteLLM's own prices and token counts for the parity cases of both files."""
    if importlib.util.find_spec("litellm") is None:
        pytest.skip("litellm is not installed")
    from .test_tokens import PARITY_MESSAGES, PARITY_MODELS, PARITY_TEXTS

    bundled = json.loads(bundled_map_file().read_text(encoding="utf-8"))
    case = {
        "price_models": parity_models(bundled),
        "token_models": PARITY_MODELS,
        "messages": PARITY_MESSAGES,
        "texts": PARITY_TEXTS,
    }
    env = offline_env()
    env["TIKTOKEN_CACHE_DIR"] = str(bundled_map_file().parent / TOKENIZERS_FOLDER)
    result = subprocess.run(
        [sys.executable, "-c", ORACLE],
        input=json.dumps(case),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.splitlines()[-1])
    assert answers["attempts"] == []
    return answers


def parity_models(bundled: dict) -> list[str]:
    """Every 40th key, with its provider prefix and upper-cased, plus odd names."""
    models = [model for model, _ in RESOLUTION_TABLE]
    models += [
        "gpt-4o-2099-01-01",
        "openai/gpt-4o-2099-01-01",
        "ft:gpt-4o-mini-2024-07-18:org::abc",
        "vertex_ai/gemini-2.5-pro",
        "gemini/gemini-2.5-pro-001",
        "bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0",
        "azure_ai/gpt-4o",
        "groq/gpt-4o",
    ]
    # LiteLLM queries a local server for Ollama and Lemonade models and the Hugging
    # Face Hub for huggingface/* models, so those stay out of the oracle.
    keys = [
        key
        for key in bundled
        if not key.startswith(("ollama", "lemonade", "huggingface"))
        and key not in ("sample_spec", "fallback_generalizations")
    ]
    for key in keys[::40]:
        provider = bundled[key].get("litellm_provider")
        models += [key, key.upper()]
        if isinstance(provider, str) and not key.startswith(f"{provider}/"):
            models.append(f"{provider}/{key}")
    return [model for model in dict.fromkeys(models) if not model.startswith("ollama")]


def known_litellm_quirk(model: str, bundled: dict) -> bool:
    """LiteLLM 1.110.2 cannot price these, though the map lists them."""
    name = model.rsplit("/", 1)[-1]
    row = bundled.get(name) or {}
    # It files bare AI21 names under `ai21_chat`, which their rows do not carry.
    if row.get("litellm_provider") == "ai21":
        return True
    # It sends azure/<non-OpenAI model> to the `openai` provider.
    return model.lower().startswith("azure/") and "gpt" not in model.lower()


def test_prices_agree_with_litellm(bundled_json):
    expected = litellm_oracle()["prices"]

    for model in parity_models(bundled_json):
        theirs = expected[model]
        mine = pricing.resolve_model(model)
        if mine is not None and mine.tiers:
            # LiteLLM reports 0 for these and applies the tiers only in cost.
            continue
        if theirs is None:
            assert mine is None or known_litellm_quirk(model, bundled_json), model
            continue

        if theirs == [0, 0] and (mine is None or not mine.is_priced):
            # LiteLLM's 0 for an unpriced or rule-matched name is unknown here.
            continue
        assert mine is not None, model
        # LiteLLM reads a missing rate as 0.
        stated = [mine.input_cost_per_token or 0, mine.output_cost_per_token or 0]
        assert stated == theirs, model


# --- the real two-model data beside the project -----------------------------


@pytest.mark.shared_data
def test_shared_data_models_priced():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")

    models = set()
    for name in ("gsm8k_two_models.jsonl", "multilingual_two_models.jsonl"):
        with open(SHARED_DATA / name, encoding="utf-8") as lines:
            row = json.loads(next(lines))
        models.update((row["strong_model"], row["weak_model"]))

    assert "gpt-4-1106-preview" in models
    assert pricing.price_for("gpt-4-1106-preview") is not None
    # Bare Hugging Face names carry no provider, so no price applies to them.
    for model in models - {"gpt-4-1106-preview"}:
        assert "/" in model
        assert pricing.price_for(model) is None, model
