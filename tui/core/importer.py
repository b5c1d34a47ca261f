"""Convert CSV and JSONL files from other tools into sample files.

A column mapping names the source of each sample field. Each item has the
form `TARGET=COLUMN` (read a column) or `TARGET:=VALUE` (a constant), where
TARGET is one of

    id, prompt, messages, reference, weight
    metadata.NAME[:TYPE]            TYPE is str, int, float, bool or json
    outputs[MODEL].FIELD            MODEL may read columns: openai/{strong_model}

The same items can be kept in a YAML or JSON mapping file. docs/import.md
describes the language in full.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from json import JSONDecodeError
from pathlib import Path
from typing import Any, NoReturn

from tui.core.problems import InputError, Problem
from tui.core.samples import (
    atomic_text_writer,
    decode_utf8,
    explain_json_failure,
    find_lone_surrogate,
    locate_json_value,
    messages_problem,
)

FORMATS = ("csv", "tsv", "jsonl")
TYPES = ("str", "int", "float", "bool", "json")

# Request-level targets and the conversion each one applies.
REQUEST_FIELDS = {
    "id": "id",
    "prompt": "text",
    "messages": "messages",
    "reference": "text",
    "weight": "weight",
}

# Output fields the sample format records, and the conversion each one applies.
OUTPUT_FIELDS = {
    "text": "text",
    "grade": "grade",
    "finish_reason": "text",
    "prompt_tokens": "count",
    "completion_tokens": "count",
    "latency_s": "amount",
    "cost": "amount",
    "created_at": "text",
    "grade_source": "text",
    "graded_by": "text",
    "graded_at": "text",
}

# Grades read from a file are marked with this source unless the mapping sets one.
IMPORTED_GRADE_SOURCE = "data"

EXPECTED_FORM = (
    "expected TARGET=COLUMN or TARGET:=VALUE, where TARGET is id, prompt, "
    "messages, reference, weight, metadata.NAME[:TYPE] or outputs[MODEL].FIELD "
    "(for example outputs[openai/{strong_model}].text=strong_output)"
)

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
# Spellings of "no value" that CSV exporters write into numeric columns.
_NULL_WORDS = frozenset({"", "null", "none", "nan", "na", "n/a"})

_METADATA_TARGET = re.compile(
    r"metadata\.(?P<name>[^.:=\[\]{}\s]+)(?::(?P<type>[a-z]+))?(?P<op>:?=)(?P<source>.*)",
    re.DOTALL,
)
_OUTPUT_REST = re.compile(
    r"\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<type>[a-z]+))?(?P<op>:?=)(?P<source>.*)",
    re.DOTALL,
)
_REQUEST_TARGET = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<type>[a-z]+))?(?P<op>:?=)(?P<source>.*)",
    re.DOTALL,
)


class MappingError(ValueError):
    """One invalid mapping item; the caller adds where the item came from."""


@dataclass(frozen=True)
class FieldMapping:
    """The source of one sample field: a column or a constant."""

    kind: str  # "request", "metadata" or "output"
    name: str  # request field, metadata key or output field
    conversion: str  # a key of _CONVERSIONS
    column: str | None  # column to read, or None for a constant
    constant: Any  # the converted constant when column is None
    model: tuple[tuple[bool, str], ...] | None  # output model: (is_column, text) parts
    model_text: str | None  # the model template as written

    @property
    def key(self) -> tuple:
        """Return the target's identity. A later item with the same key replaces it."""
        return (self.kind, self.model_text, self.name)

    def columns(self) -> list[str]:
        names = [text for is_column, text in self.model or () if is_column]
        if self.column is not None:
            names.append(self.column)
        return names


@dataclass(frozen=True)
class RowFilter:
    """Keep rows whose column equals (or, negated, differs from) a value."""

    column: str
    value: str
    negate: bool

    def keeps(self, value: Any) -> bool:
        return _values_match(value, self.value) != self.negate


@dataclass
class ColumnMapping:
    """A parsed mapping: field sources, row filters, and an optional input format."""

    fields: list[FieldMapping]
    filters: list[RowFilter] = field(default_factory=list)
    fmt: str | None = None

    def columns(self) -> list[str]:
        """Return every column the mapping reads, in first-use order."""
        names: dict[str, None] = {}
        for mapping in self.fields:
            names.update(dict.fromkeys(mapping.columns()))
        for row_filter in self.filters:
            names[row_filter.column] = None
        return list(names)


