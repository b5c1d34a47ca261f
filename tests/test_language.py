"""Language and script detection on hand-written text in many languages."""

from __future__ import annotations

import pytest

from tui.core import language
from tui.core.language import (
    detect_language,
    fence_spans,
    function_word_language,
    mask_non_prose,
    normalize_locale,
    same_language,
    script_counts,
    script_runs,
)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("pt-BR", "pt"),
        ("zh-Hans", "zh"),
        ("zh-Hant-TW", "zh"),
        ("en_US", "en"),
        ("EN", "en"),
        ("de", "de"),
        (" fr-CA ", "fr"),
        ("iw", "he"),
        ("in-ID", "id"),
        ("no", "nb"),
        ("deu", "de"),
        ("zho", "zh"),
        ("sr-Latn-RS", "sr"),
    ],
)
def test_normalize_locale_cases(locale, expected):
    assert normalize_locale(locale) == expected


@pytest.mark.parametrize("locale", [None, "", "   ", "e", "english", "12-34", "x-"])
def test_normalize_locale_invalid(locale):
    assert normalize_locale(locale) is None


def test_same_language_equivalents():
    assert same_language("id", "ms")
    assert same_language("nb", "no")
    assert same_language("de", "de")
    assert not same_language("es", "pt")
    assert not same_language(None, "en")


SENTENCES = {
    "en": "The delivery was late again, so we asked the courier for a refund "
    "and a clear explanation of what went wrong with the order.",
    "de": "Die Lieferung kam wieder zu spät, deshalb haben wir den Kurier um eine "
    "Erstattung und eine klare Erklärung gebeten.",
    "es": "El pedido llegó tarde otra vez, así que pedimos al mensajero un "
    "reembolso y una explicación clara de lo que pasó.",
    "fr": "La livraison est encore arrivée en retard, donc nous avons demandé au "
    "livreur un remboursement et une explication claire.",
    "pl": "Przesyłka znowu dotarła z opóźnieniem, więc poprosiliśmy kuriera o "
    "zwrot pieniędzy i jasne wyjaśnienie, co się stało.",
    "tr": "Sipariş yine geç geldi, bu yüzden kuryeden para iadesi ve neyin yanlış "
    "gittiğine dair açık bir açıklama istedik.",
    "id": "Pesanan datang terlambat lagi, jadi kami meminta kurir untuk "
    "mengembalikan uang dan memberikan penjelasan yang jelas.",
    "vi": "Đơn hàng lại đến muộn, vì vậy chúng tôi đã yêu cầu người giao hàng "
    "hoàn tiền và giải thích rõ ràng chuyện gì đã xảy ra.",
    "pt": "A entrega chegou atrasada de novo, então pedimos ao entregador um "
    "reembolso e uma explicação clara do que aconteceu.",
    "it": "La consegna è arrivata di nuovo in ritardo, quindi abbiamo chiesto al "
    "corriere un rimborso e una spiegazione chiara.",
    "nl": "De bestelling kwam weer te laat, dus hebben we de koerier gevraagd om "
    "een terugbetaling en een duidelijke uitleg.",
    "ru": "Заказ снова пришёл с опозданием, поэтому мы попросили курьера вернуть "
    "деньги и ясно объяснить, что случилось.",
    "ar": "وصل الطلب متأخراً مرة أخرى، لذلك طلبنا من المندوب استرداد المبلغ "
    "وتفسيراً واضحاً لما حدث.",
    "hi": "ऑर्डर फिर से देर से पहुँचा, इसलिए हमने कूरियर से पैसे वापस करने और "
    "साफ़ कारण बताने को कहा।",
    "ja": "注文がまた遅れて届いたので、配達員に返金と"
    "何が起きたのかの説明をお願いしました。",
    "ko": "주문이 또 늦게 도착해서 배달원에게 환불과 "
    "무슨 일이 있었는지 설명을 요청했습니다.",
    "zh": "订单又一次迟到了，所以我们要求快递员退款，并清楚地解释发生了什么。",
    "he": "ההזמנה שוב הגיעה באיחור, ולכן ביקשנו מהשליח החזר כספי והסבר ברור.",
    "el": "Η παραγγελία άργησε ξανά, οπότε ζητήσαμε από τον κούριερ επιστροφή "
    "χρημάτων και μια σαφή εξήγηση.",
    "th": "คำสั่งซื้อมาส่งช้าอีกแล้ว เราจึงขอให้พนักงานส่งของคืนเงินและอธิบายให้ชัดเจน",
}


