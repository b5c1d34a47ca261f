"""Sample files: JSON Lines of requests with recorded outputs and grades per model.

One JSON object per line. Blank lines are ignored. Every other line that cannot
be used becomes a Problem with its line and column, so no line is dropped
silently. A preview loads up to 100k requests, so the per-line path is kept lean:
one `orjson` decode, a key count that rules out repeated keys, type checks and
slots dataclasses. Lines that orjson rejects or might decode differently go
through the standard `json` decoder, which defines what a line means and reports
every problem. The column of a field is located only when there is a problem to
report.
"""

from __future__ import annotations

import difflib
import gc
import json
import math
import os
import re
import secrets
import stat
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.decoder import JSONDecodeError, scanstring
from typing import IO, Any

import orjson

from tui.core.problems import InputError, Problem

# Raw control characters inside strings are accepted (strict=False) because some
# exporters write them unescaped.
_DECODER = json.JSONDecoder(strict=False)
_decode = _DECODER.decode

# orjson decodes the preview benchmark's lines about twice as fast as `json`. It
# rejects what the loader must still accept or report exactly (raw control
# characters, NaN, lone surrogates, nesting deeper than 1024 levels), so a line
# it rejects is decoded again with `json`.
_fast_loads = orjson.loads

# orjson returns a float for an integer outside the signed and unsigned 64-bit
# ranges, where `json` returns the exact int. Such a float is at least 2**63 in
# size, so a float that large sends the line to `json`.
_ROUNDED_INT = float(2**63)

# `json` reads nesting only as deep as the interpreter's recursion limit allows
# (about 990 levels by default), while orjson reads 1024. Lines nested deeper
# than this go to `json`, so it alone decides which lines are too deep.
_MAX_FAST_DEPTH = 100

# The end of an object key: a quote, optional whitespace and a colon. Inside a
# string a quote is escaped, so the pattern finds every key written. It can also
# match an escaped quote or a string that starts with a colon, so its count can
# exceed the number of keys written but never falls below it.
_KEY_END = re.compile(r'"[ \t\n\r]*:')
_KEY_END_BYTES = re.compile(_KEY_END.pattern.encode())

# A `\u` escape of a UTF-16 surrogate (U+D800..U+DFFF). JSON allows one alone, but
# a lone surrogate has no UTF-8 form, so such a string cannot be printed or saved.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

# One JSON token that matters when explaining a failed decode: a string, a bracket
# or a number. Anything else between tokens is skipped.
_JSON_TOKEN = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]|[\]}]|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?'
)

_BOM = "\ufeff"
_BOM_BYTES = b"\xef\xbb\xbf"

# Output fields with their own attribute on Output. All other fields go to `extra`.
_OUTPUT_CORE = frozenset(
    {"text", "grade", "finish_reason", "prompt_tokens", "completion_tokens"}
)

_INF = math.inf


# A weight stands for traffic, so a billion is already far beyond any sample;
# sums of weights near 1e308 would overflow to infinity and make every mean NaN.
MAX_WEIGHT = 1e9


@dataclass(slots=True)
class Output:
    """One model's recorded output for one request."""

    text: str | None
    grade: float | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    extra: dict  # every other recorded field, kept verbatim


@dataclass(slots=True)
class Request:
    """One request of a sample file, with its recorded outputs keyed by model."""

    id: str
    line: int  # 1-based line in the file
    prompt: str | None
    messages: list[dict] | None
    metadata: dict
    reference: str | None
    weight: float
    outputs: dict[str, Output]
    raw: dict  # the parsed JSON object as read, for a lossless rewrite

    def prompt_text(self) -> str:
        """Return the prompt, or the text of the user messages joined by newlines."""
        if self.prompt is not None:
            return self.prompt

        parts: list[str] = []
        for message in self.messages or ():
            if message.get("role") == "user":
                parts.extend(_content_texts(message.get("content")))
        return "\n".join(parts)


@dataclass
class Sample:
    """The requests of one sample file and every problem found while loading it."""

    path: str
    requests: list[Request]
    problems: list[Problem] = field(default_factory=list)


def _content_texts(content: Any) -> Iterator[str]:
    if isinstance(content, str):
        yield content
        return

    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                text = part.get("text")
                if isinstance(text, str):
                    yield text


# --- loading -----------------------------------------------------------------


def load_sample(path, *, known_models: set[str] | None = None) -> Sample:
    """Load a JSONL sample file; raise InputError when it is unreadable or not UTF-8.

    Problems inside the file (bad lines, wrong types, unknown models) do not raise:
    they are listed in `Sample.problems`.
    """
    path_text = os.fspath(path)
    # The lines stay bytes, each with its newline, because orjson decodes bytes
    # directly. A line is decoded to text only when `json` must read it or a
    # problem is reported. orjson rejects invalid UTF-8, so every such line
    # reaches that decode and raises.
    return parse_sample_lines(_read_lines(path_text), path_text, known_models)