@dataclass
class ImportSummary:
    """Counts and problems of one import."""

    output: str
    rows_read: int = 0
    rows_filtered: int = 0
    requests_written: int = 0
    texts_per_model: dict[str, int] = field(default_factory=dict)
    grades_per_model: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


# --- mapping language --------------------------------------------------------


def parse_mapping(
    items: Sequence[str] | str | os.PathLike, *, where: Sequence[str] = ()
) -> ColumnMapping:
    """Parse mapping items and mapping files into a ColumnMapping.

    `items` is a mapping file path, or a list whose entries are mapping items
    (`TARGET=COLUMN`, `TARGET:=VALUE`) or, when an entry has no `=`, mapping
    file paths. A later item for the same target replaces the earlier one, so
    command-line items can override a file. `where` contains extra row filters
    (`COLUMN=VALUE` or `COLUMN!=VALUE`).

    Raises InputError listing every invalid item.
    """
    if isinstance(items, str | os.PathLike):
        items = [os.fspath(items)]

    collector = _MappingCollector()
    for item in items:
        if "=" in item:
            collector.add_item(item, "--map item")
        else:
            collector.add_file(item)
    for item in where:
        collector.add_filter(item, "--where filter")
    return collector.finish()


class _MappingCollector:
    def __init__(self):
        self.fields: dict[tuple, FieldMapping] = {}
        self.filters: list[RowFilter] = []
        self.fmt: str | None = None
        self.messages: list[str] = []
        self.problems: list[Problem] = []

    def fail(self, message: str, position=None) -> None:
        """Record a problem; `position` is (path, line, column) for mapping files."""
        if position is None:
            self.messages.append(message)
            return
        path, line, column = position
        problem = Problem(path, line, column, message)
        self.problems.append(problem)
        self.messages.append(problem.format())

    def add_item(self, item: str, origin: str, position=None) -> None:
        try:
            mapping = parse_item(item)
        except MappingError as error:
            self.fail(f"invalid {origin} {item!r}: {error}", position)
            return
        self.fields.pop(mapping.key, None)
        self.fields[mapping.key] = mapping

    def add_filter(self, item: str, origin: str, position=None) -> None:
        try:
            self.filters.append(parse_filter(item))
        except MappingError as error:
            self.fail(f"invalid {origin} {item!r}: {error}", position)

    def add_file(self, path: str) -> None:
        _read_mapping_file(path, self)

    def finish(self) -> ColumnMapping:
        if not self.messages:
            self._check_required()
        if self.messages:
            raise InputError("\n".join(self.messages), self.problems)
        return ColumnMapping(list(self.fields.values()), self.filters, self.fmt)

    def _check_required(self) -> None:
        names = {key[2] for key in self.fields if key[0] == "request"}
        if "prompt" not in names and "messages" not in names:
            self.messages.append(
                "the mapping sets neither prompt nor messages; add for example "
                "--map prompt=COLUMN"
            )
        if "prompt" in names and "messages" in names:
            self.messages.append(
                "the mapping sets both prompt and messages; keep one of them"
            )


def parse_item(item: str) -> FieldMapping:
    """Parse one `TARGET=COLUMN` or `TARGET:=VALUE` item; raise MappingError."""
    if item.startswith("outputs["):
        return _parse_output_item(item)
    if item.startswith("metadata."):
        match = _METADATA_TARGET.fullmatch(item)
        if match is None:
            raise MappingError(
                "a metadata target is metadata.NAME with a flat NAME (no dots), "
                f"optionally followed by :TYPE; {EXPECTED_FORM}"
            )
        conversion = _metadata_conversion(match["type"])
        return _field_mapping("metadata", match, conversion, None, None)

    match = _REQUEST_TARGET.fullmatch(item)
    if match is not None:
        name = match["name"]
    else:
        word = re.match(r"[A-Za-z_][A-Za-z0-9_]*", item)
        name = word[0] if word else None
    if name in OUTPUT_FIELDS:
        raise MappingError(
            f"{name!r} is an output field; write outputs[MODEL].{name}=COLUMN"
        )
    if name is not None and name not in REQUEST_FIELDS:
        raise MappingError(
            f"unknown target {name!r}{_suggest(name, _TARGET_WORDS)}; {EXPECTED_FORM}"
        )
    if match is None:
        raise MappingError(EXPECTED_FORM)
    _reject_type(match["type"], name)
    return _field_mapping("request", match, REQUEST_FIELDS[name], None, None)


