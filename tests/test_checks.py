"""Output checks on hand-written positive and negative examples."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal

import pytest

from tui.core import checks
from tui.core.checks import (
    ALL_CHECKS,
    DEFAULT_CONFIG,
    OUTPUT_CHECKS,
    CheckCache,
    ChecksConfig,
    OutputInfo,
    RequestInfo,
    check_output,
    check_pair,
    classify_format,
    extract_json,
    grade_from_checks,
    parse_number,
    prompt_asks_for_json,
)


def run(text, locale="en", prompt="Please help me with this.", **output):
    request = RequestInfo(prompt_text=prompt, locale=locale)
    return check_output(OutputInfo(text, **output), request)


def flag(check, text, locale="en", prompt="Please help me with this.", **output):
    return run(text, locale, prompt, **output)[check].flag


def pair(first, second, prompt="Please help.", locale="en", expects_json=None):
    request = RequestInfo(prompt, locale, expects_json)
    return check_pair(OutputInfo(first), OutputInfo(second), request)


LONG_HELPFUL = (
    "I cannot stress enough how important backups are. "
    + "Here is a step you should follow carefully to keep your data safe. " * 30
)


# --- empty -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t \n"])
def test_empty_flags_blank(text):
    result = run(text)["empty"]
    assert result.flag
    assert result.span == (0, len(text))


def test_empty_passes_text():
    assert not flag("empty", "Yes.")


def test_output_without_text_has_no_results():
    request = RequestInfo("Hi", "en")
    assert check_output(OutputInfo(None), request) == {}


# --- refusal -----------------------------------------------------------------

REFUSALS = {
    "en": "I'm sorry, but I can't help with that request.",
    "en-ai": "As an AI language model, I cannot create content like that.",
    "en-decline": "I must respectfully decline to write this.",
    "de": "Es tut mir leid, aber ich kann Ihnen dabei nicht helfen.",
    "de-ai": "Als KI-Sprachmodell kann ich keine solchen Inhalte erstellen.",
    "es": "Lo siento, pero no puedo ayudarte con eso.",
    "fr": "Je suis désolé, mais je ne peux pas vous aider avec cette demande.",
    "pl": "Przepraszam, ale nie mogę pomóc w tej sprawie.",
    "tr": "Üzgünüm, ancak bu konuda size yardımcı olamam.",
    "id": "Maaf, tetapi saya tidak dapat membantu permintaan ini.",
    "vi": "Xin lỗi, nhưng tôi không thể giúp bạn với yêu cầu này.",
    "ja": "申し訳ありませんが、そのご依頼にはお応えできません。",
    "ko": "죄송하지만, 그 요청은 도와드릴 수 없습니다.",
    "zh": "抱歉，我无法帮助你完成这个请求。",
    "pt": "Desculpe, mas não posso ajudar com isso.",
    "it": "Mi dispiace, ma non posso aiutarti con questa richiesta.",
    "nl": "Het spijt me, maar ik kan je hier niet mee helpen.",
    "ru": "Извините, но я не могу помочь с этим запросом.",
    "ar": "عذرًا، لا أستطيع المساعدة في هذا الطلب.",
    "hi": "माफ़ कीजिए, लेकिन मैं इस अनुरोध में मदद नहीं कर सकता।",
}


@pytest.mark.parametrize("key", sorted(REFUSALS))
def test_refusal_flags_language(key):
    locale = key.split("-")[0]
    result = run(REFUSALS[key], locale)["refusal"]
    assert result.flag
    start, end = result.span
    assert REFUSALS[key][start:end] == result.evidence


def test_refusal_flags_english_for_other_locale():
    assert flag("refusal", "I'm sorry, but I can't assist with that.", "de")


def test_refusal_flags_short_decline_with_alternative():
    text = (
        "Maaf, tetapi saya tidak bisa menulis kode untuk tujuan itu. "
        "Saya bisa menjelaskan cara mencegah serangan semacam ini jika Anda mau."
    )
    assert flag("refusal", text, "id")


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        (LONG_HELPFUL, "en"),
        ("Es tut mir leid zu hören, dass Ihre Maschine keinen Druck aufbaut.", "de"),
        ("I can't browse the internet, but here is how to check it yourself.", "en"),
        ("Sure! Here is the function you asked for.", "en"),
        ("这个问题无法用一句话回答，下面分三步说明。", "zh"),
    ],
)
def test_refusal_passes_helpful(text, locale):
    assert not flag("refusal", text, locale)


def test_refusal_passes_long_answer_opening_with_decline():
    text = (
        "I'm sorry, but I can't write that exploit. " + "Here is how to defend. " * 80
    )
    assert len(text) > DEFAULT_CONFIG.refusal.max_chars
    assert not flag("refusal", text)


def test_refusal_passes_phrase_late_in_answer():
    text = "Here is the plan for your trip. " * 12 + "I can't help with visas."
    assert not flag("refusal", text)


# --- truncated ---------------------------------------------------------------


def test_truncated_finish_reason_length():
    result = run("A complete sentence.", finish_reason="length")["truncated"]
    assert result.flag
    assert "length" in result.evidence


def test_truncated_token_cap():
    result = run("Fine.", completion_tokens=512, max_tokens=512)["truncated"]
    assert result.flag
    assert not flag("truncated", "Fine.", completion_tokens=511, max_tokens=512)


@pytest.mark.parametrize(
    "text",
    [
        "She has 15 apples and buys 2 more, a total of 15 + 2 = <<15+2",
        "The house is worth 80,000 + 50,000 = $<<80000+50000=130000>>130,00",
        "He sold 3 x 1,000 = 3,000 books, then 88,00",
        "Here is the script:\n```python\nimport os\nfor name in os.listdir('.'):",
        "See the settings page (under Advanced",
        "1. **Install the package**\n2. **Configure the serv",
        "| name | value |\n|---|---|\n| a | 1 |\n| b | 2",
        "Steps:\n1. Open the menu\n2.",
        "Overview of the plan.\n\n### 2",
        "The remaining cost is 75 -",
        "Altogether they have 3 + 3 +",
        "In each room, Bob washes 2 sheets,",
        "So we can set up the following equation:",
        "Die Funktion berechnet die Summe aller Werte und gibt danach das Ergebnis an "
        "den Aufrufer zurück, damit dieser weitermach",
        "このサンプルは設定ファイルを読み込んでから各サービスに接続し、結果をまとめて画面に表示して",
    ],
)
def test_truncated_flags_cut_end(text):
    result = run(text, "de" if "Funktion" in text else "en")["truncated"]
    assert result.flag, text
    start, end = result.span
    assert 0 <= start < end <= len(text)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("Natalia sold 48 + 24 = <<48+24=72>>72 clips.\n#### 72", "en"),
        ("Total time is 90 minutes.\n#### 90 minutes or 1 hour and 30 minutes", "en"),
        ("So the answer is 42", "en"),
        ("Total: $1,250", "en"),
        ("- milk\n- eggs\n- Protection des employés au travail", "fr"),
        ("```python\nprint('done')\n```", "en"),
        ("这就是最终结果。", "zh"),
        ("設定は以上です！", "ja"),
        ("이렇게 하면 됩니다.", "ko"),
        ("Viel Erfolg beim Projekt! 🚀", "de"),
        ("Mit freundlichen Grüßen,\nAnna", "de"),
        ("Der Gesamtpreis beträgt 130,00", "de"),
        ("## Summary\nEverything is configured and tested.", "en"),
        ("Final formula:\n\\[\n\\boxed{\\frac{3}{2}}\n\\]", "en"),
        ('{"entities": [[1, "Acme", "Company"]]}', "en"),
        ("Use the `--force` flag to overwrite existing files.", "en"),
        ("---", "en"),
        ("Result: 7 (approximately)", "en"),
        ("Yes", "en"),
        ("For the full list of options see https://docs.example.org/cli/flags", "en"),
        ("You can reach the maintainers of this project at team@example.org", "en"),
    ],
)
def test_truncated_passes_complete_end(text, locale):
    assert not flag("truncated", text, locale), text


# --- repetitive --------------------------------------------------------------


def test_repetitive_number_loop():
    text = "The matrix is:\n" + "1, " * 400
    result = run(text)["repetitive"]
    assert result.flag
    assert "'1,'" in result.evidence
    assert result.span[1] == len(text.rstrip())


def test_repetitive_null_loop_span_covers_loop():
    prefix = "Here is the list of values: "
    text = prefix + "null, " * 200 + "null"
    result = run(text)["repetitive"]
    assert result.flag
    start, _ = result.span
    assert start <= len(prefix) + len("null, ")


def test_repetitive_same_line():
    line = "Check the pressure sensor and make sure the valve is fully closed."
    text = "Steps:\n" + "\n".join(f"{i}. {line}" for i in range(1, 16))
    result = run(text)["repetitive"]
    assert result.flag
    assert "appears 15 times" in result.evidence


def test_repetitive_numbered_heading_loop():
    item = "### {n}. **Sync problems between the loader and the board (other)**\n"
    text = "".join(item.format(n=n) for n in range(100, 171))
    assert flag("repetitive", text)


def test_repetitive_word_loop_cjk():
    text = "以下是结果：" + "フ" * 3000
    assert flag("repetitive", text, "zh")


def test_repetitive_compressible_tail():
    # Lines that differ only in a counter defeat the line test but compress.
    lines = [f"    Public Reserved{n} As Integer()" for n in range(300, 420)]
    text = "Module Layout\n" + "\n".join(lines) + "\nEnd Module"
    result = run(text)["repetitive"]
    tail = text.rstrip()[-DEFAULT_CONFIG.repetitive.tail_chars :].encode()
    ratio = len(zlib.compress(tail)) / len(tail)
    assert ratio <= DEFAULT_CONFIG.repetitive.max_zlib_ratio
    assert result.flag
    assert "compress" in result.evidence


BACKUP_GUIDE = """Backups fail quietly, so plan them before you need them.