def parse_sample_lines(
    lines: Iterable[str | bytes], path: str, known_models: set[str] | None = None
) -> Sample:
    """Parse sample lines (1-based numbering, a leading BOM tolerated) into a Sample.

    Lines given as bytes must be UTF-8 and may end with their newline. Raises
    InputError with the line and column of the first invalid byte.
    """
    parser = _LineParser(path, known_models)
    parse_line = parser.parse_line

    # Each collection pass would rescan every request built so far. Parsing builds
    # no reference cycles, so the collector is paused (process-wide) and then
    # restored to its previous state.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for number, line in enumerate(lines, 1):
            if number == 1:
                line = _without_bom(line)
            parse_line(number, line)
    finally:
        if collecting:
            _promote_to_oldest_generation()
            gc.enable()
    return parser.finish()


def _promote_to_oldest_generation() -> None:
    """Move every object the collector tracks into its oldest generation.

    The requests just parsed live as long as the sample. Left in the youngest
    generation, they would all be scanned by the first collection after parsing,
    which took about 0.2 s for 100k requests on the 2-core development machine,
    to find nothing to free. gc.freeze() followed by gc.unfreeze() moves them
    without a scan, as the `gc` documentation describes. That also moves young
    objects of other threads, which then wait for a full collection. Objects
    that someone else froze would be unfrozen, so the step is skipped then.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def _without_bom(line: str | bytes) -> str | bytes:
    if type(line) is bytes:
        return line[len(_BOM_BYTES) :] if line.startswith(_BOM_BYTES) else line
    return line[1:] if line.startswith(_BOM) else line


def _read_lines(path: str) -> list[bytes]:
    try:
        with open(path, "rb") as handle:
            return handle.readlines()
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(f"{path}: cannot read sample file: {reason}") from error


def decode_utf8(data: bytes, path: str) -> str:
    """Decode UTF-8 (a leading BOM is dropped) or raise InputError with line:column."""
    if data.startswith(_BOM_BYTES):
        data = data[len(_BOM_BYTES) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _byte_position(data, error.start)
        raise _invalid_utf8(path, line, column, data[error.start]) from error


def decode_utf8_line(line: bytes, path: str, number: int) -> str:
    """Decode one UTF-8 line or raise InputError with its line:column."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as error:
        column = _byte_position(line, error.start)[1]
        raise _invalid_utf8(path, number, column, line[error.start]) from error