_TARGET_WORDS = [*REQUEST_FIELDS, "metadata", "outputs"]


def _parse_output_item(item: str) -> FieldMapping:
    end = _closing_bracket(item, len("outputs["))
    model_text = item[len("outputs[") : end]
    if not model_text.strip():
        raise MappingError("the model string in outputs[MODEL] is empty")
    model = parse_template(model_text)

    match = _OUTPUT_REST.fullmatch(item, end + 1)
    if match is None:
        raise MappingError(
            f"outputs[MODEL] must be followed by .FIELD; {EXPECTED_FORM}"
        )
    name = match["name"]
    if name not in OUTPUT_FIELDS:
        raise MappingError(
            f"unknown output field {name!r}{_suggest(name, OUTPUT_FIELDS)}; "
            f"output fields are {', '.join(OUTPUT_FIELDS)}"
        )
    _reject_type(match["type"], name)
    conversion = OUTPUT_FIELDS[name]
    return _field_mapping("output", match, conversion, model, model_text)


def _closing_bracket(item: str, index: int) -> int:
    """Return the index of the `]` closing outputs[...], skipping `{column}` parts."""
    while index < len(item):
        char = item[index]
        if char == "]":
            return index
        if char == "{" and not item.startswith("{{", index):
            close = item.find("}", index)
            if close < 0:
                raise MappingError(f"unclosed '{{' in {item!r}")
            index = close + 1
            continue
        index += 2 if item.startswith("{{", index) else 1
    raise MappingError(f"outputs[ is not closed by ]; {EXPECTED_FORM}")


def parse_template(text: str) -> tuple[tuple[bool, str], ...]:
    """Split a model template into (is_column, text) parts.

    `{name}` reads the column `name`; `{{` and `}}` stand for literal braces.
    """
    parts: list[tuple[bool, str]] = []
    literal: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if text.startswith("{{", index) or text.startswith("}}", index):
            literal.append(char)
            index += 2
            continue
        if char == "}":
            raise MappingError(f"unmatched '}}' in {text!r}; write '}}}}' for a brace")
        if char != "{":
            literal.append(char)
            index += 1
            continue

        close = text.find("}", index)
        if close < 0:
            raise MappingError(f"unclosed '{{' in {text!r}")
        column = text[index + 1 : close]
        if not column:
            raise MappingError(f"empty '{{}}' in {text!r}; put a column name inside")
        if literal:
            parts.append((False, "".join(literal)))
            literal = []
        parts.append((True, column))
        index = close + 1

    if literal:
        parts.append((False, "".join(literal)))
    return tuple(parts)


def _metadata_conversion(type_name: str | None) -> str:
    if type_name is None:
        return "keep"
    if type_name not in TYPES:
        raise MappingError(
            f"unknown type {type_name!r}{_suggest(type_name, TYPES)}; "
            f"types are {', '.join(TYPES)}"
        )
    return type_name


def _reject_type(type_name: str | None, name: str) -> None:
    if type_name is not None:
        raise MappingError(
            f":{type_name} is only allowed on metadata fields; {name!r} has a fixed "
            "type, remove the suffix"
        )


def _field_mapping(kind, match, conversion, model, model_text) -> FieldMapping:
    source = match["source"]
    if match["op"] == "=":
        if not source:
            raise MappingError("the column name after '=' is empty")
        return FieldMapping(
            kind, match["name"], conversion, source, None, model, model_text
        )

    try:
        constant = convert(conversion, source, from_text=True)
    except ValueError as error:
        raise MappingError(f"invalid constant: {error}") from None
    if constant is None:
        raise MappingError("the constant after ':=' is empty")
    return FieldMapping(
        kind, match["name"], conversion, None, constant, model, model_text
    )


def parse_filter(item: str) -> RowFilter:
    """Parse `COLUMN=VALUE` (keep matching rows) or `COLUMN!=VALUE` (drop them)."""
    equals = item.find("=")
    if equals <= 0:
        raise MappingError("expected COLUMN=VALUE or COLUMN!=VALUE")
    negate = item[equals - 1] == "!"
    column = item[: equals - 1] if negate else item[:equals]
    if not column:
        raise MappingError("the column name before '!=' is empty")
    return RowFilter(column, item[equals + 1 :], negate)


