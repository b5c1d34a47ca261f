# ruff: noqa: E501
# The templates below are prose in six languages, kept one sentence or one paragraph
# per line, because wrapping them mid-sentence would make them harder to review.
"""Generate fixtures/support.jsonl, the sample bundled with the example policy.

The sample is illustrative. It imitates the traffic of a customer-support assistant
that many shops share: every prompt, tenant and model output was written for Routebook
as templates, filled in here with a fixed random seed. It is not real traffic, the
tenants are not real customers, and no model produced the outputs. The outputs imitate
how a strong and a fast model differ in practice: refusals, truncation, answers in the
wrong language, broken JSON, wrong final numbers and different formatting habits. The
grades match the text of each output.

Usage (from the project root):

    .venv/bin/python scripts/make_example.py            # rewrite fixtures/support.jsonl
    .venv/bin/python scripts/make_example.py --check    # per-segment table, exit 1 if stale

`--check` evaluates policies/support.yaml with the small evaluator in this script
(not the preview engine), so its table can be compared with `routebook preview`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PATH = ROOT / "fixtures" / "support.jsonl"
POLICY_PATH = ROOT / "policies" / "support.yaml"

SEED = 20240607
STRONG = "openai/gpt-4o"
FAST = "openai/gpt-4o-mini"

# ---------------------------------------------------------------------------
# Tenants: id, tier, home locale. Most of a tenant's traffic is in its home locale.
# ---------------------------------------------------------------------------

TENANTS = [
    ("t-01", "enterprise", "en"),
    ("t-02", "enterprise", "de"),
    ("t-03", "enterprise", "ja"),
    ("t-04", "enterprise", "en"),
    ("t-05", "enterprise", "es"),
    ("t-06", "enterprise", "ko"),
    ("t-07", "enterprise", "en"),
    ("t-08", "enterprise", "ar"),
    ("t-09", "smb", "en"),
    ("t-10", "smb", "de"),
    ("t-11", "smb", "ja"),
    ("t-12", "smb", "en"),
    ("t-13", "smb", "es"),
    ("t-14", "smb", "ko"),
    ("t-15", "smb", "en"),
    ("t-16", "smb", "de"),
    ("t-17", "smb", "ja"),
    ("t-18", "smb", "en"),
    ("t-19", "smb", "es"),
    ("t-20", "smb", "ar"),
    ("t-21", "smb", "en"),
    ("t-22", "smb", "de"),
    ("t-23", "smb", "ja"),
    ("t-24", "smb", "en"),
    ("t-25", "self-serve", "en"),
    ("t-26", "self-serve", "es"),
    ("t-27", "self-serve", "de"),
    ("t-28", "self-serve", "ko"),
    ("t-29", "self-serve", "en"),
    ("t-30", "self-serve", "ja"),
    ("t-31", "self-serve", "en"),
    ("t-32", "self-serve", "es"),
    ("t-33", "self-serve", "de"),
    ("t-34", "self-serve", "ar"),
    ("t-35", "self-serve", "en"),
    ("t-36", "self-serve", "ko"),
    ("t-37", "self-serve", "es"),
    ("t-38", "self-serve", "en"),
    ("t-39", "self-serve", "de"),
    ("t-40", "self-serve", "ja"),
]

# Share of a locale's requests that come from tenants whose home locale it is.
HOME_LOCALE_SHARE = 0.8

# ---------------------------------------------------------------------------
# Traffic plan: requests per task and locale, and the variants among them.
# ---------------------------------------------------------------------------

PLAN = {
    "faq": {"en": 56, "de": 18, "es": 16, "ja": 18, "ko": 12, "ar": 6},
    "extraction": {"en": 14, "de": 6, "es": 6, "ja": 8, "ko": 6, "ar": 3},
    "summarisation": {"en": 14, "de": 6, "es": 4, "ja": 5, "ko": 3},
    "translation": {"en": 8, "de": 6, "es": 6, "ja": 6, "ko": 6, "ar": 3},
    "code": {"en": 18, "de": 4, "ja": 3},
    "arithmetic": {"en": 14, "de": 5, "es": 5, "ko": 4},
    "complaint": {"en": 18, "de": 7, "es": 6, "ja": 5, "ko": 3, "ar": 4},
}

# Requests whose prompt is a whole ticket thread of about 600 words.
LONG = {
    ("summarisation", "en"): 5,
    ("summarisation", "de"): 2,
    ("summarisation", "ja"): 1,
    ("faq", "en"): 2,
}

# Requests recorded as chat message lists instead of a single prompt.
CHAT = {
    ("faq", "en"): 4,
    ("faq", "de"): 2,
    ("faq", "ja"): 1,
    ("faq", "es"): 1,
    ("faq", "ko"): 1,
    ("complaint", "en"): 2,
}

# How often the fast model fails, per task, locale and variant: (task, locale,
# variant, failure, count). The variant "short" excludes long prompts.
FAST_FAILURES = [
    ("faq", "en", "short", "partial", 2),
    ("faq", "de", "short", "partial", 1),
    ("faq", "es", "short", "partial", 1),
    ("faq", "ja", "short", "wrong_language", 5),
    ("faq", "ko", "short", "script_switch", 3),
    ("faq", "ar", "short", "wrong_language", 2),
    ("extraction", "en", "short", "broken_json", 1),
    ("extraction", "de", "short", "broken_json", 1),
    ("extraction", "es", "short", "broken_json", 1),
    ("extraction", "ja", "short", "broken_json", 3),
    ("extraction", "ko", "short", "broken_json", 2),
    ("extraction", "ar", "short", "broken_json", 1),
    ("summarisation", "en", "short", "partial", 1),
    ("summarisation", "ja", "short", "partial", 1),
    ("summarisation", "en", "long", "truncated", 3),
    ("summarisation", "de", "long", "truncated", 1),
    ("summarisation", "ja", "long", "truncated", 1),
    ("translation", "en", "short", "untranslated", 1),
    ("translation", "ja", "short", "untranslated", 1),
    ("translation", "ko", "short", "untranslated", 1),
    ("translation", "ar", "short", "untranslated", 1),
    ("code", "en", "short", "wrong_code", 4),
    ("code", "de", "short", "wrong_code", 1),
    ("code", "ja", "short", "wrong_code", 1),
    ("arithmetic", "en", "short", "wrong_number", 4),
    ("arithmetic", "de", "short", "wrong_number", 2),
    ("arithmetic", "es", "short", "wrong_number", 2),
    ("arithmetic", "ko", "short", "wrong_number", 1),
    ("complaint", "en", "short", "refusal", 4),
    ("complaint", "de", "short", "refusal", 1),
    ("complaint", "es", "short", "refusal", 1),
    ("complaint", "ja", "short", "refusal", 1),
    ("complaint", "ko", "short", "refusal", 1),
    ("complaint", "ar", "short", "refusal", 1),
]

# Requests where the strong model is the one that gets it wrong: (task, locale, count).
STRONG_FAILURES = [("faq", "en", 2), ("arithmetic", "en", 1)]

# Outputs recorded without a grade: (task, locale, model, count).
UNGRADED = [
    ("faq", "ar", FAST, 2),
    ("faq", "ko", FAST, 1),
    ("summarisation", "en", FAST, 1),
    ("translation", "de", STRONG, 1),
    ("code", "en", FAST, 1),
]

# Requests that stand for several identical requests: (task, locale, tier, weight, count).
WEIGHTED = [
    ("faq", "en", "enterprise", 3, 4),
    ("faq", "ja", None, 2, 3),
    ("extraction", "de", None, 2, 2),
]

# ---------------------------------------------------------------------------
# Words that fill the templates, per locale. Product lists are aligned by index so
# a translation can name the same product in the target language.
# ---------------------------------------------------------------------------

NAMES = {
    "en": [
        "Emma Clarke",
        "James Whitfield",
        "Priya Shah",
        "Tom Becker",
        "Olivia Grant",
        "Daniel Moore",
        "Hannah Lee",
        "Samuel Ortiz",
    ],
    "de": [
        "Jonas Weber",
        "Lena Hoffmann",
        "Miriam Schulz",
        "Felix Braun",
        "Sabine Krüger",
        "Tobias Neumann",
    ],
    "es": [
        "Lucía Fernández",
        "Javier Ortega",
        "Carmen Ruiz",
        "Diego Morales",
        "Sofía Navarro",
        "Pablo Herrera",
    ],
    "ja": ["佐藤 美咲", "田中 健太", "鈴木 陽子", "高橋 翔", "伊藤 直美", "渡辺 大輔"],
    "ko": ["김민준", "이서연", "박지훈", "최유나", "정하늘", "한도윤"],
    "ar": [
        "أحمد الحربي",
        "فاطمة الزهراني",
        "خالد العتيبي",
        "نورة القحطاني",
        "يوسف الشمري",
    ],
}

PRODUCTS = {
    "en": [
        "coffee machine",
        "desk lamp",
        "kitchen scale",
        "electric kettle",
        "bluetooth speaker",
    ],
    "de": [
        "Kaffeemaschine",
        "Schreibtischlampe",
        "Küchenwaage",
        "Kaffeemühle",
        "Stehlampe",
    ],
    "es": [
        "cafetera",
        "lámpara de escritorio",
        "báscula de cocina",
        "tostadora",
        "plancha de vapor",
    ],
    "ja": [
        "コーヒーメーカー",
        "デスクライト",
        "キッチンスケール",
        "電気ケトル",
        "ワイヤレススピーカー",
    ],
    "ko": ["커피 머신", "책상 조명", "주방 저울", "전기 포트", "블루투스 스피커"],
    "ar": ["ماكينة قهوة", "مصباح مكتب", "ميزان مطبخ", "غلاية كهربائية", "سماعة بلوتوث"],
}

CITIES = {
    "en": ["London", "Manchester", "Dublin", "Leeds", "Bristol"],
    "de": ["Wien", "Hamburg", "Zürich", "Köln", "Leipzig"],
    "es": ["Sevilla", "Valencia", "Bilbao", "Madrid", "Zaragoza"],
    "ja": ["札幌", "福岡", "大阪", "仙台", "名古屋"],
    "ko": ["부산", "대구", "제주", "인천", "광주"],
    "ar": ["جدة", "الدمام", "الرياض", "مكة", "المدينة المنورة"],
}

AGENTS = {
    "en": "Mia",
    "de": "Katrin",
    "es": "Marta",
    "ja": "山本",
    "ko": "윤지",
    "ar": "سارة",
}

PLANS = ["Basic", "Plus", "Team"]

# Amounts of a duplicate card charge, as a customer would write them.
CHARGES = {
    "en": "$64.90",
    "de": "64,90 €",
    "es": "64,90 €",
    "ja": "6,490円",
    "ko": "64,900원",
    "ar": "249 ريالًا",
}

SYSTEM_PROMPT = "You are the customer-support assistant of an online shop. Answer in the customer's language, briefly and politely."

# ---------------------------------------------------------------------------
# FAQ: five topics. Per locale: questions, an optional ticket subject, the strong
# model's prose answer, the fast model's list answer, and the fast model's failures.
# ---------------------------------------------------------------------------

FAQ_TOPICS = ["delivery", "returns", "password", "cancel", "invoice"]

FAQ = {
    "en": {
        "delivery": {
            "questions": [
                "How long does delivery to {city} take if I order the {product} today?",
                "I'm in {city}. When would the {product} arrive if I order now?",
            ],
            "subject": "Delivery time to {city}",
            "strong": "Standard delivery to {city} takes 2–4 business days, so if you order the {product} today it should arrive within that window. If you need it sooner, choose Express at checkout before 2 pm and it will arrive on the next business day.",
            "fast": "**Delivery times:**\n\n- Standard: 2–4 business days\n- Express: next business day (order before 2 pm)\n\nYou can choose the option at checkout.",
            "partial": "Delivery usually takes a few business days. You can see the estimated date at checkout.",
            "strong_wrong": "Standard delivery to {city} takes 3–5 business days. Express delivery isn't available for the {product}, so the standard option is the fastest one.",
        },
        "returns": {
            "questions": [
                "Can I still return the {product}? It was delivered {days} days ago and I haven't used it.",
                "Can I return the {product}? I bought it {days} days ago and it's still in the box.",
            ],
            "subject": "Return for order #{order}",
            "strong": 'Yes. You can return unused items within 30 days of delivery, so the {product} is still eligible. Go to Account → Orders, select the order and choose "Return item" to print a free return label. The refund goes back to your original payment method within 5 business days of the item reaching us.',
            "fast": "Yes, you can return it!\n\n- Returns are accepted within **30 days** of delivery for unused items.\n- Go to **Account → Orders → Return item** to print a free return label.\n- Refunds are processed within 5 business days after we receive the item.",
            "partial": "Yes, unused items can be returned. Please contact our support team to arrange the return.",
        },
        "password": {
            "questions": [
                "I forgot my password and the reset email never arrived. What should I do?",
                "How do I reset my password? I requested the link twice but got nothing.",
            ],
            "subject": "Password reset email not arriving",
            "strong": "Use the \"Forgot password?\" link on the sign-in page and enter the email address on your account. The reset link is valid for 30 minutes. If the email doesn't arrive within a few minutes, check your spam or promotions folder, and make sure you're using the same address you signed up with.",
            "fast": "To reset your password:\n\n1. Click **Forgot password?** on the sign-in page.\n2. Enter the email address on your account.\n3. Open the link within 30 minutes.\n\nIf the email doesn't show up, check your spam folder.",
            "partial": 'Click "Forgot password?" on the sign-in page and follow the instructions in the email.',
        },
        "cancel": {
            "questions": [
                "How do I cancel my {plan} plan? Will I get money back for the rest of the month?",
                "I want to cancel my {plan} subscription. Do I keep access until the end of the month?",
            ],
            "subject": "Cancelling my {plan} plan",
            "strong": "You can cancel any time under Settings → Billing → Cancel plan. Your {plan} plan stays active until the end of the current billing period, and you won't be charged again. We don't issue partial refunds for the remaining days of a period that has already started.",
            "fast": "## Cancelling your {plan} plan\n\n- Go to **Settings → Billing → Cancel plan**.\n- You keep access until the end of the current billing period.\n- Partial refunds for unused days are not available.",
            "partial": "You can cancel under Settings → Billing. Whether you get a refund depends on your plan.",
            "strong_wrong": "You can cancel any time under Settings → Billing → Cancel plan. The unused days of your {plan} plan are refunded pro rata to your card within a few days.",
        },
        "invoice": {
            "questions": [
                "Where can I download the invoice for order #{order}? I need it with our company VAT number.",
                "I need a PDF invoice for order #{order} for my expense report. Where do I find it?",
            ],
            "subject": "Invoice for order #{order}",
            "strong": 'Go to Account → Orders, open order #{order} and click "Download invoice" to get the PDF. To add your company VAT number, enter it under Account → Billing details before you download, because the invoice is generated with the details saved at that moment.',
            "fast": "You can download it here:\n\n- **Account → Orders → #{order} → Download invoice**\n- Add your VAT number under **Account → Billing details** first, so it appears on the PDF.",
            "partial": "Invoices are sent by email after each order. Please check your inbox for order #{order}.",
        },
    },
    "de": {
        "delivery": {
            "questions": [
                "Wie lange dauert die Lieferung nach {city}, wenn ich die {product} heute bestelle?",
                "Ich wohne in {city}. Wann käme die {product} an, wenn ich jetzt bestelle?",
            ],
            "subject": "Lieferzeit nach {city}",
            "strong": "Die Standardlieferung nach {city} dauert 2–4 Werktage. Wenn Sie die {product} heute bestellen, sollte sie also in diesem Zeitraum ankommen. Falls es schneller gehen muss, wählen Sie an der Kasse bis 14 Uhr den Expressversand, dann kommt die Lieferung am nächsten Werktag.",
            "fast": "**Lieferzeiten:**\n\n- Standard: 2–4 Werktage\n- Express: nächster Werktag (Bestellung bis 14 Uhr)\n\nDie Versandart wählen Sie an der Kasse.",
            "partial": "Die Lieferung dauert in der Regel ein paar Tage. Das voraussichtliche Lieferdatum sehen Sie an der Kasse.",
        },
        "returns": {
            "questions": [
                "Kann ich die {product} noch zurückschicken? Sie wurde vor {days} Tagen geliefert und ist unbenutzt."
            ],
            "subject": "Rücksendung Bestellung #{order}",
            "strong": "Ja. Unbenutzte Artikel können Sie innerhalb von 30 Tagen nach der Lieferung zurückgeben, die {product} ist also noch rückgabeberechtigt. Gehen Sie zu Konto → Bestellungen, wählen Sie die Bestellung aus und klicken Sie auf „Artikel zurücksenden“, um ein kostenloses Rücksendeetikett zu drucken. Die Erstattung erfolgt innerhalb von 5 Werktagen, nachdem der Artikel bei uns eingegangen ist.",
            "fast": "Ja, das geht!\n\n- Rückgabe innerhalb von **30 Tagen** nach Lieferung (unbenutzt)\n- **Konto → Bestellungen → Artikel zurücksenden** für ein kostenloses Etikett\n- Erstattung innerhalb von 5 Werktagen nach Eingang",
            "partial": "Ja, unbenutzte Artikel können zurückgegeben werden. Bitte wenden Sie sich dafür an unseren Kundenservice.",
        },
        "password": {
            "questions": [
                "Ich habe mein Passwort vergessen und die E-Mail zum Zurücksetzen kommt nicht an. Was kann ich tun?"
            ],
            "subject": "Passwort-Mail kommt nicht an",
            "strong": "Klicken Sie auf der Anmeldeseite auf „Passwort vergessen?“ und geben Sie die E-Mail-Adresse Ihres Kontos ein. Der Link ist 30 Minuten gültig. Wenn die E-Mail nach ein paar Minuten nicht da ist, schauen Sie bitte im Spam-Ordner nach und prüfen Sie, ob Sie dieselbe Adresse wie bei der Registrierung verwenden.",
            "fast": "So setzen Sie Ihr Passwort zurück:\n\n1. Auf der Anmeldeseite **Passwort vergessen?** anklicken.\n2. E-Mail-Adresse des Kontos eingeben.\n3. Den Link innerhalb von 30 Minuten öffnen.\n\nKeine E-Mail erhalten? Bitte den Spam-Ordner prüfen.",
            "partial": "Klicken Sie auf „Passwort vergessen?“ und folgen Sie den Anweisungen in der E-Mail.",
        },
        "cancel": {
            "questions": [
                "Wie kündige ich meinen {plan}-Tarif? Bekomme ich für den Rest des Monats Geld zurück?"
            ],
            "subject": "Kündigung {plan}-Tarif",
            "strong": "Sie können jederzeit unter Einstellungen → Abrechnung → Tarif kündigen kündigen. Ihr {plan}-Tarif bleibt bis zum Ende des laufenden Abrechnungszeitraums aktiv, danach wird nichts mehr abgebucht. Eine anteilige Erstattung für die restlichen Tage eines bereits begonnenen Zeitraums gibt es leider nicht.",
            "fast": "## {plan}-Tarif kündigen\n\n- **Einstellungen → Abrechnung → Tarif kündigen**\n- Zugriff bis zum Ende des aktuellen Abrechnungszeitraums\n- Keine anteilige Erstattung für ungenutzte Tage",
            "partial": "Sie können unter Einstellungen → Abrechnung kündigen. Ob Sie etwas erstattet bekommen, hängt von Ihrem Tarif ab.",
        },
        "invoice": {
            "questions": [
                "Wo kann ich die Rechnung für Bestellung #{order} herunterladen? Ich brauche sie mit unserer USt-IdNr."
            ],
            "subject": "Rechnung zu Bestellung #{order}",
            "strong": "Gehen Sie zu Konto → Bestellungen, öffnen Sie Bestellung #{order} und klicken Sie auf „Rechnung herunterladen“, um das PDF zu erhalten. Ihre USt-IdNr. tragen Sie vorher unter Konto → Rechnungsdaten ein, denn die Rechnung wird mit den Daten erstellt, die zu diesem Zeitpunkt gespeichert sind.",
            "fast": "Hier finden Sie die Rechnung:\n\n- **Konto → Bestellungen → #{order} → Rechnung herunterladen**\n- USt-IdNr. vorher unter **Konto → Rechnungsdaten** eintragen",
            "partial": "Rechnungen werden nach jeder Bestellung per E-Mail verschickt. Bitte prüfen Sie Ihr Postfach.",
        },
    },
    "es": {
        "delivery": {
            "questions": [
                "¿Cuánto tarda el envío a {city} si pido la {product} hoy?",
                "Vivo en {city}. Si pido ahora la {product}, ¿cuándo me llegaría?",
            ],
            "subject": "Plazo de entrega a {city}",
            "strong": "El envío estándar a {city} tarda de 2 a 4 días laborables, así que si pides la {product} hoy debería llegar en ese plazo. Si la necesitas antes, elige el envío exprés al finalizar la compra antes de las 14:00 y llegará el siguiente día laborable.",
            "fast": "**Plazos de entrega:**\n\n- Estándar: 2–4 días laborables\n- Exprés: siguiente día laborable (pedidos antes de las 14:00)\n\nPuedes elegir la opción al pagar.",
            "partial": "El envío suele tardar unos días. Verás la fecha estimada al finalizar la compra.",
        },
        "returns": {
            "questions": [
                "¿Todavía puedo devolver la {product}? Me llegó hace {days} días y no la he usado."
            ],
            "subject": "Devolución del pedido #{order}",
            "strong": "Sí. Puedes devolver artículos sin usar en un plazo de 30 días desde la entrega, así que la {product} todavía se puede devolver. Ve a Cuenta → Pedidos, selecciona el pedido y pulsa «Devolver artículo» para imprimir una etiqueta de devolución gratuita. El reembolso se hace en tu método de pago original en un plazo de 5 días laborables desde que recibimos el artículo.",
            "fast": "¡Sí, puedes devolverla!\n\n- Devoluciones en un plazo de **30 días** desde la entrega (sin usar)\n- **Cuenta → Pedidos → Devolver artículo** para la etiqueta gratuita\n- Reembolso en 5 días laborables tras recibir el artículo",
            "partial": "Sí, los artículos sin usar se pueden devolver. Ponte en contacto con atención al cliente para gestionarlo.",
        },
        "password": {
            "questions": [
                "Olvidé mi contraseña y no me llega el correo para restablecerla. ¿Qué hago?"
            ],
            "subject": "No me llega el correo de contraseña",
            "strong": "Usa el enlace «¿Has olvidado tu contraseña?» en la página de inicio de sesión e introduce el correo de tu cuenta. El enlace es válido durante 30 minutos. Si el correo no llega en unos minutos, revisa la carpeta de spam y comprueba que usas la misma dirección con la que te registraste.",
            "fast": "Para restablecer tu contraseña:\n\n1. Pulsa **¿Has olvidado tu contraseña?** en la página de inicio de sesión.\n2. Introduce el correo de tu cuenta.\n3. Usa el enlace en menos de 30 minutos.\n\nSi no llega el correo, revisa la carpeta de spam.",
            "partial": "Pulsa «¿Has olvidado tu contraseña?» y sigue las instrucciones del correo.",
        },
        "cancel": {
            "questions": [
                "¿Cómo cancelo mi plan {plan}? ¿Me devolvéis el dinero del resto del mes?"
            ],
            "subject": "Cancelar plan {plan}",
            "strong": "Puedes cancelar cuando quieras en Ajustes → Facturación → Cancelar plan. Tu plan {plan} seguirá activo hasta el final del periodo de facturación actual y no se te volverá a cobrar. No hacemos reembolsos parciales por los días restantes de un periodo ya iniciado.",
            "fast": "## Cancelar el plan {plan}\n\n- **Ajustes → Facturación → Cancelar plan**\n- Mantienes el acceso hasta el final del periodo actual\n- No hay reembolsos parciales por los días no usados",
            "partial": "Puedes cancelar en Ajustes → Facturación. El reembolso depende de tu plan.",
        },
        "invoice": {
            "questions": [
                "¿Dónde descargo la factura del pedido #{order}? La necesito con el NIF de mi empresa."
            ],
            "subject": "Factura del pedido #{order}",
            "strong": "Ve a Cuenta → Pedidos, abre el pedido #{order} y pulsa «Descargar factura» para obtener el PDF. Antes de descargarla, añade el NIF de tu empresa en Cuenta → Datos de facturación, porque la factura se genera con los datos guardados en ese momento.",
            "fast": "Puedes descargarla aquí:\n\n- **Cuenta → Pedidos → #{order} → Descargar factura**\n- Añade antes el NIF en **Cuenta → Datos de facturación**",
            "partial": "Las facturas se envían por correo después de cada pedido. Revisa tu bandeja de entrada.",
        },
    },
    "ja": {
        "delivery": {
            "questions": [
                "今日{product}を注文したら、{city}まで何日で届きますか？",
                "{city}に住んでいます。今{product}を注文すると、いつ届きますか？",
            ],
            "subject": "{city}への配送日数",
            "strong": "{city}への通常配送は2〜4営業日です。本日ご注文いただいた場合、この期間内にお届けの予定です。お急ぎの場合は、14時までにご注文手続きの画面で「お急ぎ便」を選択していただくと、翌営業日にお届けします。",
            "fast": "**配送日数について**\n\n- 通常配送：2〜4営業日\n- お急ぎ便：翌営業日（14時までのご注文）\n\n配送方法はご注文手続きの画面で選択できます。",
        },
        "returns": {
            "questions": [
                "{days}日前に届いた{product}を返品できますか？まだ使っていません。"
            ],
            "subject": "注文#{order}の返品について",
            "strong": "はい、返品可能です。未使用の商品は、お届けから30日以内であれば返品を承っております。「アカウント」→「注文履歴」から該当の注文を選び、「商品を返品する」をクリックすると、無料の返品ラベルを印刷できます。商品が当社に到着してから5営業日以内に、元のお支払い方法へ返金いたします。",
            "fast": "はい、返品できます。\n\n- お届けから**30日以内**（未使用品に限る）\n- **アカウント → 注文履歴 → 商品を返品する**で無料の返品ラベルを発行\n- 商品到着後5営業日以内に返金",
        },
        "password": {
            "questions": [
                "パスワードを忘れてしまい、再設定メールも届きません。どうすればいいですか？"
            ],
            "subject": "パスワード再設定メールが届かない",
            "strong": "ログイン画面の「パスワードをお忘れですか？」をクリックし、アカウントに登録したメールアドレスを入力してください。再設定リンクの有効期限は30分です。数分待ってもメールが届かない場合は、迷惑メールフォルダをご確認のうえ、登録時と同じメールアドレスを入力しているかご確認ください。",
            "fast": "パスワードの再設定手順：\n\n1. ログイン画面で**パスワードをお忘れですか？**をクリック\n2. 登録メールアドレスを入力\n3. 30分以内にリンクを開く\n\nメールが届かない場合は迷惑メールフォルダをご確認ください。",
        },
        "cancel": {
            "questions": [
                "{plan}プランを解約するにはどうすればいいですか？残りの期間分は返金されますか？"
            ],
            "subject": "{plan}プランの解約",
            "strong": "解約は「設定」→「お支払い」→「プランを解約」からいつでも行えます。{plan}プランは現在の請求期間の終わりまでご利用いただけ、その後の請求は発生しません。なお、すでに始まっている期間の残り日数分の返金は行っておりません。",
            "fast": "## {plan}プランの解約\n\n- **設定 → お支払い → プランを解約**\n- 現在の請求期間の終わりまで利用可能\n- 残り日数分の返金はありません",
        },
        "invoice": {
            "questions": [
                "注文#{order}の請求書はどこからダウンロードできますか？会社の登録番号を記載したいです。"
            ],
            "subject": "注文#{order}の請求書",
            "strong": "「アカウント」→「注文履歴」で注文#{order}を開き、「請求書をダウンロード」をクリックするとPDFを取得できます。登録番号を記載する場合は、ダウンロードの前に「アカウント」→「請求先情報」で入力してください。請求書はその時点で保存されている情報で作成されます。",
            "fast": "請求書のダウンロード方法：\n\n- **アカウント → 注文履歴 → #{order} → 請求書をダウンロード**\n- 登録番号は事前に**アカウント → 請求先情報**で入力してください",
        },
    },
    "ko": {
        "delivery": {
            "questions": [
                "{product} 오늘 주문하면 {city}까지 배송 며칠 걸리나요?",
                "{city}에 살고 있는데요, 지금 {product} 주문하면 언제 도착해요?",
            ],
            "subject": "{city} 배송 기간 문의",
            "strong": "{city}까지 일반 배송은 영업일 기준 2~4일이 소요됩니다. 오늘 주문하시면 이 기간 안에 받아 보실 수 있습니다. 더 빨리 필요하시면 오후 2시 전에 결제 단계에서 빠른 배송을 선택해 주세요. 다음 영업일에 도착합니다.",
            "fast": "**배송 기간 안내**\n\n- 일반 배송: 영업일 기준 2~4일\n- 빠른 배송: 다음 영업일 도착 (오후 2시 전 주문 시)\n\n배송 방법은 결제 단계에서 선택하실 수 있습니다.",
            "script_switch": "**배송 기간 안내**\n\n- 일반 배송: 영업일 기준 2~4일\n- 빠른 배송: 다음 영업일 도착\n\n如果您需要更快收到商品，请在下午2点前下单并选择快速配送，我们会在下一个工作日送达。",
        },
        "returns": {
            "questions": [
                "{days}일 전에 받은 {product} 아직 반품할 수 있나요? 사용하지 않았어요."
            ],
            "subject": "주문 #{order} 반품 문의",
            "strong": "네, 반품 가능합니다. 사용하지 않은 상품은 배송 완료일로부터 30일 이내에 반품하실 수 있습니다. '내 계정' → '주문 내역'에서 해당 주문을 선택한 뒤 '반품 신청'을 누르시면 무료 반품 라벨을 출력하실 수 있습니다. 상품이 도착한 후 영업일 기준 5일 이내에 원래 결제 수단으로 환불해 드립니다.",
            "fast": "네, 반품하실 수 있습니다.\n\n- 배송 완료 후 **30일 이내** (미사용 상품)\n- **내 계정 → 주문 내역 → 반품 신청**에서 무료 반품 라벨 출력\n- 상품 도착 후 영업일 기준 5일 이내 환불",
            "script_switch": "네, 반품하실 수 있습니다.\n\n- 배송 완료 후 **30일 이내** (미사용 상품)\n\n请在“我的账户”→“订单记录”中选择该订单并申请退货，商品到达后5个工作日内退款。",
        },
        "password": {
            "questions": [
                "비밀번호를 잊어버렸는데 재설정 메일이 안 와요. 어떻게 해야 하나요?"
            ],
            "subject": "비밀번호 재설정 메일 미수신",
            "strong": "로그인 화면에서 '비밀번호를 잊으셨나요?'를 누르고 계정에 등록된 이메일 주소를 입력해 주세요. 재설정 링크는 30분 동안 유효합니다. 몇 분이 지나도 메일이 오지 않으면 스팸함을 확인하시고, 가입할 때 사용한 이메일 주소가 맞는지 확인해 주세요.",
            "fast": "비밀번호 재설정 방법:\n\n1. 로그인 화면에서 **비밀번호를 잊으셨나요?** 클릭\n2. 계정 이메일 주소 입력\n3. 30분 이내에 링크 열기\n\n메일이 오지 않으면 스팸함을 확인해 주세요.",
            "script_switch": "비밀번호 재설정 방법:\n\n1. 로그인 화면에서 **비밀번호를 잊으셨나요?** 클릭\n2. 계정 이메일 주소 입력\n\n重置链接的有效期为30分钟。如果几分钟后仍未收到邮件，请检查垃圾邮件文件夹。",
        },
        "cancel": {
            "questions": [
                "{plan} 플랜 해지하려면 어떻게 하나요? 남은 기간은 환불되나요?"
            ],
            "subject": "{plan} 플랜 해지",
            "strong": "'설정' → '결제' → '플랜 해지'에서 언제든지 해지하실 수 있습니다. {plan} 플랜은 현재 결제 기간이 끝날 때까지 이용하실 수 있으며, 이후에는 요금이 청구되지 않습니다. 다만 이미 시작된 결제 기간의 남은 일수에 대한 부분 환불은 제공되지 않습니다.",
            "fast": "## {plan} 플랜 해지\n\n- **설정 → 결제 → 플랜 해지**\n- 현재 결제 기간이 끝날 때까지 이용 가능\n- 남은 기간에 대한 부분 환불 없음",
            "script_switch": "## {plan} 플랜 해지\n\n- **설정 → 결제 → 플랜 해지**\n\n您可以使用到当前结算周期结束，但已开始的结算周期不提供部分退款。",
        },
        "invoice": {
            "questions": [
                "주문번호 #{order} 인보이스는 어디서 다운로드하나요? 사업자등록번호를 넣어야 해요."
            ],
            "subject": "주문 #{order} 인보이스",
            "strong": "'내 계정' → '주문 내역'에서 해당 주문(#{order})을 열고 '인보이스 다운로드'를 누르시면 PDF로 받으실 수 있습니다. 사업자등록번호는 다운로드 전에 '내 계정' → '청구 정보'에 입력해 주세요. 인보이스는 다운로드 시점에 저장된 정보로 발행됩니다.",
            "fast": "인보이스 다운로드 방법:\n\n- **내 계정 → 주문 내역 → #{order} → 인보이스 다운로드**\n- 사업자등록번호는 먼저 **내 계정 → 청구 정보**에 입력해 주세요",
            "script_switch": "인보이스 다운로드 방법:\n\n- **내 계정 → 주문 내역 → #{order} → 인보이스 다운로드**\n\n请先在“我的账户”→“账单信息”中填写营业执照号码，发票会按照下载时保存的信息生成。",
        },
    },
    "ar": {
        "delivery": {
            "questions": ["كم يستغرق التوصيل إلى {city} إذا طلبت {product} اليوم؟"],
            "subject": "مدة التوصيل إلى {city}",
            "strong": "يستغرق التوصيل العادي إلى {city} من يومين إلى أربعة أيام عمل، لذلك إذا طلبت اليوم فسيصلك الطلب خلال هذه المدة. وإذا كنت بحاجة إليه بشكل أسرع، فاختر التوصيل السريع عند إتمام الطلب قبل الساعة الثانية ظهرًا ليصلك في يوم العمل التالي.",
            "fast": "**مدة التوصيل:**\n\n- التوصيل العادي: من 2 إلى 4 أيام عمل\n- التوصيل السريع: يوم العمل التالي (للطلبات قبل الساعة 2 ظهرًا)\n\nيمكنك اختيار طريقة التوصيل عند إتمام الطلب.",
        },
        "returns": {
            "questions": [
                "هل ما زال بإمكاني إرجاع {product}؟ وصل الطلب قبل {days} {days_word} ولم أستخدم المنتج."
            ],
            "subject": "إرجاع الطلب #{order}",
            "strong": "نعم، يمكنك ذلك. تُقبل إعادة المنتجات غير المستخدمة خلال 30 يومًا من تاريخ التوصيل. ادخل إلى حسابي ← الطلبات، واختر الطلب ثم اضغط على «إرجاع المنتج» لطباعة ملصق إرجاع مجاني. يُعاد المبلغ إلى وسيلة الدفع الأصلية خلال 5 أيام عمل من وصول المنتج إلينا.",
            "fast": "نعم، يمكنك إرجاع المنتج.\n\n- الإرجاع خلال **30 يومًا** من التوصيل (للمنتجات غير المستخدمة)\n- **حسابي ← الطلبات ← إرجاع المنتج** لطباعة ملصق مجاني\n- استرداد المبلغ خلال 5 أيام عمل من وصول المنتج",
        },
        "password": {
            "questions": ["نسيت كلمة المرور ولم تصلني رسالة إعادة التعيين. ماذا أفعل؟"],
            "subject": "لم تصلني رسالة إعادة تعيين كلمة المرور",
            "strong": "اضغط على «نسيت كلمة المرور؟» في صفحة تسجيل الدخول وأدخل البريد الإلكتروني المسجل في حسابك. يبقى رابط إعادة التعيين صالحًا لمدة 30 دقيقة. إذا لم تصلك الرسالة خلال بضع دقائق، فتحقق من مجلد الرسائل غير المرغوب فيها وتأكد من أنك تستخدم البريد نفسه الذي سجلت به.",
            "fast": "لإعادة تعيين كلمة المرور:\n\n1. اضغط على **نسيت كلمة المرور؟** في صفحة تسجيل الدخول.\n2. أدخل بريدك الإلكتروني.\n3. افتح الرابط خلال 30 دقيقة.\n\nإذا لم تصلك الرسالة، فتحقق من مجلد الرسائل غير المرغوب فيها.",
        },
        "cancel": {
            "questions": [
                "كيف ألغي اشتراكي في باقة {plan}؟ وهل سأسترد المبلغ عن بقية الشهر؟"
            ],
            "subject": "إلغاء باقة {plan}",
            "strong": "يمكنك الإلغاء في أي وقت من الإعدادات ← الفوترة ← إلغاء الباقة. تبقى باقة {plan} فعالة حتى نهاية فترة الفوترة الحالية، ولن تُخصم منك أي مبالغ بعد ذلك. لا نقدم استردادًا جزئيًا عن الأيام المتبقية من فترة بدأت بالفعل.",
            "fast": "## إلغاء باقة {plan}\n\n- **الإعدادات ← الفوترة ← إلغاء الباقة**\n- يبقى الوصول متاحًا حتى نهاية فترة الفوترة الحالية\n- لا يوجد استرداد جزئي عن الأيام غير المستخدمة",
        },
        "invoice": {
            "questions": [
                "من أين أنزّل فاتورة الطلب رقم #{order}؟ أحتاج أن يظهر فيها الرقم الضريبي لشركتي."
            ],
            "subject": "فاتورة الطلب #{order}",
            "strong": "ادخل إلى حسابي ← الطلبات، وافتح الطلب رقم #{order} ثم اضغط على «تنزيل الفاتورة» للحصول على ملف PDF. أضف الرقم الضريبي لشركتك قبل التنزيل من حسابي ← بيانات الفوترة، لأن الفاتورة تُنشأ بالبيانات المحفوظة في تلك اللحظة.",
            "fast": "يمكنك تنزيلها من هنا:\n\n- **حسابي ← الطلبات ← #{order} ← تنزيل الفاتورة**\n- أضف الرقم الضريبي أولًا من **حسابي ← بيانات الفوترة**",
        },
    },
}

# The first user turn and the assistant's reply before the question, in chat requests.
CHAT_OPENERS = {
    "en": (
        "Hi, I have a question about an order.",
        "Hi! Happy to help. What would you like to know?",
    ),
    "de": (
        "Hallo, ich habe eine Frage zu meiner Bestellung.",
        "Hallo! Gern helfe ich Ihnen. Was möchten Sie wissen?",
    ),
    "es": (
        "Hola, tengo una pregunta sobre un pedido.",
        "¡Hola! Encantada de ayudarte. ¿Qué quieres saber?",
    ),
    "ja": (
        "こんにちは。注文について質問があります。",
        "こんにちは。喜んでお手伝いします。どのようなご質問でしょうか？",
    ),
    "ko": (
        "안녕하세요, 주문 관련해서 질문이 있어요.",
        "안녕하세요! 기꺼이 도와드리겠습니다. 어떤 점이 궁금하신가요?",
    ),
}

# ---------------------------------------------------------------------------
# Extraction: a customer email to a JSON object with fixed keys.
# ---------------------------------------------------------------------------

ISSUE_TYPES = ["damaged", "late", "wrong_item", "billing"]

EXTRACTION_INSTRUCTIONS = {
    "en": "Extract the following fields from the customer email below and return only a JSON object with these keys: customer_name, order_id (digits only), product, issue_type (one of: damaged, late, wrong_item, billing), refund_requested (true or false).\n\nEmail:\n",
    "de": "Extrahiere aus der folgenden Kunden-E-Mail diese Felder und gib nur ein JSON-Objekt mit genau diesen Schlüsseln zurück: customer_name, order_id (nur Ziffern), product, issue_type (eines von: damaged, late, wrong_item, billing), refund_requested (true oder false).\n\nE-Mail:\n",
    "es": "Extrae los siguientes campos del correo del cliente y devuelve solo un objeto JSON con estas claves: customer_name, order_id (solo dígitos), product, issue_type (uno de: damaged, late, wrong_item, billing), refund_requested (true o false).\n\nCorreo:\n",
    "ja": "以下のお客様のメールから次の項目を抽出し、これらのキーを持つJSONオブジェクトのみを返してください：customer_name、order_id（数字のみ）、product、issue_type（damaged、late、wrong_item、billing のいずれか）、refund_requested（true または false）。\n\nメール：\n",
    "ko": "아래 고객 이메일에서 다음 항목을 추출해 이 키만 가진 JSON 객체로만 반환해 주세요: customer_name, order_id(숫자만), product, issue_type(damaged, late, wrong_item, billing 중 하나), refund_requested(true 또는 false).\n\n이메일:\n",
    "ar": "استخرج الحقول التالية من رسالة العميل أدناه وأعد كائن JSON فقط بهذه المفاتيح: customer_name، order_id (أرقام فقط)، product، issue_type (واحدة من: damaged، late، wrong_item، billing)، refund_requested (true أو false).\n\nالرسالة:\n",
}

# Email bodies per issue type. {request} is one of the two sentences in
# EXTRACTION_REQUESTS: index 0 asks for a refund, index 1 does not.
EXTRACTION_EMAILS = {
    "en": {
        "damaged": "Hello,\n\nmy order #{order} arrived today, but the {product} has a cracked housing and doesn't switch on. {request}\n\nThanks,\n{name}",
        "late": "Hi there,\n\nI ordered the {product} two weeks ago (order #{order}) and it still hasn't arrived. {request}\n\n{name}",
        "wrong_item": "Hello,\n\nI was sent the {other} instead of the {product} I ordered (order #{order}). {request}\n\nKind regards,\n{name}",
        "billing": "Hi,\n\nI was charged twice for order #{order} ({product}). {request}\n\nBest,\n{name}",
    },
    "de": {
        "damaged": "Hallo,\n\nmeine Bestellung #{order} ist heute angekommen, aber die {product} hat ein gesprungenes Gehäuse und lässt sich nicht einschalten. {request}\n\nDanke,\n{name}",
        "late": "Guten Tag,\n\nich habe die {product} vor zwei Wochen bestellt (Bestellung #{order}), sie ist aber immer noch nicht da. {request}\n\n{name}",
        "wrong_item": "Hallo,\n\nstatt der bestellten {product} habe ich eine {other} bekommen (Bestellung #{order}). {request}\n\nViele Grüße\n{name}",
        "billing": "Hallo,\n\nfür Bestellung #{order} ({product}) wurde mir der Betrag zweimal abgebucht. {request}\n\nGruß\n{name}",
    },
    "es": {
        "damaged": "Hola:\n\nmi pedido #{order} llegó hoy, pero la {product} tiene la carcasa rota y no se enciende. {request}\n\nGracias,\n{name}",
        "late": "Buenas:\n\npedí la {product} hace dos semanas (pedido #{order}) y todavía no ha llegado. {request}\n\n{name}",
        "wrong_item": "Hola:\n\nen lugar de la {product} que pedí me ha llegado una {other} (pedido #{order}). {request}\n\nUn saludo,\n{name}",
        "billing": "Hola:\n\nme habéis cobrado dos veces el pedido #{order} ({product}). {request}\n\nSaludos,\n{name}",
    },
    "ja": {
        "damaged": "お世話になっております。\n\n本日、注文#{order}の商品が届きましたが、{product}の本体にひびが入っていて電源が入りません。{request}\n\n{name}",
        "late": "お世話になっております。\n\n2週間前に{product}を注文しましたが（注文#{order}）、まだ届いていません。{request}\n\n{name}",
        "wrong_item": "お世話になっております。\n\n注文した{product}ではなく、{other}が届きました（注文#{order}）。{request}\n\n{name}",
        "billing": "お世話になっております。\n\n注文#{order}（{product}）の代金が2回引き落とされています。{request}\n\n{name}",
    },
    "ko": {
        "damaged": "안녕하세요.\n\n오늘 주문 #{order} 상품을 받았는데 {product} 본체에 금이 가 있고 전원이 켜지지 않습니다. {request}\n\n{name} 드림",
        "late": "안녕하세요.\n\n2주 전에 {product} 주문했는데(주문 #{order}) 아직도 도착하지 않았습니다. {request}\n\n{name} 드림",
        "wrong_item": "안녕하세요.\n\n주문한 {product} 대신 {other} 제품이 왔습니다(주문 #{order}). {request}\n\n{name} 드림",
        "billing": "안녕하세요.\n\n주문 #{order}({product}) 결제가 두 번 되었습니다. {request}\n\n{name} 드림",
    },
    "ar": {
        "damaged": "مرحبًا،\n\nوصلني اليوم الطلب رقم #{order}، لكن المنتج ({product}) فيه كسر في الهيكل ولا يعمل. {request}\n\nشكرًا،\n{name}",
        "late": "السلام عليكم،\n\nطلبت {product} قبل أسبوعين (الطلب رقم #{order}) ولم يصل الطلب حتى الآن. {request}\n\n{name}",
        "wrong_item": "مرحبًا،\n\nوصلني منتج {other} بدلًا من المنتج الذي طلبته ({product})، الطلب رقم #{order}. {request}\n\nمع التحية،\n{name}",
        "billing": "مرحبًا،\n\nتم خصم مبلغ الطلب رقم #{order} ({product}) مرتين من بطاقتي. {request}\n\n{name}",
    },
}

EXTRACTION_REQUESTS = {
    "en": {
        "damaged": ["I'd like my money back, please.", "Could you send a replacement?"],
        "late": ["Please cancel it and refund me.", "Can you tell me where it is?"],
        "wrong_item": [
            "Please refund the order, I'll send the wrong item back.",
            "Please send the right item.",
        ],
        "billing": [
            "Please refund the duplicate payment.",
            "Can you check what happened?",
        ],
    },
    "de": {
        "damaged": [
            "Ich möchte bitte mein Geld zurück.",
            "Können Sie mir Ersatz schicken?",
        ],
        "late": [
            "Bitte stornieren Sie die Bestellung und erstatten Sie mir den Betrag.",
            "Können Sie mir sagen, wo sie ist?",
        ],
        "wrong_item": [
            "Bitte erstatten Sie mir den Betrag, den falschen Artikel schicke ich zurück.",
            "Bitte schicken Sie mir den richtigen Artikel.",
        ],
        "billing": [
            "Bitte erstatten Sie die doppelte Zahlung.",
            "Können Sie prüfen, was da passiert ist?",
        ],
    },
    "es": {
        "damaged": ["Quiero que me devolváis el dinero.", "¿Podéis enviarme otra?"],
        "late": [
            "Por favor, cancelad el pedido y devolvedme el dinero.",
            "¿Podéis decirme dónde está?",
        ],
        "wrong_item": [
            "Quiero el reembolso del pedido, os devuelvo el artículo equivocado.",
            "Por favor, enviadme el artículo correcto.",
        ],
        "billing": [
            "Por favor, devolvedme el cobro duplicado.",
            "¿Podéis revisar qué ha pasado?",
        ],
    },
    "ja": {
        "damaged": ["返金をお願いします。", "交換品を送っていただけますか。"],
        "late": [
            "注文をキャンセルして返金してください。",
            "今どこにあるか教えていただけますか。",
        ],
        "wrong_item": [
            "誤って届いた商品は返送しますので、返金をお願いします。",
            "正しい商品を送ってください。",
        ],
        "billing": [
            "二重に引き落とされた分を返金してください。",
            "何が起きたのか確認していただけますか。",
        ],
    },
    "ko": {
        "damaged": ["환불해 주세요.", "교환품을 보내 주실 수 있나요?"],
        "late": [
            "주문을 취소하고 환불해 주세요.",
            "지금 어디에 있는지 알려 주실 수 있나요?",
        ],
        "wrong_item": [
            "잘못 온 상품은 반송할 테니 환불해 주세요.",
            "주문한 상품으로 다시 보내 주세요.",
        ],
        "billing": [
            "중복 결제된 금액을 환불해 주세요.",
            "무슨 일인지 확인해 주실 수 있나요?",
        ],
    },
    "ar": {
        "damaged": ["أرجو استرداد المبلغ.", "هل يمكنكم إرسال بديل؟"],
        "late": [
            "أرجو إلغاء الطلب واسترداد المبلغ.",
            "هل يمكنكم إخباري أين الطلب الآن؟",
        ],
        "wrong_item": [
            "أرجو استرداد المبلغ، وسأعيد المنتج الخاطئ.",
            "أرجو إرسال المنتج الصحيح.",
        ],
        "billing": ["أرجو استرداد المبلغ المخصوم مرتين.", "هل يمكنكم التحقق مما حدث؟"],
    },
}

# Sentence that a chatty model writes before an object it did not format as JSON.
EXTRACTION_PREFACES = {
    "en": "Here is the extracted information:",
    "de": "Hier sind die extrahierten Daten:",
    "es": "Aquí tienes los datos extraídos:",
    "ja": "抽出した情報は以下のとおりです。",
    "ko": "추출한 정보는 다음과 같습니다.",
    "ar": "إليك المعلومات المستخرجة:",
}

# Keys that the fast model sometimes translates into Japanese, breaking the schema.
JA_TRANSLATED_KEYS = {
    "customer_name": "顧客名",
    "order_id": "注文番号",
    "product": "商品",
    "issue_type": "問題の種類",
    "refund_requested": "返金希望",
}

# ---------------------------------------------------------------------------
# Summarisation: a short ticket or a long thread, summarised for the next agent.
# ---------------------------------------------------------------------------

SHORT_THREADS = {
    "en": {
        "prompt": "Summarise this support ticket for the next agent in two or three sentences.\n\nCustomer ({name}): Hi, the {product} from order #{order} stopped working after a week. I've already tried a different cable and a different socket.\nAgent ({agent}): Thanks, {first}. Could you hold the power button for 15 seconds and try again?\nCustomer ({name}): Did that, still nothing. I'd prefer a replacement rather than a refund.",
        "strong": "{name} reports that the {product} from order #{order} stopped working after a week. Another cable, another socket and a 15-second reset did not help. The customer wants a replacement rather than a refund, so the next step is to send one and arrange the return of the faulty unit.",
        "fast": "- **Customer:** {name}, order #{order}\n- **Issue:** {product} stopped working after a week\n- **Tried:** other cable and socket, 15-second reset\n- **Wants:** a replacement, not a refund",
        "partial": "- **Customer:** {name}, order #{order}\n- **Issue:** {product} stopped working after a week\n- **Tried:** other cable and socket, 15-second reset\n- **Next step:** offer a refund",
    },
    "de": {
        "prompt": "Fasse dieses Support-Ticket für die nächste Kollegin in zwei oder drei Sätzen zusammen.\n\n{name}: Hallo, die {product} aus Bestellung #{order} funktioniert nach einer Woche nicht mehr. Ein anderes Kabel und eine andere Steckdose habe ich schon ausprobiert.\n{agent} (Support): Danke für die Info. Könnten Sie den Einschaltknopf 15 Sekunden gedrückt halten und es noch einmal versuchen?\n{name}: Habe ich gemacht, immer noch nichts. Mir wäre ein Ersatzgerät lieber als eine Erstattung.",
        "strong": "{name} meldet, dass die {product} aus Bestellung #{order} nach einer Woche nicht mehr funktioniert. Ein anderes Kabel, eine andere Steckdose und ein Reset mit 15 Sekunden Tastendruck haben nicht geholfen. Gewünscht ist ein Ersatzgerät statt einer Erstattung, also als Nächstes Ersatz schicken und die Rücksendung des defekten Geräts veranlassen.",
        "fast": "- **Kontakt:** {name}, Bestellung #{order}\n- **Problem:** {product} funktioniert nach einer Woche nicht mehr\n- **Versucht:** anderes Kabel, andere Steckdose, Reset (15 Sekunden)\n- **Wunsch:** Ersatzgerät statt Erstattung",
    },
    "es": {
        "prompt": "Resume este ticket de soporte para el siguiente agente en dos o tres frases.\n\nCliente ({name}): Hola, la {product} del pedido #{order} dejó de funcionar a la semana. Ya he probado con otro cable y otro enchufe.\nAgente ({agent}): Gracias. ¿Puedes mantener pulsado el botón de encendido 15 segundos y volver a probar?\nCliente ({name}): Hecho, sigue sin funcionar. Prefiero un reemplazo antes que un reembolso.",
        "strong": "{name} indica que la {product} del pedido #{order} dejó de funcionar a la semana. Probar otro cable, otro enchufe y un reinicio de 15 segundos no ha servido. {name} prefiere un reemplazo a un reembolso, así que el siguiente paso es enviarlo y organizar la devolución de la unidad defectuosa.",
        "fast": "- **Cliente:** {name}, pedido #{order}\n- **Problema:** la {product} dejó de funcionar a la semana\n- **Probado:** otro cable y otro enchufe, reinicio de 15 segundos\n- **Quiere:** un reemplazo, no un reembolso",
    },
    "ja": {
        "prompt": "次の問い合わせを、引き継ぐ担当者向けに2〜3文で要約してください。\n\nお客様（{name}）：注文#{order}の{product}が1週間で動かなくなりました。別のケーブルと別のコンセントも試しました。\n担当者（{agent}）：ありがとうございます。電源ボタンを15秒間押し続けてから、もう一度お試しいただけますか。\nお客様（{name}）：試しましたが、やはり動きません。返金より交換を希望します。",
        "strong": "{name}様から、注文#{order}の{product}が1週間で動かなくなったとの連絡がありました。別のケーブルやコンセント、15秒間のリセットを試しても改善していません。お客様は返金ではなく交換を希望しているため、次の対応として交換品を発送し、故障品の返送を手配してください。",
        "fast": "- **お客様：** {name}様（注文#{order}）\n- **症状：** {product}が1週間で動かなくなった\n- **試したこと：** 別のケーブルとコンセント、15秒間のリセット\n- **希望：** 返金ではなく交換",
        "partial": "- **お客様：** {name}様（注文#{order}）\n- **症状：** {product}が1週間で動かなくなった\n- **次の対応：** 返金手続きを案内する",
    },
    "ko": {
        "prompt": "다음 상담 내용을 다음 상담원이 볼 수 있도록 두세 문장으로 요약해 주세요.\n\n고객({name}): 안녕하세요, 주문 #{order}의 {product} 제품이 일주일 만에 작동하지 않아요. 다른 케이블과 다른 콘센트도 이미 써 봤어요.\n상담원({agent}): 감사합니다. 전원 버튼을 15초 동안 누른 뒤 다시 시도해 주시겠어요?\n고객({name}): 해 봤는데 여전히 안 돼요. 환불보다는 교환을 원해요.",
        "strong": "{name} 고객님의 주문 #{order} {product} 제품이 일주일 만에 작동을 멈췄습니다. 다른 케이블과 콘센트, 15초 리셋을 시도했지만 해결되지 않았습니다. 고객님은 환불이 아닌 교환을 원하시므로, 교환품을 발송하고 불량품 회수를 진행해 주세요.",
        "fast": "- **고객:** {name} (주문 #{order})\n- **문제:** {product} 제품이 일주일 만에 작동하지 않음\n- **시도한 조치:** 다른 케이블과 콘센트, 15초 리셋\n- **요청:** 환불이 아닌 교환",
    },
}

# Long threads: seven messages, about 600 words in English. The slots {serial} and
# {order2} (the replacement order) appear only here.
LONG_THREADS = {
    "en": {
        "instruction": "Summarise this ticket thread for the agent taking over. Keep it to one short paragraph and end with the next step.",
        "messages": [
            "--- {name}, 3 March ---\nHello, I bought the {product} from your shop on 12 February (order #{order}). For the first two weeks everything was fine, but since last Thursday it switches itself off after a few minutes. At first I thought it was the socket, so I moved it to the kitchen and then to the living room, but the same thing happens everywhere. I have also tried it without the extension lead. There is no error message, the light just goes out and it only comes back on if I unplug it for a while. I use it every morning, so this is quite annoying. Could you tell me what to do?",
            "--- {agent}, support, 3 March ---\nHi {first}, thank you for the detailed description, that already rules out a lot. Could you please try a reset: unplug the {product}, hold the power button for 15 seconds, plug it back in and let it run for ten minutes. If it still switches off, please send us a photo of the label on the underside with the serial number, and let us know roughly how long it runs before it stops. That will help us see whether it belongs to a batch we already know about.",
            "--- {name}, 4 March ---\nI did the reset exactly as you described. It ran for about six minutes and then switched off again, same as before. The serial number is SN-4471-{serial}, photo attached. I also noticed that the housing gets quite warm near the back just before it switches off, which it didn't do when it was new. I'm a bit worried about leaving it plugged in now.",
            "--- {agent}, support, 4 March ---\nThanks, {first}, and please do stop using it for now; you were right to be careful. The serial number is from a production batch where a small number of units had a faulty thermal sensor, which explains both the warmth and the automatic shut-off. The unit is covered by the two-year warranty, so you won't pay anything for a fix. We can either repair it, which takes about ten working days, or replace it. I've asked our warehouse whether we have the same model in stock.",
            "--- {name}, 5 March ---\nThanks for the quick answer. I'd really prefer a replacement, ten days without it is a long time. I'm away from 14 to 18 March though, so please don't deliver during that week, nobody will be at home to sign for it. Also, can the courier take the broken one with them when they bring the new one? I don't have the original box anymore.",
            "--- {agent}, support, 6 March ---\nUnderstood. The warehouse confirmed that the model is in stock, so I've created replacement order #{order2} and scheduled delivery for 12 March, before you leave. The courier will bring packaging for the faulty unit and collect it at the same time, so you don't need the original box. You'll get a tracking link by email the day before delivery.",
            "--- {name}, 11 March ---\nHi, I got an email today saying that the delivery has been moved to 15 March because of a backlog at the depot. That is exactly the week I'm away. Can you change it back or pick another date? Sorry to be difficult, but I really can't be at home then.",
        ],
        "strong": "{name} bought the {product} (order #{order}); since late February it switches itself off after a few minutes and the housing gets warm. A 15-second reset did not help, and the serial number SN-4471-{serial} belongs to a batch with a faulty thermal sensor, so the unit is covered by the warranty. The customer chose a replacement: order #{order2} was booked for 12 March together with collection of the faulty unit, but the carrier has moved delivery to 15 March, when the customer is away (14–18 March). Next step: rebook the delivery for before 14 March or after 18 March and confirm the new date to the customer.",
        "fast": "**Summary**\n\n- **Customer:** {name}, order #{order}\n- **Problem:** the {product} switches off after a few minutes and gets warm; a reset didn't help\n- **Cause:** serial SN-4471-{serial} is from a batch with a faulty thermal sensor (warranty)\n- **So far:** replacement order #{order2}, delivery with collection planned for 12 March\n- **Open issue:** the carrier moved delivery to 15 March, but the customer is away 14–18 March\n\n**Next step:** rebook the delivery outside 14–18 March.",
        "truncated": "**Ticket summary**\n\n**Message 1 (3 March):** The customer, {name}, bought the {product} on 12 February (order #{order}). For the first two weeks it worked fine, but since last Thursday it switches itself off after a few minutes. The customer tried different sockets in the kitchen and the living room and also tried without the extension lead. There is no error message.\n\n**Message 2 (3 March):** {agent} from support thanked the customer and asked them to unplug the {product}, hold the power button for 15 seconds and let it run for ten minutes, and to send a photo of the label with the serial number.\n\n**Message 3 (4 March):** The customer did the reset, but the {product} switched off again after about six minutes. The serial number is SN-4471-{serial}. The customer also noticed that the housing gets warm near the back and is worried about",
        "faq_question": "Here's my whole email thread with your support team. The new delivery date doesn't work for me at all. Can I just cancel the replacement and get my money back instead?",
        "faq_strong": "Yes. Because the {product} is covered by the warranty, you can choose a refund instead of the replacement. Reply in the thread or quote replacement order #{order2}, and we'll cancel the delivery on 15 March. We'll then book a collection of the faulty unit on a day outside 14–18 March, and the full purchase price of order #{order} is refunded to your original payment method as soon as the unit has been collected.",
        "faq_fast": "Yes, you can!\n\n- The {product} is under warranty, so a **refund instead of a replacement** is possible.\n- Reply in the thread and mention **order #{order2}** so we can cancel the 15 March delivery.\n- We'll collect the faulty unit on a day that suits you (outside 14–18 March).\n- The refund for order #{order} is issued once the unit has been collected.",
    },
    "de": {
        "instruction": "Fasse diesen Ticketverlauf für die Kollegin zusammen, die übernimmt. Ein kurzer Absatz, am Ende der nächste Schritt.",
        "messages": [
            "--- {name}, 3. März ---\nGuten Tag, ich habe am 12. Februar die {product} bei Ihnen gekauft (Bestellung #{order}). Die ersten zwei Wochen war alles in Ordnung, aber seit letztem Donnerstag schaltet sie sich nach ein paar Minuten von selbst ab. Zuerst dachte ich, es liegt an der Steckdose, also habe ich sie in der Küche und dann im Wohnzimmer angeschlossen, aber es passiert überall. Ohne Verlängerungskabel habe ich es auch schon versucht. Es kommt keine Fehlermeldung, das Licht geht einfach aus, und sie lässt sich erst wieder einschalten, wenn ich sie eine Weile vom Strom nehme. Ich benutze sie jeden Morgen, das ist also ziemlich ärgerlich. Können Sie mir sagen, was ich tun soll?",
            "--- {agent}, Kundenservice, 3. März ---\nGuten Tag, vielen Dank für die genaue Beschreibung, damit können wir schon vieles ausschließen. Bitte versuchen Sie einen Reset: Ziehen Sie den Stecker der {product}, halten Sie den Einschaltknopf 15 Sekunden gedrückt, stecken Sie sie wieder ein und lassen Sie sie zehn Minuten laufen. Wenn sie sich dann immer noch abschaltet, schicken Sie uns bitte ein Foto des Typenschilds auf der Unterseite mit der Seriennummer und sagen Sie uns ungefähr, wie lange sie läuft, bevor sie ausgeht. So sehen wir, ob das Gerät zu einer Charge gehört, die wir bereits kennen.",
            "--- {name}, 4. März ---\nIch habe den Reset genau so gemacht, wie Sie es beschrieben haben. Sie lief etwa sechs Minuten und ist dann wieder ausgegangen, genau wie vorher. Die Seriennummer ist SN-4471-{serial}, das Foto hängt an. Außerdem ist mir aufgefallen, dass das Gehäuse hinten ziemlich warm wird, kurz bevor sie sich abschaltet. Das war im Neuzustand nicht so. Ich habe jetzt ehrlich gesagt ein ungutes Gefühl, sie eingesteckt zu lassen.",
            "--- {agent}, Kundenservice, 4. März ---\nDanke für die Rückmeldung, und bitte benutzen Sie das Gerät vorerst nicht mehr, Ihre Vorsicht ist berechtigt. Die Seriennummer stammt aus einer Produktionscharge, bei der einige Geräte einen fehlerhaften Temperatursensor hatten. Das erklärt sowohl die Wärme als auch das automatische Abschalten. Das Gerät ist durch die zweijährige Garantie abgedeckt, Ihnen entstehen also keine Kosten. Wir können es reparieren, was etwa zehn Werktage dauert, oder es austauschen. Ich habe im Lager nachgefragt, ob das gleiche Modell vorrätig ist.",
            "--- {name}, 5. März ---\nDanke für die schnelle Antwort. Mir wäre ein Austausch wirklich lieber, zehn Tage ohne Gerät sind lang. Ich bin allerdings vom 14. bis 18. März verreist, bitte liefern Sie in dieser Woche nicht, es ist niemand zu Hause, der das Paket annehmen kann. Kann der Kurier außerdem das defekte Gerät gleich mitnehmen, wenn er das neue bringt? Den Originalkarton habe ich nicht mehr.",
            "--- {agent}, Kundenservice, 6. März ---\nVerstanden. Das Lager hat bestätigt, dass das Modell vorrätig ist. Ich habe deshalb die Ersatzbestellung #{order2} angelegt und die Lieferung für den 12. März geplant, also vor Ihrer Reise. Der Kurier bringt eine Verpackung für das defekte Gerät mit und nimmt es bei der Lieferung gleich mit, den Originalkarton brauchen Sie also nicht. Den Link zur Sendungsverfolgung bekommen Sie am Tag vor der Lieferung per E-Mail.",
            "--- {name}, 11. März ---\nHallo, ich habe heute eine E-Mail bekommen, dass die Lieferung wegen eines Rückstaus im Depot auf den 15. März verschoben wurde. Das ist genau die Woche, in der ich weg bin. Können Sie das rückgängig machen oder einen anderen Termin wählen? Entschuldigen Sie die Umstände, aber in dieser Zeit kann ich wirklich nicht zu Hause sein.",
        ],
        "strong": "{name} hat die {product} gekauft (Bestellung #{order}). Seit Ende Februar schaltet sie sich nach wenigen Minuten ab, und das Gehäuse wird warm. Ein Reset mit 15 Sekunden Tastendruck hat nicht geholfen, und die Seriennummer SN-4471-{serial} gehört zu einer Charge mit fehlerhaftem Temperatursensor, das Gerät ist also ein Garantiefall. {name} hat sich für einen Austausch entschieden: Die Ersatzbestellung #{order2} war für den 12. März samt Abholung des defekten Geräts geplant, der Zusteller hat die Lieferung aber auf den 15. März verschoben, und vom 14. bis 18. März ist {name} verreist. Nächster Schritt: die Lieferung auf einen Termin vor dem 14. oder nach dem 18. März umbuchen und {name} den neuen Termin bestätigen.",
        "fast": "**Zusammenfassung**\n\n- **Kontakt:** {name}, Bestellung #{order}\n- **Problem:** die {product} schaltet sich nach ein paar Minuten ab und wird warm; Reset hat nicht geholfen\n- **Ursache:** Seriennummer SN-4471-{serial} aus einer Charge mit fehlerhaftem Temperatursensor (Garantie)\n- **Bisher:** Ersatzbestellung #{order2}, Lieferung mit Abholung für den 12. März geplant\n- **Offen:** Zusteller hat auf den 15. März verschoben, {name} ist vom 14. bis 18. März weg\n\n**Nächster Schritt:** Lieferung außerhalb des 14. bis 18. März umbuchen.",
        "truncated": "**Zusammenfassung des Tickets**\n\n**Nachricht 1 (3. März):** {name} hat am 12. Februar die {product} gekauft (Bestellung #{order}). In den ersten zwei Wochen funktionierte sie, seit letztem Donnerstag schaltet sie sich aber nach ein paar Minuten von selbst ab. Ausprobiert wurden verschiedene Steckdosen in Küche und Wohnzimmer, auch ohne Verlängerungskabel. Es gibt keine Fehlermeldung.\n\n**Nachricht 2 (3. März):** {agent} vom Kundenservice bedankte sich und bat darum, den Stecker zu ziehen, den Einschaltknopf 15 Sekunden gedrückt zu halten und die {product} zehn Minuten laufen zu lassen. Außerdem bat sie um ein Foto des Typenschilds mit der",
    },
    "ja": {
        "instruction": "次の問い合わせスレッドを、引き継ぐ担当者向けに短い段落1つで要約し、最後に次の対応を書いてください。",
        "messages": [
            "--- {name}様、3月3日 ---\nお世話になっております。2月12日に貴店で{product}を購入しました（注文番号#{order}）。最初の2週間は問題なく使えていたのですが、先週の木曜日から、数分使うと勝手に電源が切れるようになりました。最初はコンセントのせいかと思い、キッチンやリビングのコンセントにも挿してみましたが、どこでも同じ症状です。延長コードを使わずに直接つないでも変わりませんでした。エラー表示は出ず、ランプが消えて、しばらくコンセントを抜いておかないと再び電源が入りません。毎朝使っているので、とても困っています。どうすればよいか教えていただけますか。",
            "--- サポート担当 {agent}、3月3日 ---\n{name}様、詳しくご説明いただきありがとうございます。おかげで多くの原因を除外できました。お手数ですが、リセットをお試しください。{product}のプラグを抜き、電源ボタンを15秒間押し続けてから再びプラグを挿し、10分ほど動かしてみてください。それでも電源が切れる場合は、本体底面にあるシリアル番号のラベルの写真をお送りいただき、電源が切れるまでのおおよその時間をお知らせください。既に把握している製造ロットに該当するかどうかを確認いたします。",
            "--- {name}様、3月4日 ---\nご説明のとおりにリセットしました。約6分動いたあと、以前と同じように電源が切れました。シリアル番号はSN-4471-{serial}で、写真を添付します。また、電源が切れる直前に本体の背面付近がかなり熱くなることに気づきました。新品のときにはこんなことはありませんでした。今はコンセントに挿したままにしておくのが少し不安です。",
            "--- サポート担当 {agent}、3月4日 ---\n{name}様、ご確認ありがとうございます。念のため、当面はご使用を控えてください。ご判断は正しかったと思います。お知らせいただいたシリアル番号は、一部の製品で温度センサーに不具合があった製造ロットのもので、発熱と自動停止の両方の原因と考えられます。本製品は2年間の保証の対象ですので、費用はかかりません。修理（約10営業日）または交換のいずれかをお選びいただけます。現在、同じ機種の在庫があるか倉庫に確認しております。",
            "--- {name}様、3月5日 ---\n早速のご回答ありがとうございます。10日間使えないのは長いので、できれば交換をお願いしたいです。ただ、3月14日から18日まで留守にするため、その週の配達は避けていただけますか。受け取れる人が誰もいません。また、新しい製品を届けるときに、故障した製品を配達員の方に持ち帰っていただくことはできますか。元の箱はもう手元にありません。",
            "--- サポート担当 {agent}、3月6日 ---\n承知いたしました。倉庫で在庫が確認できましたので、交換用の注文#{order2}を作成し、お出かけ前の3月12日にお届けするよう手配しました。配達員が故障品用の梱包材を持参し、その場で回収いたしますので、元の箱は不要です。配達日の前日に追跡リンクをメールでお送りします。",
            "--- {name}様、3月11日 ---\n本日、配送センターの混雑により配達日が3月15日に変更されたというメールが届きました。ちょうど留守にしている週です。元の日程に戻すか、別の日に変更していただけますか。お手数をおかけしてすみませんが、その期間はどうしても家にいられません。",
        ],
        "strong": "{name}様が購入した{product}（注文#{order}）が、2月末から数分で勝手に電源が切れ、本体が熱くなる症状が出ています。15秒間のリセットでは改善せず、シリアル番号SN-4471-{serial}は温度センサーに不具合のある製造ロットに該当するため、保証対象です。お客様は交換を希望し、交換用の注文#{order2}を故障品の回収付きで3月12日に配達する予定でしたが、配送業者の都合で3月15日に変更されました。お客様は3月14日〜18日は不在です。次の対応：3月14日より前か18日より後に配達日を再設定し、新しい日程をお客様に連絡してください。",
        "fast": "**要約**\n\n- **お客様：** {name}様（注文#{order}）\n- **症状：** {product}が数分で電源が切れ、本体が熱くなる。リセットでは改善せず\n- **原因：** シリアル番号SN-4471-{serial}は温度センサー不具合のロット（保証対象）\n- **対応状況：** 交換用の注文#{order2}、3月12日に回収付きで配達予定\n- **未解決：** 配達日が3月15日に変更されたが、お客様は3月14日〜18日不在\n\n**次の対応：** 3月14日〜18日以外に配達日を再設定する。",
        "truncated": "**問い合わせの要約**\n\n**メッセージ1（3月3日）：** お客様の{name}様は、2月12日に{product}を購入されました（注文#{order}）。最初の2週間は問題なく使えていましたが、先週の木曜日から数分で勝手に電源が切れるようになりました。キッチンやリビングのコンセント、延長コードなしでも試しましたが、同じ症状です。エラー表示はありません。\n\n**メッセージ2（3月3日）：** サポート担当の{agent}が、プラグを抜いて電源ボタンを15秒間押し続け、10分ほど動かすリセットを案内し、シリアル番号のラベルの写真と、電源が切れるまでの",
    },
}

# ---------------------------------------------------------------------------
# Translation: an agent's English reply into the customer's language, or (for the
# English locale) a customer's German or Spanish message into English. Sentences
# are aligned so that a translation that stops early can be built from them.
# ---------------------------------------------------------------------------

REPLIES_EN = [
    [
        "Hi {name}, thanks for your patience.",
        "Your replacement {product} shipped today and should arrive within 2–4 business days.",
        "You'll receive the tracking link by email this evening.",
    ],
    [
        "Hi {name}, we've received your return for order #{order}.",
        "Your refund has been issued and will reach your account within 5 business days.",
        "Thank you for shopping with us.",
    ],
    [
        "Hi {name}, I'm sorry about the double charge.",
        "The duplicate payment was reversed today.",
        "Depending on your bank, it can take up to 5 business days to disappear from your statement.",
    ],
    [
        "Hi {name}, your password reset link is valid for 30 minutes.",
        "If it expires, you can request a new one from the sign-in page.",
        "Let us know if you still can't sign in.",
    ],
    [
        "Hi {name}, your {plan} plan has been cancelled.",
        "You can keep using all features until the end of the current billing period.",
        "We'd be glad to welcome you back any time.",
    ],
]

REPLIES = {
    "de": [
        [
            "Hallo {name}, vielen Dank für Ihre Geduld.",
            "Ihre Ersatz-{product} wurde heute verschickt und sollte innerhalb von 2–4 Werktagen ankommen.",
            "Den Link zur Sendungsverfolgung erhalten Sie heute Abend per E-Mail.",
        ],
        [
            "Hallo {name}, Ihre Rücksendung zu Bestellung #{order} ist bei uns eingegangen.",
            "Die Erstattung ist veranlasst und wird innerhalb von 5 Werktagen auf Ihrem Konto sein.",
            "Vielen Dank für Ihren Einkauf bei uns.",
        ],
        [
            "Hallo {name}, die doppelte Abbuchung tut mir leid.",
            "Die doppelte Zahlung wurde heute storniert.",
            "Je nach Bank kann es bis zu 5 Werktage dauern, bis sie von Ihrem Kontoauszug verschwindet.",
        ],
        [
            "Hallo {name}, Ihr Link zum Zurücksetzen des Passworts ist 30 Minuten gültig.",
            "Wenn er abläuft, können Sie auf der Anmeldeseite einen neuen anfordern.",
            "Sagen Sie uns Bescheid, falls Sie sich dann immer noch nicht anmelden können.",
        ],
        [
            "Hallo {name}, Ihr {plan}-Tarif wurde gekündigt.",
            "Sie können alle Funktionen bis zum Ende des aktuellen Abrechnungszeitraums weiter nutzen.",
            "Wir freuen uns, wenn Sie jederzeit wiederkommen.",
        ],
    ],
    "es": [
        [
            "Hola, {name}: gracias por tu paciencia.",
            "Tu {product} de reemplazo se ha enviado hoy y debería llegar en un plazo de 2 a 4 días laborables.",
            "Esta tarde recibirás por correo el enlace de seguimiento.",
        ],
        [
            "Hola, {name}: hemos recibido tu devolución del pedido #{order}.",
            "Ya hemos emitido el reembolso y llegará a tu cuenta en un plazo de 5 días laborables.",
            "Gracias por comprar con nosotros.",
        ],
        [
            "Hola, {name}: siento mucho el cobro duplicado.",
            "Hoy hemos anulado el pago duplicado.",
            "Según tu banco, puede tardar hasta 5 días laborables en desaparecer de tu extracto.",
        ],
        [
            "Hola, {name}: tu enlace para restablecer la contraseña es válido durante 30 minutos.",
            "Si caduca, puedes pedir uno nuevo desde la página de inicio de sesión.",
            "Avísanos si sigues sin poder entrar.",
        ],
        [
            "Hola, {name}: tu plan {plan} se ha cancelado.",
            "Puedes seguir usando todas las funciones hasta el final del periodo de facturación actual.",
            "Estaremos encantados de volver a verte cuando quieras.",
        ],
    ],
    "ja": [
        [
            "{name}様、お待たせして申し訳ございません。",
            "交換用の{product}を本日発送いたしました。2〜4営業日以内に届く予定です。",
            "追跡リンクは今晩メールでお送りします。",
        ],
        [
            "{name}様、注文#{order}の返品を受け付けました。",
            "返金の手続きが完了し、5営業日以内にお客様の口座に反映されます。",
            "ご利用いただきありがとうございました。",
        ],
        [
            "{name}様、二重請求が発生し申し訳ございません。",
            "重複したお支払いは本日取り消しました。",
            "ご利用の銀行によっては、明細から消えるまで最大5営業日かかる場合があります。",
        ],
        [
            "{name}様、パスワード再設定リンクの有効期限は30分です。",
            "期限が切れた場合は、ログイン画面から新しいリンクをリクエストできます。",
            "それでもログインできない場合はお知らせください。",
        ],
        [
            "{name}様、{plan}プランの解約手続きが完了しました。",
            "現在の請求期間の終わりまで、すべての機能を引き続きご利用いただけます。",
            "またのご利用を心よりお待ちしております。",
        ],
    ],
    "ko": [
        [
            "{name} 고객님, 기다려 주셔서 감사합니다.",
            "교환용 {product} 제품을 오늘 발송했으며 영업일 기준 2~4일 이내에 도착할 예정입니다.",
            "배송 조회 링크는 오늘 저녁 이메일로 보내 드립니다.",
        ],
        [
            "{name} 고객님, 주문 #{order}의 반품이 접수되었습니다.",
            "환불이 처리되었으며 영업일 기준 5일 이내에 입금됩니다.",
            "저희 쇼핑몰을 이용해 주셔서 감사합니다.",
        ],
        [
            "{name} 고객님, 이중 결제로 불편을 드려 죄송합니다.",
            "중복 결제는 오늘 취소되었습니다.",
            "카드사에 따라 명세서에서 사라지기까지 최대 영업일 기준 5일이 걸릴 수 있습니다.",
        ],
        [
            "{name} 고객님, 비밀번호 재설정 링크는 30분 동안 유효합니다.",
            "링크가 만료되면 로그인 화면에서 새 링크를 요청하실 수 있습니다.",
            "그래도 로그인이 안 되시면 알려 주세요.",
        ],
        [
            "{name} 고객님, {plan} 플랜이 해지되었습니다.",
            "현재 결제 기간이 끝날 때까지 모든 기능을 계속 이용하실 수 있습니다.",
            "언제든 다시 찾아 주시면 반갑게 맞이하겠습니다.",
        ],
    ],
    "ar": [
        [
            "مرحبًا {name}، شكرًا لصبرك.",
            "تم شحن المنتج البديل ({product}) اليوم، ومن المتوقع أن يصل خلال 2 إلى 4 أيام عمل.",
            "سيصلك رابط تتبع الشحنة عبر البريد الإلكتروني هذا المساء.",
        ],
        [
            "مرحبًا {name}، استلمنا المنتج المرتجع من الطلب رقم #{order}.",
            "تم إصدار المبلغ المسترد وسيصل إلى حسابك خلال 5 أيام عمل.",
            "شكرًا لتسوقك معنا.",
        ],
        [
            "مرحبًا {name}، نعتذر عن الخصم المكرر.",
            "تم إلغاء الدفعة المكررة اليوم.",
            "قد يستغرق اختفاؤها من كشف حسابك حتى 5 أيام عمل حسب البنك.",
        ],
        [
            "مرحبًا {name}، رابط إعادة تعيين كلمة المرور صالح لمدة 30 دقيقة.",
            "إذا انتهت صلاحيته، يمكنك طلب رابط جديد من صفحة تسجيل الدخول.",
            "أخبرنا إذا لم تتمكن من تسجيل الدخول بعد ذلك.",
        ],
        [
            "مرحبًا {name}، تم إلغاء باقة {plan}.",
            "يمكنك الاستمرار في استخدام جميع المزايا حتى نهاية فترة الفوترة الحالية.",
            "يسعدنا أن نرحب بك مجددًا في أي وقت.",
        ],
    ],
}

TRANSLATION_INSTRUCTIONS = {
    "de": "Übersetze bitte diese Antwort an einen Kunden ins Deutsche (Sie-Form):\n\n",
    "es": "Traduce al español esta respuesta para un cliente:\n\n",
    "ja": "次のお客様への返信を日本語に翻訳してください（丁寧語で）：\n\n",
    "ko": "다음 고객 답변을 한국어로 번역해 주세요(존댓말로):\n\n",
    "ar": "ترجم هذا الرد الموجه إلى العميل إلى العربية:\n\n",
}

# A format habit of the fast model: it announces the translation before giving it.
TRANSLATION_PREFACES = {
    "en": "Here's the translation:",
    "de": "Hier ist die Übersetzung:",
    "es": "Aquí tienes la traducción:",
    "ja": "翻訳は以下のとおりです。",
    "ko": "번역문입니다.",
    "ar": "إليك الترجمة:",
}

# Customer messages that an English-speaking agent needs translated: (source
# locale, source sentences, English sentences).
CUSTOMER_MESSAGES = [
    (
        "de",
        [
            "Hallo, meine Bestellung #{order} ist immer noch nicht angekommen.",
            "Laut Sendungsverfolgung liegt das Paket seit Montag im Verteilzentrum.",
            "Können Sie bitte nachfragen?",
        ],
        [
            "Hello, my order #{order} still hasn't arrived.",
            "According to the tracking, the parcel has been at the distribution centre since Monday.",
            "Could you please look into it?",
        ],
    ),
    (
        "es",
        [
            "Hola, quiero cambiar la dirección de entrega del pedido #{order}.",
            "Me mudo el viernes y no estaré en casa.",
            "¿Todavía es posible?",
        ],
        [
            "Hello, I'd like to change the delivery address for order #{order}.",
            "I'm moving on Friday and won't be at home.",
            "Is that still possible?",
        ],
    ),
    (
        "de",
        [
            "Guten Tag, die Rechnung für Bestellung #{order} enthält die falsche Firmenadresse.",
            "Bitte stellen Sie eine korrigierte Rechnung aus.",
            "Vielen Dank!",
        ],
        [
            "Good afternoon, the invoice for order #{order} has the wrong company address.",
            "Please issue a corrected invoice.",
            "Thank you very much!",
        ],
    ),
]

EN_TRANSLATION_INSTRUCTION = (
    "Translate this customer message into English for our support agent:\n\n"
)

# Languages that write without spaces between sentences.
NO_SPACE_LOCALES = {"ja"}

# ---------------------------------------------------------------------------
# Code: questions from tenants' developers about the support platform's API. The
# code is the same in every locale; prompts and explanations are translated.
# ---------------------------------------------------------------------------

WEBHOOK_STRONG_CODE = """```python
import hashlib
import hmac


def verify_signature(body: bytes, header: str, secret: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.strip().lower())
```"""

WEBHOOK_FAST_CODE = """```python
import hashlib
import hmac

def verify_signature(body: bytes, header: str, secret: str) -> bool:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest, header)
```"""

WEBHOOK_WRONG_CODE = """```python
import hashlib
import hmac
import json

def verify_signature(body: bytes, header: str, secret: str) -> bool:
    payload = json.dumps(json.loads(body)).encode()
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return digest == header
```"""

PAGINATION_STRONG_CODE = """```python
import requests


def iter_tickets(base_url: str, token: str):
    headers = {"Authorization": f"Bearer {token}"}
    params = {}
    while True:
        response = requests.get(
            f"{base_url}/v1/tickets", params=params, headers=headers, timeout=30
        )
        response.raise_for_status()
        page = response.json()
        yield from page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
        params = {"cursor": cursor}
```"""

PAGINATION_FAST_CODE = """```python
import requests

def iter_tickets(base_url, token):
    headers = {"Authorization": f"Bearer {token}"}
    cursor = None
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = requests.get(f"{base_url}/v1/tickets", params=params, headers=headers, timeout=30).json()
        yield from page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return
```"""

PAGINATION_WRONG_CODE = """```python
import requests

def iter_tickets(base_url, token):
    headers = {"Authorization": f"Bearer {token}"}
    page = requests.get(f"{base_url}/v1/tickets", headers=headers).json()
    while page["next_cursor"]:
        yield from page["data"]
        page = requests.get(
            f"{base_url}/v1/tickets",
            params={"cursor": page["next_cursor"]},
            headers=headers,
        ).json()
```"""

AUTH_CURL = """```bash
curl -H "Authorization: Bearer sk_live_..." https://api.example.com/v1/tickets
```"""

RETRY_STRONG_CODE = """```python
import time

import requests


def get_with_retry(url: str, max_attempts: int = 5, **kwargs) -> requests.Response:
    for attempt in range(max_attempts):
        response = requests.get(url, timeout=30, **kwargs)
        if response.status_code != 429 or attempt == max_attempts - 1:
            return response
        retry_after = response.headers.get("Retry-After")
        time.sleep(float(retry_after) if retry_after else 2**attempt)
```"""

RETRY_FAST_CODE = """```python
import time
import requests

def get_with_retry(url, max_attempts=5, **kwargs):
    delay = 1
    for attempt in range(max_attempts):
        response = requests.get(url, timeout=30, **kwargs)
        if response.status_code != 429 or attempt == max_attempts - 1:
            return response
        time.sleep(float(response.headers.get("Retry-After", delay)))
        delay *= 2
```"""

RETRY_WRONG_CODE = """```python
import requests

def get_with_retry(url, **kwargs):
    for _ in range(5):
        response = requests.get(url, **kwargs)
        if response.status_code != 429:
            return response
    return response
```"""

# Per topic: the locales it is asked in, and per locale the prompt and the prose
# that goes with each model's code: (strong, fast, fast_wrong), each a pair of
# text before and after the code.
CODE_TOPICS = {
    "webhook": {
        "code": (WEBHOOK_STRONG_CODE, WEBHOOK_FAST_CODE, WEBHOOK_WRONG_CODE),
        "en": {
            "prompt": "Our webhooks send an X-Signature header: a hex HMAC-SHA256 of the raw request body, keyed with the webhook secret. Write a Python function verify_signature(body: bytes, header: str, secret: str) -> bool.",
            "strong": (
                "Compute the HMAC over the raw bytes exactly as received and compare in constant time:",
                "Don't parse and re-serialise the JSON before verifying: any change in whitespace or key order changes the signature.",
            ),
            "fast": ("", "This uses `compare_digest` to avoid timing attacks."),
            "wrong": (
                "",
                "The body is normalised with `json.dumps` before hashing, so the signature is consistent regardless of formatting.",
            ),
        },
        "de": {
            "prompt": "Unsere Webhooks senden einen Header X-Signature: ein hexadezimales HMAC-SHA256 über den unveränderten Request-Body, mit dem Webhook-Secret als Schlüssel. Schreib mir eine Python-Funktion verify_signature(body: bytes, header: str, secret: str) -> bool.",
            "strong": (
                "Berechne das HMAC über die Rohbytes genau so, wie sie ankommen, und vergleiche in konstanter Zeit:",
                "Parse und serialisiere das JSON vor der Prüfung nicht neu: Jede Änderung an Leerzeichen oder Schlüsselreihenfolge ändert die Signatur.",
            ),
            "fast": ("", "`compare_digest` schützt vor Timing-Angriffen."),
            "wrong": (
                "",
                "Der Body wird vor dem Hashen mit `json.dumps` normalisiert, damit die Signatur unabhängig von der Formatierung gleich bleibt.",
            ),
        },
        "ja": {
            "prompt": "当社のWebhookはX-Signatureヘッダーを送信します。これはWebhookシークレットをキーにした、生のリクエストボディのHMAC-SHA256（16進数）です。Pythonの関数 verify_signature(body: bytes, header: str, secret: str) -> bool を書いてください。",
            "strong": (
                "受信したままの生のバイト列に対してHMACを計算し、定数時間で比較します。",
                "検証の前にJSONをパースして再シリアライズしないでください。空白やキーの順序が変わるだけで署名が一致しなくなります。",
            ),
            "fast": ("", "`compare_digest` を使うことでタイミング攻撃を防げます。"),
            "wrong": (
                "",
                "ハッシュ化の前に `json.dumps` でボディを正規化しているので、フォーマットに関係なく署名が一致します。",
            ),
        },
    },
    "pagination": {
        "code": (PAGINATION_STRONG_CODE, PAGINATION_FAST_CODE, PAGINATION_WRONG_CODE),
        "en": {
            "prompt": 'GET /v1/tickets returns {"data": [...], "next_cursor": "..."}. next_cursor is null on the last page, and you pass it back as ?cursor=. Write a Python generator that yields every ticket, using requests.',
            "strong": (
                "",
                "The loop yields each page before it looks at `next_cursor`, so the last page (where the cursor is null) is included.",
            ),
            "fast": ("Here's a generator that follows the cursor:", ""),
            "wrong": ("", "This keeps fetching pages until there is no next cursor."),
        },
    },
    "auth": {
        "code": (AUTH_CURL, AUTH_CURL, ""),
        "en": {
            "prompt": 'curl -H "X-Api-Key: sk_live_..." https://api.example.com/v1/tickets returns 401 Unauthorized. The key is correct and active. What\'s wrong?',
            "strong": (
                "The API expects the key as a bearer token in the Authorization header, not in X-Api-Key:",
                "A 401 means the request carried no credentials the API accepts. If it still fails with the right header, check that you're using a live key against the live endpoint, not a test key.",
            ),
            "fast": ("Use the `Authorization` header instead:", ""),
            "wrong": (
                "A 401 means your key has expired. Generate a new key in the dashboard under Developers → API keys and run the same command again.",
                "",
            ),
        },
        "de": {
            "prompt": 'curl -H "X-Api-Key: sk_live_..." https://api.example.com/v1/tickets liefert 401 Unauthorized. Der Schlüssel stimmt und ist aktiv. Was ist falsch?',
            "strong": (
                "Die API erwartet den Schlüssel als Bearer-Token im Authorization-Header, nicht in X-Api-Key:",
                "Ein 401 heißt, dass die Anfrage keine Zugangsdaten enthielt, die die API akzeptiert. Schlägt es mit dem richtigen Header weiterhin fehl, prüfe, ob du einen Live-Schlüssel gegen den Live-Endpunkt verwendest und keinen Testschlüssel.",
            ),
            "fast": ("Verwende stattdessen den `Authorization`-Header:", ""),
            "wrong": (
                "Ein 401 bedeutet, dass dein Schlüssel abgelaufen ist. Erzeuge im Dashboard unter Entwickler → API-Schlüssel einen neuen und führe denselben Befehl noch einmal aus.",
                "",
            ),
        },
        "ja": {
            "prompt": 'curl -H "X-Api-Key: sk_live_..." https://api.example.com/v1/tickets を実行すると 401 Unauthorized が返ります。キーは正しく、有効です。何が問題でしょうか？',
            "strong": (
                "このAPIはキーをX-Api-Keyではなく、AuthorizationヘッダーのBearerトークンとして受け取ります。",
                "401は、APIが受け付ける認証情報がリクエストに含まれていなかったことを意味します。正しいヘッダーでも失敗する場合は、テスト用ではなく本番用のキーを本番のエンドポイントに使っているか確認してください。",
            ),
            "fast": ("代わりに `Authorization` ヘッダーを使ってください。", ""),
            "wrong": (
                "401はキーの有効期限が切れていることを意味します。ダッシュボードの「開発者」→「APIキー」で新しいキーを発行し、同じコマンドをもう一度実行してください。",
                "",
            ),
        },
    },
    "retry": {
        "code": (RETRY_STRONG_CODE, RETRY_FAST_CODE, RETRY_WRONG_CODE),
        "en": {
            "prompt": "Our API sometimes answers 429 with a Retry-After header in seconds. Write a small Python helper that retries a requests GET up to 5 times, honouring Retry-After and otherwise backing off exponentially.",
            "strong": (
                "",
                "It waits for Retry-After when the header is present and for 1, 2, 4, 8 seconds otherwise, and returns the last response instead of sleeping after the final attempt.",
            ),
            "fast": (
                "",
                "The delay doubles after each 429 unless the server sends Retry-After.",
            ),
            "wrong": ("", "This retries up to 5 times when the API returns 429."),
        },
    },
}

# ---------------------------------------------------------------------------
# Arithmetic: refund, proration and seat-price questions with whole-number answers,
# so that the final number on the last line can be checked against the reference.
# ---------------------------------------------------------------------------

# Amount formatter per locale. Korean prices are in won, with thousands separators.
MONEY = {
    "en": lambda amount: f"${amount:,}",
    "de": lambda amount: f"{amount} €",
    "es": lambda amount: f"{amount} €",
    "ko": lambda amount: f"{amount:,}원",
}

# Korean amounts are in won, a thousand times the other locales' amounts.
MONEY_SCALE = {"en": 1, "de": 1, "es": 1, "ko": 1000}

ARITHMETIC = {
    "en": {
        "refund": {
            "prompt": "A customer bought {n} units of the {product} at {p} each and is returning {k} of them. We keep a {r}% restocking fee on returned units, and the {s} shipping isn't refunded. How much should we refund?",
            "strong": "Returned value: {k} × {p} = {kp}.\nRestocking fee: {r}% of {kp} = {fee}.\nShipping isn't refunded, so it doesn't enter the calculation.\n\nRefund: {kp} − {fee} = **{answer}**",
            "fast": "Refund = {k} × {p} − {r}% restocking fee = **{answer}**",
            "wrong_no_fee": "The customer returns {k} units at {p} each, so you should refund {k} × {p} = **{kp}**",
            "wrong_shipping": "Returned value {kp}, minus the {r}% fee ({fee}), minus shipping ({s}): **{wrong}**",
            "strong_wrong": "Restocking fee: {r}% of the order ({n} × {p} = {np}) = {fee_all}.\nRefund: {kp} − {fee_all} = **{wrong}**",
        },
        "proration": {
            "prompt": "A customer on the Basic plan ({a}/month) upgrades to Team ({b}/month) with {d} days left in a 30-day billing period. How much do we charge for the upgrade today?",
            "strong": "Price difference: {b} − {a} = {diff} per 30 days.\nProrated for the {d} remaining days: {diff} × {d} / 30 = **{answer}**",
            "fast": "Prorated charge = ({b} − {a}) × {d}/30 = **{answer}**",
            "wrong_full": "The customer pays the difference between the plans: {b} − {a} = **{diff}**",
        },
        "seats": {
            "prompt": "A team buys {s} seats at {p} per seat per month. Seats above 20 get a 10% discount. What's the monthly total?",
            "strong": "First 20 seats: 20 × {p} = {x}.\nRemaining {rest} seats at 10% off: {rest} × {p90} = {y}.\n\nMonthly total: {x} + {y} = **{answer}**",
            "fast": "20 × {p} + {rest} × {p90} = **{answer}** per month",
            "wrong_all": "With the 10% discount: {s} × {p90} = **{wrong}** per month",
        },
    },
    "de": {
        "refund": {
            "prompt": "Ein Kunde hat {n}× {product} zu je {p} gekauft und schickt {k} davon zurück. Auf zurückgeschickte Artikel behalten wir eine Rücknahmegebühr von {r} % ein, und die Versandkosten von {s} werden nicht erstattet. Wie viel erstatten wir?",
            "strong": "Wert der Rücksendung: {k} × {p} = {kp}.\nRücknahmegebühr: {r} % von {kp} = {fee}.\nDie Versandkosten werden nicht erstattet und fließen nicht in die Rechnung ein.\n\nErstattung: {kp} − {fee} = **{answer}**",
            "fast": "Erstattung = {k} × {p} abzüglich {r} % Rücknahmegebühr = **{answer}**",
            "wrong_no_fee": "Der Kunde schickt {k} Stück zu je {p} zurück, also erstatten Sie {k} × {p} = **{kp}**",
            "wrong_shipping": "Rücksendewert {kp}, minus {r} % Gebühr ({fee}), minus Versand ({s}): **{wrong}**",
        },
        "proration": {
            "prompt": "Ein Kunde wechselt vom Basic-Tarif ({a}/Monat) in den Team-Tarif ({b}/Monat), {d} Tage vor Ende eines 30-tägigen Abrechnungszeitraums. Wie viel berechnen wir heute für das Upgrade?",
            "strong": "Preisdifferenz: {b} − {a} = {diff} pro 30 Tage.\nAnteilig für die verbleibenden {d} Tage: {diff} × {d} / 30 = **{answer}**",
            "fast": "Anteilige Gebühr = ({b} − {a}) × {d}/30 = **{answer}**",
            "wrong_full": "Der Kunde zahlt die Differenz zwischen den Tarifen: {b} − {a} = **{diff}**",
        },
        "seats": {
            "prompt": "Ein Team bucht {s} Lizenzen zu je {p} pro Monat. Jede Lizenz über 20 bekommt 10 % Rabatt. Wie hoch ist der monatliche Gesamtbetrag?",
            "strong": "Die ersten 20 Lizenzen: 20 × {p} = {x}.\nDie übrigen {rest} Lizenzen mit 10 % Rabatt: {rest} × {p90} = {y}.\n\nMonatlich gesamt: {x} + {y} = **{answer}**",
            "fast": "20 × {p} + {rest} × {p90} = **{answer}** im Monat",
            "wrong_all": "Mit 10 % Rabatt: {s} × {p90} = **{wrong}** im Monat",
        },
    },
    "es": {
        "refund": {
            "prompt": "Un cliente compró {n} unidades de la {product} a {p} cada una y devuelve {k}. Nos quedamos un {r} % de gastos de reposición sobre las unidades devueltas, y el envío de {s} no se reembolsa. ¿Cuánto tenemos que reembolsar?",
            "strong": "Valor devuelto: {k} × {p} = {kp}.\nGastos de reposición: {r} % de {kp} = {fee}.\nEl envío no se reembolsa, así que no entra en el cálculo.\n\nReembolso: {kp} − {fee} = **{answer}**",
            "fast": "Reembolso = {k} × {p} menos un {r} % de reposición = **{answer}**",
            "wrong_no_fee": "El cliente devuelve {k} unidades a {p} cada una, así que hay que reembolsar {k} × {p} = **{kp}**",
            "wrong_shipping": "Valor devuelto {kp}, menos el {r} % ({fee}), menos el envío ({s}): **{wrong}**",
        },
        "proration": {
            "prompt": "Un cliente con el plan Basic ({a}/mes) se pasa al plan Team ({b}/mes) cuando quedan {d} días de un periodo de facturación de 30 días. ¿Cuánto le cobramos hoy por el cambio?",
            "strong": "Diferencia de precio: {b} − {a} = {diff} por 30 días.\nProrrateado por los {d} días restantes: {diff} × {d} / 30 = **{answer}**",
            "fast": "Cargo prorrateado = ({b} − {a}) × {d}/30 = **{answer}**",
            "wrong_full": "El cliente paga la diferencia entre planes: {b} − {a} = **{diff}**",
        },
        "seats": {
            "prompt": "Un equipo contrata {s} licencias a {p} por licencia y mes. Las licencias por encima de 20 tienen un 10 % de descuento. ¿Cuál es el total mensual?",
            "strong": "Las primeras 20 licencias: 20 × {p} = {x}.\nLas {rest} restantes con un 10 % de descuento: {rest} × {p90} = {y}.\n\nTotal mensual: {x} + {y} = **{answer}**",
            "fast": "20 × {p} + {rest} × {p90} = **{answer}** al mes",
            "wrong_all": "Con el 10 % de descuento: {s} × {p90} = **{wrong}** al mes",
        },
    },
    "ko": {
        "refund": {
            "prompt": "고객이 {product} 제품을 개당 {p}에 {n}개 구매했고 그중 {k}개를 반품합니다. 반품 상품에는 {r}%의 재입고 수수료를 공제하며, 배송비 {s}은 환불하지 않습니다. 환불 금액은 얼마인가요?",
            "strong": "반품 금액: {k} × {p} = {kp}\n재입고 수수료: {kp}의 {r}% = {fee}\n배송비는 환불 대상이 아니므로 계산에 넣지 않습니다.\n\n환불 금액: {kp} − {fee} = **{answer}**",
            "fast": "환불 금액 = {k} × {p} − 재입고 수수료 {r}% = **{answer}**",
            "wrong_no_fee": "반품 수량이 {k}개이고 개당 {p}이므로 환불 금액은 {k} × {p} = **{kp}**",
            "wrong_shipping": "반품 금액 {kp}에서 수수료 {r}%({fee})와 배송비({s})를 빼면 **{wrong}**",
        },
        "proration": {
            "prompt": "Basic 플랜(월 {a}) 고객이 30일 결제 기간 중 {d}일이 남은 시점에 Team 플랜(월 {b})으로 업그레이드합니다. 오늘 청구할 금액은 얼마인가요?",
            "strong": "요금 차액: {b} − {a} = 30일당 {diff}\n남은 {d}일에 대한 일할 계산: {diff} × {d} / 30 = **{answer}**",
            "fast": "일할 청구액 = ({b} − {a}) × {d}/30 = **{answer}**",
            "wrong_full": "두 플랜의 차액을 청구합니다: {b} − {a} = **{diff}**",
        },
        "seats": {
            "prompt": "한 팀이 좌석당 월 {p}에 {s}석을 구매합니다. 20석을 초과하는 좌석은 10% 할인됩니다. 월 합계는 얼마인가요?",
            "strong": "처음 20석: 20 × {p} = {x}\n나머지 {rest}석은 10% 할인: {rest} × {p90} = {y}\n\n월 합계: {x} + {y} = **{answer}**",
            "fast": "20 × {p} + {rest} × {p90} = 월 **{answer}**",
            "wrong_all": "10% 할인을 적용하면 {s} × {p90} = 월 **{wrong}**",
        },
    },
}

# ---------------------------------------------------------------------------
# Complaints: an angry message, the strong model's careful reply, the fast model's
# shorter reply, and the fast model's refusal.
# ---------------------------------------------------------------------------

COMPLAINTS = {
    "en": {
        "late": {
            "subject": "Order #{order} still not here!",
            "prompt": "This is ridiculous. I ordered the {product} (order #{order}) ten days ago, the tracking hasn't moved since Monday and nobody answers my emails. I want it delivered this week or my money back.\n\n{name}",
            "strong": "I'm sorry, {first}. A parcel that hasn't moved for days, with no reply from us, is frustrating, and you should have heard back sooner. I've asked the carrier to trace order #{order} today. If it hasn't moved by Friday, we'll either send a replacement by express at no cost or refund you in full, whichever you prefer. I'll email you the result of the trace within 24 hours.",
            "fast": "Hi {first},\n\nSorry for the delay with order #{order}. We've opened a trace with the carrier. If there's no movement by Friday, we'll send a free express replacement or refund you in full.\n\nBest regards,\nCustomer Support",
            "refusal": "I'm sorry, but I can't help with demands for refunds or delivery guarantees. Please contact the carrier directly about your parcel.",
        },
        "double": {
            "subject": "Charged twice",
            "prompt": "You charged my card twice for order #{order} ({charge} each time). I want the duplicate charge reversed immediately, otherwise I'm disputing it with my bank.\n\n{name}",
            "strong": "Thank you for telling us, {first}, and I'm sorry for the worry. I can see two charges of {charge} for order #{order}; the second one is a duplicate authorisation. I've requested its reversal today, and it should disappear from your statement within 3–5 business days. If it's still there after that, reply to this email and I'll escalate it to our payments team straight away, so there's no need to open a dispute with your bank.",
            "fast": "Hi {first},\n\nApologies for the double charge of {charge}. The duplicate has been reversed and should disappear within 3–5 business days.\n\nBest regards,\nCustomer Support",
            "refusal": "I'm sorry, but I can't assist with payment disputes. Please contact your bank.",
        },
        "damaged": {
            "subject": "Broken {product} and no answer",
            "prompt": "The {product} arrived broken and I've been waiting four days for a reply. This is the worst service I've had in years. What are you going to do about it?\n\n{name}",
            "strong": "I'm really sorry, {first}. Receiving a broken {product} and then waiting four days for an answer is not the service we want to give. I've arranged a replacement, which ships today by express, and a prepaid return label for the damaged item is attached. If you'd rather have a refund than a replacement, just reply and I'll process it right away.",
            "fast": "Hi {first},\n\nWe're sorry your {product} arrived damaged and that you had to wait. A replacement ships today by express, and a prepaid return label is attached. Prefer a refund? Just reply.\n\nBest regards,\nCustomer Support",
            "refusal": "I'm sorry, but I can't help with this request.",
        },
    },
    "de": {
        "late": {
            "subject": "Bestellung #{order} immer noch nicht da",
            "prompt": "Das ist doch nicht zu fassen. Ich habe die {product} vor zehn Tagen bestellt (Bestellung #{order}), die Sendungsverfolgung zeigt seit Montag nichts Neues, und auf meine E-Mails antwortet niemand. Entweder kommt die Lieferung diese Woche, oder ich will mein Geld zurück.\n\n{name}",
            "strong": "Das tut mir leid, {name}. Ein Paket, das seit Tagen feststeckt, und keine Antwort von uns, das ist ärgerlich, und Sie hätten längst von uns hören müssen. Ich habe heute einen Nachforschungsauftrag für Bestellung #{order} beim Zusteller gestellt. Bewegt sich bis Freitag nichts, schicken wir Ihnen kostenlos per Express Ersatz oder erstatten den vollen Betrag, ganz wie Sie möchten. Das Ergebnis der Nachforschung schicke ich Ihnen innerhalb von 24 Stunden per E-Mail.",
            "fast": "Hallo {name},\n\nentschuldigen Sie die Verzögerung bei Bestellung #{order}. Wir haben eine Nachforschung beim Zusteller gestartet. Wenn sich bis Freitag nichts tut, schicken wir kostenlos Ersatz per Express oder erstatten den vollen Betrag.\n\nViele Grüße\nIhr Kundenservice",
            "refusal": "Es tut mir leid, aber bei Forderungen nach Erstattungen oder Liefergarantien kann ich nicht helfen. Bitte wenden Sie sich direkt an den Zusteller.",
        },
        "double": {
            "subject": "Doppelte Abbuchung",
            "prompt": "Sie haben meine Karte für Bestellung #{order} zweimal belastet, jeweils {charge}. Ich will, dass die doppelte Abbuchung sofort zurückgebucht wird, sonst lasse ich sie über meine Bank zurückholen.\n\n{name}",
            "strong": "Danke für Ihren Hinweis, {name}, und entschuldigen Sie den Ärger. Ich sehe für Bestellung #{order} zwei Belastungen über {charge}; die zweite ist eine doppelte Autorisierung. Ich habe die Rückbuchung heute veranlasst, sie sollte innerhalb von 3–5 Werktagen von Ihrer Abrechnung verschwinden. Falls nicht, antworten Sie einfach auf diese E-Mail, dann gebe ich es sofort an unser Zahlungsteam weiter. Eine Rückforderung über Ihre Bank ist also nicht nötig.",
            "fast": "Hallo {name},\n\nentschuldigen Sie die doppelte Abbuchung von {charge}. Die zweite Zahlung wurde storniert und verschwindet innerhalb von 3–5 Werktagen.\n\nViele Grüße\nIhr Kundenservice",
            "refusal": "Es tut mir leid, aber bei Zahlungsstreitigkeiten kann ich nicht helfen. Bitte wenden Sie sich an Ihre Bank.",
        },
    },
    "es": {
        "late": {
            "subject": "El pedido #{order} sigue sin llegar",
            "prompt": "Esto es increíble. Pedí la {product} hace diez días (pedido #{order}), el seguimiento no se mueve desde el lunes y nadie contesta a mis correos. O llega esta semana o quiero que me devolváis el dinero.\n\n{name}",
            "strong": "Lo siento mucho, {first}. Un paquete parado durante días y sin respuesta por nuestra parte es muy frustrante, y deberías haber sabido de nosotros antes. Hoy he pedido a la empresa de transporte que localice el pedido #{order}. Si el viernes sigue sin moverse, te enviamos otra unidad por envío exprés sin coste o te devolvemos el importe completo, lo que prefieras. Te escribo con el resultado en menos de 24 horas.",
            "fast": "Hola, {first}:\n\nSentimos el retraso del pedido #{order}. Hemos abierto una incidencia con el transportista. Si el viernes no hay novedades, te enviamos un reemplazo exprés gratis o te devolvemos el importe.\n\nUn saludo,\nAtención al cliente",
            "refusal": "Lo siento, pero no puedo ayudar con exigencias de reembolso o garantías de entrega. Ponte en contacto directamente con el transportista.",
        },
        "double": {
            "subject": "Cobro duplicado",
            "prompt": "Me habéis cobrado dos veces el pedido #{order} ({charge} cada vez). Quiero que anuléis el cargo duplicado ya, o lo reclamo a través de mi banco.\n\n{name}",
            "strong": "Gracias por avisarnos, {first}, y perdona la preocupación. Veo dos cargos de {charge} en el pedido #{order}; el segundo es una autorización duplicada. Hoy he solicitado su anulación y debería desaparecer de tu extracto en 3–5 días laborables. Si sigue ahí después, responde a este correo y lo paso de inmediato a nuestro equipo de pagos, así que no hace falta que abras una reclamación con tu banco.",
            "fast": "Hola, {first}:\n\nDisculpa el cobro duplicado de {charge}. Ya lo hemos anulado y desaparecerá en 3–5 días laborables.\n\nUn saludo,\nAtención al cliente",
            "refusal": "Lo siento, pero no puedo ayudarte con disputas de pagos. Ponte en contacto con tu banco.",
        },
    },
    "ja": {
        "late": {
            "subject": "注文#{order}がまだ届かない",
            "prompt": "いい加減にしてください。10日前に{product}を注文しましたが（注文#{order}）、追跡情報は月曜日から止まったままで、メールにも誰も返信してくれません。今週中に届けるか、返金してください。\n\n{name}",
            "strong": "{name}様、ご不便とご心配をおかけし、誠に申し訳ございません。荷物が何日も動かず、当社からのご連絡もなかったのですから、お怒りはもっともです。本日、配送業者に注文#{order}の調査を依頼いたしました。金曜日までに動きがない場合は、速達で代わりの商品を無料でお送りするか、全額を返金いたします。ご希望の方法をお知らせください。調査結果は24時間以内にメールでご連絡いたします。",
            "fast": "{name}様\n\n注文#{order}の配送遅延について、ご迷惑をおかけして申し訳ございません。配送業者に調査を依頼しました。金曜日までに動きがなければ、無料で速達にて代替品をお送りするか、全額返金いたします。\n\nカスタマーサポート",
            "refusal": "申し訳ございませんが、返金や配達保証のご要望にはお応えできません。配送業者に直接お問い合わせください。",
        },
        "double": {
            "subject": "二重請求について",
            "prompt": "注文#{order}の代金がカードから2回引き落とされています（各{charge}）。重複分をすぐに取り消してください。対応していただけない場合は、カード会社に異議を申し立てます。\n\n{name}",
            "strong": "{name}様、ご連絡いただきありがとうございます。ご心配をおかけして申し訳ございません。注文#{order}について{charge}の請求が2件あり、2件目は重複した承認であることを確認しました。本日取り消しの手続きを行いましたので、3〜5営業日以内にご利用明細から消える見込みです。それ以降も残っている場合は、このメールにご返信ください。すぐに決済担当チームに確認いたしますので、カード会社への異議申し立ては不要です。",
            "fast": "{name}様\n\n{charge}の二重請求について、申し訳ございません。重複分は取り消し済みで、3〜5営業日以内に明細から消えます。\n\nカスタマーサポート",
            "refusal": "申し訳ございませんが、支払いに関する紛争についてはお手伝いできません。カード会社にお問い合わせください。",
        },
    },
    "ko": {
        "late": {
            "subject": "주문 #{order} 아직도 안 왔습니다",
            "prompt": "정말 너무하네요. 열흘 전에 {product} 주문했는데(주문 #{order}) 배송 조회는 월요일부터 그대로고, 메일을 보내도 아무도 답이 없습니다. 이번 주 안에 배송해 주시든지 환불해 주세요.\n\n{name}",
            "strong": "{name} 고객님, 불편을 드려 정말 죄송합니다. 며칠째 배송이 멈춰 있는데 저희 답변까지 늦어 많이 답답하셨을 것 같습니다. 오늘 택배사에 주문 #{order}의 배송 추적을 요청했습니다. 금요일까지 움직임이 없으면 원하시는 대로 빠른 배송으로 대체 상품을 무료로 보내 드리거나 전액 환불해 드리겠습니다. 추적 결과는 24시간 안에 이메일로 알려 드리겠습니다.",
            "fast": "{name} 고객님,\n\n주문 #{order} 배송 지연으로 불편을 드려 죄송합니다. 택배사에 배송 추적을 요청했습니다. 금요일까지 변동이 없으면 빠른 배송으로 대체 상품을 무료로 보내 드리거나 전액 환불해 드립니다.\n\n고객센터 드림",
            "refusal": "죄송하지만 환불이나 배송 보장 요구에 대해서는 도와드릴 수 없습니다. 택배사에 직접 문의해 주세요.",
        },
        "double": {
            "subject": "이중 결제 문의",
            "prompt": "주문 #{order} 결제가 카드에서 두 번 빠져나갔습니다(각 {charge}). 중복 결제를 당장 취소해 주세요. 안 그러면 카드사에 이의 제기하겠습니다.\n\n{name}",
            "strong": "{name} 고객님, 알려 주셔서 감사합니다. 걱정을 끼쳐 드려 죄송합니다. 주문 #{order}에 {charge} 결제가 두 건 있으며, 두 번째 건은 중복 승인으로 확인되었습니다. 오늘 취소를 요청했으며 영업일 기준 3~5일 이내에 명세서에서 사라질 예정입니다. 그 이후에도 남아 있으면 이 메일에 회신해 주세요. 바로 결제 담당 팀에 전달하겠습니다. 카드사에 이의 제기하지 않으셔도 됩니다.",
            "fast": "{name} 고객님,\n\n{charge} 이중 결제로 불편을 드려 죄송합니다. 중복 결제는 취소되었으며 영업일 기준 3~5일 이내에 명세서에서 사라집니다.\n\n고객센터 드림",
            "refusal": "죄송하지만 결제 분쟁 관련 요청은 도와드릴 수 없습니다. 카드사에 문의해 주세요.",
        },
    },
    "ar": {
        "late": {
            "subject": "الطلب #{order} لم يصل حتى الآن",
            "prompt": "هذا غير مقبول. طلبت {product} قبل عشرة أيام (الطلب رقم #{order})، ولم يتحرك التتبع منذ يوم الاثنين، ولا أحد يرد على رسائلي. إما أن يصل الطلب هذا الأسبوع أو أريد استرداد أموالي.\n\n{name}",
            "strong": "نعتذر إليك بشدة يا {first}. من المزعج أن تبقى الشحنة متوقفة لأيام دون أي رد منا، وكان يجب أن نتواصل معك قبل ذلك. طلبت اليوم من شركة الشحن تتبع الطلب رقم #{order}. إذا لم تتحرك الشحنة بحلول يوم الجمعة، فسنرسل إليك بديلًا بالشحن السريع دون أي تكلفة أو نعيد إليك المبلغ كاملًا، حسب ما تفضله. وسأرسل إليك نتيجة التتبع عبر البريد الإلكتروني خلال 24 ساعة.",
            "fast": "مرحبًا {first}،\n\nنعتذر عن تأخر الطلب رقم #{order}. فتحنا طلب تتبع لدى شركة الشحن. إذا لم تتحرك الشحنة بحلول الجمعة، فسنرسل بديلًا مجانيًا بالشحن السريع أو نعيد المبلغ كاملًا.\n\nمع التحية،\nخدمة العملاء",
            "refusal": "عذرًا، لا يمكنني المساعدة في طلبات استرداد الأموال أو ضمانات التوصيل. يُرجى التواصل مع شركة الشحن مباشرة.",
        },
        "double": {
            "subject": "خصم مكرر",
            "prompt": "خصمتم مبلغ الطلب رقم #{order} من بطاقتي مرتين ({charge} في كل مرة). أريد إلغاء الخصم المكرر فورًا، وإلا فسأعترض عليه لدى البنك.\n\n{name}",
            "strong": "شكرًا لإبلاغنا يا {first}، ونعتذر عن القلق الذي سببه ذلك. أرى عمليتي خصم بقيمة {charge} للطلب رقم #{order}، والثانية تفويض مكرر. طلبت إلغاءها اليوم، ومن المتوقع أن تختفي من كشف حسابك خلال 3 إلى 5 أيام عمل. إذا بقيت بعد ذلك، فرد على هذه الرسالة وسأحيل الأمر فورًا إلى فريق المدفوعات، فلا حاجة إلى تقديم اعتراض لدى البنك.",
            "fast": "مرحبًا {first}،\n\nنعتذر عن الخصم المكرر بقيمة {charge}. تم إلغاء العملية المكررة وستختفي خلال 3 إلى 5 أيام عمل.\n\nمع التحية،\nخدمة العملاء",
            "refusal": "عذرًا، لا يمكنني المساعدة في النزاعات المتعلقة بالمدفوعات. يُرجى التواصل مع البنك.",
        },
    },
}

# A complaint that unfolds over three user turns in a chat (English only).
COMPLAINT_CHAT_EN = [
    {
        "role": "user",
        "content": "My {product} stopped working after two days. Really not impressed.",
    },
    {
        "role": "assistant",
        "content": "I'm sorry to hear that. Could you tell me your order number so I can look into it?",
    },
    {
        "role": "user",
        "content": "It's #{order}. I already sent two emails about this and got nothing back.",
    },
    {
        "role": "assistant",
        "content": "Thank you. I can see the order. Would you prefer a replacement or a refund?",
    },
    {
        "role": "user",
        "content": "A refund. And I'm not paying for the return shipping.",
    },
]

COMPLAINT_CHAT_EN_OUTPUTS = {
    "strong": "Understood, {first}, and I'm sorry you had to chase us twice. I've started a full refund for order #{order}, and the return is free: a prepaid label is on its way to your email. The refund is issued as soon as the parcel is scanned by the carrier, so you don't need to wait for it to reach our warehouse.",
    "fast": "Sorry about that! I've started your refund for order #{order}.\n\n- A **free return label** has been emailed to you.\n- The refund is issued once the parcel is scanned by the carrier.",
    "refusal": "I'm sorry, but I can't process refunds or make decisions about return shipping costs. Please contact our support team by email.",
}

# ---------------------------------------------------------------------------
# Planning: which requests exist, who sends them, and which ones fail.
# ---------------------------------------------------------------------------


@dataclass
class Slot:
    """One planned request, before its text is written."""

    task: str
    locale: str
    long: bool = False
    chat: bool = False
    tenant: str = ""
    tier: str = ""
    fast_failure: str | None = None
    strong_failure: bool = False
    ungraded: str | None = None
    weight: int = 1


@dataclass
class Outputs:
    """Both models' outputs for one request: (text, grade, finish_reason) each."""

    strong: tuple[str, float, str]
    fast: tuple[str, float, str]


