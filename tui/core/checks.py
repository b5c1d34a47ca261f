"""Checks that flag how a model output fails or differs from the baseline output.

Per-output checks (`check_output`): `empty`, `refusal`, `truncated`,
`repetitive`, `wrong_language`, `invalid_json`. Pairwise checks over the
baseline output and another model's output for the same request
(`check_pair`): `answer_mismatch`, `format_mismatch`, `length_ratio`.

Every check returns a `CheckResult`: a flag, a short evidence string, and the
character span in the output to highlight. The rules, defaults and measured
precision and recall are documented in docs/checks.md.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import html
import json
import math
import re
import threading
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from tui.core import language
from tui.core.problems import Problem

OUTPUT_CHECKS: tuple[str, ...] = (
    "empty",
    "refusal",
    "truncated",
    "repetitive",
    "wrong_language",
    "invalid_json",
)
PAIR_CHECKS: tuple[str, ...] = ("answer_mismatch", "format_mismatch", "length_ratio")
ALL_CHECKS: tuple[str, ...] = OUTPUT_CHECKS + PAIR_CHECKS

# Evidence strings are cut to this many characters.
EVIDENCE_CHARS = 80


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one output (or one pair of outputs).

    `span` is a half-open range of character offsets into the output text (the
    other model's output for pairwise checks) to highlight, when there is one.
    """

    flag: bool
    evidence: str | None = None
    span: tuple[int, int] | None = None


PASSED = CheckResult(False)


@dataclass
class OutputInfo:
    """The facts about one model output that the checks read."""

    text: str | None
    finish_reason: str | None = None
    max_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass
class RequestInfo:
    """The facts about the request behind an output that the checks read.

    `prompt_text` is all user message text, flattened. `locale` is the
    requested language (any locale string). When `expects_json` is None, the
    prompt's own instructions decide whether JSON is requested.
    """

    prompt_text: str
    locale: str | None
    expects_json: bool | None = None


# --- configuration -----------------------------------------------------------


@dataclass(frozen=True)
class RefusalSettings:
    """Limits on where a refusal phrase may appear for a refusal to count."""

    # The phrase must start within this many characters of the answer's start.
    head_chars: int = 300
    # Longer answers are not refusals even when they open with a refusal
    # phrase: they decline one part and help with the rest.
    max_chars: int = 1500


@dataclass(frozen=True)
class RepetitiveSettings:
    """Thresholds for degenerate loops."""

    # A unit repeated back to back this many times at the end of the output,
    # or a line of prose repeated this many times anywhere, is a loop.
    min_repeats: int = 10
    # The compression test reads this many characters from the end.
    tail_chars: int = 3000
    # A tail that zlib compresses to this fraction of its size or less is a loop.
    max_zlib_ratio: float = 0.15
    # Shorter lines are ignored by the repeated-line test, so that template
    # labels such as "**Pros:**" do not count.
    min_line_chars: int = 40


@dataclass(frozen=True)
class WrongLanguageSettings:
    """Tolerances for text in another language or script."""

    # Korean prose may contain Hanja; a Han run needs this many characters
    # before it counts as a switch into Chinese.
    min_hanja_run: int = 3


@dataclass(frozen=True)
class TruncatedSettings:
    """Tolerances for the sentence-cut-off rule."""

    # A last line ending mid-word counts as cut off only with at least this
    # many words (or twice as many CJK characters), so short labels and
    # sign-offs do not.
    min_sentence_words: int = 8


@dataclass(frozen=True)
class ChecksConfig:
    """The `checks:` section of a policy.

    All checks are enabled by default. `as_grade` lists per-output checks that
    grade an output that has no grade of its own: 0.0 when any listed check
    flags it, 1.0 when none does.
    """

    enabled: frozenset[str] = frozenset(ALL_CHECKS)
    as_grade: tuple[str, ...] = ()
    length_ratio: float = 3.0
    refusal: RefusalSettings = field(default_factory=RefusalSettings)
    repetitive: RepetitiveSettings = field(default_factory=RepetitiveSettings)
    wrong_language: WrongLanguageSettings = field(default_factory=WrongLanguageSettings)
    truncated: TruncatedSettings = field(default_factory=TruncatedSettings)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any] | None,
        path: str,
        positions: Mapping[str, tuple[int, int]] | None = None,
    ) -> tuple[ChecksConfig, list[Problem]]:
        """Build a config from the `checks:` mapping of a policy file.

        Invalid entries produce a Problem and keep their default. `positions`
        maps dotted key paths inside the section (`enabled`,
        `repetitive.min_repeats`, `as_grade.1`) to 1-based (line, column);
        a key without a position uses its parent's, then (1, 1).
        """
        return _ConfigReader(path, positions or {}).read(data)

    def fingerprint(self) -> str:
        """Return a short stable digest of every setting, for cache keys."""
        return _fingerprint(self)


DEFAULT_CONFIG = ChecksConfig()
DEFAULT_TRUNCATED = TruncatedSettings()


@functools.lru_cache(maxsize=64)
def _fingerprint(config: ChecksConfig) -> str:
    settings = (
        sorted(config.enabled),
        config.as_grade,
        config.length_ratio,
        config.refusal,
        config.repetitive,
        config.wrong_language,
        config.truncated,
    )
    return hashlib.blake2b(repr(settings).encode(), digest_size=8).hexdigest()


_SECTION_SETTINGS: dict[str, type] = {
    "refusal": RefusalSettings,
    "repetitive": RepetitiveSettings,
    "wrong_language": WrongLanguageSettings,
    "truncated": TruncatedSettings,
}

# Allowed range per numeric setting: (minimum, maximum, minimum is exclusive).
_SETTING_RANGES: dict[str, tuple[float, float, bool]] = {
    "length_ratio": (1.0, math.inf, True),
    "refusal.head_chars": (1, 100_000, False),
    "refusal.max_chars": (1, 10_000_000, False),
    "repetitive.min_repeats": (2, 10_000, False),
    "repetitive.tail_chars": (200, 10_000_000, False),
    "repetitive.max_zlib_ratio": (0.0, 1.0, True),
    "repetitive.min_line_chars": (1, 10_000, False),
    "wrong_language.min_hanja_run": (1, 1000, False),
    "truncated.min_sentence_words": (1, 1000, False),
}

_TOP_LEVEL_KEYS = ("enabled", "disabled", "as_grade", "length_ratio") + tuple(
    _SECTION_SETTINGS
)


