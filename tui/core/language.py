"""Language and script detection for prompts and model outputs.

`detect_language` decides in three steps, cheapest first:

1. Scripts that identify a language on their own: Hangul is Korean, Kana with
   Han is Japanese, Han alone is Chinese, Thai, Greek, Hebrew and a few more.
2. For Latin script, Vietnamese letters, then a count of function words that
   occur in only one supported language's list ("und", "dans", "się", ...).
3. Otherwise lingua-language-detector on a bounded sample of the prose: the
   first and the last `SAMPLE_CHARS` characters.

Code blocks, inline code, URLs and LaTeX math are masked before any step,
because identifiers and formulas are not in the user's language.

The lingua detector is built once, on first use, for `SUPPORTED_LANGUAGES` in
low-accuracy mode, and loads each language model lazily. The numbers behind
that choice (build time, memory, accuracy per mode) are in docs/checks.md.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

# ISO 639-1 codes lingua may return. Restricting the set keeps memory small and
# avoids close-neighbour confusions that the full set makes on this kind of
# text, such as Indonesian read as Malay.
SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "en", "de", "es", "fr", "it", "pt", "nl", "pl", "tr", "id", "vi", "cs",
    "sk", "ro", "hu", "sv", "da", "nb", "fi", "ca", "ru", "uk", "bg", "ar",
    "fa", "hi", "ja", "ko", "zh", "el", "he", "th",
)  # fmt: skip

# Characters of prose sampled from each end of a text for lingua.
SAMPLE_CHARS = 400

# Fewer letters than this and detection returns None.
MIN_LETTERS = 8

# Languages treated as the same when comparing a request with an answer,
# because detectors cannot separate them reliably on short text.
_EQUIVALENT_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"id", "ms"}),
    frozenset({"nb", "nn", "no"}),
    frozenset({"hr", "bs", "sr"}),
)

# Three-letter and legacy codes seen in locale strings, mapped to ISO 639-1.
_LEGACY_CODES = {
    "iw": "he", "in": "id", "ji": "yi", "no": "nb", "fil": "tl", "eng": "en",
    "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "por": "pt",
    "ita": "it", "nld": "nl", "dut": "nl", "pol": "pl", "tur": "tr", "ind": "id",
    "vie": "vi", "jpn": "ja", "kor": "ko", "zho": "zh", "chi": "zh", "cmn": "zh",
    "yue": "zh", "rus": "ru", "ukr": "uk", "ara": "ar", "hin": "hi", "ces": "cs",
    "cze": "cs", "ron": "ro", "rum": "ro", "swe": "sv", "dan": "da", "nob": "nb",
    "fin": "fi", "hun": "hu", "ell": "el", "gre": "el", "heb": "he", "tha": "th",
    "fas": "fa", "per": "fa", "cat": "ca", "slk": "sk", "slo": "sk", "bul": "bg",
}  # fmt: skip

_LOCALE_RE = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*$")


def normalize_locale(locale: str | None) -> str | None:
    """Return the ISO 639-1 language of a locale string, or None if it has none.

    `pt-BR`, `zh-Hans`, `en_US` and `ZH` give `pt`, `zh`, `en` and `zh`. Legacy
    and three-letter codes that commonly appear in locale strings (`iw`, `in`,
    `deu`, `zho`) are mapped; `no` becomes `nb`.
    """
    if not locale:
        return None
    match = _LOCALE_RE.match(locale)
    if match is None:
        return None
    code = match.group(1).lower()
    code = _LEGACY_CODES.get(code, code)
    if len(code) != 2:
        return None
    return code


def same_language(first: str | None, second: str | None) -> bool:
    """Return True when two ISO 639-1 codes name the same language or close kin."""
    if first is None or second is None:
        return False
    if first == second:
        return True
    return any(first in group and second in group for group in _EQUIVALENT_GROUPS)


# --- scripts ---------------------------------------------------------------

# Unicode ranges per script, as regex character-class bodies. Only letters are
# listed: digits, punctuation and symbols of these blocks are left out so they
# never count as a switch of script.
SCRIPT_CLASSES: dict[str, str] = {
    "Latin": "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff",
    "Han": "\u3005\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f",
    "Kana": "\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "Hangul": "\u1100-\u11ff\u3131-\u318e\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff",
    "Cyrillic": "\u0400-\u0481\u048a-\u052f",
    "Greek": "\u0386\u0388-\u03ff\u1f00-\u1fff",
    "Arabic": "\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff"
    "\ufb50-\ufdff\ufe70-\ufefc",
    "Hebrew": "\u05d0-\u05ea\u05f0-\u05f2\ufb1d-\ufb4f",
    "Devanagari": "\u0900-\u0963\u0971-\u097f",
    "Bengali": "\u0980-\u09e3\u09f0-\u09f1",
    "Thai": "\u0e01-\u0e3a\u0e40-\u0e4e",
    "Georgian": "\u10a0-\u10ff",
    "Armenian": "\u0531-\u0587",
    "Tamil": "\u0b80-\u0be5",
    "Telugu": "\u0c00-\u0c65",
    "Gujarati": "\u0a80-\u0ae5",
    "Gurmukhi": "\u0a00-\u0a65",
}

_SCRIPT_LETTERS = {
    name: re.compile(f"[{body}]+") for name, body in SCRIPT_CLASSES.items()
}

# Scripts that belong to a single language in practice, so counting them is
# enough to name the language.
_SCRIPT_LANGUAGE = {
    "Hangul": "ko",
    "Thai": "th",
    "Greek": "el",
    "Hebrew": "he",
    "Georgian": "ka",
    "Armenian": "hy",
    "Bengali": "bn",
    "Tamil": "ta",
    "Telugu": "te",
    "Gujarati": "gu",
    "Gurmukhi": "pa",
    "Devanagari": "hi",
}

_LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    "ja": frozenset({"Han", "Kana"}),
    "zh": frozenset({"Han"}),
    "ko": frozenset({"Hangul"}),
    **{
        code: frozenset({"Cyrillic"})
        for code in ("ru", "uk", "bg", "sr", "mk", "be", "kk", "mn")
    },
    **{code: frozenset({"Arabic"}) for code in ("ar", "fa", "ur", "ps")},
    **{code: frozenset({"Hebrew"}) for code in ("he", "yi")},
    **{code: frozenset({"Devanagari"}) for code in ("hi", "mr", "ne")},
    **{
        code: frozenset({script})
        for script, code in _SCRIPT_LANGUAGE.items()
        if script not in ("Hangul", "Hebrew", "Devanagari")
    },
}

_CJK_SCRIPTS = frozenset({"Han", "Kana", "Hangul"})

# Scripts whose letters alone name the language (Han and Kana are
# distinguished by their mix), so detection on them needs no language model.
SELF_NAMING_SCRIPTS = frozenset(_SCRIPT_LANGUAGE) | _CJK_SCRIPTS


def language_scripts(code: str) -> frozenset[str]:
    """Return the scripts a language is normally written in (Latin by default)."""
    return _LANGUAGE_SCRIPTS.get(code, frozenset({"Latin"}))


_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
_ASCII_NON_LETTERS = bytes(code for code in range(128) if not chr(code).isalpha())
_ANY_SCRIPT = re.compile(
    "|".join(f"(?P<{name}>[{body}]+)" for name, body in SCRIPT_CLASSES.items())
)


def script_letters(script: str) -> re.Pattern[str]:
    """Return the compiled pattern matching runs of one script's letters."""
    return _SCRIPT_LETTERS[script]