@dataclass
class Rendered:
    """The text of one request and its outputs."""

    prompt: str | None = None
    messages: list[dict] | None = None
    channel: str = "chat"
    subject: str | None = None
    reference: str | None = None
    metadata: dict = field(default_factory=dict)
    outputs: Outputs | None = None


def plan_slots(rng: random.Random) -> list[Slot]:
    slots = []
    for task, per_locale in PLAN.items():
        for locale, count in per_locale.items():
            n_long = LONG.get((task, locale), 0)
            n_chat = CHAT.get((task, locale), 0)
            for index in range(count):
                is_long = index < n_long
                is_chat = n_long <= index < n_long + n_chat
                slots.append(Slot(task, locale, long=is_long, chat=is_chat))

    rng.shuffle(slots)
    return slots


def assign_tenants(rng: random.Random, slots: list[Slot]) -> None:
    """Give each request a tenant, so popular tenants get many and some get one or two."""
    ranks = list(range(len(TENANTS)))
    rng.shuffle(ranks)
    popularity = {
        tenant[0]: 1 / (rank + 1) ** 0.9
        for tenant, rank in zip(TENANTS, ranks, strict=True)
    }
    tiers = {tenant_id: tier for tenant_id, tier, _ in TENANTS}

    for slot in slots:
        home = [t[0] for t in TENANTS if t[2] == slot.locale]
        pool = home if rng.random() < HOME_LOCALE_SHARE else [t[0] for t in TENANTS]
        slot.tenant = rng.choices(pool, weights=[popularity[t] for t in pool])[0]

    # Every tenant sends at least one request: take one of its home locale from the
    # busiest tenant that has such a request.
    for tenant_id, _, locale in TENANTS:
        if any(slot.tenant == tenant_id for slot in slots):
            continue
        candidates = [slot for slot in slots if slot.locale == locale]
        counts = {t[0]: sum(s.tenant == t[0] for s in slots) for t in TENANTS}
        donor = max(candidates, key=lambda slot: counts[slot.tenant])
        donor.tenant = tenant_id

    for slot in slots:
        slot.tier = tiers[slot.tenant]