class _ConfigReader:
    def __init__(self, path: str, positions: Mapping[str, tuple[int, int]]):
        self.path = path
        self.positions = positions
        self.problems: list[Problem] = []

    def read(
        self, data: Mapping[str, Any] | None
    ) -> tuple[ChecksConfig, list[Problem]]:
        if data is None:
            return DEFAULT_CONFIG, []
        if not isinstance(data, Mapping):
            self._problem("", "`checks` must be a mapping of settings")
            return DEFAULT_CONFIG, self.problems

        self._reject_unknown_keys(data, _TOP_LEVEL_KEYS, "")
        enabled = self._read_enabled(data)
        as_grade = self._read_as_grade(data, enabled)
        length_ratio = self._read_number(data, "length_ratio", "", float)
        sections = {
            name: self._read_section(data.get(name), name, settings_type)
            for name, settings_type in _SECTION_SETTINGS.items()
        }

        config = ChecksConfig(enabled=enabled, as_grade=as_grade, **sections)
        if length_ratio is not None:
            config = replace(config, length_ratio=length_ratio)
        return config, self.problems

    def _read_enabled(self, data: Mapping[str, Any]) -> frozenset[str]:
        if "enabled" in data and "disabled" in data:
            self._problem(
                "disabled",
                "`enabled` and `disabled` cannot both be set; keep one of them",
            )
            return DEFAULT_CONFIG.enabled
        if "enabled" in data:
            names = self._read_check_names(data["enabled"], "enabled", ALL_CHECKS)
            return frozenset(names) if names is not None else DEFAULT_CONFIG.enabled
        if "disabled" in data:
            names = self._read_check_names(data["disabled"], "disabled", ALL_CHECKS)
            if names is None:
                return DEFAULT_CONFIG.enabled
            return frozenset(ALL_CHECKS) - frozenset(names)
        return DEFAULT_CONFIG.enabled

    def _read_as_grade(
        self, data: Mapping[str, Any], enabled: frozenset[str]
    ) -> tuple[str, ...]:
        if "as_grade" not in data:
            return ()
        names = self._read_check_names(data["as_grade"], "as_grade", OUTPUT_CHECKS)
        if names is None:
            return ()
        kept = []
        for index, name in enumerate(names):
            if name not in enabled:
                self._problem(
                    f"as_grade.{index}",
                    f"check `{name}` is listed in `as_grade` but is disabled; "
                    "enable it or remove it from `as_grade`",
                )
                continue
            kept.append(name)
        return tuple(kept)

    def _read_check_names(
        self, value: Any, key: str, allowed: tuple[str, ...]
    ) -> list[str] | None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._problem(key, f"`{key}` must be a list of check names")
            return None
        names = []
        for index, name in enumerate(value):
            if name in allowed:
                names.append(name)
                continue
            where = f"{key}.{index}"
            if key == "as_grade" and name in PAIR_CHECKS:
                self._problem(
                    where,
                    f"`{name}` compares two outputs and cannot grade one; "
                    f"`as_grade` accepts: {', '.join(allowed)}",
                )
                continue
            self._problem(where, _unknown_message(f"check `{name}`", name, allowed))
        return names

    def _read_section(self, value: Any, name: str, settings_type: type) -> Any:
        default = settings_type()
        if value is None:
            return default
        if not isinstance(value, Mapping):
            self._problem(name, f"`{name}` must be a mapping of settings")
            return default
        known = tuple(f.name for f in fields(settings_type))
        self._reject_unknown_keys(value, known, name)
        updates = {}
        for key in known:
            default_value = getattr(default, key)
            number = self._read_number(value, key, name, type(default_value))
            if number is not None:
                updates[key] = number
        return replace(default, **updates)

    def _read_number(
        self, data: Mapping[str, Any], key: str, section: str, kind: type
    ) -> float | int | None:
        if key not in data:
            return None
        where = f"{section}.{key}" if section else key
        value = data[key]
        # bool is an int subclass; `min_repeats: true` is a mistake, not 1.
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or (kind is int and not isinstance(value, int)):
            expected = "a whole number" if kind is int else "a number"
            self._problem(where, f"`{where}` must be {expected}, got {value!r}")
            return None
        low, high, exclusive = _SETTING_RANGES[where]
        too_low = value <= low if exclusive else value < low
        if too_low or value > high or (isinstance(value, float) and math.isnan(value)):
            bound = f"greater than {low:g}" if exclusive else f"at least {low:g}"
            limit = "" if high == math.inf else f" and at most {high:g}"
            self._problem(where, f"`{where}` must be {bound}{limit}, got {value!r}")
            return None
        return kind(value)

    def _reject_unknown_keys(
        self, data: Mapping[str, Any], known: tuple[str, ...], section: str
    ) -> None:
        for key in data:
            if key in known:
                continue
            where = f"{section}.{key}" if section else str(key)
            label = f"`checks.{where}`"
            self._problem(
                where, _unknown_message(f"unknown key {label}", str(key), known)
            )

    def _problem(self, where: str, message: str) -> None:
        line, column = self._position(where)
        self.problems.append(Problem(self.path, line, column, message))

    def _position(self, where: str) -> tuple[int, int]:
        parts = where.split(".") if where else []
        while parts:
            position = self.positions.get(".".join(parts))
            if position is not None:
                return position
            parts.pop()
        return self.positions.get("", (1, 1))