def _invalid_utf8(path: str, line: int, column: int, byte: int) -> InputError:
    message = f"invalid UTF-8 byte 0x{byte:02x}; save the file as UTF-8"
    problem = Problem(path, line, column, message)
    return InputError(problem.format(), [problem])


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """Return the 1-based line and character column of a byte offset."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    prefix = data[line_start:offset].decode("utf-8", errors="replace")
    return line, len(prefix) + 1


class _LineParser:
    """Turns sample lines into Requests, collecting Problems as it goes."""

    def __init__(self, path: str, known_models: set[str] | None):
        self.path = path
        self.known_models = known_models
        self.requests: list[Request] = []
        self.problems: list[Problem] = []
        self.first_line_of_id: dict[str, int] = {}
        # model -> [first line, column, number of lines]; reported once per model
        self.unknown_models: dict[str, list[int]] = {}
        # The decoder appends to this list when an object repeats a key, so only
        # those rare lines are scanned again to locate the key.
        self.repeated_keys: list[bool] = []
        self.decode = _decoder_noting_repeats(self.repeated_keys).decode

    def finish(self) -> Sample:
        for model, (line, column, count) in self.unknown_models.items():
            self._warn_unknown_model(model, line, column, count)
        self.problems.sort(key=lambda problem: (problem.line, problem.column))
        return Sample(self.path, self.requests, self.problems)

    def report(
        self,
        number: int,
        line: str | bytes,
        where: tuple,
        message: str,
        severity="error",
    ):
        column = locate_json_value(self._as_text(number, line), where) if where else 1
        self.problems.append(Problem(self.path, number, column, message, severity))

    def _as_text(self, number: int, line: str | bytes) -> str:
        if type(line) is not bytes:
            return line
        if line.endswith(b"\n"):
            line = line[:-1]
        return decode_utf8_line(line, self.path, number)

    def parse_line(self, number: int, line: str | bytes) -> None:
        obj = _decode_fast(line)
        if obj is _UNSURE:
            line = self._as_text(number, line)
            obj = self._decode_with_json(number, line)
            if obj is _SKIPPED:
                return

        if type(obj) is not dict:
            self.report(
                number,
                line,
                (),
                f"expected a JSON object, got {_json_type(obj)}; the line is skipped",
            )
            return

        request = self._request(number, line, obj)
        if request is not None:
            self.requests.append(request)

    def _decode_with_json(self, number: int, line: str) -> Any:
        """Decode with `json`, reporting why a line is skipped or repeats keys.

        Returns the decoded value, or _SKIPPED when the line is unusable.
        """
        try:
            obj = self.decode(line)
        except JSONDecodeError as error:
            self.repeated_keys.clear()
            if line and not line.isspace():
                self.problems.append(
                    Problem(
                        self.path,
                        number,
                        error.colno,
                        f"invalid JSON: {error.msg}; the line is skipped until "
                        "it is one JSON object",
                    )
                )
            return _SKIPPED
        except (RecursionError, ValueError) as error:
            self.repeated_keys.clear()
            column, reason, fix = explain_json_failure(line, error)
            message = f"{reason}; the line is skipped, {fix}"
            self.problems.append(Problem(self.path, number, column, message))
            return _SKIPPED

        # The substring test is far cheaper than the regex and rules out almost
        # every line.
        if "\\u" in line and _SURROGATE_ESCAPE.search(line):
            if self._reject_lone_surrogate(number, line):
                self.repeated_keys.clear()
                return _SKIPPED
        if self.repeated_keys:
            self.repeated_keys.clear()
            self._warn_repeated_keys(number, line)
        return obj

    def _reject_lone_surrogate(self, number: int, line: str) -> bool:
        found = find_lone_surrogate(line)
        if found is None:
            return False

        column, escape = found
        message = (
            f"invalid Unicode: lone surrogate {escape} is half of a UTF-16 pair, "
            "not a character; the line is skipped, write the character itself "
            "(or both halves of its pair) or remove the escape"
        )
        self.problems.append(Problem(self.path, number, column, message))
        return True

    def _warn_repeated_keys(self, number: int, line: str) -> None:
        for column, key, first_column in find_repeated_keys(line):
            message = (
                f"duplicate key {key!r} (first at column {first_column}); only "
                "this last value is used, remove or rename one of them"
            )
            self.problems.append(Problem(self.path, number, column, message, "warning"))

    def _request(self, number: int, line: str | bytes, obj: dict) -> Request | None:
        request_id = obj.get("id")
        if type(request_id) is not str or not request_id:
            request_id = self._fallback_id(number, line, request_id)

        first_line = self.first_line_of_id.get(request_id)
        if first_line is not None:
            self.report(
                number,
                line,
                ("id",),
                f"duplicate id {request_id!r} (first on line {first_line}); "
                "the line is skipped, give each request a unique id",
            )
            return None

        # Each field is checked inline for its common valid form, and a helper
        # handles the rest. The helpers run in field order, which sets the order
        # of the problems reported at the same column.
        get = obj.get
        prompt = get("prompt")
        messages = get("messages")
        if type(prompt) is not str or messages is not None:
            text = self._prompt_and_messages(number, line, obj)
            if text is None:
                return None
            prompt, messages = text

        self.first_line_of_id[request_id] = number
        metadata = get("metadata")
        if type(metadata) is not dict:
            metadata = self._metadata(number, line, metadata)
        reference = get("reference")
        if reference is not None and type(reference) is not str:
            reference = self._reference(number, line, reference)
        weight = get("weight")
        weight = 1.0 if weight is None else self._weight(number, line, weight)
        outputs = get("outputs")
        outputs = {} if outputs is None else self._outputs(number, line, outputs)
        return Request(
            request_id,
            number,
            prompt,
            messages,
            metadata,
            reference,
            weight,
            outputs,
            obj,
        )

    def _fallback_id(self, number: int, line: str | bytes, value: Any) -> str:
        generated = f"line-{number}"
        if value is None or value == "":
            reason = "request has no 'id'"
            where: tuple = ()
        else:
            reason = f"field 'id' must be a non-empty string, got {_json_type(value)}"
            where = ("id",)
        self.report(
            number,
            line,
            where,
            f"{reason}; using {generated!r}, add a unique string id",
            "warning",
        )
        return generated

    def _prompt_and_messages(self, number: int, line: str | bytes, obj: dict):
        """Return the usable (prompt, messages), or None when the line is skipped."""
        prompt = obj.get("prompt")
        messages = obj.get("messages")
        issues = []
        if prompt is not None and type(prompt) is not str:
            message = f"field 'prompt' must be a string, got {_json_type(prompt)}"
            issues.append((("prompt",), message))
            prompt = None
        if messages is not None:
            problem = messages_problem(messages)
            if problem is not None:
                issues.append((problem[1], problem[0]))
                messages = None

        usable = prompt is not None or messages is not None
        outcome = "the field is ignored" if usable else "the line is skipped"
        for where, message in issues:
            self.report(number, line, where, f"{message}; {outcome}")
        if not usable and not issues:
            self.report(
                number,
                line,
                (),
                "request has neither 'prompt' nor 'messages'; the line is skipped, "
                "add one of them",
            )
        return (prompt, messages) if usable else None

    def _metadata(self, number: int, line: str | bytes, metadata: Any) -> dict:
        if metadata is None:
            return {}
        if type(metadata) is dict:
            return metadata

        self.report(
            number,
            line,
            ("metadata",),
            f"field 'metadata' must be an object, got {_json_type(metadata)}; "
            "using no metadata",
        )
        return {}

    def _reference(self, number: int, line: str | bytes, reference: Any) -> str | None:
        if reference is None or type(reference) is str:
            return reference

        self.report(
            number,
            line,
            ("reference",),
            f"field 'reference' must be a string, got {_json_type(reference)}; "
            "the reference is ignored",
        )
        return None

    def _weight(self, number: int, line: str | bytes, weight: Any) -> float:
        if weight is None:
            return 1.0
        kind = type(weight)
        if (kind is int or kind is float) and 0 < weight <= MAX_WEIGHT:
            return float(weight)

        self.report(
            number,
            line,
            ("weight",),
            f"field 'weight' must be a positive number up to {MAX_WEIGHT:g},"
            f" got {_json_value(weight)}; using 1",
        )
        return 1.0

    def _outputs(
        self, number: int, line: str | bytes, outputs: Any
    ) -> dict[str, Output]:
        if type(outputs) is not dict:
            self.report(
                number,
                line,
                ("outputs",),
                "field 'outputs' must be an object keyed by model string, "
                f"got {_json_type(outputs)}; the outputs are ignored",
            )
            return {}

        known = self.known_models
        parsed: dict[str, Output] = {}
        for model, recorded in outputs.items():
            if known is not None and model not in known:
                self._note_unknown_model(number, line, model)
                continue
            if type(recorded) is not dict:
                self.report(
                    number,
                    line,
                    ("outputs", model),
                    f"output for model {model!r} must be an object, "
                    f"got {_json_type(recorded)}; it is ignored",
                )
                continue
            parsed[model] = self._output(number, line, model, recorded)
        return parsed

    def _output(
        self, number: int, line: str | bytes, model: str, recorded: dict
    ) -> Output:
        get = recorded.get
        text = get("text")
        if text is not None and type(text) is not str:
            text = self._bad_output_field(number, line, model, "text", text, "a string")

        grade = get("grade")
        if grade is not None and (type(grade) is not float or not 0.0 <= grade <= 1.0):
            grade = self._grade(number, line, model, grade)

        finish_reason = get("finish_reason")
        if finish_reason is not None and type(finish_reason) is not str:
            finish_reason = self._bad_output_field(
                number, line, model, "finish_reason", finish_reason, "a string"
            )

        prompt_tokens = get("prompt_tokens")
        if prompt_tokens is not None and (
            type(prompt_tokens) is not int or prompt_tokens < 0
        ):
            prompt_tokens = self._bad_token_count(
                number, line, model, "prompt_tokens", prompt_tokens
            )

        completion_tokens = get("completion_tokens")
        if completion_tokens is not None and (
            type(completion_tokens) is not int or completion_tokens < 0
        ):
            completion_tokens = self._bad_token_count(
                number, line, model, "completion_tokens", completion_tokens
            )

        # When every key is a core field with a non-null value, there is nothing
        # else to keep. Counting those fields is cheaper than the subset test,
        # which settles the other outputs.
        present = (
            (text is not None)
            + (grade is not None)
            + (finish_reason is not None)
            + (prompt_tokens is not None)
            + (completion_tokens is not None)
        )
        if len(recorded) == present or recorded.keys() <= _OUTPUT_CORE:
            extra = {}
        else:
            extra = {k: v for k, v in recorded.items() if k not in _OUTPUT_CORE}
        return Output(
            text, grade, finish_reason, prompt_tokens, completion_tokens, extra
        )

    def _grade(
        self, number: int, line: str | bytes, model: str, grade: Any
    ) -> float | None:
        kind = type(grade)
        if kind is bool:
            return 1.0 if grade else 0.0
        if (kind is int or kind is float) and 0 <= grade <= 1:
            return float(grade)

        return self._bad_output_field(
            number, line, model, "grade", grade, "a number in 0..1 or true/false"
        )

    def _bad_token_count(
        self, number: int, line: str | bytes, model: str, name: str, value: Any
    ) -> None:
        return self._bad_output_field(
            number, line, model, name, value, "an integer >= 0"
        )

    def _bad_output_field(
        self,
        number: int,
        line: str | bytes,
        model: str,
        name: str,
        value: Any,
        expected: str,
    ) -> None:
        self.report(
            number,
            line,
            ("outputs", model, name),
            f"field '{name}' of the output for {model!r} must be {expected}, "
            f"got {_json_value(value)}; the field is ignored",
        )
        return None

    def _note_unknown_model(self, number: int, line: str | bytes, model: str) -> None:
        seen = self.unknown_models.get(model)
        if seen is not None:
            seen[2] += 1
            return
        column = locate_json_value(self._as_text(number, line), ("outputs", model))
        self.unknown_models[model] = [number, column, 1]

    def _warn_unknown_model(self, model: str, line: int, column: int, count: int):
        message = (
            f"output for unknown model {model!r} is ignored; "
            "add it to models: or check the spelling"
        )
        close = difflib.get_close_matches(model, sorted(self.known_models or ()), 1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        if count > 1:
            message += f"; {count} lines have outputs for it, this is the first"
        self.problems.append(Problem(self.path, line, column, message, "warning"))


# Returned in place of a decoded line: _decode_fast returns _UNSURE when `json`
# must decode the line, and _decode_with_json returns _SKIPPED when the line was
# reported and skipped.
_UNSURE = object()
_SKIPPED = object()


def _decode_fast(line: str | bytes) -> Any:
    """Decode a line with orjson, or return _UNSURE when `json` must decode it.

    `json` must decode a line that orjson rejects or that is not an object. It
    must also decode a line where an object may repeat a key, because orjson
    keeps the last value without telling. The same goes for a float that may be
    a rounded integer and for deep nesting. orjson rejects lone surrogates, so a
    line it accepts has none.
    """
    try:
        obj = _fast_loads(line)
    except ValueError:
        return _UNSURE
    if type(obj) is not dict:
        return _UNSURE

    try:
        keys = _count_keys(obj, 1)
    except (_NeedsJson, RecursionError):
        return _UNSURE

    # `keys` counts the distinct keys of each object, so it is below the number
    # of keys written exactly when an object repeats a key. Each key written is
    # followed by its own colon outside any string, so both counts below are at
    # least the number of keys written, and either one equal to `keys` proves
    # that no key repeats. Counting colons is the cheaper test and settles the
    # lines whose strings contain no colon.
    if type(line) is bytes:
        colon, key_end = b":", _KEY_END_BYTES
    else:
        colon, key_end = ":", _KEY_END
    if line.count(colon) == keys or len(key_end.findall(line)) == keys:
        return obj
    return _UNSURE


class _NeedsJson(Exception):
    """The signal that orjson may have read a line differently from `json`."""


def _count_keys(obj: dict, depth: int) -> int:
    """Count the keys of an object and of every object nested in it.

    Raises _NeedsJson at a float of 2**63 or more in size, or when the nesting
    is deeper than _MAX_FAST_DEPTH.
    """
    if depth > _MAX_FAST_DEPTH:
        raise _NeedsJson
    count = len(obj)
    for item in obj.values():
        kind = type(item)
        if kind is dict:
            count += _count_keys(item, depth + 1)
        elif kind is list:
            count += _count_list_keys(item, depth + 1)
        elif kind is float and not -_ROUNDED_INT < item < _ROUNDED_INT:
            raise _NeedsJson
    return count


def _count_list_keys(items: list, depth: int) -> int:
    if depth > _MAX_FAST_DEPTH:
        raise _NeedsJson
    count = 0
    for item in items:
        kind = type(item)
        if kind is dict:
            count += _count_keys(item, depth + 1)
        elif kind is list:
            count += _count_list_keys(item, depth + 1)
        elif kind is float and not -_ROUNDED_INT < item < _ROUNDED_INT:
            raise _NeedsJson
    return count


def _decoder_noting_repeats(flags: list[bool]) -> json.JSONDecoder:
    """Return a decoder that appends to `flags` whenever an object repeats a key.

    Like json.loads, the last value of a repeated key wins. Building objects from
    their pairs is slow, so only the lines that orjson cannot settle use it.
    """

    def build_object(pairs: list[tuple[str, Any]]) -> dict:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            flags.append(True)
        return obj

    return json.JSONDecoder(strict=False, object_pairs_hook=build_object)


def messages_problem(messages: Any) -> tuple[str, tuple] | None:
    """Return (message, JSON path) describing why `messages` is unusable, or None."""
    expected = "a non-empty list of {role, content} objects"
    if type(messages) is not list or not messages:
        return (
            f"field 'messages' must be {expected}, got {_json_value(messages)}",
            ("messages",),
        )

    for index, message in enumerate(messages):
        where = ("messages", index)
        if type(message) is not dict:
            return (
                f"messages[{index}] must be an object with 'role' and 'content', "
                f"got {_json_type(message)}",
                where,
            )
        if type(message.get("role")) is not str:
            return (f"messages[{index}] needs a string 'role'", where)

        content = message.get("content")
        if content is None:
            # Assistant turns that only call tools carry no content.
            if message.get("tool_calls") or message.get("function_call"):
                continue
            return (
                f"messages[{index}] needs 'content' (a string or a list of parts)",
                where,
            )
        if type(content) is not str and type(content) is not list:
            return (
                f"messages[{index}].content must be a string or a list of parts, "
                f"got {_json_type(content)}",
                where + ("content",),
            )
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _json_value(value: Any) -> str:
    """Show a scalar as JSON (short), a container by its type."""
    if isinstance(value, list | dict):
        return _json_type(value)
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


# --- explaining JSON that decodes badly or not at all --------------------------


def explain_json_failure(line: str, error: Exception) -> tuple[int, str, str]:
    """Return (column, reason, fix) for JSON text whose decode raised `error`.

    Covers the failures other than JSONDecodeError: RecursionError from nesting
    deeper than the interpreter's recursion limit, and ValueError from an integer
    with more digits than `sys.get_int_max_str_digits()` allows.
    """
    if isinstance(error, RecursionError):
        column, depth = _deepest_bracket(line)
        reason = (
            f"invalid JSON: values nested {depth} levels deep, more than the JSON "
            "parser can read"
        )
        return column, reason, "flatten the structure"

    found = _long_integer(line)
    if found is None:
        return 1, f"invalid JSON: {error}", "make it one JSON object"
    column, digits = found
    reason = (
        f"invalid JSON: an integer of {digits} digits is longer than the "
        f"{sys.get_int_max_str_digits()} digits Python converts"
    )
    return column, reason, "write the number as a string"


def _deepest_bracket(line: str) -> tuple[int, int]:
    """Return (column, depth) of the first bracket that reaches the max depth."""
    depth = deepest = 0
    column = 1
    for match in _JSON_TOKEN.finditer(line):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest, column = depth, match.start() + 1
        elif token in "]}":
            depth -= 1
    return column, deepest


def _long_integer(line: str) -> tuple[int, int] | None:
    """Return the column and digit count of the first integer too long to convert."""
    limit = sys.get_int_max_str_digits()
    if limit == 0:
        return None

    for match in _JSON_TOKEN.finditer(line):
        token = match.group()
        if token[0] == '"' or token in "[]{}" or "." in token:
            continue
        digits = len(token.lstrip("-"))
        if digits > limit and "e" not in token and "E" not in token:
            return match.start() + 1, digits
    return None


def find_lone_surrogate(text: str) -> tuple[int, str] | None:
    """Return the 1-based column and text of the first lone-surrogate escape.

    `text` is valid JSON text. A high-surrogate escape directly followed by a
    low-surrogate escape is a pair, which the decoder joins into one character.
    """
    pair_end = -1
    for match in _SURROGATE_ESCAPE.finditer(text):
        start, end = match.span()
        if start == pair_end or _is_escaped(text, start):
            continue

        escape = match.group()
        if escape[3] in "89abAB":
            following = _SURROGATE_ESCAPE.match(text, end)
            if following is not None and following.group()[3] in "cdefCDEF":
                pair_end = end
                continue
        return start + 1, escape
    return None


def _is_escaped(text: str, index: int) -> bool:
    """Tell whether the backslash at `index` is itself escaped by the ones before."""
    count = 0
    while index > count and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def find_repeated_keys(line: str) -> list[tuple[int, str, int]]:
    """Return (column, key, column of its first use) for each repeated object key.

    `line` is valid JSON. Columns are 1-based and point at the key's quote.
    """
    found: list[tuple[int, str, int]] = []
    start = _WHITESPACE.match(line, 1 if line.startswith(_BOM) else 0).end()
    try:
        _scan_for_repeats(line, start, found)
    except (ValueError, IndexError, RecursionError):
        # Reached when the nesting is deeper than this recursive scan can follow.
        # The keys found up to there are still reported.
        pass
    return found


def _scan_for_repeats(line: str, index: int, found: list) -> int:
    """Skip the value at `index`, noting repeated keys; return the index after it."""
    if line.startswith("{", index):
        return _scan_object_for_repeats(line, index, found)

    if line.startswith("[", index):
        index = _WHITESPACE.match(line, index + 1).end()
        while not line.startswith("]", index):
            index = _scan_for_repeats(line, index, found)
            if line.startswith(",", index):
                index = _WHITESPACE.match(line, index + 1).end()
        return _WHITESPACE.match(line, index + 1).end()

    return _skip_value(line, index)


def _scan_object_for_repeats(line: str, index: int, found: list) -> int:
    first_columns: dict[str, int] = {}
    index = _WHITESPACE.match(line, index + 1).end()
    while not line.startswith("}", index):
        column = index + 1
        key, index = scanstring(line, index + 1, False)
        first = first_columns.setdefault(key, column)
        if first != column:
            found.append((column, key, first))

        # Skip the colon and the whitespace around it.
        index = _WHITESPACE.match(line, index).end()
        index = _WHITESPACE.match(line, index + 1).end()
        index = _scan_for_repeats(line, index, found)
        if line.startswith(",", index):
            index = _WHITESPACE.match(line, index + 1).end()
    return _WHITESPACE.match(line, index + 1).end()


# --- locating a value in a line ------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")


def locate_json_value(line: str, path: tuple) -> int:
    """Return the 1-based column where the value at `path` starts in a JSON line.

    `path` contains object keys and list indexes. When a key is missing, the column of
    the nearest enclosing value is returned, and 1 when the line is not JSON. The
    last occurrence of a duplicated key wins, as in `json.loads`. Only used for
    reporting, so it favours clarity over speed.
    """
    start = _WHITESPACE.match(line, 0).end()
    if line.startswith(_BOM):
        start = _WHITESPACE.match(line, 1).end()
    try:
        return _locate(line, start, path) + 1
    except (ValueError, IndexError, StopIteration, RecursionError):
        return start + 1


def _locate(line: str, index: int, path: tuple) -> int:
    if not path:
        return index

    key = path[0]
    if line.startswith("{", index) and isinstance(key, str):
        found = _find_member(line, index, key)
    elif line.startswith("[", index) and isinstance(key, int):
        found = _find_item(line, index, key)
    else:
        found = None

    if found is None:
        return index
    return _locate(line, found, path[1:])


def _find_member(line: str, index: int, key: str) -> int | None:
    found = None
    index = _WHITESPACE.match(line, index + 1).end()
    while line.startswith('"', index):
        name, index = scanstring(line, index + 1, False)
        index = _WHITESPACE.match(line, index).end()
        if not line.startswith(":", index):
            break
        index = _WHITESPACE.match(line, index + 1).end()
        if name == key:
            found = index
        index = _skip_value(line, index)
        if not line.startswith(",", index):
            break
        index = _WHITESPACE.match(line, index + 1).end()
    return found


def _find_item(line: str, index: int, wanted: int) -> int | None:
    index = _WHITESPACE.match(line, index + 1).end()
    position = 0
    while index < len(line) and not line.startswith("]", index):
        if position == wanted:
            return index
        index = _skip_value(line, index)
        if not line.startswith(",", index):
            break
        index = _WHITESPACE.match(line, index + 1).end()
        position += 1
    return None


def _skip_value(line: str, index: int) -> int:
    _, end = _DECODER.raw_decode(line, index)
    return _WHITESPACE.match(line, end).end()


# --- rewriting outputs -------------------------------------------------------

# How often update_outputs re-reads and merges when another writer changes the file
# between our read and our replace.
_MAX_WRITE_ATTEMPTS = 5

_GENERATED_ID = re.compile(r"line-([1-9][0-9]*)")


def update_outputs(path, updates: dict[str, dict[str, dict]]) -> None:
    """Set fields of recorded outputs in a sample file, rewriting it atomically.

    `updates[request_id][model]` is the dict of fields to set on that output
    (created when missing). A field set to None is removed. Only the lines of the
    updated requests are re-serialised, and every other line keeps its bytes.
    The file is re-read at each call, so changes other programs made since it was
    loaded are kept. When the file changes between this read and the replace,
    the update is merged again into the new content. An id of the form `line-<n>`
    that is not in the file names the id-less request on line n, and that line
    gets the id written into it so later updates find it.

    Raises InputError, and writes nothing, when the file is unreadable or a
    request id is not found.
    """
    if not updates:
        return

    path_text = os.fspath(path)
    for _ in range(_MAX_WRITE_ATTEMPTS):
        data, stamp = _read_with_stamp(path_text)
        new_data = _apply_updates(path_text, data, updates)
        if _write_bytes_atomic(path_text, new_data, unchanged_since=stamp):
            return
    raise InputError(
        f"{path_text}: the file kept changing while saving outputs; try again"
    )


def write_grade(
    path,
    request_id: str,
    model: str,
    grade: float | None,
    *,
    graded_by: str,
    when: str | None = None,
    source: str = "human",
) -> None:
    """Record a verdict on one output: grade, grade_source, graded_by, graded_at.

    A grade of None removes the grade (the reviewer skipped it) but still records
    who looked and when. `when` defaults to now, as ISO 8601 UTC.
    """
    if grade is not None:
        grade = _checked_grade(grade)
    if when is None:
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    fields = {
        "grade": grade,
        "grade_source": source,
        "graded_by": graded_by,
        "graded_at": when,
    }
    update_outputs(path, {request_id: {model: fields}})


def _checked_grade(grade: Any) -> float:
    if isinstance(grade, bool):
        return 1.0 if grade else 0.0
    if isinstance(grade, int | float) and 0 <= grade <= 1:
        return float(grade)
    raise ValueError(f"grade must be a number in 0..1 or None, got {grade!r}")


def _read_with_stamp(path: str) -> tuple[bytes, tuple]:
    try:
        with open(path, "rb") as handle:
            stamp = _stamp(os.fstat(handle.fileno()))
            return handle.read(), stamp
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(f"{path}: cannot read sample file: {reason}") from error


def _stamp(status: os.stat_result) -> tuple:
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _apply_updates(path: str, data: bytes, updates: dict) -> bytes:
    lines = data.split(b"\n")
    pending = dict(updates)

    _update_matching_lines(path, lines, pending, prefilter=True)
    if pending:
        # The prefilter misses ids written with other JSON escapes (such as \u0061),
        # so parse every line.
        _update_matching_lines(path, lines, pending, prefilter=False)
    if pending:
        _update_generated_ids(path, lines, pending)
    if pending:
        missing = ", ".join(repr(request_id) for request_id in pending)
        raise InputError(
            f"{path}: no request with id {missing}; the file may have been "
            "edited since it was loaded, reload it"
        )
    return b"\n".join(lines)


def _update_matching_lines(
    path: str, lines: list[bytes], pending: dict, *, prefilter: bool
) -> None:
    needles = _id_needles(pending) if prefilter else None
    for index, raw in enumerate(lines):
        if not pending:
            return
        if needles is not None and not any(needle in raw for needle in needles):
            continue

        parsed = _parse_stored_line(path, index, raw)
        if parsed is None:
            continue
        obj = parsed[0]
        request_id = obj.get("id")
        if type(request_id) is str and request_id in pending:
            _merge_outputs(path, index, obj, pending.pop(request_id))
            lines[index] = _serialise_line(obj, *parsed[1:])


def _update_generated_ids(path: str, lines: list[bytes], pending: dict) -> None:
    for request_id in list(pending):
        match = _GENERATED_ID.fullmatch(request_id)
        if match is None:
            continue
        index = int(match.group(1)) - 1
        if index >= len(lines):
            continue

        parsed = _parse_stored_line(path, index, lines[index])
        if parsed is None:
            continue
        obj = parsed[0]
        current = obj.get("id")
        if type(current) is str and current:
            continue
        obj["id"] = request_id
        _merge_outputs(path, index, obj, pending.pop(request_id))
        lines[index] = _serialise_line(obj, *parsed[1:])


def _id_needles(pending: dict) -> list[bytes]:
    needles = set()
    for request_id in pending:
        needles.add(json.dumps(request_id).encode())
        needles.add(json.dumps(request_id, ensure_ascii=False).encode())
    return list(needles)


def _parse_stored_line(path: str, index: int, raw: bytes):
    """Return (object, BOM prefix, line ending) of a stored line; None if not JSON."""
    bom = b""
    if index == 0 and raw.startswith(_BOM_BYTES):
        bom, raw = _BOM_BYTES, raw[len(_BOM_BYTES) :]
    ending = b"\r" if raw.endswith(b"\r") else b""
    try:
        obj = _decode(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        column = _byte_position(raw, error.start)[1]
        message = f"invalid UTF-8 byte 0x{raw[error.start]:02x}; save the file as UTF-8"
        problem = Problem(path, index + 1, column, message)
        raise InputError(problem.format(), [problem]) from error
    except (ValueError, RecursionError):
        # Lines the loader rejects (not JSON, too deep, too long an integer)
        # cannot hold a request to update.
        return None
    if type(obj) is not dict:
        return None
    return obj, bom, ending


def _merge_outputs(path: str, index: int, obj: dict, per_model: dict) -> None:
    outputs = obj.get("outputs")
    if outputs is None:
        outputs = obj["outputs"] = {}
    if type(outputs) is not dict:
        problem = Problem(
            path,
            index + 1,
            1,
            "field 'outputs' is not an object, so outputs cannot be saved into it; "
            "fix the line first",
        )
        raise InputError(problem.format(), [problem])

    for model, fields in per_model.items():
        output = outputs.get(model)
        if output is None:
            output = outputs[model] = {}
        if type(output) is not dict:
            problem = Problem(
                path,
                index + 1,
                1,
                f"the output for {model!r} is not an object, so fields cannot be "
                "saved into it; fix the line first",
            )
            raise InputError(problem.format(), [problem])
        for name, value in fields.items():
            if value is None:
                output.pop(name, None)
            else:
                output[name] = value


def _serialise_line(obj: dict, bom: bytes, ending: bytes) -> bytes:
    try:
        body = json.dumps(obj, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        # A lone surrogate (valid as a JSON escape) has no UTF-8 form; keep it escaped.
        body = json.dumps(obj).encode()
    return bom + body + ending


# --- atomic writes -----------------------------------------------------------


@contextmanager
def atomic_text_writer(path) -> Iterator[IO[str]]:
    """Yield a UTF-8 text file that replaces `path` atomically when the block ends.

    The data goes to a temporary file in the same folder, which is fsynced and
    moved over `path` with os.replace; an exception discards it and leaves `path`
    unchanged. An existing file's permission bits are kept. Raises InputError,
    before anything is written, when `path` exists and is not a regular file.
    """
    path_text = os.fspath(path)
    reject_non_regular_file(path_text)
    temp_path, descriptor = _open_temp(path_text)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _commit(temp_path, path_text)
    except BaseException:
        _remove_quietly(temp_path)
        raise


def _write_bytes_atomic(path: str, data: bytes, *, unchanged_since=None) -> bool:
    """Replace `path` with `data` atomically; return False if the file changed.

    With `unchanged_since` (a stamp from _stamp), the replace happens only when the
    file still has that stamp.
    """
    reject_non_regular_file(path)
    temp_path, descriptor = _open_temp(path)
    try:
        with open(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

        # NOTE: a writer that changes the file between this check and os.replace
        # still loses its change; the window is a few microseconds.
        if unchanged_since is not None and _current_stamp(path) != unchanged_since:
            _remove_quietly(temp_path)
            return False
        _commit(temp_path, path)
        return True
    except BaseException:
        _remove_quietly(temp_path)
        raise


def reject_non_regular_file(path: str) -> None:
    """Raise InputError when `path` exists and is not a regular file.

    An atomic save renames a new file over the old one, which would replace a
    device node, FIFO, socket or folder with a regular file. A symlink is judged
    by the file it points to.
    """
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(f"{path}: cannot check the file: {reason}") from error

    if not stat.S_ISREG(mode):
        raise InputError(
            f"{path}: is not a regular file but {_file_kind(mode)}, so it is not "
            "replaced; choose a file path"
        )


def _file_kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ]
    for is_kind, name in kinds:
        if is_kind(mode):
            return name
    return "a special file"


def _current_stamp(path: str) -> tuple | None:
    try:
        return _stamp(os.stat(path))
    except FileNotFoundError:
        return None


def _open_temp(path: str) -> tuple[str, int]:
    folder, name = os.path.split(os.path.abspath(path))
    while True:
        temp_path = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            # 0o666 lets the umask decide, as for any new file.
            descriptor = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        break

    try:
        os.chmod(temp_path, os.stat(path).st_mode & 0o7777)
    except FileNotFoundError:
        pass
    return temp_path, descriptor


def _commit(temp_path: str, path: str) -> None:
    os.replace(temp_path, path)

    # Sync the folder too, so the rename itself survives a crash.
    folder = os.path.dirname(os.path.abspath(path))
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