def cell(slots: list[Slot], task: str, locale: str) -> list[Slot]:
    return [slot for slot in slots if slot.task == task and slot.locale == locale]


def assign_fates(rng: random.Random, slots: list[Slot]) -> None:
    """Choose which requests each model fails, which lack a grade, which are weighted."""
    for task, locale, variant, failure, count in FAST_FAILURES:
        eligible = [
            slot
            for slot in cell(slots, task, locale)
            if slot.long == (variant == "long") and slot.fast_failure is None
        ]
        for slot in rng.sample(eligible, count):
            slot.fast_failure = failure

    for task, locale, count in STRONG_FAILURES:
        eligible = [
            slot
            for slot in cell(slots, task, locale)
            if not slot.long and not slot.chat and slot.fast_failure is None
        ]
        for slot in rng.sample(eligible, count):
            slot.strong_failure = True

    for task, locale, model, count in UNGRADED:
        eligible = [slot for slot in cell(slots, task, locale) if slot.ungraded is None]
        for slot in rng.sample(eligible, count):
            slot.ungraded = model

    for task, locale, tier, weight, count in WEIGHTED:
        eligible = [
            slot
            for slot in cell(slots, task, locale)
            if (tier is None or slot.tier == tier) and slot.ungraded is None
        ]
        for slot in rng.sample(eligible, count):
            slot.weight = weight