def _unknown_message(subject: str, name: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        return f"{subject}; did you mean `{close[0]}`?"
    return f"{subject}; expected one of: {', '.join(choices)}"


def grade_from_checks(
    results: Mapping[str, CheckResult], config: ChecksConfig
) -> float | None:
    """Grade an output from the checks listed in `config.as_grade`.

    Returns None when `as_grade` is empty or none of its checks ran, 0.0 when
    any listed check flagged the output, and 1.0 otherwise.
    """
    ran = [results[name] for name in config.as_grade if name in results]
    if not ran:
        return None
    return 0.0 if any(result.flag for result in ran) else 1.0


# --- shared text helpers -------------------------------------------------------


def _clip(text: str, limit: int = EVIDENCE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


_fence_spans = language.fence_spans


# --- request facts (cached per prompt) -----------------------------------------


@dataclass(frozen=True)
class _RequestFacts:
    expected_language: str | None
    # Source of expected_language: "locale", "prompt" or "unknown".
    language_source: str
    prompt_scripts: frozenset[str]
    asks_for_json: bool
    has_options: bool
    decimal_comma: bool


# Languages that write 3,5 for three and a half.
_DECIMAL_COMMA_LANGUAGES = frozenset(
    "de es fr it pt nl pl tr id vi cs sk ro hu sv da nb nn fi ca ru uk bg el "
    "hr sr sl lt lv et".split()
)


# A language detected from a Latin, Cyrillic or Arabic-script prompt with fewer
# letters than this is not trusted: lingua's trigram mode is unreliable on
# short text. Scripts that name their language (Hangul, kana, ...) need no
# minimum.
_MIN_TRUSTED_PROMPT_LETTERS = 120


@functools.lru_cache(maxsize=4096)
def _request_facts(prompt_text: str, locale: str | None) -> _RequestFacts:
    prompt = html.unescape(prompt_text or "")
    prose = language.mask_non_prose(prompt)
    counts = language.script_counts(prose)
    scripts = frozenset(name for name, count in counts.items() if count >= 2)
    expected = language.normalize_locale(locale)
    source = "locale"
    if expected is None:
        expected = _trusted_prompt_language(prompt, counts)
        source = "prompt" if expected else "unknown"
    return _RequestFacts(
        expected_language=expected,
        language_source=source,
        prompt_scripts=scripts,
        asks_for_json=prompt_asks_for_json(prompt),
        has_options=_has_options(prompt),
        decimal_comma=expected in _DECIMAL_COMMA_LANGUAGES,
    )


def _trusted_prompt_language(prompt: str, counts: Counter[str]) -> str | None:
    detected = language.detect_language(prompt)
    if detected is None:
        return None
    own_script = language.language_scripts(detected)
    if own_script & language.SELF_NAMING_SCRIPTS:
        return detected
    letters = sum(counts[name] for name in own_script)
    return detected if letters >= _MIN_TRUSTED_PROMPT_LETTERS else None


def _facts(request: RequestInfo) -> _RequestFacts:
    return _request_facts(request.prompt_text, request.locale)


def _expects_json(request: RequestInfo) -> bool:
    if request.expects_json is not None:
        return request.expects_json
    return _facts(request).asks_for_json


# --- empty ---------------------------------------------------------------------


def check_empty(text: str) -> CheckResult:
    """Flag an output that is empty or only whitespace."""
    if text.strip():
        return PASSED
    evidence = "output is empty" if not text else "output is only whitespace"
    return CheckResult(True, evidence, (0, len(text)))


# --- refusal -------------------------------------------------------------------

_A = "['’]"  # ASCII or typographic apostrophe
_CANT = rf"(?:can{_A}?t|cannot|can not|won{_A}t|will not|am unable to|{_A}m unable to|am not able to|{_A}m not able to)"  # noqa: E501

# Phrases with which a model declines a request, per language. Each must be
# specific to declining (not to a caveat such as "I can't browse the web").
_REFUSAL_PATTERNS: dict[str, tuple[str, ...]] = {
    "en": (
        rf"\bI(?:{_A}m| am) (?:sorry|afraid),? (?:but )?I {_CANT}",
        rf"\bI {_CANT} (?:help|assist|provide|comply|fulfil|fulfill|create|write|"
        r"generate|share|support|engage|do that|do this|answer that|complete that)",
        rf"\bAs an AI(?: language model| model| assistant)?,? I (?:{_CANT}|don{_A}t|"
        r"do not)",
        r"\bI (?:must|have to) (?:respectfully )?decline",
        rf"\bSorry,? (?:but )?I {_CANT}",
    ),
    "de": (
        r"\b(?:Es tut mir leid|Entschuldigung|Leider),? aber ich (?:kann|darf) "
        r"(?:Ihnen |dir )?(?:dabei |damit |hierbei |diese[rn]? Anfrage )?nicht",
        r"\bIch kann (?:Ihnen |dir )?(?:dabei |damit |hierbei |hier |bei dieser "
        r"Anfrage )?nicht (?:helfen|behilflich sein|weiterhelfen)",
        r"\bIch kann (?:diese[rn]? Anfrage|das) nicht (?:erfüllen|beantworten|"
        r"bearbeiten|umsetzen)",
        # Verb-second order after a fronted phrase: "Es tut mir leid, aber bei
        # Forderungen nach Erstattungen kann ich nicht helfen."
        r"\b(?:Es tut mir leid|Leider),? (?:aber )?[^.\n]{0,80}? kann ich "
        r"(?:Ihnen |dir )?(?:dabei |damit |hierbei )?nicht (?:helfen|weiterhelfen|"
        r"behilflich sein)",
        r"\bAls (?:KI|künstliche Intelligenz|KI-Sprachmodell|Sprachmodell|"
        r"KI-Assistent)[^.\n]{0,30}? kann ich (?:nicht|keine)",
    ),
    "es": (
        r"\bLo siento,? (?:pero )?no (?:puedo|podré|me es posible)",
        r"\bNo puedo (?:ayudar|ayudarte|ayudarle|asistir|proporcionar|cumplir|"
        r"crear|escribir|generar|hacer eso|realizar)",
        r"\bComo (?:un )?(?:modelo de lenguaje|IA|inteligencia artificial|"
        r"asistente de IA)[^.\n]{0,30}?,? no (?:puedo|tengo)",
    ),
    "fr": (
        r"\b(?:Je suis désolée?|Désolée?),? (?:mais )?je ne (?:peux|suis pas en "
        r"mesure)",
        rf"\bJe ne (?:peux pas|suis pas en mesure d[e{_A[1:-1]}])\s*(?:vous |t{_A})?"
        r"(?:aider|assister|répondre|fournir|satisfaire|créer|écrire|générer)",
        rf"\bEn tant qu{_A}(?:IA|intelligence artificielle|assistant|modèle de "
        r"langage)[^.\n]{0,30}?,? je ne (?:peux|suis)",
    ),
    "pl": (
        r"\bPrzepraszam,? (?:ale )?nie (?:mogę|jestem w stanie)",
        r"\bNie (?:mogę|jestem w stanie) (?:ci |pani |panu )?(?:w tym )?(?:pomóc|"
        r"spełnić|udzielić|dostarczyć|napisać|stworzyć|wygenerować)",
        r"\bJako (?:model językowy|sztuczna inteligencja|AI|SI|asystent AI)"
        r"[^.\n]{0,30}?,? nie (?:mogę|jestem)",
    ),
    "tr": (
        r"\bÜzgünüm,? (?:ama|ancak|fakat)\b[^.\n]{0,60}?(?:yardımcı olamam|yapamam|"
        r"sağlayamam|veremem|yazamam|oluşturamam|yerine getiremem)",
        r"\byardımcı olamam",
        r"\bBir yapay zeka(?: dil modeli| asistanı)? olarak[^.\n]{0,60}?(?:yapamam|"
        r"sağlayamam|veremem|olamam|edemem)",
        r"\bbu (?:isteği|talebi) yerine getiremem",
    ),
    "id": (
        r"\bMaaf,? (?:tetapi |tapi |namun )?saya tidak (?:dapat|bisa|mampu)",
        r"\bsaya tidak (?:dapat|bisa|mampu) (?:membantu|memberikan|menulis|membuat|"
        r"memenuhi|menyediakan)",
        r"\bSebagai (?:model bahasa|AI|kecerdasan buatan|asisten AI)[^.\n]{0,30}?,? "
        r"saya tidak (?:dapat|bisa)",
    ),
    "vi": (
        r"\bXin lỗi,? (?:nhưng )?tôi không thể",
        r"\bTôi không thể (?:giúp|hỗ trợ|cung cấp|thực hiện|viết|tạo|đáp ứng)",
        r"\bLà một (?:mô hình ngôn ngữ|AI|trí tuệ nhân tạo|trợ lý AI)[^.\n]{0,30}?,? "
        r"tôi không thể",
    ),
    "ja": (
        r"申し訳(?:ありません|ございません|ない)(?:が|けれど|けど)[^。\n]{0,40}?"
        r"(?:お手伝い|お応え|ご対応|対応|ご協力|提供|お答え|ご要望にお応え)"
        r"(?:することは|は|が)?できません",
        r"(?:お手伝い|お応え|ご協力)(?:することは|は)?できません",
        r"AI(?:言語モデル|アシスタント)?として[^。\n]{0,30}?できません",
    ),
    "ko": (
        r"죄송(?:하지만|합니다만|합니다)[^.\n]{0,60}?(?:도와드릴|도움을 드릴|도와 드릴|"
        r"제공해 드릴|제공할|수행할|응할|들어드릴) 수 없",
        r"(?:도와드릴|도움을 드릴|도와 드릴) 수 없습니다",
        r"AI(?: 언어 모델| 어시스턴트)?로서[^.\n]{0,40}?수 없습니다",
    ),
    "zh": (
        r"(?:抱歉|对不起|很抱歉|非常抱歉)[，,]?\s*(?:但)?我(?:无法|不能|不可以)",
        r"我(?:无法|不能)(?:帮助|协助|提供|满足|完成|回答|为你|为您|帮你|帮您)",
        r"作为(?:一个|一名)?(?:AI|人工智能)(?:语言模型|助手)?[，,]\s*我(?:无法|不能)",
    ),
    "pt": (
        r"\b(?:Desculpe|Sinto muito|Lamento),? (?:mas )?não (?:posso|consigo|sou "
        r"capaz)",
        r"\bNão (?:posso|consigo) (?:ajudar|ajudá-lo|ajudá-la|fornecer|atender|"
        r"cumprir|criar|escrever|gerar)",
        r"\bComo (?:um )?(?:modelo de linguagem|IA|inteligência artificial|"
        r"assistente de IA)[^.\n]{0,30}?,? não (?:posso|consigo)",
    ),
    "it": (
        r"\bMi dispiace,? (?:ma )?non (?:posso|sono in grado)",
        r"\bNon (?:posso|sono in grado di) (?:aiutarti|aiutarla|aiutare|fornire|"
        r"soddisfare|creare|scrivere|generare)",
        r"\bCome (?:modello (?:di linguaggio|linguistico)|IA|intelligenza "
        r"artificiale|assistente (?:di )?IA)[^.\n]{0,30}?,? non (?:posso|sono)",
    ),
    "nl": (
        r"\bHet spijt me,? (?:maar )?(?:ik kan|dat kan ik)",
        r"\bSorry,? (?:maar )?ik kan (?:je|u) (?:hier |daar |hiermee |daarmee )?"
        r"niet (?:mee )?helpen",
        r"\bIk kan (?:je|u) (?:hier|daar|hiermee|daarmee|hierbij|daarbij) niet "
        r"(?:mee )?helpen",
        r"\bAls (?:AI|taalmodel|AI-taalmodel|AI-assistent)[^.\n]{0,30}?,? kan ik "
        r"(?:niet|geen)",
    ),
    "ru": (
        r"(?:Извините|Простите|К сожалению|Мне жаль),? (?:но )?я не (?:могу|в "
        r"состоянии|смогу)",
        r"Я не могу (?:помочь|выполнить|предоставить|создать|написать|ответить)",
        r"Как (?:языковая модель|ИИ|искусственный интеллект|ИИ-ассистент)"
        r"[^.\n]{0,30}?,? я не (?:могу|имею)",
    ),
    "ar": (
        r"(?:عذرًا|عذرا|آسف|أعتذر)[،,]?\s*(?:لكن(?:ني)?\s*)?(?:لا أستطيع|لا يمكنني|"
        r"لن أتمكن)",
        r"(?:لا أستطيع|لا يمكنني) (?:المساعدة|مساعدتك|تقديم|تلبية)",
        r"بصفتي (?:نموذج(?:ًا)? لغوي(?:ًا)?|ذكاء(?:ً)? اصطناعي(?:ًا)?)[^.\n]{0,30}?"
        r"(?:لا أستطيع|لا يمكنني)",
    ),
    "hi": (
        r"(?:माफ़ कीजिए|माफ कीजिए|क्षमा करें|मुझे खेद है)[,،]?\s*(?:लेकिन |परंतु )?"
        r"मैं[^।\n]{0,60}?नहीं कर (?:सकता|सकती)",
        r"मैं (?:इसमें |इस (?:में|अनुरोध में) )?(?:आपकी )?(?:मदद|सहायता) नहीं कर "
        r"(?:सकता|सकती)",
        r"एक (?:एआई|AI|भाषा मॉडल) के रूप में[^।\n]{0,40}?नहीं",
    ),
}


@functools.cache
def _refusal_pattern(languages: frozenset[str] | None) -> re.Pattern[str]:
    groups = [
        patterns
        for code, patterns in _REFUSAL_PATTERNS.items()
        if languages is None or code in languages
    ]
    alternatives = [f"(?:{pattern})" for group in groups for pattern in group]
    return re.compile("|".join(alternatives), re.IGNORECASE)


def check_refusal(
    text: str, settings: RefusalSettings, expected_language: str | None = None
) -> CheckResult:
    """Flag an answer that declines the request.

    The refusal phrase must start within `settings.head_chars` of the answer's
    start, and the answer must be at most `settings.max_chars` long: a long
    answer that opens by declining one part still helps with the rest. With
    an expected language, only its phrases and the English ones are tried.
    """
    stripped = text.strip()
    if not stripped or len(stripped) > settings.max_chars:
        return PASSED
    languages = None
    if expected_language in _REFUSAL_PATTERNS:
        languages = frozenset({"en", expected_language})
    offset = len(text) - len(text.lstrip())
    end = offset + settings.head_chars
    match = _refusal_pattern(languages).search(text, offset, end)
    if match is None:
        return PASSED
    return CheckResult(True, _clip(match.group()), match.span())


# --- truncated -----------------------------------------------------------------

_LENGTH_FINISH_REASONS = frozenset({"length", "max_tokens", "max_output_tokens"})

_OPEN_ANNOTATION = re.compile(r"<<[^<>\n]*\Z")
# "130,00" where the number uses comma thousands groups: the last group is cut.
_CUT_GROUP = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})*,\d{1,2}\Z")
_COMMA_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?![\d])")
_LIST_MARKER_ONLY = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s*\Z")
_HEADING = re.compile(r"^\s*(#{1,6})\s+\S")
_GSM8K_ANSWER_MARKER = re.compile(r"^\s*####\s+\S")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_TRAILING_OPERATOR = re.compile(r"(?:[\d)\]]\s*[-+*/×÷=]|\d\s+[x×])\s*\Z")
_CJK_CHAR = re.compile(
    f"[{language.SCRIPT_CLASSES['Han']}{language.SCRIPT_CLASSES['Kana']}"
    f"{language.SCRIPT_CLASSES['Hangul']}]"
)
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_NAME_LIKE = re.compile(r"://|@|[/\\_]|\w\.\w|\d")