def script_counts(text: str) -> Counter[str]:
    """Count the letters of each script in the text."""
    counts: Counter[str] = Counter()
    ascii_letters = len(
        text.encode("ascii", "ignore").translate(None, _ASCII_NON_LETTERS)
    )
    if ascii_letters:
        counts["Latin"] = ascii_letters
    if text.isascii():
        return counts
    # Only the non-ASCII characters need the per-script scan.
    rest = _ASCII_RUN.sub("", text)
    for match in _ANY_SCRIPT.finditer(rest):
        counts[match.lastgroup] += match.end() - match.start()
    return counts


@dataclass(frozen=True)
class ScriptRun:
    """A stretch of text whose letters all belong to one script.

    `start` and `end` are character offsets into the scanned text. Spaces,
    digits and punctuation between letters of the same script stay inside the
    run, so `我们可以，然后` is one Han run. `letters` counts only letters.
    """

    script: str
    start: int
    end: int
    letters: int


def script_runs(text: str, scripts: Iterable[str] | None = None) -> list[ScriptRun]:
    """Find the runs of each script in the text, in order of position.

    With `scripts`, only those scripts are scanned. A run ends at the first
    letter of another script.
    """
    names = frozenset(scripts) if scripts is not None else frozenset(SCRIPT_CLASSES)
    if not names or text.isascii() and "Latin" not in names:
        return []
    present = _scripts_present(text, names)
    runs: list[ScriptRun] = []
    for name in present:
        for match in _run_pattern(name).finditer(text):
            letters = sum(map(len, _SCRIPT_LETTERS[name].findall(match.group())))
            runs.append(ScriptRun(name, match.start(), match.end(), letters))
    runs.sort(key=lambda run: run.start)
    return runs