# ---------------------------------------------------------------------------
# Rendering: templates filled with the words of one request.
# ---------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(template: str, words: dict) -> str:
    """Replace each {name} in the template; raise KeyError for an unknown name."""

    def replace(match: re.Match) -> str:
        return str(words[match.group(1)])

    return PLACEHOLDER.sub(replace, template)


def draw_words(rng: random.Random, locale: str) -> dict:
    """Draw the names, product, order number and other words of one request."""
    name = rng.choice(NAMES[locale])
    product_index = rng.randrange(len(PRODUCTS[locale]))
    other_index = (product_index + rng.randrange(1, len(PRODUCTS[locale]))) % len(
        PRODUCTS[locale]
    )
    days = rng.choice([5, 12, 21])
    return {
        "name": name,
        "first": name.split()[0],
        "product_index": product_index,
        "product": PRODUCTS[locale][product_index],
        "other": PRODUCTS[locale][other_index],
        "city": rng.choice(CITIES[locale]),
        "order": str(rng.randrange(10000, 100000)),
        "order2": str(rng.randrange(10000, 100000)),
        "serial": str(rng.randrange(100000, 1000000)),
        "plan": rng.choice(PLANS),
        "days": days,
        "days_word": "أيام" if days <= 10 else "يومًا",
        "agent": AGENTS[locale],
        "charge": CHARGES[locale],
    }