@pytest.mark.parametrize("code", sorted(SENTENCES))
def test_detect_language_sentences(code):
    assert detect_language(SENTENCES[code]) == code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "ok",
        "12345 678 90",
        "🚀🔥👍",
        "\x00\x01\x02\x1b[31m",
        "```python\nfor item in items:\n    print(item)\n```",
    ],
)
def test_detect_language_unsure(text):
    assert detect_language(text) is None


def test_detect_language_chinese_prompt_with_code():
    prompt = (
        "如何把下面两个调用合并成一个？df <- df %>% filter(Score %in% keep) %>% "
        "collect() %>% separate(col='Kind', into=c('A','B'), remove=FALSE)"
    )
    assert detect_language(prompt) == "zh"


def test_detect_language_japanese_with_kanji():
    text = "東京都の人口統計を年度別に集計し、増減の理由を簡単に説明してください。"
    assert detect_language(text) == "ja"


def test_detect_language_ignores_code_block():
    text = (
        "Hier ist die Funktion, die Sie brauchen, und sie ist nicht schwer zu lesen:\n"
        "```python\ndef total(items):\n    return sum(item.price for item in items)\n"
        "```\nDanach können Sie die Summe für jede Bestellung berechnen."
    )
    assert detect_language(text) == "de"


def test_detect_language_rtl_with_latin_terms():
    text = "يمكنك استخدام Docker لتشغيل التطبيق بسهولة على أي خادم تريده."
    assert detect_language(text) == "ar"


def test_function_word_language_clear_and_unclear():
    assert function_word_language(SENTENCES["de"] * 2) == "de"
    assert function_word_language("Kubernetes Docker Terraform Ansible") is None


def test_mask_non_prose_keeps_offsets():
    text = (
        "Use `npm install` then see https://example.org/docs and\n"
        "```js\nconst x = 1;\n```\nthe formula $a^2 + b^2$ or \\(x\\) too."
    )
    masked = mask_non_prose(text)
    assert len(masked) == len(text)
    assert masked.count("\n") == text.count("\n")
    assert "npm" not in masked
    assert "example.org" not in masked
    assert "const" not in masked
    assert "a^2" not in masked
    assert masked.startswith("Use ")
    assert "the formula" in masked


def test_fence_spans_open_block_runs_to_end():
    text = "a\n```\ncode\n```\nb\n~~~\nmore code"
    spans = fence_spans(text)
    assert spans == [(2, 14), (17, len(text))]


def test_fence_spans_ignores_inline_backticks():
    assert fence_spans("say ```this``` inline") == []


def test_script_counts_mixed():
    counts = script_counts("Café 東京 カタカナ 한국어 Москва αβγ")
    assert counts["Latin"] == 4
    assert counts["Han"] == 2
    assert counts["Kana"] == 4
    assert counts["Hangul"] == 3
    assert counts["Cyrillic"] == 6
    assert counts["Greek"] == 3


def test_script_runs_positions():
    text = "Tekst po polsku i potem 必要的改进，以提高质量 dalej."
    runs = [run for run in script_runs(text) if run.script == "Han"]
    assert len(runs) == 1
    run = runs[0]
    assert text[run.start : run.end] == "必要的改进，以提高质量"
    assert run.letters == 10


def test_script_runs_selected_scripts_only():
    runs = script_runs("한국어 텍스트 and 中文", ["Han"])
    assert [run.script for run in runs] == ["Han"]


def test_lingua_detector_built_once():
    first = language._lingua_detector()
    second = language._lingua_detector()
    assert first is second


def test_mask_non_prose_keeps_currency():
    text = "He pays $5 for apples and $10 for pears, so $x + y$ is math."
    masked = mask_non_prose(text)
    assert "$5 for apples and $10 for pears" in masked
    assert "x + y" not in masked