def _read_mapping_file(path: str, collector: _MappingCollector) -> None:
    # Loaded here, because ruamel.yaml is slow to import and most imports pass
    # their mapping on the command line.
    from tui.core.yamlio import decode_text, parse_yaml

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        collector.messages.append(
            f"cannot read mapping file {path!r}: {reason}; a --map value without "
            "'=' is read as a mapping file"
        )
        return

    # The policy loader's checks apply: size, nesting depth, alias expansion
    # and duplicate keys.
    loaded = parse_yaml(decode_text(data, path)[0], path)
    errors = [problem for problem in loaded.problems if problem.is_error]
    for problem in errors:
        collector.fail(problem.message, (problem.path, problem.line, problem.column))
    if not errors:
        _MappingFile(path, collector).read(loaded.doc)


class _MappingFile:
    """Reads the `map`, `where` and `format` keys of one mapping file."""

    KEYS = ("map", "where", "format")

    def __init__(self, path: str, collector: _MappingCollector):
        self.path = path
        self.collector = collector

    def position(self, node, key=None) -> tuple[str, int, int]:
        line, column = 0, 0
        try:
            if key is None:
                line, column = node.lc.line, node.lc.col
            elif isinstance(key, int):
                line, column = node.lc.item(key)
            else:
                line, column = node.lc.key(key)
        except (AttributeError, KeyError, IndexError, TypeError):
            pass
        return (self.path, line + 1, column + 1)

    def fail(self, message: str, position) -> None:
        self.collector.fail(message, position)

    def read(self, document: Any) -> None:
        if isinstance(document, list):
            self.read_items(document)
            return
        if not isinstance(document, dict):
            self.fail(
                "a mapping file holds an object with 'map' (and optionally "
                "'where' and 'format'), or a list of mapping items",
                (self.path, 1, 1),
            )
            return

        if "map" not in document:
            self.fail("the mapping file has no 'map' key", (self.path, 1, 1))

        # Keys are read in file order, so problems come out in line order.
        for key in document:
            if key == "map":
                self.read_map(document)
            elif key == "where":
                self.read_where(document)
            elif key == "format":
                self.read_format(document)
            else:
                self.fail(
                    f"unknown key {key!r}{_suggest(str(key), self.KEYS)}; "
                    f"keys are {', '.join(self.KEYS)}",
                    self.position(document, key),
                )

    def read_map(self, document: dict) -> None:
        items = document["map"]
        if isinstance(items, list):
            self.read_items(items)
        elif isinstance(items, dict):
            self.read_pairs(items)
        else:
            self.fail(
                "'map' must be a list of TARGET=COLUMN items or an object of "
                "TARGET: COLUMN pairs",
                self.position(document, "map"),
            )

    def read_items(self, items: list) -> None:
        for index, item in enumerate(items):
            position = self.position(items, index)
            if not isinstance(item, str):
                self.fail(f"mapping item {index + 1} must be a string", position)
                continue
            self.collector.add_item(item, "mapping item", position)

    def read_pairs(self, pairs: dict) -> None:
        for target, source in pairs.items():
            position = self.position(pairs, target)
            target = str(target)
            if isinstance(source, str):
                self.collector.add_item(f"{target}={source}", "mapping item", position)
            elif isinstance(source, dict) and list(source) == ["const"]:
                item = f"{target}:={_constant_text(source['const'])}"
                self.collector.add_item(item, "mapping item", position)
            else:
                self.fail(
                    f"the source of {target!r} must be a column name or "
                    "{const: VALUE}",
                    position,
                )

    def read_where(self, document: dict) -> None:
        filters = document["where"]
        if not isinstance(filters, list):
            self.fail(
                "'where' must be a list of COLUMN=VALUE or COLUMN!=VALUE items",
                self.position(document, "where"),
            )
            return
        for index, item in enumerate(filters):
            position = self.position(filters, index)
            if not isinstance(item, str):
                self.fail(f"filter {index + 1} must be a string", position)
                continue
            self.collector.add_filter(item, "filter", position)

    def read_format(self, document: dict) -> None:
        fmt = document["format"]
        if fmt not in FORMATS:
            self.fail(
                f"format must be one of {', '.join(FORMATS)}, got {fmt!r}",
                self.position(document, "format"),
            )
            return
        self.collector.fmt = fmt