def graded(
    text: str, grade: float, finish_reason: str = "stop"
) -> tuple[str, float, str]:
    return (text, grade, finish_reason)


def join_sentences(sentences: list[str], locale: str) -> str:
    separator = "" if locale in NO_SPACE_LOCALES else " "
    return separator.join(sentences)


def render_faq(rng: random.Random, slot: Slot, words: dict) -> Rendered:
    locale = slot.locale
    if slot.long:
        return render_long_faq(slot, words)

    topic = rng.choice(["delivery", "cancel"] if slot.strong_failure else FAQ_TOPICS)
    entry = FAQ[locale][topic]
    question = fill(rng.choice(entry["questions"]), words)
    rendered = Rendered()

    if slot.chat:
        opener, reply = CHAT_OPENERS[locale]
        rendered.messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": opener},
            {"role": "assistant", "content": reply},
            {"role": "user", "content": question},
        ]
    else:
        rendered.prompt = question
        rendered.channel = rng.choice(["chat", "email"])
        if rendered.channel == "email":
            rendered.subject = fill(entry["subject"], words)

    strong = graded(fill(entry["strong"], words), 1.0)
    if slot.strong_failure:
        # Wrong delivery times cost half a point, and a promised refund that the
        # shop's policy forbids gets 0.0.
        strong = graded(
            fill(entry["strong_wrong"], words), 0.5 if topic == "delivery" else 0.0
        )

    fast = graded(fill(entry["fast"], words), 1.0)
    if slot.fast_failure == "partial":
        fast = graded(fill(entry["partial"], words), 0.5)
    elif slot.fast_failure == "wrong_language":
        fast = graded(fill(FAQ["en"][topic]["fast"], words), 0.0)
    elif slot.fast_failure == "script_switch":
        fast = graded(fill(entry["script_switch"], words), 0.5)

    rendered.outputs = Outputs(strong, fast)
    return rendered