def _scripts_present(text: str, names: frozenset[str]) -> list[str]:
    # One pass over the non-ASCII characters finds every letter of the wanted
    # scripts; the per-script run patterns then only run for scripts present.
    rest = text if "Latin" in names else _ASCII_RUN.sub("", text)
    found = "".join(_any_of(names).findall(rest))
    if not found:
        return []
    return [name for name in sorted(names) if _SCRIPT_LETTERS[name].search(found)]


@functools.cache
def _any_of(names: frozenset[str]) -> re.Pattern[str]:
    body = "".join(SCRIPT_CLASSES[name] for name in sorted(names))
    return re.compile(f"[{body}]+")


@functools.cache
def _run_pattern(script: str) -> re.Pattern[str]:
    body = SCRIPT_CLASSES[script]
    # Letters of the script, optionally separated by non-letters: \W, digits and
    # underscore never match a letter, so the gap cannot swallow other scripts.
    return re.compile(f"[{body}]+(?:[\\W\\d_]*[{body}]+)*")


# --- masking code, URLs and math ------------------------------------------


def fence_spans(text: str) -> list[tuple[int, int]]:
    """Return the spans of fenced code blocks, fence lines included.

    A fence is a line starting with ``` or ~~~ after optional spaces and an
    optional list marker ("- ```python"); the block closes at the next fence
    of the same kind. A block opened and never closed runs to the end of the
    text.
    """
    return _pair_fences(text)[0]


def unclosed_fence(text: str) -> int | None:
    """Return where a code block that is never closed starts, or None."""
    return _pair_fences(text)[1]


def _pair_fences(text: str) -> tuple[list[tuple[int, int]], int | None]:
    if "```" not in text and "~~~" not in text:
        return [], None
    fences = sorted(_fence_lines(text, "```") + _fence_lines(text, "~~~"))
    spans = []
    opening: tuple[int, str] | None = None
    for start, marker in fences:
        if opening is None:
            opening = (start, marker)
        elif marker == opening[1]:
            line_end = text.find("\n", start)
            spans.append((opening[0], len(text) if line_end < 0 else line_end))
            opening = None
    if opening is None:
        return spans, None
    spans.append((opening[0], len(text)))
    return spans, opening[0]


_FENCE_PREFIX = re.compile(r"[ \t]*(?:(?:[-*+]|\d+[.)])[ \t]+)?")


def _fence_lines(text: str, marker: str) -> list[tuple[int, str]]:
    # str.find is much faster than a multiline regex over long outputs.
    found = []
    position = text.find(marker)
    while position >= 0:
        line_start = text.rfind("\n", 0, position) + 1
        if _FENCE_PREFIX.fullmatch(text, line_start, position):
            found.append((line_start, marker))
        end = position + len(marker)
        while text.startswith(marker[0], end):
            end += 1
        position = text.find(marker, end)
    return found