Start with an inventory: list every database, bucket and volume, who owns it,
and how much data you could lose without harm. That tolerance decides the
schedule. Payment records may need hourly snapshots; a wiki can live with a
nightly copy.

Keep three copies on two kinds of storage, one of them off site. Cloud object
storage with versioning covers the off-site copy cheaply, while a local disk
array makes restores fast.

Encrypt everything before it leaves the machine and store the keys apart from
the archives. Rotate credentials that the backup job uses every quarter.

Finally, rehearse. Pick a random archive each month, restore it into a scratch
environment, and time how long it takes. A backup that was never restored is
only a hope, and the rehearsal also trains whoever is on call.
"""


@pytest.mark.parametrize(
    "text",
    [
        BACKUP_GUIDE * 2,
        "Chorus: oh the river runs so wide tonight\n" * 4 + "The end.",
        "hahahahaha that is funny",
        "| id | ok |\n|---|---|\n" + "".join(f"| {n} | yes |\n" for n in range(8)),
        "```python\n" + "x = compute(x)\n" * 30 + "```\nDone.",
    ],
)
def test_repetitive_passes_normal(text):
    assert not flag("repetitive", text)


# --- wrong language ----------------------------------------------------------


def test_wrong_language_korean_switches_to_chinese():
    text = "이 방법은 데이터를 먼저 정리합니다. 然后我们需要检查每一个字段是否正确。"
    result = run(text, "ko")["wrong_language"]
    assert result.flag
    start, end = result.span
    assert text[start:end].startswith("然后")


def test_wrong_language_polish_switches_mid_word():
    text = "Zbieraj opinie od klientów i wprowadzaj必要的修改，以提高服务质量。"
    result = run(text, "pl")["wrong_language"]
    assert result.flag
    assert "Han" in result.evidence


def test_wrong_language_single_han_in_german():
    assert flag(
        "wrong_language", "Der Zauber nutzt einen Level-9-Zauber槽 dafür.", "de"
    )


def test_wrong_language_russian_words_in_polish():
    text = "Ten parametr указывает путь к plikowi wejściowemu wideo."
    assert flag("wrong_language", text, "pl")


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("我们使用汉字书写，这完全正常。数据库需要先备份。", "zh"),
        (
            "日本語の文章には漢字とかなが混ざっています。東京都庁の資料を確認します。",
            "ja",
        ),
        ("경제(經濟) 성장은 중요한 주제입니다. 후속 조치도 필요합니다.", "ko"),
        ("Der Kreisumfang ist 2πr, und α bezeichnet den Winkel im Dreieck.", "de"),
        (
            "Verwenden Sie den Load Balancer und das Deployment-Pipeline-Setup mit "
            "Kubernetes, damit die Container automatisch skaliert werden.",
            "de",
        ),
        (
            "Kommentare im Code:\n```python\n# 计算总和\nx = 1\n```\nDas war alles.",
            "de",
        ),
        ("Nutze `打印` nicht als Namen.", "de"),
        ('{"name": "Widget", "note": "english values are fine here"}', "de"),
    ],
)
def test_wrong_language_passes(text, locale):
    assert not flag("wrong_language", text, locale), text


def test_wrong_language_korean_needs_hanja_run():
    assert not flag("wrong_language", "사후 확률(後驗)을 계산합니다.", "ko")
    assert flag("wrong_language", "펄스 압축(脈衝壓縮)을 사용합니다.", "ko")


def test_wrong_language_whole_answer_in_english():
    text = (
        "In the heart of the river, where the water runs so wide, there lives a "
        "catfish with the patience of the tide. He waits for the evening and the "
        "quiet of the night, and he never asks the moon to show him what is right."
    )
    result = run(text, "de")["wrong_language"]
    assert result.flag
    assert "en" in result.evidence


def test_wrong_language_japanese_switches_to_chinese():
    text = (
        "まず、クラスを作成します。\n"
        "接下来，我们需要创建一个控制器来处理前端请求，这样用户就可以保存数据。"
    )
    result = run(text, "ja")["wrong_language"]
    assert result.flag
    assert "Chinese" in result.evidence


def test_wrong_language_detects_from_prompt():
    prompt = (
        "Erklären Sie bitte ausführlich, wie man eine Datenbank in einem kleinen "
        "Unternehmen regelmäßig sichert, wo man die Kopien aufbewahrt und wie man "
        "sie im Notfall wiederherstellt."
    )
    english = (
        "To back up a database, first stop the writes, then copy the data files "
        "and the logs to another disk, and test the restore on a spare server. "
        "Keep one copy off site and check every month that it still opens."
    )
    german = (
        "Um eine Datenbank zu sichern, stoppen Sie zuerst die Schreibvorgänge und "
        "kopieren Sie dann die Dateien auf eine andere Festplatte. Bewahren Sie "
        "eine Kopie außer Haus auf und prüfen Sie jeden Monat die Wiederherstellung."
    )
    assert flag("wrong_language", english, None, prompt)
    assert not flag("wrong_language", german, None, prompt)


def test_wrong_language_short_prompt_judges_script_only():
    prompt = "Wie sichere ich eine Datenbank?"
    english = (
        "To back up a database, first stop the writes, then copy the data files "
        "and the logs to another disk, and test the restore on a spare server."
    )
    assert not flag("wrong_language", english, None, prompt)
    assert flag("wrong_language", "Zuerst 停止写入，然后复制文件。", None, prompt)


def test_wrong_language_script_from_prompt_allowed():
    prompt = "Translate 'thank you' into Chinese and explain it."
    prompt += " 谢谢 is a common form."
    assert not flag("wrong_language", "You can say 谢谢 or 多谢.", "en", prompt)


def test_wrong_language_locale_variant():
    text = "Você pode configurar o servidor em poucos passos e depois testar a conexão."
    assert not flag("wrong_language", text, "pt-BR")


# --- invalid JSON ------------------------------------------------------------


def json_flag(text, prompt="Return the answer as JSON.", expects_json=None):
    request = RequestInfo(prompt, "en", expects_json)
    return check_output(OutputInfo(text), request)["invalid_json"]


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [true, null]}',
        '```json\n{"a": 1}\n```',
        'Here is the result:\n{"a": 1}\nLet me know if you need more.',
        "[1, 2, 3]",
        "null",
    ],
)
def test_invalid_json_accepts(text):
    assert not json_flag(text).flag


@pytest.mark.parametrize(
    "text",
    [
        "{'a': 1}",
        '{"a": 1,}',
        "",
        "Sure, the answer is one.",
        '```json\n{"a": 1\n```',
    ],
)
def test_invalid_json_flags(text):
    assert json_flag(text).flag


def test_invalid_json_error_position():
    text = '{"a": 1, "b": }'
    result = json_flag(text)
    start, _ = result.span
    assert text[start] == "}"
    assert "invalid JSON" in result.evidence


def test_invalid_json_not_requested():
    assert not json_flag("plain words", prompt="Tell me a story.").flag
    assert not json_flag("plain words", expects_json=False).flag
    assert json_flag("plain words", prompt="Tell me a story.", expects_json=True).flag


@pytest.mark.parametrize(
    "prompt",
    [
        "Return the result as JSON.",
        "Respond only with valid JSON, no prose.",
        "Give me a JSON object with the fields name and age.",
        "Antworte bitte im JSON-Format.",
        "Devuelve la respuesta en formato JSON.",
        "Réponds au format JSON.",
        "Zwróć odpowiedź w formacie JSON.",
        "Cevabı JSON formatında ver.",
        "Berikan jawaban dalam format JSON.",
        "Trả lời dưới dạng JSON.",
        "結果をJSON形式で出力してください。",
        "결과를 JSON 형식으로 반환하세요.",
        "请以JSON格式返回结果。",
        "Верни ответ в формате JSON.",
    ],
)
def test_prompt_asks_for_json_positive(prompt):
    assert prompt_asks_for_json(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "Write a JavaScript function that reads a JSON file and finds a key.",
        "My Flask app loads config with json.load; how do I pick the file?",
        'Improve my prompt: prompt = f"""Return only JSON with the two dates."""',
        "Create a config.json file containing the SSID.",
    ],
)
def test_prompt_asks_for_json_negative(prompt):
    assert not prompt_asks_for_json(prompt)


def test_extract_json_prefers_fence():
    text = 'Intro {not json}\n```json\n{"x": [1, 2]}\n```'
    value, (start, end) = extract_json(text)
    assert value == {"x": [1, 2]}
    assert json.loads(text[start:end]) == value


# --- answer mismatch ---------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("So he pays 20 + 22 = 42 dollars.\n#### 42", "The answer is 42."),
        ("#### 1,000", "Therefore the total is 1000"),
        ("She earns $20.00 per day.", "#### 20"),
        ("The final answer is \\boxed{\\frac{3}{2}}", "That gives 1.5 in the end: 1.5"),
    ],
)
def test_answer_mismatch_equal(first, second):
    assert not pair(first, second)["answer_mismatch"].flag


def test_answer_mismatch_differs():
    result = pair("So the total is 42.\n#### 42", "The total is 40.\n#### 40")
    assert result["answer_mismatch"].flag
    assert "42" in result["answer_mismatch"].evidence
    assert "40" in result["answer_mismatch"].evidence


def test_answer_mismatch_span_points_at_other_answer():
    other = "We add them.\n#### 40"
    result = pair("#### 42", other)["answer_mismatch"]
    start, end = result.span
    assert other[start:end] == "40"


def test_answer_mismatch_needs_both_answers():
    assert not pair("#### 42", "I am not sure how to solve this.")[
        "answer_mismatch"
    ].flag


def test_answer_mismatch_decimal_comma_locale():
    first = "Die Antwort ist 3,5 Liter"
    second = "#### 3.5"
    assert not pair(first, second, locale="de")["answer_mismatch"].flag
    # Without a decimal-comma locale "3,5" is no number, so nothing is compared.
    assert parse_number("3,5") is None
    assert not pair(first, second, locale="en")["answer_mismatch"].flag


MCQ = "Which planet is largest?\nA. Mars\nB. Jupiter\nC. Venus\nD. Earth\nAnswer:"


def test_answer_mismatch_option_letters():
    assert not pair("The answer is (B).", "B", MCQ)["answer_mismatch"].flag
    result = pair("B", "The answer is C.", MCQ)["answer_mismatch"]
    assert result.flag
    assert "'B'" in result.evidence


def test_answer_mismatch_json_values():
    prompt = "Return JSON with the field total."
    same = pair('{"total": 3}', '```json\n{ "total": 3 }\n```', prompt)
    assert not same["answer_mismatch"].flag
    differ = pair('{"total": 3}', '{"total": 4}', prompt)
    assert differ["answer_mismatch"].flag


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("1,000", False, "1000"),
        ("20.00", False, "20"),
        ("$1,234.50", False, "1234.5"),
        ("1.234,5", True, "1234.5"),
        ("3,5", True, "3.5"),
        ("-7", False, "-7"),
        ("100", False, "100"),
    ],
)
def test_parse_number_cases(text, decimal_comma, expected):
    assert parse_number(text, decimal_comma=decimal_comma) == Decimal(expected)


# --- format and length ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Just a paragraph of text.\nAnd another line of text.", "prose"),
        ("- one\n- two\n- three", "list"),
        ("1. first\n2. second\nThen done.", "list"),
        ('{"a": 1}', "json"),
        ('```json\n{"a": 1}\n```', "json"),
        ("```python\nprint(1)\nprint(2)\n```", "code"),
        ("| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |", "table"),
    ],
)
def test_classify_format_cases(text, expected):
    assert classify_format(text) == expected


def test_format_mismatch_flags_and_passes():
    result = pair("- a\n- b\n- c", "A plain sentence answer.")["format_mismatch"]
    assert result.flag
    assert result.evidence == "baseline is list, other is prose"
    assert not pair("One line.", "Another line.")["format_mismatch"].flag


def test_length_ratio_threshold():
    base = "x" * 100
    assert pair(base, "y" * 400)["length_ratio"].flag
    assert not pair(base, "y" * 300)["length_ratio"].flag
    assert not pair(base, "")["length_ratio"].flag
    evidence = pair(base, "y" * 400)["length_ratio"].evidence
    assert f"{400 / 100:.1f}×" in evidence


# --- configuration -------------------------------------------------------------


def test_config_defaults():
    config, problems = ChecksConfig.from_mapping(None, "p.yaml")
    assert problems == []
    assert config == DEFAULT_CONFIG
    assert config.enabled == frozenset(ALL_CHECKS)
    assert config.length_ratio == 3.0
    assert config.repetitive.min_repeats == 10


def test_config_reads_settings():
    data = {
        "disabled": ["length_ratio"],
        "as_grade": ["refusal", "truncated"],
        "length_ratio": 4,
        "repetitive": {"min_repeats": 6, "tail_chars": 2000},
        "refusal": {"max_chars": 900},
    }
    config, problems = ChecksConfig.from_mapping(data, "p.yaml")
    assert problems == []
    assert "length_ratio" not in config.enabled
    assert config.as_grade == ("refusal", "truncated")
    assert config.length_ratio == 4.0
    assert config.repetitive.min_repeats == 6
    assert config.repetitive.tail_chars == 2000
    assert config.repetitive.max_zlib_ratio == 0.15
    assert config.refusal.max_chars == 900


def test_config_enabled_list():
    config, problems = ChecksConfig.from_mapping({"enabled": ["empty"]}, "p.yaml")
    assert problems == []
    assert config.enabled == frozenset({"empty"})
    assert list(run("", "en").keys()) == list(OUTPUT_CHECKS)


def messages(data, positions=None):
    _, problems = ChecksConfig.from_mapping(data, "p.yaml", positions)
    return [problem.format() for problem in problems]


def test_config_unknown_key_suggests():
    found = messages({"lenght_ratio": 2})
    assert found == [
        "p.yaml:1:1: error: unknown key `checks.lenght_ratio`; "
        "did you mean `length_ratio`?"
    ]


def test_config_unknown_nested_key_uses_position():
    positions = {"repetitive": (7, 3), "repetitive.min_repeat": (8, 5)}
    found = messages({"repetitive": {"min_repeat": 4}}, positions)
    assert found == [
        "p.yaml:8:5: error: unknown key `checks.repetitive.min_repeat`; "
        "did you mean `min_repeats`?"
    ]


def test_config_unknown_check_name():
    found = messages({"enabled": ["refusel"]}, {"enabled": (3, 1)})
    assert found == ["p.yaml:3:1: error: check `refusel`; did you mean `refusal`?"]


def test_config_enabled_and_disabled_conflict():
    found = messages({"enabled": ["empty"], "disabled": ["refusal"]})
    assert len(found) == 1
    assert "cannot both be set" in found[0]


def test_config_as_grade_rejects_pair_and_disabled():
    found = messages({"disabled": ["refusal"], "as_grade": ["refusal", "length_ratio"]})
    assert len(found) == 2
    assert any("compares two outputs" in message for message in found)
    assert any("is disabled" in message for message in found)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"length_ratio": "big"}, "must be a number"),
        ({"length_ratio": 1.0}, "greater than 1"),
        ({"repetitive": {"min_repeats": True}}, "whole number"),
        ({"repetitive": {"min_repeats": 1}}, "at least 2"),
        ({"repetitive": {"max_zlib_ratio": 1.5}}, "at most 1"),
        ({"repetitive": 5}, "must be a mapping"),
        ({"enabled": "refusal"}, "list of check names"),
        ([1, 2], "must be a mapping"),
    ],
)
def test_config_invalid_values(data, fragment):
    found = messages(data)
    assert len(found) == 1
    assert fragment in found[0]


def test_config_fingerprint_changes_with_settings():
    first, _ = ChecksConfig.from_mapping({"length_ratio": 3.0}, "p.yaml")
    second, _ = ChecksConfig.from_mapping({"length_ratio": 3.5}, "p.yaml")
    assert first.fingerprint() == DEFAULT_CONFIG.fingerprint()
    assert first.fingerprint() != second.fingerprint()


def test_grade_from_checks():
    config, _ = ChecksConfig.from_mapping({"as_grade": ["refusal", "empty"]}, "p.yaml")
    refused = run("I'm sorry, but I can't help with that.")
    fine = run("Here you go: the answer is 4.")
    assert grade_from_checks(refused, config) == 0.0
    assert grade_from_checks(fine, config) == 1.0
    assert grade_from_checks(fine, DEFAULT_CONFIG) is None


# --- cache ---------------------------------------------------------------------


def test_cache_hits_and_keys():
    cache = CheckCache()
    request = RequestInfo("Hi", "en")
    output = OutputInfo("I'm sorry, but I can't help with that.")
    first = cache.check_output(output, request, DEFAULT_CONFIG)
    second = cache.check_output(OutputInfo(output.text), request, DEFAULT_CONFIG)
    assert first == second
    assert (cache.hits, cache.misses) == (1, 1)
    cache.check_output(output, RequestInfo("Hi", "de"), DEFAULT_CONFIG)
    cache.check_output(OutputInfo(output.text, "length"), request, DEFAULT_CONFIG)
    other_config, _ = ChecksConfig.from_mapping({"disabled": ["empty"]}, "p.yaml")
    third = cache.check_output(output, request, other_config)
    assert (cache.hits, cache.misses) == (1, 4)
    assert "empty" not in third


def test_cache_pair_and_eviction():
    cache = CheckCache(max_entries=2)
    request = RequestInfo("Hi", "en")
    for n in range(3):
        cache.check_pair(OutputInfo("a"), OutputInfo("b" * n), request, DEFAULT_CONFIG)
    assert len(cache) == 2
    cache.check_pair(OutputInfo("a"), OutputInfo("b" * 2), request, DEFAULT_CONFIG)
    assert cache.hits == 1


def test_cache_returns_copies():
    cache = CheckCache()
    request = RequestInfo("Hi", "en")
    result = cache.check_output(OutputInfo("x"), request, DEFAULT_CONFIG)
    result.clear()
    assert cache.check_output(OutputInfo("x"), request, DEFAULT_CONFIG)


def test_checks_module_has_no_ui_imports():
    source = open(checks.__file__, encoding="utf-8").read()
    assert "textual" not in source
    assert "import rich" not in source


def test_answer_mismatch_skips_cut_off_output():
    cut = "She has 15 + 2 = <<15+2"
    assert not pair("#### 17", cut)["answer_mismatch"].flag


def test_answer_option_needs_capital_letter():
    result = pair("The answer is B.", "The answer is a bit unclear, sorry.", MCQ)
    assert not result["answer_mismatch"].flag


def test_wrong_language_frame_with_quoted_english():
    text = (
        "Voici un exemple de dialogue en anglais pour préparer votre voyage "
        "d'affaires, avec plusieurs temps et une phrase conditionnelle :\n\n"
        + "**Anna:** I will book the hotel tomorrow if the price stays low.\n" * 6
        + "\nCe dialogue utilise le présent, le futur et le conditionnel."
    )
    assert not flag("wrong_language", text, "fr")


def test_truncated_fence_inside_list_item():
    text = "Steps:\n- ```python\n  run()\n  ```\n\nThat is all you need."
    assert not flag("truncated", text)


def test_truncated_long_heading_cut():
    text = (
        "Intro.\n\n### The platform that makes every home project simple and fast for"
    )
    assert flag("truncated", text)


def test_truncated_code_comment_is_not_heading():
    text = "run()\n\n# Note: this is a minimal example and can be extended later."
    assert not flag("truncated", text)


def test_answer_mismatch_prefers_currency_amount():
    strong = "So it will cost Dennis $18.00 to buy 6 pounds of butter."
    assert not pair(strong, "#### 18")["answer_mismatch"].flag
    assert pair(strong, "#### 16")["answer_mismatch"].flag