def long_thread(locale: str, words: dict) -> str:
    return "\n\n".join(
        fill(message, words) for message in LONG_THREADS[locale]["messages"]
    )


def render_long_faq(slot: Slot, words: dict) -> Rendered:
    thread = LONG_THREADS[slot.locale]
    prompt = (
        fill(thread["faq_question"], words) + "\n\n" + long_thread(slot.locale, words)
    )
    outputs = Outputs(
        graded(fill(thread["faq_strong"], words), 1.0),
        graded(fill(thread["faq_fast"], words), 1.0),
    )
    return Rendered(prompt=prompt, channel="email", outputs=outputs)


def broken_json(rng: random.Random, expected: dict, locale: str) -> str:
    """Write the expected object the way a careless model breaks it."""
    kinds = ["trailing_comma", "missing_brace", "python_dict"]
    if locale == "ja":
        kinds.append("translated_keys")
    kind = rng.choice(kinds)
    dumped = json.dumps(expected, indent=2, ensure_ascii=False)

    if kind == "trailing_comma":
        return dumped[:-2] + ",\n}"
    if kind == "missing_brace":
        return "```json\n" + dumped[:-2] + "\n```"
    if kind == "python_dict":
        return EXTRACTION_PREFACES[locale] + "\n\n" + repr(expected)
    translated = {JA_TRANSLATED_KEYS[key]: value for key, value in expected.items()}
    return json.dumps(translated, indent=2, ensure_ascii=False)