def check_truncated(
    output: OutputInfo, settings: TruncatedSettings, decimal_comma: bool
) -> CheckResult:
    """Flag an output that was cut off.

    A recorded finish reason of `length`, or completion tokens reaching
    `max_tokens`, decides. Otherwise the end of the text must show an unclosed
    construct or a sentence cut mid-word; see docs/checks.md for the rules.
    """
    text = output.text or ""
    if output.finish_reason and output.finish_reason.lower() in _LENGTH_FINISH_REASONS:
        return CheckResult(True, f"finish_reason is {output.finish_reason}")
    if (
        output.max_tokens is not None
        and output.completion_tokens is not None
        and output.completion_tokens >= output.max_tokens
    ):
        return CheckResult(
            True,
            f"used {output.completion_tokens} of max_tokens {output.max_tokens}",
        )
    body = text.rstrip()
    if not body:
        return PASSED
    for rule in (_open_annotation, _open_fence, _cut_number_group):
        result = rule(body, decimal_comma)
        if result is not None:
            return result
    return _cut_last_line(body, settings)


# The end-of-text rules read only this many final characters.
_TAIL_CHARS = 300


def _open_annotation(body: str, decimal_comma: bool) -> CheckResult | None:
    offset = max(0, len(body) - _TAIL_CHARS)
    match = _OPEN_ANNOTATION.search(body, offset)
    if match is None:
        return None
    return CheckResult(True, f"ends inside {_clip(match.group())!r}", match.span())


def _open_fence(body: str, decimal_comma: bool) -> CheckResult | None:
    start = language.unclosed_fence(body)
    if start is None:
        return None
    return CheckResult(True, "ends inside an unclosed code block", (start, len(body)))


def _cut_number_group(body: str, decimal_comma: bool) -> CheckResult | None:
    if not body[-1].isdigit():
        return None
    match = _CUT_GROUP.search(body, max(0, len(body) - _TAIL_CHARS))
    if match is None:
        return None
    # In languages with a decimal comma "130,00" is a complete amount; there
    # the cut is only certain when the text groups other numbers with commas.
    others = _COMMA_GROUPED.findall(body[: match.start()])
    if decimal_comma and not others:
        return None
    return CheckResult(
        True, f"ends on a cut thousands group {match.group()!r}", match.span()
    )


def _cut_last_line(body: str, settings: TruncatedSettings) -> CheckResult:
    line_start = body.rfind("\n") + 1
    line = body[line_start:]
    span = (line_start, len(body))
    reason = _unfinished_line_reason(body, line, settings)
    if reason is None:
        return PASSED
    return CheckResult(True, f"{reason}: {_clip(line.strip(), 50)!r}", span)


def _unfinished_line_reason(
    body: str, line: str, settings: TruncatedSettings
) -> str | None:
    stripped = line.strip()
    if _is_answer_marker(body, stripped):
        return None
    if _LIST_MARKER_ONLY.match(stripped):
        return "ends on an empty list item"
    if stripped.count("**") % 2 == 1:
        return "ends inside bold text"
    if stripped.startswith("|") and not stripped.endswith("|"):
        return "ends inside a table row"
    if _is_open_heading(body, stripped):
        return "ends on a heading"
    if _has_unclosed_bracket(stripped):
        return "ends inside an open bracket"
    if stripped.endswith((",", ":", "、", "，", "：")) and not stripped.endswith("::"):
        return "ends on a comma or colon"
    if _TRAILING_OPERATOR.search(stripped) and not re.fullmatch(
        r"[-=*_]{3,}", stripped
    ):
        return "ends on an operator"
    if _is_cut_sentence(stripped, settings, body):
        return "ends mid-sentence"
    return None


# A heading longer than this, or ending with a full stop, is a code comment or
# a note rather than the title of a section that never came.
_MAX_HEADING_WORDS = 8


def _is_open_heading(body: str, line: str) -> bool:
    if not _HEADING.match(line):
        return False
    words = line.lstrip("#").split()
    return len(words) <= _MAX_HEADING_WORDS and not line.endswith(_TERMINAL_MARKS)


_TERMINAL_MARKS = (".", "!", "?", "。", "！", "？", "…")


def _is_answer_marker(body: str, line: str) -> bool:
    # GSM8K-style answers end on "#### 42", which is a heading in Markdown but
    # the final answer here: the only `####` line, with content after it.
    return bool(_GSM8K_ANSWER_MARKER.match(line)) and body.count("####") == 1


def _has_unclosed_bracket(line: str) -> bool:
    # Inline code may hold brackets that are not structure. Counting ignores
    # order, so ")(" passes; that shape does not end real answers.
    line = line[-_TAIL_CHARS:]
    if "`" in line:
        line = re.sub(r"`[^`]*`", "", line)
    return any(
        line.count(opener) > line.count(closer) for opener, closer in _OPENERS.items()
    )


def _is_cut_sentence(line: str, settings: TruncatedSettings, body: str = "") -> bool:
    if not line or not line[-1].isalpha():
        return False
    if line.startswith((">", "|", "<")):
        return False
    if "=" in line:
        # A calculation's result line ("4 × 18 € = 72 € a month") often ends
        # on a unit or a word, without a full stop.
        return False
    if _LIST_ITEM.match(line) and _list_without_full_stops(body):
        # Items of this list already end without punctuation, so the last one
        # doing the same is the list's style, not a cut.
        return False
    # List items and headings are judged like sentences: short ones ("- Apples",
    # "## Summary") pass, long ones ending mid-word do not.
    line = _LIST_ITEM.sub("", line.lstrip("#"), count=1)
    if _NAME_LIKE.search(line.rsplit(None, 1)[-1]):
        # A final URL, path, address or file name ends without punctuation.
        return False
    cjk = len(_CJK_CHAR.findall(line))
    if cjk:
        return cjk >= 2 * settings.min_sentence_words
    return len(line.split()) >= settings.min_sentence_words