# Code spans, URLs and LaTeX math, each with the literal that must occur in
# the text before its pattern runs. Every pattern starts with a literal so the
# regex engine can skip ahead quickly. Inline math follows pandoc: no space
# just inside the dollars and no digit right after the closing one, so
# "$5 and $10" stays prose.
_NON_PROSE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("`", re.compile(r"`[^`\n]+`")),
    ("http", re.compile(r"https?://\S+")),
    ("www.", re.compile(r"www\.\S+")),
    ("$$", re.compile(r"\$\$.+?\$\$", re.S)),
    ("\\[", re.compile(r"\\\[.+?\\\]", re.S)),
    ("\\(", re.compile(r"\\\(.+?\\\)", re.S)),
    ("$", re.compile(r"\$(?=\S)[^$\n]*?(?<=\S)\$(?!\d)")),
    ("\\", re.compile(r"\\[A-Za-z]+")),
)


def _blank_text(text: str) -> str:
    # Keep newlines so that line-based rules still see the same lines.
    return "\n".join(" " * len(part) for part in text.split("\n"))


def _blank(match: re.Match[str]) -> str:
    matched = match.group()
    if "\n" not in matched:
        return " " * len(matched)
    return _blank_text(matched)


def mask_non_prose(text: str) -> str:
    """Replace code, URLs and LaTeX math with spaces, keeping every offset."""
    for start, end in reversed(fence_spans(text)):
        text = text[:start] + _blank_text(text[start:end]) + text[end:]
    for marker, pattern in _NON_PROSE:
        if marker in text:
            text = pattern.sub(_blank, text)
    return text


def prose_sample(prose: str, chars: int = SAMPLE_CHARS) -> tuple[str, str]:
    """Return the first and the last `chars` characters of prose, spaces collapsed.

    The two parts are equal when the prose is short.
    """
    compact = " ".join(prose.split())
    if len(compact) <= chars:
        return compact, compact
    return compact[:chars], compact[-chars:]


# --- Latin-script shortcut: Vietnamese letters and function words ----------

_VIETNAMESE_LETTERS = re.compile(
    "[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđơư"
    "ẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸĐƠƯ]"
)

# Frequent function words per language, written for this module. Only words
# that occur in exactly one list count as evidence (see
# `_FUNCTION_WORD_OWNER`), so "de" or "la" decide nothing.
_FUNCTION_WORDS: dict[str, str] = {
    "en": "the and of to in is a that for with are this be you your can by or not an "
    "will "
    "from have which it on as was were has their they we our these there would "
    "should could about into when what how if so any all also such other may "
    "using use here each",
    "de": "der die das und ist nicht mit den dem des ein eine einen einem einer zu "
    "sie ich auf für von sich auch werden wird können oder es im wenn dass bei "
    "nach wie aus noch nur um über unter diese dieser dieses kann sind wir ihr "
    "ihre sein zum zur sollten müssen durch hier oft sowie",
    "es": "el la los las del y es en por con para una un su sus al lo como más "
    "pero este esta estos estas también puede hay entre sobre muy sin ser "
    "cuando donde usted qué está son desde hasta porque aunque así cada otro "
    "otra mismo tiene tienen hacer debe puedes tu tus siguiente asegúrate",
    "fr": "le la les des et est une du que qui dans pour pas sur au aux avec ce "
    "cette ces il elle vous ne sont par plus nous leur leurs être peut fait "
    "comme mais ou où votre vos aussi donc ainsi chaque suivant",
    "it": "il di che e la per un una non sono del della delle dei degli con si le "
    "gli da lo al alla come più anche questo questa ma può essere nel nella è",
    "pt": "o os as do da dos das em no na nos nas um uma para com não que é se "
    "por mais como ao à são ou seu sua você também pelo pela este esta isso "
    "ser pode",
    "nl": "de het een en van is dat in te op niet voor met zijn je die er aan ook "
    "worden kan wordt deze bij als naar uit of dit wat hoe",
    "pl": "i w się na nie z do to że jest o jak dla po lub są oraz może przez od "
    "ale które który która aby czy jego ich tak także być tym ten tej tego "
    "można należy jeśli gdy również jednak bardzo już tylko każdy",
    "tr": "ve bir bu için ile da de olarak daha çok gibi olan ise veya her ama en "
    "kadar sonra değil şekilde olup çünkü şu bunu ne nasıl gerekir kullanarak "
    "sağlar önemli ayrıca göre",
    "id": "dan yang di untuk dengan ini dari dalam tidak akan adalah pada atau itu "
    "dapat ke juga anda bisa lebih oleh sebagai jika karena seperti yaitu agar "
    "memiliki berikut kita kami",
    "cs": "a je v se na to že s z do o jako pro ale by jsou být také nebo které "
    "který která však jeho jak při",
    "sk": "a je v sa na to že s z do o ako pre ale by sú byť aj alebo ktoré ktorý "
    "ktorá však jeho pri",
    "ro": "și de la în a cu pe care un o este sunt nu să din mai pentru ce ca se "
    "sau acest această",
    "hu": "a az és hogy nem is egy meg van de ez csak már még mint vagy el ha kell "
    "lesz volt",
    "sv": "och i att det som en på är av för med till den inte har de om ett kan så vi",
    "da": "og i at det som en på er af for med til den ikke har de om et kan så vi jeg",
    "nb": "og i at det som en på er av for med til den ikke har de om et kan så vi jeg",
    "fi": "ja on ei se että oli ovat hän mutta kun myös tai jos niin ole sen joka kuin",
    "ca": "el la de i que a en els les per amb no és un una del es al com més",
}


