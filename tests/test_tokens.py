"""Token counts with tiktoken, offline, matching LiteLLM's token_counter."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tiktoken
import tiktoken_ext.openai_public

from tui.core import tokens
from tui.core.tokens import count_request_tokens, count_text_tokens

from .test_pricing import NETWORK_GUARD, TOKENIZERS_FOLDER, litellm_oracle, offline_env

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

HARD_TEXTS = {
    "ascii": "Where is my order #12345? It was due on 2024-03-01.",
    "control": "tab\there\x00nul\x07bell\x1b[31mansi\r\nline\x7f",
    "right_to_left": "مرحبا بالعالم \u202eRTL override\u202c שלום עולם",
    "wide": "日本語のテキストと한국어 텍스트 and 中文 ｆｕｌｌｗｉｄｔｈ",
    "emoji": "🚀🚀 👩‍👩‍👧‍👦 🇯🇵 \ufe0f",
    "special_tokens": "<|endoftext|> <|fim_prefix|><|im_start|>user<|im_end|>",
    "combining": "e\u0301 a\u0308 Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǵ̗͚o̮̣",
    "long_run": "a" * 50_000 + " " * 20_000 + "." * 10_000,
}


def encoding(name: str):
    """The tiktoken encoding, loaded from the files LiteLLM ships."""
    tokens.get_encoding(name)  # points TIKTOKEN_CACHE_DIR at LiteLLM's files
    return tiktoken.get_encoding(name)


def text_tokens(text: str, encoding_name: str) -> int:
    return len(encoding(encoding_name).encode(text, disallowed_special=()))


# --- which tokenizer ----------------------------------------------------------

TOKENIZER_TABLE = [
    ("gpt-4o", "o200k_base"),
    ("openai/gpt-4o", "o200k_base"),
    ("openai/gpt-4o-mini", "o200k_base"),
    ("azure/gpt-4o", "o200k_base"),
    ("ft:gpt-4o-mini-2024-07-18:org::abc", "o200k_base"),
    ("o1", "o200k_base"),
    ("o3-mini", "o200k_base"),
    ("gpt-4.1", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("openai/gpt-7-preview", "o200k_base"),
    ("gpt-4-1106-preview", "cl100k_base"),
    ("openai/gpt-4-1106-preview", "cl100k_base"),
    ("gpt-3.5-turbo", "cl100k_base"),
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", "cl100k_base"),
    ("together_ai/mistralai/Mixtral-8x7B-Instruct-v0.1", "cl100k_base"),
    ("Qwen/Qwen2.5-72B-Instruct", "cl100k_base"),
    ("anthropic/claude-sonnet-4-5", "cl100k_base"),
    ("claude-sonnet-4-5", "cl100k_base"),
    ("meta-llama/Llama-3-70b", "cl100k_base"),
    ("deepseek/deepseek-chat", "cl100k_base"),
    ("azure/my-deployment", "cl100k_base"),
    ("text-davinci-003", "cl100k_base"),
    ("", "cl100k_base"),
    ("not a model at all", "cl100k_base"),
]


@pytest.mark.parametrize(("model", "expected"), TOKENIZER_TABLE)
def test_tokenizer_name_table(model, expected):
    assert tokens.tokenizer_name(model) == expected


def test_tokenizer_name_rejects_non_string():
    with pytest.raises(TypeError):
        tokens.tokenizer_name(42)


# --- text ------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(HARD_TEXTS))
@pytest.mark.parametrize(
    "model", ["openai/gpt-4o", "gpt-4-1106-preview", "mistralai/Mixtral-8x7B"]
)
def test_count_text_hard_cases(case, model):
    text = HARD_TEXTS[case]
    expected = text_tokens(text, tokens.tokenizer_name(model))
    assert count_text_tokens(text, model) == expected
    assert expected > 0


def test_special_tokens_counted_as_text():
    text = "<|endoftext|>"
    cl100k = encoding("cl100k_base")
    end_of_text = cl100k.encode(text, allowed_special="all")
    assert len(end_of_text) == 1

    counted = count_text_tokens(text, "gpt-4-1106-preview")
    assert counted == len(cl100k.encode_ordinary(text))
    assert counted > 1


def test_lone_surrogate_counted():
    # JSON can carry an unpaired surrogate ("\ud83d"), which UTF-8 cannot encode.
    text = json.loads('"broken \\ud83d emoji"')
    assert count_text_tokens(text, "openai/gpt-4o") > 0


def test_empty_text_zero():
    assert count_text_tokens("", "openai/gpt-4o") == 0


def test_count_text_rejects_non_string():
    with pytest.raises(TypeError):
        count_text_tokens(None, "openai/gpt-4o")


# --- chat messages -----------------------------------------------------------


def message_tokens(messages: list[dict], encoding_name: str) -> int:
    """3 per message, every string value, 1 per name, 3 to prime the reply."""
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            total += text_tokens(value, encoding_name)
            if key == "name":
                total += 1
    return total


def test_messages_overhead():
    messages = [
        {"role": "system", "content": "You answer in one word."},
        {"role": "user", "name": "alice", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
    ]
    for model in ("openai/gpt-4o", "gpt-4-1106-preview"):
        expected = message_tokens(messages, tokens.tokenizer_name(model))
        counted = count_request_tokens(messages, model)
        assert counted.tokens == expected
        assert counted.unsupported == []


def test_prompt_string_has_no_framing():
    prompt = HARD_TEXTS["wide"]
    counted = count_request_tokens(prompt, "openai/gpt-4o")
    assert counted.tokens == text_tokens(prompt, "o200k_base")
    assert counted.unsupported == []


def test_empty_messages_only_priming():
    assert count_request_tokens([], "openai/gpt-4o").tokens == 3


def test_text_parts_counted():
    parts = [
        {"type": "text", "text": "Describe this picture."},
        "a bare string part",
        {"type": "image_url", "image_url": {"url": "https://example.invalid/a.png"}},
        {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}},
    ]
    counted = count_request_tokens([{"role": "user", "content": parts}], "gpt-4o")

    texts = ["user", "Describe this picture.", "a bare string part"]
    expected = 3 + 3 + sum(text_tokens(text, "o200k_base") for text in texts)
    assert counted.tokens == expected
    assert counted.unsupported == [
        "messages[0].content[2]: 'image_url' part not counted",
        "messages[0].content[3]: 'input_audio' part not counted",
    ]


def test_tool_call_arguments_counted():
    arguments = '{"city": "Zürich", "unit": "celsius"}'
    messages = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "21 degrees"},
        {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}},
    ]
    counted = count_request_tokens(messages, "gpt-4-1106-preview")

    texts = ["assistant", arguments, "tool", "call_1", "21 degrees", "assistant", "{}"]
    expected = 3 + 3 * 3 + sum(text_tokens(text, "cl100k_base") for text in texts)
    assert counted.tokens == expected
    assert counted.unsupported == []


def test_odd_tool_calls_reported():
    messages = [
        {"role": "assistant", "tool_calls": "not a list"},
        {"role": "assistant", "tool_calls": [{"id": "x"}, 7]},
        {"role": "assistant", "tool_calls": [{"function": {"arguments": {"a": 1}}}]},
        {"role": "assistant", "function_call": ["junk"]},
    ]
    counted = count_request_tokens(messages, "gpt-4o")

    assert counted.tokens == 3 + 4 * (3 + text_tokens("assistant", "o200k_base"))
    assert counted.unsupported == [
        "messages[0].tool_calls: expected a list of tool calls, got a string",
        "messages[1].tool_calls[0]: tool call without a function object not counted",
        "messages[1].tool_calls[1]: tool call without a function object not counted",
        "messages[2].tool_calls[0].function.arguments: an object not counted",
        "messages[3].function_call: expected an object, got a list",
    ]


def test_junk_messages_reported():
    messages = [
        {"role": "user", "content": 42},
        "just a string",
        None,
        {"role": "user", "content": [None, 3.5, ["nested"], {"text": "no type"}]},
        {"role": "user", "content": {"type": "text", "text": "not in a list"}},
        {"role": "user", "content": [{"type": "text", "text": {"deep": "junk"}}]},
        {"role": True, "name": 9, "cache_control": {"type": "ephemeral"}},
    ]
    counted = count_request_tokens(messages, "gpt-4o")

    user = text_tokens("user", "o200k_base")
    # Messages 1 and 2 are not objects, and message 6 has no string value.
    assert counted.tokens == 3 + 5 * 3 + 4 * user
    assert counted.unsupported == [
        "messages[0].content: a number not counted",
        "messages[1]: expected an object, got a string",
        "messages[2]: expected an object, got a NoneType value",
        "messages[3].content[0]: a NoneType value not counted",
        "messages[3].content[1]: a number not counted",
        "messages[3].content[2]: a list not counted",
        "messages[3].content[3]: part without a type not counted",
        "messages[4].content: an object not counted",
        "messages[5].content[0].text: an object not counted",
        "messages[6].role: a boolean not counted",
        "messages[6].name: a number not counted",
    ]


@pytest.mark.parametrize(
    "request_value",
    [
        None,
        42,
        3.5,
        {"role": "user", "content": "a dict, not a list"},
        b"bytes",
        object(),
        [[["deeply"], {"nested": [None]}]],
        [{"role": "user", "content": [{"type": None}, {"type": 5}]}],
        [{1: "non-string key", "content": "x"}],
        ({"role": "user", "content": "a tuple of messages"},),
    ],
)
def test_count_never_raises(request_value):
    counted = count_request_tokens(request_value, "openai/gpt-4o")
    assert counted.tokens >= 0
    assert isinstance(counted.unsupported, list)


def test_non_request_reported():
    assert count_request_tokens(None, "gpt-4o").unsupported == [
        "request: no prompt or messages"
    ]
    counted = count_request_tokens(42, "gpt-4o")
    assert counted.tokens == 0
    assert counted.unsupported == [
        "request: expected a prompt string or a message list, got int"
    ]


# --- offline loading -----------------------------------------------------------


def litellm_tokenizers() -> Path:
    spec = importlib.util.find_spec("litellm")
    if spec is None:
        pytest.skip("litellm is not installed, so its tokenizer files are missing")
    return Path(spec.submodule_search_locations[0]) / TOKENIZERS_FOLDER


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_bundled_file_is_tiktokens_cache(name):
    # tiktoken names a cached file after the SHA-1 of the URL it downloads from.
    source = inspect.getsource(getattr(tiktoken_ext.openai_public, name))
    url = f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
    assert url in source

    cache_file = litellm_tokenizers() / hashlib.sha1(url.encode()).hexdigest()
    assert cache_file.is_file()
    assert cache_file.stat().st_size > 1_000_000


def run_offline(script: str, env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", NETWORK_GUARD + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_cache_dir_set_when_unset():
    folder = litellm_tokenizers()
    script = (
        "import json, os\n"
        "from tui.core import tokens\n"
        "count = tokens.count_text_tokens('hello world', 'openai/gpt-4o')\n"
        "print(json.dumps({'count': count, 'attempts': attempts,\n"
        "                  'dir': os.environ.get('TIKTOKEN_CACHE_DIR')}))\n"
    )
    report = run_offline(script, offline_env())
    assert report["count"] == 2
    assert report["attempts"] == []
    assert Path(report["dir"]) == folder


def test_user_cache_dir_kept(tmp_path):
    env = offline_env()
    env["TIKTOKEN_CACHE_DIR"] = str(tmp_path)
    script = (
        "import json, os\n"
        "from tui.core import tokens\n"
        "try:\n"
        "    tokens.count_text_tokens('hello', 'openai/gpt-4o')\n"
        "    error = None\n"
        "except tokens.TokenizerUnavailableError as caught:\n"
        "    error = str(caught)\n"
        "print(json.dumps({'error': error, 'attempts': attempts,\n"
        "                  'dir': os.environ['TIKTOKEN_CACHE_DIR']}))\n"
    )
    report = run_offline(script, env)
    assert report["dir"] == str(tmp_path)
    assert report["attempts"] == []
    assert "o200k_base" in report["error"]
    assert "not found" in report["error"]
    assert os.listdir(tmp_path) == []


def test_broken_price_map_still_counts(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    env = offline_env()
    env["ROUTEBOOK_PRICE_MAP"] = str(path)
    script = (
        "import json\n"
        "from tui.core import tokens\n"
        "names = [tokens.tokenizer_name(m) for m in ('gpt-4o', 'gpt-4', 'o3', 'x')]\n"
        "count = tokens.count_text_tokens('hello world', 'gpt-4o')\n"
        "print(json.dumps({'names': names, 'count': count}))\n"
    )
    report = run_offline(script, env)
    assert report["names"] == ["o200k_base", "cl100k_base", "o200k_base", "cl100k_base"]
    assert report["count"] == 2


# --- agreement with LiteLLM itself ------------------------------------------

PARITY_MODELS = [
    "gpt-4o",
    "openai/gpt-4o-mini",
    "azure/gpt-4o",
    "gpt-4-1106-preview",
    "openai/gpt-4-1106-preview",
    "gpt-3.5-turbo",
    "o1",
    "gpt-4.1",
    "gpt-5",
    "ft:gpt-4o-mini-2024-07-18:org::abc",
    "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "together_ai/mistralai/Mixtral-8x7B-Instruct-v0.1",
    "Qwen/Qwen2.5-72B-Instruct",
    "anthropic/claude-sonnet-4-5",
    "gemini/gemini-2.5-pro",
    "no-such-model",
]

PARITY_MESSAGES = [
    [{"role": "user", "content": "What is 2 + 2?"}],
    [
        {"role": "system", "content": HARD_TEXTS["special_tokens"]},
        {"role": "user", "name": "bob", "content": HARD_TEXTS["right_to_left"]},
        {"role": "user", "content": [{"type": "text", "text": HARD_TEXTS["wide"]}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"q": "ß"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_9", "content": HARD_TEXTS["emoji"]},
    ],
]

# Texts under 1024 characters, which LiteLLM encodes in one piece as this module does.
PARITY_TEXTS = [HARD_TEXTS[name] for name in HARD_TEXTS if name != "long_run"]


def test_counts_agree_with_litellm():
    expected = litellm_oracle()["counts"]

    for model in PARITY_MODELS:
        counted_messages = [
            count_request_tokens(messages, model).tokens for messages in PARITY_MESSAGES
        ]
        counted_texts = [count_text_tokens(text, model) for text in PARITY_TEXTS]
        assert counted_messages == expected[model]["messages"], model
        assert counted_texts == expected[model]["texts"], model


# --- the real two-model data beside the project -----------------------------


def shared_rows(name: str) -> list[dict]:
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"real data not found at {path}")
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.mark.shared_data
def test_shared_gsm8k_prompts():
    rows = shared_rows("gsm8k_two_models.jsonl")
    cl100k = encoding("cl100k_base")
    for row in rows:
        expected = len(cl100k.encode(row["prompt"], disallowed_special=()))
        for model in (row["strong_model"], row["weak_model"]):
            counted = count_request_tokens(row["prompt"], model)
            assert counted.tokens == expected, row["id"]
            assert counted.unsupported == []


@pytest.mark.shared_data
def test_shared_multilingual_prompts():
    rows = shared_rows("multilingual_two_models.jsonl")
    o200k = encoding("o200k_base")
    cl100k = encoding("cl100k_base")
    for row in rows:
        prompt = row["prompt"]
        qwen_count = count_text_tokens(prompt, row["strong_model"])
        assert qwen_count == len(cl100k.encode(prompt, disallowed_special=()))
        gpt_count = count_text_tokens(prompt, "openai/gpt-4o")
        assert gpt_count == len(o200k.encode(prompt, disallowed_special=()))