def _constant_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), 1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- value conversions -------------------------------------------------------


def convert(conversion: str, value: Any, *, from_text: bool) -> Any:
    """Convert a cell to a sample value; None means "no value".

    `from_text` marks values read as text (CSV cells and constants), where an
    empty string means no value. Raises ValueError with a plain reason.
    """
    if value is None:
        return None
    if from_text and value == "":
        return None
    return _CONVERSIONS[conversion](value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _to_id(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"an id must be a string or an integer, got {_shown(value)}")


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if _is_number(value):
        return json.dumps(value)
    raise ValueError(f"expected text, got {_shown(value)}")


def _to_messages(value: Any) -> list:
    if isinstance(value, str):
        try:
            value = _decode_cell(value)
        except JSONDecodeError as error:
            raise ValueError(f"messages text is not valid JSON: {error.msg}") from None
    problem = messages_problem(value)
    if problem is not None:
        raise ValueError(problem[0])
    return value


def _to_float(value: Any) -> float | None:
    if _is_number(value):
        number = float(value)
    elif isinstance(value, str):
        if value.strip().lower() in _NULL_WORDS:
            return None
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {_shown(value)}") from None
    else:
        raise ValueError(f"expected a number, got {_shown(value)}")

    if math.isnan(number):
        return None
    return number


def _to_weight(value: Any) -> float | None:
    number = _to_float(value)
    if number is not None and not 0 < number < math.inf:
        raise ValueError(f"a weight must be a positive number, got {_shown(value)}")
    return number


def _to_amount(value: Any) -> float | None:
    number = _to_float(value)
    if number is not None and not 0 <= number < math.inf:
        raise ValueError(f"expected a number >= 0, got {_shown(value)}")
    return number


def _to_grade(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return 1.0
        if word in _FALSE:
            return 0.0

    try:
        number = _to_float(value)
    except ValueError:
        raise ValueError(
            f"a grade must be true/false or a number in 0..1, got {_shown(value)}"
        ) from None
    if number is not None and not 0 <= number <= 1:
        raise ValueError(f"a grade must be in 0..1, got {_shown(value)}")
    return number


def _to_int(value: Any) -> int | None:
    number = _to_float(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(f"expected an integer, got {_shown(value)}")
    return int(number)


def _to_count(value: Any) -> int | None:
    number = _to_int(value)
    if number is not None and number < 0:
        raise ValueError(f"expected an integer >= 0, got {_shown(value)}")
    return number


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if _is_number(value) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        if word in _NULL_WORDS:
            return None
    raise ValueError(f"expected true/false, got {_shown(value)}")


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _to_json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return _decode_cell(value)
    except JSONDecodeError as error:
        raise ValueError(f"invalid JSON ({error.msg}) in {_shown(value)}") from None


def _decode_cell(text: str) -> Any:
    """Decode JSON text from a cell; raise ValueError for what a sample cannot hold.

    JSONDecodeError (a ValueError) is left to the caller, which names the field.
    """
    try:
        value = json.loads(text)
    except JSONDecodeError:
        raise
    except (RecursionError, ValueError) as error:
        column, reason, fix = explain_json_failure(text, error)
        raise ValueError(f"{reason} (at character {column}); {fix}") from None

    lone = find_lone_surrogate(text) if "\\u" in text else None
    if lone is not None:
        column, escape = lone
        reason = _lone_surrogate_reason(escape)
        raise ValueError(f"{reason} (at character {column}); {_SURROGATE_FIX}")
    return value


_SURROGATE_FIX = (
    "write the character itself (or both halves of its pair) or remove the escape"
)


def _lone_surrogate_reason(escape: str) -> str:
    return (
        f"invalid Unicode: lone surrogate {escape} is half of a UTF-16 pair, "
        "not a character"
    )


def _keep(value: Any) -> Any:
    return value


_CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "id": _to_id,
    "text": _to_text,
    "messages": _to_messages,
    "weight": _to_weight,
    "grade": _to_grade,
    "count": _to_count,
    "amount": _to_amount,
    "keep": _keep,
    "str": _to_str,
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "json": _to_json,
}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _values_match(value: Any, wanted: str) -> bool:
    """Compare a cell with a filter value: as booleans, numbers, null, or text."""
    if value is None or value == "":
        return wanted.strip().lower() in _NULL_WORDS

    word = wanted.strip().lower()
    if word in _TRUE or word in _FALSE:
        try:
            as_bool = _to_bool(value)
        except ValueError:
            as_bool = None
        if as_bool is not None:
            return as_bool == (word in _TRUE)

    if _is_number(value):
        try:
            return float(value) == float(wanted)
        except ValueError:
            return False
    return _to_str(value) == wanted


# --- reading rows ------------------------------------------------------------


@dataclass
class _Row:
    line: int
    values: dict
    text: str | None  # the JSONL line, for locating a column; None for CSV


class _RowIssue(Exception):
    def __init__(self, message: str, column: str | None = None):
        super().__init__(message)
        self.column = column


def detect_format(path: str, fmt: str | None = None) -> str:
    """Return the input format: `fmt` when given, else from the file extension."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt

    suffix = Path(path).suffix.lower()
    by_suffix = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    raise InputError(
        f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; "
        "pass --format csv, --format tsv or --format jsonl"
    )


def _read_text(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(f"{path}: cannot read input file: {reason}") from error
    return decode_utf8(data, path)


def _csv_reader(text: str, delimiter: str):
    # Model outputs can exceed the csv module's default 128 KiB field limit.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _csv_rows(reader, header: list[str], report) -> Iterator[_Row]:
    line = reader.line_num
    for record in reader:
        start, line = line + 1, reader.line_num
        if not record:
            continue
        if len(record) != len(header):
            report(
                start,
                1,
                f"row has {len(record)} fields but the header has {len(header)}; "
                "the row is skipped, check its quoting",
            )
            continue
        yield _Row(start, dict(zip(header, record, strict=True)), None)


def _csv_header(path: str, reader) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}: the file is empty; expected a header row") from None

    seen: set[str] = set()
    for index, name in enumerate(header, 1):
        if not name:
            _raise_header_problem(
                path, f"header field {index} is empty; name every column"
            )
        if name in seen:
            _raise_header_problem(
                path,
                f"column {name!r} appears twice in the header; rename one of them",
            )
        seen.add(name)
    return header


def _raise_header_problem(path: str, message: str) -> NoReturn:
    # NOTE: column 1, because quoting makes the column of a header field in the
    # raw line differ from its position in the parsed row.
    problem = Problem(path, 1, 1, message)
    raise InputError(problem.format(), [problem])


def _jsonl_rows(path: str, text: str, report) -> Iterator[_Row]:
    decoder = json.JSONDecoder(strict=False)
    for number, line in enumerate(text.split("\n"), 1):
        try:
            values = decoder.decode(line)
        except JSONDecodeError as error:
            if line and not line.isspace():
                report(number, error.colno, f"invalid JSON: {error.msg}")
            continue
        except (RecursionError, ValueError) as error:
            column, reason, fix = explain_json_failure(line, error)
            report(number, column, f"{reason}; the row is skipped, {fix}")
            continue

        lone = find_lone_surrogate(line) if "\\u" in line else None
        if lone is not None:
            column, escape = lone
            reason = _lone_surrogate_reason(escape)
            report(number, column, f"{reason}; the row is skipped, {_SURROGATE_FIX}")
            continue
        if not isinstance(values, dict):
            report(number, 1, "expected a JSON object on each line")
            continue
        yield _Row(number, values, line)


def _lookup(values: dict, column: str) -> tuple[bool, Any]:
    """Return (found, value); a dotted name walks nested objects and lists."""
    if column in values:
        return True, values[column]
    if "." not in column:
        return False, None

    current: Any = values
    for part in column.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


# --- converting rows ---------------------------------------------------------


def import_rows(
    path,
    mapping: ColumnMapping,
    *,
    fmt: str | None = None,
    problems: list[Problem] | None = None,
) -> Iterator[dict]:
    """Yield one sample request (a dict ready for json.dumps) per kept input row.

    Without `problems`, the first invalid row raises InputError. With a list,
    every invalid row is appended to it as a Problem and skipped. A column the
    mapping reads that the file does not have is always an InputError naming the
    available columns: for CSV before the first row, for JSONL after the last
    row, because JSONL rows may differ in their keys.
    """
    converter = _RowConverter(os.fspath(path), mapping, problems)
    yield from converter.run(fmt or mapping.fmt)


class _RowConverter:
    def __init__(self, path: str, mapping: ColumnMapping, problems):
        self.path = path
        self.mapping = mapping
        self.problems = problems
        self.seen_ids: dict[str, int] = {}
        self.model_cache: dict[tuple, str] = {}
        self.rows_read = 0
        self.rows_filtered = 0
        self.values_are_text = False
        self.reported = 0
        self.id_column: str | None = None
        for item in mapping.fields:
            if item.kind == "request" and item.name == "id":
                self.id_column = item.column

    def report(self, line: int, column: int, message: str) -> None:
        self.reported += 1
        problem = Problem(self.path, line, column, message)
        if self.problems is None:
            raise InputError(problem.format(), [problem])
        self.problems.append(problem)

    def run(self, fmt: str | None) -> Iterator[dict]:
        fmt = detect_format(self.path, fmt)
        text = _read_text(self.path)
        if fmt == "jsonl":
            yield from self._convert_all(_jsonl_rows(self.path, text, self.report))
            return

        self.values_are_text = True
        reader = _csv_reader(text, "\t" if fmt == "tsv" else ",")
        header = _csv_header(self.path, reader)
        self._check_columns(header, fmt)
        yield from self._convert_all(_csv_rows(reader, header, self.report))

    def _convert_all(self, rows: Iterator[_Row]) -> Iterator[dict]:
        unseen = set(self.mapping.columns())
        available: dict[str, None] = {}
        for row in rows:
            self.rows_read += 1
            if unseen:
                available.update(dict.fromkeys(row.values))
                unseen = {c for c in unseen if not _lookup(row.values, c)[0]}

            if not self._keeps(row):
                self.rows_filtered += 1
                continue
            request = self._convert(row)
            if request is not None:
                yield request

        if unseen and self.rows_read:
            self._check_columns(list(available), "jsonl", unseen)
        if not self.rows_read and not self.reported:
            raise InputError(f"{self.path}: the file has no data rows to import")

    def _keeps(self, row: _Row) -> bool:
        for row_filter in self.mapping.filters:
            if not row_filter.keeps(_lookup(row.values, row_filter.column)[1]):
                return False
        return True

    def _check_columns(self, available: list[str], fmt: str, unseen=None) -> None:
        if unseen is None:
            unseen = [c for c in self.mapping.columns() if c not in available]
        missing = [c for c in self.mapping.columns() if c in unseen]
        if not missing:
            return

        where = "in the header" if fmt != "jsonl" else "in any row"
        lines = [
            f"{self.path}: column {name!r} not found {where}{_suggest(name, available)}"
            for name in missing
        ]
        lines.append(f"available columns: {', '.join(available)}")
        raise InputError("\n".join(lines))

    def _convert(self, row: _Row) -> dict | None:
        try:
            request = self._request(row)
        except _RowIssue as issue:
            column = 1
            if row.text is not None and issue.column is not None:
                column = locate_json_value(row.text, (issue.column,))
            self.report(row.line, column, f"{issue}; the row is skipped")
            return None

        request_id = request["id"]
        first = self.seen_ids.get(request_id)
        if first is not None:
            column = 1
            if row.text is not None and self.id_column is not None:
                column = locate_json_value(row.text, (self.id_column,))
            self.report(
                row.line,
                column,
                f"duplicate id {request_id!r} (first on line {first}); ids must be "
                "unique, map id to a unique column",
            )
            return None
        self.seen_ids[request_id] = row.line
        return request

    def _value(self, mapping: FieldMapping, row: _Row) -> Any:
        if mapping.column is None:
            return mapping.constant
        value = _lookup(row.values, mapping.column)[1]
        try:
            return convert(mapping.conversion, value, from_text=self.values_are_text)
        except ValueError as error:
            raise _RowIssue(
                f"column {mapping.column!r} for {_target_text(mapping)}: {error}",
                mapping.column,
            ) from None

    def _request(self, row: _Row) -> dict:
        request: dict[str, Any] = {"id": f"line-{row.line}"}
        metadata: dict[str, Any] = {}
        outputs: dict[str, dict] = {}
        for mapping in self.mapping.fields:
            value = self._value(mapping, row)
            if mapping.kind == "request":
                self._set_request_field(request, mapping, value)
            elif value is None:
                continue
            elif mapping.kind == "metadata":
                metadata[mapping.name] = value
            else:
                model = self._model(mapping, row)
                outputs.setdefault(model, {})[mapping.name] = value

        return _assemble(request, metadata, outputs)

    def _set_request_field(self, request: dict, mapping: FieldMapping, value) -> None:
        required = mapping.name in ("id", "prompt", "messages")
        if value is not None and not (required and value == ""):
            request[mapping.name] = value
        elif required:
            raise _RowIssue(
                f"column {mapping.column!r} for {mapping.name} is empty; every "
                f"request needs {'an id' if mapping.name == 'id' else 'a prompt'}",
                mapping.column,
            )

    def _model(self, mapping: FieldMapping, row: _Row) -> str:
        parts = mapping.model or ()
        values = []
        for is_column, text in parts:
            if not is_column:
                continue
            value = _lookup(row.values, text)[1]
            if value is None or value == "":
                raise _RowIssue(
                    f"column {text!r} is empty, so the model string "
                    f"{mapping.model_text!r} cannot be built",
                    text,
                )
            values.append(value)

        key = (mapping.model_text, *values)
        model = self.model_cache.get(key)
        if model is None:
            filled = iter(values)
            model = "".join(_to_str(next(filled)) if c else t for c, t in parts)
            self.model_cache[key] = model
        return model


def _assemble(request: dict, metadata: dict, outputs: dict) -> dict:
    """Order the keys as the sample format lists them, dropping empty parts."""
    ordered = {"id": request["id"]}
    for name in ("prompt", "messages"):
        if name in request:
            ordered[name] = request[name]
    if metadata:
        ordered["metadata"] = metadata
    for name in ("reference", "weight"):
        if name in request:
            ordered[name] = request[name]

    for output in outputs.values():
        if "grade" in output and "grade_source" not in output:
            output["grade_source"] = IMPORTED_GRADE_SOURCE
    if outputs:
        ordered["outputs"] = outputs
    return ordered


def _target_text(mapping: FieldMapping) -> str:
    if mapping.kind == "metadata":
        return f"metadata.{mapping.name}"
    if mapping.kind == "output":
        return f"outputs[{mapping.model_text}].{mapping.name}"
    return mapping.name


# --- writing -----------------------------------------------------------------


def import_file(
    path, mapping: ColumnMapping, output, *, fmt: str | None = None
) -> ImportSummary:
    """Convert `path` and write the sample to `output` ("-" for standard output).

    Nothing is written when any row is invalid: the problems are returned in the
    summary instead. A file is written atomically, so a failed import leaves an
    existing `output` unchanged.
    """
    output_text = os.fspath(output)
    summary = ImportSummary(output_text)
    converter = _RowConverter(os.fspath(path), mapping, summary.problems)

    if output_text == "-":
        lines = list(_lines(converter.run(fmt or mapping.fmt), summary))
        if not summary.problems:
            sys.stdout.writelines(lines)
    else:
        _write_file(output_text, converter.run(fmt or mapping.fmt), summary)

    summary.rows_read = converter.rows_read
    summary.rows_filtered = converter.rows_filtered
    return summary


class _Abandon(Exception):
    """Raised inside the atomic writer so that it discards the temporary file."""


def _write_file(output: str, requests: Iterator[dict], summary: ImportSummary):
    try:
        with atomic_text_writer(output) as handle:
            handle.writelines(_lines(requests, summary))
            if summary.problems:
                raise _Abandon
    except _Abandon:
        pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(f"{output}: cannot write the sample file: {reason}") from error


def _lines(requests: Iterator[dict], summary: ImportSummary) -> Iterator[str]:
    texts = summary.texts_per_model
    grades = summary.grades_per_model
    for request in requests:
        for model, output in request.get("outputs", {}).items():
            texts.setdefault(model, 0)
            grades.setdefault(model, 0)
            if "text" in output:
                texts[model] += 1
            if "grade" in output:
                grades[model] += 1
        summary.requests_written += 1
        yield _dump(request) + "\n"


def _dump(request: dict) -> str:
    text = json.dumps(request, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (valid as a JSON escape) has no UTF-8 form; keep it escaped.
        text = json.dumps(request)
    return text