def render_extraction(rng: random.Random, slot: Slot, words: dict) -> Rendered:
    locale = slot.locale
    issue = rng.choice(ISSUE_TYPES)
    refund_requested = rng.random() < 0.5
    request = EXTRACTION_REQUESTS[locale][issue][0 if refund_requested else 1]
    email = fill(EXTRACTION_EMAILS[locale][issue], {**words, "request": request})
    expected = {
        "customer_name": words["name"],
        "order_id": words["order"],
        "product": words["product"],
        "issue_type": issue,
        "refund_requested": refund_requested,
    }
    dumped = json.dumps(expected, indent=2, ensure_ascii=False)

    strong = graded(dumped, 1.0)
    fast = graded("```json\n" + dumped + "\n```", 1.0)
    if slot.fast_failure == "broken_json":
        fast = graded(broken_json(rng, expected, locale), 0.0)

    return Rendered(
        prompt=EXTRACTION_INSTRUCTIONS[locale] + email,
        channel="agent",
        metadata={"expects_json": True},
        outputs=Outputs(strong, fast),
    )


def render_summarisation(slot: Slot, words: dict) -> Rendered:
    locale = slot.locale
    if slot.long:
        thread = LONG_THREADS[locale]
        prompt = thread["instruction"] + "\n\n" + long_thread(locale, words)
        strong = graded(fill(thread["strong"], words), 1.0)
        fast = graded(fill(thread["fast"], words), 1.0)
        if slot.fast_failure == "truncated":
            fast = graded(fill(thread["truncated"], words), 0.5, "length")
        return Rendered(prompt=prompt, channel="agent", outputs=Outputs(strong, fast))

    thread = SHORT_THREADS[locale]
    strong = graded(fill(thread["strong"], words), 1.0)
    fast = graded(fill(thread["fast"], words), 1.0)
    if slot.fast_failure == "partial":
        fast = graded(fill(thread["partial"], words), 0.5)
    return Rendered(
        prompt=fill(thread["prompt"], words),
        channel="agent",
        outputs=Outputs(strong, fast),
    )