def _list_without_full_stops(body: str) -> bool:
    """Whether an earlier item of the final list ends without terminal punctuation."""
    lines = body.rstrip().split("\n")[:-1]
    for line in reversed(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if not _LIST_ITEM.match(stripped):
            return False
        if not stripped.endswith(_TERMINAL_MARKS):
            return True
    return False


# --- repetitive ----------------------------------------------------------------

# Maximum length of the unit the end-of-text loop test looks for, in characters.
_MAX_LOOP_UNIT = 200
# A loop must cover at least this many characters, so "hahaha" is not one.
_MIN_LOOP_CHARS = 50


def check_repetitive(text: str, settings: RepetitiveSettings) -> CheckResult:
    """Flag a degenerate loop: a unit repeated at the end, a repeated line of
    prose, or a tail that compresses far better than text does."""
    body = text.rstrip()
    if not body:
        return PASSED
    loop = _end_loop(body, settings.min_repeats)
    if loop is not None:
        return loop
    line = _repeated_line(body, settings)
    if line is not None:
        return line
    return _compressible_tail(body, settings)


def _end_loop(body: str, min_repeats: int) -> CheckResult | None:
    last = body[-3:]
    limit = min(_MAX_LOOP_UNIT, len(body) // min_repeats)
    # A periodic tail repeats its last three characters one period back, so
    # only the earlier places of those three characters are candidate periods.
    position = len(body) - 3
    while True:
        position = body.rfind(last, max(0, len(body) - 3 - limit), position + 2)
        if position < 0:
            return None
        period = len(body) - 3 - position
        if period > limit:
            return None
        loop = _loop_at_period(body, period, min_repeats)
        if loop is not None:
            return loop


def _loop_at_period(body: str, period: int, min_repeats: int) -> CheckResult | None:
    window = body[-period * min_repeats :]
    if window[period:] != window[:-period]:
        return None
    unit = body[-period:]
    if not any(char.isalnum() for char in unit):
        return None
    start = _loop_start(body, period, len(body) - period * min_repeats)
    if len(body) - start < _MIN_LOOP_CHARS:
        return None
    repeats = (len(body) - start) // period
    evidence = f"{_clip(unit.strip() or unit, 40)!r} repeated {repeats} times"
    return CheckResult(True, evidence, (start, len(body)))


def _loop_start(body: str, period: int, start: int) -> int:
    # Walk back a whole unit at a time while the text keeps the same period,
    # then character by character.
    while (
        start >= period and body[start - period : start] == body[start : start + period]
    ):
        start -= period
    while start > 0 and body[start - 1] == body[start - 1 + period]:
        start -= 1
    return start


# Stripped from the start of a line before comparing lines, so that "96. **X**"
# and "97. **X**" count as the same line.
_LINE_PREFIX_CHARS = " \t-*+>#0123456789.)"


def _repeated_line(body: str, settings: RepetitiveSettings) -> CheckResult | None:
    prose = body
    for start, end in reversed(_fence_spans(body)):
        prose = prose[:start] + "\n" * body.count("\n", start, end) + prose[end:]
    minimum = settings.min_line_chars
    keys = [
        line.lstrip(_LINE_PREFIX_CHARS).replace("**", "").strip()
        for line in prose.split("\n")
        if len(line) >= minimum
    ]
    counts = Counter(key for key in keys if len(key) >= minimum)
    if not counts:
        return None
    key, repeats = counts.most_common(1)[0]
    if repeats < settings.min_repeats:
        return None
    evidence = f"line {_clip(key, 50)!r} appears {repeats} times"
    return CheckResult(True, evidence, _repeated_line_span(prose, key, minimum))


def _repeated_line_span(prose: str, key: str, minimum: int) -> tuple[int, int]:
    first = last = None
    offset = 0
    for line in prose.split("\n"):
        start, offset = offset, offset + len(line) + 1
        if len(line) < minimum:
            continue
        if line.lstrip(_LINE_PREFIX_CHARS).replace("**", "").strip() == key:
            first = start if first is None else first
            last = start + len(line)
    return (first or 0, last or len(prose))


# Compressing costs more than every other test. A tail whose words are mostly
# distinct (type-token ratio above this) is not a loop, so it is not
# compressed. Tails with few words (CJK, long tokens) are always compressed.
_MAX_LOOP_TYPE_TOKEN_RATIO = 0.4
_MIN_WORDS_FOR_RATIO = 100


def _compressible_tail(body: str, settings: RepetitiveSettings) -> CheckResult:
    tail = body[-settings.tail_chars :]
    data = tail.encode("utf-8")
    # Short texts carry zlib's fixed overhead and cannot reach a low ratio.
    if len(data) < 1000:
        return PASSED
    words = tail.split()
    distinct = len(set(words)) / len(words) if words else 0.0
    if len(words) >= _MIN_WORDS_FOR_RATIO and distinct > _MAX_LOOP_TYPE_TOKEN_RATIO:
        return PASSED
    ratio = len(zlib.compress(data)) / len(data)
    if ratio > settings.max_zlib_ratio:
        return PASSED
    evidence = f"last {len(tail)} characters compress to {ratio:.0%} of their size"
    unit = _most_common_line(tail)
    if unit:
        evidence += f"; most repeated line {_clip(unit, 40)!r}"
    return CheckResult(True, evidence, (len(body) - len(tail), len(body)))


def _most_common_line(text: str) -> str | None:
    counts = Counter(line.strip() for line in text.split("\n") if line.strip())
    if not counts:
        return None
    line, repeats = counts.most_common(1)[0]
    return line if repeats > 1 else None


# --- wrong language ------------------------------------------------------------

_ALPHABETIC_FOREIGN_MIN_LETTERS = 3
# Simplified Chinese characters that Japanese does not use (Japanese writes
# 這, 們, 個, 為, ... or has no such character). A Han sentence without kana
# in a Japanese answer that has several of them is Chinese.
_SIMPLIFIED_ONLY = re.compile(
    "[这们个为说时还进过让对从该给吗么样经现实发问题应关动开间长门东车见语话读认识计设请"
    "记论证试调转边达运选钱错队际难须顺预领风图广气变单价卖买红级约线组细终结统继续绍网"
    "简节据处务备复头报场块坏击划则刚创删办华协卫历压县听启员响团园围圆坚够夹奋妇宽导层"
    "岁岛带帮师库废张弹归录彻态总恶惯扩扫扬执扰择损换摄]"
)
_MIN_SIMPLIFIED_MARKERS = 2
_SENTENCE_SPLIT = re.compile(r"[。！？!?\n]")
# An end of an answer with fewer letters than this is too short to judge its
# language: lingua's trigram mode errs on short text (it reads a 75-letter
# English sentence about prices as Dutch).
_MIN_PROSE_LETTERS = 120
# A shorter answer is judged by script alone, from this many letters on.
_MIN_SCRIPT_LETTERS = 20
# Characters of prose read from each end of an answer for its language. Short
# ends keep a one-line frame ("Here is the dialogue in English:") decisive
# over the quoted material that follows it.
_END_SAMPLE_CHARS = 300


def check_wrong_language(
    text: str, request: RequestInfo, settings: WrongLanguageSettings
) -> CheckResult:
    """Flag prose that is not in the request's language, or that switches
    script part-way (a Korean answer continuing in Chinese).

    The request's language is its locale, else the prompt's detected language
    when a script names it or the prompt has 120 letters; without either, only
    a switch into a script the prompt does not use is judged. Code, inline
    code, URLs and math are ignored, and so are outputs that are JSON as a
    whole.
    """
    facts = _facts(request)
    expected = facts.expected_language
    stripped = text.strip()
    if not stripped or (expected is None and not facts.prompt_scripts):
        return PASSED
    if stripped[0] in "{[" and _parse_json(stripped) is not None:
        return PASSED
    prose = language.mask_non_prose(text)
    switch = _foreign_script_run(prose, expected, facts.prompt_scripts, settings)
    if switch is not None or expected is None:
        # Without a trusted language only a switch of script can be judged.
        return switch or PASSED
    if expected == "ja":
        chinese = _chinese_sentence(prose)
        if chinese is not None:
            return chinese
    return _dominant_language_mismatch(prose, expected, facts.language_source)


def _foreign_script_run(
    prose: str,
    expected: str | None,
    prompt_scripts: frozenset[str],
    settings: WrongLanguageSettings,
) -> CheckResult | None:
    if prose.isascii():
        return None
    allowed = {"Latin"} | prompt_scripts
    if expected is not None:
        allowed |= language.language_scripts(expected)
    foreign = [name for name in language.SCRIPT_CLASSES if name not in allowed]
    for run in language.script_runs(prose, foreign):
        if run.letters < _min_run_letters(run.script, expected, settings):
            continue
        sample = _clip(prose[run.start : run.end], 40)
        evidence = f"switches to {run.script} script: {sample!r}"
        return CheckResult(True, evidence, (run.start, run.end))
    return None


def _min_run_letters(
    script: str, expected: str | None, settings: WrongLanguageSettings
) -> int:
    if script == "Han" and expected == "ko":
        return settings.min_hanja_run
    if script in ("Han", "Kana", "Hangul"):
        # A single CJK character is a word; in a Chinese answer one kana can
        # be a brand name, so require two there.
        return 2 if expected == "zh" and script == "Kana" else 1
    # Alphabets need a word, not a lone symbol such as π or α.
    return _ALPHABETIC_FOREIGN_MIN_LETTERS


def _chinese_sentence(prose: str) -> CheckResult | None:
    if _SIMPLIFIED_ONLY.search(prose) is None:
        return None
    kana = language.script_letters("Kana")
    offset = 0
    for piece in _SENTENCE_SPLIT.split(prose):
        start, offset = offset, offset + len(piece) + 1
        markers = len(_SIMPLIFIED_ONLY.findall(piece))
        if markers < _MIN_SIMPLIFIED_MARKERS or kana.search(piece):
            continue
        evidence = f"switches to Chinese: {_clip(piece, 40)!r}"
        lead = len(piece) - len(piece.lstrip())
        return CheckResult(True, evidence, (start + lead, start + len(piece.rstrip())))
    return None


def _dominant_language_mismatch(prose: str, expected: str, source: str) -> CheckResult:
    # Only a wrong language at both ends counts: a wrong language at one end
    # is mostly quoted material (an English dialogue the user asked for,
    # references with English titles).
    head, tail = language.prose_sample(prose, _END_SAMPLE_CHARS)
    first = _sample_language(head, expected, from_end=False)
    if first is None or language.same_language(first, expected):
        return PASSED
    last = first if tail == head else _sample_language(tail, expected, from_end=True)
    if last is None or language.same_language(last, expected):
        return PASSED
    found = first if first == last else f"{first} and {last}"
    origin = "the locale" if source == "locale" else "the prompt"
    return CheckResult(True, f"answer is in {found}, expected {expected} from {origin}")


def _sample_language(sample: str, expected: str, *, from_end: bool) -> str | None:
    counts = language.script_counts(sample)
    letters = sum(counts.values())
    expected_scripts = language.language_scripts(expected)
    if letters < _MIN_PROSE_LETTERS:
        # Too short for the language tests, but a short answer with none of
        # the expected script (English for a Japanese request) is still wrong.
        short_foreign = (
            letters >= _MIN_SCRIPT_LETTERS
            and "Latin" not in expected_scripts
            and not any(counts[name] for name in expected_scripts)
        )
        if not short_foreign:
            return None
        chars = language.SAMPLE_CHARS
        found = language.detect_sample_language(sample, counts, sample[:chars])
        return found or "another language"
    if "Latin" not in expected_scripts:
        # A real share of the expected script means the sample is in the
        # expected language, because the script-run scan has already found any
        # switch of script inside it. CJK characters weigh about a word each.
        own = sum(counts[name] for name in expected_scripts)
        weight = 3 if expected_scripts & {"Han", "Kana", "Hangul"} else 1
        if own * weight >= 0.25 * letters:
            return expected
    elif _function_words_lead(sample, expected):
        return expected
    chars = language.SAMPLE_CHARS
    lingua_sample = sample[-chars:] if from_end else sample[:chars]
    return language.detect_sample_language(sample, counts, lingua_sample)


def _function_words_lead(sample: str, expected: str) -> bool:
    # When the expected language's function words outnumber every other
    # language's, the sample is not in another language. This spares the
    # slower lingua call for most outputs.
    hits = language.function_word_hits(sample)[0].most_common(2)
    if not hits or hits[0][0] != expected:
        return False
    return len(hits) == 1 or hits[0][1] > hits[1][1]


# --- invalid JSON --------------------------------------------------------------

# Phrases that ask for a JSON answer. Quoted material in the prompt (code
# blocks, triple-quoted strings) is removed first, because a prompt that
# quotes another prompt asking for JSON does not itself ask for JSON.
_JSON_REQUEST = re.compile(
    "|".join(
        (
            r"\b(?:return|respond|reply|answer|output|give|provide|format)\w*\b[^.\n]"
            r"{0,40}?\b(?:in|as|with|using)\s+(?:a\s+)?(?:valid\s+)?json\b",
            r"\b(?:valid|only|strict|raw)\s+json\b",
            r"\bjson\s+(?:only|object|format)\b(?!\s+file)",
            r"\bin\s+(?:the\s+)?json\s+format\b",
            r"\bim\s+JSON-Format\b|\bals\s+JSON\b|\bgültige[nsm]?\s+JSON\b",
            r"\ben\s+formato\s+JSON\b|\bcomo\s+JSON\b|\bJSON\s+válido\b",
            r"\bau\s+format\s+JSON\b|\bJSON\s+valide\b|\ben\s+JSON\b",
            r"\bw\s+(?:prawidłowym\s+)?formacie\s+JSON\b|\bjako\s+JSON\b"
            r"|\bprawidłow\w*\s+JSON\b",
            r"\bJSON\s+formatında\b|\bgeçerli\s+bir\s+json\b|\bjson\s+olarak\b",
            r"\bdalam\s+format\s+JSON\b|\bjson\s+yang\s+valid\b|\bsebagai\s+JSON\b",
            r"\bđịnh\s+dạng\s+JSON\b|\bjson\s+hợp\s+lệ\b|\bdưới\s+dạng\s+JSON\b",
            r"JSON\s*形式で|有効な\s*JSON|JSON\s*のみ|JSON\s*で(?:返|出力|回答)",
            r"JSON\s*형식으로|유효한\s*JSON|JSON\s*만",
            r"(?:以|用|按)\s*JSON\s*格式|(?:返回|输出)\s*JSON|有效的?\s*JSON"
            r"|(?:只|仅)返回[^。\n]{0,20}JSON",
            r"\bem\s+formato\s+JSON\b|\bJSON\s+válido\b",
            r"\bin\s+formato\s+JSON\b|\bJSON\s+valido\b|\bcome\s+JSON\b",
            r"\bin\s+JSON-formaat\b|\bgeldige\s+JSON\b",
            r"в\s+формате\s+JSON|(?:валидн|корректн)\w*\s+JSON|в\s+виде\s+JSON",
        )
    ),
    re.IGNORECASE,
)
_QUOTED_BLOCKS = (
    re.compile(r'"""[\s\S]*?(?:"""|\Z)'),
    re.compile(r"'''[\s\S]*?(?:'''|\Z)"),
    re.compile(r"“”“[\s\S]*?(?:”””|\Z)"),
)


def prompt_asks_for_json(prompt: str) -> bool:
    """Return True when the prompt's own instructions ask for a JSON answer."""
    if "json" not in prompt.lower():
        return False
    text = language.mask_non_prose(html.unescape(prompt))
    for pattern in _QUOTED_BLOCKS:
        text = pattern.sub(" ", text)
    return _JSON_REQUEST.search(text) is not None


_JSON_FENCE = re.compile(
    r"^[ \t]*```[ \t]*(json|JSON)?[ \t]*\n(.*?)^[ \t]*```", re.S | re.M
)


def extract_json(text: str) -> tuple[Any, tuple[int, int]] | None:
    """Return the JSON value an answer gives, with its span, or None.

    The JSON is the first fenced block tagged `json`, or untagged and starting
    with `{` or `[`. Without one it is the whole stripped text, and when that
    does not start like JSON, the span from the first `{` or `[` to the last
    `}` or `]`. Parsing is strict JSON, so single quotes, comments and
    trailing commas fail.
    """
    candidate = _json_candidate(text)
    if candidate is None:
        return None
    value = _parse_json(text[candidate[0] : candidate[1]])
    return None if value is None else (value[0], candidate)


def _json_candidate(text: str) -> tuple[int, int] | None:
    for match in _JSON_FENCE.finditer(text):
        body = match.group(2)
        if match.group(1) or body.lstrip().startswith(("{", "[")):
            return match.span(2)
    stripped = text.strip()
    if not stripped:
        return None
    start = len(text) - len(text.lstrip())
    if stripped[0] in "{[" or _parse_json(stripped) is not None:
        return start, start + len(stripped)
    first = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    last = max(text.rfind("}"), text.rfind("]"))
    if first < 0 or last <= first:
        return None
    return first, last + 1


def _parse_json(text: str) -> tuple[Any] | None:
    # Wrapped in a tuple so that a JSON `null` is not mistaken for failure.
    try:
        return (json.loads(text),)
    except (ValueError, RecursionError):
        return None


def check_invalid_json(text: str, request: RequestInfo) -> CheckResult:
    """Flag an output that does not contain parseable JSON when JSON was asked for."""
    if not _expects_json(request):
        return PASSED
    candidate = _json_candidate(text)
    if candidate is None:
        return CheckResult(True, "no JSON found in the output", (0, len(text)))
    body = text[candidate[0] : candidate[1]]
    try:
        json.loads(body)
    except RecursionError:
        return CheckResult(True, "JSON nests too deeply to parse", candidate)
    except ValueError as error:
        evidence = f"invalid JSON: {error}"
        position = getattr(error, "pos", None)
        if position is not None:
            at = candidate[0] + position
            return CheckResult(True, evidence, (at, min(at + 1, candidate[1])))
        return CheckResult(True, evidence, candidate)
    return PASSED


# --- per-output entry point ------------------------------------------------------


def check_output(
    output: OutputInfo, request: RequestInfo, config: ChecksConfig = DEFAULT_CONFIG
) -> dict[str, CheckResult]:
    """Run the enabled per-output checks on one output.

    Returns an empty dict when the output has no text recorded (`text` None).
    """
    text = output.text
    if text is None:
        return {}
    runners: dict[str, Callable[[], CheckResult]] = {
        "empty": lambda: check_empty(text),
        "refusal": lambda: check_refusal(
            text, config.refusal, _facts(request).expected_language
        ),
        "truncated": lambda: check_truncated(
            output, config.truncated, _facts(request).decimal_comma
        ),
        "repetitive": lambda: check_repetitive(text, config.repetitive),
        "wrong_language": lambda: check_wrong_language(
            text, request, config.wrong_language
        ),
        "invalid_json": lambda: check_invalid_json(text, request),
    }
    return {name: run() for name, run in runners.items() if name in config.enabled}


# --- pairwise: answer mismatch ---------------------------------------------------

# Digits with thousands separators or a decimal point; never spans a line.
_NUMBER = r"[-−]?\$?\d(?:[\d,.\u00a0\u202f]*\d)?"
_NUMBER_RE = re.compile(_NUMBER)
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}")
_ANSWER_MARKER = re.compile(r"^[ \t]*####[ \t]*(.*)$", re.M)
_ANSWER_PHRASE = re.compile(
    r"(?:final answer|the answer is|answer:|die Antwort (?:ist|lautet)|"
    r"la respuesta (?:es|correcta es)|la réponse (?:est|finale est)|"
    r"odpowiedź(?: to)?:?|cevap:?|jawaban(?:nya)? (?:adalah)?|đáp án (?:là)?|"
    r"答案(?:是|为)?[:：]?|"
    r"答えは|정답은|resposta (?:é|final)|la risposta è|het antwoord is|ответ:?)"
    r"\s*[:：]?\s*\**\s*(" + _NUMBER + r")",
    re.IGNORECASE,
)
_OPTION_ANSWER = re.compile(
    r"(?:answer(?:\s+is|\s+would\s+be)?|Antwort(?:\s+ist|\s+lautet)?|"
    r"respuesta(?:\s+(?:correcta\s+)?es)?|réponse(?:\s+(?:correcte\s+)?est)?|"
    r"odpowiedź(?:\s+to)?|cevap|jawaban(?:nya)?(?:\s+adalah)?|đáp án(?:\s+là)?|"
    r"答案(?:是|为)?|答えは|정답은)"
    # The letter itself is case-sensitive, so "the answer is a bit" is no "A".
    r"\s*[:：]?\s*\**\(?((?-i:[A-D]))\)?(?![A-Za-z])",
    re.IGNORECASE,
)
_OPTION_ALONE = re.compile(r"^\W*\(?([A-D])\)?(?:[.):]|\s*$)")
_PROMPT_OPTIONS = re.compile(r"(?:^|\n)[ \t]*\(?([A-D])[.)][ \t]+\S")
_FRACTION = re.compile(r"^\\[dt]?frac\{(-?\d+)\}\{(-?\d+)\}$")


@dataclass(frozen=True)
class FinalAnswer:
    """A final answer extracted from an output, with its normalised value."""

    kind: str  # "number", "option", "json" or "expression"
    value: Any
    shown: str
    span: tuple[int, int]


def _has_options(prompt: str) -> bool:
    letters = set(_PROMPT_OPTIONS.findall(prompt))
    return len(letters) >= 2


def extract_final_answer(
    text: str, *, options: bool, expects_json: bool, decimal_comma: bool
) -> FinalAnswer | None:
    """Extract the final answer of an output, or None when it has none.

    For JSON requests the answer is the parsed JSON value, and for
    multiple-choice prompts an option letter. Otherwise it is a number, taken
    from the `####` marker, `\\boxed{}`, an "the answer is" phrase, or the
    last number on the last line. Then an output that looks cut off has none.
    """
    if expects_json:
        found = extract_json(text)
        if found is None:
            return None
        value, span = found
        return FinalAnswer(
            "json", value, _clip(json.dumps(value, ensure_ascii=False)), span
        )
    if options:
        return _option_answer(text)
    # A cut-off output has no final answer, only the last fragment it wrote.
    cut = check_truncated(OutputInfo(text), DEFAULT_TRUNCATED, decimal_comma)
    if cut.flag:
        return None
    return _number_answer(text, decimal_comma)


def _option_answer(text: str) -> FinalAnswer | None:
    stripped = text.strip()
    match = _OPTION_ALONE.match(stripped) if len(stripped) <= 3 else None
    offset = len(text) - len(text.lstrip())
    if match is None:
        matches = list(_OPTION_ANSWER.finditer(text))
        if not matches:
            return None
        match, offset = matches[-1], 0
    letter = match.group(1).upper()
    span = (offset + match.start(1), offset + match.end(1))
    return FinalAnswer("option", letter, letter, span)


# Final answers are looked for in this many closing characters of an output.
_ANSWER_TAIL_CHARS = 1500


def _number_answer(text: str, decimal_comma: bool) -> FinalAnswer | None:
    offset = max(0, len(text) - _ANSWER_TAIL_CHARS)
    tail = text[offset:]
    for finder in (_marker_answer, _boxed_answer, _phrase_answer, _last_line_answer):
        found = finder(tail, decimal_comma)
        if found is not None:
            start, end = found.span
            return replace(found, span=(start + offset, end + offset))
    return None


def _marker_answer(text: str, decimal_comma: bool) -> FinalAnswer | None:
    if "####" not in text:
        return None
    markers = list(_ANSWER_MARKER.finditer(text))
    if not markers:
        return None
    marker = markers[-1]
    number = _NUMBER_RE.search(marker.group(1))
    if number is None:
        return None
    start = marker.start(1) + number.start()
    return _number(number.group(), (start, start + len(number.group())), decimal_comma)


def _boxed_answer(text: str, decimal_comma: bool) -> FinalAnswer | None:
    if "\\boxed" not in text:
        return None
    boxes = list(_BOXED.finditer(text))
    if not boxes:
        return None
    box = boxes[-1]
    content = box.group(1).strip()
    fraction = _FRACTION.match(content.replace(" ", ""))
    if fraction and int(fraction.group(2)) != 0:
        value = Decimal(fraction.group(1)) / Decimal(fraction.group(2))
        return FinalAnswer("number", _normal_decimal(value), content, box.span(1))
    number = _number(content, box.span(1), decimal_comma)
    if number is not None and _NUMBER_RE.fullmatch(content.replace("\\$", "$")):
        return number
    return FinalAnswer("expression", re.sub(r"\s+", "", content), content, box.span(1))


# Words of which one must occur before the answer-phrase pattern is tried;
# plain substring tests are far cheaper than the case-insensitive pattern.
_ANSWER_WORDS = (
    "answer", "antwort", "respuesta", "réponse", "odpowied", "cevap", "jawaban",
    "đáp án", "答案", "答え", "정답", "resposta", "risposta", "antwoord", "ответ",
)  # fmt: skip
# The answer phrase is looked for in this many closing characters.
_PHRASE_TAIL_CHARS = 600


def _phrase_answer(text: str, decimal_comma: bool) -> FinalAnswer | None:
    offset = max(0, len(text) - _PHRASE_TAIL_CHARS)
    lowered = text[offset:].lower()
    if not any(word in lowered for word in _ANSWER_WORDS):
        return None
    phrases = list(_ANSWER_PHRASE.finditer(text, offset))
    if not phrases:
        return None
    phrase = phrases[-1]
    return _number(phrase.group(1), phrase.span(1), decimal_comma)


# An amount with a currency sign on the last line is the answer even when a
# count follows it ("it costs $18.00 for 6 pounds").
_LAST_LINE_CHARS = 300
_CURRENCY_AMOUNT = re.compile(r"[$€£¥]\s?(\d(?:[\d,.]*\d)?)")


def _last_line_answer(text: str, decimal_comma: bool) -> FinalAnswer | None:
    body = text.rstrip()
    line_start = body.rfind("\n") + 1
    # Only the end of the last line is read: the last line of a runaway output
    # can hold thousands of numbers.
    start = max(line_start, len(body) - _LAST_LINE_CHARS)
    amounts = list(_CURRENCY_AMOUNT.finditer(body, start))
    if amounts:
        amount = amounts[-1]
        return _number(amount.group(1), amount.span(1), decimal_comma)
    numbers = list(_NUMBER_RE.finditer(body, start))
    if not numbers:
        return None
    number = numbers[-1]
    return _number(number.group(), number.span(), decimal_comma)


def _number(
    shown: str, span: tuple[int, int], decimal_comma: bool
) -> FinalAnswer | None:
    value = parse_number(shown, decimal_comma=decimal_comma)
    if value is None:
        return None
    return FinalAnswer("number", value, shown.strip(), span)


def parse_number(text: str, *, decimal_comma: bool = False) -> Decimal | None:
    """Parse a number as written in prose: `1,000`, `20.00`, `$5`, `1.234,5`.

    Commas followed by groups of three digits are thousands separators. With
    `decimal_comma`, a single comma followed by other than three digits is
    the decimal point, and dots between groups of three are thousands
    separators. Trailing zeros are dropped, so 20.00 equals 20.
    """
    cleaned = text.strip().replace("−", "-").replace("$", "").replace(" ", "")
    cleaned = cleaned.replace("\u00a0", "").replace("\u202f", "").rstrip(".,")
    if not cleaned or not re.fullmatch(r"-?[\d.,]+", cleaned):
        return None
    if decimal_comma and re.fullmatch(r"-?\d{1,3}(?:\.\d{3})+(?:,\d+)?", cleaned):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    elif decimal_comma and re.fullmatch(r"-?\d+,\d+", cleaned):
        cleaned = cleaned.replace(",", ".")
    try:
        return _normal_decimal(Decimal(cleaned))
    except InvalidOperation:
        return None


def _normal_decimal(value: Decimal) -> Decimal:
    value = value.normalize()
    # normalize() writes 100 as 1E+2; quantize back to an integer exponent.
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value


def check_answer_mismatch(
    baseline: str, other: str, request: RequestInfo
) -> CheckResult:
    """Flag two outputs whose final answers differ; both must have one."""
    facts = _facts(request)
    options = dict(
        options=facts.has_options,
        expects_json=_expects_json(request),
        decimal_comma=facts.decimal_comma,
    )
    first = extract_final_answer(baseline, **options)
    second = extract_final_answer(other, **options)
    if first is None or second is None:
        return PASSED
    if first.kind == second.kind and first.value == second.value:
        return PASSED
    evidence = f"baseline {first.shown!r}, other {second.shown!r}"
    return CheckResult(True, evidence, second.span)


# --- pairwise: format and length -------------------------------------------------

_TABLE_SEPARATOR = re.compile(
    r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$", re.M
)
_TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$", re.M)
_LIST_ITEM_LINE = re.compile(r"^[ \t]*(?:[-*+•]|\d+[.)])[ \t]+\S", re.M)
# Share of non-empty lines (outside code) that must be list items or table
# rows, and share of characters inside code blocks, for those formats.
_LIST_SHARE = 0.5
_TABLE_SHARE = 0.5
_CODE_SHARE = 0.6


def classify_format(text: str) -> str:
    """Classify an output as `json`, `code`, `table`, `list` or `prose`.

    `json`: the whole output, or a lone fenced block, parses as JSON. `code`:
    at least 60% of the characters are in fenced code blocks. `table` and
    `list`: at least half of the non-empty lines outside code are table rows
    (with a separator row present) or list items. Otherwise `prose`.
    """
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and _parse_json(stripped) is not None:
        return "json"
    blocks = _fence_spans(text)
    if len(blocks) == 1 and _is_lone_json_block(text, blocks[0]):
        return "json"
    in_code = sum(end - start for start, end in blocks)
    if stripped and in_code >= _CODE_SHARE * len(stripped):
        return "code"
    prose = _without_blocks(text, blocks)
    lines = len([line for line in prose.split("\n") if line.strip()])
    if not lines:
        return "code" if blocks else "prose"
    table_rows = len(_TABLE_ROW.findall(prose))
    if table_rows >= _TABLE_SHARE * lines and _TABLE_SEPARATOR.search(prose):
        return "table"
    if len(_LIST_ITEM_LINE.findall(prose)) >= _LIST_SHARE * lines:
        return "list"
    return "prose"


def _is_lone_json_block(text: str, block: tuple[int, int]) -> bool:
    found = extract_json(text)
    if found is None:
        return False
    outside = (text[: block[0]] + text[block[1] :]).strip()
    return len(outside) <= 0.2 * len(text.strip())


def _without_blocks(text: str, blocks: list[tuple[int, int]]) -> str:
    for start, end in reversed(blocks):
        text = text[:start] + text[end:]
    return text


def check_format_mismatch(baseline: str, other: str) -> CheckResult:
    """Flag two outputs of different formats (prose, list, json, code, table)."""
    if not baseline.strip() or not other.strip():
        return PASSED
    first, second = classify_format(baseline), classify_format(other)
    if first == second:
        return PASSED
    return CheckResult(True, f"baseline is {first}, other is {second}")


def check_length_ratio(baseline: str, other: str, threshold: float) -> CheckResult:
    """Flag two non-empty outputs whose character lengths differ by more than
    `threshold` times."""
    first, second = len(baseline.strip()), len(other.strip())
    if not first or not second:
        return PASSED
    ratio = max(first, second) / min(first, second)
    if ratio <= threshold:
        return PASSED
    longer = "other" if second > first else "baseline"
    evidence = f"{longer} is {ratio:.1f}× longer ({first} vs {second} characters)"
    return CheckResult(True, evidence)


def check_pair(
    baseline: OutputInfo,
    other: OutputInfo,
    request: RequestInfo,
    config: ChecksConfig = DEFAULT_CONFIG,
) -> dict[str, CheckResult]:
    """Run the enabled pairwise checks on the baseline and another output.

    Returns an empty dict when either output has no text recorded.
    """
    if baseline.text is None or other.text is None:
        return {}
    first, second = baseline.text, other.text
    runners: dict[str, Callable[[], CheckResult]] = {
        "answer_mismatch": lambda: check_answer_mismatch(first, second, request),
        "format_mismatch": lambda: check_format_mismatch(first, second),
        "length_ratio": lambda: check_length_ratio(first, second, config.length_ratio),
    }
    return {name: run() for name, run in runners.items() if name in config.enabled}


# --- cache -------------------------------------------------------------------------


class CheckCache:
    """Cache of check results, so that re-running checks after a policy edit is free.

    An output's key is a digest of its text, its finish reason and token
    counts, the prompt, locale and `expects_json`, and the config fingerprint.
    A pair's key contains both outputs' keys. The oldest entries are dropped
    beyond `max_entries`. Safe to share between threads.
    """

    def __init__(self, max_entries: int = 100_000):
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple, dict[str, CheckResult]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def check_output(
        self, output: OutputInfo, request: RequestInfo, config: ChecksConfig
    ) -> dict[str, CheckResult]:
        """Return `check_output(output, request, config)`, computing it on a miss."""
        key = (
            "output",
            _output_key(output),
            _request_key(request),
            config.fingerprint(),
        )
        return self._get(key, lambda: check_output(output, request, config))

    def check_pair(
        self,
        baseline: OutputInfo,
        other: OutputInfo,
        request: RequestInfo,
        config: ChecksConfig,
    ) -> dict[str, CheckResult]:
        """Return `check_pair(...)` for the same arguments, computing it on a miss."""
        key = (
            "pair",
            _output_key(baseline),
            _output_key(other),
            _request_key(request),
            config.fingerprint(),
        )
        return self._get(key, lambda: check_pair(baseline, other, request, config))

    def _get(self, key: tuple, compute: Callable[[], dict[str, CheckResult]]):
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return dict(cached)
            self.misses += 1
        result = compute()
        with self._lock:
            self._entries[key] = result
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return dict(result)


def _digest(text: str | None) -> bytes | None:
    if text is None:
        return None
    return hashlib.blake2b(
        text.encode("utf-8", "surrogatepass"), digest_size=16
    ).digest()


def _output_key(output: OutputInfo) -> tuple:
    return (
        _digest(output.text),
        output.finish_reason,
        output.max_tokens,
        output.completion_tokens,
    )


def _request_key(request: RequestInfo) -> tuple:
    return (_digest(request.prompt_text), request.locale, request.expects_json)