def _function_word_owners() -> tuple[dict[str, str], frozenset[str]]:
    owners: dict[str, set[str]] = {}
    for code, words in _FUNCTION_WORDS.items():
        for word in words.split():
            owners.setdefault(word, set()).add(code)
    unique = {word: codes.pop() for word, codes in owners.items() if len(codes) == 1}
    return unique, frozenset(owners)


_FUNCTION_WORD_OWNER, _ALL_FUNCTION_WORDS = _function_word_owners()
_WORD_RE = re.compile(r"[^\W\d_]+")

# Characters of prose the function-word count reads from each end. Counting is
# cheap, so it reads more than lingua does.
FUNCTION_WORD_SAMPLE_CHARS = 600

# A function-word verdict needs this many distinctive words and a lead of this
# factor over the runner-up. Function words, distinctive or shared, must also
# make up this share of all words. Anything less goes to lingua.
_MIN_DISTINCTIVE_HITS = 3
_MIN_FUNCTION_LEAD = 3.0
_MIN_FUNCTION_SHARE = 0.05


# Punctuation stripped from the ends of whitespace-separated words.
_WORD_EDGES = ".,;:!?()[]{}<>\"'«»“”„‘’*_`~-–—/\\|#"


def function_word_hits(sample: str) -> tuple[Counter[str], int, int]:
    """Count distinctive function words per language in a Latin-script sample.

    Returns the counts, the number of function words (distinctive or shared)
    and the number of words.
    """
    hits: Counter[str] = Counter()
    function_words = 0
    words = sample.lower().split()
    for raw in words:
        word = raw.strip(_WORD_EDGES)
        if word not in _ALL_FUNCTION_WORDS:
            continue
        function_words += 1
        owner = _FUNCTION_WORD_OWNER.get(word)
        if owner is not None:
            hits[owner] += 1
    return hits, function_words, len(words)


def function_word_language(sample: str) -> str | None:
    """Name the language of a Latin-script sample from its function words.

    Returns None unless one language clearly leads. This is a shortcut that
    avoids running lingua on text that is plainly one language.
    """
    hits, function_words, words = function_word_hits(sample)
    if not hits or function_words < _MIN_FUNCTION_SHARE * words:
        return None
    ranked = hits.most_common(2)
    best, best_hits = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    if best_hits < _MIN_DISTINCTIVE_HITS:
        return None
    if best_hits < _MIN_FUNCTION_LEAD * runner_up:
        return None
    return best