def render_translation(rng: random.Random, slot: Slot, words: dict) -> Rendered:
    locale = slot.locale
    preface = TRANSLATION_PREFACES[locale]

    if locale == "en":
        source_locale, source, english = rng.choice(CUSTOMER_MESSAGES)
        source = [fill(sentence, words) for sentence in source]
        target = [fill(sentence, words) for sentence in english]
        prompt = EN_TRANSLATION_INSTRUCTION + join_sentences(source, source_locale)
        untranslated = join_sentences(target[:-1], locale) + " " + source[-1]
    else:
        index = rng.randrange(len(REPLIES_EN))
        english_words = {**words, "product": PRODUCTS["en"][words["product_index"]]}
        english = [fill(sentence, english_words) for sentence in REPLIES_EN[index]]
        target = [fill(sentence, words) for sentence in REPLIES[locale][index]]
        prompt = TRANSLATION_INSTRUCTIONS[locale] + " ".join(english)
        untranslated = join_sentences(target[:-1], locale) + " " + english[-1]

    strong = graded(join_sentences(target, locale), 1.0)
    fast = graded(preface + "\n\n" + join_sentences(target, locale), 1.0)
    if slot.fast_failure == "untranslated":
        # The last sentence stays in the source language.
        fast = graded(preface + "\n\n" + untranslated, 0.5)
    return Rendered(prompt=prompt, channel="agent", outputs=Outputs(strong, fast))


def compose(before: str, code: str, after: str) -> str:
    return "\n\n".join(part for part in (before, code, after) if part)


def render_code(rng: random.Random, slot: Slot) -> Rendered:
    locale = slot.locale
    topics = [name for name, topic in CODE_TOPICS.items() if locale in topic]
    topic = CODE_TOPICS[rng.choice(topics)]
    strong_code, fast_code, wrong_code = topic["code"]
    texts = topic[locale]

    strong = graded(compose(texts["strong"][0], strong_code, texts["strong"][1]), 1.0)
    fast = graded(compose(texts["fast"][0], fast_code, texts["fast"][1]), 1.0)
    if slot.fast_failure == "wrong_code":
        fast = graded(compose(texts["wrong"][0], wrong_code, texts["wrong"][1]), 0.0)
    return Rendered(
        prompt=texts["prompt"], channel="docs", outputs=Outputs(strong, fast)
    )


def arithmetic_values(rng: random.Random, kind: str, strong_failure: bool) -> dict:
    """Draw the numbers of one arithmetic question, with whole-number results."""
    if kind == "refund":
        n, k, r = (
            (4, 2, 10)
            if strong_failure
            else (rng.choice([3, 4, 5]), rng.choice([1, 2]), rng.choice([10, 20]))
        )
        p = rng.choice([40, 60, 80, 120])
        s = rng.choice([5, 7, 9])
        kp = k * p
        fee = kp * r // 100
        return {
            "n": n, "k": k, "r": r, "p": p, "s": s, "kp": kp, "fee": fee,
            "np": n * p, "fee_all": n * p * r // 100,
            "answer": kp - fee,
            "wrong": (kp - n * p * r // 100) if strong_failure else kp - fee - s,
        }  # fmt: skip
    if kind == "proration":
        a = rng.choice([20, 30])
        diff = rng.choice([30, 60, 90])
        d = rng.choice([10, 15, 20, 25])
        return {"a": a, "b": a + diff, "diff": diff, "d": d, "answer": diff * d // 30}
    seats = rng.choice([24, 25, 30, 32])
    p = rng.choice([10, 20, 30])
    p90 = p * 9 // 10
    return {
        "s": seats, "p": p, "p90": p90, "rest": seats - 20,
        "x": 20 * p, "y": (seats - 20) * p90,
        "answer": 20 * p + (seats - 20) * p90, "wrong": seats * p90,
    }  # fmt: skip


# Amounts among the values, which are written with the locale's currency.
MONEY_KEYS = {
    "p",
    "s",
    "kp",
    "fee",
    "np",
    "fee_all",
    "answer",
    "wrong",
    "a",
    "b",
    "diff",
    "x",
    "y",
    "p90",
}

WRONG_VARIANTS = {
    "refund": ["wrong_no_fee", "wrong_shipping"],
    "proration": ["wrong_full"],
    "seats": ["wrong_all"],
}


def render_arithmetic(rng: random.Random, slot: Slot, words: dict) -> Rendered:
    locale = slot.locale
    kind = (
        "refund"
        if slot.strong_failure
        else rng.choice(["refund", "proration", "seats"])
    )
    values = arithmetic_values(rng, kind, slot.strong_failure)
    scale = MONEY_SCALE[locale]
    formatted = {
        key: MONEY[locale](value * scale) if key in MONEY_KEYS else value
        for key, value in values.items()
    }
    formatted["product"] = words["product"]
    templates = ARITHMETIC[locale][kind]

    strong = graded(fill(templates["strong"], formatted), 1.0)
    if slot.strong_failure:
        strong = graded(fill(templates["strong_wrong"], formatted), 0.0)
    fast = graded(fill(templates["fast"], formatted), 1.0)
    if slot.fast_failure == "wrong_number":
        fast = graded(fill(templates[rng.choice(WRONG_VARIANTS[kind])], formatted), 0.0)

    return Rendered(
        prompt=fill(templates["prompt"], formatted),
        channel="agent",
        reference=str(values["answer"] * scale),
        outputs=Outputs(strong, fast),
    )


def render_complaint(rng: random.Random, slot: Slot, words: dict) -> Rendered:
    locale = slot.locale
    if slot.chat:
        messages = [{"role": "system", "content": SYSTEM_PROMPT}]
        messages += [
            {**turn, "content": fill(turn["content"], words)}
            for turn in COMPLAINT_CHAT_EN
        ]
        texts = COMPLAINT_CHAT_EN_OUTPUTS
        rendered = Rendered(messages=messages)
    else:
        texts = COMPLAINTS[locale][rng.choice(list(COMPLAINTS[locale]))]
        rendered = Rendered(
            prompt=fill(texts["prompt"], words), channel=rng.choice(["chat", "email"])
        )
        if rendered.channel == "email":
            rendered.subject = fill(texts["subject"], words)

    strong = graded(fill(texts["strong"], words), 1.0)
    fast = graded(fill(texts["fast"], words), 1.0)
    if slot.fast_failure == "refusal":
        fast = graded(fill(texts["refusal"], words), 0.0)
    rendered.outputs = Outputs(strong, fast)
    return rendered


def render(rng: random.Random, slot: Slot) -> Rendered:
    words = draw_words(rng, slot.locale)
    if slot.task == "faq":
        return render_faq(rng, slot, words)
    if slot.task == "extraction":
        return render_extraction(rng, slot, words)
    if slot.task == "summarisation":
        return render_summarisation(slot, words)
    if slot.task == "translation":
        return render_translation(rng, slot, words)
    if slot.task == "code":
        return render_code(rng, slot)
    if slot.task == "arithmetic":
        return render_arithmetic(rng, slot, words)
    return render_complaint(rng, slot, words)


def output_record(output: tuple[str, float, str], has_grade: bool) -> dict:
    text, grade, finish_reason = output
    record = {"text": text, "grade": grade, "finish_reason": finish_reason}
    if not has_grade:
        del record["grade"]
    return record


def to_record(number: int, slot: Slot, rendered: Rendered) -> dict:
    record: dict = {"id": f"req-{number:04d}"}
    if rendered.messages is not None:
        record["messages"] = rendered.messages
    else:
        record["prompt"] = rendered.prompt

    metadata = {
        "tenant_id": slot.tenant,
        "tenant_tier": slot.tier,
        "locale": slot.locale,
        "task_type": slot.task,
        "channel": rendered.channel,
    }
    if rendered.subject is not None:
        metadata["subject"] = rendered.subject
    metadata.update(rendered.metadata)
    record["metadata"] = metadata

    if rendered.reference is not None:
        record["reference"] = rendered.reference
    if slot.weight != 1:
        record["weight"] = slot.weight

    outputs = rendered.outputs
    record["outputs"] = {
        STRONG: output_record(outputs.strong, slot.ungraded != STRONG),
        FAST: output_record(outputs.fast, slot.ungraded != FAST),
    }
    return record


def build_sample() -> list[dict]:
    """Build every request of the sample. The same seed always gives the same list."""
    rng = random.Random(SEED)
    slots = plan_slots(rng)
    assign_tenants(rng, slots)
    assign_fates(rng, slots)
    return [
        to_record(number, slot, render(rng, slot))
        for number, slot in enumerate(slots, start=1)
    ]


def serialise(records: list[dict]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------
# --check: route the sample with policies/support.yaml and print the figures.
# This is a small evaluator of its own, independent of the preview engine.
# ---------------------------------------------------------------------------

OPERATORS = {
    "eq",
    "ne",
    "in",
    "not_in",
    "lt",
    "lte",
    "gt",
    "gte",
    "contains",
    "matches",
}


def load_token_encoder():
    """Load o200k_base from the tokenizer files that litellm ships, without network."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        # find_spec locates the package without importing it, because importing
        # litellm takes seconds.
        spec = importlib.util.find_spec("litellm")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(
                "error: litellm is not installed, so its tokenizer files are missing; install the project's dependencies"
            )
        package_dir = spec.submodule_search_locations[0]
        os.environ["TIKTOKEN_CACHE_DIR"] = os.path.join(
            package_dir, "litellm_core_utils", "tokenizers"
        )
    import tiktoken

    return tiktoken.get_encoding("o200k_base")


def count_prompt_tokens(record: dict, encoder) -> int:
    """Count a prompt's tokens. Chat messages add 3 each plus 3 for the reply."""
    if "messages" in record:
        return (
            sum(
                3 + len(encoder.encode_ordinary(m["content"]))
                for m in record["messages"]
            )
            + 3
        )
    return len(encoder.encode_ordinary(record["prompt"]))


def prompt_text(record: dict) -> str:
    if "messages" in record:
        return "\n".join(
            m["content"] for m in record["messages"] if m["role"] == "user"
        )
    return record["prompt"]


def request_features(record: dict, encoder) -> dict:
    user_turns = sum(m["role"] == "user" for m in record.get("messages", [])) or 1
    return {
        "metadata": record["metadata"],
        "prompt_tokens": count_prompt_tokens(record, encoder),
        "prompt_chars": len(prompt_text(record)),
        "turns": user_turns,
    }


def read_path(data: dict, dotted: str):
    value = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def field_value(name: str, features: dict, segments: dict):
    if name in segments:
        value = read_path(features, segments[name]["field"])
        if value is None and segments[name].get("fallback"):
            raise SystemExit(
                f"error: segment {name!r} needs its fallback {segments[name]['fallback']!r}, which --check does not compute"
            )
        return value
    if name.startswith("metadata."):
        return read_path(features, name)
    if name in ("prompt_tokens", "prompt_chars", "turns"):
        return features[name]
    raise SystemExit(
        f"error: --check does not support the field {name!r}; compare with `routebook preview` instead"
    )


def compare(actual, expected) -> bool:
    if not (isinstance(expected, dict) and expected and set(expected) <= OPERATORS):
        return actual == expected

    checks = {
        "eq": lambda operand: actual == operand,
        "ne": lambda operand: actual != operand,
        "in": lambda operand: actual in operand,
        "not_in": lambda operand: actual not in operand,
        "lt": lambda operand: actual is not None and actual < operand,
        "lte": lambda operand: actual is not None and actual <= operand,
        "gt": lambda operand: actual is not None and actual > operand,
        "gte": lambda operand: actual is not None and actual >= operand,
        "contains": lambda operand: actual is not None and operand in actual,
        # A missing field never matches, and the pattern may match anywhere in the
        # value, as re.search does.
        "matches": lambda operand: (
            isinstance(actual, str) and re.search(operand, actual) is not None
        ),
    }
    return all(checks[operator](operand) for operator, operand in expected.items())


def evaluate(condition: dict, features: dict, segments: dict) -> bool:
    """Evaluate a rule's `when`. Several keys in one mapping must all hold."""
    results = []
    for key, value in condition.items():
        if key == "all":
            results.append(all(evaluate(item, features, segments) for item in value))
        elif key == "any":
            results.append(any(evaluate(item, features, segments) for item in value))
        elif key == "not":
            results.append(not evaluate(value, features, segments))
        else:
            results.append(compare(field_value(key, features, segments), value))
    return all(results)


def route(policy: dict, features: dict) -> tuple[str, str]:
    """Return (rule name, model alias) of the first matching rule, or the default."""
    for rule in policy["rules"]:
        if evaluate(rule["when"], features, policy["segments"]):
            return rule["name"], rule["route"]
    return "(default)", policy["default"]


def segment_budget(policy: dict, dimension: str, value) -> float:
    """Return the budget of the first override whose `when` holds for this segment alone.

    Without such an override, the segment gets the global max_regression.
    """
    budgets = policy["budgets"]
    view = {"segment": {dimension: value}}
    segments = {name: {"field": f"segment.{name}"} for name in policy["segments"]}
    for override in budgets.get("overrides", []):
        try:
            matched = evaluate(override["when"], view, segments)
        except SystemExit:
            matched = False
        if matched:
            return override["max_regression"]
    return budgets["max_regression"]


@dataclass
class SegmentFigures:
    """Quality of the routed mix against the baseline for one group of requests."""

    requests: int = 0
    graded: int = 0
    routed_away: int = 0
    weight: float = 0.0
    baseline_sum: float = 0.0
    routed_sum: float = 0.0

    def add(
        self, record: dict, models: list[str], baseline_model: str, routed_model: str
    ) -> None:
        """Count one request. Only requests whose baseline and routed outputs both
        carry a grade enter the means."""
        self.requests += 1
        self.routed_away += routed_model != baseline_model
        grades = {
            model: record["outputs"].get(model, {}).get("grade")
            for model in (baseline_model, routed_model)
        }
        if None in grades.values():
            return
        weight = record.get("weight", 1)
        self.graded += 1
        self.weight += weight
        self.baseline_sum += weight * grades[baseline_model]
        self.routed_sum += weight * grades[routed_model]

    @property
    def regression(self) -> float | None:
        if not self.weight:
            return None
        return (self.baseline_sum - self.routed_sum) / self.weight


def compute_report(records: list[dict], policy: dict) -> dict:
    encoder = load_token_encoder()
    models = {alias: entry["model"] for alias, entry in policy["models"].items()}
    model_list = list(models.values())
    baseline_model = models[policy["budgets"]["baseline"]]
    min_samples = policy["budgets"]["min_samples"]
    overall = SegmentFigures()
    by_segment: dict[tuple[str, str], SegmentFigures] = {}
    rule_counts: dict[str, int] = {rule["name"]: 0 for rule in policy["rules"]}
    rule_counts["(default)"] = 0

    for record in records:
        features = request_features(record, encoder)
        rule_name, alias = route(policy, features)
        rule_counts[rule_name] += 1
        overall.add(record, model_list, baseline_model, models[alias])
        for dimension in policy["segments"]:
            value = field_value(dimension, features, policy["segments"])
            figures = by_segment.setdefault((dimension, value), SegmentFigures())
            figures.add(record, model_list, baseline_model, models[alias])

    rows = [
        row_for("all", "all", overall, policy["budgets"]["max_regression"], min_samples)
    ]
    for (dimension, value), figures in sorted(by_segment.items()):
        budget = segment_budget(policy, dimension, value)
        rows.append(row_for(dimension, value, figures, budget, min_samples))
    return {"rows": rows, "rules": rule_counts}


def row_for(
    dimension: str, value: str, figures: SegmentFigures, budget: float, min_samples: int
) -> dict:
    regression = figures.regression
    if figures.graded < min_samples:
        status = "insufficient"
    elif regression is not None and regression > budget + 1e-9:
        status = "FAIL"
    else:
        status = "pass"
    return {
        "dimension": dimension,
        "value": value,
        "requests": figures.requests,
        "graded": figures.graded,
        "routed_away": figures.routed_away,
        "baseline_quality": figures.baseline_sum / figures.weight
        if figures.weight
        else None,
        "routed_quality": figures.routed_sum / figures.weight
        if figures.weight
        else None,
        "regression": regression,
        "budget": budget,
        "status": status,
    }


def format_number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_report(report: dict) -> None:
    header = f"{'segment':<24} {'requests':>8} {'graded':>6} {'routed':>6} {'baseline':>8} {'routed q':>8} {'regress':>8} {'budget':>6}  status"
    print(header)
    print("-" * len(header))
    for row in report["rows"]:
        name = (
            f"{row['dimension']}={row['value']}"
            if row["dimension"] != "all"
            else "all requests"
        )
        print(
            f"{name:<24} {row['requests']:>8} {row['graded']:>6} {row['routed_away']:>6} "
            f"{format_number(row['baseline_quality']):>8} {format_number(row['routed_quality']):>8} "
            f"{format_number(row['regression']):>8} {row['budget']:>6.2f}  {row['status']}"
        )
    print()
    print(
        "'routed' counts requests sent away from the baseline model; qualities are weighted mean grades over requests graded for both models."
    )
    print()
    print("requests per rule (first match wins):")
    for name, count in report["rules"].items():
        print(f"  {name:<36} {count:>4}")


def load_policy(path: Path) -> dict:
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(f"error: policy not found: {path}") from None


def read_sample(path: Path) -> tuple[str, list[dict]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SystemExit(
            f"error: sample not found: {path}; run scripts/make_example.py to create it"
        ) from None
    return text, [json.loads(line) for line in text.splitlines() if line.strip()]


def run_check(sample_path: Path, policy_path: Path, as_json: bool) -> int:
    text, records = read_sample(sample_path)
    if text != serialise(build_sample()):
        # Figures of a stale file would mislead, so none are printed.
        print(
            f"error: {sample_path} differs from what this script generates; run scripts/make_example.py to rewrite it",
            file=sys.stderr,
        )
        return 1

    report = compute_report(records, load_policy(policy_path))
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_report(report)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="print the per-segment table for the policy instead of writing; exit 1 without a table when the sample file is out of date",
    )
    parser.add_argument(
        "--json", action="store_true", help="with --check, print the figures as JSON"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=SAMPLE_PATH,
        help=f"sample file to write or check (default: {SAMPLE_PATH.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--policy",
        type=Path,
        default=POLICY_PATH,
        help=f"policy for --check (default: {POLICY_PATH.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)

    if args.check:
        return run_check(args.output, args.policy, args.json)

    records = build_sample()
    write_atomically(args.output, serialise(records))
    print(f"wrote {len(records)} requests to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