# --- lingua ------------------------------------------------------------------


@functools.cache
def _lingua_detector():
    # Imported here so that loading this module stays cheap when no text is
    # ever detected (the policy service imports the core but may never run
    # checks).
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in SUPPORTED_LANGUAGES]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    # Low-accuracy mode uses trigram models only. For this language set it
    # needs 32 MB instead of 528 MB, and reads 400-character samples almost as
    # well (99.2% against 99.4%; scripts/measure_checks.py --detector-costs and
    # --detector-accuracy). Relative distance 0.1 makes lingua return None when
    # two languages score almost alike.
    builder = builder.with_low_accuracy_mode().with_minimum_relative_distance(0.1)
    return builder.build()


def lingua_language(sample: str) -> str | None:
    """Return lingua's language for a prose sample, or None when unsure."""
    language = _lingua_detector().detect_language_of(sample)
    if language is None:
        return None
    return language.iso_code_639_1.name.lower()


# --- detection -------------------------------------------------------------

# CJK characters carry about a word each, Latin letters a fraction of one. So
# a CJK share of letters at or above this makes CJK the text's language, even
# when code identifiers or English terms add many Latin letters.
_CJK_MIN_SHARE = 0.15

# Japanese prose has kana in nearly every sentence; below this share of the
# Han and Kana letters the text is read as Chinese.
_KANA_MIN_SHARE = 0.05


def detect_language(text: str) -> str | None:
    """Return the ISO 639-1 code of the text's language, or None when unsure.

    None also for empty text, text with fewer than `MIN_LETTERS` letters and
    text that is only code. Reads at most the first and last
    `FUNCTION_WORD_SAMPLE_CHARS` characters of prose; lingua reads the first
    and last `SAMPLE_CHARS`. See the module docstring for the steps.
    """
    if not text:
        return None
    prose = mask_non_prose(text)
    head, tail = prose_sample(prose, FUNCTION_WORD_SAMPLE_CHARS)
    if head == tail:
        return detect_sample_language(head, script_counts(head))
    sample = f"{head} {tail}"
    lingua_sample = f"{head[:SAMPLE_CHARS]} {tail[-SAMPLE_CHARS:]}"
    return detect_sample_language(sample, script_counts(sample), lingua_sample)


def detect_sample_language(
    sample: str, counts: Counter[str], lingua_sample: str | None = None
) -> str | None:
    """Detect the language of a prose sample whose script counts are known.

    `lingua_sample` (default: `sample`) is what lingua reads when the script
    and function-word shortcuts cannot decide. Keep it to a few hundred
    characters, because lingua's time grows with its length.
    """
    letters = sum(counts.values())
    if letters < MIN_LETTERS:
        return None
    by_script = _language_from_scripts(counts, letters)
    if by_script is not None:
        return by_script
    if counts.most_common(1)[0][0] == "Latin":
        if len(_VIETNAMESE_LETTERS.findall(sample)) >= 0.03 * counts["Latin"]:
            return "vi"
        by_words = function_word_language(sample)
        if by_words is not None:
            return by_words
    return lingua_language(lingua_sample if lingua_sample is not None else sample)


def _language_from_scripts(counts: Counter[str], letters: int) -> str | None:
    cjk = sum(counts[name] for name in _CJK_SCRIPTS)
    if cjk >= _CJK_MIN_SHARE * letters:
        return _cjk_language(counts)
    dominant, dominant_letters = counts.most_common(1)[0]
    if dominant_letters * 2 < letters:
        return None
    return _SCRIPT_LANGUAGE.get(dominant)


def _cjk_language(counts: Counter[str]) -> str:
    han_kana = counts["Han"] + counts["Kana"]
    if counts["Hangul"] > han_kana:
        return "ko"
    if counts["Kana"] >= max(1, _KANA_MIN_SHARE * han_kana):
        return "ja"
    return "zh"
